/* Unit tests: what the classifier decides — keyword rules, the reporter's category,
 * confidence and alternatives, routing through the responsibility list and the
 * locality fallback (属地兜底) — on the sample city's configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "decide.h"
#include "sample_config.h"

static void
test_rules_pick_the_clear_subcategory (void **state)
{
    (void) state;
    yx_decision_t d;
    yx_decide_category (s_cfg, NULL, NULL, "小区里多个井盖冒污水，臭气熏天", &d);
    assert_string_equal (d.method, "rule");
    assert_string_equal (d.code, "0102");
    assert_true (d.confidence > 0.5);
    yx_decide_category (s_cfg, NULL, NULL, "路灯不亮了好几天", &d);
    assert_string_equal (d.code, "0111");
    yx_decide_category (s_cfg, NULL, NULL, "门口有人占道经营卖水果", &d);
    assert_string_equal (d.code, "1401");
    /* nothing matches and no model: no decision */
    yx_decide_category (s_cfg, NULL, NULL, "你好", &d);
    assert_string_equal (d.method, "none");
    assert_string_equal (d.code, "");
}

static void
test_reporter_category_wins_and_alternatives_remain (void **state)
{
    (void) state;
    yx_decision_t d;
    yx_decide_category (s_cfg, NULL, "0111", "井盖冒污水", &d);
    assert_string_equal (d.method, "reporter");
    assert_string_equal (d.code, "0111");
    assert_true (d.confidence == 1.0);
    assert_true (d.nalt >= 1);
    assert_string_equal (d.alt[0].code, "0102");
    /* an unknown reported category is ignored */
    yx_decide_category (s_cfg, NULL, "9999", "井盖冒污水", &d);
    assert_string_equal (d.method, "rule");
}

static void
test_routes (void **state)
{
    (void) state;
    yx_route_t r;
    /* owner-first: the utility leads, the street office is the last candidate */
    assert_int_equal (yx_decide_route (s_cfg, "0102", "350102004001", "350102004", "350102", &r), 0);
    assert_string_equal (r.mode, "owner");
    assert_string_equal (r.lead, "fz-water");
    assert_true (r.nnext >= 1);
    assert_string_equal (r.next[r.nnext - 1], "st-350102004");
    /* locality-first: the street office leads */
    assert_int_equal (yx_decide_route (s_cfg, "1401", "350102004001", "350102004", "350102", &r), 0);
    assert_string_equal (r.mode, "locality");
    assert_string_equal (r.lead, "st-350102004");
    assert_int_equal (r.nassist, 1);
    assert_string_equal (r.assist[0], "gl-zfdd");
    assert_string_equal (r.next[0], "gl-cgj");
    /* locality-first with no street known: the listed department leads */
    assert_int_equal (yx_decide_route (s_cfg, "1401", "", "", "350102", &r), 0);
    assert_string_equal (r.lead, "gl-cgj");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_rules_pick_the_clear_subcategory),
        cmocka_unit_test (test_reporter_category_wins_and_alternatives_remain),
        cmocka_unit_test (test_routes),
    };
    return cmocka_run_group_tests_name ("decide", tests, s_setup, s_teardown);
}
