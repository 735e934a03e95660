/*
 * objio.c - objects between the store and the wire.
 *
 * The store keeps compact JSON without metadata.resourceVersion (the key's
 * mod revision is the resourceVersion, as on etcd), written with kind,
 * apiVersion and metadata first. Serving a read then needs no parse: the
 * resourceVersion is spliced in right after the top-level `"metadata":{`,
 * which a short scan finds near the start. Anything else that looks odd
 * falls back to parsing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include "apiserver/rest_int.h"

/* Offset just after the '{' of the top-level "metadata" object, or 0. */
static size_t find_metadata(const char *s, size_t len)
{
    int depth = 0;
    bool in_str = false, esc = false, key_next = false;
    size_t key_start = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"') {
                in_str = false;
                if (depth == 1 && key_next) {
                    size_t kl = i - key_start;
                    size_t j = i + 1;
                    while (j < len && (s[j] == ' ' || s[j] == ':'))
                        j++;
                    if (kl == 8 && !memcmp(s + key_start, "metadata", 8) && j < len && s[j] == '{')
                        return j + 1;
                    key_next = false;
                }
            }
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            key_start = i + 1;
            break;
        case '{':
            depth++;
            if (depth == 1) key_next = true;
            break;
        case '[':
            depth++;
            break;
        case '}':
        case ']':
            depth--;
            break;
        case ',':
            if (depth == 1) key_next = true;
            break;
        default:
            break;
        }
    }
    return 0;
}

char *obj_serve(const char *value, size_t len, uint64_t rev, size_t *out_len)
{
    size_t at = find_metadata(value, len);
    if (at == 0) {
        cJSON *o = cJSON_ParseWithLength(value, len);
        if (!o) return NULL;
        obj_set_rv(o, rev);
        char *s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (s && out_len) *out_len = strlen(s);
        return s;
    }
    char ins[64];
    bool empty = at < len && value[at] == '}';
    int n =
        snprintf(ins, sizeof ins, "\"resourceVersion\":\"%" PRIu64 "\"%s", rev, empty ? "" : ",");
    char *out = malloc(len + (size_t)n + 1);
    if (!out) return NULL;
    memcpy(out, value, at);
    memcpy(out + at, ins, (size_t)n);
    memcpy(out + at + n, value + at, len - at);
    out[len + (size_t)n] = 0;
    if (out_len) *out_len = len + (size_t)n;
    return out;
}

int obj_set_rv(cJSON *obj, uint64_t rev)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, rev);
    return api_meta_set_str(obj, "resourceVersion", buf);
}

cJSON *obj_parse_kv(const store_kv_t *kv)
{
    cJSON *o = cJSON_ParseWithLength(kv->value, kv->value_len);
    if (!o) return NULL;
    if (!cJSON_IsObject(o) || obj_set_rv(o, kv->mod_rev) != 0) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static void move_front(cJSON *obj, const char *key)
{
    cJSON *it = cJSON_DetachItemFromObjectCaseSensitive(obj, key);
    if (it) cJSON_InsertItemInArray(obj, 0, it);
}

char *obj_store_bytes(cJSON *obj, size_t *len)
{
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    if (cJSON_IsObject(meta)) {
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "resourceVersion");
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "selfLink");
    }
    move_front(obj, "metadata");
    move_front(obj, "apiVersion");
    move_front(obj, "kind");
    char *s = cJSON_PrintUnformatted(obj);
    if (s && len) *len = strlen(s);
    return s;
}

void obj_new_uid(char *buf)
{
    unsigned char b[16];
    if (random_bytes(b, sizeof b) != 0) {
        uint64_t t = time_mono_ms() ^ time_wall_ms();
        memcpy(b, &t, 8);
        memcpy(b + 8, &t, 8);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

void obj_now(char *buf, size_t len)
{
    time_format_rfc3339(time_wall_ms(), buf, len);
}

bool obj_parse_rv(const char *s, uint64_t *out)
{
    if (!s || !*s) return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10) return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return true;
}

cJSON *obj_parse_body(rq_t *q, cJSON **err)
{
    size_t len;
    const char *body = http_req_body(q->req, &len);
    const char *ct = http_req_header(q->req, "content-type");
    char msg[512];
    *err = NULL;
    if (ct && !strncasecmp(ct, "application/vnd.kubernetes.protobuf", 35)) {
        char perr[256];
        cJSON *o = proto_decode_body(body, len, perr, sizeof perr);
        if (!o) {
            snprintf(msg, sizeof msg, "couldn't decode the protobuf body: %s", perr);
            *err = api_status_bad_request(msg);
        }
        return o;
    }
    if (ct && *ct && strncasecmp(ct, "application/json", 16) && strncasecmp(ct, "*/*", 3) &&
        strncasecmp(ct, "application/x-www-form-urlencoded", 33) &&
        strncasecmp(ct, "application/merge-patch+json", 28) &&
        strncasecmp(ct, "application/strategic-merge-patch+json", 38) &&
        strncasecmp(ct, "application/json-patch+json", 27)) {
        snprintf(msg, sizeof msg,
                 "the body of the request was in an unknown format - accepted media types "
                 "include: application/json, application/vnd.kubernetes.protobuf (got %.100s)",
                 ct);
        *err = api_status_error(415, "UnsupportedMediaType", msg, NULL);
        return NULL;
    }
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(body, len, &end, false);
    if (o && end) {
        while (end < body + len && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
            end++;
        if (end != body + len) {
            cJSON_Delete(o);
            o = NULL;
        }
    }
    if (!o) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= body && at <= body + len ? (size_t)(at - body) : len;
        if (len == 0)
            snprintf(msg, sizeof msg,
                     "couldn't get version/kind; json parse error: unexpected end of JSON input");
        else if (off < len)
            snprintf(msg, sizeof msg,
                     "couldn't get version/kind; json parse error: invalid character '%c' "
                     "at offset %zu",
                     body[off] >= ' ' && body[off] < 127 ? body[off] : '?', off);
        else
            snprintf(msg, sizeof msg,
                     "couldn't get version/kind; json parse error: unexpected end of JSON input");
        *err = api_status_bad_request(msg);
        return NULL;
    }
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        *err = api_status_bad_request("couldn't get version/kind; json parse error: json: cannot "
                                      "unmarshal non-object into Go value of type struct");
        return NULL;
    }
    return o;
}
