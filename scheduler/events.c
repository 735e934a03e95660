/*
 * events.c - what the scheduler tells users through the API besides the
 * bindings: Events (Scheduled, FailedScheduling) and the PodScheduled
 * condition of pods that fit nowhere. Writes queue behind a small
 * concurrency limit (see sched_int.h); a failure is logged and counted,
 * never retried here: the next scheduling attempt writes again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "scheduler/sched_int.h"

#define COMP "scheduler"

enum sw_kind { SW_EVENT, SW_STATUS };

/* Waiting events keep only their strings (a few hundred bytes) and get
 * their JSON body when sent: 10,000 Scheduled events queued behind a burst
 * of bindings must not hold 10,000 JSON trees. */
struct sw_op {
    struct sw_op *next;
    enum sw_kind kind;
    char *ns, *name;
    cJSON *body;                         /* status patches */
    char *uid, *type, *reason, *message; /* events */
    uint64_t wall_ms;
    struct sched_writer *w;
};

void sw_init(struct sched_writer *w, api_client_t *c, const char *component, const char *instance,
             unsigned max_in_flight, size_t max_queued)
{
    *w = (struct sched_writer){.c = c,
                               .component = component,
                               .instance = instance,
                               .max_in_flight = max_in_flight ? max_in_flight : 1,
                               .max_queued = max_queued};
}

static void op_free(struct sw_op *op)
{
    free(op->ns);
    free(op->name);
    free(op->uid);
    free(op->type);
    free(op->reason);
    free(op->message);
    cJSON_Delete(op->body);
    free(op);
}

void sw_clear(struct sched_writer *w)
{
    while (w->head) {
        struct sw_op *op = w->head;
        w->head = op->next;
        op_free(op);
    }
    w->tail = NULL;
    w->queued = 0;
}

static void pump(struct sched_writer *w);

static void on_done(api_result_t *res, void *data)
{
    struct sw_op *op = data;
    struct sched_writer *w = op->w;
    w->in_flight--;
    if (!api_result_ok(res) && res->err != UV_ECANCELED) {
        w->failed++;
        /* A pod deleted meanwhile is no news. */
        if (res->status != 404)
            log_warn(COMP, "%s %s/%s: %s",
                     op->kind == SW_EVENT ? "recording an event about pod" : "updating pod", op->ns,
                     op->name, res->message);
    }
    op_free(op);
    if (res->err != UV_ECANCELED) pump(w);
}

static cJSON *event_body(struct sched_writer *w, const struct sw_op *op);

static void start(struct sched_writer *w, struct sw_op *op)
{
    int rc;
    api_opts_t o = {.timeout_ms = 10000};
    if (op->kind == SW_EVENT) {
        api_ref_t ref = {.resource = "events", .ns = op->ns};
        cJSON *body = event_body(w, op);
        rc = body ? api_create(w->c, &ref, body, &o, on_done, op) : UV_ENOMEM;
        cJSON_Delete(body);
    } else {
        api_ref_t ref = {
            .resource = "pods", .ns = op->ns, .name = op->name, .subresource = "status"};
        rc = api_patch(w->c, &ref, API_PATCH_STRATEGIC, op->body, &o, on_done, op);
    }
    if (rc < 0) {
        w->failed++;
        op_free(op);
        return;
    }
    w->in_flight++;
}

static void pump(struct sched_writer *w)
{
    while (w->head && w->in_flight < w->max_in_flight) {
        struct sw_op *op = w->head;
        w->head = op->next;
        if (!w->head) w->tail = NULL;
        w->queued--;
        start(w, op);
    }
}

/* Queues op (taken), or drops it when too many wait. */
static void submit(struct sched_writer *w, struct sw_op *op)
{
    if (w->queued >= w->max_queued) {
        if (w->dropped++ % 1000 == 0)
            log_warn(COMP,
                     "too many writes waiting (%zu): dropping some events and "
                     "conditions (they are written again on the next attempt)",
                     w->queued);
        op_free(op);
        return;
    }
    op->w = w;
    if (w->tail)
        w->tail->next = op;
    else
        w->head = op;
    w->tail = op;
    w->queued++;
    pump(w);
}

static struct sw_op *op_new(enum sw_kind kind, const char *ns, const char *name)
{
    struct sw_op *op = calloc(1, sizeof(*op));
    if (!op) return NULL;
    op->kind = kind;
    op->ns = strdup(ns ? ns : "default");
    op->name = strdup(name ? name : "");
    if (!op->ns || !op->name) {
        op_free(op);
        return NULL;
    }
    return op;
}

static cJSON *event_body(struct sched_writer *w, const struct sw_op *op)
{
    char when[40], name[400];
    time_format_rfc3339(op->wall_ms, when, sizeof(when));
    /* Kubernetes names events <object>.<unique hex>; the sequence keeps two
     * events of the same millisecond apart. */
    snprintf(name, sizeof(name), "%s.%llx%04lx", op->name, (unsigned long long)op->wall_ms,
             w->seq++ & 0xffff);
    cJSON *e = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(e, "metadata");
    cJSON *io = cJSON_AddObjectToObject(e, "involvedObject");
    cJSON *src = cJSON_AddObjectToObject(e, "source");
    bool ok = e && meta && io && src && cJSON_AddStringToObject(e, "apiVersion", "v1") &&
              cJSON_AddStringToObject(e, "kind", "Event") &&
              cJSON_AddStringToObject(meta, "name", name) &&
              cJSON_AddStringToObject(meta, "namespace", op->ns) &&
              cJSON_AddStringToObject(io, "apiVersion", "v1") &&
              cJSON_AddStringToObject(io, "kind", "Pod") &&
              cJSON_AddStringToObject(io, "namespace", op->ns) &&
              cJSON_AddStringToObject(io, "name", op->name) &&
              (!op->uid || cJSON_AddStringToObject(io, "uid", op->uid)) &&
              cJSON_AddStringToObject(e, "reason", op->reason) &&
              cJSON_AddStringToObject(e, "message", op->message) &&
              cJSON_AddStringToObject(e, "type", op->type) &&
              cJSON_AddStringToObject(src, "component", w->component) &&
              cJSON_AddStringToObject(e, "firstTimestamp", when) &&
              cJSON_AddStringToObject(e, "lastTimestamp", when) &&
              cJSON_AddNumberToObject(e, "count", 1) &&
              cJSON_AddStringToObject(e, "reportingComponent", w->component) &&
              cJSON_AddStringToObject(e, "reportingInstance", w->instance);
    if (ok) return e;
    cJSON_Delete(e);
    return NULL;
}

void sw_pod_event(struct sched_writer *w, const char *ns, const char *pod, const char *uid,
                  const char *type, const char *reason, const char *message)
{
    struct sw_op *op = op_new(SW_EVENT, ns, pod);
    if (!op) return;
    op->wall_ms = time_wall_ms();
    op->uid = uid ? strdup(uid) : NULL;
    op->type = strdup(type);
    op->reason = strdup(reason);
    op->message = strdup(message);
    if ((uid && !op->uid) || !op->type || !op->reason || !op->message) {
        op_free(op);
        return;
    }
    submit(w, op);
}

void sw_pod_unschedulable(struct sched_writer *w, const char *ns, const char *pod,
                          const char *message, bool keep_transition)
{
    char now[40];
    time_format_rfc3339(time_wall_ms(), now, sizeof(now));
    cJSON *patch = cJSON_CreateObject();
    cJSON *st = cJSON_AddObjectToObject(patch, "status");
    cJSON *conds = cJSON_AddArrayToObject(st, "conditions");
    cJSON *c = conds ? cJSON_CreateObject() : NULL;
    bool ok = c && cJSON_AddItemToArray(conds, c) &&
              cJSON_AddStringToObject(c, "type", "PodScheduled") &&
              cJSON_AddStringToObject(c, "status", "False") &&
              cJSON_AddStringToObject(c, "reason", "Unschedulable") &&
              cJSON_AddStringToObject(c, "message", message) &&
              cJSON_AddNullToObject(c, "lastProbeTime") &&
              (keep_transition || cJSON_AddStringToObject(c, "lastTransitionTime", now));
    struct sw_op *op = ok ? op_new(SW_STATUS, ns, pod) : NULL;
    if (!op) {
        cJSON_Delete(patch);
        return;
    }
    op->body = patch;
    submit(w, op);
}
