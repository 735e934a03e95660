/*
 * nodeinfo.c - what a Node offers, read once into an sc_node: allocatable
 * cpu, memory and pods, labels, taints, cordon, readiness; and the trimmed
 * Node the informer keeps (the same shape as a Node, only those fields, so
 * one parser reads both).
 *
 * Readiness is expressed as a taint, as Kubernetes' node lifecycle
 * controller does (TaintNodesByCondition): a node whose Ready condition is
 * False or missing carries node.kubernetes.io/not-ready:NoSchedule, one
 * whose Ready is Unknown node.kubernetes.io/unreachable:NoSchedule, unless
 * it already has a taint with that key. Pods that tolerate it (DaemonSets)
 * still land there, and users read Kubernetes' own message:
 * "node(s) had untolerated taint {node.kubernetes.io/not-ready: }".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "scheduler/sched_core.h"

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void sc_node_clear_spec(struct sc_node *n)
{
    cJSON_Delete(n->labels);
    n->labels = NULL;
    for (size_t i = 0; i < n->ntaints; i++) {
        free(n->taints[i].key);
        free(n->taints[i].value);
        free(n->taints[i].effect);
    }
    free(n->taints);
    n->taints = NULL;
    n->ntaints = 0;
}

static int add_taint(struct sc_node *n, const char *key, const char *value, const char *effect)
{
    struct sc_taint *v = realloc(n->taints, (n->ntaints + 1) * sizeof(*v));
    if (!v) return -1;
    n->taints = v;
    struct sc_taint *t = &v[n->ntaints];
    t->key = strdup(key ? key : "");
    t->value = strdup(value ? value : "");
    t->effect = strdup(effect ? effect : "");
    n->ntaints++;
    return t->key && t->value && t->effect ? 0 : -1;
}

static bool has_taint_key(const struct sc_node *n, const char *key)
{
    for (size_t i = 0; i < n->ntaints; i++)
        if (!strcmp(n->taints[i].key, key)) return true;
    return false;
}

/* allocatable[name], else capacity[name]; *out untouched when neither. */
static int quantity(const cJSON *status, const char *name, bool milli, int64_t *out, char *err,
                    size_t errlen)
{
    const cJSON *v = get(get(status, "allocatable"), name);
    if (!v) v = get(get(status, "capacity"), name);
    if (!v) return 0;
    api_quantity_t q;
    char qerr[128];
    if (api_quantity_from_json(v, &q, qerr, sizeof(qerr)) < 0) {
        snprintf(err, errlen, "allocatable %s: %s", name, qerr);
        return -1;
    }
    *out = milli ? api_quantity_milli(&q) : api_quantity_value(&q);
    return 0;
}

static const char *ready_status(const cJSON *status)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, get(status, "conditions"))
    {
        const char *t = str(c, "type");
        if (t && !strcmp(t, "Ready")) return str(c, "status");
    }
    return NULL;
}

int sc_node_parse(const cJSON *node, struct sc_node *n, char *err, size_t errlen)
{
    const cJSON *spec = get(node, "spec"), *status = get(node, "status");
    sc_node_clear_spec(n);
    n->alloc = (struct sc_res){0};
    n->alloc_pods = 0;
    if (quantity(status, "cpu", true, &n->alloc.cpu, err, errlen) < 0 ||
        quantity(status, "memory", false, &n->alloc.mem, err, errlen) < 0 ||
        quantity(status, "pods", false, &n->alloc_pods, err, errlen) < 0)
        return -1;
    n->unschedulable = cJSON_IsTrue(get(spec, "unschedulable"));
    const cJSON *labels = api_meta_labels(node);
    if (labels && !(n->labels = cJSON_Duplicate(labels, true))) goto oom;
    const cJSON *t;
    cJSON_ArrayForEach(t, get(spec, "taints"))
    {
        if (add_taint(n, str(t, "key"), str(t, "value"), str(t, "effect")) < 0) goto oom;
    }
    const char *ready = ready_status(status);
    const char *synth = !ready || !strcmp(ready, "False") ? SC_TAINT_NOT_READY
                        : strcmp(ready, "True")           ? SC_TAINT_UNREACHABLE
                                                          : NULL;
    if (synth && !has_taint_key(n, synth) && add_taint(n, synth, "", "NoSchedule") < 0) goto oom;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    sc_node_clear_spec(n);
    return -1;
}

/* ----------------------------------------------------------------- trim */

static bool keep_resources(cJSON *dst, const cJSON *src, const char *name)
{
    const cJSON *list = get(src, name);
    if (!list) return true;
    cJSON *out = cJSON_AddObjectToObject(dst, name);
    if (!out) return false;
    static const char *const keep[] = {"cpu", "memory", "pods"};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *v = get(list, keep[i]);
        if (v) {
            cJSON *d = cJSON_Duplicate(v, true);
            if (!d) return false;
            cJSON_AddItemToObject(out, keep[i], d);
        }
    }
    return true;
}

cJSON *sc_node_trim(const cJSON *full)
{
    static const char *const keep[] = {"metadata.name", "metadata.labels", "spec.unschedulable",
                                       "spec.taints"};
    cJSON *o = api_json_keep(full, keep, sizeof(keep) / sizeof(keep[0]));
    if (!o) return NULL;
    const cJSON *status = get(full, "status");
    cJSON *st = cJSON_AddObjectToObject(o, "status");
    bool ok =
        st && keep_resources(st, status, "allocatable") && keep_resources(st, status, "capacity");
    /* Only Ready's status: its heartbeat times change every few seconds
     * and must not look like a change to the scheduler. */
    const char *ready = ready_status(status);
    if (ok && ready) {
        cJSON *conds = cJSON_AddArrayToObject(st, "conditions");
        cJSON *c = conds ? cJSON_CreateObject() : NULL;
        ok = c && cJSON_AddItemToArray(conds, c) && cJSON_AddStringToObject(c, "type", "Ready") &&
             cJSON_AddStringToObject(c, "status", ready);
    }
    if (ok) return o;
    cJSON_Delete(o);
    return NULL;
}
