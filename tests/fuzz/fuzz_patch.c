/*
 * fuzz_patch.c - libFuzzer target for JSON patch, JSON merge patch and
 * strategic merge patch on fuzzed documents.
 *
 * Input: one control byte, then a document and a patch separated by the
 * first NUL byte. The patch functions must never change their inputs, must
 * either return a tree or an error message, must return trees that cJSON can
 * print and parse back (the API server stores them), and merge patch must be
 * idempotent (RFC 7386).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

static const char *const kinds[] = {"Pod",     "Deployment", "Service",   "Node",      "ConfigMap",
                                    "CronJob", "DaemonSet",  "Endpoints", "Namespace", "Widget"};

static void check_result(cJSON *out, const char *err, const char *what)
{
    if (!out) {
        if (!err[0]) {
            fprintf(stderr, "%s failed without a message\n", what);
            abort();
        }
        return;
    }
    char *text = cJSON_PrintUnformatted(out);
    if (!text) return; /* out of memory in the printer */
    cJSON *back = cJSON_Parse(text);
    if (!back) {
        fprintf(stderr, "%s produced a document cJSON cannot parse back\n", what);
        abort();
    }
    cJSON_Delete(back);
    cJSON_free(text);
}

/* cJSON_Compare is only meaningful without duplicate member names. */
static bool has_duplicate_keys(const cJSON *v)
{
    for (const cJSON *c = v ? v->child : NULL; c; c = c->next) {
        if (cJSON_IsObject(v))
            for (const cJSON *d = c->next; d; d = d->next)
                if (!strcmp(c->string, d->string)) return true;
        if (has_duplicate_keys(c)) return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    uint8_t ctl = data[0];
    const char *rest = (const char *)data + 1;
    size_t len = size - 1;
    const char *nul = memchr(rest, 0, len);
    if (!nul) return 0;
    cJSON *doc = cJSON_ParseWithLength(rest, (size_t)(nul - rest));
    cJSON *patch = cJSON_ParseWithLength(nul + 1, len - (size_t)(nul + 1 - rest));
    if (!doc || !patch) {
        cJSON_Delete(doc);
        cJSON_Delete(patch);
        return 0;
    }
    /* compared as text: cJSON_Compare is not reflexive on duplicate keys */
    char *doc_text = cJSON_PrintUnformatted(doc), *patch_text = cJSON_PrintUnformatted(patch);
    char err[1024];
    cJSON *out;

    switch (ctl % 3) {
    case 0:
        err[0] = '\0';
        out = api_json_patch_apply(doc, patch, err, sizeof err);
        check_result(out, err, "json patch");
        cJSON_Delete(out);
        break;
    case 1: {
        err[0] = '\0';
        out = api_merge_patch_apply(doc, patch, err, sizeof err);
        check_result(out, err, "merge patch");
        if (out) {
            cJSON *twice = api_merge_patch_apply(out, patch, err, sizeof err);
            if (twice && !has_duplicate_keys(out) && !cJSON_Compare(out, twice, 1)) {
                fprintf(stderr, "merge patch is not idempotent\n");
                abort();
            }
            cJSON_Delete(twice);
        }
        cJSON_Delete(out);
        break;
    }
    default: {
        const char *kind = kinds[(ctl / 3) % (sizeof kinds / sizeof kinds[0])];
        err[0] = '\0';
        out = api_smp_apply(doc, patch, kind, err, sizeof err);
        check_result(out, err, "strategic merge patch");
        cJSON_Delete(out);
        break;
    }
    }
    char *doc_after = cJSON_PrintUnformatted(doc), *patch_after = cJSON_PrintUnformatted(patch);
    if (doc_text && doc_after && patch_text && patch_after &&
        (strcmp(doc_text, doc_after) || strcmp(patch_text, patch_after))) {
        fprintf(stderr, "a patch function changed its input\n");
        abort();
    }
    cJSON_free(doc_text);
    cJSON_free(doc_after);
    cJSON_free(patch_text);
    cJSON_free(patch_after);
    cJSON_Delete(doc);
    cJSON_Delete(patch);
    return 0;
}
