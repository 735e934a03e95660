/*
 * routes.c - pods on other nodes: a route to each other node's pod CIDR
 * via its InternalIP (host-gw, as flannel's host-gw backend does on one
 * LAN), and masquerading of pod traffic that leaves the cluster CIDR.
 *
 * Routes carry their own protocol number (RTPROT 112, "picokube"), so
 * the agent recognizes its own at start and removes those of nodes that
 * went away, and never touches anyone else's. The work is iproute2 and
 * iptables commands on a pool thread; one batch at a time, the latest
 * wanted state winning.
 */
#include "nodeagent/agent_int.h"

#include <stdlib.h>
#include <string.h>

#define RTPROT "112"
#define MASQ_COMMENT "picokube pod masquerade"

struct routes {
    uv_loop_t *loop;
    char node_name[254];
    char cluster_cidr[64];
    cJSON *want; /* {"<cidr>": "<via>"} */
    char own_cidr[64];
    bool busy, again;
    bool stopping;
    char masq_done[64];
    void (*done)(void *);
    void *done_arg;
};

struct routes_job {
    uv_work_t w;
    struct routes *r;
    cJSON *want;
    char own_cidr[64];
    bool masq;
};

/* Our routes as the kernel has them now: {"<cidr>": "<via>"}. */
static cJSON *installed(void)
{
    char a0[256];
    snprintf(a0, sizeof a0, "%s", agent_tool("ip"));
    const char *argv[] = {a0, "-4", "route", "show", "proto", RTPROT, NULL};
    char *out = NULL;
    int status = 0;
    cJSON *have = cJSON_CreateObject();
    if (ex_run(argv, NULL, 0, 10000, &out, NULL, &status) == 0 && status == 0) {
        for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
            char dst[64], via[64];
            if (sscanf(line, "%63s via %63s", dst, via) == 2)
                cJSON_AddStringToObject(have, dst, via);
        }
    }
    free(out);
    return have;
}

static void masquerade(const char *own, const char *cluster)
{
    char a0[256], err[300];
    snprintf(a0, sizeof a0, "%s", agent_tool("iptables"));
    const char *check[] = {a0,          "-t",         "nat", "-C",         "POSTROUTING", "-s",
                           own,         "!",          "-d",  cluster,      "-m",          "comment",
                           "--comment", MASQ_COMMENT, "-j",  "MASQUERADE", NULL};
    if (ex_check(check, NULL, 10000, err, sizeof err) == 0) return;
    const char *add[] = {a0,          "-t",         "nat", "-A",         "POSTROUTING", "-s",
                         own,         "!",          "-d",  cluster,      "-m",          "comment",
                         "--comment", MASQ_COMMENT, "-j",  "MASQUERADE", NULL};
    if (ex_check(add, NULL, 10000, err, sizeof err) != 0)
        log_warn(COMP, "cannot masquerade pod traffic leaving %s: %s", cluster, err);
}

static void work(uv_work_t *w)
{
    struct routes_job *j = w->data;
    cJSON *have = installed(), *x;
    char batch[8192];
    size_t n = 0;
    cJSON_ArrayForEach(x, j->want)
    {
        const char *via = jstr(have, x->string, NULL);
        if (via && !strcmp(via, x->valuestring)) continue;
        n += (size_t)snprintf(batch + n, sizeof batch - n, "route replace %s via %s proto %s\n",
                              x->string, x->valuestring, RTPROT);
        if (n > sizeof batch - 200) break;
    }
    cJSON_ArrayForEach(x, have)
    {
        if (jget(j->want, x->string)) continue;
        n += (size_t)snprintf(batch + n, sizeof batch - n, "route del %s proto %s\n", x->string,
                              RTPROT);
        if (n > sizeof batch - 200) break;
    }
    cJSON_Delete(have);
    char err[300];
    if (n && ex_ip_batch(NULL, batch, err, sizeof err) != 0)
        log_warn(COMP, "routes to other nodes' pods: %s", err);
    else if (n)
        log_info(COMP, "routes to other nodes' pods updated (%d node(s))",
                 cJSON_GetArraySize(j->want));
    if (j->masq) masquerade(j->own_cidr, j->r->cluster_cidr);
}

static void run(struct routes *r);

static void after(uv_work_t *w, int status)
{
    struct routes_job *j = w->data;
    struct routes *r = j->r;
    (void)status;
    if (j->masq) snprintf(r->masq_done, sizeof r->masq_done, "%s", j->own_cidr);
    cJSON_Delete(j->want);
    free(j);
    r->busy = false;
    if (r->stopping) {
        cJSON_Delete(r->want);
        void (*done)(void *) = r->done;
        void *arg = r->done_arg;
        free(r);
        if (done) done(arg);
        return;
    }
    if (r->again) {
        r->again = false;
        run(r);
    }
}

static void run(struct routes *r)
{
    if (r->busy) {
        r->again = true;
        return;
    }
    struct routes_job *j = calloc(1, sizeof *j);
    if (!j) return;
    j->r = r;
    j->want = cJSON_Duplicate(r->want, 1);
    snprintf(j->own_cidr, sizeof j->own_cidr, "%s", r->own_cidr);
    j->masq = r->own_cidr[0] && strcmp(r->masq_done, r->own_cidr) != 0;
    j->w.data = j;
    if (uv_queue_work(r->loop, &j->w, work, after) != 0) {
        cJSON_Delete(j->want);
        free(j);
        return;
    }
    r->busy = true;
}

struct routes *routes_new(uv_loop_t *loop, const char *node_name, const char *cluster_cidr)
{
    struct routes *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->loop = loop;
    snprintf(r->node_name, sizeof r->node_name, "%s", node_name);
    snprintf(r->cluster_cidr, sizeof r->cluster_cidr, "%s",
             cluster_cidr && *cluster_cidr ? cluster_cidr : "10.42.0.0/16");
    r->want = cJSON_CreateObject();
    return r;
}

/* The InternalIP of a Node object. */
static const char *internal_ip(const cJSON *node)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, jget(jget(node, "status"),
                               "addresses")) if (!strcmp(jstr(a, "type", ""),
                                                         "InternalIP")) return jstr(a, "address",
                                                                                    NULL);
    return NULL;
}

static bool collect(const char *key, const cJSON *node, void *arg)
{
    struct routes *r = arg;
    (void)key;
    const char *cidr = jstr(jget(node, "spec"), "podCIDR", NULL), *ip = internal_ip(node);
    const char *name = api_meta_name(node);
    if (!cidr || !ip || !name) return true;
    if (!strcmp(name, r->node_name)) {
        snprintf(r->own_cidr, sizeof r->own_cidr, "%s", cidr);
        return true;
    }
    cJSON_AddStringToObject(r->want, cidr, ip);
    return true;
}

void routes_sync(struct routes *r, const api_informer_t *nodes)
{
    if (!r || r->stopping) return;
    cJSON *old = r->want;
    char old_own[64];
    snprintf(old_own, sizeof old_own, "%s", r->own_cidr);
    r->want = cJSON_CreateObject();
    api_informer_foreach(nodes, collect, r);
    bool same = cJSON_Compare(old, r->want, true) && !strcmp(old_own, r->own_cidr);
    cJSON_Delete(old);
    if (!same || !r->busy) {
        if (same && r->masq_done[0]) return;
        run(r);
    }
}

void routes_stop(struct routes *r, void (*done)(void *), void *arg)
{
    r->stopping = true;
    if (r->busy) {
        r->done = done;
        r->done_arg = arg;
        return;
    }
    cJSON_Delete(r->want);
    free(r);
    if (done) done(arg);
}
