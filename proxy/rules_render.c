/*
 * rules_render.c - chains to iptables-restore --noflush input, and back.
 *
 * With --noflush, iptables-restore touches only the chains the input
 * declares (":NAME - [0:0]" flushes or creates one), so the built-in chains
 * and everybody else's rules stay as they are, and each table is committed
 * atomically. A chain whose content did not change since the last write is
 * not declared at all, fixed chains included (kube-proxy always rewrites
 * KUBE-SERVICES; a thousand-rule chain costs tens of milliseconds to write,
 * and a new endpoint of one Service does not change it): one changed
 * Service among a thousand rewrites its own chains only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_int.h"

const char *pk_table_name(enum pk_table t)
{
    return t == PK_NAT ? "nat" : "filter";
}

/* kube-proxy's jumps from the built-in chains, PICOKUBE-* named. */
static const struct pk_jump jumps[] = {
    {PK_NAT,
     "PREROUTING",
     {"-m", "comment", "--comment", "picokube service portals", "-j", "PICOKUBE-SERVICES"}},
    {PK_NAT,
     "OUTPUT",
     {"-m", "comment", "--comment", "picokube service portals", "-j", "PICOKUBE-SERVICES"}},
    {PK_NAT,
     "POSTROUTING",
     {"-m", "comment", "--comment", "picokube postrouting rules", "-j", "PICOKUBE-POSTROUTING"}},
    {PK_FILTER,
     "INPUT",
     {"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment",
      "picokube externally-visible service portals", "-j", "PICOKUBE-EXTERNAL-SERVICES"}},
    {PK_FILTER,
     "FORWARD",
     {"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment",
      "picokube externally-visible service portals", "-j", "PICOKUBE-EXTERNAL-SERVICES"}},
    {PK_FILTER,
     "FORWARD",
     {"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment",
      "picokube service portals", "-j", "PICOKUBE-SERVICES"}},
    {PK_FILTER,
     "OUTPUT",
     {"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment",
      "picokube service portals", "-j", "PICOKUBE-SERVICES"}},
    {PK_FILTER,
     "FORWARD",
     {"-m", "comment", "--comment", "picokube forwarding rules", "-j", "PICOKUBE-FORWARD"}},
    {PK_FILTER, "INPUT", {"-j", "PICOKUBE-FIREWALL"}},
    {PK_FILTER, "OUTPUT", {"-j", "PICOKUBE-FIREWALL"}},
};

const struct pk_jump *pk_jumps(size_t *n)
{
    *n = sizeof(jumps) / sizeof(jumps[0]);
    return jumps;
}

static bool changed(const struct pk_chain *c, const struct pk_ruleset *prev)
{
    if (!prev) return true;
    const struct pk_chain *p = pk_ruleset_find(prev, c->table, c->name);
    return !p || !p->rules || p->len != c->len || memcmp(p->rules, c->rules, c->len);
}

char *pk_render(const struct pk_ruleset *next, const struct pk_ruleset *prev, size_t *len,
                size_t *n_written)
{
    struct pk_buf b = {0};
    size_t written = 0;
    for (int t = 0; t < PK_NTABLES; t++) {
        pk_buf_printf(&b, "*%s\n", pk_table_name((enum pk_table)t));
        for (size_t i = 0; i < next->n; i++)
            if (next->v[i].table == (enum pk_table)t && changed(&next->v[i], prev))
                pk_buf_printf(&b, ":%s - [0:0]\n", next->v[i].name);
        /* Stale chains are flushed first: a chain is deleted only empty and
         * unreferenced, and every chain that referred to it is rewritten. */
        for (size_t i = 0; prev && i < prev->n; i++)
            if (prev->v[i].table == (enum pk_table)t &&
                !pk_ruleset_find(next, prev->v[i].table, prev->v[i].name))
                pk_buf_printf(&b, ":%s - [0:0]\n", prev->v[i].name);
        for (size_t i = 0; i < next->n; i++) {
            const struct pk_chain *c = &next->v[i];
            if (c->table != (enum pk_table)t || !changed(c, prev)) continue;
            pk_buf_append(&b, c->rules ? c->rules : "", c->rules ? c->len : 0);
            written++;
        }
        for (size_t i = 0; prev && i < prev->n; i++)
            if (prev->v[i].table == (enum pk_table)t &&
                !pk_ruleset_find(next, prev->v[i].table, prev->v[i].name))
                pk_buf_printf(&b, "-X %s\n", prev->v[i].name);
        pk_buf_printf(&b, "COMMIT\n");
    }
    if (len) *len = b.len;
    if (n_written) *n_written = written;
    return pk_buf_take(&b);
}

char *pk_render_cleanup(const struct pk_ruleset *existing, size_t *len)
{
    struct pk_buf b = {0};
    for (int t = 0; t < PK_NTABLES; t++) {
        bool any = false;
        for (size_t i = 0; i < existing->n; i++)
            any |= existing->v[i].table == (enum pk_table)t;
        if (!any) continue; /* leave a table we never used alone */
        pk_buf_printf(&b, "*%s\n", pk_table_name((enum pk_table)t));
        for (size_t i = 0; i < existing->n; i++)
            if (existing->v[i].table == (enum pk_table)t)
                pk_buf_printf(&b, ":%s - [0:0]\n", existing->v[i].name);
        for (size_t i = 0; i < existing->n; i++)
            if (existing->v[i].table == (enum pk_table)t)
                pk_buf_printf(&b, "-X %s\n", existing->v[i].name);
        pk_buf_printf(&b, "COMMIT\n");
    }
    if (len) *len = b.len;
    return pk_buf_take(&b);
}

/* The chain name at s (up to a space or end of line) when it is ours. */
static bool our_chain(const char *s, char out[PK_CHAIN_MAX])
{
    size_t n = strcspn(s, " \n");
    if (n >= PK_CHAIN_MAX || strncmp(s, "PICOKUBE-", 9)) return false;
    memcpy(out, s, n);
    out[n] = 0;
    return true;
}

int pk_parse_save(const char *text, struct pk_ruleset *out)
{
    memset(out, 0, sizeof(*out));
    for (int pass = 0; pass < 2; pass++) {
        int table = -1;
        for (const char *l = text; l && *l;) {
            const char *nl = strchr(l, '\n');
            char name[PK_CHAIN_MAX];
            if (!strncmp(l, "*nat", 4) && (l[4] == '\n' || !l[4]))
                table = PK_NAT;
            else if (!strncmp(l, "*filter", 7) && (l[7] == '\n' || !l[7]))
                table = PK_FILTER;
            else if (*l == '*')
                table = -1;
            else if (table >= 0 && pass == 0 && *l == ':' && our_chain(l + 1, name)) {
                if (pk_ruleset_add(out, (enum pk_table)table, name, NULL, 0) < 0) {
                    pk_ruleset_free(out);
                    return -1;
                }
            } else if (table >= 0 && pass == 1 && !strncmp(l, "-A ", 3) && our_chain(l + 3, name)) {
                struct pk_chain *c =
                    (struct pk_chain *)pk_ruleset_find(out, (enum pk_table)table, name);
                if (c) c->len++;
            }
            l = nl ? nl + 1 : NULL;
        }
        if (pass == 0) pk_ruleset_sort(out);
    }
    return 0;
}
