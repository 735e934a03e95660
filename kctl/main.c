/*
 * main.c - kctl's command dispatch. Only `version` exists so far; the CLI
 * grows with the kctl/bootstrap issue.
 */
#include <stdio.h>
#include <string.h>

#include "kctl/kctl.h"

int kctl_main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "version")) {
        printf("Client Version: %s\n", PICOKUBE_VERSION);
        return 0;
    }
    fprintf(stderr, "usage: kctl version\n(kctl is being written: use kubectl with "
                    "<data-dir>/admin.kubeconfig meanwhile)\n");
    return 2;
}
