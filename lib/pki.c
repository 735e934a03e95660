/*
 * pki.c - the cluster's certificates on OpenSSL 3 (EVP and X509 APIs): the
 * CA, serving and client certificates it signs, the CA hash that join
 * tokens pin, chain verification, and decoding for tests and status pages.
 *
 * Choices: EC P-256 keys (fast handshakes on a Pi, accepted by Go, Python
 * and curl); SHA-256 signatures; random 127-bit serials; validity starts an
 * hour back because small machines often boot with a wrong clock until NTP
 * catches up. Leaf certificates carry the extensions strict verifiers
 * (Go, Python 3.13's X509_STRICT) demand: SAN, key usage, extended key
 * usage, subject and authority key identifiers, CA:FALSE.
 */
#include "lib/lib.h"
#include "lib/sbuf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_DAYS 3650

static void log_ossl(const char *what)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    log_warn("pki", "%s: %s", what, r ? r : "failed");
    ERR_clear_error();
}

/* ------------------------------------------------------------- PEM I/O */

static X509 *read_cert(const char *pem)
{
    if (!pem) return NULL;
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    ERR_clear_error();
    return x;
}

/* Every certificate after the first, for chains. */
static STACK_OF(X509) * read_rest(const char *pem)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    BIO *b = BIO_new_mem_buf(pem, -1);
    if (!sk || !b) {
        sk_X509_free(sk);
        BIO_free(b);
        return NULL;
    }
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    X509_free(x);
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
        if (!sk_X509_push(sk, x)) X509_free(x);
    ERR_clear_error();
    BIO_free(b);
    return sk;
}

static EVP_PKEY *read_key(const char *pem)
{
    if (!pem) return NULL;
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    ERR_clear_error();
    return k;
}

static char *bio_string(BIO *b)
{
    char *p;
    long n = BIO_get_mem_data(b, &p);
    return n > 0 ? xstrndup(p, (size_t)n) : NULL;
}

static int write_pems(X509 *x, EVP_PKEY *k, char **cert_pem, char **key_pem)
{
    BIO *bc = BIO_new(BIO_s_mem()), *bk = BIO_new(BIO_s_mem());
    int rc = -EIO;
    if (bc && bk && PEM_write_bio_X509(bc, x) == 1 &&
        PEM_write_bio_PrivateKey(bk, k, NULL, NULL, 0, NULL, NULL) == 1) {
        *cert_pem = bio_string(bc);
        *key_pem = bio_string(bk);
        if (*cert_pem && *key_pem) {
            rc = 0;
        } else {
            free(*cert_pem);
            free(*key_pem);
            *cert_pem = *key_pem = NULL;
        }
    }
    if (rc < 0) log_ossl("writing PEM");
    BIO_free(bc);
    BIO_free(bk);
    return rc;
}

/* ------------------------------------------------------------ building */

static EVP_PKEY *new_key(void)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!k) log_ossl("generating a P-256 key");
    return k;
}

/* A new certificate for key k: serial, validity, subject; not signed. */
static X509 *new_cert(EVP_PKEY *k, const char *cn, const char *const *orgs, unsigned days)
{
    X509 *x = X509_new();
    if (!x) return NULL;
    unsigned char serial[16];
    if (random_bytes(serial, sizeof(serial)) < 0) goto fail;
    serial[0] &= 0x7f; /* a positive INTEGER */
    serial[0] |= 0x40; /* and a full-length one */
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) {
        BN_free(bn);
        goto fail;
    }
    BN_free(bn);
    if (X509_set_version(x, 2) != 1 || !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), (int)(days ? days : DEFAULT_DAYS), 0, NULL) ||
        X509_set_pubkey(x, k) != 1)
        goto fail;
    X509_NAME *nm = X509_get_subject_name(x);
    for (size_t i = 0; orgs && orgs[i]; i++)
        if (X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_UTF8, (const unsigned char *)orgs[i], -1,
                                       -1, 0) != 1)
            goto fail;
    if (X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) !=
        1)
        goto fail;
    return x;
fail:
    X509_free(x);
    return NULL;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!e) return -1;
    int rc = X509_add_ext(x, e, -1) == 1 ? 0 : -1;
    X509_EXTENSION_free(e);
    return rc;
}

static bool dns_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr(".-*_", s[i])) return false;
    return true;
}

static int add_sans(X509 *x, const char *const *dns, const char *const *ips)
{
    if ((!dns || !dns[0]) && (!ips || !ips[0])) return 0;
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    int rc = -EIO;
    if (!gens) return rc;
    for (size_t i = 0; dns && dns[i]; i++) {
        if (!dns_name_ok(dns[i])) {
            log_warn("pki", "\"%s\" is not a DNS name", dns[i]);
            rc = -EINVAL;
            goto out;
        }
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        if (!g || !s || ASN1_STRING_set(s, dns[i], -1) != 1) {
            GENERAL_NAME_free(g);
            ASN1_IA5STRING_free(s);
            goto out;
        }
        GENERAL_NAME_set0_value(g, GEN_DNS, s);
        if (!sk_GENERAL_NAME_push(gens, g)) {
            GENERAL_NAME_free(g);
            goto out;
        }
    }
    for (size_t i = 0; ips && ips[i]; i++) {
        ASN1_OCTET_STRING *ip = a2i_IPADDRESS(ips[i]);
        if (!ip) {
            ERR_clear_error();
            log_warn("pki", "\"%s\" is not an IP address", ips[i]);
            rc = -EINVAL;
            goto out;
        }
        GENERAL_NAME *g = GENERAL_NAME_new();
        if (!g) {
            ASN1_OCTET_STRING_free(ip);
            goto out;
        }
        GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
        if (!sk_GENERAL_NAME_push(gens, g)) {
            GENERAL_NAME_free(g);
            goto out;
        }
    }
    rc = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1 ? 0 : -EIO;
out:
    GENERAL_NAMES_free(gens);
    return rc;
}

int pki_ca_create(const char *cn, unsigned days, char **cert_pem, char **key_pem)
{
    *cert_pem = *key_pem = NULL;
    EVP_PKEY *k = new_key();
    if (!k) return -EIO;
    int rc = -EIO;
    X509 *x = new_cert(k, cn ? cn : "picokube-ca", NULL, days);
    if (x && X509_set_issuer_name(x, X509_get_subject_name(x)) == 1 &&
        add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") == 0 &&
        add_ext(x, x, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign") == 0 &&
        add_ext(x, x, NID_subject_key_identifier, "hash") == 0 && X509_sign(x, k, EVP_sha256()) > 0)
        rc = write_pems(x, k, cert_pem, key_pem);
    else
        log_ossl("creating the CA");
    X509_free(x);
    EVP_PKEY_free(k);
    return rc;
}

int pki_cert_issue(const char *ca_cert_pem, const char *ca_key_pem,
                   const struct pki_cert_spec *spec, char **cert_pem, char **key_pem)
{
    *cert_pem = *key_pem = NULL;
    if (!spec || !spec->cn || !*spec->cn) {
        log_warn("pki", "a certificate needs a CN");
        return -EINVAL;
    }
    X509 *ca = read_cert(ca_cert_pem);
    EVP_PKEY *ca_key = read_key(ca_key_pem);
    EVP_PKEY *k = NULL;
    X509 *x = NULL;
    int rc = -EINVAL;
    if (!ca || !ca_key) {
        log_warn("pki", "the CA certificate or key is not valid PEM");
        goto out;
    }
    if (X509_check_private_key(ca, ca_key) != 1) {
        ERR_clear_error();
        log_warn("pki", "the CA key does not match the CA certificate");
        goto out;
    }
    rc = -EIO;
    if (!(k = new_key()) || !(x = new_cert(k, spec->cn, spec->orgs, spec->days))) goto out;
    if (X509_set_issuer_name(x, X509_get_subject_name(ca)) != 1) goto out;
    rc = add_sans(x, spec->dns, spec->ips);
    if (rc < 0) goto out;
    rc = -EIO;
    char eku[64] = "";
    if (spec->usage & PKI_SERVER) strcat(eku, "serverAuth");
    if (spec->usage & PKI_CLIENT) strcat(eku, *eku ? ",clientAuth" : "clientAuth");
    if (add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
        add_ext(x, ca, NID_key_usage, "critical,digitalSignature") < 0 ||
        (*eku && add_ext(x, ca, NID_ext_key_usage, eku) < 0) ||
        add_ext(x, ca, NID_subject_key_identifier, "hash") < 0 ||
        add_ext(x, ca, NID_authority_key_identifier, "keyid:always") < 0 ||
        X509_sign(x, ca_key, EVP_sha256()) <= 0) {
        log_ossl("issuing a certificate");
        goto out;
    }
    rc = write_pems(x, k, cert_pem, key_pem);
out:
    X509_free(x);
    EVP_PKEY_free(k);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc;
}

/* ------------------------------------------------------------ checking */

int pki_cert_sha256(const char *cert_pem, char hex[65])
{
    hex[0] = '\0';
    X509 *x = read_cert(cert_pem);
    if (!x) return -EINVAL;
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    X509_free(x);
    if (n <= 0) return -EIO;
    unsigned char md[32];
    unsigned int mdlen = 0;
    int ok = EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    if (ok != 1 || mdlen != 32) return -EIO;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

int pki_verify(const char *cert_pem, const char *ca_pem, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    X509 *leaf = read_cert(cert_pem);
    X509_STORE *st = X509_STORE_new();
    STACK_OF(X509) *rest = leaf ? read_rest(cert_pem) : NULL;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = -EINVAL, cas = 0;
    if (!leaf || !st || !rest || !ctx || !ca_pem) goto out;
    BIO *b = BIO_new_mem_buf(ca_pem, -1);
    X509 *x;
    while (b && (x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
        if (X509_STORE_add_cert(st, x) == 1) cas++;
        X509_free(x);
    }
    BIO_free(b);
    ERR_clear_error();
    if (cas == 0) goto out;
    if (X509_STORE_CTX_init(ctx, st, leaf, rest) != 1) {
        rc = -EIO;
        goto out;
    }
    if (X509_verify_cert(ctx) == 1) {
        rc = 0;
    } else {
        rc = -EACCES;
        if (err)
            snprintf(err, errlen, "%s",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    }
out:
    if (rc == -EINVAL && err) snprintf(err, errlen, "not a PEM certificate");
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    sk_X509_pop_free(rest, X509_free);
    X509_STORE_free(st);
    X509_free(leaf);
    return rc;
}

int pki_key_matches(const char *cert_pem, const char *key_pem)
{
    X509 *x = read_cert(cert_pem);
    EVP_PKEY *k = read_key(key_pem);
    int rc = !x || !k ? -EINVAL : X509_check_private_key(x, k) == 1 ? 0 : -EACCES;
    ERR_clear_error();
    X509_free(x);
    EVP_PKEY_free(k);
    return rc;
}

static void name_field(X509_NAME *nm, int nid, char *out, size_t len, bool all)
{
    struct sbuf b = {0};
    for (int i = -1; (i = X509_NAME_get_index_by_NID(nm, nid, i)) >= 0;) {
        unsigned char *s = NULL;
        int n = ASN1_STRING_to_UTF8(&s, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i)));
        if (n < 0) continue;
        if (b.len) sbuf_putc(&b, ',');
        sbuf_append(&b, s, (size_t)n);
        OPENSSL_free(s);
        if (!all) break;
    }
    snprintf(out, len, "%s", b.p ? b.p : "");
    sbuf_free(&b);
}

static uint64_t asn1_ms(const ASN1_TIME *t)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
    time_t s = timegm(&tm);
    return s < 0 ? 0 : (uint64_t)s * 1000;
}

int pki_cert_info(const char *cert_pem, struct pki_cert_info *out)
{
    memset(out, 0, sizeof(*out));
    X509 *x = read_cert(cert_pem);
    if (!x) return -EINVAL;
    name_field(X509_get_subject_name(x), NID_commonName, out->cn, sizeof(out->cn), false);
    name_field(X509_get_subject_name(x), NID_organizationName, out->orgs, sizeof(out->orgs), true);
    out->not_before_ms = asn1_ms(X509_get0_notBefore(x));
    out->not_after_ms = asn1_ms(X509_get0_notAfter(x));
    out->is_ca = X509_check_ca(x) > 0;
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    struct sbuf b = {0};
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (b.len) sbuf_putc(&b, ',');
        if (g->type == GEN_DNS) {
            sbuf_printf(&b, "DNS:%.*s", ASN1_STRING_length(g->d.dNSName),
                        (const char *)ASN1_STRING_get0_data(g->d.dNSName));
        } else if (g->type == GEN_IPADD) {
            char ip[INET6_ADDRSTRLEN] = "?";
            int n = ASN1_STRING_length(g->d.iPAddress);
            const unsigned char *p = ASN1_STRING_get0_data(g->d.iPAddress);
            if (n == 4 || n == 16) inet_ntop(n == 4 ? AF_INET : AF_INET6, p, ip, sizeof(ip));
            sbuf_printf(&b, "IP:%s", ip);
        } else {
            sbuf_puts(&b, "other");
        }
    }
    GENERAL_NAMES_free(gens);
    snprintf(out->sans, sizeof(out->sans), "%s", b.p ? b.p : "");
    sbuf_free(&b);
    ERR_clear_error();
    X509_free(x);
    return 0;
}

char *pki_base64(const void *data, size_t len)
{
    char *out = xmalloc(4 * ((len + 2) / 3) + 1);
    /* EVP_EncodeBlock takes an int length: encode in slices of 3 * 2^20. */
    size_t o = 0;
    const unsigned char *p = data;
    while (len) {
        size_t n = len < 3u << 20 ? len : 3u << 20;
        o += (size_t)EVP_EncodeBlock((unsigned char *)out + o, p, (int)n);
        p += n;
        len -= n;
    }
    out[o] = '\0';
    return out;
}
