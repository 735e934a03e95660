/*
 * test_table.c - meta.k8s.io/v1 Table output as kubectl shows it: column
 * sets, pod STATUS computed as Kubernetes' printer does (Init:x/y,
 * CrashLoopBackOff, Completed, Terminating ...), node STATUS and ROLES
 * (a cordoned node is Ready,SchedulingDisabled), service PORT(S) and
 * EXTERNAL-IP, deployments, and duration.HumanDuration ages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"

/* 2024-01-01T00:00:00Z */
#define T0 1704067200000ULL
#define CREATED "\"creationTimestamp\":\"2024-01-01T00:00:00Z\""

static cJSON *J(const char *s)
{
    cJSON *o = cJSON_Parse(s);
    assert_non_null(o);
    return o;
}

static char *hd(int64_t ms)
{
    static char buf[32];
    return api_human_duration(ms, buf, sizeof buf);
}

static void test_human_duration(void **state)
{
    (void)state;
    const int64_t S = 1000, M = 60 * S, H = 60 * M, D = 24 * H;
    assert_string_equal(hd(0), "0s");
    assert_string_equal(hd(5 * S), "5s");
    assert_string_equal(hd(119 * S), "119s");
    assert_string_equal(hd(2 * M), "2m");
    assert_string_equal(hd(3 * M + 20 * S), "3m20s");
    assert_string_equal(hd(9 * M + 59 * S), "9m59s");
    assert_string_equal(hd(10 * M), "10m");
    assert_string_equal(hd(10 * M + 30 * S), "10m");
    assert_string_equal(hd(179 * M), "179m");
    assert_string_equal(hd(3 * H), "3h");
    assert_string_equal(hd(3 * H + 5 * M), "3h5m");
    assert_string_equal(hd(7 * H + 59 * M), "7h59m");
    assert_string_equal(hd(8 * H + 30 * M), "8h");
    assert_string_equal(hd(47 * H), "47h");
    assert_string_equal(hd(2 * D), "2d");
    assert_string_equal(hd(2 * D + 3 * H), "2d3h");
    assert_string_equal(hd(7 * D + 23 * H), "7d23h");
    assert_string_equal(hd(8 * D + 5 * H), "8d");
    assert_string_equal(hd(729 * D), "729d");
    assert_string_equal(hd(730 * D), "2y");
    assert_string_equal(hd(800 * D), "2y70d");
    assert_string_equal(hd(3000 * D), "8y");
    assert_string_equal(hd(-1500), "0s");
    assert_string_equal(hd(-2 * S), "<invalid>");
}

/* ---------------------------------------------------------------- helpers */

static cJSON *row_of(const char *resource, const char *json, uint64_t now)
{
    cJSON *o = J(json);
    cJSON *r = api_table_row(resource, o, API_TABLE_INCLUDE_NONE, now);
    cJSON_Delete(o);
    assert_non_null(r);
    return r;
}

static const char *cell(const cJSON *row, int i)
{
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(row, "cells"), i);
    assert_non_null(c);
    if (cJSON_IsString(c)) return c->valuestring;
    static char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)c->valuedouble);
    return buf;
}

static void expect_cells(const char *resource, const char *json, uint64_t now, int n, ...)
{
    cJSON *r = row_of(resource, json, now);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "cells")), n);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *want = va_arg(ap, const char *);
        if (want) assert_string_equal(cell(r, i), want);
    }
    va_end(ap);
    cJSON_Delete(r);
}

/* Pod NAME READY STATUS RESTARTS AGE with spec and status bodies. */
#define POD(spec, status)                                                                          \
    "{\"metadata\":{\"name\":\"web\"," CREATED "},\"spec\":" spec ",\"status\":" status "}"
#define ONE "{\"containers\":[{\"name\":\"a\"}]}"

static void expect_pod(const char *json, const char *ready, const char *status,
                       const char *restarts)
{
    expect_cells("pods", json, T0 + 60000, 9, "web", ready, status, restarts, "60s", NULL, NULL,
                 NULL, NULL);
}

static void test_pod_status(void **state)
{
    (void)state;
    expect_pod(POD(ONE, "{\"phase\":\"Pending\"}"), "0/1", "Pending", "0");
    expect_pod(POD(ONE, "{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":"
                        "true,\"restartCount\":0,\"state\":{\"running\":{}}}]}"),
               "1/1", "Running", "0");
    expect_pod(POD(ONE, "{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":"
                        "false,\"restartCount\":5,\"state\":{\"waiting\":{\"reason\":"
                        "\"CrashLoopBackOff\"}},\"lastState\":{\"terminated\":{\"exitCode\":1,"
                        "\"finishedAt\":\"2024-01-01T00:00:30Z\"}}}]}"),
               "0/1", "CrashLoopBackOff", "5 (30s ago)");
    expect_pod(POD(ONE, "{\"phase\":\"Pending\",\"containerStatuses\":[{\"name\":\"a\",\"state\":"
                        "{\"waiting\":{\"reason\":\"ImagePullBackOff\"}}}]}"),
               "0/1", "ImagePullBackOff", "0");
    expect_pod(POD(ONE, "{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"a\",\"state\":"
                        "{\"terminated\":{\"exitCode\":1,\"reason\":\"Error\"}}}]}"),
               "0/1", "Error", "0");
    expect_pod(POD(ONE, "{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"a\",\"state\":"
                        "{\"terminated\":{\"exitCode\":2}}}]}"),
               "0/1", "ExitCode:2", "0");
    expect_pod(POD(ONE, "{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"a\",\"state\":"
                        "{\"terminated\":{\"exitCode\":137,\"signal\":9}}}]}"),
               "0/1", "Signal:9", "0");
    expect_pod(POD(ONE, "{\"phase\":\"Failed\",\"reason\":\"Evicted\"}"), "0/1", "Evicted", "0");

    /* Completed, with the row condition kubectl uses. */
    cJSON *r = row_of("pods",
                      POD(ONE, "{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"name\":\"a\","
                               "\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":"
                               "\"Completed\"}}}]}"),
                      T0);
    assert_string_equal(cell(r, 2), "Completed");
    const cJSON *cond = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "conditions"), 0);
    assert_string_equal(cJSON_GetObjectItem(cond, "type")->valuestring, "Completed");
    assert_string_equal(cJSON_GetObjectItem(cond, "reason")->valuestring, "Succeeded");
    cJSON_Delete(r);

    /* One container done, one running: Running when the pod is Ready. */
    const char *two = "{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}";
    char json[1024];
    snprintf(json, sizeof json,
             POD("%s", "{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":"
                       "\"%s\"}],\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,\"state\":{"
                       "\"running\":{}}},{\"name\":\"b\",\"state\":{\"terminated\":{\"exitCode\":"
                       "0,\"reason\":\"Completed\"}}}]}"),
             two, "True");
    expect_pod(json, "1/2", "Running", "0");
    snprintf(json, sizeof json,
             POD("%s", "{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":"
                       "\"%s\"}],\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,\"state\":{"
                       "\"running\":{}}},{\"name\":\"b\",\"state\":{\"terminated\":{\"exitCode\":"
                       "0,\"reason\":\"Completed\"}}}]}"),
             two, "False");
    expect_pod(json, "1/2", "NotReady", "0");
}

#define INIT2                                                                                      \
    "{\"initContainers\":[{\"name\":\"i1\"},{\"name\":\"i2\"}],\"containers\":[{\"name\":\"a\"}]}"

static void test_pod_init_and_deletion(void **state)
{
    (void)state;
    expect_pod(POD(INIT2, "{\"phase\":\"Pending\",\"initContainerStatuses\":[{\"name\":\"i1\","
                          "\"state\":{\"running\":{}}},{\"name\":\"i2\",\"state\":{\"waiting\":{"
                          "\"reason\":\"PodInitializing\"}}}]}"),
               "0/1", "Init:0/2", "0");
    expect_pod(POD(INIT2, "{\"phase\":\"Pending\",\"initContainerStatuses\":[{\"name\":\"i1\","
                          "\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}},"
                          "{\"name\":\"i2\",\"state\":{\"waiting\":{\"reason\":"
                          "\"PodInitializing\"}}}]}"),
               "0/1", "Init:1/2", "0");
    expect_pod(POD(INIT2, "{\"phase\":\"Pending\",\"initContainerStatuses\":[{\"name\":\"i1\","
                          "\"restartCount\":3,\"state\":{\"waiting\":{\"reason\":"
                          "\"CrashLoopBackOff\"}}}]}"),
               "0/1", "Init:CrashLoopBackOff", "3");
    expect_pod(POD(INIT2, "{\"phase\":\"Pending\",\"initContainerStatuses\":[{\"name\":\"i1\","
                          "\"state\":{\"terminated\":{\"exitCode\":1,\"reason\":\"Error\"}}}]}"),
               "0/1", "Init:Error", "0");
    expect_pod(POD(INIT2, "{\"phase\":\"Pending\",\"initContainerStatuses\":[{\"name\":\"i1\","
                          "\"state\":{\"terminated\":{\"exitCode\":3}}}]}"),
               "0/1", "Init:ExitCode:3", "0");
    /* A restartable init container (sidecar) counts as a container. */
    expect_pod(POD("{\"initContainers\":[{\"name\":\"side\",\"restartPolicy\":\"Always\"}],"
                   "\"containers\":[{\"name\":\"a\"}]}",
                   "{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Initialized\",\"status\":"
                   "\"True\"}],\"initContainerStatuses\":[{\"name\":\"side\",\"started\":true,"
                   "\"ready\":true,\"state\":{\"running\":{}}}],\"containerStatuses\":[{\"name\":"
                   "\"a\",\"ready\":true,\"state\":{\"running\":{}}}]}"),
               "2/2", "Running", "0");

    expect_pod("{\"metadata\":{\"name\":\"web\"," CREATED
               ",\"deletionTimestamp\":\"2024-01-01T00:00:50Z\"},"
               "\"spec\":" ONE ",\"status\":{\"phase\":\"Running\"}}",
               "0/1", "Terminating", "0");
    expect_pod("{\"metadata\":{\"name\":\"web\"," CREATED
               ",\"deletionTimestamp\":\"2024-01-01T00:00:50Z\"},"
               "\"spec\":" ONE ",\"status\":{\"phase\":\"Running\",\"reason\":\"NodeLost\"}}",
               "0/1", "Unknown", "0");
    expect_pod("{\"metadata\":{\"name\":\"web\"," CREATED
               ",\"deletionTimestamp\":\"2024-01-01T00:00:50Z\"},"
               "\"spec\":" ONE ",\"status\":{\"phase\":\"Succeeded\"}}",
               "0/1", "Succeeded", "0");
}

static void test_pod_wide(void **state)
{
    (void)state;
    expect_cells("pods",
                 POD("{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"a\"}],\"readinessGates\":[{"
                     "\"conditionType\":\"example.com/lb\"}]}",
                     "{\"phase\":\"Running\",\"podIP\":\"10.42.1.5\",\"podIPs\":[{\"ip\":"
                     "\"10.42.1.5\"}],\"conditions\":[{\"type\":\"example.com/lb\",\"status\":"
                     "\"True\"}]}"),
                 T0 + 3 * 3600 * 1000, 9, "web", "0/1", "Running", "0", "3h", "10.42.1.5", "n1",
                 "<none>", "1/1");
    expect_cells("pods", POD(ONE, "{\"phase\":\"Pending\"}"), T0, 9, NULL, NULL, NULL, NULL, "0s",
                 "<none>", "<none>", "<none>", "<none>");
    expect_cells("pods", "{\"metadata\":{\"name\":\"x\"}}", T0, 9, "x", "0/0", "", "0", "<unknown>",
                 NULL, NULL, NULL, NULL);
}

/* -------------------------------------------------------------------- nodes */

#define NODE(extra, spec, conds)                                                                   \
    "{\"metadata\":{\"name\":\"n1\"," CREATED extra "},\"spec\":" spec ",\"status\":{"             \
    "\"conditions\":" conds ",\"nodeInfo\":{\"kubeletVersion\":\"v1.32.0-picokube.0.1.0\","        \
    "\"osImage\":\"Debian GNU/Linux 12 (bookworm)\",\"kernelVersion\":\"6.1.0\","                  \
    "\"containerRuntimeVersion\":\"runc://1.1.5\"},\"addresses\":[{\"type\":\"Hostname\","         \
    "\"address\":\"n1\"},{\"type\":\"InternalIP\",\"address\":\"192.168.1.10\"}]}}"
#define READY                                                                                      \
    "[{\"type\":\"MemoryPressure\",\"status\":\"False\"},{\"type\":\"Ready\",\"status\":\"True\"}" \
    "]"

static void test_nodes(void **state)
{
    (void)state;
    uint64_t now = T0 + 2 * 86400000ULL + 3 * 3600000ULL;
    expect_cells(
        "nodes",
        NODE(
            ",\"labels\":{\"node-role.kubernetes.io/master\":\"\","
            "\"node-role.kubernetes.io/control-plane\":\"true\",\"kubernetes.io/hostname\":\"n1\"}",
            "{}", READY),
        now, 10, "n1", "Ready", "control-plane,master", "2d3h", "v1.32.0-picokube.0.1.0",
        "192.168.1.10", "<none>", "Debian GNU/Linux 12 (bookworm)", "6.1.0", "runc://1.1.5");
    expect_cells("nodes", NODE("", "{\"unschedulable\":true}", READY), now, 10, "n1",
                 "Ready,SchedulingDisabled", "<none>", NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    expect_cells("nodes", NODE("", "{}", "[{\"type\":\"Ready\",\"status\":\"Unknown\"}]"), now, 10,
                 "n1", "NotReady", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    expect_cells("nodes", NODE("", "{\"unschedulable\":true}", "[]"), now, 10, "n1",
                 "Unknown,SchedulingDisabled", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    expect_cells("nodes", NODE(",\"labels\":{\"kubernetes.io/role\":\"worker\"}", "{}", READY), now,
                 10, NULL, NULL, "worker", NULL, NULL, NULL, NULL, NULL, NULL, NULL);
}

/* ----------------------------------------------------------------- services */

#define SVC(spec) "{\"metadata\":{\"name\":\"web\"," CREATED "},\"spec\":" spec "}"

static void test_services(void **state)
{
    (void)state;
    uint64_t now = T0 + 10 * 60000;
    expect_cells("services",
                 SVC("{\"type\":\"ClusterIP\",\"clusterIP\":\"10.43.0.10\",\"clusterIPs\":["
                     "\"10.43.0.10\"],\"ports\":[{\"port\":80,\"protocol\":\"TCP\"}],\"selector\":"
                     "{\"tier\":\"fe\",\"app\":\"web\"}}"),
                 now, 7, "web", "ClusterIP", "10.43.0.10", "<none>", "80/TCP", "10m",
                 "app=web,tier=fe");
    expect_cells("services",
                 SVC("{\"type\":\"NodePort\",\"clusterIP\":\"10.43.0.11\",\"externalIPs\":["
                     "\"192.168.1.50\"],\"ports\":[{\"port\":80,\"nodePort\":30080,\"protocol\":"
                     "\"TCP\"},{\"port\":53,\"nodePort\":30053,\"protocol\":\"UDP\"}]}"),
                 now, 7, "web", "NodePort", "10.43.0.11", "192.168.1.50",
                 "80:30080/TCP,53:30053/UDP", "10m", "<none>");
    expect_cells("services",
                 SVC("{\"type\":\"LoadBalancer\",\"clusterIP\":\"10.43.0.12\",\"ports\":[{\"port\""
                     ":443,\"nodePort\":31443,\"protocol\":\"TCP\"}]}"),
                 now, 7, NULL, "LoadBalancer", NULL, "<pending>", "443:31443/TCP", NULL, NULL);
    expect_cells(
        "services",
        "{\"metadata\":{\"name\":\"lb\"},\"spec\":{\"type\":\"LoadBalancer\",\"ports\":[]},"
        "\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.168.1.200\"}]}}}",
        now, 7, "lb", NULL, "<none>", "192.168.1.200", "<none>", "<unknown>", NULL);
    expect_cells("services", SVC("{\"type\":\"ExternalName\",\"externalName\":\"db.example.com\"}"),
                 now, 7, NULL, "ExternalName", "<none>", "db.example.com", "<none>", NULL, NULL);
    expect_cells("services",
                 SVC("{\"type\":\"ClusterIP\",\"clusterIP\":\"None\",\"ports\":[{\"port\":80,"
                     "\"protocol\":\"TCP\"}]}"),
                 now, 7, NULL, NULL, "None", NULL, NULL, NULL, NULL);
}

/* -------------------------------------------------------------- workloads */

static void test_workloads(void **state)
{
    (void)state;
    uint64_t now = T0 + 5000;
    expect_cells("deployments",
                 "{\"metadata\":{\"name\":\"web\"," CREATED "},\"spec\":{\"replicas\":3,"
                 "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"spec\":{"
                 "\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.25\"},{\"name\":"
                 "\"log\",\"image\":\"busybox\"}]}}},\"status\":{\"readyReplicas\":2,"
                 "\"updatedReplicas\":3,\"availableReplicas\":2}}",
                 now, 8, "web", "2/3", "3", "2", "5s", "nginx,log", "nginx:1.25,busybox",
                 "app=web");
    expect_cells("deployments", "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":1}}", now, 8,
                 "d", "0/1", "0", "0", NULL, "", "", NULL);
    expect_cells("replicasets",
                 "{\"metadata\":{\"name\":\"web-5d\"," CREATED "},\"spec\":{\"replicas\":3,"
                 "\"selector\":{\"matchLabels\":{\"app\":\"web\",\"pod-template-hash\":\"5d\"}},"
                 "\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}},"
                 "\"status\":{\"replicas\":3,\"readyReplicas\":1}}",
                 now, 8, "web-5d", "3", "3", "1", "5s", "c", "i", "app=web,pod-template-hash=5d");
    expect_cells("replicationcontrollers",
                 "{\"metadata\":{\"name\":\"rc\"},\"spec\":{\"replicas\":2,\"selector\":{\"app\":"
                 "\"w\"}},\"status\":{\"replicas\":2,\"readyReplicas\":2}}",
                 now, 8, "rc", "2", "2", "2", NULL, "", "", "app=w");
    expect_cells("daemonsets",
                 "{\"metadata\":{\"name\":\"ds\"},\"spec\":{\"selector\":{\"matchLabels\":{\"app\":"
                 "\"ds\"}},\"template\":{\"spec\":{\"nodeSelector\":{\"kubernetes.io/os\":"
                 "\"linux\"},\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}},\"status\":{"
                 "\"desiredNumberScheduled\":3,\"currentNumberScheduled\":3,\"numberReady\":2,"
                 "\"updatedNumberScheduled\":3,\"numberAvailable\":2}}",
                 now, 11, "ds", "3", "3", "2", "3", "2", "kubernetes.io/os=linux", NULL, "c", "i",
                 "app=ds");
}

static void test_small_kinds(void **state)
{
    (void)state;
    uint64_t now = T0 + 90000;
    expect_cells("endpoints",
                 "{\"metadata\":{\"name\":\"web\"},\"subsets\":[{\"addresses\":[{\"ip\":"
                 "\"10.42.1.5\"},{\"ip\":\"10.42.2.6\"}],\"ports\":[{\"port\":80}]}]}",
                 now, 3, "web", "10.42.1.5:80,10.42.2.6:80", NULL);
    expect_cells(
        "endpoints",
        "{\"metadata\":{\"name\":\"web\"},\"subsets\":[{\"addresses\":[{\"ip\":\"10.0.0.1\"},"
        "{\"ip\":\"10.0.0.2\"},{\"ip\":\"10.0.0.3\"},{\"ip\":\"10.0.0.4\"},{\"ip\":"
        "\"10.0.0.5\"}],\"ports\":[{\"port\":80}]}]}",
        now, 3, "web", "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...", NULL);
    expect_cells("endpoints", "{\"metadata\":{\"name\":\"web\"}}", now, 3, "web", "<none>", NULL);
    expect_cells("namespaces",
                 "{\"metadata\":{\"name\":\"default\"," CREATED
                 "},\"status\":{\"phase\":\"Active\"}}",
                 now, 3, "default", "Active", "90s");
    expect_cells("configmaps",
                 "{\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"1\",\"b\":\"2\"},\"binaryData\":"
                 "{\"c\":\"eA==\"}}",
                 now, 3, "c", "3", "<unknown>");
    expect_cells("secrets",
                 "{\"metadata\":{\"name\":\"s\"},\"type\":\"Opaque\",\"data\":{\"a\":\"eA==\"}}",
                 now, 4, "s", "Opaque", "1", NULL);
    expect_cells("serviceaccounts", "{\"metadata\":{\"name\":\"default\"}}", now, 3, "default", "0",
                 NULL);
    expect_cells("leases", "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"holderIdentity\":\"n1\"}}",
                 now, 3, "n1", "n1", NULL);
    expect_cells("events",
                 "{\"metadata\":{\"name\":\"web.17a\"},\"type\":\"Warning\",\"reason\":\"BackOff\","
                 "\"message\":\" Back-off restarting failed container\\n\",\"count\":4,"
                 "\"firstTimestamp\":\"2024-01-01T00:00:00Z\",\"lastTimestamp\":"
                 "\"2024-01-01T00:01:00Z\",\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web\","
                 "\"fieldPath\":\"spec.containers{a}\"},\"source\":{\"component\":\"kubelet\","
                 "\"host\":\"n1\"}}",
                 now, 10, "30s", "Warning", "BackOff", "pod/web", "spec.containers{a}",
                 "kubelet, n1", "Back-off restarting failed container", "90s", "4", "web.17a");
    expect_cells("endpointslices",
                 "{\"metadata\":{\"name\":\"web-x\"},\"addressType\":\"IPv4\",\"ports\":[{"
                 "\"port\":80}],\"endpoints\":[{\"addresses\":[\"10.42.1.5\"]}]}",
                 now, 5, "web-x", "IPv4", "80", "10.42.1.5", NULL);
    /* Kinds without their own printer show NAME and AGE. */
    expect_cells("widgets", "{\"metadata\":{\"name\":\"w\"," CREATED "}}", now, 2, "w", "90s");
}

/* ------------------------------------------------------------------- Table */

static void test_table_envelope(void **state)
{
    (void)state;
    cJSON *items = J("[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\","
                     "\"namespace\":\"default\",\"labels\":{\"app\":\"a\"}},\"spec\":" ONE
                     ",\"status\":{\"phase\":\"Pending\"}},{\"metadata\":{\"name\":\"b\"}}]");
    cJSON *t = api_table("pods", items, API_TABLE_INCLUDE_METADATA, T0);
    assert_non_null(t);
    assert_string_equal(cJSON_GetObjectItem(t, "kind")->valuestring, "Table");
    assert_string_equal(cJSON_GetObjectItem(t, "apiVersion")->valuestring, "meta.k8s.io/v1");
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(t, "metadata")));
    const cJSON *cols = cJSON_GetObjectItem(t, "columnDefinitions");
    static const char *const names[] = {"Name", "Ready", "Status",         "Restarts",       "Age",
                                        "IP",   "Node",  "Nominated Node", "Readiness Gates"};
    assert_int_equal(cJSON_GetArraySize(cols), 9);
    for (int i = 0; i < 9; i++) {
        const cJSON *c = cJSON_GetArrayItem(cols, i);
        assert_string_equal(cJSON_GetObjectItem(c, "name")->valuestring, names[i]);
        assert_int_equal(cJSON_GetObjectItem(c, "priority")->valueint, i >= 5 ? 1 : 0);
        assert_true(cJSON_IsString(cJSON_GetObjectItem(c, "description")));
        assert_true(cJSON_IsString(cJSON_GetObjectItem(c, "format")));
    }
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cols, 0), "format")->valuestring,
                        "name");
    const cJSON *rows = cJSON_GetObjectItem(t, "rows");
    assert_int_equal(cJSON_GetArraySize(rows), 2);
    const cJSON *obj = cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "object");
    assert_string_equal(cJSON_GetObjectItem(obj, "kind")->valuestring, "PartialObjectMetadata");
    assert_string_equal(cJSON_GetObjectItem(obj, "apiVersion")->valuestring, "meta.k8s.io/v1");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "metadata"), "labels"),
                            "app")
            ->valuestring,
        "a");
    assert_null(cJSON_GetObjectItem(obj, "spec"));
    cJSON_Delete(t);

    t = api_table("pods", items, API_TABLE_INCLUDE_OBJECT, T0);
    obj = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "rows"), 0), "object");
    assert_string_equal(cJSON_GetObjectItem(obj, "kind")->valuestring, "Pod");
    assert_non_null(cJSON_GetObjectItem(obj, "spec"));
    cJSON_Delete(t);

    t = api_table("pods", items, API_TABLE_INCLUDE_NONE, T0);
    assert_null(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "rows"), 0), "object"));
    cJSON_Delete(t);
    cJSON_Delete(items);

    cJSON *empty = api_table("nodes", NULL, API_TABLE_INCLUDE_METADATA, T0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(empty, "rows")), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(empty, "columnDefinitions")), 10);
    cJSON_Delete(empty);

    cJSON *dcols = api_table_columns("deployments");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(dcols, 2), "name")->valuestring,
                        "Up-to-date");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(dcols, 2), "type")->valuestring,
                        "integer");
    cJSON_Delete(dcols);
    cJSON *scols = api_table_columns("services");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(scols, 4), "name")->valuestring,
                        "Port(s)");
    cJSON_Delete(scols);

    enum api_table_include inc;
    assert_int_equal(api_table_include_parse(NULL, &inc), 0);
    assert_int_equal(inc, API_TABLE_INCLUDE_METADATA);
    assert_int_equal(api_table_include_parse("Object", &inc), 0);
    assert_int_equal(inc, API_TABLE_INCLUDE_OBJECT);
    assert_int_equal(api_table_include_parse("None", &inc), 0);
    assert_int_equal(inc, API_TABLE_INCLUDE_NONE);
    assert_int_equal(api_table_include_parse("Everything", &inc), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_human_duration),
        cmocka_unit_test(test_pod_status),
        cmocka_unit_test(test_pod_init_and_deletion),
        cmocka_unit_test(test_pod_wide),
        cmocka_unit_test(test_nodes),
        cmocka_unit_test(test_services),
        cmocka_unit_test(test_workloads),
        cmocka_unit_test(test_small_kinds),
        cmocka_unit_test(test_table_envelope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
