/*
 * node.c - cordon, uncordon and drain. drain cordons the node, then evicts
 * its pods through pods/eviction (so PodDisruptionBudgets are honoured: a
 * 429 is retried until --timeout), skipping DaemonSet pods with
 * --ignore-daemonsets and mirror pods, refusing pods without a controller
 * unless --force and pods with emptyDir data unless --delete-emptydir-data,
 * and waits until every evicted pod is gone - kubectl's rules and messages.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kctl/kctl_int.h"

static const api_resource_t *nodes_res(void)
{
    return api_resource_by_kind("", "Node");
}

static int set_unschedulable(kctl_t *k, const char *node, bool on)
{
    cJSON *n;
    if (kctl_get_object(k, nodes_res(), NULL, node, &n) != 0) return 1;
    bool cur = cJSON_IsTrue(kctl_at(n, "spec.unschedulable"));
    cJSON_Delete(n);
    if (cur == on) {
        printf("node/%s already %s\n", node, on ? "cordoned" : "uncordoned");
        return 0;
    }
    const char *body =
        on ? "{\"spec\":{\"unschedulable\":true}}" : "{\"spec\":{\"unschedulable\":null}}";
    char *path = kctl_path(nodes_res(), NULL, node, NULL, NULL);
    api_result_t res;
    kctl_req(k, "PATCH", path, api_patch_content_type(API_PATCH_STRATEGIC), body, strlen(body),
             NULL, &res);
    free(path);
    int rc = 0;
    if (!api_result_ok(&res)) {
        kctl_print_error(&res);
        rc = 1;
    } else
        printf("node/%s %s\n", node, on ? "cordoned" : "uncordoned");
    api_result_free(&res);
    return rc;
}

static int cordon_cmd(kctl_t *k, int argc, char **argv, bool on)
{
    const kopt_t opts[] = {{0, NULL, 0, NULL}};
    int npos = kctl_opts(opts, argc, argv, NULL);
    if (npos < 0) return 1;
    if (npos == 0) return kctl_fail("USAGE: %s NODE [flags]", on ? "cordon" : "uncordon");
    if (kctl_connect(k) != 0) return 1;
    int rc = 0;
    for (int i = 0; i < npos; i++)
        rc |= set_unschedulable(k, argv[i], on);
    return rc;
}

int kctl_cmd_cordon(kctl_t *k, int argc, char **argv)
{
    return cordon_cmd(k, argc, argv, true);
}

int kctl_cmd_uncordon(kctl_t *k, int argc, char **argv)
{
    return cordon_cmd(k, argc, argv, false);
}

/* ----------------------------------------------------------------- drain */

struct drainopts {
    bool ignore_ds, force, delete_emptydir, disable_eviction;
    long grace;
    const char *timeout, *pod_selector;
};

static bool has_emptydir(const cJSON *pod)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, kctl_at(pod, "spec.volumes")) if (kctl_at(v, "emptyDir")) return true;
    return false;
}

static void add_name(char *buf, size_t len, const cJSON *pod)
{
    size_t l = strlen(buf);
    snprintf(buf + l, len - l, "%s%s/%s", l ? ", " : "", api_meta_namespace(pod) ?: "",
             api_meta_name(pod) ?: "");
}

static int evict(kctl_t *k, const cJSON *pod, const struct drainopts *o, uint64_t deadline)
{
    const char *ns = api_meta_namespace(pod), *name = api_meta_name(pod);
    const api_resource_t *pods = api_resource_by_kind("", "Pod");
    for (;;) {
        api_result_t res;
        if (o->disable_eviction) {
            char *path = kctl_path(pods, ns, name, NULL, NULL);
            char body[128] = "{}";
            if (o->grace >= 0)
                snprintf(body, sizeof body, "{\"gracePeriodSeconds\":%ld}", o->grace);
            kctl_req(k, "DELETE", path, "application/json", body, strlen(body), NULL, &res);
            free(path);
        } else {
            cJSON *ev = cJSON_CreateObject();
            cJSON_AddStringToObject(ev, "apiVersion", "policy/v1");
            cJSON_AddStringToObject(ev, "kind", "Eviction");
            cJSON *meta = cJSON_AddObjectToObject(ev, "metadata");
            cJSON_AddStringToObject(meta, "name", name);
            cJSON_AddStringToObject(meta, "namespace", ns);
            if (o->grace >= 0) {
                cJSON *dopt = cJSON_AddObjectToObject(ev, "deleteOptions");
                cJSON_AddNumberToObject(dopt, "gracePeriodSeconds", (double)o->grace);
            }
            char *path = kctl_path(pods, ns, name, "eviction", NULL);
            kctl_req_json(k, "POST", path, NULL, ev, &res);
            free(path);
            cJSON_Delete(ev);
        }
        int status = res.status;
        if (api_result_ok(&res) || status == 404) {
            api_result_free(&res);
            return 0;
        }
        if (status == 429 && time_mono_ms() < deadline) {
            fprintf(stderr, "error when evicting pods/\"%s\" -n \"%s\" (will retry after 5s): %s\n",
                    name, ns, res.message);
            api_result_free(&res);
            for (int i = 0; i < 50 && time_mono_ms() < deadline; i++)
                usleep(100 * 1000);
            continue;
        }
        fprintf(stderr, "error when evicting pods/\"%s\" -n \"%s\": %s\n", name, ns, res.message);
        api_result_free(&res);
        return 1;
    }
}

static bool pod_gone(kctl_t *k, const cJSON *pod)
{
    const api_resource_t *pods = api_resource_by_kind("", "Pod");
    char *path = kctl_path(pods, api_meta_namespace(pod), api_meta_name(pod), NULL, NULL);
    api_result_t res;
    kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
    free(path);
    bool gone = res.status == 404 ||
                (res.status == 200 &&
                 strcmp(kctl_str(res.obj, "metadata.uid") ?: "", api_meta_uid(pod) ?: "") != 0);
    api_result_free(&res);
    return gone;
}

static int drain_node(kctl_t *k, const char *node, const struct drainopts *o)
{
    if (set_unschedulable(k, node, true) != 0) return 1;
    const api_resource_t *pods = api_resource_by_kind("", "Pod");
    char q[1024];
    snprintf(q, sizeof q, "?fieldSelector=spec.nodeName%%3D%s", node);
    if (o->pod_selector) {
        char *e = kctl_urlenc(o->pod_selector);
        size_t l = strlen(q);
        snprintf(q + l, sizeof q - l, "&labelSelector=%s", e ? e : "");
        free(e);
    }
    char *path = kctl_path(pods, NULL, NULL, NULL, q);
    api_result_t res;
    kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
    free(path);
    if (!api_result_ok(&res)) {
        kctl_print_error(&res);
        api_result_free(&res);
        return 1;
    }
    char ds[2048] = "", bare[2048] = "", local[2048] = "";
    cJSON *todo = cJSON_CreateArray();
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(res.obj, "items"))
    {
        if (api_meta_annotation(p, "kubernetes.io/config.mirror")) continue;
        const char *phase = kctl_str(p, "status.phase") ?: "";
        bool finished = !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed");
        const cJSON *ctl = api_meta_controller_ref(p);
        if (!finished && ctl && !strcmp(kctl_str(ctl, "kind") ?: "", "DaemonSet")) {
            add_name(ds, sizeof ds, p);
            continue;
        }
        if (!finished && !ctl && !o->force) {
            add_name(bare, sizeof bare, p);
            continue;
        }
        if (!finished && has_emptydir(p) && !o->delete_emptydir) {
            add_name(local, sizeof local, p);
            continue;
        }
        if (!finished && !ctl)
            fprintf(stderr, "Warning: deleting Pods that declare no controller: %s/%s\n",
                    api_meta_namespace(p), api_meta_name(p));
        cJSON_AddItemToArray(todo, cJSON_Duplicate(p, true));
    }
    api_result_free(&res);
    char errs[7000] = "";
    if (*ds && !o->ignore_ds)
        snprintf(errs + strlen(errs), sizeof errs - strlen(errs),
                 "%scannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): %s",
                 *errs ? ", " : "", ds);
    if (*bare)
        snprintf(errs + strlen(errs), sizeof errs - strlen(errs),
                 "%scannot delete Pods that declare no controller (use --force to override): %s",
                 *errs ? ", " : "", bare);
    if (*local)
        snprintf(errs + strlen(errs), sizeof errs - strlen(errs),
                 "%scannot delete Pods with local storage (use --delete-emptydir-data to "
                 "override): %s",
                 *errs ? ", " : "", local);
    if (*errs) {
        fprintf(stderr,
                "error: unable to drain node \"%s\" due to error: [%s], continuing command...\n"
                "There are pending nodes to be drained:\n %s\n",
                node, errs, node);
        cJSON_Delete(todo);
        return 1;
    }
    if (*ds) fprintf(stderr, "Warning: ignoring DaemonSet-managed Pods: %s\n", ds);
    long t = 0;
    if (o->timeout) {
        char *end;
        double v = strtod(o->timeout, &end);
        t = (long)(v * (*end == 'm' ? 60 : *end == 'h' ? 3600 : 1));
    }
    uint64_t deadline = time_mono_ms() + (uint64_t)(t > 0 ? t : 7 * 24 * 3600) * 1000;
    int rc = 0;
    cJSON_ArrayForEach(p, todo)
    {
        printf("evicting pod %s/%s\n", api_meta_namespace(p), api_meta_name(p));
        fflush(stdout);
        rc |= evict(k, p, o, deadline);
    }
    cJSON_ArrayForEach(p, todo)
    {
        while (!pod_gone(k, p)) {
            if (time_mono_ms() >= deadline) {
                fprintf(stderr,
                        "error: unable to drain node \"%s\" due to error: error when waiting for "
                        "pod \"%s\" in namespace \"%s\" to terminate: global timeout reached: %s, "
                        "continuing command...\nThere are pending nodes to be drained:\n %s\n",
                        node, api_meta_name(p), api_meta_namespace(p), o->timeout, node);
                cJSON_Delete(todo);
                return 1;
            }
            usleep(200 * 1000);
        }
        printf("pod/%s evicted\n", api_meta_name(p));
        fflush(stdout);
    }
    cJSON_Delete(todo);
    if (rc == 0) printf("node/%s drained\n", node);
    return rc;
}

int kctl_cmd_drain(kctl_t *k, int argc, char **argv)
{
    struct drainopts o = {.grace = -1};
    bool delete_local = false;
    const kopt_t opts[] = {
        {0, "ignore-daemonsets", KOPT_BOOL, &o.ignore_ds},
        {0, "force", KOPT_BOOL, &o.force},
        {0, "delete-emptydir-data", KOPT_BOOL, &o.delete_emptydir},
        {0, "delete-local-data", KOPT_BOOL, &delete_local},
        {0, "disable-eviction", KOPT_BOOL, &o.disable_eviction},
        {0, "grace-period", KOPT_INT, &o.grace},
        {0, "timeout", KOPT_STR, &o.timeout},
        {0, "pod-selector", KOPT_STR, &o.pod_selector},
        {0, NULL, 0, NULL},
    };
    int npos = kctl_opts(opts, argc, argv, NULL);
    if (npos < 0) return 1;
    o.delete_emptydir |= delete_local;
    if (npos == 0) return kctl_fail("USAGE: drain NODE [flags]");
    if (kctl_connect(k) != 0) return 1;
    int rc = 0;
    for (int i = 0; i < npos; i++)
        rc |= drain_node(k, argv[i], &o);
    return rc;
}
