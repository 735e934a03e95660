/*
 * controller.h - picokube's controller manager: the reconcile loops that make
 * the cluster heal itself (kube-controller-manager's job).
 *
 * One ctrl_t runs on its own thread with its own uv loop and talks to the
 * API server only over HTTP (api/'s client). It campaigns for the Lease
 * kube-system/picokube-controller-manager; while it holds it, it runs:
 *   - ReplicationController and ReplicaSet (one implementation),
 *   - Deployment (rolling update, recreate, pause, rollback, history),
 *   - node lifecycle (Ready=Unknown, taints, eviction),
 *   - Endpoints and EndpointSlices,
 *   - garbage collection by ownerReferences (background, foreground, orphan),
 *   - node pod-CIDR allocation.
 * Namespace termination is done by the API server itself (apiserver/).
 * Losing the Lease stops every loop and drops every cache; winning it again
 * starts them from a fresh list, as a new kube-controller-manager would.
 */
#ifndef PICOKUBE_CONTROLLER_H
#define PICOKUBE_CONTROLLER_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ctrl ctrl_t;

/* Which loops run (bits of ctrl_config.loops; 0 means all). */
enum {
    CTRL_LOOP_REPLICATION = 1u << 0, /* ReplicaSets and ReplicationControllers */
    CTRL_LOOP_DEPLOYMENT = 1u << 1,
    CTRL_LOOP_NODELIFECYCLE = 1u << 2,
    CTRL_LOOP_ENDPOINTS = 1u << 3, /* Endpoints and EndpointSlices */
    CTRL_LOOP_GC = 1u << 4,
    CTRL_LOOP_PODCIDR = 1u << 5,
};

struct ctrl_config {
    const char *urls;     /* API server base URL(s), comma-separated; required */
    const char *token;    /* bearer token, may be NULL */
    const char *identity; /* Lease holder identity; NULL: "<hostname>_<pid>" */
    unsigned loops;       /* CTRL_LOOP_* bits; 0: all */

    /* Leader election (client-go semantics). 0 picks the default. A new
     * leader takes over at most lease_duration + retry_period after the old
     * one stopped renewing (the issue asks for 3 s). */
    bool no_leader_elect;        /* run the loops at once, without a Lease */
    unsigned lease_duration_ms;  /* default 2000 */
    unsigned renew_deadline_ms;  /* default 1500 */
    unsigned retry_period_ms;    /* default 500 */
    const char *lease_namespace; /* default "kube-system" */
    const char *lease_name;      /* default "picokube-controller-manager" */

    /* Node lifecycle. */
    unsigned node_grace_ms;       /* a Lease not renewed this long: Ready=Unknown; default 4000 */
    unsigned eviction_timeout_ms; /* pods without a matching toleration go after; default 3000 */
    unsigned node_monitor_ms;     /* how often nodes are checked; default 500 */

    /* Pod CIDRs: a /node_cidr_mask of cluster_cidr per node. */
    const char *cluster_cidr; /* default "10.42.0.0/16" */
    unsigned node_cidr_mask;  /* default 24 */

    unsigned workers; /* keys reconciled at once per loop; default 8 */
};

/* Starts the controller manager on a new thread. The strings of cfg are
 * copied. Returns 0, or a negative errno / UV code (a bad URL, a bad
 * cluster CIDR) with the reason logged. */
int ctrl_start(const struct ctrl_config *cfg, ctrl_t **out);

/* Stops every loop, gives the Lease up (so another member takes over at
 * once), joins the thread and frees everything. NULL is a no-op. */
void ctrl_stop(ctrl_t *c);

/* Whether this instance holds the Lease and runs the loops (any thread). */
bool ctrl_is_leader(const ctrl_t *c);

#endif /* PICOKUBE_CONTROLLER_H */
