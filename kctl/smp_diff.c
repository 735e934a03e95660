/*
 * smp_diff.c - the three-way strategic merge patch `kubectl apply` sends,
 * computed as k8s.io/apimachinery's strategicpatch.CreateThreeWayMergePatch
 * computes it: the changes and additions from the live object to the new
 * manifest, plus the deletions from the last-applied configuration to the
 * new manifest (fields the user removed, never fields others set), with
 * $setElementOrder lists and $patch: delete / $deleteFromPrimitiveList
 * directives for merging lists. The API server applies it (api_smp_apply).
 *
 * Merge keys are those of the built-in kinds' Go struct tags; api/smp.c
 * keeps the same table for the applying side, which is private to api/, so
 * the few list fields kubectl's diff needs are named here again.
 */
#include <stdlib.h>
#include <string.h>

#include "kctl/kctl_int.h"

#define SET_ORDER "$setElementOrder/"
#define DELETE_FROM "$deleteFromPrimitiveList/"

struct dctx {
    const char *kind;
    bool known; /* a built-in kind: lists may merge */
    char *err;
    size_t errlen;
    bool failed;
};

static bool is_container_list(const char *s)
{
    return s && (!strcmp(s, "containers") || !strcmp(s, "initContainers") ||
                 !strcmp(s, "ephemeralContainers"));
}

/* Whether list `field` (inside `parent`) merges; *key is its merge key,
 * NULL for lists of scalars merged as sets. */
static bool merge_list(const struct dctx *c, const char *parent, const char *field,
                       const char **key)
{
    *key = NULL;
    if (!c->known || !field) return false;
    static const struct {
        const char *parent, *field, *key;
    } t[] = {
        {"spec", "containers", "name"},
        {"spec", "initContainers", "name"},
        {"spec", "ephemeralContainers", "name"},
        {"spec", "volumes", "name"},
        {"spec", "imagePullSecrets", "name"},
        {"spec", "hostAliases", "ip"},
        {"spec", "topologySpreadConstraints", "topologyKey"},
        {"spec", "schedulingGates", "name"},
        {"spec", "resourceClaims", "name"},
        {"metadata", "ownerReferences", "uid"},
        {"status", "conditions", "type"},
        {"status", "podIPs", "ip"},
        {"status", "hostIPs", "ip"},
    };
    if (is_container_list(parent)) {
        if (!strcmp(field, "ports")) return *key = "containerPort", true;
        if (!strcmp(field, "env")) return *key = "name", true;
        if (!strcmp(field, "volumeMounts")) return *key = "mountPath", true;
        if (!strcmp(field, "volumeDevices")) return *key = "devicePath", true;
        return false;
    }
    if (parent && !strcmp(parent, "metadata") && !strcmp(field, "finalizers")) return true;
    if (!strcmp(c->kind, "Service") && parent && !strcmp(parent, "spec") && !strcmp(field, "ports"))
        return *key = "port", true;
    if (!strcmp(c->kind, "Node") && parent && !strcmp(parent, "spec") && !strcmp(field, "podCIDRs"))
        return true;
    if (!strcmp(c->kind, "Node") && parent && !strcmp(parent, "status") &&
        !strcmp(field, "addresses"))
        return *key = "type", true;
    if (!strcmp(c->kind, "ServiceAccount") && !parent && !strcmp(field, "secrets"))
        return *key = "name", true;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (parent && !strcmp(t[i].parent, parent) && !strcmp(t[i].field, field))
            return *key = t[i].key, true;
    return false;
}

enum { IGNORE_DELETIONS = 1, IGNORE_CHANGES = 2 };

static cJSON *diff_maps(struct dctx *c, const cJSON *orig, const cJSON *mod, const char *parent,
                        int opts);

static const cJSON *find_by_key(const cJSON *list, const char *key, const cJSON *val)
{
    for (const cJSON *it = list ? list->child : NULL; it; it = it->next)
        if (cJSON_Compare(cJSON_GetObjectItemCaseSensitive(it, key), val, true)) return it;
    return NULL;
}

static bool contains(const cJSON *list, const cJSON *v)
{
    for (const cJSON *it = list ? list->child : NULL; it; it = it->next)
        if (cJSON_Compare(it, v, true)) return true;
    return false;
}

static bool need_key(struct dctx *c, const cJSON *item, const char *key, const char *field)
{
    if (cJSON_IsObject(item) && cJSON_GetObjectItemCaseSensitive(item, key)) return true;
    if (!c->failed)
        snprintf(c->err, c->errlen, "map: %s does not contain declared merge key: %s (in %s)",
                 cJSON_IsObject(item) ? "an item" : "a non-object item", key, field);
    c->failed = true;
    return false;
}

/* One merging list: adds to patch field, $setElementOrder/field and
 * $deleteFromPrimitiveList/field as kubectl's diffLists does. */
static void diff_list(struct dctx *c, cJSON *patch, const char *field, const cJSON *orig,
                      const cJSON *mod, const char *key, int opts)
{
    cJSON *plist = cJSON_CreateArray(), *dlist = cJSON_CreateArray();
    bool add_order = false;
    if (key) {
        for (const cJSON *m = mod->child; m; m = m->next) {
            if (!need_key(c, m, key, field)) goto out;
            const cJSON *mv = cJSON_GetObjectItemCaseSensitive(m, key);
            const cJSON *o = find_by_key(orig, key, mv);
            if (o) {
                cJSON *sub = diff_maps(c, o, m, field, opts);
                if (sub && sub->child) {
                    cJSON_AddItemToObject(sub, key, cJSON_Duplicate(mv, true));
                    cJSON_AddItemToArray(plist, sub);
                } else
                    cJSON_Delete(sub);
            } else if (!(opts & IGNORE_CHANGES))
                cJSON_AddItemToArray(plist, cJSON_Duplicate(m, true));
        }
        if (!(opts & IGNORE_DELETIONS))
            for (const cJSON *o = orig->child; o; o = o->next) {
                if (!need_key(c, o, key, field)) goto out;
                const cJSON *ov = cJSON_GetObjectItemCaseSensitive(o, key);
                if (find_by_key(mod, key, ov)) continue;
                cJSON *d = cJSON_CreateObject();
                cJSON_AddItemToObject(d, key, cJSON_Duplicate(ov, true));
                cJSON_AddStringToObject(d, "$patch", "delete");
                cJSON_AddItemToArray(plist, d);
            }
        bool order_same = cJSON_GetArraySize(orig) == cJSON_GetArraySize(mod);
        for (int i = 0; order_same && i < cJSON_GetArraySize(mod); i++)
            order_same = cJSON_Compare(
                cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(orig, i), key),
                cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(mod, i), key), true);
        bool changes = plist->child != NULL;
        add_order = (!(opts & IGNORE_CHANGES) && (changes || !order_same)) ||
                    (!(opts & IGNORE_DELETIONS) && changes);
    } else {
        if (!(opts & IGNORE_CHANGES))
            for (const cJSON *m = mod->child; m; m = m->next)
                if (!contains(orig, m)) cJSON_AddItemToArray(plist, cJSON_Duplicate(m, true));
        if (!(opts & IGNORE_DELETIONS))
            for (const cJSON *o = orig->child; o; o = o->next)
                if (!contains(mod, o)) cJSON_AddItemToArray(dlist, cJSON_Duplicate(o, true));
        add_order = (!(opts & IGNORE_DELETIONS) && dlist->child) ||
                    (!(opts & IGNORE_CHANGES) && !cJSON_Compare(orig, mod, true));
    }
    char name[300];
    if (plist->child) {
        cJSON_AddItemToObject(patch, field, plist);
        plist = NULL;
    }
    if (dlist->child) {
        snprintf(name, sizeof name, DELETE_FROM "%s", field);
        cJSON_AddItemToObject(patch, name, dlist);
        dlist = NULL;
    }
    if (add_order && mod->child) {
        cJSON *order = cJSON_CreateArray();
        for (const cJSON *m = mod->child; m; m = m->next) {
            if (key) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddItemToObject(
                    o, key, cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(m, key), true));
                cJSON_AddItemToArray(order, o);
            } else
                cJSON_AddItemToArray(order, cJSON_Duplicate(m, true));
        }
        snprintf(name, sizeof name, SET_ORDER "%s", field);
        cJSON_AddItemToObject(patch, name, order);
    }
out:
    cJSON_Delete(plist);
    cJSON_Delete(dlist);
}

static bool same_type(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsBool(a) && cJSON_IsBool(b)) return true;
    return (a->type & 0xff) == (b->type & 0xff);
}

static cJSON *diff_maps(struct dctx *c, const cJSON *orig, const cJSON *mod, const char *parent,
                        int opts)
{
    cJSON *patch = cJSON_CreateObject();
    if (!patch) return NULL;
    for (const cJSON *m = mod->child; m && !c->failed; m = m->next) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(orig, m->string);
        if (!o || !same_type(o, m)) {
            if (!(opts & IGNORE_CHANGES))
                cJSON_AddItemToObject(patch, m->string, cJSON_Duplicate(m, true));
            continue;
        }
        const char *key;
        if (cJSON_IsObject(m)) {
            cJSON *sub = diff_maps(c, o, m, m->string, opts);
            if (sub && sub->child)
                cJSON_AddItemToObject(patch, m->string, sub);
            else
                cJSON_Delete(sub);
        } else if (cJSON_IsArray(m) && merge_list(c, parent, m->string, &key)) {
            diff_list(c, patch, m->string, o, m, key, opts);
        } else if (!cJSON_Compare(o, m, true) && !(opts & IGNORE_CHANGES)) {
            cJSON_AddItemToObject(patch, m->string, cJSON_Duplicate(m, true));
        }
    }
    if (!(opts & IGNORE_DELETIONS))
        for (const cJSON *o = orig->child; o; o = o->next)
            if (!cJSON_GetObjectItemCaseSensitive(mod, o->string))
                cJSON_AddNullToObject(patch, o->string);
    return patch;
}

/* Merges the additions into the deletions, as mergeMap does with
 * MergeParallelList off: maps merge, merging lists take both halves
 * (deletion directives first), anything else is the additions' value. */
static void merge_into(struct dctx *c, cJSON *dst, const cJSON *src, const char *parent)
{
    for (const cJSON *s = src->child; s; s = s->next) {
        cJSON *d = cJSON_GetObjectItemCaseSensitive(dst, s->string);
        const char *key;
        if (d && cJSON_IsObject(d) && cJSON_IsObject(s)) {
            merge_into(c, d, s, s->string);
        } else if (d && cJSON_IsArray(d) && cJSON_IsArray(s) &&
                   merge_list(c, parent, s->string, &key) && key) {
            /* an item changed and partly removed merges into one entry */
            for (const cJSON *it = s->child; it; it = it->next) {
                cJSON *same =
                    (cJSON *)find_by_key(d, key, cJSON_GetObjectItemCaseSensitive(it, key));
                if (same && cJSON_IsObject(same) && cJSON_IsObject(it))
                    merge_into(c, same, it, s->string);
                else
                    cJSON_AddItemToArray(d, cJSON_Duplicate(it, true));
            }
        } else {
            cJSON_DeleteItemFromObjectCaseSensitive(dst, s->string);
            cJSON_AddItemToObject(dst, s->string, cJSON_Duplicate(s, true));
        }
    }
}

cJSON *kctl_smp_three_way(const cJSON *original, const cJSON *modified, const cJSON *current,
                          const char *kind, char *err, size_t errlen)
{
    struct dctx c = {
        .kind = kind ? kind : "", .known = api_smp_kind_known(kind), .err = err, .errlen = errlen};
    cJSON *empty = cJSON_CreateObject();
    cJSON *delta = diff_maps(&c, current ? current : empty, modified, NULL, IGNORE_DELETIONS);
    cJSON *dels = diff_maps(&c, original ? original : empty, modified, NULL, IGNORE_CHANGES);
    cJSON_Delete(empty);
    if (!delta || !dels || c.failed) {
        if (!c.failed) snprintf(err, errlen, "out of memory");
        cJSON_Delete(delta);
        cJSON_Delete(dels);
        return NULL;
    }
    merge_into(&c, dels, delta, NULL);
    cJSON_Delete(delta);
    return dels;
}
