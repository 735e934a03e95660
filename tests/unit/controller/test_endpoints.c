/*
 * test_endpoints.c - what Endpoints and EndpointSlices list for a Service:
 * target ports by number and by name (per protocol), ready and not-ready
 * addresses, pods left out (no IP, finished, terminating), subsets by port
 * set, publishNotReadyAddresses, canonical order, slices of 100.
 */
#include "testutil.h"

static cJSON *svc(const char *ports, bool publish)
{
    return JF("{'metadata':{'name':'web','namespace':'default','uid':'s1'},"
              "'spec':{'selector':{'app':'web'},'ports':%s,'publishNotReadyAddresses':%s}}",
              ports, publish ? "true" : "false");
}

static cJSON *pod(const char *name, const char *ip, bool ready, const char *extra_meta,
                  const char *phase, const char *cports)
{
    return JF("{'metadata':{'name':'%s','namespace':'default','uid':'u-%s'%s},"
              "'spec':{'nodeName':'n1','containers':[{'ports':%s}]},"
              "'status':{'phase':'%s','podIP':'%s','conditions':[{'type':'Ready','status':'%s'}]}}",
              name, name, extra_meta, cports, phase, ip, ready ? "True" : "False");
}

#define HTTP_PORTS "[{'name':'http','containerPort':8080,'protocol':'TCP'}]"
#define ALT_PORTS "[{'name':'http','containerPort':9090,'protocol':'TCP'}]"

static void test_resolve_port(void **state)
{
    (void)state;
    cJSON *p = pod("a", "10.0.0.1", true, "", "Running",
                   "[{'name':'http','containerPort':8080},{'name':'dns','containerPort':53,"
                   "'protocol':'UDP'}]");
    cJSON *by_num = J("{'port':80,'targetPort':8081}");
    cJSON *by_name = J("{'port':80,'targetPort':'http'}");
    cJSON *dflt = J("{'port':80}");
    cJSON *udp = J("{'port':53,'targetPort':'dns','protocol':'UDP'}");
    cJSON *tcp_dns = J("{'port':53,'targetPort':'dns','protocol':'TCP'}");
    cJSON *missing = J("{'port':80,'targetPort':'metrics'}");
    assert_int_equal(eps_resolve_port(p, by_num), 8081);
    assert_int_equal(eps_resolve_port(p, by_name), 8080);
    assert_int_equal(eps_resolve_port(p, dflt), 80);
    assert_int_equal(eps_resolve_port(p, udp), 53);
    assert_int_equal(eps_resolve_port(p, tcp_dns), -1);
    assert_int_equal(eps_resolve_port(p, missing), -1);
    cJSON *items[] = {p, by_num, by_name, dflt, udp, tcp_dns, missing};
    for (size_t i = 0; i < sizeof items / sizeof *items; i++)
        cJSON_Delete(items[i]);
}

static void test_subsets(void **state)
{
    (void)state;
    cJSON *s = svc("[{'name':'web','port':80,'targetPort':'http'}]", false);
    cJSON *p[] = {
        pod("b", "10.0.0.2", true, "", "Running", HTTP_PORTS),
        pod("a", "10.0.0.1", true, "", "Running", HTTP_PORTS),
        pod("c", "10.0.0.3", false, "", "Running", HTTP_PORTS),
        pod("noip", "", true, "", "Pending", HTTP_PORTS),
        pod("done", "10.0.0.4", false, "", "Succeeded", HTTP_PORTS),
        pod("going", "10.0.0.5", true, ",'deletionTimestamp':'2026-11-24T08:00:00Z'", "Running",
            HTTP_PORTS),
        pod("alt", "10.0.0.6", true, "", "Running", ALT_PORTS),
        pod("noport", "10.0.0.7", true, "", "Running", "[]"),
    };
    size_t n = sizeof p / sizeof *p;
    cJSON *sub = eps_subsets(s, (const cJSON *const *)p, n);
    assert_int_equal(cJSON_GetArraySize(sub), 2);
    /* subsets sorted by their ports: 8080 then 9090 */
    const cJSON *s0 = cJSON_GetArrayItem(sub, 0), *s1 = cJSON_GetArrayItem(sub, 1);
    cJSON *want0 =
        J("{'addresses':[{'ip':'10.0.0.1','nodeName':'n1','targetRef':{'kind':'Pod',"
          "'namespace':'default','name':'a','uid':'u-a'}},{'ip':'10.0.0.2','nodeName':"
          "'n1','targetRef':{'kind':'Pod','namespace':'default','name':'b','uid':'u-b'}}],"
          "'notReadyAddresses':[{'ip':'10.0.0.3','nodeName':'n1','targetRef':{'kind':"
          "'Pod','namespace':'default','name':'c','uid':'u-c'}}],"
          "'ports':[{'name':'web','port':8080,'protocol':'TCP'}]}");
    assert_true(cJSON_Compare(s0, want0, true));
    assert_int_equal(cj_int(cJSON_GetArrayItem(cj_get(s1, "ports"), 0), "port", 0), 9090);
    assert_string_equal(cj_str0(cJSON_GetArrayItem(cj_get(s1, "addresses"), 0), "ip"), "10.0.0.6");
    /* the same pods in another order give the same subsets */
    cJSON *q[] = {p[7], p[6], p[5], p[4], p[3], p[2], p[1], p[0]};
    cJSON *sub2 = eps_subsets(s, (const cJSON *const *)q, n);
    assert_true(cJSON_Compare(sub, sub2, true));
    cJSON_Delete(sub2);

    /* publishNotReadyAddresses: everything with an IP is an address,
     * terminating pods included */
    cJSON *pub = svc("[{'name':'web','port':80,'targetPort':'http'}]", true);
    cJSON *sub3 = eps_subsets(pub, (const cJSON *const *)p, n);
    assert_int_equal(cJSON_GetArraySize(cj_get(cJSON_GetArrayItem(sub3, 0), "addresses")), 4);
    assert_null(cj_get(cJSON_GetArrayItem(sub3, 0), "notReadyAddresses"));
    cJSON_Delete(sub3);
    cJSON_Delete(pub);

    /* an unnamed port has no name in Endpoints */
    cJSON *unnamed = svc("[{'port':80,'targetPort':8080}]", false);
    cJSON *sub4 = eps_subsets(unnamed, (const cJSON *const *)p, 1);
    assert_null(
        cj_get(cJSON_GetArrayItem(cj_get(cJSON_GetArrayItem(sub4, 0), "ports"), 0), "name"));
    cJSON_Delete(sub4);
    cJSON_Delete(unnamed);
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(p[i]);
    cJSON_Delete(sub);
    cJSON_Delete(want0);
    cJSON_Delete(s);
}

static void test_slices(void **state)
{
    (void)state;
    cJSON *s = svc("[{'name':'web','port':80,'targetPort':'http'}]", false);
    /* no pods: one empty slice */
    cJSON *none = eps_slices(s, NULL, 0);
    assert_int_equal(cJSON_GetArraySize(none), 1);
    assert_int_equal(cJSON_GetArraySize(cj_get(cJSON_GetArrayItem(none, 0), "endpoints")), 0);
    assert_string_equal(cj_str0(cJSON_GetArrayItem(none, 0), "addressType"), "IPv4");
    cJSON_Delete(none);
    /* 250 pods: slices of 100, 100, 50 */
    enum { N = 250 };
    cJSON *p[N];
    for (int i = 0; i < N; i++) {
        char name[16], ip[32];
        snprintf(name, sizeof name, "p%03d", i);
        snprintf(ip, sizeof ip, "10.1.%d.%d", i / 200, i % 200 + 1);
        p[i] = pod(name, ip, i % 10 != 0, "", "Running", HTTP_PORTS);
    }
    cJSON *sl = eps_slices(s, (const cJSON *const *)p, N);
    assert_int_equal(cJSON_GetArraySize(sl), 3);
    assert_int_equal(cJSON_GetArraySize(cj_get(cJSON_GetArrayItem(sl, 0), "endpoints")), 100);
    assert_int_equal(cJSON_GetArraySize(cj_get(cJSON_GetArrayItem(sl, 2), "endpoints")), 50);
    int ready = 0;
    const cJSON *x, *e;
    cJSON_ArrayForEach(x, sl)
    {
        cJSON_ArrayForEach(e, cj_get(x, "endpoints")) ready += cj_true(e, "conditions.ready");
    }
    assert_int_equal(ready, N - N / 10);
    const cJSON *port = cJSON_GetArrayItem(cj_get(cJSON_GetArrayItem(sl, 0), "ports"), 0);
    assert_string_equal(cj_str0(port, "name"), "web");
    assert_int_equal(cj_int(port, "port", 0), 8080);
    cJSON_Delete(sl);
    for (int i = 0; i < N; i++)
        cJSON_Delete(p[i]);
    cJSON_Delete(s);
}

static void test_headless_without_ports(void **state)
{
    (void)state;
    cJSON *s = J("{'metadata':{'name':'h','namespace':'default'},'spec':{'clusterIP':'None',"
                 "'selector':{'app':'web'}}}");
    cJSON *p = pod("a", "10.0.0.1", true, "", "Running", "[]");
    cJSON *sub = eps_subsets(s, (const cJSON *const *)&p, 1);
    assert_int_equal(cJSON_GetArraySize(sub), 1);
    assert_null(cj_get(cJSON_GetArrayItem(sub, 0), "ports"));
    cJSON_Delete(sub);
    /* a ClusterIP Service without ports lists nobody */
    cJSON_ReplaceItemInObjectCaseSensitive(cj_obj(s, "spec"), "clusterIP",
                                           cJSON_CreateString("10.43.0.9"));
    sub = eps_subsets(s, (const cJSON *const *)&p, 1);
    assert_int_equal(cJSON_GetArraySize(sub), 0);
    cJSON_Delete(sub);
    cJSON_Delete(p);
    cJSON_Delete(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_port),
        cmocka_unit_test(test_subsets),
        cmocka_unit_test(test_slices),
        cmocka_unit_test(test_headless_without_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
