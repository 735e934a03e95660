/*
 * store.c - one raftstore member: raft glue, writes, reads and waiting.
 *
 * This file owns the path of an operation through a member. A write on the
 * leader becomes a raft_apply; its result comes from the state machine apply
 * that libraft runs just before calling our apply callback. A write on a
 * follower is forwarded (forward.c) and completes once this member has applied
 * the leader's index, so the caller can read its own write here. A current read
 * on the leader is answered at once from the applied state, provided the
 * leader has applied an entry of its own term (the barrier); on a follower it
 * waits for a read index from the leader. Operations that cannot proceed yet
 * (no leader known) are parked and retried by a tick until their deadline.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "raftstore/store_int.h"

#define TICK_MS 50
#define OP_DEADLINE_MS 10000

static void tick_cb(uv_timer_t *t);

/* ---------------------------------------------------------- error codes */

const char *store_strerror(int err)
{
    switch (err) {
    case STORE_OK:
        return "ok";
    case STORE_ENOENT:
        return "key not found";
    case STORE_EEXIST:
        return "key already exists";
    case STORE_ECONFLICT:
        return "the key was modified since the given revision";
    case STORE_ECOMPACTED:
        return "the requested revision is older than the kept history; list again";
    case STORE_EUNAVAILABLE:
        return "the store has no leader or no quorum right now; retry once a majority of "
               "masters is up";
    case STORE_ENOSPC:
        return "the disk is full: nothing was written; free space on the data disk";
    case STORE_EIO:
        return "a disk error stopped the write: check the data disk";
    case STORE_EINVAL:
        return "invalid request to the store";
    case STORE_ETIMEDOUT:
        return "the store did not answer in time; the write may or may not have been applied";
    case STORE_ESHUTDOWN:
        return "the store is shutting down";
    case STORE_EAUTH:
        return "the cluster token was refused: check --token (it is in the first server's "
               "data dir, file 'token')";
    case STORE_EFUTURE:
        return "the requested revision is newer than the store's";
    default:
        return "unknown store error";
    }
}

int store_err_from_raft(int rv)
{
    switch (rv) {
    case 0:
        return STORE_OK;
    case RAFT_NOSPACE:
        return STORE_ENOSPC;
    case RAFT_IOERR:
    case RAFT_CORRUPT:
        return STORE_EIO;
    case RAFT_NOTLEADER:
    case RAFT_NOCONNECTION:
        return STORE_EUNAVAILABLE;
    case RAFT_LEADERSHIPLOST:
        return STORE_ETIMEDOUT;
    case RAFT_SHUTDOWN:
    case RAFT_CANCELED:
        return STORE_ESHUTDOWN;
    case RAFT_TOOBIG:
        return STORE_EINVAL;
    default:
        return STORE_EIO;
    }
}

/* --------------------------------------------------------- state machine */

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    store_t *s = fsm->data;
    struct cmd c;
    memset(&s->last, 0, sizeof(s->last));
    *result = &s->last;
    if (cmd_decode(buf->base, buf->len, &c) != 0) {
        /* An entry we cannot read is skipped on every replica alike. */
        log_error(STORE_COMP, "skipping a malformed log entry (%zu bytes)", buf->len);
        s->last.err = STORE_EINVAL;
        return 0;
    }
    switch (c.op) {
    case CMD_CREATE:
        kv_put(s->kv, c.key, c.value, c.value_len, KV_CREATE, 0, c.expires_ms, c.now_ms, &s->last);
        break;
    case CMD_UPDATE:
        kv_put(s->kv, c.key, c.value, c.value_len, KV_UPDATE, c.if_mod_rev, c.expires_ms,
               c.now_ms, &s->last);
        break;
    case CMD_PUT:
        kv_put(s->kv, c.key, c.value, c.value_len, kv_get(s->kv, c.key) ? KV_UPDATE : KV_CREATE,
               0, c.expires_ms, c.now_ms, &s->last);
        break;
    case CMD_DELETE:
        kv_delete(s->kv, c.key, c.if_mod_rev, c.now_ms, &s->last);
        break;
    case CMD_RESTORE:
        s->last.err = kv_snapshot_restore(s->kv, c.value, c.value_len);
        s->last.rev = kv_revision(s->kv);
        if (s->last.err == STORE_OK)
            log_info(STORE_COMP, "restored a backup: revision %llu, %zu keys",
                     (unsigned long long)s->last.rev, kv_count_all(s->kv));
        break;
    default:
        s->last.err = STORE_EINVAL;
        break;
    }
    store_kick(s);
    return 0;
}

/* Snapshots are synchronous (libraft 0.15's libuv I/O has no async_work, so
 * fsm version 3 is refused): the encoding costs one copy of the keys on the
 * loop thread every snapshot_threshold entries. */
static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    store_t *s = fsm->data;
    void *data;
    size_t len;
    int rv = kv_snapshot_encode(s->kv, &data, &len);
    if (rv != 0) return RAFT_NOMEM;
    *bufs = raft_malloc(sizeof(**bufs));
    if (!*bufs) {
        free(data);
        return RAFT_NOMEM;
    }
    (*bufs)[0].base = data;
    (*bufs)[0].len = len;
    *n_bufs = 1;
    return 0;
}

static int fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[],
                                 unsigned *n_bufs)
{
    (void)fsm;
    for (unsigned i = 0; i < *n_bufs; i++) free((*bufs)[i].base);
    raft_free(*bufs);
    *bufs = NULL;
    *n_bufs = 0;
    return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    store_t *s = fsm->data;
    int rv = kv_snapshot_restore(s->kv, buf->base, buf->len);
    if (rv != 0) {
        log_error(STORE_COMP, "cannot restore a snapshot: %s", store_strerror(rv));
        return RAFT_CORRUPT;
    }
    log_info(STORE_COMP, "snapshot installed at revision %llu",
             (unsigned long long)kv_revision(s->kv));
    /* On success the state machine owns the buffer (libraft's contract). */
    raft_free(buf->base);
    store_kick(s);
    return 0;
}

/* ----------------------------------------------------------------- ops */

struct op *op_new(store_t *s, const struct cmd *c, store_cb cb, void *data)
{
    struct op *o = calloc(1, sizeof(*o));
    if (!o) return NULL;
    o->s = s;
    o->cb = cb;
    o->data = data;
    o->start_ms = time_mono_ms();
    o->deadline_ms = o->start_ms + OP_DEADLINE_MS;
    if (cmd_encode(c, &o->cmd_buf, &o->cmd_len) != 0 ||
        cmd_decode(o->cmd_buf, o->cmd_len, &o->cmd) != 0) {
        raft_free(o->cmd_buf);
        free(o);
        return NULL;
    }
    return o;
}

static void op_free(struct op *o)
{
    raft_free(o->cmd_buf);
    result_free(&o->result);
    free(o);
}

void op_finish(struct op *o, const store_result_t *r)
{
    o->s->finishing_index = o->index;
    if (o->cb) o->cb(r, o->data);
    o->s->finishing_index = 0;
    op_free(o);
}

void op_fail(struct op *o, int err)
{
    store_result_t r = {.err = err};
    op_finish(o, &r);
}

static void list_push(struct op **head, struct op *o)
{
    o->next = NULL;
    while (*head) head = &(*head)->next;
    *head = o;
}

void store_park(store_t *s, struct op *o)
{
    list_push(&s->waiting_leader, o);
}

/* ------------------------------------------------------------ proposing */

static void apply_cb(struct raft_apply *req, int status, void *result)
{
    struct op *o = req->data;
    store_t *s = o->s;
    o->index = req->index;
    free(req);
    metrics_histogram_observe(s->commit_hist, (double)(time_mono_ms() - o->start_ms) / 1000.0);
    if (status != 0) {
        int err = store_err_from_raft(status);
        /* Once per 10 s: a full disk must not fill the log too. */
        uint64_t now = time_mono_ms();
        if ((err == STORE_ENOSPC || err == STORE_EIO) && now - s->last_io_log_ms > 10000) {
            s->last_io_log_ms = now;
            log_error(STORE_COMP, "write failed: %s", store_strerror(err));
        }
        op_fail(o, err);
        return;
    }
    op_finish(o, result);
}

int store_propose(store_t *s, struct op *o)
{
    struct raft_apply *req = malloc(sizeof(*req));
    if (!req) return STORE_EIO;
    req->data = o;
    struct raft_buffer buf = {.base = o->cmd_buf, .len = o->cmd_len};
    int rv = raft_apply(&s->raft, req, &buf, 1, apply_cb);
    if (rv != 0) {
        free(req);
        return store_err_from_raft(rv);
    }
    /* raft owns the buffer now. */
    o->cmd_buf = NULL;
    return 0;
}

bool store_is_leader_ready(store_t *s)
{
    return raft_state(&s->raft) == RAFT_LEADER && s->ready_term == s->raft.current_term &&
           s->ready_term != 0;
}

static bool is_read(const struct cmd *c)
{
    return c->op == CMD_READ_GET || c->op == CMD_READ_RANGE;
}

/* Routes an op: local leader, forward to the known leader, or park. */
static void dispatch(store_t *s, struct op *o)
{
    bool vol = volatile_key(s, o->cmd.key);
    if (s->closing) {
        op_fail(o, STORE_ESHUTDOWN);
        return;
    }
    if (vol) {
        if (store_is_leader_ready(s)) {
            volatile_apply(s, o);
        } else if (raft_state(&s->raft) != RAFT_LEADER && store_leader_url(s)) {
            forward_op(s, o);
        } else {
            store_park(s, o);
        }
        return;
    }
    if (is_read(&o->cmd)) {
        if (store_is_leader_ready(s)) {
            store_run_local_read(s, o);
        } else if (raft_state(&s->raft) == RAFT_LEADER || !store_leader_url(s)) {
            store_park(s, o);
        } else {
            list_push(&s->ri_next, o);
            forward_read_index(s);
        }
        return;
    }
    if (raft_state(&s->raft) == RAFT_LEADER) {
        int rv = store_propose(s, o);
        if (rv != 0) op_fail(o, rv);
    } else if (store_leader_url(s)) {
        forward_op(s, o);
    } else {
        store_park(s, o);
    }
}

static int submit(store_t *s, const struct cmd *c, store_cb cb, void *data)
{
    if (!c->key || (!c->key[0] && c->op != CMD_READ_RANGE)) return STORE_EINVAL;
    if (c->value_len > STORE_MAX_VALUE) return STORE_EINVAL;
    struct op *o = op_new(s, c, cb, data);
    if (!o) return STORE_EINVAL;
    o->is_read = is_read(c);
    dispatch(s, o);
    return 0;
}

static uint64_t expiry_of(uint32_t ttl_s, uint64_t now)
{
    return ttl_s ? now + (uint64_t)ttl_s * 1000 : 0;
}

int store_create(store_t *s, const char *key, const char *value, size_t len, uint32_t ttl_s,
                 store_cb cb, void *data)
{
    uint64_t now = time_wall_ms();
    struct cmd c = {.op = CMD_CREATE, .now_ms = now, .expires_ms = expiry_of(ttl_s, now),
                    .key = key, .key_len = key ? strlen(key) : 0, .value = value,
                    .value_len = len};
    return submit(s, &c, cb, data);
}

int store_update(store_t *s, const char *key, const char *value, size_t len, uint64_t if_mod_rev,
                 uint32_t ttl_s, store_cb cb, void *data)
{
    uint64_t now = time_wall_ms();
    struct cmd c = {.op = CMD_UPDATE, .now_ms = now, .if_mod_rev = if_mod_rev,
                    .expires_ms = expiry_of(ttl_s, now), .key = key,
                    .key_len = key ? strlen(key) : 0, .value = value, .value_len = len};
    return submit(s, &c, cb, data);
}

int store_delete(store_t *s, const char *key, uint64_t if_mod_rev, store_cb cb, void *data)
{
    struct cmd c = {.op = CMD_DELETE, .now_ms = time_wall_ms(), .if_mod_rev = if_mod_rev,
                    .key = key, .key_len = key ? strlen(key) : 0};
    return submit(s, &c, cb, data);
}

int store_get(store_t *s, const char *key, store_cb cb, void *data)
{
    struct cmd c = {.op = CMD_READ_GET, .key = key, .key_len = key ? strlen(key) : 0};
    return submit(s, &c, cb, data);
}

int store_range(store_t *s, const char *prefix, const char *start_after, size_t limit,
                uint64_t rev, store_cb cb, void *data)
{
    struct cmd c = {.op = CMD_READ_RANGE, .if_mod_rev = rev, .expires_ms = limit,
                    .key = prefix ? prefix : "", .key_len = prefix ? strlen(prefix) : 0,
                    .value = start_after, .value_len = start_after ? strlen(start_after) : 0};
    return submit(s, &c, cb, data);
}

/* Answers a read from this member's applied state (durable or volatile). */
void store_run_local_read(store_t *s, struct op *o)
{
    kv_t *kv = volatile_key(s, o->cmd.key) ? s->vkv : s->kv;
    store_result_t r = {0};
    if (!kv) {
        op_fail(o, STORE_EUNAVAILABLE);
        return;
    }
    if (o->cmd.op == CMD_READ_GET) {
        r.kv = kv_get(kv, o->cmd.key);
        r.err = r.kv ? STORE_OK : STORE_ENOENT;
        r.rev = kv_revision(kv);
    } else {
        kv_range(kv, o->cmd.key, o->cmd.value_len ? o->cmd.value : NULL,
                 (size_t)o->cmd.expires_ms, o->cmd.if_mod_rev, &r);
    }
    op_finish(o, &r);
}

const store_kv_t *store_get_local(store_t *s, const char *key)
{
    kv_t *kv = volatile_key(s, key) ? s->vkv : s->kv;
    return kv ? kv_get(kv, key) : NULL;
}

/* ------------------------------------------------------------- waiting */

static void kick_cb(uv_timer_t *t)
{
    store_t *s = t->data;
    s->kick_armed = false;
    raft_index applied = raft_last_applied(&s->raft);
    struct op **pp = &s->waiting_apply;
    struct op *ready = NULL, **tail = &ready;
    while (*pp) {
        struct op *o = *pp;
        if (o->wait_index <= applied) {
            *pp = o->next;
            o->next = NULL;
            *tail = o;
            tail = &o->next;
        } else {
            pp = &o->next;
        }
    }
    while (ready) {
        struct op *o = ready;
        ready = o->next;
        if (o->is_read && !o->has_result) {
            store_run_local_read(s, o);
        } else {
            op_finish(o, &o->result.res);
        }
    }
}

/* Waiters run from a timer rather than inside the fsm apply, so that user
 * callbacks never run in the middle of libraft's apply loop. */
void store_kick(store_t *s)
{
    if (s->kick_armed || s->closing || !s->waiting_apply) return;
    s->kick_armed = true;
    uv_timer_start(&s->kick, kick_cb, 0, 0);
}

/* ---------------------------------------------------------------- tick */

static void restore_done(const store_result_t *r, void *data)
{
    store_t *s = data;
    s->restoring = false;
    if (r->err != STORE_OK) {
        log_error(STORE_COMP, "restoring the backup failed: %s; retrying", store_strerror(r->err));
        return; /* the next tick's barrier tries again */
    }
    raft_free(s->restore_data);
    s->restore_data = NULL;
    s->ready_term = 0; /* a fresh barrier makes this leader ready */
}

/* A new cluster from a backup: the backup is the first entry its leader
 * commits, before the member reports ready, so nothing else is written first. */
static void restore_now(store_t *s, raft_term term)
{
    (void)term;
    if (s->restoring) return;
    struct cmd c = {.op = CMD_RESTORE, .now_ms = time_wall_ms(), .key = "", .key_len = 0,
                    .value = s->restore_data, .value_len = s->restore_len};
    struct op *o = op_new(s, &c, restore_done, s);
    if (!o) return;
    s->restoring = true;
    int rv = store_propose(s, o);
    if (rv != 0) op_fail(o, rv);
}

struct barrier {
    struct raft_barrier req;
    store_t *s;
    raft_term term;
};

static void barrier_cb(struct raft_barrier *req, int status)
{
    struct barrier *b = req->data;
    store_t *s = b->s;
    raft_term term = b->term;
    free(b);
    s->barrier_pending = false;
    if (s->closing) return;
    if (status != 0 || raft_state(&s->raft) != RAFT_LEADER || s->raft.current_term != term)
        return;
    if (s->restore_data) {
        restore_now(s, term);
        return;
    }
    s->ready_term = term;
    log_info(STORE_COMP, "member %llx is the leader (term %llu); reads are served locally",
             (unsigned long long)s->id, (unsigned long long)term);
    volatile_on_state(s, true);
    membership_on_leader(s);
}

static void fail_expired(store_t *s, struct op **head, uint64_t now, int err)
{
    struct op **pp = head;
    while (*pp) {
        struct op *o = *pp;
        if (o->deadline_ms <= now) {
            *pp = o->next;
            op_fail(o, err);
        } else {
            pp = &o->next;
        }
    }
    (void)s;
}

static void tick_cb(uv_timer_t *t)
{
    store_t *s = t->data;
    if (s->closing) return;
    int state = raft_state(&s->raft);
    if (state != s->last_state) {
        if (s->last_state == RAFT_LEADER) {
            log_info(STORE_COMP, "member %llx lost leadership", (unsigned long long)s->id);
            s->ready_term = 0;
            volatile_on_state(s, false);
        }
        forward_reset(s);
        s->last_state = state;
    }
    if (state == RAFT_LEADER && s->ready_term != s->raft.current_term && !s->barrier_pending &&
        !s->restoring) {
        struct barrier *b = calloc(1, sizeof(*b));
        if (b) {
            b->s = s;
            b->term = s->raft.current_term;
            b->req.data = b;
            if (raft_barrier(&s->raft, &b->req, barrier_cb) == 0) {
                s->barrier_pending = true;
            } else {
                free(b);
            }
        }
    }
    /* Parked ops retry once there is somewhere to send them. */
    bool can_route = store_is_leader_ready(s) ||
                     (state != RAFT_LEADER && store_leader_url(s) != NULL) ||
                     (state == RAFT_LEADER && s->waiting_leader && !s->waiting_leader->is_read &&
                      !volatile_key(s, s->waiting_leader->cmd.key));
    if (s->waiting_leader && can_route) {
        struct op *list = s->waiting_leader;
        s->waiting_leader = NULL;
        while (list) {
            struct op *o = list;
            list = o->next;
            o->next = NULL;
            dispatch(s, o);
        }
    }
    /* Barrier and configuration entries apply without reaching fsm_apply,
     * so waiters are also checked here. */
    store_kick(s);
    uint64_t now = time_mono_ms();
    fail_expired(s, &s->waiting_leader, now, STORE_EUNAVAILABLE);
    fail_expired(s, &s->waiting_apply, now, STORE_ETIMEDOUT);
    expiry_tick(s);
}

/* -------------------------------------------------------------- open/close */

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

int store_open(const struct store_config *cfg, store_t **out, char *err, size_t errlen)
{
    store_t *s = calloc(1, sizeof(*s));
    if (!s) return STORE_EIO;
    s->loop = cfg->loop;
    s->data_dir = xstrdup(cfg->data_dir);
    s->bind = xstrdup(cfg->bind_address);
    s->address = xstrdup(cfg->advertise ? cfg->advertise : cfg->bind_address);
    s->api_url = xstrdup(cfg->api_url);
    s->token = xstrdup(cfg->token);
    s->join_url = xstrdup(cfg->join_url);
    s->history_events = cfg->history_events ? cfg->history_events : 10000;
    s->history_seconds = cfg->history_seconds ? cfg->history_seconds : 300;
    for (const char *const *p = cfg->volatile_prefixes; p && *p; p++) s->n_vprefixes++;
    s->vprefixes = calloc(s->n_vprefixes + 1, sizeof(char *));
    for (size_t i = 0; i < s->n_vprefixes; i++) s->vprefixes[i] = strdup(cfg->volatile_prefixes[i]);
    s->kv = kv_new(s->history_events, s->history_seconds, 0);
    s->commit_hist = metrics_histogram("picokube_raft_commit_duration_seconds",
                                       "Time from proposing a write to its commit and apply.",
                                       NULL, NULL, 0);
    s->last_state = RAFT_UNAVAILABLE;
    s->fsm.version = 2;
    s->fsm.data = s;
    s->fsm.apply = fsm_apply;
    s->fsm.snapshot = fsm_snapshot;
    s->fsm.snapshot_finalize = fsm_snapshot_finalize;
    s->fsm.restore = fsm_restore;
    uv_timer_init(s->loop, &s->tick);
    uv_timer_init(s->loop, &s->kick);
    uv_timer_init(s->loop, &s->join_timer);
    s->tick.data = s->kick.data = s->join_timer.data = s;

    int rv = membership_open(s, cfg, err, errlen);
    if (rv != 0) {
        s->closing = true;
        store_close(s, NULL, NULL);
        return rv;
    }
    unsigned threshold = cfg->snapshot_threshold ? cfg->snapshot_threshold : 4096;
    /* Entries kept after a snapshot: a follower that is a few seconds behind
     * catches up from the log instead of needing the whole state sent. */
    unsigned trailing = cfg->snapshot_trailing ? cfg->snapshot_trailing : threshold;
    raft_set_snapshot_threshold(&s->raft, threshold);
    raft_set_snapshot_trailing(&s->raft, trailing);
    raft_set_election_timeout(&s->raft,
                              cfg->election_timeout_ms ? cfg->election_timeout_ms : 1000);
    raft_set_heartbeat_timeout(&s->raft,
                               cfg->heartbeat_timeout_ms ? cfg->heartbeat_timeout_ms : 100);
    raft_set_pre_vote(&s->raft, true);
    uv_timer_start(&s->tick, tick_cb, TICK_MS, TICK_MS);
    *out = s;
    return 0;
}

static void free_store(store_t *s)
{
    void (*cb)(void *) = s->close_cb;
    void *data = s->close_data;
    if (s->kv) kv_free(s->kv);
    raft_free(s->restore_data);
    free(s->data_dir);
    free(s->raft_dir);
    free(s->address);
    free(s->bind);
    free(s->api_url);
    free(s->token);
    free(s->join_url);
    for (size_t i = 0; i < s->n_vprefixes; i++) free(s->vprefixes[i]);
    free(s->vprefixes);
    free(s->leader_client_url);
    free(s->cached_leader_url);
    free(s);
    if (cb) cb(data);
}

static void handle_closed(uv_handle_t *h)
{
    store_t *s = h->data;
    if (--s->handles_open == 0) free_store(s);
}

static void close_handles(store_t *s)
{
    s->handles_open = 3;
    uv_close((uv_handle_t *)&s->tick, handle_closed);
    uv_close((uv_handle_t *)&s->kick, handle_closed);
    uv_close((uv_handle_t *)&s->join_timer, handle_closed);
}

static void raft_closed(struct raft *r)
{
    store_t *s = r->data;
    raft_uv_close(&s->io);
    raft_uv_tcp_close(&s->transport);
    close_handles(s);
}

static void fail_all(struct op **head, int err)
{
    while (*head) {
        struct op *o = *head;
        *head = o->next;
        op_fail(o, err);
    }
}

void store_close(store_t *s, void (*cb)(void *data), void *data)
{
    s->closing = true;
    s->close_cb = cb;
    s->close_data = data;
    uv_timer_stop(&s->tick);
    uv_timer_stop(&s->kick);
    membership_close(s);
    forward_reset(s);
    fail_all(&s->waiting_leader, STORE_ESHUTDOWN);
    fail_all(&s->waiting_apply, STORE_ESHUTDOWN);
    fail_all(&s->ri_inflight, STORE_ESHUTDOWN);
    fail_all(&s->ri_next, STORE_ESHUTDOWN);
    volatile_on_state(s, false);
    if (s->kv) kv_watch_end_all(s->kv, STORE_ESHUTDOWN);
    if (s->raft_started || s->raft.io) {
        s->raft.data = s;
        raft_close(&s->raft, raft_closed);
    } else {
        close_handles(s);
    }
}

/* -------------------------------------------------------------- watches */

struct store_watch {
    kv_t *kv;
    kv_watcher_t *w;
    store_watch_cb cb;
    void *data;
};

static void watch_cb(const store_event_t *ev, int err, void *data)
{
    struct store_watch *w = data;
    if (!ev) {
        store_watch_cb cb = w->cb;
        void *d = w->data;
        free(w);
        cb(NULL, err, d);
        return;
    }
    w->cb(ev, err, w->data);
}

int store_watch(store_t *s, const char *prefix, uint64_t after_rev, store_watch_cb cb, void *data,
                store_watch_t **out)
{
    *out = NULL;
    kv_t *kv = s->kv;
    if (volatile_key(s, prefix)) {
        if (!store_is_leader_ready(s) || !s->vkv) return STORE_EUNAVAILABLE;
        kv = s->vkv;
    }
    struct store_watch *w = calloc(1, sizeof(*w));
    if (!w) return STORE_EIO;
    w->kv = kv;
    w->cb = cb;
    w->data = data;
    *out = w;
    int rv = kv_watch(kv, prefix, after_rev, watch_cb, w, &w->w);
    if (rv != 0) {
        free(w);
        *out = NULL;
        return rv;
    }
    return 0;
}

void store_watch_cancel(store_watch_t *w)
{
    if (!w) return;
    kv_watch_cancel(w->kv, w->w);
    free(w);
}

/* ---------------------------------------------------------------- status */

void store_get_status(store_t *s, struct store_status *st)
{
    memset(st, 0, sizeof(*st));
    st->is_leader = raft_state(&s->raft) == RAFT_LEADER;
    st->ready = store_is_ready(s);
    st->id = s->id;
    st->term = s->raft.current_term;
    st->applied_index = raft_last_applied(&s->raft);
    st->revision = kv_revision(s->kv);
    st->volatile_revision = s->vkv ? kv_revision(s->vkv) : 0;
    raft_id lid = 0;
    const char *laddr = NULL;
    raft_leader(&s->raft, &lid, &laddr);
    st->leader_id = lid;
    st->leader_api_url = store_leader_url(s);
    st->n_keys = kv_count_all(s->kv);
    for (unsigned i = 0; i < s->raft.configuration.n; i++)
        if (s->raft.configuration.servers[i].role == RAFT_VOTER) st->n_voters++;
}

bool store_is_ready(store_t *s)
{
    if (!s->joined) return false;
    if (raft_state(&s->raft) == RAFT_LEADER) return store_is_leader_ready(s);
    return store_leader_url(s) != NULL;
}

bool store_is_volatile(store_t *s, const char *key)
{
    return volatile_key(s, key);
}

uint64_t store_current_revision(store_t *s, const char *key)
{
    if (volatile_key(s, key)) return s->vkv ? kv_revision(s->vkv) : 0;
    return kv_revision(s->kv);
}

/* --------------------------------------------------------------- backup */

int store_backup_data(store_t *s, void **buf, size_t *len)
{
    return kv_snapshot_encode(s->kv, buf, len);
}

int store_backup(store_t *s, const char *path, char *err, size_t errlen)
{
    void *buf;
    size_t len;
    int rv = store_backup_data(s, &buf, &len);
    if (rv != 0) {
        snprintf(err, errlen, "cannot encode the snapshot: %s", store_strerror(rv));
        return rv;
    }
    rv = file_write_atomic(path, buf, len, 0600);
    free(buf);
    if (rv != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rv));
        return rv == -ENOSPC ? STORE_ENOSPC : STORE_EIO;
    }
    return 0;
}
