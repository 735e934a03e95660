/*
 * test_command.c - the byte encodings of log entries and forwarded results:
 * round trips, the 8-byte entry length libraft needs, and malformed input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "raftstore/store_int.h"

static void cmd_round_trip(void **state)
{
    (void)state;
    struct cmd in = {.op = CMD_UPDATE, .now_ms = 1234567, .if_mod_rev = 42,
                     .expires_ms = 99, .key = "/registry/pods/default/web", .key_len = 26,
                     .value = "{\"a\":1}", .value_len = 7};
    void *buf;
    size_t len;
    assert_int_equal(cmd_encode(&in, &buf, &len), 0);
    assert_int_equal(len % 8, 0);
    struct cmd out;
    assert_int_equal(cmd_decode(buf, len, &out), 0);
    assert_int_equal(out.op, CMD_UPDATE);
    assert_int_equal(out.now_ms, 1234567);
    assert_int_equal(out.if_mod_rev, 42);
    assert_int_equal(out.expires_ms, 99);
    assert_string_equal(out.key, "/registry/pods/default/web");
    assert_int_equal(out.value_len, 7);
    assert_memory_equal(out.value, "{\"a\":1}", 7);
    raft_free(buf);
}

static void cmd_every_length_is_word_aligned(void **state)
{
    (void)state;
    char val[64];
    memset(val, 'x', sizeof(val));
    for (size_t n = 0; n < sizeof(val); n++) {
        struct cmd in = {.op = CMD_CREATE, .key = "/k", .key_len = 2, .value = val,
                         .value_len = n};
        void *buf;
        size_t len;
        assert_int_equal(cmd_encode(&in, &buf, &len), 0);
        assert_int_equal(len % 8, 0);
        struct cmd out;
        assert_int_equal(cmd_decode(buf, len, &out), 0);
        assert_int_equal(out.value_len, n);
        raft_free(buf);
    }
}

static void cmd_malformed_is_rejected(void **state)
{
    (void)state;
    struct cmd in = {.op = CMD_DELETE, .key = "/some/key", .key_len = 9};
    void *buf;
    size_t len;
    assert_int_equal(cmd_encode(&in, &buf, &len), 0);
    struct cmd out;
    /* Every truncation that cuts into the encoded fields fails cleanly. */
    /* version, op, 3 x u64, key (u32 + 9 + NUL), empty value (u32 + NUL) = 45 bytes */
    for (size_t n = 0; n < 45; n++)
        assert_int_equal(cmd_decode(buf, n, &out), STORE_EINVAL);
    unsigned char *b = buf;
    b[0] = 99; /* unknown version */
    assert_int_equal(cmd_decode(buf, len, &out), STORE_EINVAL);
    b[0] = 1;
    b[1] = 77; /* unknown op */
    assert_int_equal(cmd_decode(buf, len, &out), STORE_EINVAL);
    raft_free(buf);
    struct cmd nokey = {.op = CMD_CREATE, .key = "", .key_len = 0};
    assert_int_equal(cmd_encode(&nokey, &buf, &len), 0);
    assert_int_equal(cmd_decode(buf, len, &out), STORE_EINVAL);
    raft_free(buf);
}

static void result_round_trip(void **state)
{
    (void)state;
    store_kv_t kv = {.key = "/a", .value = "one", .value_len = 3, .create_rev = 1,
                     .mod_rev = 5, .version = 2, .expires_ms = 7};
    store_kv_t kvs[2] = {{.key = "/a", .value = "one", .value_len = 3, .mod_rev = 5},
                         {.key = "/b", .value = "", .value_len = 0, .mod_rev = 6}};
    store_result_t r = {.err = STORE_ECONFLICT, .rev = 9, .kv = &kv, .kvs = kvs, .n_kvs = 2,
                        .more = true, .count = 17};
    struct owned_result o;
    assert_int_equal(result_copy(&r, 33, &o), 0);
    assert_int_equal(o.res.err, STORE_ECONFLICT);
    assert_int_equal(o.res.rev, 9);
    assert_int_equal(o.index, 33);
    assert_true(o.res.more);
    assert_int_equal(o.res.count, 17);
    assert_non_null(o.res.kv);
    assert_string_equal(o.res.kv->key, "/a");
    assert_int_equal(o.res.kv->version, 2);
    assert_int_equal(o.res.kv->expires_ms, 7);
    assert_int_equal(o.res.n_kvs, 2);
    assert_string_equal(o.res.kvs[1].key, "/b");
    assert_int_equal(o.res.kvs[1].mod_rev, 6);
    result_free(&o);

    void *buf;
    size_t len;
    assert_int_equal(result_encode(&r, 1, &buf, &len), 0);
    for (size_t n = 0; n + 1 < len; n++) assert_int_equal(result_decode(buf, n, &o), STORE_EINVAL);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cmd_round_trip),
        cmocka_unit_test(cmd_every_length_is_word_aligned),
        cmocka_unit_test(cmd_malformed_is_rejected),
        cmocka_unit_test(result_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
