/*
 * member.c - `picokube member list|remove`: the raft membership of a running
 * cluster, through any master's internal endpoint with the cluster token.
 *
 * A dead master that will not come back is removed with
 *   picokube member remove --server http://<a live master>:6443 --token T ID
 * (IDs from `picokube member list`); until then it counts in the quorum.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "lib/lib.h"
#include "raftstore/raftstore.h"

int cmd_member(int argc, char **argv)
{
    const char *server = "https://127.0.0.1:6443", *token = NULL,
               *data_dir = "/var/lib/picokube";
    const struct flag_spec specs[] = {
        {"server", FLAG_STRING, &server, "URL of a running master"},
        {"token", FLAG_STRING, &token, "cluster token (default: <data-dir>/token)"},
        {"data-dir", FLAG_STRING, &data_dir, "data dir to read the token from"},
        {NULL, 0, NULL, NULL},
    };
    char err[512];
    int npos = flags_parse(specs, argc, argv, err, sizeof(err));
    if (npos < 1) {
        fprintf(stderr, "%s%susage: picokube member list|remove ID [--server URL] [--token T]\n",
                npos < 0 ? err : "", npos < 0 ? "\n" : "");
        return 2;
    }
    char tok[256] = "";
    if (token) {
        snprintf(tok, sizeof(tok), "%s", token);
    } else {
        char path[4096];
        snprintf(path, sizeof(path), "%s/token", data_dir);
        char *t = file_read_all(path, NULL);
        if (!t) {
            fprintf(stderr, "picokube member: no --token and cannot read %s\n", path);
            return 2;
        }
        t[strcspn(t, "\r\n")] = 0;
        snprintf(tok, sizeof(tok), "%s", t);
        free(t);
    }
    /* Trust only the cluster CA the token names. */
    char *ca = NULL;
    if (!strncmp(server, "https://", 8)) {
        if (tls_fetch_ca(server, tok, &ca, err, sizeof(err)) != 0 ||
            http_client_set_default_ca(ca) != 0) {
            fprintf(stderr, "picokube member: %s\n", err);
            free(ca);
            return 1;
        }
        free(ca);
    }
    http_response_t res;
    int rv;
    if (!strcmp(argv[0], "list") && npos == 1) {
        rv = http_fetch(server, tok, "GET", STORE_INTERNAL_PREFIX "status", NULL, NULL, 0, 10000,
                        &res);
    } else if (!strcmp(argv[0], "remove") && npos == 2) {
        char body[128];
        snprintf(body, sizeof(body), "{\"id\":\"%s\"}", argv[1]);
        rv = http_fetch(server, tok, "POST", STORE_INTERNAL_PREFIX "remove", "application/json",
                        body, strlen(body), 30000, &res);
    } else {
        fprintf(stderr, "usage: picokube member list|remove ID [--server URL] [--token T]\n");
        return 2;
    }
    if (rv != 0) {
        fprintf(stderr, "picokube member: cannot reach %s: %s\n", server, uv_strerror(rv));
        return 1;
    }
    int ok = res.status == 200;
    fprintf(ok ? stdout : stderr, "%.*s\n", (int)res.len, res.body ? res.body : "");
    free((char *)res.body);
    return ok ? 0 : 1;
}
