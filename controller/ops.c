/*
 * ops.c - batches of API calls: a reconcile issues its creates, patches
 * and deletes together and finishes (marks its key done, or requeues it
 * with backoff) once all of them answered.
 *
 * Calls made while the session is stopping are not sent; calls in flight
 * when the session's client is freed answer UV_ECANCELED, which the batch
 * counts as a failure like any other, so no callback is ever lost: the
 * batch's own callback always runs, and must only free its memory when the
 * session is stopping (the queues it would touch are going away).
 */
#include <stdlib.h>
#include <string.h>

#include "controller/ctrl_int.h"

struct ctrl_batch {
    ctrl_sess_t *s;
    ctrl_batch_fn done;
    void *data;
    int pending;
    int failures;
    bool sealed;
    char first_error[256];
};

struct op {
    ctrl_batch_t *b;
    ctrl_op_fn cb;
    void *arg;
    bool is_delete;
    char what[96];
};

ctrl_batch_t *ctrl_batch_new(ctrl_sess_t *s, ctrl_batch_fn done, void *data)
{
    ctrl_batch_t *b = cx_calloc(1, sizeof(*b));
    b->s = s;
    b->done = done;
    b->data = data;
    return b;
}

static void finish_if_done(ctrl_batch_t *b)
{
    if (!b->sealed || b->pending > 0) return;
    ctrl_batch_fn done = b->done;
    void *data = b->data;
    int failures = b->failures;
    char err[256];
    memcpy(err, b->first_error, sizeof err);
    free(b);
    if (done) done(failures, err, data);
}

static void fail(ctrl_batch_t *b, const char *what, const char *msg)
{
    if (!b->failures++)
        snprintf(b->first_error, sizeof b->first_error, "%s: %s", what, msg ? msg : "failed");
}

static void on_result(api_result_t *res, void *data)
{
    struct op *op = data;
    ctrl_batch_t *b = op->b;
    bool ok;
    if (op->cb)
        ok = op->cb(res, op->arg);
    else
        ok = api_result_ok(res) || (op->is_delete && res->err == 0 && res->status == 404);
    if (!ok) {
        fail(b, op->what, res->message);
        if (!b->s->stopping)
            log_debug(CTRL_COMP, "%s: %s", op->what, res->message ? res->message : "failed");
    }
    free(op);
    b->pending--;
    finish_if_done(b);
}

static struct op *op_new(ctrl_batch_t *b, const char *verb, const api_ref_t *ref, ctrl_op_fn cb,
                         void *arg)
{
    struct op *op = cx_calloc(1, sizeof(*op));
    op->b = b;
    op->cb = cb;
    op->arg = arg;
    snprintf(op->what, sizeof op->what, "%s %s %s%s%s", verb, ref->resource,
             ref->ns && *ref->ns ? ref->ns : "", ref->ns && *ref->ns ? "/" : "",
             ref->name ? ref->name : "");
    return op;
}

/* A call that could not be sent: its callback still has to learn of it,
 * so that per-call bookkeeping (expectations) stays right. */
static void not_sent(ctrl_batch_t *b, struct op *op, int rc)
{
    api_result_t res = {0};
    res.err = rc;
    res.message = b->s->stopping ? "stopping" : uv_strerror(rc);
    res.reason = "";
    res.body = "";
    res.content_type = "";
    res.url = "";
    b->pending++;
    on_result(&res, op);
}

static void sent(ctrl_batch_t *b, struct op *op, int rc)
{
    if (rc != 0) {
        not_sent(b, op, rc);
        return;
    }
    b->pending++;
}

void ctrl_batch_create(ctrl_batch_t *b, const api_ref_t *ref, const cJSON *obj, ctrl_op_fn cb,
                       void *arg)
{
    struct op *op = op_new(b, "create", ref, cb, arg);
    if (b->s->stopping) {
        not_sent(b, op, UV_ECANCELED);
        return;
    }
    sent(b, op, api_create(b->s->client, ref, obj, NULL, on_result, op));
}

void ctrl_batch_update(ctrl_batch_t *b, const api_ref_t *ref, const cJSON *obj, ctrl_op_fn cb,
                       void *arg)
{
    struct op *op = op_new(b, "update", ref, cb, arg);
    if (b->s->stopping) {
        not_sent(b, op, UV_ECANCELED);
        return;
    }
    sent(b, op, api_update(b->s->client, ref, obj, NULL, on_result, op));
}

void ctrl_batch_patch(ctrl_batch_t *b, const api_ref_t *ref, enum api_patch_type type,
                      const cJSON *patch, ctrl_op_fn cb, void *arg)
{
    struct op *op = op_new(b, "patch", ref, cb, arg);
    if (b->s->stopping) {
        not_sent(b, op, UV_ECANCELED);
        return;
    }
    sent(b, op, api_patch(b->s->client, ref, type, patch, NULL, on_result, op));
}

void ctrl_batch_delete(ctrl_batch_t *b, const api_ref_t *ref, const char *uid,
                       const char *propagation, long grace, ctrl_op_fn cb, void *arg)
{
    struct op *op = op_new(b, "delete", ref, cb, arg);
    op->is_delete = true;
    if (b->s->stopping) {
        not_sent(b, op, UV_ECANCELED);
        return;
    }
    cJSON *opts = cj_new_obj();
    cj_set_str(opts, "kind", "DeleteOptions");
    cj_set_str(opts, "apiVersion", "v1");
    if (propagation) cj_set_str(opts, "propagationPolicy", propagation);
    if (grace >= 0) cj_set_int(opts, "gracePeriodSeconds", grace);
    if (uid) cj_set_str(cj_obj(opts, "preconditions"), "uid", uid);
    int rc = api_delete(b->s->client, ref, opts, NULL, on_result, op);
    cJSON_Delete(opts);
    sent(b, op, rc);
}

void ctrl_batch_get(ctrl_batch_t *b, const api_ref_t *ref, ctrl_op_fn cb, void *arg)
{
    struct op *op = op_new(b, "get", ref, cb, arg);
    if (b->s->stopping) {
        not_sent(b, op, UV_ECANCELED);
        return;
    }
    sent(b, op, api_get(b->s->client, ref, NULL, on_result, op));
}

void ctrl_batch_seal(ctrl_batch_t *b)
{
    b->sealed = true;
    finish_if_done(b);
}
