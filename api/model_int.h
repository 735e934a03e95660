/*
 * model_int.h - private helpers shared by the object-model files of api/
 * (resources.c, meta.c, validate*.c, defaults.c, table*.c).
 *
 * Objects are read with tolerant getters (a missing or wrongly typed member
 * reads as absent) because validation and printing must cope with any JSON a
 * client sends. Messages that mimic Go's fmt output (%q strings, %#v maps)
 * are built here once so every validator renders bad values the same way
 * Kubernetes does.
 */
#ifndef PICOKUBE_API_MODEL_INT_H
#define PICOKUBE_API_MODEL_INT_H

#include "api/api.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ cJSON reading */

/* Member `key` of object o, or NULL (also when o is not an object). */
const cJSON *j_get(const cJSON *o, const char *key);
/* Follows a dotted path of object members ("spec.template.metadata"). */
const cJSON *j_path(const cJSON *o, const char *dotted);
/* String member or NULL. */
const char *j_str(const cJSON *o, const char *key);
/* String member or "" when absent. */
const char *j_str0(const cJSON *o, const char *key);
/* Number member: true and *out set when present and numeric. */
bool j_num(const cJSON *o, const char *key, double *out);
/* Integer member or dflt. */
long long j_int(const cJSON *o, const char *key, long long dflt);
/* true only for a JSON true. */
bool j_true(const cJSON *o, const char *key);
/* Array/object size of member (0 when absent or scalar). */
int j_len(const cJSON *o, const char *key);
/* Whether the member is present and not null. */
bool j_has(const cJSON *o, const char *key);

/* ------------------------------------------------------------ cJSON writing */

/* Replace or add; each returns 0, or -1 when out of memory. */
int j_set_str(cJSON *o, const char *key, const char *v);
int j_set_num(cJSON *o, const char *key, double v);
int j_set_bool(cJSON *o, const char *key, bool v);
int j_set(cJSON *o, const char *key, cJSON *item); /* takes item, even on error */
/* Existing member object, or a new empty one added to o; NULL when out of
 * memory or when the member exists with another type. */
cJSON *j_obj(cJSON *o, const char *key);
cJSON *j_arr(cJSON *o, const char *key);
/* Sets key only when it is absent (or null). */
int j_default_str(cJSON *o, const char *key, const char *v);
int j_default_num(cJSON *o, const char *key, double v);
int j_default_bool(cJSON *o, const char *key, bool v);

/* ------------------------------------------------------------ string buffer */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf_t;

void sb_putn(sbuf_t *b, const char *s, size_t n);
void sb_puts(sbuf_t *b, const char *s);
void sb_putc(sbuf_t *b, char c);
void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The NUL-terminated text (caller frees), or NULL when out of memory. */
char *sb_take(sbuf_t *b);
void sb_free(sbuf_t *b);

/* --------------------------------------------------- Go-style value printing */

/* strconv.Quote(s), as %q prints a string. */
void go_quote(sbuf_t *b, const char *s);
/* %#v of a map[string]string given as a JSON object (keys sorted, as Go's fmt
 * sorts maps); NULL or a non-object prints `map[string]string(nil)`. */
void go_map(sbuf_t *b, const cJSON *map);
/* %#v of a []string given as a JSON array of strings. */
void go_str_slice(sbuf_t *b, const cJSON *arr);
/* %#v of a metav1.LabelSelector (as apps validation prints one). */
void go_label_selector(sbuf_t *b, const cJSON *sel);

/* ------------------------------------------------------------- field errors */

/* printf into a caller's buffer for field paths; returns buf. */
const char *fp(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define FP_MAX 512

/* Adds an error whose bad value is already rendered (repr, NULL = none). */
int err_add(api_errors_t *e, enum api_err_type t, const char *field, const char *repr,
            const char *detail);
/* Invalid with a map[string]string / LabelSelector bad value. */
int err_invalid_map(api_errors_t *e, const char *field, const cJSON *map, const char *detail);

/* --------------------------------------------------------- name validation */

/* Each fills msgs with up to 4 static messages (Kubernetes' wording) and
 * returns how many; 0 means valid. */
int msgs_dns1123_label(const char *v, const char **msgs);
int msgs_dns1123_subdomain(const char *v, const char **msgs);
int msgs_dns1035_label(const char *v, const char **msgs);
int msgs_qualified_name(const char *v, const char **msgs);
int msgs_label_value(const char *v, const char **msgs);
int msgs_port_name(const char *v, const char **msgs);
int msgs_config_key(const char *v, const char **msgs);
int msgs_percent(const char *v, const char **msgs);

/* Adds one Invalid error per message for value v at field. */
void err_msgs(api_errors_t *e, const char *field, const char *v, int n, const char **msgs);

/* Field validators used by several kinds (validate.c). prefix is the dotted
 * path of the enclosing object ("metadata", "spec.template.metadata"). */
void v_labels(const cJSON *labels, const char *field, api_errors_t *e);
void v_annotations(const cJSON *ann, const char *field, api_errors_t *e);
void v_nonneg(const cJSON *o, const char *key, const char *field, api_errors_t *e);
void v_label_selector(const cJSON *sel, const char *field, api_errors_t *e);
void v_port_num(long long port, const char *field, api_errors_t *e);
/* IntOrString port (number or IANA name). */
void v_port_num_or_name(const cJSON *v, const char *field, api_errors_t *e);
/* ObjectMeta of a pod template: labels and annotations only. */
void v_template_meta(const cJSON *meta, const char *prefix, api_errors_t *e);
/* Immutable-field helper: compares JSON values, adds "field is immutable". */
void v_immutable(const cJSON *nv, const cJSON *ov, const char *field, api_errors_t *e);
/* Whether s is a valid IPv4 or IPv6 address / CIDR. */
bool is_ip(const char *s);
bool is_cidr(const char *s);

/* Pod spec validation (validate_pod.c); path like "spec" or
 * "spec.template.spec". meta is the pod's or template's metadata. */
void v_pod_spec(const cJSON *spec, const char *path, api_errors_t *e);
/* Pod template with restartPolicy Always and no activeDeadlineSeconds, as
 * controllers require; owner is "ReplicaSet" / "ReplicationController" ... */
void v_controller_template(const cJSON *tmpl, const char *path, const char *owner, api_errors_t *e);

/* Per-kind validators: old NULL on create. */
void v_pod(const cJSON *o, const cJSON *old, api_errors_t *e);
void v_service(const cJSON *o, const cJSON *old, api_errors_t *e);
void v_endpoints(const cJSON *o, const cJSON *old, api_errors_t *e);
void v_configmap(const cJSON *o, const cJSON *old, api_errors_t *e);
void v_secret(const cJSON *o, const cJSON *old, api_errors_t *e);
void v_namespace(const cJSON *o, const cJSON *old, api_errors_t *e);
void v_node(const cJSON *o, const cJSON *old, api_errors_t *e);
void v_event(const cJSON *o, const cJSON *old, api_errors_t *e);
void v_rc(const cJSON *o, const cJSON *old, api_errors_t *e);
void v_binding(const cJSON *o, const cJSON *old, api_errors_t *e);
void v_deployment(const cJSON *o, const cJSON *old, api_errors_t *e);
void v_replicaset(const cJSON *o, const cJSON *old, api_errors_t *e);
void v_daemonset(const cJSON *o, const cJSON *old, api_errors_t *e);
void v_scale(const cJSON *o, const cJSON *old, api_errors_t *e);
void v_lease(const cJSON *o, const cJSON *old, api_errors_t *e);
void v_endpointslice(const cJSON *o, const cJSON *old, api_errors_t *e);

/* ------------------------------------------------------- labels, selectors */

/* labels.FormatLabels: "a=b,c=d" sorted, "<none>" when empty. */
void labels_string(sbuf_t *b, const cJSON *map);
/* Sorted member names of an object (caller frees the array, not the
 * strings); NULL with *n 0 when empty or out of memory. */
const char **sorted_keys(const cJSON *map, int *n);

/* ---------------------------------------------------------------- numbers */

/* RFC 3339 time into milliseconds since the epoch; -1 on error. */
int parse_time_ms(const char *s, int64_t *out);

/* ------------------------------------------------------------------ tables */

typedef struct tbl_col {
    const char *name, *type, *format;
    int priority;
    const char *desc;
} tbl_col_t;

/* A row being built: cells are appended in column order. */
typedef struct tbl_row {
    cJSON *row;
    cJSON *cells;
    bool oom;
} tbl_row_t;

void tbl_str(tbl_row_t *r, const char *s);
void tbl_int(tbl_row_t *r, long long v);
/* Appends the buffer's text and frees it. */
void tbl_sb(tbl_row_t *r, sbuf_t *b);
/* translateTimestampSince: HumanDuration since ts, "<unknown>" without one. */
const char *tbl_since(const char *ts, uint64_t now_ms, char *buf, size_t len);

/* Per-resource cells (table_rows.c), wide columns included. */
void tbl_pod_row(tbl_row_t *r, const cJSON *o, uint64_t now);
void tbl_node_row(tbl_row_t *r, const cJSON *o, uint64_t now);
void tbl_service_row(tbl_row_t *r, const cJSON *o, uint64_t now);
void tbl_endpoints_row(tbl_row_t *r, const cJSON *o, uint64_t now);
void tbl_deployment_row(tbl_row_t *r, const cJSON *o, uint64_t now);
void tbl_replicaset_row(tbl_row_t *r, const cJSON *o, uint64_t now);
void tbl_rc_row(tbl_row_t *r, const cJSON *o, uint64_t now);
void tbl_daemonset_row(tbl_row_t *r, const cJSON *o, uint64_t now);
void tbl_namespace_row(tbl_row_t *r, const cJSON *o, uint64_t now);
void tbl_event_row(tbl_row_t *r, const cJSON *o, uint64_t now);
void tbl_configmap_row(tbl_row_t *r, const cJSON *o, uint64_t now);
void tbl_secret_row(tbl_row_t *r, const cJSON *o, uint64_t now);
void tbl_serviceaccount_row(tbl_row_t *r, const cJSON *o, uint64_t now);
void tbl_lease_row(tbl_row_t *r, const cJSON *o, uint64_t now);
void tbl_endpointslice_row(tbl_row_t *r, const cJSON *o, uint64_t now);

#endif /* PICOKUBE_API_MODEL_INT_H */
