/*
 * test_defaults.c - defaulting as Kubernetes' v1 defaulters do it, and the
 * registry's create/update preparation (status reset, QoS class,
 * generation bumps, status/spec carried over, Service addresses kept).
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

static cJSON *J(const char *s)
{
    cJSON *o = cJSON_Parse(s);
    assert_non_null(o);
    return o;
}

/* The value at a dotted path, with [i] for array items ("spec.ports[0].protocol"). */
static const cJSON *at(const cJSON *o, const char *path)
{
    char buf[256];
    strncpy(buf, path, sizeof buf - 1);
    buf[sizeof buf - 1] = '\0';
    char *save = NULL;
    for (char *t = strtok_r(buf, ".", &save); o && t; t = strtok_r(NULL, ".", &save)) {
        char *br = strchr(t, '[');
        if (br) *br = '\0';
        if (*t) o = cJSON_GetObjectItemCaseSensitive(o, t);
        while (o && br) {
            o = cJSON_GetArrayItem(o, atoi(br + 1));
            br = strchr(br + 1, '[');
        }
    }
    return o;
}

static const char *S(const cJSON *o, const char *path)
{
    const cJSON *v = at(o, path);
    return cJSON_IsString(v) ? v->valuestring : "<missing>";
}

static double N(const cJSON *o, const char *path)
{
    const cJSON *v = at(o, path);
    return cJSON_IsNumber(v) ? v->valuedouble : -12345;
}

static void test_pod_defaults(void **state)
{
    (void)state;
    cJSON *p = J("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":["
                 "{\"name\":\"a\",\"image\":\"nginx\",\"ports\":[{\"containerPort\":80}],"
                 "\"resources\":{\"limits\":{\"cpu\":\"500m\"}}},"
                 "{\"name\":\"b\",\"image\":\"nginx:latest\"},"
                 "{\"name\":\"c\",\"image\":\"nginx:1.25\"},"
                 "{\"name\":\"d\",\"image\":\"registry.local:5000/app\"},"
                 "{\"name\":\"e\",\"image\":\"registry.local:5000/app:v2\"},"
                 "{\"name\":\"f\",\"image\":\"app@sha256:0123\"},"
                 "{\"name\":\"g\",\"image\":\"x\",\"imagePullPolicy\":\"Never\"}]}}");
    assert_int_equal(api_default("Pod", p), 0);
    assert_string_equal(S(p, "spec.restartPolicy"), "Always");
    assert_string_equal(S(p, "spec.dnsPolicy"), "ClusterFirst");
    assert_string_equal(S(p, "spec.schedulerName"), "default-scheduler");
    assert_int_equal(N(p, "spec.terminationGracePeriodSeconds"), 30);
    assert_true(cJSON_IsObject(at(p, "spec.securityContext")));
    assert_true(cJSON_IsTrue(at(p, "spec.enableServiceLinks")));
    assert_string_equal(S(p, "spec.serviceAccountName"), "default");
    assert_string_equal(S(p, "spec.containers[0].imagePullPolicy"), "Always");
    assert_string_equal(S(p, "spec.containers[1].imagePullPolicy"), "Always");
    assert_string_equal(S(p, "spec.containers[2].imagePullPolicy"), "IfNotPresent");
    assert_string_equal(S(p, "spec.containers[3].imagePullPolicy"), "Always");
    assert_string_equal(S(p, "spec.containers[4].imagePullPolicy"), "IfNotPresent");
    assert_string_equal(S(p, "spec.containers[5].imagePullPolicy"), "IfNotPresent");
    assert_string_equal(S(p, "spec.containers[6].imagePullPolicy"), "Never");
    assert_string_equal(S(p, "spec.containers[0].terminationMessagePath"), "/dev/termination-log");
    assert_string_equal(S(p, "spec.containers[0].terminationMessagePolicy"), "File");
    assert_string_equal(S(p, "spec.containers[0].ports[0].protocol"), "TCP");
    /* A pod requests what it limits when it says nothing else. */
    assert_string_equal(S(p, "spec.containers[0].resources.requests.cpu"), "500m");
    assert_string_equal(S(p, "spec.tolerations[0].key"), "node.kubernetes.io/not-ready");
    assert_int_equal(N(p, "spec.tolerations[1].tolerationSeconds"), 300);

    /* Idempotent. */
    cJSON *again = cJSON_Duplicate(p, true);
    assert_int_equal(api_default("Pod", again), 0);
    assert_true(cJSON_Compare(p, again, true));
    cJSON_Delete(again);
    cJSON_Delete(p);

    p = J("{\"spec\":{\"restartPolicy\":\"Never\",\"terminationGracePeriodSeconds\":0,"
          "\"containers\":[{\"name\":\"a\",\"image\":\"x:1\"}],\"volumes\":[{\"name\":\"v\"},"
          "{\"name\":\"s\",\"secret\":{\"secretName\":\"s\"}}]}}");
    api_default("Pod", p);
    assert_string_equal(S(p, "spec.restartPolicy"), "Never");
    assert_int_equal(N(p, "spec.terminationGracePeriodSeconds"), 0);
    assert_true(cJSON_IsObject(at(p, "spec.volumes[0].emptyDir")));
    assert_int_equal(N(p, "spec.volumes[1].secret.defaultMode"), 420);
    cJSON_Delete(p);
}

static void test_service_defaults(void **state)
{
    (void)state;
    cJSON *s = J("{\"spec\":{\"ports\":[{\"port\":80},{\"port\":443,\"targetPort\":\"https\"},"
                 "{\"port\":53,\"protocol\":\"UDP\",\"targetPort\":0}]}}");
    assert_int_equal(api_default("Service", s), 0);
    assert_string_equal(S(s, "spec.type"), "ClusterIP");
    assert_string_equal(S(s, "spec.sessionAffinity"), "None");
    assert_string_equal(S(s, "spec.internalTrafficPolicy"), "Cluster");
    assert_null(at(s, "spec.externalTrafficPolicy"));
    assert_string_equal(S(s, "spec.ports[0].protocol"), "TCP");
    assert_int_equal(N(s, "spec.ports[0].targetPort"), 80);
    assert_string_equal(S(s, "spec.ports[1].targetPort"), "https");
    assert_string_equal(S(s, "spec.ports[2].protocol"), "UDP");
    assert_int_equal(N(s, "spec.ports[2].targetPort"), 53);
    cJSON_Delete(s);

    s = J("{\"spec\":{\"type\":\"NodePort\",\"sessionAffinity\":\"ClientIP\",\"ports\":[{\"port\":"
          "80}]}}");
    api_default("Service", s);
    assert_string_equal(S(s, "spec.externalTrafficPolicy"), "Cluster");
    assert_int_equal(N(s, "spec.sessionAffinityConfig.clientIP.timeoutSeconds"), 10800);
    cJSON_Delete(s);
}

static void test_workload_defaults(void **state)
{
    (void)state;
    cJSON *d = J("{\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"w\"}},\"template\":{"
                 "\"metadata\":{\"labels\":{\"app\":\"w\"}},\"spec\":{\"containers\":[{\"name\":"
                 "\"a\",\"image\":\"nginx:1\",\"resources\":{\"limits\":{\"cpu\":\"1\"}}}]}}}}");
    assert_int_equal(api_default("Deployment", d), 0);
    assert_int_equal(N(d, "spec.replicas"), 1);
    assert_string_equal(S(d, "spec.strategy.type"), "RollingUpdate");
    assert_string_equal(S(d, "spec.strategy.rollingUpdate.maxUnavailable"), "25%");
    assert_string_equal(S(d, "spec.strategy.rollingUpdate.maxSurge"), "25%");
    assert_int_equal(N(d, "spec.revisionHistoryLimit"), 10);
    assert_int_equal(N(d, "spec.progressDeadlineSeconds"), 600);
    assert_string_equal(S(d, "spec.template.spec.restartPolicy"), "Always");
    assert_string_equal(S(d, "spec.template.spec.containers[0].imagePullPolicy"), "IfNotPresent");
    /* Templates are not pods: no requests from limits, no admission defaults. */
    assert_null(at(d, "spec.template.spec.containers[0].resources.requests"));
    assert_null(at(d, "spec.template.spec.serviceAccountName"));
    cJSON_Delete(d);

    d = J("{\"spec\":{\"replicas\":0,\"strategy\":{\"type\":\"Recreate\"}}}");
    api_default("Deployment", d);
    assert_int_equal(N(d, "spec.replicas"), 0);
    assert_null(at(d, "spec.strategy.rollingUpdate"));
    cJSON_Delete(d);

    cJSON *rs = J("{\"spec\":{}}");
    api_default("ReplicaSet", rs);
    assert_int_equal(N(rs, "spec.replicas"), 1);
    cJSON_Delete(rs);

    cJSON *rc = J("{\"metadata\":{\"name\":\"rc\"},\"spec\":{\"template\":{\"metadata\":{"
                  "\"labels\":{\"app\":\"w\"}},\"spec\":{\"containers\":[]}}}}");
    api_default("ReplicationController", rc);
    assert_string_equal(S(rc, "spec.selector.app"), "w");
    assert_string_equal(S(rc, "metadata.labels.app"), "w");
    assert_int_equal(N(rc, "spec.replicas"), 1);
    cJSON_Delete(rc);

    cJSON *ds = J("{\"spec\":{}}");
    api_default("DaemonSet", ds);
    assert_string_equal(S(ds, "spec.updateStrategy.type"), "RollingUpdate");
    assert_int_equal(N(ds, "spec.updateStrategy.rollingUpdate.maxUnavailable"), 1);
    assert_int_equal(N(ds, "spec.updateStrategy.rollingUpdate.maxSurge"), 0);
    assert_int_equal(N(ds, "spec.revisionHistoryLimit"), 10);
    cJSON_Delete(ds);
}

static void test_other_defaults(void **state)
{
    (void)state;
    cJSON *ns = J("{\"metadata\":{\"name\":\"team\"}}");
    api_default("Namespace", ns);
    assert_string_equal(S(ns, "spec.finalizers[0]"), "kubernetes");
    assert_string_equal(api_meta_label(ns, "kubernetes.io/metadata.name"), "team");
    cJSON_Delete(ns);

    cJSON *sec = J("{\"data\":{\"user\":\"YWRtaW4=\",\"password\":\"b2xk\"},\"stringData\":{"
                   "\"password\":\"s3cret\"}}");
    api_default("Secret", sec);
    assert_string_equal(S(sec, "type"), "Opaque");
    assert_string_equal(S(sec, "data.password"), "czNjcmV0");
    assert_string_equal(S(sec, "data.user"), "YWRtaW4=");
    assert_null(at(sec, "stringData"));
    cJSON_Delete(sec);

    cJSON *ep = J("{\"subsets\":[{\"ports\":[{\"port\":80}]}]}");
    api_default("Endpoints", ep);
    assert_string_equal(S(ep, "subsets[0].ports[0].protocol"), "TCP");
    cJSON_Delete(ep);

    cJSON *node = J("{\"status\":{\"capacity\":{\"cpu\":\"4\",\"pods\":\"110\"}}}");
    api_default("Node", node);
    assert_string_equal(S(node, "status.allocatable.pods"), "110");
    cJSON_Delete(node);
}

static const char *qos_of(const char *resources)
{
    static char out[32];
    char json[512];
    snprintf(json, sizeof json,
             "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"resources\":%s}]}}",
             resources);
    cJSON *p = J(json);
    api_default("Pod", p);
    assert_int_equal(api_prepare_create(api_resource_lookup("", "v1", "pods"), p), 0);
    assert_string_equal(S(p, "status.phase"), "Pending");
    snprintf(out, sizeof out, "%s", S(p, "status.qosClass"));
    cJSON_Delete(p);
    return out;
}

static void test_prepare_create(void **state)
{
    (void)state;
    assert_string_equal(qos_of("{}"), "BestEffort");
    assert_string_equal(qos_of("{\"requests\":{\"cpu\":\"100m\"}}"), "Burstable");
    assert_string_equal(qos_of("{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}"), "Guaranteed");
    assert_string_equal(qos_of("{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},\"requests\":{"
                               "\"cpu\":\"1000m\",\"memory\":\"1024Mi\"}}"),
                        "Guaranteed");
    assert_string_equal(qos_of("{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},\"requests\":{"
                               "\"cpu\":\"500m\"}}"),
                        "Burstable");

    cJSON *d =
        J("{\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":2},\"status\":{\"replicas\":9}}");
    api_prepare_create(api_resource_lookup("apps", "v1", "deployments"), d);
    assert_int_equal(api_meta_generation(d), 1);
    assert_int_equal(cJSON_GetArraySize(at(d, "status")), 0);
    cJSON_Delete(d);

    cJSON *ns = J("{\"metadata\":{\"name\":\"n\"}}");
    api_prepare_create(api_resource_lookup("", "v1", "namespaces"), ns);
    assert_string_equal(S(ns, "status.phase"), "Active");
    cJSON_Delete(ns);

    cJSON *svc = J("{\"spec\":{\"clusterIP\":\"10.43.0.10\",\"ports\":[{\"port\":80}]}}");
    api_prepare_create(api_resource_lookup("", "v1", "services"), svc);
    assert_string_equal(S(svc, "spec.clusterIPs[0]"), "10.43.0.10");
    assert_string_equal(S(svc, "spec.ipFamilies[0]"), "IPv4");
    cJSON_Delete(svc);

    cJSON *node =
        J("{\"metadata\":{\"name\":\"n1\"},\"status\":{\"nodeInfo\":{\"kubeletVersion\":\"v1\"}}}");
    api_prepare_create(api_resource_lookup("", "v1", "nodes"), node);
    assert_string_equal(S(node, "status.nodeInfo.kubeletVersion"), "v1");
    cJSON_Delete(node);

    cJSON *ds = J("{\"metadata\":{\"name\":\"ds\"},\"spec\":{}}");
    api_prepare_create(api_resource_lookup("apps", "v1", "daemonsets"), ds);
    assert_string_equal(api_meta_annotation(ds, "deprecated.daemonset.template.generation"), "1");
    cJSON_Delete(ds);
}

static void test_prepare_update(void **state)
{
    (void)state;
    const api_resource_t *deps = api_resource_lookup("apps", "v1", "deployments");
    cJSON *old = J("{\"metadata\":{\"name\":\"d\",\"generation\":4},\"spec\":{\"replicas\":2},"
                   "\"status\":{\"observedGeneration\":4,\"replicas\":2}}");
    /* A spec change bumps the generation; status writes to the main
     * resource are ignored. */
    cJSON *o =
        J("{\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":3},\"status\":{\"replicas\":0}}");
    assert_int_equal(api_prepare_update(deps, o, old, false), 0);
    assert_int_equal(api_meta_generation(o), 5);
    assert_int_equal(N(o, "status.replicas"), 2);
    cJSON_Delete(o);
    /* A label change does not. */
    o = J("{\"metadata\":{\"name\":\"d\",\"labels\":{\"a\":\"b\"}},\"spec\":{\"replicas\":2}}");
    api_prepare_update(deps, o, old, false);
    assert_int_equal(api_meta_generation(o), 4);
    cJSON_Delete(o);
    /* A status write keeps the stored spec and generation. */
    o = J("{\"metadata\":{\"name\":\"d\",\"generation\":1},\"spec\":{\"replicas\":9},\"status\":{"
          "\"replicas\":3}}");
    api_prepare_update(deps, o, old, true);
    assert_int_equal(N(o, "spec.replicas"), 2);
    assert_int_equal(N(o, "status.replicas"), 3);
    assert_int_equal(api_meta_generation(o), 4);
    cJSON_Delete(o);
    cJSON_Delete(old);

    /* Kinds without a status subresource keep what they are given. */
    cJSON *cmo = J("{\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"1\"}}");
    cJSON *cm = J("{\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"2\"}}");
    api_prepare_update(api_resource_lookup("", "v1", "configmaps"), cm, cmo, false);
    assert_string_equal(S(cm, "data.a"), "2");
    assert_int_equal(api_meta_generation(cm), 0);
    cJSON_Delete(cm);
    cJSON_Delete(cmo);

    /* Namespaces: finalizers change only through namespaces/finalize. */
    cJSON *nso = J("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"finalizers\":[\"kubernetes\"]},"
                   "\"status\":{\"phase\":\"Active\"}}");
    cJSON *ns = J("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"finalizers\":[]}}");
    api_prepare_update(api_resource_lookup("", "v1", "namespaces"), ns, nso, false);
    assert_string_equal(S(ns, "spec.finalizers[0]"), "kubernetes");
    assert_string_equal(S(ns, "status.phase"), "Active");
    cJSON_Delete(ns);
    cJSON_Delete(nso);

    /* DaemonSets count template changes in an annotation. */
    const api_resource_t *dss = api_resource_lookup("apps", "v1", "daemonsets");
    cJSON *dso = J("{\"metadata\":{\"name\":\"ds\",\"annotations\":{"
                   "\"deprecated.daemonset.template.generation\":\"2\"}},\"spec\":{\"template\":{"
                   "\"spec\":{\"containers\":[{\"image\":\"a\"}]}}}}");
    cJSON *ds = J("{\"metadata\":{\"name\":\"ds\"},\"spec\":{\"template\":{\"spec\":{"
                  "\"containers\":[{\"image\":\"b\"}]}}}}");
    api_prepare_update(dss, ds, dso, false);
    assert_string_equal(api_meta_annotation(ds, "deprecated.daemonset.template.generation"), "3");
    assert_int_equal(api_meta_generation(ds), 2);
    cJSON_Delete(ds);
    cJSON_Delete(dso);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pod_defaults),      cmocka_unit_test(test_service_defaults),
        cmocka_unit_test(test_workload_defaults), cmocka_unit_test(test_other_defaults),
        cmocka_unit_test(test_prepare_create),    cmocka_unit_test(test_prepare_update),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
