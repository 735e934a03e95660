/*
 * test_util.c - RFC 3339 times as Kubernetes writes them (round trip,
 * offsets, fractions, rejects), atomic file writes (content, mode, no temp
 * files left), mkdir -p, file reads, random bytes and logging levels.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/lib.h"

static void test_rfc3339_round_trip(void **state)
{
    (void)state;
    char buf[32];
    time_format_rfc3339(1795507200000ULL, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-24T08:00:00Z");
    uint64_t ms;
    assert_int_equal(time_parse_rfc3339(buf, &ms), 0);
    assert_int_equal(ms, 1795507200000ULL);

    /* Formatting drops milliseconds (Kubernetes timestamps have seconds). */
    time_format_rfc3339(1795507200999ULL, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-24T08:00:00Z");

    time_format_rfc3339(0, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T00:00:00Z");

    uint64_t now = time_wall_ms() / 1000 * 1000;
    time_format_rfc3339(now, buf, sizeof(buf));
    assert_int_equal(time_parse_rfc3339(buf, &ms), 0);
    assert_int_equal(ms, now);
}

static void test_rfc3339_parse_forms(void **state)
{
    (void)state;
    uint64_t ms;
    assert_int_equal(time_parse_rfc3339("2026-11-24T10:00:00+02:00", &ms), 0);
    assert_int_equal(ms, 1795507200000ULL);
    assert_int_equal(time_parse_rfc3339("2026-11-24T07:30:00-00:30", &ms), 0);
    assert_int_equal(ms, 1795507200000ULL);
    assert_int_equal(time_parse_rfc3339("2026-11-24T08:00:00.123456Z", &ms), 0);
    assert_int_equal(ms, 1795507200123ULL);
    assert_int_equal(time_parse_rfc3339("2024-02-29T00:00:00Z", &ms), 0);

    const char *bad[] = {"",
                         "2026-11-24",
                         "2026-11-24T08:00:00",
                         "2026-11-24T08:00Z",
                         "2026-13-01T00:00:00Z",
                         "2025-02-29T00:00:00Z",
                         "2026-11-24T24:00:00Z",
                         "2026-11-24T08:00:00.Z",
                         "2026-11-24T08:00:00Zjunk",
                         "2026-11-24T08:00:00+0200",
                         "not a time"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(time_parse_rfc3339(bad[i], &ms), -1);
}

static void test_clocks(void **state)
{
    (void)state;
    uint64_t a = time_mono_ms(), b = time_mono_ms();
    assert_true(b >= a);
    assert_true(time_wall_ms() > 1600000000000ULL);
}

static char tmpdir[64];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/pklib-test-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void test_atomic_write(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "%s/token", tmpdir);
    assert_int_equal(file_write_atomic(path, "first", 5, 0600), 0);
    assert_int_equal(file_write_atomic(path, "second\n", 7, 0600), 0);
    size_t len;
    char *got = file_read_all(path, &len);
    assert_non_null(got);
    assert_int_equal(len, 7);
    assert_string_equal(got, "second\n");
    free(got);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(entries(tmpdir), 1); /* no temporary file left behind */

    char missing[160];
    snprintf(missing, sizeof(missing), "%s/nope/file", tmpdir);
    assert_int_equal(file_write_atomic(missing, "x", 1, 0644), -ENOENT);
    errno = 0;
    assert_null(file_read_all(missing, NULL));
    assert_int_equal(errno, ENOENT);
}

static void test_mkdirs(void **state)
{
    (void)state;
    char path[160];
    snprintf(path, sizeof(path), "%s/a/b/c/", tmpdir);
    assert_int_equal(file_mkdirs(path, 0700), 0);
    assert_int_equal(file_mkdirs(path, 0700), 0); /* exists already: fine */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    char file[160];
    snprintf(file, sizeof(file), "%s/a/f", tmpdir);
    assert_int_equal(file_write_atomic(file, "", 0, 0644), 0);
    snprintf(path, sizeof(path), "%s/a/f/g", tmpdir);
    assert_int_equal(file_mkdirs(path, 0700), -ENOTDIR);
}

static void test_read_proc(void **state)
{
    (void)state;
    size_t len = 0;
    char *s = file_read_all("/proc/self/status", &len);
    assert_non_null(s);
    assert_true(len > 0);
    assert_non_null(strstr(s, "Name:"));
    free(s);
}

static void test_random(void **state)
{
    (void)state;
    char a[33], b[33];
    assert_int_equal(random_hex(a, 16), 0);
    assert_int_equal(random_hex(b, 16), 0);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    assert_string_not_equal(a, b);
    unsigned char big[1000] = {0};
    assert_int_equal(random_bytes(big, sizeof(big)), 0);
    int zeros = 0;
    for (size_t i = 0; i < sizeof(big); i++)
        zeros += big[i] == 0;
    assert_true(zeros < 100);
}

static void test_log_level(void **state)
{
    (void)state;
    log_set_level(PKLOG_WARN);
    assert_int_equal(log_get_level(), PKLOG_WARN);
    log_info("test", "dropped %d", 1);
    log_warn("test", "shown %s", "once");
    log_set_level(PKLOG_INFO);
    assert_int_equal(log_get_level(), PKLOG_INFO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339_round_trip),
        cmocka_unit_test(test_rfc3339_parse_forms),
        cmocka_unit_test(test_clocks),
        cmocka_unit_test_setup_teardown(test_atomic_write, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_mkdirs, setup_dir, teardown_dir),
        cmocka_unit_test(test_read_proc),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_log_level),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
