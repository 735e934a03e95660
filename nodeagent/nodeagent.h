/*
 * nodeagent.h - the kubelet of picokube: runs the pods bound to this node.
 *
 * The agent registers its Node, renews its Lease, watches the pods bound to
 * it and runs them with runc (exec'd): one network namespace per pod on the
 * node bridge `pk0` with an IP from the node's pod CIDR, one OCI bundle per
 * container whose root filesystem is an overlay of layers from the node's
 * image store. A small shim process (`picokube agent shim`, this same
 * binary) sits beside each container: it holds the container's stdout and
 * stderr (written to CRI-format log files), reaps it and records its exit,
 * so the agent itself can restart without touching running containers.
 *
 * Without --server the agent runs standalone from a folder of pod manifests
 * (the kubelet's static pods), which is also how its runtime is tested
 * without an API server.
 *
 * Threading: everything public runs on the loop given in the config, except
 * the command-line helpers (agent_images_*, agent_shim_main) which block.
 */
#ifndef PICOKUBE_NODEAGENT_H
#define PICOKUBE_NODEAGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <uv.h>

typedef struct agent agent_t;

struct agent_config {
    uv_loop_t *loop;
    const char *servers;        /* API server URL(s), comma-separated; NULL: standalone */
    const char *token;          /* cluster token: API credential and log endpoint secret */
    const char *data_dir;       /* default /var/lib/picokube; the agent uses <data_dir>/agent */
    const char *node_name;      /* default: the host name, lowercased */
    const char *node_ip;        /* default: the address of the default route's interface */
    const char *pod_cidr;       /* used until the Node has spec.podCIDR (or always, standalone) */
    const char *cluster_cidr;   /* default 10.42.0.0/16: not masqueraded */
    const char *cluster_dns;    /* nameserver for dnsPolicy ClusterFirst; NULL: the host's */
    const char *cluster_domain; /* default cluster.local */
    const char *pod_manifests;  /* folder of static pod manifests (JSON), or NULL */
    const char *runc;           /* default: runc from PATH */
    const char *self_exe;       /* this binary, for the shim; default /proc/self/exe */
    const char *cgroup_parent;  /* default /picokube */
    const char *bind_address;   /* log endpoint address; default: the node IP */
    int port;                   /* log endpoint port; default 10250; -1: none */
    bool control_plane;         /* label node-role.kubernetes.io/control-plane */
    unsigned lease_seconds;     /* Lease duration; default 4 (renewed every quarter: 1 s) */
};

/* Starts the agent on cfg->loop. Returns 0, or -1 with a message in err. */
int agent_start(const struct agent_config *cfg, agent_t **out, char *err, size_t errlen);
/* Stops watching and serving; leaves running containers alone (a restarted
 * agent adopts them). done(arg) runs on the loop once everything closed. */
void agent_stop(agent_t *a, void (*done)(void *arg), void *arg);
/* The port the log endpoint listens on (tests bind port 0). */
int agent_port(agent_t *a);

/* `picokube agent shim ...`: the per-container shim (internal). */
int agent_shim_main(int argc, char **argv);

/* ------------------------------------------------------------ image store
 * <data_dir>/agent/images: images imported from OCI layouts, oci-archive
 * and docker-archive tarballs; layers unpacked once (whiteouts converted to
 * overlayfs ones) and shared read-only by every container. */

/* Imports an archive (or an OCI layout folder). `name` overrides the name
 * found in the archive (RepoTags or the ref.name annotation); it is needed
 * when the archive names none. The names imported are written, one a line,
 * to `out` when not NULL. Returns 0, or -1 with a message in err. */
int agent_images_import(const char *data_dir, const char *file, const char *name, FILE *out,
                        char *err, size_t errlen);
/* Prints the store's images as a table (NAME, IMAGE ID, SIZE). */
int agent_images_list(const char *data_dir, FILE *out, char *err, size_t errlen);
/* Removes an image by name and the layers no other image uses. */
int agent_images_remove(const char *data_dir, const char *name, char *err, size_t errlen);

/* The seam for registry pulls (issue 8): when an image is not in the store
 * and its pull policy allows a pull, the agent calls this (on a worker
 * thread; it may block) with the normalized reference
 * ("docker.io/library/busybox:latest"). It returns 0 once the image is in
 * the store, or -1 with the registry's message in err. NULL (the default):
 * no pulls, such images fail with ErrImagePull. */
typedef int (*agent_image_pull_fn)(const char *data_dir, const char *ref, void *arg, char *err,
                                   size_t errlen);
void agent_set_image_puller(agent_t *a, agent_image_pull_fn fn, void *arg);

#endif /* PICOKUBE_NODEAGENT_H */
