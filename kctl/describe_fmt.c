/*
 * describe_fmt.c - the writer kubectl's describers print through: lines at
 * indentation levels whose tab-separated cells are laid out afterwards as
 * Go's text/tabwriter does (padding 2, each column aligned over the run of
 * consecutive lines that have it), plus the sections every describer
 * shares: multi-line label and annotation maps, and the Events table.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kctl/describe_int.h"

void dw_init(dw_t *w)
{
    memset(w, 0, sizeof *w);
}

void dw_line(dw_t *w, int level, const char *fmt, ...)
{
    char buf[4096];
    int ind = level * 2;
    memset(buf, ' ', (size_t)ind);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + ind, sizeof buf - (size_t)ind, fmt, ap);
    va_end(ap);
    /* one entry per physical line */
    char *p = buf;
    while (*p) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (w->n == w->cap) {
            size_t cap = w->cap ? w->cap * 2 : 64;
            char **l = realloc(w->lines, cap * sizeof *l);
            if (!l) return;
            w->lines = l;
            w->cap = cap;
        }
        w->lines[w->n] = strndup(p, n);
        w->n++;
        p += n + (nl ? 1 : 0);
    }
}

/* Number of tab-terminated cells of a line. */
static int tabs(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\t';
    return n;
}

static const char *cell(const char *s, int col, size_t *len)
{
    for (int i = 0; i < col; i++)
        s = strchr(s, '\t') + 1;
    const char *t = strchr(s, '\t');
    *len = t ? (size_t)(t - s) : strlen(s);
    return s;
}

static void layout(dw_t *w, size_t *widths, int maxcol, size_t l0, size_t l1, int col)
{
    if (col >= maxcol) return;
    for (size_t i = l0; i < l1;) {
        if (tabs(w->lines[i]) <= col) {
            i++;
            continue;
        }
        size_t start = i, width = 0;
        for (; i < l1 && tabs(w->lines[i]) > col; i++) {
            size_t len;
            cell(w->lines[i], col, &len);
            if (len + 2 > width) width = len + 2;
        }
        for (size_t j = start; j < i; j++)
            widths[j * (size_t)maxcol + (size_t)col] = width;
        layout(w, widths, maxcol, start, i, col + 1);
    }
}

void dw_flush(dw_t *w, FILE *out)
{
    int maxcol = 1;
    for (size_t i = 0; i < w->n; i++)
        if (tabs(w->lines[i]) + 1 > maxcol) maxcol = tabs(w->lines[i]) + 1;
    size_t *widths = calloc(w->n * (size_t)maxcol + 1, sizeof *widths);
    if (!widths) return;
    layout(w, widths, maxcol, 0, w->n, 0);
    for (size_t i = 0; i < w->n; i++) {
        int nt = tabs(w->lines[i]);
        for (int c = 0; c <= nt; c++) {
            size_t len;
            const char *s = cell(w->lines[i], c, &len);
            if (c < nt)
                fprintf(out, "%-*.*s", (int)widths[i * (size_t)maxcol + (size_t)c], (int)len, s);
            else
                fprintf(out, "%.*s", (int)len, s);
        }
        fputc('\n', out);
        free(w->lines[i]);
    }
    free(widths);
    free(w->lines);
    dw_init(w);
}

/* ------------------------------------------------------------ sections */

static int cmp_members(const void *a, const void *b)
{
    return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

void dw_map(dw_t *w, int level, const char *title, const cJSON *map, const char *skip)
{
    size_t n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, map) n++;
    cJSON **v = calloc(n + 1, sizeof *v);
    n = 0;
    cJSON_ArrayForEach(c, map) if (!skip || strcmp(c->string, skip)) v[n++] = (cJSON *)c;
    qsort(v, n, sizeof *v, cmp_members);
    if (n == 0) dw_line(w, level, "%s:\t<none>\n", title);
    for (size_t i = 0; i < n; i++) {
        const char *val = cJSON_IsString(v[i]) ? v[i]->valuestring : "";
        if (i == 0)
            dw_line(w, level, "%s:\t%s=%s\n", title, v[i]->string, val);
        else
            dw_line(w, level, "\t%s=%s\n", v[i]->string, val);
    }
    free(v);
}

void dw_annotations(dw_t *w, int level, const cJSON *map)
{
    /* kubectl skips the last-applied configuration, a copy of the object */
    size_t n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, map) if (strcmp(c->string, KCTL_LAST_APPLIED)) n++;
    cJSON **v = calloc(n + 1, sizeof *v);
    n = 0;
    cJSON_ArrayForEach(c, map) if (strcmp(c->string, KCTL_LAST_APPLIED)) v[n++] = (cJSON *)c;
    qsort(v, n, sizeof *v, cmp_members);
    if (n == 0) dw_line(w, level, "Annotations:\t<none>\n");
    for (size_t i = 0; i < n; i++)
        dw_line(w, level, "%s%s: %s\n", i == 0 ? "Annotations:\t" : "\t", v[i]->string,
                cJSON_IsString(v[i]) ? v[i]->valuestring : "");
    free(v);
}

void dw_time(const char *ts, char *buf, size_t len)
{
    uint64_t ms;
    if (!ts || time_parse_rfc3339(ts, &ms) != 0) {
        snprintf(buf, len, "<unknown>");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

static int cmp_events(const void *a, const void *b)
{
    const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;
    const char *tx = kctl_str(x, "lastTimestamp") ?: kctl_str(x, "eventTime") ?: "";
    const char *ty = kctl_str(y, "lastTimestamp") ?: kctl_str(y, "eventTime") ?: "";
    return strcmp(tx, ty);
}

void dw_events(dw_t *w, kctl_t *k, const cJSON *obj)
{
    const api_resource_t *ev = api_resource_by_kind("", "Event");
    char fs[1024], *enc;
    const char *ns = api_meta_namespace(obj);
    snprintf(fs, sizeof fs,
             "involvedObject.name=%s%s%s,involvedObject.kind=%s,involvedObject.uid=%s",
             api_meta_name(obj) ?: "", ns ? ",involvedObject.namespace=" : "", ns ? ns : "",
             kctl_str(obj, "kind") ?: "", api_meta_uid(obj) ?: "");
    enc = kctl_urlenc(fs);
    char q[1200];
    snprintf(q, sizeof q, "?fieldSelector=%s", enc ? enc : "");
    free(enc);
    char *path = kctl_path(ev, ns ? ns : "default", NULL, NULL, q);
    api_result_t res;
    kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
    free(path);
    const cJSON *items = api_result_ok(&res) ? kctl_at(res.obj, "items") : NULL;
    int n = cJSON_GetArraySize(items);
    if (n == 0) {
        dw_line(w, 0, "Events:\t<none>\n");
        api_result_free(&res);
        return;
    }
    cJSON **v = calloc((size_t)n, sizeof *v);
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, items) v[i++] = (cJSON *)e;
    qsort(v, (size_t)n, sizeof *v, cmp_events);
    dw_line(w, 0, "Events:\n");
    dw_line(w, 1, "Type\tReason\tAge\tFrom\tMessage\n");
    dw_line(w, 1, "----\t------\t----\t----\t-------\n");
    for (i = 0; i < n; i++) {
        const cJSON *x = v[i];
        char age[160], first[64], from[256];
        const char *last = kctl_str(x, "lastTimestamp") ?: kctl_str(x, "eventTime");
        kctl_age(last, age, sizeof age);
        long long count = kctl_int(x, "count", 1);
        if (count > 1) {
            kctl_age(kctl_str(x, "firstTimestamp"), first, sizeof first);
            size_t l = strlen(age);
            snprintf(age + l, sizeof age - l, " (x%lld over %s)", count, first);
        }
        const char *comp = kctl_str(x, "source.component") ?: kctl_str(x, "reportingController") ?: "";
        const char *host = kctl_str(x, "source.host");
        snprintf(from, sizeof from, "%s%s%s", comp, host && *host ? ", " : "",
                 host && *host ? host : "");
        const char *msg = kctl_str(x, "message") ?: "";
        char *m = strdup(msg);
        for (char *p = m; p && *p; p++)
            if (*p == '\n') *p = ' ';
        dw_line(w, 1, "%s\t%s\t%s\t%s\t%s\n", kctl_str(x, "type") ?: "",
                kctl_str(x, "reason") ?: "", age, from, m ? m : "");
        free(m);
    }
    free(v);
    api_result_free(&res);
}
