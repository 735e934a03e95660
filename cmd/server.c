/*
 * server.c - `picokube server`: one master.
 *
 * Opens (bootstraps, joins or resumes) the raftstore member in the data dir,
 * serves the API on its port, and once the member is part of a cluster with a
 * leader, writes <data-dir>/token and <data-dir>/admin.kubeconfig (atomically,
 * once: they never change afterwards). The admin token is created by the
 * first leader and kept in the store, so every master accepts the same one.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apiserver/apiserver.h"
#include "cmd/cmd.h"
#include "controller/controller.h"
#include "scheduler/scheduler.h"
#include "lib/lib.h"
#include "raftstore/raftstore.h"

#define COMP "server"

struct server {
    uv_loop_t *loop;
    store_t *store;
    apiserver_t *api;
    uv_timer_t ready_timer;
    uv_signal_t sigterm, sigint;
    const char *data_dir;
    char token[256];
    char api_url[256];
    bool wrote_files;
    bool admin_proposed;
    bool stopping;
    int exit_code;
    ctrl_t *ctrl;
    sched_t *sched;
    struct node_side *node;
    char admin[256];
    struct cluster_tls tls;
    bool run_agent;
    const char *node_name;
    char adv[64];
};

/* The cluster's loops run on their own threads and talk to this master's
 * API over HTTP, as they would from another process. */
static void start_components(struct server *sv)
{
    struct ctrl_config cc = {.urls = sv->api_url, .token = sv->admin};
    if (ctrl_start(&cc, &sv->ctrl) != 0) log_error(COMP, "cannot start the controller manager");
    struct sched_config sc = {.api_urls = sv->api_url, .token = sv->admin};
    if (sched_start(&sc, &sv->sched) != 0) log_error(COMP, "cannot start the scheduler");
    if (sv->run_agent) {
        char err[600];
        struct node_side_config nc = {.servers = sv->api_url, .token = sv->token,
                                      .node_name = sv->node_name, .node_ip = sv->adv,
                                      .data_dir = sv->data_dir, .control_plane = true};
        if (node_side_start(&nc, &sv->node, err, sizeof(err)) != 0)
            log_error(COMP, "this master runs no pods: %s", err);
    }
}

static void stop_components(struct server *sv)
{
    if (sv->ctrl) ctrl_stop(sv->ctrl);
    sv->ctrl = NULL;
    if (sv->sched) sched_stop(sv->sched);
    sv->sched = NULL;
    node_side_stop(sv->node);
    sv->node = NULL;
}

void cmd_primary_ip(char *buf, size_t len)
{
    struct ifaddrs *ifs, *i;
    snprintf(buf, len, "127.0.0.1");
    if (getifaddrs(&ifs) != 0) return;
    for (i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
        if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
        inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf, (socklen_t)len);
        break;
    }
    freeifaddrs(ifs);
}

static int write_kubeconfig(struct server *sv, const char *admin_token)
{
    char path[4096], buf[8192];
    snprintf(path, sizeof(path), "%s/admin.kubeconfig", sv->data_dir);
    if (access(path, F_OK) == 0) return 0;
    char *ca = pki_base64(sv->tls.ca_pem, strlen(sv->tls.ca_pem));
    if (!ca) return -ENOMEM;
    int n = snprintf(buf, sizeof(buf),
                     "apiVersion: v1\n"
                     "kind: Config\n"
                     "clusters:\n"
                     "- name: picokube\n"
                     "  cluster:\n"
                     "    certificate-authority-data: %s\n"
                     "    server: %s\n"
                     "users:\n"
                     "- name: admin\n"
                     "  user:\n"
                     "    token: %s\n"
                     "contexts:\n"
                     "- name: picokube\n"
                     "  context:\n"
                     "    cluster: picokube\n"
                     "    user: admin\n"
                     "current-context: picokube\n",
                     ca, sv->api_url, admin_token);
    free(ca);
    if (n < 0 || (size_t)n >= sizeof(buf)) return -EOVERFLOW;
    return file_write_atomic(path, buf, (size_t)n, 0600);
}

static int write_token(struct server *sv)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/token", sv->data_dir);
    if (access(path, F_OK) == 0) return 0;
    char buf[300];
    int n = snprintf(buf, sizeof(buf), "%s\n", sv->token);
    return file_write_atomic(path, buf, (size_t)n, 0600);
}

static void admin_created(const store_result_t *r, void *data)
{
    struct server *sv = data;
    if (r->err != STORE_OK && r->err != STORE_EEXIST) {
        log_warn(COMP, "cannot create the admin token: %s", store_strerror(r->err));
        sv->admin_proposed = false;
    }
}

/* Polls until the member is in a cluster with a leader and the admin token
 * is in its applied state; then writes the files users need. */
static void ready_tick(uv_timer_t *t)
{
    struct server *sv = t->data;
    if (sv->stopping || sv->wrote_files || !store_is_ready(sv->store)) return;
    const store_kv_t *kv = store_get_local(sv->store, APISERVER_ADMIN_TOKEN_KEY);
    if (!kv) {
        struct store_status st;
        store_get_status(sv->store, &st);
        if (st.is_leader && !sv->admin_proposed) {
            char tok[65];
            random_hex(tok, 32);
            sv->admin_proposed = true;
            store_create(sv->store, APISERVER_ADMIN_TOKEN_KEY, tok, strlen(tok), 0, admin_created,
                         sv);
        }
        return;
    }
    snprintf(sv->admin, sizeof(sv->admin), "%.*s", (int)kv->value_len, kv->value);
    apiserver_set_admin_token(sv->api, sv->admin);
    int rv = write_token(sv);
    if (rv == 0) rv = write_kubeconfig(sv, sv->admin);
    if (rv != 0) {
        log_error(COMP, "cannot write %s/token or admin.kubeconfig: %s; retrying", sv->data_dir,
                  strerror(-rv));
        return;
    }
    sv->wrote_files = true;
    log_info(COMP, "ready: API on %s; kubeconfig %s/admin.kubeconfig", sv->api_url,
             sv->data_dir);
    start_components(sv);
}

static void store_closed(void *data)
{
    struct server *sv = data;
    uv_close((uv_handle_t *)&sv->ready_timer, NULL);
    uv_close((uv_handle_t *)&sv->sigterm, NULL);
    uv_close((uv_handle_t *)&sv->sigint, NULL);
}

static void api_stopped(void *data)
{
    struct server *sv = data;
    store_close(sv->store, store_closed, sv);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct server *sv = h->data;
    if (sv->stopping) return;
    sv->stopping = true;
    log_info(COMP, "signal %d: finishing requests in flight, then stopping", signum);
    uv_timer_stop(&sv->ready_timer);
    stop_components(sv);
    apiserver_stop(sv->api, api_stopped, sv);
}

/* Node heartbeats and leader elections: memory only, on the leader. */
static const char *const volatile_prefixes[] = {
    "/registry/leases/kube-node-lease/",
    "/registry/leases/kube-system/",
    NULL,
};

int cmd_server(int argc, char **argv)
{
    const char *data_dir = "/var/lib/picokube", *server_url = NULL, *token = NULL;
    const char *bind = NULL, *advertise = NULL, *node_name = NULL, *vip = NULL;
    const char *restore = NULL;
    long api_port = 6443, peer_port = 6444, snapshot_threshold = 0;
    bool cluster_init = false, disable_agent = false, help = false;
    const struct flag_spec specs[] = {
        {"cluster-init", FLAG_BOOL, &cluster_init, "start a new cluster that more masters can join"},
        {"server", FLAG_STRING, &server_url, "URL of a running master to join"},
        {"token", FLAG_STRING, &token, "the cluster's join token (with --server)"},
        {"data-dir", FLAG_STRING, &data_dir, "where state is kept (default /var/lib/picokube)"},
        {"bind-address", FLAG_STRING, &bind, "address to listen on (default all)"},
        {"advertise-address", FLAG_STRING, &advertise, "address peers and nodes use"},
        {"https-listen-port", FLAG_INT, &api_port, "API port (default 6443)"},
        {"peer-port", FLAG_INT, &peer_port, "raft peer port (default 6444)"},
        {"node-name", FLAG_STRING, &node_name, "this node's name (default: host name)"},
        {"disable-agent", FLAG_BOOL, &disable_agent, "do not run pods on this master"},
        {"vip", FLAG_STRING, &vip, "ADDR/PREFIX held by the raft leader"},
        {"restore", FLAG_STRING, &restore, "start a new cluster from a backup file"},
        {"snapshot-threshold", FLAG_INT, &snapshot_threshold, "log entries between snapshots"},
        {"help", FLAG_BOOL, &help, "show this help"},
        {NULL, 0, NULL, NULL},
    };
    char err[512];
    int npos = flags_parse(specs, argc, argv, err, sizeof(err));
    if (npos < 0 || npos > 0) {
        fprintf(stderr, "picokube server: %s\n", npos < 0 ? err : "unexpected argument");
        flags_usage(stderr, specs);
        return 2;
    }
    if (help) {
        printf("usage: picokube server [flags]\n");
        flags_usage(stdout, specs);
        return 0;
    }
    if (api_port < 0 || api_port > 65535 || peer_port <= 0 || peer_port > 65535) {
        fprintf(stderr, "picokube server: ports must be between 1 and 65535\n");
        return 2;
    }
    if (server_url && cluster_init) {
        fprintf(stderr, "picokube server: --cluster-init starts a new cluster; --server joins "
                        "one: give only one of them\n");
        return 2;
    }
    (void)vip;

    static struct server sv;
    sv.data_dir = data_dir;
    sv.run_agent = !disable_agent;
    sv.node_name = node_name;
    int rv = file_mkdirs(data_dir, 0700);
    if (rv != 0) {
        fprintf(stderr, "picokube server: cannot create the data dir %s: %s\n", data_dir,
                strerror(-rv));
        return 1;
    }
    /* The token: kept in the data dir; given with --server; made at bootstrap. */
    char path[4096];
    snprintf(path, sizeof(path), "%s/token", data_dir);
    char *saved = file_read_all(path, NULL);
    bool resumed = saved != NULL;
    if (saved) {
        saved[strcspn(saved, "\r\n")] = 0;
        snprintf(sv.token, sizeof(sv.token), "%s", saved);
        free(saved);
    } else if (server_url) {
        if (!token || !token[0]) {
            fprintf(stderr, "picokube server: joining with --server needs --token (the file "
                            "'token' in the first server's data dir)\n");
            return 2;
        }
        snprintf(sv.token, sizeof(sv.token), "%s", token);
    }
    char adv[64];
    if (advertise) {
        snprintf(adv, sizeof(adv), "%s", advertise);
    } else if (bind && strcmp(bind, "0.0.0.0") != 0) {
        snprintf(adv, sizeof(adv), "%s", bind);
    } else {
        cmd_primary_ip(adv, sizeof(adv));
    }
    snprintf(sv.adv, sizeof(sv.adv), "%s", adv);
    char raft_bind[128], raft_adv[128];
    snprintf(raft_bind, sizeof(raft_bind), "%s:%ld", bind ? bind : "0.0.0.0", peer_port);
    snprintf(raft_adv, sizeof(raft_adv), "%s:%ld", adv, peer_port);
    snprintf(sv.api_url, sizeof(sv.api_url), "https://%s:%ld", adv, api_port);
    /* TLS first: a joining master checks the server's CA against the token
     * before anything else is sent or written. */
    if (tls_boot_master(data_dir, resumed ? NULL : server_url, sv.token, adv, &sv.tls, err,
                        sizeof(err)) != 0) {
        fprintf(stderr, "picokube server: %s\n", err);
        return 1;
    }
    if (!sv.token[0]) {
        char secret[33];
        random_hex(secret, 16);
        snprintf(sv.token, sizeof(sv.token), "K10%s::server:%s", sv.tls.ca_hash, secret);
    }

    signal(SIGPIPE, SIG_IGN);
    sv.loop = uv_default_loop();
    struct store_config sc = {
        .loop = sv.loop,
        .data_dir = data_dir,
        .bind_address = raft_bind,
        .advertise = raft_adv,
        .api_url = sv.api_url,
        .token = sv.token,
        .join_url = resumed ? NULL : server_url,
        .restore_file = restore,
        .volatile_prefixes = volatile_prefixes,
        .snapshot_threshold = (unsigned)snapshot_threshold,
    };
    /* The API must listen before a join: the leader calls back nothing, but
     * other members forward to us once we are a voter. */
    struct apiserver_config ac = {
        .loop = sv.loop,
        .bind_host = bind,
        .port = (int)api_port,
        .cluster_token = sv.token,
        .advertise_ip = adv,
        .tls_cert_pem = sv.tls.cert_pem,
        .tls_key_pem = sv.tls.key_pem,
        .ca_pem = sv.tls.ca_pem,
        .ca_key_pem = sv.tls.ca_key_pem,
    };
    rv = store_open(&sc, &sv.store, err, sizeof(err));
    if (rv != 0) {
        fprintf(stderr, "picokube server: %s\n", err);
        return 1;
    }
    ac.store = sv.store;
    if (apiserver_start(&ac, &sv.api, err, sizeof(err)) != 0) {
        fprintf(stderr, "picokube server: %s\n", err);
        return 1;
    }
    uv_timer_init(sv.loop, &sv.ready_timer);
    sv.ready_timer.data = &sv;
    uv_timer_start(&sv.ready_timer, ready_tick, 50, 100);
    uv_signal_init(sv.loop, &sv.sigterm);
    uv_signal_init(sv.loop, &sv.sigint);
    sv.sigterm.data = sv.sigint.data = &sv;
    uv_signal_start(&sv.sigterm, on_signal, SIGTERM);
    uv_signal_start(&sv.sigint, on_signal, SIGINT);
    log_info(COMP, "picokube %s: data %s, API %s, raft %s", PICOKUBE_VERSION, data_dir,
             sv.api_url, raft_adv);
    uv_run(sv.loop, UV_RUN_DEFAULT);
    return sv.exit_code;
}
