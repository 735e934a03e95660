/*
 * metrics.c - the process-wide Prometheus registry: counters, gauges (set or
 * read through a function at render time) and histograms, rendered as text
 * format 0.0.4.
 *
 * Components on different threads update metrics on hot paths, so one mutex
 * guards the registry and the values; a series is found through a hash of
 * "name\x01labels" so that looking a series up per request stays cheap.
 * Series are never freed: their number is bounded by the code's label sets,
 * and callers keep the pointers they were given.
 *
 * Gauge functions belong to other components and may take those components'
 * locks, so they are called with the registry lock released (a render lock
 * keeps two renders from mixing their readings).
 */
#include "lib/lib.h"
#include "lib/sbuf.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum mtype { MT_COUNTER, MT_GAUGE, MT_HISTOGRAM };

struct series;

struct family {
    char *name;
    char *help;
    enum mtype type;
    struct series *first, *last;
    struct family *next;
};

/* Every series starts with this header so that families can hold any kind. */
struct series {
    struct family *fam;
    char *labels;             /* "" for none */
    struct series *next;      /* in the family, in creation order */
    struct series *hash_next; /* in the lookup table */
};

struct metrics_counter {
    struct series s;
    double value;
};

struct metrics_gauge {
    struct series s;
    double value;            /* for set gauges */
    double (*fn)(void *arg); /* for function gauges; NULL otherwise */
    void *arg;
    bool is_fn;
    double reading;              /* fn's value for the current render */
    unsigned long reading_epoch; /* which render `reading` belongs to */
};

struct metrics_histogram {
    struct series s;
    double *bounds;
    size_t n_bounds;
    uint64_t *counts; /* per bucket, not cumulative; n_bounds + 1 with +Inf */
    double sum;
    uint64_t count;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t render_lock = PTHREAD_MUTEX_INITIALIZER;
static struct family *families, *families_last;
static struct series **table;
static size_t table_size, table_used;
static unsigned long render_epoch;

static const double default_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,    0.25,  0.5,    1,     2.5,  5,     10};

static uint64_t hash_key(const char *name, const char *labels)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 1) * 1099511628211ULL;
    for (const char *p = labels; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static struct series *lookup(const char *name, const char *labels)
{
    if (!table_size) return NULL;
    struct series *s = table[hash_key(name, labels) & (table_size - 1)];
    for (; s; s = s->hash_next)
        if (!strcmp(s->fam->name, name) && !strcmp(s->labels, labels)) return s;
    return NULL;
}

static void table_insert(struct series *s)
{
    if (table_used * 2 >= table_size) {
        size_t nsize = table_size ? table_size * 2 : 64;
        struct series **nt = xcalloc(nsize, sizeof(*nt));
        for (size_t i = 0; i < table_size; i++) {
            struct series *e = table[i];
            while (e) {
                struct series *next = e->hash_next;
                size_t b = hash_key(e->fam->name, e->labels) & (nsize - 1);
                e->hash_next = nt[b];
                nt[b] = e;
                e = next;
            }
        }
        free(table);
        table = nt;
        table_size = nsize;
    }
    size_t b = hash_key(s->fam->name, s->labels) & (table_size - 1);
    s->hash_next = table[b];
    table[b] = s;
    table_used++;
}

static struct family *family_get(const char *name, const char *help, enum mtype type)
{
    for (struct family *f = families; f; f = f->next)
        if (!strcmp(f->name, name)) return f;
    struct family *f = xcalloc(1, sizeof(*f));
    f->name = xstrdup(name);
    f->help = xstrdup(help ? help : "");
    f->type = type;
    if (families_last)
        families_last->next = f;
    else
        families = f;
    families_last = f;
    return f;
}

/* Finds or creates the series; returns NULL when `name` already names a
 * family of another type (a programming error the caller reports). */
static struct series *series_get(const char *name, const char *help, const char *labels,
                                 enum mtype type, size_t size, bool *created)
{
    if (!labels) labels = "";
    *created = false;
    struct series *s = lookup(name, labels);
    if (s) return s->fam->type == type ? s : NULL;
    struct family *f = family_get(name, help, type);
    if (f->type != type) return NULL;
    s = xcalloc(1, size);
    s->fam = f;
    s->labels = xstrdup(labels);
    if (f->last)
        f->last->next = s;
    else
        f->first = s;
    f->last = s;
    table_insert(s);
    *created = true;
    return s;
}

/* A series handed out when a name is reused with another type: updates to it
 * go nowhere, so a wrong registration cannot crash the process. */
static void *orphan(size_t size, const char *name)
{
    log_error("metrics", "%s is already registered with another type; updates are dropped", name);
    struct series *s = xcalloc(1, size);
    static struct family orphan_family = {.name = "orphan", .help = ""};
    s->fam = &orphan_family;
    s->labels = xstrdup("");
    /* Keep it reachable so leak checkers do not report it. */
    static struct series *orphans;
    s->next = orphans;
    orphans = s;
    return s;
}

metrics_counter_t *metrics_counter(const char *name, const char *help, const char *labels)
{
    bool created;
    pthread_mutex_lock(&reg_lock);
    struct series *s =
        series_get(name, help, labels, MT_COUNTER, sizeof(struct metrics_counter), &created);
    if (!s) s = orphan(sizeof(struct metrics_counter), name);
    pthread_mutex_unlock(&reg_lock);
    return (metrics_counter_t *)s;
}

void metrics_counter_add(metrics_counter_t *c, double v)
{
    if (!c) return;
    pthread_mutex_lock(&reg_lock);
    c->value += v;
    pthread_mutex_unlock(&reg_lock);
}

double metrics_counter_value(metrics_counter_t *c)
{
    pthread_mutex_lock(&reg_lock);
    double v = c ? c->value : 0;
    pthread_mutex_unlock(&reg_lock);
    return v;
}

/* "name{labels}" -> name, labels (both malloc'd). */
static void split_name(const char *full, char **name, char **labels)
{
    const char *brace = strchr(full, '{');
    if (!brace) {
        *name = xstrdup(full);
        *labels = xstrdup("");
        return;
    }
    *name = xstrndup(full, (size_t)(brace - full));
    const char *end = strrchr(brace, '}');
    if (!end || end < brace) end = brace + strlen(brace);
    *labels = xstrndup(brace + 1, (size_t)(end - brace - 1));
}

void metrics_gauge_fn(const char *name, const char *help, double (*fn)(void *arg), void *arg)
{
    char *fname, *labels;
    split_name(name, &fname, &labels);
    bool created;
    pthread_mutex_lock(&reg_lock);
    struct metrics_gauge *g = (struct metrics_gauge *)series_get(
        fname, help, labels, MT_GAUGE, sizeof(struct metrics_gauge), &created);
    if (g) {
        g->fn = fn;
        g->arg = arg;
        g->is_fn = true;
    } else {
        log_error("metrics", "%s is already registered with another type", fname);
    }
    pthread_mutex_unlock(&reg_lock);
    free(fname);
    free(labels);
}

void metrics_gauge_fn_remove(const char *name)
{
    char *fname, *labels;
    split_name(name, &fname, &labels);
    pthread_mutex_lock(&reg_lock);
    struct series *s = lookup(fname, labels);
    if (s && s->fam->type == MT_GAUGE) {
        struct metrics_gauge *g = (struct metrics_gauge *)s;
        g->fn = NULL;
        g->arg = NULL;
    }
    pthread_mutex_unlock(&reg_lock);
    /* A render that already copied the pointer may still be calling it; the
     * render lock waits for that render to finish. */
    pthread_mutex_lock(&render_lock);
    pthread_mutex_unlock(&render_lock);
    free(fname);
    free(labels);
}

metrics_gauge_t *metrics_gauge(const char *name, const char *help, const char *labels)
{
    bool created;
    pthread_mutex_lock(&reg_lock);
    struct series *s =
        series_get(name, help, labels, MT_GAUGE, sizeof(struct metrics_gauge), &created);
    if (!s) s = orphan(sizeof(struct metrics_gauge), name);
    pthread_mutex_unlock(&reg_lock);
    return (metrics_gauge_t *)s;
}

void metrics_gauge_set(metrics_gauge_t *g, double v)
{
    if (!g) return;
    pthread_mutex_lock(&reg_lock);
    ((struct metrics_gauge *)g)->value = v;
    pthread_mutex_unlock(&reg_lock);
}

void metrics_gauge_add(metrics_gauge_t *g, double v)
{
    if (!g) return;
    pthread_mutex_lock(&reg_lock);
    ((struct metrics_gauge *)g)->value += v;
    pthread_mutex_unlock(&reg_lock);
}

metrics_histogram_t *metrics_histogram(const char *name, const char *help, const char *labels,
                                       const double *bounds, size_t n_bounds)
{
    if (!bounds || !n_bounds) {
        bounds = default_bounds;
        n_bounds = sizeof(default_bounds) / sizeof(default_bounds[0]);
    }
    bool created;
    pthread_mutex_lock(&reg_lock);
    struct metrics_histogram *h = (struct metrics_histogram *)series_get(
        name, help, labels, MT_HISTOGRAM, sizeof(struct metrics_histogram), &created);
    if (!h) h = orphan(sizeof(struct metrics_histogram), name);
    if (!h->bounds) {
        /* Bounds that are not ascending would make buckets meaningless: keep
         * only the ascending prefix. */
        size_t n = 1;
        while (n < n_bounds && bounds[n] > bounds[n - 1])
            n++;
        h->bounds = xmalloc(n * sizeof(double));
        memcpy(h->bounds, bounds, n * sizeof(double));
        h->n_bounds = n;
        h->counts = xcalloc(n + 1, sizeof(uint64_t));
    }
    pthread_mutex_unlock(&reg_lock);
    return h;
}

void metrics_histogram_observe(metrics_histogram_t *h, double v)
{
    if (!h || !h->counts) return;
    size_t i = 0;
    while (i < h->n_bounds && v > h->bounds[i])
        i++;
    pthread_mutex_lock(&reg_lock);
    h->counts[i]++;
    h->sum += v;
    h->count++;
    pthread_mutex_unlock(&reg_lock);
}

/* Shortest text that reads back as the same double, as Prometheus prints. */
static void put_double(struct sbuf *b, double v)
{
    if (isnan(v)) {
        sbuf_puts(b, "NaN");
        return;
    }
    if (isinf(v)) {
        sbuf_puts(b, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) break;
    }
    sbuf_puts(b, tmp);
}

static void put_escaped_help(struct sbuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            sbuf_puts(b, "\\\\");
        else if (*s == '\n')
            sbuf_puts(b, "\\n");
        else
            sbuf_putc(b, *s);
    }
}

/* name{labels[,extra]} */
static void put_series_name(struct sbuf *b, const char *name, const char *suffix,
                            const char *labels, const char *extra)
{
    sbuf_puts(b, name);
    sbuf_puts(b, suffix);
    if (!*labels && !extra) return;
    sbuf_putc(b, '{');
    sbuf_puts(b, labels);
    if (extra) {
        if (*labels) sbuf_putc(b, ',');
        sbuf_puts(b, extra);
    }
    sbuf_putc(b, '}');
}

static void render_histogram(struct sbuf *b, const char *name, struct metrics_histogram *h)
{
    uint64_t cum = 0;
    char le[64];
    for (size_t i = 0; i <= h->n_bounds; i++) {
        cum += h->counts[i];
        if (i < h->n_bounds) {
            struct sbuf tmp = {0};
            put_double(&tmp, h->bounds[i]);
            snprintf(le, sizeof(le), "le=\"%s\"", tmp.p);
            sbuf_free(&tmp);
        } else {
            snprintf(le, sizeof(le), "le=\"+Inf\"");
        }
        put_series_name(b, name, "_bucket", h->s.labels, le);
        sbuf_printf(b, " %llu\n", (unsigned long long)cum);
    }
    put_series_name(b, name, "_sum", h->s.labels, NULL);
    sbuf_putc(b, ' ');
    put_double(b, h->sum);
    sbuf_putc(b, '\n');
    put_series_name(b, name, "_count", h->s.labels, NULL);
    sbuf_printf(b, " %llu\n", (unsigned long long)h->count);
}

/* Calls every gauge function without the registry lock (render_lock held). */
static void read_gauge_fns(unsigned long epoch)
{
    size_t n = 0, cap = 0;
    struct metrics_gauge **gs = NULL;
    pthread_mutex_lock(&reg_lock);
    for (struct family *f = families; f; f = f->next) {
        if (f->type != MT_GAUGE) continue;
        for (struct series *s = f->first; s; s = s->next) {
            struct metrics_gauge *g = (struct metrics_gauge *)s;
            if (!g->is_fn || !g->fn) continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                gs = xrealloc(gs, cap * sizeof(*gs));
            }
            gs[n++] = g;
        }
    }
    double (**fns)(void *) = xmalloc((n ? n : 1) * sizeof(*fns));
    void **args = xmalloc((n ? n : 1) * sizeof(*args));
    for (size_t i = 0; i < n; i++) {
        fns[i] = gs[i]->fn;
        args[i] = gs[i]->arg;
    }
    pthread_mutex_unlock(&reg_lock);

    for (size_t i = 0; i < n; i++) {
        /* reading/reading_epoch are only touched under render_lock. */
        gs[i]->reading = fns[i](args[i]);
        gs[i]->reading_epoch = epoch;
    }
    free(gs);
    free(fns);
    free(args);
}

char *metrics_render(size_t *len)
{
    static const char *type_names[] = {"counter", "gauge", "histogram"};
    struct sbuf b = {0};
    pthread_mutex_lock(&render_lock);
    unsigned long epoch = ++render_epoch;
    read_gauge_fns(epoch);

    pthread_mutex_lock(&reg_lock);
    for (struct family *f = families; f; f = f->next) {
        struct sbuf body = {0};
        for (struct series *s = f->first; s; s = s->next) {
            if (f->type == MT_COUNTER) {
                put_series_name(&body, f->name, "", s->labels, NULL);
                sbuf_putc(&body, ' ');
                put_double(&body, ((struct metrics_counter *)s)->value);
                sbuf_putc(&body, '\n');
            } else if (f->type == MT_GAUGE) {
                struct metrics_gauge *g = (struct metrics_gauge *)s;
                double v = g->value;
                if (g->is_fn) {
                    /* Removed, or registered after this render read the
                     * functions: nothing to show for it this time. */
                    if (!g->fn || g->reading_epoch != epoch) continue;
                    v = g->reading;
                }
                put_series_name(&body, f->name, "", s->labels, NULL);
                sbuf_putc(&body, ' ');
                put_double(&body, v);
                sbuf_putc(&body, '\n');
            } else {
                render_histogram(&body, f->name, (struct metrics_histogram *)s);
            }
        }
        if (body.len) {
            sbuf_printf(&b, "# HELP %s ", f->name);
            put_escaped_help(&b, f->help);
            sbuf_printf(&b, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
            sbuf_append(&b, body.p, body.len);
        }
        sbuf_free(&body);
    }
    pthread_mutex_unlock(&reg_lock);
    pthread_mutex_unlock(&render_lock);
    if (len) *len = b.len;
    return sbuf_take(&b);
}
