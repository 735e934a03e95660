/*
 * http_client_resp.c - the client's side of a response: llhttp callbacks
 * (status, Content-Type, body or lines), the end of a response, and the
 * delivery to the caller's callback.
 *
 * Bodies are framed by Content-Length, chunks, or the end of the connection,
 * all handled by llhttp. 1xx interim responses are skipped. A stream's body
 * is cut into lines as it arrives, so a watch event reaches the caller as
 * soon as its newline does, whatever the chunking.
 */
#include "lib/http_client_int.h"

#include <string.h>
#include <strings.h>

static struct http_stream *req_of(llhttp_t *p)
{
    struct cconn *c = p->data;
    return c->req;
}

void creq_reset_response(struct http_stream *r)
{
    r->status = 0;
    r->field_is_ct = false;
    r->complete = false;
    r->keep_alive = false;
    r->err = 0;
    sbuf_reset(&r->field);
    sbuf_reset(&r->ctype);
    sbuf_reset(&r->in);
}

/* True when the caller ended r from inside a callback: stop parsing. */
static bool stopped(struct http_stream *r, llhttp_t *p)
{
    return r->finished || r->cancel_pending || req_of(p) != r;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct http_stream *r = req_of(p);
    if (!r) return HPE_USER;
    if (r->field.len + len > 4096) return 0; /* no header name we want is this long */
    sbuf_append(&r->field, at, len);
    return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
    struct http_stream *r = req_of(p);
    if (!r) return -1;
    r->field_is_ct = r->field.p && !strcasecmp(r->field.p, "content-type");
    if (r->field_is_ct) sbuf_reset(&r->ctype);
    sbuf_reset(&r->field);
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct http_stream *r = req_of(p);
    if (!r) return HPE_USER;
    if (r->field_is_ct && r->ctype.len + len <= 4096) sbuf_append(&r->ctype, at, len);
    return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    struct http_stream *r = req_of(p);
    if (!r) return -1;
    r->field_is_ct = false;
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    struct http_stream *r = req_of(p);
    if (!r) return -1;
    r->status = p->status_code;
    if (r->status < 200) return 0; /* interim: the real response follows */
    if (r->is_stream && !r->status_sent) {
        r->status_sent = true;
        if (r->scb.on_status) r->scb.on_status(r->status, r->ctype.p ? r->ctype.p : "", r->data);
        if (stopped(r, p)) return -1;
    }
    /* A HEAD response announces a length but carries no body. */
    return !strcmp(r->method, "HEAD") ? 1 : 0;
}

static void deliver_line(struct http_stream *r)
{
    if (r->in.len && r->in.p[r->in.len - 1] == '\r') r->in.p[--r->in.len] = '\0';
    if (r->scb.on_line) r->scb.on_line(r->in.p ? r->in.p : "", r->in.len, r->data);
    sbuf_reset(&r->in);
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct http_stream *r = req_of(p);
    if (!r) return HPE_USER;
    if (!r->is_stream) {
        if (r->in.len + len > CLIENT_MAX_BODY) {
            r->err = UV_ENOBUFS;
            return HPE_USER;
        }
        sbuf_append(&r->in, at, len);
        return 0;
    }
    const char *end = at + len;
    while (at < end) {
        const char *nl = memchr(at, '\n', (size_t)(end - at));
        size_t n = nl ? (size_t)(nl - at) : (size_t)(end - at);
        if (r->in.len + n > CLIENT_MAX_LINE) {
            r->err = UV_ENOBUFS;
            return HPE_USER;
        }
        sbuf_append(&r->in, at, n);
        if (!nl) break;
        deliver_line(r);
        if (stopped(r, p)) return HPE_USER;
        at = nl + 1;
    }
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    struct http_stream *r = req_of(p);
    if (!r) return -1;
    if (r->status < 200) {
        creq_reset_response(r);
        return 0;
    }
    r->complete = true;
    r->keep_alive = llhttp_should_keep_alive(p);
    /* Nothing may follow a response we did not ask for. */
    return HPE_PAUSED;
}

const llhttp_settings_t client_parser_settings = {
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* The response is whole: the connection goes back to the pool. */
static void complete_ok(struct http_stream *r)
{
    struct cconn *c = r->conn;
    if (!r->keep_alive) c->dead = true;
    r->conn = NULL;
    cconn_release(c);
    creq_finish(r, 0);
}

void creq_on_data(struct http_stream *r, const char *data, size_t n)
{
    struct cconn *c = r->conn;
    r->refs++; /* callbacks below may finish r */
    llhttp_errno_t e = llhttp_execute(&c->parser, data, n);
    if (r->finished || r->cancel_pending || r->conn != c) {
        creq_unref(r);
        return;
    }
    if (e == HPE_PAUSED) {
        if (llhttp_get_error_pos(&c->parser) != data + n) c->dead = true;
        complete_ok(r);
    } else if (e != HPE_OK) {
        c->dead = true;
        if (!r->err)
            log_debug("http", "%s: bad response: %s", r->cl->urls[r->url].base,
                      llhttp_get_error_reason(&c->parser));
        creq_finish(r, r->err ? r->err : UV_EPROTO);
    }
    creq_unref(r);
}

void creq_on_eof(struct http_stream *r, int err)
{
    struct cconn *c = r->conn;
    c->dead = true;
    r->refs++;
    if (err == UV_EOF) {
        /* A body without length ends here; llhttp completes it. */
        llhttp_finish(&c->parser);
        if (!r->finished && !r->cancel_pending && r->conn == c && r->complete) {
            complete_ok(r);
            creq_unref(r);
            return;
        }
        err = UV_ECONNRESET;
    }
    if (!r->finished && !r->cancel_pending) creq_finish(r, err);
    creq_unref(r);
}

void creq_deliver(struct http_stream *r, int err)
{
    if (r->is_stream) {
        /* A last line without its newline still counts on a clean end. */
        if (err == 0 && r->in.len) deliver_line(r);
        if (r->scb.on_end) r->scb.on_end(err, r->data);
        return;
    }
    if (!r->cb) return;
    http_response_t res = {
        .err = err,
        .status = err ? 0 : r->status,
        .content_type = err || !r->ctype.p ? "" : r->ctype.p,
        .body = !err && r->in.p ? r->in.p : "",
        .len = err ? 0 : r->in.len,
        .url = r->cl->urls[r->url].base,
        .detail = err && r->detail ? r->detail : "",
    };
    r->cb(&res, r->data);
}
