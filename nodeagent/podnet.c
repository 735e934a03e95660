/*
 * podnet.c - each pod's network: a network namespace with a veth into the
 * node's bridge, an address from the node's pod CIDR, and the files that
 * describe it inside the containers (/etc/hosts, /etc/hostname,
 * /etc/resolv.conf).
 *
 * The namespace is made with `ip netns add pk-<pod uid>` (a bind mount in
 * /run/netns, which `ip netns list` shows to an admin) and configured with
 * batches of iproute2 commands: three programs per pod, whatever the
 * number of steps. Setup is idempotent (replace, not add), so a pass that
 * failed halfway, or an agent restarted halfway, just runs again.
 * The containers of a pod join the namespace by path in their config.json,
 * which is how they reach each other on localhost.
 */
#include "nodeagent/agent_int.h"

#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void podnet_netns_name(const char *uid, char *buf, size_t len)
{
    snprintf(buf, len, "pk-%s", uid);
}

void podnet_netns_path(const char *uid, char *buf, size_t len)
{
    snprintf(buf, len, "/run/netns/pk-%s", uid);
}

/* Host side of the veth: short (IFNAMSIZ), stable for the pod. */
static void veth_name(const char *uid, char *buf, size_t len)
{
    snprintf(buf, len, "pkv%08x", hash32(uid, strlen(uid)));
}

static pthread_mutex_t bridge_mu = PTHREAD_MUTEX_INITIALIZER;
static char bridge_cidr[64];

int podnet_bridge(const char *pod_cidr, char *err, size_t errlen)
{
    char gw[64], batch[512];
    if (ipam_gateway(pod_cidr, gw, sizeof gw, true) != 0) {
        snprintf(err, errlen, "invalid pod CIDR \"%s\"", pod_cidr);
        return -1;
    }
    pthread_mutex_lock(&bridge_mu);
    int rv = 0;
    if (strcmp(bridge_cidr, pod_cidr) != 0 || if_nametoindex(AGENT_BRIDGE) == 0) {
        int n = 0;
        if (if_nametoindex(AGENT_BRIDGE) == 0)
            n += snprintf(batch + n, sizeof batch - (size_t)n, "link add %s type bridge\n",
                          AGENT_BRIDGE);
        snprintf(batch + n, sizeof batch - (size_t)n, "addr replace %s dev %s\nlink set %s up\n",
                 gw, AGENT_BRIDGE, AGENT_BRIDGE);
        rv = ex_ip_batch(NULL, batch, err, errlen);
        /* Pods reach other nodes and the world through this host. */
        if (rv == 0 && fs_write_file("/proc/sys/net/ipv4/ip_forward", "1\n", 2, 0644) != 0) {
            FILE *f = fopen("/proc/sys/net/ipv4/ip_forward", "w");
            if (f) {
                fputs("1\n", f);
                fclose(f);
            }
        }
        if (rv == 0) snprintf(bridge_cidr, sizeof bridge_cidr, "%s", pod_cidr);
    }
    pthread_mutex_unlock(&bridge_mu);
    return rv;
}

int podnet_setup(const struct net_cfg *nc, const char *uid, char *ip, size_t iplen, char *err,
                 size_t errlen)
{
    char ns[128], nsp[160], veth[32], gw[64], batch[1024];
    uint32_t net;
    int prefix;
    if (!nc->pod_cidr || !*nc->pod_cidr) {
        snprintf(err, errlen, "network not ready: no pod CIDR assigned to this node yet");
        return -1;
    }
    if (ipam_parse_cidr(nc->pod_cidr, &net, &prefix) != 0) {
        snprintf(err, errlen, "invalid pod CIDR \"%s\"", nc->pod_cidr);
        return -1;
    }
    if (podnet_bridge(nc->pod_cidr, err, errlen) != 0) return -1;
    podnet_netns_name(uid, ns, sizeof ns);
    podnet_netns_path(uid, nsp, sizeof nsp);
    struct stat st;
    if (stat(nsp, &st) != 0) {
        const char *argv[] = {agent_tool("ip"), "netns", "add", ns, NULL};
        char a0[256];
        snprintf(a0, sizeof a0, "%s", argv[0]);
        argv[0] = a0;
        if (ex_check(argv, NULL, 10000, err, errlen) != 0) return -1;
    }
    if (ipam_allocate(nc->ipam_dir, nc->pod_cidr, uid, ip, iplen, err, errlen) != 0) return -1;
    veth_name(uid, veth, sizeof veth);
    if (if_nametoindex(veth) == 0) {
        snprintf(batch, sizeof batch,
                 "link add %s type veth peer name eth0 netns %s\n"
                 "link set %s master %s\n"
                 "link set %s up\n",
                 veth, ns, veth, AGENT_BRIDGE, veth);
        if (ex_ip_batch(NULL, batch, err, errlen) != 0) return -1;
    }
    ipam_gateway(nc->pod_cidr, gw, sizeof gw, false);
    snprintf(batch, sizeof batch,
             "link set lo up\n"
             "addr replace %s/%d dev eth0\n"
             "link set eth0 up\n"
             "route replace default via %s dev eth0\n",
             ip, prefix, gw);
    return ex_ip_batch(ns, batch, err, errlen);
}

int podnet_teardown(const struct net_cfg *nc, const char *uid)
{
    char ns[128], nsp[160], veth[32], err[300];
    podnet_netns_name(uid, ns, sizeof ns);
    podnet_netns_path(uid, nsp, sizeof nsp);
    veth_name(uid, veth, sizeof veth);
    int rv = 0;
    struct stat st;
    if (stat(nsp, &st) == 0) {
        char a0[256];
        snprintf(a0, sizeof a0, "%s", agent_tool("ip"));
        const char *argv[] = {a0, "netns", "delete", ns, NULL};
        if (ex_check(argv, NULL, 10000, err, sizeof err) != 0) {
            log_warn(COMP, "pod %s: %s", uid, err);
            rv = -1;
        }
    }
    /* Gone with the namespace unless something still held it. */
    if (if_nametoindex(veth) != 0) {
        char batch[128];
        snprintf(batch, sizeof batch, "link del %s\n", veth);
        if (ex_ip_batch(NULL, batch, err, sizeof err) != 0) log_warn(COMP, "pod %s: %s", uid, err);
    }
    ipam_release(nc->ipam_dir, uid);
    return rv;
}

/* ------------------------------------------------------------------ files */

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (*len + (size_t)n + 1 > *cap) {
        size_t nc = (*len + (size_t)n + 1) * 2;
        char *nb = realloc(*buf, nc);
        if (!nb) return;
        *buf = nb;
        *cap = nc;
    }
    va_start(ap, fmt);
    vsnprintf(*buf + *len, *cap - *len, fmt, ap);
    va_end(ap);
    *len += (size_t)n;
}

/* Name servers of the host's resolv.conf that a pod can reach: a loopback
 * stub (systemd-resolved's 127.0.0.53) is not reachable from a pod, so the
 * upstream file is used then, as the kubelet's users are told to. */
static char *host_resolv(void)
{
    char *t = file_read_all("/etc/resolv.conf", NULL);
    if (t && strstr(t, "nameserver 127.")) {
        char *u = file_read_all("/run/systemd/resolve/resolv.conf", NULL);
        if (u) {
            free(t);
            t = u;
        }
    }
    return t ? t : strdup("");
}

char *podnet_resolv_conf(const cJSON *pod, const char *cluster_dns, const char *domain,
                         const char *host_text)
{
    const cJSON *spec = jget(pod, "spec");
    const char *policy = jstr(spec, "dnsPolicy", "ClusterFirst");
    bool hostnet = jbool(spec, "hostNetwork", false);
    bool cluster = cluster_dns && *cluster_dns &&
                   ((!strcmp(policy, "ClusterFirst") && !hostnet) ||
                    !strcmp(policy, "ClusterFirstWithHostNet"));
    const char *ns = jstr(jget(pod, "metadata"), "namespace", "default");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    append(&buf, &len, &cap, "%s", "");
    cJSON *searches = cJSON_CreateArray(), *servers = cJSON_CreateArray(),
          *options = cJSON_CreateArray();
    if (cluster) {
        char s[300];
        snprintf(s, sizeof s, "%s.svc.%s", ns, domain);
        cJSON_AddItemToArray(searches, cJSON_CreateString(s));
        snprintf(s, sizeof s, "svc.%s", domain);
        cJSON_AddItemToArray(searches, cJSON_CreateString(s));
        cJSON_AddItemToArray(searches, cJSON_CreateString(domain));
        cJSON_AddItemToArray(servers, cJSON_CreateString(cluster_dns));
        cJSON_AddItemToArray(options, cJSON_CreateString("ndots:5"));
    } else if (strcmp(policy, "None") != 0) {
        /* Default (and ClusterFirst without a cluster DNS): the host's. */
        char *copy = strdup(host_text ? host_text : "");
        for (char *line = copy, *next; line && *line; line = next) {
            next = strchr(line, '\n');
            if (next) *next++ = 0;
            char *val;
            if (!strncmp(line, "nameserver", 10) && (val = strtok(line + 10, " \t")))
                cJSON_AddItemToArray(servers, cJSON_CreateString(val));
            else if (!strncmp(line, "search", 6) || !strncmp(line, "domain", 6))
                for (val = strtok(line + 6, " \t"); val; val = strtok(NULL, " \t"))
                    cJSON_AddItemToArray(searches, cJSON_CreateString(val));
            else if (!strncmp(line, "options", 7))
                for (val = strtok(line + 7, " \t"); val; val = strtok(NULL, " \t"))
                    cJSON_AddItemToArray(options, cJSON_CreateString(val));
        }
        free(copy);
    }
    const cJSON *dc = jget(spec, "dnsConfig"), *x;
    cJSON_ArrayForEach(x, jget(dc, "nameservers")) if (cJSON_IsString(x))
        cJSON_AddItemToArray(servers, cJSON_CreateString(x->valuestring));
    cJSON_ArrayForEach(x, jget(dc, "searches")) if (cJSON_IsString(x))
        cJSON_AddItemToArray(searches, cJSON_CreateString(x->valuestring));
    cJSON_ArrayForEach(x, jget(dc, "options"))
    {
        char o[300];
        const char *n = jstr(x, "name", ""), *v = jstr(x, "value", NULL);
        snprintf(o, sizeof o, "%s%s%s", n, v ? ":" : "", v ? v : "");
        /* A dnsConfig option replaces the same option from the policy. */
        for (int i = cJSON_GetArraySize(options) - 1; i >= 0; i--) {
            const char *have = cJSON_GetArrayItem(options, i)->valuestring;
            if (!strncmp(have, n, strlen(n)) && (have[strlen(n)] == ':' || !have[strlen(n)]))
                cJSON_DeleteItemFromArray(options, i);
        }
        cJSON_AddItemToArray(options, cJSON_CreateString(o));
    }
    if (cJSON_GetArraySize(searches)) {
        append(&buf, &len, &cap, "search");
        cJSON_ArrayForEach(x, searches) append(&buf, &len, &cap, " %s", x->valuestring);
        append(&buf, &len, &cap, "\n");
    }
    int n = 0;
    cJSON_ArrayForEach(x, servers) if (n++ < 3) /* the resolver reads three */
        append(&buf, &len, &cap, "nameserver %s\n", x->valuestring);
    if (cJSON_GetArraySize(options)) {
        append(&buf, &len, &cap, "options");
        cJSON_ArrayForEach(x, options) append(&buf, &len, &cap, " %s", x->valuestring);
        append(&buf, &len, &cap, "\n");
    }
    cJSON_Delete(searches);
    cJSON_Delete(servers);
    cJSON_Delete(options);
    return buf;
}

int podnet_files(const struct net_cfg *nc, const cJSON *pod, const char *ip, const char *pod_dir,
                 char *err, size_t errlen)
{
    const cJSON *md = jget(pod, "metadata"), *spec = jget(pod, "spec");
    const char *host = jstr(spec, "hostname", jstr(md, "name", ""));
    const char *sub = jstr(spec, "subdomain", NULL);
    const char *ns = jstr(md, "namespace", "default");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    append(&buf, &len, &cap,
           "# Kubernetes-managed hosts file.\n"
           "127.0.0.1\tlocalhost\n"
           "::1\tlocalhost ip6-localhost ip6-loopback\n"
           "fe00::0\tip6-localnet\n"
           "fe00::0\tip6-mcastprefix\n"
           "fe00::1\tip6-allnodes\n"
           "fe00::2\tip6-allrouters\n");
    if (sub && *sub)
        append(&buf, &len, &cap, "%s\t%.63s.%s.%s.svc.%s\t%.63s\n", ip, host, sub, ns,
               nc->cluster_domain, host);
    else
        append(&buf, &len, &cap, "%s\t%.63s\n", ip, host);
    const cJSON *ha, *h;
    cJSON_ArrayForEach(ha, jget(spec, "hostAliases"))
    {
        append(&buf, &len, &cap, "\n# Entries added by HostAliases.\n%s\t", jstr(ha, "ip", ""));
        cJSON_ArrayForEach(h, jget(ha, "hostnames")) if (cJSON_IsString(h))
            append(&buf, &len, &cap, "\t%s", h->valuestring);
        append(&buf, &len, &cap, "\n");
    }
    char p[AGENT_PATH_MAX + 32];
    int rv = 0;
    snprintf(p, sizeof p, "%s/hosts", pod_dir);
    if (buf) rv = fs_write_file(p, buf, len, 0644);
    free(buf);
    char hn[80];
    snprintf(hn, sizeof hn, "%.63s\n", host);
    snprintf(p, sizeof p, "%s/hostname", pod_dir);
    if (!rv) rv = fs_write_file(p, hn, strlen(hn), 0644);
    char *ht = host_resolv();
    char *rc = podnet_resolv_conf(pod, nc->cluster_dns, nc->cluster_domain, ht);
    free(ht);
    snprintf(p, sizeof p, "%s/resolv.conf", pod_dir);
    if (!rv) rv = rc ? fs_write_file(p, rc, strlen(rc), 0644) : -ENOMEM;
    free(rc);
    if (rv)
        snprintf(err, errlen, "cannot write the pod's network files in %s: %s", pod_dir,
                 strerror(-rv));
    return rv ? -1 : 0;
}
