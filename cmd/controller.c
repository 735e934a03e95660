/*
 * controller.c - `picokube controller --kubeconfig F`: the controller
 * manager on its own, against any API server (the same loops `picokube
 * server` runs inside the master process).
 *
 * Reads the API URL(s) and token from a kubeconfig (kubectl's resolution:
 * --kubeconfig, $KUBECONFIG, ~/.kube/config), starts the controller on its
 * thread, optionally serves /metrics, and stops cleanly (giving up its
 * Lease, so a standby takes over at once) on SIGINT or SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cmd/cmd.h"
#include "controller/controller.h"
#include "lib/lib.h"

/* "4s", "500ms", "2m", "1h" or a bare number of seconds, into ms. */
static int parse_duration(const char *s, unsigned *ms)
{
    if (!s) return 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0) return -1;
    double mult = 1000;
    if (!strcmp(end, "ms"))
        mult = 1;
    else if (!strcmp(end, "s") || !*end)
        mult = 1000;
    else if (!strcmp(end, "m"))
        mult = 60000;
    else if (!strcmp(end, "h"))
        mult = 3600000;
    else
        return -1;
    double r = v * mult;
    if (r > 4e9) return -1;
    *ms = (unsigned)r;
    if (!*ms && v > 0) *ms = 1;
    return 0;
}

static const struct {
    const char *name;
    unsigned bit;
} loop_names[] = {
    {"replicaset", CTRL_LOOP_REPLICATION}, {"replicationcontroller", CTRL_LOOP_REPLICATION},
    {"deployment", CTRL_LOOP_DEPLOYMENT},  {"nodelifecycle", CTRL_LOOP_NODELIFECYCLE},
    {"endpoint", CTRL_LOOP_ENDPOINTS},     {"endpointslice", CTRL_LOOP_ENDPOINTS},
    {"garbagecollector", CTRL_LOOP_GC},    {"nodeipam", CTRL_LOOP_PODCIDR},
};

static int parse_loops(const struct flag_list *l, unsigned *out)
{
    *out = 0;
    for (size_t i = 0; i < l->n; i++) {
        const char *w = l->items[i];
        if (!strcmp(w, "*")) {
            *out = 0;
            return 0;
        }
        size_t k;
        for (k = 0; k < sizeof loop_names / sizeof *loop_names; k++)
            if (!strcmp(w, loop_names[k].name)) break;
        if (k == sizeof loop_names / sizeof *loop_names) {
            fprintf(stderr, "picokube controller: unknown controller \"%s\"\n", w);
            return -1;
        }
        *out |= loop_names[k].bit;
    }
    return 0;
}

struct main_state {
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    http_server_t *metrics;
};

static void on_signal(uv_signal_t *h, int signum)
{
    struct main_state *m = h->data;
    log_info("controller", "signal %d: stopping", signum);
    uv_signal_stop(&m->sigint);
    uv_signal_stop(&m->sigterm);
    uv_close((uv_handle_t *)&m->sigint, NULL);
    uv_close((uv_handle_t *)&m->sigterm, NULL);
    if (m->metrics) http_server_stop(m->metrics, NULL, NULL);
    m->metrics = NULL;
}

static void serve(http_req_t *req, void *data)
{
    (void)data;
    if (!strcmp(http_req_path(req), "/metrics")) {
        size_t len;
        char *text = metrics_render(&len);
        http_respond(req, 200, "text/plain; version=0.0.4", text ? text : "", text ? len : 0);
        free(text);
        return;
    }
    if (!strcmp(http_req_path(req), "/healthz")) {
        http_respond(req, 200, "text/plain", "ok", 2);
        return;
    }
    http_respond(req, 404, "text/plain", "not found\n", 10);
}

int cmd_controller(int argc, char **argv)
{
    const char *kubeconfig = NULL, *context = NULL, *identity = NULL, *cidr = NULL;
    const char *grace = NULL, *eviction = NULL, *monitor = NULL;
    const char *lease_dur = NULL, *renew = NULL, *retry = NULL, *metrics_bind = "127.0.0.1";
    long mask = 24, metrics_port = 0, workers = 0;
    bool leader_elect = true, help = false;
    struct flag_list controllers = {0};
    const struct flag_spec specs[] = {
        {"kubeconfig", FLAG_STRING, &kubeconfig, "kubeconfig of the API server(s) to use"},
        {"context", FLAG_STRING, &context, "kubeconfig context (default: current)"},
        {"identity", FLAG_STRING, &identity, "Lease holder identity (default host_pid_random)"},
        {"leader-elect", FLAG_BOOL, &leader_elect, "campaign for the Lease (default true)"},
        {"leader-elect-lease-duration", FLAG_STRING, &lease_dur, "default 2s"},
        {"leader-elect-renew-deadline", FLAG_STRING, &renew, "default 1.5s"},
        {"leader-elect-retry-period", FLAG_STRING, &retry, "default 250ms"},
        {"node-monitor-grace-period", FLAG_STRING, &grace,
         "a node whose Lease is not renewed this long is NotReady (default 4s)"},
        {"pod-eviction-timeout", FLAG_STRING, &eviction,
         "pods without a matching toleration leave a tainted node after (default 3s)"},
        {"node-monitor-period", FLAG_STRING, &monitor, "how often nodes are checked (500ms)"},
        {"cluster-cidr", FLAG_STRING, &cidr, "pod CIDR of the cluster (default 10.42.0.0/16)"},
        {"node-cidr-mask-size", FLAG_INT, &mask, "prefix of each node's pod CIDR (default 24)"},
        {"controllers", FLAG_LIST, &controllers,
         "loops to run: replicaset deployment nodelifecycle endpoint garbagecollector nodeipam "
         "(default all)"},
        {"concurrent-syncs", FLAG_INT, &workers, "keys reconciled at once per loop (default 8)"},
        {"metrics-port", FLAG_INT, &metrics_port, "serve /metrics on this port (default off)"},
        {"metrics-bind-address", FLAG_STRING, &metrics_bind, "default 127.0.0.1"},
        {"help", FLAG_BOOL, &help, "show this help"},
        {NULL, 0, NULL, NULL},
    };
    char err[512];
    int npos = flags_parse(specs, argc, argv, err, sizeof err);
    if (npos != 0) {
        fprintf(stderr, "picokube controller: %s\n", npos < 0 ? err : "unexpected argument");
        flags_usage(stderr, specs);
        return 2;
    }
    if (help) {
        printf("usage: picokube controller --kubeconfig FILE [flags]\n");
        flags_usage(stdout, specs);
        return 0;
    }
    struct ctrl_config cfg = {0};
    struct {
        const char *flag, *val;
        unsigned *dst;
    } durs[] = {
        {"node-monitor-grace-period", grace, &cfg.node_grace_ms},
        {"pod-eviction-timeout", eviction, &cfg.eviction_timeout_ms},
        {"node-monitor-period", monitor, &cfg.node_monitor_ms},
        {"leader-elect-lease-duration", lease_dur, &cfg.lease_duration_ms},
        {"leader-elect-renew-deadline", renew, &cfg.renew_deadline_ms},
        {"leader-elect-retry-period", retry, &cfg.retry_period_ms},
    };
    for (size_t i = 0; i < sizeof durs / sizeof *durs; i++) {
        if (parse_duration(durs[i].val, durs[i].dst) != 0) {
            fprintf(stderr, "picokube controller: --%s: \"%s\" is not a duration (like 4s)\n",
                    durs[i].flag, durs[i].val);
            return 2;
        }
    }
    if (mask < 1 || mask > 30 || metrics_port < 0 || metrics_port > 65535 || workers < 0) {
        fprintf(stderr, "picokube controller: --node-cidr-mask-size is 1..30, --metrics-port "
                        "0..65535, --concurrent-syncs positive\n");
        return 2;
    }
    if (parse_loops(&controllers, &cfg.loops) != 0) return 2;

    api_kubeconfig_t kc = {0};
    if (api_kubeconfig_load(kubeconfig, context, &kc, err, sizeof err) != 0) {
        fprintf(stderr, "picokube controller: %s\n", err);
        return 1;
    }
    cfg.urls = kc.server;
    cfg.token = kc.token;
    cfg.identity = identity;
    cfg.no_leader_elect = !leader_elect;
    cfg.cluster_cidr = cidr;
    cfg.node_cidr_mask = (unsigned)mask;
    cfg.workers = (unsigned)workers;

    struct main_state m = {0};
    uv_loop_init(&m.loop);
    uv_signal_init(&m.loop, &m.sigint);
    uv_signal_init(&m.loop, &m.sigterm);
    m.sigint.data = m.sigterm.data = &m;
    uv_signal_start(&m.sigint, on_signal, SIGINT);
    uv_signal_start(&m.sigterm, on_signal, SIGTERM);
    if (metrics_port) {
        struct http_server_config hc = {0};
        hc.host = metrics_bind;
        hc.port = (int)metrics_port;
        int rc = http_server_start(&m.loop, &hc, serve, NULL, &m.metrics);
        if (rc != 0) {
            fprintf(stderr, "picokube controller: cannot serve metrics on %s:%ld: %s\n",
                    metrics_bind, metrics_port, uv_strerror(rc));
            api_kubeconfig_free(&kc);
            return 1;
        }
    }
    ctrl_t *c = NULL;
    int rc = ctrl_start(&cfg, &c);
    if (rc != 0) {
        fprintf(stderr, "picokube controller: cannot start: %s\n",
                rc == -EINVAL ? "bad configuration (see the log)" : uv_strerror(rc));
        on_signal(&m.sigint, 0);
        uv_run(&m.loop, UV_RUN_DEFAULT);
        uv_loop_close(&m.loop);
        api_kubeconfig_free(&kc);
        return 1;
    }
    uv_run(&m.loop, UV_RUN_DEFAULT);
    ctrl_stop(c);
    uv_loop_close(&m.loop);
    api_kubeconfig_free(&kc);
    return 0;
}
