/*
 * delete.c - `kctl delete`: by type and names, type/name, -f manifests, -l
 * selector or --all, with kubectl's DeleteOptions (background cascade,
 * --grace-period, --now, --force) and its waiting: by default the command
 * returns once each object is really gone (finalizers and graceful pod
 * termination done), within --timeout.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kctl/kctl_int.h"

struct delopts {
    const char *selector, *fieldsel, *cascade, *timeout;
    bool all, now, force, ignore_not_found, wait_set, recursive;
    long grace;
    struct flag_list files;
    const char *wait;
};

struct gone {
    const api_resource_t *r;
    char *ns, *name, *uid;
};

static long parse_seconds(const char *s, long def)
{
    if (!s || !*s) return def;
    char *end;
    double v = strtod(s, &end);
    if (end == s) return def;
    if (*end == 'm')
        v *= 60;
    else if (*end == 'h')
        v *= 3600;
    return (long)v;
}

static int delete_one(kctl_t *k, const struct delopts *o, const api_resource_t *r, const char *ns,
                      const char *name, struct gone **gone, size_t *ngone, const char *source)
{
    cJSON *opts = cJSON_CreateObject();
    cJSON_AddStringToObject(opts, "kind", "DeleteOptions");
    cJSON_AddStringToObject(opts, "apiVersion", "v1");
    const char *prop = "Background";
    if (o->cascade && !strcmp(o->cascade, "orphan")) prop = "Orphan";
    if (o->cascade && !strcmp(o->cascade, "foreground")) prop = "Foreground";
    cJSON_AddStringToObject(opts, "propagationPolicy", prop);
    long grace = o->now ? 1 : o->force && o->grace < 0 ? 0 : o->grace;
    if (grace >= 0) cJSON_AddNumberToObject(opts, "gracePeriodSeconds", (double)grace);
    char *path = kctl_path(r, ns, name, NULL, NULL);
    api_result_t res;
    kctl_req_json(k, "DELETE", path, NULL, opts, &res);
    free(path);
    cJSON_Delete(opts);
    int rc = 0;
    if (res.status == 404 && o->ignore_not_found) {
    } else if (!api_result_ok(&res)) {
        kctl_print_error_from(&res, "deleting", source);
        rc = 1;
    } else {
        char kn[128];
        kctl_kind_name(r, kn, sizeof kn);
        printf("%s \"%s\" %s\n", kn, name, o->force ? "force deleted" : "deleted");
        fflush(stdout);
        const char *uid = res.obj ? kctl_str(res.obj, "metadata.uid") : NULL;
        struct gone *g = realloc(*gone, (*ngone + 1) * sizeof *g);
        if (g) {
            *gone = g;
            g[*ngone] =
                (struct gone){r, ns ? strdup(ns) : NULL, strdup(name), uid ? strdup(uid) : NULL};
            (*ngone)++;
        }
    }
    api_result_free(&res);
    return rc;
}

/* Deletes every object of r in ns matching the selectors. */
static int delete_selected(kctl_t *k, const struct delopts *o, const api_resource_t *r,
                           const char *ns, struct gone **gone, size_t *ngone, bool *found)
{
    char q[1024] = "";
    if (o->selector) {
        char *e = kctl_urlenc(o->selector);
        snprintf(q, sizeof q, "?labelSelector=%s", e ? e : "");
        free(e);
    }
    if (o->fieldsel) {
        char *e = kctl_urlenc(o->fieldsel);
        size_t l = strlen(q);
        snprintf(q + l, sizeof q - l, "%cfieldSelector=%s", l ? '&' : '?', e ? e : "");
        free(e);
    }
    char *path = kctl_path(r, ns, NULL, NULL, q);
    api_result_t res;
    kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
    free(path);
    if (!api_result_ok(&res)) {
        kctl_print_error(&res);
        api_result_free(&res);
        return 1;
    }
    int rc = 0;
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(res.obj, "items");
    for (const cJSON *it = items ? items->child : NULL; it; it = it->next) {
        *found = true;
        rc |= delete_one(k, o, r, api_meta_namespace(it), api_meta_name(it), gone, ngone, NULL);
    }
    api_result_free(&res);
    return rc;
}

static int wait_gone(kctl_t *k, struct gone *g, size_t n, long timeout_s)
{
    uint64_t deadline = time_mono_ms() + (uint64_t)timeout_s * 1000;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        for (;;) {
            char *path = kctl_path(g[i].r, g[i].ns, g[i].name, NULL, NULL);
            api_result_t res;
            kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
            free(path);
            const char *uid = res.obj ? kctl_str(res.obj, "metadata.uid") : NULL;
            bool done = res.status == 404 ||
                        (res.status == 200 && g[i].uid && uid && strcmp(uid, g[i].uid) != 0);
            api_result_free(&res);
            if (done) break;
            if (time_mono_ms() >= deadline) {
                char kn[128];
                kctl_kind_name(g[i].r, kn, sizeof kn);
                fprintf(stderr, "error: timed out waiting for the condition on %s/%s\n", kn,
                        g[i].name);
                rc = 1;
                break;
            }
            usleep(200 * 1000);
        }
    }
    return rc;
}

int kctl_cmd_delete(kctl_t *k, int argc, char **argv)
{
    struct delopts o = {.grace = -1, .wait = "true"};
    bool all_ns = false;
    const kopt_t opts[] = {
        {'l', "selector", KOPT_STR, &o.selector},
        {0, "field-selector", KOPT_STR, &o.fieldsel},
        {0, "all", KOPT_BOOL, &o.all},
        {'A', "all-namespaces", KOPT_BOOL, &all_ns},
        {0, "now", KOPT_BOOL, &o.now},
        {0, "force", KOPT_BOOL, &o.force},
        {0, "grace-period", KOPT_INT, &o.grace},
        {0, "ignore-not-found", KOPT_BOOL, &o.ignore_not_found},
        {0, "cascade", KOPT_STR, &o.cascade},
        {0, "wait", KOPT_STR, &o.wait},
        {0, "timeout", KOPT_STR, &o.timeout},
        {'f', "filename", KOPT_LIST, &o.files},
        {'R', "recursive", KOPT_BOOL, &o.recursive},
        {0, NULL, 0, NULL},
    };
    /* --wait alone means true, as with kubectl's boolean flags */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--wait")) argv[i] = "--wait=true";
    int npos = kctl_opts(opts, argc, argv, NULL);
    if (npos < 0) return 1;
    if (npos == 0 && o.files.n == 0) {
        fprintf(stderr, "error: You must provide one or more resources by argument or filename.\n"
                        "Example resource specifications include:\n   '-f rsrc.yaml'\n   "
                        "'--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'\n");
        return 1;
    }
    if (kctl_connect(k) != 0) return 1;
    struct gone *gone = NULL;
    size_t ngone = 0;
    int rc = 0;
    if (o.files.n) {
        cJSON *srcs = NULL;
        cJSON *objs = kctl_manifests(k, &o.files, o.recursive, &srcs);
        if (!objs) return 1;
        const cJSON *src = srcs ? srcs->child : NULL;
        for (cJSON *ob = objs->child; ob; ob = ob->next, src = src ? src->next : NULL) {
            const api_resource_t *r =
                api_resource_by_gvk(kctl_str(ob, "apiVersion"), kctl_str(ob, "kind"));
            if (!r) {
                rc = kctl_fail("the server doesn't have a resource type \"%s\"",
                               kctl_str(ob, "kind") ?: "");
                continue;
            }
            rc |= delete_one(k, &o, r, kctl_obj_ns(k, r, ob), api_meta_name(ob) ?: "", &gone,
                             &ngone, src ? src->valuestring : NULL);
        }
        cJSON_Delete(objs);
        cJSON_Delete(srcs);
    } else {
        kctl_targets_t t;
        if (kctl_targets(npos, argv, &t) != 0) return 1;
        bool any_named = false, found = false;
        for (size_t i = 0; i < t.n; i++)
            any_named |= t.v[i].name != NULL;
        if (!any_named && !o.all && !o.selector && !o.fieldsel) {
            kctl_targets_free(&t);
            return kctl_fail("resource(s) were provided, but no name was specified");
        }
        if (any_named && (o.all || o.selector)) {
            kctl_targets_free(&t);
            return kctl_fail("name cannot be provided when a selector is specified");
        }
        for (size_t i = 0; i < t.n; i++) {
            const api_resource_t *r = t.v[i].res;
            if (t.v[i].name)
                rc |= delete_one(k, &o, r, r->namespaced ? k->ns : NULL, t.v[i].name, &gone, &ngone,
                                 NULL);
            else
                rc |= delete_selected(k, &o, r, all_ns ? NULL : k->ns, &gone, &ngone, &found);
        }
        if (!any_named && !found && rc == 0) printf("No resources found\n");
        kctl_targets_free(&t);
    }
    if (ngone && strcmp(o.wait, "false") != 0)
        rc |= wait_gone(k, gone, ngone, parse_seconds(o.timeout, 120));
    for (size_t i = 0; i < ngone; i++) {
        free(gone[i].ns);
        free(gone[i].name);
        free(gone[i].uid);
    }
    free(gone);
    return rc;
}
