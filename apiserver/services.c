/*
 * services.c - what a Service holds from shared pools: its clusterIP(s)
 * from the service CIDR and its nodePorts from 30000-32767.
 *
 * Each address or port in use is a key in the store (/registry/ipalloc/<ip>,
 * /registry/portalloc/<port>, value "<namespace>/<name>") made with
 * store_create: two masters allocating at the same moment cannot both win,
 * whatever they believed was free. A requested address is honoured if free
 * and in range, else refused with Kubernetes' message (422). The first
 * address of the CIDR is kept for the `kubernetes` Service.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rest_int.h"

#define IP_PREFIX "/registry/ipalloc/"
#define PORT_PREFIX "/registry/portalloc/"
#define NODEPORT_MIN 30000
#define NODEPORT_MAX 32767
#define RANDOM_TRIES 16
#define MAX_HELD 64

struct alloc {
    apiserver_t *a;
    cJSON *svc;
    svc_alloc_done done;
    void *data;
    char owner[320];
    char held[MAX_HELD][48]; /* keys made by this allocation (rolled back on failure) */
    int n_held;
    int stage; /* 0: clusterIP, then 1 + port index */
    int tries;
    char field[64];
    char want[48]; /* a requested value, or "" for a random one */
    cJSON *old;    /* the stored version on update: what it holds is kept */
};

static void release_keys(apiserver_t *a, char (*keys)[48], int n);

static bool parse_cidr(const char *cidr, uint32_t *base, uint32_t *size)
{
    char ip[32];
    const char *slash = strchr(cidr, '/');
    if (!slash || (size_t)(slash - cidr) >= sizeof ip) return false;
    memcpy(ip, cidr, (size_t)(slash - cidr));
    ip[slash - cidr] = 0;
    struct in_addr in;
    int bits = atoi(slash + 1);
    if (inet_pton(AF_INET, ip, &in) != 1 || bits < 8 || bits > 30) return false;
    *size = 1u << (32 - bits);
    *base = ntohl(in.s_addr) & ~(*size - 1);
    return true;
}

static void ip_text(uint32_t ip, char *buf, size_t len)
{
    struct in_addr in = {.s_addr = htonl(ip)};
    inet_ntop(AF_INET, &in, buf, (socklen_t)len);
}

static const char *svc_type(const cJSON *svc)
{
    const cJSON *t =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(svc, "spec"), "type");
    return cJSON_IsString(t) ? t->valuestring : "ClusterIP";
}

static bool wants_node_ports(const cJSON *svc)
{
    const char *t = svc_type(svc);
    return !strcmp(t, "NodePort") || !strcmp(t, "LoadBalancer");
}

static cJSON *spec_of(const cJSON *svc)
{
    return cJSON_GetObjectItemCaseSensitive(svc, "spec");
}

static cJSON *port_at(const cJSON *svc, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(spec_of(svc), "ports"), i);
}

static void finish(struct alloc *al, cJSON *status)
{
    if (status) release_keys(al->a, al->held, al->n_held);
    cJSON_Delete(al->old);
    svc_alloc_done done = al->done;
    void *data = al->data;
    free(al);
    done(data, status);
}

static cJSON *invalid(struct alloc *al, const char *value, const char *detail)
{
    api_errors_t e = API_ERRORS_INIT;
    if (!strncmp(al->field, "spec.clusterIPs", 15))
        api_err_invalid(&e, al->field, value, detail);
    else
        api_err_invalid_int(&e, al->field, atoll(value), detail);
    cJSON *st = api_status_invalid("", "Service", api_meta_name(al->svc), &e);
    api_errors_free(&e);
    return st;
}

static void step(struct alloc *al);

static void made(const store_result_t *res, void *data)
{
    struct alloc *al = data;
    bool ip = al->stage == 0;
    if (res->err == STORE_OK) {
        if (al->n_held < MAX_HELD)
            snprintf(al->held[al->n_held++], sizeof al->held[0], "%s%.26s",
                     ip ? IP_PREFIX : PORT_PREFIX, al->want);
        if (ip) {
            cJSON *spec = spec_of(al->svc);
            cJSON_DeleteItemFromObjectCaseSensitive(spec, "clusterIP");
            cJSON_DeleteItemFromObjectCaseSensitive(spec, "clusterIPs");
            cJSON_AddStringToObject(spec, "clusterIP", al->want);
            cJSON *ips = cJSON_AddArrayToObject(spec, "clusterIPs");
            if (ips) cJSON_AddItemToArray(ips, cJSON_CreateString(al->want));
        } else {
            cJSON *p = port_at(al->svc, al->stage - 1);
            cJSON_DeleteItemFromObjectCaseSensitive(p, "nodePort");
            cJSON_AddNumberToObject(p, "nodePort", atoi(al->want));
        }
        al->stage++;
        al->tries = 0;
        al->want[0] = 0;
        step(al);
        return;
    }
    if (res->err == STORE_EEXIST && al->tries > 0 && al->tries < RANDOM_TRIES) {
        al->want[0] = 0;
        step(al);
        return;
    }
    if (res->err == STORE_EEXIST) {
        char detail[160];
        if (ip)
            snprintf(detail, sizeof detail, "failed to allocate IP %s: %s", al->want,
                     al->tries ? "range is full" : "provided IP is already allocated");
        else
            snprintf(detail, sizeof detail, "%s",
                     al->tries ? "range is full" : "provided port is already allocated");
        finish(al, invalid(al, al->want, detail));
        return;
    }
    finish(al, rest_store_err_status(NULL, res->err, NULL));
}

static void try_make(struct alloc *al, bool ip)
{
    char key[96];
    snprintf(key, sizeof key, "%s%s", ip ? IP_PREFIX : PORT_PREFIX, al->want);
    int rv = store_create(al->a->store, key, al->owner, strlen(al->owner), 0, made, al);
    if (rv != 0) finish(al, rest_store_err_status(NULL, rv, NULL));
}

static void step_ip(struct alloc *al)
{
    cJSON *spec = spec_of(al->svc);
    const cJSON *cip = cJSON_GetObjectItemCaseSensitive(spec, "clusterIP");
    const char *want = cJSON_IsString(cip) ? cip->valuestring : "";
    if (!*want) {
        /* clusterIPs alone asks for its first address, as Kubernetes reads it. */
        const cJSON *first =
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(spec, "clusterIPs"), 0);
        if (cJSON_IsString(first)) want = first->valuestring;
    }
    uint32_t base, size;
    if (!strcmp(svc_type(al->svc), "ExternalName") || !strcmp(want, "None") ||
        !parse_cidr(al->a->service_cidr, &base, &size)) {
        al->stage++;
        step(al);
        return;
    }
    snprintf(al->field, sizeof al->field, "spec.clusterIPs");
    if (al->tries == 0 && *want) {
        struct in_addr in;
        char detail[200];
        if (inet_pton(AF_INET, want, &in) != 1) {
            /* validation reports malformed addresses */
            al->stage++;
            step(al);
            return;
        }
        uint32_t ip = ntohl(in.s_addr);
        if (ip <= base || ip >= base + size - 1) {
            snprintf(detail, sizeof detail,
                     "failed to allocate IP %s: the provided IP (%s) is not in the valid range. "
                     "The range of valid IPs is %s",
                     want, want, al->a->service_cidr);
            finish(al, invalid(al, want, detail));
            return;
        }
        snprintf(al->want, sizeof al->want, "%s", want);
        try_make(al, true);
        return;
    }
    uint32_t r;
    random_bytes(&r, sizeof r);
    /* .0 is the network, .1 the kubernetes Service, the last the broadcast. */
    ip_text(base + 2 + r % (size - 3), al->want, sizeof al->want);
    al->tries++;
    try_make(al, true);
}

static void step_port(struct alloc *al, int i)
{
    cJSON *p = port_at(al->svc, i);
    const cJSON *np = cJSON_GetObjectItemCaseSensitive(p, "nodePort");
    long want = cJSON_IsNumber(np) ? (long)np->valuedouble : 0;
    snprintf(al->field, sizeof al->field, "spec.ports[%d].nodePort", i);
    if (al->tries == 0 && want != 0) {
        if (want < NODEPORT_MIN || want > NODEPORT_MAX) {
            char v[16];
            snprintf(v, sizeof v, "%ld", want);
            finish(al, invalid(al, v,
                               "provided port is not in the valid range. The range of valid "
                               "ports is 30000-32767"));
            return;
        }
        snprintf(al->want, sizeof al->want, "%ld", want);
        try_make(al, false);
        return;
    }
    uint32_t r;
    random_bytes(&r, sizeof r);
    snprintf(al->want, sizeof al->want, "%u", NODEPORT_MIN + r % (NODEPORT_MAX - NODEPORT_MIN + 1));
    al->tries++;
    try_make(al, false);
}

/* Skips what the old version already holds (updates keep their addresses). */
static bool held_by_old(struct alloc *al, const cJSON *old, bool ip, int i)
{
    if (!old) return false;
    if (ip) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(spec_of(al->svc), "clusterIP");
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(spec_of(old), "clusterIP");
        return cJSON_IsString(a) && cJSON_IsString(b) && *a->valuestring &&
               !strcmp(a->valuestring, b->valuestring);
    }
    const cJSON *np = cJSON_GetObjectItemCaseSensitive(port_at(al->svc, i), "nodePort");
    if (!cJSON_IsNumber(np) || np->valuedouble == 0) return false;
    const cJSON *op;
    cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(spec_of(old), "ports"))
    {
        const cJSON *onp = cJSON_GetObjectItemCaseSensitive(op, "nodePort");
        if (cJSON_IsNumber(onp) && onp->valuedouble == np->valuedouble) return true;
    }
    return false;
}

static void step(struct alloc *al)
{
    int n_ports = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(spec_of(al->svc), "ports"));
    while (al->stage == 0 || (al->stage - 1 < n_ports)) {
        if (al->stage == 0) {
            if (al->tries == 0 && held_by_old(al, al->old, true, 0)) {
                al->stage++;
                continue;
            }
            step_ip(al);
            return;
        }
        int i = al->stage - 1;
        if (!wants_node_ports(al->svc) || (al->tries == 0 && held_by_old(al, al->old, false, i))) {
            al->stage++;
            continue;
        }
        step_port(al, i);
        return;
    }
    finish(al, NULL);
}

void svc_allocate(apiserver_t *a, cJSON *svc, const cJSON *old, svc_alloc_done done, void *data)
{
    struct alloc *al = calloc(1, sizeof(*al));
    if (!al) {
        done(data, api_status_internal("out of memory"));
        return;
    }
    al->a = a;
    al->svc = svc;
    al->done = done;
    al->data = data;
    al->old = old ? cJSON_Duplicate(old, true) : NULL;
    const char *ns = api_meta_namespace(svc), *name = api_meta_name(svc);
    snprintf(al->owner, sizeof al->owner, "%s/%s", ns ? ns : "", name ? name : "");
    step(al);
}

static void released(const store_result_t *res, void *data)
{
    (void)data;
    if (res->err != STORE_OK && res->err != STORE_ENOENT)
        log_warn(REST_COMP, "cannot release a service address: %s", store_strerror(res->err));
}

static void release_keys(apiserver_t *a, char (*keys)[48], int n)
{
    for (int i = 0; i < n; i++)
        if (store_delete(a->store, keys[i], 0, released, NULL) != 0)
            log_warn(REST_COMP, "cannot release %s", keys[i]);
}

/* The allocation keys svc holds, into keys (at most MAX_HELD). */
static int held_keys(const cJSON *svc, char (*keys)[48])
{
    int n = 0;
    const cJSON *spec = spec_of(svc), *it;
    const cJSON *ips = cJSON_GetObjectItemCaseSensitive(spec, "clusterIPs");
    const cJSON *cip = cJSON_GetObjectItemCaseSensitive(spec, "clusterIP");
    if (cJSON_GetArraySize(ips) > 0) {
        cJSON_ArrayForEach(it, ips) if (cJSON_IsString(it) && strcmp(it->valuestring, "None") &&
                                        *it->valuestring && n < MAX_HELD)
            snprintf(keys[n++], 48, IP_PREFIX "%.28s", it->valuestring);
    } else if (cJSON_IsString(cip) && *cip->valuestring && strcmp(cip->valuestring, "None")) {
        snprintf(keys[n++], 48, IP_PREFIX "%.28s", cip->valuestring);
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(spec, "ports"))
    {
        const cJSON *np = cJSON_GetObjectItemCaseSensitive(it, "nodePort");
        if (cJSON_IsNumber(np) && np->valuedouble > 0 && n < MAX_HELD)
            snprintf(keys[n++], 48, PORT_PREFIX "%d", np->valueint);
    }
    return n;
}

void svc_release(apiserver_t *a, const cJSON *svc, const cJSON *keep)
{
    char(*mine)[48] = calloc(2 * MAX_HELD, 48);
    if (!mine) return;
    char(*kept)[48] = mine + MAX_HELD;
    int n = held_keys(svc, mine), k = keep ? held_keys(keep, kept) : 0;
    char(*drop)[48] = mine;
    int nd = 0;
    for (int i = 0; i < n; i++) {
        bool still = false;
        for (int j = 0; j < k; j++)
            if (!strcmp(mine[i], kept[j])) still = true;
        if (!still) memmove(drop[nd++], mine[i], 48);
    }
    release_keys(a, drop, nd);
    free(mine);
}

/* Kubernetes' dropTypeDependentFields: a Service whose type no longer needs
 * node ports loses the ones it was given (unless the update changed them),
 * and the external traffic policy it only had as a default. */
void svc_drop_type_fields(cJSON *svc, const cJSON *old)
{
    if (!old || wants_node_ports(svc) || !wants_node_ports(old)) return;
    cJSON *spec = spec_of(svc);
    const cJSON *ospec = spec_of(old);
    int i = 0;
    cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(spec, "ports"))
    {
        const cJSON *np = cJSON_GetObjectItemCaseSensitive(p, "nodePort");
        const cJSON *onp = cJSON_GetObjectItemCaseSensitive(port_at(old, i++), "nodePort");
        if (cJSON_IsNumber(np) && cJSON_IsNumber(onp) && np->valuedouble == onp->valuedouble)
            cJSON_DeleteItemFromObjectCaseSensitive(p, "nodePort");
    }
    if (strcmp(svc_type(svc), "LoadBalancer")) {
        static const char *const fields[] = {"externalTrafficPolicy", "healthCheckNodePort", NULL};
        for (int f = 0; fields[f]; f++) {
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(spec, fields[f]);
            const cJSON *b = cJSON_GetObjectItemCaseSensitive(ospec, fields[f]);
            if (a && b && cJSON_Compare(a, b, true))
                cJSON_DeleteItemFromObjectCaseSensitive(spec, fields[f]);
        }
    }
}
