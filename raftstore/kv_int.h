/*
 * kv_int.h - what the files of the kv state machine share (private to
 * raftstore/kv*.c).
 *
 *   kv.c          the kv_t: writes, reads of one key, history, TTL heap, memory
 *   kv_btree.c    the ordered index of current keys (B+tree with counts)
 *   kv_range.c    prefix ranges, current and reconstructed at older revisions
 *   kv_watch.c    watchers grouped by prefix, replay and live delivery
 *   kv_snapshot.c versioned, checksummed encoding of the current keys
 *
 * Entries are immutable versions of a key: one allocation holding the
 * store_kv_t, the key and the value. A put makes a new entry and the old one
 * moves into history as the event's prev value, so the current map, history
 * events and results share bytes and nothing is copied per watcher. Entries
 * are reference counted (map, events, the one-slot graveyard).
 */
#ifndef PICOKUBE_RAFTSTORE_KV_INT_H
#define PICOKUBE_RAFTSTORE_KV_INT_H

#include "raftstore/kv.h"

#define KV_NO_HEAP UINT32_MAX

struct kv_entry {
    store_kv_t kv; /* key and value point into data (or into a prev entry's
                      data for the tombstone of a delete event) */
    uint32_t refs;
    uint32_t heap_idx; /* position in the TTL heap, KV_NO_HEAP when not in it */
    char data[];       /* key NUL value */
};

/* -------------------------------------------------------------- B+tree */

#define BT_LEAF_CAP 64
#define BT_INNER_CAP 64

struct bt_node {
    uint16_t n; /* leaf: entries; inner: children */
    uint16_t leaf;
};

struct bt_leaf {
    struct bt_node h;
    struct bt_leaf *prev, *next;
    struct kv_entry *e[BT_LEAF_CAP];
};

struct bt_inner {
    struct bt_node h;
    uint32_t cnt[BT_INNER_CAP];  /* keys under each child, for ranks */
    char *sep[BT_INNER_CAP - 1]; /* child i holds keys in [sep[i-1], sep[i]) */
    struct bt_node *c[BT_INNER_CAP];
};

struct bt {
    struct bt_node *root; /* NULL when empty */
    size_t count;
    size_t n_leaves, n_inner, sep_bytes;
};

struct bt_cursor {
    struct bt_leaf *leaf;
    unsigned idx;
};

void bt_init(struct bt *t);
/* Calls release on every entry, then frees the nodes. */
void bt_clear(struct bt *t, void (*release)(struct kv_entry *e, void *arg), void *arg);
struct kv_entry *bt_find(const struct bt *t, const char *key);
/* Inserts e or replaces the entry with the same key (*old gets it, else
 * NULL). Returns 0 or -1 when out of memory (tree unchanged). */
int bt_upsert(struct bt *t, struct kv_entry *e, struct kv_entry **old);
/* Removes and returns the entry with that key, NULL if absent. */
struct kv_entry *bt_remove(struct bt *t, const char *key);
/* First key >= key (strict: > key). Cursor leaf NULL at the end. */
void bt_seek(const struct bt *t, const char *key, bool strict, struct bt_cursor *c);
static inline struct kv_entry *bt_cursor_get(const struct bt_cursor *c)
{
    return c->leaf ? c->leaf->e[c->idx] : NULL;
}
void bt_next(struct bt_cursor *c);
/* Number of keys under prefix (O(log n)). */
size_t bt_count_prefix(const struct bt *t, const char *prefix);
size_t bt_memory(const struct bt *t);

/* ------------------------------------------------------------- history */

struct kv_event {
    uint64_t time_ms;
    struct kv_entry *kv;   /* new state; for a delete a tombstone entry */
    struct kv_entry *prev; /* NULL for a create */
    uint8_t type;          /* enum store_event_type */
};

/* ------------------------------------------------------------ watchers */

struct kv_wgroup;

struct kv_watches {
    struct kv_wgroup **buckets; /* groups of watchers by exact prefix */
    size_t n_buckets, n_groups;
    kv_watcher_t *all_head, *all_tail; /* every watcher, for end_all */
    kv_watcher_t *dead;                /* cancelled during delivery */
    unsigned delivering;               /* nesting of callbacks running */
    size_t *len_n;                     /* groups per prefix length: which lengths to probe */
    size_t len_cap;
    size_t n_watchers;
    size_t bytes;
};

/* ------------------------------------------------------------------ kv */

struct kv {
    struct bt tree;
    uint64_t rev;
    unsigned min_events, min_seconds;

    struct kv_event *ring; /* history, oldest first from ring_head */
    size_t ring_cap, ring_head, ring_n;

    struct kv_entry *held; /* graveyard: a deleted entry the last result points at */

    struct kv_entry **heap; /* min-heap on expires_ms of current entries */
    size_t heap_n, heap_cap;

    store_kv_t *rbuf; /* range results */
    size_t rbuf_cap;

    struct kv_watches w;
    size_t entry_bytes; /* every live entry, current or in history */
};

/* kv.c */
struct kv_entry *kv_entry_new(kv_t *kv, const char *key, size_t key_len, const char *value,
                              size_t len);
void kv_entry_unref(kv_t *kv, struct kv_entry *e);
/* The i-th event of history (0 = oldest). */
static inline struct kv_event *kv_hist_at(const kv_t *kv, size_t i)
{
    return &kv->ring[(kv->ring_head + i) & (kv->ring_cap - 1)];
}
static inline uint64_t kv_event_rev(const struct kv_event *ev)
{
    return ev->kv->kv.mod_rev;
}
void kv_heap_add(kv_t *kv, struct kv_entry *e);
int kv_heap_reserve(kv_t *kv, size_t n);
/* Drops history, the graveyard and the TTL heap; installs tree at rev. */
void kv_replace_state(kv_t *kv, struct bt *tree, uint64_t rev);

/* kv_watch.c */
void kv_watch_deliver(kv_t *kv, const struct kv_event *ev);
size_t kv_watch_memory(const kv_t *kv);
/* Frees the group table once every watcher has ended. */
void kv_watch_free(kv_t *kv);

#endif /* PICOKUBE_RAFTSTORE_KV_INT_H */
