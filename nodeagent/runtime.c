/*
 * runtime.c - driving runc for the pod worker: start a container through
 * its shim, signal it, delete it, exec in it, and read how it ended.
 *
 * runc is exec'd (Debian's binary; no libcontainer). Its state lives under
 * the agent's own --root, so picokube's containers never mix with another
 * runc user's. Container IDs are "<pod uid>-<container>-<restart count>":
 * unique per instance, and telling at a glance which pod they belong to.
 */
#include "nodeagent/agent_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rt_start(const struct rt_ctx *rc, const char *id, const char *bundle, const char *state_dir,
             const char *log_path, const char *cgroup, pid_t *pid, pid_t *shim_pid,
             uint64_t *started_ms, char *err, size_t errlen)
{
    int rp[2];
    if (pipe2(rp, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
        return -1;
    }
    const char *argv[] = {rc->self_exe,
                          "agent",
                          "shim",
                          "--id",
                          id,
                          "--bundle",
                          bundle,
                          "--root",
                          rc->runc_root,
                          "--runc",
                          rc->runc,
                          "--log",
                          log_path,
                          "--state",
                          state_dir,
                          "--cgroup",
                          cgroup ? cgroup : "",
                          NULL};
    pid_t first;
    int rv = ex_spawn(argv, -1, -1, -1, rp[1], &first);
    close(rp[1]);
    if (rv) {
        close(rp[0]);
        snprintf(err, errlen, "cannot start the shim %s: %s", rc->self_exe, strerror(-rv));
        return -1;
    }
    int st;
    ex_wait(first, &st); /* the shim forks away at once */
    char buf[1400];
    size_t len = 0;
    uint64_t deadline = time_mono_ms() + 120000;
    while (len < sizeof buf - 1) {
        uint64_t now = time_mono_ms();
        if (now >= deadline) break;
        struct pollfd p = {rp[0], POLLIN, 0};
        int r = poll(&p, 1, (int)(deadline - now));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        ssize_t n = read(rp[0], buf + len, sizeof buf - 1 - len);
        if (n <= 0) break;
        len += (size_t)n;
    }
    close(rp[0]);
    buf[len] = 0;
    buf[strcspn(buf, "\n")] = 0;
    if (!strncmp(buf, "ok ", 3)) {
        int cp = 0, sp = 0;
        unsigned long long at = 0;
        if (sscanf(buf + 3, "%d %d %llu", &cp, &sp, &at) == 3) {
            *pid = cp;
            *shim_pid = sp;
            *started_ms = at;
            return 0;
        }
    }
    if (!strncmp(buf, "error ", 6))
        snprintf(err, errlen, "%s", buf + 6);
    else
        snprintf(err, errlen, "the shim ended without a word (see %s/shim.log)", state_dir);
    return -1;
}

static int runc(const struct rt_ctx *rc, const char *const *args, unsigned timeout_ms,
                char **errout)
{
    const char *argv[16];
    int n = 0;
    argv[n++] = rc->runc;
    argv[n++] = "--root";
    argv[n++] = rc->runc_root;
    for (int i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int status = 0;
    int rv = ex_run(argv, NULL, 0, timeout_ms, NULL, errout, &status);
    return rv ? rv : status;
}

int rt_kill(const struct rt_ctx *rc, const char *id, int sig, bool all)
{
    char s[16];
    snprintf(s, sizeof s, "%d", sig);
    const char *a1[] = {"kill", "--all", id, s, NULL};
    const char *a2[] = {"kill", id, s, NULL};
    char *e = NULL;
    int rv = runc(rc, all ? a1 : a2, 10000, &e);
    /* Already stopped or gone: the kill has nothing left to do. */
    if (rv != 0 && e &&
        (strstr(e, "not running") || strstr(e, "does not exist") ||
         strstr(e, "process already finished")))
        rv = 0;
    if (rv != 0) log_warn(COMP, "runc kill %s %d: %s", id, sig, e ? e : "");
    free(e);
    return rv;
}

int rt_delete(const struct rt_ctx *rc, const char *id)
{
    const char *a[] = {"delete", "--force", id, NULL};
    char *e = NULL;
    int rv = runc(rc, a, 30000, &e);
    if (rv != 0 && e && strstr(e, "does not exist")) rv = 0;
    if (rv != 0) log_warn(COMP, "runc delete %s: %s", id, e ? e : "");
    free(e);
    return rv;
}

int rt_exec(const struct rt_ctx *rc, const char *id, const cJSON *command, unsigned timeout_ms,
            int *status, char **output)
{
    int n = cJSON_GetArraySize(command);
    if (n <= 0) return -EINVAL;
    const char **argv = calloc((size_t)n + 8, sizeof *argv);
    if (!argv) return -ENOMEM;
    int k = 0;
    argv[k++] = rc->runc;
    argv[k++] = "--root";
    argv[k++] = rc->runc_root;
    argv[k++] = "exec";
    argv[k++] = id;
    const cJSON *c;
    cJSON_ArrayForEach(c, command) argv[k++] = cJSON_IsString(c) ? c->valuestring : "";
    argv[k] = NULL;
    int rv = ex_run(argv, NULL, 0, timeout_ms, output, NULL, status);
    free(argv);
    return rv;
}

int rt_read_exit(const char *state_dir, struct ctr_term *t)
{
    char p[AGENT_PATH_MAX];
    snprintf(p, sizeof p, "%s/exit.json", state_dir);
    cJSON *j = fs_read_json(p);
    if (!j) {
        struct stat st;
        return stat(p, &st) == 0 ? -1 : 0;
    }
    t->exit_code = (int)jnum(j, "exitCode", 255);
    t->signal = (int)jnum(j, "signal", 0);
    snprintf(t->reason, sizeof t->reason, "%s", jstr(j, "reason", "Error"));
    t->finished_ms = (uint64_t)jnum(j, "finishedAt", 0);
    cJSON_Delete(j);
    return 1;
}

bool rt_pid_alive(pid_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

bool rt_shim_alive(pid_t pid, const char *id)
{
    if (!rt_pid_alive(pid)) return false;
    /* After a reboot the pid may be someone else's: ours names the container. */
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/cmdline", (int)pid);
    size_t len = 0;
    char *cmd = file_read_all(p, &len);
    bool ours = false;
    for (size_t i = 0; cmd && i < len; i += strlen(cmd + i) + 1)
        if (!strcmp(cmd + i, id)) ours = true;
    free(cmd);
    return ours;
}

int rt_signal_number(const char *name)
{
    static const struct {
        const char *n;
        int s;
    } sigs[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
                {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"WINCH", SIGWINCH},
                {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"PWR", SIGPWR},   {NULL, 0}};
    if (!name || !*name) return 0;
    if (name[0] >= '0' && name[0] <= '9') return atoi(name);
    if (!strncmp(name, "SIG", 3)) name += 3;
    for (int i = 0; sigs[i].n; i++)
        if (!strcmp(sigs[i].n, name)) return sigs[i].s;
    return 0;
}
