/*
 * client_map.c - the client side's allocation helpers and its intrusive
 * string-keyed hash table (see client_int.h for why both exist).
 *
 * Buckets double when the table is fuller than one node per bucket, so
 * lookups stay O(1) from ten objects to tens of thousands; the table never
 * shrinks, as caches refill to their old size after a relist anyway.
 */
#include "api/client_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *oom(void)
{
    log_error("api", "out of memory");
    abort();
}

void *cl_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    return p ? p : oom();
}

void *cl_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    return p ? p : oom();
}

void *cl_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    return q ? q : oom();
}

char *cl_strdup(const char *s)
{
    if (!s) return NULL;
    return cl_strndup(s, strlen(s));
}

char *cl_strndup(const char *s, size_t n)
{
    char *p = cl_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *cl_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    char *p = cl_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* FNV-1a: short keys ("namespace/name"), no adversary worth a keyed hash. */
static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

struct cmap_node *cmap_get(const struct cmap *m, const char *key)
{
    if (!m->nb || !key) return NULL;
    uint32_t h = hash_str(key);
    for (struct cmap_node *n = m->b[h & (m->nb - 1)]; n; n = n->next)
        if (n->hash == h && !strcmp(n->key, key)) return n;
    return NULL;
}

static void grow(struct cmap *m)
{
    size_t nb = m->nb ? m->nb * 2 : 16;
    struct cmap_node **b = cl_calloc(nb, sizeof(*b));
    for (size_t i = 0; i < m->nb; i++) {
        struct cmap_node *n = m->b[i];
        while (n) {
            struct cmap_node *next = n->next;
            size_t j = n->hash & (nb - 1);
            n->next = b[j];
            b[j] = n;
            n = next;
        }
    }
    free(m->b);
    m->b = b;
    m->nb = nb;
}

void cmap_put(struct cmap *m, struct cmap_node *node)
{
    if (m->n >= m->nb) grow(m);
    node->hash = hash_str(node->key);
    size_t j = node->hash & (m->nb - 1);
    node->next = m->b[j];
    m->b[j] = node;
    m->n++;
}

void cmap_del(struct cmap *m, struct cmap_node *node)
{
    if (!m->nb) return;
    for (struct cmap_node **p = &m->b[node->hash & (m->nb - 1)]; *p; p = &(*p)->next) {
        if (*p == node) {
            *p = node->next;
            node->next = NULL;
            m->n--;
            return;
        }
    }
}

struct cmap_node *cmap_next(const struct cmap *m, struct cmap_iter *it)
{
    /* The successor is taken before the caller may delete the node returned. */
    while (!it->next && it->i < m->nb)
        it->next = m->b[it->i++];
    struct cmap_node *n = it->next;
    if (n) it->next = n->next;
    return n;
}

void cmap_free(struct cmap *m)
{
    free(m->b);
    m->b = NULL;
    m->nb = m->n = 0;
}
