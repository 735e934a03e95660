/*
 * model_util.c - small helpers of the object-model files (see model_int.h):
 * tolerant cJSON getters and setters, a growable string buffer, Go-style
 * printing of bad values, and RFC 3339 parsing.
 *
 * Kept apart so validators, defaulters and printers stay about Kubernetes'
 * rules rather than about walking JSON.
 */
#include "api/model_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------ cJSON reading */

const cJSON *j_get(const cJSON *o, const char *key)
{
    if (!o || !cJSON_IsObject(o)) return NULL;
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

const cJSON *j_path(const cJSON *o, const char *dotted)
{
    char part[128];
    const char *p = dotted;
    while (o && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof part) return NULL;
        memcpy(part, p, n);
        part[n] = '\0';
        o = j_get(o, part);
        p += n + (dot ? 1 : 0);
    }
    return o;
}

const char *j_str(const cJSON *o, const char *key)
{
    const cJSON *v = j_get(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *j_str0(const cJSON *o, const char *key)
{
    const char *s = j_str(o, key);
    return s ? s : "";
}

bool j_num(const cJSON *o, const char *key, double *out)
{
    const cJSON *v = j_get(o, key);
    if (!cJSON_IsNumber(v)) return false;
    *out = v->valuedouble;
    return true;
}

long long j_int(const cJSON *o, const char *key, long long dflt)
{
    double d;
    return j_num(o, key, &d) ? (long long)d : dflt;
}

bool j_true(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(j_get(o, key));
}

int j_len(const cJSON *o, const char *key)
{
    const cJSON *v = j_get(o, key);
    if (cJSON_IsArray(v) || cJSON_IsObject(v)) return cJSON_GetArraySize(v);
    return 0;
}

bool j_has(const cJSON *o, const char *key)
{
    const cJSON *v = j_get(o, key);
    return v && !cJSON_IsNull(v);
}

/* ------------------------------------------------------------ cJSON writing */

int j_set(cJSON *o, const char *key, cJSON *item)
{
    if (!item) return -1;
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(item);
        return -1;
    }
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        return cJSON_ReplaceItemInObjectCaseSensitive(o, key, item) ? 0 : -1;
    return cJSON_AddItemToObject(o, key, item) ? 0 : -1;
}

int j_set_str(cJSON *o, const char *key, const char *v)
{
    return j_set(o, key, cJSON_CreateString(v));
}

int j_set_num(cJSON *o, const char *key, double v)
{
    return j_set(o, key, cJSON_CreateNumber(v));
}

int j_set_bool(cJSON *o, const char *key, bool v)
{
    return j_set(o, key, cJSON_CreateBool(v));
}

static cJSON *j_member_of_type(cJSON *o, const char *key, bool array)
{
    if (!cJSON_IsObject(o)) return NULL;
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (v && !cJSON_IsNull(v)) {
        if (array ? cJSON_IsArray(v) : cJSON_IsObject(v)) return v;
        return NULL;
    }
    cJSON *n = array ? cJSON_CreateArray() : cJSON_CreateObject();
    if (j_set(o, key, n) != 0) return NULL;
    return n;
}

cJSON *j_obj(cJSON *o, const char *key)
{
    return j_member_of_type(o, key, false);
}

cJSON *j_arr(cJSON *o, const char *key)
{
    return j_member_of_type(o, key, true);
}

int j_default_str(cJSON *o, const char *key, const char *v)
{
    return j_has(o, key) ? 0 : j_set_str(o, key, v);
}

int j_default_num(cJSON *o, const char *key, double v)
{
    return j_has(o, key) ? 0 : j_set_num(o, key, v);
}

int j_default_bool(cJSON *o, const char *key, bool v)
{
    return j_has(o, key) ? 0 : j_set_bool(o, key, v);
}

/* ------------------------------------------------------------ string buffer */

static bool sb_grow(sbuf_t *b, size_t extra)
{
    if (b->oom) return false;
    if (b->n + extra + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void sb_putn(sbuf_t *b, const char *s, size_t n)
{
    if (!sb_grow(b, n)) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void sb_puts(sbuf_t *b, const char *s)
{
    sb_putn(b, s, strlen(s));
}

void sb_putc(sbuf_t *b, char c)
{
    sb_putn(b, &c, 1);
}

void sb_printf(sbuf_t *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        sb_putn(b, small, (size_t)n);
        return;
    }
    if (!sb_grow(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

char *sb_take(sbuf_t *b)
{
    if (b->oom) {
        sb_free(b);
        return NULL;
    }
    if (!b->p) {
        b->p = strdup("");
        if (!b->p) return NULL;
    }
    char *p = b->p;
    b->p = NULL;
    b->n = b->cap = 0;
    return p;
}

void sb_free(sbuf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
    b->oom = false;
}

/* --------------------------------------------------- Go-style value printing */

/* Length of the valid UTF-8 sequence at s, 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    return n;
}

void go_quote(sbuf_t *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    sb_putc(b, '"');
    while (*p) {
        unsigned char c = *p;
        const char *esc = NULL;
        switch (c) {
        case '\a':
            esc = "\\a";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\v':
            esc = "\\v";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '"':
            esc = "\\\"";
            break;
        default:
            break;
        }
        if (esc) {
            sb_puts(b, esc);
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            sb_printf(b, "\\x%02x", c);
            p++;
        } else if (c < 0x80) {
            sb_putc(b, (char)c);
            p++;
        } else {
            size_t n = utf8_len(p);
            if (n == 0) {
                sb_printf(b, "\\x%02x", c);
                p++;
            } else {
                sb_putn(b, (const char *)p, n);
                p += n;
            }
        }
    }
    sb_putc(b, '"');
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **sorted_keys(const cJSON *map, int *n)
{
    *n = 0;
    if (!cJSON_IsObject(map)) return NULL;
    int count = cJSON_GetArraySize(map);
    if (count == 0) return NULL;
    const char **keys = malloc(sizeof *keys * (size_t)count);
    if (!keys) return NULL;
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, map) keys[i++] = it->string;
    qsort(keys, (size_t)i, sizeof *keys, cmp_str);
    *n = i;
    return keys;
}

void go_map(sbuf_t *b, const cJSON *map)
{
    if (!cJSON_IsObject(map)) {
        sb_puts(b, "map[string]string(nil)");
        return;
    }
    int n;
    const char **keys = sorted_keys(map, &n);
    if (!keys && cJSON_GetArraySize(map) > 0) b->oom = true;
    sb_puts(b, "map[string]string{");
    for (int i = 0; i < n; i++) {
        if (i) sb_puts(b, ", ");
        go_quote(b, keys[i]);
        sb_putc(b, ':');
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(map, keys[i]);
        go_quote(b, cJSON_IsString(v) ? v->valuestring : "");
    }
    sb_putc(b, '}');
    free(keys);
}

void go_str_slice(sbuf_t *b, const cJSON *arr)
{
    if (!cJSON_IsArray(arr)) {
        sb_puts(b, "[]string(nil)");
        return;
    }
    sb_puts(b, "[]string{");
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (i++) sb_puts(b, ", ");
        go_quote(b, cJSON_IsString(it) ? it->valuestring : "");
    }
    sb_putc(b, '}');
}

void go_label_selector(sbuf_t *b, const cJSON *sel)
{
    sb_puts(b, "v1.LabelSelector{MatchLabels:");
    go_map(b, j_get(sel, "matchLabels"));
    sb_puts(b, ", MatchExpressions:");
    const cJSON *ex = j_get(sel, "matchExpressions");
    if (!cJSON_IsArray(ex)) {
        sb_puts(b, "[]v1.LabelSelectorRequirement(nil)");
    } else {
        sb_puts(b, "[]v1.LabelSelectorRequirement{");
        int i = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, ex)
        {
            if (i++) sb_puts(b, ", ");
            sb_puts(b, "v1.LabelSelectorRequirement{Key:");
            go_quote(b, j_str0(r, "key"));
            sb_puts(b, ", Operator:");
            go_quote(b, j_str0(r, "operator"));
            sb_puts(b, ", Values:");
            go_str_slice(b, j_get(r, "values"));
            sb_putc(b, '}');
        }
        sb_putc(b, '}');
    }
    sb_putc(b, '}');
}

/* ------------------------------------------------------- labels formatting */

void labels_string(sbuf_t *b, const cJSON *map)
{
    int n;
    const char **keys = sorted_keys(map, &n);
    if (n == 0) {
        sb_puts(b, "<none>");
        return;
    }
    for (int i = 0; i < n; i++) {
        if (i) sb_putc(b, ',');
        sb_puts(b, keys[i]);
        sb_putc(b, '=');
        sb_puts(b, j_str0(map, keys[i]));
    }
    free(keys);
}

/* ------------------------------------------------------------------- paths */

const char *fp(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return buf;
}

/* ------------------------------------------------------------------- time */

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int parse_time_ms(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, sec;
    if (!s || strlen(s) < 20) return -1;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &sec))
        return -1;
    const char *p = s + 19;
    int64_t ms = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        while (isdigit((unsigned char)*p)) {
            if (nd < 3) ms = ms * 10 + (*p - '0');
            nd++;
            p++;
        }
        if (nd == 0) return -1;
        for (; nd < 3; nd++)
            ms *= 10;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om)) return -1;
        off = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p) return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *out = ((int64_t)t - off) * 1000 + ms;
    return 0;
}
