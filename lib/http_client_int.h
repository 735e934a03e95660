/*
 * http_client_int.h - private structures of the HTTP client, shared by
 * http_client.c (URLs, connections, attempts and fail-over, public calls) and
 * http_client_resp.c (response parsing and delivery to the caller).
 *
 * A request (struct http_stream, for plain requests too) lives until its
 * callback has run and its timer handle is closed; a connection lives until
 * its transport is closed. The client itself is freed when the caller has
 * called http_client_free and no request or connection is left, so any
 * callback may free the client.
 */
#ifndef PICOKUBE_LIB_HTTP_CLIENT_INT_H
#define PICOKUBE_LIB_HTTP_CLIENT_INT_H

#include "lib/http_transport.h"
#include "lib/lib.h"
#include "lib/sbuf.h"

#include <llhttp.h>
#include <sys/socket.h>

#define CLIENT_DEFAULT_TIMEOUT_MS 60000u
/* How long one URL may take to accept a connection before the next is tried. */
#define CLIENT_CONNECT_TIMEOUT_MS 5000u
/* Kept warm per URL: each new TLS connection costs a handshake. */
#define CLIENT_MAX_IDLE_PER_URL 64
#define CLIENT_MAX_BODY (512u * 1024 * 1024)
#define CLIENT_MAX_LINE (64u * 1024 * 1024)

struct client_url {
    char *base;     /* "http://host:port[/prefix]" as reported to callers */
    char *host;     /* for resolving, without brackets */
    char *hostport; /* the Host header */
    char *prefix;   /* "" or "/prefix", put before every path */
    int port;
    bool tls;     /* https:// */
    bool literal; /* host is an IP address: addr is ready */
    struct sockaddr_storage addr;
};

struct cconn {
    http_client_t *cl;
    pk_tr_t *t;
    size_t url;
    struct http_stream *req; /* NULL when idle in the pool */
    llhttp_t parser;
    bool connected;
    bool idle;
    bool closing;
    bool dead; /* cannot carry another request */
    struct cconn *prev, *next;
};

struct http_client {
    uv_loop_t *loop;
    struct client_url *urls;
    size_t n_urls;
    size_t current; /* the URL that last answered */
    char *bearer;
    struct pk_tls_ctx *tls; /* for https:// URLs; NULL when there is none */
    char *last_tls_err;     /* see http_client_last_tls_error; NULL: none */
    struct cconn *conns;
    struct http_stream *reqs;
    int refs; /* the caller's, plus one per request and connection */
    bool freeing;
};

struct http_stream {
    http_client_t *cl;
    struct http_stream *prev, *next;
    char *method;
    char *target;
    char *content_type;
    char *extra_headers; /* "Name: value\r\n"..., or NULL */
    char *body;
    size_t len;
    http_response_fn cb;
    void *data;
    bool is_stream;
    struct http_stream_callbacks scb;

    uint64_t deadline;         /* loop ms; 0 for none */
    uint64_t connect_deadline; /* 0 unless connecting */
    size_t url;
    size_t tries;
    bool reused;    /* the current attempt rides a pooled connection */
    bool force_new; /* the next attempt opens a new connection */
    bool retried_fresh;
    bool resolving;
    bool finished;
    bool cancel_pending;
    bool got_bytes;
    bool status_sent;
    bool complete;   /* the response was parsed whole */
    bool keep_alive; /* ...and allows another request */
    int err;         /* why parsing was stopped (UV_ENOBUFS ...) */
    char *detail;    /* why the last attempt's TLS handshake failed, or NULL */
    int refs;
    struct cconn *conn;
    uv_timer_t timer;
    uv_getaddrinfo_t gai;

    int status;
    bool field_is_ct;
    struct sbuf field;
    struct sbuf ctype;
    struct sbuf in; /* body, or the partial line of a stream */
};

/* http_client.c */
void creq_unref(struct http_stream *r);
/* Ends r: closes its connection (unless detached before), calls the
 * caller's callback with err, releases it. Safe to call twice. */
void creq_finish(struct http_stream *r, int err);
void cconn_close(struct cconn *c);
/* Gives c back to the pool for its URL (or closes it). */
void cconn_release(struct cconn *c);

/* http_client_resp.c */
extern const llhttp_settings_t client_parser_settings;
void creq_reset_response(struct http_stream *r);
/* Bytes from r's connection: parse them and deliver what is complete. */
void creq_on_data(struct http_stream *r, const char *data, size_t n);
/* End of the connection after some response bytes. */
void creq_on_eof(struct http_stream *r, int err);
/* Calls the caller's callback (or on_end) for a finished request. */
void creq_deliver(struct http_stream *r, int err);

#endif /* PICOKUBE_LIB_HTTP_CLIENT_INT_H */
