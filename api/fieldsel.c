/*
 * fieldsel.c - field selectors (`?fieldSelector=`).
 *
 * Owns parsing and matching field selectors as k8s.io/apimachinery/pkg/fields
 * does (terms, escapes, messages), which fields Kubernetes lets each resource
 * be filtered on, and the value of those fields in an object, with the
 * defaults Kubernetes' registries use (an absent spec.unschedulable is
 * "false"). The API server, agents' watches and kctl rely on these.
 */
#include "api/api.h"
#include "api/ops_int.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct fterm {
    char *field;
    char *value;
    bool neq;
};

struct api_fieldsel {
    struct fterm *terms;
    size_t n;
};

void api_fieldsel_free(api_fieldsel_t *sel)
{
    if (!sel) return;
    for (size_t i = 0; i < sel->n; i++) {
        free(sel->terms[i].field);
        free(sel->terms[i].value);
    }
    free(sel->terms);
    free(sel);
}

/* Undoes '\' escapes; unescaped ',' or '=' in a value are errors, as in
 * Kubernetes' fields.UnescapeValue. */
static char *unescape_value(const char *s, char *err, size_t errlen)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    if (!out) {
        ops_err(err, errlen, "out of memory");
        return NULL;
    }
    for (; *s; s++) {
        if (*s == '\\') {
            s++;
            if (*s != '\\' && *s != ',' && *s != '=') {
                if (*s)
                    ops_err(err, errlen, "invalid field selector: invalid escape sequence: \\%c",
                            *s);
                else
                    ops_err(err, errlen, "invalid field selector: invalid escape sequence: \\");
                free(out);
                return NULL;
            }
        } else if (*s == ',' || *s == '=') {
            ops_err(err, errlen, "invalid field selector: unescaped character in value: %c", *s);
            free(out);
            return NULL;
        }
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

api_fieldsel_t *api_fieldsel_parse(const char *s, char *err, size_t errlen)
{
    if (!s) s = "";
    api_fieldsel_t *sel = calloc(1, sizeof *sel);
    size_t len = strlen(s), nparts = 0;
    char **parts = calloc(len + 1, sizeof *parts);
    if (!sel || !parts) goto oom;
    /* split on unescaped commas */
    if (len) {
        size_t start = 0;
        bool slash = false;
        for (size_t i = 0; i <= len; i++) {
            if (i < len && slash) {
                slash = false;
            } else if (i < len && s[i] == '\\') {
                slash = true;
            } else if (i == len || s[i] == ',') {
                if (!(parts[nparts++] = strndup(s + start, i - start))) goto oom;
                start = i + 1;
            }
        }
    }
    qsort(parts, nparts, sizeof *parts, cmp_str);
    if (!(sel->terms = calloc(nparts ? nparts : 1, sizeof *sel->terms))) goto oom;
    for (size_t i = 0; i < nparts; i++) {
        const char *part = parts[i];
        if (!*part) continue;
        const char *op = NULL;
        size_t oplen = 0;
        for (const char *c = part; *c && !op; c++) {
            if (!strncmp(c, "!=", 2) || !strncmp(c, "==", 2))
                op = c, oplen = 2;
            else if (*c == '=')
                op = c, oplen = 1;
        }
        if (!op) {
            ops_err(err, errlen, "invalid selector: '%s'; can't understand '%s'", s, part);
            goto fail;
        }
        struct fterm *t = &sel->terms[sel->n];
        if (!(t->field = strndup(part, (size_t)(op - part)))) goto oom;
        t->neq = op[0] == '!';
        sel->n++;
        if (!(t->value = unescape_value(op + oplen, err, errlen))) goto fail;
    }
    for (size_t i = 0; i < nparts; i++)
        free(parts[i]);
    free(parts);
    return sel;
oom:
    ops_err(err, errlen, "out of memory");
fail:
    for (size_t i = 0; parts && i < nparts; i++)
        free(parts[i]);
    free(parts);
    api_fieldsel_free(sel);
    return NULL;
}

bool api_fieldsel_matches(const api_fieldsel_t *sel, api_field_getter get, void *arg)
{
    for (size_t i = 0; sel && i < sel->n; i++) {
        const char *v = get(sel->terms[i].field, arg);
        bool eq = !strcmp(v ? v : "", sel->terms[i].value);
        if (eq == sel->terms[i].neq) return false;
    }
    return true;
}

struct obj_getter {
    const char *resource;
    const cJSON *obj;
    char buf[256];
};

static const char *object_getter(const char *field, void *arg)
{
    struct obj_getter *g = arg;
    return api_fieldsel_value(g->resource, g->obj, field, g->buf, sizeof g->buf);
}

bool api_fieldsel_matches_object(const api_fieldsel_t *sel, const char *resource, const cJSON *obj)
{
    struct obj_getter g = {.resource = resource, .obj = obj};
    return api_fieldsel_matches(sel, object_getter, &g);
}

/* Selectable fields beyond metadata.name/namespace, from Kubernetes' field
 * label conversion functions of each kind. */
static const struct {
    const char *resource;
    bool no_namespace; /* only metadata.name of the metadata fields */
    const char *fields[12];
} selectable[] = {
    {"pods",
     false,
     {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
      "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs",
      "status.nominatedNodeName"}},
    {"nodes", true, {"spec.unschedulable"}},
    {"namespaces", true, {"status.phase"}},
    {"events",
     false,
     {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
      "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
      "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"}},
    {"secrets", false, {"type"}},
    {"replicasets", false, {"status.replicas"}},
    {"replicationcontrollers", false, {"status.replicas"}},
    {"jobs", false, {"status.successful"}},
};

bool api_fieldsel_supported(const char *resource, const char *field)
{
    for (size_t i = 0; i < sizeof selectable / sizeof selectable[0]; i++) {
        if (strcmp(selectable[i].resource, resource)) continue;
        if (!strcmp(field, "metadata.name")) return true;
        if (!strcmp(field, "metadata.namespace")) return !selectable[i].no_namespace;
        for (size_t j = 0; selectable[i].fields[j]; j++)
            if (!strcmp(selectable[i].fields[j], field)) return true;
        return false;
    }
    return !strcmp(field, "metadata.name") || !strcmp(field, "metadata.namespace");
}

int api_fieldsel_check(const api_fieldsel_t *sel, const char *resource, char *err, size_t errlen)
{
    for (size_t i = 0; sel && i < sel->n; i++)
        if (!api_fieldsel_supported(resource, sel->terms[i].field))
            return ops_err(err, errlen, "field label not supported: %s", sel->terms[i].field);
    return 0;
}

const char *api_fieldsel_exact(const api_fieldsel_t *sel, const char *field)
{
    for (size_t i = 0; sel && i < sel->n; i++)
        if (!sel->terms[i].neq && !strcmp(sel->terms[i].field, field)) return sel->terms[i].value;
    return NULL;
}

bool api_fieldsel_empty(const api_fieldsel_t *sel)
{
    return !sel || sel->n == 0;
}

char *api_fieldsel_string(const api_fieldsel_t *sel)
{
    /* terms sorted by their printed form, so that the string parses back to
     * the same string ("a==b" prints as "a=b" and may sort elsewhere) */
    size_t n = sel ? sel->n : 0;
    char **terms = calloc(n + 1, sizeof *terms);
    struct ops_buf b = {0};
    if (!terms) return NULL;
    for (size_t i = 0; i < n; i++) {
        struct ops_buf t = {0};
        ob_puts(&t, sel->terms[i].field);
        ob_puts(&t, sel->terms[i].neq ? "!=" : "=");
        for (const char *c = sel->terms[i].value; *c; c++) {
            if (*c == '\\' || *c == ',' || *c == '=') ob_putc(&t, '\\');
            ob_putc(&t, *c);
        }
        if (!(terms[i] = ob_take(&t))) b.oom = true;
    }
    if (!b.oom) qsort(terms, n, sizeof *terms, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (i) ob_putc(&b, ',');
        if (terms[i]) ob_puts(&b, terms[i]);
        free(terms[i]);
    }
    free(terms);
    return ob_take(&b);
}

const char *api_json_field(const cJSON *obj, const char *dotted, char *buf, size_t len)
{
    const cJSON *cur = obj;
    const char *p = dotted;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char name[256];
        if (n >= sizeof name || !cJSON_IsObject(cur)) return NULL;
        memcpy(name, p, n);
        name[n] = '\0';
        cur = cJSON_GetObjectItemCaseSensitive(cur, name);
        p += n + (dot ? 1 : 0);
    }
    if (!cur) return NULL;
    if (cJSON_IsString(cur)) return cur->valuestring;
    if (cJSON_IsBool(cur)) return cJSON_IsTrue(cur) ? "true" : "false";
    if (cJSON_IsNumber(cur)) {
        double d = cur->valuedouble;
        if (d > -9.2e18 && d < 9.2e18 && d == (double)(long long)d)
            snprintf(buf, len, "%lld", (long long)d);
        else
            snprintf(buf, len, "%.17g", d);
        return buf;
    }
    return NULL;
}

const char *api_fieldsel_value(const char *resource, const cJSON *obj, const char *field, char *buf,
                               size_t len)
{
    const char *v;
    if (!strcmp(resource, "events")) {
        if (!strcmp(field, "source")) {
            v = api_json_field(obj, "source.component", buf, len);
            if (!v || !*v) v = api_json_field(obj, "reportingComponent", buf, len);
            return v ? v : "";
        }
    }
    if (!strcmp(resource, "pods") && !strcmp(field, "status.podIPs")) {
        /* the selectable value is the list of IPs joined by ',' */
        const cJSON *ips = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(obj, "status"), "podIPs");
        size_t used = 0;
        if (len) buf[0] = '\0';
        for (const cJSON *ip = cJSON_IsArray(ips) ? ips->child : NULL; ip; ip = ip->next) {
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(ip, "ip");
            if (!cJSON_IsString(s) || used >= len) continue;
            int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", s->valuestring);
            if (n > 0) used += (size_t)n;
        }
        return len ? buf : "";
    }
    v = api_json_field(obj, field, buf, len);
    if (v) return v;
    if (!strcmp(field, "spec.unschedulable") || !strcmp(field, "spec.hostNetwork")) return "false";
    if (!strcmp(field, "status.replicas") || !strcmp(field, "status.successful")) return "0";
    return "";
}
