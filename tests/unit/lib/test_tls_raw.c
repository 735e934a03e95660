/*
 * test_tls_raw.c - the HTTPS server seen from raw sockets and the blocking
 * http_fetch_tls, with the server on its own loop thread (tsrv.h): a plain
 * HTTP request on the HTTPS port gets a 400 that says to use https:// (even
 * with a body still arriving), a client that sends nothing or stops halfway
 * through its handshake is closed after the read timeout, a broken
 * handshake is counted and closed, the server stops with handshakes in
 * progress, and http_fetch_tls reports why an untrusted server was refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tls_fixture.h"
#include "tsrv.h"

static struct tls_fixture fx;
static struct tsrv *ts;
static char base[64];

static int setup(void **state)
{
    (void)state;
    if (tls_fixture_make(&fx) < 0) return -1;
    struct http_server_config cfg = {.host = "127.0.0.1",
                                     .read_timeout_ms = 300,
                                     .tls_cert_pem = fx.srv_cert,
                                     .tls_key_pem = fx.srv_key};
    ts = tsrv_start(&cfg);
    if (ts->port <= 0) return -1;
    snprintf(base, sizeof(base), "https://127.0.0.1:%d", ts->port);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tsrv_stop(ts);
    tsrv_join(ts);
    tls_fixture_free(&fx);
    return 0;
}

static void test_plain_http_gets_400(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    assert_true(fd >= 0);
    char req[128];
    snprintf(req, sizeof(req), "GET /api HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", ts->port);
    raw_sends(fd, req);
    struct rawbuf rb = {.len = 0};
    struct rawresp r;
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 400);
    assert_memory_equal(r.head, "HTTP/1.1 400 Bad Request\r\n", 26);
    char want[160];
    snprintf(want, sizeof(want),
             "This picokube API server speaks HTTPS only: use https://127.0.0.1:%d/ instead",
             ts->port);
    assert_non_null(strstr(r.body, want));
    assert_true(raw_eof(fd));
    close(fd);
    assert_int_equal(atomic_load(&ts->hs.requests), 0);
}

static void test_plain_upload_still_gets_400(void **state)
{
    (void)state;
    /* A client still sending its body must read the answer, not a reset. */
    int fd = raw_connect(ts->port);
    size_t n = 200 * 1024;
    char *body = malloc(n);
    memset(body, 'x', n);
    char head[160];
    snprintf(head, sizeof(head), "PUT /x HTTP/1.1\r\nHost: pi1:6443\r\nContent-Length: %zu\r\n\r\n",
             n);
    raw_sends(fd, head);
    raw_send(fd, body, n);
    free(body);
    struct rawbuf rb = {.len = 0};
    struct rawresp r;
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "use https://pi1:6443/"));
    close(fd);
}

static void test_silent_client_closed(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    assert_true(fd >= 0);
    /* Nothing sent: closed after read_timeout (300 ms), well before the guard. */
    assert_true(raw_eof(fd));
    close(fd);
}

static void test_partial_handshake_closed(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    /* A handshake record announcing 512 bytes, of which 6 arrive. */
    static const unsigned char part[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01,
                                         0x00, 0x01, 0xfc, 0x03, 0x03};
    raw_send(fd, part, sizeof(part));
    assert_true(raw_eof(fd));
    close(fd);
}

static void test_broken_handshake_counted(void **state)
{
    (void)state;
    metrics_counter_t *failures = metrics_counter("picokube_tls_handshake_failures_total",
                                                  "TLS handshakes that failed (bad certificate, "
                                                  "protocol, plain HTTP on an HTTPS port)",
                                                  "side=\"server\"");
    double before = metrics_counter_value(failures);
    int fd = raw_connect(ts->port);
    static const unsigned char junk[] = {0x16, 0x03, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};
    raw_send(fd, junk, sizeof(junk));
    assert_true(raw_eof(fd));
    close(fd);
    assert_true(metrics_counter_value(failures) >= before + 1);
}

static void test_stop_during_handshakes(void **state)
{
    (void)state;
    int fds[8];
    static const unsigned char part[] = {0x16, 0x03, 0x01, 0x02, 0x00};
    for (int i = 0; i < 8; i++) {
        fds[i] = raw_connect(ts->port);
        if (i % 2) raw_send(fds[i], part, sizeof(part));
    }
    /* The server thread's loop ends: every connection was closed. */
    tsrv_stop(ts);
    tsrv_join(ts);
    for (int i = 0; i < 8; i++) {
        assert_true(raw_eof(fds[i]));
        close(fds[i]);
    }
    /* teardown stops a server: give it one. */
    struct http_server_config cfg = {
        .host = "127.0.0.1", .tls_cert_pem = fx.srv_cert, .tls_key_pem = fx.srv_key};
    ts = tsrv_start(&cfg);
}

static void test_fetch_tls(void **state)
{
    (void)state;
    struct http_tls_client tls = {.ca_pem = fx.ca};
    http_response_t out;
    assert_int_equal(
        http_fetch_tls(base, "t0k", &tls, "POST", "/echo", NULL, "text/plain", "hi", 2, 5000, &out),
        0);
    assert_int_equal(out.status, 200);
    assert_string_equal(out.body, "POST /echo?\nhi");
    assert_string_equal(out.detail, "");
    free((char *)out.body);
    struct http_tls_client wrong = {.ca_pem = fx.evil_ca};
    assert_int_equal(
        http_fetch_tls(base, "t0k", &wrong, "GET", "/auth", NULL, NULL, NULL, 0, 5000, &out),
        UV_EPROTO);
    assert_non_null(strstr(out.detail, "certificate is not trusted"));
    free((char *)out.body);
    /* http_fetch_ex uses the process default: the CA given once. */
    assert_int_equal(http_client_set_default_ca(fx.ca), 0);
    assert_int_equal(http_fetch_ex(base, "t0k", "GET", "/auth", NULL, NULL, NULL, 0, 5000, &out),
                     0);
    assert_string_equal(out.body, "Bearer t0k");
    free((char *)out.body);
    http_client_set_default_tls(NULL);
    assert_int_equal(atomic_load(&ts->hs.requests), 2); /* not the refused one */
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_plain_http_gets_400),
        T(test_plain_upload_still_gets_400),
        T(test_silent_client_closed),
        T(test_partial_handshake_closed),
        T(test_broken_handshake_counted),
        T(test_stop_during_handshakes),
        T(test_fetch_tls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
