/*
 * watch.c - ?watch=1: a chunked stream of {"type":...,"object":...} lines.
 *
 * Start: with a resourceVersion, from the store's history after it (410
 * Expired as an ERROR event when it left history); without one (or "0"),
 * as Kubernetes: ADDED for every existing object of a current list, then
 * changes after that list's revision, so nothing falls between the two.
 *
 * Selectors follow Kubernetes' cacher: an object that starts matching is
 * ADDED, one that stops matching is DELETED (its previous content, the
 * event's resourceVersion). Bookmarks carry the tier's current revision:
 * the store delivers events synchronously as it applies them, so on the
 * loop every event up to that revision has been written already.
 *
 * Teardown (timeout, client gone, store ended the watch, write failure) is
 * always deferred to a timer callback: the store may be delivering to us
 * when we decide to stop, and its watch must not be cancelled from inside
 * its own delivery.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rest_int.h"

struct watch {
    rq_t *q;
    rest_filter_t f;
    char prefix[512];
    store_watch_t *sw;
    uv_timer_t stop_timer;
    uv_timer_t bookmark_timer;
    int handles;
    bool listing; /* a store_range is in flight: keep w until it answers */
    bool bookmarks;
    bool initial_end_bookmark;
    bool streaming;
    bool stopping;
    bool table_cols_sent;
    int code;
};

static void watch_stop(struct watch *w);

static void maybe_free(struct watch *w)
{
    if (w->handles > 0 || w->listing) return;
    rest_filter_free(&w->f);
    rq_finish(w->q, w->code);
    free(w);
}

static void handle_closed(uv_handle_t *h)
{
    struct watch *w = h->data;
    w->handles--;
    maybe_free(w);
}

static void teardown(uv_timer_t *t)
{
    struct watch *w = t->data;
    if (w->sw) store_watch_cancel(w->sw);
    w->sw = NULL;
    if (w->streaming)
        http_stream_end(w->q->req);
    else
        api_reply_status(w->q->req, 500, "InternalError", "the watch could not start");
    uv_close((uv_handle_t *)&w->stop_timer, handle_closed);
    uv_close((uv_handle_t *)&w->bookmark_timer, handle_closed);
}

static void watch_stop(struct watch *w)
{
    if (w->stopping) return;
    w->stopping = true;
    uv_timer_stop(&w->bookmark_timer);
    uv_timer_start(&w->stop_timer, teardown, 0, 0);
}

static void on_client_gone(http_req_t *req, void *arg)
{
    (void)req;
    watch_stop(arg);
}

/* The event line {"type":...,"object":obj}\n (malloc'd) and its length. */
static char *make_line(const char *type, const char *obj, size_t len, size_t *total)
{
    char head[64];
    int n = snprintf(head, sizeof head, "{\"type\":\"%s\",\"object\":", type);
    *total = (size_t)n + len + 2;
    char *buf = malloc(*total);
    if (!buf) return NULL;
    memcpy(buf, head, (size_t)n);
    memcpy(buf + n, obj, len);
    memcpy(buf + n + len, "}\n", 2);
    return buf;
}

static void write_raw(struct watch *w, const char *line, size_t len)
{
    if (w->stopping) return;
    if (!line || http_stream_write(w->q->req, line, len) != 0) watch_stop(w);
}

static void write_line(struct watch *w, const char *type, const char *obj, size_t len)
{
    if (w->stopping) return;
    size_t total;
    char *buf = make_line(type, obj, len, &total);
    write_raw(w, buf, total);
    free(buf);
}

/* The store hands every watcher of a key the same event: the last line made
 * is kept, so a thousand plain watchers cost one serialization per event. */
static __thread struct {
    const store_kv_t *kv;
    uint64_t rev;
    size_t value_len;
    const char *type;
    char *line;
    size_t len;
} line_cache;

static void send_cached(struct watch *w, const char *type, const store_kv_t *kv, uint64_t rev)
{
    if (line_cache.line && line_cache.kv == kv && line_cache.rev == rev &&
        !strcmp(line_cache.type, type) && line_cache.value_len == kv->value_len) {
        write_raw(w, line_cache.line, line_cache.len);
        return;
    }
    size_t len, total;
    char *s = obj_serve(kv->value, kv->value_len, rev, &len);
    char *line = s ? make_line(type, s, len, &total) : NULL;
    free(s);
    if (!line) {
        watch_stop(w);
        return;
    }
    free(line_cache.line);
    line_cache.kv = kv;
    line_cache.rev = rev;
    line_cache.value_len = kv->value_len;
    line_cache.type = type;
    line_cache.line = line;
    line_cache.len = total;
    write_raw(w, line, total);
}

/* Sends obj (parsed, or NULL: use the kv bytes) as an event of `type`. */
static void send_obj(struct watch *w, const char *type, const store_kv_t *kv, cJSON *parsed,
                     uint64_t rev)
{
    if (w->q->fmt == RQ_FMT_TABLE) {
        cJSON *o = parsed ? parsed : obj_parse_kv(kv);
        if (!o) return;
        obj_set_rv(o, rev);
        cJSON *items = cJSON_CreateArray();
        cJSON_AddItemToArray(items, o);
        cJSON *t = rest_table_of(w->q, items, 0, NULL);
        if (!t) return;
        if (w->table_cols_sent) {
            cJSON_DeleteItemFromObjectCaseSensitive(t, "columnDefinitions");
            cJSON_AddArrayToObject(t, "columnDefinitions");
        }
        w->table_cols_sent = true;
        char *s = cJSON_PrintUnformatted(t);
        cJSON_Delete(t);
        if (s) write_line(w, type, s, strlen(s));
        free(s);
        return;
    }
    if (!parsed) {
        send_cached(w, type, kv, rev);
        return;
    }
    obj_set_rv(parsed, rev);
    char *s = cJSON_PrintUnformatted(parsed);
    cJSON_Delete(parsed);
    if (s) write_line(w, type, s, strlen(s));
    free(s);
}

static const char *key_name(const char *key)
{
    const char *s = strrchr(key, '/');
    return s ? s + 1 : key;
}

/* Whether kv matches; *parsed gets the parsed object when one was needed. */
static bool matches(struct watch *w, const store_kv_t *kv, cJSON **parsed)
{
    *parsed = NULL;
    if (!kv) return false;
    if (w->f.exact_name && strcmp(key_name(kv->key), w->f.exact_name)) return false;
    if (!rest_filter_needs_parse(&w->f)) return true;
    cJSON *o = obj_parse_kv(kv);
    if (!o) return false;
    if (!rest_filter_match(&w->f, o)) {
        cJSON_Delete(o);
        return false;
    }
    *parsed = o;
    return true;
}

static void send_error(struct watch *w, cJSON *st)
{
    char *s = st ? cJSON_PrintUnformatted(st) : NULL;
    cJSON_Delete(st);
    if (s) write_line(w, "ERROR", s, strlen(s));
    free(s);
}

static void expired(struct watch *w, uint64_t asked)
{
    char msg[128];
    snprintf(msg, sizeof msg, "too old resource version: %llu (%llu)", (unsigned long long)asked,
             (unsigned long long)store_current_revision(w->q->a->store, w->prefix));
    send_error(w, api_status_expired(msg));
}

static void on_event(const store_event_t *ev, int err, void *data)
{
    struct watch *w = data;
    if (!ev) {
        w->sw = NULL; /* freed by the store */
        if (err == STORE_ECOMPACTED) expired(w, 0);
        watch_stop(w);
        return;
    }
    if (w->stopping) return;
    cJSON *now = NULL, *before = NULL;
    if (ev->type == STORE_DELETE) {
        if (matches(w, ev->kv, &now)) send_obj(w, "DELETED", ev->kv, now, ev->kv->mod_rev);
        return;
    }
    bool m_now = matches(w, ev->kv, &now);
    bool m_before = ev->prev_kv && matches(w, ev->prev_kv, &before);
    if (m_now && m_before) {
        cJSON_Delete(before);
        send_obj(w, "MODIFIED", ev->kv, now, ev->kv->mod_rev);
    } else if (m_now) {
        send_obj(w, "ADDED", ev->kv, now, ev->kv->mod_rev);
    } else if (m_before) {
        send_obj(w, "DELETED", ev->prev_kv, before, ev->kv->mod_rev);
    }
}

static void send_bookmark(struct watch *w, uint64_t rev, bool initial_end)
{
    const api_resource_t *r = w->q->rt.res;
    char buf[512];
    int n =
        snprintf(buf, sizeof buf,
                 "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":"
                 "\"%llu\"%s}}",
                 r->kind, r->group_version, (unsigned long long)rev,
                 initial_end ? ",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}" : "");
    write_line(w, "BOOKMARK", buf, (size_t)n);
}

static void bookmark_tick(uv_timer_t *t)
{
    struct watch *w = t->data;
    send_bookmark(w, store_current_revision(w->q->a->store, w->prefix), false);
}

static bool begin_stream(struct watch *w)
{
    if (w->streaming) return true;
    if (http_stream_begin(w->q->req, 200, "application/json") != 0) {
        w->streaming = true; /* the request must still be ended */
        watch_stop(w);
        return false;
    }
    w->streaming = true;
    w->code = 200;
    return true;
}

static void start_store_watch(struct watch *w, uint64_t after)
{
    int rv = store_watch(w->q->a->store, w->prefix, after, on_event, w, &w->sw);
    if (rv == STORE_ECOMPACTED) {
        if (begin_stream(w)) expired(w, after);
        watch_stop(w);
        return;
    }
    if (rv != 0) {
        w->sw = NULL;
        send_error(w, rest_store_err_status(w->q->rt.res, rv, NULL));
        watch_stop(w);
        return;
    }
    if (w->initial_end_bookmark && !w->stopping) send_bookmark(w, after, true);
}

static void listed(const store_result_t *res, void *data)
{
    struct watch *w = data;
    w->listing = false;
    if (w->stopping) {
        maybe_free(w);
        return;
    }
    if (res->err != STORE_OK) {
        send_error(w, rest_store_err_status(w->q->rt.res, res->err, NULL));
        watch_stop(w);
        return;
    }
    for (size_t i = 0; i < res->n_kvs && !w->stopping; i++) {
        cJSON *o = NULL;
        if (matches(w, &res->kvs[i], &o))
            send_obj(w, "ADDED", &res->kvs[i], o, res->kvs[i].mod_rev);
    }
    if (!w->stopping) start_store_watch(w, res->rev);
}

static unsigned long long timeout_ms(rq_t *q)
{
    const char *t = http_req_query(q->req, "timeoutSeconds");
    if (t && *t) {
        long long s = atoll(t);
        if (s > 0) return (unsigned long long)s * 1000;
    }
    unsigned char r[2];
    random_bytes(r, sizeof r);
    return (1800ull + (unsigned)(r[0] << 8 | r[1]) % 1800) * 1000;
}

void rest_watch(rq_t *q)
{
    const char *rvs = http_req_query(q->req, "resourceVersion");
    uint64_t rv = 0;
    if (rvs && *rvs && !obj_parse_rv(rvs, &rv)) {
        rq_reply_status(q, api_status_bad_request("resourceVersion must be a number"));
        return;
    }
    struct watch *w = calloc(1, sizeof(*w));
    if (!w) {
        rq_reply_status(q, api_status_internal("out of memory"));
        return;
    }
    w->q = q;
    cJSON *st = rest_filter_init(q, &w->f);
    if (st) {
        free(w);
        rq_reply_status(q, st);
        return;
    }
    rq_key(q, NULL, w->prefix, sizeof w->prefix);
    if (store_is_volatile(q->a->store, w->prefix)) {
        struct store_status ss;
        store_get_status(q->a->store, &ss);
        if (!ss.is_leader) {
            rest_filter_free(&w->f);
            free(w);
            rest_watch_proxy(q);
            return;
        }
    }
    w->bookmarks = rq_query_bool(q->req, "allowWatchBookmarks");
    bool sie = rq_query_bool(q->req, "sendInitialEvents");
    bool initial = !rvs || !*rvs || rv == 0 || sie;
    w->initial_end_bookmark = w->bookmarks && sie;
    w->code = 200;
    uv_timer_init(q->a->loop, &w->stop_timer);
    uv_timer_init(q->a->loop, &w->bookmark_timer);
    w->stop_timer.data = w->bookmark_timer.data = w;
    w->handles = 2;
    http_req_on_close(q->req, on_client_gone, w);
    if (!begin_stream(w)) return;
    uv_timer_start(&w->stop_timer, teardown, timeout_ms(q), 0);
    if (w->bookmarks) uv_timer_start(&w->bookmark_timer, bookmark_tick, 10000, 10000);
    if (initial) {
        w->listing = true;
        int r = store_range(q->a->store, w->prefix, NULL, 0, 0, listed, w);
        if (r != 0) {
            w->listing = false;
            send_error(w, rest_store_err_status(q->rt.res, r, NULL));
            watch_stop(w);
        }
        return;
    }
    start_store_watch(w, rv);
}
