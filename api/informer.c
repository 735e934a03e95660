/*
 * informer.c - list+watch of one resource into a trimmed cache, with
 * handlers (see the informer section of api.h for the contract).
 *
 * States: a list (possibly several pages) is in flight, or a watch stream
 * is open, or a retry timer waits to do one of those. Only one of them at a
 * time, so the cache is only ever changed by one source. Why each failure
 * leads where it does:
 *   - a 410 (from the watch's status, an ERROR event, or an expired
 *     continue token) means the server no longer has the history we need:
 *     only a new list can bring the cache back in line;
 *   - any other failure (connection lost, server restarted, 5xx, a bad
 *     line) leaves our resourceVersion valid: resume the watch from it
 *     after a backoff, so a restarted server is not hammered and nothing
 *     is delivered twice;
 *   - a watch that ends cleanly (the server's timeoutSeconds) is resumed at
 *     once, unless it ended suspiciously fast with nothing in it.
 * A watchdog cancels a stream that stays silent for longer than its
 * timeoutSeconds plus a margin: a master that lost power never closes its
 * TCP connections, and the client must move on to another URL.
 */
#include "api/client_int.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_PAGE 500
#define DEFAULT_BACKOFF_MIN 100
#define DEFAULT_BACKOFF_MAX 10000
#define WATCHDOG_MARGIN_MS 30000
#define FAST_END_MS 1000
#define MAX_ERRBODY 65536

struct ientry {
    struct cmap_node node;
    char *rv;
    cJSON *obj;
    unsigned gen; /* the list generation that last saw it */
};

enum next { NEXT_NONE, NEXT_RELIST, NEXT_RESUME };

struct api_informer {
    api_client_t *client;
    uv_loop_t *loop;
    const api_resource_t *res;
    char *ns, *lsel, *fsel;
    long page;
    api_trim_fn trim;
    api_informer_handlers_t h;
    void *data;
    unsigned bmin, bmax;
    int wtimeout;

    struct cmap cache;
    char *rv;
    bool synced, freeing;
    unsigned gen;
    unsigned fails;
    int refs;

    http_stream_t *stream;
    int wstatus;
    char *errbody;
    size_t errlen;
    enum next next;
    bool got_event;
    uint64_t watch_started;

    uv_timer_t retry;
    enum next retry_what;
    uv_timer_t watchdog;
    unsigned watchdog_ms;
    api_informer_stats_t st;
};

static void list_start(api_informer_t *inf, const char *cont);
static void watch_start(api_informer_t *inf);

/* ------------------------------------------------------------- lifetime */

static void entry_free(struct ientry *e)
{
    free(e->node.key);
    free(e->rv);
    cJSON_Delete(e->obj);
    free(e);
}

static void unref(api_informer_t *inf)
{
    if (--inf->refs > 0) return;
    struct cmap_iter it = {0};
    struct cmap_node *n;
    while ((n = cmap_next(&inf->cache, &it)))
        entry_free((struct ientry *)n);
    cmap_free(&inf->cache);
    free(inf->ns);
    free(inf->lsel);
    free(inf->fsel);
    free(inf->rv);
    free(inf->errbody);
    free(inf);
}

static void on_timer_closed(uv_handle_t *h)
{
    unref(h->data);
}

void api_informer_free(api_informer_t *inf)
{
    if (!inf || inf->freeing) return;
    inf->freeing = true;
    if (inf->stream) http_stream_cancel(inf->stream); /* on_end drops its ref */
    uv_close((uv_handle_t *)&inf->retry, on_timer_closed);
    uv_close((uv_handle_t *)&inf->watchdog, on_timer_closed);
    unref(inf);
}

/* ---------------------------------------------------------------- retry */

static unsigned backoff(api_informer_t *inf)
{
    unsigned d = inf->bmin;
    for (unsigned i = 0; i < inf->fails && d < inf->bmax; i++)
        d *= 2;
    if (d > inf->bmax) d = inf->bmax;
    /* Jitter down by up to a quarter: agents that lost the same master
     * should not all come back in the same millisecond. */
    uint32_t r = 0;
    if (d >= 4 && random_bytes(&r, sizeof(r)) == 0) d -= r % (d / 4);
    return d;
}

static void retry_cb(uv_timer_t *t)
{
    api_informer_t *inf = t->data;
    if (inf->freeing) return;
    if (inf->retry_what == NEXT_RELIST)
        list_start(inf, NULL);
    else
        watch_start(inf);
}

static void schedule(api_informer_t *inf, enum next what, unsigned delay_ms)
{
    inf->retry_what = what;
    uv_timer_start(&inf->retry, retry_cb, delay_ms, 0);
}

/* A relist goes out at once the first time, then backs off, so that a
 * server answering every watch with 410 is not asked in a tight loop. */
static void relist_later(api_informer_t *inf)
{
    unsigned d = inf->fails ? backoff(inf) : 0;
    inf->fails++;
    schedule(inf, NEXT_RELIST, d);
}

static void resume_later(api_informer_t *inf, const char *why)
{
    unsigned d = backoff(inf);
    if (inf->fails == 0)
        log_warn("api", "watch %s: %s; resuming from resourceVersion %s in %u ms",
                 inf->res->resource, why, inf->rv ? inf->rv : "", d);
    else
        log_debug("api", "watch %s: %s; retrying in %u ms", inf->res->resource, why, d);
    inf->fails++;
    schedule(inf, NEXT_RESUME, d);
}

/* ---------------------------------------------------------------- cache */

char *api_object_key(const cJSON *obj)
{
    const char *name = api_meta_name(obj);
    if (!name || !*name) return NULL;
    const char *ns = api_meta_namespace(obj);
    return ns && *ns ? cl_printf("%s/%s", ns, name) : cl_strdup(name);
}

/* What the cache keeps of full (which it consumes). */
static cJSON *keep(api_informer_t *inf, cJSON *full)
{
    if (!inf->trim) return full;
    cJSON *kept = inf->trim(full, inf->data);
    cJSON_Delete(full);
    if (!kept) kept = cJSON_CreateObject();
    if (!kept) {
        log_error("api", "out of memory");
        abort();
    }
    return kept;
}

/* An object from a list or an ADDED/MODIFIED event; full is consumed. */
static void upsert(api_informer_t *inf, cJSON *full)
{
    char *key = api_object_key(full);
    if (!key) {
        log_warn("api", "%s: an object without metadata.name; ignored", inf->res->resource);
        cJSON_Delete(full);
        return;
    }
    const char *rv = api_meta_resource_version(full);
    struct ientry *e = (struct ientry *)cmap_get(&inf->cache, key);
    if (e) {
        e->gen = inf->gen;
        /* The same version again (a relist of an unchanged object): nothing
         * happened, tell nobody. */
        if (rv && e->rv && !strcmp(rv, e->rv)) {
            free(key);
            cJSON_Delete(full);
            return;
        }
        free(key);
        free(e->rv);
        e->rv = cl_strdup(rv);
        cJSON *old = e->obj;
        e->obj = keep(inf, full);
        if (inf->h.on_update) inf->h.on_update(old, e->obj, inf->data);
        cJSON_Delete(old);
        return;
    }
    e = cl_calloc(1, sizeof(*e));
    e->node.key = key;
    e->rv = cl_strdup(rv);
    e->gen = inf->gen;
    e->obj = keep(inf, full);
    cmap_put(&inf->cache, &e->node);
    if (inf->h.on_add) inf->h.on_add(e->obj, inf->data);
}

/* A DELETED event; full is consumed. */
static void remove_obj(api_informer_t *inf, cJSON *full)
{
    char *key = api_object_key(full);
    struct ientry *e = key ? (struct ientry *)cmap_get(&inf->cache, key) : NULL;
    free(key);
    if (!e) {
        cJSON_Delete(full);
        return;
    }
    cmap_del(&inf->cache, &e->node);
    cJSON *last = keep(inf, full);
    if (inf->h.on_delete) inf->h.on_delete(last, inf->data);
    cJSON_Delete(last);
    entry_free(e);
}

static void set_rv(api_informer_t *inf, const char *rv)
{
    if (!rv || !*rv) return;
    char *copy = cl_strdup(rv);
    free(inf->rv);
    inf->rv = copy;
}

/* ----------------------------------------------------------------- list */

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* After the last page: objects the list did not show were deleted. */
static void finish_list(api_informer_t *inf, const char *rv)
{
    set_rv(inf, rv);
    size_t n = 0, cap = 0;
    struct ientry **gone = NULL;
    struct cmap_iter it = {0};
    struct cmap_node *node;
    while ((node = cmap_next(&inf->cache, &it))) {
        struct ientry *e = (struct ientry *)node;
        if (e->gen == inf->gen) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            gone = cl_realloc(gone, cap * sizeof(*gone));
        }
        gone[n++] = e;
    }
    for (size_t i = 0; i < n; i++) {
        cmap_del(&inf->cache, &gone[i]->node);
        if (inf->h.on_delete && !inf->freeing) inf->h.on_delete(gone[i]->obj, inf->data);
        entry_free(gone[i]);
    }
    free(gone);
    if (inf->freeing) return;
    if (!inf->synced) {
        inf->synced = true;
        if (inf->h.on_synced) inf->h.on_synced(inf->data);
        if (inf->freeing) return;
    }
    watch_start(inf);
}

static void on_list(const http_response_t *hr, void *data)
{
    api_informer_t *inf = data;
    if (inf->freeing) {
        unref(inf);
        return;
    }
    api_result_t r;
    client_result_fill(&r, hr->err, hr->status, hr->content_type, hr->body, hr->len, hr->url);
    cJSON *items = cJSON_GetObjectItemCaseSensitive(r.obj, "items");
    bool ok = api_result_ok(&r) && cJSON_IsObject(r.obj);
    /* "items": null is how Go writes an empty list; anything else is wrong. */
    if (ok && items && !cJSON_IsArray(items) && !cJSON_IsNull(items)) {
        log_warn("api", "list %s: the answer's items are not a list", inf->res->resource);
        schedule(inf, NEXT_RELIST, backoff(inf));
        inf->fails++;
    } else if (!ok) {
        if (r.code == 410 || r.status == 410) {
            /* The continue token expired: start the list over. */
            inf->st.expired++;
            log_info("api", "list %s: %s; listing again", inf->res->resource, r.message);
            relist_later(inf);
        } else {
            log_warn("api", "list %s: %s", inf->res->resource,
                     *r.message ? r.message : "the answer is not a JSON object");
            schedule(inf, NEXT_RELIST, backoff(inf));
            inf->fails++;
        }
    } else {
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(r.obj, "metadata");
        char *rv = cl_strdup(str_of(meta, "resourceVersion"));
        char *cont = cl_strdup(str_of(meta, "continue"));
        cJSON *item;
        while (!inf->freeing && cJSON_IsArray(items) &&
               (item = cJSON_DetachItemFromArray(items, 0))) {
            /* List items carry no kind; watch events do. Make them alike. */
            if (!cJSON_GetObjectItemCaseSensitive(item, "kind"))
                cJSON_AddStringToObject(item, "kind", inf->res->kind);
            if (!cJSON_GetObjectItemCaseSensitive(item, "apiVersion"))
                cJSON_AddStringToObject(item, "apiVersion", inf->res->group_version);
            upsert(inf, item);
        }
        if (!inf->freeing) {
            if (cont && *cont)
                list_start(inf, cont);
            else
                finish_list(inf, rv);
        }
        free(rv);
        free(cont);
    }
    api_result_free(&r);
    unref(inf);
}

static api_ref_t my_ref(const api_informer_t *inf)
{
    return (api_ref_t){.group = inf->res->group,
                       .version = inf->res->version,
                       .resource = inf->res->resource,
                       .ns = inf->ns};
}

static void list_start(api_informer_t *inf, const char *cont)
{
    if (!cont) {
        if (inf->synced) inf->st.relists++;
        inf->gen++;
    }
    api_ref_t ref = my_ref(inf);
    api_opts_t o = {.label_selector = inf->lsel,
                    .field_selector = inf->fsel,
                    .limit = inf->page,
                    .continue_ = cont};
    char err[256];
    char *path = api_path(&ref, &o, err, sizeof(err));
    if (!path) { /* cannot happen: the ref was checked when made */
        log_error("api", "informer: %s", err);
        return;
    }
    inf->st.lists++;
    inf->refs++;
    int rc = http_client_request_ex(api_client_http(inf->client), "GET", path,
                                    "Accept: application/json\r\n", NULL, NULL, 0,
                                    client_timeout(inf->client), on_list, inf);
    free(path);
    if (rc < 0) {
        inf->refs--;
        log_error("api", "list %s: %s", inf->res->resource, uv_strerror(rc));
    }
}

/* ---------------------------------------------------------------- watch */

static void watchdog_cb(uv_timer_t *t)
{
    api_informer_t *inf = t->data;
    if (!inf->stream || inf->freeing) return;
    log_warn("api", "watch %s: nothing heard for %u s; reconnecting", inf->res->resource,
             inf->watchdog_ms / 1000);
    inf->next = NEXT_RESUME;
    http_stream_cancel(inf->stream);
}

static void kick_watchdog(api_informer_t *inf)
{
    uv_timer_start(&inf->watchdog, watchdog_cb, inf->watchdog_ms, 0);
}

static void on_status(int status, const char *content_type, void *data)
{
    (void)content_type;
    api_informer_t *inf = data;
    inf->wstatus = status;
    kick_watchdog(inf);
}

static void on_event(api_informer_t *inf, const char *type, cJSON *ev)
{
    cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");
    if (!strcmp(type, "ERROR")) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");
        const char *reason = str_of(obj, "reason"), *msg = str_of(obj, "message");
        bool expired = (cJSON_IsNumber(code) && code->valueint == 410) ||
                       (reason && (!strcmp(reason, "Expired") || !strcmp(reason, "Gone")));
        if (expired) {
            inf->st.expired++;
            log_info("api", "watch %s: %s; relisting", inf->res->resource,
                     msg ? msg : "resource version expired");
            inf->next = NEXT_RELIST;
        } else {
            log_warn("api", "watch %s: error event: %s", inf->res->resource, msg ? msg : "?");
            inf->next = NEXT_RESUME;
        }
        http_stream_cancel(inf->stream);
        return;
    }
    const char *rv = api_meta_resource_version(obj);
    if (!strcmp(type, "BOOKMARK")) {
        set_rv(inf, rv);
        inf->st.bookmarks++;
    } else if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED") || !strcmp(type, "DELETED")) {
        set_rv(inf, rv);
        inf->st.events++;
        cJSON_DetachItemViaPointer(ev, obj);
        if (type[0] == 'D')
            remove_obj(inf, obj);
        else
            upsert(inf, obj);
    } else {
        log_debug("api", "watch %s: event type %s ignored", inf->res->resource, type);
        return;
    }
    inf->fails = 0;
    inf->got_event = true;
}

static void on_line(const char *line, size_t len, void *data)
{
    api_informer_t *inf = data;
    if (inf->freeing || !inf->stream) return;
    kick_watchdog(inf);
    if (inf->wstatus != 200) {
        /* The error's body (a Status), read whole at the end. */
        if (inf->errlen + len + 1 > MAX_ERRBODY) return;
        inf->errbody = cl_realloc(inf->errbody, inf->errlen + len + 2);
        memcpy(inf->errbody + inf->errlen, line, len);
        inf->errlen += len;
        inf->errbody[inf->errlen++] = '\n';
        inf->errbody[inf->errlen] = '\0';
        return;
    }
    if (len == 0) return;
    cJSON *ev = cJSON_ParseWithLength(line, len);
    const char *type = str_of(ev, "type");
    if (!type || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ev, "object"))) {
        log_warn("api", "watch %s: not a watch event: %.80s", inf->res->resource, line);
        inf->next = NEXT_RESUME;
        http_stream_cancel(inf->stream);
    } else {
        on_event(inf, type, ev);
    }
    cJSON_Delete(ev);
}

static void on_end(int err, void *data)
{
    api_informer_t *inf = data;
    inf->stream = NULL;
    if (inf->freeing) {
        unref(inf);
        return;
    }
    uv_timer_stop(&inf->watchdog);
    if (inf->next == NEXT_RELIST) {
        relist_later(inf);
    } else if (inf->next == NEXT_RESUME) {
        resume_later(inf, "stream stopped");
    } else if (inf->wstatus && inf->wstatus != 200) {
        api_result_t r;
        client_result_fill(&r, 0, inf->wstatus, "", inf->errbody ? inf->errbody : "", inf->errlen,
                           http_client_current_url(api_client_http(inf->client)));
        if (r.status == 410 || r.code == 410) {
            inf->st.expired++;
            log_info("api", "watch %s: %s; relisting", inf->res->resource, r.message);
            relist_later(inf);
        } else {
            resume_later(inf, r.message);
        }
        api_result_free(&r);
    } else if (err == 0 && inf->wstatus == 200 &&
               (inf->got_event || uv_now(inf->loop) - inf->watch_started >= FAST_END_MS)) {
        inf->fails = 0;
        schedule(inf, NEXT_RESUME, 0);
    } else {
        resume_later(inf, err ? uv_strerror(err) : "the watch ended at once");
    }
    unref(inf);
}

static const struct http_stream_callbacks watch_cbs = {
    .on_status = on_status,
    .on_line = on_line,
    .on_end = on_end,
};

static void watch_start(api_informer_t *inf)
{
    int timeout = inf->wtimeout;
    if (timeout <= 0) {
        /* As client-go: between 5 and 10 minutes, so that watches of many
         * clients do not all end together. */
        uint32_t r = 0;
        random_bytes(&r, sizeof(r));
        timeout = 300 + (int)(r % 300);
    }
    api_ref_t ref = my_ref(inf);
    api_opts_t o = {.label_selector = inf->lsel,
                    .field_selector = inf->fsel,
                    .resource_version = inf->rv ? inf->rv : "",
                    .watch = true,
                    .allow_watch_bookmarks = true,
                    .timeout_seconds = timeout};
    char err[256];
    char *path = api_path(&ref, &o, err, sizeof(err));
    if (!path) {
        log_error("api", "informer: %s", err);
        return;
    }
    inf->wstatus = 0;
    inf->errlen = 0;
    inf->next = NEXT_NONE;
    inf->got_event = false;
    inf->watch_started = uv_now(inf->loop);
    inf->watchdog_ms = (unsigned)timeout * 1000u + WATCHDOG_MARGIN_MS;
    inf->st.watches++;
    inf->stream = http_client_stream_ex(api_client_http(inf->client), path,
                                        "Accept: application/json\r\n", &watch_cbs, inf);
    free(path);
    if (!inf->stream) {
        log_error("api", "watch %s: the client is closed", inf->res->resource);
        return;
    }
    inf->refs++;
    kick_watchdog(inf);
}

/* ------------------------------------------------------------------ API */

api_informer_t *api_informer_new(api_client_t *c, const api_informer_config_t *cfg)
{
    char err[256];
    api_ref_t probe = cfg->ref;
    probe.name = probe.subresource = NULL;
    char *path = api_path(&probe, NULL, err, sizeof(err));
    if (!path) {
        log_error("api", "informer: %s", err);
        return NULL;
    }
    free(path);
    api_informer_t *inf = cl_calloc(1, sizeof(*inf));
    inf->client = c;
    inf->loop = api_client_loop(c);
    /* api_path succeeded, so the resource resolves. */
    const char *g = cfg->ref.group ? cfg->ref.group : "";
    for (size_t i = 0; i < api_resource_count() && !inf->res; i++) {
        const api_resource_t *r = api_resource_at(i);
        if (!strcmp(r->group, g) && !strcmp(r->resource, cfg->ref.resource) &&
            (!cfg->ref.version || !strcmp(r->version, cfg->ref.version)))
            inf->res = r;
    }
    inf->ns = inf->res->namespaced && cfg->ref.ns && *cfg->ref.ns ? cl_strdup(cfg->ref.ns) : NULL;
    inf->lsel = cl_strdup(cfg->label_selector);
    inf->fsel = cl_strdup(cfg->field_selector);
    inf->page = cfg->page_size > 0 ? cfg->page_size : DEFAULT_PAGE;
    inf->trim = cfg->trim;
    inf->h = cfg->handlers;
    inf->data = cfg->data;
    inf->bmin = cfg->backoff_min_ms ? cfg->backoff_min_ms : DEFAULT_BACKOFF_MIN;
    inf->bmax = cfg->backoff_max_ms ? cfg->backoff_max_ms : DEFAULT_BACKOFF_MAX;
    if (inf->bmax < inf->bmin) inf->bmax = inf->bmin;
    inf->wtimeout = cfg->watch_timeout_seconds;
    inf->refs = 3; /* the owner's, and the two timer handles */
    uv_timer_init(inf->loop, &inf->retry);
    uv_timer_init(inf->loop, &inf->watchdog);
    inf->retry.data = inf->watchdog.data = inf;
    schedule(inf, NEXT_RELIST, 0);
    return inf;
}

bool api_informer_has_synced(const api_informer_t *inf)
{
    return inf->synced;
}

const char *api_informer_resource_version(const api_informer_t *inf)
{
    return inf->rv ? inf->rv : "";
}

const cJSON *api_informer_get_key(const api_informer_t *inf, const char *key)
{
    const struct ientry *e = (const struct ientry *)cmap_get(&inf->cache, key);
    return e ? e->obj : NULL;
}

const cJSON *api_informer_get(const api_informer_t *inf, const char *ns, const char *name)
{
    if (!name) return NULL;
    if (!ns || !*ns) return api_informer_get_key(inf, name);
    char *key = cl_printf("%s/%s", ns, name);
    const cJSON *o = api_informer_get_key(inf, key);
    free(key);
    return o;
}

size_t api_informer_count(const api_informer_t *inf)
{
    return inf->cache.n;
}

void api_informer_foreach(const api_informer_t *inf,
                          bool (*fn)(const char *key, const cJSON *obj, void *arg), void *arg)
{
    struct cmap_iter it = {0};
    struct cmap_node *n;
    while ((n = cmap_next(&inf->cache, &it)))
        if (!fn(n->key, ((struct ientry *)n)->obj, arg)) return;
}

void api_informer_stats(const api_informer_t *inf, api_informer_stats_t *out)
{
    *out = inf->st;
}
