/*
 * yaml.c - YAML and JSON text as kubectl reads and writes it.
 *
 * Reading: libyaml's parser, plain scalars resolved as go-yaml v2 (what
 * kubectl's sigs.k8s.io/yaml uses) resolves them: null, booleans (yes/no/on/
 * off too), integers (0x, 0o, 0b and leading-zero octal), floats; anything
 * else, and every quoted or block scalar, is a string. Several documents
 * per stream; JSON is read as the YAML it is.
 * Writing: libyaml's emitter with go-yaml's choices (keys in its natural
 * order, strings that would read back as another type double-quoted,
 * multi-line strings as literal blocks), and JSON as Go's encoding/json
 * writes it (sorted keys, HTML-safe escaping).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "kctl/kctl_int.h"

/* ------------------------------------------------------------ resolving */

static bool in_set(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(s, *set)) return true;
    return false;
}

static const char *const yes_words[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                        "True", "TRUE", "on",  "On",  "ON",  NULL};
static const char *const no_words[] = {"n",     "N",     "no",  "No",  "NO",  "false",
                                       "False", "FALSE", "off", "Off", "OFF", NULL};
static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};

/* Go's strconv.ParseInt(s, 0, 64) after go-yaml removed underscores. */
static bool parse_int(const char *s, long long *out)
{
    char buf[80];
    size_t n = 0;
    for (const char *p = s; *p; p++)
        if (*p != '_') {
            if (n + 1 >= sizeof buf) return false;
            buf[n++] = *p;
        }
    buf[n] = '\0';
    const char *p = buf;
    bool neg = false;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    int base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        base = 16, p += 2;
    else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
        base = 8, p += 2;
    else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
        base = 2, p += 2;
    else if (p[0] == '0' && p[1])
        base = 8, p += 1;
    if (!*p) return false;
    for (const char *q = p; *q; q++) {
        int d = isdigit((unsigned char)*q)    ? *q - '0'
                : isxdigit((unsigned char)*q) ? tolower(*q) - 'a' + 10
                                              : 99;
        if (d >= base) return false;
    }
    errno = 0;
    unsigned long long v = strtoull(p, NULL, base);
    if (errno || v > (unsigned long long)INT64_MAX + neg) return false;
    *out = neg ? -(long long)v : (long long)v;
    return true;
}

/* go-yaml's float form: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    int digits = 0;
    while (isdigit((unsigned char)*p))
        p++, digits++;
    if (*p == '.') {
        p++;
        int frac = 0;
        while (isdigit((unsigned char)*p))
            p++, frac++;
        if (!digits && !frac) return false;
    } else if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0';
}

/* go-yaml's timestamp forms: 2006-1-2T15:4:5.999999999Z07:00 and
 * relatives, 2006-1-2 15:4:5.999999999, 2006-1-2. */
static bool is_timestamp(const char *s)
{
    const char *p = s;
    int n = 0;
    while (isdigit((unsigned char)*p))
        p++, n++;
    if (n != 4 || *p++ != '-') return false;
    for (int part = 0; part < 2; part++) {
        n = 0;
        while (isdigit((unsigned char)*p))
            p++, n++;
        if (n < 1 || n > 2) return false;
        if (part == 0 && *p++ != '-') return false;
    }
    if (!*p) return true;
    if (*p != 'T' && *p != 't' && *p != ' ') return false;
    p++;
    for (int part = 0; part < 3; part++) {
        n = 0;
        while (isdigit((unsigned char)*p))
            p++, n++;
        if (n < 1 || n > 2) return false;
        if (part < 2 && *p++ != ':') return false;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (!*p || ((*p == 'Z' || *p == 'z') && !p[1])) return true;
    if (*p == '+' || *p == '-') {
        p++;
        n = 0;
        while (isdigit((unsigned char)*p) || *p == ':')
            p++, n++;
        return *p == '\0' && n >= 1;
    }
    return false;
}

/* go-yaml's "base 60 float" (1:20), which it also refuses to write plain. */
static bool is_base60(const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    if (!isdigit((unsigned char)*p) || !strchr(s, ':')) return false;
    for (; *p; p++)
        if (!isdigit((unsigned char)*p) && *p != ':' && *p != '_' && *p != '.') return false;
    return true;
}

/* What a plain scalar means; NULL when it is a plain string. */
static cJSON *resolve_plain(const char *s)
{
    if (in_set(s, null_words)) return cJSON_CreateNull();
    if (in_set(s, yes_words)) return cJSON_CreateTrue();
    if (in_set(s, no_words)) return cJSON_CreateFalse();
    if (!strcmp(s, ".inf") || !strcmp(s, ".Inf") || !strcmp(s, ".INF") || !strcmp(s, "+.inf"))
        return cJSON_CreateNumber(INFINITY);
    if (!strcmp(s, "-.inf") || !strcmp(s, "-.Inf") || !strcmp(s, "-.INF"))
        return cJSON_CreateNumber(-INFINITY);
    if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))
        return cJSON_CreateNumber(NAN);
    long long i;
    if (parse_int(s, &i)) return cJSON_CreateNumber((double)i);
    if (is_float(s)) return cJSON_CreateNumber(strtod(s, NULL));
    return NULL;
}

/* Whether go-yaml would write s quoted because it reads as something else. */
static bool needs_quotes(const char *s)
{
    cJSON *v = resolve_plain(s);
    bool other = v != NULL || is_timestamp(s) || is_base60(s);
    cJSON_Delete(v);
    return other;
}

/* ------------------------------------------------------------- parsing */

struct anchor {
    char *name;
    cJSON *node;
};

struct pstate {
    yaml_parser_t p;
    struct anchor *anchors;
    size_t nanchors;
    char *err;
    size_t errlen;
};

static int remember(struct pstate *s, const yaml_char_t *anchor, const cJSON *node)
{
    if (!anchor) return 0;
    struct anchor *a = realloc(s->anchors, (s->nanchors + 1) * sizeof *a);
    if (!a) return -1;
    s->anchors = a;
    a[s->nanchors].name = strdup((const char *)anchor);
    a[s->nanchors].node = cJSON_Duplicate(node, true);
    s->nanchors++;
    return 0;
}

static cJSON *parse_node(struct pstate *s, yaml_event_t *ev, int depth);

static bool next_event(struct pstate *s, yaml_event_t *ev)
{
    if (yaml_parser_parse(&s->p, ev)) return true;
    snprintf(s->err, s->errlen, "error converting YAML to JSON: yaml: line %zu: %s",
             s->p.problem_mark.line + 1, s->p.problem ? s->p.problem : "syntax error");
    return false;
}

static cJSON *scalar(const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    if (tag && !strcmp(tag, YAML_STR_TAG)) return cJSON_CreateString(v);
    if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !(tag && !strcmp(tag, "!"))) {
        cJSON *r = resolve_plain(v);
        if (r) return r;
    }
    return cJSON_CreateString(v);
}

static cJSON *parse_collection(struct pstate *s, yaml_event_t *start, int depth)
{
    bool map = start->type == YAML_MAPPING_START_EVENT;
    cJSON *out = map ? cJSON_CreateObject() : cJSON_CreateArray();
    const yaml_char_t *anchor_src =
        map ? start->data.mapping_start.anchor : start->data.sequence_start.anchor;
    char *anchor = anchor_src ? strdup((const char *)anchor_src) : NULL;
    yaml_event_t ev;
    for (;;) {
        if (!next_event(s, &ev)) goto fail;
        if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        cJSON *k = parse_node(s, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (!k) goto fail;
        if (!map) {
            cJSON_AddItemToArray(out, k);
            continue;
        }
        char keybuf[64];
        const char *key = cJSON_IsString(k) ? k->valuestring : NULL;
        if (!key) {
            /* go-yaml turns non-string keys into their text form */
            if (cJSON_IsBool(k))
                key = cJSON_IsTrue(k) ? "true" : "false";
            else if (cJSON_IsNumber(k))
                snprintf(keybuf, sizeof keybuf, "%g", k->valuedouble), key = keybuf;
            else if (cJSON_IsNull(k))
                key = "null";
            else {
                snprintf(s->err, s->errlen, "error converting YAML to JSON: unsupported map key");
                cJSON_Delete(k);
                goto fail;
            }
        }
        if (!next_event(s, &ev)) {
            cJSON_Delete(k);
            goto fail;
        }
        cJSON *v = parse_node(s, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (!v) {
            cJSON_Delete(k);
            goto fail;
        }
        if (!strcmp(key, "<<") && cJSON_IsObject(v)) {
            for (cJSON *c = v->child; c; c = c->next)
                if (!cJSON_GetObjectItemCaseSensitive(out, c->string))
                    cJSON_AddItemToObject(out, c->string, cJSON_Duplicate(c, true));
            cJSON_Delete(v);
        } else {
            cJSON_DeleteItemFromObjectCaseSensitive(out, key);
            cJSON_AddItemToObject(out, key, v);
        }
        cJSON_Delete(k);
    }
    if (anchor) {
        remember(s, (const yaml_char_t *)anchor, out);
        free(anchor);
    }
    return out;
fail:
    free(anchor);
    cJSON_Delete(out);
    return NULL;
}

static cJSON *parse_node(struct pstate *s, yaml_event_t *ev, int depth)
{
    if (depth > 200) {
        snprintf(s->err, s->errlen, "error converting YAML to JSON: nested too deeply");
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        cJSON *v = scalar(ev);
        remember(s, ev->data.scalar.anchor, v);
        return v;
    }
    case YAML_ALIAS_EVENT:
        for (size_t i = s->nanchors; i-- > 0;)
            if (!strcmp(s->anchors[i].name, (const char *)ev->data.alias.anchor))
                return cJSON_Duplicate(s->anchors[i].node, true);
        snprintf(s->err, s->errlen, "error converting YAML to JSON: yaml: unknown anchor '%s'",
                 ev->data.alias.anchor);
        return NULL;
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
        return parse_collection(s, ev, depth);
    default:
        snprintf(s->err, s->errlen, "error converting YAML to JSON: unexpected event");
        return NULL;
    }
}

cJSON *kctl_yaml_parse(const char *text, size_t len, char *err, size_t errlen)
{
    struct pstate s = {.err = err, .errlen = errlen};
    cJSON *docs = cJSON_CreateArray();
    if (!docs || !yaml_parser_initialize(&s.p)) {
        snprintf(err, errlen, "out of memory");
        cJSON_Delete(docs);
        return NULL;
    }
    yaml_parser_set_input_string(&s.p, (const unsigned char *)text, len);
    yaml_event_t ev;
    bool ok = true;
    for (;;) {
        if (!next_event(&s, &ev)) {
            ok = false;
            break;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_SCALAR_EVENT || t == YAML_MAPPING_START_EVENT ||
            t == YAML_SEQUENCE_START_EVENT || t == YAML_ALIAS_EVENT) {
            cJSON *doc = parse_node(&s, &ev, 0);
            yaml_event_delete(&ev);
            if (!doc) {
                ok = false;
                break;
            }
            if (cJSON_IsNull(doc))
                cJSON_Delete(doc);
            else
                cJSON_AddItemToArray(docs, doc);
            continue;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&s.p);
    for (size_t i = 0; i < s.nanchors; i++) {
        free(s.anchors[i].name);
        cJSON_Delete(s.anchors[i].node);
    }
    free(s.anchors);
    if (!ok) {
        cJSON_Delete(docs);
        return NULL;
    }
    return docs;
}

/* ------------------------------------------------------------ key order */

int kctl_key_cmp(const char *a, const char *b)
{
    /* go-yaml's keyList.Less: letters compare as letters, a non-letter
     * sorts before a letter, runs of digits compare as numbers. */
    size_t la = strlen(a), lb = strlen(b);
    for (size_t i = 0; i < la && i < lb; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x == y) continue;
        bool ax = isalpha(x) || x >= 0x80, by = isalpha(y) || y >= 0x80;
        if (ax && by) return x < y ? -1 : 1;
        if (ax || by) return by ? -1 : 1;
        long long an = 0, bn = 0;
        size_t ai, bi;
        if (x == '0' || y == '0') {
            for (size_t j = i; j-- > 0 && isdigit((unsigned char)a[j]);)
                if (a[j] != '0') {
                    an = bn = 1;
                    break;
                }
        }
        for (ai = i; ai < la && isdigit((unsigned char)a[ai]); ai++)
            an = an * 10 + (a[ai] - '0');
        for (bi = i; bi < lb && isdigit((unsigned char)b[bi]); bi++)
            bn = bn * 10 + (b[bi] - '0');
        if (an != bn) return an < bn ? -1 : 1;
        if (ai != bi) return ai < bi ? -1 : 1;
        return x < y ? -1 : 1;
    }
    return la < lb ? -1 : la > lb ? 1 : 0;
}

static int cmp_yaml(const void *x, const void *y)
{
    return kctl_key_cmp((*(cJSON *const *)x)->string, (*(cJSON *const *)y)->string);
}

static int cmp_json(const void *x, const void *y)
{
    return strcmp((*(cJSON *const *)x)->string, (*(cJSON *const *)y)->string);
}

/* The members of an object in order; caller frees the array. */
static cJSON **sorted(const cJSON *obj, size_t *n, int (*cmp)(const void *, const void *))
{
    size_t cnt = 0;
    for (cJSON *c = obj->child; c; c = c->next)
        cnt++;
    cJSON **v = malloc((cnt ? cnt : 1) * sizeof *v);
    if (!v) return NULL;
    cnt = 0;
    for (cJSON *c = obj->child; c; c = c->next)
        v[cnt++] = c;
    qsort(v, cnt, sizeof *v, cmp);
    *n = cnt;
    return v;
}

/* Shortest text that reads back as d (Go's strconv 'g' -1 style). */
static void fmt_number(double d, char *buf, size_t len, bool yaml)
{
    if (isnan(d)) {
        snprintf(buf, len, yaml ? ".nan" : "null");
        return;
    }
    if (isinf(d)) {
        snprintf(buf, len, yaml ? (d > 0 ? ".inf" : "-.inf") : "null");
        return;
    }
    if (d == floor(d) && fabs(d) < 1e18) {
        snprintf(buf, len, "%lld", (long long)d);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) break;
    }
}

/* ------------------------------------------------------------- emitting */

struct ybuf {
    char *p;
    size_t len, cap;
};

static int ywrite(void *data, unsigned char *buffer, size_t size)
{
    struct ybuf *b = data;
    if (b->len + size + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + size + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return 0;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, buffer, size);
    b->len += size;
    b->p[b->len] = '\0';
    return 1;
}

static int emit_str(yaml_emitter_t *e, const char *s)
{
    yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;
    if (strchr(s, '\n'))
        style = YAML_LITERAL_SCALAR_STYLE;
    else if (needs_quotes(s))
        style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    yaml_event_t ev;
    yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *)YAML_STR_TAG, (yaml_char_t *)s,
                                 (int)strlen(s), 1, 1, style);
    return yaml_emitter_emit(e, &ev);
}

static int emit_node(yaml_emitter_t *e, const cJSON *v)
{
    yaml_event_t ev;
    char num[64];
    if (cJSON_IsObject(v)) {
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
        if (!yaml_emitter_emit(e, &ev)) return 0;
        size_t n;
        cJSON **kids = sorted(v, &n, cmp_yaml);
        if (!kids) return 0;
        for (size_t i = 0; i < n; i++)
            if (!emit_str(e, kids[i]->string) || !emit_node(e, kids[i])) {
                free(kids);
                return 0;
            }
        free(kids);
        yaml_mapping_end_event_initialize(&ev);
        return yaml_emitter_emit(e, &ev);
    }
    if (cJSON_IsArray(v)) {
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
        if (!yaml_emitter_emit(e, &ev)) return 0;
        for (const cJSON *c = v->child; c; c = c->next)
            if (!emit_node(e, c)) return 0;
        yaml_sequence_end_event_initialize(&ev);
        return yaml_emitter_emit(e, &ev);
    }
    if (cJSON_IsString(v)) return emit_str(e, v->valuestring);
    const char *text = "null";
    if (cJSON_IsTrue(v))
        text = "true";
    else if (cJSON_IsFalse(v))
        text = "false";
    else if (cJSON_IsNumber(v)) {
        fmt_number(v->valuedouble, num, sizeof num, true);
        text = num;
    }
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), 1, 0,
                                 YAML_PLAIN_SCALAR_STYLE);
    return yaml_emitter_emit(e, &ev);
}

char *kctl_yaml_emit(const cJSON *v)
{
    yaml_emitter_t e;
    struct ybuf b = {0};
    yaml_event_t ev;
    if (!yaml_emitter_initialize(&e)) return NULL;
    yaml_emitter_set_output(&e, ywrite, &b);
    yaml_emitter_set_unicode(&e, 1);
    int ok = 1;
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    ok = ok && yaml_emitter_emit(&e, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    ok = ok && yaml_emitter_emit(&e, &ev);
    ok = ok && emit_node(&e, v);
    yaml_document_end_event_initialize(&ev, 1);
    ok = ok && yaml_emitter_emit(&e, &ev);
    yaml_stream_end_event_initialize(&ev);
    ok = ok && yaml_emitter_emit(&e, &ev);
    yaml_emitter_delete(&e);
    if (!ok) {
        free(b.p);
        return NULL;
    }
    return b.p ? b.p : strdup("");
}

/* ------------------------------------------------------------------ JSON */

static void jput(struct ybuf *b, const char *s, size_t n)
{
    ywrite(b, (unsigned char *)s, n);
}

static void jstr(struct ybuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    jput(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p;
            jput(b, esc, 2);
        } else if (*p == '\n')
            jput(b, "\\n", 2);
        else if (*p == '\r')
            jput(b, "\\r", 2);
        else if (*p == '\t')
            jput(b, "\\t", 2);
        else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&') {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[*p >> 4], esc[5] = hex[*p & 15];
            jput(b, esc, 6);
        } else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
            jput(b, p[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
            p += 2;
        } else
            jput(b, (const char *)p, 1);
    }
    jput(b, "\"", 1);
}

static void indent(struct ybuf *b, int ind, int level)
{
    if (ind < 0) return;
    jput(b, "\n", 1);
    for (int i = 0; i < ind * level; i++)
        jput(b, " ", 1);
}

static bool json_sorted = true;

static void jnode(struct ybuf *b, const cJSON *v, int ind, int level)
{
    char num[64];
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        bool obj = cJSON_IsObject(v);
        if (!v->child) {
            jput(b, obj ? "{}" : "[]", 2);
            return;
        }
        jput(b, obj ? "{" : "[", 1);
        size_t n = 0;
        cJSON **kids = NULL;
        if (obj && json_sorted)
            kids = sorted(v, &n, cmp_json);
        else
            for (cJSON *c = v->child; c; c = c->next)
                n++;
        const cJSON *c = v->child;
        for (size_t i = 0; i < n; i++) {
            const cJSON *k = obj && kids ? kids[i] : c;
            if (i) jput(b, ",", 1);
            indent(b, ind, level + 1);
            if (obj) {
                jstr(b, k->string);
                jput(b, ind < 0 ? ":" : ": ", ind < 0 ? 1 : 2);
            }
            jnode(b, k, ind, level + 1);
            if (!kids) c = c->next;
        }
        free(kids);
        indent(b, ind, level);
        jput(b, obj ? "}" : "]", 1);
        return;
    }
    if (cJSON_IsString(v))
        jstr(b, v->valuestring);
    else if (cJSON_IsTrue(v))
        jput(b, "true", 4);
    else if (cJSON_IsFalse(v))
        jput(b, "false", 5);
    else if (cJSON_IsNumber(v)) {
        fmt_number(v->valuedouble, num, sizeof num, false);
        jput(b, num, strlen(num));
    } else
        jput(b, "null", 4);
}

char *kctl_json_pretty(const cJSON *v)
{
    struct ybuf b = {0};
    jnode(&b, v, 4, 0);
    jput(&b, "\n", 1);
    return b.p;
}

char *kctl_json_pretty_ordered(const cJSON *v)
{
    struct ybuf b = {0};
    json_sorted = false;
    jnode(&b, v, 4, 0);
    json_sorted = true;
    jput(&b, "\n", 1);
    return b.p;
}

char *kctl_json_compact(const cJSON *v)
{
    struct ybuf b = {0};
    jnode(&b, v, -1, 0);
    return b.p ? b.p : strdup("");
}
