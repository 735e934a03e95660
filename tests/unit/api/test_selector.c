/*
 * test_selector.c - label and field selectors against Kubernetes' documented
 * behaviour: the selector grammar and its error messages, canonical strings,
 * matching, metav1.LabelSelector semantics, and the fields each resource can be
 * filtered on.
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

/* JSON written with single quotes, for readability. */
static cJSON *J(const char *s)
{
    char *t = strdup(s);
    for (char *c = t; *c; c++)
        if (*c == '\'') *c = '"';
    cJSON *j = cJSON_Parse(t);
    free(t);
    assert_non_null(j);
    return j;
}

static bool sel_matches(const char *sel, const char *labels)
{
    char err[1024] = "";
    api_selector_t *s = api_selector_parse(sel, err, sizeof err);
    if (!s) fail_msg("parse %s: %s", sel, err);
    cJSON *l = J(labels);
    bool m = api_selector_matches(s, l);
    cJSON_Delete(l);
    api_selector_free(s);
    return m;
}

static void check_canonical(const char *in, const char *want)
{
    char err[1024] = "";
    api_selector_t *s = api_selector_parse(in, err, sizeof err);
    if (!s) fail_msg("parse '%s': %s", in, err);
    char *str = api_selector_string(s);
    assert_string_equal(str, want);
    /* the canonical form parses back to itself */
    api_selector_t *again = api_selector_parse(str, err, sizeof err);
    assert_non_null(again);
    char *str2 = api_selector_string(again);
    assert_string_equal(str2, want);
    free(str);
    free(str2);
    api_selector_free(s);
    api_selector_free(again);
}

static void check_error(const char *in, const char *want)
{
    char err[2048] = "";
    api_selector_t *s = api_selector_parse(in, err, sizeof err);
    if (s) fail_msg("'%s' parsed but should not", in);
    if (want && strcmp(err, want)) fail_msg("'%s':\n got  %s\n want %s", in, err, want);
}

static void test_label_parse_valid(void **state)
{
    (void)state;
    check_canonical("", "");
    check_canonical("x=a,y=b,z=c", "x=a,y=b,z=c");
    check_canonical("z=c,y=b,x=a", "x=a,y=b,z=c");
    check_canonical("x!=a,y=b", "x!=a,y=b");
    check_canonical("x=,z= ", "x=,z=");
    check_canonical("x= ,z= ", "x=,z=");
    check_canonical("!x", "!x");
    check_canonical("x", "x");
    check_canonical("x==a", "x==a");
    check_canonical("x>1", "x>1");
    check_canonical("x<1", "x<1");
    check_canonical(" x in ( c , a, b ) ", "x in (a,b,c)");
    check_canonical("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()");
    check_canonical("x notin (a)", "x notin (a)");
    check_canonical("in in (in),notin notin (notin)", "in in (in),notin notin (notin)");
    check_canonical("example.com/app=web", "example.com/app=web");
    check_canonical("app.kubernetes.io/name in (a_b,c-d,e.f)",
                    "app.kubernetes.io/name in (a_b,c-d,e.f)");
}

static void test_label_parse_errors(void **state)
{
    (void)state;
    check_error("x=a||y=b", "unable to parse requirement: values[0][x]: Invalid value: "
                            "\"a||y\": a valid label must be an empty string or consist of "
                            "alphanumeric characters, '-', '_' or '.', and must start and end with "
                            "an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                            "'12345', regex used for validation is "
                            "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
    check_error("x=a=b", "found '=', expected: ',' or 'end of string'");
    check_error("x==a==b", "found '==', expected: ',' or 'end of string'");
    check_error("!x=a", "found '=', expected: ',' or 'end of string'");
    check_error("x=a b", "found 'b', expected: ',' or 'end of string'");
    check_error("a b=c", "unable to parse requirement: found 'b', expected: in, notin, =, ==, "
                         "!=, gt, lt");
    check_error("x in (a", "unable to parse requirement: found '', expected: ',' or ')'");
    check_error("x in a", "unable to parse requirement: found 'a' expected: '('");
    check_error("x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'");
    check_error("x=a,", "found '', expected: identifier after ','");
    check_error(",x=a", "found ',', expected: !, identifier, or 'end of string'");
    check_error("x<a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', "
                       "'Lt' operators, the value must be an integer");
    check_error(
        "-a=b",
        "unable to parse requirement: <nil>: Invalid value: \"-a\": name part must consist of "
        "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
    check_error("a=-b",
                "unable to parse requirement: values[0][a]: Invalid value: \"-b\": a valid label "
                "must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                "and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
                "'my_value',  or '12345', regex used for validation is "
                "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
    check_error("Example.com/a=b", NULL);
    check_error("a/b/c=d", NULL);
    check_error("/a=b", "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part "
                        "must be non-empty");
    /* 64 characters is one too many */
    check_error("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=b",
                "unable to parse requirement: <nil>: Invalid value: "
                "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": name part "
                "must be no more than 63 characters");
}

static void test_label_matching(void **state)
{
    (void)state;
    assert_true(sel_matches("", "{'x':'y'}"));
    assert_true(sel_matches("x=y", "{'x':'y'}"));
    assert_false(sel_matches("x=y", "{'x':'z'}"));
    assert_false(sel_matches("x=y", "{}"));
    assert_true(sel_matches("x==y", "{'x':'y'}"));
    assert_true(sel_matches("x!=y", "{'x':'z'}"));
    assert_true(sel_matches("x!=y", "{}"));
    assert_false(sel_matches("x!=y", "{'x':'y'}"));
    assert_true(sel_matches("x in (a,b)", "{'x':'b'}"));
    assert_false(sel_matches("x in (a,b)", "{}"));
    assert_true(sel_matches("x notin (a,b)", "{}"));
    assert_false(sel_matches("x notin (a,b)", "{'x':'a'}"));
    assert_true(sel_matches("x", "{'x':''}"));
    assert_false(sel_matches("x", "{'y':'x'}"));
    assert_true(sel_matches("!x", "{'y':'z'}"));
    assert_false(sel_matches("!x", "{'x':'z'}"));
    assert_true(sel_matches("x>1", "{'x':'2'}"));
    assert_false(sel_matches("x>1", "{'x':'1'}"));
    assert_false(sel_matches("x>1", "{'x':'a'}"));
    assert_true(sel_matches("x<1", "{'x':'0'}"));
    assert_true(sel_matches("x=a,y in (b)", "{'x':'a','y':'b','z':'c'}"));
    assert_false(sel_matches("x=a,y in (b)", "{'x':'a','y':'c'}"));
    assert_true(sel_matches("x=", "{'x':''}"));
    assert_true(sel_matches("x in ()", "{'x':''}"));
    /* keys are case sensitive */
    assert_false(sel_matches("App=web", "{'app':'web'}"));
}

static void test_label_selector_json(void **state)
{
    (void)state;
    char err[1024] = "";
    cJSON *ls = J("{'matchLabels':{'app':'web'},'matchExpressions':[{'key':'tier','operator':"
                  "'In','values':['b','a']},{'key':'canary','operator':'DoesNotExist'}]}");
    api_selector_t *s = api_selector_from_json(ls, err, sizeof err);
    assert_non_null(s);
    char *str = api_selector_string(s);
    assert_string_equal(str, "app=web,!canary,tier in (a,b)");
    free(str);
    cJSON *l = J("{'app':'web','tier':'a'}");
    assert_true(api_selector_matches(s, l));
    cJSON_Delete(l);
    l = J("{'app':'web','tier':'a','canary':'1'}");
    assert_false(api_selector_matches(s, l));
    cJSON_Delete(l);
    api_selector_free(s);
    cJSON_Delete(ls);

    /* apps/v1: a null selector selects nothing, an empty one everything */
    s = api_selector_from_json(NULL, err, sizeof err);
    assert_true(api_selector_nothing(s));
    l = J("{}");
    assert_false(api_selector_matches(s, l));
    api_selector_free(s);
    ls = J("{}");
    s = api_selector_from_json(ls, err, sizeof err);
    assert_true(api_selector_empty(s));
    assert_true(api_selector_matches(s, l));
    api_selector_free(s);
    cJSON_Delete(ls);
    cJSON_Delete(l);

    ls = J("{'matchExpressions':[{'key':'a','operator':'Foo'}]}");
    assert_null(api_selector_from_json(ls, err, sizeof err));
    assert_string_equal(err, "\"Foo\" is not a valid label selector operator");
    cJSON_Delete(ls);
    ls = J("{'matchExpressions':[{'key':'a','operator':'In','values':[]}]}");
    assert_null(api_selector_from_json(ls, err, sizeof err));
    assert_string_equal(err, "values: Invalid value: []string{}: for 'in', 'notin' operators, "
                             "values set can't be empty");
    cJSON_Delete(ls);
    ls = J("{'matchExpressions':[{'key':'a','operator':'Exists','values':['x']}]}");
    assert_null(api_selector_from_json(ls, err, sizeof err));
    assert_string_equal(err, "values: Invalid value: []string{\"x\"}: values set must be empty "
                             "for exists and does not exist");
    cJSON_Delete(ls);
    ls = J("{'matchLabels':{'a b':'c'}}");
    assert_null(api_selector_from_json(ls, err, sizeof err));
    assert_non_null(strstr(err, "key: Invalid value: \"a b\": name part must consist of"));
    cJSON_Delete(ls);
}

static void test_label_selector_map(void **state)
{
    (void)state;
    cJSON *m = J("{'app':'web','tier':'fe'}");
    api_selector_t *s = api_selector_from_map(m);
    char *str = api_selector_string(s);
    assert_string_equal(str, "app=web,tier=fe");
    free(str);
    cJSON *l = J("{'app':'web','tier':'fe','x':'y'}");
    assert_true(api_selector_matches(s, l));
    cJSON_Delete(l);
    l = J("{'app':'web'}");
    assert_false(api_selector_matches(s, l));
    cJSON_Delete(l);
    api_selector_free(s);
    cJSON_Delete(m);
    s = api_selector_from_map(NULL);
    assert_true(api_selector_empty(s));
    api_selector_free(s);
}

static void test_label_validation(void **state)
{
    (void)state;
    char err[1024];
    assert_true(api_label_key_valid("app", err, sizeof err));
    assert_true(api_label_key_valid("kubernetes.io/hostname", err, sizeof err));
    assert_false(api_label_key_valid("Kubernetes.io/hostname", err, sizeof err));
    assert_non_null(strstr(err, "prefix part a lowercase RFC 1123 subdomain"));
    assert_false(api_label_key_valid("", err, sizeof err));
    assert_non_null(strstr(err, "name part must be non-empty; name part must consist"));
    assert_true(api_label_value_valid("", err, sizeof err));
    assert_true(api_label_value_valid("v1.2_3-x", err, sizeof err));
    assert_false(api_label_value_valid("v1 ", err, sizeof err));
}

static void test_field_parse(void **state)
{
    (void)state;
    char err[512] = "";
    api_fieldsel_t *f = api_fieldsel_parse("spec.nodeName!=n1,metadata.name=foo", err, sizeof err);
    assert_non_null(f);
    char *s = api_fieldsel_string(f);
    assert_string_equal(s, "metadata.name=foo,spec.nodeName!=n1");
    free(s);
    assert_string_equal(api_fieldsel_exact(f, "metadata.name"), "foo");
    assert_null(api_fieldsel_exact(f, "spec.nodeName"));
    api_fieldsel_free(f);

    f = api_fieldsel_parse("a==b,c=d\\,e\\=f\\\\g", err, sizeof err);
    assert_non_null(f);
    assert_string_equal(api_fieldsel_exact(f, "a"), "b");
    assert_string_equal(api_fieldsel_exact(f, "c"), "d,e=f\\g");
    s = api_fieldsel_string(f);
    assert_string_equal(s, "a=b,c=d\\,e\\=f\\\\g");
    free(s);
    api_fieldsel_free(f);

    f = api_fieldsel_parse("", err, sizeof err);
    assert_true(api_fieldsel_empty(f));
    api_fieldsel_free(f);

    assert_null(api_fieldsel_parse("a", err, sizeof err));
    assert_string_equal(err, "invalid selector: 'a'; can't understand 'a'");
    assert_null(api_fieldsel_parse("a=b,c", err, sizeof err));
    assert_string_equal(err, "invalid selector: 'a=b,c'; can't understand 'c'");
    assert_null(api_fieldsel_parse("a=b=c", err, sizeof err));
    assert_string_equal(err, "invalid field selector: unescaped character in value: =");
    assert_null(api_fieldsel_parse("a=\\q", err, sizeof err));
    assert_string_equal(err, "invalid field selector: invalid escape sequence: \\q");
}

static void test_field_supported(void **state)
{
    (void)state;
    char err[256];
    assert_true(api_fieldsel_supported("pods", "spec.nodeName"));
    assert_true(api_fieldsel_supported("pods", "status.phase"));
    assert_true(api_fieldsel_supported("pods", "metadata.namespace"));
    assert_false(api_fieldsel_supported("pods", "spec.containers"));
    assert_true(api_fieldsel_supported("nodes", "spec.unschedulable"));
    assert_false(api_fieldsel_supported("nodes", "metadata.namespace"));
    assert_true(api_fieldsel_supported("events", "involvedObject.uid"));
    assert_true(api_fieldsel_supported("events", "source"));
    assert_true(api_fieldsel_supported("secrets", "type"));
    assert_true(api_fieldsel_supported("namespaces", "status.phase"));
    assert_true(api_fieldsel_supported("replicasets", "status.replicas"));
    assert_true(api_fieldsel_supported("replicationcontrollers", "status.replicas"));
    assert_true(api_fieldsel_supported("configmaps", "metadata.name"));
    assert_false(api_fieldsel_supported("configmaps", "data.x"));
    api_fieldsel_t *f = api_fieldsel_parse("metadata.name=a,spec.foo=b", err, sizeof err);
    assert_int_equal(api_fieldsel_check(f, "pods", err, sizeof err), -1);
    assert_string_equal(err, "field label not supported: spec.foo");
    api_fieldsel_free(f);
}

static bool obj_matches(const char *sel, const char *resource, const char *obj)
{
    char err[256];
    api_fieldsel_t *f = api_fieldsel_parse(sel, err, sizeof err);
    assert_non_null(f);
    cJSON *o = J(obj);
    bool m = api_fieldsel_matches_object(f, resource, o);
    cJSON_Delete(o);
    api_fieldsel_free(f);
    return m;
}

static void test_field_matching(void **state)
{
    (void)state;
    const char *pod = "{'metadata':{'name':'p','namespace':'default'},'spec':{'nodeName':'n1'},"
                      "'status':{'phase':'Running','podIPs':[{'ip':'10.42.0.5'}]}}";
    assert_true(obj_matches("spec.nodeName=n1", "pods", pod));
    assert_false(obj_matches("spec.nodeName=n2", "pods", pod));
    assert_true(obj_matches("status.phase!=Succeeded,status.phase!=Failed", "pods", pod));
    assert_true(obj_matches("metadata.namespace=default,metadata.name=p", "pods", pod));
    assert_true(obj_matches("spec.hostNetwork=false", "pods", pod));
    assert_true(obj_matches("status.podIPs=10.42.0.5", "pods", pod));
    assert_true(obj_matches("spec.nodeName=", "pods", "{'spec':{}}"));
    assert_true(obj_matches("spec.unschedulable=false", "nodes", "{'spec':{}}"));
    assert_true(obj_matches("spec.unschedulable=true", "nodes", "{'spec':{'unschedulable':true}}"));
    assert_true(obj_matches("status.replicas=0", "replicasets", "{'status':{}}"));
    assert_true(obj_matches("status.replicas=3", "replicasets", "{'status':{'replicas':3}}"));
    assert_true(obj_matches("source=kubelet,involvedObject.kind=Pod", "events",
                            "{'source':{'component':'kubelet'},'involvedObject':{'kind':'Pod'}}"));
    assert_true(obj_matches("source=ctrl", "events", "{'reportingComponent':'ctrl'}"));
    char buf[64];
    cJSON *o = J("{'a':{'b':1.5,'c':true,'d':[1]}}");
    assert_string_equal(api_json_field(o, "a.b", buf, sizeof buf), "1.5");
    assert_string_equal(api_json_field(o, "a.c", buf, sizeof buf), "true");
    assert_null(api_json_field(o, "a.d", buf, sizeof buf));
    assert_null(api_json_field(o, "a.x", buf, sizeof buf));
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_parse_valid),  cmocka_unit_test(test_label_parse_errors),
        cmocka_unit_test(test_label_matching),     cmocka_unit_test(test_label_selector_json),
        cmocka_unit_test(test_label_selector_map), cmocka_unit_test(test_label_validation),
        cmocka_unit_test(test_field_parse),        cmocka_unit_test(test_field_supported),
        cmocka_unit_test(test_field_matching),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
