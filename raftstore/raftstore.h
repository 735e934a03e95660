/*
 * raftstore.h - the replicated, durable MVCC key/value store of picokube.
 *
 * A store_t is one member of a raft cluster (canonical raft, libraft's libuv
 * I/O and TCP transport). Every member applies the same log to the same
 * state machine: a map of keys to values with a global revision that grows by
 * one per applied write, and per key its create revision, mod revision and
 * version. The API server keeps Kubernetes objects here under
 * /registry/<resource>/[<namespace>/]<name> and serves metadata.resourceVersion
 * from the key's mod revision.
 *
 * Tiers:
 *   - durable keys go through the raft log (committed on a majority, fsynced);
 *   - volatile keys (prefixes given in the config: node and leader-election
 *     Leases) live only in the leader's memory with their own revision
 *     sequence; a new leader starts them empty with a new sequence, so watches
 *     on them get STORE_ECOMPACTED and relist.
 *
 * Reads never cost a log entry: the leader answers from its applied state; a
 * follower asks the leader how far the log is committed (a read index), waits
 * until it has applied that far, and answers locally. Writes on a follower are
 * forwarded to the leader over the leader's API server (internal endpoint,
 * authenticated with the cluster token) and the caller gets the result once
 * this member has applied it, so it can read its own writes.
 *
 * All functions are called on the store's loop thread; callbacks run there.
 */
#ifndef PICOKUBE_RAFTSTORE_H
#define PICOKUBE_RAFTSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lib/lib.h"

typedef struct store store_t;
typedef struct store_watch store_watch_t;

/* Errors (returned as negative numbers in results). */
enum {
    STORE_OK = 0,
    STORE_ENOENT = -1001,      /* key not found */
    STORE_EEXIST = -1002,      /* create of an existing key */
    STORE_ECONFLICT = -1003,   /* mod revision precondition failed */
    STORE_ECOMPACTED = -1004,  /* revision older than the kept history */
    STORE_EUNAVAILABLE = -1005,/* no leader / no quorum / leader unreachable */
    STORE_ENOSPC = -1006,      /* disk full: nothing was written */
    STORE_EIO = -1007,         /* other I/O failure */
    STORE_EINVAL = -1008,      /* bad argument (empty key, value too large ...) */
    STORE_ETIMEDOUT = -1009,   /* no answer in time; the write may still apply */
    STORE_ESHUTDOWN = -1010,   /* store is closing */
    STORE_EAUTH = -1011,       /* wrong cluster token (join, forwarding) */
    STORE_EFUTURE = -1012,     /* revision newer than the store's */
};

/* A human sentence for an error code, saying what to do where it can. */
const char *store_strerror(int err);

/* One key's state. Memory is owned by the store and valid during a callback. */
typedef struct store_kv {
    const char *key;
    const char *value; /* not NUL-terminated */
    size_t value_len;
    uint64_t create_rev;
    uint64_t mod_rev;
    uint64_t version;   /* 1 on create, +1 per update */
    uint64_t expires_ms;/* wall clock ms at which the key expires; 0 = never */
} store_kv_t;

typedef struct store_result {
    int err;                /* STORE_OK or a STORE_E* code */
    uint64_t rev;           /* store revision of the write, or the read's revision */
    const store_kv_t *kv;   /* put: the new state; delete: the deleted state;
                               ECONFLICT: the current state; get: the key */
    const store_kv_t *kvs;  /* range: the keys in order */
    size_t n_kvs;
    bool more;              /* range: more keys after the last one */
    uint64_t count;         /* range: number of keys under the prefix at rev */
} store_result_t;

typedef void (*store_cb)(const store_result_t *res, void *data);

struct store_config {
    uv_loop_t *loop;
    const char *data_dir;      /* raft state lives in <data_dir>/raft */
    const char *bind_address;  /* raft listen "host:port" */
    const char *advertise;     /* raft address peers use, default bind_address */
    const char *api_url;       /* this member's API URL (for write forwarding) */
    const char *token;         /* cluster secret: authenticates joins and forwarding */
    const char *join_url;      /* API URL of a running member to join; NULL = new cluster */
    const char *restore_file;  /* new cluster from a backup file (with join_url NULL) */
    const char *const *volatile_prefixes; /* NULL-terminated; keys living in leader memory */
    unsigned snapshot_threshold;   /* entries between snapshots; default 4096 */
    unsigned snapshot_trailing;    /* entries kept after a snapshot; default = threshold */
    unsigned history_events;       /* watch history: at least this many events (10000) */
    unsigned history_seconds;      /* ... and at least this many seconds (300) */
    unsigned election_timeout_ms;  /* default 1000 */
    unsigned heartbeat_timeout_ms; /* default 100 */
};

/* Opens the member: resumes from <data_dir>/raft if it holds state (bootstrap
 * options are then ignored), else bootstraps a new cluster or joins join_url.
 * Returns 0 or a STORE_E* code with a message in err. Joining completes in the
 * background; store_is_ready() tells when this member is a voter with a leader. */
int store_open(const struct store_config *cfg, store_t **out, char *err, size_t errlen);
/* Stops raft and frees everything; cb(data) runs when done. Pending operations
 * fail with STORE_ESHUTDOWN. */
void store_close(store_t *s, void (*cb)(void *data), void *data);

/* ---------------------------------------------------------------- writes */

/* Creates key; STORE_EEXIST when present. ttl_s > 0 makes the key expire
 * (the leader proposes its deletion through the log). */
int store_create(store_t *s, const char *key, const char *value, size_t len, uint32_t ttl_s,
                 store_cb cb, void *data);
/* Replaces key's value. if_mod_rev != 0: STORE_ECONFLICT unless it matches.
 * STORE_ENOENT when absent. */
int store_update(store_t *s, const char *key, const char *value, size_t len, uint64_t if_mod_rev,
                 uint32_t ttl_s, store_cb cb, void *data);
/* Deletes key; if_mod_rev as for update. res->kv is the deleted state. */
int store_delete(store_t *s, const char *key, uint64_t if_mod_rev, store_cb cb, void *data);

/* ----------------------------------------------------------------- reads */

/* Current (linearizable) read of one key. */
int store_get(store_t *s, const char *key, store_cb cb, void *data);
/* Keys starting with prefix, in byte order, after `start_after` (exclusive,
 * NULL or "" = from the start), at most `limit` (0 = all), as of revision `rev`
 * (0 = current; an older revision still in history is reconstructed; older
 * than history: STORE_ECOMPACTED). res->count is the total under the prefix. */
int store_range(store_t *s, const char *prefix, const char *start_after, size_t limit,
                uint64_t rev, store_cb cb, void *data);

/* Local, synchronous read of this member's applied state (may be stale on a
 * follower). NULL when absent. For caches and tests. */
const store_kv_t *store_get_local(store_t *s, const char *key);

/* --------------------------------------------------------------- watches */

enum store_event_type { STORE_PUT = 1, STORE_DELETE = 2 };

typedef struct store_event {
    enum store_event_type type;
    const store_kv_t *kv;      /* the new state; for DELETE the last state, mod_rev = delete rev */
    const store_kv_t *prev_kv; /* the state before, NULL for a create */
} store_event_t;

/* ev == NULL with err != 0 ends the watch (STORE_ECOMPACTED when the start
 * revision left history, or when the volatile tier was reset by a new leader;
 * STORE_EUNAVAILABLE when a volatile watch lost its leader). After that call the
 * watch is freed by the store; do not cancel it. */
typedef void (*store_watch_cb)(const store_event_t *ev, int err, void *data);

/* Every change to keys under prefix with revision > after_rev, in order.
 * after_rev = 0 means from now. Events are delivered from this member's
 * applied state (volatile prefixes: only on the leader; elsewhere err
 * STORE_EUNAVAILABLE is returned and *out is NULL). Returns 0 or STORE_E*. */
int store_watch(store_t *s, const char *prefix, uint64_t after_rev, store_watch_cb cb, void *data,
                store_watch_t **out);
void store_watch_cancel(store_watch_t *w);

/* ---------------------------------------------------------------- status */

struct store_status {
    bool is_leader;
    bool ready;              /* member of a cluster with a known leader, applied its term */
    uint64_t id;
    uint64_t term;
    uint64_t applied_index;
    uint64_t revision;       /* durable tier */
    uint64_t volatile_revision;
    uint64_t leader_id;
    const char *leader_api_url; /* NULL when unknown */
    size_t n_keys;
    size_t n_voters;
};
void store_get_status(store_t *s, struct store_status *st);
bool store_is_ready(store_t *s);
/* True when key lives in the volatile tier. */
bool store_is_volatile(store_t *s, const char *key);

/* The current revision of the tier `key` (or prefix) belongs to. */
uint64_t store_current_revision(store_t *s, const char *key);

/* ------------------------------------------------------------ membership */

struct store_member {
    uint64_t id;
    const char *raft_address;
    const char *api_url;
    bool voter;
};
/* Lists the members known to this member's configuration. Returns count. */
size_t store_members(store_t *s, struct store_member *out, size_t max);
/* Removes a member (leader only, else forwarded). cb gets STORE_ENOENT if unknown. */
int store_remove_member(store_t *s, uint64_t id, store_cb cb, void *data);

/* ------------------------------------------------------- internal endpoint */

/* The API server passes every request under STORE_INTERNAL_PREFIX here
 * (joins, forwarded writes, read indexes, volatile operations, backups). The
 * store checks the cluster token itself and completes the request. */
#define STORE_INTERNAL_PREFIX "/internal/raftstore/"
void store_serve_internal(store_t *s, http_req_t *req);

/* A consistent snapshot of this member's applied durable tier (one revision),
 * encoded as a backup file; caller frees *buf. */
int store_backup_data(store_t *s, void **buf, size_t *len);
/* The same, written to `path` atomically. */
int store_backup(store_t *s, const char *path, char *err, size_t errlen);

#endif /* PICOKUBE_RAFTSTORE_H */
