/* mcase.c — case summaries: what the metrics keep of a stored case document.
 *
 * Documents come from Redis and are not trusted: every field is type-checked, codes
 * must be digits of the right length, strings are cut to size, and anything missing
 * reads as "never happened". Nothing personal (reporter, texts) is kept. */
#include "metrics.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"

static const char *const s_state_names[YX_MS_COUNT] = {
    "REPORTED", "REGISTERED", "DISPATCHED", "ACCEPTED", "RESOLVED", "VERIFIED",
    "CLOSED", "REJECTED", "MERGED", "RETURNED", "SUSPENDED", "REOPENED"
};

const char *
yx_mstate_name (int state)
{
    return state >= 0 && state < YX_MS_COUNT ? s_state_names[state] : "UNKNOWN";
}

int
yx_mstate_parse (const char *name)
{
    for (int i = 0; name && i < YX_MS_COUNT; i++)
        if (strcmp (name, s_state_names[i]) == 0)
            return i;
    return -1;
}

/* Assignment state name → yx_astate_t. */
static int8_t
s_astate (const char *name)
{
    static const char *const names[] = { "PENDING", "ACCEPTED", "RESOLVED", "RETURNED", "CANCELLED" };
    for (int i = 0; i < 5; i++)
        if (strcmp (name, names[i]) == 0)
            return (int8_t) i;
    return YX_AS_OTHER;
}

/* Copies a code of exactly len digits, or "" when the value is anything else. */
static void
s_code (const json_t *v, size_t len, char *out, size_t n)
{
    const char *s = json_string_value (v);
    out[0] = 0;
    if (!s || strlen (s) != len || len >= n)
        return;
    for (size_t i = 0; i < len; i++)
        if (!isdigit ((unsigned char) s[i]))
            return;
    memcpy (out, s, len + 1);
}

/* A non-negative integer field in milliseconds; 0 when absent or malformed. */
static int64_t
s_ms (const json_t *obj, const char *key)
{
    const json_t *v = json_object_get (obj, key);
    if (!json_is_integer (v) || json_integer_value (v) < 0)
        return 0;
    return (int64_t) json_integer_value (v);
}

/* Fills one assignment summary. */
static void
s_parse_asg (const json_t *a, yx_masg_t *out)
{
    memset (out, 0, sizeof *out);
    snprintf (out->dept, sizeof out->dept, "%s", yx_doc_str (a, "department"));
    out->state = s_astate (yx_doc_str (a, "state"));
    out->lead = strcmp (yx_doc_str (a, "role"), "lead") == 0;
    out->ack_overdue = json_is_true (json_object_get (a, "ack_overdue"));
    out->overdue = json_is_true (json_object_get (a, "overdue"));
    out->whistled = json_is_object (json_object_get (a, "whistle"));
    int64_t level = s_ms (a, "escalation_level");
    out->level = (int8_t) (level > 3 ? 3 : level);
    out->assigned_ms = s_ms (a, "assigned_ms");
    out->ack_due_ms = s_ms (a, "ack_due_ms");
    out->resolve_due_ms = s_ms (a, "resolve_due_ms");
    out->accepted_ms = s_ms (a, "accepted_ms");
    out->resolved_ms = s_ms (a, "resolved_ms");
}

int
yx_mcase_parse (const yx_config_t *cfg, const char *id, int district, const char *state,
                long long version, const char *doc, size_t len, yx_mcase_t *out)
{
    memset (out, 0, sizeof *out);
    out->state = -1;
    json_t *d = json_loadb (doc, len, 0, NULL);
    if (!json_is_object (d)) {
        json_decref (d);
        return -1;
    }
    snprintf (out->id, sizeof out->id, "%s", id);
    out->version = version;
    out->state = (int8_t) yx_mstate_parse (state);
    out->district = (int8_t) district;
    json_t *loc = json_object_get (d, "location");
    s_code (json_object_get (loc, "street"), 9, out->street, sizeof out->street);
    s_code (json_object_get (loc, "community"), 12, out->community, sizeof out->community);
    s_code (json_object_get (loc, "grid"), 15, out->grid, sizeof out->grid);
    json_t *lat = json_object_get (loc, "lat"), *lon = json_object_get (loc, "lon");
    if (json_is_number (lat) && json_is_number (lon)) {
        out->lat = json_number_value (lat);
        out->lon = json_number_value (lon);
        out->has_point = isfinite (out->lat) && isfinite (out->lon) && fabs (out->lat) <= 90
                         && fabs (out->lon) <= 180;
    }
    s_code (json_object_get (json_object_get (d, "category"), "code"), 4, out->category, sizeof out->category);
    const yx_category_t *cat = *out->category ? yx_config_category (cfg, out->category) : NULL;
    out->cat = (int16_t) (cat ? cat - cfg->cats : cfg->ncats);
    out->created_ms = s_ms (d, "created_ms");
    out->dispatched_ms = s_ms (d, "dispatched_ms");
    out->resolved_ms = s_ms (d, "resolved_ms");
    out->closed_ms = s_ms (d, "closed_ms");
    out->closed_on_time = json_is_true (json_object_get (d, "closed_on_time"));
    json_t *triage = json_object_get (d, "triage");
    out->triage = triage && !json_is_null (triage);
    int64_t rework = s_ms (d, "rework");
    out->rework = (int) (rework > 1000 ? 1000 : rework);
    json_t *rating = json_object_get (d, "rating");
    out->satisfied = -1;
    if (json_is_object (rating) && json_is_boolean (json_object_get (rating, "satisfied"))) {
        out->satisfied = json_is_true (json_object_get (rating, "satisfied")) ? 1 : 0;
        int64_t score = s_ms (rating, "score");
        out->score = (int8_t) (score >= 1 && score <= 5 ? score : 0);
    }
    json_t *asg = json_object_get (d, "assignments");
    size_t n = json_is_array (asg) ? json_array_size (asg) : 0;
    if (n > 64)
        n = 64;   /* no real case has more; a corrupt one must not cost memory */
    if (n) {
        out->asg = calloc (n, sizeof *out->asg);
        for (size_t i = 0; out->asg && i < n; i++) {
            json_t *a = json_array_get (asg, i);
            if (json_is_object (a))
                s_parse_asg (a, &out->asg[out->nasg++]);
        }
    }
    json_decref (d);
    return 0;
}

void
yx_mcase_clear (yx_mcase_t *c)
{
    free (c->asg);
    c->asg = NULL;
    c->nasg = 0;
}

bool
yx_mcase_terminal (const yx_mcase_t *c)
{
    return c->state == YX_MS_CLOSED || c->state == YX_MS_REJECTED || c->state == YX_MS_MERGED;
}

bool
yx_mcase_open (const yx_mcase_t *c)
{
    return c->state >= 0 && !yx_mcase_terminal (c) && c->state != YX_MS_SUSPENDED;
}

bool
yx_masg_live (const yx_masg_t *a)
{
    return a->state == YX_AS_PENDING || a->state == YX_AS_ACCEPTED;
}

bool
yx_masg_late_resolve (const yx_masg_t *a, int64_t now)
{
    return yx_masg_live (a) && (a->overdue || (a->resolve_due_ms && a->resolve_due_ms < now));
}

bool
yx_masg_late (const yx_masg_t *a, int64_t now)
{
    if (yx_masg_late_resolve (a, now))
        return true;
    return a->state == YX_AS_PENDING && (a->ack_overdue || (a->ack_due_ms && a->ack_due_ms < now));
}

int
yx_masg_response (const yx_masg_t *a, int64_t now)
{
    if (a->accepted_ms)
        return !a->ack_due_ms || a->accepted_ms <= a->ack_due_ms ? 1 : 0;
    if (a->state == YX_AS_RETURNED)   /* "not ours" said in time is an answer */
        return a->ack_overdue ? 0 : 1;
    if (a->ack_overdue || (a->state == YX_AS_PENDING && a->ack_due_ms && a->ack_due_ms < now))
        return 0;
    return -1;
}

int64_t
yx_mcase_first_accept (const yx_mcase_t *c)
{
    int64_t first = 0;
    for (int i = 0; i < c->nasg; i++)
        if (c->asg[i].lead && c->asg[i].accepted_ms && (!first || c->asg[i].accepted_ms < first))
            first = c->asg[i].accepted_ms;
    return first;
}

bool
yx_mcase_late (const yx_mcase_t *c, int64_t now)
{
    if (!yx_mcase_open (c))
        return false;
    for (int i = 0; i < c->nasg; i++)
        if (yx_masg_late (&c->asg[i], now))
            return true;
    return false;
}

int
yx_mcase_level (const yx_mcase_t *c)
{
    int level = 0;
    for (int i = 0; i < c->nasg; i++)
        if (yx_masg_live (&c->asg[i]) && c->asg[i].level > level)
            level = c->asg[i].level;
    return level;
}

bool
yx_mcase_in_scope (const yx_mcase_t *c, const char *district, const char *scope)
{
    return yx_area_contains (scope, district, c->street, c->community);
}
