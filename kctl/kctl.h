/*
 * kctl.h - the bundled CLI (a small kubectl for picokube clusters).
 */
#ifndef PICOKUBE_KCTL_H
#define PICOKUBE_KCTL_H

/* Runs kctl with its command line; returns the process exit code. */
int kctl_main(int argc, char **argv);

#endif
