/* assignments.c — the rules that tie a case's state to its assignments.
 *
 * Joint disposal: a case is RESOLVED when its lead assignment is RESOLVED and
 * every other assignment is RESOLVED, RETURNED or CANCELLED (assistants that said
 * "not ours" do not hold the case open). Before that it is ACCEPTED once the lead
 * accepted, and DISPATCHED while the lead is pending. */
#include "actions.h"

#include <stdio.h>
#include <string.h>

json_t *
yx_lead_assignment (const json_t *doc)
{
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get (doc, "assignments"), i, a)
        if (strcmp (yx_doc_str (a, "role"), "lead") == 0 && strcmp (yx_doc_str (a, "state"), "CANCELLED")
            && strcmp (yx_doc_str (a, "state"), "RETURNED"))
            return a;
    return NULL;
}

const char *
yx_case_state_from_assignments (const json_t *doc)
{
    json_t *lead = yx_lead_assignment (doc);
    if (!lead)
        return "RETURNED";
    const char *ls = yx_doc_str (lead, "state");
    if (strcmp (ls, "PENDING") == 0)
        return "DISPATCHED";
    if (strcmp (ls, "ACCEPTED") == 0)
        return "ACCEPTED";
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get (doc, "assignments"), i, a) {
        const char *s = yx_doc_str (a, "state");
        if (strcmp (s, "PENDING") == 0 || strcmp (s, "ACCEPTED") == 0)
            return "ACCEPTED";
    }
    return "RESOLVED";
}

void
yx_assignment_close (yx_tr_t *tr, json_t *a, const char *state)
{
    const char *dept = yx_doc_str (a, "department");
    yx_tr_timer_clear (tr, "ack", dept);
    yx_tr_timer_clear (tr, "resolve", dept);
    yx_tr_timer_clear (tr, "remind", dept);
    yx_tr_inbox_clear (tr, dept);
    json_object_set_new (a, "state", json_string (state));
}

int
yx_body_str (const json_t *body, const char *name, const char **out, bool required, yx_act_err_t *err)
{
    const json_t *v = json_object_get (body, name);
    *out = NULL;
    if (v && !json_is_string (v))
        return yx_act_fail (err, 422, "invalid_type", name, "%s must be a string", name);
    if (v)
        *out = json_string_value (v);
    if (required && (!*out || !**out))
        return yx_act_fail (err, 422, "missing_field", name, "%s is required", name);
    if (*out && strlen (*out) > 2000)
        return yx_act_fail (err, 422, "too_long", name, "%s is too long", name);
    return 0;
}

int
yx_live_departments (const json_t *doc, const char **out, int max)
{
    int n = 0;
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get (doc, "assignments"), i, a) {
        const char *s = yx_doc_str (a, "state");
        if ((strcmp (s, "PENDING") == 0 || strcmp (s, "ACCEPTED") == 0) && n < max)
            out[n++] = yx_doc_str (a, "department");
    }
    return n;
}

const char *
yx_command_center (const yx_config_t *cfg, const char *district, char *buf, size_t n)
{
    snprintf (buf, n, "cc-%s", district);
    if (!yx_config_dept (cfg, buf))
        snprintf (buf, n, "cc-city");
    return buf;
}
