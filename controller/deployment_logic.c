/*
 * deployment_logic.c - one sync of a Deployment as a pure function: from
 * the cached Deployment and ReplicaSets to a plan (RS to create, RS scale
 * and annotation changes, RS to delete, deployment annotations, status).
 *
 * It follows Kubernetes' DeploymentController step by step, because kubectl
 * (rollout status / history / undo, scale) reads exactly what it writes:
 *   - claim ReplicaSets by selector and controllerRef;
 *   - paused / resumed conditions; a paused deployment only scales;
 *   - a scaling event (desired-replicas annotation differs) scales
 *     proportionally;
 *   - otherwise Recreate or RollingUpdate, one step per sync;
 *   - the new ReplicaSet is the oldest one whose template equals the
 *     deployment's (ignoring pod-template-hash), so `rollout undo` (kubectl
 *     copies an old RS's template back) reuses that RS and gives it the next
 *     revision;
 *   - revisionHistoryLimit clean-up once a rollout is complete.
 * Scaling decisions work on copies: later steps of the same sync see the
 * replicas earlier steps chose, as Kubernetes sees the objects its updates
 * returned. Status and conditions are in deployment_status.c.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "controller/ctrl_int.h"

struct dep_work {
    const cJSON *d;
    int64_t replicas;
    uint64_t now;
    cJSON *conds; /* working status.conditions */
    struct dep_plan *p;
    dep_pods_running_fn running;
    void *arg;
};

/* --------------------------------------------------------------- helpers */

static const char alnums[] = "bcdfghjklmnpqrstvwxz2456789";

void dep_template_hash(const cJSON *tmpl, const cJSON *collision_count, char *out, size_t len)
{
    char *text = cj_canonical(tmpl);
    uint32_t h = cx_fnv32a(text, strlen(text), CX_FNV32_INIT);
    free(text);
    if (cJSON_IsNumber(collision_count)) {
        uint32_t c = (uint32_t)collision_count->valuedouble;
        unsigned char b[8] = {(unsigned char)c,
                              (unsigned char)(c >> 8),
                              (unsigned char)(c >> 16),
                              (unsigned char)(c >> 24),
                              0,
                              0,
                              0,
                              0};
        h = cx_fnv32a(b, sizeof b, h);
    }
    /* rand.SafeEncodeString of the decimal: no vowels, no look-alikes. */
    char dec[16];
    snprintf(dec, sizeof dec, "%u", h);
    size_t i;
    for (i = 0; dec[i] && i + 1 < len; i++)
        out[i] = alnums[(unsigned char)dec[i] % (sizeof alnums - 1)];
    out[i] = '\0';
}

static cJSON *without_hash(const cJSON *tmpl)
{
    cJSON *c = cx_dup(tmpl);
    cJSON *labels = (cJSON *)cj_get(c, "metadata.labels");
    if (labels) cJSON_DeleteItemFromObjectCaseSensitive(labels, DEP_HASH_LABEL);
    return c;
}

bool dep_templates_equal(const cJSON *a, const cJSON *b)
{
    if (!a || !b) return false;
    cJSON *x = without_hash(a), *y = without_hash(b);
    bool eq = cJSON_Compare(x, y, true);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return eq;
}

static bool is_rolling(const cJSON *d)
{
    const char *t = cj_str(d, "spec.strategy.type");
    return !t || strcmp(t, "Recreate");
}

void dep_fenceposts(const cJSON *d, int64_t *surge, int64_t *unavailable)
{
    int64_t want = cj_int(d, "spec.replicas", 1);
    const cJSON *ru = cj_get(d, "spec.strategy.rollingUpdate");
    cJSON dflt = {0};
    dflt.type = cJSON_String;
    dflt.valuestring = "25%";
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(ru, "maxSurge");
    const cJSON *mu = cJSON_GetObjectItemCaseSensitive(ru, "maxUnavailable");
    *surge = cx_int_or_percent(ms ? ms : &dflt, want, true, 0);
    *unavailable = cx_int_or_percent(mu ? mu : &dflt, want, false, 0);
    if (*surge < 0) *surge = 0;
    if (*unavailable < 0) *unavailable = 0;
    if (*surge == 0 && *unavailable == 0) *unavailable = 1; /* always make progress */
}

int64_t dep_max_surge(const cJSON *d)
{
    if (!is_rolling(d)) return 0;
    int64_t s, u;
    dep_fenceposts(d, &s, &u);
    return s;
}

int64_t dep_max_unavailable(const cJSON *d)
{
    int64_t want = cj_int(d, "spec.replicas", 1);
    if (!is_rolling(d) || want == 0) return 0;
    int64_t s, u;
    dep_fenceposts(d, &s, &u);
    return u > want ? want : u;
}

static int64_t parse_i64(const char *s, bool *ok)
{
    char *end;
    *ok = false;
    if (!s || !*s) return 0;
    long long v = strtoll(s, &end, 10);
    if (*end) return 0;
    *ok = true;
    return v;
}

static const char *rs_ann(const struct dep_rs *r, const char *key)
{
    const cJSON *v = r->ann ? cJSON_GetObjectItemCaseSensitive(r->ann, key) : NULL;
    if (cJSON_IsString(v)) return v->valuestring;
    return r->obj ? api_meta_annotation(r->obj, key) : NULL;
}

static void rs_set_ann(struct dep_rs *r, const char *key, const char *val)
{
    const char *have = rs_ann(r, key);
    if (have && !strcmp(have, val)) return;
    if (!r->ann) r->ann = cj_new_obj();
    cj_set_str(r->ann, key, val);
}

/* ------------------------------------------------------- the RS working set */

static void rs_from_cache(struct dep_rs *r, const cJSON *rs)
{
    bool ok;
    r->obj = rs;
    r->name = cx_strdup(api_meta_name(rs));
    r->uid = cx_strdup(api_meta_uid(rs));
    r->replicas = r->orig_replicas = cj_int(rs, "spec.replicas", 1);
    r->min_ready = r->orig_min_ready = cj_int(rs, "spec.minReadySeconds", 0);
    r->status_replicas = cj_int(rs, "status.replicas", 0);
    r->ready = cj_int(rs, "status.readyReplicas", 0);
    r->available = cj_int(rs, "status.availableReplicas", 0);
    r->generation = api_meta_generation(rs);
    r->observed_generation = cj_int(rs, "status.observedGeneration", 0);
    r->revision = parse_i64(api_meta_annotation(rs, DEP_ANN_REVISION), &ok);
    r->created = cx_time(api_meta_creation_timestamp(rs));
    r->deleting = api_meta_deletion_timestamp(rs) != NULL;
}

static struct dep_rs *add_rs(struct dep_plan *p)
{
    p->rs = cx_realloc(p->rs, (p->n_rs + 1) * sizeof(*p->rs));
    struct dep_rs *r = &p->rs[p->n_rs++];
    memset(r, 0, sizeof(*r));
    return r;
}

static void push_name(char ***arr, size_t *n, const char *name)
{
    *arr = cx_realloc(*arr, (*n + 1) * sizeof(**arr));
    (*arr)[(*n)++] = cx_strdup(name);
}

/* Kubernetes' ClaimReplicaSets, on the RS labels. */
static void claim(struct dep_work *w, const cJSON *const *rss, size_t n)
{
    const char *uid = api_meta_uid(w->d);
    bool deleting = api_meta_deletion_timestamp(w->d) != NULL;
    api_selector_t *sel = cx_selector(w->d, false);
    for (size_t i = 0; i < n; i++) {
        const char *cuid = cx_controller_uid(rss[i]);
        bool match = sel && api_selector_matches(sel, api_meta_labels(rss[i]));
        if (cuid) {
            if (!uid || strcmp(cuid, uid)) continue;
            if (match)
                rs_from_cache(add_rs(w->p), rss[i]);
            else if (!deleting)
                push_name(&w->p->release, &w->p->n_release, api_meta_name(rss[i]));
            continue;
        }
        if (!match || deleting || api_meta_deletion_timestamp(rss[i])) continue;
        push_name(&w->p->adopt, &w->p->n_adopt, api_meta_name(rss[i]));
        rs_from_cache(add_rs(w->p), rss[i]);
    }
    api_selector_free(sel);
}

/* Indexes of the RSes other than the new one, oldest first. */
static size_t olds(const struct dep_work *w, size_t *idx)
{
    size_t k = 0;
    for (size_t i = 0; i < w->p->n_rs; i++)
        if ((int)i != w->p->new_rs) idx[k++] = i;
    /* insertion sort by creation: lists are short */
    for (size_t i = 1; i < k; i++) {
        size_t v = idx[i], j = i;
        while (j > 0 && (w->p->rs[idx[j - 1]].created > w->p->rs[v].created ||
                         (w->p->rs[idx[j - 1]].created == w->p->rs[v].created &&
                          strcmp(w->p->rs[idx[j - 1]].name, w->p->rs[v].name) > 0))) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
    return k;
}

static struct dep_rs *new_rs(struct dep_work *w)
{
    return w->p->new_rs >= 0 ? &w->p->rs[w->p->new_rs] : NULL;
}

static int64_t sum_replicas(const struct dep_work *w)
{
    int64_t t = 0;
    for (size_t i = 0; i < w->p->n_rs; i++)
        t += w->p->rs[i].replicas;
    return t;
}

static void find_new(struct dep_work *w)
{
    const cJSON *tmpl = cj_get(w->d, "spec.template");
    w->p->new_rs = -1;
    for (size_t i = 0; i < w->p->n_rs; i++) {
        struct dep_rs *r = &w->p->rs[i];
        if (!r->obj || !dep_templates_equal(cj_get(r->obj, "spec.template"), tmpl)) continue;
        struct dep_rs *cur = new_rs(w);
        if (!cur || r->created < cur->created ||
            (r->created == cur->created && strcmp(r->name, cur->name) < 0))
            w->p->new_rs = (int)i;
    }
}

/* ---------------------------------------------------- revisions, new RS */

static bool skip_copy(const char *k)
{
    return !strcmp(k, "kubectl.kubernetes.io/last-applied-configuration") ||
           !strcmp(k, DEP_ANN_REVISION) || !strcmp(k, DEP_ANN_REVISION_HISTORY) ||
           !strcmp(k, DEP_ANN_DESIRED) || !strcmp(k, DEP_ANN_MAX) ||
           !strcmp(k, "deprecated.deployment.rollback.to");
}

static void set_replicas_ann(struct dep_work *w, struct dep_rs *r)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)w->replicas);
    rs_set_ann(r, DEP_ANN_DESIRED, buf);
    snprintf(buf, sizeof buf, "%lld", (long long)(w->replicas + dep_max_surge(w->d)));
    rs_set_ann(r, DEP_ANN_MAX, buf);
}

/* SetNewReplicaSetAnnotations: deployment annotations copied, revision
 * raised to new_rev when lower (keeping the old one in revision-history,
 * which is how `rollout history` shows a rolled-back revision). */
static void new_rs_annotations(struct dep_work *w, struct dep_rs *r, int64_t new_rev, bool exists)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, api_meta_annotations(w->d))
    {
        if (cJSON_IsString(a) && !skip_copy(a->string)) rs_set_ann(r, a->string, a->valuestring);
    }
    const char *old = rs_ann(r, DEP_ANN_REVISION);
    bool ok;
    int64_t old_rev = parse_i64(old, &ok);
    if (old && *old && !ok) return; /* not a number: leave it alone */
    if (old_rev < new_rev) {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)new_rev);
        rs_set_ann(r, DEP_ANN_REVISION, buf);
        r->revision = new_rev;
        if (old && *old) {
            const char *hist = rs_ann(r, DEP_ANN_REVISION_HISTORY);
            char *nh = hist && *hist ? cx_printf("%s,%s", hist, old) : cx_strdup(old);
            if (strlen(nh) <= 2000) rs_set_ann(r, DEP_ANN_REVISION_HISTORY, nh);
            free(nh);
        }
    }
    if (!exists) set_replicas_ann(w, r);
}

static int64_t new_rs_replicas(struct dep_work *w, const struct dep_rs *nr)
{
    if (!is_rolling(w->d)) return w->replicas;
    int64_t current = sum_replicas(w);
    int64_t max_total = w->replicas + dep_max_surge(w->d);
    if (current >= max_total) return nr->replicas;
    int64_t up = max_total - current;
    if (up > w->replicas - nr->replicas) up = w->replicas - nr->replicas;
    return nr->replicas + up;
}

static void set_dep_revision(struct dep_work *w, int64_t rev)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)rev);
    const char *have = api_meta_annotation(w->d, DEP_ANN_REVISION);
    if (have && !strcmp(have, buf)) return;
    if (!w->p->dep_ann) w->p->dep_ann = cj_new_obj();
    cj_set_str(w->p->dep_ann, DEP_ANN_REVISION, buf);
}

static cJSON *rs_body(struct dep_work *w, const char *name, const char *hash, struct dep_rs *r)
{
    const cJSON *d = w->d;
    cJSON *rs = cj_new_obj();
    cj_set_str(rs, "apiVersion", "apps/v1");
    cj_set_str(rs, "kind", "ReplicaSet");
    cJSON *meta = cj_obj(rs, "metadata");
    cj_set_str(meta, "name", name);
    cj_set_str(meta, "namespace", api_meta_namespace(d));
    cJSON *tmpl = cx_dup(cj_get(d, "spec.template"));
    cj_set_str(cj_obj(cj_obj(tmpl, "metadata"), "labels"), DEP_HASH_LABEL, hash);
    cj_set(meta, "labels", cx_dup(cj_get(tmpl, "metadata.labels")));
    if (r->ann) cj_set(meta, "annotations", cx_dup(r->ann));
    if (api_meta_add_owner_ref(rs, "apps/v1", "Deployment", api_meta_name(d), api_meta_uid(d), true,
                               true) != 0)
        cx_oom();
    cJSON *spec = cj_obj(rs, "spec");
    cj_set_int(spec, "replicas", r->replicas);
    cj_set_int(spec, "minReadySeconds", cj_int(d, "spec.minReadySeconds", 0));
    cJSON *sel = cx_dup(cj_get(d, "spec.selector"));
    if (!sel) sel = cj_new_obj();
    cj_set_str(cj_obj(sel, "matchLabels"), DEP_HASH_LABEL, hash);
    cj_set(spec, "selector", sel);
    cj_set(spec, "template", tmpl);
    return rs;
}

/* getAllReplicaSetsAndSyncRevision. */
static void get_all(struct dep_work *w, bool create)
{
    find_new(w);
    int64_t max_old = 0;
    for (size_t i = 0; i < w->p->n_rs; i++)
        if ((int)i != w->p->new_rs && w->p->rs[i].revision > max_old)
            max_old = w->p->rs[i].revision;
    int64_t new_rev = max_old + 1;
    struct dep_rs *nr = new_rs(w);
    char msg[512];
    if (nr) {
        new_rs_annotations(w, nr, new_rev, true);
        nr->min_ready = cj_int(w->d, "spec.minReadySeconds", 0);
        bool ok;
        int64_t rev = parse_i64(rs_ann(nr, DEP_ANN_REVISION), &ok);
        if (ok) set_dep_revision(w, rev);
        if (!dep_get_condition(w->conds, "Progressing")) {
            snprintf(msg, sizeof msg, "Found new replica set \"%s\"", nr->name);
            dep_set_condition(w->conds, "Progressing", "True", "FoundNewReplicaSet", msg, w->now);
        }
        return;
    }
    if (!create || w->p->create_rs) return;
    char hash[16];
    dep_template_hash(cj_get(w->d, "spec.template"), cj_get(w->d, "status.collisionCount"), hash,
                      sizeof hash);
    char *name = cx_printf("%s-%s", api_meta_name(w->d), hash);
    struct dep_rs *r = add_rs(w->p);
    w->p->new_rs = (int)(w->p->n_rs - 1);
    r->name = name;
    r->created_now = true;
    r->created = w->now;
    r->generation = 1;
    r->observed_generation = 1;
    new_rs_annotations(w, r, new_rev, false);
    r->replicas = 0;
    r->replicas = r->orig_replicas = new_rs_replicas(w, r);
    w->p->create_rs = rs_body(w, name, hash, r);
    set_dep_revision(w, new_rev);
    snprintf(msg, sizeof msg, "Created new replica set \"%s\"", name);
    dep_set_condition(w->conds, "Progressing", "True", "NewReplicaSetCreated", msg, w->now);
}

/* --------------------------------------------------------------- scaling */

/* scaleReplicaSetAndRecordEvent: nothing when the size is right. */
static bool scale_record(struct dep_work *w, struct dep_rs *r, int64_t n)
{
    if (r->replicas == n) return false;
    r->replicas = n;
    set_replicas_ann(w, r);
    return true;
}

/* scaleReplicaSet: the annotations are brought up to date as well. */
static void scale_rs(struct dep_work *w, struct dep_rs *r, int64_t n)
{
    bool ok1, ok2;
    int64_t des = parse_i64(rs_ann(r, DEP_ANN_DESIRED), &ok1);
    int64_t max = parse_i64(rs_ann(r, DEP_ANN_MAX), &ok2);
    bool ann_stale = !ok1 || !ok2 || des != w->replicas || max != w->replicas + dep_max_surge(w->d);
    if (r->replicas == n && !ann_stale) return;
    r->replicas = n;
    set_replicas_ann(w, r);
}

static int64_t max_replicas_of(const struct dep_work *w, const struct dep_rs *r)
{
    bool ok;
    int64_t v = parse_i64(rs_ann(r, DEP_ANN_MAX), &ok);
    return ok ? v : cj_int(w->d, "status.replicas", 0);
}

/* getReplicaSetFraction / GetProportion. */
static int64_t proportion(const struct dep_work *w, const struct dep_rs *r, int64_t to_add,
                          int64_t added)
{
    if (!r || r->replicas == 0 || to_add == 0 || to_add == added) return 0;
    int64_t frac;
    if (w->replicas == 0) {
        frac = -r->replicas;
    } else {
        int64_t dep_replicas = w->replicas + dep_max_surge(w->d);
        int64_t annotated = max_replicas_of(w, r);
        if (annotated <= 0) annotated = dep_replicas;
        double size = (double)(r->replicas * dep_replicas) / (double)annotated;
        frac = (int64_t)llround(size) - r->replicas;
    }
    int64_t allowed = to_add - added;
    if (to_add > 0) return frac < allowed ? frac : allowed;
    return frac > allowed ? frac : allowed;
}

static struct dep_work *sort_w;

/* ReplicaSetsBySizeNewer (adding) / BySizeOlder (removing). */
static int by_size_newer(const void *a, const void *b)
{
    const struct dep_rs *x = &sort_w->p->rs[*(const size_t *)a];
    const struct dep_rs *y = &sort_w->p->rs[*(const size_t *)b];
    if (x->replicas != y->replicas) return x->replicas > y->replicas ? -1 : 1;
    if (x->created != y->created) return x->created > y->created ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int by_size_older(const void *a, const void *b)
{
    const struct dep_rs *x = &sort_w->p->rs[*(const size_t *)a];
    const struct dep_rs *y = &sort_w->p->rs[*(const size_t *)b];
    if (x->replicas != y->replicas) return x->replicas > y->replicas ? -1 : 1;
    if (x->created != y->created) return x->created < y->created ? -1 : 1;
    return strcmp(x->name, y->name);
}

static bool saturated(const struct dep_work *w, const struct dep_rs *r)
{
    bool ok;
    if (!r) return false;
    int64_t desired = parse_i64(rs_ann(r, DEP_ANN_DESIRED), &ok);
    return ok && r->replicas == w->replicas && desired == w->replicas &&
           r->available == w->replicas;
}

/* DeploymentController.scale: proportional scaling of every active RS. */
static void scale(struct dep_work *w)
{
    struct dep_plan *p = w->p;
    struct dep_rs *nr = new_rs(w);
    size_t *idx = cx_calloc(p->n_rs, sizeof(*idx));
    size_t nold = olds(w, idx);
    /* FindActiveOrLatest */
    struct dep_rs *only = NULL;
    size_t active = 0;
    for (size_t i = 0; i < p->n_rs; i++)
        if (p->rs[i].replicas > 0) {
            active++;
            only = &p->rs[i];
        }
    if (active == 0) only = nr ? nr : (nold ? &p->rs[idx[nold - 1]] : NULL);
    if (active <= 1 && only) {
        if (only->replicas != w->replicas) scale_rs(w, only, w->replicas);
        free(idx);
        return;
    }
    if (active > 1 && saturated(w, nr)) {
        for (size_t i = 0; i < nold; i++)
            if (p->rs[idx[i]].replicas > 0) scale_rs(w, &p->rs[idx[i]], 0);
        free(idx);
        return;
    }
    if (active > 1 && is_rolling(w->d)) {
        size_t n = 0;
        for (size_t i = 0; i < p->n_rs; i++)
            if (p->rs[i].replicas > 0) idx[n++] = i;
        int64_t all = 0;
        for (size_t i = 0; i < n; i++)
            all += p->rs[idx[i]].replicas;
        int64_t allowed = w->replicas > 0 ? w->replicas + dep_max_surge(w->d) : 0;
        int64_t to_add = allowed - all;
        sort_w = w;
        qsort(idx, n, sizeof(*idx), to_add > 0 ? by_size_newer : by_size_older);
        int64_t *size = cx_calloc(n, sizeof(*size));
        int64_t added = 0;
        for (size_t i = 0; i < n; i++) {
            struct dep_rs *r = &p->rs[idx[i]];
            int64_t prop = to_add ? proportion(w, r, to_add, added) : 0;
            size[i] = r->replicas + prop;
            added += prop;
        }
        if (to_add != 0 && n) {
            size[0] += to_add - added;
            if (size[0] < 0) size[0] = 0;
        }
        for (size_t i = 0; i < n; i++)
            scale_rs(w, &p->rs[idx[i]], size[i]);
        free(size);
    }
    free(idx);
}

/* --------------------------------------------------------------- rollout */

static bool reconcile_new(struct dep_work *w)
{
    struct dep_rs *nr = new_rs(w);
    if (!nr || nr->replicas == w->replicas) return false;
    if (nr->replicas > w->replicas) return scale_record(w, nr, w->replicas);
    return scale_record(w, nr, new_rs_replicas(w, nr));
}

static int64_t cleanup_unhealthy(struct dep_work *w, size_t *idx, size_t n, int64_t max_cleanup)
{
    int64_t total = 0;
    for (size_t i = 0; i < n && total < max_cleanup; i++) {
        struct dep_rs *r = &w->p->rs[idx[i]];
        if (r->replicas == 0 || r->replicas == r->available) continue;
        int64_t down = max_cleanup - total;
        if (r->replicas - r->available < down) down = r->replicas - r->available;
        if (down <= 0) continue;
        scale_record(w, r, r->replicas - down);
        total += down;
    }
    return total;
}

static int64_t scale_down_old(struct dep_work *w, size_t *idx, size_t n)
{
    int64_t min_avail = w->replicas - dep_max_unavailable(w->d);
    struct dep_rs *nr = new_rs(w);
    int64_t avail = nr ? nr->available : 0;
    for (size_t i = 0; i < n; i++)
        avail += w->p->rs[idx[i]].available;
    if (avail <= min_avail) return 0;
    int64_t want = avail - min_avail, total = 0;
    for (size_t i = 0; i < n && total < want; i++) {
        struct dep_rs *r = &w->p->rs[idx[i]];
        if (r->replicas == 0) continue;
        int64_t down = r->replicas < want - total ? r->replicas : want - total;
        scale_record(w, r, r->replicas - down);
        total += down;
    }
    return total;
}

static bool reconcile_old(struct dep_work *w)
{
    struct dep_plan *p = w->p;
    size_t *idx = cx_calloc(p->n_rs, sizeof(*idx)), *act = cx_calloc(p->n_rs, sizeof(*act));
    size_t nold = olds(w, idx), na = 0;
    int64_t old_count = 0;
    for (size_t i = 0; i < nold; i++)
        if (p->rs[idx[i]].replicas > 0) {
            act[na++] = idx[i];
            old_count += p->rs[idx[i]].replicas;
        }
    bool scaled = false;
    if (old_count > 0) {
        int64_t all = sum_replicas(w);
        int64_t min_avail = w->replicas - dep_max_unavailable(w->d);
        struct dep_rs *nr = new_rs(w);
        int64_t new_unavail = nr ? nr->replicas - nr->available : 0;
        int64_t max_down = all - min_avail - new_unavail;
        if (max_down > 0) {
            int64_t c = cleanup_unhealthy(w, act, na, max_down);
            int64_t d = scale_down_old(w, act, na);
            scaled = c + d > 0;
        }
    }
    free(idx);
    free(act);
    return scaled;
}

static int by_revision(const void *a, const void *b)
{
    const struct dep_rs *x = &sort_w->p->rs[*(const size_t *)a];
    const struct dep_rs *y = &sort_w->p->rs[*(const size_t *)b];
    if (x->revision != y->revision) return x->revision < y->revision ? -1 : 1;
    if (x->created != y->created) return x->created < y->created ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* cleanupDeployment: old, idle RSes beyond revisionHistoryLimit go. */
static void cleanup(struct dep_work *w)
{
    const cJSON *lim = cj_get(w->d, "spec.revisionHistoryLimit");
    if (!cJSON_IsNumber(lim)) return;
    struct dep_plan *p = w->p;
    size_t *idx = cx_calloc(p->n_rs, sizeof(*idx)), n = 0;
    for (size_t i = 0; i < p->n_rs; i++)
        if ((int)i != p->new_rs && !p->rs[i].deleting && !p->rs[i].created_now) idx[n++] = i;
    int64_t diff = (int64_t)n - (int64_t)lim->valuedouble;
    sort_w = w;
    qsort(idx, n, sizeof(*idx), by_revision);
    for (int64_t i = 0; i < diff; i++) {
        struct dep_rs *r = &p->rs[idx[i]];
        if (r->status_replicas != 0 || r->replicas != 0 || r->generation > r->observed_generation)
            continue;
        r->remove = true;
    }
    free(idx);
}

static bool old_pods_running(struct dep_work *w)
{
    for (size_t i = 0; i < w->p->n_rs; i++) {
        const struct dep_rs *r = &w->p->rs[i];
        if ((int)i == w->p->new_rs) continue;
        if (r->status_replicas > 0) return true;
        if (r->uid && w->running && w->running(r->uid, w->arg)) return true;
    }
    return false;
}

static void rollout_recreate(struct dep_work *w)
{
    get_all(w, false);
    bool scaled = false;
    for (size_t i = 0; i < w->p->n_rs; i++)
        if ((int)i != w->p->new_rs && w->p->rs[i].replicas > 0)
            scaled |= scale_record(w, &w->p->rs[i], 0);
    if (scaled || old_pods_running(w)) return;
    if (!new_rs(w)) get_all(w, true);
    struct dep_rs *nr = new_rs(w);
    if (nr) scale_record(w, nr, w->replicas);
    if (dep_complete(w->d, cj_get(w->d, "status"))) cleanup(w);
}

static void rollout_rolling(struct dep_work *w)
{
    get_all(w, true);
    if (reconcile_new(w)) return;
    if (reconcile_old(w)) return;
    if (dep_complete(w->d, cj_get(w->d, "status"))) cleanup(w);
}

static bool scaling_event(struct dep_work *w)
{
    for (size_t i = 0; i < w->p->n_rs; i++) {
        const struct dep_rs *r = &w->p->rs[i];
        bool ok;
        int64_t desired = parse_i64(rs_ann(r, DEP_ANN_DESIRED), &ok);
        if (r->replicas > 0 && ok && desired != w->replicas) return true;
    }
    return false;
}

/* checkPausedConditions */
static void paused_conditions(struct dep_work *w)
{
    const cJSON *c = dep_get_condition(w->conds, "Progressing");
    const char *reason = cj_str0(c, "reason");
    if (c && !strcmp(reason, "ProgressDeadlineExceeded")) return;
    bool paused = cj_true(w->d, "spec.paused");
    bool paused_cond = c && !strcmp(reason, "DeploymentPaused");
    if (paused && !paused_cond)
        dep_set_condition(w->conds, "Progressing", "Unknown", "DeploymentPaused",
                          "Deployment is paused", w->now);
    else if (!paused && paused_cond)
        dep_set_condition(w->conds, "Progressing", "Unknown", "DeploymentResumed",
                          "Deployment is resumed", w->now);
}

/* ----------------------------------------------------------------- plan */

static bool selects_everything(const cJSON *d)
{
    const cJSON *sel = cj_get(d, "spec.selector");
    if (!cJSON_IsObject(sel)) return false;
    const cJSON *ml = cJSON_GetObjectItemCaseSensitive(sel, "matchLabels");
    const cJSON *me = cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions");
    return (!ml || !cJSON_GetArraySize(ml)) && (!me || !cJSON_GetArraySize(me));
}

static cJSON *status_with(const cJSON *st, const cJSON *d, bool set_generation)
{
    cJSON *n = cx_dup(st ? st : cj_get(d, "status"));
    if (!n) n = cj_new_obj();
    if (set_generation) cj_set_int(n, "observedGeneration", api_meta_generation(d));
    return n;
}

static bool status_equal(const cJSON *a, const cJSON *b)
{
    static const char *const nums[] = {"observedGeneration", "replicas",
                                       "updatedReplicas",    "readyReplicas",
                                       "availableReplicas",  "unavailableReplicas",
                                       "collisionCount"};
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++)
        if (cj_int(a, nums[i], 0) != cj_int(b, nums[i], 0)) return false;
    const cJSON *x = cj_get(a, "conditions"), *y = cj_get(b, "conditions");
    int nx = cJSON_IsArray(x) ? cJSON_GetArraySize(x) : 0;
    int ny = cJSON_IsArray(y) ? cJSON_GetArraySize(y) : 0;
    return nx == ny && (nx == 0 || cJSON_Compare(x, y, true));
}

int dep_plan(const cJSON *d, const cJSON *const *rss, size_t n_rss, dep_pods_running_fn running,
             void *arg, uint64_t now_wall, struct dep_plan *out)
{
    memset(out, 0, sizeof(*out));
    out->new_rs = -1;
    if (!d || !api_meta_name(d) || !api_meta_uid(d)) return -1;
    struct dep_work w = {d, cj_int(d, "spec.replicas", 1), now_wall, NULL, out, running, arg};
    const cJSON *oc = cj_get(d, "status.conditions");
    w.conds = cJSON_IsArray(oc) ? cx_dup(oc) : cj_new_arr();
    cJSON *st = NULL;

    if (selects_everything(d)) {
        /* Kubernetes refuses to act on a selector that selects everything. */
        if (cj_int(d, "status.observedGeneration", 0) < api_meta_generation(d))
            out->status = status_with(NULL, d, true);
        cJSON_Delete(w.conds);
        return 0;
    }
    claim(&w, rss, n_rss);
    if (api_meta_deletion_timestamp(d)) {
        get_all(&w, false);
        st = dep_calc_status(d, out->rs, out->n_rs, out->new_rs, w.conds, now_wall);
    } else {
        paused_conditions(&w);
        bool paused = cj_true(d, "spec.paused");
        if (!paused) get_all(&w, false);
        if (paused || scaling_event(&w)) {
            get_all(&w, false);
            scale(&w);
            if (paused) cleanup(&w);
            st = dep_calc_status(d, out->rs, out->n_rs, out->new_rs, w.conds, now_wall);
        } else {
            if (is_rolling(d))
                rollout_rolling(&w);
            else
                rollout_recreate(&w);
            st = dep_rollout_status(d, out->rs, out->n_rs, out->new_rs, w.conds, now_wall,
                                    &out->requeue_ms);
        }
    }
    cJSON_Delete(w.conds);
    if (st && !status_equal(cj_get(d, "status"), st)) {
        out->status = st;
        out->requeue_ms = 0;
    } else {
        cJSON_Delete(st);
    }
    return 0;
}

void dep_plan_free(struct dep_plan *p)
{
    cJSON_Delete(p->create_rs);
    for (size_t i = 0; i < p->n_rs; i++) {
        free(p->rs[i].name);
        free(p->rs[i].uid);
        cJSON_Delete(p->rs[i].ann);
    }
    free(p->rs);
    for (size_t i = 0; i < p->n_adopt; i++)
        free(p->adopt[i]);
    for (size_t i = 0; i < p->n_release; i++)
        free(p->release[i]);
    free(p->adopt);
    free(p->release);
    cJSON_Delete(p->dep_ann);
    cJSON_Delete(p->status);
    memset(p, 0, sizeof(*p));
}
