/*
 * test_patch.c - JSON Patch with the examples of RFC 6902 appendix A, JSON
 * Merge Patch with those of RFC 7386 appendix A, and the API server's
 * guarantees: a failed patch changes nothing, limits are enforced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"

static cJSON *J(const char *s)
{
    char *t = strdup(s);
    for (char *c = t; *c; c++)
        if (*c == '\'') *c = '"';
    cJSON *j = cJSON_Parse(t);
    if (!j) fail_msg("bad test JSON: %s", s);
    free(t);
    return j;
}

static void assert_json(const cJSON *got, const char *want)
{
    cJSON *w = J(want);
    if (!got || !cJSON_Compare(got, w, 1)) {
        char *g = got ? cJSON_PrintUnformatted(got) : strdup("NULL");
        char *ws = cJSON_PrintUnformatted(w);
        fail_msg("got  %s\nwant %s", g, ws);
    }
    cJSON_Delete(w);
}

/* Applies a JSON patch; want NULL means it must fail, leaving doc untouched. */
static void jp(const char *doc, const char *patch, const char *want)
{
    cJSON *d = J(doc), *p = J(patch), *copy = cJSON_Duplicate(d, 1);
    char err[512] = "";
    cJSON *out = api_json_patch_apply(d, p, err, sizeof err);
    if (want) {
        if (!out) fail_msg("patch %s failed: %s", patch, err);
        assert_json(out, want);
    } else {
        if (out) fail_msg("patch %s should fail", patch);
        assert_true(err[0] != '\0');
    }
    assert_true(cJSON_Compare(d, copy, 1)); /* the input is never changed */
    cJSON_Delete(out);
    cJSON_Delete(d);
    cJSON_Delete(p);
    cJSON_Delete(copy);
}

static void test_rfc6902_examples(void **state)
{
    (void)state;
    /* A.1 - A.16 */
    jp("{'foo':'bar'}", "[{'op':'add','path':'/baz','value':'qux'}]", "{'baz':'qux','foo':'bar'}");
    jp("{'foo':['bar','baz']}", "[{'op':'add','path':'/foo/1','value':'qux'}]",
       "{'foo':['bar','qux','baz']}");
    jp("{'baz':'qux','foo':'bar'}", "[{'op':'remove','path':'/baz'}]", "{'foo':'bar'}");
    jp("{'foo':['bar','qux','baz']}", "[{'op':'remove','path':'/foo/1'}]", "{'foo':['bar','baz']}");
    jp("{'baz':'qux','foo':'bar'}", "[{'op':'replace','path':'/baz','value':'boo'}]",
       "{'baz':'boo','foo':'bar'}");
    jp("{'foo':{'bar':'baz','waldo':'fred'},'qux':{'corge':'grault'}}",
       "[{'op':'move','from':'/foo/waldo','path':'/qux/thud'}]",
       "{'foo':{'bar':'baz'},'qux':{'corge':'grault','thud':'fred'}}");
    jp("{'foo':['all','grass','cows','eat']}", "[{'op':'move','from':'/foo/1','path':'/foo/3'}]",
       "{'foo':['all','cows','eat','grass']}");
    jp("{'baz':'qux','foo':['a',2,'c']}",
       "[{'op':'test','path':'/baz','value':'qux'},{'op':'test','path':'/foo/1','value':2}]",
       "{'baz':'qux','foo':['a',2,'c']}");
    jp("{'baz':'qux'}", "[{'op':'test','path':'/baz','value':'bar'}]", NULL);
    jp("{'foo':'bar'}", "[{'op':'add','path':'/child','value':{'grandchild':{}}}]",
       "{'foo':'bar','child':{'grandchild':{}}}");
    jp("{'foo':'bar'}", "[{'op':'add','path':'/baz','value':'qux','xyz':123}]",
       "{'foo':'bar','baz':'qux'}");
    jp("{'foo':'bar'}", "[{'op':'add','path':'/baz/bat','value':'qux'}]", NULL);
    jp("{'/':9,'~1':10}", "[{'op':'test','path':'/~01','value':10}]", "{'/':9,'~1':10}");
    jp("{'/':9,'~1':10}", "[{'op':'test','path':'/~01','value':'10'}]", NULL);
    jp("{'foo':['bar']}", "[{'op':'add','path':'/foo/-','value':['abc','def']}]",
       "{'foo':['bar',['abc','def']]}");
    jp("{'a/b':1}", "[{'op':'replace','path':'/a~1b','value':2}]", "{'a/b':2}");
}

static void test_json_patch_rules(void **state)
{
    (void)state;
    /* the whole document */
    jp("{'a':1}", "[{'op':'replace','path':'','value':{'b':2}}]", "{'b':2}");
    jp("{'a':1}", "[{'op':'add','path':'','value':[1]}]", "[1]");
    jp("{'a':1}", "[{'op':'remove','path':''}]", NULL);
    jp("{'a':{'b':1}}", "[{'op':'move','from':'/a','path':''}]", "{'b':1}");
    /* a failing later operation undoes the earlier ones */
    jp("{'a':1}", "[{'op':'add','path':'/b','value':2},{'op':'remove','path':'/zz'}]", NULL);
    /* arrays: bounds, leading zeros, '-' only for add */
    jp("{'a':[1,2]}", "[{'op':'add','path':'/a/2','value':3}]", "{'a':[1,2,3]}");
    jp("{'a':[1,2]}", "[{'op':'add','path':'/a/3','value':3}]", NULL);
    jp("{'a':[1,2]}", "[{'op':'add','path':'/a/01','value':3}]", NULL);
    jp("{'a':[1,2]}", "[{'op':'remove','path':'/a/-'}]", NULL);
    jp("{'a':[1,2]}", "[{'op':'replace','path':'/a/2','value':3}]", NULL);
    jp("{'a':[1,2]}", "[{'op':'replace','path':'/a/0','value':3}]", "{'a':[3,2]}");
    /* replace needs an existing target, add does not */
    jp("{'a':1}", "[{'op':'replace','path':'/b','value':3}]", NULL);
    jp("{'a':1}", "[{'op':'add','path':'/a','value':3}]", "{'a':3}");
    /* null is a value */
    jp("{'a':1}", "[{'op':'add','path':'/b','value':null}]", "{'a':1,'b':null}");
    jp("{'a':1}", "[{'op':'add','path':'/b'}]", NULL);
    /* copy and move */
    jp("{'a':{'x':[1]}}", "[{'op':'copy','from':'/a','path':'/b'}]",
       "{'a':{'x':[1]},'b':{'x':[1]}}");
    jp("{'a':{'x':1}}", "[{'op':'move','from':'/a','path':'/a/y'}]", NULL);
    jp("{'a':1}", "[{'op':'move','from':'/a','path':'/a'}]", "{'a':1}");
    jp("{'a':1}", "[{'op':'copy','from':'/zz','path':'/b'}]", NULL);
    /* malformed operations */
    jp("{'a':1}", "[{'op':'frob','path':'/a'}]", NULL);
    jp("{'a':1}", "[{'path':'/a'}]", NULL);
    jp("{'a':1}", "[{'op':'add','path':'a','value':1}]", NULL);
    jp("{'a':1}", "[{'op':'add','path':'/~2','value':1}]", NULL);
    jp("{'a':1}", "{'op':'add'}", NULL);
    jp("{'a':1}", "[1]", NULL);
    /* a Kubernetes-style use */
    jp("{'metadata':{'labels':{'app':'web'}},'spec':{'replicas':1}}",
       "[{'op':'replace','path':'/spec/replicas','value':3},"
       "{'op':'add','path':'/metadata/labels/tier','value':'fe'}]",
       "{'metadata':{'labels':{'app':'web','tier':'fe'}},'spec':{'replicas':3}}");
}

static void test_json_patch_limits(void **state)
{
    (void)state;
    cJSON *doc = J("{}"), *patch = cJSON_CreateArray();
    for (int i = 0; i < 10001; i++) {
        cJSON *op = J("{'op':'test','path':'','value':{}}");
        cJSON_AddItemToArray(patch, op);
    }
    char err[256];
    assert_null(api_json_patch_apply(doc, patch, err, sizeof err));
    assert_string_equal(err, "The allowed maximum operations in a JSON patch is 10000, got 10001");
    cJSON_Delete(patch);

    /* doubling the document with copies hits the copy limit, not memory */
    cJSON_Delete(doc);
    doc = J("{'a':'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'}");
    patch = cJSON_CreateArray();
    for (int i = 0; i < 40; i++) {
        char op[80];
        snprintf(op, sizeof op, "{'op':'copy','from':'','path':'/k%d'}", i);
        cJSON_AddItemToArray(patch, J(op));
    }
    assert_null(api_json_patch_apply(doc, patch, err, sizeof err));
    assert_non_null(strstr(err, "copy size"));
    cJSON_Delete(patch);

    /* nothing deeper than cJSON can read back */
    patch = cJSON_CreateArray();
    for (int i = 0; i < 1000; i++)
        cJSON_AddItemToArray(patch, J("{'op':'copy','from':'','path':'/a'}"));
    cJSON_Delete(doc);
    doc = J("{'a':{}}");
    cJSON *out = api_json_patch_apply(doc, patch, err, sizeof err);
    assert_null(out);
    cJSON_Delete(patch);
    cJSON_Delete(doc);
}

static void test_pointer_get(void **state)
{
    (void)state;
    cJSON *d = J("{'foo':['bar','baz'],'':0,'a/b':1,'c%d':2,'e^f':3,'g|h':4,' ':7,'m~n':8}");
    assert_ptr_equal(api_json_pointer_get(d, ""), d);
    assert_string_equal(api_json_pointer_get(d, "/foo/0")->valuestring, "bar");
    assert_int_equal(api_json_pointer_get(d, "/")->valueint, 0);
    assert_int_equal(api_json_pointer_get(d, "/a~1b")->valueint, 1);
    assert_int_equal(api_json_pointer_get(d, "/c%d")->valueint, 2);
    assert_int_equal(api_json_pointer_get(d, "/ ")->valueint, 7);
    assert_int_equal(api_json_pointer_get(d, "/m~0n")->valueint, 8);
    assert_null(api_json_pointer_get(d, "/foo/2"));
    assert_null(api_json_pointer_get(d, "foo"));
    cJSON_Delete(d);
}

/* RFC 7386 appendix A: original, patch, result */
static void mp(const char *doc, const char *patch, const char *want)
{
    cJSON *d = J(doc), *p = J(patch), *copy = cJSON_Duplicate(d, 1);
    char err[256];
    cJSON *out = api_merge_patch_apply(d, p, err, sizeof err);
    assert_non_null(out);
    assert_json(out, want);
    assert_true(cJSON_Compare(d, copy, 1));
    cJSON_Delete(out);
    cJSON_Delete(d);
    cJSON_Delete(p);
    cJSON_Delete(copy);
}

static void test_rfc7386_examples(void **state)
{
    (void)state;
    mp("{'a':'b'}", "{'a':'c'}", "{'a':'c'}");
    mp("{'a':'b'}", "{'b':'c'}", "{'a':'b','b':'c'}");
    mp("{'a':'b'}", "{'a':null}", "{}");
    mp("{'a':'b','b':'c'}", "{'a':null}", "{'b':'c'}");
    mp("{'a':['b']}", "{'a':'c'}", "{'a':'c'}");
    mp("{'a':'c'}", "{'a':['b']}", "{'a':['b']}");
    mp("{'a':{'b':'c'}}", "{'a':{'b':'d','c':null}}", "{'a':{'b':'d'}}");
    mp("{'a':[{'b':'c'}]}", "{'a':[1]}", "{'a':[1]}");
    mp("['a','b']", "['c','d']", "['c','d']");
    mp("{'a':'b'}", "['c']", "['c']");
    mp("{'a':'foo'}", "null", "null");
    mp("{'a':'foo'}", "'bar'", "'bar'");
    mp("{'e':null}", "{'a':1}", "{'e':null,'a':1}");
    mp("[1,2]", "{'a':'b','c':null}", "{'a':'b'}");
    mp("{}", "{'a':{'bb':{'ccc':null}}}", "{'a':{'bb':{}}}");
    /* Kubernetes-style: labels change, one removed, lists replaced */
    mp("{'metadata':{'labels':{'a':'1','b':'2'}},'spec':{'ports':[{'port':80}]}}",
       "{'metadata':{'labels':{'a':null,'c':'3'}},'spec':{'ports':[{'port':443}]}}",
       "{'metadata':{'labels':{'b':'2','c':'3'}},'spec':{'ports':[{'port':443}]}}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6902_examples),  cmocka_unit_test(test_json_patch_rules),
        cmocka_unit_test(test_json_patch_limits), cmocka_unit_test(test_pointer_get),
        cmocka_unit_test(test_rfc7386_examples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
