/*
 * nodelifecycle.c - the node lifecycle loop: notices nodes that stopped
 * sending heartbeats, marks them Ready=Unknown, taints them, marks their
 * pods not ready (so Endpoints drop them at once) and evicts pods that do
 * not tolerate the taint, so their controllers recreate them elsewhere.
 *
 * A heartbeat is a change of the node's Lease renewTime (kube-node-lease)
 * or of its Ready condition's lastHeartbeatTime, seen by this process: the
 * time of the change is our own monotonic clock, never the timestamps the
 * node wrote (a Pi without RTC may be minutes off). Every node starts with
 * a fresh grace period when this controller becomes leader, as Kubernetes
 * does after a restart: the previous leader's view is not trusted.
 *
 * The check runs on a timer (node_monitor_ms). Writes are at most one in
 * flight per node and per pod; a failed write is simply tried again by the
 * next tick, since every decision is recomputed from the cache.
 */
#include <stdlib.h>
#include <string.h>

#include "controller/ctrl_int.h"

struct nstate {
    struct nl_track t;
    bool busy_status, busy_taints; /* a write in flight */
};

struct nodelc {
    ctrl_sess_t *s;
    uv_timer_t *timer;
    ctrl_map_t nodes;    /* name -> struct nstate */
    ctrl_map_t inflight; /* pod keys with a write in flight */
    metrics_counter_t *evicted;
};

static void st_free(void *v)
{
    struct nstate *st = v;
    if (!st) return;
    nl_track_free(&st->t);
    free(st);
}

static struct nstate *state(nodelc_t *n, const char *name)
{
    struct nstate *st = cm_get(&n->nodes, name);
    if (!st) {
        st = cx_calloc(1, sizeof(*st));
        nl_track_init(&st->t, n->s->now_mono()); /* a fresh grace period */
        cm_put(&n->nodes, name, st);
    }
    return st;
}

static void node_seen(nodelc_t *n, const cJSON *node, bool first)
{
    const char *name = api_meta_name(node);
    if (!name) return;
    struct nstate *st = state(n, name);
    nl_track_heartbeat(&st->t, cj_str(cx_condition(node, "Ready"), "lastHeartbeatTime"), first,
                       n->s->now_mono());
}

static void on_node_add(const cJSON *node, void *data)
{
    node_seen(data, node, true);
}

static void on_node_update(const cJSON *old, const cJSON *cur, void *data)
{
    (void)old;
    node_seen(data, cur, false);
}

static void on_node_delete(const cJSON *node, void *data)
{
    nodelc_t *n = data;
    const char *name = api_meta_name(node);
    if (name) st_free(cm_del(&n->nodes, name));
}

static void lease_seen(nodelc_t *n, const cJSON *lease, bool first)
{
    const char *name = api_meta_name(lease);
    if (!name) return;
    struct nstate *st = state(n, name);
    nl_track_lease(&st->t, cj_str(lease, "spec.renewTime"), first, n->s->now_mono());
}

static void on_lease_add(const cJSON *lease, void *data)
{
    lease_seen(data, lease, true);
}

static void on_lease_update(const cJSON *old, const cJSON *cur, void *data)
{
    (void)old;
    lease_seen(data, cur, false);
}

/* ----------------------------------------------------------------- writes */

struct nwrite {
    nodelc_t *n;
    char *node;    /* set for node writes */
    char *pod_key; /* set for pod writes */
    bool taints;
};

static void write_done(int failures, const char *err, void *data)
{
    struct nwrite *w = data;
    nodelc_t *n = w->n;
    if (!n->s->stopping) {
        if (w->node) {
            struct nstate *st = cm_get(&n->nodes, w->node);
            if (st && w->taints)
                st->busy_taints = false;
            else if (st)
                st->busy_status = false;
        }
        if (w->pod_key) cm_del(&n->inflight, w->pod_key);
        if (failures) log_info(CTRL_COMP, "node lifecycle: %s", err);
    }
    free(w->node);
    free(w->pod_key);
    free(w);
}

static void send_node(nodelc_t *n, const char *name, const char *sub, const cJSON *patch,
                      enum api_patch_type type, bool taints)
{
    struct nwrite *w = cx_calloc(1, sizeof(*w));
    w->n = n;
    w->node = cx_strdup(name);
    w->taints = taints;
    ctrl_batch_t *b = ctrl_batch_new(n->s, write_done, w);
    api_ref_t ref = ctrl_ref(CR_NODES, NULL, name, sub);
    ctrl_batch_patch(b, &ref, type, patch, NULL, NULL);
    ctrl_batch_seal(b);
}

static void mark_pod_not_ready(nodelc_t *n, const cJSON *pod, const char *key, uint64_t wall)
{
    const cJSON *ready = cx_condition(pod, "Ready");
    if (ready && !strcmp(cj_str0(ready, "status"), "False")) return;
    if (cm_has(&n->inflight, key)) return;
    char ts[40];
    cx_time_fmt(wall, ts, sizeof ts);
    cJSON *c = cj_new_obj();
    cj_set_str(c, "type", "Ready");
    cj_set_str(c, "status", "False");
    cj_set_str(c, "lastTransitionTime", ts);
    cJSON *arr = cj_new_arr();
    cj_push(arr, c);
    cJSON *patch = cj_new_obj();
    cj_set(cj_obj(patch, "status"), "conditions", arr);
    struct nwrite *w = cx_calloc(1, sizeof(*w));
    w->n = n;
    w->pod_key = cx_strdup(key);
    cm_put(&n->inflight, key, NULL);
    ctrl_batch_t *b = ctrl_batch_new(n->s, write_done, w);
    api_ref_t ref = ctrl_ref(CR_PODS, api_meta_namespace(pod), api_meta_name(pod), "status");
    ctrl_batch_patch(b, &ref, API_PATCH_STRATEGIC, patch, NULL, NULL);
    ctrl_batch_seal(b);
    cJSON_Delete(patch);
}

static void evict(nodelc_t *n, const cJSON *pod, const char *key, const char *node)
{
    if (cm_has(&n->inflight, key)) return;
    log_info(CTRL_COMP, "node %s: evicting pod %s", node, key);
    struct nwrite *w = cx_calloc(1, sizeof(*w));
    w->n = n;
    w->pod_key = cx_strdup(key);
    cm_put(&n->inflight, key, NULL);
    metrics_counter_add(n->evicted, 1);
    ctrl_batch_t *b = ctrl_batch_new(n->s, write_done, w);
    api_ref_t ref = ctrl_ref(CR_PODS, api_meta_namespace(pod), api_meta_name(pod), NULL);
    /* Grace 0: the node cannot confirm a graceful deletion. */
    ctrl_batch_delete(b, &ref, api_meta_uid(pod), NULL, 0, NULL, NULL);
    ctrl_batch_seal(b);
}

/* ----------------------------------------------------------------- monitor */

struct tick_arg {
    nodelc_t *n;
    uint64_t now, wall;
};

static void handle_pods(nodelc_t *n, const cJSON *node, struct nstate *st, bool stale, uint64_t now,
                        uint64_t wall)
{
    const char *name = api_meta_name(node);
    size_t np;
    const cJSON **pods = ctrl_pods_of(n->s, cm_set_get(&n->s->pods_by_node, name), &np);
    const cJSON *taints = cj_get(node, "spec.taints");
    for (size_t i = 0; i < np; i++) {
        char *key = api_object_key(pods[i]);
        if (!key) continue;
        if (nl_evict_now(&st->t, pods[i], taints, now, n->s->cfg->eviction_timeout_ms))
            evict(n, pods[i], key, name);
        else if (stale && !cx_pod_terminal(pods[i]))
            mark_pod_not_ready(n, pods[i], key, wall);
        free(key);
    }
    free(pods);
}

static bool check_node(const char *key, const cJSON *node, void *arg)
{
    struct tick_arg *a = arg;
    nodelc_t *n = a->n;
    (void)key;
    const char *name = api_meta_name(node);
    if (!name) return true;
    struct nstate *st = state(n, name);
    bool stale = nl_stale(&st->t, a->now, n->s->cfg->node_grace_ms);
    if (stale && !st->busy_status) {
        cJSON *patch = nl_unknown_patch(node, a->wall);
        if (patch) {
            log_info(CTRL_COMP, "node %s: no heartbeat for %u ms: Ready=Unknown", name,
                     n->s->cfg->node_grace_ms);
            st->busy_status = true;
            send_node(n, name, "status", patch, API_PATCH_STRATEGIC, false);
            cJSON_Delete(patch);
        }
    }
    if (!st->busy_taints) {
        cJSON *taints = nl_taints_for(node, nl_state_of(node, stale), a->wall);
        if (taints) {
            cJSON *patch = cj_new_obj();
            /* The resourceVersion makes a concurrent `kubectl taint` win. */
            const char *rv = api_meta_resource_version(node);
            if (rv) cj_set_str(cj_obj(patch, "metadata"), "resourceVersion", rv);
            cj_set(cj_obj(patch, "spec"), "taints", taints);
            st->busy_taints = true;
            send_node(n, name, NULL, patch, API_PATCH_MERGE, true);
            cJSON_Delete(patch);
        }
    }
    nl_track_taints(&st->t, node, a->now);
    if (st->t.noexec_since || stale) handle_pods(n, node, st, stale, a->now, a->wall);
    return true;
}

static void on_tick(uv_timer_t *t)
{
    nodelc_t *n = t->data;
    if (n->s->stopping || !n->s->synced) return;
    struct tick_arg a = {n, n->s->now_mono(), n->s->now_wall()};
    ctrl_each(n->s, CR_NODES, check_node, &a);
}

nodelc_t *nodelc_new(ctrl_sess_t *s)
{
    nodelc_t *n = cx_calloc(1, sizeof(*n));
    n->s = s;
    n->timer = cx_calloc(1, sizeof(*n->timer));
    uv_timer_init(s->loop, n->timer);
    n->timer->data = n;
    uv_timer_start(n->timer, on_tick, s->cfg->node_monitor_ms, s->cfg->node_monitor_ms);
    n->evicted = metrics_counter("picokube_controller_pods_evicted_total",
                                 "Pods deleted from unreachable or not-ready nodes.", NULL);
    ctrl_sub_t nodes = {on_node_add, on_node_update, on_node_delete, n};
    ctrl_sub_t leases = {on_lease_add, on_lease_update, NULL, n};
    ctrl_subscribe(s, CR_NODES, &nodes);
    ctrl_subscribe(s, CR_NODE_LEASES, &leases);
    return n;
}

static void on_closed(uv_handle_t *h)
{
    free(h);
}

void nodelc_free(nodelc_t *n)
{
    if (!n) return;
    uv_close((uv_handle_t *)n->timer, on_closed);
    cm_clear(&n->nodes, st_free);
    cm_clear(&n->inflight, NULL);
    free(n);
}
