/*
 * apiserver.h - the Kubernetes REST API of picokube, over HTTP/1.1.
 *
 * An apiserver_t serves one member's API port on the store's loop: the
 * health endpoints, /metrics, /version, discovery and OpenAPI, the REST
 * resources kept in the raftstore, watches, and the raftstore's internal
 * endpoint (joins and write forwarding between masters).
 *
 * Authentication is by bearer token: the admin token (admin.kubeconfig) and
 * the cluster join token (node identity); /healthz, /livez and /readyz are
 * open to anyone.
 */
#ifndef PICOKUBE_APISERVER_H
#define PICOKUBE_APISERVER_H

#include <stdbool.h>
#include <uv.h>

#include "raftstore/raftstore.h"

typedef struct apiserver apiserver_t;

struct apiserver_config {
    uv_loop_t *loop;          /* the store's loop */
    store_t *store;
    const char *bind_host;    /* default "0.0.0.0" */
    int port;                 /* default 6443; 0 picks a free port */
    const char *cluster_token;/* the join token: node identity, internal endpoint */
    const char *service_cidr; /* default 10.43.0.0/16 */
    const char *cluster_cidr; /* default 10.42.0.0/16 */
    const char *advertise_ip; /* this master's address for the kubernetes Endpoints */
    /* TLS (PEM text). With tls_cert_pem NULL the API is plain HTTP (tests of
     * lower layers only: kubectl sends no token over http://). */
    const char *tls_cert_pem, *tls_key_pem;
    const char *ca_pem;     /* served to anyone at APISERVER_CACERTS_PATH */
    const char *ca_key_pem; /* served to joining masters (cluster token) */
};

/* Starts listening. Returns 0, or -1 with a message in err. */
int apiserver_start(const struct apiserver_config *cfg, apiserver_t **out, char *err,
                    size_t errlen);
/* The port actually bound. */
int apiserver_port(apiserver_t *a);
/* Sets the admin token once it is known (created at bootstrap, then read from
 * the store on every master). Until then only the cluster token works. */
void apiserver_set_admin_token(apiserver_t *a, const char *token);
/* Graceful stop: finishes requests in flight, then calls done(arg). */
void apiserver_stop(apiserver_t *a, void (*done)(void *arg), void *arg);

/* The store key holding the cluster's admin token. */
#define APISERVER_ADMIN_TOKEN_KEY "/picokube/admin-token"
/* GET: the cluster CA certificate, to anyone (a joiner checks its hash
 * against the token before trusting it). */
#define APISERVER_CACERTS_PATH "/cacerts"
/* GET: the cluster CA key, for a joining master (cluster token only). */
#define APISERVER_CAKEY_PATH "/picokube/ca-key"
/* GET: a backup of the store (admin only). */
#define APISERVER_BACKUP_PATH "/picokube/backup"

#endif /* PICOKUBE_APISERVER_H */
