/*
 * agent_int.h - what the files of nodeagent/ share (private to the folder
 * and its unit tests).
 *
 * Two worlds meet here. The loop thread owns the pod table, the API
 * client, the log endpoint and the timers (podmgr.c, apisync.c, node.c,
 * logs.c, manifests.c, agent.c). The blocking work - runc, mounts, netns,
 * probes - runs in libuv's thread pool, one job per pod at a time
 * (sync.c and what it calls); a job gets its own copy of the pod object
 * and owns the pod's runtime record (struct pod_rt) until it finishes.
 */
#ifndef PICOKUBE_NODEAGENT_INT_H
#define PICOKUBE_NODEAGENT_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "api/api.h"
#include "lib/lib.h"
#include "nodeagent/nodeagent.h"

#define COMP "agent"
#define AGENT_PATH_MAX 1024
#define AGENT_DEFAULT_DATA_DIR "/var/lib/picokube"
#define AGENT_BRIDGE "pk0"
#define AGENT_MAX_PODS 110
#define AGENT_LOG_MAX_BYTES (10u << 20)
#define AGENT_LOG_MAX_FILES 2

/* ------------------------------------------------------------- json helpers */

static inline const char *jstr(const cJSON *o, const char *k, const char *def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : def;
}

static inline double jnum(const cJSON *o, const char *k, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static inline bool jbool(const cJSON *o, const char *k, bool def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

static inline const cJSON *jget(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* ------------------------------------------------------------------ osutil.c */

/* posix_spawn argv[0] (a path) with fds as stdin/stdout/stderr (-1:
 * /dev/null) and fd3 as descriptor 3 (-1: none). */
int ex_spawn(const char *const *argv, int fd_in, int fd_out, int fd_err, int fd3, pid_t *pid);
/* Waits for pid; *status is the exit code, or 128+signal. 0 or -errno. */
int ex_wait(pid_t pid, int *status);
/* Runs argv to completion with `in` on its stdin, collecting stdout and
 * stderr (malloc'd, may be NULL pointers to skip). -ETIMEDOUT after
 * timeout_ms (the process is killed). 0 when it ran (see *status). */
int ex_run(const char *const *argv, const char *in, size_t in_len, unsigned timeout_ms, char **out,
           char **errout, int *status);
/* ex_run that wants exit 0: else -1 with the tool's last stderr line in err. */
int ex_check(const char *const *argv, const char *in, unsigned timeout_ms, char *err,
             size_t errlen);
/* `ip [-n netns] -batch -` with the commands in batch. */
int ex_ip_batch(const char *netns, const char *batch, char *err, size_t errlen);
/* The full path of a system tool (ip, iptables, mount). */
const char *agent_tool(const char *name);
/* rm -rf that never crosses into another mount. 0, or -errno / -EBUSY. */
int fs_rm_rf(const char *path);
bool fs_is_mountpoint(const char *path);
/* Lazy unmount of everything mounted at path; 0 when nothing is left. */
int fs_umount(const char *path);
/* Replace path with data through a temp file and rename (no fsync: for
 * files that are cheap to lose, such as status). */
int fs_write_file(const char *path, const char *data, size_t len, int mode);
int fs_write_json(const char *path, const cJSON *obj, bool durable);
cJSON *fs_read_json(const char *path);
/* RFC 3339 with nanoseconds (CRI logs) and with microseconds (Lease). */
void time_format_nano(uint64_t sec, long nsec, char *buf, size_t len);
void time_format_micro(uint64_t wall_ms, char *buf, size_t len);
uint32_t hash32(const void *data, size_t len);
/* Standard base64 (Secret data); NULL when malformed. NUL-terminated. */
char *b64_decode(const char *s, size_t *len);

/* ------------------------------------------------------ images.c, layers.c */

typedef struct img {
    char *name;    /* normalized: docker.io/library/busybox:latest */
    char *id;      /* sha256:<config digest> */
    char **layers; /* diff IDs, bottom layer first */
    size_t n_layers;
    cJSON *config; /* the image config's "config": Entrypoint, Cmd, Env, ... */
} img_t;

/* Docker's normalization of an image reference; -1 when malformed. */
int img_normalize(const char *ref, char *out, size_t len);
/* 0 and *out, -ENOENT when the store lacks it, -EINVAL for a bad ref. */
int img_lookup(const char *store, const char *ref, img_t **out);
void img_free(img_t *im);
int img_import(const char *store, const char *file, const char *name, FILE *out, char *err,
               size_t errlen);
int img_list(const char *store, FILE *out);
int img_remove(const char *store, const char *name, char *err, size_t errlen);
/* This machine as an OCI platform: linux, arm64/v8, arm/v7, amd64 ... */
void img_platform(char *os, size_t oslen, char *arch, size_t archlen, char *variant, size_t vlen);

/* "./a//b" -> "a/b"; -1 when the path climbs out with "..". */
int layer_clean_path(const char *in, char *out, size_t len);
/* Extracts a tar (plain or compressed) into dest. With layer set, owners,
 * modes and xattrs are kept and whiteouts become overlayfs whiteouts. */
int layer_unpack(const char *archive_path, const char *dest, bool layer, uint64_t *bytes, char *err,
                 size_t errlen);
/* Mounts <dir>/rootfs as an overlay of the layers (bottom first) with
 * <dir>/upper and <dir>/work. */
int rootfs_mount(const char *store, const char *const *layers, size_t n, const char *dir, char *err,
                 size_t errlen);
int rootfs_unmount(const char *dir);

/* ---------------------------------------------------------------- crilog.c */

/* A log file in the CRI format ("<RFC3339Nano> stdout F <line>"), rotated
 * at max_bytes keeping max_files files (path, path.1, ...). */
struct crilog_w {
    int fd;
    char path[AGENT_PATH_MAX];
    uint64_t size, max_bytes;
    int max_files;
    char part[2][16384]; /* an unfinished line per stream */
    size_t plen[2];
};

int crilog_open(struct crilog_w *w, const char *path, uint64_t max_bytes, int max_files);
/* stream 0 stdout, 1 stderr. */
void crilog_write(struct crilog_w *w, int stream, const char *data, size_t len);
/* Writes what is left of an unfinished line (at the end of a stream). */
void crilog_flush(struct crilog_w *w, int stream);
void crilog_close(struct crilog_w *w);

struct crilog_line {
    const char *ts; /* the timestamp text */
    size_t ts_len;
    uint64_t ts_ns; /* since the epoch */
    int stream;     /* 0 stdout, 1 stderr */
    bool partial;   /* P: continued on the next line */
    const char *msg;
    size_t msg_len;
};
/* Parses one line (without its newline); -1 when it is not CRI format. */
int crilog_parse(const char *line, size_t len, struct crilog_line *out);

/* ------------------------------------------------- ocispec.c (config.json) */

/* cgroup values from a container's resources, as the kubelet computes them. */
struct cg_limits {
    int64_t memory_bytes; /* 0: none */
    uint64_t cpu_shares;  /* from requests.cpu: milli*1024/1000, at least 2 */
    int64_t cpu_quota_us; /* from limits.cpu per cpu_period_us; 0: none */
    uint64_t cpu_period_us;
    int64_t memory_request;
};
int spec_resources(const cJSON *resources, struct cg_limits *out, char *err, size_t errlen);

/* Looks up a ConfigMap or Secret ("configmaps"/"secrets") for env and
 * volumes; returns a new object or NULL with a message. May block. */
typedef cJSON *(*agent_fetch_fn)(void *arg, const char *resource, const char *ns, const char *name,
                                 char *err, size_t errlen);

struct spec_in {
    const cJSON *pod;       /* metadata + spec */
    const cJSON *container; /* one entry of spec.containers / initContainers */
    const cJSON *image_cfg; /* the image config's "config"; may be NULL */
    const char *rootfs;     /* the bundle's root folder: for user names */
    const char *netns_path; /* the pod's network namespace */
    const char *hosts_path, *resolv_path, *hostname_path, *termlog_path;
    const char *volumes_dir; /* <pod>/volumes: emptyDir and projected contents */
    const char *cgroups_path;
    const char *pod_ip, *host_ip, *node_name;
    bool memory_cgroup;   /* the memory controller is there */
    bool swap_limit;      /* memory+swap can be limited (cgroup v1 memsw) */
    uint64_t node_memory; /* bytes, for oom_score_adj */
    agent_fetch_fn fetch;
    void *fetch_arg;
};

/* Kubernetes' reasons for a container that cannot be made. */
#define REASON_CREATE_ERROR "CreateContainerError"
#define REASON_CONFIG_ERROR "CreateContainerConfigError"

/* The OCI runtime config for one container; NULL with a message and a
 * Kubernetes reason (one of the above) when it cannot be made. */
cJSON *spec_build(const struct spec_in *in, char *reason, size_t rlen, char *err, size_t errlen);
/* The process args: image entrypoint/cmd overridden by command/args, with
 * $(VAR) references expanded from env (a JSON object name -> value). */
cJSON *spec_args(const cJSON *container, const cJSON *image_cfg, const cJSON *env);
/* Kubernetes' $(VAR) expansion: $$ escapes, unknown references stay. */
char *spec_expand(const char *s, const cJSON *env);
/* The container's environment as an object (image first, then the pod's). */
cJSON *spec_env(const struct spec_in *in, char *reason, size_t rlen, char *err, size_t errlen);

/* ----------------------------------------------------------- runtime.c */

struct ctr_term {
    int exit_code;
    int signal;
    char reason[32]; /* Completed, Error, OOMKilled, StartError, ContainerStatusUnknown */
    char message[256];
    uint64_t started_ms, finished_ms; /* wall clock */
    char id[160];
};

struct rt_ctx {
    const char *runc;
    const char *runc_root;
    const char *self_exe;
    const char *cgroup_v1_memory; /* "/sys/fs/cgroup/memory" or NULL */
};

/* Starts the shim, which creates and starts the container in bundle and
 * writes state_dir/started.json, then state_dir/exit.json at the end. On
 * failure returns -1 with runc's message in err. */
int rt_start(const struct rt_ctx *rc, const char *id, const char *bundle, const char *state_dir,
             const char *log_path, const char *cgroup, pid_t *pid, pid_t *shim_pid,
             uint64_t *started_ms, char *err, size_t errlen);
/* runc kill (all processes when `all`); a container already gone is fine. */
int rt_kill(const struct rt_ctx *rc, const char *id, int sig, bool all);
/* runc delete --force. */
int rt_delete(const struct rt_ctx *rc, const char *id);
/* runc exec for exec probes: *status is the command's exit status. */
int rt_exec(const struct rt_ctx *rc, const char *id, const cJSON *command, unsigned timeout_ms,
            int *status, char **output);
/* 1 and *t when state_dir/exit.json exists, 0 when not (yet), -1 bad. */
int rt_read_exit(const char *state_dir, struct ctr_term *t);
bool rt_pid_alive(pid_t pid);
/* Whether pid is the shim of container id (not a reused pid). */
bool rt_shim_alive(pid_t pid, const char *id);
/* The signal a name ("SIGTERM", "TERM", "15") stands for; 0 if unknown. */
int rt_signal_number(const char *name);

/* -------------------------------------------------------------- ipam.c */

/* IP addresses of a pod CIDR handed out to pods: one file per address in
 * <dir>/<cidr>/, holding the pod UID. Thread-safe. */
int ipam_parse_cidr(const char *cidr, uint32_t *net, int *prefix);
/* The address for uid (the one it already has, or a free one); the
 * gateway (first address) is never given. 0, or -1 with a message. */
int ipam_allocate(const char *dir, const char *cidr, const char *uid, char *ip, size_t iplen,
                  char *err, size_t errlen);
/* Frees uid's address(es); 0 when nothing was held. */
int ipam_release(const char *dir, const char *uid);
/* The gateway (the bridge's address) of a CIDR: "10.42.1.1/24". */
int ipam_gateway(const char *cidr, char *buf, size_t len, bool with_prefix);

/* ------------------------------------------------------------- podnet.c */

struct net_cfg {
    const char *pod_cidr;
    const char *cluster_dns; /* NULL: copy the host's resolv.conf */
    const char *cluster_domain;
    const char *ipam_dir;
};

/* Makes the pod's network: netns pk-<uid>, veth in the bridge, an IP,
 * loopback, default route. Idempotent (a restarted agent finds it done).
 * Writes the pod's IP into ip. */
int podnet_setup(const struct net_cfg *nc, const char *uid, char *ip, size_t iplen, char *err,
                 size_t errlen);
/* Removes the network namespace (and with it the veth) and frees the IP. */
int podnet_teardown(const struct net_cfg *nc, const char *uid);
/* The bridge with the gateway address of pod_cidr, and forwarding on. */
int podnet_bridge(const char *pod_cidr, char *err, size_t errlen);
void podnet_netns_name(const char *uid, char *buf, size_t len);
void podnet_netns_path(const char *uid, char *buf, size_t len);
/* /etc/hosts, /etc/resolv.conf and /etc/hostname of a pod into pod_dir. */
int podnet_files(const struct net_cfg *nc, const cJSON *pod, const char *ip, const char *pod_dir,
                 char *err, size_t errlen);
/* The resolv.conf text for a pod (dnsPolicy, dnsConfig). Caller frees. */
char *podnet_resolv_conf(const cJSON *pod, const char *cluster_dns, const char *domain,
                         const char *host_resolv);

/* ------------------------------------------------------------ volumes.c */

/* Makes the pod's volumes under <pod_dir>/volumes. -1 with a reason
 * (CreateContainerConfigError) and message when one cannot be made. */
int volumes_setup(const cJSON *pod, const char *pod_dir, const char *pod_ip, const char *node_name,
                  agent_fetch_fn fetch, void *arg, char *err, size_t errlen);
void volumes_teardown(const char *pod_dir);

/* ----------------------------------------------------------- restart.c */

/* The kubelet's crash back-off: 10 s doubling to 5 min, forgotten after
 * the container ran 10 min without trouble. */
#define BACKOFF_INITIAL_MS 10000u
#define BACKOFF_MAX_MS 300000u

struct backoff {
    uint64_t delay_ms; /* 0: no back-off yet */
    uint64_t last_ms;  /* monotonic time of the last restart */
};

/* Whether a container that exited at `event` (monotonic ms) may restart
 * at now; when not, *wait_ms is how long is left. A restart that happens
 * must be recorded with backoff_next. max 0: BACKOFF_MAX_MS. */
bool backoff_allows(const struct backoff *b, uint64_t event, uint64_t now, uint64_t max,
                    uint64_t *wait_ms);
void backoff_next(struct backoff *b, uint64_t event, uint64_t now, uint64_t initial, uint64_t max);

/* restartPolicy: whether a container that exited with code should run again. */
bool restart_wanted(const char *policy, int exit_code);

/* ------------------------------------------------------------- the pod */

enum ctr_state { CS_NONE = 0, CS_WAITING, CS_RUNNING, CS_EXITED };

struct probe_st {
    uint64_t next_ms; /* monotonic: when it is due */
    int successes, failures;
    bool ok;   /* the last decision */
    bool ever; /* a decision was made */
};

struct ctr_rt {
    char name[64];
    bool init;
    char image[256];
    char image_id[160];
    uint32_t spec_hash; /* of the container spec this instance runs */
    int attempt;        /* restartCount; -1 before the first start */
    enum ctr_state state;
    char id[160]; /* runc id of the current instance */
    pid_t pid, shim_pid;
    uint64_t started_ms; /* wall */
    uint64_t started_mono;
    struct ctr_term term;   /* the current instance, once it exited */
    uint64_t finished_mono; /* when it exited, on the monotonic clock */
    bool has_last;
    struct ctr_term last; /* the instance before */
    char wait_reason[48];
    char wait_message[512];
    struct backoff backoff;      /* crash restarts */
    struct backoff pull_backoff; /* image pulls */
    uint64_t pull_failed_mono;
    uint64_t kill_sent_mono, kill_deadline_mono; /* a stop in progress */
    bool kill_sigkill;
    bool restart_after_kill; /* killed by liveness or a spec change */
    struct probe_st live, ready, startup;
};

struct pod_rt {
    char uid[64];
    char ns[64];
    char name[254];
    char ip[64];
    bool net_ready;
    bool volumes_ready;
    char net_error[256];
    char config_error[512];
    uint64_t start_ms;          /* wall: when the agent first took the pod */
    uint64_t term_started_mono; /* graceful termination in progress */
    uint64_t term_deadline_mono;
    bool removed; /* everything of the pod is gone from the node */
    bool dirty;   /* changed since state.json was written */
    size_t n;
    struct ctr_rt *c; /* init containers first, then containers */
};

/* ------------------------------------------------------- node context */

/* What every pod job needs to know about the node; set up at start. The
 * pod CIDR may change (the controller assigns it): read it under mu. */
struct node_ctx {
    char data_dir[AGENT_PATH_MAX];
    char root[AGENT_PATH_MAX]; /* <data_dir>/agent */
    char images[AGENT_PATH_MAX];
    char pods[AGENT_PATH_MAX];
    char logs[AGENT_PATH_MAX];
    char runc_root[AGENT_PATH_MAX];
    char ipam[AGENT_PATH_MAX];
    char runc[AGENT_PATH_MAX];
    char self_exe[AGENT_PATH_MAX];
    char cgroup_parent[128];
    char node_name[254];
    char node_ip[64];
    char cluster_dns[64];
    char cluster_domain[64];
    char cgroup_v1_memory[64]; /* "" on cgroup v2 */
    bool memory_cgroup;
    bool swap_limit;
    uint64_t memory_bytes;
    bool standalone;
    struct rt_ctx rc;
    pthread_mutex_t mu;
    char pod_cidr[64];
    agent_fetch_fn fetch;
    void *fetch_arg;
    char api_servers[1024]; /* for fetch, from pool threads */
    char api_token[256];
    agent_image_pull_fn pull;
    void *pull_arg;
    uint64_t backoff_initial_ms, backoff_max_ms;
};

void node_ctx_pod_cidr(struct node_ctx *nc, char *buf, size_t len);

/* Paths of a pod and of one container instance. */
void pod_dir(const struct node_ctx *nc, const char *uid, char *buf, size_t len);
void pod_log_dir(const struct node_ctx *nc, const char *ns, const char *name, const char *uid,
                 char *buf, size_t len);
void ctr_dir(const struct node_ctx *nc, const char *uid, const char *name, int attempt, char *buf,
             size_t len);
void ctr_log_path(const struct node_ctx *nc, const char *ns, const char *pod, const char *uid,
                  const char *name, int attempt, char *buf, size_t len);
void ctr_runc_id(const char *uid, const char *name, int attempt, char *buf, size_t len);

/* ------------------------------------------------------------- state.c */

/* The runtime record of a pod from the pod object (containers matched by
 * name with what rt already has). */
int pod_rt_reconcile(struct pod_rt *rt, const cJSON *pod);
void pod_rt_free(struct pod_rt *rt);
struct ctr_rt *pod_rt_ctr(struct pod_rt *rt, const char *name, bool init);
/* <pod dir>/state.json and pod.json. */
int pod_rt_save(const struct node_ctx *nc, const struct pod_rt *rt, const cJSON *pod);
/* Loads a pod dir after an agent restart; NULL when it holds no pod. */
struct pod_rt *pod_rt_load(const struct node_ctx *nc, const char *uid, cJSON **pod);

/* -------------------------------------------------------------- sync.c */

/* One pass of the pod worker (blocking; on a pool thread). pod is the
 * desired object; gone: the pod left its source (deleted for good).
 * Returns the monotonic time of the next pass it wants (0: none). */
uint64_t pod_sync(struct node_ctx *nc, struct pod_rt *rt, const cJSON *pod, bool gone,
                  uint64_t now);

/* ------------------------------------------------------------ podmgr.c */

typedef struct podmgr podmgr_t;

struct podmgr_hooks {
    /* A pod's status changed (loop thread). */
    void (*status)(void *arg, const cJSON *pod, const cJSON *status);
    /* Nothing of the pod is left on the node. */
    void (*removed)(void *arg, const cJSON *pod);
    void *arg;
};

podmgr_t *podmgr_new(uv_loop_t *loop, struct node_ctx *nc, const struct podmgr_hooks *hooks);
/* Takes back the pods of the data dir (after an agent restart). */
int podmgr_adopt(podmgr_t *m);
/* The source has this pod (new or changed); copied. */
void podmgr_update(podmgr_t *m, const cJSON *pod);
/* The pod left its source: stop it and remove it. */
void podmgr_remove(podmgr_t *m, const char *uid);
/* The source delivered its full list: pods it did not name are removed. */
void podmgr_source_synced(podmgr_t *m);
/* Runs every pod's pass now (the pod CIDR arrived, ...). */
void podmgr_resync_all(podmgr_t *m);
/* A pod by namespace and name: its uid and last status (may be NULL). */
bool podmgr_find(podmgr_t *m, const char *ns, const char *name, const char **uid,
                 const cJSON **status);
size_t podmgr_count(podmgr_t *m);
/* Stops scheduling; done runs once passes in flight ended. */
void podmgr_stop(podmgr_t *m, void (*done)(void *), void *arg);
void podmgr_free(podmgr_t *m);

/* ----------------------------------------- agent.c and its loop-side files */

struct node_ctx *agent_node_ctx(agent_t *a);
podmgr_t *agent_podmgr(agent_t *a);
uv_loop_t *agent_loop(agent_t *a);
const char *agent_token(agent_t *a);

/* Every pod source calls this once it delivered its first full list. */
void agent_source_synced(agent_t *a);

/* manifests.c: static pods from a folder. */
struct manifests;
struct manifests *manifests_start(agent_t *a, const char *dir);
void manifests_stop(struct manifests *m);
/* Writes <pod dir>/status.json (standalone: no API server to tell). */
void manifests_status(agent_t *a, const cJSON *pod, const cJSON *status);

/* apisync.c: the API side (Node, Lease, pods bound to the node, status). */
struct apisync;
struct apisync *apisync_start(agent_t *a, const struct agent_config *cfg, char *err, size_t errlen);
void apisync_stop(struct apisync *s, void (*done)(void *), void *arg);
void apisync_pod_status(struct apisync *s, const cJSON *pod, const cJSON *status);
void apisync_pod_removed(struct apisync *s, const cJSON *pod);

/* logs.c: GET /containerLogs/<ns>/<pod>/<container> on the agent's port. */
void logs_serve(agent_t *a, http_req_t *req, const char *rest);

/* ------------------------------------------------------------ probes.c */

enum probe_kind { PROBE_LIVENESS, PROBE_READINESS, PROBE_STARTUP };

/* Runs the container's due probes and updates its probe state; returns
 * the monotonic time of the next one due (0: none). Liveness and startup
 * failures set *kill. */
uint64_t probes_run(struct node_ctx *nc, struct pod_rt *rt, struct ctr_rt *c, const cJSON *cspec,
                    uint64_t now, bool *kill, char *why, size_t whylen);
/* Whether the container counts as started and ready per its probes. */
bool probe_started(const struct ctr_rt *c, const cJSON *cspec);
bool probe_ready(const struct ctr_rt *c, const cJSON *cspec);
/* One httpGet/tcpSocket check against host:port (blocking). */
int probe_http(const char *host, int port, const char *path, const cJSON *headers,
               unsigned timeout_ms, char *why, size_t whylen);
int probe_tcp(const char *host, int port, unsigned timeout_ms, char *why, size_t whylen);

/* ------------------------------------------------------------ status.c */

/* The pod's status as Kubernetes shows it, from its runtime record. old is
 * the previous status (for lastTransitionTime), may be NULL. */
cJSON *status_build(const struct pod_rt *rt, const cJSON *pod, const cJSON *old,
                    const char *host_ip, uint64_t now_wall);
/* Kubernetes' phase from the container statuses. */
const char *status_phase(const cJSON *pod, const cJSON *init_statuses, const cJSON *statuses);

/* -------------------------------------------------------------- node.c */

/* The default route's interface from /proc/net/route text, into ifname. */
int node_default_iface(const char *route_text, char *ifname, size_t len);
/* Whether /proc/cgroups text shows an enabled controller. */
bool node_cgroup_enabled(const char *proc_cgroups, const char *controller);
/* Kubernetes' GOARCH for a uname machine ("x86_64" -> "amd64"). */
const char *node_goarch(const char *machine);
/* The IPv4 address of the default route's interface (else any). */
int nodeinfo_ip(char *buf, size_t len);
/* Whether the memory controller is usable; its v1 mount into v1_path. */
bool nodeinfo_memory_cgroup(char *v1_path, size_t len);
uint64_t nodeinfo_memory(void);
uint64_t nodeinfo_memory_available(void);
void nodeinfo_os_image(char *buf, size_t len);
/* The host name, lowercased: the default node name. */
void nodeinfo_hostname(char *buf, size_t len);

#endif /* PICOKUBE_NODEAGENT_INT_H */
