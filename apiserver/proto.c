/*
 * proto.c - reads Kubernetes protobuf request bodies into the JSON form the
 * rest of the server works on.
 *
 * kubectl 1.32's typed clients send application/vnd.kubernetes.protobuf
 * bodies (create deployment, create configmap, expose ...): the bytes "k8s\0"
 * then a runtime.Unknown {typeMeta {apiVersion, kind}, raw}, raw being the
 * object's message. Field numbers and types come from proto_defs.c.
 *
 * Go's protobuf encoder writes non-pointer scalar fields even when they hold
 * their zero value, where the JSON encoder would omit them: those zeros
 * (tagged PB_ZERO_UNSET from gogoproto's nullable=false), empty strings and
 * zero timestamps are dropped; pointer fields keep a zero that was sent
 * (replicas: 0, runAsUser: 0, automountServiceAccountToken: false).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/proto_int.h"
#include "apiserver/rest_int.h"

#define MAX_DEPTH 64

struct rd {
    const uint8_t *p, *end;
};

static bool rd_varint(struct rd *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int s = 0; s < 64 && r->p < r->end; s += 7) {
        uint8_t c = *r->p++;
        x |= (uint64_t)(c & 0x7f) << s;
        if (c < 0x80) {
            *v = x;
            return true;
        }
    }
    return false;
}

static bool rd_bytes(struct rd *r, const uint8_t **b, size_t *n)
{
    uint64_t l;
    if (!rd_varint(r, &l) || l > (uint64_t)(r->end - r->p)) return false;
    *b = r->p;
    *n = (size_t)l;
    r->p += l;
    return true;
}

static bool rd_skip(struct rd *r, unsigned wt)
{
    uint64_t v;
    const uint8_t *b;
    size_t n;
    switch (wt) {
    case 0:
        return rd_varint(r, &v);
    case 1:
        if (r->end - r->p < 8) return false;
        r->p += 8;
        return true;
    case 2:
        return rd_bytes(r, &b, &n);
    case 5:
        if (r->end - r->p < 4) return false;
        r->p += 4;
        return true;
    default:
        return false;
    }
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static cJSON *base64_string(const uint8_t *in, size_t n)
{
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    if (!out) return NULL;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n) v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        *o++ = b64[(v >> 18) & 63];
        *o++ = b64[(v >> 12) & 63];
        *o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        *o++ = i + 2 < n ? b64[v & 63] : '=';
    }
    *o = 0;
    cJSON *s = cJSON_CreateString(out);
    free(out);
    return s;
}

static cJSON *string_of(const uint8_t *b, size_t n)
{
    char *s = malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, b, n);
    s[n] = 0;
    cJSON *j = cJSON_CreateString(s);
    free(s);
    return j;
}

/* Reads the varint or fixed-size scalar fields of a small message. */
static bool small_msg(const uint8_t *b, size_t n, uint64_t *ints, const uint8_t **strs,
                      size_t *lens, unsigned max)
{
    struct rd r = {b, b + n};
    while (r.p < r.end) {
        uint64_t key;
        if (!rd_varint(&r, &key)) return false;
        unsigned num = (unsigned)(key >> 3), wt = key & 7;
        if (num < max && wt == 0) {
            if (!rd_varint(&r, &ints[num])) return false;
        } else if (num < max && wt == 2) {
            if (!rd_bytes(&r, &strs[num], &lens[num])) return false;
        } else if (!rd_skip(&r, wt)) {
            return false;
        }
    }
    return true;
}

static cJSON *special(enum pb_kind_code k, const uint8_t *b, size_t n)
{
    uint64_t ints[4] = {0};
    const uint8_t *strs[4] = {0};
    size_t lens[4] = {0};
    if (!small_msg(b, n, ints, strs, lens, 4)) return NULL;
    char buf[64];
    switch (k) {
    case PB_TIME:
    case PB_MICROTIME: {
        if (ints[1] == 0 && ints[2] == 0) return cJSON_CreateNull();
        time_format_rfc3339((uint64_t)(int64_t)ints[1] * 1000, buf, sizeof buf);
        if (k == PB_MICROTIME && strlen(buf) > 1) {
            buf[strlen(buf) - 1] = 0;
            char tail[16];
            snprintf(tail, sizeof tail, ".%06uZ", (unsigned)((uint32_t)ints[2] / 1000));
            strncat(buf, tail, sizeof buf - strlen(buf) - 1);
        }
        return cJSON_CreateString(buf);
    }
    case PB_QUANTITY:
        return strs[1] ? string_of(strs[1], lens[1]) : cJSON_CreateString("0");
    case PB_INTORSTR:
        if (ints[1] == 1) return strs[3] ? string_of(strs[3], lens[3]) : cJSON_CreateString("");
        return cJSON_CreateNumber((double)(int32_t)ints[2]);
    case PB_RAWJSON:
        return strs[1] ? cJSON_ParseWithLength((const char *)strs[1], lens[1]) : cJSON_CreateNull();
    case PB_DURATION:
        snprintf(buf, sizeof buf, "%llds", (long long)(int64_t)ints[1] / 1000000000LL);
        return cJSON_CreateString(buf);
    default:
        return NULL;
    }
}

static int decode_msg(const uint8_t *b, size_t n, int msg, cJSON *out, int depth);

/* One value of field f (wire type wt) from r; NULL on a malformed body,
 * a JSON null for a value to leave out. */
static cJSON *value(struct rd *r, const struct pb_field *f, unsigned wt, int depth)
{
    uint64_t v;
    const uint8_t *b;
    size_t n;
    switch (f->kind) {
    case PB_STRING:
    case PB_BYTES:
        if (wt != 2 || !rd_bytes(r, &b, &n)) return NULL;
        return f->kind == PB_BYTES ? base64_string(b, n) : string_of(b, n);
    case PB_BOOL:
        return wt == 0 && rd_varint(r, &v) ? cJSON_CreateBool(v != 0) : NULL;
    case PB_INT:
        return wt == 0 && rd_varint(r, &v) ? cJSON_CreateNumber((double)(int64_t)v) : NULL;
    case PB_UINT:
        return wt == 0 && rd_varint(r, &v) ? cJSON_CreateNumber((double)v) : NULL;
    case PB_SINT:
        if (wt != 0 || !rd_varint(r, &v)) return NULL;
        return cJSON_CreateNumber((double)((int64_t)(v >> 1) ^ -(int64_t)(v & 1)));
    case PB_DOUBLE: {
        double d;
        if (wt != 1 || r->end - r->p < 8) return NULL;
        memcpy(&d, r->p, 8);
        r->p += 8;
        return cJSON_CreateNumber(d);
    }
    case PB_FLOAT: {
        float fl;
        if (wt != 5 || r->end - r->p < 4) return NULL;
        memcpy(&fl, r->p, 4);
        r->p += 4;
        return cJSON_CreateNumber(fl);
    }
    case PB_MSG: {
        if (wt != 2 || !rd_bytes(r, &b, &n)) return NULL;
        cJSON *o = cJSON_CreateObject();
        if (o && decode_msg(b, n, f->msg, o, depth + 1) != 0) {
            cJSON_Delete(o);
            return NULL;
        }
        return o;
    }
    default:
        if (wt != 2 || !rd_bytes(r, &b, &n)) return NULL;
        return special(f->kind, b, n);
    }
}

static bool empty_scalar(const cJSON *v, const struct pb_field *f)
{
    if (cJSON_IsNull(v) || (cJSON_IsString(v) && !*v->valuestring)) return true;
    if (!(f->flags & PB_ZERO_UNSET)) return false;
    return cJSON_IsFalse(v) || (cJSON_IsNumber(v) && v->valuedouble == 0);
}

static int map_entry(struct rd *r, const struct pb_field *f, cJSON *out, int depth)
{
    const uint8_t *b;
    size_t n;
    if (!rd_bytes(r, &b, &n)) return -1;
    const struct pb_msg *em = &pb_msgs[f->msg];
    struct rd e = {b, b + n};
    cJSON *key = NULL, *val = NULL;
    while (e.p < e.end) {
        uint64_t k;
        if (!rd_varint(&e, &k)) break;
        const struct pb_field *ef = NULL;
        for (unsigned i = 0; i < em->n; i++)
            if (em->f[i].num == (k >> 3)) ef = &em->f[i];
        if (!ef) {
            if (!rd_skip(&e, k & 7)) break;
            continue;
        }
        cJSON *v = value(&e, ef, k & 7, depth);
        if (!v) break;
        if (ef->num == 1) {
            cJSON_Delete(key);
            key = v;
        } else {
            cJSON_Delete(val);
            val = v;
        }
    }
    int rv = -1;
    if (e.p == e.end && cJSON_IsString(key)) {
        cJSON *obj = cJSON_GetObjectItemCaseSensitive(out, f->name);
        if (!obj) obj = cJSON_AddObjectToObject(out, f->name);
        if (!val)
            val = em->n > 1 && em->f[1].kind == PB_STRING ? cJSON_CreateString("")
                                                          : cJSON_CreateNull();
        if (obj && val) {
            cJSON_DeleteItemFromObjectCaseSensitive(obj, key->valuestring);
            cJSON_AddItemToObject(obj, key->valuestring, val);
            val = NULL;
            rv = 0;
        }
    }
    cJSON_Delete(key);
    cJSON_Delete(val);
    return rv;
}

static int decode_msg(const uint8_t *b, size_t n, int msg, cJSON *out, int depth)
{
    if (depth > MAX_DEPTH || msg < 0 || (unsigned)msg >= pb_n_msgs) return -1;
    const struct pb_msg *m = &pb_msgs[msg];
    struct rd r = {b, b + n};
    while (r.p < r.end) {
        uint64_t key;
        if (!rd_varint(&r, &key)) return -1;
        unsigned num = (unsigned)(key >> 3), wt = key & 7;
        const struct pb_field *f = NULL;
        for (unsigned i = 0; i < m->n; i++)
            if (m->f[i].num == num) f = &m->f[i];
        if (!f) {
            if (!rd_skip(&r, wt)) return -1;
            continue;
        }
        if (f->flags & PB_MAP) {
            if (wt != 2 || map_entry(&r, f, out, depth) != 0) return -1;
            continue;
        }
        if ((f->flags & PB_INLINE) && f->kind == PB_MSG) {
            const uint8_t *ib;
            size_t in;
            if (wt != 2 || !rd_bytes(&r, &ib, &in) ||
                decode_msg(ib, in, f->msg, out, depth + 1) != 0)
                return -1;
            continue;
        }
        if (f->flags & PB_REP) {
            cJSON *arr = cJSON_GetObjectItemCaseSensitive(out, f->name);
            if (!arr) arr = cJSON_AddArrayToObject(out, f->name);
            if (!arr) return -1;
            bool packed =
                wt == 2 && f->kind != PB_STRING && f->kind != PB_BYTES && f->kind < PB_MSG;
            if (packed) {
                const uint8_t *pb;
                size_t pn;
                if (!rd_bytes(&r, &pb, &pn)) return -1;
                struct rd pr = {pb, pb + pn};
                unsigned ewt = f->kind == PB_DOUBLE ? 1 : f->kind == PB_FLOAT ? 5 : 0;
                while (pr.p < pr.end) {
                    cJSON *v = value(&pr, f, ewt, depth);
                    if (!v) return -1;
                    cJSON_AddItemToArray(arr, v);
                }
                continue;
            }
            cJSON *v = value(&r, f, wt, depth);
            if (!v) return -1;
            cJSON_AddItemToArray(arr, v);
            continue;
        }
        cJSON *v = value(&r, f, wt, depth);
        if (!v) return -1;
        cJSON_DeleteItemFromObjectCaseSensitive(out, f->name);
        if (empty_scalar(v, f))
            cJSON_Delete(v);
        else
            cJSON_AddItemToObject(out, f->name, v);
    }
    return 0;
}

cJSON *proto_decode_body(const char *buf, size_t len, char *err, size_t errlen)
{
    const uint8_t *b = (const uint8_t *)buf;
    if (len < 4 || memcmp(b, "k8s\0", 4)) {
        snprintf(err, errlen, "the protobuf body does not start with the Kubernetes magic bytes");
        return NULL;
    }
    uint64_t ints[5] = {0};
    const uint8_t *strs[5] = {0};
    size_t lens[5] = {0};
    if (!small_msg(b + 4, len - 4, ints, strs, lens, 5) || !strs[1] || !strs[2]) {
        snprintf(err, errlen, "the protobuf body is not a runtime.Unknown envelope");
        return NULL;
    }
    const uint8_t *ts[3] = {0};
    size_t tl[3] = {0};
    uint64_t ti[3];
    if (!small_msg(strs[1], lens[1], ti, ts, tl, 3) || !ts[1] || !ts[2]) {
        snprintf(err, errlen, "the protobuf body has no apiVersion and kind");
        return NULL;
    }
    char gv[128], kind[128];
    snprintf(gv, sizeof gv, "%.*s", (int)tl[1], (const char *)ts[1]);
    snprintf(kind, sizeof kind, "%.*s", (int)tl[2], (const char *)ts[2]);
    const struct pb_kind *k = pb_kinds;
    while (k->kind && (strcmp(k->api_version, gv) || strcmp(k->kind, kind)))
        k++;
    if (!k->kind) {
        snprintf(err, errlen, "no kind \"%s\" is registered for version \"%s\"", kind, gv);
        return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "kind", kind);
    cJSON_AddStringToObject(o, "apiVersion", gv);
    if (decode_msg(strs[2], lens[2], k->msg, o, 0) != 0) {
        cJSON_Delete(o);
        snprintf(err, errlen, "the protobuf body of %s is malformed", kind);
        return NULL;
    }
    return o;
}
