/*
 * proxy.c - the proxy's thread and loop: informers report changes, a timer
 * batches them (one sync per min_sync_interval at most, the first one as
 * soon as both caches are listed), a slower timer checks the kernel for
 * drift, and a failed write is retried with backoff.
 *
 * A sync runs the iptables commands synchronously on this thread: the loop
 * carries only this component's watches, which wait in their sockets.
 */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "api/api.h"
#include "lib/lib.h"
#include "proxy/proxy.h"
#include "proxy/proxy_int.h"

#define COMP "proxy"
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

struct proxy {
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t stop;
    uv_timer_t sync_timer, check_timer;
    uv_mutex_t mu; /* stats */
    api_client_t *client;
    struct pk_watch watch;
    struct pk_syncer syncer;
    unsigned min_ms, check_ms, backoff_ms;
    uint64_t last_sync;
    bool check_due;
    struct proxy_stats stats;
    metrics_counter_t *m_syncs, *m_failures, *m_restores;
    metrics_histogram_t *m_duration;
};

static void on_sync(uv_timer_t *t);

static void schedule(struct proxy *p)
{
    if (uv_is_active((uv_handle_t *)&p->sync_timer)) return; /* batched, or backing off */
    uint64_t now = uv_now(&p->loop), due = p->last_sync + p->min_ms;
    uv_timer_start(&p->sync_timer, on_sync, due > now ? due - now : 0, 0);
}

static void changed(void *data)
{
    schedule(data);
}

static void sync_now(struct proxy *p)
{
    char err[1024] = "";
    uint64_t t0 = uv_hrtime();
    if (p->check_due) {
        p->check_due = false;
        if (pk_syncer_check(&p->syncer, err, sizeof(err)) < 0)
            log_warn(COMP, "checking the chains: %s", err);
    }
    const cJSON **svcs, **eps;
    size_t ns, ne;
    int rc;
    if (pk_watch_objects(&p->watch, &svcs, &ns, &eps, &ne) < 0) {
        snprintf(err, sizeof(err), "out of memory");
        rc = -1;
    } else {
        unsigned long before = p->syncer.restores;
        rc = pk_syncer_sync(&p->syncer, svcs, ns, eps, ne, err, sizeof(err));
        metrics_counter_add(p->m_restores, (double)(p->syncer.restores - before));
        free(svcs);
        free(eps);
    }
    double secs = (double)(uv_hrtime() - t0) / 1e9;
    metrics_counter_add(p->m_syncs, 1);
    metrics_histogram_observe(p->m_duration, secs);
    uv_mutex_lock(&p->mu);
    bool first = rc > 0 && !p->stats.synced;
    p->stats.syncs++;
    p->stats.restores = p->syncer.restores;
    p->stats.unchanged = p->syncer.unchanged;
    if (rc < 0) {
        p->stats.failures++;
    } else if (rc > 0) {
        p->stats.synced = true;
        p->stats.chains_written = p->syncer.chains_written;
        p->stats.service_ports = p->syncer.service_ports;
        p->stats.chains = p->syncer.written.n;
    }
    uv_mutex_unlock(&p->mu);
    uv_update_time(&p->loop);
    p->last_sync = uv_now(&p->loop);
    if (rc < 0) {
        metrics_counter_add(p->m_failures, 1);
        p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_MIN_MS;
        if (p->backoff_ms > BACKOFF_MAX_MS) p->backoff_ms = BACKOFF_MAX_MS;
        log_error(COMP, "writing the service rules failed: %s; retrying in %u ms", err,
                  p->backoff_ms);
        uv_timer_start(&p->sync_timer, on_sync, p->backoff_ms, 0);
        return;
    }
    if (p->backoff_ms || first)
        log_info(COMP,
                 "service rules written: %zu service ports, %zu chains (%.0f ms: %.0f generating, "
                 "%.0f writing)",
                 p->syncer.service_ports, p->syncer.written.n, secs * 1000, p->syncer.gen_ms,
                 p->syncer.write_ms);
    else if (rc > 0)
        log_debug(COMP,
                  "rules rewritten: %zu chains changed (%.1f ms: %.1f generating, %.1f writing)",
                  p->syncer.chains_written, secs * 1000, p->syncer.gen_ms, p->syncer.write_ms);
    p->backoff_ms = 0;
}

static void on_sync(uv_timer_t *t)
{
    struct proxy *p = t->data;
    /* Before both lists arrived, a write would delete the rules of
     * services not seen yet; on_synced schedules again. */
    if (!pk_watch_synced(&p->watch)) return;
    sync_now(p);
}

static void on_check(uv_timer_t *t)
{
    struct proxy *p = t->data;
    p->check_due = true;
    schedule(p);
}

static void on_stop(uv_async_t *a)
{
    struct proxy *p = a->data;
    pk_watch_stop(&p->watch);
    api_client_free(p->client);
    p->client = NULL;
    uv_close((uv_handle_t *)&p->sync_timer, NULL);
    uv_close((uv_handle_t *)&p->check_timer, NULL);
    uv_close((uv_handle_t *)&p->stop, NULL);
}

static void run(void *arg)
{
    struct proxy *p = arg;
    uv_run(&p->loop, UV_RUN_DEFAULT);
}

int proxy_start(const struct proxy_config *cfg, proxy_t **out)
{
    char err[512];
    *out = NULL;
    if (!cfg->api_urls || !*cfg->api_urls) {
        log_error(COMP, "no API server URL given");
        return -1;
    }
    struct proxy *p = calloc(1, sizeof(*p));
    if (!p) return -1;
    if (pk_syncer_init(&p->syncer, cfg, err, sizeof(err)) < 0) {
        log_error(COMP, "%s", err);
        free(p);
        return -1;
    }
    p->min_ms = cfg->min_sync_interval_ms ? cfg->min_sync_interval_ms : 100;
    p->check_ms = cfg->check_interval_ms ? cfg->check_interval_ms : 60000;
    p->m_syncs =
        metrics_counter("picokube_proxy_syncs_total", "Service rule syncs run by the proxy.", NULL);
    p->m_failures = metrics_counter("picokube_proxy_sync_failures_total",
                                    "Service rule syncs whose iptables write failed.", NULL);
    p->m_restores = metrics_counter("picokube_proxy_iptables_restores_total",
                                    "iptables-restore runs by the proxy.", NULL);
    p->m_duration =
        metrics_histogram("picokube_proxy_sync_duration_seconds",
                          "Time to compute and write the service rules.", NULL, NULL, 0);
    if (uv_loop_init(&p->loop) != 0) goto fail_loop;
    uv_mutex_init(&p->mu);
    uv_timer_init(&p->loop, &p->sync_timer);
    uv_timer_init(&p->loop, &p->check_timer);
    uv_async_init(&p->loop, &p->stop, on_stop);
    p->sync_timer.data = p->check_timer.data = p->stop.data = p;
    p->client = api_client_new(&p->loop, cfg->api_urls, cfg->token);
    if (!p->client || pk_watch_start(&p->watch, p->client, changed, p) < 0) goto fail;
    uv_timer_start(&p->check_timer, on_check, p->check_ms, p->check_ms);
    if (uv_thread_create(&p->thread, run, p) != 0) goto fail;
    log_info(COMP,
             "watching services and endpoints at %s (node %s, cluster CIDR %s, "
             "service CIDR %s)",
             cfg->api_urls, p->syncer.node_name ? p->syncer.node_name : "-",
             p->syncer.opts.cluster_cidr, p->syncer.service_cidr);
    *out = p;
    return 0;
fail:
    log_error(COMP, "cannot start: bad API server URL \"%s\"?", cfg->api_urls);
    on_stop(&p->stop);
    uv_run(&p->loop, UV_RUN_DEFAULT);
    uv_loop_close(&p->loop);
    uv_mutex_destroy(&p->mu);
fail_loop:
    pk_syncer_free(&p->syncer);
    free(p);
    return -1;
}

void proxy_stop(proxy_t *p)
{
    if (!p) return;
    uv_async_send(&p->stop);
    uv_thread_join(&p->thread);
    if (uv_loop_close(&p->loop) != 0) log_warn(COMP, "loop closed with handles still open");
    uv_mutex_destroy(&p->mu);
    pk_syncer_free(&p->syncer);
    free(p);
}

void proxy_get_stats(proxy_t *p, struct proxy_stats *out)
{
    uv_mutex_lock(&p->mu);
    *out = p->stats;
    uv_mutex_unlock(&p->mu);
}
