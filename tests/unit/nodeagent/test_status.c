/*
 * test_status.c - pod status from the runtime record, case by case after
 * the kubelet's getPhase and its conditions: Pending while a container is
 * created, Running, a crash loop (Running, waiting CrashLoopBackOff with
 * the last state), Succeeded and Failed per restartPolicy, init
 * containers gating Initialized, readiness gating Ready, and
 * lastTransitionTime kept while a condition holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nodeagent/agent_int.h"

#define NOW 1795500000000ull

static cJSON *J(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    if (!j) fail_msg("bad JSON: %s", s);
    return j;
}

static cJSON *pod_with(const char *policy, const char *extra_spec)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"uid\":\"u\"},"
             "\"spec\":{\"restartPolicy\":\"%s\",\"containers\":[{\"name\":\"a\",\"image\":\"i\"},"
             "{\"name\":\"b\",\"image\":\"i\"}]%s}}",
             policy, extra_spec ? extra_spec : "");
    return J(buf);
}

static struct pod_rt *rt_for(const cJSON *pod)
{
    struct pod_rt *rt = calloc(1, sizeof *rt);
    pod_rt_reconcile(rt, pod);
    rt->net_ready = true;
    snprintf(rt->ip, sizeof rt->ip, "10.42.0.9");
    rt->start_ms = NOW - 5000;
    return rt;
}

static void running(struct ctr_rt *c)
{
    c->state = CS_RUNNING;
    c->attempt = c->attempt < 0 ? 0 : c->attempt;
    c->started_ms = NOW - 1000;
    snprintf(c->id, sizeof c->id, "u-%s-%d", c->name, c->attempt);
}

static void exited(struct ctr_rt *c, int code)
{
    c->state = CS_EXITED;
    if (c->attempt < 0) c->attempt = 0;
    c->term.exit_code = code;
    snprintf(c->term.reason, sizeof c->term.reason, "%s", code ? "Error" : "Completed");
    c->term.started_ms = NOW - 2000;
    c->term.finished_ms = NOW - 1000;
}

static const char *cond(const cJSON *st, const char *type, const char *field)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, jget(st, "conditions")) if (!strcmp(jstr(c, "type", ""),
                                                              type)) return jstr(c, field, NULL);
    return NULL;
}

static void test_pending_then_running(void **state)
{
    (void)state;
    cJSON *pod = pod_with("Always", NULL);
    struct pod_rt *rt = rt_for(pod);
    cJSON *st = status_build(rt, pod, NULL, "192.168.1.5", NOW);
    assert_string_equal(jstr(st, "phase", ""), "Pending");
    const cJSON *cs = cJSON_GetArrayItem(jget(st, "containerStatuses"), 0);
    assert_string_equal(jstr(jget(jget(cs, "state"), "waiting"), "reason", ""),
                        "ContainerCreating");
    assert_false(jbool(cs, "ready", true));
    assert_string_equal(cond(st, "Ready", "status"), "False");
    assert_string_equal(cond(st, "Ready", "reason"), "ContainersNotReady");
    assert_string_equal(cond(st, "Ready", "message"), "containers with unready status: [a b]");
    assert_string_equal(cond(st, "PodScheduled", "status"), "True");
    assert_string_equal(jstr(st, "podIP", ""), "10.42.0.9");
    assert_string_equal(jstr(st, "hostIP", ""), "192.168.1.5");
    cJSON_Delete(st);
    running(&rt->c[0]);
    st = status_build(rt, pod, NULL, "192.168.1.5", NOW);
    /* One running, one still being created: Pending. */
    assert_string_equal(jstr(st, "phase", ""), "Pending");
    assert_string_equal(cond(st, "Ready", "message"), "containers with unready status: [b]");
    cJSON *old = st;
    running(&rt->c[1]);
    st = status_build(rt, pod, old, "192.168.1.5", NOW + 60000);
    assert_string_equal(jstr(st, "phase", ""), "Running");
    assert_string_equal(cond(st, "Ready", "status"), "True");
    assert_string_equal(cond(st, "ContainersReady", "status"), "True");
    cs = cJSON_GetArrayItem(jget(st, "containerStatuses"), 1);
    assert_true(jbool(cs, "ready", false));
    assert_true(jbool(cs, "started", false));
    assert_string_equal(jstr(cs, "containerID", ""), "runc://u-b-0");
    /* Ready changed: a new transition time; PodScheduled held: the old one. */
    assert_string_not_equal(cond(st, "Ready", "lastTransitionTime"),
                            cond(old, "Ready", "lastTransitionTime"));
    assert_string_equal(cond(st, "PodScheduled", "lastTransitionTime"),
                        cond(old, "PodScheduled", "lastTransitionTime"));
    cJSON_Delete(old);
    cJSON_Delete(st);
    pod_rt_free(rt);
    cJSON_Delete(pod);
}

static void test_crash_loop(void **state)
{
    (void)state;
    cJSON *pod = pod_with("Always", NULL);
    struct pod_rt *rt = rt_for(pod);
    running(&rt->c[0]);
    exited(&rt->c[1], 1);
    rt->c[1].attempt = 3;
    snprintf(rt->c[1].wait_reason, sizeof rt->c[1].wait_reason, "CrashLoopBackOff");
    snprintf(rt->c[1].wait_message, sizeof rt->c[1].wait_message, "back-off 40s restarting");
    cJSON *st = status_build(rt, pod, NULL, NULL, NOW);
    /* Still Running: the container is restarting. */
    assert_string_equal(jstr(st, "phase", ""), "Running");
    const cJSON *cs = cJSON_GetArrayItem(jget(st, "containerStatuses"), 1);
    assert_int_equal((int)jnum(cs, "restartCount", -1), 3);
    assert_string_equal(jstr(jget(jget(cs, "state"), "waiting"), "reason", ""), "CrashLoopBackOff");
    const cJSON *lt = jget(jget(cs, "lastState"), "terminated");
    assert_int_equal((int)jnum(lt, "exitCode", -1), 1);
    assert_string_equal(jstr(lt, "reason", ""), "Error");
    assert_string_equal(cond(st, "Ready", "status"), "False");
    cJSON_Delete(st);
    pod_rt_free(rt);
    cJSON_Delete(pod);
}

static void test_final_phases(void **state)
{
    (void)state;
    struct {
        const char *policy;
        int a, b;
        const char *phase;
    } cases[] = {
        {"Never", 0, 0, "Succeeded"},     {"Never", 0, 1, "Failed"},
        {"OnFailure", 0, 0, "Succeeded"}, {"OnFailure", 0, 2, "Running"},
        {"Always", 0, 0, "Running"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *pod = pod_with(cases[i].policy, NULL);
        struct pod_rt *rt = rt_for(pod);
        exited(&rt->c[0], cases[i].a);
        exited(&rt->c[1], cases[i].b);
        cJSON *st = status_build(rt, pod, NULL, NULL, NOW);
        if (strcmp(jstr(st, "phase", ""), cases[i].phase))
            fail_msg("%s %d/%d: %s, want %s", cases[i].policy, cases[i].a, cases[i].b,
                     jstr(st, "phase", ""), cases[i].phase);
        if (!strcmp(cases[i].phase, "Succeeded") || !strcmp(cases[i].phase, "Failed"))
            assert_string_equal(cond(st, "Ready", "reason"), "PodCompleted");
        const cJSON *t =
            jget(jget(cJSON_GetArrayItem(jget(st, "containerStatuses"), 1), "state"), "terminated");
        assert_int_equal((int)jnum(t, "exitCode", -1), cases[i].b);
        cJSON_Delete(st);
        pod_rt_free(rt);
        cJSON_Delete(pod);
    }
}

static void test_init_containers(void **state)
{
    (void)state;
    cJSON *pod = pod_with("Always", ",\"initContainers\":[{\"name\":\"i1\",\"image\":\"i\"}]");
    struct pod_rt *rt = rt_for(pod);
    assert_true(rt->c[0].init);
    running(&rt->c[0]);
    cJSON *st = status_build(rt, pod, NULL, NULL, NOW);
    assert_string_equal(jstr(st, "phase", ""), "Pending");
    assert_string_equal(cond(st, "Initialized", "status"), "False");
    assert_string_equal(cond(st, "Initialized", "reason"), "ContainersNotInitialized");
    assert_string_equal(cond(st, "Initialized", "message"),
                        "containers with incomplete status: [i1]");
    assert_int_equal(cJSON_GetArraySize(jget(st, "initContainerStatuses")), 1);
    cJSON_Delete(st);
    exited(&rt->c[0], 0);
    running(&rt->c[1]);
    running(&rt->c[2]);
    st = status_build(rt, pod, NULL, NULL, NOW);
    assert_string_equal(cond(st, "Initialized", "status"), "True");
    assert_string_equal(jstr(st, "phase", ""), "Running");
    cJSON_Delete(st);
    pod_rt_free(rt);
    cJSON_Delete(pod);
    /* A failed init container with restartPolicy Never fails the pod. */
    pod = pod_with("Never", ",\"initContainers\":[{\"name\":\"i1\",\"image\":\"i\"}]");
    rt = rt_for(pod);
    exited(&rt->c[0], 1);
    st = status_build(rt, pod, NULL, NULL, NOW);
    assert_string_equal(jstr(st, "phase", ""), "Failed");
    cJSON_Delete(st);
    pod_rt_free(rt);
    cJSON_Delete(pod);
}

static void test_readiness_probe(void **state)
{
    (void)state;
    cJSON *pod =
        J("{\"metadata\":{\"name\":\"p\",\"uid\":\"u\"},\"spec\":{\"containers\":"
          "[{\"name\":\"a\",\"image\":\"i\",\"readinessProbe\":{\"tcpSocket\":{\"port\":80}}}]}}");
    struct pod_rt *rt = rt_for(pod);
    running(&rt->c[0]);
    cJSON *st = status_build(rt, pod, NULL, NULL, NOW);
    assert_string_equal(jstr(st, "phase", ""), "Running");
    assert_string_equal(cond(st, "Ready", "status"), "False"); /* not probed yet */
    cJSON_Delete(st);
    rt->c[0].ready.ok = true;
    st = status_build(rt, pod, NULL, NULL, NOW);
    assert_string_equal(cond(st, "Ready", "status"), "True");
    cJSON_Delete(st);
    pod_rt_free(rt);
    cJSON_Delete(pod);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pending_then_running), cmocka_unit_test(test_crash_loop),
        cmocka_unit_test(test_final_phases),         cmocka_unit_test(test_init_containers),
        cmocka_unit_test(test_readiness_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
