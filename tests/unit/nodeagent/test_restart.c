/*
 * test_restart.c - restartPolicy and the kubelet's crash back-off
 * (flowcontrol.Backoff as the kubelet uses it): the first restart at once,
 * then waits measured from each exit that double from 10 s to 5 min, and
 * forgetting after twice the cap without a restart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "nodeagent/agent_int.h"

static void test_policy(void **state)
{
    (void)state;
    assert_true(restart_wanted("Always", 0));
    assert_true(restart_wanted("Always", 1));
    assert_true(restart_wanted(NULL, 0));
    assert_false(restart_wanted("OnFailure", 0));
    assert_true(restart_wanted("OnFailure", 137));
    assert_false(restart_wanted("Never", 1));
    assert_false(restart_wanted("Never", 0));
}

static void test_backoff_sequence(void **state)
{
    (void)state;
    struct backoff b = {0};
    uint64_t t = 1000000, wait;
    /* First exit: restart at once. */
    assert_true(backoff_allows(&b, t, t, 0, &wait));
    backoff_next(&b, t, t, 0, 0);
    assert_int_equal(b.delay_ms, 10000);
    /* It exits again 1 s later: 10 s from that exit. */
    uint64_t exit2 = t + 1000;
    assert_false(backoff_allows(&b, exit2, exit2, 0, &wait));
    assert_int_equal(wait, 10000);
    assert_false(backoff_allows(&b, exit2, exit2 + 9999, 0, &wait));
    assert_int_equal(wait, 1);
    assert_true(backoff_allows(&b, exit2, exit2 + 10000, 0, &wait));
    backoff_next(&b, exit2, exit2 + 10000, 0, 0);
    assert_int_equal(b.delay_ms, 20000);
    /* 40 s, 80 s, 160 s, then the 300 s cap. */
    uint64_t now = exit2 + 10000;
    uint64_t want[] = {40000, 80000, 160000, 300000, 300000};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint64_t ex = now + 500;
        assert_false(backoff_allows(&b, ex, ex, 0, &wait));
        now = ex + b.delay_ms;
        assert_true(backoff_allows(&b, ex, now, 0, &wait));
        backoff_next(&b, ex, now, 0, 0);
        assert_int_equal(b.delay_ms, want[i]);
    }
    /* Ran fine for more than 10 minutes: the next crash starts over. */
    uint64_t late = now + 2 * 300000 + 1;
    assert_true(backoff_allows(&b, late, late, 0, &wait));
    backoff_next(&b, late, late, 0, 0);
    assert_int_equal(b.delay_ms, 10000);
}

static void test_backoff_custom(void **state)
{
    (void)state;
    struct backoff b = {0};
    uint64_t wait;
    backoff_next(&b, 0, 0, 100, 250);
    assert_int_equal(b.delay_ms, 100);
    backoff_next(&b, 10, 10, 100, 250);
    assert_int_equal(b.delay_ms, 200);
    backoff_next(&b, 20, 20, 100, 250);
    assert_int_equal(b.delay_ms, 250);
    assert_false(backoff_allows(&b, 30, 30, 250, &wait));
    assert_int_equal(wait, 250);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_backoff_sequence),
        cmocka_unit_test(test_backoff_custom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
