/*
 * crilog.c - container log files in the CRI format the kubelet uses:
 *
 *   2026-11-24T08:00:00.123456789Z stdout F a whole line
 *   2026-11-24T08:00:00.223456789Z stderr P the start of a very long li
 *
 * written by the shim (one writer per file), read by the log endpoint.
 * A file is rotated when it passes its size: path -> path.1 -> path.2 ...
 * keeping max_files files in all, so a chatty container cannot fill an SD
 * card. Lines longer than the buffer are split into P(artial) pieces.
 */
#include "nodeagent/agent_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int crilog_open(struct crilog_w *w, const char *path, uint64_t max_bytes, int max_files)
{
    memset(w, 0, sizeof *w);
    snprintf(w->path, sizeof w->path, "%s", path);
    w->max_bytes = max_bytes ? max_bytes : AGENT_LOG_MAX_BYTES;
    w->max_files = max_files > 0 ? max_files : AGENT_LOG_MAX_FILES;
    w->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (w->fd < 0) return -errno;
    struct stat st;
    if (fstat(w->fd, &st) == 0) w->size = (uint64_t)st.st_size;
    return 0;
}

static void rotate(struct crilog_w *w)
{
    char from[AGENT_PATH_MAX + 24], to[AGENT_PATH_MAX + 24];
    for (int i = w->max_files - 1; i >= 1; i--) {
        if (i == 1)
            snprintf(from, sizeof from, "%s", w->path);
        else
            snprintf(from, sizeof from, "%s.%d", w->path, i - 1);
        snprintf(to, sizeof to, "%s.%d", w->path, i);
        rename(from, to);
    }
    if (w->max_files <= 1) unlink(w->path);
    close(w->fd);
    w->fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    w->size = 0;
}

static void emit(struct crilog_w *w, int stream, bool partial, const char *msg, size_t len)
{
    if (w->fd < 0) return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char head[80];
    time_format_nano((uint64_t)ts.tv_sec, ts.tv_nsec, head, sizeof head);
    size_t hl = strlen(head);
    hl += (size_t)snprintf(head + hl, sizeof head - hl, " %s %c ", stream ? "stderr" : "stdout",
                           partial ? 'P' : 'F');
    /* One write per line: a reader never sees half a record. */
    char *buf = malloc(hl + len + 1);
    if (!buf) return;
    memcpy(buf, head, hl);
    memcpy(buf + hl, msg, len);
    buf[hl + len] = '\n';
    ssize_t n = write(w->fd, buf, hl + len + 1);
    free(buf);
    if (n > 0) w->size += (uint64_t)n;
    if (w->size >= w->max_bytes) rotate(w);
}

void crilog_write(struct crilog_w *w, int stream, const char *data, size_t len)
{
    stream = stream ? 1 : 0;
    char *part = w->part[stream];
    size_t *pl = &w->plen[stream];
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;
        if (*pl + take >= sizeof w->part[0]) {
            /* Too long for one record: a partial piece now. */
            size_t room = sizeof w->part[0] - *pl;
            memcpy(part + *pl, data, room);
            emit(w, stream, true, part, sizeof w->part[0]);
            *pl = 0;
            data += room;
            len -= room;
            continue;
        }
        memcpy(part + *pl, data, take);
        *pl += take;
        if (!nl) return;
        emit(w, stream, false, part, *pl);
        *pl = 0;
        data += take + 1;
        len -= take + 1;
    }
}

void crilog_flush(struct crilog_w *w, int stream)
{
    stream = stream ? 1 : 0;
    if (w->plen[stream]) emit(w, stream, false, w->part[stream], w->plen[stream]);
    w->plen[stream] = 0;
}

void crilog_close(struct crilog_w *w)
{
    crilog_flush(w, 0);
    crilog_flush(w, 1);
    if (w->fd >= 0) close(w->fd);
    w->fd = -1;
}

static uint64_t parse_ts(const char *s, size_t len)
{
    /* 2026-11-24T08:00:00.123456789Z */
    struct tm tm = {0};
    if (len < 20) return 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    uint64_t sec = (uint64_t)timegm(&tm), ns = 0;
    size_t i = 19;
    if (i < len && s[i] == '.') {
        uint64_t scale = 100000000;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            ns += (uint64_t)(s[i] - '0') * scale;
            scale /= 10;
        }
    }
    return sec * 1000000000ull + ns;
}

int crilog_parse(const char *line, size_t len, struct crilog_line *out)
{
    const char *end = line + len;
    const char *sp1 = memchr(line, ' ', len);
    if (!sp1) return -1;
    const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
    if (!sp2) return -1;
    size_t sl = (size_t)(sp2 - sp1 - 1);
    if (sl == 6 && !memcmp(sp1 + 1, "stdout", 6))
        out->stream = 0;
    else if (sl == 6 && !memcmp(sp1 + 1, "stderr", 6))
        out->stream = 1;
    else
        return -1;
    const char *tag = sp2 + 1;
    if (tag >= end) return -1;
    out->partial = *tag == 'P';
    const char *msg = tag + 1;
    if (msg < end && *msg == ' ') msg++;
    out->ts = line;
    out->ts_len = (size_t)(sp1 - line);
    out->ts_ns = parse_ts(line, out->ts_len);
    out->msg = msg;
    out->msg_len = msg < end ? (size_t)(end - msg) : 0;
    return 0;
}
