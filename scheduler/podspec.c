/*
 * podspec.c - what a whole pod asks of a node, read once: its requests as
 * Kubernetes counts them (init containers, sidecars, overhead), the
 * "non-zero" requests scores use, its host ports, its controller, and where
 * its constraints (nodeSelector, required node affinity, tolerations) are.
 * The compact form the informer keeps is podtrim.c's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "scheduler/sched_core.h"

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* ---------------------------------------------------------- requests */

/* cpu and memory of a requests ResourceList, with limits standing in for
 * what requests lack (the API server's defaulting; lim may be NULL).
 * *has_cpu / *has_mem tell whether each was given at all: scores default
 * the missing ones. `what` names the owner in messages. */
static int resource_list(const cJSON *req, const cJSON *lim, const char *what, struct sc_res *r,
                         bool *has_cpu, bool *has_mem, char *err, size_t errlen)
{
    static const char *const names[] = {"cpu", "memory"};
    *r = (struct sc_res){0};
    *has_cpu = *has_mem = false;
    for (int i = 0; i < 2; i++) {
        const cJSON *v = get(req, names[i]);
        if (!v) v = get(lim, names[i]);
        if (!v) continue;
        api_quantity_t q;
        char qerr[128];
        if (api_quantity_from_json(v, &q, qerr, sizeof(qerr)) < 0) {
            snprintf(err, errlen, "%s: %s: %s", what, names[i], qerr);
            return -1;
        }
        if (i == 0) {
            r->cpu = api_quantity_milli(&q);
            *has_cpu = true;
        } else {
            r->mem = api_quantity_value(&q);
            *has_mem = true;
        }
    }
    return 0;
}

static int container_requests(const cJSON *c, struct sc_res *r, bool *has_cpu, bool *has_mem,
                              char *err, size_t errlen)
{
    const cJSON *res = get(c, "resources");
    char what[300];
    snprintf(what, sizeof(what), "container %s", str(c, "name") ? str(c, "name") : "?");
    return resource_list(get(res, "requests"), get(res, "limits"), what, r, has_cpu, has_mem, err,
                         errlen);
}

static void res_add(struct sc_res *a, const struct sc_res *b)
{
    a->cpu += b->cpu;
    a->mem += b->mem;
}

static void res_max(struct sc_res *a, const struct sc_res *b)
{
    if (b->cpu > a->cpu) a->cpu = b->cpu;
    if (b->mem > a->mem) a->mem = b->mem;
}

static bool is_sidecar(const cJSON *c)
{
    const char *rp = str(c, "restartPolicy");
    return rp && !strcmp(rp, "Always");
}

/* Kubernetes' PodRequests, for both the real and the non-zero variant:
 * containers add up; each init container needs its own request plus the
 * sidecars (restartable init containers) started before it; sidecars also
 * run beside the containers; the pod needs the larger of both phases, plus
 * its overhead. */
static int pod_requests(const cJSON *spec, bool nonzero, struct sc_res *out, char *err,
                        size_t errlen)
{
    struct sc_res sum = {0}, sidecars = {0}, init_max = {0}, r;
    bool hc, hm;
    const cJSON *c;
    cJSON_ArrayForEach(c, get(spec, "containers"))
    {
        if (container_requests(c, &r, &hc, &hm, err, errlen) < 0) return -1;
        if (nonzero && !hc) r.cpu = SC_DEFAULT_MILLI_CPU;
        if (nonzero && !hm) r.mem = SC_DEFAULT_MEMORY;
        res_add(&sum, &r);
    }
    cJSON_ArrayForEach(c, get(spec, "initContainers"))
    {
        if (container_requests(c, &r, &hc, &hm, err, errlen) < 0) return -1;
        if (nonzero && !hc) r.cpu = SC_DEFAULT_MILLI_CPU;
        if (nonzero && !hm) r.mem = SC_DEFAULT_MEMORY;
        struct sc_res need;
        if (is_sidecar(c)) {
            res_add(&sum, &r);
            res_add(&sidecars, &r);
            need = sidecars;
        } else {
            need = r;
            res_add(&need, &sidecars);
        }
        res_max(&init_max, &need);
    }
    res_max(&sum, &init_max);
    const cJSON *oh = get(spec, "overhead");
    if (oh) {
        if (resource_list(oh, NULL, "overhead", &r, &hc, &hm, err, errlen) < 0) return -1;
        res_add(&sum, &r);
    }
    *out = sum;
    return 0;
}

enum sc_proto sc_proto_of(const char *p)
{
    if (p && !strcmp(p, "UDP")) return SC_UDP;
    if (p && !strcmp(p, "SCTP")) return SC_SCTP;
    return SC_TCP;
}

const char *sc_proto_name(enum sc_proto p)
{
    return p == SC_UDP ? "UDP" : p == SC_SCTP ? "SCTP" : "TCP";
}

int sc_pod_add_port(struct sc_pod *p, int32_t port, enum sc_proto proto, const char *ip)
{
    struct sc_port *v = realloc(p->ports, (p->nports + 1) * sizeof(*v));
    if (!v) return -1;
    p->ports = v;
    /* "" and 0.0.0.0 both mean every address, as in Kubernetes' HostPortInfo. */
    bool any = !ip || !*ip || !strcmp(ip, "0.0.0.0");
    v[p->nports] = (struct sc_port){.port = port, .proto = proto, .ip = any ? NULL : strdup(ip)};
    if (!any && !v[p->nports].ip) return -1;
    p->nports++;
    return 0;
}

/* Host ports of the regular containers, as Kubernetes' NodePorts plugin
 * collects them. */
int sc_pod_add_toleration(struct sc_pod *p, const char *key, const char *op, const char *value,
                          const char *effect)
{
    struct sc_toleration *v = realloc(p->tols, (p->ntols + 1) * sizeof(*v));
    if (!v) return -1;
    p->tols = v;
    struct sc_toleration *t = &v[p->ntols];
    t->key = strdup(key ? key : "");
    t->op = strdup(op ? op : "");
    t->value = strdup(value ? value : "");
    t->effect = strdup(effect ? effect : "");
    p->ntols++; /* even half made: sc_pod_clear frees what is there */
    return t->key && t->op && t->value && t->effect ? 0 : -1;
}

static int full_tolerations(const cJSON *spec, struct sc_pod *p)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, get(spec, "tolerations"))
    {
        if (sc_pod_add_toleration(p, str(t, "key"), str(t, "operator"), str(t, "value"),
                                  str(t, "effect")) < 0)
            return -1;
    }
    return 0;
}

static int full_ports(const cJSON *spec, struct sc_pod *p)
{
    const cJSON *c, *port;
    cJSON_ArrayForEach(c, get(spec, "containers"))
    {
        cJSON_ArrayForEach(port, get(c, "ports"))
        {
            const cJSON *hp = get(port, "hostPort");
            if (!cJSON_IsNumber(hp) || hp->valueint <= 0) continue;
            if (sc_pod_add_port(p, hp->valueint, sc_proto_of(str(port, "protocol")),
                                str(port, "hostIP")) < 0)
                return -1;
        }
    }
    return 0;
}

static const char *controller_uid(const cJSON *pod)
{
    const cJSON *ref = api_meta_controller_ref(pod);
    return ref ? str(ref, "uid") : NULL;
}

const cJSON *sc_required_affinity(const cJSON *spec)
{
    const cJSON *na = get(get(spec, "affinity"), "nodeAffinity");
    return get(na, "requiredDuringSchedulingIgnoredDuringExecution");
}

int sc_pod_parse_full(const cJSON *pod, struct sc_pod *out, char *err, size_t errlen)
{
    *out = (struct sc_pod){0};
    const cJSON *spec = get(pod, "spec");
    out->ns = dup_or_null(api_meta_namespace(pod));
    out->name = dup_or_null(api_meta_name(pod));
    out->uid = dup_or_null(api_meta_uid(pod));
    out->owner = dup_or_null(controller_uid(pod));
    if (pod_requests(spec, false, &out->req, err, errlen) < 0 ||
        pod_requests(spec, true, &out->nz, err, errlen) < 0)
        goto fail;
    if (full_ports(spec, out) < 0 || full_tolerations(spec, out) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    out->node_selector = get(spec, "nodeSelector");
    out->affinity = sc_required_affinity(spec);
    return 0;
fail:
    sc_pod_clear(out);
    return -1;
}

void sc_pod_clear(struct sc_pod *p)
{
    free(p->ns);
    free(p->name);
    free(p->uid);
    free(p->owner);
    for (size_t i = 0; i < p->nports; i++)
        free(p->ports[i].ip);
    free(p->ports);
    for (size_t i = 0; i < p->ntols; i++) {
        free(p->tols[i].key);
        free(p->tols[i].op);
        free(p->tols[i].value);
        free(p->tols[i].effect);
    }
    free(p->tols);
    *p = (struct sc_pod){0};
}
