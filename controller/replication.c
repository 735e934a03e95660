/*
 * replication.c - the ReplicaSet and ReplicationController loop (one
 * implementation, two instances): events to keys, and the thin layer that
 * turns replica_logic.c's decisions into API calls.
 *
 * One sync of a key: claim pods (adopt matching orphans, release owned pods
 * the selector no longer matches), create or delete pods when expectations
 * allow it, and write the status if it changed. Creations go in slow-start
 * batches (1, 2, 4 ...) as Kubernetes does, so a quota or a broken
 * template costs one failed call rather than 500; creations skipped after a
 * failure are taken off the expectations so the next sync retries them.
 */
#include <stdlib.h>
#include <string.h>

#include "controller/ctrl_int.h"

/* Kubernetes' ExpectationsTimeout. */
#define EXPECT_TIMEOUT_MS (5 * 60 * 1000)

struct repl_ctrl {
    ctrl_sess_t *s;
    const struct repl_kind *k;
    api_workqueue_t *q;
    ctrl_expect_t *exp;
    ctrl_map_t failures; /* key -> the last create failure (ReplicaFailure) */
    metrics_counter_t *created, *deleted;
};

/* One sync in flight. */
struct rsync {
    repl_ctrl_t *r;
    char *key, *ns;
    cJSON *pod; /* what to create */
    int remaining, batch;
    int create_failures;
    char create_err[256];
    uint64_t requeue_ms;
};

struct del_arg {
    struct rsync *y;
    char *pod_key;
};

/* ------------------------------------------------------------ events */

static bool ref_is_ours(const repl_ctrl_t *r, const cJSON *ref)
{
    return ref && !strcmp(cj_str0(ref, "kind"), r->k->kind);
}

/* The key of the controller of pod, if it is one of ours and cached. */
static char *controller_key(repl_ctrl_t *r, const cJSON *pod)
{
    const cJSON *ref = api_meta_controller_ref(pod);
    if (!ref_is_ours(r, ref)) return NULL;
    const cJSON *rs = ctrl_get(r->s, r->k->res, api_meta_namespace(pod), cj_str(ref, "name"));
    if (!rs || strcmp(cj_str0(rs, "metadata.uid"), cj_str0(ref, "uid"))) return NULL;
    return api_object_key(rs);
}

struct match_arg {
    repl_ctrl_t *r;
    const cJSON *pod;
};

static bool enqueue_if_matches(const char *key, const cJSON *rs, void *arg)
{
    struct match_arg *m = arg;
    if (strcmp(cj_str0(rs, "metadata.namespace"), cj_str0(m->pod, "metadata.namespace")))
        return true;
    api_selector_t *sel = cx_selector(rs, m->r->k->map_selector);
    if (sel && api_selector_matches(sel, api_meta_labels(m->pod))) api_workqueue_add(m->r->q, key);
    api_selector_free(sel);
    return true;
}

/* An orphan changed: every controller that may adopt it looks again. */
static void enqueue_matching(repl_ctrl_t *r, const cJSON *pod)
{
    struct match_arg m = {r, pod};
    ctrl_each(r->s, r->k->res, enqueue_if_matches, &m);
}

static void pod_deleted(repl_ctrl_t *r, const cJSON *pod)
{
    char *key = controller_key(r, pod);
    if (!key) return;
    char *pk = api_object_key(pod);
    if (pk) ctrl_expect_deletion_observed(r->exp, key, pk);
    free(pk);
    api_workqueue_add(r->q, key);
    free(key);
}

static void on_pod_add(const cJSON *pod, void *data)
{
    repl_ctrl_t *r = data;
    if (cx_pod_deleting(pod)) {
        pod_deleted(r, pod);
        return;
    }
    char *key = controller_key(r, pod);
    if (key) {
        ctrl_expect_creation_observed(r->exp, key);
        api_workqueue_add(r->q, key);
        free(key);
        return;
    }
    if (!api_meta_controller_ref(pod)) enqueue_matching(r, pod);
}

static void on_pod_update(const cJSON *old, const cJSON *cur, void *data)
{
    repl_ctrl_t *r = data;
    bool labels_changed = !cJSON_Compare(api_meta_labels(old), api_meta_labels(cur), true);
    if (cx_pod_deleting(cur)) {
        pod_deleted(r, cur);
        if (labels_changed) pod_deleted(r, old);
        return;
    }
    char *ok = controller_key(r, old), *nk = controller_key(r, cur);
    if (ok && (!nk || strcmp(ok, nk))) api_workqueue_add(r->q, ok);
    if (nk)
        api_workqueue_add(r->q, nk);
    else if (!api_meta_controller_ref(cur) && (labels_changed || api_meta_controller_ref(old)))
        enqueue_matching(r, cur);
    free(ok);
    free(nk);
}

static void on_pod_delete(const cJSON *pod, void *data)
{
    pod_deleted(data, pod);
}

static void on_rs_add(const cJSON *rs, void *data)
{
    repl_ctrl_t *r = data;
    char *key = api_object_key(rs);
    if (key) api_workqueue_add(r->q, key);
    free(key);
}

static void on_rs_update(const cJSON *old, const cJSON *cur, void *data)
{
    (void)old;
    on_rs_add(cur, data);
}

static void on_rs_delete(const cJSON *rs, void *data)
{
    repl_ctrl_t *r = data;
    char *key = api_object_key(rs);
    if (!key) return;
    ctrl_expect_delete(r->exp, key);
    free(cm_del(&r->failures, key));
    free(key);
}

/* -------------------------------------------------------------- sync */

static void rsync_free(struct rsync *y)
{
    free(y->key);
    free(y->ns);
    cJSON_Delete(y->pod);
    free(y);
}

static bool on_created(api_result_t *res, void *arg)
{
    struct rsync *y = arg;
    if (api_result_ok(res)) {
        metrics_counter_add(y->r->created, 1);
        return true;
    }
    if (!y->r->s->stopping) ctrl_expect_lower(y->r->exp, y->key, 1);
    if (!y->create_failures++)
        snprintf(y->create_err, sizeof y->create_err, "%s", res->message ? res->message : "");
    return false;
}

static bool on_deleted(api_result_t *res, void *arg)
{
    struct del_arg *d = arg;
    bool ok = api_result_ok(res) || (res->err == 0 && res->status == 404);
    if (ok) metrics_counter_add(d->y->r->deleted, 1);
    /* A delete that failed will never be observed. */
    if (!ok && !d->y->r->s->stopping)
        ctrl_expect_deletion_observed(d->y->r->exp, d->y->key, d->pod_key);
    free(d->pod_key);
    free(d);
    return ok;
}

static void batch_done(int failures, const char *err, void *data);

static void create_batch(struct rsync *y, ctrl_batch_t *b)
{
    int n = y->batch < y->remaining ? y->batch : y->remaining;
    api_ref_t ref = ctrl_ref(CR_PODS, y->ns, NULL, NULL);
    for (int i = 0; i < n; i++)
        ctrl_batch_create(b, &ref, y->pod, on_created, y);
    y->remaining -= n;
    y->batch *= 2;
}

static void batch_done(int failures, const char *err, void *data)
{
    struct rsync *y = data;
    repl_ctrl_t *r = y->r;
    if (r->s->stopping) {
        rsync_free(y);
        return;
    }
    if (!failures && y->remaining > 0) {
        ctrl_batch_t *b = ctrl_batch_new(r->s, batch_done, y);
        create_batch(y, b);
        ctrl_batch_seal(b);
        return;
    }
    if (y->remaining > 0) ctrl_expect_lower(r->exp, y->key, y->remaining);
    if (y->create_failures) {
        free(cm_put(&r->failures, y->key, cx_strdup(y->create_err)));
    } else {
        free(cm_del(&r->failures, y->key));
    }
    api_workqueue_done(r->q, y->key);
    if (failures) {
        log_info(CTRL_COMP, "%s %s: %d call(s) failed (%s); retrying", r->k->kind, y->key, failures,
                 err);
        api_workqueue_add_rate_limited(r->q, y->key);
    } else {
        api_workqueue_forget(r->q, y->key);
        if (y->requeue_ms) api_workqueue_add_after(r->q, y->key, y->requeue_ms);
    }
    rsync_free(y);
}

/* {"metadata":{"ownerReferences":[...]}} adopting or releasing a pod. */
static cJSON *owner_patch(const struct repl_kind *k, const cJSON *rs, bool adopt)
{
    cJSON *p = cj_new_obj();
    cJSON *refs = cj_new_arr();
    cJSON *ref = cj_new_obj();
    if (adopt) {
        cj_set_str(ref, "apiVersion", k->api_version);
        cj_set_str(ref, "kind", k->kind);
        cj_set_str(ref, "name", api_meta_name(rs));
        cj_set_str(ref, "uid", api_meta_uid(rs));
        cj_set_bool(ref, "controller", true);
        cj_set_bool(ref, "blockOwnerDeletion", true);
    } else {
        cj_set_str(ref, "$patch", "delete");
        cj_set_str(ref, "uid", api_meta_uid(rs));
    }
    cj_push(refs, ref);
    cj_set(cj_obj(p, "metadata"), "ownerReferences", refs);
    return p;
}

static void add_unique(const cJSON ***arr, size_t *n, const cJSON *p)
{
    for (size_t i = 0; i < *n; i++)
        if ((*arr)[i] == p) return;
    *arr = cx_realloc(*arr, (*n + 1) * sizeof(**arr));
    (*arr)[(*n)++] = p;
}

static void reconcile(api_workqueue_t *q, const char *key, void *data)
{
    repl_ctrl_t *r = data;
    ctrl_sess_t *s = r->s;
    if (ctrl_defer_unsynced(s, q, key)) return;
    const cJSON *rs = ctrl_get_key(s, r->k->res, key);
    if (!rs) {
        ctrl_expect_delete(r->exp, key);
        api_workqueue_forget(q, key);
        api_workqueue_done(q, key);
        return;
    }
    api_selector_t *sel = cx_selector(rs, r->k->map_selector);
    if (!sel) {
        log_warn(CTRL_COMP, "%s %s: invalid selector; ignored until it changes", r->k->kind, key);
        api_workqueue_done(q, key);
        return;
    }
    const char *ns = api_meta_namespace(rs);
    /* Candidates: the pods it controls and the orphans of its namespace. */
    size_t n1, n2;
    const cJSON **a = ctrl_pods_of(s, cm_set_get(&s->pods_by_owner, api_meta_uid(rs)), &n1);
    const cJSON **b = ctrl_pods_of(s, cm_set_get(&s->pods_orphans, ns), &n2);
    const cJSON **cand = cx_calloc(n1 + n2, sizeof(*cand));
    size_t nc = 0;
    for (size_t i = 0; i < n1; i++)
        if (cx_pod_active(a[i])) cand[nc++] = a[i];
    for (size_t i = 0; i < n2; i++)
        if (cx_pod_active(b[i])) cand[nc++] = b[i];
    free(a);
    free(b);
    struct repl_claim cl;
    repl_claim(rs, sel, cand, nc, &cl);
    api_selector_free(sel);
    free(cand);
    const cJSON **active = NULL;
    size_t na = 0;
    for (size_t i = 0; i < cl.n_owned; i++)
        add_unique(&active, &na, cl.owned[i]);
    for (size_t i = 0; i < cl.n_adopt; i++)
        add_unique(&active, &na, cl.adopt[i]);

    struct rsync *y = cx_calloc(1, sizeof(*y));
    y->r = r;
    y->key = cx_strdup(key);
    y->ns = cx_strdup(ns);
    y->batch = 1;
    ctrl_batch_t *bt = ctrl_batch_new(s, batch_done, y);

    for (size_t i = 0; i < cl.n_adopt + cl.n_release; i++) {
        bool adopt = i < cl.n_adopt;
        const cJSON *pod = adopt ? cl.adopt[i] : cl.release[i - cl.n_adopt];
        cJSON *p = owner_patch(r->k, rs, adopt);
        api_ref_t ref = ctrl_ref(CR_PODS, ns, api_meta_name(pod), NULL);
        ctrl_batch_patch(bt, &ref, API_PATCH_STRATEGIC, p, NULL, NULL);
        cJSON_Delete(p);
    }
    repl_claim_free(&cl);

    uint64_t now = s->now_mono(), wall = s->now_wall();
    if (ctrl_expect_satisfied(r->exp, key, now) && !api_meta_deletion_timestamp(rs)) {
        const cJSON **del = NULL;
        int64_t diff = repl_diff(rs, active, na, &del);
        if (diff > 0) {
            ctrl_expect_set(r->exp, key, (int)diff, NULL, 0, now);
            y->remaining = (int)diff;
            y->pod = repl_pod_from_template(r->k, rs);
        } else if (diff < 0) {
            size_t nd = (size_t)-diff;
            char **keys = cx_calloc(nd, sizeof(*keys));
            for (size_t i = 0; i < nd; i++)
                keys[i] = api_object_key(del[i]);
            ctrl_expect_set(r->exp, key, 0, (const char *const *)keys, nd, now);
            for (size_t i = 0; i < nd; i++) {
                struct del_arg *d = cx_calloc(1, sizeof(*d));
                d->y = y;
                d->pod_key = keys[i];
                api_ref_t ref = ctrl_ref(CR_PODS, ns, api_meta_name(del[i]), NULL);
                ctrl_batch_delete(bt, &ref, api_meta_uid(del[i]), NULL, -1, on_deleted, d);
            }
            free(keys);
        }
        free(del);
    }

    cJSON *st = repl_status(rs, active, na, wall, cm_get(&r->failures, key));
    if (!repl_status_equal(cj_get(rs, "status"), st)) {
        cJSON *patch = cj_new_obj();
        cj_set(patch, "status", st);
        api_ref_t ref = ctrl_ref(r->k->res, ns, api_meta_name(rs), "status");
        ctrl_batch_patch(bt, &ref, API_PATCH_MERGE, patch, NULL, NULL);
        cJSON_Delete(patch);
    } else {
        cJSON_Delete(st);
    }
    y->requeue_ms = repl_next_available(rs, active, na, wall);
    free(active);
    if (y->remaining > 0) create_batch(y, bt);
    ctrl_batch_seal(bt);
}

repl_ctrl_t *repl_new(ctrl_sess_t *s, const struct repl_kind *k)
{
    repl_ctrl_t *r = cx_calloc(1, sizeof(*r));
    r->s = s;
    r->k = k;
    r->exp = ctrl_expect_new(EXPECT_TIMEOUT_MS);
    r->q = ctrl_queue_new(s, reconcile, r);
    char labels[64];
    snprintf(labels, sizeof labels, "kind=\"%s\"", k->kind);
    r->created = metrics_counter("picokube_controller_pods_created_total",
                                 "Pods created by the replication controllers.", labels);
    r->deleted = metrics_counter("picokube_controller_pods_deleted_total",
                                 "Pods deleted by the replication controllers.", labels);
    ctrl_sub_t pods = {on_pod_add, on_pod_update, on_pod_delete, r};
    ctrl_sub_t own = {on_rs_add, on_rs_update, on_rs_delete, r};
    ctrl_subscribe(s, CR_PODS, &pods);
    ctrl_subscribe(s, k->res, &own);
    return r;
}

static void free_str(void *v)
{
    free(v);
}

void repl_free(repl_ctrl_t *r)
{
    if (!r) return;
    api_workqueue_free(r->q);
    ctrl_expect_free(r->exp);
    cm_clear(&r->failures, free_str);
    free(r);
}
