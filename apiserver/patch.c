/*
 * patch.c - PATCH of an object or of <resource>/status, in the three forms
 * Kubernetes accepts without server-side apply: JSON patch (RFC 6902), JSON
 * merge patch (RFC 7386) and strategic merge patch (what kubectl apply,
 * edit, label, annotate, cordon and patch send). The patch functions are
 * api/'s; here the patch is applied to the current object inside a
 * read-modify-write, so a concurrent writer makes us re-apply it to the new
 * version rather than overwrite that writer's change. A resourceVersion in
 * the patch is a precondition, as on Kubernetes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apiserver/rest_int.h"

enum ptype { PT_JSON, PT_MERGE, PT_SMP, PT_BAD };

static enum ptype patch_type(rq_t *q)
{
    const char *ct = http_req_header(q->req, "content-type");
    if (!ct) return PT_BAD;
    if (!strncasecmp(ct, "application/json-patch+json", 27)) return PT_JSON;
    if (!strncasecmp(ct, "application/merge-patch+json", 28)) return PT_MERGE;
    if (!strncasecmp(ct, "application/strategic-merge-patch+json", 38)) return PT_SMP;
    return PT_BAD;
}

static cJSON *unsupported(rq_t *q)
{
    char msg[512];
    const char *ct = http_req_header(q->req, "content-type");
    snprintf(msg, sizeof msg,
             "the body of the request was in an unknown format - accepted media types include: "
             "application/json-patch+json, application/merge-patch+json, "
             "application/strategic-merge-patch+json (got %.100s%s)",
             ct ? ct : "no Content-Type",
             ct && strstr(ct, "apply-patch") ? "; server-side apply is not supported by picokube"
                                             : "");
    return api_status_error(415, "UnsupportedMediaType", msg, NULL);
}

cJSON *rest_apply_patch(rq_t *q, const cJSON *doc, const char *kind, cJSON **err)
{
    enum ptype t = patch_type(q);
    *err = NULL;
    if (t == PT_BAD) {
        *err = unsupported(q);
        return NULL;
    }
    size_t len;
    const char *body = http_req_body(q->req, &len);
    cJSON *p = cJSON_ParseWithLength(body, len);
    if (!p) {
        *err = api_status_bad_request("error decoding patch: invalid JSON");
        return NULL;
    }
    char msg[512];
    cJSON *out = NULL;
    if (t == PT_JSON) {
        if (!cJSON_IsArray(p)) {
            cJSON_Delete(p);
            *err = api_status_bad_request(
                "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
            return NULL;
        }
        out = api_json_patch_apply(doc, p, msg, sizeof msg);
    } else if (!cJSON_IsObject(p)) {
        cJSON_Delete(p);
        *err = api_status_bad_request("error decoding patch: the patch is not a JSON object");
        return NULL;
    } else if (t == PT_MERGE) {
        out = api_merge_patch_apply(doc, p, msg, sizeof msg);
    } else {
        out = api_smp_apply(doc, p, kind, msg, sizeof msg);
    }
    cJSON_Delete(p);
    if (!out) {
        *err = api_status_error(422, "Invalid", msg, NULL);
        return NULL;
    }
    if (!cJSON_IsObject(out)) {
        cJSON_Delete(out);
        *err = api_status_error(422, "Invalid", "the patched document is not an object", NULL);
        return NULL;
    }
    return out;
}

struct patch_ctx {
    rmw_t m;
    bool status_only;
};

static enum rmw_action patch_mutate(rmw_t *m, cJSON *cur, cJSON **out)
{
    struct patch_ctx *p = (struct patch_ctx *)m;
    rq_t *q = m->q;
    cJSON *st = NULL;
    cJSON *o = rest_apply_patch(q, cur, m->res->kind, &st);
    if (!o) {
        *out = st;
        return RMW_FAIL;
    }
    const char *want = api_meta_resource_version(o);
    const char *have = api_meta_resource_version(cur);
    if (want && have && strcmp(want, have)) {
        cJSON_Delete(o);
        *out = api_status_conflict(m->res->group, m->res->resource, m->name, NULL);
        m->no_retry = true;
        return RMW_FAIL;
    }
    const char *n = api_meta_name(o);
    if (!n || strcmp(n, m->name)) {
        cJSON_Delete(o);
        *out = api_status_bad_request("metadata.name cannot be changed by a patch");
        return RMW_FAIL;
    }
    st = rest_check_body(q, o, m->res->kind, m->res->group_version);
    if (!st) st = rest_prepare_update(q, o, cur, p->status_only);
    if (st) {
        cJSON_Delete(o);
        *out = st;
        return RMW_FAIL;
    }
    *out = o;
    return rest_ready_to_delete(o) ? RMW_DELETE : RMW_WRITE;
}

static void patch_done(rmw_t *m, cJSON *obj, bool deleted, cJSON *status)
{
    rq_t *q = m->q;
    (void)deleted;
    free(m);
    if (status)
        rq_reply_status(q, status);
    else
        rq_reply_json(q, 200, obj);
}

void rest_patch(rq_t *q, bool status_only)
{
    if (patch_type(q) == PT_BAD) {
        rq_reply_status(q, unsupported(q));
        return;
    }
    struct patch_ctx *p = calloc(1, sizeof(*p));
    if (!p) {
        rq_reply_status(q, api_status_internal("out of memory"));
        return;
    }
    p->status_only = status_only;
    p->m.q = q;
    p->m.a = q->a;
    p->m.res = q->rt.res;
    snprintf(p->m.name, sizeof p->m.name, "%s", q->rt.name);
    rq_key(q, q->rt.name, p->m.key, sizeof p->m.key);
    p->m.mutate = patch_mutate;
    p->m.done = patch_done;
    p->m.dry_run = q->dry_run;
    if (!strcmp(q->rt.res->resource, "events")) p->m.ttl_s = EVENT_TTL_S;
    rmw_start(&p->m);
}
