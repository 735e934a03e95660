/*
 * node.c - this node in the API: its Node object and its Lease.
 *
 *   - Registration: POST the Node with its capacity and allocatable (cpu,
 *     memory, pods=110, ephemeral-storage), addresses (InternalIP,
 *     Hostname), nodeInfo, labels (kubernetes.io/hostname, os, arch, and
 *     node-role.kubernetes.io/control-plane on servers) and, when given,
 *     the --pod-cidr. A Node that exists already (a restart) gets its
 *     labels and status patched instead. Failures are retried.
 *   - Heartbeat: the Lease in kube-node-lease, renewed every quarter of
 *     its duration, as the kubelet does, so the node controller sees the
 *     node alive with one small write (kept in the raft leader's memory).
 *   - Conditions Ready, MemoryPressure, DiskPressure, PIDPressure, checked
 *     every 10 s and written only when one changes (SD cards). A missing
 *     memory cgroup controller is reported in Ready's message and in the
 *     annotation picokube.io/cgroup-warning, with the fix.
 */
#include "nodeagent/agent_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#define CHECK_MS 10000u
#define RETRY_MS 2000u
#define MEM_EVICTION_BYTES (100ull << 20) /* the kubelet's memory.available<100Mi */
#define DISK_FREE_PERCENT 10              /* nodefs.available<10% */

#define CGROUP_WARNING                                                                             \
    "the cgroup memory controller is missing: memory limits are not enforced. Fix: add "           \
    "\"cgroup_memory=1 cgroup_enable=memory\" to the kernel command line (Raspberry Pi OS: "       \
    "/boot/firmware/cmdline.txt) and reboot"

struct nodereg {
    agent_t *a;
    struct node_ctx *nc;
    api_client_t *c;
    bool control_plane;
    unsigned lease_s;
    char uid[64];
    bool registered, registering;
    uv_timer_t reg_timer, lease_timer, check_timer;
    cJSON *lease; /* the Lease as last written */
    bool lease_busy;
    bool lease_read;   /* the server's copy was asked for */
    char conds[4][8];  /* last statuses sent: Ready, Memory, Disk, PID */
    cJSON *last_conds; /* for lastTransitionTime */
    bool conds_busy;
    bool stopping;
    int closing;
    void (*done)(void *);
    void *done_arg;
    char runtime[64];
};

static const char *const COND_TYPES[4] = {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"};

/* ---------------------------------------------------------------- facts */

static void runtime_version(char *buf, size_t len, const char *runc)
{
    const char *argv[] = {runc, "--version", NULL};
    char *out = NULL;
    int status = 0;
    snprintf(buf, len, "runc://unknown");
    if (ex_run(argv, NULL, 0, 5000, &out, NULL, &status) == 0 && status == 0 && out) {
        char v[32];
        if (sscanf(out, "runc version %31[^+ \n]", v) == 1) snprintf(buf, len, "runc://%s", v);
    }
    free(out);
}

static void read_id(const char *path, char *buf, size_t len)
{
    char *t = file_read_all(path, NULL);
    snprintf(buf, len, "%s", t ? t : "");
    buf[strcspn(buf, "\n")] = 0;
    free(t);
}

/* The four conditions now: status strings, reasons and messages. */
static void current_conditions(struct nodereg *r, const char *st[4], const char *reason[4],
                               char msg[4][600])
{
    struct node_ctx *nc = r->nc;
    char cidr[64];
    node_ctx_pod_cidr(nc, cidr, sizeof cidr);
    bool net = cidr[0] != 0;
    st[0] = net ? "True" : "False";
    reason[0] = net ? "KubeletReady" : "KubeletNotReady";
    if (net)
        snprintf(msg[0], 600, "kubelet is posting ready status%s%s",
                 nc->memory_cgroup ? "" : ". WARNING: ", nc->memory_cgroup ? "" : CGROUP_WARNING);
    else
        snprintf(msg[0], 600,
                 "container runtime network not ready: NetworkReady=false "
                 "reason:NetworkPluginNotReady message:no pod CIDR assigned to this "
                 "node yet");
    uint64_t avail = nodeinfo_memory_available();
    bool mem = avail && avail < MEM_EVICTION_BYTES;
    st[1] = mem ? "True" : "False";
    reason[1] = mem ? "KubeletHasInsufficientMemory" : "KubeletHasSufficientMemory";
    snprintf(msg[1], 600, "kubelet has %s memory available", mem ? "insufficient" : "sufficient");
    struct statvfs sv;
    bool disk = statvfs(nc->data_dir, &sv) == 0 && sv.f_blocks &&
                sv.f_bavail * 100 / sv.f_blocks < DISK_FREE_PERCENT;
    st[2] = disk ? "True" : "False";
    reason[2] = disk ? "KubeletHasDiskPressure" : "KubeletHasNoDiskPressure";
    snprintf(msg[2], 600, "kubelet has %s", disk ? "disk pressure" : "no disk pressure");
    char *la = file_read_all("/proc/loadavg", NULL),
         *pm = file_read_all("/proc/sys/kernel/pid_max", NULL);
    long running = 0, total = 0, max = pm ? strtol(pm, NULL, 10) : 0;
    if (la) sscanf(la, "%*s %*s %*s %ld/%ld", &running, &total);
    free(la);
    free(pm);
    bool pid = max > 0 && total * 100 / max > 90;
    st[3] = pid ? "True" : "False";
    reason[3] = pid ? "KubeletHasInsufficientPID" : "KubeletHasSufficientPID";
    snprintf(msg[3], 600, "kubelet has %s PID available", pid ? "insufficient" : "sufficient");
}

static cJSON *conditions_json(struct nodereg *r, bool *changed)
{
    const char *st[4], *reason[4];
    char msg[4][600];
    current_conditions(r, st, reason, msg);
    char now[40];
    time_format_rfc3339(time_wall_ms(), now, sizeof now);
    cJSON *arr = cJSON_CreateArray();
    *changed = false;
    for (int i = 0; i < 4; i++) {
        if (strcmp(r->conds[i], st[i]) != 0) *changed = true;
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "type", COND_TYPES[i]);
        cJSON_AddStringToObject(c, "status", st[i]);
        cJSON_AddStringToObject(c, "lastHeartbeatTime", now);
        const char *lt = NULL;
        const cJSON *o;
        cJSON_ArrayForEach(o, r->last_conds) if (!strcmp(jstr(o, "type", ""), COND_TYPES[i]) &&
                                                 !strcmp(jstr(o, "status", ""), st[i])) lt =
            jstr(o, "lastTransitionTime", NULL);
        cJSON_AddStringToObject(c, "lastTransitionTime", lt ? lt : now);
        cJSON_AddStringToObject(c, "reason", reason[i]);
        cJSON_AddStringToObject(c, "message", msg[i]);
        cJSON_AddItemToArray(arr, c);
    }
    return arr;
}

static void remember_conditions(struct nodereg *r, const cJSON *conds)
{
    cJSON_Delete(r->last_conds);
    r->last_conds = cJSON_Duplicate(conds, 1);
    for (int i = 0; i < 4; i++) {
        const cJSON *c = cJSON_GetArrayItem(conds, i);
        snprintf(r->conds[i], sizeof r->conds[i], "%s", jstr(c, "status", ""));
    }
}

static cJSON *node_status(struct nodereg *r, const cJSON *conds)
{
    struct node_ctx *nc = r->nc;
    cJSON *s = cJSON_CreateObject();
    char buf[128];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    struct statvfs sv;
    uint64_t disk = statvfs(nc->data_dir, &sv) == 0 ? (uint64_t)sv.f_blocks * sv.f_frsize : 0;
    const char *which[] = {"capacity", "allocatable"};
    for (int i = 0; i < 2; i++) {
        cJSON *m = cJSON_AddObjectToObject(s, which[i]);
        snprintf(buf, sizeof buf, "%ld", cpus > 0 ? cpus : 1);
        cJSON_AddStringToObject(m, "cpu", buf);
        snprintf(buf, sizeof buf, "%lluKi", (unsigned long long)(nc->memory_bytes / 1024));
        cJSON_AddStringToObject(m, "memory", buf);
        snprintf(buf, sizeof buf, "%d", AGENT_MAX_PODS);
        cJSON_AddStringToObject(m, "pods", buf);
        snprintf(buf, sizeof buf, "%lluKi", (unsigned long long)(disk / 1024));
        cJSON_AddStringToObject(m, "ephemeral-storage", buf);
    }
    cJSON *addrs = cJSON_AddArrayToObject(s, "addresses");
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "type", "InternalIP");
    cJSON_AddStringToObject(a, "address", nc->node_ip);
    cJSON_AddItemToArray(addrs, a);
    a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "type", "Hostname");
    cJSON_AddStringToObject(a, "address", nc->node_name);
    cJSON_AddItemToArray(addrs, a);
    struct utsname u;
    uname(&u);
    cJSON *ni = cJSON_AddObjectToObject(s, "nodeInfo");
    read_id("/etc/machine-id", buf, sizeof buf);
    cJSON_AddStringToObject(ni, "machineID", buf);
    cJSON_AddStringToObject(ni, "systemUUID", buf);
    read_id("/proc/sys/kernel/random/boot_id", buf, sizeof buf);
    cJSON_AddStringToObject(ni, "bootID", buf);
    cJSON_AddStringToObject(ni, "kernelVersion", u.release);
    nodeinfo_os_image(buf, sizeof buf);
    cJSON_AddStringToObject(ni, "osImage", buf);
    cJSON_AddStringToObject(ni, "containerRuntimeVersion", r->runtime);
    cJSON_AddStringToObject(ni, "kubeletVersion", PICOKUBE_VERSION);
    cJSON_AddStringToObject(ni, "kubeProxyVersion", PICOKUBE_VERSION);
    cJSON_AddStringToObject(ni, "operatingSystem", "linux");
    cJSON_AddStringToObject(ni, "architecture", node_goarch(u.machine));
    cJSON *de = cJSON_AddObjectToObject(s, "daemonEndpoints");
    cJSON *ke = cJSON_AddObjectToObject(de, "kubeletEndpoint");
    cJSON_AddNumberToObject(ke, "Port", agent_port(r->a) > 0 ? agent_port(r->a) : 10250);
    if (conds) cJSON_AddItemToObject(s, "conditions", cJSON_Duplicate(conds, 1));
    return s;
}

static cJSON *node_meta(struct nodereg *r)
{
    struct node_ctx *nc = r->nc;
    struct utsname u;
    uname(&u);
    cJSON *md = cJSON_CreateObject();
    cJSON_AddStringToObject(md, "name", nc->node_name);
    cJSON *l = cJSON_AddObjectToObject(md, "labels");
    cJSON_AddStringToObject(l, "kubernetes.io/hostname", nc->node_name);
    cJSON_AddStringToObject(l, "kubernetes.io/os", "linux");
    cJSON_AddStringToObject(l, "kubernetes.io/arch", node_goarch(u.machine));
    cJSON_AddStringToObject(l, "beta.kubernetes.io/os", "linux");
    cJSON_AddStringToObject(l, "beta.kubernetes.io/arch", node_goarch(u.machine));
    if (r->control_plane)
        cJSON_AddStringToObject(l, "node-role.kubernetes.io/control-plane", "true");
    cJSON *an = cJSON_AddObjectToObject(md, "annotations");
    if (!nc->memory_cgroup)
        cJSON_AddStringToObject(an, "picokube.io/cgroup-warning", CGROUP_WARNING);
    else
        cJSON_AddNullToObject(an, "picokube.io/cgroup-warning");
    return md;
}

/* ----------------------------------------------------------- registration */

static void register_node(struct nodereg *r);

static void register_tick(uv_timer_t *t)
{
    register_node(t->data);
}

static const api_ref_t NODES = {.resource = "nodes"};

static void status_patched(api_result_t *res, void *data)
{
    struct nodereg *r = data;
    r->conds_busy = false;
    if (!api_result_ok(res)) {
        log_warn(COMP, "cannot update node %s's status: %s", r->nc->node_name, res->message);
        memset(r->conds, 0, sizeof r->conds); /* sent again at the next check */
    }
}

static void patch_status(struct nodereg *r, bool full)
{
    if (r->conds_busy || r->stopping) return;
    bool changed;
    cJSON *conds = conditions_json(r, &changed);
    if (!changed && !full) {
        cJSON_Delete(conds);
        return;
    }
    cJSON *patch = cJSON_CreateObject();
    if (full) {
        cJSON_AddItemToObject(patch, "status", node_status(r, conds));
    } else {
        cJSON *s = cJSON_AddObjectToObject(patch, "status");
        cJSON_AddItemToObject(s, "conditions", cJSON_Duplicate(conds, 1));
    }
    api_ref_t ref = NODES;
    ref.name = r->nc->node_name;
    ref.subresource = "status";
    if (api_patch(r->c, &ref, API_PATCH_MERGE, patch, NULL, status_patched, r) == 0) {
        r->conds_busy = true;
        remember_conditions(r, conds);
        if (changed && !full)
            log_info(COMP, "node %s: conditions changed (Ready=%s)", r->nc->node_name, r->conds[0]);
    }
    cJSON_Delete(patch);
    cJSON_Delete(conds);
}

static void meta_patched(api_result_t *res, void *data)
{
    struct nodereg *r = data;
    if (!api_result_ok(res))
        log_warn(COMP, "cannot update node %s's labels: %s", r->nc->node_name, res->message);
}

static void got_node(api_result_t *res, void *data)
{
    struct nodereg *r = data;
    r->registering = false;
    if (r->stopping) return;
    if (!api_result_ok(res)) {
        log_warn(COMP, "cannot read node %s: %s; retrying", r->nc->node_name, res->message);
        uv_timer_start(&r->reg_timer, register_tick, RETRY_MS, 0);
        return;
    }
    snprintf(r->uid, sizeof r->uid, "%s", api_meta_uid(res->obj) ? api_meta_uid(res->obj) : "");
    /* Ours again (an agent restart): labels and status brought up to date,
     * and our --pod-cidr if the node has none yet. */
    cJSON *patch = cJSON_CreateObject();
    cJSON_AddItemToObject(patch, "metadata", node_meta(r));
    char cidr[64];
    node_ctx_pod_cidr(r->nc, cidr, sizeof cidr);
    const cJSON *spec = jget(res->obj, "spec");
    if (cidr[0] && !jstr(spec, "podCIDR", NULL)) {
        cJSON *s = cJSON_AddObjectToObject(patch, "spec");
        cJSON_AddStringToObject(s, "podCIDR", cidr);
        cJSON *l = cJSON_AddArrayToObject(s, "podCIDRs");
        cJSON_AddItemToArray(l, cJSON_CreateString(cidr));
    }
    api_ref_t ref = NODES;
    ref.name = r->nc->node_name;
    api_patch(r->c, &ref, API_PATCH_MERGE, patch, NULL, meta_patched, r);
    cJSON_Delete(patch);
    r->registered = true;
    memset(r->conds, 0, sizeof r->conds);
    patch_status(r, true);
    log_info(COMP, "node %s: registered again (it existed)", r->nc->node_name);
}

static void created(api_result_t *res, void *data)
{
    struct nodereg *r = data;
    if (r->stopping) return;
    if (res->status == 409) {
        api_ref_t ref = NODES;
        ref.name = r->nc->node_name;
        if (api_get(r->c, &ref, NULL, got_node, r) != 0) r->registering = false;
        return;
    }
    r->registering = false;
    if (!api_result_ok(res)) {
        log_warn(COMP, "cannot register node %s: %s; retrying", r->nc->node_name, res->message);
        uv_timer_start(&r->reg_timer, register_tick, RETRY_MS, 0);
        return;
    }
    snprintf(r->uid, sizeof r->uid, "%s", api_meta_uid(res->obj) ? api_meta_uid(res->obj) : "");
    r->registered = true;
    /* The status of a create may be dropped by the server (it is a
     * subresource): write it through nodes/status as well. */
    memset(r->conds, 0, sizeof r->conds);
    patch_status(r, true);
    log_info(COMP, "node %s: registered", r->nc->node_name);
}

static void register_node(struct nodereg *r)
{
    if (r->registering || r->stopping) return;
    cJSON *node = cJSON_CreateObject();
    cJSON_AddStringToObject(node, "apiVersion", "v1");
    cJSON_AddStringToObject(node, "kind", "Node");
    cJSON *md = node_meta(r);
    cJSON_DeleteItemFromObjectCaseSensitive(md, "annotations");
    if (!r->nc->memory_cgroup) {
        cJSON *an = cJSON_AddObjectToObject(md, "annotations");
        cJSON_AddStringToObject(an, "picokube.io/cgroup-warning", CGROUP_WARNING);
    }
    cJSON_AddItemToObject(node, "metadata", md);
    cJSON *spec = cJSON_AddObjectToObject(node, "spec");
    char cidr[64];
    node_ctx_pod_cidr(r->nc, cidr, sizeof cidr);
    if (cidr[0]) {
        cJSON_AddStringToObject(spec, "podCIDR", cidr);
        cJSON *l = cJSON_AddArrayToObject(spec, "podCIDRs");
        cJSON_AddItemToArray(l, cJSON_CreateString(cidr));
    }
    bool changed;
    cJSON *conds = conditions_json(r, &changed);
    cJSON_AddItemToObject(node, "status", node_status(r, conds));
    cJSON_Delete(conds);
    if (api_create(r->c, &NODES, node, NULL, created, r) == 0)
        r->registering = true;
    else
        uv_timer_start(&r->reg_timer, register_tick, RETRY_MS, 0);
    cJSON_Delete(node);
}

/* ------------------------------------------------------------------ lease */

static void renew_lease(struct nodereg *r);

static void lease_tick(uv_timer_t *t)
{
    renew_lease(t->data);
}

static const api_ref_t LEASES = {
    .group = "coordination.k8s.io", .resource = "leases", .ns = "kube-node-lease"};

static void lease_done(api_result_t *res, void *data)
{
    struct nodereg *r = data;
    r->lease_busy = false;
    if (r->stopping) return;
    if (api_result_ok(res) && res->obj) {
        cJSON_Delete(r->lease);
        r->lease = res->obj;
        res->obj = NULL;
        return;
    }
    if (res->status == 409 || res->status == 404) {
        /* Someone else wrote it, or it is not there: start from the server's. */
        cJSON_Delete(r->lease);
        r->lease = NULL;
        uv_timer_start(&r->lease_timer, lease_tick, 200, r->lease_s * 250u);
        return;
    }
    log_warn(COMP, "node %s: cannot renew its lease: %s", r->nc->node_name, res->message);
    uv_timer_start(&r->lease_timer, lease_tick, RETRY_MS, r->lease_s * 250u);
}

static void lease_got(api_result_t *res, void *data)
{
    struct nodereg *r = data;
    r->lease_busy = false;
    if (r->stopping) return;
    if (api_result_ok(res) && res->obj) {
        cJSON_Delete(r->lease);
        r->lease = res->obj;
        res->obj = NULL;
    } else if (res->status != 404) {
        log_warn(COMP, "node %s: cannot read its lease: %s", r->nc->node_name, res->message);
        return;
    }
    renew_lease(r);
}

static void renew_lease(struct nodereg *r)
{
    if (r->lease_busy || r->stopping) return;
    char now[40];
    time_format_micro(time_wall_ms(), now, sizeof now);
    api_ref_t ref = LEASES;
    int rv;
    if (!r->lease) {
        /* First renewal: read the server's (it may be there from before). */
        cJSON *spec;
        if (!r->lease_read) {
            r->lease_read = true;
            ref.name = r->nc->node_name;
            if (api_get(r->c, &ref, NULL, lease_got, r) == 0) r->lease_busy = true;
            return;
        }
        r->lease_read = false;
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "apiVersion", "coordination.k8s.io/v1");
        cJSON_AddStringToObject(l, "kind", "Lease");
        cJSON *md = cJSON_AddObjectToObject(l, "metadata");
        cJSON_AddStringToObject(md, "name", r->nc->node_name);
        cJSON_AddStringToObject(md, "namespace", "kube-node-lease");
        if (r->uid[0])
            api_meta_add_owner_ref(l, "v1", "Node", r->nc->node_name, r->uid, false, false);
        spec = cJSON_AddObjectToObject(l, "spec");
        cJSON_AddStringToObject(spec, "holderIdentity", r->nc->node_name);
        cJSON_AddNumberToObject(spec, "leaseDurationSeconds", r->lease_s);
        cJSON_AddStringToObject(spec, "renewTime", now);
        rv = api_create(r->c, &ref, l, NULL, lease_done, r);
        cJSON_Delete(l);
    } else {
        cJSON *spec = cJSON_GetObjectItemCaseSensitive(r->lease, "spec");
        if (!spec) spec = cJSON_AddObjectToObject(r->lease, "spec");
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "renewTime");
        cJSON_AddStringToObject(spec, "renewTime", now);
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "holderIdentity");
        cJSON_AddStringToObject(spec, "holderIdentity", r->nc->node_name);
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "leaseDurationSeconds");
        cJSON_AddNumberToObject(spec, "leaseDurationSeconds", r->lease_s);
        ref.name = r->nc->node_name;
        rv = api_update(r->c, &ref, r->lease, NULL, lease_done, r);
    }
    if (rv == 0) r->lease_busy = true;
}

/* -------------------------------------------------------------- checking */

static void check(uv_timer_t *t)
{
    struct nodereg *r = t->data;
    if (r->registered) patch_status(r, false);
}

void node_pod_cidr_changed(struct nodereg *r)
{
    if (r->registered) patch_status(r, false);
}

struct nodereg *node_start(agent_t *a, api_client_t *c, const struct agent_config *cfg)
{
    struct nodereg *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->a = a;
    r->nc = agent_node_ctx(a);
    r->c = c;
    r->control_plane = cfg->control_plane;
    /* Renewed every second: the node controller's grace period is 4 s, and
     * Leases live in the raft leader's memory, so heartbeats cost no disk. */
    r->lease_s = cfg->lease_seconds ? cfg->lease_seconds : 4;
    runtime_version(r->runtime, sizeof r->runtime, r->nc->runc);
    uv_loop_t *loop = agent_loop(a);
    uv_timer_t *timers[] = {&r->reg_timer, &r->lease_timer, &r->check_timer};
    for (int i = 0; i < 3; i++) {
        uv_timer_init(loop, timers[i]);
        timers[i]->data = r;
    }
    register_node(r);
    uv_timer_start(&r->lease_timer, lease_tick, 0, r->lease_s * 250u);
    uv_timer_start(&r->check_timer, check, CHECK_MS, CHECK_MS);
    return r;
}

static void timer_closed(uv_handle_t *h)
{
    struct nodereg *r = h->data;
    if (--r->closing > 0) return;
    cJSON_Delete(r->lease);
    cJSON_Delete(r->last_conds);
    void (*done)(void *) = r->done;
    void *arg = r->done_arg;
    free(r);
    if (done) done(arg);
}

void node_stop(struct nodereg *r, void (*done)(void *), void *arg)
{
    r->stopping = true;
    r->done = done;
    r->done_arg = arg;
    r->closing = 3;
    uv_close((uv_handle_t *)&r->reg_timer, timer_closed);
    uv_close((uv_handle_t *)&r->lease_timer, timer_closed);
    uv_close((uv_handle_t *)&r->check_timer, timer_closed);
}
