/* Unit tests: metrics case summaries (mcase.c) and scorecards (score.c) — what is
 * read from a stored document, what is refused, and the rate definitions of
 * docs/metrics.md on hand-made cases. */
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
#define NOW 1795000000000LL   /* a fixed "now" in 2026 */


/* Parses a document given as printf arguments into out; returns the parse result. */
static int
s_parse (yx_mcase_t *out, const char *state, const char *fmt, ...)
{
    char doc[8192];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (doc, sizeof doc, fmt, ap);
    va_end (ap);
    return yx_mcase_parse (s_cfg, "350102-20261123-000001", 0, state, 7, doc, strlen (doc), out);
}

static void
test_parse_full_document (void **state)
{
    (void) state;
    yx_mcase_t c;
    assert_int_equal (s_parse (&c, "CLOSED",
        "{\"category\":{\"code\":\"0102\",\"name\":\"污水井盖\"},\"reporter\":{\"phone\":\"13800135678\"},"
        "\"location\":{\"lat\":26.08,\"lon\":119.29,\"grid\":\"350102001001001\",\"community\":\"350102001001\","
        "\"street\":\"350102001\",\"district\":\"350102\"},\"created_ms\":%lld,\"dispatched_ms\":%lld,"
        "\"resolved_ms\":%lld,\"closed_ms\":%lld,\"closed_on_time\":true,\"rework\":2,\"triage\":null,"
        "\"rating\":{\"satisfied\":false,\"score\":2},\"assignments\":[{\"department\":\"fz-water\",\"role\":\"lead\","
        "\"state\":\"RESOLVED\",\"assigned_ms\":%lld,\"ack_due_ms\":%lld,\"resolve_due_ms\":%lld,\"accepted_ms\":%lld,"
        "\"resolved_ms\":%lld,\"escalation_level\":2,\"overdue\":true,\"whistle\":{\"grade\":\"tough\"}},"
        "{\"department\":\"gl-cgj\",\"role\":\"assist\",\"state\":\"RETURNED\",\"ack_overdue\":true}]}",
        NOW - 5 * HOUR, NOW - 5 * HOUR + MIN, NOW - HOUR, NOW, NOW - 5 * HOUR + MIN, NOW - 4 * HOUR,
        NOW, NOW - 4 * HOUR - 10 * MIN, NOW - HOUR), 0);
    assert_string_equal (c.id, "350102-20261123-000001");
    assert_int_equal (c.state, YX_MS_CLOSED);
    assert_int_equal (c.version, 7);
    assert_string_equal (c.street, "350102001");
    assert_string_equal (c.community, "350102001001");
    assert_string_equal (c.grid, "350102001001001");
    assert_string_equal (c.category, "0102");
    assert_string_equal (s_cfg->cats[c.cat].code, "0102");
    assert_true (c.has_point);
    assert_true (c.closed_on_time);
    assert_false (c.triage);
    assert_int_equal (c.rework, 2);
    assert_int_equal (c.satisfied, 0);
    assert_int_equal (c.score, 2);
    assert_int_equal (c.created_ms, NOW - 5 * HOUR);
    assert_int_equal (c.closed_ms, NOW);
    assert_int_equal (c.nasg, 2);
    assert_string_equal (c.asg[0].dept, "fz-water");
    assert_true (c.asg[0].lead);
    assert_int_equal (c.asg[0].state, YX_AS_RESOLVED);
    assert_int_equal (c.asg[0].level, 2);
    assert_true (c.asg[0].overdue && c.asg[0].whistled);
    assert_int_equal (c.asg[0].accepted_ms, NOW - 4 * HOUR - 10 * MIN);
    assert_false (c.asg[1].lead);
    assert_int_equal (c.asg[1].state, YX_AS_RETURNED);
    assert_true (c.asg[1].ack_overdue);
    assert_true (yx_mcase_terminal (&c));
    assert_false (yx_mcase_open (&c));
    assert_int_equal (yx_mcase_first_accept (&c), NOW - 4 * HOUR - 10 * MIN);
    yx_mcase_clear (&c);
}

static void
test_parse_refuses_and_tolerates (void **state)
{
    (void) state;
    yx_mcase_t c;
    assert_int_equal (s_parse (&c, "CLOSED", "[1,2]"), -1);
    assert_null (c.asg);
    assert_int_equal (s_parse (&c, "CLOSED", "{\"created_ms\":"), -1);
    /* wrong types, wrong code lengths, negative times, a position off the globe */
    assert_int_equal (s_parse (&c, "WEIRD",
        "{\"category\":{\"code\":\"9999\"},\"location\":{\"lat\":95,\"lon\":1,\"street\":\"35010200\","
        "\"community\":12,\"grid\":\"35010200100100x\"},\"created_ms\":-4,\"dispatched_ms\":\"x\","
        "\"rating\":{\"satisfied\":\"yes\",\"score\":9},\"rework\":-1,\"triage\":\"low_confidence\","
        "\"assignments\":{\"not\":\"a list\"}}"), 0);
    assert_int_equal (c.state, -1);
    assert_string_equal (c.street, "");
    assert_string_equal (c.community, "");
    assert_string_equal (c.grid, "");
    assert_string_equal (c.category, "9999");
    assert_int_equal (c.cat, s_cfg->ncats);   /* not in the taxonomy */
    assert_false (c.has_point);
    assert_int_equal (c.created_ms, 0);
    assert_int_equal (c.dispatched_ms, 0);
    assert_int_equal (c.satisfied, -1);
    assert_int_equal (c.rework, 0);
    assert_true (c.triage);
    assert_int_equal (c.nasg, 0);
    yx_mcase_clear (&c);
    /* at most 64 assignments are read, non-objects are skipped */
    char doc[8192] = "{\"assignments\":[1";
    for (int i = 0; i < 100; i++)
        strcat (doc, ",{\"department\":\"fz-water\",\"escalation_level\":99}");
    strcat (doc, "]}");
    assert_int_equal (s_parse (&c, "ACCEPTED", "%s", doc), 0);
    assert_int_equal (c.nasg, 63);
    assert_int_equal (c.asg[0].level, 3);
    assert_int_equal (c.asg[0].state, YX_AS_OTHER);
    yx_mcase_clear (&c);
}

static void
test_state_names (void **state)
{
    (void) state;
    for (int s = 0; s < YX_MS_COUNT; s++)
        assert_int_equal (yx_mstate_parse (yx_mstate_name (s)), s);
    assert_int_equal (yx_mstate_parse ("closed"), -1);
    assert_int_equal (yx_mstate_parse (NULL), -1);
    assert_string_equal (yx_mstate_name (-1), "UNKNOWN");
    assert_string_equal (yx_mstate_name (YX_MS_COUNT), "UNKNOWN");
}

/* An assignment with the given state and times (0 = unset). */
static yx_masg_t
s_asg (int st, int64_t ack_due, int64_t resolve_due, int64_t accepted, int64_t resolved)
{
    yx_masg_t a = { .state = (int8_t) st, .lead = true, .assigned_ms = NOW - 2 * HOUR, .ack_due_ms = ack_due,
                    .resolve_due_ms = resolve_due, .accepted_ms = accepted, .resolved_ms = resolved };
    snprintf (a.dept, sizeof a.dept, "fz-water");
    return a;
}

static void
test_assignment_outcomes (void **state)
{
    (void) state;
    yx_masg_t on_time = s_asg (YX_AS_ACCEPTED, NOW - HOUR, NOW + HOUR, NOW - 90 * MIN, 0);
    yx_masg_t late_ack = s_asg (YX_AS_ACCEPTED, NOW - HOUR, NOW + HOUR, NOW - 30 * MIN, 0);
    yx_masg_t waiting = s_asg (YX_AS_PENDING, NOW + MIN, NOW + HOUR, 0, 0);
    yx_masg_t missed = s_asg (YX_AS_PENDING, NOW - MIN, NOW + HOUR, 0, 0);
    yx_masg_t returned = s_asg (YX_AS_RETURNED, NOW - HOUR, NOW + HOUR, 0, 0);
    yx_masg_t returned_late = returned;
    returned_late.ack_overdue = true;
    yx_masg_t cancelled = s_asg (YX_AS_CANCELLED, NOW + MIN, NOW + HOUR, 0, 0);
    assert_int_equal (yx_masg_response (&on_time, NOW), 1);
    assert_int_equal (yx_masg_response (&late_ack, NOW), 0);
    assert_int_equal (yx_masg_response (&waiting, NOW), -1);
    assert_int_equal (yx_masg_response (&missed, NOW), 0);
    assert_int_equal (yx_masg_response (&returned, NOW), 1);
    assert_int_equal (yx_masg_response (&returned_late, NOW), 0);
    assert_int_equal (yx_masg_response (&cancelled, NOW), -1);
    assert_false (yx_masg_late (&waiting, NOW));
    assert_true (yx_masg_late (&missed, NOW));
    assert_false (yx_masg_late_resolve (&missed, NOW));
    yx_masg_t overdue = s_asg (YX_AS_ACCEPTED, NOW - HOUR, NOW - MIN, NOW - 90 * MIN, 0);
    assert_true (yx_masg_late_resolve (&overdue, NOW));
    overdue.state = YX_AS_RESOLVED;   /* resolved late is no longer open */
    assert_false (yx_masg_late_resolve (&overdue, NOW));
    yx_masg_t flagged = s_asg (YX_AS_ACCEPTED, 0, 0, NOW - HOUR, 0);
    flagged.overdue = true;
    assert_true (yx_masg_late (&flagged, NOW));
}

/* A case summary with n assignments copied from asg (not owned: cleared by hand). */
static yx_mcase_t
s_case (int st, yx_masg_t *asg, int n)
{
    yx_mcase_t c = { .state = (int8_t) st, .satisfied = -1, .created_ms = NOW - 3 * HOUR, .asg = asg, .nasg = n };
    snprintf (c.id, sizeof c.id, "350102-20261123-000001");
    snprintf (c.street, sizeof c.street, "350102001");
    snprintf (c.community, sizeof c.community, "350102001001");
    return c;
}

/* A rate field of a card: -1 for null. */
static double
s_rate (json_t *card, const char *key)
{
    json_t *v = json_object_get (card, key);
    assert_non_null (v);
    return json_is_null (v) ? -1 : json_number_value (v);
}

static void
test_area_card (void **state)
{
    (void) state;
    yx_masg_t a1[] = { s_asg (YX_AS_RESOLVED, NOW - 2 * HOUR + 30 * MIN, NOW - HOUR, NOW - 2 * HOUR + 10 * MIN, NOW - 90 * MIN) };
    yx_masg_t a2[] = { s_asg (YX_AS_ACCEPTED, NOW - 2 * HOUR + 30 * MIN, NOW - MIN, NOW - HOUR, 0) };
    yx_masg_t a3[] = { s_asg (YX_AS_PENDING, NOW + HOUR, NOW + 2 * HOUR, 0, 0) };
    yx_mcase_t closed = s_case (YX_MS_CLOSED, a1, 1), late = s_case (YX_MS_ACCEPTED, a2, 1),
               fresh = s_case (YX_MS_DISPATCHED, a3, 1), rejected = s_case (YX_MS_REJECTED, NULL, 0);
    closed.closed_on_time = true;
    closed.satisfied = 1;
    closed.score = 5;
    closed.resolved_ms = NOW - 90 * MIN;
    closed.dispatched_ms = late.dispatched_ms = fresh.dispatched_ms = NOW - 2 * HOUR;
    yx_card_t card = { 0 };
    yx_card_add_case (&card, &closed, NOW);
    yx_card_add_case (&card, &late, NOW);
    yx_card_add_case (&card, &fresh, NOW);
    yx_card_add_case (&card, &rejected, NOW);
    json_t *j = yx_card_json (&card, false);
    assert_int_equal (json_integer_value (json_object_get (j, "cases")), 4);
    assert_int_equal (json_integer_value (json_object_get (j, "valid")), 3);
    assert_int_equal (json_integer_value (json_object_get (j, "open")), 2);
    assert_int_equal (json_integer_value (json_object_get (j, "overdue_open")), 1);
    assert_true (s_rate (j, "on_time_rate") == 0.5);          /* 1 closed on time ÷ (1 closed + 1 overdue) */
    assert_true (s_rate (j, "resolution_rate") == 0.3333);    /* 1 closed ÷ 3 valid */
    assert_true (s_rate (j, "response_rate") == 0.5);         /* a1 in time, a2 late, a3 undecided */
    assert_true (s_rate (j, "satisfaction_rate") == 1.0);
    assert_true (s_rate (j, "rework_rate") == 0.0);
    assert_true (s_rate (j, "return_rate") == 0.0);
    assert_int_equal (json_integer_value (json_object_get (j, "mean_resolve_s")), 5400);   /* 3 h − 1.5 h */
    assert_int_equal (json_integer_value (json_object_get (json_object_get (j, "by_state"), "REJECTED")), 1);
    json_decref (j);
    yx_card_t empty = { 0 };
    j = yx_card_json (&empty, false);
    assert_true (s_rate (j, "on_time_rate") == -1 && s_rate (j, "satisfaction_rate") == -1);
    assert_true (json_is_null (json_object_get (j, "mean_ack_s")));
    json_decref (j);
}

static void
test_department_card (void **state)
{
    (void) state;
    yx_masg_t done = s_asg (YX_AS_RESOLVED, NOW - HOUR, NOW - 30 * MIN, NOW - 100 * MIN, NOW - 20 * MIN);
    yx_masg_t back = s_asg (YX_AS_RETURNED, NOW - HOUR, NOW + HOUR, 0, 0);
    yx_masg_t whistled = s_asg (YX_AS_ACCEPTED, NOW - HOUR, NOW + HOUR, NOW - 110 * MIN, 0);
    whistled.whistled = true;
    whistled.level = 1;
    yx_mcase_t c1 = s_case (YX_MS_CLOSED, &done, 1), c2 = s_case (YX_MS_RETURNED, &back, 1),
               c3 = s_case (YX_MS_ACCEPTED, &whistled, 1);
    c1.satisfied = 0;
    c1.rework = 1;
    yx_card_t card = { 0 };
    yx_card_add_asg (&card, &c1, &done, NOW);
    yx_card_add_asg (&card, &c2, &back, NOW);
    yx_card_add_asg (&card, &c3, &whistled, NOW);
    json_t *j = yx_card_json (&card, true);
    assert_int_equal (json_integer_value (json_object_get (j, "assigned")), 3);
    assert_int_equal (json_integer_value (json_object_get (j, "kept")), 2);
    assert_true (s_rate (j, "on_time_rate") == 0.0);          /* resolved 10 min after its resolve-by */
    assert_true (s_rate (j, "resolution_rate") == 0.5);       /* 1 resolved ÷ 2 kept */
    assert_true (s_rate (j, "return_rate") == 0.3333);
    assert_true (s_rate (j, "whistle_rate") == 0.3333);
    assert_true (s_rate (j, "response_rate") == 1.0);         /* two accepted in time, one returned in time */
    assert_true (s_rate (j, "satisfaction_rate") == 0.0);
    assert_true (s_rate (j, "rework_rate") == 1.0);
    assert_int_equal (json_integer_value (json_object_get (j, "escalated")), 1);
    assert_int_equal (json_integer_value (json_object_get (j, "mean_resolve_s")), 6000);  /* 2 h − 20 min */
    assert_int_equal (json_integer_value (json_object_get (j, "mean_ack_s")), 900);       /* 20 and 10 min */
    assert_null (json_object_get (j, "by_state"));
    json_decref (j);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse_full_document),
        cmocka_unit_test (test_parse_refuses_and_tolerates),
        cmocka_unit_test (test_state_names),
        cmocka_unit_test (test_assignment_outcomes),
        cmocka_unit_test (test_area_card),
        cmocka_unit_test (test_department_card),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
