/*
 * kubeconfig.c - reads kubectl's kubeconfig (YAML, with libyaml) for the
 * pieces picokube's clients need: the context's server URL(s), its bearer
 * token, its namespace, and the TLS material for later.
 *
 * The file is loaded as a libyaml document (a node graph, aliases resolved)
 * and walked by name, since kubeconfig is a handful of lists of named
 * entries. Messages name the file and the missing piece, because the user
 * who sees them is looking at that file.
 */
#include "api/client_int.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

int api_kubeconfig_path(const char *explicit_path, char *buf, size_t len)
{
    int n;
    if (explicit_path && *explicit_path) {
        n = snprintf(buf, len, "%s", explicit_path);
        return n < 0 || (size_t)n >= len ? -1 : 0;
    }
    const char *env = getenv("KUBECONFIG");
    if (env) {
        /* The first non-empty entry of the list. */
        const char *p = env;
        while (*p == ':')
            p++;
        size_t l = strcspn(p, ":");
        if (l) {
            if (l >= len) return -1;
            memcpy(buf, p, l);
            buf[l] = '\0';
            return 0;
        }
    }
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home) return -1;
    n = snprintf(buf, len, "%s/.kube/config", home);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

void api_kubeconfig_free(api_kubeconfig_t *kc)
{
    if (!kc) return;
    free(kc->path);
    free(kc->context);
    free(kc->cluster);
    free(kc->user);
    free(kc->ns);
    free(kc->server);
    free(kc->token);
    free(kc->ca_data);
    free(kc->ca_file);
    free(kc->client_cert_data);
    free(kc->client_key_data);
    memset(kc, 0, sizeof(*kc));
}

/* ------------------------------------------------------------- YAML walk */

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key);
        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == strlen(key) &&
            !memcmp(k->data.scalar.value, key, k->data.scalar.length))
            return yaml_document_get_node(d, p->value);
    }
    return NULL;
}

/* A scalar's text, NULL when absent, not a scalar, or empty (kubectl
 * treats an empty string as unset). */
static const char *scalar(yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0) return NULL;
    return (const char *)n->data.scalar.value;
}

static char *dup_scalar(yaml_node_t *n)
{
    const char *s = scalar(n);
    return s ? cl_strdup(s) : NULL;
}

/* The `what` mapping (cluster, user, context) of the entry named `name` in
 * the list `list` (clusters, users, contexts). */
static yaml_node_t *named(yaml_document_t *d, yaml_node_t *root, const char *list, const char *what,
                          const char *name)
{
    yaml_node_t *seq = map_get(d, root, list);
    if (!seq || seq->type != YAML_SEQUENCE_NODE) return NULL;
    for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
         i++) {
        yaml_node_t *e = yaml_document_get_node(d, *i);
        const char *n = scalar(map_get(d, e, "name"));
        if (n && !strcmp(n, name)) {
            yaml_node_t *v = map_get(d, e, what);
            /* An entry with nothing under it is an empty one, not a missing one. */
            return v ? v : e;
        }
    }
    return NULL;
}

/* A path from the file, relative ones taken from the file's folder. */
static char *resolve_path(const char *kc_path, const char *p)
{
    if (p[0] == '/' || !kc_path) return cl_strdup(p);
    const char *slash = strrchr(kc_path, '/');
    if (!slash) return cl_strdup(p);
    return cl_printf("%.*s/%s", (int)(slash - kc_path), kc_path, p);
}

/* Reads a token file, without the trailing newline and blanks. */
static char *read_token(const char *path, const char *origin, char *err, size_t errlen)
{
    size_t len = 0;
    char *t = file_read_all(path, &len);
    if (!t) {
        snprintf(err, errlen, "kubeconfig %s: cannot read tokenFile %s: %s", origin, path,
                 strerror(errno));
        return NULL;
    }
    while (len &&
           (t[len - 1] == '\n' || t[len - 1] == '\r' || t[len - 1] == ' ' || t[len - 1] == '\t'))
        t[--len] = '\0';
    if (!len) {
        snprintf(err, errlen, "kubeconfig %s: tokenFile %s is empty", origin, path);
        free(t);
        return NULL;
    }
    return t;
}

/* Server URLs without blanks around the commas. */
static char *clean_servers(const char *s)
{
    char *out = cl_malloc(strlen(s) + 1);
    size_t n = 0;
    for (const char *p = s; *p; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n') out[n++] = *p;
    while (n && out[n - 1] == ',')
        n--;
    out[n] = '\0';
    return out;
}

static int fill(yaml_document_t *d, const char *origin, const char *path, const char *context,
                api_kubeconfig_t *out, char *err, size_t errlen)
{
    yaml_node_t *root = yaml_document_get_root_node(d);
    if (!root || root->type != YAML_MAPPING_NODE) {
        snprintf(err, errlen, "kubeconfig %s: not a kubeconfig (expected a mapping)", origin);
        return -1;
    }
    const char *ctx_name =
        context && *context ? context : scalar(map_get(d, root, "current-context"));
    if (!ctx_name) {
        snprintf(err, errlen, "kubeconfig %s: no current-context", origin);
        return -1;
    }
    yaml_node_t *ctx = named(d, root, "contexts", "context", ctx_name);
    if (!ctx) {
        snprintf(err, errlen, "kubeconfig %s: context \"%s\" does not exist", origin, ctx_name);
        return -1;
    }
    const char *cl_name = scalar(map_get(d, ctx, "cluster"));
    if (!cl_name) {
        snprintf(err, errlen, "kubeconfig %s: context \"%s\" has no cluster", origin, ctx_name);
        return -1;
    }
    yaml_node_t *cl = named(d, root, "clusters", "cluster", cl_name);
    if (!cl) {
        snprintf(err, errlen, "kubeconfig %s: cluster \"%s\" (of context \"%s\") does not exist",
                 origin, cl_name, ctx_name);
        return -1;
    }
    const char *server = scalar(map_get(d, cl, "server"));
    if (!server) {
        snprintf(err, errlen, "kubeconfig %s: cluster \"%s\" has no server", origin, cl_name);
        return -1;
    }
    const char *user_name = scalar(map_get(d, ctx, "user"));
    yaml_node_t *user = NULL;
    if (user_name && !(user = named(d, root, "users", "user", user_name))) {
        snprintf(err, errlen, "kubeconfig %s: user \"%s\" (of context \"%s\") does not exist",
                 origin, user_name, ctx_name);
        return -1;
    }
    out->context = cl_strdup(ctx_name);
    out->cluster = cl_strdup(cl_name);
    out->user = cl_strdup(user_name);
    const char *ns = scalar(map_get(d, ctx, "namespace"));
    out->ns = cl_strdup(ns ? ns : "default");
    out->server = clean_servers(server);
    out->ca_data = dup_scalar(map_get(d, cl, "certificate-authority-data"));
    const char *ca = scalar(map_get(d, cl, "certificate-authority"));
    if (ca) out->ca_file = resolve_path(path, ca);
    const char *insecure = scalar(map_get(d, cl, "insecure-skip-tls-verify"));
    out->insecure_skip_tls_verify = insecure && !strcmp(insecure, "true");
    if (user) {
        out->client_cert_data = dup_scalar(map_get(d, user, "client-certificate-data"));
        out->client_key_data = dup_scalar(map_get(d, user, "client-key-data"));
        out->token = dup_scalar(map_get(d, user, "token"));
        const char *tf = scalar(map_get(d, user, "tokenFile"));
        if (!out->token && tf) {
            char *p = resolve_path(path, tf);
            out->token = read_token(p, origin, err, errlen);
            free(p);
            if (!out->token) return -1;
        }
    }
    return 0;
}

int api_kubeconfig_parse(const char *text, size_t len, const char *path, const char *context,
                         api_kubeconfig_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    const char *origin = path ? path : "(text)";
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "kubeconfig %s: out of memory", origin);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "kubeconfig %s: line %zu: %s", origin, parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "bad YAML");
        yaml_parser_delete(&parser);
        return -1;
    }
    int rc;
    if (!yaml_document_get_root_node(&doc)) {
        snprintf(err, errlen, "kubeconfig %s: the file is empty", origin);
        rc = -1;
    } else {
        rc = fill(&doc, origin, path, context, out, err, errlen);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc < 0) {
        api_kubeconfig_free(out);
        return -1;
    }
    out->path = cl_strdup(path);
    return 0;
}

int api_kubeconfig_load(const char *explicit_path, const char *context, api_kubeconfig_t *out,
                        char *err, size_t errlen)
{
    char path[4096];
    memset(out, 0, sizeof(*out));
    if (api_kubeconfig_path(explicit_path, path, sizeof(path)) < 0) {
        snprintf(err, errlen,
                 "no kubeconfig: give --kubeconfig, set KUBECONFIG or HOME (for ~/.kube/config)");
        return -1;
    }
    size_t len = 0;
    char *text = file_read_all(path, &len);
    if (!text) {
        snprintf(err, errlen, "kubeconfig %s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    int rc = api_kubeconfig_parse(text, len, path, context, out, err, errlen);
    free(text);
    return rc;
}

/* ------------------------------------------------------------ TLS set-up */

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Standard base64 (whitespace ignored, padding optional) into a malloc'd,
 * NUL-terminated buffer; NULL on a bad character. */
static char *b64_decode(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n / 4 * 3 + 4);
    if (!out) return NULL;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (const char *p = s; *p && *p != '='; p++) {
        if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') continue;
        int v = b64_value((unsigned char)*p);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = 0;
    return out;
}

int api_kubeconfig_use_tls(const api_kubeconfig_t *kc, char *err, size_t errlen)
{
    if (!kc->server || strncmp(kc->server, "https://", 8) != 0) return 0;
    struct http_tls_client tls = {.insecure_skip_verify = kc->insecure_skip_tls_verify};
    char *ca = NULL;
    if (kc->ca_data) {
        ca = b64_decode(kc->ca_data);
        if (!ca) {
            snprintf(err, errlen, "kubeconfig %s: certificate-authority-data is not base64",
                     kc->path ? kc->path : "");
            return -1;
        }
        tls.ca_pem = ca;
    } else if (kc->ca_file) {
        tls.ca_pem = kc->ca_file;
    }
    int rv = http_client_set_default_tls(&tls);
    free(ca);
    if (rv != 0) {
        snprintf(err, errlen, "kubeconfig %s: the certificate authority cannot be read",
                 kc->path ? kc->path : "");
        return -1;
    }
    return 0;
}
