/*
 * proxy_int.h - private to proxy/: the pure rule generator (model, chains,
 * iptables-restore text) and the system side (exec of iptables and ip).
 *
 * The generator is split from the system side so that the rules kube-proxy's
 * iptables mode would write can be checked byte for byte by unit tests,
 * without root and without iptables.
 */
#ifndef PICOKUBE_PROXY_INT_H
#define PICOKUBE_PROXY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* iptables chain names are at most 28 characters. */
#define PK_CHAIN_MAX 29
/* The bit marking packets to masquerade on the way out (kube-proxy's). */
#define PK_MASQ_MARK "0x4000"

/* ---------------------------------------------------------------- buf.c */

/* A growable NUL-terminated string; failed appends set oom and are dropped. */
struct pk_buf {
    char *s;
    size_t len, cap;
    bool oom;
};
void pk_buf_printf(struct pk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pk_buf_append(struct pk_buf *b, const char *s, size_t n);
/* Hands the string over (never NULL unless oom; "" when empty) and resets b. */
char *pk_buf_take(struct pk_buf *b);
void pk_buf_free(struct pk_buf *b);

/* ----------------------------------------------------------- rules_model.c
 * Services and Endpoints (v1, cJSON) to one record per service port. */

enum pk_table { PK_NAT = 0, PK_FILTER = 1, PK_NTABLES = 2 };

struct pk_opts {
    uint32_t cluster_net, cluster_mask; /* host order */
    char cluster_cidr[20];              /* "10.42.0.0/16" */
    const char *node_name;              /* NULL or "": no endpoint is local */
    bool localhost_nodeports;           /* NodePorts also answer on 127.0.0.1 */
};

/* Parses "a.b.c.d/n" into o's cluster fields (the rest is kept). Returns 0
 * or -1 with a message naming it `what` ("service CIDR"). */
int pk_opts_cidr(struct pk_opts *o, const char *cidr, const char *what, char *err, size_t errlen);

struct pk_ep {
    char ip[16];
    int port;
    bool local;
    char sep[PK_CHAIN_MAX];
};

struct pk_svcport {
    char name[300];    /* kube-proxy's ServicePortName: "ns/svc:port" ("ns/svc" when unnamed) */
    const char *proto; /* "tcp", "udp", "sctp" */
    char cluster_ip[16];
    int port, node_port;
    char (*ext_ips)[16]; /* externalIPs and LoadBalancer ingress IPs, sorted, unique */
    size_t n_ext;
    int affinity_s; /* ClientIP affinity timeout, 0: none */
    bool ext_local, int_local;
    struct pk_ep *eps; /* ready endpoints, sorted by address then port */
    size_t n_eps;
    char svc[PK_CHAIN_MAX], svl[PK_CHAIN_MAX], ext[PK_CHAIN_MAX];
};

struct pk_model {
    struct pk_svcport *v; /* sorted by chain-name key, unique chain names */
    size_t n;
    size_t skipped; /* service ports dropped (bad data, chain-name collision) */
};

/* Builds the model from arrays of Service and Endpoints objects. Objects
 * that picokube cannot program (headless, ExternalName, no IPv4 ClusterIP)
 * are skipped as kube-proxy skips them; malformed parts are skipped and
 * counted. Returns 0, or -1 when out of memory. */
int pk_model_build(const cJSON *const *svcs, size_t n_svcs, const cJSON *const *eps, size_t n_eps,
                   const struct pk_opts *o, struct pk_model *out);
void pk_model_free(struct pk_model *m);

/* The 13-character hash kube-proxy-style chain names end with. */
void pk_chain_hash(const char *s1, const char *s2, const char *s3, char out[14]);

/* ------------------------------------------------------------- rules_gen.c
 * The model to chains. A ruleset is the content of every PICOKUBE-* chain
 * of both tables, sorted by (table, name). */

struct pk_chain {
    enum pk_table table;
    char name[PK_CHAIN_MAX];
    char *rules; /* "-A NAME ...\n" lines; NULL: exists, content unknown */
    size_t len;
};

struct pk_ruleset {
    struct pk_chain *v;
    size_t n, cap;
};

int pk_rules_generate(const struct pk_model *m, const struct pk_opts *o, struct pk_ruleset *out);
void pk_ruleset_free(struct pk_ruleset *rs);
/* Same chains with the same content (unknown content is never equal). */
bool pk_ruleset_equal(const struct pk_ruleset *a, const struct pk_ruleset *b);
/* The chain of that table and name, or NULL. */
const struct pk_chain *pk_ruleset_find(const struct pk_ruleset *rs, enum pk_table t,
                                       const char *name);
/* Appends a chain (rules NULL: content unknown, len then a rule count);
 * -1 on oom. pk_ruleset_sort restores the order afterwards. */
int pk_ruleset_add(struct pk_ruleset *rs, enum pk_table t, const char *name, const char *rules,
                   size_t len);
/* Sorts by (table, name); a chain appended twice (callers avoid it) is kept once. */
void pk_ruleset_sort(struct pk_ruleset *rs);

/* ---------------------------------------------------------- rules_render.c */

/* iptables-restore --noflush input taking the kernel from `prev` (what was
 * written last, or chains found with unknown content; NULL: nothing known)
 * to `next`: chains whose content changed (or is unknown) are flushed and
 * rewritten, unchanged ones are left out, chains of prev absent from next
 * are flushed and deleted. `*n_written` (may be NULL) counts the chains
 * written. NULL when out of memory. */
char *pk_render(const struct pk_ruleset *next, const struct pk_ruleset *prev, size_t *len,
                size_t *n_written);
/* iptables-restore --noflush input that flushes and deletes every chain of
 * `existing` (run after the jump rules are gone). */
char *pk_render_cleanup(const struct pk_ruleset *existing, size_t *len);

/* The rules in built-in chains that lead to ours, kube-proxy's set. */
struct pk_jump {
    enum pk_table table;
    const char *chain;    /* built-in chain */
    const char *args[12]; /* rule spec after the chain, NULL-terminated */
};
const struct pk_jump *pk_jumps(size_t *n);
const char *pk_table_name(enum pk_table t);

/* Parses iptables-save output (nat and filter sections) into out: every
 * PICOKUBE-* chain declared, content unknown (rules NULL), with its number
 * of "-A" lines as len. Returns 0 or -1 on oom. */
int pk_parse_save(const char *text, struct pk_ruleset *out);

/* ---------------------------------------------------------------- exec.c */

/* Runs argv (argv[0] looked up in PATH) with `in` on stdin; stdout (and
 * stderr, after it) into *out when out is non-NULL (malloc'd, NUL-terminated).
 * Gives up after timeout_ms, killing the child. Returns the exit status
 * (0..255), or -1 when it could not run or was killed, with a message. */
int pk_exec(const char *const *argv, const char *in, size_t in_len, char **out, unsigned timeout_ms,
            char *err, size_t errlen);

/* ------------------------------------------------------------ iptables.c */

struct pk_ipt {
    const char *iptables, *restore, *save; /* commands, looked up in PATH */
};

/* Writes `text` with iptables-restore --noflush. 0 or -1 with a message. */
int pk_ipt_restore(const struct pk_ipt *ipt, const char *text, size_t len, char *err,
                   size_t errlen);
/* PICOKUBE-* chains of both tables now, with their rule counts as len. */
int pk_ipt_list(const struct pk_ipt *ipt, struct pk_ruleset *out, char *err, size_t errlen);
/* Inserts each missing jump rule (checked with -C). 0 or -1. */
int pk_ipt_ensure_jumps(const struct pk_ipt *ipt, char *err, size_t errlen);
/* Removes every jump rule, then flushes and deletes every PICOKUBE-* chain. */
int pk_ipt_cleanup(const struct pk_ipt *ipt, char *err, size_t errlen);

/* --------------------------------------------------------------- route.c */

/* The device the service CIDR is routed to (a veth pair, both ends here). */
#define PK_SVC_DEV "pk-svc"
#define PK_SVC_PEER "pk-svc-peer"

/* Makes sure PK_SVC_DEV exists and is up and `cidr` is routed to it. */
int pk_route_ensure(const char *cidr, char *err, size_t errlen);
/* Removes the device (and with it the route); absent is fine. */
int pk_route_remove(char *err, size_t errlen);
/* Sets net.ipv4.conf.all.route_localnet=1 (NodePorts on 127.0.0.1). */
int pk_route_localnet(char *err, size_t errlen);

/* ---------------------------------------------------------------- sync.c
 * Objects to kernel, remembering what was written so that an unchanged
 * input costs no iptables call and a change rewrites only its chains. */

struct proxy_config;

struct pk_syncer {
    struct pk_opts opts;
    char *node_name; /* owned; opts.node_name points here */
    struct pk_ipt ipt;
    char service_cidr[20];
    bool manage_route;
    struct pk_ruleset written; /* what the kernel holds, when known */
    bool known;                /* false: discover chains, write everything */
    size_t service_ports, chains_written;
    unsigned long restores, unchanged;
    double gen_ms, write_ms; /* the last sync's two halves */
};

int pk_syncer_init(struct pk_syncer *s, const struct proxy_config *cfg, char *err, size_t errlen);
void pk_syncer_free(struct pk_syncer *s);
/* 1 when rules were written, 0 when nothing changed, -1 on error (the next
 * sync then starts over from what the kernel has). */
int pk_syncer_sync(struct pk_syncer *s, const cJSON *const *svcs, size_t n_svcs,
                   const cJSON *const *eps, size_t n_eps, char *err, size_t errlen);
/* Compares the kernel's PICOKUBE-* chains (names, rule counts) and the jump
 * rules with what was written; on drift, forgets it so that the next sync
 * rewrites everything. 1 drift, 0 in order, -1 error. */
int pk_syncer_check(struct pk_syncer *s, char *err, size_t errlen);

/* --------------------------------------------------------------- watch.c
 * The API side: informers on Services and Endpoints (api/api.h). */

struct api_client;
struct api_informer;

struct pk_watch {
    struct api_informer *svcs, *eps;
    void (*changed)(void *data); /* any add, update, delete, or first sync */
    void *data;
};

int pk_watch_start(struct pk_watch *w, struct api_client *c, void (*changed)(void *data),
                   void *data);
void pk_watch_stop(struct pk_watch *w);
bool pk_watch_synced(const struct pk_watch *w);
/* Pointers to every cached Service and Endpoints (malloc'd arrays, objects
 * owned by the informers: use before the loop turns). -1 on oom. */
int pk_watch_objects(const struct pk_watch *w, const cJSON ***svcs, size_t *n_svcs,
                     const cJSON ***eps, size_t *n_eps);

#endif
