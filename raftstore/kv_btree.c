/*
 * kv_btree.c - the ordered index of a kv_t's current keys.
 *
 * A B+tree of entry pointers: leaves hold up to 64 pointers and are linked
 * for in-order scans; inner nodes hold copied separator strings (entries are
 * replaced on every put, so a separator cannot point at one) and the number
 * of keys under each child, which makes counting the keys under a prefix
 * O(log n) instead of a scan. About 12 bytes per key at the usual fill, one
 * descent per operation. Inserts at the right edge split unevenly so that
 * ascending loads (snapshot restore) fill leaves completely.
 *
 * Inserts allocate everything a split needs before changing the tree, so an
 * allocation failure leaves it untouched; removals never fail (a leaf left
 * under-full when a separator copy cannot be made is still a valid tree).
 */
#include <stdlib.h>
#include <string.h>

#include "raftstore/kv_int.h"

#define BT_MAX_DEPTH 32
#define LEAF_MIN (BT_LEAF_CAP / 2)
#define INNER_MIN (BT_INNER_CAP / 2)

static inline const char *ekey(const struct kv_entry *e)
{
    return e->kv.key;
}

void bt_init(struct bt *t)
{
    memset(t, 0, sizeof(*t));
}

static void clear_node(struct bt *t, struct bt_node *n,
                       void (*release)(struct kv_entry *e, void *arg), void *arg)
{
    if (n->leaf) {
        struct bt_leaf *l = (struct bt_leaf *)n;
        if (release)
            for (unsigned i = 0; i < l->h.n; i++)
                release(l->e[i], arg);
    } else {
        struct bt_inner *in = (struct bt_inner *)n;
        for (unsigned i = 0; i < in->h.n; i++)
            clear_node(t, in->c[i], release, arg);
        for (unsigned i = 0; i + 1 < in->h.n; i++)
            free(in->sep[i]);
    }
    free(n);
}

void bt_clear(struct bt *t, void (*release)(struct kv_entry *e, void *arg), void *arg)
{
    if (t->root) clear_node(t, t->root, release, arg);
    bt_init(t);
}

/* Child of `in` whose range holds key: the number of separators <= key. */
static unsigned inner_child(const struct bt_inner *in, const char *key)
{
    unsigned lo = 0, hi = in->h.n - 1u;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (strcmp(in->sep[mid], key) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First index whose key is >= key (strict: > key). */
static unsigned leaf_lower(const struct bt_leaf *l, const char *key, bool strict)
{
    unsigned lo = 0, hi = l->h.n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        int c = strcmp(ekey(l->e[mid]), key);
        if (c < 0 || (strict && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static size_t node_count(const struct bt_node *n)
{
    if (n->leaf) return n->n;
    const struct bt_inner *in = (const struct bt_inner *)n;
    size_t s = 0;
    for (unsigned i = 0; i < in->h.n; i++)
        s += in->cnt[i];
    return s;
}

struct kv_entry *bt_find(const struct bt *t, const char *key)
{
    const struct bt_node *n = t->root;
    if (!n) return NULL;
    while (!n->leaf) {
        const struct bt_inner *in = (const struct bt_inner *)n;
        n = in->c[inner_child(in, key)];
    }
    const struct bt_leaf *l = (const struct bt_leaf *)n;
    unsigned i = leaf_lower(l, key, false);
    if (i < l->h.n && strcmp(ekey(l->e[i]), key) == 0) return l->e[i];
    return NULL;
}

struct path {
    struct bt_inner *in;
    unsigned i;
};

/* How many entries stay left when a full leaf splits with a new one at pos:
 * everything when appending at the right edge, else half. */
static unsigned leaf_split_at(const struct bt_leaf *l, unsigned pos)
{
    return (!l->next && pos == BT_LEAF_CAP) ? BT_LEAF_CAP : (BT_LEAF_CAP + 1) / 2;
}

static unsigned inner_split_at(bool rightmost, unsigned pos)
{
    return (rightmost && pos == BT_INNER_CAP) ? BT_INNER_CAP : (BT_INNER_CAP + 1) / 2;
}

/* Entry at index k of the leaf as if e were inserted at pos. */
static struct kv_entry *leaf_virtual(const struct bt_leaf *l, unsigned pos, struct kv_entry *e,
                                     unsigned k)
{
    if (k < pos) return l->e[k];
    if (k == pos) return e;
    return l->e[k - 1];
}

int bt_upsert(struct bt *t, struct kv_entry *e, struct kv_entry **old)
{
    *old = NULL;
    if (!t->root) {
        struct bt_leaf *l = calloc(1, sizeof(*l));
        if (!l) return -1;
        l->h.leaf = 1;
        l->h.n = 1;
        l->e[0] = e;
        t->root = &l->h;
        t->n_leaves = 1;
        t->count = 1;
        return 0;
    }
    struct path path[BT_MAX_DEPTH];
    bool rightmost[BT_MAX_DEPTH];
    unsigned depth = 0;
    struct bt_node *n = t->root;
    bool rm = true;
    while (!n->leaf) {
        struct bt_inner *in = (struct bt_inner *)n;
        unsigned i = inner_child(in, ekey(e));
        path[depth].in = in;
        path[depth].i = i;
        rightmost[depth] = rm;
        rm = rm && i == in->h.n - 1u;
        depth++;
        n = in->c[i];
    }
    struct bt_leaf *leaf = (struct bt_leaf *)n;
    unsigned pos = leaf_lower(leaf, ekey(e), false);
    if (pos < leaf->h.n && strcmp(ekey(leaf->e[pos]), ekey(e)) == 0) {
        *old = leaf->e[pos];
        leaf->e[pos] = e;
        return 0;
    }
    if (leaf->h.n < BT_LEAF_CAP) {
        memmove(&leaf->e[pos + 1], &leaf->e[pos], (leaf->h.n - pos) * sizeof(leaf->e[0]));
        leaf->e[pos] = e;
        leaf->h.n++;
        for (unsigned d = 0; d < depth; d++)
            path[d].in->cnt[path[d].i]++;
        t->count++;
        return 0;
    }

    /* The leaf splits: allocate every node the split climbs through first. */
    unsigned splits = 0; /* inner nodes that split */
    while (splits < depth && path[depth - 1 - splits].in->h.n == BT_INNER_CAP)
        splits++;
    bool new_root = splits == depth;
    unsigned lsplit = leaf_split_at(leaf, pos);
    struct bt_leaf *right = calloc(1, sizeof(*right));
    char *sep = strdup(ekey(leaf_virtual(leaf, pos, e, lsplit)));
    struct bt_inner *fresh[BT_MAX_DEPTH + 1];
    unsigned n_fresh = splits + (new_root ? 1 : 0);
    bool ok = right && sep;
    for (unsigned k = 0; k < n_fresh; k++) {
        fresh[k] = ok ? calloc(1, sizeof(struct bt_inner)) : NULL;
        if (!fresh[k]) ok = false;
    }
    if (!ok) {
        free(right);
        free(sep);
        for (unsigned k = 0; k < n_fresh; k++)
            free(fresh[k]);
        return -1;
    }

    for (unsigned d = 0; d < depth; d++)
        path[d].in->cnt[path[d].i]++;
    t->count++;

    struct kv_entry *tmp[BT_LEAF_CAP + 1];
    for (unsigned k = 0; k <= BT_LEAF_CAP; k++)
        tmp[k] = leaf_virtual(leaf, pos, e, k);
    right->h.leaf = 1;
    right->h.n = (uint16_t)(BT_LEAF_CAP + 1 - lsplit);
    memcpy(right->e, &tmp[lsplit], right->h.n * sizeof(tmp[0]));
    leaf->h.n = (uint16_t)lsplit;
    memcpy(leaf->e, tmp, lsplit * sizeof(tmp[0]));
    right->next = leaf->next;
    if (right->next) right->next->prev = right;
    right->prev = leaf;
    leaf->next = right;
    t->n_leaves++;
    t->sep_bytes += strlen(sep) + 1;

    /* Climb: insert (sep, rnode) right of the child that split. */
    struct bt_node *lnode = &leaf->h, *rnode = &right->h;
    unsigned used = 0;
    for (unsigned d = depth; d-- > 0;) {
        struct bt_inner *p = path[d].in;
        unsigned i = path[d].i;
        uint32_t lcnt = (uint32_t)node_count(lnode), rcnt = (uint32_t)node_count(rnode);
        if (p->h.n < BT_INNER_CAP) {
            unsigned nn = p->h.n;
            memmove(&p->sep[i + 1], &p->sep[i], (nn - 1 - i) * sizeof(p->sep[0]));
            memmove(&p->c[i + 2], &p->c[i + 1], (nn - 1 - i) * sizeof(p->c[0]));
            memmove(&p->cnt[i + 2], &p->cnt[i + 1], (nn - 1 - i) * sizeof(p->cnt[0]));
            p->sep[i] = sep;
            p->c[i + 1] = rnode;
            p->cnt[i] = lcnt;
            p->cnt[i + 1] = rcnt;
            p->h.n++;
            return 0;
        }
        struct bt_node *tc[BT_INNER_CAP + 1];
        uint32_t tn[BT_INNER_CAP + 1];
        char *ts[BT_INNER_CAP];
        for (unsigned k = 0, src = 0; k <= BT_INNER_CAP; k++) {
            if (k == i + 1) {
                tc[k] = rnode;
                tn[k] = rcnt;
            } else {
                tc[k] = p->c[src];
                tn[k] = k == i ? lcnt : p->cnt[src];
                src++;
            }
        }
        for (unsigned k = 0, src = 0; k < BT_INNER_CAP; k++)
            ts[k] = k == i ? sep : p->sep[src++];
        unsigned split = inner_split_at(rightmost[d], i + 1);
        struct bt_inner *r = fresh[used++];
        p->h.n = (uint16_t)split;
        memcpy(p->c, tc, split * sizeof(tc[0]));
        memcpy(p->cnt, tn, split * sizeof(tn[0]));
        memcpy(p->sep, ts, (split - 1) * sizeof(ts[0]));
        r->h.n = (uint16_t)(BT_INNER_CAP + 1 - split);
        memcpy(r->c, &tc[split], r->h.n * sizeof(tc[0]));
        memcpy(r->cnt, &tn[split], r->h.n * sizeof(tn[0]));
        memcpy(r->sep, &ts[split], (r->h.n - 1u) * sizeof(ts[0]));
        t->n_inner++;
        sep = ts[split - 1];
        lnode = &p->h;
        rnode = &r->h;
    }
    struct bt_inner *root = fresh[used];
    root->h.n = 2;
    root->c[0] = lnode;
    root->c[1] = rnode;
    root->cnt[0] = (uint32_t)node_count(lnode);
    root->cnt[1] = (uint32_t)node_count(rnode);
    root->sep[0] = sep;
    t->root = &root->h;
    t->n_inner++;
    return 0;
}

static void set_sep(struct bt *t, struct bt_inner *p, unsigned k, char *s)
{
    t->sep_bytes -= strlen(p->sep[k]) + 1;
    free(p->sep[k]);
    p->sep[k] = s;
    t->sep_bytes += strlen(s) + 1;
}

/* Removes separator k and child k+1 of p. */
static void inner_drop(struct bt_inner *p, unsigned k)
{
    unsigned nn = p->h.n;
    memmove(&p->sep[k], &p->sep[k + 1], (nn - 2 - k) * sizeof(p->sep[0]));
    memmove(&p->c[k + 1], &p->c[k + 2], (nn - 2 - k) * sizeof(p->c[0]));
    memmove(&p->cnt[k + 1], &p->cnt[k + 2], (nn - 2 - k) * sizeof(p->cnt[0]));
    p->h.n--;
}

/* Merges child k+1 of p into child k. */
static void merge(struct bt *t, struct bt_inner *p, unsigned k)
{
    struct bt_node *ln = p->c[k], *rn = p->c[k + 1];
    if (ln->leaf) {
        struct bt_leaf *l = (struct bt_leaf *)ln, *r = (struct bt_leaf *)rn;
        memcpy(&l->e[l->h.n], r->e, r->h.n * sizeof(r->e[0]));
        l->h.n = (uint16_t)(l->h.n + r->h.n);
        l->next = r->next;
        if (l->next) l->next->prev = l;
        t->sep_bytes -= strlen(p->sep[k]) + 1;
        free(p->sep[k]);
        t->n_leaves--;
    } else {
        struct bt_inner *l = (struct bt_inner *)ln, *r = (struct bt_inner *)rn;
        unsigned lnn = l->h.n;
        l->sep[lnn - 1] = p->sep[k];
        memcpy(&l->sep[lnn], r->sep, (r->h.n - 1u) * sizeof(r->sep[0]));
        memcpy(&l->c[lnn], r->c, r->h.n * sizeof(r->c[0]));
        memcpy(&l->cnt[lnn], r->cnt, r->h.n * sizeof(r->cnt[0]));
        l->h.n = (uint16_t)(lnn + r->h.n);
        t->n_inner--;
    }
    p->cnt[k] += p->cnt[k + 1];
    inner_drop(p, k);
    free(rn);
}

/* Child i of p is under-full: borrow from a sibling or merge with one.
 * Returns false when nothing could be done (a separator copy failed). */
static bool rebalance(struct bt *t, struct bt_inner *p, unsigned i)
{
    struct bt_node *c = p->c[i];
    unsigned min = c->leaf ? LEAF_MIN : INNER_MIN;
    struct bt_node *ls = i > 0 ? p->c[i - 1] : NULL;
    struct bt_node *rs = i + 1u < p->h.n ? p->c[i + 1] : NULL;
    if (ls && ls->n > min) {
        if (c->leaf) {
            struct bt_leaf *l = (struct bt_leaf *)ls, *x = (struct bt_leaf *)c;
            char *s = strdup(ekey(l->e[l->h.n - 1]));
            if (!s) return false;
            memmove(&x->e[1], x->e, x->h.n * sizeof(x->e[0]));
            x->e[0] = l->e[--l->h.n];
            x->h.n++;
            set_sep(t, p, i - 1, s);
            p->cnt[i - 1]--;
            p->cnt[i]++;
        } else {
            struct bt_inner *l = (struct bt_inner *)ls, *x = (struct bt_inner *)c;
            unsigned xn = x->h.n, lnn = l->h.n;
            memmove(&x->sep[1], x->sep, (xn - 1) * sizeof(x->sep[0]));
            memmove(&x->c[1], x->c, xn * sizeof(x->c[0]));
            memmove(&x->cnt[1], x->cnt, xn * sizeof(x->cnt[0]));
            x->sep[0] = p->sep[i - 1];
            x->c[0] = l->c[lnn - 1];
            x->cnt[0] = l->cnt[lnn - 1];
            p->sep[i - 1] = l->sep[lnn - 2];
            x->h.n++;
            l->h.n--;
            p->cnt[i - 1] -= x->cnt[0];
            p->cnt[i] += x->cnt[0];
        }
        return true;
    }
    if (rs && rs->n > min) {
        if (c->leaf) {
            struct bt_leaf *r = (struct bt_leaf *)rs, *x = (struct bt_leaf *)c;
            char *s = strdup(ekey(r->e[1]));
            if (!s) return false;
            x->e[x->h.n++] = r->e[0];
            memmove(r->e, &r->e[1], (r->h.n - 1u) * sizeof(r->e[0]));
            r->h.n--;
            set_sep(t, p, i, s);
            p->cnt[i]++;
            p->cnt[i + 1]--;
        } else {
            struct bt_inner *r = (struct bt_inner *)rs, *x = (struct bt_inner *)c;
            unsigned xn = x->h.n, rn = r->h.n;
            uint32_t moved = r->cnt[0];
            x->sep[xn - 1] = p->sep[i];
            x->c[xn] = r->c[0];
            x->cnt[xn] = moved;
            p->sep[i] = r->sep[0];
            memmove(r->sep, &r->sep[1], (rn - 2) * sizeof(r->sep[0]));
            memmove(r->c, &r->c[1], (rn - 1) * sizeof(r->c[0]));
            memmove(r->cnt, &r->cnt[1], (rn - 1) * sizeof(r->cnt[0]));
            x->h.n++;
            r->h.n--;
            p->cnt[i] += moved;
            p->cnt[i + 1] -= moved;
        }
        return true;
    }
    merge(t, p, ls ? i - 1 : i);
    return true;
}

struct kv_entry *bt_remove(struct bt *t, const char *key)
{
    if (!t->root) return NULL;
    struct path path[BT_MAX_DEPTH];
    unsigned depth = 0;
    struct bt_node *n = t->root;
    while (!n->leaf) {
        struct bt_inner *in = (struct bt_inner *)n;
        unsigned i = inner_child(in, key);
        path[depth].in = in;
        path[depth].i = i;
        depth++;
        n = in->c[i];
    }
    struct bt_leaf *leaf = (struct bt_leaf *)n;
    unsigned pos = leaf_lower(leaf, key, false);
    if (pos >= leaf->h.n || strcmp(ekey(leaf->e[pos]), key) != 0) return NULL;
    struct kv_entry *e = leaf->e[pos];
    memmove(&leaf->e[pos], &leaf->e[pos + 1], (leaf->h.n - pos - 1u) * sizeof(leaf->e[0]));
    leaf->h.n--;
    t->count--;
    for (unsigned d = 0; d < depth; d++)
        path[d].in->cnt[path[d].i]--;

    n = &leaf->h;
    for (unsigned d = depth; d-- > 0;) {
        if (n->n >= (n->leaf ? LEAF_MIN : INNER_MIN)) break;
        if (!rebalance(t, path[d].in, path[d].i)) break;
        n = &path[d].in->h;
    }
    n = t->root;
    if (!n->leaf && n->n == 1) {
        t->root = ((struct bt_inner *)n)->c[0];
        free(n);
        t->n_inner--;
    } else if (n->leaf && n->n == 0) {
        free(n);
        t->root = NULL;
        t->n_leaves = 0;
    }
    return e;
}

void bt_seek(const struct bt *t, const char *key, bool strict, struct bt_cursor *c)
{
    c->leaf = NULL;
    c->idx = 0;
    const struct bt_node *n = t->root;
    if (!n) return;
    while (!n->leaf) {
        const struct bt_inner *in = (const struct bt_inner *)n;
        n = in->c[inner_child(in, key)];
    }
    struct bt_leaf *l = (struct bt_leaf *)n;
    unsigned i = leaf_lower(l, key, strict);
    while (l && i >= l->h.n) {
        l = l->next;
        i = 0;
    }
    c->leaf = l;
    c->idx = i;
}

void bt_next(struct bt_cursor *c)
{
    if (!c->leaf) return;
    if (++c->idx < c->leaf->h.n) return;
    c->leaf = c->leaf->next;
    c->idx = 0;
    while (c->leaf && c->leaf->h.n == 0)
        c->leaf = c->leaf->next;
}

/* Keys for which before(k) holds form a prefix of the order; counts them. */
static bool before(const char *k, const char *p, size_t plen, bool prefix_mode)
{
    if (prefix_mode) return strncmp(k, p, plen) <= 0;
    return strcmp(k, p) < 0;
}

static size_t rank(const struct bt *t, const char *p, size_t plen, bool prefix_mode)
{
    size_t total = 0;
    const struct bt_node *n = t->root;
    if (!n) return 0;
    while (!n->leaf) {
        const struct bt_inner *in = (const struct bt_inner *)n;
        unsigned lo = 0, hi = in->h.n - 1u;
        while (lo < hi) {
            unsigned mid = (lo + hi) / 2;
            if (before(in->sep[mid], p, plen, prefix_mode))
                lo = mid + 1;
            else
                hi = mid;
        }
        for (unsigned k = 0; k < lo; k++)
            total += in->cnt[k];
        n = in->c[lo];
    }
    const struct bt_leaf *l = (const struct bt_leaf *)n;
    unsigned lo = 0, hi = l->h.n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (before(ekey(l->e[mid]), p, plen, prefix_mode))
            lo = mid + 1;
        else
            hi = mid;
    }
    return total + lo;
}

size_t bt_count_prefix(const struct bt *t, const char *prefix)
{
    if (!prefix[0]) return t->count;
    return rank(t, prefix, strlen(prefix), true) - rank(t, prefix, 0, false);
}

size_t bt_memory(const struct bt *t)
{
    /* One separator string per node but the root, 16 bytes of allocator
     * overhead on every allocation. */
    size_t nodes = t->n_leaves + t->n_inner;
    return t->n_leaves * sizeof(struct bt_leaf) + t->n_inner * sizeof(struct bt_inner) +
           t->sep_bytes + 32 * nodes;
}
