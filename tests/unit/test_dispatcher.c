/* Unit tests: the joint-disposal rule that ties a case's state to its assignments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "actions.h"

/* A document with assignments given as "role:STATE" strings. */
static json_t *
s_doc (const char *const *specs, int n)
{
    json_t *asg = json_array ();
    for (int i = 0; i < n; i++) {
        char role[16], state[16], dept[16];
        sscanf (specs[i], "%15[^:]:%15s", role, state);
        snprintf (dept, sizeof dept, "d%d", i);
        json_array_append_new (asg, json_pack ("{s:s, s:s, s:s}", "department", dept, "role", role, "state", state));
    }
    return json_pack ("{s:o}", "assignments", asg);
}

static const char *
s_state (const char *const *specs, int n)
{
    static char out[16];
    json_t *doc = s_doc (specs, n);
    snprintf (out, sizeof out, "%s", yx_case_state_from_assignments (doc));
    json_decref (doc);
    return out;
}

static void
test_joint_rule (void **state)
{
    (void) state;
    const char *a[] = { "lead:PENDING" };
    assert_string_equal (s_state (a, 1), "DISPATCHED");
    const char *b[] = { "lead:ACCEPTED", "assist:PENDING" };
    assert_string_equal (s_state (b, 2), "ACCEPTED");
    const char *c[] = { "lead:RESOLVED", "assist:ACCEPTED" };
    assert_string_equal (s_state (c, 2), "ACCEPTED");      /* waits for the assistant */
    const char *d[] = { "lead:RESOLVED", "assist:RESOLVED", "assist:RETURNED" };
    assert_string_equal (s_state (d, 3), "RESOLVED");      /* a return does not hold it open */
    const char *e[] = { "lead:RETURNED" };
    assert_string_equal (s_state (e, 1), "RETURNED");      /* nobody leads: arbitration */
    const char *f[] = { "lead:CANCELLED", "lead:PENDING" };
    assert_string_equal (s_state (f, 2), "DISPATCHED");    /* reassigned */
    const char *g[] = { "lead:RESOLVED", "assist:CANCELLED" };
    assert_string_equal (s_state (g, 2), "RESOLVED");
}

int
main (void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test (test_joint_rule) };
    return cmocka_run_group_tests_name ("dispatcher", tests, NULL, NULL);
}
