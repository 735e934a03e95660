/*
 * exec.c - runs iptables and ip with input on stdin and output captured.
 *
 * The proxy thread shares its process with the API server and the agent,
 * so the child is started with posix_spawnp (no fork of a big threaded
 * process), every descriptor made here is close-on-exec (no other thread's
 * child inherits it), stdin is a socket written with MSG_NOSIGNAL (a child
 * that exits early is an error, not a SIGPIPE for the whole process), and
 * only the child's own PID is waited for.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proxy/proxy_int.h"

extern char **environ;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int pk_exec(const char *const *argv, const char *in, size_t in_len, char **out, unsigned timeout_ms,
            char *err, size_t errlen)
{
    int insock[2] = {-1, -1}, outp[2] = {-1, -1};
    struct pk_buf ob = {0};
    pid_t pid = -1;
    int status = -1;
    if (out) *out = NULL;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, insock) < 0 ||
        pipe2(outp, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "%s: cannot make pipes: %s", argv[0], strerror(errno));
        goto out;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, insock[1], 0);
    posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    posix_spawn_file_actions_adddup2(&fa, outp[1], 2);
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(insock[1]);
    close(outp[1]);
    insock[1] = outp[1] = -1;
    if (rc != 0) {
        pid = -1;
        snprintf(err, errlen, "cannot run %s: %s (is it installed and in PATH?)", argv[0],
                 strerror(rc));
        goto out;
    }
    fcntl(insock[0], F_SETFL, O_NONBLOCK);
    size_t sent = 0;
    if (!in || !in_len) {
        close(insock[0]);
        insock[0] = -1;
    }
    long long deadline = now_ms() + (timeout_ms ? timeout_ms : 30000);
    bool timed_out = false;
    while (outp[0] >= 0) {
        struct pollfd p[2] = {{.fd = outp[0], .events = POLLIN},
                              {.fd = insock[0], .events = POLLOUT}};
        long long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        int n = poll(p, insock[0] >= 0 ? 2 : 1, (int)left);
        if (n < 0 && errno != EINTR) break;
        if (n <= 0) continue;
        if (insock[0] >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = send(insock[0], in + sent, in_len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0) sent += (size_t)w;
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || sent == in_len) {
                close(insock[0]); /* EOF for the child; EPIPE: it stopped reading */
                insock[0] = -1;
            }
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char chunk[4096];
            ssize_t r = read(outp[0], chunk, sizeof(chunk));
            if (r > 0) {
                pk_buf_append(&ob, chunk, (size_t)r);
            } else if (r == 0 || errno != EINTR) {
                close(outp[0]);
                outp[0] = -1;
            }
        }
    }
    if (timed_out) kill(pid, SIGKILL);
    int ws = 0;
    pid_t w;
    while ((w = waitpid(pid, &ws, 0)) < 0 && errno == EINTR) {
    }
    if (w < 0) {
        /* Someone else in the process reaped it (waitpid(-1)). */
        snprintf(err, errlen, "%s: lost its exit status: %s", argv[0], strerror(errno));
    } else if (timed_out) {
        snprintf(err, errlen, "%s did not finish within %u ms; killed", argv[0],
                 timeout_ms ? timeout_ms : 30000);
    } else if (WIFEXITED(ws)) {
        status = WEXITSTATUS(ws);
        if (status != 0)
            snprintf(err, errlen, "%s exited with %d: %.*s", argv[0], status, 400,
                     ob.s ? ob.s : "");
    } else {
        snprintf(err, errlen, "%s killed by signal %d", argv[0],
                 WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
    }
out:
    for (char *c = err; *c; c++) /* one line for the log */
        if (*c == '\n' || *c == '\r') *c = ' ';
    for (int i = 0; i < 2; i++) {
        if (insock[i] >= 0) close(insock[i]);
        if (outp[i] >= 0) close(outp[i]);
    }
    if (out && status >= 0)
        *out = pk_buf_take(&ob);
    else
        pk_buf_free(&ob);
    return status;
}
