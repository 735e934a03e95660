/*
 * test_ipam.c - pod IPs from the node's pod CIDR, kept in the data dir:
 * never the gateway or broadcast, never the same address twice, the same
 * address again for the same pod (an agent restart), freed on removal and
 * not reused at once, and a clear error when the CIDR is full.
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

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/pk-ipam-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return fs_rm_rf(dir);
}

static void alloc(const char *cidr, const char *uid, char *ip)
{
    char err[256];
    if (ipam_allocate(dir, cidr, uid, ip, 64, err, sizeof err)) fail_msg("%s: %s", uid, err);
}

static void test_parse(void **state)
{
    (void)state;
    uint32_t net;
    int prefix;
    assert_int_equal(ipam_parse_cidr("10.42.1.0/24", &net, &prefix), 0);
    assert_int_equal(prefix, 24);
    assert_int_equal(net, 0x0a2a0100);
    /* A host address is masked to its network. */
    assert_int_equal(ipam_parse_cidr("10.42.1.77/24", &net, &prefix), 0);
    assert_int_equal(net, 0x0a2a0100);
    assert_int_equal(ipam_parse_cidr("10.42.1.0", &net, &prefix), -1);
    assert_int_equal(ipam_parse_cidr("10.42.1.0/33", &net, &prefix), -1);
    assert_int_equal(ipam_parse_cidr("nope/24", &net, &prefix), -1);
    char gw[32];
    ipam_gateway("10.42.1.0/24", gw, sizeof gw, true);
    assert_string_equal(gw, "10.42.1.1/24");
}

static void test_allocate_persist_release(void **state)
{
    (void)state;
    char a[64], b[64], again[64], c[64];
    alloc("10.42.1.0/24", "pod-a", a);
    alloc("10.42.1.0/24", "pod-b", b);
    assert_string_equal(a, "10.42.1.2"); /* .1 is the gateway */
    assert_string_equal(b, "10.42.1.3");
    /* The same pod gets its address back (after an agent restart too:
     * nothing is kept in memory). */
    alloc("10.42.1.0/24", "pod-a", again);
    assert_string_equal(again, a);
    char p[256];
    snprintf(p, sizeof p, "%s/10.42.1.0_24/10.42.1.2", dir);
    char *owner = file_read_all(p, NULL);
    assert_string_equal(owner, "pod-a");
    free(owner);
    /* Released: the file goes, and the address is not handed out at once. */
    assert_int_equal(ipam_release(dir, "pod-a"), 0);
    struct stat st;
    assert_int_not_equal(stat(p, &st), 0);
    alloc("10.42.1.0/24", "pod-c", c);
    assert_string_equal(c, "10.42.1.4");
    ipam_release(dir, "pod-b");
    ipam_release(dir, "pod-c");
}

static void test_full_and_wrap(void **state)
{
    (void)state;
    /* A /29: .0 network, .1 gateway, .7 broadcast: .2 to .6 for pods. */
    char ip[64], err[256];
    char uid[16];
    for (int i = 0; i < 5; i++) {
        snprintf(uid, sizeof uid, "p%d", i);
        alloc("10.9.0.0/29", uid, ip);
        char want[32];
        snprintf(want, sizeof want, "10.9.0.%d", i + 2);
        assert_string_equal(ip, want);
    }
    assert_int_equal(ipam_allocate(dir, "10.9.0.0/29", "p5", ip, sizeof ip, err, sizeof err), -1);
    assert_string_equal(err, "no free address left in the pod CIDR 10.9.0.0/29");
    /* Freeing one makes room; the search wraps around to it. */
    ipam_release(dir, "p1");
    alloc("10.9.0.0/29", "p5", ip);
    assert_string_equal(ip, "10.9.0.3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test_setup_teardown(test_allocate_persist_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_and_wrap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
