/*
 * test_pki.c - the cluster PKI: a CA as Kubernetes distributions make one,
 * a serving certificate with the SANs an API server needs (its IPs, host
 * name and the in-cluster names of the kubernetes Service), client
 * certificates whose CN/O are a user and its groups, chain verification
 * (and its failure for another CA), and the CA hash that k3s-style join
 * tokens pin, checked against an independent decoding of the PEM.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "lib/lib.h"

static const char *const serving_dns[] = {"pi1",
                                          "kubernetes",
                                          "kubernetes.default",
                                          "kubernetes.default.svc",
                                          "kubernetes.default.svc.cluster.local",
                                          "localhost",
                                          NULL};
static const char *const serving_ips[] = {"192.168.1.10", "127.0.0.1", "10.43.0.1", "::1", NULL};

static char *ca_cert, *ca_key;

static int setup(void **state)
{
    (void)state;
    return pki_ca_create(NULL, 0, &ca_cert, &ca_key);
}

static int teardown(void **state)
{
    (void)state;
    free(ca_cert);
    free(ca_key);
    return 0;
}

static void test_ca(void **state)
{
    (void)state;
    assert_non_null(strstr(ca_cert, "-----BEGIN CERTIFICATE-----"));
    assert_non_null(strstr(ca_key, "-----BEGIN PRIVATE KEY-----"));
    struct pki_cert_info ci;
    assert_int_equal(pki_cert_info(ca_cert, &ci), 0);
    assert_string_equal(ci.cn, "picokube-ca");
    assert_true(ci.is_ca);
    assert_string_equal(ci.sans, "");
    /* Ten years, starting an hour back. */
    uint64_t day = 86400000ull;
    uint64_t span = ci.not_after_ms - ci.not_before_ms;
    assert_true(span >= 3650 * day && span <= 3650 * day + 2 * 3600000ull);
    assert_true(ci.not_before_ms <= time_wall_ms());
    assert_int_equal(pki_key_matches(ca_cert, ca_key), 0);
    /* A CA verifies against itself (a trust anchor). */
    assert_int_equal(pki_verify(ca_cert, ca_cert, NULL, 0), 0);
}

static void test_serving_cert(void **state)
{
    (void)state;
    struct pki_cert_spec spec = {
        .cn = "picokube-apiserver", .dns = serving_dns, .ips = serving_ips, .usage = PKI_SERVER};
    char *cert, *key;
    assert_int_equal(pki_cert_issue(ca_cert, ca_key, &spec, &cert, &key), 0);
    struct pki_cert_info ci;
    assert_int_equal(pki_cert_info(cert, &ci), 0);
    assert_string_equal(ci.cn, "picokube-apiserver");
    assert_false(ci.is_ca);
    assert_string_equal(ci.sans, "DNS:pi1,DNS:kubernetes,DNS:kubernetes.default,"
                                 "DNS:kubernetes.default.svc,"
                                 "DNS:kubernetes.default.svc.cluster.local,DNS:localhost,"
                                 "IP:192.168.1.10,IP:127.0.0.1,IP:10.43.0.1,IP:::1");
    char err[128];
    assert_int_equal(pki_verify(cert, ca_cert, err, sizeof(err)), 0);
    assert_int_equal(pki_key_matches(cert, key), 0);
    assert_int_equal(pki_key_matches(cert, ca_key), -EACCES);
    /* A leaf is no CA: what it "signs" does not verify. */
    assert_int_equal(pki_verify(ca_cert, cert, err, sizeof(err)), -EACCES);
    free(cert);
    free(key);
}

static void test_client_cert(void **state)
{
    (void)state;
    static const char *const orgs[] = {"system:nodes", "picokube", NULL};
    struct pki_cert_spec spec = {.cn = "system:node:pi2", .orgs = orgs, .usage = PKI_CLIENT};
    char *cert, *key;
    assert_int_equal(pki_cert_issue(ca_cert, ca_key, &spec, &cert, &key), 0);
    struct pki_cert_info ci;
    assert_int_equal(pki_cert_info(cert, &ci), 0);
    assert_string_equal(ci.cn, "system:node:pi2");
    assert_string_equal(ci.orgs, "system:nodes,picokube");
    assert_string_equal(ci.sans, "");
    assert_int_equal(pki_verify(cert, ca_cert, NULL, 0), 0);
    free(cert);
    free(key);
}

static void test_other_ca_fails(void **state)
{
    (void)state;
    char *other_cert, *other_key, *cert, *key;
    assert_int_equal(pki_ca_create("someone-else", 30, &other_cert, &other_key), 0);
    struct pki_cert_spec spec = {.cn = "mallory", .ips = serving_ips, .usage = PKI_SERVER};
    assert_int_equal(pki_cert_issue(other_cert, other_key, &spec, &cert, &key), 0);
    char err[128];
    assert_int_equal(pki_verify(cert, ca_cert, err, sizeof(err)), -EACCES);
    assert_non_null(strstr(err, "issuer"));
    assert_int_equal(pki_verify(cert, other_cert, NULL, 0), 0);
    /* Signing with a key that is not the CA's is refused. */
    char *c2 = NULL, *k2 = NULL;
    assert_int_equal(pki_cert_issue(ca_cert, other_key, &spec, &c2, &k2), -EINVAL);
    assert_null(c2);
    free(other_cert);
    free(other_key);
    free(cert);
    free(key);
}

/* The DER of a PEM certificate, decoded by hand (not through X509). */
static size_t pem_der(const char *pem, unsigned char *out)
{
    const char *p = strstr(pem, "-----\n") + 6;
    const char *end = strstr(p, "-----END");
    char b64[4096];
    size_t n = 0;
    for (; p < end; p++)
        if (*p != '\n') b64[n++] = *p;
    int len = EVP_DecodeBlock(out, (unsigned char *)b64, (int)n);
    size_t pad = n >= 2 ? (b64[n - 1] == '=') + (b64[n - 2] == '=') : 0;
    return (size_t)len - pad;
}

static void test_ca_hash(void **state)
{
    (void)state;
    char h1[65], h2[65];
    assert_int_equal(pki_cert_sha256(ca_cert, h1), 0);
    assert_int_equal(pki_cert_sha256(ca_cert, h2), 0);
    assert_string_equal(h1, h2);
    assert_int_equal(strlen(h1), 64);
    for (int i = 0; i < 64; i++)
        assert_non_null(strchr("0123456789abcdef", h1[i]));
    unsigned char der[4096], md[32];
    size_t n = pem_der(ca_cert, der);
    unsigned int mdlen;
    EVP_Digest(der, n, md, &mdlen, EVP_sha256(), NULL);
    char want[65];
    for (int i = 0; i < 32; i++)
        snprintf(want + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(h1, want);
    /* Another CA, another hash. */
    char *oc, *ok;
    assert_int_equal(pki_ca_create(NULL, 0, &oc, &ok), 0);
    assert_int_equal(pki_cert_sha256(oc, h2), 0);
    assert_string_not_equal(h1, h2);
    free(oc);
    free(ok);
}

static void test_bad_input(void **state)
{
    (void)state;
    char *c = NULL, *k = NULL;
    static const char *const bad_ip[] = {"300.1.1.1", NULL};
    static const char *const bad_dns[] = {"a b", NULL};
    struct pki_cert_spec spec = {.cn = "x", .ips = bad_ip, .usage = PKI_SERVER};
    assert_int_equal(pki_cert_issue(ca_cert, ca_key, &spec, &c, &k), -EINVAL);
    spec.ips = NULL;
    spec.dns = bad_dns;
    assert_int_equal(pki_cert_issue(ca_cert, ca_key, &spec, &c, &k), -EINVAL);
    spec.dns = NULL;
    spec.cn = "";
    assert_int_equal(pki_cert_issue(ca_cert, ca_key, &spec, &c, &k), -EINVAL);
    spec.cn = "x";
    assert_int_equal(pki_cert_issue("not a pem", ca_key, &spec, &c, &k), -EINVAL);
    assert_null(c);
    assert_null(k);
    char h[65];
    assert_int_equal(pki_cert_sha256("garbage", h), -EINVAL);
    char err[64];
    assert_int_equal(pki_verify("garbage", ca_cert, err, sizeof(err)), -EINVAL);
    assert_int_equal(pki_verify(ca_cert, "garbage", NULL, 0), -EINVAL);
    struct pki_cert_info ci;
    assert_int_equal(pki_cert_info("", &ci), -EINVAL);
}

static void test_base64(void **state)
{
    (void)state;
    char *s = pki_base64("hello", 5);
    assert_string_equal(s, "aGVsbG8=");
    free(s);
    s = pki_base64("", 0);
    assert_string_equal(s, "");
    free(s);
    s = pki_base64("\xff\xfe\xfd", 3);
    assert_string_equal(s, "//79");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ca),          cmocka_unit_test(test_serving_cert),
        cmocka_unit_test(test_client_cert), cmocka_unit_test(test_other_ca_fails),
        cmocka_unit_test(test_ca_hash),     cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
