/*
 * endpoints.c - the Endpoints and EndpointSlice loop: every Service with a
 * selector gets an Endpoints object of its name and EndpointSlices
 * (managed-by endpointslice-controller.k8s.io) listing its pods, rewritten
 * whenever a selected pod changes IP, readiness or existence.
 *
 * A pod event enqueues the Services of its namespace whose selector matches
 * the pod before or after the change; the queue merges bursts, so a
 * rollout of 100 pods costs a few writes, not 100. Writes happen only when
 * the canonical content differs from the cache. Slices are created with
 * generateName, so their creations go through expectations: a second sync
 * before the new slice is seen must not create another one.
 */
#include <stdlib.h>
#include <string.h>

#include "controller/ctrl_int.h"

struct eps_ctrl {
    ctrl_sess_t *s;
    api_workqueue_t *q;
    ctrl_expect_t *exp; /* slice creations per Service key */
    ctrl_map_t slices;  /* "ns/svc" -> keys of its managed slices */
};

/* ------------------------------------------------------------- events */

static bool has_selector(const cJSON *svc)
{
    const cJSON *sel = cj_get(svc, "spec.selector");
    return cJSON_IsObject(sel) && cJSON_GetArraySize(sel) > 0;
}

static void on_svc_add(const cJSON *svc, void *data)
{
    eps_ctrl_t *e = data;
    char *key = api_object_key(svc);
    if (key) api_workqueue_add(e->q, key);
    free(key);
}

static void on_svc_update(const cJSON *old, const cJSON *cur, void *data)
{
    (void)old;
    on_svc_add(cur, data);
}

struct pod_arg {
    eps_ctrl_t *e;
    const cJSON *a, *b; /* the pod before and after (either may be NULL) */
};

static bool enqueue_selecting(const char *key, const cJSON *svc, void *arg)
{
    struct pod_arg *pa = arg;
    const cJSON *pod = pa->a ? pa->a : pa->b;
    if (!has_selector(svc) ||
        strcmp(cj_str0(svc, "metadata.namespace"), cj_str0(pod, "metadata.namespace")))
        return true;
    api_selector_t *sel = api_selector_from_map(cj_get(svc, "spec.selector"));
    if (!sel) cx_oom();
    if ((pa->a && api_selector_matches(sel, api_meta_labels(pa->a))) ||
        (pa->b && api_selector_matches(sel, api_meta_labels(pa->b))))
        api_workqueue_add(pa->e->q, key);
    api_selector_free(sel);
    return true;
}

static void pod_event(eps_ctrl_t *e, const cJSON *a, const cJSON *b)
{
    struct pod_arg pa = {e, a, b};
    ctrl_each(e->s, CR_SERVICES, enqueue_selecting, &pa);
}

static void on_pod_add(const cJSON *pod, void *data)
{
    pod_event(data, pod, NULL);
}

/* Only what Endpoints show matters; owner or finalizer changes do not. */
static bool relevant_change(const cJSON *a, const cJSON *b)
{
    static const char *const paths[] = {"status.podIP", "status.phase", "spec.nodeName",
                                        "metadata.deletionTimestamp"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        if (strcmp(cj_str0(a, paths[i]), cj_str0(b, paths[i]))) return true;
    return cx_pod_ready(a) != cx_pod_ready(b) ||
           !cJSON_Compare(api_meta_labels(a), api_meta_labels(b), true) ||
           !cJSON_Compare(cj_get(a, "spec.containers"), cj_get(b, "spec.containers"), true);
}

static void on_pod_update(const cJSON *old, const cJSON *cur, void *data)
{
    if (relevant_change(old, cur)) pod_event(data, old, cur);
}

static void on_pod_delete(const cJSON *pod, void *data)
{
    pod_event(data, pod, NULL);
}

static void enqueue_named(eps_ctrl_t *e, const char *ns, const char *name)
{
    if (!name) return;
    char *key = cx_printf("%s/%s", ns ? ns : "", name);
    api_workqueue_add(e->q, key);
    free(key);
}

static void on_ep_update(const cJSON *old, const cJSON *cur, void *data)
{
    (void)old;
    enqueue_named(data, api_meta_namespace(cur), api_meta_name(cur));
}

static void on_ep_delete(const cJSON *ep, void *data)
{
    enqueue_named(data, api_meta_namespace(ep), api_meta_name(ep));
}

/* The Service key of a slice we manage, or NULL (caller frees). */
static char *slice_owner(const cJSON *sl)
{
    const char *mb = api_meta_label(sl, EPS_MANAGED_BY);
    const char *svc = api_meta_label(sl, EPS_SERVICE_NAME);
    if (!mb || strcmp(mb, EPS_MANAGER) || !svc) return NULL;
    return cx_printf("%s/%s", api_meta_namespace(sl), svc);
}

static void slice_event(eps_ctrl_t *e, const cJSON *sl, bool add, bool gone)
{
    char *svc = slice_owner(sl);
    char *key = api_object_key(sl);
    if (svc && key) {
        if (gone)
            cm_set_del(&e->slices, svc, key);
        else
            cm_set_add(&e->slices, svc, key);
        if (add) ctrl_expect_creation_observed(e->exp, svc);
        api_workqueue_add(e->q, svc);
    }
    free(svc);
    free(key);
}

static void on_slice_add(const cJSON *sl, void *data)
{
    slice_event(data, sl, true, false);
}

static void on_slice_update(const cJSON *old, const cJSON *cur, void *data)
{
    char *a = slice_owner(old), *b = slice_owner(cur);
    if (a && (!b || strcmp(a, b))) slice_event(data, old, false, true);
    slice_event(data, cur, false, false);
    free(a);
    free(b);
}

static void on_slice_delete(const cJSON *sl, void *data)
{
    slice_event(data, sl, false, true);
}

/* ---------------------------------------------------------------- sync */

struct esync {
    eps_ctrl_t *e;
    char *key;
};

static void done(int failures, const char *err, void *data)
{
    struct esync *y = data;
    if (!y->e->s->stopping) {
        api_workqueue_done(y->e->q, y->key);
        if (failures) {
            log_info(CTRL_COMP, "endpoints %s: %s; retrying", y->key, err);
            api_workqueue_add_rate_limited(y->e->q, y->key);
        } else {
            api_workqueue_forget(y->e->q, y->key);
        }
    }
    free(y->key);
    free(y);
}

static bool on_slice_created(api_result_t *res, void *arg)
{
    struct esync *y = arg;
    bool ok = api_result_ok(res);
    if (!ok && !y->e->s->stopping) ctrl_expect_lower(y->e->exp, y->key, 1);
    return ok;
}

static cJSON *labels_for(const cJSON *svc, bool slice)
{
    const cJSON *l = api_meta_labels(svc);
    cJSON *out = l ? cx_dup(l) : cj_new_obj();
    if (slice) {
        cj_set_str(out, EPS_SERVICE_NAME, api_meta_name(svc));
        cj_set_str(out, EPS_MANAGED_BY, EPS_MANAGER);
    }
    return out;
}

static bool same_array(const cJSON *a, const cJSON *b)
{
    int na = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
    int nb = cJSON_IsArray(b) ? cJSON_GetArraySize(b) : 0;
    return na == nb && (na == 0 || cJSON_Compare(a, b, true));
}

static bool same_labels(const cJSON *a, const cJSON *b)
{
    int na = cJSON_IsObject(a) ? cJSON_GetArraySize(a) : 0;
    int nb = cJSON_IsObject(b) ? cJSON_GetArraySize(b) : 0;
    return na == nb && (na == 0 || cJSON_Compare(a, b, true));
}

static void sync_endpoints(eps_ctrl_t *e, ctrl_batch_t *b, const cJSON *svc,
                           const cJSON *const *pods, size_t n)
{
    const char *ns = api_meta_namespace(svc), *name = api_meta_name(svc);
    cJSON *subsets = eps_subsets(svc, pods, n);
    cJSON *labels = labels_for(svc, false);
    const cJSON *cur = ctrl_get(e->s, CR_ENDPOINTS, ns, name);
    if (cur && same_array(cj_get(cur, "subsets"), subsets) &&
        same_labels(api_meta_labels(cur), labels)) {
        cJSON_Delete(subsets);
        cJSON_Delete(labels);
        return;
    }
    cJSON *ep = cj_new_obj();
    cj_set_str(ep, "apiVersion", "v1");
    cj_set_str(ep, "kind", "Endpoints");
    cJSON *meta = cj_obj(ep, "metadata");
    cj_set_str(meta, "name", name);
    cj_set_str(meta, "namespace", ns);
    cj_set(meta, "labels", labels);
    cj_set(ep, "subsets", subsets);
    if (cur) {
        const char *rv = api_meta_resource_version(cur);
        if (rv) cj_set_str(meta, "resourceVersion", rv);
        api_ref_t ref = ctrl_ref(CR_ENDPOINTS, ns, name, NULL);
        ctrl_batch_update(b, &ref, ep, NULL, NULL);
    } else {
        api_ref_t ref = ctrl_ref(CR_ENDPOINTS, ns, NULL, NULL);
        ctrl_batch_create(b, &ref, ep, NULL, NULL);
    }
    cJSON_Delete(ep);
}

static cJSON *slice_object(const cJSON *svc, const cJSON *content)
{
    cJSON *sl = cx_dup(content);
    cj_set_str(sl, "apiVersion", "discovery.k8s.io/v1");
    cj_set_str(sl, "kind", "EndpointSlice");
    cJSON *meta = cj_obj(sl, "metadata");
    cj_set_str(meta, "namespace", api_meta_namespace(svc));
    cj_set(meta, "labels", labels_for(svc, true));
    if (api_meta_add_owner_ref(sl, "v1", "Service", api_meta_name(svc), api_meta_uid(svc), true,
                               true) != 0)
        cx_oom();
    return sl;
}

static bool slice_equal(const cJSON *cur, const cJSON *want, const cJSON *labels)
{
    return !strcmp(cj_str0(cur, "addressType"), cj_str0(want, "addressType")) &&
           same_array(cj_get(cur, "endpoints"), cj_get(want, "endpoints")) &&
           same_array(cj_get(cur, "ports"), cj_get(want, "ports")) &&
           same_labels(api_meta_labels(cur), labels);
}

static void sync_slices(eps_ctrl_t *e, ctrl_batch_t *b, struct esync *y, const cJSON *svc,
                        const cJSON *const *pods, size_t n)
{
    const char *ns = api_meta_namespace(svc);
    if (!ctrl_expect_satisfied(e->exp, y->key, e->s->now_mono())) return;
    cJSON *want = eps_slices(svc, pods, n);
    size_t nw = (size_t)cJSON_GetArraySize(want), nh = 0;
    const char **have = NULL;
    ctrl_map_t *set = cm_set_get(&e->slices, y->key);
    if (set) have = cm_keys(set, &nh);
    cJSON *labels = labels_for(svc, true);
    int creates = 0;
    for (size_t i = 0; i < nw || i < nh; i++) {
        const cJSON *cur = i < nh ? ctrl_get_key(e->s, CR_SLICES, have[i]) : NULL;
        if (i >= nw) {
            if (!cur) continue;
            api_ref_t ref = ctrl_ref(CR_SLICES, ns, api_meta_name(cur), NULL);
            ctrl_batch_delete(b, &ref, api_meta_uid(cur), NULL, -1, NULL, NULL);
            continue;
        }
        const cJSON *w = cJSON_GetArrayItem(want, (int)i);
        if (cur && slice_equal(cur, w, labels)) continue;
        cJSON *sl = slice_object(svc, w);
        cJSON *meta = cj_obj(sl, "metadata");
        if (cur) {
            cj_set_str(meta, "name", api_meta_name(cur));
            const char *rv = api_meta_resource_version(cur);
            if (rv) cj_set_str(meta, "resourceVersion", rv);
            api_ref_t ref = ctrl_ref(CR_SLICES, ns, api_meta_name(cur), NULL);
            ctrl_batch_update(b, &ref, sl, NULL, NULL);
        } else {
            char *gen = cx_printf("%s-", api_meta_name(svc));
            cj_set_str(meta, "generateName", gen);
            free(gen);
            creates++;
            api_ref_t ref = ctrl_ref(CR_SLICES, ns, NULL, NULL);
            ctrl_batch_create(b, &ref, sl, on_slice_created, y);
        }
        cJSON_Delete(sl);
    }
    if (creates) ctrl_expect_set(e->exp, y->key, creates, NULL, 0, e->s->now_mono());
    free(have);
    cJSON_Delete(labels);
    cJSON_Delete(want);
}

static void reconcile(api_workqueue_t *q, const char *key, void *data)
{
    eps_ctrl_t *e = data;
    ctrl_sess_t *s = e->s;
    if (ctrl_defer_unsynced(s, q, key)) return;
    struct esync *y = cx_calloc(1, sizeof(*y));
    y->e = e;
    y->key = cx_strdup(key);
    ctrl_batch_t *b = ctrl_batch_new(s, done, y);
    const cJSON *svc = ctrl_get_key(s, CR_SERVICES, key);
    if (!svc) {
        /* The Service is gone: so is its Endpoints object (slices go with
         * their owner through the garbage collector). */
        const cJSON *ep = ctrl_get_key(s, CR_ENDPOINTS, key);
        if (ep) {
            api_ref_t ref = ctrl_ref(CR_ENDPOINTS, api_meta_namespace(ep), api_meta_name(ep), NULL);
            ctrl_batch_delete(b, &ref, api_meta_uid(ep), NULL, -1, NULL, NULL);
        }
        ctrl_expect_delete(e->exp, key);
    } else if (has_selector(svc)) {
        api_selector_t *sel = api_selector_from_map(cj_get(svc, "spec.selector"));
        if (!sel) cx_oom();
        size_t n, k = 0;
        const cJSON **pods =
            ctrl_pods_of(s, cm_set_get(&s->pods_by_ns, api_meta_namespace(svc)), &n);
        for (size_t i = 0; i < n; i++)
            if (api_selector_matches(sel, api_meta_labels(pods[i]))) pods[k++] = pods[i];
        api_selector_free(sel);
        sync_endpoints(e, b, svc, pods, k);
        sync_slices(e, b, y, svc, pods, k);
        free(pods);
    }
    ctrl_batch_seal(b);
}

eps_ctrl_t *eps_new(ctrl_sess_t *s)
{
    eps_ctrl_t *e = cx_calloc(1, sizeof(*e));
    e->s = s;
    e->exp = ctrl_expect_new(60000);
    e->q = ctrl_queue_new(s, reconcile, e);
    ctrl_sub_t svcs = {on_svc_add, on_svc_update, on_svc_add, e};
    ctrl_sub_t pods = {on_pod_add, on_pod_update, on_pod_delete, e};
    ctrl_sub_t eps = {NULL, on_ep_update, on_ep_delete, e};
    ctrl_sub_t slices = {on_slice_add, on_slice_update, on_slice_delete, e};
    ctrl_subscribe(s, CR_SERVICES, &svcs);
    ctrl_subscribe(s, CR_PODS, &pods);
    ctrl_subscribe(s, CR_ENDPOINTS, &eps);
    ctrl_subscribe(s, CR_SLICES, &slices);
    return e;
}

void eps_free(eps_ctrl_t *e)
{
    if (!e) return;
    api_workqueue_free(e->q);
    ctrl_expect_free(e->exp);
    cm_set_clear(&e->slices);
    free(e);
}
