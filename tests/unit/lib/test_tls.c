/*
 * test_tls.c - HTTPS: lib/'s client against lib/'s server, both on one
 * loop, with certificates from lib/'s PKI (tls_fixture.h). Round trips with
 * keep-alive and bearer tokens, chunked watch streams, 2 MiB bodies both
 * ways, refusal of a server of another CA, of a name or IP address not in
 * the certificate, the process default CA, plain HTTP on the HTTPS port
 * (400 with a hint) and HTTPS to a plain port, client certificates
 * (required, optional, from another CA), 200 concurrent handshakes, and a
 * server that never finishes the handshake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tls_fixture.h"
#include "tsrv.h"

static uv_loop_t loop;
static http_server_t *srv;
static struct hstate hs;
static char base[64];
static struct tls_fixture fx;

struct result {
    int calls;
    int err, status;
    char *body; /* malloc'd, whole */
    size_t len;
    char detail[512];
};

static void on_res(const http_response_t *res, void *data)
{
    struct result *r = data;
    r->calls++;
    r->err = res->err;
    r->status = res->status;
    free(r->body);
    r->body = malloc(res->len + 1);
    memcpy(r->body, res->body, res->len + 1);
    r->len = res->len;
    snprintf(r->detail, sizeof(r->detail), "%s", res->detail);
}

static void run_until(int *flag)
{
    for (int i = 0; i < 1000000 && !*flag; i++)
        uv_run(&loop, UV_RUN_ONCE);
}

/* One request on a fresh client; the result's body must be freed. */
static struct result fetch(const char *url, const struct http_tls_client *tls, const char *bearer,
                           const char *method, const char *path, const char *body, size_t len)
{
    struct result r = {0};
    http_client_t *c = http_client_new_tls(&loop, url, bearer, tls);
    assert_non_null(c);
    assert_int_equal(http_client_request(c, method, path, NULL, body, len, 10000, on_res, &r), 0);
    run_until(&r.calls);
    http_client_free(c);
    return r;
}

/* test_handler, plus /whoami: what the server knows of the client. */
static void handler(http_req_t *req, void *data)
{
    if (strcmp(http_req_path(req), "/whoami")) {
        test_handler(req, data);
        return;
    }
    atomic_fetch_add(&((struct hstate *)data)->requests, 1);
    char out[256];
    const char *cn = http_req_peer_cn(req), *orgs = http_req_peer_orgs(req);
    int n = snprintf(out, sizeof(out), "tls=%d cn=%s orgs=%s", http_req_tls(req),
                     cn ? cn : "(none)", orgs ? orgs : "(none)");
    http_respond(req, 200, "text/plain", out, (size_t)n);
}

static http_server_t *start(const char *cert, const char *key, const char *client_ca, bool require)
{
    struct http_server_config cfg = {.host = "127.0.0.1",
                                     .tls_cert_pem = cert,
                                     .tls_key_pem = key,
                                     .tls_client_ca_pem = client_ca,
                                     .tls_require_client_cert = require};
    http_server_t *s = NULL;
    if (http_server_start(&loop, &cfg, handler, &hs, &s) != 0) return NULL;
    return s;
}

static void stopped(void *arg)
{
    *(int *)arg = 1;
}

static void stop(http_server_t *s)
{
    int done = 0;
    http_server_stop(s, stopped, &done);
    run_until(&done);
}

static int setup(void **state)
{
    (void)state;
    if (tls_fixture_make(&fx) < 0) return -1;
    uv_loop_init(&loop);
    memset(&hs, 0, sizeof(hs));
    hs.loop = &loop;
    srv = start(fx.srv_cert, fx.srv_key, NULL, false);
    if (!srv) return -1;
    snprintf(base, sizeof(base), "https://127.0.0.1:%d", http_server_port(srv));
    return 0;
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

static int teardown(void **state)
{
    (void)state;
    int done = 0;
    http_server_stop(srv, stopped, &done);
    run_until(&done);
    http_client_set_default_tls(NULL);
    tls_fixture_free(&fx);
    if (uv_loop_close(&loop) != 0) {
        /* A failed test left a server behind: close it so the others run. */
        uv_walk(&loop, close_any, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        return -1;
    }
    return done ? 0 : -1;
}

static void test_round_trip_keep_alive(void **state)
{
    (void)state;
    struct http_tls_client tls = {.ca_pem = fx.ca};
    unsigned long before = http_server_accepted(srv);
    http_client_t *c = http_client_new_tls(&loop, base, "tok3n", &tls);
    assert_non_null(c);
    for (int i = 0; i < 5; i++) {
        struct result r = {0};
        http_client_request(c, "GET", "/echo?i=1", NULL, NULL, 0, 5000, on_res, &r);
        run_until(&r.calls);
        assert_int_equal(r.err, 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "GET /echo?i=1\n");
        free(r.body);
    }
    struct result p = {0};
    http_client_request(c, "POST", "/echo", "application/json", "{\"a\":1}", 7, 5000, on_res, &p);
    run_until(&p.calls);
    assert_string_equal(p.body, "POST /echo?\n{\"a\":1}");
    free(p.body);
    struct result a = {0};
    http_client_request(c, "GET", "/auth", NULL, NULL, 0, 5000, on_res, &a);
    run_until(&a.calls);
    assert_string_equal(a.body, "Bearer tok3n");
    free(a.body);
    struct result w = {0};
    http_client_request(c, "GET", "/whoami", NULL, NULL, 0, 5000, on_res, &w);
    run_until(&w.calls);
    assert_string_equal(w.body, "tls=1 cn=(none) orgs=(none)");
    free(w.body);
    /* One connection, one handshake, for all of them. */
    assert_int_equal(http_server_accepted(srv) - before, 1);
    http_client_free(c);
}

struct lines {
    int status, n, ended, err;
    char got[64][32];
    http_stream_t *s;
};

static void l_status(int status, const char *ct, void *data)
{
    (void)ct;
    ((struct lines *)data)->status = status;
}

static void l_line(const char *line, size_t len, void *data)
{
    struct lines *l = data;
    if (l->n < 64) snprintf(l->got[l->n], sizeof(l->got[0]), "%.*s", (int)len, line);
    l->n++;
}

static void l_end(int err, void *data)
{
    struct lines *l = data;
    l->ended = 1;
    l->err = err;
}

static const struct http_stream_callbacks lcbs = {l_status, l_line, l_end};

static void test_streams(void **state)
{
    (void)state;
    struct http_tls_client tls = {.ca_pem = fx.ca};
    http_client_t *c = http_client_new_tls(&loop, base, NULL, &tls);
    struct lines l = {0};
    assert_non_null(http_client_stream(c, "/stream?n=40", &lcbs, &l));
    run_until(&l.ended);
    assert_int_equal(l.err, 0);
    assert_int_equal(l.status, 200);
    assert_int_equal(l.n, 40);
    assert_string_equal(l.got[0], "line 0");
    assert_string_equal(l.got[39], "line 39");
    /* Lines cut across chunks (and so across TLS records). */
    struct lines sp = {0};
    http_client_stream(c, "/split", &lcbs, &sp);
    run_until(&sp.ended);
    assert_int_equal(sp.n, 4);
    assert_string_equal(sp.got[0], "abc");
    assert_string_equal(sp.got[1], "def");
    assert_string_equal(sp.got[2], "");
    assert_string_equal(sp.got[3], "last");
    /* A watch: the first event arrives, then cancelling reaches the server. */
    int closed = atomic_load(&hs.closed);
    struct lines w = {0};
    http_stream_t *s = http_client_stream(c, "/watch", &lcbs, &w);
    for (int i = 0; i < 100000 && w.n < 1; i++)
        uv_run(&loop, UV_RUN_ONCE);
    assert_string_equal(w.got[0], "hello");
    http_stream_cancel(s);
    run_until(&w.ended);
    assert_int_equal(w.err, UV_ECANCELED);
    for (int i = 0; i < 100000 && atomic_load(&hs.closed) == closed; i++)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(atomic_load(&hs.closed), closed + 1);
    http_client_free(c);
}

static void test_large_bodies(void **state)
{
    (void)state;
    struct http_tls_client tls = {.ca_pem = fx.ca};
    size_t n = 2u << 20;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + (i * 7919) % 26);
    struct result r = fetch(base, &tls, NULL, "POST", "/echo", big, n);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, 200);
    const char *head = "POST /echo?\n";
    assert_int_equal(r.len, strlen(head) + n);
    assert_memory_equal(r.body, head, strlen(head));
    assert_memory_equal(r.body + strlen(head), big, n);
    free(r.body);
    free(big);
}

static void test_other_ca_refused(void **state)
{
    (void)state;
    /* An impostor server with a certificate from another CA. */
    http_server_t *evil = start(fx.evil_srv_cert, fx.evil_srv_key, NULL, false);
    assert_non_null(evil);
    char url[64];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d", http_server_port(evil));
    struct http_tls_client tls = {.ca_pem = fx.ca};
    http_client_t *c = http_client_new_tls(&loop, url, "secret", &tls);
    struct result r = {0};
    http_client_request(c, "GET", "/auth", NULL, NULL, 0, 5000, on_res, &r);
    run_until(&r.calls);
    assert_int_equal(r.err, UV_EPROTO);
    assert_non_null(strstr(r.detail, "certificate is not trusted"));
    assert_non_null(strstr(http_client_last_tls_error(c), "not trusted"));
    assert_int_equal(atomic_load(&hs.requests), 0); /* the token never left */
    free(r.body);
    http_client_free(c);
    /* Our client trusting the other CA is refused by our server alike. */
    tls.ca_pem = fx.evil_ca;
    r = fetch(base, &tls, NULL, "GET", "/echo", NULL, 0);
    assert_int_equal(r.err, UV_EPROTO);
    free(r.body);
    /* Without verification (to fetch a CA and check its hash) it works. */
    struct http_tls_client insecure = {.insecure_skip_verify = true};
    r = fetch(url, &insecure, NULL, "GET", "/echo", NULL, 0);
    assert_int_equal(r.status, 200);
    free(r.body);
    stop(evil);
}

static void test_name_not_in_san(void **state)
{
    (void)state;
    struct http_tls_client tls = {.ca_pem = fx.ca, .server_name = "kubernetes.example"};
    struct result r = fetch(base, &tls, NULL, "GET", "/echo", NULL, 0);
    assert_int_equal(r.err, UV_EPROTO);
    assert_non_null(strstr(r.detail, "not valid for kubernetes.example"));
    free(r.body);
    tls.server_name = "kubernetes.default.svc";
    r = fetch(base, &tls, NULL, "GET", "/echo", NULL, 0);
    assert_int_equal(r.status, 200);
    free(r.body);
    /* A DNS name in the certificate, reached by name. */
    char url[64];
    snprintf(url, sizeof(url), "https://localhost:%d", http_server_port(srv));
    tls.server_name = NULL;
    r = fetch(url, &tls, NULL, "GET", "/echo", NULL, 0);
    assert_int_equal(r.status, 200);
    free(r.body);
    /* Same CA, but a certificate for other addresses: 127.0.0.1 is refused. */
    http_server_t *other = start(fx.srv_other_ip, fx.srv_other_ip_key, NULL, false);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d", http_server_port(other));
    r = fetch(url, &tls, NULL, "GET", "/echo", NULL, 0);
    assert_int_equal(r.err, UV_EPROTO);
    assert_non_null(strstr(r.detail, "not valid for 127.0.0.1"));
    free(r.body);
    stop(other);
}

static void test_default_ca(void **state)
{
    (void)state;
    assert_int_equal(http_client_set_default_ca("-----BEGIN CERTIFICATE-----\nnope\n"), UV_EINVAL);
    assert_int_equal(http_client_set_default_ca(fx.ca), 0);
    struct result r = fetch(base, NULL, NULL, "GET", "/echo", NULL, 0);
    assert_int_equal(r.status, 200);
    free(r.body);
    /* Back to the system store, which does not know our CA. */
    assert_int_equal(http_client_set_default_ca(NULL), 0);
    r = fetch(base, NULL, NULL, "GET", "/echo", NULL, 0);
    assert_int_equal(r.err, UV_EPROTO);
    assert_non_null(strstr(r.detail, "not trusted"));
    free(r.body);
}

static void test_plain_http_refused(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", http_server_port(srv));
    struct result r = fetch(url, NULL, NULL, "GET", "/echo", NULL, 0);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, 400);
    char want[128];
    snprintf(want, sizeof(want), "speaks HTTPS only: use https://127.0.0.1:%d/",
             http_server_port(srv));
    assert_non_null(strstr(r.body, want));
    free(r.body);
    assert_int_equal(atomic_load(&hs.requests), 0);
    /* And the other way round: https:// to a plain HTTP server. */
    struct http_server_config cfg = {.host = "127.0.0.1"};
    http_server_t *plain;
    assert_int_equal(http_server_start(&loop, &cfg, handler, &hs, &plain), 0);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d", http_server_port(plain));
    struct http_tls_client tls = {.ca_pem = fx.ca};
    r = fetch(url, &tls, NULL, "GET", "/echo", NULL, 0);
    assert_int_equal(r.err, UV_EPROTO);
    assert_non_null(strstr(r.detail, "plain HTTP"));
    free(r.body);
    stop(plain);
}

static void test_client_certs(void **state)
{
    (void)state;
    http_server_t *s = start(fx.srv_cert, fx.srv_key, fx.ca, true);
    assert_non_null(s);
    char url[64];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d", http_server_port(s));
    struct http_tls_client tls = {.ca_pem = fx.ca, .cert_pem = fx.cli_cert, .key_pem = fx.cli_key};
    struct result r = fetch(url, &tls, NULL, "GET", "/whoami", NULL, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "tls=1 cn=system:node:pi1 orgs=system:nodes");
    free(r.body);
    /* No certificate: refused (raft peers). */
    struct http_tls_client anon = {.ca_pem = fx.ca};
    r = fetch(url, &anon, NULL, "GET", "/whoami", NULL, 0);
    assert_int_equal(r.err, UV_EPROTO);
    assert_non_null(strstr(r.detail, "certificate"));
    free(r.body);
    /* A certificate from another CA: refused. */
    struct http_tls_client evil = {
        .ca_pem = fx.ca, .cert_pem = fx.evil_cli_cert, .key_pem = fx.evil_cli_key};
    r = fetch(url, &evil, NULL, "GET", "/whoami", NULL, 0);
    assert_int_not_equal(r.err, 0);
    free(r.body);
    assert_int_equal(atomic_load(&hs.requests), 1);
    stop(s);
    /* Optional: with or without, but never a foreign one. */
    s = start(fx.srv_cert, fx.srv_key, fx.ca, false);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d", http_server_port(s));
    r = fetch(url, &anon, NULL, "GET", "/whoami", NULL, 0);
    assert_string_equal(r.body, "tls=1 cn=(none) orgs=(none)");
    free(r.body);
    r = fetch(url, &tls, NULL, "GET", "/whoami", NULL, 0);
    assert_string_equal(r.body, "tls=1 cn=system:node:pi1 orgs=system:nodes");
    free(r.body);
    r = fetch(url, &evil, NULL, "GET", "/whoami", NULL, 0);
    assert_int_not_equal(r.err, 0);
    free(r.body);
    stop(s);
    /* A key that is not the certificate's is refused up front. */
    struct http_tls_client bad = {.ca_pem = fx.ca, .cert_pem = fx.cli_cert, .key_pem = fx.srv_key};
    assert_null(http_client_new_tls(&loop, url, NULL, &bad));
    struct http_server_config cfg = {
        .host = "127.0.0.1", .tls_cert_pem = fx.srv_cert, .tls_key_pem = fx.cli_key};
    assert_int_equal(http_server_start(&loop, &cfg, handler, &hs, &s), UV_EINVAL);
    uv_run(&loop, UV_RUN_NOWAIT);
}

static void test_many_concurrent(void **state)
{
    (void)state;
    enum { N = 200 };
    struct http_tls_client tls = {.ca_pem = fx.ca};
    unsigned long before = http_server_accepted(srv);
    http_client_t *c = http_client_new_tls(&loop, base, NULL, &tls);
    static struct result r[N];
    memset(r, 0, sizeof(r));
    /* /delay answers later, so each request needs its own connection. */
    for (int i = 0; i < N; i++)
        assert_int_equal(
            http_client_request(c, "GET", "/delay", NULL, NULL, 0, 30000, on_res, &r[i]), 0);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        run_until(&r[i].calls);
        ok += r[i].status == 200 && !strcmp(r[i].body, "delayed");
        free(r[i].body);
    }
    assert_int_equal(ok, N);
    assert_int_equal(http_server_accepted(srv) - before, N);
    http_client_free(c);
}

static void test_server_never_handshakes(void **state)
{
    (void)state;
    /* The kernel accepts the TCP connection; nobody ever answers. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t sl = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    char url[64];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d", ntohs(sa.sin_port));
    struct http_tls_client tls = {.ca_pem = fx.ca};
    http_client_t *c = http_client_new_tls(&loop, url, NULL, &tls);
    struct result r = {0};
    http_client_request(c, "GET", "/", NULL, NULL, 0, 300, on_res, &r);
    run_until(&r.calls);
    assert_int_equal(r.err, UV_ETIMEDOUT);
    free(r.body);
    http_client_free(c);
    close(fd);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_round_trip_keep_alive),   T(test_streams),         T(test_large_bodies),
        T(test_other_ca_refused),        T(test_name_not_in_san), T(test_default_ca),
        T(test_plain_http_refused),      T(test_client_certs),    T(test_many_concurrent),
        T(test_server_never_handshakes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
