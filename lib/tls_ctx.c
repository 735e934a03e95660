/*
 * tls_ctx.c - OpenSSL contexts for lib/'s TLS: the server's (certificate,
 * key, optional client CA, ALPN), a client's (CA or system store, optional
 * client certificate), and the process-wide default client context.
 *
 * Why contexts are shared: loading a certificate, a key and above all the
 * system CA store costs milliseconds on a Raspberry Pi; a connection made
 * from a ready context costs only its handshake.
 *
 * Policy, the same everywhere: TLS 1.2 and 1.3 only, AEAD ciphers with
 * forward secrecy for 1.2, no renegotiation, no compression. The server
 * keeps no session cache and sends no tickets (kubectl starts a new process
 * per command, so resumption would only cost memory), and lets
 * OpenSSL release idle buffers (watch connections sit idle for minutes and
 * a Pi has 1 GB of RAM).
 */
#include "lib/tls.h"
#include "lib/sbuf.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"

void pk_tls_err_text(char *err, size_t errlen)
{
    unsigned long e = ERR_peek_last_error();
    if (errlen) err[0] = '\0';
    if (e && errlen) {
        const char *r = ERR_reason_error_string(e);
        if (r)
            snprintf(err, errlen, "%s", r);
        else
            ERR_error_string_n(e, err, errlen);
    }
    ERR_clear_error();
}

/* A BIO over PEM text, or over the file it names; *hold keeps the file's
 * bytes alive as long as the BIO. */
static BIO *pem_bio(const char *what, const char *pem, char **hold, char *err, size_t errlen)
{
    *hold = NULL;
    if (!strstr(pem, "-----BEGIN")) {
        size_t len;
        *hold = file_read_all(pem, &len);
        if (!*hold) {
            snprintf(err, errlen, "%s: cannot read %s: %s", what, pem, strerror(errno));
            return NULL;
        }
        pem = *hold;
    }
    BIO *b = BIO_new_mem_buf(pem, -1);
    if (!b) {
        free(*hold);
        *hold = NULL;
        snprintf(err, errlen, "%s: out of memory", what);
    }
    return b;
}

static void bio_done(BIO *b, char *hold)
{
    BIO_free(b);
    free(hold);
}

/* Adds every certificate of a PEM to a store; the number added, or -1. */
static int load_cas(X509_STORE *st, STACK_OF(X509_NAME) * names, const char *what, const char *pem,
                    char *err, size_t errlen)
{
    char *hold;
    BIO *b = pem_bio(what, pem, &hold, err, errlen);
    if (!b) return -1;
    int n = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
        if (X509_STORE_add_cert(st, x) != 1) {
            pk_tls_err_text(err, errlen);
            X509_free(x);
            bio_done(b, hold);
            return -1;
        }
        if (names) {
            X509_NAME *nm = X509_NAME_dup(X509_get_subject_name(x));
            if (nm && !sk_X509_NAME_push(names, nm)) X509_NAME_free(nm);
        }
        X509_free(x);
        n++;
    }
    ERR_clear_error(); /* the read that found no more certificates */
    bio_done(b, hold);
    if (n == 0) snprintf(err, errlen, "%s: no PEM certificate found", what);
    return n > 0 ? n : -1;
}

/* Certificate (first of the PEM), its chain (the others) and key. */
static int load_identity(SSL_CTX *ctx, const char *cert_pem, const char *key_pem, char *err,
                         size_t errlen)
{
    if (!cert_pem || !key_pem) {
        snprintf(err, errlen, "a TLS certificate needs both the certificate and its key");
        return -1;
    }
    char *hold;
    BIO *b = pem_bio("certificate", cert_pem, &hold, err, errlen);
    if (!b) return -1;
    int rc = -1;
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    if (!x || SSL_CTX_use_certificate(ctx, x) != 1) {
        snprintf(err, errlen, "certificate: not a PEM certificate");
        ERR_clear_error();
        X509_free(x);
        bio_done(b, hold);
        return -1;
    }
    X509_free(x);
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
        if (SSL_CTX_add0_chain_cert(ctx, x) != 1) { /* takes x on success */
            X509_free(x);
            pk_tls_err_text(err, errlen);
            bio_done(b, hold);
            return -1;
        }
    }
    ERR_clear_error();
    bio_done(b, hold);

    b = pem_bio("key", key_pem, &hold, err, errlen);
    if (!b) return -1;
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    if (!k) {
        snprintf(err, errlen, "key: not a PEM private key");
    } else if (SSL_CTX_use_PrivateKey(ctx, k) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "key: not the certificate's key");
    } else {
        rc = 0;
    }
    ERR_clear_error();
    EVP_PKEY_free(k);
    bio_done(b, hold);
    return rc;
}

static SSL_CTX *base_ctx(const SSL_METHOD *m)
{
    SSL_CTX *ctx = SSL_CTX_new(m);
    if (!ctx) return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* kubectl (Go) offers h2 first: the server speaks HTTP/1.1 only. */
static const unsigned char alpn_http11[] = "\x08http/1.1";

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    unsigned char *o;
    if (SSL_select_next_proto(&o, outlen, alpn_http11, sizeof(alpn_http11) - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK; /* no ALPN: HTTP/1.1 is what it gets */
    *out = o;
    return SSL_TLSEXT_ERR_OK;
}

static struct pk_tls_ctx *wrap(SSL_CTX *ssl, bool server)
{
    struct pk_tls_ctx *c = xcalloc(1, sizeof(*c));
    c->ssl = ssl;
    c->refs = 1;
    c->server = server;
    return c;
}

struct pk_tls_ctx *pk_tls_server_ctx(const struct http_server_config *cfg, char *err, size_t errlen)
{
    SSL_CTX *ctx = base_ctx(TLS_server_method());
    if (!ctx) {
        pk_tls_err_text(err, errlen);
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA |
                                 SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    if (load_identity(ctx, cfg->tls_cert_pem, cfg->tls_key_pem, err, errlen) < 0) goto fail;
    if (cfg->tls_client_ca_pem) {
        STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
        if (!names || load_cas(SSL_CTX_get_cert_store(ctx), names, "client CA",
                               cfg->tls_client_ca_pem, err, errlen) < 0) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            goto fail;
        }
        /* Tells clients which CA to pick a certificate from. */
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx,
                           SSL_VERIFY_PEER |
                               (cfg->tls_require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                           NULL);
    }
    return wrap(ctx, true);
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

struct pk_tls_ctx *pk_tls_client_ctx(const struct http_tls_client *tls, char *err, size_t errlen)
{
    static const struct http_tls_client none;
    if (!tls) tls = &none;
    SSL_CTX *ctx = base_ctx(TLS_client_method());
    if (!ctx) {
        pk_tls_err_text(err, errlen);
        return NULL;
    }
    if (SSL_CTX_set_alpn_protos(ctx, alpn_http11, sizeof(alpn_http11) - 1) != 0) {
        pk_tls_err_text(err, errlen);
        goto fail;
    }
    if (tls->insecure_skip_verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (tls->ca_pem) {
            if (load_cas(SSL_CTX_get_cert_store(ctx), NULL, "CA", tls->ca_pem, err, errlen) < 0)
                goto fail;
        } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            char why[200];
            pk_tls_err_text(why, sizeof(why));
            snprintf(err, errlen, "cannot load the system's CA certificates (%s): give a CA", why);
            goto fail;
        }
    }
    if ((tls->cert_pem || tls->key_pem) &&
        load_identity(ctx, tls->cert_pem, tls->key_pem, err, errlen) < 0)
        goto fail;
    struct pk_tls_ctx *c = wrap(ctx, false);
    c->insecure = tls->insecure_skip_verify;
    if (tls->server_name && *tls->server_name) c->server_name = xstrdup(tls->server_name);
    return c;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

void pk_tls_ctx_ref(struct pk_tls_ctx *c)
{
    atomic_fetch_add_explicit((_Atomic int *)&c->refs, 1, memory_order_relaxed);
}

void pk_tls_ctx_unref(struct pk_tls_ctx *c)
{
    if (!c) return;
    if (atomic_fetch_sub_explicit((_Atomic int *)&c->refs, 1, memory_order_acq_rel) != 1) return;
    SSL_CTX_free(c->ssl);
    free(c->server_name);
    free(c);
}

/* ------------------------------------------------------ process default */

static pthread_mutex_t default_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pk_tls_ctx *default_ctx; /* NULL: the system store, built on first use */

struct pk_tls_ctx *pk_tls_default_client_ctx(void)
{
    pthread_mutex_lock(&default_mu);
    if (!default_ctx) {
        char err[256];
        default_ctx = pk_tls_client_ctx(NULL, err, sizeof(err));
        if (!default_ctx) log_error("http", "https: %s", err);
    }
    struct pk_tls_ctx *c = default_ctx;
    if (c) pk_tls_ctx_ref(c);
    pthread_mutex_unlock(&default_mu);
    return c;
}

int http_client_set_default_tls(const struct http_tls_client *tls)
{
    struct pk_tls_ctx *c = NULL;
    if (tls) {
        char err[256];
        c = pk_tls_client_ctx(tls, err, sizeof(err));
        if (!c) {
            log_error("http", "default TLS setup: %s", err);
            return UV_EINVAL;
        }
    }
    pthread_mutex_lock(&default_mu);
    struct pk_tls_ctx *old = default_ctx;
    default_ctx = c;
    pthread_mutex_unlock(&default_mu);
    pk_tls_ctx_unref(old);
    return 0;
}

int http_client_set_default_ca(const char *ca_pem)
{
    if (!ca_pem) return http_client_set_default_tls(NULL);
    struct http_tls_client tls = {.ca_pem = ca_pem};
    return http_client_set_default_tls(&tls);
}
