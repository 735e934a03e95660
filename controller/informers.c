/*
 * informers.c - shared informers: one list+watch per resource for the
 * whole controller manager, whatever the number of loops reading it.
 *
 * Replication, deployments, endpoints, node lifecycle and the garbage
 * collector all watch pods; a watch (and a cache) each would multiply the
 * API server's load and our memory by five. Each resource has one
 * api_informer; its events are fanned out to the loops that subscribed
 * before the informers started. The pod indexes are updated before any
 * handler runs, so handlers always see indexes that agree with the cache.
 */
#include <stdlib.h>
#include <string.h>

#include "controller/ctrl_int.h"

void ctrl_split_key(const char *key, char *ns, size_t nslen, char *name, size_t namelen)
{
    const char *slash = strchr(key, '/');
    if (slash) {
        snprintf(ns, nslen, "%.*s", (int)(slash - key), key);
        snprintf(name, namelen, "%s", slash + 1);
    } else {
        snprintf(ns, nslen, "%s", "");
        snprintf(name, namelen, "%s", key);
    }
}

/* ---------------------------------------------------------- pod indexes */

static void pod_index(ctrl_sess_t *s, const cJSON *pod, bool add)
{
    char *key = api_object_key(pod);
    if (!key) return;
    const char *ns = cj_str0(pod, "metadata.namespace");
    const char *owner = cx_controller_uid(pod);
    const char *node = cj_str(pod, "spec.nodeName");
    if (add) {
        cm_set_add(&s->pods_by_ns, ns, key);
        if (owner)
            cm_set_add(&s->pods_by_owner, owner, key);
        else
            cm_set_add(&s->pods_orphans, ns, key);
        if (node && *node) cm_set_add(&s->pods_by_node, node, key);
    } else {
        cm_set_del(&s->pods_by_ns, ns, key);
        if (owner)
            cm_set_del(&s->pods_by_owner, owner, key);
        else
            cm_set_del(&s->pods_orphans, ns, key);
        if (node && *node) cm_set_del(&s->pods_by_node, node, key);
    }
    free(key);
}

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* ------------------------------------------------------------ fan-out */

static void on_add(const cJSON *obj, void *data)
{
    struct ctrl_shared *sh = data;
    if (sh->r == CR_PODS) pod_index(sh->s, obj, true);
    for (int i = 0; i < sh->nsubs && !sh->s->stopping; i++)
        if (sh->subs[i].add) sh->subs[i].add(obj, sh->subs[i].data);
}

static void on_update(const cJSON *old_obj, const cJSON *new_obj, void *data)
{
    struct ctrl_shared *sh = data;
    if (sh->r == CR_PODS &&
        (!str_eq(cx_controller_uid(old_obj), cx_controller_uid(new_obj)) ||
         !str_eq(cj_str(old_obj, "spec.nodeName"), cj_str(new_obj, "spec.nodeName")))) {
        pod_index(sh->s, old_obj, false);
        pod_index(sh->s, new_obj, true);
    }
    for (int i = 0; i < sh->nsubs && !sh->s->stopping; i++)
        if (sh->subs[i].update) sh->subs[i].update(old_obj, new_obj, sh->subs[i].data);
}

static void on_delete(const cJSON *obj, void *data)
{
    struct ctrl_shared *sh = data;
    if (sh->r == CR_PODS) pod_index(sh->s, obj, false);
    for (int i = 0; i < sh->nsubs && !sh->s->stopping; i++)
        if (sh->subs[i].del) sh->subs[i].del(obj, sh->subs[i].data);
}

static void on_synced(void *data)
{
    struct ctrl_shared *sh = data;
    ctrl_sess_t *s = sh->s;
    sh->synced = true;
    for (int i = 0; i < CR_N; i++)
        if (s->inf[i].inf && !s->inf[i].synced) return;
    if (s->synced) return;
    s->synced = true;
    log_info(CTRL_COMP, "caches synced");
    if (s->on_synced) s->on_synced(s);
}

void ctrl_subscribe(ctrl_sess_t *s, enum ctrl_res r, const ctrl_sub_t *sub)
{
    struct ctrl_shared *sh = &s->inf[r];
    if (sh->nsubs == CTRL_MAX_SUBS) {
        log_error(CTRL_COMP, "too many subscribers of %s", ctrl_res_info(r)->resource);
        abort(); /* a programming error, caught by any test run */
    }
    sh->s = s;
    sh->r = r;
    sh->subs[sh->nsubs++] = *sub;
}

int ctrl_informers_start(ctrl_sess_t *s)
{
    for (int i = 0; i < CR_N; i++) {
        struct ctrl_shared *sh = &s->inf[i];
        if (!sh->nsubs) continue;
        const struct ctrl_res_info *ri = ctrl_res_info((enum ctrl_res)i);
        api_informer_config_t cfg = {0};
        cfg.ref.group = ri->group;
        cfg.ref.version = ri->version;
        cfg.ref.resource = ri->resource;
        cfg.ref.ns = ri->ns;
        cfg.trim = ri->trim;
        cfg.data = sh;
        cfg.handlers.on_add = on_add;
        cfg.handlers.on_update = on_update;
        cfg.handlers.on_delete = on_delete;
        cfg.handlers.on_synced = on_synced;
        sh->inf = api_informer_new(s->client, &cfg);
        if (!sh->inf) {
            log_error(CTRL_COMP, "cannot watch %s", ri->resource);
            return -1;
        }
    }
    return 0;
}

void ctrl_informers_stop(ctrl_sess_t *s)
{
    for (int i = 0; i < CR_N; i++) {
        if (s->inf[i].inf) api_informer_free(s->inf[i].inf);
        s->inf[i].inf = NULL;
    }
    cm_set_clear(&s->pods_by_ns);
    cm_set_clear(&s->pods_by_owner);
    cm_set_clear(&s->pods_orphans);
    cm_set_clear(&s->pods_by_node);
}

const cJSON *ctrl_get(ctrl_sess_t *s, enum ctrl_res r, const char *ns, const char *name)
{
    if (!s->inf[r].inf || !name) return NULL;
    return api_informer_get(s->inf[r].inf, ctrl_res_info(r)->namespaced ? ns : NULL, name);
}

const cJSON *ctrl_get_key(ctrl_sess_t *s, enum ctrl_res r, const char *key)
{
    if (!s->inf[r].inf || !key) return NULL;
    return api_informer_get_key(s->inf[r].inf, key);
}

void ctrl_each(ctrl_sess_t *s, enum ctrl_res r,
               bool (*fn)(const char *key, const cJSON *obj, void *arg), void *arg)
{
    if (s->inf[r].inf) api_informer_foreach(s->inf[r].inf, fn, arg);
}

const cJSON **ctrl_pods_of(ctrl_sess_t *s, const ctrl_map_t *keys, size_t *n)
{
    *n = 0;
    if (!keys || !keys->n) return cx_calloc(1, sizeof(const cJSON *));
    size_t nk;
    const char **k = cm_keys(keys, &nk);
    const cJSON **out = cx_calloc(nk, sizeof(*out));
    for (size_t i = 0; i < nk; i++) {
        const cJSON *p = ctrl_get_key(s, CR_PODS, k[i]);
        if (p) out[(*n)++] = p;
    }
    free(k);
    return out;
}

api_workqueue_t *ctrl_queue_new(ctrl_sess_t *s, api_work_fn fn, void *data)
{
    api_workqueue_config_t qc = {0};
    qc.max_active = s->cfg->workers;
    qc.batch = 64;
    qc.max_delay_ms = 60000;
    api_workqueue_t *q = api_workqueue_new(s->loop, &qc, fn, data);
    if (!q) cx_oom();
    return q;
}

bool ctrl_defer_unsynced(ctrl_sess_t *s, api_workqueue_t *q, const char *key)
{
    if (s->synced) return false;
    char *k = cx_strdup(key);
    api_workqueue_done(q, k);
    api_workqueue_add_after(q, k, 100);
    free(k);
    return true;
}
