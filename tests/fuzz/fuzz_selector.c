/*
 * fuzz_selector.c - libFuzzer target for the label and field selector parsers.
 *
 * Besides memory safety it checks that the canonical string of any accepted
 * selector parses back to the same string: clients send our strings back to
 * us (in watch resumptions, in kubectl output), so they must round-trip.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

static const char *pod_json =
    "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"labels\":{\"app\":\"web\","
    "\"tier\":\"1\",\"example.com/x\":\"\"}},\"spec\":{\"nodeName\":\"n1\"},"
    "\"status\":{\"phase\":\"Running\"}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cJSON *pod;
    if (!pod) pod = cJSON_Parse(pod_json);
    char *s = strndup((const char *)data, size);
    if (!s) return 0;
    char err[4096];

    api_selector_t *sel = api_selector_parse(s, err, sizeof err);
    if (sel) {
        (void)api_selector_matches(
            sel, cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "metadata"), "labels"));
        char *str = api_selector_string(sel);
        api_selector_t *again = str ? api_selector_parse(str, err, sizeof err) : NULL;
        if (str && !again) {
            fprintf(stderr, "canonical label selector '%s' does not parse: %s\n", str, err);
            abort();
        }
        char *str2 = again ? api_selector_string(again) : NULL;
        if (str && str2 && strcmp(str, str2)) {
            fprintf(stderr, "label selector not canonical: '%s' -> '%s'\n", str, str2);
            abort();
        }
        free(str);
        free(str2);
        api_selector_free(again);
        api_selector_free(sel);
    }

    api_fieldsel_t *f = api_fieldsel_parse(s, err, sizeof err);
    if (f) {
        (void)api_fieldsel_matches_object(f, "pods", pod);
        (void)api_fieldsel_check(f, "events", err, sizeof err);
        (void)api_fieldsel_exact(f, "spec.nodeName");
        char *str = api_fieldsel_string(f);
        api_fieldsel_t *again = str ? api_fieldsel_parse(str, err, sizeof err) : NULL;
        if (str && !again) {
            fprintf(stderr, "canonical field selector '%s' does not parse: %s\n", str, err);
            abort();
        }
        char *str2 = again ? api_fieldsel_string(again) : NULL;
        if (str && str2 && strcmp(str, str2)) {
            fprintf(stderr, "field selector not canonical: '%s' -> '%s'\n", str, str2);
            abort();
        }
        free(str);
        free(str2);
        api_fieldsel_free(again);
        api_fieldsel_free(f);
    }

    /* the same text as label syntax to check */
    (void)api_label_key_valid(s, err, sizeof err);
    (void)api_label_value_valid(s, err, sizeof err);
    free(s);
    return 0;
}
