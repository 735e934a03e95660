/*
 * http_req.c - the server's request object: target decoding, accessors,
 * response headers, whole responses and chunked streams. Connection handling
 * is in http_server.c.
 *
 * Framing rule: every response carries Content-Length or chunked encoding
 * (HTTP/1.0 streams, which cannot be chunked, end by closing), so a
 * keep-alive client always knows where a response ends.
 */
#include "lib/http_server_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

http_req_t *srv_req_new(struct srv_conn *c)
{
    http_req_t *r = xcalloc(1, sizeof(*r));
    r->conn = c;
    r->srv = c->srv;
    r->method = "GET";
    return r;
}

void srv_req_free(http_req_t *r)
{
    if (!r) return;
    if (r->kick_queued) {
        for (http_req_t **p = &r->srv->kick_reqs; *p; p = &(*p)->kick_next) {
            if (*p == r) {
                *p = r->kick_next;
                break;
            }
        }
    }
    sbuf_free(&r->url);
    sbuf_free(&r->hbuf);
    sbuf_free(&r->body);
    sbuf_free(&r->pbuf);
    sbuf_free(&r->resp_hdrs);
    free(r->hoff);
    free(r->path);
    free(r->query);
    free(r->params);
    free(r);
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes [s, s+n) into b. In a path a bad escape or a NUL is an
 * error; in a query '+' is a space and bad escapes are kept as they are, as
 * browsers and Go's url.ParseQuery-tolerant clients send them. */
static int decode(struct sbuf *b, const char *s, size_t n, bool query)
{
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%') {
            int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                if (!query) return -1;
                sbuf_putc(b, ch);
                continue;
            }
            char v = (char)(hi * 16 + lo);
            if (v == '\0' && !query) return -1;
            sbuf_putc(b, v);
            i += 2;
        } else if (ch == '+' && query) {
            sbuf_putc(b, ' ');
        } else {
            sbuf_putc(b, ch);
        }
    }
    return 0;
}

static void parse_params(http_req_t *r)
{
    /* Offsets first: pbuf moves while it grows. */
    size_t n = 0, cap = 8;
    size_t *offs = xmalloc(cap * sizeof(size_t));
    const char *q = r->query;
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len > 0) {
            const char *eq = memchr(q, '=', len);
            size_t klen = eq ? (size_t)(eq - q) : len;
            if (n + 2 > cap) {
                cap *= 2;
                offs = xrealloc(offs, cap * sizeof(size_t));
            }
            offs[n++] = r->pbuf.len;
            decode(&r->pbuf, q, klen, true);
            sbuf_putc(&r->pbuf, '\0');
            offs[n++] = r->pbuf.len;
            if (eq) decode(&r->pbuf, eq + 1, len - klen - 1, true);
            sbuf_putc(&r->pbuf, '\0');
        }
        if (!amp) break;
        q = amp + 1;
    }
    r->params = xmalloc((n ? n : 1) * sizeof(char *));
    for (size_t i = 0; i < n; i++)
        r->params[i] = r->pbuf.p + offs[i];
    r->n_params = n / 2;
    free(offs);
}

int srv_req_parse_target(http_req_t *r)
{
    const char *u = r->url.p ? r->url.p : "";
    /* Absolute form ("GET http://host/path"), as proxies send it. */
    if (!strncasecmp(u, "http://", 7) || !strncasecmp(u, "https://", 8)) {
        const char *rest = strchr(u, ':') + 3;
        const char *slash = rest + strcspn(rest, "/?#");
        u = slash;
    }
    size_t plen = strcspn(u, "?#");
    struct sbuf path = {0};
    if (plen == 0) {
        sbuf_putc(&path, '/');
    } else if (decode(&path, u, plen, false) < 0) {
        sbuf_free(&path);
        return -1;
    }
    r->path = sbuf_take(&path);
    if (u[plen] == '?') {
        const char *q = u + plen + 1;
        r->query = xstrndup(q, strcspn(q, "#"));
    } else {
        r->query = xstrdup("");
    }
    parse_params(r);
    return 0;
}

/* ----------------------------------------------------------- accessors */

const char *http_req_method(http_req_t *req)
{
    return req->method;
}

const char *http_req_path(http_req_t *req)
{
    return req->path ? req->path : "/";
}

const char *http_req_raw_query(http_req_t *req)
{
    return req->query ? req->query : "";
}

const char *http_req_query(http_req_t *req, const char *name)
{
    for (size_t i = 0; i < req->n_params; i++)
        if (!strcmp(req->params[2 * i], name)) return req->params[2 * i + 1];
    return NULL;
}

const char *http_req_header(http_req_t *req, const char *name)
{
    for (size_t i = 0; i + 1 < req->n_hoff; i += 2)
        if (!strcasecmp(req->hbuf.p + req->hoff[i], name)) return req->hbuf.p + req->hoff[i + 1];
    return NULL;
}

const char *http_req_body(http_req_t *req, size_t *len)
{
    if (len) *len = req->body.len;
    return req->body.p ? req->body.p : "";
}

const char *http_req_peer(http_req_t *req)
{
    return req->conn->peer;
}

bool http_req_tls(http_req_t *req)
{
    return req->conn->tls;
}

const char *http_req_peer_cn(http_req_t *req)
{
    return req->conn->peer_cn;
}

const char *http_req_peer_orgs(http_req_t *req)
{
    return req->conn->peer_cn ? req->conn->peer_orgs : NULL;
}

void http_req_on_close(http_req_t *req, void (*cb)(http_req_t *req, void *arg), void *arg)
{
    req->on_close = cb;
    req->on_close_arg = arg;
    /* Gone (or stopping) before the handler asked: tell it anyway, soon. */
    if (cb && (req->gone || req->srv->stopping) && !req->close_fired) srv_req_queue_close(req);
}

bool http_req_client_gone(http_req_t *req)
{
    return req->gone;
}

/* Header names and values come from handlers; CR or LF in them would let a
 * value smuggle extra headers, so they are replaced. */
static void put_clean(struct sbuf *b, const char *s)
{
    for (; *s; s++)
        sbuf_putc(b, (*s == '\r' || *s == '\n') ? ' ' : *s);
}

void http_req_add_header(http_req_t *req, const char *name, const char *value)
{
    put_clean(&req->resp_hdrs, name);
    sbuf_puts(&req->resp_hdrs, ": ");
    put_clean(&req->resp_hdrs, value);
    sbuf_puts(&req->resp_hdrs, "\r\n");
}

/* ----------------------------------------------------------- responses */

const char *http_status_text(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Request Entity Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Entity";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        break;
    }
    if (status >= 200 && status < 300) return "OK";
    if (status >= 300 && status < 400) return "Redirect";
    if (status >= 400 && status < 500) return "Client Error";
    return "Server Error";
}

void http_put_date(struct sbuf *b)
{
    /* Formatting a date per response is measurable on a Pi: once a second. */
    static _Thread_local time_t cached_at;
    static _Thread_local char cached[40];
    time_t now = time(NULL);
    if (now != cached_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(cached, sizeof(cached), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached_at = now;
    }
    sbuf_printf(b, "Date: %s\r\n", cached);
}

static void put_head(struct sbuf *b, http_req_t *r, int status, const char *content_type)
{
    if (status < 200 || status > 999) status = 500; /* 1xx cannot complete a request */
    sbuf_printf(b, "HTTP/1.1 %d %s\r\n", status, http_status_text(status));
    http_put_date(b);
    if (content_type && *content_type) {
        sbuf_puts(b, "Content-Type: ");
        put_clean(b, content_type);
        sbuf_puts(b, "\r\n");
    }
    if (r->resp_hdrs.len) sbuf_append(b, r->resp_hdrs.p, r->resp_hdrs.len);
    if (srv_req_closes(r))
        sbuf_puts(b, "Connection: close\r\n");
    else if (r->http10)
        sbuf_puts(b, "Connection: keep-alive\r\n");
}

static bool writable(http_req_t *r)
{
    return r->conn->state == CS_OPEN && r->conn->t;
}

void http_respond(http_req_t *req, int status, const char *content_type, const char *body,
                  size_t len)
{
    if (req->streaming) {
        /* A handler error after stream_begin: the status is out already. */
        http_stream_end(req);
        return;
    }
    if (writable(req)) {
        struct sbuf b = {0};
        bool no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
        put_head(&b, req, status, content_type);
        if (!no_body) sbuf_printf(&b, "Content-Length: %zu\r\n", len);
        sbuf_puts(&b, "\r\n");
        if (!no_body && !req->head && len) sbuf_append(&b, body, len);
        size_t n = b.len;
        srv_conn_send(req->conn, sbuf_take(&b), n);
    }
    srv_req_complete(req);
}

int http_stream_begin(http_req_t *req, int status, const char *content_type)
{
    if (req->streaming) return -1;
    req->streaming = true;
    /* HTTP/1.0 has no chunks: the body ends when the connection does. */
    req->chunked = !req->http10;
    if (!req->chunked) req->keep_alive = false;
    if (!writable(req) || req->gone) return -1;
    struct sbuf b = {0};
    put_head(&b, req, status, content_type);
    if (req->chunked) sbuf_puts(&b, "Transfer-Encoding: chunked\r\n");
    /* A watch's events must reach the client as they happen. */
    sbuf_puts(&b, "Cache-Control: no-cache, private\r\n\r\n");
    size_t n = b.len;
    return srv_conn_send(req->conn, sbuf_take(&b), n);
}

int http_stream_write(http_req_t *req, const char *data, size_t len)
{
    if (!req->streaming || req->gone || !writable(req)) return -1;
    if (len == 0 || req->head) return 0;
    if (pk_tr_queued(req->conn->t) > SRV_MAX_STREAM_QUEUED) {
        log_warn("http", "%s: client reads too slowly (%zu bytes queued), dropping it",
                 req->conn->peer, pk_tr_queued(req->conn->t));
        req->gone = true;
        srv_conn_drop(req->conn);
        return -1;
    }
    struct sbuf b = {0};
    if (req->chunked) {
        sbuf_reserve(&b, len + 20);
        sbuf_printf(&b, "%zx\r\n", len);
        sbuf_append(&b, data, len);
        sbuf_puts(&b, "\r\n");
    } else {
        sbuf_append(&b, data, len);
    }
    size_t n = b.len;
    return srv_conn_send(req->conn, sbuf_take(&b), n);
}

void http_stream_end(http_req_t *req)
{
    if (!req->streaming) http_stream_begin(req, 200, NULL); /* ended before it began */
    if (req->chunked && writable(req) && !req->head) {
        char *end = xstrdup("0\r\n\r\n");
        srv_conn_send(req->conn, end, 5);
    }
    srv_req_complete(req);
}
