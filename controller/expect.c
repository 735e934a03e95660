/*
 * expect.c - expectations, as Kubernetes' UIDTrackingControllerExpectations.
 *
 * After a ReplicaSet asks for 3 pods, the informer has not shown them yet:
 * a sync in between would count 0 pods and ask for 3 more. So the key
 * records what it expects (creations as a count, deletions as the set of
 * pod keys) and is not acted on until the watch has shown all of them. A
 * deletion is counted once per pod, whether the watch first shows the
 * deletionTimestamp or the DELETED event. A record older than the timeout
 * is ignored: a lost event must not freeze a controller forever.
 */
#include <stdlib.h>

#include "controller/ctrl_int.h"

struct rec {
    int adds;
    ctrl_map_t dels; /* pod keys still expected to go */
    uint64_t at;
};

struct ctrl_expect {
    ctrl_map_t recs;
    uint64_t timeout;
};

static void rec_free(void *v)
{
    struct rec *r = v;
    if (!r) return;
    cm_clear(&r->dels, NULL);
    free(r);
}

ctrl_expect_t *ctrl_expect_new(uint64_t timeout_ms)
{
    ctrl_expect_t *e = cx_calloc(1, sizeof(*e));
    e->timeout = timeout_ms;
    return e;
}

void ctrl_expect_free(ctrl_expect_t *e)
{
    if (!e) return;
    cm_clear(&e->recs, rec_free);
    free(e);
}

void ctrl_expect_set(ctrl_expect_t *e, const char *key, int adds, const char *const *dels,
                     size_t n_dels, uint64_t now)
{
    struct rec *r = cx_calloc(1, sizeof(*r));
    r->adds = adds;
    r->at = now;
    for (size_t i = 0; i < n_dels; i++)
        cm_put(&r->dels, dels[i], NULL);
    rec_free(cm_put(&e->recs, key, r));
}

void ctrl_expect_creation_observed(ctrl_expect_t *e, const char *key)
{
    struct rec *r = cm_get(&e->recs, key);
    if (r && r->adds > 0) r->adds--;
}

void ctrl_expect_deletion_observed(ctrl_expect_t *e, const char *key, const char *dep_key)
{
    struct rec *r = cm_get(&e->recs, key);
    if (r) cm_del(&r->dels, dep_key);
}

void ctrl_expect_lower(ctrl_expect_t *e, const char *key, int adds)
{
    struct rec *r = cm_get(&e->recs, key);
    if (!r) return;
    r->adds -= adds;
    if (r->adds < 0) r->adds = 0;
}

bool ctrl_expect_satisfied(ctrl_expect_t *e, const char *key, uint64_t now)
{
    struct rec *r = cm_get(&e->recs, key);
    if (!r) return true;
    if (r->adds <= 0 && r->dels.n == 0) return true;
    if (now >= r->at + e->timeout) {
        log_info(CTRL_COMP, "%s: expectations timed out (%d creations, %zu deletions unseen)", key,
                 r->adds, r->dels.n);
        return true;
    }
    return false;
}

void ctrl_expect_delete(ctrl_expect_t *e, const char *key)
{
    rec_free(cm_del(&e->recs, key));
}
