/*
 * test_leaderelect.c - leader election (api/leaderelect.c) against the fake
 * API server of tests/unit/api, with client-go's semantics: one leader at a
 * time, the Lease's fields as Kubernetes writes them, a candidate taking
 * over a dead leader's Lease after its duration (with leaseTransitions
 * counted), the dead leader stepping down by itself when it wakes up past
 * its renew deadline, a clean stop releasing the Lease, and two candidates
 * racing for a missing Lease ending with one leader.
 *
 * Each candidate has its own loop, all run from this thread, so "killing"
 * one is not running its loop: it then sends nothing, like a frozen
 * process. The fake server runs on its own thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <regex.h>
#include <unistd.h>

#include <cmocka.h>

#include "../api/fakeapi.h"

#define LEASE_PATH "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/test-lease"

struct cand {
    uv_loop_t loop;
    api_client_t *c;
    api_leader_elector_t *le;
    const char *id;
    int started, stopped, done;
    bool frozen;
};

static void on_started(void *data)
{
    ((struct cand *)data)->started++;
}

static void on_stopped(void *data)
{
    ((struct cand *)data)->stopped++;
}

static void on_done(void *data)
{
    ((struct cand *)data)->done++;
}

static void cand_start(struct cand *k, const char *id, int port)
{
    memset(k, 0, sizeof(*k));
    k->id = id;
    uv_loop_init(&k->loop);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    k->c = api_client_new(&k->loop, url, NULL);
    assert_non_null(k->c);
    api_leader_config_t cfg = {.name = "test-lease",
                               .identity = id,
                               .lease_duration_ms = 1000,
                               .renew_deadline_ms = 600,
                               .renew_interval_ms = 200,
                               .retry_period_ms = 100,
                               .on_started_leading = on_started,
                               .on_stopped_leading = on_stopped,
                               .data = k};
    k->le = api_leader_elect_start(k->c, &cfg);
    assert_non_null(k->le);
}

static void cand_free(struct cand *k)
{
    if (k->le) {
        api_leader_elect_stop(k->le, on_done, k);
        for (int i = 0; i < 5000 && !k->done; i++) {
            uv_run(&k->loop, UV_RUN_NOWAIT);
            usleep(1000);
        }
        assert_int_equal(k->done, 1);
        k->le = NULL;
    }
    api_client_free(k->c);
    uv_run(&k->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&k->loop), 0);
}

/* Runs the loops of the candidates that are not frozen until cond holds or
 * ~10 s passed (a guard against a hung test, not a timing assertion). */
static bool run_until(struct cand **ks, int n, bool (*cond)(struct cand **, int))
{
    for (int i = 0; i < 10000; i++) {
        if (cond(ks, n)) return true;
        for (int j = 0; j < n; j++)
            if (!ks[j]->frozen) uv_run(&ks[j]->loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    return cond(ks, n);
}

static int leaders(struct cand **ks, int n)
{
    int l = 0;
    for (int i = 0; i < n; i++)
        if (api_leader_is_leader(ks[i]->le)) l++;
    return l;
}

static bool one_leader_seen_by_all(struct cand **ks, int n)
{
    if (leaders(ks, n) != 1) return false;
    for (int i = 0; i < n; i++)
        if (!*api_leader_holder(ks[i]->le)) return false;
    return true;
}

static bool unfrozen_leads(struct cand **ks, int n)
{
    for (int i = 0; i < n; i++)
        if (!ks[i]->frozen && api_leader_is_leader(ks[i]->le)) return true;
    return false;
}

static cJSON *get_lease(int port)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    api_conn_t conn = {.urls = url, .timeout_ms = 5000};
    api_result_t r;
    api_fetch_path(&conn, "GET", LEASE_PATH, NULL, NULL, 0, NULL, &r);
    cJSON *obj = r.status == 200 ? r.obj : NULL;
    r.obj = NULL;
    api_result_free(&r);
    return obj;
}

static const cJSON *spec(const cJSON *lease, const char *k)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(lease, "spec"), k);
}

static void assert_micro_time(const char *s)
{
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    if (regexec(&re, s, 0, NULL, 0) != 0) fail_msg("not a MicroTime: %s", s);
    regfree(&re);
}

static void test_takeover_after_leader_dies(void **state)
{
    (void)state;
    struct fake_thread ft = {0};
    assert_int_equal(fake_thread_start(&ft), 0);
    int port = ft.f.port;
    struct cand a, b;
    cand_start(&a, "cand-a", port);
    struct cand *ks[] = {&a, &b};
    /* a alone first: it creates the Lease. */
    assert_true(run_until(ks, 1, unfrozen_leads));
    cand_start(&b, "cand-b", port);
    assert_true(run_until(ks, 2, one_leader_seen_by_all));
    assert_true(api_leader_is_leader(a.le));
    assert_string_equal(api_leader_holder(b.le), "cand-a");
    /* Several renewals later, still a and only a. */
    for (int i = 0; i < 500; i++) {
        uv_run(&a.loop, UV_RUN_NOWAIT);
        uv_run(&b.loop, UV_RUN_NOWAIT);
        usleep(1000);
        assert_int_equal(leaders(ks, 2), 1);
    }
    assert_false(api_leader_is_leader(b.le));
    cJSON *l = get_lease(port);
    assert_non_null(l);
    assert_string_equal(cJSON_GetStringValue(spec(l, "holderIdentity")), "cand-a");
    assert_int_equal(spec(l, "leaseDurationSeconds")->valueint, 1);
    assert_int_equal(spec(l, "leaseTransitions")->valueint, 0);
    assert_micro_time(cJSON_GetStringValue(spec(l, "acquireTime")));
    assert_micro_time(cJSON_GetStringValue(spec(l, "renewTime")));
    char *acquired = strdup(cJSON_GetStringValue(spec(l, "acquireTime")));
    cJSON_Delete(l);

    /* a freezes: b takes over once the Lease expired by b's clock. */
    a.frozen = true;
    assert_true(run_until(ks, 2, unfrozen_leads));
    assert_int_equal(b.started, 1);
    l = get_lease(port);
    assert_string_equal(cJSON_GetStringValue(spec(l, "holderIdentity")), "cand-b");
    assert_int_equal(spec(l, "leaseTransitions")->valueint, 1);
    assert_string_not_equal(cJSON_GetStringValue(spec(l, "acquireTime")), acquired);
    free(acquired);
    cJSON_Delete(l);

    /* a wakes up long past its renew deadline: it steps down by itself and
     * does not take the Lease back. */
    a.frozen = false;
    assert_true(api_leader_is_leader(a.le)); /* it does not know yet */
    for (int i = 0; i < 300; i++) {
        uv_run(&a.loop, UV_RUN_NOWAIT);
        uv_run(&b.loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    assert_false(api_leader_is_leader(a.le));
    assert_int_equal(a.stopped, 1);
    assert_true(api_leader_is_leader(b.le));
    assert_string_equal(api_leader_holder(a.le), "cand-b");
    cand_free(&a);
    cand_free(&b);
    fake_thread_join(&ft);
}

static void test_release_on_stop(void **state)
{
    (void)state;
    struct fake_thread ft = {0};
    assert_int_equal(fake_thread_start(&ft), 0);
    int port = ft.f.port;
    struct cand a, b;
    struct cand *ks[] = {&a, &b};
    cand_start(&a, "cand-a", port);
    assert_true(run_until(ks, 1, unfrozen_leads));
    cand_start(&b, "cand-b", port);
    assert_true(run_until(ks, 2, one_leader_seen_by_all));
    /* a stops cleanly: stopped callback, Lease released, elector freed. */
    api_leader_elect_stop(a.le, on_done, &a);
    assert_int_equal(a.stopped, 1);
    for (int i = 0; i < 5000 && !a.done; i++) {
        uv_run(&a.loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    assert_int_equal(a.done, 1);
    a.le = NULL;
    cJSON *l = get_lease(port);
    /* Nobody holds it, or b already does: never a any more. */
    const char *h = cJSON_GetStringValue(spec(l, "holderIdentity"));
    assert_true(!strcmp(h, "") || !strcmp(h, "cand-b"));
    cJSON_Delete(l);
    /* b takes it on its next try, without waiting for the lease duration
     * (no freeze here: a released it). */
    struct cand *only_b[] = {&b};
    assert_true(run_until(only_b, 1, unfrozen_leads));
    l = get_lease(port);
    assert_string_equal(cJSON_GetStringValue(spec(l, "holderIdentity")), "cand-b");
    cJSON_Delete(l);
    cand_free(&a);
    cand_free(&b);
    fake_thread_join(&ft);
}

/* Both start on a missing Lease: both try to create it; the fake answers
 * the second with 409, and that one follows. */
static void test_race_for_missing_lease(void **state)
{
    (void)state;
    struct fake_thread ft = {0};
    assert_int_equal(fake_thread_start(&ft), 0);
    struct cand a, b, c;
    cand_start(&a, "cand-a", ft.f.port);
    cand_start(&b, "cand-b", ft.f.port);
    cand_start(&c, "cand-c", ft.f.port);
    struct cand *ks[] = {&a, &b, &c};
    assert_true(run_until(ks, 3, one_leader_seen_by_all));
    for (int i = 0; i < 300; i++) {
        for (int j = 0; j < 3; j++)
            uv_run(&ks[j]->loop, UV_RUN_NOWAIT);
        usleep(1000);
        assert_int_equal(leaders(ks, 3), 1);
    }
    assert_int_equal(a.started + b.started + c.started, 1);
    cand_free(&a);
    cand_free(&b);
    cand_free(&c);
    fake_thread_join(&ft);
}

static void test_bad_config(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    api_client_t *c = api_client_new(&loop, "http://127.0.0.1:1", NULL);
    api_leader_config_t cfg = {.name = "x"};
    assert_null(api_leader_elect_start(c, &cfg));
    cfg = (api_leader_config_t){.identity = "me"};
    assert_null(api_leader_elect_start(c, &cfg));
    api_client_free(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_takeover_after_leader_dies),
        cmocka_unit_test(test_release_on_stop),
        cmocka_unit_test(test_race_for_missing_lease),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
