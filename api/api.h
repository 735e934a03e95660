/*
 * api.h - the Kubernetes object model and client every picokube component uses.
 *
 * Objects are cJSON trees in the Kubernetes JSON form. This header is shared by
 * several files of api/, each owning one concern (see the section headings):
 *   resources.c   the kinds and resources picokube serves (discovery, routing)
 *   meta.c        ObjectMeta helpers, metav1.Status builders
 *   validate*.c   validation with Kubernetes' rules and messages
 *   defaults.c    defaulting as Kubernetes does
 *   table.c       meta.k8s.io/v1 Table conversion (kubectl get columns)
 *   selector.c    label and field selectors
 *   quantity.c    resource quantities
 *   patch.c       JSON patch (RFC 6902) and JSON merge patch (RFC 7386)
 *   smp.c         strategic merge patch
 *   client.c, informer.c, workqueue.c   the client side
 * Public names are prefixed api_.
 */
#ifndef PICOKUBE_API_H
#define PICOKUBE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* ===================================================== MODEL (resources, meta,
 * validation, defaults, table) -- owned by the object-model work. */

/* ---------------------------------------------------------- resources.c
 * The kinds picokube serves, with what discovery, routing and storage need.
 * Every table entry is static; pointers stay valid for the process. */

/* Subresources of a resource (bits of api_resource_t.subresources). */
enum {
    API_SUB_STATUS = 1u << 0,   /* <r>/status: get, patch, update */
    API_SUB_SCALE = 1u << 1,    /* <r>/scale: autoscaling/v1 Scale */
    API_SUB_BINDING = 1u << 2,  /* pods/binding: create a Binding */
    API_SUB_LOG = 1u << 3,      /* pods/log: get (text) */
    API_SUB_EVICTION = 1u << 4, /* pods/eviction: create a policy/v1 Eviction */
    API_SUB_FINALIZE = 1u << 5, /* namespaces/finalize: update */
};

typedef struct api_resource {
    const char *group;         /* "" for the core group */
    const char *version;       /* "v1" */
    const char *group_version; /* apiVersion of objects: "v1", "apps/v1" */
    const char *kind;          /* "Pod" */
    const char *resource;      /* plural, in URLs and storage keys: "pods" */
    const char *singular;      /* "pod" */
    const char *list_kind;     /* "PodList" */
    bool namespaced;
    const char *const *short_names; /* NULL-terminated, never NULL ("po") */
    const char *const *verbs;       /* NULL-terminated: "create", "get", ... */
    const char *const *categories;  /* NULL-terminated ("all") */
    unsigned subresources;          /* API_SUB_* */
    /* Status is a subresource: writes to the main resource keep the stored
     * status and writes to <r>/status keep the stored spec. */
    bool has_status;
    /* metadata.generation is 1 at creation and grows by one on each change
     * of spec (Deployment, ReplicaSet, DaemonSet, ReplicationController). */
    bool has_generation;
    /* false for bindings: created through pods, never stored or listed. */
    bool stored;
} api_resource_t;

typedef struct api_subresource {
    const char *name;          /* "status", "scale", "binding", "log", ... */
    unsigned bit;              /* API_SUB_* */
    const char *group;         /* of the object exchanged; NULL: the parent's */
    const char *version;       /* NULL: the parent's */
    const char *kind;          /* NULL: the parent's kind ("Scale", "Binding") */
    const char *const *verbs;  /* NULL-terminated */
} api_subresource_t;

/* Iteration over all resources (top-level ones only), in discovery order. */
size_t api_resource_count(void);
const api_resource_t *api_resource_at(size_t i);

/* By group ("" core), version and plural resource; NULL when not served. */
const api_resource_t *api_resource_lookup(const char *group, const char *version,
                                          const char *resource);
/* By kind ("Pod"); group NULL matches any group. Scale and Eviction are not
 * top-level kinds: see api_subresource_lookup. */
const api_resource_t *api_resource_by_kind(const char *group, const char *kind);
/* By apiVersion and kind as found in an object ("apps/v1", "Deployment"). */
const api_resource_t *api_resource_by_gvk(const char *api_version, const char *kind);
/* By short name ("po", "deploy"). */
const api_resource_t *api_resource_by_short_name(const char *short_name);
/* kubectl-style resolution of a user's word: plural, singular, short name or
 * kind, case-insensitive, optionally qualified by group ("deployments.apps",
 * "deploy.apps"). NULL when nothing matches. */
const api_resource_t *api_resource_find(const char *word);
/* Whether verb ("get", "list", "watch", "create", "update", "patch",
 * "delete", "deletecollection") is allowed on r. */
bool api_resource_allows(const api_resource_t *r, const char *verb);
/* The subresource `name` of r, or NULL when r has none by that name. */
const api_subresource_t *api_subresource_lookup(const api_resource_t *r, const char *name);

/* Storage key `/registry/<resource>/<namespace>/<name>` (cluster-scoped:
 * `/registry/<resource>/<name>`). With name NULL: the prefix of a collection,
 * ending in '/': `/registry/pods/` (ns NULL or "": all namespaces) or
 * `/registry/pods/default/`. Returns the length written, or -1 when it does
 * not fit in len or a namespaced object has no namespace. */
int api_storage_key(const api_resource_t *r, const char *ns, const char *name, char *buf,
                    size_t len);

/* Request routing: what a URL path (percent-decoded, no query) names. */
enum api_route_kind {
    API_ROUTE_NOT_FOUND = 0, /* unknown path, group, version or resource */
    API_ROUTE_API,           /* /api: APIVersions */
    API_ROUTE_APIS,          /* /apis: APIGroupList */
    API_ROUTE_GROUP,         /* /apis/<group>: APIGroup */
    API_ROUTE_RESOURCES,     /* /api/v1, /apis/<group>/<version>: APIResourceList */
    API_ROUTE_COLLECTION,    /* [/namespaces/<ns>]/<resource> */
    API_ROUTE_OBJECT,        /* [/namespaces/<ns>]/<resource>/<name> */
    API_ROUTE_SUBRESOURCE,   /* [/namespaces/<ns>]/<resource>/<name>/<sub> */
};

typedef struct api_route {
    enum api_route_kind kind;
    const api_resource_t *res;    /* COLLECTION, OBJECT, SUBRESOURCE */
    const api_subresource_t *sub; /* SUBRESOURCE */
    bool watch;                   /* legacy /watch/ prefix in the path */
    char group[64];               /* GROUP, RESOURCES and resource routes */
    char version[32];
    char ns[64];    /* "" when cluster-scoped or across all namespaces */
    char name[254]; /* OBJECT, SUBRESOURCE */
} api_route_t;

/* Parses path into *out and returns out->kind. A namespaced collection
 * without /namespaces/<ns> is the list across all namespaces. */
enum api_route_kind api_route_parse(const char *path, api_route_t *out);
/* The Kubernetes verb for an HTTP method on a route ("get", "list",
 * "watch", "create", "update", "patch", "delete", "deletecollection"), or
 * NULL when the method makes no sense there. watch_param: ?watch=true/1. */
const char *api_route_verb(const api_route_t *r, const char *method, bool watch_param);

/* Discovery documents (caller frees with cJSON_Delete; NULL when out of
 * memory or, for the group ones, when the group or version is not served).
 * server_address ("10.0.0.1:6443", may be NULL) fills
 * serverAddressByClientCIDRs of /api. */
cJSON *api_discovery_versions(const char *server_address); /* /api */
cJSON *api_discovery_groups(void);                         /* /apis */
cJSON *api_discovery_group(const char *group);             /* /apis/<g> */
/* /api/v1 (group "") and /apis/<g>/<v>, with subresource entries such as
 * pods/status, pods/log and deployments/scale (group autoscaling, Scale). */
cJSON *api_discovery_resources(const char *group, const char *version);

/* ---------------------------------------------------------------- meta.c
 * ObjectMeta accessors. Getters return NULL (or 0) when the field is absent
 * or not of the right JSON type; returned strings belong to obj. */
const char *api_meta_str(const cJSON *obj, const char *field); /* metadata.<field> */
const char *api_meta_name(const cJSON *obj);
const char *api_meta_generate_name(const cJSON *obj);
const char *api_meta_namespace(const cJSON *obj);
const char *api_meta_uid(const cJSON *obj);
const char *api_meta_resource_version(const cJSON *obj);
const char *api_meta_creation_timestamp(const cJSON *obj);
const char *api_meta_deletion_timestamp(const cJSON *obj);
int64_t api_meta_generation(const cJSON *obj);
cJSON *api_meta_labels(const cJSON *obj);      /* object, or NULL */
cJSON *api_meta_annotations(const cJSON *obj); /* object, or NULL */
const char *api_meta_label(const cJSON *obj, const char *key);
const char *api_meta_annotation(const cJSON *obj, const char *key);
cJSON *api_meta_owner_refs(const cJSON *obj); /* array, or NULL */
/* The owner reference with controller: true, or NULL. */
const cJSON *api_meta_controller_ref(const cJSON *obj);
cJSON *api_meta_finalizers(const cJSON *obj); /* array, or NULL */
bool api_meta_has_finalizer(const cJSON *obj, const char *finalizer);

/* Setters: 0, or -1 when out of memory or obj is not an object. They create
 * metadata (and labels, annotations ...) as needed. A NULL value removes. */
cJSON *api_meta_ensure(cJSON *obj); /* metadata object, created if absent */
int api_meta_set_str(cJSON *obj, const char *field, const char *value);
int api_meta_set_generation(cJSON *obj, int64_t generation);
int api_meta_set_label(cJSON *obj, const char *key, const char *value);
int api_meta_set_annotation(cJSON *obj, const char *key, const char *value);
int api_meta_add_finalizer(cJSON *obj, const char *finalizer); /* no-op if present */
/* 1 when removed, 0 when absent. */
int api_meta_remove_finalizer(cJSON *obj, const char *finalizer);
int api_meta_add_owner_ref(cJSON *obj, const char *api_version, const char *kind,
                           const char *name, const char *uid, bool controller,
                           bool block_owner_deletion);

/* Checks the object's namespace against the request's (the URL's): fills
 * metadata.namespace when absent. Returns NULL when they agree, else a 400
 * BadRequest Status to send (caller frees). For cluster-scoped resources
 * pass request_ns NULL; a namespace in the body is then dropped. */
cJSON *api_meta_check_namespace(const api_resource_t *r, cJSON *obj, const char *request_ns);

/* Field errors, collected by validation (and by the API server's own
 * checks), with Kubernetes' cause reasons and messages. */
enum api_err_type {
    API_ERR_NOT_FOUND,     /* FieldValueNotFound: "Not found: <value>" */
    API_ERR_REQUIRED,      /* FieldValueRequired: "Required value" */
    API_ERR_DUPLICATE,     /* FieldValueDuplicate: "Duplicate value: <value>" */
    API_ERR_INVALID,       /* FieldValueInvalid: "Invalid value: <value>: detail" */
    API_ERR_NOT_SUPPORTED, /* FieldValueNotSupported: "Unsupported value: ..." */
    API_ERR_FORBIDDEN,     /* FieldValueForbidden: "Forbidden: detail" */
    API_ERR_TOO_LONG,      /* FieldValueTooLong: "Too long: detail" */
    API_ERR_TOO_MANY,      /* FieldValueTooMany */
    API_ERR_INTERNAL,      /* InternalError */
};

typedef struct api_field_error {
    enum api_err_type type;
    char *field; /* "spec.containers[0].image" */
    char *body;  /* "Required value", "Invalid value: \"x\": detail" */
} api_field_error_t;

typedef struct api_errors {
    api_field_error_t *v;
    size_t n, cap;
    bool oom; /* an error could not be recorded: treat as an internal error */
} api_errors_t;

#define API_ERRORS_INIT {0}
void api_errors_free(api_errors_t *e); /* and makes it empty again */
/* The cause reason of a type: "FieldValueRequired" ... */
const char *api_err_reason(enum api_err_type t);
/* Helpers adding one error; they return 0, or -1 when out of memory. String
 * values are printed quoted as Go's %q does; detail may be NULL or "". */
int api_err_required(api_errors_t *e, const char *field, const char *detail);
int api_err_forbidden(api_errors_t *e, const char *field, const char *detail);
int api_err_invalid(api_errors_t *e, const char *field, const char *value, const char *detail);
int api_err_invalid_int(api_errors_t *e, const char *field, long long value,
                        const char *detail);
/* supported: NULL-terminated list, printed quoted in the given order. */
int api_err_not_supported(api_errors_t *e, const char *field, const char *value,
                          const char *const *supported);
int api_err_duplicate(api_errors_t *e, const char *field, const char *value);
int api_err_not_found(api_errors_t *e, const char *field, const char *value);
int api_err_too_long(api_errors_t *e, const char *field, long long max_bytes);
/* "<field>: <body>" of each error, deduplicated, joined as Kubernetes'
 * aggregate error: one alone, or "[a, b]". Caller frees; NULL if none/OOM. */
char *api_errors_message(const api_errors_t *e);

/* metav1.Status documents (caller frees; NULL only when out of memory). */
typedef struct api_status_details {
    const char *name;
    const char *group;
    const char *kind;            /* resource plural for most reasons, Kind for Invalid */
    const char *uid;
    const api_errors_t *causes;  /* field causes, may be NULL */
    int retry_after_seconds;     /* 0: omitted */
} api_status_details_t;

/* The general builder: {"kind":"Status","apiVersion":"v1","metadata":{},
 * "status":"Failure","message","reason","details","code"}. details may be
 * NULL. */
cJSON *api_status_error(int code, const char *reason, const char *message,
                        const api_status_details_t *details);
/* {"status":"Success"} with details, as DELETE answers for some kinds. */
cJSON *api_status_success(const api_status_details_t *details);

/* Builders with Kubernetes' exact messages. group is the resource's group
 * ("" core): messages name the resource as "pods" or "deployments.apps". */
cJSON *api_status_not_found(const char *group, const char *resource, const char *name);
cJSON *api_status_already_exists(const char *group, const char *resource, const char *name);
/* 409 "Operation cannot be fulfilled on pods \"web\": <why>"; why NULL gives
 * API_MSG_OBJECT_MODIFIED. */
cJSON *api_status_conflict(const char *group, const char *resource, const char *name,
                           const char *why);
#define API_MSG_OBJECT_MODIFIED                                                                    \
    "the object has been modified; please apply your changes to the latest version and try again"
/* 422 "Pod \"web\" is invalid: ..." (kind qualified by group: "Deployment.apps"). */
cJSON *api_status_invalid(const char *group, const char *kind, const char *name,
                          const api_errors_t *errs);
cJSON *api_status_bad_request(const char *message);
/* 405 "<verb> is not supported on resources of kind \"pods\"". */
cJSON *api_status_method_not_allowed(const char *group, const char *resource, const char *verb);
/* 410 Expired, e.g. "too old resource version: 5 (17)". */
cJSON *api_status_expired(const char *message);
cJSON *api_status_gone(const char *message); /* 410 Gone */
cJSON *api_status_unauthorized(const char *message); /* NULL: "Unauthorized" */
/* 403 `pods "web" is forbidden: <why>` (name NULL: `pods is forbidden: ...`). */
cJSON *api_status_forbidden(const char *group, const char *resource, const char *name,
                            const char *why);
cJSON *api_status_too_large(const char *message); /* 413 "Request entity too large: ..." */
cJSON *api_status_unavailable(const char *message); /* 503 ServiceUnavailable */
cJSON *api_status_internal(const char *message); /* 500 "Internal error occurred: ..." */
cJSON *api_status_timeout(const char *message, int retry_after_seconds); /* 504 */

/* ------------------------------------------------------------- validate*.c
 * Validation with Kubernetes' rules and messages. kind is an object kind
 * ("Pod", "Deployment", "Scale", "Binding", "Eviction" ...). obj has been
 * defaulted (api_default) first, as Kubernetes validates defaulted objects.
 * old is the stored object on update, NULL on create. Errors are appended to
 * errs; returns how many were added (0: valid). Unknown kinds get ObjectMeta
 * checks only. */
int api_validate(const char *kind, const cJSON *obj, const cJSON *old, api_errors_t *errs);
/* Validation of a write to <resource>/status (old required): metadata rules
 * and the status fields picokube checks. */
int api_validate_status(const char *kind, const cJSON *obj, const cJSON *old,
                        api_errors_t *errs);

/* Name rules, for components that make names. */
bool api_is_dns1123_label(const char *s);     /* namespaces, container names */
bool api_is_dns1123_subdomain(const char *s); /* most object names */
bool api_is_dns1035_label(const char *s);     /* service names */
bool api_is_qualified_name(const char *s);    /* label keys */
bool api_is_label_value(const char *s);

/* ------------------------------------------------------------- defaults.c
 * Defaulting as Kubernetes' v1 defaulters do (Pod: restartPolicy Always,
 * terminationGracePeriodSeconds 30, dnsPolicy ClusterFirst, imagePullPolicy
 * from the tag ...; Service: type ClusterIP, targetPort = port ...;
 * Deployment: replicas 1, RollingUpdate 25%/25% ...). Idempotent. Returns 0,
 * or -1 when out of memory (obj may then be partly defaulted). */
int api_default(const char *kind, cJSON *obj);

/* What the registry does before storing a new object of r (after defaulting,
 * before validation): status reset where it is a subresource (pods: Pending
 * with its qosClass; namespaces: Active), generation 1 where r has one,
 * clusterIPs from clusterIP. Does not touch uid, timestamps or names. */
int api_prepare_create(const api_resource_t *r, cJSON *obj);
/* The same for an update of old into obj. For a write to the main resource,
 * status comes from old and the generation grows when spec changed; for a
 * write to <r>/status (status_only), spec comes from old. Services keep
 * their allocated clusterIP(s) and nodePorts when the update omits them. */
int api_prepare_update(const api_resource_t *r, cJSON *obj, const cJSON *old, bool status_only);

/* ---------------------------------------------------------------- table.c
 * meta.k8s.io/v1 Table output with the columns kubectl shows. */
enum api_table_include {
    API_TABLE_INCLUDE_NONE,     /* rows without object */
    API_TABLE_INCLUDE_METADATA, /* PartialObjectMetadata (Kubernetes' default) */
    API_TABLE_INCLUDE_OBJECT,   /* the whole object */
};

/* Parses ?includeObject= (NULL or "" gives METADATA); -1 when unknown. */
int api_table_include_parse(const char *s, enum api_table_include *out);
/* columnDefinitions of a resource ("pods", "nodes" ...; unknown resources
 * get Name and Age). Caller frees. */
cJSON *api_table_columns(const char *resource);
/* One row {cells, object[, conditions]} for obj, ages taken against now_ms
 * (wall clock ms). Caller frees. */
cJSON *api_table_row(const char *resource, const cJSON *obj, enum api_table_include include,
                     uint64_t now_ms);
/* A whole Table for the array of items (a list's "items"). metadata is
 * empty: the caller sets resourceVersion / continue. Caller frees. */
cJSON *api_table(const char *resource, const cJSON *items, enum api_table_include include,
                 uint64_t now_ms);
/* duration.HumanDuration of a span in milliseconds ("5s", "3m20s", "2d3h",
 * "<invalid>" below -1 s) into buf; returns buf. */
char *api_human_duration(int64_t ms, char *buf, size_t len);

/* ===================================================== OPS (selectors,
 * quantities, patches) -- owned by the operations work. */

/* ---------------------------------------------------------- label selectors
 * Kubernetes' label selectors (k8s.io/apimachinery/pkg/labels), in the string
 * form of `?labelSelector=` and `kubectl -l`, and in the JSON form of
 * metav1.LabelSelector. Error messages are Kubernetes' own. */

typedef struct api_selector api_selector_t;

/* Parses the string form: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
 * `a`, `!a`, `a>1`, `a<1` (integers), joined by ',' (AND); spaces are ignored.
 * Keys and values are validated as Kubernetes does. "" matches everything.
 * NULL with a message in err (e.g. "unable to parse requirement: ...",
 * "found 'b', expected: in, notin, =, ==, !=, gt, lt") on bad input. */
api_selector_t *api_selector_parse(const char *s, char *err, size_t errlen);

/* From a metav1.LabelSelector (matchLabels and matchExpressions with In, NotIn,
 * Exists, DoesNotExist). As apps/v1 does: a NULL pointer or JSON null selects
 * nothing, an empty selector ({}) selects everything. NULL on a bad selector. */
api_selector_t *api_selector_from_json(const cJSON *label_selector, char *err, size_t errlen);

/* From a plain map of labels (Service and ReplicationController spec.selector):
 * every label must be present with that value. NULL or {} selects everything
 * (callers decide what a missing Service selector means). Not validated, as in
 * Kubernetes' SelectorFromSet. NULL only when out of memory. */
api_selector_t *api_selector_from_map(const cJSON *map);

/* Whether an object's metadata.labels (a JSON object of strings; NULL for none)
 * is selected. */
bool api_selector_matches(const api_selector_t *sel, const cJSON *labels);

/* True when the selector selects everything. */
bool api_selector_empty(const api_selector_t *sel);

/* True when the selector selects nothing (from a null LabelSelector). */
bool api_selector_nothing(const api_selector_t *sel);

/* Canonical string form (requirements sorted by key, values sorted), e.g.
 * "app=web,tier in (a,b)"; "" for everything and for nothing. Caller frees.
 * Parsing it gives an equal selector. */
char *api_selector_string(const api_selector_t *sel);

void api_selector_free(api_selector_t *sel);

/* Kubernetes' label syntax checks, with its messages joined by "; " in err:
 * keys are [prefix/]name (name <= 63 characters of [-A-Za-z0-9_.] starting and
 * ending alphanumeric, prefix a DNS-1123 subdomain), values are "" or like a
 * name part. Return true when valid. */
bool api_label_key_valid(const char *key, char *err, size_t errlen);
bool api_label_value_valid(const char *value, char *err, size_t errlen);

/* ---------------------------------------------------------- field selectors
 * `?fieldSelector=` (k8s.io/apimachinery/pkg/fields): terms `f=v`, `f==v`,
 * `f!=v` joined by ','; '\' escapes ',', '=' and '\' in values. */

typedef struct api_fieldsel api_fieldsel_t;

/* NULL with a message like "invalid selector: 'x'; can't understand 'x'" on
 * bad syntax. "" matches everything. Field names are not checked here (see
 * api_fieldsel_check). */
api_fieldsel_t *api_fieldsel_parse(const char *s, char *err, size_t errlen);

/* Returns the value of `field` for the object being tested, NULL counting as "". */
typedef const char *(*api_field_getter)(const char *field, void *arg);
bool api_fieldsel_matches(const api_fieldsel_t *sel, api_field_getter get, void *arg);

/* Matches an object of `resource` (lowercase plural, e.g. "pods") using
 * api_fieldsel_value for each field. */
bool api_fieldsel_matches_object(const api_fieldsel_t *sel, const char *resource,
                                 const cJSON *obj);

/* Whether Kubernetes lets `resource` be filtered on `field`: metadata.name
 * and metadata.namespace everywhere (nodes: metadata.name only), plus e.g.
 * pods spec.nodeName/status.phase/..., events involvedObject.*, reason, source,
 * type, nodes spec.unschedulable, secrets type, namespaces status.phase,
 * replicasets and replicationcontrollers status.replicas, jobs status.successful. */
bool api_fieldsel_supported(const char *resource, const char *field);

/* 0 when every field of sel is supported for resource, else -1 with
 * "field label not supported: <field>" (the API server answers 400 with it). */
int api_fieldsel_check(const api_fieldsel_t *sel, const char *resource, char *err,
                       size_t errlen);

/* The value a term `field=value` requires (e.g. spec.nodeName for an agent's
 * watch), or NULL when sel has no such equality term. */
const char *api_fieldsel_exact(const api_fieldsel_t *sel, const char *field);

bool api_fieldsel_empty(const api_fieldsel_t *sel);
/* Canonical form: terms sorted, values escaped. Caller frees. */
char *api_fieldsel_string(const api_fieldsel_t *sel);
void api_fieldsel_free(api_fieldsel_t *sel);

/* The value at a dotted path (e.g. "spec.nodeName") of obj as text: strings as
 * they are, integers in decimal, booleans as true/false (written into buf).
 * NULL when absent or not a scalar. */
const char *api_json_field(const cJSON *obj, const char *dotted, char *buf, size_t len);

/* The value Kubernetes filters `resource` objects on for `field`, with its
 * defaults: absent booleans are "false" (spec.unschedulable, spec.hostNetwork),
 * absent counts "0" (status.replicas), events' "source" is source.component
 * (or reportingController), and any other absent field is "". Never NULL. */
const char *api_fieldsel_value(const char *resource, const cJSON *obj, const char *field,
                               char *buf, size_t len);

/* --------------------------------------------------------------- quantities
 * resource.Quantity: an exact decimal value * 10^scale, kept with the format
 * it was written in, printed in Kubernetes' canonical form. Parsing rounds up
 * to 1n as Kubernetes does; values needing more than 18 significant digits are
 * rounded up to 18; BinarySI values above 2^63-1 are capped there. */

enum api_qformat {
    API_QF_DECIMAL_SI = 0,   /* 1k, 500m, 1G */
    API_QF_BINARY_SI,        /* 1Ki, 1536Mi */
    API_QF_DECIMAL_EXPONENT, /* 1e3, 12e-3 */
};

typedef struct api_quantity {
    int64_t value; /* the amount is value * 10^scale */
    int32_t scale;
    enum api_qformat format;
} api_quantity_t;

/* Room for any canonical quantity string, with its terminating NUL. */
#define API_QUANTITY_STRLEN 48

/* Parses `100m`, `0.5`, `128Mi`, `1G`, `1e3`, `1.5Gi`, `-1` (suffixes n u m
 * k M G T P E Ki Mi Gi Ti Pi Ei, exponents e/E). On bad input returns -1 with
 * Kubernetes' message, e.g. "quantities must match the regular expression
 * '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'" or "unable to parse
 * quantity's suffix". */
int api_quantity_parse(const char *s, api_quantity_t *out, char *err, size_t errlen);

/* A quantity from JSON: a string as above, or a number (Kubernetes accepts
 * both, e.g. "cpu": 1). */
int api_quantity_from_json(const cJSON *v, api_quantity_t *out, char *err, size_t errlen);

api_quantity_t api_quantity_make(int64_t value, int32_t scale, enum api_qformat format);

/* Kubernetes' canonical form (Quantity.String()): "1.5Gi" -> "1536Mi",
 * "0.5" -> "500m", "1000m" -> "1", "1024Mi" -> "1Gi", "1e3" -> "1e3"
 * (DecimalExponent keeps its exponent form). Returns buf. */
char *api_quantity_format(const api_quantity_t *q, char *buf, size_t len);

/* -1, 0 or 1, exactly. */
int api_quantity_cmp(const api_quantity_t *a, const api_quantity_t *b);
int api_quantity_sign(const api_quantity_t *q);

/* acc += y (acc -= y); acc takes y's format when acc is zero, as Kubernetes
 * does. -1 (acc unchanged) when the exact result does not fit. */
int api_quantity_add(api_quantity_t *acc, const api_quantity_t *y);
int api_quantity_sub(api_quantity_t *acc, const api_quantity_t *y);

/* The amount in units of 10^scale, rounded away from zero (Kubernetes'
 * ScaledValue), saturating at INT64_MIN/INT64_MAX. */
int64_t api_quantity_scaled(const api_quantity_t *q, int32_t scale);
/* Value() (e.g. bytes, whole CPUs; 100m -> 1) and MilliValue() (100m -> 100). */
int64_t api_quantity_value(const api_quantity_t *q);
int64_t api_quantity_milli(const api_quantity_t *q);

/* ----------------------------------------------------------------- patches
 * All return a new tree (caller cJSON_Delete()s it) and never change their
 * inputs; on error they return NULL with a message in err. */

/* JSON Patch (RFC 6902): add, remove, replace, move, copy, test; JSON Pointer
 * escapes ~0 ~1; '-' appends to an array. At most 10000 operations, as the
 * Kubernetes API server allows. */
cJSON *api_json_patch_apply(const cJSON *doc, const cJSON *patch, char *err, size_t errlen);

/* The value at a JSON Pointer (RFC 6901) in doc, NULL when absent or bad. */
const cJSON *api_json_pointer_get(const cJSON *doc, const char *pointer);

/* JSON Merge Patch (RFC 7386): objects merge, null deletes, anything else
 * replaces. */
cJSON *api_merge_patch_apply(const cJSON *doc, const cJSON *patch, char *err, size_t errlen);

/* Strategic merge patch as the Kubernetes API server applies it for `kind`
 * (Pod, Deployment, ReplicaSet, ReplicationController, DaemonSet, StatefulSet,
 * Job, CronJob, Service, Node, Endpoints, ConfigMap, Secret, Namespace, Event,
 * Lease, ...): lists with a merge key (containers by name, env by name, ports
 * by containerPort / port, volumeMounts by mountPath, volumes by name,
 * ownerReferences by uid, conditions by type, ...) merge item by item, lists
 * without one (tolerations, node taints, endpoints subsets) are replaced;
 * directives $patch (replace, delete, merge), $setElementOrder/<list>,
 * $retainKeys and $deleteFromPrimitiveList/<list> are honoured; null deletes
 * a field. This is what `kubectl apply` and `kubectl patch` send. Kinds
 * without a table (custom resources) get merge-patch semantics: maps merge,
 * lists are replaced, directives still apply. Both documents must be objects. */
cJSON *api_smp_apply(const cJSON *original, const cJSON *patch, const char *kind, char *err,
                     size_t errlen);

/* Whether kind has a strategic-merge table (built-in kinds). */
bool api_smp_kind_known(const char *kind);

/* ===================================================== CLIENT (client,
 * informers, work queue) -- owned by the client work. */

#endif /* PICOKUBE_API_H */
