/*  =========================================================================
    test_notifier_rules.c - unit tests for the notify section, recipients and
    message composition (cmocka)

    A small configuration is built by hand (three departments, one district,
    one subcategory); each test writes a notify section to a temporary file.
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
#include <unistd.h>

#include "notifier.h"

static char s_dir [64];             //  Temporary folder for config files
static yx_config_t s_cfg;           //  The hand-made configuration
static yx_dept_t s_depts [3];       //  Its departments
static yx_area_t s_area;            //  Its district
static yx_category_t s_cat;         //  Its subcategory

//  Writes text to FILE in the temporary folder; returns the path (static)
static const char *
s_write (const char *text)
{
    static char path [128];
    snprintf (path, sizeof path, "%s/notify.cfg", s_dir);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
    return path;
}

//  Loads text as the notify file; NULL with err on failure
static yx_nt_rules_t *
s_load (const char *text, char *err, size_t errlen)
{
    return yx_nt_rules_load (&s_cfg, s_write (text), err, errlen);
}

static int
s_setup (void **state)
{
    (void) state;
    snprintf (s_dir, sizeof s_dir, "/tmp/yx-nt-XXXXXX");
    assert_non_null (mkdtemp (s_dir));
    snprintf (s_cfg.dir, sizeof s_cfg.dir, "%s", s_dir);
    snprintf (s_cfg.notifier_secret, sizeof s_cfg.notifier_secret, "s3cret");
    s_cfg.utc_offset_min = 480;
    const char *ids [3] = { "gl-cgj", "fz-water", "cc-350102" };
    const char *names [3] = { "鼓楼区城市管理局", "福州水务集团有限公司", "鼓楼区指挥中心" };
    for (int i = 0; i < 3; i++) {
        snprintf (s_depts [i].id, sizeof s_depts [i].id, "%s", ids [i]);
        snprintf (s_depts [i].name, sizeof s_depts [i].name, "%s", names [i]);
    }
    snprintf (s_depts [1].webhook, sizeof s_depts [1].webhook, "http://water.example/hook");
    s_cfg.depts = s_depts;
    s_cfg.ndepts = 3;
    snprintf (s_area.code, sizeof s_area.code, "350102");
    snprintf (s_area.name, sizeof s_area.name, "鼓楼区");
    s_area.level = YX_AREA_DISTRICT;
    s_cfg.areas = &s_area;
    s_cfg.nareas = 1;
    snprintf (s_cat.code, sizeof s_cat.code, "0102");
    snprintf (s_cat.name, sizeof s_cat.name, "污水井盖");
    s_cfg.cats = &s_cat;
    s_cfg.ncats = 1;
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    char path [128];
    snprintf (path, sizeof path, "%s/notify.cfg", s_dir);
    unlink (path);
    rmdir (s_dir);
    return 0;
}

//  An event of type for departments
static yx_event_t
s_event (const char *type, char **depts, size_t n, const char *source)
{
    yx_event_t ev = YIXIAN__V1__CASE_EVENT__INIT;
    ev.event_id = "0123456789abcdef0123456789abcdef";
    ev.case_id = "350102-20261123-000042";
    ev.version = 3;
    ev.at_ms = 1795401000000;
    ev.type = (char *) type;
    ev.state = "DISPATCHED";
    ev.prev_state = "REGISTERED";
    ev.departments = depts;
    ev.n_departments = n;
    ev.category = "0102";
    ev.district = "350102";
    ev.source = (char *) source;
    return ev;
}

//  Recipient names joined by spaces
static const char *
s_names (const yx_nt_rules_t *rules, const yx_event_t *ev)
{
    static char buf [1024];
    yx_nt_rcpt_t r [YX_NT_MAX_RCPT];
    int n = yx_nt_recipients (rules, ev, r, YX_NT_MAX_RCPT);
    buf [0] = 0;
    for (int i = 0; i < n; i++)
        snprintf (buf + strlen (buf), sizeof buf - strlen (buf), "%s%s", i ? " " : "", r [i].name);
    return buf;
}

static const char *s_full =
    "other = 1;\n"
    "notify = {\n"
    "  gateway = { url = \"http://sms.example/send\"; };\n"
    "  templates = {\n"
    "    DISPATCHED = \"【{district_name}一线处置】您单位有新派遣案件{case_id}（{category_name}），请于{ack_due}前签收。\";\n"
    "    ASSIST_REQUESTED = \"协办{case_id}\"; WHISTLE = \"哨{case_id}\"; REMINDER = \"督办{case_id}\";\n"
    "    ESCALATED = \"升级{case_id}\"; RETURNED = \"退回{case_id}\"; EXTENSION_APPROVED = \"准{resolve_due}\";\n"
    "    EXTENSION_DENIED = \"否{resolve_due}\"; VERIFIED = \"核{case_id}\"; REWORK = \"返{case_id}\";\n"
    "    CLOSED = \"结{case_id}\"; REOPENED = \"重{case_id}\";\n"
    "  };\n"
    "  departments = (\n"
    "    { id = \"gl-cgj\"; webhook = \"https://cgj.example/in\"; secret = \"cgj-key\";\n"
    "      webhook_events = [ \"DISPATCHED\" ]; gateway_to = [ \"0591-87000000\" ]; }\n"
    "  );\n"
    "  sources = ( { source = \"hotline\"; url = \"http://12345.example/cb\"; events = [ \"RESOLVED\" ]; } );\n"
    "};\n";

static void
test_defaults_without_section (void **state)
{
    (void) state;
    char err [256] = "";
    yx_nt_rules_t *rules = s_load ("other = 1;\n", err, sizeof err);
    assert_non_null (rules);
    char *depts [] = { "gl-cgj", "fz-water" };
    yx_event_t ev = s_event ("DISPATCHED", depts, 2, "hotline");
    //  Every department's feed; the webhook departments.cfg gives; no callback without a URL
    assert_string_equal (s_names (rules, &ev), "feed:gl-cgj feed:fz-water webhook:fz-water");
    yx_nt_rcpt_t r [8];
    assert_int_equal (yx_nt_recipients (rules, &ev, r, 8), 3);
    assert_string_equal (r [2].secret, "s3cret");
    assert_string_equal (r [2].url, "http://water.example/hook");
    assert_int_equal (rules->keep_ms, 7LL * 86400 * 1000);
    yx_nt_rules_destroy (&rules);
    assert_null (rules);
}

static void
test_overrides (void **state)
{
    (void) state;
    char err [256] = "";
    yx_nt_rules_t *rules = s_load (s_full, err, sizeof err);
    assert_non_null (rules);
    char *depts [] = { "gl-cgj", "fz-water", "gl-cgj", "bad id", "unknown-dept" };
    yx_event_t ev = s_event ("DISPATCHED", depts, 5, "hotline");
    //  Repeats and unfit ids are skipped; a department not in the config still has its feed
    assert_string_equal (s_names (rules, &ev),
                         "feed:gl-cgj webhook:gl-cgj gateway:gl-cgj feed:fz-water webhook:fz-water feed:unknown-dept");
    ev = s_event ("RESOLVED", depts, 2, "hotline");
    assert_string_equal (s_names (rules, &ev), "feed:gl-cgj feed:fz-water webhook:fz-water callback:hotline");
    ev = s_event ("RESOLVED", depts, 2, "app");
    assert_string_equal (s_names (rules, &ev), "feed:gl-cgj feed:fz-water webhook:fz-water");
    ev = s_event ("", depts, 2, "hotline");
    assert_string_equal (s_names (rules, &ev), "");
    yx_nt_rcpt_t r [8];
    ev = s_event ("DISPATCHED", depts, 1, "hotline");
    assert_int_equal (yx_nt_recipients (rules, &ev, r, 8), 3);
    assert_string_equal (r [1].secret, "cgj-key");
    assert_string_equal (r [2].secret, "s3cret");   //  the gateway's falls back to the service's
    assert_int_equal (yx_nt_recipients (rules, &ev, r, 2), 2);
    yx_nt_rules_destroy (&rules);
}

//  Expects text to fail with a message containing want
static void
s_expect_error (const char *text, const char *want)
{
    char err [512] = "";
    yx_nt_rules_t *rules = s_load (text, err, sizeof err);
    assert_null (rules);
    if (!strstr (err, want))
        fail_msg ("error \"%s\" does not contain \"%s\"", err, want);
}

static void
test_errors (void **state)
{
    (void) state;
    s_expect_error ("notify = {\n  departments = ( { id = \"nope\"; } );\n};\n",
                    "notify.cfg:2: notify.departments[0].id: unknown department");
    s_expect_error ("notify = {\n  feed_events = [ \"DISPATCHED\",\n \"NOPE\" ];\n};\n",
                    "notify.cfg:3: notify.feed_events: unknown event type \"NOPE\"");
    s_expect_error ("notify = {\n  colour = 1;\n};\n", "notify.cfg:2: notify.colour: unknown setting");
    s_expect_error ("notify = {\n  sources = ( { source = \"fax\"; } );\n};\n",
                    "notify.cfg:2: notify.sources[0].source: expected one of");
    s_expect_error ("notify = {\n  sources = ( { source = \"hotline\"; url = \"ftp://x\"; } );\n};\n",
                    "notify.cfg:2: notify.sources[0].url: must be an http:// or https:// URL");
    s_expect_error ("notify = {\n  templates = { CLOSED = \"{case}\"; };\n};\n",
                    "notify.cfg:2: notify.templates.CLOSED: unknown placeholder {case}");
    s_expect_error ("notify = {\n  templates = { SOMETHING = \"x\"; };\n};\n",
                    "notify.templates.SOMETHING: unknown event type");
    s_expect_error ("notify = {\n  keep_days = 0;\n};\n", "notify.cfg:2: notify.keep_days: expected a whole number");
    s_expect_error ("notify = {\n  departments = ( { id = \"gl-cgj\"; }, { id = \"gl-cgj\"; } );\n};\n",
                    "department listed twice");
    s_expect_error ("notify = {\n  gateway = { url = \"http://sms.example/\"; };\n"
                    "  departments = ( { id = \"gl-cgj\"; gateway_to = [ \"1\" ]; } );\n};\n",
                    "the gateway carries DISPATCHED to gl-cgj but notify.templates has no DISPATCHED");
    s_expect_error ("notify = {\n  x = \n", "notify.cfg:3: syntax:");
}

static void
test_compose (void **state)
{
    (void) state;
    char err [256] = "";
    yx_nt_rules_t *rules = s_load (s_full, err, sizeof err);
    assert_non_null (rules);
    char *depts [] = { "gl-cgj" };
    yx_event_t ev = s_event ("DISPATCHED", depts, 1, "hotline");
    yx_nt_rcpt_t r [8];
    assert_int_equal (yx_nt_recipients (rules, &ev, r, 8), 3);
    json_t *doc = json_pack ("{s:s, s:[{s:s, s:s, s:I, s:I}]}", "source_ref", "12345-0042", "assignments",
                             "department", "gl-cgj", "role", "lead", "ack_due_ms", (json_int_t) 1795401000000,
                             "resolve_due_ms", (json_int_t) 1795415400000);
    size_t len;
    char *body = yx_nt_compose (rules, &ev, &r [2], doc, &len);   //  the gateway
    assert_non_null (body);
    json_t *o = json_loads (body, 0, NULL);
    assert_string_equal (json_string_value (json_object_get (o, "text")),
                         "【鼓楼区一线处置】您单位有新派遣案件350102-20261123-000042（污水井盖），请于11月23日10:30前签收。");
    assert_string_equal (json_string_value (json_array_get (json_object_get (o, "to"), 0)), "0591-87000000");
    assert_string_equal (json_string_value (json_object_get (o, "recipient")), "gateway:gl-cgj");
    assert_int_equal (len, strlen (body));
    json_decref (o);
    free (body);

    body = yx_nt_compose (rules, &ev, &r [1], doc, &len);        //  the webhook
    o = json_loads (body, 0, NULL);
    char did [33];
    assert_string_equal (json_string_value (json_object_get (o, "delivery_id")),
                         yx_nt_delivery_id (ev.event_id, "webhook:gl-cgj", did));
    assert_string_equal (json_string_value (json_object_get (o, "channel")), "webhook");
    assert_null (json_object_get (o, "source_ref"));
    json_decref (o);
    free (body);

    ev = s_event ("RESOLVED", depts, 1, "hotline");
    assert_int_equal (yx_nt_recipients (rules, &ev, r, 8), 2);
    body = yx_nt_compose (rules, &ev, &r [1], doc, &len);        //  the hotline callback
    o = json_loads (body, 0, NULL);
    assert_string_equal (json_string_value (json_object_get (o, "recipient")), "callback:hotline");
    assert_string_equal (json_string_value (json_object_get (o, "source_ref")), "12345-0042");
    json_decref (o);
    free (body);

    //  No template for the type: the gateway message cannot be built
    yx_nt_rcpt_t gw = r [0];
    gw.channel = YX_NT_GATEWAY;
    ev = s_event ("ACCEPTED", depts, 1, "hotline");
    assert_null (yx_nt_compose (rules, &ev, &gw, doc, &len));
    json_decref (doc);
    yx_nt_rules_destroy (&rules);
}

static void
test_records (void **state)
{
    (void) state;
    yx_nt_job_t *job = yx_nt_job_new ();
    snprintf (job->key, sizeof job->key, "e1/webhook:gl-cgj");
    snprintf (job->event_id, sizeof job->event_id, "e1");
    snprintf (job->case_id, sizeof job->case_id, "350102-20261123-000042");
    snprintf (job->rcpt, sizeof job->rcpt, "webhook:gl-cgj");
    snprintf (job->url, sizeof job->url, "https://user:pw@cgj.example/in?token=x");
    job->channel = YX_NT_WEBHOOK;
    job->attempt = 8;
    job->body = strdup ("{\"event_id\":\"e1\"}");
    job->body_len = strlen (job->body);
    char *rec = yx_nt_dead_record (job, "http 500", 1795401000000, 480);
    json_t *o = json_loads (rec, 0, NULL);
    assert_string_equal (json_string_value (json_object_get (o, "endpoint")), "https://cgj.example:443");
    assert_string_equal (json_string_value (json_object_get (o, "reason")), "http 500");
    assert_int_equal (json_integer_value (json_object_get (o, "attempts")), 8);
    assert_string_equal (json_string_value (json_object_get (json_object_get (o, "payload"), "event_id")), "e1");
    assert_string_equal (json_string_value (json_object_get (o, "at")), "2026-11-23T10:30:00.000+08:00");
    assert_null (strstr (rec, "token"));   //  no credentials or query strings kept
    json_decref (o);
    free (rec);
    yx_nt_job_destroy (&job);
    assert_null (job);

    rec = yx_nt_garbage_record ("e2", "undecodable", "\xff\x01", 2, 1795401000000, 480);
    o = json_loads (rec, 0, NULL);
    assert_string_equal (json_string_value (json_object_get (o, "id")), "e2/event");
    assert_string_equal (json_string_value (json_object_get (o, "head_hex")), "ff01");
    assert_int_equal (json_integer_value (json_object_get (o, "size")), 2);
    json_decref (o);
    free (rec);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_defaults_without_section), cmocka_unit_test (test_overrides),
        cmocka_unit_test (test_errors), cmocka_unit_test (test_compose), cmocka_unit_test (test_records),
    };
    return cmocka_run_group_tests_name ("notifier_rules", tests, s_setup, s_teardown);
}
