/*
 * test_workqueue.c - the work queue's client-go semantics on a uv loop:
 * de-duplication, a key added while processed comes back once after done,
 * max_active and the per-iteration batch, per-key exponential backoff
 * (5 ms doubling, capped) with forget, add_after keeping the earlier time,
 * and freeing from the worker. Timings are checked as lower bounds only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "lib/lib.h"

static uv_loop_t loop;

struct rec {
    char keys[64][32];
    uint64_t at_ns[64];
    int n;
    bool auto_done;
    bool free_in_cb;
};

static void worker(api_workqueue_t *q, const char *key, void *data)
{
    struct rec *r = data;
    if (r->n < 64) {
        snprintf(r->keys[r->n], sizeof(r->keys[0]), "%s", key);
        r->at_ns[r->n] = uv_hrtime();
        r->n++;
    }
    if (r->free_in_cb) {
        api_workqueue_free(q);
        return;
    }
    if (r->auto_done) api_workqueue_done(q, key);
}

static void wake(uv_timer_t *t)
{
    (void)t;
}

/* Runs the loop until r->n reaches n or ~10 s passed (a hang guard). */
static void run_until_n(struct rec *r, int n)
{
    uv_timer_t guard;
    uv_timer_init(&loop, &guard);
    uv_timer_start(&guard, wake, 20, 20);
    uint64_t end = uv_hrtime() + 10000000000ull;
    while (r->n < n && uv_hrtime() < end)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
}

/* Runs the loop a few iterations without waiting for anything. */
static void spin(void)
{
    for (int i = 0; i < 10; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
}

static int setup(void **state)
{
    (void)state;
    return uv_loop_init(&loop);
}

static int teardown(void **state)
{
    (void)state;
    /* Bounded: a failed test may leave an informer or queue running. */
    for (int i = 0; i < 100 && uv_loop_alive(&loop); i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    return uv_loop_close(&loop) == 0 ? 0 : -1;
}

static void test_dedup(void **state)
{
    (void)state;
    struct rec r = {.auto_done = true};
    api_workqueue_t *q = api_workqueue_new(&loop, NULL, worker, &r);
    api_workqueue_add(q, "default/a");
    api_workqueue_add(q, "default/a");
    api_workqueue_add(q, "default/b");
    api_workqueue_add(q, "default/a");
    assert_int_equal(api_workqueue_len(q), 2);
    assert_int_equal(r.n, 0); /* never from inside add */
    run_until_n(&r, 2);
    spin();
    assert_int_equal(r.n, 2);
    assert_string_equal(r.keys[0], "default/a"); /* FIFO */
    assert_string_equal(r.keys[1], "default/b");
    assert_int_equal(api_workqueue_len(q), 0);
    assert_int_equal(api_workqueue_active(q), 0);
    api_workqueue_free(q);
}

static void test_requeue_while_processing(void **state)
{
    (void)state;
    struct rec r = {0};
    api_workqueue_t *q = api_workqueue_new(&loop, NULL, worker, &r);
    api_workqueue_add(q, "k");
    run_until_n(&r, 1);
    assert_int_equal(api_workqueue_active(q), 1);
    /* Added (several times) while being processed: held back, not run twice. */
    api_workqueue_add(q, "k");
    api_workqueue_add(q, "k");
    assert_int_equal(api_workqueue_len(q), 0);
    spin();
    assert_int_equal(r.n, 1);
    api_workqueue_done(q, "k");
    assert_int_equal(api_workqueue_len(q), 1);
    run_until_n(&r, 2);
    spin();
    assert_int_equal(r.n, 2);
    api_workqueue_done(q, "k");
    spin();
    assert_int_equal(r.n, 2);
    /* done for a key that is not being processed is ignored. */
    api_workqueue_done(q, "k");
    api_workqueue_done(q, "never");
    assert_int_equal(api_workqueue_active(q), 0);
    api_workqueue_free(q);
}

static void test_max_active_and_batch(void **state)
{
    (void)state;
    struct rec r = {0};
    api_workqueue_config_t cfg = {.max_active = 2};
    api_workqueue_t *q = api_workqueue_new(&loop, &cfg, worker, &r);
    api_workqueue_add(q, "a");
    api_workqueue_add(q, "b");
    api_workqueue_add(q, "c");
    spin();
    assert_int_equal(r.n, 2);
    assert_int_equal(api_workqueue_active(q), 2);
    assert_int_equal(api_workqueue_len(q), 1);
    api_workqueue_done(q, "a");
    run_until_n(&r, 3);
    assert_string_equal(r.keys[2], "c");
    api_workqueue_done(q, "b");
    api_workqueue_done(q, "c");
    api_workqueue_free(q);

    /* batch 1: one key per loop iteration, so I/O is never starved. */
    struct rec r2 = {.auto_done = true};
    api_workqueue_config_t one = {.batch = 1, .max_active = 10};
    q = api_workqueue_new(&loop, &one, worker, &r2);
    for (int i = 0; i < 5; i++) {
        char k[8];
        snprintf(k, sizeof(k), "k%d", i);
        api_workqueue_add(q, k);
    }
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(r2.n, 1);
    run_until_n(&r2, 5);
    assert_int_equal(r2.n, 5);
    api_workqueue_free(q);
}

static void test_backoff(void **state)
{
    (void)state;
    struct rec r = {.auto_done = true};
    api_workqueue_config_t cfg = {.max_delay_ms = 100};
    api_workqueue_t *q = api_workqueue_new(&loop, &cfg, worker, &r);
    /* client-go's ItemExponentialFailureRateLimiter: base * 2^failures. */
    const uint64_t want[] = {5, 10, 20, 40, 80, 100, 100};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_int_equal(api_workqueue_add_rate_limited(q, "x"), want[i]);
        assert_int_equal(api_workqueue_num_requeues(q, "x"), i + 1);
    }
    /* Per key: another key starts at the base. */
    assert_int_equal(api_workqueue_add_rate_limited(q, "y"), 5);
    api_workqueue_forget(q, "x");
    assert_int_equal(api_workqueue_num_requeues(q, "x"), 0);
    run_until_n(&r, 2);
    assert_int_equal(r.n, 2);

    /* A rate-limited key is processed, and not before its delay. */
    api_workqueue_forget(q, "x");
    api_workqueue_forget(q, "y");
    uv_update_time(&loop);
    api_workqueue_add_rate_limited(q, "z");              /* 5 ms */
    uint64_t d = api_workqueue_add_rate_limited(q, "z"); /* 10 ms; the earlier time stays */
    assert_int_equal(d, 10);
    uv_update_time(&loop);
    uint64_t t0 = uv_hrtime();
    uint64_t d3 = api_workqueue_add_rate_limited(q, "w"); /* 5 */
    api_workqueue_add_rate_limited(q, "w");
    uint64_t d5 = api_workqueue_add_rate_limited(q, "w"); /* 20 */
    assert_int_equal(d3, 5);
    assert_int_equal(d5, 20);
    run_until_n(&r, 4);
    assert_int_equal(r.n, 4);
    for (int i = 2; i < 4; i++)
        if (!strcmp(r.keys[i], "w")) assert_true((r.at_ns[i] - t0) / 1000000 + 2 >= d3);
    api_workqueue_free(q);

    /* The default cap is 1000 s. */
    struct rec r2 = {.auto_done = true};
    q = api_workqueue_new(&loop, NULL, worker, &r2);
    uint64_t last = 0;
    for (int i = 0; i < 40; i++)
        last = api_workqueue_add_rate_limited(q, "slow");
    assert_int_equal(last, 1000000);
    api_workqueue_free(q);
}

static void test_add_after(void **state)
{
    (void)state;
    struct rec r = {.auto_done = true};
    api_workqueue_t *q = api_workqueue_new(&loop, NULL, worker, &r);
    uv_update_time(&loop);
    uint64_t t0 = uv_hrtime();
    api_workqueue_add_after(q, "later", 40);
    assert_int_equal(api_workqueue_len(q), 0);
    run_until_n(&r, 1);
    assert_int_equal(r.n, 1);
    assert_true((r.at_ns[0] - t0) / 1000000 + 2 >= 40);

    /* The earlier of two times wins: a 60 s wait would trip the guard. */
    api_workqueue_add_after(q, "e", 60000);
    api_workqueue_add_after(q, "e", 10);
    run_until_n(&r, 2);
    assert_int_equal(r.n, 2);
    api_workqueue_add_after(q, "f", 10);
    api_workqueue_add_after(q, "f", 60000);
    run_until_n(&r, 3);
    assert_int_equal(r.n, 3);

    api_workqueue_add_after(q, "h", 0); /* 0 is add */
    assert_int_equal(api_workqueue_len(q), 1);
    run_until_n(&r, 4);
    assert_string_equal(r.keys[3], "h");
    api_workqueue_free(q);
}

static void test_free_queue(void **state)
{
    (void)state;
    /* From inside the worker, with keys still queued and waiting. */
    struct rec r = {.free_in_cb = true};
    api_workqueue_t *q = api_workqueue_new(&loop, NULL, worker, &r);
    api_workqueue_add(q, "a");
    api_workqueue_add(q, "b");
    api_workqueue_add_after(q, "c", 10);
    api_workqueue_add_rate_limited(q, "d");
    run_until_n(&r, 1);
    spin();
    assert_int_equal(r.n, 1);
    /* Freed with work pending: nothing runs afterwards. */
    struct rec r2 = {0};
    q = api_workqueue_new(&loop, NULL, worker, &r2);
    api_workqueue_add(q, "a");
    api_workqueue_add_after(q, "b", 5);
    api_workqueue_free(q);
    spin();
    assert_int_equal(r2.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requeue_while_processing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_active_and_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_queue, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
