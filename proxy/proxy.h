/*
 * proxy.h - picokube's service proxy (kube-proxy's iptables mode): programs
 * the nat and filter tables from Services and Endpoints so that ClusterIPs,
 * NodePorts and external IPs reach ready pods, balanced at random, with
 * ClientIP affinity, masquerade where replies would bypass the node, and
 * REJECT for services without endpoints.
 *
 * Only chains named PICOKUBE-* are written (atomically, with
 * `iptables-restore --noflush`), plus a fixed set of jump rules from the
 * built-in chains; nobody else's rules are touched. The iptables commands
 * found in PATH are used, so the nft and legacy backends both work. The
 * service CIDR is routed to a local veth pair (pk-svc / pk-svc-peer), so a
 * virtual IP never leaves the node unrewritten.
 */
#ifndef PICOKUBE_PROXY_H
#define PICOKUBE_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct proxy_config {
    const char *api_urls;     /* one or several comma-separated API server URLs (proxy_start) */
    const char *token;        /* bearer token, may be NULL */
    const char *node_name;    /* this node: endpoints on it are "local" (traffic policies) */
    const char *cluster_cidr; /* pod CIDR of the cluster; NULL: 10.42.0.0/16 */
    const char *service_cidr; /* NULL: 10.43.0.0/16 */
    unsigned min_sync_interval_ms; /* bursts of changes are batched; 0: 100 */
    unsigned check_interval_ms;    /* how often the kernel's chains are checked
                                      against what was written; 0: 60000 */
    bool no_service_route;         /* do not create pk-svc nor route the service CIDR */
    bool no_localhost_nodeports;   /* NodePorts not on 127.0.0.1 (no route_localnet) */
    /* Commands, looked up in PATH; NULL: "iptables", "iptables-restore",
     * "iptables-save". */
    const char *iptables, *iptables_restore, *iptables_save;
};

typedef struct proxy proxy_t;

/* Starts the proxy on its own thread and uv loop: lists and watches
 * Services and Endpoints, writes every rule once both are listed (a full
 * resync, which also deletes PICOKUBE-* chains left from an earlier run),
 * then rewrites what changed, at most once per min_sync_interval_ms.
 * A failed write is retried with backoff (1 s doubling to 30 s). Returns 0,
 * or -1 (logged) on a bad configuration. */
int proxy_start(const struct proxy_config *cfg, proxy_t **out);
/* Stops watching and joins the thread. The rules stay in place (traffic
 * keeps flowing while the proxy restarts); proxy_cleanup removes them. */
void proxy_stop(proxy_t *p);

struct proxy_stats {
    bool synced;                  /* the first full write succeeded */
    unsigned long syncs;          /* syncs run (changes seen, batched) */
    unsigned long restores;       /* iptables-restore runs */
    unsigned long unchanged;      /* syncs that found nothing to write */
    unsigned long failures;       /* failed writes */
    unsigned long chains_written; /* chains in the last restore input */
    size_t service_ports, chains; /* in the last successful write */
};
/* Thread-safe. */
void proxy_get_stats(proxy_t *p, struct proxy_stats *out);

/* One full sync without the API: `services` and `endpoints` are lists
 * ({"items": [...]}) or arrays of v1 objects. Stale PICOKUBE-* chains are
 * deleted, jump rules and (unless disabled) the service route made. Used by
 * `picokube proxy --services-file`, tests and benchmarks. 0 or -1 with a
 * message in err. */
int proxy_apply(const struct proxy_config *cfg, const cJSON *services, const cJSON *endpoints,
                char *err, size_t errlen);

/* The full iptables-restore input for those objects (nothing applied), or
 * NULL with a message. Caller frees. */
char *proxy_render(const struct proxy_config *cfg, const cJSON *services, const cJSON *endpoints,
                   char *err, size_t errlen);

/* Removes everything the proxy made: the jump rules, every PICOKUBE-* chain
 * of the nat and filter tables, and pk-svc with its route (unless
 * no_service_route). Idempotent. 0 or -1 with a message in err. */
int proxy_cleanup(const struct proxy_config *cfg, char *err, size_t errlen);

#endif
