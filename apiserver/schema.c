/*
 * schema.c - decoding request bodies as Kubernetes' typed decoder does:
 * wrong JSON types and bad quantities are a 400 BadRequest whatever the
 * client asked; unknown and duplicate fields are a 400 only with
 * fieldValidation=Strict (kubectl's default), a Warning header with Warn
 * (the API default), nothing with Ignore; in those two modes the unknown
 * fields are dropped, as Kubernetes' decoder drops them, so that a later
 * strict write of the same object does not trip on them. Duplicate fields
 * keep the last value, as Go's decoder does, and nulls of typed fields are
 * dropped (Go's zero value, omitted when encoded). The tables cover every
 * field of the Kubernetes 1.32 types they name; subtrees typed `*` are kept
 * as sent.
 *
 * The field tables are in schema_defs.c; they are parsed once into sorted
 * arrays so that a check costs a binary search per field.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rest_int.h"

extern const char *const schema_defs[];
extern const char *const schema_kinds[];

struct sfield {
    const char *name;
    const char *type; /* a token of the notation, NUL-terminated */
};

struct stype {
    const char *name;
    struct sfield *f;
    size_t n;
};

static struct stype *types;
static size_t n_types;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int cmp_field(const void *a, const void *b)
{
    return strcmp(((const struct sfield *)a)->name, ((const struct sfield *)b)->name);
}

static int cmp_type(const void *a, const void *b)
{
    return strcmp(((const struct stype *)a)->name, ((const struct stype *)b)->name);
}

static bool is_kind(const char *name)
{
    for (size_t i = 0; schema_kinds[i]; i++)
        if (!strcmp(schema_kinds[i], name)) return true;
    return false;
}

/* Parses one definition; the strings live as long as the process. */
static int parse_def(const char *def, struct stype *t)
{
    char *s = strdup(def);
    if (!s) return -1;
    size_t cap = 4;
    for (const char *p = s; *p; p++)
        if (*p == ' ') cap++;
    t->f = calloc(cap, sizeof(*t->f));
    if (!t->f) return -1;
    char *save = NULL;
    t->name = strtok_r(s, " ", &save);
    for (char *tok = strtok_r(NULL, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *c = strchr(tok, ':');
        if (!c) continue;
        *c = 0;
        t->f[t->n++] = (struct sfield){tok, c + 1};
    }
    if (is_kind(t->name)) {
        t->f[t->n++] = (struct sfield){"kind", "s"};
        t->f[t->n++] = (struct sfield){"apiVersion", "s"};
        t->f[t->n++] = (struct sfield){"metadata", "ObjectMeta"};
    }
    qsort(t->f, t->n, sizeof(*t->f), cmp_field);
    return 0;
}

static void load(void)
{
    size_t n = 0;
    while (schema_defs[n])
        n++;
    types = calloc(n, sizeof(*types));
    if (!types) return;
    for (size_t i = 0; i < n; i++)
        if (parse_def(schema_defs[i], &types[n_types]) == 0) n_types++;
    qsort(types, n_types, sizeof(*types), cmp_type);
}

static const struct stype *type_find(const char *name, size_t len)
{
    char key[64];
    if (len >= sizeof key) return NULL;
    memcpy(key, name, len);
    key[len] = 0;
    struct stype k = {.name = key};
    return bsearch(&k, types, n_types, sizeof(*types), cmp_type);
}

static const struct sfield *field_find(const struct stype *t, const char *name)
{
    struct sfield k = {.name = name};
    return bsearch(&k, t->f, t->n, sizeof(*t->f), cmp_field);
}

int schema_fv_parse(const char *s, enum field_validation *out)
{
    if (!s || !*s || !strcmp(s, "Warn"))
        *out = FV_WARN;
    else if (!strcmp(s, "Strict"))
        *out = FV_STRICT;
    else if (!strcmp(s, "Ignore"))
        *out = FV_IGNORE;
    else
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ walk */

struct sctx {
    enum field_validation fv;
    char path[512];   /* with list indices: spec.containers[0].name */
    char gopath[512]; /* without: spec.containers.name (Go's messages) */
    const char *gostruct;
    FILE *strict; /* unknown / duplicate field messages */
    size_t n_strict;
    char *type_err; /* the first decoding error */
};

static const char *json_type(const cJSON *v)
{
    if (cJSON_IsString(v)) return "string";
    if (cJSON_IsNumber(v)) return "number";
    if (cJSON_IsBool(v)) return "bool";
    if (cJSON_IsArray(v)) return "array";
    if (cJSON_IsObject(v)) return "object";
    return "null";
}

static void go_type(const char *t, size_t tl, char *buf, size_t len)
{
    if (tl == 1) {
        const char *m = "interface {}";
        switch (t[0]) {
        case 's':
        case 't':
            m = "string";
            break;
        case 'i':
            m = "int64";
            break;
        case 'n':
            m = "float64";
            break;
        case 'b':
            m = "bool";
            break;
        case 'q':
            m = "resource.Quantity";
            break;
        case 'o':
            m = "intstr.IntOrString";
            break;
        }
        snprintf(buf, len, "%s", m);
    } else if (t[0] == '[' || t[0] == '{') {
        char inner[96];
        go_type(t + 1, tl - 2, inner, sizeof inner);
        snprintf(buf, len, "%s%s", t[0] == '[' ? "[]" : "map[string]", inner);
    } else {
        snprintf(buf, len, "v1.%.*s", (int)tl, t);
    }
}

static void type_error(struct sctx *c, const cJSON *v, const char *t, size_t tl, const char *detail)
{
    if (c->type_err) return;
    char gt[128], msg[1024];
    if (detail) {
        snprintf(msg, sizeof msg, "%s", detail);
    } else {
        go_type(t, tl, gt, sizeof gt);
        snprintf(msg, sizeof msg, "json: cannot unmarshal %s into Go struct field %s.%s of type %s",
                 json_type(v), c->gostruct ? c->gostruct : "Object", c->gopath, gt);
    }
    c->type_err = strdup(msg);
}

static void strict_msg(struct sctx *c, const char *what, const char *key)
{
    if (!c->strict) return;
    fprintf(c->strict, "%s%s field \"%s%s%s\"", c->n_strict ? "\n" : "", what, c->path,
            c->path[0] ? "." : "", key);
    c->n_strict++;
}

static void check(struct sctx *c, cJSON *v, const char *t, size_t tl);

/* Removes earlier duplicates of each key (the last one wins). */
static void dedupe(struct sctx *c, cJSON *o)
{
    for (cJSON *a = o->child; a;) {
        cJSON *next = a->next;
        for (cJSON *b = a->next; b; b = b->next) {
            if (a->string && b->string && !strcmp(a->string, b->string)) {
                strict_msg(c, "duplicate", a->string);
                cJSON_Delete(cJSON_DetachItemViaPointer(o, a));
                break;
            }
        }
        a = next;
    }
}

static size_t push(char *p, size_t cap, const char *fmt, const char *s, int idx)
{
    size_t n = strlen(p);
    if (idx >= 0)
        snprintf(p + n, cap - n, "[%d]", idx);
    else
        snprintf(p + n, cap - n, fmt, n ? "." : "", s);
    return n;
}

static void check_struct(struct sctx *c, cJSON *o, const struct stype *st)
{
    if (cJSON_GetArraySize(o) < 256) dedupe(c, o);
    const char *saved_struct = c->gostruct;
    c->gostruct = st->name;
    for (cJSON *it = o->child; it;) {
        cJSON *next = it->next;
        const struct sfield *f = it->string ? field_find(st, it->string) : NULL;
        if (!f) {
            /* Reported (Strict: refused), and dropped as Go's decoder drops it. */
            strict_msg(c, "unknown", it->string ? it->string : "");
            cJSON_Delete(cJSON_DetachItemViaPointer(o, it));
        } else if (cJSON_IsNull(it)) {
            cJSON_Delete(cJSON_DetachItemViaPointer(o, it));
        } else {
            size_t n1 = push(c->path, sizeof c->path, "%s%s", it->string, -1);
            size_t n2 = push(c->gopath, sizeof c->gopath, "%s%s", it->string, -1);
            check(c, it, f->type, strlen(f->type));
            c->path[n1] = 0;
            c->gopath[n2] = 0;
        }
        it = next;
    }
    c->gostruct = saved_struct;
}

static void check(struct sctx *c, cJSON *v, const char *t, size_t tl)
{
    if (c->type_err || cJSON_IsNull(v)) return;
    char err[256];
    if (tl == 1) {
        switch (t[0]) {
        case 's':
        case 't':
            if (!cJSON_IsString(v)) type_error(c, v, t, tl, NULL);
            return;
        case 'i':
            if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long long)v->valuedouble)
                type_error(c, v, t, tl, NULL);
            return;
        case 'n':
            if (!cJSON_IsNumber(v)) type_error(c, v, t, tl, NULL);
            return;
        case 'b':
            if (!cJSON_IsBool(v)) type_error(c, v, t, tl, NULL);
            return;
        case 'o':
            if (!cJSON_IsString(v) && !cJSON_IsNumber(v)) type_error(c, v, t, tl, NULL);
            return;
        case 'q':
            if (!cJSON_IsString(v) && !cJSON_IsNumber(v)) {
                type_error(c, v, t, tl, NULL);
            } else {
                api_quantity_t qv;
                if (api_quantity_from_json(v, &qv, err, sizeof err) != 0)
                    type_error(c, v, t, tl, err);
            }
            return;
        default:
            return; /* '*' */
        }
    }
    if (t[0] == '[') {
        if (!cJSON_IsArray(v)) {
            type_error(c, v, t, tl, NULL);
            return;
        }
        int i = 0;
        cJSON *it;
        cJSON_ArrayForEach(it, v)
        {
            size_t n1 = push(c->path, sizeof c->path, NULL, NULL, i++);
            check(c, it, t + 1, tl - 2);
            c->path[n1] = 0;
        }
        return;
    }
    if (t[0] == '{') {
        if (!cJSON_IsObject(v)) {
            type_error(c, v, t, tl, NULL);
            return;
        }
        if (cJSON_GetArraySize(v) < 256) dedupe(c, v);
        cJSON *it;
        cJSON_ArrayForEach(it, v) check(c, it, t + 1, tl - 2);
        return;
    }
    const struct stype *st = type_find(t, tl);
    if (!st) return;
    if (!cJSON_IsObject(v)) {
        type_error(c, v, t, tl, NULL);
        return;
    }
    check_struct(c, v, st);
}

cJSON *schema_check(const char *group_version, const char *kind, cJSON *obj,
                    enum field_validation fv, char **warn)
{
    pthread_once(&once, load);
    if (warn) *warn = NULL;
    const struct stype *st = kind ? type_find(kind, strlen(kind)) : NULL;
    if (!st || !cJSON_IsObject(obj)) return NULL;
    struct sctx c = {.fv = fv};
    char *sbuf = NULL;
    size_t slen = 0;
    if (fv != FV_IGNORE) c.strict = open_memstream(&sbuf, &slen);
    check_struct(&c, obj, st);
    if (c.strict) fclose(c.strict);
    cJSON *res = NULL;
    char head[256];
    snprintf(head, sizeof head, "%s in version \"%s\" cannot be handled as a %s: ", kind,
             group_version, kind);
    if (c.type_err) {
        size_t n = strlen(head) + strlen(c.type_err) + 1;
        char *m = malloc(n);
        if (m) snprintf(m, n, "%s%s", head, c.type_err);
        res = api_status_bad_request(m ? m : c.type_err);
        free(m);
    } else if (c.n_strict && fv == FV_STRICT) {
        size_t n = strlen(head) + 2 * slen + 32;
        char *m = malloc(n);
        if (m) {
            int k = snprintf(m, n, "%sstrict decoding error: ", head);
            for (const char *p = sbuf; *p; p++) {
                if (*p == '\n') {
                    m[k++] = ',';
                    m[k++] = ' ';
                } else {
                    m[k++] = *p;
                }
            }
            m[k] = 0;
        }
        res = api_status_bad_request(m ? m : "strict decoding error");
        free(m);
    } else if (c.n_strict && warn) {
        *warn = sbuf;
        sbuf = NULL;
    }
    free(c.type_err);
    free(sbuf);
    return res;
}

/* --------------------------------------------------------------- OpenAPI */

static cJSON *oa_type(const char *t, size_t tl)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    char ref[160];
    if (tl == 1) {
        switch (t[0]) {
        case 's':
        case 'q':
            cJSON_AddStringToObject(o, "type", "string");
            break;
        case 't':
            cJSON_AddStringToObject(o, "type", "string");
            cJSON_AddStringToObject(o, "format", "date-time");
            break;
        case 'i':
            cJSON_AddStringToObject(o, "type", "integer");
            cJSON_AddStringToObject(o, "format", "int64");
            break;
        case 'n':
            cJSON_AddStringToObject(o, "type", "number");
            break;
        case 'b':
            cJSON_AddStringToObject(o, "type", "boolean");
            break;
        case 'o':
            cJSON_AddStringToObject(o, "type", "string");
            cJSON_AddStringToObject(o, "format", "int-or-string");
            cJSON_AddTrueToObject(o, "x-kubernetes-int-or-string");
            break;
        default:
            cJSON_AddStringToObject(o, "type", "object");
            cJSON_AddTrueToObject(o, "x-kubernetes-preserve-unknown-fields");
            break;
        }
    } else if (t[0] == '[') {
        cJSON_AddStringToObject(o, "type", "array");
        cJSON_AddItemToObject(o, "items", oa_type(t + 1, tl - 2));
    } else if (t[0] == '{') {
        cJSON_AddStringToObject(o, "type", "object");
        cJSON_AddItemToObject(o, "additionalProperties", oa_type(t + 1, tl - 2));
    } else {
        snprintf(ref, sizeof ref, "#/components/schemas/io.k8s.picokube.%.*s", (int)tl, t);
        cJSON *all = cJSON_AddArrayToObject(o, "allOf");
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "$ref", ref);
        cJSON_AddItemToArray(all, r);
    }
    return o;
}

/* The group and version a kind of the schema belongs to. */
static bool kind_gv(const char *kind, const char **group, const char **version)
{
    static const char *const sub[][3] = {
        {"Scale", "autoscaling", "v1"}, {"Eviction", "policy", "v1"}, {"Binding", "", "v1"}};
    for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
        if (!strcmp(kind, sub[i][0])) {
            *group = sub[i][1];
            *version = sub[i][2];
            return true;
        }
    }
    const api_resource_t *r = api_resource_by_kind(NULL, kind);
    if (!r) return false;
    *group = r->group;
    *version = r->version;
    return true;
}

cJSON *schema_openapi(const char *group, const char *version)
{
    pthread_once(&once, load);
    cJSON *schemas = cJSON_CreateObject();
    char name[128];
    for (size_t i = 0; schemas && i < n_types; i++) {
        const struct stype *t = &types[i];
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "type", "object");
        cJSON *props = cJSON_AddObjectToObject(s, "properties");
        for (size_t f = 0; f < t->n; f++)
            cJSON_AddItemToObject(props, t->f[f].name, oa_type(t->f[f].type, strlen(t->f[f].type)));
        const char *g, *v;
        if (is_kind(t->name) && kind_gv(t->name, &g, &v) && !strcmp(g, group) &&
            !strcmp(v, version)) {
            cJSON *gvk = cJSON_AddArrayToObject(s, "x-kubernetes-group-version-kind");
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "group", g);
            cJSON_AddStringToObject(e, "kind", t->name);
            cJSON_AddStringToObject(e, "version", v);
            cJSON_AddItemToArray(gvk, e);
        }
        snprintf(name, sizeof name, "io.k8s.picokube.%s", t->name);
        cJSON_AddItemToObject(schemas, name, s);
    }
    return schemas;
}
