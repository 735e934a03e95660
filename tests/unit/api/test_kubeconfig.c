/*
 * test_kubeconfig.c - kubeconfig loading as kubectl does it: which file
 * (--kubeconfig, $KUBECONFIG, ~/.kube/config), the current context or a
 * chosen one, its server(s), token or tokenFile (relative to the file),
 * namespace, the TLS fields kept for later, and the messages users get
 * for files that are missing or incomplete.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "lib/lib.h"

static const char *full =
    "apiVersion: v1\n"
    "kind: Config\n"
    "preferences: {}\n"
    "clusters:\n"
    "- name: pis\n"
    "  cluster:\n"
    "    server: http://10.0.0.1:6443, http://10.0.0.2:6443,http://10.0.0.3:6443\n"
    "    certificate-authority-data: Q0EgREFUQQ==\n"
    "- name: other\n"
    "  cluster:\n"
    "    server: http://127.0.0.1:7000\n"
    "    certificate-authority: ca.crt\n"
    "    insecure-skip-tls-verify: true\n"
    "users:\n"
    "- name: admin\n"
    "  user:\n"
    "    token: s3cr3t\n"
    "- name: filer\n"
    "  user:\n"
    "    tokenFile: tok\n"
    "contexts:\n"
    "- name: main\n"
    "  context:\n"
    "    cluster: pis\n"
    "    user: admin\n"
    "- name: dev\n"
    "  context:\n"
    "    cluster: other\n"
    "    user: filer\n"
    "    namespace: team-a\n"
    "current-context: main\n";

static int parse(const char *text, const char *ctx, api_kubeconfig_t *kc, char *err)
{
    return api_kubeconfig_parse(text, strlen(text), "/x/config", ctx, kc, err, 256);
}

static void test_current_context(void **state)
{
    (void)state;
    api_kubeconfig_t kc;
    char err[256] = "";
    assert_int_equal(parse(full, NULL, &kc, err), 0);
    assert_string_equal(kc.path, "/x/config");
    assert_string_equal(kc.context, "main");
    assert_string_equal(kc.cluster, "pis");
    assert_string_equal(kc.user, "admin");
    /* Several servers, blanks around commas dropped. */
    assert_string_equal(kc.server,
                        "http://10.0.0.1:6443,http://10.0.0.2:6443,http://10.0.0.3:6443");
    assert_string_equal(kc.token, "s3cr3t");
    assert_string_equal(kc.ns, "default");
    assert_string_equal(kc.ca_data, "Q0EgREFUQQ==");
    assert_null(kc.ca_file);
    assert_false(kc.insecure_skip_tls_verify);
    api_kubeconfig_free(&kc);
    assert_null(kc.server);
}

static void test_token_file_relative(void **state)
{
    (void)state;
    char dir[] = "/tmp/pk-kcXXXXXX";
    assert_non_null(mkdtemp(dir));
    char cfg[128], tok[128];
    snprintf(cfg, sizeof(cfg), "%s/config", dir);
    snprintf(tok, sizeof(tok), "%s/tok", dir);
    assert_int_equal(file_write_atomic(tok, "from-file\n", 10, 0600), 0);
    assert_int_equal(file_write_atomic(cfg, full, strlen(full), 0600), 0);
    api_kubeconfig_t kc;
    char err[256] = "";
    assert_int_equal(api_kubeconfig_load(cfg, "dev", &kc, err, sizeof(err)), 0);
    assert_string_equal(kc.context, "dev");
    assert_string_equal(kc.server, "http://127.0.0.1:7000");
    assert_string_equal(kc.token, "from-file");
    assert_string_equal(kc.ns, "team-a");
    char ca[160];
    snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
    assert_string_equal(kc.ca_file, ca);
    assert_true(kc.insecure_skip_tls_verify);
    api_kubeconfig_free(&kc);

    /* The token file gone: the message says which file. */
    unlink(tok);
    assert_int_equal(api_kubeconfig_load(cfg, "dev", &kc, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot read tokenFile"));
    assert_non_null(strstr(err, tok));

    /* $KUBECONFIG: the first file of the list. */
    setenv("KUBECONFIG", cfg, 1);
    char path[256];
    assert_int_equal(api_kubeconfig_path(NULL, path, sizeof(path)), 0);
    assert_string_equal(path, cfg);
    char list[512];
    snprintf(list, sizeof(list), ":%s:/nonexistent/second", cfg);
    setenv("KUBECONFIG", list, 1);
    assert_int_equal(api_kubeconfig_load(NULL, NULL, &kc, err, sizeof(err)), 0);
    assert_string_equal(kc.path, cfg);
    assert_string_equal(kc.token, "s3cr3t");
    api_kubeconfig_free(&kc);
    unsetenv("KUBECONFIG");
    unlink(cfg);
    rmdir(dir);
}

static void test_path_order(void **state)
{
    (void)state;
    char path[256];
    setenv("KUBECONFIG", "/from/env:/second", 1);
    assert_int_equal(api_kubeconfig_path("/flag/config", path, sizeof(path)), 0);
    assert_string_equal(path, "/flag/config");
    assert_int_equal(api_kubeconfig_path("", path, sizeof(path)), 0);
    assert_string_equal(path, "/from/env");
    unsetenv("KUBECONFIG");
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("HOME", "/home/pi", 1);
    assert_int_equal(api_kubeconfig_path(NULL, path, sizeof(path)), 0);
    assert_string_equal(path, "/home/pi/.kube/config");
    setenv("KUBECONFIG", "", 1); /* empty: as unset */
    assert_int_equal(api_kubeconfig_path(NULL, path, sizeof(path)), 0);
    assert_string_equal(path, "/home/pi/.kube/config");
    unsetenv("KUBECONFIG");
    assert_int_equal(api_kubeconfig_path(NULL, path, 8), -1); /* does not fit */
    if (home) {
        setenv("HOME", home, 1);
        free(home);
    }
}

static void expect_error(const char *text, const char *ctx, const char *msg)
{
    api_kubeconfig_t kc;
    char err[256] = "";
    assert_int_equal(parse(text, ctx, &kc, err), -1);
    assert_string_equal(err, msg);
    assert_null(kc.server);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("apiVersion: v1\nkind: Config\nclusters: []\n", NULL,
                 "kubeconfig /x/config: no current-context");
    expect_error(full, "nope", "kubeconfig /x/config: context \"nope\" does not exist");
    expect_error("current-context: a\ncontexts:\n- name: a\n  context:\n    cluster: c\n", NULL,
                 "kubeconfig /x/config: cluster \"c\" (of context \"a\") does not exist");
    expect_error("current-context: a\ncontexts:\n- name: a\n  context:\n    user: u\n", NULL,
                 "kubeconfig /x/config: context \"a\" has no cluster");
    expect_error("current-context: a\ncontexts:\n- name: a\n  context:\n    cluster: c\n"
                 "clusters:\n- name: c\n  cluster:\n    certificate-authority-data: eA==\n",
                 NULL, "kubeconfig /x/config: cluster \"c\" has no server");
    expect_error("current-context: a\ncontexts:\n- name: a\n  context:\n    cluster: c\n"
                 "    user: u\nclusters:\n- name: c\n  cluster:\n    server: http://h:1\n",
                 NULL, "kubeconfig /x/config: user \"u\" (of context \"a\") does not exist");
    expect_error("", NULL, "kubeconfig /x/config: the file is empty");
    expect_error("- just\n- a list\n", NULL,
                 "kubeconfig /x/config: not a kubeconfig (expected a mapping)");
    api_kubeconfig_t kc;
    char err[256] = "";
    assert_int_equal(parse("clusters: [\n  a: b\n", NULL, &kc, err), -1);
    assert_non_null(strstr(err, "kubeconfig /x/config: line "));

    assert_int_equal(api_kubeconfig_load("/nonexistent/pk/config", NULL, &kc, err, sizeof(err)),
                     -1);
    assert_string_equal(
        err, "kubeconfig /nonexistent/pk/config: cannot read: No such file or directory");
}

static void test_minimal_forms(void **state)
{
    (void)state;
    /* What `picokube server` writes into <data-dir>/admin.kubeconfig. */
    const char *admin = "apiVersion: v1\nkind: Config\nclusters:\n- name: picokube\n  cluster:\n"
                        "    server: http://192.168.1.10:6443\nusers:\n- name: admin\n  user:\n"
                        "    token: abc\ncontexts:\n- name: picokube\n  context:\n"
                        "    cluster: picokube\n    user: admin\ncurrent-context: picokube\n";
    api_kubeconfig_t kc;
    char err[256] = "";
    assert_int_equal(parse(admin, NULL, &kc, err), 0);
    assert_string_equal(kc.server, "http://192.168.1.10:6443");
    assert_string_equal(kc.token, "abc");
    api_kubeconfig_free(&kc);

    /* JSON is YAML; a context without a user means no token. */
    const char *json = "{\"current-context\":\"j\",\"contexts\":[{\"name\":\"j\",\"context\":"
                       "{\"cluster\":\"c\"}}],\"clusters\":[{\"name\":\"c\",\"cluster\":"
                       "{\"server\":\"http://127.0.0.1:1\"}}]}";
    assert_int_equal(parse(json, NULL, &kc, err), 0);
    assert_string_equal(kc.server, "http://127.0.0.1:1");
    assert_null(kc.token);
    assert_null(kc.user);
    api_kubeconfig_free(&kc);

    /* YAML anchors and aliases are resolved. */
    const char *alias = "current-context: a\ncontexts:\n- name: a\n  context: &ctx\n"
                        "    cluster: c\n- name: b\n  context: *ctx\nclusters:\n- name: c\n"
                        "  cluster:\n    server: http://h:2\n";
    assert_int_equal(parse(alias, "b", &kc, err), 0);
    assert_string_equal(kc.server, "http://h:2");
    api_kubeconfig_free(&kc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_current_context), cmocka_unit_test(test_token_file_relative),
        cmocka_unit_test(test_path_order),      cmocka_unit_test(test_errors),
        cmocka_unit_test(test_minimal_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
