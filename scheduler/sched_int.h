/*
 * sched_int.h - private to scheduler/: the writer that reports decisions
 * to the API (events.c), used by the loop (loop.c).
 */
#ifndef PICOKUBE_SCHED_INT_H
#define PICOKUBE_SCHED_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"

/* Status writes and Events go out at most `max_in_flight` at a time, in
 * order; past `max_queued` waiting, new ones are dropped (and counted):
 * 10,000 unschedulable pods must not become 20,000 concurrent requests,
 * and a dropped condition is written again on the pod's next attempt. */
struct sw_op;
struct sched_writer {
    api_client_t *c;
    const char *component; /* Event source.component */
    const char *instance;  /* reportingInstance */
    unsigned max_in_flight, in_flight;
    size_t max_queued, queued;
    struct sw_op *head, *tail;
    unsigned long dropped, failed, seq;
};

void sw_init(struct sched_writer *w, api_client_t *c, const char *component, const char *instance,
             unsigned max_in_flight, size_t max_queued);
/* Drops what waits (requests in flight end with the client). */
void sw_clear(struct sched_writer *w);
/* A core/v1 Event about a pod: type "Normal"/"Warning". */
void sw_pod_event(struct sched_writer *w, const char *ns, const char *pod, const char *uid,
                  const char *type, const char *reason, const char *message);
/* PodScheduled=False, reason Unschedulable, message, by a strategic merge
 * patch of pods/status; keep_transition: the condition was already False,
 * so its lastTransitionTime stays. */
void sw_pod_unschedulable(struct sched_writer *w, const char *ns, const char *pod,
                          const char *message, bool keep_transition);

#endif /* PICOKUBE_SCHED_INT_H */
