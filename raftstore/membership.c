/*
 * membership.c - how a member comes to be: bootstrap, join, resume, removal.
 *
 * <data_dir>/store.json records this member's raft id and whether it is part
 * of a configuration yet. It is written atomically and only when that changes:
 *   - no file, no join URL: bootstrap a one-voter cluster;
 *   - no file, a join URL: check the token against the running cluster first
 *     (a wrong token changes nothing on disk), then start raft with an empty
 *     log and ask the leader to add us as a voter, retrying until it does;
 *   - a file: resume; bootstrap flags are ignored; a join that never finished
 *     is asked again with the same id.
 * Every member's API URL is kept in the replicated state itself, under
 * STORE_MEMBER_PREFIX<id>, so followers know where to forward to.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "raftstore/store_int.h"

#define JOIN_TIMEOUT_MS 60000

static int write_state(store_t *s)
{
    char path[4096], buf[128];
    snprintf(path, sizeof(path), "%s/store.json", s->data_dir);
    int n = snprintf(buf, sizeof(buf), "{\"id\":\"%016llx\",\"joined\":%s}\n",
                     (unsigned long long)s->id, s->joined ? "true" : "false");
    return file_write_atomic(path, buf, (size_t)n, 0600);
}

static int read_state(store_t *s, bool *found)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/store.json", s->data_dir);
    size_t len;
    char *data = file_read_all(path, &len);
    *found = data != NULL;
    if (!data) return errno == ENOENT ? 0 : -errno;
    cJSON *j = cJSON_ParseWithLength(data, len);
    free(data);
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(j, "id"));
    int rv = 0;
    if (!id) {
        rv = -EINVAL;
    } else {
        s->id = strtoull(id, NULL, 16);
        s->joined = cJSON_IsTrue(cJSON_GetObjectItem(j, "joined"));
    }
    cJSON_Delete(j);
    return s->id ? rv : -EINVAL;
}

/* Reads and checks a backup before anything is written, so that a bad file
 * leaves no half-made cluster behind. */
static int load_backup(store_t *s, const char *path, char *err, size_t errlen)
{
    size_t len;
    char *data = file_read_all(path, &len);
    if (!data) {
        snprintf(err, errlen, "cannot read the backup %s: %s", path, strerror(errno));
        return STORE_EINVAL;
    }
    kv_t *probe = kv_new(1, 1, 0);
    int rv = kv_snapshot_restore(probe, data, len);
    kv_free(probe);
    if (rv != 0) {
        free(data);
        snprintf(err, errlen, "%s is not a picokube backup (or it is damaged)", path);
        return STORE_EINVAL;
    }
    s->restore_data = raft_malloc(len);
    if (!s->restore_data) {
        free(data);
        return STORE_EINVAL;
    }
    memcpy(s->restore_data, data, len);
    s->restore_len = len;
    free(data);
    return 0;
}

/* libraft repairs a torn or truncated open segment by itself while loading
 * (auto-recovery) but says so only through its tracer; we listen while the
 * log loads and turn those lines into our own warnings. */
static void load_trace(struct raft_tracer *t, const char *file, int line, const char *msg)
{
    (void)t;
    (void)file;
    (void)line;
    static const char *const words[] = {"truncate", "discard", "corrupt", "checksum", NULL};
    for (const char *const *w = words; *w; w++) {
        if (strstr(msg, *w)) {
            log_warn(STORE_COMP, "repairing the raft log after an unclean stop: %s", msg);
            return;
        }
    }
}

static struct raft_tracer load_tracer = {.enabled = true, .emit = load_trace};
static struct raft_tracer quiet_tracer = {.enabled = false, .emit = load_trace};

static int start_raft(store_t *s, bool bootstrap, char *err, size_t errlen)
{
    int rv = raft_uv_tcp_init(&s->transport, s->loop);
    if (rv == 0 && s->bind) rv = raft_uv_tcp_set_bind_address(&s->transport, s->bind);
    if (rv != 0) {
        snprintf(err, errlen, "raft transport on %s: %s", s->bind, raft_strerror(rv));
        return STORE_EINVAL;
    }
    rv = raft_uv_init(&s->io, s->loop, s->raft_dir, &s->transport);
    if (rv != 0) {
        snprintf(err, errlen, "raft storage in %s: %s", s->raft_dir, s->io.errmsg);
        return STORE_EIO;
    }
    /* 1 MiB segments instead of 8: libraft keeps a few preallocated, which
     * is 24 MiB of an SD card by default for a store of a few MiB. */
    raft_uv_set_segment_size(&s->io, 1u << 20);
    rv = raft_init(&s->raft, &s->io, &s->fsm, s->id, s->address);
    if (rv != 0) {
        snprintf(err, errlen, "raft init: %s", raft_errmsg(&s->raft));
        return STORE_EIO;
    }
    s->raft.data = s;
    if (bootstrap) {
        struct raft_configuration conf;
        raft_configuration_init(&conf);
        raft_configuration_add(&conf, s->id, s->address, RAFT_VOTER);
        rv = raft_bootstrap(&s->raft, &conf);
        raft_configuration_close(&conf);
        if (rv != 0) {
            snprintf(err, errlen, "raft bootstrap: %s", raft_errmsg(&s->raft));
            return rv == RAFT_NOSPACE ? STORE_ENOSPC : STORE_EIO;
        }
    }
    raft_uv_set_tracer(&s->io, &load_tracer);
    rv = raft_start(&s->raft);
    raft_uv_set_tracer(&s->io, &quiet_tracer);
    if (rv != 0) {
        snprintf(err, errlen, "raft start in %s: %s (the data dir may be damaged)", s->raft_dir,
                 raft_errmsg(&s->raft));
        return rv == RAFT_NOSPACE ? STORE_ENOSPC : STORE_EIO;
    }
    s->raft_started = true;
    return 0;
}

/* ------------------------------------------------------------- joining */

static void join_try(uv_timer_t *t);

static void join_retry(store_t *s)
{
    unsigned delay = 500u << (s->join_attempts < 4 ? s->join_attempts : 4);
    uv_timer_start(&s->join_timer, join_try, delay, 0);
}

static void join_cb(const http_response_t *res, void *data)
{
    store_t *s = data;
    s->join_running = false;
    if (s->closing) return;
    if (res->err == 0 && res->status == 200) {
        s->joined = true;
        int rv = write_state(s);
        if (rv != 0) log_error(STORE_COMP, "cannot record the join in %s: %s", s->data_dir,
                               strerror(-rv));
        log_info(STORE_COMP, "joined the cluster as voter %016llx", (unsigned long long)s->id);
        return;
    }
    if (res->err == 0 && res->status == 401) {
        log_error(STORE_COMP, "%s refused the join token: check --token", s->join_url);
    } else if (res->err != 0) {
        log_warn(STORE_COMP, "join via %s: %s; retrying", s->join_url, uv_strerror(res->err));
    } else {
        log_info(STORE_COMP, "join via %s: HTTP %d %.*s; retrying", s->join_url, res->status,
                 (int)(res->len > 200 ? 200 : res->len), res->body);
    }
    s->join_attempts++;
    join_retry(s);
}

static char *member_json(uint64_t id, const char *raft, const char *api)
{
    cJSON *j = cJSON_CreateObject();
    char ids[20];
    snprintf(ids, sizeof(ids), "%016llx", (unsigned long long)id);
    cJSON_AddStringToObject(j, "id", ids);
    cJSON_AddStringToObject(j, "raft", raft ? raft : "");
    cJSON_AddStringToObject(j, "api", api ? api : "");
    char *out = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return out;
}

static void join_try(uv_timer_t *t)
{
    store_t *s = t->data;
    if (s->closing || s->joined || s->join_running) return;
    char *body = member_json(s->id, s->address, s->api_url);
    if (!s->join_client) s->join_client = http_client_new(s->loop, s->join_url, s->token);
    s->join_running = true;
    int rv = http_client_request(s->join_client, "POST", STORE_INTERNAL_PREFIX "join",
                                 "application/json", body, strlen(body), JOIN_TIMEOUT_MS, join_cb,
                                 s);
    free(body);
    if (rv != 0) {
        s->join_running = false;
        join_retry(s);
    }
}

/* Checks the token before anything is written, so that a wrong token or an
 * unreachable server leaves no trace. */
static int join_precheck(store_t *s, char *err, size_t errlen)
{
    http_response_t res;
    int rv = http_fetch(s->join_url, s->token, "GET", STORE_INTERNAL_PREFIX "status", NULL, NULL,
                        0, 10000, &res);
    if (rv != 0) {
        snprintf(err, errlen, "cannot reach the server %s to join: %s", s->join_url,
                 uv_strerror(rv));
        return STORE_EUNAVAILABLE;
    }
    int status = res.status;
    free((char *)res.body);
    if (status == 401) {
        snprintf(err, errlen,
                 "the server %s refused the join token: use the token from the first server's "
                 "data dir (file 'token')",
                 s->join_url);
        return STORE_EAUTH;
    }
    if (status != 200) {
        snprintf(err, errlen, "the server %s answered HTTP %d to a join: is it a picokube server?",
                 s->join_url, status);
        return STORE_EUNAVAILABLE;
    }
    return 0;
}

int membership_open(store_t *s, const struct store_config *cfg, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/raft", s->data_dir);
    s->raft_dir = strdup(path);
    bool found;
    int rv = read_state(s, &found);
    if (rv != 0) {
        snprintf(err, errlen, "%s/store.json is unreadable (%s): the data dir is damaged",
                 s->data_dir, strerror(-rv));
        return STORE_EIO;
    }
    if (found) {
        if (cfg->join_url || cfg->restore_file)
            log_info(STORE_COMP, "resuming member %016llx from %s; bootstrap flags are ignored",
                     (unsigned long long)s->id, s->data_dir);
        rv = start_raft(s, false, err, errlen);
        if (rv == 0 && !s->joined && s->join_url) join_try(&s->join_timer);
        return rv;
    }
    if (s->join_url) {
        rv = join_precheck(s, err, errlen);
        if (rv != 0) return rv;
    } else if (cfg->restore_file) {
        rv = load_backup(s, cfg->restore_file, err, errlen);
        if (rv != 0) return rv;
    }
    do {
        random_bytes(&s->id, sizeof(s->id));
    } while (s->id == 0);
    rv = file_mkdirs(s->raft_dir, 0700);
    if (rv != 0) {
        snprintf(err, errlen, "cannot create %s: %s", s->raft_dir, strerror(-rv));
        return rv == -ENOSPC ? STORE_ENOSPC : STORE_EIO;
    }
    s->joined = s->join_url == NULL;
    rv = start_raft(s, s->joined, err, errlen);
    if (rv != 0) return rv;
    rv = write_state(s);
    if (rv != 0) {
        snprintf(err, errlen, "cannot write %s/store.json: %s", s->data_dir, strerror(-rv));
        return rv == -ENOSPC ? STORE_ENOSPC : STORE_EIO;
    }
    if (s->join_url) {
        log_info(STORE_COMP, "member %016llx asking %s to join", (unsigned long long)s->id,
                 s->join_url);
        join_try(&s->join_timer);
    } else {
        log_info(STORE_COMP, "bootstrapped a new cluster as member %016llx",
                 (unsigned long long)s->id);
    }
    return 0;
}

void membership_close(store_t *s)
{
    uv_timer_stop(&s->join_timer);
    if (s->join_client) {
        http_client_free(s->join_client);
        s->join_client = NULL;
    }
}

/* ------------------------------------------------------ leader: records */

static void record_done(const store_result_t *r, void *data)
{
    (void)data;
    if (r->err != STORE_OK)
        log_warn(STORE_COMP, "cannot write the member record: %s", store_strerror(r->err));
}

static int put_record(store_t *s, uint64_t id, const char *raft, const char *api, store_cb cb,
                      void *data)
{
    char key[64];
    snprintf(key, sizeof(key), STORE_MEMBER_PREFIX "%016llx", (unsigned long long)id);
    char *val = member_json(id, raft, api);
    const store_kv_t *cur = kv_get(s->kv, key);
    if (cur && cur->value_len == strlen(val) && !memcmp(cur->value, val, cur->value_len)) {
        free(val);
        store_result_t r = {.err = STORE_OK, .kv = cur};
        cb(&r, data);
        return 0;
    }
    struct cmd c = {.op = CMD_PUT, .now_ms = time_wall_ms(), .key = key, .key_len = strlen(key),
                    .value = val, .value_len = strlen(val)};
    struct op *o = op_new(s, &c, cb, data);
    free(val);
    if (!o) return STORE_EINVAL;
    int rv = store_propose(s, o);
    if (rv != 0) op_fail(o, rv);
    return 0;
}

/* A new leader makes sure its own record (API URL) is current. */
void membership_on_leader(store_t *s)
{
    put_record(s, s->id, s->address, s->api_url, record_done, NULL);
}

/* ------------------------------------------------------ leader: joining */

struct join_req {
    store_t *s;
    http_req_t *req;
    uint64_t id;
    char *raft;
    struct raft_change change;
};

static void join_reply(struct join_req *j, int status, const char *msg)
{
    http_respond(j->req, status, "text/plain; charset=utf-8", msg, strlen(msg));
    free(j->raft);
    free(j);
}

static int role_of(store_t *s, uint64_t id)
{
    for (unsigned i = 0; i < s->raft.configuration.n; i++)
        if (s->raft.configuration.servers[i].id == id) return s->raft.configuration.servers[i].role;
    return -1;
}

static void change_failed(struct join_req *j, const char *what, int status)
{
    char msg[256];
    snprintf(msg, sizeof(msg), "%s: %s", what, raft_strerror(status));
    join_reply(j, status == RAFT_CANTCHANGE || status == RAFT_NOTLEADER ? 503 : 500, msg);
}

static void assign_cb(struct raft_change *req, int status)
{
    struct join_req *j = req->data;
    if (status != 0) {
        change_failed(j, "promoting the new member", status);
        return;
    }
    log_info(STORE_COMP, "member %016llx (%s) is now a voter", (unsigned long long)j->id, j->raft);
    join_reply(j, 200, "joined");
}

static void promote(struct join_req *j)
{
    if (role_of(j->s, j->id) == RAFT_VOTER) {
        join_reply(j, 200, "joined");
        return;
    }
    j->change.data = j;
    int rv = raft_assign(&j->s->raft, &j->change, j->id, RAFT_VOTER, assign_cb);
    if (rv != 0) change_failed(j, "promoting the new member", rv);
}

static void add_cb(struct raft_change *req, int status)
{
    struct join_req *j = req->data;
    if (status != 0) {
        change_failed(j, "adding the new member", status);
        return;
    }
    promote(j);
}

static void join_record_done(const store_result_t *r, void *data)
{
    struct join_req *j = data;
    if (r->err != STORE_OK) {
        join_reply(j, 503, store_strerror(r->err));
        return;
    }
    if (role_of(j->s, j->id) >= 0) {
        promote(j);
        return;
    }
    j->change.data = j;
    int rv = raft_add(&j->s->raft, &j->change, j->id, j->raft, add_cb);
    if (rv != 0) change_failed(j, "adding the new member", rv);
}

static void relay_cb(const http_response_t *res, void *data)
{
    http_req_t *req = data;
    if (res->err != 0) {
        const char *msg = "the leader is unreachable; retry";
        http_respond(req, 503, "text/plain", msg, strlen(msg));
    } else {
        http_respond(req, res->status, res->content_type ? res->content_type : "text/plain",
                     res->body, res->len);
    }
}

/* Membership changes run on the leader; other members relay them once. */
static bool relay_to_leader(store_t *s, http_req_t *req, const char *path)
{
    if (raft_state(&s->raft) == RAFT_LEADER) return false;
    const char *hop = http_req_query(req, "hop");
    http_client_t *c = forward_client(s);
    if ((hop && !strcmp(hop, "1")) || !c) {
        const char *msg = "no leader known here; retry";
        http_respond(req, 503, "text/plain", msg, strlen(msg));
        return true;
    }
    size_t len;
    const char *body = http_req_body(req, &len);
    char p[128];
    snprintf(p, sizeof(p), "%s%s?hop=1", STORE_INTERNAL_PREFIX, path);
    if (http_client_request(c, "POST", p, "application/json", body, len, JOIN_TIMEOUT_MS, relay_cb,
                            req) != 0) {
        const char *msg = "cannot reach the leader; retry";
        http_respond(req, 503, "text/plain", msg, strlen(msg));
    }
    return true;
}

void membership_serve_join(store_t *s, http_req_t *req)
{
    if (relay_to_leader(s, req, "join")) return;
    size_t len;
    const char *body = http_req_body(req, &len);
    cJSON *in = cJSON_ParseWithLength(body, len);
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(in, "id"));
    const char *raft = cJSON_GetStringValue(cJSON_GetObjectItem(in, "raft"));
    const char *api = cJSON_GetStringValue(cJSON_GetObjectItem(in, "api"));
    if (!id || !raft || !raft[0] || !api || strtoull(id, NULL, 16) == 0) {
        cJSON_Delete(in);
        const char *msg = "a join needs id, raft and api";
        http_respond(req, 400, "text/plain", msg, strlen(msg));
        return;
    }
    struct join_req *j = calloc(1, sizeof(*j));
    j->s = s;
    j->req = req;
    j->id = strtoull(id, NULL, 16);
    j->raft = strdup(raft);
    log_info(STORE_COMP, "member %s (%s, API %s) asks to join", id, raft, api);
    int rv = put_record(s, j->id, raft, api, join_record_done, j);
    cJSON_Delete(in);
    if (rv != 0) join_reply(j, 503, store_strerror(rv));
}

static void remove_record_done(const store_result_t *r, void *data)
{
    http_req_t *req = data;
    (void)r;
    http_respond(req, 200, "text/plain", "removed", 7);
}

struct remove_req {
    store_t *s;
    http_req_t *req;
    uint64_t id;
    struct raft_change change;
};

static void remove_cb(struct raft_change *change, int status)
{
    struct remove_req *r = change->data;
    if (status != 0) {
        char msg[200];
        snprintf(msg, sizeof(msg), "cannot remove member: %s", raft_strerror(status));
        http_respond(r->req, 503, "text/plain", msg, strlen(msg));
        free(r);
        return;
    }
    char key[64];
    snprintf(key, sizeof(key), STORE_MEMBER_PREFIX "%016llx", (unsigned long long)r->id);
    log_info(STORE_COMP, "member %016llx removed", (unsigned long long)r->id);
    if (store_delete(r->s, key, 0, remove_record_done, r->req) != 0)
        http_respond(r->req, 200, "text/plain", "removed", 7);
    free(r);
}

void membership_serve_remove(store_t *s, http_req_t *req)
{
    if (relay_to_leader(s, req, "remove")) return;
    size_t len;
    const char *body = http_req_body(req, &len);
    cJSON *in = cJSON_ParseWithLength(body, len);
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(in, "id"));
    uint64_t nid = id ? strtoull(id, NULL, 16) : 0;
    cJSON_Delete(in);
    if (nid == 0 || role_of(s, nid) < 0) {
        const char *msg = "no such member";
        http_respond(req, 404, "text/plain", msg, strlen(msg));
        return;
    }
    struct remove_req *r = calloc(1, sizeof(*r));
    r->s = s;
    r->req = req;
    r->id = nid;
    r->change.data = r;
    int rv = raft_remove(&s->raft, &r->change, nid, remove_cb);
    if (rv != 0) {
        char msg[200];
        snprintf(msg, sizeof(msg), "cannot remove member: %s", raft_strerror(rv));
        http_respond(req, 503, "text/plain", msg, strlen(msg));
        free(r);
    }
}

/* ------------------------------------------------------------- listing */

size_t store_members(store_t *s, struct store_member *out, size_t max)
{
    size_t n = 0;
    for (unsigned i = 0; i < s->raft.configuration.n && n < max; i++) {
        const struct raft_server *srv = &s->raft.configuration.servers[i];
        char key[64];
        snprintf(key, sizeof(key), STORE_MEMBER_PREFIX "%016llx", (unsigned long long)srv->id);
        const store_kv_t *kv = kv_get(s->kv, key);
        out[n].id = srv->id;
        out[n].raft_address = srv->address;
        out[n].voter = srv->role == RAFT_VOTER;
        out[n].api_url = NULL;
        if (kv && n < sizeof(s->member_api) / sizeof(s->member_api[0])) {
            cJSON *j = cJSON_ParseWithLength(kv->value, kv->value_len);
            const char *api = cJSON_GetStringValue(cJSON_GetObjectItem(j, "api"));
            if (api) {
                snprintf(s->member_api[n], sizeof(s->member_api[n]), "%s", api);
                out[n].api_url = s->member_api[n];
            }
            cJSON_Delete(j);
        }
        n++;
    }
    return n;
}
