/*
 * selector.c - label selectors.
 *
 * Owns how picokube reads `?labelSelector=` / `kubectl -l` strings, the
 * metav1.LabelSelector of workloads and Services' selector maps, how they
 * match labels, and the label key/value syntax. Clients compare our answers and
 * error messages with real Kubernetes ones, so the grammar, the validation
 * rules and the messages follow k8s.io/apimachinery (labels, util/validation)
 * closely. Field selectors are in fieldsel.c.
 */
#include "api/api.h"
#include "api/ops_int.h"

#include <errno.h>

enum sel_op { OP_EXISTS, OP_NOT_EXISTS, OP_EQ, OP_DEQ, OP_NEQ, OP_IN, OP_NOTIN, OP_GT, OP_LT };

struct requirement {
    char *key;
    enum sel_op op;
    char **values; /* sorted, unique */
    size_t nvalues;
};

struct api_selector {
    bool nothing;
    struct requirement *reqs;
    size_t n, cap;
};

/* ------------------------------------------------------- syntax checks */

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] on s[0..n) */
static bool is_name_part(const char *s, size_t n)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1])) return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.') return false;
    return true;
}

/* RFC 1123 subdomain: dot-separated [a-z0-9]([-a-z0-9]*[a-z0-9])? labels. */
static bool is_dns1123_subdomain(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') continue;
        size_t l = i - start;
        if (l == 0) return false;
        for (size_t j = start; j < i; j++) {
            char c = s[j];
            bool lower = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            if (!lower && !(c == '-' && j != start && j != i - 1)) return false;
        }
        start = i + 1;
    }
    return true;
}

#define NAME_PART_MSG                                                                              \
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "    \
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "         \
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

static void add_msg(struct ops_buf *b, int *count, const char *msg)
{
    if ((*count)++) ob_puts(b, "; ");
    ob_puts(b, msg);
}

/* Kubernetes' IsQualifiedName messages for k, "; "-joined; returns how many. */
static int label_key_errors(const char *k, struct ops_buf *b)
{
    int count = 0;
    const char *slash = strchr(k, '/');
    const char *name = k;
    if (slash) {
        if (strchr(slash + 1, '/')) {
            add_msg(b, &count,
                    "a qualified name " NAME_PART_MSG
                    " with an optional DNS subdomain prefix and '/' (e.g. "
                    "'example.com/MyName')");
            return count;
        }
        size_t plen = (size_t)(slash - k);
        if (plen == 0) {
            add_msg(b, &count, "prefix part must be non-empty");
        } else {
            if (plen > 253) add_msg(b, &count, "prefix part must be no more than 253 characters");
            if (!is_dns1123_subdomain(k, plen))
                add_msg(b, &count,
                        "prefix part a lowercase RFC 1123 subdomain must consist of lower case "
                        "alphanumeric characters, '-' or '.', and must start and end with an "
                        "alphanumeric character (e.g. 'example.com', regex used for validation "
                        "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
        }
        name = slash + 1;
    }
    size_t n = strlen(name);
    if (n == 0)
        add_msg(b, &count, "name part must be non-empty");
    else if (n > 63)
        add_msg(b, &count, "name part must be no more than 63 characters");
    if (!is_name_part(name, n)) add_msg(b, &count, "name part " NAME_PART_MSG);
    return count;
}

static int label_value_errors(const char *v, struct ops_buf *b)
{
    int count = 0;
    size_t n = strlen(v);
    if (n > 63) add_msg(b, &count, "must be no more than 63 characters");
    if (n > 0 && !is_name_part(v, n))
        add_msg(b, &count,
                "a valid label must be an empty string or consist of alphanumeric characters, "
                "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
    return count;
}

static bool report(int (*check)(const char *, struct ops_buf *), const char *s, char *err,
                   size_t errlen)
{
    struct ops_buf b = {0};
    int n = check(s, &b);
    if (n && err && errlen) snprintf(err, errlen, "%s", b.p ? b.p : "invalid");
    ob_free(&b);
    return n == 0;
}

bool api_label_key_valid(const char *key, char *err, size_t errlen)
{
    return report(label_key_errors, key, err, errlen);
}

bool api_label_value_valid(const char *value, char *err, size_t errlen)
{
    return report(label_value_errors, value, err, errlen);
}

/* ------------------------------------------------------- requirements */

static void req_free(struct requirement *r)
{
    free(r->key);
    for (size_t i = 0; i < r->nvalues; i++)
        free(r->values[i]);
    free(r->values);
}

void api_selector_free(api_selector_t *sel)
{
    if (!sel) return;
    for (size_t i = 0; i < sel->n; i++)
        req_free(&sel->reqs[i]);
    free(sel->reqs);
    free(sel);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A string set, sorted and unique as Kubernetes' sets.String. */
struct strset {
    char **v;
    size_t n, cap;
};

static int strset_add(struct strset *s, const char *v)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], v)) return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        char **p = realloc(s->v, cap * sizeof *p);
        if (!p) return -1;
        s->v = p;
        s->cap = cap;
    }
    if (!(s->v[s->n] = strdup(v))) return -1;
    s->n++;
    return 0;
}

static void strset_free(struct strset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

/* Go's formatting of a []string bad value: []string{"a", "b"} */
static void ob_go_strings(struct ops_buf *b, const struct strset *s)
{
    ob_puts(b, "[]string{");
    for (size_t i = 0; i < s->n; i++) {
        if (i) ob_puts(b, ", ");
        ob_quote(b, s->v[i]);
    }
    ob_putc(b, '}');
}

/* Kubernetes' NewRequirement: validates and appends to sel, taking vals.
 * Errors aggregate as one message or "[e1, e2]"; key_path NULL means the key
 * was already checked by the parser. */
static int add_requirement(api_selector_t *sel, const char *key, enum sel_op op,
                           struct strset *vals, const char *key_path, bool validate, char *err,
                           size_t errlen)
{
    struct ops_buf e = {0};
    int nerr = 0;
    struct ops_buf tmp = {0};
    const char *path_sep = "";

#define NEXT_ERR() (ob_puts(&e, path_sep), path_sep = ", ", nerr++)
    if (key_path && label_key_errors(key, &tmp)) {
        NEXT_ERR();
        ob_printf(&e, "%s: Invalid value: ", key_path);
        ob_quote(&e, key);
        ob_printf(&e, ": %s", tmp.p);
    }
    ob_free(&tmp);
    switch (validate ? op : OP_EQ) {
    case OP_IN:
    case OP_NOTIN:
        if (vals->n == 0) {
            NEXT_ERR();
            ob_puts(&e, "values: Invalid value: ");
            ob_go_strings(&e, vals);
            ob_puts(&e, ": for 'in', 'notin' operators, values set can't be empty");
        }
        break;
    case OP_EQ:
    case OP_DEQ:
    case OP_NEQ:
        if (validate && vals->n != 1) {
            NEXT_ERR();
            ob_puts(&e, "values: Invalid value: ");
            ob_go_strings(&e, vals);
            ob_puts(&e, ": exact-match compatibility requires one single value");
        }
        break;
    case OP_EXISTS:
    case OP_NOT_EXISTS:
        if (vals->n != 0) {
            NEXT_ERR();
            ob_puts(&e, "values: Invalid value: ");
            ob_go_strings(&e, vals);
            ob_puts(&e, ": values set must be empty for exists and does not exist");
        }
        break;
    case OP_GT:
    case OP_LT:
        if (vals->n != 1) {
            NEXT_ERR();
            ob_puts(&e, "values: Invalid value: ");
            ob_go_strings(&e, vals);
            ob_puts(&e, ": for 'Gt', 'Lt' operators, exactly one value is required");
        }
        for (size_t i = 0; i < vals->n; i++) {
            char *end;
            errno = 0;
            (void)strtoll(vals->v[i], &end, 10);
            if (errno || end == vals->v[i] || *end || vals->v[i][0] == ' ') {
                NEXT_ERR();
                ob_printf(&e, "values[%zu]: Invalid value: ", i);
                ob_quote(&e, vals->v[i]);
                ob_puts(&e, ": for 'Gt', 'Lt' operators, the value must be an integer");
            }
        }
        break;
    }
    for (size_t i = 0; validate && i < vals->n; i++) {
        if (label_value_errors(vals->v[i], &tmp)) {
            NEXT_ERR();
            ob_printf(&e, "values[%zu][%s]: Invalid value: ", i, key);
            ob_quote(&e, vals->v[i]);
            ob_printf(&e, ": %s", tmp.p);
        }
        ob_free(&tmp);
    }
#undef NEXT_ERR
    if (nerr || e.oom) {
        if (e.oom)
            ops_err(err, errlen, "out of memory");
        else if (nerr == 1)
            ops_err(err, errlen, "%s", e.p);
        else
            ops_err(err, errlen, "[%s]", e.p);
        ob_free(&e);
        strset_free(vals);
        return -1;
    }
    ob_free(&e);
    if (sel->n == sel->cap) {
        size_t cap = sel->cap ? sel->cap * 2 : 4;
        struct requirement *p = realloc(sel->reqs, cap * sizeof *p);
        if (!p) goto oom;
        sel->reqs = p;
        sel->cap = cap;
    }
    struct requirement *r = &sel->reqs[sel->n];
    if (!(r->key = strdup(key))) goto oom;
    if (vals->n) qsort(vals->v, vals->n, sizeof *vals->v, cmp_str);
    r->op = op;
    r->values = vals->v;
    r->nvalues = vals->n;
    vals->v = NULL;
    vals->n = vals->cap = 0;
    sel->n++;
    return 0;
oom:
    strset_free(vals);
    return ops_err(err, errlen, "out of memory");
}

/* Stable sort by key, as Kubernetes sorts requirements for a deterministic form. */
static void sort_requirements(api_selector_t *sel)
{
    for (size_t i = 1; i < sel->n; i++) {
        struct requirement r = sel->reqs[i];
        size_t j = i;
        while (j > 0 && strcmp(sel->reqs[j - 1].key, r.key) > 0) {
            sel->reqs[j] = sel->reqs[j - 1];
            j--;
        }
        sel->reqs[j] = r;
    }
}

/* --------------------------------------------------------- the parser */

enum tok {
    T_END,
    T_CPAR,
    T_COMMA,
    T_NOT,
    T_DEQ,
    T_EQ,
    T_GT,
    T_ID,
    T_IN,
    T_LT,
    T_NEQ,
    T_NOTIN,
    T_OPAR
};

struct token {
    enum tok t;
    char *lit;
};

struct parser {
    struct token *toks;
    size_t n, pos;
    char *err;
    size_t errlen;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
    return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

static int special_token(const char *s, size_t n)
{
    static const struct {
        const char *s;
        enum tok t;
    } map[] = {{")", T_CPAR}, {",", T_COMMA}, {"!", T_NOT},  {"==", T_DEQ}, {"=", T_EQ},
               {">", T_GT},   {"<", T_LT},    {"!=", T_NEQ}, {"(", T_OPAR}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].s) == n && !memcmp(map[i].s, s, n)) return (int)map[i].t;
    return -1;
}

static int lex(struct parser *p, const char *s)
{
    size_t cap = strlen(s) + 1;
    if (!(p->toks = calloc(cap, sizeof *p->toks))) return -1;
    size_t i = 0;
    for (;;) {
        while (is_space(s[i]))
            i++;
        struct token *t = &p->toks[p->n];
        size_t start = i;
        if (!s[i]) {
            t->t = T_END;
        } else if (is_special(s[i])) {
            /* longest run of symbols that is still a token: "!=" but "=(" is "=" */
            int last = -1;
            size_t len = 0;
            while (is_special(s[start + len])) {
                int tk = special_token(s + start, len + 1);
                if (tk < 0) break;
                last = tk;
                len++;
            }
            t->t = (enum tok)last;
            i = start + len;
        } else {
            while (s[i] && !is_special(s[i]) && !is_space(s[i]))
                i++;
            t->t = T_ID;
            if (i - start == 2 && !memcmp(s + start, "in", 2)) t->t = T_IN;
            if (i - start == 5 && !memcmp(s + start, "notin", 5)) t->t = T_NOTIN;
        }
        if (!(t->lit = strndup(s + start, i - start))) return -1;
        p->n++;
        if (t->t == T_END) return 0;
    }
}

/* In value position, "in" and "notin" are plain identifiers ("a in (in)"). */
static enum tok peek(struct parser *p, bool values, const char **lit)
{
    struct token *t = &p->toks[p->pos < p->n ? p->pos : p->n - 1];
    if (lit) *lit = t->lit;
    if (values && (t->t == T_IN || t->t == T_NOTIN)) return T_ID;
    return t->t;
}

static enum tok next(struct parser *p, bool values, const char **lit)
{
    enum tok t = peek(p, values, lit);
    if (p->pos < p->n - 1) p->pos++;
    return t;
}

static int perr(struct parser *p, const char *fmt, const char *lit)
{
    return ops_err(p->err, p->errlen, fmt, lit);
}

static int parse_values(struct parser *p, struct strset *vals)
{
    const char *lit;
    if (next(p, true, &lit) != T_OPAR) return perr(p, "found '%s' expected: '('", lit);
    const char *first;
    enum tok t = peek(p, true, &first);
    if (t == T_CPAR) {
        next(p, true, NULL);
        return strset_add(vals, "");
    }
    if (t != T_ID && t != T_COMMA)
        return perr(p, "found '%s', expected: ',', ')' or identifier", first);
    for (;;) {
        t = next(p, true, &lit);
        if (t == T_ID) {
            if (strset_add(vals, lit)) return -1;
            const char *lit2;
            enum tok t2 = peek(p, true, &lit2);
            if (t2 == T_COMMA) continue;
            if (t2 == T_CPAR) break;
            return perr(p, "found '%s', expected: ',' or ')'", lit2);
        } else if (t == T_COMMA) {
            /* "(,", ",," and ",)" stand for empty values */
            if (vals->n == 0 && strset_add(vals, "")) return -1;
            enum tok t2 = peek(p, true, NULL);
            if (t2 == T_CPAR) {
                if (strset_add(vals, "")) return -1;
                break;
            }
            if (t2 == T_COMMA && strset_add(vals, "")) return -1;
        } else {
            return perr(p, "found '%s', expected: ',', or identifier", lit);
        }
    }
    if (next(p, true, NULL) != T_CPAR) return perr(p, "found '%s', expected: ')'", first);
    return 0;
}

static int parse_requirement(struct parser *p, api_selector_t *sel)
{
    const char *key;
    bool not = false;
    enum tok t = next(p, true, &key);
    if (t == T_NOT) {
        not = true;
        t = next(p, true, &key);
    }
    if (t != T_ID) return perr(p, "found '%s', expected: identifier", key);
    struct ops_buf kb = {0};
    if (label_key_errors(key, &kb)) {
        struct ops_buf m = {0};
        ob_puts(&m, "<nil>: Invalid value: ");
        ob_quote(&m, key);
        ob_printf(&m, ": %s", kb.p);
        ops_err(p->err, p->errlen, "%s", m.p ? m.p : "out of memory");
        ob_free(&m);
        ob_free(&kb);
        return -1;
    }
    ob_free(&kb);
    struct strset vals = {0};
    enum tok la = peek(p, true, NULL);
    if (not || la == T_END || la == T_COMMA)
        return add_requirement(sel, key, not ? OP_NOT_EXISTS : OP_EXISTS, &vals, NULL, true, p->err,
                               p->errlen);
    const char *lit;
    enum sel_op op;
    switch (next(p, false, &lit)) {
    case T_IN:
        op = OP_IN;
        break;
    case T_NOTIN:
        op = OP_NOTIN;
        break;
    case T_EQ:
        op = OP_EQ;
        break;
    case T_DEQ:
        op = OP_DEQ;
        break;
    case T_NEQ:
        op = OP_NEQ;
        break;
    case T_GT:
        op = OP_GT;
        break;
    case T_LT:
        op = OP_LT;
        break;
    default:
        return perr(p, "found '%s', expected: in, notin, =, ==, !=, gt, lt", lit);
    }
    if (op == OP_IN || op == OP_NOTIN) {
        if (parse_values(p, &vals)) {
            strset_free(&vals);
            return -1;
        }
    } else {
        la = peek(p, true, NULL);
        if (la == T_END || la == T_COMMA) {
            if (strset_add(&vals, "")) return -1;
        } else if (next(p, true, &lit) == T_ID) {
            if (strset_add(&vals, lit)) return -1;
        } else {
            return perr(p, "found '%s', expected: identifier", lit);
        }
    }
    return add_requirement(sel, key, op, &vals, NULL, true, p->err, p->errlen);
}

static int parse_all(struct parser *p, api_selector_t *sel)
{
    for (;;) {
        const char *lit;
        enum tok t = peek(p, true, &lit);
        if (t == T_END) return 0;
        if (t != T_ID && t != T_NOT)
            return perr(p, "found '%s', expected: !, identifier, or 'end of string'", lit);
        char inner[2048] = "";
        char *outer = p->err;
        size_t outer_len = p->errlen;
        p->err = inner;
        p->errlen = sizeof inner;
        int rc = parse_requirement(p, sel);
        p->err = outer;
        p->errlen = outer_len;
        if (rc) return ops_err(outer, outer_len, "unable to parse requirement: %s", inner);
        t = next(p, true, &lit);
        if (t == T_END) return 0;
        if (t != T_COMMA) return perr(p, "found '%s', expected: ',' or 'end of string'", lit);
        t = peek(p, true, &lit);
        if (t != T_ID && t != T_NOT)
            return perr(p, "found '%s', expected: identifier after ','", lit);
    }
}

api_selector_t *api_selector_parse(const char *s, char *err, size_t errlen)
{
    api_selector_t *sel = calloc(1, sizeof *sel);
    struct parser p = {.err = err, .errlen = errlen};
    if (!sel || lex(&p, s ? s : "")) {
        ops_err(err, errlen, "out of memory");
        goto fail;
    }
    if (parse_all(&p, sel)) goto fail;
    sort_requirements(sel);
    for (size_t i = 0; i < p.n; i++)
        free(p.toks[i].lit);
    free(p.toks);
    return sel;
fail:
    if (p.toks)
        for (size_t i = 0; i < p.n; i++)
            free(p.toks[i].lit);
    free(p.toks);
    api_selector_free(sel);
    return NULL;
}

/* --------------------------------------------------------- JSON forms */

api_selector_t *api_selector_from_json(const cJSON *ls, char *err, size_t errlen)
{
    api_selector_t *sel = calloc(1, sizeof *sel);
    if (!sel) {
        ops_err(err, errlen, "out of memory");
        return NULL;
    }
    if (!ls || cJSON_IsNull(ls)) {
        sel->nothing = true;
        return sel;
    }
    if (!cJSON_IsObject(ls)) {
        ops_err(err, errlen, "a label selector must be an object");
        goto fail;
    }
    const cJSON *ml = cJSON_GetObjectItemCaseSensitive(ls, "matchLabels");
    const cJSON *me = cJSON_GetObjectItemCaseSensitive(ls, "matchExpressions");
    if (ml && !cJSON_IsNull(ml)) {
        if (!cJSON_IsObject(ml)) {
            ops_err(err, errlen, "matchLabels must be an object of strings");
            goto fail;
        }
        for (const cJSON *l = ml->child; l; l = l->next) {
            struct strset vals = {0};
            if (!cJSON_IsString(l)) {
                ops_err(err, errlen, "matchLabels.%s must be a string", l->string);
                goto fail;
            }
            if (strset_add(&vals, l->valuestring)) {
                ops_err(err, errlen, "out of memory");
                goto fail;
            }
            if (add_requirement(sel, l->string, OP_EQ, &vals, "key", true, err, errlen)) goto fail;
        }
    }
    if (me && !cJSON_IsNull(me)) {
        if (!cJSON_IsArray(me)) {
            ops_err(err, errlen, "matchExpressions must be a list");
            goto fail;
        }
        for (const cJSON *x = me->child; x; x = x->next) {
            const cJSON *key = cJSON_GetObjectItemCaseSensitive(x, "key");
            const cJSON *opj = cJSON_GetObjectItemCaseSensitive(x, "operator");
            const cJSON *vj = cJSON_GetObjectItemCaseSensitive(x, "values");
            const char *ops = cJSON_IsString(opj) ? opj->valuestring : "";
            enum sel_op op;
            if (!strcmp(ops, "In"))
                op = OP_IN;
            else if (!strcmp(ops, "NotIn"))
                op = OP_NOTIN;
            else if (!strcmp(ops, "Exists"))
                op = OP_EXISTS;
            else if (!strcmp(ops, "DoesNotExist"))
                op = OP_NOT_EXISTS;
            else {
                struct ops_buf m = {0};
                ob_quote(&m, ops);
                ops_err(err, errlen, "%s is not a valid label selector operator",
                        m.p ? m.p : "\"\"");
                ob_free(&m);
                goto fail;
            }
            struct strset vals = {0};
            for (const cJSON *v = cJSON_IsArray(vj) ? vj->child : NULL; v; v = v->next) {
                if (!cJSON_IsString(v)) {
                    strset_free(&vals);
                    ops_err(err, errlen, "matchExpressions values must be strings");
                    goto fail;
                }
                if (strset_add(&vals, v->valuestring)) {
                    strset_free(&vals);
                    ops_err(err, errlen, "out of memory");
                    goto fail;
                }
            }
            if (add_requirement(sel, cJSON_IsString(key) ? key->valuestring : "", op, &vals, "key",
                                true, err, errlen))
                goto fail;
        }
    }
    sort_requirements(sel);
    return sel;
fail:
    api_selector_free(sel);
    return NULL;
}

api_selector_t *api_selector_from_map(const cJSON *map)
{
    api_selector_t *sel = calloc(1, sizeof *sel);
    if (!sel) return NULL;
    for (const cJSON *l = cJSON_IsObject(map) ? map->child : NULL; l; l = l->next) {
        struct strset vals = {0};
        if (strset_add(&vals, cJSON_IsString(l) ? l->valuestring : "") ||
            add_requirement(sel, l->string, OP_EQ, &vals, NULL, false, NULL, 0)) {
            api_selector_free(sel);
            return NULL;
        }
    }
    sort_requirements(sel);
    return sel;
}

/* ------------------------------------------------------------ matching */

static bool has_value(const struct requirement *r, const char *v)
{
    return bsearch(&v, r->values, r->nvalues, sizeof *r->values, cmp_str) != NULL;
}

static bool parse_i64(const char *s, long long *out)
{
    char *end;
    errno = 0;
    *out = strtoll(s, &end, 10);
    return !errno && end != s && !*end && !is_space(*s);
}

static bool req_matches(const struct requirement *r, const cJSON *labels)
{
    const cJSON *l =
        cJSON_IsObject(labels) ? cJSON_GetObjectItemCaseSensitive(labels, r->key) : NULL;
    const char *v = cJSON_IsString(l) ? l->valuestring : NULL;
    long long lv, rv;
    switch (r->op) {
    case OP_IN:
    case OP_EQ:
    case OP_DEQ:
        return v && has_value(r, v);
    case OP_NOTIN:
    case OP_NEQ:
        return !v || !has_value(r, v);
    case OP_EXISTS:
        return v != NULL;
    case OP_NOT_EXISTS:
        return v == NULL;
    case OP_GT:
    case OP_LT:
        if (!v || r->nvalues != 1 || !parse_i64(v, &lv) || !parse_i64(r->values[0], &rv))
            return false;
        return r->op == OP_GT ? lv > rv : lv < rv;
    }
    return false;
}

bool api_selector_matches(const api_selector_t *sel, const cJSON *labels)
{
    if (!sel || sel->nothing) return false;
    for (size_t i = 0; i < sel->n; i++)
        if (!req_matches(&sel->reqs[i], labels)) return false;
    return true;
}

bool api_selector_empty(const api_selector_t *sel)
{
    return sel && !sel->nothing && sel->n == 0;
}

bool api_selector_nothing(const api_selector_t *sel)
{
    return !sel || sel->nothing;
}

char *api_selector_string(const api_selector_t *sel)
{
    static const char *const opstr[] = {
        [OP_EXISTS] = "",  [OP_NOT_EXISTS] = "",    [OP_EQ] = "=", [OP_DEQ] = "==", [OP_NEQ] = "!=",
        [OP_IN] = " in (", [OP_NOTIN] = " notin (", [OP_GT] = ">", [OP_LT] = "<"};
    struct ops_buf b = {0};
    for (size_t i = 0; sel && !sel->nothing && i < sel->n; i++) {
        const struct requirement *r = &sel->reqs[i];
        if (i) ob_putc(&b, ',');
        if (r->op == OP_NOT_EXISTS) ob_putc(&b, '!');
        ob_puts(&b, r->key);
        if (r->op == OP_EXISTS || r->op == OP_NOT_EXISTS) continue;
        ob_puts(&b, opstr[r->op]);
        for (size_t j = 0; j < r->nvalues; j++) {
            if (j) ob_putc(&b, ',');
            ob_puts(&b, r->values[j]);
        }
        if (r->op == OP_IN || r->op == OP_NOTIN) ob_putc(&b, ')');
    }
    return ob_take(&b);
}
