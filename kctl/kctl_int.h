/*
 * kctl_int.h - what kctl's files share: the invocation (global flags, the
 * connection the kubeconfig gives), kubectl-style option parsing, error
 * reporting with kubectl's wording and exit codes, resource arguments
 * ("pods web", "pod/web", "deploy,svc"), YAML/JSON conversion and printing,
 * manifests, and the verbs (one file per family of verbs).
 * Private to kctl/.
 */
#ifndef PICOKUBE_KCTL_INT_H
#define PICOKUBE_KCTL_INT_H

#include <stdbool.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "api/api.h"
#include "lib/lib.h"

#define KCTL_LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"
#define KCTL_TABLE_ACCEPT                                                                          \
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/"                                    \
    "json;as=Table;v=v1beta1;g=meta.k8s.io,"                                                       \
    "application/json"

/* One invocation: the global flags and what the kubeconfig resolved to. */
typedef struct kctl {
    const char *kubeconfig, *context, *server, *token, *ns_flag;
    const char *ca_file; /* --certificate-authority */
    api_kubeconfig_t kc;
    bool kc_loaded;
    api_conn_t conn;
    const char *ns; /* the namespace to use: -n, else the context's, else default */
    bool ns_explicit;
    FILE *in; /* standard input (manifests from "-") */
} kctl_t;

/* --------------------------------------------------------------- options */
enum kopt_type { KOPT_STR, KOPT_BOOL, KOPT_INT, KOPT_LIST };

/* One flag of a verb: short letter (0 for none) and long name. KOPT_LIST
 * dests are struct flag_list (repeatable and comma-free). */
typedef struct kopt {
    char sh;
    const char *name;
    enum kopt_type type;
    void *dest;
} kopt_t;

/* Parses argv[1..argc) (argv[0] is the verb) against opts (terminated by a
 * NULL name). Positional arguments are moved to the front of argv, their
 * count returned; arguments after "--" are positional too and *dash (may be
 * NULL) gets the index of the first one (-1 when there is no "--"). On a bad
 * flag it prints kubectl's message and returns -1. */
int kctl_opts(const kopt_t *opts, int argc, char **argv, int *dash);

/* ------------------------------------------------------------ connection */
/* Loads the kubeconfig and applies --server/--token/--context/-n; prints the
 * error and returns -1 when no API server is known. */
int kctl_connect(kctl_t *k);
/* One blocking request; accept may be NULL (JSON). */
int kctl_req(kctl_t *k, const char *method, const char *path_query, const char *ctype,
             const char *body, size_t len, const char *accept, api_result_t *res);
/* The same with a JSON body (NULL for none). */
int kctl_req_json(kctl_t *k, const char *method, const char *path_query, const char *ctype,
                  const cJSON *body, api_result_t *res);
/* Prints a failed result as kubectl does ("Error from server (NotFound): ...",
 * "The connection to the server ... was refused ..."). */
void kctl_print_error(const api_result_t *res);
/* Prints "error: <fmt>" on stderr; returns 1 (kubectl's exit code). */
int kctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------- resources */
/* Resolves a user's word to a resource; prints kubectl's error on failure. */
const api_resource_t *kctl_resource(const char *word);
/* The path of an object or collection (name NULL) with a query ("" or
 * "?a=b"); sub may be NULL. Namespace ignored for cluster-scoped resources;
 * ns NULL lists across namespaces. Caller frees. */
char *kctl_path(const api_resource_t *r, const char *ns, const char *name, const char *sub,
                const char *query);
/* "deployment.apps" / "pod": what kubectl prints before "/name". */
void kctl_kind_name(const api_resource_t *r, char *buf, size_t len);
/* `group` qualified plural as in Status messages: "deployments.apps". */
void kctl_qualified_resource(const api_resource_t *r, char *buf, size_t len);

/* A list of (resource, name) pairs from positional arguments: "TYPE n1 n2",
 * "TYPE/n1 TYPE2/n2", or "TYPE1,TYPE2" (names NULL: every object). */
typedef struct kctl_target {
    const api_resource_t *res;
    const char *name; /* NULL: all of that type */
} kctl_target_t;
typedef struct kctl_targets {
    kctl_target_t *v;
    size_t n;
} kctl_targets_t;
/* Returns 0, or prints the error and returns -1. Names are argv's strings. */
int kctl_targets(int argc, char **argv, kctl_targets_t *out);
void kctl_targets_free(kctl_targets_t *t);

/* The object's namespace for requests: its own, else k->ns. */
const char *kctl_obj_ns(kctl_t *k, const api_resource_t *r, const cJSON *obj);
/* URL-encodes s into a malloc'd string (query values). */
char *kctl_urlenc(const char *s);

/* -------------------------------------------------------------- printing */
/* kubectl -o yaml: keys sorted as go-yaml sorts them, strings that would
 * read as another type quoted. Returns a malloc'd text. */
char *kctl_yaml_emit(const cJSON *v);
/* kubectl -o json: sorted keys, 4-space indent, Go's escaping. Malloc'd,
 * ends with a newline. */
char *kctl_json_pretty(const cJSON *v);
/* The same in the members' own order: kubectl prints the objects it makes
 * itself (run, expose --dry-run) in their Go struct's field order. */
char *kctl_json_pretty_ordered(const cJSON *v);
/* Compact JSON with sorted keys and Go's escaping (last-applied annotation). */
char *kctl_json_compact(const cJSON *v);
/* Parses YAML (one or more documents) or JSON text into a cJSON array of
 * documents (empty documents skipped). NULL with err on a syntax error. */
cJSON *kctl_yaml_parse(const char *text, size_t len, char *err, size_t errlen);
/* go-yaml's key order (used by both printers). */
int kctl_key_cmp(const char *a, const char *b);

/* Reads manifests from -f arguments (files, directories with .yaml .yml
 * .json, "-" for stdin). Lists (kind: List / *List with items) are
 * flattened. Returns an array of objects, or NULL after printing an error.
 * sources (may be NULL) gets a parallel array of the file each came from
 * ("STDIN" for "-"), for kubectl's "error when creating \"FILE\"". */
cJSON *kctl_manifests(kctl_t *k, const struct flag_list *files, bool recursive, cJSON **sources);
/* Prints a failed write of an object from a manifest as kubectl does:
 * Error from server (R): error when <doing> "<source>": <message>. */
void kctl_print_error_from(const api_result_t *res, const char *doing, const char *source);

/* Table printing like kubectl's tabwriter (min width 6, padding 3). */
typedef struct kctl_tab {
    char **cells;
    size_t ncols, nrows, cap;
} kctl_tab_t;
void kctl_tab_init(kctl_tab_t *t, size_t ncols);
/* Adds a row of ncols strings (copied). */
void kctl_tab_row(kctl_tab_t *t, const char *const *cells);
void kctl_tab_rowf(kctl_tab_t *t, ...); /* ncols const char * */
void kctl_tab_print(kctl_tab_t *t, FILE *out);
/* The same, starting from and updating widths kept between prints. */
void kctl_tab_print_keep(kctl_tab_t *t, FILE *out, size_t *keep);
void kctl_tab_free(kctl_tab_t *t);

/* Age of an RFC 3339 timestamp as kubectl prints it ("5m", "<unknown>"). */
void kctl_age(const char *ts, char *buf, size_t len);
/* JSON helpers: the string/number at a dotted path, NULL/def when absent. */
const char *kctl_str(const cJSON *obj, const char *dotted);
long long kctl_int(const cJSON *obj, const char *dotted, long long def);
const cJSON *kctl_at(const cJSON *obj, const char *dotted);

/* ---------------------------------------------------------- strategic diff */
/* kubectl apply's three-way strategic merge patch from original (the
 * last-applied configuration, may be NULL), modified (the new manifest,
 * annotation included) and current (the live object) for kind. Returns a
 * new patch (possibly {}), NULL when out of memory or an item lacks its
 * merge key (err says which). */
cJSON *kctl_smp_three_way(const cJSON *original, const cJSON *modified, const cJSON *current,
                          const char *kind, char *err, size_t errlen);

/* ----------------------------------------------------------------- verbs */
int kctl_cmd_get(kctl_t *k, int argc, char **argv);
int kctl_cmd_describe(kctl_t *k, int argc, char **argv);
int kctl_cmd_create(kctl_t *k, int argc, char **argv);
int kctl_cmd_apply(kctl_t *k, int argc, char **argv);
int kctl_cmd_replace(kctl_t *k, int argc, char **argv);
int kctl_cmd_delete(kctl_t *k, int argc, char **argv);
int kctl_cmd_scale(kctl_t *k, int argc, char **argv);
int kctl_cmd_rollout(kctl_t *k, int argc, char **argv);
int kctl_cmd_logs(kctl_t *k, int argc, char **argv);
int kctl_cmd_cordon(kctl_t *k, int argc, char **argv);
int kctl_cmd_uncordon(kctl_t *k, int argc, char **argv);
int kctl_cmd_drain(kctl_t *k, int argc, char **argv);
int kctl_cmd_run(kctl_t *k, int argc, char **argv);
int kctl_cmd_expose(kctl_t *k, int argc, char **argv);
int kctl_cmd_label(kctl_t *k, int argc, char **argv);
int kctl_cmd_annotate(kctl_t *k, int argc, char **argv);
int kctl_cmd_patch(kctl_t *k, int argc, char **argv);
int kctl_cmd_version(kctl_t *k, int argc, char **argv);
int kctl_cmd_cluster_info(kctl_t *k, int argc, char **argv);
int kctl_cmd_config(kctl_t *k, int argc, char **argv);
int kctl_cmd_api_resources(kctl_t *k, int argc, char **argv);
int kctl_cmd_completion(kctl_t *k, int argc, char **argv);

/* Shared by get and the verbs that print objects (-o yaml|json|name). */
int kctl_print_object(const cJSON *obj, const char *output, FILE *out);
/* The same for an object kctl built (json keeps the members' order). */
int kctl_print_generated(const cJSON *obj, const char *output, FILE *out);
/* The server's copy of a named object, or -1 after printing the error. */
int kctl_get_object(kctl_t *k, const api_resource_t *r, const char *ns, const char *name,
                    cJSON **out);

#endif
