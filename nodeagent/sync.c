/*
 * sync.c - one pass of a pod's worker: bring what runs on the node closer
 * to what the pod asks for. Runs on a pool thread (it blocks on runc,
 * mounts and probes) and owns the pod's runtime record while it runs.
 *
 * A pass reads which containers exited (the shims' exit.json), then
 *   - for a pod being deleted: stop signal, then SIGKILL at the end of the
 *     grace period, then remove everything the pod had on the node;
 *   - otherwise: network, volumes, init containers one by one, then the
 *     containers: start them, restart them per restartPolicy with the
 *     crash back-off, run their probes, kill what failed liveness.
 * It returns when it wants to run again (a back-off ending, a probe due,
 * a grace period over); the pod manager also runs it at once when a
 * container exits or the pod changes.
 */
#include "nodeagent/agent_int.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RETRY_MS 2000u
#define MIN_GRACE_S 2 /* the kubelet's minimum for a kill */

static void at_most(uint64_t *next, uint64_t t)
{
    if (t && (!*next || t < *next)) *next = t;
}

static const cJSON *cspec_of(const cJSON *pod, const struct ctr_rt *c)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, jget(jget(pod, "spec"), c->init ? "initContainers" : "containers"))
    {
        if (!strcmp(jstr(x, "name", ""), c->name)) return x;
    }
    return NULL;
}

static uint32_t spec_hash(const cJSON *cspec)
{
    char *s = cJSON_PrintUnformatted(cspec);
    uint32_t h = s ? hash32(s, strlen(s)) : 0;
    free(s);
    return h;
}

static void set_wait(struct ctr_rt *c, const char *reason, const char *msg)
{
    snprintf(c->wait_reason, sizeof c->wait_reason, "%s", reason ? reason : "");
    snprintf(c->wait_message, sizeof c->wait_message, "%.511s", msg ? msg : "");
}

static void cgroup_path(const struct node_ctx *nc, const struct pod_rt *rt, const char *name,
                        char *buf, size_t len)
{
    snprintf(buf, len, "%s/pod%s%s%s", nc->cgroup_parent, rt->uid, name ? "/" : "",
             name ? name : "");
}

/* The pod-level cgroup folders runc leaves behind, in every hierarchy. */
static void remove_pod_cgroups(const struct node_ctx *nc, const struct pod_rt *rt)
{
    char rel[256];
    cgroup_path(nc, rt, NULL, rel, sizeof rel);
    DIR *d = opendir("/sys/fs/cgroup");
    if (!d) return;
    struct dirent *e;
    char p[AGENT_PATH_MAX];
    snprintf(p, sizeof p, "/sys/fs/cgroup%s", rel);
    rmdir(p); /* cgroup v2 */
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "/sys/fs/cgroup/%s%s", e->d_name, rel);
        rmdir(p);
    }
    closedir(d);
}

/* ------------------------------------------------------- exits and kills */

static void note_exits(struct node_ctx *nc, struct pod_rt *rt, uint64_t now)
{
    uint64_t wall = time_wall_ms();
    for (size_t i = 0; i < rt->n; i++) {
        struct ctr_rt *c = &rt->c[i];
        if (c->state != CS_RUNNING) continue;
        char dir[AGENT_PATH_MAX];
        ctr_dir(nc, rt->uid, c->name, c->attempt, dir, sizeof dir);
        struct ctr_term t = {0};
        int r = rt_read_exit(dir, &t);
        if (r == 0 && rt_shim_alive(c->shim_pid, c->id)) continue;
        if (r <= 0) {
            /* The shim is gone without a word (killed, or the node rebooted):
             * the container cannot be accounted for. */
            if (rt_pid_alive(c->pid)) rt_kill(&nc->rc, c->id, SIGKILL, true);
            memset(&t, 0, sizeof t);
            t.exit_code = 137;
            snprintf(t.reason, sizeof t.reason, "ContainerStatusUnknown");
            snprintf(t.message, sizeof t.message,
                     "The container could not be located when the pod was terminated");
            t.finished_ms = wall;
        }
        t.started_ms = c->started_ms;
        snprintf(t.id, sizeof t.id, "%s", c->id);
        c->term = t;
        c->state = CS_EXITED;
        c->finished_mono = wall > t.finished_ms ? now - (wall - t.finished_ms) : now;
        if (c->finished_mono > now) c->finished_mono = now;
        c->kill_sent_mono = c->kill_deadline_mono = 0;
        c->kill_sigkill = false;
        rt->dirty = true;
        log_info(COMP, "pod %s/%s: container %s exited with %d (%s)", rt->ns, rt->name, c->name,
                 t.exit_code, t.reason);
    }
}

static int stop_signal(const struct node_ctx *nc, const struct ctr_rt *c)
{
    img_t *im = NULL;
    int sig = SIGTERM;
    if (img_lookup(nc->images, c->image, &im) == 0) {
        int s = rt_signal_number(jstr(im->config, "StopSignal", ""));
        if (s > 0) sig = s;
    }
    img_free(im);
    return sig;
}

/* Starts stopping a running container; SIGKILL once the grace is over. */
static void kill_step(struct node_ctx *nc, struct ctr_rt *c, long grace_s, uint64_t now,
                      uint64_t *next)
{
    if (c->state != CS_RUNNING) return;
    if (!c->kill_sent_mono) {
        if (grace_s < MIN_GRACE_S) grace_s = MIN_GRACE_S;
        c->kill_sent_mono = now;
        c->kill_deadline_mono = now + (uint64_t)grace_s * 1000u;
        rt_kill(&nc->rc, c->id, stop_signal(nc, c), false);
    } else if (now >= c->kill_deadline_mono && !c->kill_sigkill) {
        c->kill_sigkill = true;
        rt_kill(&nc->rc, c->id, SIGKILL, true);
    }
    at_most(next, c->kill_sigkill ? now + 1000 : c->kill_deadline_mono);
}

/* Removes what an exited instance left: runc state, overlay, bundle. */
static void remove_instance(struct node_ctx *nc, struct pod_rt *rt, struct ctr_rt *c, int attempt,
                            const char *id)
{
    char dir[AGENT_PATH_MAX];
    if (attempt < 0) return;
    if (id && *id) rt_delete(&nc->rc, id);
    ctr_dir(nc, rt->uid, c->name, attempt, dir, sizeof dir);
    rootfs_unmount(dir);
    if (fs_rm_rf(dir) != 0) log_warn(COMP, "pod %s/%s: cannot remove %s", rt->ns, rt->name, dir);
}

static void cleanup_pod(struct node_ctx *nc, struct pod_rt *rt)
{
    char dir[AGENT_PATH_MAX], cidr[64];
    for (size_t i = 0; i < rt->n; i++) {
        struct ctr_rt *c = &rt->c[i];
        remove_instance(nc, rt, c, c->attempt, c->id);
    }
    remove_pod_cgroups(nc, rt);
    pod_dir(nc, rt->uid, dir, sizeof dir);
    volumes_teardown(dir);
    node_ctx_pod_cidr(nc, cidr, sizeof cidr);
    struct net_cfg ncfg = {cidr, nc->cluster_dns, nc->cluster_domain, nc->ipam};
    podnet_teardown(&ncfg, rt->uid);
    if (fs_rm_rf(dir) != 0) log_warn(COMP, "pod %s/%s: cannot remove %s", rt->ns, rt->name, dir);
    pod_log_dir(nc, rt->ns, rt->name, rt->uid, dir, sizeof dir);
    fs_rm_rf(dir);
    rt->removed = true;
    log_info(COMP, "pod %s/%s: removed from the node", rt->ns, rt->name);
}

static uint64_t terminate(struct node_ctx *nc, struct pod_rt *rt, const cJSON *pod, bool gone,
                          uint64_t now)
{
    const cJSON *md = jget(pod, "metadata"), *spec = jget(pod, "spec");
    long grace = (long)jnum(spec, "terminationGracePeriodSeconds", 30);
    const cJSON *dg = jget(md, "deletionGracePeriodSeconds");
    if (cJSON_IsNumber(dg)) grace = (long)dg->valuedouble;
    (void)gone;
    if (!rt->term_started_mono) {
        rt->term_started_mono = now;
        log_info(COMP, "pod %s/%s: stopping (grace %lds)", rt->ns, rt->name, grace);
    }
    uint64_t next = 0;
    bool running = false;
    for (size_t i = 0; i < rt->n; i++) {
        struct ctr_rt *c = &rt->c[i];
        if (c->state != CS_RUNNING) continue;
        running = true;
        kill_step(nc, c, grace, now, &next);
    }
    if (running) return next;
    cleanup_pod(nc, rt);
    return 0;
}

/* ------------------------------------------------------------- starting */

static const char *pull_policy(const cJSON *cspec)
{
    const char *p = jstr(cspec, "imagePullPolicy", NULL);
    if (p) return p;
    const char *image = jstr(cspec, "image", "");
    const char *slash = strrchr(image, '/');
    const char *colon = strrchr(slash ? slash : image, ':');
    return (!colon || !strcmp(colon, ":latest")) && !strchr(image, '@') ? "Always" : "IfNotPresent";
}

/* The image of a container, pulled through the seam when allowed. */
static img_t *get_image(struct node_ctx *nc, struct pod_rt *rt, struct ctr_rt *c,
                        const cJSON *cspec, uint64_t now, uint64_t *next)
{
    const char *image = jstr(cspec, "image", "");
    const char *policy = pull_policy(cspec);
    img_t *im = NULL;
    char msg[600];
    int rv = img_lookup(nc->images, image, &im);
    if (rv == -EINVAL) {
        snprintf(msg, sizeof msg,
                 "Failed to apply default image tag \"%s\": couldn't parse "
                 "image name \"%s\": invalid reference format",
                 image, image);
        set_wait(c, "InvalidImageName", msg);
        return NULL;
    }
    bool want_pull = nc->pull && (rv != 0 || !strcmp(policy, "Always"));
    if (rv == 0 && !want_pull) return im;
    if (rv != 0 && !strcmp(policy, "Never")) {
        snprintf(msg, sizeof msg, "Container image \"%s\" is not present with pull policy of Never",
                 image);
        set_wait(c, "ErrImageNeverPull", msg);
        at_most(next, now + 5000); /* an import makes it appear */
        return NULL;
    }
    uint64_t wait;
    if (c->pull_failed_mono &&
        !backoff_allows(&c->pull_backoff, c->pull_failed_mono, now, nc->backoff_max_ms, &wait)) {
        snprintf(msg, sizeof msg, "Back-off pulling image \"%s\"", image);
        set_wait(c, "ImagePullBackOff", msg);
        at_most(next, now + wait);
        return NULL;
    }
    char err[500] = "";
    if (want_pull) {
        char norm[600];
        img_normalize(image, norm, sizeof norm);
        img_free(im);
        im = NULL;
        if (nc->pull(nc->data_dir, norm, nc->pull_arg, err, sizeof err) == 0 &&
            img_lookup(nc->images, image, &im) == 0) {
            c->pull_failed_mono = 0;
            memset(&c->pull_backoff, 0, sizeof c->pull_backoff);
            return im;
        }
    } else {
        snprintf(err, sizeof err,
                 "image is not in this node's image store and registry pulls are not available: "
                 "import it with `picokube images import FILE`");
    }
    snprintf(msg, sizeof msg, "Failed to pull image \"%s\": %s", image, err);
    set_wait(c, "ErrImagePull", msg);
    backoff_next(&c->pull_backoff, now, now, nc->backoff_initial_ms, nc->backoff_max_ms);
    c->pull_failed_mono = now;
    at_most(next, now + c->pull_backoff.delay_ms);
    log_warn(COMP, "pod %s/%s: %s", rt->ns, rt->name, msg);
    return NULL;
}

static void start_instance(struct node_ctx *nc, struct pod_rt *rt, const cJSON *pod,
                           struct ctr_rt *c, const cJSON *cspec, uint64_t now, uint64_t *next)
{
    img_t *im = get_image(nc, rt, c, cspec, now, next);
    if (!im) return;
    int attempt = c->attempt + 1;
    char dir[AGENT_PATH_MAX], pdir[AGENT_PATH_MAX], id[160], reason[64] = "", err[600] = "";
    char p[AGENT_PATH_MAX + 64], logp[AGENT_PATH_MAX], cg[300];
    /* The instance before goes; its log stays for `kubectl logs --previous`,
     * the one before that goes. */
    if (c->attempt >= 0) {
        remove_instance(nc, rt, c, c->attempt, c->id);
        if (c->attempt >= 1) {
            ctr_log_path(nc, rt->ns, rt->name, rt->uid, c->name, c->attempt - 1, logp, sizeof logp);
            unlink(logp);
            snprintf(p, sizeof p, "%s.1", logp);
            unlink(p);
        }
    }
    ctr_dir(nc, rt->uid, c->name, attempt, dir, sizeof dir);
    rootfs_unmount(dir);
    fs_rm_rf(dir);
    pod_dir(nc, rt->uid, pdir, sizeof pdir);
    const char *const *layers = (const char *const *)im->layers;
    if (rootfs_mount(nc->images, layers, im->n_layers, dir, err, sizeof err) != 0) {
        set_wait(c, REASON_CREATE_ERROR, err);
        img_free(im);
        at_most(next, now + RETRY_MS * 5);
        return;
    }
    char rootfs[AGENT_PATH_MAX + 16], netns[200], hosts[AGENT_PATH_MAX + 16],
        resolv[AGENT_PATH_MAX + 16], hostname[AGENT_PATH_MAX + 16], termlog[AGENT_PATH_MAX + 32],
        vols[AGENT_PATH_MAX + 16];
    snprintf(rootfs, sizeof rootfs, "%s/rootfs", dir);
    podnet_netns_path(rt->uid, netns, sizeof netns);
    snprintf(hosts, sizeof hosts, "%s/hosts", pdir);
    snprintf(resolv, sizeof resolv, "%s/resolv.conf", pdir);
    snprintf(hostname, sizeof hostname, "%s/hostname", pdir);
    snprintf(termlog, sizeof termlog, "%s/termination-log", dir);
    snprintf(vols, sizeof vols, "%s/volumes", pdir);
    fs_write_file(termlog, "", 0, 0666);
    cgroup_path(nc, rt, c->name, cg, sizeof cg);
    bool hostnet = jbool(jget(pod, "spec"), "hostNetwork", false);
    struct spec_in in = {
        .pod = pod,
        .container = cspec,
        .image_cfg = im->config,
        .rootfs = rootfs,
        .netns_path = hostnet ? NULL : netns,
        .hosts_path = hosts,
        .resolv_path = resolv,
        .hostname_path = hostnet ? NULL : hostname,
        .termlog_path = termlog,
        .volumes_dir = vols,
        .cgroups_path = cg,
        .pod_ip = rt->ip,
        .host_ip = nc->node_ip,
        .node_name = nc->node_name,
        .memory_cgroup = nc->memory_cgroup,
        .node_memory = nc->memory_bytes,
        .fetch = nc->fetch,
        .fetch_arg = nc->fetch_arg,
    };
    cJSON *spec = spec_build(&in, reason, sizeof reason, err, sizeof err);
    snprintf(c->image_id, sizeof c->image_id, "%s", im->id);
    img_free(im);
    snprintf(p, sizeof p, "%s/config.json", dir);
    if (!spec || fs_write_json(p, spec, false) != 0) {
        cJSON_Delete(spec);
        set_wait(c, reason[0] ? reason : REASON_CREATE_ERROR,
                 err[0] ? err : "cannot write config.json");
        rootfs_unmount(dir);
        fs_rm_rf(dir);
        at_most(next, now + RETRY_MS * 5);
        log_warn(COMP, "pod %s/%s: container %s: %s", rt->ns, rt->name, c->name, err);
        return;
    }
    cJSON_Delete(spec);
    pod_log_dir(nc, rt->ns, rt->name, rt->uid, logp, sizeof logp);
    snprintf(p, sizeof p, "%s/%s", logp, c->name);
    file_mkdirs(p, 0750);
    ctr_log_path(nc, rt->ns, rt->name, rt->uid, c->name, attempt, logp, sizeof logp);
    ctr_runc_id(rt->uid, c->name, attempt, id, sizeof id);
    if (c->state == CS_EXITED) {
        c->last = c->term;
        c->has_last = true;
    }
    c->attempt = attempt;
    snprintf(c->id, sizeof c->id, "%s", id);
    c->spec_hash = spec_hash(cspec);
    memset(&c->live, 0, sizeof c->live);
    memset(&c->ready, 0, sizeof c->ready);
    memset(&c->startup, 0, sizeof c->startup);
    c->kill_sent_mono = c->kill_deadline_mono = 0;
    c->kill_sigkill = c->restart_after_kill = false;
    set_wait(c, NULL, NULL);
    rt->dirty = true;
    pid_t pid = 0, shim = 0;
    uint64_t started = 0;
    if (rt_start(&nc->rc, id, dir, dir, logp, cg, &pid, &shim, &started, err, sizeof err) != 0) {
        /* runc refused (bad command, bad mount ...): the instance ended
         * before it began, as containerd reports it. */
        memset(&c->term, 0, sizeof c->term);
        c->term.exit_code = 128;
        snprintf(c->term.reason, sizeof c->term.reason, "StartError");
        snprintf(c->term.message, sizeof c->term.message, "%s", err);
        c->term.started_ms = c->term.finished_ms = time_wall_ms();
        snprintf(c->term.id, sizeof c->term.id, "%s", id);
        c->state = CS_EXITED;
        c->finished_mono = now;
        c->started_ms = c->term.started_ms;
        log_warn(COMP, "pod %s/%s: container %s could not start: %s", rt->ns, rt->name, c->name,
                 err);
        at_most(next, now + 100);
        return;
    }
    c->state = CS_RUNNING;
    c->pid = pid;
    c->shim_pid = shim;
    c->started_ms = started;
    c->started_mono = now;
    log_info(COMP, "pod %s/%s: container %s started (restart %d, pid %d)", rt->ns, rt->name,
             c->name, attempt, (int)pid);
}

/* An exited container: run it again now, later (back-off) or never. */
static void maybe_restart(struct node_ctx *nc, struct pod_rt *rt, const cJSON *pod,
                          struct ctr_rt *c, const cJSON *cspec, uint64_t now, uint64_t *next)
{
    const char *policy = jstr(jget(pod, "spec"), "restartPolicy", "Always");
    /* Init containers that failed run again unless the policy is Never. */
    bool again = c->init                 ? c->term.exit_code != 0 && strcmp(policy, "Never") != 0
                 : c->restart_after_kill ? strcmp(policy, "Never") != 0
                                         : restart_wanted(policy, c->term.exit_code);
    if (!again) {
        if (c->wait_reason[0]) set_wait(c, NULL, NULL);
        return;
    }
    uint64_t wait;
    if (!backoff_allows(&c->backoff, c->finished_mono, now, nc->backoff_max_ms, &wait)) {
        char msg[512];
        snprintf(msg, sizeof msg, "back-off %llus restarting failed container=%s pod=%s_%s(%s)",
                 (unsigned long long)c->backoff.delay_ms / 1000, c->name, rt->name, rt->ns,
                 rt->uid);
        if (strcmp(c->wait_reason, "CrashLoopBackOff") != 0) rt->dirty = true;
        set_wait(c, "CrashLoopBackOff", msg);
        at_most(next, now + wait);
        return;
    }
    backoff_next(&c->backoff, c->finished_mono, now, nc->backoff_initial_ms, nc->backoff_max_ms);
    start_instance(nc, rt, pod, c, cspec, now, next);
}

static void run_container(struct node_ctx *nc, struct pod_rt *rt, const cJSON *pod,
                          struct ctr_rt *c, uint64_t now, uint64_t *next)
{
    const cJSON *cspec = cspec_of(pod, c);
    if (!cspec) return;
    long grace = (long)jnum(jget(pod, "spec"), "terminationGracePeriodSeconds", 30);
    switch (c->state) {
    case CS_NONE:
    case CS_WAITING:
        start_instance(nc, rt, pod, c, cspec, now, next);
        break;
    case CS_EXITED:
        maybe_restart(nc, rt, pod, c, cspec, now, next);
        break;
    case CS_RUNNING:
        if (c->kill_sent_mono) {
            kill_step(nc, c, grace, now, next);
            break;
        }
        if (c->spec_hash && c->spec_hash != spec_hash(cspec)) {
            log_info(COMP, "pod %s/%s: container %s changed, restarting it", rt->ns, rt->name,
                     c->name);
            c->restart_after_kill = true;
            kill_step(nc, c, grace, now, next);
            break;
        }
        if (!c->init) {
            bool kill = false, was_ready = probe_ready(c, cspec);
            char why[600] = "";
            at_most(next, probes_run(nc, rt, c, cspec, now, &kill, why, sizeof why));
            if (was_ready != probe_ready(c, cspec)) rt->dirty = true;
            if (kill) {
                log_info(COMP, "pod %s/%s: container %s: %s, restarting it", rt->ns, rt->name,
                         c->name, why);
                c->restart_after_kill = true;
                const cJSON *tg =
                    jget(jget(cspec, "livenessProbe"), "terminationGracePeriodSeconds");
                kill_step(nc, c, cJSON_IsNumber(tg) ? (long)tg->valuedouble : grace, now, next);
            }
        }
        break;
    }
}

/* ----------------------------------------------------------------- a pass */

static bool pod_prepared(struct node_ctx *nc, struct pod_rt *rt, const cJSON *pod, uint64_t now,
                         uint64_t *next)
{
    char pdir[AGENT_PATH_MAX], err[600] = "", cidr[64];
    pod_dir(nc, rt->uid, pdir, sizeof pdir);
    file_mkdirs(pdir, 0700);
    node_ctx_pod_cidr(nc, cidr, sizeof cidr);
    struct net_cfg ncfg = {cidr, nc->cluster_dns, nc->cluster_domain, nc->ipam};
    bool hostnet = jbool(jget(pod, "spec"), "hostNetwork", false);
    char nsp[200];
    podnet_netns_path(rt->uid, nsp, sizeof nsp);
    if (rt->net_ready && !hostnet && access(nsp, F_OK) != 0) {
        /* The namespace is gone (the node rebooted): make it again. */
        log_warn(COMP, "pod %s/%s: its network namespace is gone; making it again", rt->ns,
                 rt->name);
        rt->net_ready = false;
    }
    if (!rt->net_ready) {
        int rv;
        if (hostnet) {
            snprintf(rt->ip, sizeof rt->ip, "%s", nc->node_ip);
            rv = 0;
        } else {
            rv = podnet_setup(&ncfg, rt->uid, rt->ip, sizeof rt->ip, err, sizeof err);
        }
        if (rv == 0) rv = podnet_files(&ncfg, pod, rt->ip, pdir, err, sizeof err);
        if (rv != 0) {
            if (strcmp(rt->net_error, err) != 0)
                log_warn(COMP, "pod %s/%s: network: %s", rt->ns, rt->name, err);
            snprintf(rt->net_error, sizeof rt->net_error, "%s", err);
            at_most(next, now + RETRY_MS);
            return false;
        }
        rt->net_ready = true;
        rt->net_error[0] = 0;
        rt->dirty = true;
    }
    if (!rt->volumes_ready) {
        if (volumes_setup(pod, pdir, rt->ip, nc->node_name, nc->fetch, nc->fetch_arg, err,
                          sizeof err) != 0) {
            if (strcmp(rt->config_error, err) != 0) {
                log_warn(COMP, "pod %s/%s: %s", rt->ns, rt->name, err);
                rt->dirty = true;
            }
            snprintf(rt->config_error, sizeof rt->config_error, "%s", err);
            for (size_t i = 0; i < rt->n; i++)
                if (rt->c[i].state == CS_NONE) set_wait(&rt->c[i], REASON_CONFIG_ERROR, err);
            at_most(next, now + RETRY_MS * 5);
            return false;
        }
        rt->volumes_ready = true;
        rt->config_error[0] = 0;
    }
    return true;
}

uint64_t pod_sync(struct node_ctx *nc, struct pod_rt *rt, const cJSON *pod, bool gone, uint64_t now)
{
    if (rt->removed) return 0;
    note_exits(nc, rt, now);
    if (gone || api_meta_deletion_timestamp(pod)) return terminate(nc, rt, pod, gone, now);
    uint64_t next = 0;
    if (!rt->start_ms) {
        rt->start_ms = time_wall_ms();
        rt->dirty = true;
    }
    if (!pod_prepared(nc, rt, pod, now, &next)) return next;
    /* Init containers, in order: each must succeed before the next. */
    const char *policy = jstr(jget(pod, "spec"), "restartPolicy", "Always");
    for (size_t i = 0; i < rt->n; i++) {
        struct ctr_rt *c = &rt->c[i];
        if (!c->init) continue;
        if (c->state == CS_EXITED && c->term.exit_code == 0) continue;
        if (c->state == CS_EXITED && !strcmp(policy, "Never")) return next; /* pod failed */
        run_container(nc, rt, pod, c, now, &next);
        return next ? next : now + RETRY_MS;
    }
    for (size_t i = 0; i < rt->n; i++)
        if (!rt->c[i].init) run_container(nc, rt, pod, &rt->c[i], now, &next);
    return next;
}
