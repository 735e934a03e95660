/*
 * negotiate.c - how the REST layer answers: content negotiation on the
 * Accept header, the reply functions every handler ends with, the request
 * metrics they record, and the mapping of store errors to Kubernetes
 * Status objects.
 *
 * picokube speaks JSON only. Kubernetes clients list several media types
 * (kubectl: protobuf then JSON; Tables then JSON), so JSON is chosen whenever
 * any entry allows it; a Table only when asked for with meta.k8s.io v1 or
 * v1beta1 and the verb produces objects (get, list, watch).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apiserver/rest_int.h"

/* ---------------------------------------------------------------- Accept */

/* The value of parameter `name` in one media range's parameters. */
static bool param_is(const char *params, size_t n, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    const char *p = params, *end = params + n;
    while (p < end) {
        while (p < end && (*p == ';' || *p == ' '))
            p++;
        const char *q = p;
        while (q < end && *q != ';')
            q++;
        if ((size_t)(q - p) == nl + 1 + vl && !strncasecmp(p, name, nl) && p[nl] == '=' &&
            !strncmp(p + nl + 1, value, vl))
            return true;
        p = q;
    }
    return false;
}

static bool has_param(const char *params, size_t n, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = params; p + nl < params + n; p++)
        if ((p == params || p[-1] == ';' || p[-1] == ' ') && !strncasecmp(p, name, nl) &&
            p[nl] == '=')
            return true;
    return false;
}

int rq_negotiate(rq_t *q, bool table_ok)
{
    const char *acc = http_req_header(q->req, "accept");
    q->fmt = RQ_FMT_JSON;
    if (!acc || !*acc) return 0;
    const char *p = acc;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p) break;
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *semi = memchr(p, ';', n);
        size_t tl = semi ? (size_t)(semi - p) : n;
        while (tl > 0 && p[tl - 1] == ' ')
            tl--;
        const char *params = semi ? semi : p + n;
        size_t pl = (size_t)(p + n - params);
        bool json = (tl == 16 && !strncasecmp(p, "application/json", 16)) ||
                    (tl == 13 && !strncasecmp(p, "application/*", 13)) ||
                    (tl == 3 && !strncmp(p, "*/*", 3));
        if (json) {
            if (param_is(params, pl, "as", "Table")) {
                if (table_ok && param_is(params, pl, "g", "meta.k8s.io") &&
                    (param_is(params, pl, "v", "v1") || param_is(params, pl, "v", "v1beta1"))) {
                    q->fmt = RQ_FMT_TABLE;
                    return 0;
                }
            } else if (!has_param(params, pl, "as")) {
                q->fmt = RQ_FMT_JSON;
                return 0;
            }
        }
        p += n;
    }
    return -1;
}

/* --------------------------------------------------------------- metrics */

static const char *metric_verb(const char *verb)
{
    if (!verb) return "";
    if (!strcmp(verb, "get")) return "GET";
    if (!strcmp(verb, "list")) return "LIST";
    if (!strcmp(verb, "watch")) return "WATCH";
    if (!strcmp(verb, "create")) return "POST";
    if (!strcmp(verb, "update")) return "PUT";
    if (!strcmp(verb, "patch")) return "PATCH";
    if (!strcmp(verb, "delete") || !strcmp(verb, "deletecollection")) return "DELETE";
    return verb;
}

static void record(rq_t *q, int code)
{
    char labels[256];
    const char *verb = metric_verb(q->verb);
    snprintf(labels, sizeof labels, "verb=\"%s\",resource=\"%s\",code=\"%d\"", verb, q->res_label,
             code);
    metrics_counter_add(metrics_counter("picokube_apiserver_requests_total",
                                        "API requests by verb, resource and HTTP code.", labels),
                        1);
    snprintf(labels, sizeof labels, "verb=\"%s\",resource=\"%s\"", verb, q->res_label);
    metrics_histogram_t *h = metrics_histogram(
        "picokube_apiserver_request_duration_seconds",
        "API request latency by verb and resource (watches: their lifetime).", labels, NULL, 0);
    metrics_histogram_observe(h, (double)(time_mono_ms() - q->start_ms) / 1000.0);
}

void rq_free(rq_t *q)
{
    free(q);
}

void rq_finish(rq_t *q, int code)
{
    record(q, code);
    rq_free(q);
}

/* ---------------------------------------------------------------- replies */

void rq_reply_raw(rq_t *q, int code, const char *ctype, const char *body, size_t len)
{
    http_respond(q->req, code, ctype, body, len);
    rq_finish(q, code);
}

void rq_reply_json(rq_t *q, int code, cJSON *doc)
{
    char *s = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!s) {
        static const char oom[] =
            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
            "\"message\":\"out of memory\",\"reason\":\"InternalError\",\"code\":500}";
        rq_reply_raw(q, 500, "application/json", oom, sizeof oom - 1);
        return;
    }
    rq_reply_raw(q, code, "application/json", s, strlen(s));
    free(s);
}

void rq_reply_status(rq_t *q, cJSON *st)
{
    int code = 500;
    const cJSON *c = st ? cJSON_GetObjectItemCaseSensitive(st, "code") : NULL;
    if (cJSON_IsNumber(c)) code = c->valueint;
    rq_reply_json(q, code, st);
}

cJSON *rest_store_err_status(const api_resource_t *r, int err, const char *name)
{
    const char *group = r ? r->group : "";
    const char *res = r ? r->resource : "";
    char msg[512];
    switch (err) {
    case STORE_ENOENT:
        return api_status_not_found(group, res, name ? name : "");
    case STORE_EEXIST:
        return api_status_already_exists(group, res, name ? name : "");
    case STORE_ECONFLICT:
        return api_status_conflict(group, res, name ? name : "", NULL);
    case STORE_EUNAVAILABLE:
    case STORE_ESHUTDOWN:
        snprintf(msg, sizeof msg,
                 "the cluster store is unavailable: %s (is a majority of masters up?)",
                 store_strerror(err));
        return api_status_unavailable(msg);
    case STORE_ETIMEDOUT:
        snprintf(msg, sizeof msg,
                 "the cluster store did not answer in time: %s (is a majority of masters up?)",
                 store_strerror(err));
        return api_status_timeout(msg, 1);
    case STORE_ECOMPACTED:
        return api_status_expired(
            "The resourceVersion for the provided list is too old; start a new list");
    case STORE_EFUTURE:
        return api_status_timeout("Too large resource version", 1);
    case STORE_EINVAL:
        return api_status_too_large("the object is too large to store (limit 3 MiB)");
    default:
        snprintf(msg, sizeof msg, "%s", store_strerror(err));
        return api_status_internal(msg);
    }
}

void rq_reply_store_err(rq_t *q, int err, const char *name)
{
    rq_reply_status(q, rest_store_err_status(q->rt.res, err, name));
}
