/*
 * probes.c - liveness, readiness and startup probes with Kubernetes'
 * timing (initialDelaySeconds, periodSeconds, timeoutSeconds,
 * successThreshold, failureThreshold) and handlers:
 *   exec       `runc exec` in the container; exit 0 is success
 *   httpGet    from the node to the pod's IP; 200-399 is success
 *   tcpSocket  a connection that opens is success
 * Startup gates the other two; a liveness or startup failure past its
 * threshold has the container killed (and restarted per restartPolicy);
 * readiness only moves the Ready condition.
 * Probes run inside the pod's job on a worker thread, so they block: their
 * timeouts bound them (1 s by default).
 */
#include "nodeagent/agent_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int connect_to(const char *host, int port, unsigned timeout_ms, char *why, size_t whylen)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        snprintf(why, whylen, "bad probe host %s", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, whylen, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
        snprintf(why, whylen, "dial tcp %s:%d: connect: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    struct pollfd p = {fd, POLLOUT, 0};
    int r = poll(&p, 1, (int)timeout_ms);
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (r <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr) {
        snprintf(why, whylen, "dial tcp %s:%d: %s", host, port,
                 r <= 0 ? "i/o timeout" : strerror(soerr ? soerr : errno));
        close(fd);
        return -1;
    }
    return fd;
}

int probe_tcp(const char *host, int port, unsigned timeout_ms, char *why, size_t whylen)
{
    int fd = connect_to(host, port, timeout_ms, why, whylen);
    if (fd < 0) return -1;
    close(fd);
    return 0;
}

int probe_http(const char *host, int port, const char *path, const cJSON *headers,
               unsigned timeout_ms, char *why, size_t whylen)
{
    uint64_t deadline = time_mono_ms() + timeout_ms;
    int fd = connect_to(host, port, timeout_ms, why, whylen);
    if (fd < 0) return -1;
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: kube-probe/1.32\r\n"
                     "Accept: */*\r\nConnection: close\r\n",
                     *path ? path : "/", host, port);
    const cJSON *h;
    cJSON_ArrayForEach(h, headers)
    {
        n += snprintf(req + n, sizeof req - (size_t)n, "%s: %s\r\n", jstr(h, "name", "X"),
                      jstr(h, "value", ""));
        if ((size_t)n >= sizeof req - 4) break;
    }
    n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
    char resp[256];
    size_t got = 0;
    int rv = -1;
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        snprintf(why, whylen, "Get \"http://%s:%d%s\": write: %s", host, port, path,
                 strerror(errno));
        goto out;
    }
    while (got < sizeof resp - 1 && !memchr(resp, '\n', got)) {
        uint64_t now = time_mono_ms();
        struct pollfd p = {fd, POLLIN, 0};
        if (now >= deadline || poll(&p, 1, (int)(deadline - now)) <= 0) {
            snprintf(why, whylen,
                     "Get \"http://%s:%d%s\": context deadline exceeded (Client.Timeout exceeded "
                     "while awaiting headers)",
                     host, port, path);
            goto out;
        }
        ssize_t r = recv(fd, resp + got, sizeof resp - 1 - got, 0);
        if (r <= 0) break;
        got += (size_t)r;
    }
    resp[got] = 0;
    int code = 0;
    if (sscanf(resp, "HTTP/%*d.%*d %d", &code) != 1) {
        snprintf(why, whylen, "Get \"http://%s:%d%s\": malformed HTTP response", host, port, path);
        goto out;
    }
    if (code >= 200 && code < 400)
        rv = 0;
    else
        snprintf(why, whylen, "HTTP probe failed with statuscode: %d", code);
out:
    close(fd);
    return rv;
}

/* A named port ("http") is looked up among the container's ports. */
static int port_of(const cJSON *v, const cJSON *cspec)
{
    if (cJSON_IsNumber(v)) return (int)v->valuedouble;
    if (!cJSON_IsString(v)) return -1;
    char *end;
    long n = strtol(v->valuestring, &end, 10);
    if (!*end) return (int)n;
    const cJSON *p;
    cJSON_ArrayForEach(
        p, jget(cspec, "ports")) if (!strcmp(jstr(p, "name", ""),
                                             v->valuestring)) return (int)jnum(p, "containerPort",
                                                                               -1);
    return -1;
}

static bool run_one(struct node_ctx *nc, struct pod_rt *rt, struct ctr_rt *c, const cJSON *probe,
                    const cJSON *cspec, char *why, size_t whylen)
{
    unsigned timeout = (unsigned)jnum(probe, "timeoutSeconds", 1) * 1000u;
    if (!timeout) timeout = 1000;
    const cJSON *h;
    if ((h = jget(probe, "exec"))) {
        int status = -1;
        char *out = NULL;
        int rv = rt_exec(&nc->rc, c->id, jget(h, "command"), timeout, &status, &out);
        if (rv == -ETIMEDOUT)
            snprintf(why, whylen, "command timed out after %us", timeout / 1000);
        else if (rv || status)
            snprintf(why, whylen, "%.400s", out && *out ? out : "command failed");
        free(out);
        return rv == 0 && status == 0;
    }
    if ((h = jget(probe, "httpGet"))) {
        int port = port_of(jget(h, "port"), cspec);
        if (!strcmp(jstr(h, "scheme", "HTTP"), "HTTPS")) {
            snprintf(why, whylen, "HTTPS probes are not supported by picokube yet");
            return false;
        }
        if (port <= 0) {
            snprintf(why, whylen, "probe port not found among the container's ports");
            return false;
        }
        return probe_http(jstr(h, "host", rt->ip), port, jstr(h, "path", "/"),
                          jget(h, "httpHeaders"), timeout, why, whylen) == 0;
    }
    if ((h = jget(probe, "tcpSocket"))) {
        int port = port_of(jget(h, "port"), cspec);
        if (port <= 0) {
            snprintf(why, whylen, "probe port not found among the container's ports");
            return false;
        }
        return probe_tcp(jstr(h, "host", rt->ip), port, timeout, why, whylen) == 0;
    }
    snprintf(why, whylen, "probe handler not supported (exec, httpGet and tcpSocket are)");
    return false;
}

/* Runs one probe if due; true when its threshold of failures was crossed. */
static bool step(struct node_ctx *nc, struct pod_rt *rt, struct ctr_rt *c, const cJSON *probe,
                 const cJSON *cspec, struct probe_st *st, uint64_t now, uint64_t *next, char *why,
                 size_t whylen)
{
    if (!st->next_ms)
        st->next_ms = c->started_mono + (uint64_t)jnum(probe, "initialDelaySeconds", 0) * 1000;
    bool crossed = false;
    if (now >= st->next_ms) {
        char w[512] = "";
        bool ok = run_one(nc, rt, c, probe, cspec, w, sizeof w);
        if (ok) {
            st->failures = 0;
            if (++st->successes >= (int)jnum(probe, "successThreshold", 1)) st->ok = true;
            st->ever = true;
        } else {
            st->successes = 0;
            if (++st->failures >= (int)jnum(probe, "failureThreshold", 3)) {
                st->ok = false;
                st->ever = true;
                crossed = true;
                st->failures = 0;
                snprintf(why, whylen, "%s", w);
            }
        }
        uint64_t period = (uint64_t)jnum(probe, "periodSeconds", 10) * 1000;
        st->next_ms = now + (period ? period : 10000);
    }
    if (!*next || st->next_ms < *next) *next = st->next_ms;
    return crossed;
}

uint64_t probes_run(struct node_ctx *nc, struct pod_rt *rt, struct ctr_rt *c, const cJSON *cspec,
                    uint64_t now, bool *kill, char *why, size_t whylen)
{
    uint64_t next = 0;
    char w[512];
    *kill = false;
    if (c->state != CS_RUNNING) return 0;
    const cJSON *sp = jget(cspec, "startupProbe");
    if (sp && !c->startup.ok) {
        if (step(nc, rt, c, sp, cspec, &c->startup, now, &next, w, sizeof w)) {
            *kill = true;
            snprintf(why, whylen, "Startup probe failed: %s", w);
        }
        return next; /* liveness and readiness wait for the start */
    }
    const cJSON *lp = jget(cspec, "livenessProbe");
    if (lp && step(nc, rt, c, lp, cspec, &c->live, now, &next, w, sizeof w)) {
        *kill = true;
        snprintf(why, whylen, "Liveness probe failed: %s", w);
    }
    const cJSON *rp = jget(cspec, "readinessProbe");
    if (rp) step(nc, rt, c, rp, cspec, &c->ready, now, &next, w, sizeof w);
    return next;
}

bool probe_started(const struct ctr_rt *c, const cJSON *cspec)
{
    return !jget(cspec, "startupProbe") || c->startup.ok;
}

bool probe_ready(const struct ctr_rt *c, const cJSON *cspec)
{
    if (!probe_started(c, cspec)) return false;
    return !jget(cspec, "readinessProbe") || c->ready.ok;
}
