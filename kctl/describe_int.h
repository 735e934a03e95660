/*
 * describe_int.h - the describe writer (describe_fmt.c) shared by the
 * describers (describe.c). Private to kctl/.
 */
#ifndef PICOKUBE_KCTL_DESCRIBE_INT_H
#define PICOKUBE_KCTL_DESCRIBE_INT_H

#include <time.h>

#include "kctl/kctl_int.h"

typedef struct dw {
    char **lines;
    size_t n, cap;
} dw_t;

void dw_init(dw_t *w);
/* A line (or several, split on '\n') indented by 2*level spaces; '\t'
 * separates cells aligned at flush. */
void dw_line(dw_t *w, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prints every line with text/tabwriter's alignment (padding 2) and
 * empties the writer. */
void dw_flush(dw_t *w, FILE *out);
/* "Title:\tk=v" then one "\tk=v" line per further entry, sorted; <none>
 * when empty. skip names a key left out (may be NULL). */
void dw_map(dw_t *w, int level, const char *title, const cJSON *map, const char *skip);
/* Annotations as kubectl shows them ("k: v"), without last-applied. */
void dw_annotations(dw_t *w, int level, const cJSON *map);
/* The Events of obj as kubectl's table, or "Events: <none>". */
void dw_events(dw_t *w, kctl_t *k, const cJSON *obj);
/* "Mon, 02 Jan 2006 15:04:05 +0000" of an RFC 3339 time. */
void dw_time(const char *ts, char *buf, size_t len);

/* The node describer (describe_node.c). */
void kctl_describe_node(dw_t *w, kctl_t *k, const cJSON *n);

#endif
