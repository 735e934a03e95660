/*
 * edit.c - the verbs that change one field family of existing objects or
 * make an object from flags: label, annotate, patch, run (a Pod, as
 * kubectl run makes it) and expose (a Service selecting a workload's pods).
 */
#include <stdlib.h>
#include <string.h>

#include "kctl/kctl_int.h"

/* ----------------------------------------------------- label / annotate */

static int set_meta_map(kctl_t *k, int argc, char **argv, const char *field, const char *done,
                        const char *not_done)
{
    bool overwrite = false, all = false;
    const char *selector = NULL, *output = NULL;
    const kopt_t opts[] = {
        {0, "overwrite", KOPT_BOOL, &overwrite},
        {0, "all", KOPT_BOOL, &all},
        {'l', "selector", KOPT_STR, &selector},
        {'o', "output", KOPT_STR, &output},
        {0, NULL, 0, NULL},
    };
    int npos = kctl_opts(opts, argc, argv, NULL);
    if (npos < 0) return 1;
    /* resources first, then key=value and key- arguments */
    int nres = 0;
    while (nres < npos && !strchr(argv[nres], '=') &&
           !(strlen(argv[nres]) > 1 && argv[nres][strlen(argv[nres]) - 1] == '-'))
        nres++;
    if (nres == 0)
        return kctl_fail(
            "one or more resources must be specified as <resource> <name> or <resource>/<name>");
    if (nres == npos)
        return kctl_fail("at least one %s update is required",
                         !strcmp(field, "labels") ? "label" : "annotation");
    cJSON *changes = cJSON_CreateObject();
    for (int i = nres; i < npos; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq) {
            *eq = '\0';
            char err[256];
            if (!strcmp(field, "labels") && (!api_label_key_valid(argv[i], err, sizeof err) ||
                                             !api_label_value_valid(eq + 1, err, sizeof err))) {
                cJSON_Delete(changes);
                return kctl_fail("invalid label spec: %s=%s: %s", argv[i], eq + 1, err);
            }
            cJSON_AddStringToObject(changes, argv[i], eq + 1);
        } else {
            argv[i][strlen(argv[i]) - 1] = '\0';
            cJSON_AddNullToObject(changes, argv[i]);
        }
    }
    if (kctl_connect(k) != 0) {
        cJSON_Delete(changes);
        return 1;
    }
    kctl_targets_t t;
    if (kctl_targets(nres, argv, &t) != 0) {
        cJSON_Delete(changes);
        return 1;
    }
    int rc = 0;
    cJSON *objs = cJSON_CreateArray();
    for (size_t i = 0; i < t.n; i++) {
        const api_resource_t *r = t.v[i].res;
        if (t.v[i].name) {
            cJSON *o;
            if (kctl_get_object(k, r, k->ns, t.v[i].name, &o) != 0) {
                rc = 1;
                continue;
            }
            cJSON_AddItemToArray(objs, o);
        } else if (all || selector) {
            char q[1024] = "";
            if (selector) {
                char *e = kctl_urlenc(selector);
                snprintf(q, sizeof q, "?labelSelector=%s", e ? e : "");
                free(e);
            }
            char *path = kctl_path(r, k->ns, NULL, NULL, q);
            api_result_t res;
            kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
            free(path);
            if (!api_result_ok(&res)) {
                kctl_print_error(&res);
                rc = 1;
            } else {
                cJSON *items = cJSON_GetObjectItemCaseSensitive(res.obj, "items"), *it;
                while (items && (it = cJSON_DetachItemFromArray(items, 0))) {
                    if (!kctl_str(it, "kind")) cJSON_AddStringToObject(it, "kind", r->kind);
                    cJSON_AddItemToArray(objs, it);
                }
            }
            api_result_free(&res);
        } else {
            rc = kctl_fail("resource(s) were provided, but no name was specified");
        }
    }
    for (cJSON *o = objs->child; o; o = o->next) {
        const api_resource_t *r = api_resource_by_kind(NULL, kctl_str(o, "kind") ?: "");
        for (size_t i = 0; !r && i < t.n; i++)
            r = t.v[i].res;
        const cJSON *cur = kctl_at(o, field[0] == 'l' ? "metadata.labels" : "metadata.annotations");
        bool changed = false, conflict = false;
        for (const cJSON *c = changes->child; c; c = c->next) {
            const cJSON *old = cJSON_GetObjectItemCaseSensitive(cur, c->string);
            if (cJSON_IsNull(c)) {
                if (old)
                    changed = true;
                else
                    printf("%s \"%s\" not found.\n", field[0] == 'l' ? "label" : "annotation",
                           c->string);
            } else if (!old || !cJSON_IsString(old) || strcmp(old->valuestring, c->valuestring)) {
                if (old && !overwrite) {
                    kctl_fail("'%s' already has a value (%s), and --overwrite is false", c->string,
                              cJSON_IsString(old) ? old->valuestring : "");
                    conflict = true;
                }
                changed = true;
            }
        }
        if (conflict) {
            rc = 1;
            continue;
        }
        char kn[128];
        kctl_kind_name(r, kn, sizeof kn);
        if (!changed) {
            printf("%s/%s %s\n", kn, api_meta_name(o), not_done);
            continue;
        }
        cJSON *patch = cJSON_CreateObject();
        cJSON *meta = cJSON_AddObjectToObject(patch, "metadata");
        cJSON_AddItemToObject(meta, field, cJSON_Duplicate(changes, true));
        char *path = kctl_path(r, api_meta_namespace(o), api_meta_name(o), NULL, NULL);
        api_result_t res;
        kctl_req_json(k, "PATCH", path, api_patch_content_type(API_PATCH_MERGE), patch, &res);
        free(path);
        cJSON_Delete(patch);
        if (!api_result_ok(&res)) {
            kctl_print_error(&res);
            rc = 1;
        } else if (output && res.obj)
            kctl_print_object(res.obj, output, stdout);
        else {
            /* kubectl says "unlabeled" when every change removes a label */
            bool removals_only = field[0] == 'l';
            for (const cJSON *c = changes->child; c; c = c->next)
                if (!cJSON_IsNull(c)) removals_only = false;
            printf("%s/%s %s\n", kn, api_meta_name(o), removals_only ? "unlabeled" : done);
        }
        api_result_free(&res);
    }
    cJSON_Delete(objs);
    cJSON_Delete(changes);
    kctl_targets_free(&t);
    return rc;
}

int kctl_cmd_label(kctl_t *k, int argc, char **argv)
{
    return set_meta_map(k, argc, argv, "labels", "labeled", "not labeled");
}

int kctl_cmd_annotate(kctl_t *k, int argc, char **argv)
{
    return set_meta_map(k, argc, argv, "annotations", "annotated", "not annotated");
}

/* ----------------------------------------------------------------- patch */

int kctl_cmd_patch(kctl_t *k, int argc, char **argv)
{
    const char *body = NULL, *type = "strategic", *sub = NULL, *output = NULL;
    const kopt_t opts[] = {
        {'p', "patch", KOPT_STR, &body},
        {0, "type", KOPT_STR, &type},
        {0, "subresource", KOPT_STR, &sub},
        {'o', "output", KOPT_STR, &output},
        {0, NULL, 0, NULL},
    };
    int npos = kctl_opts(opts, argc, argv, NULL);
    if (npos < 0) return 1;
    if (!body)
        return kctl_fail(
            "must specify --patch or --patch-file containing the contents of the patch");
    enum api_patch_type pt;
    if (!strcmp(type, "strategic"))
        pt = API_PATCH_STRATEGIC;
    else if (!strcmp(type, "merge"))
        pt = API_PATCH_MERGE;
    else if (!strcmp(type, "json"))
        pt = API_PATCH_JSON;
    else
        return kctl_fail("--type must be one of [json merge strategic], not \"%s\"", type);
    char err[512];
    cJSON *docs = kctl_yaml_parse(body, strlen(body), err, sizeof err);
    if (!docs || cJSON_GetArraySize(docs) != 1) {
        cJSON_Delete(docs);
        return kctl_fail("unable to parse \"%s\": %s", body, docs ? "expected one document" : err);
    }
    kctl_targets_t t;
    if (kctl_targets(npos, argv, &t) != 0) {
        cJSON_Delete(docs);
        return 1;
    }
    if (kctl_connect(k) != 0) {
        cJSON_Delete(docs);
        kctl_targets_free(&t);
        return 1;
    }
    int rc = 0;
    for (size_t i = 0; i < t.n; i++) {
        const api_resource_t *r = t.v[i].res;
        if (!t.v[i].name) {
            rc = kctl_fail("resource(s) were provided, but no name was specified");
            continue;
        }
        char *path = kctl_path(r, k->ns, t.v[i].name, sub, NULL);
        api_result_t before, res;
        kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &before);
        kctl_req_json(k, "PATCH", path, api_patch_content_type(pt), docs->child, &res);
        free(path);
        char kn[128];
        kctl_kind_name(r, kn, sizeof kn);
        if (!api_result_ok(&res)) {
            kctl_print_error(&res);
            rc = 1;
        } else if (output && res.obj) {
            kctl_print_object(res.obj, output, stdout);
        } else {
            const char *rv0 = kctl_str(before.obj, "metadata.resourceVersion");
            const char *rv1 = kctl_str(res.obj, "metadata.resourceVersion");
            bool same = rv0 && rv1 && !strcmp(rv0, rv1);
            printf("%s/%s patched%s\n", kn, t.v[i].name, same ? " (no change)" : "");
        }
        api_result_free(&before);
        api_result_free(&res);
    }
    cJSON_Delete(docs);
    kctl_targets_free(&t);
    return rc;
}

/* ------------------------------------------------------------------- run */

static int add_key_values(cJSON *obj, const char *list, const char *what)
{
    char *copy = strdup(list), *save = NULL;
    if (!copy) return -1;
    for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) {
            free(copy);
            return kctl_fail("invalid %s: %s", what, kv), -1;
        }
        *eq = '\0';
        cJSON_DeleteItemFromObjectCaseSensitive(obj, kv);
        cJSON_AddStringToObject(obj, kv, eq + 1);
    }
    free(copy);
    return 0;
}

int kctl_cmd_run(kctl_t *k, int argc, char **argv)
{
    const char *image = NULL, *labels = NULL, *restart = "Always", *output = NULL, *dry = NULL,
               *pull = NULL;
    long port = -1;
    bool command = false;
    struct flag_list env = {0}, annotations = {0};
    const kopt_t opts[] = {
        {0, "image", KOPT_STR, &image},
        {'l', "labels", KOPT_STR, &labels},
        {0, "restart", KOPT_STR, &restart},
        {0, "port", KOPT_INT, &port},
        {0, "env", KOPT_LIST, &env},
        {0, "annotations", KOPT_LIST, &annotations},
        {0, "command", KOPT_BOOL, &command},
        {0, "image-pull-policy", KOPT_STR, &pull},
        {'o', "output", KOPT_STR, &output},
        {0, "dry-run", KOPT_STR, &dry},
        {0, NULL, 0, NULL},
    };
    int dash = -1;
    int npos = kctl_opts(opts, argc, argv, &dash);
    if (npos < 0) return 1;
    if (npos < 1 || dash == 0) return kctl_fail("NAME is required for run");
    if (!image) return kctl_fail("required flag(s) \"image\" not set");
    const char *name = argv[0];
    /* built in the Go structs' field order, which kubectl's -o json keeps */
    cJSON *pod = cJSON_CreateObject();
    cJSON_AddStringToObject(pod, "kind", "Pod");
    cJSON_AddStringToObject(pod, "apiVersion", "v1");
    cJSON *meta = cJSON_AddObjectToObject(pod, "metadata");
    cJSON_AddStringToObject(meta, "name", name);
    cJSON_AddNullToObject(meta, "creationTimestamp");
    cJSON *lab = cJSON_AddObjectToObject(meta, "labels");
    if (labels) {
        if (add_key_values(lab, labels, "label") != 0) {
            cJSON_Delete(pod);
            return 1;
        }
    } else
        cJSON_AddStringToObject(lab, "run", name);
    if (annotations.n) {
        cJSON *ann = cJSON_AddObjectToObject(meta, "annotations");
        for (size_t i = 0; i < annotations.n; i++)
            add_key_values(ann, annotations.items[i], "annotation");
    }
    cJSON *spec = cJSON_AddObjectToObject(pod, "spec");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "containers"), c);
    cJSON_AddStringToObject(c, "name", name);
    cJSON_AddStringToObject(c, "image", image);
    int first_arg = dash >= 0 ? dash : 1;
    if (npos > first_arg) {
        cJSON *args = cJSON_AddArrayToObject(c, command ? "command" : "args");
        for (int i = first_arg; i < npos; i++)
            cJSON_AddItemToArray(args, cJSON_CreateString(argv[i]));
    }
    if (port >= 0) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "containerPort", (double)port);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(c, "ports"), p);
    }
    if (env.n) {
        cJSON *e = cJSON_AddArrayToObject(c, "env");
        for (size_t i = 0; i < env.n; i++) {
            const char *eq = strchr(env.items[i], '=');
            cJSON *v = cJSON_CreateObject();
            char key[256];
            snprintf(key, sizeof key, "%.*s",
                     eq ? (int)(eq - env.items[i]) : (int)strlen(env.items[i]), env.items[i]);
            cJSON_AddStringToObject(v, "name", key);
            cJSON_AddStringToObject(v, "value", eq ? eq + 1 : "");
            cJSON_AddItemToArray(e, v);
        }
    }
    cJSON_AddObjectToObject(c, "resources");
    if (pull) cJSON_AddStringToObject(c, "imagePullPolicy", pull);
    cJSON_AddStringToObject(spec, "restartPolicy", restart);
    cJSON_AddStringToObject(spec, "dnsPolicy", "ClusterFirst");
    cJSON_AddObjectToObject(pod, "status");
    int rc = 0;
    if (dry && (!strcmp(dry, "client") || !strcmp(dry, "true"))) {
        if (output)
            rc = kctl_print_generated(pod, output, stdout);
        else
            printf("pod/%s created (dry run)\n", name);
        cJSON_Delete(pod);
        return rc;
    }
    if (kctl_connect(k) != 0) {
        cJSON_Delete(pod);
        return 1;
    }
    const api_resource_t *r = api_resource_by_kind("", "Pod");
    char *path = kctl_path(r, k->ns, NULL, NULL, NULL);
    api_result_t res;
    kctl_req_json(k, "POST", path, NULL, pod, &res);
    free(path);
    if (!api_result_ok(&res)) {
        kctl_print_error(&res);
        rc = 1;
    } else if (output && res.obj)
        kctl_print_object(res.obj, output, stdout);
    else
        printf("pod/%s created\n", name);
    api_result_free(&res);
    cJSON_Delete(pod);
    return rc;
}

/* ---------------------------------------------------------------- expose */

int kctl_cmd_expose(kctl_t *k, int argc, char **argv)
{
    const char *port = NULL, *target = NULL, *name = NULL, *type = NULL, *protocol = NULL,
               *selector = NULL, *output = NULL, *dry = NULL, *cluster_ip = NULL;
    const kopt_t opts[] = {
        {0, "port", KOPT_STR, &port},
        {0, "target-port", KOPT_STR, &target},
        {0, "name", KOPT_STR, &name},
        {0, "type", KOPT_STR, &type},
        {0, "protocol", KOPT_STR, &protocol},
        {0, "selector", KOPT_STR, &selector},
        {0, "cluster-ip", KOPT_STR, &cluster_ip},
        {'o', "output", KOPT_STR, &output},
        {0, "dry-run", KOPT_STR, &dry},
        {0, NULL, 0, NULL},
    };
    int npos = kctl_opts(opts, argc, argv, NULL);
    if (npos < 0) return 1;
    kctl_targets_t t;
    if (npos == 0 || kctl_targets(npos, argv, &t) != 0)
        return npos ? 1 : kctl_fail("You must provide the resource to expose");
    if (t.n != 1 || !t.v[0].name) {
        kctl_targets_free(&t);
        return kctl_fail("expose takes exactly one TYPE NAME");
    }
    if (kctl_connect(k) != 0) {
        kctl_targets_free(&t);
        return 1;
    }
    cJSON *obj;
    int rc = kctl_get_object(k, t.v[0].res, k->ns, t.v[0].name, &obj);
    const char *kind = t.v[0].res->kind;
    kctl_targets_free(&t);
    if (rc != 0) return 1;
    cJSON *svc = cJSON_CreateObject();
    cJSON_AddStringToObject(svc, "apiVersion", "v1");
    cJSON_AddStringToObject(svc, "kind", "Service");
    cJSON *meta = cJSON_AddObjectToObject(svc, "metadata");
    cJSON_AddStringToObject(meta, "name", name ? name : api_meta_name(obj));
    if (api_meta_labels(obj))
        cJSON_AddItemToObject(meta, "labels", cJSON_Duplicate(api_meta_labels(obj), true));
    cJSON *spec = cJSON_AddObjectToObject(svc, "spec");
    cJSON *sel = cJSON_CreateObject();
    if (selector) {
        add_key_values(sel, selector, "selector");
    } else if (!strcmp(kind, "Pod")) {
        if (api_meta_labels(obj))
            cJSON_Delete(sel), sel = cJSON_Duplicate(api_meta_labels(obj), true);
    } else if (!strcmp(kind, "Service") || !strcmp(kind, "ReplicationController")) {
        const cJSON *s = kctl_at(obj, "spec.selector");
        if (s) cJSON_Delete(sel), sel = cJSON_Duplicate(s, true);
    } else {
        const cJSON *ml = kctl_at(obj, "spec.selector.matchLabels");
        if (kctl_at(obj, "spec.selector.matchExpressions")) {
            cJSON_Delete(sel);
            cJSON_Delete(svc);
            cJSON_Delete(obj);
            return kctl_fail("cannot expose a %s: the selector has matchExpressions", kind);
        }
        if (ml) cJSON_Delete(sel), sel = cJSON_Duplicate(ml, true);
    }
    if (!sel->child) {
        cJSON_Delete(sel);
        cJSON_Delete(svc);
        cJSON_Delete(obj);
        return kctl_fail("couldn't retrieve selectors via --selector flag or introspection: the %s "
                         "has no selector",
                         kind);
    }
    cJSON_AddItemToObject(spec, "selector", sel);
    /* the port: --port, else the first container port */
    long p = port ? atol(port) : -1;
    if (p < 0) {
        const cJSON *ctrs = kctl_at(obj, "spec.containers");
        if (!ctrs) ctrs = kctl_at(obj, "spec.template.spec.containers");
        const cJSON *c;
        cJSON_ArrayForEach(c, ctrs)
        {
            const cJSON *cp = cJSON_GetArrayItem(kctl_at(c, "ports"), 0);
            if (cp && p < 0) p = kctl_int(cp, "containerPort", -1);
        }
        if (!strcmp(kind, "Service"))
            p = kctl_int(cJSON_GetArrayItem(kctl_at(obj, "spec.ports"), 0), "port", -1);
    }
    if (p < 0) {
        cJSON_Delete(svc);
        cJSON_Delete(obj);
        return kctl_fail("couldn't find port via --port flag or introspection");
    }
    cJSON *pe = cJSON_CreateObject();
    cJSON_AddNumberToObject(pe, "port", (double)p);
    cJSON_AddStringToObject(pe, "protocol", protocol ? protocol : "TCP");
    if (target) {
        char *end;
        long tp = strtol(target, &end, 10);
        if (*end)
            cJSON_AddStringToObject(pe, "targetPort", target);
        else
            cJSON_AddNumberToObject(pe, "targetPort", (double)tp);
    } else
        cJSON_AddNumberToObject(pe, "targetPort", (double)p);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "ports"), pe);
    if (type) cJSON_AddStringToObject(spec, "type", type);
    if (cluster_ip) cJSON_AddStringToObject(spec, "clusterIP", cluster_ip);
    cJSON_Delete(obj);
    rc = 0;
    if (dry && (!strcmp(dry, "client") || !strcmp(dry, "true"))) {
        if (output)
            rc = kctl_print_generated(svc, output, stdout);
        else
            printf("service/%s exposed (dry run)\n", kctl_str(svc, "metadata.name"));
        cJSON_Delete(svc);
        return rc;
    }
    const api_resource_t *r = api_resource_by_kind("", "Service");
    char *path = kctl_path(r, k->ns, NULL, NULL, NULL);
    api_result_t res;
    kctl_req_json(k, "POST", path, NULL, svc, &res);
    free(path);
    if (!api_result_ok(&res)) {
        kctl_print_error(&res);
        rc = 1;
    } else if (output && res.obj)
        kctl_print_object(res.obj, output, stdout);
    else
        printf("service/%s exposed\n", kctl_str(svc, "metadata.name"));
    api_result_free(&res);
    cJSON_Delete(svc);
    return rc;
}
