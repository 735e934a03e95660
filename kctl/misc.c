/*
 * misc.c - the verbs about the client and the cluster rather than objects:
 * version, cluster-info, api-resources (from the server's discovery, in
 * kubectl's order), config view|use-context|current-context|get-contexts|
 * set-context, and bash completion.
 */
#include <stdlib.h>
#include <string.h>

#include "kctl/kctl_int.h"

/* --------------------------------------------------------------- version */

int kctl_cmd_version(kctl_t *k, int argc, char **argv)
{
    bool client = false;
    const char *output = NULL;
    const kopt_t opts[] = {
        {0, "client", KOPT_BOOL, &client},
        {'o', "output", KOPT_STR, &output},
        {0, NULL, 0, NULL},
    };
    if (kctl_opts(opts, argc, argv, NULL) < 0) return 1;
    cJSON *doc = cJSON_CreateObject();
    cJSON *cv = cJSON_AddObjectToObject(doc, "clientVersion");
    cJSON_AddStringToObject(cv, "gitVersion", PICOKUBE_VERSION);
    cJSON_AddStringToObject(cv, "major", "1");
    cJSON_AddStringToObject(cv, "minor", "32");
    cJSON_AddStringToObject(cv, "platform", "linux");
    int rc = 0;
    api_result_t res = {0};
    bool have_server = false;
    if (!client) {
        if (kctl_connect(k) != 0) {
            cJSON_Delete(doc);
            return 1;
        }
        kctl_req(k, "GET", "/version", NULL, NULL, 0, NULL, &res);
        if (api_result_ok(&res) && res.obj) {
            cJSON_AddItemToObject(doc, "serverVersion", cJSON_Duplicate(res.obj, true));
            have_server = true;
        }
    }
    if (output && *output) {
        kctl_print_object(doc, output, stdout);
    } else {
        printf("Client Version: %s\n", PICOKUBE_VERSION);
        if (have_server) printf("Server Version: %s\n", kctl_str(res.obj, "gitVersion") ?: "");
    }
    if (!client && !have_server) {
        kctl_print_error(&res);
        rc = 1;
    }
    if (!client) api_result_free(&res);
    cJSON_Delete(doc);
    return rc;
}

/* ---------------------------------------------------------- cluster-info */

int kctl_cmd_cluster_info(kctl_t *k, int argc, char **argv)
{
    const kopt_t opts[] = {{0, NULL, 0, NULL}};
    if (kctl_opts(opts, argc, argv, NULL) < 0) return 1;
    if (kctl_connect(k) != 0) return 1;
    api_result_t res;
    kctl_req(k, "GET", "/version", NULL, NULL, 0, NULL, &res);
    int rc = 0;
    if (!api_result_ok(&res)) {
        kctl_print_error(&res);
        rc = 1;
    } else {
        printf("Kubernetes control plane is running at %s\n",
               res.url && *res.url ? res.url : k->conn.urls);
        printf("\nTo further debug and diagnose cluster problems, use 'kctl get --raw /readyz' and "
               "'kctl get nodes'.\n");
    }
    api_result_free(&res);
    return rc;
}

/* --------------------------------------------------------- api-resources */

struct apires {
    char group[64], gv[96], name[96], kind[96], shorts[96], verbs[256], cats[96];
    bool namespaced;
};

static void join(const cJSON *arr, char *buf, size_t len)
{
    buf[0] = '\0';
    const cJSON *s;
    cJSON_ArrayForEach(s, arr)
    {
        size_t l = strlen(buf);
        if (cJSON_IsString(s)) snprintf(buf + l, len - l, "%s%s", l ? "," : "", s->valuestring);
    }
}

static int cmp_res(const void *a, const void *b)
{
    const struct apires *x = a, *y = b;
    int c = strcmp(x->group, y->group);
    return c ? c : strcmp(x->name, y->name);
}

static int add_group_version(kctl_t *k, const char *group, const char *gv, struct apires **v,
                             size_t *n)
{
    char path[256];
    snprintf(path, sizeof path, *group ? "/apis/%s" : "/api/%s", gv);
    api_result_t res;
    kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
    if (!api_result_ok(&res)) {
        kctl_print_error(&res);
        api_result_free(&res);
        return -1;
    }
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(res.obj, "resources"))
    {
        const char *name = kctl_str(r, "name");
        if (!name || strchr(name, '/')) continue;
        struct apires *nv = realloc(*v, (*n + 1) * sizeof *nv);
        if (!nv) break;
        *v = nv;
        struct apires *a = &nv[(*n)++];
        memset(a, 0, sizeof *a);
        snprintf(a->group, sizeof a->group, "%s", group);
        snprintf(a->gv, sizeof a->gv, "%s", gv);
        snprintf(a->name, sizeof a->name, "%s", name);
        snprintf(a->kind, sizeof a->kind, "%s", kctl_str(r, "kind") ?: "");
        join(kctl_at(r, "shortNames"), a->shorts, sizeof a->shorts);
        join(kctl_at(r, "verbs"), a->verbs, sizeof a->verbs);
        join(kctl_at(r, "categories"), a->cats, sizeof a->cats);
        a->namespaced = cJSON_IsTrue(kctl_at(r, "namespaced"));
    }
    api_result_free(&res);
    return 0;
}

int kctl_cmd_api_resources(kctl_t *k, int argc, char **argv)
{
    const char *output = NULL, *namespaced = NULL, *group = NULL;
    bool no_headers = false;
    const kopt_t opts[] = {
        {'o', "output", KOPT_STR, &output},
        {0, "namespaced", KOPT_STR, &namespaced},
        {0, "api-group", KOPT_STR, &group},
        {0, "no-headers", KOPT_BOOL, &no_headers},
        {0, NULL, 0, NULL},
    };
    if (kctl_opts(opts, argc, argv, NULL) < 0) return 1;
    if (kctl_connect(k) != 0) return 1;
    struct apires *v = NULL;
    size_t n = 0;
    int rc = add_group_version(k, "", "v1", &v, &n);
    api_result_t res;
    kctl_req(k, "GET", "/apis", NULL, NULL, 0, NULL, &res);
    if (!api_result_ok(&res)) {
        kctl_print_error(&res);
        rc = -1;
    } else {
        const cJSON *g;
        cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(res.obj, "groups"))
        {
            const char *gn = kctl_str(g, "name"),
                       *gv = kctl_str(g, "preferredVersion.groupVersion");
            if (gn && gv && add_group_version(k, gn, gv, &v, &n) != 0) rc = -1;
        }
    }
    api_result_free(&res);
    qsort(v, n, sizeof *v, cmp_res);
    bool wide = output && !strcmp(output, "wide"), names = output && !strcmp(output, "name");
    kctl_tab_t t;
    kctl_tab_init(&t, wide ? 7 : 5);
    if (!no_headers && !names)
        kctl_tab_rowf(&t, "NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", "VERBS",
                      "CATEGORIES");
    for (size_t i = 0; i < n; i++) {
        struct apires *a = &v[i];
        if (namespaced && (!strcmp(namespaced, "true")) != a->namespaced) continue;
        if (group && strcmp(group, a->group) != 0) continue;
        if (names) {
            printf("%s%s%s\n", a->name, *a->group ? "." : "", a->group);
            continue;
        }
        /* kubectl shows the verbs sorted */
        char verbs[260], *vv[32];
        int nv = 0;
        char copy[256], *save = NULL;
        snprintf(copy, sizeof copy, "%s", a->verbs);
        for (char *x = strtok_r(copy, ",", &save); x && nv < 32; x = strtok_r(NULL, ",", &save))
            vv[nv++] = x;
        for (int i2 = 0; i2 < nv; i2++)
            for (int j = i2 + 1; j < nv; j++)
                if (strcmp(vv[j], vv[i2]) < 0) {
                    char *tmp = vv[i2];
                    vv[i2] = vv[j];
                    vv[j] = tmp;
                }
        verbs[0] = '\0';
        for (int i2 = 0; i2 < nv; i2++)
            snprintf(verbs + strlen(verbs), sizeof verbs - strlen(verbs), "%s%s", i2 ? "," : "",
                     vv[i2]);
        kctl_tab_rowf(&t, a->name, a->shorts, a->gv, a->namespaced ? "true" : "false", a->kind,
                      verbs, a->cats);
    }
    kctl_tab_print(&t, stdout);
    kctl_tab_free(&t);
    free(v);
    return rc ? 1 : 0;
}

/* ---------------------------------------------------------------- config */

static cJSON *load_config(kctl_t *k, char *path, size_t len)
{
    if (api_kubeconfig_path(k->kubeconfig, path, len) != 0) {
        kctl_fail("cannot find the kubeconfig: set --kubeconfig or $KUBECONFIG");
        return NULL;
    }
    size_t n;
    char *text = file_read_all(path, &n);
    if (!text) {
        /* kubectl shows an empty config when the file is missing */
        return cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Config\",\"clusters\":null,"
                           "\"contexts\":null,\"current-context\":\"\",\"users\":null}");
    }
    char err[512];
    cJSON *docs = kctl_yaml_parse(text, n, err, sizeof err);
    free(text);
    if (!docs) {
        kctl_fail("%s: %s", path, err);
        return NULL;
    }
    cJSON *cfg = cJSON_DetachItemFromArray(docs, 0);
    cJSON_Delete(docs);
    if (!cJSON_IsObject(cfg)) {
        cJSON_Delete(cfg);
        cfg = cJSON_CreateObject();
    }
    return cfg;
}

static const cJSON *named(const cJSON *cfg, const char *list, const char *name)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(
                              cfg, list)) if (name &&
                                              !strcmp(kctl_str(e, "name") ?: "", name)) return e;
    return NULL;
}

static void keep_named(cJSON *cfg, const char *list, const char *name)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(cfg, list);
    for (int i = cJSON_GetArraySize(arr) - 1; i >= 0; i--)
        if (!name || strcmp(kctl_str(cJSON_GetArrayItem(arr, i), "name") ?: "", name) != 0)
            cJSON_DeleteItemFromArray(arr, i);
}

static void redact(cJSON *cfg)
{
    static const char *const fields[][2] = {
        {"users", "user.token"},
        {"users", "user.client-certificate-data"},
        {"users", "user.client-key-data"},
        {"users", "user.password"},
        {"clusters", "cluster.certificate-authority-data"},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(cfg, fields[i][0]))
        {
            const char *dot = strchr(fields[i][1], '.');
            cJSON *parent = cJSON_GetObjectItemCaseSensitive(e, "user");
            if (!strncmp(fields[i][1], "cluster", 7))
                parent = cJSON_GetObjectItemCaseSensitive(e, "cluster");
            if (!parent || !cJSON_GetObjectItemCaseSensitive(parent, dot + 1)) continue;
            bool data = strstr(dot + 1, "-data") != NULL;
            cJSON_ReplaceItemInObjectCaseSensitive(
                parent, dot + 1, cJSON_CreateString(data ? "DATA+OMITTED" : "REDACTED"));
        }
    }
}

static int save_config(const char *path, const cJSON *cfg)
{
    char *y = kctl_yaml_emit(cfg);
    if (!y) return kctl_fail("out of memory");
    int rv = file_write_atomic(path, y, strlen(y), 0600);
    free(y);
    if (rv != 0) return kctl_fail("cannot write %s: %s", path, strerror(-rv));
    return 0;
}

int kctl_cmd_config(kctl_t *k, int argc, char **argv)
{
    if (argc < 2)
        return kctl_fail("kctl config view|use-context|current-context|get-contexts|set-context");
    const char *sub = argv[1];
    bool raw = false, minify = false, current = false, flatten = false;
    const char *output = "yaml", *namespace_ = NULL, *cluster = NULL, *user = NULL;
    const kopt_t opts[] = {
        {0, "raw", KOPT_BOOL, &raw},
        {0, "minify", KOPT_BOOL, &minify},
        {0, "flatten", KOPT_BOOL, &flatten},
        {'o', "output", KOPT_STR, &output},
        {0, "current", KOPT_BOOL, &current},
        {0, "namespace", KOPT_STR, &namespace_},
        {0, "cluster", KOPT_STR, &cluster},
        {0, "user", KOPT_STR, &user},
        {0, NULL, 0, NULL},
    };
    int npos = kctl_opts(opts, argc - 1, argv + 1, NULL);
    if (npos < 0) return 1;
    char **pos = argv + 1;
    /* main took --namespace as the global flag; here it is set-context's */
    if (!namespace_ && k->ns_flag) namespace_ = k->ns_flag;
    char path[4096];
    cJSON *cfg = load_config(k, path, sizeof path);
    if (!cfg) return 1;
    const char *cur = kctl_str(cfg, "current-context");
    int rc = 0;
    if (!strcmp(sub, "view")) {
        if (!cJSON_GetObjectItemCaseSensitive(cfg, "preferences"))
            cJSON_AddObjectToObject(cfg, "preferences");
        if (minify) {
            const char *ctxname = k->context ? k->context : cur;
            const cJSON *ctx = named(cfg, "contexts", ctxname);
            if (!ctx) {
                cJSON_Delete(cfg);
                return kctl_fail("current-context must exist in order to minify");
            }
            char cl[256], us[256], cn[256];
            snprintf(cl, sizeof cl, "%s", kctl_str(ctx, "context.cluster") ?: "");
            snprintf(us, sizeof us, "%s", kctl_str(ctx, "context.user") ?: "");
            snprintf(cn, sizeof cn, "%s", ctxname);
            keep_named(cfg, "clusters", cl);
            keep_named(cfg, "users", us);
            keep_named(cfg, "contexts", cn);
            cJSON_ReplaceItemInObjectCaseSensitive(cfg, "current-context", cJSON_CreateString(cn));
        }
        if (!raw) redact(cfg);
        rc = kctl_print_object(cfg, output, stdout);
    } else if (!strcmp(sub, "current-context")) {
        if (!cur || !*cur)
            rc = kctl_fail("current-context is not set");
        else
            printf("%s\n", cur);
    } else if (!strcmp(sub, "use-context") || !strcmp(sub, "use")) {
        if (npos < 1) {
            rc = kctl_fail("Unexpected args: []");
        } else if (!named(cfg, "contexts", pos[0])) {
            rc = kctl_fail("no context exists with the name: \"%s\"", pos[0]);
        } else {
            cJSON_DeleteItemFromObjectCaseSensitive(cfg, "current-context");
            cJSON_AddStringToObject(cfg, "current-context", pos[0]);
            rc = save_config(path, cfg);
            if (!rc) printf("Switched to context \"%s\".\n", pos[0]);
        }
    } else if (!strcmp(sub, "get-contexts")) {
        kctl_tab_t t;
        kctl_tab_init(&t, 5);
        kctl_tab_rowf(&t, "CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE");
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(cfg, "contexts"))
        {
            const char *n = kctl_str(c, "name") ?: "";
            if (npos > 0 && strcmp(n, pos[0]) != 0) continue;
            kctl_tab_rowf(&t, cur && !strcmp(cur, n) ? "*" : "", n,
                          kctl_str(c, "context.cluster") ?: "", kctl_str(c, "context.user") ?: "",
                          kctl_str(c, "context.namespace") ?: "");
        }
        kctl_tab_print(&t, stdout);
        kctl_tab_free(&t);
    } else if (!strcmp(sub, "set-context")) {
        const char *name = current ? cur : npos > 0 ? pos[0] : NULL;
        if (!name || !*name) {
            rc = kctl_fail("you must specify a non-empty context name or --current");
        } else {
            cJSON *ctxs = cJSON_GetObjectItemCaseSensitive(cfg, "contexts");
            if (!cJSON_IsArray(ctxs)) {
                cJSON_DeleteItemFromObjectCaseSensitive(cfg, "contexts");
                ctxs = cJSON_AddArrayToObject(cfg, "contexts");
            }
            cJSON *ctx = (cJSON *)named(cfg, "contexts", name);
            bool created = !ctx;
            if (!ctx) {
                ctx = cJSON_CreateObject();
                cJSON_AddStringToObject(ctx, "name", name);
                cJSON_AddObjectToObject(ctx, "context");
                cJSON_AddItemToArray(ctxs, ctx);
            }
            cJSON *body = cJSON_GetObjectItemCaseSensitive(ctx, "context");
            const char *vals[][2] = {
                {"namespace", namespace_}, {"cluster", cluster}, {"user", user}};
            for (int i = 0; i < 3; i++)
                if (vals[i][1]) {
                    cJSON_DeleteItemFromObjectCaseSensitive(body, vals[i][0]);
                    cJSON_AddStringToObject(body, vals[i][0], vals[i][1]);
                }
            char nm[256];
            snprintf(nm, sizeof nm, "%s", name);
            rc = save_config(path, cfg);
            if (!rc) printf("Context \"%s\" %s.\n", nm, created ? "created" : "modified");
        }
    } else {
        rc = kctl_fail("unknown command \"%s\" for \"kctl config\"", sub);
    }
    cJSON_Delete(cfg);
    return rc;
}

/* ------------------------------------------------------------ completion */

static const char completion_bash[] =
    "# bash completion for kctl; load with: source <(kctl completion bash)\n"
    "_kctl_resources() {\n"
    "    kctl api-resources -o name 2>/dev/null | sed 's/\\..*//'\n"
    "}\n"
    "_kctl() {\n"
    "    local cur prev words cword verb i\n"
    "    cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
    "    prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
    "    local verbs=\"get describe create apply replace delete scale rollout logs cordon uncordon "
    "drain run expose label annotate patch version cluster-info config api-resources completion\"\n"
    "    verb=\"\"\n"
    "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
    "        case \"${COMP_WORDS[i]}\" in\n"
    "            "
    "-n|--namespace|--kubeconfig|--context|-s|--server|--token|-o|--output|-l|--selector|-f|--"
    "filename|-c|--container) ((i++)) ;;\n"
    "            -*) ;;\n"
    "            *) if [[ -z $verb ]]; then verb=\"${COMP_WORDS[i]}\"; fi ;;\n"
    "        esac\n"
    "    done\n"
    "    case \"$prev\" in\n"
    "        -n|--namespace)\n"
    "            COMPREPLY=($(compgen -W \"$(kctl get namespaces -o name 2>/dev/null | sed "
    "'s|.*/||')\" -- \"$cur\")); return ;;\n"
    "        -o|--output) COMPREPLY=($(compgen -W \"wide json yaml name\" -- \"$cur\")); return "
    ";;\n"
    "        -f|--filename|--kubeconfig) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
    "        --context) COMPREPLY=($(compgen -W \"$(kctl config get-contexts 2>/dev/null | awk "
    "'NR>1{print ($1==\"*\")?$2:$1}')\" -- \"$cur\")); return ;;\n"
    "    esac\n"
    "    if [[ -z $verb ]]; then\n"
    "        COMPREPLY=($(compgen -W \"$verbs\" -- \"$cur\")); return\n"
    "    fi\n"
    "    case \"$verb\" in\n"
    "        rollout) if [[ $prev == rollout ]]; then COMPREPLY=($(compgen -W \"status history "
    "undo restart pause resume\" -- \"$cur\")); return; fi ;;\n"
    "        config) COMPREPLY=($(compgen -W \"view use-context current-context get-contexts "
    "set-context\" -- \"$cur\")); return ;;\n"
    "        completion) COMPREPLY=($(compgen -W \"bash\" -- \"$cur\")); return ;;\n"
    "        cordon|uncordon|drain)\n"
    "            COMPREPLY=($(compgen -W \"$(kctl get nodes -o name 2>/dev/null | sed 's|.*/||')\" "
    "-- \"$cur\")); return ;;\n"
    "        logs)\n"
    "            COMPREPLY=($(compgen -W \"$(kctl get pods -o name 2>/dev/null | sed 's|.*/||')\" "
    "-- \"$cur\")); return ;;\n"
    "    esac\n"
    "    local args=() a\n"
    "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
    "        a=\"${COMP_WORDS[i]}\"\n"
    "        case \"$a\" in "
    "-n|--namespace|--kubeconfig|--context|-s|--server|--token|-o|--output|-l|--selector|-f|--"
    "filename) ((i++)); continue ;; -*) continue ;; esac\n"
    "        args+=(\"$a\")\n"
    "    done\n"
    "    if [[ ${#args[@]} -le 1 ]]; then\n"
    "        COMPREPLY=($(compgen -W \"$(_kctl_resources)\" -- \"$cur\"))\n"
    "    else\n"
    "        COMPREPLY=($(compgen -W \"$(kctl get \"${args[1]}\" -o name 2>/dev/null | sed "
    "'s|.*/||')\" -- \"$cur\"))\n"
    "    fi\n"
    "}\n"
    "complete -o default -F _kctl kctl\n";

int kctl_cmd_completion(kctl_t *k, int argc, char **argv)
{
    (void)k;
    if (argc < 2) return kctl_fail("Shell not specified.");
    if (strcmp(argv[1], "bash") != 0)
        return kctl_fail("Unsupported shell type \"%s\" (kctl completes bash).", argv[1]);
    fputs(completion_bash, stdout);
    return 0;
}
