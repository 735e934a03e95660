/*
 * ocispec.c - the OCI runtime config (config.json) of one container, from
 * the pod, the container spec and the image config, following what the
 * kubelet and containerd do together:
 *   - args and env (ocienv.c);
 *   - user (runAsUser/runAsGroup, else the image's USER), workingDir,
 *     capabilities (Docker's default set, add/drop, privileged);
 *   - private pid, ipc, uts and mount namespaces, the pod's network
 *     namespace, hostname = the pod's name;
 *   - cgroup limits from resources, as the kubelet computes them;
 *   - mounts: proc, sys, dev, the pod's hosts/resolv.conf/hostname files,
 *     and the volumes.
 * Everything here is a pure function of its inputs (plus the fetch hook
 * for ConfigMaps and Secrets), so it is unit-tested without runc.
 */
#include "nodeagent/agent_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const default_caps[] = {"CAP_CHOWN",
                                           "CAP_DAC_OVERRIDE",
                                           "CAP_FSETID",
                                           "CAP_FOWNER",
                                           "CAP_MKNOD",
                                           "CAP_NET_RAW",
                                           "CAP_SETGID",
                                           "CAP_SETUID",
                                           "CAP_SETFCAP",
                                           "CAP_SETPCAP",
                                           "CAP_NET_BIND_SERVICE",
                                           "CAP_SYS_CHROOT",
                                           "CAP_KILL",
                                           "CAP_AUDIT_WRITE",
                                           NULL};

static const char *const all_caps[] = {"CAP_CHOWN",
                                       "CAP_DAC_OVERRIDE",
                                       "CAP_DAC_READ_SEARCH",
                                       "CAP_FOWNER",
                                       "CAP_FSETID",
                                       "CAP_KILL",
                                       "CAP_SETGID",
                                       "CAP_SETUID",
                                       "CAP_SETPCAP",
                                       "CAP_LINUX_IMMUTABLE",
                                       "CAP_NET_BIND_SERVICE",
                                       "CAP_NET_BROADCAST",
                                       "CAP_NET_ADMIN",
                                       "CAP_NET_RAW",
                                       "CAP_IPC_LOCK",
                                       "CAP_IPC_OWNER",
                                       "CAP_SYS_MODULE",
                                       "CAP_SYS_RAWIO",
                                       "CAP_SYS_CHROOT",
                                       "CAP_SYS_PTRACE",
                                       "CAP_SYS_PACCT",
                                       "CAP_SYS_ADMIN",
                                       "CAP_SYS_BOOT",
                                       "CAP_SYS_NICE",
                                       "CAP_SYS_RESOURCE",
                                       "CAP_SYS_TIME",
                                       "CAP_SYS_TTY_CONFIG",
                                       "CAP_MKNOD",
                                       "CAP_LEASE",
                                       "CAP_AUDIT_WRITE",
                                       "CAP_AUDIT_CONTROL",
                                       "CAP_SETFCAP",
                                       "CAP_MAC_OVERRIDE",
                                       "CAP_MAC_ADMIN",
                                       "CAP_SYSLOG",
                                       "CAP_WAKE_ALARM",
                                       "CAP_BLOCK_SUSPEND",
                                       "CAP_AUDIT_READ",
                                       NULL};

static void fail(char *reason, size_t rlen, const char *r, char *err, size_t errlen,
                 const char *fmt, const char *a, const char *b)
{
    snprintf(reason, rlen, "%s", r);
    snprintf(err, errlen, fmt, a, b);
}

/* --------------------------------------------------------------- resources */

static int quantity_at(const cJSON *map, const char *key, api_quantity_t *q, bool *has, char *err,
                       size_t errlen)
{
    const cJSON *v = jget(map, key);
    *has = false;
    if (!v) return 0;
    char e[200];
    if (api_quantity_from_json(v, q, e, sizeof e) != 0) {
        snprintf(err, errlen, "resources %s: %s", key, e);
        return -1;
    }
    *has = true;
    return 0;
}

int spec_resources(const cJSON *resources, struct cg_limits *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->cpu_period_us = 100000;
    const cJSON *lim = jget(resources, "limits"), *req = jget(resources, "requests");
    api_quantity_t q;
    bool has;
    /* requests default to limits (the API server defaults them so too). */
    int64_t cpu_req = 0;
    if (quantity_at(req, "cpu", &q, &has, err, errlen)) return -1;
    if (!has && quantity_at(lim, "cpu", &q, &has, err, errlen)) return -1;
    if (has) cpu_req = api_quantity_milli(&q);
    /* MilliCPUToShares: 1 CPU = 1024 shares, at least 2, at most 262144. */
    uint64_t shares = cpu_req > 0 ? (uint64_t)cpu_req * 1024u / 1000u : 2;
    if (shares < 2) shares = 2;
    if (shares > 262144) shares = 262144;
    out->cpu_shares = shares;
    if (quantity_at(lim, "cpu", &q, &has, err, errlen)) return -1;
    if (has && api_quantity_milli(&q) > 0) {
        /* MilliCPUToQuota: never below the kernel's 1 ms minimum. */
        int64_t quota = api_quantity_milli(&q) * (int64_t)out->cpu_period_us / 1000;
        out->cpu_quota_us = quota < 1000 ? 1000 : quota;
    }
    if (quantity_at(lim, "memory", &q, &has, err, errlen)) return -1;
    if (has) out->memory_bytes = api_quantity_value(&q);
    if (quantity_at(req, "memory", &q, &has, err, errlen)) return -1;
    if (has)
        out->memory_request = api_quantity_value(&q);
    else
        out->memory_request = out->memory_bytes;
    return 0;
}

/* The pod's QoS class, as the API server computes status.qosClass. */
static const char *qos_class(const cJSON *pod)
{
    bool any = false, guaranteed = true;
    const char *lists[] = {"containers", "initContainers", NULL};
    for (int l = 0; lists[l]; l++) {
        const cJSON *c;
        cJSON_ArrayForEach(c, jget(jget(pod, "spec"), lists[l]))
        {
            const cJSON *res = jget(c, "resources");
            const cJSON *lim = jget(res, "limits"), *req = jget(res, "requests");
            const char *names[] = {"cpu", "memory"};
            for (int i = 0; i < 2; i++) {
                const cJSON *lv = jget(lim, names[i]), *rv = jget(req, names[i]);
                if (lv || rv) any = true;
                if (!lv) {
                    guaranteed = false;
                    continue;
                }
                api_quantity_t a, b;
                char e[64];
                if (rv && api_quantity_from_json(lv, &a, e, sizeof e) == 0 &&
                    api_quantity_from_json(rv, &b, e, sizeof e) == 0 && api_quantity_cmp(&a, &b))
                    guaranteed = false;
            }
        }
    }
    if (!any) return "BestEffort";
    return guaranteed ? "Guaranteed" : "Burstable";
}

/* ------------------------------------------------------------------- user */

/* Looks a user or group name up in the container's /etc/passwd or
 * /etc/group; -1 when absent. */
static long lookup_id(const char *rootfs, const char *file, const char *name, long *gid)
{
    char p[AGENT_PATH_MAX];
    snprintf(p, sizeof p, "%s/etc/%s", rootfs ? rootfs : "", file);
    char *t = rootfs ? file_read_all(p, NULL) : NULL;
    long id = -1;
    size_t nl = strlen(name);
    for (char *line = t; line && *line && id < 0;) {
        char *end = strchr(line, '\n');
        if (end) *end = 0;
        if (!strncmp(line, name, nl) && line[nl] == ':') {
            char *f = strchr(line + nl + 1, ':'); /* skip the password field */
            if (f) {
                id = strtol(f + 1, &f, 10);
                if (gid && f && *f == ':') *gid = strtol(f + 1, NULL, 10);
            }
        }
        line = end ? end + 1 : NULL;
    }
    free(t);
    return id;
}

static int numeric(const char *s, long *out)
{
    char *end;
    if (!*s) return -1;
    long v = strtol(s, &end, 10);
    if (*end) return -1;
    *out = v;
    return 0;
}

static int build_user(const struct spec_in *in, cJSON *process, char *reason, size_t rlen,
                      char *err, size_t errlen)
{
    const cJSON *psc = jget(jget(in->pod, "spec"), "securityContext");
    const cJSON *csc = jget(in->container, "securityContext");
    const cJSON *ru = jget(csc, "runAsUser");
    if (!ru) ru = jget(psc, "runAsUser");
    const cJSON *rg = jget(csc, "runAsGroup");
    if (!rg) rg = jget(psc, "runAsGroup");
    long uid = 0, gid = 0;
    const char *iu = jstr(in->image_cfg, "User", "");
    if (*iu) {
        char u[256], g[256] = "";
        snprintf(u, sizeof u, "%s", iu);
        char *colon = strchr(u, ':');
        if (colon) {
            snprintf(g, sizeof g, "%s", colon + 1);
            *colon = 0;
        }
        long pgid = 0;
        if (numeric(u, &uid) != 0) {
            uid = lookup_id(in->rootfs, "passwd", u, &pgid);
            if (uid < 0 && !ru) {
                fail(reason, rlen, REASON_CREATE_ERROR, err, errlen,
                     "unable to find user %s: no matching entries in passwd file%s", u, "");
                return -1;
            }
            gid = pgid;
        }
        if (g[0] && numeric(g, &gid) != 0) {
            gid = lookup_id(in->rootfs, "group", g, NULL);
            if (gid < 0 && !rg) {
                fail(reason, rlen, REASON_CREATE_ERROR, err, errlen,
                     "unable to find group %s: no matching entries in group file%s", g, "");
                return -1;
            }
        }
    }
    if (cJSON_IsNumber(ru)) uid = (long)ru->valuedouble;
    if (cJSON_IsNumber(rg)) gid = (long)rg->valuedouble;
    if (jbool(csc, "runAsNonRoot", jbool(psc, "runAsNonRoot", false)) && uid == 0) {
        fail(reason, rlen, REASON_CONFIG_ERROR, err, errlen,
             "container has runAsNonRoot and image will run as root%s%s", "", "");
        return -1;
    }
    cJSON *user = cJSON_AddObjectToObject(process, "user");
    cJSON_AddNumberToObject(user, "uid", (double)(uid < 0 ? 0 : uid));
    cJSON_AddNumberToObject(user, "gid", (double)(gid < 0 ? 0 : gid));
    cJSON *extra = cJSON_CreateArray();
    const cJSON *g;
    cJSON_ArrayForEach(g, jget(psc, "supplementalGroups")) if (cJSON_IsNumber(g))
        cJSON_AddItemToArray(extra, cJSON_CreateNumber(g->valuedouble));
    if (cJSON_IsNumber(jget(psc, "fsGroup")))
        cJSON_AddItemToArray(extra, cJSON_CreateNumber(jget(psc, "fsGroup")->valuedouble));
    if (cJSON_GetArraySize(extra))
        cJSON_AddItemToObject(user, "additionalGids", extra);
    else
        cJSON_Delete(extra);
    return 0;
}

static cJSON *cap_list(const cJSON *csc, bool privileged)
{
    cJSON *caps = cJSON_CreateArray();
    if (privileged) {
        for (int i = 0; all_caps[i]; i++)
            cJSON_AddItemToArray(caps, cJSON_CreateString(all_caps[i]));
        return caps;
    }
    const cJSON *add = jget(jget(csc, "capabilities"), "add");
    const cJSON *drop = jget(jget(csc, "capabilities"), "drop");
    bool drop_all = false;
    const cJSON *d;
    cJSON_ArrayForEach(d, drop) if (cJSON_IsString(d) && !strcasecmp(d->valuestring, "ALL"))
        drop_all = true;
    const char *const *base = default_caps;
    for (int i = 0; !drop_all && base[i]; i++) {
        bool dropped = false;
        cJSON_ArrayForEach(d, drop) if (cJSON_IsString(d) &&
                                        (!strcasecmp(d->valuestring, base[i]) ||
                                         !strcasecmp(d->valuestring, base[i] + 4))) dropped = true;
        if (!dropped) cJSON_AddItemToArray(caps, cJSON_CreateString(base[i]));
    }
    const cJSON *a;
    cJSON_ArrayForEach(a, add)
    {
        if (!cJSON_IsString(a)) continue;
        char name[64];
        snprintf(name, sizeof name, "%s%s", strncasecmp(a->valuestring, "CAP_", 4) ? "CAP_" : "",
                 a->valuestring);
        for (char *c = name; *c; c++)
            if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 32);
        if (!strcmp(name, "CAP_ALL")) {
            cJSON_Delete(caps);
            return cap_list(NULL, true);
        }
        bool have = false;
        const cJSON *x;
        cJSON_ArrayForEach(x, caps) if (!strcmp(x->valuestring, name)) have = true;
        if (!have) cJSON_AddItemToArray(caps, cJSON_CreateString(name));
    }
    return caps;
}

/* ----------------------------------------------------------------- mounts */

static void add_mount(cJSON *mounts, const char *dest, const char *type, const char *source,
                      const char *const *opts)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "destination", dest);
    cJSON_AddStringToObject(m, "type", type);
    cJSON_AddStringToObject(m, "source", source);
    cJSON *o = cJSON_AddArrayToObject(m, "options");
    for (int i = 0; opts[i]; i++)
        cJSON_AddItemToArray(o, cJSON_CreateString(opts[i]));
    cJSON_AddItemToArray(mounts, m);
}

static void bind_mount(cJSON *mounts, const char *dest, const char *source, bool ro)
{
    const char *o[] = {"rbind", "rprivate", ro ? "ro" : "rw", NULL};
    add_mount(mounts, dest, "bind", source, o);
}

static int volume_mounts(const struct spec_in *in, cJSON *mounts, char *reason, size_t rlen,
                         char *err, size_t errlen)
{
    const cJSON *vm;
    const cJSON *vols = jget(jget(in->pod, "spec"), "volumes");
    cJSON_ArrayForEach(vm, jget(in->container, "volumeMounts"))
    {
        const char *name = jstr(vm, "name", ""), *path = jstr(vm, "mountPath", "");
        const cJSON *v = NULL, *x;
        cJSON_ArrayForEach(x, vols) if (!strcmp(jstr(x, "name", ""), name)) v = x;
        if (!v) {
            fail(reason, rlen, REASON_CONFIG_ERROR, err, errlen,
                 "volume \"%s\" mounted at %s is not among the pod's volumes", name, path);
            return -1;
        }
        char src[AGENT_PATH_MAX * 2];
        if (jget(v, "hostPath"))
            snprintf(src, sizeof src, "%s", jstr(jget(v, "hostPath"), "path", "/"));
        else if (jget(v, "emptyDir") || jget(v, "configMap") || jget(v, "secret") ||
                 jget(v, "downwardAPI") || jget(v, "projected"))
            snprintf(src, sizeof src, "%s/%s", in->volumes_dir, name);
        else {
            fail(reason, rlen, REASON_CONFIG_ERROR, err, errlen,
                 "volume \"%s\": this volume type is not supported by picokube%s", name, "");
            return -1;
        }
        const char *sub = jstr(vm, "subPath", "");
        if (*sub) {
            char clean[AGENT_PATH_MAX];
            if (layer_clean_path(sub, clean, sizeof clean) != 0 || sub[0] == '/') {
                fail(reason, rlen, REASON_CONFIG_ERROR, err, errlen,
                     "subPath \"%s\" of volume \"%s\" must be a relative path inside it", sub,
                     name);
                return -1;
            }
            size_t l = strlen(src);
            snprintf(src + l, sizeof src - l, "/%s", clean);
        }
        bool ro = jbool(vm, "readOnly", false) || jget(v, "configMap") || jget(v, "secret") ||
                  jget(v, "downwardAPI") || jget(v, "projected");
        bind_mount(mounts, path, src, ro);
    }
    return 0;
}

static cJSON *base_mounts(const struct spec_in *in)
{
    cJSON *m = cJSON_CreateArray();
    const char *proc[] = {"nosuid", "noexec", "nodev", NULL};
    const char *dev[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
    const char *pts[] = {"nosuid",    "noexec", "newinstance", "ptmxmode=0666",
                         "mode=0620", "gid=5",  NULL};
    const char *shm[] = {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL};
    const char *mq[] = {"nosuid", "noexec", "nodev", NULL};
    const char *sys[] = {"nosuid", "noexec", "nodev", "ro", NULL};
    const char *cg[] = {"nosuid", "noexec", "nodev", "relatime", "ro", NULL};
    add_mount(m, "/proc", "proc", "proc", proc);
    add_mount(m, "/dev", "tmpfs", "tmpfs", dev);
    add_mount(m, "/dev/pts", "devpts", "devpts", pts);
    add_mount(m, "/dev/shm", "tmpfs", "shm", shm);
    add_mount(m, "/dev/mqueue", "mqueue", "mqueue", mq);
    add_mount(m, "/sys", "sysfs", "sysfs", sys);
    add_mount(m, "/sys/fs/cgroup", "cgroup", "cgroup", cg);
    if (in->hosts_path) bind_mount(m, "/etc/hosts", in->hosts_path, false);
    if (in->hostname_path) bind_mount(m, "/etc/hostname", in->hostname_path, false);
    if (in->resolv_path) bind_mount(m, "/etc/resolv.conf", in->resolv_path, false);
    if (in->termlog_path) {
        const char *tp = jstr(in->container, "terminationMessagePath", "/dev/termination-log");
        bind_mount(m, tp, in->termlog_path, false);
    }
    return m;
}

/* ------------------------------------------------------------------ linux */

static cJSON *build_linux(const struct spec_in *in, const struct cg_limits *lim, bool privileged)
{
    const cJSON *spec = jget(in->pod, "spec");
    cJSON *lx = cJSON_CreateObject();
    cJSON *ns = cJSON_AddArrayToObject(lx, "namespaces");
    struct {
        const char *type;
        bool host;
    } spaces[] = {{"pid", jbool(spec, "hostPID", false)},
                  {"ipc", jbool(spec, "hostIPC", false)},
                  {"uts", jbool(spec, "hostNetwork", false)},
                  {"mount", false},
                  {"network", jbool(spec, "hostNetwork", false)}};
    for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++) {
        if (spaces[i].host) continue;
        cJSON *n = cJSON_CreateObject();
        cJSON_AddStringToObject(n, "type", spaces[i].type);
        if (!strcmp(spaces[i].type, "network") && in->netns_path)
            cJSON_AddStringToObject(n, "path", in->netns_path);
        cJSON_AddItemToArray(ns, n);
    }
    if (in->cgroups_path) cJSON_AddStringToObject(lx, "cgroupsPath", in->cgroups_path);
    cJSON *res = cJSON_AddObjectToObject(lx, "resources");
    cJSON *devs = cJSON_AddArrayToObject(res, "devices");
    cJSON *d = cJSON_CreateObject();
    cJSON_AddBoolToObject(d, "allow", privileged);
    cJSON_AddStringToObject(d, "access", "rwm");
    cJSON_AddItemToArray(devs, d);
    if (lim->memory_bytes > 0 && in->memory_cgroup) {
        cJSON *mem = cJSON_AddObjectToObject(res, "memory");
        cJSON_AddNumberToObject(mem, "limit", (double)lim->memory_bytes);
        /* No swap beyond the limit, as the kubelet sets it: a memory hog
         * is OOMKilled instead of thrashing the SD card. */
        if (in->swap_limit) cJSON_AddNumberToObject(mem, "swap", (double)lim->memory_bytes);
    }
    cJSON *cpu = cJSON_AddObjectToObject(res, "cpu");
    cJSON_AddNumberToObject(cpu, "shares", (double)lim->cpu_shares);
    if (lim->cpu_quota_us > 0) {
        cJSON_AddNumberToObject(cpu, "quota", (double)lim->cpu_quota_us);
        cJSON_AddNumberToObject(cpu, "period", (double)lim->cpu_period_us);
    }
    if (!privileged) {
        static const char *const masked[] = {"/proc/acpi",
                                             "/proc/asound",
                                             "/proc/kcore",
                                             "/proc/keys",
                                             "/proc/latency_stats",
                                             "/proc/timer_list",
                                             "/proc/timer_stats",
                                             "/proc/sched_debug",
                                             "/proc/scsi",
                                             "/sys/firmware",
                                             NULL};
        static const char *const ro[] = {
            "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};
        cJSON *mp = cJSON_AddArrayToObject(lx, "maskedPaths");
        for (int i = 0; masked[i]; i++)
            cJSON_AddItemToArray(mp, cJSON_CreateString(masked[i]));
        cJSON *rp = cJSON_AddArrayToObject(lx, "readonlyPaths");
        for (int i = 0; ro[i]; i++)
            cJSON_AddItemToArray(rp, cJSON_CreateString(ro[i]));
    }
    return lx;
}

static int oom_score_adj(const struct spec_in *in, const struct cg_limits *lim)
{
    const char *qos = qos_class(in->pod);
    if (!strcmp(qos, "Guaranteed")) return -997;
    if (!strcmp(qos, "BestEffort")) return 1000;
    if (!in->node_memory) return 999;
    int64_t adj = 1000 - (1000 * lim->memory_request) / (int64_t)in->node_memory;
    if (adj < 2) adj = 2;
    if (adj > 999) adj = 999;
    return (int)adj;
}

cJSON *spec_build(const struct spec_in *in, char *reason, size_t rlen, char *err, size_t errlen)
{
    const cJSON *c = in->container, *spec = jget(in->pod, "spec"), *md = jget(in->pod, "metadata");
    const cJSON *csc = jget(c, "securityContext");
    bool privileged = jbool(csc, "privileged", false);
    struct cg_limits lim;
    char e[256];
    if (spec_resources(jget(c, "resources"), &lim, e, sizeof e) != 0) {
        fail(reason, rlen, REASON_CREATE_ERROR, err, errlen, "%s%s", e, "");
        return NULL;
    }
    cJSON *env = spec_env(in, reason, rlen, err, errlen);
    if (!env) return NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "ociVersion", "1.0.2");
    cJSON *process = cJSON_AddObjectToObject(root, "process");
    cJSON_AddBoolToObject(process, "terminal", false);
    if (build_user(in, process, reason, rlen, err, errlen) != 0) goto bad;
    cJSON *args = spec_args(c, in->image_cfg, env);
    if (cJSON_GetArraySize(args) == 0) {
        cJSON_Delete(args);
        fail(reason, rlen, REASON_CREATE_ERROR, err, errlen,
             "no command specified: the image has no entrypoint or cmd and the container no "
             "command%s%s",
             "", "");
        goto bad;
    }
    cJSON_AddItemToObject(process, "args", args);
    cJSON *envl = cJSON_AddArrayToObject(process, "env");
    const cJSON *kv;
    cJSON_ArrayForEach(kv, env)
    {
        size_t l = strlen(kv->string) + strlen(kv->valuestring) + 2;
        char *s = malloc(l);
        if (!s) goto bad;
        snprintf(s, l, "%s=%s", kv->string, kv->valuestring);
        cJSON_AddItemToArray(envl, cJSON_CreateString(s));
        free(s);
    }
    const char *cwd = jstr(c, "workingDir", "");
    if (!*cwd) cwd = jstr(in->image_cfg, "WorkingDir", "");
    cJSON_AddStringToObject(process, "cwd", *cwd ? cwd : "/");
    cJSON *caps = cJSON_AddObjectToObject(process, "capabilities");
    const char *sets[] = {"bounding", "effective", "permitted", NULL};
    for (int i = 0; sets[i]; i++)
        cJSON_AddItemToObject(caps, sets[i], cap_list(csc, privileged));
    /* No rlimits: containers inherit the node's, as with containerd. */
    const cJSON *ape = jget(csc, "allowPrivilegeEscalation");
    cJSON_AddBoolToObject(process, "noNewPrivileges", cJSON_IsFalse(ape) && !privileged);
    cJSON_AddNumberToObject(process, "oomScoreAdj", oom_score_adj(in, &lim));
    cJSON *root_fs = cJSON_AddObjectToObject(root, "root");
    cJSON_AddStringToObject(root_fs, "path", "rootfs");
    cJSON_AddBoolToObject(root_fs, "readonly", jbool(csc, "readOnlyRootFilesystem", false));
    /* Kubernetes: the hostname is spec.hostname, else the pod's name. */
    char host[64];
    snprintf(host, sizeof host, "%.63s", jstr(spec, "hostname", jstr(md, "name", "")));
    if (!jbool(spec, "hostNetwork", false)) cJSON_AddStringToObject(root, "hostname", host);
    cJSON *mounts = base_mounts(in);
    cJSON_AddItemToObject(root, "mounts", mounts);
    if (volume_mounts(in, mounts, reason, rlen, err, errlen) != 0) goto bad;
    cJSON_AddItemToObject(root, "linux", build_linux(in, &lim, privileged));
    cJSON_Delete(env);
    return root;
bad:
    cJSON_Delete(env);
    cJSON_Delete(root);
    return NULL;
}
