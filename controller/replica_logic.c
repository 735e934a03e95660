/*
 * replica_logic.c - the decisions of the ReplicaSet / ReplicationController
 * loop, as pure functions of cached objects (replication.c issues the API
 * calls they imply).
 *
 * These follow Kubernetes' ReplicaSetController: which pods a controller
 * claims (owned, orphans to adopt, owned ones to release), how many pods to
 * create or which to delete (bounded by the burst of 500 per sync), which
 * pods go first on a scale down, and the status it reports.
 */
#include <stdlib.h>
#include <string.h>

#include "controller/ctrl_int.h"

#define BURST_REPLICAS 500

const struct repl_kind ctrl_kind_rs = {"apps",    "v1",           "replicasets", "ReplicaSet",
                                       "apps/v1", CR_REPLICASETS, false};
const struct repl_kind ctrl_kind_rc = {
    "", "v1", "replicationcontrollers", "ReplicationController", "v1", CR_RCS, true};

static void push(const cJSON ***arr, size_t *n, const cJSON *p)
{
    *arr = cx_realloc(*arr, (*n + 1) * sizeof(**arr));
    (*arr)[(*n)++] = p;
}

void repl_claim(const cJSON *owner, const api_selector_t *sel, const cJSON *const *pods, size_t n,
                struct repl_claim *out)
{
    memset(out, 0, sizeof(*out));
    const char *uid = api_meta_uid(owner);
    bool owner_deleting = api_meta_deletion_timestamp(owner) != NULL;
    for (size_t i = 0; i < n; i++) {
        const cJSON *p = pods[i];
        const char *cuid = cx_controller_uid(p);
        bool match = sel && api_selector_matches(sel, api_meta_labels(p));
        if (cuid) {
            if (!uid || strcmp(cuid, uid)) continue; /* someone else's */
            if (match) push(&out->owned, &out->n_owned, p);
            /* A controller being deleted lets its pods be (Kubernetes). */
            else if (!owner_deleting)
                push(&out->release, &out->n_release, p);
            continue;
        }
        if (!match || owner_deleting || cx_pod_deleting(p)) continue;
        push(&out->adopt, &out->n_adopt, p);
    }
}

void repl_claim_free(struct repl_claim *c)
{
    free(c->owned);
    free(c->adopt);
    free(c->release);
    memset(c, 0, sizeof(*c));
}

static int phase_rank(const cJSON *p)
{
    const char *ph = cj_str0(p, "status.phase");
    if (!strcmp(ph, "Pending") || !*ph) return 0;
    if (!strcmp(ph, "Unknown")) return 1;
    return 2; /* Running */
}

int repl_delete_cmp(const cJSON *a, const cJSON *b)
{
    bool sa = *cj_str0(a, "spec.nodeName"), sb = *cj_str0(b, "spec.nodeName");
    if (sa != sb) return sa ? 1 : -1; /* unscheduled first */
    int ra = phase_rank(a), rb = phase_rank(b);
    if (ra != rb) return ra < rb ? -1 : 1;
    bool ya = cx_pod_ready(a), yb = cx_pod_ready(b);
    if (ya != yb) return ya ? 1 : -1; /* not ready first */
    if (ya) {
        uint64_t ta = cx_pod_ready_since(a), tb = cx_pod_ready_since(b);
        if (ta != tb) return ta > tb ? -1 : 1; /* ready for less time first */
    }
    int64_t xa = cj_int(a, "status.restarts", 0), xb = cj_int(b, "status.restarts", 0);
    if (xa != xb) return xa > xb ? -1 : 1; /* more restarts first */
    uint64_t ca = cx_time(api_meta_creation_timestamp(a));
    uint64_t cb = cx_time(api_meta_creation_timestamp(b));
    if (ca != cb) return ca > cb ? -1 : 1; /* newer first */
    return strcmp(cj_str0(a, "metadata.name"), cj_str0(b, "metadata.name"));
}

static int qsort_delete_cmp(const void *x, const void *y)
{
    return repl_delete_cmp(*(const cJSON *const *)x, *(const cJSON *const *)y);
}

int64_t repl_diff(const cJSON *rs, const cJSON *const *active, size_t n, const cJSON ***del)
{
    int64_t want = cj_int(rs, "spec.replicas", 1);
    int64_t diff = want - (int64_t)n;
    *del = NULL;
    if (diff > BURST_REPLICAS) diff = BURST_REPLICAS;
    if (diff >= 0) return diff;
    if (diff < -BURST_REPLICAS) diff = -BURST_REPLICAS;
    const cJSON **sorted = cx_calloc(n, sizeof(*sorted));
    memcpy(sorted, active, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), qsort_delete_cmp);
    *del = sorted; /* the caller reads the first -diff */
    return diff;
}

/* A condition {type, status, reason, message, lastTransitionTime}. */
static cJSON *condition(const char *type, const char *status, const char *reason,
                        const char *message, uint64_t now)
{
    char ts[40];
    cx_time_fmt(now, ts, sizeof ts);
    cJSON *c = cj_new_obj();
    cj_set_str(c, "type", type);
    cj_set_str(c, "status", status);
    cj_set_str(c, "lastTransitionTime", ts);
    cj_set_str(c, "reason", reason);
    cj_set_str(c, "message", message);
    return c;
}

cJSON *repl_status(const cJSON *rs, const cJSON *const *pods, size_t n, uint64_t now_wall,
                   const char *failure)
{
    const cJSON *tmpl_labels = cj_get(rs, "spec.template.metadata.labels");
    int64_t min_ready = cj_int(rs, "spec.minReadySeconds", 0);
    int64_t full = 0, ready = 0, avail = 0;
    for (size_t i = 0; i < n; i++) {
        if (cx_labels_superset(api_meta_labels(pods[i]), tmpl_labels)) full++;
        if (cx_pod_ready(pods[i])) {
            ready++;
            if (cx_pod_available(pods[i], min_ready, now_wall)) avail++;
        }
    }
    cJSON *st = cj_new_obj();
    cj_set_int(st, "replicas", (int64_t)n);
    cj_set_int(st, "fullyLabeledReplicas", full);
    cj_set_int(st, "readyReplicas", ready);
    cj_set_int(st, "availableReplicas", avail);
    cj_set_int(st, "observedGeneration", api_meta_generation(rs));
    /* Conditions other than ReplicaFailure are kept as they are. */
    cJSON *conds = cj_new_arr();
    const cJSON *c;
    const cJSON *old_failure = cx_condition(rs, "ReplicaFailure");
    cJSON_ArrayForEach(c, cj_get(rs, "status.conditions"))
    {
        if (strcmp(cj_str0(c, "type"), "ReplicaFailure")) cj_push(conds, cx_dup(c));
    }
    if (failure) {
        if (old_failure)
            cj_push(conds, cx_dup(old_failure));
        else
            cj_push(conds, condition("ReplicaFailure", "True", "FailedCreate", failure, now_wall));
    }
    cj_set(st, "conditions", conds);
    return st;
}

bool repl_status_equal(const cJSON *old_status, const cJSON *st)
{
    static const char *const nums[] = {"replicas", "fullyLabeledReplicas", "readyReplicas",
                                       "availableReplicas", "observedGeneration"};
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++)
        if (cj_int(old_status, nums[i], 0) != cj_int(st, nums[i], 0)) return false;
    const cJSON *oc = cj_get(old_status, "conditions"), *nc = cj_get(st, "conditions");
    int on = cJSON_IsArray(oc) ? cJSON_GetArraySize(oc) : 0;
    int nn = cJSON_IsArray(nc) ? cJSON_GetArraySize(nc) : 0;
    if (on != nn) return false;
    return on == 0 || cJSON_Compare(oc, nc, true);
}

uint64_t repl_next_available(const cJSON *rs, const cJSON *const *pods, size_t n, uint64_t now_wall)
{
    int64_t min_ready = cj_int(rs, "spec.minReadySeconds", 0);
    if (min_ready <= 0) return 0;
    uint64_t best = 0;
    for (size_t i = 0; i < n; i++) {
        if (!cx_pod_ready(pods[i]) || cx_pod_available(pods[i], min_ready, now_wall)) continue;
        uint64_t since = cx_pod_ready_since(pods[i]);
        uint64_t at = since ? since + (uint64_t)min_ready * 1000 : now_wall + 1000;
        uint64_t wait = at > now_wall ? at - now_wall : 1;
        if (!best || wait < best) best = wait;
    }
    return best;
}

cJSON *repl_pod_from_template(const struct repl_kind *k, const cJSON *rs)
{
    const cJSON *tmpl = cj_get(rs, "spec.template");
    cJSON *pod = cj_new_obj();
    cj_set_str(pod, "apiVersion", "v1");
    cj_set_str(pod, "kind", "Pod");
    cJSON *meta = cj_obj(pod, "metadata");
    char *prefix = cx_printf("%s-", api_meta_name(rs));
    cj_set_str(meta, "generateName", prefix);
    free(prefix);
    cj_set_str(meta, "namespace", api_meta_namespace(rs));
    const cJSON *v;
    if ((v = cj_get(tmpl, "metadata.labels"))) cj_set(meta, "labels", cx_dup(v));
    if ((v = cj_get(tmpl, "metadata.annotations"))) cj_set(meta, "annotations", cx_dup(v));
    if ((v = cj_get(tmpl, "metadata.finalizers"))) cj_set(meta, "finalizers", cx_dup(v));
    if (api_meta_add_owner_ref(pod, k->api_version, k->kind, api_meta_name(rs), api_meta_uid(rs),
                               true, true) != 0)
        cx_oom();
    v = cj_get(tmpl, "spec");
    cj_set(pod, "spec", v ? cx_dup(v) : cj_new_obj());
    return pod;
}
