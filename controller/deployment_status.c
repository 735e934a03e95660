/*
 * deployment_status.c - a Deployment's status and conditions, as
 * Kubernetes' deployment controller computes them (calculateStatus,
 * syncRolloutStatus, SetDeploymentCondition).
 *
 * `kubectl rollout status` decides from these fields alone (observed
 * generation, updated / available replicas, Progressing's reason), so the
 * reasons and messages are Kubernetes' own: NewReplicaSetCreated,
 * FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable,
 * ProgressDeadlineExceeded, DeploymentPaused / DeploymentResumed,
 * MinimumReplicasAvailable / MinimumReplicasUnavailable.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "controller/ctrl_int.h"

const cJSON *dep_get_condition(const cJSON *conds, const char *type)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, conds)
    {
        if (!strcmp(cj_str0(c, "type"), type)) return c;
    }
    return NULL;
}

void dep_remove_condition(cJSON *conds, const char *type)
{
    int i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, conds)
    {
        if (!strcmp(cj_str0(c, "type"), type)) {
            cJSON_DeleteItemFromArray(conds, i);
            return;
        }
        i++;
    }
}

static void add_condition(cJSON *conds, const char *type, const char *status, const char *reason,
                          const char *message, const char *updated, const char *transition)
{
    cJSON *c = cj_new_obj();
    cj_set_str(c, "type", type);
    cj_set_str(c, "status", status);
    cj_set_str(c, "lastUpdateTime", updated);
    cj_set_str(c, "lastTransitionTime", transition);
    cj_set_str(c, "reason", reason);
    cj_set_str(c, "message", message);
    cj_push(conds, c);
}

void dep_set_condition(cJSON *conds, const char *type, const char *status, const char *reason,
                       const char *message, uint64_t now_wall)
{
    const cJSON *cur = dep_get_condition(conds, type);
    if (cur && !strcmp(cj_str0(cur, "status"), status) && !strcmp(cj_str0(cur, "reason"), reason))
        return;
    char now[40], trans[40];
    cx_time_fmt(now_wall, now, sizeof now);
    snprintf(trans, sizeof trans, "%s", now);
    /* The transition time moves only when the status does. */
    if (cur && !strcmp(cj_str0(cur, "status"), status) && cj_str(cur, "lastTransitionTime"))
        snprintf(trans, sizeof trans, "%s", cj_str(cur, "lastTransitionTime"));
    dep_remove_condition(conds, type);
    add_condition(conds, type, status, reason, message, now, trans);
}

cJSON *dep_calc_status(const cJSON *d, const struct dep_rs *rs, size_t n, int new_rs,
                       const cJSON *conditions, uint64_t now_wall)
{
    int64_t want = cj_int(d, "spec.replicas", 1);
    int64_t actual = 0, ready = 0, avail = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        actual += rs[i].status_replicas;
        ready += rs[i].ready;
        avail += rs[i].available;
        total += rs[i].replicas;
    }
    int64_t unavail = total - avail;
    if (unavail < 0) unavail = 0;
    cJSON *st = cj_new_obj();
    cj_set_int(st, "observedGeneration", api_meta_generation(d));
    cj_set_int(st, "replicas", actual);
    cj_set_int(st, "updatedReplicas", new_rs >= 0 ? rs[new_rs].status_replicas : 0);
    cj_set_int(st, "readyReplicas", ready);
    cj_set_int(st, "availableReplicas", avail);
    cj_set_int(st, "unavailableReplicas", unavail);
    const cJSON *cc = cj_get(d, "status.collisionCount");
    if (cJSON_IsNumber(cc)) cj_set_int(st, "collisionCount", (int64_t)cc->valuedouble);
    cJSON *conds = conditions ? cx_dup(conditions) : cj_new_arr();
    uint64_t now = now_wall;
    if (avail >= want - dep_max_unavailable(d))
        dep_set_condition(conds, "Available", "True", "MinimumReplicasAvailable",
                          "Deployment has minimum availability.", now);
    else
        dep_set_condition(conds, "Available", "False", "MinimumReplicasUnavailable",
                          "Deployment does not have minimum availability.", now);
    cj_set(st, "conditions", conds);
    return st;
}

bool dep_complete(const cJSON *d, const cJSON *st)
{
    int64_t want = cj_int(d, "spec.replicas", 1);
    return cj_int(st, "updatedReplicas", 0) == want && cj_int(st, "replicas", 0) == want &&
           cj_int(st, "availableReplicas", 0) == want &&
           cj_int(st, "observedGeneration", 0) >= api_meta_generation(d);
}

static bool has_deadline(const cJSON *d)
{
    const cJSON *p = cj_get(d, "spec.progressDeadlineSeconds");
    return cJSON_IsNumber(p) && p->valuedouble < (double)INT_MAX;
}

/* DeploymentProgressing: any sign of progress against the stored status. */
static bool progressing(const cJSON *d, const cJSON *st)
{
    const cJSON *old = cj_get(d, "status");
    int64_t old_old = cj_int(old, "replicas", 0) - cj_int(old, "updatedReplicas", 0);
    int64_t new_old = cj_int(st, "replicas", 0) - cj_int(st, "updatedReplicas", 0);
    return cj_int(st, "updatedReplicas", 0) > cj_int(old, "updatedReplicas", 0) ||
           new_old < old_old || cj_int(st, "readyReplicas", 0) > cj_int(old, "readyReplicas", 0) ||
           cj_int(st, "availableReplicas", 0) > cj_int(old, "availableReplicas", 0);
}

static bool timed_out(const cJSON *d, const cJSON *conds, uint64_t now)
{
    if (!has_deadline(d)) return false;
    const cJSON *c = dep_get_condition(conds, "Progressing");
    if (!c) return false;
    const char *reason = cj_str0(c, "reason");
    if (!strcmp(reason, "NewReplicaSetAvailable")) return false;
    if (!strcmp(reason, "ProgressDeadlineExceeded")) return true;
    uint64_t from = cx_time(cj_str(c, "lastUpdateTime"));
    int64_t dl = cj_int(d, "spec.progressDeadlineSeconds", 600);
    return from && from + (uint64_t)dl * 1000 < now;
}

/* The ReplicaFailure of the new RS, else of any other (getReplicaFailures). */
static const cJSON *replica_failure(const struct dep_rs *rs, size_t n, int new_rs)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            if ((pass == 0) != ((int)i == new_rs) || !rs[i].obj) continue;
            const cJSON *c = cx_condition(rs[i].obj, "ReplicaFailure");
            if (c && !strcmp(cj_str0(c, "status"), "True")) return c;
        }
    return NULL;
}

cJSON *dep_rollout_status(const cJSON *d, const struct dep_rs *rs, size_t n, int new_rs,
                          const cJSON *conditions, uint64_t now_wall, uint64_t *requeue_ms)
{
    cJSON *st = dep_calc_status(d, rs, n, new_rs, conditions, now_wall);
    cJSON *conds = (cJSON *)cj_get(st, "conditions");
    const char *nname = new_rs >= 0 ? rs[new_rs].name : NULL;
    char msg[512];
    if (!has_deadline(d)) dep_remove_condition(conds, "Progressing");
    const cJSON *cur = dep_get_condition(conds, "Progressing");
    bool done = cj_int(st, "replicas", 0) == cj_int(st, "updatedReplicas", 0) && cur &&
                !strcmp(cj_str0(cur, "reason"), "NewReplicaSetAvailable");
    if (has_deadline(d) && !done) {
        if (dep_complete(d, st)) {
            if (nname)
                snprintf(msg, sizeof msg, "ReplicaSet \"%s\" has successfully progressed.", nname);
            else
                snprintf(msg, sizeof msg, "Deployment has successfully progressed.");
            dep_set_condition(conds, "Progressing", "True", "NewReplicaSetAvailable", msg,
                              now_wall);
        } else if (progressing(d, st)) {
            if (nname)
                snprintf(msg, sizeof msg, "ReplicaSet \"%s\" is progressing.", nname);
            else
                snprintf(msg, sizeof msg, "Deployment is progressing.");
            char now[40], trans[40];
            cx_time_fmt(now_wall, now, sizeof now);
            snprintf(trans, sizeof trans, "%s", now);
            if (cur && !strcmp(cj_str0(cur, "status"), "True") && cj_str(cur, "lastTransitionTime"))
                snprintf(trans, sizeof trans, "%s", cj_str(cur, "lastTransitionTime"));
            dep_remove_condition(conds, "Progressing");
            add_condition(conds, "Progressing", "True", "ReplicaSetUpdated", msg, now, trans);
        } else if (timed_out(d, conds, now_wall)) {
            if (nname)
                snprintf(msg, sizeof msg, "ReplicaSet \"%s\" has timed out progressing.", nname);
            else
                snprintf(msg, sizeof msg, "Deployment \"%s\" has timed out progressing.",
                         api_meta_name(d));
            dep_set_condition(conds, "Progressing", "False", "ProgressDeadlineExceeded", msg,
                              now_wall);
        }
    }
    const cJSON *rf = replica_failure(rs, n, new_rs);
    if (rf)
        dep_set_condition(conds, "ReplicaFailure", "True", cj_str0(rf, "reason"),
                          cj_str0(rf, "message"), now_wall);
    else
        dep_remove_condition(conds, "ReplicaFailure");

    /* requeueStuckDeployment: look again when the deadline would pass. */
    *requeue_ms = 0;
    const cJSON *stored = dep_get_condition(cj_get(d, "status.conditions"), "Progressing");
    if (has_deadline(d) && stored && !dep_complete(d, st) &&
        strcmp(cj_str0(stored, "reason"), "ProgressDeadlineExceeded")) {
        uint64_t from = cx_time(cj_str(stored, "lastUpdateTime"));
        uint64_t at = from + (uint64_t)cj_int(d, "spec.progressDeadlineSeconds", 600) * 1000;
        *requeue_ms = at > now_wall + 1000 ? at - now_wall + 1000 : 1000;
    }
    return st;
}
