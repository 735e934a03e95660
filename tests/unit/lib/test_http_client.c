/*
 * test_http_client.c - the HTTP client against the server, both on one
 * loop: round trips, keep-alive reuse (one connection accepted for many
 * requests), bearer tokens, watch-style line streams, cancel (the server
 * hears the hang-up), fail-over from a refused or resetting URL, timeouts,
 * freeing with requests in flight, bodies ending at close, 413 for an
 * oversized upload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tsrv.h"

static uv_loop_t loop;
static http_server_t *srv;
static struct hstate hs;
static char base[64];

struct result {
    int calls;
    int err, status;
    char ct[64];
    char body[4096];
    size_t len;
    char url[128];
};

static void on_res(const http_response_t *res, void *data)
{
    struct result *r = data;
    r->calls++;
    r->err = res->err;
    r->status = res->status;
    snprintf(r->ct, sizeof(r->ct), "%s", res->content_type);
    snprintf(r->body, sizeof(r->body), "%s", res->body);
    r->len = res->len;
    snprintf(r->url, sizeof(r->url), "%s", res->url);
}

/* Runs the loop until *flag is set (bounded by the work there is). */
static void run_until(int *flag)
{
    for (int i = 0; i < 100000 && !*flag; i++)
        uv_run(&loop, UV_RUN_ONCE);
}

static int setup(void **state)
{
    (void)state;
    uv_loop_init(&loop);
    memset(&hs, 0, sizeof(hs));
    hs.loop = &loop;
    struct http_server_config cfg = {.host = "127.0.0.1"};
    if (http_server_start(&loop, &cfg, test_handler, &hs, &srv) != 0) return -1;
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", http_server_port(srv));
    return 0;
}

static void stopped(void *arg)
{
    *(int *)arg = 1;
}

static int teardown(void **state)
{
    (void)state;
    int done = 0;
    http_server_stop(srv, stopped, &done);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (!done) return -1;
    return uv_loop_close(&loop) == 0 ? 0 : -1;
}

/* A port on loopback that refuses connections. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    socklen_t sl = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd);
    return ntohs(sa.sin_port);
}

static void test_round_trip(void **state)
{
    (void)state;
    http_client_t *c = http_client_new(&loop, base, NULL);
    assert_non_null(c);
    struct result r = {0};
    assert_int_equal(http_client_request(c, "GET", "/echo?x=1", NULL, NULL, 0, 5000, on_res, &r),
                     0);
    assert_int_equal(r.calls, 0); /* never from inside the call */
    run_until(&r.calls);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "GET /echo?x=1\n");
    assert_string_equal(r.ct, "text/plain");
    assert_string_equal(r.url, base);

    struct result p = {0};
    assert_int_equal(http_client_request(c, "POST", "/echo", "application/json", "{\"a\":1}", 7,
                                         5000, on_res, &p),
                     0);
    run_until(&p.calls);
    assert_int_equal(p.status, 200);
    assert_string_equal(p.body, "POST /echo?\n{\"a\":1}");

    struct result e = {0};
    http_client_request(c, "DELETE", "echo/x", NULL, NULL, 0, 5000, on_res, &e);
    run_until(&e.calls);
    assert_string_equal(e.body, "DELETE /echo/x?\n");
    http_client_free(c);
}

static void test_keep_alive_reuse(void **state)
{
    (void)state;
    unsigned long before = http_server_accepted(srv);
    http_client_t *c = http_client_new(&loop, base, NULL);
    for (int i = 0; i < 5; i++) {
        struct result r = {0};
        http_client_request(c, "GET", "/echo", NULL, NULL, 0, 5000, on_res, &r);
        run_until(&r.calls);
        assert_int_equal(r.status, 200);
    }
    assert_int_equal(http_server_accepted(srv) - before, 1);
    /* A 404 and a HEAD keep the connection usable too. */
    struct result h = {0};
    http_client_request(c, "HEAD", "/echo", NULL, NULL, 0, 5000, on_res, &h);
    run_until(&h.calls);
    assert_int_equal(h.status, 200);
    assert_int_equal(h.len, 0);
    struct result n = {0};
    http_client_request(c, "GET", "/missing", NULL, NULL, 0, 5000, on_res, &n);
    run_until(&n.calls);
    assert_int_equal(n.status, 404);
    assert_int_equal(http_server_accepted(srv) - before, 1);
    http_client_free(c);
}

static void test_concurrent_requests(void **state)
{
    (void)state;
    http_client_t *c = http_client_new(&loop, base, NULL);
    struct result r[8] = {{0}};
    int all = 0;
    for (int i = 0; i < 8; i++)
        http_client_request(c, "GET", i % 2 ? "/delay" : "/echo", NULL, NULL, 0, 5000, on_res,
                            &r[i]);
    for (int i = 0; i < 8; i++) {
        run_until(&r[i].calls);
        all += r[i].status == 200;
    }
    assert_int_equal(all, 8);
    assert_string_equal(r[1].body, "delayed");
    http_client_free(c);
}

static void test_bearer(void **state)
{
    (void)state;
    http_client_t *c = http_client_new(&loop, base, "s3cr3t");
    struct result r = {0};
    http_client_request(c, "GET", "/auth", NULL, NULL, 0, 5000, on_res, &r);
    run_until(&r.calls);
    assert_string_equal(r.body, "Bearer s3cr3t");
    http_client_free(c);
    c = http_client_new(&loop, base, NULL);
    struct result n = {0};
    http_client_request(c, "GET", "/auth", NULL, NULL, 0, 5000, on_res, &n);
    run_until(&n.calls);
    assert_string_equal(n.body, "");
    http_client_free(c);
}

struct lines {
    int status_calls, status;
    char ct[64];
    int n;
    char got[64][32];
    int ended, err;
    http_stream_t *cancel_on_first;
};

static void l_status(int status, const char *ct, void *data)
{
    struct lines *l = data;
    l->status_calls++;
    l->status = status;
    snprintf(l->ct, sizeof(l->ct), "%s", ct);
}

static void l_line(const char *line, size_t len, void *data)
{
    struct lines *l = data;
    assert_int_equal(strlen(line), len);
    if (l->n < 64) snprintf(l->got[l->n], sizeof(l->got[0]), "%s", line);
    l->n++;
    if (l->cancel_on_first) {
        http_stream_cancel(l->cancel_on_first);
        l->cancel_on_first = NULL;
    }
}

static void l_end(int err, void *data)
{
    struct lines *l = data;
    l->ended++;
    l->err = err;
}

static const struct http_stream_callbacks lcbs = {l_status, l_line, l_end};

static void test_stream_lines(void **state)
{
    (void)state;
    http_client_t *c = http_client_new(&loop, base, NULL);
    struct lines l = {0};
    assert_non_null(http_client_stream(c, "/stream?n=50", &lcbs, &l));
    run_until(&l.ended);
    assert_int_equal(l.err, 0);
    assert_int_equal(l.status_calls, 1);
    assert_int_equal(l.status, 200);
    assert_string_equal(l.ct, "application/json");
    assert_int_equal(l.n, 50);
    for (int i = 0; i < 50; i++) {
        char want[32];
        snprintf(want, sizeof(want), "line %d", i);
        assert_string_equal(l.got[i], want);
    }

    /* Lines cut across chunks, several per chunk, an empty one, no final newline. */
    struct lines s = {0};
    http_client_stream(c, "/split", &lcbs, &s);
    run_until(&s.ended);
    assert_int_equal(s.err, 0);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.got[0], "abc");
    assert_string_equal(s.got[1], "def");
    assert_string_equal(s.got[2], "");
    assert_string_equal(s.got[3], "last");
    http_client_free(c);
}

static void test_cancel_tells_server(void **state)
{
    (void)state;
    http_client_t *c = http_client_new(&loop, base, NULL);
    int before = atomic_load(&hs.closed);
    struct lines l = {0};
    http_stream_t *s = http_client_stream(c, "/watch", &lcbs, &l);
    l.cancel_on_first = s;
    run_until(&l.ended);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.got[0], "hello");
    assert_int_equal(l.err, UV_ECANCELED);
    assert_int_equal(l.ended, 1);
    for (int i = 0; i < 100000 && atomic_load(&hs.closed) == before; i++)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(atomic_load(&hs.closed), before + 1);
    http_client_free(c);
}

static void test_cancel_before_start(void **state)
{
    (void)state;
    http_client_t *c = http_client_new(&loop, base, NULL);
    struct lines l = {0};
    http_stream_t *s = http_client_stream(c, "/watch", &lcbs, &l);
    http_stream_cancel(s);
    assert_int_equal(l.ended, 0); /* not from inside the call */
    run_until(&l.ended);
    assert_int_equal(l.err, UV_ECANCELED);
    assert_int_equal(l.status_calls, 0);
    http_client_free(c);
}

static void test_failover_refused(void **state)
{
    (void)state;
    char urls[160];
    snprintf(urls, sizeof(urls), "http://127.0.0.1:%d, %s/", closed_port(), base);
    http_client_t *c = http_client_new(&loop, urls, NULL);
    assert_non_null(c);
    struct result r = {0};
    http_client_request(c, "GET", "/echo", NULL, NULL, 0, 5000, on_res, &r);
    run_until(&r.calls);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.url, base);
    assert_string_equal(http_client_current_url(c), base);

    /* Streams fail over too. */
    struct lines l = {0};
    http_client_stream(c, "/stream?n=2", &lcbs, &l);
    run_until(&l.ended);
    assert_int_equal(l.n, 2);
    http_client_free(c);

    snprintf(urls, sizeof(urls), "http://127.0.0.1:%d,http://127.0.0.1:%d", closed_port(),
             closed_port());
    c = http_client_new(&loop, urls, NULL);
    struct result f = {0};
    http_client_request(c, "GET", "/echo", NULL, NULL, 0, 5000, on_res, &f);
    run_until(&f.calls);
    assert_int_equal(f.err, UV_ECONNREFUSED);
    http_client_free(c);
}

/* A server thread that accepts connections and resets them at once. */
struct resetter {
    int fd, port, n;
    pthread_t th;
};

static void *resetter_main(void *arg)
{
    struct resetter *rs = arg;
    for (int i = 0; i < rs->n; i++) {
        int c = accept(rs->fd, NULL, NULL);
        if (c < 0) break;
        char buf[1024];
        recv(c, buf, sizeof(buf), 0); /* the request, then a reset */
        struct linger lg = {1, 0};
        setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(c);
    }
    return NULL;
}

static struct resetter *resetter_start(int n)
{
    struct resetter *rs = calloc(1, sizeof(*rs));
    rs->n = n;
    rs->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    bind(rs->fd, (struct sockaddr *)&sa, sizeof(sa));
    listen(rs->fd, 8);
    socklen_t sl = sizeof(sa);
    getsockname(rs->fd, (struct sockaddr *)&sa, &sl);
    rs->port = ntohs(sa.sin_port);
    pthread_create(&rs->th, NULL, resetter_main, rs);
    return rs;
}

static void resetter_join(struct resetter *rs)
{
    pthread_join(rs->th, NULL);
    close(rs->fd);
    free(rs);
}

static void test_failover_reset(void **state)
{
    (void)state;
    struct resetter *rs = resetter_start(1);
    char urls[160];
    snprintf(urls, sizeof(urls), "http://127.0.0.1:%d,%s", rs->port, base);
    http_client_t *c = http_client_new(&loop, urls, NULL);
    struct result r = {0};
    http_client_request(c, "PUT", "/echo", "text/plain", "x", 1, 5000, on_res, &r);
    run_until(&r.calls);
    assert_int_equal(r.err, 0);
    assert_string_equal(r.body, "PUT /echo?\nx");
    assert_string_equal(r.url, base);
    http_client_free(c);
    resetter_join(rs);
}

/* A server thread answering one request with a body that ends at close. */
static void *until_close_main(void *arg)
{
    int fd = *(int *)arg;
    int c = accept(fd, NULL, NULL);
    char buf[1024];
    recv(c, buf, sizeof(buf), 0);
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end";
    send(c, resp, strlen(resp), MSG_NOSIGNAL);
    close(c);
    return NULL;
}

static void test_body_until_close(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    listen(fd, 1);
    socklen_t sl = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    pthread_t th;
    pthread_create(&th, NULL, until_close_main, &fd);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(sa.sin_port));
    http_client_t *c = http_client_new(&loop, url, NULL);
    struct result r = {0};
    http_client_request(c, "GET", "/", NULL, NULL, 0, 5000, on_res, &r);
    run_until(&r.calls);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "until the end");
    http_client_free(c);
    pthread_join(th, NULL);
    close(fd);
}

static void test_timeout(void **state)
{
    (void)state;
    http_client_t *c = http_client_new(&loop, base, NULL);
    int before = atomic_load(&hs.closed);
    struct result r = {0};
    http_client_request(c, "GET", "/slow", NULL, NULL, 0, 100, on_res, &r);
    run_until(&r.calls);
    assert_int_equal(r.err, UV_ETIMEDOUT);
    /* The client hung up, so the server's handler heard of it. */
    for (int i = 0; i < 100000 && atomic_load(&hs.closed) == before; i++)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(atomic_load(&hs.closed), before + 1);
    /* The client is still usable. */
    struct result ok = {0};
    http_client_request(c, "GET", "/echo", NULL, NULL, 0, 5000, on_res, &ok);
    run_until(&ok.calls);
    assert_int_equal(ok.status, 200);
    http_client_free(c);
}

static void test_free_with_requests_in_flight(void **state)
{
    (void)state;
    http_client_t *c = http_client_new(&loop, base, NULL);
    struct result r = {0};
    struct lines l = {0};
    http_client_request(c, "GET", "/slow", NULL, NULL, 0, 5000, on_res, &r);
    http_client_stream(c, "/watch", &lcbs, &l);
    /* Let both reach the server first. */
    for (int i = 0; i < 100000 && (l.n < 1); i++)
        uv_run(&loop, UV_RUN_ONCE);
    int before = atomic_load(&hs.closed);
    http_client_free(c);
    assert_int_equal(r.calls, 1); /* before http_client_free returned */
    assert_int_equal(r.err, UV_ECANCELED);
    assert_int_equal(l.ended, 1);
    assert_int_equal(l.err, UV_ECANCELED);
    /* The server hears both clients go. */
    for (int i = 0; i < 100000 && atomic_load(&hs.closed) < before + 2; i++)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(atomic_load(&hs.closed), before + 2);
}

struct freer {
    http_client_t *c;
    struct result r;
};

static void free_from_callback(const http_response_t *res, void *data)
{
    struct freer *f = data;
    on_res(res, &f->r);
    http_client_free(f->c);
}

static void test_free_from_callback(void **state)
{
    (void)state;
    struct freer f = {0};
    f.c = http_client_new(&loop, base, NULL);
    http_client_request(f.c, "GET", "/echo", NULL, NULL, 0, 5000, free_from_callback, &f);
    run_until(&f.r.calls);
    assert_int_equal(f.r.status, 200);
    for (int i = 0; i < 100; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    /* After free, new requests are refused without a callback. */
}

static void test_413_big_upload(void **state)
{
    (void)state;
    http_client_t *c = http_client_new(&loop, base, NULL);
    size_t big = 4u << 20;
    char *body = calloc(1, big);
    struct result r = {0};
    http_client_request(c, "POST", "/echo", "application/octet-stream", body, big, 10000, on_res,
                        &r);
    free(body); /* the client keeps its own copy */
    run_until(&r.calls);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.status, 413);
    /* A fresh connection serves the next request. */
    struct result ok = {0};
    http_client_request(c, "GET", "/echo", NULL, NULL, 0, 5000, on_res, &ok);
    run_until(&ok.calls);
    assert_int_equal(ok.status, 200);
    http_client_free(c);
}

static void test_bad_urls(void **state)
{
    (void)state;
    /* https:// is supported since TLS came (test_tls.c); other schemes are not. */
    assert_null(http_client_new(&loop, "ftp://127.0.0.1:6443", NULL));
    assert_null(http_client_new(&loop, "https://", NULL));
    assert_null(http_client_new(&loop, "127.0.0.1:6443", NULL));
    assert_null(http_client_new(&loop, "http://:80", NULL));
    assert_null(http_client_new(&loop, "http://h:99999", NULL));
    assert_null(http_client_new(&loop, " , ", NULL));
    http_client_t *c = http_client_new(&loop, "http://[::1]:6443/prefix/, http://localhost", NULL);
    assert_non_null(c);
    assert_string_equal(http_client_current_url(c), "http://[::1]:6443/prefix");
    http_client_free(c);
}

static void test_hostname_and_prefix(void **state)
{
    (void)state;
    char url[96];
    snprintf(url, sizeof(url), "http://localhost:%d/echo", http_server_port(srv));
    http_client_t *c = http_client_new(&loop, url, NULL);
    struct result r = {0};
    http_client_request(c, "GET", "/sub?k=v", NULL, NULL, 0, 5000, on_res, &r);
    run_until(&r.calls);
    assert_int_equal(r.err, 0);
    assert_string_equal(r.body, "GET /echo/sub?k=v\n");
    http_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_keep_alive_reuse),
        cmocka_unit_test(test_concurrent_requests),
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_stream_lines),
        cmocka_unit_test(test_cancel_tells_server),
        cmocka_unit_test(test_cancel_before_start),
        cmocka_unit_test(test_failover_refused),
        cmocka_unit_test(test_failover_reset),
        cmocka_unit_test(test_body_until_close),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_free_with_requests_in_flight),
        cmocka_unit_test(test_free_from_callback),
        cmocka_unit_test(test_413_big_upload),
        cmocka_unit_test(test_bad_urls),
        cmocka_unit_test(test_hostname_and_prefix),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
