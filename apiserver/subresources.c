/*
 * subresources.c - pods/binding (and the bindings collection), the scale
 * subresource of Deployments, ReplicaSets and ReplicationControllers
 * (autoscaling/v1 Scale: what `kubectl scale` patches), and pods/eviction.
 * Each is a read-modify-write of the parent object; status subresources go
 * through crud_write.c / patch.c and pods/log through logs.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rest_int.h"

static cJSON *status_created(void)
{
    cJSON *st = api_status_success(NULL);
    if (st) {
        cJSON_DeleteItemFromObjectCaseSensitive(st, "code");
        cJSON_AddNumberToObject(st, "code", 201);
    }
    return st;
}

/* --------------------------------------------------------------- binding */

struct bind_ctx {
    rmw_t m;
    cJSON *binding;
};

static enum rmw_action bind_mutate(rmw_t *m, cJSON *cur, cJSON **out)
{
    struct bind_ctx *b = (struct bind_ctx *)m;
    char why[512];
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(cur, "spec");
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(spec, "nodeName");
    const char *target = cJSON_GetObjectItemCaseSensitive(
                             cJSON_GetObjectItemCaseSensitive(b->binding, "target"), "name")
                             ->valuestring;
    if (api_meta_deletion_timestamp(cur)) {
        snprintf(why, sizeof why, "pod %s is being deleted, cannot be assigned to a host", m->name);
        *out = api_status_conflict("", "pods/binding", m->name, why);
        return RMW_FAIL;
    }
    if (cJSON_IsString(node) && *node->valuestring) {
        snprintf(why, sizeof why, "pod %s is already assigned to node \"%s\"", m->name,
                 node->valuestring);
        *out = api_status_conflict("", "pods/binding", m->name, why);
        m->no_retry = true;
        return RMW_FAIL;
    }
    cJSON *n = cJSON_Duplicate(cur, true);
    spec = cJSON_GetObjectItemCaseSensitive(n, "spec");
    if (!spec) spec = cJSON_AddObjectToObject(n, "spec");
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "nodeName");
    cJSON_AddStringToObject(spec, "nodeName", target);
    const cJSON *ann = api_meta_annotations(b->binding), *a;
    cJSON_ArrayForEach(a, ann) if (cJSON_IsString(a))
        api_meta_set_annotation(n, a->string, a->valuestring);
    /* PodScheduled=True, as the binding REST of Kubernetes records it. */
    cJSON *st = cJSON_GetObjectItemCaseSensitive(n, "status");
    if (!cJSON_IsObject(st)) {
        cJSON_DeleteItemFromObjectCaseSensitive(n, "status");
        st = cJSON_AddObjectToObject(n, "status");
    }
    cJSON *conds = cJSON_GetObjectItemCaseSensitive(st, "conditions");
    if (!cJSON_IsArray(conds)) {
        cJSON_DeleteItemFromObjectCaseSensitive(st, "conditions");
        conds = cJSON_AddArrayToObject(st, "conditions");
    }
    for (int i = cJSON_GetArraySize(conds) - 1; i >= 0; i--) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(conds, i), "type");
        if (cJSON_IsString(t) && !strcmp(t->valuestring, "PodScheduled"))
            cJSON_DeleteItemFromArray(conds, i);
    }
    cJSON *c = cJSON_CreateObject();
    char now[40];
    obj_now(now, sizeof now);
    cJSON_AddStringToObject(c, "type", "PodScheduled");
    cJSON_AddStringToObject(c, "status", "True");
    cJSON_AddNullToObject(c, "lastProbeTime");
    cJSON_AddStringToObject(c, "lastTransitionTime", now);
    cJSON_AddItemToArray(conds, c);
    *out = n;
    return RMW_WRITE;
}

static void bind_done(rmw_t *m, cJSON *obj, bool deleted, cJSON *status)
{
    struct bind_ctx *b = (struct bind_ctx *)m;
    rq_t *q = m->q;
    (void)deleted;
    cJSON_Delete(obj);
    cJSON_Delete(b->binding);
    free(b);
    rq_reply_status(q, status ? status : status_created());
}

void rest_binding_create(rq_t *q)
{
    cJSON *st = NULL;
    cJSON *body = obj_parse_body(q, &st);
    if (body) st = rest_check_body(q, body, "Binding", "v1");
    if (!st) {
        api_meta_set_str(body, "namespace", NULL);
        api_errors_t errs = API_ERRORS_INIT;
        if (api_validate("Binding", body, NULL, &errs) > 0)
            st = api_status_invalid("", "Binding", api_meta_name(body), &errs);
        api_errors_free(&errs);
    }
    const char *name = body ? api_meta_name(body) : NULL;
    if (!st && q->rt.name[0] && name && strcmp(name, q->rt.name))
        st = api_status_bad_request("the name of the binding does not match the pod's");
    if (!st && (!name || !*name)) name = q->rt.name;
    if (!st && (!name || !*name)) st = api_status_bad_request("metadata.name: Required value");
    const cJSON *tn =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(body, "target"), "name");
    if (!st && !cJSON_IsString(tn)) st = api_status_bad_request("target.name: Required value");
    struct bind_ctx *b = st ? NULL : calloc(1, sizeof(*b));
    if (!b) {
        cJSON_Delete(body);
        rq_reply_status(q, st ? st : api_status_internal("out of memory"));
        return;
    }
    b->binding = body;
    b->m.a = q->a;
    b->m.q = q;
    b->m.res = api_resource_lookup("", "v1", "pods");
    snprintf(b->m.name, sizeof b->m.name, "%s", name);
    api_storage_key(b->m.res, q->rt.ns, b->m.name, b->m.key, sizeof b->m.key);
    b->m.mutate = bind_mutate;
    b->m.done = bind_done;
    b->m.dry_run = q->dry_run;
    rmw_start(&b->m);
}

/* ----------------------------------------------------------------- scale */

struct scale_ctx {
    rmw_t m;
    cJSON *body; /* PUT: the Scale sent */
    bool patch;
};

static enum rmw_action scale_mutate(rmw_t *m, cJSON *cur, cJSON **out)
{
    struct scale_ctx *s = (struct scale_ctx *)m;
    rq_t *q = m->q;
    cJSON *scale = s->body ? cJSON_Duplicate(s->body, true) : NULL;
    cJSON *st = NULL;
    if (s->patch) {
        cJSON *now = api_scale_of(m->res, cur);
        scale = now ? rest_apply_patch(q, now, "Scale", &st) : NULL;
        cJSON_Delete(now);
        if (!scale) {
            *out = st ? st : api_status_internal("out of memory");
            return RMW_FAIL;
        }
    }
    const char *want = api_meta_resource_version(scale);
    if (want && *want && strcmp(want, api_meta_resource_version(cur))) {
        cJSON_Delete(scale);
        *out = api_status_conflict(m->res->group, m->res->resource, m->name, NULL);
        m->no_retry = true;
        return RMW_FAIL;
    }
    api_errors_t errs = API_ERRORS_INIT;
    if (api_validate("Scale", scale, NULL, &errs) > 0)
        st = api_status_invalid("autoscaling", "Scale", m->name, &errs);
    api_errors_free(&errs);
    const cJSON *rep = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(scale, "spec"), "replicas");
    double replicas = cJSON_IsNumber(rep) ? rep->valuedouble : 0;
    cJSON_Delete(scale);
    if (st) {
        *out = st;
        return RMW_FAIL;
    }
    cJSON *n = cJSON_Duplicate(cur, true);
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(n, "spec");
    if (!spec) spec = cJSON_AddObjectToObject(n, "spec");
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "replicas");
    cJSON_AddNumberToObject(spec, "replicas", replicas);
    st = rest_prepare_update(q, n, cur, false);
    if (st) {
        cJSON_Delete(n);
        *out = st;
        return RMW_FAIL;
    }
    *out = n;
    return RMW_WRITE;
}

static void scale_done(rmw_t *m, cJSON *obj, bool deleted, cJSON *status)
{
    struct scale_ctx *s = (struct scale_ctx *)m;
    rq_t *q = m->q;
    const api_resource_t *r = m->res;
    (void)deleted;
    cJSON_Delete(s->body);
    free(s);
    if (status) {
        rq_reply_status(q, status);
        return;
    }
    cJSON *scale = api_scale_of(r, obj);
    cJSON_Delete(obj);
    rq_reply_json(q, 200, scale);
}

static void scale_got(const store_result_t *res, void *data)
{
    rq_t *q = data;
    if (res->err != STORE_OK) {
        rq_reply_store_err(q, res->err, q->rt.name);
        return;
    }
    cJSON *o = obj_parse_kv(res->kv);
    cJSON *scale = o ? api_scale_of(q->rt.res, o) : NULL;
    cJSON_Delete(o);
    rq_reply_json(q, 200, scale);
}

static void rest_scale(rq_t *q)
{
    char key[512];
    rq_key(q, q->rt.name, key, sizeof key);
    if (!strcmp(q->verb, "get")) {
        int rv = store_get(q->a->store, key, scale_got, q);
        if (rv != 0) rq_reply_store_err(q, rv, q->rt.name);
        return;
    }
    cJSON *st = NULL, *body = NULL;
    bool patch = !strcmp(q->verb, "patch");
    if (!patch) {
        body = obj_parse_body(q, &st);
        if (body) st = rest_check_body(q, body, "Scale", "autoscaling/v1");
    }
    struct scale_ctx *s = st ? NULL : calloc(1, sizeof(*s));
    if (!s) {
        cJSON_Delete(body);
        rq_reply_status(q, st ? st : api_status_internal("out of memory"));
        return;
    }
    s->body = body;
    s->patch = patch;
    s->m.a = q->a;
    s->m.q = q;
    s->m.res = q->rt.res;
    snprintf(s->m.name, sizeof s->m.name, "%s", q->rt.name);
    snprintf(s->m.key, sizeof s->m.key, "%s", key);
    s->m.mutate = scale_mutate;
    s->m.done = scale_done;
    s->m.dry_run = q->dry_run;
    rmw_start(&s->m);
}

/* -------------------------------------------------------------- finalize */

/* namespaces/<n>/finalize: the one way to change spec.finalizers (what a
 * namespace controller does once the namespace is empty). */
static enum rmw_action finalize_mutate(rmw_t *m, cJSON *cur, cJSON **out)
{
    struct scale_ctx *s = (struct scale_ctx *)m;
    cJSON *n = cJSON_Duplicate(cur, true);
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(n, "spec");
    if (!spec) spec = cJSON_AddObjectToObject(n, "spec");
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "finalizers");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(s->body, "spec"), "finalizers");
    if (cJSON_IsArray(f)) cJSON_AddItemToObject(spec, "finalizers", cJSON_Duplicate(f, true));
    *out = n;
    return rest_ready_to_delete(n) ? RMW_DELETE : RMW_WRITE;
}

static void finalize_done(rmw_t *m, cJSON *obj, bool deleted, cJSON *status)
{
    struct scale_ctx *s = (struct scale_ctx *)m;
    rq_t *q = m->q;
    (void)deleted;
    cJSON_Delete(s->body);
    free(s);
    if (status)
        rq_reply_status(q, status);
    else
        rq_reply_json(q, 200, obj);
}

static void rest_finalize(rq_t *q)
{
    cJSON *st = NULL;
    cJSON *body = obj_parse_body(q, &st);
    if (body) st = rest_check_body(q, body, "Namespace", "v1");
    struct scale_ctx *s = st ? NULL : calloc(1, sizeof(*s));
    if (!s) {
        cJSON_Delete(body);
        rq_reply_status(q, st ? st : api_status_internal("out of memory"));
        return;
    }
    s->body = body;
    s->m.a = q->a;
    s->m.q = q;
    s->m.res = q->rt.res;
    snprintf(s->m.name, sizeof s->m.name, "%s", q->rt.name);
    rq_key(q, q->rt.name, s->m.key, sizeof s->m.key);
    s->m.mutate = finalize_mutate;
    s->m.done = finalize_done;
    s->m.dry_run = q->dry_run;
    rmw_start(&s->m);
}

/* -------------------------------------------------------------- eviction */

static void evicted(void *data, cJSON *obj, bool deleted, cJSON *status)
{
    rq_t *q = data;
    (void)deleted;
    cJSON_Delete(obj);
    rq_reply_status(q, status ? status : status_created());
}

static void rest_eviction(rq_t *q)
{
    cJSON *st = NULL;
    cJSON *body = obj_parse_body(q, &st);
    if (body) {
        /* Older clients send policy/v1beta1; the object is the same. */
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "apiVersion");
        if (cJSON_IsString(v) && !strcmp(v->valuestring, "policy/v1beta1"))
            cJSON_SetValuestring((cJSON *)v, "policy/v1");
        st = rest_check_body(q, body, "Eviction", "policy/v1");
    }
    const char *name = body ? api_meta_name(body) : NULL;
    if (!st && name && *name && strcmp(name, q->rt.name))
        st = api_status_bad_request("name in URL does not match name in Eviction object");
    struct del_opts o;
    if (!st) st = rest_del_opts(q, cJSON_GetObjectItemCaseSensitive(body, "deleteOptions"), &o);
    cJSON_Delete(body);
    if (st) {
        rq_reply_status(q, st);
        return;
    }
    char key[512];
    rq_key(q, q->rt.name, key, sizeof key);
    rest_delete_key(q->a, q, q->rt.res, key, q->rt.name, &o, evicted, q);
}

void rest_subresource(rq_t *q)
{
    const char *sub = q->rt.sub->name;
    if (!strcmp(sub, "scale"))
        rest_scale(q);
    else if (!strcmp(sub, "binding"))
        rest_binding_create(q);
    else if (!strcmp(sub, "eviction"))
        rest_eviction(q);
    else if (!strcmp(sub, "log"))
        rest_log(q);
    else if (!strcmp(sub, "finalize"))
        rest_finalize(q);
    else
        rq_reply_status(
            q, api_status_method_not_allowed(q->rt.res->group, q->rt.res->resource, q->verb));
}
