/*
 * volumes.c - a pod's volumes, made under <pod dir>/volumes/<name> before
 * its containers start and bind-mounted into them by their config.json:
 *   emptyDir     a folder (medium: Memory gives a tmpfs with sizeLimit);
 *                it lives as long as the pod, across container restarts
 *   hostPath     checked or created per its type
 *   configMap, secret, downwardAPI, projected
 *                files written from the objects (items, defaultMode,
 *                optional), as a read-only snapshot taken at pod start
 * Anything else is refused with a clear message rather than run without
 * the storage the pod asked for.
 */
#include "nodeagent/agent_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

char *b64_decode(const char *s, size_t *len)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s);
    char *out = malloc(n / 4 * 3 + 4);
    if (!out) return NULL;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '=' || c == '\n' || c == '\r') continue;
        const char *p = strchr(tbl, c);
        if (!p || !c) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)(p - tbl);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = 0;
    if (len) *len = o;
    return out;
}

static int write_item(const char *dir, const char *rel, const char *data, size_t len, int mode,
                      char *err, size_t errlen)
{
    char clean[AGENT_PATH_MAX], p[AGENT_PATH_MAX * 2];
    if (layer_clean_path(rel, clean, sizeof clean) != 0 || !clean[0]) {
        snprintf(err, errlen, "volume item path \"%s\" must be relative and stay inside", rel);
        return -1;
    }
    snprintf(p, sizeof p, "%s/%s", dir, clean);
    char *slash = strrchr(p, '/');
    *slash = 0;
    file_mkdirs(p, 0755);
    *slash = '/';
    int rv = fs_write_file(p, data, len, mode);
    if (rv) snprintf(err, errlen, "cannot write %.400s: %s", p, strerror(-rv));
    return rv ? -1 : 0;
}

static int mode_of(const cJSON *v, const char *key, int def)
{
    const cJSON *m = jget(v, key);
    return cJSON_IsNumber(m) ? (int)m->valuedouble & 07777 : def;
}

/* configMap or secret contents into dir (items select and rename keys). */
static int object_files(const cJSON *src, bool secret, const char *dir, const char *ns,
                        agent_fetch_fn fetch, void *arg, int def_mode, char *err, size_t errlen)
{
    const char *name = jstr(src, secret ? "secretName" : "name", "");
    if (secret && !*name) name = jstr(src, "name", "");
    bool optional = jbool(src, "optional", false);
    char e[300] = "";
    cJSON *obj =
        fetch ? fetch(arg, secret ? "secrets" : "configmaps", ns, name, e, sizeof e) : NULL;
    if (!obj) {
        if (optional) return 0;
        if (!e[0] || !fetch)
            snprintf(e, sizeof e, "%s \"%s\" not found", secret ? "secret" : "configmap", name);
        snprintf(err, errlen, "%s", e);
        return -1;
    }
    int mode = mode_of(src, "defaultMode", def_mode);
    const cJSON *data = jget(obj, "data"), *items = jget(src, "items"), *kv;
    int rv = 0;
    if (cJSON_GetArraySize(items) > 0) {
        const cJSON *it;
        cJSON_ArrayForEach(it, items)
        {
            const char *key = jstr(it, "key", "");
            kv = jget(data, key);
            if (!cJSON_IsString(kv)) {
                if (optional) continue;
                snprintf(err, errlen, "configmap references non-existent config key: %s", key);
                rv = -1;
                break;
            }
            size_t len = strlen(kv->valuestring);
            char *d = secret ? b64_decode(kv->valuestring, &len) : strdup(kv->valuestring);
            rv = d ? write_item(dir, jstr(it, "path", key), d, len, mode_of(it, "mode", mode), err,
                                errlen)
                   : -1;
            free(d);
            if (rv) break;
        }
    } else {
        cJSON_ArrayForEach(kv, data)
        {
            if (!cJSON_IsString(kv)) continue;
            size_t len = strlen(kv->valuestring);
            char *d = secret ? b64_decode(kv->valuestring, &len) : strdup(kv->valuestring);
            rv = d ? write_item(dir, kv->string, d, len, mode, err, errlen) : -1;
            free(d);
            if (rv) break;
        }
    }
    cJSON_Delete(obj);
    return rv;
}

/* downwardAPI items: fieldRef values; labels and annotations as k="v" lines. */
static int downward_files(const cJSON *src, const cJSON *pod, const char *dir, const char *pod_ip,
                          const char *node_name, int def_mode, char *err, size_t errlen)
{
    const cJSON *it, *md = jget(pod, "metadata");
    int mode = mode_of(src, "defaultMode", def_mode);
    cJSON_ArrayForEach(it, jget(src, "items"))
    {
        const char *path = jget(it, "fieldRef") ? jstr(jget(it, "fieldRef"), "fieldPath", "") : "";
        char *text = NULL;
        size_t tl = 0;
        FILE *f = open_memstream(&text, &tl);
        if (!f) return -1;
        if (!strcmp(path, "metadata.labels") || !strcmp(path, "metadata.annotations")) {
            const cJSON *kv;
            cJSON_ArrayForEach(kv, jget(md, path + 9)) if (cJSON_IsString(kv))
                fprintf(f, "%s=\"%s\"\n", kv->string, kv->valuestring);
        } else if (!strcmp(path, "metadata.name") || !strcmp(path, "metadata.namespace") ||
                   !strcmp(path, "metadata.uid")) {
            fprintf(f, "%s", jstr(md, path + 9, ""));
        } else if (!strncmp(path, "metadata.labels['", 17) ||
                   !strncmp(path, "metadata.annotations['", 22)) {
            bool lab = path[9] == 'l';
            char key[300];
            snprintf(key, sizeof key, "%s", path + (lab ? 17 : 22));
            char *q = strstr(key, "']");
            if (q) *q = 0;
            fprintf(f, "%s", jstr(jget(md, lab ? "labels" : "annotations"), key, ""));
        } else if (!strcmp(path, "status.podIP")) {
            fprintf(f, "%s", pod_ip ? pod_ip : "");
        } else if (!strcmp(path, "spec.nodeName")) {
            fprintf(f, "%s", node_name ? node_name : "");
        } else if (*path) {
            fclose(f);
            free(text);
            snprintf(err, errlen, "downwardAPI field %s is not supported", path);
            return -1;
        }
        fclose(f);
        int rv =
            write_item(dir, jstr(it, "path", ""), text, tl, mode_of(it, "mode", mode), err, errlen);
        free(text);
        if (rv) return -1;
    }
    return 0;
}

static int host_path(const cJSON *hp, char *err, size_t errlen)
{
    const char *path = jstr(hp, "path", ""), *type = jstr(hp, "type", "");
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (!strcmp(type, "DirectoryOrCreate")) {
        if (!exists && file_mkdirs(path, 0755) != 0) {
            snprintf(err, errlen, "hostPath %s: cannot create: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (!strcmp(type, "FileOrCreate")) {
        if (!exists) {
            int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (fd < 0) {
                snprintf(err, errlen, "hostPath %s: cannot create: %s", path, strerror(errno));
                return -1;
            }
            close(fd);
        }
        return 0;
    }
    struct {
        const char *type;
        mode_t fmt;
        const char *what;
    } checks[] = {{"Directory", S_IFDIR, "a directory"},
                  {"File", S_IFREG, "a file"},
                  {"Socket", S_IFSOCK, "a socket"},
                  {"CharDevice", S_IFCHR, "a character device"},
                  {"BlockDevice", S_IFBLK, "a block device"}};
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
        if (!strcmp(type, checks[i].type) && (!exists || (st.st_mode & S_IFMT) != checks[i].fmt)) {
            snprintf(err, errlen, "hostPath type check failed: %s is not %s", path, checks[i].what);
            return -1;
        }
    return 0;
}

int volumes_setup(const cJSON *pod, const char *pod_dir, const char *pod_ip, const char *node_name,
                  agent_fetch_fn fetch, void *arg, char *err, size_t errlen)
{
    const cJSON *v;
    const char *ns = jstr(jget(pod, "metadata"), "namespace", "default");
    char base[AGENT_PATH_MAX], dir[AGENT_PATH_MAX * 2];
    snprintf(base, sizeof base, "%s/volumes", pod_dir);
    if (file_mkdirs(base, 0755) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", base, strerror(errno));
        return -1;
    }
    cJSON_ArrayForEach(v, jget(jget(pod, "spec"), "volumes"))
    {
        const char *name = jstr(v, "name", "");
        if (!api_is_dns1123_label(name)) {
            snprintf(err, errlen, "invalid volume name \"%s\"", name);
            return -1;
        }
        snprintf(dir, sizeof dir, "%s/%s", base, name);
        int rv = 0;
        char e[600] = "";
        if (jget(v, "hostPath")) {
            rv = host_path(jget(v, "hostPath"), e, sizeof e);
        } else if (jget(v, "emptyDir")) {
            const cJSON *ed = jget(v, "emptyDir");
            rv = file_mkdirs(dir, 0777) ? -1 : 0;
            chmod(dir, 0777); /* any user in the pod may write, as Kubernetes makes it */
            if (!rv && !strcmp(jstr(ed, "medium", ""), "Memory") && !fs_is_mountpoint(dir)) {
                char opts[128] = "mode=1777";
                api_quantity_t q;
                char qe[100];
                const cJSON *sl = jget(ed, "sizeLimit");
                if (sl && api_quantity_from_json(sl, &q, qe, sizeof qe) == 0)
                    snprintf(opts, sizeof opts, "mode=1777,size=%lld",
                             (long long)api_quantity_value(&q));
                if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0) rv = -1;
            }
            if (rv) snprintf(e, sizeof e, "cannot make emptyDir %.400s: %s", dir, strerror(errno));
        } else if (jget(v, "configMap") || jget(v, "secret")) {
            bool secret = jget(v, "secret") != NULL;
            fs_rm_rf(dir);
            file_mkdirs(dir, 0755);
            rv = object_files(jget(v, secret ? "secret" : "configMap"), secret, dir, ns, fetch, arg,
                              secret ? 0644 : 0644, e, sizeof e);
        } else if (jget(v, "downwardAPI")) {
            fs_rm_rf(dir);
            file_mkdirs(dir, 0755);
            rv = downward_files(jget(v, "downwardAPI"), pod, dir, pod_ip, node_name, 0644, e,
                                sizeof e);
        } else if (jget(v, "projected")) {
            fs_rm_rf(dir);
            file_mkdirs(dir, 0755);
            const cJSON *src, *pj = jget(v, "projected");
            int mode = mode_of(pj, "defaultMode", 0644);
            cJSON_ArrayForEach(src, jget(pj, "sources"))
            {
                if (jget(src, "configMap") || jget(src, "secret")) {
                    bool secret = jget(src, "secret") != NULL;
                    rv = object_files(jget(src, secret ? "secret" : "configMap"), secret, dir, ns,
                                      fetch, arg, mode, e, sizeof e);
                } else if (jget(src, "downwardAPI")) {
                    rv = downward_files(jget(src, "downwardAPI"), pod, dir, pod_ip, node_name, mode,
                                        e, sizeof e);
                }
                /* serviceAccountToken: no token issuer yet; the source is skipped. */
                if (rv) break;
            }
        } else {
            snprintf(e, sizeof e, "this volume type is not supported by picokube");
            rv = -1;
        }
        if (rv) {
            snprintf(err, errlen, "volume \"%s\": %s", name, e);
            return -1;
        }
    }
    return 0;
}

void volumes_teardown(const char *pod_dir)
{
    char base[AGENT_PATH_MAX];
    snprintf(base, sizeof base, "%s/volumes", pod_dir);
    DIR *d = opendir(base);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[AGENT_PATH_MAX * 2];
        snprintf(p, sizeof p, "%s/%s", base, e->d_name);
        fs_umount(p); /* memory-backed emptyDirs */
    }
    closedir(d);
}
