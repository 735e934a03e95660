/*
 * tls.c - the TLS implementation of pk_tr_t (see http_transport.h): a TCP
 * transport underneath carries ciphertext; OpenSSL works between two memory
 * BIOs (rbio: ciphertext received, wbio: ciphertext to send), so it never
 * owns a socket nor blocks the loop.
 *
 * Flow: bytes from TCP go into rbio; the handshake (or SSL_read) consumes
 * them; whatever OpenSSL wrote to wbio is moved to a TCP write at once.
 * Plain text reaches the owner only after the handshake, through one
 * per-thread buffer (the owner copies what it keeps), and only while the
 * owner is reading: when it stops, TCP reading stops too, and what is
 * already buffered is delivered from a timer after it starts again (never
 * from inside read_start, which owners call from their own callbacks).
 *
 * A server transport looks at the first byte: a TLS connection starts with
 * a handshake record (22); anything else is a plain HTTP client on the
 * HTTPS port, answered with a 400 that says to use https:// and closed.
 *
 * Errors reach the owner as codes (UV_EPROTO for TLS failures), with a
 * sentence for the user in pk_tr_error_text.
 */
#include "lib/sbuf.h"
#include "lib/tls.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdatomic.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Plain text is encrypted this much at a time, so wbio stays small. */
#define TLS_WRITE_SLICE (32u * 1024)
/* A memory BIO keeps its largest buffer: past this, an empty one is
 * replaced, so an idle connection does not hold a past burst's memory. */
#define TLS_BIO_KEEP (64u * 1024)
/* How long a refused plain HTTP client gets to read the 400. */
#define TLS_REJECT_LINGER_MS 2000

struct tls_tr {
    pk_tr_t base;
    pk_tr_t *inner;
    struct pk_tls_ctx *ctx;
    SSL *ssl;
    uv_timer_t timer;    /* deferred delivery; linger after a refusal */
    struct sbuf pending; /* plain text written before the handshake ended */
    void (*shutdown_done)(pk_tr_t *t, int status);
    int handles; /* inner transport + timer */
    int err;     /* a failure not yet told to the owner (0: none) */
    char err_text[512];
    char *peer_cn, *peer_orgs;
    char host[256]; /* client: what the certificate is checked against */
    bool server;
    bool hs_done;
    bool reading; /* the owner's wish */
    bool inner_reading;
    bool inner_eof;
    bool eof_told;
    bool err_told;
    bool sniffed;
    bool rejecting;
    bool shut_wanted;
    bool in_process;
};

static _Thread_local char plain_buf[64 * 1024];

static metrics_counter_t *hs_failures(bool server)
{
    /* Racing first calls get the same counter: the registry dedups. */
    static _Atomic(metrics_counter_t *) c[2];
    int i = server ? 1 : 0;
    if (!c[i])
        c[i] = metrics_counter("picokube_tls_handshake_failures_total",
                               "TLS handshakes that failed (bad certificate, protocol, plain "
                               "HTTP on an HTTPS port)",
                               server ? "side=\"server\"" : "side=\"client\"");
    return c[i];
}

static void process(struct tls_tr *t);

/* ----------------------------------------------------------- plumbing */

static void update_inner(struct tls_tr *t)
{
    if (t->base.closing) return;
    bool want = !t->inner_eof && !t->err && (t->rejecting || !t->hs_done || t->reading);
    if (want && !t->inner_reading) {
        if (pk_tr_read_start(t->inner) == 0) t->inner_reading = true;
    } else if (!want && t->inner_reading) {
        pk_tr_read_stop(t->inner);
        t->inner_reading = false;
    }
}

/* Replaces an empty memory BIO that grew past TLS_BIO_KEEP. */
static void bio_trim(struct tls_tr *t, bool rbio)
{
    BIO *b = rbio ? SSL_get_rbio(t->ssl) : SSL_get_wbio(t->ssl);
    BUF_MEM *m = NULL;
    BIO_get_mem_ptr(b, &m);
    if (!m || m->max <= TLS_BIO_KEEP || BIO_ctrl_pending(b) > 0) return;
    BIO *n = BIO_new(BIO_s_mem());
    if (!n) return;
    if (rbio)
        SSL_set0_rbio(t->ssl, n);
    else
        SSL_set0_wbio(t->ssl, n);
}

/* Moves what OpenSSL wrote to the TCP transport. */
static int flush(struct tls_tr *t)
{
    BIO *w = SSL_get_wbio(t->ssl);
    size_t n = BIO_ctrl_pending(w);
    if (n == 0) return 0;
    char *buf = xmalloc(n);
    int got = BIO_read(w, buf, (int)n);
    bio_trim(t, false);
    if (got <= 0) {
        free(buf);
        return UV_EPROTO;
    }
    return pk_tr_write(t->inner, buf, (size_t)got);
}

static void on_timer(uv_timer_t *h);

static void schedule(struct tls_tr *t, unsigned ms)
{
    if (!t->base.closing) uv_timer_start(&t->timer, on_timer, ms, 0);
}

static bool has_buffered(struct tls_tr *t)
{
    return SSL_pending(t->ssl) > 0 || BIO_ctrl_pending(SSL_get_rbio(t->ssl)) > 0 ||
           (t->inner_eof && !t->eof_told) || (t->err && !t->err_told);
}

/* Tells the owner of a failure, now if it reads, else when it does. */
static void tell_error(struct tls_tr *t)
{
    if (!t->err || t->err_told || !t->reading || t->base.closing) return;
    t->err_told = true;
    t->reading = false;
    t->base.cbs->on_read(&t->base, NULL, t->err);
}

static void fail(struct tls_tr *t, int err)
{
    if (t->err) return;
    t->err = err;
    update_inner(t);
}

/* ------------------------------------------------------------ handshake */

/* Fills err_text; true when a certificate was the problem (worth a
 * warning: a wrong CA, an impostor), false for protocol noise. */
static bool describe_failure(struct tls_tr *t)
{
    char why[200];
    pk_tls_err_text(why, sizeof(why));
    long vr = SSL_get_verify_result(t->ssl);
    if (!t->server && vr != X509_V_OK) {
        if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
            snprintf(t->err_text, sizeof(t->err_text),
                     "TLS: the server's certificate is not valid for %s (not among its "
                     "subject alternative names)",
                     t->host);
        else
            snprintf(t->err_text, sizeof(t->err_text),
                     "TLS: the server's certificate is not trusted (%s): is the CA given "
                     "(certificate-authority) the one of this cluster?",
                     X509_verify_cert_error_string(vr));
        return true;
    } else if (t->server && vr != X509_V_OK) {
        snprintf(t->err_text, sizeof(t->err_text),
                 "TLS: the client's certificate is not trusted (%s)",
                 X509_verify_cert_error_string(vr));
        return true;
    } else if (t->server && strstr(why, "did not return a certificate")) {
        snprintf(t->err_text, sizeof(t->err_text),
                 "TLS: the client presented no certificate, and one is required");
        return true;
    } else if (!t->server &&
               (strstr(why, "wrong version number") || strstr(why, "packet length too long") ||
                strstr(why, "record layer failure"))) {
        snprintf(t->err_text, sizeof(t->err_text),
                 "TLS handshake failed (%s): is the server speaking plain HTTP? Try http://", why);
    } else {
        snprintf(t->err_text, sizeof(t->err_text), "TLS handshake failed: %s",
                 *why ? why : "connection closed by the peer");
    }
    return false;
}

/* Appends the UTF-8 values of one subject attribute, joined by ",". */
static void name_values(X509_NAME *nm, int nid, struct sbuf *out, bool first_only)
{
    for (int i = -1; (i = X509_NAME_get_index_by_NID(nm, nid, i)) >= 0;) {
        unsigned char *s = NULL;
        int n = ASN1_STRING_to_UTF8(&s, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i)));
        if (n < 0) continue;
        if (out->len) sbuf_putc(out, ',');
        sbuf_append(out, s, (size_t)n);
        OPENSSL_free(s);
        if (first_only) break;
    }
}

static void peer_identity(struct tls_tr *t)
{
    X509 *x = SSL_get0_peer_certificate(t->ssl);
    if (!x || SSL_get_verify_result(t->ssl) != X509_V_OK) return;
    X509_NAME *nm = X509_get_subject_name(x);
    struct sbuf cn = {0}, orgs = {0};
    name_values(nm, NID_commonName, &cn, true);
    name_values(nm, NID_organizationName, &orgs, false);
    t->peer_cn = sbuf_take(&cn);
    t->peer_orgs = sbuf_take(&orgs);
}

static int start_shutdown(struct tls_tr *t);

static int write_plain(struct tls_tr *t, const char *p, size_t len)
{
    while (len) {
        size_t n = len < TLS_WRITE_SLICE ? len : TLS_WRITE_SLICE, done = 0;
        ERR_clear_error();
        if (SSL_write_ex(t->ssl, p, n, &done) != 1) {
            pk_tls_err_text(t->err_text, sizeof(t->err_text));
            return UV_EPROTO;
        }
        int rc = flush(t);
        if (rc < 0) return rc;
        p += done;
        len -= done;
    }
    return 0;
}

static void on_inner_shutdown(pk_tr_t *inner, int status);

static void handshake(struct tls_tr *t)
{
    ERR_clear_error();
    int rc = SSL_do_handshake(t->ssl);
    int e = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, rc);
    /* The alert of a failure goes out too. */
    int frc = flush(t);
    if (rc != 1) {
        if (e == SSL_ERROR_WANT_READ && frc == 0 && !t->inner_eof) return;
        bool cert = false;
        if (e == SSL_ERROR_WANT_READ || frc < 0)
            snprintf(t->err_text, sizeof(t->err_text),
                     "TLS handshake failed: connection closed by the peer");
        else
            cert = describe_failure(t);
        ERR_clear_error();
        metrics_counter_add(hs_failures(t->server), 1);
        char peer[64];
        pk_tr_peer(t->inner, peer, sizeof(peer));
        if (t->server)
            log_msg(cert ? PKLOG_WARN : PKLOG_DEBUG, "http", "%s: %s", peer, t->err_text);
        else
            log_msg(cert ? PKLOG_WARN : PKLOG_DEBUG, "http", "https://%s (%s): %s", t->host, peer,
                    t->err_text);
        fail(t, UV_EPROTO);
        if (!t->server) t->err_told = true; /* told through on_connect */
        if (!t->server) t->base.cbs->on_connect(&t->base, UV_EPROTO);
        return;
    }
    t->hs_done = true;
    if (t->server) peer_identity(t);
    if (!t->server) {
        t->base.cbs->on_connect(&t->base, 0);
        if (t->base.closing) return;
    }
    if (t->pending.len) {
        struct sbuf p = t->pending;
        t->pending = (struct sbuf){0};
        int wrc = write_plain(t, p.p, p.len);
        sbuf_free(&p);
        if (wrc < 0) {
            fail(t, wrc);
            return;
        }
    }
    if (t->shut_wanted) {
        int src = start_shutdown(t);
        if (src < 0 && t->shutdown_done) t->shutdown_done(&t->base, src);
        if (t->base.closing) return;
    }
    update_inner(t);
}

/* ------------------------------------------------------------- reading */

static void deliver(struct tls_tr *t)
{
    while (t->reading && !t->base.closing && !t->err) {
        size_t n = 0;
        int e = SSL_ERROR_NONE;
        ERR_clear_error();
        while (n < sizeof(plain_buf)) {
            size_t got = 0;
            if (SSL_read_ex(t->ssl, plain_buf + n, sizeof(plain_buf) - n, &got) == 1) {
                n += got;
                continue;
            }
            e = SSL_get_error(t->ssl, 0);
            break;
        }
        if (n > 0) {
            t->base.cbs->on_read(&t->base, plain_buf, (ssize_t)n);
            continue;
        }
        if (e == SSL_ERROR_WANT_READ && !t->inner_eof) break;
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_ZERO_RETURN) {
            /* A peer that closed without close_notify is an EOF too: HTTP
             * framing, not TLS, tells whether a response was whole. */
            if (!t->eof_told) {
                t->eof_told = true;
                t->reading = false;
                t->base.cbs->on_read(&t->base, NULL, UV_EOF);
            }
            break;
        }
        char why[200];
        pk_tls_err_text(why, sizeof(why));
        snprintf(t->err_text, sizeof(t->err_text), "TLS connection failed: %s%s", why,
                 strstr(why, "alert") && !t->server
                     ? " (the server refused this client's certificate, or its lack of one)"
                     : "");
        fail(t, UV_EPROTO);
    }
    if (!t->base.closing) {
        tell_error(t);
        if (!t->base.closing && flush(t) < 0) fail(t, UV_EPIPE);
        if (!t->err) bio_trim(t, true);
        update_inner(t);
    }
}

static void process(struct tls_tr *t)
{
    if (t->in_process || t->base.closing) return;
    t->in_process = true;
    if (!t->hs_done && !t->err) handshake(t);
    if (t->hs_done)
        deliver(t);
    else if (t->err && t->server)
        tell_error(t);
    t->in_process = false;
}

static void on_timer(uv_timer_t *h)
{
    struct tls_tr *t = h->data;
    if (t->rejecting) {
        t->rejecting = false;
        fail(t, UV_EPROTO);
        tell_error(t);
        return;
    }
    process(t);
}

/* --------------------------------------------------- plain HTTP refusal */

/* The Host header of a plain request, for the hint; "" when not there. */
static void find_host(const char *data, size_t n, char *out, size_t len)
{
    out[0] = '\0';
    for (size_t i = 0; i + 7 < n; i++) {
        if (data[i] != '\n' || strncasecmp(data + i + 1, "host:", 5)) continue;
        size_t j = i + 6, k = 0;
        while (j < n && data[j] == ' ')
            j++;
        while (j < n && k + 1 < len && data[j] != '\r' && data[j] != '\n' &&
               (isalnum((unsigned char)data[j]) || strchr(".-:[]", data[j])))
            out[k++] = data[j++];
        out[k] = '\0';
        return;
    }
}

static void on_reject_shutdown(pk_tr_t *inner, int status)
{
    struct tls_tr *t = inner->data;
    (void)status;
    if (t->rejecting) schedule(t, TLS_REJECT_LINGER_MS);
}

static void reject_plain(struct tls_tr *t, const char *data, size_t n)
{
    char host[200], peer[64];
    find_host(data, n, host, sizeof(host));
    pk_tr_peer(t->inner, peer, sizeof(peer));
    struct sbuf body = {0}, b = {0};
    sbuf_printf(&body,
                "This picokube API server speaks HTTPS only: use https://%s%s instead of "
                "http://.\n",
                *host ? host : "<this server's address and port>", *host ? "/" : "");
    sbuf_printf(&b,
                "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
                "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                body.len, body.p);
    sbuf_free(&body);
    snprintf(t->err_text, sizeof(t->err_text), "plain HTTP on the HTTPS port: answered 400");
    log_debug("http", "%s: %s", peer, t->err_text);
    metrics_counter_add(hs_failures(true), 1);
    t->rejecting = true;
    size_t len = b.len;
    /* Discard the request while the answer goes out, then FIN and linger:
     * closing with unread input would reset the connection and lose it. */
    if (pk_tr_write(t->inner, sbuf_take(&b), len) < 0 ||
        pk_tr_shutdown(t->inner, on_reject_shutdown) < 0)
        schedule(t, 0);
}

/* --------------------------------------------------------- inner events */

static void in_on_connect(pk_tr_t *inner, int status)
{
    struct tls_tr *t = inner->data;
    if (t->base.closing) return;
    if (status < 0) {
        t->base.cbs->on_connect(&t->base, status);
        return;
    }
    update_inner(t);
    process(t); /* sends the ClientHello */
}

static void in_on_read(pk_tr_t *inner, const char *data, ssize_t n)
{
    struct tls_tr *t = inner->data;
    if (t->base.closing) return;
    if (n < 0) {
        t->inner_reading = false;
        t->inner_eof = true;
        if (t->rejecting) {
            uv_timer_stop(&t->timer);
            on_timer(&t->timer);
            return;
        }
        if (n != UV_EOF && !t->hs_done) {
            snprintf(t->err_text, sizeof(t->err_text),
                     "connection failed during the TLS "
                     "handshake: %s",
                     uv_strerror((int)n));
            if (!t->server) {
                t->err_told = true;
                fail(t, (int)n);
                t->base.cbs->on_connect(&t->base, (int)n);
                return;
            }
            fail(t, (int)n);
        } else if (n != UV_EOF) {
            fail(t, (int)n);
        }
        process(t);
        if (t->err && !t->base.closing) tell_error(t);
        return;
    }
    if (t->rejecting || t->err) return; /* discarding */
    if (t->server && !t->sniffed) {
        t->sniffed = true;
        if ((unsigned char)data[0] != 22) {
            reject_plain(t, data, (size_t)n);
            return;
        }
    }
    if (BIO_write(SSL_get_rbio(t->ssl), data, (int)n) != (int)n) {
        snprintf(t->err_text, sizeof(t->err_text), "out of memory");
        fail(t, UV_ENOMEM);
        tell_error(t);
        return;
    }
    process(t);
}

static void in_on_write_error(pk_tr_t *inner, int err)
{
    struct tls_tr *t = inner->data;
    if (t->base.closing) return;
    if (t->rejecting) {
        uv_timer_stop(&t->timer);
        on_timer(&t->timer);
        return;
    }
    if (!t->hs_done && !t->server) {
        /* The owner waits for on_connect, not for a write it never made. */
        if (t->err) return;
        snprintf(t->err_text, sizeof(t->err_text), "connection failed during the TLS handshake");
        fail(t, err);
        t->err_told = true;
        t->base.cbs->on_connect(&t->base, err);
        return;
    }
    if (t->base.cbs->on_write_error) t->base.cbs->on_write_error(&t->base, err);
}

static void finish_close(struct tls_tr *t)
{
    if (--t->handles > 0) return;
    if (t->base.cbs->on_close) t->base.cbs->on_close(&t->base);
    SSL_free(t->ssl);
    pk_tls_ctx_unref(t->ctx);
    sbuf_free(&t->pending);
    free(t->peer_cn);
    free(t->peer_orgs);
    free(t);
}

static void in_on_close(pk_tr_t *inner)
{
    finish_close(inner->data);
}

static void on_timer_closed(uv_handle_t *h)
{
    finish_close(h->data);
}

static const struct pk_tr_cbs inner_cbs = {
    .on_connect = in_on_connect,
    .on_read = in_on_read,
    .on_write_error = in_on_write_error,
    .on_close = in_on_close,
};

/* ------------------------------------------------------------------ ops */

static int tls_read_start(pk_tr_t *base)
{
    struct tls_tr *t = (struct tls_tr *)base;
    if (base->closing) return UV_EINVAL;
    if (t->reading) return 0;
    t->reading = true;
    update_inner(t);
    if ((t->hs_done || t->err) && has_buffered(t)) schedule(t, 0);
    return 0;
}

static int tls_read_stop(pk_tr_t *base)
{
    struct tls_tr *t = (struct tls_tr *)base;
    t->reading = false;
    update_inner(t);
    return 0;
}

static int tls_write(pk_tr_t *base, char *buf, size_t len)
{
    struct tls_tr *t = (struct tls_tr *)base;
    if (base->closing || t->shut_wanted || t->err || t->rejecting) {
        free(buf);
        return t->err ? t->err : UV_EPIPE;
    }
    if (!t->hs_done) {
        sbuf_append(&t->pending, buf, len);
        free(buf);
        return 0;
    }
    int rc = write_plain(t, buf, len);
    free(buf);
    if (rc < 0) fail(t, rc);
    return rc;
}

static void on_inner_shutdown(pk_tr_t *inner, int status)
{
    struct tls_tr *t = inner->data;
    if (t->base.closing || !t->shutdown_done) return;
    t->shutdown_done(&t->base, status);
}

static int start_shutdown(struct tls_tr *t)
{
    /* close_notify first, so that the peer knows the end is deliberate. */
    ERR_clear_error();
    SSL_shutdown(t->ssl);
    ERR_clear_error();
    int rc = flush(t);
    if (rc == 0) rc = pk_tr_shutdown(t->inner, on_inner_shutdown);
    return rc;
}

static int tls_shutdown(pk_tr_t *base, void (*done)(pk_tr_t *t, int status))
{
    struct tls_tr *t = (struct tls_tr *)base;
    if (base->closing || t->err) return UV_EINVAL;
    if (t->shut_wanted) return UV_EALREADY;
    t->shut_wanted = true;
    t->shutdown_done = done;
    if (!t->hs_done) return 0; /* after the handshake */
    return start_shutdown(t);
}

static void tls_close(pk_tr_t *base)
{
    struct tls_tr *t = (struct tls_tr *)base;
    if (base->closing) return;
    base->closing = true;
    t->reading = false;
    uv_timer_stop(&t->timer);
    uv_close((uv_handle_t *)&t->timer, on_timer_closed);
    pk_tr_close(t->inner);
}

static void tls_peer(pk_tr_t *base, char *buf, size_t len)
{
    struct tls_tr *t = (struct tls_tr *)base;
    pk_tr_peer(t->inner, buf, len);
}

static size_t tls_queued(pk_tr_t *base)
{
    struct tls_tr *t = (struct tls_tr *)base;
    return pk_tr_queued(t->inner) + t->pending.len;
}

static const char *tls_error_text(pk_tr_t *base)
{
    return ((struct tls_tr *)base)->err_text;
}

static bool tls_identity(pk_tr_t *base, const char **cn, const char **orgs)
{
    struct tls_tr *t = (struct tls_tr *)base;
    *cn = t->peer_cn;
    *orgs = t->peer_orgs;
    return true;
}

static const struct pk_tr_ops tls_ops = {
    .read_start = tls_read_start,
    .read_stop = tls_read_stop,
    .write = tls_write,
    .shutdown = tls_shutdown,
    .close = tls_close,
    .peer = tls_peer,
    .queued = tls_queued,
    .error_text = tls_error_text,
    .identity = tls_identity,
};

/* -------------------------------------------------------- constructors */

static struct tls_tr *tls_new(uv_loop_t *loop, struct pk_tls_ctx *ctx, bool server,
                              const struct pk_tr_cbs *cbs, void *data)
{
    SSL *ssl = SSL_new(ctx->ssl);
    BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());
    if (!ssl || !r || !w) {
        SSL_free(ssl);
        BIO_free(r);
        BIO_free(w);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_bio(ssl, r, w);
    struct tls_tr *t = xcalloc(1, sizeof(*t));
    t->base.ops = &tls_ops;
    t->base.cbs = cbs;
    t->base.data = data;
    t->base.loop = loop;
    t->ssl = ssl;
    t->server = server;
    t->ctx = ctx;
    pk_tls_ctx_ref(ctx);
    return t;
}

static void tls_started(struct tls_tr *t)
{
    uv_timer_init(t->base.loop, &t->timer);
    t->timer.data = t;
    t->handles = 2;
}

static void tls_discard(struct tls_tr *t)
{
    SSL_free(t->ssl);
    pk_tls_ctx_unref(t->ctx);
    free(t);
}

int pk_tr_tls_accept(uv_stream_t *listener, struct pk_tls_ctx *ctx, const struct pk_tr_cbs *cbs,
                     void *data, pk_tr_t **out)
{
    struct tls_tr *t = tls_new(listener->loop, ctx, true, cbs, data);
    if (!t) return UV_ENOMEM;
    int rc = pk_tr_tcp_accept(listener, &inner_cbs, t, &t->inner);
    if (rc < 0) {
        tls_discard(t);
        return rc;
    }
    SSL_set_accept_state(t->ssl);
    tls_started(t);
    *out = &t->base;
    return 0;
}

int pk_tr_tls_connect(uv_loop_t *loop, const struct sockaddr *addr, struct pk_tls_ctx *ctx,
                      const char *host, const struct pk_tr_cbs *cbs, void *data, pk_tr_t **out)
{
    struct tls_tr *t = tls_new(loop, ctx, false, cbs, data);
    if (!t) return UV_ENOMEM;
    const char *name = ctx->server_name ? ctx->server_name : host;
    snprintf(t->host, sizeof(t->host), "%s", name);
    SSL_set_connect_state(t->ssl);
    unsigned char ip[16];
    bool is_ip = inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;
    int ok = 1;
    /* SNI carries host names only (RFC 6066). */
    if (!is_ip) ok = SSL_set_tlsext_host_name(t->ssl, name);
    if (ok == 1 && !ctx->insecure) {
        if (is_ip)
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name);
        else
            ok = SSL_set1_host(t->ssl, name);
    }
    if (ok != 1) {
        log_error("http", "https://%s: not a host name TLS can check", name);
        ERR_clear_error();
        tls_discard(t);
        return UV_EINVAL;
    }
    int rc = pk_tr_tcp_connect(loop, addr, &inner_cbs, t, &t->inner);
    if (rc < 0) {
        tls_discard(t);
        return rc;
    }
    tls_started(t);
    *out = &t->base;
    return 0;
}
