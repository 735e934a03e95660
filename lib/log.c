/*
 * log.c - one line per message on stderr: "<RFC3339 ms>Z <L> component: text".
 *
 * Every component thread logs, so a line is formatted into a private buffer
 * first and written with a single locked fwrite: lines never interleave. The
 * level is read from PICOKUBE_LOG once, at first use, so that main() need not
 * call anything before logging.
 */
#include "lib/lib.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static pthread_once_t level_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static int cur_level = PKLOG_INFO; /* accessed with __atomic builtins */

static void level_from_env(void)
{
    const char *v = getenv("PICOKUBE_LOG");
    if (!v || !*v) return;
    int lvl = -1;
    if (!strcasecmp(v, "debug"))
        lvl = PKLOG_DEBUG;
    else if (!strcasecmp(v, "info"))
        lvl = PKLOG_INFO;
    else if (!strcasecmp(v, "warn") || !strcasecmp(v, "warning"))
        lvl = PKLOG_WARN;
    else if (!strcasecmp(v, "error"))
        lvl = PKLOG_ERROR;
    if (lvl < 0) {
        fprintf(stderr,
                "picokube: PICOKUBE_LOG=%s is not one of debug, info, warn, error; "
                "using info\n",
                v);
        return;
    }
    __atomic_store_n(&cur_level, lvl, __ATOMIC_RELAXED);
}

void log_set_level(enum log_level level)
{
    /* Run the env lookup first so that it cannot later override this call. */
    pthread_once(&level_once, level_from_env);
    __atomic_store_n(&cur_level, (int)level, __ATOMIC_RELAXED);
}

enum log_level log_get_level(void)
{
    pthread_once(&level_once, level_from_env);
    return (enum log_level)__atomic_load_n(&cur_level, __ATOMIC_RELAXED);
}

void log_msg(enum log_level level, const char *component, const char *fmt, ...)
{
    if ((int)level < (int)log_get_level()) return;
    static const char letters[] = "DIWE";
    char letter = (level >= PKLOG_DEBUG && level <= PKLOG_ERROR) ? letters[level] : '?';

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);

    char stackbuf[1024];
    char *buf = stackbuf;
    size_t cap = sizeof(stackbuf);
    int head = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %c %s: ", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        ts.tv_nsec / 1000000, letter, component ? component : "-");
    if (head < 0) return;

    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int body = vsnprintf(buf + head, cap - (size_t)head, fmt, ap);
    va_end(ap);
    if (body < 0) {
        va_end(ap2);
        return;
    }
    size_t total = (size_t)head + (size_t)body;
    if (total + 2 > cap) {
        /* Long message (a dumped object, say): format again into a heap copy. */
        cap = total + 2;
        buf = malloc(cap);
        if (!buf) {
            va_end(ap2);
            return;
        }
        memcpy(buf, stackbuf, (size_t)head);
        vsnprintf(buf + head, cap - (size_t)head, fmt, ap2);
    }
    va_end(ap2);
    /* One message is one line: a trailing newline in fmt is not doubled. */
    if (total == 0 || buf[total - 1] != '\n') buf[total++] = '\n';

    pthread_mutex_lock(&out_lock);
    fwrite(buf, 1, total, stderr);
    fflush(stderr);
    pthread_mutex_unlock(&out_lock);
    if (buf != stackbuf) free(buf);
}
