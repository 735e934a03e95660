/*
 * podtrim.c - the compact pods the pod informer keeps, and the facts about
 * a pod (whole or compact) that decide whether it is ours to schedule.
 *
 * The informer holds one per pod of the cluster (10,000 in the benchmark,
 * within a 32 MB budget), so the form is chosen for memory: a cJSON tree
 * costs about 150 bytes per member, and the heap fragments around many
 * small long-lived blocks. A pod with a node is therefore one cJSON string,
 * a tab-separated line (two allocations):
 *
 *   ns  name  uid  node  schedulerName  flags  requests  owner  hostports
 *
 * flags: T terminal, D deleting, G gated, E unreadable requests; requests:
 * "cpu mem nzcpu nzmem" in milli-CPU and bytes; hostports:
 * "80/TCP/;53/UDP/10.0.0.1"; uid is kept only while the pod has no node (it
 * goes into the Binding and Events). A pod without a node is an object:
 * {"p": line, "sel": nodeSelector, "aff": required node affinity, "tol":
 * tolerations, "psc": [status, reason, message] of PodScheduled}, where
 * "tol" is one string too (key, operator, value, effect separated by \x1f,
 * tolerations by \x1e): the API server gives every pod two default
 * tolerations, which as JSON would be most of a pending pod's memory. A
 * whole pod has "metadata"; a compact one never does.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "scheduler/sched_core.h"

enum { F_NS, F_NAME, F_UID, F_NODE, F_SCHED, F_FLAGS, F_REQ, F_OWNER, F_PORTS, NF };

struct line {
    char small[640];
    char *heap;
    char *f[NF];
};

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool is_full(const cJSON *pod)
{
    return cJSON_IsObject(pod) && get(pod, "metadata") != NULL;
}

static const char *line_of(const cJSON *pod)
{
    return cJSON_IsString(pod) ? pod->valuestring : str(pod, "p");
}

/* Splits a compact line into l (fields NUL-terminated in l's copy). */
static int split(const char *text, struct line *l)
{
    l->heap = NULL;
    if (!text) return -1;
    size_t n = strlen(text);
    char *buf = l->small;
    if (n >= sizeof(l->small)) {
        if (!(buf = l->heap = malloc(n + 1))) return -1;
    }
    memcpy(buf, text, n + 1);
    int k = 0;
    l->f[k++] = buf;
    for (char *c = buf; *c; c++) {
        if (*c != '\t') continue;
        *c = '\0';
        if (k == NF) break;
        l->f[k++] = c + 1;
    }
    if (k != NF) {
        free(l->heap);
        l->heap = NULL;
        return -1;
    }
    return 0;
}

static void line_free(struct line *l)
{
    free(l->heap);
    l->heap = NULL;
}

/* ------------------------------------------------------------------ facts */

static void copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

static bool is_ours(const char *sn, const char *scheduler_name)
{
    if (!scheduler_name) scheduler_name = SC_DEFAULT_SCHEDULER;
    if (!sn || !*sn) return !strcmp(scheduler_name, SC_DEFAULT_SCHEDULER);
    return !strcmp(sn, scheduler_name);
}

static bool phase_terminal(const char *ph)
{
    return ph && (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed"));
}

int sc_pod_facts(const cJSON *pod, const char *scheduler_name, struct sc_facts *out)
{
    *out = (struct sc_facts){0};
    if (is_full(pod)) {
        const cJSON *spec = get(pod, "spec");
        const char *name = api_meta_name(pod), *ns = api_meta_namespace(pod);
        if (!name) return -1;
        snprintf(out->key, sizeof(out->key), "%s/%s", ns ? ns : "", name);
        copy(out->node, sizeof(out->node), str(spec, "nodeName"));
        out->ours = is_ours(str(spec, "schedulerName"), scheduler_name);
        out->terminal = phase_terminal(str(get(pod, "status"), "phase"));
        out->deleting = api_meta_deletion_timestamp(pod) != NULL;
        out->gated = cJSON_GetArraySize(get(spec, "schedulingGates")) > 0;
        return 0;
    }
    struct line l;
    if (split(line_of(pod), &l) < 0) return -1;
    snprintf(out->key, sizeof(out->key), "%s/%s", l.f[F_NS], l.f[F_NAME]);
    copy(out->node, sizeof(out->node), l.f[F_NODE]);
    out->ours = is_ours(l.f[F_SCHED], scheduler_name);
    out->terminal = strchr(l.f[F_FLAGS], 'T') != NULL;
    out->deleting = strchr(l.f[F_FLAGS], 'D') != NULL;
    out->gated = strchr(l.f[F_FLAGS], 'G') != NULL;
    int rc = *l.f[F_NAME] ? 0 : -1;
    line_free(&l);
    return rc;
}

static const cJSON *full_sched_condition(const cJSON *pod)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, get(get(pod, "status"), "conditions"))
    {
        const char *t = str(c, "type");
        if (t && !strcmp(t, "PodScheduled")) return c;
    }
    return NULL;
}

void sc_pod_sched_condition(const cJSON *pod, const char **status, const char **reason,
                            const char **message)
{
    const char *s = NULL, *r = NULL, *m = NULL;
    if (is_full(pod)) {
        const cJSON *c = full_sched_condition(pod);
        s = str(c, "status");
        r = str(c, "reason");
        m = str(c, "message");
    } else if (cJSON_IsObject(pod)) {
        const cJSON *psc = get(pod, "psc");
        s = cJSON_GetStringValue(cJSON_GetArrayItem(psc, 0));
        r = cJSON_GetStringValue(cJSON_GetArrayItem(psc, 1));
        m = cJSON_GetStringValue(cJSON_GetArrayItem(psc, 2));
    }
    *status = s ? s : "";
    *reason = r ? r : "";
    *message = m ? m : "";
}

bool sc_pod_spec_changed(const cJSON *a, const cJSON *b)
{
    if (!a || !b) return a != b;
    if (cJSON_IsString(a) || cJSON_IsString(b))
        return !cJSON_IsString(a) || !cJSON_IsString(b) || strcmp(a->valuestring, b->valuestring);
    const cJSON *x;
    int na = 0, nb = 0;
    cJSON_ArrayForEach(x, a)
    {
        if (!strcmp(x->string, "psc")) continue;
        na++;
        const cJSON *y = get(b, x->string);
        if (!y || !cJSON_Compare(x, y, true)) return true;
    }
    cJSON_ArrayForEach(x, b) if (strcmp(x->string, "psc")) nb++;
    return na != nb;
}

/* ---------------------------------------------------------------- parsing */

static int parse_ports(struct sc_pod *out, char *ports)
{
    char *save = NULL;
    for (char *e = strtok_r(ports, ";", &save); e; e = strtok_r(NULL, ";", &save)) {
        char *proto = strchr(e, '/');
        char *ip = proto ? strchr(proto + 1, '/') : NULL;
        if (!ip) continue;
        *proto++ = '\0';
        *ip++ = '\0';
        if (sc_pod_add_port(out, (int32_t)atoi(e), sc_proto_of(proto), ip) < 0) return -1;
    }
    return 0;
}

static int parse_tolerations(struct sc_pod *out, const char *text)
{
    if (!text || !*text) return 0;
    char *copy = strdup(text), *save = NULL;
    if (!copy) return -1;
    int rc = 0;
    for (char *t = strtok_r(copy, "\x1e", &save); t && rc == 0; t = strtok_r(NULL, "\x1e", &save)) {
        char *f[4] = {t, "", "", ""};
        for (int i = 1; i < 4; i++) {
            char *sep = strchr(f[i - 1], '\x1f');
            if (!sep) break;
            *sep = '\0';
            f[i] = sep + 1;
        }
        rc = sc_pod_add_toleration(out, f[0], f[1], f[2], f[3]);
    }
    free(copy);
    return rc;
}

static char *dup_nonempty(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

int sc_pod_parse(const cJSON *pod, struct sc_pod *out, char *err, size_t errlen)
{
    if (is_full(pod)) return sc_pod_parse_full(pod, out, err, errlen);
    *out = (struct sc_pod){0};
    struct line l;
    if (split(line_of(pod), &l) < 0) {
        snprintf(err, errlen, "not a compact pod");
        return -1;
    }
    long long v[4] = {0};
    int rc = -1;
    if (*l.f[F_REQ] && sscanf(l.f[F_REQ], "%lld %lld %lld %lld", &v[0], &v[1], &v[2], &v[3]) != 4) {
        snprintf(err, errlen, "bad compact requests \"%s\"", l.f[F_REQ]);
        goto out;
    }
    out->req = (struct sc_res){v[0], v[1]};
    out->nz = (struct sc_res){v[2], v[3]};
    out->ns = strdup(l.f[F_NS]);
    out->name = strdup(l.f[F_NAME]);
    out->uid = dup_nonempty(l.f[F_UID]);
    out->owner = dup_nonempty(l.f[F_OWNER]);
    if (!out->ns || !out->name || (*l.f[F_UID] && !out->uid) || (*l.f[F_OWNER] && !out->owner) ||
        parse_ports(out, l.f[F_PORTS]) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (cJSON_IsObject(pod)) {
        out->node_selector = get(pod, "sel");
        out->affinity = get(pod, "aff");
        if (parse_tolerations(out, str(pod, "tol")) < 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    line_free(&l);
    if (rc < 0) sc_pod_clear(out);
    return rc;
}

/* ------------------------------------------------------------------- trim */

struct buf {
    char *p;
    size_t n, cap;
    bool oom;
};

static void put(struct buf *b, const char *s, bool field_sep)
{
    size_t l = s ? strlen(s) : 0;
    if (b->oom) return;
    if (b->n + l + 2 > b->cap) {
        size_t cap = (b->n + l + 2) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (field_sep) b->p[b->n++] = '\t';
    for (size_t i = 0; i < l; i++) /* a tab would shift every field after it */
        b->p[b->n++] = s[i] == '\t' ? ' ' : s[i];
    b->p[b->n] = '\0';
}

static bool add_dup(cJSON *o, const char *k, const cJSON *v)
{
    if (!v) return true;
    cJSON *d = cJSON_Duplicate(v, true);
    if (!d) return false;
    cJSON_AddItemToObject(o, k, d);
    return true;
}

/* Control characters cannot occur in keys, values or effects that the API
 * server accepted (they are label-like), so they can separate them. */
static bool add_tolerations(cJSON *o, const cJSON *spec)
{
    const cJSON *t, *tols = get(spec, "tolerations");
    if (!cJSON_GetArraySize(tols)) return true;
    struct buf b = {0};
    cJSON_ArrayForEach(t, tols)
    {
        const char *v[4] = {str(t, "key"), str(t, "operator"), str(t, "value"), str(t, "effect")};
        if (b.n) put(&b, "\x1e", false);
        for (int i = 0; i < 4; i++) {
            if (i) put(&b, "\x1f", false);
            put(&b, v[i], false);
        }
    }
    bool ok = !b.oom && b.p && cJSON_AddStringToObject(o, "tol", b.p);
    free(b.p);
    return ok;
}

static bool add_condition(cJSON *o, const cJSON *full)
{
    const cJSON *c = full_sched_condition(full);
    if (!c) return true;
    cJSON *psc = cJSON_AddArrayToObject(o, "psc");
    const char *v[3] = {str(c, "status"), str(c, "reason"), str(c, "message")};
    for (int i = 0; psc && i < 3; i++)
        if (!cJSON_AddItemToArray(psc, cJSON_CreateString(v[i] ? v[i] : ""))) return false;
    return psc != NULL;
}

cJSON *sc_pod_trim(const cJSON *full)
{
    struct sc_facts f;
    if (sc_pod_facts(full, NULL, &f) < 0) return cJSON_CreateObject(); /* no name: nothing */
    const cJSON *spec = get(full, "spec");
    struct sc_pod p;
    char err[256], num[128] = "", flags[8] = "";
    bool readable = sc_pod_parse_full(full, &p, err, sizeof(err)) == 0;
    int k = 0;
    if (f.terminal) flags[k++] = 'T';
    if (f.deleting) flags[k++] = 'D';
    if (f.gated) flags[k++] = 'G';
    /* The API server validates quantities; a pod it took anyway counts as
     * requesting nothing rather than vanish from the accounting. */
    if (!readable) flags[k++] = 'E';
    if (readable)
        snprintf(num, sizeof(num), "%" PRId64 " %" PRId64 " %" PRId64 " %" PRId64, p.req.cpu,
                 p.req.mem, p.nz.cpu, p.nz.mem);
    struct buf b = {0};
    put(&b, api_meta_namespace(full), false);
    put(&b, api_meta_name(full), true);
    put(&b, *f.node ? "" : api_meta_uid(full), true);
    put(&b, f.node, true);
    const char *sn = str(spec, "schedulerName");
    put(&b, sn && strcmp(sn, SC_DEFAULT_SCHEDULER) ? sn : "", true);
    put(&b, flags, true);
    put(&b, num, true);
    put(&b, readable ? p.owner : NULL, true);
    put(&b, "", true);
    for (size_t i = 0; readable && i < p.nports; i++) {
        char e[128];
        snprintf(e, sizeof(e), "%s%d/%s/%s", i ? ";" : "", p.ports[i].port,
                 sc_proto_name(p.ports[i].proto), p.ports[i].ip ? p.ports[i].ip : "");
        put(&b, e, false);
    }
    if (readable) sc_pod_clear(&p);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    cJSON *o;
    if (*f.node) {
        o = cJSON_CreateString(b.p);
    } else {
        o = cJSON_CreateObject();
        bool ok = o && cJSON_AddStringToObject(o, "p", b.p) &&
                  add_dup(o, "sel", get(spec, "nodeSelector")) &&
                  add_dup(o, "aff", sc_required_affinity(spec)) && add_tolerations(o, spec) &&
                  add_condition(o, full);
        if (!ok) {
            cJSON_Delete(o);
            o = NULL;
        }
    }
    free(b.p);
    return o;
}
