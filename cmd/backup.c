/*
 * backup.c - `picokube backup [--kubeconfig F] FILE`: saves a consistent
 * snapshot of a running cluster's store, through the admin-only endpoint
 * APISERVER_BACKUP_PATH, atomically into FILE. Restore with
 * `picokube server --cluster-init --restore FILE`.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "apiserver/apiserver.h"
#include "cmd/cmd.h"
#include "lib/lib.h"

int cmd_backup(int argc, char **argv)
{
    const char *kubeconfig = NULL;
    const struct flag_spec specs[] = {
        {"kubeconfig", FLAG_STRING, &kubeconfig, "kubeconfig with the admin credential"},
        {NULL, 0, NULL, NULL},
    };
    char err[512];
    int npos = flags_parse(specs, argc, argv, err, sizeof(err));
    if (npos != 1) {
        fprintf(stderr, "%s%susage: picokube backup [--kubeconfig F] FILE\n",
                npos < 0 ? err : "", npos < 0 ? "\n" : "");
        return 2;
    }
    api_kubeconfig_t kc;
    if (api_kubeconfig_load(kubeconfig, NULL, &kc, err, sizeof(err)) != 0) {
        fprintf(stderr, "picokube backup: %s\n", err);
        return 1;
    }
    if (api_kubeconfig_use_tls(&kc, err, sizeof(err)) != 0) {
        fprintf(stderr, "picokube backup: %s\n", err);
        api_kubeconfig_free(&kc);
        return 1;
    }
    api_conn_t conn = {.urls = kc.server, .token = kc.token, .timeout_ms = 120000};
    api_result_t res;
    api_fetch_path(&conn, "GET", APISERVER_BACKUP_PATH, NULL, NULL, 0, NULL, &res);
    int rc = 1;
    if (!api_result_ok(&res)) {
        fprintf(stderr, "picokube backup: %s\n", res.message);
    } else {
        int rv = file_write_atomic(argv[0], res.body, res.len, 0600);
        if (rv != 0) {
            fprintf(stderr, "picokube backup: cannot write %s: %s\n", argv[0], strerror(-rv));
        } else {
            printf("backup of %zu bytes written to %s\n", res.len, argv[0]);
            rc = 0;
        }
    }
    api_result_free(&res);
    api_kubeconfig_free(&kc);
    return rc;
}
