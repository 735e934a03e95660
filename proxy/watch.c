/*
 * watch.c - where the proxy meets the API: list+watch informers on
 * Services and Endpoints (all namespaces), trimmed to the fields the rules
 * use, telling the proxy loop that something changed. The loop decides
 * when to sync; this file only keeps the caches.
 */
#include <stdlib.h>

#include "api/api.h"
#include "lib/lib.h"
#include "proxy/proxy_int.h"

static cJSON *trim_service(const cJSON *full, void *data)
{
    (void)data;
    static const char *const keep[] = {
        "metadata.name",
        "metadata.namespace",
        "spec.type",
        "spec.clusterIP",
        "spec.ports",
        "spec.externalIPs",
        "spec.sessionAffinity",
        "spec.sessionAffinityConfig",
        "spec.externalTrafficPolicy",
        "spec.internalTrafficPolicy",
        "status.loadBalancer",
    };
    return api_json_keep(full, keep, sizeof(keep) / sizeof(keep[0]));
}

/* Endpoints keep ready addresses (ip, nodeName) and ports; targetRefs and
 * not-ready addresses are most of an Endpoints object and never used. */
static cJSON *trim_endpoints(const cJSON *full, void *data)
{
    (void)data;
    static const char *const keep[] = {"metadata.name", "metadata.namespace"};
    cJSON *out = api_json_keep(full, keep, 2);
    cJSON *subsets = cJSON_CreateArray();
    if (!out || !subsets || !cJSON_AddItemToObject(out, "subsets", subsets)) {
        cJSON_Delete(subsets);
        return out;
    }
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(full, "subsets"))
    {
        cJSON *ns = cJSON_CreateObject(), *addrs = cJSON_CreateArray();
        const cJSON *ports = cJSON_GetObjectItemCaseSensitive(s, "ports");
        cJSON *pc = ports ? cJSON_Duplicate(ports, true) : cJSON_CreateArray();
        if (!ns || !addrs || !pc) {
            cJSON_Delete(ns);
            cJSON_Delete(addrs);
            cJSON_Delete(pc);
            continue;
        }
        cJSON_AddItemToObject(ns, "addresses", addrs);
        cJSON_AddItemToObject(ns, "ports", pc);
        const cJSON *a;
        cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(s, "addresses"))
        {
            static const char *const ak[] = {"ip", "nodeName"};
            cJSON *ac = api_json_keep(a, ak, 2);
            if (ac) cJSON_AddItemToArray(addrs, ac);
        }
        cJSON_AddItemToArray(subsets, ns);
    }
    return out;
}

static void on_add(const cJSON *obj, void *data)
{
    (void)obj;
    struct pk_watch *w = data;
    w->changed(w->data);
}

static void on_update(const cJSON *old_obj, const cJSON *new_obj, void *data)
{
    (void)old_obj;
    on_add(new_obj, data);
}

static void on_synced(void *data)
{
    struct pk_watch *w = data;
    w->changed(w->data);
}

static api_informer_t *informer(api_client_t *c, const char *resource, api_trim_fn trim,
                                struct pk_watch *w)
{
    api_informer_config_t cfg = {
        .ref = {.resource = resource},
        .trim = trim,
        .handlers = {.on_add = on_add,
                     .on_update = on_update,
                     .on_delete = on_add,
                     .on_synced = on_synced},
        .data = w,
    };
    return api_informer_new(c, &cfg);
}

int pk_watch_start(struct pk_watch *w, struct api_client *c, void (*changed)(void *data),
                   void *data)
{
    w->changed = changed;
    w->data = data;
    w->svcs = informer(c, "services", trim_service, w);
    w->eps = informer(c, "endpoints", trim_endpoints, w);
    if (!w->svcs || !w->eps) {
        pk_watch_stop(w);
        return -1;
    }
    return 0;
}

void pk_watch_stop(struct pk_watch *w)
{
    if (w->svcs) api_informer_free(w->svcs);
    if (w->eps) api_informer_free(w->eps);
    w->svcs = w->eps = NULL;
}

bool pk_watch_synced(const struct pk_watch *w)
{
    return w->svcs && w->eps && api_informer_has_synced(w->svcs) && api_informer_has_synced(w->eps);
}

struct collect {
    const cJSON **v;
    size_t n, cap;
};

static bool collect(const char *key, const cJSON *obj, void *arg)
{
    (void)key;
    struct collect *c = arg;
    if (c->n < c->cap) c->v[c->n++] = obj;
    return c->n < c->cap;
}

static const cJSON **all(const api_informer_t *inf, size_t *n)
{
    struct collect c = {.cap = api_informer_count(inf)};
    c.v = malloc((c.cap ? c.cap : 1) * sizeof(*c.v));
    if (!c.v) return NULL;
    if (c.cap) api_informer_foreach(inf, collect, &c);
    *n = c.n;
    return c.v;
}

int pk_watch_objects(const struct pk_watch *w, const cJSON ***svcs, size_t *n_svcs,
                     const cJSON ***eps, size_t *n_eps)
{
    *svcs = all(w->svcs, n_svcs);
    *eps = all(w->eps, n_eps);
    if (!*svcs || !*eps) {
        free(*svcs);
        free(*eps);
        *svcs = *eps = NULL;
        return -1;
    }
    return 0;
}
