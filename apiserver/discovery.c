/*
 * discovery.c - /version and the discovery documents (/api, /apis,
 * /apis/<group>, /api/v1, /apis/<group>/<version>). The documents come from
 * api/'s resource table; this file only serves them, as plain JSON even when
 * kubectl asks for aggregated discovery first (it then falls back to the
 * per-group-version lists, which carry the subresources it needs).
 */
#include <stdio.h>
#include <string.h>

#include "apiserver/rest_int.h"

#if defined(__x86_64__)
#define PK_ARCH "amd64"
#elif defined(__aarch64__)
#define PK_ARCH "arm64"
#elif defined(__arm__)
#define PK_ARCH "arm"
#else
#define PK_ARCH "unknown"
#endif

void rest_version(apiserver_t *a, http_req_t *req)
{
    (void)a;
    static const char v[] = "{\"major\":\"1\",\"minor\":\"32\",\"gitVersion\":\"" PICOKUBE_VERSION
                            "\",\"gitCommit\":\"\",\"gitTreeState\":\"clean\","
                            "\"buildDate\":\"1970-01-01T00:00:00Z\",\"goVersion\":\"none (C)\","
                            "\"compiler\":\"gcc\",\"platform\":\"linux/" PK_ARCH "\"}";
    http_respond(req, 200, "application/json", v, sizeof v - 1);
}

void rest_discovery(rq_t *q)
{
    cJSON *doc = NULL;
    char addr[128];
    switch (q->rt.kind) {
    case API_ROUTE_API:
        snprintf(addr, sizeof addr, "%s:%d",
                 q->a->advertise_ip[0] ? q->a->advertise_ip : "127.0.0.1", apiserver_port(q->a));
        doc = api_discovery_versions(addr);
        break;
    case API_ROUTE_APIS:
        doc = api_discovery_groups();
        break;
    case API_ROUTE_GROUP:
        doc = api_discovery_group(q->rt.group);
        break;
    default:
        doc = api_discovery_resources(q->rt.group, q->rt.version);
        break;
    }
    if (!doc) {
        rq_reply_status(q,
                        api_status_error(404, "NotFound",
                                         "the server could not find the requested resource", NULL));
        return;
    }
    rq_reply_json(q, 200, doc);
}
