/*
 * manager.c - the controller manager's thread, loop and leadership terms:
 * ctrl_start / ctrl_stop.
 *
 * The thread owns one uv loop. The leader elector runs for the whole life
 * of the ctrl_t; each time it wins, a session starts: a fresh API client,
 * the loops (which subscribe to shared informers) and then the informers.
 * When leadership is lost the session is torn down in an order that never
 * lets a callback see freed memory: mark stopping, free the informers (no
 * more events), free the client (requests in flight answer ECANCELED and
 * their batches free themselves), then the loops and their queues.
 */
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controller/ctrl_int.h"

struct ctrl_loops {
    repl_ctrl_t *rs, *rc;
    dep_ctrl_t *dep;
    nodelc_t *nl;
    eps_ctrl_t *eps;
    gc_ctrl_t *gc;
    podcidr_t *pc;
};

struct ctrl {
    struct ctrl_config cfg;
    char *urls, *token, *identity, *lease_ns, *lease_name, *cidr;
    uv_loop_t loop;
    uv_async_t wake;
    uv_thread_t thread;
    api_client_t *le_client; /* the elector's own: it outlives sessions */
    api_leader_elector_t *le;
    ctrl_sess_t *sess;
    atomic_bool leader;
    atomic_bool stop_requested;
};

static double leader_gauge(void *arg)
{
    ctrl_t *c = arg;
    return atomic_load(&c->leader) ? 1 : 0;
}

/* --------------------------------------------------------------- sessions */

static void session_stop(ctrl_t *c)
{
    ctrl_sess_t *s = c->sess;
    if (!s) return;
    c->sess = NULL;
    atomic_store(&c->leader, false);
    s->stopping = true;
    ctrl_informers_stop(s);
    api_client_free(s->client);
    struct ctrl_loops *l = s->loops;
    repl_free(l->rs);
    repl_free(l->rc);
    dep_free(l->dep);
    nodelc_free(l->nl);
    eps_free(l->eps);
    gc_free(l->gc);
    podcidr_free(l->pc);
    free(l);
    /* Last: cached objects and their copies (cx_dup keeps constant member
     * names) point into the string pool; nothing holds one any more. */
    cm_clear(&s->strings, NULL);
    free(s);
    log_info(CTRL_COMP, "loops stopped");
}

static int session_start(ctrl_t *c)
{
    ctrl_sess_t *s = cx_calloc(1, sizeof(*s));
    s->loop = &c->loop;
    s->cfg = &c->cfg;
    s->now_wall = time_wall_ms;
    s->now_mono = time_mono_ms;
    s->client = api_client_new(&c->loop, c->cfg.urls, c->cfg.token);
    if (!s->client) {
        free(s);
        return -1;
    }
    s->loops = cx_calloc(1, sizeof(*s->loops));
    c->sess = s;
    unsigned m = c->cfg.loops;
    struct ctrl_loops *l = s->loops;
    if (m & CTRL_LOOP_REPLICATION) {
        l->rs = repl_new(s, &ctrl_kind_rs);
        l->rc = repl_new(s, &ctrl_kind_rc);
    }
    if (m & CTRL_LOOP_DEPLOYMENT) l->dep = dep_new(s);
    if (m & CTRL_LOOP_NODELIFECYCLE) l->nl = nodelc_new(s);
    if (m & CTRL_LOOP_ENDPOINTS) l->eps = eps_new(s);
    if (m & CTRL_LOOP_GC) l->gc = gc_new(s);
    if (m & CTRL_LOOP_PODCIDR) l->pc = podcidr_new(s);
    if (ctrl_informers_start(s) != 0) {
        session_stop(c);
        return -1;
    }
    atomic_store(&c->leader, true);
    log_info(CTRL_COMP, "loops started");
    return 0;
}

static void on_started(void *data)
{
    ctrl_t *c = data;
    if (atomic_load(&c->stop_requested) || c->sess) return;
    if (session_start(c) != 0) log_error(CTRL_COMP, "cannot start the loops");
}

static void on_stopped(void *data)
{
    session_stop(data);
}

/* ------------------------------------------------------------------ thread */

static void on_leader_gone(void *arg)
{
    ctrl_t *c = arg;
    c->le = NULL;
    api_client_free(c->le_client);
    c->le_client = NULL;
    uv_close((uv_handle_t *)&c->wake, NULL);
}

static void on_wake(uv_async_t *a)
{
    ctrl_t *c = a->data;
    if (!atomic_load(&c->stop_requested)) return;
    session_stop(c);
    if (c->le)
        api_leader_elect_stop(c->le, on_leader_gone, c);
    else if (!uv_is_closing((uv_handle_t *)&c->wake))
        uv_close((uv_handle_t *)&c->wake, NULL);
}

static void thread_main(void *arg)
{
    ctrl_t *c = arg;
    uv_run(&c->loop, UV_RUN_DEFAULT);
}

/* Runs before the thread exists: handles may be made from this thread. */
static void begin(ctrl_t *c)
{
    if (c->cfg.no_leader_elect) {
        if (session_start(c) != 0) log_error(CTRL_COMP, "cannot start the loops");
        return;
    }
    c->le_client = api_client_new(&c->loop, c->cfg.urls, c->cfg.token);
    if (!c->le_client) {
        log_error(CTRL_COMP, "cannot start leader election");
        return;
    }
    api_leader_config_t lc = {0};
    lc.ns = c->cfg.lease_namespace;
    lc.name = c->cfg.lease_name;
    lc.identity = c->cfg.identity;
    lc.lease_duration_ms = c->cfg.lease_duration_ms;
    lc.renew_deadline_ms = c->cfg.renew_deadline_ms;
    lc.retry_period_ms = c->cfg.retry_period_ms;
    lc.on_started_leading = on_started;
    lc.on_stopped_leading = on_stopped;
    lc.data = c;
    c->le = api_leader_elect_start(c->le_client, &lc);
    if (!c->le) {
        log_error(CTRL_COMP, "cannot start leader election");
        api_client_free(c->le_client);
        c->le_client = NULL;
    }
}

static void free_ctrl(ctrl_t *c)
{
    free(c->urls);
    free(c->token);
    free(c->identity);
    free(c->lease_ns);
    free(c->lease_name);
    free(c->cidr);
    free(c);
}

int ctrl_start(const struct ctrl_config *cfg, ctrl_t **out)
{
    *out = NULL;
    if (!cfg || !cfg->urls || !*cfg->urls) {
        log_error(CTRL_COMP, "no API server URL given");
        return -EINVAL;
    }
    ctrl_t *c = cx_calloc(1, sizeof(*c));
    c->cfg = *cfg;
    c->urls = cx_strdup(cfg->urls);
    c->token = cx_strdup(cfg->token);
    if (cfg->identity && *cfg->identity) {
        c->identity = cx_strdup(cfg->identity);
    } else {
        char host[HOST_NAME_MAX + 1] = "picokube";
        gethostname(host, sizeof host - 1);
        char rnd[9] = "";
        if (random_hex(rnd, 4) != 0) snprintf(rnd, sizeof rnd, "0");
        c->identity = cx_printf("%s_%d_%s", host, (int)getpid(), rnd);
    }
    c->lease_ns = cx_strdup(cfg->lease_namespace ? cfg->lease_namespace : "kube-system");
    c->lease_name = cx_strdup(cfg->lease_name ? cfg->lease_name : "picokube-controller-manager");
    c->cidr = cx_strdup(cfg->cluster_cidr ? cfg->cluster_cidr : "10.42.0.0/16");
    c->cfg.urls = c->urls;
    c->cfg.token = c->token;
    c->cfg.identity = c->identity;
    c->cfg.lease_namespace = c->lease_ns;
    c->cfg.lease_name = c->lease_name;
    c->cfg.cluster_cidr = c->cidr;
    struct ctrl_config *k = &c->cfg;
    if (!k->loops) k->loops = ~0u;
    if (!k->node_grace_ms) k->node_grace_ms = 4000;
    if (!k->eviction_timeout_ms) k->eviction_timeout_ms = 3000;
    if (!k->node_monitor_ms) k->node_monitor_ms = 500;
    if (!k->node_cidr_mask) k->node_cidr_mask = 24;
    if (!k->workers) k->workers = 8;
    cidr_pool_t *probe = cidr_pool_new(k->cluster_cidr, k->node_cidr_mask);
    if (!probe) {
        log_error(CTRL_COMP, "bad cluster CIDR %s with node mask /%u", k->cluster_cidr,
                  k->node_cidr_mask);
        free_ctrl(c);
        return -EINVAL;
    }
    cidr_pool_free(probe);
    int rc = uv_loop_init(&c->loop);
    if (rc != 0) {
        free_ctrl(c);
        return rc;
    }
    uv_async_init(&c->loop, &c->wake, on_wake);
    c->wake.data = c;
    begin(c);
    metrics_gauge_fn("picokube_controller_is_leader",
                     "Whether this controller manager holds its Lease and runs the loops.",
                     leader_gauge, c);
    rc = uv_thread_create(&c->thread, thread_main, c);
    if (rc != 0) {
        metrics_gauge_fn_remove("picokube_controller_is_leader");
        atomic_store(&c->stop_requested, true);
        on_wake(&c->wake);
        uv_run(&c->loop, UV_RUN_DEFAULT);
        uv_loop_close(&c->loop);
        free_ctrl(c);
        return rc;
    }
    log_info(CTRL_COMP, "controller manager %s started (%s)", c->identity, c->urls);
    *out = c;
    return 0;
}

void ctrl_stop(ctrl_t *c)
{
    if (!c) return;
    atomic_store(&c->stop_requested, true);
    uv_async_send(&c->wake);
    uv_thread_join(&c->thread);
    metrics_gauge_fn_remove("picokube_controller_is_leader");
    if (uv_loop_close(&c->loop) != 0) log_warn(CTRL_COMP, "loop closed with handles open");
    free_ctrl(c);
}

bool ctrl_is_leader(const ctrl_t *c)
{
    return c && atomic_load(&((ctrl_t *)c)->leader);
}
