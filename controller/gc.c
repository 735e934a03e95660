/*
 * gc.c - garbage collection by ownerReferences, as Kubernetes' garbage
 * collector: an object all of whose owners are gone is deleted; an owner
 * deleted with propagationPolicy Foreground (finalizer foregroundDeletion)
 * waits until its blocking dependents are gone; one deleted with Orphan
 * (finalizer orphan) first has its dependents' references to it removed.
 *
 * The graph (uid -> node with owners and dependents) is built from every
 * watched resource's events. An owner missing from the graph may simply not
 * have reached us yet (a pod's event can arrive before its ReplicaSet's on
 * another watch), so absence is confirmed with a live GET before anything
 * is deleted; a present owner is trusted from the cache. Owners of kinds
 * picokube does not serve are never assumed dead.
 *
 * Work items are uids with a verb: "d/<uid>" (attempt to delete, or for a
 * foreground owner, to finish) and "o/<uid>" (orphan the dependents).
 */
#include <stdlib.h>
#include <string.h>

#include "controller/ctrl_int.h"

/* An owner reference as the graph needs it; the rest (kind, name) is read
 * from the cached object when an owner must be looked up. */
struct gref {
    char *uid;
    bool block;
};

struct gnode {
    int res;   /* enum ctrl_res, or -1 for an owner only known by reference */
    char *key; /* cache key when real */
    struct gref *owners;
    size_t n_owners;
    ctrl_map_t deps; /* uids of objects naming this one as owner */
    bool deleting, fg, orphan;
};

/* Every resource whose objects may own or be owned (events are too many
 * and never owned by workloads; Leases churn and live in memory). */
static const enum ctrl_res watched[] = {
    CR_PODS,      CR_REPLICASETS, CR_RCS,        CR_DEPLOYMENTS, CR_NODES,   CR_SERVICES,
    CR_ENDPOINTS, CR_SLICES,      CR_DAEMONSETS, CR_CONFIGMAPS,  CR_SECRETS, CR_SERVICEACCOUNTS,
};
#define N_WATCHED (sizeof watched / sizeof *watched)

/* One subscription per resource, each knowing the resource it stands for. */
struct gsub {
    gc_ctrl_t *g;
    enum ctrl_res r;
};

struct gc_ctrl {
    ctrl_sess_t *s;
    api_workqueue_t *q;
    ctrl_map_t nodes; /* uid -> struct gnode */
    metrics_counter_t *deleted;
    struct gsub subs[N_WATCHED];
};

/* ------------------------------------------------------------- decision */

enum gc_verdict gc_decide(const cJSON *item, const enum gc_owner_state *states, size_t n,
                          bool has_dependents, const char **policy)
{
    size_t solid = 0, dangling = 0, waiting = 0;
    for (size_t i = 0; i < n; i++) {
        if (states[i] == GC_OWNER_SOLID)
            solid++;
        else if (states[i] == GC_OWNER_DANGLING)
            dangling++;
        else
            waiting++;
    }
    *policy = NULL;
    if (n == 0) return GC_KEEP;
    if (solid) return dangling + waiting ? GC_REMOVE_REFS : GC_KEEP;
    /* An owner deleted in the foreground waits for this item: its own
     * dependents must go first, so the item goes in the foreground too. */
    if (waiting && has_dependents)
        *policy = "Foreground";
    else if (api_meta_has_finalizer(item, "orphan"))
        *policy = "Orphan";
    else if (api_meta_has_finalizer(item, "foregroundDeletion"))
        *policy = "Foreground";
    else
        *policy = "Background";
    return GC_DELETE;
}

/* ---------------------------------------------------------------- graph */

static void refs_free(struct gref *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(r[i].uid);
    free(r);
}

static void node_free(void *v)
{
    struct gnode *n = v;
    if (!n) return;
    free(n->key);
    refs_free(n->owners, n->n_owners);
    cm_clear(&n->deps, NULL);
    free(n);
}

static struct gnode *node_get(gc_ctrl_t *g, const char *uid)
{
    struct gnode *n = cm_get(&g->nodes, uid);
    if (!n) {
        n = cx_calloc(1, sizeof(*n));
        n->res = -1;
        cm_put(&g->nodes, uid, n);
    }
    return n;
}

/* A node known only as someone's owner goes when nobody names it. */
static void node_maybe_drop(gc_ctrl_t *g, const char *uid)
{
    struct gnode *n = cm_get(&g->nodes, uid);
    if (n && n->res < 0 && !n->deps.n) node_free(cm_del(&g->nodes, uid));
}

static void enqueue(gc_ctrl_t *g, char verb, const char *uid)
{
    char *k = cx_printf("%c/%s", verb, uid);
    api_workqueue_add(g->q, k);
    free(k);
}

static bool has_ref(const struct gref *r, size_t n, const char *uid)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(r[i].uid, uid)) return true;
    return false;
}

static void upsert(gc_ctrl_t *g, enum ctrl_res r, const cJSON *obj)
{
    const char *uid = api_meta_uid(obj);
    char *key = api_object_key(obj);
    if (!uid || !key) {
        free(key);
        return;
    }
    struct gnode *n = node_get(g, uid);
    n->res = (int)r;
    free(n->key);
    n->key = key;
    n->deleting = api_meta_deletion_timestamp(obj) != NULL;
    n->fg = api_meta_has_finalizer(obj, "foregroundDeletion");
    n->orphan = api_meta_has_finalizer(obj, "orphan");

    size_t nn = 0;
    struct gref *now = NULL;
    const cJSON *ref;
    cJSON_ArrayForEach(ref, api_meta_owner_refs(obj))
    {
        const char *ou = cj_str(ref, "uid");
        if (!ou || has_ref(now, nn, ou)) continue;
        now = cx_realloc(now, (nn + 1) * sizeof(*now));
        now[nn].uid = cx_strdup(ou);
        now[nn].block = cj_true(ref, "blockOwnerDeletion");
        nn++;
    }
    bool verify = false;
    for (size_t i = 0; i < n->n_owners; i++) {
        const char *ou = n->owners[i].uid;
        bool kept = false;
        for (size_t j = 0; j < nn; j++)
            if (!strcmp(now[j].uid, ou)) kept = now[j].block || !n->owners[i].block;
        if (kept) continue;
        /* A reference removed (or no longer blocking) may unblock an owner
         * that waits in the foreground. */
        struct gnode *o = cm_get(&g->nodes, ou);
        if (o && o->deleting && o->fg) enqueue(g, 'd', ou);
        if (!has_ref(now, nn, ou) && o) {
            cm_del(&o->deps, uid);
            node_maybe_drop(g, ou);
        }
    }
    for (size_t j = 0; j < nn; j++) {
        struct gnode *o = node_get(g, now[j].uid);
        cm_put(&o->deps, uid, NULL);
        if (o->res < 0)
            verify = true;
        else if (o->deleting && o->fg)
            verify = true;
    }
    refs_free(n->owners, n->n_owners);
    n->owners = now;
    n->n_owners = nn;
    if (verify) enqueue(g, 'd', uid);
    if (n->deleting && n->orphan) enqueue(g, 'o', uid);
    if (n->deleting && n->fg) {
        enqueue(g, 'd', uid);
        size_t nd;
        const char **deps = cm_keys(&n->deps, &nd);
        for (size_t i = 0; i < nd; i++)
            enqueue(g, 'd', deps[i]);
        free(deps);
    }
}

static void removed(gc_ctrl_t *g, const cJSON *obj)
{
    const char *uid = api_meta_uid(obj);
    struct gnode *n = uid ? cm_get(&g->nodes, uid) : NULL;
    if (!n) return;
    for (size_t i = 0; i < n->n_owners; i++) {
        struct gnode *o = cm_get(&g->nodes, n->owners[i].uid);
        if (!o) continue;
        cm_del(&o->deps, uid);
        if (o->deleting && o->fg) enqueue(g, 'd', n->owners[i].uid);
        node_maybe_drop(g, n->owners[i].uid);
    }
    refs_free(n->owners, n->n_owners);
    n->owners = NULL;
    n->n_owners = 0;
    size_t nd;
    const char **deps = cm_keys(&n->deps, &nd);
    for (size_t i = 0; i < nd; i++)
        enqueue(g, 'd', deps[i]);
    free(deps);
    /* Dependents still name it: keep it as a reference-only node. */
    n->res = -1;
    free(n->key);
    n->key = NULL;
    n->deleting = n->fg = n->orphan = false;
    node_maybe_drop(g, uid);
}

static void on_add(const cJSON *obj, void *data)
{
    struct gsub *sub = data;
    upsert(sub->g, sub->r, obj);
}

static void on_update(const cJSON *old, const cJSON *cur, void *data)
{
    (void)old;
    on_add(cur, data);
}

static void on_delete(const cJSON *obj, void *data)
{
    struct gsub *sub = data;
    removed(sub->g, obj);
}

/* ---------------------------------------------------------------- work */

struct gwork {
    gc_ctrl_t *g;
    char *qkey; /* the work queue key */
    char *uid;
    enum ctrl_res res;
    char *ns, *name;
    cJSON *item; /* a copy of the cached object */
    enum gc_owner_state *states;
    size_t n;
    bool has_deps;
    int phase;
};

struct owner_check {
    struct gwork *w;
    size_t i;
};

static void work_free(struct gwork *w)
{
    free(w->qkey);
    free(w->uid);
    free(w->ns);
    free(w->name);
    cJSON_Delete(w->item);
    free(w->states);
    free(w);
}

static void finish(int failures, const char *err, void *data)
{
    struct gwork *w = data;
    gc_ctrl_t *g = w->g;
    if (!g->s->stopping) {
        api_workqueue_done(g->q, w->qkey);
        if (failures) {
            log_info(CTRL_COMP, "garbage collector: %s: %s; retrying", w->qkey, err);
            api_workqueue_add_rate_limited(g->q, w->qkey);
        } else {
            api_workqueue_forget(g->q, w->qkey);
        }
    }
    work_free(w);
}

static cJSON *remove_refs_patch(const struct gnode *n, const enum gc_owner_state *st)
{
    cJSON *refs = cj_new_arr();
    for (size_t i = 0; i < n->n_owners; i++) {
        if (st && st[i] == GC_OWNER_SOLID) continue;
        cJSON *r = cj_new_obj();
        cj_set_str(r, "$patch", "delete");
        cj_set_str(r, "uid", n->owners[i].uid);
        cj_push(refs, r);
    }
    cJSON *p = cj_new_obj();
    cj_set(cj_obj(p, "metadata"), "ownerReferences", refs);
    return p;
}

static cJSON *remove_finalizer_patch(const char *fin)
{
    cJSON *p = cj_new_obj();
    cJSON *arr = cj_new_arr();
    cj_push(arr, cJSON_CreateString(fin));
    cj_set(cj_obj(p, "metadata"), "$deleteFromPrimitiveList/finalizers", arr);
    return p;
}

/* With every owner's state known: act on the decision. */
static void decide(int failures, const char *err, void *data)
{
    struct gwork *w = data;
    gc_ctrl_t *g = w->g;
    if (failures || g->s->stopping) {
        finish(failures, err, w);
        return;
    }
    struct gnode *n = cm_get(&g->nodes, w->uid);
    if (!n || n->res < 0 || n->n_owners != w->n) {
        /* The graph moved while owners were checked: look again. */
        if (n) enqueue(g, 'd', w->uid);
        finish(0, "", w);
        return;
    }
    const char *policy;
    enum gc_verdict v = gc_decide(w->item, w->states, w->n, w->has_deps, &policy);
    ctrl_batch_t *b = ctrl_batch_new(g->s, finish, w);
    api_ref_t ref = ctrl_ref(w->res, w->ns, w->name, NULL);
    if (v == GC_REMOVE_REFS) {
        cJSON *p = remove_refs_patch(n, w->states);
        ctrl_batch_patch(b, &ref, API_PATCH_STRATEGIC, p, NULL, NULL);
        cJSON_Delete(p);
    } else if (v == GC_DELETE) {
        log_info(CTRL_COMP, "garbage collector: deleting %s %s%s%s (%s)",
                 ctrl_res_info(w->res)->kind, w->ns ? w->ns : "", w->ns ? "/" : "", w->name,
                 policy);
        metrics_counter_add(g->deleted, 1);
        ctrl_batch_delete(b, &ref, w->uid, policy, -1, NULL, NULL);
    }
    ctrl_batch_seal(b);
}

static bool on_owner(api_result_t *res, void *arg)
{
    struct owner_check *oc = arg;
    struct gwork *w = oc->w;
    size_t i = oc->i;
    free(oc);
    if (w->g->s->stopping) return false;
    struct gnode *n = cm_get(&w->g->nodes, w->uid);
    const char *want = n && i < n->n_owners ? n->owners[i].uid : "";
    if (res->err == 0 && res->status == 404) {
        w->states[i] = GC_OWNER_DANGLING;
        return true;
    }
    if (!api_result_ok(res) || !res->obj) return false;
    if (strcmp(cj_str0(res->obj, "metadata.uid"), want))
        w->states[i] = GC_OWNER_DANGLING;
    else if (api_meta_deletion_timestamp(res->obj) &&
             api_meta_has_finalizer(res->obj, "foregroundDeletion"))
        w->states[i] = GC_OWNER_WAITING;
    else
        w->states[i] = GC_OWNER_SOLID;
    return true;
}

static bool real_dependents(gc_ctrl_t *g, const struct gnode *n)
{
    size_t nd;
    const char **deps = cm_keys(&n->deps, &nd);
    bool any = false;
    for (size_t i = 0; i < nd && !any; i++) {
        const struct gnode *d = cm_get(&g->nodes, deps[i]);
        any = d && d->res >= 0;
    }
    free(deps);
    return any;
}

/* An owner deleting in the foreground: done once no dependent blocks it. */
static void finish_foreground(gc_ctrl_t *g, struct gwork *w, struct gnode *n)
{
    size_t nd;
    const char **deps = cm_keys(&n->deps, &nd);
    bool blocked = false;
    for (size_t i = 0; i < nd; i++) {
        const struct gnode *d = cm_get(&g->nodes, deps[i]);
        if (!d || d->res < 0) continue;
        for (size_t j = 0; j < d->n_owners; j++) {
            if (strcmp(d->owners[j].uid, w->uid) || !d->owners[j].block) continue;
            blocked = true;
            if (!d->deleting) enqueue(g, 'd', deps[i]);
        }
    }
    free(deps);
    ctrl_batch_t *b = ctrl_batch_new(g->s, finish, w);
    if (!blocked) {
        cJSON *p = remove_finalizer_patch("foregroundDeletion");
        api_ref_t ref = ctrl_ref(w->res, w->ns, w->name, NULL);
        ctrl_batch_patch(b, &ref, API_PATCH_STRATEGIC, p, NULL, NULL);
        cJSON_Delete(p);
    }
    ctrl_batch_seal(b);
}

static void attempt_delete(gc_ctrl_t *g, struct gwork *w, struct gnode *n)
{
    if (n->deleting && !n->fg) {
        finish(0, "", w);
        return;
    }
    if (n->deleting && n->fg) {
        finish_foreground(g, w, n);
        return;
    }
    if (!n->n_owners) {
        finish(0, "", w);
        return;
    }
    w->n = n->n_owners;
    w->states = cx_calloc(w->n, sizeof(*w->states));
    w->has_deps = real_dependents(g, n);
    ctrl_batch_t *b = ctrl_batch_new(g->s, decide, w);
    for (size_t i = 0; i < n->n_owners; i++) {
        const struct gref *o = &n->owners[i];
        const struct gnode *on = cm_get(&g->nodes, o->uid);
        if (on && on->res >= 0) {
            w->states[i] = on->deleting && on->fg ? GC_OWNER_WAITING : GC_OWNER_SOLID;
            continue;
        }
        const cJSON *oref = NULL, *x;
        cJSON_ArrayForEach(x, api_meta_owner_refs(w->item))
        {
            if (!strcmp(cj_str0(x, "uid"), o->uid)) oref = x;
        }
        const api_resource_t *r =
            oref ? api_resource_by_gvk(cj_str(oref, "apiVersion"), cj_str(oref, "kind")) : NULL;
        if (!r) {
            /* A kind we do not serve: never take its absence for granted. */
            w->states[i] = GC_OWNER_SOLID;
            continue;
        }
        api_ref_t ref = {0};
        ref.group = r->group;
        ref.version = r->version;
        ref.resource = r->resource;
        ref.ns = r->namespaced ? w->ns : NULL;
        ref.name = cj_str(oref, "name");
        if (r->namespaced && !w->ns) {
            w->states[i] = GC_OWNER_DANGLING; /* a cluster-scoped object cannot have one */
            continue;
        }
        struct owner_check *oc = cx_calloc(1, sizeof(*oc));
        oc->w = w;
        oc->i = i;
        ctrl_batch_get(b, &ref, on_owner, oc);
    }
    ctrl_batch_seal(b);
}

static void attempt_orphan(gc_ctrl_t *g, struct gwork *w, struct gnode *n)
{
    if (!n->deleting || !n->orphan) {
        finish(0, "", w);
        return;
    }
    w->phase = 1;
    ctrl_batch_t *b = ctrl_batch_new(g->s, finish, w);
    size_t nd;
    const char **deps = cm_keys(&n->deps, &nd);
    int patches = 0;
    for (size_t i = 0; i < nd; i++) {
        const struct gnode *d = cm_get(&g->nodes, deps[i]);
        if (!d || d->res < 0) continue;
        char ns[256], name[256];
        ctrl_split_key(d->key, ns, sizeof ns, name, sizeof name);
        cJSON *refs = cj_new_arr(), *r = cj_new_obj();
        cj_set_str(r, "$patch", "delete");
        cj_set_str(r, "uid", w->uid);
        cj_push(refs, r);
        cJSON *p = cj_new_obj();
        cj_set(cj_obj(p, "metadata"), "ownerReferences", refs);
        api_ref_t ref = ctrl_ref((enum ctrl_res)d->res, ns, name, NULL);
        ctrl_batch_patch(b, &ref, API_PATCH_STRATEGIC, p, NULL, NULL);
        cJSON_Delete(p);
        patches++;
    }
    free(deps);
    /* Dependents first; the finalizer only once none names the owner any
     * more (the next round, when the patches have been seen). */
    if (!patches) {
        cJSON *p = remove_finalizer_patch("orphan");
        api_ref_t ref = ctrl_ref(w->res, w->ns, w->name, NULL);
        ctrl_batch_patch(b, &ref, API_PATCH_STRATEGIC, p, NULL, NULL);
        cJSON_Delete(p);
    } else {
        enqueue(g, 'o', w->uid);
    }
    ctrl_batch_seal(b);
}

static void reconcile(api_workqueue_t *q, const char *key, void *data)
{
    gc_ctrl_t *g = data;
    if (ctrl_defer_unsynced(g->s, q, key)) return;
    const char *uid = key + 2;
    struct gnode *n = cm_get(&g->nodes, uid);
    const cJSON *obj = n && n->res >= 0 ? ctrl_get_key(g->s, (enum ctrl_res)n->res, n->key) : NULL;
    if (!obj) {
        api_workqueue_forget(q, key);
        api_workqueue_done(q, key);
        return;
    }
    struct gwork *w = cx_calloc(1, sizeof(*w));
    w->g = g;
    w->qkey = cx_strdup(key);
    w->uid = cx_strdup(uid);
    w->res = (enum ctrl_res)n->res;
    w->item = cx_dup(obj);
    const char *ns = api_meta_namespace(obj);
    w->ns = ns && *ns ? cx_strdup(ns) : NULL;
    w->name = cx_strdup(api_meta_name(obj));
    if (key[0] == 'o')
        attempt_orphan(g, w, n);
    else
        attempt_delete(g, w, n);
}

/* ------------------------------------------------------------ lifecycle */

gc_ctrl_t *gc_new(ctrl_sess_t *s)
{
    gc_ctrl_t *g = cx_calloc(1, sizeof(*g));
    g->s = s;
    g->q = ctrl_queue_new(s, reconcile, g);
    g->deleted = metrics_counter("picokube_controller_gc_deleted_total",
                                 "Objects deleted by the garbage collector.", NULL);
    struct gsub *subs = g->subs;
    for (size_t i = 0; i < N_WATCHED; i++) {
        subs[i].g = g;
        subs[i].r = watched[i];
        ctrl_sub_t sub = {on_add, on_update, on_delete, &subs[i]};
        ctrl_subscribe(s, watched[i], &sub);
    }
    return g;
}

void gc_free(gc_ctrl_t *g)
{
    if (!g) return;
    api_workqueue_free(g->q);
    cm_clear(&g->nodes, node_free);
    free(g);
}
