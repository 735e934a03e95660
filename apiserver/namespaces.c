/*
 * namespaces.c - the API server's own background work, done by the raft
 * leader only (one writer, no duplicated effort), on a one-second timer:
 *
 *   - bootstrap, once per leadership: the namespaces default, kube-system,
 *     kube-public and kube-node-lease, and the `kubernetes` Service in
 *     default (first address of the service CIDR, port 443 to the API
 *     port). Creates that find the object already there are fine, so this
 *     is safe on every master and after every election.
 *   - the `kubernetes` Endpoints, kept equal to the masters' API addresses.
 *   - namespace termination: a namespace with deletionTimestamp has its
 *     objects deleted (a bounded batch per tick, with the API's delete
 *     semantics: graceful pods, finalizers), and once it is empty its
 *     `kubernetes` finalizer is removed and it disappears.
 *
 * Every step is asynchronous; `busy` keeps one chain at a time, and a
 * stopping server lets the chain in flight end before freeing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rest_int.h"

#define TICK_MS 1000
#define EPS_EVERY_MS 2000
#define NS_BATCH 100

struct rest_bg {
    apiserver_t *a;
    uv_timer_t timer;
    bool busy;
    bool stopping;
    bool timer_closed;
    uint64_t boot_term;
    uint64_t next_eps_ms;
    int boot_step;
    /* namespace termination */
    char ns[64];
    size_t res_i;
    int inflight;
    bool found_any;
};

static void bg_free_if_done(struct rest_bg *bg)
{
    if (bg->stopping && bg->timer_closed && !bg->busy && bg->inflight == 0) free(bg);
}

/* Ends the current chain. Returns true when bg was freed. */
static bool chain_end(struct rest_bg *bg)
{
    bg->busy = false;
    if (bg->stopping) {
        bg_free_if_done(bg);
        return true;
    }
    return false;
}

static void ns_start(struct rest_bg *bg);
static void eps_start(struct rest_bg *bg);

/* ------------------------------------------------------------- bootstrap */

static cJSON *base_object(const char *kind, const char *name, const char *ns)
{
    char uid[40], now[40];
    obj_new_uid(uid);
    obj_now(now, sizeof now);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", kind);
    cJSON_AddStringToObject(o, "apiVersion", "v1");
    cJSON *m = cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddStringToObject(m, "name", name);
    if (ns) cJSON_AddStringToObject(m, "namespace", ns);
    cJSON_AddStringToObject(m, "uid", uid);
    cJSON_AddStringToObject(m, "creationTimestamp", now);
    return o;
}

static const char *const boot_namespaces[] = {"default", "kube-system", "kube-public",
                                              "kube-node-lease"};
#define N_BOOT_NS 4

static cJSON *boot_object(struct rest_bg *bg, int step, char *key, size_t klen)
{
    if (step < N_BOOT_NS) {
        const char *n = boot_namespaces[step];
        cJSON *o = base_object("Namespace", n, NULL);
        api_meta_set_label(o, "kubernetes.io/metadata.name", n);
        cJSON *spec = cJSON_AddObjectToObject(o, "spec");
        cJSON *f = cJSON_AddArrayToObject(spec, "finalizers");
        cJSON_AddItemToArray(f, cJSON_CreateString("kubernetes"));
        cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "status"), "phase", "Active");
        snprintf(key, klen, "/registry/namespaces/%s", n);
        return o;
    }
    if (step == N_BOOT_NS) return NULL; /* the Service's address: reserved in boot_next */
    cJSON *o = base_object("Service", "kubernetes", "default");
    api_meta_set_label(o, "component", "apiserver");
    api_meta_set_label(o, "provider", "kubernetes");
    cJSON *spec = cJSON_AddObjectToObject(o, "spec");
    cJSON *ports = cJSON_AddArrayToObject(spec, "ports");
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "name", "https");
    cJSON_AddStringToObject(p, "protocol", "TCP");
    cJSON_AddNumberToObject(p, "port", 443);
    cJSON_AddNumberToObject(p, "targetPort", apiserver_port(bg->a));
    cJSON_AddItemToArray(ports, p);
    snprintf(key, klen, "/registry/services/default/kubernetes");
    return o;
}

/* The first usable address of the service CIDR ("10.43.0.1"). */
static void first_service_ip(apiserver_t *a, char *buf, size_t len)
{
    unsigned b[4] = {10, 43, 0, 0};
    sscanf(a->service_cidr, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]);
    snprintf(buf, len, "%u.%u.%u.%u", b[0], b[1], b[2], b[3] + 1);
}

static void boot_next(struct rest_bg *bg);

static void boot_done(const store_result_t *res, void *data)
{
    struct rest_bg *bg = data;
    if (bg->stopping) {
        chain_end(bg);
        return;
    }
    if (res->err != STORE_OK && res->err != STORE_EEXIST) {
        log_warn(REST_COMP, "bootstrap object %d: %s; retrying", bg->boot_step,
                 store_strerror(res->err));
        chain_end(bg);
        return;
    }
    bg->boot_step++;
    boot_next(bg);
}

static void boot_next(struct rest_bg *bg)
{
    apiserver_t *a = bg->a;
    char key[256], ip[32];
    first_service_ip(a, ip, sizeof ip);
    if (bg->boot_step > N_BOOT_NS + 1) {
        struct store_status st;
        store_get_status(a->store, &st);
        bg->boot_term = st.term;
        eps_start(bg);
        return;
    }
    cJSON *o = boot_object(bg, bg->boot_step, key, sizeof key);
    int rv;
    if (!o) {
        snprintf(key, sizeof key, "/registry/ipalloc/%s", ip);
        rv = store_create(a->store, key, "default/kubernetes", 18, 0, boot_done, bg);
    } else {
        if (!strcmp(cJSON_GetObjectItemCaseSensitive(o, "kind")->valuestring, "Service")) {
            api_default("Service", o);
            cJSON *spec = cJSON_GetObjectItemCaseSensitive(o, "spec");
            cJSON_AddStringToObject(spec, "clusterIP", ip);
            api_prepare_create(api_resource_lookup("", "v1", "services"), o);
        }
        size_t len;
        char *bytes = obj_store_bytes(o, &len);
        cJSON_Delete(o);
        rv = bytes ? store_create(a->store, key, bytes, len, 0, boot_done, bg) : STORE_EINVAL;
        free(bytes);
    }
    if (rv != 0) chain_end(bg);
}

/* ------------------------------------------------------------- endpoints */

static cJSON *desired_endpoints(apiserver_t *a)
{
    struct store_member mem[16];
    size_t n = store_members(a->store, mem, 16);
    cJSON *subsets = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        if (!mem[i].api_url || !mem[i].voter) continue;
        char host[64];
        int port = 0;
        if (sscanf(mem[i].api_url, "http%*[s]://%63[^:/]:%d", host, &port) != 2 &&
            sscanf(mem[i].api_url, "http://%63[^:/]:%d", host, &port) != 2)
            continue;
        cJSON *sub = NULL, *s;
        cJSON_ArrayForEach(s, subsets)
        {
            const cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(s, "ports"), 0);
            if (cJSON_GetObjectItemCaseSensitive(p, "port")->valueint == port) sub = s;
        }
        if (!sub) {
            sub = cJSON_CreateObject();
            cJSON_AddArrayToObject(sub, "addresses");
            cJSON *ports = cJSON_AddArrayToObject(sub, "ports");
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "name", "https");
            cJSON_AddNumberToObject(p, "port", port);
            cJSON_AddStringToObject(p, "protocol", "TCP");
            cJSON_AddItemToArray(ports, p);
            cJSON_AddItemToArray(subsets, sub);
        }
        cJSON *addrs = cJSON_GetObjectItemCaseSensitive(sub, "addresses");
        bool dup = false;
        cJSON_ArrayForEach(
            s, addrs) if (!strcmp(cJSON_GetObjectItemCaseSensitive(s, "ip")->valuestring, host))
            dup = true;
        if (!dup) {
            cJSON *ad = cJSON_CreateObject();
            cJSON_AddStringToObject(ad, "ip", host);
            cJSON_AddItemToArray(addrs, ad);
        }
    }
    return subsets;
}

static void eps_written(const store_result_t *res, void *data)
{
    struct rest_bg *bg = data;
    if (res->err != STORE_OK && res->err != STORE_ECONFLICT && res->err != STORE_EEXIST &&
        !bg->stopping)
        log_warn(REST_COMP, "kubernetes endpoints: %s", store_strerror(res->err));
    if (bg->stopping) {
        chain_end(bg);
        return;
    }
    ns_start(bg);
}

static void eps_got(const store_result_t *res, void *data)
{
    struct rest_bg *bg = data;
    apiserver_t *a = bg->a;
    if (bg->stopping) {
        chain_end(bg);
        return;
    }
    if (res->err != STORE_OK && res->err != STORE_ENOENT) {
        ns_start(bg);
        return;
    }
    cJSON *want = desired_endpoints(a);
    cJSON *cur = res->err == STORE_OK ? obj_parse_kv(res->kv) : NULL;
    const cJSON *have = cJSON_GetObjectItemCaseSensitive(cur, "subsets");
    if (cJSON_GetArraySize(want) == 0 || (have && cJSON_Compare(have, want, true))) {
        cJSON_Delete(want);
        cJSON_Delete(cur);
        ns_start(bg);
        return;
    }
    uint64_t rev = res->err == STORE_OK ? res->kv->mod_rev : 0;
    cJSON *o = cur ? cur : base_object("Endpoints", "kubernetes", "default");
    if (!cur) {
        api_meta_set_label(o, "endpointslice.kubernetes.io/skip-mirror", "true");
    }
    cJSON_DeleteItemFromObjectCaseSensitive(o, "subsets");
    cJSON_AddItemToObject(o, "subsets", want);
    size_t len;
    char *bytes = obj_store_bytes(o, &len);
    cJSON_Delete(o);
    const char *key = "/registry/endpoints/default/kubernetes";
    int rv = !bytes ? STORE_EINVAL
             : rev  ? store_update(a->store, key, bytes, len, rev, 0, eps_written, bg)
                    : store_create(a->store, key, bytes, len, 0, eps_written, bg);
    free(bytes);
    if (rv != 0) ns_start(bg);
}

static void eps_start(struct rest_bg *bg)
{
    uint64_t now = time_mono_ms();
    if (now < bg->next_eps_ms) {
        ns_start(bg);
        return;
    }
    bg->next_eps_ms = now + EPS_EVERY_MS;
    int rv = store_get(bg->a->store, "/registry/endpoints/default/kubernetes", eps_got, bg);
    if (rv != 0) ns_start(bg);
}

/* ------------------------------------------------ namespace termination */

static void ns_empty_next(struct rest_bg *bg);

static void ns_finalized(const store_result_t *res, void *data)
{
    struct rest_bg *bg = data;
    if (res->err != STORE_OK && !bg->stopping)
        log_warn(REST_COMP, "finalizing namespace %s: %s", bg->ns, store_strerror(res->err));
    chain_end(bg);
}

/* Everything is gone: drop the kubernetes finalizer, and the namespace. */
static void ns_got_for_finalize(const store_result_t *res, void *data)
{
    struct rest_bg *bg = data;
    if (bg->stopping || res->err != STORE_OK) {
        chain_end(bg);
        return;
    }
    cJSON *o = obj_parse_kv(res->kv);
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(o, "spec");
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "finalizers");
    cJSON *fins = api_meta_finalizers(o);
    char key[128];
    snprintf(key, sizeof key, "/registry/namespaces/%s", bg->ns);
    int rv;
    if (!fins || cJSON_GetArraySize(fins) == 0) {
        rv = store_delete(bg->a->store, key, res->kv->mod_rev, ns_finalized, bg);
        if (rv == 0) log_info(REST_COMP, "namespace %s is empty: removed", bg->ns);
    } else {
        size_t len;
        char *bytes = obj_store_bytes(o, &len);
        rv = bytes ? store_update(bg->a->store, key, bytes, len, res->kv->mod_rev, 0, ns_finalized,
                                  bg)
                   : STORE_EINVAL;
        free(bytes);
    }
    cJSON_Delete(o);
    if (rv != 0) chain_end(bg);
}

static void ns_item_deleted(void *data, cJSON *obj, bool deleted, cJSON *status)
{
    struct rest_bg *bg = data;
    (void)deleted;
    cJSON_Delete(obj);
    cJSON_Delete(status);
    if (--bg->inflight > 0) return;
    if (bg->stopping) {
        chain_end(bg);
        return;
    }
    bg->res_i++;
    ns_empty_next(bg);
}

static void ns_ranged(const store_result_t *res, void *data)
{
    struct rest_bg *bg = data;
    if (bg->stopping || res->err != STORE_OK) {
        chain_end(bg);
        return;
    }
    const api_resource_t *r = api_resource_at(bg->res_i);
    if (res->n_kvs == 0) {
        bg->res_i++;
        ns_empty_next(bg);
        return;
    }
    bg->found_any = true;
    struct del_opts o = {.grace = -1};
    bg->inflight = (int)res->n_kvs + 1;
    for (size_t i = 0; i < res->n_kvs; i++) {
        const char *name = strrchr(res->kvs[i].key, '/');
        rest_delete_key(bg->a, NULL, r, res->kvs[i].key, name ? name + 1 : "", &o, ns_item_deleted,
                        bg);
    }
    ns_item_deleted(bg, NULL, false, NULL);
}

static void ns_empty_next(struct rest_bg *bg)
{
    for (; bg->res_i < api_resource_count(); bg->res_i++) {
        const api_resource_t *r = api_resource_at(bg->res_i);
        if (!r->namespaced || !r->stored) continue;
        char prefix[256];
        api_storage_key(r, bg->ns, NULL, prefix, sizeof prefix);
        int rv = store_range(bg->a->store, prefix, NULL, NS_BATCH, 0, ns_ranged, bg);
        if (rv != 0) chain_end(bg);
        return;
    }
    if (bg->found_any) {
        /* Some objects were still there (or are waiting on finalizers /
         * grace periods): look again next tick. */
        chain_end(bg);
        return;
    }
    char key[128];
    snprintf(key, sizeof key, "/registry/namespaces/%s", bg->ns);
    if (store_get(bg->a->store, key, ns_got_for_finalize, bg) != 0) chain_end(bg);
}

static void ns_listed(const store_result_t *res, void *data)
{
    struct rest_bg *bg = data;
    if (bg->stopping || res->err != STORE_OK) {
        chain_end(bg);
        return;
    }
    for (size_t i = 0; i < res->n_kvs; i++) {
        cJSON *o = obj_parse_kv(&res->kvs[i]);
        bool terminating = o && api_meta_deletion_timestamp(o) && api_meta_name(o);
        if (terminating) snprintf(bg->ns, sizeof bg->ns, "%s", api_meta_name(o));
        cJSON_Delete(o);
        if (terminating) {
            bg->res_i = 0;
            bg->found_any = false;
            ns_empty_next(bg);
            return;
        }
    }
    chain_end(bg);
}

static void ns_start(struct rest_bg *bg)
{
    int rv = store_range(bg->a->store, "/registry/namespaces/", NULL, 0, 0, ns_listed, bg);
    if (rv != 0) chain_end(bg);
}

/* ------------------------------------------------------------------ timer */

static void tick(uv_timer_t *t)
{
    struct rest_bg *bg = t->data;
    if (bg->busy || bg->stopping || !store_is_ready(bg->a->store)) return;
    struct store_status st;
    store_get_status(bg->a->store, &st);
    if (!st.is_leader) return;
    bg->busy = true;
    if (bg->boot_term != st.term) {
        bg->boot_step = 0;
        boot_next(bg);
        return;
    }
    eps_start(bg);
}

void rest_bg_start(apiserver_t *a)
{
    struct rest_bg *bg = calloc(1, sizeof(*bg));
    if (!bg) {
        log_error(REST_COMP, "out of memory: no namespace bootstrap");
        return;
    }
    bg->a = a;
    a->bg = bg;
    uv_timer_init(a->loop, &bg->timer);
    bg->timer.data = bg;
    uv_timer_start(&bg->timer, tick, 200, TICK_MS);
}

static void timer_closed(uv_handle_t *h)
{
    struct rest_bg *bg = h->data;
    bg->timer_closed = true;
    bg_free_if_done(bg);
}

void rest_bg_stop(apiserver_t *a)
{
    struct rest_bg *bg = a->bg;
    if (!bg) return;
    a->bg = NULL;
    bg->stopping = true;
    uv_timer_stop(&bg->timer);
    uv_close((uv_handle_t *)&bg->timer, timer_closed);
}
