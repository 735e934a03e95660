/*
 * test_http_server.c - the HTTP/1.1 server against raw sockets, as curl,
 * kubectl and Python clients would talk to it: round trips, keep-alive,
 * pipelining answered in order, chunked request bodies, 100-continue, limits
 * (413 without reading the body, 431), bad requests, decoding of path and
 * query, Connection: close, HTTP/1.0, HEAD, read timeout, a client hanging
 * up on a watch, graceful stop with a request in flight, and http_fetch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tsrv.h"

static struct tsrv *ts;

static int setup(void **state)
{
    (void)state;
    struct http_server_config cfg = {.host = "127.0.0.1", .port = 0};
    ts = tsrv_start(&cfg);
    return ts->port > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tsrv_stop(ts);
    tsrv_join(ts);
    ts = NULL;
    return 0;
}

static void test_get_and_post(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    assert_true(fd >= 0);
    struct rawbuf rb = {0};
    struct rawresp r;
    raw_sends(fd, "GET /echo?x=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "GET /echo?x=1\n");
    assert_non_null(strstr(r.head, "Content-Type: text/plain\r\n"));
    assert_non_null(strstr(r.head, "X-Echo: yes\r\n"));
    assert_non_null(strstr(r.head, "Date: "));

    raw_sends(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "POST /echo?\nhello");

    raw_sends(fd, "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 404);
    close(fd);
}

static void test_keep_alive_one_connection(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    struct rawbuf rb = {0};
    struct rawresp r;
    for (int i = 0; i < 5; i++) {
        raw_sends(fd, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_true(raw_read_response(fd, &rb, &r, false));
        assert_int_equal(r.status, 200);
        assert_null(strstr(r.head, "Connection: close"));
    }
    close(fd);
}

static void test_pipelined_in_order(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    struct rawbuf rb = {0};
    struct rawresp r;
    /* The first is answered asynchronously, later: the others must wait. */
    raw_sends(fd, "GET /delay HTTP/1.1\r\nHost: t\r\n\r\n"
                  "POST /echo/2 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
                  "GET /echo/3 HTTP/1.1\r\nHost: t\r\n\r\n"
                  "GET /delay HTTP/1.1\r\nHost: t\r\n\r\n"
                  "GET /echo/5 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_string_equal(r.body, "delayed");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_string_equal(r.body, "POST /echo/2?\nabc");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_string_equal(r.body, "GET /echo/3?\n");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_string_equal(r.body, "delayed");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_string_equal(r.body, "GET /echo/5?\n");
    close(fd);
}

static void test_pipelined_byte_by_byte(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    struct rawbuf rb = {0};
    struct rawresp r;
    const char *req = "POST /echo/a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\nxyz\r\n0\r\n\r\nGET /echo/b HTTP/1.1\r\nHost: t\r\n\r\n";
    for (const char *p = req; *p; p++)
        raw_send(fd, p, 1);
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_string_equal(r.body, "POST /echo/a?\nxyz");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_string_equal(r.body, "GET /echo/b?\n");
    close(fd);
}

static void test_chunked_request_body(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    struct rawbuf rb = {0};
    struct rawresp r;
    raw_sends(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "6\r\nhello \r\n");
    raw_sends(fd, "5;ext=1\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "POST /echo?\nhello world");
    close(fd);
}

static void test_expect_100_continue(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    struct rawbuf rb = {0};
    struct rawresp r;
    raw_sends(fd, "PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
                  "Expect: 100-continue\r\n\r\n");
    assert_true(raw_read_response(fd, &rb, &r, true));
    assert_int_equal(r.status, 100);
    raw_sends(fd, "data");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "PUT /echo?\ndata");
    close(fd);
}

static void test_413_content_length(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    struct rawbuf rb = {0};
    struct rawresp r;
    size_t big = 4u << 20;
    char head[128];
    snprintf(head, sizeof(head), "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n",
             big);
    raw_sends(fd, head);
    /* Answered from the headers alone: read it before sending any body. */
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(r.head, "Connection: close"));
    char *body = calloc(1, big);
    raw_send(fd, body, big); /* discarded by the server, or refused: both fine */
    free(body);
    assert_true(raw_eof(fd));
    close(fd);
}

static void test_413_chunked(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    struct rawbuf rb = {0};
    struct rawresp r;
    raw_sends(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    size_t chunk = 1u << 20;
    char *data = malloc(chunk + 32);
    int n = snprintf(data, 32, "%zx\r\n", chunk);
    memset(data + n, 'a', chunk);
    memcpy(data + n + chunk, "\r\n", 2);
    for (int i = 0; i < 4; i++)
        raw_send(fd, data, (size_t)n + chunk + 2);
    free(data);
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 413);
    assert_true(raw_eof(fd));
    close(fd);
}

static void test_431_headers(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    struct rawbuf rb = {0};
    struct rawresp r;
    raw_sends(fd, "GET /echo HTTP/1.1\r\nHost: t\r\n");
    char line[1100];
    memset(line, 'v', sizeof(line));
    memcpy(line, "X-Big: ", 7);
    memcpy(line + sizeof(line) - 2, "\r\n", 2);
    for (int i = 0; i < 70; i++)
        raw_send(fd, line, sizeof(line));
    raw_sends(fd, "\r\n");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 431);
    close(fd);
}

static void test_bad_request(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    struct rawbuf rb = {0};
    struct rawresp r;
    raw_sends(fd,
              "GET /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 400);
    assert_true(raw_eof(fd));
    close(fd);

    fd = raw_connect(ts->port);
    rb.len = 0;
    raw_sends(fd, "GET /bad%zzpath HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 400);
    close(fd);

    fd = raw_connect(ts->port);
    rb.len = 0;
    raw_sends(fd, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 400);
    close(fd);
}

static void test_decoding(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    struct rawbuf rb = {0};
    struct rawresp r;
    raw_sends(fd, "GET /a%20b/c%2Fd?q=a+b%26c&empty=&flag HTTP/1.1\r\nHost: t\r\n"
                  "x-TEST:   spaced value  \r\n\r\n");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_string_equal(r.body, "path=/a b/c/d|q=a b&c|empty=|flag=|missing=(null)|x=spaced value");
    raw_sends(fd, "GET http://proxy.example:80/inspect?q=%3D HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_string_equal(r.body,
                        "path=/inspect|q==|empty=(null)|flag=(null)|missing=(null)|x=(null)");
    close(fd);
}

static void test_connection_close(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    struct rawbuf rb = {0};
    struct rawresp r;
    raw_sends(fd, "GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.head, "Connection: close\r\n"));
    assert_true(raw_eof(fd));
    close(fd);
}

static void test_http10(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    struct rawbuf rb = {0};
    struct rawresp r;
    raw_sends(fd, "GET /echo HTTP/1.0\r\n\r\n");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "GET /echo?\n");
    assert_true(raw_eof(fd));
    close(fd);

    /* HTTP/1.0 with keep-alive asked for, and a stream (no chunks: until close). */
    fd = raw_connect(ts->port);
    rb.len = 0;
    raw_sends(fd, "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_non_null(strstr(r.head, "Connection: keep-alive\r\n"));
    raw_sends(fd, "GET /stream?n=2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_null(strstr(r.head, "chunked"));
    assert_string_equal(r.body, "line 0\nline 1\n");
    close(fd);
}

static void test_head(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    struct rawbuf rb = {0};
    struct rawresp r;
    raw_sends(fd,
              "HEAD /echo HTTP/1.1\r\nHost: t\r\n\r\nGET /echo/after HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_true(raw_read_response(fd, &rb, &r, true));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.head, "Content-Length: 12\r\n"));
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_string_equal(r.body, "GET /echo/after?\n");
    close(fd);
}

static void test_chunked_response(void **state)
{
    (void)state;
    int fd = raw_connect(ts->port);
    struct rawbuf rb = {0};
    struct rawresp r;
    raw_sends(fd, "GET /stream?n=3 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_non_null(strstr(r.head, "Transfer-Encoding: chunked\r\n"));
    assert_string_equal(r.body, "line 0\nline 1\nline 2\n");
    /* Still usable afterwards. */
    raw_sends(fd, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 200);
    close(fd);
}

static void test_client_hangs_up_on_watch(void **state)
{
    (void)state;
    int before = atomic_load(&ts->hs.closed);
    int fd = raw_connect(ts->port);
    struct rawbuf rb = {0};
    raw_sends(fd, "GET /watch HTTP/1.1\r\nHost: t\r\n\r\n");
    while (!strstr(rb.data, "hello"))
        assert_true(rb_fill(fd, &rb));
    close(fd);
    assert_true(wait_for(&ts->hs.closed, before + 1));
}

static void test_slow_reader_is_dropped(void **state)
{
    (void)state;
    int closed = atomic_load(&ts->hs.closed), dropped = atomic_load(&ts->hs.dropped);
    int fd = raw_connect(ts->port);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    raw_sends(fd, "GET /flood HTTP/1.1\r\nHost: t\r\n\r\n");
    /* Never read: the server must give up on us instead of buffering forever. */
    assert_true(wait_for(&ts->hs.dropped, dropped + 1));
    assert_true(wait_for(&ts->hs.closed, closed + 1));
    close(fd);
}

static void test_answer_after_client_gone(void **state)
{
    (void)state;
    int closed = atomic_load(&ts->hs.closed);
    /* /hold answers from on_close, to a client that is gone. */
    int fd = raw_connect(ts->port);
    raw_sends(fd, "GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_true(wait_for(&ts->hs.held_count, 1));
    close(fd);
    assert_true(wait_for(&ts->hs.closed, closed + 1));
    /* /late asks for on_close after the client left: still told. */
    fd = raw_connect(ts->port);
    raw_sends(fd, "GET /late HTTP/1.1\r\nHost: t\r\n\r\n");
    close(fd);
    assert_true(wait_for(&ts->hs.closed, closed + 2));
    /* Half-closed client (shutdown of its sending side): still gets the answer. */
    fd = raw_connect(ts->port);
    raw_sends(fd, "GET /delay HTTP/1.1\r\nHost: t\r\n\r\n");
    shutdown(fd, SHUT_WR);
    struct rawbuf rb = {0};
    struct rawresp r;
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_string_equal(r.body, "delayed");
    assert_true(raw_eof(fd));
    close(fd);
}

static void test_http_fetch(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", ts->port);
    http_response_t res;
    assert_int_equal(
        http_fetch(url, NULL, "POST", "/echo?a=b", "application/json", "{}", 2, 5000, &res), 0);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body, "POST /echo?a=b\n{}");
    assert_string_equal(res.content_type, "text/plain");
    assert_string_equal(res.url, url);
    free((char *)res.body);

    /* Nothing listens on port 1 of loopback. */
    assert_int_equal(http_fetch("http://127.0.0.1:1", NULL, "GET", "/", NULL, NULL, 0, 5000, &res),
                     UV_ECONNREFUSED);
    assert_int_equal(res.err, UV_ECONNREFUSED);
    free((char *)res.body);
    assert_int_equal(http_fetch("ftp://x", NULL, "GET", "/", NULL, NULL, 0, 5000, &res), UV_EINVAL);
    free((char *)res.body);
}

/* Own servers: configured differently or stopped by the test itself. */

static void test_read_timeout(void **state)
{
    (void)state;
    struct http_server_config cfg = {.host = "127.0.0.1", .read_timeout_ms = 100};
    struct tsrv *t = tsrv_start(&cfg);
    int fd = raw_connect(t->port);
    struct rawbuf rb = {0};
    struct rawresp r;
    raw_sends(fd, "GET /echo HTTP/1.1\r\nHost: t\r\n"); /* and never the end */
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 408);
    assert_true(raw_eof(fd));
    close(fd);
    /* A connection that sends nothing at all is closed too. */
    fd = raw_connect(t->port);
    assert_true(raw_eof(fd));
    close(fd);
    tsrv_stop(t);
    tsrv_join(t);
}

static void test_graceful_stop(void **state)
{
    (void)state;
    struct http_server_config cfg = {.host = "127.0.0.1"};
    struct tsrv *t = tsrv_start(&cfg);
    int fd = raw_connect(t->port);
    int idle = raw_connect(t->port);
    struct rawbuf rb = {0};
    struct rawresp r;
    raw_sends(fd, "GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_true(wait_for(&t->hs.held_count, 1));
    tsrv_stop(t);
    /* The request in flight is told (on_close) and answers; then the end. */
    assert_true(raw_read_response(fd, &rb, &r, false));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "bye");
    assert_non_null(strstr(r.head, "Connection: close"));
    assert_true(raw_eof(fd));
    assert_true(raw_eof(idle)); /* idle keep-alive connections just close */
    close(fd);
    close(idle);
    assert_true(wait_for(&t->done, 1));
    assert_int_equal(atomic_load(&t->hs.closed), 1);
    tsrv_join(t);
}

static void test_bind_error(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    http_server_t *s = NULL;
    struct http_server_config cfg = {.host = "127.0.0.1", .port = ts->port};
    struct hstate hs = {.loop = &loop};
    assert_int_equal(http_server_start(&loop, &cfg, test_handler, &hs, &s), UV_EADDRINUSE);
    cfg.host = "not-an-address";
    assert_int_equal(http_server_start(&loop, &cfg, test_handler, &hs, &s), UV_EINVAL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_and_post),
        cmocka_unit_test(test_keep_alive_one_connection),
        cmocka_unit_test(test_pipelined_in_order),
        cmocka_unit_test(test_pipelined_byte_by_byte),
        cmocka_unit_test(test_chunked_request_body),
        cmocka_unit_test(test_expect_100_continue),
        cmocka_unit_test(test_413_content_length),
        cmocka_unit_test(test_413_chunked),
        cmocka_unit_test(test_431_headers),
        cmocka_unit_test(test_bad_request),
        cmocka_unit_test(test_decoding),
        cmocka_unit_test(test_connection_close),
        cmocka_unit_test(test_http10),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_chunked_response),
        cmocka_unit_test(test_client_hangs_up_on_watch),
        cmocka_unit_test(test_slow_reader_is_dropped),
        cmocka_unit_test(test_answer_after_client_gone),
        cmocka_unit_test(test_http_fetch),
        cmocka_unit_test(test_bind_error),
    };
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_read_timeout),
        cmocka_unit_test(test_graceful_stop),
    };
    int fails = cmocka_run_group_tests_name("shared server", tests, setup, teardown);
    fails += cmocka_run_group_tests_name("own servers", own, NULL, NULL);
    return fails;
}
