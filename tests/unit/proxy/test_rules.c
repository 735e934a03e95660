/*
 * test_rules.c - the rules the proxy generates, checked against what
 * kube-proxy's iptables mode writes for the same Services and Endpoints
 * (KUBE-* there, PICOKUBE-* here): ClusterIP, NodePort, external IPs,
 * LoadBalancer ingress, several ports, REJECT without endpoints, ClientIP
 * affinity, the 1/n, 1/(n-1) ... probabilities, masquerading, traffic
 * policies, deterministic output and hostile input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/proxy.h"
#include "proxy/proxy_int.h"

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

static char *render_cfg(const struct proxy_config *cfg, const char *svcs, const char *eps)
{
    cJSON *s = J(svcs), *e = J(eps);
    char err[256] = "";
    char *text = proxy_render(cfg, s, e, err, sizeof(err));
    if (!text) fail_msg("render: %s", err);
    cJSON_Delete(s);
    cJSON_Delete(e);
    return text;
}

static char *render(const char *svcs, const char *eps)
{
    struct proxy_config cfg = {.node_name = "node-a"};
    return render_cfg(&cfg, svcs, eps);
}

/* The chain name kube-proxy style for a service port / endpoint. */
static const char *chain(const char *prefix, const char *spname, const char *proto, const char *ep)
{
    static char buf[8][PK_CHAIN_MAX];
    static int k;
    char h[14];
    pk_chain_hash(spname, proto, ep, h);
    char *b = buf[k++ % 8];
    snprintf(b, PK_CHAIN_MAX, "PICOKUBE-%s-%s", prefix, h);
    return b;
}

static void has(const char *text, const char *line)
{
    if (!strstr(text, line)) fail_msg("missing line:\n  %s\nin:\n%s", line, text);
}

static void hasnt(const char *text, const char *s)
{
    if (strstr(text, s)) fail_msg("unexpected:\n  %s\nin:\n%s", s, text);
}

/* The rules of one chain ("-A NAME " lines), in order, malloc'd. */
static char *rules_of(const char *text, const char *table, const char *name)
{
    char hdr[32], pre[64];
    snprintf(hdr, sizeof(hdr), "*%s\n", table);
    snprintf(pre, sizeof(pre), "-A %s ", name);
    const char *t = strstr(text, hdr);
    assert_non_null(t);
    const char *end = strstr(t, "COMMIT\n");
    char *out = calloc(1, strlen(text) + 1);
    for (const char *l = t; l < end;) {
        const char *nl = strchr(l, '\n');
        if (!strncmp(l, pre, strlen(pre))) strncat(out, l, (size_t)(nl - l + 1));
        l = nl + 1;
    }
    return out;
}

static size_t count(const char *text, const char *s)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, s)); p++)
        n++;
    return n;
}

#define WEB_SVC                                                                                    \
    "[{'metadata':{'name':'web','namespace':'default'},'spec':{'clusterIP':'10.43.0.10',"          \
    "'ports':[{'name':'http','port':80,'targetPort':8080,'protocol':'TCP'}]}}]"
#define WEB_EPS                                                                                    \
    "[{'metadata':{'name':'web','namespace':'default'},'subsets':[{'addresses':["                  \
    "{'ip':'10.42.1.7','nodeName':'node-b'},{'ip':'10.42.0.5','nodeName':'node-a'}],"              \
    "'notReadyAddresses':[{'ip':'10.42.0.99'}],'ports':[{'name':'http','port':8080}]}]}]"

static void test_clusterip(void **state)
{
    (void)state;
    char *t = render(WEB_SVC, WEB_EPS);
    const char *svc = chain("SVC", "default/web:http", "tcp", NULL);
    const char *sep1 = chain("SEP", "default/web:http", "tcp", "10.42.0.5:8080");
    const char *sep2 = chain("SEP", "default/web:http", "tcp", "10.42.1.7:8080");
    char line[512];
    snprintf(line, sizeof(line),
             "-A PICOKUBE-SERVICES -m comment --comment \"default/web:http cluster IP\" -m tcp "
             "-p tcp -d 10.43.0.10 --dport 80 -j %s\n",
             svc);
    has(t, line);
    /* The SVC chain: masquerade off-cluster clients, then balance. */
    char *r = rules_of(t, "nat", svc);
    char want[2048];
    snprintf(want, sizeof(want),
             "-A %s -m comment --comment \"default/web:http cluster IP\" -m tcp -p tcp -d "
             "10.43.0.10 --dport 80 ! -s 10.42.0.0/16 -j PICOKUBE-MARK-MASQ\n"
             "-A %s -m comment --comment \"default/web:http -> 10.42.0.5:8080\" -m statistic "
             "--mode random --probability 0.5000000000 -j %s\n"
             "-A %s -m comment --comment \"default/web:http -> 10.42.1.7:8080\" -j %s\n",
             svc, svc, sep1, svc, sep2);
    assert_string_equal(r, want);
    free(r);
    r = rules_of(t, "nat", sep1);
    snprintf(want, sizeof(want),
             "-A %s -m comment --comment \"default/web:http\" -s 10.42.0.5 -j "
             "PICOKUBE-MARK-MASQ\n"
             "-A %s -m comment --comment \"default/web:http\" -m tcp -p tcp -j DNAT "
             "--to-destination 10.42.0.5:8080\n",
             sep1, sep1);
    assert_string_equal(r, want);
    free(r);
    /* Not-ready addresses get no traffic; nothing is rejected. */
    hasnt(t, "10.42.0.99");
    hasnt(t, "REJECT");
    /* Every chain is declared in its table, which commits as a whole. */
    snprintf(line, sizeof(line), ":%s - [0:0]\n", svc);
    has(t, line);
    assert_int_equal(count(t, "COMMIT\n"), 2);
    assert_true(strstr(t, "*nat\n") < strstr(t, "*filter\n"));
    free(t);
}

static void test_probabilities(void **state)
{
    (void)state;
    char *t = render(
        "[{'metadata':{'name':'s','namespace':'ns'},'spec':{'clusterIP':'10.43.1.1',"
        "'ports':[{'port':80}]}}]",
        "[{'metadata':{'name':'s','namespace':'ns'},'subsets':[{'addresses':[{'ip':'10.42.0.4'},"
        "{'ip':'10.42.0.1'},{'ip':'10.42.0.3'},{'ip':'10.42.0.2'}],'ports':[{'port':80}]}]}]");
    char *r = rules_of(t, "nat", chain("SVC", "ns/s", "tcp", NULL));
    /* 1/4, then 1/3 of the rest, then 1/2, then the last always: 1/4 each. */
    const char *p[] = {"--probability 0.2500000000 ", "--probability 0.3333333333 ",
                       "--probability 0.5000000000 "};
    const char *at = r;
    for (int i = 0; i < 3; i++) {
        const char *q = strstr(at, p[i]);
        if (!q) fail_msg("no %s after the earlier ones in\n%s", p[i], r);
        at = q;
    }
    assert_int_equal(count(r, "--probability"), 3);
    assert_int_equal(count(r, "\n"), 5); /* masquerade rule + 4 endpoints */
    /* Endpoints in address order, the last one without a probability. */
    has(r, "ns/s -> 10.42.0.4:80\" -j PICOKUBE-SEP-");
    assert_true(strstr(r, "10.42.0.1:80") < strstr(r, "10.42.0.2:80"));
    free(r);
    free(t);
}

static void test_no_endpoints_reject(void **state)
{
    (void)state;
    /* No Endpoints object at all, and one with not-ready addresses only. */
    char *t =
        render("[{'metadata':{'name':'a','namespace':'default'},'spec':{'clusterIP':'10.43.0.20',"
               "'ports':[{'port':80,'protocol':'TCP'}]}},"
               "{'metadata':{'name':'b','namespace':'default'},'spec':{'clusterIP':'10.43.0.21',"
               "'ports':[{'port':53,'protocol':'UDP'}]}}]",
               "[{'metadata':{'name':'b','namespace':'default'},'subsets':[{'notReadyAddresses':"
               "[{'ip':'10.42.0.9'}],'ports':[{'port':53,'protocol':'UDP'}]}]}]");
    char *f = rules_of(t, "filter", "PICOKUBE-SERVICES");
    assert_string_equal(f, "-A PICOKUBE-SERVICES -m comment --comment \"default/a has no "
                           "endpoints\" -m tcp -p tcp -d 10.43.0.20 --dport 80 -j REJECT\n"
                           "-A PICOKUBE-SERVICES -m comment --comment \"default/b has no "
                           "endpoints\" -m udp -p udp -d 10.43.0.21 --dport 53 -j REJECT\n");
    free(f);
    hasnt(t, "PICOKUBE-SVC-");
    hasnt(t, "PICOKUBE-SEP-");
    hasnt(t, "cluster IP");
    free(t);
}

#define NP_SVC(extra)                                                                              \
    "[{'metadata':{'name':'np','namespace':'default'},'spec':{'type':'NodePort',"                  \
    "'clusterIP':'10.43.0.30','ports':[{'port':80,'nodePort':30080}]" extra "}}]"
#define NP_EPS                                                                                     \
    "[{'metadata':{'name':'np','namespace':'default'},'subsets':[{'addresses':"                    \
    "[{'ip':'10.42.0.5','nodeName':'node-a'},{'ip':'10.42.1.5','nodeName':'node-b'}],"             \
    "'ports':[{'port':8080}]}]}]"

static void test_nodeport(void **state)
{
    (void)state;
    char *t = render(NP_SVC(""), NP_EPS);
    const char *svc = chain("SVC", "default/np", "tcp", NULL);
    const char *ext = chain("EXT", "default/np", "tcp", NULL);
    char want[1024];
    char *r = rules_of(t, "nat", "PICOKUBE-NODEPORTS");
    snprintf(want, sizeof(want),
             "-A PICOKUBE-NODEPORTS -m comment --comment \"default/np\" -m tcp -p tcp --dport "
             "30080 -j %s\n",
             ext);
    assert_string_equal(r, want);
    free(r);
    /* External traffic may go to another node: masquerade it all. */
    r = rules_of(t, "nat", ext);
    snprintf(want, sizeof(want),
             "-A %s -m comment --comment \"masquerade traffic for default/np external "
             "destinations\" -j PICOKUBE-MARK-MASQ\n-A %s -j %s\n",
             ext, ext, svc);
    assert_string_equal(r, want);
    free(r);
    /* NodePorts are reached on any local address, from the last rule. */
    r = rules_of(t, "nat", "PICOKUBE-SERVICES");
    const char *last = strrchr(r, '\n');
    while (last > r && last[-1] != '\n')
        last--;
    assert_string_equal(last, "-A PICOKUBE-SERVICES -m comment --comment \"picokube service "
                              "nodeports; NOTE: this must be the last rule in this chain\" -m "
                              "addrtype --dst-type LOCAL -j PICOKUBE-NODEPORTS\n");
    free(r);
    free(t);

    /* Without endpoints the NodePort is refused on every local address. */
    t = render(NP_SVC(""), "[]");
    has(t, "-A PICOKUBE-EXTERNAL-SERVICES -m comment --comment \"default/np has no endpoints\" "
           "-m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j REJECT\n");
    hasnt(t, "PICOKUBE-EXT-");
    hasnt(t, "-A PICOKUBE-NODEPORTS ");
    free(t);

    /* A ClusterIP service's nodePort field (left by a type change) is no NodePort. */
    t = render("[{'metadata':{'name':'c','namespace':'default'},'spec':{'clusterIP':'10.43.0.31',"
               "'ports':[{'port':80,'nodePort':30081}]}}]",
               "[]");
    hasnt(t, "30081");
    free(t);

    /* localhost NodePorts can be turned off. */
    struct proxy_config cfg = {.no_localhost_nodeports = true};
    t = render_cfg(&cfg, NP_SVC(""), NP_EPS);
    has(t, "-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j PICOKUBE-NODEPORTS\n");
    free(t);
}

static void test_external_ips(void **state)
{
    (void)state;
    /* kubectl expose deployment mijn-httpd --port=90 --target-port=80
     * --external-ip=192.0.2.10 (plus junk that must be ignored). */
    char *t = render("[{'metadata':{'name':'mijn-httpd','namespace':'default'},'spec':{"
                     "'clusterIP':'10.43.0.40','externalIPs':['192.0.2.10','not-an-ip',"
                     "'2001:db8::1','192.0.2.10'],'ports':[{'port':90,'targetPort':80}]}}]",
                     "[{'metadata':{'name':'mijn-httpd','namespace':'default'},'subsets':[{"
                     "'addresses':[{'ip':'10.42.0.5'}],'ports':[{'port':80}]}]}]");
    const char *ext = chain("EXT", "default/mijn-httpd", "tcp", NULL);
    char line[512];
    snprintf(line, sizeof(line),
             "-A PICOKUBE-SERVICES -m comment --comment \"default/mijn-httpd external IP\" -m "
             "tcp -p tcp -d 192.0.2.10 --dport 90 -j %s\n",
             ext);
    has(t, line);
    assert_int_equal(count(t, "external IP\""), 1);
    hasnt(t, "not-an-ip");
    hasnt(t, "2001:db8");
    has(t, "--to-destination 10.42.0.5:80\n");
    free(t);

    t = render("[{'metadata':{'name':'x','namespace':'default'},'spec':{'clusterIP':'10.43.0.41',"
               "'externalIPs':['192.0.2.11'],'ports':[{'port':90}]}}]",
               "[]");
    has(t, "-A PICOKUBE-EXTERNAL-SERVICES -m comment --comment \"default/x has no endpoints\" "
           "-m tcp -p tcp -d 192.0.2.11 --dport 90 -j REJECT\n");
    has(t, "-A PICOKUBE-SERVICES -m comment --comment \"default/x has no endpoints\" -m tcp -p "
           "tcp -d 10.43.0.41 --dport 90 -j REJECT\n");
    free(t);
}

static void test_loadbalancer(void **state)
{
    (void)state;
    char *t = render("[{'metadata':{'name':'lb','namespace':'default'},'spec':{'type':"
                     "'LoadBalancer','clusterIP':'10.43.0.50','ports':[{'port':443,'nodePort':"
                     "31443}]},'status':{'loadBalancer':{'ingress':[{'ip':'192.0.2.50'},"
                     "{'hostname':'lb.example'}]}}}]",
                     "[{'metadata':{'name':'lb','namespace':'default'},'subsets':[{'addresses':"
                     "[{'ip':'10.42.0.5'}],'ports':[{'port':8443}]}]}]");
    has(t, "-d 192.0.2.50 --dport 443 -j PICOKUBE-EXT-");
    has(t, "--dport 31443 -j PICOKUBE-EXT-");
    free(t);
}

static void test_multiport(void **state)
{
    (void)state;
    char *t =
        render("[{'metadata':{'name':'m','namespace':'default'},'spec':{'clusterIP':'10.43.0.60',"
               "'ports':[{'name':'https','port':443,'targetPort':'tls'},{'name':'http','port':80},"
               "{'name':'dns','port':53,'protocol':'UDP'}]}}]",
               "[{'metadata':{'name':'m','namespace':'default'},'subsets':[{'addresses':[{'ip':"
               "'10.42.0.5'}],'ports':[{'name':'http','port':8080},{'name':'https','port':8443},"
               "{'name':'dns','port':5353,'protocol':'UDP'}]}]}]");
    char line[512];
    snprintf(line, sizeof(line), "-d 10.43.0.60 --dport 80 -j %s\n",
             chain("SVC", "default/m:http", "tcp", NULL));
    has(t, line);
    snprintf(line, sizeof(line), "-d 10.43.0.60 --dport 443 -j %s\n",
             chain("SVC", "default/m:https", "tcp", NULL));
    has(t, line);
    snprintf(line, sizeof(line), "-m udp -p udp -d 10.43.0.60 --dport 53 -j %s\n",
             chain("SVC", "default/m:dns", "udp", NULL));
    has(t, line);
    has(t, "-m tcp -p tcp -j DNAT --to-destination 10.42.0.5:8080\n");
    has(t, "-m tcp -p tcp -j DNAT --to-destination 10.42.0.5:8443\n");
    has(t, "-m udp -p udp -j DNAT --to-destination 10.42.0.5:5353\n");
    /* Rules come in service port name order (dns, http, https). */
    char *r = rules_of(t, "nat", "PICOKUBE-SERVICES");
    assert_true(strstr(r, "default/m:dns") < strstr(r, "default/m:http "));
    assert_true(strstr(r, "default/m:http ") < strstr(r, "default/m:https"));
    free(r);
    free(t);
}

static void test_affinity(void **state)
{
    (void)state;
    char *t = render("[{'metadata':{'name':'web','namespace':'default'},'spec':{'clusterIP':"
                     "'10.43.0.10','sessionAffinity':'ClientIP','sessionAffinityConfig':{"
                     "'clientIP':{'timeoutSeconds':600}},'ports':[{'name':'http','port':80}]}}]",
                     WEB_EPS);
    const char *svc = chain("SVC", "default/web:http", "tcp", NULL);
    const char *sep1 = chain("SEP", "default/web:http", "tcp", "10.42.0.5:8080");
    const char *sep2 = chain("SEP", "default/web:http", "tcp", "10.42.1.7:8080");
    char *r = rules_of(t, "nat", svc);
    char want[512];
    /* The recent checks come first, one per endpoint, then the balancing. */
    snprintf(want, sizeof(want),
             "-A %s -m comment --comment \"default/web:http -> 10.42.0.5:8080\" -m recent "
             "--name %s --rcheck --seconds 600 --reap -j %s\n"
             "-A %s -m comment --comment \"default/web:http -> 10.42.1.7:8080\" -m recent "
             "--name %s --rcheck --seconds 600 --reap -j %s\n",
             svc, sep1, sep1, svc, sep2, sep2);
    has(r, want);
    assert_true(strstr(r, "--rcheck") < strstr(r, "--probability"));
    free(r);
    char line[512];
    snprintf(line, sizeof(line),
             "-A %s -m comment --comment \"default/web:http\" -m recent --name %s --set -m tcp "
             "-p tcp -j DNAT --to-destination 10.42.0.5:8080\n",
             sep1, sep1);
    has(t, line);
    free(t);
    /* Without a timeout, Kubernetes' default of 10800 s. */
    t = render("[{'metadata':{'name':'web','namespace':'default'},'spec':{'clusterIP':"
               "'10.43.0.10','sessionAffinity':'ClientIP','ports':[{'name':'http','port':80}]}}]",
               WEB_EPS);
    has(t, "--rcheck --seconds 10800 --reap");
    free(t);
}

static void test_masquerade(void **state)
{
    (void)state;
    struct proxy_config cfg = {.cluster_cidr = "10.100.7.0/16"};
    char *t = render_cfg(&cfg, WEB_SVC, WEB_EPS);
    /* The cluster CIDR is normalised; clients outside it are masqueraded. */
    has(t, "--dport 80 ! -s 10.100.0.0/16 -j PICOKUBE-MARK-MASQ\n");
    assert_int_equal(count(t, "-j PICOKUBE-MARK-MASQ\n"), 3); /* off-cluster + 2 hairpins */
    char *r = rules_of(t, "nat", "PICOKUBE-MARK-MASQ");
    assert_string_equal(r, "-A PICOKUBE-MARK-MASQ -j MARK --or-mark 0x4000\n");
    free(r);
    r = rules_of(t, "nat", "PICOKUBE-POSTROUTING");
    assert_string_equal(r, "-A PICOKUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n"
                           "-A PICOKUBE-POSTROUTING -j MARK --xor-mark 0x4000\n"
                           "-A PICOKUBE-POSTROUTING -m comment --comment \"picokube service "
                           "traffic requiring SNAT\" -j MASQUERADE --random-fully\n");
    free(r);
    r = rules_of(t, "filter", "PICOKUBE-FORWARD");
    has(r, "-m mark --mark 0x4000/0x4000 -j ACCEPT\n");
    has(r, "--ctstate RELATED,ESTABLISHED -j ACCEPT\n");
    free(r);
    free(t);
    /* A bad CIDR is an error naming it. */
    cfg.cluster_cidr = "10.42.0.0/33";
    char err[256] = "";
    cJSON *s = J(WEB_SVC), *e = J(WEB_EPS);
    assert_null(proxy_render(&cfg, s, e, err, sizeof(err)));
    assert_non_null(strstr(err, "cluster CIDR \"10.42.0.0/33\""));
    cJSON_Delete(s);
    cJSON_Delete(e);
}

static void test_local_policy(void **state)
{
    (void)state;
    /* externalTrafficPolicy Local on node-a: only node-a's endpoint for
     * external traffic, and the client address is kept. */
    char *t = render(NP_SVC(",'externalTrafficPolicy':'Local'"), NP_EPS);
    const char *svc = chain("SVC", "default/np", "tcp", NULL);
    const char *svl = chain("SVL", "default/np", "tcp", NULL);
    const char *ext = chain("EXT", "default/np", "tcp", NULL);
    char *r = rules_of(t, "nat", ext);
    char want[1024];
    snprintf(want, sizeof(want),
             "-A %s -m comment --comment \"pod traffic for default/np external destinations\" "
             "-s 10.42.0.0/16 -j %s\n"
             "-A %s -m comment --comment \"masquerade LOCAL traffic for default/np external "
             "destinations\" -m addrtype --src-type LOCAL -j PICOKUBE-MARK-MASQ\n"
             "-A %s -m comment --comment \"route LOCAL traffic for default/np external "
             "destinations\" -m addrtype --src-type LOCAL -j %s\n"
             "-A %s -j %s\n",
             ext, svc, ext, ext, svc, ext, svl);
    assert_string_equal(r, want);
    free(r);
    r = rules_of(t, "nat", svl);
    snprintf(want, sizeof(want),
             "-A %s -m comment --comment \"default/np -> 10.42.0.5:8080\" -j %s\n", svl,
             chain("SEP", "default/np", "tcp", "10.42.0.5:8080"));
    assert_string_equal(r, want);
    free(r);
    /* The cluster IP still balances over both. */
    r = rules_of(t, "nat", svc);
    assert_int_equal(count(r, "\n"), 3);
    free(r);
    free(t);

    /* No local endpoint: external traffic is dropped, not rejected. */
    struct proxy_config cfg = {.node_name = "node-c"};
    t = render_cfg(&cfg, NP_SVC(",'externalTrafficPolicy':'Local'"), NP_EPS);
    has(t, "-A PICOKUBE-EXTERNAL-SERVICES -m comment --comment \"default/np has no local "
           "endpoints\" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j DROP\n");
    hasnt(t, "PICOKUBE-SVL-");
    free(t);

    /* internalTrafficPolicy Local: the cluster IP uses this node's endpoints. */
    t = render("[{'metadata':{'name':'web','namespace':'default'},'spec':{'clusterIP':"
               "'10.43.0.10','internalTrafficPolicy':'Local','ports':[{'name':'http','port':"
               "80}]}}]",
               WEB_EPS);
    char line[256];
    snprintf(line, sizeof(line), "--dport 80 -j %s\n",
             chain("SVL", "default/web:http", "tcp", NULL));
    has(t, line);
    hasnt(t, "PICOKUBE-SVC-");
    hasnt(t, "10.42.1.7");
    free(t);
}

static void test_deterministic(void **state)
{
    (void)state;
    const char *s1 = "[{'metadata':{'name':'b','namespace':'x'},'spec':{'clusterIP':'10.43.0.2',"
                     "'ports':[{'port':80}]}},{'metadata':{'name':'a','namespace':'x'},'spec':{"
                     "'clusterIP':'10.43.0.1','ports':[{'name':'q','port':81},{'name':'p',"
                     "'port':80}]}}]";
    const char *s2 = "[{'metadata':{'name':'a','namespace':'x'},'spec':{'clusterIP':'10.43.0.1',"
                     "'ports':[{'name':'p','port':80},{'name':'q','port':81}]}},{'metadata':{"
                     "'name':'b','namespace':'x'},'spec':{'clusterIP':'10.43.0.2','ports':[{"
                     "'port':80}]}}]";
    const char *e1 = "[{'metadata':{'name':'a','namespace':'x'},'subsets':[{'addresses':[{'ip':"
                     "'10.42.0.9'},{'ip':'10.42.0.10'}],'ports':[{'name':'p','port':80},{'name':"
                     "'q','port':81}]}]},{'metadata':{'name':'b','namespace':'x'},'subsets':[{"
                     "'addresses':[{'ip':'10.42.0.3'}],'ports':[{'port':80}]}]}]";
    const char *e2 = "[{'metadata':{'name':'b','namespace':'x'},'subsets':[{'addresses':[{'ip':"
                     "'10.42.0.3'}],'ports':[{'port':80}]}]},{'metadata':{'name':'a','namespace':"
                     "'x'},'subsets':[{'addresses':[{'ip':'10.42.0.10'}],'ports':[{'name':'q',"
                     "'port':81},{'name':'p','port':80}]},{'addresses':[{'ip':'10.42.0.9'}],"
                     "'ports':[{'name':'p','port':80},{'name':'q','port':81}]}]}]";
    char *t1 = render(s1, e1), *t2 = render(s2, e2), *t3 = render(s1, e1);
    assert_string_equal(t1, t2);
    assert_string_equal(t1, t3);
    /* Numeric address order: .9 before .10. */
    assert_true(strstr(t1, "10.42.0.9:80\"") < strstr(t1, "10.42.0.10:80\""));
    free(t1);
    free(t2);
    free(t3);
}

static void test_skipped_and_hostile(void **state)
{
    (void)state;
    char *t = render(
        "[{'metadata':{'name':'headless','namespace':'default'},'spec':{'clusterIP':'None',"
        "'ports':[{'port':80}]}},"
        "{'metadata':{'name':'extname','namespace':'default'},'spec':{'type':'ExternalName',"
        "'externalName':'example.com','ports':[{'port':80}]}},"
        "{'metadata':{'name':'v6','namespace':'default'},'spec':{'clusterIP':'fd00::1',"
        "'ports':[{'port':80}]}},"
        "{'metadata':{'name':'evil\\n-A INPUT -j ACCEPT','namespace':'default'},'spec':{"
        "'clusterIP':'10.43.0.70','ports':[{'port':80}]}},"
        "{'metadata':{'name':'evil2','namespace':'default'},'spec':{'clusterIP':'10.43.0.71',"
        "'ports':[{'name':'a\\\" -j ACCEPT','port':80}]}},"
        "{'metadata':{'name':'ok','namespace':'default'},'spec':{'clusterIP':'10.43.0.72',"
        "'ports':[{'port':80}]}}]",
        "[{'metadata':{'name':'ok','namespace':'default'},'subsets':[{'addresses':[{'ip':"
        "'10.42.0.5\\n-A INPUT -j ACCEPT'},{'ip':'10.42.0.6'}],'ports':[{'port':80}]}]}]");
    hasnt(t, "headless");
    hasnt(t, "extname");
    hasnt(t, "fd00");
    hasnt(t, "INPUT");
    hasnt(t, "evil");
    hasnt(t, "10.42.0.5");
    has(t, "--to-destination 10.42.0.6:80\n");
    free(t);

    /* The same port name twice (invalid) would share chains: one is dropped. */
    cJSON *s = J("[{'metadata':{'name':'d','namespace':'default'},'spec':{'clusterIP':"
                 "'10.43.0.80','ports':[{'name':'p','port':80},{'name':'p','port':81}]}}]");
    const cJSON *sv[] = {s->child};
    struct pk_opts o = {.localhost_nodeports = true};
    char err[128];
    assert_int_equal(pk_opts_cidr(&o, "10.42.0.0/16", "cluster CIDR", err, sizeof(err)), 0);
    struct pk_model m;
    assert_int_equal(pk_model_build(sv, 1, NULL, 0, &o, &m), 0);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.skipped, 1);
    pk_model_free(&m);
    cJSON_Delete(s);
}

static void test_chain_names(void **state)
{
    (void)state;
    char h[14];
    pk_chain_hash("default/web:http", "tcp", NULL, h);
    /* Pinned: a restart (or an upgrade) must find its own chains again. */
    assert_string_equal(h, "TTJQWQFRWAU5S");
    pk_chain_hash("default/web:http", "tcp", "10.42.0.5:8080", h);
    assert_int_equal(strlen(h), 13);
    char a[14], b[14];
    pk_chain_hash("ab", "c", NULL, a);
    pk_chain_hash("a", "bc", NULL, b);
    assert_string_not_equal(a, b);
    /* Longest names still fit iptables' 28 characters. */
    assert_true(strlen("PICOKUBE-SVC-") + 13 <= 28);
    assert_true(strlen("PICOKUBE-EXTERNAL-SERVICES") <= 28);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clusterip),           cmocka_unit_test(test_probabilities),
        cmocka_unit_test(test_no_endpoints_reject), cmocka_unit_test(test_nodeport),
        cmocka_unit_test(test_external_ips),        cmocka_unit_test(test_loadbalancer),
        cmocka_unit_test(test_multiport),           cmocka_unit_test(test_affinity),
        cmocka_unit_test(test_masquerade),          cmocka_unit_test(test_local_policy),
        cmocka_unit_test(test_deterministic),       cmocka_unit_test(test_skipped_and_hostile),
        cmocka_unit_test(test_chain_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
