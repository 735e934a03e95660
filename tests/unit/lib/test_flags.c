/*
 * test_flags.c - flags_parse: the forms kubectl/k3s users type (--x v,
 * --x=v, -x v, bare booleans, repeated and comma-separated lists, "--"),
 * positional arguments moved to the front, and the exact error messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/lib.h"

struct opts {
    const char *server, *token, *data_dir;
    bool disable_agent, cluster_init;
    long port;
    struct flag_list tls_san;
};

static void specs_for(struct opts *o, struct flag_spec *specs)
{
    struct flag_spec s[] = {
        {"server", FLAG_STRING, &o->server, "URL of a server to join"},
        {"token", FLAG_STRING, &o->token, "join token"},
        {"data-dir", FLAG_STRING, &o->data_dir, "state folder"},
        {"disable-agent", FLAG_BOOL, &o->disable_agent, "do not run pods"},
        {"cluster-init", FLAG_BOOL, &o->cluster_init, "start a cluster"},
        {"port", FLAG_INT, &o->port, "API port"},
        {"tls-san", FLAG_LIST, &o->tls_san, "extra names"},
        {NULL, 0, NULL, NULL},
    };
    memcpy(specs, s, sizeof(s));
}

#define PARSE(o, err, ...)                                                                         \
    ({                                                                                             \
        char *argv_[] = {__VA_ARGS__};                                                             \
        struct flag_spec specs_[8];                                                                \
        specs_for(&(o), specs_);                                                                   \
        int n_ =                                                                                   \
            flags_parse(specs_, (int)(sizeof(argv_) / sizeof(argv_[0])), argv_, err, sizeof(err)); \
        memcpy(last_argv, argv_, sizeof(argv_));                                                   \
        n_;                                                                                        \
    })

static char *last_argv[16];

static void test_forms(void **state)
{
    (void)state;
    struct opts o = {0};
    char err[128];
    int n = PARSE(o, err, "server", "--server", "http://a:6443", "--token=abc", "-port", "7443",
                  "--disable-agent", "extra", "--cluster-init=false");
    assert_int_equal(n, 2);
    assert_string_equal(last_argv[0], "server");
    assert_string_equal(last_argv[1], "extra");
    assert_string_equal(o.server, "http://a:6443");
    assert_string_equal(o.token, "abc");
    assert_int_equal(o.port, 7443);
    assert_true(o.disable_agent);
    assert_false(o.cluster_init);
    assert_string_equal(err, "");
}

static void test_lists(void **state)
{
    (void)state;
    struct opts o = {0};
    char err[128];
    int n = PARSE(o, err, "--tls-san", "a.example", "--tls-san=b,c", "--tls-san", "d,,e");
    assert_int_equal(n, 0);
    assert_int_equal(o.tls_san.n, 5);
    assert_string_equal(o.tls_san.items[0], "a.example");
    assert_string_equal(o.tls_san.items[1], "b");
    assert_string_equal(o.tls_san.items[2], "c");
    assert_string_equal(o.tls_san.items[3], "d");
    assert_string_equal(o.tls_san.items[4], "e");
}

static void test_double_dash(void **state)
{
    (void)state;
    struct opts o = {0};
    char err[128];
    int n = PARSE(o, err, "exec", "--port=1", "--", "--port", "-x", "-");
    assert_int_equal(n, 4);
    assert_string_equal(last_argv[0], "exec");
    assert_string_equal(last_argv[1], "--port");
    assert_string_equal(last_argv[2], "-x");
    assert_string_equal(last_argv[3], "-");
    assert_int_equal(o.port, 1);
}

static void test_negative_number_is_a_value(void **state)
{
    (void)state;
    struct opts o = {0};
    char err[128];
    assert_int_equal(PARSE(o, err, "--port", "-1"), 0);
    assert_int_equal(o.port, -1);
}

static void test_errors(void **state)
{
    (void)state;
    struct opts o = {0};
    char err[128];
    assert_int_equal(PARSE(o, err, "--foo"), -1);
    assert_string_equal(err, "unknown flag: --foo");
    assert_int_equal(PARSE(o, err, "--foo=1"), -1);
    assert_string_equal(err, "unknown flag: --foo");
    assert_int_equal(PARSE(o, err, "a", "--port"), -1);
    assert_string_equal(err, "flag --port needs a value");
    assert_int_equal(PARSE(o, err, "--server", "--token", "x"), -1);
    assert_string_equal(err, "flag --server needs a value");
    assert_int_equal(PARSE(o, err, "--port", "x"), -1);
    assert_string_equal(err, "flag --port: \"x\" is not a number");
    assert_int_equal(PARSE(o, err, "--port=12ab"), -1);
    assert_string_equal(err, "flag --port: \"12ab\" is not a number");
    assert_int_equal(PARSE(o, err, "--port="), -1);
    assert_string_equal(err, "flag --port: \"\" is not a number");
    assert_int_equal(PARSE(o, err, "--disable-agent=maybe"), -1);
    assert_non_null(strstr(err, "is not a boolean"));
}

static void test_list_overflow(void **state)
{
    (void)state;
    struct opts o = {0};
    char err[128];
    char many[200] = "";
    for (int i = 0; i < 33; i++)
        strcat(many, i ? ",x" : "x");
    assert_int_equal(PARSE(o, err, "--tls-san", many), -1);
    assert_non_null(strstr(err, "too many values"));
}

static void test_usage(void **state)
{
    (void)state;
    struct opts o = {0};
    struct flag_spec specs[8];
    specs_for(&o, specs);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    flags_usage(f, specs);
    fclose(f);
    assert_non_null(strstr(buf, "--server string"));
    assert_non_null(strstr(buf, "--port int"));
    assert_non_null(strstr(buf, "--tls-san strings"));
    assert_non_null(strstr(buf, "join token"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),       cmocka_unit_test(test_lists),
        cmocka_unit_test(test_double_dash), cmocka_unit_test(test_negative_number_is_a_value),
        cmocka_unit_test(test_errors),      cmocka_unit_test(test_list_overflow),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
