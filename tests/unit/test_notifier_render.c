/*  =========================================================================
    test_notifier_render.c - unit tests for what the notifier sends (cmocka)

    Delivery ids, signatures, the event as JSON, message templates, local
    times and endpoint keys. Known values were computed independently with
    Python's hashlib and hmac.
    =========================================================================
*/

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifier.h"

static void
test_delivery_id (void **state)
{
    (void) state;
    char a[33], b[33];
    yx_nt_delivery_id ("0123456789abcdef0123456789abcdef", "webhook:gl-cgj", a);
    //  hashlib.blake2b(b"<eid>/<recipient>", digest_size=16, key=b"yixian-delivery")
    assert_string_equal (a, "e2ca05b9ec3a20568569a56472fe3137");
    yx_nt_delivery_id ("0123456789abcdef0123456789abcdef", "feed:gl-cgj", b);
    assert_int_equal (strlen (b), 32);
    assert_string_not_equal (a, b);
    yx_nt_delivery_id ("0123456789abcdef0123456789abcdef", "webhook:gl-cgj", b);
    assert_string_equal (a, b);   //  stable: the same on every retry
}

static void
test_sign (void **state)
{
    (void) state;
    char sig[72];
    const char *body = "{\"a\":1}";
    yx_nt_sign ("yixian-demo-secret", "1763865000", body, strlen (body), sig);
    assert_string_equal (sig, "sha256=b883b5edd25d277540cc3a6cdbe2adfe2dac32eeb03f26ca22c1d37ab6f5cd4e");
    yx_nt_sign ("other-secret", "1763865000", body, strlen (body), sig);
    assert_string_not_equal (sig, "sha256=b883b5edd25d277540cc3a6cdbe2adfe2dac32eeb03f26ca22c1d37ab6f5cd4e");
}

static void
test_event_json (void **state)
{
    (void) state;
    char *depts[] = { "gl-cgj", "fz-water" };
    yx_event_t ev = YIXIAN__V1__CASE_EVENT__INIT;
    ev.event_id = "e1";
    ev.case_id = "350102-20261123-000042";
    ev.version = 7;
    ev.at_ms = 1795401000000;   //  2026-11-23T02:30:00Z
    ev.type = "DISPATCHED";
    ev.state = "DISPATCHED";
    ev.prev_state = "REGISTERED";
    ev.departments = depts;
    ev.n_departments = 2;
    ev.category = "0102";
    ev.district = "350102";
    ev.actor = "system";
    ev.note = "bad \xff utf-8";
    ev.source = "hotline";
    json_t *o = yx_nt_event_json (&ev, 480);
    assert_non_null (o);
    assert_string_equal (json_string_value (json_object_get (o, "at")), "2026-11-23T10:30:00.000+08:00");
    assert_int_equal (json_integer_value (json_object_get (o, "version")), 7);
    assert_int_equal (json_array_size (json_object_get (o, "departments")), 2);
    assert_string_equal (json_string_value (json_array_get (json_object_get (o, "departments"), 1)), "fz-water");
    assert_string_equal (json_string_value (json_object_get (o, "note")), "");   //  invalid UTF-8 is not passed on
    assert_string_equal (json_string_value (json_object_get (o, "prev_state")), "REGISTERED");
    json_decref (o);
}

static void
test_template_check (void **state)
{
    (void) state;
    char why[128];
    assert_int_equal (yx_nt_template_check ("【{district_name}一线处置】您单位有新派遣案件{case_id}，请于{ack_due}前签收。",
                                            why, sizeof why), 0);
    assert_int_equal (yx_nt_template_check ("no placeholders", why, sizeof why), 0);
    assert_int_equal (yx_nt_template_check ("案件{caseid}", why, sizeof why), -1);
    assert_string_equal (why, "unknown placeholder {caseid}");
    assert_int_equal (yx_nt_template_check ("案件{case_id", why, sizeof why), -1);
    assert_string_equal (why, "unbalanced \"{\"");
    assert_int_equal (yx_nt_template_check ("案件case_id}", why, sizeof why), -1);
    assert_int_equal (yx_nt_template_check ("bad \xc3", why, sizeof why), -1);
}

static void
test_template_render (void **state)
{
    (void) state;
    yx_nt_vars_t v = { .case_id = "350102-20261123-000042", .district_name = "鼓楼区", .ack_due = "11月23日10:30" };
    char out[256];
    assert_int_equal (yx_nt_template_render ("【{district_name}一线处置】您单位有新派遣案件{case_id}，请于{ack_due}前签收。",
                                             &v, out, sizeof out), 0);
    assert_string_equal (out, "【鼓楼区一线处置】您单位有新派遣案件350102-20261123-000042，请于11月23日10:30前签收。");
    assert_int_equal (yx_nt_template_render ("[{note}]", &v, out, sizeof out), 0);
    assert_string_equal (out, "[]");   //  NULL renders as ""
    char small[10];
    assert_int_equal (yx_nt_template_render ("{case_id}", &v, small, sizeof small), -1);
}

static void
test_local_time (void **state)
{
    (void) state;
    char buf[48];
    assert_string_equal (yx_nt_local_time (1795401000000, 480, buf, sizeof buf), "11月23日10:30");
    assert_string_equal (yx_nt_local_time (1795401000000, 0, buf, sizeof buf), "11月23日02:30");
    assert_string_equal (yx_nt_local_time (0, 480, buf, sizeof buf), "");
}

static void
test_endpoint (void **state)
{
    (void) state;
    char ep[160];
    assert_string_equal (yx_nt_endpoint ("HTTP://Example.COM/path?x=1", ep, sizeof ep), "http://example.com:80");
    assert_string_equal (yx_nt_endpoint ("https://a.example:8443/x", ep, sizeof ep), "https://a.example:8443");
    assert_string_equal (yx_nt_endpoint ("https://a.example/x", ep, sizeof ep), "https://a.example:443");
    assert_string_equal (yx_nt_endpoint ("http://user:pw@h.example/x", ep, sizeof ep), "http://h.example:80");
    assert_string_equal (yx_nt_endpoint ("http://[::1]:9000/x", ep, sizeof ep), "http://[::1]:9000");
    assert_string_equal (yx_nt_endpoint ("http://[::1]/x", ep, sizeof ep), "http://[::1]:80");
}

static void
test_names (void **state)
{
    (void) state;
    assert_int_equal (yx_nt_type_index ("DISPATCHED"), 0);
    assert_int_equal (yx_nt_type_index ("ASSIST_REQUESTED"), 17);
    assert_int_equal (yx_nt_type_index ("SOMETHING_NEW"), 18);
    assert_int_equal (yx_nt_type_index (""), -1);
    assert_string_equal (yx_nt_type_name (5), "ESCALATED");
    assert_string_equal (yx_nt_channel_name (YX_NT_CALLBACK), "callback");
    assert_true (yx_nt_id_ok ("st-350102001"));
    assert_false (yx_nt_id_ok (""));
    assert_false (yx_nt_id_ok ("a b"));
    assert_false (yx_nt_id_ok ("a\nb"));
    assert_false (yx_nt_id_ok ("0123456789012345678901234567890123456789012345678"));
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_delivery_id),   cmocka_unit_test (test_sign),
        cmocka_unit_test (test_event_json),    cmocka_unit_test (test_template_check),
        cmocka_unit_test (test_template_render), cmocka_unit_test (test_local_time),
        cmocka_unit_test (test_endpoint),      cmocka_unit_test (test_names),
    };
    return cmocka_run_group_tests_name ("notifier_render", tests, NULL, NULL);
}
