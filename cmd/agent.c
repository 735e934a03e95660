/*
 * agent.c - `picokube agent` (a worker node: the node agent and the service
 * proxy) and `picokube images` (the node's image store).
 *
 *   picokube agent --server URL[,URL...] --token T [--data-dir D]
 *                  [--node-name N] [--node-ip IP] [--pod-manifests DIR] ...
 *   picokube agent --pod-manifests DIR [--pod-cidr CIDR]   (no API server)
 *   picokube images import FILE [--name NAME] [--data-dir D]
 *   picokube images ls|rm NAME [--data-dir D]
 *
 * `picokube agent shim ...` is internal: the process the agent leaves
 * beside each container.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "lib/lib.h"
#include "nodeagent/nodeagent.h"
#include "proxy/proxy.h"

static agent_t *running;
static proxy_t *proxy;
static uv_signal_t sig_term, sig_int;
static bool stopping;

static void stopped(void *arg)
{
    uv_loop_t *loop = arg;
    uv_close((uv_handle_t *)&sig_term, NULL);
    uv_close((uv_handle_t *)&sig_int, NULL);
    uv_stop(loop);
}

static void on_signal(uv_signal_t *h, int signum)
{
    if (stopping) return;
    stopping = true;
    log_info("agent", "signal %d: stopping (containers keep running)", signum);
    if (proxy) proxy_stop(proxy);
    proxy = NULL;
    agent_stop(running, stopped, h->loop);
}

static char *read_token_file(const char *path)
{
    char *t = file_read_all(path, NULL);
    if (t) t[strcspn(t, "\r\n")] = 0;
    return t;
}

int cmd_agent(int argc, char **argv)
{
    if (argc >= 1 && !strcmp(argv[0], "shim")) return agent_shim_main(argc - 1, argv + 1);
    struct agent_config cfg = {0};
    const char *token_file = NULL;
    long port = 10250;
    bool help = false;
    const struct flag_spec specs[] = {
        {"server", FLAG_STRING, &cfg.servers, "API server URL(s), comma-separated"},
        {"token", FLAG_STRING, &cfg.token, "the cluster's join token"},
        {"token-file", FLAG_STRING, &token_file, "a file holding the token"},
        {"data-dir", FLAG_STRING, &cfg.data_dir, "where state is kept (default /var/lib/picokube)"},
        {"node-name", FLAG_STRING, &cfg.node_name, "this node's name (default: host name)"},
        {"node-ip", FLAG_STRING, &cfg.node_ip, "InternalIP (default: the default route's)"},
        {"pod-cidr", FLAG_STRING, &cfg.pod_cidr, "pod CIDR until the controller assigns one"},
        {"cluster-cidr", FLAG_STRING, &cfg.cluster_cidr, "the cluster's pod CIDR (10.42.0.0/16)"},
        {"cluster-dns", FLAG_STRING, &cfg.cluster_dns, "nameserver for pods (ClusterFirst)"},
        {"cluster-domain", FLAG_STRING, &cfg.cluster_domain, "default cluster.local"},
        {"pod-manifests", FLAG_STRING, &cfg.pod_manifests, "folder of static pod manifests"},
        {"runc", FLAG_STRING, &cfg.runc, "runc binary (default: from PATH)"},
        {"cgroup-parent", FLAG_STRING, &cfg.cgroup_parent, "cgroup of the pods (/picokube)"},
        {"kubelet-port", FLAG_INT, &port, "port of the log endpoint (default 10250)"},
        {"bind-address", FLAG_STRING, &cfg.bind_address, "address of the log endpoint"},
        {"help", FLAG_BOOL, &help, "show this help"},
        {NULL, 0, NULL, NULL},
    };
    char err[512];
    int npos = flags_parse(specs, argc, argv, err, sizeof err);
    if (npos != 0 || help) {
        if (!help) fprintf(stderr, "picokube agent: %s\n", npos < 0 ? err : "unexpected argument");
        fprintf(help ? stdout : stderr, "usage: picokube agent --server URL --token T [flags]\n");
        flags_usage(help ? stdout : stderr, specs);
        return help ? 0 : 2;
    }
    char *tf = NULL;
    if (!cfg.token && token_file) {
        tf = read_token_file(token_file);
        if (!tf) {
            fprintf(stderr, "picokube agent: cannot read %s\n", token_file);
            return 2;
        }
        cfg.token = tf;
    }
    if (cfg.servers && (!cfg.token || !*cfg.token)) {
        fprintf(stderr, "picokube agent: --server needs --token (the file 'token' in a server's "
                        "data dir)\n");
        free(tf);
        return 2;
    }
    if (port < 0 || port > 65535) {
        fprintf(stderr, "picokube agent: --kubelet-port must be between 0 and 65535\n");
        free(tf);
        return 2;
    }
    cfg.port = (int)port;
    signal(SIGPIPE, SIG_IGN);
    if (cfg.servers && !strncmp(cfg.servers, "https://", 8)) {
        /* Trust only the CA the token names, before the token is sent. */
        char *ca = NULL;
        if (tls_fetch_ca(cfg.servers, cfg.token, &ca, err, sizeof err) != 0 ||
            http_client_set_default_ca(ca) != 0) {
            fprintf(stderr, "picokube agent: %s\n", err);
            free(ca);
            free(tf);
            return 1;
        }
        free(ca);
    }
    cfg.loop = uv_default_loop();
    if (agent_start(&cfg, &running, err, sizeof err) != 0) {
        fprintf(stderr, "picokube agent: %s\n", err);
        free(tf);
        return 1;
    }
    if (cfg.servers) {
        char host[256];
        if (!cfg.node_name) {
            gethostname(host, sizeof(host));
            host[sizeof(host) - 1] = 0;
            for (char *p = host; *p; p++) *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
        }
        struct proxy_config pc = {.api_urls = cfg.servers, .token = cfg.token,
                                  .node_name = cfg.node_name ? cfg.node_name : host};
        if (proxy_start(&pc, &proxy) != 0) log_error("agent", "the service proxy did not start");
    }
    uv_signal_init(cfg.loop, &sig_term);
    uv_signal_init(cfg.loop, &sig_int);
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_run(cfg.loop, UV_RUN_DEFAULT);
    free(tf);
    return 0;
}

int cmd_images(int argc, char **argv)
{
    const char *data_dir = NULL, *name = NULL;
    bool help = false;
    const struct flag_spec specs[] = {
        {"data-dir", FLAG_STRING, &data_dir, "the agent's data dir (default /var/lib/picokube)"},
        {"name", FLAG_STRING, &name, "import: the image's name, when the archive has none"},
        {"help", FLAG_BOOL, &help, "show this help"},
        {NULL, 0, NULL, NULL},
    };
    char err[1024];
    int npos = flags_parse(specs, argc, argv, err, sizeof err);
    const char *usage = "usage: picokube images import FILE [--name NAME] | ls | rm NAME "
                        "[--data-dir D]\n";
    if (npos < 1 || help) {
        if (npos < 0) fprintf(stderr, "picokube images: %s\n", err);
        fputs(usage, help ? stdout : stderr);
        return help ? 0 : 2;
    }
    int rv;
    if (!strcmp(argv[0], "import") && npos == 2)
        rv = agent_images_import(data_dir, argv[1], name, stdout, err, sizeof err);
    else if ((!strcmp(argv[0], "ls") || !strcmp(argv[0], "list")) && npos == 1)
        rv = agent_images_list(data_dir, stdout, err, sizeof err);
    else if ((!strcmp(argv[0], "rm") || !strcmp(argv[0], "remove")) && npos == 2)
        rv = agent_images_remove(data_dir, argv[1], err, sizeof err);
    else {
        fputs(usage, stderr);
        return 2;
    }
    if (rv != 0) {
        fprintf(stderr, "picokube images: %s\n", err);
        return 1;
    }
    return 0;
}
