/*
 * util.c - small helpers every loop of the controller uses: allocation that
 * never returns NULL, JSON paths and setters, times, pod readiness,
 * conditions, selectors, int-or-percent values and hashing.
 *
 * Pod readiness and availability are Kubernetes' podutil rules; keeping them
 * here means the ReplicaSet status, the Deployment status and the Endpoints
 * all agree on what "ready" and "available" mean.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctrl_int.h"

void cx_oom(void)
{
    log_error(CTRL_COMP, "out of memory");
    abort();
}

void *cx_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) cx_oom();
    return p;
}

void *cx_realloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q) cx_oom();
    return q;
}

char *cx_strdup(const char *s)
{
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) cx_oom();
    return d;
}

char *cx_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) cx_oom();
    return s;
}

cJSON *cx_dup(const cJSON *o)
{
    if (!o) return NULL;
    cJSON *d = cJSON_Duplicate(o, true);
    if (!d) cx_oom();
    return d;
}

/* ------------------------------------------------------------------- JSON */

const cJSON *cj_get(const cJSON *o, const char *dotted)
{
    const char *p = dotted;
    while (o && p && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char key[128];
        if (n >= sizeof key || !cJSON_IsObject(o)) return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        p = dot ? dot + 1 : NULL;
    }
    return o;
}

const char *cj_str(const cJSON *o, const char *dotted)
{
    const cJSON *v = cj_get(o, dotted);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *cj_str0(const cJSON *o, const char *dotted)
{
    const char *s = cj_str(o, dotted);
    return s ? s : "";
}

int64_t cj_int(const cJSON *o, const char *dotted, int64_t dflt)
{
    const cJSON *v = cj_get(o, dotted);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

bool cj_true(const cJSON *o, const char *dotted)
{
    return cJSON_IsTrue(cj_get(o, dotted));
}

cJSON *cj_new_obj(void)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) cx_oom();
    return o;
}

cJSON *cj_new_arr(void)
{
    cJSON *o = cJSON_CreateArray();
    if (!o) cx_oom();
    return o;
}

void cj_push(cJSON *arr, cJSON *item)
{
    if (!item || !cJSON_AddItemToArray(arr, item)) cx_oom();
}

void cj_set(cJSON *o, const char *key, cJSON *v)
{
    if (!v) cx_oom();
    if (cJSON_GetObjectItemCaseSensitive(o, key)) {
        if (!cJSON_ReplaceItemInObjectCaseSensitive(o, key, v)) cx_oom();
    } else if (!cJSON_AddItemToObject(o, key, v)) {
        cx_oom();
    }
}

cJSON *cj_obj(cJSON *o, const char *key)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsObject(v)) return v;
    v = cj_new_obj();
    cj_set(o, key, v);
    return v;
}

void cj_set_str(cJSON *o, const char *key, const char *s)
{
    cj_set(o, key, cJSON_CreateString(s ? s : ""));
}

void cj_set_int(cJSON *o, const char *key, int64_t v)
{
    cj_set(o, key, cJSON_CreateNumber((double)v));
}

void cj_set_bool(cJSON *o, const char *key, bool v)
{
    cj_set(o, key, cJSON_CreateBool(v));
}

static int cmp_item_names(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

static void canon(const cJSON *o, cJSON *out_holder, const char *name);

/* A copy of o whose objects have their members sorted. */
static cJSON *canon_copy(const cJSON *o)
{
    if (cJSON_IsObject(o)) {
        size_t n = (size_t)cJSON_GetArraySize(o), i = 0;
        const cJSON **items = cx_calloc(n, sizeof(*items));
        const cJSON *c;
        cJSON_ArrayForEach(c, o) items[i++] = c;
        qsort(items, n, sizeof(*items), cmp_item_names);
        cJSON *out = cj_new_obj();
        for (i = 0; i < n; i++)
            canon(items[i], out, items[i]->string);
        free(items);
        return out;
    }
    if (cJSON_IsArray(o)) {
        cJSON *out = cj_new_arr();
        const cJSON *c;
        cJSON_ArrayForEach(c, o) cj_push(out, canon_copy(c));
        return out;
    }
    return cx_dup(o);
}

static void canon(const cJSON *o, cJSON *holder, const char *name)
{
    cJSON *c = canon_copy(o);
    if (!cJSON_AddItemToObject(holder, name, c)) cx_oom();
}

char *cj_canonical(const cJSON *o)
{
    cJSON *c = canon_copy(o);
    char *s = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    if (!s) cx_oom();
    return s;
}

/* ------------------------------------------------------------------ times */

uint64_t cx_time(const char *s)
{
    uint64_t ms;
    if (!s || !*s || time_parse_rfc3339(s, &ms) != 0) return 0;
    return ms;
}

void cx_time_fmt(uint64_t wall_ms, char *buf, size_t len)
{
    time_format_rfc3339(wall_ms, buf, len);
}

void cx_micro_fmt(uint64_t wall_ms, char *buf, size_t len)
{
    char s[40];
    time_format_rfc3339(wall_ms, s, sizeof s);
    /* "...:05Z" -> "...:05.123000Z": MicroTime, as Leases carry. */
    size_t n = strlen(s);
    if (n && s[n - 1] == 'Z') s[n - 1] = '\0';
    snprintf(buf, len, "%s.%03u000Z", s, (unsigned)(wall_ms % 1000));
}

/* ------------------------------------------------------------- conditions */

const cJSON *cx_condition(const cJSON *obj, const char *type)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cj_get(obj, "status.conditions"))
    {
        if (!strcmp(cj_str0(c, "type"), type)) return c;
    }
    return NULL;
}

bool cx_pod_terminal(const cJSON *pod)
{
    const char *ph = cj_str0(pod, "status.phase");
    return !strcmp(ph, "Succeeded") || !strcmp(ph, "Failed");
}

bool cx_pod_deleting(const cJSON *pod)
{
    return cj_str(pod, "metadata.deletionTimestamp") != NULL;
}

bool cx_pod_active(const cJSON *pod)
{
    return !cx_pod_terminal(pod) && !cx_pod_deleting(pod);
}

bool cx_pod_ready(const cJSON *pod)
{
    const cJSON *c = cx_condition(pod, "Ready");
    return c && !strcmp(cj_str0(c, "status"), "True");
}

uint64_t cx_pod_ready_since(const cJSON *pod)
{
    return cx_time(cj_str(cx_condition(pod, "Ready"), "lastTransitionTime"));
}

bool cx_pod_available(const cJSON *pod, int64_t min_ready_s, uint64_t now)
{
    if (!cx_pod_ready(pod)) return false;
    if (min_ready_s <= 0) return true;
    uint64_t since = cx_pod_ready_since(pod);
    /* Kubernetes: available when Ready's transition is at least
     * minReadySeconds old; an unknown transition time is not available. */
    return since && since + (uint64_t)min_ready_s * 1000 <= now;
}

const cJSON *cx_tolerations(const cJSON *pod, cJSON **owned)
{
    const cJSON *t = cj_get(pod, "spec.tolerations");
    *owned = NULL;
    if (cJSON_IsString(t)) {
        *owned = cJSON_Parse(t->valuestring);
        return *owned;
    }
    return t;
}

const char *cx_controller_uid(const cJSON *obj)
{
    const cJSON *ref = api_meta_controller_ref(obj);
    return ref ? cj_str(ref, "uid") : NULL;
}

bool cx_labels_superset(const cJSON *labels, const cJSON *want)
{
    const cJSON *w;
    cJSON_ArrayForEach(w, want)
    {
        if (!cJSON_IsString(w)) continue;
        const cJSON *have = cJSON_GetObjectItemCaseSensitive(labels, w->string);
        if (!cJSON_IsString(have) || strcmp(have->valuestring, w->valuestring)) return false;
    }
    return true;
}

api_selector_t *cx_selector(const cJSON *obj, bool map_selector)
{
    char err[256];
    const cJSON *sel = cj_get(obj, "spec.selector");
    if (map_selector) {
        if (!cJSON_IsObject(sel) || !cJSON_GetArraySize(sel))
            sel = cj_get(obj, "spec.template.metadata.labels");
        /* An RC without any selector would select everything: refuse. */
        if (!cJSON_IsObject(sel) || !cJSON_GetArraySize(sel)) return NULL;
        return api_selector_from_map(sel);
    }
    api_selector_t *s = api_selector_from_json(sel, err, sizeof err);
    if (!s) log_debug(CTRL_COMP, "bad selector: %s", err);
    return s;
}

int64_t cx_int_or_percent(const cJSON *v, int64_t total, bool round_up, int64_t dflt)
{
    if (!v || cJSON_IsNull(v)) return dflt;
    if (cJSON_IsNumber(v)) return (int64_t)v->valuedouble;
    if (!cJSON_IsString(v)) return -1;
    const char *s = v->valuestring;
    char *end;
    long long p = strtoll(s, &end, 10);
    if (end == s) return -1;
    if (*end == '\0') return p; /* a number in a string, as IntOrString allows */
    if (strcmp(end, "%") || p < 0) return -1;
    int64_t num = (int64_t)p * total;
    return round_up ? (num + 99) / 100 : num / 100;
}

uint32_t cx_fnv32a(const void *data, size_t len, uint32_t h)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}
