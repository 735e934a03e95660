/*
 * flags.c - GNU-style long flags for the picokube and kctl command lines.
 *
 * "--name value", "--name=value", "-name" (as Go's flag package and kubectl
 * accept), boolean flags without a value, repeatable list flags that also take
 * comma-separated values, "--" ending the flags. Positional arguments are
 * moved to the front of argv so that subcommands can be parsed in turn.
 *
 * Comma-separated list items are copied into an arena kept reachable from a
 * static pointer: the flag values live as long as the process, and argv is
 * left as the user typed it (ps shows it).
 */
#include "lib/lib.h"
#include "lib/sbuf.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct arena_str {
    struct arena_str *next;
    char s[];
};
static struct arena_str *arena;
static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *arena_strndup(const char *s, size_t n)
{
    struct arena_str *a = xmalloc(sizeof(*a) + n + 1);
    memcpy(a->s, s, n);
    a->s[n] = '\0';
    pthread_mutex_lock(&arena_lock);
    a->next = arena;
    arena = a;
    pthread_mutex_unlock(&arena_lock);
    return a->s;
}

static const struct flag_spec *find_spec(const struct flag_spec *specs, const char *name,
                                         size_t len)
{
    for (const struct flag_spec *s = specs; s->name; s++)
        if (strlen(s->name) == len && !strncmp(s->name, name, len)) return s;
    return NULL;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *yes[] = {"1", "t", "true", "y", "yes", "on"};
    static const char *no[] = {"0", "f", "false", "n", "no", "off"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (!strcasecmp(v, yes[i])) {
            *out = true;
            return 0;
        }
        if (!strcasecmp(v, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

static int set_value(const struct flag_spec *s, const char *shown, const char *v, char *err,
                     size_t errlen)
{
    switch (s->type) {
    case FLAG_STRING:
        *(const char **)s->dest = v;
        return 0;
    case FLAG_BOOL:
        if (parse_bool(v, (bool *)s->dest) < 0) {
            snprintf(err, errlen, "flag %s: \"%s\" is not a boolean (use true or false)", shown, v);
            return -1;
        }
        return 0;
    case FLAG_INT: {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (!*v || *end || errno) {
            snprintf(err, errlen, "flag %s: \"%s\" is not a number", shown, v);
            return -1;
        }
        *(long *)s->dest = n;
        return 0;
    }
    case FLAG_LIST: {
        struct flag_list *l = s->dest;
        const char *p = v;
        for (;;) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            if (n > 0) {
                if (l->n >= sizeof(l->items) / sizeof(l->items[0])) {
                    snprintf(err, errlen, "flag %s: too many values (at most %zu)", shown,
                             sizeof(l->items) / sizeof(l->items[0]));
                    return -1;
                }
                l->items[l->n++] = comma || p != v ? arena_strndup(p, n) : v;
            }
            if (!comma) break;
            p = comma + 1;
        }
        return 0;
    }
    }
    snprintf(err, errlen, "flag %s has an unknown type", shown);
    return -1;
}

int flags_parse(const struct flag_spec *specs, int argc, char **argv, char *err, size_t errlen)
{
    if (errlen) err[0] = '\0';
    if (argc <= 0) return 0;
    char **pos = xcalloc((size_t)argc, sizeof(char *));
    char **flagv = xcalloc((size_t)argc, sizeof(char *));
    int npos = 0, nflag = 0, rc = 0;

    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        if (!strcmp(a, "--")) {
            flagv[nflag++] = a;
            for (i++; i < argc; i++)
                pos[npos++] = argv[i];
            break;
        }
        /* "-" alone (stdin) and anything not starting with '-' are positional. */
        if (a[0] != '-' || a[1] == '\0') {
            pos[npos++] = a;
            continue;
        }
        flagv[nflag++] = a;
        const char *name = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        char shown[128];
        snprintf(shown, sizeof(shown), "%.*s%.*s", (int)(name - a), a, (int)nlen, name);
        const struct flag_spec *s = find_spec(specs, name, nlen);
        if (!s || nlen == 0) {
            snprintf(err, errlen, "unknown flag: %s", shown);
            rc = -1;
            break;
        }
        const char *value;
        if (eq) {
            value = eq + 1;
        } else if (s->type == FLAG_BOOL) {
            value = "true";
        } else {
            /* The next argument is the value, unless it is itself a long
             * flag: "--server --token x" is a forgotten value, not a server
             * named "--token". "-1" stays a value (a negative number). */
            if (i + 1 >= argc || !strncmp(argv[i + 1], "--", 2)) {
                snprintf(err, errlen, "flag %s needs a value", shown);
                rc = -1;
                break;
            }
            value = argv[++i];
            flagv[nflag++] = argv[i];
        }
        if (set_value(s, shown, value, err, errlen) < 0) {
            rc = -1;
            break;
        }
    }
    if (rc == 0) {
        for (int i = 0; i < npos; i++)
            argv[i] = pos[i];
        for (int i = 0; i < nflag; i++)
            argv[npos + i] = flagv[i];
        rc = npos;
    }
    free(pos);
    free(flagv);
    return rc;
}

void flags_usage(FILE *out, const struct flag_spec *specs)
{
    static const char *hints[] = {"string", "", "int", "strings"};
    size_t width = 0;
    for (const struct flag_spec *s = specs; s->name; s++) {
        size_t w = strlen(s->name) + (s->type == FLAG_BOOL ? 0 : 1 + strlen(hints[s->type]));
        if (w > width) width = w;
    }
    for (const struct flag_spec *s = specs; s->name; s++) {
        char left[160];
        if (s->type == FLAG_BOOL)
            snprintf(left, sizeof(left), "%s", s->name);
        else
            snprintf(left, sizeof(left), "%s %s", s->name, hints[s->type]);
        fprintf(out, "  --%-*s  %s\n", (int)width, left, s->help ? s->help : "");
    }
}
