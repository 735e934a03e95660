/*
 * describe_node.c - kubectl's describer for nodes: roles, taints, the
 * node's Lease, conditions, addresses, capacity, system info, and the
 * pods on it with their requests and limits against the allocatable
 * resources ("Non-terminated Pods", "Allocated resources").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kctl/describe_int.h"

static const char *or_none(const char *s)
{
    return s && *s ? s : "<none>";
}

/* kubectl's "Lease:" section of a node. */
static void node_lease(dw_t *w, kctl_t *k, const char *node)
{
    const api_resource_t *lr = api_resource_by_kind("coordination.k8s.io", "Lease");
    if (!lr) return;
    char *path = kctl_path(lr, "kube-node-lease", node, NULL, NULL);
    api_result_t res;
    kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
    free(path);
    if (!api_result_ok(&res)) {
        dw_line(w, 0, "Lease:\tFailed to get lease: %s\n", res.message);
    } else {
        char t[64];
        dw_line(w, 0, "Lease:\n");
        dw_line(w, 1, "HolderIdentity:\t%s\n",
                kctl_str(res.obj, "spec.holderIdentity") ?: "<unset>");
        const char *at = kctl_str(res.obj, "spec.acquireTime"),
                   *rt = kctl_str(res.obj, "spec.renewTime");
        if (at) dw_time(at, t, sizeof t);
        dw_line(w, 1, "AcquireTime:\t%s\n", at ? t : "<unset>");
        if (rt) dw_time(rt, t, sizeof t);
        dw_line(w, 1, "RenewTime:\t%s\n", rt ? t : "<unset>");
    }
    api_result_free(&res);
}

/* Sum of a pod's containers' resources.<which>.<name> into q. */
static void pod_sum(const cJSON *pod, const char *which, const char *name, api_quantity_t *q)
{
    const cJSON *c;
    char path[128], err[64];
    snprintf(path, sizeof path, "resources.%s", which);
    cJSON_ArrayForEach(c, kctl_at(pod, "spec.containers"))
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(kctl_at(c, path), name);
        api_quantity_t x;
        if (v && api_quantity_from_json(v, &x, err, sizeof err) == 0) api_quantity_add(q, &x);
    }
}

/* kubectl's "%s (%d%%)"; per pod it divides by a zero allocatable too,
 * and Go turns that infinite ratio into the smallest int64 (guarded). */
static void frac(const api_quantity_t *q, const cJSON *alloc, const char *name, bool milli,
                 char *buf, size_t len, bool guarded)
{
    api_quantity_t a = {0};
    char err[64], qs[API_QUANTITY_STRLEN];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(alloc, name);
    if (v) api_quantity_from_json(v, &a, err, sizeof err);
    int64_t den = milli ? api_quantity_milli(&a) : api_quantity_value(&a);
    int64_t num = milli ? api_quantity_milli(q) : api_quantity_value(q);
    long long pct = den ? (long long)((double)num / (double)den * 100) : guarded ? 0 : INT64_MIN;
    snprintf(buf, len, "%s (%lld%%)", api_quantity_format(q, qs, sizeof qs), pct);
}

/* The "Non-terminated Pods" and "Allocated resources" tables. */
static void node_pods(dw_t *w, kctl_t *k, const cJSON *n)
{
    char q[512], t[64];
    snprintf(q, sizeof q, "?fieldSelector=spec.nodeName%%3D%s", api_meta_name(n) ?: "");
    char *path = kctl_path(api_resource_by_kind("", "Pod"), NULL, NULL, NULL, q);
    api_result_t res;
    kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
    free(path);
    const cJSON *items = api_result_ok(&res) ? kctl_at(res.obj, "items") : NULL, *c;
    const cJSON *alloc = kctl_at(n, "status.allocatable");
    int np = 0;
    cJSON_ArrayForEach(c, items)
    {
        const char *ph = kctl_str(c, "status.phase") ?: "";
        if (strcmp(ph, "Succeeded") && strcmp(ph, "Failed")) np++;
    }
    dw_line(w, 0, "Non-terminated Pods:\t(%d in total)\n", np);
    dw_line(w, 1,
            "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n");
    dw_line(w, 1,
            "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n");
    api_quantity_t tot[4] = {{0}};
    cJSON_ArrayForEach(c, items)
    {
        const char *ph = kctl_str(c, "status.phase") ?: "";
        if (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed")) continue;
        api_quantity_t v[4] = {{0}};
        pod_sum(c, "requests", "cpu", &v[0]);
        pod_sum(c, "limits", "cpu", &v[1]);
        pod_sum(c, "requests", "memory", &v[2]);
        pod_sum(c, "limits", "memory", &v[3]);
        char cells[4][96];
        for (int i = 0; i < 4; i++) {
            frac(&v[i], alloc, i < 2 ? "cpu" : "memory", i < 2, cells[i], sizeof cells[i], false);
            api_quantity_add(&tot[i], &v[i]);
        }
        kctl_age(api_meta_creation_timestamp(c), t, sizeof t);
        dw_line(w, 1, "%s\t%s\t\t%s\t%s\t%s\t%s\t%s\n", api_meta_namespace(c) ?: "",
                api_meta_name(c) ?: "", cells[0], cells[1], cells[2], cells[3], t);
    }
    api_result_free(&res);
    dw_line(w, 0, "Allocated resources:\n");
    dw_line(w, 1, "(Total limits may be over 100 percent, i.e., overcommitted.)\n");
    dw_line(w, 1, "Resource\tRequests\tLimits\n");
    dw_line(w, 1, "--------\t--------\t------\n");
    char a[96], b[96];
    frac(&tot[0], alloc, "cpu", true, a, sizeof a, true);
    frac(&tot[1], alloc, "cpu", true, b, sizeof b, true);
    dw_line(w, 1, "cpu\t%s\t%s\n", a, b);
    frac(&tot[2], alloc, "memory", false, a, sizeof a, true);
    frac(&tot[3], alloc, "memory", false, b, sizeof b, true);
    dw_line(w, 1, "memory\t%s\t%s\n", a, b);
    api_quantity_t zero = {0};
    frac(&zero, alloc, "ephemeral-storage", false, a, sizeof a, true);
    dw_line(w, 1, "ephemeral-storage\t%s\t%s\n", a, a);
}

void kctl_describe_node(dw_t *w, kctl_t *k, const cJSON *n)
{
    char t[64], t2[64];
    dw_line(w, 0, "Name:\t%s\n", api_meta_name(n) ?: "");
    char roles[256] = "";
    const cJSON *l;
    cJSON_ArrayForEach(l, api_meta_labels(n))
    {
        const char *pfx = "node-role.kubernetes.io/";
        if (!strncmp(l->string, pfx, strlen(pfx)))
            snprintf(roles + strlen(roles), sizeof roles - strlen(roles), "%s%s", *roles ? "," : "",
                     l->string + strlen(pfx));
    }
    dw_line(w, 0, "Roles:\t%s\n", or_none(roles));
    dw_map(w, 0, "Labels", api_meta_labels(n), NULL);
    dw_annotations(w, 0, api_meta_annotations(n));
    dw_time(api_meta_creation_timestamp(n), t, sizeof t);
    dw_line(w, 0, "CreationTimestamp:\t%s\n", t);
    const cJSON *taints = kctl_at(n, "spec.taints");
    if (!taints || !taints->child)
        dw_line(w, 0, "Taints:\t<none>\n");
    else {
        int i = 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, taints)
        {
            const char *v = kctl_str(x, "value");
            dw_line(w, 0, "%s%s%s%s:%s\n", i++ ? "\t" : "Taints:\t", kctl_str(x, "key") ?: "",
                    v && *v ? "=" : "", v ? v : "", kctl_str(x, "effect") ?: "");
        }
    }
    dw_line(w, 0, "Unschedulable:\t%s\n",
            cJSON_IsTrue(kctl_at(n, "spec.unschedulable")) ? "true" : "false");
    node_lease(w, k, api_meta_name(n));
    const cJSON *conds = kctl_at(n, "status.conditions");
    const cJSON *c;
    if (conds && conds->child) {
        dw_line(w, 0, "Conditions:\n");
        dw_line(w, 1, "Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n");
        dw_line(w, 1, "----\t------\t-----------------\t------------------\t------\t-------\n");
        cJSON_ArrayForEach(c, conds)
        {
            dw_time(kctl_str(c, "lastHeartbeatTime"), t, sizeof t);
            dw_time(kctl_str(c, "lastTransitionTime"), t2, sizeof t2);
            dw_line(w, 1, "%s \t%s \t%s \t%s \t%s \t%s\n", kctl_str(c, "type") ?: "",
                    kctl_str(c, "status") ?: "", t, t2, kctl_str(c, "reason") ?: "",
                    kctl_str(c, "message") ?: "");
        }
    }
    dw_line(w, 0, "Addresses:\n");
    cJSON_ArrayForEach(c, kctl_at(n, "status.addresses"))
        dw_line(w, 1, "%s:\t%s\n", kctl_str(c, "type") ?: "", kctl_str(c, "address") ?: "");
    const char *maps[][2] = {{"status.capacity", "Capacity"},
                             {"status.allocatable", "Allocatable"}};
    for (int i = 0; i < 2; i++) {
        const cJSON *m = kctl_at(n, maps[i][0]);
        if (!m || !m->child) continue;
        dw_line(w, 0, "%s:\n", maps[i][1]);
        cJSON_ArrayForEach(c, m)
            dw_line(w, 1, "%s:\t%s\n", c->string, cJSON_IsString(c) ? c->valuestring : "");
    }
    static const char *const f[][2] = {{"machineID", "Machine ID"},
                                       {"systemUUID", "System UUID"},
                                       {"bootID", "Boot ID"},
                                       {"kernelVersion", "Kernel Version"},
                                       {"osImage", "OS Image"},
                                       {"operatingSystem", "Operating System"},
                                       {"architecture", "Architecture"},
                                       {"containerRuntimeVersion", "Container Runtime Version"},
                                       {"kubeletVersion", "Kubelet Version"},
                                       {"kubeProxyVersion", "Kube-Proxy Version"}};
    const cJSON *ni = kctl_at(n, "status.nodeInfo");
    dw_line(w, 0, "System Info:\n");
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        dw_line(w, 1, "%s:\t%s\n", f[i][1], kctl_str(ni, f[i][0]) ?: "");
    if (kctl_str(n, "spec.podCIDR")) dw_line(w, 0, "PodCIDR:\t%s\n", kctl_str(n, "spec.podCIDR"));
    const cJSON *cidrs = kctl_at(n, "spec.podCIDRs");
    if (cidrs && cidrs->child) {
        char b[256] = "";
        cJSON_ArrayForEach(c, cidrs)
            snprintf(b + strlen(b), sizeof b - strlen(b), "%s%s", *b ? "," : "", c->valuestring);
        dw_line(w, 0, "PodCIDRs:\t%s\n", b);
    }
    if (kctl_str(n, "spec.providerID"))
        dw_line(w, 0, "ProviderID:\t%s\n", kctl_str(n, "spec.providerID"));
    node_pods(w, k, n);
    dw_events(w, k, n);
}
