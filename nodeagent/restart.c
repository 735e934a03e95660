/*
 * restart.c - when a container that stopped runs again: its pod's
 * restartPolicy, and the kubelet's crash back-off (CrashLoopBackOff).
 *
 * The back-off follows the kubelet's flowcontrol.Backoff: the first
 * restart is immediate; after each later exit the container waits, from
 * the time it exited, twice as long as the time before (10 s, 20 s,
 * 40 s ... capped at 5 minutes); the count is forgotten when an exit comes
 * more than twice the cap after the last restart.
 * Times are monotonic, so a clock step never shortens or stretches it.
 */
#include "nodeagent/agent_int.h"

#include <string.h>

bool restart_wanted(const char *policy, int exit_code)
{
    if (!policy || !strcmp(policy, "Always") || !*policy) return true;
    if (!strcmp(policy, "OnFailure")) return exit_code != 0;
    return false; /* Never */
}

static bool expired(const struct backoff *b, uint64_t event, uint64_t max)
{
    return b->delay_ms && event > b->last_ms &&
           event - b->last_ms > 2 * (max ? max : BACKOFF_MAX_MS);
}

bool backoff_allows(const struct backoff *b, uint64_t event, uint64_t now, uint64_t max,
                    uint64_t *wait_ms)
{
    *wait_ms = 0;
    if (!b->delay_ms || expired(b, event, max)) return true;
    uint64_t until = event + b->delay_ms;
    if (now >= until) return true;
    *wait_ms = until - now;
    return false;
}

void backoff_next(struct backoff *b, uint64_t event, uint64_t now, uint64_t initial, uint64_t max)
{
    if (!initial) initial = BACKOFF_INITIAL_MS;
    if (!max) max = BACKOFF_MAX_MS;
    if (!b->delay_ms || expired(b, event, max))
        b->delay_ms = initial;
    else
        b->delay_ms = b->delay_ms * 2 > max ? max : b->delay_ms * 2;
    b->last_ms = now;
}
