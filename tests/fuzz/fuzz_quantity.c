/*
 * fuzz_quantity.c - libFuzzer target for resource quantities.
 *
 * The input is one or two quantities separated by a space. Any accepted
 * quantity must print in a form that parses back to the same amount, and whose
 * own printed form is stable; comparison must be antisymmetric, and the
 * arithmetic must be exact when it succeeds (a + b - b == a).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

static void check_roundtrip(const api_quantity_t *q, const char *in)
{
    char buf[API_QUANTITY_STRLEN], buf2[API_QUANTITY_STRLEN], err[256];
    api_quantity_format(q, buf, sizeof buf);
    api_quantity_t again;
    if (api_quantity_parse(buf, &again, err, sizeof err)) {
        fprintf(stderr, "'%s' prints as '%s' which does not parse: %s\n", in, buf, err);
        abort();
    }
    if (api_quantity_cmp(q, &again) != 0) {
        fprintf(stderr, "'%s' prints as '%s' which is another amount\n", in, buf);
        abort();
    }
    /* A BinarySI amount without a binary suffix ("7049000") reads back as
     * DecimalSI ("7049k"), as in Kubernetes; from then on the text is stable. */
    api_quantity_format(&again, buf2, sizeof buf2);
    api_quantity_t third;
    char buf3[API_QUANTITY_STRLEN];
    if (api_quantity_parse(buf2, &third, err, sizeof err) || api_quantity_cmp(&third, q) != 0 ||
        strcmp(api_quantity_format(&third, buf3, sizeof buf3), buf2)) {
        fprintf(stderr, "'%s': '%s' -> '%s' is not canonical\n", in, buf, buf2);
        abort();
    }
    (void)api_quantity_value(q);
    (void)api_quantity_milli(q);
    (void)api_quantity_scaled(q, -9);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = strndup((const char *)data, size);
    if (!s) return 0;
    char *second = strchr(s, ' ');
    if (second) *second++ = '\0';
    char err[256];
    api_quantity_t a, b;
    int ra = api_quantity_parse(s, &a, err, sizeof err);
    int rb = second ? api_quantity_parse(second, &b, err, sizeof err) : -1;
    if (ra == 0) check_roundtrip(&a, s);
    if (rb == 0) check_roundtrip(&b, second);
    if (ra == 0 && rb == 0) {
        int c = api_quantity_cmp(&a, &b);
        if (c != -api_quantity_cmp(&b, &a)) abort();
        api_quantity_t sum = a;
        if (api_quantity_add(&sum, &b) == 0) {
            check_roundtrip(&sum, "a+b");
            api_quantity_t back = sum;
            if (api_quantity_sub(&back, &b) == 0 && api_quantity_cmp(&back, &a) != 0) {
                fprintf(stderr, "(%s + %s) - %s != %s\n", s, second, second, s);
                abort();
            }
            if (api_quantity_sign(&b) > 0 && api_quantity_cmp(&sum, &a) <= 0) abort();
        }
    }
    cJSON *num = cJSON_ParseWithLength((const char *)data, size);
    if (num) {
        api_quantity_t q;
        if (api_quantity_from_json(num, &q, err, sizeof err) == 0) check_roundtrip(&q, "json");
        cJSON_Delete(num);
    }
    free(s);
    return 0;
}
