/*
 * shim.c - `picokube agent shim`: the small process that stays beside one
 * container (what conmon or containerd-shim do for other runtimes).
 *
 * Why a separate process: the container's stdout/stderr pipes and its exit
 * status must outlive the agent, so that restarting or upgrading the agent
 * neither kills containers nor loses their logs or exit codes. The shim
 *   - detaches (its own session) and becomes a child subreaper, so the
 *     container's init, left behind by `runc create`, is its child;
 *   - runs `runc create` with pipes as the container's stdout and stderr,
 *     then `runc start`, and tells the agent how that went on fd 3;
 *   - copies the pipes into a CRI log file (rotated), reaps the container
 *     and every orphan in it;
 *   - writes exit.json (exit code, time, OOMKilled from the memory cgroup)
 *     and exits. The agent then runs `runc delete`.
 * The agent watches the shim's pid (pidfd) to learn of the exit at once.
 */
#include "nodeagent/agent_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct shim {
    const char *id, *bundle, *root, *runc, *log, *state, *cgroup;
    long log_max, log_files;
};

static void report(const char *fmt, const char *msg)
{
    char buf[1200];
    int n = snprintf(buf, sizeof buf, fmt, msg);
    if (n > 0 && write(3, buf, (size_t)n) < 0) {
        /* the agent gave up waiting: nothing to tell */
    }
    close(3);
}

/* runc's last error, from its JSON log (else its stderr). */
static void runc_error(const struct shim *s, const char *stderr_text, char *buf, size_t len)
{
    char p[AGENT_PATH_MAX];
    snprintf(p, sizeof p, "%s/runc.log", s->state);
    char *text = file_read_all(p, NULL);
    buf[0] = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        cJSON *j = cJSON_Parse(line);
        if (j && !strcmp(jstr(j, "level", ""), "error"))
            snprintf(buf, len, "%s", jstr(j, "msg", ""));
        cJSON_Delete(j);
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    if (!buf[0] && stderr_text) {
        size_t l = strlen(stderr_text);
        while (l && stderr_text[l - 1] == '\n')
            l--;
        snprintf(buf, len, "%.*s", (int)l, stderr_text);
    }
    if (!buf[0]) snprintf(buf, len, "runc failed");
    /* One line for JSON and for the report protocol. */
    for (char *c = buf; *c; c++)
        if (*c == '\n') *c = ' ';
}

static long oom_kills(const struct shim *s)
{
    if (!s->cgroup || !*s->cgroup) return 0;
    const char *files[] = {"/sys/fs/cgroup/memory%s/memory.oom_control",
                           "/sys/fs/cgroup%s/memory.events",
                           "/sys/fs/cgroup/unified%s/memory.events", NULL};
    for (int i = 0; files[i]; i++) {
        char p[AGENT_PATH_MAX];
        snprintf(p, sizeof p, files[i], s->cgroup);
        char *t = file_read_all(p, NULL);
        if (!t) continue;
        char *k = strstr(t, "oom_kill ");
        long n = k ? strtol(k + 9, NULL, 10) : 0;
        free(t);
        if (k) return n;
    }
    return 0;
}

static void write_exit(const struct shim *s, int status, uint64_t finished)
{
    cJSON *j = cJSON_CreateObject();
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    const char *reason = code == 0 ? "Completed" : "Error";
    if (code != 0 && oom_kills(s) > 0) reason = "OOMKilled";
    cJSON_AddNumberToObject(j, "exitCode", code);
    cJSON_AddNumberToObject(j, "signal", sig);
    cJSON_AddStringToObject(j, "reason", reason);
    cJSON_AddNumberToObject(j, "finishedAt", (double)finished);
    char p[AGENT_PATH_MAX];
    snprintf(p, sizeof p, "%s/exit.json", s->state);
    fs_write_json(p, j, true);
    cJSON_Delete(j);
}

static int run_runc(const struct shim *s, const char *const *args, int out, int err, char **errtext)
{
    const char *argv[16];
    int n = 0;
    argv[n++] = s->runc;
    argv[n++] = "--root";
    argv[n++] = s->root;
    char logp[AGENT_PATH_MAX];
    snprintf(logp, sizeof logp, "%s/runc.log", s->state);
    argv[n++] = "--log";
    argv[n++] = logp;
    argv[n++] = "--log-format";
    argv[n++] = "json";
    for (int i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    if (out < 0) {
        int status = 0;
        int rv = ex_run(argv, NULL, 0, 60000, NULL, errtext, &status);
        return rv ? rv : status;
    }
    pid_t pid;
    int rv = ex_spawn(argv, -1, out, err, -1, &pid);
    if (rv) return rv;
    int status;
    rv = ex_wait(pid, &status);
    return rv ? rv : status;
}

/* Copies the pipes to the log and reaps children until the container's
 * init has exited and its pipes are drained. */
static int supervise(struct shim *s, pid_t cpid, int pout, int perr, int sfd)
{
    struct crilog_w w;
    if (crilog_open(&w, s->log, (uint64_t)s->log_max, (int)s->log_files) != 0) w.fd = -1;
    int fds[2] = {pout, perr};
    int status = 0;
    bool exited = false;
    uint64_t exit_mono = 0, finished = 0;
    char buf[65536];
    for (;;) {
        struct pollfd p[3];
        int n = 0;
        p[n++] = (struct pollfd){sfd, POLLIN, 0};
        int map[3] = {-1, -1, -1};
        for (int i = 0; i < 2; i++)
            if (fds[i] >= 0) {
                map[n] = i;
                p[n++] = (struct pollfd){fds[i], POLLIN, 0};
            }
        if (exited && n == 1) break;
        int timeout = -1;
        if (exited) {
            /* Something the container started still holds the pipes: give
             * it two seconds, then the container is over anyway. */
            uint64_t el = time_mono_ms() - exit_mono;
            if (el >= 2000) break;
            timeout = (int)(2000 - el);
        }
        int r = poll(p, (nfds_t)n, timeout);
        if (r < 0 && errno != EINTR) break;
        if (r <= 0) continue;
        if (p[0].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0) {
            }
            for (;;) {
                int st;
                pid_t pid = waitpid(-1, &st, WNOHANG);
                if (pid <= 0) break;
                if (pid == cpid) {
                    status = st;
                    exited = true;
                    exit_mono = time_mono_ms();
                    finished = time_wall_ms();
                }
            }
        }
        for (int k = 1; k < n; k++) {
            if (!p[k].revents) continue;
            int i = map[k];
            ssize_t got = read(fds[i], buf, sizeof buf);
            if (got > 0) {
                crilog_write(&w, i, buf, (size_t)got);
            } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                crilog_flush(&w, i);
                close(fds[i]);
                fds[i] = -1;
            }
        }
    }
    crilog_close(&w);
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0) close(fds[i]);
    write_exit(s, status, finished ? finished : time_wall_ms());
    return 0;
}

static int shim_run(struct shim *s)
{
    char errbuf[1024], pidp[AGENT_PATH_MAX];
    int pout[2], perr[2];
    if (pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) {
        report("error cannot make pipes: %s\n", strerror(errno));
        return 1;
    }
    snprintf(pidp, sizeof pidp, "%s/pid", s->state);
    /* SIGCHLD through a signalfd: reaping happens in the poll loop. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    const char *create[] = {"create", "--bundle", s->bundle, "--pid-file", pidp, s->id, NULL};
    int rv = run_runc(s, create, pout[1], perr[1], NULL);
    close(pout[1]);
    close(perr[1]);
    if (rv != 0) {
        char *text = NULL;
        size_t tl = 0, tc = 0;
        fcntl(perr[0], F_SETFL, O_NONBLOCK);
        char tmp[2048];
        ssize_t got;
        while ((got = read(perr[0], tmp, sizeof tmp)) > 0 && tl < 8192) {
            char *nt = realloc(text, tc = tl + (size_t)got + 1);
            if (!nt) break;
            text = nt;
            memcpy(text + tl, tmp, (size_t)got);
            tl += (size_t)got;
            text[tl] = 0;
        }
        runc_error(s, text, errbuf, sizeof errbuf);
        free(text);
        (void)tc;
        const char *del[] = {"delete", "--force", s->id, NULL};
        run_runc(s, del, -1, -1, NULL);
        report("error %s\n", errbuf);
        return 1;
    }
    char *pidtext = file_read_all(pidp, NULL);
    pid_t cpid = pidtext ? (pid_t)strtol(pidtext, NULL, 10) : 0;
    free(pidtext);
    const char *start[] = {"start", s->id, NULL};
    char *stderr_text = NULL;
    rv = cpid > 0 ? run_runc(s, start, -1, -1, &stderr_text) : -1;
    if (rv != 0) {
        runc_error(s, stderr_text, errbuf, sizeof errbuf);
        free(stderr_text);
        const char *del[] = {"delete", "--force", s->id, NULL};
        run_runc(s, del, -1, -1, NULL);
        report("error %s\n", errbuf);
        return 1;
    }
    free(stderr_text);
    uint64_t started = time_wall_ms();
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "pid", cpid);
    cJSON_AddNumberToObject(j, "shimPid", getpid());
    cJSON_AddNumberToObject(j, "startedAt", (double)started);
    char p[AGENT_PATH_MAX];
    snprintf(p, sizeof p, "%s/started.json", s->state);
    fs_write_json(p, j, true);
    cJSON_Delete(j);
    char msg[64];
    snprintf(msg, sizeof msg, "%d %d %llu", (int)cpid, (int)getpid(), (unsigned long long)started);
    report("ok %s\n", msg);
    return supervise(s, cpid, pout[0], perr[0], sfd);
}

int agent_shim_main(int argc, char **argv)
{
    struct shim s = {0};
    s.log_max = AGENT_LOG_MAX_BYTES;
    s.log_files = AGENT_LOG_MAX_FILES;
    const struct flag_spec specs[] = {
        {"id", FLAG_STRING, &s.id, "runc container id"},
        {"bundle", FLAG_STRING, &s.bundle, "OCI bundle folder"},
        {"root", FLAG_STRING, &s.root, "runc state root"},
        {"runc", FLAG_STRING, &s.runc, "runc binary"},
        {"log", FLAG_STRING, &s.log, "CRI log file"},
        {"state", FLAG_STRING, &s.state, "folder for started.json and exit.json"},
        {"cgroup", FLAG_STRING, &s.cgroup, "the container's cgroups path"},
        {"log-max", FLAG_INT, &s.log_max, "rotate the log at this size"},
        {"log-files", FLAG_INT, &s.log_files, "log files kept"},
        {NULL, 0, NULL, NULL},
    };
    char err[256];
    if (flags_parse(specs, argc, argv, err, sizeof err) != 0 || !s.id || !s.bundle || !s.root ||
        !s.runc || !s.log || !s.state) {
        fprintf(stderr, "picokube agent shim: internal command of the agent (%s)\n", err);
        return 2;
    }
    /* Detach: the agent waits for this first process only. */
    pid_t pid = fork();
    if (pid < 0) {
        report("error cannot fork the shim: %s\n", strerror(errno));
        return 1;
    }
    if (pid > 0) _exit(0);
    setsid();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    int null = open("/dev/null", O_RDWR);
    char lp[AGENT_PATH_MAX];
    snprintf(lp, sizeof lp, "%s/shim.log", s.state);
    int lf = open(lp, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(lf >= 0 ? lf : null, 2);
        if (null > 3) close(null);
    }
    if (lf > 3) close(lf);
    fcntl(3, F_SETFD, FD_CLOEXEC);
    _exit(shim_run(&s));
}
