/* Unit tests: the metrics mirror (mirror.c) without Redis — the id index, the
 * aggregates kept exact as summaries are replaced, the Prometheus families drawn from
 * them (prom.c), scoped statistics (score.c) and the dashboard's data (dash.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sample_config.h"

#include "metrics.h"

#define MIN 60000LL
#define HOUR 3600000LL
#define NOW 1795000000000LL


/* Puts a case into the mirror: id sequence n, state, street/community (district
 * from the id), one lead assignment of dept with the given times. */
static void
s_put (yx_mirror_t *m, int n, const char *state, long long version, const char *community, const char *dept,
       long long accepted, long long resolved)
{
    char id[32], doc[2048];
    snprintf (id, sizeof id, "%.6s-20261123-%06d", community, n);
    snprintf (doc, sizeof doc,
              "{\"category\":{\"code\":\"0102\"},\"location\":{\"lat\":26.08,\"lon\":119.29,\"grid\":\"%s001\","
              "\"community\":\"%s\",\"street\":\"%.9s\"},\"created_ms\":%lld,\"dispatched_ms\":%lld,\"resolved_ms\":%lld,"
              "\"assignments\":[{\"department\":\"%s\",\"role\":\"lead\",\"state\":\"%s\",\"assigned_ms\":%lld,"
              "\"ack_due_ms\":%lld,\"resolve_due_ms\":%lld,\"accepted_ms\":%lld,\"resolved_ms\":%lld,\"escalation_level\":%d}]}",
              community, community, community, NOW - 2 * HOUR, NOW - 2 * HOUR + 30000, resolved, dept,
              resolved ? "RESOLVED" : accepted ? "ACCEPTED" : "PENDING", NOW - 2 * HOUR + 30000, NOW - 90 * MIN,
              NOW - 30 * MIN, accepted, resolved, n % 4);
    yx_mcase_t c;
    char district[8];
    snprintf (district, sizeof district, "%.6s", community);
    int d = yx_mirror_district (m, district);
    assert_true (d >= 0);
    assert_int_equal (yx_mcase_parse (s_cfg, id, d, state, version, doc, strlen (doc), &c), 0);
    yx_mirror_put (m, &c);
    assert_null (c.asg);   /* the mirror took it */
}

/* The value of one sample line in an exposition, -1 if absent. */
static double
s_sample (const char *text, const char *series)
{
    char probe[256];
    snprintf (probe, sizeof probe, "\n%s ", series);
    const char *at = strstr (text, probe);
    return at ? atof (at + strlen (probe)) : -1;
}

static void
test_index_and_aggregates (void **state)
{
    (void) state;
    yx_mirror_t m;
    assert_int_equal (yx_mirror_init (&m, s_cfg), 0);
    assert_int_equal (m.ndistricts, 2);
    assert_int_equal (yx_mirror_district (&m, "350111"), 1);
    assert_int_equal (yx_mirror_district (&m, "999999"), -1);
    for (int i = 1; i <= 3000; i++)   /* enough to grow the index several times */
        s_put (&m, i, "ACCEPTED", 1, i % 2 ? "350102001001" : "350111001001", "fz-water", NOW - 100 * MIN, 0);
    assert_int_equal (m.ncases, 3000);
    assert_non_null (yx_mirror_get (&m, "350102-20261123-000001"));
    assert_non_null (yx_mirror_get (&m, "350111-20261123-003000"));
    assert_null (yx_mirror_get (&m, "350111-20261123-003001"));
    /* replacing a summary moves its share of the aggregates */
    s_put (&m, 1, "CLOSED", 2, "350102001001", "fz-water", NOW - 100 * MIN, NOW - HOUR);
    s_put (&m, 1, "CLOSED", 2, "350102001001", "fz-water", NOW - 100 * MIN, NOW - HOUR);
    assert_int_equal (m.ncases, 3000);
    yx_mbuf_t b = { 0 };
    yx_mbuf_printf (&b, "\n");
    yx_prom_mirror (&b, &m, NOW);
    assert_false (b.failed);
    assert_true (s_sample (b.data, "yixian_cases{district=\"350102\",state=\"ACCEPTED\",category=\"0102\"}") == 1499);
    assert_true (s_sample (b.data, "yixian_cases{district=\"350102\",state=\"CLOSED\",category=\"0102\"}") == 1);
    assert_true (s_sample (b.data, "yixian_cases{district=\"350111\",state=\"ACCEPTED\",category=\"0102\"}") == 1500);
    assert_true (s_sample (b.data, "yixian_cases_open{district=\"350102\"}") == 1499);
    assert_true (s_sample (b.data, "yixian_cases_overdue{district=\"350102\"}") == 1499);   /* resolve-by 30 min ago */
    const char *h = "yixian_stage_duration_seconds_bucket{district=\"350102\",stage=\"report_to_dispatch\",le=\"60\"}";
    assert_true (s_sample (b.data, h) == 1500);
    h = "yixian_stage_duration_seconds_count{district=\"350102\",stage=\"accept_to_resolve\"}";
    assert_true (s_sample (b.data, h) == 1);
    h = "yixian_stage_duration_seconds_sum{district=\"350102\",stage=\"accept_to_resolve\"}";
    assert_true (s_sample (b.data, h) == 2400);   /* accepted 100 min ago, resolved 60 min ago */
    h = "yixian_stage_duration_seconds_bucket{district=\"350102\",stage=\"dispatch_to_accept\",le=\"+Inf\"}";
    assert_true (s_sample (b.data, h) == 1500);
    /* every family has help and type, and buckets never decrease */
    for (const char *p = strstr (b.data, "# TYPE "); p; p = strstr (p + 1, "# TYPE ")) {
        char name[128];
        assert_int_equal (sscanf (p, "# TYPE %127s", name), 1);
        char help[160];
        snprintf (help, sizeof help, "# HELP %s ", name);
        assert_non_null (strstr (b.data, help));
    }
    free (b.data);
    yx_mirror_destroy (&m);
}

static void
test_scoped_statistics (void **state)
{
    (void) state;
    yx_mirror_t m;
    assert_int_equal (yx_mirror_init (&m, s_cfg), 0);
    s_put (&m, 1, "ACCEPTED", 1, "350102001001", "fz-water", NOW - 100 * MIN, 0);
    s_put (&m, 2, "RESOLVED", 1, "350102001002", "gl-cgj", NOW - 100 * MIN, NOW - 40 * MIN);
    s_put (&m, 3, "DISPATCHED", 1, "350102002002", "gl-cgj", 0, 0);
    s_put (&m, 4, "DISPATCHED", 1, "350111001001", "ja-cgj", 0, 0);
    yx_stats_query_t q = { .scope = "city", .group_by = "street" };
    json_t *j = yx_stats_compute (&m, &q, NOW);
    assert_int_equal (json_integer_value (json_object_get (json_object_get (j, "totals"), "cases")), 4);
    json_t *groups = json_object_get (j, "groups");
    assert_int_equal (json_array_size (groups), 19);
    json_t *first = json_array_get (groups, 0);
    assert_string_equal (json_string_value (json_object_get (first, "key")), "350102001");
    assert_string_equal (json_string_value (json_object_get (first, "name")), "鼓东街道");
    assert_int_equal (json_integer_value (json_object_get (first, "cases")), 2);
    json_decref (j);
    yx_stats_query_t street = { .scope = "350102001", .group_by = "department" };
    j = yx_stats_compute (&m, &street, NOW);
    assert_int_equal (json_integer_value (json_object_get (json_object_get (j, "totals"), "cases")), 2);
    groups = json_object_get (j, "groups");
    assert_int_equal (json_array_size (groups), 2);   /* fz-water and gl-cgj; idle departments are left out */
    json_decref (j);
    yx_stats_query_t narrow = { .scope = "350102", .area = "350102001002", .since = NOW - 3 * HOUR, .until = NOW };
    j = yx_stats_compute (&m, &narrow, NOW);
    assert_int_equal (json_integer_value (json_object_get (json_object_get (j, "totals"), "cases")), 1);
    assert_true (json_is_null (json_object_get (j, "group_by")));
    assert_string_equal (json_string_value (json_object_get (j, "area")), "350102001002");
    json_decref (j);
    yx_stats_query_t later = { .scope = "city", .since = NOW - HOUR };
    j = yx_stats_compute (&m, &later, NOW);
    assert_int_equal (json_integer_value (json_object_get (json_object_get (j, "totals"), "cases")), 0);
    json_decref (j);
    /* the dashboard: worst first on the board, grid counts, departments ranked */
    yx_metrics_t mx = { s_cfg, &m, NOW, NULL, NULL };
    j = yx_dash_compute (&mx, "350102", 0, 0, NOW);
    json_t *counters = json_object_get (j, "counters");
    assert_int_equal (json_integer_value (json_object_get (counters, "open")), 3);
    assert_int_equal (json_integer_value (json_object_get (counters, "late")), 2);   /* case 3: ack missed; 1: resolve-by */
    json_t *board = json_object_get (j, "board");
    assert_int_equal (json_array_size (board), 2);
    assert_string_equal (json_string_value (json_object_get (json_array_get (board, 0), "id")), "350102-20261123-000003");
    assert_int_equal (json_integer_value (json_object_get (json_array_get (board, 0), "level")), 3);
    json_t *grid = json_object_get (json_object_get (json_object_get (j, "map"), "grids"), "350102001001001");
    assert_int_equal (json_integer_value (json_array_get (grid, 0)), 1);
    assert_int_equal (json_integer_value (json_array_get (grid, 1)), 1);
    json_t *league = json_object_get (j, "league");
    assert_string_equal (json_string_value (json_object_get (json_array_get (league, 0), "key")), "gl-cgj");
    assert_string_equal (json_string_value (json_object_get (json_object_get (j, "scope"), "name")), "鼓楼区");
    json_decref (j);
    yx_mirror_destroy (&m);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_index_and_aggregates),
        cmocka_unit_test (test_scoped_statistics),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
