/*
 * http_client.c - the HTTP/1.1 client: base URLs and fail-over between them,
 * the keep-alive connection pool, connecting (with a per-URL connect
 * timeout), sending requests, timeouts, cancellation and freeing. Response
 * parsing and delivery are in http_client_resp.c; http_fetch is in
 * http_fetch.c.
 *
 * Fail-over rule: an attempt that fails before any response byte arrived
 * (resolution, refusal, reset, connect timeout) moves on to the next URL by
 * itself; the URL that answered last is where the next request starts.
 * A pooled connection that turns out to be dead (the server closed it while
 * idle) is retried once on a fresh connection to the same URL first.
 *
 * Callbacks never run from inside the call that started a request: the first
 * attempt starts from the request's timer, on the next loop turn.
 *
 * https:// URLs ride the TLS transport (tls.c) with the client's OpenSSL
 * context; a connection counts as connected once the server is verified,
 * so a TLS failure (a server of another CA) fails over like a refusal, and
 * the connect timeout covers the handshake.
 */
#include "lib/http_client_int.h"
#include "lib/tls.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef PICOKUBE_VERSION
#define PICOKUBE_VERSION "dev"
#endif

static void start_attempt(struct http_stream *r);
static void attempt_failed(struct http_stream *r, int err);

/* ----------------------------------------------------------------- URLs */

static void url_free(struct client_url *u)
{
    free(u->base);
    free(u->host);
    free(u->hostport);
    free(u->prefix);
}

static int url_parse(const char *s, size_t n, struct client_url *u)
{
    memset(u, 0, sizeof(*u));
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    while (n && s[n - 1] == '/')
        n--;
    size_t scheme = 0;
    if (n > 8 && !strncasecmp(s, "https://", 8)) {
        scheme = 8;
        u->tls = true;
    } else if (n > 7 && !strncasecmp(s, "http://", 7)) {
        scheme = 7;
    } else {
        log_error("http", "%.*s: not an http:// or https:// URL", (int)n, s);
        return -1;
    }
    const char *p = s + scheme, *end = s + n;
    const char *slash = memchr(p, '/', (size_t)(end - p));
    const char *hp_end = slash ? slash : end;
    const char *host, *host_end, *port_s = NULL;
    if (*p == '[') {
        host = p + 1;
        host_end = memchr(host, ']', (size_t)(hp_end - host));
        if (!host_end) goto bad;
        if (host_end + 1 < hp_end) {
            if (host_end[1] != ':') goto bad;
            port_s = host_end + 2;
        }
    } else {
        host = p;
        host_end = memchr(p, ':', (size_t)(hp_end - p));
        if (host_end)
            port_s = host_end + 1;
        else
            host_end = hp_end;
    }
    if (host_end == host) goto bad;
    u->port = u->tls ? 443 : 80;
    if (port_s) {
        long port = 0;
        if (port_s == hp_end) goto bad;
        for (const char *q = port_s; q < hp_end; q++) {
            if (!isdigit((unsigned char)*q)) goto bad;
            port = port * 10 + (*q - '0');
            if (port > 65535) goto bad;
        }
        u->port = (int)port;
    }
    u->host = xstrndup(host, (size_t)(host_end - host));
    u->hostport = xstrndup(p, (size_t)(hp_end - p));
    u->prefix = slash ? xstrndup(slash, (size_t)(end - slash)) : xstrdup("");
    u->base = xstrndup(s, n);
    if (uv_ip4_addr(u->host, u->port, (struct sockaddr_in *)&u->addr) == 0 ||
        uv_ip6_addr(u->host, u->port, (struct sockaddr_in6 *)&u->addr) == 0)
        u->literal = true;
    return 0;
bad:
    log_error("http", "%.*s: malformed URL (want http[s]://host[:port])", (int)n, s);
    return -1;
}

/* -------------------------------------------------------------- client */

static void client_unref(http_client_t *cl)
{
    if (--cl->refs > 0) return;
    for (size_t i = 0; i < cl->n_urls; i++)
        url_free(&cl->urls[i]);
    free(cl->urls);
    free(cl->bearer);
    free(cl->last_tls_err);
    pk_tls_ctx_unref(cl->tls);
    free(cl);
}

http_client_t *http_client_new_tls(uv_loop_t *loop, const char *urls, const char *bearer,
                                   const struct http_tls_client *tls)
{
    if (!urls) return NULL;
    http_client_t *cl = xcalloc(1, sizeof(*cl));
    cl->loop = loop;
    cl->refs = 1;
    const char *p = urls;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        bool blank = true;
        for (size_t i = 0; i < n; i++)
            if (!isspace((unsigned char)p[i])) blank = false;
        if (!blank) {
            cl->urls = xrealloc(cl->urls, (cl->n_urls + 1) * sizeof(*cl->urls));
            if (url_parse(p, n, &cl->urls[cl->n_urls]) < 0) {
                client_unref(cl);
                return NULL;
            }
            cl->n_urls++;
        }
        if (!comma) break;
        p = comma + 1;
    }
    if (cl->n_urls == 0) {
        log_error("http", "no server URL given");
        client_unref(cl);
        return NULL;
    }
    bool any_tls = false;
    for (size_t i = 0; i < cl->n_urls; i++)
        any_tls |= cl->urls[i].tls;
    if (any_tls) {
        if (tls) {
            char err[256];
            cl->tls = pk_tls_client_ctx(tls, err, sizeof(err));
            if (!cl->tls) log_error("http", "%s: %s", urls, err);
        } else {
            cl->tls = pk_tls_default_client_ctx();
        }
        if (!cl->tls) {
            client_unref(cl);
            return NULL;
        }
    }
    if (bearer && *bearer) cl->bearer = xstrdup(bearer);
    return cl;
}

http_client_t *http_client_new(uv_loop_t *loop, const char *urls, const char *bearer)
{
    return http_client_new_tls(loop, urls, bearer, NULL);
}

const char *http_client_last_tls_error(http_client_t *c)
{
    return c->last_tls_err ? c->last_tls_err : "";
}

const char *http_client_current_url(http_client_t *c)
{
    return c->urls[c->current].base;
}

void http_client_free(http_client_t *cl)
{
    if (!cl || cl->freeing) return;
    cl->freeing = true;
    /* creq_finish unlinks each request; callbacks may not add new ones. */
    while (cl->reqs)
        creq_finish(cl->reqs, UV_ECANCELED);
    for (struct cconn *c = cl->conns; c; c = c->next)
        cconn_close(c);
    client_unref(cl);
}

/* --------------------------------------------------------- connections */

static void cconn_on_tr_close(pk_tr_t *t)
{
    struct cconn *c = t->data;
    http_client_t *cl = c->cl;
    if (c->req) { /* cannot happen: requests detach before closing */
        c->req->conn = NULL;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        cl->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    free(c);
    client_unref(cl);
}

void cconn_close(struct cconn *c)
{
    if (c->closing) return;
    c->closing = true;
    c->idle = false;
    pk_tr_close(c->t);
}

void cconn_release(struct cconn *c)
{
    http_client_t *cl = c->cl;
    c->req = NULL;
    if (c->dead || c->closing || cl->freeing || pk_tr_queued(c->t) > 0) {
        cconn_close(c);
        return;
    }
    int idle = 0;
    for (struct cconn *o = cl->conns; o; o = o->next)
        if (o->idle && o->url == c->url) idle++;
    if (idle >= CLIENT_MAX_IDLE_PER_URL) {
        cconn_close(c);
        return;
    }
    c->idle = true;
    /* Keep reading: the server closing an idle connection shows up as EOF. */
    if (pk_tr_read_start(c->t) < 0) cconn_close(c);
}

/* Keeps why a transport failed, for the caller: "protocol error" alone
 * does not tell a user that the server's certificate is not trusted. */
static void keep_detail(struct http_stream *r, pk_tr_t *t)
{
    const char *why = pk_tr_error_text(t);
    if (!*why) return;
    free(r->detail);
    r->detail = xstrdup(why);
    free(r->cl->last_tls_err);
    r->cl->last_tls_err = xstrdup(why);
}

static void cconn_on_connect(pk_tr_t *t, int status)
{
    struct cconn *c = t->data;
    struct http_stream *r = c->req;
    if (!r) {
        cconn_close(c);
        return;
    }
    if (status < 0) {
        keep_detail(r, t);
        attempt_failed(r, status);
        return;
    }
    c->connected = true;
    r->connect_deadline = 0;
    start_attempt(r); /* now sends on the connected c */
}

static void cconn_on_read(pk_tr_t *t, const char *data, ssize_t n)
{
    struct cconn *c = t->data;
    struct http_stream *r = c->req;
    if (c->closing) return;
    if (!r) {
        /* Idle: EOF, an error or stray bytes all end the connection. */
        cconn_close(c);
        return;
    }
    if (n < 0) {
        /* TLS 1.3: a server refusing our certificate says so after the
         * handshake, as the first thing we read. */
        if (n != UV_EOF) keep_detail(r, t);
        if (!r->got_bytes)
            attempt_failed(r, n == UV_EOF ? UV_ECONNRESET : (int)n);
        else
            creq_on_eof(r, (int)n);
        return;
    }
    if (!r->got_bytes) {
        r->got_bytes = true;
        c->cl->current = r->url;
    }
    creq_on_data(r, data, (size_t)n);
}

static void cconn_on_write_error(pk_tr_t *t, int err)
{
    struct cconn *c = t->data;
    struct http_stream *r = c->req;
    c->dead = true;
    if (!r) {
        cconn_close(c);
        return;
    }
    if (!r->got_bytes)
        attempt_failed(r, err);
    else if (!r->complete)
        creq_finish(r, err);
}

static const struct pk_tr_cbs cconn_cbs = {
    .on_connect = cconn_on_connect,
    .on_read = cconn_on_read,
    .on_write_error = cconn_on_write_error,
    .on_close = cconn_on_tr_close,
};

static void connect_to(struct http_stream *r, const struct sockaddr *addr)
{
    http_client_t *cl = r->cl;
    struct cconn *c = xcalloc(1, sizeof(*c));
    c->cl = cl;
    c->url = r->url;
    const struct client_url *u = &cl->urls[r->url];
    int rc = u->tls ? pk_tr_tls_connect(cl->loop, addr, cl->tls, u->host, &cconn_cbs, c, &c->t)
                    : pk_tr_tcp_connect(cl->loop, addr, &cconn_cbs, c, &c->t);
    if (rc < 0) {
        free(c);
        attempt_failed(r, rc);
        return;
    }
    cl->refs++;
    c->next = cl->conns;
    if (cl->conns) cl->conns->prev = c;
    cl->conns = c;
    c->req = r;
    r->conn = c;
}

/* ------------------------------------------------------------ attempts */

static void timer_cb(uv_timer_t *h);

static void arm_timer(struct http_stream *r)
{
    if (r->finished) return;
    uint64_t next = r->deadline;
    if (r->connect_deadline && (!next || r->connect_deadline < next)) next = r->connect_deadline;
    if (!next) {
        uv_timer_stop(&r->timer);
        return;
    }
    uint64_t now = uv_now(r->cl->loop);
    uv_timer_start(&r->timer, timer_cb, next > now ? next - now : 0, 0);
}

static void send_request(struct http_stream *r)
{
    http_client_t *cl = r->cl;
    struct cconn *c = r->conn;
    const struct client_url *u = &cl->urls[r->url];
    llhttp_init(&c->parser, HTTP_RESPONSE, &client_parser_settings);
    c->parser.data = c;
    creq_reset_response(r);

    struct sbuf b = {0};
    sbuf_reserve(&b, 256 + r->len);
    sbuf_printf(&b, "%s %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: picokube/%s\r\n", r->method,
                u->prefix, r->target, u->hostport, PICOKUBE_VERSION);
    if (cl->bearer) sbuf_printf(&b, "Authorization: Bearer %s\r\n", cl->bearer);
    if (r->content_type) sbuf_printf(&b, "Content-Type: %s\r\n", r->content_type);
    if (r->len || !strcmp(r->method, "POST") || !strcmp(r->method, "PUT") ||
        !strcmp(r->method, "PATCH"))
        sbuf_printf(&b, "Content-Length: %zu\r\n", r->len);
    if (r->extra_headers) sbuf_puts(&b, r->extra_headers);
    sbuf_puts(&b, "\r\n");
    if (r->len) sbuf_append(&b, r->body, r->len);
    size_t n = b.len;
    int rc = pk_tr_write(c->t, sbuf_take(&b), n);
    if (rc == 0) rc = pk_tr_read_start(c->t);
    if (rc < 0) {
        c->dead = true;
        attempt_failed(r, rc);
        return;
    }
    arm_timer(r);
}

static void on_resolved(uv_getaddrinfo_t *gai, int status, struct addrinfo *res)
{
    struct http_stream *r = gai->data;
    r->resolving = false;
    if (r->finished || r->cancel_pending) {
        if (res) uv_freeaddrinfo(res);
        creq_unref(r);
        return;
    }
    if (status < 0 || !res) {
        log_debug("http", "%s: cannot resolve: %s", r->cl->urls[r->url].base, uv_strerror(status));
        attempt_failed(r, status < 0 ? status : UV_EAI_NONAME);
    } else {
        /* Prefer IPv4: "localhost" servers here listen on 127.0.0.1. */
        struct addrinfo *pick = res;
        for (struct addrinfo *a = res; a; a = a->ai_next)
            if (a->ai_family == AF_INET) {
                pick = a;
                break;
            }
        connect_to(r, pick->ai_addr);
    }
    if (res) uv_freeaddrinfo(res);
    creq_unref(r);
}

static void start_attempt(struct http_stream *r)
{
    http_client_t *cl = r->cl;
    if (r->finished) return;
    if (r->conn && r->conn->connected) {
        send_request(r);
        return;
    }
    if (!r->force_new) {
        for (struct cconn *c = cl->conns; c; c = c->next) {
            if (!c->idle || c->closing || c->url != r->url) continue;
            c->idle = false;
            c->req = r;
            r->conn = c;
            r->reused = true;
            send_request(r);
            return;
        }
    }
    r->force_new = false;
    r->reused = false;
    free(r->detail); /* the detail reported is the last attempt's */
    r->detail = NULL;
    const struct client_url *u = &cl->urls[r->url];
    r->connect_deadline = uv_now(cl->loop) + CLIENT_CONNECT_TIMEOUT_MS;
    arm_timer(r);
    if (u->literal) {
        connect_to(r, (const struct sockaddr *)&u->addr);
        return;
    }
    char port[8];
    snprintf(port, sizeof(port), "%d", u->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    r->gai.data = r;
    r->resolving = true;
    r->refs++;
    int rc = uv_getaddrinfo(cl->loop, &r->gai, on_resolved, u->host, port, &hints);
    if (rc < 0) {
        r->resolving = false;
        r->refs--;
        attempt_failed(r, rc);
    }
}

static void detach_conn(struct http_stream *r)
{
    struct cconn *c = r->conn;
    if (!c) return;
    r->conn = NULL;
    c->req = NULL;
    cconn_close(c);
}

static void attempt_failed(struct http_stream *r, int err)
{
    http_client_t *cl = r->cl;
    if (r->finished) return;
    detach_conn(r);
    r->connect_deadline = 0;
    if (cl->freeing || r->cancel_pending) {
        creq_finish(r, UV_ECANCELED);
        return;
    }
    if (r->reused && !r->retried_fresh) {
        /* A pooled connection the server had closed: not the URL's fault. */
        r->retried_fresh = true;
        r->force_new = true;
        start_attempt(r);
        return;
    }
    r->tries++;
    if (r->tries >= cl->n_urls) {
        creq_finish(r, err);
        return;
    }
    size_t next = (r->url + 1) % cl->n_urls;
    log_debug("http", "%s: %s; trying %s", cl->urls[r->url].base, uv_strerror(err),
              cl->urls[next].base);
    r->url = next;
    r->retried_fresh = false;
    start_attempt(r);
}

static void timer_cb(uv_timer_t *h)
{
    struct http_stream *r = h->data;
    if (r->finished) return;
    if (r->cancel_pending) {
        creq_finish(r, UV_ECANCELED);
        return;
    }
    uint64_t now = uv_now(r->cl->loop);
    if (r->deadline && now >= r->deadline) {
        creq_finish(r, UV_ETIMEDOUT);
        return;
    }
    if (r->connect_deadline && now >= r->connect_deadline) {
        attempt_failed(r, UV_ETIMEDOUT);
        return;
    }
    if (!r->conn && !r->resolving) {
        start_attempt(r); /* the first attempt, deferred from the caller's call */
        return;
    }
    arm_timer(r);
}

/* ------------------------------------------------------------ requests */

void creq_unref(struct http_stream *r)
{
    if (--r->refs > 0) return;
    http_client_t *cl = r->cl;
    free(r->method);
    free(r->target);
    free(r->content_type);
    free(r->extra_headers);
    free(r->body);
    free(r->detail);
    sbuf_free(&r->field);
    sbuf_free(&r->ctype);
    sbuf_free(&r->in);
    free(r);
    client_unref(cl);
}

static void on_timer_closed(uv_handle_t *h)
{
    creq_unref(h->data);
}

void creq_finish(struct http_stream *r, int err)
{
    if (r->finished) return;
    http_client_t *cl = r->cl;
    r->finished = true;
    detach_conn(r);
    if (r->resolving) uv_cancel((uv_req_t *)&r->gai);
    uv_close((uv_handle_t *)&r->timer, on_timer_closed);
    if (r->prev)
        r->prev->next = r->next;
    else
        cl->reqs = r->next;
    if (r->next) r->next->prev = r->prev;
    creq_deliver(r, err);
    creq_unref(r);
}

static struct http_stream *submit(http_client_t *cl, const char *method, const char *path_query,
                                  const char *extra_headers, const char *content_type,
                                  const char *body, size_t len, unsigned timeout_ms)
{
    if (!cl || cl->freeing) return NULL;
    struct http_stream *r = xcalloc(1, sizeof(*r));
    r->cl = cl;
    cl->refs++;
    r->refs = 2; /* in flight, and the timer handle */
    r->method = xstrdup(method ? method : "GET");
    if (!path_query || !*path_query) path_query = "/";
    r->target = path_query[0] == '/' ? xstrdup(path_query) : NULL;
    if (!r->target) {
        size_t n = strlen(path_query);
        r->target = xmalloc(n + 2);
        r->target[0] = '/';
        memcpy(r->target + 1, path_query, n + 1);
    }
    if (content_type) r->content_type = xstrdup(content_type);
    if (extra_headers && *extra_headers) r->extra_headers = xstrdup(extra_headers);
    if (len) {
        r->body = xmalloc(len);
        memcpy(r->body, body, len);
        r->len = len;
    }
    r->url = cl->current;
    if (timeout_ms) r->deadline = uv_now(cl->loop) + timeout_ms;
    uv_timer_init(cl->loop, &r->timer);
    r->timer.data = r;
    r->next = cl->reqs;
    if (cl->reqs) cl->reqs->prev = r;
    cl->reqs = r;
    uv_timer_start(&r->timer, timer_cb, 0, 0);
    return r;
}

int http_client_request_ex(http_client_t *c, const char *method, const char *path_query,
                           const char *extra_headers, const char *content_type, const char *body,
                           size_t len, unsigned timeout_ms, http_response_fn cb, void *data)
{
    if (!timeout_ms) timeout_ms = CLIENT_DEFAULT_TIMEOUT_MS;
    struct http_stream *r =
        submit(c, method, path_query, extra_headers, content_type, body, len, timeout_ms);
    if (!r) return UV_ECANCELED;
    r->cb = cb;
    r->data = data;
    return 0;
}

int http_client_request(http_client_t *c, const char *method, const char *path_query,
                        const char *content_type, const char *body, size_t len, unsigned timeout_ms,
                        http_response_fn cb, void *data)
{
    return http_client_request_ex(c, method, path_query, NULL, content_type, body, len, timeout_ms,
                                  cb, data);
}

http_stream_t *http_client_stream_ex(http_client_t *c, const char *path_query,
                                     const char *extra_headers,
                                     const struct http_stream_callbacks *cbs, void *data)
{
    struct http_stream *r = submit(c, "GET", path_query, extra_headers, NULL, NULL, 0, 0);
    if (!r) return NULL;
    r->is_stream = true;
    r->scb = *cbs;
    r->data = data;
    return r;
}

http_stream_t *http_client_stream(http_client_t *c, const char *path_query,
                                  const struct http_stream_callbacks *cbs, void *data)
{
    return http_client_stream_ex(c, path_query, NULL, cbs, data);
}

void http_stream_cancel(http_stream_t *s)
{
    if (!s || s->finished || s->cancel_pending) return;
    s->cancel_pending = true;
    /* Hang up now, so that the server stops streaming at once. */
    detach_conn(s);
    if (s->resolving) uv_cancel((uv_req_t *)&s->gai);
    s->connect_deadline = 0;
    uv_timer_start(&s->timer, timer_cb, 0, 0);
}
