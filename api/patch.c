/*
 * patch.c - JSON Patch (RFC 6902), JSON Pointer (RFC 6901) and JSON Merge
 * Patch (RFC 7386), as the API server applies PATCH requests with
 * application/json-patch+json and application/merge-patch+json.
 *
 * Every function works on a copy of the document, so a patch that fails half
 * way changes nothing: the API server must answer an error and keep the stored
 * object. Limits (operation count, accumulated copies, nesting) keep a hostile
 * patch from exhausting memory or producing a document cJSON cannot read back.
 */
#include "api/api.h"
#include "api/ops_int.h"

#include <limits.h>

/* The Kubernetes API server refuses JSON patches with more operations. */
#define MAX_OPERATIONS 10000
/* Bound on what "copy" operations may duplicate in one patch (nodes + bytes). */
#define MAX_COPY_UNITS (4 * 1024 * 1024)

/* ---------------------------------------------------------- JSON Pointer */

struct pointer {
    char **tok;
    size_t n;
};

static void pointer_free(struct pointer *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->tok[i]);
    free(p->tok);
    p->tok = NULL;
    p->n = 0;
}

/* Splits "/a/b~1c" into unescaped tokens. */
static int pointer_parse(const char *s, struct pointer *p, char *err, size_t errlen)
{
    p->tok = NULL;
    p->n = 0;
    if (!*s) return 0;
    if (*s != '/')
        return ops_err(err, errlen,
                       "invalid JSON pointer \"%s\": it must be empty or start with '/'", s);
    size_t count = 0;
    for (const char *c = s; *c; c++)
        count += *c == '/';
    if (!(p->tok = calloc(count, sizeof *p->tok))) return ops_err(err, errlen, "out of memory");
    const char *c = s + 1;
    for (;;) {
        size_t len = strcspn(c, "/");
        char *t = malloc(len + 1), *o = t;
        if (!t) {
            pointer_free(p);
            return ops_err(err, errlen, "out of memory");
        }
        p->tok[p->n++] = t;
        for (size_t i = 0; i < len; i++) {
            if (c[i] == '~') {
                if (i + 1 < len && c[i + 1] == '0')
                    *o++ = '~';
                else if (i + 1 < len && c[i + 1] == '1')
                    *o++ = '/';
                else {
                    pointer_free(p);
                    return ops_err(err, errlen,
                                   "invalid JSON pointer \"%s\": '~' must be followed by 0 or 1",
                                   s);
                }
                i++;
            } else {
                *o++ = c[i];
            }
        }
        *o = '\0';
        if (!c[len]) break;
        c += len + 1;
    }
    return 0;
}

/* An array index: "0" or digits without a leading zero; -1 when not one. */
static long array_index(const char *t)
{
    if (!*t || (t[0] == '0' && t[1]) || strlen(t) > 9) return -1;
    for (const char *c = t; *c; c++)
        if (*c < '0' || *c > '9') return -1;
    return strtol(t, NULL, 10);
}

static cJSON *child_of(const cJSON *v, const char *tok)
{
    if (cJSON_IsObject(v)) return cJSON_GetObjectItemCaseSensitive(v, tok);
    if (cJSON_IsArray(v)) {
        long i = array_index(tok);
        if (i < 0 || i >= cJSON_GetArraySize(v)) return NULL;
        return cJSON_GetArrayItem(v, (int)i);
    }
    return NULL;
}

/* Follows the first n tokens of p from root. */
static cJSON *resolve(cJSON *root, const struct pointer *p, size_t n)
{
    cJSON *v = root;
    for (size_t i = 0; v && i < n; i++)
        v = child_of(v, p->tok[i]);
    return v;
}

const cJSON *api_json_pointer_get(const cJSON *doc, const char *pointer)
{
    struct pointer p;
    if (!doc || !pointer || pointer_parse(pointer, &p, NULL, 0)) return NULL;
    const cJSON *v = resolve((cJSON *)doc, &p, p.n);
    pointer_free(&p);
    return v;
}

/* ------------------------------------------------------------ operations */

struct jp {
    cJSON *root;
    size_t copied;
    char *err;
    size_t errlen;
};

static size_t json_units(const cJSON *v, size_t limit)
{
    size_t u = 1 + (v->string ? strlen(v->string) : 0) +
               (cJSON_IsString(v) && v->valuestring ? strlen(v->valuestring) : 0);
    for (const cJSON *c = v->child; c && u <= limit; c = c->next)
        u += json_units(c, limit);
    return u;
}

/* Puts value (owned) at path: replaces a member, inserts into an array
 * ('-' appends), or replaces the whole document. */
static int op_add(struct jp *j, const char *path, const struct pointer *p, cJSON *value,
                  bool replace)
{
    if ((int)p->n + ops_json_depth(value, OPS_MAX_DEPTH) > OPS_MAX_DEPTH) {
        cJSON_Delete(value);
        return ops_err(j->err, j->errlen,
                       "add operation does not apply: the document would be nested more than %d "
                       "levels deep",
                       OPS_MAX_DEPTH);
    }
    if (p->n == 0) {
        cJSON_Delete(j->root);
        j->root = value;
        return 0;
    }
    cJSON *parent = resolve(j->root, p, p->n - 1);
    const char *last = p->tok[p->n - 1];
    if (cJSON_IsObject(parent)) {
        if (!ops_obj_set(parent, last, value)) return ops_err(j->err, j->errlen, "out of memory");
        return 0;
    }
    if (cJSON_IsArray(parent)) {
        int size = cJSON_GetArraySize(parent);
        long i = strcmp(last, "-") || replace ? array_index(last) : size;
        if (i < 0 || i > size || (replace && i == size)) {
            cJSON_Delete(value);
            return ops_err(j->err, j->errlen,
                           "%s operation does not apply: index \"%s\" is out of range in \"%s\"",
                           replace ? "replace" : "add", last, path);
        }
        cJSON *at = i < size ? cJSON_GetArrayItem(parent, (int)i) : NULL;
        if (replace)
            cJSON_ReplaceItemViaPointer(parent, at, value);
        else if (at)
            ops_array_insert(parent, at, value);
        else if (!cJSON_AddItemToArray(parent, value)) {
            cJSON_Delete(value);
            return ops_err(j->err, j->errlen, "out of memory");
        }
        return 0;
    }
    cJSON_Delete(value);
    return ops_err(j->err, j->errlen, "add operation does not apply: doc is missing path: \"%s\"",
                   path);
}

/* Detaches and returns the value at path (NULL with an error when absent). */
static cJSON *op_take(struct jp *j, const char *opname, const char *path, const struct pointer *p)
{
    if (p->n == 0) {
        ops_err(j->err, j->errlen, "%s operation does not apply: cannot remove the whole document",
                opname);
        return NULL;
    }
    cJSON *parent = resolve(j->root, p, p->n - 1);
    cJSON *v = parent ? child_of(parent, p->tok[p->n - 1]) : NULL;
    if (!v) {
        ops_err(j->err, j->errlen, "%s operation does not apply: doc is missing path: \"%s\"",
                opname, path);
        return NULL;
    }
    return cJSON_DetachItemViaPointer(parent, v);
}

static const char *member_string(const cJSON *op, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(op, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int apply_one(struct jp *j, const cJSON *op, int idx)
{
    char *err = j->err;
    size_t errlen = j->errlen;
    if (!cJSON_IsObject(op))
        return ops_err(err, errlen, "invalid JSON patch: operation %d is not an object", idx);
    const char *kind = member_string(op, "op");
    const char *path = member_string(op, "path");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(op, "value");
    const char *from = member_string(op, "from");
    if (!kind) return ops_err(err, errlen, "invalid JSON patch: operation %d has no \"op\"", idx);
    if (!path)
        return ops_err(err, errlen, "invalid JSON patch: operation %d (%s) has no \"path\"", idx,
                       kind);
    bool needs_value = !strcmp(kind, "add") || !strcmp(kind, "replace") || !strcmp(kind, "test");
    bool needs_from = !strcmp(kind, "move") || !strcmp(kind, "copy");
    if (!needs_value && !needs_from && strcmp(kind, "remove"))
        return ops_err(err, errlen, "invalid JSON patch: operation %d has unknown op \"%s\"", idx,
                       kind);
    if (needs_value && !value)
        return ops_err(err, errlen, "invalid JSON patch: %s operation on \"%s\" has no \"value\"",
                       kind, path);
    if (needs_from && !from)
        return ops_err(err, errlen, "invalid JSON patch: %s operation on \"%s\" has no \"from\"",
                       kind, path);

    struct pointer p, f = {0};
    if (pointer_parse(path, &p, err, errlen)) return -1;
    int rc = 0;
    if (needs_from && pointer_parse(from, &f, err, errlen)) {
        pointer_free(&p);
        return -1;
    }
    if (!strcmp(kind, "add")) {
        cJSON *v = cJSON_Duplicate(value, 1);
        rc = v ? op_add(j, path, &p, v, false) : ops_err(err, errlen, "out of memory");
    } else if (!strcmp(kind, "remove")) {
        cJSON *v = op_take(j, "remove", path, &p);
        rc = v ? 0 : -1;
        cJSON_Delete(v);
    } else if (!strcmp(kind, "replace")) {
        if (!resolve(j->root, &p, p.n)) {
            rc = ops_err(err, errlen,
                         "replace operation does not apply: doc is missing key: \"%s\"", path);
        } else {
            cJSON *v = cJSON_Duplicate(value, 1);
            rc = v ? op_add(j, path, &p, v, true) : ops_err(err, errlen, "out of memory");
        }
    } else if (!strcmp(kind, "test")) {
        const cJSON *cur = resolve(j->root, &p, p.n);
        if (!cur || !cJSON_Compare(cur, value, 1))
            rc = ops_err(err, errlen, "testing value \"%s\" failed: test failed", path);
    } else if (!strcmp(kind, "move")) {
        size_t fl = strlen(from);
        if (!strcmp(from, path)) {
            if (!resolve(j->root, &f, f.n))
                rc = ops_err(err, errlen,
                             "move operation does not apply: doc is missing from "
                             "path: \"%s\"",
                             from);
        } else if (!strncmp(path, from, fl) && path[fl] == '/') {
            rc = ops_err(
                err, errlen,
                "move operation does not apply: \"%s\" cannot be moved into itself (\"%s\")", from,
                path);
        } else {
            cJSON *v = op_take(j, "move", from, &f);
            rc = v ? op_add(j, path, &p, v, false) : -1;
        }
    } else { /* copy */
        const cJSON *src = resolve(j->root, &f, f.n);
        if (!src) {
            rc = ops_err(err, errlen,
                         "copy operation does not apply: doc is missing from path: "
                         "\"%s\"",
                         from);
        } else {
            j->copied += json_units(src, MAX_COPY_UNITS);
            cJSON *v = j->copied > MAX_COPY_UNITS ? NULL : cJSON_Duplicate(src, 1);
            if (j->copied > MAX_COPY_UNITS)
                rc = ops_err(err, errlen,
                             "copy operation does not apply: the accumulated copy size exceeds "
                             "the limit of %d",
                             MAX_COPY_UNITS);
            else
                rc = v ? op_add(j, path, &p, v, false) : ops_err(err, errlen, "out of memory");
        }
    }
    pointer_free(&p);
    pointer_free(&f);
    return rc;
}

cJSON *api_json_patch_apply(const cJSON *doc, const cJSON *patch, char *err, size_t errlen)
{
    if (!doc) {
        ops_err(err, errlen, "invalid JSON document");
        return NULL;
    }
    if (!cJSON_IsArray(patch)) {
        ops_err(err, errlen, "invalid JSON patch: a JSON patch must be a list of operations");
        return NULL;
    }
    int n = cJSON_GetArraySize(patch);
    if (n > MAX_OPERATIONS) {
        ops_err(err, errlen, "The allowed maximum operations in a JSON patch is %d, got %d",
                MAX_OPERATIONS, n);
        return NULL;
    }
    struct jp j = {.root = cJSON_Duplicate(doc, 1), .err = err, .errlen = errlen};
    if (!j.root) {
        ops_err(err, errlen, "out of memory");
        return NULL;
    }
    int idx = 0;
    for (const cJSON *op = patch->child; op; op = op->next, idx++) {
        if (apply_one(&j, op, idx)) {
            cJSON_Delete(j.root);
            return NULL;
        }
    }
    return j.root;
}

/* ----------------------------------------------------------- merge patch */

static int merge_into(cJSON *target, const cJSON *patch, int depth);

/* The patch value as merging it into nothing gives: objects lose their null
 * members, recursively; anything else is copied. */
static cJSON *merge_value(const cJSON *patch, int depth)
{
    if (!cJSON_IsObject(patch)) return cJSON_Duplicate(patch, 1);
    cJSON *o = cJSON_CreateObject();
    if (o && merge_into(o, patch, depth + 1)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int merge_into(cJSON *target, const cJSON *patch, int depth)
{
    if (depth > OPS_MAX_DEPTH) return -1;
    for (const cJSON *m = patch->child; m; m = m->next) {
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(target, m->string);
        if (cJSON_IsNull(m)) {
            ops_obj_delete_all(target, m->string, NULL);
            continue;
        }
        if (cur && cJSON_IsObject(cur) && cJSON_IsObject(m)) {
            ops_obj_delete_all(target, m->string, cur);
            if (merge_into(cur, m, depth + 1)) return -1;
            continue;
        }
        cJSON *v = merge_value(m, depth);
        if (!v || !ops_obj_set(target, m->string, v)) return -1;
    }
    return 0;
}

cJSON *api_merge_patch_apply(const cJSON *doc, const cJSON *patch, char *err, size_t errlen)
{
    if (!patch) {
        ops_err(err, errlen, "invalid JSON document");
        return NULL;
    }
    cJSON *out;
    if (!cJSON_IsObject(patch)) {
        out = cJSON_Duplicate(patch, 1);
    } else {
        out = cJSON_IsObject(doc) ? cJSON_Duplicate(doc, 1) : cJSON_CreateObject();
        if (out && merge_into(out, patch, 1)) {
            cJSON_Delete(out);
            ops_err(err, errlen, "merge patch failed: out of memory or nested too deeply");
            return NULL;
        }
    }
    if (!out) ops_err(err, errlen, "out of memory");
    return out;
}
