/*
 * rest.c - the Kubernetes REST layer: /version for now; resources, verbs,
 * discovery and watches grow here (see the apiserver issue).
 */
#include <stdio.h>
#include <string.h>

#include "apiserver/apiserver_int.h"

void api_reply_status(http_req_t *req, int code, const char *reason, const char *message)
{
    char body[1024];
    int n = snprintf(body, sizeof(body),
                     "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                     "\"status\":\"Failure\",\"message\":\"%s\",\"reason\":\"%s\",\"code\":%d}",
                     message, reason, code);
    http_respond(req, code, "application/json", body, (size_t)n);
}

void api_rest_handle(apiserver_t *a, http_req_t *req, enum api_identity id)
{
    (void)a;
    (void)id;
    const char *path = http_req_path(req);
    if (!strcmp(path, "/version")) {
        const char *v = "{\"major\":\"1\",\"minor\":\"32\",\"gitVersion\":\"" PICOKUBE_VERSION
                        "\",\"platform\":\"linux\"}";
        http_respond(req, 200, "application/json", v, strlen(v));
        return;
    }
    api_reply_status(req, 404, "NotFound", "the server could not find the requested resource");
}
