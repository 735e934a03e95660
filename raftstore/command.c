/*
 * command.c - byte encodings of raftstore log entries and results.
 *
 * A log entry is one write command (struct cmd); its encoding is the only
 * thing replicas must agree on, so it is versioned and fixed little-endian.
 * Results travel back from the leader to a follower that forwarded a write or
 * a volatile read; they carry copies of the keys and values involved.
 */
#include <stdlib.h>
#include <string.h>

#include "raftstore/store_int.h"

#define CMD_VERSION 1
#define RESULT_VERSION 1

/* ---------------------------------------------------------- byte writer */

struct wbuf {
    char *p;
    size_t len, cap;
    bool raft; /* allocate with raft_malloc so raft_apply can own the buffer */
    bool oom;
};

static void w_reserve(struct wbuf *w, size_t n)
{
    if (w->oom || w->len + n <= w->cap) return;
    size_t cap = w->cap ? w->cap : 64;
    while (cap < w->len + n) cap *= 2;
    char *p = w->raft ? raft_realloc(w->p, cap) : realloc(w->p, cap);
    if (!p) {
        w->oom = true;
        return;
    }
    w->p = p;
    w->cap = cap;
}

static void w_bytes(struct wbuf *w, const void *b, size_t n)
{
    w_reserve(w, n);
    if (w->oom) return;
    if (n) memcpy(w->p + w->len, b, n);
    w->len += n;
}

static void w_u64(struct wbuf *w, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    w_bytes(w, b, 8);
}

static void w_u32(struct wbuf *w, uint32_t v)
{
    unsigned char b[4];
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
    w_bytes(w, b, 4);
}

static void w_u8(struct wbuf *w, uint8_t v)
{
    w_bytes(w, &v, 1);
}

/* Strings carry their length and a NUL so decoders can point into the buffer. */
static void w_str(struct wbuf *w, const char *s, size_t n)
{
    w_u32(w, (uint32_t)n);
    w_bytes(w, s ? s : "", n);
    w_u8(w, 0);
}

/* ---------------------------------------------------------- byte reader */

struct rbuf {
    const unsigned char *p;
    size_t len, off;
    bool bad;
};

static uint64_t r_u64(struct rbuf *r)
{
    if (r->bad || r->len - r->off < 8) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)r->p[r->off + i] << (8 * i);
    r->off += 8;
    return v;
}

static uint32_t r_u32(struct rbuf *r)
{
    if (r->bad || r->len - r->off < 4) {
        r->bad = true;
        return 0;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)r->p[r->off + i] << (8 * i);
    r->off += 4;
    return v;
}

static uint8_t r_u8(struct rbuf *r)
{
    if (r->bad || r->len - r->off < 1) {
        r->bad = true;
        return 0;
    }
    return r->p[r->off++];
}

static const char *r_str(struct rbuf *r, size_t *n)
{
    uint32_t l = r_u32(r);
    if (r->bad || r->len - r->off < (size_t)l + 1 || r->p[r->off + l] != 0) {
        r->bad = true;
        *n = 0;
        return NULL;
    }
    const char *s = (const char *)r->p + r->off;
    r->off += (size_t)l + 1;
    *n = l;
    return s;
}

/* ------------------------------------------------------------- commands */

int cmd_encode(const struct cmd *c, void **buf, size_t *len)
{
    struct wbuf w = {.raft = true};
    w_u8(&w, CMD_VERSION);
    w_u8(&w, (uint8_t)c->op);
    w_u64(&w, c->now_ms);
    w_u64(&w, c->if_mod_rev);
    w_u64(&w, c->expires_ms);
    w_str(&w, c->key, c->key_len);
    w_str(&w, c->value, c->value_len);
    /* libraft lays entries out in 8-byte words (it decodes each entry's data
     * as if padded to 8 bytes), so an entry must be a multiple of 8 long. */
    while (w.len % 8) w_u8(&w, 0);
    if (w.oom) {
        raft_free(w.p);
        return STORE_EINVAL;
    }
    *buf = w.p;
    *len = w.len;
    return 0;
}

int cmd_decode(const void *buf, size_t len, struct cmd *c)
{
    struct rbuf r = {.p = buf, .len = len};
    memset(c, 0, sizeof(*c));
    if (r_u8(&r) != CMD_VERSION) return STORE_EINVAL;
    c->op = (enum cmd_op)r_u8(&r);
    c->now_ms = r_u64(&r);
    c->if_mod_rev = r_u64(&r);
    c->expires_ms = r_u64(&r);
    c->key = r_str(&r, &c->key_len);
    c->value = r_str(&r, &c->value_len);
    if (r.bad) return STORE_EINVAL;
    switch (c->op) {
    case CMD_CREATE:
    case CMD_UPDATE:
    case CMD_DELETE:
    case CMD_PUT:
    case CMD_RESTORE:
    case CMD_READ_GET:
    case CMD_READ_RANGE:
        break;
    default:
        return STORE_EINVAL;
    }
    if (c->key_len == 0 && c->op != CMD_READ_RANGE && c->op != CMD_RESTORE) return STORE_EINVAL;
    return 0;
}

/* -------------------------------------------------------------- results */

static void w_kv(struct wbuf *w, const store_kv_t *kv)
{
    w_u64(w, kv->create_rev);
    w_u64(w, kv->mod_rev);
    w_u64(w, kv->version);
    w_u64(w, kv->expires_ms);
    w_str(w, kv->key, strlen(kv->key));
    w_str(w, kv->value, kv->value_len);
}

static void r_kv(struct rbuf *r, store_kv_t *kv)
{
    size_t n;
    kv->create_rev = r_u64(r);
    kv->mod_rev = r_u64(r);
    kv->version = r_u64(r);
    kv->expires_ms = r_u64(r);
    kv->key = r_str(r, &n);
    kv->value = r_str(r, &kv->value_len);
}

int result_encode(const store_result_t *res, uint64_t index, void **buf, size_t *len)
{
    struct wbuf w = {0};
    w_u8(&w, RESULT_VERSION);
    w_u32(&w, (uint32_t)(int32_t)res->err);
    w_u64(&w, res->rev);
    w_u64(&w, index);
    w_u8(&w, (uint8_t)((res->kv ? 1 : 0) | (res->more ? 2 : 0)));
    w_u64(&w, res->count);
    w_u32(&w, (uint32_t)res->n_kvs);
    if (res->kv) w_kv(&w, res->kv);
    for (size_t i = 0; i < res->n_kvs; i++) w_kv(&w, &res->kvs[i]);
    if (w.oom) {
        free(w.p);
        return STORE_EINVAL;
    }
    *buf = w.p;
    *len = w.len;
    return 0;
}

/* Decoding copies the whole buffer once; the kvs then point into that copy. */
int result_decode(const void *buf, size_t len, struct owned_result *o)
{
    memset(o, 0, sizeof(*o));
    o->mem = malloc(len ? len : 1);
    if (!o->mem) return STORE_EINVAL;
    memcpy(o->mem, buf, len);
    struct rbuf r = {.p = (const unsigned char *)o->mem, .len = len};
    if (r_u8(&r) != RESULT_VERSION) goto bad;
    o->res.err = (int32_t)r_u32(&r);
    o->res.rev = r_u64(&r);
    o->index = r_u64(&r);
    uint8_t flags = r_u8(&r);
    o->res.more = (flags & 2) != 0;
    o->res.count = r_u64(&r);
    uint32_t n = r_u32(&r);
    if (r.bad || n > len / 40) goto bad;
    if (flags & 1) {
        r_kv(&r, &o->kv);
        o->res.kv = &o->kv;
    }
    if (n) {
        o->kvs = calloc(n, sizeof(*o->kvs));
        if (!o->kvs) goto bad;
        for (uint32_t i = 0; i < n; i++) r_kv(&r, &o->kvs[i]);
        o->res.kvs = o->kvs;
        o->res.n_kvs = n;
    }
    if (r.bad) goto bad;
    return 0;
bad:
    result_free(o);
    return STORE_EINVAL;
}

int result_copy(const store_result_t *r, uint64_t index, struct owned_result *out)
{
    void *buf;
    size_t len;
    int rv = result_encode(r, index, &buf, &len);
    if (rv != 0) return rv;
    rv = result_decode(buf, len, out);
    free(buf);
    return rv;
}

void result_free(struct owned_result *o)
{
    free(o->kvs);
    free(o->mem);
    memset(o, 0, sizeof(*o));
}
