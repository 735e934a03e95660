/*
 * apiserver_int.h - what the files of apiserver/ share (private).
 *
 *   server.c   HTTP front, authentication, health, metrics, internal routing
 *   rest.c     the Kubernetes REST layer (resources, verbs, watches)
 */
#ifndef PICOKUBE_APISERVER_INT_H
#define PICOKUBE_APISERVER_INT_H

#include "apiserver/apiserver.h"
#include "lib/lib.h"

enum api_identity { API_ID_ANONYMOUS, API_ID_INVALID, API_ID_NODE, API_ID_ADMIN };

struct apiserver {
    uv_loop_t *loop;
    store_t *store;
    http_server_t *http;
    char *admin_token;
    char *cluster_token;
    char *ca_pem, *ca_key_pem;
    /* REST layer (rest_int.h) */
    char advertise_ip[64]; /* this master's address (kubernetes Endpoints, /api) */
    char service_cidr[32]; /* clusterIPs are allocated from here */
    struct rest_bg *bg;    /* leader-side background work (namespaces.c) */
};

enum api_identity api_authenticate(apiserver_t *a, http_req_t *req);

/* rest.c */
void api_rest_handle(apiserver_t *a, http_req_t *req, enum api_identity id);
/* Replies with a metav1.Status. */
void api_reply_status(http_req_t *req, int code, const char *reason, const char *message);
/* namespaces.c: bootstrap objects and namespace termination; stop before free. */
void rest_bg_start(apiserver_t *a);
void rest_bg_stop(apiserver_t *a);

#endif /* PICOKUBE_APISERVER_INT_H */
