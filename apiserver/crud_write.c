/*
 * crud_write.c - POST (create) and PUT (update, and <resource>/status).
 *
 * Create: decode (strict when asked), decide name (generateName), uid and
 * creationTimestamp before the write so every replica stores the same
 * bytes, default, validate, check that the namespace exists and is not
 * terminating, allocate Service addresses, then store_create. Nothing is
 * written when any step fails (allocations are given back).
 *
 * Update: the same decoding, then a read-modify-write: a resourceVersion in
 * the body is a precondition (409 when stale); without one the update is
 * unconditional but still never loses a concurrent write (CAS and retry).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rest_int.h"

/* ------------------------------------------------------------ body checks */

/* One Warning header per message (newline-separated), quoted as Kubernetes
 * does: 299 - "unknown field \"spec.foo\"". */
static void add_warnings(rq_t *q, const char *warn)
{
    for (const char *p = warn; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char buf[1024];
        size_t k = (size_t)snprintf(buf, sizeof buf, "299 - \"");
        for (size_t i = 0; i < n && k < sizeof buf - 4; i++) {
            if (p[i] == '"' || p[i] == '\\') buf[k++] = '\\';
            buf[k++] = p[i];
        }
        buf[k++] = '"';
        buf[k] = 0;
        http_req_add_header(q->req, "Warning", buf);
        p += n + (e ? 1 : 0);
    }
}

cJSON *rest_check_body(rq_t *q, cJSON *obj, const char *kind, const char *gv)
{
    char msg[700];
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(obj, "kind");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "apiVersion");
    if (k && (!cJSON_IsString(k) || (*k->valuestring && strcmp(k->valuestring, kind)))) {
        snprintf(msg, sizeof msg,
                 "the object provided is unrecognized (must be of type %s): kind \"%.64s\" "
                 "is not %s",
                 kind, cJSON_IsString(k) ? k->valuestring : "?", kind);
        return api_status_bad_request(msg);
    }
    if (v && (!cJSON_IsString(v) || (*v->valuestring && strcmp(v->valuestring, gv)))) {
        snprintf(msg, sizeof msg,
                 "the API version in the data (%.64s) does not match the expected API version "
                 "(%s)",
                 cJSON_IsString(v) ? v->valuestring : "?", gv);
        return api_status_bad_request(msg);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "kind");
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "apiVersion");
    cJSON_AddStringToObject(obj, "kind", kind);
    cJSON_AddStringToObject(obj, "apiVersion", gv);
    enum field_validation fv;
    schema_fv_parse(http_req_query(q->req, "fieldValidation"), &fv);
    char *warn = NULL;
    cJSON *st = schema_check(gv, kind, obj, fv, &warn);
    if (st) return st;
    add_warnings(q, warn);
    free(warn);
    if (!api_meta_ensure(obj)) return api_status_internal("out of memory");
    bool same_kind = !strcmp(kind, q->rt.res->kind);
    if (same_kind) {
        st = api_meta_check_namespace(q->rt.res, obj, q->rt.res->namespaced ? q->rt.ns : NULL);
        if (st) return st;
    }
    if (q->rt.name[0] && same_kind) {
        const char *n = api_meta_name(obj);
        if (!n || !*n) {
            api_meta_set_str(obj, "name", q->rt.name);
        } else if (strcmp(n, q->rt.name)) {
            snprintf(msg, sizeof msg,
                     "the name of the object (%.253s) does not match the name on the URL (%.253s)",
                     n, q->rt.name);
            return api_status_bad_request(msg);
        }
    }
    return NULL;
}

/* ----------------------------------------------------------------- create */

struct create_ctx {
    rq_t *q;
    cJSON *obj;
    char key[512];
    int tries;
    bool allocated;
};

static void create_end(struct create_ctx *c, int code, cJSON *reply)
{
    rq_t *q = c->q;
    if (code >= 300 && c->allocated) svc_release(q->a, c->obj, NULL);
    cJSON_Delete(c->obj);
    free(c);
    if (code >= 300)
        rq_reply_status(q, reply);
    else
        rq_reply_json(q, code, reply);
}

static void name_from_generate(cJSON *obj)
{
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    const char *gen = api_meta_generate_name(obj);
    if (!gen || !*gen) return;
    const char *cur = api_meta_name(obj);
    if (cur && *cur && strncmp(cur, gen, strlen(gen))) return;
    unsigned char rnd[5];
    random_bytes(rnd, sizeof rnd);
    char name[300];
    int n = snprintf(name, sizeof name, "%.247s", gen);
    for (int i = 0; i < 5; i++)
        name[n + i] = alphabet[rnd[i] % (sizeof alphabet - 1)];
    name[n + 5] = 0;
    api_meta_set_str(obj, "name", name);
}

static void create_write(struct create_ctx *c);

static void created(const store_result_t *res, void *data)
{
    struct create_ctx *c = data;
    if (res->err == STORE_EEXIST && api_meta_generate_name(c->obj) && c->tries++ < 3) {
        name_from_generate(c->obj);
        create_write(c);
        return;
    }
    if (res->err != STORE_OK) {
        create_end(c, 409, rest_store_err_status(c->q->rt.res, res->err, api_meta_name(c->obj)));
        return;
    }
    c->allocated = false;
    cJSON *o = obj_parse_kv(res->kv);
    create_end(c, o ? 201 : 500, o ? o : api_status_internal("cannot decode the stored object"));
}

static void create_write(struct create_ctx *c)
{
    rq_t *q = c->q;
    if (rq_key(q, api_meta_name(c->obj), c->key, sizeof c->key) < 0) {
        create_end(c, 400, api_status_bad_request("the name or namespace is too long"));
        return;
    }
    if (q->dry_run) {
        if (c->allocated) svc_release(q->a, c->obj, NULL);
        c->allocated = false;
        cJSON *o = c->obj;
        c->obj = NULL;
        create_end(c, 201, o);
        return;
    }
    size_t len;
    char *bytes = obj_store_bytes(c->obj, &len);
    if (!bytes) {
        create_end(c, 500, api_status_internal("out of memory"));
        return;
    }
    uint32_t ttl = !strcmp(q->rt.res->resource, "events") ? EVENT_TTL_S : 0;
    int rv = store_create(q->a->store, c->key, bytes, len, ttl, created, c);
    free(bytes);
    if (rv != 0) create_end(c, 500, rest_store_err_status(q->rt.res, rv, api_meta_name(c->obj)));
}

static void allocated(void *data, cJSON *status)
{
    struct create_ctx *c = data;
    if (status) {
        create_end(c, 422, status);
        return;
    }
    c->allocated = true;
    create_write(c);
}

static void ns_checked(const store_result_t *res, void *data)
{
    struct create_ctx *c = data;
    const char *ns = c->q->rt.ns;
    if (res->err == STORE_ENOENT) {
        create_end(c, 404, api_status_not_found("", "namespaces", ns));
        return;
    }
    if (res->err != STORE_OK) {
        create_end(c, 500, rest_store_err_status(c->q->rt.res, res->err, ns));
        return;
    }
    cJSON *nso = obj_parse_kv(res->kv);
    bool terminating = nso && api_meta_deletion_timestamp(nso);
    cJSON_Delete(nso);
    if (terminating) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "unable to create new content in namespace %s because it is being terminated", ns);
        create_end(c, 403,
                   api_status_forbidden(c->q->rt.res->group, c->q->rt.res->resource,
                                        api_meta_name(c->obj), msg));
        return;
    }
    if (!strcmp(c->q->rt.res->kind, "Service")) {
        svc_allocate(c->q->a, c->obj, NULL, allocated, c);
        return;
    }
    create_write(c);
}

/* System metadata a client cannot choose on create. */
static void reset_meta(cJSON *obj)
{
    char uid[40], now[40];
    obj_new_uid(uid);
    obj_now(now, sizeof now);
    static const char *const drop[] = {
        "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds",
        "selfLink",        "managedFields",     NULL};
    for (int i = 0; drop[i]; i++)
        api_meta_set_str(obj, drop[i], NULL);
    api_meta_set_str(obj, "uid", uid);
    api_meta_set_str(obj, "creationTimestamp", now);
}

void rest_create(rq_t *q)
{
    const api_resource_t *r = q->rt.res;
    cJSON *st = NULL;
    cJSON *obj = obj_parse_body(q, &st);
    if (!obj) {
        rq_reply_status(q, st);
        return;
    }
    st = rest_check_body(q, obj, r->kind, r->group_version);
    if (!st) {
        name_from_generate(obj);
        reset_meta(obj);
        if (api_default(r->kind, obj) != 0 || api_prepare_create(r, obj) != 0)
            st = api_status_internal("out of memory");
    }
    if (!st) {
        api_errors_t errs = API_ERRORS_INIT;
        if (api_validate(r->kind, obj, NULL, &errs) > 0)
            st = api_status_invalid(r->group, r->kind, api_meta_name(obj), &errs);
        api_errors_free(&errs);
    }
    if (st) {
        cJSON_Delete(obj);
        rq_reply_status(q, st);
        return;
    }
    struct create_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        cJSON_Delete(obj);
        rq_reply_status(q, api_status_internal("out of memory"));
        return;
    }
    c->q = q;
    c->obj = obj;
    if (r->namespaced) {
        char key[512];
        api_storage_key(api_resource_lookup("", "v1", "namespaces"), NULL, q->rt.ns, key,
                        sizeof key);
        int rv = store_get(q->a->store, key, ns_checked, c);
        if (rv != 0) create_end(c, 500, rest_store_err_status(r, rv, NULL));
        return;
    }
    create_write(c);
}

/* ----------------------------------------------------------------- update */

cJSON *rest_prepare_update(rq_t *q, cJSON *obj, const cJSON *old, bool status_only)
{
    const api_resource_t *r = q->rt.res;
    cJSON *om = cJSON_GetObjectItemCaseSensitive(old, "metadata");
    if (status_only) {
        /* A status write changes nothing of metadata (ResetObjectMetaForStatus). */
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "metadata");
        cJSON_AddItemToObject(obj, "metadata", cJSON_Duplicate(om, true));
    } else {
        static const char *const keep[] = {"creationTimestamp", "deletionTimestamp",
                                           "deletionGracePeriodSeconds", NULL};
        cJSON *nm = api_meta_ensure(obj);
        if (!nm) return api_status_internal("out of memory");
        for (int i = 0; keep[i]; i++) {
            cJSON_DeleteItemFromObjectCaseSensitive(nm, keep[i]);
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(om, keep[i]);
            if (v) cJSON_AddItemToObject(nm, keep[i], cJSON_Duplicate(v, true));
        }
        if (!api_meta_uid(obj)) api_meta_set_str(obj, "uid", api_meta_uid(old));
        cJSON_DeleteItemFromObjectCaseSensitive(nm, "managedFields");
    }
    if (!status_only && !strcmp(r->kind, "Service")) svc_drop_type_fields(obj, old);
    if (api_default(r->kind, obj) != 0 || api_prepare_update(r, obj, old, status_only) != 0)
        return api_status_internal("out of memory");
    api_errors_t errs = API_ERRORS_INIT;
    int n = status_only ? api_validate_status(r->kind, obj, old, &errs)
                        : api_validate(r->kind, obj, old, &errs);
    cJSON *st = n > 0 ? api_status_invalid(r->group, r->kind, api_meta_name(obj), &errs) : NULL;
    api_errors_free(&errs);
    return st;
}

struct update_ctx {
    rmw_t m;
    cJSON *body;
    uint64_t want_rev; /* 0: unconditional */
    bool status_only;
};

static enum rmw_action update_mutate(rmw_t *m, cJSON *cur, cJSON **out)
{
    struct update_ctx *u = (struct update_ctx *)m;
    if (!cur) {
        /* Create on update (Endpoints, Events) */
        cJSON *o = cJSON_Duplicate(u->body, true);
        reset_meta(o);
        api_default(m->res->kind, o);
        api_prepare_create(m->res, o);
        *out = o;
        return RMW_WRITE;
    }
    uint64_t cur_rev = 0;
    obj_parse_rv(api_meta_resource_version(cur), &cur_rev);
    if (u->want_rev && u->want_rev != cur_rev) {
        *out = api_status_conflict(m->res->group, m->res->resource, m->name, NULL);
        return RMW_FAIL;
    }
    cJSON *o = cJSON_Duplicate(u->body, true);
    cJSON *st = rest_prepare_update(m->q, o, cur, u->status_only);
    if (st) {
        cJSON_Delete(o);
        *out = st;
        return RMW_FAIL;
    }
    *out = o;
    return rest_ready_to_delete(o) ? RMW_DELETE : RMW_WRITE;
}

static void update_done(rmw_t *m, cJSON *obj, bool deleted, cJSON *status)
{
    struct update_ctx *u = (struct update_ctx *)m;
    rq_t *q = m->q;
    (void)deleted;
    cJSON_Delete(u->body);
    free(u);
    if (status)
        rq_reply_status(q, status);
    else
        rq_reply_json(q, 200, obj);
}

void rest_update(rq_t *q, bool status_only)
{
    const api_resource_t *r = q->rt.res;
    cJSON *st = NULL;
    cJSON *obj = obj_parse_body(q, &st);
    if (obj) st = rest_check_body(q, obj, r->kind, r->group_version);
    uint64_t want = 0;
    const char *rvs = obj ? api_meta_resource_version(obj) : NULL;
    if (!st && rvs && *rvs && !obj_parse_rv(rvs, &want)) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "metadata.resourceVersion: Invalid value: \"%.64s\": must be "
                 "a number",
                 rvs);
        st = api_status_bad_request(msg);
    }
    struct update_ctx *u = st ? NULL : calloc(1, sizeof(*u));
    if (!u) {
        cJSON_Delete(obj);
        rq_reply_status(q, st ? st : api_status_internal("out of memory"));
        return;
    }
    u->body = obj;
    u->want_rev = want;
    u->status_only = status_only;
    u->m.q = q;
    u->m.a = q->a;
    u->m.res = r;
    snprintf(u->m.name, sizeof u->m.name, "%s", q->rt.name);
    rq_key(q, q->rt.name, u->m.key, sizeof u->m.key);
    u->m.mutate = update_mutate;
    u->m.done = update_done;
    u->m.no_retry = want != 0;
    u->m.dry_run = q->dry_run;
    u->m.create_missing =
        !status_only && (!strcmp(r->resource, "endpoints") || !strcmp(r->resource, "events"));
    if (!strcmp(r->resource, "events")) u->m.ttl_s = EVENT_TTL_S;
    rmw_start(&u->m);
}
