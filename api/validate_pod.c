/*
 * validate_pod.c - Pod spec validation (containers, ports, env, volumes,
 * resources, tolerations, policies) and the Pod update rules, with
 * Kubernetes' messages.
 *
 * Pod specs are also validated inside the templates of ReplicaSets,
 * Deployments, DaemonSets and ReplicationControllers, so everything takes
 * the dotted path of the spec it checks ("spec", "spec.template.spec").
 */
#include "api/model_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};

static bool one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list)) return true;
    return false;
}

/* Required when empty, NotSupported when not in list. */
static void v_enum(const cJSON *o, const char *key, const char *field, const char *const *list,
                   api_errors_t *e)
{
    const char *v = j_str0(o, key);
    if (!*v)
        api_err_required(e, field, "");
    else if (!one_of(v, list))
        api_err_not_supported(e, field, v, list);
}

/* ------------------------------------------------------------------ volumes */

static const char *const volume_types[] = {"awsElasticBlockStore",
                                           "azureDisk",
                                           "azureFile",
                                           "cephfs",
                                           "cinder",
                                           "configMap",
                                           "csi",
                                           "downwardAPI",
                                           "emptyDir",
                                           "ephemeral",
                                           "fc",
                                           "flexVolume",
                                           "flocker",
                                           "gcePersistentDisk",
                                           "gitRepo",
                                           "glusterfs",
                                           "hostPath",
                                           "image",
                                           "iscsi",
                                           "nfs",
                                           "persistentVolumeClaim",
                                           "photonPersistentDisk",
                                           "portworxVolume",
                                           "projected",
                                           "quobyte",
                                           "rbd",
                                           "scaleIO",
                                           "secret",
                                           "storageos",
                                           "vsphereVolume",
                                           NULL};

static void v_mode(const cJSON *o, const char *key, const char *field, api_errors_t *e)
{
    double d;
    if (j_num(o, key, &d) && (d < 0 || d > 0777))
        api_err_invalid_int(e, field, (long long)d,
                            "must be a number between 0 and 0777 (octal), both inclusive");
}

/* Checks one volume's source; returns how many errors it added. */
static size_t v_volume_source(const cJSON *vol, const char *path, api_errors_t *e)
{
    size_t before = e->n;
    char p[FP_MAX];
    const char *first = NULL;
    for (int i = 0; volume_types[i]; i++) {
        if (!j_has(vol, volume_types[i])) continue;
        if (first) {
            api_err_forbidden(e, fp(p, sizeof p, "%s.%s", path, volume_types[i]),
                              "may not specify more than 1 volume type");
            continue;
        }
        first = volume_types[i];
    }
    if (!first) {
        api_err_required(e, path, "must specify a volume type");
        return e->n - before;
    }
    const cJSON *src = j_get(vol, first);
    if (!strcmp(first, "hostPath")) {
        if (!*j_str0(src, "path"))
            api_err_required(e, fp(p, sizeof p, "%s.hostPath.path", path), "");
    } else if (!strcmp(first, "secret")) {
        if (!*j_str0(src, "secretName"))
            api_err_required(e, fp(p, sizeof p, "%s.secret.secretName", path), "");
        v_mode(src, "defaultMode", fp(p, sizeof p, "%s.secret.defaultMode", path), e);
    } else if (!strcmp(first, "configMap")) {
        if (!*j_str0(src, "name"))
            api_err_required(e, fp(p, sizeof p, "%s.configMap.name", path), "");
        v_mode(src, "defaultMode", fp(p, sizeof p, "%s.configMap.defaultMode", path), e);
    } else if (!strcmp(first, "persistentVolumeClaim")) {
        if (!*j_str0(src, "claimName"))
            api_err_required(e, fp(p, sizeof p, "%s.persistentVolumeClaim.claimName", path), "");
    } else if (!strcmp(first, "nfs")) {
        if (!*j_str0(src, "server"))
            api_err_required(e, fp(p, sizeof p, "%s.nfs.server", path), "");
        if (!*j_str0(src, "path")) api_err_required(e, fp(p, sizeof p, "%s.nfs.path", path), "");
    }
    return e->n - before;
}

/* Validates volumes; returns an array of the names of valid ones (a volume
 * mount may only name those), NULL when out of memory. */
static cJSON *v_volumes(const cJSON *vols, const char *path, api_errors_t *e)
{
    cJSON *names = cJSON_CreateArray();
    char p[FP_MAX], np[FP_MAX];
    const char *m[6];
    const cJSON *vol;
    int i = 0;
    cJSON_ArrayForEach(vol, (cJSON_IsArray(vols) ? vols : NULL))
    {
        fp(p, sizeof p, "%s[%d]", path, i++);
        fp(np, sizeof np, "%s.name", p);
        size_t bad = v_volume_source(vol, p, e);
        const char *name = j_str0(vol, "name");
        if (!*name) {
            api_err_required(e, np, "");
            bad++;
        } else {
            int n = msgs_dns1123_label(name, m);
            err_msgs(e, np, name, n, m);
            bad += (size_t)n;
        }
        bool dup = false;
        const cJSON *it;
        cJSON_ArrayForEach(it, names) if (!strcmp(it->valuestring, name)) dup = true;
        if (dup) {
            api_err_duplicate(e, np, name);
            bad++;
        }
        if (!bad && names) cJSON_AddItemToArray(names, cJSON_CreateString(name));
    }
    if (!names) e->oom = true;
    return names;
}

static void v_volume_mounts(const cJSON *mounts, const cJSON *vols, const char *path,
                            api_errors_t *e)
{
    char p[FP_MAX];
    const cJSON *mnt;
    int i = 0;
    cJSON_ArrayForEach(mnt, (cJSON_IsArray(mounts) ? mounts : NULL))
    {
        const char *name = j_str0(mnt, "name");
        const char *mp = j_str0(mnt, "mountPath");
        if (!*name) api_err_required(e, fp(p, sizeof p, "%s[%d].name", path, i), "");
        bool found = false;
        const cJSON *it;
        cJSON_ArrayForEach(it, vols) if (!strcmp(it->valuestring, name)) found = true;
        if (!found) api_err_not_found(e, fp(p, sizeof p, "%s[%d].name", path, i), name);
        if (!*mp) api_err_required(e, fp(p, sizeof p, "%s[%d].mountPath", path, i), "");
        int j = 0;
        const cJSON *prev;
        cJSON_ArrayForEach(prev, mounts)
        {
            if (j++ >= i) break;
            if (*mp && !strcmp(j_str0(prev, "mountPath"), mp)) {
                api_err_invalid(e, fp(p, sizeof p, "%s[%d].mountPath", path, i), mp,
                                "must be unique");
                break;
            }
        }
        const char *sub = j_str0(mnt, "subPath");
        if (*sub) {
            if (sub[0] == '/')
                api_err_invalid(e, fp(p, sizeof p, "%s[%d].subPath", path, i), sub,
                                "must be a relative path");
            else if (!strcmp(sub, "..") || !strncmp(sub, "../", 3) || strstr(sub, "/../") ||
                     (strlen(sub) >= 3 && !strcmp(sub + strlen(sub) - 3, "/..")))
                api_err_invalid(e, fp(p, sizeof p, "%s[%d].subPath", path, i), sub,
                                "must not contain '..'");
        }
        i++;
    }
}

/* --------------------------------------------------------------- containers */

static void v_ports(const cJSON *ports, const char *path, api_errors_t *e)
{
    char p[FP_MAX];
    const char *m[6];
    const cJSON *port;
    int i = 0;
    cJSON_ArrayForEach(port, (cJSON_IsArray(ports) ? ports : NULL))
    {
        const char *name = j_str0(port, "name");
        if (*name) {
            int n = msgs_port_name(name, m);
            if (n) {
                err_msgs(e, fp(p, sizeof p, "%s[%d].name", path, i), name, n, m);
            } else {
                int j = 0;
                const cJSON *prev;
                cJSON_ArrayForEach(prev, ports)
                {
                    if (j++ >= i) break;
                    if (!strcmp(j_str0(prev, "name"), name)) {
                        api_err_duplicate(e, fp(p, sizeof p, "%s[%d].name", path, i), name);
                        break;
                    }
                }
            }
        }
        long long cp = j_int(port, "containerPort", 0);
        if (cp == 0)
            api_err_required(e, fp(p, sizeof p, "%s[%d].containerPort", path, i), "");
        else
            v_port_num(cp, fp(p, sizeof p, "%s[%d].containerPort", path, i), e);
        long long hp = j_int(port, "hostPort", 0);
        if (hp != 0) v_port_num(hp, fp(p, sizeof p, "%s[%d].hostPort", path, i), e);
        v_enum(port, "protocol", fp(p, sizeof p, "%s[%d].protocol", path, i), protocols, e);
        i++;
    }
}

static void v_env(const cJSON *env, const char *path, api_errors_t *e)
{
    char p[FP_MAX];
    const cJSON *ev;
    int i = 0;
    cJSON_ArrayForEach(ev, (cJSON_IsArray(env) ? env : NULL))
    {
        const char *name = j_str0(ev, "name");
        fp(p, sizeof p, "%s[%d].name", path, i);
        if (!*name) {
            api_err_required(e, p, "");
            api_err_invalid(e, p, name, "environment variable name must be non-empty");
        }
        for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
            /* Printable ASCII except '=' (RelaxedEnvironmentVariableValidation). */
            if (*c < 0x20 || *c > 0x7e || *c == '=') {
                api_err_invalid(e, p, name,
                                "a valid environment variable name must consist only of "
                                "printable ASCII characters other than '='");
                break;
            }
        }
        const cJSON *vf = j_get(ev, "valueFrom");
        if (vf && !cJSON_IsNull(vf)) {
            static const char *const srcs[] = {"fieldRef", "resourceFieldRef", "configMapKeyRef",
                                               "secretKeyRef", NULL};
            int n = 0;
            for (int s = 0; srcs[s]; s++)
                if (j_has(vf, srcs[s])) n++;
            fp(p, sizeof p, "%s[%d].valueFrom", path, i);
            if (n == 0)
                api_err_invalid(e, p, "",
                                "must specify one of: `fieldRef`, `resourceFieldRef`, "
                                "`configMapKeyRef` or `secretKeyRef`");
            else if (*j_str0(ev, "value"))
                api_err_invalid(e, p, "", "may not be specified when `value` is not empty");
            else if (n > 1)
                api_err_invalid(e, p, "", "may not have more than one field specified at a time");
            char q[FP_MAX];
            const cJSON *ref;
            if ((ref = j_get(vf, "fieldRef"))) {
                if (!*j_str0(ref, "fieldPath"))
                    api_err_required(e, fp(q, sizeof q, "%s.fieldRef.fieldPath", p), "");
                if (!*j_str0(ref, "apiVersion"))
                    api_err_required(e, fp(q, sizeof q, "%s.fieldRef.apiVersion", p), "");
            }
            if ((ref = j_get(vf, "resourceFieldRef")) && !*j_str0(ref, "resource"))
                api_err_required(e, fp(q, sizeof q, "%s.resourceFieldRef.resource", p), "");
            static const char *const keyrefs[] = {"configMapKeyRef", "secretKeyRef", NULL};
            for (int k = 0; keyrefs[k]; k++) {
                if (!(ref = j_get(vf, keyrefs[k]))) continue;
                if (!*j_str0(ref, "name"))
                    api_err_required(e, fp(q, sizeof q, "%s.%s.name", p, keyrefs[k]), "");
                const char *key = j_str0(ref, "key");
                if (!*key) {
                    api_err_required(e, fp(q, sizeof q, "%s.%s.key", p, keyrefs[k]), "");
                } else {
                    const char *m[6];
                    err_msgs(e, fp(q, sizeof q, "%s.%s.key", p, keyrefs[k]), key,
                             msgs_config_key(key, m), m);
                }
            }
        }
        i++;
    }
}

static bool standard_container_resource(const char *name)
{
    return !strcmp(name, "cpu") || !strcmp(name, "memory") || !strcmp(name, "ephemeral-storage") ||
           !strncmp(name, "hugepages-", 10);
}

/* cpu, memory and ephemeral-storage may be requested below their limit;
 * hugepages and extended resources (example.com/gpu) must request exactly
 * their limit. */
static bool overcommit_allowed(const char *name)
{
    bool native = !strchr(name, '/') || strstr(name, "kubernetes.io/");
    return native && strncmp(name, "hugepages-", 10);
}

/* Validates one resource list entry; returns 0 and fills q when it parsed. */
static int v_quantity(const cJSON *it, const char *field, api_quantity_t *q, api_errors_t *e)
{
    char err[256];
    if (api_quantity_from_json(it, q, err, sizeof err) != 0) {
        if (cJSON_IsString(it))
            api_err_invalid(e, field, it->valuestring, err);
        else
            err_add(e, API_ERR_INVALID, field, "null", err);
        return -1;
    }
    char buf[API_QUANTITY_STRLEN];
    if (api_quantity_sign(q) < 0)
        api_err_invalid(e, field, api_quantity_format(q, buf, sizeof buf),
                        "must be greater than or equal to 0");
    return 0;
}

static void v_resource_name(const char *name, const char *field, api_errors_t *e)
{
    const char *m[6];
    if (!strchr(name, '/')) {
        if (!standard_container_resource(name))
            api_err_invalid(e, field, name, "must be a standard resource for containers");
    } else {
        err_msgs(e, field, name, msgs_qualified_name(name, m), m);
    }
}

static void v_resources(const cJSON *res, const char *path, api_errors_t *e)
{
    char p[FP_MAX], lim_path[FP_MAX], req_path[FP_MAX];
    const cJSON *limits = j_get(res, "limits"), *requests = j_get(res, "requests");
    fp(lim_path, sizeof lim_path, "%s.limits", path);
    fp(req_path, sizeof req_path, "%s.requests", path);
    const cJSON *it;
    api_quantity_t q, lq;
    cJSON_ArrayForEach(it, (cJSON_IsObject(limits) ? limits : NULL))
    {
        fp(p, sizeof p, "%s[%s]", lim_path, it->string);
        v_resource_name(it->string, p, e);
        v_quantity(it, p, &q, e);
    }
    cJSON_ArrayForEach(it, (cJSON_IsObject(requests) ? requests : NULL))
    {
        fp(p, sizeof p, "%s[%s]", req_path, it->string);
        v_resource_name(it->string, p, e);
        if (v_quantity(it, p, &q, e) != 0) continue;
        const cJSON *lim = j_get(limits, it->string);
        char err[128];
        if (lim) {
            if (api_quantity_from_json(lim, &lq, err, sizeof err) != 0) continue;
            char qs[API_QUANTITY_STRLEN], ls[API_QUANTITY_STRLEN], d[256];
            api_quantity_format(&q, qs, sizeof qs);
            api_quantity_format(&lq, ls, sizeof ls);
            int c = api_quantity_cmp(&q, &lq);
            if (c != 0 && !overcommit_allowed(it->string)) {
                snprintf(d, sizeof d, "must be equal to %s limit of %s", it->string, ls);
                api_err_invalid(e, req_path, qs, d);
            } else if (c > 0) {
                snprintf(d, sizeof d, "must be less than or equal to %s limit of %s", it->string,
                         ls);
                api_err_invalid(e, req_path, qs, d);
            }
        } else if (!overcommit_allowed(it->string)) {
            api_err_required(e, lim_path, "Limit must be set for non overcommitable resources");
        }
    }
}

static const char *const pull_policies[] = {"Always", "IfNotPresent", "Never", NULL};
static const char *const msg_policies[] = {"File", "FallbackToLogsOnError", NULL};

static void v_container(const cJSON *c, const cJSON *vols, const char *path, api_errors_t *e)
{
    char p[FP_MAX];
    const char *m[6];
    const char *name = j_str0(c, "name");
    fp(p, sizeof p, "%s.name", path);
    if (!*name)
        api_err_required(e, p, "");
    else
        err_msgs(e, p, name, msgs_dns1123_label(name, m), m);
    if (!*j_str0(c, "image")) api_err_required(e, fp(p, sizeof p, "%s.image", path), "");
    v_enum(c, "terminationMessagePolicy", fp(p, sizeof p, "%s.terminationMessagePolicy", path),
           msg_policies, e);
    v_ports(j_get(c, "ports"), fp(p, sizeof p, "%s.ports", path), e);
    v_env(j_get(c, "env"), fp(p, sizeof p, "%s.env", path), e);
    v_volume_mounts(j_get(c, "volumeMounts"), vols, fp(p, sizeof p, "%s.volumeMounts", path), e);
    v_enum(c, "imagePullPolicy", fp(p, sizeof p, "%s.imagePullPolicy", path), pull_policies, e);
    v_resources(j_get(c, "resources"), fp(p, sizeof p, "%s.resources", path), e);
}

/* Host ports must be unique per protocol across the pod's containers. */
static void v_host_ports(const cJSON *containers, const char *path, cJSON *seen, api_errors_t *e)
{
    char p[FP_MAX], key[64];
    const cJSON *c, *port;
    int i = 0;
    cJSON_ArrayForEach(c, (cJSON_IsArray(containers) ? containers : NULL))
    {
        int j = 0;
        cJSON_ArrayForEach(port, j_get(c, "ports"))
        {
            long long hp = j_int(port, "hostPort", 0);
            if (hp != 0) {
                snprintf(key, sizeof key, "%lld/%s", hp, j_str0(port, "protocol"));
                if (j_get(seen, key))
                    api_err_duplicate(e, fp(p, sizeof p, "%s[%d].ports[%d].hostPort", path, i, j),
                                      key);
                else if (!cJSON_AddTrueToObject(seen, key))
                    e->oom = true;
            }
            j++;
        }
        i++;
    }
}

static void v_containers(const cJSON *spec, const cJSON *vols, const char *path, api_errors_t *e)
{
    char p[FP_MAX], cp[FP_MAX];
    const cJSON *containers = j_get(spec, "containers");
    const cJSON *inits = j_get(spec, "initContainers");
    if (j_len(spec, "containers") == 0)
        api_err_required(e, fp(p, sizeof p, "%s.containers", path), "");
    cJSON *names = cJSON_CreateObject();
    if (!names) {
        e->oom = true;
        return;
    }
    const cJSON *c;
    int i = 0;
    cJSON_ArrayForEach(c, (cJSON_IsArray(containers) ? containers : NULL))
    {
        fp(cp, sizeof cp, "%s.containers[%d]", path, i++);
        v_container(c, vols, cp, e);
        const char *name = j_str0(c, "name");
        if (j_get(names, name))
            api_err_duplicate(e, fp(p, sizeof p, "%s.name", cp), name);
        else
            cJSON_AddTrueToObject(names, name);
        if (j_has(c, "restartPolicy"))
            api_err_forbidden(e, fp(p, sizeof p, "%s.restartPolicy", cp),
                              "may not be set for non-init containers");
    }
    i = 0;
    cJSON_ArrayForEach(c, (cJSON_IsArray(inits) ? inits : NULL))
    {
        fp(cp, sizeof cp, "%s.initContainers[%d]", path, i++);
        v_container(c, vols, cp, e);
        const char *name = j_str0(c, "name");
        if (j_get(names, name))
            api_err_duplicate(e, fp(p, sizeof p, "%s.name", cp), name);
        else
            cJSON_AddTrueToObject(names, name);
        const char *rp = j_str(c, "restartPolicy");
        if (rp && strcmp(rp, "Always"))
            api_err_not_supported(e, fp(p, sizeof p, "%s.restartPolicy", cp), rp,
                                  (const char *const[]){"Always", NULL});
    }
    cJSON_Delete(names);
    cJSON *seen = cJSON_CreateObject();
    if (!seen) {
        e->oom = true;
        return;
    }
    v_host_ports(containers, fp(p, sizeof p, "%s.containers", path), seen, e);
    cJSON_Delete(seen);
}

/* -------------------------------------------------------------- tolerations */

static const char *const taint_effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};

static void v_tolerations(const cJSON *tols, const char *path, api_errors_t *e)
{
    char p[FP_MAX];
    const char *m[6];
    const cJSON *t;
    int i = 0;
    cJSON_ArrayForEach(t, (cJSON_IsArray(tols) ? tols : NULL))
    {
        const char *key = j_str0(t, "key"), *op = j_str0(t, "operator");
        const char *value = j_str0(t, "value"), *effect = j_str0(t, "effect");
        if (*key)
            err_msgs(e, fp(p, sizeof p, "%s[%d].key", path, i), key, msgs_qualified_name(key, m),
                     m);
        if (!*key && strcmp(op, "Exists"))
            api_err_invalid(e, fp(p, sizeof p, "%s[%d].operator", path, i), op,
                            "operator must be Exists when `key` is empty, which means \"match all "
                            "values and all keys\"");
        if (j_has(t, "tolerationSeconds") && strcmp(effect, "NoExecute"))
            api_err_invalid(e, fp(p, sizeof p, "%s[%d].effect", path, i), effect,
                            "effect must be 'NoExecute' when `tolerationSeconds` is set");
        if (!*op || !strcmp(op, "Equal")) {
            int n = msgs_label_value(value, m);
            if (n) api_err_invalid(e, fp(p, sizeof p, "%s[%d].operator", path, i), value, m[0]);
        } else if (!strcmp(op, "Exists")) {
            if (*value)
                err_add(e, API_ERR_INVALID, fp(p, sizeof p, "%s[%d].operator", path, i),
                        "core.Toleration{...}", "value must be empty when `operator` is 'Exists'");
        } else {
            api_err_not_supported(e, fp(p, sizeof p, "%s[%d].operator", path, i), op,
                                  (const char *const[]){"Equal", "Exists", NULL});
        }
        if (*effect && !one_of(effect, taint_effects))
            api_err_not_supported(e, fp(p, sizeof p, "%s[%d].effect", path, i), effect,
                                  taint_effects);
        i++;
    }
}

/* ---------------------------------------------------------------- pod spec */

static const char *const restart_policies[] = {"Always", "OnFailure", "Never", NULL};
static const char *const dns_policies[] = {"ClusterFirstWithHostNet", "ClusterFirst", "Default",
                                           "None", NULL};

void v_pod_spec(const cJSON *spec, const char *path, api_errors_t *e)
{
    char p[FP_MAX];
    const char *m[6];
    cJSON *vols = v_volumes(j_get(spec, "volumes"), fp(p, sizeof p, "%s.volumes", path), e);
    v_containers(spec, vols, path, e);
    cJSON_Delete(vols);
    v_enum(spec, "restartPolicy", fp(p, sizeof p, "%s.restartPolicy", path), restart_policies, e);
    v_enum(spec, "dnsPolicy", fp(p, sizeof p, "%s.dnsPolicy", path), dns_policies, e);
    v_labels(j_get(spec, "nodeSelector"), fp(p, sizeof p, "%s.nodeSelector", path), e);
    const char *s;
    if (*(s = j_str0(spec, "serviceAccountName")))
        err_msgs(e, fp(p, sizeof p, "%s.serviceAccountName", path), s, msgs_dns1123_subdomain(s, m),
                 m);
    if (*(s = j_str0(spec, "nodeName")))
        err_msgs(e, fp(p, sizeof p, "%s.nodeName", path), s, msgs_dns1123_subdomain(s, m), m);
    double d;
    if (j_num(spec, "activeDeadlineSeconds", &d) && (d < 1 || d > 2147483647))
        api_err_invalid_int(e, fp(p, sizeof p, "%s.activeDeadlineSeconds", path), (long long)d,
                            "must be between 1 and 2147483647, inclusive");
    if (*(s = j_str0(spec, "hostname")))
        err_msgs(e, fp(p, sizeof p, "%s.hostname", path), s, msgs_dns1123_label(s, m), m);
    if (*(s = j_str0(spec, "subdomain")))
        err_msgs(e, fp(p, sizeof p, "%s.subdomain", path), s, msgs_dns1123_label(s, m), m);
    v_tolerations(j_get(spec, "tolerations"), fp(p, sizeof p, "%s.tolerations", path), e);
    const cJSON *g;
    int i = 0;
    cJSON_ArrayForEach(g, j_get(spec, "readinessGates"))
    {
        s = j_str0(g, "conditionType");
        err_msgs(e, fp(p, sizeof p, "%s.readinessGates[%d].conditionType", path, i++), s,
                 msgs_qualified_name(s, m), m);
    }
}

void v_controller_template(const cJSON *tmpl, const char *path, const char *owner, api_errors_t *e)
{
    char p[FP_MAX], d[128];
    if (!cJSON_IsObject(tmpl)) {
        api_err_required(e, path, "");
        return;
    }
    v_template_meta(j_get(tmpl, "metadata"), fp(p, sizeof p, "%s.metadata", path), e);
    const cJSON *spec = j_get(tmpl, "spec");
    v_pod_spec(spec, fp(p, sizeof p, "%s.spec", path), e);
    const char *rp = j_str0(spec, "restartPolicy");
    if (strcmp(rp, "Always"))
        api_err_not_supported(e, fp(p, sizeof p, "%s.spec.restartPolicy", path), rp,
                              (const char *const[]){"Always", NULL});
    if (j_has(spec, "activeDeadlineSeconds")) {
        snprintf(d, sizeof d, "activeDeadlineSeconds in %s is not Supported", owner);
        api_err_forbidden(e, fp(p, sizeof p, "%s.spec.activeDeadlineSeconds", path), d);
    }
}

/* -------------------------------------------------------------- pod update */

static bool same_toleration(const cJSON *a, const cJSON *b)
{
    static const char *const keys[] = {"key", "operator", "value", "effect", NULL};
    for (int i = 0; keys[i]; i++)
        if (strcmp(j_str0(a, keys[i]), j_str0(b, keys[i]))) return false;
    return true;
}

/* A short account of which spec fields differ, standing in for the Go
 * structure diff Kubernetes appends. */
static void spec_diff(sbuf_t *b, const cJSON *old, const cJSON *nw)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, nw)
    {
        const cJSON *o = j_get(old, it->string);
        if (o && cJSON_Compare(o, it, true)) continue;
        char *os = o ? cJSON_PrintUnformatted(o) : NULL, *ns = cJSON_PrintUnformatted(it);
        sb_printf(b, "\n  spec.%s: %.200s -> %.200s", it->string, os ? os : "null",
                  ns ? ns : "null");
        free(os);
        free(ns);
    }
    cJSON_ArrayForEach(it, old)
    {
        if (j_get(nw, it->string)) continue;
        char *os = cJSON_PrintUnformatted(it);
        sb_printf(b, "\n  spec.%s: %.200s -> null", it->string, os ? os : "");
        free(os);
    }
}

static void v_pod_update(const cJSON *pod, const cJSON *old, api_errors_t *e)
{
    char p[FP_MAX];
    const cJSON *ns = j_get(pod, "spec"), *os = j_get(old, "spec");
    static const char *const lists[] = {"containers", "initContainers", NULL};
    for (int l = 0; lists[l]; l++) {
        if (j_len(ns, lists[l]) != j_len(os, lists[l])) {
            api_err_forbidden(e, fp(p, sizeof p, "spec.%s", lists[l]),
                              "pod updates may not add or remove containers");
            return;
        }
    }
    double nd, od;
    bool has_n = j_num(ns, "activeDeadlineSeconds", &nd),
         has_o = j_num(os, "activeDeadlineSeconds", &od);
    if (has_n) {
        if (nd < 0 || nd > 2147483647) {
            api_err_invalid_int(e, "spec.activeDeadlineSeconds", (long long)nd,
                                "must be between 0 and 2147483647, inclusive");
            return;
        }
        if (has_o && od < nd) {
            api_err_invalid_int(e, "spec.activeDeadlineSeconds", (long long)nd,
                                "must be less than or equal to previous value");
            return;
        }
    } else if (has_o) {
        err_add(e, API_ERR_INVALID, "spec.activeDeadlineSeconds", "null",
                "must not update from a positive integer to nil value");
    }
    const cJSON *ot, *nt;
    cJSON_ArrayForEach(ot, j_get(os, "tolerations"))
    {
        bool found = false;
        cJSON_ArrayForEach(nt, j_get(ns, "tolerations")) if (same_toleration(ot, nt)) found = true;
        if (!found) {
            api_err_forbidden(e, "spec.tolerations",
                              "existing toleration can not be modified except its "
                              "tolerationSeconds");
            break;
        }
    }
    /* Compare with the mutable fields taken from the old spec. */
    cJSON *munged = cJSON_Duplicate(ns, true);
    if (!munged) {
        e->oom = true;
        return;
    }
    for (int l = 0; lists[l]; l++) {
        cJSON *nc = (cJSON *)j_get(munged, lists[l]);
        const cJSON *oc = j_get(os, lists[l]);
        for (int i = 0; i < cJSON_GetArraySize(nc); i++) {
            const cJSON *img = j_get(cJSON_GetArrayItem(oc, i), "image");
            cJSON *c = cJSON_GetArrayItem(nc, i);
            if (img)
                j_set(c, "image", cJSON_Duplicate(img, true));
            else
                cJSON_DeleteItemFromObjectCaseSensitive(c, "image");
        }
    }
    static const char *const copied[] = {"activeDeadlineSeconds", "tolerations", "schedulingGates",
                                         NULL};
    for (int i = 0; copied[i]; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(munged, copied[i]);
        const cJSON *v = j_get(os, copied[i]);
        if (v) j_set(munged, copied[i], cJSON_Duplicate(v, true));
    }
    double og;
    if (j_num(os, "terminationGracePeriodSeconds", &og) && og < 0 &&
        j_int(munged, "terminationGracePeriodSeconds", 0) == 1)
        j_set_num(munged, "terminationGracePeriodSeconds", og);
    if (!cJSON_Compare(munged, os, true)) {
        sbuf_t b = {0};
        sb_puts(&b, "pod updates may not change fields other than `spec.containers[*].image`,"
                    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                    "`spec.tolerations` (only additions to existing tolerations),"
                    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                    "previously negative)");
        spec_diff(&b, os, munged);
        char *d = sb_take(&b);
        api_err_forbidden(e, "spec", d ? d : "pod updates may not change fields");
        free(d);
    }
    cJSON_Delete(munged);
}

void v_pod(const cJSON *o, const cJSON *old, api_errors_t *e)
{
    v_pod_spec(j_get(o, "spec"), "spec", e);
    if (old) v_pod_update(o, old, e);
}
