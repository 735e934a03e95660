/*
 * validate.c - the entry points of validation, Kubernetes' name and label
 * syntax rules, and ObjectMeta validation shared by every kind.
 *
 * Messages are Kubernetes' word for word (apimachinery's validation
 * package), because users and tests compare them with what a real cluster
 * says. Per-kind rules live in validate_pod.c, validate_core.c and
 * validate_apps.c.
 */
#include "api/model_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- name rules */

#define MSG_MAX63 "must be no more than 63 characters"
#define MSG_MAX253 "must be no more than 253 characters"
#define MSG_DNS1123_LABEL                                                                          \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "   \
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "     \
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define MSG_DNS1123_SUBDOMAIN                                                                      \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define MSG_DNS1035_LABEL                                                                          \
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "   \
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "           \
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
#define QNAME_RE_MSG                                                                               \
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "    \
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "         \
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define MSG_LABEL_VALUE                                                                            \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "             \
    "'my_value',  or '12345', regex used for validation is "                                       \
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

static bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..n) */
static bool re_label(const char *s, size_t n)
{
    if (n == 0 || !lower_alnum(s[0]) || !lower_alnum(s[n - 1])) return false;
    for (size_t i = 0; i < n; i++)
        if (!lower_alnum(s[i]) && s[i] != '-') return false;
    return true;
}

static bool re_subdomain(const char *s)
{
    const char *p = s;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!re_label(p, n)) return false;
        if (!dot) return true;
        p = dot + 1;
    }
}

static bool re_dns1035(const char *s)
{
    return s[0] >= 'a' && s[0] <= 'z' && re_label(s, strlen(s));
}

static bool qchar(char c)
{
    return isalnum((unsigned char)c);
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] */
static bool re_qname(const char *s, size_t n)
{
    if (n == 0 || !qchar(s[0]) || !qchar(s[n - 1])) return false;
    for (size_t i = 0; i < n; i++)
        if (!qchar(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.') return false;
    return true;
}

int msgs_dns1123_label(const char *v, const char **msgs)
{
    int n = 0;
    if (strlen(v) > 63) msgs[n++] = MSG_MAX63;
    if (!re_label(v, strlen(v)))
        msgs[n++] = re_subdomain(v) ? "must not contain dots" : MSG_DNS1123_LABEL;
    return n;
}

int msgs_dns1123_subdomain(const char *v, const char **msgs)
{
    int n = 0;
    if (strlen(v) > 253) msgs[n++] = MSG_MAX253;
    if (!re_subdomain(v)) msgs[n++] = MSG_DNS1123_SUBDOMAIN;
    return n;
}

int msgs_dns1035_label(const char *v, const char **msgs)
{
    int n = 0;
    if (strlen(v) > 63) msgs[n++] = MSG_MAX63;
    if (!re_dns1035(v)) msgs[n++] = MSG_DNS1035_LABEL;
    return n;
}

int msgs_qualified_name(const char *v, const char **msgs)
{
    int n = 0;
    const char *slash = strchr(v, '/');
    const char *name = v;
    if (slash && strchr(slash + 1, '/')) {
        msgs[n++] = "a qualified name " QNAME_RE_MSG " with an optional DNS subdomain prefix and "
                    "'/' (e.g. 'example.com/MyName')";
        return n;
    }
    if (slash) {
        size_t plen = (size_t)(slash - v);
        char prefix[300];
        name = slash + 1;
        if (plen == 0) {
            msgs[n++] = "prefix part must be non-empty";
        } else if (plen >= sizeof prefix) {
            msgs[n++] = "prefix part " MSG_MAX253;
            msgs[n++] = "prefix part " MSG_DNS1123_SUBDOMAIN;
        } else {
            memcpy(prefix, v, plen);
            prefix[plen] = '\0';
            if (plen > 253) msgs[n++] = "prefix part " MSG_MAX253;
            if (!re_subdomain(prefix)) msgs[n++] = "prefix part " MSG_DNS1123_SUBDOMAIN;
        }
    }
    size_t nl = strlen(name);
    if (nl == 0)
        msgs[n++] = "name part must be non-empty";
    else if (nl > 63)
        msgs[n++] = "name part " MSG_MAX63;
    if (!re_qname(name, nl)) msgs[n++] = "name part " QNAME_RE_MSG;
    return n;
}

int msgs_label_value(const char *v, const char **msgs)
{
    int n = 0;
    size_t len = strlen(v);
    if (len > 63) msgs[n++] = MSG_MAX63;
    if (len && !re_qname(v, len)) msgs[n++] = MSG_LABEL_VALUE;
    return n;
}

int msgs_port_name(const char *v, const char **msgs)
{
    int n = 0;
    size_t len = strlen(v);
    bool charset = len > 0, letter = false;
    for (size_t i = 0; i < len; i++) {
        if (v[i] >= 'a' && v[i] <= 'z') letter = true;
        if (!lower_alnum(v[i]) && v[i] != '-') charset = false;
    }
    if (len > 15) msgs[n++] = "must be no more than 15 characters";
    if (!charset)
        msgs[n++] = "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
    if (!letter) msgs[n++] = "must contain at least one letter (a-z)";
    if (strstr(v, "--")) msgs[n++] = "must not contain consecutive hyphens";
    if (len && (v[0] == '-' || v[len - 1] == '-'))
        msgs[n++] = "must not begin or end with a hyphen";
    return n;
}

int msgs_config_key(const char *v, const char **msgs)
{
    int n = 0;
    size_t len = strlen(v);
    bool ok = len > 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)v[i]) && v[i] != '-' && v[i] != '_' && v[i] != '.') ok = false;
    if (len > 253) msgs[n++] = MSG_MAX253;
    if (!ok)
        msgs[n++] = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
                    "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation "
                    "is '[-._a-zA-Z0-9]+')";
    if (!strcmp(v, "."))
        msgs[n++] = "must not be '.'";
    else if (!strcmp(v, ".."))
        msgs[n++] = "must not be '..'";
    else if (!strncmp(v, "..", 2))
        msgs[n++] = "must not start with '..'";
    return n;
}

int msgs_percent(const char *v, const char **msgs)
{
    size_t len = strlen(v);
    bool ok = len >= 2 && v[len - 1] == '%';
    for (size_t i = 0; ok && i + 1 < len; i++)
        if (!isdigit((unsigned char)v[i])) ok = false;
    if (ok) return 0;
    msgs[0] = "a valid percent string must be a numeric string followed by an ending '%' (e.g. "
              "'1%',  or '93%', regex used for validation is '[0-9]+%')";
    return 1;
}

bool api_is_dns1123_label(const char *s)
{
    const char *m[4];
    return s && msgs_dns1123_label(s, m) == 0;
}

bool api_is_dns1123_subdomain(const char *s)
{
    const char *m[4];
    return s && msgs_dns1123_subdomain(s, m) == 0;
}

bool api_is_dns1035_label(const char *s)
{
    const char *m[4];
    return s && msgs_dns1035_label(s, m) == 0;
}

bool api_is_qualified_name(const char *s)
{
    const char *m[4];
    return s && msgs_qualified_name(s, m) == 0;
}

bool api_is_label_value(const char *s)
{
    const char *m[4];
    return s && msgs_label_value(s, m) == 0;
}

void err_msgs(api_errors_t *e, const char *field, const char *v, int n, const char **msgs)
{
    for (int i = 0; i < n; i++)
        api_err_invalid(e, field, v, msgs[i]);
}

bool is_ip(const char *s)
{
    unsigned char buf[16];
    return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

bool is_cidr(const char *s)
{
    char ip[64];
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!slash || (size_t)(slash - s) >= sizeof ip || !slash[1]) return false;
    memcpy(ip, s, (size_t)(slash - s));
    ip[slash - s] = '\0';
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    if (*end || !isdigit((unsigned char)slash[1])) return false;
    unsigned char buf[16];
    if (inet_pton(AF_INET, ip, buf) == 1) return bits >= 0 && bits <= 32;
    if (inet_pton(AF_INET6, ip, buf) == 1) return bits >= 0 && bits <= 128;
    return false;
}

/* ------------------------------------------------------- shared validators */

void v_labels(const cJSON *labels, const char *field, api_errors_t *e)
{
    const cJSON *it;
    const char *m[6];
    cJSON_ArrayForEach(it, (cJSON_IsObject(labels) ? labels : NULL))
    {
        err_msgs(e, field, it->string, msgs_qualified_name(it->string, m), m);
        const char *v = cJSON_IsString(it) ? it->valuestring : "";
        err_msgs(e, field, v, msgs_label_value(v, m), m);
    }
}

#define ANNOTATIONS_MAX (256 * 1024)

void v_annotations(const cJSON *ann, const char *field, api_errors_t *e)
{
    const cJSON *it;
    const char *m[6];
    size_t total = 0;
    cJSON_ArrayForEach(it, (cJSON_IsObject(ann) ? ann : NULL))
    {
        /* Keys are qualified names in any letter case. */
        char *lower = strdup(it->string);
        if (!lower) {
            e->oom = true;
            return;
        }
        for (char *c = lower; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        err_msgs(e, field, it->string, msgs_qualified_name(lower, m), m);
        free(lower);
        total += strlen(it->string) + (cJSON_IsString(it) ? strlen(it->valuestring) : 0);
    }
    if (total > ANNOTATIONS_MAX) api_err_too_long(e, field, ANNOTATIONS_MAX);
}

void v_nonneg(const cJSON *o, const char *key, const char *field, api_errors_t *e)
{
    double d;
    if (j_num(o, key, &d) && d < 0)
        api_err_invalid_int(e, field, (long long)d, "must be greater than or equal to 0");
}

void v_port_num(long long port, const char *field, api_errors_t *e)
{
    if (port < 1 || port > 65535)
        api_err_invalid_int(e, field, port, "must be between 1 and 65535, inclusive");
}

void v_port_num_or_name(const cJSON *v, const char *field, api_errors_t *e)
{
    const char *m[6];
    if (cJSON_IsNumber(v)) {
        v_port_num((long long)v->valuedouble, field, e);
    } else if (cJSON_IsString(v)) {
        err_msgs(e, field, v->valuestring, msgs_port_name(v->valuestring, m), m);
    } else if (v && !cJSON_IsNull(v)) {
        err_add(e, API_ERR_INVALID, field, "null", "must be an integer or a string");
    }
}

void v_label_selector(const cJSON *sel, const char *field, api_errors_t *e)
{
    char p[FP_MAX];
    const char *m[6];
    const cJSON *ex;
    int i = 0;
    cJSON_ArrayForEach(ex, j_get(sel, "matchExpressions"))
    {
        const char *op = j_str0(ex, "operator");
        int nv = j_len(ex, "values");
        if (!strcmp(op, "In") || !strcmp(op, "NotIn")) {
            if (nv == 0)
                api_err_required(e, fp(p, sizeof p, "%s.matchExpressions[%d].values", field, i),
                                 "must be specified when `operator` is 'In' or 'NotIn'");
        } else if (!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist")) {
            if (nv > 0)
                api_err_forbidden(e, fp(p, sizeof p, "%s.matchExpressions[%d].values", field, i),
                                  "may not be specified when `operator` is 'Exists' or "
                                  "'DoesNotExist'");
        } else {
            api_err_invalid(e, fp(p, sizeof p, "%s.matchExpressions[%d].operator", field, i), op,
                            "not a valid selector operator");
        }
        const char *key = j_str0(ex, "key");
        err_msgs(e, fp(p, sizeof p, "%s.matchExpressions[%d].key", field, i), key,
                 msgs_qualified_name(key, m), m);
        i++;
    }
    v_labels(j_get(sel, "matchLabels"), fp(p, sizeof p, "%s.matchLabels", field), e);
}

void v_template_meta(const cJSON *meta, const char *prefix, api_errors_t *e)
{
    char p[FP_MAX];
    v_labels(j_get(meta, "labels"), fp(p, sizeof p, "%s.labels", prefix), e);
    v_annotations(j_get(meta, "annotations"), fp(p, sizeof p, "%s.annotations", prefix), e);
}

/* Renders a JSON value as Kubernetes would print the Go value. */
static char *value_repr(const cJSON *v)
{
    sbuf_t b = {0};
    if (!v || cJSON_IsNull(v)) {
        sb_puts(&b, "null");
    } else if (cJSON_IsString(v)) {
        go_quote(&b, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        sb_printf(&b, "%lld", (long long)v->valuedouble);
    } else if (cJSON_IsBool(v)) {
        sb_puts(&b, cJSON_IsTrue(v) ? "true" : "false");
    } else {
        char *s = cJSON_PrintUnformatted(v);
        if (!s) return NULL;
        sb_puts(&b, s);
        free(s);
    }
    return sb_take(&b);
}

void v_immutable(const cJSON *nv, const cJSON *ov, const char *field, api_errors_t *e)
{
    bool nnull = !nv || cJSON_IsNull(nv), onull = !ov || cJSON_IsNull(ov);
    if (nnull && onull) return;
    if (!nnull && !onull && cJSON_Compare(nv, ov, true)) return;
    char *repr = value_repr(nv);
    if (!repr) {
        e->oom = true;
        return;
    }
    err_add(e, API_ERR_INVALID, field, repr, "field is immutable");
    free(repr);
}

/* -------------------------------------------------------------- ObjectMeta */

enum name_rule { NAME_SUBDOMAIN, NAME_LABEL, NAME_DNS1035, NAME_ANY };

static int name_msgs(enum name_rule rule, const char *v, bool prefix, const char **m)
{
    char masked[300];
    /* A generateName may end in '-': the random suffix follows it. */
    size_t len = strlen(v);
    if (prefix && len > 1 && len < sizeof masked && v[len - 1] == '-') {
        memcpy(masked, v, len + 1);
        masked[len - 1] = 'a';
        v = masked;
    }
    switch (rule) {
    case NAME_SUBDOMAIN:
        return msgs_dns1123_subdomain(v, m);
    case NAME_LABEL:
        return msgs_dns1123_label(v, m);
    case NAME_DNS1035:
        return msgs_dns1035_label(v, m);
    default:
        return 0;
    }
}

static void v_owner_refs(const cJSON *refs, api_errors_t *e)
{
    const char *f = "metadata.ownerReferences";
    const cJSON *r;
    char first[300] = "";
    char p[FP_MAX];
    cJSON_ArrayForEach(r, (cJSON_IsArray(refs) ? refs : NULL))
    {
        const char *av = j_str0(r, "apiVersion");
        const char *slash = strrchr(av, '/');
        const char *version = slash ? slash + 1 : av;
        if (!*version)
            api_err_invalid(e, fp(p, sizeof p, "%s.apiVersion", f), av,
                            "version must not be empty");
        if (!*j_str0(r, "kind"))
            api_err_invalid(e, fp(p, sizeof p, "%s.kind", f), "", "kind must not be empty");
        if (!*j_str0(r, "name"))
            api_err_invalid(e, fp(p, sizeof p, "%s.name", f), "", "name must not be empty");
        if (!*j_str0(r, "uid"))
            api_err_invalid(e, fp(p, sizeof p, "%s.uid", f), "", "uid must not be empty");
        if (j_true(r, "controller")) {
            char cur[300];
            snprintf(cur, sizeof cur, "%s/%s", j_str0(r, "kind"), j_str0(r, "name"));
            if (*first) {
                char d[700];
                snprintf(d, sizeof d,
                         "Only one reference can have Controller set to true. Found \"true\" in "
                         "references for %s and %s",
                         first, cur);
                err_add(e, API_ERR_INVALID, f, "[]v1.OwnerReference{...}", d);
            } else {
                snprintf(first, sizeof first, "%s", cur);
            }
        }
    }
}

static void v_finalizers(const cJSON *fins, api_errors_t *e)
{
    const char *f = "metadata.finalizers";
    const char *m[6];
    const cJSON *it;
    bool orphan = false, foreground = false;
    cJSON_ArrayForEach(it, (cJSON_IsArray(fins) ? fins : NULL))
    {
        const char *s = cJSON_IsString(it) ? it->valuestring : "";
        err_msgs(e, f, s, msgs_qualified_name(s, m), m);
        if (!strcmp(s, "orphan")) orphan = true;
        if (!strcmp(s, "foregroundDeletion")) foreground = true;
    }
    if (orphan && foreground) {
        sbuf_t b = {0};
        go_str_slice(&b, fins);
        char *repr = sb_take(&b);
        err_add(e, API_ERR_INVALID, f, repr ? repr : "[]string{...}",
                "finalizer orphan and foregroundDeletion cannot be both set");
        free(repr);
    }
}

static void v_object_meta(const cJSON *obj, bool namespaced, enum name_rule rule, api_errors_t *e)
{
    const cJSON *meta = j_get(obj, "metadata");
    const char *m[6];
    const char *gen = j_str(meta, "generateName");
    const char *name = j_str(meta, "name");
    const char *ns = j_str(meta, "namespace");
    if (gen && *gen) err_msgs(e, "metadata.generateName", gen, name_msgs(rule, gen, true, m), m);
    if (!name || !*name)
        api_err_required(e, "metadata.name", "name or generateName is required");
    else
        err_msgs(e, "metadata.name", name, name_msgs(rule, name, false, m), m);
    if (namespaced) {
        if (!ns || !*ns)
            api_err_required(e, "metadata.namespace", "");
        else
            err_msgs(e, "metadata.namespace", ns, msgs_dns1123_label(ns, m), m);
    } else if (ns && *ns) {
        api_err_forbidden(e, "metadata.namespace", "not allowed on this type");
    }
    v_nonneg(meta, "generation", "metadata.generation", e);
    v_labels(j_get(meta, "labels"), "metadata.labels", e);
    v_annotations(j_get(meta, "annotations"), "metadata.annotations", e);
    v_owner_refs(j_get(meta, "ownerReferences"), e);
    v_finalizers(j_get(meta, "finalizers"), e);
}

static void v_object_meta_update(const cJSON *obj, const cJSON *old, api_errors_t *e)
{
    const cJSON *nm = j_get(obj, "metadata"), *om = j_get(old, "metadata");
    if (j_has(om, "deletionTimestamp")) {
        /* No new finalizers once deletion started. */
        cJSON *added = cJSON_CreateArray();
        const cJSON *f;
        cJSON_ArrayForEach(f, j_get(nm, "finalizers"))
        {
            bool found = false;
            const cJSON *g;
            cJSON_ArrayForEach(g, j_get(om, "finalizers")) if (cJSON_Compare(f, g, true)) found =
                true;
            if (!found && added) cJSON_AddItemToArray(added, cJSON_Duplicate(f, true));
        }
        if (added && cJSON_GetArraySize(added) > 0) {
            sbuf_t b = {0};
            sb_puts(&b, "no new finalizers can be added if the object is being deleted, found "
                        "new finalizers ");
            go_str_slice(&b, added);
            char *d = sb_take(&b);
            api_err_forbidden(e, "metadata.finalizers", d ? d : "");
            free(d);
        }
        cJSON_Delete(added);
    }
    double ng, og;
    if (j_num(nm, "generation", &ng) && j_num(om, "generation", &og) && ng < og)
        api_err_invalid_int(e, "metadata.generation", (long long)ng, "must not be decremented");
    v_immutable(j_get(nm, "name"), j_get(om, "name"), "metadata.name", e);
    v_immutable(j_get(nm, "namespace"), j_get(om, "namespace"), "metadata.namespace", e);
    if (j_has(nm, "uid")) v_immutable(j_get(nm, "uid"), j_get(om, "uid"), "metadata.uid", e);
}

/* ------------------------------------------------------------- dispatching */

struct kind_rules {
    const char *kind;
    enum name_rule name;
    bool meta; /* whether the kind carries a validated ObjectMeta */
    void (*fn)(const cJSON *o, const cJSON *old, api_errors_t *e);
};

static const struct kind_rules kinds[] = {
    {"Pod", NAME_SUBDOMAIN, true, v_pod},
    {"Service", NAME_DNS1035, true, v_service},
    {"Endpoints", NAME_SUBDOMAIN, true, v_endpoints},
    {"ConfigMap", NAME_SUBDOMAIN, true, v_configmap},
    {"Secret", NAME_SUBDOMAIN, true, v_secret},
    {"Namespace", NAME_LABEL, true, v_namespace},
    {"Node", NAME_SUBDOMAIN, true, v_node},
    {"Event", NAME_SUBDOMAIN, true, v_event},
    {"ReplicationController", NAME_SUBDOMAIN, true, v_rc},
    {"ServiceAccount", NAME_SUBDOMAIN, true, NULL},
    {"Binding", NAME_ANY, false, v_binding},
    {"Deployment", NAME_SUBDOMAIN, true, v_deployment},
    {"ReplicaSet", NAME_SUBDOMAIN, true, v_replicaset},
    {"DaemonSet", NAME_SUBDOMAIN, true, v_daemonset},
    {"Scale", NAME_SUBDOMAIN, true, v_scale},
    {"Lease", NAME_SUBDOMAIN, true, v_lease},
    {"EndpointSlice", NAME_SUBDOMAIN, true, v_endpointslice},
    {"Eviction", NAME_ANY, false, NULL},
};

static const struct kind_rules *rules_for(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].kind, kind)) return &kinds[i];
    return NULL;
}

static bool kind_namespaced(const char *kind)
{
    const api_resource_t *r = api_resource_by_kind(NULL, kind);
    /* Scale and Eviction are only ever namespaced here. */
    return r ? r->namespaced : true;
}

int api_validate(const char *kind, const cJSON *obj, const cJSON *old, api_errors_t *errs)
{
    size_t before = errs->n;
    const struct kind_rules *k = rules_for(kind);
    if (!k || k->meta) {
        v_object_meta(obj, kind_namespaced(kind), k ? k->name : NAME_SUBDOMAIN, errs);
        if (old) v_object_meta_update(obj, old, errs);
    }
    if (k && k->fn) k->fn(obj, old, errs);
    if (errs->oom && errs->n == before) err_add(errs, API_ERR_INTERNAL, "", NULL, "out of memory");
    return (int)(errs->n - before);
}

int api_validate_status(const char *kind, const cJSON *obj, const cJSON *old, api_errors_t *errs)
{
    size_t before = errs->n;
    const struct kind_rules *k = rules_for(kind);
    if (!k || k->meta) {
        v_object_meta(obj, kind_namespaced(kind), k ? k->name : NAME_SUBDOMAIN, errs);
        if (old) v_object_meta_update(obj, old, errs);
    }
    const cJSON *st = j_get(obj, "status");
    /* Counters in status are never negative (apps and RC status rules). */
    static const char *const counters[] = {"replicas",
                                           "readyReplicas",
                                           "availableReplicas",
                                           "updatedReplicas",
                                           "fullyLabeledReplicas",
                                           "observedGeneration",
                                           "currentNumberScheduled",
                                           "numberMisscheduled",
                                           "desiredNumberScheduled",
                                           "numberReady",
                                           "updatedNumberScheduled",
                                           "numberAvailable",
                                           "numberUnavailable",
                                           NULL};
    char p[FP_MAX];
    for (int i = 0; counters[i]; i++)
        v_nonneg(st, counters[i], fp(p, sizeof p, "status.%s", counters[i]), errs);
    if (kind && !strcmp(kind, "Pod")) {
        const char *phase = j_str(st, "phase");
        static const char *const phases[] = {"Pending", "Running", "Succeeded",
                                             "Failed",  "Unknown", NULL};
        bool ok = !phase;
        for (int i = 0; phase && phases[i]; i++)
            if (!strcmp(phase, phases[i])) ok = true;
        if (!ok) api_err_not_supported(errs, "status.phase", phase, phases);
    }
    if (errs->oom && errs->n == before) err_add(errs, API_ERR_INTERNAL, "", NULL, "out of memory");
    return (int)(errs->n - before);
}
