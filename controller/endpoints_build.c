/*
 * endpoints_build.c - what a Service's Endpoints and EndpointSlices should
 * contain, as pure functions of the Service and its selected pods.
 *
 * Kubernetes' rules: a pod counts once it has an IP and is not finished;
 * a terminating pod counts only for Services that publish not-ready
 * addresses; ready pods are addresses, the others notReadyAddresses (or
 * endpoints with ready=false in slices); each Service port resolves its
 * targetPort per pod (a number as is, a name through the pod's container
 * ports of that protocol, skipped where the pod has no such port), and pods
 * resolving to the same ports share a subset. The output is canonical
 * (sorted), so comparing it with what is stored tells whether to write.
 */
#include <stdlib.h>
#include <string.h>

#include "controller/ctrl_int.h"

int64_t eps_resolve_port(const cJSON *pod, const cJSON *svc_port)
{
    const cJSON *tp = cJSON_GetObjectItemCaseSensitive(svc_port, "targetPort");
    if (!tp || cJSON_IsNull(tp)) return cj_int(svc_port, "port", -1);
    if (cJSON_IsNumber(tp)) return (int64_t)tp->valuedouble;
    if (!cJSON_IsString(tp)) return -1;
    const char *proto = cj_str(svc_port, "protocol");
    if (!proto) proto = "TCP";
    const cJSON *c, *p;
    cJSON_ArrayForEach(c, cj_get(pod, "spec.containers"))
    {
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(c, "ports"))
        {
            const char *pp = cj_str(p, "protocol");
            if (!strcmp(cj_str0(p, "name"), tp->valuestring) && !strcmp(pp ? pp : "TCP", proto))
                return cj_int(p, "containerPort", -1);
        }
    }
    return -1;
}

bool eps_pod_included(const cJSON *pod, bool publish_not_ready)
{
    if (!*cj_str0(pod, "status.podIP")) return false;
    if (!publish_not_ready && cx_pod_deleting(pod)) return false;
    return !cx_pod_terminal(pod);
}

/* The ports pod serves for svc, sorted; NULL when none resolves. */
static cJSON *pod_ports(const cJSON *svc, const cJSON *pod, bool *any)
{
    cJSON *ports = cj_new_arr();
    const cJSON *sp;
    *any = false;
    cJSON_ArrayForEach(sp, cj_get(svc, "spec.ports"))
    {
        int64_t port = eps_resolve_port(pod, sp);
        if (port <= 0) continue;
        cJSON *e = cj_new_obj();
        const char *name = cj_str(sp, "name");
        cj_set_str(e, "name", name ? name : "");
        cj_set_int(e, "port", port);
        cj_set_str(e, "protocol", cj_str(sp, "protocol") ? cj_str(sp, "protocol") : "TCP");
        cj_push(ports, e);
        *any = true;
    }
    return ports;
}

struct member {
    const cJSON *pod;
    bool ready;
};

struct group {
    char *key; /* canonical text of the ports */
    cJSON *ports;
    struct member *m;
    size_t n;
};

static int cmp_member(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    int c = strcmp(cj_str0(x->pod, "status.podIP"), cj_str0(y->pod, "status.podIP"));
    return c ? c : strcmp(cj_str0(x->pod, "metadata.name"), cj_str0(y->pod, "metadata.name"));
}

static int cmp_group(const void *a, const void *b)
{
    return strcmp(((const struct group *)a)->key, ((const struct group *)b)->key);
}

/* Pods of svc grouped by the ports they serve, each group sorted by IP. */
static struct group *groups_of(const cJSON *svc, const cJSON *const *pods, size_t n, size_t *ng)
{
    bool publish = cj_true(svc, "spec.publishNotReadyAddresses");
    bool headless = !strcmp(cj_str0(svc, "spec.clusterIP"), "None");
    bool portless = cJSON_GetArraySize(cj_get(svc, "spec.ports")) == 0;
    struct group *g = NULL;
    *ng = 0;
    for (size_t i = 0; i < n; i++) {
        if (!eps_pod_included(pods[i], publish)) continue;
        bool any;
        cJSON *ports = pod_ports(svc, pods[i], &any);
        /* A pod serving none of the ports is left out, except for a
         * headless Service without ports (DNS only). */
        if (!any && !(portless && headless)) {
            cJSON_Delete(ports);
            continue;
        }
        char *key = cj_canonical(ports);
        size_t j;
        for (j = 0; j < *ng && strcmp(g[j].key, key); j++)
            ;
        if (j == *ng) {
            g = cx_realloc(g, (*ng + 1) * sizeof(*g));
            memset(&g[j], 0, sizeof(*g));
            g[j].key = key;
            g[j].ports = ports;
            (*ng)++;
        } else {
            free(key);
            cJSON_Delete(ports);
        }
        g[j].m = cx_realloc(g[j].m, (g[j].n + 1) * sizeof(*g[j].m));
        g[j].m[g[j].n].pod = pods[i];
        g[j].m[g[j].n].ready = publish || (cx_pod_ready(pods[i]) && !cx_pod_deleting(pods[i]));
        g[j].n++;
    }
    /* qsort wants a non-NULL array even for zero elements. */
    for (size_t j = 0; j < *ng; j++)
        if (g[j].n) qsort(g[j].m, g[j].n, sizeof(*g[j].m), cmp_member);
    if (*ng) qsort(g, *ng, sizeof(*g), cmp_group);
    return g;
}

static void groups_free(struct group *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(g[i].key);
        cJSON_Delete(g[i].ports);
        free(g[i].m);
    }
    free(g);
}

static cJSON *target_ref(const cJSON *pod)
{
    cJSON *r = cj_new_obj();
    cj_set_str(r, "kind", "Pod");
    cj_set_str(r, "namespace", cj_str0(pod, "metadata.namespace"));
    cj_set_str(r, "name", cj_str0(pod, "metadata.name"));
    cj_set_str(r, "uid", cj_str0(pod, "metadata.uid"));
    return r;
}

cJSON *eps_subsets(const cJSON *svc, const cJSON *const *pods, size_t n)
{
    size_t ng;
    struct group *g = groups_of(svc, pods, n, &ng);
    cJSON *subsets = cj_new_arr();
    for (size_t i = 0; i < ng; i++) {
        cJSON *ready = cj_new_arr(), *not_ready = cj_new_arr();
        for (size_t k = 0; k < g[i].n; k++) {
            const cJSON *pod = g[i].m[k].pod;
            cJSON *a = cj_new_obj();
            cj_set_str(a, "ip", cj_str0(pod, "status.podIP"));
            const char *node = cj_str(pod, "spec.nodeName");
            if (node && *node) cj_set_str(a, "nodeName", node);
            cj_set(a, "targetRef", target_ref(pod));
            cj_push(g[i].m[k].ready ? ready : not_ready, a);
        }
        cJSON *s = cj_new_obj();
        if (cJSON_GetArraySize(ready))
            cj_set(s, "addresses", ready);
        else
            cJSON_Delete(ready);
        if (cJSON_GetArraySize(not_ready))
            cj_set(s, "notReadyAddresses", not_ready);
        else
            cJSON_Delete(not_ready);
        /* Endpoints ports carry a name only when the Service port has one. */
        cJSON *ports = cx_dup(g[i].ports), *p;
        cJSON_ArrayForEach(p, ports)
        {
            if (!*cj_str0(p, "name")) cJSON_DeleteItemFromObjectCaseSensitive(p, "name");
        }
        if (cJSON_GetArraySize(ports))
            cj_set(s, "ports", ports);
        else
            cJSON_Delete(ports);
        cj_push(subsets, s);
    }
    groups_free(g, ng);
    return subsets;
}

static cJSON *slice(const cJSON *ports)
{
    cJSON *s = cj_new_obj();
    cj_set_str(s, "addressType", "IPv4");
    cj_set(s, "endpoints", cj_new_arr());
    cj_set(s, "ports", ports ? cx_dup(ports) : cj_new_arr());
    return s;
}

cJSON *eps_slices(const cJSON *svc, const cJSON *const *pods, size_t n)
{
    size_t ng;
    struct group *g = groups_of(svc, pods, n, &ng);
    cJSON *out = cj_new_arr();
    for (size_t i = 0; i < ng; i++) {
        cJSON *cur = NULL;
        for (size_t k = 0; k < g[i].n; k++) {
            if (!cur || cJSON_GetArraySize(cj_get(cur, "endpoints")) >= EPS_MAX_PER_SLICE) {
                cur = slice(g[i].ports);
                cj_push(out, cur);
            }
            const cJSON *pod = g[i].m[k].pod;
            cJSON *e = cj_new_obj();
            cJSON *addrs = cj_new_arr();
            cj_push(addrs, cJSON_CreateString(cj_str0(pod, "status.podIP")));
            cj_set(e, "addresses", addrs);
            cJSON *cond = cj_obj(e, "conditions");
            cj_set_bool(cond, "ready", g[i].m[k].ready);
            cj_set_bool(cond, "serving", cx_pod_ready(pod));
            cj_set_bool(cond, "terminating", cx_pod_deleting(pod));
            const char *node = cj_str(pod, "spec.nodeName");
            if (node && *node) cj_set_str(e, "nodeName", node);
            cj_set(e, "targetRef", target_ref(pod));
            cj_push((cJSON *)cj_get(cur, "endpoints"), e);
        }
    }
    /* A Service without endpoints still has one (empty) slice, as in
     * Kubernetes, so watchers can tell "no endpoints" from "not synced". */
    if (!ng) cj_push(out, slice(NULL));
    groups_free(g, ng);
    return out;
}
