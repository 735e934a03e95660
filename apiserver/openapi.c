/*
 * openapi.c - /openapi/v2 and /openapi/v3: just enough OpenAPI for kubectl.
 *
 * Before `create -f` / `apply -f`, kubectl asks whether the server
 * validates fields itself: it reads /openapi/v3, then the document of the
 * object's group-version, and looks for the PATCH operation tagged with the
 * object's group-version-kind and a `fieldValidation` query parameter. With
 * it, kubectl skips client-side schema validation and sends
 * fieldValidation=Strict, which schema.c enforces. The documents below
 * therefore list every resource path with its operations, kinds and that
 * parameter, and the field schemas of schema.c (for `kubectl explain`).
 * The PATCH operations carry no request body: kubectl's apply
 * then computes strategic merge patches from its own built-in types (the
 * most faithful choice), falling back from v3 to v2, whose document is
 * served empty (an empty protobuf message, which kubectl accepts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apiserver/rest_int.h"

static cJSON *gvk(const char *group, const char *version, const char *kind)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "group", group);
    cJSON_AddStringToObject(o, "version", version);
    cJSON_AddStringToObject(o, "kind", kind);
    return o;
}

static cJSON *param(const char *name, const char *in)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "name", name);
    cJSON_AddStringToObject(p, "in", in);
    if (!strcmp(in, "path")) cJSON_AddTrueToObject(p, "required");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "schema"), "type", "string");
    return p;
}

static void op(cJSON *path, const char *method, const char *action, const char *group,
               const char *version, const char *kind, bool writes)
{
    cJSON *o = cJSON_AddObjectToObject(path, method);
    char id[160];
    snprintf(id, sizeof id, "%s%s", action, kind);
    cJSON_AddStringToObject(o, "operationId", id);
    cJSON *params = cJSON_AddArrayToObject(o, "parameters");
    if (writes) {
        cJSON_AddItemToArray(params, param("dryRun", "query"));
        cJSON_AddItemToArray(params, param("fieldManager", "query"));
        cJSON_AddItemToArray(params, param("fieldValidation", "query"));
    }
    cJSON *ok = cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "responses"), "200");
    cJSON_AddStringToObject(ok, "description", "OK");
    cJSON_AddStringToObject(o, "x-kubernetes-action", action);
    cJSON_AddItemToObject(o, "x-kubernetes-group-version-kind", gvk(group, version, kind));
}

static void add_paths(cJSON *paths, const api_resource_t *r)
{
    char base[160], coll[256], obj[300], sub[360];
    if (*r->group)
        snprintf(base, sizeof base, "/apis/%s/%s", r->group, r->version);
    else
        snprintf(base, sizeof base, "/api/%s", r->version);
    const char *nsp = r->namespaced ? "/namespaces/{namespace}" : "";
    snprintf(coll, sizeof coll, "%s%s/%s", base, nsp, r->resource);
    snprintf(obj, sizeof obj, "%s/{name}", coll);
    const char *g = r->group, *v = r->version, *k = r->kind;
    cJSON *pc = cJSON_AddObjectToObject(paths, coll);
    if (api_resource_allows(r, "list")) op(pc, "get", "list", g, v, k, false);
    if (api_resource_allows(r, "create")) op(pc, "post", "post", g, v, k, true);
    if (api_resource_allows(r, "deletecollection"))
        op(pc, "delete", "deletecollection", g, v, k, false);
    if (!r->stored) return;
    cJSON *po = cJSON_AddObjectToObject(paths, obj);
    op(po, "get", "get", g, v, k, false);
    op(po, "put", "put", g, v, k, true);
    op(po, "patch", "patch", g, v, k, true);
    op(po, "delete", "delete", g, v, k, false);
    static const char *const subs[] = {"status", "scale", "binding", "eviction", "log", NULL};
    for (int i = 0; subs[i]; i++) {
        const api_subresource_t *s = api_subresource_lookup(r, subs[i]);
        if (!s) continue;
        snprintf(sub, sizeof sub, "%s/%s", obj, s->name);
        cJSON *ps = cJSON_AddObjectToObject(paths, sub);
        const char *sg = s->group ? s->group : g, *sv = s->version ? s->version : v;
        const char *sk = s->kind ? s->kind : k;
        for (int j = 0; s->verbs[j]; j++) {
            const char *vb = s->verbs[j];
            if (!strcmp(vb, "get")) op(ps, "get", "get", sg, sv, sk, false);
            if (!strcmp(vb, "update")) op(ps, "put", "put", sg, sv, sk, true);
            if (!strcmp(vb, "patch")) op(ps, "patch", "patch", sg, sv, sk, true);
            if (!strcmp(vb, "create")) op(ps, "post", "post", sg, sv, sk, true);
        }
    }
}

/* The v3 document of one group-version (group "" is core). */
static char *gv_doc(const char *group, const char *version)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "openapi", "3.0.0");
    cJSON *info = cJSON_AddObjectToObject(d, "info");
    cJSON_AddStringToObject(info, "title", "Kubernetes");
    cJSON_AddStringToObject(info, "version", PICOKUBE_VERSION);
    cJSON *paths = cJSON_AddObjectToObject(d, "paths");
    bool any = false;
    for (size_t i = 0; i < api_resource_count(); i++) {
        const api_resource_t *r = api_resource_at(i);
        if (strcmp(r->group, group) || strcmp(r->version, version)) continue;
        add_paths(paths, r);
        any = true;
    }
    cJSON_AddItemToObject(cJSON_AddObjectToObject(d, "components"), "schemas",
                          schema_openapi(group, version));
    char *s = any ? cJSON_PrintUnformatted(d) : NULL;
    cJSON_Delete(d);
    return s;
}

static unsigned long long fnv64(const char *s)
{
    unsigned long long h = 14695981039346656037ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static char *root_doc(void)
{
    cJSON *d = cJSON_CreateObject();
    cJSON *paths = cJSON_AddObjectToObject(d, "paths");
    char key[128], url[256];
    for (size_t i = 0; i < api_resource_count(); i++) {
        const api_resource_t *r = api_resource_at(i);
        if (*r->group)
            snprintf(key, sizeof key, "apis/%s/%s", r->group, r->version);
        else
            snprintf(key, sizeof key, "api/%s", r->version);
        if (cJSON_GetObjectItemCaseSensitive(paths, key)) continue;
        char *doc = gv_doc(r->group, r->version);
        snprintf(url, sizeof url, "/openapi/v3/%s?hash=%016llX", key, doc ? fnv64(doc) : 0ull);
        free(doc);
        cJSON_AddStringToObject(cJSON_AddObjectToObject(paths, key), "serverRelativeURL", url);
    }
    char *s = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    return s;
}

static bool accepts_json(http_req_t *req)
{
    const char *acc = http_req_header(req, "accept");
    return !acc || !*acc || strstr(acc, "application/json") || strstr(acc, "*/*");
}

void rest_openapi(rq_t *q, const char *path)
{
    if (!strcmp(path, "/openapi/v2") || !strcmp(path, "/openapi/v2/")) {
        if (!accepts_json(q->req)) {
            /* An empty protobuf Document: "no schemas", parseable by kubectl. */
            rq_reply_raw(q, 200, "application/octet-stream", "", 0);
            return;
        }
        static const char v2[] = "{\"swagger\":\"2.0\",\"info\":{\"title\":\"Kubernetes\","
                                 "\"version\":\"" PICOKUBE_VERSION "\"},\"paths\":{},"
                                 "\"definitions\":{}}";
        rq_reply_raw(q, 200, "application/json", v2, sizeof v2 - 1);
        return;
    }
    char *doc = NULL;
    if (!strcmp(path, "/openapi/v3") || !strcmp(path, "/openapi/v3/")) {
        doc = root_doc();
    } else if (!strncmp(path, "/openapi/v3/api/", 16)) {
        doc = gv_doc("", path + 16);
    } else if (!strncmp(path, "/openapi/v3/apis/", 17)) {
        char group[96];
        const char *g = path + 17, *slash = strchr(g, '/');
        if (slash && (size_t)(slash - g) < sizeof group) {
            memcpy(group, g, (size_t)(slash - g));
            group[slash - g] = 0;
            doc = gv_doc(group, slash + 1);
        }
    }
    if (!doc) {
        rq_reply_status(q,
                        api_status_error(404, "NotFound",
                                         "the server could not find the requested resource", NULL));
        return;
    }
    http_req_add_header(q->req, "Cache-Control", "no-cache, private");
    rq_reply_raw(q, 200, "application/json", doc, strlen(doc));
    free(doc);
}
