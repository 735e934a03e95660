/*
 * http_transport.h - private byte-stream interface under lib/'s HTTP server
 * and client.
 *
 * HTTP code reads and writes through pk_tr_t and never touches a uv_tcp_t, so
 * that TLS can later be added as another implementation of pk_tr_ops (wrapping
 * the TCP one) without changing the HTTP state machines. The TCP
 * implementation lives in http_transport.c.
 *
 * Lifetime: a transport is freed by itself right after cbs->on_close returns;
 * after pk_tr_close() the owner gets no more on_read/on_connect calls, only
 * the final on_close.
 */
#ifndef PICOKUBE_LIB_HTTP_TRANSPORT_H
#define PICOKUBE_LIB_HTTP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

typedef struct pk_tr pk_tr_t;

struct pk_tr_cbs {
    /* Outgoing connections: connected (0) or failed (< 0). */
    void (*on_connect)(pk_tr_t *t, int status);
    /* n > 0 bytes of plain text, or n < 0: UV_EOF at end of stream, else an
     * error. Reading goes on after UV_EOF only if the owner keeps the
     * transport (a half-closed peer may still read our answer). */
    void (*on_read)(pk_tr_t *t, const char *data, ssize_t n);
    /* A queued write failed: the connection is unusable. May come several times. */
    void (*on_write_error)(pk_tr_t *t, int err);
    /* Last call; the transport is freed after it returns. */
    void (*on_close)(pk_tr_t *t);
};

struct pk_tr_ops {
    int (*read_start)(pk_tr_t *t);
    int (*read_stop)(pk_tr_t *t);
    /* Queues buf (malloc'd; the transport frees it in all cases). */
    int (*write)(pk_tr_t *t, char *buf, size_t len);
    /* Sends end-of-stream once the queued writes are out; done(t, status)
     * is called then (not called if the transport is closed first). */
    int (*shutdown)(pk_tr_t *t, void (*done)(pk_tr_t *t, int status));
    void (*close)(pk_tr_t *t);
    /* The peer's address as text ("" when unknown). */
    void (*peer)(pk_tr_t *t, char *buf, size_t len);
};

struct pk_tr {
    const struct pk_tr_ops *ops;
    const struct pk_tr_cbs *cbs;
    void *data; /* the owner's */
    uv_loop_t *loop;
    size_t write_queued; /* bytes handed to write() and not yet sent */
    bool closing;
};

/* Accepts a pending connection on a listening TCP handle. */
int pk_tr_tcp_accept(uv_stream_t *listener, const struct pk_tr_cbs *cbs, void *data, pk_tr_t **out);
/* Starts connecting; cbs->on_connect reports the result. On an immediate
 * error nothing is allocated and the error is returned. */
int pk_tr_tcp_connect(uv_loop_t *loop, const struct sockaddr *addr, const struct pk_tr_cbs *cbs,
                      void *data, pk_tr_t **out);

static inline int pk_tr_read_start(pk_tr_t *t)
{
    return t->ops->read_start(t);
}
static inline int pk_tr_read_stop(pk_tr_t *t)
{
    return t->ops->read_stop(t);
}
static inline int pk_tr_write(pk_tr_t *t, char *buf, size_t len)
{
    return t->ops->write(t, buf, len);
}
static inline int pk_tr_shutdown(pk_tr_t *t, void (*done)(pk_tr_t *t, int status))
{
    return t->ops->shutdown(t, done);
}
static inline void pk_tr_close(pk_tr_t *t)
{
    t->ops->close(t);
}
static inline void pk_tr_peer(pk_tr_t *t, char *buf, size_t len)
{
    t->ops->peer(t, buf, len);
}

#endif /* PICOKUBE_LIB_HTTP_TRANSPORT_H */
