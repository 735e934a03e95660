/*
 * kv_range.c - prefix ranges over a kv_t, now or at an older revision.
 *
 * A range at the current revision walks the B+tree's leaves from the start
 * key; the count under the prefix comes from the tree's subtree counts.
 *
 * A range at an older revision R is rebuilt from history rather than from
 * stored versions: the keys under the prefix that changed after R are
 * collected from the events after R; for each, the first such event's prev
 * value is its state at R (none for a create). Those keys form a sorted
 * overlay merged with the current tree in one pass: a key not in the overlay
 * has not changed since R, so its current entry is its state at R. The cost
 * is O(m log m) in the events after R plus the keys returned.
 *
 * Results are store_kv_t copies in a buffer the kv owns; their keys and
 * values point into entries held by the tree or history, valid until the next
 * write or range.
 */
#include <stdlib.h>
#include <string.h>

#include "raftstore/kv_int.h"

struct ov {
    const char *key;
    size_t first, last; /* history indexes of its first and last event after R */
};

static int rbuf_reserve(kv_t *kv, size_t n)
{
    size_t want = n < 16 ? 16 : n;
    if (want > kv->rbuf_cap || (kv->rbuf_cap > 1024 && kv->rbuf_cap / 4 > want)) {
        store_kv_t *b = realloc(kv->rbuf, want * sizeof(*b));
        if (!b) return want > kv->rbuf_cap ? -1 : 0;
        kv->rbuf = b;
        kv->rbuf_cap = want;
    }
    return 0;
}

static int cmp_ov(const void *a, const void *b)
{
    const struct ov *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c) return c;
    return x->first < y->first ? -1 : x->first > y->first;
}

static bool under(const char *key, const char *prefix, size_t plen)
{
    return strncmp(key, prefix, plen) == 0;
}

static void seek_start(const kv_t *kv, const char *prefix, const char *start_after,
                       struct bt_cursor *c)
{
    if (start_after[0] && strcmp(start_after, prefix) >= 0)
        bt_seek(&kv->tree, start_after, true, c);
    else
        bt_seek(&kv->tree, prefix, false, c);
}

static int range_now(kv_t *kv, const char *prefix, const char *start_after, size_t limit,
                     store_result_t *res)
{
    size_t plen = strlen(prefix);
    size_t count = bt_count_prefix(&kv->tree, prefix);
    size_t cap = limit && limit < count ? limit : count;
    if (rbuf_reserve(kv, cap) != 0) return res->err = STORE_ENOSPC;
    struct bt_cursor c;
    size_t n = 0;
    for (seek_start(kv, prefix, start_after, &c); c.leaf; bt_next(&c)) {
        struct kv_entry *e = bt_cursor_get(&c);
        if (!under(e->kv.key, prefix, plen)) break;
        if (n == cap) {
            res->more = true;
            break;
        }
        kv->rbuf[n++] = e->kv;
    }
    res->kvs = kv->rbuf;
    res->n_kvs = n;
    res->count = count;
    return STORE_OK;
}

static int range_at(kv_t *kv, const char *prefix, const char *start_after, size_t limit,
                    uint64_t rev, store_result_t *res)
{
    size_t plen = strlen(prefix);
    size_t from = (size_t)(rev - kv_oldest_revision(kv)); /* first event after rev */
    size_t m = 0;
    struct ov *ov = malloc((kv->ring_n - from + 1) * sizeof(*ov));
    if (!ov) return res->err = STORE_ENOSPC;
    for (size_t i = from; i < kv->ring_n; i++) {
        const char *key = kv_hist_at(kv, i)->kv->kv.key;
        if (under(key, prefix, plen)) {
            ov[m].key = key;
            ov[m].first = ov[m].last = i;
            m++;
        }
    }
    qsort(ov, m, sizeof(*ov), cmp_ov);
    /* One overlay row per key: its first and last event after rev. */
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k && strcmp(ov[k - 1].key, ov[i].key) == 0)
            ov[k - 1].last = ov[i].first;
        else
            ov[k++] = ov[i];
    }
    m = k;
    size_t count = bt_count_prefix(&kv->tree, prefix);
    for (size_t i = 0; i < m; i++) {
        if (kv_hist_at(kv, ov[i].last)->type == STORE_PUT) count--;
        if (kv_hist_at(kv, ov[i].first)->prev) count++;
    }
    size_t cap = limit && limit < count ? limit : count;
    if (rbuf_reserve(kv, cap) != 0) {
        free(ov);
        return res->err = STORE_ENOSPC;
    }

    size_t o = 0;
    if (start_after[0])
        while (o < m && strcmp(ov[o].key, start_after) <= 0)
            o++;
    struct bt_cursor c;
    seek_start(kv, prefix, start_after, &c);
    size_t n = 0;
    for (;;) {
        struct kv_entry *ce = bt_cursor_get(&c);
        if (ce && !under(ce->kv.key, prefix, plen)) ce = NULL;
        if (!ce && o == m) break;
        int cmp = !ce ? 1 : o == m ? -1 : strcmp(ce->kv.key, ov[o].key);
        struct kv_entry *e;
        if (cmp < 0) {
            e = ce;
            bt_next(&c);
        } else {
            e = kv_hist_at(kv, ov[o].first)->prev;
            o++;
            if (cmp == 0) bt_next(&c);
        }
        if (!e) continue; /* created after rev */
        if (n == cap) {
            res->more = true;
            break;
        }
        kv->rbuf[n++] = e->kv;
    }
    free(ov);
    res->kvs = kv->rbuf;
    res->n_kvs = n;
    res->count = count;
    return STORE_OK;
}

int kv_range(kv_t *kv, const char *prefix, const char *start_after, size_t limit, uint64_t rev,
             store_result_t *res)
{
    memset(res, 0, sizeof(*res));
    res->rev = kv->rev;
    if (!prefix) prefix = "";
    if (!start_after) start_after = "";
    if (rev > kv->rev) return res->err = STORE_EFUTURE;
    if (rev == 0 || rev == kv->rev) return range_now(kv, prefix, start_after, limit, res);
    if (rev < kv_oldest_revision(kv)) return res->err = STORE_ECOMPACTED;
    res->rev = rev;
    return range_at(kv, prefix, start_after, limit, rev, res);
}
