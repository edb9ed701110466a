/* Unit tests: the configuration loader — the sample city, lookups, the responsibility
 * rule order, and precise FILE:LINE: KEY errors for bad files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "auth.h"
#include "config.h"

static const char *s_minimal =
    "redis = { port = 6399; };\n"                                         /* 1 */
    "areas = { city = \"350100\"; districts = ( { code = \"350102\"; name = \"鼓楼区\";\n"
    "  streets = ( { code = \"350102001\"; name = \"鼓东街道\";\n"
    "    communities = ( { code = \"350102001001\"; name = \"冶山社区\"; grids = 2; } ); } ); } ); };\n"
    "departments = ( { id = \"fz-water\"; name = \"水务\"; level = \"utility\"; supervisor = \"cc-city\"; },\n"
    "  { id = \"cc-city\"; name = \"指挥中心\"; level = \"command\"; },\n"
    "  { id = \"st-350102001\"; name = \"鼓东街道办\"; level = \"street\"; district = \"350102\"; street = \"350102001\"; supervisor = \"cc-city\"; } );\n"
    "taxonomy = ( { code = \"0102\"; name = \"污水井盖\"; class = \"公用设施\"; kind = \"component\";\n"
    "  keywords = [ \"井盖\" ]; ack_limit = \"30m\"; resolve_limit = \"4h\"; priority = \"normal\"; } );\n"
    "responsibility = ( { category = \"0102\"; area = \"*\"; mode = \"owner\"; lead = [ \"fz-water\" ]; } );\n"
    "calendar = { utc_offset = \"+08:00\"; work_hours = [ \"08:30-12:00\", \"14:30-18:00\" ]; };\n"
    "api_keys = ( { name = \"ops\"; sha256 = \"e0d1c2b1b1b2d0e0c0e0d1c2b1b1b2d0e0c0e0d1c2b1b1b2d0e0c0e0d1c2b1b1\"; role = \"operator\"; scope = \"city\"; } );\n";

/* Writes text to a fresh temp file and returns its path (static buffer). */
static const char *
s_write (const char *text)
{
    static char path[64];
    snprintf (path, sizeof path, "/tmp/yx-test-config-XXXXXX");
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t) strlen (text));
    close (fd);
    return path;
}

/* Loads text with one substring replaced; returns the error message. */
static const char *
s_error_for (const char *from, const char *to)
{
    static char err[1024];
    char text[8192];
    const char *at = strstr (s_minimal, from);
    assert_non_null (at);
    snprintf (text, sizeof text, "%.*s%s%s", (int) (at - s_minimal), s_minimal, to, at + strlen (from));
    const char *path = s_write (text);
    err[0] = 0;
    yx_config_t *cfg = yx_config_load (path, NULL, err, sizeof err);
    unlink (path);
    assert_null (cfg);
    return err;
}

static void
test_minimal_loads (void **state)
{
    (void) state;
    char err[1024] = "";
    const char *path = s_write (s_minimal);
    char *over[] = { "intake.http_port=18080", NULL };
    yx_config_t *cfg = yx_config_load (path, over, err, sizeof err);
    unlink (path);
    assert_non_null (cfg);
    assert_int_equal (cfg->redis_port, 6399);       /* from the file */
    assert_int_equal (cfg->intake_port, 18080);     /* from the override */
    assert_int_equal (cfg->metrics_port, 9100);     /* default */
    assert_int_equal (cfg->nareas, 3);
    assert_string_equal (yx_config_area (cfg, "350102001001")->parent, "350102001");
    assert_int_equal (cfg->utc_offset_min, 480);
    assert_string_equal (cfg->triage_district, "350102");
    yx_config_destroy (&cfg);
    assert_null (cfg);
}

static void
test_errors_name_file_line_key (void **state)
{
    (void) state;
    const char *e = s_error_for ("port = 6399", "port = 70000");
    assert_non_null (strstr (e, ":1: redis.port:"));
    e = s_error_for ("port = 6399", "port = \"x\"");
    assert_non_null (strstr (e, "redis.port: expected a number"));
    e = s_error_for ("level = \"utility\"", "level = \"ministry\"");
    assert_non_null (strstr (e, ":5: departments.level:"));
    e = s_error_for ("supervisor = \"cc-city\"; },\n  { id", "supervisor = \"nobody\"; },\n  { id");
    assert_non_null (strstr (e, "departments.supervisor"));
    e = s_error_for ("ack_limit = \"30m\"", "ack_limit = \"30x\"");
    assert_non_null (strstr (e, ":8: taxonomy.ack_limit:"));
    e = s_error_for ("lead = [ \"fz-water\" ]", "lead = [ \"fz-nobody\" ]");
    assert_non_null (strstr (e, ":10: responsibility.lead: unknown department"));
    e = s_error_for ("code = \"350102001001\"", "code = \"350103001001\"");
    assert_non_null (strstr (e, "does not extend its parent"));
    e = s_error_for ("role = \"operator\"", "role = \"king\"");
    assert_non_null (strstr (e, ":12: api_keys.role:"));
    e = s_error_for ("\"08:30-12:00\"", "\"18:00-08:30\"");
    assert_non_null (strstr (e, "calendar.work_hours"));
    e = s_error_for ("port = 6399; };", "port = 6399; };\nlog = { level = \"loud\"; };");
    assert_non_null (strstr (e, ":2: log.level: \"loud\" is not debug, info, warn or error"));
    e = s_error_for ("port = 6399; };", "port = 6399; };\nintake = { trusted_proxy = \"10.0.0.300\"; };");
    assert_non_null (strstr (e, ":2: intake.trusted_proxy: \"10.0.0.300\" is not an IPv4 or IPv6 address"));
    e = s_error_for ("redis = {", "redis = {{");
    assert_non_null (strstr (e, ":1: syntax:"));
}

static void
test_sample_city (void **state)
{
    (void) state;
    char err[1024] = "";
    yx_config_t *cfg = yx_config_load ("config/yixian.cfg", NULL, err, sizeof err);
    if (!cfg)
        fail_msg ("sample config: %s", err);
    assert_true (cfg->ndepts >= 60);
    assert_true (cfg->ncats >= 60);
    const char *codes[8];
    assert_int_equal (yx_config_districts (cfg, codes, 8), 2);
    assert_non_null (yx_config_dept (cfg, "fz-water"));
    assert_non_null (yx_config_dept (cfg, "st-350102001"));
    /* responsibility: the most specific area wins over "*" */
    const yx_resp_rule_t *r = yx_config_rule (cfg, "0102", "350102001001", "350102001", "350102");
    assert_non_null (r);
    assert_string_equal (r->lead[0], "fz-water");
    /* demo keys: a department key, an operator, a reporter */
    yx_caller_t c;
    assert_int_equal (yx_auth_bearer (cfg, "Bearer demo-dept-fz-water", &c), 0);
    assert_int_equal (c.role, YX_ROLE_DEPARTMENT);
    assert_string_equal (c.key->scope, "fz-water");
    assert_int_equal (yx_auth_bearer (cfg, "Bearer demo-operator-key", &c), 0);
    assert_int_equal (c.role, YX_ROLE_OPERATOR);
    assert_int_equal (yx_auth_bearer (cfg, "Bearer demo-hotline-key", &c), 0);
    assert_int_equal (c.role, YX_ROLE_REPORTER);
    assert_int_equal (yx_auth_bearer (cfg, "Bearer nope", &c), -1);
    assert_int_equal (yx_auth_bearer (cfg, "Basic demo-admin-key", &c), -1);
    assert_int_equal (yx_auth_bearer (cfg, NULL, &c), -1);
    yx_config_destroy (&cfg);
}

static void
test_scopes (void **state)
{
    (void) state;
    assert_true (yx_area_contains ("city", "350102", "350102001", "350102001001"));
    assert_true (yx_area_contains ("350102", "350102", "350102001", "350102001001"));
    assert_true (yx_area_contains ("350102001", "350102", "350102001", "350102001001"));
    assert_true (yx_area_contains ("350102001001", "350102", "350102001", "350102001001"));
    assert_false (yx_area_contains ("350111", "350102", "350102001", "350102001001"));
    assert_false (yx_area_contains ("350102002", "350102", "350102001", "350102001001"));
    assert_false (yx_area_contains ("35", "350102", "350102001", "350102001001"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_minimal_loads),
        cmocka_unit_test (test_errors_name_file_line_key),
        cmocka_unit_test (test_sample_city),
        cmocka_unit_test (test_scopes),
    };
    return cmocka_run_group_tests_name ("config", tests, NULL, NULL);
}
