/*
 * cache.c - the scheduler's picture of the cluster: nodes, the pods placed
 * on them (by the API, or assumed by the scheduler while its binding is on
 * the way) and, per controller owner, how many of its pods each node has.
 *
 * Per-node sums (requests, non-zero requests, pod count, host ports) are
 * kept up to date on every placement and removal, so a filter is a few
 * comparisons, not a walk over the node's pods. A pod may name a node the
 * cache has not seen (the node informer lags the pod one): the node then
 * exists as a placeholder (present false) that only carries the sums, and
 * gets its Node fields when the Node arrives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/sched_core.h"
#include "scheduler/strmap.h"

/* One owner's pods on one node. */
struct owner_slot {
    size_t slot;
    int32_t count;
};

struct owner {
    char *uid;
    size_t npods;
    struct owner_slot *v;
    size_t n, cap;
};

struct cpod {
    struct sc_node *node;
    struct owner *owner;
    struct sc_res req, nz;
    struct sc_port *ports;
    size_t nports;
    bool assumed;
};

struct sc_cache {
    struct strmap nodes, pods, owners;
    struct sc_node **slots; /* by slot; NULL entries are free */
    size_t nslots;
    struct sc_node **present; /* nodes with a Node object */
    size_t npresent;
    bool present_dirty;
};

sc_cache_t *sc_cache_new(void)
{
    return calloc(1, sizeof(sc_cache_t));
}

static void node_free(struct sc_node *n)
{
    sc_node_clear_spec(n);
    for (size_t i = 0; i < n->nused; i++)
        free(n->used_ports[i].ip);
    free(n->used_ports);
    free(n->name);
    free(n);
}

static void cpod_free(struct cpod *p)
{
    for (size_t i = 0; i < p->nports; i++)
        free(p->ports[i].ip);
    free(p->ports);
    free(p);
}

void sc_cache_free(sc_cache_t *c)
{
    if (!c) return;
    size_t it = 0;
    struct strmap_entry *e = NULL;
    while ((e = strmap_next(&c->pods, &it, e)))
        cpod_free(e->val);
    it = 0;
    e = NULL;
    while ((e = strmap_next(&c->owners, &it, e))) {
        struct owner *o = e->val;
        free(o->uid);
        free(o->v);
        free(o);
    }
    for (size_t i = 0; i < c->nslots; i++)
        if (c->slots[i]) node_free(c->slots[i]);
    strmap_free(&c->nodes);
    strmap_free(&c->pods);
    strmap_free(&c->owners);
    free(c->slots);
    free(c->present);
    free(c);
}

/* ------------------------------------------------------------------ nodes */

static struct sc_node *node_get_or_add(sc_cache_t *c, const char *name)
{
    struct sc_node *n = strmap_get(&c->nodes, name);
    if (n) return n;
    size_t slot = 0;
    while (slot < c->nslots && c->slots[slot])
        slot++;
    if (slot == c->nslots) {
        size_t ns = c->nslots ? c->nslots * 2 : 16;
        struct sc_node **v = realloc(c->slots, ns * sizeof(*v));
        if (!v) return NULL;
        memset(v + c->nslots, 0, (ns - c->nslots) * sizeof(*v));
        c->slots = v;
        c->nslots = ns;
    }
    n = calloc(1, sizeof(*n));
    if (!n || !(n->name = strdup(name)) || strmap_put(&c->nodes, name, n, NULL) < 0) {
        if (n) free(n->name);
        free(n);
        return NULL;
    }
    n->slot = slot;
    c->slots[slot] = n;
    return n;
}

static void node_drop(sc_cache_t *c, struct sc_node *n)
{
    strmap_del(&c->nodes, n->name);
    c->slots[n->slot] = NULL;
    node_free(n);
}

/* Whether the Node-derived fields of a and b differ. */
static bool spec_differs(const struct sc_node *a, const struct sc_node *b)
{
    if (a->present != b->present || a->unschedulable != b->unschedulable ||
        a->alloc.cpu != b->alloc.cpu || a->alloc.mem != b->alloc.mem ||
        a->alloc_pods != b->alloc_pods || a->ntaints != b->ntaints)
        return true;
    if (!cJSON_Compare(a->labels, b->labels, true) && (a->labels || b->labels)) return true;
    for (size_t i = 0; i < a->ntaints; i++)
        if (strcmp(a->taints[i].key, b->taints[i].key) ||
            strcmp(a->taints[i].value, b->taints[i].value) ||
            strcmp(a->taints[i].effect, b->taints[i].effect))
            return true;
    return false;
}

int sc_cache_set_node(sc_cache_t *c, const cJSON *node, char *err, size_t errlen)
{
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(node, "metadata"), "name"));
    if (!name || !*name) {
        snprintf(err, errlen, "a Node without metadata.name");
        return -1;
    }
    struct sc_node parsed = {.name = (char *)name};
    if (sc_node_parse(node, &parsed, err, errlen) < 0) return -1;
    parsed.present = true;
    struct sc_node *n = node_get_or_add(c, name);
    if (!n) {
        sc_node_clear_spec(&parsed);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    bool changed = spec_differs(n, &parsed);
    if (!n->present) c->present_dirty = true;
    sc_node_clear_spec(n);
    n->present = true;
    n->unschedulable = parsed.unschedulable;
    n->alloc = parsed.alloc;
    n->alloc_pods = parsed.alloc_pods;
    n->labels = parsed.labels;
    n->taints = parsed.taints;
    n->ntaints = parsed.ntaints;
    return changed ? 1 : 0;
}

int sc_cache_del_node(sc_cache_t *c, const char *name)
{
    struct sc_node *n = strmap_get(&c->nodes, name);
    if (!n || !n->present) return 0;
    c->present_dirty = true;
    if (n->npods == 0) {
        node_drop(c, n);
        return 1;
    }
    /* Its pods still hold their requests until they are deleted too. */
    sc_node_clear_spec(n);
    n->present = false;
    return 1;
}

struct sc_node *sc_cache_node(const sc_cache_t *c, const char *name)
{
    return strmap_get(&c->nodes, name);
}

struct sc_node *const *sc_cache_nodes(const sc_cache_t *c, size_t *n)
{
    sc_cache_t *m = (sc_cache_t *)c; /* the list is a lazily rebuilt view */
    if (m->present_dirty) {
        size_t k = 0;
        struct sc_node **v = realloc(m->present, (m->nslots ? m->nslots : 1) * sizeof(*v));
        if (!v) {
            *n = m->npresent;
            return m->present;
        }
        for (size_t i = 0; i < m->nslots; i++)
            if (m->slots[i] && m->slots[i]->present) v[k++] = m->slots[i];
        m->present = v;
        m->npresent = k;
        m->present_dirty = false;
    }
    *n = m->npresent;
    return m->present;
}

size_t sc_cache_slots(const sc_cache_t *c)
{
    return c->nslots;
}

/* ------------------------------------------------------------------- pods */

static struct owner *owner_ref(sc_cache_t *c, const char *uid)
{
    struct owner *o = strmap_get(&c->owners, uid);
    if (o) return o;
    o = calloc(1, sizeof(*o));
    if (!o || !(o->uid = strdup(uid)) || strmap_put(&c->owners, uid, o, NULL) < 0) {
        if (o) free(o->uid);
        free(o);
        return NULL;
    }
    return o;
}

static int owner_add(struct owner *o, size_t slot, int32_t delta)
{
    size_t i = 0;
    while (i < o->n && o->v[i].slot != slot)
        i++;
    if (i == o->n) {
        if (delta < 0) return 0;
        if (o->n == o->cap) {
            size_t cap = o->cap ? o->cap * 2 : 4;
            struct owner_slot *v = realloc(o->v, cap * sizeof(*v));
            if (!v) return -1;
            o->v = v;
            o->cap = cap;
        }
        o->v[o->n++] = (struct owner_slot){.slot = slot};
    }
    o->v[i].count += delta;
    if (o->v[i].count <= 0) o->v[i] = o->v[--o->n];
    return 0;
}

static void owner_unref(sc_cache_t *c, struct owner *o)
{
    if (--o->npods > 0) return;
    strmap_del(&c->owners, o->uid);
    free(o->uid);
    free(o->v);
    free(o);
}

/* All or nothing, so that a failure leaves the node's ports as they were. */
static int node_add_ports(struct sc_node *n, const struct sc_port *ports, size_t np)
{
    if (n->nused + np > n->capused) {
        size_t cap = (n->nused + np) * 2;
        struct sc_port *v = realloc(n->used_ports, cap * sizeof(*v));
        if (!v) return -1;
        n->used_ports = v;
        n->capused = cap;
    }
    for (size_t i = 0; i < np; i++) {
        struct sc_port *u = &n->used_ports[n->nused + i];
        *u = ports[i];
        u->ip = ports[i].ip ? strdup(ports[i].ip) : NULL;
        if (ports[i].ip && !u->ip) {
            while (i-- > 0)
                free(n->used_ports[n->nused + i].ip);
            return -1;
        }
    }
    n->nused += np;
    return 0;
}

/* Removes one use of each of the pod's ports (several pods may hold the
 * same port on different addresses, or the same one after a conflict the
 * API let through). */
static void node_del_ports(struct sc_node *n, const struct sc_port *ports, size_t np)
{
    for (size_t i = 0; i < np; i++) {
        for (size_t j = 0; j < n->nused; j++) {
            struct sc_port *u = &n->used_ports[j];
            bool same_ip =
                (!u->ip && !ports[i].ip) || (u->ip && ports[i].ip && !strcmp(u->ip, ports[i].ip));
            if (u->port == ports[i].port && u->proto == ports[i].proto && same_ip) {
                free(u->ip);
                *u = n->used_ports[--n->nused];
                break;
            }
        }
    }
}

static void unplace(sc_cache_t *c, struct cpod *p)
{
    struct sc_node *n = p->node;
    n->requested.cpu -= p->req.cpu;
    n->requested.mem -= p->req.mem;
    n->nz_requested.cpu -= p->nz.cpu;
    n->nz_requested.mem -= p->nz.mem;
    n->npods--;
    node_del_ports(n, p->ports, p->nports);
    if (p->owner) {
        owner_add(p->owner, n->slot, -1);
        owner_unref(c, p->owner);
    }
    if (!n->present && n->npods == 0) node_drop(c, n);
}

int sc_cache_del_pod(sc_cache_t *c, const char *key)
{
    struct cpod *p = strmap_del(&c->pods, key);
    if (!p) return 0;
    unplace(c, p);
    cpod_free(p);
    return 1;
}

int sc_cache_add_pod(sc_cache_t *c, const char *key, const struct sc_pod *pod, const char *node,
                     bool assumed)
{
    sc_cache_del_pod(c, key);
    struct cpod *p = calloc(1, sizeof(*p));
    if (!p) return -1;
    p->req = pod->req;
    p->nz = pod->nz;
    p->assumed = assumed;
    if (pod->nports) {
        p->ports = calloc(pod->nports, sizeof(*p->ports));
        if (!p->ports) goto fail;
        for (; p->nports < pod->nports; p->nports++) {
            const struct sc_port *src = &pod->ports[p->nports];
            p->ports[p->nports] = *src;
            p->ports[p->nports].ip = src->ip ? strdup(src->ip) : NULL;
            if (src->ip && !p->ports[p->nports].ip) goto fail;
        }
    }
    struct sc_node *n = node_get_or_add(c, node);
    if (!n) goto fail;
    p->node = n;
    if (pod->owner && *pod->owner) {
        struct owner *o = owner_ref(c, pod->owner);
        if (!o) goto fail_node;
        o->npods++;
        if (owner_add(o, n->slot, 1) < 0) {
            owner_unref(c, o);
            goto fail_node;
        }
        p->owner = o;
    }
    if (node_add_ports(n, p->ports, p->nports) < 0) goto fail_owner;
    if (strmap_put(&c->pods, key, p, NULL) < 0) {
        node_del_ports(n, p->ports, p->nports);
        goto fail_owner;
    }
    n->npods++;
    n->requested.cpu += p->req.cpu;
    n->requested.mem += p->req.mem;
    n->nz_requested.cpu += p->nz.cpu;
    n->nz_requested.mem += p->nz.mem;
    return 0;
fail_owner:
    if (p->owner) {
        owner_add(p->owner, n->slot, -1);
        owner_unref(c, p->owner);
    }
fail_node:
    if (!n->present && n->npods == 0) node_drop(c, n);
fail:
    cpod_free(p);
    return -1;
}

const char *sc_cache_pod_node(const sc_cache_t *c, const char *key, bool *assumed)
{
    struct cpod *p = strmap_get(&c->pods, key);
    if (assumed) *assumed = p && p->assumed;
    return p ? p->node->name : NULL;
}

size_t sc_cache_pod_count(const sc_cache_t *c)
{
    return c->pods.n;
}

void sc_cache_owner_counts(const sc_cache_t *c, const char *owner, int32_t *counts)
{
    struct owner *o = owner ? strmap_get(&c->owners, owner) : NULL;
    if (!o) return;
    for (size_t i = 0; i < o->n; i++)
        counts[o->v[i].slot] += o->v[i].count;
}
