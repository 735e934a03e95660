/*
 * get.c - `kctl get`: tables as kubectl prints them (the server converts
 * objects into a meta.k8s.io Table, asked for with kubectl's Accept header;
 * kctl only lays the cells out), -o wide|json|yaml|name, -l, -A,
 * --field-selector, --show-labels, and -w (a watch whose events are Tables
 * too, each printed as one row).
 */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "kctl/kctl_int.h"

struct getopts {
    const char *output, *selector, *fieldsel;
    bool all_ns, watch, watch_only, show_labels, no_headers;
    struct flag_list files;
};

int kctl_print_object(const cJSON *obj, const char *output, FILE *out)
{
    char *text = NULL;
    if (!strcmp(output, "json"))
        text = kctl_json_pretty(obj);
    else if (!strcmp(output, "yaml"))
        text = kctl_yaml_emit(obj);
    else if (!strcmp(output, "name")) {
        const api_resource_t *r =
            api_resource_by_gvk(kctl_str(obj, "apiVersion"), kctl_str(obj, "kind"));
        char kn[128];
        if (r)
            kctl_kind_name(r, kn, sizeof kn);
        else
            snprintf(kn, sizeof kn, "%s", kctl_str(obj, "kind") ? kctl_str(obj, "kind") : "");
        fprintf(out, "%s/%s\n", kn, api_meta_name(obj) ? api_meta_name(obj) : "");
        return 0;
    } else
        return kctl_fail("unable to match a printer suitable for the output format \"%s\", "
                         "allowed formats are: json,name,wide,yaml",
                         output);
    if (!text) return kctl_fail("out of memory");
    fputs(text, out);
    free(text);
    return 0;
}

int kctl_print_generated(const cJSON *obj, const char *output, FILE *out)
{
    if (strcmp(output, "json") != 0) return kctl_print_object(obj, output, out);
    char *text = kctl_json_pretty_ordered(obj);
    if (!text) return kctl_fail("out of memory");
    fputs(text, out);
    free(text);
    return 0;
}

/* Items of a list answer get the kind and apiVersion kubectl shows. */
static void fill_kind(cJSON *item, const api_resource_t *r)
{
    if (!cJSON_GetObjectItemCaseSensitive(item, "kind"))
        cJSON_AddStringToObject(item, "kind", r->kind);
    if (!cJSON_GetObjectItemCaseSensitive(item, "apiVersion"))
        cJSON_AddStringToObject(item, "apiVersion", r->group_version);
}

static char *query_of(const struct getopts *o, const char *extra)
{
    char *q = calloc(1, 2048 + (o->selector ? strlen(o->selector) * 3 : 0) +
                            (o->fieldsel ? strlen(o->fieldsel) * 3 : 0));
    if (!q) return NULL;
    char sep = '?';
    if (o->selector && *o->selector) {
        char *e = kctl_urlenc(o->selector);
        sprintf(q + strlen(q), "%clabelSelector=%s", sep, e);
        free(e);
        sep = '&';
    }
    if (o->fieldsel && *o->fieldsel) {
        char *e = kctl_urlenc(o->fieldsel);
        sprintf(q + strlen(q), "%cfieldSelector=%s", sep, e);
        free(e);
        sep = '&';
    }
    if (extra && *extra) sprintf(q + strlen(q), "%c%s", sep, extra);
    return q;
}

/* cli-runtime's wording for a list the server refused (400/404). */
static void print_list_error(const api_result_t *res, const api_resource_t *r,
                             const struct getopts *o)
{
    if (res->err || (res->status != 400 && res->status != 404)) {
        kctl_print_error(res);
        return;
    }
    char gvr[160];
    snprintf(gvr, sizeof gvr, "%s/%s, Resource=%s", r->group, r->version, r->resource);
    if (!(o->selector && *o->selector) && !(o->fieldsel && *o->fieldsel))
        fprintf(stderr, "Error from server (%s): Unable to list \"%s\": %s\n", res->reason, gvr,
                res->message);
    else
        fprintf(stderr,
                "Error from server (%s): Unable to find \"%s\" that match label selector \"%s\", "
                "field selector \"%s\": %s\n",
                res->reason, gvr, o->selector ? o->selector : "", o->fieldsel ? o->fieldsel : "",
                res->message);
}

/* ---------------------------------------------------------------- tables */

struct tprint {
    const struct getopts *o;
    bool wide, prefix, with_ns;
    char kindname[128];
    bool header_done;
    size_t widths[40]; /* kept from the first table for -w */
    cJSON *cols;       /* the columns: watch events after the first carry none */
};

static void cell_text(const cJSON *c, char *buf, size_t len)
{
    if (cJSON_IsString(c))
        snprintf(buf, len, "%s", c->valuestring);
    else if (cJSON_IsNumber(c))
        snprintf(buf, len, "%lld", (long long)c->valuedouble);
    else if (cJSON_IsBool(c))
        snprintf(buf, len, "%s", cJSON_IsTrue(c) ? "true" : "false");
    else
        snprintf(buf, len, "<none>");
}

static void labels_text(const cJSON *meta_obj, char *buf, size_t len)
{
    const cJSON *labels = kctl_at(meta_obj, "metadata.labels");
    buf[0] = '\0';
    size_t n = 0;
    cJSON **v = NULL;
    for (const cJSON *c = labels ? labels->child : NULL; c; c = c->next)
        n++;
    if (n) v = malloc(n * sizeof *v);
    n = 0;
    for (const cJSON *c = labels && v ? labels->child : NULL; c; c = c->next)
        v[n++] = (cJSON *)c;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(v[j]->string, v[i]->string) < 0) {
                cJSON *t = v[i];
                v[i] = v[j];
                v[j] = t;
            }
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, len - l, "%s%s=%s", i ? "," : "", v[i]->string,
                 cJSON_IsString(v[i]) ? v[i]->valuestring : "");
    }
    free(v);
    if (!n) snprintf(buf, len, "<none>");
}

/* Adds the Table's rows (and the header first) to tab. */
static void table_rows(struct tprint *p, const cJSON *table, kctl_tab_t *tab, bool header)
{
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(table, "columnDefinitions");
    if (cJSON_GetArraySize(cols) > 0 && !p->cols) p->cols = cJSON_Duplicate(cols, true);
    if (cJSON_GetArraySize(cols) == 0) cols = p->cols;
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(table, "rows");
    int ncols = cJSON_GetArraySize(cols);
    const char *cells[40];
    char bufs[40][512];
    size_t n = 0;
    if (tab->ncols == 0) {
        size_t want = (size_t)(p->with_ns ? 1 : 0) + (p->o->show_labels ? 1 : 0);
        for (int i = 0; i < ncols && i < 36; i++)
            if (p->wide || kctl_int(cJSON_GetArrayItem(cols, i), "priority", 0) == 0) want++;
        kctl_tab_init(tab, want);
    }
    if (header && !p->o->no_headers) {
        n = 0;
        if (p->with_ns) cells[n++] = "NAMESPACE";
        for (int i = 0; i < ncols && i < 36; i++) {
            const cJSON *c = cJSON_GetArrayItem(cols, i);
            if (!p->wide && kctl_int(c, "priority", 0) != 0) continue;
            const char *name = kctl_str(c, "name") ? kctl_str(c, "name") : "";
            size_t j;
            for (j = 0; name[j] && j < 511; j++)
                bufs[n][j] = (char)(name[j] >= 'a' && name[j] <= 'z' ? name[j] - 32 : name[j]);
            bufs[n][j] = '\0';
            cells[n] = bufs[n];
            n++;
        }
        if (p->o->show_labels) cells[n++] = "LABELS";
        kctl_tab_row(tab, cells);
    }
    for (const cJSON *row = rows ? rows->child : NULL; row; row = row->next) {
        const cJSON *rc = cJSON_GetObjectItemCaseSensitive(row, "cells");
        const cJSON *obj = cJSON_GetObjectItemCaseSensitive(row, "object");
        n = 0;
        if (p->with_ns) {
            const char *ns = kctl_str(obj, "metadata.namespace");
            snprintf(bufs[n], sizeof bufs[n], "%s", ns ? ns : "");
            cells[n] = bufs[n];
            n++;
        }
        for (int i = 0; i < ncols && i < 36; i++) {
            const cJSON *c = cJSON_GetArrayItem(cols, i);
            if (!p->wide && kctl_int(c, "priority", 0) != 0) continue;
            char text[360];
            cell_text(cJSON_GetArrayItem(rc, i), text, sizeof text);
            const char *fmt = kctl_str(c, "format");
            if (p->prefix && fmt && !strcmp(fmt, "name"))
                snprintf(bufs[n], sizeof bufs[n], "%s/%s", p->kindname, text);
            else
                snprintf(bufs[n], sizeof bufs[n], "%s", text);
            cells[n] = bufs[n];
            n++;
        }
        if (p->o->show_labels) {
            labels_text(obj, bufs[n], sizeof bufs[n]);
            cells[n] = bufs[n];
            n++;
        }
        kctl_tab_row(tab, cells);
    }
}

/* ----------------------------------------------------------------- watch */

struct watchctx {
    struct tprint *p;
    uv_loop_t *loop;
    int status;
    bool table;
};

static void w_status(int status, const char *ctype, void *data)
{
    (void)ctype;
    ((struct watchctx *)data)->status = status;
}

static void w_line(const char *line, size_t len, void *data)
{
    struct watchctx *w = data;
    cJSON *ev = cJSON_ParseWithLength(line, len);
    if (!ev) return;
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");
    if (w->status >= 300) {
        fprintf(stderr, "Error from server (%s): %s\n", kctl_str(ev, "reason") ?: "",
                kctl_str(ev, "message") ?: line);
    } else if (kctl_str(obj, "kind") && !strcmp(kctl_str(obj, "kind"), "Table")) {
        kctl_tab_t tab = {0};
        table_rows(w->p, obj, &tab, false);
        kctl_tab_print_keep(&tab, stdout, w->p->widths);
        kctl_tab_free(&tab);
    } else if (obj && strcmp(kctl_str(ev, "type") ?: "", "BOOKMARK") != 0 &&
               strcmp(kctl_str(ev, "type") ?: "", "ERROR") != 0) {
        kctl_print_object(obj, w->p->o->output, stdout);
        if (!strcmp(w->p->o->output, "yaml")) fputs("---\n", stdout);
    }
    fflush(stdout);
    cJSON_Delete(ev);
}

static void w_end(int err, void *data)
{
    struct watchctx *w = data;
    if (err && err != UV_ECANCELED && err != UV_EOF)
        fprintf(stderr, "error: watch ended: %s\n", uv_strerror(err));
    uv_stop(w->loop);
}

static int watch(kctl_t *k, const api_resource_t *r, const char *ns, const char *name,
                 const char *rv, struct tprint *p)
{
    char extra[512];
    snprintf(extra, sizeof extra, "watch=1%s%s", rv && *rv ? "&resourceVersion=" : "",
             rv ? rv : "");
    if (name) {
        size_t l = strlen(extra);
        snprintf(extra + l, sizeof extra - l, "&fieldSelector=metadata.name%%3D%s", name);
    }
    char *q = query_of(p->o, extra);
    char *path = kctl_path(r, ns, NULL, NULL, q);
    free(q);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct watchctx w = {.p = p, .loop = &loop};
    http_client_t *c = http_client_new(&loop, k->conn.urls, k->conn.token);
    int rc = 1;
    if (c) {
        char hdr[256];
        snprintf(hdr, sizeof hdr, "Accept: %s\r\n",
                 p->o->output && (!strcmp(p->o->output, "json") || !strcmp(p->o->output, "yaml") ||
                                  !strcmp(p->o->output, "name"))
                     ? "application/json"
                     : KCTL_TABLE_ACCEPT);
        struct http_stream_callbacks cbs = {w_status, w_line, w_end};
        if (http_client_stream_ex(c, path, hdr, &cbs, &w)) {
            uv_run(&loop, UV_RUN_DEFAULT);
            rc = w.status >= 200 && w.status < 300 ? 0 : 1;
        }
        http_client_free(c);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    uv_loop_close(&loop);
    free(path);
    return rc;
}

/* ------------------------------------------------------------------ get */

static int get_structured(kctl_t *k, const struct getopts *o, const kctl_targets_t *t,
                          const char *ns, char *rv, size_t rvlen)
{
    cJSON *items = cJSON_CreateArray();
    int rc = 0;
    bool single = t->n == 1 && t->v[0].name;
    cJSON *one = NULL;
    for (size_t i = 0; i < t->n; i++) {
        const api_resource_t *r = t->v[i].res;
        char *q = t->v[i].name ? NULL : query_of(o, NULL);
        char *path = kctl_path(r, t->v[i].name ? k->ns : ns, t->v[i].name, NULL, q);
        free(q);
        api_result_t res;
        kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
        free(path);
        if (!api_result_ok(&res) || !res.obj) {
            if (t->v[i].name)
                kctl_print_error(&res);
            else
                print_list_error(&res, r, o);
            rc = 1;
        } else if (t->v[i].name) {
            if (kctl_str(res.obj, "metadata.resourceVersion"))
                snprintf(rv, rvlen, "%s", kctl_str(res.obj, "metadata.resourceVersion"));
            fill_kind(res.obj, r);
            if (single) {
                one = res.obj;
                res.obj = NULL;
            } else
                cJSON_AddItemToArray(items, cJSON_Duplicate(res.obj, true));
        } else {
            if (kctl_str(res.obj, "metadata.resourceVersion"))
                snprintf(rv, rvlen, "%s", kctl_str(res.obj, "metadata.resourceVersion"));
            cJSON *list = cJSON_GetObjectItemCaseSensitive(res.obj, "items");
            cJSON *it;
            while (list && (it = cJSON_DetachItemFromArray(list, 0))) {
                fill_kind(it, r);
                cJSON_AddItemToArray(items, it);
            }
        }
        api_result_free(&res);
    }
    if (one) {
        kctl_print_object(one, o->output, stdout);
        cJSON_Delete(one);
    } else if (!strcmp(o->output, "name")) {
        for (cJSON *it = items->child; it; it = it->next)
            kctl_print_object(it, "name", stdout);
    } else if (items->child || rc == 0) {
        cJSON *list = cJSON_CreateObject();
        cJSON_AddStringToObject(list, "apiVersion", "v1");
        cJSON_AddItemToObject(list, "items", items);
        items = NULL;
        cJSON_AddStringToObject(list, "kind", "List");
        cJSON *meta = cJSON_AddObjectToObject(list, "metadata");
        cJSON_AddStringToObject(meta, "resourceVersion", "");
        kctl_print_object(list, o->output, stdout);
        cJSON_Delete(list);
    }
    cJSON_Delete(items);
    return rc;
}

static int get_tables(kctl_t *k, const struct getopts *o, const kctl_targets_t *t, const char *ns)
{
    int rc = 0;
    bool printed_any = false;
    /* kubectl prefixes names with the kind when several kinds are printed */
    bool many_kinds = false;
    for (size_t i = 1; i < t->n; i++)
        if (t->v[i].res != t->v[0].res) many_kinds = true;
    size_t i = 0;
    while (i < t->n) {
        const api_resource_t *r = t->v[i].res;
        struct tprint p = {.o = o,
                           .wide = o->output && !strcmp(o->output, "wide"),
                           .prefix = many_kinds,
                           .with_ns = o->all_ns && r->namespaced};
        kctl_kind_name(r, p.kindname, sizeof p.kindname);
        kctl_tab_t tab = {0};
        bool header = true;
        char rv[64] = "";
        for (; i < t->n && t->v[i].res == r; i++) {
            char *q = t->v[i].name ? NULL : query_of(o, NULL);
            char *path = kctl_path(r, t->v[i].name ? k->ns : ns, t->v[i].name, NULL, q);
            free(q);
            api_result_t res;
            kctl_req(k, "GET", path, NULL, NULL, 0, KCTL_TABLE_ACCEPT, &res);
            free(path);
            if (!api_result_ok(&res) || !res.obj) {
                if (t->v[i].name)
                    kctl_print_error(&res);
                else
                    print_list_error(&res, r, o);
                rc = 1;
                api_result_free(&res);
                continue;
            }
            const char *v = kctl_str(res.obj, "metadata.resourceVersion");
            if (v) snprintf(rv, sizeof rv, "%s", v);
            const cJSON *rows = cJSON_GetObjectItemCaseSensitive(res.obj, "rows");
            if (cJSON_GetArraySize(rows) > 0 || (tab.ncols == 0 && o->watch)) {
                if (!o->watch_only) table_rows(&p, res.obj, &tab, header);
                header = false;
            }
            api_result_free(&res);
        }
        if (tab.nrows > 0) {
            if (printed_any) putchar('\n');
            kctl_tab_print_keep(&tab, stdout, p.widths);
            printed_any = true;
        }
        kctl_tab_free(&tab);
        fflush(stdout);
        if (o->watch) {
            p.header_done = true;
            int wrc = watch(k, r, t->v[i - 1].name ? k->ns : ns, t->v[i - 1].name, rv, &p);
            cJSON_Delete(p.cols);
            return wrc || rc;
        }
        cJSON_Delete(p.cols);
    }
    if (!printed_any && rc == 0) {
        bool namespaced = false;
        for (size_t j = 0; j < t->n; j++)
            namespaced |= t->v[j].res->namespaced;
        if (namespaced && !o->all_ns)
            fprintf(stderr, "No resources found in %s namespace.\n", ns);
        else
            fprintf(stderr, "No resources found\n");
    }
    return rc;
}

int kctl_cmd_get(kctl_t *k, int argc, char **argv)
{
    struct getopts o = {.output = ""};
    const kopt_t opts[] = {
        {'o', "output", KOPT_STR, &o.output},
        {'l', "selector", KOPT_STR, &o.selector},
        {0, "field-selector", KOPT_STR, &o.fieldsel},
        {'A', "all-namespaces", KOPT_BOOL, &o.all_ns},
        {'w', "watch", KOPT_BOOL, &o.watch},
        {0, "watch-only", KOPT_BOOL, &o.watch_only},
        {0, "show-labels", KOPT_BOOL, &o.show_labels},
        {0, "no-headers", KOPT_BOOL, &o.no_headers},
        {'f', "filename", KOPT_LIST, &o.files},
        {0, NULL, 0, NULL},
    };
    int npos = kctl_opts(opts, argc, argv, NULL);
    if (npos < 0) return 1;
    if (o.watch_only) o.watch = true;
    if (*o.output && strcmp(o.output, "wide") && strcmp(o.output, "json") &&
        strcmp(o.output, "yaml") && strcmp(o.output, "name"))
        return kctl_fail("unable to match a printer suitable for the output format \"%s\", "
                         "allowed formats are: json,name,wide,yaml",
                         o.output);
    if (npos == 0 && o.files.n == 0) {
        fprintf(stderr, "You must specify the type of resource to get. Use \"kctl api-resources\" "
                        "for a complete list of supported resources.\n\n"
                        "error: Required resource not specified.\n");
        return 1;
    }
    if (kctl_connect(k) != 0) return 1;
    kctl_targets_t t = {0};
    cJSON *objs = NULL;
    if (o.files.n) {
        objs = kctl_manifests(k, &o.files, false, NULL);
        if (!objs) return 1;
        for (cJSON *ob = objs->child; ob; ob = ob->next) {
            const api_resource_t *r =
                api_resource_by_gvk(kctl_str(ob, "apiVersion"), kctl_str(ob, "kind"));
            if (!r) {
                cJSON_Delete(objs);
                kctl_targets_free(&t);
                return kctl_fail("the server doesn't have a resource type \"%s\"",
                                 kctl_str(ob, "kind"));
            }
            kctl_target_t *v = realloc(t.v, (t.n + 1) * sizeof *v);
            if (!v) break;
            t.v = v;
            t.v[t.n++] = (kctl_target_t){r, api_meta_name(ob)};
        }
    } else if (kctl_targets(npos, argv, &t) != 0)
        return 1;
    const char *ns = o.all_ns ? NULL : k->ns;
    int rc;
    if (!strcmp(o.output, "json") || !strcmp(o.output, "yaml") || !strcmp(o.output, "name")) {
        char rv[64] = "";
        if (!o.watch_only)
            rc = get_structured(k, &o, &t, ns, rv, sizeof rv);
        else
            rc = 0;
        if (o.watch && t.n) {
            struct tprint p = {.o = &o};
            rc = watch(k, t.v[0].res, t.v[0].name ? k->ns : ns, t.v[0].name, rv, &p) || rc;
        }
    } else
        rc = get_tables(k, &o, &t, ns);
    kctl_targets_free(&t);
    cJSON_Delete(objs);
    return rc;
}
