/*
 * sbuf.h - private growable byte buffer used by lib/ (HTTP framing, metrics
 * rendering). Kept private so the public header stays about behaviour, not
 * about how lib/ builds its strings.
 *
 * Allocation failures abort: every caller would have to drop the request or
 * the metrics page anyway, and lib/ runs on machines where malloc failing
 * means the OOM killer is seconds away.
 */
#ifndef PICOKUBE_LIB_SBUF_H
#define PICOKUBE_LIB_SBUF_H

#include <stdarg.h>
#include <stddef.h>

struct sbuf {
    char *p;    /* always NUL-terminated when non-NULL */
    size_t len; /* bytes used, without the NUL */
    size_t cap;
};

void sbuf_reserve(struct sbuf *b, size_t extra);
void sbuf_append(struct sbuf *b, const void *data, size_t len);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_putc(struct sbuf *b, char c);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap);
/* Drops the first n bytes, keeping the rest. */
void sbuf_consume(struct sbuf *b, size_t n);
void sbuf_reset(struct sbuf *b);
void sbuf_free(struct sbuf *b);
/* Hands the buffer to the caller (NUL-terminated, never NULL) and empties b. */
char *sbuf_take(struct sbuf *b);
/* malloc/realloc that abort on failure, for the same reason as above. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif /* PICOKUBE_LIB_SBUF_H */
