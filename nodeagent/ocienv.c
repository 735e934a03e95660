/*
 * ocienv.c - a container's process: its args (the image's Entrypoint/Cmd
 * overridden by command/args) and its environment (the image's, then the
 * pod's: value, fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef,
 * envFrom), with Kubernetes' $(VAR) expansion. Part of config.json
 * generation (ocispec.c); pure but for the fetch hook.
 */
#include "nodeagent/agent_int.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ------------------------------------------------------------------- env */

char *spec_expand(const char *s, const cJSON *env)
{
    size_t cap = strlen(s) + 1, len = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    for (const char *p = s; *p;) {
        const char *add = p;
        size_t addl = 1, adv = 1;
        if (p[0] == '$' && p[1] == '$') {
            addl = 1; /* "$$" is an escaped "$" */
            adv = 2;
        } else if (p[0] == '$' && p[1] == '(') {
            const char *close = strchr(p + 2, ')');
            if (close) {
                char name[256];
                snprintf(name, sizeof name, "%.*s", (int)(close - p - 2), p + 2);
                const char *v = jstr(env, name, NULL);
                adv = (size_t)(close - p) + 1;
                if (v) {
                    add = v;
                    addl = strlen(v);
                } else {
                    addl = adv; /* unknown references are left as they are */
                }
            }
        }
        if (len + addl + 1 > cap) {
            cap = (len + addl + 1) * 2;
            char *n = realloc(out, cap);
            if (!n) {
                free(out);
                return NULL;
            }
            out = n;
        }
        memcpy(out + len, add, addl);
        len += addl;
        p += adv;
    }
    out[len] = 0;
    return out;
}

static void env_set(cJSON *env, const char *name, const char *value)
{
    if (jget(env, name))
        cJSON_ReplaceItemInObjectCaseSensitive(env, name, cJSON_CreateString(value));
    else
        cJSON_AddStringToObject(env, name, value);
}

/* metadata.labels['app'] and friends. */
static const char *field_ref(const struct spec_in *in, const char *path, char *buf, size_t len)
{
    const cJSON *pod = in->pod, *md = jget(pod, "metadata"), *spec = jget(pod, "spec");
    if (!strcmp(path, "metadata.name")) return jstr(md, "name", "");
    if (!strcmp(path, "metadata.namespace")) return jstr(md, "namespace", "default");
    if (!strcmp(path, "metadata.uid")) return jstr(md, "uid", "");
    if (!strcmp(path, "spec.nodeName")) return in->node_name ? in->node_name : "";
    if (!strcmp(path, "spec.serviceAccountName"))
        return jstr(spec, "serviceAccountName", "default");
    if (!strcmp(path, "status.hostIP") || !strcmp(path, "status.hostIPs"))
        return in->host_ip ? in->host_ip : "";
    if (!strcmp(path, "status.podIP") || !strcmp(path, "status.podIPs"))
        return in->pod_ip ? in->pod_ip : "";
    const char *maps[] = {"metadata.labels['", "metadata.annotations['"};
    for (int i = 0; i < 2; i++) {
        size_t l = strlen(maps[i]);
        if (!strncmp(path, maps[i], l)) {
            snprintf(buf, len, "%s", path + l);
            char *q = strstr(buf, "']");
            if (q) *q = 0;
            return jstr(jget(md, i ? "annotations" : "labels"), buf, "");
        }
    }
    return NULL;
}

static const cJSON *container_named(const cJSON *pod, const char *name)
{
    const char *lists[] = {"containers", "initContainers", NULL};
    for (int l = 0; lists[l]; l++) {
        const cJSON *c;
        cJSON_ArrayForEach(
            c, jget(jget(pod, "spec"), lists[l])) if (!strcmp(jstr(c, "name", ""), name)) return c;
    }
    return NULL;
}

/* resourceFieldRef: limits.cpu (rounded up to whole units of divisor),
 * requests.memory ... Unset limits are the node's capacity, as Kubernetes
 * does. */
static int resource_ref(const struct spec_in *in, const cJSON *ref, char *buf, size_t len)
{
    const char *cname = jstr(ref, "containerName", jstr(in->container, "name", ""));
    const cJSON *c = container_named(in->pod, cname);
    const char *res = jstr(ref, "resource", "");
    const char *dot = strchr(res, '.');
    if (!c || !dot) return -1;
    char section[16];
    snprintf(section, sizeof section, "%.*s", (int)(dot - res), res);
    const cJSON *v = jget(jget(jget(c, "resources"), section), dot + 1);
    api_quantity_t q, div = api_quantity_make(1, 0, API_QF_DECIMAL_SI);
    char e[100];
    bool cpu = !strcmp(dot + 1, "cpu");
    if (!v || api_quantity_from_json(v, &q, e, sizeof e) != 0) {
        if (!strcmp(section, "limits") && cpu)
            q = api_quantity_make(0, 0, API_QF_DECIMAL_SI); /* capacity: unknown here */
        else if (!strcmp(section, "limits") && !strcmp(dot + 1, "memory"))
            q = api_quantity_make((int64_t)in->node_memory, 0, API_QF_BINARY_SI);
        else
            q = api_quantity_make(0, 0, API_QF_DECIMAL_SI);
    }
    const cJSON *dv = jget(ref, "divisor");
    if (dv && api_quantity_from_json(dv, &div, e, sizeof e) != 0) return -1;
    /* value / divisor, rounded up, in milli units to keep "100m" exact. */
    int64_t num = api_quantity_milli(&q), den = api_quantity_milli(&div);
    if (den <= 0) den = 1000;
    int64_t r = (num + den - 1) / den;
    if (cpu && r == 0 && num > 0) r = 1;
    snprintf(buf, len, "%lld", (long long)r);
    return 0;
}

/* The value of one key of a ConfigMap or Secret (secrets decoded). */
static int keyref(const struct spec_in *in, cJSON *cache, bool secret, const cJSON *ref,
                  char **value, char *reason, size_t rlen, char *err, size_t errlen)
{
    const char *name = jstr(ref, "name", ""), *key = jstr(ref, "key", "");
    bool optional = jbool(ref, "optional", false);
    const char *ns = jstr(jget(in->pod, "metadata"), "namespace", "default");
    const char *res = secret ? "secrets" : "configmaps";
    char ckey[400];
    snprintf(ckey, sizeof ckey, "%s/%s", res, name);
    cJSON *obj = cJSON_GetObjectItemCaseSensitive(cache, ckey);
    char e[300] = "";
    if (!obj) {
        cJSON *got = in->fetch ? in->fetch(in->fetch_arg, res, ns, name, e, sizeof e) : NULL;
        if (!in->fetch)
            snprintf(e, sizeof e, "%s \"%s\" not found", secret ? "secret" : "configmap", name);
        obj = got ? got : cJSON_CreateNull();
        cJSON_AddItemToObject(cache, ckey, obj);
    }
    *value = NULL;
    if (cJSON_IsNull(obj)) {
        if (optional) return 0;
        if (!e[0])
            snprintf(e, sizeof e, "%s \"%s\" not found", secret ? "secret" : "configmap", name);
        snprintf(reason, rlen, "%s", REASON_CONFIG_ERROR);
        snprintf(err, errlen, "%s", e);
        return -1;
    }
    if (!key[0]) return 0;
    const cJSON *v = jget(jget(obj, "data"), key);
    if (!cJSON_IsString(v) && !secret) v = jget(jget(obj, "binaryData"), key);
    if (!cJSON_IsString(v)) {
        if (optional) return 0;
        snprintf(reason, rlen, REASON_CONFIG_ERROR);
        snprintf(err, errlen, "couldn't find key %s in %s %s/%s", key,
                 secret ? "Secret" : "ConfigMap", ns, name);
        return -1;
    }
    if (secret) {
        size_t n;
        *value = b64_decode(v->valuestring, &n);
    } else {
        *value = strdup(v->valuestring);
    }
    return *value ? 0 : -1;
}

cJSON *spec_env(const struct spec_in *in, char *reason, size_t rlen, char *err, size_t errlen)
{
    cJSON *env = cJSON_CreateObject(), *cache = cJSON_CreateObject();
    const cJSON *e;
    cJSON_ArrayForEach(e, jget(in->image_cfg, "Env"))
    {
        if (!cJSON_IsString(e)) continue;
        const char *eq = strchr(e->valuestring, '=');
        if (!eq) continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - e->valuestring), e->valuestring);
        env_set(env, name, eq + 1);
    }
    if (!jget(env, "PATH")) env_set(env, "PATH", DEFAULT_PATH);
    const cJSON *md = jget(in->pod, "metadata"), *spec = jget(in->pod, "spec");
    env_set(env, "HOSTNAME", jstr(spec, "hostname", jstr(md, "name", "")));
    /* envFrom first: explicit env entries win over it. */
    cJSON_ArrayForEach(e, jget(in->container, "envFrom"))
    {
        bool secret = jget(e, "secretRef") != NULL;
        const cJSON *ref = jget(e, secret ? "secretRef" : "configMapRef");
        if (!ref) continue;
        cJSON *r = cJSON_Duplicate(ref, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(r, "key");
        char *unused = NULL;
        int rv = keyref(in, cache, secret, r, &unused, reason, rlen, err, errlen);
        cJSON_Delete(r);
        free(unused);
        if (rv) goto bad;
        char ckey[400];
        snprintf(ckey, sizeof ckey, "%s/%s", secret ? "secrets" : "configmaps",
                 jstr(ref, "name", ""));
        const cJSON *kv;
        cJSON_ArrayForEach(kv, jget(jget(cache, ckey), "data"))
        {
            if (!cJSON_IsString(kv)) continue;
            char name[512];
            snprintf(name, sizeof name, "%s%s", jstr(e, "prefix", ""), kv->string);
            if (secret) {
                size_t n;
                char *d = b64_decode(kv->valuestring, &n);
                if (d) env_set(env, name, d);
                free(d);
            } else {
                env_set(env, name, kv->valuestring);
            }
        }
    }
    cJSON_ArrayForEach(e, jget(in->container, "env"))
    {
        const char *name = jstr(e, "name", NULL);
        if (!name) continue;
        const cJSON *vf = jget(e, "valueFrom");
        char buf[512];
        if (!vf) {
            char *x = spec_expand(jstr(e, "value", ""), env);
            if (!x) goto bad;
            env_set(env, name, x);
            free(x);
        } else if (jget(vf, "fieldRef")) {
            const char *path = jstr(jget(vf, "fieldRef"), "fieldPath", "");
            const char *v = field_ref(in, path, buf, sizeof buf);
            if (!v) {
                snprintf(reason, rlen, "%s", REASON_CONFIG_ERROR);
                snprintf(err, errlen, "unsupported fieldRef %s in env %s", path, name);
                goto bad;
            }
            env_set(env, name, v);
        } else if (jget(vf, "resourceFieldRef")) {
            if (resource_ref(in, jget(vf, "resourceFieldRef"), buf, sizeof buf) != 0) {
                snprintf(reason, rlen, "%s", REASON_CONFIG_ERROR);
                snprintf(err, errlen, "bad resourceFieldRef in env %s", name);
                goto bad;
            }
            env_set(env, name, buf);
        } else if (jget(vf, "configMapKeyRef") || jget(vf, "secretKeyRef")) {
            bool secret = jget(vf, "secretKeyRef") != NULL;
            char *v = NULL;
            if (keyref(in, cache, secret, jget(vf, secret ? "secretKeyRef" : "configMapKeyRef"), &v,
                       reason, rlen, err, errlen))
                goto bad;
            if (v) env_set(env, name, v);
            free(v);
        }
    }
    cJSON_Delete(cache);
    return env;
bad:
    cJSON_Delete(cache);
    cJSON_Delete(env);
    return NULL;
}

/* ------------------------------------------------------------------ args */

static bool nonempty_array(const cJSON *a)
{
    return cJSON_IsArray(a) && cJSON_GetArraySize(a) > 0;
}

static void append_expanded(cJSON *out, const cJSON *list, const cJSON *env)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, list)
    {
        if (!cJSON_IsString(a)) continue;
        char *x = env ? spec_expand(a->valuestring, env) : strdup(a->valuestring);
        if (x) cJSON_AddItemToArray(out, cJSON_CreateString(x));
        free(x);
    }
}

cJSON *spec_args(const cJSON *container, const cJSON *image_cfg, const cJSON *env)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *cmd = jget(container, "command"), *args = jget(container, "args");
    if (nonempty_array(cmd)) {
        append_expanded(out, cmd, env);
        append_expanded(out, args, env);
    } else {
        /* The image's entrypoint stays; args replace the image's Cmd. */
        append_expanded(out, jget(image_cfg, "Entrypoint"), NULL);
        if (nonempty_array(args))
            append_expanded(out, args, env);
        else
            append_expanded(out, jget(image_cfg, "Cmd"), NULL);
    }
    return out;
}
