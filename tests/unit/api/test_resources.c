/*
 * test_resources.c - the resources table, routing, storage keys and
 * discovery documents (as kubectl reads them), ObjectMeta accessors and the
 * metav1.Status builders with Kubernetes' exact messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

static const char *str_at(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool list_has(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (!strcmp(*list, s)) return true;
    return false;
}

/* ------------------------------------------------------------------ lookups */

static void test_lookup_core_and_apps(void **state)
{
    (void)state;
    const api_resource_t *r = api_resource_lookup("", "v1", "pods");
    assert_non_null(r);
    assert_string_equal(r->kind, "Pod");
    assert_string_equal(r->singular, "pod");
    assert_string_equal(r->list_kind, "PodList");
    assert_string_equal(r->group_version, "v1");
    assert_true(r->namespaced);
    assert_true(list_has(r->short_names, "po"));
    assert_true(list_has(r->categories, "all"));
    assert_true(r->subresources & API_SUB_STATUS);
    assert_true(r->subresources & API_SUB_LOG);
    assert_true(r->subresources & API_SUB_BINDING);
    assert_true(r->subresources & API_SUB_EVICTION);
    assert_true(r->has_status);
    assert_false(r->has_generation);

    r = api_resource_lookup("apps", "v1", "deployments");
    assert_non_null(r);
    assert_string_equal(r->group_version, "apps/v1");
    assert_true(r->has_generation);
    assert_true(r->subresources & API_SUB_SCALE);
    assert_null(api_resource_lookup("", "v1", "deployments"));
    assert_null(api_resource_lookup("apps", "v2", "deployments"));

    r = api_resource_lookup("", "v1", "nodes");
    assert_false(r->namespaced);
    assert_false(api_resource_lookup("", "v1", "namespaces")->namespaced);
    assert_false(list_has(api_resource_lookup("", "v1", "namespaces")->verbs, "deletecollection"));
    assert_true(api_resource_allows(r, "deletecollection"));
    assert_false(api_resource_allows(api_resource_lookup("", "v1", "bindings"), "get"));
    assert_true(api_resource_allows(api_resource_lookup("", "v1", "bindings"), "create"));
    assert_non_null(api_resource_lookup("coordination.k8s.io", "v1", "leases"));
    assert_non_null(api_resource_lookup("discovery.k8s.io", "v1", "endpointslices"));
    /* Only workloads and services are in "all". */
    assert_true(list_has(api_resource_lookup("", "v1", "services")->categories, "all"));
    assert_true(list_has(api_resource_lookup("apps", "v1", "daemonsets")->categories, "all"));
    assert_false(list_has(api_resource_lookup("", "v1", "configmaps")->categories, "all"));
}

static void test_lookup_by_kind_and_short_name(void **state)
{
    (void)state;
    assert_string_equal(api_resource_by_kind(NULL, "Deployment")->group, "apps");
    assert_null(api_resource_by_kind("apps", "Pod"));
    assert_string_equal(api_resource_by_gvk("v1", "Service")->resource, "services");
    assert_null(api_resource_by_gvk("apps/v1", "Service"));
    static const char *const pairs[][2] = {
        {"po", "pods"},
        {"svc", "services"},
        {"deploy", "deployments"},
        {"rs", "replicasets"},
        {"rc", "replicationcontrollers"},
        {"ns", "namespaces"},
        {"no", "nodes"},
        {"cm", "configmaps"},
        {"ep", "endpoints"},
        {"ev", "events"},
        {"sa", "serviceaccounts"},
        {"ds", "daemonsets"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const api_resource_t *r = api_resource_by_short_name(pairs[i][0]);
        assert_non_null(r);
        assert_string_equal(r->resource, pairs[i][1]);
    }
    assert_null(api_resource_by_short_name("pods"));
    assert_string_equal(api_resource_find("Deployments")->resource, "deployments");
    assert_string_equal(api_resource_find("deploy.apps")->resource, "deployments");
    assert_string_equal(api_resource_find("pod")->resource, "pods");
    assert_string_equal(api_resource_find("Pod")->resource, "pods");
    assert_string_equal(api_resource_find("lease")->resource, "leases");
    assert_null(api_resource_find("deploy.core"));
    assert_null(api_resource_find("widgets"));
}

static void test_storage_keys(void **state)
{
    (void)state;
    char buf[128];
    const api_resource_t *pods = api_resource_lookup("", "v1", "pods");
    const api_resource_t *nodes = api_resource_lookup("", "v1", "nodes");
    const api_resource_t *dep = api_resource_lookup("apps", "v1", "deployments");
    assert_int_equal(api_storage_key(pods, "default", "web", buf, sizeof buf), 26);
    assert_string_equal(buf, "/registry/pods/default/web");
    api_storage_key(dep, "prod", "api", buf, sizeof buf);
    assert_string_equal(buf, "/registry/deployments/prod/api");
    api_storage_key(nodes, NULL, "n1", buf, sizeof buf);
    assert_string_equal(buf, "/registry/nodes/n1");
    api_storage_key(nodes, "ignored", "n1", buf, sizeof buf);
    assert_string_equal(buf, "/registry/nodes/n1");
    api_storage_key(pods, NULL, NULL, buf, sizeof buf);
    assert_string_equal(buf, "/registry/pods/");
    api_storage_key(pods, "kube-system", NULL, buf, sizeof buf);
    assert_string_equal(buf, "/registry/pods/kube-system/");
    assert_int_equal(api_storage_key(pods, NULL, "web", buf, sizeof buf), -1);
    assert_int_equal(api_storage_key(pods, "default", "web", buf, 10), -1);
}

/* ------------------------------------------------------------------ routing */

static void test_route_parse(void **state)
{
    (void)state;
    api_route_t r;
    assert_int_equal(api_route_parse("/api", &r), API_ROUTE_API);
    assert_int_equal(api_route_parse("/apis", &r), API_ROUTE_APIS);
    assert_int_equal(api_route_parse("/apis/apps", &r), API_ROUTE_GROUP);
    assert_string_equal(r.group, "apps");
    assert_int_equal(api_route_parse("/api/v1", &r), API_ROUTE_RESOURCES);
    assert_string_equal(r.group, "");
    assert_int_equal(api_route_parse("/apis/apps/v1/", &r), API_ROUTE_RESOURCES);
    assert_string_equal(r.version, "v1");

    assert_int_equal(api_route_parse("/api/v1/namespaces/default/pods", &r), API_ROUTE_COLLECTION);
    assert_string_equal(r.res->resource, "pods");
    assert_string_equal(r.ns, "default");
    assert_int_equal(api_route_parse("/api/v1/pods", &r), API_ROUTE_COLLECTION);
    assert_string_equal(r.ns, "");
    assert_int_equal(api_route_parse("/api/v1/namespaces/default/pods/web", &r), API_ROUTE_OBJECT);
    assert_string_equal(r.name, "web");
    assert_int_equal(api_route_parse("/api/v1/namespaces/default/pods/web/log", &r),
                     API_ROUTE_SUBRESOURCE);
    assert_string_equal(r.sub->name, "log");
    assert_int_equal(api_route_parse("/api/v1/namespaces/default/pods/web/eviction", &r),
                     API_ROUTE_SUBRESOURCE);
    assert_string_equal(r.sub->kind, "Eviction");
    assert_int_equal(api_route_parse("/apis/apps/v1/namespaces/ns1/deployments/d1/scale", &r),
                     API_ROUTE_SUBRESOURCE);
    assert_string_equal(r.sub->group, "autoscaling");
    assert_string_equal(r.ns, "ns1");
    assert_string_equal(r.name, "d1");

    /* Namespaces are cluster-scoped: their status is not a resource in them. */
    assert_int_equal(api_route_parse("/api/v1/namespaces", &r), API_ROUTE_COLLECTION);
    assert_string_equal(r.res->resource, "namespaces");
    assert_int_equal(api_route_parse("/api/v1/namespaces/kube-system", &r), API_ROUTE_OBJECT);
    assert_string_equal(r.name, "kube-system");
    assert_int_equal(api_route_parse("/api/v1/namespaces/team/status", &r), API_ROUTE_SUBRESOURCE);
    assert_string_equal(r.res->resource, "namespaces");
    assert_string_equal(r.name, "team");
    assert_int_equal(api_route_parse("/api/v1/namespaces/team/finalize", &r),
                     API_ROUTE_SUBRESOURCE);
    assert_int_equal(api_route_parse("/api/v1/nodes/n1/status", &r), API_ROUTE_SUBRESOURCE);
    assert_string_equal(r.ns, "");

    assert_int_equal(api_route_parse("/api/v1/watch/namespaces/default/pods", &r),
                     API_ROUTE_COLLECTION);
    assert_true(r.watch);

    assert_int_equal(api_route_parse("/api/v1/namespaces/default/nodes", &r), API_ROUTE_NOT_FOUND);
    assert_int_equal(api_route_parse("/api/v1/pods/web", &r), API_ROUTE_NOT_FOUND);
    assert_int_equal(api_route_parse("/api/v1/namespaces/default/pods/web/scale", &r),
                     API_ROUTE_NOT_FOUND);
    assert_int_equal(api_route_parse("/api/v2/pods", &r), API_ROUTE_NOT_FOUND);
    assert_int_equal(api_route_parse("/apis/batch/v1", &r), API_ROUTE_NOT_FOUND);
    assert_int_equal(api_route_parse("/healthz", &r), API_ROUTE_NOT_FOUND);
    assert_null(r.res);
}

static void test_route_verbs(void **state)
{
    (void)state;
    api_route_t r;
    api_route_parse("/api/v1/namespaces/default/pods", &r);
    assert_string_equal(api_route_verb(&r, "GET", false), "list");
    assert_string_equal(api_route_verb(&r, "GET", true), "watch");
    assert_string_equal(api_route_verb(&r, "POST", false), "create");
    assert_string_equal(api_route_verb(&r, "DELETE", false), "deletecollection");
    assert_null(api_route_verb(&r, "PUT", false));
    api_route_parse("/api/v1/namespaces/default/pods/web", &r);
    assert_string_equal(api_route_verb(&r, "GET", false), "get");
    assert_string_equal(api_route_verb(&r, "PUT", false), "update");
    assert_string_equal(api_route_verb(&r, "PATCH", false), "patch");
    assert_string_equal(api_route_verb(&r, "DELETE", false), "delete");
    api_route_parse("/api/v1/namespaces/default/pods/web/binding", &r);
    assert_string_equal(api_route_verb(&r, "POST", false), "create");
    assert_null(api_route_verb(&r, "GET", false));
    api_route_parse("/api/v1/namespaces/default/pods/web/log", &r);
    assert_string_equal(api_route_verb(&r, "GET", false), "get");
    assert_null(api_route_verb(&r, "PUT", false));
    api_route_parse("/apis/apps/v1/namespaces/default/deployments/d/scale", &r);
    assert_string_equal(api_route_verb(&r, "PATCH", false), "patch");
}

/* ---------------------------------------------------------------- discovery */

static const cJSON *find_resource(const cJSON *list, const char *name)
{
    const cJSON *e;
    cJSON_ArrayForEach(
        e, cJSON_GetObjectItem(list, "resources")) if (!strcmp(str_at(e, "name"), name)) return e;
    return NULL;
}

static bool verbs_are(const cJSON *e, const char *const *want)
{
    const cJSON *verbs = cJSON_GetObjectItem(e, "verbs");
    int n = 0;
    for (; want[n]; n++)
        if (!cJSON_IsString(cJSON_GetArrayItem(verbs, n)) ||
            strcmp(cJSON_GetArrayItem(verbs, n)->valuestring, want[n]))
            return false;
    return cJSON_GetArraySize(verbs) == n;
}

static void test_discovery_versions_and_groups(void **state)
{
    (void)state;
    cJSON *v = api_discovery_versions("10.0.0.1:6443");
    assert_string_equal(str_at(v, "kind"), "APIVersions");
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(v, "versions"), 0)->valuestring,
                        "v1");
    const cJSON *cidr = cJSON_GetArrayItem(cJSON_GetObjectItem(v, "serverAddressByClientCIDRs"), 0);
    assert_string_equal(str_at(cidr, "clientCIDR"), "0.0.0.0/0");
    assert_string_equal(str_at(cidr, "serverAddress"), "10.0.0.1:6443");
    cJSON_Delete(v);

    cJSON *g = api_discovery_groups();
    assert_string_equal(str_at(g, "kind"), "APIGroupList");
    assert_string_equal(str_at(g, "apiVersion"), "v1");
    const cJSON *groups = cJSON_GetObjectItem(g, "groups");
    assert_int_equal(cJSON_GetArraySize(groups), 3);
    const cJSON *apps = cJSON_GetArrayItem(groups, 0);
    assert_string_equal(str_at(apps, "name"), "apps");
    assert_string_equal(str_at(cJSON_GetObjectItem(apps, "preferredVersion"), "groupVersion"),
                        "apps/v1");
    assert_string_equal(
        str_at(cJSON_GetArrayItem(cJSON_GetObjectItem(apps, "versions"), 0), "version"), "v1");
    cJSON_Delete(g);

    cJSON *one = api_discovery_group("coordination.k8s.io");
    assert_string_equal(str_at(one, "kind"), "APIGroup");
    assert_string_equal(str_at(one, "name"), "coordination.k8s.io");
    cJSON_Delete(one);
    assert_null(api_discovery_group("batch"));
}

static void test_discovery_core_resources(void **state)
{
    (void)state;
    cJSON *l = api_discovery_resources("", "v1");
    assert_string_equal(str_at(l, "kind"), "APIResourceList");
    assert_string_equal(str_at(l, "groupVersion"), "v1");
    const cJSON *pods = find_resource(l, "pods");
    assert_non_null(pods);
    assert_string_equal(str_at(pods, "singularName"), "pod");
    assert_string_equal(str_at(pods, "kind"), "Pod");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(pods, "namespaced")));
    assert_true(verbs_are(pods, (const char *const[]){"create", "delete", "deletecollection", "get",
                                                      "list", "patch", "update", "watch", NULL}));
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(pods, "shortNames"), 0)->valuestring,
                        "po");
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(pods, "categories"), 0)->valuestring,
                        "all");
    const cJSON *st = find_resource(l, "pods/status");
    assert_string_equal(str_at(st, "singularName"), "");
    assert_string_equal(str_at(st, "kind"), "Pod");
    assert_null(cJSON_GetObjectItem(st, "group"));
    assert_true(verbs_are(st, (const char *const[]){"get", "patch", "update", NULL}));
    const cJSON *log = find_resource(l, "pods/log");
    assert_true(verbs_are(log, (const char *const[]){"get", NULL}));
    const cJSON *ev = find_resource(l, "pods/eviction");
    assert_string_equal(str_at(ev, "group"), "policy");
    assert_string_equal(str_at(ev, "version"), "v1");
    assert_string_equal(str_at(ev, "kind"), "Eviction");
    const cJSON *bind = find_resource(l, "pods/binding");
    assert_string_equal(str_at(bind, "kind"), "Binding");
    assert_true(verbs_are(bind, (const char *const[]){"create", NULL}));
    assert_non_null(find_resource(l, "bindings"));
    const cJSON *rcs = find_resource(l, "replicationcontrollers/scale");
    assert_string_equal(str_at(rcs, "group"), "autoscaling");
    const cJSON *nodes = find_resource(l, "nodes");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(nodes, "namespaced")));
    assert_non_null(find_resource(l, "namespaces/finalize"));
    assert_null(find_resource(l, "deployments"));
    assert_null(cJSON_GetObjectItem(find_resource(l, "secrets"), "shortNames"));
    cJSON_Delete(l);
}

static void test_discovery_apps_scale(void **state)
{
    (void)state;
    cJSON *l = api_discovery_resources("apps", "v1");
    assert_string_equal(str_at(l, "groupVersion"), "apps/v1");
    const cJSON *scale = find_resource(l, "deployments/scale");
    assert_non_null(scale);
    assert_string_equal(str_at(scale, "group"), "autoscaling");
    assert_string_equal(str_at(scale, "version"), "v1");
    assert_string_equal(str_at(scale, "kind"), "Scale");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(scale, "namespaced")));
    assert_true(verbs_are(scale, (const char *const[]){"get", "patch", "update", NULL}));
    assert_non_null(find_resource(l, "replicasets/scale"));
    assert_null(find_resource(l, "daemonsets/scale"));
    assert_non_null(find_resource(l, "daemonsets/status"));
    assert_null(find_resource(l, "pods"));
    cJSON_Delete(l);
    assert_null(api_discovery_resources("apps", "v1beta1"));
    assert_null(api_discovery_resources("batch", "v1"));
}

/* --------------------------------------------------------------------- meta */

static void test_meta_accessors(void **state)
{
    (void)state;
    cJSON *o = J("{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"u1\","
                 "\"generation\":3,\"labels\":{\"app\":\"web\"},\"annotations\":{\"a\":\"b\"},"
                 "\"finalizers\":[\"f1\"],\"ownerReferences\":[{\"kind\":\"ReplicaSet\","
                 "\"name\":\"rs\",\"uid\":\"x\"},{\"kind\":\"Deployment\",\"name\":\"d\","
                 "\"uid\":\"y\",\"controller\":true}]}}");
    assert_string_equal(api_meta_name(o), "web");
    assert_string_equal(api_meta_namespace(o), "default");
    assert_string_equal(api_meta_uid(o), "u1");
    assert_int_equal(api_meta_generation(o), 3);
    assert_string_equal(api_meta_label(o, "app"), "web");
    assert_null(api_meta_label(o, "tier"));
    assert_string_equal(api_meta_annotation(o, "a"), "b");
    assert_null(api_meta_deletion_timestamp(o));
    assert_string_equal(str_at(api_meta_controller_ref(o), "name"), "d");
    assert_true(api_meta_has_finalizer(o, "f1"));
    assert_int_equal(api_meta_add_finalizer(o, "f2"), 0);
    assert_int_equal(api_meta_add_finalizer(o, "f2"), 0);
    assert_int_equal(cJSON_GetArraySize(api_meta_finalizers(o)), 2);
    assert_int_equal(api_meta_remove_finalizer(o, "f1"), 1);
    assert_int_equal(api_meta_remove_finalizer(o, "f1"), 0);
    assert_int_equal(api_meta_set_label(o, "tier", "fe"), 0);
    assert_string_equal(api_meta_label(o, "tier"), "fe");
    assert_int_equal(api_meta_set_label(o, "tier", NULL), 0);
    assert_null(api_meta_label(o, "tier"));
    assert_int_equal(api_meta_set_generation(o, 4), 0);
    assert_int_equal(api_meta_generation(o), 4);
    cJSON_Delete(o);

    cJSON *e = J("{}");
    assert_null(api_meta_name(e));
    assert_int_equal(api_meta_generation(e), 0);
    assert_int_equal(api_meta_set_str(e, "name", "x"), 0);
    assert_string_equal(api_meta_name(e), "x");
    assert_int_equal(api_meta_set_annotation(e, "k", "v"), 0);
    assert_int_equal(api_meta_add_owner_ref(e, "apps/v1", "ReplicaSet", "rs", "uid1", true, true),
                     0);
    const cJSON *ref = api_meta_controller_ref(e);
    assert_string_equal(str_at(ref, "apiVersion"), "apps/v1");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(ref, "blockOwnerDeletion")));
    cJSON_Delete(e);
}

static void test_meta_check_namespace(void **state)
{
    (void)state;
    const api_resource_t *pods = api_resource_lookup("", "v1", "pods");
    const api_resource_t *nodes = api_resource_lookup("", "v1", "nodes");
    cJSON *o = J("{\"metadata\":{\"name\":\"p\"}}");
    assert_null(api_meta_check_namespace(pods, o, "default"));
    assert_string_equal(api_meta_namespace(o), "default");
    assert_null(api_meta_check_namespace(pods, o, "default"));
    cJSON *s = api_meta_check_namespace(pods, o, "other");
    assert_non_null(s);
    assert_int_equal(cJSON_GetObjectItem(s, "code")->valueint, 400);
    assert_string_equal(str_at(s, "reason"), "BadRequest");
    assert_string_equal(str_at(s, "message"), "the namespace of the provided object does not "
                                              "match the namespace sent on the request");
    cJSON_Delete(s);
    assert_null(api_meta_check_namespace(nodes, o, NULL));
    assert_null(api_meta_namespace(o));
    cJSON_Delete(o);
}

/* ------------------------------------------------------------------- Status */

static void assert_status(cJSON *s, int code, const char *reason, const char *message)
{
    assert_non_null(s);
    assert_string_equal(str_at(s, "kind"), "Status");
    assert_string_equal(str_at(s, "apiVersion"), "v1");
    assert_string_equal(str_at(s, "status"), "Failure");
    assert_int_equal(cJSON_GetObjectItem(s, "code")->valueint, code);
    assert_string_equal(str_at(s, "reason"), reason);
    assert_string_equal(str_at(s, "message"), message);
}

static void test_status_resource_errors(void **state)
{
    (void)state;
    cJSON *s = api_status_not_found("", "pods", "web");
    assert_status(s, 404, "NotFound", "pods \"web\" not found");
    const cJSON *d = cJSON_GetObjectItem(s, "details");
    assert_string_equal(str_at(d, "name"), "web");
    assert_string_equal(str_at(d, "kind"), "pods");
    assert_null(cJSON_GetObjectItem(d, "group"));
    cJSON_Delete(s);

    s = api_status_not_found("apps", "deployments", "api");
    assert_status(s, 404, "NotFound", "deployments.apps \"api\" not found");
    assert_string_equal(str_at(cJSON_GetObjectItem(s, "details"), "group"), "apps");
    cJSON_Delete(s);

    s = api_status_already_exists("", "pods", "web");
    assert_status(s, 409, "AlreadyExists", "pods \"web\" already exists");
    cJSON_Delete(s);

    s = api_status_conflict("", "pods", "web", NULL);
    assert_status(s, 409, "Conflict",
                  "Operation cannot be fulfilled on pods \"web\": the object has been modified; "
                  "please apply your changes to the latest version and try again");
    cJSON_Delete(s);

    s = api_status_forbidden("", "secrets", "s1",
                             "User \"system:node:n1\" cannot get resource \"secrets\"");
    assert_status(s, 403, "Forbidden",
                  "secrets \"s1\" is forbidden: User \"system:node:n1\" cannot get resource "
                  "\"secrets\"");
    cJSON_Delete(s);
    s = api_status_forbidden("", "pods", NULL, "no");
    assert_status(s, 403, "Forbidden", "pods is forbidden: no");
    cJSON_Delete(s);

    s = api_status_method_not_allowed("", "bindings", "get");
    assert_status(s, 405, "MethodNotAllowed",
                  "get is not supported on resources of kind \"bindings\"");
    cJSON_Delete(s);
}

static void test_status_other_errors(void **state)
{
    (void)state;
    cJSON *s = api_status_bad_request("bad");
    assert_status(s, 400, "BadRequest", "bad");
    assert_null(cJSON_GetObjectItem(s, "details"));
    cJSON_Delete(s);
    s = api_status_expired("too old resource version: 5 (17)");
    assert_status(s, 410, "Expired", "too old resource version: 5 (17)");
    cJSON_Delete(s);
    s = api_status_gone("gone");
    assert_status(s, 410, "Gone", "gone");
    cJSON_Delete(s);
    s = api_status_unauthorized(NULL);
    assert_status(s, 401, "Unauthorized", "Unauthorized");
    cJSON_Delete(s);
    s = api_status_too_large("limit is 3145728");
    assert_status(s, 413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728");
    cJSON_Delete(s);
    s = api_status_unavailable("no leader");
    assert_status(s, 503, "ServiceUnavailable", "no leader");
    cJSON_Delete(s);
    s = api_status_internal("disk full");
    assert_status(s, 500, "InternalError", "Internal error occurred: disk full");
    const cJSON *c =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "details"), "causes"), 0);
    assert_string_equal(str_at(c, "message"), "disk full");
    cJSON_Delete(s);
    s = api_status_timeout("request did not complete within 60s", 2);
    assert_status(s, 504, "Timeout", "Timeout: request did not complete within 60s");
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(s, "details"), "retryAfterSeconds")->valueint, 2);
    cJSON_Delete(s);
    api_status_details_t d = {.name = "web", .kind = "pods", .uid = "u"};
    s = api_status_success(&d);
    assert_string_equal(str_at(s, "status"), "Success");
    assert_string_equal(str_at(cJSON_GetObjectItem(s, "details"), "uid"), "u");
    cJSON_Delete(s);
}

static void test_status_invalid(void **state)
{
    (void)state;
    api_errors_t e = API_ERRORS_INIT;
    api_err_required(&e, "spec.containers[0].image", NULL);
    cJSON *s = api_status_invalid("", "Pod", "web", &e);
    assert_status(s, 422, "Invalid",
                  "Pod \"web\" is invalid: spec.containers[0].image: Required value");
    const cJSON *d = cJSON_GetObjectItem(s, "details");
    assert_string_equal(str_at(d, "kind"), "Pod");
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "causes"), 0);
    assert_string_equal(str_at(c, "reason"), "FieldValueRequired");
    assert_string_equal(str_at(c, "message"), "Required value");
    assert_string_equal(str_at(c, "field"), "spec.containers[0].image");
    cJSON_Delete(s);

    api_err_invalid(&e, "metadata.name", "Web", "a lowercase RFC 1123 subdomain ...");
    api_err_required(&e, "spec.containers[0].image", NULL); /* a repeat: shown once */
    api_err_not_supported(&e, "spec.restartPolicy", "Sometimes",
                          (const char *const[]){"Always", "OnFailure", "Never", NULL});
    api_err_duplicate(&e, "spec.containers[1].name", "app");
    api_err_invalid_int(&e, "spec.replicas", -1, "must be greater than or equal to 0");
    api_err_forbidden(&e, "spec", "pod updates may not change fields");
    api_err_not_found(&e, "spec.containers[0].volumeMounts[0].name", "data");
    api_err_too_long(&e, "metadata.annotations", 262144);
    s = api_status_invalid("apps", "Deployment", "d", &e);
    assert_status(s, 422, "Invalid",
                  "Deployment.apps \"d\" is invalid: [spec.containers[0].image: Required value, "
                  "metadata.name: Invalid value: \"Web\": a lowercase RFC 1123 subdomain ..., "
                  "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: "
                  "\"Always\", \"OnFailure\", \"Never\", spec.containers[1].name: Duplicate value: "
                  "\"app\", spec.replicas: Invalid value: -1: must be greater than or equal to 0, "
                  "spec: Forbidden: pod updates may not change fields, "
                  "spec.containers[0].volumeMounts[0].name: Not found: \"data\", "
                  "metadata.annotations: Too long: must have at most 262144 bytes]");
    d = cJSON_GetObjectItem(s, "details");
    assert_string_equal(str_at(d, "group"), "apps");
    /* Causes are not deduplicated, as in Kubernetes. */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "causes")), 9);
    c = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "causes"), 3);
    assert_string_equal(str_at(c, "reason"), "FieldValueNotSupported");
    assert_string_equal(api_err_reason(API_ERR_DUPLICATE), "FieldValueDuplicate");
    assert_string_equal(api_err_reason(API_ERR_FORBIDDEN), "FieldValueForbidden");
    cJSON_Delete(s);
    api_errors_free(&e);
    assert_int_equal(e.n, 0);

    /* Strings print as Go's %q does. */
    api_err_invalid(&e, "f", "a\"b\\c\n", "x");
    char *msg = api_errors_message(&e);
    assert_string_equal(msg, "f: Invalid value: \"a\\\"b\\\\c\\n\": x");
    free(msg);
    api_errors_free(&e);
}

static void test_scale_of(void **state)
{
    (void)state;
    cJSON *d = J("{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"u1\","
                 "\"resourceVersion\":\"42\",\"labels\":{\"x\":\"y\"}},\"spec\":{\"replicas\":3,"
                 "\"selector\":{\"matchLabels\":{\"app\":\"web\",\"tier\":\"fe\"}}},\"status\":{"
                 "\"replicas\":2}}");
    cJSON *s = api_scale_of(api_resource_lookup("apps", "v1", "deployments"), d);
    assert_non_null(s);
    assert_string_equal(str_at(s, "kind"), "Scale");
    assert_string_equal(str_at(s, "apiVersion"), "autoscaling/v1");
    const cJSON *m = cJSON_GetObjectItem(s, "metadata");
    assert_string_equal(str_at(m, "name"), "web");
    assert_string_equal(str_at(m, "resourceVersion"), "42");
    assert_null(cJSON_GetObjectItem(m, "labels"));
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "spec"), "replicas")->valueint, 3);
    const cJSON *st = cJSON_GetObjectItem(s, "status");
    assert_int_equal(cJSON_GetObjectItem(st, "replicas")->valueint, 2);
    assert_string_equal(str_at(st, "selector"), "app=web,tier=fe");
    cJSON_Delete(s);
    assert_null(api_scale_of(api_resource_lookup("apps", "v1", "daemonsets"), d));
    cJSON_Delete(d);

    cJSON *rc = J("{\"metadata\":{\"name\":\"rc\"},\"spec\":{\"replicas\":1,\"selector\":{"
                  "\"app\":\"w\"}}}");
    s = api_scale_of(api_resource_lookup("", "v1", "replicationcontrollers"), rc);
    assert_string_equal(str_at(cJSON_GetObjectItem(s, "status"), "selector"), "app=w");
    cJSON_Delete(s);
    cJSON_Delete(rc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_core_and_apps),
        cmocka_unit_test(test_lookup_by_kind_and_short_name),
        cmocka_unit_test(test_storage_keys),
        cmocka_unit_test(test_route_parse),
        cmocka_unit_test(test_route_verbs),
        cmocka_unit_test(test_discovery_versions_and_groups),
        cmocka_unit_test(test_discovery_core_resources),
        cmocka_unit_test(test_discovery_apps_scale),
        cmocka_unit_test(test_meta_accessors),
        cmocka_unit_test(test_meta_check_namespace),
        cmocka_unit_test(test_status_resource_errors),
        cmocka_unit_test(test_status_other_errors),
        cmocka_unit_test(test_status_invalid),
        cmocka_unit_test(test_scale_of),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
