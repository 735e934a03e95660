/*
 * cmd.h - the subcommands of build/picokube (private to cmd/).
 */
#ifndef PICOKUBE_CMD_H
#define PICOKUBE_CMD_H

int cmd_server(int argc, char **argv);
int cmd_member(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_proxy(int argc, char **argv);
int cmd_controller(int argc, char **argv);

/* The first non-loopback IPv4 address of an interface that is up, else
 * 127.0.0.1, into buf. Used as the default advertised address. */
void cmd_primary_ip(char *buf, size_t len);

#endif
