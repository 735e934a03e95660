/*
 * test_kv.c - unit tests of the MVCC key/value state machine (raftstore/kv.h):
 * revisions and versions, create/update/CAS/delete semantics as etcd gives
 * them to Kubernetes, prefix ranges (now and at older revisions), history
 * bounds, watches, TTL listing and snapshots. The randomized model test and
 * the scale tests are in test_kv_model.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "raftstore/kv.h"

static kv_t *mk(unsigned events, unsigned seconds)
{
    kv_t *kv = kv_new(events, seconds, 0);
    assert_non_null(kv);
    return kv;
}

static const store_kv_t *put(kv_t *kv, const char *key, const char *val, enum kv_put_mode mode,
                             uint64_t if_mod, int want)
{
    store_result_t r;
    int rc = kv_put(kv, key, val, strlen(val), mode, if_mod, 0, 0, &r);
    assert_int_equal(rc, want);
    assert_int_equal(r.err, want);
    return r.kv;
}

static void assert_value(const store_kv_t *s, const char *val)
{
    assert_non_null(s);
    assert_int_equal(s->value_len, strlen(val));
    assert_memory_equal(s->value, val, strlen(val));
}

/* ------------------------------------------------------------ writes */

static void test_revisions_versions(void **state)
{
    (void)state;
    kv_t *kv = mk(100, 0);
    assert_int_equal(kv_revision(kv), 0);
    const store_kv_t *a = put(kv, "/a", "1", KV_CREATE, 0, STORE_OK);
    assert_int_equal(a->create_rev, 1);
    assert_int_equal(a->mod_rev, 1);
    assert_int_equal(a->version, 1);
    put(kv, "/b", "x", KV_CREATE, 0, STORE_OK);
    a = put(kv, "/a", "2", KV_UPDATE, 0, STORE_OK);
    assert_int_equal(a->create_rev, 1);
    assert_int_equal(a->mod_rev, 3);
    assert_int_equal(a->version, 2);
    a = put(kv, "/a", "3", KV_UPDATE, 0, STORE_OK);
    assert_int_equal(a->version, 3);
    assert_int_equal(kv_revision(kv), 4);
    assert_int_equal(kv_count_all(kv), 2);

    /* Re-creating after a delete starts a new life: version 1, new create_rev. */
    store_result_t r;
    assert_int_equal(kv_delete(kv, "/a", 0, 0, &r), STORE_OK);
    assert_int_equal(r.rev, 5);
    assert_value(r.kv, "3");
    assert_int_equal(r.kv->mod_rev, 4);
    a = put(kv, "/a", "new", KV_CREATE, 0, STORE_OK);
    assert_int_equal(a->create_rev, 6);
    assert_int_equal(a->version, 1);

    /* Both flags: create or update. */
    a = put(kv, "/c", "c1", KV_CREATE | KV_UPDATE, 0, STORE_OK);
    assert_int_equal(a->version, 1);
    a = put(kv, "/c", "c2", KV_CREATE | KV_UPDATE, 0, STORE_OK);
    assert_int_equal(a->version, 2);

    /* A start revision carries on from there. */
    kv_t *k2 = kv_new(10, 0, 41);
    assert_int_equal(kv_revision(k2), 41);
    assert_int_equal(kv_oldest_revision(k2), 41);
    a = put(k2, "/x", "1", KV_CREATE, 0, STORE_OK);
    assert_int_equal(a->mod_rev, 42);
    kv_free(k2);
    kv_free(kv);
}

static void test_create_exists(void **state)
{
    (void)state;
    kv_t *kv = mk(100, 0);
    put(kv, "/a", "1", KV_CREATE, 0, STORE_OK);
    const store_kv_t *cur = put(kv, "/a", "2", KV_CREATE, 0, STORE_EEXIST);
    assert_value(cur, "1");
    assert_int_equal(kv_revision(kv), 1);
    assert_value(kv_get(kv, "/a"), "1");
    kv_free(kv);
}

static void test_update_absent(void **state)
{
    (void)state;
    kv_t *kv = mk(100, 0);
    assert_null(put(kv, "/a", "1", KV_UPDATE, 0, STORE_ENOENT));
    assert_null(put(kv, "/a", "1", KV_UPDATE, 5, STORE_ENOENT));
    assert_null(kv_get(kv, "/a"));
    assert_int_equal(kv_revision(kv), 0);
    store_result_t r;
    assert_int_equal(kv_delete(kv, "/a", 0, 0, &r), STORE_ENOENT);
    assert_int_equal(kv_revision(kv), 0);
    kv_free(kv);
}

static void test_cas(void **state)
{
    (void)state;
    kv_t *kv = mk(100, 0);
    put(kv, "/a", "1", KV_CREATE, 0, STORE_OK); /* rev 1 */
    put(kv, "/b", "1", KV_CREATE, 0, STORE_OK); /* rev 2 */
    const store_kv_t *cur = put(kv, "/a", "2", KV_UPDATE, 2, STORE_ECONFLICT);
    assert_value(cur, "1");
    assert_int_equal(cur->mod_rev, 1);
    cur = put(kv, "/a", "2", KV_UPDATE, 1, STORE_OK);
    assert_int_equal(cur->mod_rev, 3);
    /* The old revision no longer matches. */
    cur = put(kv, "/a", "3", KV_UPDATE, 1, STORE_ECONFLICT);
    assert_int_equal(cur->mod_rev, 3);
    assert_value(cur, "2");
    /* A precondition makes no sense on a create. */
    put(kv, "/z", "1", KV_CREATE, 3, STORE_EINVAL);
    kv_free(kv);
}

static void test_delete_cas(void **state)
{
    (void)state;
    kv_t *kv = mk(100, 0);
    put(kv, "/a", "1", KV_CREATE, 0, STORE_OK);
    put(kv, "/a", "2", KV_UPDATE, 0, STORE_OK);
    store_result_t r;
    assert_int_equal(kv_delete(kv, "/a", 1, 0, &r), STORE_ECONFLICT);
    assert_value(r.kv, "2");
    assert_int_equal(r.kv->mod_rev, 2);
    assert_int_equal(r.rev, 2);
    assert_non_null(kv_get(kv, "/a"));
    assert_int_equal(kv_delete(kv, "/a", 2, 0, &r), STORE_OK);
    assert_int_equal(r.rev, 3);
    assert_value(r.kv, "2");
    assert_string_equal(r.kv->key, "/a");
    assert_int_equal(r.kv->version, 2);
    assert_null(kv_get(kv, "/a"));
    assert_int_equal(kv_count_all(kv), 0);
    kv_free(kv);
}

static void test_failed_writes_change_nothing(void **state)
{
    (void)state;
    kv_t *kv = mk(100, 0);
    put(kv, "/a", "1", KV_CREATE, 0, STORE_OK);
    size_t mem = kv_memory(kv);
    store_result_t r;
    put(kv, "/a", "x", KV_CREATE, 0, STORE_EEXIST);
    put(kv, "/b", "x", KV_UPDATE, 0, STORE_ENOENT);
    put(kv, "/a", "x", KV_UPDATE, 9, STORE_ECONFLICT);
    put(kv, "", "x", KV_CREATE, 0, STORE_EINVAL);
    put(kv, "/a", "x", 0, 0, STORE_EINVAL);
    assert_int_equal(kv_put(kv, NULL, "x", 1, KV_CREATE, 0, 0, 0, &r), STORE_EINVAL);
    assert_int_equal(kv_put(kv, "/q", NULL, 3, KV_CREATE, 0, 0, 0, &r), STORE_EINVAL);
    assert_int_equal(kv_delete(kv, "/a", 7, 0, &r), STORE_ECONFLICT);
    assert_int_equal(kv_delete(kv, "/b", 0, 0, &r), STORE_ENOENT);
    assert_int_equal(kv_revision(kv), 1);
    assert_int_equal(kv_count_all(kv), 1);
    assert_int_equal(kv_memory(kv), mem);
    const store_kv_t *a = kv_get(kv, "/a");
    assert_value(a, "1");
    assert_int_equal(a->version, 1);
    assert_int_equal(a->mod_rev, 1);
    assert_int_equal(kv_range(kv, "", NULL, 0, 0, &r), STORE_OK);
    assert_int_equal(r.count, 1);
    kv_free(kv);
}

static void test_empty_value(void **state)
{
    (void)state;
    kv_t *kv = mk(10, 0);
    store_result_t r;
    assert_int_equal(kv_put(kv, "/e", NULL, 0, KV_CREATE, 0, 0, 0, &r), STORE_OK);
    assert_int_equal(kv_get(kv, "/e")->value_len, 0);
    kv_free(kv);
}

/* ------------------------------------------------------------ ranges */

static void fill_pods(kv_t *kv)
{
    const char *keys[] = {"/registry/pods/default/a",     "/registry/pods/default/b",
                          "/registry/pods/default/c",     "/registry/pods/kube-system/d",
                          "/registry/pods/kube-system/e", "/registry/services/default/a",
                          "/registry/pods/default/aa",    "/registry/podsx/a"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        put(kv, keys[i], keys[i] + 10, KV_CREATE, 0, STORE_OK);
}

static void test_range_prefix_limit_continue(void **state)
{
    (void)state;
    kv_t *kv = mk(100, 0);
    fill_pods(kv);
    store_result_t r;
    assert_int_equal(kv_range(kv, "/registry/pods/", NULL, 0, 0, &r), STORE_OK);
    assert_int_equal(r.n_kvs, 6);
    assert_int_equal(r.count, 6);
    assert_false(r.more);
    assert_int_equal(r.rev, 8);
    assert_string_equal(r.kvs[0].key, "/registry/pods/default/a");
    assert_string_equal(r.kvs[1].key, "/registry/pods/default/aa");
    assert_string_equal(r.kvs[5].key, "/registry/pods/kube-system/e");
    assert_value(&r.kvs[0], "pods/default/a");

    /* Pages of 4 then the rest; count stays the total under the prefix. */
    assert_int_equal(kv_range(kv, "/registry/pods/", "", 4, 0, &r), STORE_OK);
    assert_int_equal(r.n_kvs, 4);
    assert_true(r.more);
    assert_int_equal(r.count, 6);
    assert_string_equal(r.kvs[3].key, "/registry/pods/default/c");
    assert_int_equal(kv_range(kv, "/registry/pods/", "/registry/pods/default/c", 4, 0, &r),
                     STORE_OK);
    assert_int_equal(r.n_kvs, 2);
    assert_false(r.more);
    assert_int_equal(r.count, 6);
    assert_string_equal(r.kvs[0].key, "/registry/pods/kube-system/d");

    /* A limit equal to what is left: no more. */
    assert_int_equal(kv_range(kv, "/registry/pods/", "/registry/pods/default/c", 2, 0, &r),
                     STORE_OK);
    assert_int_equal(r.n_kvs, 2);
    assert_false(r.more);

    /* start_after need not be a key. */
    assert_int_equal(kv_range(kv, "/registry/pods/", "/registry/pods/default/ab", 0, 0, &r),
                     STORE_OK);
    assert_int_equal(r.n_kvs, 4);
    assert_string_equal(r.kvs[0].key, "/registry/pods/default/b");

    /* Namespace prefix, whole store, nothing. */
    assert_int_equal(kv_range(kv, "/registry/pods/kube-system/", NULL, 0, 0, &r), STORE_OK);
    assert_int_equal(r.n_kvs, 2);
    assert_int_equal(kv_range(kv, "", NULL, 0, 0, &r), STORE_OK);
    assert_int_equal(r.n_kvs, 8);
    assert_int_equal(r.count, 8);
    assert_int_equal(kv_range(kv, "/registry/nodes/", NULL, 0, 0, &r), STORE_OK);
    assert_int_equal(r.n_kvs, 0);
    assert_int_equal(r.count, 0);
    assert_false(r.more);
    /* A single key as its own prefix. */
    assert_int_equal(kv_range(kv, "/registry/podsx/a", NULL, 0, 0, &r), STORE_OK);
    assert_int_equal(r.n_kvs, 1);
    kv_free(kv);
}

static void test_range_old_revision(void **state)
{
    (void)state;
    kv_t *kv = mk(100, 0);
    store_result_t r;
    put(kv, "/p/a", "a1", KV_CREATE, 0, STORE_OK); /* 1 */
    put(kv, "/p/b", "b1", KV_CREATE, 0, STORE_OK); /* 2 */
    put(kv, "/p/c", "c1", KV_CREATE, 0, STORE_OK); /* 3 */
    put(kv, "/q/x", "x1", KV_CREATE, 0, STORE_OK); /* 4 */
    uint64_t at = kv_revision(kv);
    put(kv, "/p/a", "a2", KV_UPDATE, 0, STORE_OK);               /* 5 */
    assert_int_equal(kv_delete(kv, "/p/b", 0, 0, &r), STORE_OK); /* 6 */
    put(kv, "/p/d", "d1", KV_CREATE, 0, STORE_OK);               /* 7 */
    put(kv, "/p/a", "a3", KV_UPDATE, 0, STORE_OK);               /* 8 */
    put(kv, "/p/b", "b2", KV_CREATE, 0, STORE_OK);               /* 9: re-created */
    assert_int_equal(kv_delete(kv, "/p/c", 0, 0, &r), STORE_OK); /* 10 */

    assert_int_equal(kv_range(kv, "/p/", NULL, 0, at, &r), STORE_OK);
    assert_int_equal(r.rev, at);
    assert_int_equal(r.count, 3);
    assert_int_equal(r.n_kvs, 3);
    assert_string_equal(r.kvs[0].key, "/p/a");
    assert_value(&r.kvs[0], "a1");
    assert_int_equal(r.kvs[0].mod_rev, 1);
    assert_int_equal(r.kvs[0].version, 1);
    assert_string_equal(r.kvs[1].key, "/p/b");
    assert_value(&r.kvs[1], "b1");
    assert_int_equal(r.kvs[1].create_rev, 2);
    assert_string_equal(r.kvs[2].key, "/p/c");
    assert_value(&r.kvs[2], "c1");

    /* Paging at the old revision. */
    assert_int_equal(kv_range(kv, "/p/", NULL, 2, at, &r), STORE_OK);
    assert_int_equal(r.n_kvs, 2);
    assert_true(r.more);
    assert_int_equal(r.count, 3);
    assert_int_equal(kv_range(kv, "/p/", "/p/b", 2, at, &r), STORE_OK);
    assert_int_equal(r.n_kvs, 1);
    assert_false(r.more);
    assert_string_equal(r.kvs[0].key, "/p/c");

    /* Revision 7: a2, b deleted, c1, d1. */
    assert_int_equal(kv_range(kv, "/p/", NULL, 0, 7, &r), STORE_OK);
    assert_int_equal(r.count, 3);
    assert_string_equal(r.kvs[0].key, "/p/a");
    assert_value(&r.kvs[0], "a2");
    assert_int_equal(r.kvs[0].version, 2);
    assert_string_equal(r.kvs[1].key, "/p/c");
    assert_string_equal(r.kvs[2].key, "/p/d");
    assert_int_equal(kv_range(kv, "/p/", "/p/a", 1, 7, &r), STORE_OK);
    assert_int_equal(r.n_kvs, 1);
    assert_true(r.more);
    assert_string_equal(r.kvs[0].key, "/p/c");

    /* Current: a3, b2, d1. */
    assert_int_equal(kv_range(kv, "/p/", NULL, 0, 0, &r), STORE_OK);
    assert_int_equal(r.count, 3);
    assert_value(&r.kvs[1], "b2");
    assert_int_equal(r.kvs[1].create_rev, 9);
    /* Explicit current revision is the same thing. */
    assert_int_equal(kv_range(kv, "/p/", NULL, 0, kv_revision(kv), &r), STORE_OK);
    assert_int_equal(r.count, 3);
    /* At the first write. */
    assert_int_equal(kv_range(kv, "/p/", NULL, 0, 1, &r), STORE_OK);
    assert_int_equal(r.count, 1);
    assert_int_equal(kv_range(kv, "/q/", NULL, 0, 3, &r), STORE_OK);
    assert_int_equal(r.count, 0);
    assert_int_equal(r.n_kvs, 0);
    kv_free(kv);
}

static void never_cb(const store_event_t *ev, int err, void *data)
{
    (void)ev;
    (void)err;
    (void)data;
    fail();
}

static void test_compacted_future(void **state)
{
    (void)state;
    kv_t *kv = mk(3, 0);
    char key[32];
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof(key), "/k/%d", i);
        put(kv, key, "v", KV_CREATE, 0, STORE_OK);
    }
    /* Events 8, 9, 10 are kept: ranges and watches can start after 7. */
    assert_int_equal(kv_oldest_revision(kv), 7);
    store_result_t r;
    assert_int_equal(kv_range(kv, "/k/", NULL, 0, 6, &r), STORE_ECOMPACTED);
    assert_int_equal(r.err, STORE_ECOMPACTED);
    assert_int_equal(kv_range(kv, "/k/", NULL, 0, 7, &r), STORE_OK);
    assert_int_equal(r.count, 7);
    assert_int_equal(kv_range(kv, "/k/", NULL, 0, 11, &r), STORE_EFUTURE);
    assert_int_equal(r.rev, 10);
    kv_watcher_t *w;
    assert_int_equal(kv_watch(kv, "/k/", 6, never_cb, NULL, &w), STORE_ECOMPACTED);
    assert_null(w);
    kv_free(kv);
}

/* ----------------------------------------------------------- watches */

struct rec {
    kv_t *kv;
    kv_watcher_t *w;
    kv_watcher_t *other; /* cancelled at the first event */
    int cancel_at;       /* cancel self at this event count (0 = never) */
    int n;
    int type[64];
    char key[64][64];
    char val[64][64];
    uint64_t rev[64];
    char prev[64][64]; /* "" for none */
    uint64_t prev_rev[64];
    int n_end, err;
};

static void rec_cb(const store_event_t *ev, int err, void *data)
{
    struct rec *r = data;
    if (!ev) {
        r->n_end++;
        r->err = err;
        return;
    }
    assert_int_equal(err, 0);
    assert_true(r->n < 64);
    int i = r->n++;
    r->type[i] = ev->type;
    snprintf(r->key[i], 64, "%s", ev->kv->key);
    snprintf(r->val[i], 64, "%.*s", (int)ev->kv->value_len, ev->kv->value);
    r->rev[i] = ev->kv->mod_rev;
    r->prev[i][0] = 0;
    r->prev_rev[i] = 0;
    if (ev->prev_kv) {
        snprintf(r->prev[i], 64, "%.*s", (int)ev->prev_kv->value_len, ev->prev_kv->value);
        r->prev_rev[i] = ev->prev_kv->mod_rev;
    }
    if (r->other) {
        kv_watch_cancel(r->kv, r->other);
        r->other = NULL;
    }
    if (r->cancel_at && r->n == r->cancel_at) kv_watch_cancel(r->kv, r->w);
}

static void test_watch_replay_live_prev(void **state)
{
    (void)state;
    kv_t *kv = mk(100, 0);
    store_result_t r;
    put(kv, "/p/a", "a1", KV_CREATE, 0, STORE_OK); /* 1 */
    put(kv, "/q/a", "q1", KV_CREATE, 0, STORE_OK); /* 2 */
    put(kv, "/p/a", "a2", KV_UPDATE, 0, STORE_OK); /* 3 */
    put(kv, "/p/b", "b1", KV_CREATE, 0, STORE_OK); /* 4 */

    struct rec all = {.kv = kv}, now = {.kv = kv}, p = {.kv = kv};
    assert_int_equal(kv_watch(kv, "/p/", 1, rec_cb, &p, &p.w), STORE_OK);
    assert_non_null(p.w);
    /* Replayed synchronously: revisions 3 and 4 under /p/. */
    assert_int_equal(p.n, 2);
    assert_int_equal(p.rev[0], 3);
    assert_string_equal(p.val[0], "a2");
    assert_string_equal(p.prev[0], "a1");
    assert_int_equal(p.prev_rev[0], 1);
    assert_int_equal(p.rev[1], 4);
    assert_string_equal(p.prev[1], "");
    assert_int_equal(kv_watch(kv, "", 0, rec_cb, &now, &now.w), STORE_OK);
    assert_int_equal(now.n, 0);
    /* after_rev 0 means "from now", so the earliest replay starts after 1. */
    assert_int_equal(kv_watch(kv, "", 1, rec_cb, &all, &all.w), STORE_OK);
    assert_int_equal(all.n, 3);

    put(kv, "/q/b", "q2", KV_CREATE, 0, STORE_OK);               /* 5 */
    put(kv, "/p/b", "b2", KV_UPDATE, 0, STORE_OK);               /* 6 */
    assert_int_equal(kv_delete(kv, "/p/a", 0, 0, &r), STORE_OK); /* 7 */
    assert_int_equal(p.n, 4);
    assert_int_equal(p.type[2], STORE_PUT);
    assert_string_equal(p.val[2], "b2");
    assert_string_equal(p.prev[2], "b1");
    assert_int_equal(p.type[3], STORE_DELETE);
    assert_string_equal(p.key[3], "/p/a");
    /* A delete's kv is the last state with the delete's revision. */
    assert_int_equal(p.rev[3], 7);
    assert_string_equal(p.val[3], "a2");
    assert_int_equal(p.prev_rev[3], 3);
    assert_int_equal(now.n, 3);
    assert_int_equal(all.n, 6);
    for (int i = 0; i < all.n; i++)
        assert_int_equal(all.rev[i], (uint64_t)i + 2);

    /* A watch from a future revision waits for it. */
    struct rec fut = {.kv = kv};
    assert_int_equal(kv_watch(kv, "", 8, rec_cb, &fut, &fut.w), STORE_OK);
    put(kv, "/p/c", "c", KV_CREATE, 0, STORE_OK); /* 8 */
    assert_int_equal(fut.n, 0);
    put(kv, "/p/d", "d", KV_CREATE, 0, STORE_OK); /* 9 */
    assert_int_equal(fut.n, 1);
    assert_int_equal(fut.rev[0], 9);

    kv_watch_cancel(kv, p.w);
    put(kv, "/p/e", "e", KV_CREATE, 0, STORE_OK);
    assert_int_equal(p.n, 6);
    assert_int_equal(p.n_end, 0);

    kv_watch_end_all(kv, STORE_ECOMPACTED);
    assert_int_equal(all.n_end, 1);
    assert_int_equal(all.err, STORE_ECOMPACTED);
    assert_int_equal(now.n_end, 1);
    assert_int_equal(fut.n_end, 1);
    assert_int_equal(p.n_end, 0);
    put(kv, "/p/f", "f", KV_CREATE, 0, STORE_OK);
    assert_int_equal(all.n, 9);
    kv_free(kv);
}

static void test_watch_cancel_in_callback(void **state)
{
    (void)state;
    kv_t *kv = mk(100, 0);
    put(kv, "/p/0", "1", KV_CREATE, 0, STORE_OK);
    put(kv, "/p/a", "1", KV_CREATE, 0, STORE_OK);
    put(kv, "/p/b", "1", KV_CREATE, 0, STORE_OK);
    put(kv, "/p/c", "1", KV_CREATE, 0, STORE_OK);

    /* Cancelled during its own replay (of 3 events): kv_watch reports no
     * watcher and the replay stops. */
    struct rec a = {.kv = kv, .cancel_at = 2};
    assert_int_equal(kv_watch(kv, "/p/", 1, rec_cb, &a, &a.w), STORE_OK);
    assert_null(a.w);
    assert_int_equal(a.n, 2);

    /* Same prefix, several watchers: one cancels itself, one cancels another
     * that comes after it in the same group. */
    struct rec b = {.kv = kv, .cancel_at = 1}, c = {.kv = kv}, d = {.kv = kv}, e = {.kv = kv};
    assert_int_equal(kv_watch(kv, "/p/", 0, rec_cb, &b, &b.w), STORE_OK);
    assert_int_equal(kv_watch(kv, "/p/", 0, rec_cb, &c, &c.w), STORE_OK);
    assert_int_equal(kv_watch(kv, "/p/", 0, rec_cb, &d, &d.w), STORE_OK);
    assert_int_equal(kv_watch(kv, "/", 0, rec_cb, &e, &e.w), STORE_OK);
    c.other = d.w;
    put(kv, "/p/d", "1", KV_CREATE, 0, STORE_OK);
    assert_int_equal(b.n, 1);
    assert_int_equal(c.n, 1);
    assert_int_equal(d.n, 0);
    assert_int_equal(e.n, 1);
    put(kv, "/p/e", "1", KV_CREATE, 0, STORE_OK);
    assert_int_equal(b.n, 1);
    assert_int_equal(c.n, 2);
    assert_int_equal(d.n, 0);
    assert_int_equal(e.n, 2);
    kv_watch_cancel(kv, c.w);
    kv_watch_cancel(kv, e.w);
    put(kv, "/p/f", "1", KV_CREATE, 0, STORE_OK);
    assert_int_equal(c.n, 2);
    kv_free(kv);
}

struct counter {
    int n, n_end;
};

static void count_cb(const store_event_t *ev, int err, void *data)
{
    struct counter *c = data;
    (void)err;
    if (ev)
        c->n++;
    else
        c->n_end++;
}

static void test_watch_prefix_filtering(void **state)
{
    (void)state;
    kv_t *kv = mk(100, 0);
    enum { N = 1000 };
    static struct counter cnt[N];
    static char prefix[N][48];
    kv_watcher_t *w;
    /* 1,000 watchers: one per pod name (as kubectl get -w on one object does)
     * plus a handful of namespace-wide ones. */
    for (int i = 0; i < N; i++) {
        if (i < 990)
            snprintf(prefix[i], sizeof(prefix[i]), "/registry/pods/ns%d/pod%d", i % 10, i);
        else
            snprintf(prefix[i], sizeof(prefix[i]), "/registry/pods/ns%d/", i - 990);
        assert_int_equal(kv_watch(kv, prefix[i], 0, count_cb, &cnt[i], &w), STORE_OK);
    }
    char key[64];
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "/registry/pods/ns%d/pod%d", i % 10, i);
        put(kv, key, "v", KV_CREATE, 0, STORE_OK);
    }
    put(kv, "/registry/services/ns0/pod0", "v", KV_CREATE, 0, STORE_OK);
    for (int i = 0; i < 990; i++) {
        /* Prefixes are byte prefixes: ".../pod1" also matches ".../pod11". */
        int want = 0;
        for (int k = 0; k < 50; k++) {
            snprintf(key, sizeof(key), "/registry/pods/ns%d/pod%d", k % 10, k);
            want += strncmp(key, prefix[i], strlen(prefix[i])) == 0;
        }
        assert_int_equal(cnt[i].n, want);
    }
    for (int i = 990; i < N; i++)
        assert_int_equal(cnt[i].n, 5);
    kv_free(kv);
    for (int i = 0; i < N; i++)
        assert_int_equal(cnt[i].n_end, 1);
}

/* ----------------------------------------------------------- history */

static void test_history_bound_events(void **state)
{
    (void)state;
    kv_t *kv = mk(5, 0);
    store_result_t r;
    for (int i = 0; i < 20; i++)
        assert_int_equal(kv_put(kv, "/a", "v", 1, KV_CREATE | KV_UPDATE, 0, 0, i, &r), STORE_OK);
    assert_int_equal(kv_revision(kv), 20);
    assert_int_equal(kv_oldest_revision(kv), 15);
    struct rec w = {.kv = kv};
    assert_int_equal(kv_watch(kv, "", 15, rec_cb, &w, &w.w), STORE_OK);
    assert_int_equal(w.n, 5);
    assert_int_equal(w.rev[0], 16);
    kv_watch_cancel(kv, w.w);
    /* With no history at all, only "now" is available. */
    kv_t *none = mk(0, 0);
    assert_int_equal(kv_put(none, "/a", "v", 1, KV_CREATE, 0, 0, 0, &r), STORE_OK);
    assert_int_equal(kv_delete(none, "/a", 0, 0, &r), STORE_OK);
    assert_value(r.kv, "v"); /* still readable until the next write */
    assert_int_equal(kv_oldest_revision(none), 2);
    kv_free(none);
    kv_free(kv);
}

static void test_history_bound_seconds(void **state)
{
    (void)state;
    kv_t *kv = mk(2, 10); /* at least 2 events and everything younger than 10 s */
    store_result_t r;
    for (int i = 0; i < 10; i++) /* revisions 1..10 at t = 0 .. 9 s */
        assert_int_equal(
            kv_put(kv, "/a", "v", 1, KV_CREATE | KV_UPDATE, 0, 0, 1000000 + (uint64_t)i * 1000, &r),
            STORE_OK);
    assert_int_equal(kv_oldest_revision(kv), 0);
    /* t = 15 s: events at t <= 5 s are 10 s old or more. */
    assert_int_equal(kv_put(kv, "/a", "v", 1, KV_UPDATE, 0, 0, 1000000 + 15000, &r), STORE_OK);
    assert_int_equal(kv_oldest_revision(kv), 6);
    /* Much later only the event count holds history. */
    assert_int_equal(kv_put(kv, "/a", "v", 1, KV_UPDATE, 0, 0, 1000000 + 100000, &r), STORE_OK);
    assert_int_equal(kv_revision(kv), 12);
    assert_int_equal(kv_oldest_revision(kv), 10);
    /* A clock that went back keeps events rather than dropping them. */
    assert_int_equal(kv_put(kv, "/a", "v", 1, KV_UPDATE, 0, 0, 500, &r), STORE_OK);
    assert_int_equal(kv_oldest_revision(kv), 10);
    kv_free(kv);
}

/* --------------------------------------------------------------- TTL */

struct names {
    int n;
    char key[16][32];
};

static void name_cb(const store_kv_t *s, void *arg)
{
    struct names *n = arg;
    snprintf(n->key[n->n++], 32, "%s", s->key);
}

static void test_ttl(void **state)
{
    (void)state;
    kv_t *kv = mk(100, 0);
    store_result_t r;
    assert_int_equal(kv_next_expiry(kv), 0);
    assert_int_equal(kv_put(kv, "/l/c", "v", 1, KV_CREATE, 0, 3000, 0, &r), STORE_OK);
    assert_int_equal(kv_put(kv, "/l/a", "v", 1, KV_CREATE, 0, 2000, 0, &r), STORE_OK);
    assert_int_equal(kv_put(kv, "/l/b", "v", 1, KV_CREATE, 0, 1000, 0, &r), STORE_OK);
    assert_int_equal(kv_put(kv, "/l/n", "v", 1, KV_CREATE, 0, 0, 0, &r), STORE_OK);
    assert_int_equal(r.kv->expires_ms, 0);
    assert_int_equal(kv_next_expiry(kv), 1000);
    struct names n = {0};
    assert_int_equal(kv_expired(kv, 999, 10, name_cb, &n), 0);
    assert_int_equal(kv_expired(kv, 2000, 10, name_cb, &n), 2);
    assert_string_equal(n.key[0], "/l/a"); /* key order, not expiry order */
    assert_string_equal(n.key[1], "/l/b");
    memset(&n, 0, sizeof(n));
    assert_int_equal(kv_expired(kv, 5000, 2, name_cb, &n), 2);
    assert_string_equal(n.key[1], "/l/b");
    /* Read-only: nothing changed. */
    assert_int_equal(kv_revision(kv), 4);
    /* Renewing moves the expiry; dropping it removes the key from the list. */
    assert_int_equal(kv_put(kv, "/l/b", "v", 1, KV_UPDATE, 0, 9000, 0, &r), STORE_OK);
    assert_int_equal(kv_next_expiry(kv), 2000);
    assert_int_equal(kv_put(kv, "/l/a", "v", 1, KV_UPDATE, 0, 0, 0, &r), STORE_OK);
    assert_int_equal(kv_next_expiry(kv), 3000);
    assert_int_equal(kv_delete(kv, "/l/c", 0, 0, &r), STORE_OK);
    assert_int_equal(kv_next_expiry(kv), 9000);
    memset(&n, 0, sizeof(n));
    assert_int_equal(kv_expired(kv, 100000, 10, name_cb, &n), 1);
    assert_string_equal(n.key[0], "/l/b");
    kv_free(kv);
}

/* ---------------------------------------------------------- snapshots */

static void test_snapshot_round_trip(void **state)
{
    (void)state;
    kv_t *kv = mk(100, 0);
    store_result_t r;
    fill_pods(kv);
    assert_int_equal(kv_put(kv, "/l/x", "lease", 5, KV_CREATE, 0, 4242, 0, &r), STORE_OK);
    put(kv, "/registry/pods/default/a", "again", KV_UPDATE, 0, STORE_OK);
    assert_int_equal(kv_delete(kv, "/registry/podsx/a", 0, 0, &r), STORE_OK);
    assert_int_equal(kv_put(kv, "/empty", NULL, 0, KV_CREATE, 0, 0, 0, &r), STORE_OK);
    void *buf;
    size_t len;
    assert_int_equal(kv_snapshot_encode(kv, &buf, &len), STORE_OK);

    kv_t *b = kv_new(100, 0, 0);
    put(b, "/junk", "j", KV_CREATE, 0, STORE_OK);
    struct rec w = {.kv = b};
    assert_int_equal(kv_watch(b, "", 0, rec_cb, &w, &w.w), STORE_OK);
    assert_int_equal(kv_snapshot_restore(b, buf, len), STORE_OK);
    assert_int_equal(w.n_end, 1);
    assert_int_equal(w.err, STORE_ECOMPACTED);
    assert_int_equal(kv_revision(b), kv_revision(kv));
    assert_int_equal(kv_oldest_revision(b), kv_revision(kv));
    assert_null(kv_get(b, "/junk"));
    assert_int_equal(kv_count_all(b), kv_count_all(kv));
    store_result_t ra, rb;
    assert_int_equal(kv_range(kv, "", NULL, 0, 0, &ra), STORE_OK);
    assert_int_equal(kv_range(b, "", NULL, 0, 0, &rb), STORE_OK);
    assert_int_equal(ra.n_kvs, rb.n_kvs);
    for (size_t i = 0; i < ra.n_kvs; i++) {
        assert_string_equal(ra.kvs[i].key, rb.kvs[i].key);
        assert_int_equal(ra.kvs[i].value_len, rb.kvs[i].value_len);
        assert_memory_equal(ra.kvs[i].value, rb.kvs[i].value, ra.kvs[i].value_len);
        assert_int_equal(ra.kvs[i].create_rev, rb.kvs[i].create_rev);
        assert_int_equal(ra.kvs[i].mod_rev, rb.kvs[i].mod_rev);
        assert_int_equal(ra.kvs[i].version, rb.kvs[i].version);
        assert_int_equal(ra.kvs[i].expires_ms, rb.kvs[i].expires_ms);
    }
    assert_int_equal(kv_next_expiry(b), 4242);
    /* Encoding is deterministic: the same state gives the same bytes. */
    void *buf2;
    size_t len2;
    assert_int_equal(kv_snapshot_encode(b, &buf2, &len2), STORE_OK);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    free(buf2);
    /* Writes carry on from the snapshot's revision. */
    const store_kv_t *a = put(b, "/registry/pods/default/a", "3", KV_UPDATE, 0, STORE_OK);
    assert_int_equal(a->mod_rev, kv_revision(kv) + 1);
    assert_int_equal(a->version, 3);
    free(buf);
    kv_free(b);
    kv_free(kv);
}

static void test_snapshot_corrupt(void **state)
{
    (void)state;
    kv_t *kv = mk(100, 0);
    fill_pods(kv);
    void *buf;
    size_t len;
    assert_int_equal(kv_snapshot_encode(kv, &buf, &len), STORE_OK);
    kv_t *b = mk(100, 0);
    put(b, "/keep", "k", KV_CREATE, 0, STORE_OK);
    unsigned char *p = buf;
    /* Every single flipped byte, and every truncation, is refused. */
    for (size_t i = 0; i < len; i++) {
        p[i] ^= 0x5a;
        assert_int_equal(kv_snapshot_restore(b, buf, len), STORE_EINVAL);
        p[i] ^= 0x5a;
    }
    for (size_t l = 0; l < len; l += 7)
        assert_int_equal(kv_snapshot_restore(b, buf, l), STORE_EINVAL);
    assert_int_equal(kv_snapshot_restore(b, NULL, 0), STORE_EINVAL);
    assert_int_equal(kv_revision(b), 1);
    assert_value(kv_get(b, "/keep"), "k");
    assert_int_equal(kv_count_all(b), 1);
    /* The good one still works. */
    assert_int_equal(kv_snapshot_restore(b, buf, len), STORE_OK);
    assert_int_equal(kv_count_all(b), 8);
    free(buf);
    kv_free(b);
    kv_free(kv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_revisions_versions),
        cmocka_unit_test(test_create_exists),
        cmocka_unit_test(test_update_absent),
        cmocka_unit_test(test_cas),
        cmocka_unit_test(test_delete_cas),
        cmocka_unit_test(test_failed_writes_change_nothing),
        cmocka_unit_test(test_empty_value),
        cmocka_unit_test(test_range_prefix_limit_continue),
        cmocka_unit_test(test_range_old_revision),
        cmocka_unit_test(test_compacted_future),
        cmocka_unit_test(test_watch_replay_live_prev),
        cmocka_unit_test(test_watch_cancel_in_callback),
        cmocka_unit_test(test_watch_prefix_filtering),
        cmocka_unit_test(test_history_bound_events),
        cmocka_unit_test(test_history_bound_seconds),
        cmocka_unit_test(test_ttl),
        cmocka_unit_test(test_snapshot_round_trip),
        cmocka_unit_test(test_snapshot_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
