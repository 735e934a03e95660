/*
 * rest.c - the Kubernetes REST layer's front: turns a request into an rq_t
 * (route, verb, identity, format), refuses what cannot be served (404, 405,
 * 403, 406, bad query parameters) and hands the rest to the handler of the
 * verb. Everything the handlers need in common (keys, namespaces) is here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rest_int.h"

void api_reply_status(http_req_t *req, int code, const char *reason, const char *message)
{
    cJSON *st = api_status_error(code, reason, message, NULL);
    char *s = st ? cJSON_PrintUnformatted(st) : NULL;
    cJSON_Delete(st);
    if (!s) {
        http_respond(req, 500, "text/plain", "out of memory", 13);
        return;
    }
    http_respond(req, code, "application/json", s, strlen(s));
    free(s);
}

const char *rq_ns(const rq_t *q)
{
    return q->rt.ns;
}

int rq_key(const rq_t *q, const char *name, char *buf, size_t len)
{
    return api_storage_key(q->rt.res, q->rt.ns, name, buf, len);
}

bool rq_query_bool(http_req_t *req, const char *name)
{
    /* Go's strconv.ParseBool, which Kubernetes uses for query booleans. */
    static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True", NULL};
    const char *v = http_req_query(req, name);
    for (int i = 0; v && yes[i]; i++)
        if (!strcmp(v, yes[i])) return true;
    return false;
}

/* The checks that need no store access, common to every resource verb. */
static cJSON *check_query(rq_t *q)
{
    const char *dr = http_req_query(q->req, "dryRun");
    if (dr && *dr) {
        if (strcmp(dr, "All")) {
            char msg[256];
            snprintf(msg, sizeof msg, "Invalid dry run option: %.64s (supported: All)", dr);
            return api_status_bad_request(msg);
        }
        q->dry_run = true;
    }
    const char *inc = http_req_query(q->req, "includeObject");
    if (api_table_include_parse(inc, &q->include) != 0) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "includeObject: Unsupported value: \"%.64s\": supported values: \"None\", "
                 "\"Metadata\", \"Object\"",
                 inc);
        return api_status_bad_request(msg);
    }
    enum field_validation fv;
    if (schema_fv_parse(http_req_query(q->req, "fieldValidation"), &fv) != 0)
        return api_status_bad_request("fieldValidation must be one of Ignore, Warn or Strict");
    return NULL;
}

static void dispatch_subresource(rq_t *q)
{
    const char *sub = q->rt.sub->name;
    if (!strcmp(sub, "status")) {
        if (!strcmp(q->verb, "get"))
            rest_get(q);
        else if (!strcmp(q->verb, "update"))
            rest_update(q, true);
        else
            rest_patch(q, true);
        return;
    }
    rest_subresource(q);
}

static void dispatch(rq_t *q)
{
    const char *v = q->verb;
    switch (q->rt.kind) {
    case API_ROUTE_API:
    case API_ROUTE_APIS:
    case API_ROUTE_GROUP:
    case API_ROUTE_RESOURCES:
        rest_discovery(q);
        return;
    case API_ROUTE_COLLECTION:
        if (!strcmp(v, "list"))
            rest_list(q);
        else if (!strcmp(v, "watch"))
            rest_watch(q);
        else if (!strcmp(v, "create"))
            q->rt.res->stored ? rest_create(q) : rest_binding_create(q);
        else
            rest_delete_collection(q);
        return;
    case API_ROUTE_OBJECT:
        if (!strcmp(v, "get"))
            rest_get(q);
        else if (!strcmp(v, "watch"))
            rest_watch(q);
        else if (!strcmp(v, "update"))
            rest_update(q, false);
        else if (!strcmp(v, "patch"))
            rest_patch(q, false);
        else
            rest_delete(q);
        return;
    case API_ROUTE_SUBRESOURCE:
        dispatch_subresource(q);
        return;
    default:
        rq_reply_status(q,
                        api_status_error(404, "NotFound",
                                         "the server could not find the requested resource", NULL));
    }
}

void api_rest_handle(apiserver_t *a, http_req_t *req, enum api_identity id)
{
    const char *path = http_req_path(req);
    if (!strcmp(path, "/version") || !strcmp(path, "/version/")) {
        rest_version(a, req);
        return;
    }
    rq_t *q = calloc(1, sizeof(*q));
    if (!q) {
        api_reply_status(req, 500, "InternalError", "out of memory");
        return;
    }
    q->a = a;
    q->req = req;
    q->id = id;
    q->start_ms = time_mono_ms();
    if (!strncmp(path, "/openapi/", 9)) {
        q->verb = "get";
        snprintf(q->res_label, sizeof q->res_label, "openapi");
        rest_openapi(q, path);
        return;
    }
    const char *method = http_req_method(req);
    if (api_route_parse(path, &q->rt) == API_ROUTE_NOT_FOUND) {
        q->verb = !strcmp(method, "GET") ? "get" : method;
        rq_reply_status(q,
                        api_status_error(404, "NotFound",
                                         "the server could not find the requested resource", NULL));
        return;
    }
    const api_resource_t *r = q->rt.res;
    if (r)
        snprintf(q->res_label, sizeof q->res_label, "%s%s%s", r->resource, q->rt.sub ? "/" : "",
                 q->rt.sub ? q->rt.sub->name : "");
    q->verb = api_route_verb(&q->rt, method, rq_query_bool(req, "watch"));
    bool resource_route = q->rt.kind == API_ROUTE_COLLECTION || q->rt.kind == API_ROUTE_OBJECT;
    if (!q->verb || (resource_route && !api_resource_allows(r, q->verb))) {
        const char *verb = q->verb ? q->verb : method;
        q->verb = verb;
        rq_reply_status(
            q, api_status_method_not_allowed(r ? r->group : "", r ? r->resource : path, verb));
        return;
    }
    cJSON *st = rest_authorize(q);
    if (!st) st = check_query(q);
    if (st) {
        rq_reply_status(q, st);
        return;
    }
    bool table_ok =
        (resource_route || (q->rt.sub && !strcmp(q->rt.sub->name, "status"))) &&
        (!strcmp(q->verb, "get") || !strcmp(q->verb, "list") || !strcmp(q->verb, "watch"));
    bool text = q->rt.sub && !strcmp(q->rt.sub->name, "log");
    if (!text && rq_negotiate(q, table_ok) != 0) {
        rq_reply_status(q, api_status_error(406, "NotAcceptable",
                                            "only the following media types are accepted: "
                                            "application/json, application/json;as=Table;v=v1;"
                                            "g=meta.k8s.io",
                                            NULL));
        return;
    }
    dispatch(q);
}
