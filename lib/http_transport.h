/*
 * http_transport.h - private byte-stream interface under lib/'s HTTP server
 * and client.
 *
 * HTTP code reads and writes through pk_tr_t and never touches a uv_tcp_t, so
 * that TLS is just another implementation of pk_tr_ops (wrapping the TCP
 * one) and the HTTP state machines do not change. The TCP implementation
 * lives in http_transport.c, the TLS one in tls.c (constructors in tls.h).
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
    /* Optional (NULL for TCP). Bytes written and not yet sent, when the
     * write_queued field cannot tell (TLS: ciphertext below). */
    size_t (*queued)(pk_tr_t *t);
    /* Optional. A sentence saying why the transport failed ("" if unknown). */
    const char *(*error_text)(pk_tr_t *t);
    /* Optional. The verified peer certificate's CN and O values (NULL when
     * there is none); true when the transport is TLS. */
    bool (*identity)(pk_tr_t *t, const char **cn, const char **orgs);
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
static inline size_t pk_tr_queued(pk_tr_t *t)
{
    return t->ops->queued ? t->ops->queued(t) : t->write_queued;
}
static inline const char *pk_tr_error_text(pk_tr_t *t)
{
    return t->ops->error_text ? t->ops->error_text(t) : "";
}
/* False (and NULLs) for plain TCP. */
static inline bool pk_tr_identity(pk_tr_t *t, const char **cn, const char **orgs)
{
    *cn = *orgs = NULL;
    return t->ops->identity ? t->ops->identity(t, cn, orgs) : false;
}

#endif /* PICOKUBE_LIB_HTTP_TRANSPORT_H */
