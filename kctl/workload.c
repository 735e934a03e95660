/*
 * workload.c - scale and rollout (status, history, undo, restart, pause,
 * resume) on Deployments (and DaemonSets for status), with kubectl's
 * messages. Revisions are the ReplicaSets the Deployment controls, each
 * with its deployment.kubernetes.io/revision annotation, as kubectl reads
 * them; undo copies a revision's pod template back into the Deployment
 * with kubectl's JSON patch.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kctl/kctl_int.h"

#define REVISION "deployment.kubernetes.io/revision"

/* TYPE NAME or TYPE/NAME, one object. */
static int one_target(int npos, char **argv, const char *verb, kctl_targets_t *t)
{
    if (npos == 0 || kctl_targets(npos, argv, t) != 0 || t->n != 1 || !t->v[0].name) {
        if (npos == 0 || (t->n && !t->v[0].name))
            kctl_fail("required resource not specified (kctl %s TYPE NAME)", verb);
        return -1;
    }
    return 0;
}

int kctl_cmd_scale(kctl_t *k, int argc, char **argv)
{
    long replicas = -1, current = -1;
    const char *timeout = NULL;
    const kopt_t opts[] = {
        {0, "replicas", KOPT_INT, &replicas},
        {0, "current-replicas", KOPT_INT, &current},
        {0, "timeout", KOPT_STR, &timeout},
        {0, NULL, 0, NULL},
    };
    int npos = kctl_opts(opts, argc, argv, NULL);
    if (npos < 0) return 1;
    if (replicas < 0)
        return kctl_fail("The --replicas=COUNT flag is required, and COUNT must be "
                         "greater than or equal to 0");
    kctl_targets_t t = {0};
    if (one_target(npos, argv, "scale", &t) != 0) return 1;
    if (kctl_connect(k) != 0) return 1;
    const api_resource_t *r = t.v[0].res;
    const char *name = t.v[0].name;
    int rc = 0;
    char kn[128];
    kctl_kind_name(r, kn, sizeof kn);
    if (!(r->subresources & API_SUB_SCALE)) {
        kctl_targets_free(&t);
        return kctl_fail("cannot scale %s: it has no scale subresource", kn);
    }
    char *path = kctl_path(r, k->ns, name, "scale", NULL);
    api_result_t res;
    if (current >= 0) {
        kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
        if (!api_result_ok(&res)) {
            kctl_print_error(&res);
            rc = 1;
        } else if (kctl_int(res.obj, "spec.replicas", 0) != current) {
            rc = kctl_fail("Expected replicas to be %ld, was %lld", current,
                           kctl_int(res.obj, "spec.replicas", 0));
        }
        api_result_free(&res);
    }
    if (rc == 0) {
        char body[64];
        snprintf(body, sizeof body, "{\"spec\":{\"replicas\":%ld}}", replicas);
        kctl_req(k, "PATCH", path, api_patch_content_type(API_PATCH_MERGE), body, strlen(body),
                 NULL, &res);
        if (!api_result_ok(&res)) {
            kctl_print_error(&res);
            rc = 1;
        } else
            printf("%s/%s scaled\n", kn, name);
        api_result_free(&res);
    }
    free(path);
    kctl_targets_free(&t);
    return rc;
}

/* ---------------------------------------------------------------- status */

/* kubectl's DeploymentStatusViewer / DaemonSetStatusViewer. */
static bool status_message(const api_resource_t *r, const cJSON *o, char *msg, size_t len,
                           bool *failed)
{
    const char *name = api_meta_name(o) ?: "";
    long long gen = api_meta_generation(o), observed = kctl_int(o, "status.observedGeneration", 0);
    *failed = false;
    if (!strcmp(r->kind, "Deployment")) {
        if (gen > observed) {
            snprintf(msg, len, "Waiting for deployment spec update to be observed...\n");
            return false;
        }
        const cJSON *conds = kctl_at(o, "status.conditions");
        for (const cJSON *c = conds ? conds->child : NULL; c; c = c->next)
            if (!strcmp(kctl_str(c, "type") ?: "", "Progressing") &&
                !strcmp(kctl_str(c, "reason") ?: "", "ProgressDeadlineExceeded")) {
                snprintf(msg, len, "deployment \"%s\" exceeded its progress deadline", name);
                *failed = true;
                return false;
            }
        long long want = kctl_int(o, "spec.replicas", 1);
        long long updated = kctl_int(o, "status.updatedReplicas", 0);
        long long total = kctl_int(o, "status.replicas", 0);
        long long avail = kctl_int(o, "status.availableReplicas", 0);
        if (updated < want)
            snprintf(msg, len,
                     "Waiting for deployment \"%s\" rollout to finish: %lld out of %lld new "
                     "replicas have been updated...\n",
                     name, updated, want);
        else if (total > updated)
            snprintf(msg, len,
                     "Waiting for deployment \"%s\" rollout to finish: %lld old replicas are "
                     "pending termination...\n",
                     name, total - updated);
        else if (avail < updated)
            snprintf(msg, len,
                     "Waiting for deployment \"%s\" rollout to finish: %lld of %lld updated "
                     "replicas are available...\n",
                     name, avail, updated);
        else {
            snprintf(msg, len, "deployment \"%s\" successfully rolled out\n", name);
            return true;
        }
        return false;
    }
    if (!strcmp(r->kind, "DaemonSet")) {
        if (gen > observed) {
            snprintf(msg, len, "Waiting for daemon set spec update to be observed...\n");
            return false;
        }
        long long desired = kctl_int(o, "status.desiredNumberScheduled", 0);
        long long updated = kctl_int(o, "status.updatedNumberScheduled", 0);
        long long avail = kctl_int(o, "status.numberAvailable", 0);
        if (updated < desired)
            snprintf(msg, len,
                     "Waiting for daemon set \"%s\" rollout to finish: %lld out of %lld new pods "
                     "have been updated...\n",
                     name, updated, desired);
        else if (avail < desired)
            snprintf(msg, len,
                     "Waiting for daemon set \"%s\" rollout to finish: %lld of %lld updated pods "
                     "are available...\n",
                     name, avail, desired);
        else {
            snprintf(msg, len, "daemon set \"%s\" successfully rolled out\n", name);
            return true;
        }
        return false;
    }
    snprintf(msg, len, "no status viewer has been implemented for %s", r->kind);
    *failed = true;
    return false;
}

static long seconds_of(const char *s)
{
    if (!s || !*s) return 0;
    char *end;
    double v = strtod(s, &end);
    if (*end == 'm') v *= 60;
    if (*end == 'h') v *= 3600;
    return (long)v;
}

static int rollout_status(kctl_t *k, const api_resource_t *r, const char *name, bool watch,
                          const char *timeout)
{
    long t = seconds_of(timeout);
    uint64_t deadline = t > 0 ? time_mono_ms() + (uint64_t)t * 1000 : 0;
    char last[512] = "";
    for (;;) {
        cJSON *o;
        if (kctl_get_object(k, r, k->ns, name, &o) != 0) return 1;
        char msg[512];
        bool failed, done = status_message(r, o, msg, sizeof msg, &failed);
        cJSON_Delete(o);
        if (failed) return kctl_fail("%s", msg);
        if (strcmp(msg, last) != 0) {
            fputs(msg, stdout);
            fflush(stdout);
            snprintf(last, sizeof last, "%s", msg);
        }
        if (done || !watch) return 0;
        if (deadline && time_mono_ms() >= deadline)
            return kctl_fail("timed out waiting for the condition");
        usleep(300 * 1000);
    }
}

/* ------------------------------------------------------------- revisions */

/* The ReplicaSets whose controller is the Deployment, sorted by revision. */
static cJSON *revisions(kctl_t *k, const cJSON *dep)
{
    const api_resource_t *rs = api_resource_by_kind("apps", "ReplicaSet");
    char *path = kctl_path(rs, k->ns, NULL, NULL, NULL);
    api_result_t res;
    kctl_req(k, "GET", path, NULL, NULL, 0, NULL, &res);
    free(path);
    if (!api_result_ok(&res)) {
        kctl_print_error(&res);
        api_result_free(&res);
        return NULL;
    }
    cJSON *out = cJSON_CreateArray();
    const char *uid = api_meta_uid(dep);
    cJSON *items = cJSON_GetObjectItemCaseSensitive(res.obj, "items");
    cJSON *it;
    while (items && (it = cJSON_DetachItemFromArray(items, 0))) {
        const cJSON *ref = api_meta_controller_ref(it);
        if (!ref || !uid || strcmp(kctl_str(ref, "uid") ?: "", uid) != 0) {
            cJSON_Delete(it);
            continue;
        }
        long rev = atol(api_meta_annotation(it, REVISION) ?: "0");
        cJSON *pos = out->child;
        int idx = 0;
        while (pos && atol(api_meta_annotation(pos, REVISION) ?: "0") < rev)
            pos = pos->next, idx++;
        if (pos)
            cJSON_InsertItemInArray(out, idx, it);
        else
            cJSON_AddItemToArray(out, it);
    }
    api_result_free(&res);
    return out;
}

static int rollout_history(kctl_t *k, const api_resource_t *r, const cJSON *dep, long revision)
{
    cJSON *revs = revisions(k, dep);
    if (!revs) return 1;
    char kn[128];
    kctl_kind_name(r, kn, sizeof kn);
    if (revision > 0) {
        for (cJSON *rs = revs->child; rs; rs = rs->next)
            if (atol(api_meta_annotation(rs, REVISION) ?: "0") == revision) {
                printf("%s/%s with revision #%ld\n", kn, api_meta_name(dep), revision);
                cJSON *tmpl = cJSON_Duplicate(kctl_at(rs, "spec.template"), true);
                char *y = tmpl ? kctl_yaml_emit(tmpl) : NULL;
                printf("Pod Template:\n%s", y ? y : "");
                free(y);
                cJSON_Delete(tmpl);
                cJSON_Delete(revs);
                return 0;
            }
        cJSON_Delete(revs);
        return kctl_fail("unable to find the specified revision");
    }
    printf("%s/%s \n", kn, api_meta_name(dep));
    if (!revs->child) {
        cJSON_Delete(revs);
        printf("No rollout history found.\n");
        return 0;
    }
    size_t w = strlen("REVISION") + 2;
    printf("%-*s%s\n", (int)w, "REVISION", "CHANGE-CAUSE");
    for (cJSON *rs = revs->child; rs; rs = rs->next)
        printf("%-*s%s\n", (int)w, api_meta_annotation(rs, REVISION) ?: "0",
               api_meta_annotation(rs, "kubernetes.io/change-cause") ?: "<none>");
    printf("\n");
    cJSON_Delete(revs);
    return 0;
}

static bool skip_annotation(const char *k)
{
    static const char *const skip[] = {KCTL_LAST_APPLIED,
                                       REVISION,
                                       "deployment.kubernetes.io/revision-history",
                                       "deployment.kubernetes.io/desired-replicas",
                                       "deployment.kubernetes.io/max-replicas",
                                       "deprecated.deployment.rollback.to",
                                       NULL};
    for (int i = 0; skip[i]; i++)
        if (!strcmp(k, skip[i])) return true;
    return false;
}

static int rollout_undo(kctl_t *k, const api_resource_t *r, const cJSON *dep, long to)
{
    cJSON *revs = revisions(k, dep);
    if (!revs) return 1;
    const char *name = api_meta_name(dep);
    cJSON *target = NULL;
    if (to > 0) {
        for (cJSON *rs = revs->child; rs; rs = rs->next)
            if (atol(api_meta_annotation(rs, REVISION) ?: "0") == to) target = rs;
        if (!target) {
            cJSON_Delete(revs);
            return kctl_fail("unable to find specified revision %ld in history", to);
        }
    } else {
        int n = cJSON_GetArraySize(revs);
        if (n < 2) {
            cJSON_Delete(revs);
            return kctl_fail("no rollout history found for deployment \"%s\"", name);
        }
        target = cJSON_GetArrayItem(revs, n - 2);
    }
    cJSON *tmpl = cJSON_Duplicate(kctl_at(target, "spec.template"), true);
    cJSON *labels = (cJSON *)kctl_at(tmpl, "metadata.labels");
    cJSON_DeleteItemFromObjectCaseSensitive(labels, "pod-template-hash");
    char kn[128];
    kctl_kind_name(r, kn, sizeof kn);
    if (cJSON_Compare(tmpl, kctl_at(dep, "spec.template"), true)) {
        printf("%s/%s skipped rollback (current template already matches revision %s)\n", kn, name,
               api_meta_annotation(target, REVISION) ?: "");
        cJSON_Delete(tmpl);
        cJSON_Delete(revs);
        return 0;
    }
    cJSON *ann = cJSON_CreateObject();
    for (const cJSON *a = api_meta_annotations(dep) ? api_meta_annotations(dep)->child : NULL; a;
         a = a->next)
        if (skip_annotation(a->string))
            cJSON_AddItemToObject(ann, a->string, cJSON_Duplicate(a, 1));
    for (const cJSON *a = api_meta_annotations(target) ? api_meta_annotations(target)->child : NULL;
         a; a = a->next)
        if (!skip_annotation(a->string)) {
            cJSON_DeleteItemFromObjectCaseSensitive(ann, a->string);
            cJSON_AddItemToObject(ann, a->string, cJSON_Duplicate(a, 1));
        }
    cJSON *patch = cJSON_CreateArray();
    cJSON *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "op", "replace");
    cJSON_AddStringToObject(op, "path", "/spec/template");
    cJSON_AddItemToObject(op, "value", tmpl);
    cJSON_AddItemToArray(patch, op);
    op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "op", "replace");
    cJSON_AddStringToObject(op, "path", "/metadata/annotations");
    cJSON_AddItemToObject(op, "value", ann);
    cJSON_AddItemToArray(patch, op);
    char *path = kctl_path(r, k->ns, name, NULL, NULL);
    api_result_t res;
    kctl_req_json(k, "PATCH", path, api_patch_content_type(API_PATCH_JSON), patch, &res);
    free(path);
    int rc = 0;
    if (!api_result_ok(&res)) {
        kctl_print_error(&res);
        rc = 1;
    } else
        printf("%s/%s rolled back\n", kn, name);
    api_result_free(&res);
    cJSON_Delete(patch);
    cJSON_Delete(revs);
    return rc;
}

static int patch_print(kctl_t *k, const api_resource_t *r, const char *name, const char *body,
                       const char *done)
{
    char *path = kctl_path(r, k->ns, name, NULL, NULL);
    api_result_t res;
    kctl_req(k, "PATCH", path, api_patch_content_type(API_PATCH_STRATEGIC), body, strlen(body),
             NULL, &res);
    free(path);
    int rc = 0;
    char kn[128];
    kctl_kind_name(r, kn, sizeof kn);
    if (!api_result_ok(&res)) {
        kctl_print_error(&res);
        rc = 1;
    } else
        printf("%s/%s %s\n", kn, name, done);
    api_result_free(&res);
    return rc;
}

int kctl_cmd_rollout(kctl_t *k, int argc, char **argv)
{
    if (argc < 2)
        return kctl_fail("kctl rollout status|history|undo|restart|pause|resume TYPE NAME");
    const char *sub = argv[1];
    bool watch = true;
    const char *timeout = NULL;
    long revision = 0, to = 0;
    const kopt_t opts[] = {
        {'w', "watch", KOPT_BOOL, &watch},
        {0, "timeout", KOPT_STR, &timeout},
        {0, "revision", KOPT_INT, &revision},
        {0, "to-revision", KOPT_INT, &to},
        {0, NULL, 0, NULL},
    };
    int npos = kctl_opts(opts, argc - 1, argv + 1, NULL);
    if (npos < 0) return 1;
    kctl_targets_t t = {0};
    if (one_target(npos, argv + 1, "rollout", &t) != 0) return 1;
    if (kctl_connect(k) != 0) {
        kctl_targets_free(&t);
        return 1;
    }
    const api_resource_t *r = t.v[0].res;
    const char *name = t.v[0].name;
    int rc;
    if (!strcmp(sub, "status")) {
        rc = rollout_status(k, r, name, watch, timeout);
    } else if (!strcmp(sub, "restart")) {
        char ts[64], body[256];
        /* kubectl writes time.Now() in RFC 3339; UTC reads the same everywhere */
        time_format_rfc3339(time_wall_ms(), ts, sizeof ts);
        snprintf(body, sizeof body,
                 "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/"
                 "restartedAt\":\"%s\"}}}}}",
                 ts);
        rc = patch_print(k, r, name, body, "restarted");
    } else if (!strcmp(sub, "pause")) {
        rc = patch_print(k, r, name, "{\"spec\":{\"paused\":true}}", "paused");
    } else if (!strcmp(sub, "resume")) {
        rc = patch_print(k, r, name, "{\"spec\":{\"paused\":null}}", "resumed");
    } else if (!strcmp(sub, "history") || !strcmp(sub, "undo")) {
        if (strcmp(r->kind, "Deployment") != 0) {
            kctl_targets_free(&t);
            return kctl_fail("no history viewer has been implemented for %s", r->kind);
        }
        cJSON *dep;
        if (kctl_get_object(k, r, k->ns, name, &dep) != 0) {
            kctl_targets_free(&t);
            return 1;
        }
        rc = !strcmp(sub, "history") ? rollout_history(k, r, dep, revision)
                                     : rollout_undo(k, r, dep, to);
        cJSON_Delete(dep);
    } else {
        rc = kctl_fail("unknown command \"%s\" for \"kctl rollout\"", sub);
    }
    kctl_targets_free(&t);
    return rc;
}
