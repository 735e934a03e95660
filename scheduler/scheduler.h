/*
 * scheduler.h - picokube's scheduler (kube-scheduler's job): places pods
 * that have no node yet, binding each through pods/binding.
 *
 * - Picks up pods with no spec.nodeName whose schedulerName is empty or
 *   "default-scheduler" (or the configured name), not being deleted, with
 *   no scheduling gates.
 * - Filters, in Kubernetes' order and with its messages: NodeUnschedulable
 *   (cordon), TaintToleration (NoSchedule and NoExecute; a node that is not
 *   Ready counts as tainted not-ready / unreachable), NodeAffinity
 *   (nodeSelector, required node affinity), NodePorts (host ports),
 *   NodeResourcesFit (cpu, memory, pods; init containers, sidecars and
 *   overhead counted as Kubernetes counts them).
 * - Picks, among the nodes left: fewest replicas of the pod's controller
 *   (ownerReferences controller=true) first, so that two replicas of a web
 *   server land on two machines whenever two have room; then most allocated
 *   (bin-packing on cpu and memory, equal weights), so small clusters keep
 *   whole nodes free; then the smallest node name.
 * - A pod that fits nowhere gets PodScheduled=False, reason Unschedulable,
 *   Kubernetes' message ("0/3 nodes are available: 1 Insufficient cpu, 2
 *   node(s) were unschedulable.") and a FailedScheduling Warning Event; it
 *   is tried again when a node appears or changes or a placed pod goes (with
 *   a per-pod backoff, 100 ms doubling to 10 s), and every 30 s anyway.
 * - Pods it has just bound count on their node at once (assumed), so a burst
 *   never overcommits a node before the API reports the bindings.
 * - Only the holder of the Lease kube-system/picokube-scheduler schedules
 *   (leader election, see api.h); the others keep warm caches and take over
 *   within about 2.5 s of the leader dying.
 * - Decisions are logged at debug level (PICOKUBE_LOG=debug).
 */
#ifndef PICOKUBE_SCHEDULER_H
#define PICOKUBE_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>

struct sched_config {
    const char *api_urls;        /* one or several comma-separated API server URLs */
    const char *token;           /* bearer token, may be NULL */
    const char *scheduler_name;  /* pods' spec.schedulerName served; NULL: default-scheduler */
    bool no_leader_elect;        /* schedule without holding the Lease */
    const char *lease_namespace; /* NULL: kube-system */
    const char *lease_name;      /* NULL: picokube-scheduler */
    const char *identity;        /* NULL: <hostname>_<random hex> */
    /* Leader election timings (0: 2000, 1500, 500, 250 ms; see api.h). */
    unsigned lease_duration_ms, renew_deadline_ms, renew_interval_ms, retry_period_ms;
    unsigned max_binds_in_flight;    /* 0: 16 */
    unsigned unschedulable_retry_ms; /* every unschedulable pod is tried again; 0: 30000 */
};

typedef struct sched sched_t;

/* Starts the scheduler on its own thread and uv loop: informers on Nodes
 * and Pods start at once (standby instances keep warm caches); scheduling
 * starts once both are listed and this instance leads. Returns 0, or -1
 * (logged) on a bad configuration. */
int sched_start(const struct sched_config *cfg, sched_t **out);
/* Stops scheduling, releases the Lease when holding it, joins the thread
 * and frees everything. Bindings in flight are abandoned (the API server
 * either applied them or not; the next leader sees which). */
void sched_stop(sched_t *s);

struct sched_stats {
    bool leader;                 /* holds the Lease (always true without election) */
    bool synced;                 /* both informers listed */
    unsigned long attempts;      /* scheduling decisions made */
    unsigned long scheduled;     /* bindings that succeeded */
    unsigned long unschedulable; /* decisions that found no node */
    unsigned long bind_errors;   /* bindings refused or failed (conflicts included) */
    size_t pending;              /* pods of ours without a node */
    size_t nodes, pods;          /* in the cache (pods: placed or assumed) */
};
/* Thread-safe. */
void sched_get_stats(sched_t *s, struct sched_stats *out);

#endif /* PICOKUBE_SCHEDULER_H */
