/*
 * test_sync.c - the proxy's write path without a kernel: partial and full
 * iptables-restore input, "no change -> no iptables call", recovery after a
 * failed write and after drift, the cleanup script, and the exec helper.
 * iptables, iptables-restore and iptables-save are fake shell scripts that
 * log their input and keep jump rules as files, so nothing on the machine
 * is touched and no root is needed.
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

#include "proxy/proxy.h"
#include "proxy/proxy_int.h"

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

static size_t count(const char *text, const char *s)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, s)); p++)
        n++;
    return n;
}

#define SVCS                                                                                       \
    "[{'metadata':{'name':'a','namespace':'default'},'spec':{'clusterIP':'10.43.0.1',"             \
    "'ports':[{'port':80}]}},{'metadata':{'name':'b','namespace':'default'},'spec':{"              \
    "'clusterIP':'10.43.0.2','ports':[{'port':80}]}}]"
#define EPS(ips_a)                                                                                 \
    "[{'metadata':{'name':'a','namespace':'default'},'subsets':[{'addresses':[" ips_a              \
    "],'ports':[{'port':8080}]}]},{'metadata':{'name':'b','namespace':'default'},'subsets':[{"     \
    "'addresses':[{'ip':'10.42.0.20'}],'ports':[{'port':8080}]}]}]"

struct objs {
    cJSON *s, *e;
    const cJSON *sv[8], *ev[8];
    size_t ns, ne;
};

static void objs_load(struct objs *o, const char *svcs, const char *eps)
{
    memset(o, 0, sizeof(*o));
    o->s = J(svcs);
    o->e = J(eps);
    const cJSON *x;
    cJSON_ArrayForEach(x, o->s) o->sv[o->ns++] = x;
    cJSON_ArrayForEach(x, o->e) o->ev[o->ne++] = x;
}

static void objs_free(struct objs *o)
{
    cJSON_Delete(o->s);
    cJSON_Delete(o->e);
}

static void ruleset_of(const char *svcs, const char *eps, struct pk_ruleset *rs)
{
    struct objs ob;
    objs_load(&ob, svcs, eps);
    struct pk_opts o = {.localhost_nodeports = true};
    char err[128];
    assert_int_equal(pk_opts_cidr(&o, "10.42.0.0/16", "cluster CIDR", err, sizeof(err)), 0);
    struct pk_model m;
    assert_int_equal(pk_model_build(ob.sv, ob.ns, ob.ev, ob.ne, &o, &m), 0);
    assert_int_equal(pk_rules_generate(&m, &o, rs), 0);
    pk_model_free(&m);
    objs_free(&ob);
}

static const char *sep_of(const char *svc, const char *ep)
{
    static char b[4][PK_CHAIN_MAX];
    static int k;
    char h[14];
    pk_chain_hash(svc, "tcp", ep, h);
    char *out = b[k++ % 4];
    snprintf(out, PK_CHAIN_MAX, "PICOKUBE-SEP-%s", h);
    return out;
}

static void test_render_partial(void **state)
{
    (void)state;
    struct pk_ruleset a, b;
    ruleset_of(SVCS, EPS("{'ip':'10.42.0.10'},{'ip':'10.42.0.11'}"), &a);
    ruleset_of(SVCS, EPS("{'ip':'10.42.0.10'},{'ip':'10.42.0.12'}"), &b);
    assert_false(pk_ruleset_equal(&a, &b));
    assert_true(pk_ruleset_equal(&a, &a));
    size_t len, nw;
    char *t = pk_render(&b, &a, &len, &nw);
    assert_non_null(t);
    assert_int_equal(strlen(t), len);
    char dec[64];
    /* Service b is unchanged: its chains are not even declared. */
    char h[14];
    pk_chain_hash("default/b", "tcp", NULL, h);
    snprintf(dec, sizeof(dec), ":PICOKUBE-SVC-%s ", h);
    assert_null(strstr(t, dec));
    assert_null(strstr(t, sep_of("default/b", "10.42.0.20:8080")));
    /* a's SVC changed, .12 is new, .11 is flushed and deleted, .10 kept. */
    pk_chain_hash("default/a", "tcp", NULL, h);
    snprintf(dec, sizeof(dec), ":PICOKUBE-SVC-%s - [0:0]\n", h);
    assert_non_null(strstr(t, dec));
    snprintf(dec, sizeof(dec), ":%s - [0:0]\n", sep_of("default/a", "10.42.0.12:8080"));
    assert_non_null(strstr(t, dec));
    snprintf(dec, sizeof(dec), ":%s - [0:0]\n", sep_of("default/a", "10.42.0.11:8080"));
    assert_non_null(strstr(t, dec));
    snprintf(dec, sizeof(dec), "-X %s\n", sep_of("default/a", "10.42.0.11:8080"));
    assert_non_null(strstr(t, dec));
    assert_true(strstr(t, dec) > strstr(t, "-A PICOKUBE-SERVICES")); /* deleted last */
    snprintf(dec, sizeof(dec), ":%s - [0:0]\n", sep_of("default/a", "10.42.0.10:8080"));
    assert_null(strstr(t, dec));
    /* a's SVC and the new SEP; PICOKUBE-SERVICES names the same chains as
     * before, so it is not rewritten either. */
    assert_int_equal(nw, 2);
    assert_null(strstr(t, ":PICOKUBE-SERVICES"));
    assert_non_null(strstr(t, "*filter\nCOMMIT\n"));
    free(t);
    /* Service b deleted: PICOKUBE-SERVICES rewritten, b's chains deleted. */
    struct pk_ruleset c;
    ruleset_of("[{'metadata':{'name':'a','namespace':'default'},'spec':{'clusterIP':'10.43.0.1',"
               "'ports':[{'port':80}]}}]",
               EPS("{'ip':'10.42.0.10'},{'ip':'10.42.0.12'}"), &c);
    t = pk_render(&c, &b, NULL, &nw);
    assert_int_equal(nw, 1);
    assert_non_null(strstr(t, ":PICOKUBE-SERVICES - [0:0]\n"));
    pk_chain_hash("default/b", "tcp", NULL, h);
    snprintf(dec, sizeof(dec), "-X PICOKUBE-SVC-%s\n", h);
    assert_non_null(strstr(t, dec));
    snprintf(dec, sizeof(dec), "-X %s\n", sep_of("default/b", "10.42.0.20:8080"));
    assert_non_null(strstr(t, dec));
    assert_null(strstr(t, "10.42.0.20:8080\""));
    free(t);
    pk_ruleset_free(&c);
    /* Without a previous state everything is written, nothing deleted. */
    t = pk_render(&b, NULL, NULL, &nw);
    assert_int_equal(nw, b.n);
    assert_int_equal(count(t, "-X "), 0);
    free(t);
    pk_ruleset_free(&a);
    pk_ruleset_free(&b);
}

static const char *SAVE_NAT = "# Generated by iptables-save\n"
                              "*nat\n"
                              ":PREROUTING ACCEPT [0:0]\n"
                              ":KUBE-SERVICES - [0:0]\n"
                              ":PICOKUBE-SERVICES - [0:0]\n"
                              ":PICOKUBE-SVC-OLDOLDOLDOLD1 - [0:0]\n"
                              "-A PREROUTING -m comment --comment \"picokube service portals\" "
                              "-j PICOKUBE-SERVICES\n"
                              "-A PICOKUBE-SERVICES -d 10.43.0.9/32 -j PICOKUBE-SVC-OLDOLDOLDOLD1\n"
                              "-A PICOKUBE-SVC-OLDOLDOLDOLD1 -j RETURN\n"
                              "-A PICOKUBE-SVC-OLDOLDOLDOLD1 -j RETURN\n"
                              "-A KUBE-SERVICES -j RETURN\n"
                              "COMMIT\n";

static void test_parse_save_and_cleanup(void **state)
{
    (void)state;
    char all[2048];
    snprintf(all, sizeof(all),
             "%s*filter\n:INPUT ACCEPT [0:0]\n:DOCKER - [0:0]\n"
             ":PICOKUBE-FORWARD - [0:0]\nCOMMIT\n*mangle\n"
             ":PICOKUBE-NOT-OURS-HERE - [0:0]\nCOMMIT\n",
             SAVE_NAT);
    struct pk_ruleset rs;
    assert_int_equal(pk_parse_save(all, &rs), 0);
    assert_int_equal(rs.n, 3);
    const struct pk_chain *c = pk_ruleset_find(&rs, PK_NAT, "PICOKUBE-SVC-OLDOLDOLDOLD1");
    assert_non_null(c);
    assert_null(c->rules);
    assert_int_equal(c->len, 2);
    assert_int_equal(pk_ruleset_find(&rs, PK_NAT, "PICOKUBE-SERVICES")->len, 1);
    assert_non_null(pk_ruleset_find(&rs, PK_FILTER, "PICOKUBE-FORWARD"));
    assert_null(pk_ruleset_find(&rs, PK_NAT, "KUBE-SERVICES"));
    char *t = pk_render_cleanup(&rs, NULL);
    assert_string_equal(t, "*nat\n:PICOKUBE-SERVICES - [0:0]\n:PICOKUBE-SVC-OLDOLDOLDOLD1 - "
                           "[0:0]\n-X PICOKUBE-SERVICES\n-X PICOKUBE-SVC-OLDOLDOLDOLD1\nCOMMIT\n"
                           "*filter\n:PICOKUBE-FORWARD - [0:0]\n-X PICOKUBE-FORWARD\nCOMMIT\n");
    free(t);
    /* Found chains have unknown content: a render over them writes all and
     * deletes the stale one. */
    struct pk_ruleset next;
    ruleset_of(SVCS, EPS("{'ip':'10.42.0.10'}"), &next);
    size_t nw;
    t = pk_render(&next, &rs, NULL, &nw);
    assert_int_equal(nw, next.n);
    assert_non_null(strstr(t, ":PICOKUBE-SVC-OLDOLDOLDOLD1 - [0:0]\n"));
    assert_non_null(strstr(t, "-X PICOKUBE-SVC-OLDOLDOLDOLD1\n"));
    assert_null(strstr(t, "\n:KUBE-SERVICES"));
    assert_null(strstr(t, " KUBE-SERVICES"));
    free(t);
    pk_ruleset_free(&next);
    pk_ruleset_free(&rs);
    /* Nothing of ours: an empty script. */
    struct pk_ruleset none = {0};
    t = pk_render_cleanup(&none, NULL);
    assert_string_equal(t, "");
    free(t);
}

/* ------------------------------------------------------- fake iptables */

static char dir[64];
static char fake_ipt[128], fake_restore[128], fake_save[128];

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static char *read_file(const char *name)
{
    char p[160];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    if (!f) return strdup("");
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    return strdup(buf);
}

static int setup_fakes(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/pk-proxy-test-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    char s[1024];
    /* Jump rules are files named after the rule; -C tests, -I creates, -D removes. */
    snprintf(fake_ipt, sizeof(fake_ipt), "%s/iptables", dir);
    snprintf(s, sizeof(s),
             "#!/bin/bash\necho \"$*\" >> %s/ipt.log\n"
             "op=; k=; pos=0; at=0\n"
             "for a in \"$@\"; do pos=$((pos+1))\n"
             "  case \"$a\" in -C|-I|-D) op=$a; at=$pos; continue;; esac\n"
             "  [ \"$op\" = -I ] && [ $pos -eq $((at+2)) ] && continue\n"
             "  k=\"$k $a\"\ndone\n"
             "k=\"%s/j.${k//[^A-Za-z0-9]/_}\"\n"
             "case $op in -C) test -e \"$k\";; -I) : > \"$k\";; -D) rm \"$k\";; esac\n",
             dir, dir);
    write_file(fake_ipt, s, 0755);
    snprintf(fake_restore, sizeof(fake_restore), "%s/iptables-restore", dir);
    snprintf(s, sizeof(s),
             "#!/bin/sh\necho \"$*\" > %s/restore.args\ncat > %s/restore.last\n"
             "cat %s/restore.last >> %s/restore.log\necho \"#END\" >> %s/restore.log\n"
             "test ! -e %s/fail\n",
             dir, dir, dir, dir, dir, dir);
    write_file(fake_restore, s, 0755);
    snprintf(fake_save, sizeof(fake_save), "%s/iptables-save", dir);
    snprintf(s, sizeof(s), "#!/bin/sh\ncat %s/save.$2 2>/dev/null\nexit 0\n", dir);
    write_file(fake_save, s, 0755);
    return 0;
}

static int teardown_fakes(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct proxy_config fake_cfg(void)
{
    return (struct proxy_config){
        .node_name = "n1",
        .no_service_route = true,       /* no `ip link` on the test machine */
        .no_localhost_nodeports = true, /* no sysctl either */
        .iptables = fake_ipt,
        .iptables_restore = fake_restore,
        .iptables_save = fake_save,
    };
}

static int jump_files(void)
{
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "ls %s | grep -c '^j\\.' > %s/jcount", dir, dir);
    if (system(cmd) < 0) return -1;
    char *c = read_file("jcount");
    int n = atoi(c);
    free(c);
    return n;
}

static void test_syncer_no_change_no_call(void **state)
{
    (void)state;
    char p[160];
    snprintf(p, sizeof(p), "%s/save.nat", dir);
    write_file(p, SAVE_NAT, 0644);
    struct proxy_config cfg = fake_cfg();
    struct pk_syncer s;
    char err[512] = "";
    assert_int_equal(pk_syncer_init(&s, &cfg, err, sizeof(err)), 0);
    struct objs o1, o2;
    objs_load(&o1, SVCS, EPS("{'ip':'10.42.0.10'},{'ip':'10.42.0.11'}"));
    objs_load(&o2, SVCS, EPS("{'ip':'10.42.0.10'}"));

    /* First sync: full, with --noflush, stale chain deleted, jumps inserted. */
    int rc = pk_syncer_sync(&s, o1.sv, o1.ns, o1.ev, o1.ne, err, sizeof(err));
    if (rc != 1) fail_msg("sync: %d %s", rc, err);
    char *args = read_file("restore.args");
    assert_string_equal(args, "-w 5 --noflush\n");
    free(args);
    char *last = read_file("restore.last");
    assert_non_null(strstr(last, "-X PICOKUBE-SVC-OLDOLDOLDOLD1\n"));
    assert_int_equal(count(last, "COMMIT\n"), 2);
    free(last);
    size_t nj;
    pk_jumps(&nj);
    assert_int_equal(jump_files(), (int)nj);
    char *log = read_file("ipt.log");
    assert_int_equal(count(log, " -I "), nj);
    assert_non_null(strstr(log, "-w 5 -t nat -I PREROUTING 1 -m comment --comment picokube "
                                "service portals -j PICOKUBE-SERVICES"));
    free(log);
    assert_int_equal(s.restores, 1);

    /* Same objects: no iptables call at all. */
    rc = pk_syncer_sync(&s, o1.sv, o1.ns, o1.ev, o1.ne, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_int_equal(s.restores, 1);
    assert_int_equal(s.unchanged, 1);
    log = read_file("restore.log");
    assert_int_equal(count(log, "#END"), 1);
    free(log);

    /* One endpoint gone: a partial write, no jump checks. */
    rc = pk_syncer_sync(&s, o2.sv, o2.ns, o2.ev, o2.ne, err, sizeof(err));
    assert_int_equal(rc, 1);
    last = read_file("restore.last");
    assert_non_null(strstr(last, "-X PICOKUBE-SEP-"));
    assert_null(strstr(last, "OLDOLD"));
    assert_int_equal(count(last, "-X "), 1);
    free(last);
    assert_int_equal(s.chains_written, 1); /* a's SVC only */
    log = read_file("ipt.log");
    assert_int_equal(count(log, " -C "), nj);
    free(log);

    /* A failed write: the next sync starts over from the kernel. */
    snprintf(p, sizeof(p), "%s/fail", dir);
    write_file(p, "", 0644);
    rc = pk_syncer_sync(&s, o1.sv, o1.ns, o1.ev, o1.ne, err, sizeof(err));
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "iptables-restore exited with 1"));
    assert_false(s.known);
    unlink(p);
    rc = pk_syncer_sync(&s, o1.sv, o1.ns, o1.ev, o1.ne, err, sizeof(err));
    assert_int_equal(rc, 1);
    assert_int_equal(s.chains_written, s.written.n); /* everything again */
    assert_int_equal(jump_files(), (int)nj);         /* not inserted twice */

    /* Drift: the kernel no longer has our chains (someone flushed nat). */
    assert_int_equal(pk_syncer_check(&s, err, sizeof(err)), 1);
    assert_false(s.known);
    rc = pk_syncer_sync(&s, o1.sv, o1.ns, o1.ev, o1.ne, err, sizeof(err));
    assert_int_equal(rc, 1);

    objs_free(&o1);
    objs_free(&o2);
    pk_syncer_free(&s);
}

static void test_apply_and_cleanup(void **state)
{
    (void)state;
    struct proxy_config cfg = fake_cfg();
    char err[512] = "";
    cJSON *s = J("{'kind':'ServiceList','items':" SVCS "}");
    cJSON *e = J("{'kind':'EndpointsList','items':" EPS("{'ip':'10.42.0.10'}") "}");
    assert_int_equal(proxy_apply(&cfg, s, e, err, sizeof(err)), 0);
    size_t nj;
    pk_jumps(&nj);
    assert_int_equal(jump_files(), (int)nj);
    /* Cleanup: every jump removed, then the chains iptables-save shows. */
    char p[160];
    snprintf(p, sizeof(p), "%s/save.filter", dir);
    write_file(p,
               "*filter\n:INPUT ACCEPT [0:0]\n:PICOKUBE-FORWARD - [0:0]\n:DOCKER - [0:0]\n"
               "COMMIT\n",
               0644);
    assert_int_equal(proxy_cleanup(&cfg, err, sizeof(err)), 0);
    assert_int_equal(jump_files(), 0);
    char *last = read_file("restore.last");
    assert_non_null(strstr(last, "*filter\n:PICOKUBE-FORWARD - [0:0]\n-X PICOKUBE-FORWARD\n"));
    assert_non_null(strstr(last, "-X PICOKUBE-SVC-OLDOLDOLDOLD1\n"));
    assert_null(strstr(last, "DOCKER"));
    assert_null(strstr(last, "-A "));
    free(last);
    /* Idempotent. */
    assert_int_equal(proxy_cleanup(&cfg, err, sizeof(err)), 0);
    cJSON_Delete(s);
    cJSON_Delete(e);
}

static void test_missing_iptables(void **state)
{
    (void)state;
    struct proxy_config cfg = fake_cfg();
    cfg.iptables_save = "/nonexistent/iptables-save";
    char err[512] = "";
    cJSON *s = J(SVCS), *e = J("[]");
    assert_int_equal(proxy_apply(&cfg, s, e, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot run /nonexistent/iptables-save"));
    cJSON_Delete(s);
    cJSON_Delete(e);
}

static void test_exec(void **state)
{
    (void)state;
    char err[256] = "", *out = NULL;
    /* Input larger than a pipe buffer, echoed back whole. */
    size_t n = 300000;
    char *in = malloc(n);
    for (size_t i = 0; i < n; i++)
        in[i] = (char)('a' + i % 26);
    const char *cat[] = {"cat", NULL};
    assert_int_equal(pk_exec(cat, in, n, &out, 10000, err, sizeof(err)), 0);
    assert_int_equal(strlen(out), n);
    assert_memory_equal(out, in, n);
    free(out);
    free(in);
    const char *ex3[] = {"sh", "-c", "echo oops >&2; exit 3", NULL};
    assert_int_equal(pk_exec(ex3, NULL, 0, &out, 10000, err, sizeof(err)), 3);
    assert_string_equal(out, "oops\n");
    assert_non_null(strstr(err, "sh exited with 3: oops"));
    free(out);
    /* A child that stops reading early is an error, not a SIGPIPE. */
    const char *early[] = {"true", NULL};
    char big[200000];
    memset(big, 'x', sizeof(big));
    assert_int_equal(pk_exec(early, big, sizeof(big), NULL, 10000, err, sizeof(err)), 0);
    const char *missing[] = {"pk-no-such-command", NULL};
    assert_int_equal(pk_exec(missing, NULL, 0, NULL, 10000, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot run pk-no-such-command"));
    const char *slow[] = {"sleep", "30", NULL};
    assert_int_equal(pk_exec(slow, NULL, 0, NULL, 200, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "killed"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_partial),
        cmocka_unit_test(test_parse_save_and_cleanup),
        cmocka_unit_test(test_syncer_no_change_no_call),
        cmocka_unit_test(test_apply_and_cleanup),
        cmocka_unit_test(test_missing_iptables),
        cmocka_unit_test(test_exec),
    };
    return cmocka_run_group_tests(tests, setup_fakes, teardown_fakes);
}
