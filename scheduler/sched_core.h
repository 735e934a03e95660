/*
 * sched_core.h - the scheduling core, private to scheduler/: what a pod asks
 * for, what a node offers, the cache of pods already placed, and the
 * decision (filters, scores, the pick, Kubernetes' unschedulable message).
 *
 * Nothing here does I/O or knows about the loop: the loop feeds informer
 * events into an sc_cache and asks sc_schedule where a pod goes. That keeps
 * every rule testable with plain JSON in unit tests, and keeps the part that
 * runs 10^7 times per benchmark free of cJSON lookups where it matters
 * (resources, ports, spreading are parsed once into structs).
 *
 *   podspec.c   sc_pod: requests as Kubernetes counts them, host ports,
 *               controller owner
 *   podtrim.c   the compact pods the informer keeps, and facts about pods
 *   nodeinfo.c  sc_node fields from a Node: allocatable, taints, readiness
 *   filters.c   the filters, each as Kubernetes' plugin of the same name
 *   cache.c     nodes, placed (and assumed) pods, per-owner counts
 *   schedule.c  filters + scores over all nodes, the pick, the message
 */
#ifndef PICOKUBE_SCHED_CORE_H
#define PICOKUBE_SCHED_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* What Kubernetes' scores assume of a container that requests nothing
 * (schedutil.DefaultMilliCPURequest / DefaultMemoryRequest). */
#define SC_DEFAULT_MILLI_CPU 100
#define SC_DEFAULT_MEMORY (200LL * 1024 * 1024)
#define SC_MAX_SCORE 100

#define SC_DEFAULT_SCHEDULER "default-scheduler"
#define SC_TAINT_UNSCHEDULABLE "node.kubernetes.io/unschedulable"
#define SC_TAINT_NOT_READY "node.kubernetes.io/not-ready"
#define SC_TAINT_UNREACHABLE "node.kubernetes.io/unreachable"

/* Kubernetes' reasons, word for word (they end up in users' `kubectl
 * describe pod`). */
#define SC_MSG_UNSCHEDULABLE "node(s) were unschedulable"
#define SC_MSG_AFFINITY "node(s) didn't match Pod's node affinity/selector"
#define SC_MSG_PORTS "node(s) didn't have free ports for the requested pod ports"
#define SC_MSG_TOO_MANY_PODS "Too many pods"
#define SC_MSG_INSUFFICIENT_CPU "Insufficient cpu"
#define SC_MSG_INSUFFICIENT_MEMORY "Insufficient memory"
#define SC_MSG_NO_NODES "no nodes available to schedule pods"

struct sc_res {
    int64_t cpu; /* milli-CPU */
    int64_t mem; /* bytes */
};

enum sc_proto { SC_TCP = 0, SC_UDP, SC_SCTP };

struct sc_port {
    int32_t port;
    enum sc_proto proto;
    char *ip; /* NULL: every address (Kubernetes' 0.0.0.0) */
};

/* ------------------------------------------------- podspec.c, podtrim.c */

struct sc_toleration {
    char *key, *op, *value, *effect; /* "" when absent */
};

/* A pod as scheduling sees it. The constraint pointers borrow from the JSON
 * sc_pod_parse read (valid as long as it is); everything else is owned. */
struct sc_pod {
    char *ns, *name, *uid;
    char *owner;           /* uid of the controller ownerReference, NULL if none */
    struct sc_res req;     /* PodRequests: filters compare this with free room */
    struct sc_res nz;      /* the same with 100m / 200Mi for missing requests: scores */
    struct sc_port *ports; /* wanted host ports (hostPort > 0) */
    size_t nports;
    const cJSON *node_selector; /* spec.nodeSelector (object) */
    const cJSON *affinity;      /* required node affinity: a NodeSelector */
    struct sc_toleration *tols; /* owned */
    size_t ntols;
};

/* Reads a pod, whole or as sc_pod_trim left it. Requests count init
 * containers as Kubernetes does: max(largest init container (plus the
 * sidecars started before it), sum of containers + sidecars) + overhead;
 * a resource in limits but not in requests counts its limit (the API
 * server's defaulting). 0, or -1 with a message in err (a bad quantity). */
int sc_pod_parse(const cJSON *pod, struct sc_pod *out, char *err, size_t errlen);
int sc_pod_parse_full(const cJSON *pod, struct sc_pod *out, char *err, size_t errlen);
void sc_pod_clear(struct sc_pod *p);
int sc_pod_add_port(struct sc_pod *p, int32_t port, enum sc_proto proto, const char *ip);
int sc_pod_add_toleration(struct sc_pod *p, const char *key, const char *op, const char *value,
                          const char *effect);
enum sc_proto sc_proto_of(const char *name); /* "UDP", "SCTP", else TCP */
const char *sc_proto_name(enum sc_proto p);
const cJSON *sc_required_affinity(const cJSON *spec);

/* The compact form the pod informer keeps (podtrim.c): one line of text
 * for a pod with a node, an object with that line and the constraints for
 * a pod without one. NULL when out of memory. */
cJSON *sc_pod_trim(const cJSON *full);

/* What decides whether a pod (whole or trimmed) is ours to schedule. */
struct sc_facts {
    char key[320];  /* "ns/name" */
    char node[256]; /* spec.nodeName, "" when unassigned */
    bool ours;      /* its schedulerName is the one asked (empty: default-scheduler) */
    bool terminal;  /* phase Succeeded or Failed */
    bool deleting;  /* metadata.deletionTimestamp set */
    bool gated;     /* spec.schedulingGates not empty */
};
/* 0, or -1 when the pod has no name. scheduler_name NULL: the default. */
int sc_pod_facts(const cJSON *pod, const char *scheduler_name, struct sc_facts *out);
/* The PodScheduled condition's status, reason and message ("" when absent). */
void sc_pod_sched_condition(const cJSON *pod, const char **status, const char **reason,
                            const char **message);
/* Whether two trimmed pods differ in anything but the PodScheduled
 * condition (a status write of ours is no reason to try again). */
bool sc_pod_spec_changed(const cJSON *a, const cJSON *b);

/* ----------------------------------------------------------- nodeinfo.c */

struct sc_taint {
    char *key, *value;
    char *effect; /* NoSchedule, PreferNoSchedule, NoExecute */
};

struct sc_node {
    char *name;
    bool present; /* a Node object is known (else only pods point here) */
    bool unschedulable;
    struct sc_res alloc;
    int64_t alloc_pods;
    cJSON *labels;           /* owned copy, NULL for none */
    struct sc_taint *taints; /* the node's, then not-ready/unreachable when
                                its Ready condition is not True */
    size_t ntaints;
    /* Sums over the pods placed here (assumed ones included). */
    struct sc_res requested, nz_requested;
    int64_t npods;
    struct sc_port *used_ports;
    size_t nused, capused;
    /* Private to the cache. */
    size_t slot;
    struct sc_node *next_in_bucket;
};

/* Fills the Node-derived fields of n (name kept) from a Node, whole or
 * trimmed. Allocatable falls back to capacity for a resource it lacks.
 * 0, or -1 with a message (bad quantity, no name). */
int sc_node_parse(const cJSON *node, struct sc_node *n, char *err, size_t errlen);
void sc_node_clear_spec(struct sc_node *n); /* frees labels and taints */
/* What the node informer keeps: name, labels, unschedulable, taints,
 * allocatable/capacity cpu, memory and pods, the Ready condition's status. */
cJSON *sc_node_trim(const cJSON *full);

/* ------------------------------------------------------------ filters.c
 * Each returns true when the node passes. */
bool sc_tolerates(const struct sc_pod *p, const char *key, const char *value, const char *effect);
/* NodeUnschedulable. */
bool sc_filter_unschedulable(const struct sc_pod *p, const struct sc_node *n);
/* TaintToleration: the first NoSchedule/NoExecute taint not tolerated, or
 * NULL. */
const struct sc_taint *sc_filter_taints(const struct sc_pod *p, const struct sc_node *n);
/* NodeAffinity: nodeSelector and required node affinity. */
bool sc_filter_affinity(const struct sc_pod *p, const struct sc_node *n);
/* Whether a NodeSelector ({nodeSelectorTerms: [...]}) matches. */
bool sc_node_selector_matches(const cJSON *selector, const struct sc_node *n);
/* NodePorts. */
bool sc_filter_ports(const struct sc_pod *p, const struct sc_node *n);
/* NodeResourcesFit: the SC_FIT_* reasons, 0 when it fits. */
enum { SC_FIT_PODS = 1, SC_FIT_CPU = 2, SC_FIT_MEMORY = 4 };
unsigned sc_filter_resources(const struct sc_pod *p, const struct sc_node *n);

/* ---------------------------------------------------------------- scores */
/* MostAllocated over cpu and memory (weights 1:1) with p placed on n,
 * 0..SC_MAX_SCORE. */
int sc_score_most_allocated(const struct sc_pod *p, const struct sc_node *n);

/* -------------------------------------------------------------- cache.c */

typedef struct sc_cache sc_cache_t;

sc_cache_t *sc_cache_new(void);
void sc_cache_free(sc_cache_t *c);
/* Adds or replaces a node from a Node object. Returns 1 when what
 * scheduling sees changed, 0 when nothing did, -1 on a bad object. */
int sc_cache_set_node(sc_cache_t *c, const cJSON *node, char *err, size_t errlen);
/* 1 when it was known. Its pods stay counted until they go. */
int sc_cache_del_node(sc_cache_t *c, const char *name);
struct sc_node *sc_cache_node(const sc_cache_t *c, const char *name);
/* Nodes with a Node object, in no particular order; *n their count. The
 * array is the cache's, valid until the next change of nodes. */
struct sc_node *const *sc_cache_nodes(const sc_cache_t *c, size_t *n);

/* Places pod p (key "ns/name") on node, replacing any earlier placement of
 * that key. assumed: the scheduler's own decision, not yet seen from the
 * API (it still counts, so a burst does not overcommit a node). */
int sc_cache_add_pod(sc_cache_t *c, const char *key, const struct sc_pod *p, const char *node,
                     bool assumed);
/* 1 when the key was placed. */
int sc_cache_del_pod(sc_cache_t *c, const char *key);
/* The node name a key is placed on (NULL: not placed); *assumed tells
 * whether that placement is only the scheduler's own. */
const char *sc_cache_pod_node(const sc_cache_t *c, const char *key, bool *assumed);
size_t sc_cache_pod_count(const sc_cache_t *c);
/* How many pods whose controller has uid `owner` are placed on each node:
 * counts[node->slot] (counts has sc_cache_slots entries, zeroed by the
 * caller). */
size_t sc_cache_slots(const sc_cache_t *c);
void sc_cache_owner_counts(const sc_cache_t *c, const char *owner, int32_t *counts);

/* ----------------------------------------------------------- schedule.c */

struct sc_result {
    struct sc_node *node; /* the pick, NULL when nothing fits */
    char *message;        /* malloc'd when node is NULL: "0/3 nodes are available: ..." */
    size_t feasible;      /* nodes that passed the filters */
    int score;            /* the pick's bin-packing score */
    int32_t same_owner;   /* replicas of the pod's owner already on the pick */
};

/* Runs every filter on every node, scores the feasible ones, picks the
 * best: fewest replicas of the same owner first (replicas apart whenever
 * some node allows it), then most allocated, then the smallest name.
 * Decisions are logged at debug level when `log_component` is non-NULL.
 * 0, or -1 when out of memory. */
int sc_schedule(sc_cache_t *c, const struct sc_pod *p, struct sc_result *out,
                const char *log_component);
void sc_result_clear(struct sc_result *r);

/* Kubernetes' FitError text from (reason, count) pairs: "0/<total> nodes
 * are available: " + "<count> <reason>" sorted as strings, joined by ", ",
 * then ".". Caller frees. */
struct sc_reason_count {
    char *reason;
    int count;
};
char *sc_fit_message(size_t total, const struct sc_reason_count *rc, size_t n);

#endif /* PICOKUBE_SCHED_CORE_H */
