/*
 * tsrv.h - test fixture shared by the HTTP tests: a handler with a few
 * routes, a server running on its own loop thread (for blocking raw-socket
 * clients and http_fetch), and a minimal blocking HTTP/1.1 response reader.
 *
 * Routes:
 *   /echo...        200 text/plain "METHOD PATH?QUERY\n" + body
 *   /inspect        decoded path, query params q/empty/flag, header x-test
 *   /auth           the Authorization header
 *   /delay          answers "delayed" 30 ms later (asynchronous completion)
 *   /stream?n=N     N lines "line i\n", one chunk each, 1 ms apart
 *   /split          "ab" "c\nde" "f\n\n" "last" as four chunks
 *   /watch          "hello\n", then waits for on_close and ends the stream
 *   /hold           kept in hs->held; on_close answers 200 "bye"
 *   /slow           never answers until on_close, then 503
 *   /late           like /slow, but asks for on_close only 50 ms later
 *   /flood          streams 256 KiB every ms until the write is refused,
 *                   then waits for on_close to end the stream
 */
#ifndef TSRV_H
#define TSRV_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/lib.h"

struct hstate {
    uv_loop_t *loop;
    atomic_int closed;      /* on_close calls seen */
    atomic_int watch_began; /* /watch requests started */
    atomic_int held_count;
    atomic_int requests;
    atomic_int dropped; /* /flood streams whose writes were refused */
    http_req_t *held;
};

struct line_timer {
    uv_timer_t t;
    http_req_t *req;
    int i, n;
    bool split;
};

static __attribute__((unused)) void lt_closed(uv_handle_t *h)
{
    free(h->data);
}

static __attribute__((unused)) void lt_tick(uv_timer_t *t)
{
    struct line_timer *lt = t->data;
    static const char *parts[] = {"ab", "c\nde", "f\n\n", "last"};
    if (lt->i < lt->n) {
        char line[32];
        if (lt->split)
            http_stream_write(lt->req, parts[lt->i], strlen(parts[lt->i]));
        else
            http_stream_write(lt->req, line,
                              (size_t)snprintf(line, sizeof(line), "line %d\n", lt->i));
        lt->i++;
        return;
    }
    http_stream_end(lt->req);
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, lt_closed);
}

struct delayed {
    uv_timer_t t;
    http_req_t *req;
};

static __attribute__((unused)) void delayed_fire(uv_timer_t *t)
{
    struct delayed *d = t->data;
    http_respond(d->req, 200, "text/plain", "delayed", 7);
    uv_close((uv_handle_t *)t, lt_closed);
}

static __attribute__((unused)) void watch_closed(http_req_t *req, void *arg)
{
    struct hstate *hs = arg;
    atomic_fetch_add(&hs->closed, 1);
    http_stream_end(req);
}

static __attribute__((unused)) void hold_closed(http_req_t *req, void *arg)
{
    struct hstate *hs = arg;
    atomic_fetch_add(&hs->closed, 1);
    if (hs->held == req) hs->held = NULL;
    http_respond(req, 200, "text/plain", "bye", 3);
}

static __attribute__((unused)) void slow_closed(http_req_t *req, void *arg)
{
    struct hstate *hs = arg;
    atomic_fetch_add(&hs->closed, 1);
    http_respond(req, 503, "text/plain", "late", 4);
}

struct flood {
    uv_timer_t t;
    http_req_t *req;
    struct hstate *hs;
    char *chunk;
};

static __attribute__((unused)) void flood_closed(uv_handle_t *h)
{
    struct flood *f = h->data;
    free(f->chunk);
    free(f);
}

static __attribute__((unused)) void flood_tick(uv_timer_t *t)
{
    struct flood *f = t->data;
    if (http_stream_write(f->req, f->chunk, 256 * 1024) == 0) return;
    /* Refused: on_close (watch_closed) follows and ends the stream. */
    atomic_fetch_add(&f->hs->dropped, 1);
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, flood_closed);
}

struct late {
    uv_timer_t t;
    http_req_t *req;
    struct hstate *hs;
};

static void slow_closed(http_req_t *req, void *arg);

static __attribute__((unused)) void late_tick(uv_timer_t *t)
{
    struct late *l = t->data;
    http_req_on_close(l->req, slow_closed, l->hs);
    uv_close((uv_handle_t *)t, lt_closed);
}

static __attribute__((unused)) void test_handler(http_req_t *req, void *data)
{
    struct hstate *hs = data;
    const char *path = http_req_path(req);
    atomic_fetch_add(&hs->requests, 1);
    if (!strncmp(path, "/echo", 5)) {
        size_t blen;
        const char *body = http_req_body(req, &blen);
        char head[512];
        int n = snprintf(head, sizeof(head), "%s %s?%s\n", http_req_method(req), path,
                         http_req_raw_query(req));
        char *out = malloc((size_t)n + blen);
        memcpy(out, head, (size_t)n);
        memcpy(out + n, body, blen);
        http_req_add_header(req, "X-Echo", "yes");
        http_respond(req, 200, "text/plain", out, (size_t)n + blen);
        free(out);
    } else if (!strcmp(path, "/inspect") || !strcmp(path, "/a b/c/d")) {
        char out[512];
        const char *q = http_req_query(req, "q"), *e = http_req_query(req, "empty"),
                   *f = http_req_query(req, "flag"), *x = http_req_header(req, "x-test");
        int n = snprintf(out, sizeof(out), "path=%s|q=%s|empty=%s|flag=%s|missing=%s|x=%s", path,
                         q ? q : "(null)", e ? e : "(null)", f ? f : "(null)",
                         http_req_query(req, "missing") ? "set" : "(null)", x ? x : "(null)");
        http_respond(req, 200, "text/plain", out, (size_t)n);
    } else if (!strcmp(path, "/auth")) {
        const char *a = http_req_header(req, "Authorization");
        if (!a) a = "";
        http_respond(req, 200, "text/plain", a, strlen(a));
    } else if (!strcmp(path, "/delay")) {
        struct delayed *d = calloc(1, sizeof(*d));
        d->req = req;
        uv_timer_init(hs->loop, &d->t);
        d->t.data = d;
        uv_timer_start(&d->t, delayed_fire, 30, 0);
    } else if (!strcmp(path, "/stream") || !strcmp(path, "/split")) {
        struct line_timer *lt = calloc(1, sizeof(*lt));
        lt->req = req;
        lt->split = !strcmp(path, "/split");
        lt->n = lt->split ? 4 : atoi(http_req_query(req, "n") ? http_req_query(req, "n") : "3");
        http_stream_begin(req, 200, "application/json");
        uv_timer_init(hs->loop, &lt->t);
        lt->t.data = lt;
        uv_timer_start(&lt->t, lt_tick, 1, 1);
    } else if (!strcmp(path, "/watch")) {
        http_req_on_close(req, watch_closed, hs);
        http_stream_begin(req, 200, "application/json");
        http_stream_write(req, "hello\n", 6);
        atomic_fetch_add(&hs->watch_began, 1);
    } else if (!strcmp(path, "/hold")) {
        hs->held = req;
        http_req_on_close(req, hold_closed, hs);
        atomic_fetch_add(&hs->held_count, 1);
    } else if (!strcmp(path, "/slow")) {
        http_req_on_close(req, slow_closed, hs);
    } else if (!strcmp(path, "/late")) {
        struct late *l = calloc(1, sizeof(*l));
        l->req = req;
        l->hs = hs;
        uv_timer_init(hs->loop, &l->t);
        l->t.data = l;
        uv_timer_start(&l->t, late_tick, 50, 0);
    } else if (!strcmp(path, "/flood")) {
        struct flood *f = calloc(1, sizeof(*f));
        f->req = req;
        f->hs = hs;
        f->chunk = calloc(1, 256 * 1024);
        http_req_on_close(req, watch_closed, hs);
        http_stream_begin(req, 200, "application/octet-stream");
        uv_timer_init(hs->loop, &f->t);
        f->t.data = f;
        uv_timer_start(&f->t, flood_tick, 1, 1);
    } else {
        http_respond(req, 404, "text/plain", "not found", 9);
    }
}

/* ------------------------------------------------- server on its thread */

struct tsrv {
    uv_loop_t loop;
    uv_async_t async;
    pthread_t th;
    http_server_t *srv;
    struct http_server_config cfg;
    struct hstate hs;
    int port;
    atomic_int stop_asked;
    atomic_int done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool ready;
};

static __attribute__((unused)) void tsrv_done(void *arg)
{
    struct tsrv *t = arg;
    atomic_store(&t->done, 1);
}

static __attribute__((unused)) void tsrv_async(uv_async_t *a)
{
    struct tsrv *t = a->data;
    if (atomic_load(&t->stop_asked) && t->srv) {
        http_server_stop(t->srv, tsrv_done, t);
        t->srv = NULL;
        uv_close((uv_handle_t *)&t->async, NULL);
    }
}

static __attribute__((unused)) void *tsrv_main(void *arg)
{
    struct tsrv *t = arg;
    uv_loop_init(&t->loop);
    t->hs.loop = &t->loop;
    uv_async_init(&t->loop, &t->async, tsrv_async);
    t->async.data = t;
    int rc = http_server_start(&t->loop, &t->cfg, test_handler, &t->hs, &t->srv);
    pthread_mutex_lock(&t->mu);
    t->port = rc == 0 ? http_server_port(t->srv) : -1;
    t->ready = true;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    if (rc == 0) uv_run(&t->loop, UV_RUN_DEFAULT);
    uv_loop_close(&t->loop);
    return NULL;
}

static __attribute__((unused)) struct tsrv *tsrv_start(const struct http_server_config *cfg)
{
    struct tsrv *t = calloc(1, sizeof(*t));
    t->cfg = *cfg;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    pthread_create(&t->th, NULL, tsrv_main, t);
    pthread_mutex_lock(&t->mu);
    while (!t->ready)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
    return t;
}

/* Stops the server (gracefully) and waits for its thread. */
static __attribute__((unused)) void tsrv_stop(struct tsrv *t)
{
    atomic_store(&t->stop_asked, 1);
    uv_async_send(&t->async);
}

static __attribute__((unused)) void tsrv_join(struct tsrv *t)
{
    pthread_join(t->th, NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
}

/* Waits (bounded) for an atomic to reach a value; a guard, not a timing. */
static __attribute__((unused)) bool wait_for(atomic_int *v, int want)
{
    for (int i = 0; i < 2000; i++) {
        if (atomic_load(v) >= want) return true;
        usleep(5000);
    }
    return false;
}

/* ---------------------------------------------------- raw blocking client */

static __attribute__((unused)) int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    /* A guard against a hung test, not a timing assertion. */
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static __attribute__((unused)) void raw_send(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) return;
        p += n;
        len -= (size_t)n;
    }
}

static __attribute__((unused)) void raw_sends(int fd, const char *s)
{
    raw_send(fd, s, strlen(s));
}

struct rawbuf {
    char data[1 << 16];
    size_t len;
};

static __attribute__((unused)) bool rb_fill(int fd, struct rawbuf *rb)
{
    if (rb->len >= sizeof(rb->data) - 1) return false;
    ssize_t n = recv(fd, rb->data + rb->len, sizeof(rb->data) - 1 - rb->len, 0);
    if (n <= 0) return false;
    rb->len += (size_t)n;
    rb->data[rb->len] = '\0';
    return true;
}

static __attribute__((unused)) void rb_consume(struct rawbuf *rb, size_t n)
{
    memmove(rb->data, rb->data + n, rb->len - n);
    rb->len -= n;
    rb->data[rb->len] = '\0';
}

struct rawresp {
    int status;
    char head[4096];
    char body[8192];
    size_t body_len;
};

/* Reads one response (Content-Length or chunked; HEAD: no_body). */
static __attribute__((unused)) bool raw_read_response(int fd, struct rawbuf *rb, struct rawresp *r,
                                                      bool no_body)
{
    char *end;
    while (!(end = strstr(rb->data, "\r\n\r\n")))
        if (!rb_fill(fd, rb)) return false;
    size_t hlen = (size_t)(end - rb->data) + 4;
    snprintf(r->head, sizeof(r->head), "%.*s", (int)hlen, rb->data);
    r->status = atoi(rb->data + 9);
    rb_consume(rb, hlen);
    r->body_len = 0;
    r->body[0] = '\0';
    if (no_body) return true;
    const char *cl = strcasestr(r->head, "\r\nContent-Length:");
    if (cl) {
        size_t n = strtoul(cl + 17, NULL, 10);
        while (rb->len < n)
            if (!rb_fill(fd, rb)) return false;
        memcpy(r->body, rb->data, n < sizeof(r->body) ? n : sizeof(r->body) - 1);
        r->body_len = n;
        r->body[n < sizeof(r->body) ? n : sizeof(r->body) - 1] = '\0';
        rb_consume(rb, n);
        return true;
    }
    if (strcasestr(r->head, "Transfer-Encoding: chunked")) {
        for (;;) {
            char *nl;
            while (!(nl = strstr(rb->data, "\r\n")))
                if (!rb_fill(fd, rb)) return false;
            size_t n = strtoul(rb->data, NULL, 16);
            size_t skip = (size_t)(nl - rb->data) + 2;
            while (rb->len < skip + n + 2)
                if (!rb_fill(fd, rb)) return false;
            if (r->body_len + n < sizeof(r->body)) {
                memcpy(r->body + r->body_len, rb->data + skip, n);
                r->body_len += n;
                r->body[r->body_len] = '\0';
            }
            rb_consume(rb, skip + n + 2);
            if (n == 0) return true;
        }
    }
    /* Until close. */
    while (rb_fill(fd, rb))
        ;
    size_t n = rb->len < sizeof(r->body) - 1 ? rb->len : sizeof(r->body) - 1;
    memcpy(r->body, rb->data, n);
    r->body[n] = '\0';
    r->body_len = n;
    rb->len = 0;
    return true;
}

/* True when the server closed the connection (after what was buffered). */
static __attribute__((unused)) bool raw_eof(int fd)
{
    char c;
    for (;;) {
        ssize_t n = recv(fd, &c, 1, 0);
        if (n == 0) return true;
        if (n < 0) return errno == ECONNRESET;
    }
}

#endif /* TSRV_H */
