/* actions_dept.c — what a department does with its assignment.
 *
 *   accept:   PENDING → ACCEPTED; ack timer off; inbox by resolve-by
 *   return:   → RETURNED (reason); a lead's case moves to the next candidate of the
 *             responsibility list, or to RETURNED for the command center
 *   progress: a timeline note
 *   request_assist: the lead adds assisting departments (grade becomes tough)
 *   request_extension: asks the command center for a later resolve-by
 *   resolve:  ACCEPTED → RESOLVED with feedback; the case follows the joint rule */
#include "actions.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

/* The caller's own assignment, in one of the given states. */
static json_t *
s_mine (yx_tr_t *tr, const yx_actor_t *who, const char *states, yx_act_err_t *err)
{
    json_t *a = yx_tr_assignment (tr, who->scope);
    if (!a) {
        yx_act_fail (err, 403, "not_assigned", NULL, "%s has no assignment on this case", who->scope);
        return NULL;
    }
    const char *s = yx_doc_str (a, "state");
    if (!strstr (states, s)) {
        yx_act_fail (err, 409, "invalid_assignment_state", NULL, "the assignment of %s is %s", who->scope, s);
        return NULL;
    }
    return a;
}

/* Counts a per-department statistic. */
static void
s_dept_count (yx_tr_t *tr, const char *dept, const char *what, long long by)
{
    char f[128];
    snprintf (f, sizeof f, "dept:%s:%s", dept, what);
    yx_tr_count (tr, f, by);
}

int
yx_act_accept (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    (void) body;
    json_t *a = s_mine (tr, who, "PENDING", err);
    if (!a)
        return -1;
    json_int_t ack_due = json_integer_value (json_object_get (a, "ack_due_ms"));
    json_int_t assigned = json_integer_value (json_object_get (a, "assigned_ms"));
    json_object_set_new (a, "state", json_string ("ACCEPTED"));
    json_object_set_new (a, "accepted_ms", json_integer (tr->now));
    yx_tr_timer_clear (tr, "ack", who->scope);
    yx_tr_timer_clear (tr, "remind", who->scope);
    yx_tr_inbox (tr, who->scope, json_integer_value (json_object_get (a, "resolve_due_ms")));
    s_dept_count (tr, who->scope, "accepted", 1);
    if (tr->now <= ack_due)
        s_dept_count (tr, who->scope, "accepted_on_time", 1);
    s_dept_count (tr, who->scope, "ack_ms_total", tr->now - assigned);
    snprintf (tr->state, sizeof tr->state, "%s", yx_case_state_from_assignments (tr->c.doc));
    const char *depts[1] = { who->scope };
    yx_tr_event (tr, "ACCEPTED", depts, 1, "");
    return 0;
}

int
yx_act_return (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    const char *reason;
    if (yx_body_str (body, "reason", &reason, true, err))
        return -1;
    json_t *a = s_mine (tr, who, "PENDING ACCEPTED", err);
    if (!a)
        return -1;
    bool was_lead = strcmp (yx_doc_str (a, "role"), "lead") == 0;
    yx_assignment_close (tr, a, "RETURNED");
    json_object_set_new (a, "return_reason", json_string (reason));
    s_dept_count (tr, who->scope, "returned", 1);
    yx_tr_count (tr, "returns", 1);
    snprintf (tr->note, sizeof tr->note, "%s", reason);
    if (!was_lead) {
        snprintf (tr->state, sizeof tr->state, "%s", yx_case_state_from_assignments (tr->c.doc));
        return 0;
    }
    /* the lead said "not ours": next candidate of the responsibility list */
    json_t *cands = json_object_get (json_object_get (tr->c.doc, "routing"), "candidates");
    const char *next = NULL;
    size_t i;
    json_t *c;
    json_array_foreach (cands, i, c) {
        const char *id = json_string_value (c);
        if (id && !yx_tr_assignment (tr, id) && yx_config_dept (tr->d->cfg, id)) {
            next = id;
            break;
        }
    }
    const yx_category_t *cat = yx_config_category (tr->d->cfg, yx_doc_path (tr->c.doc, "category", "code"));
    if (next && cat) {
        json_t *na = yx_assignment_new (tr, next, "lead", cat);
        json_object_set_new (na, "attempts", json_integer (json_integer_value (json_object_get (a, "attempts")) + 1));
        json_array_append_new (json_object_get (tr->c.doc, "assignments"), na);
        snprintf (tr->state, sizeof tr->state, "DISPATCHED");
        const char *depts[1] = { next };
        yx_tr_event (tr, "DISPATCHED", depts, 1, "rerouted after a return");
        return 0;
    }
    char cc[YX_ID_MAX];
    yx_command_center (tr->d->cfg, tr->c.district, cc, sizeof cc);
    snprintf (tr->state, sizeof tr->state, "RETURNED");
    const char *depts[1] = { cc };
    yx_tr_event (tr, "RETURNED", depts, 1, "no department accepts: arbitration needed");
    return 0;
}

int
yx_act_progress (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    const char *note;
    if (yx_body_str (body, "note", &note, true, err) || !s_mine (tr, who, "PENDING ACCEPTED", err))
        return -1;
    return 0;
}

int
yx_act_request_assist (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    json_t *a = s_mine (tr, who, "PENDING ACCEPTED", err);
    if (!a)
        return -1;
    if (strcmp (yx_doc_str (a, "role"), "lead"))
        return yx_act_fail (err, 403, "not_lead", NULL, "only the lead department may request assistance");
    const json_t *ids = json_object_get (body, "departments");
    if (!json_is_array (ids) || json_array_size (ids) == 0 || json_array_size (ids) > 8)
        return yx_act_fail (err, 422, "invalid_value", "departments", "departments must be a list of 1-8 department ids");
    const yx_category_t *cat = yx_config_category (tr->d->cfg, yx_doc_path (tr->c.doc, "category", "code"));
    if (!cat)
        return yx_act_fail (err, 409, "no_category", NULL, "the case has no category");
    const char *depts[8];
    int nd = 0;
    size_t i;
    json_t *v;
    json_array_foreach (ids, i, v) {
        const char *id = json_string_value (v);
        if (!id || !yx_config_dept (tr->d->cfg, id))
            return yx_act_fail (err, 422, "unknown_department", "departments", "departments[%zu] is not a department", i);
        json_t *existing = yx_tr_assignment (tr, id);
        if (existing && (strcmp (yx_doc_str (existing, "state"), "PENDING") == 0
                         || strcmp (yx_doc_str (existing, "state"), "ACCEPTED") == 0))
            return yx_act_fail (err, 409, "already_assigned", "departments", "%s is already working on the case", id);
    }
    json_array_foreach (ids, i, v) {
        const char *id = json_string_value (v);
        json_t *existing = yx_tr_assignment (tr, id);
        json_t *na = yx_assignment_new (tr, id, "assist", cat);
        if (existing)
            json_object_update (existing, na), json_decref (na);
        else
            json_array_append_new (json_object_get (tr->c.doc, "assignments"), na);
        depts[nd++] = id;
    }
    json_object_set_new (tr->c.doc, "grade", json_string ("tough"));
    yx_tr_event (tr, "ASSIST_REQUESTED", depts, nd, "");
    return 0;
}

int
yx_act_request_extension (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    const char *until, *reason;
    int64_t until_ms;
    if (yx_body_str (body, "until", &until, true, err) || yx_body_str (body, "reason", &reason, true, err))
        return -1;
    if (yx_time_parse (until, &until_ms))
        return yx_act_fail (err, 422, "invalid_time", "until", "until must be an RFC 3339 time with offset");
    json_t *a = s_mine (tr, who, "PENDING ACCEPTED", err);
    if (!a)
        return -1;
    if (until_ms <= json_integer_value (json_object_get (a, "resolve_due_ms")))
        return yx_act_fail (err, 422, "invalid_value", "until", "until must be later than the current resolve-by");
    json_object_set_new (a, "extension_request", json_pack ("{s:I, s:s, s:I}", "until_ms", (json_int_t) until_ms,
                                                            "reason", reason, "requested_ms", (json_int_t) tr->now));
    char cc[YX_ID_MAX];
    const char *depts[1] = { yx_command_center (tr->d->cfg, tr->c.district, cc, sizeof cc) };
    snprintf (tr->note, sizeof tr->note, "until %s: %s", until, reason);
    yx_tr_event (tr, "EXTENSION_REQUESTED", depts, 1, "");
    return 0;
}

int
yx_act_resolve (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    const char *note;
    if (yx_body_str (body, "note", &note, true, err))
        return -1;
    const json_t *media = json_object_get (body, "media");
    if (media && (!json_is_array (media) || json_array_size (media) > 10))
        return yx_act_fail (err, 422, "invalid_value", "media", "media must be a list of at most 10 URLs");
    size_t i;
    json_t *m;
    json_array_foreach (media, i, m)
        if (!json_is_string (m))
            return yx_act_fail (err, 422, "invalid_type", "media", "media[%zu] must be a string", i);
    json_t *a = s_mine (tr, who, "ACCEPTED", err);
    if (!a)
        return -1;
    json_int_t due = json_integer_value (json_object_get (a, "resolve_due_ms"));
    json_int_t assigned = json_integer_value (json_object_get (a, "assigned_ms"));
    yx_assignment_close (tr, a, "RESOLVED");
    json_object_set_new (a, "resolved_ms", json_integer (tr->now));
    json_object_set_new (a, "feedback", json_pack ("{s:s, s:o}", "note", note, "media", media ? json_deep_copy (media) : json_array ()));
    s_dept_count (tr, who->scope, "resolved", 1);
    if (tr->now <= due)
        s_dept_count (tr, who->scope, "resolved_on_time", 1);
    s_dept_count (tr, who->scope, "resolve_ms_total", tr->now - assigned);
    snprintf (tr->state, sizeof tr->state, "%s", yx_case_state_from_assignments (tr->c.doc));
    if (strcmp (tr->state, "RESOLVED") == 0) {
        json_object_set_new (tr->c.doc, "resolved_ms", json_integer (tr->now));
        char cc[YX_ID_MAX];
        const char *depts[1] = { yx_command_center (tr->d->cfg, tr->c.district, cc, sizeof cc) };
        yx_tr_event (tr, "RESOLVED", depts, 1, "");
    }
    return 0;
}
