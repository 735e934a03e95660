/*
 * test_replication.c - the ReplicaSet / ReplicationController decisions:
 * claiming (adopt, release, ignore others'), replica math with the burst
 * limit, the scale-down order, status counts with minReadySeconds, and the
 * pod made from a template.
 */
#include "testutil.h"

#define RS_UID "rs-uid-1"

static cJSON *rs_obj(int replicas, int min_ready, bool deleting)
{
    return JF("{'metadata':{'name':'web','namespace':'default','uid':'%s','generation':4%s},"
              "'spec':{'replicas':%d,'minReadySeconds':%d,"
              "'selector':{'matchLabels':{'app':'web'}},"
              "'template':{'metadata':{'labels':{'app':'web','tier':'fe'},"
              "'annotations':{'a':'b'}},"
              "'spec':{'containers':[{'name':'c','image':'nginx'}]}}},"
              "'status':{'replicas':0}}",
              RS_UID, deleting ? ",'deletionTimestamp':'2026-11-24T08:00:00Z'" : "", replicas,
              min_ready);
}

/* A pod: owner NULL for an orphan; ready_at < 0 for not ready. */
static cJSON *pod(const char *name, const char *labels, const char *owner, const char *node,
                  const char *phase, int ready_at, int created, int restarts)
{
    char own[256] = "";
    if (owner)
        snprintf(own, sizeof own,
                 ",'ownerReferences':[{'apiVersion':'apps/v1','kind':'ReplicaSet','name':'x',"
                 "'uid':'%s','controller':true}]",
                 owner);
    char cond[256] = "";
    if (ready_at >= 0)
        snprintf(cond, sizeof cond,
                 ",'conditions':[{'type':'Ready','status':'True','lastTransitionTime':'%s'}]",
                 ts(ready_at));
    else
        snprintf(cond, sizeof cond, ",'conditions':[{'type':'Ready','status':'False'}]");
    return JF("{'metadata':{'name':'%s','namespace':'default','uid':'u-%s','labels':%s,"
              "'creationTimestamp':'%s'%s},'spec':{'nodeName':'%s'},"
              "'status':{'phase':'%s','restarts':%d%s}}",
              name, name, labels, ts(created), own, node ? node : "", phase, restarts, cond);
}

static void test_claim(void **state)
{
    (void)state;
    cJSON *rs = rs_obj(3, 0, false);
    cJSON *p[5] = {
        pod("owned", "{'app':'web'}", RS_UID, "n1", "Running", 1, 0, 0),
        pod("orphan", "{'app':'web'}", NULL, "n1", "Running", 1, 0, 0),
        pod("stray", "{'app':'db'}", RS_UID, "n1", "Running", 1, 0, 0),
        pod("others", "{'app':'web'}", "someone-else", "n1", "Running", 1, 0, 0),
        pod("nomatch", "{'app':'db'}", NULL, "n1", "Running", 1, 0, 0),
    };
    api_selector_t *sel = cx_selector(rs, false);
    assert_non_null(sel);
    struct repl_claim c;
    repl_claim(rs, sel, (const cJSON *const *)p, 5, &c);
    assert_int_equal(c.n_owned, 1);
    assert_ptr_equal(c.owned[0], p[0]);
    assert_int_equal(c.n_adopt, 1);
    assert_ptr_equal(c.adopt[0], p[1]);
    assert_int_equal(c.n_release, 1);
    assert_ptr_equal(c.release[0], p[2]);
    repl_claim_free(&c);

    /* A controller being deleted adopts nothing and releases nothing. */
    cJSON *dying = rs_obj(3, 0, true);
    repl_claim(dying, sel, (const cJSON *const *)p, 5, &c);
    assert_int_equal(c.n_owned, 1);
    assert_int_equal(c.n_adopt, 0);
    assert_int_equal(c.n_release, 0);
    repl_claim_free(&c);
    api_selector_free(sel);
    for (int i = 0; i < 5; i++)
        cJSON_Delete(p[i]);
    cJSON_Delete(rs);
    cJSON_Delete(dying);
}

static void test_rc_map_selector(void **state)
{
    (void)state;
    /* An RC without spec.selector selects by its template's labels. */
    cJSON *rc = J("{'metadata':{'uid':'rc1'},'spec':{'template':{'metadata':{'labels':"
                  "{'app':'x'}}}}}");
    api_selector_t *sel = cx_selector(rc, true);
    assert_non_null(sel);
    cJSON *l1 = J("{'app':'x','more':'y'}"), *l2 = J("{'app':'z'}");
    assert_true(api_selector_matches(sel, l1));
    assert_false(api_selector_matches(sel, l2));
    api_selector_free(sel);
    /* ... and one with neither selects nothing rather than everything. */
    cJSON *bare = J("{'metadata':{'uid':'rc2'},'spec':{}}");
    assert_null(cx_selector(bare, true));
    cJSON_Delete(rc);
    cJSON_Delete(bare);
    cJSON_Delete(l1);
    cJSON_Delete(l2);
}

static void test_diff_and_burst(void **state)
{
    (void)state;
    cJSON *rs = rs_obj(3, 0, false);
    const cJSON **del = NULL;
    assert_int_equal(repl_diff(rs, NULL, 0, &del), 3);
    assert_null(del);
    cJSON *big = rs_obj(1200, 0, false);
    assert_int_equal(repl_diff(big, NULL, 0, &del), 500); /* burstReplicas */

    cJSON *p[5];
    for (int i = 0; i < 5; i++) {
        char n[8];
        snprintf(n, sizeof n, "p%d", i);
        p[i] = pod(n, "{'app':'web'}", RS_UID, "n1", "Running", 10, i, 0);
    }
    assert_int_equal(repl_diff(rs, (const cJSON *const *)p, 5, &del), -2);
    assert_non_null(del);
    /* all equal but age: the newest go first */
    assert_string_equal(api_meta_name(del[0]), "p4");
    assert_string_equal(api_meta_name(del[1]), "p3");
    free(del);
    assert_int_equal(repl_diff(rs, (const cJSON *const *)p, 3, &del), 0);
    for (int i = 0; i < 5; i++)
        cJSON_Delete(p[i]);
    cJSON_Delete(rs);
    cJSON_Delete(big);
}

static void test_scale_down_order(void **state)
{
    (void)state;
    /* Listed best-to-keep first; the expected deletion order is reversed. */
    cJSON *p[] = {
        pod("old-ready", "{}", RS_UID, "n1", "Running", 10, 0, 0),
        pod("young-ready", "{}", RS_UID, "n1", "Running", 50, 1, 0),
        pod("restarty", "{}", RS_UID, "n1", "Running", 50, 1, 7),
        pod("not-ready", "{}", RS_UID, "n1", "Running", -1, 2, 0),
        pod("pending", "{}", RS_UID, "n1", "Pending", -1, 3, 0),
        pod("unscheduled", "{}", RS_UID, NULL, "Pending", -1, 4, 0),
    };
    size_t n = sizeof p / sizeof *p;
    cJSON *rs = rs_obj(0, 0, false);
    const cJSON **del = NULL;
    assert_int_equal(repl_diff(rs, (const cJSON *const *)p, n, &del), -(int64_t)n);
    const char *want[] = {"unscheduled", "pending",     "not-ready",
                          "restarty",    "young-ready", "old-ready"};
    for (size_t i = 0; i < n; i++)
        assert_string_equal(api_meta_name(del[i]), want[i]);
    free(del);
    /* The order is a strict one both ways round. */
    assert_true(repl_delete_cmp(p[5], p[0]) < 0);
    assert_true(repl_delete_cmp(p[0], p[5]) > 0);
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(p[i]);
    cJSON_Delete(rs);
}

static void test_status(void **state)
{
    (void)state;
    cJSON *rs = rs_obj(4, 30, false);
    cJSON *p[] = {
        pod("a", "{'app':'web','tier':'fe'}", RS_UID, "n1", "Running", 0, 0, 0),  /* avail */
        pod("b", "{'app':'web','tier':'fe'}", RS_UID, "n1", "Running", 90, 0, 0), /* ready */
        pod("c", "{'app':'web'}", RS_UID, "n1", "Running", -1, 0, 0),             /* neither */
    };
    uint64_t now = T0 + 100 * 1000;
    cJSON *st = repl_status(rs, (const cJSON *const *)p, 3, now, NULL);
    assert_int_equal(cj_int(st, "replicas", -1), 3);
    assert_int_equal(cj_int(st, "fullyLabeledReplicas", -1), 2);
    assert_int_equal(cj_int(st, "readyReplicas", -1), 2);
    assert_int_equal(cj_int(st, "availableReplicas", -1), 1);
    assert_int_equal(cj_int(st, "observedGeneration", -1), 4);
    assert_false(repl_status_equal(cj_get(rs, "status"), st));
    assert_true(repl_status_equal(st, st));
    /* b becomes available 30 s after it became ready (at 90 s): in 20 s */
    assert_int_equal(repl_next_available(rs, (const cJSON *const *)p, 3, now), 20000);
    cJSON *later = repl_status(rs, (const cJSON *const *)p, 3, now + 20000, NULL);
    assert_int_equal(cj_int(later, "availableReplicas", -1), 2);
    /* a create failure shows as ReplicaFailure, and goes once it is over */
    cJSON *failed = repl_status(rs, (const cJSON *const *)p, 3, now, "quota exceeded");
    cJSON *holder = cj_new_obj();
    cj_set(holder, "status", failed);
    const cJSON *c = cx_condition(holder, "ReplicaFailure");
    assert_non_null(c);
    assert_string_equal(cj_str0(c, "reason"), "FailedCreate");
    assert_string_equal(cj_str0(c, "message"), "quota exceeded");
    cJSON_Delete(holder);
    cJSON_Delete(st);
    cJSON_Delete(later);
    for (int i = 0; i < 3; i++)
        cJSON_Delete(p[i]);
    cJSON_Delete(rs);
}

static void test_status_equal_absent_is_zero(void **state)
{
    (void)state;
    /* Kubernetes omits zero counts: a stored status without them is equal. */
    cJSON *stored = J("{'replicas':0,'observedGeneration':4}");
    cJSON *mine = J("{'replicas':0,'fullyLabeledReplicas':0,'readyReplicas':0,"
                    "'availableReplicas':0,'observedGeneration':4,'conditions':[]}");
    assert_true(repl_status_equal(stored, mine));
    cJSON_Delete(stored);
    cJSON_Delete(mine);
}

static void test_pod_from_template(void **state)
{
    (void)state;
    cJSON *rs = rs_obj(1, 0, false);
    cJSON *p = repl_pod_from_template(&ctrl_kind_rs, rs);
    assert_string_equal(cj_str0(p, "metadata.generateName"), "web-");
    assert_null(cj_get(p, "metadata.name"));
    assert_string_equal(cj_str0(p, "metadata.namespace"), "default");
    assert_string_equal(cj_str0(p, "metadata.labels.tier"), "fe");
    assert_string_equal(cj_str0(p, "metadata.annotations.a"), "b");
    const cJSON *ref = api_meta_controller_ref(p);
    assert_non_null(ref);
    assert_string_equal(cj_str0(ref, "kind"), "ReplicaSet");
    assert_string_equal(cj_str0(ref, "apiVersion"), "apps/v1");
    assert_string_equal(cj_str0(ref, "uid"), RS_UID);
    assert_true(cj_true(ref, "blockOwnerDeletion"));
    assert_string_equal(cj_str0(cJSON_GetArrayItem(cj_get(p, "spec.containers"), 0), "image"),
                        "nginx");
    cJSON *rcp = repl_pod_from_template(&ctrl_kind_rc, rs);
    assert_string_equal(cj_str0(api_meta_controller_ref(rcp), "kind"), "ReplicationController");
    assert_string_equal(cj_str0(api_meta_controller_ref(rcp), "apiVersion"), "v1");
    cJSON_Delete(p);
    cJSON_Delete(rcp);
    cJSON_Delete(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claim),
        cmocka_unit_test(test_rc_map_selector),
        cmocka_unit_test(test_diff_and_burst),
        cmocka_unit_test(test_scale_down_order),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_status_equal_absent_is_zero),
        cmocka_unit_test(test_pod_from_template),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
