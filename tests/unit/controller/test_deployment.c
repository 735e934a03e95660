/*
 * test_deployment.c - the Deployment decisions, driven through whole
 * rollouts: a small simulator applies each plan to fake ReplicaSets (the
 * ReplicaSet controller creating and deleting pods at once, the kubelet
 * making them ready one round later) and checks Kubernetes' invariants at
 * every step. Also: template hashes and equality, fenceposts, revision
 * handling for `rollout undo`, Recreate, pause, proportional scaling,
 * revision history clean-up and the status conditions kubectl reads.
 */
#include "testutil.h"

#define DUID "dep-uid"

struct sim {
    cJSON *d;
    cJSON *rs[32];
    int n;
    int clock; /* seconds since T0 */
    int rs_seq;
    bool pods_running; /* what the Recreate check is told */
    int created;       /* ReplicaSets created so far */
};

static cJSON *deployment(int replicas, const char *image, const char *strategy)
{
    return JF("{'metadata':{'name':'web','namespace':'default','uid':'%s','generation':1,"
              "'annotations':{'kubernetes.io/change-cause':'first'}},"
              "'spec':{'replicas':%d,'selector':{'matchLabels':{'app':'web'}},"
              "'progressDeadlineSeconds':600,'revisionHistoryLimit':10,'strategy':%s,"
              "'template':{'metadata':{'labels':{'app':'web'}},"
              "'spec':{'containers':[{'name':'c','image':'%s'}]}}},'status':{}}",
              DUID, replicas, strategy, image);
}

#define ROLLING_0_1 "{'type':'RollingUpdate','rollingUpdate':{'maxSurge':1,'maxUnavailable':0}}"
#define RECREATE "{'type':'Recreate'}"

static bool running(const char *uid, void *arg)
{
    (void)uid;
    return ((struct sim *)arg)->pods_running;
}

static cJSON *find_rs(struct sim *s, const char *name, int *idx)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(api_meta_name(s->rs[i]), name)) {
            if (idx) *idx = i;
            return s->rs[i];
        }
    return NULL;
}

static void merge_into(cJSON *obj, const char *member, const cJSON *add)
{
    cJSON *m = cj_obj(cj_obj(obj, "metadata"), member);
    const cJSON *a;
    cJSON_ArrayForEach(a, add) cj_set(m, a->string, cx_dup(a));
}

/* One sync: plan, then apply it as the API server would. */
static void step(struct sim *s, struct dep_plan *out)
{
    struct dep_plan p;
    assert_int_equal(dep_plan(s->d, (const cJSON *const *)s->rs, (size_t)s->n, running, s,
                              T0 + (uint64_t)s->clock * 1000, &p),
                     0);
    if (p.create_rs) {
        cJSON *rs = cx_dup(p.create_rs);
        char uid[32];
        snprintf(uid, sizeof uid, "rs-%d", ++s->rs_seq);
        cJSON *m = cj_obj(rs, "metadata");
        cj_set_str(m, "uid", uid);
        cj_set_str(m, "creationTimestamp", ts(s->clock));
        cj_set_int(m, "generation", 1);
        cj_set(rs, "status", J("{'replicas':0,'availableReplicas':0,'observedGeneration':1}"));
        assert_null(find_rs(s, api_meta_name(rs), NULL));
        s->rs[s->n++] = rs;
        s->created++;
    }
    for (size_t i = 0; i < p.n_rs; i++) {
        struct dep_rs *r = &p.rs[i];
        if (r->created_now) continue;
        int idx = 0;
        cJSON *rs = find_rs(s, r->name, &idx);
        assert_non_null(rs);
        if (r->remove) {
            cJSON_Delete(rs);
            s->rs[idx] = s->rs[--s->n];
            continue;
        }
        cj_set_int(cj_obj(rs, "spec"), "replicas", r->replicas);
        if (r->ann) merge_into(rs, "annotations", r->ann);
    }
    if (p.dep_ann) merge_into(s->d, "annotations", p.dep_ann);
    if (p.status) cj_set(s->d, "status", cx_dup(p.status));
    s->clock++;
    if (out)
        *out = p;
    else
        dep_plan_free(&p);
}

/* The ReplicaSet controller: pods follow spec at once, deleted ones stop
 * being available at once; new ones are not ready yet. */
static void rs_sync(struct sim *s)
{
    for (int i = 0; i < s->n; i++) {
        int64_t want = cj_int(s->rs[i], "spec.replicas", 1);
        int64_t avail = cj_int(s->rs[i], "status.availableReplicas", 0);
        cJSON *st = cj_obj(s->rs[i], "status");
        cj_set_int(st, "replicas", want);
        cj_set_int(st, "availableReplicas", avail < want ? avail : want);
        cj_set_int(st, "readyReplicas", avail < want ? avail : want);
    }
}

/* The kubelet: every pod becomes ready and available. */
static void kubelet(struct sim *s)
{
    for (int i = 0; i < s->n; i++) {
        cJSON *st = cj_obj(s->rs[i], "status");
        cj_set_int(st, "availableReplicas", cj_int(st, "replicas", 0));
        cj_set_int(st, "readyReplicas", cj_int(st, "replicas", 0));
    }
}

static int64_t total(struct sim *s, const char *field)
{
    int64_t t = 0;
    for (int i = 0; i < s->n; i++)
        t += cj_int(s->rs[i], field, 0);
    return t;
}

static bool complete(struct sim *s)
{
    return dep_complete(s->d, cj_get(s->d, "status"));
}

/* Runs rounds until the rollout completes; checks the bounds each time. */
static int rollout(struct sim *s, int64_t max_total, int64_t min_avail)
{
    int rounds;
    for (rounds = 0; rounds < 50 && !complete(s); rounds++) {
        step(s, NULL);
        rs_sync(s);
        assert_true(total(s, "spec.replicas") <= max_total);
        assert_true(total(s, "status.availableReplicas") >= min_avail);
        kubelet(s);
    }
    assert_true(complete(s));
    return rounds;
}

static void sim_free(struct sim *s)
{
    cJSON_Delete(s->d);
    for (int i = 0; i < s->n; i++)
        cJSON_Delete(s->rs[i]);
}

static void set_image(struct sim *s, const char *image)
{
    cJSON *c = cJSON_GetArrayItem(cj_get(s->d, "spec.template.spec.containers"), 0);
    cj_set_str(c, "image", image);
    cj_set_int(cj_obj(s->d, "metadata"), "generation", api_meta_generation(s->d) + 1);
}

static cJSON *rs_with_image(struct sim *s, const char *image)
{
    for (int i = 0; i < s->n; i++) {
        cJSON *c = cJSON_GetArrayItem(cj_get(s->rs[i], "spec.template.spec.containers"), 0);
        if (!strcmp(cj_str0(c, "image"), image)) return s->rs[i];
    }
    return NULL;
}

static const char *condition_reason(struct sim *s, const char *type)
{
    return cj_str0(dep_get_condition(cj_get(s->d, "status.conditions"), type), "reason");
}

/* ------------------------------------------------------------------ tests */

static void test_hash(void **state)
{
    (void)state;
    cJSON *a = J("{'metadata':{'labels':{'app':'web'}},'spec':{'containers':[{'image':'a'}]}}");
    cJSON *a2 = J("{'spec':{'containers':[{'image':'a'}]},'metadata':{'labels':{'app':'web'}}}");
    cJSON *b = J("{'metadata':{'labels':{'app':'web'}},'spec':{'containers':[{'image':'b'}]}}");
    char h1[16], h2[16], h3[16], h4[16];
    dep_template_hash(a, NULL, h1, sizeof h1);
    dep_template_hash(a2, NULL, h2, sizeof h2);
    dep_template_hash(b, NULL, h3, sizeof h3);
    cJSON *one = cJSON_CreateNumber(1);
    dep_template_hash(a, one, h4, sizeof h4);
    assert_string_equal(h1, h2); /* member order does not matter */
    assert_string_not_equal(h1, h3);
    assert_string_not_equal(h1, h4); /* a collision count moves it */
    assert_true(strlen(h1) >= 6 && strlen(h1) <= 10);
    for (const char *p = h1; *p; p++)
        assert_non_null(strchr("bcdfghjklmnpqrstvwxz2456789", *p));
    /* the hash label itself does not make templates differ */
    cJSON *ah = cx_dup(a);
    cj_set_str(cj_obj(cj_obj(ah, "metadata"), "labels"), DEP_HASH_LABEL, h1);
    assert_true(dep_templates_equal(a, ah));
    assert_false(dep_templates_equal(a, b));
    cJSON_Delete(a);
    cJSON_Delete(a2);
    cJSON_Delete(b);
    cJSON_Delete(ah);
    cJSON_Delete(one);
}

static void test_fenceposts(void **state)
{
    (void)state;
    int64_t s, u;
    cJSON *d = J("{'spec':{'replicas':10,'strategy':{'type':'RollingUpdate'}}}");
    dep_fenceposts(d, &s, &u); /* 25% each: surge rounds up, unavailable down */
    assert_int_equal(s, 3);
    assert_int_equal(u, 2);
    cJSON_Delete(d);
    d = J("{'spec':{'replicas':3,'strategy':{'rollingUpdate':{'maxSurge':0,"
          "'maxUnavailable':'0%'}}}}");
    dep_fenceposts(d, &s, &u); /* never both zero */
    assert_int_equal(s, 0);
    assert_int_equal(u, 1);
    cJSON_Delete(d);
    d = J("{'spec':{'replicas':2,'strategy':{'rollingUpdate':{'maxSurge':'50%',"
          "'maxUnavailable':5}}}}");
    assert_int_equal(dep_max_surge(d), 1);
    assert_int_equal(dep_max_unavailable(d), 2); /* capped at replicas */
    cJSON_Delete(d);
    d = J("{'spec':{'replicas':4,'strategy':{'type':'Recreate'}}}");
    assert_int_equal(dep_max_surge(d), 0);
    assert_int_equal(dep_max_unavailable(d), 0);
    cJSON_Delete(d);
}

static void test_first_rollout(void **state)
{
    (void)state;
    struct sim s = {0};
    s.d = deployment(3, "nginx:1", ROLLING_0_1);
    struct dep_plan p;
    step(&s, &p);
    /* a new RS named <deployment>-<hash>, owned, labelled, revision 1 */
    assert_non_null(p.create_rs);
    const char *hash = cj_str0(p.create_rs, "spec.template.metadata.labels." DEP_HASH_LABEL);
    char *name = cx_printf("web-%s", hash);
    assert_string_equal(cj_str0(p.create_rs, "metadata.name"), name);
    free(name);
    assert_string_equal(cj_str0(p.create_rs, "spec.selector.matchLabels." DEP_HASH_LABEL), hash);
    assert_string_equal(cj_str0(p.create_rs, "metadata.labels." DEP_HASH_LABEL), hash);
    assert_int_equal(cj_int(p.create_rs, "spec.replicas", -1), 3);
    assert_string_equal(cj_str0(api_meta_controller_ref(p.create_rs), "uid"), DUID);
    cJSON *ann = api_meta_annotations(p.create_rs);
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ann, DEP_ANN_REVISION)), "1");
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ann, DEP_ANN_DESIRED)), "3");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ann, DEP_ANN_MAX)),
                        "4");
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ann, "kubernetes.io/change-cause")),
        "first");
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p.dep_ann, DEP_ANN_REVISION)), "1");
    assert_string_equal(condition_reason(&s, "Progressing"), "NewReplicaSetCreated");
    assert_string_equal(condition_reason(&s, "Available"), "MinimumReplicasUnavailable");
    dep_plan_free(&p);
    rollout(&s, 4, 0);
    step(&s, NULL); /* the sync after completion */
    assert_string_equal(condition_reason(&s, "Progressing"), "NewReplicaSetAvailable");
    assert_string_equal(condition_reason(&s, "Available"), "MinimumReplicasAvailable");
    assert_int_equal(cj_int(s.d, "status.updatedReplicas", -1), 3);
    assert_int_equal(cj_int(s.d, "status.availableReplicas", -1), 3);
    assert_int_equal(cj_int(s.d, "status.unavailableReplicas", -1), 0);
    assert_int_equal(cj_int(s.d, "status.observedGeneration", -1), 1);
    /* steady state: nothing more to write */
    step(&s, &p);
    assert_null(p.status);
    assert_null(p.create_rs);
    dep_plan_free(&p);
    sim_free(&s);
}

static void test_rolling_update_surge1_unavail0(void **state)
{
    (void)state;
    struct sim s = {0};
    s.d = deployment(3, "nginx:1", ROLLING_0_1);
    rollout(&s, 4, 0);
    step(&s, NULL);
    set_image(&s, "nginx:2");
    struct dep_plan p;
    step(&s, &p);
    /* surge 1: the new RS starts with exactly one pod, nothing old goes */
    assert_non_null(p.create_rs);
    assert_int_equal(cj_int(p.create_rs, "spec.replicas", -1), 1);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                            api_meta_annotations(p.create_rs), DEP_ANN_REVISION)),
                        "2");
    dep_plan_free(&p);
    rs_sync(&s);
    assert_int_equal(cj_int(rs_with_image(&s, "nginx:1"), "spec.replicas", -1), 3);
    /* not ready yet: nothing moves */
    step(&s, &p);
    assert_null(p.create_rs);
    for (size_t i = 0; i < p.n_rs; i++)
        assert_int_equal(p.rs[i].replicas, p.rs[i].orig_replicas);
    dep_plan_free(&p);
    kubelet(&s);
    /* ready: one old pod goes */
    step(&s, NULL);
    rs_sync(&s);
    assert_int_equal(cj_int(rs_with_image(&s, "nginx:1"), "spec.replicas", -1), 2);
    assert_int_equal(cj_int(rs_with_image(&s, "nginx:2"), "spec.replicas", -1), 1);
    kubelet(&s);
    int rounds = rollout(&s, 4, 3);
    assert_true(rounds >= 3);
    assert_int_equal(cj_int(rs_with_image(&s, "nginx:1"), "spec.replicas", -1), 0);
    assert_int_equal(cj_int(rs_with_image(&s, "nginx:2"), "spec.replicas", -1), 3);
    assert_int_equal(s.created, 2);
    assert_string_equal(api_meta_annotation(s.d, DEP_ANN_REVISION), "2");
    sim_free(&s);
}

static void test_rolling_update_25_percent(void **state)
{
    (void)state;
    struct sim s = {0};
    s.d = deployment(10, "nginx:1",
                     "{'type':'RollingUpdate','rollingUpdate':"
                     "{'maxSurge':'25%','maxUnavailable':'25%'}}");
    rollout(&s, 13, 0);
    step(&s, NULL);
    set_image(&s, "nginx:2");
    /* 10 replicas, surge ceil(2.5)=3, unavailable floor(2.5)=2 */
    rollout(&s, 13, 8);
    assert_int_equal(cj_int(rs_with_image(&s, "nginx:2"), "spec.replicas", -1), 10);
    sim_free(&s);
}

static void test_rollback_reuses_old_rs(void **state)
{
    (void)state;
    struct sim s = {0};
    s.d = deployment(2, "nginx:1", ROLLING_0_1);
    rollout(&s, 3, 0);
    step(&s, NULL);
    char *first = cx_strdup(api_meta_name(rs_with_image(&s, "nginx:1")));
    set_image(&s, "nginx:2");
    rollout(&s, 3, 2);
    step(&s, NULL);
    /* `kubectl rollout undo` copies the old RS's template back */
    set_image(&s, "nginx:1");
    struct dep_plan p;
    step(&s, &p);
    assert_null(p.create_rs);
    dep_plan_free(&p);
    rs_sync(&s);
    rollout(&s, 3, 2);
    cJSON *rs1 = rs_with_image(&s, "nginx:1");
    assert_string_equal(api_meta_name(rs1), first);
    assert_int_equal(cj_int(rs1, "spec.replicas", -1), 2);
    assert_string_equal(api_meta_annotation(rs1, DEP_ANN_REVISION), "3");
    assert_string_equal(api_meta_annotation(rs1, DEP_ANN_REVISION_HISTORY), "1");
    assert_string_equal(api_meta_annotation(s.d, DEP_ANN_REVISION), "3");
    assert_int_equal(cj_int(rs_with_image(&s, "nginx:2"), "spec.replicas", -1), 0);
    assert_int_equal(s.created, 2);
    free(first);
    sim_free(&s);
}

static void test_recreate(void **state)
{
    (void)state;
    struct sim s = {0};
    s.d = deployment(3, "nginx:1", RECREATE);
    rollout(&s, 3, 0);
    step(&s, NULL);
    set_image(&s, "nginx:2");
    struct dep_plan p;
    step(&s, &p); /* old scaled to 0, nothing new yet */
    assert_null(p.create_rs);
    dep_plan_free(&p);
    assert_int_equal(cj_int(rs_with_image(&s, "nginx:1"), "spec.replicas", -1), 0);
    rs_sync(&s);
    s.pods_running = true; /* old pods still terminating */
    step(&s, &p);
    assert_null(p.create_rs);
    dep_plan_free(&p);
    s.pods_running = false;
    step(&s, &p);
    assert_non_null(p.create_rs);
    assert_int_equal(cj_int(p.create_rs, "spec.replicas", -1), 3);
    dep_plan_free(&p);
    rs_sync(&s);
    kubelet(&s);
    rollout(&s, 3, 0);
    sim_free(&s);
}

static void test_paused(void **state)
{
    (void)state;
    struct sim s = {0};
    s.d = deployment(2, "nginx:1", ROLLING_0_1);
    rollout(&s, 3, 0);
    step(&s, NULL);
    cj_set_bool(cj_obj(s.d, "spec"), "paused", true);
    set_image(&s, "nginx:2");
    struct dep_plan p;
    step(&s, &p);
    assert_null(p.create_rs);
    dep_plan_free(&p);
    assert_string_equal(condition_reason(&s, "Progressing"), "DeploymentPaused");
    const cJSON *c = dep_get_condition(cj_get(s.d, "status.conditions"), "Progressing");
    assert_string_equal(cj_str0(c, "status"), "Unknown");
    /* scaling still works while paused */
    cj_set_int(cj_obj(s.d, "spec"), "replicas", 4);
    step(&s, NULL);
    assert_int_equal(cj_int(rs_with_image(&s, "nginx:1"), "spec.replicas", -1), 4);
    cj_set_bool(cj_obj(s.d, "spec"), "paused", false);
    step(&s, &p);
    dep_plan_free(&p);
    assert_non_null(rs_with_image(&s, "nginx:2"));
    sim_free(&s);
}

static void test_proportional_scaling(void **state)
{
    (void)state;
    /* Mid-rollout (two active RSes annotated for 10 replicas + 3 surge), the
     * deployment is scaled to 20: the extra pods are spread in proportion,
     * the leftover to the largest / newest RS (Kubernetes' example). */
    struct sim s = {0};
    s.d = deployment(20, "nginx:2",
                     "{'type':'RollingUpdate','rollingUpdate':"
                     "{'maxSurge':'25%','maxUnavailable':'25%'}}");
    const char *fmt =
        "{'metadata':{'name':'%s','namespace':'default','uid':'%s',"
        "'creationTimestamp':'%s','generation':1,'labels':{'app':'web'},"
        "'annotations':{'" DEP_ANN_REVISION "':'%d','" DEP_ANN_DESIRED "':'10','" DEP_ANN_MAX
        "':'13'},'ownerReferences':[{'apiVersion':'apps/v1','kind':"
        "'Deployment','name':'web','uid':'" DUID "','controller':true}]},"
        "'spec':{'replicas':5,'template':{'metadata':{'labels':{'app':'web'}},"
        "'spec':{'containers':[{'name':'c','image':'%s'}]}}},"
        "'status':{'replicas':5,'availableReplicas':5,'observedGeneration':1}}";
    s.rs[s.n++] = JF(fmt, "web-old", "u1", ts(0), 1, "nginx:1");
    s.rs[s.n++] = JF(fmt, "web-new", "u2", ts(5), 2, "nginx:2");
    s.clock = 10;
    step(&s, NULL);
    /* allowed 20 + 5 = 25; 15 to add; each gets round(5*25/13)-5 = 5; the
     * leftover 5 goes to the first (same size: the newer) */
    assert_int_equal(cj_int(find_rs(&s, "web-new", NULL), "spec.replicas", -1), 15);
    assert_int_equal(cj_int(find_rs(&s, "web-old", NULL), "spec.replicas", -1), 10);
    assert_string_equal(api_meta_annotation(find_rs(&s, "web-old", NULL), DEP_ANN_DESIRED), "20");
    assert_string_equal(api_meta_annotation(find_rs(&s, "web-old", NULL), DEP_ANN_MAX), "25");
    sim_free(&s);
}

static void test_history_cleanup(void **state)
{
    (void)state;
    struct sim s = {0};
    s.d = deployment(1, "v1", ROLLING_0_1);
    cj_set_int(cj_obj(s.d, "spec"), "revisionHistoryLimit", 1);
    rollout(&s, 2, 0);
    for (int v = 2; v <= 4; v++) {
        char img[8];
        snprintf(img, sizeof img, "v%d", v);
        step(&s, NULL);
        set_image(&s, img);
        rollout(&s, 2, 1);
    }
    for (int i = 0; i < 3; i++)
        step(&s, NULL);
    /* v4 current, one old kept (the newest old: v3), v1 and v2 deleted */
    assert_int_equal(s.n, 2);
    assert_non_null(rs_with_image(&s, "v4"));
    assert_non_null(rs_with_image(&s, "v3"));
    sim_free(&s);
}

static void test_progress_deadline(void **state)
{
    (void)state;
    struct sim s = {0};
    s.d = deployment(2, "nginx:1", ROLLING_0_1);
    cj_set_int(cj_obj(s.d, "spec"), "progressDeadlineSeconds", 30);
    struct dep_plan p;
    step(&s, &p); /* creates the RS; its pods never become ready */
    dep_plan_free(&p);
    rs_sync(&s);
    step(&s, &p);
    dep_plan_free(&p);
    s.clock += 60;
    step(&s, &p);
    dep_plan_free(&p);
    assert_string_equal(condition_reason(&s, "Progressing"), "ProgressDeadlineExceeded");
    const cJSON *c = dep_get_condition(cj_get(s.d, "status.conditions"), "Progressing");
    assert_string_equal(cj_str0(c, "status"), "False");
    sim_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_fenceposts),
        cmocka_unit_test(test_first_rollout),
        cmocka_unit_test(test_rolling_update_surge1_unavail0),
        cmocka_unit_test(test_rolling_update_25_percent),
        cmocka_unit_test(test_rollback_reuses_old_rs),
        cmocka_unit_test(test_recreate),
        cmocka_unit_test(test_paused),
        cmocka_unit_test(test_proportional_scaling),
        cmocka_unit_test(test_history_cleanup),
        cmocka_unit_test(test_progress_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
