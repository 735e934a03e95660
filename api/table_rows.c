/*
 * table_rows.c - the cells of each resource's Table row, computed as
 * Kubernetes' printers compute them: a pod's STATUS from its container
 * states (Init:1/2, CrashLoopBackOff, Completed, Terminating ...), a node's
 * STATUS with SchedulingDisabled when cordoned, ROLES from
 * node-role.kubernetes.io/ROLE labels, PORT(S) as 80:30080/TCP, and so on.
 */
#include "api/model_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *age_of(const cJSON *o, uint64_t now, char *buf, size_t len)
{
    return tbl_since(api_meta_creation_timestamp(o), now, buf, len);
}

/* ---------------------------------------------------------------------- pod */

static bool has_condition(const cJSON *conds, const char *type, const char *status)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, conds) if (!strcmp(j_str0(c, "type"), type) &&
                                     !strcmp(j_str0(c, "status"), status)) return true;
    return false;
}

static const cJSON *find_named(const cJSON *list, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, list) if (!strcmp(j_str0(c, "name"), name)) return c;
    return NULL;
}

static bool restartable_init(const cJSON *ctr)
{
    return ctr && !strcmp(j_str0(ctr, "restartPolicy"), "Always");
}

/* Latest lastState.terminated.finishedAt of a container status into *t. */
static void note_restart(const cJSON *cs, int64_t *t)
{
    int64_t f;
    if (parse_time_ms(j_str(j_path(cs, "lastState.terminated"), "finishedAt"), &f) == 0 && f > *t)
        *t = f;
}

static void add_completed_condition(tbl_row_t *r, const char *reason, const char *message)
{
    cJSON *conds = cJSON_AddArrayToObject(r->row, "conditions");
    cJSON *c = conds ? cJSON_CreateObject() : NULL;
    if (!c || !cJSON_AddItemToArray(conds, c) || !cJSON_AddStringToObject(c, "type", "Completed") ||
        !cJSON_AddStringToObject(c, "status", "True") ||
        !cJSON_AddStringToObject(c, "reason", reason) ||
        !cJSON_AddStringToObject(c, "message", message))
        r->oom = true;
}

void tbl_pod_row(tbl_row_t *r, const cJSON *o, uint64_t now)
{
    const cJSON *spec = j_get(o, "spec"), *st = j_get(o, "status");
    const cJSON *inits = j_get(spec, "initContainers");
    int total = j_len(spec, "containers"), ready = 0, n_inits = j_len(spec, "initContainers");
    long long restarts = 0, sidecar_restarts = 0;
    int64_t last = 0, sidecar_last = 0;
    const char *phase = j_str0(st, "phase");
    char reason[160];
    snprintf(reason, sizeof reason, "%s", *j_str0(st, "reason") ? j_str0(st, "reason") : phase);
    const cJSON *conds = j_get(st, "conditions");
    const cJSON *c;
    cJSON_ArrayForEach(c, conds) if (!strcmp(j_str0(c, "type"), "PodScheduled") &&
                                     !strcmp(j_str0(c, "reason"), "SchedulingGated"))
        snprintf(reason, sizeof reason, "SchedulingGated");
    if (!strcmp(phase, "Succeeded"))
        add_completed_condition(r, "Succeeded", "The pod has completed successfully.");
    else if (!strcmp(phase, "Failed"))
        add_completed_condition(r, "Failed", "The pod failed.");
    cJSON_ArrayForEach(c, inits) if (restartable_init(c)) total++;

    bool initializing = false;
    int i = 0;
    const cJSON *cs;
    cJSON_ArrayForEach(cs, j_get(st, "initContainerStatuses"))
    {
        restarts += j_int(cs, "restartCount", 0);
        note_restart(cs, &last);
        bool sidecar = restartable_init(find_named(inits, j_str0(cs, "name")));
        if (sidecar) {
            sidecar_restarts += j_int(cs, "restartCount", 0);
            note_restart(cs, &sidecar_last);
        }
        const cJSON *term = j_path(cs, "state.terminated"), *wait = j_path(cs, "state.waiting");
        if (term && j_int(term, "exitCode", 0) == 0) {
            i++;
            continue;
        }
        if (sidecar && j_true(cs, "started")) {
            if (j_true(cs, "ready")) ready++;
            i++;
            continue;
        }
        if (term) {
            const char *tr = j_str0(term, "reason");
            if (*tr)
                snprintf(reason, sizeof reason, "Init:%s", tr);
            else if (j_int(term, "signal", 0) != 0)
                snprintf(reason, sizeof reason, "Init:Signal:%lld", j_int(term, "signal", 0));
            else
                snprintf(reason, sizeof reason, "Init:ExitCode:%lld", j_int(term, "exitCode", 0));
        } else if (wait && *j_str0(wait, "reason") &&
                   strcmp(j_str0(wait, "reason"), "PodInitializing")) {
            snprintf(reason, sizeof reason, "Init:%s", j_str0(wait, "reason"));
        } else {
            snprintf(reason, sizeof reason, "Init:%d/%d", i, n_inits);
        }
        initializing = true;
        break;
    }
    if (!initializing || has_condition(conds, "Initialized", "True")) {
        restarts = sidecar_restarts;
        last = sidecar_last;
        bool has_running = false;
        const cJSON *statuses = j_get(st, "containerStatuses");
        for (int k = j_len(st, "containerStatuses") - 1; k >= 0; k--) {
            cs = cJSON_GetArrayItem(statuses, k);
            restarts += j_int(cs, "restartCount", 0);
            note_restart(cs, &last);
            const cJSON *term = j_path(cs, "state.terminated"), *wait = j_path(cs, "state.waiting");
            if (wait && *j_str0(wait, "reason"))
                snprintf(reason, sizeof reason, "%s", j_str0(wait, "reason"));
            else if (term && *j_str0(term, "reason"))
                snprintf(reason, sizeof reason, "%s", j_str0(term, "reason"));
            else if (term && j_int(term, "signal", 0) != 0)
                snprintf(reason, sizeof reason, "Signal:%lld", j_int(term, "signal", 0));
            else if (term)
                snprintf(reason, sizeof reason, "ExitCode:%lld", j_int(term, "exitCode", 0));
            else if (j_true(cs, "ready") && j_get(j_get(cs, "state"), "running")) {
                has_running = true;
                ready++;
            }
        }
        if (!strcmp(reason, "Completed") && has_running)
            snprintf(reason, sizeof reason, "%s",
                     has_condition(conds, "Ready", "True") ? "Running" : "NotReady");
    }
    bool deleting = api_meta_deletion_timestamp(o) != NULL;
    if (deleting && !strcmp(j_str0(st, "reason"), "NodeLost"))
        snprintf(reason, sizeof reason, "Unknown");
    else if (deleting && strcmp(phase, "Succeeded") && strcmp(phase, "Failed"))
        snprintf(reason, sizeof reason, "Terminating");

    char buf[64], age[32];
    tbl_str(r, api_meta_name(o));
    snprintf(buf, sizeof buf, "%d/%d", ready, total);
    tbl_str(r, buf);
    tbl_str(r, reason);
    if (restarts != 0 && last != 0) {
        char since[32];
        snprintf(buf, sizeof buf, "%lld (%s ago)", restarts,
                 api_human_duration((int64_t)now - last, since, sizeof since));
    } else {
        snprintf(buf, sizeof buf, "%lld", restarts);
    }
    tbl_str(r, buf);
    tbl_str(r, age_of(o, now, age, sizeof age));

    const char *ip = j_str0(cJSON_GetArrayItem(j_get(st, "podIPs"), 0), "ip");
    if (!*ip) ip = j_str0(st, "podIP");
    const char *node = j_str0(spec, "nodeName"), *nominated = j_str0(st, "nominatedNodeName");
    tbl_str(r, *ip ? ip : "<none>");
    tbl_str(r, *node ? node : "<none>");
    tbl_str(r, *nominated ? nominated : "<none>");
    int gates = j_len(spec, "readinessGates");
    if (gates == 0) {
        tbl_str(r, "<none>");
    } else {
        int true_gates = 0;
        const cJSON *g;
        cJSON_ArrayForEach(g, j_get(spec, "readinessGates"))
        {
            cJSON_ArrayForEach(c, conds)
            {
                if (strcmp(j_str0(c, "type"), j_str0(g, "conditionType"))) continue;
                if (!strcmp(j_str0(c, "status"), "True")) true_gates++;
                break;
            }
        }
        snprintf(buf, sizeof buf, "%d/%d", true_gates, gates);
        tbl_str(r, buf);
    }
}

/* --------------------------------------------------------------------- node */

static const char *node_address(const cJSON *o, const char *type)
{
    const cJSON *a;
    cJSON_ArrayForEach(
        a, j_path(o, "status.addresses")) if (!strcmp(j_str0(a, "type"),
                                                      type)) return j_str0(a, "address");
    return "<none>";
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void tbl_node_row(tbl_row_t *r, const cJSON *o, uint64_t now)
{
    sbuf_t b = {0};
    char age[32];
    const cJSON *c;
    bool any = false;
    cJSON_ArrayForEach(c, j_path(o, "status.conditions"))
    {
        if (strcmp(j_str0(c, "type"), "Ready")) continue;
        sb_puts(&b, !strcmp(j_str0(c, "status"), "True") ? "Ready" : "NotReady");
        any = true;
        break;
    }
    if (!any) sb_puts(&b, "Unknown");
    if (j_true(j_get(o, "spec"), "unschedulable")) sb_puts(&b, ",SchedulingDisabled");
    tbl_str(r, api_meta_name(o));
    tbl_sb(r, &b);

    /* Roles: node-role.kubernetes.io/<role> keys and kubernetes.io/role values. */
    const cJSON *labels = api_meta_labels(o);
    int n = 0, cap = cJSON_GetArraySize(labels);
    const char **roles = cap ? malloc(sizeof *roles * (size_t)cap) : NULL;
    const cJSON *l;
    cJSON_ArrayForEach(l, (roles ? labels : NULL))
    {
        const char *role = NULL;
        if (!strncmp(l->string, "node-role.kubernetes.io/", 24) && l->string[24])
            role = l->string + 24;
        else if (!strcmp(l->string, "kubernetes.io/role") && cJSON_IsString(l) && *l->valuestring)
            role = l->valuestring;
        if (role) roles[n++] = role;
    }
    if (cap && !roles) r->oom = true;
    if (n > 1) qsort(roles, (size_t)n, sizeof *roles, cmp_cstr);
    for (int i = 0; i < n; i++) {
        if (i && !strcmp(roles[i], roles[i - 1])) continue;
        if (b.n) sb_putc(&b, ',');
        sb_puts(&b, roles[i]);
    }
    free(roles);
    if (!b.n) sb_puts(&b, "<none>");
    tbl_sb(r, &b);
    tbl_str(r, age_of(o, now, age, sizeof age));
    const cJSON *info = j_path(o, "status.nodeInfo");
    tbl_str(r, j_str0(info, "kubeletVersion"));
    tbl_str(r, node_address(o, "InternalIP"));
    tbl_str(r, node_address(o, "ExternalIP"));
    static const char *const keys[] = {"osImage", "kernelVersion", "containerRuntimeVersion", NULL};
    for (int i = 0; keys[i]; i++) {
        const char *v = j_str0(info, keys[i]);
        tbl_str(r, *v ? v : "<unknown>");
    }
}

/* ------------------------------------------------------------------ service */

static void join_strings(sbuf_t *b, const cJSON *arr)
{
    const cJSON *it;
    int i = 0;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it)) continue;
        if (i++) sb_putc(b, ',');
        sb_puts(b, it->valuestring);
    }
}

static void service_external_ip(sbuf_t *b, const cJSON *o)
{
    const cJSON *spec = j_get(o, "spec");
    const char *type = j_str0(spec, "type");
    const cJSON *ext = j_get(spec, "externalIPs");
    if (!strcmp(type, "ClusterIP") || !strcmp(type, "NodePort")) {
        if (j_len(spec, "externalIPs") > 0)
            join_strings(b, ext);
        else
            sb_puts(b, "<none>");
    } else if (!strcmp(type, "LoadBalancer")) {
        const cJSON *ing;
        cJSON_ArrayForEach(ing, j_path(o, "status.loadBalancer.ingress"))
        {
            const char *v = *j_str0(ing, "ip") ? j_str0(ing, "ip") : j_str0(ing, "hostname");
            if (!*v) continue;
            if (b->n) sb_putc(b, ',');
            sb_puts(b, v);
        }
        if (j_len(spec, "externalIPs") > 0) {
            if (b->n) sb_putc(b, ',');
            join_strings(b, ext);
        }
        if (!b->n) sb_puts(b, "<pending>");
    } else if (!strcmp(type, "ExternalName")) {
        sb_puts(b, j_str0(spec, "externalName"));
    } else {
        sb_puts(b, "<unknown>");
    }
}

void tbl_service_row(tbl_row_t *r, const cJSON *o, uint64_t now)
{
    const cJSON *spec = j_get(o, "spec");
    sbuf_t b = {0};
    char age[32];
    tbl_str(r, api_meta_name(o));
    tbl_str(r, j_str0(spec, "type"));
    const cJSON *first = cJSON_GetArrayItem(j_get(spec, "clusterIPs"), 0);
    const char *cip = cJSON_IsString(first) ? first->valuestring : j_str0(spec, "clusterIP");
    tbl_str(r, *cip ? cip : "<none>");
    service_external_ip(&b, o);
    tbl_sb(r, &b);
    const cJSON *p;
    int i = 0;
    cJSON_ArrayForEach(p, j_get(spec, "ports"))
    {
        if (i++) sb_putc(&b, ',');
        long long np = j_int(p, "nodePort", 0);
        if (np > 0)
            sb_printf(&b, "%lld:%lld/%s", j_int(p, "port", 0), np, j_str0(p, "protocol"));
        else
            sb_printf(&b, "%lld/%s", j_int(p, "port", 0), j_str0(p, "protocol"));
    }
    if (!b.n) sb_puts(&b, "<none>");
    tbl_sb(r, &b);
    tbl_str(r, age_of(o, now, age, sizeof age));
    labels_string(&b, j_get(spec, "selector"));
    tbl_sb(r, &b);
}

/* ---------------------------------------------------------------- endpoints */

static void host_port(sbuf_t *b, const char *ip, long long port)
{
    if (strchr(ip, ':'))
        sb_printf(b, "[%s]:%lld", ip, port);
    else
        sb_printf(b, "%s:%lld", ip, port);
}

void tbl_endpoints_row(tbl_row_t *r, const cJSON *o, uint64_t now)
{
    sbuf_t b = {0};
    char age[32];
    const int max = 3;
    int listed = 0, count = 0;
    bool more = false;
    const cJSON *ss;
    cJSON_ArrayForEach(ss, j_get(o, "subsets"))
    {
        const cJSON *addrs = j_get(ss, "addresses"), *a, *p;
        if (j_len(ss, "ports") == 0) {
            count += j_len(ss, "addresses");
            cJSON_ArrayForEach(a, addrs)
            {
                if (listed == max) {
                    more = true;
                    break;
                }
                if (listed++) sb_putc(&b, ',');
                sb_puts(&b, j_str0(a, "ip"));
            }
            continue;
        }
        cJSON_ArrayForEach(p, j_get(ss, "ports"))
        {
            count += j_len(ss, "addresses");
            cJSON_ArrayForEach(a, addrs)
            {
                if (listed == max) {
                    more = true;
                    break;
                }
                if (listed++) sb_putc(&b, ',');
                host_port(&b, j_str0(a, "ip"), j_int(p, "port", 0));
            }
        }
    }
    if (j_len(o, "subsets") == 0)
        sb_puts(&b, "<none>");
    else if (more)
        sb_printf(&b, " + %d more...", count - max);
    tbl_str(r, api_meta_name(o));
    tbl_sb(r, &b);
    tbl_str(r, age_of(o, now, age, sizeof age));
}

/* ------------------------------------------------------- workload resources */

/* CONTAINERS and IMAGES of a pod template. */
static void containers_images(tbl_row_t *r, const cJSON *o)
{
    sbuf_t names = {0}, images = {0};
    const cJSON *c;
    int i = 0;
    cJSON_ArrayForEach(c, j_path(o, "spec.template.spec.containers"))
    {
        if (i++) {
            sb_putc(&names, ',');
            sb_putc(&images, ',');
        }
        sb_puts(&names, j_str0(c, "name"));
        sb_puts(&images, j_str0(c, "image"));
    }
    tbl_sb(r, &names);
    tbl_sb(r, &images);
}

static void selector_cell(tbl_row_t *r, const cJSON *sel)
{
    char err[128];
    api_selector_t *s = api_selector_from_json(sel, err, sizeof err);
    char *str = s ? api_selector_string(s) : NULL;
    tbl_str(r, str ? str : "");
    free(str);
    api_selector_free(s);
}

void tbl_deployment_row(tbl_row_t *r, const cJSON *o, uint64_t now)
{
    const cJSON *spec = j_get(o, "spec"), *st = j_get(o, "status");
    char buf[64], age[32];
    tbl_str(r, api_meta_name(o));
    snprintf(buf, sizeof buf, "%lld/%lld", j_int(st, "readyReplicas", 0),
             j_int(spec, "replicas", 0));
    tbl_str(r, buf);
    tbl_int(r, j_int(st, "updatedReplicas", 0));
    tbl_int(r, j_int(st, "availableReplicas", 0));
    tbl_str(r, age_of(o, now, age, sizeof age));
    containers_images(r, o);
    selector_cell(r, j_get(spec, "selector"));
}

static void replicas_cells(tbl_row_t *r, const cJSON *o, uint64_t now)
{
    const cJSON *spec = j_get(o, "spec"), *st = j_get(o, "status");
    char age[32];
    tbl_str(r, api_meta_name(o));
    tbl_int(r, j_int(spec, "replicas", 0));
    tbl_int(r, j_int(st, "replicas", 0));
    tbl_int(r, j_int(st, "readyReplicas", 0));
    tbl_str(r, age_of(o, now, age, sizeof age));
    containers_images(r, o);
}

void tbl_replicaset_row(tbl_row_t *r, const cJSON *o, uint64_t now)
{
    replicas_cells(r, o, now);
    selector_cell(r, j_path(o, "spec.selector"));
}

void tbl_rc_row(tbl_row_t *r, const cJSON *o, uint64_t now)
{
    sbuf_t b = {0};
    replicas_cells(r, o, now);
    labels_string(&b, j_path(o, "spec.selector"));
    tbl_sb(r, &b);
}

void tbl_daemonset_row(tbl_row_t *r, const cJSON *o, uint64_t now)
{
    const cJSON *st = j_get(o, "status");
    sbuf_t b = {0};
    char age[32];
    tbl_str(r, api_meta_name(o));
    static const char *const counts[] = {
        "desiredNumberScheduled", "currentNumberScheduled", "numberReady",
        "updatedNumberScheduled", "numberAvailable",        NULL};
    for (int i = 0; counts[i]; i++)
        tbl_int(r, j_int(st, counts[i], 0));
    labels_string(&b, j_path(o, "spec.template.spec.nodeSelector"));
    tbl_sb(r, &b);
    tbl_str(r, age_of(o, now, age, sizeof age));
    containers_images(r, o);
    selector_cell(r, j_path(o, "spec.selector"));
}

/* ------------------------------------------------------------- small kinds */

void tbl_namespace_row(tbl_row_t *r, const cJSON *o, uint64_t now)
{
    char age[32];
    tbl_str(r, api_meta_name(o));
    tbl_str(r, j_str0(j_get(o, "status"), "phase"));
    tbl_str(r, age_of(o, now, age, sizeof age));
}

void tbl_event_row(tbl_row_t *r, const cJSON *o, uint64_t now)
{
    char first[32], last[32];
    const char *f = j_str(o, "firstTimestamp");
    const char *fs = tbl_since(f ? f : j_str(o, "eventTime"), now, first, sizeof first);
    const char *l = j_str(o, "lastTimestamp");
    const char *ls = l ? tbl_since(l, now, last, sizeof last) : fs;
    long long count = j_int(o, "count", 0);
    const cJSON *series = j_get(o, "series");
    if (cJSON_IsObject(series)) {
        ls = tbl_since(j_str(series, "lastObservedTime"), now, last, sizeof last);
        count = j_int(series, "count", 0);
    } else if (count == 0) {
        count = 1;
    }
    const cJSON *inv = j_get(o, "involvedObject");
    sbuf_t b = {0};
    for (const char *k = j_str0(inv, "kind"); *k; k++)
        sb_putc(&b, (char)(*k >= 'A' && *k <= 'Z' ? *k - 'A' + 'a' : *k));
    if (*j_str0(inv, "name")) sb_printf(&b, "/%s", j_str0(inv, "name"));
    tbl_str(r, ls);
    tbl_str(r, j_str0(o, "type"));
    tbl_str(r, j_str0(o, "reason"));
    tbl_sb(r, &b);
    tbl_str(r, j_str0(inv, "fieldPath"));
    const cJSON *src = j_get(o, "source");
    const char *comp =
        *j_str0(src, "component") ? j_str0(src, "component") : j_str0(o, "reportingComponent");
    const char *inst = *j_str0(src, "host") ? j_str0(src, "host") : j_str0(o, "reportingInstance");
    if (*inst)
        sb_printf(&b, "%s, %s", comp, inst);
    else
        sb_puts(&b, comp);
    tbl_sb(r, &b);
    /* The message without surrounding whitespace. */
    const char *msg = j_str0(o, "message");
    while (*msg == ' ' || *msg == '\n' || *msg == '\t' || *msg == '\r')
        msg++;
    size_t n = strlen(msg);
    while (n &&
           (msg[n - 1] == ' ' || msg[n - 1] == '\n' || msg[n - 1] == '\t' || msg[n - 1] == '\r'))
        n--;
    sb_putn(&b, msg, n);
    tbl_sb(r, &b);
    tbl_str(r, fs);
    tbl_int(r, count);
    tbl_str(r, api_meta_name(o));
}

void tbl_configmap_row(tbl_row_t *r, const cJSON *o, uint64_t now)
{
    char age[32];
    tbl_str(r, api_meta_name(o));
    tbl_int(r, j_len(o, "data") + j_len(o, "binaryData"));
    tbl_str(r, age_of(o, now, age, sizeof age));
}

void tbl_secret_row(tbl_row_t *r, const cJSON *o, uint64_t now)
{
    char age[32];
    tbl_str(r, api_meta_name(o));
    tbl_str(r, j_str0(o, "type"));
    tbl_int(r, j_len(o, "data"));
    tbl_str(r, age_of(o, now, age, sizeof age));
}

void tbl_serviceaccount_row(tbl_row_t *r, const cJSON *o, uint64_t now)
{
    char age[32];
    tbl_str(r, api_meta_name(o));
    tbl_int(r, j_len(o, "secrets"));
    tbl_str(r, age_of(o, now, age, sizeof age));
}

void tbl_lease_row(tbl_row_t *r, const cJSON *o, uint64_t now)
{
    char age[32];
    tbl_str(r, api_meta_name(o));
    tbl_str(r, j_str0(j_get(o, "spec"), "holderIdentity"));
    tbl_str(r, age_of(o, now, age, sizeof age));
}

/* Up to three items, then " + N more...", "<unset>" when none. */
static void list_with_more(tbl_row_t *r, sbuf_t *b, int listed, int count)
{
    if (count > 3)
        sb_printf(b, " + %d more...", count - 3);
    else if (listed == 0)
        sb_puts(b, "<unset>");
    tbl_sb(r, b);
}

void tbl_endpointslice_row(tbl_row_t *r, const cJSON *o, uint64_t now)
{
    sbuf_t b = {0};
    char age[32];
    tbl_str(r, api_meta_name(o));
    tbl_str(r, j_str0(o, "addressType"));
    int listed = 0, count = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, j_get(o, "ports"))
    {
        if (listed < 3) {
            if (listed++) sb_putc(&b, ',');
            if (j_has(p, "port"))
                sb_printf(&b, "%lld", j_int(p, "port", 0));
            else if (j_str(p, "name"))
                sb_puts(&b, j_str(p, "name"));
            else
                sb_putc(&b, '*');
        }
        count++;
    }
    list_with_more(r, &b, listed, count);
    listed = count = 0;
    const cJSON *ep, *a;
    cJSON_ArrayForEach(ep, j_get(o, "endpoints"))
    {
        cJSON_ArrayForEach(a, j_get(ep, "addresses"))
        {
            if (listed < 3 && cJSON_IsString(a)) {
                if (listed++) sb_putc(&b, ',');
                sb_puts(&b, a->valuestring);
            }
            count++;
        }
    }
    list_with_more(r, &b, listed, count);
    tbl_str(r, age_of(o, now, age, sizeof age));
}
