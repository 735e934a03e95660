/*
 * loop.c - the scheduler's thread and loop: informers on Nodes and Pods
 * feed the cache and the set of pending pods; a work queue takes pending
 * pods one at a time through the core (sched_core.h); bindings go out
 * asynchronously, many at once, each pod counted on its node (assumed)
 * from the decision on; only the Lease holder decides.
 *
 * Pods that fit nowhere are parked (pending, unschedulable) instead of
 * being retried in a loop: they go back to the queue when something that
 * could make room happens - a node appears or changes in a way the
 * scheduler sees, a placed pod is deleted or finishes - with a per-pod
 * backoff (100 ms doubling to 10 s), and every unschedulable_retry_ms
 * anyway in case an event was missed. Their own updates bring them back
 * only when the spec changed, not when our status write comes back.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "api/api.h"
#include "lib/lib.h"
#include "scheduler/sched_core.h"
#include "scheduler/sched_int.h"
#include "scheduler/scheduler.h"
#include "scheduler/strmap.h"

#define COMP "scheduler"
#define DEFAULT_LEASE_NAME "picokube-scheduler"
#define DEFAULT_BINDS 16
#define DEFAULT_RETRY_MS 30000
#define BACKOFF_BASE_MS 100
#define BACKOFF_MAX_MS 10000
#define EVENT_REPEAT_MS 60000 /* the same FailedScheduling message at most once a minute */
#define BIND_TIMEOUT_MS 30000
#define WRITES_IN_FLIGHT 4
#define WRITES_QUEUED 20000

struct pending {
    bool unschedulable; /* its last attempt found no node: waits for a change */
    char *last_msg;     /* of its last FailedScheduling event */
    uint64_t last_event_ms;
};

struct sched {
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t stop;
    uv_timer_t retry_timer;
    uv_mutex_t mu;
    struct sched_stats stats; /* under mu */

    char *urls, *token, *name, *lease_ns, *lease_name, *identity;
    unsigned binds, retry_ms;
    struct sched_config cfg;

    api_client_t *client;
    api_informer_t *nodes, *pods;
    api_workqueue_t *q;
    api_leader_elector_t *le;
    sc_cache_t *cache;
    struct strmap pending; /* key -> struct pending */
    struct sched_writer w;
    bool leader, stopping;

    metrics_counter_t *m_scheduled, *m_unschedulable, *m_error;
    metrics_histogram_t *m_algo, *m_bind;
    metrics_gauge_t *m_pending, *m_leader;
};

struct bind_op {
    sched_t *s;
    char *key, *node, *ns, *name;
    uint64_t t0;
};

static bool ready(const sched_t *s)
{
    return s->leader && !s->stopping && api_informer_has_synced(s->nodes) &&
           api_informer_has_synced(s->pods);
}

static void update_stats(sched_t *s)
{
    uv_mutex_lock(&s->mu);
    s->stats.leader = s->leader;
    s->stats.synced = api_informer_has_synced(s->nodes) && api_informer_has_synced(s->pods);
    s->stats.pending = s->pending.n;
    size_t nn;
    sc_cache_nodes(s->cache, &nn);
    s->stats.nodes = nn;
    s->stats.pods = sc_cache_pod_count(s->cache);
    uv_mutex_unlock(&s->mu);
    metrics_gauge_set(s->m_pending, (double)s->pending.n);
    metrics_gauge_set(s->m_leader, s->leader ? 1 : 0);
}

static void count(sched_t *s, unsigned long *field)
{
    uv_mutex_lock(&s->mu);
    (*field)++;
    uv_mutex_unlock(&s->mu);
}

/* ---------------------------------------------------------- pending pods */

static struct pending *pending_get(sched_t *s, const char *key, bool create, bool *created)
{
    struct pending *p = strmap_get(&s->pending, key);
    if (created) *created = false;
    if (p || !create) return p;
    p = calloc(1, sizeof(*p));
    if (!p || strmap_put(&s->pending, key, p, NULL) < 0) {
        free(p);
        log_error(COMP, "out of memory");
        return NULL;
    }
    if (created) *created = true;
    return p;
}

static void pending_remove(sched_t *s, const char *key)
{
    struct pending *p = strmap_del(&s->pending, key);
    if (!p) return;
    free(p->last_msg);
    free(p);
}

static void enqueue(sched_t *s, const char *key)
{
    if (ready(s)) api_workqueue_add(s->q, key);
}

/* Puts pending pods back in the queue: the unschedulable ones (each after
 * its own backoff) and, with all, every other one too. */
static void requeue(sched_t *s, bool all, const char *why)
{
    if (!ready(s)) return;
    size_t it = 0, n = 0;
    struct strmap_entry *e = NULL;
    while ((e = strmap_next(&s->pending, &it, e))) {
        struct pending *p = e->val;
        if (p->unschedulable) {
            p->unschedulable = false;
            api_workqueue_add_rate_limited(s->q, e->key);
            n++;
        } else if (all) {
            api_workqueue_add(s->q, e->key);
            n++;
        }
    }
    if (n) log_debug(COMP, "%s: %zu pending pod(s) queued again", why, n);
}

/* --------------------------------------------------------------- informers */

static cJSON *trim_node(const cJSON *full, void *data)
{
    (void)data;
    return sc_node_trim(full);
}

static cJSON *trim_pod(const cJSON *full, void *data)
{
    (void)data;
    return sc_pod_trim(full);
}

static void node_changed(const cJSON *obj, void *data)
{
    sched_t *s = data;
    char err[256];
    int rc = sc_cache_set_node(s->cache, obj, err, sizeof(err));
    if (rc < 0) log_warn(COMP, "node ignored: %s", err);
    if (rc > 0) requeue(s, false, "a node appeared or changed");
    update_stats(s);
}

static void on_node_add(const cJSON *obj, void *data)
{
    node_changed(obj, data);
}

static void on_node_update(const cJSON *old_obj, const cJSON *new_obj, void *data)
{
    (void)old_obj;
    node_changed(new_obj, data);
}

static void on_node_delete(const cJSON *obj, void *data)
{
    sched_t *s = data;
    const char *name = api_meta_name(obj);
    if (name) sc_cache_del_node(s->cache, name);
    update_stats(s);
}

static void pod_gone(sched_t *s, const char *key)
{
    if (sc_cache_del_pod(s->cache, key) > 0) requeue(s, false, "a placed pod went away");
    pending_remove(s, key);
}

static void pod_changed(sched_t *s, const cJSON *old, const cJSON *obj)
{
    struct sc_facts f;
    if (sc_pod_facts(obj, s->name, &f) < 0) return;
    if (f.terminal) {
        pod_gone(s, f.key); /* a finished pod no longer holds its requests */
        return;
    }
    if (*f.node) {
        bool assumed;
        const char *at = sc_cache_pod_node(s->cache, f.key, &assumed);
        /* Status changes of a running pod do not touch the compact form. */
        if (!(old && at && !assumed && !strcmp(at, f.node) && !sc_pod_spec_changed(old, obj))) {
            struct sc_pod p;
            char err[256];
            if (sc_pod_parse(obj, &p, err, sizeof(err)) < 0) {
                log_warn(COMP, "pod %s: %s", f.key, err);
            } else {
                if (sc_cache_add_pod(s->cache, f.key, &p, f.node, false) < 0)
                    log_error(COMP, "out of memory");
                sc_pod_clear(&p);
            }
        }
        pending_remove(s, f.key);
        return;
    }
    if (!f.ours || f.deleting) {
        pending_remove(s, f.key);
        return;
    }
    bool created;
    struct pending *p = pending_get(s, f.key, true, &created);
    if (!p || f.gated) return;
    if (created || !p->unschedulable || sc_pod_spec_changed(old, obj)) {
        p->unschedulable = false;
        enqueue(s, f.key);
    }
}

static void on_pod_add(const cJSON *obj, void *data)
{
    pod_changed(data, NULL, obj);
    update_stats(data);
}

static void on_pod_update(const cJSON *old_obj, const cJSON *new_obj, void *data)
{
    pod_changed(data, old_obj, new_obj);
    update_stats(data);
}

static void on_pod_delete(const cJSON *obj, void *data)
{
    struct sc_facts f;
    if (sc_pod_facts(obj, NULL, &f) == 0) pod_gone(data, f.key);
    update_stats(data);
}

static void on_synced(void *data)
{
    sched_t *s = data;
    if (ready(s)) {
        log_info(COMP, "caches synced: %zu node(s), %zu pod(s) placed, %zu pending", s->stats.nodes,
                 sc_cache_pod_count(s->cache), s->pending.n);
        requeue(s, true, "caches synced");
    }
    update_stats(s);
}

/* --------------------------------------------------------------- binding */

static void bind_op_free(struct bind_op *b)
{
    free(b->key);
    free(b->node);
    free(b->ns);
    free(b->name);
    free(b);
}

static void on_bound(api_result_t *res, void *data)
{
    struct bind_op *b = data;
    sched_t *s = b->s;
    if (s->stopping || res->err == UV_ECANCELED) {
        bind_op_free(b);
        return;
    }
    metrics_histogram_observe(s->m_bind, (double)(uv_hrtime() - b->t0) / 1e9);
    if (api_result_ok(res)) {
        count(s, &s->stats.scheduled);
        metrics_counter_add(s->m_scheduled, 1);
        api_workqueue_forget(s->q, b->key);
        char msg[1024];
        snprintf(msg, sizeof(msg), "Successfully assigned %s/%s to %s", b->ns, b->name, b->node);
        log_debug(COMP, "%s", msg);
        const cJSON *obj = api_informer_get_key(s->pods, b->key);
        sw_pod_event(&s->w, b->ns, b->name,
                     obj ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "uid"))
                         : NULL,
                     "Normal", "Scheduled", msg);
    } else {
        count(s, &s->stats.bind_errors);
        metrics_counter_add(s->m_error, 1);
        bool assumed;
        const char *at = sc_cache_pod_node(s->cache, b->key, &assumed);
        if (at && assumed && !strcmp(at, b->node)) sc_cache_del_pod(s->cache, b->key);
        if (res->status == 404) {
            log_debug(COMP, "binding %s to %s: the pod is gone", b->key, b->node);
        } else {
            /* 409: another scheduler bound it, or it is being deleted; the
             * informer will tell. Anything else: try again after a backoff. */
            uint64_t d = api_workqueue_add_rate_limited(s->q, b->key);
            if (res->status == 409)
                log_info(COMP, "binding %s to %s: %s; trying again in %llu ms", b->key, b->node,
                         res->message, (unsigned long long)d);
            else
                log_warn(COMP, "binding %s to %s failed: %s; trying again in %llu ms", b->key,
                         b->node, res->message, (unsigned long long)d);
        }
    }
    api_workqueue_done(s->q, b->key);
    update_stats(s);
    bind_op_free(b);
}

/* Sends the Binding; the key stays "being processed" until its answer. */
static void send_binding(sched_t *s, const char *key, const struct sc_pod *p, const char *node)
{
    struct bind_op *b = calloc(1, sizeof(*b));
    cJSON *body = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(body, "metadata");
    cJSON *target = cJSON_AddObjectToObject(body, "target");
    bool ok = b && (b->key = strdup(key)) && (b->node = strdup(node)) &&
              (b->ns = strdup(p->ns ? p->ns : "")) && (b->name = strdup(p->name)) && meta &&
              target && cJSON_AddStringToObject(body, "apiVersion", "v1") &&
              cJSON_AddStringToObject(body, "kind", "Binding") &&
              cJSON_AddStringToObject(meta, "name", p->name) &&
              cJSON_AddStringToObject(meta, "namespace", b->ns) &&
              (!p->uid || cJSON_AddStringToObject(meta, "uid", p->uid)) &&
              cJSON_AddStringToObject(target, "apiVersion", "v1") &&
              cJSON_AddStringToObject(target, "kind", "Node") &&
              cJSON_AddStringToObject(target, "name", node);
    int rc = UV_ENOMEM;
    if (ok) {
        b->s = s;
        b->t0 = uv_hrtime();
        api_ref_t ref = {
            .resource = "pods", .ns = b->ns, .name = b->name, .subresource = "binding"};
        api_opts_t o = {.timeout_ms = BIND_TIMEOUT_MS};
        rc = api_create(s->client, &ref, body, &o, on_bound, b);
    }
    cJSON_Delete(body);
    if (rc == 0) return;
    log_error(COMP, "binding %s to %s: %s", key, node, uv_strerror(rc));
    sc_cache_del_pod(s->cache, key);
    api_workqueue_add_rate_limited(s->q, key);
    api_workqueue_done(s->q, key);
    if (b) bind_op_free(b);
}

/* ------------------------------------------------------------ the worker */

static void unschedulable(sched_t *s, const char *key, const cJSON *obj, struct pending *pe,
                          const struct sc_pod *p, const char *message)
{
    pe->unschedulable = true;
    count(s, &s->stats.unschedulable);
    metrics_counter_add(s->m_unschedulable, 1);
    const char *st, *reason, *old;
    sc_pod_sched_condition(obj, &st, &reason, &old);
    if (strcmp(st, "False") || strcmp(reason, "Unschedulable") || strcmp(old, message))
        sw_pod_unschedulable(&s->w, p->ns, p->name, message, !strcmp(st, "False"));
    uint64_t now = time_mono_ms();
    if (!pe->last_msg || strcmp(pe->last_msg, message) ||
        now - pe->last_event_ms >= EVENT_REPEAT_MS) {
        log_info(COMP, "pod %s is unschedulable: %s", key, message);
        sw_pod_event(&s->w, p->ns, p->name, p->uid, "Warning", "FailedScheduling", message);
        char *copy = strdup(message);
        if (copy) {
            free(pe->last_msg);
            pe->last_msg = copy;
            pe->last_event_ms = now;
        }
    }
}

static void work(api_workqueue_t *q, const char *key, void *data)
{
    sched_t *s = data;
    const cJSON *obj = ready(s) ? api_informer_get_key(s->pods, key) : NULL;
    struct pending *pe = obj ? pending_get(s, key, false, NULL) : NULL;
    struct sc_facts f;
    /* Gone, bound, not ours, finishing, gated, or its binding is on the
     * way: nothing to decide. */
    if (!pe || sc_pod_facts(obj, s->name, &f) < 0 || *f.node || !f.ours || f.deleting ||
        f.terminal || f.gated || sc_cache_pod_node(s->cache, key, NULL)) {
        api_workqueue_done(q, key);
        return;
    }
    struct sc_pod p;
    char err[256];
    if (sc_pod_parse(obj, &p, err, sizeof(err)) < 0) {
        log_warn(COMP, "pod %s: %s; not scheduled", key, err);
        api_workqueue_done(q, key);
        return;
    }
    uint64_t t0 = uv_hrtime();
    struct sc_result r;
    int rc = sc_schedule(s->cache, &p, &r, COMP);
    metrics_histogram_observe(s->m_algo, (double)(uv_hrtime() - t0) / 1e9);
    count(s, &s->stats.attempts);
    if (rc < 0 || (r.node && sc_cache_add_pod(s->cache, key, &p, r.node->name, true) < 0)) {
        log_error(COMP, "pod %s: out of memory", key);
        metrics_counter_add(s->m_error, 1);
        api_workqueue_add_rate_limited(q, key);
        api_workqueue_done(q, key);
    } else if (r.node) {
        send_binding(s, key, &p, r.node->name); /* done when the answer comes */
    } else {
        unschedulable(s, key, obj, pe, &p, r.message);
        api_workqueue_done(q, key);
    }
    sc_result_clear(&r);
    sc_pod_clear(&p);
}

/* -------------------------------------------------------- leader election */

static void started_leading(void *data)
{
    sched_t *s = data;
    s->leader = true;
    update_stats(s);
    log_info(COMP, "%s is now scheduling", s->identity);
    requeue(s, true, "became the leader");
}

static void stopped_leading(void *data)
{
    sched_t *s = data;
    s->leader = false;
    update_stats(s);
    if (!s->stopping) log_warn(COMP, "%s lost the lease: no longer scheduling", s->identity);
}

static void on_retry(uv_timer_t *t)
{
    requeue(t->data, true, "periodic retry");
}

/* ------------------------------------------------------------ lifecycle */

static void teardown(void *arg)
{
    sched_t *s = arg;
    s->le = NULL;
    api_informer_free(s->nodes);
    api_informer_free(s->pods);
    s->nodes = s->pods = NULL;
    api_workqueue_free(s->q);
    s->q = NULL;
    sw_clear(&s->w);
    api_client_free(s->client); /* requests in flight end now (stopping is set) */
    s->client = NULL;
    uv_close((uv_handle_t *)&s->retry_timer, NULL);
    uv_close((uv_handle_t *)&s->stop, NULL);
}

static void on_stop(uv_async_t *a)
{
    sched_t *s = a->data;
    if (s->stopping) return;
    s->stopping = true;
    if (s->le)
        api_leader_elect_stop(s->le, teardown, s); /* releases the Lease first */
    else
        teardown(s);
}

static void run(void *arg)
{
    sched_t *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
}

static char *default_identity(void)
{
    char host[256] = "", hex[17] = "";
    if (gethostname(host, sizeof(host) - 1) < 0 || !*host) snprintf(host, sizeof(host), "picokube");
    if (random_hex(hex, 8) < 0) snprintf(hex, sizeof(hex), "%d", (int)getpid());
    size_t len = strlen(host) + strlen(hex) + 2;
    char *id = malloc(len);
    if (id) snprintf(id, len, "%s_%s", host, hex);
    return id;
}

static void free_config(sched_t *s)
{
    free(s->urls);
    free(s->token);
    free(s->name);
    free(s->lease_ns);
    free(s->lease_name);
    free(s->identity);
}

static void free_pending(sched_t *s)
{
    size_t it = 0;
    struct strmap_entry *e = NULL;
    while ((e = strmap_next(&s->pending, &it, e))) {
        struct pending *p = e->val;
        free(p->last_msg);
        free(p);
    }
    strmap_free(&s->pending);
}

static int copy_config(sched_t *s, const struct sched_config *cfg)
{
    s->cfg = *cfg;
    s->urls = strdup(cfg->api_urls);
    s->token = cfg->token ? strdup(cfg->token) : NULL;
    s->name = strdup(cfg->scheduler_name && *cfg->scheduler_name ? cfg->scheduler_name
                                                                 : SC_DEFAULT_SCHEDULER);
    s->lease_ns = strdup(cfg->lease_namespace && *cfg->lease_namespace ? cfg->lease_namespace
                                                                       : "kube-system");
    s->lease_name =
        strdup(cfg->lease_name && *cfg->lease_name ? cfg->lease_name : DEFAULT_LEASE_NAME);
    s->identity = cfg->identity && *cfg->identity ? strdup(cfg->identity) : default_identity();
    s->binds = cfg->max_binds_in_flight ? cfg->max_binds_in_flight : DEFAULT_BINDS;
    s->retry_ms = cfg->unschedulable_retry_ms ? cfg->unschedulable_retry_ms : DEFAULT_RETRY_MS;
    return s->urls && (s->token || !cfg->token) && s->name && s->lease_ns && s->lease_name &&
                   s->identity
               ? 0
               : -1;
}

static void init_metrics(sched_t *s)
{
    static const char *help = "Scheduling decisions by result.";
    const char *n = "picokube_scheduler_schedule_attempts_total";
    s->m_scheduled = metrics_counter(n, help, "result=\"scheduled\"");
    s->m_unschedulable = metrics_counter(n, help, "result=\"unschedulable\"");
    s->m_error = metrics_counter(n, help, "result=\"error\"");
    s->m_algo = metrics_histogram("picokube_scheduler_scheduling_algorithm_duration_seconds",
                                  "Time to filter and score the nodes for one pod.", NULL, NULL, 0);
    s->m_bind = metrics_histogram("picokube_scheduler_binding_duration_seconds",
                                  "Time from sending a Binding to its answer.", NULL, NULL, 0);
    s->m_pending = metrics_gauge("picokube_scheduler_pending_pods",
                                 "Pods of this scheduler without a node.", NULL);
    s->m_leader = metrics_gauge("picokube_scheduler_is_leader",
                                "1 when this instance holds the scheduler Lease.", NULL);
}

static api_informer_t *informer(sched_t *s, const char *resource, api_trim_fn trim,
                                api_informer_handlers_t h)
{
    h.on_synced = on_synced;
    api_informer_config_t cfg = {
        .ref = {.resource = resource}, .trim = trim, .handlers = h, .data = s};
    return api_informer_new(s->client, &cfg);
}

int sched_start(const struct sched_config *cfg, sched_t **out)
{
    *out = NULL;
    if (!cfg->api_urls || !*cfg->api_urls) {
        log_error(COMP, "no API server URL given");
        return -1;
    }
    sched_t *s = calloc(1, sizeof(*s));
    if (!s) return -1;
    if (copy_config(s, cfg) < 0 || !(s->cache = sc_cache_new()) || uv_loop_init(&s->loop) != 0) {
        log_error(COMP, "out of memory");
        sc_cache_free(s->cache);
        free_config(s);
        free(s);
        return -1;
    }
    init_metrics(s);
    uv_mutex_init(&s->mu);
    uv_timer_init(&s->loop, &s->retry_timer);
    uv_async_init(&s->loop, &s->stop, on_stop);
    s->retry_timer.data = s->stop.data = s;
    s->client = api_client_new(&s->loop, s->urls, s->token);
    api_workqueue_config_t qc = {.base_delay_ms = BACKOFF_BASE_MS,
                                 .max_delay_ms = BACKOFF_MAX_MS,
                                 .batch = 64,
                                 .max_active = s->binds};
    if (s->client) {
        sw_init(&s->w, s->client, SC_DEFAULT_SCHEDULER, s->identity, WRITES_IN_FLIGHT,
                WRITES_QUEUED);
        s->q = api_workqueue_new(&s->loop, &qc, work, s);
        s->nodes = informer(s, "nodes", trim_node,
                            (api_informer_handlers_t){.on_add = on_node_add,
                                                      .on_update = on_node_update,
                                                      .on_delete = on_node_delete});
        s->pods = informer(s, "pods", trim_pod,
                           (api_informer_handlers_t){.on_add = on_pod_add,
                                                     .on_update = on_pod_update,
                                                     .on_delete = on_pod_delete});
    }
    if (cfg->no_leader_elect) {
        s->leader = true;
    } else if (s->client) {
        api_leader_config_t lc = {.ns = s->lease_ns,
                                  .name = s->lease_name,
                                  .identity = s->identity,
                                  .lease_duration_ms = cfg->lease_duration_ms,
                                  .renew_deadline_ms = cfg->renew_deadline_ms,
                                  .renew_interval_ms = cfg->renew_interval_ms,
                                  .retry_period_ms = cfg->retry_period_ms,
                                  .on_started_leading = started_leading,
                                  .on_stopped_leading = stopped_leading,
                                  .data = s};
        s->le = api_leader_elect_start(s->client, &lc);
    }
    if (!s->client || !s->q || !s->nodes || !s->pods || (!cfg->no_leader_elect && !s->le)) {
        log_error(COMP, "cannot start: bad API server URL \"%s\"?", s->urls);
        on_stop(&s->stop);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        goto fail;
    }
    uv_timer_start(&s->retry_timer, on_retry, s->retry_ms, s->retry_ms);
    update_stats(s);
    if (uv_thread_create(&s->thread, run, s) != 0) {
        on_stop(&s->stop);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        goto fail;
    }
    log_info(COMP, "scheduling pods of \"%s\" from %s as %s (%s)", s->name, s->urls, s->identity,
             cfg->no_leader_elect ? "no leader election" : "leader-elected");
    *out = s;
    return 0;
fail:
    uv_loop_close(&s->loop);
    uv_mutex_destroy(&s->mu);
    sc_cache_free(s->cache);
    free_pending(s);
    free_config(s);
    free(s);
    return -1;
}

void sched_stop(sched_t *s)
{
    if (!s) return;
    uv_async_send(&s->stop);
    uv_thread_join(&s->thread);
    if (uv_loop_close(&s->loop) != 0) log_warn(COMP, "loop closed with handles still open");
    uv_mutex_destroy(&s->mu);
    sc_cache_free(s->cache);
    free_pending(s);
    free_config(s);
    free(s);
}

void sched_get_stats(sched_t *s, struct sched_stats *out)
{
    uv_mutex_lock(&s->mu);
    *out = s->stats;
    uv_mutex_unlock(&s->mu);
}
