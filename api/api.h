/*
 * api.h - the Kubernetes object model and client every picokube component uses.
 *
 * Objects are cJSON trees in the Kubernetes JSON form. This header is shared by
 * several files of api/, each owning one concern (see the section headings):
 *   resources.c   the kinds and resources picokube serves (discovery, routing)
 *   meta.c        ObjectMeta helpers, metav1.Status builders
 *   validate*.c   validation with Kubernetes' rules and messages
 *   defaults.c    defaulting as Kubernetes does
 *   table.c       meta.k8s.io/v1 Table conversion (kubectl get columns)
 *   selector.c    label and field selectors
 *   quantity.c    resource quantities
 *   patch.c       JSON patch (RFC 6902) and JSON merge patch (RFC 7386)
 *   smp.c         strategic merge patch
 *   client.c, informer.c, workqueue.c   the client side
 * Public names are prefixed api_.
 */
#ifndef PICOKUBE_API_H
#define PICOKUBE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* ===================================================== MODEL (resources, meta,
 * validation, defaults, table) -- owned by the object-model work. */

/* ===================================================== OPS (selectors,
 * quantities, patches) -- owned by the operations work. */

/* ===================================================== CLIENT (client,
 * informers, work queue) -- owned by the client work. */

#endif /* PICOKUBE_API_H */
