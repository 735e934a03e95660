/*
 * http_server_int.h - private structures shared by http_server.c (listening,
 * connections, parsing, lifecycle) and http_req.c (the request object, its
 * accessors and the response/stream writers).
 *
 * Ownership: the server owns its connections; a connection owns the request
 * being parsed and the one being handled (at most one: pipelined requests
 * wait, unparsed, in conn->in). A request that was handed to the handler
 * lives until the handler completes it, even if its connection is gone; the
 * connection struct is kept until then too (with its handles closed).
 */
#ifndef PICOKUBE_LIB_HTTP_SERVER_INT_H
#define PICOKUBE_LIB_HTTP_SERVER_INT_H

#include "lib/http_transport.h"
#include "lib/lib.h"
#include "lib/sbuf.h"

#include <llhttp.h>

/* Past this many bytes queued for one streaming client, the client is
 * dropped: a stuck watcher must not grow the server without bound. */
#define SRV_MAX_STREAM_QUEUED (16u * 1024 * 1024)
/* Unparsed pipelined input kept while a request is handled; past it the
 * server stops reading from that client until the request completes. */
#define SRV_MAX_PENDING_INPUT (1u * 1024 * 1024)
/* After the last response on a closing connection, read and discard for this
 * long so that the client sees the response and not a reset. */
#define SRV_LINGER_MS 2000

enum conn_state {
    CS_OPEN,    /* reading requests and answering them */
    CS_LINGER,  /* last response queued: flushing, then discarding input */
    CS_CLOSING, /* handles closing or closed */
};

struct srv_conn {
    http_server_t *srv;
    pk_tr_t *t; /* NULL once closed */
    uv_timer_t timer;
    llhttp_t parser;
    struct sbuf in; /* received, not yet parsed */
    size_t in_off;
    http_req_t *parsing; /* request whose bytes are arriving */
    http_req_t *ready;   /* parsed whole, about to go to the handler */
    http_req_t *active;  /* with the handler, not completed yet */
    int err_status;      /* answer a parser callback asked for (400/413/431) */
    size_t hdr_bytes;
    enum conn_state state;
    int handles_open;
    int in_cb;        /* > 0 while a user callback runs: do not free */
    bool peer_eof;    /* the client sent FIN */
    bool in_process;  /* inside conn_process: completions do not recurse */
    bool kick_queued; /* in srv->kick_conns */
    bool reading;
    char peer[64];
    bool tls;
    bool ident_done; /* peer_cn/peer_orgs read from the transport */
    char *peer_cn;   /* verified client certificate, or NULL */
    char *peer_orgs;
    struct srv_conn *prev, *next; /* srv->conns */
    struct srv_conn *kick_next;
};

struct http_req {
    struct srv_conn *conn;
    http_server_t *srv;
    const char *method;
    struct sbuf url;
    struct sbuf hbuf; /* "name\0value\0..." */
    size_t *hoff;     /* offsets into hbuf: name, value, name, value ... */
    size_t n_hoff, cap_hoff;
    size_t cur_start;
    struct sbuf body;
    char *path;       /* decoded */
    char *query;      /* raw */
    struct sbuf pbuf; /* decoded query params "k\0v\0..." */
    const char **params;
    size_t n_params;
    struct sbuf resp_hdrs; /* "Name: value\r\n" lines added by the handler */
    void (*on_close)(http_req_t *req, void *arg);
    void *on_close_arg;
    bool close_fired;
    bool gone;
    bool streaming;
    bool chunked; /* streaming with chunked framing (HTTP/1.1) */
    bool head;
    bool http10;
    bool keep_alive;
    bool kick_queued; /* in srv->kick_reqs (an on_close to deliver) */
    http_req_t *kick_next;
};

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_idle_t kick;                /* runs deferred work: pipelined input, on_close calls */
    struct http_server_config cfg; /* without host and TLS strings: the caller's */
    struct pk_tls_ctx *tls;        /* NULL: plain HTTP */
    http_handler_fn fn;
    void *data;
    struct srv_conn *conns;
    size_t n_conns;
    struct srv_conn *kick_conns;
    http_req_t *kick_reqs;
    unsigned long accepted;
    int port;
    bool stopping;
    bool listener_closed;
    bool freeing;
    int failed_closes;
    void (*done)(void *arg);
    void *done_arg;
};

/* http_req.c */
http_req_t *srv_req_new(struct srv_conn *c);
void srv_req_free(http_req_t *r);
/* Splits and decodes the request target; -1 when it is malformed. */
int srv_req_parse_target(http_req_t *r);
const char *http_status_text(int status);
/* "Date: <IMF-fixdate>\r\n" */
void http_put_date(struct sbuf *b);

/* http_server.c */
/* Queues bytes for the client (takes buf). -1 when the connection is gone. */
int srv_conn_send(struct srv_conn *c, char *buf, size_t len);
/* Drops a client that does not keep up; its on_close follows. */
void srv_conn_drop(struct srv_conn *c);
/* The handler is done with r: frees it and moves the connection on. */
void srv_req_complete(http_req_t *r);
/* Delivers r's on_close from the loop soon (never from inside the caller). */
void srv_req_queue_close(http_req_t *r);
/* Whether the response to r must end the connection. */
bool srv_req_closes(http_req_t *r);

#endif /* PICOKUBE_LIB_HTTP_SERVER_INT_H */
