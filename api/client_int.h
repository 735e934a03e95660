/*
 * client_int.h - private helpers shared by the client side of api/
 * (client.c, client_map.c, informer.c, workqueue.c, kubeconfig.c).
 *
 * Allocation failures abort, as in lib/: the HTTP transport underneath
 * already does, and on a 1 GB machine a failing malloc means the OOM killer
 * is about to act anyway. cJSON calls can still return NULL and are checked.
 *
 * client_map is a small intrusive string-keyed hash table: informer caches
 * and work queues look keys up on every event, and cJSON objects (linear
 * search) would make a relist of thousands of pods quadratic.
 */
#ifndef PICOKUBE_API_CLIENT_INT_H
#define PICOKUBE_API_CLIENT_INT_H

#include "api/api.h"
#include "lib/lib.h"

#include <stddef.h>
#include <stdint.h>

void *cl_malloc(size_t n);
void *cl_calloc(size_t n, size_t size);
void *cl_realloc(void *p, size_t n);
char *cl_strdup(const char *s); /* NULL stays NULL */
char *cl_strndup(const char *s, size_t n);
char *cl_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------- client_map */

struct cmap_node {
    struct cmap_node *next; /* in its bucket */
    char *key;              /* owned by the embedding struct */
    uint32_t hash;
};

struct cmap {
    struct cmap_node **b;
    size_t nb, n;
};

struct cmap_node *cmap_get(const struct cmap *m, const char *key);
/* Inserts node (its key set, not present yet). */
void cmap_put(struct cmap *m, struct cmap_node *node);
void cmap_del(struct cmap *m, struct cmap_node *node);
/* Iteration: start from a zeroed iterator; NULL at the end. The node
 * returned (and only it) may be deleted before the next call. */
struct cmap_iter {
    size_t i;
    struct cmap_node *next;
};
struct cmap_node *cmap_next(const struct cmap *m, struct cmap_iter *it);
void cmap_free(struct cmap *m); /* the buckets only */

/* --------------------------------------------------------------- client.c */

/* The default request timeout of c (0: lib's default). */
unsigned client_timeout(const api_client_t *c);
/* Fills out from an HTTP response: parses JSON, finds the Status message.
 * Allocates out->priv_ (release with api_result_free). body is not copied:
 * out->body points at it. */
void client_result_fill(api_result_t *out, int err, int status, const char *content_type,
                        const char *body, size_t len, const char *url);

#endif /* PICOKUBE_API_CLIENT_INT_H */
