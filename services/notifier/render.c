/* render.c — what a delivery sends: the event as JSON, Chinese messages from
 * templates, HMAC-SHA256 signatures and stable delivery ids. Pure functions: no
 * Redis, no I/O, so the unit tests cover them directly. */
#include "notifier.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"

char *
yx_nt_delivery_id (const char *event_id, const char *recipient, char out[33])
{
    unsigned char h[16];
    crypto_generichash_state st;
    crypto_generichash_init (&st, (const unsigned char *) "yixian-delivery", 15, sizeof h);
    crypto_generichash_update (&st, (const unsigned char *) event_id, strlen (event_id));
    crypto_generichash_update (&st, (const unsigned char *) "/", 1);
    crypto_generichash_update (&st, (const unsigned char *) recipient, strlen (recipient));
    crypto_generichash_final (&st, h, sizeof h);
    sodium_bin2hex (out, 33, h, sizeof h);
    return out;
}

char *
yx_nt_sign (const char *secret, const char *timestamp, const char *body, size_t len, char out[72])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init (&st, (const unsigned char *) secret, strlen (secret));
    crypto_auth_hmacsha256_update (&st, (const unsigned char *) timestamp, strlen (timestamp));
    crypto_auth_hmacsha256_update (&st, (const unsigned char *) ".", 1);
    crypto_auth_hmacsha256_update (&st, (const unsigned char *) body, len);
    crypto_auth_hmacsha256_final (&st, mac);
    memcpy (out, "sha256=", 7);
    sodium_bin2hex (out + 7, 65, mac, sizeof mac);
    return out;
}

/* A string for JSON: protobuf strings are not checked for UTF-8 by protobuf-c, and
 * jansson refuses invalid UTF-8, so anything invalid becomes "". */
static json_t *
s_jstr (const char *s)
{
    if (!s || !yx_utf8_valid (s, strlen (s)))
        return json_string ("");
    return json_string (s);
}

json_t *
yx_nt_event_json (const yx_event_t *ev, int offset_min)
{
    char at[40];
    json_t *depts = json_array ();
    for (size_t i = 0; i < ev->n_departments; i++)
        json_array_append_new (depts, s_jstr (ev->departments[i]));
    json_t *o = json_object ();
    json_object_set_new (o, "event_id", s_jstr (ev->event_id));
    json_object_set_new (o, "case_id", s_jstr (ev->case_id));
    json_object_set_new (o, "version", json_integer ((json_int_t) ev->version));
    json_object_set_new (o, "type", s_jstr (ev->type));
    json_object_set_new (o, "state", s_jstr (ev->state));
    json_object_set_new (o, "prev_state", s_jstr (ev->prev_state));
    json_object_set_new (o, "departments", depts);
    json_object_set_new (o, "category", s_jstr (ev->category));
    json_object_set_new (o, "district", s_jstr (ev->district));
    json_object_set_new (o, "at", json_string (yx_time_format (ev->at_ms, offset_min, at, sizeof at)));
    json_object_set_new (o, "actor", s_jstr (ev->actor));
    json_object_set_new (o, "note", s_jstr (ev->note));
    json_object_set_new (o, "source", s_jstr (ev->source));
    return o;
}

/* Placeholder names, in the order of the fields of yx_nt_vars_t. */
static const char *s_vars[] = { "case_id", "type", "state", "department", "department_name", "category",
                                "category_name", "district", "district_name", "at", "ack_due", "resolve_due",
                                "note", NULL };

/* Index of the placeholder name[0..len) in s_vars, -1 if unknown. */
static int
s_var_index (const char *name, size_t len)
{
    for (int i = 0; s_vars[i]; i++)
        if (strlen (s_vars[i]) == len && strncmp (s_vars[i], name, len) == 0)
            return i;
    return -1;
}

/* Value of placeholder i. */
static const char *
s_var_value (const yx_nt_vars_t *v, int i)
{
    const char *vals[] = { v->case_id, v->type, v->state, v->department, v->department_name, v->category,
                           v->category_name, v->district, v->district_name, v->at, v->ack_due,
                           v->resolve_due, v->note };
    return vals[i] ? vals[i] : "";
}

int
yx_nt_template_check (const char *tpl, char *why, size_t n)
{
    for (const char *p = tpl; *p; p++) {
        if (*p == '}') {
            snprintf (why, n, "unbalanced \"}\"");
            return -1;
        }
        if (*p != '{')
            continue;
        const char *end = strchr (p, '}');
        if (!end) {
            snprintf (why, n, "unbalanced \"{\"");
            return -1;
        }
        if (s_var_index (p + 1, (size_t) (end - p - 1)) < 0) {
            snprintf (why, n, "unknown placeholder {%.*s}", (int) (end - p - 1 > 40 ? 40 : end - p - 1), p + 1);
            return -1;
        }
        p = end;
    }
    if (!yx_utf8_valid (tpl, strlen (tpl))) {
        snprintf (why, n, "not valid UTF-8");
        return -1;
    }
    return 0;
}

int
yx_nt_template_render (const char *tpl, const yx_nt_vars_t *vars, char *out, size_t n)
{
    size_t o = 0;
    for (const char *p = tpl; *p; p++) {
        const char *end = *p == '{' ? strchr (p, '}') : NULL;
        int i = end ? s_var_index (p + 1, (size_t) (end - p - 1)) : -1;
        const char *piece = i >= 0 ? s_var_value (vars, i) : p;
        size_t len = i >= 0 ? strlen (piece) : 1;
        if (o + len + 1 > n)
            return -1;
        memcpy (out + o, piece, len);
        o += len;
        if (i >= 0)
            p = end;
    }
    if (!n)
        return -1;
    out[o] = 0;
    return 0;
}

char *
yx_nt_local_time (int64_t ms, int offset_min, char *buf, size_t n)
{
    if (ms <= 0) {
        snprintf (buf, n, "%s", "");
        return buf;
    }
    time_t secs = (time_t) (ms / 1000) + (time_t) offset_min * 60;
    struct tm tm;
    gmtime_r (&secs, &tm);
    snprintf (buf, n, "%d月%d日%02d:%02d", tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
    return buf;
}

char *
yx_nt_endpoint (const char *url, char *out, size_t n)
{
    const char *host = strstr (url, "://");
    size_t scheme = host ? (size_t) (host - url) : 0;
    host = host ? host + 3 : url;
    size_t len = strcspn (host, "/?#");
    const char *at = memchr (host, '@', len);   /* never show credentials */
    if (at) {
        len -= (size_t) (at + 1 - host);
        host = at + 1;
    }
    bool has_port = false;
    for (size_t i = 0; i < len; i++)
        has_port = host[i] == ':' ? true : host[i] == ']' ? false : has_port;
    bool tls = scheme == 5 && strncmp (url, "https", 5) == 0;
    int k = snprintf (out, n, "%.*s://%.*s%s", (int) (scheme ? scheme : 4), scheme ? url : "http", (int) len,
                      host, has_port ? "" : tls ? ":443" : ":80");
    for (int i = 0; i < k && (size_t) i < n; i++)
        if (out[i] >= 'A' && out[i] <= 'Z')
            out[i] = (char) (out[i] - 'A' + 'a');
    return out;
}
