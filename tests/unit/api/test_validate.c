/*
 * test_validate.c - validation rules with the exact messages a Kubernetes
 * 1.32 API server gives (ObjectMeta, Pod, Service, the apps kinds,
 * ConfigMap/Secret, Namespace, Node, Lease, Event, Endpoints,
 * EndpointSlice, Scale, Binding), on create and on update.
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

#define META "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"}"
#define CTR "{\"name\":\"app\",\"image\":\"nginx:1.25\"}"
#define POD(spec) "{" META ",\"spec\":" spec "}"

static char last_msg[16384];

/* Defaults (as the API server does before validating) and validates obj
 * against old; returns the aggregate message ("" when valid). */
static const char *check(const char *kind, const char *json, const char *old_json)
{
    cJSON *o = cJSON_Parse(json);
    assert_non_null(o);
    cJSON *old = NULL;
    if (old_json) {
        old = cJSON_Parse(old_json);
        assert_non_null(old);
        api_default(kind, old);
    }
    assert_int_equal(api_default(kind, o), 0);
    const api_resource_t *r = api_resource_by_kind(NULL, kind);
    if (r && old)
        assert_int_equal(api_prepare_update(r, o, old, false), 0);
    else if (r)
        assert_int_equal(api_prepare_create(r, o), 0);
    api_errors_t e = API_ERRORS_INIT;
    int n = api_validate(kind, o, old, &e);
    assert_int_equal(n, (int)e.n);
    char *m = api_errors_message(&e);
    snprintf(last_msg, sizeof last_msg, "%s", m ? m : "");
    free(m);
    api_errors_free(&e);
    cJSON_Delete(o);
    cJSON_Delete(old);
    return last_msg;
}

#define EXPECT(kind, json, old, msg) assert_string_equal(check(kind, json, old), msg)

#define SUBDOMAIN_MSG                                                                              \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define LABEL_MSG                                                                                  \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "   \
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "     \
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define QNAME_MSG                                                                                  \
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "  \
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for " \
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

/* --------------------------------------------------------------- ObjectMeta */

static void test_meta_names(void **state)
{
    (void)state;
    EXPECT("Pod", POD("{\"containers\":[" CTR "]}"), NULL, "");
    EXPECT("Pod", "{\"metadata\":{\"namespace\":\"default\"},\"spec\":{\"containers\":[" CTR "]}}",
           NULL, "metadata.name: Required value: name or generateName is required");
    EXPECT("Pod", "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"containers\":[" CTR "]}}", NULL,
           "metadata.namespace: Required value");
    EXPECT("Pod",
           "{\"metadata\":{\"name\":\"Web_1\",\"namespace\":\"default\"},\"spec\":{\"containers\":"
           "[" CTR "]}}",
           NULL, "metadata.name: Invalid value: \"Web_1\": " SUBDOMAIN_MSG);
    /* A generateName may end in '-'. */
    EXPECT("ConfigMap",
           "{\"metadata\":{\"name\":\"cm-x1\",\"generateName\":\"cm-\",\"namespace\":\"d\"}}", NULL,
           "");
    EXPECT("Namespace", "{\"metadata\":{\"name\":\"my.ns\"}}", NULL,
           "metadata.name: Invalid value: \"my.ns\": must not contain dots");
    EXPECT("Namespace", "{\"metadata\":{\"name\":\"Team\"}}", NULL,
           "metadata.name: Invalid value: \"Team\": " LABEL_MSG);
    EXPECT("Node", "{\"metadata\":{\"name\":\"n1\",\"namespace\":\"default\"}}", NULL,
           "metadata.namespace: Forbidden: not allowed on this type");
    EXPECT("Service",
           "{\"metadata\":{\"name\":\"1svc\",\"namespace\":\"default\"},\"spec\":{\"ports\":[{"
           "\"port\":80}]}}",
           NULL,
           "metadata.name: Invalid value: \"1svc\": a DNS-1035 label must consist of lower case "
           "alphanumeric characters or '-', start with an alphabetic character, and end with an "
           "alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
           "'[a-z]([-a-z0-9]*[a-z0-9])?')");
    char long_name[300];
    memset(long_name, 'a', 254);
    long_name[254] = '\0';
    char json[512], want[512];
    snprintf(json, sizeof json, "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"d\"}}", long_name);
    snprintf(want, sizeof want,
             "metadata.name: Invalid value: \"%s\": must be no more than 253 characters",
             long_name);
    EXPECT("ConfigMap", json, NULL, want);
}

static void test_meta_labels_annotations(void **state)
{
    (void)state;
    EXPECT("ConfigMap",
           "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\",\"labels\":{\"-bad\":\"x\"}}}", NULL,
           "metadata.labels: Invalid value: \"-bad\": " QNAME_MSG);
    EXPECT(
        "ConfigMap",
        "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\",\"labels\":{\"Example.com/x\":\"v\"}}}",
        NULL, "metadata.labels: Invalid value: \"Example.com/x\": prefix part " SUBDOMAIN_MSG);
    EXPECT("ConfigMap",
           "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\",\"labels\":{\"a/b/c\":\"v\"}}}", NULL,
           "metadata.labels: Invalid value: \"a/b/c\": a qualified name must consist of "
           "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
           "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
           "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and "
           "'/' (e.g. 'example.com/MyName')");
    EXPECT("ConfigMap",
           "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\",\"labels\":{\"app\":\"a b\"}}}", NULL,
           "metadata.labels: Invalid value: \"a b\": a valid label must be an empty string or "
           "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
           "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
           "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
    EXPECT(
        "ConfigMap",
        "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\",\"labels\":{\"example.com/app\":\"\","
        "\"app.kubernetes.io/name\":\"web-1.2_x\"},\"annotations\":{\"Example.COM/Note\":\"x\"}}}",
        NULL, "");
    /* 256 KiB of annotations at most. */
    size_t big = 262144;
    char *json = malloc(big + 200);
    assert_non_null(json);
    int n = sprintf(json,
                    "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\",\"annotations\":{\"a\":\"");
    memset(json + n, 'x', big);
    strcpy(json + n + big, "\"}}}");
    EXPECT("ConfigMap", json, NULL,
           "metadata.annotations: Too long: must have at most 262144 bytes");
    free(json);
    EXPECT("ConfigMap",
           "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\",\"ownerReferences\":[{\"apiVersion\":"
           "\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"\",\"uid\":\"u\"}]}}",
           NULL, "metadata.ownerReferences.name: Invalid value: \"\": name must not be empty");
}

static void test_meta_update(void **state)
{
    (void)state;
    EXPECT("ConfigMap", "{\"metadata\":{\"name\":\"b\",\"namespace\":\"d\"}}",
           "{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\"}}",
           "metadata.name: Invalid value: \"b\": field is immutable");
    EXPECT("ConfigMap", "{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\",\"uid\":\"2\"}}",
           "{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\",\"uid\":\"1\"}}",
           "metadata.uid: Invalid value: \"2\": field is immutable");
    EXPECT("ConfigMap",
           "{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\",\"finalizers\":[\"x/y\"]}}",
           "{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\",\"deletionTimestamp\":"
           "\"2024-01-01T00:00:00Z\"}}",
           "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being "
           "deleted, found new finalizers []string{\"x/y\"}");
}

/* ---------------------------------------------------------------------- Pod */

static void test_pod_containers(void **state)
{
    (void)state;
    EXPECT("Pod", POD("{}"), NULL, "spec.containers: Required value");
    EXPECT("Pod", POD("{\"containers\":[{\"name\":\"app\"}]}"), NULL,
           "spec.containers[0].image: Required value");
    EXPECT("Pod", POD("{\"containers\":[" CTR "," CTR "]}"), NULL,
           "spec.containers[1].name: Duplicate value: \"app\"");
    EXPECT("Pod", POD("{\"containers\":[{\"image\":\"x\"}]}"), NULL,
           "spec.containers[0].name: Required value");
    EXPECT("Pod", POD("{\"containers\":[{\"name\":\"App_1\",\"image\":\"x\"}]}"), NULL,
           "spec.containers[0].name: Invalid value: \"App_1\": " LABEL_MSG);
    EXPECT("Pod", POD("{\"initContainers\":[" CTR "],\"containers\":[" CTR "]}"), NULL,
           "spec.initContainers[0].name: Duplicate value: \"app\"");
    EXPECT("Pod", POD("{\"containers\":[" CTR "],\"restartPolicy\":\"Sometimes\"}"), NULL,
           "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
           "\"OnFailure\", \"Never\"");
    EXPECT("Pod",
           POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"imagePullPolicy\":\"Sometimes\"}"
               "]}"),
           NULL,
           "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported "
           "values: \"Always\", \"IfNotPresent\", \"Never\"");
    EXPECT("Pod", POD("{\"containers\":[" CTR "],\"dnsPolicy\":\"Google\"}"), NULL,
           "spec.dnsPolicy: Unsupported value: \"Google\": supported values: "
           "\"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"");
    EXPECT("Pod", POD("{\"containers\":[" CTR "],\"activeDeadlineSeconds\":0}"), NULL,
           "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, "
           "inclusive");
}

static void test_pod_ports(void **state)
{
    (void)state;
    EXPECT("Pod",
           POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":[{\"containerPort\":"
               "70000}]}]}"),
           NULL,
           "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and "
           "65535, inclusive");
    EXPECT(
        "Pod",
        POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":[{\"name\":\"http\"}]}]}"),
        NULL, "spec.containers[0].ports[0].containerPort: Required value");
    EXPECT("Pod",
           POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":[{\"containerPort\":53,"
               "\"protocol\":\"ICMP\"}]}]}"),
           NULL,
           "spec.containers[0].ports[0].protocol: Unsupported value: \"ICMP\": supported values: "
           "\"SCTP\", \"TCP\", \"UDP\"");
    EXPECT("Pod",
           POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":[{\"containerPort\":80,"
               "\"name\":\"web\"},{\"containerPort\":81,\"name\":\"web\"}]}]}"),
           NULL, "spec.containers[0].ports[1].name: Duplicate value: \"web\"");
    EXPECT("Pod",
           POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":[{\"containerPort\":80,"
               "\"name\":\"8080\"}]}]}"),
           NULL,
           "spec.containers[0].ports[0].name: Invalid value: \"8080\": must contain at least one "
           "letter (a-z)");
    EXPECT("Pod",
           POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":[{\"containerPort\":80,"
               "\"hostPort\":8080}]},{\"name\":\"b\",\"image\":\"x\",\"ports\":[{\"containerPort\":"
               "81,\"hostPort\":8080}]}]}"),
           NULL, "spec.containers[1].ports[0].hostPort: Duplicate value: \"8080/TCP\"");
}

#define RES_POD(res)                                                                               \
    POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"resources\":" res "}]}")

static void test_pod_resources(void **state)
{
    (void)state;
    EXPECT("Pod", RES_POD("{\"requests\":{\"cpu\":\"2\"},\"limits\":{\"cpu\":\"1\"}}"), NULL,
           "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or "
           "equal to cpu limit of 1");
    EXPECT("Pod",
           RES_POD("{\"requests\":{\"cpu\":\"1500m\",\"memory\":\"1Gi\"},\"limits\":{\"cpu\":"
                   "\"1\",\"memory\":\"2Gi\"}}"),
           NULL,
           "spec.containers[0].resources.requests: Invalid value: \"1500m\": must be less than or "
           "equal to cpu limit of 1");
    EXPECT("Pod",
           RES_POD("{\"requests\":{\"cpu\":\"1000m\",\"memory\":\"64Mi\"},\"limits\":{\"cpu\":"
                   "1,\"memory\":\"128Mi\"}}"),
           NULL, "");
    EXPECT("Pod", RES_POD("{\"limits\":{\"cpu\":\"-1\"}}"), NULL,
           "[spec.containers[0].resources.limits[cpu]: Invalid value: \"-1\": must be greater than "
           "or equal to 0, spec.containers[0].resources.requests[cpu]: Invalid value: \"-1\": must "
           "be greater than or equal to 0]");
    EXPECT("Pod", RES_POD("{\"requests\":{\"example.com/gpu\":\"1\"}}"), NULL,
           "spec.containers[0].resources.limits: Required value: Limit must be set for non "
           "overcommitable resources");
    EXPECT("Pod", RES_POD("{\"requests\":{\"gpu\":\"1\"}}"), NULL,
           "spec.containers[0].resources.requests[gpu]: Invalid value: \"gpu\": must be a standard "
           "resource for containers");
    const char *m = check("Pod", RES_POD("{\"requests\":{\"memory\":\"lots\"}}"), NULL);
    assert_non_null(strstr(m, "spec.containers[0].resources.requests[memory]: Invalid value: "
                              "\"lots\": quantities must match the regular expression"));
}

static void test_pod_env_and_volumes(void **state)
{
    (void)state;
    EXPECT("Pod",
           POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"env\":[{\"name\":\"A=B\"}]}]}"),
           NULL,
           "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable "
           "name must consist only of printable ASCII characters other than '='");
    EXPECT("Pod",
           POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"env\":[{\"value\":\"v\"}]}]}"),
           NULL,
           "[spec.containers[0].env[0].name: Required value, spec.containers[0].env[0].name: "
           "Invalid value: \"\": environment variable name must be non-empty]");
    EXPECT("Pod",
           POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"env\":[{\"name\":\"my.env-1\","
               "\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cm\"}}}]}]}"),
           NULL, "spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Required value");
    EXPECT("Pod",
           POD("{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"volumeMounts\":[{\"name\":"
               "\"data\",\"mountPath\":\"/data\"}]}]}"),
           NULL, "spec.containers[0].volumeMounts[0].name: Not found: \"data\"");
    EXPECT(
        "Pod",
        POD("{\"volumes\":[{\"name\":\"data\",\"emptyDir\":{}}],\"containers\":[{\"name\":\"a\","
            "\"image\":\"x\",\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/data\"},{"
            "\"name\":\"data\",\"mountPath\":\"/data\"}]}]}"),
        NULL,
        "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/data\": must be unique");
    EXPECT("Pod",
           POD("{\"volumes\":[{\"name\":\"data\",\"emptyDir\":{}},{\"name\":\"data\",\"emptyDir\":{"
               "}}],\"containers\":[" CTR "]}"),
           NULL, "spec.volumes[1].name: Duplicate value: \"data\"");
    EXPECT("Pod",
           POD("{\"volumes\":[{\"name\":\"cfg\",\"configMap\":{}}],\"containers\":[" CTR "]}"),
           NULL, "spec.volumes[0].configMap.name: Required value");
    EXPECT("Pod",
           POD("{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{},\"hostPath\":{\"path\":\"/x\"}}],"
               "\"containers\":[" CTR "]}"),
           NULL, "spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type");
}

static void test_pod_tolerations(void **state)
{
    (void)state;
    EXPECT("Pod",
           POD("{\"containers\":[" CTR
               "],\"tolerations\":[{\"key\":\"k\",\"effect\":\"Sometimes\"}]}"),
           NULL,
           "spec.tolerations[0].effect: Unsupported value: \"Sometimes\": supported values: "
           "\"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"");
    EXPECT("Pod",
           POD("{\"containers\":[" CTR
               "],\"tolerations\":[{\"operator\":\"Equal\",\"value\":\"v\"}]}"),
           NULL,
           "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when "
           "`key` is empty, which means \"match all values and all keys\"");
}

static void test_pod_update(void **state)
{
    (void)state;
    const char *old = POD("{\"containers\":[" CTR "],\"activeDeadlineSeconds\":100}");
    EXPECT("Pod",
           POD("{\"containers\":[{\"name\":\"app\",\"image\":\"nginx:1.26\"}],"
               "\"activeDeadlineSeconds\":50}"),
           old, "");
    EXPECT("Pod", POD("{\"containers\":[" CTR "],\"activeDeadlineSeconds\":200}"), old,
           "spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous "
           "value");
    EXPECT("Pod",
           POD("{\"containers\":[" CTR
               ",{\"name\":\"b\",\"image\":\"x\"}],\"activeDeadlineSeconds\":100}"),
           old, "spec.containers: Forbidden: pod updates may not add or remove containers");
    const char *m = check("Pod",
                          POD("{\"containers\":[" CTR "],\"activeDeadlineSeconds\":100,"
                              "\"restartPolicy\":\"Never\"}"),
                          old);
    const char *want = "spec: Forbidden: pod updates may not change fields other than "
                       "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                       "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
                       "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
                       "set to 1 if it was previously negative)\n";
    assert_memory_equal(m, want, strlen(want));
    assert_non_null(strstr(m, "restartPolicy"));
    /* Tolerations may be added, not removed. */
    const char *told = POD("{\"containers\":[" CTR "],\"tolerations\":[{\"key\":\"a\",\"operator\":"
                           "\"Exists\"}]}");
    EXPECT("Pod",
           POD("{\"containers\":[" CTR "],\"tolerations\":[{\"key\":\"a\",\"operator\":"
               "\"Exists\"},{\"key\":\"b\",\"operator\":\"Exists\"}]}"),
           told, "");
    EXPECT("Pod", POD("{\"containers\":[" CTR "],\"tolerations\":[]}"), told,
           "spec.tolerations: Forbidden: existing toleration can not be modified except its "
           "tolerationSeconds");
}

/* ------------------------------------------------------------------ Service */

#define SVC(spec) "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":" spec "}"

static void test_service(void **state)
{
    (void)state;
    EXPECT("Service", SVC("{\"selector\":{\"app\":\"web\"},\"ports\":[{\"port\":80}]}"), NULL, "");
    EXPECT("Service", SVC("{}"), NULL, "spec.ports: Required value");
    EXPECT("Service", SVC("{\"clusterIP\":\"None\"}"), NULL, "");
    EXPECT("Service", SVC("{\"type\":\"ExternalName\",\"externalName\":\"db.example.com.\"}"), NULL,
           "");
    /* targetPort defaults to port, and is checked too. */
    EXPECT("Service", SVC("{\"ports\":[{\"port\":0}]}"), NULL,
           "[spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive, "
           "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive]");
    EXPECT("Service", SVC("{\"ports\":[{\"port\":80},{\"port\":443}]}"), NULL,
           "[spec.ports[0].name: Required value, spec.ports[1].name: Required value]");
    EXPECT("Service",
           SVC("{\"ports\":[{\"port\":80,\"name\":\"http\"},{\"port\":443,\"name\":\"http\"}]}"),
           NULL, "spec.ports[1].name: Duplicate value: \"http\"");
    EXPECT("Service",
           SVC("{\"ports\":[{\"port\":80,\"name\":\"a\"},{\"port\":80,\"name\":\"b\"}]}"), NULL,
           "spec.ports[1]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", "
           "AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, "
           "StrVal:\"\"}, NodePort:0}");
    EXPECT("Service", SVC("{\"type\":\"Magic\",\"ports\":[{\"port\":80}]}"), NULL,
           "spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", "
           "\"ExternalName\", \"LoadBalancer\", \"NodePort\"");
    EXPECT("Service", SVC("{\"ports\":[{\"port\":80,\"nodePort\":30080}]}"), NULL,
           "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'");
    EXPECT("Service", SVC("{\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":80}]}"),
           NULL,
           "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. "
           "The range of valid ports is 30000-32767");
    EXPECT("Service",
           SVC("{\"type\":\"NodePort\",\"clusterIP\":\"None\",\"ports\":[{\"port\":80}]}"), NULL,
           "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort "
           "services");
    EXPECT("Service", SVC("{\"ports\":[{\"port\":80,\"targetPort\":\"my_port\"}]}"), NULL,
           "spec.ports[0].targetPort: Invalid value: \"my_port\": must contain only alpha-numeric "
           "characters (a-z, 0-9), and hyphens (-)");
    EXPECT("Service", SVC("{\"sessionAffinity\":\"Sticky\",\"ports\":[{\"port\":80}]}"), NULL,
           "spec.sessionAffinity: Unsupported value: \"Sticky\": supported values: \"ClientIP\", "
           "\"None\"");
    EXPECT("Service", SVC("{\"clusterIP\":\"10.43.0.300\",\"ports\":[{\"port\":80}]}"), NULL,
           "[spec.clusterIPs[0]: Invalid value: \"10.43.0.300\": must be a valid IP address, (e.g. "
           "10.9.8.7 or 2001:db8::ffff), spec.clusterIP: Invalid value: \"10.43.0.300\": must be a "
           "valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)]");
}

static void test_service_update(void **state)
{
    (void)state;
    const char *old = SVC("{\"clusterIP\":\"10.43.0.10\",\"clusterIPs\":[\"10.43.0.10\"],\"ports\":"
                          "[{\"port\":80}]}");
    /* An update that leaves the allocated address out keeps it. */
    EXPECT("Service", SVC("{\"ports\":[{\"port\":8080}]}"), old, "");
    /* kubectl apply merges the stored clusterIPs with a new clusterIP. */
    EXPECT("Service",
           SVC("{\"clusterIP\":\"10.43.0.20\",\"clusterIPs\":[\"10.43.0.10\"],\"ports\":[{\"port\":"
               "80}]}"),
           old,
           "spec.clusterIPs[0]: Invalid value: []string{\"10.43.0.20\"}: may not change once set");
    /* NodePorts stay allocated too. */
    const char *np_old = SVC("{\"type\":\"NodePort\",\"clusterIP\":\"10.43.0.10\",\"ports\":[{"
                             "\"port\":80,\"nodePort\":30080}]}");
    cJSON *o = cJSON_Parse(SVC("{\"type\":\"NodePort\",\"ports\":[{\"port\":80}]}"));
    cJSON *old_o = cJSON_Parse(np_old);
    api_default("Service", o);
    api_prepare_update(api_resource_lookup("", "v1", "services"), o, old_o, false);
    const cJSON *port =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "spec"), "ports"), 0);
    assert_int_equal(cJSON_GetObjectItem(port, "nodePort")->valueint, 30080);
    cJSON_Delete(o);
    cJSON_Delete(old_o);
}

/* ------------------------------------------------------------- apps kinds */

#define TMPL(labels)                                                                               \
    "\"template\":{\"metadata\":{\"labels\":" labels "},\"spec\":{\"containers\":[" CTR "]}}"
#define DEP(spec) "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":" spec "}"

static void test_deployment(void **state)
{
    (void)state;
    EXPECT("Deployment",
           DEP("{\"selector\":{\"matchLabels\":{\"app\":\"web\"}}," TMPL("{\"app\":\"web\"}") "}"),
           NULL, "");
    EXPECT("Deployment",
           DEP("{\"selector\":{\"matchLabels\":{\"app\":\"api\"}}," TMPL("{\"app\":\"web\"}") "}"),
           NULL,
           "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: "
           "`selector` does not match template `labels`");
    EXPECT("Deployment", DEP("{" TMPL("{\"app\":\"web\"}") "}"), NULL,
           "spec.selector: Required value");
    EXPECT("Deployment",
           DEP("{\"replicas\":-1,\"selector\":{\"matchLabels\":{\"app\":\"web\"}}," TMPL(
               "{\"app\":\"web\"}") "}"),
           NULL, "spec.replicas: Invalid value: -1: must be greater than or equal to 0");
    EXPECT("Deployment", DEP("{\"selector\":{}," TMPL("{\"app\":\"web\"}") "}"), NULL,
           "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
           "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for "
           "deployment");
    EXPECT("Deployment",
           DEP("{\"selector\":{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\"}]}," TMPL(
               "{\"app\":\"web\"}") "}"),
           NULL,
           "[spec.selector.matchExpressions[0].values: Required value: must be specified when "
           "`operator` is 'In' or 'NotIn', spec.selector: Invalid value: v1.LabelSelector{"
           "MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{"
           "v1.LabelSelectorRequirement{Key:\"app\", Operator:\"In\", Values:[]string(nil)}}}: "
           "invalid label selector]");
    EXPECT("Deployment",
           DEP("{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{"
               "\"labels\":{\"app\":\"web\"}},\"spec\":{\"restartPolicy\":\"Never\",\"containers\":"
               "[" CTR "]}}}"),
           NULL,
           "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: "
           "\"Always\"");
    EXPECT("Deployment",
           DEP("{\"strategy\":{\"type\":\"Canary\"},\"selector\":{\"matchLabels\":{\"app\":\"web\"}"
               "}," TMPL("{\"app\":\"web\"}") "}"),
           NULL,
           "spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:\"Canary\", "
           "RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: \"Recreate\", "
           "\"RollingUpdate\"");
    EXPECT(
        "Deployment",
        DEP("{\"strategy\":{\"rollingUpdate\":{\"maxUnavailable\":0,\"maxSurge\":0}},\"selector\""
            ":{\"matchLabels\":{\"app\":\"web\"}}," TMPL("{\"app\":\"web\"}") "}"),
        NULL,
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when "
        "`maxSurge` is 0");
    EXPECT("Deployment",
           DEP("{\"strategy\":{\"rollingUpdate\":{\"maxUnavailable\":\"150%\"}},\"selector\":{"
               "\"matchLabels\":{\"app\":\"web\"}}," TMPL("{\"app\":\"web\"}") "}"),
           NULL,
           "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 150%: must not be greater "
           "than 100%");
    EXPECT("Deployment",
           DEP("{\"strategy\":{\"rollingUpdate\":{\"maxSurge\":\"lots\"}},\"selector\":{"
               "\"matchLabels\":{\"app\":\"web\"}}," TMPL("{\"app\":\"web\"}") "}"),
           NULL,
           "spec.strategy.rollingUpdate.maxSurge: Invalid value: lots: a valid percent string must "
           "be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for "
           "validation is '[0-9]+%')");
    EXPECT("Deployment",
           DEP("{\"strategy\":{\"type\":\"Recreate\",\"rollingUpdate\":{}},\"selector\":{"
               "\"matchLabels\":{\"app\":\"web\"}}," TMPL("{\"app\":\"web\"}") "}"),
           NULL,
           "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is "
           "'Recreate'");
}

static void test_deployment_update(void **state)
{
    (void)state;
    const char *old =
        DEP("{\"selector\":{\"matchLabels\":{\"app\":\"web\"}}," TMPL("{\"app\":\"web\"}") "}");
    EXPECT("Deployment",
           DEP("{\"replicas\":3,\"selector\":{\"matchLabels\":{\"app\":\"web\"}}," TMPL(
               "{\"app\":\"web\"}") "}"),
           old, "");
    EXPECT(
        "Deployment",
        DEP("{\"selector\":{\"matchLabels\":{\"app\":\"web2\"}}," TMPL("{\"app\":\"web2\"}") "}"),
        old,
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":"
        "\"web2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable");
}

static void test_replicaset_rc_daemonset(void **state)
{
    (void)state;
    EXPECT("ReplicaSet",
           DEP("{\"selector\":{\"matchLabels\":{\"app\":\"web\"}}," TMPL("{\"app\":\"web\"}") "}"),
           NULL, "");
    EXPECT("ReplicaSet",
           DEP("{\"selector\":{\"matchLabels\":{\"app\":\"x\"}}," TMPL("{\"app\":\"web\"}") "}"),
           NULL,
           "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: "
           "`selector` does not match template `labels`");
    /* An RC's selector defaults to its template's labels. */
    EXPECT("ReplicationController", DEP("{" TMPL("{\"app\":\"web\"}") "}"), NULL, "");
    EXPECT("ReplicationController",
           DEP("{\"selector\":{\"app\":\"x\"}," TMPL("{\"app\":\"web\"}") "}"), NULL,
           "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: "
           "`selector` does not match template `labels`");
    EXPECT("ReplicationController",
           DEP("{\"selector\":{\"app\":\"web\"},\"template\":{\"metadata\":{\"labels\":{\"app\":"
               "\"web\"}},\"spec\":{\"activeDeadlineSeconds\":5,\"containers\":[" CTR "]}}}"),
           NULL,
           "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in "
           "ReplicationController is not Supported");
    EXPECT("DaemonSet",
           DEP("{\"selector\":{\"matchLabels\":{\"app\":\"web\"}}," TMPL("{\"app\":\"web\"}") "}"),
           NULL, "");
    EXPECT("DaemonSet",
           DEP("{\"updateStrategy\":{\"rollingUpdate\":{\"maxUnavailable\":1,\"maxSurge\":1}},"
               "\"selector\":{\"matchLabels\":{\"app\":\"web\"}}," TMPL("{\"app\":\"web\"}") "}"),
           NULL,
           "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when "
           "maxUnavailable is non-zero");
    EXPECT("DaemonSet",
           DEP("{\"selector\":{\"matchLabels\":{\"app\":\"x\"}}," TMPL("{\"app\":\"web\"}") "}"),
           NULL,
           "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: "
           "`selector` does not match template `labels`");
    EXPECT("Scale",
           "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"replicas\":-1}}",
           NULL, "spec.replicas: Invalid value: -1: must be greater than or equal to 0");
}

/* ------------------------------------------------------------- small kinds */

#define CM(body) "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\"}," body "}"

static void test_configmap_secret(void **state)
{
    (void)state;
    EXPECT("ConfigMap", CM("\"data\":{\"game.properties\":\"x\",\"KEY_1\":\"y\"}"), NULL, "");
    EXPECT("ConfigMap", CM("\"data\":{\"bad key\":\"x\"}"), NULL,
           "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of "
           "alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
           "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
    EXPECT("ConfigMap", CM("\"data\":{\"..\":\"x\"}"), NULL,
           "data[..]: Invalid value: \"..\": must not be '..'");
    EXPECT("ConfigMap", CM("\"data\":{\"k\":\"x\"},\"binaryData\":{\"k\":\"eA==\"}"), NULL,
           "[data[k]: Invalid value: \"k\": duplicate of key present in binaryData, binaryData[k]: "
           "Invalid value: \"k\": duplicate of key present in data]");
    EXPECT("ConfigMap", CM("\"data\":{\"k\":\"y\"}"),
           CM("\"immutable\":true,\"data\":{\"k\":\"x\"}"),
           "[immutable: Forbidden: field is immutable when `immutable` is set, data: Forbidden: "
           "field is immutable when `immutable` is set]");
    EXPECT("Secret", CM("\"type\":\"kubernetes.io/tls\",\"data\":{\"tls.crt\":\"eA==\"}"), NULL,
           "data[tls.key]: Required value");
    EXPECT("Secret", CM("\"data\":{\"k\":\"eA==\"}"),
           CM("\"type\":\"kubernetes.io/tls\",\"data\":{\"k\":\"eA==\"}"),
           "type: Invalid value: \"Opaque\": field is immutable");
    EXPECT("Secret", CM("\"stringData\":{\"password\":\"s3cret\"}"), NULL, "");
}

static void test_namespace_node_lease(void **state)
{
    (void)state;
    EXPECT("Namespace", "{\"metadata\":{\"name\":\"team\"},\"spec\":{\"finalizers\":[\"foo\"]}}",
           NULL,
           "spec.finalizers: Invalid value: \"foo\": name is neither a standard finalizer name nor "
           "is it fully qualified");
    EXPECT("Namespace", "{\"metadata\":{\"name\":\"team\"}}", NULL, "");
    EXPECT("Node",
           "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"taints\":[{\"key\":\"k\",\"effect\":"
           "\"Never\"}]}}",
           NULL,
           "spec.taints[0].effect: Unsupported value: \"Never\": supported values: \"NoSchedule\", "
           "\"PreferNoSchedule\", \"NoExecute\"");
    EXPECT("Node", "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"podCIDRs\":[\"10.42.1.0/33\"]}}",
           NULL,
           "spec.podCIDRs[0]: Invalid value: \"10.42.1.0/33\": must be a valid CIDR value, (e.g. "
           "10.9.8.0/24 or 2001:db8::/64)");
    EXPECT(
        "Node",
        "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"podCIDR\":\"10.42.2.0/"
        "24\",\"podCIDRs\":[\"10.42.2.0/24\"]}}",
        "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"podCIDR\":\"10.42.1.0/"
        "24\",\"podCIDRs\":[\"10.42.1.0/24\"]}}",
        "spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid");
    EXPECT("Node", "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"podCIDRs\":[\"10.42.1.0/24\"]}}",
           "{\"metadata\":{\"name\":\"n1\"},\"spec\":{}}", "");
    EXPECT("Lease",
           "{\"metadata\":{\"name\":\"n1\",\"namespace\":\"kube-node-lease\"},\"spec\":{"
           "\"leaseDurationSeconds\":0}}",
           NULL, "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0");
    EXPECT("ServiceAccount", "{\"metadata\":{\"name\":\"default\",\"namespace\":\"d\"}}", NULL, "");
}

static void test_event_endpoints_slices(void **state)
{
    (void)state;
    EXPECT("Event",
           "{\"metadata\":{\"name\":\"web.1\",\"namespace\":\"default\"},\"involvedObject\":{"
           "\"kind\":\"Pod\",\"name\":\"web\",\"namespace\":\"other\"},\"reason\":\"Started\"}",
           NULL,
           "involvedObject.namespace: Invalid value: \"other\": does not match event.namespace");
    EXPECT("Event",
           "{\"metadata\":{\"name\":\"n1.1\",\"namespace\":\"default\"},\"involvedObject\":{"
           "\"kind\":\"Node\",\"name\":\"n1\"},\"reason\":\"Ready\"}",
           NULL, "");
    EXPECT("Endpoints",
           "{\"metadata\":{\"name\":\"web\",\"namespace\":\"d\"},\"subsets\":[{\"addresses\":[{"
           "\"ip\":\"10.42.1.5\"}],\"ports\":[{\"port\":80}]}]}",
           NULL, "");
    EXPECT("Endpoints",
           "{\"metadata\":{\"name\":\"web\",\"namespace\":\"d\"},\"subsets\":[{\"addresses\":[{"
           "\"ip\":\"127.0.0.1\"}],\"ports\":[{\"port\":80},{\"port\":81,\"name\":\"b\"}]}]}",
           NULL,
           "[subsets[0].addresses[0].ip: Invalid value: \"127.0.0.1\": may not be in the loopback "
           "range (127.0.0.0/8, ::1/128), subsets[0].ports[0].name: Required value]");
    EXPECT("Endpoints",
           "{\"metadata\":{\"name\":\"web\",\"namespace\":\"d\"},\"subsets\":[{\"ports\":[{"
           "\"port\":80}]}]}",
           NULL, "subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`");
    EXPECT("EndpointSlice",
           "{\"metadata\":{\"name\":\"web-abc\",\"namespace\":\"d\"},\"addressType\":\"IPv4\","
           "\"endpoints\":[{\"addresses\":[\"10.42.1.5\"]}],\"ports\":[{\"port\":80}]}",
           NULL, "");
    EXPECT("EndpointSlice",
           "{\"metadata\":{\"name\":\"web-abc\",\"namespace\":\"d\"},\"addressType\":\"IPX\","
           "\"endpoints\":[{\"addresses\":[]}]}",
           NULL,
           "[addressType: Unsupported value: \"IPX\": supported values: \"FQDN\", \"IPv4\", "
           "\"IPv6\", endpoints[0].addresses: Required value: must contain at least 1 address]");
    EXPECT("Binding",
           "{\"metadata\":{\"name\":\"web\",\"namespace\":\"d\"},\"target\":{\"kind\":\"Node\"}}",
           NULL, "target.name: Required value");
}

static void test_status_update_and_name_helpers(void **state)
{
    (void)state;
    cJSON *o = cJSON_Parse(DEP("{\"replicas\":1},\"status\":{\"readyReplicas\":-1}"));
    api_errors_t e = API_ERRORS_INIT;
    assert_non_null(o);
    /* DEP() closes the object early; status sits beside spec. */
    assert_int_equal(api_validate_status("Deployment", o, o, &e), 1);
    char *m = api_errors_message(&e);
    assert_string_equal(
        m, "status.readyReplicas: Invalid value: -1: must be greater than or equal to 0");
    free(m);
    api_errors_free(&e);
    cJSON_Delete(o);

    assert_true(api_is_dns1123_label("web-1"));
    assert_false(api_is_dns1123_label("web.1"));
    assert_true(api_is_dns1123_subdomain("web.example.com"));
    assert_false(api_is_dns1123_subdomain("-web"));
    assert_true(api_is_dns1035_label("svc-1"));
    assert_false(api_is_dns1035_label("1svc"));
    assert_true(api_is_qualified_name("node-role.kubernetes.io/control-plane"));
    assert_false(api_is_qualified_name("a//b"));
    assert_true(api_is_label_value(""));
    assert_false(api_is_label_value("-x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meta_names),
        cmocka_unit_test(test_meta_labels_annotations),
        cmocka_unit_test(test_meta_update),
        cmocka_unit_test(test_pod_containers),
        cmocka_unit_test(test_pod_ports),
        cmocka_unit_test(test_pod_resources),
        cmocka_unit_test(test_pod_env_and_volumes),
        cmocka_unit_test(test_pod_tolerations),
        cmocka_unit_test(test_pod_update),
        cmocka_unit_test(test_service),
        cmocka_unit_test(test_service_update),
        cmocka_unit_test(test_deployment),
        cmocka_unit_test(test_deployment_update),
        cmocka_unit_test(test_replicaset_rc_daemonset),
        cmocka_unit_test(test_configmap_secret),
        cmocka_unit_test(test_namespace_node_lease),
        cmocka_unit_test(test_event_endpoints_slices),
        cmocka_unit_test(test_status_update_and_name_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
