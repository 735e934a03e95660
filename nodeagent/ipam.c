/*
 * ipam.c - pod IP addresses from the node's pod CIDR, kept in the data dir
 * so a restarted agent never hands out an address twice.
 *
 * Like CNI's host-local plugin: <dir>/<cidr>/<address> is a file holding
 * the pod UID, created with O_EXCL (creation is the allocation, so two
 * pods can never get one address even from two threads), removed when the
 * pod goes. <dir>/<cidr>/last remembers where the last search stopped, so
 * a freed address is not reused at once (a stale peer may still use it).
 * The first address is the bridge's (the gateway), the last the broadcast.
 */
#include "nodeagent/agent_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t ipam_mu = PTHREAD_MUTEX_INITIALIZER;

int ipam_parse_cidr(const char *cidr, uint32_t *net, int *prefix)
{
    char a[64];
    const char *slash = strchr(cidr, '/');
    if (!slash || (size_t)(slash - cidr) >= sizeof a) return -1;
    snprintf(a, sizeof a, "%.*s", (int)(slash - cidr), cidr);
    struct in_addr in;
    char *end;
    long p = strtol(slash + 1, &end, 10);
    if (*end || p < 8 || p > 30 || inet_pton(AF_INET, a, &in) != 1) return -1;
    uint32_t mask = p == 0 ? 0 : 0xffffffffu << (32 - p);
    *net = ntohl(in.s_addr) & mask;
    *prefix = (int)p;
    return 0;
}

static void fmt_ip(uint32_t ip, char *buf, size_t len)
{
    struct in_addr in = {htonl(ip)};
    inet_ntop(AF_INET, &in, buf, (socklen_t)len);
}

int ipam_gateway(const char *cidr, char *buf, size_t len, bool with_prefix)
{
    uint32_t net;
    int prefix;
    if (ipam_parse_cidr(cidr, &net, &prefix) != 0) return -1;
    fmt_ip(net + 1, buf, len);
    if (with_prefix) {
        size_t l = strlen(buf);
        snprintf(buf + l, len - l, "/%d", prefix);
    }
    return 0;
}

static void cidr_dir(const char *dir, const char *cidr, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", dir, cidr);
    char *slash = strrchr(buf, '/');
    if (slash && slash > buf + strlen(dir)) *slash = '_'; /* 10.42.1.0/24 -> 10.42.1.0_24 */
}

/* The address this uid holds already, if any. */
static bool find_uid(const char *cdir, const char *uid, char *ip, size_t iplen)
{
    DIR *d = opendir(cdir);
    if (!d) return false;
    struct dirent *e;
    bool found = false;
    while (!found && (e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char p[AGENT_PATH_MAX + 300];
        snprintf(p, sizeof p, "%s/%s", cdir, e->d_name);
        char *owner = file_read_all(p, NULL);
        if (owner && !strcmp(owner, uid)) {
            snprintf(ip, iplen, "%s", e->d_name);
            found = true;
        }
        free(owner);
    }
    closedir(d);
    return found;
}

int ipam_allocate(const char *dir, const char *cidr, const char *uid, char *ip, size_t iplen,
                  char *err, size_t errlen)
{
    uint32_t net;
    int prefix;
    if (ipam_parse_cidr(cidr, &net, &prefix) != 0) {
        snprintf(err, errlen, "invalid pod CIDR \"%s\"", cidr);
        return -1;
    }
    char cdir[AGENT_PATH_MAX];
    cidr_dir(dir, cidr, cdir, sizeof cdir);
    if (file_mkdirs(cdir, 0700) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", cdir, strerror(errno));
        return -1;
    }
    pthread_mutex_lock(&ipam_mu);
    int rv = -1;
    if (find_uid(cdir, uid, ip, iplen)) {
        rv = 0;
        goto out;
    }
    uint32_t size = 1u << (32 - prefix);
    uint32_t first = net + 2, last = net + size - 2; /* .1 gateway, top broadcast */
    char lp[AGENT_PATH_MAX + 8], p[AGENT_PATH_MAX + 64], a[32];
    snprintf(lp, sizeof lp, "%s/last", cdir);
    char *lt = file_read_all(lp, NULL);
    struct in_addr in;
    uint32_t start = first;
    if (lt) {
        lt[strcspn(lt, "\n")] = 0;
        if (inet_pton(AF_INET, lt, &in) == 1) {
            uint32_t l = ntohl(in.s_addr);
            if (l >= first && l < last) start = l + 1;
        }
        free(lt);
    }
    uint32_t n = last - first + 1, cand = start;
    for (uint32_t i = 0; i < n; i++, cand = cand >= last ? first : cand + 1) {
        fmt_ip(cand, a, sizeof a);
        snprintf(p, sizeof p, "%s/%s", cdir, a);
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            if (errno == EEXIST) continue;
            snprintf(err, errlen, "cannot record the address %s: %s", a, strerror(errno));
            goto out;
        }
        size_t ul = strlen(uid);
        bool ok = write(fd, uid, ul) == (ssize_t)ul && fsync(fd) == 0;
        close(fd);
        if (!ok) {
            unlink(p);
            snprintf(err, errlen, "cannot record the address %s: %s", a, strerror(errno));
            goto out;
        }
        fs_write_file(lp, a, strlen(a), 0600);
        snprintf(ip, iplen, "%s", a);
        rv = 0;
        goto out;
    }
    snprintf(err, errlen, "no free address left in the pod CIDR %s", cidr);
out:
    pthread_mutex_unlock(&ipam_mu);
    return rv;
}

int ipam_release(const char *dir, const char *uid)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    pthread_mutex_lock(&ipam_mu);
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char cdir[AGENT_PATH_MAX + 300], ip[64];
        snprintf(cdir, sizeof cdir, "%s/%s", dir, e->d_name);
        while (find_uid(cdir, uid, ip, sizeof ip)) {
            char p[AGENT_PATH_MAX + 400];
            snprintf(p, sizeof p, "%s/%s", cdir, ip);
            if (unlink(p) != 0) break;
        }
    }
    pthread_mutex_unlock(&ipam_mu);
    closedir(d);
    return 0;
}
