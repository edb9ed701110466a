/* case.c — loading cases from Redis and rendering the public view. */
#include "case.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *
yx_doc_str (const json_t *doc, const char *key)
{
    const char *s = json_string_value (json_object_get (doc, key));
    return s ? s : "";
}

const char *
yx_doc_path (const json_t *doc, const char *obj, const char *key)
{
    return yx_doc_str (json_object_get (doc, obj), key);
}

yx_case_load_t
yx_case_load (yx_store_t *store, const char *id, int with_timeline, yx_case_t *out)
{
    memset (out, 0, sizeof *out);
    if (yx_case_id_district (id, out->district))
        return YX_CASE_MISSING;
    snprintf (out->id, sizeof out->id, "%s", id);
    char k[128];
    yx_key (k, sizeof k, out->district, "case:%s", id);
    redisReply *r = yx_store_cmd (store, "HMGET %s doc state version merged", k);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 4) {
        if (r)
            freeReplyObject (r);
        return YX_CASE_UNAVAILABLE;
    }
    yx_case_load_t rc = YX_CASE_MISSING;
    if (r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING
        && r->element[2]->type == REDIS_REPLY_STRING) {
        out->doc = json_loadb (r->element[0]->str, r->element[0]->len, 0, NULL);
        snprintf (out->state, sizeof out->state, "%s", r->element[1]->str);
        out->version = atoll (r->element[2]->str);
        if (json_is_object (out->doc))
            rc = YX_CASE_FOUND;
        if (rc == YX_CASE_FOUND && r->element[3]->type == REDIS_REPLY_STRING) {
            long long reports = 1 + atoll (r->element[3]->str);
            json_object_set_new (out->doc, "reports", json_integer (reports));
            if (reports >= YX_GRADE_REPEAT_REPORTS)   /* reported repeatedly: difficult */
                json_object_set_new (out->doc, "grade", json_string ("difficult"));
        }
    }
    freeReplyObject (r);
    if (rc == YX_CASE_FOUND && with_timeline) {
        yx_key (k, sizeof k, out->district, "case:%s:dups", id);
        r = yx_store_cmd (store, "SMEMBERS %s", k);
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements) {
            json_t *dups = json_array ();
            for (size_t i = 0; i < r->elements; i++)
                json_array_append_new (dups, json_string (r->element[i]->str));
            json_object_set_new (out->doc, "duplicates", dups);
        }
        if (r)
            freeReplyObject (r);
        yx_key (k, sizeof k, out->district, "case:%s:tl", id);
        r = yx_store_cmd (store, "LRANGE %s 0 -1", k);
        if (!r || r->type != REDIS_REPLY_ARRAY) {
            if (r)
                freeReplyObject (r);
            yx_case_clear (out);
            return YX_CASE_UNAVAILABLE;
        }
        out->timeline = json_array ();
        for (size_t i = 0; i < r->elements; i++) {
            json_t *e = r->element[i]->type == REDIS_REPLY_STRING
                            ? json_loadb (r->element[i]->str, r->element[i]->len, 0, NULL)
                            : NULL;
            if (e)
                json_array_append_new (out->timeline, e);
        }
        freeReplyObject (r);
    }
    if (rc != YX_CASE_FOUND)
        yx_case_clear (out);
    return rc;
}

void
yx_case_clear (yx_case_t *c)
{
    json_decref (c->doc);
    json_decref (c->timeline);
    c->doc = c->timeline = NULL;
}

void
yx_mask_phone (const char *phone, char *out, size_t n)
{
    size_t len = strlen (phone);
    if (len < 8) {
        snprintf (out, n, "****");
        return;
    }
    snprintf (out, n, "%.3s****%s", phone, phone + len - 4);
}

/* Replaces integer field key_ms of obj by an RFC 3339 string field key. */
static void
s_render_time (json_t *obj, const char *key_ms, const char *key, int offset_min)
{
    json_t *v = json_object_get (obj, key_ms);
    if (json_is_integer (v)) {
        char buf[40];
        json_object_set_new (obj, key, json_string (yx_time_format (json_integer_value (v), offset_min, buf, sizeof buf)));
    }
    else
    if (!json_object_get (obj, key))
        json_object_set_new (obj, key, json_null ());
    json_object_del (obj, key_ms);
}

json_t *
yx_case_view (const yx_case_t *c, int show_phone, int offset_min)
{
    json_t *v = json_pack ("{s:s, s:s, s:I}", "id", c->id, "state", c->state, "version", (json_int_t) c->version);
    json_t *copy = json_deep_copy (c->doc);
    json_object_update (v, copy);
    json_decref (copy);
    s_render_time (v, "created_ms", "created_at", offset_min);
    s_render_time (v, "updated_ms", "updated_at", offset_min);
    s_render_time (v, "reported_at_ms", "reported_at", offset_min);
    json_t *asg = json_object_get (v, "assignments");
    size_t i;
    json_t *a;
    json_array_foreach (asg, i, a) {
        s_render_time (a, "ack_due_ms", "ack_due", offset_min);
        s_render_time (a, "resolve_due_ms", "resolve_due", offset_min);
        s_render_time (a, "assigned_ms", "assigned_at", offset_min);
        s_render_time (a, "accepted_ms", "accepted_at", offset_min);
        s_render_time (a, "resolved_ms", "resolved_at", offset_min);
    }
    json_t *rep = json_object_get (v, "reporter");
    const char *phone = json_string_value (json_object_get (rep, "phone"));
    if (phone && !show_phone) {
        char masked[32];
        yx_mask_phone (phone, masked, sizeof masked);
        json_object_set_new (rep, "phone", json_string (masked));
    }
    json_t *tl = json_array ();
    json_array_foreach (c->timeline, i, a) {
        json_t *e = json_deep_copy (a);
        s_render_time (e, "at_ms", "at", offset_min);
        json_array_append_new (tl, e);
    }
    json_object_set_new (v, "timeline", tl);
    return v;
}

char *
yx_case_timeline_entry (int64_t at_ms, const char *actor, const char *event, const char *note)
{
    json_t *e = json_pack ("{s:I, s:s, s:s, s:s}", "at_ms", (json_int_t) at_ms, "actor", actor,
                           "event", event, "note", note ? note : "");
    char *s = json_dumps (e, JSON_COMPACT);
    json_decref (e);
    return s;
}

int
yx_case_is_open (const char *state)
{
    static const char *closed[] = { "REPORTED", "CLOSED", "REJECTED", "MERGED", "SUSPENDED" };
    for (size_t i = 0; i < sizeof closed / sizeof closed[0]; i++)
        if (strcmp (state, closed[i]) == 0)
            return 0;
    return 1;
}

char *
yx_key_open (char *buf, size_t n, const char *district, const char *category)
{
    return yx_key (buf, n, district, "open:%s", category);
}

int
yx_case_departments (const yx_case_t *c, const char **out, int max)
{
    int n = 0;
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get (c->doc, "assignments"), i, a) {
        const char *d = json_string_value (json_object_get (a, "department"));
        if (d && n < max)
            out[n++] = d;
    }
    return n;
}
