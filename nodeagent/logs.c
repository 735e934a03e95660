/*
 * logs.c - the kubelet's log endpoint on the agent's port (10250):
 *
 *   GET /containerLogs/<namespace>/<pod>/<container>
 *       ?follow=true&tailLines=N&sinceSeconds=S&sinceTime=T
 *       &timestamps=true&previous=true&limitBytes=B
 *
 * which the API server relays for `kubectl logs` (pods/log). Reads the
 * CRI log files the shims write (the rotated one first), strips the CRI
 * framing (or keeps the timestamp), and with follow keeps reading as the
 * file grows - across rotations - until the container instance ends or the
 * client leaves. Callers authenticate with the cluster token.
 * tailLines is done in two passes over the files, so memory stays small
 * whatever the size of the log.
 */
#include "nodeagent/agent_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FOLLOW_POLL_MS 250u

struct logreq {
    agent_t *a;
    http_req_t *req;
    char ns[64], pod[254], uid[64], container[64];
    int attempt;
    bool timestamps;
    long tail;         /* -1: all */
    uint64_t since_ns; /* 0: all */
    long limit;        /* -1: no limit */
    size_t sent;
    /* follow */
    uv_timer_t timer;
    int fd;
    ino_t ino;
    off_t dump_off; /* where the first read of the current file stopped */
    ino_t dump_ino;
    char path[AGENT_PATH_MAX];
    char *part;
    size_t part_len;
    bool gone;
    bool ended;
};

static void reply_status(http_req_t *req, cJSON *st)
{
    char *s = cJSON_PrintUnformatted(st);
    int code = (int)jnum(st, "code", 500);
    http_respond(req, code, "application/json", s ? s : "", s ? strlen(s) : 0);
    free(s);
    cJSON_Delete(st);
}

/* Writes one log record as the client wants it. false: stop (client gone
 * or limitBytes reached). */
static bool emit(struct logreq *r, const struct crilog_line *l)
{
    if (r->since_ns && l->ts_ns < r->since_ns) return true;
    char *buf = malloc(l->ts_len + l->msg_len + 3);
    if (!buf) return false;
    size_t n = 0;
    if (r->timestamps) {
        memcpy(buf, l->ts, l->ts_len);
        n = l->ts_len;
        buf[n++] = ' ';
    }
    memcpy(buf + n, l->msg, l->msg_len);
    n += l->msg_len;
    if (!l->partial) buf[n++] = '\n';
    bool more = true;
    if (r->limit >= 0 && r->sent + n >= (size_t)r->limit) {
        n = (size_t)r->limit - r->sent;
        more = false;
    }
    if (n && http_stream_write(r->req, buf, n) != 0) more = false;
    r->sent += n;
    free(buf);
    return more;
}

/* Lines of the files [rotated..., current] passing the since filter;
 * with count_only, just counts them. Returns false when output stopped. */
static bool dump(struct logreq *r, const char *path, long skip, long *count, bool count_only)
{
    char p[AGENT_PATH_MAX + 8];
    for (int i = AGENT_LOG_MAX_FILES - 1; i >= 0; i--) {
        if (i)
            snprintf(p, sizeof p, "%s.%d", path, i);
        else
            snprintf(p, sizeof p, "%s", path);
        FILE *f = fopen(p, "re");
        if (!f) continue;
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while ((len = getline(&line, &cap, f)) > 0) {
            if (line[len - 1] == '\n') len--;
            struct crilog_line l;
            if (crilog_parse(line, (size_t)len, &l) != 0) continue;
            if (r->since_ns && l.ts_ns < r->since_ns) continue;
            long idx = (*count)++;
            if (count_only || idx < skip) continue;
            if (!emit(r, &l)) {
                free(line);
                fclose(f);
                return false;
            }
        }
        free(line);
        struct stat sb;
        if (i == 0 && !count_only && fstat(fileno(f), &sb) == 0) {
            r->dump_off = ftell(f);
            r->dump_ino = sb.st_ino;
        }
        fclose(f);
    }
    return true;
}

static void log_path(struct logreq *r, int attempt, char *buf, size_t len)
{
    ctr_log_path(agent_node_ctx(r->a), r->ns, r->pod, r->uid, r->container, attempt, buf, len);
}

/* ------------------------------------------------------------------ follow */

static void follow_closed(uv_handle_t *h)
{
    struct logreq *r = h->data;
    if (r->fd >= 0) close(r->fd);
    free(r->part);
    free(r);
}

static void follow_end(struct logreq *r)
{
    if (r->ended) return;
    r->ended = true;
    uv_timer_stop(&r->timer);
    http_stream_end(r->req);
    uv_close((uv_handle_t *)&r->timer, follow_closed);
}

/* Emits the complete lines of what fd has beyond its offset. */
static bool drain_fd(struct logreq *r)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(r->fd, buf, sizeof buf);
        if (n <= 0) return true;
        char *np = realloc(r->part, r->part_len + (size_t)n);
        if (!np) return false;
        r->part = np;
        memcpy(r->part + r->part_len, buf, (size_t)n);
        r->part_len += (size_t)n;
        size_t start = 0;
        for (size_t i = 0; i < r->part_len; i++) {
            if (r->part[i] != '\n') continue;
            struct crilog_line l;
            if (crilog_parse(r->part + start, i - start, &l) == 0 && !emit(r, &l)) return false;
            start = i + 1;
        }
        memmove(r->part, r->part + start, r->part_len - start);
        r->part_len -= start;
    }
}

/* Is the instance this request follows still the running one? */
static bool instance_running(struct logreq *r)
{
    const char *uid = NULL;
    const cJSON *st = NULL;
    if (!podmgr_find(agent_podmgr(r->a), r->ns, r->pod, &uid, &st) || strcmp(uid, r->uid) != 0)
        return false;
    const char *lists[] = {"containerStatuses", "initContainerStatuses"};
    for (int l = 0; l < 2; l++) {
        const cJSON *c;
        cJSON_ArrayForEach(c, jget(st, lists[l]))
        {
            if (strcmp(jstr(c, "name", ""), r->container) != 0) continue;
            return (int)jnum(c, "restartCount", 0) == r->attempt &&
                   jget(jget(c, "state"), "running") != NULL;
        }
    }
    return false;
}

static void follow_tick(uv_timer_t *t)
{
    struct logreq *r = t->data;
    if (r->gone) {
        follow_end(r);
        return;
    }
    bool running = instance_running(r);
    if (!drain_fd(r)) {
        follow_end(r);
        return;
    }
    struct stat st;
    if (stat(r->path, &st) == 0 && st.st_ino != r->ino) {
        /* Rotated: the old file is read to its end above; go on with the new one. */
        int fd = open(r->path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            close(r->fd);
            r->fd = fd;
            r->ino = st.st_ino;
            if (!drain_fd(r)) {
                follow_end(r);
                return;
            }
        }
    }
    if (!running) follow_end(r); /* everything it wrote has been sent */
}

static void client_gone(http_req_t *req, void *arg)
{
    struct logreq *r = arg;
    (void)req;
    r->gone = true;
}

/* ------------------------------------------------------------------- entry */

static bool param_true(http_req_t *req, const char *name)
{
    const char *v = http_req_query(req, name);
    return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

static long param_long(http_req_t *req, const char *name, long def)
{
    const char *v = http_req_query(req, name);
    if (!v || !*v) return def;
    char *end;
    long n = strtol(v, &end, 10);
    return *end || n < 0 ? def : n;
}

static bool authorized(agent_t *a, http_req_t *req)
{
    const char *tok = agent_token(a), *h = http_req_header(req, "Authorization");
    if (!tok || !*tok || !h || strncmp(h, "Bearer ", 7) != 0) return false;
    const char *given = h + 7;
    size_t tl = strlen(tok), gl = strlen(given);
    unsigned diff = (unsigned)(tl ^ gl);
    for (size_t i = 0; i < tl; i++)
        diff |= (unsigned)(tok[i] ^ given[i < gl ? i : 0]);
    return diff == 0;
}

void logs_serve(agent_t *a, http_req_t *req, const char *rest)
{
    char msg[600];
    if (!authorized(a, req)) {
        reply_status(req, api_status_unauthorized(NULL));
        return;
    }
    char ns[64], pod[254], container[64];
    if (sscanf(rest, "%63[^/]/%253[^/]/%63[^/]", ns, pod, container) != 3) {
        reply_status(req, api_status_not_found("", "pods", rest));
        return;
    }
    const char *uid = NULL;
    const cJSON *st = NULL;
    if (!podmgr_find(agent_podmgr(a), ns, pod, &uid, &st)) {
        reply_status(req, api_status_not_found("", "pods", pod));
        return;
    }
    const cJSON *cs = NULL, *c;
    const char *lists[] = {"containerStatuses", "initContainerStatuses"};
    for (int l = 0; l < 2; l++)
        cJSON_ArrayForEach(c, jget(st, lists[l])) if (!strcmp(jstr(c, "name", ""), container)) cs =
            c;
    if (!cs) {
        snprintf(msg, sizeof msg, "container %s is not valid for pod %s", container, pod);
        reply_status(req, api_status_bad_request(msg));
        return;
    }
    struct logreq *r = calloc(1, sizeof *r);
    if (!r) {
        reply_status(req, api_status_internal("out of memory"));
        return;
    }
    r->a = a;
    r->req = req;
    r->fd = -1;
    snprintf(r->ns, sizeof r->ns, "%s", ns);
    snprintf(r->pod, sizeof r->pod, "%s", pod);
    snprintf(r->uid, sizeof r->uid, "%s", uid);
    snprintf(r->container, sizeof r->container, "%s", container);
    bool previous = param_true(req, "previous");
    r->attempt = (int)jnum(cs, "restartCount", 0) - (previous ? 1 : 0);
    r->timestamps = param_true(req, "timestamps");
    r->tail = param_long(req, "tailLines", -1);
    r->limit = param_long(req, "limitBytes", -1);
    long since = param_long(req, "sinceSeconds", 0);
    uint64_t since_ms = 0;
    if (since > 0) r->since_ns = (time_wall_ms() - (uint64_t)since * 1000u) * 1000000ull;
    const char *stime = http_req_query(req, "sinceTime");
    if (stime && time_parse_rfc3339(stime, &since_ms) == 0) r->since_ns = since_ms * 1000000ull;
    log_path(r, r->attempt, r->path, sizeof r->path);
    struct stat sb;
    if (r->attempt < 0 || stat(r->path, &sb) != 0) {
        const cJSON *w = jget(jget(cs, "state"), "waiting");
        if (previous)
            snprintf(msg, sizeof msg,
                     "previous terminated container \"%s\" in pod \"%s\" not found", container,
                     pod);
        else
            snprintf(msg, sizeof msg, "container \"%s\" in pod \"%s\" is waiting to start: %s",
                     container, pod, jstr(w, "reason", "ContainerCreating"));
        free(r);
        reply_status(req, api_status_bad_request(msg));
        return;
    }
    if (http_stream_begin(req, 200, "text/plain") != 0) {
        free(r);
        return;
    }
    long count = 0;
    bool more = true;
    if (r->tail >= 0) {
        dump(r, r->path, 0, &count, true);
        long skip = count > r->tail ? count - r->tail : 0;
        count = 0;
        more = dump(r, r->path, skip, &count, false);
    } else {
        more = dump(r, r->path, 0, &count, false);
    }
    if (!more || !param_true(req, "follow") || previous || !instance_running(r)) {
        /* Lines written between the dump and now are the follow's to send;
         * without follow the answer ends here. */
        http_stream_end(req);
        free(r);
        return;
    }
    r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0 || fstat(r->fd, &sb) != 0) {
        if (r->fd >= 0) close(r->fd);
        http_stream_end(req);
        free(r);
        return;
    }
    r->ino = sb.st_ino;
    lseek(r->fd, sb.st_ino == r->dump_ino ? r->dump_off : 0, SEEK_SET);
    uv_timer_init(agent_loop(a), &r->timer);
    r->timer.data = r;
    http_req_on_close(req, client_gone, r);
    uv_timer_start(&r->timer, follow_tick, FOLLOW_POLL_MS, FOLLOW_POLL_MS);
}
