/*
 * state.c - a pod's runtime record and where it is kept on disk:
 *
 *   <data>/agent/pods/<uid>/pod.json     the pod as last seen
 *   <data>/agent/pods/<uid>/state.json   containers: restart counts,
 *                                        instance ids, pids, exits, back-off
 *   <data>/agent/pods/<uid>/c/<name>/<n>/   instance n's bundle
 *   <data>/agent/logs/<ns>_<pod>_<uid>/<name>/<n>.log   its log
 *
 * state.json is what lets a restarted agent adopt running containers
 * instead of starting them again, and keep counting restarts. It is
 * written only when something changed (SD cards wear out).
 */
#include "nodeagent/agent_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void pod_dir(const struct node_ctx *nc, const char *uid, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", nc->pods, uid);
}

void pod_log_dir(const struct node_ctx *nc, const char *ns, const char *name, const char *uid,
                 char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s_%s_%s", nc->logs, ns, name, uid);
}

void ctr_dir(const struct node_ctx *nc, const char *uid, const char *name, int attempt, char *buf,
             size_t len)
{
    snprintf(buf, len, "%s/%s/c/%s/%d", nc->pods, uid, name, attempt);
}

void ctr_log_path(const struct node_ctx *nc, const char *ns, const char *pod, const char *uid,
                  const char *name, int attempt, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s_%s_%s/%s/%d.log", nc->logs, ns, pod, uid, name, attempt);
}

void ctr_runc_id(const char *uid, const char *name, int attempt, char *buf, size_t len)
{
    snprintf(buf, len, "%s-%s-%d", uid, name, attempt);
}

void node_ctx_pod_cidr(struct node_ctx *nc, char *buf, size_t len)
{
    pthread_mutex_lock(&nc->mu);
    snprintf(buf, len, "%s", nc->pod_cidr);
    pthread_mutex_unlock(&nc->mu);
}

struct ctr_rt *pod_rt_ctr(struct pod_rt *rt, const char *name, bool init)
{
    for (size_t i = 0; i < rt->n; i++)
        if (rt->c[i].init == init && !strcmp(rt->c[i].name, name)) return &rt->c[i];
    return NULL;
}

int pod_rt_reconcile(struct pod_rt *rt, const cJSON *pod)
{
    const cJSON *spec = jget(pod, "spec"), *md = jget(pod, "metadata");
    size_t want = (size_t)cJSON_GetArraySize(jget(spec, "initContainers")) +
                  (size_t)cJSON_GetArraySize(jget(spec, "containers"));
    struct ctr_rt *c = calloc(want ? want : 1, sizeof *c);
    if (!c) return -1;
    size_t n = 0;
    const char *lists[] = {"initContainers", "containers"};
    for (int l = 0; l < 2; l++) {
        const cJSON *x;
        cJSON_ArrayForEach(x, jget(spec, lists[l]))
        {
            const char *name = jstr(x, "name", "");
            struct ctr_rt *have = pod_rt_ctr(rt, name, l == 0);
            if (have) {
                c[n] = *have;
            } else {
                snprintf(c[n].name, sizeof c[n].name, "%s", name);
                c[n].init = l == 0;
                c[n].attempt = -1;
            }
            snprintf(c[n].image, sizeof c[n].image, "%s", jstr(x, "image", ""));
            n++;
        }
    }
    free(rt->c);
    rt->c = c;
    rt->n = n;
    snprintf(rt->uid, sizeof rt->uid, "%s", jstr(md, "uid", rt->uid));
    snprintf(rt->ns, sizeof rt->ns, "%s", jstr(md, "namespace", "default"));
    snprintf(rt->name, sizeof rt->name, "%s", jstr(md, "name", rt->name));
    return 0;
}

void pod_rt_free(struct pod_rt *rt)
{
    if (!rt) return;
    free(rt->c);
    free(rt);
}

/* ------------------------------------------------------------ save, load */

static cJSON *term_json(const struct ctr_term *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "exitCode", t->exit_code);
    cJSON_AddNumberToObject(o, "signal", t->signal);
    cJSON_AddStringToObject(o, "reason", t->reason);
    cJSON_AddStringToObject(o, "message", t->message);
    cJSON_AddNumberToObject(o, "startedAt", (double)t->started_ms);
    cJSON_AddNumberToObject(o, "finishedAt", (double)t->finished_ms);
    cJSON_AddStringToObject(o, "id", t->id);
    return o;
}

static void term_from(const cJSON *o, struct ctr_term *t)
{
    t->exit_code = (int)jnum(o, "exitCode", 0);
    t->signal = (int)jnum(o, "signal", 0);
    snprintf(t->reason, sizeof t->reason, "%s", jstr(o, "reason", ""));
    snprintf(t->message, sizeof t->message, "%s", jstr(o, "message", ""));
    t->started_ms = (uint64_t)jnum(o, "startedAt", 0);
    t->finished_ms = (uint64_t)jnum(o, "finishedAt", 0);
    snprintf(t->id, sizeof t->id, "%s", jstr(o, "id", ""));
}

int pod_rt_save(const struct node_ctx *nc, const struct pod_rt *rt, const cJSON *pod)
{
    char dir[AGENT_PATH_MAX], p[AGENT_PATH_MAX + 32];
    pod_dir(nc, rt->uid, dir, sizeof dir);
    if (file_mkdirs(dir, 0700) != 0) return -errno;
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "uid", rt->uid);
    cJSON_AddStringToObject(s, "namespace", rt->ns);
    cJSON_AddStringToObject(s, "name", rt->name);
    cJSON_AddStringToObject(s, "ip", rt->ip);
    cJSON_AddBoolToObject(s, "netReady", rt->net_ready);
    cJSON_AddBoolToObject(s, "volumesReady", rt->volumes_ready);
    cJSON_AddNumberToObject(s, "startTime", (double)rt->start_ms);
    cJSON *cs = cJSON_AddArrayToObject(s, "containers");
    for (size_t i = 0; i < rt->n; i++) {
        const struct ctr_rt *c = &rt->c[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", c->name);
        cJSON_AddBoolToObject(o, "init", c->init);
        cJSON_AddNumberToObject(o, "attempt", c->attempt);
        cJSON_AddNumberToObject(o, "state", c->state);
        cJSON_AddStringToObject(o, "id", c->id);
        cJSON_AddStringToObject(o, "imageID", c->image_id);
        cJSON_AddNumberToObject(o, "specHash", c->spec_hash);
        cJSON_AddNumberToObject(o, "pid", c->pid);
        cJSON_AddNumberToObject(o, "shimPid", c->shim_pid);
        cJSON_AddNumberToObject(o, "startedAt", (double)c->started_ms);
        cJSON_AddItemToObject(o, "term", term_json(&c->term));
        if (c->has_last) cJSON_AddItemToObject(o, "last", term_json(&c->last));
        cJSON_AddNumberToObject(o, "backoffMs", (double)c->backoff.delay_ms);
        cJSON_AddItemToArray(cs, o);
    }
    snprintf(p, sizeof p, "%s/state.json", dir);
    int rv = fs_write_json(p, s, true);
    cJSON_Delete(s);
    if (!rv && pod) {
        snprintf(p, sizeof p, "%s/pod.json", dir);
        rv = fs_write_json(p, pod, true);
    }
    return rv;
}

struct pod_rt *pod_rt_load(const struct node_ctx *nc, const char *uid, cJSON **pod)
{
    char dir[AGENT_PATH_MAX], p[AGENT_PATH_MAX + 32];
    pod_dir(nc, uid, dir, sizeof dir);
    snprintf(p, sizeof p, "%s/state.json", dir);
    cJSON *s = fs_read_json(p);
    snprintf(p, sizeof p, "%s/pod.json", dir);
    *pod = fs_read_json(p);
    struct pod_rt *rt = calloc(1, sizeof *rt);
    if (!rt || !s || !*pod) {
        cJSON_Delete(s);
        free(rt);
        if (!s && *pod) {
            /* Died before its first state was written: nothing ran yet. */
            rt = calloc(1, sizeof *rt);
            if (rt) {
                snprintf(rt->uid, sizeof rt->uid, "%s", uid);
                pod_rt_reconcile(rt, *pod);
            }
            return rt;
        }
        cJSON_Delete(*pod);
        *pod = NULL;
        return NULL;
    }
    snprintf(rt->uid, sizeof rt->uid, "%s", uid);
    snprintf(rt->ns, sizeof rt->ns, "%s", jstr(s, "namespace", "default"));
    snprintf(rt->name, sizeof rt->name, "%s", jstr(s, "name", ""));
    snprintf(rt->ip, sizeof rt->ip, "%s", jstr(s, "ip", ""));
    rt->net_ready = jbool(s, "netReady", false);
    rt->volumes_ready = jbool(s, "volumesReady", false);
    rt->start_ms = (uint64_t)jnum(s, "startTime", 0);
    const cJSON *o;
    size_t n = (size_t)cJSON_GetArraySize(jget(s, "containers"));
    rt->c = calloc(n ? n : 1, sizeof *rt->c);
    uint64_t now = time_mono_ms();
    cJSON_ArrayForEach(o, jget(s, "containers"))
    {
        struct ctr_rt *c = &rt->c[rt->n++];
        snprintf(c->name, sizeof c->name, "%s", jstr(o, "name", ""));
        c->init = jbool(o, "init", false);
        c->attempt = (int)jnum(o, "attempt", -1);
        c->state = (enum ctr_state)(int)jnum(o, "state", CS_NONE);
        snprintf(c->id, sizeof c->id, "%s", jstr(o, "id", ""));
        snprintf(c->image_id, sizeof c->image_id, "%s", jstr(o, "imageID", ""));
        c->spec_hash = (uint32_t)jnum(o, "specHash", 0);
        c->pid = (pid_t)jnum(o, "pid", 0);
        c->shim_pid = (pid_t)jnum(o, "shimPid", 0);
        c->started_ms = (uint64_t)jnum(o, "startedAt", 0);
        /* Monotonic times do not survive a restart: count from now. */
        c->started_mono = now;
        c->finished_mono = now;
        term_from(jget(o, "term"), &c->term);
        if (jget(o, "last")) {
            c->has_last = true;
            term_from(jget(o, "last"), &c->last);
        }
        c->backoff.delay_ms = (uint64_t)jnum(o, "backoffMs", 0);
        c->backoff.last_ms = now;
        if (c->state == CS_WAITING) c->state = CS_NONE;
    }
    cJSON_Delete(s);
    pod_rt_reconcile(rt, *pod);
    return rt;
}
