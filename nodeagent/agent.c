/*
 * agent.c - putting the agent together: the node context (paths, runc,
 * cgroups, addresses), the pod table, the pod sources (the API server,
 * a folder of static pods, or both) and the HTTP endpoint on port 10250
 * (container logs, /healthz, /metrics).
 *
 * What runs where: this file and the sources, the pod table and the
 * endpoint run on cfg->loop; pod passes run on libuv's thread pool.
 * Stopping the agent leaves its containers running: the next agent on the
 * same data dir adopts them.
 */
#include "nodeagent/agent_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct agent {
    uv_loop_t *loop;
    struct node_ctx nc;
    podmgr_t *pods;
    http_server_t *http;
    struct manifests *manifests;
    struct apisync *api;
    char token[256];
    int sources_pending;
    bool stopping;
    int stop_pending;
    void (*stop_done)(void *);
    void *stop_arg;
};

struct node_ctx *agent_node_ctx(agent_t *a)
{
    return &a->nc;
}

podmgr_t *agent_podmgr(agent_t *a)
{
    return a->pods;
}

uv_loop_t *agent_loop(agent_t *a)
{
    return a->loop;
}

const char *agent_token(agent_t *a)
{
    return a->token;
}

int agent_port(agent_t *a)
{
    return a->http ? http_server_port(a->http) : -1;
}

void agent_set_image_puller(agent_t *a, agent_image_pull_fn fn, void *arg)
{
    a->nc.pull = fn;
    a->nc.pull_arg = arg;
}

void agent_source_synced(agent_t *a)
{
    if (a->sources_pending > 0 && --a->sources_pending == 0) podmgr_source_synced(a->pods);
}

/* ------------------------------------------------------------------- hooks */

static void on_status(void *arg, const cJSON *pod, const cJSON *status)
{
    agent_t *a = arg;
    const char *source = api_meta_annotation(pod, "kubernetes.io/config.source");
    if (source && !strcmp(source, "file"))
        manifests_status(a, pod, status);
    else if (a->api)
        apisync_pod_status(a->api, pod, status);
}

static void on_removed(void *arg, const cJSON *pod)
{
    agent_t *a = arg;
    const char *source = api_meta_annotation(pod, "kubernetes.io/config.source");
    if (a->api && !(source && !strcmp(source, "file"))) apisync_pod_removed(a->api, pod);
}

/* ------------------------------------------------------------------- HTTP */

static void on_http(http_req_t *req, void *data)
{
    agent_t *a = data;
    const char *path = http_req_path(req);
    if (strcmp(http_req_method(req), "GET") != 0) {
        http_respond(req, 405, "text/plain", "method not allowed\n", 19);
    } else if (!strcmp(path, "/healthz")) {
        http_respond(req, 200, "text/plain", "ok", 2);
    } else if (!strcmp(path, "/metrics")) {
        size_t len;
        char *m = metrics_render(&len);
        http_respond(req, 200, "text/plain; version=0.0.4", m ? m : "", m ? len : 0);
        free(m);
    } else if (!strncmp(path, "/containerLogs/", 15)) {
        logs_serve(a, req, path + 15);
    } else {
        http_respond(req, 404, "text/plain", "404 page not found\n", 19);
    }
}

/* ------------------------------------------------------------------ setup */

static int find_runc(const char *want, char *buf, size_t len)
{
    if (want && *want) {
        snprintf(buf, len, "%s", want);
        return access(buf, X_OK);
    }
    snprintf(buf, len, "%s", agent_tool("runc"));
    return access(buf, X_OK);
}

static double gauge_pods(void *arg)
{
    return (double)podmgr_count(arg);
}

static int setup_ctx(agent_t *a, const struct agent_config *cfg, char *err, size_t errlen)
{
    struct node_ctx *nc = &a->nc;
    const char *dd = cfg->data_dir ? cfg->data_dir : AGENT_DEFAULT_DATA_DIR;
    if (strlen(dd) > 200) {
        snprintf(err, errlen, "the data dir path %s is too long (200 characters at most)", dd);
        return -1;
    }
    snprintf(nc->data_dir, sizeof nc->data_dir, "%s", dd);
    snprintf(nc->root, sizeof nc->root, "%s/agent", dd);
    snprintf(nc->images, sizeof nc->images, "%s/agent/images", dd);
    snprintf(nc->pods, sizeof nc->pods, "%s/agent/pods", dd);
    snprintf(nc->logs, sizeof nc->logs, "%s/agent/logs", dd);
    snprintf(nc->runc_root, sizeof nc->runc_root, "%s/agent/runc", dd);
    snprintf(nc->ipam, sizeof nc->ipam, "%s/agent/ipam", dd);
    const char *dirs[] = {nc->root, nc->images, nc->pods, nc->logs, nc->runc_root, nc->ipam};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        if (file_mkdirs(dirs[i], 0700) != 0) {
            snprintf(err, errlen, "cannot create %s: %s", dirs[i], strerror(errno));
            return -1;
        }
    if (find_runc(cfg->runc, nc->runc, sizeof nc->runc) != 0) {
        snprintf(err, errlen, "runc not found at %s: install the runc package (apt install runc)",
                 nc->runc);
        return -1;
    }
    if (cfg->self_exe) {
        snprintf(nc->self_exe, sizeof nc->self_exe, "%s", cfg->self_exe);
    } else {
        ssize_t n = readlink("/proc/self/exe", nc->self_exe, sizeof nc->self_exe - 1);
        if (n <= 0) {
            snprintf(err, errlen, "cannot find this program's path: %s", strerror(errno));
            return -1;
        }
        nc->self_exe[n] = 0;
    }
    if (cfg->node_name && *cfg->node_name)
        snprintf(nc->node_name, sizeof nc->node_name, "%s", cfg->node_name);
    else
        nodeinfo_hostname(nc->node_name, sizeof nc->node_name);
    if (!api_is_dns1123_subdomain(nc->node_name)) {
        snprintf(err, errlen, "node name \"%s\" is not a valid DNS name: give one with --node-name",
                 nc->node_name);
        return -1;
    }
    if (cfg->node_ip && *cfg->node_ip)
        snprintf(nc->node_ip, sizeof nc->node_ip, "%s", cfg->node_ip);
    else if (nodeinfo_ip(nc->node_ip, sizeof nc->node_ip) != 0)
        snprintf(nc->node_ip, sizeof nc->node_ip, "127.0.0.1");
    snprintf(nc->cgroup_parent, sizeof nc->cgroup_parent, "%s",
             cfg->cgroup_parent && *cfg->cgroup_parent ? cfg->cgroup_parent : "/picokube");
    snprintf(nc->cluster_dns, sizeof nc->cluster_dns, "%s",
             cfg->cluster_dns ? cfg->cluster_dns : "");
    snprintf(nc->cluster_domain, sizeof nc->cluster_domain, "%s",
             cfg->cluster_domain ? cfg->cluster_domain : "cluster.local");
    snprintf(nc->pod_cidr, sizeof nc->pod_cidr, "%s", cfg->pod_cidr ? cfg->pod_cidr : "");
    uint32_t net;
    int prefix;
    if (nc->pod_cidr[0] && ipam_parse_cidr(nc->pod_cidr, &net, &prefix) != 0) {
        snprintf(err, errlen, "invalid --pod-cidr \"%s\" (an IPv4 CIDR, /8 to /30)", nc->pod_cidr);
        return -1;
    }
    pthread_mutex_init(&nc->mu, NULL);
    nc->memory_cgroup = nodeinfo_memory_cgroup(nc->cgroup_v1_memory, sizeof nc->cgroup_v1_memory);
    if (!nc->memory_cgroup)
        log_error(COMP, "the cgroup memory controller is not enabled: memory limits cannot be "
                        "enforced and pods run without them. Fix: add \"cgroup_memory=1 "
                        "cgroup_enable=memory\" to the kernel command line (on Raspberry Pi OS: "
                        "/boot/firmware/cmdline.txt) and reboot");
    nc->memory_bytes = nodeinfo_memory();
    nc->swap_limit = nc->cgroup_v1_memory[0] &&
                     access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0;
    nc->standalone = !cfg->servers || !*cfg->servers;
    nc->rc.runc = nc->runc;
    nc->rc.runc_root = nc->runc_root;
    nc->rc.self_exe = nc->self_exe;
    nc->rc.cgroup_v1_memory = nc->cgroup_v1_memory[0] ? nc->cgroup_v1_memory : NULL;
    return 0;
}

int agent_start(const struct agent_config *cfg, agent_t **out, char *err, size_t errlen)
{
    if (!cfg->servers && !cfg->pod_manifests) {
        snprintf(err, errlen,
                 "nothing to run: give --server (an API server) or --pod-manifests "
                 "(a folder of static pods)");
        return -1;
    }
    if (geteuid() != 0) {
        snprintf(err, errlen, "the agent runs containers and must run as root");
        return -1;
    }
    agent_t *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    a->loop = cfg->loop;
    snprintf(a->token, sizeof a->token, "%s", cfg->token ? cfg->token : "");
    if (setup_ctx(a, cfg, err, errlen) != 0) {
        free(a);
        return -1;
    }
    struct podmgr_hooks hooks = {on_status, on_removed, a};
    a->pods = podmgr_new(a->loop, &a->nc, &hooks);
    if (!a->pods) {
        snprintf(err, errlen, "out of memory");
        free(a);
        return -1;
    }
    if (cfg->port >= 0) {
        struct http_server_config hc = {
            .host = cfg->bind_address && *cfg->bind_address ? cfg->bind_address : a->nc.node_ip,
            .port = cfg->port ? cfg->port : 10250,
        };
        int rv = http_server_start(a->loop, &hc, on_http, a, &a->http);
        if (rv != 0) {
            snprintf(err, errlen, "cannot listen on %s:%d for container logs: %s", hc.host, hc.port,
                     uv_strerror(rv));
            podmgr_free(a->pods);
            free(a);
            return -1;
        }
    }
    int adopted = podmgr_adopt(a->pods);
    a->sources_pending = (cfg->pod_manifests ? 1 : 0) + (cfg->servers ? 1 : 0);
    if (cfg->servers) {
        a->api = apisync_start(a, cfg, err, errlen);
        if (!a->api) {
            /* Nothing runs yet: what was adopted stays as it is. */
            if (a->http) http_server_stop(a->http, NULL, NULL);
            podmgr_stop(a->pods, NULL, NULL);
            return -1;
        }
    }
    if (cfg->pod_manifests) a->manifests = manifests_start(a, cfg->pod_manifests);
    metrics_gauge_fn("picokube_agent_pods", "Pods the agent runs", gauge_pods, a->pods);
    log_info(COMP, "node %s (%s): agent started, %d pod(s) adopted, runc %s, data in %s%s",
             a->nc.node_name, a->nc.node_ip, adopted, a->nc.runc, a->nc.root,
             a->nc.memory_cgroup ? "" : ", NO memory cgroup");
    *out = a;
    return 0;
}

static void part_stopped(void *arg)
{
    agent_t *a = arg;
    if (--a->stop_pending > 0) return;
    podmgr_free(a->pods);
    pthread_mutex_destroy(&a->nc.mu);
    void (*done)(void *) = a->stop_done;
    void *darg = a->stop_arg;
    free(a);
    if (done) done(darg);
}

void agent_stop(agent_t *a, void (*done)(void *arg), void *arg)
{
    if (a->stopping) return;
    a->stopping = true;
    a->stop_done = done;
    a->stop_arg = arg;
    metrics_gauge_fn_remove("picokube_agent_pods");
    manifests_stop(a->manifests);
    a->stop_pending = 1;
    if (a->api) {
        a->stop_pending++;
        apisync_stop(a->api, part_stopped, a);
    }
    if (a->http) {
        a->stop_pending++;
        http_server_stop(a->http, part_stopped, a);
    }
    podmgr_stop(a->pods, part_stopped, a);
}
