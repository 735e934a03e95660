/*
 * images.c - the node's image store: <data-dir>/agent/images.
 *
 *   index.json           {"images":[{name, id, digest, layers, config, os,
 *                         architecture, size, imported}]}
 *   layers/<diff-id hex> one unpacked layer, shared by every image using it
 *   tmp/                 imports in progress
 *   lock                 flock'd around every change of index.json
 *
 * Images arrive as docker-archive tarballs (`docker save`: manifest.json
 * with RepoTags), oci-archive tarballs or OCI layout folders (index.json,
 * with the org.opencontainers.image.ref.name annotation); indexes with
 * several platforms give the variant of this machine. Names are normalized
 * as Docker does ("busybox" is docker.io/library/busybox:latest), so a pod
 * may use either. Layers are keyed by their diff ID (the digest of the
 * uncompressed tar, from the image config) and unpacked once.
 *
 * Registry pulls (issue 8) put images here through the same index; see
 * agent_image_pull_fn in nodeagent.h.
 */
#include "nodeagent/agent_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

int img_normalize(const char *ref, char *out, size_t len)
{
    char name[512], digest[160] = "", tag[160] = "";
    if (!ref || !*ref || strlen(ref) >= sizeof name) return -1;
    snprintf(name, sizeof name, "%s", ref);
    char *at = strchr(name, '@');
    if (at) {
        snprintf(digest, sizeof digest, "%s", at + 1);
        *at = 0;
    }
    char *slash = strrchr(name, '/');
    char *colon = strrchr(slash ? slash : name, ':');
    if (colon) {
        snprintf(tag, sizeof tag, "%s", colon + 1);
        *colon = 0;
    }
    if (!name[0] || (colon && !tag[0])) return -1;
    /* The first component is a registry when it looks like a host. */
    char *first_end = strchr(name, '/');
    const char *domain = "docker.io", *path = name;
    char dom[256];
    if (first_end) {
        size_t dl = (size_t)(first_end - name);
        snprintf(dom, sizeof dom, "%.*s", (int)dl, name);
        if (strchr(dom, '.') || strchr(dom, ':') || !strcmp(dom, "localhost")) {
            domain = !strcmp(dom, "index.docker.io") ? "docker.io" : dom;
            path = first_end + 1;
        }
    }
    for (const char *p = path; *p; p++)
        if (*p >= 'A' && *p <= 'Z') return -1; /* repository names are lowercase */
    bool library = !strcmp(domain, "docker.io") && !strchr(path, '/');
    int n = snprintf(out, len, "%s/%s%s", domain, library ? "library/" : "", path);
    if (tag[0] || !digest[0])
        n += snprintf(out + n, len - (size_t)n, ":%s", tag[0] ? tag : "latest");
    if (digest[0]) n += snprintf(out + n, len - (size_t)n, "@%s", digest);
    return (size_t)n < len ? 0 : -1;
}

/* ------------------------------------------------------------------ index */

static void store_path(char *buf, size_t len, const char *dir, const char *leaf)
{
    snprintf(buf, len, "%s/%s", dir, leaf);
}

static int lock_store(const char *dir)
{
    char p[AGENT_PATH_MAX];
    if (file_mkdirs(dir, 0700) != 0) return -errno;
    store_path(p, sizeof p, dir, "lock");
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return -errno;
    while (flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) {
            int e = errno;
            close(fd);
            return -e;
        }
    return fd;
}

static void unlock_store(int fd)
{
    if (fd >= 0) close(fd);
}

static cJSON *read_index(const char *dir)
{
    char p[AGENT_PATH_MAX];
    store_path(p, sizeof p, dir, "index.json");
    cJSON *idx = fs_read_json(p);
    if (!cJSON_IsObject(idx)) {
        cJSON_Delete(idx);
        idx = cJSON_CreateObject();
    }
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(idx, "images"))) {
        cJSON_DeleteItemFromObjectCaseSensitive(idx, "images");
        cJSON_AddArrayToObject(idx, "images");
    }
    return idx;
}

static int write_index(const char *dir, const cJSON *idx)
{
    char p[AGENT_PATH_MAX];
    store_path(p, sizeof p, dir, "index.json");
    return fs_write_json(p, idx, true);
}

void img_free(img_t *im)
{
    if (!im) return;
    free(im->name);
    free(im->id);
    for (size_t i = 0; i < im->n_layers; i++)
        free(im->layers[i]);
    free(im->layers);
    cJSON_Delete(im->config);
    free(im);
}

static img_t *img_from_json(const cJSON *j)
{
    img_t *im = calloc(1, sizeof *im);
    if (!im) return NULL;
    im->name = strdup(jstr(j, "name", ""));
    im->id = strdup(jstr(j, "id", ""));
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(j, "layers"), *l;
    size_t n = (size_t)cJSON_GetArraySize(ls);
    im->layers = calloc(n ? n : 1, sizeof(char *));
    cJSON_ArrayForEach(l, ls) if (cJSON_IsString(l)) im->layers[im->n_layers++] =
        strdup(l->valuestring);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "config");
    im->config = c ? cJSON_Duplicate(c, 1) : cJSON_CreateObject();
    return im;
}

/* Does the stored entry j answer to the normalized reference ref? */
static bool entry_matches(const cJSON *j, const char *ref)
{
    const char *name = jstr(j, "name", ""), *at = strchr(ref, '@');
    if (!at) return !strcmp(name, ref);
    /* By digest: the image ID or the manifest digest, and the same repository. */
    const char *digest = at + 1;
    if (strcmp(jstr(j, "id", ""), digest) && strcmp(jstr(j, "digest", ""), digest)) return false;
    size_t rl = (size_t)(at - ref);
    const char *colon = memchr(ref, ':', rl);
    const char *slash = NULL;
    for (const char *p = ref; p < at; p++)
        if (*p == '/') slash = p;
    if (colon && slash && colon > slash) rl = (size_t)(colon - ref);
    return !strncmp(name, ref, rl) && (name[rl] == ':' || name[rl] == '@' || !name[rl]);
}

int img_lookup(const char *dir, const char *ref, img_t **out)
{
    char norm[600];
    *out = NULL;
    if (img_normalize(ref, norm, sizeof norm) != 0) return -EINVAL;
    cJSON *idx = read_index(dir), *j;
    int rv = -ENOENT;
    cJSON_ArrayForEach(j, cJSON_GetObjectItemCaseSensitive(idx, "images"))
    {
        if (entry_matches(j, norm)) {
            *out = img_from_json(j);
            rv = *out ? 0 : -ENOMEM;
            break;
        }
    }
    cJSON_Delete(idx);
    return rv;
}

/* ----------------------------------------------------------------- import */

void img_platform(char *os, size_t oslen, char *arch, size_t archlen, char *variant, size_t vlen)
{
    struct utsname u;
    uname(&u);
    snprintf(os, oslen, "linux");
    const char *m = u.machine;
    variant[0] = 0;
    if (!strcmp(m, "x86_64")) {
        snprintf(arch, archlen, "amd64");
    } else if (!strcmp(m, "aarch64") || !strcmp(m, "arm64")) {
        snprintf(arch, archlen, "arm64");
        snprintf(variant, vlen, "v8");
    } else if (!strncmp(m, "armv7", 5)) {
        snprintf(arch, archlen, "arm");
        snprintf(variant, vlen, "v7");
    } else if (!strncmp(m, "armv6", 5)) {
        snprintf(arch, archlen, "arm");
        snprintf(variant, vlen, "v6");
    } else if (!strcmp(m, "i686") || !strcmp(m, "i386")) {
        snprintf(arch, archlen, "386");
    } else {
        snprintf(arch, archlen, "%s", m);
    }
}

struct import {
    const char *store; /* the store folder */
    const char *root;  /* the extracted archive (or layout folder) */
    const char *name;  /* --name override */
    FILE *out;
    cJSON *added; /* entries to merge into the index */
    char *err;
    size_t errlen;
};

/* Reads a file of the extracted archive by its path inside it. */
static cJSON *read_member_json(struct import *im, const char *rel)
{
    char clean[AGENT_PATH_MAX], p[AGENT_PATH_MAX * 2];
    if (layer_clean_path(rel, clean, sizeof clean) != 0) return NULL;
    snprintf(p, sizeof p, "%s/%s", im->root, clean);
    return fs_read_json(p);
}

static void blob_rel(const char *digest, char *buf, size_t len)
{
    const char *colon = strchr(digest, ':');
    snprintf(buf, len, "blobs/%.*s/%s", colon ? (int)(colon - digest) : 6,
             colon ? digest : "sha256", colon ? colon + 1 : digest);
}

/* Unpacks layer i of an image unless the store has it already. */
static int add_layer(struct import *im, const char *diff_id, const char *rel, uint64_t *size)
{
    const char *hex = strchr(diff_id, ':') ? strchr(diff_id, ':') + 1 : diff_id;
    for (const char *p = hex; *p; p++)
        if (!strchr("0123456789abcdef", *p)) {
            snprintf(im->err, im->errlen, "bad layer diff ID %s in the image config", diff_id);
            return -1;
        }
    char final[AGENT_PATH_MAX], tmp[AGENT_PATH_MAX], src[AGENT_PATH_MAX * 2], clean[AGENT_PATH_MAX];
    snprintf(final, sizeof final, "%s/layers/%s", im->store, hex);
    struct stat st;
    if (stat(final, &st) == 0) return 0;
    if (layer_clean_path(rel, clean, sizeof clean) != 0) {
        snprintf(im->err, im->errlen, "bad layer path %s", rel);
        return -1;
    }
    snprintf(src, sizeof src, "%s/%s", im->root, clean);
    char rnd[17];
    random_hex(rnd, 8);
    snprintf(tmp, sizeof tmp, "%s/layers/.tmp-%s", im->store, rnd);
    uint64_t bytes = 0;
    if (layer_unpack(src, tmp, true, &bytes, im->err, im->errlen) != 0) {
        fs_rm_rf(tmp);
        return -1;
    }
    if (rename(tmp, final) != 0) {
        int e = errno;
        fs_rm_rf(tmp);
        if (e != EEXIST && e != ENOTEMPTY) {
            snprintf(im->err, im->errlen, "cannot store layer %s: %s", hex, strerror(e));
            return -1;
        }
    }
    *size += bytes;
    return 0;
}

/* One image: its config (parsed), the layer files in order, its names. */
static int add_image(struct import *im, const cJSON *config, const char *config_digest,
                     const char *manifest_digest, const char *const *layer_files, size_t n_layers,
                     const cJSON *names)
{
    const cJSON *diff_ids = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(config, "rootfs"), "diff_ids");
    if ((size_t)cJSON_GetArraySize(diff_ids) != n_layers) {
        snprintf(im->err, im->errlen,
                 "the image config lists %d layers (rootfs.diff_ids) but the manifest %zu",
                 cJSON_GetArraySize(diff_ids), n_layers);
        return -1;
    }
    uint64_t size = 0;
    cJSON *layers = cJSON_CreateArray();
    for (size_t i = 0; i < n_layers; i++) {
        const cJSON *d = cJSON_GetArrayItem(diff_ids, (int)i);
        if (!cJSON_IsString(d) || add_layer(im, d->valuestring, layer_files[i], &size) != 0) {
            if (!cJSON_IsString(d)) snprintf(im->err, im->errlen, "bad rootfs.diff_ids");
            cJSON_Delete(layers);
            return -1;
        }
        cJSON_AddItemToArray(layers, cJSON_CreateString(d->valuestring));
    }
    int added = 0;
    const cJSON *n;
    char norm[600];
    cJSON_ArrayForEach(n, names)
    {
        if (!cJSON_IsString(n) || img_normalize(n->valuestring, norm, sizeof norm) != 0) continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", norm);
        char id[200];
        snprintf(id, sizeof id, "%s%s", strchr(config_digest, ':') ? "" : "sha256:", config_digest);
        cJSON_AddStringToObject(e, "id", id);
        if (manifest_digest) cJSON_AddStringToObject(e, "digest", manifest_digest);
        cJSON_AddItemToObject(e, "layers", cJSON_Duplicate(layers, 1));
        const cJSON *cc = cJSON_GetObjectItemCaseSensitive(config, "config");
        cJSON_AddItemToObject(e, "config", cc ? cJSON_Duplicate(cc, 1) : cJSON_CreateObject());
        cJSON_AddStringToObject(e, "os", jstr(config, "os", "linux"));
        cJSON_AddStringToObject(e, "architecture", jstr(config, "architecture", ""));
        cJSON_AddNumberToObject(e, "size", (double)size);
        char now[40];
        time_format_rfc3339(time_wall_ms(), now, sizeof now);
        cJSON_AddStringToObject(e, "imported", now);
        cJSON_AddItemToArray(im->added, e);
        if (im->out) fprintf(im->out, "%s\n", norm);
        added++;
    }
    cJSON_Delete(layers);
    if (!added) {
        snprintf(im->err, im->errlen,
                 "the archive names no image (no RepoTags or ref.name annotation): give one "
                 "with --name NAME");
        return -1;
    }
    return 0;
}

static cJSON *name_list(struct import *im, const cJSON *fallback)
{
    if (im->name) {
        cJSON *a = cJSON_CreateArray();
        cJSON_AddItemToArray(a, cJSON_CreateString(im->name));
        return a;
    }
    return fallback ? cJSON_Duplicate(fallback, 1) : cJSON_CreateArray();
}

static int import_docker(struct import *im, const cJSON *manifest)
{
    const cJSON *m;
    int count = 0;
    cJSON_ArrayForEach(m, manifest)
    {
        const char *cfg_path = jstr(m, "Config", NULL);
        const cJSON *layers = cJSON_GetObjectItemCaseSensitive(m, "Layers");
        if (!cfg_path || !cJSON_IsArray(layers)) {
            snprintf(im->err, im->errlen, "manifest.json: an entry lacks Config or Layers");
            return -1;
        }
        cJSON *config = read_member_json(im, cfg_path);
        if (!config) {
            snprintf(im->err, im->errlen, "cannot read the image config %s", cfg_path);
            return -1;
        }
        size_t n = (size_t)cJSON_GetArraySize(layers), i = 0;
        const char **files = calloc(n ? n : 1, sizeof *files);
        const cJSON *l;
        cJSON_ArrayForEach(l, layers) files[i++] = cJSON_IsString(l) ? l->valuestring : "";
        /* The config's file name is its digest ("<hex>.json" or blobs/sha256/<hex>). */
        char digest[200];
        const char *base = strrchr(cfg_path, '/') ? strrchr(cfg_path, '/') + 1 : cfg_path;
        snprintf(digest, sizeof digest, "sha256:%.*s", (int)strcspn(base, "."), base);
        cJSON *names = name_list(im, cJSON_GetObjectItemCaseSensitive(m, "RepoTags"));
        int rv = add_image(im, config, digest, NULL, files, n, names);
        cJSON_Delete(names);
        free(files);
        cJSON_Delete(config);
        if (rv) return -1;
        count++;
        if (im->name) break; /* one name: one image */
    }
    if (!count) snprintf(im->err, im->errlen, "manifest.json lists no image");
    return count ? 0 : -1;
}

static bool platform_ok(const cJSON *desc)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(desc, "platform");
    if (!p) return true;
    char os[16], arch[32], variant[16];
    img_platform(os, sizeof os, arch, sizeof arch, variant, sizeof variant);
    if (strcmp(jstr(p, "os", "linux"), os) || strcmp(jstr(p, "architecture", ""), arch))
        return false;
    const char *v = jstr(p, "variant", "");
    return !*v || !*variant || !strcmp(v, variant);
}

static int import_oci_manifest(struct import *im, const char *digest, const cJSON *names)
{
    char rel[300];
    blob_rel(digest, rel, sizeof rel);
    cJSON *man = read_member_json(im, rel);
    if (!man) {
        snprintf(im->err, im->errlen, "cannot read the manifest %s", digest);
        return -1;
    }
    int rv = -1;
    const cJSON *cd = cJSON_GetObjectItemCaseSensitive(man, "config");
    const char *cdig = jstr(cd, "digest", NULL);
    cJSON *config = NULL;
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(man, "layers"), *l;
    size_t n = (size_t)cJSON_GetArraySize(layers), i = 0;
    char(*files)[300] = calloc(n ? n : 1, sizeof *files);
    const char **fp = calloc(n ? n : 1, sizeof *fp);
    if (!cdig || !files || !fp) {
        snprintf(im->err, im->errlen, "manifest %s has no config", digest);
        goto out;
    }
    blob_rel(cdig, rel, sizeof rel);
    config = read_member_json(im, rel);
    if (!config) {
        snprintf(im->err, im->errlen, "cannot read the image config %s", cdig);
        goto out;
    }
    cJSON_ArrayForEach(l, layers)
    {
        blob_rel(jstr(l, "digest", ""), files[i], sizeof files[i]);
        fp[i] = files[i];
        i++;
    }
    rv = add_image(im, config, cdig, digest, fp, n, names);
out:
    free(files);
    free(fp);
    cJSON_Delete(config);
    cJSON_Delete(man);
    return rv;
}

/* An OCI index (index.json or a nested image index): the manifests it
 * lists for this platform, named by their ref.name annotations. */
static int import_oci_index(struct import *im, const cJSON *index, const cJSON *inherited,
                            int depth)
{
    const cJSON *d;
    int count = 0;
    if (depth > 4) {
        snprintf(im->err, im->errlen, "image indexes nested too deeply");
        return -1;
    }
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(index, "manifests"))
    {
        const cJSON *ann = cJSON_GetObjectItemCaseSensitive(d, "annotations");
        const char *ref = jstr(ann, "io.containerd.image.name", NULL);
        if (!ref) ref = jstr(ann, "org.opencontainers.image.ref.name", NULL);
        cJSON *own = NULL;
        if (ref) {
            own = cJSON_CreateArray();
            cJSON_AddItemToArray(own, cJSON_CreateString(ref));
        }
        cJSON *names = name_list(im, own ? own : inherited);
        cJSON_Delete(own);
        const char *mt = jstr(d, "mediaType", "");
        const char *dig = jstr(d, "digest", "");
        int rv = 0;
        if (strstr(mt, "image.index") || strstr(mt, "manifest.list")) {
            char rel[300];
            blob_rel(dig, rel, sizeof rel);
            cJSON *sub = read_member_json(im, rel);
            if (!sub) {
                snprintf(im->err, im->errlen, "cannot read the image index %s", dig);
                rv = -1;
            } else {
                rv = import_oci_index(im, sub, names, depth + 1);
                if (rv > 0) count += rv;
                rv = rv < 0 ? -1 : 0;
            }
            cJSON_Delete(sub);
        } else if (platform_ok(d)) {
            rv = import_oci_manifest(im, dig, names);
            if (!rv) count++;
        }
        cJSON_Delete(names);
        if (rv) return -1;
    }
    return count;
}

static int merge_into_index(struct import *im)
{
    int fd = lock_store(im->store);
    if (fd < 0) {
        snprintf(im->err, im->errlen, "cannot lock the image store %s: %s", im->store,
                 strerror(-fd));
        return -1;
    }
    cJSON *idx = read_index(im->store);
    cJSON *images = cJSON_GetObjectItemCaseSensitive(idx, "images"), *e;
    cJSON_ArrayForEach(e, im->added)
    {
        const char *name = jstr(e, "name", "");
        for (int i = cJSON_GetArraySize(images) - 1; i >= 0; i--)
            if (!strcmp(jstr(cJSON_GetArrayItem(images, i), "name", ""), name))
                cJSON_DeleteItemFromArray(images, i);
        cJSON_AddItemToArray(images, cJSON_Duplicate(e, 1));
    }
    int rv = write_index(im->store, idx);
    cJSON_Delete(idx);
    unlock_store(fd);
    if (rv) {
        snprintf(im->err, im->errlen, "cannot write the image index: %s", strerror(-rv));
        return -1;
    }
    return 0;
}

int img_import(const char *store, const char *file, const char *name, FILE *out, char *err,
               size_t errlen)
{
    char tmp[AGENT_PATH_MAX], norm[600];
    struct stat st;
    if (name && img_normalize(name, norm, sizeof norm) != 0) {
        snprintf(err, errlen, "invalid image name \"%s\"", name);
        return -1;
    }
    if (stat(file, &st) != 0) {
        snprintf(err, errlen, "cannot read %s: %s", file, strerror(errno));
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s/tmp", store);
    if (file_mkdirs(tmp, 0700) != 0 || file_mkdirs(store, 0700) != 0) {
        snprintf(err, errlen, "cannot create the image store %s: %s", store, strerror(errno));
        return -1;
    }
    char layers[AGENT_PATH_MAX];
    snprintf(layers, sizeof layers, "%s/layers", store);
    file_mkdirs(layers, 0700);
    char rnd[17];
    random_hex(rnd, 8);
    snprintf(tmp, sizeof tmp, "%s/tmp/import-%s", store, rnd);
    struct import im = {store, file, name, out, cJSON_CreateArray(), err, errlen};
    int rv = -1;
    if (!S_ISDIR(st.st_mode)) {
        if (layer_unpack(file, tmp, false, NULL, err, errlen) != 0) goto out;
        im.root = tmp;
    }
    char p[AGENT_PATH_MAX * 2];
    snprintf(p, sizeof p, "%s/manifest.json", im.root);
    cJSON *docker = fs_read_json(p);
    snprintf(p, sizeof p, "%s/index.json", im.root);
    cJSON *oci = docker ? NULL : fs_read_json(p);
    if (cJSON_IsArray(docker)) {
        rv = import_docker(&im, docker);
    } else if (cJSON_IsObject(oci)) {
        int n = import_oci_index(&im, oci, NULL, 0);
        if (n == 0) {
            char os[16], arch[32], variant[16];
            img_platform(os, sizeof os, arch, sizeof arch, variant, sizeof variant);
            snprintf(err, errlen, "the archive has no image for this machine (%s/%s%s%s)", os, arch,
                     variant[0] ? "/" : "", variant);
        }
        rv = n > 0 ? 0 : -1;
    } else {
        snprintf(err, errlen,
                 "%s is neither a docker-archive (manifest.json) nor an OCI layout (index.json)",
                 file);
    }
    cJSON_Delete(docker);
    cJSON_Delete(oci);
    if (rv == 0) rv = merge_into_index(&im);
out:
    cJSON_Delete(im.added);
    fs_rm_rf(tmp);
    return rv;
}

/* ------------------------------------------------------------- ls and rm */

int img_list(const char *store, FILE *out)
{
    cJSON *idx = read_index(store), *e;
    fprintf(out, "%-50s %-15s %s\n", "NAME", "IMAGE ID", "SIZE");
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(idx, "images"))
    {
        const char *id = jstr(e, "id", "");
        const char *hex = strchr(id, ':') ? strchr(id, ':') + 1 : id;
        double size = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "size"));
        fprintf(out, "%-50s %-15.12s %.1fMB\n", jstr(e, "name", ""), hex,
                size != size ? 0.0 : size / 1e6);
    }
    cJSON_Delete(idx);
    return 0;
}

int img_remove(const char *store, const char *name, char *err, size_t errlen)
{
    char norm[600];
    if (img_normalize(name, norm, sizeof norm) != 0) {
        snprintf(err, errlen, "invalid image name \"%s\"", name);
        return -1;
    }
    int fd = lock_store(store);
    if (fd < 0) {
        snprintf(err, errlen, "cannot lock the image store %s: %s", store, strerror(-fd));
        return -1;
    }
    cJSON *idx = read_index(store);
    cJSON *images = cJSON_GetObjectItemCaseSensitive(idx, "images");
    cJSON *gone = NULL;
    for (int i = 0; i < cJSON_GetArraySize(images); i++)
        if (entry_matches(cJSON_GetArrayItem(images, i), norm)) {
            gone = cJSON_DetachItemFromArray(images, i);
            break;
        }
    int rv = -1;
    if (!gone) {
        snprintf(err, errlen, "image \"%s\" is not in the store", name);
    } else if ((rv = write_index(store, idx)) != 0) {
        snprintf(err, errlen, "cannot write the image index: %s", strerror(-rv));
        rv = -1;
    } else {
        /* Layers no remaining image uses go too. */
        const cJSON *l, *e, *m;
        cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(gone, "layers"))
        {
            bool used = false;
            cJSON_ArrayForEach(e, images) cJSON_ArrayForEach(
                m, cJSON_GetObjectItemCaseSensitive(
                       e, "layers")) if (cJSON_IsString(m) && cJSON_IsString(l) &&
                                         !strcmp(m->valuestring, l->valuestring)) used = true;
            if (used || !cJSON_IsString(l)) continue;
            const char *hex =
                strchr(l->valuestring, ':') ? strchr(l->valuestring, ':') + 1 : l->valuestring;
            char p[AGENT_PATH_MAX];
            snprintf(p, sizeof p, "%s/layers/%s", store, hex);
            fs_rm_rf(p);
        }
    }
    cJSON_Delete(gone);
    cJSON_Delete(idx);
    unlock_store(fd);
    return rv;
}

/* ------------------------------------------------------------ public API */

static void images_dir(const char *data_dir, char *buf, size_t len)
{
    snprintf(buf, len, "%s/agent/images", data_dir ? data_dir : AGENT_DEFAULT_DATA_DIR);
}

int agent_images_import(const char *data_dir, const char *file, const char *name, FILE *out,
                        char *err, size_t errlen)
{
    char dir[AGENT_PATH_MAX];
    images_dir(data_dir, dir, sizeof dir);
    return img_import(dir, file, name, out, err, errlen);
}

int agent_images_list(const char *data_dir, FILE *out, char *err, size_t errlen)
{
    char dir[AGENT_PATH_MAX];
    (void)err;
    (void)errlen;
    images_dir(data_dir, dir, sizeof dir);
    return img_list(dir, out);
}

int agent_images_remove(const char *data_dir, const char *name, char *err, size_t errlen)
{
    char dir[AGENT_PATH_MAX];
    images_dir(data_dir, dir, sizeof dir);
    return img_remove(dir, name, err, errlen);
}
