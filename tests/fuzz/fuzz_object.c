/*
 * fuzz_object.c - libFuzzer target for decoding objects: cJSON_Parse of a
 * fuzzed body, then every api/ operation that walks an object the way the
 * API server, controllers and scheduler do (selectors from spec.selector and
 * labels, selectable field values, resource quantities of containers, a
 * strategic merge of the object with itself).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

static const char *const fields[] = {
    "metadata.name", "metadata.namespace", "spec.nodeName", "status.phase",    "status.podIP",
    "status.podIPs", "spec.hostNetwork",   "source",        "status.replicas", "spec.unschedulable",
    "type",          "involvedObject.kind"};
static const char *const resources[] = {"pods", "nodes", "events", "replicasets", "secrets"};

static void walk_resources(const cJSON *containers)
{
    api_quantity_t total = api_quantity_make(0, 0, API_QF_DECIMAL_SI);
    char err[256], buf[API_QUANTITY_STRLEN];
    for (const cJSON *c = cJSON_IsArray(containers) ? containers->child : NULL; c; c = c->next) {
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(c, "resources");
        const char *kinds[] = {"requests", "limits"};
        for (int k = 0; k < 2; k++) {
            const cJSON *list = cJSON_GetObjectItemCaseSensitive(res, kinds[k]);
            for (const cJSON *q = cJSON_IsObject(list) ? list->child : NULL; q; q = q->next) {
                api_quantity_t v;
                if (api_quantity_from_json(q, &v, err, sizeof err)) continue;
                (void)api_quantity_add(&total, &v);
                (void)api_quantity_milli(&v);
            }
        }
    }
    api_quantity_format(&total, buf, sizeof buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *obj = cJSON_ParseWithLength((const char *)data, size);
    if (!obj) return 0;
    char err[1024], buf[256];
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(meta, "labels");
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    const cJSON *selector = cJSON_GetObjectItemCaseSensitive(spec, "selector");
    const cJSON *tmpl = cJSON_GetObjectItemCaseSensitive(spec, "template");
    const cJSON *tlabels = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(tmpl, "metadata"), "labels");

    api_selector_t *s = api_selector_from_json(selector, err, sizeof err);
    if (s) {
        (void)api_selector_matches(s, labels);
        (void)api_selector_matches(s, tlabels);
        free(api_selector_string(s));
        api_selector_free(s);
    }
    s = api_selector_from_map(selector);
    if (s) {
        (void)api_selector_matches(s, labels);
        api_selector_free(s);
    }
    s = api_selector_from_map(labels);
    if (s) {
        char *str = api_selector_string(s);
        free(str);
        api_selector_free(s);
    }
    for (size_t r = 0; r < sizeof resources / sizeof resources[0]; r++)
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
            (void)api_fieldsel_value(resources[r], obj, fields[f], buf, sizeof buf);
    const cJSON *pspec = tmpl ? cJSON_GetObjectItemCaseSensitive(tmpl, "spec") : spec;
    walk_resources(cJSON_GetObjectItemCaseSensitive(pspec, "containers"));
    walk_resources(cJSON_GetObjectItemCaseSensitive(pspec, "initContainers"));

    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
    cJSON *merged =
        api_smp_apply(obj, obj, cJSON_IsString(kind) ? kind->valuestring : "Pod", err, sizeof err);
    cJSON_Delete(merged);
    merged = api_merge_patch_apply(obj, obj, err, sizeof err);
    cJSON_Delete(merged);
    cJSON_Delete(obj);
    return 0;
}
