/*
 * podmgr.c - the pod table, on the agent's loop: one worker per pod,
 * scheduling its passes (sync.c) on libuv's thread pool, never two at a
 * time for one pod, and turning their results into statuses.
 *
 * A pod's pass runs again when its source changes it, when one of its
 * containers exits (a pidfd on each shim, so a crash is seen at once,
 * not at the next poll), when the pass asked to (back-off, probe, grace
 * period), and every 10 s regardless (as the kubelet's resync).
 * A status is handed to the hooks only when it differs from the last one,
 * and a pod whose last trace left the node is handed to `removed` (the
 * API side then confirms the deletion) and forgotten.
 *
 * At start the table is filled from the data dir (pods the agent ran
 * before it restarted): their containers keep running. Once the source
 * has delivered its first full list, those it does not know are removed.
 */
#include "nodeagent/agent_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RESYNC_MS 10000u
#define MAX_WATCH 16

struct watch {
    pid_t pid;
    int fd;
    uv_poll_t poll;
    struct pod *p;
    bool used;    /* watching */
    bool closing; /* the handle is closing: the slot is not free yet */
};

struct pod {
    struct pod *next;
    podmgr_t *m;
    char uid[64];
    char ns[64], name[254];
    cJSON *want; /* the pod from the source (or data dir) */
    bool gone;   /* left its source */
    bool seen;   /* the source delivered it since the agent started */
    bool busy;   /* a pass is running */
    bool again;  /* run another pass once this one ends */
    struct pod_rt *rt;
    cJSON *status; /* the last status computed */
    uv_timer_t timer;
    struct watch w[MAX_WATCH];
    int handles; /* handles still open (timer + polls) */
    bool freeing;
};

struct podmgr {
    uv_loop_t *loop;
    struct node_ctx *nc;
    struct podmgr_hooks hooks;
    struct pod *pods;
    int busy;
    bool stopping;
    void (*stop_done)(void *);
    void *stop_arg;
    int open_handles;
};

struct job {
    uv_work_t work;
    struct pod *p;
    cJSON *want;
    bool gone;
    uint64_t next;
};

static void schedule(struct pod *p, uint64_t delay_ms);
static void run_pass(struct pod *p);

static struct pod *find_uid(podmgr_t *m, const char *uid)
{
    for (struct pod *p = m->pods; p; p = p->next)
        if (!strcmp(p->uid, uid)) return p;
    return NULL;
}

static void maybe_stopped(podmgr_t *m)
{
    if (m->stopping && m->busy == 0 && m->open_handles == 0 && m->stop_done) {
        void (*done)(void *) = m->stop_done;
        m->stop_done = NULL;
        done(m->stop_arg);
    }
}

static void pod_handle_gone(struct pod *p)
{
    podmgr_t *m = p->m;
    m->open_handles--;
    if (--p->handles == 0 && p->freeing) {
        cJSON_Delete(p->want);
        cJSON_Delete(p->status);
        pod_rt_free(p->rt);
        free(p);
    }
    maybe_stopped(m);
}

static void timer_closed(uv_handle_t *h)
{
    pod_handle_gone(h->data);
}

static void poll_closed(uv_handle_t *h)
{
    struct watch *w = h->data;
    w->closing = false;
    pod_handle_gone(w->p);
}

static void unwatch(struct watch *w)
{
    if (!w->used) return;
    w->used = false;
    w->closing = true;
    if (w->fd >= 0) close(w->fd);
    w->fd = -1;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, poll_closed);
}

static void free_pod(struct pod *p)
{
    podmgr_t *m = p->m;
    for (struct pod **pp = &m->pods; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    p->freeing = true;
    for (int i = 0; i < MAX_WATCH; i++)
        unwatch(&p->w[i]);
    uv_close((uv_handle_t *)&p->timer, timer_closed);
}

/* ---------------------------------------------------------- shim watches */

static void shim_exited(uv_poll_t *h, int status, int events)
{
    struct watch *w = h->data;
    struct pod *p = w->p;
    (void)status;
    (void)events;
    unwatch(w);
    if (!p->m->stopping) run_pass(p);
}

static void watch_shims(struct pod *p)
{
    struct pod_rt *rt = p->rt;
    for (int i = 0; i < MAX_WATCH; i++) {
        struct watch *w = &p->w[i];
        if (!w->used) continue;
        bool still = false;
        for (size_t k = 0; k < rt->n; k++)
            if (rt->c[k].state == CS_RUNNING && rt->c[k].shim_pid == w->pid) still = true;
        if (!still) unwatch(w);
    }
    for (size_t k = 0; k < rt->n; k++) {
        struct ctr_rt *c = &rt->c[k];
        if (c->state != CS_RUNNING || c->shim_pid <= 0) continue;
        bool have = false;
        for (int i = 0; i < MAX_WATCH; i++)
            if (p->w[i].used && p->w[i].pid == c->shim_pid) have = true;
        if (have) continue;
        int slot = -1;
        for (int i = 0; i < MAX_WATCH && slot < 0; i++)
            if (!p->w[i].used && !p->w[i].closing) slot = i;
        if (slot < 0) continue; /* many containers: the resync covers the rest */
        int fd = (int)syscall(SYS_pidfd_open, c->shim_pid, 0);
        if (fd < 0) continue; /* gone already, or an old kernel: the resync sees it */
        struct watch *w = &p->w[slot];
        w->pid = c->shim_pid;
        w->fd = fd;
        w->p = p;
        if (uv_poll_init(p->m->loop, &w->poll, fd) != 0) {
            close(fd);
            continue;
        }
        w->poll.data = w;
        w->used = true;
        p->handles++;
        p->m->open_handles++;
        uv_poll_start(&w->poll, UV_READABLE, shim_exited);
    }
}

/* --------------------------------------------------------------- passes */

static void work_cb(uv_work_t *req)
{
    struct job *j = req->data;
    struct pod *p = j->p;
    struct node_ctx *nc = p->m->nc;
    j->next = pod_sync(nc, p->rt, j->want, j->gone, time_mono_ms());
    if (p->rt->dirty && !p->rt->removed) {
        if (pod_rt_save(nc, p->rt, j->want) != 0)
            log_warn(COMP, "pod %s/%s: cannot save its state in %s", p->ns, p->name, nc->pods);
        p->rt->dirty = false;
    }
}

static bool same_json(const cJSON *a, const cJSON *b)
{
    if (!a || !b) return a == b;
    return cJSON_Compare(a, b, true);
}

static void after_cb(uv_work_t *req, int status)
{
    struct job *j = req->data;
    struct pod *p = j->p;
    podmgr_t *m = p->m;
    (void)status;
    p->busy = false;
    m->busy--;
    if (p->rt->removed) {
        if (m->hooks.removed) m->hooks.removed(m->hooks.arg, j->want);
        cJSON_Delete(j->want);
        free(j);
        free_pod(p);
        maybe_stopped(m);
        return;
    }
    cJSON *st = status_build(p->rt, j->want, p->status, m->nc->node_ip, time_wall_ms());
    if (st && !same_json(st, p->status)) {
        cJSON_Delete(p->status);
        p->status = st;
        if (m->hooks.status) m->hooks.status(m->hooks.arg, j->want, st);
    } else {
        cJSON_Delete(st);
    }
    watch_shims(p);
    uint64_t now = time_mono_ms();
    uint64_t delay = j->next ? (j->next > now ? j->next - now : 0) : RESYNC_MS;
    if (delay > RESYNC_MS) delay = RESYNC_MS;
    cJSON_Delete(j->want);
    free(j);
    if (m->stopping) {
        free_pod(p);
        maybe_stopped(m);
        return;
    }
    if (p->again) {
        p->again = false;
        run_pass(p);
    } else {
        schedule(p, delay);
    }
}

static void run_pass(struct pod *p)
{
    podmgr_t *m = p->m;
    if (m->stopping || p->freeing) return;
    if (p->busy) {
        p->again = true;
        return;
    }
    uv_timer_stop(&p->timer);
    pod_rt_reconcile(p->rt, p->want);
    struct job *j = calloc(1, sizeof *j);
    cJSON *want = j ? cJSON_Duplicate(p->want, 1) : NULL;
    if (!want) {
        free(j);
        schedule(p, 1000);
        return;
    }
    j->p = p;
    j->want = want;
    j->gone = p->gone;
    j->work.data = j;
    if (uv_queue_work(m->loop, &j->work, work_cb, after_cb) != 0) {
        cJSON_Delete(want);
        free(j);
        schedule(p, 1000);
        return;
    }
    p->busy = true;
    m->busy++;
}

static void timer_cb(uv_timer_t *t)
{
    run_pass(t->data);
}

static void schedule(struct pod *p, uint64_t delay_ms)
{
    if (p->m->stopping || p->freeing) return;
    uv_timer_start(&p->timer, timer_cb, delay_ms, 0);
}

static struct pod *new_pod(podmgr_t *m, const char *uid, cJSON *want, struct pod_rt *rt)
{
    struct pod *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->m = m;
    snprintf(p->uid, sizeof p->uid, "%s", uid);
    snprintf(p->ns, sizeof p->ns, "%s", jstr(jget(want, "metadata"), "namespace", "default"));
    snprintf(p->name, sizeof p->name, "%s", jstr(jget(want, "metadata"), "name", ""));
    p->want = want;
    p->rt = rt;
    uv_timer_init(m->loop, &p->timer);
    p->timer.data = p;
    p->handles = 1;
    m->open_handles++;
    p->next = m->pods;
    m->pods = p;
    return p;
}

/* ---------------------------------------------------------------- API */

podmgr_t *podmgr_new(uv_loop_t *loop, struct node_ctx *nc, const struct podmgr_hooks *hooks)
{
    podmgr_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->loop = loop;
    m->nc = nc;
    if (hooks) m->hooks = *hooks;
    return m;
}

int podmgr_adopt(podmgr_t *m)
{
    DIR *d = opendir(m->nc->pods);
    if (!d) return 0;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        cJSON *pod = NULL;
        struct pod_rt *rt = pod_rt_load(m->nc, e->d_name, &pod);
        if (!rt) {
            log_warn(COMP, "%s/%s holds no pod state: left alone", m->nc->pods, e->d_name);
            continue;
        }
        struct pod *p = new_pod(m, e->d_name, pod, rt);
        if (!p) {
            cJSON_Delete(pod);
            pod_rt_free(rt);
            continue;
        }
        n++;
        log_info(COMP, "pod %s/%s: adopted from the data dir", p->ns, p->name);
        /* Exits that happened while the agent was away are read now;
         * starting anything waits for the source. */
        watch_shims(p);
    }
    closedir(d);
    return n;
}

void podmgr_update(podmgr_t *m, const cJSON *pod)
{
    const char *uid = api_meta_uid(pod);
    if (!uid || !*uid || m->stopping) return;
    struct pod *p = find_uid(m, uid);
    cJSON *copy = cJSON_Duplicate(pod, 1);
    if (!copy) return;
    if (!p) {
        struct pod_rt *rt = calloc(1, sizeof *rt);
        if (!rt || pod_rt_reconcile(rt, pod) != 0) {
            pod_rt_free(rt);
            cJSON_Delete(copy);
            return;
        }
        p = new_pod(m, uid, copy, rt);
        if (!p) {
            pod_rt_free(rt);
            cJSON_Delete(copy);
            return;
        }
        log_info(COMP, "pod %s/%s: taken by this node", p->ns, p->name);
    } else {
        cJSON_Delete(p->want);
        p->want = copy;
    }
    p->seen = true;
    p->gone = false;
    run_pass(p);
}

void podmgr_remove(podmgr_t *m, const char *uid)
{
    struct pod *p = find_uid(m, uid);
    if (!p || p->gone) return;
    p->gone = true;
    run_pass(p);
}

void podmgr_source_synced(podmgr_t *m)
{
    for (struct pod *p = m->pods; p; p = p->next) {
        if (p->seen) continue;
        log_info(COMP, "pod %s/%s: no longer exists, stopping its containers", p->ns, p->name);
        p->gone = true;
        run_pass(p);
    }
}

void podmgr_resync_all(podmgr_t *m)
{
    for (struct pod *p = m->pods; p; p = p->next)
        run_pass(p);
}

bool podmgr_find(podmgr_t *m, const char *ns, const char *name, const char **uid,
                 const cJSON **status)
{
    for (struct pod *p = m->pods; p; p = p->next)
        if (!strcmp(p->ns, ns) && !strcmp(p->name, name) && !p->gone) {
            if (uid) *uid = p->uid;
            if (status) *status = p->status;
            return true;
        }
    return false;
}

size_t podmgr_count(podmgr_t *m)
{
    size_t n = 0;
    for (struct pod *p = m->pods; p; p = p->next)
        n++;
    return n;
}

void podmgr_stop(podmgr_t *m, void (*done)(void *), void *arg)
{
    m->stopping = true;
    m->stop_done = done;
    m->stop_arg = arg;
    /* Busy pods are freed when their pass ends. */
    struct pod *p = m->pods, *next;
    for (; p; p = next) {
        next = p->next;
        if (!p->busy) free_pod(p);
    }
    maybe_stopped(m);
}

void podmgr_free(podmgr_t *m)
{
    free(m);
}
