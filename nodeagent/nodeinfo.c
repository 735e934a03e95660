/*
 * nodeinfo.c - facts about this machine that the Node object and the
 * runtime need: the address of the default route's interface (the
 * InternalIP when --node-ip is not given), CPUs and memory, the
 * architecture in Go's words, the OS image, and whether the cgroup memory
 * controller is there. Raspberry Pi OS ships with it off; without it
 * memory limits cannot be enforced, so the agent says so and how to fix
 * it (cgroup_memory=1 cgroup_enable=memory on the kernel command line).
 * The parsers take text, so they are tested with fixtures.
 */
#include "nodeagent/agent_int.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

int node_default_iface(const char *text, char *ifname, size_t len)
{
    /* Iface Destination Gateway Flags RefCnt Use Metric Mask ... (hex) */
    int best = -1;
    long best_metric = 0;
    const char *line = text ? strchr(text, '\n') : NULL; /* skip the header */
    while (line && *++line) {
        char name[IFNAMSIZ + 1], dest[16], mask[16];
        unsigned flags = 0;
        long metric = 0;
        if (sscanf(line, "%16s %15s %*s %x %*s %*s %ld %15s", name, dest, &flags, &metric, mask) ==
                5 &&
            !strcmp(dest, "00000000") && !strcmp(mask, "00000000") && (flags & 1) /* RTF_UP */ &&
            (best < 0 || metric < best_metric)) {
            snprintf(ifname, len, "%s", name);
            best = 1;
            best_metric = metric;
        }
        line = strchr(line, '\n');
    }
    return best < 0 ? -1 : 0;
}

int nodeinfo_ip(char *buf, size_t len)
{
    char *routes = file_read_all("/proc/net/route", NULL);
    char ifname[IFNAMSIZ + 1] = "";
    int rv = node_default_iface(routes, ifname, sizeof ifname);
    free(routes);
    struct ifaddrs *ifs, *i;
    if (getifaddrs(&ifs) != 0) return -1;
    int found = -1;
    /* The default route's interface first, else any non-loopback IPv4. */
    for (int pass = rv == 0 ? 0 : 1; pass < 2 && found < 0; pass++)
        for (i = ifs; i; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
            if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
            if (pass == 0 && strcmp(i->ifa_name, ifname) != 0) continue;
            if (pass == 1 && !strcmp(i->ifa_name, AGENT_BRIDGE)) continue;
            inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf, (socklen_t)len);
            found = 0;
            break;
        }
    freeifaddrs(ifs);
    return found;
}

bool node_cgroup_enabled(const char *text, const char *controller)
{
    /* #subsys_name hierarchy num_cgroups enabled */
    size_t cl = strlen(controller);
    for (const char *line = text; line && *line;) {
        if (!strncmp(line, controller, cl) && (line[cl] == '\t' || line[cl] == ' ')) {
            int h, n, enabled = 0;
            if (sscanf(line + cl, "%d %d %d", &h, &n, &enabled) == 3) return enabled == 1;
        }
        line = strchr(line, '\n');
        if (line) line++;
    }
    return false;
}

bool nodeinfo_memory_cgroup(char *v1_path, size_t len)
{
    v1_path[0] = 0;
    struct statfs sf;
    if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
        char *c = file_read_all("/sys/fs/cgroup/cgroup.controllers", NULL);
        bool ok = c && strstr(c, "memory");
        free(c);
        return ok;
    }
    char *t = file_read_all("/proc/cgroups", NULL);
    bool ok = t && node_cgroup_enabled(t, "memory");
    free(t);
    if (ok && access("/sys/fs/cgroup/memory", F_OK) == 0)
        snprintf(v1_path, len, "/sys/fs/cgroup/memory");
    return ok;
}

uint64_t nodeinfo_memory(void)
{
    char *t = file_read_all("/proc/meminfo", NULL);
    const char *m = t ? strstr(t, "MemTotal:") : NULL;
    uint64_t kb = m ? strtoull(m + 9, NULL, 10) : 0;
    free(t);
    return kb * 1024;
}

uint64_t nodeinfo_memory_available(void)
{
    char *t = file_read_all("/proc/meminfo", NULL);
    const char *m = t ? strstr(t, "MemAvailable:") : NULL;
    uint64_t kb = m ? strtoull(m + 13, NULL, 10) : 0;
    free(t);
    return kb * 1024;
}

const char *node_goarch(const char *machine)
{
    if (!strcmp(machine, "x86_64")) return "amd64";
    if (!strcmp(machine, "aarch64") || !strcmp(machine, "arm64")) return "arm64";
    if (!strncmp(machine, "armv", 4)) return "arm";
    if (!strcmp(machine, "i686") || !strcmp(machine, "i386")) return "386";
    if (!strcmp(machine, "riscv64")) return "riscv64";
    return machine;
}

void nodeinfo_os_image(char *buf, size_t len)
{
    char *t = file_read_all("/etc/os-release", NULL);
    const char *p = t ? strstr(t, "PRETTY_NAME=") : NULL;
    snprintf(buf, len, "Linux");
    if (p) {
        p += 12;
        if (*p == '"') p++;
        size_t n = strcspn(p, "\"\n");
        snprintf(buf, len, "%.*s", (int)n, p);
    }
    free(t);
}

void nodeinfo_hostname(char *buf, size_t len)
{
    if (gethostname(buf, len) != 0) snprintf(buf, len, "localhost");
    buf[len - 1] = 0;
    for (char *c = buf; *c; c++) {
        if (*c >= 'A' && *c <= 'Z') *c = (char)(*c + 32);
    }
}
