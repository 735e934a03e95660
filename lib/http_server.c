/*
 * http_server.c - the HTTP/1.1 server's connections: accepting, parsing with
 * llhttp, dispatching one request at a time per connection, keep-alive,
 * timeouts, limits, and the graceful stop. The request object and the
 * response writers are in http_req.c.
 *
 * Pipelining: the parser is paused at the end of each request; bytes after
 * it stay unparsed in conn->in until the handler completes the request, so
 * answers leave in request order and a client cannot queue work faster than
 * it is done. Input keeps being read while a request is handled (up to a
 * bound) so that a client hanging up is noticed and the handler told.
 *
 * Deferred work (the next pipelined request after an asynchronous
 * completion, on_close calls asked for from inside a user call) runs from a
 * uv_idle_t, so user callbacks never nest inside user calls.
 */
#include "lib/http_server_int.h"
#include "lib/tls.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_MAX_BODY (3u * 1024 * 1024)
#define DEFAULT_MAX_HEADER (64u * 1024)
#define DEFAULT_IDLE_MS 90000u
#define DEFAULT_READ_MS 30000u

static void conn_process(struct srv_conn *c);
static void conn_close(struct srv_conn *c);
static void conn_maybe_free(struct srv_conn *c);
static void server_maybe_done(http_server_t *s);

/* ------------------------------------------------------------- deferred */

static void kick_cb(uv_idle_t *h)
{
    http_server_t *s = h->data;
    uv_idle_stop(h);
    /* Pop from the live lists: a callback may free an entry, which unlinks it. */
    while (s->kick_conns) {
        struct srv_conn *c = s->kick_conns;
        s->kick_conns = c->kick_next;
        c->kick_queued = false;
        if (c->state == CS_OPEN) conn_process(c);
    }
    while (s->kick_reqs) {
        http_req_t *r = s->kick_reqs;
        s->kick_reqs = r->kick_next;
        r->kick_queued = false;
        if (r->close_fired || !r->on_close) continue;
        struct srv_conn *c = r->conn;
        r->close_fired = true;
        c->in_cb++;
        r->on_close(r, r->on_close_arg);
        c->in_cb--;
        conn_maybe_free(c);
    }
}

static void kick_start(http_server_t *s)
{
    if (!s->freeing) uv_idle_start(&s->kick, kick_cb);
}

static void kick_conn(struct srv_conn *c)
{
    if (c->kick_queued) return;
    c->kick_queued = true;
    c->kick_next = c->srv->kick_conns;
    c->srv->kick_conns = c;
    kick_start(c->srv);
}

void srv_req_queue_close(http_req_t *r)
{
    if (r->kick_queued || r->close_fired) return;
    r->kick_queued = true;
    r->kick_next = r->srv->kick_reqs;
    r->srv->kick_reqs = r;
    kick_start(r->srv);
}

static void kick_unlink_conn(struct srv_conn *c)
{
    if (!c->kick_queued) return;
    for (struct srv_conn **p = &c->srv->kick_conns; *p; p = &(*p)->kick_next) {
        if (*p == c) {
            *p = c->kick_next;
            break;
        }
    }
    c->kick_queued = false;
}

/* Calls on_close now (we are in a loop callback, not a user call). */
static void fire_close(http_req_t *r)
{
    if (r->close_fired || !r->on_close) return;
    struct srv_conn *c = r->conn;
    r->close_fired = true;
    c->in_cb++;
    r->on_close(r, r->on_close_arg);
    c->in_cb--;
}

/* --------------------------------------------------------------- timers */

static void conn_timer_cb(uv_timer_t *h);

static void conn_timer(struct srv_conn *c, unsigned ms)
{
    if (c->state != CS_CLOSING) uv_timer_start(&c->timer, conn_timer_cb, ms, 0);
}

static void conn_update_reading(struct srv_conn *c)
{
    if (c->state == CS_CLOSING || !c->t) return;
    bool want = !c->peer_eof && (c->state == CS_LINGER || !c->active ||
                                 c->in.len - c->in_off < SRV_MAX_PENDING_INPUT);
    if (want && !c->reading) {
        if (pk_tr_read_start(c->t) == 0) c->reading = true;
    } else if (!want && c->reading) {
        pk_tr_read_stop(c->t);
        c->reading = false;
    }
}

/* -------------------------------------------------------------- closing */

static void conn_handle_closed(struct srv_conn *c)
{
    if (--c->handles_open > 0) return;
    if (c->active) {
        c->active->gone = true;
        fire_close(c->active);
    }
    conn_maybe_free(c);
}

static void on_timer_closed(uv_handle_t *h)
{
    conn_handle_closed(h->data);
}

static void conn_close(struct srv_conn *c)
{
    if (c->state == CS_CLOSING) return;
    c->state = CS_CLOSING;
    c->reading = false;
    if (c->active) c->active->gone = true;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
    pk_tr_close(c->t);
}

static void conn_maybe_free(struct srv_conn *c)
{
    if (c->handles_open > 0 || c->active || c->in_cb > 0) return;
    http_server_t *s = c->srv;
    kick_unlink_conn(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    srv_req_free(c->parsing);
    srv_req_free(c->ready);
    sbuf_free(&c->in);
    free(c->peer_cn);
    free(c->peer_orgs);
    free(c);
    s->n_conns--;
    server_maybe_done(s);
}

static void on_shutdown_done(pk_tr_t *t, int status)
{
    struct srv_conn *c = t->data;
    if (c->state != CS_LINGER) return;
    if (status < 0 || c->peer_eof) {
        conn_close(c);
        return;
    }
    conn_timer(c, SRV_LINGER_MS);
}

/* Ends the connection after what is queued: flush, FIN, then discard the
 * client's remaining input for a while instead of resetting it, so that a
 * client still sending (a 413'd upload) reads our answer. */
static void conn_linger(struct srv_conn *c)
{
    if (c->state != CS_OPEN) return;
    c->state = CS_LINGER;
    kick_unlink_conn(c);
    sbuf_reset(&c->in);
    c->in_off = 0;
    if (pk_tr_shutdown(c->t, on_shutdown_done) < 0) {
        conn_close(c);
        return;
    }
    /* Bounds the flush: a client that reads nothing is closed after this. */
    conn_timer(c, c->srv->cfg.idle_timeout_ms);
    conn_update_reading(c);
}

static void conn_send_error(struct srv_conn *c, int status)
{
    srv_req_free(c->parsing);
    c->parsing = NULL;
    const char *text = http_status_text(status);
    struct sbuf b = {0};
    sbuf_printf(&b, "HTTP/1.1 %d %s\r\n", status, text);
    http_put_date(&b);
    sbuf_printf(&b,
                "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
                "Connection: close\r\n\r\n%s\n",
                strlen(text) + 1, text);
    size_t len = b.len;
    if (srv_conn_send(c, sbuf_take(&b), len) == 0) conn_linger(c);
}

static void conn_timer_cb(uv_timer_t *h)
{
    struct srv_conn *c = h->data;
    if (c->state == CS_LINGER) {
        conn_close(c);
    } else if (c->state == CS_OPEN && !c->active) {
        if (c->parsing) {
            log_debug("http", "%s: request not received within %u ms", c->peer,
                      c->srv->cfg.read_timeout_ms);
            conn_send_error(c, 408);
        } else {
            conn_close(c);
        }
    }
}

/* -------------------------------------------------------------- writing */

int srv_conn_send(struct srv_conn *c, char *buf, size_t len)
{
    if (c->state == CS_CLOSING || !c->t) {
        free(buf);
        return -1;
    }
    if (pk_tr_write(c->t, buf, len) < 0) {
        conn_close(c);
        return -1;
    }
    return 0;
}

void srv_conn_drop(struct srv_conn *c)
{
    conn_close(c);
}

bool srv_req_closes(http_req_t *r)
{
    return !r->keep_alive || r->srv->stopping || r->conn->peer_eof || r->conn->state != CS_OPEN;
}

void srv_req_complete(http_req_t *r)
{
    struct srv_conn *c = r->conn;
    bool close_after = srv_req_closes(r);
    c->active = NULL;
    srv_req_free(r);
    if (c->state == CS_CLOSING) {
        conn_maybe_free(c);
        return;
    }
    if (c->state != CS_OPEN) return;
    if (close_after) {
        conn_linger(c);
        return;
    }
    if (c->in_process) return; /* conn_process goes on with the next request */
    if (c->in_off < c->in.len) {
        kick_conn(c);
    } else {
        conn_timer(c, c->srv->cfg.idle_timeout_ms);
        conn_update_reading(c);
    }
}

/* -------------------------------------------------------------- parsing */

static int hdr_bytes(struct srv_conn *c, size_t len)
{
    c->hdr_bytes += len;
    if (c->hdr_bytes > c->srv->cfg.max_header) {
        c->err_status = 431;
        return -1;
    }
    return 0;
}

static int cb_message_begin(llhttp_t *p)
{
    struct srv_conn *c = p->data;
    srv_req_free(c->parsing);
    c->parsing = srv_req_new(c);
    c->hdr_bytes = 0;
    /* The whole request must arrive within read_timeout. */
    conn_timer(c, c->srv->cfg.read_timeout_ms);
    return 0;
}

static int cb_url(llhttp_t *p, const char *at, size_t len)
{
    struct srv_conn *c = p->data;
    if (hdr_bytes(c, len)) return HPE_USER;
    sbuf_append(&c->parsing->url, at, len);
    return 0;
}

static int cb_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct srv_conn *c = p->data;
    if (hdr_bytes(c, len)) return HPE_USER;
    sbuf_append(&c->parsing->hbuf, at, len);
    return 0;
}

static int cb_header_value(llhttp_t *p, const char *at, size_t len)
{
    return cb_header_field(p, at, len);
}

static void push_hoff(http_req_t *r, size_t off)
{
    if (r->n_hoff == r->cap_hoff) {
        r->cap_hoff = r->cap_hoff ? r->cap_hoff * 2 : 32;
        r->hoff = xrealloc(r->hoff, r->cap_hoff * sizeof(size_t));
    }
    r->hoff[r->n_hoff++] = off;
}

static int cb_header_field_complete(llhttp_t *p)
{
    struct srv_conn *c = p->data;
    http_req_t *r = c->parsing;
    /* Each header costs a little more than its bytes (the bookkeeping). */
    if (hdr_bytes(c, 16)) return -1;
    push_hoff(r, r->cur_start);
    sbuf_putc(&r->hbuf, '\0');
    r->cur_start = r->hbuf.len;
    return 0;
}

static int cb_header_value_complete(llhttp_t *p)
{
    struct srv_conn *c = p->data;
    http_req_t *r = c->parsing;
    if (r->n_hoff % 2 == 0) return 0; /* a value without a name: cannot happen */
    while (r->hbuf.len > r->cur_start &&
           (r->hbuf.p[r->hbuf.len - 1] == ' ' || r->hbuf.p[r->hbuf.len - 1] == '\t'))
        r->hbuf.len--;
    push_hoff(r, r->cur_start);
    sbuf_putc(&r->hbuf, '\0');
    r->cur_start = r->hbuf.len;
    return 0;
}

static int cb_headers_complete(llhttp_t *p)
{
    struct srv_conn *c = p->data;
    http_req_t *r = c->parsing;
    r->method = llhttp_method_name((llhttp_method_t)p->method);
    r->http10 = p->http_major == 1 && p->http_minor == 0;
    r->head = p->method == HTTP_HEAD;
    if (p->http_major != 1) {
        c->err_status = 505;
        return -1;
    }
    if (srv_req_parse_target(r) < 0) {
        c->err_status = 400;
        return -1;
    }
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > c->srv->cfg.max_body) {
        c->err_status = 413;
        return -1;
    }
    const char *expect = http_req_header(r, "expect");
    bool has_body = (p->flags & (F_CHUNKED | F_CONTENT_LENGTH)) &&
                    !((p->flags & F_CONTENT_LENGTH) && p->content_length == 0);
    if (expect && !strcasecmp(expect, "100-continue") && !r->http10 && has_body) {
        /* curl waits a second for this before sending a large body. */
        char *b = xstrdup("HTTP/1.1 100 Continue\r\n\r\n");
        srv_conn_send(c, b, strlen(b));
    }
    return 0;
}

static int cb_body(llhttp_t *p, const char *at, size_t len)
{
    struct srv_conn *c = p->data;
    http_req_t *r = c->parsing;
    if (r->body.len + len > c->srv->cfg.max_body) {
        c->err_status = 413; /* chunked: noticed only as it grows */
        return HPE_USER;
    }
    sbuf_append(&r->body, at, len);
    return 0;
}

static int cb_message_complete(llhttp_t *p)
{
    struct srv_conn *c = p->data;
    http_req_t *r = c->parsing;
    r->keep_alive = llhttp_should_keep_alive(p) && !p->upgrade;
    c->ready = r;
    c->parsing = NULL;
    uv_timer_stop(&c->timer);
    /* One request at a time: the rest of the input waits. */
    return HPE_PAUSED;
}

static const llhttp_settings_t parser_settings = {
    .on_message_begin = cb_message_begin,
    .on_url = cb_url,
    .on_header_field = cb_header_field,
    .on_header_value = cb_header_value,
    .on_header_field_complete = cb_header_field_complete,
    .on_header_value_complete = cb_header_value_complete,
    .on_headers_complete = cb_headers_complete,
    .on_body = cb_body,
    .on_message_complete = cb_message_complete,
};

static void dispatch(struct srv_conn *c)
{
    http_req_t *r = c->ready;
    c->ready = NULL;
    c->active = r;
    if (!c->ident_done && c->t) {
        /* Known once the handshake is over, which a request implies. */
        const char *cn, *orgs;
        c->ident_done = true;
        c->tls = pk_tr_identity(c->t, &cn, &orgs);
        if (cn) c->peer_cn = xstrdup(cn);
        if (orgs) c->peer_orgs = xstrdup(orgs);
    }
    if (c->peer_eof) r->gone = true;
    c->in_cb++;
    c->srv->fn(r, c->srv->data);
    c->in_cb--;
}

static void conn_process(struct srv_conn *c)
{
    if (c->in_process) return;
    c->in_process = true;
    while (c->state == CS_OPEN && !c->active && c->in_off < c->in.len) {
        const char *data = c->in.p + c->in_off;
        size_t n = c->in.len - c->in_off;
        llhttp_errno_t e = llhttp_execute(&c->parser, data, n);
        if (e == HPE_OK) {
            c->in_off += n;
        } else if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) {
            c->in_off += (size_t)(llhttp_get_error_pos(&c->parser) - data);
            if (e == HPE_PAUSED)
                llhttp_resume(&c->parser);
            else
                c->in_off = c->in.len; /* protocol switch: not supported, the rest is dropped */
        } else {
            int status = c->err_status ? c->err_status : 400;
            log_debug("http", "%s: bad request (%s: %s), answering %d", c->peer,
                      llhttp_errno_name(e), llhttp_get_error_reason(&c->parser), status);
            c->in_off = c->in.len;
            conn_send_error(c, status);
            break;
        }
        if (c->ready) dispatch(c);
    }
    if (c->in_off >= c->in.len) {
        sbuf_reset(&c->in);
        c->in_off = 0;
    } else if (c->in_off > 65536) {
        sbuf_consume(&c->in, c->in_off);
        c->in_off = 0;
    }
    c->in_process = false;
    if (c->state != CS_OPEN) {
        conn_maybe_free(c);
        return;
    }
    if (!c->active) {
        if (c->peer_eof) {
            conn_close(c);
            return;
        }
        if (!c->parsing) conn_timer(c, c->srv->cfg.idle_timeout_ms);
    }
    conn_update_reading(c);
}

/* ---------------------------------------------------------- connection */

static void conn_on_read(pk_tr_t *t, const char *data, ssize_t n)
{
    struct srv_conn *c = t->data;
    if (c->state == CS_CLOSING) return;
    if (n < 0) {
        c->reading = false;
        if (c->state == CS_LINGER || n != UV_EOF) {
            conn_close(c); /* the handler (if any) hears of it once closed */
            return;
        }
        c->peer_eof = true;
        if (c->active) {
            /* Half-closed: the client may still read the answer, so keep the
             * socket; but as far as the handler is concerned it has gone. */
            http_req_t *r = c->active;
            r->gone = true;
            fire_close(r);
            conn_maybe_free(c);
            return;
        }
        conn_process(c); /* complete requests already received still count */
        return;
    }
    if (c->state == CS_LINGER) return; /* discarding */
    sbuf_append(&c->in, data, (size_t)n);
    if (c->active) {
        conn_update_reading(c);
        return;
    }
    conn_process(c);
}

static void conn_on_write_error(pk_tr_t *t, int err)
{
    struct srv_conn *c = t->data;
    log_debug("http", "%s: write failed: %s", c->peer, uv_strerror(err));
    conn_close(c);
}

static void conn_on_tr_close(pk_tr_t *t)
{
    struct srv_conn *c = t->data;
    c->t = NULL;
    conn_handle_closed(c);
}

static const struct pk_tr_cbs conn_cbs = {
    .on_read = conn_on_read,
    .on_write_error = conn_on_write_error,
    .on_close = conn_on_tr_close,
};

static void on_connection(uv_stream_t *l, int status)
{
    http_server_t *s = l->data;
    if (status < 0) {
        log_warn("http", "accept failed: %s", uv_strerror(status));
        return;
    }
    struct srv_conn *c = xcalloc(1, sizeof(*c));
    c->srv = s;
    int rc = s->tls ? pk_tr_tls_accept(l, s->tls, &conn_cbs, c, &c->t)
                    : pk_tr_tcp_accept(l, &conn_cbs, c, &c->t);
    if (rc < 0) {
        log_warn("http", "accept failed: %s", uv_strerror(rc));
        free(c);
        return;
    }
    uv_timer_init(s->loop, &c->timer);
    c->timer.data = c;
    c->handles_open = 2;
    llhttp_init(&c->parser, HTTP_REQUEST, &parser_settings);
    c->parser.data = c;
    pk_tr_peer(c->t, c->peer, sizeof(c->peer));
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    s->accepted++;
    /* A connection that sends nothing is closed like a slow request. */
    conn_timer(c, s->cfg.read_timeout_ms);
    conn_update_reading(c);
    if (!c->reading) conn_close(c);
}

/* --------------------------------------------------------------- server */

static int parse_host(const char *host, int port, struct sockaddr_storage *ss)
{
    if (!host || !*host) host = "0.0.0.0";
    if (!strcmp(host, "localhost")) host = "127.0.0.1";
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0) return 0;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0) return 0;
    return UV_EINVAL;
}

static void on_failed_start_closed(uv_handle_t *h)
{
    http_server_t *s = h->data;
    if (--s->failed_closes > 0) return;
    pk_tls_ctx_unref(s->tls);
    free(s);
}

int http_server_start(uv_loop_t *loop, const struct http_server_config *cfg, http_handler_fn fn,
                      void *data, http_server_t **out)
{
    struct sockaddr_storage ss;
    int rc = parse_host(cfg->host, cfg->port, &ss);
    if (rc < 0) {
        log_error("http", "cannot listen on \"%s\": not an IP address", cfg->host);
        return rc;
    }
    struct pk_tls_ctx *tls = NULL;
    if (cfg->tls_cert_pem) {
        char err[256];
        tls = pk_tls_server_ctx(cfg, err, sizeof(err));
        if (!tls) {
            log_error("http", "cannot serve HTTPS: %s", err);
            return UV_EINVAL;
        }
    }
    http_server_t *s = xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->cfg = *cfg;
    s->cfg.host = NULL;
    s->cfg.tls_cert_pem = s->cfg.tls_key_pem = s->cfg.tls_client_ca_pem = NULL;
    s->tls = tls;
    if (!s->cfg.max_body) s->cfg.max_body = DEFAULT_MAX_BODY;
    if (!s->cfg.max_header) s->cfg.max_header = DEFAULT_MAX_HEADER;
    if (!s->cfg.idle_timeout_ms) s->cfg.idle_timeout_ms = DEFAULT_IDLE_MS;
    if (!s->cfg.read_timeout_ms) s->cfg.read_timeout_ms = DEFAULT_READ_MS;
    s->fn = fn;
    s->data = data;
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    uv_idle_init(loop, &s->kick);
    s->kick.data = s;
    rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&s->listener, 511, on_connection);
    if (rc == 0) {
        struct sockaddr_storage bound;
        int len = sizeof(bound);
        rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len);
        if (rc == 0)
            s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                        : ((struct sockaddr_in *)&bound)->sin_port);
    }
    if (rc < 0) {
        log_error("http", "cannot listen on %s:%d: %s", cfg->host ? cfg->host : "0.0.0.0",
                  cfg->port, uv_strerror(rc));
        /* Both handles must be closed before s goes (when the loop runs). */
        s->stopping = true;
        s->freeing = true;
        s->failed_closes = 2;
        uv_close((uv_handle_t *)&s->kick, on_failed_start_closed);
        uv_close((uv_handle_t *)&s->listener, on_failed_start_closed);
        return rc;
    }
    *out = s;
    return 0;
}

int http_server_port(http_server_t *s)
{
    return s->port;
}

unsigned long http_server_accepted(http_server_t *s)
{
    return s->accepted;
}

static void on_kick_closed(uv_handle_t *h)
{
    http_server_t *s = h->data;
    void (*done)(void *) = s->done;
    void *arg = s->done_arg;
    pk_tls_ctx_unref(s->tls);
    free(s);
    if (done) done(arg);
}

static void server_maybe_done(http_server_t *s)
{
    if (!s->stopping || !s->listener_closed || s->n_conns > 0 || s->freeing) return;
    s->freeing = true;
    uv_close((uv_handle_t *)&s->kick, on_kick_closed);
}

static void on_listener_closed(uv_handle_t *h)
{
    http_server_t *s = h->data;
    s->listener_closed = true;
    server_maybe_done(s);
}

void http_server_stop(http_server_t *s, void (*done)(void *arg), void *arg)
{
    if (s->stopping) return;
    s->stopping = true;
    s->done = done;
    s->done_arg = arg;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    for (struct srv_conn *c = s->conns; c; c = c->next) {
        if (c->active)
            srv_req_queue_close(c->active); /* the handler finishes it; then we close */
        else if (c->state == CS_OPEN)
            conn_close(c);
        else if (c->state == CS_LINGER)
            conn_timer(c, SRV_LINGER_MS); /* no long flush wait on the way out */
    }
    server_maybe_done(s);
}
