/*
 * http_fetch.c - one blocking HTTP request on a private loop, for command
 * line tools (kctl) that have no loop of their own. Everything the caller
 * gets back lives in one allocation, owned through out->body. The client,
 * and so its TLS context, lives for the one request.
 */
#include "lib/http_client_int.h"

#include <stdlib.h>
#include <string.h>

struct fetch {
    bool done;
    http_response_t *out;
};

static void keep(http_response_t *out, int err, int status, const char *body, size_t len,
                 const char *ct, const char *url, const char *detail)
{
    size_t ctl = strlen(ct), ul = strlen(url), dl = strlen(detail);
    char *blk = xmalloc(len + ctl + ul + dl + 4);
    if (len) memcpy(blk, body, len);
    blk[len] = '\0';
    memcpy(blk + len + 1, ct, ctl + 1);
    memcpy(blk + len + 1 + ctl + 1, url, ul + 1);
    memcpy(blk + len + 1 + ctl + 1 + ul + 1, detail, dl + 1);
    out->err = err;
    out->status = status;
    out->body = blk;
    out->len = len;
    out->content_type = blk + len + 1;
    out->url = blk + len + 1 + ctl + 1;
    out->detail = blk + len + 1 + ctl + 1 + ul + 1;
}

static void fetch_cb(const http_response_t *res, void *data)
{
    struct fetch *f = data;
    f->done = true;
    keep(f->out, res->err, res->status, res->body, res->len, res->content_type, res->url,
         res->detail ? res->detail : "");
}

int http_fetch_tls(const char *urls, const char *bearer, const struct http_tls_client *tls,
                   const char *method, const char *path_query, const char *extra_headers,
                   const char *content_type, const char *body, size_t len, unsigned timeout_ms,
                   http_response_t *out)
{
    memset(out, 0, sizeof(*out));
    uv_loop_t loop;
    int rc = uv_loop_init(&loop);
    if (rc < 0) {
        keep(out, rc, 0, "", 0, "", urls ? urls : "", "");
        return rc;
    }
    struct fetch f = {.out = out};
    http_client_t *c = http_client_new_tls(&loop, urls, bearer, tls);
    if (!c) {
        rc = UV_EINVAL;
    } else {
        rc = http_client_request_ex(c, method, path_query, extra_headers, content_type, body, len,
                                    timeout_ms, fetch_cb, &f);
        if (rc == 0)
            while (!f.done && uv_run(&loop, UV_RUN_ONCE))
                ;
        http_client_free(c);
        if (rc == 0 && !f.done) rc = UV_EPROTO; /* the loop ran dry: cannot happen */
    }
    /* Let connections and timers close before the loop goes. */
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (!f.done) keep(out, rc, 0, "", 0, "", urls ? urls : "", "");
    return out->err;
}

int http_fetch_ex(const char *urls, const char *bearer, const char *method, const char *path_query,
                  const char *extra_headers, const char *content_type, const char *body, size_t len,
                  unsigned timeout_ms, http_response_t *out)
{
    return http_fetch_tls(urls, bearer, NULL, method, path_query, extra_headers, content_type, body,
                          len, timeout_ms, out);
}

int http_fetch(const char *urls, const char *bearer, const char *method, const char *path_query,
               const char *content_type, const char *body, size_t len, unsigned timeout_ms,
               http_response_t *out)
{
    return http_fetch_ex(urls, bearer, method, path_query, NULL, content_type, body, len,
                         timeout_ms, out);
}
