/*
 * testutil.h - helpers of the controller unit tests: objects from JSON text
 * (single quotes allowed, for readability) and fixed clocks.
 */
#ifndef CTRL_TESTUTIL_H
#define CTRL_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "controller/ctrl_int.h"

#define TU_FN static __attribute__((unused))

/* JSON with ' for " (no test value needs a real single quote). */
TU_FN cJSON *J(const char *text)
{
    char *t = strdup(text);
    for (char *p = t; *p; p++)
        if (*p == '\'') *p = '"';
    cJSON *o = cJSON_Parse(t);
    if (!o) fail_msg("bad test JSON: %s", t);
    free(t);
    return o;
}

/* printf-style J. */
TU_FN cJSON *JF(const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return J(buf);
}

/* 2026-11-24T08:00:00Z plus s seconds, as wall ms. */
#define T0 1795507200000ULL
TU_FN const char *ts(int s)
{
    static char bufs[8][40];
    static int i;
    char *b = bufs[i++ % 8];
    time_format_rfc3339(T0 + (uint64_t)s * 1000, b, 40);
    return b;
}

#endif
