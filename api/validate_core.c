/*
 * validate_core.c - validation of the core/v1 kinds other than Pod
 * (Service, Endpoints, ConfigMap, Secret, Namespace, Node, Event,
 * ReplicationController, Binding) with Kubernetes' rules and messages.
 */
#include "api/model_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_IP "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"

static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};

static bool one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list)) return true;
    return false;
}

/* ----------------------------------------------------------------- Service */

static bool headless(const cJSON *spec)
{
    return !strcmp(j_str0(spec, "clusterIP"), "None");
}

static void v_service_port(const cJSON *port, bool require_name, cJSON *names, const char *path,
                           api_errors_t *e)
{
    char p[FP_MAX];
    const char *m[6];
    const char *name = j_str0(port, "name");
    if (require_name && !*name) {
        api_err_required(e, fp(p, sizeof p, "%s.name", path), "");
    } else if (*name) {
        err_msgs(e, fp(p, sizeof p, "%s.name", path), name, msgs_dns1123_label(name, m), m);
        if (j_get(names, name))
            api_err_duplicate(e, p, name);
        else if (!cJSON_AddTrueToObject(names, name))
            e->oom = true;
    }
    v_port_num(j_int(port, "port", 0), fp(p, sizeof p, "%s.port", path), e);
    const char *proto = j_str0(port, "protocol");
    if (!*proto)
        api_err_required(e, fp(p, sizeof p, "%s.protocol", path), "");
    else if (!one_of(proto, protocols))
        api_err_not_supported(e, fp(p, sizeof p, "%s.protocol", path), proto, protocols);
    v_port_num_or_name(j_get(port, "targetPort"), fp(p, sizeof p, "%s.targetPort", path), e);
    const char *ap = j_str(port, "appProtocol");
    if (ap) err_msgs(e, fp(p, sizeof p, "%s.appProtocol", path), ap, msgs_qualified_name(ap, m), m);
}

static void v_service_ips(const cJSON *spec, api_errors_t *e)
{
    char p[FP_MAX];
    const cJSON *ips = j_get(spec, "clusterIPs");
    const char *cip = j_str0(spec, "clusterIP");
    const cJSON *ip;
    int i = 0;
    cJSON_ArrayForEach(ip, (cJSON_IsArray(ips) ? ips : NULL))
    {
        const char *s = cJSON_IsString(ip) ? ip->valuestring : "";
        if (strcmp(s, "None") && !is_ip(s))
            api_err_invalid(e, fp(p, sizeof p, "spec.clusterIPs[%d]", i), s, MSG_IP);
        i++;
    }
    if (*cip && strcmp(cip, "None") && !is_ip(cip))
        api_err_invalid(e, "spec.clusterIP", cip, MSG_IP);
    const cJSON *first = cJSON_GetArrayItem(ips, 0);
    if (first && cJSON_IsString(first) && strcmp(first->valuestring, cip)) {
        sbuf_t b = {0};
        go_str_slice(&b, ips);
        char *repr = sb_take(&b);
        err_add(e, API_ERR_INVALID, "spec.clusterIPs", repr ? repr : "[]string{}",
                "first value must match `clusterIP`");
        free(repr);
    }
    i = 0;
    cJSON_ArrayForEach(ip, j_get(spec, "externalIPs"))
    {
        const char *s = cJSON_IsString(ip) ? ip->valuestring : "";
        if (!is_ip(s)) api_err_invalid(e, fp(p, sizeof p, "spec.externalIPs[%d]", i), s, MSG_IP);
        i++;
    }
}

static const char *const service_types[] = {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort",
                                            NULL};

#define NODE_PORT_MIN 30000
#define NODE_PORT_MAX 32767

static void v_service_ports(const cJSON *spec, const char *type, api_errors_t *e)
{
    char p[FP_MAX];
    const cJSON *ports = j_get(spec, "ports");
    int n = j_len(spec, "ports");
    cJSON *names = cJSON_CreateObject();
    if (!names) {
        e->oom = true;
        return;
    }
    const cJSON *port;
    int i = 0;
    cJSON_ArrayForEach(port, (cJSON_IsArray(ports) ? ports : NULL))
    {
        v_service_port(port, n > 1, names, fp(p, sizeof p, "spec.ports[%d]", i), e);
        long long np = j_int(port, "nodePort", 0);
        if (np != 0 && !strcmp(type, "ClusterIP"))
            api_err_forbidden(e, fp(p, sizeof p, "spec.ports[%d].nodePort", i),
                              "may not be used when `type` is 'ClusterIP'");
        else if (np != 0 && (np < NODE_PORT_MIN || np > NODE_PORT_MAX))
            api_err_invalid_int(e, fp(p, sizeof p, "spec.ports[%d].nodePort", i), np,
                                "provided port is not in the valid range. The range of valid "
                                "ports is 30000-32767");
        if (!strcmp(type, "LoadBalancer") && j_int(port, "port", 0) == 10250)
            api_err_invalid_int(e, fp(p, sizeof p, "spec.ports[%d]", i), 10250,
                                "may not expose port 10250 externally since it is used by kubelet");
        i++;
    }
    cJSON_Delete(names);
    /* Duplicates by (protocol, nodePort) and by (protocol, port). */
    for (int a = 0; a < n; a++) {
        const cJSON *pa = cJSON_GetArrayItem(ports, a);
        const char *proto = j_str0(pa, "protocol");
        long long np = j_int(pa, "nodePort", 0), pp = j_int(pa, "port", 0);
        bool dup_np = false, dup_p = false;
        for (int b = 0; b < a; b++) {
            const cJSON *pb = cJSON_GetArrayItem(ports, b);
            if (strcmp(proto, j_str0(pb, "protocol"))) continue;
            if (np != 0 && j_int(pb, "nodePort", 0) == np) dup_np = true;
            if (j_int(pb, "port", 0) == pp) dup_p = true;
        }
        if (dup_np) {
            char repr[32];
            snprintf(repr, sizeof repr, "%lld", np);
            err_add(e, API_ERR_DUPLICATE, fp(p, sizeof p, "spec.ports[%d].nodePort", a), repr,
                    NULL);
        }
        if (dup_p) {
            sbuf_t b = {0};
            sb_puts(&b, "core.ServicePort{Name:\"\", Protocol:");
            go_quote(&b, proto);
            sb_printf(&b,
                      ", AppProtocol:(*string)(nil), Port:%lld, TargetPort:intstr.IntOrString{"
                      "Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}",
                      pp);
            char *repr = sb_take(&b);
            err_add(e, API_ERR_DUPLICATE, fp(p, sizeof p, "spec.ports[%d]", a), repr ? repr : "",
                    NULL);
            free(repr);
        }
    }
}

static void v_service_update(const cJSON *spec, const cJSON *ospec, api_errors_t *e)
{
    const char *type = j_str0(spec, "type"), *otype = j_str0(ospec, "type");
    if (!strcmp(type, "ExternalName") || !strcmp(otype, "ExternalName")) return;
    const cJSON *oips = j_get(ospec, "clusterIPs"), *nips = j_get(spec, "clusterIPs");
    const cJSON *o0 = cJSON_GetArrayItem(oips, 0), *n0 = cJSON_GetArrayItem(nips, 0);
    if (!cJSON_IsString(o0) || !*o0->valuestring) return;
    sbuf_t b = {0};
    go_str_slice(&b, nips);
    char *repr = sb_take(&b);
    if (!cJSON_IsString(n0) || !*n0->valuestring)
        err_add(e, API_ERR_INVALID, "spec.clusterIPs[0]", repr ? repr : "[]string(nil)",
                "primary clusterIP can not be unset");
    else if (strcmp(n0->valuestring, o0->valuestring))
        err_add(e, API_ERR_INVALID, "spec.clusterIPs[0]", repr ? repr : "[]string{}",
                "may not change once set");
    free(repr);
}

void v_service(const cJSON *o, const cJSON *old, api_errors_t *e)
{
    const cJSON *spec = j_get(o, "spec");
    const char *type = j_str0(spec, "type");
    const char *m[6];
    if (j_len(spec, "ports") == 0 && !headless(spec) && strcmp(type, "ExternalName"))
        api_err_required(e, "spec.ports", "");
    if (!strcmp(type, "LoadBalancer") && headless(spec))
        api_err_invalid(e, "spec.clusterIPs[0]", "None",
                        "may not be set to 'None' for LoadBalancer services");
    else if (!strcmp(type, "NodePort") && headless(spec))
        api_err_invalid(e, "spec.clusterIPs[0]", "None",
                        "may not be set to 'None' for NodePort services");
    else if (!strcmp(type, "ExternalName")) {
        if (j_len(spec, "clusterIPs") > 0)
            api_err_forbidden(e, "spec.clusterIPs", "may not be set for ExternalName services");
        char cname[300];
        snprintf(cname, sizeof cname, "%s", j_str0(spec, "externalName"));
        size_t len = strlen(cname);
        if (len && cname[len - 1] == '.') cname[len - 1] = '\0';
        if (*cname)
            err_msgs(e, "spec.externalName", cname, msgs_dns1123_subdomain(cname, m), m);
        else
            api_err_required(e, "spec.externalName", "");
    }
    v_service_ports(spec, type, e);
    if (j_has(spec, "selector")) v_labels(j_get(spec, "selector"), "spec.selector", e);
    const char *aff = j_str0(spec, "sessionAffinity");
    if (!*aff)
        api_err_required(e, "spec.sessionAffinity", "");
    else if (strcmp(aff, "ClientIP") && strcmp(aff, "None"))
        api_err_not_supported(e, "spec.sessionAffinity", aff,
                              (const char *const[]){"ClientIP", "None", NULL});
    if (!*type)
        api_err_required(e, "spec.type", "");
    else if (!one_of(type, service_types))
        api_err_not_supported(e, "spec.type", type, service_types);
    v_service_ips(spec, e);
    const char *etp = j_str(spec, "externalTrafficPolicy");
    static const char *const policies[] = {"Cluster", "Local", NULL};
    bool external = !strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer") ||
                    (!strcmp(type, "ClusterIP") && j_len(spec, "externalIPs") > 0);
    if (external) {
        if (!etp || !*etp)
            api_err_required(e, "spec.externalTrafficPolicy", "");
        else if (!one_of(etp, policies))
            api_err_not_supported(e, "spec.externalTrafficPolicy", etp, policies);
    } else if (etp && *etp) {
        api_err_invalid(e, "spec.externalTrafficPolicy", etp,
                        "may only be set for externally-accessible services");
    }
    const char *itp = j_str(spec, "internalTrafficPolicy");
    if (itp && !one_of(itp, policies))
        api_err_not_supported(e, "spec.internalTrafficPolicy", itp, policies);
    if (old) v_service_update(spec, j_get(old, "spec"), e);
}

/* --------------------------------------------------------------- Endpoints */

/* Kubernetes refuses endpoint addresses that cannot reach a pod. */
static void v_endpoint_ip(const char *ip, const char *field, api_errors_t *e)
{
    unsigned char b[16];
    if (inet_pton(AF_INET, ip, b) == 1) {
        if (!b[0] && !b[1] && !b[2] && !b[3])
            api_err_invalid(e, field, ip, "may not be unspecified (0.0.0.0)");
        else if (b[0] == 127)
            api_err_invalid(e, field, ip,
                            "may not be in the loopback range (127.0.0.0/8, ::1/128)");
        else if (b[0] == 169 && b[1] == 254)
            api_err_invalid(e, field, ip,
                            "may not be in the link-local range (169.254.0.0/16, fe80::/10)");
        else if (b[0] == 224 && b[1] == 0 && b[2] == 0)
            api_err_invalid(e, field, ip,
                            "may not be in the link-local multicast range (224.0.0.0/24, "
                            "ff02::/10)");
    } else if (inet_pton(AF_INET6, ip, b) == 1) {
        static const unsigned char zero[16], one[16] = {[15] = 1};
        if (!memcmp(b, zero, 16))
            api_err_invalid(e, field, ip, "may not be unspecified (0.0.0.0)");
        else if (!memcmp(b, one, 16))
            api_err_invalid(e, field, ip,
                            "may not be in the loopback range (127.0.0.0/8, ::1/128)");
        else if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
            api_err_invalid(e, field, ip,
                            "may not be in the link-local range (169.254.0.0/16, fe80::/10)");
        else if (b[0] == 0xff && (b[1] & 0x0f) == 0x02)
            api_err_invalid(e, field, ip,
                            "may not be in the link-local multicast range (224.0.0.0/24, "
                            "ff02::/10)");
    } else {
        api_err_invalid(e, field, ip, MSG_IP);
    }
}

static void v_endpoint_addresses(const cJSON *addrs, const char *path, api_errors_t *e)
{
    char p[FP_MAX];
    const char *m[6];
    const cJSON *a;
    int i = 0;
    cJSON_ArrayForEach(a, (cJSON_IsArray(addrs) ? addrs : NULL))
    {
        v_endpoint_ip(j_str0(a, "ip"), fp(p, sizeof p, "%s[%d].ip", path, i), e);
        const char *h = j_str0(a, "hostname");
        if (*h)
            err_msgs(e, fp(p, sizeof p, "%s[%d].hostname", path, i), h, msgs_dns1123_label(h, m),
                     m);
        const char *node = j_str(a, "nodeName");
        if (node)
            err_msgs(e, fp(p, sizeof p, "%s[%d].nodeName", path, i), node,
                     msgs_dns1123_subdomain(node, m), m);
        i++;
    }
}

void v_endpoints(const cJSON *o, const cJSON *old, api_errors_t *e)
{
    (void)old;
    char p[FP_MAX], q[FP_MAX];
    const char *m[6];
    const cJSON *ss;
    int i = 0;
    cJSON_ArrayForEach(ss, j_get(o, "subsets"))
    {
        fp(p, sizeof p, "subsets[%d]", i++);
        if (j_len(ss, "addresses") == 0 && j_len(ss, "notReadyAddresses") == 0)
            api_err_required(e, p, "must specify `addresses` or `notReadyAddresses`");
        v_endpoint_addresses(j_get(ss, "addresses"), fp(q, sizeof q, "%s.addresses", p), e);
        v_endpoint_addresses(j_get(ss, "notReadyAddresses"),
                             fp(q, sizeof q, "%s.notReadyAddresses", p), e);
        int np = j_len(ss, "ports"), k = 0;
        const cJSON *port;
        cJSON_ArrayForEach(port, j_get(ss, "ports"))
        {
            const char *name = j_str0(port, "name");
            if (np > 1 && !*name)
                api_err_required(e, fp(q, sizeof q, "%s.ports[%d].name", p, k), "");
            else if (*name)
                err_msgs(e, fp(q, sizeof q, "%s.ports[%d].name", p, k), name,
                         msgs_dns1123_label(name, m), m);
            v_port_num(j_int(port, "port", 0), fp(q, sizeof q, "%s.ports[%d].port", p, k), e);
            const char *proto = j_str0(port, "protocol");
            if (!*proto)
                api_err_required(e, fp(q, sizeof q, "%s.ports[%d].protocol", p, k), "");
            else if (!one_of(proto, protocols))
                api_err_not_supported(e, fp(q, sizeof q, "%s.ports[%d].protocol", p, k), proto,
                                      protocols);
            k++;
        }
    }
}

/* ------------------------------------------------------ ConfigMap, Secret */

#define MAX_DATA_SIZE (1024 * 1024)

static size_t v_data_keys(const cJSON *data, const cJSON *other, const char *bag,
                          const char *other_bag, api_errors_t *e)
{
    char p[FP_MAX], d[64];
    const char *m[6];
    size_t total = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, (cJSON_IsObject(data) ? data : NULL))
    {
        fp(p, sizeof p, "%s[%s]", bag, it->string);
        err_msgs(e, p, it->string, msgs_config_key(it->string, m), m);
        if (other_bag && j_get(other, it->string)) {
            snprintf(d, sizeof d, "duplicate of key present in %s", other_bag);
            api_err_invalid(e, p, it->string, d);
        }
        if (cJSON_IsString(it)) total += strlen(it->valuestring);
    }
    return total;
}

static void v_immutable_data(const cJSON *o, const cJSON *old, const char *const *bags,
                             api_errors_t *e)
{
    if (!old || !j_true(old, "immutable")) return;
    if (!j_true(o, "immutable"))
        api_err_forbidden(e, "immutable", "field is immutable when `immutable` is set");
    for (int i = 0; bags[i]; i++) {
        const cJSON *a = j_get(o, bags[i]), *b = j_get(old, bags[i]);
        bool same = (!a && !b) || (a && b && cJSON_Compare(a, b, true)) ||
                    (!a && j_len(old, bags[i]) == 0) || (!b && j_len(o, bags[i]) == 0);
        if (!same) api_err_forbidden(e, bags[i], "field is immutable when `immutable` is set");
    }
}

void v_configmap(const cJSON *o, const cJSON *old, api_errors_t *e)
{
    const cJSON *data = j_get(o, "data"), *bin = j_get(o, "binaryData");
    size_t total = v_data_keys(data, bin, "data", "binaryData", e);
    total += v_data_keys(bin, data, "binaryData", "data", e);
    if (total > MAX_DATA_SIZE) api_err_too_long(e, "", MAX_DATA_SIZE);
    v_immutable_data(o, old, (const char *const[]){"data", "binaryData", NULL}, e);
}

static bool is_base64(const char *s)
{
    size_t n = strlen(s), pad = 0;
    if (n % 4) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '=') {
            if (i < n - 2) return false;
            pad++;
        } else if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '+' || c == '/')) {
            return false;
        }
    }
    return true;
}

void v_secret(const cJSON *o, const cJSON *old, api_errors_t *e)
{
    char p[FP_MAX];
    const cJSON *data = j_get(o, "data");
    size_t total = v_data_keys(data, NULL, "data", NULL, e);
    const cJSON *it;
    cJSON_ArrayForEach(it, (cJSON_IsObject(data) ? data : NULL))
    {
        /* Kubernetes rejects these while decoding; picokube decodes late. */
        if (cJSON_IsString(it) && !is_base64(it->valuestring))
            api_err_invalid(e, fp(p, sizeof p, "data[%s]", it->string), "", "illegal base64 data");
    }
    if (total / 4 * 3 > MAX_DATA_SIZE) api_err_too_long(e, "data", MAX_DATA_SIZE);
    const char *type = j_str0(o, "type");
    if (!strcmp(type, "kubernetes.io/service-account-token")) {
        const char *sa =
            j_str(j_path(o, "metadata.annotations"), "kubernetes.io/service-account.name");
        if (!sa || !*sa)
            api_err_required(e, "metadata.annotations[kubernetes.io/service-account.name]", "");
    } else if (!strcmp(type, "kubernetes.io/dockerconfigjson")) {
        if (!j_get(data, ".dockerconfigjson")) api_err_required(e, "data[.dockerconfigjson]", "");
    } else if (!strcmp(type, "kubernetes.io/dockercfg")) {
        if (!j_get(data, ".dockercfg")) api_err_required(e, "data[.dockercfg]", "");
    } else if (!strcmp(type, "kubernetes.io/ssh-auth")) {
        if (!*j_str0(data, "ssh-privatekey")) api_err_required(e, "data[ssh-privatekey]", "");
    } else if (!strcmp(type, "kubernetes.io/tls")) {
        if (!j_get(data, "tls.crt")) api_err_required(e, "data[tls.crt]", "");
        if (!j_get(data, "tls.key")) api_err_required(e, "data[tls.key]", "");
    }
    if (old) {
        v_immutable(j_get(o, "type"), j_get(old, "type"), "type", e);
        v_immutable_data(o, old, (const char *const[]){"data", NULL}, e);
    }
}

/* ------------------------------------------------------- Namespace, Node */

void v_namespace(const cJSON *o, const cJSON *old, api_errors_t *e)
{
    (void)old;
    const char *m[6];
    const cJSON *f;
    cJSON_ArrayForEach(f, j_path(o, "spec.finalizers"))
    {
        const char *s = cJSON_IsString(f) ? f->valuestring : "";
        err_msgs(e, "spec.finalizers", s, msgs_qualified_name(s, m), m);
        if (!strchr(s, '/') && strcmp(s, "kubernetes"))
            api_err_invalid(e, "spec.finalizers", s,
                            "name is neither a standard finalizer name nor is it fully qualified");
    }
    const char *phase = j_str(j_get(o, "status"), "phase");
    if (phase && *phase && strcmp(phase, "Active") && strcmp(phase, "Terminating"))
        api_err_not_supported(e, "status.phase", phase,
                              (const char *const[]){"Active", "Terminating", NULL});
}

static const char *const taint_effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};

void v_node(const cJSON *o, const cJSON *old, api_errors_t *e)
{
    char p[FP_MAX];
    const char *m[6];
    const cJSON *spec = j_get(o, "spec");
    const cJSON *t;
    int i = 0;
    cJSON_ArrayForEach(t, j_get(spec, "taints"))
    {
        const char *key = j_str0(t, "key"), *value = j_str0(t, "value"), *eff = j_str0(t, "effect");
        err_msgs(e, fp(p, sizeof p, "spec.taints[%d].key", i), key, msgs_qualified_name(key, m), m);
        int n = msgs_label_value(value, m);
        if (n) api_err_invalid(e, fp(p, sizeof p, "spec.taints[%d].value", i), value, m[0]);
        if (!*eff)
            api_err_required(e, fp(p, sizeof p, "spec.taints[%d].effect", i), "");
        else if (!one_of(eff, taint_effects))
            api_err_not_supported(e, fp(p, sizeof p, "spec.taints[%d].effect", i), eff,
                                  taint_effects);
        int k = 0;
        const cJSON *prev;
        cJSON_ArrayForEach(prev, j_get(spec, "taints"))
        {
            if (k++ >= i) break;
            if (!strcmp(j_str0(prev, "key"), key) && !strcmp(j_str0(prev, "effect"), eff)) {
                sbuf_t b = {0};
                sb_puts(&b, "core.Taint{Key:");
                go_quote(&b, key);
                sb_puts(&b, ", Value:");
                go_quote(&b, value);
                sb_puts(&b, ", Effect:");
                go_quote(&b, eff);
                sb_puts(&b, ", TimeAdded:<nil>}");
                char *repr = sb_take(&b);
                err_add(e, API_ERR_DUPLICATE, fp(p, sizeof p, "spec.taints[%d]", i),
                        repr ? repr : "", "taints must be unique by key and effect pair");
                free(repr);
                break;
            }
        }
        i++;
    }
    const cJSON *c;
    i = 0;
    cJSON_ArrayForEach(c, j_get(spec, "podCIDRs"))
    {
        const char *s = cJSON_IsString(c) ? c->valuestring : "";
        if (!is_cidr(s))
            api_err_invalid(e, fp(p, sizeof p, "spec.podCIDRs[%d]", i), s,
                            "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
        i++;
    }
    if (i > 2)
        api_err_invalid(e, "spec.podCIDRs", "",
                        "may specify no more than one CIDR for each IP family");
    if (!old) return;
    const cJSON *ospec = j_get(old, "spec");
    const cJSON *oc = j_get(ospec, "podCIDRs"), *nc = j_get(spec, "podCIDRs");
    if (j_len(ospec, "podCIDRs") > 0 && !(nc && cJSON_Compare(oc, nc, true)))
        api_err_forbidden(e, "spec.podCIDRs",
                          "node updates may not change podCIDR except from \"\" to valid");
    const char *opid = j_str0(ospec, "providerID");
    if (*opid && strcmp(opid, j_str0(spec, "providerID")))
        api_err_forbidden(e, "spec.providerID",
                          "node updates may not change providerID except from \"\" to valid");
}

/* ------------------------------------------------------------------- Event */

void v_event(const cJSON *o, const cJSON *old, api_errors_t *e)
{
    (void)old;
    const char *ns = j_str0(j_get(o, "metadata"), "namespace");
    const cJSON *inv = j_get(o, "involvedObject");
    const char *ins = j_str0(inv, "namespace");
    if (!j_has(o, "eventTime")) {
        if (!*ins) {
            if (*ns && strcmp(ns, "default"))
                api_err_invalid(e, "involvedObject.namespace", ins,
                                "does not match event.namespace");
        } else if (strcmp(ns, ins)) {
            api_err_invalid(e, "involvedObject.namespace", ins, "does not match event.namespace");
        }
        return;
    }
    /* Events with eventTime follow the events.k8s.io rules. */
    const char *m[6];
    if (!*ins && strcmp(ns, "default") && strcmp(ns, "kube-system"))
        api_err_invalid(e, "involvedObject.namespace", ins, "does not match event.namespace");
    const char *rc = j_str0(o, "reportingComponent");
    if (!*rc) api_err_required(e, "reportingComponent", "");
    err_msgs(e, "reportingComponent", rc, msgs_qualified_name(rc, m), m);
    size_t ri = strlen(j_str0(o, "reportingInstance"));
    if (ri == 0) api_err_required(e, "reportingInstance", "");
    if (ri > 128) api_err_invalid(e, "reportingInstance", "", "can have at most 128 characters");
    size_t act = strlen(j_str0(o, "action"));
    if (act == 0) api_err_required(e, "action", "");
    if (act > 128) api_err_invalid(e, "action", "", "can have at most 128 characters");
    size_t rs = strlen(j_str0(o, "reason"));
    if (rs == 0) api_err_required(e, "reason", "");
    if (rs > 128) api_err_invalid(e, "reason", "", "can have at most 128 characters");
    if (strlen(j_str0(o, "message")) > 1024)
        api_err_invalid(e, "message", "", "can have at most 1024 characters");
}

/* ------------------------------------------------------------- RC, Binding */

void v_rc(const cJSON *o, const cJSON *old, api_errors_t *e)
{
    (void)old;
    const cJSON *spec = j_get(o, "spec");
    const cJSON *sel = j_get(spec, "selector");
    v_nonneg(spec, "minReadySeconds", "spec.minReadySeconds", e);
    if (j_len(spec, "selector") == 0) api_err_required(e, "spec.selector", "");
    v_nonneg(spec, "replicas", "spec.replicas", e);
    const cJSON *tmpl = j_get(spec, "template");
    if (cJSON_IsObject(tmpl) && j_len(spec, "selector") > 0) {
        const cJSON *labels = j_path(tmpl, "metadata.labels");
        bool match = true;
        const cJSON *it;
        cJSON_ArrayForEach(it, sel)
        {
            const char *v = j_str(labels, it->string);
            if (!v || !cJSON_IsString(it) || strcmp(v, it->valuestring)) match = false;
        }
        if (!match)
            err_invalid_map(e, "spec.template.metadata.labels", labels,
                            "`selector` does not match template `labels`");
    }
    v_controller_template(tmpl, "spec.template", "ReplicationController", e);
}

void v_binding(const cJSON *o, const cJSON *old, api_errors_t *e)
{
    (void)old;
    const cJSON *target = j_get(o, "target");
    const char *kind = j_str0(target, "kind");
    if (*kind && strcmp(kind, "Node"))
        api_err_not_supported(e, "target.kind", kind,
                              (const char *const[]){"Node", "<empty>", NULL});
    if (!*j_str0(target, "name")) api_err_required(e, "target.name", "");
}
