/*
 * cmd.h - the subcommands of build/picokube (private to cmd/).
 */
#ifndef PICOKUBE_CMD_H
#define PICOKUBE_CMD_H

#include <stdbool.h>
#include <stddef.h>

int cmd_server(int argc, char **argv);
int cmd_member(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_proxy(int argc, char **argv);
int cmd_controller(int argc, char **argv);
int cmd_scheduler(int argc, char **argv);

int cmd_agent(int argc, char **argv);
int cmd_images(int argc, char **argv);

/* The node side of a master or worker: the node agent on its own thread and
 * the service proxy (node.c). */
struct node_side;
struct node_side_config {
    const char *servers;   /* API URL(s) */
    const char *token;     /* the cluster token (node identity) */
    const char *node_name; /* NULL: host name */
    const char *node_ip;   /* NULL: the default route's address */
    const char *data_dir;
    bool control_plane;
};
int node_side_start(const struct node_side_config *c, struct node_side **out, char *err,
                    size_t errlen);
void node_side_stop(struct node_side *n);

/* The cluster's TLS material (tls_boot.c). */
struct cluster_tls {
    char *ca_pem, *ca_key_pem, *cert_pem, *key_pem;
    char ca_hash[65];
};
/* A master: loads <data_dir>/tls, or creates the CA (new cluster), or fetches
 * it from join_url after checking it against the token; issues the API's
 * serving certificate when missing; makes the CA the default of lib's HTTP
 * clients. 0, or -1 with a message. */
int tls_boot_master(const char *data_dir, const char *join_url, const char *token,
                    const char *advertise_ip, struct cluster_tls *t, char *err, size_t errlen);
/* Fetches the CA behind url and checks it against the token's hash. */
int tls_fetch_ca(const char *url, const char *token, char **ca_pem, char *err, size_t errlen);
/* The CA hash of a K10<hash>::server:<secret> token. */
int tls_token_hash(const char *token, char hash[65]);
void tls_free(struct cluster_tls *t);

/* The first non-loopback IPv4 address of an interface that is up, else
 * 127.0.0.1, into buf. Used as the default advertised address. */
void cmd_primary_ip(char *buf, size_t len);

#endif
