/*
 * podcidr.c - node pod CIDR allocation: every Node without spec.podCIDR
 * gets the next free /24 (the node mask) of the cluster CIDR, as
 * kube-controller-manager's range allocator does. The agent takes its pods'
 * addresses from it and routes to the other nodes' blocks.
 *
 * A block is taken from the moment it is chosen (before the Node shows
 * it), so two nodes registering together never get the same one; it is
 * freed when its Node is deleted. Allocation goes round robin from the last
 * block given, so a block just freed is not handed out again at once (a
 * stale route to it may still exist on some node). Nothing is allocated
 * before the Node cache has synced: every block already in use must be
 * known first.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctrl_int.h"

/* ---------------------------------------------------------------- pool */

struct cidr_pool {
    uint32_t base; /* host order */
    unsigned prefix, mask;
    size_t slots, used, last;
    unsigned char *bits;
};

static bool parse_cidr(const char *s, uint32_t *addr, unsigned *prefix)
{
    char buf[64];
    const char *slash = strchr(s ? s : "", '/');
    if (!slash || (size_t)(slash - s) >= sizeof buf) return false;
    memcpy(buf, s, (size_t)(slash - s));
    buf[slash - s] = '\0';
    struct in_addr a;
    if (inet_pton(AF_INET, buf, &a) != 1) return false;
    char *end;
    long p = strtol(slash + 1, &end, 10);
    if (*end || end == slash + 1 || p < 0 || p > 32) return false;
    *addr = ntohl(a.s_addr);
    *prefix = (unsigned)p;
    return true;
}

cidr_pool_t *cidr_pool_new(const char *cluster_cidr, unsigned mask)
{
    uint32_t a;
    unsigned p;
    if (!parse_cidr(cluster_cidr, &a, &p)) return NULL;
    /* At most 65,536 blocks (a /8 cut in /24s), at least one address pair. */
    if (mask < p || mask > 30 || mask - p > 16) return NULL;
    cidr_pool_t *pool = cx_calloc(1, sizeof(*pool));
    pool->prefix = p;
    pool->mask = mask;
    pool->base = p ? a & ~((1u << (32 - p)) - 1) : 0;
    pool->slots = (size_t)1 << (mask - p);
    pool->bits = cx_calloc((pool->slots + 7) / 8, 1);
    pool->last = pool->slots - 1;
    return pool;
}

void cidr_pool_free(cidr_pool_t *p)
{
    if (!p) return;
    free(p->bits);
    free(p);
}

/* The block index of cidr, or -1 when it is not a block of the pool. */
static long slot_of(const cidr_pool_t *p, const char *cidr)
{
    uint32_t a;
    unsigned m;
    if (!parse_cidr(cidr, &a, &m) || m != p->mask) return -1;
    uint32_t off = a - p->base;
    if (a < p->base || (off >> (32 - p->mask)) >= p->slots) return -1;
    if (off & ((1u << (32 - p->mask)) - 1)) return -1;
    return (long)(off >> (32 - p->mask));
}

static bool bit(const cidr_pool_t *p, size_t i)
{
    return p->bits[i / 8] & (1u << (i % 8));
}

bool cidr_pool_occupy(cidr_pool_t *p, const char *cidr)
{
    long i = slot_of(p, cidr);
    if (i < 0) return false;
    if (!bit(p, (size_t)i)) {
        p->bits[i / 8] |= (unsigned char)(1u << (i % 8));
        p->used++;
    }
    return true;
}

void cidr_pool_release(cidr_pool_t *p, const char *cidr)
{
    long i = slot_of(p, cidr);
    if (i < 0 || !bit(p, (size_t)i)) return;
    p->bits[i / 8] &= (unsigned char)~(1u << (i % 8));
    p->used--;
}

bool cidr_pool_next(cidr_pool_t *p, char *out, size_t len)
{
    for (size_t k = 1; k <= p->slots; k++) {
        size_t i = (p->last + k) % p->slots;
        if (bit(p, i)) continue;
        p->bits[i / 8] |= (unsigned char)(1u << (i % 8));
        p->used++;
        p->last = i;
        uint32_t a = p->base + ((uint32_t)i << (32 - p->mask));
        struct in_addr ia = {htonl(a)};
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &ia, ip, sizeof ip);
        snprintf(out, len, "%s/%u", ip, p->mask);
        return true;
    }
    return false;
}

size_t cidr_pool_used(const cidr_pool_t *p)
{
    return p->used;
}

/* ---------------------------------------------------------------- loop */

struct podcidr {
    ctrl_sess_t *s;
    api_workqueue_t *q;
    cidr_pool_t *pool;
    ctrl_map_t owned;   /* node -> the block it shows (that we occupied) */
    ctrl_map_t pending; /* node -> a block chosen, not yet shown */
};

struct assign {
    podcidr_t *p;
    char *node;
};

static void note_node(podcidr_t *p, const cJSON *node)
{
    const char *name = api_meta_name(node);
    const char *cidr = cj_str(node, "spec.podCIDR");
    if (!name) return;
    if (!cidr || !*cidr) {
        api_workqueue_add(p->q, name);
        return;
    }
    char *had = cm_get(&p->owned, name);
    if (!had || strcmp(had, cidr)) {
        if (cidr_pool_occupy(p->pool, cidr)) {
            free(cm_put(&p->owned, name, cx_strdup(cidr)));
        } else {
            log_warn(CTRL_COMP, "node %s: podCIDR %s is not a block of the cluster CIDR", name,
                     cidr);
        }
    }
    char *pend = cm_del(&p->pending, name);
    /* Someone else set a different block: ours goes back. */
    if (pend && strcmp(pend, cidr)) cidr_pool_release(p->pool, pend);
    free(pend);
}

static void on_add(const cJSON *node, void *data)
{
    note_node(data, node);
}

static void on_update(const cJSON *old, const cJSON *cur, void *data)
{
    (void)old;
    note_node(data, cur);
}

static void on_delete(const cJSON *node, void *data)
{
    podcidr_t *p = data;
    const char *name = api_meta_name(node);
    if (!name) return;
    char *had = cm_del(&p->owned, name);
    if (had) cidr_pool_release(p->pool, had);
    free(had);
    char *pend = cm_del(&p->pending, name);
    if (pend) cidr_pool_release(p->pool, pend);
    free(pend);
}

static bool on_patched(api_result_t *res, void *arg)
{
    struct assign *a = arg;
    podcidr_t *p = a->p;
    bool ok = api_result_ok(res);
    if (!ok && res->err == 0 && res->status == 404 && !p->s->stopping) {
        char *pend = cm_del(&p->pending, a->node);
        if (pend) cidr_pool_release(p->pool, pend);
        free(pend);
        ok = true;
    }
    return ok;
}

static void assigned(int failures, const char *err, void *data)
{
    struct assign *a = data;
    podcidr_t *p = a->p;
    if (!p->s->stopping) {
        api_workqueue_done(p->q, a->node);
        if (failures) {
            log_info(CTRL_COMP, "node %s: pod CIDR: %s", a->node, err);
            api_workqueue_add_rate_limited(p->q, a->node);
        } else {
            api_workqueue_forget(p->q, a->node);
        }
    }
    free(a->node);
    free(a);
}

static void reconcile(api_workqueue_t *q, const char *key, void *data)
{
    podcidr_t *p = data;
    if (ctrl_defer_unsynced(p->s, q, key)) return;
    const cJSON *node = ctrl_get(p->s, CR_NODES, NULL, key);
    if (!node || *cj_str0(node, "spec.podCIDR")) {
        api_workqueue_done(q, key);
        return;
    }
    char cidr[64];
    const char *pend = cm_get(&p->pending, key);
    if (pend) {
        snprintf(cidr, sizeof cidr, "%s", pend);
    } else if (cidr_pool_next(p->pool, cidr, sizeof cidr)) {
        cm_put(&p->pending, key, cx_strdup(cidr));
    } else {
        log_error(CTRL_COMP, "node %s: no pod CIDR left in %s", key, p->s->cfg->cluster_cidr);
        api_workqueue_done(q, key);
        api_workqueue_add_after(q, key, 30000);
        return;
    }
    log_info(CTRL_COMP, "node %s: pod CIDR %s", key, cidr);
    cJSON *patch = cj_new_obj();
    cJSON *spec = cj_obj(patch, "spec");
    cj_set_str(spec, "podCIDR", cidr);
    cJSON *arr = cj_new_arr();
    cj_push(arr, cJSON_CreateString(cidr));
    cj_set(spec, "podCIDRs", arr);
    struct assign *a = cx_calloc(1, sizeof(*a));
    a->p = p;
    a->node = cx_strdup(key);
    ctrl_batch_t *b = ctrl_batch_new(p->s, assigned, a);
    api_ref_t ref = ctrl_ref(CR_NODES, NULL, key, NULL);
    ctrl_batch_patch(b, &ref, API_PATCH_STRATEGIC, patch, on_patched, a);
    cJSON_Delete(patch);
    ctrl_batch_seal(b);
}

podcidr_t *podcidr_new(ctrl_sess_t *s)
{
    podcidr_t *p = cx_calloc(1, sizeof(*p));
    p->s = s;
    p->pool = cidr_pool_new(s->cfg->cluster_cidr, s->cfg->node_cidr_mask);
    if (!p->pool) cx_oom(); /* validated by ctrl_start */
    p->q = ctrl_queue_new(s, reconcile, p);
    ctrl_sub_t sub = {on_add, on_update, on_delete, p};
    ctrl_subscribe(s, CR_NODES, &sub);
    return p;
}

static void free_str(void *v)
{
    free(v);
}

void podcidr_free(podcidr_t *p)
{
    if (!p) return;
    api_workqueue_free(p->q);
    cidr_pool_free(p->pool);
    cm_clear(&p->owned, free_str);
    cm_clear(&p->pending, free_str);
    free(p);
}
