/*
 * logs.c - `kctl logs`: a pod's container log through pods/log (-c,
 * --tail, --previous, --timestamps, --since, --limit-bytes), followed as a
 * stream with -f. A workload (deploy/web, rs/x, svc/x) stands for the first
 * of its pods, -l for every matching pod, as kubectl does; with several
 * containers and no -c the default container is taken, with kubectl's notice.
 */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "kctl/kctl_int.h"

struct logopts {
    const char *container, *since, *selector;
    bool follow, previous, timestamps, prefix, all_containers;
    long tail, limit_bytes;
};

struct follow {
    uv_loop_t *loop;
    int status;
    const char *prefix;
    char *errbuf;
    size_t errlen;
};

static void f_status(int status, const char *ct, void *data)
{
    (void)ct;
    ((struct follow *)data)->status = status;
}

static void f_line(const char *line, size_t len, void *data)
{
    struct follow *f = data;
    if (f->status >= 300) {
        char *n = realloc(f->errbuf, f->errlen + len + 1);
        if (n) {
            memcpy(n + f->errlen, line, len);
            f->errlen += len;
            n[f->errlen] = '\0';
            f->errbuf = n;
        }
        return;
    }
    if (f->prefix) fputs(f->prefix, stdout);
    fwrite(line, 1, len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

static void f_end(int err, void *data)
{
    (void)err;
    uv_stop(((struct follow *)data)->loop);
}

static int stream_log(kctl_t *k, const char *path, const char *prefix)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct follow f = {.loop = &loop, .prefix = prefix};
    http_client_t *c = http_client_new(&loop, k->conn.urls, k->conn.token);
    int rc = 1;
    if (c) {
        struct http_stream_callbacks cbs = {f_status, f_line, f_end};
        if (http_client_stream(c, path, &cbs, &f)) uv_run(&loop, UV_RUN_DEFAULT);
        http_client_free(c);
        uv_run(&loop, UV_RUN_DEFAULT);
        if (f.status >= 200 && f.status < 300)
            rc = 0;
        else {
            cJSON *st = f.errbuf ? cJSON_Parse(f.errbuf) : NULL;
            const char *reason = kctl_str(st, "reason"), *msg = kctl_str(st, "message");
            if (f.status == 0)
                fprintf(stderr, "Unable to connect to the server: %s\n", k->conn.urls);
            else if (reason && *reason)
                fprintf(stderr, "Error from server (%s): %s\n", reason, msg ?: "");
            else
                fprintf(stderr, "Error from server: %s\n", msg ?: f.errbuf ?: "");
            cJSON_Delete(st);
        }
    }
    free(f.errbuf);
    uv_loop_close(&loop);
    return rc;
}

/* Which container: -c, else the only one, else the default-container
 * annotation or the first, with kubectl's notice. */
static const char *pick_container(const cJSON *pod, const struct logopts *o)
{
    if (o->container) return o->container;
    const cJSON *ctrs = kctl_at(pod, "spec.containers");
    int n = cJSON_GetArraySize(ctrs);
    if (n <= 1) return n ? kctl_str(cJSON_GetArrayItem(ctrs, 0), "name") : NULL;
    const char *def = api_meta_annotation(pod, "kubectl.kubernetes.io/default-container");
    if (!def) def = kctl_str(cJSON_GetArrayItem(ctrs, 0), "name");
    fprintf(stderr, "Defaulted container \"%s\" out of: ", def ?: "");
    const cJSON *c;
    int i = 0;
    cJSON_ArrayForEach(c, ctrs) fprintf(stderr, "%s%s", i++ ? ", " : "", kctl_str(c, "name") ?: "");
    const cJSON *init = kctl_at(pod, "spec.initContainers");
    cJSON_ArrayForEach(c, init) fprintf(stderr, ", %s (init)", kctl_str(c, "name") ?: "");
    fputc('\n', stderr);
    return def;
}

static bool has_container(const cJSON *pod, const char *name)
{
    static const char *const lists[] = {"spec.containers", "spec.initContainers",
                                        "spec.ephemeralContainers"};
    for (int i = 0; i < 3; i++) {
        const cJSON *c;
        cJSON_ArrayForEach(
            c, kctl_at(pod, lists[i])) if (!strcmp(kctl_str(c, "name") ?: "", name)) return true;
    }
    return false;
}

static int pod_log(kctl_t *k, const cJSON *pod, const struct logopts *o, bool with_prefix)
{
    const char *ns = api_meta_namespace(pod) ?: k->ns, *name = api_meta_name(pod) ?: "";
    /* kubectl checks -c itself before asking the server */
    if (o->container && !has_container(pod, o->container))
        return kctl_fail("container %s is not valid for pod %s", o->container, name);
    const char *ctr = pick_container(pod, o);
    char q[512] = "";
    size_t l = 0;
#define ADDQ(...) l += (size_t)snprintf(q + l, sizeof q - l, __VA_ARGS__)
    if (ctr) ADDQ("%ccontainer=%s", l ? '&' : '?', ctr);
    if (o->follow) ADDQ("%cfollow=true", l ? '&' : '?');
    if (o->previous) ADDQ("%cprevious=true", l ? '&' : '?');
    if (o->timestamps) ADDQ("%ctimestamps=true", l ? '&' : '?');
    if (o->tail >= 0) ADDQ("%ctailLines=%ld", l ? '&' : '?', o->tail);
    if (o->limit_bytes > 0) ADDQ("%climitBytes=%ld", l ? '&' : '?', o->limit_bytes);
    if (o->since) {
        char *end;
        double s = strtod(o->since, &end);
        if (*end == 'm') s *= 60;
        if (*end == 'h') s *= 3600;
        ADDQ("%csinceSeconds=%ld", l ? '&' : '?', (long)s);
    }
#undef ADDQ
    const api_resource_t *pods = api_resource_by_kind("", "Pod");
    char *path = kctl_path(pods, ns, name, "log", q);
    char prefix[300];
    snprintf(prefix, sizeof prefix, "[pod/%s/%s] ", name, ctr ?: "");
    int rc;
    if (o->follow) {
        rc = stream_log(k, path, with_prefix ? prefix : NULL);
    } else {
        api_result_t res;
        kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
        if (!api_result_ok(&res)) {
            kctl_print_error(&res);
            rc = 1;
        } else {
            if (with_prefix) {
                const char *p = res.body, *end = res.body + res.len;
                while (p < end) {
                    const char *nl = memchr(p, '\n', (size_t)(end - p));
                    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                    printf("%s%.*s\n", prefix, (int)n, p);
                    p += n + 1;
                }
            } else
                fwrite(res.body, 1, res.len, stdout);
            rc = 0;
        }
        api_result_free(&res);
    }
    free(path);
    return rc;
}

/* The pods a selector picks, in the namespace. */
static cJSON *pods_by_selector(kctl_t *k, const char *sel)
{
    const api_resource_t *pods = api_resource_by_kind("", "Pod");
    char *e = kctl_urlenc(sel), q[1024];
    snprintf(q, sizeof q, "?labelSelector=%s", e ? e : "");
    free(e);
    char *path = kctl_path(pods, k->ns, NULL, NULL, q);
    api_result_t res;
    kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
    free(path);
    if (!api_result_ok(&res)) {
        kctl_print_error(&res);
        api_result_free(&res);
        return NULL;
    }
    cJSON *items = cJSON_DetachItemFromObjectCaseSensitive(res.obj, "items");
    api_result_free(&res);
    return items;
}

/* A workload's selector in string form ("app=web"). */
static char *selector_of(const cJSON *obj)
{
    const cJSON *sel = kctl_at(obj, "spec.selector");
    api_selector_t *s = NULL;
    char err[256];
    if (cJSON_IsObject(sel) && (cJSON_GetObjectItemCaseSensitive(sel, "matchLabels") ||
                                cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions")))
        s = api_selector_from_json(sel, err, sizeof err);
    else if (cJSON_IsObject(sel))
        s = api_selector_from_map(sel);
    if (!s) return NULL;
    char *str = api_selector_string(s);
    api_selector_free(s);
    return str;
}

int kctl_cmd_logs(kctl_t *k, int argc, char **argv)
{
    struct logopts o = {.tail = -1};
    const kopt_t opts[] = {
        {'c', "container", KOPT_STR, &o.container},
        {'f', "follow", KOPT_BOOL, &o.follow},
        {'p', "previous", KOPT_BOOL, &o.previous},
        {0, "timestamps", KOPT_BOOL, &o.timestamps},
        {0, "tail", KOPT_INT, &o.tail},
        {0, "since", KOPT_STR, &o.since},
        {0, "limit-bytes", KOPT_INT, &o.limit_bytes},
        {'l', "selector", KOPT_STR, &o.selector},
        {0, "prefix", KOPT_BOOL, &o.prefix},
        {0, NULL, 0, NULL},
    };
    int npos = kctl_opts(opts, argc, argv, NULL);
    if (npos < 0) return 1;
    if (npos == 0 && !o.selector)
        return kctl_fail("expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or "
                         "TYPE/NAME is a required argument for the logs command");
    if (kctl_connect(k) != 0) return 1;
    if (o.selector) {
        if (o.tail < 0) o.tail = 10; /* kubectl's default with a selector */
        cJSON *pods = pods_by_selector(k, o.selector);
        if (!pods) return 1;
        int rc = 0;
        if (!pods->child) fprintf(stderr, "No resources found in %s namespace.\n", k->ns);
        for (cJSON *p = pods->child; p; p = p->next)
            rc |= pod_log(k, p, &o, o.prefix);
        cJSON_Delete(pods);
        return rc;
    }
    const api_resource_t *r = api_resource_by_kind("", "Pod");
    const char *name = argv[0];
    char *slash = strchr(argv[0], '/');
    if (slash) {
        *slash = '\0';
        r = kctl_resource(argv[0]);
        name = slash + 1;
        if (!r) return 1;
    }
    if (npos > 1 && !o.container) o.container = argv[1];
    cJSON *obj = NULL;
    char *path = kctl_path(r, k->ns, name, NULL, NULL);
    api_result_t res;
    kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
    free(path);
    if (!api_result_ok(&res) || !res.obj) {
        /* kubectl's logs words a missing pod its own way */
        if (res.status == 404 && r->namespaced)
            fprintf(stderr, "error: error from server (NotFound): %s in namespace \"%s\"\n",
                    res.message, k->ns);
        else
            kctl_print_error(&res);
        api_result_free(&res);
        return 1;
    }
    obj = res.obj;
    res.obj = NULL;
    api_result_free(&res);
    int rc;
    if (!strcmp(r->kind, "Pod")) {
        rc = pod_log(k, obj, &o, o.prefix);
    } else {
        char *sel = selector_of(obj);
        cJSON *pods = sel ? pods_by_selector(k, sel) : NULL;
        free(sel);
        if (!pods || !pods->child) {
            rc = kctl_fail("timed out waiting for the condition");
        } else
            rc = pod_log(k, pods->child, &o, o.prefix);
        cJSON_Delete(pods);
    }
    cJSON_Delete(obj);
    return rc;
}
