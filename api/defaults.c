/*
 * defaults.c - defaulting as Kubernetes' v1 defaulters (and the few
 * admission plugins every cluster runs) do it, and what the registry's
 * strategies do before storing an object: status reset on create, status
 * or spec carried over on update, generation bumps, a Service keeping its
 * allocated addresses.
 *
 * Defaulting runs before validation, as in Kubernetes, so validators can
 * require what defaulting always fills in. Every function is idempotent.
 */
#include "api/model_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tracks out-of-memory across a defaulting pass without checking each call. */
typedef struct dctx {
    bool oom;
} dctx_t;

static void chk(dctx_t *c, int rc)
{
    if (rc != 0) c->oom = true;
}

static cJSON *obj_member(dctx_t *c, cJSON *o, const char *key)
{
    if (!cJSON_IsObject(o)) return NULL;
    const cJSON *v = j_get(o, key);
    if (v && !cJSON_IsNull(v) && !cJSON_IsObject(v)) return NULL;
    cJSON *m = j_obj(o, key);
    if (!m) c->oom = true;
    return m;
}

/* ---------------------------------------------------------------- pod spec */

/* IfNotPresent when the image names a tag other than latest, or a digest;
 * Always otherwise (no tag means latest). */
static const char *pull_policy_for(const char *image)
{
    const char *slash = strrchr(image, '/');
    const char *last = slash ? slash + 1 : image;
    if (strchr(image, '@')) {
        const char *colon = strchr(last, ':');
        const char *at = strchr(last, '@');
        if (!colon || (at && colon > at)) return "IfNotPresent";
        return (at - colon - 1 == 6 && !strncmp(colon + 1, "latest", 6)) ? "Always"
                                                                         : "IfNotPresent";
    }
    const char *colon = strrchr(last, ':');
    if (!colon || !strcmp(colon + 1, "latest")) return "Always";
    return "IfNotPresent";
}

static void default_probe(dctx_t *c, cJSON *probe)
{
    if (!cJSON_IsObject(probe)) return;
    chk(c, j_default_num(probe, "timeoutSeconds", 1));
    chk(c, j_default_num(probe, "periodSeconds", 10));
    chk(c, j_default_num(probe, "successThreshold", 1));
    chk(c, j_default_num(probe, "failureThreshold", 3));
    cJSON *http = (cJSON *)j_get(probe, "httpGet");
    if (cJSON_IsObject(http)) {
        chk(c, j_default_str(http, "path", "/"));
        chk(c, j_default_str(http, "scheme", "HTTP"));
    }
}

static void default_container(dctx_t *c, cJSON *ctr, bool pod)
{
    if (!cJSON_IsObject(ctr)) return;
    if (!*j_str0(ctr, "imagePullPolicy"))
        chk(c, j_set_str(ctr, "imagePullPolicy", pull_policy_for(j_str0(ctr, "image"))));
    if (!*j_str0(ctr, "terminationMessagePath"))
        chk(c, j_set_str(ctr, "terminationMessagePath", "/dev/termination-log"));
    if (!*j_str0(ctr, "terminationMessagePolicy"))
        chk(c, j_set_str(ctr, "terminationMessagePolicy", "File"));
    cJSON *port;
    cJSON_ArrayForEach(port, (cJSON *)j_get(ctr, "ports")) if (cJSON_IsObject(port) &&
                                                               !*j_str0(port, "protocol"))
        chk(c, j_set_str(port, "protocol", "TCP"));
    cJSON *ev;
    cJSON_ArrayForEach(ev, (cJSON *)j_get(ctr, "env"))
    {
        cJSON *ref = (cJSON *)j_path(ev, "valueFrom.fieldRef");
        if (cJSON_IsObject(ref) && !*j_str0(ref, "apiVersion"))
            chk(c, j_set_str(ref, "apiVersion", "v1"));
    }
    cJSON *res = obj_member(c, ctr, "resources");
    /* A Pod (not a template) requests what it limits when it says nothing. */
    const cJSON *limits = j_get(res, "limits");
    if (pod && cJSON_IsObject(limits) && cJSON_GetArraySize(limits) > 0) {
        cJSON *req = obj_member(c, res, "requests");
        const cJSON *l;
        cJSON_ArrayForEach(l, limits) if (req && !j_get(req, l->string))
            chk(c, j_set(req, l->string, cJSON_Duplicate(l, true)));
    }
    static const char *const probes[] = {"livenessProbe", "readinessProbe", "startupProbe", NULL};
    for (int i = 0; probes[i]; i++)
        default_probe(c, (cJSON *)j_get(ctr, probes[i]));
}

static void default_volumes(dctx_t *c, cJSON *vols)
{
    static const char *const moded[] = {"secret", "configMap", "downwardAPI", "projected", NULL};
    cJSON *v;
    cJSON_ArrayForEach(v, vols)
    {
        if (!cJSON_IsObject(v)) continue;
        bool has_source = false;
        const cJSON *it;
        cJSON_ArrayForEach(it, v) if (strcmp(it->string, "name") && !cJSON_IsNull(it)) has_source =
            true;
        if (!has_source) {
            chk(c, j_set(v, "emptyDir", cJSON_CreateObject()));
            continue;
        }
        for (int i = 0; moded[i]; i++) {
            cJSON *src = (cJSON *)j_get(v, moded[i]);
            if (cJSON_IsObject(src)) chk(c, j_default_num(src, "defaultMode", 420));
        }
        cJSON *hp = (cJSON *)j_get(v, "hostPath");
        if (cJSON_IsObject(hp)) chk(c, j_default_str(hp, "type", ""));
    }
}

/* The defaults of a PodSpec, for pods (pod true) and pod templates. */
static void default_pod_spec(dctx_t *c, cJSON *spec, bool pod)
{
    if (!cJSON_IsObject(spec)) return;
    if (!*j_str0(spec, "dnsPolicy")) chk(c, j_set_str(spec, "dnsPolicy", "ClusterFirst"));
    if (!*j_str0(spec, "restartPolicy")) chk(c, j_set_str(spec, "restartPolicy", "Always"));
    obj_member(c, spec, "securityContext");
    chk(c, j_default_num(spec, "terminationGracePeriodSeconds", 30));
    if (!*j_str0(spec, "schedulerName"))
        chk(c, j_set_str(spec, "schedulerName", "default-scheduler"));
    cJSON *ctr;
    cJSON_ArrayForEach(ctr, (cJSON *)j_get(spec, "containers")) default_container(c, ctr, pod);
    cJSON_ArrayForEach(ctr, (cJSON *)j_get(spec, "initContainers")) default_container(c, ctr, pod);
    default_volumes(c, (cJSON *)j_get(spec, "volumes"));
}

static bool has_toleration(const cJSON *tols, const char *key)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, tols)
    {
        const char *k = j_str0(t, "key");
        if (!strcmp(k, key) || (!*k && !strcmp(j_str0(t, "operator"), "Exists"))) return true;
    }
    return false;
}

static void default_pod(dctx_t *c, cJSON *o)
{
    cJSON *spec = obj_member(c, o, "spec");
    if (!spec) return;
    default_pod_spec(c, spec, true);
    chk(c, j_default_bool(spec, "enableServiceLinks", true));
    /* What the admission plugins of every cluster add (Priority,
     * ServiceAccount, DefaultTolerationSeconds): pods are evicted from a
     * NotReady or unreachable node after 300 s. */
    chk(c, j_default_num(spec, "priority", 0));
    chk(c, j_default_str(spec, "preemptionPolicy", "PreemptLowerPriority"));
    if (!*j_str0(spec, "serviceAccountName")) {
        const char *sa = j_str(spec, "serviceAccount");
        chk(c, j_set_str(spec, "serviceAccountName", sa && *sa ? sa : "default"));
    }
    static const char *const taints[] = {"node.kubernetes.io/not-ready",
                                         "node.kubernetes.io/unreachable", NULL};
    const cJSON *have = j_get(spec, "tolerations");
    if (have && !cJSON_IsNull(have) && !cJSON_IsArray(have)) return; /* validation says so */
    for (int i = 0; taints[i]; i++) {
        if (has_toleration(j_get(spec, "tolerations"), taints[i])) continue;
        cJSON *tols = j_arr(spec, "tolerations");
        cJSON *t = tols ? cJSON_CreateObject() : NULL;
        if (!t || !cJSON_AddItemToArray(tols, t)) {
            cJSON_Delete(t);
            c->oom = true;
            return;
        }
        chk(c, j_set_str(t, "key", taints[i]));
        chk(c, j_set_str(t, "operator", "Exists"));
        chk(c, j_set_str(t, "effect", "NoExecute"));
        chk(c, j_set_num(t, "tolerationSeconds", 300));
    }
}

static void default_template(dctx_t *c, cJSON *o)
{
    cJSON *spec = obj_member(c, o, "spec");
    cJSON *tmpl = spec ? (cJSON *)j_get(spec, "template") : NULL;
    if (cJSON_IsObject(tmpl)) default_pod_spec(c, obj_member(c, tmpl, "spec"), false);
}

/* ---------------------------------------------------------------- services */

static bool externally_accessible(const cJSON *spec)
{
    const char *type = j_str0(spec, "type");
    return !strcmp(type, "LoadBalancer") || !strcmp(type, "NodePort") ||
           (!strcmp(type, "ClusterIP") && j_len(spec, "externalIPs") > 0);
}

static void default_service(dctx_t *c, cJSON *o)
{
    cJSON *spec = obj_member(c, o, "spec");
    if (!spec) return;
    if (!*j_str0(spec, "sessionAffinity")) chk(c, j_set_str(spec, "sessionAffinity", "None"));
    if (!strcmp(j_str0(spec, "sessionAffinity"), "None"))
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "sessionAffinityConfig");
    else {
        cJSON *cfg = obj_member(c, spec, "sessionAffinityConfig");
        cJSON *cip = cfg ? obj_member(c, cfg, "clientIP") : NULL;
        if (cip) chk(c, j_default_num(cip, "timeoutSeconds", 10800));
    }
    if (!*j_str0(spec, "type")) chk(c, j_set_str(spec, "type", "ClusterIP"));
    cJSON *port;
    cJSON_ArrayForEach(port, (cJSON *)j_get(spec, "ports"))
    {
        if (!cJSON_IsObject(port)) continue;
        if (!*j_str0(port, "protocol")) chk(c, j_set_str(port, "protocol", "TCP"));
        const cJSON *tp = j_get(port, "targetPort");
        bool unset = !tp || cJSON_IsNull(tp) || (cJSON_IsNumber(tp) && tp->valuedouble == 0) ||
                     (cJSON_IsString(tp) && !*tp->valuestring);
        if (unset) chk(c, j_set_num(port, "targetPort", (double)j_int(port, "port", 0)));
    }
    if (externally_accessible(spec) && !*j_str0(spec, "externalTrafficPolicy"))
        chk(c, j_set_str(spec, "externalTrafficPolicy", "Cluster"));
    const char *type = j_str0(spec, "type");
    if (!j_has(spec, "internalTrafficPolicy") &&
        (!strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer") || !strcmp(type, "ClusterIP")))
        chk(c, j_set_str(spec, "internalTrafficPolicy", "Cluster"));
    if (!strcmp(type, "LoadBalancer"))
        chk(c, j_default_bool(spec, "allocateLoadBalancerNodePorts", true));
}

/* ---------------------------------------------------------- other kinds */

static void default_replicas(dctx_t *c, cJSON *o)
{
    cJSON *spec = obj_member(c, o, "spec");
    if (spec) chk(c, j_default_num(spec, "replicas", 1));
}

static void default_int_or_str(dctx_t *c, cJSON *o, const char *key, const char *s, double n)
{
    if (j_has(o, key)) return;
    chk(c, s ? j_set_str(o, key, s) : j_set_num(o, key, n));
}

static void default_deployment(dctx_t *c, cJSON *o)
{
    default_replicas(c, o);
    cJSON *spec = obj_member(c, o, "spec");
    cJSON *st = spec ? obj_member(c, spec, "strategy") : NULL;
    if (!st) return;
    if (!*j_str0(st, "type")) chk(c, j_set_str(st, "type", "RollingUpdate"));
    if (!strcmp(j_str0(st, "type"), "RollingUpdate")) {
        cJSON *ru = obj_member(c, st, "rollingUpdate");
        if (ru) {
            default_int_or_str(c, ru, "maxUnavailable", "25%", 0);
            default_int_or_str(c, ru, "maxSurge", "25%", 0);
        }
    }
    chk(c, j_default_num(spec, "revisionHistoryLimit", 10));
    chk(c, j_default_num(spec, "progressDeadlineSeconds", 600));
    default_template(c, o);
}

static void default_daemonset(dctx_t *c, cJSON *o)
{
    cJSON *spec = obj_member(c, o, "spec");
    cJSON *st = spec ? obj_member(c, spec, "updateStrategy") : NULL;
    if (!st) return;
    if (!*j_str0(st, "type")) chk(c, j_set_str(st, "type", "RollingUpdate"));
    if (!strcmp(j_str0(st, "type"), "RollingUpdate")) {
        cJSON *ru = obj_member(c, st, "rollingUpdate");
        if (ru) {
            default_int_or_str(c, ru, "maxUnavailable", NULL, 1);
            default_int_or_str(c, ru, "maxSurge", NULL, 0);
        }
    }
    chk(c, j_default_num(spec, "revisionHistoryLimit", 10));
    default_template(c, o);
}

static void default_rc(dctx_t *c, cJSON *o)
{
    cJSON *spec = obj_member(c, o, "spec");
    if (!spec) return;
    const cJSON *labels = j_path(spec, "template.metadata.labels");
    if (cJSON_IsObject(labels)) {
        if (j_len(spec, "selector") == 0)
            chk(c, j_set(spec, "selector", cJSON_Duplicate(labels, true)));
        cJSON *meta = obj_member(c, o, "metadata");
        if (meta && j_len(meta, "labels") == 0)
            chk(c, j_set(meta, "labels", cJSON_Duplicate(labels, true)));
    }
    default_replicas(c, o);
    default_template(c, o);
}

static void default_namespace(dctx_t *c, cJSON *o)
{
    /* The immutable name label lets selectors pick namespaces by name. */
    const char *name = api_meta_name(o);
    if (name && *name) chk(c, api_meta_set_label(o, "kubernetes.io/metadata.name", name));
    cJSON *spec = obj_member(c, o, "spec");
    if (spec && !j_has(spec, "finalizers")) {
        cJSON *f = j_arr(spec, "finalizers");
        cJSON *k = f ? cJSON_CreateString("kubernetes") : NULL;
        if (!k || !cJSON_AddItemToArray(f, k)) {
            cJSON_Delete(k);
            c->oom = true;
        }
    }
}

static char *base64_encode(const char *s)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s);
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (!out) return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static void default_secret(dctx_t *c, cJSON *o)
{
    if (!*j_str0(o, "type")) chk(c, j_set_str(o, "type", "Opaque"));
    /* stringData is write-only: it lands in data, winning over data. */
    const cJSON *sd = j_get(o, "stringData");
    if (cJSON_IsObject(sd) && cJSON_GetArraySize(sd) > 0) {
        cJSON *data = obj_member(c, o, "data");
        const cJSON *it;
        cJSON_ArrayForEach(it, sd)
        {
            char *b64 = base64_encode(cJSON_IsString(it) ? it->valuestring : "");
            if (!b64 || !data) {
                free(b64);
                c->oom = true;
                return;
            }
            chk(c, j_set_str(data, it->string, b64));
            free(b64);
        }
    }
    if (!c->oom) cJSON_DeleteItemFromObjectCaseSensitive(o, "stringData");
}

static void default_ports_protocol(dctx_t *c, cJSON *ports)
{
    cJSON *p;
    cJSON_ArrayForEach(p, ports) if (cJSON_IsObject(p) && !j_has(p, "protocol"))
        chk(c, j_set_str(p, "protocol", "TCP"));
}

static void default_endpoints(dctx_t *c, cJSON *o)
{
    cJSON *ss;
    cJSON_ArrayForEach(ss, (cJSON *)j_get(o, "subsets"))
        default_ports_protocol(c, (cJSON *)j_get(ss, "ports"));
}

static void default_endpointslice(dctx_t *c, cJSON *o)
{
    cJSON *p;
    cJSON_ArrayForEach(p, (cJSON *)j_get(o, "ports"))
    {
        if (!cJSON_IsObject(p)) continue;
        chk(c, j_default_str(p, "name", ""));
        chk(c, j_default_str(p, "protocol", "TCP"));
    }
}

static void default_node(dctx_t *c, cJSON *o)
{
    cJSON *st = (cJSON *)j_get(o, "status");
    const cJSON *cap = j_get(st, "capacity");
    if (cJSON_IsObject(cap) && !j_has(st, "allocatable"))
        chk(c, j_set(st, "allocatable", cJSON_Duplicate(cap, true)));
}

int api_default(const char *kind, cJSON *obj)
{
    dctx_t c = {0};
    if (!kind || !cJSON_IsObject(obj)) return 0;
    if (!strcmp(kind, "Pod"))
        default_pod(&c, obj);
    else if (!strcmp(kind, "Service"))
        default_service(&c, obj);
    else if (!strcmp(kind, "Deployment"))
        default_deployment(&c, obj);
    else if (!strcmp(kind, "ReplicaSet")) {
        default_replicas(&c, obj);
        default_template(&c, obj);
    } else if (!strcmp(kind, "DaemonSet"))
        default_daemonset(&c, obj);
    else if (!strcmp(kind, "ReplicationController"))
        default_rc(&c, obj);
    else if (!strcmp(kind, "PodTemplate")) {
        cJSON *t = (cJSON *)j_get(obj, "template");
        if (cJSON_IsObject(t)) default_pod_spec(&c, obj_member(&c, t, "spec"), false);
    } else if (!strcmp(kind, "Namespace"))
        default_namespace(&c, obj);
    else if (!strcmp(kind, "Secret"))
        default_secret(&c, obj);
    else if (!strcmp(kind, "Endpoints"))
        default_endpoints(&c, obj);
    else if (!strcmp(kind, "EndpointSlice"))
        default_endpointslice(&c, obj);
    else if (!strcmp(kind, "Node"))
        default_node(&c, obj);
    return c.oom ? -1 : 0;
}

/* -------------------------------------------------------- registry strategy */

static bool qos_resource(const char *name)
{
    return !strcmp(name, "cpu") || !strcmp(name, "memory");
}

/* Sums the positive cpu/memory quantities of list into acc (name -> quantity
 * kept as an api_quantity_t in a side array). */
struct qsum {
    api_quantity_t v[2];
    bool set[2];
};

static void qsum_add(struct qsum *s, const cJSON *list, bool *has_both)
{
    bool found[2] = {false, false};
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        if (!qos_resource(it->string)) continue;
        int i = !strcmp(it->string, "cpu") ? 0 : 1;
        api_quantity_t q;
        char err[64];
        if (api_quantity_from_json(it, &q, err, sizeof err) != 0 || api_quantity_sign(&q) <= 0)
            continue;
        found[i] = true;
        if (!s->set[i]) {
            s->v[i] = q;
            s->set[i] = true;
        } else {
            api_quantity_add(&s->v[i], &q);
        }
    }
    if (has_both && !(found[0] && found[1])) *has_both = false;
}

/* Kubernetes' QoS class: BestEffort without any cpu/memory request or limit,
 * Guaranteed when every container limits both and requests equal limits. */
static const char *pod_qos(const cJSON *pod)
{
    struct qsum req = {0}, lim = {0};
    bool guaranteed = true;
    static const char *const lists[] = {"containers", "initContainers", NULL};
    for (int l = 0; lists[l]; l++) {
        const cJSON *c;
        const cJSON *list = j_get(j_get(pod, "spec"), lists[l]);
        cJSON_ArrayForEach(c, list)
        {
            const cJSON *res = j_get(c, "resources");
            qsum_add(&req, j_get(res, "requests"), NULL);
            qsum_add(&lim, j_get(res, "limits"), &guaranteed);
        }
    }
    int nreq = req.set[0] + req.set[1], nlim = lim.set[0] + lim.set[1];
    if (nreq == 0 && nlim == 0) return "BestEffort";
    for (int i = 0; guaranteed && i < 2; i++)
        if (req.set[i] && (!lim.set[i] || api_quantity_cmp(&req.v[i], &lim.v[i]) != 0))
            guaranteed = false;
    return guaranteed && nreq == nlim ? "Guaranteed" : "Burstable";
}

static int replace_member(cJSON *o, const char *key, const cJSON *from)
{
    if (!from) {
        cJSON_DeleteItemFromObjectCaseSensitive(o, key);
        return 0;
    }
    return j_set(o, key, cJSON_Duplicate(from, true));
}

static int fill_cluster_ips(cJSON *spec)
{
    const char *cip = j_str0(spec, "clusterIP");
    if (!*cip || j_len(spec, "clusterIPs") > 0) return 0;
    cJSON *ips = cJSON_CreateArray();
    cJSON *s = ips ? cJSON_CreateString(cip) : NULL;
    if (!s || !cJSON_AddItemToArray(ips, s)) {
        cJSON_Delete(s);
        cJSON_Delete(ips);
        return -1;
    }
    return j_set(spec, "clusterIPs", ips);
}

#define DS_TEMPLATE_GENERATION "deprecated.daemonset.template.generation"

int api_prepare_create(const api_resource_t *r, cJSON *obj)
{
    dctx_t c = {0};
    if (!r || !cJSON_IsObject(obj)) return 0;
    const char *kind = r->kind;
    if (!strcmp(kind, "Pod")) {
        cJSON *st = cJSON_CreateObject();
        chk(&c, j_set(obj, "status", st));
        if (st) {
            chk(&c, j_set_str(st, "phase", "Pending"));
            chk(&c, j_set_str(st, "qosClass", pod_qos(obj)));
        }
    } else if (!strcmp(kind, "Namespace")) {
        cJSON *st = cJSON_CreateObject();
        chk(&c, j_set(obj, "status", st));
        if (st) chk(&c, j_set_str(st, "phase", "Active"));
    } else if (!strcmp(kind, "Service")) {
        cJSON *st = cJSON_CreateObject();
        chk(&c, j_set(obj, "status", st));
        if (st) obj_member(&c, st, "loadBalancer");
        cJSON *spec = obj_member(&c, obj, "spec");
        if (spec) {
            chk(&c, fill_cluster_ips(spec));
            if (strcmp(j_str0(spec, "type"), "ExternalName")) {
                chk(&c, j_default_str(spec, "ipFamilyPolicy", "SingleStack"));
                if (!j_has(spec, "ipFamilies")) {
                    cJSON *fam = cJSON_CreateArray();
                    chk(&c, j_set(spec, "ipFamilies", fam));
                    if (fam && !cJSON_AddItemToArray(fam, cJSON_CreateString("IPv4"))) c.oom = true;
                }
            }
        }
    } else if (r->has_status && strcmp(kind, "Node")) {
        /* Nodes may be created with a status; others start without one. */
        chk(&c, j_set(obj, "status", cJSON_CreateObject()));
    }
    if (r->has_generation) chk(&c, api_meta_set_generation(obj, 1));
    if (!strcmp(kind, "DaemonSet"))
        chk(&c, api_meta_set_annotation(obj, DS_TEMPLATE_GENERATION, "1"));
    return c.oom ? -1 : 0;
}

static bool same_ips(const cJSON *a, const cJSON *b)
{
    int na = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
    int nb = cJSON_IsArray(b) ? cJSON_GetArraySize(b) : 0;
    if (na == 0 || nb == 0) return na == nb;
    return cJSON_Compare(a, b, true);
}

/* Services keep what the API server allocated when an update leaves it out,
 * and clusterIP / clusterIPs are reconciled as Kubernetes does for clients
 * that send only one of them (kubectl apply merges a new clusterIP with
 * the stored clusterIPs). */
static void keep_allocated(dctx_t *c, cJSON *spec, const cJSON *ospec)
{
    if (!spec || !ospec) return;
    const char *ocip = j_str0(ospec, "clusterIP");
    const char *ncip = j_str0(spec, "clusterIP");
    const cJSON *oips = j_get(ospec, "clusterIPs");
    if (j_len(ospec, "clusterIPs") > 0 && j_len(spec, "clusterIPs") == 0 && !strcmp(ocip, ncip))
        chk(c, replace_member(spec, "clusterIPs", oips));
    if (strcmp(ocip, ncip)) {
        bool same = same_ips(oips, j_get(spec, "clusterIPs"));
        if (*ocip && !*ncip && same) cJSON_DeleteItemFromObjectCaseSensitive(spec, "clusterIPs");
        if (*ncip && same) {
            /* clusterIPs then follows the new clusterIP. */
            cJSON_DeleteItemFromObjectCaseSensitive(spec, "clusterIPs");
            chk(c, fill_cluster_ips(spec));
        }
    }
    bool was_ext = !strcmp(j_str0(ospec, "type"), "ExternalName");
    bool is_ext = !strcmp(j_str0(spec, "type"), "ExternalName");
    if (!was_ext && !is_ext) {
        if (!*j_str0(spec, "clusterIP") && j_has(ospec, "clusterIP"))
            chk(c, replace_member(spec, "clusterIP", j_get(ospec, "clusterIP")));
        if (j_len(spec, "clusterIPs") == 0 && j_len(ospec, "clusterIPs") > 0)
            chk(c, replace_member(spec, "clusterIPs", oips));
        if (!j_has(spec, "ipFamilies") && j_has(ospec, "ipFamilies"))
            chk(c, replace_member(spec, "ipFamilies", j_get(ospec, "ipFamilies")));
        if (!j_has(spec, "ipFamilyPolicy") && j_has(ospec, "ipFamilyPolicy"))
            chk(c, replace_member(spec, "ipFamilyPolicy", j_get(ospec, "ipFamilyPolicy")));
    }
    chk(c, fill_cluster_ips(spec));
    const char *type = j_str0(spec, "type");
    const char *otype = j_str0(ospec, "type");
    bool np = !strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer");
    bool onp = !strcmp(otype, "NodePort") || !strcmp(otype, "LoadBalancer");
    if (!np || !onp) return;
    cJSON *port;
    cJSON_ArrayForEach(port, (cJSON *)j_get(spec, "ports"))
    {
        if (j_int(port, "nodePort", 0) != 0) continue;
        const cJSON *op;
        cJSON_ArrayForEach(op, j_get(ospec, "ports"))
        {
            const char *opr = *j_str0(op, "protocol") ? j_str0(op, "protocol") : "TCP";
            const char *npr = *j_str0(port, "protocol") ? j_str0(port, "protocol") : "TCP";
            if (j_int(op, "port", 0) == j_int(port, "port", -1) && !strcmp(opr, npr) &&
                j_int(op, "nodePort", 0) != 0) {
                chk(c, j_set_num(port, "nodePort", (double)j_int(op, "nodePort", 0)));
                break;
            }
        }
    }
}

int api_prepare_update(const api_resource_t *r, cJSON *obj, const cJSON *old, bool status_only)
{
    dctx_t c = {0};
    if (!r || !cJSON_IsObject(obj) || !old) return 0;
    const char *kind = r->kind;
    if (status_only) {
        chk(&c, replace_member(obj, "spec", j_get(old, "spec")));
        if (r->has_generation) chk(&c, api_meta_set_generation(obj, api_meta_generation(old)));
        if (!strcmp(kind, "Pod")) {
            /* A pod's status write cannot delete it or change its owners. */
            cJSON *meta = api_meta_ensure(obj);
            const cJSON *om = j_get(old, "metadata");
            if (meta) {
                chk(&c, replace_member(meta, "deletionTimestamp", j_get(om, "deletionTimestamp")));
                chk(&c, replace_member(meta, "ownerReferences", j_get(om, "ownerReferences")));
            } else {
                c.oom = true;
            }
        }
        return c.oom ? -1 : 0;
    }
    if (r->has_status) chk(&c, replace_member(obj, "status", j_get(old, "status")));
    if (!strcmp(kind, "Namespace")) {
        /* Only namespaces/finalize changes the namespace's finalizers. */
        cJSON *spec = obj_member(&c, obj, "spec");
        if (spec) chk(&c, replace_member(spec, "finalizers", j_path(old, "spec.finalizers")));
    }
    if (!strcmp(kind, "Service"))
        keep_allocated(&c, obj_member(&c, obj, "spec"), j_get(old, "spec"));
    if (r->has_generation) {
        const cJSON *ns = j_get(obj, "spec"), *os = j_get(old, "spec");
        bool same = (!ns && !os) || (ns && os && cJSON_Compare(ns, os, true));
        int64_t gen = api_meta_generation(old);
        if (gen < 1) gen = 1;
        chk(&c, api_meta_set_generation(obj, same ? gen : gen + 1));
    }
    if (!strcmp(kind, "DaemonSet")) {
        const char *og = api_meta_annotation(old, DS_TEMPLATE_GENERATION);
        long long g = og ? atoll(og) : 1;
        const cJSON *nt = j_path(obj, "spec.template"), *ot = j_path(old, "spec.template");
        if (!(nt && ot && cJSON_Compare(nt, ot, true))) g++;
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", g);
        chk(&c, api_meta_set_annotation(obj, DS_TEMPLATE_GENERATION, buf));
    }
    return c.oom ? -1 : 0;
}
