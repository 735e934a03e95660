/*
 * main.c - kctl's entry point: takes the global flags (--kubeconfig,
 * -n/--namespace, --context, --server/-s, --token) from anywhere on the
 * command line, as kubectl does, and dispatches to the verb. Exit codes are
 * kubectl's: 0 on success, 1 on any error.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kctl/kctl.h"
#include "kctl/kctl_int.h"

static const struct {
    const char *name;
    int (*fn)(kctl_t *k, int argc, char **argv);
    const char *help;
} verbs[] = {
    {"get", kctl_cmd_get, "Display one or many resources"},
    {"describe", kctl_cmd_describe, "Show details of a specific resource or group of resources"},
    {"create", kctl_cmd_create, "Create a resource from a file or from stdin"},
    {"apply", kctl_cmd_apply, "Apply a configuration to a resource by file name or stdin"},
    {"replace", kctl_cmd_replace, "Replace a resource by file name or stdin"},
    {"delete", kctl_cmd_delete,
     "Delete resources by file names, stdin, resources and names, or by resources and label "
     "selector"},
    {"scale", kctl_cmd_scale,
     "Set a new size for a deployment, replica set, or replication controller"},
    {"rollout", kctl_cmd_rollout, "Manage the rollout of a resource"},
    {"logs", kctl_cmd_logs, "Print the logs for a container in a pod"},
    {"cordon", kctl_cmd_cordon, "Mark node as unschedulable"},
    {"uncordon", kctl_cmd_uncordon, "Mark node as schedulable"},
    {"drain", kctl_cmd_drain, "Drain node in preparation for maintenance"},
    {"run", kctl_cmd_run, "Run a particular image on the cluster"},
    {"expose", kctl_cmd_expose,
     "Take a replication controller, service, deployment or pod and expose it as a new Kubernetes "
     "service"},
    {"label", kctl_cmd_label, "Update the labels on a resource"},
    {"annotate", kctl_cmd_annotate, "Update the annotations on a resource"},
    {"patch", kctl_cmd_patch, "Update fields of a resource"},
    {"version", kctl_cmd_version, "Print the client and server version information"},
    {"cluster-info", kctl_cmd_cluster_info, "Display cluster information"},
    {"config", kctl_cmd_config, "Modify kubeconfig files"},
    {"api-resources", kctl_cmd_api_resources, "Print the supported API resources on the server"},
    {"completion", kctl_cmd_completion,
     "Output shell completion code for the specified shell (bash)"},
};

static void usage(FILE *out)
{
    fprintf(out, "kctl controls a picokube (Kubernetes) cluster.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(out, "  %-14s %s\n", verbs[i].name, verbs[i].help);
    fprintf(out, "\nGlobal flags (anywhere on the line):\n"
                 "  --kubeconfig FILE   kubeconfig (default $KUBECONFIG, then ~/.kube/config)\n"
                 "  -n, --namespace NS  namespace of the request\n"
                 "  --context NAME      kubeconfig context to use\n"
                 "  -s, --server URL    API server URL(s), comma-separated\n"
                 "  --token TOKEN       bearer token\n"
                 "\nUsage:\n  kctl [flags] [command]\n");
}

/* Takes one global flag at argv[i] (value in the same or the next word);
 * returns how many words it used, 0 when argv[i] is not a global flag, -1
 * when its value is missing. */
static int take_global(kctl_t *k, int argc, char **argv, int i)
{
    static const struct {
        const char *lng;
        char sh;
        size_t off;
    } g[] = {
        {"kubeconfig", 0, offsetof(kctl_t, kubeconfig)},
        {"namespace", 'n', offsetof(kctl_t, ns_flag)},
        {"context", 0, offsetof(kctl_t, context)},
        {"server", 's', offsetof(kctl_t, server)},
        {"token", 0, offsetof(kctl_t, token)},
        {"certificate-authority", 0, offsetof(kctl_t, ca_file)},
    };
    const char *a = argv[i];
    for (size_t j = 0; j < sizeof g / sizeof g[0]; j++) {
        const char **dest = (const char **)((char *)k + g[j].off);
        size_t n = strlen(g[j].lng);
        if (a[0] == '-' && a[1] == '-' && !strncmp(a + 2, g[j].lng, n)) {
            if (a[2 + n] == '=') {
                *dest = a + 3 + n;
                return 1;
            }
            if (a[2 + n] == '\0') {
                if (i + 1 >= argc) return -1;
                *dest = argv[i + 1];
                return 2;
            }
        }
        if (g[j].sh && a[0] == '-' && a[1] == g[j].sh) {
            if (a[2] == '=' || (a[2] && a[2] != '-')) {
                *dest = a + 2 + (a[2] == '=');
                return 1;
            }
            if (a[2] == '\0') {
                if (i + 1 >= argc) return -1;
                *dest = argv[i + 1];
                return 2;
            }
        }
    }
    return 0;
}

int kctl_main(int argc, char **argv)
{
    kctl_t k = {.in = stdin};
    char **rest = calloc((size_t)argc + 1, sizeof(char *));
    if (!rest) return kctl_fail("out of memory");
    int n = 0;
    bool after_dash = false;
    for (int i = 1; i < argc; i++) {
        if (!after_dash && !strcmp(argv[i], "--")) after_dash = true;
        int used = after_dash ? 0 : take_global(&k, argc, argv, i);
        if (used < 0) {
            free(rest);
            return kctl_fail("flag needs an argument: %s", argv[i]);
        }
        if (used == 0) {
            rest[n++] = argv[i];
            continue;
        }
        i += used - 1;
    }
    int rc;
    if (n == 0 || !strcmp(rest[0], "help") || !strcmp(rest[0], "--help") ||
        !strcmp(rest[0], "-h")) {
        usage(n == 0 ? stderr : stdout);
        rc = n == 0 ? 1 : 0;
        free(rest);
        return rc;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        if (!strcmp(rest[0], verbs[i].name)) {
            rc = verbs[i].fn(&k, n, rest);
            if (k.kc_loaded) api_kubeconfig_free(&k.kc);
            free(rest);
            return rc;
        }
    }
    fprintf(stderr, "error: unknown command \"%s\" for \"kctl\"\nRun 'kctl --help' for usage.\n",
            rest[0]);
    free(rest);
    return 1;
}
