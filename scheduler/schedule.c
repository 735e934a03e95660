/*
 * schedule.c - one scheduling decision: every filter on every node (in
 * Kubernetes' plugin order, stopping at a node's first failing plugin, so
 * the reasons counted are the ones kube-scheduler would count), a score for
 * each node left, the pick, and the FitError message when there is none.
 *
 * The pick orders nodes by (replicas of the pod's controller already there,
 * fewest first; MostAllocated score, highest first; name). Spreading comes
 * first on purpose: a user who scales a web server to two replicas wants
 * them on two Pis whenever two Pis have room, and bin-packing decides only
 * among nodes that are equal for spreading. A pod without a controller sees
 * no spreading at all and is placed by bin-packing alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lib.h"
#include "scheduler/sched_core.h"

/* Per-node debug lines only for small clusters: past that they would be
 * thousands of lines per pod even at debug level. */
#define LOG_NODES_MAX 64

struct reasons {
    struct sc_reason_count *v;
    size_t n, cap;
    bool oom;
};

static void reason_add(struct reasons *r, const char *why)
{
    for (size_t i = 0; i < r->n; i++) {
        if (!strcmp(r->v[i].reason, why)) {
            r->v[i].count++;
            return;
        }
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        struct sc_reason_count *v = realloc(r->v, cap * sizeof(*v));
        if (!v) {
            r->oom = true;
            return;
        }
        r->v = v;
        r->cap = cap;
    }
    char *s = strdup(why);
    if (!s) {
        r->oom = true;
        return;
    }
    r->v[r->n++] = (struct sc_reason_count){.reason = s, .count = 1};
}

static void reasons_free(struct reasons *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].reason);
    free(r->v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *sc_fit_message(size_t total, const struct sc_reason_count *rc, size_t n)
{
    char **parts = calloc(n ? n : 1, sizeof(*parts));
    if (!parts) return NULL;
    size_t len = 64;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        size_t l = strlen(rc[i].reason) + 16;
        parts[i] = malloc(l);
        ok = parts[i] != NULL;
        if (ok) snprintf(parts[i], l, "%d %s", rc[i].count, rc[i].reason);
        len += l + 2;
    }
    char *out = ok ? malloc(len) : NULL;
    if (out) {
        /* Go's sort.Strings on "<count> <reason>": bytewise, so "10 x"
         * sorts before "2 y", exactly as kube-scheduler prints it. */
        qsort(parts, n, sizeof(*parts), cmp_str);
        size_t k = (size_t)snprintf(out, len, "0/%zu nodes are available:", total);
        for (size_t i = 0; i < n; i++)
            k += (size_t)snprintf(out + k, len - k, "%s%s", i ? ", " : " ", parts[i]);
        if (n) snprintf(out + k, len - k, ".");
    }
    for (size_t i = 0; i < n; i++)
        free(parts[i]);
    free(parts);
    return out;
}

/* The reasons node n refuses p for, into why[] (at most 3); 0 when it
 * passes every filter. */
static int node_reasons(const struct sc_pod *p, const struct sc_node *n, const char **why,
                        char *tbuf, size_t tlen)
{
    if (!sc_filter_unschedulable(p, n)) {
        why[0] = SC_MSG_UNSCHEDULABLE;
        return 1;
    }
    const struct sc_taint *t = sc_filter_taints(p, n);
    if (t) {
        snprintf(tbuf, tlen, "node(s) had untolerated taint {%s: %s}", t->key, t->value);
        why[0] = tbuf;
        return 1;
    }
    if (!sc_filter_affinity(p, n)) {
        why[0] = SC_MSG_AFFINITY;
        return 1;
    }
    if (!sc_filter_ports(p, n)) {
        why[0] = SC_MSG_PORTS;
        return 1;
    }
    unsigned fit = sc_filter_resources(p, n);
    int k = 0;
    /* NodeResourcesFit's order: pods, cpu, memory. */
    if (fit & SC_FIT_PODS) why[k++] = SC_MSG_TOO_MANY_PODS;
    if (fit & SC_FIT_CPU) why[k++] = SC_MSG_INSUFFICIENT_CPU;
    if (fit & SC_FIT_MEMORY) why[k++] = SC_MSG_INSUFFICIENT_MEMORY;
    return k;
}

static bool better(const struct sc_node *n, int32_t cnt, int score, const struct sc_result *best)
{
    if (!best->node) return true;
    if (cnt != best->same_owner) return cnt < best->same_owner;
    if (score != best->score) return score > best->score;
    return strcmp(n->name, best->node->name) < 0;
}

int sc_schedule(sc_cache_t *c, const struct sc_pod *p, struct sc_result *out,
                const char *log_component)
{
    *out = (struct sc_result){0};
    size_t nn;
    struct sc_node *const *nodes = sc_cache_nodes(c, &nn);
    bool dbg = log_component && log_get_level() <= PKLOG_DEBUG;
    if (nn == 0) {
        out->message = strdup(SC_MSG_NO_NODES);
        if (dbg) log_debug(log_component, "pod %s/%s: %s", p->ns, p->name, SC_MSG_NO_NODES);
        return out->message ? 0 : -1;
    }
    int32_t *counts = NULL;
    if (p->owner) {
        counts = calloc(sc_cache_slots(c), sizeof(*counts));
        if (!counts) return -1;
        sc_cache_owner_counts(c, p->owner, counts);
    }
    struct reasons rs = {0};
    bool per_node = dbg && nn <= LOG_NODES_MAX;
    for (size_t i = 0; i < nn; i++) {
        const struct sc_node *n = nodes[i];
        const char *why[3];
        char tbuf[600];
        int k = node_reasons(p, n, why, tbuf, sizeof(tbuf));
        if (k) {
            for (int j = 0; j < k; j++)
                reason_add(&rs, why[j]);
            if (per_node)
                log_debug(log_component, "pod %s/%s: node %s filtered out: %s%s%s", p->ns, p->name,
                          n->name, why[0], k > 1 ? ", " : "", k > 1 ? why[1] : "");
            continue;
        }
        out->feasible++;
        int score = sc_score_most_allocated(p, n);
        int32_t cnt = counts ? counts[n->slot] : 0;
        if (per_node)
            log_debug(log_component,
                      "pod %s/%s: node %s fits: most-allocated score %d, %d replica(s) of the "
                      "same owner there",
                      p->ns, p->name, n->name, score, cnt);
        if (better(n, cnt, score, out)) {
            out->node = (struct sc_node *)n;
            out->score = score;
            out->same_owner = cnt;
        }
    }
    free(counts);
    if (rs.oom) {
        reasons_free(&rs);
        out->node = NULL;
        return -1;
    }
    if (!out->node) {
        out->message = sc_fit_message(nn, rs.v, rs.n);
        reasons_free(&rs);
        if (!out->message) return -1;
        if (dbg) log_debug(log_component, "pod %s/%s: %s", p->ns, p->name, out->message);
        return 0;
    }
    reasons_free(&rs);
    if (dbg)
        log_debug(log_component,
                  "pod %s/%s: %zu/%zu nodes fit; picked %s (most-allocated score %d, %d "
                  "replica(s) of the same owner there; spreading first, then bin-packing, then "
                  "name)",
                  p->ns, p->name, out->feasible, nn, out->node->name, out->score, out->same_owner);
    return 0;
}

void sc_result_clear(struct sc_result *r)
{
    free(r->message);
    *r = (struct sc_result){0};
}
