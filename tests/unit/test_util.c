/* Unit tests: time formats, UTF-8, case ids, logfmt values, phone masking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "case.h"
#include "log.h"
#include "util.h"

static void
test_time_roundtrip (void **state)
{
    (void) state;
    int64_t ms;
    assert_int_equal (yx_time_parse ("2026-11-23T08:00:00+08:00", &ms), 0);
    assert_int_equal (ms, 1795392000000LL);
    char buf[40];
    assert_string_equal (yx_time_format (ms, 480, buf, sizeof buf), "2026-11-23T08:00:00.000+08:00");
    assert_string_equal (yx_time_format (ms, 0, buf, sizeof buf), "2026-11-23T00:00:00.000+00:00");
    assert_int_equal (yx_time_parse ("2026-11-23T00:00:00.250Z", &ms), 0);
    assert_int_equal (ms, 1795392000250LL);
    assert_int_equal (yx_time_parse ("2024-02-29T12:00:00-05:30", &ms), 0);
    assert_string_equal (yx_time_format (ms, -330, buf, sizeof buf), "2024-02-29T12:00:00.000-05:30");
}

static void
test_time_rejects (void **state)
{
    (void) state;
    int64_t ms;
    const char *bad[] = { "", "2026-11-23", "2026-11-23T08:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2025-02-29T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T08:00:00+8:00",
                          "2026-11-23T08:00:00Zjunk", "2026-11-23T08:00:00.Z", "x026-11-23T08:00:00Z" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal (yx_time_parse (bad[i], &ms), -1);
}

static void
test_utf8 (void **state)
{
    (void) state;
    const char *good = "井盖冒污水 abc \xf0\x9f\x98\x80";
    assert_true (yx_utf8_valid (good, strlen (good)));
    assert_int_equal (yx_utf8_chars ("井盖a", strlen ("井盖a")), 3);
    assert_false (yx_utf8_valid ("\xc0\xaf", 2));          /* overlong */
    assert_false (yx_utf8_valid ("\xed\xa0\x80", 3));      /* surrogate */
    assert_false (yx_utf8_valid ("\xe4\xba", 2));          /* truncated */
    assert_false (yx_utf8_valid ("\xf4\x90\x80\x80", 4));  /* > U+10FFFF */
    assert_false (yx_utf8_valid ("\xff", 1));
    assert_true (yx_utf8_valid ("", 0));
}

static void
test_case_id (void **state)
{
    (void) state;
    char d[8];
    assert_int_equal (yx_case_id_district ("350102-20261123-000042", d), 0);
    assert_string_equal (d, "350102");
    assert_int_equal (yx_case_id_district ("350102-20261123-00004", d), -1);
    assert_int_equal (yx_case_id_district ("350102_20261123-000042", d), -1);
    assert_int_equal (yx_case_id_district ("35010x-20261123-000042", d), -1);
    assert_int_equal (yx_case_id_district ("../../etc/passwd-000000", d), -1);
}

static void
test_log_value_and_mask (void **state)
{
    (void) state;
    char buf[64];
    assert_string_equal (yx_log_value ("hotline", buf, sizeof buf), "hotline");
    assert_string_equal (yx_log_value ("a b\"c\n", buf, sizeof buf), "\"a b\\\"c\\x0a\"");
    assert_string_equal (yx_log_value ("", buf, sizeof buf), "\"\"");
    yx_mask_phone ("13800135678", buf, sizeof buf);
    assert_string_equal (buf, "138****5678");
    yx_mask_phone ("123", buf, sizeof buf);
    assert_string_equal (buf, "****");
}

static void
test_random_ids_differ (void **state)
{
    (void) state;
    char a[40], b[40];
    yx_random_id (a, sizeof a);
    yx_random_id (b, sizeof b);
    assert_int_equal (strlen (a), 32);
    assert_string_not_equal (a, b);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_time_roundtrip), cmocka_unit_test (test_time_rejects),
        cmocka_unit_test (test_utf8),           cmocka_unit_test (test_case_id),
        cmocka_unit_test (test_log_value_and_mask), cmocka_unit_test (test_random_ids_differ),
    };
    return cmocka_run_group_tests_name ("util", tests, NULL, NULL);
}
