/*
 * osutil.c - running helper programs (runc, ip, iptables) and file-system
 * chores for the rest of the agent.
 *
 * The agent execs its tools instead of linking them (runc has no C API;
 * iproute2 and iptables are what every distribution ships and what an
 * admin can read back). Programs are started with posix_spawn, which is
 * safe from the worker threads of a process that also runs other loops,
 * and every descriptor the agent opens is close-on-exec so a container
 * never inherits one. Waiting is by pid, never waitpid(-1): other parts of
 * the process may have children of their own.
 */
#include "nodeagent/agent_int.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int ex_spawn(const char *const *argv, int fd_in, int fd_out, int fd_err, int fd3, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int rv = posix_spawn_file_actions_init(&fa);
    if (rv) return -rv;
    posix_spawnattr_init(&at);
    /* The child starts with default signal dispositions and no blocked
     * signals, whatever the spawning thread had. */
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    int devnull = -1;
    if (fd_in < 0 || fd_out < 0 || fd_err < 0) {
        devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull < 0) {
            rv = errno;
            goto out;
        }
    }
    posix_spawn_file_actions_adddup2(&fa, fd_in >= 0 ? fd_in : devnull, 0);
    posix_spawn_file_actions_adddup2(&fa, fd_out >= 0 ? fd_out : devnull, 1);
    posix_spawn_file_actions_adddup2(&fa, fd_err >= 0 ? fd_err : devnull, 2);
    if (fd3 >= 0) posix_spawn_file_actions_adddup2(&fa, fd3, 3);
    rv = posix_spawn(pid, argv[0], &fa, &at, (char *const *)argv, environ);
out:
    if (devnull >= 0) close(devnull);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return -rv;
}

int ex_wait(pid_t pid, int *status)
{
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, 0);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) return -errno;
    }
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return 0;
}

/* Appends what fd has to *buf (capped at 1 MiB: tool output, not data). */
static int drain(int fd, char **buf, size_t *len, size_t *cap)
{
    char tmp[4096];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0) return n == 0 || (errno != EINTR && errno != EAGAIN) ? 1 : 0;
    if (*len + (size_t)n + 1 > *cap) {
        if (*len > (1u << 20)) return 0;
        size_t nc = (*cap ? *cap * 2 : 8192) + (size_t)n;
        char *nb = realloc(*buf, nc);
        if (!nb) return 0;
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, tmp, (size_t)n);
    *len += (size_t)n;
    (*buf)[*len] = 0;
    return 0;
}

int ex_run(const char *const *argv, const char *in, size_t in_len, unsigned timeout_ms, char **out,
           char **errout, int *status)
{
    int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
    char *ob = NULL, *eb = NULL;
    size_t ol = 0, oc = 0, el = 0, ec = 0;
    pid_t pid;
    int rv;
    if (out) *out = NULL;
    if (errout) *errout = NULL;
    if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) {
        rv = -errno;
        goto out;
    }
    rv = ex_spawn(argv, pin[0], pout[1], perr[1], -1, &pid);
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    pin[0] = pout[1] = perr[1] = -1;
    if (rv) goto out;
    size_t off = 0;
    if (!in || !in_len) {
        close(pin[1]);
        pin[1] = -1;
    } else {
        fcntl(pin[1], F_SETFL, O_NONBLOCK);
    }
    uint64_t deadline = time_mono_ms() + (timeout_ms ? timeout_ms : 60000);
    bool timed_out = false;
    while (pout[0] >= 0 || perr[0] >= 0) {
        struct pollfd p[3];
        int n = 0, io = -1, ie = -1, ii = -1;
        if (pout[0] >= 0) p[io = n++] = (struct pollfd){pout[0], POLLIN, 0};
        if (perr[0] >= 0) p[ie = n++] = (struct pollfd){perr[0], POLLIN, 0};
        if (pin[1] >= 0) p[ii = n++] = (struct pollfd){pin[1], POLLOUT, 0};
        uint64_t now = time_mono_ms();
        if (now >= deadline) {
            timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        int r = poll(p, (nfds_t)n, (int)(deadline - now));
        if (r < 0 && errno != EINTR) break;
        if (r <= 0) continue;
        if (io >= 0 && p[io].revents && drain(pout[0], &ob, &ol, &oc)) {
            close(pout[0]);
            pout[0] = -1;
        }
        if (ie >= 0 && p[ie].revents && drain(perr[0], &eb, &el, &ec)) {
            close(perr[0]);
            perr[0] = -1;
        }
        if (ii >= 0 && p[ii].revents) {
            ssize_t w = (p[ii].revents & POLLOUT) ? write(pin[1], in + off, in_len - off) : -1;
            if (w > 0) off += (size_t)w;
            if (w < 0 || off >= in_len) {
                close(pin[1]);
                pin[1] = -1;
            }
        }
    }
    rv = ex_wait(pid, status);
    if (!rv && timed_out) rv = -ETIMEDOUT;
out:
    for (int i = 0; i < 2; i++) {
        if (pin[i] >= 0) close(pin[i]);
        if (pout[i] >= 0) close(pout[i]);
        if (perr[i] >= 0) close(perr[i]);
    }
    if (out)
        *out = ob ? ob : strdup("");
    else
        free(ob);
    if (errout)
        *errout = eb ? eb : strdup("");
    else
        free(eb);
    return rv;
}

/* The last non-empty line of a tool's stderr, trimmed, for messages. */
static void last_line(const char *s, char *buf, size_t len)
{
    const char *end = s + strlen(s);
    while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        end--;
    const char *start = end;
    while (start > s && start[-1] != '\n')
        start--;
    snprintf(buf, len, "%.*s", (int)(end - start), start);
}

int ex_check(const char *const *argv, const char *in, unsigned timeout_ms, char *err, size_t errlen)
{
    char *eo = NULL;
    int status = 0;
    int rv = ex_run(argv, in, in ? strlen(in) : 0, timeout_ms, NULL, &eo, &status);
    if (rv == 0 && status == 0) {
        free(eo);
        return 0;
    }
    char line[400] = "";
    if (eo) last_line(eo, line, sizeof line);
    if (rv == -ETIMEDOUT)
        snprintf(err, errlen, "%s timed out", argv[0]);
    else if (rv)
        snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(-rv));
    else
        snprintf(err, errlen, "%s failed (exit %d): %s", argv[0], status, line);
    free(eo);
    return -1;
}

int ex_ip_batch(const char *netns, const char *batch, char *err, size_t errlen)
{
    const char *argv[8];
    int n = 0;
    argv[n++] = agent_tool("ip");
    if (netns) {
        argv[n++] = "-n";
        argv[n++] = netns;
    }
    argv[n++] = "-batch";
    argv[n++] = "-";
    argv[n] = NULL;
    return ex_check(argv, batch, 10000, err, errlen);
}

const char *agent_tool(const char *name)
{
    /* Debian keeps ip and iptables in /usr/sbin, which a service's PATH may
     * lack; look in the usual places before trusting PATH. */
    static const char *const dirs[] = {"/usr/sbin",       "/sbin",          "/usr/bin", "/bin",
                                       "/usr/local/sbin", "/usr/local/bin", NULL};
    static __thread char buf[256];
    for (int i = 0; dirs[i]; i++) {
        snprintf(buf, sizeof buf, "%s/%s", dirs[i], name);
        if (access(buf, X_OK) == 0) return buf;
    }
    snprintf(buf, sizeof buf, "/usr/sbin/%s", name);
    return buf;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

int fs_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -errno;
    /* FTW_MOUNT: never descend into something still mounted (an overlay
     * rootfs, a tmpfs emptyDir): deleting through it would delete the
     * shared image layers or a volume's data. */
    if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0) return -errno;
    return lstat(path, &st) == 0 ? -EBUSY : 0;
}

bool fs_is_mountpoint(const char *path)
{
    char *mi = file_read_all("/proc/self/mountinfo", NULL);
    if (!mi) return false;
    bool found = false;
    size_t pl = strlen(path);
    for (char *line = mi; line && *line && !found;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        /* id parent major:minor root mount-point ... */
        char *f = line;
        for (int i = 0; i < 4 && f; i++) {
            f = strchr(f, ' ');
            if (f) f++;
        }
        if (f && !strncmp(f, path, pl) && (f[pl] == ' ')) found = true;
        line = nl ? nl + 1 : NULL;
    }
    free(mi);
    return found;
}

int fs_umount(const char *path)
{
    for (int i = 0; i < 8; i++) {
        if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) != 0) {
            if (errno == EINVAL || errno == ENOENT) return 0; /* not (or no longer) mounted */
            return -errno;
        }
    }
    return 0;
}

int fs_write_file(const char *path, const char *data, size_t len, int mode)
{
    char tmp[AGENT_PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return -errno;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return -e;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return -e;
    }
    return 0;
}

int fs_write_json(const char *path, const cJSON *obj, bool durable)
{
    char *s = cJSON_PrintUnformatted(obj);
    if (!s) return -ENOMEM;
    int rv = durable ? file_write_atomic(path, s, strlen(s), 0600)
                     : fs_write_file(path, s, strlen(s), 0600);
    free(s);
    return rv;
}

cJSON *fs_read_json(const char *path)
{
    char *s = file_read_all(path, NULL);
    if (!s) return NULL;
    cJSON *j = cJSON_Parse(s);
    free(s);
    return j;
}

void time_format_nano(uint64_t sec, long nsec, char *buf, size_t len)
{
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nsec);
}

void time_format_micro(uint64_t wall_ms, char *buf, size_t len)
{
    time_t t = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(wall_ms % 1000) * 1000u);
}

uint32_t hash32(const void *data, size_t len)
{
    /* FNV-1a: names and change detection, not security. */
    const unsigned char *p = data;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}
