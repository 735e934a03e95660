/*
 * test_metrics.c - the Prometheus registry: identity of series, text format
 * 0.0.4 (HELP/TYPE once per family, labelled series, cumulative histogram
 * buckets with +Inf, _sum and _count), gauges by function and by value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/lib.h"

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_counter_identity(void **state)
{
    (void)state;
    metrics_counter_t *a = metrics_counter("t_requests_total", "Requests.", "verb=\"GET\"");
    metrics_counter_t *b = metrics_counter("t_requests_total", "Requests.", "verb=\"GET\"");
    metrics_counter_t *c = metrics_counter("t_requests_total", "Requests.", "verb=\"PUT\"");
    assert_ptr_equal(a, b);
    assert_ptr_not_equal(a, c);
    assert_ptr_equal(metrics_counter("t_plain_total", "x", NULL),
                     metrics_counter("t_plain_total", "x", ""));
    metrics_counter_add(a, 2);
    metrics_counter_add(b, 1);
    assert_true(metrics_counter_value(a) == 3.0);
}

static void test_render_counters(void **state)
{
    (void)state;
    metrics_counter_add(metrics_counter("t_render_total", "Line one\nback\\slash", "code=\"200\""),
                        5);
    metrics_counter_add(metrics_counter("t_render_total", "ignored", "code=\"404\""), 1.5);
    metrics_counter_add(metrics_counter("t_nolabel_total", "No labels.", NULL), 7);
    size_t len;
    char *text = metrics_render(&len);
    assert_int_equal(strlen(text), len);
    assert_int_equal(count(text, "# HELP t_render_total "), 1);
    assert_int_equal(count(text, "# TYPE t_render_total counter\n"), 1);
    assert_non_null(strstr(text, "# HELP t_render_total Line one\\nback\\\\slash\n"));
    assert_non_null(strstr(text, "t_render_total{code=\"200\"} 5\n"));
    assert_non_null(strstr(text, "t_render_total{code=\"404\"} 1.5\n"));
    assert_non_null(strstr(text, "\nt_nolabel_total 7\n"));
    /* HELP and TYPE come before the family's samples. */
    assert_true(strstr(text, "# TYPE t_render_total") < strstr(text, "t_render_total{"));
    free(text);
}

static double read_fn(void *arg)
{
    return *(double *)arg;
}

static void test_gauges(void **state)
{
    (void)state;
    static double v = 42;
    metrics_gauge_fn("t_fn_gauge", "A read gauge.", read_fn, &v);
    metrics_gauge_fn("t_fn_lab{node=\"a\"}", "Labelled.", read_fn, &v);
    metrics_gauge_t *g = metrics_gauge("t_set_gauge", "A set gauge.", "x=\"1\"");
    metrics_gauge_set(g, 3);
    metrics_gauge_add(g, -1);
    char *text = metrics_render(NULL);
    assert_non_null(strstr(text, "# TYPE t_fn_gauge gauge\nt_fn_gauge 42\n"));
    assert_non_null(strstr(text, "t_fn_lab{node=\"a\"} 42\n"));
    assert_non_null(strstr(text, "t_set_gauge{x=\"1\"} 2\n"));
    free(text);
    v = 0.25;
    text = metrics_render(NULL);
    assert_non_null(strstr(text, "t_fn_gauge 0.25\n"));
    free(text);
    metrics_gauge_fn_remove("t_fn_gauge");
    text = metrics_render(NULL);
    assert_null(strstr(text, "t_fn_gauge"));
    free(text);
}

static void test_histogram(void **state)
{
    (void)state;
    const double bounds[] = {0.1, 1, 10};
    metrics_histogram_t *h =
        metrics_histogram("t_latency_seconds", "Latency.", "verb=\"LIST\"", bounds, 3);
    assert_ptr_equal(
        h, metrics_histogram("t_latency_seconds", "Latency.", "verb=\"LIST\"", bounds, 3));
    metrics_histogram_observe(h, 0.05);
    metrics_histogram_observe(h, 0.1); /* le is inclusive */
    metrics_histogram_observe(h, 0.5);
    metrics_histogram_observe(h, 100);
    char *text = metrics_render(NULL);
    assert_int_equal(count(text, "# TYPE t_latency_seconds histogram\n"), 1);
    assert_non_null(strstr(text, "t_latency_seconds_bucket{verb=\"LIST\",le=\"0.1\"} 2\n"
                                 "t_latency_seconds_bucket{verb=\"LIST\",le=\"1\"} 3\n"
                                 "t_latency_seconds_bucket{verb=\"LIST\",le=\"10\"} 3\n"
                                 "t_latency_seconds_bucket{verb=\"LIST\",le=\"+Inf\"} 4\n"
                                 "t_latency_seconds_sum{verb=\"LIST\"} 100.65\n"
                                 "t_latency_seconds_count{verb=\"LIST\"} 4\n"));
    free(text);

    metrics_histogram_t *d = metrics_histogram("t_default_seconds", "Default.", NULL, NULL, 0);
    metrics_histogram_observe(d, 0.0003);
    text = metrics_render(NULL);
    assert_non_null(strstr(text, "t_default_seconds_bucket{le=\"0.0005\"} 1\n"));
    assert_non_null(strstr(text, "t_default_seconds_bucket{le=\"10\"} 1\n"));
    assert_non_null(strstr(text, "t_default_seconds_bucket{le=\"+Inf\"} 1\n"));
    assert_non_null(strstr(text, "t_default_seconds_count 1\n"));
    free(text);
}

static void test_type_clash_is_harmless(void **state)
{
    (void)state;
    metrics_counter_add(metrics_counter("t_clash", "Counter first.", NULL), 1);
    metrics_gauge_t *g = metrics_gauge("t_clash", "Then a gauge.", NULL);
    assert_non_null(g);
    metrics_gauge_set(g, 99);
    char *text = metrics_render(NULL);
    assert_int_equal(count(text, "# TYPE t_clash "), 1);
    assert_non_null(strstr(text, "t_clash 1\n"));
    assert_null(strstr(text, "t_clash 99"));
    free(text);
}

static void *bump(void *arg)
{
    metrics_counter_t *c = arg;
    for (int i = 0; i < 10000; i++)
        metrics_counter_add(c, 1);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    metrics_counter_t *c = metrics_counter("t_threads_total", "Threads.", NULL);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, bump, c);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_true(metrics_counter_value(c) == 40000.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_identity),
        cmocka_unit_test(test_render_counters),
        cmocka_unit_test(test_gauges),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_type_clash_is_harmless),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
