/*
 * sync.c - one sync: objects -> model -> chains -> iptables-restore, with
 * the memory of what the kernel holds that makes syncs cheap:
 *   - the same chains as last time: no iptables call at all;
 *   - otherwise only the chains whose content changed are written;
 *   - first sync, or after a failure or detected drift: the PICOKUBE-*
 *     chains in the kernel are listed, everything is written and what is
 *     no longer wanted (left by an earlier run) is deleted.
 * Also the API-less entry points of proxy.h (apply, render, cleanup).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/lib.h"
#include "proxy/proxy.h"
#include "proxy/proxy_int.h"

#define COMP "proxy"

int pk_syncer_init(struct pk_syncer *s, const struct proxy_config *cfg, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    if (pk_opts_cidr(&s->opts, cfg->cluster_cidr ? cfg->cluster_cidr : "10.42.0.0/16",
                     "cluster CIDR", err, errlen) < 0)
        return -1;
    struct pk_opts svc = {0};
    if (pk_opts_cidr(&svc, cfg->service_cidr ? cfg->service_cidr : "10.43.0.0/16", "service CIDR",
                     err, errlen) < 0)
        return -1;
    snprintf(s->service_cidr, sizeof(s->service_cidr), "%s", svc.cluster_cidr);
    if (cfg->node_name && *cfg->node_name && !(s->node_name = strdup(cfg->node_name))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->opts.node_name = s->node_name;
    s->opts.localhost_nodeports = !cfg->no_localhost_nodeports;
    s->ipt.iptables = cfg->iptables ? cfg->iptables : "iptables";
    s->ipt.restore = cfg->iptables_restore ? cfg->iptables_restore : "iptables-restore";
    s->ipt.save = cfg->iptables_save ? cfg->iptables_save : "iptables-save";
    s->manage_route = !cfg->no_service_route;
    return 0;
}

void pk_syncer_free(struct pk_syncer *s)
{
    pk_ruleset_free(&s->written);
    free(s->node_name);
    memset(s, 0, sizeof(*s));
}

static int generate(const struct pk_opts *o, const cJSON *const *svcs, size_t n_svcs,
                    const cJSON *const *eps, size_t n_eps, struct pk_ruleset *out, size_t *ports,
                    char *err, size_t errlen)
{
    struct pk_model m;
    if (pk_model_build(svcs, n_svcs, eps, n_eps, o, &m) < 0) {
        snprintf(err, errlen, "out of memory building the service model");
        return -1;
    }
    if (m.skipped)
        log_warn(COMP, "%zu service ports skipped (malformed or colliding names)", m.skipped);
    int rc = pk_rules_generate(&m, o, out);
    if (ports) *ports = m.n;
    pk_model_free(&m);
    if (rc < 0) snprintf(err, errlen, "out of memory generating rules");
    return rc;
}

/* What the kernel holds before a full write: the route and the chains. */
static int discover(struct pk_syncer *s, struct pk_ruleset *prev, char *err, size_t errlen)
{
    char e[512];
    /* The rules matter more than the route: without them nothing works,
     * without it only unprogrammed service IPs escape. Retried by checks. */
    if (s->manage_route && pk_route_ensure(s->service_cidr, e, sizeof(e)) < 0)
        log_error(COMP, "routing the service CIDR %s to " PK_SVC_DEV ": %s", s->service_cidr, e);
    if (s->opts.localhost_nodeports && pk_route_localnet(e, sizeof(e)) < 0)
        log_warn(COMP, "%s; NodePorts will not answer on 127.0.0.1", e);
    return pk_ipt_list(&s->ipt, prev, err, errlen);
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

int pk_syncer_sync(struct pk_syncer *s, const cJSON *const *svcs, size_t n_svcs,
                   const cJSON *const *eps, size_t n_eps, char *err, size_t errlen)
{
    struct pk_ruleset next, found = {0};
    size_t ports = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    s->gen_ms = s->write_ms = 0;
    if (generate(&s->opts, svcs, n_svcs, eps, n_eps, &next, &ports, err, errlen) < 0) return -1;
    s->gen_ms = ms_since(&t0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (s->known && pk_ruleset_equal(&next, &s->written)) {
        s->unchanged++;
        pk_ruleset_free(&next);
        return 0;
    }
    bool full = !s->known;
    if (full && discover(s, &found, err, errlen) < 0) {
        pk_ruleset_free(&next);
        return -1;
    }
    size_t len, nw = 0;
    char *text = pk_render(&next, full ? &found : &s->written, &len, &nw);
    pk_ruleset_free(&found);
    int rc = -1;
    if (!text) {
        snprintf(err, errlen, "out of memory rendering rules");
    } else {
        s->restores++;
        rc = pk_ipt_restore(&s->ipt, text, len, err, errlen);
        /* Jumps after the chains they name exist. */
        if (rc == 0 && full) rc = pk_ipt_ensure_jumps(&s->ipt, err, errlen);
    }
    free(text);
    s->write_ms = ms_since(&t0);
    if (rc < 0) {
        /* A partial write was all or nothing per table, but which tables
         * made it is unknown: start over from the kernel next time. */
        s->known = false;
        pk_ruleset_free(&next);
        return -1;
    }
    pk_ruleset_free(&s->written);
    s->written = next;
    s->known = true;
    s->service_ports = ports;
    s->chains_written = nw;
    return 1;
}

int pk_syncer_check(struct pk_syncer *s, char *err, size_t errlen)
{
    if (!s->known) return 1;
    struct pk_ruleset now;
    if (pk_ipt_list(&s->ipt, &now, err, errlen) < 0) return -1;
    bool drift = now.n != s->written.n;
    if (drift)
        log_warn(COMP, "%zu PICOKUBE chains in the kernel, %zu written; rewriting all", now.n,
                 s->written.n);
    for (size_t i = 0; !drift && i < s->written.n; i++) {
        const struct pk_chain *w = &s->written.v[i];
        const struct pk_chain *k = pk_ruleset_find(&now, w->table, w->name);
        size_t lines = 0;
        for (size_t j = 0; j < w->len; j++)
            lines += w->rules[j] == '\n';
        drift = !k || k->len != lines;
        if (drift)
            log_warn(COMP, "chain %s/%s was changed behind the proxy's back; rewriting all",
                     pk_table_name(w->table), w->name);
    }
    pk_ruleset_free(&now);
    if (drift) s->known = false;
    if (pk_ipt_ensure_jumps(&s->ipt, err, errlen) < 0) return -1;
    if (!drift && s->manage_route && pk_route_ensure(s->service_cidr, err, errlen) < 0) return -1;
    return drift ? 1 : 0;
}

/* ------------------------------------------------------ API-less entries */

/* The objects of a list ({"items": [...]}) or array as a pointer array. */
static const cJSON **items(const cJSON *list, size_t *n)
{
    const cJSON *arr = cJSON_IsArray(list) ? list : cJSON_GetObjectItemCaseSensitive(list, "items");
    *n = 0;
    int sz = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    const cJSON **v = malloc(((size_t)sz + 1) * sizeof(*v));
    if (!v) return NULL;
    const cJSON *o;
    cJSON_ArrayForEach(o, arr)
    {
        if (cJSON_IsObject(o)) v[(*n)++] = o;
    }
    return v;
}

char *proxy_render(const struct proxy_config *cfg, const cJSON *services, const cJSON *endpoints,
                   char *err, size_t errlen)
{
    struct pk_syncer s;
    if (pk_syncer_init(&s, cfg, err, errlen) < 0) return NULL;
    size_t ns, ne;
    const cJSON **sv = items(services, &ns), **ev = items(endpoints, &ne);
    char *text = NULL;
    struct pk_ruleset rs;
    if (!sv || !ev)
        snprintf(err, errlen, "out of memory");
    else if (generate(&s.opts, sv, ns, ev, ne, &rs, NULL, err, errlen) == 0) {
        text = pk_render(&rs, NULL, NULL, NULL);
        if (!text) snprintf(err, errlen, "out of memory");
        pk_ruleset_free(&rs);
    }
    free(sv);
    free(ev);
    pk_syncer_free(&s);
    return text;
}

int proxy_apply(const struct proxy_config *cfg, const cJSON *services, const cJSON *endpoints,
                char *err, size_t errlen)
{
    struct pk_syncer s;
    if (pk_syncer_init(&s, cfg, err, errlen) < 0) return -1;
    size_t ns, ne;
    const cJSON **sv = items(services, &ns), **ev = items(endpoints, &ne);
    int rc = -1;
    if (!sv || !ev)
        snprintf(err, errlen, "out of memory");
    else
        rc = pk_syncer_sync(&s, sv, ns, ev, ne, err, errlen) < 0 ? -1 : 0;
    free(sv);
    free(ev);
    pk_syncer_free(&s);
    return rc;
}

int proxy_cleanup(const struct proxy_config *cfg, char *err, size_t errlen)
{
    struct pk_syncer s;
    if (pk_syncer_init(&s, cfg, err, errlen) < 0) return -1;
    int rc = pk_ipt_cleanup(&s.ipt, err, errlen);
    char e[512];
    if (s.manage_route && pk_route_remove(e, sizeof(e)) < 0) {
        if (rc == 0) snprintf(err, errlen, "%s", e);
        rc = -1;
    }
    pk_syncer_free(&s);
    return rc;
}
