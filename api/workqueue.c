/*
 * workqueue.c - client-go's rate-limited work queue, for one uv loop (see
 * the work queue section of api.h for the contract).
 *
 * Each key has one item holding its state bits: DIRTY (wants processing),
 * PROCESSING (handed to the worker, not done yet) and WAITING (in the delay
 * heap), plus its failure count for the backoff. A DIRTY key that is not
 * PROCESSING is in the FIFO exactly once; a key added while PROCESSING stays
 * out of the FIFO until done, which is what keeps one key from being
 * reconciled twice at once. An item goes away when it has no bit and no
 * failure left, so the queue's memory follows the work, not the history.
 *
 * The worker runs from an idle handle, a bounded batch per loop iteration,
 * so a long queue never starves the loop's I/O (watch events keep coming).
 */
#include "api/client_int.h"

#include <stdlib.h>
#include <string.h>

#define W_DIRTY 1u
#define W_PROCESSING 2u
#define W_WAITING 4u

struct witem {
    struct cmap_node node;
    unsigned flags;
    unsigned failures;
    uint64_t ready_at;
    size_t heap_i;
    struct witem *qnext;
};

struct api_workqueue {
    uv_loop_t *loop;
    api_work_fn fn;
    void *data;
    uint64_t base, max;
    unsigned batch, max_active;
    struct cmap items;
    struct witem *head, *tail;
    size_t qlen, active;
    struct witem **heap;
    size_t nheap, capheap;
    uv_idle_t idle;
    uv_timer_t timer;
    bool freeing;
    int refs;
};

/* ------------------------------------------------------------------ items */

static struct witem *item_get(const api_workqueue_t *q, const char *key)
{
    return (struct witem *)cmap_get(&q->items, key);
}

static struct witem *item_make(api_workqueue_t *q, const char *key)
{
    struct witem *it = item_get(q, key);
    if (it) return it;
    it = cl_calloc(1, sizeof(*it));
    it->node.key = cl_strdup(key);
    cmap_put(&q->items, &it->node);
    return it;
}

static void item_release(api_workqueue_t *q, struct witem *it)
{
    if (it->flags || it->failures) return;
    cmap_del(&q->items, &it->node);
    free(it->node.key);
    free(it);
}

/* ------------------------------------------------------------ delay heap */

static void heap_swap(api_workqueue_t *q, size_t a, size_t b)
{
    struct witem *t = q->heap[a];
    q->heap[a] = q->heap[b];
    q->heap[b] = t;
    q->heap[a]->heap_i = a;
    q->heap[b]->heap_i = b;
}

static void sift_up(api_workqueue_t *q, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (q->heap[p]->ready_at <= q->heap[i]->ready_at) break;
        heap_swap(q, i, p);
        i = p;
    }
}

static void sift_down(api_workqueue_t *q, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->nheap && q->heap[l]->ready_at < q->heap[m]->ready_at) m = l;
        if (r < q->nheap && q->heap[r]->ready_at < q->heap[m]->ready_at) m = r;
        if (m == i) return;
        heap_swap(q, i, m);
        i = m;
    }
}

static void heap_push(api_workqueue_t *q, struct witem *it)
{
    if (q->nheap == q->capheap) {
        q->capheap = q->capheap ? q->capheap * 2 : 16;
        q->heap = cl_realloc(q->heap, q->capheap * sizeof(*q->heap));
    }
    it->heap_i = q->nheap;
    q->heap[q->nheap++] = it;
    sift_up(q, it->heap_i);
}

static struct witem *heap_pop(api_workqueue_t *q)
{
    struct witem *top = q->heap[0];
    heap_swap(q, 0, --q->nheap);
    if (q->nheap) sift_down(q, 0);
    return top;
}

/* --------------------------------------------------------------- running */

static void idle_cb(uv_idle_t *h)
{
    api_workqueue_t *q = h->data;
    for (unsigned n = 0; n < q->batch && q->head && q->active < q->max_active && !q->freeing; n++) {
        struct witem *it = q->head;
        q->head = it->qnext;
        if (!q->head) q->tail = NULL;
        it->qnext = NULL;
        q->qlen--;
        it->flags = (it->flags & ~W_DIRTY) | W_PROCESSING;
        q->active++;
        q->fn(q, it->node.key, q->data); /* may call done: it may be gone */
    }
    if (!q->freeing && (!q->head || q->active >= q->max_active)) uv_idle_stop(&q->idle);
}

static void kick(api_workqueue_t *q)
{
    if (q->head && q->active < q->max_active && !q->freeing) uv_idle_start(&q->idle, idle_cb);
}

static void enqueue(api_workqueue_t *q, struct witem *it)
{
    if (q->tail)
        q->tail->qnext = it;
    else
        q->head = it;
    q->tail = it;
    q->qlen++;
}

void api_workqueue_add(api_workqueue_t *q, const char *key)
{
    if (!q || q->freeing || !key) return;
    struct witem *it = item_make(q, key);
    if (it->flags & W_DIRTY) return;
    it->flags |= W_DIRTY;
    if (!(it->flags & W_PROCESSING)) enqueue(q, it);
    kick(q);
}

static void timer_cb(uv_timer_t *t);

static void arm_timer(api_workqueue_t *q)
{
    if (q->freeing) return;
    if (!q->nheap) {
        uv_timer_stop(&q->timer);
        return;
    }
    uint64_t now = uv_now(q->loop), at = q->heap[0]->ready_at;
    uv_timer_start(&q->timer, timer_cb, at > now ? at - now : 0, 0);
}

static void timer_cb(uv_timer_t *t)
{
    api_workqueue_t *q = t->data;
    uint64_t now = uv_now(q->loop);
    while (q->nheap && q->heap[0]->ready_at <= now && !q->freeing) {
        struct witem *it = heap_pop(q);
        it->flags &= ~W_WAITING;
        api_workqueue_add(q, it->node.key);
    }
    arm_timer(q);
}

void api_workqueue_add_after(api_workqueue_t *q, const char *key, uint64_t delay_ms)
{
    if (!q || q->freeing || !key) return;
    if (delay_ms == 0) {
        api_workqueue_add(q, key);
        return;
    }
    struct witem *it = item_make(q, key);
    uint64_t at = uv_now(q->loop) + delay_ms;
    if (it->flags & W_WAITING) {
        if (at >= it->ready_at) return;
        it->ready_at = at;
        sift_up(q, it->heap_i);
    } else {
        it->ready_at = at;
        it->flags |= W_WAITING;
        heap_push(q, it);
    }
    arm_timer(q);
}

uint64_t api_workqueue_add_rate_limited(api_workqueue_t *q, const char *key)
{
    if (!q || q->freeing || !key) return 0;
    struct witem *it = item_make(q, key);
    uint64_t d = q->base;
    for (unsigned i = 0; i < it->failures && d < q->max; i++)
        d *= 2;
    if (d > q->max) d = q->max;
    if (it->failures < 64) it->failures++;
    api_workqueue_add_after(q, key, d);
    return d;
}

void api_workqueue_forget(api_workqueue_t *q, const char *key)
{
    struct witem *it = q && key ? item_get(q, key) : NULL;
    if (!it) return;
    it->failures = 0;
    item_release(q, it);
}

unsigned api_workqueue_num_requeues(const api_workqueue_t *q, const char *key)
{
    const struct witem *it = q && key ? item_get(q, key) : NULL;
    return it ? it->failures : 0;
}

void api_workqueue_done(api_workqueue_t *q, const char *key)
{
    struct witem *it = q && key && !q->freeing ? item_get(q, key) : NULL;
    if (!it || !(it->flags & W_PROCESSING)) return;
    it->flags &= ~W_PROCESSING;
    q->active--;
    if (it->flags & W_DIRTY) enqueue(q, it);
    item_release(q, it);
    kick(q);
}

size_t api_workqueue_len(const api_workqueue_t *q)
{
    return q->qlen;
}

size_t api_workqueue_active(const api_workqueue_t *q)
{
    return q->active;
}

/* -------------------------------------------------------------- lifetime */

api_workqueue_t *api_workqueue_new(uv_loop_t *loop, const api_workqueue_config_t *cfg,
                                   api_work_fn fn, void *data)
{
    if (!loop || !fn) return NULL;
    api_workqueue_t *q = cl_calloc(1, sizeof(*q));
    q->loop = loop;
    q->fn = fn;
    q->data = data;
    q->base = cfg && cfg->base_delay_ms ? cfg->base_delay_ms : 5;
    q->max = cfg && cfg->max_delay_ms ? cfg->max_delay_ms : 1000000;
    if (q->max < q->base) q->max = q->base;
    q->batch = cfg && cfg->batch ? cfg->batch : 16;
    q->max_active = cfg && cfg->max_active ? cfg->max_active : 1;
    q->refs = 3; /* the owner's and the two handles */
    uv_idle_init(loop, &q->idle);
    uv_timer_init(loop, &q->timer);
    q->idle.data = q->timer.data = q;
    return q;
}

static void unref(api_workqueue_t *q)
{
    if (--q->refs > 0) return;
    struct cmap_iter it = {0};
    struct cmap_node *n;
    while ((n = cmap_next(&q->items, &it))) {
        free(n->key);
        free(n);
    }
    cmap_free(&q->items);
    free(q->heap);
    free(q);
}

static void on_closed(uv_handle_t *h)
{
    unref(h->data);
}

void api_workqueue_free(api_workqueue_t *q)
{
    if (!q || q->freeing) return;
    q->freeing = true;
    uv_close((uv_handle_t *)&q->idle, on_closed);
    uv_close((uv_handle_t *)&q->timer, on_closed);
    unref(q);
}
