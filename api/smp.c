/*
 * smp.c - strategic merge patch (application/strategic-merge-patch+json), the
 * patch `kubectl apply` and `kubectl patch` send for built-in kinds.
 *
 * Owns the table of patch strategies of the built-in kinds (which lists merge
 * item by item and on which key, which are replaced whole) and the merge itself
 * with its directives ($patch, $setElementOrder/, $retainKeys,
 * $deleteFromPrimitiveList/), following k8s.io/apimachinery's strategicpatch
 * with the API server's options (parallel lists merged, unmatched nulls
 * dropped), including how it orders merged lists: kubectl relies on that to
 * keep containers and env in the order of the user's manifest.
 */
#include "api/api.h"
#include "api/ops_int.h"

#define SET_ORDER "$setElementOrder/"
#define DELETE_FROM "$deleteFromPrimitiveList/"

/* ------------------------------------------------- patch strategy tables */

struct smp_type;

/* A field with something other than the defaults (maps merge, lists are
 * replaced): `merge` lists merge item by item, on `key` for lists of objects
 * (NULL for lists of scalars, which merge as sets); `type` describes the
 * field's object, or the items of a list. */
struct smp_field {
    const char *name;
    bool merge;
    const char *key;
    const struct smp_type *type;
};

struct smp_type {
    const struct smp_field *fields;
};

#define MERGE(n, k, t)                                                                             \
    {                                                                                              \
        n, true, k, t                                                                              \
    }
#define OBJECT(n, t)                                                                               \
    {                                                                                              \
        n, false, NULL, t                                                                          \
    }
#define END                                                                                        \
    {                                                                                              \
        NULL, false, NULL, NULL                                                                    \
    }

static const struct smp_field f_meta[] = {MERGE("finalizers", NULL, NULL),
                                          MERGE("ownerReferences", "uid", NULL), END};
static const struct smp_type t_meta = {f_meta};

static const struct smp_field f_container[] = {
    MERGE("ports", "containerPort", NULL), MERGE("env", "name", NULL),
    MERGE("volumeMounts", "mountPath", NULL), MERGE("volumeDevices", "devicePath", NULL), END};
static const struct smp_type t_container = {f_container};

static const struct smp_field f_podspec[] = {
    MERGE("containers", "name", &t_container),
    MERGE("initContainers", "name", &t_container),
    MERGE("ephemeralContainers", "name", &t_container),
    MERGE("volumes", "name", NULL),
    MERGE("imagePullSecrets", "name", NULL),
    MERGE("hostAliases", "ip", NULL),
    MERGE("topologySpreadConstraints", "topologyKey", NULL),
    MERGE("schedulingGates", "name", NULL),
    MERGE("resourceClaims", "name", NULL),
    END};
static const struct smp_type t_podspec = {f_podspec};

static const struct smp_field f_podstatus[] = {
    MERGE("conditions", "type", NULL), MERGE("podIPs", "ip", NULL), MERGE("hostIPs", "ip", NULL),
    MERGE("resourceClaimStatuses", "name", NULL), END};
static const struct smp_type t_podstatus = {f_podstatus};

static const struct smp_field f_template[] = {OBJECT("metadata", &t_meta),
                                              OBJECT("spec", &t_podspec), END};
static const struct smp_type t_template = {f_template};

static const struct smp_field f_conditions[] = {MERGE("conditions", "type", NULL), END};
static const struct smp_type t_condstatus = {f_conditions};

static const struct smp_field f_workloadspec[] = {OBJECT("template", &t_template), END};
static const struct smp_type t_workloadspec = {f_workloadspec};

static const struct smp_field f_jobtemplate[] = {OBJECT("metadata", &t_meta),
                                                 OBJECT("spec", &t_workloadspec), END};
static const struct smp_type t_jobtemplate = {f_jobtemplate};

static const struct smp_field f_cronjobspec[] = {OBJECT("jobTemplate", &t_jobtemplate), END};
static const struct smp_type t_cronjobspec = {f_cronjobspec};

static const struct smp_field f_servicespec[] = {MERGE("ports", "port", NULL), END};
static const struct smp_type t_servicespec = {f_servicespec};

static const struct smp_field f_nodespec[] = {MERGE("podCIDRs", NULL, NULL), END};
static const struct smp_type t_nodespec = {f_nodespec};

static const struct smp_field f_nodestatus[] = {MERGE("conditions", "type", NULL),
                                                MERGE("addresses", "type", NULL), END};
static const struct smp_type t_nodestatus = {f_nodestatus};

/* kinds */
static const struct smp_field f_pod[] = {OBJECT("metadata", &t_meta), OBJECT("spec", &t_podspec),
                                         OBJECT("status", &t_podstatus), END};
static const struct smp_field f_podtemplate[] = {OBJECT("metadata", &t_meta),
                                                 OBJECT("template", &t_template), END};
static const struct smp_field f_workload[] = {OBJECT("metadata", &t_meta),
                                              OBJECT("spec", &t_workloadspec),
                                              OBJECT("status", &t_condstatus), END};
static const struct smp_field f_cronjob[] = {OBJECT("metadata", &t_meta),
                                             OBJECT("spec", &t_cronjobspec), END};
static const struct smp_field f_service[] = {OBJECT("metadata", &t_meta),
                                             OBJECT("spec", &t_servicespec),
                                             OBJECT("status", &t_condstatus), END};
static const struct smp_field f_node[] = {OBJECT("metadata", &t_meta), OBJECT("spec", &t_nodespec),
                                          OBJECT("status", &t_nodestatus), END};
static const struct smp_field f_serviceaccount[] = {OBJECT("metadata", &t_meta),
                                                    MERGE("secrets", "name", NULL), END};
/* kinds whose only strategies are ObjectMeta's (and status conditions) */
static const struct smp_field f_plain[] = {OBJECT("metadata", &t_meta),
                                           OBJECT("status", &t_condstatus), END};

static const struct {
    const char *kind;
    struct smp_type type;
} kinds[] = {
    {"Pod", {f_pod}},
    {"PodTemplate", {f_podtemplate}},
    {"Deployment", {f_workload}},
    {"ReplicaSet", {f_workload}},
    {"ReplicationController", {f_workload}},
    {"DaemonSet", {f_workload}},
    {"StatefulSet", {f_workload}},
    {"Job", {f_workload}},
    {"CronJob", {f_cronjob}},
    {"Service", {f_service}},
    {"Node", {f_node}},
    {"ServiceAccount", {f_serviceaccount}},
    {"Namespace", {f_plain}},
    {"ConfigMap", {f_plain}},
    {"Secret", {f_plain}},
    {"Endpoints", {f_plain}},
    {"EndpointSlice", {f_plain}},
    {"Event", {f_plain}},
    {"Lease", {f_plain}},
    {"PersistentVolume", {f_plain}},
    {"PersistentVolumeClaim", {f_plain}},
    {"LimitRange", {f_plain}},
    {"ResourceQuota", {f_plain}},
    {"PriorityClass", {f_plain}},
    {"Role", {f_plain}},
    {"ClusterRole", {f_plain}},
    {"RoleBinding", {f_plain}},
    {"ClusterRoleBinding", {f_plain}},
    {"Binding", {f_plain}},
};

static const struct smp_type *kind_type(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].kind, kind)) return &kinds[i].type;
    return NULL;
}

bool api_smp_kind_known(const char *kind)
{
    return kind_type(kind) != NULL;
}

static const struct smp_field *lookup(const struct smp_type *t, const char *name)
{
    for (const struct smp_field *f = t ? t->fields : NULL; f && f->name; f++)
        if (!strcmp(f->name, name)) return f;
    return NULL;
}

/* ------------------------------------------------------------- helpers */

struct smp {
    char *err;
    size_t errlen;
};

#define TYPE(v) ((v)->type & 0xFF)

/* Go's == on decoded JSON scalars; whole trees compare as trees. */
static bool same(const cJSON *a, const cJSON *b)
{
    if (!a || !b || TYPE(a) != TYPE(b)) return false;
    if (cJSON_IsString(a)) return !strcmp(a->valuestring, b->valuestring);
    if (cJSON_IsNumber(a)) return a->valuedouble == b->valuedouble;
    if (cJSON_IsObject(a) || cJSON_IsArray(a)) return cJSON_Compare(a, b, 1);
    return true;
}

/* What identifies a list item: its merge key's value, or the item itself. */
static const cJSON *ident(const cJSON *item, const char *key)
{
    if (!key) return item;
    return cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, key) : NULL;
}

static const char *directive(const cJSON *item)
{
    const cJSON *d = cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, "$patch") : NULL;
    return d ? (cJSON_IsString(d) ? d->valuestring : "") : NULL;
}

static int no_merge_key(struct smp *c, const cJSON *item, const char *key)
{
    char buf[200];
    return ops_err(c->err, c->errlen, "map: %s does not contain declared merge key: %s",
                   ops_json_short(item, buf, sizeof buf), key);
}

/* A growable list of item pointers. */
struct plist {
    cJSON **v;
    size_t n, cap;
};

static int pl_add(struct plist *l, cJSON *v)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        cJSON **p = realloc(l->v, cap * sizeof *p);
        if (!p) return -1;
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = v;
    return 0;
}

/* Copies of the identities of items, so that positions can still be looked up
 * after items were merged or deleted. */
static int ids_of(struct plist *ids, cJSON *const *items, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        const cJSON *id = ident(items[i], key);
        cJSON *d = id ? cJSON_Duplicate(id, 1) : NULL;
        if ((id && !d) || pl_add(ids, d)) {
            cJSON_Delete(d);
            return -1;
        }
    }
    return 0;
}

static void ids_free(struct plist *ids)
{
    for (size_t i = 0; i < ids->n; i++)
        cJSON_Delete(ids->v[i]);
    free(ids->v);
    ids->v = NULL;
    ids->n = ids->cap = 0;
}

static long id_index(const struct plist *ids, const cJSON *item, const char *key)
{
    const cJSON *id = ident(item, key);
    for (size_t i = 0; id && i < ids->n; i++)
        if (same(ids->v[i], id)) return (long)i;
    return -1;
}

struct slot {
    cJSON *item;
    long pidx, sidx;
};

static void sort_slots(struct slot *s, size_t n, bool by_pidx)
{
    for (size_t i = 1; i < n; i++) {
        struct slot x = s[i];
        long kx = by_pidx ? x.pidx : x.sidx;
        size_t j = i;
        while (j > 0) {
            long kj = by_pidx ? s[j - 1].pidx : s[j - 1].sidx;
            /* unknown positions (-1) keep their place after known ones */
            if (!((kx >= 0 && kj < 0) || (kx >= 0 && kj >= 0 && kx < kj))) break;
            s[j] = s[j - 1];
            j--;
        }
        s[j] = x;
    }
}

/* Kubernetes' normalizeElementOrder: items named in `want` (the patch or its
 * $setElementOrder) take that order, the others (server-only) keep the order
 * of `server`, and server-only items are slotted in before the first patch
 * item that comes after them on the server. */
static int order_items(struct plist *items, const char *key, const struct plist *want,
                       const struct plist *server)
{
    size_t n = items->n, np = 0, ns = 0;
    struct slot *p = calloc(n + 1, sizeof *p), *s = calloc(n + 1, sizeof *s);
    if (!p || !s) {
        free(p);
        free(s);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct slot x = {items->v[i], id_index(want, items->v[i], key),
                         id_index(server, items->v[i], key)};
        if (x.pidx >= 0)
            p[np++] = x;
        else
            s[ns++] = x;
    }
    sort_slots(p, np, true);
    sort_slots(s, ns, false);
    size_t i = 0, j = 0;
    for (size_t k = 0; k < n; k++) {
        if (i < ns && (j >= np || (s[i].sidx >= 0 && p[j].sidx >= 0 && s[i].sidx < p[j].sidx)))
            items->v[k] = s[i++].item;
        else
            items->v[k] = p[j++].item;
    }
    free(p);
    free(s);
    return 0;
}

/* Detaches every item of array into l. */
static int detach_all(cJSON *array, struct plist *l)
{
    while (array->child) {
        cJSON *it = cJSON_DetachItemViaPointer(array, array->child);
        if (pl_add(l, it)) {
            cJSON_Delete(it);
            return -1;
        }
    }
    return 0;
}

/* Puts the items of l into array (freeing the list), whatever happened, so that
 * nothing leaks on error paths. */
static void reattach(cJSON *array, struct plist *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] && !cJSON_AddItemToArray(array, l->v[i])) cJSON_Delete(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* ------------------------------------------------------------- merging */

static int merge_map(struct smp *c, cJSON *orig, const cJSON *patch, const struct smp_type *t,
                     int depth);

/* The patch value as it lands where the original has nothing: nulls dropped,
 * directives applied, directive items of merging lists removed. */
static cJSON *clean(struct smp *c, const cJSON *v, const struct smp_field *f, int depth)
{
    if (depth > OPS_MAX_DEPTH) {
        ops_err(c->err, c->errlen, "the patch is nested more than %d levels deep", OPS_MAX_DEPTH);
        return NULL;
    }
    cJSON *out = NULL;
    if (cJSON_IsObject(v)) {
        out = cJSON_CreateObject();
        if (out && merge_map(c, out, v, f ? f->type : NULL, depth + 1)) {
            cJSON_Delete(out);
            return NULL;
        }
    } else if (cJSON_IsArray(v)) {
        out = cJSON_CreateArray();
        for (const cJSON *e = v->child; out && e; e = e->next) {
            if (f && f->merge && f->key && directive(e)) continue;
            cJSON *ce = cJSON_IsObject(e) ? clean(c, e, f, depth + 1) : cJSON_Duplicate(e, 1);
            if (!ce || !cJSON_AddItemToArray(out, ce)) {
                cJSON_Delete(ce);
                cJSON_Delete(out);
                return NULL;
            }
        }
    } else {
        out = cJSON_Duplicate(v, 1);
    }
    if (!out && !(c->err && *c->err)) ops_err(c->err, c->errlen, "out of memory");
    return out;
}

/* Lists of lists and lists mixing types cannot merge. */
static int check_element_types(struct smp *c, const cJSON *a, const cJSON *b)
{
    int seen = -1;
    const cJSON *lists[2] = {a, b};
    for (int l = 0; l < 2; l++)
        for (const cJSON *e = lists[l] ? lists[l]->child : NULL; e; e = e->next) {
            if (cJSON_IsArray(e))
                return ops_err(c->err, c->errlen, "lists of lists are not supported");
            if (seen >= 0 && seen != TYPE(e)) {
                char x[120], y[120];
                return ops_err(c->err, c->errlen, "list element types are not identical: %s %s",
                               ops_json_short(a, x, sizeof x), ops_json_short(b, y, sizeof y));
            }
            seen = TYPE(e);
        }
    return 0;
}

/* Merges the patch list into orig (an array, changed in place) for a field
 * with the merge strategy. */
static int merge_list(struct smp *c, cJSON *orig, const cJSON *patch, const struct smp_field *f,
                      int depth)
{
    if (!orig->child && !patch->child) return 0;
    if (check_element_types(c, orig, patch)) return -1;
    struct plist items = {0}, want = {0}, server = {0}, pitems = {0};
    int rc = -1;
    if (detach_all(orig, &items)) goto oom;
    bool maps = (orig->child ? cJSON_IsObject(orig->child) : false) ||
                (items.n && cJSON_IsObject(items.v[0])) ||
                (patch->child && cJSON_IsObject(patch->child));
    const char *key = maps ? f->key : NULL;
    if (maps && !key) {
        rc = ops_err(c->err, c->errlen, "cannot merge lists without merge key for %s", f->name);
        goto out;
    }
    if (!maps) {
        /* scalars merge as a set: the original's, then the patch's new ones */
        if (ids_of(&server, items.v, items.n, NULL)) goto oom;
        for (const cJSON *e = patch->child; e; e = e->next) {
            if (pl_add(&pitems, (cJSON *)e)) goto oom;
            if (id_index(&(struct plist){items.v, items.n, items.n}, e, NULL) >= 0) continue;
            cJSON *d = cJSON_Duplicate(e, 1);
            if (!d || pl_add(&items, d)) {
                cJSON_Delete(d);
                goto oom;
            }
        }
        /* duplicates within the original collapse too */
        for (size_t i = 0; i < items.n; i++)
            for (size_t j = i + 1; j < items.n;) {
                if (same(items.v[i], items.v[j])) {
                    cJSON_Delete(items.v[j]);
                    memmove(items.v + j, items.v + j + 1, (items.n - j - 1) * sizeof *items.v);
                    items.n--;
                } else {
                    j++;
                }
            }
    } else {
        bool replace = false;
        for (const cJSON *e = patch->child; e; e = e->next) {
            const char *d = directive(e);
            if (!d) {
                if (pl_add(&pitems, (cJSON *)e)) goto oom;
            } else if (!strcmp(d, "delete")) {
                const cJSON *kv = ident(e, key);
                if (!kv) {
                    rc = no_merge_key(c, e, key);
                    goto out;
                }
                for (size_t i = 0; i < items.n;) {
                    if (same(ident(items.v[i], key), kv)) {
                        cJSON_Delete(items.v[i]);
                        memmove(items.v + i, items.v + i + 1, (items.n - i - 1) * sizeof *items.v);
                        items.n--;
                    } else {
                        i++;
                    }
                }
            } else if (!strcmp(d, "replace")) {
                replace = true;
            } else if (!strcmp(d, "merge")) {
                rc = ops_err(c->err, c->errlen,
                             "merging lists cannot yet be specified in the patch");
                goto out;
            } else {
                char buf[200];
                rc = ops_err(c->err, c->errlen, "unknown patch type: %s in map: %s", d,
                             ops_json_short(e, buf, sizeof buf));
                goto out;
            }
        }
        if (replace) {
            for (size_t i = 0; i < items.n; i++)
                cJSON_Delete(items.v[i]);
            items.n = 0;
            for (size_t i = 0; i < pitems.n; i++) {
                cJSON *ce = clean(c, pitems.v[i], f, depth + 1);
                if (!ce) goto out;
                if (pl_add(&items, ce)) {
                    cJSON_Delete(ce);
                    goto oom;
                }
            }
            pitems.n = 0;
        }
        if (ids_of(&server, items.v, items.n, key)) goto oom;
        for (size_t i = 0; i < pitems.n; i++) {
            const cJSON *e = pitems.v[i];
            const cJSON *kv = ident(e, key);
            if (!kv) {
                rc = no_merge_key(c, e, key);
                goto out;
            }
            size_t at = 0;
            while (at < items.n && !same(ident(items.v[at], key), kv))
                at++;
            if (at < items.n) {
                if (merge_map(c, items.v[at], e, f->type, depth + 1)) goto out;
            } else {
                cJSON *ce = clean(c, e, f, depth + 1);
                if (!ce) goto out;
                if (pl_add(&items, ce)) {
                    cJSON_Delete(ce);
                    goto oom;
                }
            }
        }
    }
    if (ids_of(&want, pitems.v, pitems.n, key) || order_items(&items, key, &want, &server))
        goto oom;
    rc = 0;
    goto out;
oom:
    rc = ops_err(c->err, c->errlen, "out of memory");
out:
    reattach(orig, &items);
    ids_free(&want);
    ids_free(&server);
    free(pitems.v);
    return rc;
}

/* Kubernetes' validatePatchWithSetOrderList: the patch list must follow the
 * relative order of the $setElementOrder list. */
static int check_order(struct smp *c, const cJSON *plist, const cJSON *order, const char *key)
{
    if (!plist || !plist->child || !order->child) return 0;
    const cJSON *p = plist->child, *o = order->child;
    while (p && o) {
        const char *d = directive(p);
        if (d) {
            p = p->next;
            continue;
        }
        if (key) {
            if (!ident(p, key)) return no_merge_key(c, p, key);
            if (!ident(o, key)) return no_merge_key(c, o, key);
        }
        if (same(ident(p, key), ident(o, key))) p = p->next;
        o = o->next;
    }
    while (p && directive(p))
        p = p->next;
    if (p) {
        char x[200], y[200];
        return ops_err(c->err, c->errlen,
                       "The order in patch list:\n%s\n doesn't match $setElementOrder list:\n%s\n",
                       ops_json_short(plist, x, sizeof x), ops_json_short(order, y, sizeof y));
    }
    return 0;
}

static int set_member(struct smp *c, cJSON *obj, const char *name, cJSON *v)
{
    return ops_obj_set(obj, name, v) ? 0 : ops_err(c->err, c->errlen, "out of memory");
}

/* $setElementOrder/<name>: merges the list <name> (when the patch has it) and
 * puts its items in the order given. */
static int set_element_order(struct smp *c, cJSON *orig, const cJSON *patch, const char *name,
                             const cJSON *order, const struct smp_type *t, int depth)
{
    if (!cJSON_IsArray(order))
        return ops_err(c->err, c->errlen, "invalid patch format of setElementOrder list");
    const struct smp_field *f = lookup(t, name);
    const cJSON *pl = cJSON_GetObjectItemCaseSensitive(patch, name);
    cJSON *ol = cJSON_GetObjectItemCaseSensitive(orig, name);
    if ((pl && !cJSON_IsArray(pl)) || (ol && !cJSON_IsArray(ol)))
        return ops_err(c->err, c->errlen, "expected a list for %s with %s%s", name, SET_ORDER,
                       name);
    bool maps = false;
    const cJSON *lists[3] = {order, pl, ol};
    for (int i = 0; i < 3; i++)
        for (const cJSON *e = lists[i] ? lists[i]->child : NULL; e; e = e->next)
            maps |= cJSON_IsObject(e);
    const char *key = maps && f ? f->key : NULL;
    if (check_order(c, pl, order, key)) return -1;
    if (!pl && !ol) return 0;

    struct plist server = {0}, want = {0}, items = {0};
    int rc = -1;
    if (ol) {
        struct plist cur = {0};
        for (cJSON *e = ol->child; e; e = e->next)
            if (pl_add(&cur, e)) {
                free(cur.v);
                goto oom;
            }
        int r = ids_of(&server, cur.v, cur.n, key);
        free(cur.v);
        if (r) goto oom;
    }
    cJSON *merged;
    if (ol && pl && f && f->merge) {
        if (merge_list(c, ol, pl, f, depth + 1)) goto out;
        merged = ol;
    } else if (pl) {
        if (!(merged = clean(c, pl, f, depth + 1))) goto out;
        if (set_member(c, orig, name, merged)) goto out;
    } else {
        merged = ol;
    }
    if (detach_all(merged, &items)) {
        reattach(merged, &items);
        goto oom;
    }
    struct plist order_items_list = {0};
    for (cJSON *e = order->child; e; e = e->next)
        if (pl_add(&order_items_list, e)) {
            free(order_items_list.v);
            reattach(merged, &items);
            goto oom;
        }
    int r = ids_of(&want, order_items_list.v, order_items_list.n, key);
    free(order_items_list.v);
    if (r || order_items(&items, key, &want, &server)) {
        reattach(merged, &items);
        goto oom;
    }
    reattach(merged, &items);
    rc = 0;
    goto out;
oom:
    rc = ops_err(c->err, c->errlen, "out of memory");
out:
    ids_free(&server);
    ids_free(&want);
    return rc;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

/* $retainKeys: the original keeps only the listed fields; the patch may only
 * set listed fields. */
static int retain_keys(struct smp *c, cJSON *orig, const cJSON *patch, const cJSON *keys)
{
    if (!cJSON_IsArray(keys))
        return ops_err(c->err, c->errlen, "invalid patch format of retainKeys");
    for (const cJSON *m = patch->child; m; m = m->next) {
        if (cJSON_IsNull(m) || has_prefix(m->string, DELETE_FROM) ||
            has_prefix(m->string, SET_ORDER) || !strcmp(m->string, "$retainKeys") ||
            !strcmp(m->string, "$patch"))
            continue;
        bool listed = false;
        for (const cJSON *k = keys->child; k && !listed; k = k->next)
            listed = cJSON_IsString(k) && !strcmp(k->valuestring, m->string);
        if (!listed) return ops_err(c->err, c->errlen, "invalid patch format of retainKeys");
    }
    for (cJSON *m = orig->child, *next; m; m = next) {
        next = m->next;
        bool listed = false;
        for (const cJSON *k = keys->child; k && !listed; k = k->next)
            listed = cJSON_IsString(k) && !strcmp(k->valuestring, m->string);
        if (!listed) cJSON_Delete(cJSON_DetachItemViaPointer(orig, m));
    }
    return 0;
}

static int delete_from_list(struct smp *c, cJSON *orig, const char *name, const cJSON *values)
{
    if (!cJSON_IsArray(values))
        return ops_err(c->err, c->errlen, "invalid patch format of primitive list");
    cJSON *list = cJSON_GetObjectItemCaseSensitive(orig, name);
    if (!cJSON_IsArray(list)) return 0;
    for (cJSON *e = list->child, *next; e; e = next) {
        next = e->next;
        for (const cJSON *v = values->child; v; v = v->next)
            if (same(e, v)) {
                cJSON_Delete(cJSON_DetachItemViaPointer(list, e));
                break;
            }
    }
    return 0;
}

static void clear_object(cJSON *o)
{
    while (o->child)
        cJSON_Delete(cJSON_DetachItemViaPointer(o, o->child));
}

static bool handled(const cJSON *patch, const char *name)
{
    for (const cJSON *m = patch->child; m; m = m->next)
        if (has_prefix(m->string, SET_ORDER) && !strcmp(m->string + strlen(SET_ORDER), name))
            return true;
    return false;
}

/* Merges the patch map into orig (an object, changed in place). */
static int merge_map(struct smp *c, cJSON *orig, const cJSON *patch, const struct smp_type *t,
                     int depth)
{
    if (depth > OPS_MAX_DEPTH)
        return ops_err(c->err, c->errlen, "the patch is nested more than %d levels deep",
                       OPS_MAX_DEPTH);
    const char *d = directive(patch);
    if (d) {
        if (!strcmp(d, "delete")) {
            clear_object(orig);
            return 0;
        }
        if (!strcmp(d, "replace")) {
            clear_object(orig);
        } else if (strcmp(d, "merge")) {
            char buf[200];
            return ops_err(c->err, c->errlen, "unknown patch type: %s in map: %s", d,
                           ops_json_short(patch, buf, sizeof buf));
        }
    }
    const cJSON *rk = cJSON_GetObjectItemCaseSensitive(patch, "$retainKeys");
    if (rk && retain_keys(c, orig, patch, rk)) return -1;
    for (const cJSON *m = patch->child; m; m = m->next)
        if (has_prefix(m->string, SET_ORDER) &&
            set_element_order(c, orig, patch, m->string + strlen(SET_ORDER), m, t, depth))
            return -1;
    for (const cJSON *m = patch->child; m; m = m->next) {
        const char *name = m->string;
        if (!strcmp(name, "$patch") || !strcmp(name, "$retainKeys") ||
            has_prefix(name, SET_ORDER) || has_prefix(name, DELETE_FROM) || handled(patch, name))
            continue;
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(orig, name);
        if (cJSON_IsNull(m)) {
            ops_obj_delete_all(orig, name, NULL);
            continue;
        }
        if (cur) ops_obj_delete_all(orig, name, cur);
        const struct smp_field *f = lookup(t, name);
        if (cur && cJSON_IsObject(cur) && cJSON_IsObject(m)) {
            if (merge_map(c, cur, m, f ? f->type : NULL, depth + 1)) return -1;
        } else if (cur && cJSON_IsArray(cur) && cJSON_IsArray(m) && f && f->merge) {
            if (merge_list(c, cur, m, f, depth + 1)) return -1;
        } else {
            cJSON *v = clean(c, m, f, depth + 1);
            if (!v || set_member(c, orig, name, v)) return -1;
        }
    }
    for (const cJSON *m = patch->child; m; m = m->next)
        if (has_prefix(m->string, DELETE_FROM) &&
            delete_from_list(c, orig, m->string + strlen(DELETE_FROM), m))
            return -1;
    return 0;
}

cJSON *api_smp_apply(const cJSON *original, const cJSON *patch, const char *kind, char *err,
                     size_t errlen)
{
    struct smp c = {err, errlen};
    if (err && errlen) err[0] = '\0';
    if (!cJSON_IsObject(original) || !cJSON_IsObject(patch)) {
        ops_err(err, errlen,
                "invalid JSON document: a strategic merge patch and the object it "
                "applies to must both be JSON objects");
        return NULL;
    }
    cJSON *out = cJSON_Duplicate(original, 1);
    if (!out) {
        ops_err(err, errlen, "out of memory");
        return NULL;
    }
    if (merge_map(&c, out, patch, kind_type(kind), 1)) {
        cJSON_Delete(out);
        if (err && errlen && !err[0]) ops_err(err, errlen, "out of memory");
        return NULL;
    }
    return out;
}
