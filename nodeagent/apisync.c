/*
 * apisync.c - the agent's side of the API: which pods to run, and what to
 * tell about them.
 *
 *   - Pods bound to this node: an informer with fieldSelector
 *     spec.nodeName=<node> feeds the pod table; a change of status alone
 *     (our own writes coming back) is not a change worth a pass.
 *   - Nodes: an informer on all Nodes (trimmed to name, pod CIDR and
 *     addresses) gives this node's pod CIDR once the controller assigns it,
 *     and the others' for the host routes.
 *   - Status: the latest status of each pod is sent with a merge patch of
 *     pods/<name>/status, through a rate-limited work queue, so a burst of
 *     changes becomes one write and a failed write is retried with back-off.
 *   - Deletion: once everything of a deleted pod left the node, the
 *     deletion is confirmed with a DELETE with gracePeriodSeconds 0 and the
 *     pod's UID as precondition, as the kubelet does.
 *   - ConfigMaps and Secrets for env and volumes are read on demand (from
 *     a pool thread, blocking, with the same fail-over between servers).
 * Fail-over between the API servers given is lib's HTTP client's.
 */
#include "nodeagent/agent_int.h"

#include <stdlib.h>
#include <string.h>

struct nodereg;
struct nodereg *node_start(agent_t *a, api_client_t *c, const struct agent_config *cfg);
void node_stop(struct nodereg *r, void (*done)(void *), void *arg);
void node_pod_cidr_changed(struct nodereg *r);
struct routes;
struct routes *routes_new(uv_loop_t *loop, const char *node_name, const char *cluster_cidr);
void routes_sync(struct routes *r, const api_informer_t *nodes);
void routes_stop(struct routes *r, void (*done)(void *), void *arg);

struct apisync {
    agent_t *a;
    struct node_ctx *nc;
    api_client_t *c;
    api_informer_t *pods, *nodes;
    api_workqueue_t *q;
    cJSON *status;  /* uid -> {ns, name, status}: the latest to send */
    cJSON *deletes; /* uid -> {ns, name}: deletions to confirm */
    struct nodereg *node;
    struct routes *routes;
    bool stopping;
    int stop_pending;
    void (*done)(void *);
    void *done_arg;
};

/* ------------------------------------------------------------- pods */

static cJSON *trim_pod(const cJSON *full, void *data)
{
    (void)data;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddItemToObject(p, "apiVersion", cJSON_CreateString("v1"));
    cJSON_AddItemToObject(p, "kind", cJSON_CreateString("Pod"));
    cJSON *md = cJSON_Duplicate(jget(full, "metadata"), 1);
    cJSON_DeleteItemFromObjectCaseSensitive(md, "managedFields");
    cJSON_AddItemToObject(p, "metadata", md);
    cJSON_AddItemToObject(p, "spec", cJSON_Duplicate(jget(full, "spec"), 1));
    return p;
}

/* Whether two versions of a pod differ in what the agent acts on. */
static bool pod_changed(const cJSON *a, const cJSON *b)
{
    if (!cJSON_Compare(jget(a, "spec"), jget(b, "spec"), true)) return true;
    cJSON *ma = cJSON_Duplicate(jget(a, "metadata"), 1),
          *mb = cJSON_Duplicate(jget(b, "metadata"), 1);
    cJSON_DeleteItemFromObjectCaseSensitive(ma, "resourceVersion");
    cJSON_DeleteItemFromObjectCaseSensitive(mb, "resourceVersion");
    bool changed = !cJSON_Compare(ma, mb, true);
    cJSON_Delete(ma);
    cJSON_Delete(mb);
    return changed;
}

static void pod_add(const cJSON *obj, void *data)
{
    struct apisync *s = data;
    podmgr_update(agent_podmgr(s->a), obj);
}

static void pod_update(const cJSON *old, const cJSON *obj, void *data)
{
    struct apisync *s = data;
    if (pod_changed(old, obj)) podmgr_update(agent_podmgr(s->a), obj);
}

static void pod_delete(const cJSON *obj, void *data)
{
    struct apisync *s = data;
    const char *uid = api_meta_uid(obj);
    if (uid) {
        /* Gone from the API (deletion confirmed, or forced): stop it and
         * forget what was still to be sent. */
        cJSON_DeleteItemFromObjectCaseSensitive(s->status, uid);
        cJSON_DeleteItemFromObjectCaseSensitive(s->deletes, uid);
        podmgr_remove(agent_podmgr(s->a), uid);
    }
}

static void pods_synced(void *data)
{
    struct apisync *s = data;
    log_info(COMP, "node %s: %zu pod(s) bound to it", s->nc->node_name,
             api_informer_count(s->pods));
    agent_source_synced(s->a);
}

/* ------------------------------------------------------------ nodes */

static cJSON *trim_node(const cJSON *full, void *data)
{
    (void)data;
    static const char *const keep[] = {"metadata.name", "metadata.uid", "spec.podCIDR",
                                       "spec.podCIDRs", "status.addresses"};
    return api_json_keep(full, keep, sizeof keep / sizeof keep[0]);
}

static void own_node(struct apisync *s, const cJSON *node)
{
    const char *cidr = jstr(jget(node, "spec"), "podCIDR", NULL);
    if (!cidr || !*cidr) return;
    struct node_ctx *nc = s->nc;
    pthread_mutex_lock(&nc->mu);
    bool changed = strcmp(nc->pod_cidr, cidr) != 0;
    if (changed) snprintf(nc->pod_cidr, sizeof nc->pod_cidr, "%s", cidr);
    pthread_mutex_unlock(&nc->mu);
    if (changed) {
        log_info(COMP, "node %s: pod CIDR %s", nc->node_name, cidr);
        podmgr_resync_all(agent_podmgr(s->a));
        if (s->node) node_pod_cidr_changed(s->node);
    }
}

static void node_event(const cJSON *obj, struct apisync *s)
{
    const char *name = api_meta_name(obj);
    if (name && !strcmp(name, s->nc->node_name)) own_node(s, obj);
    if (api_informer_has_synced(s->nodes)) routes_sync(s->routes, s->nodes);
}

static void node_add(const cJSON *obj, void *data)
{
    node_event(obj, data);
}

static void node_update(const cJSON *old, const cJSON *obj, void *data)
{
    (void)old;
    node_event(obj, data);
}

static void node_delete(const cJSON *obj, void *data)
{
    struct apisync *s = data;
    (void)obj;
    if (api_informer_has_synced(s->nodes)) routes_sync(s->routes, s->nodes);
}

static void nodes_synced(void *data)
{
    struct apisync *s = data;
    routes_sync(s->routes, s->nodes);
}

/* --------------------------------------------------- status and deletes */

static void work_done(api_result_t *res, void *data);

struct op {
    struct apisync *s;
    char key[200];
};

/* Keys: "s/<uid>" (send the status) and "d/<uid>" (confirm a deletion). */
static void work(api_workqueue_t *q, const char *key, void *data)
{
    struct apisync *s = data;
    const char *uid = key + 2;
    bool del = key[0] == 'd';
    const cJSON *e = jget(del ? s->deletes : s->status, uid);
    if (!e) {
        api_workqueue_done(q, key);
        return;
    }
    struct op *op = calloc(1, sizeof *op);
    if (!op) {
        api_workqueue_add_rate_limited(q, key);
        api_workqueue_done(q, key);
        return;
    }
    op->s = s;
    snprintf(op->key, sizeof op->key, "%s", key);
    api_ref_t ref = {
        .resource = "pods", .ns = jstr(e, "ns", "default"), .name = jstr(e, "name", "")};
    int rv;
    if (del) {
        cJSON *opts = cJSON_CreateObject();
        cJSON_AddStringToObject(opts, "apiVersion", "v1");
        cJSON_AddStringToObject(opts, "kind", "DeleteOptions");
        cJSON_AddNumberToObject(opts, "gracePeriodSeconds", 0);
        cJSON *pre = cJSON_AddObjectToObject(opts, "preconditions");
        cJSON_AddStringToObject(pre, "uid", uid);
        api_opts_t o = {.has_grace_period = true, .grace_period_seconds = 0};
        rv = api_delete(s->c, &ref, opts, &o, work_done, op);
        cJSON_Delete(opts);
    } else {
        ref.subresource = "status";
        cJSON *patch = cJSON_CreateObject();
        cJSON *md = cJSON_AddObjectToObject(patch, "metadata");
        cJSON_AddStringToObject(md, "uid", uid); /* a precondition: never another pod's */
        cJSON_AddItemToObject(patch, "status", cJSON_Duplicate(jget(e, "status"), 1));
        rv = api_patch(s->c, &ref, API_PATCH_MERGE, patch, NULL, work_done, op);
        cJSON_Delete(patch);
    }
    if (rv != 0) {
        free(op);
        if (!s->stopping) api_workqueue_add_rate_limited(q, key);
        api_workqueue_done(q, key);
    }
}

static void work_done(api_result_t *res, void *data)
{
    struct op *op = data;
    struct apisync *s = op->s;
    const char *key = op->key, *uid = key + 2;
    bool del = key[0] == 'd';
    if (s->stopping || res->err == UV_ECANCELED) {
        api_workqueue_done(s->q, key);
        free(op);
        return;
    }
    if (api_result_ok(res) || res->status == 404 || res->status == 409) {
        /* Done, or moot: the pod is gone or is another pod now. */
        if (!api_result_ok(res) && !(del && res->status == 404))
            log_debug(COMP, "pod %s: %s", uid, res->message);
        if (del) {
            cJSON_DeleteItemFromObjectCaseSensitive(s->deletes, uid);
        } else if (!api_result_ok(res)) {
            cJSON_DeleteItemFromObjectCaseSensitive(s->status, uid);
        }
        api_workqueue_forget(s->q, key);
    } else {
        log_warn(COMP, "pod %s: cannot %s: %s", uid,
                 del ? "confirm its deletion" : "send its status", res->message);
        api_workqueue_add_rate_limited(s->q, key);
    }
    api_workqueue_done(s->q, key);
    free(op);
}

static cJSON *entry(const cJSON *pod)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "ns", api_meta_namespace(pod) ? api_meta_namespace(pod) : "default");
    cJSON_AddStringToObject(e, "name", api_meta_name(pod) ? api_meta_name(pod) : "");
    return e;
}

void apisync_pod_status(struct apisync *s, const cJSON *pod, const cJSON *status)
{
    const char *uid = api_meta_uid(pod);
    if (!uid || s->stopping) return;
    cJSON *e = entry(pod);
    cJSON_AddItemToObject(e, "status", cJSON_Duplicate(status, 1));
    cJSON_DeleteItemFromObjectCaseSensitive(s->status, uid);
    cJSON_AddItemToObject(s->status, uid, e);
    char key[100];
    snprintf(key, sizeof key, "s/%s", uid);
    api_workqueue_add(s->q, key);
}

void apisync_pod_removed(struct apisync *s, const cJSON *pod)
{
    const char *uid = api_meta_uid(pod);
    if (!uid || s->stopping) return;
    cJSON_DeleteItemFromObjectCaseSensitive(s->status, uid);
    /* Only a pod being deleted in the API is confirmed; one that is gone
     * from it already needs nothing. */
    const cJSON *cur = api_informer_get(s->pods, api_meta_namespace(pod), api_meta_name(pod));
    if (!cur || strcmp(api_meta_uid(cur) ? api_meta_uid(cur) : "", uid) != 0) return;
    cJSON_DeleteItemFromObjectCaseSensitive(s->deletes, uid);
    cJSON_AddItemToObject(s->deletes, uid, entry(pod));
    char key[100];
    snprintf(key, sizeof key, "d/%s", uid);
    api_workqueue_add(s->q, key);
}

/* ---------------------------------------------- ConfigMaps and Secrets */

static cJSON *fetch(void *arg, const char *resource, const char *ns, const char *name, char *err,
                    size_t errlen)
{
    struct node_ctx *nc = arg; /* not the apisync: a pass may outlive it */
    api_conn_t conn = {nc->api_servers, nc->api_token, 10000};
    api_ref_t ref = {.resource = resource, .ns = ns, .name = name};
    api_result_t res;
    api_fetch(&conn, "GET", &ref, NULL, NULL, NULL, &res);
    cJSON *obj = NULL;
    if (api_result_ok(&res)) {
        obj = res.obj;
        res.obj = NULL;
    } else if (res.status == 404) {
        snprintf(err, errlen, "%s \"%s\" not found",
                 !strcmp(resource, "secrets") ? "secret" : "configmap", name);
    } else {
        snprintf(err, errlen, "cannot read %s %s/%s: %s", resource, ns, name, res.message);
    }
    api_result_free(&res);
    return obj;
}

/* ---------------------------------------------------------- start/stop */

struct apisync *apisync_start(agent_t *a, const struct agent_config *cfg, char *err, size_t errlen)
{
    struct apisync *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->a = a;
    s->nc = agent_node_ctx(a);
    s->c = api_client_new(agent_loop(a), cfg->servers, cfg->token);
    if (!s->c) {
        snprintf(err, errlen, "bad --server \"%s\": give http://HOST:PORT[,http://...]",
                 cfg->servers);
        free(s);
        return NULL;
    }
    api_client_set_timeout(s->c, 15000);
    s->status = cJSON_CreateObject();
    s->deletes = cJSON_CreateObject();
    api_workqueue_config_t qc = {.base_delay_ms = 200, .max_delay_ms = 30000, .max_active = 8};
    s->q = api_workqueue_new(agent_loop(a), &qc, work, s);
    snprintf(s->nc->api_servers, sizeof s->nc->api_servers, "%s", cfg->servers);
    snprintf(s->nc->api_token, sizeof s->nc->api_token, "%s", cfg->token ? cfg->token : "");
    s->nc->fetch = fetch;
    s->nc->fetch_arg = s->nc;
    s->routes = routes_new(agent_loop(a), s->nc->node_name, cfg->cluster_cidr);
    char fs[300];
    snprintf(fs, sizeof fs, "spec.nodeName=%s", s->nc->node_name);
    api_informer_config_t pc = {
        .ref = {.resource = "pods"},
        .field_selector = fs,
        .trim = trim_pod,
        .handlers = {pod_add, pod_update, pod_delete, pods_synced},
        .data = s,
    };
    s->pods = api_informer_new(s->c, &pc);
    api_informer_config_t nc = {
        .ref = {.resource = "nodes"},
        .trim = trim_node,
        .handlers = {node_add, node_update, node_delete, nodes_synced},
        .data = s,
    };
    s->nodes = api_informer_new(s->c, &nc);
    if (!s->pods || !s->nodes || !s->q || !s->routes) {
        snprintf(err, errlen, "cannot start watching the API server");
        if (s->pods) api_informer_free(s->pods);
        if (s->nodes) api_informer_free(s->nodes);
        api_client_free(s->c);
        return NULL;
    }
    s->node = node_start(a, s->c, cfg);
    log_info(COMP, "node %s: talking to %s", s->nc->node_name, cfg->servers);
    return s;
}

static void part_done(void *arg)
{
    struct apisync *s = arg;
    if (--s->stop_pending > 0) return;
    cJSON_Delete(s->status);
    cJSON_Delete(s->deletes);
    void (*done)(void *) = s->done;
    void *darg = s->done_arg;
    free(s);
    if (done) done(darg);
}

void apisync_stop(struct apisync *s, void (*done)(void *), void *arg)
{
    s->stopping = true;
    s->done = done;
    s->done_arg = arg;
    s->stop_pending = 3;
    /* Handles close on the next loop turn; requests in flight end inside
     * api_client_free, while everything they use is still there. */
    node_stop(s->node, part_done, s);
    routes_stop(s->routes, part_done, s);
    api_informer_free(s->pods);
    api_informer_free(s->nodes);
    api_client_free(s->c);
    api_workqueue_free(s->q);
    part_done(s);
}
