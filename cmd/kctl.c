/*
 * kctl.c - the main of build/kctl, the bundled CLI (see kctl/).
 */
#include "kctl/kctl.h"

int main(int argc, char **argv)
{
    return kctl_main(argc, argv);
}
