/*
 * layers.c - unpacking tar archives for the image store, and the overlayfs
 * root filesystem of each container.
 *
 * Reading tar (plain or gzip) is libarchive's job. What is ours: keeping
 * every entry inside the destination (no absolute paths, no "..", no writes
 * through symlinks), and turning the OCI/Docker whiteouts of a layer
 * (".wh.<name>" deletes <name> from the layers below, ".wh..wh..opq" hides
 * a folder's lower contents) into the form overlayfs understands (a 0/0
 * character device, the trusted.overlay.opaque xattr). Layers are then
 * stacked read-only under one writable upper folder per container.
 */
#include "nodeagent/agent_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

/* Cleans an archive path into a relative one: "./a//b/" -> "a/b". Returns
 * -1 for paths that climb out ("..") so the caller rejects the archive. */
int layer_clean_path(const char *in, char *out, size_t len)
{
    size_t o = 0;
    const char *p = in;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p) break;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 1 && p[0] == '.') {
            p += n;
            continue;
        }
        if (n == 2 && p[0] == '.' && p[1] == '.') return -1;
        if (o + n + 2 > len) return -1;
        if (o) out[o++] = '/';
        memcpy(out + o, p, n);
        o += n;
        p += n;
    }
    out[o] = 0;
    return 0;
}

static int mkdirs_parent(const char *path)
{
    char buf[AGENT_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    char *s = strrchr(buf, '/');
    if (!s || s == buf) return 0;
    *s = 0;
    return file_mkdirs(buf, 0755);
}

/* A whiteout entry: record it the overlayfs way instead of extracting it. */
static int whiteout(const char *dest, const char *rel, char *err, size_t errlen)
{
    char path[AGENT_PATH_MAX];
    const char *base = strrchr(rel, '/');
    size_t dirlen = base ? (size_t)(base - rel) : 0;
    base = base ? base + 1 : rel;
    if (!strcmp(base, WH_OPAQUE)) {
        snprintf(path, sizeof path, "%s/%.*s", dest, (int)dirlen, rel);
        if (file_mkdirs(path, 0755) != 0 ||
            lsetxattr(path, "trusted.overlay.opaque", "y", 1, 0) != 0) {
            snprintf(err, errlen, "cannot mark %s opaque: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    snprintf(path, sizeof path, "%s/%.*s%s%s", dest, (int)dirlen, rel, dirlen ? "/" : "",
             base + strlen(WH_PREFIX));
    mkdirs_parent(path);
    fs_rm_rf(path);
    if (mknod(path, S_IFCHR | 0000, makedev(0, 0)) != 0) {
        snprintf(err, errlen, "cannot create the whiteout %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int copy_data(struct archive *in, struct archive *out)
{
    const void *buf;
    size_t size;
    la_int64_t off;
    for (;;) {
        int r = archive_read_data_block(in, &buf, &size, &off);
        if (r == ARCHIVE_EOF) return ARCHIVE_OK;
        if (r < ARCHIVE_OK) return r;
        if (archive_write_data_block(out, buf, size, off) < ARCHIVE_OK) return ARCHIVE_FATAL;
    }
}

int layer_unpack(const char *archive_path, const char *dest, bool layer, uint64_t *bytes, char *err,
                 size_t errlen)
{
    struct archive *a = archive_read_new(), *w = archive_write_disk_new();
    int rv = -1;
    if (!a || !w) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    int flags = ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                ARCHIVE_EXTRACT_UNLINK | ARCHIVE_EXTRACT_TIME;
    if (layer) flags |= ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_XATTR;
    archive_write_disk_set_options(w, flags);
    if (archive_read_open_filename(a, archive_path, 1 << 16) != ARCHIVE_OK) {
        snprintf(err, errlen, "cannot read %s: %s", archive_path, archive_error_string(a));
        goto out;
    }
    if (file_mkdirs(dest, 0755) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", dest, strerror(errno));
        goto out;
    }
    struct archive_entry *e;
    char rel[AGENT_PATH_MAX], full[AGENT_PATH_MAX * 2], hl[AGENT_PATH_MAX];
    uint64_t total = 0;
    for (;;) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) {
            snprintf(err, errlen, "%s: %s", archive_path, archive_error_string(a));
            goto out;
        }
        if (layer_clean_path(archive_entry_pathname(e), rel, sizeof rel) != 0) {
            snprintf(err, errlen, "%s: entry %s leaves the archive's root", archive_path,
                     archive_entry_pathname(e));
            goto out;
        }
        if (!rel[0]) continue; /* "./" itself */
        const char *base = strrchr(rel, '/');
        base = base ? base + 1 : rel;
        if (layer && !strncmp(base, WH_PREFIX, strlen(WH_PREFIX))) {
            if (whiteout(dest, rel, err, errlen) != 0) goto out;
            continue;
        }
        snprintf(full, sizeof full, "%s/%s", dest, rel);
        archive_entry_set_pathname(e, full);
        const char *link = archive_entry_hardlink(e);
        if (link) {
            if (layer_clean_path(link, hl, sizeof hl) != 0) {
                snprintf(err, errlen, "%s: hard link %s leaves the archive's root", archive_path,
                         link);
                goto out;
            }
            snprintf(full, sizeof full, "%s/%s", dest, hl);
            archive_entry_set_hardlink(e, full);
        }
        if (!layer && archive_entry_filetype(e) != AE_IFREG &&
            archive_entry_filetype(e) != AE_IFDIR)
            continue; /* an image archive holds files; anything else is not ours to make */
        r = archive_write_header(w, e);
        if (r >= ARCHIVE_WARN && archive_entry_size(e) > 0) {
            r = copy_data(a, w);
            total += (uint64_t)archive_entry_size(e);
        }
        if (r >= ARCHIVE_WARN) r = archive_write_finish_entry(w);
        if (r < ARCHIVE_WARN) {
            snprintf(err, errlen, "%s: cannot extract %s: %s", archive_path, rel,
                     archive_error_string(w));
            goto out;
        }
    }
    if (bytes) *bytes = total;
    rv = 0;
out:
    if (a) archive_read_free(a);
    if (w) archive_write_free(w);
    return rv;
}

/* ----------------------------------------------------------- overlay rootfs */

int rootfs_mount(const char *images_dir, const char *const *layers, size_t n, const char *dir,
                 char *err, size_t errlen)
{
    char upper[AGENT_PATH_MAX], work[AGENT_PATH_MAX], root[AGENT_PATH_MAX];
    snprintf(upper, sizeof upper, "%s/upper", dir);
    snprintf(work, sizeof work, "%s/work", dir);
    snprintf(root, sizeof root, "%s/rootfs", dir);
    if (file_mkdirs(upper, 0755) || file_mkdirs(work, 0700) || file_mkdirs(root, 0755)) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    if (n == 0) {
        snprintf(err, errlen, "the image has no layers");
        return -1;
    }
    /* Lower layers are listed top first. Absolute paths unless they would
     * not fit in the one page the kernel reads options from; then relative
     * ones from the layers folder, in a child that can chdir freely. */
    size_t cap = 64 + n * (strlen(images_dir) + 80) + 3 * AGENT_PATH_MAX;
    char *opts = malloc(cap);
    if (!opts) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int pass = 0; pass < 2; pass++) {
        size_t o = (size_t)snprintf(opts, cap, "lowerdir=");
        for (size_t i = n; i-- > 0;) {
            const char *hex = strchr(layers[i], ':') ? strchr(layers[i], ':') + 1 : layers[i];
            o += (size_t)snprintf(opts + o, cap - o, "%s%s%s", i + 1 == n ? "" : ":",
                                  pass == 0 ? images_dir : "", pass == 0 ? "/layers/" : "");
            o += (size_t)snprintf(opts + o, cap - o, "%s", hex);
        }
        snprintf(opts + o, cap - o, ",upperdir=%s,workdir=%s", upper, work);
        if (strlen(opts) < 4000) {
            int rv = 0;
            if (pass == 0) {
                rv = mount("overlay", root, "overlay", 0, opts);
                if (rv) rv = -errno;
            } else {
                char ldir[AGENT_PATH_MAX];
                snprintf(ldir, sizeof ldir, "%s/layers", images_dir);
                pid_t pid = fork();
                if (pid == 0) {
                    if (chdir(ldir) != 0) _exit(2);
                    _exit(mount("overlay", root, "overlay", 0, opts) == 0 ? 0 : 1);
                }
                int st = 0;
                if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
                    WEXITSTATUS(st) != 0)
                    rv = -EINVAL;
            }
            free(opts);
            if (rv) {
                snprintf(err, errlen, "cannot mount the overlay root filesystem at %s: %s", root,
                         strerror(-rv));
                return -1;
            }
            return 0;
        }
    }
    free(opts);
    snprintf(err, errlen, "the image has too many layers (%zu) for one overlay mount", n);
    return -1;
}

int rootfs_unmount(const char *dir)
{
    char root[AGENT_PATH_MAX];
    snprintf(root, sizeof root, "%s/rootfs", dir);
    return fs_umount(root);
}
