/*
 * ctrl_int.h - what the files of controller/ share (private to the folder
 * and its unit tests).
 *
 * Layers, from the bottom:
 *   util.c      memory, JSON paths, times, pod readiness, conditions
 *   map.c       string-keyed hash map and sets (indexes, expectations)
 *   expect.c    expectations: creations/deletions a key waits to observe
 *   ops.c       a batch of asynchronous API calls with one completion
 *   trim.c      what each cache keeps of an object (memory is a feature)
 *   informers.c shared informers: one list+watch per resource, fanned out
 *               to every loop that subscribed, plus the pod indexes
 *   manager.c   thread, loop, leadership terms ("sessions"), ctrl_start/stop
 *               (leader election is api/'s, shared with the scheduler)
 * and one loop per file above them. Each loop splits into pure functions of
 * cached objects (decisions, unit-tested without HTTP) and a thin layer that
 * turns decisions into API calls.
 */
#ifndef PICOKUBE_CTRL_INT_H
#define PICOKUBE_CTRL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "api/api.h"
#include "controller/controller.h"
#include "lib/lib.h"

#define CTRL_COMP "controller"

/* ------------------------------------------------------------------ util.c
 * Allocation failures end the process (logged): a controller that silently
 * drops half a decision is worse than one that restarts. */
void *cx_calloc(size_t n, size_t size);
void *cx_realloc(void *p, size_t size);
char *cx_strdup(const char *s); /* NULL stays NULL */
char *cx_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
cJSON *cx_dup(const cJSON *o); /* deep copy; NULL stays NULL */
void cx_oom(void) __attribute__((noreturn));

/* Dotted paths ("spec.template.metadata.labels"); NULL when absent. */
const cJSON *cj_get(const cJSON *o, const char *dotted);
const char *cj_str(const cJSON *o, const char *dotted);  /* NULL unless a string */
const char *cj_str0(const cJSON *o, const char *dotted); /* "" unless a string */
int64_t cj_int(const cJSON *o, const char *dotted, int64_t dflt);
bool cj_true(const cJSON *o, const char *dotted);
/* Setters replace an existing member; they never fail (see above). */
cJSON *cj_obj(cJSON *o, const char *key); /* the member object, created if absent */
void cj_set(cJSON *o, const char *key, cJSON *v);
void cj_set_str(cJSON *o, const char *key, const char *s);
void cj_set_int(cJSON *o, const char *key, int64_t v);
void cj_set_bool(cJSON *o, const char *key, bool v);
cJSON *cj_new_obj(void);
cJSON *cj_new_arr(void);
void cj_push(cJSON *arr, cJSON *item);
/* Compact JSON with object members sorted by name, so equal trees give
 * equal text (hashes, comparisons). Caller frees. */
char *cj_canonical(const cJSON *o);

/* Times: wall-clock ms <-> RFC 3339 ("2026-11-24T08:00:00Z"). 0 when absent
 * or unparsable. */
uint64_t cx_time(const char *rfc3339);
void cx_time_fmt(uint64_t wall_ms, char *buf, size_t len);  /* seconds */
void cx_micro_fmt(uint64_t wall_ms, char *buf, size_t len); /* MicroTime */

/* status.conditions[type=type] of obj, or NULL. */
const cJSON *cx_condition(const cJSON *obj, const char *type);
/* Pods. */
bool cx_pod_terminal(const cJSON *pod);        /* phase Succeeded or Failed */
bool cx_pod_deleting(const cJSON *pod);        /* metadata.deletionTimestamp set */
bool cx_pod_active(const cJSON *pod);          /* neither of the above */
bool cx_pod_ready(const cJSON *pod);           /* condition Ready True */
uint64_t cx_pod_ready_since(const cJSON *pod); /* its lastTransitionTime */
/* Ready for at least min_ready_s seconds at now (wall ms). */
bool cx_pod_available(const cJSON *pod, int64_t min_ready_s, uint64_t now);
/* spec.tolerations of a pod, whether an array or the JSON text a trimmed
 * pod keeps; *owned is set when the caller must cJSON_Delete the result. */
const cJSON *cx_tolerations(const cJSON *pod, cJSON **owned);
/* The controlling owner's uid, NULL for an orphan. */
const char *cx_controller_uid(const cJSON *obj);
/* Whether labels (an object or NULL) hold every pair of want. */
bool cx_labels_superset(const cJSON *labels, const cJSON *want);
/* The selector of a ReplicaSet/Deployment (LabelSelector) or of a
 * ReplicationController (map; NULL falls back to the template's labels).
 * NULL when it does not parse. */
api_selector_t *cx_selector(const cJSON *obj, bool map_selector);
/* An int-or-percent ("25%", 2) scaled against total; round_up as Kubernetes'
 * GetScaledValueFromIntOrPercent. -1 for a malformed value. */
int64_t cx_int_or_percent(const cJSON *v, int64_t total, bool round_up, int64_t dflt);
/* FNV-1a (32 bit). */
uint32_t cx_fnv32a(const void *data, size_t len, uint32_t h);
#define CX_FNV32_INIT 2166136261u

/* ------------------------------------------------------------------- map.c */
typedef struct cm_ent cm_ent_t;
typedef struct ctrl_map {
    cm_ent_t **b;
    size_t nb, n;
} ctrl_map_t;

void *cm_get(const ctrl_map_t *m, const char *key);
bool cm_has(const ctrl_map_t *m, const char *key);
/* Inserts or replaces; the key is copied. Returns the old value (or NULL). */
void *cm_put(ctrl_map_t *m, const char *key, void *val);
/* Removes; returns the value (NULL when absent). */
void *cm_del(ctrl_map_t *m, const char *key);
/* The map's own copy of s (added when absent): an interned string that
 * lives as long as its entry (entries never move when the table grows). */
const char *cm_intern(ctrl_map_t *m, const char *s);
/* Calls fn for each entry until it returns false; fn may delete the entry
 * it was given (and only that one). */
void cm_each(ctrl_map_t *m, bool (*fn)(const char *key, void *val, void *arg), void *arg);
/* Frees the table, calling free_val on each value when not NULL. */
void cm_clear(ctrl_map_t *m, void (*free_val)(void *));
/* Sets of strings in a map of sets (indexes: owner uid -> pod keys). */
void cm_set_add(ctrl_map_t *m, const char *outer, const char *inner);
void cm_set_del(ctrl_map_t *m, const char *outer, const char *inner);
ctrl_map_t *cm_set_get(const ctrl_map_t *m, const char *outer); /* NULL when empty */
void cm_set_clear(ctrl_map_t *m);
/* The keys of a map, sorted, in a new array (caller frees the array, not
 * the strings, which live as long as the entries). */
const char **cm_keys(const ctrl_map_t *m, size_t *n);

/* ---------------------------------------------------------------- expect.c
 * Expectations (Kubernetes' ControllerExpectations with UID tracking): a
 * controller key that just asked for N creations and some deletions does
 * not act again until its informer has shown them, or until a timeout, so
 * a burst of events never creates duplicates. */
typedef struct ctrl_expect ctrl_expect_t;
ctrl_expect_t *ctrl_expect_new(uint64_t timeout_ms);
void ctrl_expect_free(ctrl_expect_t *e);
/* Replaces the record of key: adds creations and the keys of pods expected
 * to go (may be NULL/0). now is a monotonic ms clock. */
void ctrl_expect_set(ctrl_expect_t *e, const char *key, int adds, const char *const *dels,
                     size_t n_dels, uint64_t now);
void ctrl_expect_creation_observed(ctrl_expect_t *e, const char *key);
/* A deletion of dependent dep_key; counted once per dependent. */
void ctrl_expect_deletion_observed(ctrl_expect_t *e, const char *key, const char *dep_key);
/* Creations that will never happen (a failed or skipped create). */
void ctrl_expect_lower(ctrl_expect_t *e, const char *key, int adds);
/* True when key has nothing pending, or its record is older than the
 * timeout. */
bool ctrl_expect_satisfied(ctrl_expect_t *e, const char *key, uint64_t now);
void ctrl_expect_delete(ctrl_expect_t *e, const char *key);

/* ------------------------------------------------------------------ ops.c
 * A batch of API calls started together; done runs once when every call
 * has answered (or at once from seal when none was started). A call's own
 * callback, when given, says whether the answer counts as a success;
 * without one, 2xx counts, and 404 too for a delete (already gone). done
 * runs even when the session is stopping (then only to free memory). */
typedef struct ctrl_sess ctrl_sess_t;
typedef struct ctrl_batch ctrl_batch_t;
typedef bool (*ctrl_op_fn)(api_result_t *res, void *arg);
typedef void (*ctrl_batch_fn)(int failures, const char *first_error, void *data);

ctrl_batch_t *ctrl_batch_new(ctrl_sess_t *s, ctrl_batch_fn done, void *data);
void ctrl_batch_create(ctrl_batch_t *b, const api_ref_t *ref, const cJSON *obj, ctrl_op_fn cb,
                       void *arg);
void ctrl_batch_update(ctrl_batch_t *b, const api_ref_t *ref, const cJSON *obj, ctrl_op_fn cb,
                       void *arg);
void ctrl_batch_patch(ctrl_batch_t *b, const api_ref_t *ref, enum api_patch_type type,
                      const cJSON *patch, ctrl_op_fn cb, void *arg);
/* grace < 0: the object's default; 0: at once (force). uid: precondition. */
void ctrl_batch_delete(ctrl_batch_t *b, const api_ref_t *ref, const char *uid,
                       const char *propagation, long grace, ctrl_op_fn cb, void *arg);
void ctrl_batch_get(ctrl_batch_t *b, const api_ref_t *ref, ctrl_op_fn cb, void *arg);
void ctrl_batch_seal(ctrl_batch_t *b);

/* --------------------------------------------------------------- trim.c */
enum ctrl_res {
    CR_PODS,
    CR_REPLICASETS,
    CR_RCS,
    CR_DEPLOYMENTS,
    CR_NODES,
    CR_NODE_LEASES, /* kube-node-lease only */
    CR_SERVICES,
    CR_ENDPOINTS,
    CR_SLICES,
    CR_DAEMONSETS,
    CR_CONFIGMAPS,
    CR_SECRETS,
    CR_SERVICEACCOUNTS,
    CR_N
};

struct ctrl_res_info {
    const char *group, *version, *resource, *kind, *api_version;
    const char *ns; /* the only namespace watched, or NULL */
    bool namespaced;
    api_trim_fn trim;
};
const struct ctrl_res_info *ctrl_res_info(enum ctrl_res r);
/* The ref of a cached object (or of ns/name) of r, for API calls. */
api_ref_t ctrl_ref(enum ctrl_res r, const char *ns, const char *name, const char *sub);

/* Trims, exposed for the tests (each keeps metadata identity, owners,
 * finalizers and deletion, plus what the loops read). data is the shared
 * informer (its session's string pool) or NULL. A pod's spec.tolerations
 * is kept as one JSON text (see cx_tolerations). */
cJSON *ctrl_trim_pod(const cJSON *full, void *data);
cJSON *ctrl_trim_workload(const cJSON *full, void *data); /* RS, RC, Deployment */
cJSON *ctrl_trim_node(const cJSON *full, void *data);
cJSON *ctrl_trim_meta(const cJSON *full, void *data);

/* ------------------------------------------------------------ informers.c */
typedef struct ctrl_sub {
    void (*add)(const cJSON *obj, void *data);
    void (*update)(const cJSON *old_obj, const cJSON *new_obj, void *data);
    void (*del)(const cJSON *obj, void *data);
    void *data;
} ctrl_sub_t;

#define CTRL_MAX_SUBS 8

struct ctrl_shared {
    ctrl_sess_t *s;
    enum ctrl_res r;
    api_informer_t *inf;
    ctrl_sub_t subs[CTRL_MAX_SUBS];
    int nsubs;
    bool synced;
};

struct ctrl_loops; /* manager.c: the running loops of a session */

/* One leadership term: its own client, informers and loops, all freed when
 * leadership is lost (a new term starts from fresh lists). */
struct ctrl_sess {
    uv_loop_t *loop;
    api_client_t *client;
    const struct ctrl_config *cfg; /* with defaults filled in */
    bool stopping;                 /* set before anything is freed */
    bool synced;                   /* every subscribed informer has synced */
    uint64_t (*now_wall)(void);
    uint64_t (*now_mono)(void);
    struct ctrl_shared inf[CR_N];
    /* Pod indexes, kept before handlers run. */
    ctrl_map_t pods_by_owner; /* controller uid -> pod keys */
    ctrl_map_t pods_orphans;  /* namespace -> keys of pods without controller */
    ctrl_map_t pods_by_ns;    /* namespace -> pod keys */
    ctrl_map_t pods_by_node;  /* spec.nodeName -> pod keys */
    /* Interned strings of the caches (trim.c). Trimmed objects and their
     * copies (cJSON_Duplicate keeps constant member names) point into it:
     * it is freed last, when nothing of the session is left. */
    ctrl_map_t strings;
    void (*on_synced)(ctrl_sess_t *s); /* once, when every informer synced */
    struct ctrl_loops *loops;
};

void ctrl_subscribe(ctrl_sess_t *s, enum ctrl_res r, const ctrl_sub_t *sub);
/* Starts an informer for each resource with subscribers. 0 or -1. */
int ctrl_informers_start(ctrl_sess_t *s);
void ctrl_informers_stop(ctrl_sess_t *s);
const cJSON *ctrl_get(ctrl_sess_t *s, enum ctrl_res r, const char *ns, const char *name);
const cJSON *ctrl_get_key(ctrl_sess_t *s, enum ctrl_res r, const char *key);
void ctrl_each(ctrl_sess_t *s, enum ctrl_res r,
               bool (*fn)(const char *key, const cJSON *obj, void *arg), void *arg);
/* Cached pods of a set of keys from an index, in a new array (caller frees
 * the array); *n its length. */
const cJSON **ctrl_pods_of(ctrl_sess_t *s, const ctrl_map_t *keys, size_t *n);
/* Splits "ns/name" into its parts (ns "" when cluster-scoped). */
void ctrl_split_key(const char *key, char *ns, size_t nslen, char *name, size_t namelen);

/* ------------------------------------------------------------ the loops
 * Each loop: new (subscribes to informers), free. Their pure decision
 * functions are declared in the loop's own section below. */
typedef struct repl_ctrl repl_ctrl_t;
typedef struct dep_ctrl dep_ctrl_t;
typedef struct nodelc nodelc_t;
typedef struct eps_ctrl eps_ctrl_t;
typedef struct gc_ctrl gc_ctrl_t;
typedef struct podcidr podcidr_t;

/* The queue every loop uses (cfg->workers keys at once). */
api_workqueue_t *ctrl_queue_new(ctrl_sess_t *s, api_work_fn fn, void *data);
/* At the top of a worker: before every cache has synced, a decision could
 * miss objects (creating pods a ReplicaSet already has). Ends the key and
 * retries it shortly; returns true when it did so. */
bool ctrl_defer_unsynced(ctrl_sess_t *s, api_workqueue_t *q, const char *key);

/* ------------------------------------------------ replication (RS and RC) */
struct repl_kind {
    const char *group, *version, *resource, *kind, *api_version;
    enum ctrl_res res;
    bool map_selector; /* ReplicationController: spec.selector is a map */
};
extern const struct repl_kind ctrl_kind_rs, ctrl_kind_rc;

repl_ctrl_t *repl_new(ctrl_sess_t *s, const struct repl_kind *k);
void repl_free(repl_ctrl_t *r);

/* How the pods a controller may own split (pointers into the input). */
struct repl_claim {
    const cJSON **owned;   /* controlled by it, selector matches */
    const cJSON **adopt;   /* orphans the selector matches */
    const cJSON **release; /* controlled by it, selector no longer matches */
    size_t n_owned, n_adopt, n_release;
};
void repl_claim(const cJSON *owner, const api_selector_t *sel, const cJSON *const *pods, size_t n,
                struct repl_claim *out);
void repl_claim_free(struct repl_claim *c);
/* Orders pods so that the first ones are the best to delete on scale down:
 * unscheduled, then pending/unknown before running, not ready before ready,
 * ready for less time, more restarts, newer. */
int repl_delete_cmp(const cJSON *a, const cJSON *b);
/* replicas - active: > 0 pods to create, < 0 to delete. With diff < 0,
 * *del (caller frees) receives the -diff pods to delete, in order. */
int64_t repl_diff(const cJSON *rs, const cJSON *const *active, size_t n, const cJSON ***del);
/* The status the controller should show (caller frees). pods: the active
 * pods it owns. failure: a ReplicaFailure message or NULL. */
cJSON *repl_status(const cJSON *rs, const cJSON *const *pods, size_t n, uint64_t now_wall,
                   const char *failure);
/* Whether a stored status already says what st says (absent counts as 0). */
bool repl_status_equal(const cJSON *old_status, const cJSON *st);
/* Milliseconds until the next ready pod becomes available (minReadySeconds),
 * 0 when none is waiting. */
uint64_t repl_next_available(const cJSON *rs, const cJSON *const *pods, size_t n,
                             uint64_t now_wall);
/* The pod to create from the controller's template (caller frees). */
cJSON *repl_pod_from_template(const struct repl_kind *k, const cJSON *rs);

/* ------------------------------------------------------------- deployment */
dep_ctrl_t *dep_new(ctrl_sess_t *s);
void dep_free(dep_ctrl_t *d);

#define DEP_HASH_LABEL "pod-template-hash"
#define DEP_ANN_REVISION "deployment.kubernetes.io/revision"
#define DEP_ANN_REVISION_HISTORY "deployment.kubernetes.io/revision-history"
#define DEP_ANN_DESIRED "deployment.kubernetes.io/desired-replicas"
#define DEP_ANN_MAX "deployment.kubernetes.io/max-replicas"

/* A ReplicaSet as the rollout sees it, with the changes a sync decides. */
struct dep_rs {
    const cJSON *obj; /* cached RS; NULL for the one this sync creates */
    char *name, *uid;
    int64_t replicas;                  /* spec.replicas (after this sync's changes) */
    int64_t orig_replicas;             /* spec.replicas as cached */
    int64_t min_ready, orig_min_ready; /* spec.minReadySeconds, likewise */
    int64_t status_replicas, ready, available;
    int64_t generation, observed_generation;
    int64_t revision; /* 0 when unset */
    uint64_t created; /* creationTimestamp (wall ms) */
    bool deleting;
    bool created_now; /* the new RS this sync creates */
    cJSON *ann;       /* annotations to set on it (merge), or NULL */
    bool remove;      /* revision history clean-up deletes it */
};

struct dep_plan {
    cJSON *create_rs;  /* new RS to create, or NULL */
    struct dep_rs *rs; /* owned RSes (+ the one created) */
    size_t n_rs;
    int new_rs;              /* index of the new RS in rs, -1 if none */
    char **adopt, **release; /* RS names (orphans to adopt, owned to free) */
    size_t n_adopt, n_release;
    cJSON *dep_ann;      /* deployment annotations to set, or NULL */
    cJSON *status;       /* the status to write, NULL if unchanged */
    uint64_t requeue_ms; /* > 0: look again after */
};

/* Tells whether the pods of ReplicaSet rs_uid still run (Recreate). */
typedef bool (*dep_pods_running_fn)(const char *rs_uid, void *arg);

/* The pod-template-hash of a template with a collision count (NULL: none). */
void dep_template_hash(const cJSON *tmpl, const cJSON *collision_count, char *out, size_t len);
/* Whether two pod templates are equal, ignoring pod-template-hash labels. */
bool dep_templates_equal(const cJSON *a, const cJSON *b);
/* maxSurge / maxUnavailable of a deployment, resolved as Kubernetes. */
void dep_fenceposts(const cJSON *d, int64_t *surge, int64_t *unavailable);
int64_t dep_max_unavailable(const cJSON *d);
int64_t dep_max_surge(const cJSON *d);
/* The whole decision of one sync of deployment d over the ReplicaSets in
 * its namespace (rss, cached). Returns 0, or -1 when d is unusable. */
int dep_plan(const cJSON *d, const cJSON *const *rss, size_t n_rss, dep_pods_running_fn running,
             void *arg, uint64_t now_wall, struct dep_plan *out);
void dep_plan_free(struct dep_plan *p);

/* deployment_status.c (used by dep_plan) */
cJSON *dep_calc_status(const cJSON *d, const struct dep_rs *rs, size_t n, int new_rs,
                       const cJSON *conditions, uint64_t now_wall);
/* SetDeploymentCondition on a conditions array (owned by the caller). */
void dep_set_condition(cJSON *conds, const char *type, const char *status, const char *reason,
                       const char *message, uint64_t now_wall);
void dep_remove_condition(cJSON *conds, const char *type);
const cJSON *dep_get_condition(const cJSON *conds, const char *type);
/* Progressing/ReplicaFailure bookkeeping of syncRolloutStatus; returns the
 * new status (caller frees) and sets *requeue_ms for a stuck rollout. */
cJSON *dep_rollout_status(const cJSON *d, const struct dep_rs *rs, size_t n, int new_rs,
                          const cJSON *conditions, uint64_t now_wall, uint64_t *requeue_ms);
bool dep_complete(const cJSON *d, const cJSON *status);

/* ----------------------------------------------------------- node lifecycle */
nodelc_t *nodelc_new(ctrl_sess_t *s);
void nodelc_free(nodelc_t *n);

#define NL_TAINT_UNREACHABLE "node.kubernetes.io/unreachable"
#define NL_TAINT_NOT_READY "node.kubernetes.io/not-ready"

enum nl_state {
    NL_READY,       /* heartbeats fresh, Ready not False: no taints */
    NL_NOT_READY,   /* heartbeats fresh, kubelet says Ready=False */
    NL_UNREACHABLE, /* no heartbeat within the grace period */
};
enum nl_state nl_state_of(const cJSON *node, bool stale);
/* The conditions patch that marks a stale node Unknown ({"status":...}),
 * NULL when its Ready condition already says Unknown. */
cJSON *nl_unknown_patch(const cJSON *node, uint64_t now_wall);
/* The node's taints for state (the ones this controller owns replaced, the
 * others kept), NULL when they are already so. */
cJSON *nl_taints_for(const cJSON *node, enum nl_state st, uint64_t now_wall);
bool nl_toleration_matches(const cJSON *toleration, const cJSON *taint);
/* How long after its NoExecute taints appeared a pod must go: -1 never
 * (tolerated without a limit), else ms (no matching toleration gives
 * eviction_ms, as the issue asks). Uses the node's NoExecute taints. */
int64_t nl_eviction_delay(const cJSON *pod, const cJSON *taints, uint64_t eviction_ms);

/* What the loop remembers of one node's heartbeats, on its own monotonic
 * clock (passed in, so tests drive time). A heartbeat is a change of the
 * Lease's renewTime or of Ready's lastHeartbeatTime; the first value seen
 * is not one (a fresh grace period starts at nl_track_init instead). */
struct nl_track {
    uint64_t probe;        /* when the last heartbeat was seen */
    uint64_t noexec_since; /* when NoExecute taints were first seen, 0: none */
    char *lease_renew, *heartbeat;
};
void nl_track_init(struct nl_track *t, uint64_t now);
void nl_track_free(struct nl_track *t);
void nl_track_lease(struct nl_track *t, const char *renew_time, bool first, uint64_t now);
void nl_track_heartbeat(struct nl_track *t, const char *heartbeat, bool first, uint64_t now);
bool nl_stale(const struct nl_track *t, uint64_t now, uint64_t grace_ms);
/* Notes the node's NoExecute taints as of now. */
void nl_track_taints(struct nl_track *t, const cJSON *node, uint64_t now);
/* Whether pod must be evicted at now (taints: the node's). */
bool nl_evict_now(const struct nl_track *t, const cJSON *pod, const cJSON *taints, uint64_t now,
                  uint64_t eviction_ms);

/* ---------------------------------------------------------------- endpoints */
eps_ctrl_t *eps_new(ctrl_sess_t *s);
void eps_free(eps_ctrl_t *e);

#define EPS_MANAGED_BY "endpointslice.kubernetes.io/managed-by"
#define EPS_MANAGER "endpointslice-controller.k8s.io"
#define EPS_SERVICE_NAME "kubernetes.io/service-name"
#define EPS_MAX_PER_SLICE 100

/* The container port a service port targets on pod, -1 when none. */
int64_t eps_resolve_port(const cJSON *pod, const cJSON *svc_port);
/* Whether pod belongs in the service's endpoints at all. */
bool eps_pod_included(const cJSON *pod, bool publish_not_ready);
/* Endpoints subsets for svc over the pods its selector matches (canonical
 * order; caller frees). */
cJSON *eps_subsets(const cJSON *svc, const cJSON *const *pods, size_t n);
/* The EndpointSlices' contents ({addressType, endpoints, ports} each, no
 * metadata), in a new array (caller frees). */
cJSON *eps_slices(const cJSON *svc, const cJSON *const *pods, size_t n);

/* ----------------------------------------------------------------------- gc */
gc_ctrl_t *gc_new(ctrl_sess_t *s);
void gc_free(gc_ctrl_t *g);

enum gc_owner_state { GC_OWNER_SOLID, GC_OWNER_DANGLING, GC_OWNER_WAITING };
enum gc_verdict {
    GC_KEEP,        /* some owner is alive: nothing to do */
    GC_REMOVE_REFS, /* alive owners remain: drop refs to dead/waiting ones */
    GC_DELETE,      /* every owner is gone: delete (policy below) */
};
/* Kubernetes' attemptToDeleteItem decision. states[i] for each ownerRef of
 * the item, in order. *policy: "Background", "Foreground" or "Orphan". */
enum gc_verdict gc_decide(const cJSON *item, const enum gc_owner_state *states, size_t n,
                          bool has_dependents, const char **policy);

/* ------------------------------------------------------------------ podcidr */
podcidr_t *podcidr_new(ctrl_sess_t *s);
void podcidr_free(podcidr_t *p);

/* A pool of /mask blocks of a cluster CIDR (exposed for the tests). */
typedef struct cidr_pool cidr_pool_t;
cidr_pool_t *cidr_pool_new(const char *cluster_cidr, unsigned mask);
void cidr_pool_free(cidr_pool_t *p);
/* Marks a block used; false when it is not a block of the pool. */
bool cidr_pool_occupy(cidr_pool_t *p, const char *cidr);
void cidr_pool_release(cidr_pool_t *p, const char *cidr);
/* The next free block (round robin from the last one given), or false when
 * the pool is full. */
bool cidr_pool_next(cidr_pool_t *p, char *out, size_t len);
size_t cidr_pool_used(const cidr_pool_t *p);

#endif /* PICOKUBE_CTRL_INT_H */
