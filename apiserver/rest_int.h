/*
 * rest_int.h - what the files of the REST layer share (private to apiserver/).
 *
 * A request to a Kubernetes path becomes an rq_t (rest.c) that one handler
 * owns until it answers through one of the rq_reply_* functions, which also
 * count the request in the metrics and free the rq_t. Handlers run on the
 * store's loop; store callbacks may run inside the store call that started
 * them, so a handler never touches its rq_t after a store call returned 0.
 *
 *   rest.c        dispatch: route, verb, authorization, content negotiation
 *   negotiate.c   Accept parsing, replies, metrics, store error mapping
 *   discovery.c   /version, /api, /apis, APIResourceLists
 *   openapi.c     /openapi/v2 and /openapi/v3
 *   objio.c       stored bytes <-> served objects, request bodies, uids, times
 *   proto.c       Kubernetes protobuf request bodies (tables: proto_defs.c)
 *   schema.c      field schemas: strict decoding (unknown/duplicate fields,
 *                 wrong JSON types, bad quantities)
 *   crud_read.c   get; list.c: list with selectors and pages
 *   crud_write.c  create and update; rmw.c: read-modify-write with CAS
 *   patch.c       the three patch types
 *   delete.c      delete, deletecollection, finalizers, graceful deletion
 *   watch.c       watches (and watch_proxy.c: volatile watches on followers)
 *   services.c    clusterIP / nodePort allocation
 *   subresources.c  binding, scale, eviction, namespaces/finalize; logs.c: log
 *   namespaces.c  bootstrap objects and namespace termination (leader timer)
 *   authz.c       what the node identity may do
 */
#ifndef PICOKUBE_APISERVER_REST_INT_H
#define PICOKUBE_APISERVER_REST_INT_H

#include <cjson/cJSON.h>

#include "api/api.h"
#include "apiserver/apiserver_int.h"

#define REST_COMP "apiserver"

/* Bounded retries of a read-modify-write that lost a CAS race. */
#define RMW_MAX_TRIES 8
/* Events expire after one hour, as Kubernetes' default --event-ttl. */
#define EVENT_TTL_S 3600

enum rq_format { RQ_FMT_JSON = 0, RQ_FMT_TABLE };

typedef struct rq {
    apiserver_t *a;
    http_req_t *req;
    enum api_identity id;
    api_route_t rt;
    const char *verb; /* Kubernetes verb: get, list, watch, create ... */
    char res_label[96];
    uint64_t start_ms;
    enum rq_format fmt;
    enum api_table_include include;
    bool dry_run;
} rq_t;

/* ----------------------------------------------------------- negotiate.c */

/* Decides q->fmt from Accept (Tables only where `table_ok`). Returns 0, or -1
 * when nothing acceptable can be produced (the caller answers 406). */
int rq_negotiate(rq_t *q, bool table_ok);
/* Replies; each completes the request and frees q. */
void rq_reply_raw(rq_t *q, int code, const char *ctype, const char *body, size_t len);
/* Takes doc (frees it). */
void rq_reply_json(rq_t *q, int code, cJSON *doc);
/* Takes st (a Status from api_status_*); the HTTP code is st.code. NULL
 * means out of memory (500). */
void rq_reply_status(rq_t *q, cJSON *st);
/* A store error as a Status (404/409/503/504/500...). name may be NULL. */
void rq_reply_store_err(rq_t *q, int err, const char *name);
cJSON *rest_store_err_status(const api_resource_t *r, int err, const char *name);
/* Counts a request that is finishing (watches and streams that end on their
 * own); frees q. The HTTP request must already be completed. */
void rq_finish(rq_t *q, int code);
void rq_free(rq_t *q);

/* ----------------------------------------------------------- discovery.c */
void rest_discovery(rq_t *q);
void rest_version(apiserver_t *a, http_req_t *req);
/* ------------------------------------------------------------- openapi.c */
void rest_openapi(rq_t *q, const char *path);

/* --------------------------------------------------------------- objio.c */
/* The stored bytes with metadata.resourceVersion = rev spliced in (malloc'd,
 * NUL-terminated). NULL when out of memory. */
char *obj_serve(const char *value, size_t len, uint64_t rev, size_t *out_len);
/* A stored value parsed, with metadata.resourceVersion set. NULL if corrupt. */
cJSON *obj_parse_kv(const store_kv_t *kv);
/* Compact bytes to store: kind, apiVersion, metadata first; no
 * resourceVersion or selfLink. Caller frees. */
char *obj_store_bytes(cJSON *obj, size_t *len);
/* Sets metadata.resourceVersion to rev (decimal). */
int obj_set_rv(cJSON *obj, uint64_t rev);
/* A random RFC 4122 v4 uid into buf (>= 37 bytes). */
void obj_new_uid(char *buf);
/* Now as RFC 3339 into buf (>= 32 bytes). */
void obj_now(char *buf, size_t len);
/* Parses a resourceVersion; false when it is not a decimal number. */
bool obj_parse_rv(const char *s, uint64_t *out);
/* Parses the request body as one JSON object. NULL with a 400 Status in
 * *err (caller replies) when it is not JSON or not an object. */
cJSON *obj_parse_body(rq_t *q, cJSON **err);

/* --------------------------------------------------------------- proto.c */
/* A Kubernetes protobuf body ("k8s\0" + runtime.Unknown) as JSON, for the
 * kinds served. NULL with a message in err. */
cJSON *proto_decode_body(const char *buf, size_t len, char *err, size_t errlen);

/* -------------------------------------------------------------- schema.c */
enum field_validation { FV_WARN = 0, FV_STRICT, FV_IGNORE };
/* ?fieldValidation= : -1 on an unknown value. */
int schema_fv_parse(const char *s, enum field_validation *out);
/* Decodes obj as kind: drops duplicate fields (last wins, as Go's decoder)
 * and unknown ones, rejects wrong JSON types and bad quantities, and, with
 * FV_STRICT, unknown or duplicate fields. Returns NULL when acceptable
 * (with FV_WARN, *warn gets the newline-separated warnings; caller frees),
 * else a 400 Status. */
cJSON *schema_check(const char *group_version, const char *kind, cJSON *obj,
                    enum field_validation fv, char **warn);
/* OpenAPI v3 components.schemas of the field tables, with the kinds of
 * group/version tagged (kubectl explain reads them). */
cJSON *schema_openapi(const char *group, const char *version);

/* --------------------------------------------------------------- rest.c */
/* A boolean query parameter, parsed as Go's strconv.ParseBool. */
bool rq_query_bool(http_req_t *req, const char *name);
/* The namespace the route names or the object carries ("" if none). */
const char *rq_ns(const rq_t *q);
/* Writes the storage key of the route's object into buf. -1 if too long. */
int rq_key(const rq_t *q, const char *name, char *buf, size_t len);

/* ------------------------------------------------------------ crud_read.c */
void rest_get(rq_t *q);
/* A Table of items (an array, taken) with the list's resourceVersion and
 * continue token (0 / NULL: none). */
cJSON *rest_table_of(rq_t *q, cJSON *items, uint64_t rev, const char *cont);
/* ---------------------------------------------------------------- list.c */
void rest_list(rq_t *q);
/* Field-selector and label-selector filter shared by list and watch. */
typedef struct rest_filter {
    api_selector_t *labels; /* NULL: everything */
    api_fieldsel_t *fields; /* NULL: everything */
    const char *resource;
    const char *exact_name; /* the object route's name (single-object watch) */
} rest_filter_t;
/* Parses labelSelector / fieldSelector. NULL, or a 400 Status. */
cJSON *rest_filter_init(rq_t *q, rest_filter_t *f);
bool rest_filter_match(const rest_filter_t *f, const cJSON *obj);
bool rest_filter_needs_parse(const rest_filter_t *f);
void rest_filter_free(rest_filter_t *f);

/* ---------------------------------------------------------- crud_write.c */
void rest_create(rq_t *q);
void rest_update(rq_t *q, bool status_only);
/* Shared by update, patch and subresources: finishes a new object version
 * against the old one (system metadata, defaults, prepare_update,
 * validation). Returns NULL, or a Status to answer. */
cJSON *rest_prepare_update(rq_t *q, cJSON *obj, const cJSON *old, bool status_only);
/* The checks every body gets: kind/apiVersion for the route, name and
 * namespace against the URL, strict decoding. NULL or a Status. */
cJSON *rest_check_body(rq_t *q, cJSON *obj, const char *kind, const char *gv);

/* ---------------------------------------------------------------- rmw.c */
/* A read-modify-write of one stored object, retried on CAS conflicts.
 * mutate gets the current object (with resourceVersion) or NULL when absent
 * and returns:
 *   RMW_WRITE  with *out set: store it (an update, or a create when cur was NULL);
 *   RMW_DELETE: delete the object (finalizers done);
 *   RMW_NOOP   with *out set or NULL: answer without writing;
 *   RMW_FAIL   with *out a Status: answer it.
 * done runs once with the outcome and must reply. */
enum rmw_action { RMW_WRITE, RMW_DELETE, RMW_NOOP, RMW_FAIL };
typedef struct rmw rmw_t;
typedef enum rmw_action (*rmw_mutate_fn)(rmw_t *m, cJSON *cur, cJSON **out);
/* status: a Status when the write failed (caller replies with it), else
 * NULL with obj the stored result (with resourceVersion) and deleted telling
 * whether it was removed. done owns status and obj. */
typedef void (*rmw_done_fn)(rmw_t *m, cJSON *obj, bool deleted, cJSON *status);
struct rmw {
    apiserver_t *a;
    rq_t *q; /* NULL for the API server's own writes */
    const api_resource_t *res;
    char key[512];
    char name[254];
    rmw_mutate_fn mutate;
    rmw_done_fn done;
    void *arg;
    int tries;
    uint32_t ttl_s;
    bool no_retry;       /* a resourceVersion precondition: conflicts are final */
    bool create_missing; /* cur == NULL is allowed (create on update) */
    bool dry_run;
    /* Service updates: the versions whose allocations are reconciled. */
    cJSON *svc_new, *svc_old;
    uint64_t pend_rev;
};
/* Starts m (caller-allocated; must stay valid until done). */
void rmw_start(rmw_t *m);
/* Whether an object with deletionTimestamp may now go (finalizers empty and
 * no grace period still running). */
bool rest_ready_to_delete(const cJSON *obj);

/* ---------------------------------------------------------------- patch.c */
void rest_patch(rq_t *q, bool status_only);
/* Applies the request's patch to doc (kind for strategic merge). NULL with
 * a Status in *err. */
cJSON *rest_apply_patch(rq_t *q, const cJSON *doc, const char *kind, cJSON **err);

/* --------------------------------------------------------------- delete.c */
void rest_delete(rq_t *q);
void rest_delete_collection(rq_t *q);
/* DeleteOptions, from the body and the query. */
struct del_opts {
    int64_t grace; /* -1: the object's default */
    char prop[16]; /* "", Background, Foreground, Orphan */
    char pre_uid[64];
    uint64_t pre_rv;
    bool dry_run;
};
/* Deletes one object with opts (namespace termination, deletecollection,
 * eviction). done(data, obj, deleted, status) as rmw_done_fn; obj and
 * status belong to done. */
typedef void (*rest_del_done)(void *data, cJSON *obj, bool deleted, cJSON *status);
void rest_delete_key(apiserver_t *a, rq_t *q, const api_resource_t *r, const char *key,
                     const char *name, const struct del_opts *opts, rest_del_done done, void *data);
/* Parses DeleteOptions (from body when `body`, and the query). NULL or a Status. */
cJSON *rest_del_opts(rq_t *q, const cJSON *body, struct del_opts *o);
/* The reply to a DELETE: the object (pods, services, or an object whose
 * deletion is pending) or a Success Status. Takes obj. */
cJSON *rest_delete_reply(const api_resource_t *r, cJSON *obj, bool deleted);

/* ---------------------------------------------------------------- watch.c */
void rest_watch(rq_t *q);
void rest_watch_proxy(rq_t *q); /* watch_proxy.c */

/* ------------------------------------------------------------- services.c */
/* Allocates what a new Service needs (clusterIP(s), nodePorts) before it is
 * stored; done(status) with NULL on success or a 422 Status. */
typedef void (*svc_alloc_done)(void *data, cJSON *status);
void svc_allocate(apiserver_t *a, cJSON *svc, const cJSON *old, svc_alloc_done done, void *data);
/* Drops the node ports (and defaults) a type change makes meaningless. */
void svc_drop_type_fields(cJSON *svc, const cJSON *old);
/* Releases what svc holds that keep does not (keep may be NULL). */
void svc_release(apiserver_t *a, const cJSON *svc, const cJSON *keep);

/* -------------------------------------------------------- subresources.c */
void rest_subresource(rq_t *q);
void rest_binding_create(rq_t *q); /* POST .../bindings and pods/<n>/binding */

/* ----------------------------------------------------------- namespaces.c */
/* rest_bg_start / rest_bg_stop: see apiserver_int.h. */
/* ----------------------------------------------------------------- logs.c */
void rest_log(rq_t *q);

/* ---------------------------------------------------------------- authz.c */
/* NULL when id may do verb on the route, else a 403 Status. */
cJSON *rest_authorize(const rq_t *q);

#endif /* PICOKUBE_APISERVER_REST_INT_H */
