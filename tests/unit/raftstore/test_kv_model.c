/*
 * test_kv_model.c - the kv state machine checked against a plain reference
 * model under random operations (fixed seed, so failures reproduce), and the
 * ordered index under enough keys to build a deep tree.
 *
 * The model keeps every version of every key, so the state at any revision
 * is a lookup: ranges at old revisions, watch replays, history bounds, TTL
 * and snapshots are all compared with it.
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

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static unsigned rndn(unsigned n)
{
    return (unsigned)(rnd() % n);
}

/* ------------------------------------------------------------- model */

#define NKEYS 300
#define NOPS 40000
#define MIN_EVENTS 100
#define MIN_SECONDS 5

struct ver {
    uint64_t rev;
    bool present;
    uint64_t create_rev, mod_rev, version, expires;
    char *val;
    size_t len;
};

struct mkey {
    char name[32];
    struct ver *v;
    size_t n, cap;
};

static struct mkey keys[NKEYS];
static int sorted[NKEYS]; /* key indexes in byte order */
static uint64_t ev_time[NOPS + 2];
static int ev_key[NOPS + 2];
static int ev_type[NOPS + 2];

static const char *prefixes[] = {"", "/r/", "/r/a", "/r/a/", "/r/b/", "/r/ab/", "/r/a/1", "/nope"};

static int cmp_sorted(const void *a, const void *b)
{
    return strcmp(keys[*(const int *)a].name, keys[*(const int *)b].name);
}

static void model_init(void)
{
    static const char *kp[] = {"/r/a/", "/r/b/", "/r/ab/"};
    for (int i = 0; i < NKEYS; i++) {
        snprintf(keys[i].name, sizeof(keys[i].name), "%s%d", kp[i % 3], i);
        keys[i].n = 0;
        sorted[i] = i;
    }
    qsort(sorted, NKEYS, sizeof(int), cmp_sorted);
}

static void model_free(void)
{
    for (int i = 0; i < NKEYS; i++) {
        for (size_t k = 0; k < keys[i].n; k++)
            free(keys[i].v[k].val);
        free(keys[i].v);
        memset(&keys[i], 0, sizeof(keys[i]));
    }
}

static const struct ver *state_at(int k, uint64_t rev)
{
    const struct mkey *m = &keys[k];
    const struct ver *best = NULL;
    for (size_t i = m->n; i-- > 0;)
        if (m->v[i].rev <= rev) {
            best = &m->v[i];
            break;
        }
    return best && best->present ? best : NULL;
}

static void model_push(int k, const struct ver *v)
{
    struct mkey *m = &keys[k];
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->v = realloc(m->v, m->cap * sizeof(*m->v));
        assert_non_null(m->v);
    }
    m->v[m->n++] = *v;
}

static void assert_same(const store_kv_t *s, const struct ver *v, const char *name)
{
    assert_non_null(s);
    assert_non_null(v);
    assert_string_equal(s->key, name);
    assert_int_equal(s->value_len, v->len);
    if (v->len) assert_memory_equal(s->value, v->val, v->len);
    assert_int_equal(s->create_rev, v->create_rev);
    assert_int_equal(s->mod_rev, v->mod_rev);
    assert_int_equal(s->version, v->version);
    assert_int_equal(s->expires_ms, v->expires);
}

/* Checks one range against the model. */
static void check_range(kv_t *kv, const char *prefix, const char *start_after, size_t limit,
                        uint64_t rev)
{
    store_result_t r;
    int rc = kv_range(kv, prefix, start_after, limit, rev, &r);
    uint64_t cur = kv_revision(kv);
    if (rev > cur) {
        assert_int_equal(rc, STORE_EFUTURE);
        return;
    }
    if (rev && rev < kv_oldest_revision(kv)) {
        assert_int_equal(rc, STORE_ECOMPACTED);
        return;
    }
    assert_int_equal(rc, STORE_OK);
    uint64_t at = rev ? rev : cur;
    assert_int_equal(r.rev, at);
    size_t plen = strlen(prefix), count = 0, n = 0;
    bool more = false;
    for (int s = 0; s < NKEYS; s++) {
        int k = sorted[s];
        if (strncmp(keys[k].name, prefix, plen) != 0) continue;
        const struct ver *v = state_at(k, at);
        if (!v) continue;
        count++;
        if (start_after && strcmp(keys[k].name, start_after) <= 0) continue;
        if (limit && n == limit) {
            more = true;
            continue;
        }
        assert_true(n < r.n_kvs);
        assert_same(&r.kvs[n], v, keys[k].name);
        n++;
    }
    assert_int_equal(r.n_kvs, n);
    assert_int_equal(r.count, count);
    assert_int_equal(r.more, more);
}

/* --------------------------------------------------------- watchers */

struct wrec {
    const char *prefix;
    uint64_t last_rev;
    int n;
    int ended, err;
};

static void live_cb(const store_event_t *ev, int err, void *data)
{
    struct wrec *w = data;
    if (!ev) {
        w->err = err;
        w->ended++;
        return;
    }
    assert_int_equal(err, 0);
    uint64_t rev = ev->kv->mod_rev;
    /* In order, none skipped among those under the prefix. */
    for (uint64_t r = w->last_rev + 1; r < rev; r++)
        assert_true(strncmp(keys[ev_key[r]].name, w->prefix, strlen(w->prefix)) != 0);
    int k = ev_key[rev];
    assert_string_equal(ev->kv->key, keys[k].name);
    assert_int_equal(ev->type, ev_type[rev]);
    const struct ver *before = state_at(k, rev - 1);
    if (before)
        assert_same(ev->prev_kv, before, keys[k].name);
    else
        assert_null(ev->prev_kv);
    if (ev->type == STORE_PUT) {
        assert_same(ev->kv, state_at(k, rev), keys[k].name);
    } else {
        assert_non_null(before);
        assert_int_equal(ev->kv->value_len, before->len);
        assert_int_equal(ev->kv->create_rev, before->create_rev);
        assert_int_equal(ev->kv->version, before->version);
    }
    w->last_rev = rev;
    w->n++;
}

static void check_replay(kv_t *kv, const char *prefix, uint64_t after)
{
    struct wrec w = {.prefix = prefix, .last_rev = after};
    kv_watcher_t *h;
    assert_int_equal(kv_watch(kv, prefix, after, live_cb, &w, &h), STORE_OK);
    assert_non_null(h);
    int want = 0;
    for (uint64_t r = after + 1; r <= kv_revision(kv); r++)
        want += strncmp(keys[ev_key[r]].name, prefix, strlen(prefix)) == 0;
    assert_int_equal(w.n, want);
    kv_watch_cancel(kv, h);
}

/* ------------------------------------------------------------ writes */

static uint64_t rand_expiry(uint64_t now)
{
    return rndn(4) == 0 ? now + 1 + rndn(3000) : 0;
}

static uint64_t rand_cas(const struct ver *cur)
{
    unsigned c = rndn(10);
    if (c < 5 || !cur) return c < 8 ? 0 : 1 + rndn(50);
    if (c < 8) return cur->mod_rev;
    return cur->mod_rev + 1 + rndn(3);
}

static void do_write(kv_t *kv, uint64_t now)
{
    int k = (int)rndn(NKEYS);
    const char *name = keys[k].name;
    uint64_t rev = kv_revision(kv);
    const struct ver *cur = state_at(k, rev);
    store_result_t r;
    unsigned op = rndn(100);
    if (op < 75) {
        enum kv_put_mode mode = op < 30 ? KV_CREATE : op < 65 ? KV_UPDATE : KV_CREATE | KV_UPDATE;
        uint64_t cas = mode == KV_CREATE ? 0 : rand_cas(cur);
        uint64_t exp = rand_expiry(now);
        char val[48];
        size_t len = rndn(40);
        for (size_t i = 0; i < len; i++)
            val[i] = (char)('a' + rndn(26));
        int want = STORE_OK;
        if (cur && !(mode & KV_UPDATE))
            want = STORE_EEXIST;
        else if (!cur && (!(mode & KV_CREATE) || cas))
            want = STORE_ENOENT;
        else if (cur && cas && cas != cur->mod_rev)
            want = STORE_ECONFLICT;
        if (want != STORE_OK) {
            assert_int_equal(kv_put(kv, name, val, len, mode, cas, exp, now, &r), want);
            assert_int_equal(kv_revision(kv), rev);
            if (want != STORE_ENOENT) assert_same(r.kv, cur, name);
            return;
        }
        struct ver v = {.rev = rev + 1,
                        .present = true,
                        .create_rev = cur ? cur->create_rev : rev + 1,
                        .mod_rev = rev + 1,
                        .version = cur ? cur->version + 1 : 1,
                        .expires = exp,
                        .val = malloc(len + 1),
                        .len = len};
        assert_non_null(v.val);
        memcpy(v.val, val, len);
        ev_type[rev + 1] = STORE_PUT;
        ev_key[rev + 1] = k;
        ev_time[rev + 1] = now;
        model_push(k, &v); /* before the write: watchers look at the model */
        assert_int_equal(kv_put(kv, name, val, len, mode, cas, exp, now, &r), STORE_OK);
        assert_same(r.kv, &keys[k].v[keys[k].n - 1], name);
    } else {
        uint64_t cas = rand_cas(cur);
        int want = !cur ? STORE_ENOENT : (cas && cas != cur->mod_rev) ? STORE_ECONFLICT : STORE_OK;
        if (want != STORE_OK) {
            assert_int_equal(kv_delete(kv, name, cas, now, &r), want);
            assert_int_equal(kv_revision(kv), rev);
            return;
        }
        struct ver prev = *cur;
        struct ver v = {.rev = rev + 1, .present = false};
        ev_type[rev + 1] = STORE_DELETE;
        ev_key[rev + 1] = k;
        ev_time[rev + 1] = now;
        model_push(k, &v);
        assert_int_equal(kv_delete(kv, name, cas, now, &r), STORE_OK);
        assert_same(r.kv, &prev, name);
    }
    assert_int_equal(r.rev, rev + 1);
    assert_int_equal(kv_revision(kv), rev + 1);
}

/* The oldest revision the history rules allow given the write times. */
static uint64_t model_oldest(uint64_t oldest, uint64_t cur, uint64_t now)
{
    while (cur - oldest > MIN_EVENTS && now - ev_time[oldest + 1] >= MIN_SECONDS * 1000u)
        oldest++;
    return oldest;
}

struct ttl_seen {
    uint64_t now;
    const char *last;
    int n;
};

static void ttl_cb(const store_kv_t *s, void *arg)
{
    struct ttl_seen *t = arg;
    assert_true(s->expires_ms != 0 && s->expires_ms <= t->now);
    if (t->last) assert_true(strcmp(t->last, s->key) < 0);
    t->last = s->key;
    t->n++;
}

static void check_ttl(kv_t *kv, uint64_t now)
{
    uint64_t cur = kv_revision(kv), next = 0;
    int expired = 0;
    for (int k = 0; k < NKEYS; k++) {
        const struct ver *v = state_at(k, cur);
        if (v && v->expires) {
            if (!next || v->expires < next) next = v->expires;
            expired += v->expires <= now;
        }
    }
    assert_int_equal(kv_next_expiry(kv), next);
    struct ttl_seen t = {.now = now};
    assert_int_equal(kv_expired(kv, now, NKEYS, ttl_cb, &t), expired);
    assert_int_equal(t.n, expired);
    if (expired > 1) {
        t = (struct ttl_seen){.now = now};
        assert_int_equal(kv_expired(kv, now, 1, ttl_cb, &t), 1);
    }
}

static void test_random_model(void **state)
{
    (void)state;
    rng_state = 0x9E3779B97F4A7C15ull;
    model_init();
    kv_t *kv = kv_new(MIN_EVENTS, MIN_SECONDS, 0);
    assert_non_null(kv);
    struct wrec live[3] = {{.prefix = "/r/a"}, {.prefix = "/r/b/"}, {.prefix = ""}};
    kv_watcher_t *lw[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(kv_watch(kv, live[i].prefix, 0, live_cb, &live[i], &lw[i]), STORE_OK);
    uint64_t now = 1700000000000ull, oldest = 0;
    int ranges_old = 0;
    for (int op = 0; op < NOPS; op++) {
        now += rndn(50);
        unsigned what = rndn(100);
        if (what < 70) {
            do_write(kv, now);
            oldest = model_oldest(oldest, kv_revision(kv), now);
            assert_int_equal(kv_oldest_revision(kv), oldest);
        } else if (what < 95) {
            uint64_t cur = kv_revision(kv), rev;
            unsigned c = rndn(10);
            if (c < 3)
                rev = 0;
            else if (c < 8)
                rev = oldest + rndn((unsigned)(cur - oldest + 1));
            else
                rev = c == 8 ? cur + 1 : (oldest > 1 ? rndn((unsigned)oldest) + 1 : 0);
            ranges_old += rev && rev < cur && rev >= oldest;
            const char *prefix = prefixes[rndn(sizeof(prefixes) / sizeof(prefixes[0]))];
            const char *start = NULL;
            char buf[40];
            if (rndn(2)) {
                start = keys[rndn(NKEYS)].name;
                if (rndn(3) == 0) {
                    snprintf(buf, sizeof(buf), "%.*s", (int)strlen(start) - 1, start);
                    start = buf;
                }
            }
            check_range(kv, prefix, start, rndn(4) ? rndn(20) : 0, rev);
        } else if (what < 98) {
            int k = (int)rndn(NKEYS);
            const store_kv_t *g = kv_get(kv, keys[k].name);
            const struct ver *v = state_at(k, kv_revision(kv));
            if (v)
                assert_same(g, v, keys[k].name);
            else
                assert_null(g);
            check_ttl(kv, now);
        } else {
            uint64_t cur = kv_revision(kv);
            uint64_t after = oldest + rndn((unsigned)(cur - oldest + 1));
            if (after)
                check_replay(kv, prefixes[rndn(sizeof(prefixes) / sizeof(prefixes[0]))], after);
        }
        if (op == NOPS / 2) {
            /* Through a snapshot and back: same state, history restarts. */
            void *buf;
            size_t len;
            assert_int_equal(kv_snapshot_encode(kv, &buf, &len), STORE_OK);
            kv_t *copy = kv_new(MIN_EVENTS, MIN_SECONDS, 0);
            assert_non_null(copy);
            assert_int_equal(kv_snapshot_restore(copy, buf, len), STORE_OK);
            check_range(copy, "", NULL, 0, 0);
            check_range(copy, "/r/a", NULL, 7, 0);
            kv_free(copy);
            assert_int_equal(kv_snapshot_restore(kv, buf, len), STORE_OK);
            free(buf);
            for (int i = 0; i < 3; i++) {
                assert_int_equal(live[i].ended, 1);
                assert_int_equal(live[i].err, STORE_ECOMPACTED);
            }
            oldest = kv_revision(kv);
            assert_int_equal(kv_oldest_revision(kv), oldest);
            for (int i = 0; i < 3; i++) {
                live[i].last_rev = oldest;
                assert_int_equal(kv_watch(kv, live[i].prefix, 0, live_cb, &live[i], &lw[i]),
                                 STORE_OK);
            }
        }
    }
    /* The live watchers saw every event under their prefix, in order
     * (live_cb checks the gaps), up to the last one. */
    for (int i = 0; i < 3; i++)
        for (uint64_t r = live[i].last_rev + 1; r <= kv_revision(kv); r++)
            assert_true(strncmp(keys[ev_key[r]].name, live[i].prefix, strlen(live[i].prefix)) != 0);
    assert_int_equal(live[2].last_rev, kv_revision(kv));
    assert_true(ranges_old > 1000);
    print_message("revision %llu, %d ranges at older revisions\n",
                  (unsigned long long)kv_revision(kv), ranges_old);
    assert_true(kv_revision(kv) > NOPS / 4);
    kv_free(kv);
    model_free();
}

/* ------------------------------------------------------------- scale */

static void test_deep_tree(void **state)
{
    (void)state;
    enum { N = 60000 };
    kv_t *kv = kv_new(16, 0, 0);
    assert_non_null(kv);
    static int order[N];
    static bool present[N];
    char key[32];
    rng_state = 12345;
    for (int i = 0; i < N; i++)
        order[i] = i;
    for (int i = N - 1; i > 0; i--) {
        int j = (int)rndn((unsigned)i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    store_result_t r;
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "/k/%05d", order[i]);
        assert_int_equal(kv_put(kv, key, key, 8, KV_CREATE, 0, 0, 0, &r), STORE_OK);
        present[order[i]] = true;
    }
    assert_int_equal(kv_count_all(kv), N);
    /* Delete nine in ten at random, then check order, counts and gets. */
    for (int i = 0; i < N; i++) {
        if (rndn(10) == 0) continue;
        snprintf(key, sizeof(key), "/k/%05d", order[i]);
        assert_int_equal(kv_delete(kv, key, 0, 0, &r), STORE_OK);
        present[order[i]] = false;
    }
    static const char *pfx[] = {"/k/", "/k/1", "/k/12", "/k/123", "/k/5999", "/k/0", "/k/6"};
    for (size_t p = 0; p < sizeof(pfx) / sizeof(pfx[0]); p++) {
        uint64_t want = 0;
        for (int i = 0; i < N; i++) {
            snprintf(key, sizeof(key), "/k/%05d", i);
            want += present[i] && strncmp(key, pfx[p], strlen(pfx[p])) == 0;
        }
        assert_int_equal(kv_range(kv, pfx[p], NULL, 1, 0, &r), STORE_OK);
        assert_int_equal(r.count, want);
    }
    assert_int_equal(kv_range(kv, "/k/", NULL, 0, 0, &r), STORE_OK);
    size_t n = 0;
    for (int i = 0; i < N; i++) {
        if (!present[i]) continue;
        snprintf(key, sizeof(key), "/k/%05d", i);
        assert_string_equal(r.kvs[n].key, key);
        n++;
    }
    assert_int_equal(r.n_kvs, n);
    /* Paging through by continue keys visits each once. */
    const char *after = NULL;
    size_t seen = 0;
    char last[32] = "";
    for (;;) {
        assert_int_equal(kv_range(kv, "/k/", after, 500, 0, &r), STORE_OK);
        for (size_t i = 0; i < r.n_kvs; i++) {
            assert_true(strcmp(last, r.kvs[i].key) < 0);
            snprintf(last, sizeof(last), "%s", r.kvs[i].key);
        }
        seen += r.n_kvs;
        if (!r.more) break;
        after = last;
    }
    assert_int_equal(seen, n);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "/k/%05d", i);
        assert_int_equal(kv_get(kv, key) != NULL, present[i]);
        if (present[i]) assert_int_equal(kv_delete(kv, key, 0, 0, &r), STORE_OK);
    }
    assert_int_equal(kv_count_all(kv), 0);
    assert_int_equal(kv_range(kv, "", NULL, 0, 0, &r), STORE_OK);
    assert_int_equal(r.count, 0);
    kv_free(kv);
}

static void test_memory_overhead(void **state)
{
    (void)state;
    enum { N = 20000, V = 512 };
    kv_t *kv = kv_new(1000, 0, 0);
    assert_non_null(kv);
    static char val[V];
    memset(val, 'x', sizeof(val));
    char key[64];
    size_t raw = 0;
    store_result_t r;
    rng_state = 777;
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "/registry/configmaps/ns%u/cm-%08x", rndn(20), (unsigned)rnd());
        if (kv_put(kv, key, val, V, KV_CREATE, 0, 0, 0, &r) == STORE_OK) raw += strlen(key) + V;
    }
    size_t mem = kv_memory(kv);
    print_message("kv_memory %zu for %zu raw bytes (%.3fx)\n", mem, raw, (double)mem / raw);
    /* Per key: a 64-byte header, allocator rounding and the index; the goal
     * for a whole member is 1.5x the raw data. */
    assert_true(mem < raw + raw * 3 / 10);
    assert_true(mem > raw);
    kv_free(kv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_model),
        cmocka_unit_test(test_deep_tree),
        cmocka_unit_test(test_memory_overhead),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
