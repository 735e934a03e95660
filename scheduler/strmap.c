/*
 * strmap.c - the scheduler's string-keyed hash map (see strmap.h): chained
 * buckets with the key stored inline in the entry, one allocation each.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/strmap.h"

static unsigned hash_of(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static struct strmap_entry **slot_of(const struct strmap *m, const char *key, unsigned h)
{
    struct strmap_entry **p = &m->b[h & (m->nb - 1)];
    while (*p && ((*p)->hash != h || strcmp((*p)->key, key)))
        p = &(*p)->next;
    return p;
}

void *strmap_get(const struct strmap *m, const char *key)
{
    if (!m->nb) return NULL;
    struct strmap_entry *e = *slot_of(m, key, hash_of(key));
    return e ? e->val : NULL;
}

static int grow(struct strmap *m)
{
    size_t nb = m->nb ? m->nb * 2 : 16;
    struct strmap_entry **b = calloc(nb, sizeof(*b));
    if (!b) return -1;
    for (size_t i = 0; i < m->nb; i++) {
        struct strmap_entry *e = m->b[i], *next;
        for (; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    }
    free(m->b);
    m->b = b;
    m->nb = nb;
    return 0;
}

int strmap_put(struct strmap *m, const char *key, void *val, void **old)
{
    if (old) *old = NULL;
    if (m->n + 1 > m->nb && grow(m) < 0) return -1;
    unsigned h = hash_of(key);
    struct strmap_entry **p = slot_of(m, key, h);
    if (*p) {
        if (old) *old = (*p)->val;
        (*p)->val = val;
        return 0;
    }
    size_t len = strlen(key);
    struct strmap_entry *e = malloc(sizeof(*e) + len + 1);
    if (!e) return -1;
    e->next = NULL;
    e->hash = h;
    e->val = val;
    memcpy(e->key, key, len + 1);
    *p = e;
    m->n++;
    return 0;
}

void *strmap_del(struct strmap *m, const char *key)
{
    if (!m->nb) return NULL;
    struct strmap_entry **p = slot_of(m, key, hash_of(key)), *e = *p;
    if (!e) return NULL;
    *p = e->next;
    void *val = e->val;
    free(e);
    m->n--;
    return val;
}

struct strmap_entry *strmap_next(const struct strmap *m, size_t *it, struct strmap_entry *e)
{
    if (e && e->next) return e->next;
    while (*it < m->nb) {
        struct strmap_entry *x = m->b[(*it)++];
        if (x) return x;
    }
    return NULL;
}

void strmap_free(struct strmap *m)
{
    for (size_t i = 0; i < m->nb; i++) {
        struct strmap_entry *e = m->b[i], *next;
        for (; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(m->b);
    *m = (struct strmap){0};
}
