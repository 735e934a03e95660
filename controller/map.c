/*
 * map.c - a string-keyed hash map (chaining, power-of-two tables that grow
 * and shrink with the content) and sets of strings kept in maps.
 *
 * The indexes (pods by owner, by namespace, by node), the expectations and
 * the garbage collector's graph all live in these. Tables shrink when they
 * empty, so a namespace that held 10,000 pods gives its memory back.
 */
#include <stdlib.h>
#include <string.h>

#include "controller/ctrl_int.h"

struct cm_ent {
    struct cm_ent *next;
    uint32_t hash;
    void *val;
    char key[]; /* NUL-terminated */
};

static uint32_t hash_of(const char *k)
{
    return cx_fnv32a(k, strlen(k), CX_FNV32_INIT);
}

static void resize(ctrl_map_t *m, size_t nb)
{
    cm_ent_t **b = cx_calloc(nb, sizeof(*b));
    for (size_t i = 0; i < m->nb; i++) {
        cm_ent_t *e = m->b[i];
        while (e) {
            cm_ent_t *next = e->next;
            size_t j = e->hash & (nb - 1);
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(m->b);
    m->b = b;
    m->nb = nb;
}

static cm_ent_t **find(const ctrl_map_t *m, const char *key, uint32_t h)
{
    if (!m->nb) return NULL;
    cm_ent_t **pp = &m->b[h & (m->nb - 1)];
    while (*pp && ((*pp)->hash != h || strcmp((*pp)->key, key)))
        pp = &(*pp)->next;
    return pp;
}

void *cm_get(const ctrl_map_t *m, const char *key)
{
    cm_ent_t **pp = find(m, key, hash_of(key));
    return pp && *pp ? (*pp)->val : NULL;
}

bool cm_has(const ctrl_map_t *m, const char *key)
{
    cm_ent_t **pp = find(m, key, hash_of(key));
    return pp && *pp;
}

void *cm_put(ctrl_map_t *m, const char *key, void *val)
{
    uint32_t h = hash_of(key);
    cm_ent_t **pp = find(m, key, h);
    if (pp && *pp) {
        void *old = (*pp)->val;
        (*pp)->val = val;
        return old;
    }
    if (m->n + 1 > m->nb) resize(m, m->nb ? m->nb * 2 : 8);
    size_t kl = strlen(key);
    cm_ent_t *e = cx_calloc(1, sizeof(*e) + kl + 1);
    memcpy(e->key, key, kl + 1);
    e->hash = h;
    e->val = val;
    size_t j = h & (m->nb - 1);
    e->next = m->b[j];
    m->b[j] = e;
    m->n++;
    return NULL;
}

const char *cm_intern(ctrl_map_t *m, const char *s)
{
    uint32_t h = hash_of(s);
    cm_ent_t **pp = find(m, s, h);
    if (pp && *pp) return (*pp)->key;
    cm_put(m, s, NULL);
    return ((cm_ent_t *)*find(m, s, h))->key;
}

void *cm_del(ctrl_map_t *m, const char *key)
{
    cm_ent_t **pp = find(m, key, hash_of(key));
    if (!pp || !*pp) return NULL;
    cm_ent_t *e = *pp;
    void *v = e->val;
    *pp = e->next;
    free(e);
    m->n--;
    if (m->n == 0) {
        free(m->b);
        m->b = NULL;
        m->nb = 0;
    } else if (m->nb > 8 && m->n * 4 < m->nb) {
        resize(m, m->nb / 2);
    }
    return v;
}

void cm_each(ctrl_map_t *m, bool (*fn)(const char *key, void *val, void *arg), void *arg)
{
    /* Collect first: fn may delete its own entry, which may shrink the
     * table under a live iteration otherwise. */
    size_t n = m->n, k = 0;
    if (!n) return;
    cm_ent_t **all = cx_calloc(n, sizeof(*all));
    for (size_t i = 0; i < m->nb; i++)
        for (cm_ent_t *e = m->b[i]; e; e = e->next)
            all[k++] = e;
    for (size_t i = 0; i < k; i++) {
        /* Earlier calls may have deleted later entries only if fn broke the
         * rule; we trust the rule (documented in ctrl_int.h). */
        if (!fn(all[i]->key, all[i]->val, arg)) break;
    }
    free(all);
}

void cm_clear(ctrl_map_t *m, void (*free_val)(void *))
{
    for (size_t i = 0; i < m->nb; i++) {
        cm_ent_t *e = m->b[i];
        while (e) {
            cm_ent_t *next = e->next;
            if (free_val) free_val(e->val);
            free(e);
            e = next;
        }
    }
    free(m->b);
    m->b = NULL;
    m->nb = m->n = 0;
}

void cm_set_add(ctrl_map_t *m, const char *outer, const char *inner)
{
    ctrl_map_t *s = cm_get(m, outer);
    if (!s) {
        s = cx_calloc(1, sizeof(*s));
        cm_put(m, outer, s);
    }
    cm_put(s, inner, NULL);
}

void cm_set_del(ctrl_map_t *m, const char *outer, const char *inner)
{
    ctrl_map_t *s = cm_get(m, outer);
    if (!s) return;
    cm_del(s, inner);
    if (!s->n) {
        cm_del(m, outer);
        free(s);
    }
}

ctrl_map_t *cm_set_get(const ctrl_map_t *m, const char *outer)
{
    return outer ? cm_get(m, outer) : NULL;
}

static void free_set(void *v)
{
    ctrl_map_t *s = v;
    cm_clear(s, NULL);
    free(s);
}

void cm_set_clear(ctrl_map_t *m)
{
    cm_clear(m, free_set);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **cm_keys(const ctrl_map_t *m, size_t *n)
{
    const char **keys = cx_calloc(m->n, sizeof(*keys));
    size_t k = 0;
    for (size_t i = 0; i < m->nb; i++)
        for (cm_ent_t *e = m->b[i]; e; e = e->next)
            keys[k++] = e->key;
    qsort(keys, k, sizeof(*keys), cmp_str);
    *n = k;
    return keys;
}
