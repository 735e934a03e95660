/*
 * rules_gen.c - the model to the PICOKUBE-* chains kube-proxy's iptables
 * mode writes (KUBE-* there), rule for rule:
 *
 *   nat    PICOKUBE-SERVICES    ClusterIP and external IPs -> SVC/SVL/EXT;
 *                               last, local destinations -> NODEPORTS
 *          PICOKUBE-NODEPORTS   NodePorts -> EXT
 *          PICOKUBE-EXT-<h>     external traffic: masquerade (Cluster policy)
 *                               or keep the source (Local), then SVC/SVL
 *          PICOKUBE-SVC-<h>     all ready endpoints, random, with affinity
 *          PICOKUBE-SVL-<h>     this node's ready endpoints (Local policies)
 *          PICOKUBE-SEP-<h>     one endpoint: hairpin masquerade, DNAT
 *          PICOKUBE-MARK-MASQ, PICOKUBE-POSTROUTING  mark, then masquerade
 *   filter PICOKUBE-SERVICES, PICOKUBE-EXTERNAL-SERVICES
 *                               REJECT (no endpoints) / DROP (none local)
 *          PICOKUBE-FORWARD     accept marked and established forwarding
 *          PICOKUBE-FIREWALL    drop martian packets to 127/8 (route_localnet)
 *
 * Output is a function of the input only, in a fixed order, so unchanged
 * input gives byte-identical chains and the caller can skip iptables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_int.h"

static int chain_cmp(enum pk_table ta, const char *na, enum pk_table tb, const char *nb)
{
    if (ta != tb) return ta < tb ? -1 : 1;
    return strcmp(na, nb);
}

int pk_ruleset_add(struct pk_ruleset *rs, enum pk_table t, const char *name, const char *rules,
                   size_t len)
{
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 64;
        struct pk_chain *v = realloc(rs->v, cap * sizeof(*v));
        if (!v) return -1;
        rs->v = v;
        rs->cap = cap;
    }
    struct pk_chain *c = &rs->v[rs->n];
    memset(c, 0, sizeof(*c));
    if (rules) {
        c->rules = malloc(len + 1);
        if (!c->rules) return -1;
        memcpy(c->rules, rules, len);
        c->rules[len] = 0;
    }
    c->table = t;
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->len = len;
    rs->n++;
    return 0;
}

static int pk_chain_cmp(const void *a, const void *b)
{
    const struct pk_chain *x = a, *y = b;
    return chain_cmp(x->table, x->name, y->table, y->name);
}

void pk_ruleset_sort(struct pk_ruleset *rs)
{
    if (rs->n) qsort(rs->v, rs->n, sizeof(*rs->v), pk_chain_cmp);
    size_t w = 0;
    for (size_t i = 0; i < rs->n; i++) {
        if (w && !pk_chain_cmp(&rs->v[w - 1], &rs->v[i])) {
            free(rs->v[i].rules); /* a chain is declared once */
            continue;
        }
        rs->v[w++] = rs->v[i];
    }
    rs->n = w;
}

void pk_ruleset_free(struct pk_ruleset *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        free(rs->v[i].rules);
    free(rs->v);
    memset(rs, 0, sizeof(*rs));
}

const struct pk_chain *pk_ruleset_find(const struct pk_ruleset *rs, enum pk_table t,
                                       const char *name)
{
    size_t lo = 0, hi = rs->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = chain_cmp(rs->v[mid].table, rs->v[mid].name, t, name);
        if (!c) return &rs->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool pk_ruleset_equal(const struct pk_ruleset *a, const struct pk_ruleset *b)
{
    if (a->n != b->n) return false;
    for (size_t i = 0; i < a->n; i++) {
        const struct pk_chain *x = &a->v[i], *y = &b->v[i];
        if (x->table != y->table || strcmp(x->name, y->name) || !x->rules || !y->rules ||
            x->len != y->len || memcmp(x->rules, y->rules, x->len))
            return false;
    }
    return true;
}

/* The fixed chains, written into while walking the service ports. */
struct gen {
    struct pk_buf nat_services, nat_nodeports, filter_services, filter_external;
    struct pk_buf chain; /* the per-service chain being built */
    struct pk_ruleset *rs;
    const struct pk_opts *o;
    int rc;
};

static void flush_chain(struct gen *g, const char *name)
{
    if (g->chain.oom) g->rc = -1;
    if (g->rc == 0 &&
        pk_ruleset_add(g->rs, PK_NAT, name, g->chain.s ? g->chain.s : "", g->chain.len) < 0)
        g->rc = -1;
    g->chain.len = 0;
    if (g->chain.s) g->chain.s[0] = 0;
}

/* Affinity then random balancing from `chain` over eps (kube-proxy's
 * writeServiceToEndpointRules). Rule i matches with 1/(n-i), so each of n
 * endpoints gets 1/n of new connections; the last rule always matches. */
static void endpoint_rules(struct gen *g, const struct pk_svcport *sp, const char *chain,
                           bool local_only)
{
    size_t n = 0;
    for (size_t i = 0; i < sp->n_eps; i++)
        n += !local_only || sp->eps[i].local;
    if (sp->affinity_s) {
        for (size_t i = 0; i < sp->n_eps; i++) {
            const struct pk_ep *e = &sp->eps[i];
            if (local_only && !e->local) continue;
            pk_buf_printf(&g->chain,
                          "-A %s -m comment --comment \"%s -> %s:%d\" -m recent --name %s "
                          "--rcheck --seconds %d --reap -j %s\n",
                          chain, sp->name, e->ip, e->port, e->sep, sp->affinity_s, e->sep);
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < sp->n_eps; i++) {
        const struct pk_ep *e = &sp->eps[i];
        if (local_only && !e->local) continue;
        pk_buf_printf(&g->chain, "-A %s -m comment --comment \"%s -> %s:%d\"", chain, sp->name,
                      e->ip, e->port);
        if (k < n - 1)
            pk_buf_printf(&g->chain, " -m statistic --mode random --probability %.10f",
                          1.0 / (double)(n - k));
        pk_buf_printf(&g->chain, " -j %s\n", e->sep);
        k++;
    }
}

static void service_port(struct gen *g, const struct pk_svcport *sp)
{
    const char *p = sp->proto;
    size_t n_local = 0;
    for (size_t i = 0; i < sp->n_eps; i++)
        n_local += sp->eps[i].local;
    bool external = sp->node_port > 0 || sp->n_ext > 0;
    /* Which endpoint sets the two traffic policies draw on (CategorizeEndpoints). */
    bool uses_cluster = !sp->int_local || (external && !sp->ext_local);
    bool uses_local = sp->int_local || (external && sp->ext_local);
    size_t n_cluster = uses_cluster ? sp->n_eps : 0;
    n_local = uses_local ? n_local : 0;
    bool has_eps = n_cluster > 0 || n_local > 0;
    const char *cluster_policy = sp->int_local ? sp->svl : sp->svc;
    const char *external_policy = sp->ext_local ? sp->svl : sp->svc;
    size_t n_internal = sp->int_local ? n_local : n_cluster;
    size_t n_external = sp->ext_local ? n_local : n_cluster;
    /* No endpoints at all: refuse at once. Endpoints elsewhere only: drop. */
    const char *filter_target = has_eps ? "DROP" : "REJECT";
    const char *filter_why = has_eps ? "has no local endpoints" : "has no endpoints";

    /* ClusterIP. The masquerade rule opens the internal chain, which is
     * built below; it is kept aside until then. */
    struct pk_buf masq = {0};
    if (n_internal > 0) {
        pk_buf_printf(&g->nat_services,
                      "-A PICOKUBE-SERVICES -m comment --comment \"%s cluster IP\" -m %s -p %s "
                      "-d %s --dport %d -j %s\n",
                      sp->name, p, p, sp->cluster_ip, sp->port, cluster_policy);
        pk_buf_printf(&masq,
                      "-A %s -m comment --comment \"%s cluster IP\" -m %s -p %s -d %s --dport %d "
                      "! -s %s -j PICOKUBE-MARK-MASQ\n",
                      cluster_policy, sp->name, p, p, sp->cluster_ip, sp->port, g->o->cluster_cidr);
    } else {
        pk_buf_printf(&g->filter_services,
                      "-A PICOKUBE-SERVICES -m comment --comment \"%s %s\" -m %s -p %s -d %s "
                      "--dport %d -j %s\n",
                      sp->name, filter_why, p, p, sp->cluster_ip, sp->port, filter_target);
    }

    /* External IPs (and LoadBalancer ingress IPs). */
    for (size_t i = 0; i < sp->n_ext; i++) {
        if (has_eps)
            pk_buf_printf(&g->nat_services,
                          "-A PICOKUBE-SERVICES -m comment --comment \"%s external IP\" -m %s "
                          "-p %s -d %s --dport %d -j %s\n",
                          sp->name, p, p, sp->ext_ips[i], sp->port, sp->ext);
        if (n_external == 0)
            pk_buf_printf(&g->filter_external,
                          "-A PICOKUBE-EXTERNAL-SERVICES -m comment --comment \"%s %s\" -m %s "
                          "-p %s -d %s --dport %d -j %s\n",
                          sp->name, filter_why, p, p, sp->ext_ips[i], sp->port, filter_target);
    }

    /* NodePort: any local address. */
    if (sp->node_port > 0) {
        if (has_eps)
            pk_buf_printf(&g->nat_nodeports,
                          "-A PICOKUBE-NODEPORTS -m comment --comment \"%s\" -m %s -p %s "
                          "--dport %d -j %s\n",
                          sp->name, p, p, sp->node_port, sp->ext);
        if (n_external == 0)
            pk_buf_printf(&g->filter_external,
                          "-A PICOKUBE-EXTERNAL-SERVICES -m comment --comment \"%s %s\" -m "
                          "addrtype --dst-type LOCAL -m %s -p %s --dport %d -j %s\n",
                          sp->name, filter_why, p, p, sp->node_port, filter_target);
    }

    /* EXT: traffic from outside reaches endpoints on other nodes only if
     * its replies come back through this node, hence the masquerade. With
     * the Local policy the client's address is kept, except for pods and
     * the node itself, which are sent the cluster way. */
    if (has_eps && external) {
        if (!sp->ext_local) {
            pk_buf_printf(&g->chain,
                          "-A %s -m comment --comment \"masquerade traffic for %s external "
                          "destinations\" -j PICOKUBE-MARK-MASQ\n",
                          sp->ext, sp->name);
        } else {
            pk_buf_printf(&g->chain,
                          "-A %s -m comment --comment \"pod traffic for %s external "
                          "destinations\" -s %s -j %s\n",
                          sp->ext, sp->name, g->o->cluster_cidr, cluster_policy);
            pk_buf_printf(&g->chain,
                          "-A %s -m comment --comment \"masquerade LOCAL traffic for %s external "
                          "destinations\" -m addrtype --src-type LOCAL -j PICOKUBE-MARK-MASQ\n",
                          sp->ext, sp->name);
            pk_buf_printf(&g->chain,
                          "-A %s -m comment --comment \"route LOCAL traffic for %s external "
                          "destinations\" -m addrtype --src-type LOCAL -j %s\n",
                          sp->ext, sp->name, cluster_policy);
        }
        if (n_external > 0) pk_buf_printf(&g->chain, "-A %s -j %s\n", sp->ext, external_policy);
        flush_chain(g, sp->ext);
    }

    /* SVC and SVL. */
    if (n_cluster > 0) {
        if (!sp->int_local) pk_buf_append(&g->chain, masq.s ? masq.s : "", masq.len);
        endpoint_rules(g, sp, sp->svc, false);
        flush_chain(g, sp->svc);
    }
    if (n_local > 0) {
        if (sp->int_local) pk_buf_append(&g->chain, masq.s ? masq.s : "", masq.len);
        endpoint_rules(g, sp, sp->svl, true);
        flush_chain(g, sp->svl);
    }
    if (masq.oom) g->rc = -1;
    pk_buf_free(&masq);

    /* SEP: one per endpoint in use. A pod reaching itself through the
     * service is masqueraded, or its reply would skip the reverse NAT. */
    for (size_t i = 0; i < sp->n_eps; i++) {
        const struct pk_ep *e = &sp->eps[i];
        if (!n_cluster && !(n_local && e->local)) continue;
        pk_buf_printf(&g->chain, "-A %s -m comment --comment \"%s\" -s %s -j PICOKUBE-MARK-MASQ\n",
                      e->sep, sp->name, e->ip);
        pk_buf_printf(&g->chain, "-A %s -m comment --comment \"%s\"", e->sep, sp->name);
        if (sp->affinity_s) pk_buf_printf(&g->chain, " -m recent --name %s --set", e->sep);
        pk_buf_printf(&g->chain, " -m %s -p %s -j DNAT --to-destination %s:%d\n", p, p, e->ip,
                      e->port);
        flush_chain(g, e->sep);
    }
}

static void add_fixed(struct gen *g, enum pk_table t, const char *name, struct pk_buf *b)
{
    if (b->oom) g->rc = -1;
    if (g->rc == 0 && pk_ruleset_add(g->rs, t, name, b->s ? b->s : "", b->len) < 0) g->rc = -1;
    pk_buf_free(b);
}

int pk_rules_generate(const struct pk_model *m, const struct pk_opts *o, struct pk_ruleset *out)
{
    memset(out, 0, sizeof(*out));
    struct gen g = {.rs = out, .o = o};
    for (size_t i = 0; i < m->n && g.rc == 0; i++)
        service_port(&g, &m->v[i]);
    pk_buf_printf(&g.nat_services,
                  "-A PICOKUBE-SERVICES -m comment --comment \"picokube service nodeports; NOTE: "
                  "this must be the last rule in this chain\" -m addrtype --dst-type LOCAL%s "
                  "-j PICOKUBE-NODEPORTS\n",
                  o->localhost_nodeports ? "" : " ! -d 127.0.0.0/8");
    add_fixed(&g, PK_NAT, "PICOKUBE-SERVICES", &g.nat_services);
    add_fixed(&g, PK_NAT, "PICOKUBE-NODEPORTS", &g.nat_nodeports);
    struct pk_buf b = {0};
    pk_buf_printf(&b, "-A PICOKUBE-MARK-MASQ -j MARK --or-mark " PK_MASQ_MARK "\n");
    add_fixed(&g, PK_NAT, "PICOKUBE-MARK-MASQ", &b);
    pk_buf_printf(&b, "-A PICOKUBE-POSTROUTING -m mark ! --mark " PK_MASQ_MARK "/" PK_MASQ_MARK
                      " -j RETURN\n"
                      "-A PICOKUBE-POSTROUTING -j MARK --xor-mark " PK_MASQ_MARK "\n"
                      "-A PICOKUBE-POSTROUTING -m comment --comment \"picokube service traffic "
                      "requiring SNAT\" -j MASQUERADE --random-fully\n");
    add_fixed(&g, PK_NAT, "PICOKUBE-POSTROUTING", &b);
    add_fixed(&g, PK_FILTER, "PICOKUBE-SERVICES", &g.filter_services);
    add_fixed(&g, PK_FILTER, "PICOKUBE-EXTERNAL-SERVICES", &g.filter_external);
    pk_buf_printf(&b,
                  "-A PICOKUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n"
                  "-A PICOKUBE-FORWARD -m comment --comment \"picokube forwarding rules\" -m mark "
                  "--mark " PK_MASQ_MARK "/" PK_MASQ_MARK " -j ACCEPT\n"
                  "-A PICOKUBE-FORWARD -m comment --comment \"picokube forwarding conntrack rule\" "
                  "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");
    add_fixed(&g, PK_FILTER, "PICOKUBE-FORWARD", &b);
    pk_buf_printf(&b, "-A PICOKUBE-FIREWALL -m comment --comment \"block incoming localnet "
                      "connections\" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate "
                      "RELATED,ESTABLISHED,DNAT -j DROP\n");
    add_fixed(&g, PK_FILTER, "PICOKUBE-FIREWALL", &b);
    pk_buf_free(&g.chain);
    pk_buf_free(&g.nat_services);
    pk_buf_free(&g.nat_nodeports);
    pk_buf_free(&g.filter_services);
    pk_buf_free(&g.filter_external);
    if (g.rc < 0)
        pk_ruleset_free(out);
    else
        pk_ruleset_sort(out);
    return g.rc;
}
