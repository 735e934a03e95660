/*
 * test_schedule.c - whole decisions over a cache: Kubernetes' unschedulable
 * message (counts, reason strings, sort order, one plugin per node), the
 * fill order on nodes of different sizes, replicas of one owner kept apart
 * when a fit allows and packed when it does not, the tie-break by name,
 * cordoned / tainted / unselected nodes skipped, assumed pods counted
 * until confirmed or forgotten, and nodes arriving after their pods.
 */
#include "schedtest.h"

static void test_fit_message_format(void **state)
{
    (void)state;
    struct sc_reason_count rc[] = {
        {"node(s) were unschedulable", 2},
        {"Insufficient cpu", 1},
    };
    char *m = sc_fit_message(3, rc, 2);
    assert_string_equal(m, "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were "
                           "unschedulable.");
    free(m);
    /* Go's sort.Strings is bytewise: "10 ..." sorts before "2 ...". */
    struct sc_reason_count rc2[] = {
        {"Insufficient memory", 2},
        {"node(s) didn't match Pod's node affinity/selector", 10},
    };
    m = sc_fit_message(12, rc2, 2);
    assert_string_equal(m, "0/12 nodes are available: 10 node(s) didn't match Pod's node "
                           "affinity/selector, 2 Insufficient memory.");
    free(m);
}

/* The issue's own example, from a real decision. */
static void test_unschedulable_message(void **state)
{
    (void)state;
    sc_cache_t *c = sc_cache_new();
    add_node(c, node_json("a", "1", "4Gi", 110, "", ""));
    add_node(c, node_json("b", "8", "4Gi", 110, "", "'unschedulable':true"));
    add_node(c, node_json("c", "8", "4Gi", 110, "", "'unschedulable':true"));
    assert_string_equal(decide(c, pod_json("big", "2", "1Gi", ""), false),
                        "!0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were "
                        "unschedulable.");
    /* A node failing a filter is counted once, under the first plugin that
     * refused it (NodeUnschedulable before NodeResourcesFit), while
     * NodeResourcesFit counts every resource that is short. */
    assert_string_equal(decide(c, pod_json("huge", "16", "8Gi", ""), false),
                        "!0/3 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 2 "
                        "node(s) were unschedulable.");
    sc_cache_free(c);
}

static void test_message_reasons(void **state)
{
    (void)state;
    sc_cache_t *c = sc_cache_new();
    add_node(c, node_json("gpu", "4", "4Gi", 110, "'labels':{'disktype':'ssd'}",
                          "'taints':[{'key':'dedicated','value':'gpu','effect':'NoSchedule'}]"));
    add_node(c, node_json("hdd", "4", "4Gi", 110, "'labels':{'disktype':'hdd'}", ""));
    add_node(c, node_json("full", "4", "4Gi", 1, "'labels':{'disktype':'ssd'}", ""));
    cJSON *nr = node_json("down", "4", "4Gi", 110, "'labels':{'disktype':'ssd'}", "");
    cJSON_ReplaceItemInObject(
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(nr, "status"), "conditions"), 1),
        "status", cJSON_CreateString("False"));
    add_node(c, nr);
    add_node(c, node_json("ports", "4", "4Gi", 110, "'labels':{'disktype':'ssd'}", ""));
    place(c, pod_json("filler", NULL, NULL, ""), "full");
    cJSON *hp = pod_json("hp", NULL, NULL, "");
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(hp, "spec"), "containers",
                              J("[{'name':'c','ports':[{'containerPort':80,'hostPort':80}]}]"));
    place(c, hp, "ports");

    cJSON *p = pod_json("p", NULL, NULL, "'nodeSelector':{'disktype':'ssd'}");
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(p, "spec"), "containers",
                              J("[{'name':'c','ports':[{'containerPort':80,'hostPort':80}]}]"));
    assert_string_equal(decide(c, p, false),
                        "!0/5 nodes are available: 1 Too many pods, 1 node(s) didn't have free "
                        "ports for the requested pod ports, 1 node(s) didn't match Pod's node "
                        "affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}, 1 "
                        "node(s) had untolerated taint {node.kubernetes.io/not-ready: }.");
    sc_cache_free(c);

    c = sc_cache_new();
    assert_string_equal(decide(c, pod_json("p", NULL, NULL, ""), false),
                        "!no nodes available to schedule pods");
    sc_cache_free(c);
}

/* Bin-packing: pods without an owner fill the node where they take the
 * largest share first, so small clusters keep whole nodes free. */
static void test_fill_order_different_sizes(void **state)
{
    (void)state;
    sc_cache_t *c = sc_cache_new();
    add_node(c, node_json("big", "8", "8Gi", 110, "", ""));
    add_node(c, node_json("small", "2", "2Gi", 110, "", ""));
    add_node(c, node_json("medium", "4", "4Gi", 110, "", ""));
    const char *order[8];
    for (int i = 0; i < 7; i++) {
        char name[16];
        snprintf(name, sizeof(name), "p%d", i);
        order[i] = strdup(decide(c, pod_json(name, "1", "1Gi", ""), true));
    }
    /* small takes 2, then medium 4, then big. */
    const char *want[] = {"small", "small", "medium", "medium", "medium", "medium", "big"};
    for (int i = 0; i < 7; i++) {
        assert_string_equal(order[i], want[i]);
        free((void *)order[i]);
    }
    sc_cache_free(c);
}

/* Replicas of one controller go to different nodes when a fit allows,
 * even against bin-packing; when only one node fits, they share it. */
static void test_spread_beats_binpacking(void **state)
{
    (void)state;
    sc_cache_t *c = sc_cache_new();
    add_node(c, node_json("pi-1", "4", "1Gi", 110, "", ""));
    add_node(c, node_json("pi-2", "4", "1Gi", 110, "", ""));
    add_node(c, node_json("pi-3", "4", "1Gi", 110, "", ""));
    /* pi-2 is the fullest: bin-packing alone would put both replicas there. */
    place(c, pod_json("other", "2", "256Mi", ""), "pi-2");
    cJSON *r1 = pod_json("web-1", "500m", "128Mi", "");
    set_owner(r1, "rs-web");
    assert_string_equal(decide(c, r1, true), "pi-2");
    cJSON *r2 = pod_json("web-2", "500m", "128Mi", "");
    set_owner(r2, "rs-web");
    const char *second = decide(c, r2, true);
    assert_string_not_equal(second, "pi-2");
    assert_string_equal(second, "pi-1"); /* pi-1 / pi-3 tie: by name */
    cJSON *r3 = pod_json("web-3", "500m", "128Mi", "");
    set_owner(r3, "rs-web");
    assert_string_equal(decide(c, r3, true), "pi-3");
    /* A fourth replica: every node has one; bin-packing decides again. */
    cJSON *r4 = pod_json("web-4", "500m", "128Mi", "");
    set_owner(r4, "rs-web");
    assert_string_equal(decide(c, r4, true), "pi-2");
    /* Another owner is not pushed away by rs-web's replicas. */
    cJSON *o = pod_json("db-1", "500m", "128Mi", "");
    set_owner(o, "rs-db");
    assert_string_equal(decide(c, o, true), "pi-2");
    sc_cache_free(c);

    /* Only one node has room: replicas share it rather than stay pending. */
    c = sc_cache_new();
    add_node(c, node_json("roomy", "4", "4Gi", 110, "", ""));
    add_node(c, node_json("tiny", "1", "4Gi", 110, "", ""));
    for (int i = 0; i < 2; i++) {
        char name[16];
        snprintf(name, sizeof(name), "r%d", i);
        cJSON *r = pod_json(name, "2", "128Mi", "");
        set_owner(r, "rs-x");
        assert_string_equal(decide(c, r, true), "roomy");
    }
    sc_cache_free(c);
}

static void test_tie_break_by_name(void **state)
{
    (void)state;
    sc_cache_t *c = sc_cache_new();
    add_node(c, node_json("node-c", "4", "4Gi", 110, "", ""));
    add_node(c, node_json("node-a", "4", "4Gi", 110, "", ""));
    add_node(c, node_json("node-b", "4", "4Gi", 110, "", ""));
    assert_string_equal(decide(c, pod_json("p", "1", "1Gi", ""), false), "node-a");
    sc_cache_free(c);
}

static void test_skips_cordoned_tainted_unselected(void **state)
{
    (void)state;
    sc_cache_t *c = sc_cache_new();
    /* The fullest-looking nodes are the ones that must be skipped. */
    add_node(c, node_json("cordoned", "1", "1Gi", 110, "", "'unschedulable':true"));
    add_node(c, node_json("tainted", "1", "1Gi", 110, "",
                          "'taints':[{'key':'dedicated','value':'db','effect':'NoSchedule'}]"));
    add_node(c, node_json("arm", "1", "1Gi", 110, "'labels':{'kubernetes.io/arch':'arm64'}", ""));
    add_node(c, node_json("free", "8", "8Gi", 110, "'labels':{'kubernetes.io/arch':'amd64'}", ""));
    assert_string_equal(
        decide(c, pod_json("p", "500m", "100Mi", "'nodeSelector':{'kubernetes.io/arch':'amd64'}"),
               false),
        "free");
    /* Without the selector, arm wins by bin-packing; cordoned and tainted
     * still do not. */
    assert_string_equal(decide(c, pod_json("p", "500m", "100Mi", ""), false), "arm");
    /* With the toleration, the tainted node is allowed too: it ties with
     * arm, and arm wins by name. */
    assert_string_equal(decide(c,
                               pod_json("p", "500m", "100Mi",
                                        "'tolerations':[{'key':'dedicated','operator':'Equal',"
                                        "'value':'db','effect':'NoSchedule'}],"
                                        "'nodeSelector':{}"),
                               false),
                        "arm");
    sc_cache_free(c);
}

/* Assumed pods count at once, so a burst does not overcommit a node; a
 * failed binding forgets them; the API's view replaces them. */
static void test_assumed_pods(void **state)
{
    (void)state;
    sc_cache_t *c = sc_cache_new();
    add_node(c, node_json("n1", "2", "2Gi", 110, "", ""));
    assert_string_equal(decide(c, pod_json("a", "1", "1Gi", ""), true), "n1");
    assert_string_equal(decide(c, pod_json("b", "1", "1Gi", ""), true), "n1");
    bool assumed = false;
    assert_string_equal(sc_cache_pod_node(c, "default/a", &assumed), "n1");
    assert_true(assumed);
    /* Full: the third of the burst does not fit, although the API has not
     * reported a single binding yet. */
    assert_string_equal(decide(c, pod_json("c", "1", "1Gi", ""), false),
                        "!0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.");
    /* b's binding failed: forget it, and c fits. */
    assert_int_equal(sc_cache_del_pod(c, "default/b"), 1);
    assert_string_equal(decide(c, pod_json("c", "1", "1Gi", ""), true), "n1");
    /* The informer confirms a: replacing, not adding. */
    place(c, pod_json("a", "1", "1Gi", ""), "n1");
    assert_string_equal(sc_cache_pod_node(c, "default/a", &assumed), "n1");
    assert_false(assumed);
    const struct sc_node *n = sc_cache_node(c, "n1");
    assert_int_equal(n->requested.cpu, 2000);
    assert_int_equal(n->npods, 2);
    assert_int_equal(sc_cache_pod_count(c), 2);
    sc_cache_free(c);
}

/* Pods seen before their node still count once the Node arrives, and a
 * node deleted with pods on it is no longer offered. */
static void test_node_after_pods_and_removal(void **state)
{
    (void)state;
    sc_cache_t *c = sc_cache_new();
    place(c, pod_json("early", "1500m", "1Gi", ""), "late");
    size_t n;
    sc_cache_nodes(c, &n);
    assert_int_equal(n, 0);
    add_node(c, node_json("late", "2", "4Gi", 110, "", ""));
    assert_string_equal(decide(c, pod_json("p", "1", "1Gi", ""), false),
                        "!0/1 nodes are available: 1 Insufficient cpu.");
    assert_int_equal(sc_cache_del_node(c, "late"), 1);
    sc_cache_nodes(c, &n);
    assert_int_equal(n, 0);
    assert_int_equal(sc_cache_del_pod(c, "default/early"), 1);
    assert_null(sc_cache_node(c, "late"));
    sc_cache_free(c);
}

static void test_set_node_reports_changes(void **state)
{
    (void)state;
    sc_cache_t *c = sc_cache_new();
    char err[128];
    cJSON *n = node_json("n1", "2", "2Gi", 110, "'labels':{'a':'1'}", "");
    assert_int_equal(sc_cache_set_node(c, n, err, sizeof(err)), 1);
    assert_int_equal(sc_cache_set_node(c, n, err, sizeof(err)), 0);
    cJSON_AddTrueToObject(cJSON_GetObjectItem(n, "spec"), "unschedulable");
    assert_int_equal(sc_cache_set_node(c, n, err, sizeof(err)), 1);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(cJSON_GetObjectItem(n, "metadata"), "labels"),
                              "a", cJSON_CreateString("2"));
    assert_int_equal(sc_cache_set_node(c, n, err, sizeof(err)), 1);
    cJSON_Delete(n);
    n = J("{'metadata':{'name':'bad'},'status':{'allocatable':{'cpu':'lots'}}}");
    assert_int_equal(sc_cache_set_node(c, n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cpu"));
    cJSON_Delete(n);
    sc_cache_free(c);
}

/* Many nodes, slots reused after deletions, owner counts by slot. */
static void test_many_nodes_and_owner_counts(void **state)
{
    (void)state;
    sc_cache_t *c = sc_cache_new();
    for (int i = 0; i < 40; i++) {
        char name[16];
        snprintf(name, sizeof(name), "n%02d", i);
        add_node(c, node_json(name, "2", "2Gi", 110, "", ""));
    }
    for (int i = 0; i < 40; i += 2) {
        char name[16];
        snprintf(name, sizeof(name), "n%02d", i);
        sc_cache_del_node(c, name);
    }
    size_t n;
    sc_cache_nodes(c, &n);
    assert_int_equal(n, 20);
    /* 20 replicas over 20 nodes: one each. */
    for (int i = 0; i < 20; i++) {
        char name[16];
        snprintf(name, sizeof(name), "r%02d", i);
        cJSON *r = pod_json(name, "100m", "10Mi", "");
        set_owner(r, "rs-many");
        decide(c, r, true);
    }
    int32_t *counts = calloc(sc_cache_slots(c), sizeof(*counts));
    sc_cache_owner_counts(c, "rs-many", counts);
    struct sc_node *const *nodes = sc_cache_nodes(c, &n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(counts[nodes[i]->slot], 1);
    free(counts);
    sc_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_message_format),
        cmocka_unit_test(test_unschedulable_message),
        cmocka_unit_test(test_message_reasons),
        cmocka_unit_test(test_fill_order_different_sizes),
        cmocka_unit_test(test_spread_beats_binpacking),
        cmocka_unit_test(test_tie_break_by_name),
        cmocka_unit_test(test_skips_cordoned_tainted_unselected),
        cmocka_unit_test(test_assumed_pods),
        cmocka_unit_test(test_node_after_pods_and_removal),
        cmocka_unit_test(test_set_node_reports_changes),
        cmocka_unit_test(test_many_nodes_and_owner_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
