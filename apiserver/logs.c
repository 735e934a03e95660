/*
 * logs.c - pods/log: relayed from the agent of the pod's node, which serves
 * /containerLogs/<namespace>/<pod>/<container> on port 10250 of its
 * InternalIP (as the kubelet does), authenticated with the cluster token.
 * The text is streamed through line by line, so `kubectl logs -f` follows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rest_int.h"

#define AGENT_PORT 10250

struct logp {
    rq_t *q;
    char container[254];
    char node[254];
    char url[128];
    http_client_t *client;
    http_stream_t *stream;
    FILE *err; /* the agent's error body, when it did not answer 200 */
    char *err_buf;
    size_t err_len;
    int status;
    bool began;
    bool gone;
};

static void logp_end(struct logp *p, cJSON *st)
{
    rq_t *q = p->q;
    if (p->err) fclose(p->err);
    free(p->err_buf);
    if (p->client) http_client_free(p->client);
    free(p);
    if (st) {
        rq_reply_status(q, st);
        return;
    }
    http_stream_end(q->req);
    rq_finish(q, 200);
}

static void on_status(int status, const char *ctype, void *data)
{
    struct logp *p = data;
    (void)ctype;
    p->status = status;
    if (status == 200 && !p->gone) {
        if (http_stream_begin(p->q->req, 200, "text/plain") == 0) p->began = true;
    } else {
        p->err = open_memstream(&p->err_buf, &p->err_len);
    }
}

static void on_line(const char *line, size_t len, void *data)
{
    struct logp *p = data;
    if (p->err) {
        if (p->err_len < 4096) fprintf(p->err, "%.*s\n", (int)len, line);
        return;
    }
    if (!p->began || p->gone) return;
    char *buf = malloc(len + 1);
    if (!buf) return;
    memcpy(buf, line, len);
    buf[len] = '\n';
    if (http_stream_write(p->q->req, buf, len + 1) != 0 && p->stream) {
        p->gone = true;
        http_stream_cancel(p->stream);
    }
    free(buf);
}

static void on_end(int err, void *data)
{
    struct logp *p = data;
    char msg[1024];
    p->stream = NULL;
    if (p->began) {
        logp_end(p, NULL);
        return;
    }
    if (p->err) {
        fflush(p->err);
        /* The agent answers with a Status or text: pass its words on. */
        cJSON *st = p->err_buf ? cJSON_Parse(p->err_buf) : NULL;
        if (!st || !cJSON_GetObjectItemCaseSensitive(st, "code")) {
            cJSON_Delete(st);
            snprintf(msg, sizeof msg, "the agent of node %s answered %d: %.800s", p->node,
                     p->status, p->err_buf ? p->err_buf : "");
            st = api_status_error(p->status >= 400 ? p->status : 500,
                                  p->status == 404 ? "NotFound" : "InternalError", msg, NULL);
        }
        logp_end(p, st);
        return;
    }
    snprintf(msg, sizeof msg,
             "cannot get logs from the agent of node %s at %s: %s (is picokube agent running "
             "there?)",
             p->node, p->url, uv_strerror(err ? err : UV_EPROTO));
    logp_end(p, api_status_unavailable(msg));
}

static void on_client_gone(http_req_t *req, void *arg)
{
    struct logp *p = arg;
    (void)req;
    p->gone = true;
    if (p->stream) http_stream_cancel(p->stream);
}

static void append_param(FILE *f, rq_t *q, const char *name)
{
    const char *v = http_req_query(q->req, name);
    if (v && *v) fprintf(f, "&%s=%s", name, v);
}

static void start_stream(struct logp *p)
{
    rq_t *q = p->q;
    p->client = http_client_new(q->a->loop, p->url, q->a->cluster_token);
    char *pq = NULL;
    size_t pl;
    FILE *f = open_memstream(&pq, &pl);
    if (!p->client || !f) {
        if (f) fclose(f);
        free(pq);
        logp_end(p, api_status_internal("cannot reach the node's agent"));
        return;
    }
    fprintf(f, "/containerLogs/%s/%s/%s?x=1", q->rt.ns, q->rt.name, p->container);
    static const char *const params[] = {"follow",     "tailLines", "sinceSeconds", "sinceTime",
                                         "timestamps", "previous",  "limitBytes",   NULL};
    for (int i = 0; params[i]; i++)
        append_param(f, q, params[i]);
    fclose(f);
    static const struct http_stream_callbacks cbs = {on_status, on_line, on_end};
    http_req_on_close(q->req, on_client_gone, p);
    p->stream = http_client_stream(p->client, pq, &cbs, p);
    free(pq);
    if (!p->stream) logp_end(p, api_status_internal("cannot reach the node's agent"));
}

static void node_got(const store_result_t *res, void *data)
{
    struct logp *p = data;
    char msg[512];
    if (res->err != STORE_OK) {
        snprintf(msg, sizeof msg, "the pod's node %s cannot be read: %s", p->node,
                 store_strerror(res->err));
        logp_end(p, api_status_unavailable(msg));
        return;
    }
    cJSON *node = obj_parse_kv(res->kv);
    const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(node, "status"), "addresses");
    const cJSON *a, *ip = NULL;
    cJSON_ArrayForEach(a, addrs)
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "type");
        if (cJSON_IsString(t) && !strcmp(t->valuestring, "InternalIP"))
            ip = cJSON_GetObjectItemCaseSensitive(a, "address");
    }
    if (!cJSON_IsString(ip)) {
        cJSON_Delete(node);
        snprintf(msg, sizeof msg, "node %s has no InternalIP address: its agent is not reachable",
                 p->node);
        logp_end(p, api_status_unavailable(msg));
        return;
    }
    snprintf(p->url, sizeof p->url, "http://%.64s:%d", ip->valuestring, AGENT_PORT);
    cJSON_Delete(node);
    start_stream(p);
}

static void pod_got(const store_result_t *res, void *data)
{
    struct logp *p = data;
    rq_t *q = p->q;
    char msg[1024];
    if (res->err != STORE_OK) {
        logp_end(p, rest_store_err_status(q->rt.res, res->err, q->rt.name));
        return;
    }
    cJSON *pod = obj_parse_kv(res->kv);
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(spec, "containers"), *c;
    const char *want = http_req_query(q->req, "container");
    bool found = false;
    char *list = NULL;
    size_t ll = 0;
    FILE *names = open_memstream(&list, &ll);
    int idx = 0;
    cJSON_ArrayForEach(c, cs)
    {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
        const char *n = cJSON_IsString(nm) ? nm->valuestring : "";
        if (names) fprintf(names, "%s%s", idx++ ? " " : "", n);
        if (want && *want && !strcmp(want, n)) found = true;
    }
    if (names) fclose(names);
    int nc = cJSON_GetArraySize(cs);
    cJSON *st = NULL;
    if (want && *want && !found) {
        snprintf(msg, sizeof msg, "container %.253s is not valid for pod %s", want, q->rt.name);
        st = api_status_bad_request(msg);
    } else if ((!want || !*want) && nc != 1) {
        snprintf(msg, sizeof msg,
                 "a container name must be specified for pod %s, choose one of: [%.800s]",
                 q->rt.name, list ? list : "");
        st = api_status_bad_request(msg);
    } else {
        const cJSON *c0 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cs, 0), "name");
        const char *cn = want && *want ? want : cJSON_IsString(c0) ? c0->valuestring : "";
        snprintf(p->container, sizeof p->container, "%s", cn);
        const cJSON *node = cJSON_GetObjectItemCaseSensitive(spec, "nodeName");
        if (!cJSON_IsString(node) || !*node->valuestring) {
            snprintf(msg, sizeof msg,
                     "container \"%s\" in pod \"%s\" is waiting to start: the "
                     "pod is not scheduled to a node yet",
                     cn, q->rt.name);
            st = api_status_bad_request(msg);
        } else {
            snprintf(p->node, sizeof p->node, "%s", node->valuestring);
        }
    }
    free(list);
    cJSON_Delete(pod);
    if (st) {
        logp_end(p, st);
        return;
    }
    char key[512];
    api_storage_key(api_resource_lookup("", "v1", "nodes"), NULL, p->node, key, sizeof key);
    int rv = store_get(q->a->store, key, node_got, p);
    if (rv != 0) logp_end(p, rest_store_err_status(NULL, rv, NULL));
}

void rest_log(rq_t *q)
{
    struct logp *p = calloc(1, sizeof(*p));
    if (!p) {
        rq_reply_status(q, api_status_internal("out of memory"));
        return;
    }
    p->q = q;
    char key[512];
    rq_key(q, q->rt.name, key, sizeof key);
    int rv = store_get(q->a->store, key, pod_got, p);
    if (rv != 0) logp_end(p, rest_store_err_status(q->rt.res, rv, q->rt.name));
}
