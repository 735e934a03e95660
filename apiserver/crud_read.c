/*
 * crud_read.c - GET of one object (and of <resource>/status, which is the
 * same object), as JSON or as a meta.k8s.io/v1 Table. A plain JSON read is
 * served from the stored bytes with the resourceVersion spliced in, with no
 * parse: single GETs are the hottest read path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rest_int.h"

/* A Table of the given objects (an array the function takes) with the
 * list's resourceVersion. */
cJSON *rest_table_of(rq_t *q, cJSON *items, uint64_t rev, const char *cont)
{
    cJSON *t = api_table(q->rt.res->resource, items, q->include, time_wall_ms());
    cJSON_Delete(items);
    if (!t) return NULL;
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(t, "metadata");
    if (!meta) meta = cJSON_AddObjectToObject(t, "metadata");
    if (meta && rev) {
        char buf[32];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)rev);
        cJSON_AddStringToObject(meta, "resourceVersion", buf);
    }
    if (meta && cont && *cont) cJSON_AddStringToObject(meta, "continue", cont);
    return t;
}

static void got(const store_result_t *res, void *data)
{
    rq_t *q = data;
    if (res->err != STORE_OK) {
        rq_reply_store_err(q, res->err, q->rt.name);
        return;
    }
    if (q->fmt == RQ_FMT_TABLE) {
        cJSON *items = cJSON_CreateArray();
        cJSON *o = obj_parse_kv(res->kv);
        if (!items || !o || !cJSON_AddItemToArray(items, o)) {
            cJSON_Delete(items);
            cJSON_Delete(o);
            rq_reply_status(q, api_status_internal("cannot decode the stored object"));
            return;
        }
        rq_reply_json(q, 200, rest_table_of(q, items, 0, NULL));
        return;
    }
    size_t len;
    char *s = obj_serve(res->kv->value, res->kv->value_len, res->kv->mod_rev, &len);
    if (!s) {
        rq_reply_status(q, api_status_internal("cannot decode the stored object"));
        return;
    }
    rq_reply_raw(q, 200, "application/json", s, len);
    free(s);
}

void rest_get(rq_t *q)
{
    char key[512];
    if (rq_key(q, q->rt.name, key, sizeof key) < 0) {
        rq_reply_status(q, api_status_not_found(q->rt.res->group, q->rt.res->resource, q->rt.name));
        return;
    }
    int rv = store_get(q->a->store, key, got, q);
    if (rv != 0) rq_reply_store_err(q, rv, q->rt.name);
}
