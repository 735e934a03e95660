/*
 * proxy.c - `picokube proxy`: the service proxy on its own, as kube-proxy
 * runs apart from the kubelet. `picokube agent` and `picokube server` run
 * the same component in-process (proxy/proxy.h).
 *
 *   picokube proxy --kubeconfig F [--node-name N]     watch and program
 *   picokube proxy --cleanup-iptables                 remove everything made
 *   picokube proxy --services-file S --endpoints-file E [--print-rules]
 *                                                     one sync from files
 *                                                     (debugging, tests)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "cmd/cmd.h"
#include "lib/lib.h"
#include "proxy/proxy.h"

static cJSON *load_json(const char *path)
{
    char *text = file_read_all(path, NULL);
    if (!text) {
        fprintf(stderr, "picokube proxy: cannot read %s\n", path);
        return NULL;
    }
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) fprintf(stderr, "picokube proxy: %s is not JSON\n", path);
    return j;
}

/* --services-file / --endpoints-file: print or apply once. */
static int from_files(const struct proxy_config *cfg, const char *sf, const char *ef, bool print)
{
    cJSON *s = load_json(sf), *e = ef ? load_json(ef) : cJSON_CreateArray();
    int rc = 1;
    char err[1024] = "";
    if (s && e) {
        if (print) {
            char *text = proxy_render(cfg, s, e, err, sizeof(err));
            if (text) {
                fputs(text, stdout);
                free(text);
                rc = 0;
            }
        } else {
            rc = proxy_apply(cfg, s, e, err, sizeof(err)) == 0 ? 0 : 1;
        }
        if (rc) fprintf(stderr, "picokube proxy: %s\n", err);
    }
    cJSON_Delete(s);
    cJSON_Delete(e);
    return rc;
}

int cmd_proxy(int argc, char **argv)
{
    const char *kubeconfig = NULL, *server = NULL, *token = NULL, *node = NULL,
               *cluster_cidr = "10.42.0.0/16", *service_cidr = "10.43.0.0/16", *sfile = NULL,
               *efile = NULL;
    long min_sync = 100;
    bool cleanup = false, print = false, route = true, localhost = true, help = false;
    const struct flag_spec specs[] = {
        {"kubeconfig", FLAG_STRING, &kubeconfig, "kubeconfig with the API server and token"},
        {"server", FLAG_STRING, &server, "API server URL(s), comma-separated (overrides it)"},
        {"token", FLAG_STRING, &token, "bearer token (overrides the kubeconfig's)"},
        {"node-name", FLAG_STRING, &node, "this node's name (default: the hostname)"},
        {"cluster-cidr", FLAG_STRING, &cluster_cidr, "pod CIDR of the cluster"},
        {"service-cidr", FLAG_STRING, &service_cidr, "service CIDR, routed to pk-svc"},
        {"min-sync-period-ms", FLAG_INT, &min_sync, "shortest time between two syncs"},
        {"cleanup-iptables", FLAG_BOOL, &cleanup, "remove every rule, chain and route made"},
        {"service-route", FLAG_BOOL, &route, "route the service CIDR to pk-svc (default true)"},
        {"localhost-nodeports", FLAG_BOOL, &localhost,
         "NodePorts also on 127.0.0.1 (sets route_localnet; default true)"},
        {"services-file", FLAG_STRING, &sfile, "sync once from a ServiceList file"},
        {"endpoints-file", FLAG_STRING, &efile, "... and an EndpointsList file"},
        {"print-rules", FLAG_BOOL, &print, "with --services-file: print, apply nothing"},
        {"help", FLAG_BOOL, &help, "show this help"},
        {NULL, 0, NULL, NULL},
    };
    char err[512];
    int npos = flags_parse(specs, argc, argv, err, sizeof(err));
    if (npos != 0 || help) {
        if (npos < 0) fprintf(stderr, "picokube proxy: %s\n", err);
        fprintf(npos ? stderr : stdout, "usage: picokube proxy [flags]\n\nflags:\n");
        flags_usage(npos ? stderr : stdout, specs);
        return npos ? 2 : 0;
    }
    char host[256] = "";
    if (!node) {
        if (gethostname(host, sizeof(host) - 1) == 0) node = host;
    }
    struct proxy_config cfg = {
        .node_name = node,
        .cluster_cidr = cluster_cidr,
        .service_cidr = service_cidr,
        .min_sync_interval_ms = min_sync > 0 ? (unsigned)min_sync : 100,
        .no_service_route = !route,
        .no_localhost_nodeports = !localhost,
    };
    if (cleanup) {
        if (proxy_cleanup(&cfg, err, sizeof(err)) < 0) {
            fprintf(stderr, "picokube proxy: cleanup: %s\n", err);
            return 1;
        }
        return 0;
    }
    if (sfile) return from_files(&cfg, sfile, efile, print);

    api_kubeconfig_t kc = {0};
    if (!server) {
        if (api_kubeconfig_load(kubeconfig, NULL, &kc, err, sizeof(err)) < 0) {
            fprintf(stderr, "picokube proxy: %s (or give --server and --token)\n", err);
            return 2;
        }
        server = kc.server;
        if (!token) token = kc.token;
    }
    cfg.api_urls = server;
    cfg.token = token;
    /* The proxy thread inherits this mask; only this thread takes the signals. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    proxy_t *p;
    if (proxy_start(&cfg, &p) < 0) {
        api_kubeconfig_free(&kc);
        return 1;
    }
    int sig = 0;
    sigwait(&set, &sig);
    log_info("proxy", "signal %d: stopping (the rules stay; --cleanup-iptables removes them)", sig);
    proxy_stop(p);
    api_kubeconfig_free(&kc);
    return 0;
}
