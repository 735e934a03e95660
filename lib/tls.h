/*
 * tls.h - private TLS plumbing of lib/: OpenSSL contexts (tls_ctx.c) and the
 * TLS transport (tls.c), an implementation of pk_tr_ops that wraps the TCP
 * one and drives OpenSSL through memory BIOs on the libuv loop: OpenSSL
 * never sees a file descriptor and never blocks.
 *
 * A context is built once (per server, per client setup) and shared by all
 * the connections made from it; it is reference counted because connections
 * can outlive the server or client that made them by a loop turn.
 */
#ifndef PICOKUBE_LIB_TLS_H
#define PICOKUBE_LIB_TLS_H

#include "lib/http_transport.h"
#include "lib/lib.h"

#include <openssl/ssl.h>

struct pk_tls_ctx {
    SSL_CTX *ssl;
    int refs; /* atomic */
    bool server;
    bool insecure;     /* client: no verification */
    char *server_name; /* client: the name to verify instead of the URL's host */
};

/* For a server: certificate, key, optional client CA (see
 * http_server_config). NULL with the reason in err on a bad PEM. */
struct pk_tls_ctx *pk_tls_server_ctx(const struct http_server_config *cfg, char *err,
                                     size_t errlen);
/* For a client; tls NULL: the system store, no client certificate. */
struct pk_tls_ctx *pk_tls_client_ctx(const struct http_tls_client *tls, char *err, size_t errlen);
/* The process-wide client context (http_client_set_default_tls), built from
 * the system store on first use. A new reference; NULL (logged) if the
 * system store cannot be loaded. */
struct pk_tls_ctx *pk_tls_default_client_ctx(void);
void pk_tls_ctx_ref(struct pk_tls_ctx *c);
void pk_tls_ctx_unref(struct pk_tls_ctx *c);

/* Fills err with the OpenSSL error queue's last reason (and clears the
 * queue): "" when it is empty. */
void pk_tls_err_text(char *err, size_t errlen);

/* Accepts a pending connection on a listening TCP handle and starts the
 * server side of a handshake. The owner sees no byte before it completes. */
int pk_tr_tls_accept(uv_stream_t *listener, struct pk_tls_ctx *ctx, const struct pk_tr_cbs *cbs,
                     void *data, pk_tr_t **out);
/* Connects and runs the client side of a handshake; cbs->on_connect reports
 * 0 once the server is verified (host: the name or IP address to check,
 * unless the context names another), or an error (UV_EPROTO for TLS
 * failures, the reason in pk_tr_error_text). */
int pk_tr_tls_connect(uv_loop_t *loop, const struct sockaddr *addr, struct pk_tls_ctx *ctx,
                      const char *host, const struct pk_tr_cbs *cbs, void *data, pk_tr_t **out);

#endif /* PICOKUBE_LIB_TLS_H */
