/*
 * table.c - meta.k8s.io/v1 Table output: the columns and cells kubectl
 * shows for `kubectl get` (kubectl prints only NAME and AGE unless the
 * server answers with a Table), and duration.HumanDuration for ages.
 *
 * The server fills every column, wide ones included (priority 1); kubectl
 * hides those unless -o wide. Cells follow Kubernetes' printers, so the
 * per-kind cell builders live in table_rows.c; this file holds the column
 * sets, the generic parts of a row and the Table envelope.
 */
#include "api/model_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- HumanDuration */

char *api_human_duration(int64_t ms, char *buf, size_t len)
{
    int64_t sec = ms / 1000; /* truncated toward zero, as Go's int(d.Seconds()) */
    if (sec < -1) {
        snprintf(buf, len, "<invalid>");
        return buf;
    }
    if (sec < 0) {
        snprintf(buf, len, "0s");
        return buf;
    }
    if (sec < 60 * 2) {
        snprintf(buf, len, "%" PRId64 "s", sec);
        return buf;
    }
    int64_t minutes = sec / 60;
    if (minutes < 10) {
        int64_t s = sec % 60;
        if (s == 0)
            snprintf(buf, len, "%" PRId64 "m", minutes);
        else
            snprintf(buf, len, "%" PRId64 "m%" PRId64 "s", minutes, s);
        return buf;
    }
    if (minutes < 60 * 3) {
        snprintf(buf, len, "%" PRId64 "m", minutes);
        return buf;
    }
    int64_t hours = sec / 3600;
    if (hours < 8) {
        int64_t m = minutes % 60;
        if (m == 0)
            snprintf(buf, len, "%" PRId64 "h", hours);
        else
            snprintf(buf, len, "%" PRId64 "h%" PRId64 "m", hours, m);
    } else if (hours < 48) {
        snprintf(buf, len, "%" PRId64 "h", hours);
    } else if (hours < 24 * 8) {
        int64_t h = hours % 24;
        if (h == 0)
            snprintf(buf, len, "%" PRId64 "d", hours / 24);
        else
            snprintf(buf, len, "%" PRId64 "d%" PRId64 "h", hours / 24, h);
    } else if (hours < 24 * 365 * 2) {
        snprintf(buf, len, "%" PRId64 "d", hours / 24);
    } else if (hours < 24 * 365 * 8) {
        int64_t dy = (hours / 24) % 365;
        if (dy == 0)
            snprintf(buf, len, "%" PRId64 "y", hours / 24 / 365);
        else
            snprintf(buf, len, "%" PRId64 "y%" PRId64 "d", hours / 24 / 365, dy);
    } else {
        snprintf(buf, len, "%" PRId64 "y", hours / 24 / 365);
    }
    return buf;
}

const char *tbl_since(const char *ts, uint64_t now_ms, char *buf, size_t len)
{
    int64_t t;
    if (!ts || !*ts || parse_time_ms(ts, &t) != 0) return "<unknown>";
    return api_human_duration((int64_t)now_ms - t, buf, len);
}

/* ------------------------------------------------------------ cell helpers */

void tbl_str(tbl_row_t *r, const char *s)
{
    if (!cJSON_AddItemToArray(r->cells, cJSON_CreateString(s ? s : ""))) r->oom = true;
}

void tbl_int(tbl_row_t *r, long long v)
{
    if (!cJSON_AddItemToArray(r->cells, cJSON_CreateNumber((double)v))) r->oom = true;
}

void tbl_sb(tbl_row_t *r, sbuf_t *b)
{
    char *s = sb_take(b);
    if (!s) r->oom = true;
    tbl_str(r, s ? s : "");
    free(s);
}

/* ---------------------------------------------------------------- columns */

#define NAME_COL                                                                                   \
    {                                                                                              \
        "Name", "string", "name", 0, "Name of the object, unique in its namespace."                \
    }
#define AGE_COL                                                                                    \
    {                                                                                              \
        "Age", "string", "", 0, "Time since the object was created."                               \
    }

static const tbl_col_t pod_cols[] = {
    NAME_COL,
    {"Ready", "string", "", 0, "Ready containers out of all containers of the pod."},
    {"Status", "string", "", 0, "Aggregate status of the pod's containers."},
    {"Restarts", "string", "", 0, "Container restarts, and how long ago the last one was."},
    AGE_COL,
    {"IP", "string", "", 1, "IP address of the pod."},
    {"Node", "string", "", 1, "Node the pod is bound to."},
    {"Nominated Node", "string", "", 1, "Node the scheduler nominated for preemption."},
    {"Readiness Gates", "string", "", 1, "Readiness gates that are true, out of all."},
    {NULL, NULL, NULL, 0, NULL}};

static const tbl_col_t node_cols[] = {
    NAME_COL,
    {"Status", "string", "", 0, "The status of the node."},
    {"Roles", "string", "", 0, "The roles of the node."},
    AGE_COL,
    {"Version", "string", "", 0, "Version of the node agent."},
    {"Internal-IP", "string", "", 1, "The node's first InternalIP address."},
    {"External-IP", "string", "", 1, "The node's first ExternalIP address."},
    {"OS-Image", "string", "", 1, "Operating system image of the node."},
    {"Kernel-Version", "string", "", 1, "Kernel version of the node."},
    {"Container-Runtime", "string", "", 1, "Container runtime and its version."},
    {NULL, NULL, NULL, 0, NULL}};

static const tbl_col_t service_cols[] = {
    NAME_COL,
    {"Type", "string", "", 0, "How the service is exposed."},
    {"Cluster-IP", "string", "", 0, "Virtual IP address of the service."},
    {"External-IP", "string", "", 0, "Addresses the service is reachable on from outside."},
    {"Port(s)", "string", "", 0, "Ports exposed by the service."},
    AGE_COL,
    {"Selector", "string", "", 1, "Labels of the pods the service routes to."},
    {NULL, NULL, NULL, 0, NULL}};

static const tbl_col_t endpoints_cols[] = {
    NAME_COL,
    {"Endpoints", "string", "", 0, "Addresses and ports of the endpoints."},
    AGE_COL,
    {NULL, NULL, NULL, 0, NULL}};

static const tbl_col_t deployment_cols[] = {
    NAME_COL,
    {"Ready", "string", "", 0, "Ready pods out of desired pods."},
    {"Up-to-date", "integer", "", 0, "Pods running the latest pod template."},
    {"Available", "integer", "", 0, "Pods available to serve."},
    AGE_COL,
    {"Containers", "string", "", 1, "Names of the pod template's containers."},
    {"Images", "string", "", 1, "Images of the pod template's containers."},
    {"Selector", "string", "", 1, "Label selector of the pods."},
    {NULL, NULL, NULL, 0, NULL}};

static const tbl_col_t replicaset_cols[] = {
    NAME_COL,
    {"Desired", "integer", "", 0, "Number of desired pods."},
    {"Current", "integer", "", 0, "Number of pods that exist."},
    {"Ready", "integer", "", 0, "Number of ready pods."},
    AGE_COL,
    {"Containers", "string", "", 1, "Names of the pod template's containers."},
    {"Images", "string", "", 1, "Images of the pod template's containers."},
    {"Selector", "string", "", 1, "Label selector of the pods."},
    {NULL, NULL, NULL, 0, NULL}};

static const tbl_col_t daemonset_cols[] = {
    NAME_COL,
    {"Desired", "integer", "", 0, "Nodes that should run the daemon pod."},
    {"Current", "integer", "", 0, "Nodes running at least one daemon pod."},
    {"Ready", "integer", "", 0, "Nodes whose daemon pod is ready."},
    {"Up-to-date", "integer", "", 0, "Nodes running the latest daemon pod."},
    {"Available", "integer", "", 0, "Nodes whose daemon pod is available."},
    {"Node Selector", "string", "", 0, "Node selector of the pod template."},
    AGE_COL,
    {"Containers", "string", "", 1, "Names of the pod template's containers."},
    {"Images", "string", "", 1, "Images of the pod template's containers."},
    {"Selector", "string", "", 1, "Label selector of the pods."},
    {NULL, NULL, NULL, 0, NULL}};

static const tbl_col_t namespace_cols[] = {NAME_COL,
                                           {"Status", "string", "", 0, "Phase of the namespace."},
                                           AGE_COL,
                                           {NULL, NULL, NULL, 0, NULL}};

static const tbl_col_t event_cols[] = {
    {"Last Seen", "string", "", 0, "Time since the event was last seen."},
    {"Type", "string", "", 0, "Type of the event (Normal, Warning)."},
    {"Reason", "string", "", 0, "Short reason of the event."},
    {"Object", "string", "", 0, "Object the event is about."},
    {"Subobject", "string", "", 1, "Part of the object the event is about."},
    {"Source", "string", "", 1, "Component that reported the event."},
    {"Message", "string", "", 0, "Description of the event."},
    {"First Seen", "string", "", 1, "Time since the event was first seen."},
    {"Count", "string", "", 1, "Number of times the event occurred."},
    {"Name", "string", "name", 1, "Name of the event object."},
    {NULL, NULL, NULL, 0, NULL}};

static const tbl_col_t configmap_cols[] = {
    NAME_COL, {"Data", "integer", "", 0, "Number of keys."}, AGE_COL, {NULL, NULL, NULL, 0, NULL}};

static const tbl_col_t secret_cols[] = {NAME_COL,
                                        {"Type", "string", "", 0, "Type of the secret."},
                                        {"Data", "integer", "", 0, "Number of keys."},
                                        AGE_COL,
                                        {NULL, NULL, NULL, 0, NULL}};

static const tbl_col_t serviceaccount_cols[] = {
    NAME_COL,
    {"Secrets", "integer", "", 0, "Number of secrets of the service account."},
    AGE_COL,
    {NULL, NULL, NULL, 0, NULL}};

static const tbl_col_t lease_cols[] = {
    NAME_COL,
    {"Holder", "string", "", 0, "Identity of the holder of the lease."},
    AGE_COL,
    {NULL, NULL, NULL, 0, NULL}};

static const tbl_col_t endpointslice_cols[] = {
    NAME_COL,
    {"AddressType", "string", "", 0, "Type of the addresses."},
    {"Ports", "string", "", 0, "Ports of the endpoints."},
    {"Endpoints", "string", "", 0, "Addresses of the endpoints."},
    AGE_COL,
    {NULL, NULL, NULL, 0, NULL}};

static const tbl_col_t default_cols[] = {NAME_COL, AGE_COL, {NULL, NULL, NULL, 0, NULL}};

static void default_row(tbl_row_t *r, const cJSON *o, uint64_t now)
{
    char age[32];
    tbl_str(r, api_meta_name(o));
    tbl_str(r, tbl_since(api_meta_creation_timestamp(o), now, age, sizeof age));
}

static const struct printer {
    const char *resource;
    const tbl_col_t *cols;
    void (*row)(tbl_row_t *r, const cJSON *o, uint64_t now);
} printers[] = {
    {"pods", pod_cols, tbl_pod_row},
    {"nodes", node_cols, tbl_node_row},
    {"services", service_cols, tbl_service_row},
    {"endpoints", endpoints_cols, tbl_endpoints_row},
    {"deployments", deployment_cols, tbl_deployment_row},
    {"replicasets", replicaset_cols, tbl_replicaset_row},
    {"replicationcontrollers", replicaset_cols, tbl_rc_row},
    {"daemonsets", daemonset_cols, tbl_daemonset_row},
    {"namespaces", namespace_cols, tbl_namespace_row},
    {"events", event_cols, tbl_event_row},
    {"configmaps", configmap_cols, tbl_configmap_row},
    {"secrets", secret_cols, tbl_secret_row},
    {"serviceaccounts", serviceaccount_cols, tbl_serviceaccount_row},
    {"leases", lease_cols, tbl_lease_row},
    {"endpointslices", endpointslice_cols, tbl_endpointslice_row},
};

static const struct printer default_printer = {"", default_cols, default_row};

static const struct printer *printer_for(const char *resource)
{
    for (size_t i = 0; resource && i < sizeof printers / sizeof printers[0]; i++)
        if (!strcmp(printers[i].resource, resource)) return &printers[i];
    return &default_printer;
}

cJSON *api_table_columns(const char *resource)
{
    const struct printer *p = printer_for(resource);
    cJSON *cols = cJSON_CreateArray();
    for (const tbl_col_t *c = p->cols; cols && c->name; c++) {
        cJSON *d = cJSON_CreateObject();
        if (!d || !cJSON_AddItemToArray(cols, d)) {
            cJSON_Delete(d);
            cJSON_Delete(cols);
            return NULL;
        }
        if (!cJSON_AddStringToObject(d, "name", c->name) ||
            !cJSON_AddStringToObject(d, "type", c->type) ||
            !cJSON_AddStringToObject(d, "format", c->format) ||
            !cJSON_AddStringToObject(d, "description", c->desc) ||
            !cJSON_AddNumberToObject(d, "priority", c->priority)) {
            cJSON_Delete(cols);
            return NULL;
        }
    }
    return cols;
}

int api_table_include_parse(const char *s, enum api_table_include *out)
{
    if (!s || !*s || !strcmp(s, "Metadata"))
        *out = API_TABLE_INCLUDE_METADATA;
    else if (!strcmp(s, "None"))
        *out = API_TABLE_INCLUDE_NONE;
    else if (!strcmp(s, "Object"))
        *out = API_TABLE_INCLUDE_OBJECT;
    else
        return -1;
    return 0;
}

static cJSON *partial_metadata(const cJSON *obj)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *meta = j_get(obj, "metadata");
    if (!o || !cJSON_AddStringToObject(o, "kind", "PartialObjectMetadata") ||
        !cJSON_AddStringToObject(o, "apiVersion", "meta.k8s.io/v1") ||
        j_set(o, "metadata", meta ? cJSON_Duplicate(meta, true) : cJSON_CreateObject()) != 0) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *api_table_row(const char *resource, const cJSON *obj, enum api_table_include include,
                     uint64_t now_ms)
{
    const struct printer *p = printer_for(resource);
    tbl_row_t r = {0};
    r.row = cJSON_CreateObject();
    r.cells = r.row ? cJSON_AddArrayToObject(r.row, "cells") : NULL;
    if (!r.cells) {
        cJSON_Delete(r.row);
        return NULL;
    }
    p->row(&r, obj, now_ms);
    if (include == API_TABLE_INCLUDE_METADATA) {
        if (j_set(r.row, "object", partial_metadata(obj)) != 0) r.oom = true;
    } else if (include == API_TABLE_INCLUDE_OBJECT) {
        if (j_set(r.row, "object", cJSON_Duplicate(obj, true)) != 0) r.oom = true;
    }
    if (r.oom) {
        cJSON_Delete(r.row);
        return NULL;
    }
    return r.row;
}

cJSON *api_table(const char *resource, const cJSON *items, enum api_table_include include,
                 uint64_t now_ms)
{
    cJSON *t = cJSON_CreateObject();
    cJSON *rows = NULL;
    bool ok = t && cJSON_AddStringToObject(t, "kind", "Table") &&
              cJSON_AddStringToObject(t, "apiVersion", "meta.k8s.io/v1") &&
              cJSON_AddObjectToObject(t, "metadata") &&
              j_set(t, "columnDefinitions", api_table_columns(resource)) == 0 &&
              (rows = cJSON_AddArrayToObject(t, "rows"));
    const cJSON *it;
    cJSON_ArrayForEach(it, (ok ? items : NULL))
    {
        cJSON *row = api_table_row(resource, it, include, now_ms);
        if (!row || !cJSON_AddItemToArray(rows, row)) {
            cJSON_Delete(row);
            ok = false;
            break;
        }
    }
    if (!ok) {
        cJSON_Delete(t);
        return NULL;
    }
    return t;
}
