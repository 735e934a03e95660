/*
 * resources.c - the kinds and resources picokube serves: one static table
 * with what discovery, routing, storage and kubectl's resource resolution
 * need (group, version, kind, plural, short names, verbs, categories,
 * subresources, spec/status split), and the lookups over it.
 *
 * One table rather than per-component knowledge so that the API server,
 * kctl and the controllers cannot disagree on, say, whether a resource is
 * namespaced or what its storage key is.
 */
#include "api/model_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define V8                                                                                         \
    (const char *const[])                                                                          \
    {                                                                                              \
        "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch", NULL    \
    }
#define NONE                                                                                       \
    (const char *const[])                                                                          \
    {                                                                                              \
        NULL                                                                                       \
    }
#define ALL                                                                                        \
    (const char *const[])                                                                          \
    {                                                                                              \
        "all", NULL                                                                                \
    }
#define SHORT(...)                                                                                 \
    (const char *const[])                                                                          \
    {                                                                                              \
        __VA_ARGS__, NULL                                                                          \
    }

/* Alphabetical inside each group, as Kubernetes lists them in discovery. */
static const api_resource_t resources[] = {
    /* core/v1 */
    {"", "v1", "v1", "Binding", "bindings", "binding", "BindingList", true, NONE, SHORT("create"),
     NONE, 0, false, false, false},
    {"", "v1", "v1", "ConfigMap", "configmaps", "configmap", "ConfigMapList", true, SHORT("cm"), V8,
     NONE, 0, false, false, true},
    {"", "v1", "v1", "Endpoints", "endpoints", "endpoints", "EndpointsList", true, SHORT("ep"), V8,
     NONE, 0, false, false, true},
    {"", "v1", "v1", "Event", "events", "event", "EventList", true, SHORT("ev"), V8, NONE, 0, false,
     false, true},
    {"", "v1", "v1", "Namespace", "namespaces", "namespace", "NamespaceList", false, SHORT("ns"),
     SHORT("create", "delete", "get", "list", "patch", "update", "watch"), NONE,
     API_SUB_STATUS | API_SUB_FINALIZE, true, false, true},
    {"", "v1", "v1", "Node", "nodes", "node", "NodeList", false, SHORT("no"), V8, NONE,
     API_SUB_STATUS, true, false, true},
    {"", "v1", "v1", "Pod", "pods", "pod", "PodList", true, SHORT("po"), V8, ALL,
     API_SUB_STATUS | API_SUB_BINDING | API_SUB_LOG | API_SUB_EVICTION, true, false, true},
    {"", "v1", "v1", "ReplicationController", "replicationcontrollers", "replicationcontroller",
     "ReplicationControllerList", true, SHORT("rc"), V8, ALL, API_SUB_STATUS | API_SUB_SCALE, true,
     true, true},
    {"", "v1", "v1", "Secret", "secrets", "secret", "SecretList", true, NONE, V8, NONE, 0, false,
     false, true},
    {"", "v1", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", "ServiceAccountList",
     true, SHORT("sa"), V8, NONE, 0, false, false, true},
    {"", "v1", "v1", "Service", "services", "service", "ServiceList", true, SHORT("svc"), V8, ALL,
     API_SUB_STATUS, true, false, true},
    /* apps/v1 */
    {"apps", "v1", "apps/v1", "DaemonSet", "daemonsets", "daemonset", "DaemonSetList", true,
     SHORT("ds"), V8, ALL, API_SUB_STATUS, true, true, true},
    {"apps", "v1", "apps/v1", "Deployment", "deployments", "deployment", "DeploymentList", true,
     SHORT("deploy"), V8, ALL, API_SUB_STATUS | API_SUB_SCALE, true, true, true},
    {"apps", "v1", "apps/v1", "ReplicaSet", "replicasets", "replicaset", "ReplicaSetList", true,
     SHORT("rs"), V8, ALL, API_SUB_STATUS | API_SUB_SCALE, true, true, true},
    /* coordination.k8s.io/v1 */
    {"coordination.k8s.io", "v1", "coordination.k8s.io/v1", "Lease", "leases", "lease", "LeaseList",
     true, NONE, V8, NONE, 0, false, false, true},
    /* discovery.k8s.io/v1 */
    {"discovery.k8s.io", "v1", "discovery.k8s.io/v1", "EndpointSlice", "endpointslices",
     "endpointslice", "EndpointSliceList", true, NONE, V8, NONE, 0, false, false, true},
};

#define N_RESOURCES (sizeof resources / sizeof resources[0])

/* Alphabetical by name, as discovery lists them after their parent. */
static const api_subresource_t subresources[] = {
    {"binding", API_SUB_BINDING, "", "v1", "Binding", SHORT("create")},
    {"eviction", API_SUB_EVICTION, "policy", "v1", "Eviction", SHORT("create")},
    {"finalize", API_SUB_FINALIZE, NULL, NULL, NULL, SHORT("update")},
    {"log", API_SUB_LOG, NULL, NULL, NULL, SHORT("get")},
    {"scale", API_SUB_SCALE, "autoscaling", "v1", "Scale", SHORT("get", "patch", "update")},
    {"status", API_SUB_STATUS, NULL, NULL, NULL, SHORT("get", "patch", "update")},
};

#define N_SUBRESOURCES (sizeof subresources / sizeof subresources[0])

/* Groups in the order /apis lists them; "" is the legacy core group. */
static const char *const groups[] = {"apps", "coordination.k8s.io", "discovery.k8s.io"};

size_t api_resource_count(void)
{
    return N_RESOURCES;
}

const api_resource_t *api_resource_at(size_t i)
{
    return i < N_RESOURCES ? &resources[i] : NULL;
}

const api_resource_t *api_resource_lookup(const char *group, const char *version,
                                          const char *resource)
{
    if (!group || !version || !resource) return NULL;
    for (size_t i = 0; i < N_RESOURCES; i++) {
        const api_resource_t *r = &resources[i];
        if (!strcmp(r->group, group) && !strcmp(r->version, version) &&
            !strcmp(r->resource, resource))
            return r;
    }
    return NULL;
}

const api_resource_t *api_resource_by_kind(const char *group, const char *kind)
{
    if (!kind) return NULL;
    for (size_t i = 0; i < N_RESOURCES; i++) {
        const api_resource_t *r = &resources[i];
        if (!strcmp(r->kind, kind) && (!group || !strcmp(r->group, group))) return r;
    }
    return NULL;
}

const api_resource_t *api_resource_by_gvk(const char *api_version, const char *kind)
{
    if (!api_version || !kind) return NULL;
    for (size_t i = 0; i < N_RESOURCES; i++) {
        const api_resource_t *r = &resources[i];
        if (!strcmp(r->kind, kind) && !strcmp(r->group_version, api_version)) return r;
    }
    return NULL;
}

static bool in_list(const char *const *list, const char *s, bool nocase)
{
    for (; *list; list++)
        if (nocase ? !strcasecmp(*list, s) : !strcmp(*list, s)) return true;
    return false;
}

const api_resource_t *api_resource_by_short_name(const char *short_name)
{
    if (!short_name) return NULL;
    for (size_t i = 0; i < N_RESOURCES; i++)
        if (in_list(resources[i].short_names, short_name, false)) return &resources[i];
    return NULL;
}

static bool word_matches(const api_resource_t *r, const char *w)
{
    return !strcasecmp(r->resource, w) || !strcasecmp(r->singular, w) || !strcasecmp(r->kind, w) ||
           in_list(r->short_names, w, true);
}

const api_resource_t *api_resource_find(const char *word)
{
    if (!word || !*word) return NULL;
    char name[128];
    const char *group = NULL;
    const char *dot = strchr(word, '.');
    size_t n = dot ? (size_t)(dot - word) : strlen(word);
    if (n >= sizeof name) return NULL;
    memcpy(name, word, n);
    name[n] = '\0';
    if (dot) group = dot + 1;
    /* Plural and singular win over short names and kinds, as in kubectl. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < N_RESOURCES; i++) {
            const api_resource_t *r = &resources[i];
            if (!r->stored) continue;
            if (group && strcasecmp(r->group, group)) continue;
            bool hit = pass == 0
                           ? (!strcasecmp(r->resource, name) || !strcasecmp(r->singular, name))
                           : word_matches(r, name);
            if (hit) return r;
        }
    }
    return NULL;
}

bool api_resource_allows(const api_resource_t *r, const char *verb)
{
    return r && verb && in_list(r->verbs, verb, false);
}

const api_subresource_t *api_subresource_lookup(const api_resource_t *r, const char *name)
{
    if (!r || !name) return NULL;
    for (size_t i = 0; i < N_SUBRESOURCES; i++)
        if ((r->subresources & subresources[i].bit) && !strcmp(subresources[i].name, name))
            return &subresources[i];
    return NULL;
}

int api_storage_key(const api_resource_t *r, const char *ns, const char *name, char *buf,
                    size_t len)
{
    int n;
    bool has_ns = ns && *ns;
    if (!r || !buf) return -1;
    if (name) {
        if (r->namespaced && !has_ns) return -1;
        if (r->namespaced)
            n = snprintf(buf, len, "/registry/%s/%s/%s", r->resource, ns, name);
        else
            n = snprintf(buf, len, "/registry/%s/%s", r->resource, name);
    } else if (r->namespaced && has_ns) {
        n = snprintf(buf, len, "/registry/%s/%s/", r->resource, ns);
    } else {
        n = snprintf(buf, len, "/registry/%s/", r->resource);
    }
    if (n < 0 || (size_t)n >= len) return -1;
    return n;
}

/* ------------------------------------------------------------------ routing */

#define MAX_SEGS 10

/* Splits path on '/', ignoring empty segments (a trailing slash or "//"). */
static int split_path(const char *path, char *copy, size_t len, char **segs)
{
    if (strlen(path) >= len) return -1;
    strcpy(copy, path);
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (n == MAX_SEGS) return -1;
        segs[n++] = t;
    }
    return n;
}

static bool group_served(const char *group)
{
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (!strcmp(groups[i], group)) return true;
    return false;
}

static bool copy_seg(char *dst, size_t len, const char *src)
{
    if (strlen(src) >= len) return false;
    strcpy(dst, src);
    return true;
}

/* Resolves segs (after the group/version prefix) against resources. */
static enum api_route_kind route_resource(char **segs, int n, api_route_t *out)
{
    const api_resource_t *r;
    if (n >= 1 && !strcmp(segs[0], "watch")) {
        out->watch = true;
        segs++;
        n--;
    }
    if (n == 0) return API_ROUTE_NOT_FOUND;
    if (!strcmp(segs[0], "namespaces") && n >= 3 && !strcmp(out->group, "")) {
        /* /namespaces/<ns>/<resource>... unless it is namespaces/<ns>/<sub> */
        const api_resource_t *nsr = api_resource_lookup("", out->version, "namespaces");
        if (n == 3 && api_subresource_lookup(nsr, segs[2])) goto cluster;
    }
    if (!strcmp(segs[0], "namespaces") && n >= 3) {
        if (!copy_seg(out->ns, sizeof out->ns, segs[1])) return API_ROUTE_NOT_FOUND;
        r = api_resource_lookup(out->group, out->version, segs[2]);
        if (!r || !r->namespaced) return API_ROUTE_NOT_FOUND;
        segs += 3;
        n -= 3;
        out->res = r;
        goto object;
    }
cluster:
    r = api_resource_lookup(out->group, out->version, segs[0]);
    if (!r) return API_ROUTE_NOT_FOUND;
    out->res = r;
    segs++;
    n--;
    /* A namespaced resource without /namespaces/<ns> is only a list across
     * all namespaces. */
    if (r->namespaced && n > 0) return API_ROUTE_NOT_FOUND;
object:
    if (n == 0) return API_ROUTE_COLLECTION;
    if (!copy_seg(out->name, sizeof out->name, segs[0])) return API_ROUTE_NOT_FOUND;
    if (n == 1) return API_ROUTE_OBJECT;
    if (n == 2 && !out->watch) {
        out->sub = api_subresource_lookup(out->res, segs[1]);
        if (out->sub) return API_ROUTE_SUBRESOURCE;
    }
    return API_ROUTE_NOT_FOUND;
}

enum api_route_kind api_route_parse(const char *path, api_route_t *out)
{
    char copy[1024];
    char *segs[MAX_SEGS];
    memset(out, 0, sizeof *out);
    int n = path ? split_path(path, copy, sizeof copy, segs) : -1;
    enum api_route_kind k = API_ROUTE_NOT_FOUND;
    if (n < 1) goto done;
    if (!strcmp(segs[0], "api")) {
        if (n == 1) {
            k = API_ROUTE_API;
            goto done;
        }
        if (strcmp(segs[1], "v1")) goto done;
        strcpy(out->version, "v1");
        k = n == 2 ? API_ROUTE_RESOURCES : route_resource(segs + 2, n - 2, out);
    } else if (!strcmp(segs[0], "apis")) {
        if (n == 1) {
            k = API_ROUTE_APIS;
            goto done;
        }
        if (!group_served(segs[1]) || !copy_seg(out->group, sizeof out->group, segs[1])) goto done;
        if (n == 2) {
            k = API_ROUTE_GROUP;
            goto done;
        }
        if (strcmp(segs[2], "v1")) goto done;
        strcpy(out->version, "v1");
        k = n == 3 ? API_ROUTE_RESOURCES : route_resource(segs + 3, n - 3, out);
    }
done:
    if (k == API_ROUTE_NOT_FOUND) {
        out->res = NULL;
        out->sub = NULL;
    }
    out->kind = k;
    return k;
}

const char *api_route_verb(const api_route_t *r, const char *method, bool watch_param)
{
    if (!r || !method) return NULL;
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    switch (r->kind) {
    case API_ROUTE_API:
    case API_ROUTE_APIS:
    case API_ROUTE_GROUP:
    case API_ROUTE_RESOURCES:
        return get ? "get" : NULL;
    case API_ROUTE_COLLECTION:
        if (get) return (watch_param || r->watch) ? "watch" : "list";
        if (r->watch) return NULL;
        if (!strcmp(method, "POST")) return "create";
        if (!strcmp(method, "DELETE")) return "deletecollection";
        return NULL;
    case API_ROUTE_OBJECT:
        if (get) return (watch_param || r->watch) ? "watch" : "get";
        if (r->watch) return NULL;
        if (!strcmp(method, "PUT")) return "update";
        if (!strcmp(method, "PATCH")) return "patch";
        if (!strcmp(method, "DELETE")) return "delete";
        return NULL;
    case API_ROUTE_SUBRESOURCE: {
        const char *verb = NULL;
        if (get)
            verb = "get";
        else if (!strcmp(method, "POST"))
            verb = "create";
        else if (!strcmp(method, "PUT"))
            verb = "update";
        else if (!strcmp(method, "PATCH"))
            verb = "patch";
        return verb && in_list(r->sub->verbs, verb, false) ? verb : NULL;
    }
    default:
        return NULL;
    }
}

/* ---------------------------------------------------------------- discovery */

static cJSON *str_array(const char *const *list)
{
    cJSON *a = cJSON_CreateArray();
    for (; a && *list; list++)
        if (!cJSON_AddItemToArray(a, cJSON_CreateString(*list))) {
            cJSON_Delete(a);
            return NULL;
        }
    return a;
}

static cJSON *group_version_for(const char *group)
{
    char gv[96];
    snprintf(gv, sizeof gv, "%s/v1", group);
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "groupVersion", gv) ||
        !cJSON_AddStringToObject(o, "version", "v1")) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *api_discovery_versions(const char *server_address)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddStringToObject(o, "kind", "APIVersions") &&
              j_set(o, "versions", str_array((const char *const[]){"v1", NULL})) == 0;
    cJSON *cidrs = ok ? cJSON_AddArrayToObject(o, "serverAddressByClientCIDRs") : NULL;
    ok = ok && cidrs;
    if (ok && server_address && *server_address) {
        cJSON *c = cJSON_CreateObject();
        ok = c && cJSON_AddItemToArray(cidrs, c) &&
             cJSON_AddStringToObject(c, "clientCIDR", "0.0.0.0/0") &&
             cJSON_AddStringToObject(c, "serverAddress", server_address);
        if (!c) ok = false;
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* The APIGroup document of one group, without kind/apiVersion. */
static cJSON *group_doc(const char *group)
{
    cJSON *g = cJSON_CreateObject();
    bool ok = g && cJSON_AddStringToObject(g, "name", group);
    cJSON *versions = ok ? cJSON_AddArrayToObject(g, "versions") : NULL;
    cJSON *gv = versions ? group_version_for(group) : NULL;
    ok = gv && cJSON_AddItemToArray(versions, gv);
    if (gv && !ok) cJSON_Delete(gv);
    ok = ok && j_set(g, "preferredVersion", group_version_for(group)) == 0;
    if (!ok) {
        cJSON_Delete(g);
        return NULL;
    }
    return g;
}

cJSON *api_discovery_groups(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *list = o ? cJSON_CreateArray() : NULL;
    bool ok = o && list && cJSON_AddStringToObject(o, "kind", "APIGroupList") &&
              cJSON_AddStringToObject(o, "apiVersion", "v1") &&
              cJSON_AddItemToObject(o, "groups", list);
    if (!ok) cJSON_Delete(list);
    for (size_t i = 0; ok && i < sizeof groups / sizeof groups[0]; i++) {
        cJSON *g = group_doc(groups[i]);
        ok = g && cJSON_AddItemToArray(list, g);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *api_discovery_group(const char *group)
{
    if (!group || !group_served(group)) return NULL;
    cJSON *g = group_doc(group);
    if (!g) return NULL;
    /* kind and apiVersion first, as Kubernetes writes them. */
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddStringToObject(o, "kind", "APIGroup") &&
              cJSON_AddStringToObject(o, "apiVersion", "v1");
    while (ok && g->child) {
        cJSON *it = cJSON_DetachItemViaPointer(g, g->child);
        ok = cJSON_AddItemToObject(o, it->string, it);
        if (!ok) cJSON_Delete(it);
    }
    cJSON_Delete(g);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *resource_entry(const api_resource_t *r, const api_subresource_t *sub)
{
    char name[96];
    cJSON *e = cJSON_CreateObject();
    if (!e) return NULL;
    if (sub)
        snprintf(name, sizeof name, "%s/%s", r->resource, sub->name);
    else
        snprintf(name, sizeof name, "%s", r->resource);
    bool ok = cJSON_AddStringToObject(e, "name", name) &&
              cJSON_AddStringToObject(e, "singularName", sub ? "" : r->singular) &&
              cJSON_AddBoolToObject(e, "namespaced", r->namespaced);
    if (ok && sub && sub->group) {
        ok = cJSON_AddStringToObject(e, "group", sub->group) &&
             cJSON_AddStringToObject(e, "version", sub->version);
    }
    ok = ok && cJSON_AddStringToObject(e, "kind", sub && sub->kind ? sub->kind : r->kind) &&
         j_set(e, "verbs", str_array(sub ? sub->verbs : r->verbs)) == 0;
    if (ok && !sub && r->short_names[0])
        ok = j_set(e, "shortNames", str_array(r->short_names)) == 0;
    if (ok && !sub && r->categories[0]) ok = j_set(e, "categories", str_array(r->categories)) == 0;
    if (!ok) {
        cJSON_Delete(e);
        return NULL;
    }
    return e;
}

cJSON *api_discovery_resources(const char *group, const char *version)
{
    if (!group || !version || strcmp(version, "v1")) return NULL;
    if (*group && !group_served(group)) return NULL;
    char gv[96];
    snprintf(gv, sizeof gv, "%s%s%s", group, *group ? "/" : "", version);
    cJSON *o = cJSON_CreateObject();
    cJSON *list = o ? cJSON_CreateArray() : NULL;
    bool ok = o && list && cJSON_AddStringToObject(o, "kind", "APIResourceList") &&
              cJSON_AddStringToObject(o, "apiVersion", "v1") &&
              cJSON_AddStringToObject(o, "groupVersion", gv) &&
              cJSON_AddItemToObject(o, "resources", list);
    if (!ok) cJSON_Delete(list);
    for (size_t i = 0; ok && i < N_RESOURCES; i++) {
        const api_resource_t *r = &resources[i];
        if (strcmp(r->group, group) || strcmp(r->version, version)) continue;
        cJSON *e = resource_entry(r, NULL);
        ok = e && cJSON_AddItemToArray(list, e);
        for (size_t s = 0; ok && s < N_SUBRESOURCES; s++) {
            if (!(r->subresources & subresources[s].bit)) continue;
            e = resource_entry(r, &subresources[s]);
            ok = e && cJSON_AddItemToArray(list, e);
        }
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
