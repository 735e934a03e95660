/*
 * deployment.c - the Deployment loop: events to keys, and the thin layer
 * that carries out deployment_logic.c's plan in Kubernetes' order:
 *   1. adopt / release ReplicaSets and create the new one;
 *   2. scale ReplicaSets (and bring their annotations up to date), delete
 *      the ones beyond revisionHistoryLimit;
 *   3. the deployment's revision annotation, then its status.
 * A step runs only when the one before it fully succeeded, so the status
 * never claims what the ReplicaSets do not show; any failure retries the
 * whole sync with backoff (every step is idempotent).
 */
#include <stdlib.h>
#include <string.h>

#include "controller/ctrl_int.h"

struct dep_ctrl {
    ctrl_sess_t *s;
    api_workqueue_t *q;
};

struct dsync {
    dep_ctrl_t *dc;
    char *key, *ns, *name;
    cJSON *tmpl; /* the deployment's template (collision check) */
    char *uid;
    int64_t collisions;
    struct dep_plan plan;
    int phase;
    bool stale; /* the cache is behind (AlreadyExists): look again */
};

/* ------------------------------------------------------------- events */

static void enqueue_obj(dep_ctrl_t *dc, const cJSON *d)
{
    char *key = api_object_key(d);
    if (key) api_workqueue_add(dc->q, key);
    free(key);
}

static const cJSON *owner_of(dep_ctrl_t *dc, const cJSON *rs)
{
    const cJSON *ref = api_meta_controller_ref(rs);
    if (!ref || strcmp(cj_str0(ref, "kind"), "Deployment")) return NULL;
    const cJSON *d = ctrl_get(dc->s, CR_DEPLOYMENTS, api_meta_namespace(rs), cj_str(ref, "name"));
    if (!d || strcmp(cj_str0(d, "metadata.uid"), cj_str0(ref, "uid"))) return NULL;
    return d;
}

struct match_arg {
    dep_ctrl_t *dc;
    const cJSON *rs;
};

static bool enqueue_if_selects(const char *key, const cJSON *d, void *arg)
{
    struct match_arg *m = arg;
    if (strcmp(cj_str0(d, "metadata.namespace"), cj_str0(m->rs, "metadata.namespace"))) return true;
    api_selector_t *sel = cx_selector(d, false);
    if (sel && !api_selector_empty(sel) && api_selector_matches(sel, api_meta_labels(m->rs)))
        api_workqueue_add(m->dc->q, key);
    api_selector_free(sel);
    return true;
}

static void rs_changed(dep_ctrl_t *dc, const cJSON *rs)
{
    const cJSON *d = owner_of(dc, rs);
    if (d) {
        enqueue_obj(dc, d);
    } else if (!api_meta_controller_ref(rs)) {
        struct match_arg m = {dc, rs};
        ctrl_each(dc->s, CR_DEPLOYMENTS, enqueue_if_selects, &m);
    }
}

static void on_rs_add(const cJSON *rs, void *data)
{
    rs_changed(data, rs);
}

static void on_rs_update(const cJSON *old, const cJSON *cur, void *data)
{
    dep_ctrl_t *dc = data;
    const cJSON *od = owner_of(dc, old), *nd = owner_of(dc, cur);
    if (od && od != nd) enqueue_obj(dc, od);
    rs_changed(dc, cur);
}

static void on_rs_delete(const cJSON *rs, void *data)
{
    dep_ctrl_t *dc = data;
    const cJSON *d = owner_of(dc, rs);
    if (d) enqueue_obj(dc, d);
}

/* Recreate waits for old pods to be gone: their deletion may unblock it. */
static void on_pod_delete(const cJSON *pod, void *data)
{
    dep_ctrl_t *dc = data;
    const cJSON *ref = api_meta_controller_ref(pod);
    if (!ref || strcmp(cj_str0(ref, "kind"), "ReplicaSet")) return;
    const cJSON *rs = ctrl_get(dc->s, CR_REPLICASETS, api_meta_namespace(pod), cj_str(ref, "name"));
    const cJSON *d = rs ? owner_of(dc, rs) : NULL;
    if (d && !strcmp(cj_str0(d, "spec.strategy.type"), "Recreate")) enqueue_obj(dc, d);
}

static void on_dep_add(const cJSON *d, void *data)
{
    enqueue_obj(data, d);
}

static void on_dep_update(const cJSON *old, const cJSON *cur, void *data)
{
    (void)old;
    enqueue_obj(data, cur);
}

/* ---------------------------------------------------------------- sync */

static void dsync_free(struct dsync *y)
{
    dep_plan_free(&y->plan);
    free(y->key);
    free(y->ns);
    free(y->name);
    free(y->uid);
    cJSON_Delete(y->tmpl);
    free(y);
}

static void finish(struct dsync *y, int failures, const char *err)
{
    dep_ctrl_t *dc = y->dc;
    api_workqueue_done(dc->q, y->key);
    if (failures) {
        log_info(CTRL_COMP, "deployment %s: %s; retrying", y->key, err);
        api_workqueue_add_rate_limited(dc->q, y->key);
    } else if (y->stale) {
        api_workqueue_add_after(dc->q, y->key, 100);
    } else {
        api_workqueue_forget(dc->q, y->key);
        if (y->plan.requeue_ms) api_workqueue_add_after(dc->q, y->key, y->plan.requeue_ms);
    }
    dsync_free(y);
}

static bool on_rs_created(api_result_t *res, void *arg)
{
    struct dsync *y = arg;
    if (api_result_ok(res)) return true;
    if (res->err || res->status != 409 || strcmp(res->reason ? res->reason : "", "AlreadyExists"))
        return false;
    if (y->dc->s->stopping) return false;
    /* Ours with the same template (the cache is behind): fine, look again.
     * Anything else under that name is a hash collision. */
    const char *name = cj_str(y->plan.create_rs, "metadata.name");
    const cJSON *rs = ctrl_get(y->dc->s, CR_REPLICASETS, y->ns, name);
    y->stale = true;
    if (!rs) return true;
    const char *cuid = cx_controller_uid(rs);
    if (cuid && !strcmp(cuid, y->uid) && dep_templates_equal(cj_get(rs, "spec.template"), y->tmpl))
        return true;
    log_info(CTRL_COMP, "deployment %s: hash collision on %s", y->key, name);
    cJSON *patch = cj_new_obj();
    cj_set_int(cj_obj(patch, "status"), "collisionCount", y->collisions + 1);
    ctrl_batch_t *b = ctrl_batch_new(y->dc->s, NULL, NULL);
    api_ref_t ref = ctrl_ref(CR_DEPLOYMENTS, y->ns, y->name, "status");
    ctrl_batch_patch(b, &ref, API_PATCH_MERGE, patch, NULL, NULL);
    ctrl_batch_seal(b);
    cJSON_Delete(patch);
    return true;
}

static cJSON *owner_patch(struct dsync *y, bool adopt)
{
    cJSON *p = cj_new_obj();
    cJSON *refs = cj_new_arr();
    cJSON *ref = cj_new_obj();
    if (adopt) {
        cj_set_str(ref, "apiVersion", "apps/v1");
        cj_set_str(ref, "kind", "Deployment");
        cj_set_str(ref, "name", y->name);
        cj_set_str(ref, "uid", y->uid);
        cj_set_bool(ref, "controller", true);
        cj_set_bool(ref, "blockOwnerDeletion", true);
    } else {
        cj_set_str(ref, "$patch", "delete");
        cj_set_str(ref, "uid", y->uid);
    }
    cj_push(refs, ref);
    cj_set(cj_obj(p, "metadata"), "ownerReferences", refs);
    return p;
}

static void step(int failures, const char *err, void *data);

static void phase1(struct dsync *y, ctrl_batch_t *b)
{
    struct dep_plan *p = &y->plan;
    for (size_t i = 0; i < p->n_adopt + p->n_release; i++) {
        bool adopt = i < p->n_adopt;
        cJSON *patch = owner_patch(y, adopt);
        api_ref_t ref =
            ctrl_ref(CR_REPLICASETS, y->ns, adopt ? p->adopt[i] : p->release[i - p->n_adopt], NULL);
        ctrl_batch_patch(b, &ref, API_PATCH_STRATEGIC, patch, NULL, NULL);
        cJSON_Delete(patch);
    }
    if (p->create_rs) {
        api_ref_t ref = ctrl_ref(CR_REPLICASETS, y->ns, NULL, NULL);
        log_info(CTRL_COMP, "deployment %s: creating replica set %s", y->key,
                 cj_str0(p->create_rs, "metadata.name"));
        ctrl_batch_create(b, &ref, p->create_rs, on_rs_created, y);
    }
}

static void phase2(struct dsync *y, ctrl_batch_t *b)
{
    struct dep_plan *p = &y->plan;
    for (size_t i = 0; i < p->n_rs; i++) {
        struct dep_rs *r = &p->rs[i];
        if (r->created_now) continue;
        api_ref_t ref = ctrl_ref(CR_REPLICASETS, y->ns, r->name, NULL);
        if (r->remove) {
            log_info(CTRL_COMP, "deployment %s: deleting old replica set %s", y->key, r->name);
            ctrl_batch_delete(b, &ref, r->uid, NULL, -1, NULL, NULL);
            continue;
        }
        if (r->replicas == r->orig_replicas && !r->ann && r->min_ready == r->orig_min_ready)
            continue;
        cJSON *patch = cj_new_obj();
        if (r->ann) cj_set(cj_obj(patch, "metadata"), "annotations", cx_dup(r->ann));
        cJSON *spec = cj_obj(patch, "spec");
        cj_set_int(spec, "replicas", r->replicas);
        if (r->min_ready != r->orig_min_ready) cj_set_int(spec, "minReadySeconds", r->min_ready);
        if (r->replicas != r->orig_replicas)
            log_info(CTRL_COMP, "deployment %s: scaling %s from %lld to %lld", y->key, r->name,
                     (long long)r->orig_replicas, (long long)r->replicas);
        ctrl_batch_patch(b, &ref, API_PATCH_MERGE, patch, NULL, NULL);
        cJSON_Delete(patch);
    }
}

static void phase3(struct dsync *y, ctrl_batch_t *b)
{
    struct dep_plan *p = &y->plan;
    if (p->dep_ann) {
        cJSON *patch = cj_new_obj();
        cj_set(cj_obj(patch, "metadata"), "annotations", cx_dup(p->dep_ann));
        api_ref_t ref = ctrl_ref(CR_DEPLOYMENTS, y->ns, y->name, NULL);
        ctrl_batch_patch(b, &ref, API_PATCH_MERGE, patch, NULL, NULL);
        cJSON_Delete(patch);
    }
    if (p->status) {
        cJSON *patch = cj_new_obj();
        cj_set(patch, "status", cx_dup(p->status));
        api_ref_t ref = ctrl_ref(CR_DEPLOYMENTS, y->ns, y->name, "status");
        ctrl_batch_patch(b, &ref, API_PATCH_MERGE, patch, NULL, NULL);
        cJSON_Delete(patch);
    }
}

static void step(int failures, const char *err, void *data)
{
    struct dsync *y = data;
    if (y->dc->s->stopping) {
        dsync_free(y);
        return;
    }
    if (failures || y->stale || y->phase == 3) {
        finish(y, failures, err);
        return;
    }
    y->phase++;
    ctrl_batch_t *b = ctrl_batch_new(y->dc->s, step, y);
    if (y->phase == 1)
        phase1(y, b);
    else if (y->phase == 2)
        phase2(y, b);
    else
        phase3(y, b);
    ctrl_batch_seal(b);
}

static bool pods_running(const char *rs_uid, void *arg)
{
    ctrl_sess_t *s = arg;
    size_t n;
    const cJSON **pods = ctrl_pods_of(s, cm_set_get(&s->pods_by_owner, rs_uid), &n);
    bool running = false;
    for (size_t i = 0; i < n && !running; i++)
        running = !cx_pod_terminal(pods[i]);
    free(pods);
    return running;
}

struct rs_list {
    const char *ns;
    const cJSON **v;
    size_t n;
};

static bool collect_rs(const char *key, const cJSON *rs, void *arg)
{
    (void)key;
    struct rs_list *l = arg;
    if (strcmp(cj_str0(rs, "metadata.namespace"), l->ns)) return true;
    l->v = cx_realloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n++] = rs;
    return true;
}

static void reconcile(api_workqueue_t *q, const char *key, void *data)
{
    dep_ctrl_t *dc = data;
    ctrl_sess_t *s = dc->s;
    if (ctrl_defer_unsynced(s, q, key)) return;
    const cJSON *d = ctrl_get_key(s, CR_DEPLOYMENTS, key);
    if (!d) {
        api_workqueue_forget(q, key);
        api_workqueue_done(q, key);
        return;
    }
    struct rs_list l = {api_meta_namespace(d), NULL, 0};
    ctrl_each(s, CR_REPLICASETS, collect_rs, &l);
    struct dsync *y = cx_calloc(1, sizeof(*y));
    y->dc = dc;
    y->key = cx_strdup(key);
    y->ns = cx_strdup(api_meta_namespace(d));
    y->name = cx_strdup(api_meta_name(d));
    y->uid = cx_strdup(api_meta_uid(d));
    y->tmpl = cx_dup(cj_get(d, "spec.template"));
    y->collisions = cj_int(d, "status.collisionCount", 0);
    int rc = dep_plan(d, l.v, l.n, pods_running, s, s->now_wall(), &y->plan);
    free(l.v);
    if (rc != 0) {
        api_workqueue_done(q, key);
        dsync_free(y);
        return;
    }
    step(0, "", y);
}

dep_ctrl_t *dep_new(ctrl_sess_t *s)
{
    dep_ctrl_t *dc = cx_calloc(1, sizeof(*dc));
    dc->s = s;
    dc->q = ctrl_queue_new(s, reconcile, dc);
    ctrl_sub_t deps = {on_dep_add, on_dep_update, NULL, dc};
    ctrl_sub_t rss = {on_rs_add, on_rs_update, on_rs_delete, dc};
    ctrl_sub_t pods = {NULL, NULL, on_pod_delete, dc};
    ctrl_subscribe(s, CR_DEPLOYMENTS, &deps);
    ctrl_subscribe(s, CR_REPLICASETS, &rss);
    ctrl_subscribe(s, CR_PODS, &pods);
    return dc;
}

void dep_free(dep_ctrl_t *dc)
{
    if (!dc) return;
    api_workqueue_free(dc->q);
    free(dc);
}
