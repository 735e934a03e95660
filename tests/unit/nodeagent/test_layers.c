/*
 * test_layers.c - the image store on disk (needs root, as the agent does:
 * whiteouts are device nodes and trusted xattrs, rootfs an overlay mount):
 * a layer's whiteouts become overlayfs ones, paths that climb out are
 * refused, a docker-archive imports under its RepoTags (normalized) and is
 * found by any spelling of its name, and the overlay of its layers shows
 * what the OCI layer rules say it should.
 */
#include <archive.h>
#include <archive_entry.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "nodeagent/agent_int.h"

static char dir[64];

struct ent {
    const char *name;
    int type; /* 'f' file, 'd' dir, 'l' symlink, 'h' hard link */
    const char *data;
};

static void write_tar(const char *path, const struct ent *e)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (; e->name; e++) {
        struct archive_entry *x = archive_entry_new();
        archive_entry_set_pathname(x, e->name);
        switch (e->type) {
        case 'd':
            archive_entry_set_filetype(x, AE_IFDIR);
            archive_entry_set_perm(x, 0755);
            break;
        case 'l':
            archive_entry_set_filetype(x, AE_IFLNK);
            archive_entry_set_symlink(x, e->data);
            break;
        case 'h':
            archive_entry_set_filetype(x, AE_IFREG);
            archive_entry_set_hardlink(x, e->data);
            break;
        default:
            archive_entry_set_filetype(x, AE_IFREG);
            archive_entry_set_perm(x, 0644);
            archive_entry_set_size(x, (la_int64_t)strlen(e->data));
        }
        archive_write_header(a, x);
        if (e->type == 'f') archive_write_data(a, e->data, strlen(e->data));
        archive_entry_free(x);
    }
    archive_write_close(a);
    archive_write_free(a);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/pk-layers-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char p[128];
    snprintf(p, sizeof p, "%s/c/rootfs", dir);
    fs_umount(p);
    return fs_rm_rf(dir);
}

static const struct ent L1[] = {
    {"etc/", 'd', NULL}, {"etc/a", 'f', "a\n"}, {"etc/b", 'f', "b\n"},      {"d/", 'd', NULL},
    {"d/x", 'f', "x\n"}, {"lnk", 'l', "etc/b"}, {"./etc/hl", 'h', "etc/b"}, {NULL, 0, NULL}};
static const struct ent L2[] = {
    {"etc/.wh.a", 'f', ""}, {"d/.wh..wh..opq", 'f', ""}, {"d/y", 'f', "y\n"}, {NULL, 0, NULL}};

static void test_whiteouts(void **state)
{
    (void)state;
    if (geteuid() != 0) skip();
    char tar[128], dest[128], p[256], err[512];
    snprintf(tar, sizeof tar, "%s/l2.tar", dir);
    snprintf(dest, sizeof dest, "%s/l2", dir);
    write_tar(tar, L2);
    assert_int_equal(layer_unpack(tar, dest, true, NULL, err, sizeof err), 0);
    struct stat st;
    snprintf(p, sizeof p, "%s/etc/a", dest);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
    snprintf(p, sizeof p, "%s/etc/.wh.a", dest);
    assert_int_not_equal(lstat(p, &st), 0);
    snprintf(p, sizeof p, "%s/d", dest);
    char v[4] = "";
    assert_int_equal(lgetxattr(p, "trusted.overlay.opaque", v, sizeof v), 1);
    assert_int_equal(v[0], 'y');
    /* A path that climbs out is refused. */
    const struct ent evil[] = {{"../escaped", 'f', "x"}, {NULL, 0, NULL}};
    snprintf(tar, sizeof tar, "%s/evil.tar", dir);
    write_tar(tar, evil);
    snprintf(dest, sizeof dest, "%s/evil", dir);
    assert_int_equal(layer_unpack(tar, dest, true, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "leaves the archive's root"));
    snprintf(p, sizeof p, "%s/escaped", dir);
    assert_int_not_equal(lstat(p, &st), 0);
}

static void test_import_and_overlay(void **state)
{
    (void)state;
    if (geteuid() != 0) skip();
    char l1[128], l2[128], cfg[128], man[128], archive[128], store[128], err[512];
    snprintf(l1, sizeof l1, "%s/l1.tar", dir);
    snprintf(l2, sizeof l2, "%s/l2.tar", dir);
    write_tar(l1, L1);
    write_tar(l2, L2);
    char *d1 = file_read_all(l1, NULL), *d2 = file_read_all(l2, NULL);
    struct stat s1, s2;
    stat(l1, &s1);
    stat(l2, &s2);
    const char *config =
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"],"
        "\"Env\":[\"A=1\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":"
        "[\"sha256:1111111111111111111111111111111111111111111111111111111111111111\","
        "\"sha256:2222222222222222222222222222222222222222222222222222222222222222\"]}}";
    const char *manifest = "[{\"Config\":\"abcdef0123.json\",\"RepoTags\":[\"tools:1.0\"],"
                           "\"Layers\":[\"one/layer.tar\",\"two/layer.tar\"]}]";
    snprintf(cfg, sizeof cfg, "%s/cfg", dir);
    snprintf(man, sizeof man, "%s/man", dir);
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    snprintf(archive, sizeof archive, "%s/img.tar", dir);
    archive_write_open_filename(a, archive);
    struct {
        const char *name;
        const char *data;
        size_t len;
    } files[] = {{"abcdef0123.json", config, strlen(config)},
                 {"one/layer.tar", d1, (size_t)s1.st_size},
                 {"two/layer.tar", d2, (size_t)s2.st_size},
                 {"manifest.json", manifest, strlen(manifest)}};
    for (size_t i = 0; i < 4; i++) {
        struct archive_entry *x = archive_entry_new();
        archive_entry_set_pathname(x, files[i].name);
        archive_entry_set_filetype(x, AE_IFREG);
        archive_entry_set_perm(x, 0644);
        archive_entry_set_size(x, (la_int64_t)files[i].len);
        archive_write_header(a, x);
        archive_write_data(a, files[i].data, files[i].len);
        archive_entry_free(x);
    }
    archive_write_close(a);
    archive_write_free(a);
    free(d1);
    free(d2);
    snprintf(store, sizeof store, "%s/store", dir);
    if (img_import(store, archive, NULL, NULL, err, sizeof err) != 0) fail_msg("%s", err);
    img_t *im = NULL;
    assert_int_equal(img_lookup(store, "docker.io/library/tools:1.0", &im), 0);
    assert_string_equal(im->name, "docker.io/library/tools:1.0");
    assert_string_equal(im->id, "sha256:abcdef0123");
    assert_int_equal(im->n_layers, 2);
    assert_string_equal(jstr(im->config, "Cmd", "x") ? "ok" : "", "ok");
    img_free(im);
    assert_int_equal(img_lookup(store, "tools:1.0", &im), 0);
    char bundle[128], p[256];
    snprintf(bundle, sizeof bundle, "%s/c", dir);
    assert_int_equal(
        rootfs_mount(store, (const char *const *)im->layers, im->n_layers, bundle, err, sizeof err),
        0);
    struct stat st;
    snprintf(p, sizeof p, "%s/rootfs/etc/a", bundle);
    assert_int_not_equal(lstat(p, &st), 0); /* deleted by the upper layer */
    snprintf(p, sizeof p, "%s/rootfs/etc/hl", bundle);
    char *hl = file_read_all(p, NULL);
    assert_string_equal(hl, "b\n"); /* the hard link */
    free(hl);
    snprintf(p, sizeof p, "%s/rootfs/d/x", bundle);
    assert_int_not_equal(lstat(p, &st), 0); /* hidden by the opaque folder */
    snprintf(p, sizeof p, "%s/rootfs/d/y", bundle);
    assert_int_equal(lstat(p, &st), 0);
    snprintf(p, sizeof p, "%s/rootfs/lnk", bundle);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    /* Writes go to the container's upper folder, never to the layers. */
    snprintf(p, sizeof p, "%s/rootfs/etc/b", bundle);
    assert_int_equal(fs_write_file(p, "changed", 7, 0644), 0);
    snprintf(p, sizeof p, "%s/upper/etc/b", bundle);
    assert_int_equal(lstat(p, &st), 0);
    assert_int_equal(rootfs_unmount(bundle), 0);
    assert_false(fs_is_mountpoint(p));
    img_free(im);
    /* ls and rm: the layers no other image uses go with it. */
    assert_int_equal(img_remove(store, "tools:1.0", err, sizeof err), 0);
    assert_int_equal(img_lookup(store, "tools:1.0", &im), -ENOENT);
    snprintf(p, sizeof p,
             "%s/layers/1111111111111111111111111111111111111111111111111111111111111111", store);
    assert_int_not_equal(lstat(p, &st), 0);
    assert_int_equal(img_remove(store, "tools:1.0", err, sizeof err), -1);
    assert_string_equal(err, "image \"tools:1.0\" is not in the store");
}

static void test_bad_archives(void **state)
{
    (void)state;
    char err[512], p[128];
    assert_int_equal(img_import(dir, "/nonexistent.tar", NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read /nonexistent.tar"));
    snprintf(p, sizeof p, "%s/empty.tar", dir);
    const struct ent none[] = {{"hello.txt", 'f', "hi"}, {NULL, 0, NULL}};
    write_tar(p, none);
    char store[128];
    snprintf(store, sizeof store, "%s/store", dir);
    assert_int_equal(img_import(store, p, NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "neither a docker-archive"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_whiteouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_and_overlay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_archives, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
