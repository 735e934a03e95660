/*
 * rmw.c - read-modify-write of one stored object: read it, let the caller
 * compute the next version, write it with a compare-and-swap on the mod
 * revision that was read, and start over (a bounded number of times) when
 * another writer got there first. Updates, patches, subresources, finalizer
 * bookkeeping and graceful deletion all go through here, so that none of
 * them can lose a concurrent write.
 *
 * A new version identical to the stored one is not written (no new
 * resourceVersion, no watch event), as Kubernetes does.
 */
#include <stdlib.h>
#include <string.h>

#include "apiserver/rest_int.h"

static void rmw_read(rmw_t *m);

static void finish(rmw_t *m, cJSON *obj, bool deleted, cJSON *status)
{
    m->done(m, obj, deleted, status);
}

static bool retry(rmw_t *m, int err)
{
    if (m->no_retry || m->tries >= RMW_MAX_TRIES) return false;
    if (err != STORE_ECONFLICT && err != STORE_EEXIST && err != STORE_ENOENT) return false;
    m->tries++;
    rmw_read(m);
    return true;
}

static void svc_reconcile(rmw_t *m, bool ok, const cJSON *stored);

static void written(const store_result_t *res, void *data)
{
    rmw_t *m = data;
    if (res->err != STORE_OK) {
        svc_reconcile(m, false, NULL);
        if (retry(m, res->err)) return;
        finish(m, NULL, false, rest_store_err_status(m->res, res->err, m->name));
        return;
    }
    cJSON *obj = obj_parse_kv(res->kv);
    svc_reconcile(m, true, obj);
    if (!obj) {
        finish(m, NULL, false, api_status_internal("cannot decode the stored object"));
        return;
    }
    finish(m, obj, false, NULL);
}

static void deleted(const store_result_t *res, void *data)
{
    rmw_t *m = data;
    if (res->err != STORE_OK) {
        if (retry(m, res->err)) return;
        finish(m, NULL, false, rest_store_err_status(m->res, res->err, m->name));
        return;
    }
    cJSON *obj = res->kv ? obj_parse_kv(res->kv) : NULL;
    /* Whatever path removed a Service, its addresses go back to the pools. */
    if (obj && !strcmp(m->res->kind, "Service")) svc_release(m->a, obj, NULL);
    finish(m, obj, true, NULL);
}

static void svc_reconcile(rmw_t *m, bool ok, const cJSON *stored)
{
    if (!m->svc_new) return;
    if (ok)
        svc_release(m->a, m->svc_old, stored);
    else
        svc_release(m->a, m->svc_new, m->svc_old);
    cJSON_Delete(m->svc_new);
    cJSON_Delete(m->svc_old);
    m->svc_new = m->svc_old = NULL;
}

/* Writes out (taken) as an update of pend_rev, or as a create. */
static void write_obj(rmw_t *m, cJSON *out, bool update)
{
    size_t len;
    char *bytes = obj_store_bytes(out, &len);
    if (out != m->svc_new) cJSON_Delete(out);
    if (!bytes) {
        svc_reconcile(m, false, NULL);
        finish(m, NULL, false, api_status_internal("out of memory"));
        return;
    }
    int rv = update
                 ? store_update(m->a->store, m->key, bytes, len, m->pend_rev, m->ttl_s, written, m)
                 : store_create(m->a->store, m->key, bytes, len, m->ttl_s, written, m);
    free(bytes);
    if (rv != 0) {
        svc_reconcile(m, false, NULL);
        finish(m, NULL, false, rest_store_err_status(m->res, rv, m->name));
    }
}

static void svc_allocated(void *data, cJSON *status)
{
    rmw_t *m = data;
    if (status) {
        cJSON_Delete(m->svc_new);
        cJSON_Delete(m->svc_old);
        m->svc_new = m->svc_old = NULL;
        finish(m, NULL, false, status);
        return;
    }
    write_obj(m, m->svc_new, true);
}

static void got(const store_result_t *res, void *data)
{
    rmw_t *m = data;
    cJSON *cur = NULL, *out = NULL;
    uint64_t cur_rev = 0;
    if (res->err == STORE_OK) {
        cur = obj_parse_kv(res->kv);
        cur_rev = res->kv->mod_rev;
        if (!cur) {
            finish(m, NULL, false, api_status_internal("cannot decode the stored object"));
            return;
        }
    } else if (res->err != STORE_ENOENT) {
        finish(m, NULL, false, rest_store_err_status(m->res, res->err, m->name));
        return;
    } else if (!m->create_missing) {
        finish(m, NULL, false, rest_store_err_status(m->res, STORE_ENOENT, m->name));
        return;
    }
    enum rmw_action act = m->mutate(m, cur, &out);
    int rv = 0;
    switch (act) {
    case RMW_FAIL:
        cJSON_Delete(cur);
        finish(m, NULL, false, out ? out : api_status_internal("update failed"));
        return;
    case RMW_NOOP:
        if (out) {
            cJSON_Delete(cur);
            cur = out;
        }
        finish(m, cur, false, NULL);
        return;
    case RMW_DELETE:
        cJSON_Delete(out);
        if (!cur) {
            finish(m, NULL, false, rest_store_err_status(m->res, STORE_ENOENT, m->name));
            return;
        }
        if (m->dry_run) {
            finish(m, cur, true, NULL);
            return;
        }
        cJSON_Delete(cur);
        rv = store_delete(m->a->store, m->key, cur_rev, deleted, m);
        break;
    case RMW_WRITE: {
        size_t len;
        char *bytes = out ? obj_store_bytes(out, &len) : NULL;
        if (!bytes) {
            cJSON_Delete(cur);
            cJSON_Delete(out);
            finish(m, NULL, false, api_status_internal("out of memory"));
            return;
        }
        bool same = cur && len == res->kv->value_len && !memcmp(bytes, res->kv->value, len);
        free(bytes);
        if (same) {
            cJSON_Delete(out);
            finish(m, cur, false, NULL);
            return;
        }
        if (m->dry_run) {
            if (cur) obj_set_rv(out, cur_rev);
            cJSON_Delete(cur);
            finish(m, out, false, NULL);
            return;
        }
        m->pend_rev = cur_rev;
        if (cur && !strcmp(m->res->kind, "Service")) {
            /* A type change may need a nodePort or clusterIP first. */
            m->svc_new = out;
            m->svc_old = cur;
            svc_allocate(m->a, out, cur, svc_allocated, m);
            return;
        }
        write_obj(m, out, cur != NULL);
        cJSON_Delete(cur);
        return;
    }
    }
    if (rv != 0) finish(m, NULL, false, rest_store_err_status(m->res, rv, m->name));
}

static void rmw_read(rmw_t *m)
{
    int rv = store_get(m->a->store, m->key, got, m);
    if (rv != 0) finish(m, NULL, false, rest_store_err_status(m->res, rv, m->name));
}

void rmw_start(rmw_t *m)
{
    m->tries = 0;
    rmw_read(m);
}

bool rest_ready_to_delete(const cJSON *obj)
{
    if (!api_meta_deletion_timestamp(obj)) return false;
    const cJSON *f = api_meta_finalizers(obj);
    if (f && cJSON_GetArraySize(f) > 0) return false;
    /* A namespace also waits for spec.finalizers (emptied via /finalize). */
    f = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "spec"),
                                         "finalizers");
    if (f && cJSON_GetArraySize(f) > 0) return false;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(m, "deletionGracePeriodSeconds");
    return !cJSON_IsNumber(g) || g->valuedouble <= 0;
}
