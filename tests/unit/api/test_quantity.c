/*
 * test_quantity.c - resource quantities against Kubernetes' resource.Quantity:
 * the canonical forms of its test tables, rounding, invalid inputs and their
 * messages, comparison, arithmetic and Value()/MilliValue().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"

static api_quantity_t Q(const char *s)
{
    api_quantity_t q;
    char err[256] = "";
    if (api_quantity_parse(s, &q, err, sizeof err)) fail_msg("parse '%s': %s", s, err);
    return q;
}

static void check_canonical(const char *in, const char *want)
{
    api_quantity_t q = Q(in);
    char buf[API_QUANTITY_STRLEN];
    api_quantity_format(&q, buf, sizeof buf);
    if (strcmp(buf, want)) fail_msg("'%s': got %s, want %s", in, buf, want);
    /* the canonical form is stable and means the same amount */
    api_quantity_t again = Q(buf);
    char buf2[API_QUANTITY_STRLEN];
    api_quantity_format(&again, buf2, sizeof buf2);
    assert_string_equal(buf2, want);
    assert_int_equal(api_quantity_cmp(&q, &again), 0);
    /* and so does its negation */
    if (api_quantity_sign(&q)) {
        char neg[64], negwant[64];
        snprintf(neg, sizeof neg, "-%s", in[0] == '+' ? in + 1 : in);
        snprintf(negwant, sizeof negwant, "-%s", want);
        api_quantity_t n = Q(neg);
        api_quantity_format(&n, buf, sizeof buf);
        if (strcmp(buf, negwant)) fail_msg("'%s': got %s, want %s", neg, buf, negwant);
    }
}

static void test_canonical_forms(void **state)
{
    (void)state;
    check_canonical("1.5Gi", "1536Mi");
    check_canonical("0.5", "500m");
    check_canonical("1e3", "1e3");
    check_canonical("1000m", "1");
    check_canonical("1024Mi", "1Gi");
    check_canonical("100m", "100m");
    check_canonical("128Mi", "128Mi");
    check_canonical("1G", "1G");
    check_canonical("1000M", "1G");
    check_canonical("1Ki", "1Ki");
    check_canonical("8Ki", "8Ki");
    check_canonical("300Mi", "300Mi");
    check_canonical("307200Ki", "300Mi");
    check_canonical("1025024Mi", "1001Gi");
    check_canonical("1024Gi", "1Ti");
    check_canonical(".001Ki", "1024m");
    check_canonical(".000001Ki", "1024u");
    check_canonical(".000000001Ki", "1024n");
    check_canonical(".000000000001Ki", "2n");
    check_canonical("0.001T", "1G");
    check_canonical("1080m", "1080m");
    check_canonical("1.08", "1080m");
    check_canonical("1080000000n", "1080m");
    check_canonical("1000u", "1m");
    check_canonical("1", "1");
    check_canonical("+1", "1");
    check_canonical("5000m", "5");
    check_canonical("3k", "3k");
    check_canonical("50k", "50k");
    check_canonical("1025", "1025");
    check_canonical("1234567M", "1234567M");
    check_canonical("1E", "1E");
    check_canonical("12E", "12E");
    check_canonical("1.01E", "1010P");
    check_canonical("1000E", "1e21");
    check_canonical("2.5P", "2500T");
    check_canonical("100.035k", "100035");
    check_canonical("10.035M", "10035k");
    check_canonical("7.123456M", "7123456");
    check_canonical("1.2e3", "1200");
    check_canonical("1.3E+6", "1300e3");
    check_canonical("1E-3", "1e-3");
    check_canonical("0.001e0", "1e-3");
    check_canonical("1000e-12", "1e-9");
    check_canonical("80e-3", "80e-3");
    check_canonical("300e6", "300e6");
    check_canonical(".001e12", "1e9");
    check_canonical("1.G", "1G");
    check_canonical("1.", "1");
    check_canonical("5n", "5n");
    check_canonical("80n", "80n");
    check_canonical("1080u", "1080u");
    check_canonical("0.5Mi", "512Ki");
    check_canonical("100.035Ki", "102435840m");
}

static void test_zero_and_rounding(void **state)
{
    (void)state;
    check_canonical("0", "0");
    check_canonical("0n", "0");
    check_canonical("0Ki", "0");
    check_canonical("0.0", "0");
    check_canonical(".", "0");
    check_canonical("-0", "0");
    assert_int_equal(Q("0Ki").format, API_QF_BINARY_SI);
    /* below 1n rounds up to 1n: asking for some gets some */
    check_canonical("3.001n", "4n");
    check_canonical("1.1E-9", "2e-9");
    check_canonical("0.0000000001", "1n");
    check_canonical("0.0000000005", "1n");
    check_canonical("0.9n", "1n");
    check_canonical("0.00000012345", "124n");
    check_canonical("0.00000012354", "124n");
    /* BinarySI amounts are capped at 2^63-1 */
    check_canonical("9Ei", "9223372036854775807");
    check_canonical("9223372036854775807Ki", "9223372036854775807");
    check_canonical("7Ei", "7Ei");
    assert_int_equal(Q("0.000000000001Ki").format, API_QF_DECIMAL_SI);
}

static void check_invalid(const char *s, const char *want)
{
    api_quantity_t q;
    char err[256] = "";
    if (!api_quantity_parse(s, &q, err, sizeof err)) fail_msg("'%s' parsed", s);
    if (want && strcmp(err, want)) fail_msg("'%s': got %s, want %s", s, err, want);
}

static void test_invalid(void **state)
{
    (void)state;
    const char *format = "quantities must match the regular expression "
                         "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
    const char *suffix = "unable to parse quantity's suffix";
    check_invalid("", format);
    check_invalid("1.1.M", format);
    check_invalid("1+1.0M", format);
    check_invalid("0.1mi", suffix);
    check_invalid("0.1am", format);
    check_invalid("aoeu", format);
    check_invalid(".5i", suffix);
    check_invalid("1i", suffix);
    check_invalid("-3.01i", suffix);
    check_invalid("-3.01e-", suffix);
    check_invalid("1e4294967297", suffix);
    check_invalid(" 1", format);
    check_invalid("1 ", format);
    check_invalid("1K", suffix);
    check_invalid("1KiB", format);
    check_invalid("1Mb", format);
}

static void test_values(void **state)
{
    (void)state;
    api_quantity_t q = Q("100m");
    assert_int_equal(api_quantity_value(&q), 1);
    assert_int_equal(api_quantity_milli(&q), 100);
    q = Q("-100m");
    assert_int_equal(api_quantity_value(&q), -1);
    q = Q("1.5Gi");
    assert_int_equal(api_quantity_value(&q), 1610612736);
    q = Q("2");
    assert_int_equal(api_quantity_milli(&q), 2000);
    q = Q("1n");
    assert_int_equal(api_quantity_milli(&q), 1);
    assert_int_equal(api_quantity_scaled(&q, -9), 1);
    q = Q("1e3");
    assert_int_equal(api_quantity_value(&q), 1000);
    q = Q("9.01");
    assert_int_equal(api_quantity_scaled(&q, -1), 91);
    assert_int_equal(api_quantity_scaled(&q, 0), 10);
    assert_int_equal(api_quantity_scaled(&q, 2), 1);
    q = Q("1e30");
    assert_int_equal(api_quantity_value(&q), INT64_MAX);
    q = Q("256Mi");
    assert_int_equal(api_quantity_value(&q), 268435456);
}

static void test_compare(void **state)
{
    (void)state;
    struct {
        const char *a, *b;
        int want;
    } cases[] = {
        {"0", "0", 0},        {"100m", "50m", 1},   {"50m", "100m", -1}, {"10000T", "100Gi", 1},
        {"1Gi", "1024Mi", 0}, {"1k", "1000", 0},    {"-1", "0", -1},     {"-2", "-1", -1},
        {"1e3", "1k", 0},     {"999m", "1", -1},    {"1n", "0", 1},      {"1E", "999P", 1},
        {"1e30", "1E", 1},    {"-1e30", "-1E", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        api_quantity_t a = Q(cases[i].a), b = Q(cases[i].b);
        if (api_quantity_cmp(&a, &b) != cases[i].want)
            fail_msg("cmp(%s, %s) != %d", cases[i].a, cases[i].b, cases[i].want);
        assert_int_equal(api_quantity_cmp(&b, &a), -cases[i].want);
    }
}

static void check_sum(const char *a, const char *b, bool sub, const char *want)
{
    api_quantity_t acc = Q(a), y = Q(b);
    assert_int_equal(sub ? api_quantity_sub(&acc, &y) : api_quantity_add(&acc, &y), 0);
    char buf[API_QUANTITY_STRLEN];
    api_quantity_format(&acc, buf, sizeof buf);
    if (strcmp(buf, want)) fail_msg("%s %c %s: got %s, want %s", a, sub ? '-' : '+', b, buf, want);
}

static void test_arithmetic(void **state)
{
    (void)state;
    check_sum("100m", "1", false, "1100m");
    check_sum("1Gi", "512Mi", false, "1536Mi");
    check_sum("0", "1Gi", false, "1Gi");
    check_sum("1Gi", "0", false, "1Gi");
    check_sum("100m", "0", false, "100m");
    check_sum("1", "100m", true, "900m");
    check_sum("0", "100m", true, "-100m");
    check_sum("1Gi", "1Gi", true, "0");
    check_sum("500m", "500m", false, "1");
    check_sum("1k", "1", false, "1001");
    api_quantity_t big = Q("1e30"), small = Q("1n");
    assert_int_equal(api_quantity_add(&big, &small), -1);
    char buf[API_QUANTITY_STRLEN];
    assert_string_equal(api_quantity_format(&big, buf, sizeof buf), "1e30");
}

static void test_from_json(void **state)
{
    (void)state;
    cJSON *o = cJSON_Parse("{\"a\":1,\"b\":0.5,\"c\":\"2Gi\",\"d\":true,\"e\":1e21,\"f\":0.1}");
    api_quantity_t q;
    char err[256], buf[API_QUANTITY_STRLEN];
    assert_int_equal(api_quantity_from_json(cJSON_GetObjectItem(o, "a"), &q, err, sizeof err), 0);
    assert_string_equal(api_quantity_format(&q, buf, sizeof buf), "1");
    assert_int_equal(api_quantity_from_json(cJSON_GetObjectItem(o, "b"), &q, err, sizeof err), 0);
    assert_string_equal(api_quantity_format(&q, buf, sizeof buf), "500m");
    assert_int_equal(api_quantity_from_json(cJSON_GetObjectItem(o, "c"), &q, err, sizeof err), 0);
    assert_string_equal(api_quantity_format(&q, buf, sizeof buf), "2Gi");
    assert_int_equal(api_quantity_from_json(cJSON_GetObjectItem(o, "d"), &q, err, sizeof err), -1);
    assert_int_equal(api_quantity_from_json(cJSON_GetObjectItem(o, "e"), &q, err, sizeof err), 0);
    assert_string_equal(api_quantity_format(&q, buf, sizeof buf), "1e21");
    assert_int_equal(api_quantity_from_json(cJSON_GetObjectItem(o, "f"), &q, err, sizeof err), 0);
    assert_string_equal(api_quantity_format(&q, buf, sizeof buf), "100m");
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_forms), cmocka_unit_test(test_zero_and_rounding),
        cmocka_unit_test(test_invalid),         cmocka_unit_test(test_values),
        cmocka_unit_test(test_compare),         cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_from_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
