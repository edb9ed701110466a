/* report.c — turning a report into a registered case.
 *
 * Validation is strict and names the field at fault; location is resolved here
 * because the district decides which Redis keys the case lives under. The write is
 * one REPORT script: idempotency key, case hash, timeline, classify queue, index
 * and counters together. */
#include "intake.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "bus.h"
#include "case.h"
#include "log.h"
#include "util.h"

static const char *s_sources[] = { "hotline", "app", "wechat", "grid", "open311", "video", "other" };

/* Sets err and returns -1. */
static int
s_err (yx_report_err_t *err, int status, const char *code, const char *field, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));
static int
s_err (yx_report_err_t *err, int status, const char *code, const char *field, const char *fmt, ...)
{
    err->status = status;
    snprintf (err->code, sizeof err->code, "%s", code);
    snprintf (err->field, sizeof err->field, "%s", field ? field : "");
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err->message, sizeof err->message, fmt, ap);
    va_end (ap);
    return -1;
}

/* Reads an optional string member; wrong type is an error. */
static int
s_opt_str (const json_t *obj, const char *name, const char *field, const char **out,
           yx_report_err_t *err)
{
    const json_t *v = json_object_get (obj, name);
    *out = NULL;
    if (!v || json_is_null (v))
        return 0;
    if (!json_is_string (v))
        return s_err (err, 422, "invalid_type", field, "%s must be a string", field);
    *out = json_string_value (v);
    return 0;
}

/* Reads an optional number member. */
static int
s_opt_num (const json_t *obj, const char *name, const char *field, double *out, bool *has,
           yx_report_err_t *err)
{
    const json_t *v = json_object_get (obj, name);
    *has = false;
    if (!v || json_is_null (v))
        return 0;
    if (!json_is_number (v))
        return s_err (err, 422, "invalid_type", field, "%s must be a number", field);
    *out = json_number_value (v);
    *has = true;
    return 0;
}

int
yx_report_from_json (const json_t *body, yx_report_in_t *in, yx_report_err_t *err)
{
    memset (in, 0, sizeof *in);
    if (!json_is_object (body))
        return s_err (err, 400, "malformed_json", NULL, "the body must be a JSON object");
    if (s_opt_str (body, "source", "source", &in->source, err)
        || s_opt_str (body, "source_ref", "source_ref", &in->source_ref, err)
        || s_opt_str (body, "title", "title", &in->title, err)
        || s_opt_str (body, "description", "description", &in->description, err)
        || s_opt_str (body, "category", "category", &in->category, err))
        return -1;
    const char *reported_at;
    if (s_opt_str (body, "reported_at", "reported_at", &reported_at, err))
        return -1;
    if (reported_at && yx_time_parse (reported_at, &in->reported_at_ms))
        return s_err (err, 422, "invalid_time", "reported_at",
                      "reported_at must be an RFC 3339 time with offset");
    const json_t *loc = json_object_get (body, "location");
    if (loc && !json_is_null (loc)) {
        if (!json_is_object (loc))
            return s_err (err, 422, "invalid_type", "location", "location must be an object");
        bool has_lat, has_lon;
        if (s_opt_num (loc, "lat", "location.lat", &in->lat, &has_lat, err)
            || s_opt_num (loc, "lon", "location.lon", &in->lon, &has_lon, err)
            || s_opt_str (loc, "address", "location.address", &in->address, err)
            || s_opt_str (loc, "grid", "location.grid", &in->grid, err)
            || s_opt_str (loc, "crs", "location.crs", &in->crs, err))
            return -1;
        if (has_lat != has_lon)
            return s_err (err, 422, "missing_field", has_lat ? "location.lon" : "location.lat",
                          "a point needs both lat and lon");
        in->has_point = has_lat;
    }
    const json_t *rep = json_object_get (body, "reporter");
    if (rep && !json_is_null (rep)) {
        if (!json_is_object (rep))
            return s_err (err, 422, "invalid_type", "reporter", "reporter must be an object");
        if (s_opt_str (rep, "name", "reporter.name", &in->reporter_name, err)
            || s_opt_str (rep, "phone", "reporter.phone", &in->reporter_phone, err))
            return -1;
    }
    const json_t *media = json_object_get (body, "media");
    if (media && !json_is_null (media)) {
        if (!json_is_array (media))
            return s_err (err, 422, "invalid_type", "media", "media must be an array of URLs");
        if (json_array_size (media) > 10)
            return s_err (err, 422, "too_many_media", "media", "at most 10 media URLs");
        size_t i;
        const json_t *m;
        json_array_foreach (media, i, m) {
            if (!json_is_string (m))
                return s_err (err, 422, "invalid_type", "media", "media[%zu] must be a string", i);
            in->media[in->nmedia++] = json_string_value (m);
        }
    }
    return 0;
}

/* Checks one optional text field's length in characters. */
static int
s_check_len (const char *s, size_t max, const char *field, yx_report_err_t *err)
{
    if (s && yx_utf8_chars (s, strlen (s)) > max)
        return s_err (err, 422, "too_long", field, "%s is longer than %zu characters", field, max);
    return 0;
}

/* Validates values (not types). 0/-1. */
static int
s_validate (const yx_intake_t *in, const yx_caller_t *caller, const yx_report_in_t *r,
            yx_report_err_t *err)
{
    if (!r->source)
        return s_err (err, 422, "missing_field", "source", "source is required");
    bool known = false;
    for (size_t i = 0; i < sizeof s_sources / sizeof s_sources[0]; i++)
        known |= strcmp (r->source, s_sources[i]) == 0;
    if (!known)
        return s_err (err, 422, "invalid_value", "source",
                      "source must be one of hotline, app, wechat, grid, open311, video, other");
    if (caller->role == YX_ROLE_REPORTER && strcmp (caller->key->scope, r->source) != 0)
        return s_err (err, 403, "forbidden_source", "source",
                      "this key may only report cases from its own source");
    if (caller->role == YX_ROLE_DEPARTMENT)
        return s_err (err, 403, "forbidden_role", NULL, "department keys cannot report cases");
    if (!r->description || !*r->description)
        return s_err (err, 422, "missing_field", "description", "description is required (1-4000 characters)");
    if (s_check_len (r->description, 4000, "description", err) || s_check_len (r->title, 200, "title", err)
        || s_check_len (r->source_ref, 128, "source_ref", err)
        || s_check_len (r->address, 500, "location.address", err)
        || s_check_len (r->reporter_name, 64, "reporter.name", err))
        return -1;
    if (r->source_ref && !*r->source_ref)
        return s_err (err, 422, "invalid_value", "source_ref", "source_ref must not be empty");
    if (r->category && !yx_config_category (in->cfg, r->category))
        return s_err (err, 422, "unknown_category", "category", "no subcategory has code \"%.8s\"", r->category);
    if (r->reporter_phone) {
        size_t n = strlen (r->reporter_phone);
        if (n < 3 || n > 20 || strspn (r->reporter_phone, "0123456789+- ") != n)
            return s_err (err, 422, "invalid_value", "reporter.phone", "phone must be 3-20 digits");
    }
    for (int i = 0; i < r->nmedia; i++) {
        size_t n = strlen (r->media[i]);
        if (n > 1000 || (strncmp (r->media[i], "http://", 7) && strncmp (r->media[i], "https://", 8)))
            return s_err (err, 422, "invalid_value", "media", "media[%d] must be an http(s) URL up to 1000 bytes", i);
    }
    if (r->crs && strcmp (r->crs, "wgs84") && strcmp (r->crs, "gcj02"))
        return s_err (err, 422, "invalid_value", "location.crs", "crs must be wgs84 or gcj02");
    if (r->has_point && (!isfinite (r->lat) || r->lat < -90 || r->lat > 90))
        return s_err (err, 422, "out_of_range", "location.lat", "lat must be within -90..90");
    if (r->has_point && (!isfinite (r->lon) || r->lon < -180 || r->lon > 180))
        return s_err (err, 422, "out_of_range", "location.lon", "lon must be within -180..180");
    if (!r->has_point && !(r->grid && *r->grid) && !(r->address && *r->address))
        return s_err (err, 422, "location_required", "location",
                      "a location needs lat+lon, a grid code or an address");
    return 0;
}

/* Resolves the location into loc_json (new object) and the district. 0/-1. */
static int
s_locate (const yx_intake_t *in, const yx_report_in_t *r, json_t **loc_json, char district[8],
          yx_report_err_t *err)
{
    yx_geo_loc_t loc = { 0 };
    double lat = r->lat, lon = r->lon;
    bool has_point = r->has_point;
    const char *how = "triage";
    if (has_point && r->crs && strcmp (r->crs, "gcj02") == 0)
        yx_geo_gcj02_to_wgs84 (r->lat, r->lon, &lat, &lon);
    if (r->grid && *r->grid) {
        double glat, glon;
        if (yx_geo_locate_grid (in->geo, r->grid, &loc, &glat, &glon) != 0)
            return s_err (err, 422, "unknown_grid", "location.grid", "no grid has code \"%.20s\"", r->grid);
        if (!has_point)
            lat = glat, lon = glon, has_point = true;
        how = "grid";
    }
    else
    if (has_point) {
        yx_geo_locate (in->geo, lat, lon, &loc);
        how = loc.how == YX_GEO_IN_GRID ? "point" : loc.how == YX_GEO_NEAREST_STREET ? "nearest_street" : "triage";
    }
    else
    if (yx_geo_locate_address (in->geo, r->address, &loc, &lat, &lon) == 0) {
        has_point = true;
        how = "address";
    }
    if (!*loc.district)
        memcpy (loc.district, in->cfg->triage_district, sizeof loc.district);
    memcpy (district, loc.district, 7);
    district[7] = 0;
    json_t *l = json_object ();
    json_object_set_new (l, "lat", has_point ? json_real (lat) : json_null ());
    json_object_set_new (l, "lon", has_point ? json_real (lon) : json_null ());
    json_object_set_new (l, "address", r->address ? json_string (r->address) : json_null ());
    json_object_set_new (l, "grid", *loc.grid ? json_string (loc.grid) : json_null ());
    json_object_set_new (l, "community", *loc.community ? json_string (loc.community) : json_null ());
    json_object_set_new (l, "street", *loc.street ? json_string (loc.street) : json_null ());
    json_object_set_new (l, "district", json_string (loc.district));
    json_object_set_new (l, "located_by", json_string (how));
    if (r->crs)
        json_object_set_new (l, "crs_reported", json_string (r->crs));
    *loc_json = l;
    return 0;
}

/* Builds the new case document. */
static json_t *
s_new_doc (const yx_report_in_t *r, json_t *loc, int64_t now)
{
    json_t *media = json_array ();
    for (int i = 0; i < r->nmedia; i++)
        json_array_append_new (media, json_string (r->media[i]));
    json_t *reporter = json_null ();
    if (r->reporter_name || r->reporter_phone)
        reporter = json_pack ("{s:o, s:o}", "name", r->reporter_name ? json_string (r->reporter_name) : json_null (),
                              "phone", r->reporter_phone ? json_string (r->reporter_phone) : json_null ());
    return json_pack ("{s:s, s:o, s:s, s:s, s:n, s:o, s:s, s:s, s:o, s:[], s:n, s:[], s:i, s:o, s:o, s:n, s:I, s:I, s:I, s:n}",
                      "source", r->source,
                      "source_ref", r->source_ref ? json_string (r->source_ref) : json_null (),
                      "title", r->title ? r->title : "",
                      "description", r->description,
                      "category",
                      "reported_category", r->category ? json_string (r->category) : json_null (),
                      "priority", "normal",
                      "grade", "routine",
                      "location", loc,
                      "assignments",
                      "duplicate_of",
                      "duplicates",
                      "reports", 1,
                      "reporter", reporter,
                      "media", media,
                      "rating",
                      "created_ms", (json_int_t) now,
                      "updated_ms", (json_int_t) now,
                      "reported_at_ms", (json_int_t) (r->reported_at_ms ? r->reported_at_ms : now),
                      "classification");
}

/* Sends the classifier a nudge; losing it only delays the case (the sweeper has it). */
static void
s_nudge (yx_intake_conn_t *conn, const char *id, int64_t now)
{
    char eid[40];
    Yixian__V1__CaseReported rep = YIXIAN__V1__CASE_REPORTED__INIT;
    rep.case_id = (char *) id;
    rep.version = 1;
    rep.event_id = yx_random_id (eid, sizeof eid);
    rep.at_ms = now;
    yx_env_t env = YIXIAN__V1__ENVELOPE__INIT;
    env.body_case = YIXIAN__V1__ENVELOPE__BODY_REPORTED;
    env.reported = &rep;
    if (conn->to_classifier)
        yx_bus_send (conn->to_classifier, NULL, NULL, 0, &env);
}

int
yx_report_submit (const yx_intake_t *in, const yx_caller_t *caller, const yx_report_in_t *r,
                  char id[32], bool *created, json_t **view, yx_report_err_t *err)
{
    if (s_validate (in, caller, r, err))
        return -1;
    yx_intake_conn_t *conn = yx_intake_conn (in);
    json_t *loc = NULL;
    char district[8];
    if (s_locate (in, r, &loc, district, err))
        return -1;
    int64_t now = yx_now_ms ();
    json_t *doc = s_new_doc (r, loc, now);
    /* Allocate the sequence number first: a gap on replays is harmless, a case
     * whose keys are unknown to the script would not be cluster-safe. */
    char local[40], seqkey[96], k[6][160];
    yx_time_format (now, in->cfg->utc_offset_min, local, sizeof local);
    char ymd[9] = { local[0], local[1], local[2], local[3], local[5], local[6], local[8], local[9], 0 };
    yx_key (seqkey, sizeof seqkey, district, "seq:%s", ymd);
    redisReply *sr = yx_store_cmd (conn->store, "INCR %s", seqkey);
    if (!sr || sr->type != REDIS_REPLY_INTEGER) {
        if (sr)
            freeReplyObject (sr);
        json_decref (doc);
        return s_err (err, 503, "unavailable", NULL, "the case store is unavailable; the report was not accepted");
    }
    long long seq = sr->integer;
    freeReplyObject (sr);
    if (seq == 1) {
        sr = yx_store_cmd (conn->store, "EXPIRE %s 172800", seqkey);
        if (sr)
            freeReplyObject (sr);
    }
    snprintf (id, 32, "%s-%s-%06lld", district, ymd, seq % 1000000);
    char *docs = json_dumps (doc, JSON_COMPACT | JSON_REAL_PRECISION (10));
    char *tl = yx_case_timeline_entry (now, caller->key->name, "REPORTED", "");
    bool has_idem = r->source_ref != NULL;
    yx_key (k[0], sizeof k[0], district, "idem:%s:%s", r->source, has_idem ? r->source_ref : "");
    yx_key (k[1], sizeof k[1], district, "case:%s", id);
    yx_key (k[2], sizeof k[2], district, "case:%s:tl", id);
    yx_key (k[3], sizeof k[3], district, YX_Q_CLASSIFY);
    yx_key (k[4], sizeof k[4], district, YX_K_CASES);
    yx_key (k[5], sizeof k[5], district, YX_K_STATS);
    char nows[24];
    snprintf (nows, sizeof nows, "%lld", (long long) now);
    const char *argv[] = { k[0], k[1], k[2], k[3], k[4], k[5], id, docs, nows, tl, has_idem ? "1" : "0" };
    size_t lens[11];
    for (int i = 0; i < 11; i++)
        lens[i] = strlen (argv[i]);
    redisReply *rr = yx_store_script (conn->store, YX_SCRIPT_REPORT, 6, 11, argv, lens);
    free (docs);
    free (tl);
    int rc = -1;
    if (rr && rr->type == REDIS_REPLY_ARRAY && rr->elements == 2
        && rr->element[0]->type == REDIS_REPLY_INTEGER && rr->element[1]->type == REDIS_REPLY_STRING) {
        *created = rr->element[0]->integer == 1;
        snprintf (id, 32, "%s", rr->element[1]->str);
        rc = 0;
    }
    else
        s_err (err, 503, "unavailable", NULL, "the case store is unavailable; the report was not accepted");
    if (rr)
        freeReplyObject (rr);
    if (rc == 0 && *created) {
        s_nudge (conn, id, now);
        char v[64];
        yx_info ("case_reported", "case=%s source=%s district=%s", id,
                 yx_log_value (r->source, v, sizeof v), district);
        if (view) {
            yx_case_t c = { .version = 1, .doc = doc, .timeline = json_array () };
            snprintf (c.id, sizeof c.id, "%s", id);
            snprintf (c.state, sizeof c.state, "REPORTED");
            json_array_append_new (c.timeline, json_pack ("{s:I, s:s, s:s, s:s}", "at_ms", (json_int_t) now,
                                                          "actor", caller->key->name, "event", "REPORTED", "note", ""));
            *view = yx_case_view (&c, yx_auth_sees_phone (caller), in->cfg->utc_offset_min);
            json_decref (c.timeline);
        }
    }
    else
    if (rc == 0 && view) {
        yx_case_t c;
        yx_case_load_t lr = yx_case_load (conn->store, id, 1, &c);
        if (lr == YX_CASE_FOUND) {
            *view = yx_case_view (&c, yx_auth_sees_phone (caller), in->cfg->utc_offset_min);
            yx_case_clear (&c);
        }
        else
            rc = s_err (err, 503, "unavailable", NULL, "the case store is unavailable");
    }
    json_decref (doc);
    return rc;
}
