/*
 * lib.h - plumbing shared by every picokube component.
 *
 * Nothing here knows about Kubernetes. It owns:
 *   - logging (log_*): one line per message on stderr, with level and component;
 *   - the Prometheus metrics registry (metrics_*): counters, gauges and histograms
 *     that any thread may update, rendered as Prometheus text;
 *   - flag parsing (flags_*): GNU-style --name value / --name=value flags;
 *   - the HTTP/1.1 server (http_server_*, http_req_*) on libuv + llhttp;
 *   - the HTTP/1.1 client (http_client_*) on libuv + llhttp, with keep-alive,
 *     several base URLs and fail-over between them, and line streaming for watches;
 *   - TLS for both (OpenSSL through memory BIOs on the loop): https:// URLs,
 *     a server certificate, optional client certificates;
 *   - the cluster PKI (pki_*): a CA, serving and client certificates, CA hashes;
 *   - small helpers: monotonic/wall clocks, atomic file writes, random bytes.
 *
 * Threading: a server or client belongs to the uv_loop_t it was made on and is
 * used only from that loop's thread. Logging and metrics are thread-safe.
 * The HTTP code sets SIGPIPE to ignored, process-wide, on first use: a peer
 * that hung up is a write error, not the end of the process.
 */
#ifndef PICOKUBE_LIB_H
#define PICOKUBE_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

/* ------------------------------------------------------------------ logging */

enum log_level { PKLOG_DEBUG = 0, PKLOG_INFO = 1, PKLOG_WARN = 2, PKLOG_ERROR = 3 };

/* Messages below this level are dropped. Default PKLOG_INFO; the environment
 * variable PICOKUBE_LOG=debug|info|warn|error sets it at first use. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Writes "2026-11-24T08:00:00.123Z I component: message" to stderr. */
void log_msg(enum log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(comp, ...) log_msg(PKLOG_DEBUG, comp, __VA_ARGS__)
#define log_info(comp, ...) log_msg(PKLOG_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...) log_msg(PKLOG_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) log_msg(PKLOG_ERROR, comp, __VA_ARGS__)

/* ------------------------------------------------------------------ metrics */

typedef struct metrics_counter metrics_counter_t;
typedef struct metrics_histogram metrics_histogram_t;

/* Returns the counter named `name` with the given label set (for example
 * `verb="GET",resource="pods"`, or NULL for none), creating it on first use.
 * The same name and labels always return the same counter. Never NULL. */
metrics_counter_t *metrics_counter(const char *name, const char *help, const char *labels);
void metrics_counter_add(metrics_counter_t *c, double v);

/* A gauge read at render time by calling fn(arg). `name` may carry labels
 * ("picokube_x{node=\"a\"}"). Registering the same name again replaces fn
 * and arg. fn is called without the registry lock held, so it may take its
 * own locks. */
void metrics_gauge_fn(const char *name, const char *help, double (*fn)(void *arg), void *arg);
/* Unregisters a function gauge (same name, labels included) before its arg
 * goes away; returns once no render is still calling it. */
void metrics_gauge_fn_remove(const char *name);

/* A gauge holding a value that is set (rather than read by a function);
 * same name and labels give the same gauge. Never NULL. */
typedef struct metrics_gauge metrics_gauge_t;
metrics_gauge_t *metrics_gauge(const char *name, const char *help, const char *labels);
void metrics_gauge_set(metrics_gauge_t *g, double v);
void metrics_gauge_add(metrics_gauge_t *g, double v);

/* The current value of a counter (for tests and status pages). */
double metrics_counter_value(metrics_counter_t *c);

/* Histogram with the given upper bounds (ascending, +Inf implied); NULL bounds
 * give the default latency buckets in seconds (0.0005 ... 10). */
metrics_histogram_t *metrics_histogram(const char *name, const char *help, const char *labels,
                                       const double *bounds, size_t n_bounds);
void metrics_histogram_observe(metrics_histogram_t *h, double v);

/* Renders every metric as Prometheus text format 0.0.4. Caller frees. */
char *metrics_render(size_t *len);

/* -------------------------------------------------------------------- flags */

enum flag_type {
    FLAG_STRING, /* dest: const char ** */
    FLAG_BOOL,   /* dest: bool *; "--x", "--x=true", "--x=false" */
    FLAG_INT,    /* dest: long * */
    FLAG_LIST,   /* dest: struct flag_list *; repeatable, also comma-separated */
};

struct flag_list {
    const char *items[32];
    size_t n;
};

struct flag_spec {
    const char *name; /* without the leading dashes */
    enum flag_type type;
    void *dest;
    const char *help;
};

/* Parses argv[0..argc) against specs (terminated by a spec with name NULL).
 * Positional arguments are moved to the front of argv, in order, and their
 * count is returned. On an unknown flag, a missing value or a bad number it
 * returns -1 with a message like `unknown flag: --foo` in err. */
int flags_parse(const struct flag_spec *specs, int argc, char **argv, char *err, size_t errlen);
void flags_usage(FILE *out, const struct flag_spec *specs);

/* -------------------------------------------------------------- HTTP server */

typedef struct http_server http_server_t;
typedef struct http_req http_req_t;

/* Called once per complete request, on the loop thread. The handler must
 * eventually complete the request with http_respond() or, for a stream,
 * http_stream_end() - immediately or later from any callback on the same loop. */
typedef void (*http_handler_fn)(http_req_t *req, void *data);

struct http_server_config {
    const char *host;         /* e.g. "0.0.0.0" or "127.0.0.1" */
    int port;                 /* 0 picks a free port (see http_server_port) */
    size_t max_body;          /* default 3 MiB; larger bodies get 413 */
    size_t max_header;        /* default 64 KiB; larger headers get 431 */
    unsigned idle_timeout_ms; /* keep-alive idle close; default 90 s */
    unsigned read_timeout_ms; /* a request must arrive whole within; default 30 s */
    /* TLS. tls_cert_pem NULL: plain HTTP. Each is PEM text, or the path of a
     * PEM file when it does not contain "-----BEGIN". The certificate may be
     * followed by its intermediates. The server speaks TLS 1.2 and 1.3 only,
     * picks ALPN "http/1.1", and answers a plain HTTP request on its port
     * with 400 and a message telling to use https://. A slow handshake is
     * bounded by read_timeout_ms. */
    const char *tls_cert_pem;
    const char *tls_key_pem;
    /* CA (PEM or path) that client certificates must chain to; NULL: no
     * client certificate is asked for. A client presenting a certificate
     * that does not verify is refused during the handshake. */
    const char *tls_client_ca_pem;
    /* With tls_client_ca_pem: a client without a certificate is refused too
     * (raft peers). Without it the certificate is optional (bearer tokens). */
    bool tls_require_client_cert;
};

int http_server_start(uv_loop_t *loop, const struct http_server_config *cfg, http_handler_fn fn,
                      void *data, http_server_t **out);
int http_server_port(http_server_t *s);
/* How many connections the server has accepted so far (tests, metrics). */
unsigned long http_server_accepted(http_server_t *s);
/* Stops accepting, lets requests in flight finish (streams are told through
 * their close callback), then frees the server and calls done(arg). */
void http_server_stop(http_server_t *s, void (*done)(void *arg), void *arg);

const char *http_req_method(http_req_t *req);
/* The path, percent-decoded, without the query string. */
const char *http_req_path(http_req_t *req);
/* The raw query string without '?', "" when there is none. */
const char *http_req_raw_query(http_req_t *req);
/* The decoded value of query parameter `name`, NULL when absent. */
const char *http_req_query(http_req_t *req, const char *name);
/* Header value by case-insensitive name, NULL when absent. */
const char *http_req_header(http_req_t *req, const char *name);
/* The request body, NUL-terminated ("" when there is none). */
const char *http_req_body(http_req_t *req, size_t *len);
/* The peer's IP address as text. */
const char *http_req_peer(http_req_t *req);
/* Whether the request came over TLS. */
bool http_req_tls(http_req_t *req);
/* The verified client certificate's subject CN, and its O values joined by
 * "," ("" when it has none); both NULL when no certificate was presented
 * (or on plain HTTP). Valid until the request is completed. */
const char *http_req_peer_cn(http_req_t *req);
const char *http_req_peer_orgs(http_req_t *req);

/* Called at most once if the client goes away (or the server stops) before the
 * request is completed; the handler must still complete the request. */
void http_req_on_close(http_req_t *req, void (*cb)(http_req_t *req, void *arg), void *arg);
bool http_req_client_gone(http_req_t *req);

/* Adds a response header (before respond / stream_begin). */
void http_req_add_header(http_req_t *req, const char *name, const char *value);

/* Sends a whole response and completes the request. */
void http_respond(http_req_t *req, int status, const char *content_type, const char *body,
                  size_t len);

/* Chunked streaming: begin once, write any number of times, end once. Writes
 * after the client went away are dropped and return -1. A client that reads
 * too slowly (16 MiB queued) is dropped: the write returns -1 and on_close
 * follows from the loop, unless the handler completes the request first. */
int http_stream_begin(http_req_t *req, int status, const char *content_type);
int http_stream_write(http_req_t *req, const char *data, size_t len);
void http_stream_end(http_req_t *req);

/* -------------------------------------------------------------- HTTP client */

typedef struct http_client http_client_t;
typedef struct http_stream http_stream_t;

typedef struct http_response {
    int err;                  /* 0, or a negative UV_* code (UV_ETIMEDOUT, UV_ECONNREFUSED ...) */
    int status;               /* HTTP status when err == 0 */
    const char *content_type; /* "" when the response has none */
    const char *body;         /* NUL-terminated; valid only during the callback */
    size_t len;
    const char *url; /* the base URL that answered (or failed last) */
    /* When err != 0 and a TLS handshake failed: why, for the user ("the
     * server's certificate is not signed by a trusted CA ..."); else "". */
    const char *detail;
} http_response_t;

typedef void (*http_response_fn)(const http_response_t *res, void *data);

/* `urls` is one base URL or several separated by commas
 * ("https://10.0.0.1:6443,https://10.0.0.2:6443"); http:// and https://
 * (default ports 80 and 443) may be mixed. A request that cannot connect,
 * or whose connection fails before any response byte, moves on to the next URL
 * by itself; the URL that last worked is tried first. `bearer` may be NULL.
 * A base URL may carry a path prefix (http://host:8080/prefix). https://
 * URLs use the process default (http_client_set_default_tls), else the
 * system's CA store. Returns NULL (and logs why) when a URL is malformed or
 * not http(s)://, or when https:// is asked for and no CA can be loaded. */
http_client_t *http_client_new(uv_loop_t *loop, const char *urls, const char *bearer);

/* How a client speaks TLS on https:// URLs. PEM fields are PEM text, or the
 * path of a PEM file when they do not contain "-----BEGIN". */
struct http_tls_client {
    const char *ca_pem;   /* CA certificate(s) to trust; NULL: the system store */
    const char *cert_pem; /* client certificate (and chain), or NULL */
    const char *key_pem;  /* its key; required with cert_pem */
    /* Name the server's certificate must carry (and SNI), instead of each
     * URL's host (kubeconfig tls-server-name); NULL: the URL's host. Hosts
     * that are IP addresses are checked against the certificate's IP SANs. */
    const char *server_name;
    /* No verification at all. Only to fetch a CA whose SHA-256 is then
     * checked against a join token (k3s style): never send a secret so. */
    bool insecure_skip_verify;
};

/* http_client_new with an explicit TLS setup (NULL: as http_client_new).
 * The OpenSSL context is built here, once per client: for many clients with
 * the same setup, set it once with http_client_set_default_tls instead.
 * Returns NULL (and logs why) when a URL or a PEM is bad. */
http_client_t *http_client_new_tls(uv_loop_t *loop, const char *urls, const char *bearer,
                                   const struct http_tls_client *tls);
/* Sets the process-wide TLS setup of clients made by http_client_new and
 * http_fetch (NULL: back to the system store, no client certificate).
 * Thread-safe: may be called from any thread at any time; clients made
 * afterwards use it, clients made before keep what they had. Returns 0, or
 * UV_EINVAL (logged) when a PEM is bad: the previous setup then stays. */
int http_client_set_default_tls(const struct http_tls_client *tls);
/* The same with only a CA (PEM text or path). */
int http_client_set_default_ca(const char *ca_pem);
/* Why the last attempt of this client failed in a TLS handshake ("" if
 * none did): for streams, whose on_end carries only a code. */
const char *http_client_last_tls_error(http_client_t *c);
/* Closes idle connections and frees the client once requests in flight ended
 * (their callbacks run with err UV_ECANCELED, before this call returns).
 * May be called from any of the client's callbacks. */
void http_client_free(http_client_t *c);
const char *http_client_current_url(http_client_t *c);

/* Sends a request; cb runs exactly once, never from inside this call.
 * timeout_ms covers connecting (fail-over included) and the whole response;
 * 0 means 60 s. Each URL gets at most 5 s to accept the connection before the
 * next is tried. Returns 0, or a negative UV code (then cb is never called):
 * UV_ECANCELED once http_client_free was called. */
int http_client_request(http_client_t *c, const char *method, const char *path_query,
                        const char *content_type, const char *body, size_t len, unsigned timeout_ms,
                        http_response_fn cb, void *data);
/* The same with extra request headers: "Name: value\r\n" lines, or NULL. */
int http_client_request_ex(http_client_t *c, const char *method, const char *path_query,
                           const char *extra_headers, const char *content_type, const char *body,
                           size_t len, unsigned timeout_ms, http_response_fn cb, void *data);

struct http_stream_callbacks {
    /* Response status and content type, once, before any line. */
    void (*on_status)(int status, const char *content_type, void *data);
    /* Each newline-terminated line of the body, without the newline (nor a
     * "\r" before it), NUL-terminated. On a clean end, a last line without
     * its newline is delivered too. */
    void (*on_line)(const char *line, size_t len, void *data);
    /* The stream ended: err 0 on a clean end, else a negative UV_* code. Last call. */
    void (*on_end)(int err, void *data);
};

/* A long-running GET whose body is read line by line (Kubernetes watches).
 * Connection failures before the status fail over like requests do. */
http_stream_t *http_client_stream(http_client_t *c, const char *path_query,
                                  const struct http_stream_callbacks *cbs, void *data);
/* The same with extra request headers ("Name: value\r\n" lines, or NULL). */
http_stream_t *http_client_stream_ex(http_client_t *c, const char *path_query,
                                     const char *extra_headers,
                                     const struct http_stream_callbacks *cbs, void *data);
/* Stops a stream; on_end is called with UV_ECANCELED (not from inside this call).
 * The connection is closed at once. Do not call it after on_end. */
void http_stream_cancel(http_stream_t *s);

/* Blocking request on a private loop, for CLIs: fills *out (body malloc'd,
 * caller frees out->body cast to char *). Returns out->err. */
int http_fetch(const char *urls, const char *bearer, const char *method, const char *path_query,
               const char *content_type, const char *body, size_t len, unsigned timeout_ms,
               http_response_t *out);
/* The same with extra request headers ("Name: value\r\n" lines, or NULL).
 * out->content_type and out->url live in the out->body allocation. */
int http_fetch_ex(const char *urls, const char *bearer, const char *method, const char *path_query,
                  const char *extra_headers, const char *content_type, const char *body, size_t len,
                  unsigned timeout_ms, http_response_t *out);
/* The same with an explicit TLS setup (NULL: the process default).
 * out->detail lives in the out->body allocation too. */
int http_fetch_tls(const char *urls, const char *bearer, const struct http_tls_client *tls,
                   const char *method, const char *path_query, const char *extra_headers,
                   const char *content_type, const char *body, size_t len, unsigned timeout_ms,
                   http_response_t *out);

/* ---------------------------------------------------------------------- PKI */

/* The cluster's certificates, on OpenSSL 3: EC P-256 keys, SHA-256
 * signatures, PEM text (keys as unencrypted PKCS#8: store them mode 0600).
 * Functions return 0, -EINVAL for bad input (unparsable PEM, a bad name or
 * IP address; logged), or -EIO when OpenSSL fails. Thread-safe. */

/* A self-signed CA, CN `cn` (NULL: "picokube-ca"), valid for `days` (0:
 * 3650) from an hour ago (clocks of small machines drift). Outputs malloc'd. */
int pki_ca_create(const char *cn, unsigned days, char **cert_pem, char **key_pem);

enum { PKI_SERVER = 1, PKI_CLIENT = 2 };

struct pki_cert_spec {
    const char *cn;          /* subject CN (a user or node name for clients) */
    const char *const *orgs; /* subject O values (groups), NULL-terminated; or NULL */
    const char *const *dns;  /* SAN DNS names, NULL-terminated; or NULL */
    const char *const *ips;  /* SAN IP addresses (IPv4 or IPv6 text); or NULL */
    unsigned usage;          /* PKI_SERVER | PKI_CLIENT (extended key usage) */
    unsigned days;           /* 0: 3650 (nothing renews certificates yet) */
};

/* A certificate for a new key, signed by the CA (its cert and key, PEM).
 * Outputs malloc'd. */
int pki_cert_issue(const char *ca_cert_pem, const char *ca_key_pem,
                   const struct pki_cert_spec *spec, char **cert_pem, char **key_pem);
/* SHA-256 of the first certificate's DER, as 64 lowercase hex digits + NUL
 * (the hash a k3s-style join token K10<hash>::server:<secret> pins). */
int pki_cert_sha256(const char *cert_pem, char hex[65]);
/* 0 when the first certificate of cert_pem (with the others as
 * intermediates) chains to a CA in ca_pem and is valid now; -EACCES with
 * the reason in err (may be NULL) when not; -EINVAL for bad PEM. */
int pki_verify(const char *cert_pem, const char *ca_pem, char *err, size_t errlen);
/* 0 when key_pem is the private key of cert_pem's first certificate. */
int pki_key_matches(const char *cert_pem, const char *key_pem);

struct pki_cert_info {
    char cn[256];
    char orgs[256];                       /* O values joined by "," */
    char sans[1024];                      /* "DNS:a,DNS:b,IP:127.0.0.1" */
    uint64_t not_before_ms, not_after_ms; /* wall clock */
    bool is_ca;
};
/* Decodes the first certificate of a PEM text. */
int pki_cert_info(const char *cert_pem, struct pki_cert_info *out);
/* Standard base64 of len bytes (kubeconfig's certificate-authority-data is
 * base64 of the PEM text), NUL-terminated, malloc'd. */
char *pki_base64(const void *data, size_t len);

/* ------------------------------------------------------------------ helpers */

/* Milliseconds from CLOCK_MONOTONIC / CLOCK_REALTIME. */
uint64_t time_mono_ms(void);
uint64_t time_wall_ms(void);
/* RFC 3339 UTC with seconds ("2026-11-24T08:00:00Z") into buf (>= 21 bytes). */
void time_format_rfc3339(uint64_t wall_ms, char *buf, size_t len);
/* Parses RFC 3339 into wall ms; -1 on error. */
int time_parse_rfc3339(const char *s, uint64_t *wall_ms);

/* Writes data to path atomically (temp file in the same folder, fsync, rename,
 * fsync of the folder) with the given mode. Returns 0 or -errno. */
int file_write_atomic(const char *path, const void *data, size_t len, int mode);
/* Reads a whole file (NUL-terminated). Returns NULL with errno set. */
char *file_read_all(const char *path, size_t *len);
/* mkdir -p; returns 0 or -errno. */
int file_mkdirs(const char *path, int mode);

/* Fills buf with cryptographically random bytes (getrandom). 0 or -errno. */
int random_bytes(void *buf, size_t len);
/* n random bytes as 2n lowercase hex characters + NUL into out. */
int random_hex(char *out, size_t n);

#endif /* PICOKUBE_LIB_H */
