/*
 * volatile.c - the leader-only tier, and expiry of keys with a TTL.
 *
 * Heartbeat-class objects (node Leases every few seconds, leader-election
 * Leases) would otherwise be most of what a Pi cluster writes to its SD
 * cards. Keys under the configured volatile prefixes live in a second kv_t
 * that exists only on the leader, only in memory. Its revisions start at
 * term << 32, so a revision from an earlier leader is always older than the
 * new tier's history: watches from it get STORE_ECOMPACTED and relist, and
 * the node controller gives every node a fresh grace period, as Kubernetes
 * does when it starts.
 *
 * TTL expiry is decided by the leader alone (a wall clock read outside the
 * state machine) and carried out through the log as ordinary deletes with a
 * mod revision precondition, so every replica deletes the same keys at the
 * same revision and a key rewritten meanwhile survives.
 */
#include <stdlib.h>
#include <string.h>

#include "raftstore/store_int.h"

#define EXPIRY_BATCH 64

bool volatile_key(store_t *s, const char *key)
{
    if (!key) return false;
    for (size_t i = 0; i < s->n_vprefixes; i++)
        if (!strncmp(key, s->vprefixes[i], strlen(s->vprefixes[i]))) return true;
    return false;
}

void volatile_on_state(store_t *s, bool leader_ready)
{
    if (leader_ready && !s->vkv && s->n_vprefixes) {
        s->vkv = kv_new(s->history_events, s->history_seconds, (uint64_t)s->raft.current_term << 32);
        return;
    }
    if (!leader_ready && s->vkv) {
        kv_t *v = s->vkv;
        s->vkv = NULL;
        kv_watch_end_all(v, STORE_ECOMPACTED);
        kv_free(v);
    }
}

void volatile_apply(store_t *s, struct op *o)
{
    if (!s->vkv) {
        op_fail(o, STORE_EUNAVAILABLE);
        return;
    }
    if (o->cmd.op == CMD_READ_GET || o->cmd.op == CMD_READ_RANGE) {
        store_run_local_read(s, o);
        return;
    }
    store_result_t r = {0};
    const struct cmd *c = &o->cmd;
    switch (c->op) {
    case CMD_CREATE:
        kv_put(s->vkv, c->key, c->value, c->value_len, KV_CREATE, 0, 0, c->now_ms, &r);
        break;
    case CMD_UPDATE:
        kv_put(s->vkv, c->key, c->value, c->value_len, KV_UPDATE, c->if_mod_rev, 0, c->now_ms, &r);
        break;
    case CMD_PUT:
        kv_put(s->vkv, c->key, c->value, c->value_len,
               kv_get(s->vkv, c->key) ? KV_UPDATE : KV_CREATE, 0, 0, c->now_ms, &r);
        break;
    case CMD_DELETE:
        kv_delete(s->vkv, c->key, c->if_mod_rev, c->now_ms, &r);
        break;
    default:
        r.err = STORE_EINVAL;
    }
    op_finish(o, &r);
}

/* ---------------------------------------------------------------- expiry */

static void expire_done(const store_result_t *r, void *data)
{
    store_t *s = data;
    (void)r;
    if (s->expiring) s->expiring--;
}

struct expired {
    char *keys[EXPIRY_BATCH];
    uint64_t revs[EXPIRY_BATCH];
    size_t n;
};

static void collect(const store_kv_t *kv, void *arg)
{
    struct expired *e = arg;
    if (e->n < EXPIRY_BATCH) {
        e->keys[e->n] = strdup(kv->key);
        e->revs[e->n] = kv->mod_rev;
        e->n++;
    }
}

void expiry_tick(store_t *s)
{
    if (!store_is_leader_ready(s) || s->expiring) return;
    uint64_t now = time_wall_ms();
    uint64_t next = kv_next_expiry(s->kv);
    if (next == 0 || next > now) return;
    struct expired e = {0};
    kv_expired(s->kv, now, EXPIRY_BATCH, collect, &e);
    for (size_t i = 0; i < e.n; i++) {
        struct cmd c = {.op = CMD_DELETE, .now_ms = now, .if_mod_rev = e.revs[i],
                        .key = e.keys[i], .key_len = strlen(e.keys[i])};
        struct op *o = op_new(s, &c, expire_done, s);
        free(e.keys[i]);
        if (!o) continue;
        s->expiring++;
        int rv = store_propose(s, o);
        if (rv != 0) op_fail(o, rv);
    }
}
