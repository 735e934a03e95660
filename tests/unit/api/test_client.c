/*
 * test_client.c - the API client against a fake API server on 127.0.0.1:
 * paths and queries from the resource table, CRUD with Kubernetes' Status
 * errors (NotFound, AlreadyExists, Conflict) surfaced as messages, bearer
 * tokens, fail-over from a closed port to a live one (async and blocking),
 * errors without a Status, cancellation on free, and api_json_keep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fakeapi.h"

static uv_loop_t loop;
static struct fake fk;
static char base[64];

struct res {
    bool done;
    int err, status, code;
    char message[512], reason[64], url[128];
    cJSON *obj;
};

static void on_res(api_result_t *r, void *data)
{
    struct res *x = data;
    x->done = true;
    x->err = r->err;
    x->status = r->status;
    x->code = r->code;
    snprintf(x->message, sizeof(x->message), "%s", r->message);
    snprintf(x->reason, sizeof(x->reason), "%s", r->reason);
    snprintf(x->url, sizeof(x->url), "%s", r->url);
    x->obj = r->obj; /* kept: the test frees it */
    r->obj = NULL;
}

static bool is_done(void *arg)
{
    return ((struct res *)arg)->done;
}

static void wait_res(struct res *x)
{
    assert_true(fake_run_until(&loop, is_done, x));
}

static int setup(void **state)
{
    (void)state;
    uv_loop_init(&loop);
    memset(&fk, 0, sizeof(fk));
    if (fake_start(&fk, &loop, 0) != 0) return -1;
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", fk.port);
    fake_put(&fk, "pods", fake_obj("default", "db", "db", "n1"));
    fake_put(&fk, "pods", fake_obj("default", "web-1", "web", "n1"));
    fake_put(&fk, "pods", fake_obj("other", "web-2", "web", "n2"));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_free(&fk);
    /* Bounded: a failed test may leave an informer or queue running. */
    for (int i = 0; i < 100 && uv_loop_alive(&loop); i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    return uv_loop_close(&loop) == 0 ? 0 : -1;
}

static void expect_path(const api_ref_t *ref, const api_opts_t *o, const char *want)
{
    char err[256] = "";
    char *p = api_path(ref, o, err, sizeof(err));
    if (!p) fail_msg("api_path: %s", err);
    assert_string_equal(p, want);
    free(p);
}

static void expect_path_error(const api_ref_t *ref, const char *want)
{
    char err[256] = "";
    assert_null(api_path(ref, NULL, err, sizeof(err)));
    assert_string_equal(err, want);
}

static void test_paths(void **state)
{
    (void)state;
    expect_path(&(api_ref_t){.resource = "pods", .ns = "default", .name = "web"}, NULL,
                "/api/v1/namespaces/default/pods/web");
    expect_path(&(api_ref_t){.resource = "pods"}, NULL, "/api/v1/pods");
    expect_path(
        &(api_ref_t){
            .group = "apps", .version = "v1", .resource = "deployments", .ns = "kube-system"},
        NULL, "/apis/apps/v1/namespaces/kube-system/deployments");
    /* Cluster-scoped: a namespace is ignored, as kubectl does. */
    expect_path(&(api_ref_t){.resource = "nodes", .ns = "default", .name = "pi-1"}, NULL,
                "/api/v1/nodes/pi-1");
    expect_path(&(api_ref_t){.resource = "namespaces", .name = "team-a", .subresource = "finalize"},
                NULL, "/api/v1/namespaces/team-a/finalize");
    expect_path(&(api_ref_t){.resource = "pods", .ns = "d", .name = "w", .subresource = "status"},
                NULL, "/api/v1/namespaces/d/pods/w/status");
    expect_path(&(api_ref_t){.group = "coordination.k8s.io",
                             .resource = "leases",
                             .ns = "kube-node-lease",
                             .name = "pi-1"},
                NULL, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/pi-1");
    /* Names with odd characters are escaped. */
    expect_path(&(api_ref_t){.resource = "nodes", .name = "a:b"}, NULL, "/api/v1/nodes/a%3Ab");
    /* Query options, with selector values escaped. */
    expect_path(&(api_ref_t){.resource = "pods", .ns = "d"},
                &(api_opts_t){.label_selector = "app in (a,b),!x",
                              .field_selector = "spec.nodeName=pi-1",
                              .limit = 500,
                              .continue_ = "eyJ2Ijoi=",
                              .resource_version = "42",
                              .resource_version_match = "NotOlderThan"},
                "/api/v1/namespaces/d/pods?labelSelector=app%20in%20%28a%2Cb%29%2C%21x"
                "&fieldSelector=spec.nodeName%3Dpi-1&limit=500&continue=eyJ2Ijoi%3D"
                "&resourceVersion=42&resourceVersionMatch=NotOlderThan");
    expect_path(&(api_ref_t){.resource = "pods"},
                &(api_opts_t){.watch = true,
                              .allow_watch_bookmarks = true,
                              .resource_version = "7",
                              .timeout_seconds = 300},
                "/api/v1/pods?resourceVersion=7&watch=true&allowWatchBookmarks=true"
                "&timeoutSeconds=300");
    expect_path(&(api_ref_t){.resource = "pods", .ns = "d", .name = "w"},
                &(api_opts_t){.propagation_policy = "Foreground",
                              .has_grace_period = true,
                              .grace_period_seconds = 0,
                              .dry_run = true,
                              .field_manager = "kctl",
                              .extra_query = "includeObject=Object"},
                "/api/v1/namespaces/d/pods/w?fieldManager=kctl&dryRun=All"
                "&propagationPolicy=Foreground&gracePeriodSeconds=0&includeObject=Object");

    expect_path_error(&(api_ref_t){.resource = "widgets"},
                      "the server doesn't have a resource type \"widgets\"");
    expect_path_error(&(api_ref_t){.group = "apps", .resource = "pods"},
                      "the server doesn't have a resource type \"pods\" in group \"apps\"");
    expect_path_error(&(api_ref_t){.resource = "pods", .version = "v2"},
                      "the server doesn't have a resource type \"pods\"");
    expect_path_error(&(api_ref_t){.resource = "pods", .name = "w"},
                      "pods \"w\": a namespace is required");
    expect_path_error(&(api_ref_t){.resource = "pods", .ns = "d", .name = "w", .subresource = "x"},
                      "pods has no subresource \"x\"");
    expect_path_error(&(api_ref_t){.resource = "pods", .ns = "d", .subresource = "status"},
                      "pods/status: a name is required");
    assert_string_equal(api_patch_content_type(API_PATCH_STRATEGIC),
                        "application/strategic-merge-patch+json");
    assert_string_equal(api_patch_content_type(API_PATCH_JSON), "application/json-patch+json");
}

static void test_crud(void **state)
{
    (void)state;
    api_client_t *c = api_client_new(&loop, base, "tok-1");
    assert_non_null(c);
    api_ref_t pods = {.resource = "pods", .ns = "default"};

    /* create: the namespace comes from the object when ref has none. */
    cJSON *pod = fake_obj("default", "new", "web", NULL);
    struct res r = {0};
    assert_int_equal(api_create(c, &(api_ref_t){.resource = "pods"}, pod, NULL, on_res, &r), 0);
    assert_false(r.done); /* never from inside the call */
    wait_res(&r);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, 201);
    assert_string_equal(api_meta_name(r.obj), "new");
    assert_string_equal(fk.last_method, "POST");
    assert_string_equal(fk.last_path, "/api/v1/namespaces/default/pods");
    assert_string_equal(fk.last_ct, "application/json");
    assert_string_equal(fk.last_auth, "Bearer tok-1");
    assert_string_equal(fk.last_accept, "application/json");
    char *rv = strdup(api_meta_resource_version(r.obj));
    cJSON_Delete(r.obj);

    /* create again: 409 AlreadyExists with Kubernetes' message. */
    memset(&r, 0, sizeof(r));
    api_create(c, &pods, pod, NULL, on_res, &r);
    wait_res(&r);
    assert_int_equal(r.status, 409);
    assert_string_equal(r.reason, "AlreadyExists");
    assert_string_equal(r.message, "pods \"new\" already exists");
    cJSON_Delete(r.obj);

    /* get and get of a missing object. */
    memset(&r, 0, sizeof(r));
    api_get(c, &(api_ref_t){.resource = "pods", .ns = "default", .name = "new"}, NULL, on_res, &r);
    wait_res(&r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.message, "");
    cJSON_Delete(r.obj);
    memset(&r, 0, sizeof(r));
    api_get(c, &(api_ref_t){.resource = "pods", .ns = "default", .name = "nope"}, NULL, on_res, &r);
    wait_res(&r);
    assert_int_equal(r.status, 404);
    assert_int_equal(r.code, 404);
    assert_string_equal(r.reason, "NotFound");
    assert_string_equal(r.message, "pods \"nope\" not found");
    cJSON_Delete(r.obj);

    /* update with a stale resourceVersion: Conflict; with the right one: OK. */
    api_meta_set_str(pod, "resourceVersion", "1");
    api_meta_set_label(pod, "tier", "front");
    memset(&r, 0, sizeof(r));
    api_update(c, &(api_ref_t){.resource = "pods"}, pod, NULL, on_res, &r);
    wait_res(&r);
    assert_int_equal(r.status, 409);
    assert_string_equal(r.reason, "Conflict");
    assert_string_equal(r.message,
                        "Operation cannot be fulfilled on pods \"new\": " API_MSG_OBJECT_MODIFIED);
    cJSON_Delete(r.obj);
    api_meta_set_str(pod, "resourceVersion", rv);
    memset(&r, 0, sizeof(r));
    api_update(c, &(api_ref_t){.resource = "pods"}, pod, NULL, on_res, &r);
    wait_res(&r);
    assert_int_equal(r.status, 200);
    assert_string_equal(fk.last_method, "PUT");
    assert_string_equal(fk.last_path, "/api/v1/namespaces/default/pods/new");
    assert_string_equal(api_meta_label(r.obj, "tier"), "front");
    cJSON_Delete(r.obj);
    free(rv);

    /* patch (merge): null removes a label. */
    cJSON *patch = cJSON_Parse("{\"metadata\":{\"labels\":{\"tier\":null,\"x\":\"y\"}}}");
    memset(&r, 0, sizeof(r));
    api_patch(c, &(api_ref_t){.resource = "pods", .ns = "default", .name = "new"}, API_PATCH_MERGE,
              patch, NULL, on_res, &r);
    wait_res(&r);
    assert_int_equal(r.status, 200);
    assert_string_equal(fk.last_ct, "application/merge-patch+json");
    assert_null(api_meta_label(r.obj, "tier"));
    assert_string_equal(api_meta_label(r.obj, "x"), "y");
    cJSON_Delete(r.obj);
    cJSON_Delete(patch);

    /* list with a label selector. */
    memset(&r, 0, sizeof(r));
    api_list(c, &(api_ref_t){.resource = "pods"}, &(api_opts_t){.label_selector = "app=web"},
             on_res, &r);
    wait_res(&r);
    assert_int_equal(r.status, 200);
    assert_string_equal(fk.last_query, "labelSelector=app%3Dweb");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.obj, "items")), 3);
    cJSON_Delete(r.obj);

    /* delete, with options; then it is gone. */
    cJSON *dopts = cJSON_Parse("{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\"}");
    memset(&r, 0, sizeof(r));
    api_delete(c, &(api_ref_t){.resource = "pods", .ns = "default", .name = "new"}, dopts,
               &(api_opts_t){.propagation_policy = "Background"}, on_res, &r);
    wait_res(&r);
    assert_int_equal(r.status, 200);
    assert_string_equal(fk.last_method, "DELETE");
    assert_string_equal(fk.last_query, "propagationPolicy=Background");
    assert_non_null(strstr(fk.last_body, "DeleteOptions"));
    cJSON_Delete(r.obj);
    cJSON_Delete(dopts);
    memset(&r, 0, sizeof(r));
    api_get(c, &(api_ref_t){.resource = "pods", .ns = "default", .name = "new"}, NULL, on_res, &r);
    wait_res(&r);
    assert_int_equal(r.status, 404);
    cJSON_Delete(r.obj);

    /* Refused before sending: bad refs, create without a namespace. */
    assert_int_equal(api_get(c, &(api_ref_t){.resource = "widgets", .name = "x"}, NULL, on_res, &r),
                     UV_EINVAL);
    cJSON *nons = fake_obj(NULL, "x", NULL, NULL);
    assert_int_equal(api_create(c, &(api_ref_t){.resource = "pods"}, nons, NULL, on_res, &r),
                     UV_EINVAL);
    cJSON_Delete(nons);
    cJSON_Delete(pod);
    api_client_free(c);
}

static void test_errors_without_status(void **state)
{
    (void)state;
    api_client_t *c = api_client_new(&loop, base, NULL);
    struct res r = {0};
    assert_int_equal(api_request(c, "GET", "/plain", NULL, NULL, 0, NULL, on_res, &r), 0);
    wait_res(&r);
    assert_int_equal(r.status, 502);
    assert_null(r.obj);
    char want[256];
    snprintf(want, sizeof(want), "HTTP 502 from %s: upstream broken", base);
    assert_string_equal(r.message, want);
    assert_string_equal(fk.last_auth, ""); /* no token, no header */

    /* Freed with a request in flight: the callback hears UV_ECANCELED. */
    memset(&r, 0, sizeof(r));
    api_get(c, &(api_ref_t){.resource = "pods", .ns = "default", .name = "db"}, NULL, on_res, &r);
    api_client_free(c);
    assert_true(r.done);
    assert_int_equal(r.err, UV_ECANCELED);
    assert_string_equal(r.message, "request cancelled");
}

static void test_failover(void **state)
{
    (void)state;
    char urls[160];
    int closed = fake_closed_port();
    snprintf(urls, sizeof(urls), "http://127.0.0.1:%d,%s", closed, base);
    api_client_t *c = api_client_new(&loop, urls, NULL);
    assert_non_null(c);
    int before = fk.requests;
    struct res r = {0};
    api_get(c, &(api_ref_t){.resource = "pods", .ns = "default", .name = "db"}, NULL, on_res, &r);
    wait_res(&r);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.url, base);
    assert_int_equal(fk.requests - before, 1);
    cJSON_Delete(r.obj);
    /* The next request starts at the URL that worked. */
    memset(&r, 0, sizeof(r));
    api_list(c, &(api_ref_t){.resource = "pods"}, NULL, on_res, &r);
    wait_res(&r);
    assert_int_equal(r.status, 200);
    assert_string_equal(http_client_current_url(api_client_http(c)), base);
    cJSON_Delete(r.obj);
    api_client_free(c);

    /* Every URL refuses: an error naming the last one. */
    char dead[160];
    snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", closed);
    c = api_client_new(&loop, dead, NULL);
    memset(&r, 0, sizeof(r));
    api_list(c, &(api_ref_t){.resource = "pods"}, NULL, on_res, &r);
    wait_res(&r);
    assert_int_equal(r.err, UV_ECONNREFUSED);
    assert_int_equal(r.status, 0);
    char want[256];
    snprintf(want, sizeof(want), "cannot reach the API server at %s: connection refused", dead);
    assert_string_equal(r.message, want);
    api_client_free(c);
    /* https:// URLs are served by lib's TLS transport (system CAs by default). */
    c = api_client_new(&loop, "https://x:1", NULL);
    assert_non_null(c);
    api_client_free(c);
}

static void test_blocking(void **state)
{
    (void)state;
    struct fake_thread *t = calloc(1, sizeof(*t));
    t->f.store = cJSON_CreateArray();
    t->f.loop = &t->loop;
    fake_put(&t->f, "nodes", fake_obj(NULL, "pi-1", NULL, NULL));
    assert_int_equal(fake_thread_start(t), 0);
    char urls[160];
    snprintf(urls, sizeof(urls), "http://127.0.0.1:%d,http://127.0.0.1:%d", fake_closed_port(),
             t->f.port);
    api_conn_t conn = {.urls = urls, .token = "t"};
    api_result_t r;
    assert_int_equal(api_fetch(&conn, "GET", &(api_ref_t){.resource = "nodes", .name = "pi-1"},
                               NULL, NULL, NULL, &r),
                     0);
    assert_true(api_result_ok(&r));
    assert_string_equal(api_meta_name(r.obj), "pi-1");
    api_result_free(&r);

    api_fetch(&conn, "GET", &(api_ref_t){.resource = "nodes", .name = "pi-9"}, NULL, NULL, NULL,
              &r);
    assert_false(api_result_ok(&r));
    assert_int_equal(r.status, 404);
    assert_string_equal(r.message, "nodes \"pi-9\" not found");
    api_result_free(&r);

    cJSON *n = fake_obj(NULL, "pi-2", NULL, NULL);
    api_fetch(&conn, "POST", &(api_ref_t){.resource = "nodes"}, NULL, NULL, n, &r);
    assert_int_equal(r.status, 201);
    /* The caller may keep the object past api_result_free. */
    cJSON *kept = r.obj;
    r.obj = NULL;
    api_result_free(&r);
    assert_string_equal(api_meta_name(kept), "pi-2");
    cJSON_Delete(kept);
    cJSON_Delete(n);

    api_fetch(&conn, "GET", &(api_ref_t){.resource = "gizmos"}, NULL, NULL, NULL, &r);
    assert_int_equal(r.err, UV_EINVAL);
    assert_string_equal(r.message, "the server doesn't have a resource type \"gizmos\"");
    api_result_free(&r);
    fake_thread_join(t);
    free(t);
}

static void test_json_keep(void **state)
{
    (void)state;
    cJSON *o = fake_obj("default", "web", "web", "pi-1");
    const char *paths[] = {"metadata.name", "metadata.namespace", "spec.nodeName", "status.phase",
                           "metadata"};
    cJSON *k = api_json_keep(o, paths, 4);
    char *s = cJSON_PrintUnformatted(k);
    assert_string_equal(s, "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},"
                           "\"spec\":{\"nodeName\":\"pi-1\"}}");
    free(s);
    cJSON_Delete(k);
    /* A whole subtree, and a path under it: kept once. */
    k = api_json_keep(o, paths + 4, 1);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(k, "metadata"), "labels"));
    assert_null(cJSON_GetObjectItem(k, "spec"));
    cJSON_Delete(k);
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test_setup_teardown(test_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_without_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failover, setup, teardown),
        cmocka_unit_test(test_blocking),
        cmocka_unit_test(test_json_keep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
