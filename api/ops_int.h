/*
 * ops_int.h - small helpers shared by the operations files of api/
 * (selector.c, quantity.c, patch.c, smp.c): a growable text buffer for
 * canonical strings and error messages, Go-style quoting (Kubernetes' messages
 * quote values the way Go's %q does), and JSON helpers the patch engines share.
 * Private to api/; nothing here is part of api.h.
 */
#ifndef PICOKUBE_API_OPS_INT_H
#define PICOKUBE_API_OPS_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

/* Documents nested deeper than this are refused: cJSON cannot parse them back
 * (its nesting limit is 1000), so storing one would make an object unreadable. */
#define OPS_MAX_DEPTH 900

struct ops_buf {
    char *p;
    size_t len, cap;
    bool oom;
};

static inline void ob_putn(struct ops_buf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static inline void ob_puts(struct ops_buf *b, const char *s)
{
    ob_putn(b, s, strlen(s));
}

static inline void ob_putc(struct ops_buf *b, char c)
{
    ob_putn(b, &c, 1);
}

__attribute__((format(printf, 2, 3))) static inline void ob_printf(struct ops_buf *b,
                                                                   const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        ob_putn(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    ob_putn(b, big, (size_t)n);
    free(big);
}

/* Returns the text (caller frees), "" for an empty buffer, NULL when out of memory. */
static inline char *ob_take(struct ops_buf *b)
{
    if (b->oom) {
        free(b->p);
        b->p = NULL;
        return NULL;
    }
    if (!b->p) return strdup("");
    char *p = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

static inline void ob_free(struct ops_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Appends s quoted as Go's %q does for ASCII: Kubernetes' field errors print
 * bad values this way, and users compare them with what kubectl shows. */
static inline void ob_quote(struct ops_buf *b, const char *s)
{
    ob_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            ob_puts(b, "\\\"");
            break;
        case '\\':
            ob_puts(b, "\\\\");
            break;
        case '\n':
            ob_puts(b, "\\n");
            break;
        case '\t':
            ob_puts(b, "\\t");
            break;
        case '\r':
            ob_puts(b, "\\r");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                ob_printf(b, "\\x%02x", *p);
            else
                ob_putc(b, (char)*p);
        }
    }
    ob_putc(b, '"');
}

/* Writes a message into err (when given) and returns -1, so error paths read
 * `return ops_err(err, errlen, ...)`. */
__attribute__((format(printf, 3, 4))) static inline int ops_err(char *err, size_t errlen,
                                                                const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Compact JSON of v for error messages, cut to fit buf. */
static inline const char *ops_json_short(const cJSON *v, char *buf, size_t len)
{
    char *s = v ? cJSON_PrintUnformatted(v) : NULL;
    if (!s) {
        snprintf(buf, len, "%s", v ? "<out of memory>" : "null");
        return buf;
    }
    if (strlen(s) >= len && len > 4) {
        memcpy(buf, s, len - 4);
        memcpy(buf + len - 4, "...", 4);
    } else {
        snprintf(buf, len, "%s", s);
    }
    cJSON_free(s);
    return buf;
}

/* Depth of v (a scalar is 1), or limit+1 as soon as it is known to exceed
 * limit: recursion never goes deeper than limit+1 frames. */
static inline int ops_json_depth(const cJSON *v, int limit)
{
    if (!v || !(cJSON_IsObject(v) || cJSON_IsArray(v))) return 1;
    if (limit <= 1) return limit + 1;
    int max = 0;
    for (const cJSON *c = v->child; c; c = c->next) {
        int d = ops_json_depth(c, limit - 1);
        if (d > max) max = d;
        if (max >= limit) return limit + 1;
    }
    return max + 1;
}

/* Removes the members named name after `keep` (every one when keep is
 * NULL). cJSON keeps duplicate names that Go's decoder would collapse; a patch
 * that sets or deletes a field must leave exactly one value, or none. */
static inline void ops_obj_delete_all(cJSON *obj, const char *name, const cJSON *keep)
{
    for (cJSON *m = keep ? keep->next : obj->child, *next; m; m = next) {
        next = m->next;
        if (m->string && !strcmp(m->string, name)) cJSON_Delete(cJSON_DetachItemViaPointer(obj, m));
    }
}

/* Sets obj[name] = v (taking v), replacing the first member of that name in
 * place so that member order is kept. False (v freed) when out of memory. */
static inline bool ops_obj_set(cJSON *obj, const char *name, cJSON *v)
{
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (cur) ops_obj_delete_all(obj, name, cur);
    bool ok = cur ? cJSON_ReplaceItemInObjectCaseSensitive(obj, name, v)
                  : cJSON_AddItemToObject(obj, name, v);
    if (!ok) cJSON_Delete(v);
    return ok;
}

/* Inserts item before `after`, an element of arr; the library's own insert
 * refuses valid positions in Debian's 1.7.15 build. */
static inline void ops_array_insert(cJSON *arr, cJSON *after, cJSON *item)
{
    item->next = after;
    item->prev = after->prev;
    if (after == arr->child)
        arr->child = item; /* the head's prev keeps pointing at the last item */
    else
        after->prev->next = item;
    after->prev = item;
}

#endif /* PICOKUBE_API_OPS_INT_H */
