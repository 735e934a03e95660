/*
 * kv.h - the MVCC key/value state machine (private to raftstore/).
 *
 * A kv_t knows nothing of raft: it is the deterministic state every member
 * applies log entries to (and the leader's volatile tier is a second kv_t).
 * It owns the ordered map of current keys, the global revision, the bounded
 * history of events (every change with its previous value) that serves
 * watches and ranges at older revisions, the watchers, and the snapshot
 * encoding.
 *
 * Determinism: nothing in here reads a clock or random source for state; the
 * caller passes `now_ms` (decided before the entry entered the log) for
 * history ageing and expiry, so every replica holds the same bytes.
 */
#ifndef PICOKUBE_RAFTSTORE_KV_H
#define PICOKUBE_RAFTSTORE_KV_H

#include "raftstore/raftstore.h"

typedef struct kv kv_t;
typedef struct kv_watcher kv_watcher_t;

enum kv_put_mode {
    KV_CREATE = 1, /* fail STORE_EEXIST if present */
    KV_UPDATE = 2, /* fail STORE_ENOENT if absent */
};

/* History keeps at least `min_events` events and every event younger than
 * `min_seconds` (by the now_ms of the writes). Start revision is `start_rev`
 * (0 for a new store). */
kv_t *kv_new(unsigned min_events, unsigned min_seconds, uint64_t start_rev);
void kv_free(kv_t *kv);

uint64_t kv_revision(const kv_t *kv);
size_t kv_count_all(const kv_t *kv);
/* Oldest revision a watch or range can still start after / read at. */
uint64_t kv_oldest_revision(const kv_t *kv);

/* Writes. Each successful write increments the revision by one, records an
 * event in history, and notifies matching watchers synchronously. A failed
 * write changes nothing. `res` is filled (res->kv points at kv-owned memory
 * valid until the next call that modifies kv). */
int kv_put(kv_t *kv, const char *key, const char *value, size_t len, enum kv_put_mode mode,
           uint64_t if_mod_rev, uint64_t expires_ms, uint64_t now_ms, store_result_t *res);
int kv_delete(kv_t *kv, const char *key, uint64_t if_mod_rev, uint64_t now_ms,
              store_result_t *res);

/* Reads. Pointers in res stay valid until the next call that modifies kv or
 * the next kv_range on it. */
const store_kv_t *kv_get(const kv_t *kv, const char *key);
int kv_range(kv_t *kv, const char *prefix, const char *start_after, size_t limit, uint64_t rev,
             store_result_t *res);

/* Calls fn for each key whose expires_ms is set and <= now_ms, in key order,
 * at most `max` keys. Read-only: the caller proposes the deletions. */
size_t kv_expired(const kv_t *kv, uint64_t now_ms, size_t max,
                  void (*fn)(const store_kv_t *kv, void *arg), void *arg);
/* The smallest expires_ms among keys that have one; 0 if none. */
uint64_t kv_next_expiry(const kv_t *kv);

/* Watchers: replay history after after_rev (0 = from now), then every new
 * event. STORE_ECOMPACTED if after_rev < kv_oldest_revision(kv). The callback
 * must not modify kv. */
int kv_watch(kv_t *kv, const char *prefix, uint64_t after_rev, store_watch_cb cb, void *data,
             kv_watcher_t **out);
void kv_watch_cancel(kv_t *kv, kv_watcher_t *w);
/* Ends every watcher with err (their callback gets ev NULL, err), then frees them. */
void kv_watch_end_all(kv_t *kv, int err);

/* Snapshot of current keys and revision (history is not included: after a
 * restore, watches start at the snapshot's revision). Encoding is
 * versioned and checksummed. */
int kv_snapshot_encode(const kv_t *kv, void **buf, size_t *len);
/* The same in two steps, so the encoding can run off the loop thread:
 * kv_freeze (loop thread) takes a consistent view of the current keys;
 * kv_frozen_encode (any thread, while the kv goes on changing) encodes it;
 * kv_frozen_release (loop thread) lets the view go. */
typedef struct kv_frozen kv_frozen_t;
kv_frozen_t *kv_freeze(kv_t *kv);
int kv_frozen_encode(const kv_frozen_t *f, void **buf, size_t *len);
void kv_frozen_release(kv_frozen_t *f);

/* Replaces kv's content with the snapshot; watchers are ended with
 * STORE_ECOMPACTED. STORE_EINVAL (kv unchanged) on a bad buffer. */
int kv_snapshot_restore(kv_t *kv, const void *buf, size_t len);

/* Approximate bytes of memory held (keys, values, index, history). */
size_t kv_memory(const kv_t *kv);

#endif /* PICOKUBE_RAFTSTORE_KV_H */
