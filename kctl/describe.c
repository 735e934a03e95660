/*
 * describe.c - `kctl describe`: kubectl's describers for pods, nodes,
 * deployments, replicasets and services (the fields in kubectl's order and
 * words, then the object's Events), and a generic one for other kinds.
 * Names select by exact name, else by prefix, as kubectl does; -l selects.
 */
#include <stdlib.h>
#include <string.h>

#include "kctl/describe_int.h"

static const char *or_none(const char *s)
{
    return s && *s ? s : "<none>";
}

static void ports_text(const cJSON *ports, const char *field, char *buf, size_t len)
{
    buf[0] = '\0';
    const cJSON *p;
    cJSON_ArrayForEach(p, ports)
    {
        long long v = kctl_int(p, field, 0);
        size_t l = strlen(buf);
        snprintf(buf + l, len - l, "%s%lld/%s", l ? ", " : "", v, kctl_str(p, "protocol") ?: "TCP");
    }
    if (!*buf) snprintf(buf, len, "<none>");
}

static const cJSON *container_status(const cJSON *pod, const char *list, const char *name)
{
    const cJSON *s;
    cJSON_ArrayForEach(s,
                       kctl_at(pod, list)) if (!strcmp(kctl_str(s, "name") ?: "", name)) return s;
    return NULL;
}

static void state_lines(dw_t *w, const char *title, const cJSON *state)
{
    char t[64];
    if (kctl_at(state, "running")) {
        dw_line(w, 2, "%s:\tRunning\n", title);
        dw_time(kctl_str(state, "running.startedAt"), t, sizeof t);
        dw_line(w, 3, "Started:\t%s\n", t);
    } else if (kctl_at(state, "waiting")) {
        dw_line(w, 2, "%s:\tWaiting\n", title);
        if (kctl_str(state, "waiting.reason"))
            dw_line(w, 3, "Reason:\t%s\n", kctl_str(state, "waiting.reason"));
    } else if (kctl_at(state, "terminated")) {
        dw_line(w, 2, "%s:\tTerminated\n", title);
        if (kctl_str(state, "terminated.reason"))
            dw_line(w, 3, "Reason:\t%s\n", kctl_str(state, "terminated.reason"));
        dw_line(w, 3, "Exit Code:\t%lld\n", kctl_int(state, "terminated.exitCode", 0));
        dw_time(kctl_str(state, "terminated.startedAt"), t, sizeof t);
        dw_line(w, 3, "Started:\t%s\n", t);
        dw_time(kctl_str(state, "terminated.finishedAt"), t, sizeof t);
        dw_line(w, 3, "Finished:\t%s\n", t);
    } else
        dw_line(w, 2, "%s:\tWaiting\n", title);
}

static void resources(dw_t *w, const cJSON *c, const char *which, const char *title)
{
    const cJSON *m = kctl_at(c, which);
    if (!m || !m->child) return;
    dw_line(w, 2, "%s:\n", title);
    const cJSON *r;
    cJSON_ArrayForEach(r, m)
    {
        char num[64];
        const char *v = cJSON_IsString(r) ? r->valuestring
                                          : (snprintf(num, sizeof num, "%g", r->valuedouble), num);
        dw_line(w, 3, "%s:\t%s\n", r->string, v);
    }
}

/* Containers of a pod (status may be NULL: a pod template). */
static void containers(dw_t *w, const char *title, const cJSON *list, const cJSON *pod,
                       const char *status_list, int level)
{
    if (!list || !list->child) return;
    dw_line(w, level, "%s:\n", title);
    const cJSON *c;
    cJSON_ArrayForEach(c, list)
    {
        const char *name = kctl_str(c, "name") ?: "";
        const cJSON *st = pod ? container_status(pod, status_list, name) : NULL;
        /* kubectl indents a template's containers by one more space */
        if (pod)
            dw_line(w, level + 1, "%s:\n", name);
        else
            dw_line(w, level, " %s:\n", name);
        int l2 = level + (pod ? 2 : 1);
        if (st) dw_line(w, l2, "Container ID:\t%s\n", kctl_str(st, "containerID") ?: "");
        dw_line(w, l2, "Image:\t%s\n", kctl_str(c, "image") ?: "");
        if (st) dw_line(w, l2, "Image ID:\t%s\n", kctl_str(st, "imageID") ?: "");
        char ports[512];
        ports_text(kctl_at(c, "ports"), "containerPort", ports, sizeof ports);
        dw_line(w, l2, "%s:\t%s\n", strchr(ports, ',') ? "Ports" : "Port", ports);
        ports_text(kctl_at(c, "ports"), "hostPort", ports, sizeof ports);
        dw_line(w, l2, "%s:\t%s\n", strchr(ports, ',') ? "Host Ports" : "Host Port", ports);
        const char *arrs[] = {"command", "args"};
        const char *titles[] = {"Command", "Args"};
        for (int i = 0; i < 2; i++) {
            const cJSON *a = kctl_at(c, arrs[i]);
            if (!a || !a->child) continue;
            dw_line(w, l2, "%s:\n", titles[i]);
            const cJSON *x;
            cJSON_ArrayForEach(x, a)
                dw_line(w, l2 + 1, "%s\n", cJSON_IsString(x) ? x->valuestring : "");
        }
        if (st) {
            state_lines(w, "State", kctl_at(st, "state"));
            if (kctl_at(st, "lastState") && kctl_at(st, "lastState")->child)
                state_lines(w, "Last State", kctl_at(st, "lastState"));
            dw_line(w, l2, "Ready:\t%s\n", cJSON_IsTrue(kctl_at(st, "ready")) ? "True" : "False");
            dw_line(w, l2, "Restart Count:\t%lld\n", kctl_int(st, "restartCount", 0));
        }
        resources(w, c, "resources.limits", "Limits");
        resources(w, c, "resources.requests", "Requests");
        const cJSON *env = kctl_at(c, "env");
        if (!env || !env->child)
            dw_line(w, l2, "Environment:\t<none>\n");
        else {
            dw_line(w, l2, "Environment:\n");
            const cJSON *e;
            cJSON_ArrayForEach(e, env)
            {
                if (kctl_str(e, "value"))
                    dw_line(w, l2 + 1, "%s:\t%s\n", kctl_str(e, "name") ?: "",
                            kctl_str(e, "value"));
                else
                    dw_line(w, l2 + 1, "%s:\t<set to the key '%s' of %s>\n", kctl_str(e, "name") ?: "",
                            kctl_str(e, "valueFrom.configMapKeyRef.key")
                                ?: kctl_str(e, "valueFrom.secretKeyRef.key") ?: "",
                            kctl_str(e, "valueFrom.configMapKeyRef.name")
                                ?: kctl_str(e, "valueFrom.secretKeyRef.name") ?: "a field");
            }
        }
        const cJSON *mounts = kctl_at(c, "volumeMounts");
        if (!mounts || !mounts->child)
            dw_line(w, l2, "Mounts:\t<none>\n");
        else {
            dw_line(w, l2, "Mounts:\n");
            const cJSON *m;
            cJSON_ArrayForEach(m, mounts) dw_line(
                w, l2 + 1, "%s from %s (%s)\n", kctl_str(m, "mountPath") ?: "",
                kctl_str(m, "name") ?: "", cJSON_IsTrue(kctl_at(m, "readOnly")) ? "ro" : "rw");
        }
    }
}

static void volumes(dw_t *w, const cJSON *vols, int level)
{
    if (!vols || !vols->child) {
        dw_line(w, level, "Volumes:\t<none>\n");
        return;
    }
    dw_line(w, level, "Volumes:\n");
    const cJSON *v;
    cJSON_ArrayForEach(v, vols)
    {
        dw_line(w, level + 1, "%s:\n", kctl_str(v, "name") ?: "");
        if (kctl_at(v, "emptyDir")) {
            dw_line(w, level + 2,
                    "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n");
            dw_line(w, level + 2, "Medium:\t%s\n", kctl_str(v, "emptyDir.medium") ?: "");
        } else if (kctl_at(v, "hostPath")) {
            dw_line(w, level + 2, "Type:\tHostPath (bare host directory volume)\n");
            dw_line(w, level + 2, "Path:\t%s\n", kctl_str(v, "hostPath.path") ?: "");
        } else if (kctl_at(v, "configMap")) {
            dw_line(w, level + 2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n");
            dw_line(w, level + 2, "Name:\t%s\n", kctl_str(v, "configMap.name") ?: "");
        } else if (kctl_at(v, "secret")) {
            dw_line(w, level + 2, "Type:\tSecret (a volume populated by a Secret)\n");
            dw_line(w, level + 2, "SecretName:\t%s\n", kctl_str(v, "secret.secretName") ?: "");
        } else
            dw_line(w, level + 2, "Type:\t%s\n",
                    v->child && v->child->next ? v->child->next->string : "");
    }
}

static void tolerations(dw_t *w, const cJSON *tols)
{
    if (!tols || !tols->child) {
        dw_line(w, 0, "Tolerations:\t<none>\n");
        return;
    }
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tols)
    {
        char buf[512];
        const char *key = kctl_str(t, "key"), *val = kctl_str(t, "value"),
                   *eff = kctl_str(t, "effect");
        snprintf(buf, sizeof buf, "%s%s%s%s%s", key ? key : "", val && *val ? "=" : "",
                 val ? val : "", eff && *eff ? ":" : "", eff ? eff : "");
        size_t l = strlen(buf);
        if (!strcmp(kctl_str(t, "operator") ?: "", "Exists") && !(val && *val))
            snprintf(buf + l, sizeof buf - l, "%sop=Exists", l ? " " : "");
        l = strlen(buf);
        if (kctl_at(t, "tolerationSeconds"))
            snprintf(buf + l, sizeof buf - l, " for %llds", kctl_int(t, "tolerationSeconds", 0));
        dw_line(w, 0, "%s%s\n", i++ ? "\t" : "Tolerations:\t", buf);
    }
}

static void node_selector(dw_t *w, const cJSON *sel)
{
    if (!sel || !sel->child) {
        dw_line(w, 0, "Node-Selectors:\t<none>\n");
        return;
    }
    int i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, sel) dw_line(w, 0, "%s%s=%s\n", i++ ? "\t" : "Node-Selectors:\t",
                                       s->string, cJSON_IsString(s) ? s->valuestring : "");
}

static const char *qos(const cJSON *pod)
{
    const char *q = kctl_str(pod, "status.qosClass");
    return q ? q : "BestEffort";
}

static void describe_pod(dw_t *w, kctl_t *k, const cJSON *p)
{
    char t[64];
    dw_line(w, 0, "Name:\t%s\n", api_meta_name(p) ?: "");
    dw_line(w, 0, "Namespace:\t%s\n", api_meta_namespace(p) ?: "");
    if (kctl_at(p, "spec.priority"))
        dw_line(w, 0, "Priority:\t%lld\n", kctl_int(p, "spec.priority", 0));
    if (kctl_str(p, "spec.priorityClassName"))
        dw_line(w, 0, "Priority Class Name:\t%s\n", kctl_str(p, "spec.priorityClassName"));
    dw_line(w, 0, "Service Account:\t%s\n", kctl_str(p, "spec.serviceAccountName") ?: "");
    const char *node = kctl_str(p, "spec.nodeName"), *hostip = kctl_str(p, "status.hostIP");
    if (node && *node)
        dw_line(w, 0, "Node:\t%s/%s\n", node, hostip ? hostip : "");
    else
        dw_line(w, 0, "Node:\t<none>\n");
    if (kctl_str(p, "status.startTime")) {
        dw_time(kctl_str(p, "status.startTime"), t, sizeof t);
        dw_line(w, 0, "Start Time:\t%s\n", t);
    }
    dw_map(w, 0, "Labels", api_meta_labels(p), NULL);
    dw_annotations(w, 0, api_meta_annotations(p));
    if (api_meta_deletion_timestamp(p)) {
        dw_time(api_meta_deletion_timestamp(p), t, sizeof t);
        dw_line(w, 0, "Status:\tTerminating (lasts <unknown>)\n");
        dw_line(w, 0, "Termination Grace Period:\t%llds\n",
                kctl_int(p, "metadata.deletionGracePeriodSeconds", 0));
    } else
        dw_line(w, 0, "Status:\t%s\n", kctl_str(p, "status.phase") ?: "");
    if (kctl_str(p, "status.reason")) dw_line(w, 0, "Reason:\t%s\n", kctl_str(p, "status.reason"));
    if (kctl_str(p, "status.message"))
        dw_line(w, 0, "Message:\t%s\n", kctl_str(p, "status.message"));
    dw_line(w, 0, "IP:\t%s\n", kctl_str(p, "status.podIP") ?: "");
    const cJSON *ips = kctl_at(p, "status.podIPs");
    if (!ips || !ips->child)
        dw_line(w, 0, "IPs:\t<none>\n");
    else {
        dw_line(w, 0, "IPs:\n");
        const cJSON *ip;
        cJSON_ArrayForEach(ip, ips) dw_line(w, 1, "IP:\t%s\n", kctl_str(ip, "ip") ?: "");
    }
    const cJSON *ctl = api_meta_controller_ref(p);
    if (ctl)
        dw_line(w, 0, "Controlled By:\t%s/%s\n", kctl_str(ctl, "kind") ?: "",
                kctl_str(ctl, "name") ?: "");
    containers(w, "Init Containers", kctl_at(p, "spec.initContainers"), p,
               "status.initContainerStatuses", 0);
    containers(w, "Containers", kctl_at(p, "spec.containers"), p, "status.containerStatuses", 0);
    const cJSON *conds = kctl_at(p, "status.conditions");
    if (conds && conds->child) {
        dw_line(w, 0, "Conditions:\n");
        dw_line(w, 1, "Type\tStatus\n");
        const cJSON *c;
        cJSON_ArrayForEach(c, conds)
            dw_line(w, 1, "%s \t%s \n", kctl_str(c, "type") ?: "", kctl_str(c, "status") ?: "");
    }
    volumes(w, kctl_at(p, "spec.volumes"), 0);
    dw_line(w, 0, "QoS Class:\t%s\n", qos(p));
    node_selector(w, kctl_at(p, "spec.nodeSelector"));
    tolerations(w, kctl_at(p, "spec.tolerations"));
    dw_events(w, k, p);
}

static void pod_template(dw_t *w, const cJSON *tmpl)
{
    dw_line(w, 0, "Pod Template:\n");
    dw_map(w, 1, "Labels", kctl_at(tmpl, "metadata.labels"), NULL);
    const cJSON *ann = kctl_at(tmpl, "metadata.annotations");
    if (ann && ann->child) dw_annotations(w, 1, ann);
    if (kctl_str(tmpl, "spec.serviceAccountName"))
        dw_line(w, 1, "Service Account:\t%s\n", kctl_str(tmpl, "spec.serviceAccountName"));
    containers(w, "Init Containers", kctl_at(tmpl, "spec.initContainers"), NULL, NULL, 1);
    containers(w, "Containers", kctl_at(tmpl, "spec.containers"), NULL, NULL, 1);
    volumes(w, kctl_at(tmpl, "spec.volumes"), 1);
    const cJSON *ns = kctl_at(tmpl, "spec.nodeSelector");
    if (!ns || !ns->child) dw_line(w, 1, "Node-Selectors:\t<none>\n");
    const cJSON *tol = kctl_at(tmpl, "spec.tolerations");
    if (!tol || !tol->child) dw_line(w, 1, "Tolerations:\t<none>\n");
}

static char *selector_text(const cJSON *sel)
{
    char err[128];
    api_selector_t *s = NULL;
    if (cJSON_GetObjectItemCaseSensitive(sel, "matchLabels") ||
        cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions"))
        s = api_selector_from_json(sel, err, sizeof err);
    else if (sel)
        s = api_selector_from_map(sel);
    char *str = s ? api_selector_string(s) : NULL;
    api_selector_free(s);
    return str;
}

static void conditions_table(dw_t *w, const cJSON *conds)
{
    if (!conds || !conds->child) return;
    dw_line(w, 0, "Conditions:\n");
    dw_line(w, 1, "Type\tStatus\tReason\n");
    dw_line(w, 1, "----\t------\t------\n");
    const cJSON *c;
    cJSON_ArrayForEach(c, conds) dw_line(w, 1, "%s \t%s\t%s\n", kctl_str(c, "type") ?: "",
                                         kctl_str(c, "status") ?: "", kctl_str(c, "reason") ?: "");
}

/* ReplicaSets controlled by the Deployment: "name (a/b replicas created)". */
static void deployment_rs(dw_t *w, kctl_t *k, const cJSON *d)
{
    const api_resource_t *rs = api_resource_by_kind("apps", "ReplicaSet");
    char *path = kctl_path(rs, api_meta_namespace(d), NULL, NULL, NULL);
    api_result_t res;
    kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
    free(path);
    char old[1024] = "", cur[512] = "";
    long best = -1;
    const cJSON *r;
    const cJSON *rsitems = api_result_ok(&res) ? kctl_at(res.obj, "items") : NULL;
    cJSON_ArrayForEach(r, rsitems)
    {
        const cJSON *ref = api_meta_controller_ref(r);
        if (!ref || strcmp(kctl_str(ref, "uid") ?: "", api_meta_uid(d) ?: "")) continue;
        long rev = atol(api_meta_annotation(r, "deployment.kubernetes.io/revision") ?: "0");
        char one[300];
        snprintf(one, sizeof one, "%s (%lld/%lld replicas created)", api_meta_name(r),
                 kctl_int(r, "status.replicas", 0), kctl_int(r, "spec.replicas", 0));
        if (rev > best) {
            if (*cur)
                snprintf(old + strlen(old), sizeof old - strlen(old), "%s%s", *old ? ", " : "",
                         cur);
            snprintf(cur, sizeof cur, "%s", one);
            best = rev;
        } else if (kctl_int(r, "spec.replicas", 0) > 0)
            snprintf(old + strlen(old), sizeof old - strlen(old), "%s%s", *old ? ", " : "", one);
    }
    api_result_free(&res);
    if (!*old && !*cur) return;
    dw_line(w, 0, "OldReplicaSets:\t%s\n", or_none(old));
    dw_line(w, 0, "NewReplicaSet:\t%s\n", or_none(cur));
}

static void describe_deployment(dw_t *w, kctl_t *k, const cJSON *d)
{
    char t[64];
    dw_line(w, 0, "Name:\t%s\n", api_meta_name(d) ?: "");
    dw_line(w, 0, "Namespace:\t%s\n", api_meta_namespace(d) ?: "");
    dw_time(api_meta_creation_timestamp(d), t, sizeof t);
    dw_line(w, 0, "CreationTimestamp:\t%s\n", t);
    dw_map(w, 0, "Labels", api_meta_labels(d), NULL);
    dw_annotations(w, 0, api_meta_annotations(d));
    char *sel = selector_text(kctl_at(d, "spec.selector"));
    dw_line(w, 0, "Selector:\t%s\n", sel ? sel : "");
    free(sel);
    long long want = kctl_int(d, "spec.replicas", 1);
    dw_line(
        w, 0,
        "Replicas:\t%lld desired | %lld updated | %lld total | %lld available | %lld unavailable\n",
        want, kctl_int(d, "status.updatedReplicas", 0), kctl_int(d, "status.replicas", 0),
        kctl_int(d, "status.availableReplicas", 0), kctl_int(d, "status.unavailableReplicas", 0));
    const char *type = kctl_str(d, "spec.strategy.type") ?: "RollingUpdate";
    dw_line(w, 0, "StrategyType:\t%s\n", type);
    dw_line(w, 0, "MinReadySeconds:\t%lld\n", kctl_int(d, "spec.minReadySeconds", 0));
    if (!strcmp(type, "RollingUpdate")) {
        char mu[32], ms[32];
        const cJSON *u = kctl_at(d, "spec.strategy.rollingUpdate.maxUnavailable");
        const cJSON *s = kctl_at(d, "spec.strategy.rollingUpdate.maxSurge");
        if (cJSON_IsString(u))
            snprintf(mu, sizeof mu, "%s", u->valuestring);
        else
            snprintf(mu, sizeof mu, "%lld", u ? (long long)u->valuedouble : 25);
        if (!u) snprintf(mu, sizeof mu, "25%%");
        if (cJSON_IsString(s))
            snprintf(ms, sizeof ms, "%s", s->valuestring);
        else
            snprintf(ms, sizeof ms, "%lld", s ? (long long)s->valuedouble : 25);
        if (!s) snprintf(ms, sizeof ms, "25%%");
        dw_line(w, 0, "RollingUpdateStrategy:\t%s max unavailable, %s max surge\n", mu, ms);
    }
    pod_template(w, kctl_at(d, "spec.template"));
    conditions_table(w, kctl_at(d, "status.conditions"));
    deployment_rs(w, k, d);
    dw_events(w, k, d);
}

static void describe_replicaset(dw_t *w, kctl_t *k, const cJSON *r)
{
    dw_line(w, 0, "Name:\t%s\n", api_meta_name(r) ?: "");
    dw_line(w, 0, "Namespace:\t%s\n", api_meta_namespace(r) ?: "");
    char *sel = selector_text(kctl_at(r, "spec.selector"));
    dw_line(w, 0, "Selector:\t%s\n", sel ? sel : "");
    dw_map(w, 0, "Labels", api_meta_labels(r), NULL);
    dw_annotations(w, 0, api_meta_annotations(r));
    const cJSON *ctl = api_meta_controller_ref(r);
    if (ctl)
        dw_line(w, 0, "Controlled By:\t%s/%s\n", kctl_str(ctl, "kind") ?: "",
                kctl_str(ctl, "name") ?: "");
    dw_line(w, 0, "Replicas:\t%lld current / %lld desired\n", kctl_int(r, "status.replicas", 0),
            kctl_int(r, "spec.replicas", 1));
    /* pod phases of the pods the selector picks */
    long running = 0, waiting = 0, succeeded = 0, failed = 0;
    if (sel) {
        char *e = kctl_urlenc(sel), q[1024];
        snprintf(q, sizeof q, "?labelSelector=%s", e ? e : "");
        free(e);
        char *path =
            kctl_path(api_resource_by_kind("", "Pod"), api_meta_namespace(r), NULL, NULL, q);
        api_result_t res;
        kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
        free(path);
        const cJSON *p;
        const cJSON *podItems = api_result_ok(&res) ? kctl_at(res.obj, "items") : NULL;
        cJSON_ArrayForEach(p, podItems)
        {
            const cJSON *ref = api_meta_controller_ref(p);
            if (ref && strcmp(kctl_str(ref, "uid") ?: "", api_meta_uid(r) ?: "")) continue;
            const char *ph = kctl_str(p, "status.phase") ?: "";
            if (!strcmp(ph, "Running"))
                running++;
            else if (!strcmp(ph, "Pending"))
                waiting++;
            else if (!strcmp(ph, "Succeeded"))
                succeeded++;
            else if (!strcmp(ph, "Failed"))
                failed++;
        }
        api_result_free(&res);
    }
    free(sel);
    dw_line(w, 0, "Pods Status:\t%ld Running / %ld Waiting / %ld Succeeded / %ld Failed\n", running,
            waiting, succeeded, failed);
    pod_template(w, kctl_at(r, "spec.template"));
    conditions_table(w, kctl_at(r, "status.conditions"));
    dw_events(w, k, r);
}

static void describe_service(dw_t *w, kctl_t *k, const cJSON *s)
{
    dw_line(w, 0, "Name:\t%s\n", api_meta_name(s) ?: "");
    dw_line(w, 0, "Namespace:\t%s\n", api_meta_namespace(s) ?: "");
    dw_map(w, 0, "Labels", api_meta_labels(s), NULL);
    dw_annotations(w, 0, api_meta_annotations(s));
    char *sel = selector_text(kctl_at(s, "spec.selector"));
    dw_line(w, 0, "Selector:\t%s\n", or_none(sel));
    free(sel);
    dw_line(w, 0, "Type:\t%s\n", kctl_str(s, "spec.type") ?: "ClusterIP");
    if (kctl_str(s, "spec.ipFamilyPolicy"))
        dw_line(w, 0, "IP Family Policy:\t%s\n", kctl_str(s, "spec.ipFamilyPolicy"));
    const cJSON *fam = kctl_at(s, "spec.ipFamilies");
    if (fam && fam->child) {
        char b[128] = "";
        const cJSON *f;
        cJSON_ArrayForEach(f, fam)
            snprintf(b + strlen(b), sizeof b - strlen(b), "%s%s", *b ? "," : "", f->valuestring);
        dw_line(w, 0, "IP Families:\t%s\n", b);
    }
    dw_line(w, 0, "IP:\t%s\n", kctl_str(s, "spec.clusterIP") ?: "");
    const cJSON *ips = kctl_at(s, "spec.clusterIPs");
    if (ips && ips->child) {
        char b[256] = "";
        const cJSON *f;
        cJSON_ArrayForEach(f, ips)
            snprintf(b + strlen(b), sizeof b - strlen(b), "%s%s", *b ? "," : "", f->valuestring);
        dw_line(w, 0, "IPs:\t%s\n", b);
    }
    /* kubectl reads the addresses from the service's EndpointSlices */
    const api_resource_t *esr = api_resource_by_kind("discovery.k8s.io", "EndpointSlice");
    api_result_t res = {0};
    const cJSON *slices = NULL;
    if (esr) {
        char q[512];
        char *e = kctl_urlenc(api_meta_name(s) ?: "");
        snprintf(q, sizeof q, "?labelSelector=kubernetes.io%%2Fservice-name%%3D%s", e ? e : "");
        free(e);
        char *path = kctl_path(esr, api_meta_namespace(s), NULL, NULL, q);
        kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
        free(path);
        if (api_result_ok(&res)) slices = kctl_at(res.obj, "items");
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, kctl_at(s, "spec.ports"))
    {
        const char *pn = kctl_str(p, "name");
        const char *proto = kctl_str(p, "protocol") ?: "TCP";
        dw_line(w, 0, "Port:\t%s\t%lld/%s\n", pn && *pn ? pn : "<unset>", kctl_int(p, "port", 0),
                proto);
        const cJSON *tp = kctl_at(p, "targetPort");
        if (cJSON_IsString(tp))
            dw_line(w, 0, "TargetPort:\t%s/%s\n", tp->valuestring, proto);
        else
            dw_line(w, 0, "TargetPort:\t%lld/%s\n",
                    tp ? (long long)tp->valuedouble : kctl_int(p, "port", 0), proto);
        if (kctl_at(p, "nodePort"))
            dw_line(w, 0, "NodePort:\t%s\t%lld/%s\n", pn && *pn ? pn : "<unset>",
                    kctl_int(p, "nodePort", 0), proto);
        char eps[1024] = "";
        const cJSON *sl;
        cJSON_ArrayForEach(sl, slices)
        {
            const cJSON *port = NULL, *x, *ep, *ad;
            cJSON_ArrayForEach(x, kctl_at(sl, "ports")) if (!strcmp(kctl_str(x, "name") ?: "",
                                                                    pn ? pn : "")) port = x;
            if (!port) continue;
            cJSON_ArrayForEach(ep, kctl_at(sl, "endpoints"))
            {
                if (cJSON_IsFalse(kctl_at(ep, "conditions.ready"))) continue;
                cJSON_ArrayForEach(ad, kctl_at(ep, "addresses")) snprintf(
                    eps + strlen(eps), sizeof eps - strlen(eps), "%s%s:%lld", *eps ? "," : "",
                    cJSON_IsString(ad) ? ad->valuestring : "", kctl_int(port, "port", 0));
            }
        }
        /* kubectl: <none> without any slice, else the (maybe empty) list */
        dw_line(w, 0, "Endpoints:\t%s\n", cJSON_GetArraySize(slices) ? eps : "<none>");
    }
    api_result_free(&res);
    dw_line(w, 0, "Session Affinity:\t%s\n", kctl_str(s, "spec.sessionAffinity") ?: "None");
    if (kctl_str(s, "spec.externalTrafficPolicy"))
        dw_line(w, 0, "External Traffic Policy:\t%s\n", kctl_str(s, "spec.externalTrafficPolicy"));
    if (kctl_str(s, "spec.internalTrafficPolicy"))
        dw_line(w, 0, "Internal Traffic Policy:\t%s\n", kctl_str(s, "spec.internalTrafficPolicy"));
    dw_events(w, k, s);
}

static void describe_namespace(dw_t *w, const cJSON *o)
{
    dw_line(w, 0, "Name:\t%s\n", api_meta_name(o) ?: "");
    dw_map(w, 0, "Labels", api_meta_labels(o), NULL);
    dw_annotations(w, 0, api_meta_annotations(o));
    dw_line(w, 0, "Status:\t%s\n", kctl_str(o, "status.phase") ?: "");
}

static void describe_generic(dw_t *w, kctl_t *k, const cJSON *o)
{
    dw_line(w, 0, "Name:\t%s\n", api_meta_name(o) ?: "");
    if (api_meta_namespace(o)) dw_line(w, 0, "Namespace:\t%s\n", api_meta_namespace(o));
    dw_map(w, 0, "Labels", api_meta_labels(o), NULL);
    dw_annotations(w, 0, api_meta_annotations(o));
    dw_line(w, 0, "API Version:\t%s\n", kctl_str(o, "apiVersion") ?: "");
    dw_line(w, 0, "Kind:\t%s\n", kctl_str(o, "kind") ?: "");
    const cJSON *c;
    cJSON_ArrayForEach(c, o)
    {
        if (!strcmp(c->string, "apiVersion") || !strcmp(c->string, "kind") ||
            !strcmp(c->string, "metadata"))
            continue;
        char *y = kctl_yaml_emit(c);
        if (!y) continue;
        char title[128];
        snprintf(title, sizeof title, "%c%s",
                 c->string[0] >= 'a' && c->string[0] <= 'z' ? c->string[0] - 32 : c->string[0],
                 c->string + 1);
        if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            dw_line(w, 0, "%s:\n", title);
            for (char *line = strtok(y, "\n"); line; line = strtok(NULL, "\n"))
                dw_line(w, 1, "%s\n", line);
        } else
            dw_line(w, 0, "%s:\t%s", title, y);
        free(y);
    }
    dw_events(w, k, o);
}

static void describe_one(kctl_t *k, const api_resource_t *r, const cJSON *o)
{
    dw_t w;
    dw_init(&w);
    if (!strcmp(r->kind, "Pod"))
        describe_pod(&w, k, o);
    else if (!strcmp(r->kind, "Node"))
        kctl_describe_node(&w, k, o);
    else if (!strcmp(r->kind, "Deployment"))
        describe_deployment(&w, k, o);
    else if (!strcmp(r->kind, "ReplicaSet"))
        describe_replicaset(&w, k, o);
    else if (!strcmp(r->kind, "Service"))
        describe_service(&w, k, o);
    else if (!strcmp(r->kind, "Namespace"))
        describe_namespace(&w, o);
    else
        describe_generic(&w, k, o);
    dw_flush(&w, stdout);
}

int kctl_cmd_describe(kctl_t *k, int argc, char **argv)
{
    const char *selector = NULL;
    bool all_ns = false;
    const kopt_t opts[] = {
        {'l', "selector", KOPT_STR, &selector},
        {'A', "all-namespaces", KOPT_BOOL, &all_ns},
        {0, "show-events", KOPT_STR, &(const char *){NULL}},
        {0, NULL, 0, NULL},
    };
    int npos = kctl_opts(opts, argc, argv, NULL);
    if (npos < 0) return 1;
    if (npos == 0) {
        fprintf(
            stderr,
            "You must specify the type of resource to describe. Use \"kctl api-resources\" for a "
            "complete list of supported resources.\n\nerror: Required resource not specified.\n");
        return 1;
    }
    kctl_targets_t t;
    if (kctl_targets(npos, argv, &t) != 0) return 1;
    if (kctl_connect(k) != 0) {
        kctl_targets_free(&t);
        return 1;
    }
    int rc = 0;
    bool first = true;
    for (size_t i = 0; i < t.n; i++) {
        const api_resource_t *r = t.v[i].res;
        const char *name = t.v[i].name;
        if (name) {
            char *path = kctl_path(r, k->ns, name, NULL, NULL);
            api_result_t res;
            kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
            free(path);
            if (api_result_ok(&res) && res.obj) {
                if (!first) printf("\n\n");
                first = false;
                if (!kctl_str(res.obj, "kind")) cJSON_AddStringToObject(res.obj, "kind", r->kind);
                describe_one(k, r, res.obj);
                api_result_free(&res);
                continue;
            }
            if (res.status != 404) {
                kctl_print_error(&res);
                api_result_free(&res);
                rc = 1;
                continue;
            }
            api_result_free(&res);
        }
        /* a list: everything (-l) or the objects whose names start with name */
        char q[1024] = "";
        if (selector) {
            char *e = kctl_urlenc(selector);
            snprintf(q, sizeof q, "?labelSelector=%s", e ? e : "");
            free(e);
        }
        char *path = kctl_path(r, all_ns ? NULL : k->ns, NULL, NULL, q);
        api_result_t res;
        kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
        free(path);
        if (!api_result_ok(&res)) {
            kctl_print_error(&res);
            api_result_free(&res);
            rc = 1;
            continue;
        }
        int shown = 0;
        cJSON *it;
        cJSON_ArrayForEach(it, kctl_at(res.obj, "items"))
        {
            if (name && strncmp(api_meta_name(it) ?: "", name, strlen(name)) != 0) continue;
            if (!first) printf("\n\n");
            first = false;
            shown++;
            if (!kctl_str(it, "kind")) cJSON_AddStringToObject(it, "kind", r->kind);
            if (!kctl_str(it, "apiVersion"))
                cJSON_AddStringToObject(it, "apiVersion", r->group_version);
            describe_one(k, r, it);
        }
        api_result_free(&res);
        if (!shown) {
            char qr[128];
            kctl_qualified_resource(r, qr, sizeof qr);
            if (name)
                fprintf(stderr, "Error from server (NotFound): %s \"%s\" not found\n", qr, name),
                    rc = 1;
            else if (r->namespaced && !all_ns)
                fprintf(stderr, "No resources found in %s namespace.\n", k->ns);
            else
                fprintf(stderr, "No resources found\n");
        }
    }
    kctl_targets_free(&t);
    return rc;
}
