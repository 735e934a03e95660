/*
 * test_filters.c - each filter and score of the scheduler against the
 * behaviour Kubernetes documents for it: pod requests with init containers,
 * sidecars and overhead; tolerations (Equal, Exists, empty key, empty
 * effect, PreferNoSchedule); cordoned and not-ready nodes; nodeSelector and
 * required node affinity with every operator; host ports; resources fit;
 * MostAllocated; and the compact form the informer keeps.
 */
#include "schedtest.h"

static struct sc_node node_of(cJSON *j)
{
    struct sc_node n = {0};
    char err[256] = "";
    n.name = (char *)cJSON_GetObjectItem(cJSON_GetObjectItem(j, "metadata"), "name")->valuestring;
    if (sc_node_parse(j, &n, err, sizeof(err)) < 0) fail_msg("sc_node_parse: %s", err);
    n.name = strdup(n.name);
    cJSON_Delete(j);
    return n;
}

static void node_done(struct sc_node *n)
{
    sc_node_clear_spec(n);
    free(n->name);
}

/* -------------------------------------------------------------- requests */

static void test_requests_sum_of_containers(void **state)
{
    (void)state;
    cJSON *j = J("{'metadata':{'name':'p','namespace':'default'},'spec':{'containers':["
                 "{'name':'a','resources':{'requests':{'cpu':'100m','memory':'200Mi'}}},"
                 "{'name':'b','resources':{'requests':{'cpu':'0.25','memory':'1Gi'}}}]}}");
    struct sc_pod p = parse_pod(j);
    assert_int_equal(p.req.cpu, 350);
    assert_int_equal(p.req.mem, 200LL * 1024 * 1024 + 1024LL * 1024 * 1024);
    assert_int_equal(p.nz.cpu, 350);
    sc_pod_clear(&p);
    cJSON_Delete(j);
}

/* Kubernetes: the effective request is the larger of the largest init
 * container and the sum of the app containers. */
static void test_requests_init_containers(void **state)
{
    (void)state;
    cJSON *j =
        J("{'metadata':{'name':'p'},'spec':{"
          "'initContainers':[{'name':'i1','resources':{'requests':{'cpu':'2','memory':'64Mi'}}},"
          "{'name':'i2','resources':{'requests':{'cpu':'500m','memory':'1Gi'}}}],"
          "'containers':[{'name':'a','resources':{'requests':{'cpu':'300m','memory':'100Mi'}}},"
          "{'name':'b','resources':{'requests':{'cpu':'300m','memory':'100Mi'}}}]}}");
    struct sc_pod p = parse_pod(j);
    assert_int_equal(p.req.cpu, 2000);                 /* init i1 > 600m of containers */
    assert_int_equal(p.req.mem, 1024LL * 1024 * 1024); /* init i2 > 200Mi */
    sc_pod_clear(&p);
    cJSON_Delete(j);
}

/* Sidecars (init containers with restartPolicy Always) keep running: they
 * add to the app containers and to every init container after them. */
static void test_requests_sidecars_and_overhead(void **state)
{
    (void)state;
    cJSON *j =
        J("{'metadata':{'name':'p'},'spec':{'overhead':{'cpu':'250m','memory':'120Mi'},"
          "'initContainers':["
          "{'name':'proxy','restartPolicy':'Always','resources':{'requests':{'cpu':'100m'}}},"
          "{'name':'migrate','resources':{'requests':{'cpu':'1'}}}],"
          "'containers':[{'name':'a','resources':{'requests':{'cpu':'200m','memory':'1Mi'}}}]}}");
    struct sc_pod p = parse_pod(j);
    /* max(1000 + 100 (migrate beside the sidecar), 200 + 100) + 250 */
    assert_int_equal(p.req.cpu, 1350);
    assert_int_equal(p.req.mem, 121LL * 1024 * 1024);
    sc_pod_clear(&p);
    cJSON_Delete(j);
}

/* Limits stand in for missing requests; containers with no request count
 * 100m / 200Mi for scoring only. */
static void test_requests_limits_and_nonzero(void **state)
{
    (void)state;
    cJSON *j = J("{'metadata':{'name':'p'},'spec':{'containers':["
                 "{'name':'a','resources':{'limits':{'cpu':'1','memory':'1Gi'}}},"
                 "{'name':'b'}]}}");
    struct sc_pod p = parse_pod(j);
    assert_int_equal(p.req.cpu, 1000);
    assert_int_equal(p.req.mem, 1024LL * 1024 * 1024);
    assert_int_equal(p.nz.cpu, 1000 + SC_DEFAULT_MILLI_CPU);
    assert_int_equal(p.nz.mem, 1024LL * 1024 * 1024 + SC_DEFAULT_MEMORY);
    sc_pod_clear(&p);
    cJSON_Delete(j);

    j = J("{'metadata':{'name':'p'},'spec':{'containers':[{'name':'a','resources':{'requests':"
          "{'cpu':'bogus'}}}]}}");
    struct sc_pod q;
    char err[256] = "";
    assert_int_equal(sc_pod_parse(j, &q, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "container a: cpu"));
    cJSON_Delete(j);
}

static void test_owner_and_ports(void **state)
{
    (void)state;
    cJSON *j = pod_json("web", "100m", NULL, "'tolerations':[{'operator':'Exists'}]");
    cJSON_Delete(cJSON_DetachItemFromObject(cJSON_GetObjectItem(j, "spec"), "containers"));
    cJSON_AddItemToObject(
        cJSON_GetObjectItem(j, "spec"), "containers",
        J("[{'name':'c','ports':[{'containerPort':80,'hostPort':8080},"
          "{'containerPort':53,'hostPort':53,'protocol':'UDP','hostIP':'10.0.0.1'},"
          "{'containerPort':9090}]}]"));
    set_owner(j, "rs-1");
    cJSON *refs = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "metadata"), "ownerReferences");
    cJSON_InsertItemInArray(refs, 0, J("{'kind':'Other','name':'x','uid':'not-controller'}"));
    struct sc_pod p = parse_pod(j);
    assert_string_equal(p.owner, "rs-1");
    assert_int_equal(p.nports, 2);
    assert_int_equal(p.ports[0].port, 8080);
    assert_int_equal(p.ports[0].proto, SC_TCP);
    assert_null(p.ports[0].ip);
    assert_int_equal(p.ports[1].proto, SC_UDP);
    assert_string_equal(p.ports[1].ip, "10.0.0.1");
    sc_pod_clear(&p);
    cJSON_Delete(j);
}

/* ------------------------------------------------------------- tolerations */

static void test_tolerations(void **state)
{
    (void)state;
    struct {
        const char *tol;
        const char *key, *value, *effect;
        bool want;
    } cases[] = {
        /* Kubernetes' documented examples for taint key1=value1:NoSchedule */
        {"[{'key':'key1','operator':'Equal','value':'value1','effect':'NoSchedule'}]", "key1",
         "value1", "NoSchedule", true},
        {"[{'key':'key1','operator':'Exists','effect':'NoSchedule'}]", "key1", "value1",
         "NoSchedule", true},
        {"[{'key':'key1','value':'value1','effect':'NoSchedule'}]", "key1", "value1", "NoSchedule",
         true}, /* no operator means Equal */
        {"[{'key':'key1','operator':'Equal','value':'other','effect':'NoSchedule'}]", "key1",
         "value1", "NoSchedule", false},
        {"[{'key':'key1','operator':'Equal','value':'value1','effect':'NoExecute'}]", "key1",
         "value1", "NoSchedule", false},
        {"[{'key':'key1','operator':'Exists'}]", "key1", "value1", "NoExecute", true},
        {"[{'operator':'Exists'}]", "anything", "v", "NoSchedule", true},
        {"[{'operator':'Exists','effect':'NoExecute'}]", "anything", "v", "NoSchedule", false},
        {"[{'key':'key2','operator':'Exists'}]", "key1", "", "NoSchedule", false},
        {"[{'key':'key1','operator':'Bogus'}]", "key1", "", "NoSchedule", false},
        {"[]", "key1", "", "NoSchedule", false},
        /* Several: any one tolerating is enough (the API server's defaults first). */
        {"[{'key':'node.kubernetes.io/not-ready','operator':'Exists','effect':'NoExecute',"
         "'tolerationSeconds':300},{'key':'key1','operator':'Equal','value':'value1',"
         "'effect':'NoSchedule'}]",
         "key1", "value1", "NoSchedule", true},
        {"[{'key':'node.kubernetes.io/not-ready','operator':'Exists','effect':'NoExecute',"
         "'tolerationSeconds':300},{'key':'key1','operator':'Equal','value':'value1',"
         "'effect':'NoSchedule'}]",
         "key1", "value2", "NoSchedule", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char extra[512];
        snprintf(extra, sizeof(extra), "'tolerations':%s", cases[i].tol);
        cJSON *pj = pod_json("p", NULL, NULL, extra);
        /* Whole, and through the compact form the informer keeps. */
        cJSON *t = sc_pod_trim(pj);
        struct sc_pod p = parse_pod(pj), q = parse_pod(t);
        bool got = sc_tolerates(&p, cases[i].key, cases[i].value, cases[i].effect);
        if (got != cases[i].want) fail_msg("case %zu: %s", i, cases[i].tol);
        got = sc_tolerates(&q, cases[i].key, cases[i].value, cases[i].effect);
        if (got != cases[i].want) fail_msg("case %zu (compact): %s", i, cases[i].tol);
        sc_pod_clear(&p);
        sc_pod_clear(&q);
        cJSON_Delete(t);
        cJSON_Delete(pj);
    }
}

static void test_taint_filter(void **state)
{
    (void)state;
    struct sc_node n =
        node_of(node_json("n1", "4", "8Gi", 110, "",
                          "'taints':[{'key':'soft','value':'x','effect':'PreferNoSchedule'},"
                          "{'key':'dedicated','value':'gpu','effect':'NoSchedule'},"
                          "{'key':'evict','effect':'NoExecute'}]"));
    cJSON *pj = pod_json("p", NULL, NULL, "");
    struct sc_pod p = parse_pod(pj);
    const struct sc_taint *t = sc_filter_taints(&p, &n);
    assert_non_null(t); /* PreferNoSchedule skipped: the first refusing one */
    assert_string_equal(t->key, "dedicated");
    sc_pod_clear(&p);
    cJSON_Delete(pj);

    pj = pod_json("p", NULL, NULL,
                  "'tolerations':[{'key':'dedicated','operator':'Equal','value':'gpu',"
                  "'effect':'NoSchedule'}]");
    p = parse_pod(pj);
    t = sc_filter_taints(&p, &n);
    assert_non_null(t);
    assert_string_equal(t->key, "evict");
    assert_string_equal(t->value, "");
    sc_pod_clear(&p);
    cJSON_Delete(pj);

    pj = pod_json("p", NULL, NULL,
                  "'tolerations':[{'key':'dedicated','operator':'Exists'},"
                  "{'key':'evict','operator':'Exists','effect':'NoExecute',"
                  "'tolerationSeconds':300}]");
    p = parse_pod(pj);
    assert_null(sc_filter_taints(&p, &n));
    sc_pod_clear(&p);
    cJSON_Delete(pj);
    node_done(&n);
}

/* Not Ready is the not-ready taint, as Kubernetes' lifecycle controller
 * puts it; Unknown is unreachable; a node already tainted keeps its own. */
static void test_readiness_as_taints(void **state)
{
    (void)state;
    cJSON *j = node_json("n1", "4", "8Gi", 110, "", "");
    cJSON *ready =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "status"), "conditions"), 1);
    cJSON_ReplaceItemInObject(ready, "status", cJSON_CreateString("False"));
    struct sc_node n = node_of(j);
    assert_int_equal(n.ntaints, 1);
    assert_string_equal(n.taints[0].key, SC_TAINT_NOT_READY);
    assert_string_equal(n.taints[0].effect, "NoSchedule");
    cJSON *pj = pod_json("p", NULL, NULL, "");
    struct sc_pod p = parse_pod(pj);
    assert_non_null(sc_filter_taints(&p, &n));
    sc_pod_clear(&p);
    cJSON_Delete(pj);
    /* A DaemonSet-style toleration lets the pod in. */
    pj = pod_json("p", NULL, NULL,
                  "'tolerations':[{'key':'node.kubernetes.io/not-ready','operator':'Exists'}]");
    p = parse_pod(pj);
    assert_null(sc_filter_taints(&p, &n));
    sc_pod_clear(&p);
    cJSON_Delete(pj);
    node_done(&n);

    j = node_json("n2", "4", "8Gi", 110, "", "");
    ready =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "status"), "conditions"), 1);
    cJSON_ReplaceItemInObject(ready, "status", cJSON_CreateString("Unknown"));
    n = node_of(j);
    assert_int_equal(n.ntaints, 1);
    assert_string_equal(n.taints[0].key, SC_TAINT_UNREACHABLE);
    node_done(&n);

    /* No conditions at all: not ready; an explicit taint is not doubled. */
    n = node_of(J("{'metadata':{'name':'n3'},'spec':{'taints':[{'key':"
                  "'node.kubernetes.io/not-ready','effect':'NoExecute'}]},"
                  "'status':{'allocatable':{'cpu':'1'}}}"));
    assert_int_equal(n.ntaints, 1);
    assert_string_equal(n.taints[0].effect, "NoExecute");
    node_done(&n);
}

static void test_unschedulable(void **state)
{
    (void)state;
    struct sc_node n = node_of(node_json("n1", "4", "8Gi", 110, "", "'unschedulable':true"));
    cJSON *pj = pod_json("p", NULL, NULL, "");
    struct sc_pod p = parse_pod(pj);
    assert_false(sc_filter_unschedulable(&p, &n));
    sc_pod_clear(&p);
    cJSON_Delete(pj);
    pj = pod_json("p", NULL, NULL,
                  "'tolerations':[{'key':'node.kubernetes.io/unschedulable','operator':'Exists',"
                  "'effect':'NoSchedule'}]");
    p = parse_pod(pj);
    assert_true(sc_filter_unschedulable(&p, &n));
    sc_pod_clear(&p);
    cJSON_Delete(pj);
    node_done(&n);
}

/* --------------------------------------------------------------- affinity */

static bool affinity_ok(const char *node_labels, const char *pod_extra)
{
    char meta[512];
    snprintf(meta, sizeof(meta), "'labels':%s", node_labels);
    struct sc_node n = node_of(node_json("node-a", "4", "8Gi", 110, meta, ""));
    cJSON *pj = pod_json("p", NULL, NULL, pod_extra);
    struct sc_pod p = parse_pod(pj);
    bool ok = sc_filter_affinity(&p, &n);
    sc_pod_clear(&p);
    cJSON_Delete(pj);
    node_done(&n);
    return ok;
}

#define AFF(exprs)                                                                                 \
    "'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"                \
    "{'nodeSelectorTerms':[" exprs "]}}}"

static void test_node_selector(void **state)
{
    (void)state;
    const char *labels = "{'disktype':'ssd','kubernetes.io/arch':'arm64'}";
    assert_true(affinity_ok(labels, "'nodeSelector':{'disktype':'ssd'}"));
    assert_true(
        affinity_ok(labels, "'nodeSelector':{'disktype':'ssd','kubernetes.io/arch':'arm64'}"));
    assert_false(affinity_ok(labels, "'nodeSelector':{'disktype':'hdd'}"));
    assert_false(affinity_ok(labels, "'nodeSelector':{'disktype':'ssd','zone':'a'}"));
    assert_true(affinity_ok("{}", "'nodeSelector':{}"));
    assert_false(affinity_ok("{}", "'nodeSelector':{'disktype':'ssd'}"));
}

static void test_node_affinity_operators(void **state)
{
    (void)state;
    const char *l = "{'zone':'a','gen':'5','disktype':'ssd'}";
    assert_true(affinity_ok(
        l, AFF("{'matchExpressions':[{'key':'zone','operator':'In','values':['a','b']}]}")));
    assert_false(affinity_ok(
        l, AFF("{'matchExpressions':[{'key':'zone','operator':'In','values':['b']}]}")));
    assert_false(affinity_ok(
        l, AFF("{'matchExpressions':[{'key':'nolabel','operator':'In','values':['a']}]}")));
    assert_true(affinity_ok(
        l, AFF("{'matchExpressions':[{'key':'zone','operator':'NotIn','values':['b']}]}")));
    assert_false(affinity_ok(
        l, AFF("{'matchExpressions':[{'key':'zone','operator':'NotIn','values':['a']}]}")));
    /* NotIn on an absent label matches, as in Kubernetes. */
    assert_true(affinity_ok(
        l, AFF("{'matchExpressions':[{'key':'nolabel','operator':'NotIn','values':['a']}]}")));
    assert_true(
        affinity_ok(l, AFF("{'matchExpressions':[{'key':'disktype','operator':'Exists'}]}")));
    assert_false(affinity_ok(l, AFF("{'matchExpressions':[{'key':'gpu','operator':'Exists'}]}")));
    assert_true(
        affinity_ok(l, AFF("{'matchExpressions':[{'key':'gpu','operator':'DoesNotExist'}]}")));
    assert_false(
        affinity_ok(l, AFF("{'matchExpressions':[{'key':'zone','operator':'DoesNotExist'}]}")));
    assert_true(
        affinity_ok(l, AFF("{'matchExpressions':[{'key':'gen','operator':'Gt','values':['4']}]}")));
    assert_false(
        affinity_ok(l, AFF("{'matchExpressions':[{'key':'gen','operator':'Gt','values':['5']}]}")));
    assert_true(
        affinity_ok(l, AFF("{'matchExpressions':[{'key':'gen','operator':'Lt','values':['6']}]}")));
    assert_false(
        affinity_ok(l, AFF("{'matchExpressions':[{'key':'gen','operator':'Lt','values':['5']}]}")));
    /* Gt on a non-integer label or an absent one does not match. */
    assert_false(affinity_ok(
        l, AFF("{'matchExpressions':[{'key':'zone','operator':'Gt','values':['1']}]}")));
    assert_false(affinity_ok(
        l, AFF("{'matchExpressions':[{'key':'nolabel','operator':'Lt','values':['1']}]}")));
    /* Expressions of a term are ANDed, terms are ORed. */
    assert_false(
        affinity_ok(l, AFF("{'matchExpressions':[{'key':'zone','operator':'In','values':['a']},"
                           "{'key':'disktype','operator':'In','values':['hdd']}]}")));
    assert_true(affinity_ok(
        l, AFF("{'matchExpressions':[{'key':'zone','operator':'In','values':['x']}]},"
               "{'matchExpressions':[{'key':'disktype','operator':'In','values':['ssd']}]}")));
    /* An empty term matches nothing; so do no terms at all. */
    assert_false(affinity_ok(l, AFF("{}")));
    assert_false(affinity_ok(l, AFF("")));
    /* matchFields on metadata.name. */
    assert_true(affinity_ok(
        l, AFF("{'matchFields':[{'key':'metadata.name','operator':'In','values':['node-a']}]}")));
    assert_false(affinity_ok(
        l,
        AFF("{'matchFields':[{'key':'metadata.name','operator':'NotIn','values':['node-a']}]}")));
    /* nodeSelector and affinity must both hold. */
    assert_false(affinity_ok(l, "'nodeSelector':{'zone':'b'}," AFF(
                                    "{'matchExpressions':[{'key':'zone','operator':'Exists'}]}")));
}

/* ------------------------------------------------------------------ ports */

static void test_host_ports(void **state)
{
    (void)state;
    sc_cache_t *c = sc_cache_new();
    add_node(c, node_json("n1", "4", "8Gi", 110, "", ""));
    cJSON *used = pod_json("used", NULL, NULL, "");
    cJSON_ReplaceItemInObject(
        cJSON_GetObjectItem(used, "spec"), "containers",
        J("[{'name':'c','ports':[{'containerPort':80,'hostPort':80},"
          "{'containerPort':53,'hostPort':53,'protocol':'UDP','hostIP':'10.0.0.1'}]}]"));
    place(c, used, "n1");
    const struct sc_node *n = sc_cache_node(c, "n1");
    struct {
        const char *ports;
        bool ok;
    } cases[] = {
        {"[{'containerPort':80,'hostPort':80}]", false},
        {"[{'containerPort':80,'hostPort':80,'protocol':'UDP'}]", true},
        {"[{'containerPort':80,'hostPort':80,'hostIP':'10.0.0.2'}]", false}, /* vs 0.0.0.0 */
        {"[{'containerPort':80,'hostPort':8080}]", true},
        {"[{'containerPort':80}]", true}, /* no hostPort: no claim */
        {"[{'containerPort':53,'hostPort':53,'protocol':'UDP','hostIP':'10.0.0.2'}]", true},
        {"[{'containerPort':53,'hostPort':53,'protocol':'UDP','hostIP':'10.0.0.1'}]", false},
        {"[{'containerPort':53,'hostPort':53,'protocol':'UDP','hostIP':'0.0.0.0'}]", false},
        {"[{'containerPort':53,'hostPort':53,'protocol':'UDP'}]", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *pj = pod_json("p", NULL, NULL, "");
        char buf[512];
        snprintf(buf, sizeof(buf), "[{'name':'c','ports':%s}]", cases[i].ports);
        cJSON_ReplaceItemInObject(cJSON_GetObjectItem(pj, "spec"), "containers", J(buf));
        struct sc_pod p = parse_pod(pj);
        if (sc_filter_ports(&p, n) != cases[i].ok) fail_msg("case %zu: %s", i, cases[i].ports);
        sc_pod_clear(&p);
        cJSON_Delete(pj);
    }
    /* The port is free again once the pod is gone. */
    assert_int_equal(sc_cache_del_pod(c, "default/used"), 1);
    assert_int_equal(sc_cache_node(c, "n1")->nused, 0);
    sc_cache_free(c);
}

/* -------------------------------------------------------------- resources */

static void test_resources_fit(void **state)
{
    (void)state;
    sc_cache_t *c = sc_cache_new();
    add_node(c, node_json("n1", "1", "1Gi", 2, "", ""));
    place(c, pod_json("a", "600m", "512Mi", ""), "n1");
    const struct sc_node *n = sc_cache_node(c, "n1");
    struct {
        const char *cpu, *mem;
        unsigned want;
    } cases[] = {
        {"400m", "512Mi", 0},
        {"401m", "100Mi", SC_FIT_CPU},
        {"100m", "513Mi", SC_FIT_MEMORY},
        {"2", "2Gi", SC_FIT_CPU | SC_FIT_MEMORY},
        {NULL, NULL, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *pj = pod_json("p", cases[i].cpu, cases[i].mem, "");
        struct sc_pod p = parse_pod(pj);
        assert_int_equal(sc_filter_resources(&p, n), cases[i].want);
        sc_pod_clear(&p);
        cJSON_Delete(pj);
    }
    /* pods: 2 allowed, 2 placed: even a pod asking nothing is refused. */
    place(c, pod_json("b", NULL, NULL, ""), "n1");
    cJSON *pj = pod_json("p", NULL, NULL, "");
    struct sc_pod p = parse_pod(pj);
    assert_int_equal(sc_filter_resources(&p, n), SC_FIT_PODS);
    sc_pod_clear(&p);
    cJSON_Delete(pj);
    pj = pod_json("p", "1", NULL, "");
    p = parse_pod(pj);
    assert_int_equal(sc_filter_resources(&p, n), SC_FIT_PODS | SC_FIT_CPU);
    sc_pod_clear(&p);
    cJSON_Delete(pj);
    sc_cache_free(c);
}

/* ------------------------------------------------------------------ score */

static void test_most_allocated(void **state)
{
    (void)state;
    sc_cache_t *c = sc_cache_new();
    add_node(c, node_json("n1", "4", "4Gi", 110, "", ""));
    place(c, pod_json("a", "1", "1Gi", ""), "n1");
    const struct sc_node *n = sc_cache_node(c, "n1");
    /* (1+1)/4 cpu = 50, (1+2)/4 memory = 75: (50+75)/2 = 62 */
    cJSON *pj = pod_json("p", "1", "2Gi", "");
    struct sc_pod p = parse_pod(pj);
    assert_int_equal(sc_score_most_allocated(&p, n), 62);
    sc_pod_clear(&p);
    cJSON_Delete(pj);
    /* A pod asking nothing still counts 100m and 200Mi in scores. */
    pj = pod_json("p", NULL, NULL, "");
    p = parse_pod(pj);
    /* cpu (1000+100)*100/4000 = 27, memory (1024+200)*100/4096 = 29 -> 28 */
    assert_int_equal(sc_score_most_allocated(&p, n), 28);
    sc_pod_clear(&p);
    cJSON_Delete(pj);
    /* Over capacity saturates at 100. */
    pj = pod_json("p", "8", "8Gi", "");
    p = parse_pod(pj);
    assert_int_equal(sc_score_most_allocated(&p, n), 100);
    sc_pod_clear(&p);
    cJSON_Delete(pj);
    sc_cache_free(c);
}

/* ------------------------------------------------------------------- trim */

static void test_trim_round_trip(void **state)
{
    (void)state;
    cJSON *full =
        J("{'metadata':{'name':'web-1','namespace':'prod','uid':'u1',"
          "'resourceVersion':'42','labels':{'app':'web'},"
          "'ownerReferences':[{'kind':'ReplicaSet','name':'web','uid':'rs9','controller':true}]},"
          "'spec':{'nodeSelector':{'disktype':'ssd'},'tolerations':[{'operator':'Exists'}],"
          "'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"
          "{'nodeSelectorTerms':[{'matchExpressions':[{'key':'a','operator':'Exists'}]}]}}},"
          "'schedulerName':'default-scheduler',"
          "'initContainers':[{'name':'i','resources':{'requests':{'cpu':'2'}}}],"
          "'containers':[{'name':'c','image':'x','env':[{'name':'A','value':'b'}],"
          "'resources':{'requests':{'cpu':'100m','memory':'64Mi'}},"
          "'ports':[{'containerPort':80,'hostPort':8080},"
          "{'containerPort':53,'hostPort':53,'protocol':'UDP','hostIP':'10.0.0.1'}]}]},"
          "'status':{'phase':'Pending','conditions':[{'type':'PodScheduled','status':'False',"
          "'reason':'Unschedulable','message':'0/1 nodes are available: 1 Too many pods.'}]}}");
    cJSON *t = sc_pod_trim(full);
    assert_non_null(t);
    assert_null(cJSON_GetObjectItem(t, "metadata"));
    struct sc_pod a = parse_pod(full), b = parse_pod(t);
    assert_int_equal(a.req.cpu, b.req.cpu);
    assert_int_equal(b.req.cpu, 2000);
    assert_int_equal(a.req.mem, b.req.mem);
    assert_int_equal(a.nz.cpu, b.nz.cpu);
    assert_int_equal(a.nz.mem, b.nz.mem);
    assert_string_equal(b.owner, "rs9");
    assert_string_equal(b.ns, "prod");
    assert_string_equal(b.name, "web-1");
    assert_string_equal(b.uid, "u1");
    assert_int_equal(b.nports, 2);
    assert_int_equal(b.ports[0].port, 8080);
    assert_null(b.ports[0].ip);
    assert_int_equal(b.ports[1].proto, SC_UDP);
    assert_string_equal(b.ports[1].ip, "10.0.0.1");
    assert_true(cJSON_Compare(a.node_selector, b.node_selector, true));
    assert_true(cJSON_Compare(a.affinity, b.affinity, true));
    assert_int_equal(b.ntols, 1);
    assert_int_equal(a.ntols, 1);
    assert_string_equal(b.tols[0].op, "Exists");
    assert_string_equal(b.tols[0].key, "");
    const char *s, *r, *m;
    sc_pod_sched_condition(t, &s, &r, &m);
    assert_string_equal(s, "False");
    assert_string_equal(r, "Unschedulable");
    assert_string_equal(m, "0/1 nodes are available: 1 Too many pods.");
    struct sc_facts f;
    assert_int_equal(sc_pod_facts(t, NULL, &f), 0);
    assert_string_equal(f.key, "prod/web-1");
    assert_string_equal(f.node, "");
    assert_true(f.ours);
    assert_false(f.terminal || f.deleting || f.gated);
    assert_int_equal(sc_pod_facts(t, "other", &f), 0);
    assert_false(f.ours);
    sc_pod_clear(&a);
    sc_pod_clear(&b);

    /* Only the condition changed: not a spec change. */
    cJSON *t2 = cJSON_Duplicate(t, true);
    cJSON_DeleteItemFromObject(t2, "psc");
    assert_false(sc_pod_spec_changed(t, t2));
    cJSON_ReplaceItemInObject(t2, "sel", J("{'disktype':'hdd'}"));
    assert_true(sc_pod_spec_changed(t, t2));
    cJSON_Delete(t2);
    cJSON_Delete(t);

    /* Once bound: one string, no constraints, no uid; another scheduler's. */
    cJSON_AddStringToObject(cJSON_GetObjectItem(full, "spec"), "nodeName", "n1");
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(full, "spec"), "schedulerName",
                              cJSON_CreateString("my-scheduler"));
    cJSON_AddStringToObject(cJSON_GetObjectItem(full, "metadata"), "deletionTimestamp",
                            "2026-01-01T00:00:00Z");
    t = sc_pod_trim(full);
    assert_true(cJSON_IsString(t));
    assert_int_equal(sc_pod_facts(t, NULL, &f), 0);
    assert_string_equal(f.node, "n1");
    assert_false(f.ours);
    assert_true(f.deleting);
    assert_int_equal(sc_pod_facts(t, "my-scheduler", &f), 0);
    assert_true(f.ours);
    b = parse_pod(t);
    assert_null(b.uid);
    assert_null(b.node_selector);
    assert_int_equal(b.req.cpu, 2000);
    assert_string_equal(b.owner, "rs9");
    sc_pod_clear(&b);
    sc_pod_sched_condition(t, &s, &r, &m);
    assert_string_equal(s, "");
    cJSON *t3 = sc_pod_trim(full);
    assert_false(sc_pod_spec_changed(t, t3));
    cJSON_Delete(t3);
    cJSON_Delete(t);

    /* Finished pods, and a namespace-less name-less oddity. */
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(full, "status"), "phase",
                              cJSON_CreateString("Succeeded"));
    t = sc_pod_trim(full);
    assert_int_equal(sc_pod_facts(t, NULL, &f), 0);
    assert_true(f.terminal);
    cJSON_Delete(t);
    cJSON_Delete(full);
    full = J("{'metadata':{},'spec':{'containers':[]}}");
    t = sc_pod_trim(full);
    assert_int_equal(sc_pod_facts(t, NULL, &f), -1);
    cJSON_Delete(t);
    cJSON_Delete(full);
}

/* A tab in a field must not shift the others. */
static void test_trim_hostile_fields(void **state)
{
    (void)state;
    cJSON *full = J("{'metadata':{'name':'p','namespace':'ns'},'spec':{'schedulerName':'a\\tb',"
                    "'containers':[{'name':'c','resources':{'requests':{'cpu':'1'}}}]}}");
    cJSON *t = sc_pod_trim(full);
    struct sc_facts f;
    assert_int_equal(sc_pod_facts(t, "a b", &f), 0);
    assert_true(f.ours);
    struct sc_pod p = parse_pod(t);
    assert_int_equal(p.req.cpu, 1000);
    sc_pod_clear(&p);
    cJSON_Delete(t);
    cJSON_Delete(full);
}

static void test_node_trim(void **state)
{
    (void)state;
    cJSON *full =
        node_json("n1", "4", "8Gi", 110, "'labels':{'a':'b'},'annotations':{'x':'y'}",
                  "'podCIDR':'10.42.1.0/24','taints':[{'key':'k','effect':'NoSchedule'}]");
    cJSON *t = sc_node_trim(full);
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "metadata"), "annotations"));
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "spec"), "podCIDR"));
    struct sc_node a = {.name = strdup("n1")}, b = {.name = strdup("n1")};
    char err[128];
    assert_int_equal(sc_node_parse(full, &a, err, sizeof(err)), 0);
    assert_int_equal(sc_node_parse(t, &b, err, sizeof(err)), 0);
    assert_int_equal(a.alloc.cpu, 4000);
    assert_int_equal(b.alloc.cpu, 4000);
    assert_int_equal(b.alloc.mem, 8LL << 30);
    assert_int_equal(b.alloc_pods, 110);
    assert_int_equal(b.ntaints, 1);
    assert_true(cJSON_Compare(a.labels, b.labels, true));
    /* A heartbeat changes nothing the scheduler sees. */
    cJSON *conds = cJSON_GetObjectItem(cJSON_GetObjectItem(full, "status"), "conditions");
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(conds, 1), "lastHeartbeatTime",
                              cJSON_CreateString("2026-01-01T00:00:10Z"));
    cJSON *t2 = sc_node_trim(full);
    assert_true(cJSON_Compare(t, t2, true));
    cJSON_Delete(t2);
    cJSON_Delete(t);
    cJSON_Delete(full);
    node_done(&a);
    node_done(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_sum_of_containers),
        cmocka_unit_test(test_requests_init_containers),
        cmocka_unit_test(test_requests_sidecars_and_overhead),
        cmocka_unit_test(test_requests_limits_and_nonzero),
        cmocka_unit_test(test_owner_and_ports),
        cmocka_unit_test(test_tolerations),
        cmocka_unit_test(test_taint_filter),
        cmocka_unit_test(test_readiness_as_taints),
        cmocka_unit_test(test_unschedulable),
        cmocka_unit_test(test_node_selector),
        cmocka_unit_test(test_node_affinity_operators),
        cmocka_unit_test(test_host_ports),
        cmocka_unit_test(test_resources_fit),
        cmocka_unit_test(test_most_allocated),
        cmocka_unit_test(test_trim_round_trip),
        cmocka_unit_test(test_trim_hostile_fields),
        cmocka_unit_test(test_node_trim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
