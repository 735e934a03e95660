/*
 * rules_model.c - Services and Endpoints (v1 JSON) to one record per
 * service port: its virtual addresses, its policies and its ready
 * endpoints, with the chain names kube-proxy's iptables mode would give them.
 *
 * Everything that ends up in iptables-restore input is validated here (IPv4
 * addresses re-printed from their parsed form, names restricted to DNS
 * characters), so a hostile object can never inject a line into the input.
 * Chain names are hashes; two service ports whose names would collide are
 * detected and the later one is dropped rather than silently merged.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_int.h"

int pk_opts_cidr(struct pk_opts *o, const char *cidr, const char *what, char *err, size_t errlen)
{
    char ip[32];
    const char *slash = cidr ? strchr(cidr, '/') : NULL;
    if (!slash || (size_t)(slash - cidr) >= sizeof(ip)) goto bad;
    memcpy(ip, cidr, (size_t)(slash - cidr));
    ip[slash - cidr] = 0;
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    struct in_addr a;
    if (*end || end == slash + 1 || bits < 0 || bits > 32 || inet_pton(AF_INET, ip, &a) != 1)
        goto bad;
    o->cluster_mask = bits ? 0xffffffffu << (32 - bits) : 0;
    o->cluster_net = ntohl(a.s_addr) & o->cluster_mask;
    struct in_addr n = {.s_addr = htonl(o->cluster_net)};
    char nbuf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &n, nbuf, sizeof(nbuf));
    snprintf(o->cluster_cidr, sizeof(o->cluster_cidr), "%s/%ld", nbuf, bits);
    return 0;
bad:
    snprintf(err, errlen, "%s \"%s\" is not an IPv4 CIDR like 10.42.0.0/16", what,
             cidr ? cidr : "");
    return -1;
}

void pk_chain_hash(const char *s1, const char *s2, const char *s3, char out[14])
{
    /* FNV-1a 64: stable across builds and machines, which chain names must be. */
    uint64_t h = 0xcbf29ce484222325ull;
    const char *parts[3] = {s1, s2, s3};
    for (int i = 0; i < 3; i++) {
        for (const unsigned char *p = (const unsigned char *)(parts[i] ? parts[i] : ""); *p; p++)
            h = (h ^ *p) * 0x100000001b3ull;
        h = (h ^ 0xff) * 0x100000001b3ull; /* separator: "ab"+"c" differs from "a"+"bc" */
    }
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    for (int i = 0; i < 12; i++)
        out[i] = b32[(h >> (59 - 5 * i)) & 31];
    out[12] = b32[(h & 15) << 1]; /* the last 4 bits, padded */
    out[13] = 0;
}

/* Canonical dotted IPv4 into out, or false (IPv6 and garbage alike). */
static bool ipv4(const char *s, char out[16])
{
    struct in_addr a;
    if (!s || inet_pton(AF_INET, s, &a) != 1) return false;
    return inet_ntop(AF_INET, &a, out, 16) != NULL;
}

/* Names that go into comments and hashes: DNS characters only. */
static bool dns_chars(const char *s, size_t max, bool empty_ok)
{
    if (!s) return empty_ok;
    size_t n = strlen(s);
    if (n > max || (!n && !empty_ok)) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '.' || *s == '_'))
            return false;
    return true;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 65535) return 0;
    return (int)v->valuedouble;
}

static const cJSON *path(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    return b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
}

/* "TCP" (default), "UDP", "SCTP" to iptables' names; NULL when unknown. */
static const char *proto_of(const char *p)
{
    if (!p || !strcmp(p, "TCP")) return "tcp";
    if (!strcmp(p, "UDP")) return "udp";
    if (!strcmp(p, "SCTP")) return "sctp";
    return NULL;
}

struct ep_index {
    char key[260];
    const cJSON *obj;
};

static int ep_index_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ep_index *)a)->key, ((const struct ep_index *)b)->key);
}

/* "ns/name" into key. Service names are at most 63 characters (DNS-1035
 * labels); with port names of at most 15 every comment stays well under
 * iptables' 256, which a longer one would make fail the whole restore. */
static bool obj_key(const cJSON *obj, size_t name_max, char *key, size_t len)
{
    const char *ns = str(path(obj, "metadata", NULL), "namespace");
    const char *name = str(path(obj, "metadata", NULL), "name");
    if (!ns || !*ns) ns = "default";
    if (!dns_chars(ns, 63, false) || !dns_chars(name, name_max, false)) return false;
    snprintf(key, len, "%s/%s", ns, name);
    return true;
}

/* Numeric order of two canonical dotted IPv4 strings. */
static int ip_cmp(const void *a, const void *b)
{
    struct in_addr ia = {0}, ib = {0};
    inet_pton(AF_INET, (const char *)a, &ia);
    inet_pton(AF_INET, (const char *)b, &ib);
    uint32_t u = ntohl(ia.s_addr), v = ntohl(ib.s_addr);
    return (u > v) - (u < v);
}

static int ep_cmp(const void *a, const void *b)
{
    const struct pk_ep *x = a, *y = b;
    int c = ip_cmp(x->ip, y->ip);
    return c ? c : x->port - y->port;
}

/* The ready endpoints of Endpoints `eo` for the port named pname / proto. */
static int collect_eps(struct pk_svcport *sp, const cJSON *eo, const char *pname,
                       const struct pk_opts *o)
{
    const cJSON *subset;
    size_t cap = 0;
    cJSON_ArrayForEach(subset, cJSON_GetObjectItemCaseSensitive(eo, "subsets"))
    {
        int port = 0;
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(subset, "ports"))
        {
            const char *n = str(p, "name");
            const char *pr = proto_of(str(p, "protocol"));
            if (strcmp(n ? n : "", pname) || !pr || strcmp(pr, sp->proto)) continue;
            port = num(p, "port");
            break;
        }
        if (port <= 0) continue;
        const cJSON *a;
        cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(subset, "addresses"))
        {
            struct pk_ep e = {.port = port};
            if (!ipv4(str(a, "ip"), e.ip)) continue;
            const char *node = str(a, "nodeName");
            e.local = o->node_name && *o->node_name && node && !strcmp(node, o->node_name);
            if (sp->n_eps == cap) {
                cap = cap ? cap * 2 : 4;
                struct pk_ep *v = realloc(sp->eps, cap * sizeof(*v));
                if (!v) return -1;
                sp->eps = v;
            }
            sp->eps[sp->n_eps++] = e;
        }
    }
    if (sp->n_eps) qsort(sp->eps, sp->n_eps, sizeof(*sp->eps), ep_cmp);
    size_t w = 0; /* an address listed in two subsets is one endpoint */
    for (size_t i = 0; i < sp->n_eps; i++)
        if (!w || ep_cmp(&sp->eps[w - 1], &sp->eps[i])) sp->eps[w++] = sp->eps[i];
    sp->n_eps = w;
    for (size_t i = 0; i < sp->n_eps; i++) {
        char epstr[32], h[14];
        snprintf(epstr, sizeof(epstr), "%s:%d", sp->eps[i].ip, sp->eps[i].port);
        pk_chain_hash(sp->name, sp->proto, epstr, h);
        snprintf(sp->eps[i].sep, PK_CHAIN_MAX, "PICOKUBE-SEP-%s", h);
    }
    return 0;
}

static int add_ip(struct pk_svcport *sp, const char *s, size_t *cap)
{
    char ip[16];
    if (!ipv4(s, ip)) return 0;
    for (size_t i = 0; i < sp->n_ext; i++)
        if (!strcmp(sp->ext_ips[i], ip)) return 0;
    if (sp->n_ext == *cap) {
        *cap = *cap ? *cap * 2 : 2;
        char(*v)[16] = realloc(sp->ext_ips, *cap * sizeof(*v));
        if (!v) return -1;
        sp->ext_ips = v;
    }
    memcpy(sp->ext_ips[sp->n_ext++], ip, 16);
    return 0;
}

static void svcport_free(struct pk_svcport *sp)
{
    free(sp->ext_ips);
    free(sp->eps);
}

/* Appends the ports of one Service. */
static int add_service(struct pk_model *m, size_t *cap, const cJSON *svc,
                       const struct ep_index *idx, size_t n_idx, const struct pk_opts *o)
{
    char key[260], cip[16];
    const cJSON *spec = path(svc, "spec", NULL);
    const char *type = str(spec, "type");
    if (!type) type = "ClusterIP";
    if (!strcmp(type, "ExternalName")) return 0;
    if (!obj_key(svc, 63, key, sizeof(key))) {
        m->skipped++;
        return 0;
    }
    if (!ipv4(str(spec, "clusterIP"), cip)) return 0; /* headless, unallocated or IPv6 */
    bool nodeports = !strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer");
    struct ep_index probe;
    snprintf(probe.key, sizeof(probe.key), "%s", key);
    const struct ep_index *ei =
        n_idx ? bsearch(&probe, idx, n_idx, sizeof(*idx), ep_index_cmp) : NULL;
    int affinity = 0;
    if (str(spec, "sessionAffinity") && !strcmp(str(spec, "sessionAffinity"), "ClientIP")) {
        const cJSON *t =
            path(path(spec, "sessionAffinityConfig", "clientIP"), "timeoutSeconds", NULL);
        affinity = cJSON_IsNumber(t) && t->valuedouble >= 1 && t->valuedouble <= 86400
                       ? (int)t->valuedouble
                       : 10800;
    }
    const char *etp = str(spec, "externalTrafficPolicy"), *itp = str(spec, "internalTrafficPolicy");
    const cJSON *port;
    cJSON_ArrayForEach(port, cJSON_GetObjectItemCaseSensitive(spec, "ports"))
    {
        const char *pname = str(port, "name");
        const char *proto = proto_of(str(port, "protocol"));
        int pnum = num(port, "port");
        if (!dns_chars(pname, 15, true) || !proto || pnum <= 0) {
            m->skipped++;
            continue;
        }
        if (m->n == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            struct pk_svcport *v = realloc(m->v, nc * sizeof(*v));
            if (!v) return -1;
            m->v = v;
            *cap = nc;
        }
        struct pk_svcport *sp = &m->v[m->n];
        memset(sp, 0, sizeof(*sp));
        if (pname && *pname)
            snprintf(sp->name, sizeof(sp->name), "%s:%s", key, pname);
        else
            snprintf(sp->name, sizeof(sp->name), "%s", key);
        sp->proto = proto;
        memcpy(sp->cluster_ip, cip, 16);
        sp->port = pnum;
        sp->node_port = nodeports ? num(port, "nodePort") : 0;
        sp->affinity_s = affinity;
        size_t icap = 0;
        const cJSON *ip;
        int rc = 0;
        cJSON_ArrayForEach(ip, cJSON_GetObjectItemCaseSensitive(spec, "externalIPs"))
        {
            if (cJSON_IsString(ip)) rc |= add_ip(sp, ip->valuestring, &icap);
        }
        if (!strcmp(type, "LoadBalancer")) {
            cJSON_ArrayForEach(ip, path(path(svc, "status", "loadBalancer"), "ingress", NULL))
            {
                rc |= add_ip(sp, str(ip, "ip"), &icap);
            }
        }
        if (sp->n_ext) qsort(sp->ext_ips, sp->n_ext, sizeof(*sp->ext_ips), ip_cmp);
        bool external = sp->node_port > 0 || sp->n_ext > 0;
        sp->ext_local = external && etp && !strcmp(etp, "Local");
        sp->int_local = itp && !strcmp(itp, "Local");
        char h[14];
        pk_chain_hash(sp->name, sp->proto, NULL, h);
        snprintf(sp->svc, PK_CHAIN_MAX, "PICOKUBE-SVC-%s", h);
        snprintf(sp->svl, PK_CHAIN_MAX, "PICOKUBE-SVL-%s", h);
        snprintf(sp->ext, PK_CHAIN_MAX, "PICOKUBE-EXT-%s", h);
        if (rc || (ei && collect_eps(sp, ei->obj, pname ? pname : "", o) < 0)) {
            svcport_free(sp);
            return -1;
        }
        m->n++;
    }
    return 0;
}

static int sp_cmp(const void *a, const void *b)
{
    const struct pk_svcport *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (!c) c = strcmp(x->proto, y->proto);
    /* Only invalid data (a port name twice) gets past here; still a total order. */
    if (!c) c = x->port - y->port;
    if (!c) c = x->node_port - y->node_port;
    return c;
}

struct owner {
    const char *name;
    size_t sp;
};

static int owner_cmp(const void *a, const void *b)
{
    const struct owner *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->sp > y->sp) - (x->sp < y->sp);
}

/* Drops service ports whose chain names another one already uses. */
static int drop_collisions(struct pk_model *m)
{
    size_t n = m->n;
    for (size_t i = 0; i < m->n; i++)
        n += m->v[i].n_eps;
    struct owner *o = malloc((n ? n : 1) * sizeof(*o));
    bool *drop = calloc(m->n ? m->n : 1, sizeof(*drop));
    if (!o || !drop) {
        free(o);
        free(drop);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        o[k++] = (struct owner){m->v[i].svc, i};
        for (size_t j = 0; j < m->v[i].n_eps; j++)
            o[k++] = (struct owner){m->v[i].eps[j].sep, i};
    }
    qsort(o, k, sizeof(*o), owner_cmp);
    for (size_t i = 1; i < k; i++)
        if (!strcmp(o[i].name, o[i - 1].name) && o[i].sp != o[i - 1].sp) drop[o[i].sp] = true;
    size_t w = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (drop[i]) {
            svcport_free(&m->v[i]);
            m->skipped++;
        } else {
            m->v[w++] = m->v[i];
        }
    }
    m->n = w;
    free(o);
    free(drop);
    return 0;
}

int pk_model_build(const cJSON *const *svcs, size_t n_svcs, const cJSON *const *eps, size_t n_eps,
                   const struct pk_opts *o, struct pk_model *out)
{
    memset(out, 0, sizeof(*out));
    struct ep_index *idx = malloc((n_eps ? n_eps : 1) * sizeof(*idx));
    if (!idx) return -1;
    size_t n_idx = 0;
    for (size_t i = 0; i < n_eps; i++)
        if (obj_key(eps[i], 253, idx[n_idx].key, sizeof(idx[n_idx].key))) idx[n_idx++].obj = eps[i];
    qsort(idx, n_idx, sizeof(*idx), ep_index_cmp);
    size_t cap = 0;
    int rc = 0;
    for (size_t i = 0; i < n_svcs && rc == 0; i++)
        rc = add_service(out, &cap, svcs[i], idx, n_idx, o);
    free(idx);
    if (rc == 0 && out->n) qsort(out->v, out->n, sizeof(*out->v), sp_cmp);
    if (rc == 0) rc = drop_collisions(out);
    if (rc < 0) pk_model_free(out);
    return rc;
}

void pk_model_free(struct pk_model *m)
{
    for (size_t i = 0; i < m->n; i++)
        svcport_free(&m->v[i]);
    free(m->v);
    memset(m, 0, sizeof(*m));
}
