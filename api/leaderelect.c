/*
 * leaderelect.c - leader election on a coordination.k8s.io/v1 Lease, with
 * client-go's semantics (see the LEADER ELECTION part of api.h), so that
 * exactly one of several schedulers or controller managers acts and a
 * kube-scheduler or kube-controller-manager reading the same Lease agrees.
 *
 * Why it is safe: a candidate never trusts the holder's clock. It takes a
 * Lease over only when the record it read has not changed for
 * leaseDurationSeconds of its own time (observed_at). The holder counts its
 * renew deadline from the moment it *sent* its last successful renewal,
 * which is before the server stored it and so before any candidate could
 * have observed it; since renew_deadline + one tick < lease_duration, the
 * old leader has stopped acting before anyone else can start. Writes are
 * PUTs carrying the resourceVersion read, so two candidates racing for an
 * expired Lease cannot both win: the second gets 409 Conflict.
 *
 * One timer ticks every retry period: it checks the holder's deadline even
 * while a request hangs, and starts the next request when one is due.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "api/api.h"
#include "lib/lib.h"

#define DEFAULT_NS "kube-system"
#define DEFAULT_LEASE_MS 2000
#define DEFAULT_DEADLINE_MS 1500
#define DEFAULT_RENEW_MS 500
#define DEFAULT_RETRY_MS 250
#define RELEASE_TIMEOUT_MS 1000

struct api_leader_elector {
    api_client_t *c;
    uv_timer_t timer;
    char *ns, *name, *id;
    unsigned lease_ms, deadline_ms, renew_ms, retry_ms;
    int lease_s;
    api_leader_config_t cfg;

    bool leader, stopping, busy, release_pending;
    bool force_read;     /* the next request reads the Lease first */
    int refs;            /* the timer, and the request in flight */
    uint64_t next_at;    /* when the next request is due (ms, monotonic) */
    uint64_t renewed_at; /* send time of the last successful write as leader */
    uint64_t sent_at;    /* send time of the request in flight */

    cJSON *observed;      /* the Lease as last read or written (NULL: none yet) */
    uint64_t observed_at; /* when its spec last changed, by our clock */
    char *holder;         /* its holderIdentity ("" for none) */
    void (*done)(void *arg);
    void *done_arg;
};

static uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000u;
}

/* metav1.MicroTime: RFC 3339 with microseconds, UTC. */
static void micro_time(char *buf, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    if (k) snprintf(buf + k, len - k, ".%06dZ", (int)(ts.tv_nsec / 1000) % 1000000);
}

static cJSON *spec_of(const cJSON *lease)
{
    return cJSON_GetObjectItemCaseSensitive(lease, "spec");
}

static const char *spec_str(const cJSON *lease, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec_of(lease), k));
}

static long spec_int(const cJSON *lease, const char *k, long dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec_of(lease), k);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : dflt;
}

static void unref(api_leader_elector_t *le)
{
    if (--le->refs > 0) return;
    void (*done)(void *) = le->done;
    void *arg = le->done_arg;
    cJSON_Delete(le->observed);
    free(le->holder);
    free(le->ns);
    free(le->name);
    free(le->id);
    free(le);
    if (done) done(arg);
}

static void set_leader(api_leader_elector_t *le, bool leader)
{
    if (le->leader == leader) return;
    le->leader = leader;
    if (leader) {
        log_info("leaderelect", "%s/%s: %s became the leader", le->ns, le->name, le->id);
        if (le->cfg.on_started_leading) le->cfg.on_started_leading(le->cfg.data);
    } else {
        log_info("leaderelect", "%s/%s: %s stopped leading", le->ns, le->name, le->id);
        if (le->cfg.on_stopped_leading) le->cfg.on_stopped_leading(le->cfg.data);
    }
}

/* Takes lease (consumed) as the latest record seen. */
static void observe(api_leader_elector_t *le, cJSON *lease)
{
    bool changed = !le->observed || !cJSON_Compare(spec_of(le->observed), spec_of(lease), true);
    if (changed) le->observed_at = now_ms();
    cJSON_Delete(le->observed);
    le->observed = lease;
    const char *h = spec_str(lease, "holderIdentity");
    if (!h) h = "";
    if (!le->holder || strcmp(le->holder, h)) {
        char *copy = strdup(h);
        if (copy) {
            free(le->holder);
            le->holder = copy;
            if (*h) log_debug("leaderelect", "%s/%s: the leader is %s", le->ns, le->name, h);
            if (le->cfg.on_new_leader) le->cfg.on_new_leader(h, le->cfg.data);
        }
    }
}

/* Whether the observed Lease is held by someone else and not expired. */
static bool held_by_other(const api_leader_elector_t *le)
{
    const char *h = spec_str(le->observed, "holderIdentity");
    if (!h || !*h || !strcmp(h, le->id)) return false;
    long dur = spec_int(le->observed, "leaseDurationSeconds", le->lease_s);
    return le->observed_at + (uint64_t)(dur > 0 ? dur : 0) * 1000u > now_ms();
}

/* The record to write: ours (holder me) or, when releasing, nobody's. */
static cJSON *record(const api_leader_elector_t *le, bool release)
{
    cJSON *o = le->observed ? cJSON_Duplicate(le->observed, true) : cJSON_CreateObject();
    if (!o) return NULL;
    if (!le->observed) {
        cJSON_AddStringToObject(o, "apiVersion", "coordination.k8s.io/v1");
        cJSON_AddStringToObject(o, "kind", "Lease");
        cJSON *meta = cJSON_AddObjectToObject(o, "metadata");
        if (meta) {
            cJSON_AddStringToObject(meta, "name", le->name);
            cJSON_AddStringToObject(meta, "namespace", le->ns);
        }
    }
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(o, "spec");
    if (!cJSON_IsObject(spec)) {
        cJSON_DeleteItemFromObjectCaseSensitive(o, "spec");
        spec = cJSON_AddObjectToObject(o, "spec");
    }
    if (!spec) {
        cJSON_Delete(o);
        return NULL;
    }
    const char *prev = spec_str(le->observed, "holderIdentity");
    bool mine = prev && !strcmp(prev, le->id);
    long transitions = spec_int(le->observed, "leaseTransitions", 0);
    char now[40];
    micro_time(now, sizeof(now));
    const char *acquire = mine && !release ? spec_str(le->observed, "acquireTime") : NULL;
    char *acq = strdup(acquire ? acquire : now);
    if (!release && le->observed && !mine) transitions++;
    static const char *const fields[] = {"holderIdentity", "leaseDurationSeconds", "acquireTime",
                                         "renewTime", "leaseTransitions"};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        cJSON_DeleteItemFromObjectCaseSensitive(spec, fields[i]);
    bool ok = acq && cJSON_AddStringToObject(spec, "holderIdentity", release ? "" : le->id) &&
              cJSON_AddNumberToObject(spec, "leaseDurationSeconds", release ? 1 : le->lease_s) &&
              cJSON_AddStringToObject(spec, "acquireTime", acq) &&
              cJSON_AddStringToObject(spec, "renewTime", now) &&
              cJSON_AddNumberToObject(spec, "leaseTransitions", (double)transitions);
    free(acq);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static api_ref_t lease_ref(const api_leader_elector_t *le, bool named)
{
    return (api_ref_t){.group = "coordination.k8s.io",
                       .version = "v1",
                       .resource = "leases",
                       .ns = le->ns,
                       .name = named ? le->name : NULL};
}

static void finish_request(api_leader_elector_t *le);
static void on_read(api_result_t *res, void *data);
static void on_write(api_result_t *res, void *data);

static void check_sent(api_leader_elector_t *le, int rc)
{
    if (rc == 0) return;
    /* Nothing went out (a bad ref cannot happen; the client is gone). */
    log_warn("leaderelect", "%s/%s: cannot send: %s", le->ns, le->name, uv_strerror(rc));
    finish_request(le);
}

static void start_read(api_leader_elector_t *le)
{
    le->busy = true;
    le->refs++;
    le->sent_at = now_ms();
    api_ref_t ref = lease_ref(le, true);
    api_opts_t o = {.timeout_ms = le->deadline_ms};
    check_sent(le, api_get(le->c, &ref, &o, on_read, le));
}

static void start_write(api_leader_elector_t *le, bool release)
{
    cJSON *rec = record(le, release);
    if (!rec) {
        log_error("leaderelect", "out of memory");
        le->next_at = now_ms() + le->retry_ms;
        return;
    }
    le->busy = true;
    le->refs++;
    le->sent_at = now_ms();
    api_opts_t o = {.timeout_ms = release ? RELEASE_TIMEOUT_MS : le->deadline_ms};
    int rc;
    if (le->observed) {
        api_ref_t ref = lease_ref(le, true);
        rc = api_update(le->c, &ref, rec, &o, on_write, le);
    } else {
        api_ref_t ref = lease_ref(le, false);
        rc = api_create(le->c, &ref, rec, &o, on_write, le);
    }
    cJSON_Delete(rec);
    check_sent(le, rc);
}

/* The request in flight has ended: release if stopping, else carry on. */
static void finish_request(api_leader_elector_t *le)
{
    le->busy = false;
    if (le->stopping && le->release_pending && le->observed) {
        le->release_pending = false;
        start_write(le, true);
    }
    unref(le);
}

/* The holder steps down once its deadline passed without a renewal. */
static void check_deadline(api_leader_elector_t *le)
{
    if (le->leader && now_ms() > le->renewed_at + le->deadline_ms) {
        log_warn("leaderelect", "%s/%s: could not renew within %u ms; stepping down", le->ns,
                 le->name, le->deadline_ms);
        set_leader(le, false);
    }
}

static void on_read(api_result_t *res, void *data)
{
    api_leader_elector_t *le = data;
    if (res->err == UV_ECANCELED || le->stopping) {
        if (api_result_ok(res) && res->obj) {
            observe(le, res->obj);
            res->obj = NULL;
        }
        finish_request(le);
        return;
    }
    bool go_write = false;
    if (res->status == 404) {
        cJSON_Delete(le->observed);
        le->observed = NULL;
        go_write = true; /* create it */
    } else if (api_result_ok(res) && cJSON_IsObject(res->obj)) {
        observe(le, res->obj);
        res->obj = NULL;
        if (held_by_other(le)) {
            set_leader(le, false);
            le->next_at = now_ms() + le->retry_ms;
        } else {
            go_write = true;
        }
    } else {
        log_debug("leaderelect", "%s/%s: reading the lease: %s", le->ns, le->name, res->message);
        check_deadline(le);
        le->next_at = now_ms() + le->retry_ms;
    }
    if (go_write) {
        le->busy = false;
        le->refs--; /* start_write takes its own */
        start_write(le, false);
        return;
    }
    finish_request(le);
}

static void on_write(api_result_t *res, void *data)
{
    api_leader_elector_t *le = data;
    if (api_result_ok(res) && cJSON_IsObject(res->obj)) {
        bool released =
            !spec_str(res->obj, "holderIdentity") || !*spec_str(res->obj, "holderIdentity");
        observe(le, res->obj);
        res->obj = NULL;
        /* An answer that took longer than the deadline is too old to lead
         * on: others may have taken over meanwhile by their clocks. */
        if (!le->stopping && !released && now_ms() - le->sent_at < le->deadline_ms) {
            le->renewed_at = le->sent_at;
            set_leader(le, true);
            le->next_at = le->sent_at + le->renew_ms;
        }
    } else if (res->err != UV_ECANCELED && !le->stopping) {
        if (res->status == 409) {
            /* Someone wrote first: read again before trying (and drop the
             * fast path of a holder renewing without reading). */
            log_debug("leaderelect", "%s/%s: %s", le->ns, le->name, res->message);
            cJSON_Delete(le->observed);
            le->observed = NULL;
            le->force_read = true;
        } else {
            log_warn("leaderelect", "%s/%s: writing the lease: %s", le->ns, le->name, res->message);
        }
        check_deadline(le);
        le->next_at = now_ms() + le->retry_ms;
    }
    finish_request(le);
}

static void on_tick(uv_timer_t *t)
{
    api_leader_elector_t *le = t->data;
    check_deadline(le);
    if (le->busy || le->stopping || now_ms() < le->next_at) return;
    /* A holder renews from what it wrote last, without reading first. */
    if (le->leader && le->observed && !le->force_read)
        start_write(le, false);
    else {
        le->force_read = false;
        start_read(le);
    }
}

api_leader_elector_t *api_leader_elect_start(api_client_t *c, const api_leader_config_t *cfg)
{
    if (!cfg->name || !*cfg->name || !cfg->identity || !*cfg->identity) {
        log_error("leaderelect", "a lease name and an identity are required");
        return NULL;
    }
    api_leader_elector_t *le = calloc(1, sizeof(*le));
    if (!le) return NULL;
    le->c = c;
    le->cfg = *cfg;
    le->ns = strdup(cfg->ns && *cfg->ns ? cfg->ns : DEFAULT_NS);
    le->name = strdup(cfg->name);
    le->id = strdup(cfg->identity);
    le->lease_ms = cfg->lease_duration_ms ? cfg->lease_duration_ms : DEFAULT_LEASE_MS;
    le->deadline_ms = cfg->renew_deadline_ms ? cfg->renew_deadline_ms : DEFAULT_DEADLINE_MS;
    le->renew_ms = cfg->renew_interval_ms ? cfg->renew_interval_ms : DEFAULT_RENEW_MS;
    le->retry_ms = cfg->retry_period_ms ? cfg->retry_period_ms : DEFAULT_RETRY_MS;
    le->lease_s = (int)((le->lease_ms + 999) / 1000);
    if (!le->ns || !le->name || !le->id) {
        free(le->ns);
        free(le->name);
        free(le->id);
        free(le);
        return NULL;
    }
    if (le->deadline_ms + le->retry_ms >= (unsigned)le->lease_s * 1000u)
        log_warn("leaderelect",
                 "%s/%s: renew deadline %u ms + retry %u ms is not below the lease duration "
                 "%d s: two leaders could overlap",
                 le->ns, le->name, le->deadline_ms, le->retry_ms, le->lease_s);
    uv_timer_init(api_client_loop(c), &le->timer);
    le->timer.data = le;
    le->refs = 1;
    le->cfg.ns = le->cfg.name = le->cfg.identity = NULL; /* ours are copies */
    uv_timer_start(&le->timer, on_tick, 0, le->retry_ms);
    return le;
}

bool api_leader_is_leader(const api_leader_elector_t *le)
{
    return le && le->leader;
}

const char *api_leader_holder(const api_leader_elector_t *le)
{
    return le && le->holder ? le->holder : "";
}

static void on_timer_closed(uv_handle_t *h)
{
    unref(h->data);
}

void api_leader_elect_stop(api_leader_elector_t *le, void (*done)(void *arg), void *arg)
{
    if (!le || le->stopping) return;
    le->stopping = true;
    le->done = done;
    le->done_arg = arg;
    bool was_leader = le->leader;
    set_leader(le, false);
    uv_close((uv_handle_t *)&le->timer, on_timer_closed);
    /* Hand the Lease over at once instead of making the others wait for
     * it to expire (client-go's ReleaseOnCancel). */
    if (was_leader && le->observed) {
        if (le->busy)
            le->release_pending = true;
        else
            start_write(le, true);
    }
}
