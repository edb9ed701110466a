/* compose.c — the bodies deliveries carry and the dead-letter records kept when
 * they give up. Webhooks and callbacks get the event as JSON; the SMS/e-mail
 * gateway gets the rendered Chinese message with the department's addresses. */
#include "notifier.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "util.h"

/* A JSON string of s, or "" when s is NULL or not valid UTF-8. */
static json_t *
s_jstr (const char *s)
{
    return json_string (s && yx_utf8_valid (s, strlen (s)) ? s : "");
}

/* Serialises o (stolen) compactly; *len set. NULL when o is NULL. */
static char *
s_dump (json_t *o, size_t *len)
{
    char *s = o ? json_dumps (o, JSON_COMPACT) : NULL;
    json_decref (o);
    if (s && len)
        *len = strlen (s);
    return s;
}

/* The assignment of dept in the case document, else its lead assignment. */
static const json_t *
s_assignment (const json_t *doc, const char *dept)
{
    size_t i;
    json_t *a, *lead = NULL;
    json_array_foreach (json_object_get (doc, "assignments"), i, a) {
        if (strcmp (yx_doc_str (a, "department"), dept) == 0)
            return a;
        if (!lead && strcmp (yx_doc_str (a, "role"), "lead") == 0)
            lead = a;
    }
    return lead;
}

/* The gateway body: the rendered message for department r->target. */
static json_t *
s_gateway (const yx_nt_rules_t *rules, const yx_event_t *ev, const yx_nt_rcpt_t *r, const json_t *doc,
           const char *delivery_id)
{
    const yx_config_t *cfg = rules->cfg;
    int t = yx_nt_type_index (ev->type);
    if (t < 0 || !rules->templates[t] || !r->dept)
        return NULL;
    const yx_dept_t *d = yx_config_dept (cfg, r->target);
    const yx_category_t *c = ev->category ? yx_config_category (cfg, ev->category) : NULL;
    const yx_area_t *a = ev->district ? yx_config_area (cfg, ev->district) : NULL;
    const json_t *asg = doc ? s_assignment (doc, r->target) : NULL;
    char at[48], ack[48], res[48], text[2048];
    yx_nt_vars_t v = {
        .case_id = ev->case_id, .type = ev->type, .state = ev->state, .department = r->target,
        .department_name = d ? d->name : r->target, .category = ev->category,
        .category_name = c ? c->name : ev->category, .district = ev->district,
        .district_name = a ? a->name : ev->district,
        .at = yx_nt_local_time (ev->at_ms, cfg->utc_offset_min, at, sizeof at),
        .ack_due = yx_nt_local_time (json_integer_value (json_object_get (asg, "ack_due_ms")), cfg->utc_offset_min,
                                     ack, sizeof ack),
        .resolve_due = yx_nt_local_time (json_integer_value (json_object_get (asg, "resolve_due_ms")),
                                         cfg->utc_offset_min, res, sizeof res),
        .note = ev->note,
    };
    if (yx_nt_template_render (rules->templates[t], &v, text, sizeof text) || !yx_utf8_valid (text, strlen (text)))
        return NULL;
    json_t *to = json_array ();
    for (int i = 0; i < r->dept->nto; i++)
        json_array_append_new (to, s_jstr (r->dept->to[i]));
    json_t *o = json_object ();
    json_object_set_new (o, "delivery_id", json_string (delivery_id));
    json_object_set_new (o, "recipient", json_string (r->name));
    json_object_set_new (o, "channel", json_string ("gateway"));
    json_object_set_new (o, "event_id", s_jstr (ev->event_id));
    json_object_set_new (o, "case_id", s_jstr (ev->case_id));
    json_object_set_new (o, "type", s_jstr (ev->type));
    json_object_set_new (o, "department", s_jstr (r->target));
    json_object_set_new (o, "to", to);
    json_object_set_new (o, "text", json_string (text));
    return o;
}

char *
yx_nt_compose (const yx_nt_rules_t *rules, const yx_event_t *ev, const yx_nt_rcpt_t *r, const json_t *doc,
               size_t *len)
{
    char did[33];
    yx_nt_delivery_id (ev->event_id ? ev->event_id : "", r->name, did);
    if (r->channel == YX_NT_GATEWAY)
        return s_dump (s_gateway (rules, ev, r, doc, did), len);
    json_t *o = yx_nt_event_json (ev, rules->cfg->utc_offset_min);
    if (r->channel == YX_NT_CALLBACK && doc)
        json_object_set_new (o, "source_ref", s_jstr (yx_doc_str (doc, "source_ref")));
    json_object_set_new (o, "delivery_id", json_string (did));
    json_object_set_new (o, "recipient", json_string (r->name));
    json_object_set_new (o, "channel", json_string (yx_nt_channel_name (r->channel)));
    return s_dump (o, len);
}

char *
yx_nt_dead_record (const yx_nt_job_t *job, const char *reason, int64_t now, int offset_min)
{
    char at[40], ep[160] = "";
    if (*job->url)
        yx_nt_endpoint (job->url, ep, sizeof ep);
    json_t *o = json_object ();
    json_object_set_new (o, "id", s_jstr (job->key));
    json_object_set_new (o, "event_id", s_jstr (job->event_id));
    json_object_set_new (o, "case_id", s_jstr (job->case_id));
    json_object_set_new (o, "type", s_jstr (job->type));
    json_object_set_new (o, "district", s_jstr (job->district));
    json_object_set_new (o, "recipient", s_jstr (job->rcpt));
    json_object_set_new (o, "channel", json_string (yx_nt_channel_name (job->channel)));
    json_object_set_new (o, "endpoint", s_jstr (ep));
    json_object_set_new (o, "delivery_id", s_jstr (job->delivery_id));
    json_object_set_new (o, "attempts", json_integer (job->attempt));
    json_object_set_new (o, "reason", s_jstr (reason));
    json_object_set_new (o, "at", json_string (yx_time_format (now, offset_min, at, sizeof at)));
    json_object_set_new (o, "at_ms", json_integer (now));
    json_t *payload = job->body ? json_loadb (job->body, job->body_len, 0, NULL) : NULL;
    json_object_set_new (o, "payload", payload ? payload : json_null ());
    return s_dump (o, NULL);
}

char *
yx_nt_garbage_record (const char *event_id, const char *reason, const char *bytes, size_t len, int64_t now,
                      int offset_min)
{
    char at[40], id[80], head[129];
    size_t n = len < 64 ? len : 64;
    sodium_bin2hex (head, sizeof head, (const unsigned char *) (bytes ? bytes : ""), bytes ? n : 0);
    snprintf (id, sizeof id, "%s/event", event_id);
    json_t *o = json_object ();
    json_object_set_new (o, "id", s_jstr (id));
    json_object_set_new (o, "event_id", s_jstr (event_id));
    json_object_set_new (o, "recipient", json_string ("event"));
    json_object_set_new (o, "channel", json_string ("event"));
    json_object_set_new (o, "attempts", json_integer (1));
    json_object_set_new (o, "reason", s_jstr (reason));
    json_object_set_new (o, "at", json_string (yx_time_format (now, offset_min, at, sizeof at)));
    json_object_set_new (o, "at_ms", json_integer (now));
    json_object_set_new (o, "size", json_integer ((json_int_t) len));
    json_object_set_new (o, "head_hex", json_string (head));
    return s_dump (o, NULL);
}
