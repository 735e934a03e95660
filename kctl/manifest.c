/*
 * manifest.c - the objects named by -f: files (YAML, several documents, or
 * JSON), directories (their .yaml, .yml and .json files in name order,
 * recursively with -R), and "-" for standard input. v1 Lists and *List
 * kinds are flattened into their items, as kubectl does.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kctl/kctl_int.h"

static char *read_stream(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            char *b = realloc(buf, cap *= 2);
            if (!b) {
                free(buf);
                return NULL;
            }
            buf = b;
        }
        size_t got = fread(buf + n, 1, 4096, f);
        n += got;
        if (got == 0) break;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int add_docs(cJSON *out, cJSON *srcs, cJSON *docs, const char *source)
{
    cJSON *d;
    while ((d = cJSON_DetachItemFromArray(docs, 0))) {
        const char *kind = kctl_str(d, "kind");
        cJSON *items = cJSON_GetObjectItemCaseSensitive(d, "items");
        size_t kl = kind ? strlen(kind) : 0;
        if (kind && kl >= 4 && !strcmp(kind + kl - 4, "List") && cJSON_IsArray(items)) {
            cJSON *sub = cJSON_CreateArray();
            cJSON *it;
            while ((it = cJSON_DetachItemFromArray(items, 0)))
                cJSON_AddItemToArray(sub, it);
            cJSON_Delete(d);
            int rc = add_docs(out, srcs, sub, source);
            cJSON_Delete(sub);
            if (rc) return rc;
            continue;
        }
        if (!cJSON_IsObject(d) || !kind || !kctl_str(d, "apiVersion")) {
            kctl_fail("error validating \"%s\": error validating data: %s not set", source,
                      !cJSON_IsObject(d) || !kind ? "kind" : "apiVersion");
            cJSON_Delete(d);
            return -1;
        }
        cJSON_AddItemToArray(out, d);
        cJSON_AddItemToArray(srcs, cJSON_CreateString(source));
    }
    return 0;
}

static int read_one(kctl_t *k, const char *path, cJSON *out, cJSON *srcs)
{
    size_t len;
    char *text;
    if (!strcmp(path, "-")) {
        text = read_stream(k->in, &len);
    } else {
        text = file_read_all(path, &len);
        if (!text) {
            kctl_fail("the path \"%s\" does not exist", path);
            return -1;
        }
    }
    if (!text) return kctl_fail("out of memory"), -1;
    char err[512];
    cJSON *docs = kctl_yaml_parse(text, len, err, sizeof err);
    free(text);
    if (!docs) {
        kctl_fail("%s: %s", path, err);
        return -1;
    }
    int rc = add_docs(out, srcs, docs, strcmp(path, "-") ? path : "STDIN");
    cJSON_Delete(docs);
    return rc;
}

static bool manifest_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml") || !strcmp(dot, ".json"));
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_path(kctl_t *k, const char *path, bool recursive, bool top, cJSON *out, cJSON *srcs)
{
    struct stat st;
    if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (!top && !recursive) return 0;
        DIR *d = opendir(path);
        if (!d) return kctl_fail("cannot read %s: %s", path, strerror(errno)), -1;
        char **names = NULL;
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char **nn = realloc(names, (n + 1) * sizeof *nn);
            if (!nn) break;
            names = nn;
            size_t l = strlen(path) + strlen(e->d_name) + 2;
            names[n] = malloc(l);
            if (names[n]) snprintf(names[n++], l, "%s/%s", path, e->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof *names, cmp_names);
        int rc = 0;
        for (size_t i = 0; i < n; i++) {
            struct stat s2;
            bool dir = stat(names[i], &s2) == 0 && S_ISDIR(s2.st_mode);
            if (!rc && (dir || manifest_ext(names[i])))
                rc = read_path(k, names[i], recursive, false, out, srcs);
            free(names[i]);
        }
        free(names);
        return rc;
    }
    return read_one(k, path, out, srcs);
}

cJSON *kctl_manifests(kctl_t *k, const struct flag_list *files, bool recursive, cJSON **sources)
{
    cJSON *out = cJSON_CreateArray(), *srcs = cJSON_CreateArray();
    if (!out || !srcs) {
        cJSON_Delete(out);
        cJSON_Delete(srcs);
        return NULL;
    }
    for (size_t i = 0; i < files->n; i++)
        if (read_path(k, files->items[i], recursive, true, out, srcs) != 0) {
            cJSON_Delete(out);
            cJSON_Delete(srcs);
            return NULL;
        }
    if (!out->child) {
        kctl_fail("no objects passed to apply");
        cJSON_Delete(out);
        cJSON_Delete(srcs);
        return NULL;
    }
    if (sources)
        *sources = srcs;
    else
        cJSON_Delete(srcs);
    return out;
}
