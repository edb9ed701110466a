/* open311_view.c — what a case looks like to an Open311 client, and W3C times.
 * Pure: no I/O, so the mapping is unit-tested on its own. */
#include "open311.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

int
yx_o311_time_parse (const char *text, int offset_min, int64_t *ms)
{
    size_t len = strlen (text);
    char buf[48];
    if (len == 10) {   /* a date: local midnight */
        int off = offset_min < 0 ? -offset_min : offset_min;
        snprintf (buf, sizeof buf, "%sT00:00:00%c%02d:%02d", text, offset_min < 0 ? '-' : '+',
                  off / 60 % 100, off % 60);
        return yx_time_parse (buf, ms);
    }
    if (len < 17 || len > 40 || (text[10] != 'T' && text[10] != 't'))
        return -1;
    if (text[16] == ':')
        snprintf (buf, sizeof buf, "%s", text);
    else   /* hh:mm without seconds */
        snprintf (buf, sizeof buf, "%.16s:00%s", text, text + 16);
    for (char *p = buf + 16; *p; p++)
        if (*p == ' ')
            *p = '+';
    return yx_time_parse (buf, ms);
}

char *
yx_o311_time_format (int64_t ms, int offset_min, char *buf, size_t n)
{
    char full[40];
    yx_time_format (ms, offset_min, full, sizeof full);
    snprintf (buf, n, "%.19s%s", full, full + 23);   /* drop ".mmm" */
    return buf;
}

const char *
yx_o311_status (const char *state)
{
    return strcmp (state, "CLOSED") == 0 || strcmp (state, "REJECTED") == 0 || strcmp (state, "MERGED") == 0
               ? "closed"
               : "open";
}

/* The lead assignment that still holds the case (not CANCELLED or RETURNED), or NULL. */
static const json_t *
s_lead (const json_t *doc)
{
    size_t i;
    const json_t *a;
    json_array_foreach (json_object_get (doc, "assignments"), i, a)
        if (strcmp (yx_doc_str (a, "role"), "lead") == 0 && strcmp (yx_doc_str (a, "state"), "CANCELLED")
            && strcmp (yx_doc_str (a, "state"), "RETURNED"))
            return a;
    return NULL;
}

/* A W3C time from an integer member in ms, or null. */
static json_t *
s_time (const json_t *obj, const char *key, int offset_min)
{
    const json_t *v = json_object_get (obj, key);
    char buf[40];
    return json_is_integer (v) ? json_string (yx_o311_time_format (json_integer_value (v), offset_min, buf, sizeof buf))
                               : json_null ();
}

/* A string member (copied) or null. */
static json_t *
s_str (const json_t *obj, const char *key)
{
    const char *s = json_string_value (json_object_get (obj, key));
    return s && *s ? json_string (s) : json_null ();
}

const char *
yx_o311_service_code (const json_t *doc)
{
    const char *code = yx_doc_path (doc, "category", "code");
    return *code ? code : yx_doc_str (doc, "reported_category");
}

json_t *
yx_o311_request_view (const yx_config_t *cfg, const yx_case_t *c, const char *note)
{
    const json_t *doc = c->doc, *loc = json_object_get (doc, "location");
    const char *code = yx_o311_service_code (doc);
    const yx_category_t *cat = *code ? yx_config_category (cfg, code) : NULL;
    const json_t *lead = s_lead (doc);
    const yx_dept_t *dept = lead ? yx_config_dept (cfg, yx_doc_str (lead, "department")) : NULL;
    const json_t *lat = json_object_get (loc, "lat"), *lon = json_object_get (loc, "lon");
    json_t *v = json_object ();
    json_object_set_new (v, "service_request_id", json_string (c->id));
    json_object_set_new (v, "status", json_string (yx_o311_status (c->state)));
    json_object_set_new (v, "status_notes", note && *note ? json_string (note) : json_null ());
    json_object_set_new (v, "service_name", cat ? json_string (cat->name) : json_null ());
    json_object_set_new (v, "service_code", *code ? json_string (code) : json_null ());
    json_object_set_new (v, "description", s_str (doc, "description"));
    json_object_set_new (v, "agency_responsible", dept ? json_string (dept->name) : json_null ());
    json_object_set_new (v, "service_notice", json_null ());
    json_object_set_new (v, "requested_datetime", s_time (doc, "created_ms", cfg->utc_offset_min));
    json_object_set_new (v, "updated_datetime", s_time (doc, "updated_ms", cfg->utc_offset_min));
    json_object_set_new (v, "expected_datetime",
                         lead ? s_time (lead, "resolve_due_ms", cfg->utc_offset_min) : json_null ());
    json_object_set_new (v, "address", s_str (loc, "address"));
    json_object_set_new (v, "address_id", s_str (loc, "grid"));
    json_object_set_new (v, "zipcode", json_null ());
    json_object_set_new (v, "lat", json_is_number (lat) ? json_real (json_number_value (lat)) : json_null ());
    json_object_set_new (v, "long", json_is_number (lon) ? json_real (json_number_value (lon)) : json_null ());
    const char *media = json_string_value (json_array_get (json_object_get (doc, "media"), 0));
    json_object_set_new (v, "media_url", media && *media ? json_string (media) : json_null ());
    return v;
}
