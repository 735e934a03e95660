/*
 * authz.c - what each identity may do (ARCHITECTURE.md, "Identities").
 *
 * The admin may do everything. The node identity (the cluster join token,
 * shared by every agent) gets what an agent and its proxy need: read the
 * objects that describe the cluster's network and the pods with what they
 * mount, write its Node, its Lease, pod status and Events, and delete pods
 * to confirm a graceful deletion. Since all nodes share one token, "its own"
 * cannot be told apart here; per-node credentials would narrow these rules.
 * Anything else is a 403 with Kubernetes' wording.
 */
#include <stdio.h>
#include <string.h>

#include "apiserver/rest_int.h"

#define NODE_USER "system:node"

struct rule {
    const char *resource; /* "pods", "pods/status" */
    const char *verbs;    /* space-separated */
};

static const struct rule node_rules[] = {
    {"nodes", "get list watch create update patch"},
    {"nodes/status", "get update patch"},
    {"services", "get list watch"},
    {"endpoints", "get list watch"},
    {"endpointslices", "get list watch"},
    {"pods", "get list watch delete"},
    {"pods/status", "get update patch"},
    {"secrets", "get list watch"},
    {"configmaps", "get list watch"},
    {"leases", "get list watch create update patch"},
    {"events", "create update patch"},
    {NULL, NULL},
};

static bool verb_in(const char *verbs, const char *verb)
{
    size_t n = strlen(verb);
    for (const char *p = verbs; (p = strstr(p, verb)); p += n)
        if ((p == verbs || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0)) return true;
    return false;
}

cJSON *rest_authorize(const rq_t *q)
{
    if (q->id == API_ID_ADMIN) return NULL;
    if (!q->rt.res) return NULL; /* discovery */
    const char *label = q->res_label;
    if (q->id == API_ID_NODE) {
        for (const struct rule *r = node_rules; r->resource; r++)
            if (!strcmp(r->resource, label) && verb_in(r->verbs, q->verb)) return NULL;
    }
    char why[512], scope[160];
    if (q->rt.ns[0])
        snprintf(scope, sizeof scope, "in the namespace \"%s\"", q->rt.ns);
    else
        snprintf(scope, sizeof scope, "at the cluster scope");
    snprintf(why, sizeof why, "User \"%s\" cannot %s resource \"%s\" in API group \"%s\" %s",
             q->id == API_ID_NODE ? NODE_USER : "system:anonymous", q->verb, label,
             q->rt.res->group, scope);
    return api_status_forbidden(q->rt.res->group, q->rt.res->resource,
                                q->rt.name[0] ? q->rt.name : NULL, why);
}
