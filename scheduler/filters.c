/*
 * filters.c - whether a pod may go on a node, one function per Kubernetes
 * filter plugin with that plugin's rules (NodeUnschedulable,
 * TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit), and the
 * MostAllocated score. Pure functions of an sc_pod and an sc_node.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

static bool empty(const char *s)
{
    return !s || !*s;
}

/* ----------------------------------------------------------------- taints */

/* v1.Toleration.ToleratesTaint: an empty effect matches every effect, an
 * empty key (with Exists) every key; Exists ignores the value, Equal (or
 * no operator) wants the same value. */
static bool toleration_matches(const struct sc_toleration *t, const char *key, const char *value,
                               const char *effect)
{
    if (*t->effect && strcmp(t->effect, effect)) return false;
    if (*t->key && strcmp(t->key, key)) return false;
    if (!*t->op || !strcmp(t->op, "Equal")) return !strcmp(t->value, value);
    return !strcmp(t->op, "Exists");
}

bool sc_tolerates(const struct sc_pod *p, const char *key, const char *value, const char *effect)
{
    for (size_t i = 0; i < p->ntols; i++)
        if (toleration_matches(&p->tols[i], key, value, effect)) return true;
    return false;
}

bool sc_filter_unschedulable(const struct sc_pod *p, const struct sc_node *n)
{
    return !n->unschedulable || sc_tolerates(p, SC_TAINT_UNSCHEDULABLE, "", "NoSchedule");
}

const struct sc_taint *sc_filter_taints(const struct sc_pod *p, const struct sc_node *n)
{
    for (size_t i = 0; i < n->ntaints; i++) {
        const struct sc_taint *t = &n->taints[i];
        /* PreferNoSchedule is a preference, never a reason to refuse. */
        if (strcmp(t->effect, "NoSchedule") && strcmp(t->effect, "NoExecute")) continue;
        if (!sc_tolerates(p, t->key, t->value, t->effect)) return t;
    }
    return NULL;
}

/* --------------------------------------------------------------- affinity */

static bool parse_int64(const char *s, long long *out)
{
    if (empty(s)) return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

static bool in_values(const cJSON *values, const char *v)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, values) if (cJSON_IsString(x) && !strcmp(x->valuestring, v)) return true;
    return false;
}

/* One NodeSelectorRequirement against a value (NULL: the label is absent).
 * A malformed requirement matches nothing, as Kubernetes drops the term. */
static bool requirement_matches(const cJSON *req, const char *have)
{
    const char *op = str(req, "operator");
    const cJSON *values = get(req, "values");
    if (!op) return false;
    if (!strcmp(op, "In")) return have && in_values(values, have);
    if (!strcmp(op, "NotIn")) return !have || !in_values(values, have);
    if (!strcmp(op, "Exists")) return have != NULL;
    if (!strcmp(op, "DoesNotExist")) return have == NULL;
    if (!strcmp(op, "Gt") || !strcmp(op, "Lt")) {
        long long want, got;
        if (cJSON_GetArraySize(values) != 1 ||
            !parse_int64(cJSON_GetStringValue(cJSON_GetArrayItem(values, 0)), &want) ||
            !parse_int64(have, &got))
            return false;
        return op[0] == 'G' ? got > want : got < want;
    }
    return false;
}

static const char *label(const struct sc_node *n, const char *key)
{
    return key ? cJSON_GetStringValue(get(n->labels, key)) : NULL;
}

/* A term: its matchExpressions (labels) and matchFields (only
 * metadata.name exists) all hold. A term with neither matches nothing. */
static bool term_matches(const cJSON *term, const struct sc_node *n)
{
    const cJSON *exprs = get(term, "matchExpressions"), *fields = get(term, "matchFields"), *r;
    if (cJSON_GetArraySize(exprs) == 0 && cJSON_GetArraySize(fields) == 0) return false;
    cJSON_ArrayForEach(r, exprs) if (!requirement_matches(r, label(n, str(r, "key")))) return false;
    cJSON_ArrayForEach(r, fields)
    {
        const char *k = str(r, "key");
        if (!k || strcmp(k, "metadata.name")) return false;
        if (!requirement_matches(r, n->name)) return false;
    }
    return true;
}

bool sc_node_selector_matches(const cJSON *selector, const struct sc_node *n)
{
    const cJSON *term;
    cJSON_ArrayForEach(term,
                       get(selector, "nodeSelectorTerms")) if (term_matches(term, n)) return true;
    return false;
}

bool sc_filter_affinity(const struct sc_pod *p, const struct sc_node *n)
{
    const cJSON *kv;
    cJSON_ArrayForEach(kv, p->node_selector)
    {
        const char *have = label(n, kv->string);
        if (!have || !cJSON_IsString(kv) || strcmp(have, kv->valuestring)) return false;
    }
    return !p->affinity || cJSON_IsNull(p->affinity) || sc_node_selector_matches(p->affinity, n);
}

/* ------------------------------------------------------------------ ports */

/* Kubernetes' HostPortInfo.CheckConflict: the same protocol and port
 * clash when either side listens on every address or both on the same. */
static bool ports_clash(const struct sc_port *a, const struct sc_port *b)
{
    if (a->port != b->port || a->proto != b->proto) return false;
    return !a->ip || !b->ip || !strcmp(a->ip, b->ip);
}

bool sc_filter_ports(const struct sc_pod *p, const struct sc_node *n)
{
    for (size_t i = 0; i < p->nports; i++)
        for (size_t j = 0; j < n->nused; j++)
            if (ports_clash(&p->ports[i], &n->used_ports[j])) return false;
    return true;
}

/* -------------------------------------------------------------- resources */

unsigned sc_filter_resources(const struct sc_pod *p, const struct sc_node *n)
{
    unsigned r = 0;
    if (n->npods + 1 > n->alloc_pods) r |= SC_FIT_PODS;
    if (p->req.cpu > 0 && p->req.cpu > n->alloc.cpu - n->requested.cpu) r |= SC_FIT_CPU;
    if (p->req.mem > 0 && p->req.mem > n->alloc.mem - n->requested.mem) r |= SC_FIT_MEMORY;
    return r;
}

/* ----------------------------------------------------------------- scores */

static int64_t most_requested(int64_t requested, int64_t capacity)
{
    if (requested > capacity) requested = capacity;
    return requested * SC_MAX_SCORE / capacity;
}

/* A resource the node does not have at all is left out of the average, as
 * Kubernetes' resource allocation scorer does. */
int sc_score_most_allocated(const struct sc_pod *p, const struct sc_node *n)
{
    int64_t sum = 0, weights = 0;
    if (n->alloc.cpu > 0) {
        sum += most_requested(n->nz_requested.cpu + p->nz.cpu, n->alloc.cpu);
        weights++;
    }
    if (n->alloc.mem > 0) {
        sum += most_requested(n->nz_requested.mem + p->nz.mem, n->alloc.mem);
        weights++;
    }
    return weights ? (int)(sum / weights) : 0;
}
