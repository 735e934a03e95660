/*
 * store_int.h - what the files of raftstore/ share (private).
 *
 *   store.c       the member: raft set-up, the state machine glue, local
 *                 writes and reads, waiting for the applied index, status
 *   command.c     the byte encoding of log entries and of forwarded results
 *   forward.c     the internal HTTP endpoint and the follower -> leader path
 *   membership.c  bootstrap, join, member records, removal
 *   volatile.c    the leader-only tier and TTL expiry
 */
#ifndef PICOKUBE_RAFTSTORE_INT_H
#define PICOKUBE_RAFTSTORE_INT_H

#include <raft.h>
#include <raft/uv.h>

#include "raftstore/kv.h"
#include "raftstore/raftstore.h"

#define STORE_COMP "raftstore"
#define STORE_MEMBER_PREFIX "/raftstore/members/"
#define STORE_MAX_VALUE (3u << 20)

/* ------------------------------------------------------------- commands */

enum cmd_op {
    CMD_CREATE = 1,
    CMD_UPDATE = 2,
    CMD_DELETE = 3,
    CMD_PUT = 4,        /* create or update (member records) */
    CMD_RESTORE = 5,    /* replace the whole state with a backup (value) */
    CMD_READ_GET = 10,  /* forwarded reads of the volatile tier: never in the log */
    CMD_READ_RANGE = 11,
};

struct cmd {
    enum cmd_op op;
    uint64_t now_ms;     /* decided by the proposer: every replica applies the same */
    uint64_t if_mod_rev; /* CAS; for READ_RANGE: the revision */
    uint64_t expires_ms; /* for READ_RANGE: the limit */
    const char *key;     /* NUL-terminated, points into the buffer */
    size_t key_len;
    const char *value;   /* for READ_RANGE: start_after */
    size_t value_len;
};

/* Encodes into a raft_malloc'd buffer (so raft_apply can own it). */
int cmd_encode(const struct cmd *c, void **buf, size_t *len);
/* Decodes in place: c's pointers point into buf. STORE_EINVAL if malformed. */
int cmd_decode(const void *buf, size_t len, struct cmd *c);

/* A store_result_t with its own copy of every byte, for results that cross
 * the network or outlive the kv call that produced them. */
struct owned_result {
    store_result_t res;
    uint64_t index;      /* log index the result was applied at (0: none) */
    store_kv_t kv;
    store_kv_t *kvs;
    char *mem;           /* keys and values */
};

int result_encode(const store_result_t *r, uint64_t index, void **buf, size_t *len);
int result_decode(const void *buf, size_t len, struct owned_result *out);
int result_copy(const store_result_t *r, uint64_t index, struct owned_result *out);
void result_free(struct owned_result *o);

/* ---------------------------------------------------------------- store */

/* An operation waiting for something: a leader, this member's applied index,
 * or a read index from the leader. */
struct op {
    struct op *next;
    store_t *s;
    struct cmd cmd;
    void *cmd_buf;          /* owns cmd's bytes */
    size_t cmd_len;
    store_cb cb;
    void *data;
    uint64_t deadline_ms;   /* monotonic */
    uint64_t wait_index;    /* complete once applied >= this */
    uint64_t index;         /* log index the write applied at, once known */
    struct owned_result result; /* for writes forwarded or waiting to apply */
    bool has_result;
    bool is_read;
    uint64_t start_ms;
};

struct store {
    uv_loop_t *loop;
    struct raft raft;
    struct raft_io io;
    struct raft_uv_transport transport;
    struct raft_fsm fsm;
    bool raft_started;
    bool closing;
    void (*close_cb)(void *data);
    void *close_data;

    kv_t *kv;   /* durable tier: what the log builds */
    kv_t *vkv;  /* volatile tier: only while leader and ready */
    raft_term ready_term; /* term whose barrier applied; leader reads are current */
    bool barrier_pending;
    int last_state;

    uint64_t id;
    char *data_dir;
    char *raft_dir;
    char *address;
    char *bind;
    char *api_url;
    char *token;
    char *join_url;
    char **vprefixes;
    size_t n_vprefixes;
    unsigned history_events, history_seconds;

    uv_timer_t tick;   /* polls raft state, expiry, deadlines */
    uv_timer_t kick;   /* runs waiters soon after entries applied */
    bool kick_armed;

    struct op *waiting_leader;  /* ops parked until a leader is known */
    struct op *waiting_apply;   /* ops waiting for applied >= wait_index */
    struct op *ri_inflight;     /* reads covered by the read index in flight */
    struct op *ri_next;         /* reads that need the next read index */
    bool ri_busy;

    /* Result of the last fsm apply, read by the raft_apply callback that
     * libraft calls right after it on the leader. */
    store_result_t last;
    int last_err;

    http_client_t *leader_client;
    char *leader_client_url;

    void *restore_data;   /* a backup to apply as the first entry of a new cluster */
    size_t restore_len;
    bool restoring;
    bool joined;          /* member of a configuration (bootstrapped or joined) */
    bool join_running;
    uv_timer_t join_timer;
    unsigned join_attempts;

    unsigned expiring;    /* expiry deletes in flight */
    int handles_open;
    uint64_t last_io_log_ms;
    uint64_t finishing_index; /* index of the op whose callback is running */
    http_client_t *join_client;
    char member_api[16][256];
    uint64_t cached_leader_id;
    char *cached_leader_url;
    metrics_histogram_t *commit_hist;
};

/* store.c */
void store_kick(store_t *s);
void store_park(store_t *s, struct op *o);
void op_finish(struct op *o, const store_result_t *r);
void op_fail(struct op *o, int err);
struct op *op_new(store_t *s, const struct cmd *c, store_cb cb, void *data);
int store_propose(store_t *s, struct op *o);
int store_err_from_raft(int rv);
const char *store_leader_url(store_t *s);
bool store_is_leader_ready(store_t *s);
void store_run_local_read(store_t *s, struct op *o);

/* forward.c */
void forward_op(store_t *s, struct op *o);
void forward_read_index(store_t *s);
bool forward_auth_ok(store_t *s, http_req_t *req);
void forward_reset(store_t *s);
http_client_t *forward_client(store_t *s);

/* membership.c */
int membership_open(store_t *s, const struct store_config *cfg, char *err, size_t errlen);
void membership_on_leader(store_t *s);
void membership_serve_join(store_t *s, http_req_t *req);
void membership_serve_remove(store_t *s, http_req_t *req);
void membership_close(store_t *s);

/* volatile.c */
bool volatile_key(store_t *s, const char *key);
void volatile_on_state(store_t *s, bool leader_ready);
void volatile_apply(store_t *s, struct op *o);
void expiry_tick(store_t *s);

#endif /* PICOKUBE_RAFTSTORE_INT_H */
