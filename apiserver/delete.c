/*
 * delete.c - DELETE of an object and of a collection, with DeleteOptions.
 *
 * What a delete does depends on the object, as on Kubernetes:
 *   - preconditions (uid, resourceVersion) that do not hold: 409;
 *   - a pod bound to a node with a grace period: deletionTimestamp and
 *     deletionGracePeriodSeconds are set and the pod stays until its node
 *     confirms with grace 0 (unbound or finished pods go at once);
 *   - propagationPolicy Foreground / Orphan add the foregroundDeletion /
 *     orphan finalizer (the garbage collector finishes the job);
 *   - an object with finalizers gets deletionTimestamp and stays until an
 *     update empties its finalizers (crud_write.c / patch.c then delete it);
 *   - a namespace goes Terminating; namespaces.c empties and removes it;
 *   - anything else is removed at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rest_int.h"

static cJSON *invalid_opts(const char *field, const char *body)
{
    char msg[512];
    snprintf(msg, sizeof msg, "DeleteOptions.meta.k8s.io \"\" is invalid: %s: %s", field, body);
    return api_status_error(422, "Invalid", msg, NULL);
}

cJSON *rest_del_opts(rq_t *q, const cJSON *body, struct del_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->grace = -1;
    o->dry_run = q ? q->dry_run : false;
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(body, "gracePeriodSeconds");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "propagationPolicy");
    const cJSON *orphan = cJSON_GetObjectItemCaseSensitive(body, "orphanDependents");
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(body, "preconditions");
    const cJSON *dr = cJSON_GetObjectItemCaseSensitive(body, "dryRun");
    if (cJSON_IsNumber(g)) o->grace = (int64_t)g->valuedouble;
    if (cJSON_IsString(p)) snprintf(o->prop, sizeof o->prop, "%s", p->valuestring);
    if (cJSON_IsTrue(orphan) && !o->prop[0]) snprintf(o->prop, sizeof o->prop, "Orphan");
    if (cJSON_IsArray(dr) && cJSON_GetArraySize(dr) > 0) o->dry_run = true;
    const cJSON *pu = cJSON_GetObjectItemCaseSensitive(pre, "uid");
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(pre, "resourceVersion");
    if (cJSON_IsString(pu)) snprintf(o->pre_uid, sizeof o->pre_uid, "%s", pu->valuestring);
    if (cJSON_IsString(pr) && *pr->valuestring && !obj_parse_rv(pr->valuestring, &o->pre_rv))
        return invalid_opts("preconditions.resourceVersion", "Invalid value: must be a number");
    if (q) {
        const char *qg = http_req_query(q->req, "gracePeriodSeconds");
        const char *qp = http_req_query(q->req, "propagationPolicy");
        const char *qo = http_req_query(q->req, "orphanDependents");
        if (qg && *qg && o->grace < 0) o->grace = atoll(qg);
        if (qp && *qp && !o->prop[0]) snprintf(o->prop, sizeof o->prop, "%s", qp);
        if (qo && !strcmp(qo, "true") && !o->prop[0]) snprintf(o->prop, sizeof o->prop, "Orphan");
    }
    if (o->prop[0] && strcmp(o->prop, "Orphan") && strcmp(o->prop, "Background") &&
        strcmp(o->prop, "Foreground"))
        return invalid_opts("propagationPolicy",
                            "Unsupported value: supported values: \"Foreground\", \"Background\", "
                            "\"Orphan\"");
    if (o->grace < -1) return invalid_opts("gracePeriodSeconds", "Invalid value: must be >= 0");
    return NULL;
}

/* ------------------------------------------------------------ one object */

struct del_ctx {
    rmw_t m;
    struct del_opts o;
    rest_del_done done;
    void *data;
};

static cJSON *precondition_failed(rmw_t *m, const char *what, const char *want, const char *have)
{
    char why[512];
    snprintf(why, sizeof why, "Precondition failed: %s in precondition: %s, %s in object meta: %s",
             what, want, what, have ? have : "");
    m->no_retry = true;
    return api_status_conflict(m->res->group, m->res->resource, m->name, why);
}

static int set_deletion(cJSON *o, int64_t grace, uint64_t at_ms)
{
    char ts[40];
    time_format_rfc3339(at_ms, ts, sizeof ts);
    cJSON *meta = api_meta_ensure(o);
    if (!meta || api_meta_set_str(o, "deletionTimestamp", ts) != 0) return -1;
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "deletionGracePeriodSeconds");
    return cJSON_AddNumberToObject(meta, "deletionGracePeriodSeconds", (double)grace) ? 0 : -1;
}

static int64_t pod_grace(const cJSON *pod, const struct del_opts *o)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(spec, "nodeName");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(pod, "status");
    const cJSON *phase = cJSON_GetObjectItemCaseSensitive(st, "phase");
    if (!cJSON_IsString(node) || !*node->valuestring) return 0;
    if (cJSON_IsString(phase) &&
        (!strcmp(phase->valuestring, "Succeeded") || !strcmp(phase->valuestring, "Failed")))
        return 0;
    if (o->grace >= 0) return o->grace;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(spec, "terminationGracePeriodSeconds");
    return cJSON_IsNumber(t) ? (int64_t)t->valuedouble : 30;
}

static enum rmw_action del_mutate(rmw_t *m, cJSON *cur, cJSON **out)
{
    struct del_ctx *d = (struct del_ctx *)m;
    const struct del_opts *o = &d->o;
    char buf[32];
    if (o->pre_uid[0] && strcmp(o->pre_uid, api_meta_uid(cur) ? api_meta_uid(cur) : "")) {
        *out = precondition_failed(m, "UID", o->pre_uid, api_meta_uid(cur));
        return RMW_FAIL;
    }
    uint64_t rev = 0;
    obj_parse_rv(api_meta_resource_version(cur), &rev);
    if (o->pre_rv && o->pre_rv != rev) {
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)o->pre_rv);
        *out = precondition_failed(m, "ResourceVersion", buf, api_meta_resource_version(cur));
        return RMW_FAIL;
    }
    bool is_pod = !strcmp(m->res->resource, "pods");
    bool is_ns = !strcmp(m->res->resource, "namespaces");
    cJSON *n = cJSON_Duplicate(cur, true);
    if (!n) return RMW_FAIL;
    if (!strcmp(o->prop, "Foreground")) api_meta_add_finalizer(n, "foregroundDeletion");
    if (!strcmp(o->prop, "Orphan")) api_meta_add_finalizer(n, "orphan");
    const cJSON *fins = api_meta_finalizers(n);
    bool has_fins = fins && cJSON_GetArraySize(fins) > 0;
    uint64_t now = time_wall_ms();
    if (api_meta_deletion_timestamp(cur)) {
        /* Already going: only a shorter grace period (or grace 0) changes it. */
        const cJSON *gm = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cur, "metadata"), "deletionGracePeriodSeconds");
        int64_t cur_grace = cJSON_IsNumber(gm) ? (int64_t)gm->valuedouble : 0;
        if (is_pod && o->grace >= 0 && o->grace < cur_grace) {
            set_deletion(n, o->grace, now + (uint64_t)o->grace * 1000);
            *out = n;
            return rest_ready_to_delete(n) ? RMW_DELETE : RMW_WRITE;
        }
        *out = n;
        return cJSON_Compare(n, cur, true) ? RMW_NOOP : RMW_WRITE;
    }
    if (is_ns) {
        const cJSON *sf = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(n, "spec"), "finalizers");
        if (!has_fins && !(sf && cJSON_GetArraySize(sf) > 0)) {
            *out = n;
            return RMW_DELETE;
        }
        set_deletion(n, 0, now);
        cJSON *st = cJSON_GetObjectItemCaseSensitive(n, "status");
        if (!cJSON_IsObject(st)) {
            cJSON_DeleteItemFromObjectCaseSensitive(n, "status");
            st = cJSON_AddObjectToObject(n, "status");
        }
        cJSON_DeleteItemFromObjectCaseSensitive(st, "phase");
        cJSON_AddStringToObject(st, "phase", "Terminating");
        *out = n;
        return RMW_WRITE;
    }
    int64_t grace = is_pod ? pod_grace(cur, o) : 0;
    if (grace > 0 || has_fins) {
        set_deletion(n, grace, now + (uint64_t)grace * 1000);
        *out = n;
        return RMW_WRITE;
    }
    *out = n;
    return RMW_DELETE;
}

static void del_done(rmw_t *m, cJSON *obj, bool deleted, cJSON *status)
{
    struct del_ctx *d = (struct del_ctx *)m;
    rest_del_done done = d->done;
    void *data = d->data;
    free(d);
    done(data, obj, deleted, status);
}

void rest_delete_key(apiserver_t *a, rq_t *q, const api_resource_t *r, const char *key,
                     const char *name, const struct del_opts *opts, rest_del_done done, void *data)
{
    struct del_ctx *d = calloc(1, sizeof(*d));
    if (!d) {
        done(data, NULL, false, api_status_internal("out of memory"));
        return;
    }
    d->o = *opts;
    d->done = done;
    d->data = data;
    d->m.a = a;
    d->m.q = q;
    d->m.res = r;
    snprintf(d->m.key, sizeof d->m.key, "%s", key);
    snprintf(d->m.name, sizeof d->m.name, "%s", name);
    d->m.mutate = del_mutate;
    d->m.done = del_done;
    d->m.dry_run = opts->dry_run;
    if (!strcmp(r->resource, "events")) d->m.ttl_s = EVENT_TTL_S;
    rmw_start(&d->m);
}

cJSON *rest_delete_reply(const api_resource_t *r, cJSON *obj, bool deleted)
{
    bool return_object =
        !deleted || !strcmp(r->resource, "pods") || !strcmp(r->resource, "services");
    if (return_object && obj) return obj;
    api_status_details_t det = {.name = obj ? api_meta_name(obj) : NULL,
                                .group = r->group,
                                .kind = r->resource,
                                .uid = obj ? api_meta_uid(obj) : NULL};
    cJSON *st = api_status_success(&det);
    cJSON_Delete(obj);
    return st;
}

static void delete_replied(void *data, cJSON *obj, bool deleted, cJSON *status)
{
    rq_t *q = data;
    if (status) {
        rq_reply_status(q, status);
        return;
    }
    rq_reply_json(q, 200, rest_delete_reply(q->rt.res, obj, deleted));
}

static cJSON *opts_from_request(rq_t *q, struct del_opts *o)
{
    size_t len;
    const char *body = http_req_body(q->req, &len);
    cJSON *b = NULL;
    (void)body;
    if (len > 0) {
        cJSON *st = NULL;
        b = obj_parse_body(q, &st);
        if (!b) return st;
    }
    cJSON *st = rest_del_opts(q, b, o);
    cJSON_Delete(b);
    return st;
}

void rest_delete(rq_t *q)
{
    static const char *const immortal[] = {"default", "kube-system", "kube-public", NULL};
    for (int i = 0; immortal[i] && !strcmp(q->rt.res->resource, "namespaces"); i++) {
        if (!strcmp(q->rt.name, immortal[i])) {
            rq_reply_status(q, api_status_forbidden("", "namespaces", q->rt.name,
                                                    "this namespace may not be deleted"));
            return;
        }
    }
    struct del_opts o;
    cJSON *st = opts_from_request(q, &o);
    if (st) {
        rq_reply_status(q, st);
        return;
    }
    char key[512];
    rq_key(q, q->rt.name, key, sizeof key);
    rest_delete_key(q->a, q, q->rt.res, key, q->rt.name, &o, delete_replied, q);
}

/* ------------------------------------------------------------ collection */

struct coll_ctx {
    rq_t *q;
    struct del_opts o;
    rest_filter_t f;
    char prefix[512];
    char after[512];
    char **keys;
    size_t n, cap, next;
    cJSON *first_err;
};

static void coll_end(struct coll_ctx *c)
{
    rq_t *q = c->q;
    cJSON *st = c->first_err;
    for (size_t i = 0; i < c->n; i++)
        free(c->keys[i]);
    free(c->keys);
    rest_filter_free(&c->f);
    free(c);
    if (st)
        rq_reply_status(q, st);
    else
        rq_reply_json(q, 200, api_status_success(NULL));
}

static void coll_next(struct coll_ctx *c);

static void coll_one_done(void *data, cJSON *obj, bool deleted, cJSON *status)
{
    struct coll_ctx *c = data;
    (void)deleted;
    cJSON_Delete(obj);
    if (status) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(status, "code");
        if (!c->first_err && !(cJSON_IsNumber(code) && code->valueint == 404))
            c->first_err = status;
        else
            cJSON_Delete(status);
    }
    coll_next(c);
}

static void coll_next(struct coll_ctx *c)
{
    if (c->next >= c->n) {
        coll_end(c);
        return;
    }
    const char *key = c->keys[c->next++];
    const char *name = strrchr(key, '/');
    rest_delete_key(c->q->a, c->q, c->q->rt.res, key, name ? name + 1 : key, &c->o, coll_one_done,
                    c);
}

static void coll_ranged(const store_result_t *res, void *data)
{
    struct coll_ctx *c = data;
    if (res->err != STORE_OK) {
        c->first_err = rest_store_err_status(c->q->rt.res, res->err, NULL);
        coll_end(c);
        return;
    }
    for (size_t i = 0; i < res->n_kvs; i++) {
        const store_kv_t *kv = &res->kvs[i];
        snprintf(c->after, sizeof c->after, "%s", kv->key);
        if (rest_filter_needs_parse(&c->f) || c->f.exact_name) {
            cJSON *o = obj_parse_kv(kv);
            bool ok = o && rest_filter_match(&c->f, o);
            cJSON_Delete(o);
            if (!ok) continue;
        }
        if (c->n == c->cap) {
            size_t nc = c->cap ? c->cap * 2 : 64;
            char **k = realloc(c->keys, nc * sizeof(*k));
            if (!k) break;
            c->keys = k;
            c->cap = nc;
        }
        c->keys[c->n] = strdup(kv->key);
        if (c->keys[c->n]) c->n++;
    }
    if (res->more) {
        int rv = store_range(c->q->a->store, c->prefix, c->after, 1000, res->rev, coll_ranged, c);
        if (rv == 0) return;
    }
    coll_next(c);
}

void rest_delete_collection(rq_t *q)
{
    struct coll_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        rq_reply_status(q, api_status_internal("out of memory"));
        return;
    }
    c->q = q;
    cJSON *st = opts_from_request(q, &c->o);
    if (!st) st = rest_filter_init(q, &c->f);
    if (st) {
        c->first_err = st;
        coll_end(c);
        return;
    }
    rq_key(q, NULL, c->prefix, sizeof c->prefix);
    int rv = store_range(q->a->store, c->prefix, NULL, 1000, 0, coll_ranged, c);
    if (rv != 0) {
        c->first_err = rest_store_err_status(q->rt.res, rv, NULL);
        coll_end(c);
    }
}
