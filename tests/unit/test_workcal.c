/*  =========================================================================
    test_workcal.c - unit tests for the working calendar (cmocka)

    Most tests run on a China calendar for 2026: UTC+08:00, 08:30-12:00 and
    14:30-18:00, Saturday and Sunday off, the National Day week 2026-10-01..07
    as holidays, and 2026-09-20 (Sunday) and 2026-10-10 (Saturday) as
    make-up workdays.
    =========================================================================
*/

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workcal.h"

#define HOUR_MS     INT64_C (3600000)
#define MINUTE_MS   INT64_C (60000)

static char s_dir [64];         //  Temporary folder for config files

//  Epoch ms of local time "YYYY-MM-DD HH:MM" at a UTC offset in minutes,
//  computed with timegm() so as not to share code with the calendar.
static int64_t
s_at (int offset_minutes, const char *text)
{
    struct tm tm = { 0 };
    int year, month, day, hour, minute;
    assert_int_equal (sscanf (text, "%d-%d-%d %d:%d",
                              &year, &month, &day, &hour, &minute), 5);
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    return (int64_t) timegm (&tm) * 1000 - offset_minutes * MINUTE_MS;
}

//  Epoch ms of a China Standard Time "YYYY-MM-DD HH:MM"
static int64_t
s_cst (const char *text)
{
    return s_at (480, text);
}

//  Deadline for a local start and a duration text
static int64_t
s_deadline (const yx_workcal_t *cal, const char *start, const char *limit,
            bool emergency)
{
    yx_duration_t d;
    assert_int_equal (yx_duration_parse (limit, &d), 0);
    return yx_workcal_deadline (cal, s_cst (start), d, emergency);
}

//  Assert that start + limit on cal ends at the China time expected
static void
s_check (const yx_workcal_t *cal, const char *start, const char *limit,
         bool emergency, const char *expected)
{
    int64_t deadline = s_deadline (cal, start, limit, emergency);
    if (deadline != s_cst (expected))
        fail_msg ("%s + %s: expected %s, got %lld min later", start, limit, expected,
                  (long long) ((deadline - s_cst (expected)) / MINUTE_MS));
}

static int
s_china_setup (void **state)
{
    yx_workcal_t *cal = yx_workcal_new (480);
    assert_non_null (cal);
    assert_int_equal (yx_workcal_add_span (cal, 8 * 60 + 30, 12 * 60), 0);
    assert_int_equal (yx_workcal_add_span (cal, 14 * 60 + 30, 18 * 60), 0);
    int weekend [] = { 6, 7 };
    assert_int_equal (yx_workcal_set_weekend (cal, weekend, 2), 0);
    char date [32];
    for (int day = 1; day <= 7; day++) {
        snprintf (date, sizeof date, "2026-10-%02d", day);
        assert_int_equal (yx_workcal_add_holiday (cal, date), 0);
    }
    assert_int_equal (yx_workcal_add_workday (cal, "2026-09-20"), 0);
    assert_int_equal (yx_workcal_add_workday (cal, "2026-10-10"), 0);
    *state = cal;
    return 0;
}

static int
s_china_teardown (void **state)
{
    yx_workcal_t *cal = *state;
    yx_workcal_destroy (&cal);
    assert_null (cal);
    return 0;
}

static void
test_duration_parse (void **state)
{
    (void) state;
    yx_duration_t d;
    assert_int_equal (yx_duration_parse ("30m", &d), 0);
    assert_int_equal (d.amount, 30);
    assert_int_equal (d.unit, 'm');
    assert_int_equal (yx_duration_parse ("4h", &d), 0);
    assert_true (d.amount == 4 && d.unit == 'h');
    assert_int_equal (yx_duration_parse ("15d", &d), 0);
    assert_true (d.amount == 15 && d.unit == 'd');
    assert_int_equal (yx_duration_parse ("100000m", &d), 0);
    assert_int_equal (yx_duration_parse ("1000h", &d), 0);
    assert_int_equal (yx_duration_parse ("365d", &d), 0);

    const char *bad [] = {
        "", "0m", "-1h", "+1h", "5x", "1.5h", "h", "4", "04h", " 4h", "4h ",
        "4H", "4hh", "100001m", "1001h", "366d",
        "99999999999999999999h", "9223372036854775808m"
    };
    d.amount = 7;
    d.unit = 'h';
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        if (yx_duration_parse (bad [i], &d) != -1)
            fail_msg ("\"%s\" was accepted", bad [i]);
    }
    assert_true (d.amount == 7 && d.unit == 'h');      //  Untouched on error
    assert_int_equal (yx_duration_parse (NULL, &d), -1);
    assert_int_equal (yx_duration_parse ("4h", NULL), -1);
}

static void
test_api_rejects_bad_input (void **state)
{
    (void) state;
    assert_null (yx_workcal_new (841));
    assert_null (yx_workcal_new (-841));
    yx_workcal_t *cal = yx_workcal_new (-840);
    assert_non_null (cal);
    assert_int_equal (yx_workcal_add_span (cal, 600, 600), -1);    //  Empty
    assert_int_equal (yx_workcal_add_span (cal, 1080, 510), -1);   //  Reversed
    assert_int_equal (yx_workcal_add_span (cal, -1, 60), -1);
    assert_int_equal (yx_workcal_add_span (cal, 0, 1441), -1);
    assert_int_equal (yx_workcal_add_span (cal, 600, 700), 0);
    assert_int_equal (yx_workcal_add_span (cal, 650, 800), -1);    //  Overlap
    assert_int_equal (yx_workcal_add_span (cal, 100, 200), -1);    //  Out of order
    assert_int_equal (yx_workcal_add_span (cal, 700, 800), 0);     //  Touching
    assert_int_equal (yx_workcal_add_span (cal, 900, 1000), 0);
    assert_int_equal (yx_workcal_add_span (cal, 1000, 1440), 0);
    assert_int_equal (yx_workcal_add_span (cal, 1440, 1440), -1);  //  Fifth

    int weekdays [] = { 6, 8 };
    assert_int_equal (yx_workcal_set_weekend (cal, weekdays, 2), -1);
    weekdays [1] = 0;
    assert_int_equal (yx_workcal_set_weekend (cal, weekdays, 2), -1);
    assert_int_equal (yx_workcal_set_weekend (cal, weekdays, -1), -1);
    assert_int_equal (yx_workcal_set_weekend (cal, NULL, 0), 0);

    const char *bad [] = {
        "2026-02-30", "2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31",
        "2026-2-3", "2026/02/03", "26-02-03", "2026-02-03 ", "1969-12-31", ""
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        if (yx_workcal_add_holiday (cal, bad [i]) != -1)
            fail_msg ("holiday \"%s\" was accepted", bad [i]);
        if (yx_workcal_add_workday (cal, bad [i]) != -1)
            fail_msg ("workday \"%s\" was accepted", bad [i]);
    }
    assert_int_equal (yx_workcal_add_holiday (cal, "2028-02-29"), 0);  //  Leap year
    assert_int_equal (yx_workcal_add_holiday (cal, "2000-02-29"), 0);
    assert_int_equal (yx_workcal_add_holiday (cal, "2028-02-29"), 0);  //  Twice is fine
    assert_int_equal (yx_workcal_add_holiday (cal, NULL), -1);
    yx_workcal_destroy (&cal);
    yx_workcal_destroy (&cal);          //  Safe on NULL
    assert_int_equal (yx_workcal_add_span (NULL, 0, 60), -1);
}

static void
test_across_night (void **state)
{
    //  Monday 16:00 + 4h: 2h today, 2h from Tuesday's opening
    s_check (*state, "2026-03-09 16:00", "4h", false, "2026-03-10 10:30");
}

static void
test_lunch_break (void **state)
{
    s_check (*state, "2026-03-09 10:00", "4h", false, "2026-03-09 16:30");
    //  Starting during lunch begins at 14:30
    s_check (*state, "2026-03-09 13:00", "30m", false, "2026-03-09 15:00");
}

static void
test_across_weekend (void **state)
{
    //  Friday 17:00 + 2h: 1h Friday, 1h Monday
    s_check (*state, "2026-03-13 17:00", "2h", false, "2026-03-16 09:30");
    //  Starting on Saturday begins on Monday morning
    s_check (*state, "2026-03-14 11:00", "30m", false, "2026-03-16 09:00");
}

static void
test_holiday_week (void **state)
{
    //  Wednesday 2026-09-30 17:00 + 2h: 1h, then the holiday week, then Thursday
    s_check (*state, "2026-09-30 17:00", "2h", false, "2026-10-08 09:30");
    //  8h from Friday 10-09 14:30 spills into the make-up Saturday 10-10
    s_check (*state, "2026-10-09 14:30", "8h", false, "2026-10-10 15:30");
}

static void
test_makeup_sunday_counts (void **state)
{
    //  Friday 2026-09-18 17:30 + 1h: Saturday is off, make-up Sunday works
    s_check (*state, "2026-09-18 17:30", "1h", false, "2026-09-20 09:00");
    assert_true (yx_workcal_is_working_time (*state, s_cst ("2026-09-20 10:00")));
    assert_false (yx_workcal_is_working_time (*state, s_cst ("2026-09-19 10:00")));
    //  The Sunday after is an ordinary Sunday again
    assert_false (yx_workcal_is_working_time (*state, s_cst ("2026-09-27 10:00")));
}

static void
test_start_inside_holiday (void **state)
{
    //  From 10-03 10:00: 3.5h on 10-08's morning, 0.5h after lunch
    s_check (*state, "2026-10-03 10:00", "4h", false, "2026-10-08 15:00");
}

static void
test_start_before_opening (void **state)
{
    s_check (*state, "2026-03-09 07:00", "30m", false, "2026-03-09 09:00");
    s_check (*state, "2026-03-09 00:00", "7h", false, "2026-03-09 18:00");
}

static void
test_span_boundaries (void **state)
{
    //  Starting at the opening minute counts from it
    s_check (*state, "2026-03-09 08:30", "30m", false, "2026-03-09 09:00");
    //  Starting at a closing minute counts from the next opening
    s_check (*state, "2026-03-09 12:00", "30m", false, "2026-03-09 15:00");
    s_check (*state, "2026-03-09 18:00", "1h", false, "2026-03-10 09:30");
    //  Using a span up exactly ends at its closing time, not the next opening
    s_check (*state, "2026-03-09 11:00", "1h", false, "2026-03-09 12:00");
    s_check (*state, "2026-03-13 14:30", "210m", false, "2026-03-13 18:00");
}

static void
test_day_rule (void **state)
{
    //  The day of receipt never counts, whatever the hour
    s_check (*state, "2026-03-09 08:31", "1d", false, "2026-03-10 18:00");
    s_check (*state, "2026-03-09 23:59", "1d", false, "2026-03-10 18:00");
    s_check (*state, "2026-03-13 09:00", "1d", false, "2026-03-16 18:00");
    s_check (*state, "2026-03-14 09:00", "1d", false, "2026-03-16 18:00");
    //  15 working days from Monday 03-09
    s_check (*state, "2026-03-09 10:00", "15d", false, "2026-03-30 18:00");
    //  15 working days across National Day, counting make-up Saturday 10-10
    s_check (*state, "2026-09-28 10:00", "15d", false, "2026-10-23 18:00");
    //  Receipt on Saturday 09-19: the make-up Sunday is day 1
    s_check (*state, "2026-09-19 10:00", "1d", false, "2026-09-20 18:00");
    //  Receipt inside the holiday
    s_check (*state, "2026-10-03 10:00", "1d", false, "2026-10-08 18:00");
    //  A year is walked day by day, not minute by minute
    assert_true (s_deadline (*state, "2026-01-05 10:00", "365d", false)
                 > s_cst ("2027-05-01 00:00"));
}

static void
test_emergency_wall_clock (void **state)
{
    s_check (*state, "2026-03-13 17:00", "2h", true, "2026-03-13 19:00");
    s_check (*state, "2026-03-13 17:00", "1d", true, "2026-03-14 17:00");
    s_check (*state, "2026-10-02 03:00", "30m", true, "2026-10-02 03:30");
    s_check (*state, "2026-09-30 23:00", "90m", true, "2026-10-01 00:30");
}

static void
test_working_ms_between (void **state)
{
    const yx_workcal_t *cal = *state;
    assert_int_equal (yx_workcal_working_ms_between (cal, s_cst ("2026-03-09 16:00"),
                      s_cst ("2026-03-10 10:30")), 4 * HOUR_MS);
    assert_int_equal (yx_workcal_working_ms_between (cal, s_cst ("2026-03-13 17:00"),
                      s_cst ("2026-03-16 09:30")), 2 * HOUR_MS);
    assert_int_equal (yx_workcal_working_ms_between (cal, s_cst ("2026-09-30 17:00"),
                      s_cst ("2026-10-08 09:30")), 2 * HOUR_MS);
    //  A plain week is 5 x 7h
    assert_int_equal (yx_workcal_working_ms_between (cal, s_cst ("2026-03-09 00:00"),
                      s_cst ("2026-03-16 00:00")), 35 * HOUR_MS);
    //  October 2026: 18 working days (10-08, 10-09, 10-10, then 3 full weeks)
    assert_int_equal (yx_workcal_working_ms_between (cal, s_cst ("2026-10-01 00:00"),
                      s_cst ("2026-11-01 00:00")), 18 * 7 * HOUR_MS);
    //  How overdue: deadline 10-08 09:30, now 10-08 15:00
    assert_int_equal (yx_workcal_working_ms_between (cal, s_cst ("2026-10-08 09:30"),
                      s_cst ("2026-10-08 15:00")), 3 * HOUR_MS);
    //  Empty or reversed ranges, bad times
    int64_t now = s_cst ("2026-03-09 10:00");
    assert_int_equal (yx_workcal_working_ms_between (cal, now, now), 0);
    assert_int_equal (yx_workcal_working_ms_between (cal, now, now - HOUR_MS), 0);
    assert_int_equal (yx_workcal_working_ms_between (cal, -1, now), -1);
    assert_int_equal (yx_workcal_working_ms_between (NULL, 0, now), -1);
}

static void
test_is_working_time (void **state)
{
    const yx_workcal_t *cal = *state;
    int64_t monday = s_cst ("2026-03-09 00:00");
    assert_false (yx_workcal_is_working_time (cal, monday + 510 * MINUTE_MS - 1));
    assert_true (yx_workcal_is_working_time (cal, monday + 510 * MINUTE_MS));
    assert_true (yx_workcal_is_working_time (cal, monday + 720 * MINUTE_MS - 1));
    assert_false (yx_workcal_is_working_time (cal, monday + 720 * MINUTE_MS));
    assert_true (yx_workcal_is_working_time (cal, monday + 870 * MINUTE_MS));
    assert_true (yx_workcal_is_working_time (cal, monday + 1080 * MINUTE_MS - 1));
    assert_false (yx_workcal_is_working_time (cal, monday + 1080 * MINUTE_MS));
    assert_false (yx_workcal_is_working_time (cal, s_cst ("2026-03-14 10:00")));
    assert_false (yx_workcal_is_working_time (cal, s_cst ("2026-10-01 10:00")));
    assert_true (yx_workcal_is_working_time (cal, s_cst ("2026-10-10 10:00")));
    assert_false (yx_workcal_is_working_time (cal, -1));
    assert_false (yx_workcal_is_working_time (NULL, monday));
}

//  For any start, the working time between start and its deadline is the
//  limit, and the last millisecond before the deadline is working time.
static void
test_deadline_round_trip (void **state)
{
    const yx_workcal_t *cal = *state;
    const char *limits [] = { "1m", "30m", "4h", "7h", "15h", "40h" };
    int64_t end = s_cst ("2026-10-16 00:00");
    for (int64_t start = s_cst ("2026-09-14 00:00"); start < end;
         start += 37 * MINUTE_MS) {
        for (size_t i = 0; i < sizeof limits / sizeof limits [0]; i++) {
            yx_duration_t d;
            assert_int_equal (yx_duration_parse (limits [i], &d), 0);
            int64_t amount = d.amount * (d.unit == 'm'? MINUTE_MS: HOUR_MS);
            int64_t deadline = yx_workcal_deadline (cal, start, d, false);
            assert_true (deadline > start);
            assert_int_equal (yx_workcal_working_ms_between (cal, start, deadline),
                              amount);
            assert_true (yx_workcal_is_working_time (cal, deadline - 1));
        }
    }
}

static void
test_no_working_time (void **state)
{
    (void) state;
    yx_duration_t hours = { 4, 'h' }, days = { 1, 'd' };
    int64_t start = s_cst ("2026-03-09 10:00");
    yx_workcal_t *cal = yx_workcal_new (480);
    //  No spans at all
    assert_int_equal (yx_workcal_deadline (cal, start, hours, false), -1);
    assert_int_equal (yx_workcal_deadline (cal, start, days, false), -1);
    //  Every weekday off: give up instead of looping
    assert_int_equal (yx_workcal_add_span (cal, 540, 1020), 0);
    int all [] = { 1, 2, 3, 4, 5, 6, 7 };
    assert_int_equal (yx_workcal_set_weekend (cal, all, 7), 0);
    assert_int_equal (yx_workcal_deadline (cal, start, hours, false), -1);
    assert_int_equal (yx_workcal_deadline (cal, start, days, false), -1);
    //  A single make-up workday is found, and only once
    assert_int_equal (yx_workcal_add_workday (cal, "2026-06-01"), 0);
    assert_int_equal (yx_workcal_deadline (cal, start, hours, false),
                      s_cst ("2026-06-01 13:00"));
    assert_int_equal (yx_workcal_deadline (cal, start, days, false),
                      s_cst ("2026-06-01 17:00"));
    days.amount = 2;
    assert_int_equal (yx_workcal_deadline (cal, start, days, false), -1);
    //  Emergencies do not need working time
    assert_int_equal (yx_workcal_deadline (cal, start, hours, true), start + 4 * HOUR_MS);
    //  Bad arguments
    yx_duration_t zero = { 0, 'h' }, unit = { 4, 'x' };
    assert_int_equal (yx_workcal_deadline (cal, start, zero, true), -1);
    assert_int_equal (yx_workcal_deadline (cal, start, unit, false), -1);
    assert_int_equal (yx_workcal_deadline (cal, -1, hours, true), -1);
    assert_int_equal (yx_workcal_deadline (NULL, start, hours, true), -1);
    yx_workcal_destroy (&cal);
}

static void
test_negative_offset (void **state)
{
    (void) state;
    yx_workcal_t *cal = yx_workcal_new (-300);
    assert_int_equal (yx_workcal_add_span (cal, 540, 1020), 0);
    yx_duration_t hours = { 2, 'h' }, days = { 1, 'd' };
    //  Monday 16:00 local is 21:00 UTC; 2h ends Tuesday 10:00 local
    assert_int_equal (yx_workcal_deadline (cal, s_at (-300, "2026-03-09 16:00"),
                                           hours, false),
                      s_at (-300, "2026-03-10 10:00"));
    //  Sunday 22:00 local is already Monday in UTC, but receipt is Sunday
    assert_int_equal (yx_workcal_deadline (cal, s_at (-300, "2026-03-08 22:00"),
                                           days, false),
                      s_at (-300, "2026-03-09 17:00"));
    assert_false (yx_workcal_is_working_time (cal, s_at (-300, "2026-03-08 22:00")));
    assert_true (yx_workcal_is_working_time (cal, s_at (-300, "2026-03-09 09:00")));
    yx_workcal_destroy (&cal);
    //  The epoch is Wednesday 1969-12-31 19:00 there; only Wednesday evenings work
    cal = yx_workcal_new (-300);
    int others [] = { 1, 2, 4, 5, 6, 7 };
    assert_int_equal (yx_workcal_add_span (cal, 18 * 60, 1440), 0);
    assert_int_equal (yx_workcal_set_weekend (cal, others, 6), 0);
    assert_true (yx_workcal_is_working_time (cal, 0));
    assert_int_equal (yx_workcal_working_ms_between (cal, 0, 6 * HOUR_MS), 5 * HOUR_MS);
    yx_workcal_destroy (&cal);
}

//  Write text to a config file named name in the temp folder, read it
//  (@include resolves against that folder) and build a calendar. Fills path.
static yx_workcal_t *
s_load (const char *name, const char *text, char *err, size_t errlen,
        char *path, size_t pathlen)
{
    snprintf (path, pathlen, "%s/%s", s_dir, name);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
    config_t config;
    config_init (&config);
    config_set_include_dir (&config, s_dir);
    if (!config_read_file (&config, path))
        fail_msg ("%s:%d: %s", path, config_error_line (&config),
                  config_error_text (&config));
    err [0] = '\0';
    yx_workcal_t *cal = yx_workcal_from_config (config_lookup (&config, "calendar"),
                                                err, errlen);
    config_destroy (&config);
    return cal;
}

//  Lines 1-2 and line 3 of most bad config files
#define HEAD    "calendar = {\n  utc_offset = \"+08:00\";\n"
#define HOURS   "  work_hours = [ \"08:30-12:00\" ];\n"

//  Assert that text fails to load with an error starting "FILE:LINE: KEY:"
static void
s_expect_error (const char *text, int line, const char *key)
{
    char err [256], path [128], prefix [256];
    assert_null (s_load ("bad.cfg", text, err, sizeof err, path, sizeof path));
    snprintf (prefix, sizeof prefix, "%s:%d: %s: ", path, line, key);
    if (strncmp (err, prefix, strlen (prefix)) != 0)
        fail_msg ("expected \"%s...\", got \"%s\"", prefix, err);
    unlink (path);
}

static void
test_config_good (void **state)
{
    (void) state;
    char err [256], path [128];
    yx_workcal_t *cal = s_load ("good.cfg",
        "calendar = {\n"
        "  utc_offset = \"+08:00\";\n"
        "  work_hours = [ \"08:30-12:00\", \"14:30-18:00\" ];\n"
        "  weekend = [ 6, 7 ];\n"
        "  holidays = [ \"2026-10-01\", \"2026-10-02\", \"2026-10-03\", \"2026-10-04\",\n"
        "               \"2026-10-05\", \"2026-10-06\", \"2026-10-07\" ];\n"
        "  workdays = ( \"2026-09-20\", \"2026-10-10\" );\n"
        "};\n", err, sizeof err, path, sizeof path);
    if (!cal)
        fail_msg ("%s", err);
    s_check (cal, "2026-09-30 17:00", "2h", false, "2026-10-08 09:30");
    s_check (cal, "2026-09-28 10:00", "15d", false, "2026-10-23 18:00");
    assert_true (yx_workcal_is_working_time (cal, s_cst ("2026-09-20 10:00")));
    yx_workcal_destroy (&cal);
    unlink (path);

    //  Minimal: no weekend, other offset, optional keys left out
    cal = s_load ("min.cfg",
        "calendar = { utc_offset = \"-05:30\"; work_hours = [ \"00:00-24:00\" ];"
        " weekend = [ ]; };\n", err, sizeof err, path, sizeof path);
    if (!cal)
        fail_msg ("%s", err);
    assert_true (yx_workcal_is_working_time (cal, s_cst ("2026-03-14 10:00")));
    assert_int_equal (yx_workcal_working_ms_between (cal, s_at (-330, "2026-03-14 00:00"),
                      s_at (-330, "2026-03-16 00:00")), 48 * HOUR_MS);
    yx_workcal_destroy (&cal);
    unlink (path);
}

static void
test_config_bad_span (void **state)
{
    (void) state;
    s_expect_error (HEAD "  work_hours = [ \"08:30-12:00\",\n"
                    "                 \"18:00-08:30\" ];\n};\n",
                    4, "calendar.work_hours[1]");
    s_expect_error (HEAD "  work_hours = [ \"08:30-12:00\", \"11:00-13:00\" ];\n};\n",
                    3, "calendar.work_hours[1]");
    s_expect_error (HEAD "  work_hours = [ \"8:30-12:00\" ];\n};\n",
                    3, "calendar.work_hours[0]");
    s_expect_error (HEAD "  work_hours = [ \"08:30-24:01\" ];\n};\n",
                    3, "calendar.work_hours[0]");
    s_expect_error (HEAD "  work_hours = [ \"01:00-02:00\", \"03:00-04:00\", \"05:00-06:00\",\n"
                    "                 \"07:00-08:00\", \"09:00-10:00\" ];\n};\n",
                    3, "calendar.work_hours");
    s_expect_error (HEAD "  work_hours = \"08:30-12:00\";\n};\n", 3, "calendar.work_hours");
}

static void
test_config_bad_date (void **state)
{
    (void) state;
    s_expect_error (HEAD HOURS "  holidays = [ \"2026-10-01\", \"2026-02-30\" ];\n};\n",
                    4, "calendar.holidays[1]");
    s_expect_error (HEAD HOURS "  workdays = [ 20260920 ];\n};\n", 4, "calendar.workdays[0]");
    //  A date cannot be both off and a make-up workday
    s_expect_error (HEAD HOURS "  holidays = [ \"2026-10-01\" ];\n"
                    "  workdays = [ \"2026-09-20\",\n  \"2026-10-01\" ];\n};\n",
                    6, "calendar.workdays[1]");
}

static void
test_config_bad_weekday (void **state)
{
    (void) state;
    s_expect_error (HEAD HOURS "  weekend = [ 6, 8 ];\n};\n", 4, "calendar.weekend[1]");
    s_expect_error (HEAD HOURS "  weekend = [ 7, 7 ];\n};\n", 4, "calendar.weekend[1]");
    s_expect_error (HEAD HOURS "  weekend = [ 0 ];\n};\n", 4, "calendar.weekend[0]");
}

static void
test_config_other_errors (void **state)
{
    (void) state;
    s_expect_error ("calendar = {\n" HOURS "};\n", 1, "calendar.utc_offset");
    s_expect_error ("calendar = {\n  utc_offset = \"+08:00\";\n};\n", 1, "calendar.work_hours");
    s_expect_error ("calendar = {\n  utc_offset = \"+8\";\n" HOURS "};\n",
                    2, "calendar.utc_offset");
    s_expect_error ("calendar = {\n  utc_offset = \"+14:30\";\n" HOURS "};\n",
                    2, "calendar.utc_offset");
    s_expect_error (HEAD HOURS "  holiday = [ \"2026-10-01\" ];\n};\n", 4, "calendar.holiday");
    s_expect_error ("calendar = 5;\n", 1, "calendar");

    //  An error in an included file names that file, as the @include wrote it
    char err [256], path [128], inc [128];
    snprintf (inc, sizeof inc, "%s/calendar.cfg", s_dir);
    FILE *file = fopen (inc, "w");
    assert_non_null (file);
    fputs ("calendar = {\n  utc_offset = \"+08:00\";\n"
           "  work_hours = [ \"18:00-08:30\" ];\n};\n", file);
    fclose (file);
    assert_null (s_load ("main.cfg", "# main\n@include \"calendar.cfg\"\n",
                         err, sizeof err, path, sizeof path));
    const char *prefix = "calendar.cfg:3: calendar.work_hours[0]: ";
    if (strncmp (err, prefix, strlen (prefix)) != 0)
        fail_msg ("expected \"%s...\", got \"%s\"", prefix, err);
    unlink (inc);
    unlink (path);

    assert_null (yx_workcal_from_config (NULL, err, sizeof err));
    assert_string_equal (err, "calendar: missing section");
    assert_null (yx_workcal_from_config (NULL, NULL, 0));
}

static int
s_dir_setup (void **state)
{
    (void) state;
    snprintf (s_dir, sizeof s_dir, "/tmp/yx-workcal-XXXXXX");
    return mkdtemp (s_dir)? 0: -1;
}

static int
s_dir_teardown (void **state)
{
    (void) state;
    return rmdir (s_dir);
}

#define CHINA(test) cmocka_unit_test_setup_teardown (test, s_china_setup, s_china_teardown)

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_duration_parse),
        cmocka_unit_test (test_api_rejects_bad_input),
        CHINA (test_across_night),
        CHINA (test_lunch_break),
        CHINA (test_across_weekend),
        CHINA (test_holiday_week),
        CHINA (test_makeup_sunday_counts),
        CHINA (test_start_inside_holiday),
        CHINA (test_start_before_opening),
        CHINA (test_span_boundaries),
        CHINA (test_day_rule),
        CHINA (test_emergency_wall_clock),
        CHINA (test_working_ms_between),
        CHINA (test_is_working_time),
        CHINA (test_deadline_round_trip),
        cmocka_unit_test (test_no_working_time),
        cmocka_unit_test (test_negative_offset),
        cmocka_unit_test (test_config_good),
        cmocka_unit_test (test_config_bad_span),
        cmocka_unit_test (test_config_bad_date),
        cmocka_unit_test (test_config_bad_weekday),
        cmocka_unit_test (test_config_other_errors),
    };
    return cmocka_run_group_tests (tests, s_dir_setup, s_dir_teardown);
}
