/*
 * test_ocispec.c - config.json from pod specs, with Kubernetes' documented
 * rules: command/args against the image's Entrypoint/Cmd, $(VAR)
 * expansion, env sources (fieldRef, configMapKeyRef, secretKeyRef,
 * envFrom), users, hostname, namespaces, mounts and volumes, and
 * resources -> cgroup values (MilliCPUToShares, MilliCPUToQuota).
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

static cJSON *J(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    if (!j) fail_msg("bad JSON in test: %s", s);
    return j;
}

/* args as one space-joined string */
static char *args_of(const char *container, const char *image)
{
    cJSON *c = J(container), *i = J(image), *env = J("{\"NAME\":\"world\",\"X\":\"1\"}");
    cJSON *a = spec_args(c, i, env);
    static char buf[512];
    buf[0] = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a)
    {
        if (buf[0]) strcat(buf, " ");
        strcat(buf, x->valuestring);
    }
    cJSON_Delete(a);
    cJSON_Delete(c);
    cJSON_Delete(i);
    cJSON_Delete(env);
    return buf;
}

static void test_args_rules(void **state)
{
    (void)state;
    const char *img = "{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"cmd1\",\"cmd2\"]}";
    /* Neither: the image's entrypoint and cmd. */
    assert_string_equal(args_of("{}", img), "/ep cmd1 cmd2");
    /* Only args: the image's entrypoint with the args. */
    assert_string_equal(args_of("{\"args\":[\"a\"]}", img), "/ep a");
    /* Only command: the command alone (image cmd ignored). */
    assert_string_equal(args_of("{\"command\":[\"/c\"]}", img), "/c");
    /* Both: command and args. */
    assert_string_equal(args_of("{\"command\":[\"/c\"],\"args\":[\"a\",\"b\"]}", img), "/c a b");
    /* An empty command counts as none. */
    assert_string_equal(args_of("{\"command\":[]}", img), "/ep cmd1 cmd2");
    /* $(VAR) is expanded in command and args, not in the image's. */
    assert_string_equal(args_of("{\"command\":[\"echo\",\"hello $(NAME)\"]}", img),
                        "echo hello world");
    assert_string_equal(args_of("{}", "{\"Cmd\":[\"$(NAME)\"]}"), "$(NAME)");
}

static void test_expand(void **state)
{
    (void)state;
    cJSON *env = J("{\"A\":\"x\",\"B\":\"\"}");
    struct {
        const char *in, *out;
    } cases[] = {
        {"$(A)", "x"}, {"a$(A)b", "axb"}, {"$(B)", ""},   {"$(C)", "$(C)"},   {"$$(A)", "$(A)"},
        {"$$", "$"},   {"$A", "$A"},      {"$(A", "$(A"}, {"$(A)$(A)", "xx"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *o = spec_expand(cases[i].in, env);
        if (strcmp(o, cases[i].out))
            fail_msg("'%s': got '%s', want '%s'", cases[i].in, o, cases[i].out);
        free(o);
    }
    cJSON_Delete(env);
}

/* A fake API for ConfigMaps and Secrets. */
static cJSON *fetch(void *arg, const char *resource, const char *ns, const char *name, char *err,
                    size_t errlen)
{
    (void)arg;
    if (!strcmp(resource, "configmaps") && !strcmp(ns, "default") && !strcmp(name, "cfg"))
        return J("{\"data\":{\"mode\":\"fast\",\"level\":\"3\"}}");
    if (!strcmp(resource, "secrets") && !strcmp(name, "sec"))
        return J("{\"data\":{\"password\":\"czNjcjN0\"}}"); /* s3cr3t */
    snprintf(err, errlen, "%s \"%s\" not found",
             !strcmp(resource, "secrets") ? "secret" : "configmap", name);
    return NULL;
}

static const char *POD =
    "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"u-1\","
    "\"labels\":{\"app\":\"w\"}},"
    "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\","
    "\"resources\":{\"limits\":{\"memory\":\"64Mi\",\"cpu\":\"500m\"}}}],"
    "\"volumes\":[{\"name\":\"data\",\"emptyDir\":{}},{\"name\":\"conf\",\"configMap\":{\"name\":"
    "\"cfg\"}},"
    "{\"name\":\"host\",\"hostPath\":{\"path\":\"/srv\"}}]}}";

static struct spec_in base_in(const cJSON *pod, const cJSON *c, const cJSON *img)
{
    struct spec_in in = {
        .pod = pod,
        .container = c,
        .image_cfg = img,
        .rootfs = NULL,
        .netns_path = "/run/netns/pk-u-1",
        .hosts_path = "/p/hosts",
        .resolv_path = "/p/resolv.conf",
        .hostname_path = "/p/hostname",
        .termlog_path = "/p/termlog",
        .volumes_dir = "/p/volumes",
        .cgroups_path = "/picokube/podu-1/c",
        .pod_ip = "10.42.0.5",
        .host_ip = "192.168.1.10",
        .node_name = "n1",
        .memory_cgroup = true,
        .node_memory = 1u << 30,
        .fetch = fetch,
    };
    return in;
}

static const char *env_value(const cJSON *spec, const char *name)
{
    static char buf[256];
    const cJSON *e;
    size_t l = strlen(name);
    cJSON_ArrayForEach(e, jget(jget(spec, "process"), "env"))
    {
        if (!strncmp(e->valuestring, name, l) && e->valuestring[l] == '=') {
            snprintf(buf, sizeof buf, "%s", e->valuestring + l + 1);
            return buf;
        }
    }
    return NULL;
}

static const cJSON *mount_at(const cJSON *spec, const char *dest)
{
    const cJSON *m;
    cJSON_ArrayForEach(
        m, jget(spec, "mounts")) if (!strcmp(jstr(m, "destination", ""), dest)) return m;
    return NULL;
}

static bool has_option(const cJSON *m, const char *opt)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, jget(m, "options")) if (!strcmp(o->valuestring, opt)) return true;
    return false;
}

static void test_spec_basics(void **state)
{
    (void)state;
    cJSON *pod = J(POD);
    cJSON *c = J("{\"name\":\"c\",\"command\":[\"sh\"],\"workingDir\":\"/w\","
                 "\"resources\":{\"limits\":{\"memory\":\"64Mi\",\"cpu\":\"500m\"}},"
                 "\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/data\"},"
                 "{\"name\":\"conf\",\"mountPath\":\"/etc/conf\"},"
                 "{\"name\":\"host\",\"mountPath\":\"/srv\",\"readOnly\":true}]}");
    cJSON *img = J("{\"Env\":[\"PATH=/bin\",\"FROM_IMAGE=1\"],\"User\":\"\"}");
    struct spec_in in = base_in(pod, c, img);
    char reason[64] = "", err[512] = "";
    cJSON *s = spec_build(&in, reason, sizeof reason, err, sizeof err);
    assert_non_null(s);
    /* The hostname is the pod's name. */
    assert_string_equal(jstr(s, "hostname", ""), "web");
    assert_string_equal(jstr(jget(s, "process"), "cwd", ""), "/w");
    assert_string_equal(jstr(jget(s, "root"), "path", ""), "rootfs");
    assert_string_equal(env_value(s, "PATH"), "/bin");
    assert_string_equal(env_value(s, "FROM_IMAGE"), "1");
    assert_string_equal(env_value(s, "HOSTNAME"), "web");
    /* Private namespaces, and the pod's network namespace by path. */
    const cJSON *ns, *lx = jget(s, "linux");
    int n = 0;
    bool net = false;
    cJSON_ArrayForEach(ns, jget(lx, "namespaces"))
    {
        n++;
        if (!strcmp(jstr(ns, "type", ""), "network")) {
            net = true;
            assert_string_equal(jstr(ns, "path", ""), "/run/netns/pk-u-1");
        }
    }
    assert_true(net);
    assert_int_equal(n, 5);
    assert_string_equal(jstr(lx, "cgroupsPath", ""), "/picokube/podu-1/c");
    /* Limits: 64Mi of memory, 500m = 50 ms per 100 ms, 512 shares. */
    const cJSON *res = jget(lx, "resources");
    assert_int_equal((long)jnum(jget(res, "memory"), "limit", 0), 64L << 20);
    assert_int_equal((long)jnum(jget(res, "cpu"), "quota", 0), 50000);
    assert_int_equal((long)jnum(jget(res, "cpu"), "period", 0), 100000);
    assert_int_equal((long)jnum(jget(res, "cpu"), "shares", 0), 512);
    /* Mounts: the pod's files and its volumes. */
    assert_string_equal(jstr(mount_at(s, "/etc/hosts"), "source", ""), "/p/hosts");
    assert_string_equal(jstr(mount_at(s, "/etc/resolv.conf"), "source", ""), "/p/resolv.conf");
    assert_non_null(mount_at(s, "/proc"));
    assert_non_null(mount_at(s, "/dev/termination-log"));
    const cJSON *m = mount_at(s, "/data");
    assert_string_equal(jstr(m, "source", ""), "/p/volumes/data");
    assert_true(has_option(m, "rw"));
    m = mount_at(s, "/etc/conf");
    assert_string_equal(jstr(m, "source", ""), "/p/volumes/conf");
    assert_true(has_option(m, "ro")); /* configMap volumes are read-only */
    m = mount_at(s, "/srv");
    assert_string_equal(jstr(m, "source", ""), "/srv");
    assert_true(has_option(m, "ro"));
    /* Not privileged: Docker's default capabilities, no CAP_SYS_ADMIN. */
    const cJSON *caps = jget(jget(jget(s, "process"), "capabilities"), "bounding"), *x;
    bool chown = false, admin = false;
    cJSON_ArrayForEach(x, caps)
    {
        if (!strcmp(x->valuestring, "CAP_CHOWN")) chown = true;
        if (!strcmp(x->valuestring, "CAP_SYS_ADMIN")) admin = true;
    }
    assert_true(chown);
    assert_false(admin);
    /* Limits only (requests default to them): Guaranteed, -997. */
    assert_int_equal((int)jnum(jget(s, "process"), "oomScoreAdj", 0), -997);
    cJSON_Delete(s);
    /* Without the memory controller the limit is left out (and reported). */
    in.memory_cgroup = false;
    s = spec_build(&in, reason, sizeof reason, err, sizeof err);
    assert_null(jget(jget(jget(s, "linux"), "resources"), "memory"));
    cJSON_Delete(s);
    cJSON_Delete(pod);
    cJSON_Delete(c);
    cJSON_Delete(img);
}

static void test_env_sources(void **state)
{
    (void)state;
    cJSON *pod = J(POD);
    cJSON *c =
        J("{\"name\":\"c\",\"command\":[\"sh\"],"
          "\"envFrom\":[{\"configMapRef\":{\"name\":\"cfg\"},\"prefix\":\"CFG_\"}],"
          "\"env\":[{\"name\":\"POD\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}"
          "}},"
          "{\"name\":\"IP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"status.podIP\"}}},"
          "{\"name\":\"NODE\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"spec.nodeName\"}}},"
          "{\"name\":\"APP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.labels['app']\"}"
          "}},"
          "{\"name\":\"MODE\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cfg\",\"key\":"
          "\"mode\"}}},"
          "{\"name\":\"PW\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"sec\",\"key\":\"password\"}"
          "}},"
          "{\"name\":\"MEM\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"limits.memory\","
          "\"divisor\":\"1Mi\"}}},"
          "{\"name\":\"GREETING\",\"value\":\"hi $(POD) on $(NODE)\"},"
          "{\"name\":\"FROM_IMAGE\",\"value\":\"overridden\"}],"
          "\"resources\":{\"limits\":{\"memory\":\"64Mi\"}}}");
    cJSON *img = J("{\"Env\":[\"FROM_IMAGE=1\"]}");
    struct spec_in in = base_in(pod, c, img);
    char reason[64] = "", err[512] = "";
    cJSON *s = spec_build(&in, reason, sizeof reason, err, sizeof err);
    if (!s) fail_msg("%s: %s", reason, err);
    assert_string_equal(env_value(s, "POD"), "web");
    assert_string_equal(env_value(s, "IP"), "10.42.0.5");
    assert_string_equal(env_value(s, "NODE"), "n1");
    assert_string_equal(env_value(s, "APP"), "w");
    assert_string_equal(env_value(s, "MODE"), "fast");
    assert_string_equal(env_value(s, "CFG_level"), "3");
    assert_string_equal(env_value(s, "PW"), "s3cr3t");
    assert_string_equal(env_value(s, "MEM"), "64");
    assert_string_equal(env_value(s, "GREETING"), "hi web on n1");
    /* The pod's env wins over the image's. */
    assert_string_equal(env_value(s, "FROM_IMAGE"), "overridden");
    cJSON_Delete(s);
    cJSON_Delete(c);
    /* A missing ConfigMap is a CreateContainerConfigError with Kubernetes' words. */
    c = J("{\"name\":\"c\",\"command\":[\"sh\"],\"env\":[{\"name\":\"X\",\"valueFrom\":"
          "{\"configMapKeyRef\":{\"name\":\"nope\",\"key\":\"k\"}}}]}");
    in.container = c;
    assert_null(spec_build(&in, reason, sizeof reason, err, sizeof err));
    assert_string_equal(reason, "CreateContainerConfigError");
    assert_string_equal(err, "configmap \"nope\" not found");
    cJSON_Delete(c);
    /* A missing key too; optional ones are skipped. */
    c = J("{\"name\":\"c\",\"command\":[\"sh\"],\"env\":[{\"name\":\"X\",\"valueFrom\":"
          "{\"configMapKeyRef\":{\"name\":\"cfg\",\"key\":\"nokey\"}}}]}");
    in.container = c;
    assert_null(spec_build(&in, reason, sizeof reason, err, sizeof err));
    assert_string_equal(err, "couldn't find key nokey in ConfigMap default/cfg");
    cJSON_Delete(c);
    c = J("{\"name\":\"c\",\"command\":[\"sh\"],\"env\":[{\"name\":\"X\",\"valueFrom\":"
          "{\"configMapKeyRef\":{\"name\":\"nope\",\"key\":\"k\",\"optional\":true}}}]}");
    in.container = c;
    s = spec_build(&in, reason, sizeof reason, err, sizeof err);
    assert_non_null(s);
    assert_null(env_value(s, "X"));
    cJSON_Delete(s);
    cJSON_Delete(c);
    cJSON_Delete(pod);
    cJSON_Delete(img);
}

static void test_users(void **state)
{
    (void)state;
    char dir[] = "/tmp/pk-ocispec-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[256];
    snprintf(p, sizeof p, "%s/etc", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/etc/passwd", dir);
    const char *pw = "root:x:0:0::/root:/bin/sh\nwww:x:33:44::/var/www:/bin/sh\n";
    file_write_atomic(p, pw, strlen(pw), 0644);
    snprintf(p, sizeof p, "%s/etc/group", dir);
    file_write_atomic(p, "staff:x:50:\n", 12, 0644);
    cJSON *pod = J(POD);
    struct {
        const char *container, *image_user;
        int uid, gid;
    } cases[] = {
        {"{\"name\":\"c\",\"command\":[\"sh\"]}", "", 0, 0},
        {"{\"name\":\"c\",\"command\":[\"sh\"]}", "1000", 1000, 0},
        {"{\"name\":\"c\",\"command\":[\"sh\"]}", "1000:2000", 1000, 2000},
        {"{\"name\":\"c\",\"command\":[\"sh\"]}", "www", 33, 44},
        {"{\"name\":\"c\",\"command\":[\"sh\"]}", "www:staff", 33, 50},
        /* runAsUser wins over the image's user. */
        {"{\"name\":\"c\",\"command\":[\"sh\"],\"securityContext\":{\"runAsUser\":7,"
         "\"runAsGroup\":8}}",
         "www", 7, 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *c = J(cases[i].container);
        char img_s[128];
        snprintf(img_s, sizeof img_s, "{\"User\":\"%s\"}", cases[i].image_user);
        cJSON *img = J(img_s);
        struct spec_in in = base_in(pod, c, img);
        in.rootfs = dir;
        char reason[64] = "", err[512] = "";
        cJSON *s = spec_build(&in, reason, sizeof reason, err, sizeof err);
        if (!s) fail_msg("case %zu: %s", i, err);
        const cJSON *u = jget(jget(s, "process"), "user");
        assert_int_equal((int)jnum(u, "uid", -1), cases[i].uid);
        assert_int_equal((int)jnum(u, "gid", -1), cases[i].gid);
        cJSON_Delete(s);
        cJSON_Delete(c);
        cJSON_Delete(img);
    }
    /* An unknown user name fails, as Docker does. */
    cJSON *c = J("{\"name\":\"c\",\"command\":[\"sh\"]}"), *img = J("{\"User\":\"nobody\"}");
    struct spec_in in = base_in(pod, c, img);
    in.rootfs = dir;
    char reason[64] = "", err[512] = "";
    assert_null(spec_build(&in, reason, sizeof reason, err, sizeof err));
    assert_non_null(strstr(err, "unable to find user nobody"));
    /* runAsNonRoot with a root image is refused. */
    cJSON_Delete(c);
    c = J("{\"name\":\"c\",\"command\":[\"sh\"],\"securityContext\":{\"runAsNonRoot\":true}}");
    cJSON_Delete(img);
    img = J("{}");
    in = base_in(pod, c, img);
    assert_null(spec_build(&in, reason, sizeof reason, err, sizeof err));
    assert_string_equal(reason, "CreateContainerConfigError");
    cJSON_Delete(c);
    cJSON_Delete(img);
    cJSON_Delete(pod);
    fs_rm_rf(dir);
}

static void test_errors_and_host_network(void **state)
{
    (void)state;
    cJSON *pod = J(POD), *img = J("{}");
    char reason[64] = "", err[512] = "";
    /* No command and an image without one. */
    cJSON *c = J("{\"name\":\"c\"}");
    struct spec_in in = base_in(pod, c, img);
    assert_null(spec_build(&in, reason, sizeof reason, err, sizeof err));
    assert_string_equal(reason, "CreateContainerError");
    cJSON_Delete(c);
    /* A volumeMount naming no volume. */
    c = J("{\"name\":\"c\",\"command\":[\"sh\"],\"volumeMounts\":[{\"name\":\"x\",\"mountPath\":\"/"
          "x\"}]}");
    in.container = c;
    assert_null(spec_build(&in, reason, sizeof reason, err, sizeof err));
    assert_string_equal(reason, "CreateContainerConfigError");
    assert_non_null(strstr(err, "volume \"x\""));
    cJSON_Delete(c);
    /* A subPath may not climb out of its volume. */
    c = J("{\"name\":\"c\",\"command\":[\"sh\"],\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":"
          "\"/x\","
          "\"subPath\":\"../etc\"}]}");
    in.container = c;
    assert_null(spec_build(&in, reason, sizeof reason, err, sizeof err));
    cJSON_Delete(c);
    /* hostNetwork: no network or uts namespace, no hostname. */
    cJSON_AddBoolToObject(jget(pod, "spec") == NULL ? pod : cJSON_GetObjectItem(pod, "spec"),
                          "hostNetwork", true);
    c = J("{\"name\":\"c\",\"command\":[\"sh\"],\"securityContext\":{\"privileged\":true}}");
    in.container = c;
    cJSON *s = spec_build(&in, reason, sizeof reason, err, sizeof err);
    assert_non_null(s);
    assert_null(jget(s, "hostname"));
    const cJSON *ns;
    cJSON_ArrayForEach(ns, jget(jget(s, "linux"), "namespaces"))
    {
        assert_string_not_equal(jstr(ns, "type", ""), "network");
        assert_string_not_equal(jstr(ns, "type", ""), "uts");
    }
    /* privileged: every capability, devices allowed, nothing masked. */
    assert_true(cJSON_GetArraySize(jget(jget(jget(s, "process"), "capabilities"), "bounding")) >
                30);
    assert_null(jget(jget(s, "linux"), "maskedPaths"));
    cJSON_Delete(s);
    cJSON_Delete(c);
    cJSON_Delete(pod);
    cJSON_Delete(img);
}

static void check_res(const char *res, int64_t mem, uint64_t shares, int64_t quota)
{
    cJSON *r = J(res);
    struct cg_limits l;
    char err[200];
    if (spec_resources(r, &l, err, sizeof err)) fail_msg("%s: %s", res, err);
    if (l.memory_bytes != mem || l.cpu_shares != shares || l.cpu_quota_us != quota)
        fail_msg("%s: got memory %lld shares %llu quota %lld", res, (long long)l.memory_bytes,
                 (unsigned long long)l.cpu_shares, (long long)l.cpu_quota_us);
    cJSON_Delete(r);
}

static void test_resources(void **state)
{
    (void)state;
    check_res("{}", 0, 2, 0); /* BestEffort: the minimum of 2 shares */
    check_res("{\"limits\":{\"cpu\":\"250m\",\"memory\":\"128Mi\"}}", 128L << 20, 256, 25000);
    check_res("{\"requests\":{\"cpu\":\"100m\"},\"limits\":{\"cpu\":\"1\"}}", 0, 102, 100000);
    check_res("{\"requests\":{\"cpu\":\"2\"}}", 0, 2048, 0);
    /* 1m: 1 share is below the minimum; 100 us of quota below the kernel's 1 ms. */
    check_res("{\"limits\":{\"cpu\":\"1m\"}}", 0, 2, 1000);
    check_res("{\"limits\":{\"memory\":\"1G\"}}", 1000000000, 2, 0);
    check_res("{\"limits\":{\"memory\":\"1.5Gi\",\"cpu\":\"1500m\"}}", 1536L << 20, 1536, 150000);
    cJSON *r = J("{\"limits\":{\"memory\":\"lots\"}}");
    struct cg_limits l;
    char err[200];
    assert_int_equal(spec_resources(r, &l, err, sizeof err), -1);
    cJSON_Delete(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args_rules),  cmocka_unit_test(test_expand),
        cmocka_unit_test(test_spec_basics), cmocka_unit_test(test_env_sources),
        cmocka_unit_test(test_users),       cmocka_unit_test(test_errors_and_host_network),
        cmocka_unit_test(test_resources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
