/*
 * status.c - a pod's status as Kubernetes reports it, computed from the
 * agent's runtime record: containerStatuses and initContainerStatuses
 * (state waiting/running/terminated, lastState, ready, started,
 * restartCount), the phase by the kubelet's own rules (getPhase), the
 * conditions PodReadyToStartContainers, Initialized, ContainersReady,
 * Ready and PodScheduled, podIP(s), hostIP(s) and startTime.
 * A pure function of its inputs: unit-tested case by case.
 */
#include "nodeagent/agent_int.h"

#include <stdlib.h>
#include <string.h>

static void add_time(cJSON *o, const char *k, uint64_t wall_ms)
{
    char t[40];
    time_format_rfc3339(wall_ms, t, sizeof t);
    cJSON_AddStringToObject(o, k, t);
}

static cJSON *terminated(const struct ctr_term *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "exitCode", t->exit_code);
    if (t->signal) cJSON_AddNumberToObject(o, "signal", t->signal);
    cJSON_AddStringToObject(o, "reason", t->reason[0] ? t->reason : "Error");
    if (t->message[0]) cJSON_AddStringToObject(o, "message", t->message);
    add_time(o, "startedAt", t->started_ms ? t->started_ms : t->finished_ms);
    add_time(o, "finishedAt", t->finished_ms);
    if (t->id[0]) {
        char id[200];
        snprintf(id, sizeof id, "runc://%s", t->id);
        cJSON_AddStringToObject(o, "containerID", id);
    }
    return o;
}

static const cJSON *spec_of(const cJSON *pod, const struct ctr_rt *c)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, jget(jget(pod, "spec"), c->init ? "initContainers" : "containers"))
    {
        if (!strcmp(jstr(x, "name", ""), c->name)) return x;
    }
    return NULL;
}

static cJSON *container_status(const struct ctr_rt *c, const cJSON *cspec)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "name", c->name);
    cJSON *state = cJSON_AddObjectToObject(s, "state");
    cJSON *last = cJSON_AddObjectToObject(s, "lastState");
    bool running = c->state == CS_RUNNING;
    if (running) {
        cJSON *r = cJSON_AddObjectToObject(state, "running");
        add_time(r, "startedAt", c->started_ms);
        if (c->has_last) cJSON_AddItemToObject(last, "terminated", terminated(&c->last));
    } else if (c->state == CS_EXITED && !c->wait_reason[0]) {
        cJSON_AddItemToObject(state, "terminated", terminated(&c->term));
        if (c->has_last) cJSON_AddItemToObject(last, "terminated", terminated(&c->last));
    } else {
        cJSON *w = cJSON_AddObjectToObject(state, "waiting");
        cJSON_AddStringToObject(w, "reason",
                                c->wait_reason[0] ? c->wait_reason : "ContainerCreating");
        if (c->wait_message[0]) cJSON_AddStringToObject(w, "message", c->wait_message);
        /* Waiting to run again: the instance that ended is the last state. */
        if (c->state == CS_EXITED)
            cJSON_AddItemToObject(last, "terminated", terminated(&c->term));
        else if (c->has_last)
            cJSON_AddItemToObject(last, "terminated", terminated(&c->last));
    }
    bool ready = running && probe_ready(c, cspec);
    cJSON_AddBoolToObject(s, "ready", ready);
    cJSON_AddNumberToObject(s, "restartCount", c->attempt < 0 ? 0 : c->attempt);
    char norm[600];
    cJSON_AddStringToObject(s, "image",
                            img_normalize(c->image, norm, sizeof norm) == 0 ? norm : c->image);
    cJSON_AddStringToObject(s, "imageID", c->image_id);
    if (c->id[0]) {
        char id[200];
        snprintf(id, sizeof id, "runc://%s", c->id);
        cJSON_AddStringToObject(s, "containerID", id);
    }
    cJSON_AddBoolToObject(s, "started", running && probe_started(c, cspec));
    return s;
}

static const cJSON *find_status(const cJSON *list, const char *name)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, list) if (!strcmp(jstr(s, "name", ""), name)) return s;
    return NULL;
}

static const cJSON *terminated_of(const cJSON *st, const char *which)
{
    return jget(jget(st, which), "terminated");
}

const char *status_phase(const cJSON *pod, const cJSON *init_statuses, const cJSON *statuses)
{
    const cJSON *spec = jget(pod, "spec"), *c;
    const char *policy = jstr(spec, "restartPolicy", "Always");
    int pending_init = 0, failed_init = 0;
    cJSON_ArrayForEach(c, jget(spec, "initContainers"))
    {
        const cJSON *st = find_status(init_statuses, jstr(c, "name", ""));
        const cJSON *state = jget(st, "state");
        const cJSON *t = jget(state, "terminated"), *lt = terminated_of(st, "lastState");
        if (!st || jget(state, "running")) {
            pending_init++;
        } else if (t) {
            if (jnum(t, "exitCode", 1) != 0) failed_init++;
        } else if (jget(state, "waiting")) {
            if (lt && jnum(lt, "exitCode", 1) != 0)
                failed_init++;
            else if (!lt)
                pending_init++;
        } else {
            pending_init++;
        }
    }
    int unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
    cJSON_ArrayForEach(c, jget(spec, "containers"))
    {
        const cJSON *st = find_status(statuses, jstr(c, "name", ""));
        const cJSON *state = jget(st, "state");
        if (!st) {
            unknown++;
        } else if (jget(state, "running")) {
            running++;
        } else if (jget(state, "terminated")) {
            stopped++;
            if (jnum(jget(state, "terminated"), "exitCode", 1) == 0) succeeded++;
        } else if (jget(state, "waiting")) {
            if (terminated_of(st, "lastState"))
                stopped++;
            else
                waiting++;
        } else {
            unknown++;
        }
    }
    if (failed_init > 0 && !strcmp(policy, "Never")) return "Failed";
    if (pending_init > 0 || failed_init > 0 || waiting > 0) return "Pending";
    if (running > 0 && unknown == 0) return "Running";
    if (running == 0 && stopped > 0 && unknown == 0) {
        if (!strcmp(policy, "Always")) return "Running";
        if (stopped == succeeded) return "Succeeded";
        if (!strcmp(policy, "Never")) return "Failed";
        return "Running";
    }
    return "Pending";
}

/* A condition keeps its lastTransitionTime while its status stays. */
static void add_condition(cJSON *conds, const cJSON *old, const char *type, bool ok,
                          const char *reason, const char *message, uint64_t now)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "type", type);
    cJSON_AddStringToObject(c, "status", ok ? "True" : "False");
    cJSON_AddNullToObject(c, "lastProbeTime");
    const cJSON *o, *prev = NULL;
    cJSON_ArrayForEach(o, jget(old, "conditions")) if (!strcmp(jstr(o, "type", ""), type)) prev = o;
    const char *pt = jstr(prev, "lastTransitionTime", NULL);
    if (prev && !strcmp(jstr(prev, "status", ""), ok ? "True" : "False") && pt)
        cJSON_AddStringToObject(c, "lastTransitionTime", pt);
    else
        add_time(c, "lastTransitionTime", now);
    if (reason) cJSON_AddStringToObject(c, "reason", reason);
    if (message) cJSON_AddStringToObject(c, "message", message);
    cJSON_AddItemToArray(conds, c);
}

/* "containers with unready status: [a b]" */
static char *name_list(const char *prefix, const cJSON *statuses, const char *field,
                       bool want_terminated_ok)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    fprintf(f, "%s: [", prefix);
    int n = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, statuses)
    {
        bool ok;
        if (want_terminated_ok) {
            const cJSON *t = jget(jget(s, "state"), "terminated");
            ok = t && jnum(t, "exitCode", 1) == 0;
        } else {
            ok = jbool(s, field, false);
        }
        if (!ok) fprintf(f, "%s%s", n++ ? " " : "", jstr(s, "name", ""));
    }
    fprintf(f, "]");
    fclose(f);
    if (!n) {
        free(buf);
        return NULL;
    }
    return buf;
}

cJSON *status_build(const struct pod_rt *rt, const cJSON *pod, const cJSON *old,
                    const char *host_ip, uint64_t now)
{
    cJSON *st = cJSON_CreateObject();
    cJSON *inits = cJSON_CreateArray(), *ctrs = cJSON_CreateArray();
    for (size_t i = 0; i < rt->n; i++) {
        const struct ctr_rt *c = &rt->c[i];
        cJSON_AddItemToArray(c->init ? inits : ctrs, container_status(c, spec_of(pod, c)));
    }
    const char *phase = status_phase(pod, inits, ctrs);
    cJSON_AddStringToObject(st, "phase", phase);
    bool done = !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed");
    cJSON *conds = cJSON_AddArrayToObject(st, "conditions");
    add_condition(conds, old, "PodReadyToStartContainers", rt->net_ready, NULL, NULL, now);
    char *not_init = name_list("containers with incomplete status", inits, NULL, true);
    add_condition(conds, old, "Initialized", !not_init,
                  not_init ? "ContainersNotInitialized" : NULL, not_init, now);
    free(not_init);
    char *unready = name_list("containers with unready status", ctrs, "ready", false);
    bool ready = !unready && cJSON_GetArraySize(ctrs) > 0 && !done;
    const char *why = done ? "PodCompleted" : "ContainersNotReady";
    add_condition(conds, old, "ContainersReady", ready, ready ? NULL : why,
                  ready || done ? NULL : unready, now);
    /* Readiness gates: conditions other controllers set in the status. */
    bool gates = true;
    const cJSON *g, *oc;
    cJSON_ArrayForEach(g, jget(jget(pod, "spec"), "readinessGates"))
    {
        bool ok = false;
        cJSON_ArrayForEach(oc, jget(old, "conditions")) if (!strcmp(jstr(oc, "type", ""),
                                                                    jstr(g, "conditionType", "")))
            ok = !strcmp(jstr(oc, "status", ""), "True");
        if (!ok) gates = false;
    }
    add_condition(conds, old, "Ready", ready && gates,
                  ready && gates ? NULL : (ready ? "ReadinessGatesNotReady" : why),
                  ready || done ? NULL : unready, now);
    free(unready);
    add_condition(conds, old, "PodScheduled", true, NULL, NULL, now);
    /* Gate conditions belong to their controllers: carried over. */
    cJSON_ArrayForEach(oc, jget(old, "conditions"))
    {
        const char *t = jstr(oc, "type", "");
        bool ours = false;
        const cJSON *c;
        cJSON_ArrayForEach(c, conds) if (!strcmp(jstr(c, "type", ""), t)) ours = true;
        if (!ours) cJSON_AddItemToArray(conds, cJSON_Duplicate(oc, 1));
    }
    if (host_ip && *host_ip) {
        cJSON_AddStringToObject(st, "hostIP", host_ip);
        cJSON *hips = cJSON_AddArrayToObject(st, "hostIPs");
        cJSON *h = cJSON_CreateObject();
        cJSON_AddStringToObject(h, "ip", host_ip);
        cJSON_AddItemToArray(hips, h);
    }
    if (rt->ip[0]) {
        cJSON_AddStringToObject(st, "podIP", rt->ip);
        cJSON *ips = cJSON_AddArrayToObject(st, "podIPs");
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "ip", rt->ip);
        cJSON_AddItemToArray(ips, p);
    }
    if (rt->start_ms) add_time(st, "startTime", rt->start_ms);
    if (cJSON_GetArraySize(inits))
        cJSON_AddItemToObject(st, "initContainerStatuses", inits);
    else
        cJSON_Delete(inits);
    cJSON_AddItemToObject(st, "containerStatuses", ctrs);
    const char *qos = jstr(old, "qosClass", NULL);
    if (qos) cJSON_AddStringToObject(st, "qosClass", qos);
    return st;
}
