/*
 * http_transport.c - the plain TCP implementation of pk_tr_t (see
 * http_transport.h), on libuv.
 *
 * Reads go through one buffer per thread: libuv calls read_cb right after
 * alloc_cb for TCP, and the HTTP layers copy what they keep, so an idle
 * watch connection costs no read buffer at all.
 */
#include "lib/http_transport.h"
#include "lib/sbuf.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct tcp_tr {
    pk_tr_t base;
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_shutdown_t shutdown_req;
    void (*shutdown_done)(pk_tr_t *t, int status);
    bool reading;
    bool shut;
};

struct tcp_write {
    uv_write_t req;
    struct tcp_tr *t;
    char *buf;
    size_t len;
};

static _Thread_local char read_buf[64 * 1024];

/* For handles closed before their owner ever saw them. */
static const struct pk_tr_cbs no_cbs;

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = read_buf;
    buf->len = sizeof(read_buf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct tcp_tr *t = s->data;
    if (nread == 0 || t->base.closing) return;
    if (nread < 0) {
        /* libuv stops reading by itself on EOF; keep our flag in step. */
        uv_read_stop(s);
        t->reading = false;
    }
    t->base.cbs->on_read(&t->base, nread > 0 ? buf->base : NULL, nread);
}

static int tcp_read_start(pk_tr_t *base)
{
    struct tcp_tr *t = (struct tcp_tr *)base;
    if (base->closing) return UV_EINVAL;
    if (t->reading) return 0;
    int rc = uv_read_start((uv_stream_t *)&t->tcp, on_alloc, on_read);
    if (rc == 0) t->reading = true;
    return rc;
}

static int tcp_read_stop(pk_tr_t *base)
{
    struct tcp_tr *t = (struct tcp_tr *)base;
    if (!t->reading) return 0;
    t->reading = false;
    return uv_read_stop((uv_stream_t *)&t->tcp);
}

static void on_write(uv_write_t *req, int status)
{
    struct tcp_write *w = req->data;
    struct tcp_tr *t = w->t;
    t->base.write_queued -= w->len;
    free(w->buf);
    free(w);
    if (status < 0 && !t->base.closing && t->base.cbs->on_write_error)
        t->base.cbs->on_write_error(&t->base, status);
}

static int tcp_write(pk_tr_t *base, char *buf, size_t len)
{
    struct tcp_tr *t = (struct tcp_tr *)base;
    if (base->closing || t->shut) {
        free(buf);
        return UV_EPIPE;
    }
    struct tcp_write *w = xmalloc(sizeof(*w));
    w->req.data = w;
    w->t = t;
    w->buf = buf;
    w->len = len;
    uv_buf_t b = uv_buf_init(buf, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&t->tcp, &b, 1, on_write);
    if (rc < 0) {
        free(buf);
        free(w);
        return rc;
    }
    base->write_queued += len;
    return 0;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct tcp_tr *t = req->data;
    if (t->base.closing || !t->shutdown_done) return;
    t->shutdown_done(&t->base, status);
}

static int tcp_shutdown(pk_tr_t *base, void (*done)(pk_tr_t *t, int status))
{
    struct tcp_tr *t = (struct tcp_tr *)base;
    if (base->closing) return UV_EINVAL;
    if (t->shut) return UV_EALREADY;
    t->shutdown_req.data = t;
    t->shutdown_done = done;
    int rc = uv_shutdown(&t->shutdown_req, (uv_stream_t *)&t->tcp, on_shutdown);
    if (rc == 0) t->shut = true;
    return rc;
}

static void on_closed(uv_handle_t *h)
{
    struct tcp_tr *t = h->data;
    if (t->base.cbs->on_close) t->base.cbs->on_close(&t->base);
    free(t);
}

static void tcp_close(pk_tr_t *base)
{
    struct tcp_tr *t = (struct tcp_tr *)base;
    if (base->closing) return;
    base->closing = true;
    t->reading = false;
    uv_close((uv_handle_t *)&t->tcp, on_closed);
}

static void tcp_peer(pk_tr_t *base, char *buf, size_t len)
{
    struct tcp_tr *t = (struct tcp_tr *)base;
    struct sockaddr_storage ss;
    int sl = sizeof(ss);
    buf[0] = '\0';
    if (uv_tcp_getpeername(&t->tcp, (struct sockaddr *)&ss, &sl) != 0) return;
    if (ss.ss_family == AF_INET)
        uv_ip4_name((struct sockaddr_in *)&ss, buf, len);
    else if (ss.ss_family == AF_INET6)
        uv_ip6_name((struct sockaddr_in6 *)&ss, buf, len);
}

static const struct pk_tr_ops tcp_ops = {
    .read_start = tcp_read_start,
    .read_stop = tcp_read_stop,
    .write = tcp_write,
    .shutdown = tcp_shutdown,
    .close = tcp_close,
    .peer = tcp_peer,
};

/* A peer that hung up must be a write error, not the death of the process:
 * libuv writes with write(2), which raises SIGPIPE. */
static pthread_once_t sigpipe_once = PTHREAD_ONCE_INIT;

static void ignore_sigpipe(void)
{
    signal(SIGPIPE, SIG_IGN);
}

static struct tcp_tr *tcp_new(uv_loop_t *loop, const struct pk_tr_cbs *cbs, void *data)
{
    pthread_once(&sigpipe_once, ignore_sigpipe);
    struct tcp_tr *t = xcalloc(1, sizeof(*t));
    t->base.ops = &tcp_ops;
    t->base.cbs = cbs;
    t->base.data = data;
    t->base.loop = loop;
    uv_tcp_init(loop, &t->tcp);
    t->tcp.data = t;
    return t;
}

/* Small writes (watch events, request heads) must not wait for Nagle, and a
 * peer that vanished (a Pi losing power) must be noticed on idle streams. */
static void tune(struct tcp_tr *t)
{
    uv_tcp_nodelay(&t->tcp, 1);
    uv_tcp_keepalive(&t->tcp, 1, 60);
}

int pk_tr_tcp_accept(uv_stream_t *listener, const struct pk_tr_cbs *cbs, void *data, pk_tr_t **out)
{
    struct tcp_tr *t = tcp_new(listener->loop, cbs, data);
    int rc = uv_accept(listener, (uv_stream_t *)&t->tcp);
    if (rc < 0) {
        /* The handle must still be closed before it is freed. */
        t->base.cbs = &no_cbs;
        tcp_close(&t->base);
        return rc;
    }
    tune(t);
    *out = &t->base;
    return 0;
}

static void on_connect(uv_connect_t *req, int status)
{
    struct tcp_tr *t = req->data;
    if (t->base.closing) return;
    if (status == 0) tune(t);
    t->base.cbs->on_connect(&t->base, status);
}

int pk_tr_tcp_connect(uv_loop_t *loop, const struct sockaddr *addr, const struct pk_tr_cbs *cbs,
                      void *data, pk_tr_t **out)
{
    struct tcp_tr *t = tcp_new(loop, cbs, data);
    t->connect_req.data = t;
    int rc = uv_tcp_connect(&t->connect_req, &t->tcp, addr, on_connect);
    if (rc < 0) {
        t->base.cbs = &no_cbs;
        tcp_close(&t->base);
        return rc;
    }
    *out = &t->base;
    return 0;
}
