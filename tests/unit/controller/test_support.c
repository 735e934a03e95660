/*
 * test_support.c - the pieces every loop stands on: the hash map and its
 * sets, expectations, the pod CIDR pool, the cache trims, int-or-percent
 * values and canonical JSON.
 */
#include "testutil.h"

static bool count_cb(const char *k, void *v, void *arg)
{
    (void)k;
    (void)v;
    (*(int *)arg)++;
    return true;
}

static void test_map(void **state)
{
    (void)state;
    ctrl_map_t m = {0};
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_null(cm_put(&m, key, (void *)(intptr_t)(i + 1)));
    }
    assert_int_equal(m.n, 1000);
    assert_int_equal((intptr_t)cm_get(&m, "k500"), 501);
    assert_int_equal((intptr_t)cm_put(&m, "k500", (void *)7), 501);
    assert_true(cm_has(&m, "k999"));
    assert_false(cm_has(&m, "nope"));
    int n = 0;
    cm_each(&m, count_cb, &n);
    assert_int_equal(n, 1000);
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_non_null(cm_del(&m, key));
    }
    assert_int_equal(m.n, 0);
    assert_null(m.b); /* the table is given back */
    cm_set_add(&m, "ns1", "b");
    cm_set_add(&m, "ns1", "a");
    cm_set_add(&m, "ns1", "a");
    size_t nk;
    const char **keys = cm_keys(cm_set_get(&m, "ns1"), &nk);
    assert_int_equal(nk, 2);
    assert_string_equal(keys[0], "a");
    assert_string_equal(keys[1], "b");
    free(keys);
    cm_set_del(&m, "ns1", "a");
    cm_set_del(&m, "ns1", "b");
    assert_null(cm_set_get(&m, "ns1"));
    cm_set_clear(&m);
}

static void test_expectations(void **state)
{
    (void)state;
    ctrl_expect_t *e = ctrl_expect_new(1000);
    assert_true(ctrl_expect_satisfied(e, "rs", 0));
    ctrl_expect_set(e, "rs", 2, NULL, 0, 100);
    assert_false(ctrl_expect_satisfied(e, "rs", 100));
    ctrl_expect_creation_observed(e, "rs");
    assert_false(ctrl_expect_satisfied(e, "rs", 200));
    ctrl_expect_creation_observed(e, "rs");
    assert_true(ctrl_expect_satisfied(e, "rs", 200));
    /* deletions are counted once per pod, whatever the number of events */
    const char *dels[] = {"ns/a", "ns/b"};
    ctrl_expect_set(e, "rs", 0, dels, 2, 300);
    ctrl_expect_deletion_observed(e, "rs", "ns/a");
    ctrl_expect_deletion_observed(e, "rs", "ns/a");
    assert_false(ctrl_expect_satisfied(e, "rs", 400));
    ctrl_expect_deletion_observed(e, "rs", "ns/b");
    assert_true(ctrl_expect_satisfied(e, "rs", 400));
    /* a failed create lowers them; an old record times out */
    ctrl_expect_set(e, "rs", 3, NULL, 0, 500);
    ctrl_expect_lower(e, "rs", 2);
    assert_false(ctrl_expect_satisfied(e, "rs", 600));
    assert_true(ctrl_expect_satisfied(e, "rs", 1500));
    ctrl_expect_delete(e, "rs");
    assert_true(ctrl_expect_satisfied(e, "rs", 600));
    ctrl_expect_free(e);
}

static void test_cidr_pool(void **state)
{
    (void)state;
    assert_null(cidr_pool_new("10.42.0.0", 24));
    assert_null(cidr_pool_new("10.42.0.0/16", 12));
    assert_null(cidr_pool_new("10.42.0.0/16", 31));
    cidr_pool_t *p = cidr_pool_new("10.42.0.0/16", 24);
    char c[32];
    assert_true(cidr_pool_occupy(p, "10.42.0.0/24"));
    assert_false(cidr_pool_occupy(p, "10.43.0.0/24"));
    assert_false(cidr_pool_occupy(p, "10.42.0.128/24"));
    assert_true(cidr_pool_next(p, c, sizeof c));
    assert_string_equal(c, "10.42.1.0/24");
    assert_true(cidr_pool_next(p, c, sizeof c));
    assert_string_equal(c, "10.42.2.0/24");
    /* a freed block is not handed out again at once (round robin) */
    cidr_pool_release(p, "10.42.1.0/24");
    assert_true(cidr_pool_next(p, c, sizeof c));
    assert_string_equal(c, "10.42.3.0/24");
    assert_int_equal(cidr_pool_used(p), 3);
    /* fill it: 256 blocks, all distinct, then none */
    while (cidr_pool_used(p) < 256)
        assert_true(cidr_pool_next(p, c, sizeof c));
    assert_false(cidr_pool_next(p, c, sizeof c));
    cidr_pool_free(p);
    p = cidr_pool_new("10.42.0.0/16", 26);
    assert_true(cidr_pool_next(p, c, sizeof c));
    assert_true(cidr_pool_next(p, c, sizeof c));
    assert_string_equal(c, "10.42.0.64/26");
    cidr_pool_free(p);
}

static void test_trim_pod(void **state)
{
    (void)state;
    cJSON *full = J("{'apiVersion':'v1','kind':'Pod','metadata':{'name':'p','namespace':'d',"
                    "'uid':'u','resourceVersion':'5','labels':{'a':'b'},'annotations':{'big':'x'},"
                    "'managedFields':[{}],'ownerReferences':[{'uid':'o','controller':true}]},"
                    "'spec':{'nodeName':'n1','containers':[{'name':'c','image':'i','env':[{}],"
                    "'ports':[{'containerPort':80},{'name':'http','containerPort':8080}]}],"
                    "'tolerations':[{'operator':'Exists'}]},"
                    "'status':{'phase':'Running','podIP':'10.0.0.1','conditions':["
                    "{'type':'PodScheduled','status':'True'},{'type':'Ready','status':'True',"
                    "'lastTransitionTime':'2026-11-24T08:00:00Z','lastProbeTime':null}],"
                    "'containerStatuses':[{'restartCount':2},{'restartCount':1}]}}");
    cJSON *t = ctrl_trim_pod(full, NULL);
    cJSON *want = J("{'metadata':{'name':'p','namespace':'d','uid':'u',"
                    "'ownerReferences':[{'uid':'o','controller':true}],'labels':{'a':'b'}},"
                    "'spec':{'nodeName':'n1','tolerations':'[{\\'operator\\':\\'Exists\\'}]',"
                    "'containers':[{'ports':[{'name':'http','containerPort':8080,"
                    "'protocol':'TCP'}]}]},"
                    "'status':{'phase':'Running','podIP':'10.0.0.1','conditions':[{'type':'Ready',"
                    "'status':'True','lastTransitionTime':'2026-11-24T08:00:00Z'}],'restarts':3}}");
    char *ts_ = cJSON_PrintUnformatted(t);
    if (!cJSON_Compare(t, want, true)) fail_msg("trimmed: %s", ts_);
    free(ts_);
    cJSON *owned;
    const cJSON *tols = cx_tolerations(t, &owned);
    assert_true(cJSON_IsArray(tols));
    assert_string_equal(cj_str0(cJSON_GetArrayItem(tols, 0), "operator"), "Exists");
    cJSON_Delete(owned);
    cJSON_Delete(t);
    cJSON_Delete(want);

    /* With a session's pool, repeated values are shared, not copied. */
    struct ctrl_sess sess;
    memset(&sess, 0, sizeof sess);
    struct ctrl_shared sh;
    memset(&sh, 0, sizeof sh);
    sh.s = &sess;
    cJSON *a = ctrl_trim_pod(full, &sh), *b = ctrl_trim_pod(full, &sh);
    assert_true(cJSON_Compare(a, b, true));
    assert_ptr_equal(cj_str(a, "metadata.namespace"), cj_str(b, "metadata.namespace"));
    assert_ptr_equal(cj_str(a, "spec.tolerations"), cj_str(b, "spec.tolerations"));
    assert_ptr_not_equal(cj_str(a, "metadata.uid"), cj_str(b, "metadata.uid"));
    cJSON *dup = cx_dup(a); /* values are copied, member names shared */
    assert_ptr_not_equal(cj_str(a, "metadata.namespace"), cj_str(dup, "metadata.namespace"));
    cJSON_Delete(a);
    cJSON_Delete(b);
    assert_string_equal(cj_str0(dup, "metadata.namespace"), "d");
    cJSON_Delete(dup);
    cm_clear(&sess.strings, NULL);
    /* workloads drop kubectl's last-applied copy */
    cJSON *rs = J("{'metadata':{'name':'r','annotations':{'kubectl.kubernetes.io/"
                  "last-applied-configuration':'{}','deployment.kubernetes.io/revision':'2'}},"
                  "'spec':{'replicas':1},'status':{}}");
    cJSON *tr = ctrl_trim_workload(rs, NULL);
    assert_null(api_meta_annotation(tr, "kubectl.kubernetes.io/last-applied-configuration"));
    assert_int_equal(cJSON_GetArraySize(cj_get(tr, "metadata.annotations")), 1);
    cJSON_Delete(tr);
    cJSON_Delete(rs);
    cJSON_Delete(full);
}

static void test_values(void **state)
{
    (void)state;
    cJSON *v25 = cJSON_CreateString("25%"), *v3 = cJSON_CreateNumber(3);
    cJSON *bad = cJSON_CreateString("x%"), *s3 = cJSON_CreateString("3");
    assert_int_equal(cx_int_or_percent(v25, 10, true, 0), 3);
    assert_int_equal(cx_int_or_percent(v25, 10, false, 0), 2);
    assert_int_equal(cx_int_or_percent(v25, 4, false, 0), 1);
    assert_int_equal(cx_int_or_percent(v3, 10, true, 0), 3);
    assert_int_equal(cx_int_or_percent(s3, 10, true, 0), 3);
    assert_int_equal(cx_int_or_percent(NULL, 10, true, 7), 7);
    assert_int_equal(cx_int_or_percent(bad, 10, true, 0), -1);
    cJSON_Delete(v25);
    cJSON_Delete(v3);
    cJSON_Delete(bad);
    cJSON_Delete(s3);
    cJSON *a = J("{'b':1,'a':{'y':[1,{'d':1,'c':2}],'x':null}}");
    char *s = cj_canonical(a);
    assert_string_equal(s, "{\"a\":{\"x\":null,\"y\":[1,{\"c\":2,\"d\":1}]},\"b\":1}");
    free(s);
    cJSON_Delete(a);
    char buf[48];
    cx_micro_fmt(T0 + 123, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-24T08:00:00.123000Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map),       cmocka_unit_test(test_expectations),
        cmocka_unit_test(test_cidr_pool), cmocka_unit_test(test_trim_pod),
        cmocka_unit_test(test_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
