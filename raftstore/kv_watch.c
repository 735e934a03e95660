/*
 * kv_watch.c - watchers of a kv_t: history replay and live delivery.
 *
 * Watchers are grouped by their exact prefix in a hash table. An event for
 * key K can only match prefixes of K, so delivery hashes K's prefixes
 * incrementally (FNV-1a) at the lengths some group uses and visits just the
 * matching groups: the cost follows the watchers that match, not the number
 * of watchers. Every watcher gets the same store_event_t pointing into the
 * history entries; nothing is copied per watcher.
 *
 * Callbacks may cancel any watcher (their own included) and start new ones.
 * While callbacks run (`delivering`), cancelled watchers are only marked and
 * queued; they are unlinked and freed once the outermost delivery returns, so
 * the lists being walked stay intact. A watcher started inside a callback
 * records the current revision as seen, so the event being delivered is not
 * handed to it twice.
 *
 * kv_watch sets *out before replaying history, so a callback can cancel its
 * own watch during the replay; kv_watch then returns STORE_OK with *out NULL.
 */
#include <stdlib.h>
#include <string.h>

#include "raftstore/kv_int.h"

struct kv_watcher {
    kv_watcher_t *gnext, *gprev; /* in its group */
    kv_watcher_t *anext, *aprev; /* in the list of all */
    kv_watcher_t *dnext;         /* in the queue of cancelled */
    struct kv_wgroup *g;
    uint64_t after_rev; /* events up to here were replayed or are older */
    store_watch_cb cb;
    void *data;
    bool dead;
};

struct kv_wgroup {
    struct kv_wgroup *bnext;
    uint64_t hash;
    size_t plen;
    kv_watcher_t *head, *tail;
    char prefix[];
};

#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME 1099511628211ull

static inline uint64_t fnv_step(uint64_t h, unsigned char c)
{
    return (h ^ c) * FNV_PRIME;
}

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++)
        h = fnv_step(h, (unsigned char)s[i]);
    return h;
}

static struct kv_wgroup *group_find(const struct kv_watches *w, uint64_t h, const char *p,
                                    size_t plen)
{
    if (!w->n_buckets) return NULL;
    for (struct kv_wgroup *g = w->buckets[h & (w->n_buckets - 1)]; g; g = g->bnext)
        if (g->hash == h && g->plen == plen && memcmp(g->prefix, p, plen) == 0) return g;
    return NULL;
}

static int table_grow(struct kv_watches *w)
{
    size_t nb = w->n_buckets ? w->n_buckets * 2 : 16;
    struct kv_wgroup **b = calloc(nb, sizeof(*b));
    if (!b) return -1;
    for (size_t i = 0; i < w->n_buckets; i++) {
        struct kv_wgroup *g = w->buckets[i];
        while (g) {
            struct kv_wgroup *next = g->bnext;
            g->bnext = b[g->hash & (nb - 1)];
            b[g->hash & (nb - 1)] = g;
            g = next;
        }
    }
    free(w->buckets);
    w->buckets = b;
    w->n_buckets = nb;
    return 0;
}

static struct kv_wgroup *group_get(struct kv_watches *w, const char *prefix)
{
    size_t plen = strlen(prefix);
    uint64_t h = fnv(prefix, plen);
    struct kv_wgroup *g = group_find(w, h, prefix, plen);
    if (g) return g;
    if (w->n_groups >= w->n_buckets && table_grow(w) != 0) return NULL;
    if (plen >= w->len_cap) {
        size_t cap = plen + 16;
        size_t *l = realloc(w->len_n, cap * sizeof(*l));
        if (!l) return NULL;
        memset(l + w->len_cap, 0, (cap - w->len_cap) * sizeof(*l));
        w->len_n = l;
        w->len_cap = cap;
    }
    g = calloc(1, sizeof(*g) + plen + 1);
    if (!g) return NULL;
    memcpy(g->prefix, prefix, plen + 1);
    g->plen = plen;
    g->hash = h;
    g->bnext = w->buckets[h & (w->n_buckets - 1)];
    w->buckets[h & (w->n_buckets - 1)] = g;
    w->n_groups++;
    w->len_n[plen]++;
    w->bytes += sizeof(*g) + plen + 1 + 16;
    return g;
}

static void group_drop(struct kv_watches *w, struct kv_wgroup *g)
{
    struct kv_wgroup **pp = &w->buckets[g->hash & (w->n_buckets - 1)];
    while (*pp != g)
        pp = &(*pp)->bnext;
    *pp = g->bnext;
    w->n_groups--;
    w->len_n[g->plen]--;
    w->bytes -= sizeof(*g) + g->plen + 1 + 16;
    free(g);
}

static void watcher_free(struct kv_watches *ws, kv_watcher_t *w)
{
    struct kv_wgroup *g = w->g;
    if (w->gprev)
        w->gprev->gnext = w->gnext;
    else
        g->head = w->gnext;
    if (w->gnext)
        w->gnext->gprev = w->gprev;
    else
        g->tail = w->gprev;
    if (w->aprev)
        w->aprev->anext = w->anext;
    else
        ws->all_head = w->anext;
    if (w->anext)
        w->anext->aprev = w->aprev;
    else
        ws->all_tail = w->aprev;
    ws->n_watchers--;
    ws->bytes -= sizeof(*w) + 16;
    free(w);
    if (!g->head) group_drop(ws, g);
}

static void sweep(struct kv_watches *ws)
{
    if (ws->delivering) return;
    while (ws->dead) {
        kv_watcher_t *w = ws->dead;
        ws->dead = w->dnext;
        watcher_free(ws, w);
    }
}

static void mark_dead(struct kv_watches *ws, kv_watcher_t *w)
{
    w->dead = true;
    w->dnext = ws->dead;
    ws->dead = w;
}

static store_event_t event_of(const struct kv_event *ev)
{
    store_event_t sev = {
        .type = (enum store_event_type)ev->type,
        .kv = &ev->kv->kv,
        .prev_kv = ev->prev ? &ev->prev->kv : NULL,
    };
    return sev;
}

int kv_watch(kv_t *kv, const char *prefix, uint64_t after_rev, store_watch_cb cb, void *data,
             kv_watcher_t **out)
{
    struct kv_watches *ws = &kv->w;
    *out = NULL;
    if (!cb) return STORE_EINVAL;
    if (!prefix) prefix = "";
    uint64_t oldest = kv_oldest_revision(kv);
    if (after_rev && after_rev < oldest) return STORE_ECOMPACTED;
    kv_watcher_t *w = calloc(1, sizeof(*w));
    if (!w) return STORE_ENOSPC;
    struct kv_wgroup *g = group_get(ws, prefix);
    if (!g) {
        free(w);
        return STORE_ENOSPC;
    }
    w->g = g;
    w->cb = cb;
    w->data = data;
    w->after_rev = after_rev > kv->rev ? after_rev : kv->rev;
    w->gprev = g->tail;
    if (g->tail)
        g->tail->gnext = w;
    else
        g->head = w;
    g->tail = w;
    w->aprev = ws->all_tail;
    if (ws->all_tail)
        ws->all_tail->anext = w;
    else
        ws->all_head = w;
    ws->all_tail = w;
    ws->n_watchers++;
    ws->bytes += sizeof(*w) + 16;
    *out = w;

    if (after_rev && after_rev < kv->rev) {
        size_t plen = g->plen;
        ws->delivering++;
        for (size_t i = (size_t)(after_rev - oldest); i < kv->ring_n && !w->dead; i++) {
            const struct kv_event *ev = kv_hist_at(kv, i);
            if (strncmp(ev->kv->kv.key, prefix, plen) != 0) continue;
            store_event_t sev = event_of(ev);
            cb(&sev, 0, data);
        }
        ws->delivering--;
        if (w->dead) *out = NULL;
        sweep(ws);
    }
    return STORE_OK;
}

void kv_watch_cancel(kv_t *kv, kv_watcher_t *w)
{
    if (!w || w->dead) return;
    mark_dead(&kv->w, w);
    sweep(&kv->w);
}

void kv_watch_deliver(kv_t *kv, const struct kv_event *ev)
{
    struct kv_watches *ws = &kv->w;
    if (!ws->n_watchers) return;
    store_event_t sev = event_of(ev);
    uint64_t rev = kv_event_rev(ev);
    const char *key = sev.kv->key;
    uint64_t h = FNV_OFFSET;
    ws->delivering++;
    for (size_t i = 0; i < ws->len_cap; i++) {
        /* h is the hash of key's first i bytes. */
        if (ws->len_n[i]) {
            struct kv_wgroup *g = group_find(ws, h, key, i);
            for (kv_watcher_t *w = g ? g->head : NULL; w; w = w->gnext)
                if (!w->dead && rev > w->after_rev) {
                    w->after_rev = rev;
                    w->cb(&sev, 0, w->data);
                }
        }
        if (!key[i]) break;
        h = fnv_step(h, (unsigned char)key[i]);
    }
    ws->delivering--;
    sweep(ws);
}

void kv_watch_end_all(kv_t *kv, int err)
{
    struct kv_watches *ws = &kv->w;
    kv_watcher_t *last = ws->all_tail;
    ws->delivering++;
    for (kv_watcher_t *w = ws->all_head; w; w = w->anext) {
        if (!w->dead) {
            mark_dead(ws, w);
            w->cb(NULL, err, w->data);
        }
        if (w == last) break;
    }
    ws->delivering--;
    sweep(ws);
}

size_t kv_watch_memory(const kv_t *kv)
{
    return kv->w.bytes + kv->w.n_buckets * sizeof(kv->w.buckets[0]) +
           kv->w.len_cap * sizeof(kv->w.len_n[0]);
}

void kv_watch_free(kv_t *kv)
{
    free(kv->w.buckets);
    free(kv->w.len_n);
    memset(&kv->w, 0, sizeof(kv->w));
}
