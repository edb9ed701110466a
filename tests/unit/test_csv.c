/* Unit tests: the CSV record splitter used by `yxctl import`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "csv.h"

static int
s_split (const char *text, char *buf, size_t buflen, char **f)
{
    return yx_csv_split (text, strlen (text), buf, buflen, f, 8);
}

static void
test_plain_and_quoted (void **state)
{
    (void) state;
    char buf[256], *f[8];
    assert_int_equal (s_split ("a,b,,d", buf, sizeof buf, f), 4);
    assert_string_equal (f[0], "a");
    assert_string_equal (f[2], "");
    assert_string_equal (f[3], "d");
    assert_int_equal (s_split ("\"x, y\",\"say \"\"hi\"\"\",\"多行\n文本\"", buf, sizeof buf, f), 3);
    assert_string_equal (f[0], "x, y");
    assert_string_equal (f[1], "say \"hi\"");
    assert_string_equal (f[2], "多行\n文本");
    assert_int_equal (s_split ("", buf, sizeof buf, f), 1);
    assert_int_equal (s_split ("a,", buf, sizeof buf, f), 2);
}

static void
test_rejects (void **state)
{
    (void) state;
    char buf[256], *f[8], small[4];
    assert_int_equal (s_split ("\"open", buf, sizeof buf, f), -1);
    assert_int_equal (s_split ("\"a\"b,c", buf, sizeof buf, f), -1);
    assert_int_equal (s_split ("a\"b", buf, sizeof buf, f), -1);
    assert_int_equal (s_split ("a,b,c,d,e,f,g,h,i", buf, sizeof buf, f), -1);
    assert_int_equal (s_split ("abcdef", small, sizeof small, f), -1);
    assert_true (yx_csv_open_quote ("a,\"b", 4));
    assert_false (yx_csv_open_quote ("a,\"b\"", 5));
}

int
main (void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test (test_plain_and_quoted), cmocka_unit_test (test_rejects) };
    return cmocka_run_group_tests_name ("csv", tests, NULL, NULL);
}
