/*
 * watch_proxy.c - watches of the volatile tier (node and leader-election
 * Leases) on a follower. Those keys live only in the raft leader's memory,
 * so only the leader can watch them; a follower relays the request to the
 * leader's API with the client's own credentials and streams the answer
 * back line by line. A relayed request is marked so that two members that
 * disagree about who leads cannot bounce it between them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rest_int.h"

#define PROXIED_HEADER "x-picokube-proxied"

struct proxy {
    rq_t *q;
    http_client_t *client;
    http_stream_t *stream;
    int code;
    bool began;
    bool gone;
};

static void proxy_free(struct proxy *p)
{
    if (p->client) http_client_free(p->client);
    rq_finish(p->q, p->code);
    free(p);
}

static void on_status(int status, const char *ctype, void *data)
{
    struct proxy *p = data;
    if (p->gone) return;
    p->code = status;
    if (http_stream_begin(p->q->req, status, ctype && *ctype ? ctype : "application/json") == 0)
        p->began = true;
}

static void on_line(const char *line, size_t len, void *data)
{
    struct proxy *p = data;
    if (p->gone || !p->began) return;
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
    struct proxy *p = data;
    p->stream = NULL;
    if (p->began) {
        http_stream_end(p->q->req);
    } else if (!p->gone || err != UV_ECANCELED) {
        char msg[256];
        snprintf(msg, sizeof msg, "cannot relay this watch to the raft leader (%s); retry shortly",
                 uv_strerror(err ? err : UV_EPROTO));
        api_reply_status(p->q->req, 503, "ServiceUnavailable", msg);
        p->code = 503;
    } else {
        api_reply_status(p->q->req, 503, "ServiceUnavailable", "the client went away");
    }
    proxy_free(p);
}

static void on_client_gone(http_req_t *req, void *arg)
{
    struct proxy *p = arg;
    (void)req;
    if (p->gone) return;
    p->gone = true;
    if (p->stream) http_stream_cancel(p->stream);
}

void rest_watch_proxy(rq_t *q)
{
    struct store_status st;
    store_get_status(q->a->store, &st);
    if (!st.leader_api_url || http_req_header(q->req, PROXIED_HEADER)) {
        rq_reply_status(q, api_status_unavailable("watches of node and leader-election leases are "
                                                  "served by the raft leader, which is not "
                                                  "known right now; retry shortly"));
        return;
    }
    struct proxy *p = calloc(1, sizeof(*p));
    if (!p) {
        rq_reply_status(q, api_status_internal("out of memory"));
        return;
    }
    p->q = q;
    p->code = 200;
    p->client = http_client_new(q->a->loop, st.leader_api_url, NULL);
    if (!p->client) {
        free(p);
        rq_reply_status(q, api_status_internal("the leader's API URL is malformed"));
        return;
    }
    const char *auth = http_req_header(q->req, "authorization");
    const char *acc = http_req_header(q->req, "accept");
    char *hdr = NULL, *pq = NULL;
    size_t hl, pl;
    FILE *h = open_memstream(&hdr, &hl);
    FILE *u = open_memstream(&pq, &pl);
    if (h) {
        fprintf(h, PROXIED_HEADER ": 1\r\n");
        if (auth) fprintf(h, "Authorization: %s\r\n", auth);
        if (acc) fprintf(h, "Accept: %s\r\n", acc);
        fclose(h);
    }
    if (u) {
        const char *raw = http_req_raw_query(q->req);
        fprintf(u, "%s%s%s", http_req_path(q->req), *raw ? "?" : "", raw);
        fclose(u);
    }
    static const struct http_stream_callbacks cbs = {on_status, on_line, on_end};
    http_req_on_close(q->req, on_client_gone, p);
    p->stream = (hdr && pq) ? http_client_stream_ex(p->client, pq, hdr, &cbs, p) : NULL;
    free(hdr);
    free(pq);
    if (!p->stream) {
        api_reply_status(q->req, 503, "ServiceUnavailable", "cannot relay the watch to the leader");
        p->code = 503;
        proxy_free(p);
    }
}
