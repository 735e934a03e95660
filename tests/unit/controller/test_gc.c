/*
 * test_gc.c - the garbage collector's decision for one object, given the
 * state of each of its owners (Kubernetes' attemptToDeleteItem): keep it
 * while an owner lives, drop references to dead or waiting owners when some
 * owner lives, delete it when none does, in the foreground when an owner
 * waits for it and it has dependents of its own, and with the propagation
 * its own finalizers ask for.
 */
#include "testutil.h"

static void test_decide(void **state)
{
    (void)state;
    cJSON *plain = J("{'metadata':{'name':'p','uid':'1'}}");
    cJSON *orphaning = J("{'metadata':{'name':'p','uid':'1','finalizers':['orphan']}}");
    cJSON *fg = J("{'metadata':{'name':'p','uid':'1','finalizers':['foregroundDeletion']}}");
    const char *policy = "x";
    enum gc_owner_state solid[] = {GC_OWNER_SOLID};
    enum gc_owner_state dangling[] = {GC_OWNER_DANGLING};
    enum gc_owner_state waiting[] = {GC_OWNER_WAITING};
    enum gc_owner_state mixed[] = {GC_OWNER_SOLID, GC_OWNER_DANGLING};
    enum gc_owner_state mixed2[] = {GC_OWNER_WAITING, GC_OWNER_SOLID};
    enum gc_owner_state gone[] = {GC_OWNER_DANGLING, GC_OWNER_DANGLING};

    assert_int_equal(gc_decide(plain, NULL, 0, false, &policy), GC_KEEP);
    assert_null(policy);
    assert_int_equal(gc_decide(plain, solid, 1, false, &policy), GC_KEEP);
    assert_int_equal(gc_decide(plain, mixed, 2, false, &policy), GC_REMOVE_REFS);
    assert_int_equal(gc_decide(plain, mixed2, 2, true, &policy), GC_REMOVE_REFS);

    assert_int_equal(gc_decide(plain, dangling, 1, false, &policy), GC_DELETE);
    assert_string_equal(policy, "Background");
    assert_int_equal(gc_decide(plain, gone, 2, true, &policy), GC_DELETE);
    assert_string_equal(policy, "Background");
    assert_int_equal(gc_decide(orphaning, dangling, 1, true, &policy), GC_DELETE);
    assert_string_equal(policy, "Orphan");
    assert_int_equal(gc_decide(fg, dangling, 1, true, &policy), GC_DELETE);
    assert_string_equal(policy, "Foreground");

    /* owner deleting in the foreground: its dependents go first */
    assert_int_equal(gc_decide(plain, waiting, 1, true, &policy), GC_DELETE);
    assert_string_equal(policy, "Foreground");
    assert_int_equal(gc_decide(plain, waiting, 1, false, &policy), GC_DELETE);
    assert_string_equal(policy, "Background");
    cJSON_Delete(plain);
    cJSON_Delete(orphaning);
    cJSON_Delete(fg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
