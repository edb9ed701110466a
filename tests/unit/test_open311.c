/* Unit tests: the Open311 form decoder, XML rendering, W3C times, and a case seen
 * as a GeoReport v2 service request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "open311.h"
#include "util.h"

/* Parses a NUL-terminated body; asserts the outcome. */
static void
s_parse_ok (const char *body, yx_form_t *form)
{
    char err[256] = "";
    int rc = yx_form_parse (body, strlen (body), form, err, sizeof err);
    if (rc)
        fail_msg ("%s: %s", body, err);
}

static void
s_parse_bad (const char *body, size_t len, const char *why)
{
    yx_form_t form;
    char err[256] = "";
    if (yx_form_parse (body, len, &form, err, sizeof err) == 0)
        fail_msg ("accepted %s", body);
    if (why && !strstr (err, why))
        fail_msg ("error for %s is \"%s\", expected \"%s\"", body, err, why);
    assert_null (form.buf);
    assert_int_equal (form.nfields, 0);
}

static void
test_form_decodes (void **state)
{
    (void) state;
    yx_form_t f;
    s_parse_ok ("api_key=xyz&service_code=0102&lat=26.08&long=119.3&address_string=1234+5th+street"
                "&email=smit333%40sfgov.edu&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2.jpg"
                "&attribute[WHISPAWN]=123456&attribute%5Bcrs%5D=gcj02",
                &f);
    assert_int_equal (f.nfields, 9);
    assert_string_equal (yx_form_get (&f, "api_key"), "xyz");
    assert_string_equal (yx_form_get (&f, "address_string"), "1234 5th street");
    assert_string_equal (yx_form_get (&f, "email"), "smit333@sfgov.edu");
    assert_string_equal (yx_form_get (&f, "media_url"), "http://farm3.static.flickr.com/2.jpg");
    assert_string_equal (yx_form_get (&f, "attribute[WHISPAWN]"), "123456");
    assert_string_equal (yx_form_get (&f, "attribute[crs]"), "gcj02");
    assert_null (yx_form_get (&f, "phone"));
    yx_form_free (&f);
    yx_form_free (&f);   /* harmless twice */

    /* UTF-8, both cases of hex, empty values, empty pairs, '=' inside a value */
    s_parse_ok ("description=%E4%BA%95%e7%9b%96%E5%86%92%E6%B1%A1%E6%B0%B4&x=&y&&z=a=b&", &f);
    assert_int_equal (f.nfields, 4);
    assert_string_equal (yx_form_get (&f, "description"), "井盖冒污水");
    assert_string_equal (yx_form_get (&f, "x"), "");
    assert_string_equal (yx_form_get (&f, "y"), "");
    assert_string_equal (yx_form_get (&f, "z"), "a=b");
    assert_string_equal (f.fields[3].key, "z");
    yx_form_free (&f);

    /* raw UTF-8 (not escaped) is accepted, and line breaks in values */
    s_parse_ok ("description=井盖%0D%0A冒污水%09!", &f);
    assert_string_equal (yx_form_get (&f, "description"), "井盖\r\n冒污水\t!");
    yx_form_free (&f);

    /* the empty body */
    s_parse_ok ("", &f);
    assert_int_equal (f.nfields, 0);
    yx_form_free (&f);
    assert_int_equal (yx_form_parse (NULL, 0, &f, NULL, 0), 0);
    yx_form_free (&f);

    /* lists repeat */
    s_parse_ok ("attribute[a][]=1&attribute[a][]=2&attribute[a][]=3", &f);
    assert_int_equal (f.nfields, 3);
    assert_string_equal (f.fields[2].value, "3");
    yx_form_free (&f);

    /* the body need not be NUL-terminated */
    const char bytes[] = { 'a', '=', '1', '&', 'b', '=', '2' };
    char err[64];
    assert_int_equal (yx_form_parse (bytes, sizeof bytes, &f, err, sizeof err), 0);
    assert_string_equal (yx_form_get (&f, "b"), "2");
    yx_form_free (&f);
}

static void
test_form_rejects (void **state)
{
    (void) state;
    s_parse_bad ("a=%", 3, "malformed");
    s_parse_bad ("a=%4", 4, "malformed");
    s_parse_bad ("a=%zz", 5, "malformed");
    s_parse_bad ("%G1=1", 5, "field 1");
    s_parse_bad ("ok=1&=x", 7, "field 2 has an empty name");
    s_parse_bad ("a=1&a=2", 7, "a is given more than once");
    s_parse_bad ("a%00b=1", 7, "control");
    s_parse_bad ("a=x%00y", 7, "control byte");
    s_parse_bad ("a=x%07y", 7, "control byte");
    s_parse_bad ("a=%7F", 5, "control byte");
    s_parse_bad ("a%0A=1", 6, "control");
    s_parse_bad ("a=%C0%AF", 8, "UTF-8");              /* overlong '/' */
    s_parse_bad ("a=%ED%A0%80", 11, "UTF-8");          /* surrogate */
    s_parse_bad ("a=%E4%BA", 8, "UTF-8");              /* truncated */
    s_parse_bad ("a=\xff", 3, "UTF-8");
    s_parse_bad ("%FF=1", 5, "UTF-8");
    s_parse_bad ("a=1\0b=2", 7, "control");           /* a raw NUL */

    char *big = malloc (YX_FORM_MAX_VALUE + 16);
    assert_non_null (big);
    memcpy (big, "a=", 2);
    memset (big + 2, 'x', YX_FORM_MAX_VALUE + 1);
    s_parse_bad (big, YX_FORM_MAX_VALUE + 3, "longer than 16384 bytes");
    memset (big, 'k', YX_FORM_MAX_KEY + 1);
    big[YX_FORM_MAX_KEY + 1] = '=';
    s_parse_bad (big, YX_FORM_MAX_KEY + 2, "longer than 64 bytes");
    free (big);

    char many[YX_FORM_MAX_FIELDS * 8 + 16] = "";
    for (int i = 0; i <= YX_FORM_MAX_FIELDS; i++)
        snprintf (many + strlen (many), sizeof many - strlen (many), "f%d=1&", i);
    s_parse_bad (many, strlen (many), "more than 64 fields");
    many[strlen (many) - strlen ("f64=1&")] = 0;
    yx_form_t f;
    s_parse_ok (many, &f);
    assert_int_equal (f.nfields, YX_FORM_MAX_FIELDS);
    yx_form_free (&f);
}

static void
test_form_attribute (void **state)
{
    (void) state;
    char code[32];
    bool list = true;
    assert_int_equal (yx_form_attribute ("attribute[title]", code, sizeof code, &list), 1);
    assert_string_equal (code, "title");
    assert_false (list);
    assert_int_equal (yx_form_attribute ("attribute[WHIS-DORN_2][]", code, sizeof code, &list), 1);
    assert_string_equal (code, "WHIS-DORN_2");
    assert_true (list);
    assert_int_equal (yx_form_attribute ("description", code, sizeof code, &list), 0);
    assert_int_equal (yx_form_attribute ("attributes", code, sizeof code, &list), 0);
    const char *bad[] = { "attribute[]", "attribute[a", "attribute[a]x", "attribute[a][x]", "attribute[a b]",
                          "attribute[a]]", "attribute[井]", "attribute[a][]]" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (yx_form_attribute (bad[i], code, sizeof code, &list) != -1)
            fail_msg ("accepted %s", bad[i]);
    assert_int_equal (yx_form_attribute ("attribute[abcdefgh]", code, 8, &list), -1);   /* too long for code */
    assert_int_equal (yx_form_attribute ("attribute[abcdefg]", code, 8, &list), 1);
}

/* Renders doc and returns the text (caller frees). */
static char *
s_xml (json_t *doc, const char *root, const char *item)
{
    size_t len = 0;
    char *x = yx_o311_xml (doc, root, item, &len);
    json_decref (doc);
    assert_non_null (x);
    assert_int_equal (strlen (x), len);
    return x;
}

static void
test_xml (void **state)
{
    (void) state;
    char *x = s_xml (json_pack ("[{s:i, s:s}]", "code", 403, "description", "Invalid api_key <\"a\" & 'b'>"),
                     "errors", "error");
    assert_string_equal (x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<errors><error><code>403</code>"
                            "<description>Invalid api_key &lt;&quot;a&quot; &amp; &apos;b&apos;&gt;</description>"
                            "</error></errors>\n");
    free (x);
    x = s_xml (json_pack ("{s:s, s:[{s:[s, s], s:n, s:b, s:f}]}", "changeset", "井盖", "endpoints", "formats",
                          "text/xml", "application/json", "url", "ok", 0, "lat", 26.0845),
               "discovery", NULL);
    assert_string_equal (x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<discovery><changeset>井盖</changeset>"
                            "<endpoints><endpoint><formats><format>text/xml</format><format>application/json"
                            "</format></formats><url/><ok>false</ok><lat>26.0845</lat></endpoint></endpoints>"
                            "</discovery>\n");
    free (x);
    x = s_xml (json_pack ("[]"), "services", "service");
    assert_string_equal (x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<services></services>\n");
    free (x);
    /* characters XML forbids, invalid UTF-8 and bad element names */
    json_t *doc = json_object ();
    json_object_set_new (doc, "bad name", json_integer (1));
    json_object_set_new (doc, "xmlns", json_integer (2));
    json_object_set_new (doc, "t", json_stringn ("a\x01" "b\x7f\tc\r\n", 8));
    json_object_set_new (doc, "nested", json_pack ("[[i]]", 7));
    x = s_xml (doc, "r", NULL);
    assert_string_equal (x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r><item>1</item><item>2</item>"
                            "<t>a\xef\xbf\xbd" "b\x7f\tc\r\n</t><nested><item><item>7</item></item></nested></r>\n");
    free (x);
    /* deep nesting is cut, not recursed without end */
    json_t *deep = json_array ();
    for (int i = 0; i < 100; i++)
        deep = json_pack ("[o]", deep);
    x = s_xml (deep, "r", "i");
    assert_non_null (strstr (x, "<item/>"));
    free (x);
}

static void
test_xml_invalid_utf8 (void **state)
{
    (void) state;
    /* jansson refuses invalid UTF-8 in json_string, but json_stringn_nocheck lets a
     * hostile document through: the renderer must still produce well-formed text */
    json_t *doc = json_pack ("{s:o}", "t", json_stringn_nocheck ("a\xff\xc0\xaf\xed\xa0\x80\xef\xbf\xbe" "z", 11));
    char *x = s_xml (doc, "r", NULL);
    assert_true (yx_utf8_valid (x, strlen (x)));
    assert_non_null (strstr (x, "<t>a\xef\xbf\xbd"));
    assert_non_null (strstr (x, "z</t>"));
    assert_null (strstr (x, "\xef\xbf\xbe"));
    free (x);
}

static void
test_times (void **state)
{
    (void) state;
    int64_t ms, ref;
    assert_int_equal (yx_time_parse ("2026-11-23T08:00:00+08:00", &ref), 0);
    assert_int_equal (yx_o311_time_parse ("2026-11-23T00:00:00Z", 480, &ms), 0);
    assert_int_equal (ms, ref);
    assert_int_equal (yx_o311_time_parse ("2026-11-23T08:00+08:00", 480, &ms), 0);
    assert_int_equal (ms, ref);
    assert_int_equal (yx_o311_time_parse ("2026-11-23T08:00:00 08:00", 480, &ms), 0);   /* '+' unescaped */
    assert_int_equal (ms, ref);
    assert_int_equal (yx_o311_time_parse ("2026-11-23T08:00:00.250+08:00", 480, &ms), 0);
    assert_int_equal (ms, ref + 250);
    assert_int_equal (yx_o311_time_parse ("2026-11-23", 480, &ms), 0);   /* local midnight */
    assert_int_equal (ms, ref - 8 * 3600000LL);
    assert_int_equal (yx_o311_time_parse ("2026-11-23", -300, &ms), 0);
    assert_int_equal (ms, ref + 5 * 3600000LL);
    const char *bad[] = { "", "2026-11-23T08:00:00", "2026-11-23T08:00", "2026-11-2", "2026-13-01",
                          "2026-11-23X08:00:00Z", "2026-11-23T08Z", "yesterday", "2026-11-23T08:00:00+08:00trailing" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (yx_o311_time_parse (bad[i], 480, &ms) == 0)
            fail_msg ("accepted %s", bad[i]);
    char buf[40];
    assert_string_equal (yx_o311_time_format (ref + 999, 480, buf, sizeof buf), "2026-11-23T08:00:00+08:00");
    assert_string_equal (yx_o311_time_format (ref, 0, buf, sizeof buf), "2026-11-23T00:00:00+00:00");
}

static void
test_status (void **state)
{
    (void) state;
    const char *open[] = { "REPORTED", "REGISTERED", "DISPATCHED", "ACCEPTED", "RESOLVED", "VERIFIED",
                           "RETURNED", "SUSPENDED", "REOPENED" };
    for (size_t i = 0; i < sizeof open / sizeof open[0]; i++)
        assert_string_equal (yx_o311_status (open[i]), "open");
    assert_string_equal (yx_o311_status ("CLOSED"), "closed");
    assert_string_equal (yx_o311_status ("REJECTED"), "closed");
    assert_string_equal (yx_o311_status ("MERGED"), "closed");
}

static void
test_request_view (void **state)
{
    (void) state;
    yx_category_t cat = { .code = "0102", .name = "污水井盖", .class_name = "公用设施" };
    yx_dept_t depts[2] = { { .id = "fz-water", .name = "福州水务集团有限公司" }, { .id = "st-1", .name = "街道办" } };
    yx_config_t cfg = { .cats = &cat, .ncats = 1, .depts = depts, .ndepts = 2, .utc_offset_min = 480 };
    int64_t t0;
    assert_int_equal (yx_time_parse ("2026-11-23T08:00:00+08:00", &t0), 0);
    yx_case_t c = { .id = "350102-20261123-000042", .district = "350102", .state = "DISPATCHED", .version = 3 };
    c.doc = json_pack ("{s:s, s:{s:s, s:s, s:s}, s:{s:f, s:f, s:s, s:s}, s:{s:s, s:s}, s:[s],"
                       " s:[{s:s, s:s, s:s, s:I}, {s:s, s:s, s:s, s:I}], s:I, s:I}",
                       "description", "井盖冒污水", "category", "code", "0102", "name", "污水井盖", "class", "公用设施",
                       "location", "lat", 26.0845, "lon", 119.296, "address", "鼓楼区某小区", "grid", "350102004001001",
                       "reporter", "name", "陈女士", "phone", "13800135678", "media", "https://example.org/1.jpg",
                       "assignments", "department", "st-1", "role", "lead", "state", "RETURNED", "resolve_due_ms",
                       (json_int_t) t0, "department", "fz-water", "role", "lead", "state", "PENDING", "resolve_due_ms",
                       (json_int_t) (t0 + 4 * 3600000LL), "created_ms", (json_int_t) t0, "updated_ms",
                       (json_int_t) (t0 + 60000));
    assert_non_null (c.doc);
    json_t *v = yx_o311_request_view (&cfg, &c, "已派遣");
    char *text = json_dumps (v, JSON_COMPACT | JSON_REAL_PRECISION (10));   /* as the HTTP layer */
    assert_string_equal (text,
                         "{\"service_request_id\":\"350102-20261123-000042\",\"status\":\"open\",\"status_notes\":\"已派遣\","
                         "\"service_name\":\"污水井盖\",\"service_code\":\"0102\",\"description\":\"井盖冒污水\","
                         "\"agency_responsible\":\"福州水务集团有限公司\",\"service_notice\":null,"
                         "\"requested_datetime\":\"2026-11-23T08:00:00+08:00\",\"updated_datetime\":\"2026-11-23T08:01:00+08:00\","
                         "\"expected_datetime\":\"2026-11-23T12:00:00+08:00\",\"address\":\"鼓楼区某小区\","
                         "\"address_id\":\"350102004001001\",\"zipcode\":null,\"lat\":26.0845,\"long\":119.296,"
                         "\"media_url\":\"https://example.org/1.jpg\"}");
    assert_null (strstr (text, "13800135678"));
    assert_null (strstr (text, "陈女士"));
    free (text);
    json_decref (v);
    /* unclassified, unlocated, closed: nulls where nothing is known */
    json_decref (c.doc);
    c.doc = json_pack ("{s:s, s:n, s:s, s:{s:n, s:n, s:n, s:n}, s:[], s:[], s:I, s:I}", "description", "x", "category",
                       "reported_category", "9999", "location", "lat", "lon", "address", "grid", "media",
                       "assignments", "created_ms", (json_int_t) t0, "updated_ms", (json_int_t) t0);
    snprintf (c.state, sizeof c.state, "REJECTED");
    v = yx_o311_request_view (&cfg, &c, NULL);
    assert_string_equal (json_string_value (json_object_get (v, "status")), "closed");
    assert_string_equal (json_string_value (json_object_get (v, "service_code")), "9999");
    const char *nulls[] = { "status_notes", "service_name", "agency_responsible", "expected_datetime", "address",
                            "address_id", "lat", "long", "media_url" };
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (!json_is_null (json_object_get (v, nulls[i])))
            fail_msg ("%s is not null", nulls[i]);
    json_decref (v);
    json_decref (c.doc);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_form_decodes), cmocka_unit_test (test_form_rejects),
        cmocka_unit_test (test_form_attribute), cmocka_unit_test (test_xml),
        cmocka_unit_test (test_xml_invalid_utf8), cmocka_unit_test (test_times),
        cmocka_unit_test (test_status), cmocka_unit_test (test_request_view),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
