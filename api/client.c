/*
 * client.c - requests to the Kubernetes API: paths from the resource table,
 * query options, asynchronous verbs on lib/'s HTTP client, blocking verbs on
 * http_fetch for command-line tools, and results with the metav1.Status
 * message a user should read.
 *
 * Fail-over between API server URLs belongs to lib/'s HTTP client: it moves
 * on to the next URL when a connection is refused or fails before any
 * response byte, so a request is never sent twice to servers that both
 * might have applied it. A server that answered with an error (a 503 from a
 * member without quorum, say) is an answer, and is reported as such.
 */
#include "api/client_int.h"

#include <stdlib.h>
#include <string.h>

struct api_client {
    uv_loop_t *loop;
    http_client_t *http;
    unsigned timeout_ms;
};

/* ------------------------------------------------------------------ paths */

static void put_escaped(char **buf, size_t *n, size_t *cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (*n + 4 >= *cap) {
            *cap = *cap * 2 + 64;
            *buf = cl_realloc(*buf, *cap);
        }
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            (*buf)[(*n)++] = (char)ch;
        } else {
            (*buf)[(*n)++] = '%';
            (*buf)[(*n)++] = hex[ch >> 4];
            (*buf)[(*n)++] = hex[ch & 15];
        }
    }
    (*buf)[*n] = '\0';
}

static void put_raw(char **buf, size_t *n, size_t *cap, const char *s)
{
    size_t l = strlen(s);
    if (*n + l + 1 > *cap) {
        *cap = *n + l + 64;
        *buf = cl_realloc(*buf, *cap);
    }
    memcpy(*buf + *n, s, l + 1);
    *n += l;
}

struct qb {
    char *buf;
    size_t n, cap;
    bool any;
};

static void q_param(struct qb *q, const char *name, const char *value)
{
    if (!value) return;
    put_raw(&q->buf, &q->n, &q->cap, q->any ? "&" : "?");
    put_raw(&q->buf, &q->n, &q->cap, name);
    put_raw(&q->buf, &q->n, &q->cap, "=");
    put_escaped(&q->buf, &q->n, &q->cap, value);
    q->any = true;
}

static void q_long(struct qb *q, const char *name, long v)
{
    char num[32];
    snprintf(num, sizeof(num), "%ld", v);
    q_param(q, name, num);
}

static void add_query(struct qb *q, const api_opts_t *o)
{
    if (!o) return;
    if (o->label_selector && *o->label_selector) q_param(q, "labelSelector", o->label_selector);
    if (o->field_selector && *o->field_selector) q_param(q, "fieldSelector", o->field_selector);
    if (o->limit > 0) q_long(q, "limit", o->limit);
    if (o->continue_ && *o->continue_) q_param(q, "continue", o->continue_);
    if (o->resource_version) q_param(q, "resourceVersion", o->resource_version);
    q_param(q, "resourceVersionMatch", o->resource_version_match);
    if (o->watch) q_param(q, "watch", "true");
    if (o->allow_watch_bookmarks) q_param(q, "allowWatchBookmarks", "true");
    if (o->timeout_seconds > 0) q_long(q, "timeoutSeconds", o->timeout_seconds);
    q_param(q, "fieldManager", o->field_manager);
    if (o->force) q_param(q, "force", "true");
    if (o->dry_run) q_param(q, "dryRun", "All");
    q_param(q, "propagationPolicy", o->propagation_policy);
    if (o->has_grace_period) q_long(q, "gracePeriodSeconds", o->grace_period_seconds);
    if (o->extra_query && *o->extra_query) {
        const char *e = o->extra_query[0] == '?' || o->extra_query[0] == '&' ? o->extra_query + 1
                                                                             : o->extra_query;
        put_raw(&q->buf, &q->n, &q->cap, q->any ? "&" : "?");
        put_raw(&q->buf, &q->n, &q->cap, e);
        q->any = true;
    }
}

static const api_resource_t *resolve(const api_ref_t *ref, char *err, size_t errlen)
{
    const char *group = ref->group ? ref->group : "";
    const api_resource_t *r = NULL;
    if (!ref->resource || !*ref->resource) {
        snprintf(err, errlen, "no resource type given");
        return NULL;
    }
    if (ref->version) {
        r = api_resource_lookup(group, ref->version, ref->resource);
    } else {
        for (size_t i = 0; i < api_resource_count() && !r; i++) {
            const api_resource_t *x = api_resource_at(i);
            if (!strcmp(x->group, group) && !strcmp(x->resource, ref->resource)) r = x;
        }
    }
    if (!r) {
        if (*group)
            snprintf(err, errlen, "the server doesn't have a resource type \"%s\" in group \"%s\"",
                     ref->resource, group);
        else
            snprintf(err, errlen, "the server doesn't have a resource type \"%s\"", ref->resource);
    }
    return r;
}

char *api_path(const api_ref_t *ref, const api_opts_t *opts, char *err, size_t errlen)
{
    const api_resource_t *r = resolve(ref, err, errlen);
    if (!r) return NULL;
    bool has_name = ref->name && *ref->name;
    if (ref->subresource && *ref->subresource) {
        if (!api_subresource_lookup(r, ref->subresource)) {
            snprintf(err, errlen, "%s has no subresource \"%s\"", r->resource, ref->subresource);
            return NULL;
        }
        if (!has_name) {
            snprintf(err, errlen, "%s/%s: a name is required", r->resource, ref->subresource);
            return NULL;
        }
    }
    bool has_ns = r->namespaced && ref->ns && *ref->ns;
    if (r->namespaced && has_name && !has_ns) {
        snprintf(err, errlen, "%s \"%s\": a namespace is required", r->resource, ref->name);
        return NULL;
    }
    struct qb q = {.cap = 128};
    q.buf = cl_malloc(q.cap);
    q.buf[0] = '\0';
    if (*r->group) {
        put_raw(&q.buf, &q.n, &q.cap, "/apis/");
        put_raw(&q.buf, &q.n, &q.cap, r->group);
        put_raw(&q.buf, &q.n, &q.cap, "/");
    } else {
        put_raw(&q.buf, &q.n, &q.cap, "/api/");
    }
    put_raw(&q.buf, &q.n, &q.cap, r->version);
    if (has_ns) {
        put_raw(&q.buf, &q.n, &q.cap, "/namespaces/");
        put_escaped(&q.buf, &q.n, &q.cap, ref->ns);
    }
    put_raw(&q.buf, &q.n, &q.cap, "/");
    put_raw(&q.buf, &q.n, &q.cap, r->resource);
    if (has_name) {
        put_raw(&q.buf, &q.n, &q.cap, "/");
        put_escaped(&q.buf, &q.n, &q.cap, ref->name);
        if (ref->subresource && *ref->subresource) {
            put_raw(&q.buf, &q.n, &q.cap, "/");
            put_raw(&q.buf, &q.n, &q.cap, ref->subresource);
        }
    }
    add_query(&q, opts);
    return q.buf;
}

const char *api_patch_content_type(enum api_patch_type t)
{
    switch (t) {
    case API_PATCH_STRATEGIC:
        return "application/strategic-merge-patch+json";
    case API_PATCH_JSON:
        return "application/json-patch+json";
    case API_PATCH_APPLY:
        return "application/apply-patch+yaml";
    case API_PATCH_MERGE:
    default:
        return "application/merge-patch+json";
    }
}

/* ---------------------------------------------------------------- results */

struct result_priv {
    char *message;
    char *reason;
    char *owned; /* http_fetch's block (body, content type, url), or NULL */
};

bool api_result_ok(const api_result_t *r)
{
    return r && r->err == 0 && r->status >= 200 && r->status < 300;
}

/* The body as one short line, for errors without a Status. */
static char *body_excerpt(const char *body, size_t len)
{
    size_t n = len > 200 ? 200 : len;
    char *s = cl_strndup(body, n);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n' || s[i] == '\r' || s[i] == '\t') s[i] = ' ';
    while (n && s[n - 1] == ' ')
        s[--n] = '\0';
    return s;
}

static const char *str_member(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void client_result_fill(api_result_t *out, int err, int status, const char *content_type,
                        const char *body, size_t len, const char *url)
{
    struct result_priv *p = cl_calloc(1, sizeof(*p));
    memset(out, 0, sizeof(*out));
    out->priv_ = p;
    out->err = err;
    out->status = err ? 0 : status;
    out->code = out->status;
    out->body = body ? body : "";
    out->len = body ? len : 0;
    out->content_type = content_type ? content_type : "";
    out->url = url ? url : "";
    if (!err && len) {
        size_t i = 0;
        while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
            i++;
        if (i < len && (body[i] == '{' || body[i] == '['))
            out->obj = cJSON_ParseWithLength(body, len);
    }
    if (err) {
        if (err == UV_ECANCELED)
            p->message = cl_strdup("request cancelled");
        else if (err == UV_ETIMEDOUT)
            p->message = cl_printf("the API server at %s did not answer in time", out->url);
        else
            p->message =
                cl_printf("cannot reach the API server at %s: %s", out->url, uv_strerror(err));
    } else if (status < 200 || status >= 300) {
        const char *kind = str_member(out->obj, "kind");
        const char *msg = str_member(out->obj, "message");
        if (kind && !strcmp(kind, "Status")) {
            const char *reason = str_member(out->obj, "reason");
            const cJSON *code = cJSON_GetObjectItemCaseSensitive(out->obj, "code");
            if (reason) p->reason = cl_strdup(reason);
            if (cJSON_IsNumber(code)) out->code = code->valueint;
        }
        if (msg && *msg) {
            p->message = cl_strdup(msg);
        } else if (len) {
            char *ex = body_excerpt(body, len);
            p->message = cl_printf("HTTP %d from %s: %s", status, out->url, ex);
            free(ex);
        } else {
            p->message = cl_printf("HTTP %d from %s", status, out->url);
        }
    }
    out->message = p->message ? p->message : "";
    out->reason = p->reason ? p->reason : "";
}

void api_result_free(api_result_t *r)
{
    if (!r) return;
    struct result_priv *p = r->priv_;
    cJSON_Delete(r->obj);
    if (p) {
        free(p->message);
        free(p->reason);
        free(p->owned);
        free(p);
    }
    memset(r, 0, sizeof(*r));
    r->body = r->content_type = r->message = r->reason = r->url = "";
}

/* ----------------------------------------------------------------- client */

api_client_t *api_client_new(uv_loop_t *loop, const char *urls, const char *token)
{
    http_client_t *h = http_client_new(loop, urls, token);
    if (!h) return NULL;
    api_client_t *c = cl_calloc(1, sizeof(*c));
    c->loop = loop;
    c->http = h;
    return c;
}

void api_client_free(api_client_t *c)
{
    if (!c) return;
    http_client_free(c->http);
    free(c);
}

void api_client_set_timeout(api_client_t *c, unsigned timeout_ms)
{
    c->timeout_ms = timeout_ms;
}

unsigned client_timeout(const api_client_t *c)
{
    return c->timeout_ms;
}

http_client_t *api_client_http(api_client_t *c)
{
    return c->http;
}

uv_loop_t *api_client_loop(api_client_t *c)
{
    return c->loop;
}

struct call {
    api_result_fn cb;
    void *data;
};

static void on_http(const http_response_t *res, void *data)
{
    struct call *k = data;
    api_result_t r;
    client_result_fill(&r, res->err, res->status, res->content_type, res->body, res->len, res->url);
    k->cb(&r, k->data);
    api_result_free(&r);
    free(k);
}

static char *accept_header(const api_opts_t *opts)
{
    return cl_printf("Accept: %s\r\n", opts && opts->accept ? opts->accept : "application/json");
}

int api_request(api_client_t *c, const char *method, const char *path_query,
                const char *content_type, const char *body, size_t len, const api_opts_t *opts,
                api_result_fn cb, void *data)
{
    if (!c || !cb) return UV_EINVAL;
    struct call *k = cl_malloc(sizeof(*k));
    k->cb = cb;
    k->data = data;
    char *hdr = accept_header(opts);
    unsigned timeout = opts && opts->timeout_ms ? opts->timeout_ms : c->timeout_ms;
    int rc = http_client_request_ex(c->http, method, path_query, hdr, content_type, body, len,
                                    timeout, on_http, k);
    free(hdr);
    if (rc < 0) free(k);
    return rc;
}

/* Sends method on ref with body (may be NULL) serialized as JSON. */
static int call_ref(api_client_t *c, const char *method, const api_ref_t *ref,
                    const api_opts_t *opts, const char *content_type, const cJSON *body,
                    api_result_fn cb, void *data)
{
    char err[256];
    char *path = api_path(ref, opts, err, sizeof(err));
    if (!path) {
        log_error("api", "%s: %s", method, err);
        return UV_EINVAL;
    }
    char *text = NULL;
    if (body) {
        text = cJSON_PrintUnformatted(body);
        if (!text) {
            free(path);
            return UV_ENOMEM;
        }
    }
    int rc = api_request(c, method, path, text ? content_type : NULL, text, text ? strlen(text) : 0,
                         opts, cb, data);
    free(text);
    free(path);
    return rc;
}

/* ref with the namespace (and name) of obj filled in where ref has none. */
static api_ref_t ref_for_object(const api_ref_t *ref, const cJSON *obj, bool take_name)
{
    api_ref_t r = *ref;
    if (!r.ns || !*r.ns) r.ns = api_meta_namespace(obj);
    if (take_name && (!r.name || !*r.name)) r.name = api_meta_name(obj);
    return r;
}

int api_get(api_client_t *c, const api_ref_t *ref, const api_opts_t *opts, api_result_fn cb,
            void *data)
{
    if (!ref->name || !*ref->name) {
        log_error("api", "get %s: a name is required", ref->resource ? ref->resource : "");
        return UV_EINVAL;
    }
    return call_ref(c, "GET", ref, opts, NULL, NULL, cb, data);
}

int api_list(api_client_t *c, const api_ref_t *ref, const api_opts_t *opts, api_result_fn cb,
             void *data)
{
    api_ref_t r = *ref;
    r.name = NULL;
    r.subresource = NULL;
    return call_ref(c, "GET", &r, opts, NULL, NULL, cb, data);
}

int api_create(api_client_t *c, const api_ref_t *ref, const cJSON *obj, const api_opts_t *opts,
               api_result_fn cb, void *data)
{
    /* A create names its collection, except for subresources (binding,
     * eviction) which belong to the named object. */
    api_ref_t r = ref_for_object(ref, obj, false);
    if (!r.subresource) r.name = NULL;
    if (!r.name && !r.subresource) {
        char err[256];
        const api_resource_t *res = resolve(&r, err, sizeof(err));
        if (res && res->namespaced && (!r.ns || !*r.ns)) {
            log_error("api", "create %s: a namespace is required", res->resource);
            return UV_EINVAL;
        }
    }
    return call_ref(c, "POST", &r, opts, "application/json", obj, cb, data);
}

int api_update(api_client_t *c, const api_ref_t *ref, const cJSON *obj, const api_opts_t *opts,
               api_result_fn cb, void *data)
{
    api_ref_t r = ref_for_object(ref, obj, true);
    if (!r.name || !*r.name) {
        log_error("api", "update %s: a name is required", ref->resource ? ref->resource : "");
        return UV_EINVAL;
    }
    return call_ref(c, "PUT", &r, opts, "application/json", obj, cb, data);
}

int api_patch(api_client_t *c, const api_ref_t *ref, enum api_patch_type type, const cJSON *patch,
              const api_opts_t *opts, api_result_fn cb, void *data)
{
    if (!ref->name || !*ref->name) {
        log_error("api", "patch %s: a name is required", ref->resource ? ref->resource : "");
        return UV_EINVAL;
    }
    return call_ref(c, "PATCH", ref, opts, api_patch_content_type(type), patch, cb, data);
}

int api_delete(api_client_t *c, const api_ref_t *ref, const cJSON *delete_options,
               const api_opts_t *opts, api_result_fn cb, void *data)
{
    return call_ref(c, "DELETE", ref, opts, "application/json", delete_options, cb, data);
}

/* --------------------------------------------------------------- blocking */

static void result_error(api_result_t *out, int err, const char *message)
{
    client_result_fill(out, err, 0, "", "", 0, "");
    struct result_priv *p = out->priv_;
    free(p->message);
    p->message = cl_strdup(message);
    out->message = p->message;
}

int api_fetch_path(const api_conn_t *conn, const char *method, const char *path_query,
                   const char *content_type, const char *body, size_t len, const api_opts_t *opts,
                   api_result_t *out)
{
    http_response_t h;
    char *hdr = accept_header(opts);
    unsigned timeout = opts && opts->timeout_ms ? opts->timeout_ms : conn->timeout_ms;
    http_fetch_ex(conn->urls, conn->token, method, path_query, hdr, content_type, body, len,
                  timeout, &h);
    free(hdr);
    client_result_fill(out, h.err, h.status, h.content_type, h.body, h.len, h.url);
    ((struct result_priv *)out->priv_)->owned = (char *)h.body;
    if (h.err == UV_EINVAL && h.status == 0) {
        struct result_priv *p = out->priv_;
        free(p->message);
        p->message = cl_printf("bad API server URL(s): %s", conn->urls ? conn->urls : "(none)");
        out->message = p->message;
    }
    return out->err;
}

int api_fetch(const api_conn_t *conn, const char *method, const api_ref_t *ref,
              const api_opts_t *opts, const char *content_type, const cJSON *body,
              api_result_t *out)
{
    char err[256];
    api_ref_t r = *ref;
    bool post = !strcmp(method, "POST"), put = !strcmp(method, "PUT");
    if (body && (post || put)) r = ref_for_object(ref, body, put);
    if (post && !r.subresource) r.name = NULL;
    char *path = api_path(&r, opts, err, sizeof(err));
    if (!path) {
        result_error(out, UV_EINVAL, err);
        return out->err;
    }
    char *text = NULL;
    if (body && !(text = cJSON_PrintUnformatted(body))) {
        free(path);
        result_error(out, UV_ENOMEM, "out of memory");
        return out->err;
    }
    if (text && !content_type) content_type = "application/json";
    api_fetch_path(conn, method, path, text ? content_type : NULL, text, text ? strlen(text) : 0,
                   opts, out);
    free(text);
    free(path);
    return out->err;
}

/* ------------------------------------------------------------------- trim */

cJSON *api_json_keep(const cJSON *obj, const char *const *paths, size_t n_paths)
{
    cJSON *out = cJSON_CreateObject();
    if (!out) return NULL;
    for (size_t i = 0; i < n_paths; i++) {
        const char *p = paths[i];
        const cJSON *src = obj;
        cJSON *dst = out;
        while (p && *p && src) {
            const char *dot = strchr(p, '.');
            size_t n = dot ? (size_t)(dot - p) : strlen(p);
            char key[128];
            if (n >= sizeof(key)) break;
            memcpy(key, p, n);
            key[n] = '\0';
            src = cJSON_IsObject(src) ? cJSON_GetObjectItemCaseSensitive(src, key) : NULL;
            if (!src) break;
            cJSON *have = cJSON_GetObjectItemCaseSensitive(dst, key);
            if (!dot) {
                if (!have) {
                    cJSON *copy = cJSON_Duplicate(src, true);
                    if (!copy || !cJSON_AddItemToObject(dst, key, copy)) {
                        cJSON_Delete(copy);
                        cJSON_Delete(out);
                        return NULL;
                    }
                }
                break;
            }
            if (!cJSON_IsObject(src)) break;
            if (!have) {
                have = cJSON_AddObjectToObject(dst, key);
                if (!have) {
                    cJSON_Delete(out);
                    return NULL;
                }
            } else if (!cJSON_IsObject(have)) {
                break; /* a whole parent was kept already */
            }
            dst = have;
            p = dot + 1;
        }
    }
    return out;
}
