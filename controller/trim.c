/*
 * trim.c - the resources the controller watches and what its caches keep
 * of each object.
 *
 * Caches hold only the fields some loop reads: on a 1 GB Pi with 10,000
 * pods, a whole pod tree (hundreds of cJSON nodes, the managed fields, the
 * container specs) would cost ten times what the loops need. Every object
 * keeps its identity, owners, finalizers and deletion (the garbage
 * collector reads those of everything); pods keep what replication,
 * endpoints and node lifecycle read; workloads keep spec and status whole
 * (there are few of them and their templates are needed to create pods).
 */
#include <stdlib.h>
#include <string.h>

#include "controller/ctrl_int.h"

#define META_PATHS                                                                                 \
    "metadata.name", "metadata.namespace", "metadata.uid", "metadata.resourceVersion",             \
        "metadata.ownerReferences", "metadata.finalizers", "metadata.deletionTimestamp",           \
        "metadata.creationTimestamp"

static cJSON *keep(const cJSON *full, const char *const *paths, size_t n)
{
    cJSON *o = api_json_keep(full, paths, n);
    if (!o) cx_oom();
    return o;
}

cJSON *ctrl_trim_meta(const cJSON *full, void *data)
{
    (void)data;
    static const char *const p[] = {META_PATHS};
    return keep(full, p, sizeof p / sizeof *p);
}

cJSON *ctrl_trim_workload(const cJSON *full, void *data)
{
    (void)data;
    static const char *const p[] = {
        META_PATHS, "metadata.generation", "metadata.labels", "metadata.annotations", "spec",
        "status"};
    cJSON *o = keep(full, p, sizeof p / sizeof *p);
    /* kubectl apply's copy of the whole object is never read here. */
    cJSON *ann = (cJSON *)cj_get(o, "metadata.annotations");
    if (ann)
        cJSON_DeleteItemFromObjectCaseSensitive(ann,
                                                "kubectl.kubernetes.io/last-applied-configuration");
    return o;
}

cJSON *ctrl_trim_node(const cJSON *full, void *data)
{
    (void)data;
    static const char *const p[] = {META_PATHS, "spec.taints", "spec.podCIDR", "spec.podCIDRs",
                                    "status.conditions"};
    return keep(full, p, sizeof p / sizeof *p);
}

static cJSON *trim_lease(const cJSON *full, void *data)
{
    (void)data;
    static const char *const p[] = {META_PATHS, "spec.renewTime", "spec.holderIdentity"};
    return keep(full, p, sizeof p / sizeof *p);
}

static cJSON *trim_service(const cJSON *full, void *data)
{
    (void)data;
    static const char *const p[] = {META_PATHS,       "metadata.labels",
                                    "spec.selector",  "spec.ports",
                                    "spec.clusterIP", "spec.publishNotReadyAddresses"};
    return keep(full, p, sizeof p / sizeof *p);
}

static cJSON *trim_endpoints(const cJSON *full, void *data)
{
    (void)data;
    static const char *const p[] = {META_PATHS, "metadata.labels", "subsets"};
    return keep(full, p, sizeof p / sizeof *p);
}

static cJSON *trim_slice(const cJSON *full, void *data)
{
    (void)data;
    static const char *const p[] = {META_PATHS, "metadata.labels", "addressType", "endpoints",
                                    "ports"};
    return keep(full, p, sizeof p / sizeof *p);
}

/* ------------------------------------------------------------ compact pods
 * Pods are most of the memory: 10,000 of them must fit in a few MB. Their
 * trees are built with interned strings: member names are shared constant
 * keys, and values that repeat across pods (namespace, labels, owner
 * references, node names, phases, tolerations) are references into the
 * session's string pool; only per-pod values (name, uid, times, IP) are
 * copied. The pool is capped; past the cap strings are simply copied. */

#define POOL_CAP 16384
#define POOL_MAX_LEN 512

static ctrl_map_t *pool_of(void *data)
{
    struct ctrl_shared *sh = data;
    return sh && sh->s ? &sh->s->strings : NULL;
}

static const char *intern(ctrl_map_t *pool, const char *str)
{
    if (!pool || strlen(str) > POOL_MAX_LEN) return NULL;
    if (pool->n >= POOL_CAP && !cm_has(pool, str)) return NULL;
    return cm_intern(pool, str);
}

static void add_member(ctrl_map_t *pool, cJSON *obj, const char *key, cJSON *item)
{
    if (!item) cx_oom();
    const char *k = intern(pool, key);
    if (!(k ? cJSON_AddItemToObjectCS(obj, k, item) : cJSON_AddItemToObject(obj, key, item)))
        cx_oom();
}

static cJSON *str_item(ctrl_map_t *pool, const char *v, bool share)
{
    const char *iv = share ? intern(pool, v) : NULL;
    cJSON *it = iv ? cJSON_CreateStringReference(iv) : cJSON_CreateString(v);
    if (!it) cx_oom();
    return it;
}

static cJSON *copy(ctrl_map_t *pool, const cJSON *src, bool share)
{
    cJSON *out;
    const cJSON *c;
    if (cJSON_IsObject(src)) {
        out = cj_new_obj();
        cJSON_ArrayForEach(c, src) add_member(pool, out, c->string, copy(pool, c, share));
    } else if (cJSON_IsArray(src)) {
        out = cj_new_arr();
        cJSON_ArrayForEach(c, src) cj_push(out, copy(pool, c, share));
    } else if (cJSON_IsString(src)) {
        out = str_item(pool, src->valuestring, share);
    } else {
        out = cx_dup(src);
    }
    return out;
}

/* Copies the member at a dotted path of full into out; a leading '!' marks
 * a value of its own (not shared through the pool). */
static void keep_path(ctrl_map_t *pool, cJSON *out, const cJSON *full, const char *path)
{
    bool share = path[0] != '!';
    if (!share) path++;
    const char *dot = strrchr(path, '.');
    char parent[64];
    snprintf(parent, sizeof parent, "%.*s", dot ? (int)(dot - path) : 0, path);
    const cJSON *v = cj_get(full, path);
    if (!v) return;
    cJSON *dst = out;
    if (dot) {
        const char *p = parent;
        while (*p) {
            const char *d = strchr(p, '.');
            char k[32];
            snprintf(k, sizeof k, "%.*s", d ? (int)(d - p) : (int)strlen(p), p);
            cJSON *next = cJSON_GetObjectItemCaseSensitive(dst, k);
            if (!next) {
                next = cj_new_obj();
                add_member(pool, dst, k, next);
            }
            dst = next;
            p = d ? d + 1 : p + strlen(p);
        }
    }
    add_member(pool, dst, dot ? dot + 1 : path, copy(pool, v, share));
}

cJSON *ctrl_trim_pod(const cJSON *full, void *data)
{
    ctrl_map_t *pool = pool_of(data);
    static const char *const paths[] = {
        "!metadata.name",
        "metadata.namespace",
        "!metadata.uid",
        "metadata.ownerReferences",
        "metadata.finalizers",
        "!metadata.deletionTimestamp",
        "!metadata.creationTimestamp",
        "metadata.labels",
        "spec.nodeName",
        "status.phase",
        "!status.podIP",
    };
    cJSON *o = cj_new_obj();
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        keep_path(pool, o, full, paths[i]);
    /* Tolerations are read only on a tainted node: kept as one (shared)
     * JSON text, parsed when needed. */
    const cJSON *tols = cj_get(full, "spec.tolerations");
    if (cJSON_IsArray(tols) && cJSON_GetArraySize(tols)) {
        char *text = cJSON_PrintUnformatted(tols);
        if (!text) cx_oom();
        add_member(pool, cj_obj(o, "spec"), "tolerations", str_item(pool, text, true));
        free(text);
    }
    cJSON *conts = NULL;
    const cJSON *c;
    cJSON_ArrayForEach(c, cj_get(full, "spec.containers"))
    {
        cJSON *ports = NULL;
        const cJSON *port;
        cJSON_ArrayForEach(port, cJSON_GetObjectItemCaseSensitive(c, "ports"))
        {
            const char *name = cj_str(port, "name");
            if (!name || !*name) continue;
            cJSON *kp = cj_new_obj();
            add_member(pool, kp, "name", str_item(pool, name, true));
            add_member(pool, kp, "containerPort",
                       cJSON_CreateNumber((double)cj_int(port, "containerPort", 0)));
            const char *proto = cj_str(port, "protocol");
            add_member(pool, kp, "protocol", str_item(pool, proto ? proto : "TCP", true));
            if (!ports) ports = cj_new_arr();
            cj_push(ports, kp);
        }
        if (!ports) continue;
        cJSON *kc = cj_new_obj();
        add_member(pool, kc, "ports", ports);
        if (!conts) conts = cj_new_arr();
        cj_push(conts, kc);
    }
    if (conts) add_member(pool, cj_obj(o, "spec"), "containers", conts);
    const cJSON *ready = cx_condition(full, "Ready");
    if (ready) {
        cJSON *kr = cj_new_obj();
        add_member(pool, kr, "type", str_item(pool, "Ready", true));
        add_member(pool, kr, "status", str_item(pool, cj_str0(ready, "status"), true));
        const char *lt = cj_str(ready, "lastTransitionTime");
        if (lt) add_member(pool, kr, "lastTransitionTime", str_item(pool, lt, false));
        cJSON *arr = cj_new_arr();
        cj_push(arr, kr);
        add_member(pool, cj_obj(o, "status"), "conditions", arr);
    }
    int64_t restarts = 0;
    cJSON_ArrayForEach(c, cj_get(full, "status.containerStatuses")) restarts +=
        cj_int(c, "restartCount", 0);
    if (restarts)
        add_member(pool, cj_obj(o, "status"), "restarts", cJSON_CreateNumber((double)restarts));
    return o;
}

static const struct ctrl_res_info infos[CR_N] = {
    [CR_PODS] = {"", "v1", "pods", "Pod", "v1", NULL, true, ctrl_trim_pod},
    [CR_REPLICASETS] = {"apps", "v1", "replicasets", "ReplicaSet", "apps/v1", NULL, true,
                        ctrl_trim_workload},
    [CR_RCS] = {"", "v1", "replicationcontrollers", "ReplicationController", "v1", NULL, true,
                ctrl_trim_workload},
    [CR_DEPLOYMENTS] = {"apps", "v1", "deployments", "Deployment", "apps/v1", NULL, true,
                        ctrl_trim_workload},
    [CR_NODES] = {"", "v1", "nodes", "Node", "v1", NULL, false, ctrl_trim_node},
    [CR_NODE_LEASES] = {"coordination.k8s.io", "v1", "leases", "Lease", "coordination.k8s.io/v1",
                        "kube-node-lease", true, trim_lease},
    [CR_SERVICES] = {"", "v1", "services", "Service", "v1", NULL, true, trim_service},
    [CR_ENDPOINTS] = {"", "v1", "endpoints", "Endpoints", "v1", NULL, true, trim_endpoints},
    [CR_SLICES] = {"discovery.k8s.io", "v1", "endpointslices", "EndpointSlice",
                   "discovery.k8s.io/v1", NULL, true, trim_slice},
    [CR_DAEMONSETS] = {"apps", "v1", "daemonsets", "DaemonSet", "apps/v1", NULL, true,
                       ctrl_trim_meta},
    [CR_CONFIGMAPS] = {"", "v1", "configmaps", "ConfigMap", "v1", NULL, true, ctrl_trim_meta},
    [CR_SECRETS] = {"", "v1", "secrets", "Secret", "v1", NULL, true, ctrl_trim_meta},
    [CR_SERVICEACCOUNTS] = {"", "v1", "serviceaccounts", "ServiceAccount", "v1", NULL, true,
                            ctrl_trim_meta},
};

const struct ctrl_res_info *ctrl_res_info(enum ctrl_res r)
{
    return &infos[r];
}

api_ref_t ctrl_ref(enum ctrl_res r, const char *ns, const char *name, const char *sub)
{
    api_ref_t ref = {0};
    ref.group = infos[r].group;
    ref.version = infos[r].version;
    ref.resource = infos[r].resource;
    ref.ns = infos[r].namespaced ? ns : NULL;
    ref.name = name;
    ref.subresource = sub;
    return ref;
}
