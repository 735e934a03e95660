/*
 * test_util.c - the small parsers and formats of the agent: Docker's image
 * reference normalization, CRI log lines (writing, rotation, parsing),
 * archive path cleaning, the default route's interface from
 * /proc/net/route, the memory controller from /proc/cgroups, GOARCH names
 * and the pod's resolv.conf per dnsPolicy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nodeagent/agent_int.h"

static void test_normalize(void **state)
{
    (void)state;
    struct {
        const char *in, *out;
    } ok[] = {
        {"busybox", "docker.io/library/busybox:latest"},
        {"busybox:1.36", "docker.io/library/busybox:1.36"},
        {"user/app", "docker.io/user/app:latest"},
        {"docker.io/library/busybox:latest", "docker.io/library/busybox:latest"},
        {"index.docker.io/library/nginx", "docker.io/library/nginx:latest"},
        {"registry.local:5000/web:1.2", "registry.local:5000/web:1.2"},
        {"localhost/app", "localhost/app:latest"},
        {"ghcr.io/org/sub/img:v1", "ghcr.io/org/sub/img:v1"},
        {"busybox@sha256:abcd", "docker.io/library/busybox@sha256:abcd"},
        {"busybox:1@sha256:abcd", "docker.io/library/busybox:1@sha256:abcd"},
    };
    char buf[600];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(img_normalize(ok[i].in, buf, sizeof buf), 0);
        if (strcmp(buf, ok[i].out)) fail_msg("%s: got %s, want %s", ok[i].in, buf, ok[i].out);
    }
    const char *bad[] = {"", "Busybox", "busybox:", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(img_normalize(bad[i], buf, sizeof buf), -1);
}

static void test_clean_path(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(layer_clean_path("./a//b/", out, sizeof out), 0);
    assert_string_equal(out, "a/b");
    assert_int_equal(layer_clean_path("/etc/passwd", out, sizeof out), 0);
    assert_string_equal(out, "etc/passwd");
    assert_int_equal(layer_clean_path("./", out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(layer_clean_path("a/../../etc", out, sizeof out), -1);
    assert_int_equal(layer_clean_path("..", out, sizeof out), -1);
    assert_int_equal(layer_clean_path("a/..b", out, sizeof out), 0); /* a name, not a climb */
}

static void test_crilog(void **state)
{
    (void)state;
    char dir[] = "/tmp/pk-crilog-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], rot[300];
    snprintf(path, sizeof path, "%s/0.log", dir);
    snprintf(rot, sizeof rot, "%s.1", path);
    struct crilog_w w;
    assert_int_equal(crilog_open(&w, path, 200, 2), 0);
    /* Lines arrive in pieces; each stream keeps its own partial line. */
    crilog_write(&w, 0, "hel", 3);
    crilog_write(&w, 1, "err line\n", 9);
    crilog_write(&w, 0, "lo\nworld\nend", 12);
    crilog_close(&w); /* "end" has no newline: written whole at the end */
    char *t = file_read_all(path, NULL);
    assert_non_null(t);
    const char *want[][3] = {{"stderr", "err line", "F"},
                             {"stdout", "hello", "F"},
                             {"stdout", "world", "F"},
                             {"stdout", "end", "F"}};
    int n = 0;
    for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n"), n++) {
        struct crilog_line l;
        assert_int_equal(crilog_parse(line, strlen(line), &l), 0);
        assert_int_equal(l.stream, !strcmp(want[n][0], "stderr"));
        assert_int_equal((int)l.msg_len, (int)strlen(want[n][1]));
        assert_memory_equal(l.msg, want[n][1], l.msg_len);
        assert_false(l.partial);
        assert_true(l.ts_ns > 1700000000ull * 1000000000ull);
        assert_int_equal((int)l.ts_len, 30); /* RFC 3339 with nanoseconds */
    }
    assert_int_equal(n, 4);
    free(t);
    /* Past 200 bytes the file is rotated to .1. */
    assert_int_equal(crilog_open(&w, path, 200, 2), 0);
    for (int i = 0; i < 6; i++)
        crilog_write(&w, 0, "0123456789012345678901234567890123456789\n", 41);
    crilog_close(&w);
    struct stat st;
    assert_int_equal(stat(rot, &st), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size < 200);
    /* A partial record, and lines that are not CRI. */
    struct crilog_line l;
    const char *p = "2026-11-24T08:00:00.5Z stdout P abc";
    assert_int_equal(crilog_parse(p, strlen(p), &l), 0);
    assert_true(l.partial);
    assert_true(l.ts_ns == 1795507200ull * 1000000000ull + 500000000ull);
    assert_int_equal(crilog_parse("garbage", 7, &l), -1);
    assert_int_equal(crilog_parse("ts stdin F x", 12, &l), -1);
    fs_rm_rf(dir);
}

static void test_node_parsers(void **state)
{
    (void)state;
    const char *routes =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "pk0\t00002A0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
        "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
        "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
        "eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n";
    char ifn[32];
    assert_int_equal(node_default_iface(routes, ifn, sizeof ifn), 0);
    assert_string_equal(ifn, "eth0"); /* the lowest metric wins */
    assert_int_equal(node_default_iface("Iface\tDestination\n", ifn, sizeof ifn), -1);
    const char *v1 = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
                     "cpu\t2\t1\t1\nmemory\t4\t80\t1\npids\t8\t1\t1\n";
    /* Raspberry Pi OS before cgroup_enable=memory: */
    const char *pi = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
                     "cpu\t0\t80\t1\nmemory\t0\t80\t0\npids\t0\t80\t1\n";
    assert_true(node_cgroup_enabled(v1, "memory"));
    assert_false(node_cgroup_enabled(pi, "memory"));
    assert_true(node_cgroup_enabled(pi, "pids"));
    assert_false(node_cgroup_enabled(v1, "hugetlb"));
    assert_string_equal(node_goarch("x86_64"), "amd64");
    assert_string_equal(node_goarch("aarch64"), "arm64");
    assert_string_equal(node_goarch("armv7l"), "arm");
    assert_string_equal(node_goarch("armv6l"), "arm");
}

static void test_resolv_conf(void **state)
{
    (void)state;
    const char *host = "# generated\nnameserver 192.168.1.1\nsearch lan\noptions edns0\n";
    cJSON *pod = cJSON_Parse("{\"metadata\":{\"namespace\":\"shop\"},\"spec\":{}}");
    /* ClusterFirst with a cluster DNS. */
    char *r = podnet_resolv_conf(pod, "10.43.0.10", "cluster.local", host);
    assert_string_equal(r, "search shop.svc.cluster.local svc.cluster.local cluster.local\n"
                           "nameserver 10.43.0.10\noptions ndots:5\n");
    free(r);
    /* ClusterFirst without one behaves as Default: the host's. */
    r = podnet_resolv_conf(pod, NULL, "cluster.local", host);
    assert_string_equal(r, "search lan\nnameserver 192.168.1.1\noptions edns0\n");
    free(r);
    cJSON_Delete(pod);
    /* None with dnsConfig; an option of dnsConfig replaces the same one. */
    pod =
        cJSON_Parse("{\"metadata\":{},\"spec\":{\"dnsPolicy\":\"None\",\"dnsConfig\":"
                    "{\"nameservers\":[\"1.1.1.1\"],\"searches\":[\"a.b\"],"
                    "\"options\":[{\"name\":\"ndots\",\"value\":\"2\"},{\"name\":\"rotate\"}]}}}");
    r = podnet_resolv_conf(pod, "10.43.0.10", "cluster.local", host);
    assert_string_equal(r, "search a.b\nnameserver 1.1.1.1\noptions ndots:2 rotate\n");
    free(r);
    cJSON_Delete(pod);
    pod = cJSON_Parse("{\"metadata\":{\"namespace\":\"x\"},\"spec\":{\"dnsConfig\":"
                      "{\"options\":[{\"name\":\"ndots\",\"value\":\"1\"}]}}}");
    r = podnet_resolv_conf(pod, "10.43.0.10", "cluster.local", host);
    assert_non_null(strstr(r, "options ndots:1\n"));
    assert_null(strstr(r, "ndots:5"));
    free(r);
    cJSON_Delete(pod);
}

static void test_b64(void **state)
{
    (void)state;
    size_t n;
    char *s = b64_decode("aGVsbG8gd29ybGQ=", &n);
    assert_string_equal(s, "hello world");
    assert_int_equal(n, 11);
    free(s);
    assert_null(b64_decode("not*base64", &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),   cmocka_unit_test(test_clean_path),
        cmocka_unit_test(test_crilog),      cmocka_unit_test(test_node_parsers),
        cmocka_unit_test(test_resolv_conf), cmocka_unit_test(test_b64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
