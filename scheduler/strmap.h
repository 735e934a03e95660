/*
 * strmap.h - a string-keyed hash map, private to scheduler/: nodes by
 * name, pods by "ns/name", owners by uid, pending pods by key. Keys are
 * copied; values are the caller's. Grows by doubling, never shrinks (the
 * cluster's size is the bound).
 */
#ifndef PICOKUBE_SCHED_STRMAP_H
#define PICOKUBE_SCHED_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap_entry {
    struct strmap_entry *next;
    unsigned hash;
    void *val;
    char key[]; /* NUL-terminated */
};

struct strmap {
    struct strmap_entry **b;
    size_t nb, n;
};

void *strmap_get(const struct strmap *m, const char *key);
/* Sets key to val (replacing any value, which is returned through *old
 * when old is non-NULL). 0, or -1 when out of memory. */
int strmap_put(struct strmap *m, const char *key, void *val, void **old);
/* Removes key; returns its value, NULL when absent. */
void *strmap_del(struct strmap *m, const char *key);
/* Iteration: start with *it = 0 and e = NULL; returns the next entry or
 * NULL. The map must not change during an iteration. */
struct strmap_entry *strmap_next(const struct strmap *m, size_t *it, struct strmap_entry *e);
void strmap_free(struct strmap *m); /* entries, not values */

#endif /* PICOKUBE_SCHED_STRMAP_H */
