/*
 * validate_apps.c - validation of apps/v1 Deployment, ReplicaSet and
 * DaemonSet, autoscaling/v1 Scale, coordination.k8s.io/v1 Lease and
 * discovery.k8s.io/v1 EndpointSlice, with Kubernetes' rules and messages.
 *
 * The apps kinds share one shape (a label selector that must select the
 * pod template's labels, a template that restarts Always), checked once
 * in v_selected_template.
 */
#include "api/model_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* IntOrString printed as Kubernetes prints one in messages (its String()). */
static void intstr_repr(const cJSON *v, char *buf, size_t len)
{
    if (cJSON_IsString(v))
        snprintf(buf, len, "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(buf, len, "%lld", (long long)v->valuedouble);
    else
        snprintf(buf, len, "0");
}

/* Value of an int-or-percent for the "both zero" rules (percent as number). */
static long long intstr_value(const cJSON *v)
{
    if (cJSON_IsNumber(v)) return (long long)v->valuedouble;
    if (cJSON_IsString(v)) return atoll(v->valuestring);
    return 0;
}

static void v_int_or_percent(const cJSON *v, const char *field, api_errors_t *e)
{
    char repr[128];
    const char *m[2];
    if (!v || cJSON_IsNull(v)) return;
    intstr_repr(v, repr, sizeof repr);
    if (cJSON_IsString(v)) {
        int n = msgs_percent(v->valuestring, m);
        for (int i = 0; i < n; i++)
            err_add(e, API_ERR_INVALID, field, repr, m[i]);
    } else if (cJSON_IsNumber(v)) {
        if (v->valuedouble < 0)
            api_err_invalid_int(e, field, (long long)v->valuedouble,
                                "must be greater than or equal to 0");
    } else {
        err_add(e, API_ERR_INVALID, field, repr, "must be an integer or percentage (e.g '5%')");
    }
}

static void v_not_more_than_100(const cJSON *v, const char *field, api_errors_t *e)
{
    const char *m[2];
    if (!cJSON_IsString(v) || msgs_percent(v->valuestring, m) != 0) return;
    if (atoll(v->valuestring) > 100)
        err_add(e, API_ERR_INVALID, field, v->valuestring, "must not be greater than 100%");
}

/* Selector validity, selector/labels agreement and the template itself. */
static void v_selected_template(const cJSON *spec, const char *owner, const char *empty_msg,
                                api_errors_t *e)
{
    const cJSON *sel = j_get(spec, "selector");
    const cJSON *tmpl = j_get(spec, "template");
    bool has_sel = sel && !cJSON_IsNull(sel);
    if (has_sel) v_label_selector(sel, "spec.selector", e);
    if (has_sel && j_len(sel, "matchLabels") + j_len(sel, "matchExpressions") == 0) {
        sbuf_t b = {0};
        go_label_selector(&b, sel);
        char *repr = sb_take(&b);
        err_add(e, API_ERR_INVALID, "spec.selector", repr ? repr : "", empty_msg);
        free(repr);
    }
    char err[256];
    api_selector_t *s = api_selector_from_json(has_sel ? sel : NULL, err, sizeof err);
    if (!s && has_sel) {
        sbuf_t b = {0};
        go_label_selector(&b, sel);
        char *repr = sb_take(&b);
        err_add(e, API_ERR_INVALID, "spec.selector", repr ? repr : "", "invalid label selector");
        free(repr);
    } else if (s && cJSON_IsObject(tmpl) && !api_selector_empty(s)) {
        const cJSON *labels = j_path(tmpl, "metadata.labels");
        if (!api_selector_matches(s, cJSON_IsObject(labels) ? labels : NULL))
            err_invalid_map(e, "spec.template.metadata.labels", labels,
                            "`selector` does not match template `labels`");
    }
    api_selector_free(s);
    v_controller_template(tmpl, "spec.template", owner, e);
}

static void v_selector_immutable(const cJSON *o, const cJSON *old, api_errors_t *e)
{
    const cJSON *ns = j_path(o, "spec.selector"), *os = j_path(old, "spec.selector");
    if ((!ns && !os) || (ns && os && cJSON_Compare(ns, os, true))) return;
    sbuf_t b = {0};
    go_label_selector(&b, ns);
    char *repr = sb_take(&b);
    err_add(e, API_ERR_INVALID, "spec.selector", repr ? repr : "", "field is immutable");
    free(repr);
}

/* -------------------------------------------------------------- Deployment */

static void strategy_repr(sbuf_t *b, const char *go_type, const char *ru_type, const cJSON *st)
{
    sb_printf(b, "%s{Type:", go_type);
    go_quote(b, j_str0(st, "type"));
    if (j_has(st, "rollingUpdate"))
        sb_printf(b, ", RollingUpdate:&%s{...}}", ru_type);
    else
        sb_printf(b, ", RollingUpdate:(*%s)(nil)}", ru_type);
}

static void v_deployment_strategy(const cJSON *st, api_errors_t *e)
{
    const char *type = j_str0(st, "type");
    const cJSON *ru = j_get(st, "rollingUpdate");
    bool has_ru = ru && !cJSON_IsNull(ru);
    if (!strcmp(type, "Recreate")) {
        if (has_ru)
            api_err_forbidden(e, "spec.strategy.rollingUpdate",
                              "may not be specified when strategy `type` is 'Recreate'");
    } else if (!strcmp(type, "RollingUpdate")) {
        if (!has_ru) {
            api_err_required(e, "spec.strategy.rollingUpdate",
                             "this should be defaulted and never be nil");
            return;
        }
        const cJSON *mu = j_get(ru, "maxUnavailable"), *ms = j_get(ru, "maxSurge");
        v_int_or_percent(mu, "spec.strategy.rollingUpdate.maxUnavailable", e);
        v_int_or_percent(ms, "spec.strategy.rollingUpdate.maxSurge", e);
        if (intstr_value(mu) == 0 && intstr_value(ms) == 0) {
            char repr[128];
            intstr_repr(mu, repr, sizeof repr);
            err_add(e, API_ERR_INVALID, "spec.strategy.rollingUpdate.maxUnavailable", repr,
                    "may not be 0 when `maxSurge` is 0");
        }
        v_not_more_than_100(mu, "spec.strategy.rollingUpdate.maxUnavailable", e);
    } else {
        sbuf_t b = {0};
        strategy_repr(&b, "apps.DeploymentStrategy", "apps.RollingUpdateDeployment", st);
        char *repr = sb_take(&b);
        err_add(e, API_ERR_NOT_SUPPORTED, "spec.strategy", repr ? repr : "",
                "supported values: \"Recreate\", \"RollingUpdate\"");
        free(repr);
    }
}

void v_deployment(const cJSON *o, const cJSON *old, api_errors_t *e)
{
    const cJSON *spec = j_get(o, "spec");
    v_nonneg(spec, "replicas", "spec.replicas", e);
    const cJSON *sel = j_get(spec, "selector");
    if (!sel || cJSON_IsNull(sel)) {
        api_err_required(e, "spec.selector", "");
    } else {
        v_selected_template(spec, "ReplicaSet", "empty selector is invalid for deployment", e);
        v_deployment_strategy(j_get(spec, "strategy"), e);
        v_nonneg(spec, "minReadySeconds", "spec.minReadySeconds", e);
        v_nonneg(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit", e);
        double pd, mr = 0;
        if (j_num(spec, "progressDeadlineSeconds", &pd)) {
            v_nonneg(spec, "progressDeadlineSeconds", "spec.progressDeadlineSeconds", e);
            j_num(spec, "minReadySeconds", &mr);
            if (pd <= mr)
                api_err_invalid_int(e, "spec.progressDeadlineSeconds", (long long)pd,
                                    "must be greater than minReadySeconds");
        }
    }
    if (old) v_selector_immutable(o, old, e);
}

/* -------------------------------------------------------------- ReplicaSet */

void v_replicaset(const cJSON *o, const cJSON *old, api_errors_t *e)
{
    const cJSON *spec = j_get(o, "spec");
    v_nonneg(spec, "replicas", "spec.replicas", e);
    v_nonneg(spec, "minReadySeconds", "spec.minReadySeconds", e);
    const cJSON *sel = j_get(spec, "selector");
    if (!sel || cJSON_IsNull(sel)) {
        api_err_required(e, "spec.selector", "");
        v_controller_template(j_get(spec, "template"), "spec.template", "ReplicaSet", e);
    } else {
        /* Kubernetes says "deployment" here too. */
        v_selected_template(spec, "ReplicaSet", "empty selector is invalid for deployment", e);
    }
    if (old) v_selector_immutable(o, old, e);
}

/* --------------------------------------------------------------- DaemonSet */

static void v_daemonset_strategy(const cJSON *st, api_errors_t *e)
{
    const char *type = j_str0(st, "type");
    if (!strcmp(type, "OnDelete")) return;
    if (strcmp(type, "RollingUpdate")) {
        sbuf_t b = {0};
        strategy_repr(&b, "apps.DaemonSetUpdateStrategy", "apps.RollingUpdateDaemonSet", st);
        char *repr = sb_take(&b);
        err_add(e, API_ERR_NOT_SUPPORTED, "spec.updateStrategy", repr ? repr : "",
                "supported values: \"RollingUpdate\", \"OnDelete\"");
        free(repr);
        return;
    }
    const cJSON *ru = j_get(st, "rollingUpdate");
    if (!ru || cJSON_IsNull(ru)) {
        api_err_required(e, "spec.updateStrategy.rollingUpdate", "");
        return;
    }
    const char *mu_f = "spec.updateStrategy.rollingUpdate.maxUnavailable";
    const char *ms_f = "spec.updateStrategy.rollingUpdate.maxSurge";
    const cJSON *mu = j_get(ru, "maxUnavailable"), *ms = j_get(ru, "maxSurge");
    v_int_or_percent(mu, mu_f, e);
    v_int_or_percent(ms, ms_f, e);
    v_not_more_than_100(mu, mu_f, e);
    v_not_more_than_100(ms, ms_f, e);
    bool has_mu = intstr_value(mu) != 0, has_ms = intstr_value(ms) != 0;
    if (has_mu && has_ms) {
        char repr[128];
        intstr_repr(ms, repr, sizeof repr);
        err_add(e, API_ERR_INVALID, ms_f, repr, "may not be set when maxUnavailable is non-zero");
    } else if (!has_mu && !has_ms) {
        api_err_required(e, mu_f, "cannot be 0 when maxSurge is 0");
    }
}

void v_daemonset(const cJSON *o, const cJSON *old, api_errors_t *e)
{
    const cJSON *spec = j_get(o, "spec");
    const cJSON *sel = j_get(spec, "selector");
    const cJSON *tmpl = j_get(spec, "template");
    bool has_sel = sel && !cJSON_IsNull(sel);
    if (has_sel) v_label_selector(sel, "spec.selector", e);
    char err[256];
    api_selector_t *s = api_selector_from_json(has_sel ? sel : NULL, err, sizeof err);
    const cJSON *labels = j_path(tmpl, "metadata.labels");
    if (s && !api_selector_matches(s, cJSON_IsObject(labels) ? labels : NULL))
        err_invalid_map(e, "spec.template.metadata.labels", labels,
                        "`selector` does not match template `labels`");
    api_selector_free(s);
    if (has_sel && j_len(sel, "matchLabels") + j_len(sel, "matchExpressions") == 0) {
        sbuf_t b = {0};
        go_label_selector(&b, sel);
        char *repr = sb_take(&b);
        err_add(e, API_ERR_INVALID, "spec.selector", repr ? repr : "",
                "empty selector is invalid for daemonset");
        free(repr);
    }
    if (!cJSON_IsObject(tmpl)) {
        api_err_required(e, "spec.template", "");
    } else {
        v_template_meta(j_get(tmpl, "metadata"), "spec.template.metadata", e);
        const cJSON *ps = j_get(tmpl, "spec");
        v_pod_spec(ps, "spec.template.spec", e);
        const char *rp = j_str0(ps, "restartPolicy");
        if (strcmp(rp, "Always"))
            api_err_not_supported(e, "spec.template.spec.restartPolicy", rp,
                                  (const char *const[]){"Always", NULL});
        double ad;
        if (j_num(ps, "activeDeadlineSeconds", &ad))
            api_err_invalid_int(e, "spec.template.spec.activeDeadlineSeconds", (long long)ad,
                                "activeDeadlineSeconds in DaemonSet is not Supported");
    }
    v_nonneg(spec, "minReadySeconds", "spec.minReadySeconds", e);
    v_daemonset_strategy(j_get(spec, "updateStrategy"), e);
    v_nonneg(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit", e);
    if (old) v_selector_immutable(o, old, e);
}

/* ------------------------------------------------------------------- Scale */

void v_scale(const cJSON *o, const cJSON *old, api_errors_t *e)
{
    (void)old;
    v_nonneg(j_get(o, "spec"), "replicas", "spec.replicas", e);
}

/* ------------------------------------------------------------------- Lease */

void v_lease(const cJSON *o, const cJSON *old, api_errors_t *e)
{
    (void)old;
    const cJSON *spec = j_get(o, "spec");
    double d;
    if (j_num(spec, "leaseDurationSeconds", &d) && d <= 0)
        api_err_invalid_int(e, "spec.leaseDurationSeconds", (long long)d, "must be greater than 0");
    if (j_num(spec, "leaseTransitions", &d) && d < 0)
        api_err_invalid_int(e, "spec.leaseTransitions", (long long)d,
                            "must be greater than or equal to 0");
}

/* ----------------------------------------------------------- EndpointSlice */

static const char *const address_types[] = {"FQDN", "IPv4", "IPv6", NULL};

static void v_slice_address(const char *type, const char *addr, const char *field, api_errors_t *e)
{
    unsigned char b[16];
    if (!strcmp(type, "IPv4")) {
        if (inet_pton(AF_INET, addr, b) != 1)
            api_err_invalid(e, field, addr, "must be a valid IPv4 address");
        else if (!b[0] && !b[1] && !b[2] && !b[3])
            api_err_invalid(e, field, addr, "may not be unspecified (0.0.0.0)");
        else if (b[0] == 127)
            api_err_invalid(e, field, addr,
                            "may not be in the loopback range (127.0.0.0/8, ::1/128)");
    } else if (!strcmp(type, "IPv6")) {
        if (inet_pton(AF_INET6, addr, b) != 1)
            api_err_invalid(e, field, addr, "must be a valid IPv6 address");
    } else if (!strcmp(type, "FQDN")) {
        const char *m[4];
        err_msgs(e, field, addr, msgs_dns1123_subdomain(addr, m), m);
    }
}

void v_endpointslice(const cJSON *o, const cJSON *old, api_errors_t *e)
{
    char p[FP_MAX];
    const char *m[6];
    const char *type = j_str0(o, "addressType");
    if (!old) {
        bool known = false;
        for (int i = 0; address_types[i]; i++)
            if (!strcmp(type, address_types[i])) known = true;
        if (!*type)
            api_err_required(e, "addressType", "");
        else if (!known)
            api_err_not_supported(e, "addressType", type, address_types);
    }
    const cJSON *ep;
    int i = 0;
    cJSON_ArrayForEach(ep, j_get(o, "endpoints"))
    {
        int n = j_len(ep, "addresses");
        if (n == 0)
            api_err_required(e, fp(p, sizeof p, "endpoints[%d].addresses", i),
                             "must contain at least 1 address");
        else if (n > 100) {
            char repr[16];
            snprintf(repr, sizeof repr, "%d", n);
            err_add(e, API_ERR_TOO_MANY, fp(p, sizeof p, "endpoints[%d].addresses", i), repr,
                    "must have at most 100 items");
        }
        const cJSON *a;
        int k = 0;
        cJSON_ArrayForEach(a, j_get(ep, "addresses"))
        {
            v_slice_address(type, cJSON_IsString(a) ? a->valuestring : "",
                            fp(p, sizeof p, "endpoints[%d].addresses[%d]", i, k), e);
            k++;
        }
        const char *node = j_str(ep, "nodeName");
        if (node)
            err_msgs(e, fp(p, sizeof p, "endpoints[%d].nodeName", i), node,
                     msgs_dns1123_subdomain(node, m), m);
        const char *host = j_str(ep, "hostname");
        if (host)
            err_msgs(e, fp(p, sizeof p, "endpoints[%d].hostname", i), host,
                     msgs_dns1123_label(host, m), m);
        i++;
    }
    const cJSON *port;
    i = 0;
    cJSON_ArrayForEach(port, j_get(o, "ports"))
    {
        const char *name = j_str0(port, "name");
        if (*name)
            err_msgs(e, fp(p, sizeof p, "ports[%d].name", i), name, msgs_dns1123_label(name, m), m);
        int k = 0;
        const cJSON *prev;
        cJSON_ArrayForEach(prev, j_get(o, "ports"))
        {
            if (k++ >= i) break;
            if (!strcmp(j_str0(prev, "name"), name)) {
                api_err_duplicate(e, fp(p, sizeof p, "ports[%d].name", i), name);
                break;
            }
        }
        const char *proto = j_str(port, "protocol");
        static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};
        bool ok = false;
        for (int q = 0; proto && protocols[q]; q++)
            if (!strcmp(proto, protocols[q])) ok = true;
        if (!proto)
            api_err_required(e, fp(p, sizeof p, "ports[%d].protocol", i), "");
        else if (!ok)
            api_err_not_supported(e, fp(p, sizeof p, "ports[%d].protocol", i), proto, protocols);
        i++;
    }
    if (old) v_immutable(j_get(o, "addressType"), j_get(old, "addressType"), "addressType", e);
}
