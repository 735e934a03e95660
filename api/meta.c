/*
 * meta.c - ObjectMeta accessors, field-error lists and metav1.Status
 * builders with Kubernetes' reasons, codes and message formats.
 *
 * Clients (kubectl, client-go, the Python client) branch on Status reason
 * and code, and users read the messages, so both follow Kubernetes'
 * apimachinery errors package exactly (`pods "web" not found`, the 422
 * aggregate `[a, b]` form, cause reasons such as FieldValueRequired).
 */
#include "api/model_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- getters */

const char *api_meta_str(const cJSON *obj, const char *field)
{
    return j_str(j_get(obj, "metadata"), field);
}

const char *api_meta_name(const cJSON *obj)
{
    return api_meta_str(obj, "name");
}

const char *api_meta_generate_name(const cJSON *obj)
{
    return api_meta_str(obj, "generateName");
}

const char *api_meta_namespace(const cJSON *obj)
{
    return api_meta_str(obj, "namespace");
}

const char *api_meta_uid(const cJSON *obj)
{
    return api_meta_str(obj, "uid");
}

const char *api_meta_resource_version(const cJSON *obj)
{
    return api_meta_str(obj, "resourceVersion");
}

const char *api_meta_creation_timestamp(const cJSON *obj)
{
    return api_meta_str(obj, "creationTimestamp");
}

const char *api_meta_deletion_timestamp(const cJSON *obj)
{
    return api_meta_str(obj, "deletionTimestamp");
}

int64_t api_meta_generation(const cJSON *obj)
{
    return (int64_t)j_int(j_get(obj, "metadata"), "generation", 0);
}

static cJSON *meta_member(const cJSON *obj, const char *key, bool array)
{
    cJSON *v = (cJSON *)j_get(j_get(obj, "metadata"), key);
    if (array ? cJSON_IsArray(v) : cJSON_IsObject(v)) return v;
    return NULL;
}

cJSON *api_meta_labels(const cJSON *obj)
{
    return meta_member(obj, "labels", false);
}

cJSON *api_meta_annotations(const cJSON *obj)
{
    return meta_member(obj, "annotations", false);
}

const char *api_meta_label(const cJSON *obj, const char *key)
{
    return j_str(api_meta_labels(obj), key);
}

const char *api_meta_annotation(const cJSON *obj, const char *key)
{
    return j_str(api_meta_annotations(obj), key);
}

cJSON *api_meta_owner_refs(const cJSON *obj)
{
    return meta_member(obj, "ownerReferences", true);
}

const cJSON *api_meta_controller_ref(const cJSON *obj)
{
    const cJSON *ref;
    cJSON_ArrayForEach(ref, api_meta_owner_refs(obj)) if (j_true(ref, "controller")) return ref;
    return NULL;
}

cJSON *api_meta_finalizers(const cJSON *obj)
{
    return meta_member(obj, "finalizers", true);
}

bool api_meta_has_finalizer(const cJSON *obj, const char *finalizer)
{
    const cJSON *f;
    cJSON_ArrayForEach(
        f, api_meta_finalizers(obj)) if (cJSON_IsString(f) &&
                                         !strcmp(f->valuestring, finalizer)) return true;
    return false;
}

/* ---------------------------------------------------------------- setters */

cJSON *api_meta_ensure(cJSON *obj)
{
    return j_obj(obj, "metadata");
}

int api_meta_set_str(cJSON *obj, const char *field, const char *value)
{
    cJSON *m = api_meta_ensure(obj);
    if (!m) return -1;
    if (!value) {
        cJSON_DeleteItemFromObjectCaseSensitive(m, field);
        return 0;
    }
    return j_set_str(m, field, value);
}

int api_meta_set_generation(cJSON *obj, int64_t generation)
{
    cJSON *m = api_meta_ensure(obj);
    return m ? j_set_num(m, "generation", (double)generation) : -1;
}

static int set_map_entry(cJSON *obj, const char *map, const char *key, const char *value)
{
    cJSON *m = api_meta_ensure(obj);
    if (!m) return -1;
    if (!value) {
        cJSON_DeleteItemFromObjectCaseSensitive((cJSON *)j_get(m, map), key);
        return 0;
    }
    cJSON *l = j_obj(m, map);
    return l ? j_set_str(l, key, value) : -1;
}

int api_meta_set_label(cJSON *obj, const char *key, const char *value)
{
    return set_map_entry(obj, "labels", key, value);
}

int api_meta_set_annotation(cJSON *obj, const char *key, const char *value)
{
    return set_map_entry(obj, "annotations", key, value);
}

int api_meta_add_finalizer(cJSON *obj, const char *finalizer)
{
    if (api_meta_has_finalizer(obj, finalizer)) return 0;
    cJSON *m = api_meta_ensure(obj);
    cJSON *f = m ? j_arr(m, "finalizers") : NULL;
    cJSON *s = f ? cJSON_CreateString(finalizer) : NULL;
    if (!s || !cJSON_AddItemToArray(f, s)) {
        cJSON_Delete(s);
        return -1;
    }
    return 0;
}

int api_meta_remove_finalizer(cJSON *obj, const char *finalizer)
{
    cJSON *f = api_meta_finalizers(obj);
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, f)
    {
        if (cJSON_IsString(it) && !strcmp(it->valuestring, finalizer)) {
            cJSON_DeleteItemFromArray(f, i);
            return 1;
        }
        i++;
    }
    return 0;
}

int api_meta_add_owner_ref(cJSON *obj, const char *api_version, const char *kind, const char *name,
                           const char *uid, bool controller, bool block_owner_deletion)
{
    cJSON *m = api_meta_ensure(obj);
    cJSON *refs = m ? j_arr(m, "ownerReferences") : NULL;
    cJSON *r = refs ? cJSON_CreateObject() : NULL;
    if (!r) return -1;
    bool ok = cJSON_AddStringToObject(r, "apiVersion", api_version) &&
              cJSON_AddStringToObject(r, "kind", kind) &&
              cJSON_AddStringToObject(r, "name", name) && cJSON_AddStringToObject(r, "uid", uid) &&
              (!controller || cJSON_AddTrueToObject(r, "controller")) &&
              (!block_owner_deletion || cJSON_AddTrueToObject(r, "blockOwnerDeletion"));
    if (!ok || !cJSON_AddItemToArray(refs, r)) {
        cJSON_Delete(r);
        return -1;
    }
    return 0;
}

cJSON *api_meta_check_namespace(const api_resource_t *r, cJSON *obj, const char *request_ns)
{
    const char *obj_ns = api_meta_namespace(obj);
    if (!request_ns) request_ns = "";
    if (r && !r->namespaced) request_ns = "";
    if (obj_ns && !strcmp(obj_ns, request_ns)) return NULL;
    if (!obj_ns || !*obj_ns) {
        if (!*request_ns) return NULL;
        if (api_meta_set_str(obj, "namespace", request_ns) != 0)
            return api_status_internal("out of memory");
        return NULL;
    }
    if (!*request_ns) {
        /* Cluster-scoped: a namespace in the body means nothing. */
        api_meta_set_str(obj, "namespace", NULL);
        return NULL;
    }
    return api_status_bad_request(
        "the namespace of the provided object does not match the namespace sent on the request");
}

/* ----------------------------------------------------------- field errors */

static const char *const err_reasons[] = {
    [API_ERR_NOT_FOUND] = "FieldValueNotFound",
    [API_ERR_REQUIRED] = "FieldValueRequired",
    [API_ERR_DUPLICATE] = "FieldValueDuplicate",
    [API_ERR_INVALID] = "FieldValueInvalid",
    [API_ERR_NOT_SUPPORTED] = "FieldValueNotSupported",
    [API_ERR_FORBIDDEN] = "FieldValueForbidden",
    [API_ERR_TOO_LONG] = "FieldValueTooLong",
    [API_ERR_TOO_MANY] = "FieldValueTooMany",
    [API_ERR_INTERNAL] = "InternalError",
};

static const char *const err_words[] = {
    [API_ERR_NOT_FOUND] = "Not found",
    [API_ERR_REQUIRED] = "Required value",
    [API_ERR_DUPLICATE] = "Duplicate value",
    [API_ERR_INVALID] = "Invalid value",
    [API_ERR_NOT_SUPPORTED] = "Unsupported value",
    [API_ERR_FORBIDDEN] = "Forbidden",
    [API_ERR_TOO_LONG] = "Too long",
    [API_ERR_TOO_MANY] = "Too many",
    [API_ERR_INTERNAL] = "Internal error",
};

const char *api_err_reason(enum api_err_type t)
{
    return (unsigned)t <= API_ERR_INTERNAL ? err_reasons[t] : "FieldValueInvalid";
}

void api_errors_free(api_errors_t *e)
{
    if (!e) return;
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].field);
        free(e->v[i].body);
    }
    free(e->v);
    memset(e, 0, sizeof *e);
}

int err_add(api_errors_t *e, enum api_err_type t, const char *field, const char *repr,
            const char *detail)
{
    if ((unsigned)t > API_ERR_INTERNAL) t = API_ERR_INVALID;
    sbuf_t b = {0};
    sb_puts(&b, err_words[t]);
    /* Kubernetes prints no value for these types. */
    if (t != API_ERR_REQUIRED && t != API_ERR_FORBIDDEN && t != API_ERR_TOO_LONG &&
        t != API_ERR_INTERNAL) {
        sb_puts(&b, ": ");
        sb_puts(&b, repr ? repr : "null");
    }
    if (detail && *detail) {
        sb_puts(&b, ": ");
        sb_puts(&b, detail);
    }
    char *body = sb_take(&b);
    char *f = strdup(field ? field : "");
    if (body && f && e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        api_field_error_t *v = realloc(e->v, cap * sizeof *v);
        if (v) {
            e->v = v;
            e->cap = cap;
        }
    }
    if (!body || !f || e->n == e->cap) {
        free(body);
        free(f);
        e->oom = true;
        return -1;
    }
    e->v[e->n].type = t;
    e->v[e->n].field = f;
    e->v[e->n].body = body;
    e->n++;
    return 0;
}

static int err_add_quoted(api_errors_t *e, enum api_err_type t, const char *field,
                          const char *value, const char *detail)
{
    sbuf_t b = {0};
    go_quote(&b, value);
    char *repr = sb_take(&b);
    if (!repr) {
        e->oom = true;
        return -1;
    }
    int rc = err_add(e, t, field, repr, detail);
    free(repr);
    return rc;
}

int err_invalid_map(api_errors_t *e, const char *field, const cJSON *map, const char *detail)
{
    sbuf_t b = {0};
    go_map(&b, map);
    char *repr = sb_take(&b);
    if (!repr) {
        e->oom = true;
        return -1;
    }
    int rc = err_add(e, API_ERR_INVALID, field, repr, detail);
    free(repr);
    return rc;
}

int api_err_required(api_errors_t *e, const char *field, const char *detail)
{
    return err_add(e, API_ERR_REQUIRED, field, NULL, detail);
}

int api_err_forbidden(api_errors_t *e, const char *field, const char *detail)
{
    return err_add(e, API_ERR_FORBIDDEN, field, NULL, detail);
}

int api_err_invalid(api_errors_t *e, const char *field, const char *value, const char *detail)
{
    return err_add_quoted(e, API_ERR_INVALID, field, value, detail);
}

int api_err_invalid_int(api_errors_t *e, const char *field, long long value, const char *detail)
{
    char repr[32];
    snprintf(repr, sizeof repr, "%lld", value);
    return err_add(e, API_ERR_INVALID, field, repr, detail);
}

int api_err_not_supported(api_errors_t *e, const char *field, const char *value,
                          const char *const *supported)
{
    sbuf_t d = {0};
    if (supported && *supported) {
        sb_puts(&d, "supported values: ");
        for (int i = 0; supported[i]; i++) {
            if (i) sb_puts(&d, ", ");
            go_quote(&d, supported[i]);
        }
    }
    char *detail = sb_take(&d);
    if (!detail) {
        e->oom = true;
        return -1;
    }
    int rc = err_add_quoted(e, API_ERR_NOT_SUPPORTED, field, value, detail);
    free(detail);
    return rc;
}

int api_err_duplicate(api_errors_t *e, const char *field, const char *value)
{
    return err_add_quoted(e, API_ERR_DUPLICATE, field, value, NULL);
}

int api_err_not_found(api_errors_t *e, const char *field, const char *value)
{
    return err_add_quoted(e, API_ERR_NOT_FOUND, field, value, NULL);
}

int api_err_too_long(api_errors_t *e, const char *field, long long max_bytes)
{
    char d[64];
    snprintf(d, sizeof d, "must have at most %lld bytes", max_bytes);
    return err_add(e, API_ERR_TOO_LONG, field, NULL, d);
}

char *api_errors_message(const api_errors_t *e)
{
    if (!e || e->n == 0) return NULL;
    sbuf_t b = {0};
    size_t shown = 0;
    for (size_t i = 0; i < e->n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(e->v[j].field, e->v[i].field) && !strcmp(e->v[j].body, e->v[i].body);
        if (seen) continue;
        if (shown++) sb_puts(&b, ", ");
        sb_printf(&b, "%s: %s", e->v[i].field, e->v[i].body);
    }
    char *msg = sb_take(&b);
    if (msg && shown > 1) {
        size_t n = strlen(msg);
        char *wrapped = malloc(n + 3);
        if (wrapped) {
            wrapped[0] = '[';
            memcpy(wrapped + 1, msg, n);
            wrapped[n + 1] = ']';
            wrapped[n + 2] = '\0';
        }
        free(msg);
        msg = wrapped;
    }
    return msg;
}

/* ----------------------------------------------------------------- Status */

static cJSON *status_base(const char *status)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "kind", "Status") ||
        !cJSON_AddStringToObject(o, "apiVersion", "v1") ||
        !cJSON_AddObjectToObject(o, "metadata") || !cJSON_AddStringToObject(o, "status", status)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static bool add_details(cJSON *o, const api_status_details_t *d)
{
    if (!d) return true;
    cJSON *det = cJSON_AddObjectToObject(o, "details");
    if (!det) return false;
    if (d->name && *d->name && !cJSON_AddStringToObject(det, "name", d->name)) return false;
    if (d->group && *d->group && !cJSON_AddStringToObject(det, "group", d->group)) return false;
    if (d->kind && *d->kind && !cJSON_AddStringToObject(det, "kind", d->kind)) return false;
    if (d->uid && *d->uid && !cJSON_AddStringToObject(det, "uid", d->uid)) return false;
    if (d->causes && d->causes->n) {
        cJSON *causes = cJSON_AddArrayToObject(det, "causes");
        if (!causes) return false;
        for (size_t i = 0; i < d->causes->n; i++) {
            const api_field_error_t *fe = &d->causes->v[i];
            cJSON *c = cJSON_CreateObject();
            if (!c || !cJSON_AddItemToArray(causes, c)) {
                cJSON_Delete(c);
                return false;
            }
            if (!cJSON_AddStringToObject(c, "reason", api_err_reason(fe->type)) ||
                !cJSON_AddStringToObject(c, "message", fe->body) ||
                !cJSON_AddStringToObject(c, "field", fe->field))
                return false;
        }
    }
    if (d->retry_after_seconds > 0 &&
        !cJSON_AddNumberToObject(det, "retryAfterSeconds", d->retry_after_seconds))
        return false;
    return true;
}

cJSON *api_status_error(int code, const char *reason, const char *message,
                        const api_status_details_t *details)
{
    cJSON *o = status_base("Failure");
    if (!o) return NULL;
    bool ok = (!message || cJSON_AddStringToObject(o, "message", message)) &&
              (!reason || !*reason || cJSON_AddStringToObject(o, "reason", reason)) &&
              add_details(o, details) && cJSON_AddNumberToObject(o, "code", code);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *api_status_success(const api_status_details_t *details)
{
    cJSON *o = status_base("Success");
    if (o && !add_details(o, details)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* "pods" or "deployments.apps", as schema.GroupResource.String() prints. */
static void qualified(char *buf, size_t len, const char *name, const char *group)
{
    if (group && *group)
        snprintf(buf, len, "%s.%s", name ? name : "", group);
    else
        snprintf(buf, len, "%s", name ? name : "");
}

/* `<what> "<name>" <tail>` with name quoted as Go's %q. */
static char *named_message(const char *what, const char *name, const char *tail)
{
    sbuf_t b = {0};
    sb_puts(&b, what);
    sb_putc(&b, ' ');
    go_quote(&b, name ? name : "");
    sb_puts(&b, tail);
    return sb_take(&b);
}

static cJSON *resource_status(int code, const char *reason, const char *group, const char *resource,
                              const char *name, const char *tail)
{
    char qr[160];
    qualified(qr, sizeof qr, resource, group);
    char *msg = named_message(qr, name, tail);
    if (!msg) return NULL;
    api_status_details_t d = {.name = name, .group = group, .kind = resource};
    cJSON *s = api_status_error(code, reason, msg, &d);
    free(msg);
    return s;
}

cJSON *api_status_not_found(const char *group, const char *resource, const char *name)
{
    return resource_status(404, "NotFound", group, resource, name, " not found");
}

cJSON *api_status_already_exists(const char *group, const char *resource, const char *name)
{
    return resource_status(409, "AlreadyExists", group, resource, name, " already exists");
}

cJSON *api_status_conflict(const char *group, const char *resource, const char *name,
                           const char *why)
{
    char qr[160];
    qualified(qr, sizeof qr, resource, group);
    sbuf_t b = {0};
    sb_printf(&b, "Operation cannot be fulfilled on %s ", qr);
    go_quote(&b, name ? name : "");
    sb_printf(&b, ": %s", why ? why : API_MSG_OBJECT_MODIFIED);
    char *msg = sb_take(&b);
    if (!msg) return NULL;
    api_status_details_t d = {.name = name, .group = group, .kind = resource};
    cJSON *s = api_status_error(409, "Conflict", msg, &d);
    free(msg);
    return s;
}

cJSON *api_status_invalid(const char *group, const char *kind, const char *name,
                          const api_errors_t *errs)
{
    char qk[160];
    qualified(qk, sizeof qk, kind, group);
    char *agg = api_errors_message(errs);
    sbuf_t b = {0};
    sb_puts(&b, qk);
    sb_putc(&b, ' ');
    go_quote(&b, name ? name : "");
    sb_puts(&b, " is invalid");
    if (agg) sb_printf(&b, ": %s", agg);
    free(agg);
    char *msg = sb_take(&b);
    if (!msg) return NULL;
    api_status_details_t d = {.name = name, .group = group, .kind = kind, .causes = errs};
    cJSON *s = api_status_error(422, "Invalid", msg, &d);
    free(msg);
    return s;
}

cJSON *api_status_bad_request(const char *message)
{
    return api_status_error(400, "BadRequest", message, NULL);
}

cJSON *api_status_method_not_allowed(const char *group, const char *resource, const char *verb)
{
    char qr[160];
    qualified(qr, sizeof qr, resource, group);
    sbuf_t b = {0};
    sb_printf(&b, "%s is not supported on resources of kind ", verb ? verb : "");
    go_quote(&b, qr);
    char *msg = sb_take(&b);
    if (!msg) return NULL;
    api_status_details_t d = {.group = group, .kind = resource};
    cJSON *s = api_status_error(405, "MethodNotAllowed", msg, &d);
    free(msg);
    return s;
}

cJSON *api_status_expired(const char *message)
{
    return api_status_error(410, "Expired", message, NULL);
}

cJSON *api_status_gone(const char *message)
{
    return api_status_error(410, "Gone", message, NULL);
}

cJSON *api_status_unauthorized(const char *message)
{
    return api_status_error(401, "Unauthorized", message ? message : "Unauthorized", NULL);
}

cJSON *api_status_forbidden(const char *group, const char *resource, const char *name,
                            const char *why)
{
    char qr[160];
    qualified(qr, sizeof qr, resource, group);
    sbuf_t b = {0};
    if (!resource || !*resource)
        sb_printf(&b, "forbidden: %s", why ? why : "");
    else if (!name || !*name)
        sb_printf(&b, "%s is forbidden: %s", qr, why ? why : "");
    else {
        sb_puts(&b, qr);
        sb_putc(&b, ' ');
        go_quote(&b, name);
        sb_printf(&b, " is forbidden: %s", why ? why : "");
    }
    char *msg = sb_take(&b);
    if (!msg) return NULL;
    api_status_details_t d = {.name = name, .group = group, .kind = resource};
    cJSON *s = api_status_error(403, "Forbidden", msg, &d);
    free(msg);
    return s;
}

static cJSON *prefixed(int code, const char *reason, const char *prefix, const char *message,
                       const api_status_details_t *d)
{
    sbuf_t b = {0};
    sb_printf(&b, "%s%s", prefix, message ? message : "");
    char *msg = sb_take(&b);
    if (!msg) return NULL;
    cJSON *s = api_status_error(code, reason, msg, d);
    free(msg);
    return s;
}

cJSON *api_status_too_large(const char *message)
{
    return prefixed(413, "RequestEntityTooLarge", "Request entity too large: ", message, NULL);
}

cJSON *api_status_unavailable(const char *message)
{
    return api_status_error(503, "ServiceUnavailable", message, NULL);
}

cJSON *api_status_internal(const char *message)
{
    cJSON *s = prefixed(500, "InternalError", "Internal error occurred: ", message, NULL);
    if (!s) return NULL;
    /* Kubernetes repeats the error as a cause without field or reason, in
     * details, which it writes before the code. */
    cJSON_DeleteItemFromObjectCaseSensitive(s, "code");
    cJSON *det = cJSON_AddObjectToObject(s, "details");
    cJSON *causes = det ? cJSON_AddArrayToObject(det, "causes") : NULL;
    cJSON *c = causes ? cJSON_CreateObject() : NULL;
    bool ok = c && cJSON_AddItemToArray(causes, c);
    if (c && !ok) cJSON_Delete(c);
    ok = ok && cJSON_AddStringToObject(c, "message", message ? message : "") &&
         cJSON_AddNumberToObject(s, "code", 500);
    if (!ok) {
        cJSON_Delete(s);
        return NULL;
    }
    return s;
}

cJSON *api_status_timeout(const char *message, int retry_after_seconds)
{
    api_status_details_t d = {.retry_after_seconds = retry_after_seconds};
    return prefixed(504, "Timeout", "Timeout: ", message, &d);
}

/* ------------------------------------------------------------------ Scale */

cJSON *api_scale_of(const api_resource_t *r, const cJSON *obj)
{
    if (!r || !(r->subresources & API_SUB_SCALE)) return NULL;
    const cJSON *spec = j_get(obj, "spec");
    char err[128];
    /* apps/v1 selectors are LabelSelectors, an RC's a plain label map. */
    api_selector_t *sel = !strcmp(r->kind, "ReplicationController")
                              ? api_selector_from_map(j_get(spec, "selector"))
                              : api_selector_from_json(j_get(spec, "selector"), err, sizeof err);
    char *sel_str = sel ? api_selector_string(sel) : NULL;
    api_selector_free(sel);
    cJSON *s = cJSON_CreateObject();
    cJSON *meta = s ? cJSON_CreateObject() : NULL;
    bool ok = meta && cJSON_AddStringToObject(s, "kind", "Scale") &&
              cJSON_AddStringToObject(s, "apiVersion", "autoscaling/v1") &&
              cJSON_AddItemToObject(s, "metadata", meta);
    if (meta && !ok && !cJSON_GetObjectItem(s, "metadata")) cJSON_Delete(meta);
    static const char *const fields[] = {
        "name", "namespace", "uid", "resourceVersion", "creationTimestamp", NULL};
    for (int i = 0; ok && fields[i]; i++) {
        const char *v = api_meta_str(obj, fields[i]);
        if (v) ok = cJSON_AddStringToObject(meta, fields[i], v) != NULL;
    }
    cJSON *sspec = ok ? cJSON_AddObjectToObject(s, "spec") : NULL;
    cJSON *sst = sspec ? cJSON_AddObjectToObject(s, "status") : NULL;
    ok = sst && cJSON_AddNumberToObject(sspec, "replicas", (double)j_int(spec, "replicas", 0)) &&
         cJSON_AddNumberToObject(sst, "replicas",
                                 (double)j_int(j_get(obj, "status"), "replicas", 0)) &&
         cJSON_AddStringToObject(sst, "selector", sel_str ? sel_str : "");
    free(sel_str);
    if (!ok) {
        cJSON_Delete(s);
        return NULL;
    }
    return s;
}
