/*
 * util.c - the plumbing every kctl verb uses: kubectl-style flags (short and
 * long forms, "--" ending them), the connection from the kubeconfig and the
 * global flags, error messages worded as kubectl's, resource arguments and
 * URL paths, kubectl's tabwriter layout, ages and small JSON accessors.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "kctl/kctl_int.h"

/* ------------------------------------------------------------- options */

static int set_opt(const kopt_t *o, const char *val, const char *shown)
{
    switch (o->type) {
    case KOPT_STR:
        *(const char **)o->dest = val;
        return 0;
    case KOPT_BOOL:
        if (!val || !strcmp(val, "true") || !strcmp(val, "1"))
            *(bool *)o->dest = true;
        else if (!strcmp(val, "false") || !strcmp(val, "0"))
            *(bool *)o->dest = false;
        else
            return kctl_fail("invalid argument \"%s\" for \"%s\" flag: strconv.ParseBool: parsing "
                             "\"%s\": invalid syntax",
                             val, shown, val),
                   -1;
        return 0;
    case KOPT_INT: {
        char *end;
        long v = strtol(val, &end, 10);
        if (!*val || *end) {
            kctl_fail("invalid argument \"%s\" for \"%s\" flag: strconv.ParseInt: parsing \"%s\": "
                      "invalid syntax",
                      val, shown, val);
            return -1;
        }
        *(long *)o->dest = v;
        return 0;
    }
    case KOPT_LIST: {
        struct flag_list *l = o->dest;
        if (l->n >= sizeof l->items / sizeof l->items[0]) {
            kctl_fail("too many values for %s", shown);
            return -1;
        }
        l->items[l->n++] = val;
        return 0;
    }
    }
    return -1;
}

int kctl_opts(const kopt_t *opts, int argc, char **argv, int *dash)
{
    char **pos = calloc((size_t)argc + 1, sizeof(char *));
    if (!pos) return kctl_fail("out of memory"), -1;
    int npos = 0, dash_at = -1;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (!strcmp(a, "--")) {
            dash_at = npos;
            for (i++; i < argc; i++)
                pos[npos++] = argv[i];
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            pos[npos++] = a;
            continue;
        }
        const kopt_t *o = NULL;
        const char *val = NULL;
        char shown[64];
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            for (const kopt_t *p = opts; p->name; p++)
                if (strlen(p->name) == n && !strncmp(p->name, a + 2, n)) o = p;
            if (!o) {
                fprintf(stderr, "error: unknown flag: --%.*s\nSee 'kctl %s --help' for usage.\n",
                        (int)n, a + 2, argv[0]);
                free(pos);
                return -1;
            }
            snprintf(shown, sizeof shown, "--%s", o->name);
            if (eq)
                val = eq + 1;
            else if (o->type != KOPT_BOOL) {
                if (i + 1 >= argc) goto needs_arg;
                val = argv[++i];
            }
        } else {
            for (const kopt_t *p = opts; p->name; p++)
                if (p->sh && p->sh == a[1]) o = p;
            if (!o) {
                fprintf(
                    stderr,
                    "error: unknown shorthand flag: '%c' in %s\nSee 'kctl %s --help' for usage.\n",
                    a[1], a, argv[0]);
                free(pos);
                return -1;
            }
            snprintf(shown, sizeof shown, "%s", o->name);
            if (o->type == KOPT_BOOL && a[2] && a[2] != '=') {
                /* combined short booleans: -Aw */
                for (const char *c = a + 1; *c; c++) {
                    const kopt_t *b = NULL;
                    for (const kopt_t *p = opts; p->name; p++)
                        if (p->sh == *c && p->type == KOPT_BOOL) b = p;
                    if (!b) {
                        fprintf(stderr, "error: unknown shorthand flag: '%c' in %s\n", *c, a);
                        free(pos);
                        return -1;
                    }
                    *(bool *)b->dest = true;
                }
                continue;
            }
            if (a[2] == '=')
                val = a + 3;
            else if (a[2])
                val = a + 2;
            else if (o->type != KOPT_BOOL) {
                if (i + 1 >= argc) goto needs_arg;
                val = argv[++i];
            }
        }
        if (set_opt(o, val, shown) != 0) {
            free(pos);
            return -1;
        }
        continue;
    needs_arg:
        fprintf(stderr, "error: flag needs an argument: %s\nSee 'kctl %s --help' for usage.\n", a,
                argv[0]);
        free(pos);
        return -1;
    }
    for (int i = 0; i < npos; i++)
        argv[i] = pos[i];
    argv[npos] = NULL;
    free(pos);
    if (dash) *dash = dash_at;
    return npos;
}

/* ---------------------------------------------------------- connection */

int kctl_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int kctl_connect(kctl_t *k)
{
    char err[512];
    if (!k->kc_loaded) {
        if (api_kubeconfig_load(k->kubeconfig, k->context, &k->kc, err, sizeof err) == 0) {
            k->kc_loaded = true;
            if (api_kubeconfig_use_tls(&k->kc, err, sizeof err) != 0) {
                kctl_fail("%s", err);
                return -1;
            }
        }
        else if (!k->server || (k->kubeconfig && *k->kubeconfig) || k->context) {
            kctl_fail("%s", err);
            return -1;
        }
    }
    if (k->ca_file && http_client_set_default_ca(k->ca_file) != 0) {
        kctl_fail("error: cannot read the certificate authority %s", k->ca_file);
        return -1;
    }
    k->conn.urls = k->server ? k->server : k->kc.server;
    k->conn.token = k->token ? k->token : k->kc_loaded ? k->kc.token : NULL;
    k->conn.timeout_ms = 60000;
    if (!k->conn.urls || !*k->conn.urls) {
        kctl_fail("the kubeconfig names no API server: pass --server URL");
        return -1;
    }
    k->ns_explicit = k->ns_flag && *k->ns_flag;
    k->ns = k->ns_explicit ? k->ns_flag : (k->kc_loaded && k->kc.ns ? k->kc.ns : "default");
    return 0;
}

int kctl_req(kctl_t *k, const char *method, const char *path_query, const char *ctype,
             const char *body, size_t len, const char *accept, api_result_t *res)
{
    api_opts_t o = {.accept = accept};
    return api_fetch_path(&k->conn, method, path_query, ctype, body, len, &o, res);
}

int kctl_req_json(kctl_t *k, const char *method, const char *path_query, const char *ctype,
                  const cJSON *body, api_result_t *res)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    int rc = kctl_req(k, method, path_query, text ? (ctype ? ctype : "application/json") : NULL,
                      text, text ? strlen(text) : 0, NULL, res);
    free(text);
    return rc;
}

void kctl_print_error(const api_result_t *res)
{
    if (res->err) {
        const char *url = res->url && *res->url ? res->url : "";
        const char *host = strstr(url, "://");
        host = host ? host + 3 : url;
        if (res->err == UV_ECONNREFUSED)
            fprintf(stderr,
                    "The connection to the server %.*s was refused - did you specify the right "
                    "host or port?\n",
                    (int)strcspn(host, "/"), host);
        else
            fprintf(stderr, "Unable to connect to the server: %s\n", res->message);
        return;
    }
    if (res->reason && *res->reason)
        fprintf(stderr, "Error from server (%s): %s\n", res->reason, res->message);
    else
        fprintf(stderr, "Error from server: %s\n", res->message);
}

void kctl_print_error_from(const api_result_t *res, const char *doing, const char *source)
{
    if (res->err || !source) {
        kctl_print_error(res);
        return;
    }
    if (res->reason && *res->reason)
        fprintf(stderr, "Error from server (%s): error when %s \"%s\": %s\n", res->reason, doing,
                source, res->message);
    else
        fprintf(stderr, "Error from server: error when %s \"%s\": %s\n", doing, source,
                res->message);
}

/* ----------------------------------------------------------- resources */

const api_resource_t *kctl_resource(const char *word)
{
    const api_resource_t *r = api_resource_find(word);
    if (!r) kctl_fail("the server doesn't have a resource type \"%s\"", word);
    return r;
}

char *kctl_path(const api_resource_t *r, const char *ns, const char *name, const char *sub,
                const char *query)
{
    size_t n = 64 + strlen(r->group) + strlen(r->version) + strlen(r->resource) +
               (ns ? strlen(ns) : 0) + (name ? strlen(name) : 0) + (sub ? strlen(sub) : 0) +
               (query ? strlen(query) : 0);
    char *p = malloc(n);
    if (!p) return NULL;
    int off = *r->group ? snprintf(p, n, "/apis/%s/%s", r->group, r->version)
                        : snprintf(p, n, "/api/%s", r->version);
    if (r->namespaced && ns && *ns) off += snprintf(p + off, n - (size_t)off, "/namespaces/%s", ns);
    off += snprintf(p + off, n - (size_t)off, "/%s", r->resource);
    if (name) off += snprintf(p + off, n - (size_t)off, "/%s", name);
    if (sub) off += snprintf(p + off, n - (size_t)off, "/%s", sub);
    if (query && *query) snprintf(p + off, n - (size_t)off, "%s", query);
    return p;
}

void kctl_kind_name(const api_resource_t *r, char *buf, size_t len)
{
    char kind[64];
    size_t i;
    for (i = 0; r->kind[i] && i + 1 < sizeof kind; i++)
        kind[i] = (char)tolower(r->kind[i]);
    kind[i] = '\0';
    if (*r->group)
        snprintf(buf, len, "%s.%s", kind, r->group);
    else
        snprintf(buf, len, "%s", kind);
}

void kctl_qualified_resource(const api_resource_t *r, char *buf, size_t len)
{
    if (*r->group)
        snprintf(buf, len, "%s.%s", r->resource, r->group);
    else
        snprintf(buf, len, "%s", r->resource);
}

static int add_target(kctl_targets_t *t, const api_resource_t *r, const char *name)
{
    kctl_target_t *v = realloc(t->v, (t->n + 1) * sizeof *v);
    if (!v) return -1;
    t->v = v;
    t->v[t->n++] = (kctl_target_t){r, name};
    return 0;
}

int kctl_targets(int argc, char **argv, kctl_targets_t *out)
{
    *out = (kctl_targets_t){0};
    if (argc == 0) return 0;
    if (strchr(argv[0], '/')) {
        for (int i = 0; i < argc; i++) {
            char *slash = strchr(argv[i], '/');
            if (!slash) {
                kctl_fail("arguments in resource/name form must have a single resource and name");
                goto fail;
            }
            *slash = '\0';
            const api_resource_t *r = kctl_resource(argv[i]);
            *slash = '/';
            if (!r || add_target(out, r, slash + 1) != 0) goto fail;
        }
        return 0;
    }
    for (int i = 1; i < argc; i++)
        if (strchr(argv[i], '/')) {
            kctl_fail("there is no need to specify a resource type as a separate argument when "
                      "passing arguments in resource/name form (e.g. 'kctl get "
                      "resource/<resource_name>' instead of 'kctl get resource "
                      "resource/<resource_name>'");
            goto fail;
        }
    char *types = strdup(argv[0]), *save = NULL;
    if (!types) goto fail;
    for (char *w = strtok_r(types, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        const api_resource_t *r = kctl_resource(w);
        if (!r) {
            free(types);
            goto fail;
        }
        if (argc == 1 ? add_target(out, r, NULL) != 0 : 0) {
            free(types);
            goto fail;
        }
        for (int i = 1; i < argc; i++)
            if (add_target(out, r, argv[i]) != 0) {
                free(types);
                goto fail;
            }
    }
    free(types);
    return 0;
fail:
    kctl_targets_free(out);
    return -1;
}

void kctl_targets_free(kctl_targets_t *t)
{
    free(t->v);
    *t = (kctl_targets_t){0};
}

const char *kctl_obj_ns(kctl_t *k, const api_resource_t *r, const cJSON *obj)
{
    if (!r->namespaced) return NULL;
    const char *ns = api_meta_namespace(obj);
    return ns && *ns ? ns : k->ns;
}

char *kctl_urlenc(const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(n * 3 + 1), *p = o;
    if (!o) return NULL;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || strchr("-._~", c))
            *p++ = (char)c;
        else
            p += sprintf(p, "%%%02X", c);
    }
    *p = '\0';
    return o;
}

/* -------------------------------------------------------------- tables */

void kctl_tab_init(kctl_tab_t *t, size_t ncols)
{
    *t = (kctl_tab_t){.ncols = ncols};
}

void kctl_tab_row(kctl_tab_t *t, const char *const *cells)
{
    if ((t->nrows + 1) * t->ncols > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : t->ncols * 16;
        while (cap < (t->nrows + 1) * t->ncols)
            cap *= 2;
        char **c = realloc(t->cells, cap * sizeof *c);
        if (!c) return;
        t->cells = c;
        t->cap = cap;
    }
    for (size_t i = 0; i < t->ncols; i++)
        t->cells[t->nrows * t->ncols + i] = strdup(cells[i] ? cells[i] : "");
    t->nrows++;
}

void kctl_tab_rowf(kctl_tab_t *t, ...)
{
    const char *cells[32];
    va_list ap;
    va_start(ap, t);
    for (size_t i = 0; i < t->ncols && i < 32; i++)
        cells[i] = va_arg(ap, const char *);
    va_end(ap);
    kctl_tab_row(t, cells);
}

/* text/tabwriter as kubectl sets it up: every column but the last is as
 * wide as its widest cell plus 3, and at least 6. keep (ncols entries, may
 * be NULL) carries widths from one print to the next, as kubectl keeps the
 * columns of `get -w` aligned with the first table. */
void kctl_tab_print_keep(kctl_tab_t *t, FILE *out, size_t *keep)
{
    size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof *w);
    if (!w) return;
    for (size_t c = 0; keep && c < t->ncols; c++)
        w[c] = keep[c];
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            size_t n = s ? strlen(s) : 0;
            if (n + 3 > w[c]) w[c] = n + 3;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            if (c + 1 == t->ncols)
                fprintf(out, "%s\n", s ? s : "");
            else
                fprintf(out, "%-*s", (int)(w[c] < 6 ? 6 : w[c]), s ? s : "");
        }
    }
    for (size_t c = 0; keep && c < t->ncols; c++)
        keep[c] = w[c];
    free(w);
}

void kctl_tab_print(kctl_tab_t *t, FILE *out)
{
    kctl_tab_print_keep(t, out, NULL);
}

void kctl_tab_free(kctl_tab_t *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    *t = (kctl_tab_t){0};
}

/* ---------------------------------------------------------------- misc */

void kctl_age(const char *ts, char *buf, size_t len)
{
    uint64_t t;
    if (!ts || time_parse_rfc3339(ts, &t) != 0) {
        snprintf(buf, len, "<unknown>");
        return;
    }
    api_human_duration((int64_t)time_wall_ms() - (int64_t)t, buf, len);
}

const cJSON *kctl_at(const cJSON *obj, const char *dotted)
{
    char part[128];
    const cJSON *cur = obj;
    while (cur && *dotted) {
        size_t n = strcspn(dotted, ".");
        if (n >= sizeof part) return NULL;
        memcpy(part, dotted, n);
        part[n] = '\0';
        cur = cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, part) : NULL;
        dotted += n + (dotted[n] == '.');
    }
    return cur;
}

const char *kctl_str(const cJSON *obj, const char *dotted)
{
    const cJSON *v = kctl_at(obj, dotted);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

long long kctl_int(const cJSON *obj, const char *dotted, long long def)
{
    const cJSON *v = kctl_at(obj, dotted);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : def;
}

int kctl_get_object(kctl_t *k, const api_resource_t *r, const char *ns, const char *name,
                    cJSON **out)
{
    char *path = kctl_path(r, ns, name, NULL, NULL);
    api_result_t res;
    kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
    free(path);
    if (!api_result_ok(&res)) {
        kctl_print_error(&res);
        api_result_free(&res);
        return -1;
    }
    *out = res.obj;
    res.obj = NULL;
    api_result_free(&res);
    return *out ? 0 : -1;
}
