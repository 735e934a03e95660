/*
 * server.c - the API server's HTTP front: listening, authentication, the
 * endpoints that are not Kubernetes resources (health, metrics, version,
 * the raftstore's internal endpoint), and handing the rest to the REST layer.
 *
 * Health: /livez is 200 while the process serves; /readyz and /healthz are
 * 200 only when the store has a leader this member can reach (a quorum), so
 * a load balancer or kubectl sees a master without quorum as not ready.
 */
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver_int.h"

#define COMP "apiserver"

static void reply(http_req_t *req, int status, const char *ctype, const char *body)
{
    http_respond(req, status, ctype, body, strlen(body));
}

static bool token_eq(const char *a, const char *b)
{
    if (!a || !b) return false;
    size_t n = strlen(b);
    if (strlen(a) != n) return false;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++) d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

enum api_identity api_authenticate(apiserver_t *a, http_req_t *req)
{
    const char *h = http_req_header(req, "authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return API_ID_ANONYMOUS;
    const char *t = h + 7;
    if (a->admin_token && token_eq(t, a->admin_token)) return API_ID_ADMIN;
    if (token_eq(t, a->cluster_token)) return API_ID_NODE;
    return API_ID_INVALID;
}

static void serve_health(apiserver_t *a, http_req_t *req, const char *path)
{
    if (!strcmp(path, "/livez")) {
        reply(req, 200, "text/plain; charset=utf-8", "ok");
        return;
    }
    if (store_is_ready(a->store)) {
        reply(req, 200, "text/plain; charset=utf-8", "ok");
    } else {
        reply(req, 503, "text/plain; charset=utf-8",
              "[-]raftstore failed: no raft leader reachable (is a majority of masters up?)\n"
              "readyz check failed");
    }
}

static double gauge_leader(void *arg)
{
    struct store_status st;
    store_get_status(((apiserver_t *)arg)->store, &st);
    return st.is_leader ? 1 : 0;
}

static double gauge_term(void *arg)
{
    struct store_status st;
    store_get_status(((apiserver_t *)arg)->store, &st);
    return (double)st.term;
}

static double gauge_applied(void *arg)
{
    struct store_status st;
    store_get_status(((apiserver_t *)arg)->store, &st);
    return (double)st.applied_index;
}

static double gauge_revision(void *arg)
{
    struct store_status st;
    store_get_status(((apiserver_t *)arg)->store, &st);
    return (double)st.revision;
}

static void serve_metrics(http_req_t *req)
{
    size_t len;
    char *text = metrics_render(&len);
    http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

/* A consistent snapshot of the store, for `picokube backup`. Admin only. */
static void serve_backup(apiserver_t *a, http_req_t *req, enum api_identity id)
{
    if (id != API_ID_ADMIN) {
        api_reply_status(req, 403, "Forbidden", "backups need the admin credential");
        return;
    }
    if (strcmp(http_req_method(req), "GET") != 0) {
        api_reply_status(req, 405, "MethodNotAllowed", "use GET");
        return;
    }
    void *buf;
    size_t len;
    if (store_backup_data(a->store, &buf, &len) != 0) {
        api_reply_status(req, 500, "InternalError", "cannot encode the snapshot");
        return;
    }
    http_respond(req, 200, "application/octet-stream", buf, len);
    free(buf);
}

static void handle(http_req_t *req, void *data)
{
    apiserver_t *a = data;
    const char *path = http_req_path(req);
    if (!strcmp(path, "/healthz") || !strcmp(path, "/livez") || !strcmp(path, "/readyz")) {
        serve_health(a, req, path);
        return;
    }
    if (!strcmp(path, APISERVER_CACERTS_PATH) && a->ca_pem) {
        reply(req, 200, "application/x-pem-file", a->ca_pem);
        return;
    }
    if (!strncmp(path, STORE_INTERNAL_PREFIX, strlen(STORE_INTERNAL_PREFIX))) {
        store_serve_internal(a->store, req); /* checks the cluster token itself */
        return;
    }
    enum api_identity id = api_authenticate(a, req);
    if (id == API_ID_ANONYMOUS || id == API_ID_INVALID) {
        api_reply_status(req, 401, "Unauthorized", "Unauthorized");
        return;
    }
    if (!strcmp(path, "/metrics")) {
        serve_metrics(req);
        return;
    }
    if (!strcmp(path, APISERVER_CAKEY_PATH) && a->ca_key_pem) {
        /* The join token is what lets a new master in; it gets the CA key to
         * issue its own serving certificate. */
        if (id == API_ID_NODE || id == API_ID_ADMIN)
            reply(req, 200, "application/x-pem-file", a->ca_key_pem);
        else
            api_reply_status(req, 403, "Forbidden", "forbidden");
        return;
    }
    if (!strcmp(path, APISERVER_BACKUP_PATH)) {
        serve_backup(a, req, id);
        return;
    }
    api_rest_handle(a, req, id);
}

int apiserver_start(const struct apiserver_config *cfg, apiserver_t **out, char *err,
                    size_t errlen)
{
    apiserver_t *a = calloc(1, sizeof(*a));
    if (!a) return -1;
    a->loop = cfg->loop;
    a->store = cfg->store;
    a->cluster_token = cfg->cluster_token ? strdup(cfg->cluster_token) : NULL;
    snprintf(a->advertise_ip, sizeof(a->advertise_ip), "%s",
             cfg->advertise_ip ? cfg->advertise_ip : "");
    snprintf(a->service_cidr, sizeof(a->service_cidr), "%s",
             cfg->service_cidr ? cfg->service_cidr : "10.43.0.0/16");
    a->ca_pem = cfg->ca_pem ? strdup(cfg->ca_pem) : NULL;
    a->ca_key_pem = cfg->ca_key_pem ? strdup(cfg->ca_key_pem) : NULL;
    struct http_server_config hc = {
        .host = cfg->bind_host ? cfg->bind_host : "0.0.0.0",
        .port = cfg->port,
        .tls_cert_pem = cfg->tls_cert_pem,
        .tls_key_pem = cfg->tls_key_pem,
    };
    int rv = http_server_start(cfg->loop, &hc, handle, a, &a->http);
    if (rv != 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", hc.host, hc.port, uv_strerror(rv));
        free(a->cluster_token);
        free(a);
        return -1;
    }
    metrics_gauge_fn("picokube_raft_is_leader", "1 when this member is the raft leader.",
                     gauge_leader, a);
    metrics_gauge_fn("picokube_raft_term", "The raft term this member is in.", gauge_term, a);
    metrics_gauge_fn("picokube_raft_applied_index", "The last log index this member applied.",
                     gauge_applied, a);
    metrics_gauge_fn("picokube_store_revision", "The store's current revision.", gauge_revision,
                     a);
    rest_bg_start(a);
    *out = a;
    return 0;
}

int apiserver_port(apiserver_t *a)
{
    return http_server_port(a->http);
}

void apiserver_set_admin_token(apiserver_t *a, const char *token)
{
    free(a->admin_token);
    a->admin_token = token ? strdup(token) : NULL;
}

struct stop_ctx {
    apiserver_t *a;
    void (*done)(void *);
    void *arg;
};

static void stopped(void *arg)
{
    struct stop_ctx *c = arg;
    free(c->a->admin_token);
    free(c->a->cluster_token);
    free(c->a->ca_pem);
    free(c->a->ca_key_pem);
    free(c->a);
    if (c->done) c->done(c->arg);
    free(c);
}

void apiserver_stop(apiserver_t *a, void (*done)(void *arg), void *arg)
{
    struct stop_ctx *c = malloc(sizeof(*c));
    c->a = a;
    c->done = done;
    c->arg = arg;
    rest_bg_stop(a);
    http_server_stop(a->http, stopped, c);
}
