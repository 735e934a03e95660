/*
 * forward.c - the follower -> leader path and the internal HTTP endpoint.
 *
 * libraft's TCP transport owns the peer socket, so members talk to each other
 * about anything else through the API server of the leader, under
 * STORE_INTERNAL_PREFIX, authenticated with the cluster token:
 *
 *   POST propose     a write (or a read of the volatile tier), encoded as a
 *                    log command; answered with the encoded result and the log
 *                    index it applied at, so the caller can wait for its own
 *                    member to apply that far before answering its client
 *   POST readindex   the leader's applied index, for current reads on followers
 *   POST join        a new member (membership.c)
 *   POST remove      remove a member (membership.c)
 *   GET  status      this member's view, as JSON (tests, operators)
 *   GET/POST/DELETE kv/<key>   raw access for benchmarks and tests
 *
 * A request that reaches a member which is not the leader is handled as if it
 * were local: it is forwarded once more. The `hop=1` query parameter marks a
 * forwarded request so that two members with stale views never bounce it back
 * and forth: the second hop answers 503 and the sender retries.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "raftstore/store_int.h"

#define FORWARD_TIMEOUT_MS 10000
#define NOT_LEADER_BODY "not the leader"

/* ------------------------------------------------------------ leader URL */

const char *store_leader_url(store_t *s)
{
    raft_id id = 0;
    const char *addr = NULL;
    raft_leader(&s->raft, &id, &addr);
    if (id == 0) return NULL;
    if (id == s->id) return s->api_url;
    if (id == s->cached_leader_id && s->cached_leader_url) return s->cached_leader_url;
    char key[64];
    snprintf(key, sizeof(key), STORE_MEMBER_PREFIX "%016llx", (unsigned long long)id);
    const store_kv_t *kv = kv_get(s->kv, key);
    if (!kv) return NULL;
    cJSON *j = cJSON_ParseWithLength(kv->value, kv->value_len);
    const char *api = cJSON_GetStringValue(cJSON_GetObjectItem(j, "api"));
    free(s->cached_leader_url);
    s->cached_leader_url = api ? strdup(api) : NULL;
    s->cached_leader_id = id;
    cJSON_Delete(j);
    return s->cached_leader_url;
}

http_client_t *forward_client(store_t *s)
{
    const char *url = store_leader_url(s);
    if (!url || url == s->api_url) return NULL;
    if (s->leader_client && s->leader_client_url && strcmp(s->leader_client_url, url) == 0)
        return s->leader_client;
    char *u = strdup(url); /* url may point into state the reset below frees */
    forward_reset(s);
    s->leader_client_url = u;
    s->leader_client = http_client_new(s->loop, u, s->token);
    return s->leader_client;
}

/* Drops the connection to the old leader; requests in flight on it end with
 * UV_ECANCELED and are re-parked or failed by their callbacks. */
void forward_reset(store_t *s)
{
    /* Detach first: http_client_free runs the callbacks of requests in
     * flight, and those may ask for a client again. */
    http_client_t *c = s->leader_client;
    char *u = s->leader_client_url;
    s->leader_client = NULL;
    s->leader_client_url = NULL;
    s->cached_leader_id = 0;
    if (c) http_client_free(c);
    free(u);
}

/* ------------------------------------------------------ forwarding writes */

static bool never_sent(int err)
{
    return err == UV_ECONNREFUSED || err == UV_EHOSTUNREACH || err == UV_ENETUNREACH ||
           err == UV_EADDRNOTAVAIL;
}

static void forward_cb(const http_response_t *res, void *data)
{
    struct op *o = data;
    store_t *s = o->s;
    if (s->closing) {
        op_fail(o, STORE_ESHUTDOWN);
        return;
    }
    if (res->err != 0) {
        /* Reads and writes that surely never left may go again once a leader
         * is known; a write whose fate is unknown must not be repeated. */
        if (o->is_read || never_sent(res->err) || res->err == UV_ECANCELED) {
            store_park(s, o);
        } else {
            op_fail(o, res->err == UV_ETIMEDOUT ? STORE_ETIMEDOUT : STORE_EUNAVAILABLE);
        }
        return;
    }
    if (res->status == 401) {
        op_fail(o, STORE_EAUTH);
        return;
    }
    if (res->status == 503) {
        store_park(s, o); /* not the leader (any more): retry when we know better */
        return;
    }
    if (res->status != 200 || result_decode(res->body, res->len, &o->result) != 0) {
        log_warn(STORE_COMP, "leader %s answered a forwarded write with HTTP %d", res->url,
                 res->status);
        op_fail(o, STORE_EIO);
        return;
    }
    o->has_result = true;
    o->index = o->result.index;
    if (o->result.index > raft_last_applied(&s->raft)) {
        o->wait_index = o->result.index;
        o->next = s->waiting_apply;
        s->waiting_apply = o;
        store_kick(s);
        return;
    }
    op_finish(o, &o->result.res);
}

void forward_op(store_t *s, struct op *o)
{
    http_client_t *c = forward_client(s);
    if (!c || !o->cmd_buf) {
        store_park(s, o);
        return;
    }
    int rv = http_client_request(c, "POST", STORE_INTERNAL_PREFIX "propose?hop=1",
                                 "application/octet-stream", o->cmd_buf, o->cmd_len,
                                 FORWARD_TIMEOUT_MS, forward_cb, o);
    if (rv != 0) store_park(s, o);
}

/* ------------------------------------------------------------ read index */

static void read_index_cb(const http_response_t *res, void *data)
{
    store_t *s = data;
    s->ri_busy = false;
    struct op *list = s->ri_inflight;
    s->ri_inflight = NULL;
    if (s->closing) return; /* store_close failed them already */
    bool ok = res->err == 0 && res->status == 200;
    uint64_t index = ok ? strtoull(res->body, NULL, 10) : 0;
    while (list) {
        struct op *o = list;
        list = o->next;
        o->next = NULL;
        if (ok) {
            o->wait_index = index;
            o->next = s->waiting_apply;
            s->waiting_apply = o;
        } else if (res->status == 401) {
            op_fail(o, STORE_EAUTH);
        } else {
            store_park(s, o);
        }
    }
    store_kick(s);
    forward_read_index(s);
}

/* One read index request at a time; reads arriving meanwhile share the next
 * one, which is asked only after they arrived (that is what makes them
 * linearizable). */
void forward_read_index(store_t *s)
{
    if (s->ri_busy || !s->ri_next) return;
    http_client_t *c = forward_client(s);
    if (!c) {
        while (s->ri_next) {
            struct op *o = s->ri_next;
            s->ri_next = o->next;
            store_park(s, o);
        }
        return;
    }
    s->ri_inflight = s->ri_next;
    s->ri_next = NULL;
    if (http_client_request(c, "POST", STORE_INTERNAL_PREFIX "readindex?hop=1", NULL, NULL, 0,
                            FORWARD_TIMEOUT_MS, read_index_cb, s) != 0) {
        http_response_t fail = {.err = UV_ECONNREFUSED};
        read_index_cb(&fail, s);
        return;
    }
    s->ri_busy = true;
}

/* ------------------------------------------------------- internal endpoint */

bool forward_auth_ok(store_t *s, http_req_t *req)
{
    const char *h = http_req_header(req, "authorization");
    if (!h || strncmp(h, "Bearer ", 7) != 0 || !s->token) return false;
    const char *t = h + 7;
    size_t n = strlen(s->token);
    if (strlen(t) != n) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++) diff |= (unsigned char)(t[i] ^ s->token[i]);
    return diff == 0;
}

static void reply_text(http_req_t *req, int status, const char *msg)
{
    http_respond(req, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

static int http_status_of(int err)
{
    switch (err) {
    case STORE_OK:
        return 200;
    case STORE_ENOENT:
        return 404;
    case STORE_EEXIST:
    case STORE_ECONFLICT:
        return 409;
    case STORE_ECOMPACTED:
        return 410;
    case STORE_EINVAL:
        return 400;
    case STORE_EAUTH:
        return 401;
    case STORE_ENOSPC:
        return 507;
    case STORE_ETIMEDOUT:
        return 504;
    default:
        return 503;
    }
}

struct pending_req {
    store_t *s;
    http_req_t *req;
};

static void propose_reply(const store_result_t *r, void *data)
{
    struct pending_req *p = data;
    void *buf;
    size_t len;
    if (result_encode(r, p->s->finishing_index, &buf, &len) != 0) {
        reply_text(p->req, 500, "cannot encode result");
    } else {
        http_respond(p->req, 200, "application/octet-stream", buf, len);
        free(buf);
    }
    free(p);
}

static bool is_hop(http_req_t *req)
{
    const char *h = http_req_query(req, "hop");
    return h && strcmp(h, "1") == 0;
}

static void serve_propose(store_t *s, http_req_t *req)
{
    size_t len;
    const char *body = http_req_body(req, &len);
    struct cmd c;
    if (cmd_decode(body, len, &c) != 0) {
        reply_text(req, 400, "malformed command");
        return;
    }
    bool leader = volatile_key(s, c.key) ? store_is_leader_ready(s)
                                          : raft_state(&s->raft) == RAFT_LEADER;
    if (!leader && is_hop(req)) {
        reply_text(req, 503, NOT_LEADER_BODY);
        return;
    }
    struct pending_req *p = malloc(sizeof(*p));
    if (!p) {
        reply_text(req, 500, "out of memory");
        return;
    }
    p->s = s;
    p->req = req;
    struct op *o = op_new(s, &c, propose_reply, p);
    if (!o) {
        free(p);
        reply_text(req, 400, "bad command");
        return;
    }
    o->is_read = c.op == CMD_READ_GET || c.op == CMD_READ_RANGE;
    /* Let the normal path route it: local apply on the leader, else one more hop. */
    if (leader) {
        if (o->is_read || volatile_key(s, c.key)) {
            if (volatile_key(s, c.key) && !o->is_read)
                volatile_apply(s, o);
            else
                store_run_local_read(s, o);
        } else {
            int rv = store_propose(s, o);
            if (rv != 0) op_fail(o, rv);
        }
    } else {
        forward_op(s, o);
    }
}

static void serve_read_index(store_t *s, http_req_t *req)
{
    if (!store_is_leader_ready(s)) {
        reply_text(req, 503, NOT_LEADER_BODY);
        return;
    }
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)raft_last_applied(&s->raft));
    http_respond(req, 200, "text/plain", buf, (size_t)n);
}

static void serve_status(store_t *s, http_req_t *req)
{
    struct store_status st;
    store_get_status(s, &st);
    cJSON *j = cJSON_CreateObject();
    char id[20];
    snprintf(id, sizeof(id), "%016llx", (unsigned long long)st.id);
    cJSON_AddStringToObject(j, "id", id);
    cJSON_AddBoolToObject(j, "leader", st.is_leader);
    cJSON_AddBoolToObject(j, "ready", st.ready);
    cJSON_AddNumberToObject(j, "term", (double)st.term);
    cJSON_AddNumberToObject(j, "applied", (double)st.applied_index);
    cJSON_AddNumberToObject(j, "revision", (double)st.revision);
    cJSON_AddNumberToObject(j, "keys", (double)st.n_keys);
    cJSON_AddNumberToObject(j, "voters", (double)st.n_voters);
    if (st.leader_api_url) cJSON_AddStringToObject(j, "leaderURL", st.leader_api_url);
    cJSON *members = cJSON_AddArrayToObject(j, "members");
    struct store_member m[16];
    size_t n = store_members(s, m, 16);
    for (size_t i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        snprintf(id, sizeof(id), "%016llx", (unsigned long long)m[i].id);
        cJSON_AddStringToObject(e, "id", id);
        cJSON_AddStringToObject(e, "raft", m[i].raft_address ? m[i].raft_address : "");
        cJSON_AddStringToObject(e, "api", m[i].api_url ? m[i].api_url : "");
        cJSON_AddBoolToObject(e, "voter", m[i].voter);
        cJSON_AddItemToArray(members, e);
    }
    char *out = cJSON_PrintUnformatted(j);
    http_respond(req, 200, "application/json", out, strlen(out));
    free(out);
    cJSON_Delete(j);
}

static void kv_reply(const store_result_t *r, void *data)
{
    http_req_t *req = data;
    char rev[32];
    snprintf(rev, sizeof(rev), "%llu", (unsigned long long)(r->kv ? r->kv->mod_rev : r->rev));
    http_req_add_header(req, "X-Revision", rev);
    if (r->err != STORE_OK) {
        reply_text(req, http_status_of(r->err), store_strerror(r->err));
    } else if (!strcmp(http_req_method(req), "GET")) {
        http_respond(req, 200, "application/octet-stream", r->kv->value, r->kv->value_len);
    } else {
        int code = !strcmp(http_req_method(req), "POST") ? 201 : 200;
        http_respond(req, code, "text/plain", "", 0);
    }
}

static void serve_kv(store_t *s, http_req_t *req, const char *key)
{
    const char *m = http_req_method(req);
    size_t len;
    const char *body = http_req_body(req, &len);
    int rv;
    if (!strcmp(m, "GET")) {
        rv = store_get(s, key, kv_reply, req);
    } else if (!strcmp(m, "POST")) {
        rv = store_create(s, key, body, len, 0, kv_reply, req);
    } else if (!strcmp(m, "PUT")) {
        const char *if_rev = http_req_query(req, "modRevision");
        rv = store_update(s, key, body, len, if_rev ? strtoull(if_rev, NULL, 10) : 0, 0,
                          kv_reply, req);
    } else if (!strcmp(m, "DELETE")) {
        rv = store_delete(s, key, 0, kv_reply, req);
    } else {
        reply_text(req, 405, "method not allowed");
        return;
    }
    if (rv != 0) reply_text(req, http_status_of(rv), store_strerror(rv));
}

void store_serve_internal(store_t *s, http_req_t *req)
{
    const char *path = http_req_path(req) + strlen(STORE_INTERNAL_PREFIX);
    const char *m = http_req_method(req);
    if (!forward_auth_ok(s, req)) {
        reply_text(req, 401, store_strerror(STORE_EAUTH));
        return;
    }
    if (s->closing) {
        reply_text(req, 503, store_strerror(STORE_ESHUTDOWN));
    } else if (!strcmp(path, "propose") && !strcmp(m, "POST")) {
        serve_propose(s, req);
    } else if (!strcmp(path, "readindex") && !strcmp(m, "POST")) {
        serve_read_index(s, req);
    } else if (!strcmp(path, "join") && !strcmp(m, "POST")) {
        membership_serve_join(s, req);
    } else if (!strcmp(path, "remove") && !strcmp(m, "POST")) {
        membership_serve_remove(s, req);
    } else if (!strcmp(path, "status") && !strcmp(m, "GET")) {
        serve_status(s, req);
    } else if (!strncmp(path, "kv/", 3) && path[3]) {
        serve_kv(s, req, path + 2); /* keep the leading '/' of the key */
    } else {
        reply_text(req, 404, "no such internal endpoint");
    }
}
