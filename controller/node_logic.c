/*
 * node_logic.c - the decisions of the node lifecycle loop, as pure
 * functions: a node's state from its heartbeats, the Ready=Unknown patch,
 * the taints a state implies, and when a pod must leave a tainted node.
 *
 * Taints follow Kubernetes: node.kubernetes.io/unreachable (no heartbeat)
 * and node.kubernetes.io/not-ready (the kubelet says Ready=False), each
 * with NoSchedule and NoExecute. Only these four are owned here; any other
 * taint of the node is kept as it is. A pod tolerating a NoExecute taint
 * for tolerationSeconds leaves that long after the taint appeared; a pod
 * tolerating it without a limit stays; a pod with no matching toleration
 * leaves after the eviction timeout (the rule; Kubernetes evicts at
 * once, but pods there always carry the default 300 s tolerations).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctrl_int.h"

enum nl_state nl_state_of(const cJSON *node, bool stale)
{
    if (stale) return NL_UNREACHABLE;
    const cJSON *ready = cx_condition(node, "Ready");
    if (ready && !strcmp(cj_str0(ready, "status"), "False")) return NL_NOT_READY;
    /* True, absent (a node that never posted, kept fresh by its Lease), or
     * the Unknown this controller wrote before the Lease came back. */
    return NL_READY;
}

static cJSON *unknown_of(const cJSON *c, const char *ts)
{
    cJSON *n = cx_dup(c);
    cj_set_str(n, "status", "Unknown");
    cj_set_str(n, "reason", "NodeStatusUnknown");
    cj_set_str(n, "message", "Kubelet stopped posting node status.");
    cj_set_str(n, "lastTransitionTime", ts);
    return n;
}

cJSON *nl_unknown_patch(const cJSON *node, uint64_t now_wall)
{
    const cJSON *ready = cx_condition(node, "Ready");
    if (ready && !strcmp(cj_str0(ready, "status"), "Unknown")) return NULL;
    char ts[40];
    cx_time_fmt(now_wall, ts, sizeof ts);
    cJSON *conds = cj_new_arr();
    if (ready) {
        cj_push(conds, unknown_of(ready, ts));
    } else {
        cJSON *c = cj_new_obj();
        cj_set_str(c, "type", "Ready");
        cj_set_str(c, "status", "Unknown");
        cj_set_str(c, "reason", "NodeStatusNeverUpdated");
        cj_set_str(c, "message", "Kubelet never posted node status.");
        const char *created = api_meta_creation_timestamp(node);
        cj_set_str(c, "lastHeartbeatTime", created ? created : ts);
        cj_set_str(c, "lastTransitionTime", ts);
        cj_push(conds, c);
    }
    static const char *const others[] = {"MemoryPressure", "DiskPressure", "PIDPressure"};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        const cJSON *c = cx_condition(node, others[i]);
        if (c && strcmp(cj_str0(c, "status"), "Unknown")) cj_push(conds, unknown_of(c, ts));
    }
    cJSON *patch = cj_new_obj();
    cj_set(cj_obj(patch, "status"), "conditions", conds);
    return patch;
}

static bool owned_taint(const cJSON *t)
{
    const char *k = cj_str0(t, "key"), *e = cj_str0(t, "effect");
    return (!strcmp(k, NL_TAINT_UNREACHABLE) || !strcmp(k, NL_TAINT_NOT_READY)) &&
           (!strcmp(e, "NoSchedule") || !strcmp(e, "NoExecute"));
}

static const cJSON *find_taint(const cJSON *taints, const char *key, const char *effect)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, taints)
    {
        if (!strcmp(cj_str0(t, "key"), key) && !strcmp(cj_str0(t, "effect"), effect)) return t;
    }
    return NULL;
}

cJSON *nl_taints_for(const cJSON *node, enum nl_state st, uint64_t now_wall)
{
    const cJSON *cur = cj_get(node, "spec.taints");
    const char *want = st == NL_UNREACHABLE ? NL_TAINT_UNREACHABLE
                       : st == NL_NOT_READY ? NL_TAINT_NOT_READY
                                            : NULL;
    bool change = false;
    cJSON *out = cj_new_arr();
    const cJSON *t;
    cJSON_ArrayForEach(t, cur)
    {
        if (!owned_taint(t) || (want && !strcmp(cj_str0(t, "key"), want))) {
            cj_push(out, cx_dup(t));
        } else {
            change = true;
        }
    }
    if (want) {
        static const char *const effects[] = {"NoSchedule", "NoExecute"};
        char ts[40];
        cx_time_fmt(now_wall, ts, sizeof ts);
        for (size_t i = 0; i < 2; i++) {
            if (find_taint(cur, want, effects[i])) continue;
            cJSON *n = cj_new_obj();
            cj_set_str(n, "key", want);
            cj_set_str(n, "effect", effects[i]);
            if (i == 1) cj_set_str(n, "timeAdded", ts);
            cj_push(out, n);
            change = true;
        }
    }
    if (!change) {
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}

bool nl_toleration_matches(const cJSON *tol, const cJSON *taint)
{
    const char *eff = cj_str0(tol, "effect");
    if (*eff && strcmp(eff, cj_str0(taint, "effect"))) return false;
    const char *key = cj_str0(tol, "key");
    if (*key && strcmp(key, cj_str0(taint, "key"))) return false;
    const char *op = cj_str0(tol, "operator");
    if (!strcmp(op, "Exists")) return true;
    if (*op && strcmp(op, "Equal")) return false;
    return !strcmp(cj_str0(tol, "value"), cj_str0(taint, "value"));
}

static int64_t eviction_delay(const cJSON *tols, const cJSON *taints, uint64_t eviction_ms);

int64_t nl_eviction_delay(const cJSON *pod, const cJSON *taints, uint64_t eviction_ms)
{
    cJSON *owned;
    const cJSON *tols = cx_tolerations(pod, &owned);
    int64_t r = eviction_delay(tols, taints, eviction_ms);
    cJSON_Delete(owned);
    return r;
}

static int64_t eviction_delay(const cJSON *tols, const cJSON *taints, uint64_t eviction_ms)
{
    int64_t min_s = INT64_MAX;
    bool any = false;
    const cJSON *t;
    cJSON_ArrayForEach(t, taints)
    {
        if (strcmp(cj_str0(t, "effect"), "NoExecute")) continue;
        any = true;
        const cJSON *match = NULL, *tol;
        cJSON_ArrayForEach(tol, tols)
        {
            if (nl_toleration_matches(tol, t)) {
                match = tol;
                break;
            }
        }
        if (!match) return (int64_t)eviction_ms;
        const cJSON *secs = cJSON_GetObjectItemCaseSensitive(match, "tolerationSeconds");
        if (!cJSON_IsNumber(secs)) continue;
        if (secs->valuedouble <= 0) return 0;
        if ((int64_t)secs->valuedouble < min_s) min_s = (int64_t)secs->valuedouble;
    }
    if (!any || min_s == INT64_MAX) return -1;
    return min_s * 1000;
}

/* ------------------------------------------------------------- timing */

static bool remember(char **slot, const char *v)
{
    if (!v) return false;
    if (*slot && !strcmp(*slot, v)) return false;
    free(*slot);
    *slot = cx_strdup(v);
    return true;
}

void nl_track_init(struct nl_track *t, uint64_t now)
{
    memset(t, 0, sizeof(*t));
    t->probe = now;
}

void nl_track_free(struct nl_track *t)
{
    free(t->lease_renew);
    free(t->heartbeat);
    memset(t, 0, sizeof(*t));
}

void nl_track_lease(struct nl_track *t, const char *renew_time, bool first, uint64_t now)
{
    if (remember(&t->lease_renew, renew_time) && !first) t->probe = now;
}

void nl_track_heartbeat(struct nl_track *t, const char *heartbeat, bool first, uint64_t now)
{
    if (remember(&t->heartbeat, heartbeat) && !first) t->probe = now;
}

bool nl_stale(const struct nl_track *t, uint64_t now, uint64_t grace_ms)
{
    return now > t->probe + grace_ms;
}

void nl_track_taints(struct nl_track *t, const cJSON *node, uint64_t now)
{
    bool noexec = false;
    const cJSON *x;
    cJSON_ArrayForEach(x, cj_get(node, "spec.taints"))
    {
        if (!strcmp(cj_str0(x, "effect"), "NoExecute")) noexec = true;
    }
    if (!noexec)
        t->noexec_since = 0;
    else if (!t->noexec_since)
        t->noexec_since = now ? now : 1;
}

bool nl_evict_now(const struct nl_track *t, const cJSON *pod, const cJSON *taints, uint64_t now,
                  uint64_t eviction_ms)
{
    if (!t->noexec_since) return false;
    int64_t delay = nl_eviction_delay(pod, taints, eviction_ms);
    return delay >= 0 && now >= t->noexec_since + (uint64_t)delay;
}
