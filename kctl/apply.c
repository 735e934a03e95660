/*
 * apply.c - the verbs that send manifests: create -f (and the create
 * namespace|deployment|configmap generators), apply -f and replace -f.
 *
 * apply works as kubectl's client-side apply: the manifest, with the
 * kubectl.kubernetes.io/last-applied-configuration annotation set to its
 * own JSON, is created when absent; otherwise a three-way strategic merge
 * patch (kctl_smp_three_way) from the previous last-applied configuration,
 * the manifest and the live object is sent, so fields the user removed
 * from the manifest are removed and fields others set are kept.
 */
#include <stdlib.h>
#include <string.h>

#include "kctl/kctl_int.h"

struct sendopts {
    const char *source; /* the manifest file of the object being sent */
    struct flag_list files;
    bool recursive, save_config;
    const char *output, *dry_run, *field_manager;
};

/* Resolves an object's resource and namespace, checking -n against it. */
static const api_resource_t *obj_target(kctl_t *k, cJSON *obj, const char **ns)
{
    const char *av = kctl_str(obj, "apiVersion"), *kind = kctl_str(obj, "kind");
    const api_resource_t *r = api_resource_by_gvk(av, kind);
    if (!r) {
        fprintf(stderr,
                "error: resource mapping not found for name: \"%s\" namespace: \"%s\" from "
                "\"%s\": no matches for kind \"%s\" in version \"%s\"\n",
                api_meta_name(obj) ?: "", api_meta_namespace(obj) ?: "", kind ?: "", kind ?: "",
                av ?: "");
        return NULL;
    }
    const char *ons = api_meta_namespace(obj);
    if (r->namespaced && ons && *ons && k->ns_explicit && strcmp(ons, k->ns) != 0) {
        kctl_fail("the namespace from the provided object \"%s\" does not match the namespace "
                  "\"%s\". You must pass '--namespace=%s' to perform this operation.",
                  ons, k->ns, ons);
        return NULL;
    }
    *ns = r->namespaced ? (ons && *ons ? ons : k->ns) : NULL;
    if (r->namespaced && !(ons && *ons)) api_meta_set_str(obj, "namespace", *ns);
    return r;
}

static void print_result(const api_resource_t *r, const cJSON *obj, const char *what,
                         const struct sendopts *o, const cJSON *server_obj)
{
    if (o->output && *o->output && server_obj) {
        kctl_print_object(server_obj, o->output, stdout);
        return;
    }
    char kn[128];
    kctl_kind_name(r, kn, sizeof kn);
    printf("%s/%s %s%s\n", kn, api_meta_name(obj) ?: "", what,
           o->dry_run && strcmp(o->dry_run, "none") ? " (dry run)" : "");
}

/* kubectl's GetModifiedConfiguration: the object with annotations {} minus
 * the last-applied annotation, as compact sorted JSON plus a newline, set as
 * that annotation. */
static int set_last_applied(cJSON *obj)
{
    cJSON *meta = api_meta_ensure(obj);
    cJSON *ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
    if (!cJSON_IsObject(ann)) {
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "annotations");
        ann = cJSON_AddObjectToObject(meta, "annotations");
    }
    cJSON_DeleteItemFromObjectCaseSensitive(ann, KCTL_LAST_APPLIED);
    char *json = kctl_json_compact(obj);
    if (!json) return -1;
    size_t n = strlen(json);
    char *v = malloc(n + 2);
    if (!v) {
        free(json);
        return -1;
    }
    memcpy(v, json, n);
    v[n] = '\n';
    v[n + 1] = '\0';
    free(json);
    cJSON_AddStringToObject(ann, KCTL_LAST_APPLIED, v);
    free(v);
    return 0;
}

static char *dry_query(const struct sendopts *o)
{
    char *q = calloc(1, 256);
    if (!q) return NULL;
    if (o->dry_run && !strcmp(o->dry_run, "server")) strcat(q, "?dryRun=All");
    if (o->field_manager) {
        strcat(q, *q ? "&" : "?");
        strncat(q, "fieldManager=", 255 - strlen(q));
        strncat(q, o->field_manager, 255 - strlen(q));
    }
    return q;
}

static bool client_dry(const struct sendopts *o)
{
    return o->dry_run && (!strcmp(o->dry_run, "client") || !strcmp(o->dry_run, "true"));
}

static int create_one(kctl_t *k, cJSON *obj, const struct sendopts *o)
{
    const char *ns;
    const api_resource_t *r = obj_target(k, obj, &ns);
    if (!r) return 1;
    if (o->save_config && set_last_applied(obj) != 0) return kctl_fail("out of memory");
    if (client_dry(o)) {
        print_result(r, obj, "created", o, obj);
        return 0;
    }
    char *q = dry_query(o);
    char *path = kctl_path(r, ns, NULL, NULL, q);
    free(q);
    api_result_t res;
    kctl_req_json(k, "POST", path, NULL, obj, &res);
    free(path);
    int rc = 0;
    if (!api_result_ok(&res)) {
        kctl_print_error_from(&res, "creating", o->source);
        rc = 1;
    } else
        print_result(r, res.obj ? res.obj : obj, "created", o, res.obj);
    api_result_free(&res);
    return rc;
}

static int apply_one(kctl_t *k, cJSON *obj, const struct sendopts *o)
{
    const char *ns;
    const api_resource_t *r = obj_target(k, obj, &ns);
    if (!r) return 1;
    const char *name = api_meta_name(obj);
    if (!name || !*name)
        return kctl_fail("error when retrieving current configuration of "
                         "%s: resource name may not be empty",
                         r->kind);
    if (set_last_applied(obj) != 0) return kctl_fail("out of memory");
    char *path = kctl_path(r, ns, name, NULL, NULL);
    api_result_t cur;
    kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &cur);
    int rc = 0;
    if (cur.status == 404 && !cur.err) {
        api_result_free(&cur);
        free(path);
        struct sendopts co = *o;
        co.save_config = false;
        return create_one(k, obj, &co);
    }
    if (!api_result_ok(&cur) || !cur.obj) {
        kctl_print_error(&cur);
        api_result_free(&cur);
        free(path);
        return 1;
    }
    const char *last = api_meta_annotation(cur.obj, KCTL_LAST_APPLIED);
    cJSON *original = last ? cJSON_Parse(last) : NULL;
    char err[512];
    bool smp = api_smp_kind_known(r->kind);
    cJSON *patch = kctl_smp_three_way(original, obj, cur.obj, r->kind, err, sizeof err);
    cJSON_Delete(original);
    if (!patch) {
        rc = kctl_fail("%s", err);
    } else if (!patch->child) {
        print_result(r, obj, "unchanged", o, cur.obj);
    } else if (client_dry(o)) {
        print_result(r, obj, "configured", o, obj);
    } else {
        char *q = dry_query(o);
        char *ppath = kctl_path(r, ns, name, NULL, q);
        free(q);
        api_result_t res;
        kctl_req_json(k, "PATCH", ppath,
                      api_patch_content_type(smp ? API_PATCH_STRATEGIC : API_PATCH_MERGE), patch,
                      &res);
        free(ppath);
        if (!api_result_ok(&res)) {
            kctl_print_error(&res);
            rc = 1;
        } else
            print_result(r, obj, "configured", o, res.obj);
        api_result_free(&res);
    }
    cJSON_Delete(patch);
    api_result_free(&cur);
    free(path);
    return rc;
}

static int replace_one(kctl_t *k, cJSON *obj, const struct sendopts *o)
{
    const char *ns;
    const api_resource_t *r = obj_target(k, obj, &ns);
    if (!r) return 1;
    if (o->save_config && set_last_applied(obj) != 0) return kctl_fail("out of memory");
    char *q = dry_query(o);
    char *path = kctl_path(r, ns, api_meta_name(obj) ?: "", NULL, q);
    free(q);
    api_result_t res;
    kctl_req_json(k, "PUT", path, NULL, obj, &res);
    free(path);
    int rc = 0;
    if (!api_result_ok(&res)) {
        kctl_print_error_from(&res, "replacing", o->source);
        rc = 1;
    } else
        print_result(r, obj, "replaced", o, res.obj);
    api_result_free(&res);
    return rc;
}

static int each_manifest(kctl_t *k, int argc, char **argv, const char *verb,
                         int (*fn)(kctl_t *, cJSON *, const struct sendopts *))
{
    struct sendopts o = {0};
    const kopt_t opts[] = {
        {'f', "filename", KOPT_LIST, &o.files},
        {'R', "recursive", KOPT_BOOL, &o.recursive},
        {'o', "output", KOPT_STR, &o.output},
        {0, "dry-run", KOPT_STR, &o.dry_run},
        {0, "save-config", KOPT_BOOL, &o.save_config},
        {0, "field-manager", KOPT_STR, &o.field_manager},
        {0, "validate", KOPT_STR, &(const char *){NULL}},
        {0, NULL, 0, NULL},
    };
    int npos = kctl_opts(opts, argc, argv, NULL);
    if (npos < 0) return 1;
    if (o.files.n == 0) {
        fprintf(stderr, "error: must specify one of -f and -k\n\n");
        return 1;
    }
    if (npos > 0 && strcmp(verb, "create") == 0) return kctl_fail("Unexpected args: [%s]", argv[0]);
    if (kctl_connect(k) != 0) return 1;
    cJSON *srcs = NULL;
    cJSON *objs = kctl_manifests(k, &o.files, o.recursive, &srcs);
    if (!objs) return 1;
    int rc = 0;
    bool first = true;
    const cJSON *src = srcs->child;
    for (cJSON *obj = objs->child; obj; obj = obj->next, src = src ? src->next : NULL) {
        if (o.output && !strcmp(o.output, "yaml") && !first) printf("---\n");
        first = false;
        o.source = src ? src->valuestring : NULL;
        rc |= fn(k, obj, &o);
    }
    cJSON_Delete(objs);
    cJSON_Delete(srcs);
    return rc;
}

/* `create namespace|deployment|configmap NAME ...`: kubectl's generators. */
static int create_generated(kctl_t *k, int argc, char **argv)
{
    const char *image = NULL, *output = NULL, *dry = NULL;
    long replicas = 1, port = -1;
    struct flag_list literals = {0};
    const kopt_t opts[] = {
        {0, "image", KOPT_STR, &image},
        {'r', "replicas", KOPT_INT, &replicas},
        {0, "port", KOPT_INT, &port},
        {0, "from-literal", KOPT_LIST, &literals},
        {'o', "output", KOPT_STR, &output},
        {0, "dry-run", KOPT_STR, &dry},
        {0, NULL, 0, NULL},
    };
    int npos = kctl_opts(opts, argc, argv, NULL);
    if (npos < 0) return 1;
    if (npos < 2) return kctl_fail("exactly one NAME is required, got %d", npos - 1);
    const char *what = argv[0], *name = argv[1];
    cJSON *obj = cJSON_CreateObject();
    if (!strcmp(what, "namespace") || !strcmp(what, "ns")) {
        cJSON_AddStringToObject(obj, "apiVersion", "v1");
        cJSON_AddStringToObject(obj, "kind", "Namespace");
        api_meta_set_str(obj, "name", name);
    } else if (!strcmp(what, "deployment") || !strcmp(what, "deploy")) {
        if (!image) {
            cJSON_Delete(obj);
            return kctl_fail("required flag(s) \"image\" not set");
        }
        char ctr[64];
        const char *slash = strrchr(image, '/');
        snprintf(ctr, sizeof ctr, "%s", slash ? slash + 1 : image);
        ctr[strcspn(ctr, ":@")] = '\0';
        char portpart[64] = "";
        if (port >= 0)
            snprintf(portpart, sizeof portpart, ",\"ports\":[{\"containerPort\":%ld}]", port);
        char *doc = NULL;
        if (asprintf(&doc,
                     "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":"
                     "\"%s\",\"labels\":{\"app\":\"%s\"}},\"spec\":{\"replicas\":%ld,\"selector\":{"
                     "\"matchLabels\":{\"app\":\"%s\"}},\"template\":{\"metadata\":{\"labels\":{"
                     "\"app\":\"%s\"}},\"spec\":{\"containers\":[{\"name\":\"%s\",\"image\":\"%s\""
                     "%s}]}}}}",
                     name, name, replicas, name, name, ctr, image, portpart) < 0)
            doc = NULL;
        cJSON_Delete(obj);
        obj = doc ? cJSON_Parse(doc) : NULL;
        free(doc);
        if (!obj) return kctl_fail("invalid name or image");
    } else if (!strcmp(what, "configmap") || !strcmp(what, "cm")) {
        cJSON_AddStringToObject(obj, "apiVersion", "v1");
        cJSON_AddStringToObject(obj, "kind", "ConfigMap");
        api_meta_set_str(obj, "name", name);
        cJSON *data = cJSON_AddObjectToObject(obj, "data");
        for (size_t i = 0; i < literals.n; i++) {
            const char *eq = strchr(literals.items[i], '=');
            if (!eq) {
                cJSON_Delete(obj);
                return kctl_fail("invalid literal source %s, expected key=value",
                                 literals.items[i]);
            }
            char key[256];
            snprintf(key, sizeof key, "%.*s", (int)(eq - literals.items[i]), literals.items[i]);
            cJSON_AddStringToObject(data, key, eq + 1);
        }
    } else {
        cJSON_Delete(obj);
        return kctl_fail(
            "unknown object to create: %s (kctl create namespace|deployment|configmap, "
            "or create -f FILE)",
            what);
    }
    if (kctl_connect(k) != 0) {
        cJSON_Delete(obj);
        return 1;
    }
    struct sendopts o = {.output = output, .dry_run = dry};
    int rc = create_one(k, obj, &o);
    cJSON_Delete(obj);
    return rc;
}

int kctl_cmd_create(kctl_t *k, int argc, char **argv)
{
    if (argc >= 2 && argv[1][0] != '-') return create_generated(k, argc, argv);
    return each_manifest(k, argc, argv, "create", create_one);
}

int kctl_cmd_apply(kctl_t *k, int argc, char **argv)
{
    return each_manifest(k, argc, argv, "apply", apply_one);
}

int kctl_cmd_replace(kctl_t *k, int argc, char **argv)
{
    return each_manifest(k, argc, argv, "replace", replace_one);
}
