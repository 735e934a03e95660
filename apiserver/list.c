/*
 * list.c - LIST of a collection: label and field selectors, limit and
 * continue, resourceVersion semantics, JSON or Table output; and the
 * selector filter that watches share.
 *
 * Pages: the first page is read at the current revision (or the exact one
 * asked for); its revision and the last key are the continue token, so the
 * following pages are read at that same revision and the whole list is one
 * consistent snapshot, as on Kubernetes with etcd. With selectors, the store
 * is read in batches until `limit` objects matched or the keys ran out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rest_int.h"

/* ---------------------------------------------------------------- filter */

cJSON *rest_filter_init(rq_t *q, rest_filter_t *f)
{
    char err[512], msg[700];
    memset(f, 0, sizeof(*f));
    f->resource = q->rt.res->resource;
    if (q->rt.kind == API_ROUTE_OBJECT) f->exact_name = q->rt.name;
    const char *ls = http_req_query(q->req, "labelSelector");
    if (ls && *ls) {
        f->labels = api_selector_parse(ls, err, sizeof err);
        if (!f->labels) {
            snprintf(msg, sizeof msg, "unable to parse requirement: %s", err);
            return api_status_bad_request(strstr(err, "unable to parse") ? err : msg);
        }
        if (api_selector_empty(f->labels)) {
            api_selector_free(f->labels);
            f->labels = NULL;
        }
    }
    const char *fs = http_req_query(q->req, "fieldSelector");
    if (fs && *fs) {
        f->fields = api_fieldsel_parse(fs, err, sizeof err);
        if (!f->fields) {
            rest_filter_free(f);
            return api_status_bad_request(err);
        }
        if (api_fieldsel_check(f->fields, f->resource, err, sizeof err) != 0) {
            rest_filter_free(f);
            return api_status_bad_request(err);
        }
        const char *n = api_fieldsel_exact(f->fields, "metadata.name");
        if (n && !f->exact_name) f->exact_name = n;
        if (api_fieldsel_empty(f->fields)) {
            api_fieldsel_free(f->fields);
            f->fields = NULL;
        }
    }
    return NULL;
}

bool rest_filter_needs_parse(const rest_filter_t *f)
{
    return f->labels || f->fields;
}

bool rest_filter_match(const rest_filter_t *f, const cJSON *obj)
{
    if (f->exact_name) {
        const char *n = api_meta_name(obj);
        if (!n || strcmp(n, f->exact_name)) return false;
    }
    if (f->labels && !api_selector_matches(f->labels, api_meta_labels(obj))) return false;
    if (f->fields && !api_fieldsel_matches_object(f->fields, f->resource, obj)) return false;
    return true;
}

void rest_filter_free(rest_filter_t *f)
{
    api_selector_free(f->labels);
    api_fieldsel_free(f->fields);
    f->labels = NULL;
    f->fields = NULL;
}

/* ---------------------------------------------------------------- base64 */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const char *in, size_t n)
{
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    if (!out) return NULL;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < n) v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)in[i + 2];
        *o++ = b64[(v >> 18) & 63];
        *o++ = b64[(v >> 12) & 63];
        *o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        *o++ = i + 2 < n ? b64[v & 63] : '=';
    }
    *o = 0;
    return out;
}

static char *b64_decode(const char *in)
{
    size_t n = strlen(in);
    char *out = malloc(n / 4 * 3 + 4), *o = out;
    if (!out) return NULL;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < n && in[i] != '='; i++) {
        const char *p = strchr(b64, in[i]);
        if (!p || !in[i]) {
            free(out);
            return NULL;
        }
        v = (v << 6) | (unsigned)(p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (char)((v >> bits) & 0xff);
        }
    }
    *o = 0;
    return out;
}

/* ------------------------------------------------------------------ list */

struct list_ctx {
    rq_t *q;
    rest_filter_t f;
    char prefix[512];
    char after[768];
    uint64_t rev;
    size_t limit;
    size_t n;
    bool more;
    FILE *items; /* JSON: the items' bytes, comma-separated */
    char *items_buf;
    size_t items_len;
    cJSON *table_items; /* Table: the objects */
    /* All-namespace lists of a resource some namespaces of which live in
     * the volatile tier (Leases): those prefixes are read after the durable
     * range, on its last page. */
    char vprefix[2][160];
    int n_vprefix, next_vprefix;
};

/* Namespaces whose Leases may live in the leader's memory (node heartbeats
 * and leader elections; see cmd/server.c). */
static const char *const volatile_ns[] = {"kube-node-lease", "kube-system"};

static void list_free(struct list_ctx *c)
{
    if (c->items) fclose(c->items);
    free(c->items_buf);
    cJSON_Delete(c->table_items);
    rest_filter_free(&c->f);
    free(c);
}

static void list_fail(struct list_ctx *c, cJSON *st)
{
    rq_t *q = c->q;
    list_free(c);
    rq_reply_status(q, st);
}

static char *continue_token(struct list_ctx *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "v", "meta.k8s.io/v1");
    cJSON_AddNumberToObject(o, "rv", (double)c->rev);
    cJSON_AddStringToObject(o, "start", c->after + strlen(c->prefix));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *t = s ? b64_encode(s, strlen(s)) : NULL;
    free(s);
    return t;
}

static void list_reply(struct list_ctx *c)
{
    rq_t *q = c->q;
    char *cont = c->more ? continue_token(c) : NULL;
    if (q->fmt == RQ_FMT_TABLE) {
        cJSON *items = c->table_items;
        c->table_items = NULL;
        cJSON *t = rest_table_of(q, items, c->rev, cont);
        free(cont);
        list_free(c);
        rq_reply_json(q, 200, t);
        return;
    }
    fclose(c->items);
    c->items = NULL;
    const api_resource_t *r = q->rt.res;
    char *head = NULL;
    size_t hl = 0;
    FILE *h = open_memstream(&head, &hl);
    if (!h) {
        free(cont);
        list_fail(c, api_status_internal("out of memory"));
        return;
    }
    fprintf(h, "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"%llu\"",
            r->list_kind, r->group_version, (unsigned long long)c->rev);
    if (cont) fprintf(h, ",\"continue\":\"%s\"", cont);
    fputs("},\"items\":[", h);
    fwrite(c->items_buf, 1, c->items_len, h);
    fputs("]}", h);
    fclose(h);
    free(cont);
    list_free(c);
    rq_reply_raw(q, 200, "application/json", head, hl);
    free(head);
}

static const char *key_name(const char *key)
{
    const char *s = strrchr(key, '/');
    return s ? s + 1 : key;
}

static void ranged(const store_result_t *res, void *data);
static void vranged(const store_result_t *res, void *data);

static void list_next(struct list_ctx *c)
{
    size_t want = 0;
    if (c->limit) {
        want = c->limit - c->n;
        if (rest_filter_needs_parse(&c->f) && want < 256) want = 256;
    }
    int rv = store_range(c->q->a->store, c->prefix, c->after[0] ? c->after : NULL, want, c->rev,
                         ranged, c);
    if (rv != 0) list_fail(c, rest_store_err_status(c->q->rt.res, rv, NULL));
}

static void ranged(const store_result_t *res, void *data)
{
    struct list_ctx *c = data;
    rq_t *q = c->q;
    if (res->err != STORE_OK) {
        if (res->err == STORE_ECOMPACTED && c->after[0])
            list_fail(c, api_status_expired(
                             "The provided continue parameter is too old to display a consistent "
                             "list result. You can start a new list without the continue "
                             "parameter."));
        else
            list_fail(c, rest_store_err_status(q->rt.res, res->err, NULL));
        return;
    }
    if (!c->rev) c->rev = res->rev;
    bool full = false;
    size_t i;
    for (i = 0; i < res->n_kvs && !full; i++) {
        const store_kv_t *kv = &res->kvs[i];
        snprintf(c->after, sizeof c->after, "%s", kv->key);
        if (c->f.exact_name && strcmp(key_name(kv->key), c->f.exact_name)) continue;
        cJSON *o = NULL;
        if (rest_filter_needs_parse(&c->f) || q->fmt == RQ_FMT_TABLE) {
            o = obj_parse_kv(kv);
            if (!o) continue;
            if (!rest_filter_match(&c->f, o)) {
                cJSON_Delete(o);
                continue;
            }
        }
        if (q->fmt == RQ_FMT_TABLE) {
            cJSON_AddItemToArray(c->table_items, o);
        } else {
            cJSON_Delete(o);
            size_t len;
            char *s = obj_serve(kv->value, kv->value_len, kv->mod_rev, &len);
            if (!s) continue;
            if (c->n) fputc(',', c->items);
            fwrite(s, 1, len, c->items);
            free(s);
        }
        c->n++;
        if (c->limit && c->n >= c->limit) full = true;
    }
    bool keys_left = i < res->n_kvs || res->more;
    if (full || !keys_left) {
        c->more = full && keys_left;
        if (!c->more && c->next_vprefix < c->n_vprefix) {
            int rv =
                store_range(q->a->store, c->vprefix[c->next_vprefix++], NULL, 0, 0, vranged, c);
            if (rv == 0) return;
        }
        list_reply(c);
        return;
    }
    list_next(c);
}

/* A volatile prefix's objects, appended whole (the list's revision stays the
 * durable one). */
static void vranged(const store_result_t *res, void *data)
{
    struct list_ctx *c = data;
    c->limit = 0;
    if (res->err == STORE_OK) {
        ranged(res, c); /* filters and appends; chains to the next prefix */
        return;
    }
    if (c->next_vprefix < c->n_vprefix &&
        store_range(c->q->a->store, c->vprefix[c->next_vprefix++], NULL, 0, 0, vranged, c) == 0)
        return;
    list_reply(c);
}

static cJSON *parse_continue(struct list_ctx *c, const char *tok)
{
    char *js = b64_decode(tok);
    cJSON *o = js ? cJSON_Parse(js) : NULL;
    free(js);
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(o, "rv");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "start");
    /* start is relative to the list's prefix, so it cannot leave it; it holds
     * a '/' in lists across namespaces ("<namespace>/<name>"). */
    if (!cJSON_IsNumber(rv) || !cJSON_IsString(st) || rv->valuedouble < 1 ||
        strlen(c->prefix) + strlen(st->valuestring) >= sizeof c->after) {
        cJSON_Delete(o);
        return api_status_bad_request("continue key is not valid: the token is malformed; "
                                      "start a new list without continue");
    }
    c->rev = (uint64_t)rv->valuedouble;
    snprintf(c->after, sizeof c->after, "%s%s", c->prefix, st->valuestring);
    cJSON_Delete(o);
    return NULL;
}

void rest_list(rq_t *q)
{
    struct list_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        rq_reply_status(q, api_status_internal("out of memory"));
        return;
    }
    c->q = q;
    cJSON *st = rest_filter_init(q, &c->f);
    if (st) {
        list_fail(c, st);
        return;
    }
    if (rq_key(q, NULL, c->prefix, sizeof c->prefix) < 0) {
        list_fail(c, api_status_bad_request("the namespace is too long"));
        return;
    }
    const char *lim = http_req_query(q->req, "limit");
    if (lim && *lim) {
        long long l = atoll(lim);
        if (l > 0) c->limit = (size_t)l;
    }
    const char *cont = http_req_query(q->req, "continue");
    const char *rvs = http_req_query(q->req, "resourceVersion");
    const char *match = http_req_query(q->req, "resourceVersionMatch");
    if (cont && *cont) {
        if (rvs && *rvs && strcmp(rvs, "0")) {
            list_fail(c, api_status_bad_request(
                             "specifying resource version is not allowed when using continue"));
            return;
        }
        st = parse_continue(c, cont);
        if (st) {
            list_fail(c, st);
            return;
        }
    } else if (rvs && *rvs) {
        uint64_t v;
        if (!obj_parse_rv(rvs, &v)) {
            char msg[256];
            snprintf(msg, sizeof msg, "Invalid value \"%.64s\": resourceVersion must be a number",
                     rvs);
            list_fail(c, api_status_bad_request(msg));
            return;
        }
        if (match && !strcmp(match, "Exact")) c->rev = v;
    }
    if (!q->rt.ns[0] && q->rt.res->namespaced) {
        for (size_t i = 0; i < sizeof volatile_ns / sizeof volatile_ns[0]; i++) {
            char p[160];
            api_storage_key(q->rt.res, volatile_ns[i], NULL, p, sizeof p);
            if (store_is_volatile(q->a->store, p))
                snprintf(c->vprefix[c->n_vprefix++], sizeof c->vprefix[0], "%s", p);
        }
    }
    if (q->fmt == RQ_FMT_TABLE) {
        c->table_items = cJSON_CreateArray();
    } else {
        c->items = open_memstream(&c->items_buf, &c->items_len);
    }
    if (!c->table_items && !c->items) {
        list_fail(c, api_status_internal("out of memory"));
        return;
    }
    list_next(c);
}
