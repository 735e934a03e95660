/*
 * route.c - routes the service CIDR to a local device, so that a packet to
 * a virtual IP that no rule rewrote never leaves the machine.
 *
 * Why a veth pair (pk-svc / pk-svc-peer, both ends here, no addresses):
 * - locally originated packets need a route before the nat OUTPUT chain
 *   runs (the kernel picks the source address first), so an `unreachable`
 *   or `blackhole` route would break ClusterIPs from the node itself;
 * - a `local` route would make the node answer every service IP on every
 *   port with its own sockets (sshd on 10.43.0.99:22);
 * - the kernel here has no `dummy` link type.
 * Through the veth, a packet for an unprogrammed service IP waits for an
 * ARP answer nobody gives and is dropped on the node. Never a gateway.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proxy/proxy_int.h"

static int ip(const char *const *argv, char *err, size_t errlen)
{
    return pk_exec(argv, NULL, 0, NULL, 10000, err, errlen) == 0 ? 0 : -1;
}

int pk_route_ensure(const char *cidr, char *err, size_t errlen)
{
    char e[256];
    const char *show[] = {"ip", "-o", "link", "show", "dev", PK_SVC_DEV, NULL};
    if (ip(show, e, sizeof(e)) < 0) {
        const char *add[] = {"ip",   "link", "add",  PK_SVC_DEV,  "type",
                             "veth", "peer", "name", PK_SVC_PEER, NULL};
        if (ip(add, err, errlen) < 0) return -1;
    }
    const char *up1[] = {"ip", "link", "set", "dev", PK_SVC_DEV, "up", NULL};
    const char *up2[] = {"ip", "link", "set", "dev", PK_SVC_PEER, "up", NULL};
    const char *route[] = {"ip", "route", "replace", cidr, "dev", PK_SVC_DEV, NULL};
    if (ip(up1, err, errlen) < 0 || ip(up2, err, errlen) < 0 || ip(route, err, errlen) < 0)
        return -1;
    return 0;
}

int pk_route_remove(char *err, size_t errlen)
{
    char e[256];
    const char *show[] = {"ip", "-o", "link", "show", "dev", PK_SVC_DEV, NULL};
    if (ip(show, e, sizeof(e)) < 0) return 0; /* gone already */
    const char *del[] = {"ip", "link", "del", "dev", PK_SVC_DEV, NULL};
    return ip(del, err, errlen);
}

int pk_route_localnet(char *err, size_t errlen)
{
    /* NodePorts on 127.0.0.1 are DNATed to pod addresses; the kernel drops
     * such packets as martians unless route_localnet is on (as kube-proxy
     * sets it). PICOKUBE-FIREWALL drops what this would otherwise let in. */
    const char *p = "/proc/sys/net/ipv4/conf/all/route_localnet";
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "1\n", 2) != 2) {
        snprintf(err, errlen, "cannot set %s: %s", p, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return 0;
}
