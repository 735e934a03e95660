/*
 * test_nodelifecycle.c - node lifecycle decisions with an injected clock:
 * the grace period counted from heartbeats seen (not from the node's own
 * timestamps), a fresh grace period at start, the Ready=Unknown patch, the
 * taints of each state (foreign taints kept), toleration matching and the
 * eviction time of each kind of pod.
 */
#include "testutil.h"

#define GRACE 4000
#define EVICT 3000

static void test_grace_period(void **state)
{
    (void)state;
    struct nl_track t;
    nl_track_init(&t, 100000); /* leadership taken at t=100 s: fresh grace */
    /* the first Lease seen is old news, not a heartbeat */
    nl_track_lease(&t, "2020-01-01T00:00:00.000000Z", true, 100500);
    assert_false(nl_stale(&t, 104000, GRACE));
    assert_true(nl_stale(&t, 104001, GRACE));
    /* renewals move the probe to when we saw them */
    nl_track_lease(&t, "2026-11-24T08:00:01.000000Z", false, 103000);
    assert_false(nl_stale(&t, 107000, GRACE));
    /* the same renewTime again is not a renewal */
    nl_track_lease(&t, "2026-11-24T08:00:01.000000Z", false, 106000);
    assert_true(nl_stale(&t, 107001, GRACE));
    /* a kubelet status heartbeat counts as well */
    nl_track_heartbeat(&t, "2026-11-24T08:00:09Z", true, 107500);
    assert_true(nl_stale(&t, 107600, GRACE));
    nl_track_heartbeat(&t, "2026-11-24T08:00:10Z", false, 108000);
    assert_false(nl_stale(&t, 111000, GRACE));
    nl_track_free(&t);
}

static void test_unknown_patch(void **state)
{
    (void)state;
    cJSON *n = J("{'metadata':{'name':'n1','creationTimestamp':'2026-11-24T07:00:00Z'},"
                 "'status':{'conditions':[{'type':'Ready','status':'True','reason':'KubeletReady',"
                 "'lastHeartbeatTime':'2026-11-24T07:59:00Z','lastTransitionTime':"
                 "'2026-11-24T07:00:00Z'},{'type':'MemoryPressure','status':'False'}]}}");
    cJSON *p = nl_unknown_patch(n, T0);
    assert_non_null(p);
    cJSON *holder = J("{}");
    cj_set(holder, "status", cx_dup(cj_get(p, "status")));
    const cJSON *r = cx_condition(holder, "Ready");
    assert_string_equal(cj_str0(r, "status"), "Unknown");
    assert_string_equal(cj_str0(r, "reason"), "NodeStatusUnknown");
    assert_string_equal(cj_str0(r, "message"), "Kubelet stopped posting node status.");
    assert_string_equal(cj_str0(r, "lastHeartbeatTime"), "2026-11-24T07:59:00Z");
    assert_string_equal(cj_str0(r, "lastTransitionTime"), ts(0));
    assert_string_equal(cj_str0(cx_condition(holder, "MemoryPressure"), "status"), "Unknown");
    /* already Unknown: nothing to write */
    cJSON *applied = cx_dup(n);
    cj_set(applied, "status", cx_dup(cj_get(p, "status")));
    assert_null(nl_unknown_patch(applied, T0 + 1000));
    /* a node that never posted gets NodeStatusNeverUpdated */
    cJSON *bare = J("{'metadata':{'name':'n2','creationTimestamp':'2026-11-24T07:00:00Z'}}");
    cJSON *p2 = nl_unknown_patch(bare, T0);
    const cJSON *c2 = cJSON_GetArrayItem(cj_get(p2, "status.conditions"), 0);
    assert_string_equal(cj_str0(c2, "reason"), "NodeStatusNeverUpdated");
    cJSON_Delete(n);
    cJSON_Delete(p);
    cJSON_Delete(holder);
    cJSON_Delete(applied);
    cJSON_Delete(bare);
    cJSON_Delete(p2);
}

static bool has_taint(const cJSON *taints, const char *key, const char *effect)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, taints)
    {
        if (!strcmp(cj_str0(t, "key"), key) && !strcmp(cj_str0(t, "effect"), effect)) return true;
    }
    return false;
}

static void test_taints(void **state)
{
    (void)state;
    cJSON *n = J("{'metadata':{'name':'n1'},'spec':{'taints':[{'key':'dedicated',"
                 "'value':'gpu','effect':'NoSchedule'}]},'status':{'conditions':"
                 "[{'type':'Ready','status':'True'}]}}");
    assert_int_equal(nl_state_of(n, false), NL_READY);
    assert_int_equal(nl_state_of(n, true), NL_UNREACHABLE);
    assert_null(nl_taints_for(n, NL_READY, T0)); /* nothing to change */
    cJSON *t = nl_taints_for(n, NL_UNREACHABLE, T0);
    assert_non_null(t);
    assert_int_equal(cJSON_GetArraySize(t), 3);
    assert_true(has_taint(t, "dedicated", "NoSchedule"));
    assert_true(has_taint(t, NL_TAINT_UNREACHABLE, "NoSchedule"));
    assert_true(has_taint(t, NL_TAINT_UNREACHABLE, "NoExecute"));
    /* applied: stable */
    cj_set(cj_obj(n, "spec"), "taints", t);
    assert_null(nl_taints_for(n, NL_UNREACHABLE, T0 + 5000));
    /* the kubelet says NotReady: not-ready replaces unreachable */
    cJSON *t2 = nl_taints_for(n, NL_NOT_READY, T0);
    assert_int_equal(cJSON_GetArraySize(t2), 3);
    assert_true(has_taint(t2, NL_TAINT_NOT_READY, "NoExecute"));
    assert_false(has_taint(t2, NL_TAINT_UNREACHABLE, "NoExecute"));
    cJSON_Delete(t2);
    /* back: only the foreign taint stays */
    cJSON *t3 = nl_taints_for(n, NL_READY, T0);
    assert_int_equal(cJSON_GetArraySize(t3), 1);
    assert_true(has_taint(t3, "dedicated", "NoSchedule"));
    cJSON_Delete(t3);
    /* Ready=False from the kubelet (fresh heartbeats) is NotReady */
    cJSON *nr = J("{'status':{'conditions':[{'type':'Ready','status':'False'}]}}");
    assert_int_equal(nl_state_of(nr, false), NL_NOT_READY);
    cJSON_Delete(nr);
    cJSON_Delete(n);
}

static void test_tolerations(void **state)
{
    (void)state;
    cJSON *taint = J("{'key':'" NL_TAINT_UNREACHABLE "','effect':'NoExecute'}");
    cJSON *exists = J("{'key':'" NL_TAINT_UNREACHABLE "','operator':'Exists'}");
    cJSON *all = J("{'operator':'Exists'}");
    cJSON *wrong_effect = J("{'key':'" NL_TAINT_UNREACHABLE "','operator':'Exists',"
                            "'effect':'NoSchedule'}");
    cJSON *equal = J("{'key':'k','value':'v','effect':'NoExecute'}");
    cJSON *kv = J("{'key':'k','value':'v','effect':'NoExecute'}");
    cJSON *kw = J("{'key':'k','value':'w','effect':'NoExecute'}");
    assert_true(nl_toleration_matches(exists, taint));
    assert_true(nl_toleration_matches(all, taint));
    assert_false(nl_toleration_matches(wrong_effect, taint));
    assert_true(nl_toleration_matches(equal, kv));
    assert_false(nl_toleration_matches(equal, kw));
    assert_false(nl_toleration_matches(equal, taint));
    cJSON *items[] = {taint, exists, all, wrong_effect, equal, kv, kw};
    for (size_t i = 0; i < sizeof items / sizeof *items; i++)
        cJSON_Delete(items[i]);
}

static void test_eviction_timing(void **state)
{
    (void)state;
    cJSON *node = J("{'spec':{'taints':[{'key':'" NL_TAINT_UNREACHABLE "','effect':'NoSchedule'},"
                    "{'key':'" NL_TAINT_UNREACHABLE "','effect':'NoExecute'}]}}");
    const cJSON *taints = cj_get(node, "spec.taints");
    cJSON *bare = J("{'spec':{}}");
    cJSON *tol2 = J("{'spec':{'tolerations':[{'key':'" NL_TAINT_UNREACHABLE "','operator':"
                    "'Exists','effect':'NoExecute','tolerationSeconds':2}]}}");
    cJSON *forever = J("{'spec':{'tolerations':[{'operator':'Exists'}]}}");
    cJSON *dflt =
        J("{'spec':{'tolerations':[{'key':'" NL_TAINT_NOT_READY "','operator':"
          "'Exists','effect':'NoExecute','tolerationSeconds':300},{'key':'" NL_TAINT_UNREACHABLE
          "','operator':'Exists','effect':'NoExecute','tolerationSeconds':300}]}}");
    assert_int_equal(nl_eviction_delay(bare, taints, EVICT), EVICT);
    assert_int_equal(nl_eviction_delay(tol2, taints, EVICT), 2000);
    assert_int_equal(nl_eviction_delay(forever, taints, EVICT), -1);
    assert_int_equal(nl_eviction_delay(dflt, taints, EVICT), 300000);
    /* no NoExecute taint: nobody goes */
    cJSON *soft = J("[{'key':'x','effect':'NoSchedule'}]");
    assert_int_equal(nl_eviction_delay(bare, soft, EVICT), -1);

    /* the clock starts when the taint is first seen */
    struct nl_track t;
    nl_track_init(&t, 0);
    assert_false(nl_evict_now(&t, bare, taints, 50000, EVICT));
    nl_track_taints(&t, node, 10000);
    nl_track_taints(&t, node, 11000); /* seen again: the start does not move */
    assert_false(nl_evict_now(&t, tol2, taints, 11999, EVICT));
    assert_true(nl_evict_now(&t, tol2, taints, 12000, EVICT));
    assert_false(nl_evict_now(&t, bare, taints, 12999, EVICT));
    assert_true(nl_evict_now(&t, bare, taints, 13000, EVICT));
    assert_false(nl_evict_now(&t, forever, taints, 1000000, EVICT));
    /* taints gone: the clock stops */
    cJSON *clean = J("{'spec':{}}");
    nl_track_taints(&t, clean, 14000);
    assert_false(nl_evict_now(&t, bare, taints, 20000, EVICT));
    nl_track_free(&t);
    cJSON *items[] = {node, bare, tol2, forever, dflt, soft, clean};
    for (size_t i = 0; i < sizeof items / sizeof *items; i++)
        cJSON_Delete(items[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grace_period),    cmocka_unit_test(test_unknown_patch),
        cmocka_unit_test(test_taints),          cmocka_unit_test(test_tolerations),
        cmocka_unit_test(test_eviction_timing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
