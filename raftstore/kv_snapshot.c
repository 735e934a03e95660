/*
 * kv_snapshot.c - the byte encoding of a kv_t's current keys and revision.
 *
 * Raft snapshots and backups carry this buffer, so it is versioned and
 * checksummed, and a restore checks everything before touching the kv: a bad
 * buffer leaves the kv as it was. Layout, little-endian:
 *
 *   "PKKV" | u32 format (1) | u64 revision | u64 key count
 *   per key, in strictly ascending byte order:
 *     u32 key_len | u32 value_len | u64 create_rev | u64 mod_rev | u64 version
 *     | u64 expires_ms | key bytes (no NUL) | value bytes
 *   u32 CRC-32 (IEEE) of every byte before it
 *
 * History is not carried: after a restore the oldest revision a watch or an
 * old range can use is the snapshot's revision, and watchers end with
 * STORE_ECOMPACTED so that they relist. The buffer is malloc'd; the caller
 * frees it with free().
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "raftstore/kv_int.h"

#define SNAP_MAGIC "PKKV"
#define SNAP_FORMAT 1u
#define SNAP_HEADER 24u
#define SNAP_RECORD 40u

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
    pthread_once(&crc_once, crc_init);
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static unsigned char *put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static unsigned char *put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

struct kv_frozen {
    kv_t *kv;
    uint64_t rev;
    size_t n;
    struct kv_entry **e;
};

/* Entries are immutable versions, so holding a reference to every current
 * entry is a consistent view that later writes cannot change: the encoding
 * can then run on another thread while the loop goes on applying. */
kv_frozen_t *kv_freeze(kv_t *kv)
{
    kv_frozen_t *f = calloc(1, sizeof(*f));
    if (!f) return NULL;
    f->kv = kv;
    f->rev = kv->rev;
    f->e = malloc((kv->tree.count ? kv->tree.count : 1) * sizeof(*f->e));
    if (!f->e) {
        free(f);
        return NULL;
    }
    struct bt_cursor c;
    for (bt_seek(&kv->tree, "", false, &c); c.leaf; bt_next(&c)) {
        struct kv_entry *e = bt_cursor_get(&c);
        e->refs++;
        f->e[f->n++] = e;
    }
    return f;
}

void kv_frozen_release(kv_frozen_t *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->n; i++) kv_entry_unref(f->kv, f->e[i]);
    free(f->e);
    free(f);
}

int kv_frozen_encode(const kv_frozen_t *f, void **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    size_t total = SNAP_HEADER + 4;
    for (size_t i = 0; i < f->n; i++) {
        const struct kv_entry *e = f->e[i];
        size_t klen = strlen(e->kv.key);
        if (klen > UINT32_MAX || e->kv.value_len > UINT32_MAX) return STORE_EINVAL;
        total += SNAP_RECORD + klen + e->kv.value_len;
    }
    unsigned char *out = malloc(total);
    if (!out) return STORE_ENOSPC;
    unsigned char *p = out;
    memcpy(p, SNAP_MAGIC, 4);
    p = put32(p + 4, SNAP_FORMAT);
    p = put64(p, f->rev);
    p = put64(p, f->n);
    for (size_t i = 0; i < f->n; i++) {
        const store_kv_t *s = &f->e[i]->kv;
        size_t klen = strlen(s->key);
        p = put32(p, (uint32_t)klen);
        p = put32(p, (uint32_t)s->value_len);
        p = put64(p, s->create_rev);
        p = put64(p, s->mod_rev);
        p = put64(p, s->version);
        p = put64(p, s->expires_ms);
        memcpy(p, s->key, klen);
        p += klen;
        if (s->value_len) memcpy(p, s->value, s->value_len);
        p += s->value_len;
    }
    put32(p, crc32_ieee(out, total - 4));
    *buf = out;
    *len = total;
    return STORE_OK;
}

int kv_snapshot_encode(const kv_t *kv, void **buf, size_t *len)
{
    kv_frozen_t *f = kv_freeze((kv_t *)kv);
    if (!f) return STORE_ENOSPC;
    int rv = kv_frozen_encode(f, buf, len);
    kv_frozen_release(f);
    return rv;
}

/* Byte order of two keys without NUL, as strcmp would give. */
static int keycmp(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

static void release_new(struct kv_entry *e, void *arg)
{
    kv_entry_unref(arg, e);
}

int kv_snapshot_restore(kv_t *kv, const void *buf, size_t len)
{
    const unsigned char *in = buf;
    if (!buf || len < SNAP_HEADER + 4 || memcmp(in, SNAP_MAGIC, 4) != 0 ||
        get32(in + 4) != SNAP_FORMAT || get32(in + len - 4) != crc32_ieee(in, len - 4))
        return STORE_EINVAL;
    uint64_t rev = get64(in + 8), count = get64(in + 16);
    size_t end = len - 4, pos = SNAP_HEADER;
    if (count > (end - pos) / (SNAP_RECORD + 1)) return STORE_EINVAL;

    struct bt tree;
    bt_init(&tree);
    int err = STORE_OK;
    size_t n_expiring = 0;
    const unsigned char *prev_key = NULL;
    size_t prev_len = 0;
    for (uint64_t i = 0; i < count && err == STORE_OK; i++) {
        if (end - pos < SNAP_RECORD) {
            err = STORE_EINVAL;
            break;
        }
        const unsigned char *r = in + pos;
        size_t klen = get32(r), vlen = get32(r + 4);
        uint64_t create_rev = get64(r + 8), mod_rev = get64(r + 16);
        uint64_t version = get64(r + 24), expires = get64(r + 32);
        pos += SNAP_RECORD;
        if (klen == 0 || end - pos < klen || end - pos - klen < vlen) {
            err = STORE_EINVAL;
            break;
        }
        const unsigned char *key = in + pos, *value = key + klen;
        if (memchr(key, '\0', klen) || (prev_key && keycmp(prev_key, prev_len, key, klen) >= 0) ||
            create_rev == 0 || create_rev > mod_rev || mod_rev > rev || version == 0) {
            err = STORE_EINVAL;
            break;
        }
        pos += klen + vlen;
        prev_key = key;
        prev_len = klen;
        struct kv_entry *e = kv_entry_new(kv, (const char *)key, klen, (const char *)value, vlen);
        struct kv_entry *old;
        if (!e) {
            err = STORE_ENOSPC;
            break;
        }
        e->kv.create_rev = create_rev;
        e->kv.mod_rev = mod_rev;
        e->kv.version = version;
        e->kv.expires_ms = expires;
        if (bt_upsert(&tree, e, &old) != 0) {
            kv_entry_unref(kv, e);
            err = STORE_ENOSPC;
            break;
        }
        if (expires) n_expiring++;
    }
    if (err == STORE_OK && pos != end) err = STORE_EINVAL;
    if (err == STORE_OK && kv_heap_reserve(kv, n_expiring) != 0) err = STORE_ENOSPC;
    if (err != STORE_OK) {
        bt_clear(&tree, release_new, kv);
        return err;
    }
    kv_watch_end_all(kv, STORE_ECOMPACTED);
    kv_replace_state(kv, &tree, rev);
    return STORE_OK;
}
