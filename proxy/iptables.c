/*
 * iptables.c - the proxy's only contact with the kernel's tables, through
 * the iptables, iptables-restore and iptables-save commands found in PATH,
 * so whichever backend the system selected (nft or legacy) is used.
 *
 * Only PICOKUBE-* chains are ever declared, flushed or deleted, and only the
 * jump rules of pk_jumps() are added to or removed from built-in chains.
 * "-w 5" waits for the xtables lock another tool may hold (legacy backend).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_int.h"

#define IPT_TIMEOUT_MS 30000

int pk_ipt_restore(const struct pk_ipt *ipt, const char *text, size_t len, char *err, size_t errlen)
{
    const char *argv[] = {ipt->restore, "-w", "5", "--noflush", NULL};
    return pk_exec(argv, text, len, NULL, IPT_TIMEOUT_MS, err, errlen) == 0 ? 0 : -1;
}

int pk_ipt_list(const struct pk_ipt *ipt, struct pk_ruleset *out, char *err, size_t errlen)
{
    struct pk_buf all = {0};
    for (int t = 0; t < PK_NTABLES; t++) {
        const char *argv[] = {ipt->save, "-t", pk_table_name((enum pk_table)t), NULL};
        char *text = NULL;
        if (pk_exec(argv, NULL, 0, &text, IPT_TIMEOUT_MS, err, errlen) != 0) {
            pk_buf_free(&all);
            return -1;
        }
        pk_buf_printf(&all, "%s\n", text ? text : "");
        free(text);
    }
    char *s = pk_buf_take(&all);
    int rc = s ? pk_parse_save(s, out) : -1;
    if (rc < 0) snprintf(err, errlen, "out of memory reading %s output", ipt->save);
    free(s);
    return rc;
}

/* argv for `iptables -w 5 -t T OP CHAIN spec...` into v (at least 24). */
static void jump_argv(const struct pk_ipt *ipt, const struct pk_jump *j, const char *op,
                      const char **v)
{
    size_t k = 0;
    v[k++] = ipt->iptables;
    v[k++] = "-w";
    v[k++] = "5";
    v[k++] = "-t";
    v[k++] = pk_table_name(j->table);
    v[k++] = op;
    v[k++] = j->chain;
    if (!strcmp(op, "-I")) v[k++] = "1";
    for (size_t i = 0; j->args[i]; i++)
        v[k++] = j->args[i];
    v[k] = NULL;
}

/* 1 when the jump rule is there, 0 when not, -1 on error. */
static int jump_present(const struct pk_ipt *ipt, const struct pk_jump *j, char *err, size_t errlen)
{
    const char *v[24];
    jump_argv(ipt, j, "-C", v);
    int rc = pk_exec(v, NULL, 0, NULL, IPT_TIMEOUT_MS, err, errlen);
    /* iptables -C: 0 the rule exists, 1 it does not ("Bad rule"). */
    if (rc == 0) return 1;
    if (rc == 1) return 0;
    return -1;
}

int pk_ipt_ensure_jumps(const struct pk_ipt *ipt, char *err, size_t errlen)
{
    size_t n;
    const struct pk_jump *j = pk_jumps(&n);
    for (size_t i = 0; i < n; i++) {
        int p = jump_present(ipt, &j[i], err, errlen);
        if (p < 0) return -1;
        if (p) continue;
        const char *v[24];
        jump_argv(ipt, &j[i], "-I", v);
        if (pk_exec(v, NULL, 0, NULL, IPT_TIMEOUT_MS, err, errlen) != 0) return -1;
    }
    return 0;
}

int pk_ipt_cleanup(const struct pk_ipt *ipt, char *err, size_t errlen)
{
    size_t n;
    const struct pk_jump *j = pk_jumps(&n);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        /* A jump inserted twice (by hand, or an older run) goes too; bounded. */
        for (int k = 0; k < 16; k++) {
            char e[512];
            int p = jump_present(ipt, &j[i], e, sizeof(e));
            if (p <= 0) break; /* absent, or its chain / table is gone */
            const char *v[24];
            jump_argv(ipt, &j[i], "-D", v);
            if (pk_exec(v, NULL, 0, NULL, IPT_TIMEOUT_MS, err, errlen) != 0) {
                rc = -1;
                break;
            }
        }
    }
    struct pk_ruleset existing;
    if (pk_ipt_list(ipt, &existing, err, errlen) < 0) return -1;
    if (existing.n) {
        size_t len;
        char *text = pk_render_cleanup(&existing, &len);
        if (!text) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        } else if (pk_ipt_restore(ipt, text, len, err, errlen) < 0) {
            rc = -1;
        }
        free(text);
    }
    pk_ruleset_free(&existing);
    return rc;
}
