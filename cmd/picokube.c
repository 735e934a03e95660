/*
 * picokube.c - the main of build/picokube: picks a subcommand and runs it.
 *
 *   picokube server   raftstore + API server (+ scheduler, controller, agent
 *                     as those components land)
 *   picokube member   list or remove raft members of a running cluster
 *   picokube backup   save a consistent snapshot of the store
 *
 * Each subcommand lives in its own cmd/<name>.c; this file only dispatches.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: picokube <command> [flags]\n\n"
                 "commands:\n"
                 "  server   run a master (store, API server, and the cluster's loops)\n"
                 "  agent    run a worker node: picokube agent --server URL --token T\n"
                 "  images   the node's image store: picokube images import FILE | ls | rm NAME\n"
                 "  member   list members, or remove a dead one: picokube member remove ID\n"
                 "  backup   save a snapshot of the store: picokube backup [--kubeconfig F] FILE\n"
                 "  proxy    program iptables for Services (also runs inside server and agent)\n"
                 "  controller  the controller manager alone (it also runs inside server)\n"
                 "  scheduler   the scheduler alone (it also runs inside server)\n"
                 "  version  print the version\n\n"
                 "Run 'picokube <command> --help' for the flags of a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *c = argv[1];
    if (!strcmp(c, "server")) return cmd_server(argc - 2, argv + 2);
    if (!strcmp(c, "member")) return cmd_member(argc - 2, argv + 2);
    if (!strcmp(c, "backup")) return cmd_backup(argc - 2, argv + 2);
    if (!strcmp(c, "proxy")) return cmd_proxy(argc - 2, argv + 2);
    if (!strcmp(c, "controller")) return cmd_controller(argc - 2, argv + 2);
    if (!strcmp(c, "scheduler")) return cmd_scheduler(argc - 2, argv + 2);
    if (!strcmp(c, "agent")) return cmd_agent(argc - 2, argv + 2);
    if (!strcmp(c, "images")) return cmd_images(argc - 2, argv + 2);
    if (!strcmp(c, "version") || !strcmp(c, "--version")) {
        printf("picokube %s\n", PICOKUBE_VERSION);
        return 0;
    }
    if (!strcmp(c, "help") || !strcmp(c, "--help") || !strcmp(c, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "picokube: unknown command \"%s\"\n\n", c);
    usage(stderr);
    return 2;
}
