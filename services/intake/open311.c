/* open311.c — Open311 GeoReport v2: routing, discovery, services, service
 * definitions and POST requests.
 *
 *   GET  /open311/v2/discovery.{json,xml}
 *   GET  /open311/v2/services.{json,xml}            the taxonomy's subcategories
 *   GET  /open311/v2/services/{code}.{json,xml}     their attributes
 *   POST /open311/v2/requests.{json,xml}            form-encoded, api_key
 *   GET  /open311/v2/requests.{json,xml}            open311_requests.c
 *   GET  /open311/v2/requests/{id}.{json,xml}       open311_requests.c
 *   GET  /open311/v2/tokens/{token}.{json,xml}      open311_requests.c
 *
 * A service request is registered by the same path as POST /v1/cases
 * (yx_report_submit, source "open311"), synchronously, so every service is of
 * type realtime and POST answers with the case id. */
#include "open311.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "util.h"

#define S_PREFIX "/open311/v2/"
#define S_SPEC "http://wiki.open311.org/GeoReport_v2"
#define S_CODE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

/* One attribute of the service definitions (the same for every service). */
typedef struct {
    const char *code;                 /* attribute code: attribute[code]=value */
    const char *datatype;             /* string | singlevaluelist */
    const char *datatype_description; /* how to write the value, or NULL */
    const char *description;          /* what to enter */
    const char *keys[3];              /* keys of a singlevaluelist, NULL-terminated */
    const char *names[3];             /* their display names */
} s_attr_t;

static const s_attr_t s_attrs[] = {
    { "title", "string", "At most 200 characters, one line.",
      "A short title for the report (标题).", { NULL }, { NULL } },
    { "crs", "singlevaluelist", NULL,
      "The datum of lat and long when it is not WGS 84: Chinese map apps report GCJ-02.",
      { "wgs84", "gcj02", NULL }, { "WGS 84 (GPS)", "GCJ-02 (Chinese map apps)", NULL } },
};

/* Form fields of POST requests besides attribute[…]. */
static const char *const s_post_fields[] = {
    "api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id",
    "email", "device_id", "account_id", "first_name", "last_name", "phone", "description", "media_url",
};

/* Open311 names of the report's fields, for error descriptions. */
static const char *const s_field_names[][2] = {
    { "title", "attribute[title]" }, { "category", "service_code" },
    { "location.lat", "lat" }, { "location.lon", "long" },
    { "location.address", "address_string" }, { "location.grid", "address_id" },
    { "location.crs", "attribute[crs]" }, { "reporter.name", "first_name/last_name" },
    { "reporter.phone", "phone" }, { "media", "media_url" },
};

/* Cuts a string back to its longest valid UTF-8 prefix (vsnprintf may split a character). */
static void
s_utf8_trim (char *s)
{
    size_t n = strlen (s);
    while (n && !yx_utf8_valid (s, n))
        s[--n] = 0;
}

void
yx_o311_send (yx_http_resp_t *resp, yx_o311_fmt_t fmt, int status, json_t *doc, const char *root,
              const char *item)
{
    if (fmt == YX_O311_JSON) {
        yx_http_json (resp, status, doc);
        return;
    }
    size_t len = 0;
    char *xml = doc ? yx_o311_xml (doc, root, item, &len) : NULL;
    json_decref (doc);
    if (!xml) {
        static const char oom[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<errors><error><code>503</code>"
                                  "<description>out of memory</description></error></errors>\n";
        yx_http_text (resp, 503, "text/xml; charset=utf-8", oom, sizeof oom - 1);
        resp->retry_after = 1;
        return;
    }
    resp->status = status;
    resp->body = xml;
    resp->len = len;
    resp->content_type = "text/xml; charset=utf-8";
}

void
yx_o311_error (yx_http_resp_t *resp, yx_o311_fmt_t fmt, int status, const char *fmt_desc, ...)
{
    char desc[512];
    va_list ap;
    va_start (ap, fmt_desc);
    vsnprintf (desc, sizeof desc, fmt_desc, ap);
    va_end (ap);
    s_utf8_trim (desc);
    yx_o311_send (resp, fmt, status, json_pack ("[{s:i, s:s}]", "code", status, "description", desc),
                  "errors", "error");
}

/* True when a jurisdiction_id was given and is not this city's code; answers 404. */
static bool
s_wrong_jurisdiction (const yx_intake_t *in, const char *jid, yx_http_resp_t *resp, yx_o311_fmt_t fmt)
{
    if (!jid || !*jid || strcmp (jid, in->cfg->city_code) == 0)
        return false;
    yx_o311_error (resp, fmt, 404, "jurisdiction_id not found: this endpoint serves jurisdiction %s only",
                   in->cfg->city_code);
    return true;
}

/* The endpoint's absolute URL from the Host header when it is a plain host[:port],
 * else from the configured bind address. */
static void
s_base_url (const yx_intake_t *in, const yx_http_req_t *req, char *out, size_t n)
{
    const char *host = yx_http_header (req, "Host");
    const char *proto = yx_http_header (req, "X-Forwarded-Proto");
    const char *scheme = proto && strcmp (proto, "https") == 0 ? "https" : "http";
    if (host && *host && strlen (host) < 200
        && strspn (host, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-:[]") == strlen (host))
        snprintf (out, n, "%s://%s/open311/v2", scheme, host);
    else
        snprintf (out, n, "%s://%s:%d/open311/v2", scheme, in->cfg->intake_bind, in->cfg->intake_port);
}

/* When the service definitions last changed: they load with the process. */
static int64_t s_loaded_ms;
static pthread_once_t s_loaded_once = PTHREAD_ONCE_INIT;

static void
s_note_load (void)
{
    s_loaded_ms = yx_now_ms ();
}

/* GET discovery */
static void
s_discovery (const yx_intake_t *in, const yx_http_req_t *req, yx_http_resp_t *resp, yx_o311_fmt_t fmt)
{
    pthread_once (&s_loaded_once, s_note_load);
    char changeset[40], url[320];
    yx_o311_time_format (s_loaded_ms, in->cfg->utc_offset_min, changeset, sizeof changeset);
    s_base_url (in, req, url, sizeof url);
    json_t *endpoint = json_pack ("{s:s, s:s, s:s, s:s, s:[s, s]}", "specification", S_SPEC, "url", url,
                                  "changeset", changeset, "type", "production", "formats", "text/xml",
                                  "application/json");
    yx_o311_send (resp, fmt, 200,
                  json_pack ("{s:s, s:s, s:s, s:[o]}", "changeset", changeset, "contact",
                             "The city operations center that runs this Yixian installation; "
                             "the API is documented in docs/api.md.",
                             "key_service",
                             "Reading is open to everyone. To submit service requests, ask the operations "
                             "center for an API key of role reporter and source open311.",
                             "endpoints", endpoint),
                  "discovery", NULL);
}

/* "30 minutes", "1 hour", "15 days" … */
static const char *
s_duration_text (yx_duration_t d, char *buf, size_t n)
{
    const char *unit = d.unit == 's' ? "second" : d.unit == 'm' ? "minute" : d.unit == 'h' ? "hour" : "day";
    snprintf (buf, n, "%lld %s%s", (long long) d.amount, unit, d.amount == 1 ? "" : "s");
    return buf;
}

/* One service of the list. */
static json_t *
s_service (const yx_category_t *cat)
{
    char ack[32], res[32], desc[512], keywords[1024] = "";
    snprintf (desc, sizeof desc, "%s / %s: acknowledged within %s and resolved within %s of %s.", cat->class_name,
              cat->name, s_duration_text (cat->ack_limit, ack, sizeof ack),
              s_duration_text (cat->resolve_limit, res, sizeof res),
              cat->emergency ? "wall-clock time" : "working time");
    size_t used = 0;
    for (int i = 0; i < cat->nkeywords && used < sizeof keywords - 1; i++) {
        int w = snprintf (keywords + used, sizeof keywords - used, "%s%s", i ? ", " : "", cat->keywords[i]);
        used = w < 0 ? used : used + (size_t) w;
    }
    s_utf8_trim (desc);
    s_utf8_trim (keywords);
    return json_pack ("{s:s, s:s, s:s, s:b, s:s, s:s, s:s}", "service_code", cat->code, "service_name",
                      cat->name, "description", desc, "metadata", 1, "type", "realtime", "keywords", keywords,
                      "group", cat->class_name);
}

/* GET services */
static void
s_services (const yx_intake_t *in, yx_http_resp_t *resp, yx_o311_fmt_t fmt)
{
    json_t *list = json_array ();
    for (int i = 0; i < in->cfg->ncats; i++)
        json_array_append_new (list, s_service (&in->cfg->cats[i]));
    yx_o311_send (resp, fmt, 200, list, "services", "service");
}

/* GET services/{code} */
static void
s_definition (const yx_intake_t *in, const char *code, yx_http_resp_t *resp, yx_o311_fmt_t fmt)
{
    if (!yx_config_category (in->cfg, code)) {
        yx_o311_error (resp, fmt, 404, "service_code %s not found", code);
        return;
    }
    json_t *attrs = json_array ();
    for (size_t i = 0; i < sizeof s_attrs / sizeof s_attrs[0]; i++) {
        const s_attr_t *a = &s_attrs[i];
        json_t *attr = json_pack ("{s:b, s:s, s:s, s:b, s:s?, s:i, s:s}", "variable", 1, "code", a->code,
                                  "datatype", a->datatype, "required", 0, "datatype_description",
                                  a->datatype_description, "order", (int) i + 1, "description", a->description);
        if (a->keys[0]) {
            json_t *values = json_array ();
            for (int k = 0; a->keys[k]; k++)
                json_array_append_new (values, json_pack ("{s:s, s:s}", "key", a->keys[k], "name", a->names[k]));
            json_object_set_new (attr, "values", values);
        }
        json_array_append_new (attrs, attr);
    }
    yx_o311_send (resp, fmt, 200, json_pack ("{s:s, s:o}", "service_code", code, "attributes", attrs),
                  "service_definition", NULL);
}

/* A coordinate: a plain decimal number. 0/-1. */
static int
s_coord (const char *text, double *out)
{
    size_t n = strlen (text);
    if (n == 0 || n > 32 || strspn (text, "0123456789+-.eE") != n)
        return -1;
    char *end;
    *out = strtod (text, &end);
    return *end || !isfinite (*out) ? -1 : 0;
}

/* A non-empty form value, or NULL ("empty means not given"). */
static const char *
s_opt (const yx_form_t *form, const char *key)
{
    const char *v = yx_form_get (form, key);
    return v && *v ? v : NULL;
}

/* Checks that every field is known and reads the attributes into r. 0, or -1 with
 * the error answered. */
static int
s_check_fields (const yx_form_t *form, yx_report_in_t *r, yx_http_resp_t *resp, yx_o311_fmt_t fmt)
{
    for (int i = 0; i < form->nfields; i++) {
        const char *key = form->fields[i].key, *value = form->fields[i].value;
        char code[32];
        bool list = false;
        int is_attr = yx_form_attribute (key, code, sizeof code, &list);
        if (is_attr < 0) {
            yx_o311_error (resp, fmt, 400, "%s is not a valid attribute name: use attribute[CODE]=value", key);
            return -1;
        }
        if (is_attr == 0) {
            bool known = false;
            for (size_t k = 0; k < sizeof s_post_fields / sizeof s_post_fields[0]; k++)
                known |= strcmp (key, s_post_fields[k]) == 0;
            if (!known) {
                yx_o311_error (resp, fmt, 400, "%s is not a field of POST requests", key);
                return -1;
            }
            continue;
        }
        const s_attr_t *a = NULL;
        for (size_t k = 0; k < sizeof s_attrs / sizeof s_attrs[0]; k++)
            if (strcmp (code, s_attrs[k].code) == 0)
                a = &s_attrs[k];
        if (!a) {
            yx_o311_error (resp, fmt, 400, "attribute %s not found: see the service definition", code);
            return -1;
        }
        if (list) {
            yx_o311_error (resp, fmt, 400, "attribute %s takes a single value", code);
            return -1;
        }
        if (*value && a->keys[0]) {
            bool ok = false;
            for (int k = 0; a->keys[k]; k++)
                ok |= strcmp (value, a->keys[k]) == 0;
            if (!ok) {
                yx_o311_error (resp, fmt, 400, "attribute %s must be one of the keys in the service definition", code);
                return -1;
            }
        }
        if (*value && strcmp (code, "title") == 0)
            r->title = value;
        if (*value && strcmp (code, "crs") == 0)
            r->crs = value;
    }
    return 0;
}

/* Checks the length of an optional field in characters. 0, or -1 with the error answered. */
static int
s_max_chars (const yx_form_t *form, const char *key, size_t max, yx_http_resp_t *resp, yx_o311_fmt_t fmt)
{
    const char *v = yx_form_get (form, key);
    if (v && yx_utf8_chars (v, strlen (v)) > max) {
        yx_o311_error (resp, fmt, 400, "%s is longer than %zu characters", key, max);
        return -1;
    }
    return 0;
}

/* The reporter's name from first_name and last_name: family name first without a
 * space when either is written in a non-Latin script (陈 + 女士 → 陈女士). */
static const char *
s_reporter_name (const char *first, const char *last, char *buf, size_t n)
{
    if (!first || !last)
        return first ? first : last;
    bool cjk = (unsigned char) first[0] >= 0x80 || (unsigned char) last[0] >= 0x80;
    if (cjk)
        snprintf (buf, n, "%s%s", last, first);
    else
        snprintf (buf, n, "%s %s", first, last);
    return buf;
}

/* Answers a registration error with the Open311 name of the field at fault. */
static void
s_report_error (const yx_report_err_t *err, yx_http_resp_t *resp, yx_o311_fmt_t fmt)
{
    const char *field = err->field;
    for (size_t i = 0; i < sizeof s_field_names / sizeof s_field_names[0]; i++)
        if (strcmp (field, s_field_names[i][0]) == 0)
            field = s_field_names[i][1];
    int status = err->status == 403 || err->status == 503 ? err->status : 400;
    if (*field)
        yx_o311_error (resp, fmt, status, "%s: %s", field, err->message);
    else
        yx_o311_error (resp, fmt, status, "%s", err->message);
    if (status == 503)
        resp->retry_after = 1;
}

/* POST requests: validates the form, maps it onto a report and registers it. */
static void
s_post_request (const yx_intake_t *in, const yx_http_req_t *req, yx_http_resp_t *resp, yx_o311_fmt_t fmt)
{
    const char *ct = yx_http_header (req, "Content-Type");
    if (!ct || strncasecmp (ct, "application/x-www-form-urlencoded", 33) != 0) {
        yx_o311_error (resp, fmt, 400, "send the service request as Content-Type: application/x-www-form-urlencoded");
        return;
    }
    yx_form_t form;
    char err[256];
    if (yx_form_parse (req->body, req->body_len, &form, err, sizeof err)) {
        yx_o311_error (resp, fmt, 400, "%s", err);
        return;
    }
    yx_caller_t caller;
    const char *key = s_opt (&form, "api_key");
    if (!key || yx_auth_key (in->cfg, key, &caller)) {
        yx_o311_error (resp, fmt, 403, "%s api_key received -- can't proceed with create_request.",
                       key ? "Invalid" : "No");
        yx_form_free (&form);
        return;
    }
    if (caller.role != YX_ROLE_REPORTER || strcmp (caller.key->scope, "open311") != 0) {
        yx_o311_error (resp, fmt, 403, "this api_key may not create service requests: it must be a reporter key of source open311");
        yx_form_free (&form);
        return;
    }
    int wait = yx_ratelimit_take (in->limits, caller.key, yx_mono_ms ());
    if (wait) {
        yx_o311_error (resp, fmt, 429, "too many requests for this api_key; retry after %d seconds", wait);
        resp->retry_after = wait;
        yx_form_free (&form);
        return;
    }
    yx_report_in_t r = { 0 };
    r.source = "open311";
    if (s_wrong_jurisdiction (in, s_opt (&form, "jurisdiction_id"), resp, fmt)
        || s_check_fields (&form, &r, resp, fmt) || s_max_chars (&form, "first_name", 64, resp, fmt)
        || s_max_chars (&form, "last_name", 64, resp, fmt) || s_max_chars (&form, "email", 254, resp, fmt)
        || s_max_chars (&form, "device_id", 128, resp, fmt) || s_max_chars (&form, "account_id", 128, resp, fmt)) {
        yx_form_free (&form);
        return;
    }
    const char *code = s_opt (&form, "service_code"), *lat = s_opt (&form, "lat"), *lon = s_opt (&form, "long");
    const char *email = s_opt (&form, "email");
    const yx_category_t *cat = code ? yx_config_category (in->cfg, code) : NULL;
    const char *problem = NULL;
    int status = 400;
    if (!code)
        problem = "service_code was not provided";
    else
    if (!cat)
        problem = "service_code not found", status = 404;
    else
    if ((lat != NULL) != (lon != NULL))
        problem = "lat and long must be sent together";
    else
    if (lat && (s_coord (lat, &r.lat) || s_coord (lon, &r.lon)))
        problem = "lat and long must be decimal degrees";
    else
    if (!lat && !s_opt (&form, "address_string") && !s_opt (&form, "address_id"))
        problem = "a location is required: lat and long, address_string or address_id";
    else
    if (email && !strchr (email, '@'))
        problem = "email is not an email address";
    if (problem) {
        yx_o311_error (resp, fmt, status, "%s", problem);
        yx_form_free (&form);
        return;
    }
    char name[4 * 64 * 2 + 8];   /* two names of at most 64 characters */
    r.has_point = lat != NULL;
    r.category = code;
    r.address = s_opt (&form, "address_string");
    r.grid = s_opt (&form, "address_id");
    r.description = s_opt (&form, "description") ? s_opt (&form, "description") : cat->name;
    r.reporter_name = s_reporter_name (s_opt (&form, "first_name"), s_opt (&form, "last_name"), name, sizeof name);
    r.reporter_phone = s_opt (&form, "phone");
    if (s_opt (&form, "media_url"))
        r.media[r.nmedia++] = s_opt (&form, "media_url");
    char id[32];
    bool created = false;
    yx_report_err_t rerr;
    if (yx_report_submit (in, &caller, &r, id, &created, NULL, &rerr)) {
        s_report_error (&rerr, resp, fmt);
        yx_form_free (&form);
        return;
    }
    char ack[32], res[32], notice[512];
    snprintf (notice, sizeof notice,
              "Registered as case %s. %s is to be acknowledged within %s and resolved within %s of %s; "
              "follow it at requests/%s.", id, cat->name, s_duration_text (cat->ack_limit, ack, sizeof ack),
              s_duration_text (cat->resolve_limit, res, sizeof res),
              cat->emergency ? "wall-clock time" : "working time", id);
    s_utf8_trim (notice);
    yx_form_free (&form);
    yx_o311_send (resp, fmt, 200,
                  json_pack ("[{s:s, s:s, s:n}]", "service_request_id", id, "service_notice", notice, "account_id"),
                  "service_requests", "request");
}

/* Reads need no key, so they are limited per client address: true (and a 429 with
 * Retry-After in resp) when this one is over intake.public_rate_per_s. */
static bool
s_public_limited (const yx_intake_t *in, const yx_http_req_t *req, yx_http_resp_t *resp, yx_o311_fmt_t fmt)
{
    uint8_t addr[16];
    if (yx_http_client_addr (req, in->has_proxy ? in->proxy : NULL, addr))
        return false;
    int wait = yx_ratelimit_take_addr (in->limits, addr, yx_mono_ms ());
    if (!wait)
        return false;
    yx_o311_error (resp, fmt, 429, "too many requests from this address; retry after %d seconds", wait);
    resp->retry_after = wait;
    return true;
}

void
yx_open311_http (const yx_intake_t *in, const yx_http_req_t *req, yx_http_resp_t *resp)
{
    const char *rest = strncmp (req->url, S_PREFIX, strlen (S_PREFIX)) == 0 ? req->url + strlen (S_PREFIX) : "";
    const char *dot = strrchr (rest, '.');
    yx_o311_fmt_t fmt = dot && strcmp (dot, ".json") == 0 ? YX_O311_JSON : YX_O311_XML;
    char base[96];
    if (!dot || (strcmp (dot, ".json") && strcmp (dot, ".xml")) || (size_t) (dot - rest) >= sizeof base) {
        yx_o311_error (resp, fmt, 404, "no such resource: Open311 resources end in .json or .xml");
        return;
    }
    snprintf (base, sizeof base, "%.*s", (int) (dot - rest), rest);
    const char *slash = strchr (base, '/');
    const char *arg = slash ? slash + 1 : NULL;
    size_t head = slash ? (size_t) (slash - base) : strlen (base);
    bool get = strcmp (req->method, "GET") == 0, post = strcmp (req->method, "POST") == 0;
    bool requests = head == 8 && strncmp (base, "requests", 8) == 0 && !arg;
    if ((!get && !requests) || (!get && !post)) {
        yx_o311_error (resp, fmt, 405, "use %s", requests ? "GET or POST" : "GET");
        return;
    }
    if (arg && (!*arg || strlen (arg) > 40 || strspn (arg, S_CODE_CHARS) != strlen (arg))) {
        yx_o311_error (resp, fmt, 404, "no such resource");
        return;
    }
    if (get && s_public_limited (in, req, resp, fmt))
        return;
    if (!arg && strcmp (base, "discovery") == 0) {
        s_discovery (in, req, resp, fmt);
        return;
    }
    if (post) {
        s_post_request (in, req, resp, fmt);
        return;
    }
    if (s_wrong_jurisdiction (in, yx_http_query (req, "jurisdiction_id"), resp, fmt))
        return;
    if (head == 8 && strncmp (base, "services", 8) == 0) {
        if (arg)
            s_definition (in, arg, resp, fmt);
        else
            s_services (in, resp, fmt);
    }
    else
    if (requests)
        yx_o311_get_requests (in, req, resp, fmt);
    else
    if (arg && head == 8 && strncmp (base, "requests", 8) == 0)
        yx_o311_get_request (in, arg, false, resp, fmt);
    else
    if (arg && head == 6 && strncmp (base, "tokens", 6) == 0)
        yx_o311_get_request (in, arg, true, resp, fmt);
    else
        yx_o311_error (resp, fmt, 404, "no such resource");
}
