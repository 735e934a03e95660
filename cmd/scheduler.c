/*
 * scheduler.c - `picokube scheduler --kubeconfig F`: the scheduler on its
 * own, against any API server (the same component `picokube server` runs
 * inside the master process), like kube-scheduler beside kube-apiserver.
 *
 * Reads the API URL(s) and token from a kubeconfig (kubectl's resolution:
 * --kubeconfig, $KUBECONFIG, ~/.kube/config), starts the scheduler on its
 * thread, optionally serves /metrics and /healthz, and stops cleanly (giving
 * up its Lease, so a standby takes over at once) on SIGINT or SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cmd/cmd.h"
#include "lib/lib.h"
#include "scheduler/scheduler.h"

/* "2s", "500ms", "1m" or a bare number of seconds, into ms. */
static int duration_ms(const char *s, unsigned *ms)
{
    if (!s) return 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0) return -1;
    double mult;
    if (!strcmp(end, "ms"))
        mult = 1;
    else if (!strcmp(end, "s") || !*end)
        mult = 1000;
    else if (!strcmp(end, "m"))
        mult = 60000;
    else
        return -1;
    if (v * mult > 4e9) return -1;
    *ms = (unsigned)(v * mult);
    if (!*ms && v > 0) *ms = 1;
    return 0;
}

struct main_state {
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    http_server_t *http;
};

static void on_signal(uv_signal_t *h, int signum)
{
    struct main_state *m = h->data;
    if (signum) log_info("scheduler", "signal %d: stopping", signum);
    uv_close((uv_handle_t *)&m->sigint, NULL);
    uv_close((uv_handle_t *)&m->sigterm, NULL);
    if (m->http) http_server_stop(m->http, NULL, NULL);
    m->http = NULL;
}

static void serve(http_req_t *req, void *data)
{
    (void)data;
    const char *path = http_req_path(req);
    if (!strcmp(path, "/metrics")) {
        size_t len;
        char *text = metrics_render(&len);
        http_respond(req, 200, "text/plain; version=0.0.4", text ? text : "", text ? len : 0);
        free(text);
    } else if (!strcmp(path, "/healthz") || !strcmp(path, "/livez") || !strcmp(path, "/readyz")) {
        http_respond(req, 200, "text/plain", "ok", 2);
    } else {
        http_respond(req, 404, "text/plain", "not found\n", 10);
    }
}

int cmd_scheduler(int argc, char **argv)
{
    const char *kubeconfig = NULL, *context = NULL, *server = NULL, *token = NULL;
    const char *identity = NULL, *lease_ns = "kube-system", *lease_name = "picokube-scheduler";
    const char *sched_name = "default-scheduler", *metrics_bind = "127.0.0.1";
    const char *lease_dur = NULL, *renew = NULL, *retry = NULL;
    long metrics_port = 0, binds = 0;
    bool leader_elect = true, help = false;
    const struct flag_spec specs[] = {
        {"kubeconfig", FLAG_STRING, &kubeconfig, "kubeconfig of the API server(s) to use"},
        {"context", FLAG_STRING, &context, "kubeconfig context (default: current)"},
        {"server", FLAG_STRING, &server, "API server URL(s), comma-separated (overrides it)"},
        {"token", FLAG_STRING, &token, "bearer token (overrides the kubeconfig's)"},
        {"scheduler-name", FLAG_STRING, &sched_name,
         "schedule pods with this spec.schedulerName (default default-scheduler)"},
        {"identity", FLAG_STRING, &identity, "Lease holder identity (default hostname_random)"},
        {"leader-elect", FLAG_BOOL, &leader_elect, "campaign for the Lease (default true)"},
        {"leader-elect-lease-namespace", FLAG_STRING, &lease_ns, "default kube-system"},
        {"leader-elect-resource-name", FLAG_STRING, &lease_name, "default picokube-scheduler"},
        {"leader-elect-lease-duration", FLAG_STRING, &lease_dur, "default 2s"},
        {"leader-elect-renew-deadline", FLAG_STRING, &renew, "default 1.5s"},
        {"leader-elect-retry-period", FLAG_STRING, &retry, "default 250ms"},
        {"max-binds-in-flight", FLAG_INT, &binds, "bindings sent at once (default 16)"},
        {"metrics-port", FLAG_INT, &metrics_port,
         "serve /metrics and /healthz on this port (default off)"},
        {"metrics-bind-address", FLAG_STRING, &metrics_bind, "default 127.0.0.1"},
        {"help", FLAG_BOOL, &help, "show this help"},
        {NULL, 0, NULL, NULL},
    };
    char err[512];
    int npos = flags_parse(specs, argc, argv, err, sizeof err);
    if (npos != 0) {
        fprintf(stderr, "picokube scheduler: %s\n", npos < 0 ? err : "unexpected argument");
        flags_usage(stderr, specs);
        return 2;
    }
    if (help) {
        printf("usage: picokube scheduler --kubeconfig FILE [flags]\n\nflags:\n");
        flags_usage(stdout, specs);
        return 0;
    }
    struct sched_config cfg = {0};
    struct {
        const char *flag, *val;
        unsigned *dst;
    } durs[] = {
        {"leader-elect-lease-duration", lease_dur, &cfg.lease_duration_ms},
        {"leader-elect-renew-deadline", renew, &cfg.renew_deadline_ms},
        {"leader-elect-retry-period", retry, &cfg.retry_period_ms},
    };
    for (size_t i = 0; i < sizeof durs / sizeof *durs; i++) {
        if (duration_ms(durs[i].val, durs[i].dst) != 0) {
            fprintf(stderr, "picokube scheduler: --%s: \"%s\" is not a duration (like 2s)\n",
                    durs[i].flag, durs[i].val);
            return 2;
        }
    }
    if (metrics_port < 0 || metrics_port > 65535 || binds < 0 || binds > 4096) {
        fprintf(stderr, "picokube scheduler: --metrics-port is 0..65535, --max-binds-in-flight "
                        "0..4096\n");
        return 2;
    }
    api_kubeconfig_t kc = {0};
    if (!server) {
        if (api_kubeconfig_load(kubeconfig, context, &kc, err, sizeof err) != 0) {
            fprintf(stderr, "picokube scheduler: %s (or give --server and --token)\n", err);
            return 1;
        }
        /* An https:// server is trusted through the kubeconfig's CA. */
        if (api_kubeconfig_use_tls(&kc, err, sizeof err) != 0) {
            fprintf(stderr, "picokube scheduler: %s\n", err);
            api_kubeconfig_free(&kc);
            return 1;
        }
        server = kc.server;
        if (!token) token = kc.token;
    }
    cfg.api_urls = server;
    cfg.token = token;
    cfg.scheduler_name = sched_name;
    cfg.identity = identity;
    cfg.no_leader_elect = !leader_elect;
    cfg.lease_namespace = lease_ns;
    cfg.lease_name = lease_name;
    cfg.max_binds_in_flight = (unsigned)binds;

    struct main_state m = {0};
    uv_loop_init(&m.loop);
    uv_signal_init(&m.loop, &m.sigint);
    uv_signal_init(&m.loop, &m.sigterm);
    m.sigint.data = m.sigterm.data = &m;
    uv_signal_start(&m.sigint, on_signal, SIGINT);
    uv_signal_start(&m.sigterm, on_signal, SIGTERM);
    int rc = 0;
    if (metrics_port) {
        struct http_server_config hc = {.host = metrics_bind, .port = (int)metrics_port};
        rc = http_server_start(&m.loop, &hc, serve, NULL, &m.http);
        if (rc != 0)
            fprintf(stderr, "picokube scheduler: cannot serve metrics on %s:%ld: %s\n",
                    metrics_bind, metrics_port, uv_strerror(rc));
    }
    sched_t *s = NULL;
    if (rc == 0 && sched_start(&cfg, &s) != 0) {
        fprintf(stderr, "picokube scheduler: cannot start (see the log above)\n");
        rc = 1;
    }
    if (rc != 0) {
        on_signal(&m.sigint, 0);
        uv_run(&m.loop, UV_RUN_DEFAULT);
        uv_loop_close(&m.loop);
        api_kubeconfig_free(&kc);
        return 1;
    }
    uv_run(&m.loop, UV_RUN_DEFAULT);
    sched_stop(s);
    uv_loop_close(&m.loop);
    api_kubeconfig_free(&kc);
    return 0;
}
