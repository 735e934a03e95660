/*
 * tls_fixture.h - certificates shared by the TLS tests, made with lib/'s
 * PKI at setup: the cluster CA, a serving certificate for 127.0.0.1 and
 * the in-cluster names, a client certificate (CN/O: a node and its group),
 * and a second, unrelated CA with its own serving and client certificates
 * (what an impostor would present).
 */
#ifndef TLS_FIXTURE_H
#define TLS_FIXTURE_H

#include <stdlib.h>

#include "lib/lib.h"

struct tls_fixture {
    char *ca, *ca_key;
    char *srv_cert, *srv_key;              /* 127.0.0.1, localhost, kubernetes.default.svc */
    char *srv_other_ip, *srv_other_ip_key; /* same CA, only IP 10.9.9.9 and DNS "elsewhere" */
    char *cli_cert, *cli_key;              /* CN system:node:pi1, O system:nodes */
    char *evil_ca, *evil_ca_key;
    char *evil_srv_cert, *evil_srv_key;
    char *evil_cli_cert, *evil_cli_key;
};

static __attribute__((unused)) int tls_fixture_make(struct tls_fixture *f)
{
    static const char *const dns[] = {"localhost", "kubernetes.default.svc", NULL};
    static const char *const ips[] = {"127.0.0.1", NULL};
    static const char *const other_dns[] = {"elsewhere", NULL};
    static const char *const other_ips[] = {"10.9.9.9", NULL};
    static const char *const orgs[] = {"system:nodes", NULL};
    struct pki_cert_spec srv = {.cn = "picokube", .dns = dns, .ips = ips, .usage = PKI_SERVER};
    struct pki_cert_spec other = {
        .cn = "picokube", .dns = other_dns, .ips = other_ips, .usage = PKI_SERVER};
    struct pki_cert_spec cli = {.cn = "system:node:pi1", .orgs = orgs, .usage = PKI_CLIENT};
    if (pki_ca_create(NULL, 0, &f->ca, &f->ca_key) < 0) return -1;
    if (pki_cert_issue(f->ca, f->ca_key, &srv, &f->srv_cert, &f->srv_key) < 0) return -1;
    if (pki_cert_issue(f->ca, f->ca_key, &other, &f->srv_other_ip, &f->srv_other_ip_key) < 0)
        return -1;
    if (pki_cert_issue(f->ca, f->ca_key, &cli, &f->cli_cert, &f->cli_key) < 0) return -1;
    if (pki_ca_create("evil-ca", 0, &f->evil_ca, &f->evil_ca_key) < 0) return -1;
    if (pki_cert_issue(f->evil_ca, f->evil_ca_key, &srv, &f->evil_srv_cert, &f->evil_srv_key) < 0)
        return -1;
    if (pki_cert_issue(f->evil_ca, f->evil_ca_key, &cli, &f->evil_cli_cert, &f->evil_cli_key) < 0)
        return -1;
    return 0;
}

static __attribute__((unused)) void tls_fixture_free(struct tls_fixture *f)
{
    char **all[] = {&f->ca,
                    &f->ca_key,
                    &f->srv_cert,
                    &f->srv_key,
                    &f->srv_other_ip,
                    &f->srv_other_ip_key,
                    &f->cli_cert,
                    &f->cli_key,
                    &f->evil_ca,
                    &f->evil_ca_key,
                    &f->evil_srv_cert,
                    &f->evil_srv_key,
                    &f->evil_cli_cert,
                    &f->evil_cli_key};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        free(*all[i]);
        *all[i] = NULL;
    }
}

#endif /* TLS_FIXTURE_H */
