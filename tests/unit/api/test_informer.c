/*
 * test_informer.c - informers against a fake API server on 127.0.0.1:
 * list (in pages) then watch delivering adds, updates and deletes; a relist
 * after a 410 ERROR event and after an HTTP 410 that finds what changed
 * meanwhile (deletions included); a server restart on the same port where
 * the watch resumes from its resourceVersion with nothing lost or repeated;
 * trimmed caches; fail-over; freeing from a handler.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fakeapi.h"

static uv_loop_t loop;
static struct fake fk;
static char base[64];

struct seen {
    int adds, updates, deletes, synced;
    char log[128][80];
    int n;
    bool trimmed_ok; /* every object handed to a handler was trimmed */
    bool free_on_add;
    api_informer_t *inf;
};

static void note(struct seen *s, const char *op, const cJSON *o)
{
    if (s->n < 128) {
        const char *ns = api_meta_namespace(o);
        snprintf(s->log[s->n++], sizeof(s->log[0]), "%s %s%s%s", op, ns ? ns : "", ns ? "/" : "",
                 api_meta_name(o) ? api_meta_name(o) : "?");
    }
}

static void on_add(const cJSON *o, void *d)
{
    struct seen *s = d;
    s->adds++;
    note(s, "A", o);
    if (s->free_on_add) {
        api_informer_free(s->inf);
        s->inf = NULL;
    }
}

static void on_update(const cJSON *old, const cJSON *o, void *d)
{
    struct seen *s = d;
    s->updates++;
    assert_string_equal(api_meta_name(old), api_meta_name(o));
    note(s, "U", o);
}

static void on_delete(const cJSON *o, void *d)
{
    struct seen *s = d;
    s->deletes++;
    note(s, "D", o);
}

static void on_synced(void *d)
{
    ((struct seen *)d)->synced++;
}

static const api_informer_handlers_t handlers = {on_add, on_update, on_delete, on_synced};

static bool has_log(const struct seen *s, const char *line)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->log[i], line)) return true;
    return false;
}

static int count_log(const struct seen *s, const char *line)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        n += !strcmp(s->log[i], line);
    return n;
}

struct want {
    struct seen *s;
    int adds, updates, deletes;
};

static bool reached(void *arg)
{
    struct want *w = arg;
    return w->s->adds >= w->adds && w->s->updates >= w->updates && w->s->deletes >= w->deletes;
}

static void wait_counts(struct seen *s, int adds, int updates, int deletes)
{
    struct want w = {s, adds, updates, deletes};
    assert_true(fake_run_until(&loop, reached, &w));
    assert_int_equal(s->adds, adds);
    assert_int_equal(s->updates, updates);
    assert_int_equal(s->deletes, deletes);
}

static bool synced(void *arg)
{
    return ((struct seen *)arg)->synced > 0;
}

struct watching {
    struct fake *f;
    int n;
};

/* True once n watch streams are open on the fake. */
static bool watching(void *arg)
{
    struct watching *w = arg;
    int n = 0;
    for (int i = 0; i < FAKE_MAX_WATCHERS; i++)
        n += w->f->w[i].req != NULL;
    return n >= w->n;
}

static void wait_watching(void)
{
    struct watching w = {&fk, 1};
    assert_true(fake_run_until(&loop, watching, &w));
}

static int setup(void **state)
{
    (void)state;
    uv_loop_init(&loop);
    memset(&fk, 0, sizeof(fk));
    if (fake_start(&fk, &loop, 0) != 0) return -1;
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", fk.port);
    fake_put(&fk, "pods", fake_obj("default", "a", "web", "n1"));
    fake_put(&fk, "pods", fake_obj("default", "b", "web", "n1"));
    fake_put(&fk, "pods", fake_obj("other", "c", "db", "n2"));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_free(&fk);
    /* Bounded: a failed test may leave an informer or queue running. */
    for (int i = 0; i < 100 && uv_loop_alive(&loop); i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    return uv_loop_close(&loop) == 0 ? 0 : -1;
}

static api_informer_t *start(api_client_t *c, struct seen *s, long page)
{
    api_informer_config_t cfg = {.ref = {.resource = "pods"},
                                 .page_size = page,
                                 .handlers = handlers,
                                 .data = s,
                                 .backoff_min_ms = 10,
                                 .backoff_max_ms = 200};
    api_informer_t *inf = api_informer_new(c, &cfg);
    assert_non_null(inf);
    assert_false(api_informer_has_synced(inf));
    assert_true(fake_run_until(&loop, synced, s));
    return inf;
}

static void test_list_watch(void **state)
{
    (void)state;
    api_client_t *c = api_client_new(&loop, base, NULL);
    struct seen s = {0};
    api_informer_t *inf = start(c, &s, 1); /* one object per page: 3 lists */
    assert_true(api_informer_has_synced(inf));
    assert_int_equal(s.synced, 1);
    assert_int_equal(s.adds, 3);
    assert_int_equal(api_informer_count(inf), 3);
    char rv[32];
    snprintf(rv, sizeof(rv), "%ld", fk.rv);
    assert_string_equal(api_informer_resource_version(inf), rv);
    /* List items get their kind back, as watch events have it. */
    const cJSON *a = api_informer_get(inf, "default", "a");
    assert_non_null(a);
    assert_string_equal(cJSON_GetObjectItem(a, "kind")->valuestring, "Pod");
    assert_non_null(api_informer_get_key(inf, "other/c"));
    assert_null(api_informer_get(inf, "other", "a"));
    api_informer_stats_t st;
    api_informer_stats(inf, &st);
    assert_int_equal(st.lists, 3);
    assert_int_equal(st.relists, 0);

    wait_watching();
    assert_non_null(strstr(fk.last_query, "watch=true"));
    assert_non_null(strstr(fk.last_query, "allowWatchBookmarks=true"));
    char from[64];
    snprintf(from, sizeof(from), "resourceVersion=%s&", rv);
    assert_non_null(strstr(fk.last_query, from));

    cJSON *a2 = fake_obj("default", "a", "web", "n9");
    fake_put(&fk, "pods", a2);
    fake_put(&fk, "pods", fake_obj("default", "d", "web", NULL));
    fake_delete(&fk, "pods", "default", "b");
    wait_counts(&s, 4, 1, 1);
    assert_true(has_log(&s, "U default/a"));
    assert_true(has_log(&s, "A default/d"));
    assert_true(has_log(&s, "D default/b"));
    assert_null(api_informer_get(inf, "default", "b"));
    const cJSON *na = api_informer_get(inf, "default", "a");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(na, "spec"), "nodeName")->valuestring, "n9");
    snprintf(rv, sizeof(rv), "%ld", fk.rv);
    assert_string_equal(api_informer_resource_version(inf), rv);
    api_informer_stats(inf, &st);
    assert_int_equal(st.events, 3);
    assert_int_equal(st.watches, 1);
    api_informer_free(inf);
    api_client_free(c);
}

static void test_selectors_and_scope(void **state)
{
    (void)state;
    api_client_t *c = api_client_new(&loop, base, NULL);
    struct seen s = {0};
    api_informer_config_t cfg = {.ref = {.resource = "pods", .ns = "default"},
                                 .label_selector = "app=web",
                                 .field_selector = "spec.nodeName=n1",
                                 .handlers = handlers,
                                 .data = &s};
    api_informer_t *inf = api_informer_new(c, &cfg);
    assert_true(fake_run_until(&loop, synced, &s));
    assert_int_equal(s.adds, 2);
    assert_string_equal(fk.last_path, "/api/v1/namespaces/default/pods");
    wait_watching();
    assert_non_null(strstr(fk.last_query, "labelSelector=app%3Dweb"));
    assert_non_null(strstr(fk.last_query, "fieldSelector=spec.nodeName%3Dn1"));
    /* Another namespace's change does not reach a namespaced watch. */
    fake_put(&fk, "pods", fake_obj("other", "z", "web", NULL));
    fake_put(&fk, "pods", fake_obj("default", "y", "web", NULL));
    wait_counts(&s, 3, 0, 0);
    assert_true(has_log(&s, "A default/y"));
    api_informer_free(inf);

    /* Cluster-scoped objects are keyed by name alone. */
    fake_put(&fk, "nodes", fake_obj(NULL, "pi-1", NULL, NULL));
    struct seen n = {0};
    api_informer_config_t ncfg = {.ref = {.resource = "nodes"}, .handlers = handlers, .data = &n};
    inf = api_informer_new(c, &ncfg);
    assert_true(fake_run_until(&loop, synced, &n));
    assert_non_null(api_informer_get_key(inf, "pi-1"));
    assert_non_null(api_informer_get(inf, NULL, "pi-1"));
    api_informer_free(inf);
    api_informer_config_t bad = {.ref = {.resource = "widgets"}};
    assert_null(api_informer_new(c, &bad));
    api_client_free(c);
}

static void test_relist_after_error_event(void **state)
{
    (void)state;
    api_client_t *c = api_client_new(&loop, base, NULL);
    struct seen s = {0};
    api_informer_t *inf = start(c, &s, 0);
    wait_watching();
    /* The watch is told 410; what changes before the relist is only
     * visible through the relist. */
    fake_expire_watches(&fk);
    fake_delete(&fk, "pods", "default", "b");
    fake_put(&fk, "pods", fake_obj("default", "a", "web", "n7"));
    fake_put(&fk, "pods", fake_obj("default", "e", "web", NULL));
    fake_compact(&fk);
    wait_counts(&s, 4, 1, 1);
    assert_true(has_log(&s, "D default/b"));
    assert_true(has_log(&s, "U default/a"));
    assert_true(has_log(&s, "A default/e"));
    assert_int_equal(count_log(&s, "A other/c"), 1); /* unchanged: not told again */
    api_informer_stats_t st;
    api_informer_stats(inf, &st);
    assert_int_equal(st.relists, 1);
    assert_true(st.expired >= 1);
    /* And the new watch works. */
    wait_watching();
    fake_put(&fk, "pods", fake_obj("other", "f", NULL, NULL));
    wait_counts(&s, 5, 1, 1);
    assert_int_equal(s.synced, 1);
    api_informer_free(inf);
    api_client_free(c);
}

static void test_relist_after_http_410(void **state)
{
    (void)state;
    fk.gone_mode = FAKE_GONE_HTTP;
    api_client_t *c = api_client_new(&loop, base, NULL);
    struct seen s = {0};
    api_informer_t *inf = start(c, &s, 0);
    wait_watching();
    /* The stream ends; meanwhile history is compacted away: resuming from
     * the old resourceVersion gets 410 Gone and must relist. */
    fake_end_watches(&fk);
    fake_delete(&fk, "pods", "default", "a");
    fake_put(&fk, "pods", fake_obj("default", "g", NULL, NULL));
    fake_compact(&fk);
    wait_counts(&s, 4, 0, 1);
    assert_true(has_log(&s, "D default/a"));
    assert_true(has_log(&s, "A default/g"));
    api_informer_stats_t st;
    api_informer_stats(inf, &st);
    assert_int_equal(st.relists, 1);
    assert_int_equal(st.expired, 1);
    assert_true(st.watches >= 3); /* the first, the 410, the new one */
    api_informer_free(inf);
    api_client_free(c);
}

static void test_reconnect_after_restart(void **state)
{
    (void)state;
    api_client_t *c = api_client_new(&loop, base, NULL);
    struct seen s = {0};
    api_informer_t *inf = start(c, &s, 0);
    wait_watching();
    fake_put(&fk, "pods", fake_obj("default", "a", "web", "n2"));
    wait_counts(&s, 3, 1, 0);

    /* The server goes away; changes happen while it is down. */
    int port = fk.port;
    fake_stop(&fk);
    api_informer_stats_t before;
    api_informer_stats(inf, &before);
    struct seen *sp = &s;
    for (int i = 0; i < 5; i++) /* let the informer fail to reconnect a few times */
        uv_run(&loop, UV_RUN_ONCE);
    fake_put(&fk, "pods", fake_obj("default", "a", "web", "n3"));
    fake_delete(&fk, "pods", "other", "c");
    fake_put(&fk, "pods", fake_obj("default", "h", NULL, NULL));
    assert_int_equal(fake_start(&fk, &loop, port), 0);

    wait_counts(sp, 4, 2, 1);
    assert_true(has_log(&s, "D other/c"));
    assert_true(has_log(&s, "A default/h"));
    /* A marker after the resume: everything before it came exactly once. */
    fake_put(&fk, "pods", fake_obj("default", "marker", NULL, NULL));
    wait_counts(&s, 5, 2, 1);
    assert_int_equal(count_log(&s, "A default/h"), 1);
    assert_int_equal(count_log(&s, "U default/a"), 2);
    api_informer_stats_t st;
    api_informer_stats(inf, &st);
    assert_int_equal(st.relists, 0); /* resumed, not relisted */
    assert_true(st.watches > before.watches);
    const cJSON *a = api_informer_get(inf, "default", "a");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(a, "spec"), "nodeName")->valuestring, "n3");
    api_informer_free(inf);
    api_client_free(c);
}

static cJSON *trim(const cJSON *full, void *data)
{
    (void)data;
    static const char *keep[] = {"metadata.name", "metadata.namespace", "spec.nodeName"};
    return api_json_keep(full, keep, 3);
}

static bool all_trimmed(const char *key, const cJSON *o, void *arg)
{
    int *n = arg;
    (*n)++;
    assert_non_null(key);
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "spec"), "big"));
    assert_null(cJSON_GetObjectItem(o, "kind"));
    assert_null(api_meta_resource_version(o));
    return true;
}

static bool stop_at_one(const char *key, const cJSON *o, void *arg)
{
    (void)key;
    (void)o;
    (*(int *)arg)++;
    return false;
}

/* True once inf relisted and its new watch is open on the fake. */
static bool relisted_and_watching(void *arg)
{
    api_informer_stats_t st;
    api_informer_stats(arg, &st);
    struct watching w = {&fk, 1};
    return st.relists >= 1 && watching(&w);
}

static void test_trim(void **state)
{
    (void)state;
    fk.gone_mode = FAKE_GONE_EVENT;
    api_client_t *c = api_client_new(&loop, base, NULL);
    struct seen s = {0};
    api_informer_config_t cfg = {.ref = {.resource = "pods"},
                                 .trim = trim,
                                 .handlers = handlers,
                                 .data = &s,
                                 .backoff_min_ms = 10};
    api_informer_t *inf = api_informer_new(c, &cfg);
    assert_true(fake_run_until(&loop, synced, &s));
    int n = 0;
    api_informer_foreach(inf, all_trimmed, &n);
    assert_int_equal(n, 3);
    n = 0;
    api_informer_foreach(inf, stop_at_one, &n);
    assert_int_equal(n, 1);
    wait_watching();
    /* A change of a field the cache drops is still an update (new version);
     * a relist of unchanged objects is not, even without resourceVersion in
     * the trimmed copy. */
    fake_put(&fk, "pods", fake_obj("default", "a", "web", "n1"));
    wait_counts(&s, 3, 1, 0);
    fake_expire_watches(&fk);
    assert_true(fake_run_until(&loop, relisted_and_watching, inf));
    api_informer_stats_t st;
    api_informer_stats(inf, &st);
    assert_int_equal(st.relists, 1);
    assert_int_equal(s.updates, 1);
    n = 0;
    api_informer_foreach(inf, all_trimmed, &n);
    assert_int_equal(n, 3);
    fake_delete(&fk, "pods", "default", "b");
    wait_counts(&s, 3, 1, 1);
    api_informer_free(inf);
    api_client_free(c);
}

static void test_failover_and_free(void **state)
{
    (void)state;
    char urls[160];
    snprintf(urls, sizeof(urls), "http://127.0.0.1:%d,%s", fake_closed_port(), base);
    api_client_t *c = api_client_new(&loop, urls, NULL);
    struct seen s = {0};
    api_informer_t *inf = start(c, &s, 0);
    assert_int_equal(s.adds, 3);
    wait_watching();
    api_informer_free(inf);

    /* Freed from a handler in the middle of a list. */
    struct seen s2 = {.free_on_add = true};
    api_informer_config_t cfg = {.ref = {.resource = "pods"}, .handlers = handlers, .data = &s2};
    s2.inf = api_informer_new(c, &cfg);
    struct want w = {&s2, 1, 0, 0};
    assert_true(fake_run_until(&loop, reached, &w));
    for (int i = 0; i < 5; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(s2.adds, 1);
    assert_int_equal(s2.synced, 0);

    /* Freed with its list in flight, then the client. */
    struct seen s3 = {0};
    cfg.data = &s3;
    inf = api_informer_new(c, &cfg);
    uv_run(&loop, UV_RUN_NOWAIT);
    api_informer_free(inf);
    api_client_free(c);
    for (int i = 0; i < 5; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(s3.adds, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_watch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selectors_and_scope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relist_after_error_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relist_after_http_410, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failover_and_free, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
