/*
 * fakeapi.h - a small fake Kubernetes API server for the client tests, on
 * lib's http_server: CRUD with Kubernetes' Status errors (404, 409), lists
 * with limit/continue and labelSelector, and watches replaying an event log
 * from a resourceVersion. A "compacted" revision makes older watches fail
 * with 410, either as the HTTP status or as an ERROR event (gone_mode), as
 * the real API server does in both places. Tests change objects through
 * fake_put / fake_delete, which record events and stream them to watchers.
 * Everything runs on the test's loop; fake_thread_* run one on a thread for
 * the blocking client.
 */
#ifndef FAKEAPI_H
#define FAKEAPI_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/api.h"
#include "lib/lib.h"

#define FAKE_MAX_WATCHERS 16
#define FAKE_FN static __attribute__((unused))

struct fevent {
    long rv;
    char *res, *ns;
    char *line; /* {"type":..,"object":..}\n */
};

enum fake_gone { FAKE_GONE_EVENT, FAKE_GONE_HTTP };

struct fake {
    uv_loop_t *loop;
    http_server_t *srv;
    int port;
    long rv;
    long compacted; /* watches from below this get 410 */
    enum fake_gone gone_mode;
    cJSON *store; /* [{"r": resource, "o": object}] */
    struct fevent *ev;
    size_t nev, capev;
    struct {
        http_req_t *req;
        char res[64], ns[64];
    } w[FAKE_MAX_WATCHERS];
    int lists, watches, requests;
    char last_method[16], last_path[256], last_query[512], last_ct[128], last_auth[256];
    char last_accept[128];
    char *last_body;
};

FAKE_FN char *fake_str(const char *s)
{
    return strdup(s ? s : "");
}

FAKE_FN void fake_reply_json(http_req_t *req, int status, cJSON *obj)
{
    char *s = cJSON_PrintUnformatted(obj);
    http_respond(req, status, "application/json", s, strlen(s));
    free(s);
    cJSON_Delete(obj);
}

FAKE_FN cJSON *fake_find(struct fake *f, const char *res, const char *ns, const char *name,
                         int *idx)
{
    int i = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, f->store)
    {
        cJSON *o = cJSON_GetObjectItem(e, "o");
        const char *ons = api_meta_namespace(o);
        if (!strcmp(cJSON_GetObjectItem(e, "r")->valuestring, res) &&
            !strcmp(ons ? ons : "", ns ? ns : "") && !strcmp(api_meta_name(o), name)) {
            if (idx) *idx = i;
            return o;
        }
        i++;
    }
    return NULL;
}

FAKE_FN void fake_emit(struct fake *f, const char *res, const char *ns, const char *type,
                       const cJSON *obj)
{
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "type", type);
    cJSON_AddItemToObject(ev, "object", cJSON_Duplicate(obj, true));
    char *s = cJSON_PrintUnformatted(ev);
    cJSON_Delete(ev);
    size_t n = strlen(s);
    char *line = malloc(n + 2);
    memcpy(line, s, n);
    line[n] = '\n';
    line[n + 1] = '\0';
    free(s);
    if (f->nev == f->capev) {
        f->capev = f->capev ? f->capev * 2 : 64;
        f->ev = realloc(f->ev, f->capev * sizeof(*f->ev));
    }
    f->ev[f->nev++] = (struct fevent){f->rv, fake_str(res), fake_str(ns), line};
    for (int i = 0; i < FAKE_MAX_WATCHERS; i++)
        if (f->w[i].req && !strcmp(f->w[i].res, res) && (!f->w[i].ns[0] || !strcmp(f->w[i].ns, ns)))
            http_stream_write(f->w[i].req, line, n + 1);
}

FAKE_FN void fake_stamp(struct fake *f, cJSON *o)
{
    char rv[32];
    snprintf(rv, sizeof(rv), "%ld", ++f->rv);
    api_meta_set_str(o, "resourceVersion", rv);
}

/* Creates or replaces an object (takes obj) and records the event. */
FAKE_FN void fake_put(struct fake *f, const char *res, cJSON *obj)
{
    const char *ns = api_meta_namespace(obj);
    int idx;
    cJSON *old = fake_find(f, res, ns, api_meta_name(obj), &idx);
    fake_stamp(f, obj);
    if (old) {
        cJSON_ReplaceItemInObject(cJSON_GetArrayItem(f->store, idx), "o", obj);
    } else {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "r", res);
        cJSON_AddItemToObject(e, "o", obj);
        cJSON_AddItemToArray(f->store, e);
    }
    fake_emit(f, res, ns ? ns : "", old ? "MODIFIED" : "ADDED", obj);
}

/* A pod-like object {"metadata":{name, namespace, labels:{app}}, "spec":{...}}. */
FAKE_FN cJSON *fake_obj(const char *ns, const char *name, const char *app, const char *node)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "Pod");
    cJSON_AddStringToObject(o, "apiVersion", "v1");
    api_meta_set_str(o, "name", name);
    if (ns) api_meta_set_str(o, "namespace", ns);
    if (app) api_meta_set_label(o, "app", app);
    cJSON *spec = cJSON_AddObjectToObject(o, "spec");
    if (node) cJSON_AddStringToObject(spec, "nodeName", node);
    cJSON_AddStringToObject(spec, "big", "a field a trimmed cache does not keep");
    return o;
}

FAKE_FN bool fake_delete(struct fake *f, const char *res, const char *ns, const char *name)
{
    int idx;
    cJSON *o = fake_find(f, res, ns, name, &idx);
    if (!o) return false;
    cJSON *gone = cJSON_DetachItemFromArray(f->store, idx);
    cJSON *obj = cJSON_GetObjectItem(gone, "o");
    fake_stamp(f, obj);
    fake_emit(f, res, ns ? ns : "", "DELETED", obj);
    cJSON_Delete(gone);
    return true;
}

/* Forget the history: watches from before now get 410. */
FAKE_FN void fake_compact(struct fake *f)
{
    f->compacted = f->rv + 1;
}

/* Ends every watch stream cleanly (as a server-side timeout does). */
FAKE_FN void fake_end_watches(struct fake *f)
{
    for (int i = 0; i < FAKE_MAX_WATCHERS; i++) {
        if (!f->w[i].req) continue;
        http_req_t *r = f->w[i].req;
        f->w[i].req = NULL;
        http_stream_end(r);
    }
}

/* Sends every watcher an ERROR event with code 410 and ends the stream. */
FAKE_FN void fake_expire_watches(struct fake *f)
{
    const char *line = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                       "\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource "
                       "version: 1 (99)\",\"reason\":\"Expired\",\"code\":410}}\n";
    for (int i = 0; i < FAKE_MAX_WATCHERS; i++)
        if (f->w[i].req) http_stream_write(f->w[i].req, line, strlen(line));
    fake_end_watches(f);
}

FAKE_FN void fake_watch_closed(http_req_t *req, void *arg)
{
    struct fake *f = arg;
    for (int i = 0; i < FAKE_MAX_WATCHERS; i++)
        if (f->w[i].req == req) {
            f->w[i].req = NULL;
            http_stream_end(req);
        }
}

FAKE_FN void fake_watch(struct fake *f, http_req_t *req, const api_route_t *rt)
{
    f->watches++;
    const char *rvs = http_req_query(req, "resourceVersion");
    long from = rvs && *rvs ? atol(rvs) : f->rv;
    if (from < f->compacted - 1) {
        char msg[128];
        snprintf(msg, sizeof(msg), "too old resource version: %ld (%ld)", from, f->compacted);
        if (f->gone_mode == FAKE_GONE_HTTP) {
            fake_reply_json(req, 410, api_status_expired(msg));
            return;
        }
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddStringToObject(ev, "type", "ERROR");
        cJSON_AddItemToObject(ev, "object", api_status_expired(msg));
        char *s = cJSON_PrintUnformatted(ev);
        cJSON_Delete(ev);
        http_stream_begin(req, 200, "application/json");
        http_stream_write(req, s, strlen(s));
        http_stream_write(req, "\n", 1);
        free(s);
        http_stream_end(req);
        return;
    }
    int slot = -1;
    for (int i = 0; i < FAKE_MAX_WATCHERS && slot < 0; i++)
        if (!f->w[i].req) slot = i;
    if (slot < 0) {
        fake_reply_json(req, 503, api_status_unavailable("too many watches"));
        return;
    }
    http_stream_begin(req, 200, "application/json");
    for (size_t i = 0; i < f->nev; i++)
        if (f->ev[i].rv > from && !strcmp(f->ev[i].res, rt->res->resource) &&
            (!rt->ns[0] || !strcmp(f->ev[i].ns, rt->ns)))
            http_stream_write(req, f->ev[i].line, strlen(f->ev[i].line));
    f->w[slot].req = req;
    snprintf(f->w[slot].res, sizeof(f->w[slot].res), "%s", rt->res->resource);
    snprintf(f->w[slot].ns, sizeof(f->w[slot].ns), "%s", rt->ns);
    http_req_on_close(req, fake_watch_closed, f);
}

FAKE_FN void fake_list(struct fake *f, http_req_t *req, const api_route_t *rt)
{
    f->lists++;
    const char *cont = http_req_query(req, "continue"), *lim = http_req_query(req, "limit");
    const char *ls = http_req_query(req, "labelSelector");
    if (cont && !strcmp(cont, "expired")) {
        fake_reply_json(req, 410, api_status_expired("The provided continue parameter is too old"));
        return;
    }
    char err[128];
    api_selector_t *sel = api_selector_parse(ls ? ls : "", err, sizeof(err));
    long start = cont ? atol(cont) : 0, limit = lim ? atol(lim) : 0, i = 0, n = 0;
    cJSON *list = cJSON_CreateObject(), *items = cJSON_CreateArray(), *e;
    cJSON_AddStringToObject(list, "kind", rt->res->list_kind);
    cJSON_AddStringToObject(list, "apiVersion", rt->res->group_version);
    cJSON *meta = cJSON_AddObjectToObject(list, "metadata");
    char rv[32];
    snprintf(rv, sizeof(rv), "%ld", f->rv);
    cJSON_AddStringToObject(meta, "resourceVersion", rv);
    cJSON_ArrayForEach(e, f->store)
    {
        cJSON *o = cJSON_GetObjectItem(e, "o");
        const char *ons = api_meta_namespace(o);
        if (strcmp(cJSON_GetObjectItem(e, "r")->valuestring, rt->res->resource)) continue;
        if (rt->ns[0] && strcmp(ons ? ons : "", rt->ns)) continue;
        if (sel && !api_selector_matches(sel, api_meta_labels(o))) continue;
        if (i++ < start) continue;
        if (limit && n == limit) {
            char c[32];
            snprintf(c, sizeof(c), "%ld", i - 1);
            cJSON_AddStringToObject(meta, "continue", c);
            break;
        }
        cJSON *copy = cJSON_Duplicate(o, true);
        cJSON_DeleteItemFromObject(copy, "kind");
        cJSON_DeleteItemFromObject(copy, "apiVersion");
        cJSON_AddItemToArray(items, copy);
        n++;
    }
    api_selector_free(sel);
    cJSON_AddItemToObject(list, "items", items);
    fake_reply_json(req, 200, list);
}

FAKE_FN void fake_handler(http_req_t *req, void *data)
{
    struct fake *f = data;
    f->requests++;
    const char *m = http_req_method(req), *path = http_req_path(req);
    const char *ct = http_req_header(req, "Content-Type"),
               *au = http_req_header(req, "Authorization");
    const char *ac = http_req_header(req, "Accept");
    size_t blen;
    const char *body = http_req_body(req, &blen);
    snprintf(f->last_method, sizeof(f->last_method), "%s", m);
    snprintf(f->last_path, sizeof(f->last_path), "%s", path);
    snprintf(f->last_query, sizeof(f->last_query), "%s", http_req_raw_query(req));
    snprintf(f->last_ct, sizeof(f->last_ct), "%s", ct ? ct : "");
    snprintf(f->last_auth, sizeof(f->last_auth), "%s", au ? au : "");
    snprintf(f->last_accept, sizeof(f->last_accept), "%s", ac ? ac : "");
    free(f->last_body);
    f->last_body = strdup(body);
    if (!strcmp(path, "/plain")) {
        http_respond(req, 502, "text/plain", "upstream\nbroken\n", 16);
        return;
    }
    api_route_t rt;
    enum api_route_kind k = api_route_parse(path, &rt);
    if (k == API_ROUTE_COLLECTION && !strcmp(m, "GET")) {
        const char *w = http_req_query(req, "watch");
        if (w && (!strcmp(w, "true") || !strcmp(w, "1")))
            fake_watch(f, req, &rt);
        else
            fake_list(f, req, &rt);
        return;
    }
    cJSON *in = blen ? cJSON_Parse(body) : NULL;
    if (k == API_ROUTE_COLLECTION && !strcmp(m, "POST") && in) {
        if (rt.ns[0]) api_meta_set_str(in, "namespace", rt.ns);
        if (fake_find(f, rt.res->resource, rt.ns, api_meta_name(in), NULL)) {
            fake_reply_json(
                req, 409,
                api_status_already_exists(rt.res->group, rt.res->resource, api_meta_name(in)));
            cJSON_Delete(in);
            return;
        }
        fake_put(f, rt.res->resource, in);
        fake_reply_json(req, 201, cJSON_Duplicate(in, true));
        return;
    }
    if (k != API_ROUTE_OBJECT) {
        cJSON_Delete(in);
        fake_reply_json(req, 404, api_status_not_found("", "things", path));
        return;
    }
    cJSON *cur = fake_find(f, rt.res->resource, rt.ns, rt.name, NULL);
    if (!cur) {
        cJSON_Delete(in);
        fake_reply_json(req, 404, api_status_not_found(rt.res->group, rt.res->resource, rt.name));
        return;
    }
    if (!strcmp(m, "GET")) {
        fake_reply_json(req, 200, cJSON_Duplicate(cur, true));
    } else if (!strcmp(m, "PUT") && in) {
        const char *want = api_meta_resource_version(in);
        if (want && strcmp(want, api_meta_resource_version(cur))) {
            fake_reply_json(req, 409,
                            api_status_conflict(rt.res->group, rt.res->resource, rt.name, NULL));
            cJSON_Delete(in);
            return;
        }
        fake_put(f, rt.res->resource, in);
        fake_reply_json(req, 200, cJSON_Duplicate(in, true));
        return;
    } else if (!strcmp(m, "PATCH") && in) {
        char err[128];
        cJSON *out = api_merge_patch_apply(cur, in, err, sizeof(err));
        fake_put(f, rt.res->resource, out);
        fake_reply_json(req, 200, cJSON_Duplicate(out, true));
    } else if (!strcmp(m, "DELETE")) {
        cJSON *copy = cJSON_Duplicate(cur, true);
        fake_delete(f, rt.res->resource, rt.ns, rt.name);
        fake_reply_json(req, 200, copy);
    } else {
        fake_reply_json(req, 405, api_status_method_not_allowed("", rt.res->resource, m));
    }
    cJSON_Delete(in);
}

/* Starts the fake on loop at port (0: any); returns 0 or a UV error. */
FAKE_FN int fake_start(struct fake *f, uv_loop_t *loop, int port)
{
    f->loop = loop;
    if (!f->store) f->store = cJSON_CreateArray();
    struct http_server_config cfg = {.host = "127.0.0.1", .port = port};
    int rc = http_server_start(loop, &cfg, fake_handler, f, &f->srv);
    if (rc == 0) f->port = http_server_port(f->srv);
    return rc;
}

FAKE_FN void fake_stopped(void *arg)
{
    *(int *)arg = 1;
}

/* Stops the server (the state stays, for a restart); runs the loop until done. */
FAKE_FN void fake_stop(struct fake *f)
{
    int done = 0;
    http_server_stop(f->srv, fake_stopped, &done);
    for (int i = 0; i < 100000 && !done; i++)
        uv_run(f->loop, UV_RUN_ONCE);
    f->srv = NULL;
}

FAKE_FN void fake_free(struct fake *f)
{
    if (f->srv) fake_stop(f);
    for (size_t i = 0; i < f->nev; i++) {
        free(f->ev[i].res);
        free(f->ev[i].ns);
        free(f->ev[i].line);
    }
    free(f->ev);
    free(f->last_body);
    cJSON_Delete(f->store);
    memset(f, 0, sizeof(*f));
}

/* A loopback port that refuses connections. */
FAKE_FN int fake_closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    socklen_t sl = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd);
    return ntohs(sa.sin_port);
}

FAKE_FN void fake_wake(uv_timer_t *t)
{
    (void)t;
}

/* Runs loop until *cond is true or ~10 s passed (a guard against a hung
 * test, not a timing assertion). */
FAKE_FN bool fake_run_until(uv_loop_t *loop, bool (*cond)(void *), void *arg)
{
    uv_update_time(loop);
    uint64_t end = uv_now(loop) + 10000;
    uv_timer_t guard;
    uv_timer_init(loop, &guard);
    uv_timer_start(&guard, fake_wake, 50, 50); /* wakes the loop */
    while (!cond(arg) && uv_now(loop) < end)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return cond(arg);
}

/* ------------------------------------------------------ on its own thread */

struct fake_thread {
    struct fake f;
    uv_loop_t loop;
    uv_async_t stop;
    pthread_t th;
    atomic_int ready;
};

FAKE_FN void fake_thread_stop_cb(uv_async_t *a)
{
    struct fake_thread *t = a->data;
    http_server_stop(t->f.srv, NULL, NULL);
    t->f.srv = NULL;
    uv_close((uv_handle_t *)a, NULL);
}

FAKE_FN void *fake_thread_main(void *arg)
{
    struct fake_thread *t = arg;
    uv_run(&t->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* Starts t->f (already filled by the caller with fake_put) on a thread. */
FAKE_FN int fake_thread_start(struct fake_thread *t)
{
    uv_loop_init(&t->loop);
    if (fake_start(&t->f, &t->loop, 0) != 0) return -1;
    uv_async_init(&t->loop, &t->stop, fake_thread_stop_cb);
    t->stop.data = t;
    return pthread_create(&t->th, NULL, fake_thread_main, t);
}

FAKE_FN void fake_thread_join(struct fake_thread *t)
{
    uv_async_send(&t->stop);
    pthread_join(t->th, NULL);
    fake_free(&t->f);
    uv_loop_close(&t->loop);
}

#endif /* FAKEAPI_H */
