/*
 * kv.c - the kv_t: writes, reads of one key, the bounded history of events,
 * the TTL heap and memory accounting.
 *
 * Every successful write makes one new immutable entry (or a tombstone for a
 * delete), appends one event holding the new and the previous entry, hands it
 * to the watchers and then trims history. Nothing reads a clock: the caller's
 * now_ms ages history, so every replica trims the same events.
 *
 * kv_oldest_revision is R = (revision of the oldest event in history) - 1, or
 * the current revision when history is empty: every event with revision > R is
 * still held, so a range at any revision in [R, current] can be rebuilt and a
 * watch with after_rev >= R misses nothing. Anything below R is compacted.
 *
 * Modes of kv_put are flags: KV_CREATE, KV_UPDATE, or both (create or update,
 * for records the store owns such as member entries). if_mod_rev with
 * KV_CREATE alone is STORE_EINVAL; with an absent key it is STORE_ENOENT.
 * Running out of memory fails a write with STORE_ENOSPC and changes nothing.
 *
 * Result lifetime: a put's res->kv is the current entry; a delete's res->kv is
 * the deleted entry (its own mod_rev; res->rev is the delete's revision), kept
 * alive in a one-slot graveyard until the next write call.
 */
#include <stdlib.h>
#include <string.h>

#include "raftstore/kv_int.h"

/* glibc's per-allocation overhead, for kv_memory's estimate. */
#define MALLOC_OVERHEAD 16

static size_t entry_size(const struct kv_entry *e)
{
    if (e->kv.key != e->data) return sizeof(*e); /* tombstone: points into its prev entry */
    return sizeof(*e) + strlen(e->kv.key) + 1 + e->kv.value_len;
}

struct kv_entry *kv_entry_new(kv_t *kv, const char *key, size_t key_len, const char *value,
                              size_t len)
{
    struct kv_entry *e = malloc(sizeof(*e) + key_len + 1 + len);
    if (!e) return NULL;
    memset(&e->kv, 0, sizeof(e->kv));
    memcpy(e->data, key, key_len);
    e->data[key_len] = '\0';
    if (len) memcpy(e->data + key_len + 1, value, len);
    e->kv.key = e->data;
    e->kv.value = e->data + key_len + 1;
    e->kv.value_len = len;
    e->refs = 1;
    e->heap_idx = KV_NO_HEAP;
    kv->entry_bytes += sizeof(*e) + key_len + 1 + len + MALLOC_OVERHEAD;
    return e;
}

void kv_entry_unref(kv_t *kv, struct kv_entry *e)
{
    if (!e || --e->refs > 0) return;
    kv->entry_bytes -= entry_size(e) + MALLOC_OVERHEAD;
    free(e);
}

/* ----------------------------------------------------------- TTL heap */

static bool heap_less(const kv_t *kv, size_t a, size_t b)
{
    return kv->heap[a]->kv.expires_ms < kv->heap[b]->kv.expires_ms;
}

static void heap_swap(kv_t *kv, size_t a, size_t b)
{
    struct kv_entry *t = kv->heap[a];
    kv->heap[a] = kv->heap[b];
    kv->heap[b] = t;
    kv->heap[a]->heap_idx = (uint32_t)a;
    kv->heap[b]->heap_idx = (uint32_t)b;
}

static void heap_fix(kv_t *kv, size_t i)
{
    while (i > 0 && heap_less(kv, i, (i - 1) / 2)) {
        heap_swap(kv, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < kv->heap_n && heap_less(kv, l, m)) m = l;
        if (r < kv->heap_n && heap_less(kv, r, m)) m = r;
        if (m == i) return;
        heap_swap(kv, i, m);
        i = m;
    }
}

int kv_heap_reserve(kv_t *kv, size_t n)
{
    if (n <= kv->heap_cap) return 0;
    size_t cap = kv->heap_cap ? kv->heap_cap : 16;
    while (cap < n)
        cap *= 2;
    struct kv_entry **h = realloc(kv->heap, cap * sizeof(*h));
    if (!h) return -1;
    kv->heap = h;
    kv->heap_cap = cap;
    return 0;
}

/* Space must have been reserved. */
void kv_heap_add(kv_t *kv, struct kv_entry *e)
{
    e->heap_idx = (uint32_t)kv->heap_n;
    kv->heap[kv->heap_n++] = e;
    heap_fix(kv, e->heap_idx);
}

static void heap_remove(kv_t *kv, struct kv_entry *e)
{
    size_t i = e->heap_idx;
    if (i == KV_NO_HEAP) return;
    e->heap_idx = KV_NO_HEAP;
    if (i != --kv->heap_n) {
        kv->heap[i] = kv->heap[kv->heap_n];
        kv->heap[i]->heap_idx = (uint32_t)i;
        heap_fix(kv, i);
    }
}

/* ------------------------------------------------------------ history */

static int ring_reserve(kv_t *kv)
{
    if (kv->ring_n < kv->ring_cap) return 0;
    size_t cap = kv->ring_cap ? kv->ring_cap * 2 : 64;
    struct kv_event *r = malloc(cap * sizeof(*r));
    if (!r) return -1;
    for (size_t i = 0; i < kv->ring_n; i++)
        r[i] = *kv_hist_at(kv, i);
    free(kv->ring);
    kv->ring = r;
    kv->ring_cap = cap;
    kv->ring_head = 0;
    return 0;
}

static void ring_shrink(kv_t *kv)
{
    if (kv->ring_cap <= 64 || kv->ring_n >= kv->ring_cap / 4) return;
    size_t cap = kv->ring_cap / 2;
    struct kv_event *r = malloc(cap * sizeof(*r));
    if (!r) return; /* keeping the bigger ring is harmless */
    for (size_t i = 0; i < kv->ring_n; i++)
        r[i] = *kv_hist_at(kv, i);
    free(kv->ring);
    kv->ring = r;
    kv->ring_cap = cap;
    kv->ring_head = 0;
}

static void ring_push(kv_t *kv, uint8_t type, struct kv_entry *e, struct kv_entry *prev,
                      uint64_t now_ms)
{
    struct kv_event *ev = &kv->ring[(kv->ring_head + kv->ring_n) & (kv->ring_cap - 1)];
    ev->time_ms = now_ms;
    ev->kv = e;
    ev->prev = prev;
    ev->type = type;
    kv->ring_n++;
}

static void history_trim(kv_t *kv, uint64_t now_ms)
{
    uint64_t keep_ms = (uint64_t)kv->min_seconds * 1000u;
    while (kv->ring_n > kv->min_events) {
        struct kv_event *ev = kv_hist_at(kv, 0);
        /* Young, or stamped after now (a new leader's clock behind): keep. */
        if (ev->time_ms > now_ms || now_ms - ev->time_ms < keep_ms) break;
        kv_entry_unref(kv, ev->kv);
        kv_entry_unref(kv, ev->prev);
        kv->ring_head = (kv->ring_head + 1) & (kv->ring_cap - 1);
        kv->ring_n--;
    }
    ring_shrink(kv);
}

static void history_clear(kv_t *kv)
{
    for (size_t i = 0; i < kv->ring_n; i++) {
        struct kv_event *ev = kv_hist_at(kv, i);
        kv_entry_unref(kv, ev->kv);
        kv_entry_unref(kv, ev->prev);
    }
    kv->ring_n = 0;
    kv->ring_head = 0;
}

/* ------------------------------------------------------------- kv_t */

kv_t *kv_new(unsigned min_events, unsigned min_seconds, uint64_t start_rev)
{
    kv_t *kv = calloc(1, sizeof(*kv));
    if (!kv) return NULL;
    bt_init(&kv->tree);
    kv->rev = start_rev;
    kv->min_events = min_events;
    kv->min_seconds = min_seconds;
    return kv;
}

static void release_tree_entry(struct kv_entry *e, void *arg)
{
    e->heap_idx = KV_NO_HEAP;
    kv_entry_unref(arg, e);
}

void kv_replace_state(kv_t *kv, struct bt *tree, uint64_t rev)
{
    history_clear(kv);
    kv_entry_unref(kv, kv->held);
    kv->held = NULL;
    kv->heap_n = 0;
    bt_clear(&kv->tree, release_tree_entry, kv);
    kv->tree = *tree;
    bt_init(tree);
    kv->rev = rev;
    struct bt_cursor c;
    for (bt_seek(&kv->tree, "", false, &c); c.leaf; bt_next(&c)) {
        struct kv_entry *e = bt_cursor_get(&c);
        if (e->kv.expires_ms) kv_heap_add(kv, e); /* the caller reserved the space */
    }
}

void kv_free(kv_t *kv)
{
    if (!kv) return;
    kv_watch_end_all(kv, STORE_ESHUTDOWN);
    kv_watch_free(kv);
    struct bt empty;
    bt_init(&empty);
    kv_replace_state(kv, &empty, kv->rev);
    free(kv->ring);
    free(kv->heap);
    free(kv->rbuf);
    free(kv);
}

uint64_t kv_revision(const kv_t *kv)
{
    return kv->rev;
}

size_t kv_count_all(const kv_t *kv)
{
    return kv->tree.count;
}

uint64_t kv_oldest_revision(const kv_t *kv)
{
    if (!kv->ring_n) return kv->rev;
    return kv_event_rev(kv_hist_at(kv, 0)) - 1;
}

const store_kv_t *kv_get(const kv_t *kv, const char *key)
{
    if (!key) return NULL;
    struct kv_entry *e = bt_find(&kv->tree, key);
    return e ? &e->kv : NULL;
}

/* The previous result's deleted entry may go now. */
static void drop_held(kv_t *kv)
{
    kv_entry_unref(kv, kv->held);
    kv->held = NULL;
}

static void finish_write(kv_t *kv, uint8_t type, struct kv_entry *e, struct kv_entry *prev,
                         uint64_t now_ms)
{
    ring_push(kv, type, e, prev, now_ms);
    kv_watch_deliver(kv, kv_hist_at(kv, kv->ring_n - 1));
    history_trim(kv, now_ms);
}

int kv_put(kv_t *kv, const char *key, const char *value, size_t len, enum kv_put_mode mode,
           uint64_t if_mod_rev, uint64_t expires_ms, uint64_t now_ms, store_result_t *res)
{
    memset(res, 0, sizeof(*res));
    res->rev = kv->rev;
    drop_held(kv);
    unsigned m = (unsigned)mode;
    if (!key || !key[0] || (!value && len) || m == 0 || (m & ~3u) || (m == KV_CREATE && if_mod_rev))
        return res->err = STORE_EINVAL;
    struct kv_entry *cur = bt_find(&kv->tree, key);
    if (cur && !(m & KV_UPDATE)) {
        res->kv = &cur->kv;
        return res->err = STORE_EEXIST;
    }
    if (!cur && (!(m & KV_CREATE) || if_mod_rev)) return res->err = STORE_ENOENT;
    if (cur && if_mod_rev && cur->kv.mod_rev != if_mod_rev) {
        res->kv = &cur->kv;
        return res->err = STORE_ECONFLICT;
    }
    if (ring_reserve(kv) != 0 || (expires_ms && kv_heap_reserve(kv, kv->heap_n + 1) != 0))
        return res->err = STORE_ENOSPC;
    struct kv_entry *e = kv_entry_new(kv, key, strlen(key), value, len);
    if (!e) return res->err = STORE_ENOSPC;
    uint64_t rev = kv->rev + 1;
    e->kv.create_rev = cur ? cur->kv.create_rev : rev;
    e->kv.mod_rev = rev;
    e->kv.version = cur ? cur->kv.version + 1 : 1;
    e->kv.expires_ms = expires_ms;
    struct kv_entry *old;
    if (bt_upsert(&kv->tree, e, &old) != 0) {
        kv_entry_unref(kv, e);
        return res->err = STORE_ENOSPC;
    }
    kv->rev = rev;
    if (cur) heap_remove(kv, cur);
    if (expires_ms) kv_heap_add(kv, e);
    e->refs++; /* the map and the event */
    res->rev = rev;
    res->kv = &e->kv;
    /* cur's reference moves from the map to the event. */
    finish_write(kv, STORE_PUT, e, cur, now_ms);
    return STORE_OK;
}

int kv_delete(kv_t *kv, const char *key, uint64_t if_mod_rev, uint64_t now_ms, store_result_t *res)
{
    memset(res, 0, sizeof(*res));
    res->rev = kv->rev;
    drop_held(kv);
    if (!key || !key[0]) return res->err = STORE_EINVAL;
    struct kv_entry *cur = bt_find(&kv->tree, key);
    if (!cur) return res->err = STORE_ENOENT;
    if (if_mod_rev && cur->kv.mod_rev != if_mod_rev) {
        res->kv = &cur->kv;
        return res->err = STORE_ECONFLICT;
    }
    if (ring_reserve(kv) != 0) return res->err = STORE_ENOSPC;
    struct kv_entry *tomb = malloc(sizeof(*tomb));
    if (!tomb) return res->err = STORE_ENOSPC;
    kv->entry_bytes += sizeof(*tomb) + MALLOC_OVERHEAD;
    bt_remove(&kv->tree, key);
    kv->rev++;
    heap_remove(kv, cur);
    tomb->kv = cur->kv;
    tomb->kv.mod_rev = kv->rev;
    tomb->refs = 1;
    tomb->heap_idx = KV_NO_HEAP;
    cur->refs++;
    kv->held = cur;
    res->rev = kv->rev;
    res->kv = &cur->kv;
    finish_write(kv, STORE_DELETE, tomb, cur, now_ms);
    return STORE_OK;
}

/* --------------------------------------------------------------- TTL */

static int cmp_entry_key(const void *a, const void *b)
{
    const struct kv_entry *x = *(struct kv_entry *const *)a, *y = *(struct kv_entry *const *)b;
    return strcmp(x->kv.key, y->kv.key);
}

struct collect {
    struct kv_entry **v;
    size_t n, cap;
    bool failed;
};

static void collect_expired(const kv_t *kv, size_t i, uint64_t now_ms, struct collect *c)
{
    if (i >= kv->heap_n || kv->heap[i]->kv.expires_ms > now_ms || c->failed) return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct kv_entry **v = realloc(c->v, cap * sizeof(*v));
        if (!v) {
            c->failed = true;
            return;
        }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = kv->heap[i];
    collect_expired(kv, 2 * i + 1, now_ms, c);
    collect_expired(kv, 2 * i + 2, now_ms, c);
}

size_t kv_expired(const kv_t *kv, uint64_t now_ms, size_t max,
                  void (*fn)(const store_kv_t *kv, void *arg), void *arg)
{
    if (!kv->heap_n || kv->heap[0]->kv.expires_ms > now_ms || !max) return 0;
    struct collect c = {0};
    collect_expired(kv, 0, now_ms, &c);
    if (c.failed) {
        /* Out of memory: report nothing now, the caller asks again later. */
        free(c.v);
        return 0;
    }
    qsort(c.v, c.n, sizeof(c.v[0]), cmp_entry_key);
    size_t n = c.n < max ? c.n : max;
    /* References keep the entries alive should fn delete them anyway. The
     * counts are bookkeeping, not state, hence the cast. */
    kv_t *mut = (kv_t *)kv;
    for (size_t i = 0; i < n; i++)
        c.v[i]->refs++;
    for (size_t i = 0; i < n; i++)
        fn(&c.v[i]->kv, arg);
    for (size_t i = 0; i < n; i++)
        kv_entry_unref(mut, c.v[i]);
    free(c.v);
    return n;
}

uint64_t kv_next_expiry(const kv_t *kv)
{
    return kv->heap_n ? kv->heap[0]->kv.expires_ms : 0;
}

size_t kv_memory(const kv_t *kv)
{
    return sizeof(*kv) + kv->entry_bytes + bt_memory(&kv->tree) +
           kv->ring_cap * sizeof(struct kv_event) + kv->heap_cap * sizeof(kv->heap[0]) +
           kv->rbuf_cap * sizeof(store_kv_t) + kv_watch_memory(kv);
}
