/*
 * manifests.c - static pods: pod manifests (JSON) in a folder, run by the
 * agent without an API server, like the kubelet's staticPodPath. This is
 * how a node can run something before (or without) a cluster, and how the
 * runtime is tested on its own.
 *
 * The folder is read every second. A pod's UID is derived from its file
 * and content, as the kubelet does: editing a manifest replaces the pod,
 * removing the file removes it. The pod is defaulted as the API server
 * would (restartPolicy, grace period, pull policy ...). Its status is
 * written to <data>/agent/pods/<uid>/status.json, since there is no API
 * server to send it to.
 */
#include "nodeagent/agent_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SCAN_MS 1000u
#define MAX_FILES 256

struct mfile {
    char name[256];
    uint32_t hash;
    char uid[64];
    bool seen;
};

struct manifests {
    agent_t *a;
    char dir[AGENT_PATH_MAX];
    uv_timer_t timer;
    struct mfile files[MAX_FILES];
    size_t n;
    bool synced;
};

static void make_uid(const char *node, const char *file, const char *text, char *uid, size_t len)
{
    char seed[600];
    snprintf(seed, sizeof seed, "%s/%s", node, file);
    uint32_t a = hash32(seed, strlen(seed)), b = hash32(text, strlen(text));
    uint32_t c = hash32(&a, sizeof a) ^ b, d = hash32(&b, sizeof b) ^ a;
    snprintf(uid, len, "%08x-%04x-%04x-%04x-%04x%08x", a, b >> 16, (b & 0xfff) | 0x4000,
             (c & 0x3fff) | 0x8000, c >> 16, d);
}

static void load(struct manifests *m, struct mfile *f, const char *text)
{
    char err[300];
    cJSON *pod = cJSON_Parse(text);
    if (!cJSON_IsObject(pod) || strcmp(jstr(pod, "kind", "Pod"), "Pod") != 0) {
        log_warn(COMP, "static pod %s/%s: not a Pod in JSON: ignored", m->dir, f->name);
        cJSON_Delete(pod);
        return;
    }
    struct node_ctx *nc = agent_node_ctx(m->a);
    make_uid(nc->node_name, f->name, text, f->uid, sizeof f->uid);
    if (!api_meta_namespace(pod)) api_meta_set_str(pod, "namespace", "default");
    api_meta_set_str(pod, "uid", f->uid);
    /* As the kubelet marks static pods: statuses go to status.json. */
    api_meta_set_annotation(pod, "kubernetes.io/config.source", "file");
    if (!jget(pod, "apiVersion")) cJSON_AddStringToObject(pod, "apiVersion", "v1");
    if (!jget(pod, "kind")) cJSON_AddStringToObject(pod, "kind", "Pod");
    api_default("Pod", pod);
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    if (spec) {
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "nodeName");
        cJSON_AddStringToObject(spec, "nodeName", nc->node_name);
    }
    api_errors_t errs = API_ERRORS_INIT;
    if (api_validate("Pod", pod, NULL, &errs) > 0) {
        char *msg = api_errors_message(&errs);
        snprintf(err, sizeof err, "%s", msg ? msg : "invalid");
        free(msg);
        api_errors_free(&errs);
        log_warn(COMP, "static pod %s/%s is invalid: %s", m->dir, f->name, err);
        cJSON_Delete(pod);
        f->uid[0] = 0;
        return;
    }
    api_errors_free(&errs);
    podmgr_update(agent_podmgr(m->a), pod);
    cJSON_Delete(pod);
}

static bool is_manifest(const char *name)
{
    size_t l = strlen(name);
    return name[0] != '.' && l > 5 && !strcmp(name + l - 5, ".json");
}

static void scan(uv_timer_t *t)
{
    struct manifests *m = t->data;
    for (size_t i = 0; i < m->n; i++)
        m->files[i].seen = false;
    DIR *d = opendir(m->dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!is_manifest(e->d_name)) continue;
        char p[AGENT_PATH_MAX + 300];
        snprintf(p, sizeof p, "%s/%s", m->dir, e->d_name);
        char *text = file_read_all(p, NULL);
        if (!text) continue;
        uint32_t h = hash32(text, strlen(text));
        struct mfile *f = NULL;
        for (size_t i = 0; i < m->n; i++)
            if (!strcmp(m->files[i].name, e->d_name)) f = &m->files[i];
        if (!f && m->n < MAX_FILES) {
            f = &m->files[m->n++];
            memset(f, 0, sizeof *f);
            snprintf(f->name, sizeof f->name, "%s", e->d_name);
        }
        if (f) {
            f->seen = true;
            if (f->hash != h) {
                if (f->uid[0]) podmgr_remove(agent_podmgr(m->a), f->uid);
                f->hash = h;
                f->uid[0] = 0;
                load(m, f, text);
            }
        }
        free(text);
    }
    if (d) closedir(d);
    for (size_t i = 0; i < m->n;) {
        if (m->files[i].seen) {
            i++;
            continue;
        }
        if (m->files[i].uid[0]) podmgr_remove(agent_podmgr(m->a), m->files[i].uid);
        m->files[i] = m->files[--m->n];
    }
    if (!m->synced) {
        m->synced = true;
        agent_source_synced(m->a);
    }
}

struct manifests *manifests_start(agent_t *a, const char *dir)
{
    struct manifests *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->a = a;
    snprintf(m->dir, sizeof m->dir, "%s", dir);
    file_mkdirs(dir, 0700);
    uv_timer_init(agent_loop(a), &m->timer);
    m->timer.data = m;
    uv_timer_start(&m->timer, scan, 0, SCAN_MS);
    return m;
}

static void closed(uv_handle_t *h)
{
    free(h->data);
}

void manifests_stop(struct manifests *m)
{
    if (!m) return;
    uv_timer_stop(&m->timer);
    uv_close((uv_handle_t *)&m->timer, closed);
}

void manifests_status(agent_t *a, const cJSON *pod, const cJSON *status)
{
    struct node_ctx *nc = agent_node_ctx(a);
    char dir[AGENT_PATH_MAX], p[AGENT_PATH_MAX + 32];
    pod_dir(nc, api_meta_uid(pod), dir, sizeof dir);
    snprintf(p, sizeof p, "%s/status.json", dir);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "metadata", cJSON_Duplicate(jget(pod, "metadata"), 1));
    cJSON_AddItemToObject(o, "status", cJSON_Duplicate(status, 1));
    if (file_mkdirs(dir, 0700) == 0) fs_write_json(p, o, false);
    cJSON_Delete(o);
}
