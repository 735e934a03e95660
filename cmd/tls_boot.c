/*
 * tls_boot.c - the cluster's TLS set-up, as a master or an agent starts.
 *
 * Layout: <data-dir>/tls/ca.crt, ca.key (masters only) and server.crt,
 * server.key (masters: the API's serving certificate), all 0600.
 *
 * Tokens are k3s-style: K10<sha256 of the CA certificate>::server:<secret>.
 * The first master makes the CA and the token. A joining master or agent
 * fetches /cacerts without verification, checks its SHA-256 against the
 * token, and from then on trusts only that CA: a server presenting another
 * CA is refused before any secret is sent. A joining master then fetches the
 * CA key (with the token, over the verified connection) to issue its own
 * serving certificate.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apiserver/apiserver.h"
#include "cmd/cmd.h"
#include "lib/lib.h"

static char *read_file(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/tls/%s", dir, name);
    return file_read_all(path, NULL);
}

static int write_file(const char *dir, const char *name, const char *pem)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/tls", dir);
    int rv = file_mkdirs(path, 0700);
    if (rv != 0) return rv;
    snprintf(path, sizeof(path), "%s/tls/%s", dir, name);
    return file_write_atomic(path, pem, strlen(pem), 0600);
}

int tls_token_hash(const char *token, char hash[65])
{
    if (!token || strncmp(token, "K10", 3) != 0 || strlen(token) < 3 + 64 + 2) return -1;
    memcpy(hash, token + 3, 64);
    hash[64] = 0;
    if (strncmp(token + 67, "::", 2) != 0) return -1;
    for (int i = 0; i < 64; i++)
        if (!strchr("0123456789abcdef", hash[i])) return -1;
    return 0;
}

/* Fetches the CA of the cluster behind `url` and checks it against the
 * token's hash. On success *ca_pem is malloc'd. */
int tls_fetch_ca(const char *url, const char *token, char **ca_pem, char *err, size_t errlen)
{
    char want[65], got[65];
    if (tls_token_hash(token, want) != 0) {
        snprintf(err, errlen,
                 "the token is not a picokube join token (K10<ca hash>::server:<secret>): use "
                 "the file 'token' in a server's data dir");
        return -1;
    }
    struct http_tls_client insecure = {.insecure_skip_verify = true};
    http_response_t res;
    int rv = http_fetch_tls(url, NULL, &insecure, "GET", APISERVER_CACERTS_PATH, NULL, NULL, NULL,
                            0, 10000, &res);
    if (rv != 0) {
        snprintf(err, errlen, "cannot reach the server %s: %s", url, uv_strerror(rv));
        return -1;
    }
    if (res.status != 200) {
        snprintf(err, errlen, "the server %s answered HTTP %d for its CA: is it a picokube server?",
                 url, res.status);
        free((char *)res.body);
        return -1;
    }
    char *pem = strndup(res.body, res.len);
    free((char *)res.body);
    if (!pem || pki_cert_sha256(pem, got) != 0 || strcmp(got, want) != 0) {
        snprintf(err, errlen,
                 "the server %s presents a different cluster CA than the token names: refusing "
                 "to join (check the URL and the token)",
                 url);
        free(pem);
        return -1;
    }
    *ca_pem = pem;
    return 0;
}

static int issue_server_cert(struct cluster_tls *t, const char *data_dir, const char *ip)
{
    char host[256] = "localhost";
    gethostname(host, sizeof(host));
    host[sizeof(host) - 1] = 0;
    const char *dns[] = {host,
                         "localhost",
                         "kubernetes",
                         "kubernetes.default",
                         "kubernetes.default.svc",
                         "kubernetes.default.svc.cluster.local",
                         NULL};
    const char *ips[] = {"127.0.0.1", "10.43.0.1", ip, NULL};
    if (!strcmp(ip, "127.0.0.1")) ips[2] = NULL;
    struct pki_cert_spec spec = {.cn = host, .dns = dns, .ips = ips, .usage = PKI_SERVER};
    if (pki_cert_issue(t->ca_pem, t->ca_key_pem, &spec, &t->cert_pem, &t->key_pem) != 0)
        return -EIO;
    int rv = write_file(data_dir, "server.key", t->key_pem);
    if (rv == 0) rv = write_file(data_dir, "server.crt", t->cert_pem);
    return rv;
}

int tls_boot_master(const char *data_dir, const char *join_url, const char *token,
                    const char *advertise_ip, struct cluster_tls *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    t->ca_pem = read_file(data_dir, "ca.crt");
    t->ca_key_pem = read_file(data_dir, "ca.key");
    if (!t->ca_pem || !t->ca_key_pem) {
        free(t->ca_pem);
        free(t->ca_key_pem);
        t->ca_pem = t->ca_key_pem = NULL;
        if (join_url) {
            if (tls_fetch_ca(join_url, token, &t->ca_pem, err, errlen) != 0) return -1;
            struct http_tls_client verified = {.ca_pem = t->ca_pem};
            http_response_t res;
            int rv = http_fetch_tls(join_url, token, &verified, "GET", APISERVER_CAKEY_PATH, NULL,
                                    NULL, NULL, 0, 10000, &res);
            if (rv != 0 || res.status != 200) {
                snprintf(err, errlen, "%s",
                         rv ? uv_strerror(rv)
                            : res.status == 401 || res.status == 403
                                  ? "the server refused the join token: check --token"
                                  : "the server would not hand out the cluster CA");
                if (!rv) free((char *)res.body);
                return -1;
            }
            t->ca_key_pem = strndup(res.body, res.len);
            free((char *)res.body);
        } else if (pki_ca_create("picokube-ca", 0, &t->ca_pem, &t->ca_key_pem) != 0) {
            snprintf(err, errlen, "cannot create the cluster CA");
            return -1;
        }
        int rv = write_file(data_dir, "ca.key", t->ca_key_pem);
        if (rv == 0) rv = write_file(data_dir, "ca.crt", t->ca_pem);
        if (rv != 0) {
            snprintf(err, errlen, "cannot write %s/tls: %s", data_dir, strerror(-rv));
            return -1;
        }
    }
    t->cert_pem = read_file(data_dir, "server.crt");
    t->key_pem = read_file(data_dir, "server.key");
    if (!t->cert_pem || !t->key_pem || pki_key_matches(t->cert_pem, t->key_pem) != 0) {
        free(t->cert_pem);
        free(t->key_pem);
        t->cert_pem = t->key_pem = NULL;
        int rv = issue_server_cert(t, data_dir, advertise_ip);
        if (rv != 0) {
            snprintf(err, errlen, "cannot issue the API's certificate in %s/tls: %s", data_dir,
                     strerror(-rv));
            return -1;
        }
    }
    if (pki_cert_sha256(t->ca_pem, t->ca_hash) != 0 || http_client_set_default_ca(t->ca_pem) != 0) {
        snprintf(err, errlen, "the cluster CA in %s/tls is damaged", data_dir);
        return -1;
    }
    return 0;
}

void tls_free(struct cluster_tls *t)
{
    free(t->ca_pem);
    free(t->ca_key_pem);
    free(t->cert_pem);
    free(t->key_pem);
    memset(t, 0, sizeof(*t));
}
