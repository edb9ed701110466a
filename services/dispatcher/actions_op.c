/* actions_op.c — what the command center does.
 *
 *   whistle:   calls departments (any level) with a grade and an ack deadline
 *   reassign:  replaces the lead (also how a triaged or RETURNED case is routed)
 *   approve_extension / deny_extension: decides a pending extension request
 *   verify:    RESOLVED → VERIFIED, or back to the departments as rework (返工)
 *   close:     VERIFIED → CLOSED      reopen: back to work with fresh deadlines
 *   suspend:   SUSPENDED (挂账)       reject: REJECTED (invalid report)
 *   merge:     MERGED into another open case of the district
 *   escalate:  one rung up now       rate: the reporter's verdict on a CLOSED case */
#include "actions.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* Adds (or renews) a PENDING assignment with a wall-clock ack deadline. */
static json_t *
s_call (yx_tr_t *tr, const char *dept, const char *role, const yx_category_t *cat, int64_t ack_ms)
{
    json_t *a = yx_assignment_new (tr, dept, role, cat);
    if (ack_ms > 0) {
        json_object_set_new (a, "ack_due_ms", json_integer (tr->now + ack_ms));
        yx_tr_timer (tr, "ack", dept, tr->now + ack_ms);
        yx_tr_inbox (tr, dept, tr->now + ack_ms);
    }
    json_t *old = yx_tr_assignment (tr, dept);
    if (old) {
        json_object_set_new (a, "attempts", json_integer (json_integer_value (json_object_get (old, "attempts")) + 1));
        json_object_update (old, a);
        json_decref (a);
        return old;
    }
    json_array_append_new (json_object_get (tr->c.doc, "assignments"), a);
    return a;
}

/* The category of the case, falling back to a locality default for uncategorised
 * (triaged) cases: the first subcategory of the taxonomy. */
static const yx_category_t *
s_category (yx_tr_t *tr)
{
    const yx_category_t *cat = yx_config_category (tr->d->cfg, yx_doc_path (tr->c.doc, "category", "code"));
    return cat ? cat : &tr->d->cfg->cats[0];
}

/* Reads a department id member and checks it exists. */
static int
s_dept_arg (yx_tr_t *tr, const json_t *body, const char **out, yx_act_err_t *err)
{
    if (yx_body_str (body, "department", out, true, err))
        return -1;
    if (!yx_config_dept (tr->d->cfg, *out))
        return yx_act_fail (err, 422, "unknown_department", "department", "no department has id \"%.48s\"", *out);
    return 0;
}

int
yx_act_whistle (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    (void) who;
    const char *grade = "routine";
    if (yx_body_str (body, "grade", &grade, false, err))
        return -1;
    if (!grade)
        grade = "routine";
    if (strcmp (grade, "routine") && strcmp (grade, "tough") && strcmp (grade, "difficult"))
        return yx_act_fail (err, 422, "invalid_value", "grade", "grade must be routine, tough or difficult");
    const json_t *within = json_object_get (body, "ack_within");
    json_int_t ack_s = tr->d->cfg->whistle_ack_s;
    if (within && (!json_is_integer (within) || json_integer_value (within) < 1 || json_integer_value (within) > 604800))
        return yx_act_fail (err, 422, "invalid_value", "ack_within", "ack_within must be 1..604800 seconds");
    if (within)
        ack_s = json_integer_value (within);
    const char *ids[8];
    int n = 0;
    const json_t *many = json_object_get (body, "departments");
    if (many) {
        if (!json_is_array (many) || json_array_size (many) == 0 || json_array_size (many) > 8)
            return yx_act_fail (err, 422, "invalid_value", "departments", "departments must list 1-8 department ids");
        size_t i;
        json_t *v;
        json_array_foreach (many, i, v) {
            ids[n] = json_string_value (v);
            if (!ids[n] || !yx_config_dept (tr->d->cfg, ids[n]))
                return yx_act_fail (err, 422, "unknown_department", "departments", "departments[%zu] is not a department", i);
            n++;
        }
    }
    else {
        if (s_dept_arg (tr, body, &ids[0], err))
            return -1;
        n = 1;
    }
    if (strcmp (grade, "tough") == 0 && n < 2 && !yx_lead_assignment (tr->c.doc))
        return yx_act_fail (err, 422, "invalid_value", "departments", "a tough whistle calls several departments jointly");
    const yx_category_t *cat = s_category (tr);
    const char *notify[16];
    int nn = 0;
    char leader[YX_ID_MAX];
    for (int i = 0; i < n; i++) {
        json_t *a = s_call (tr, ids[i], yx_lead_assignment (tr->c.doc) ? "assist" : "lead", cat, ack_s * 1000);
        json_object_set_new (a, "whistle", json_pack ("{s:s, s:I}", "grade", grade, "at_ms", (json_int_t) tr->now));
        notify[nn++] = ids[i];
        if (strcmp (grade, "difficult") == 0) {   /* difficult calls start on the leaders' rung */
            int top = yx_ladder_top (tr->d->cfg, tr->c.district);
            const char *lead = yx_rung_target (tr->d->cfg, tr->c.district, ids[i], top, leader, sizeof leader);
            json_object_set_new (a, "escalation_level", json_integer (top));
            json_object_set_new (a, "escalated_to", json_string (lead));
            if (i == 0)
                notify[nn++] = lead;
        }
    }
    json_object_set_new (tr->c.doc, "grade", json_string (grade));
    yx_tr_count (tr, "whistles", 1);
    snprintf (tr->state, sizeof tr->state, "%s", yx_case_state_from_assignments (tr->c.doc));
    snprintf (tr->note, sizeof tr->note, "grade=%s departments=%d ack_within=%llds", grade, n, (long long) ack_s);
    yx_tr_event (tr, "WHISTLE", notify, nn, grade);
    return 0;
}

int
yx_act_reassign (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    (void) who;
    const char *dept;
    if (s_dept_arg (tr, body, &dept, err))
        return -1;
    json_t *lead = yx_lead_assignment (tr->c.doc);
    if (lead && strcmp (yx_doc_str (lead, "department"), dept) == 0)
        return yx_act_fail (err, 409, "already_lead", "department", "%s already leads this case", dept);
    if (lead)
        yx_assignment_close (tr, lead, "CANCELLED");
    json_t *a = s_call (tr, dept, "lead", s_category (tr), 0);
    json_object_set_new (a, "role", json_string ("lead"));
    json_object_set_new (tr->c.doc, "triage", json_null ());
    char k[96];
    yx_txn_zrem (&tr->t, yx_key (k, sizeof k, tr->c.district, YX_Q_TRIAGE), tr->c.id);
    yx_txn_zrem (&tr->t, yx_key (k, sizeof k, tr->c.district, YX_Q_DISPATCH), tr->c.id);
    snprintf (tr->state, sizeof tr->state, "%s", yx_case_state_from_assignments (tr->c.doc));
    snprintf (tr->note, sizeof tr->note, "lead=%s", dept);
    const char *depts[1] = { dept };
    yx_tr_event (tr, "DISPATCHED", depts, 1, "reassigned");
    return 0;
}

/* Shared by approve/deny: the assignment with a pending extension request. */
static json_t *
s_extension (yx_tr_t *tr, const json_t *body, const char **dept, yx_act_err_t *err)
{
    if (s_dept_arg (tr, body, dept, err))
        return NULL;
    json_t *a = yx_tr_assignment (tr, *dept);
    if (!a || !json_object_get (a, "extension_request")) {
        yx_act_fail (err, 409, "no_extension_request", "department", "%s has no pending extension request", *dept);
        return NULL;
    }
    return a;
}

/* Records a decision on an extension request and notifies the department. */
static void
s_decide_extension (yx_tr_t *tr, json_t *a, const char *dept, bool approved)
{
    json_t *req = json_object_get (a, "extension_request");
    json_t *decided = json_deep_copy (req);
    json_object_set_new (decided, "approved", json_boolean (approved));
    json_object_set_new (decided, "decided_ms", json_integer (tr->now));
    json_array_append_new (json_object_get (a, "extensions"), decided);
    if (approved) {
        json_int_t until = json_integer_value (json_object_get (req, "until_ms"));
        json_object_set_new (a, "resolve_due_ms", json_integer (until));
        yx_tr_timer (tr, "resolve", dept, until);
        if (strcmp (yx_doc_str (a, "state"), "ACCEPTED") == 0)
            yx_tr_inbox (tr, dept, until);
    }
    json_object_del (a, "extension_request");
    const char *depts[1] = { dept };
    yx_tr_event (tr, approved ? "EXTENSION_APPROVED" : "EXTENSION_DENIED", depts, 1, "");
}

int
yx_act_approve_extension (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    (void) who;
    const char *dept;
    json_t *a = s_extension (tr, body, &dept, err);
    if (!a)
        return -1;
    s_decide_extension (tr, a, dept, true);
    return 0;
}

int
yx_act_deny_extension (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    (void) who;
    const char *dept;
    json_t *a = s_extension (tr, body, &dept, err);
    if (!a)
        return -1;
    s_decide_extension (tr, a, dept, false);
    return 0;
}

/* Puts resolved assignments back to work with a fresh resolve-by (rework, reopen). */
static int
s_back_to_work (yx_tr_t *tr, const char *state, const char **depts, int max)
{
    const yx_category_t *cat = s_category (tr);
    int n = 0;
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get (tr->c.doc, "assignments"), i, a) {
        if (strcmp (yx_doc_str (a, "state"), "RESOLVED") || n >= max)
            continue;
        const char *dept = yx_doc_str (a, "department");
        int64_t due = yx_tr_deadline (tr, cat, 1);
        json_object_set_new (a, "state", json_string (state));
        json_object_set_new (a, "resolve_due_ms", json_integer (due));
        json_object_set_new (a, "attempts", json_integer (json_integer_value (json_object_get (a, "attempts")) + 1));
        yx_tr_timer (tr, "resolve", dept, due);
        if (strcmp (state, "PENDING") == 0) {
            int64_t ack = yx_tr_deadline (tr, cat, 0);
            json_object_set_new (a, "ack_due_ms", json_integer (ack));
            yx_tr_timer (tr, "ack", dept, ack);
            yx_tr_inbox (tr, dept, ack);
        }
        else
            yx_tr_inbox (tr, dept, due);
        depts[n++] = dept;
    }
    return n;
}

int
yx_act_verify (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    (void) who;
    const json_t *passed = json_object_get (body, "passed");
    if (!json_is_boolean (passed))
        return yx_act_fail (err, 422, "missing_field", "passed", "passed (true or false) is required");
    const char *depts[16];
    if (json_is_true (passed)) {
        snprintf (tr->state, sizeof tr->state, "VERIFIED");
        json_object_set_new (tr->c.doc, "verified_ms", json_integer (tr->now));
        yx_tr_count (tr, "verified", 1);
        int n = yx_case_departments (&tr->c, depts, 16);
        yx_tr_event (tr, "VERIFIED", depts, n, "passed");
        return 0;
    }
    int n = s_back_to_work (tr, "ACCEPTED", depts, 16);
    for (int i = 0; i < n; i++) {
        char f[128];
        snprintf (f, sizeof f, "dept:%s:rework", depts[i]);
        yx_tr_count (tr, f, 1);
    }
    yx_tr_count (tr, "rework", 1);
    json_object_set_new (tr->c.doc, "rework", json_integer (json_integer_value (json_object_get (tr->c.doc, "rework")) + 1));
    snprintf (tr->state, sizeof tr->state, "ACCEPTED");
    snprintf (tr->event, sizeof tr->event, "REWORK");
    yx_tr_event (tr, "REWORK", depts, n, "verification failed");
    return 0;
}

int
yx_act_close (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    (void) body, (void) who, (void) err;
    snprintf (tr->state, sizeof tr->state, "CLOSED");
    json_object_set_new (tr->c.doc, "closed_ms", json_integer (tr->now));
    bool on_time = true;
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get (tr->c.doc, "assignments"), i, a)
        if (strcmp (yx_doc_str (a, "state"), "RESOLVED") == 0
            && json_integer_value (json_object_get (a, "resolved_ms")) > json_integer_value (json_object_get (a, "resolve_due_ms")))
            on_time = false;
    yx_tr_count (tr, "closed", 1);
    if (on_time)
        yx_tr_count (tr, "closed_on_time", 1);
    json_object_set_new (tr->c.doc, "closed_on_time", json_boolean (on_time));
    const char *depts[16];
    int n = yx_case_departments (&tr->c, depts, 16);
    yx_tr_event (tr, "CLOSED", depts, n, "");
    return 0;
}

/* Clears every live assignment's timers (suspend, reject, merge). */
static void
s_stop_all (yx_tr_t *tr, const char *assignment_state)
{
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get (tr->c.doc, "assignments"), i, a) {
        const char *s = yx_doc_str (a, "state");
        if (strcmp (s, "PENDING") == 0 || strcmp (s, "ACCEPTED") == 0)
            yx_assignment_close (tr, a, assignment_state);
    }
    char k[96];
    yx_txn_zrem (&tr->t, yx_key (k, sizeof k, tr->c.district, YX_Q_TRIAGE), tr->c.id);
    yx_txn_zrem (&tr->t, yx_key (k, sizeof k, tr->c.district, YX_Q_DISPATCH), tr->c.id);
}

int
yx_act_reopen (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    (void) who;
    const char *reason;
    if (yx_body_str (body, "reason", &reason, true, err))
        return -1;
    const char *depts[16];
    int n = s_back_to_work (tr, "PENDING", depts, 16);
    if (n == 0) {   /* nothing was resolved (suspended, rejected): the lead starts again */
        json_t *lead = yx_lead_assignment (tr->c.doc);
        const char *dept = lead ? yx_doc_str (lead, "department") : NULL;
        json_t *routing = json_object_get (tr->c.doc, "routing");
        if (!dept && *yx_doc_str (routing, "lead"))
            dept = yx_doc_str (routing, "lead");
        if (!dept)
            return yx_act_fail (err, 409, "no_department", NULL, "the case has no department to reopen it to; use reassign");
        s_call (tr, dept, "lead", s_category (tr), 0);
        depts[n++] = dept;
    }
    snprintf (tr->state, sizeof tr->state, "REOPENED");
    snprintf (tr->note, sizeof tr->note, "%s", reason);
    yx_tr_count (tr, "reopened", 1);
    yx_tr_event (tr, "REOPENED", depts, n, "");
    return 0;
}

/* Ends all work on a case with a reason: live assignments CANCELLED, timers cleared,
 * the case in state, counted under counter, the departments told (suspend, reject). */
static int
s_stop_with_reason (yx_tr_t *tr, const json_t *body, yx_act_err_t *err, const char *state, const char *counter)
{
    const char *reason;
    if (yx_body_str (body, "reason", &reason, true, err))
        return -1;
    const char *depts[16];
    int n = yx_live_departments (tr->c.doc, depts, 16);
    s_stop_all (tr, "CANCELLED");
    snprintf (tr->state, sizeof tr->state, "%s", state);
    snprintf (tr->note, sizeof tr->note, "%s", reason);
    json_object_set_new (tr->c.doc, "stop_reason", json_string (reason));
    yx_tr_count (tr, counter, 1);
    yx_tr_event (tr, state, depts, n, "");
    return 0;
}

int
yx_act_suspend (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    (void) who;
    return s_stop_with_reason (tr, body, err, "SUSPENDED", "suspended");
}

int
yx_act_reject (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    (void) who;
    return s_stop_with_reason (tr, body, err, "REJECTED", "rejected");
}

int
yx_act_merge (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    const char *into;
    char district[8];
    if (yx_body_str (body, "into", &into, true, err))
        return -1;
    if (yx_case_id_district (into, district) || strcmp (into, tr->c.id) == 0)
        return yx_act_fail (err, 422, "invalid_value", "into", "into must be the id of another case");
    if (strcmp (district, tr->c.district))
        return yx_act_fail (err, 422, "cross_district", "into", "cases can only be merged within one district");
    yx_case_t target;
    int lr = yx_case_load (tr->d->store, into, 0, &target);
    if (lr == YX_CASE_UNAVAILABLE)
        return yx_act_fail (err, 503, "unavailable", NULL, "the case store is unavailable");
    if (lr == YX_CASE_MISSING)
        return yx_act_fail (err, 422, "unknown_case", "into", "no case has id %s", into);
    bool open = strcmp (target.state, "CLOSED") && strcmp (target.state, "REJECTED") && strcmp (target.state, "MERGED");
    yx_case_clear (&target);
    if (!open)
        return yx_act_fail (err, 409, "target_closed", "into", "%s is no longer open", into);
    const char *depts[16];
    int n = yx_live_departments (tr->c.doc, depts, 16);
    s_stop_all (tr, "CANCELLED");
    json_object_set_new (tr->c.doc, "duplicate_of", json_string (into));
    char k[128];
    yx_txn_hincrby (&tr->t, yx_key (k, sizeof k, district, "case:%s", into), "merged", 1);
    yx_txn_sadd (&tr->t, yx_key (k, sizeof k, district, "case:%s:dups", into), tr->c.id);
    char *entry = yx_case_timeline_entry (tr->now, who->name, "DUPLICATE_MERGED", tr->c.id);
    yx_txn_rpush (&tr->t, yx_key (k, sizeof k, district, "case:%s:tl", into), entry);
    free (entry);
    snprintf (tr->state, sizeof tr->state, "MERGED");
    snprintf (tr->note, sizeof tr->note, "into %s", into);
    yx_tr_count (tr, "merged", 1);
    yx_tr_event (tr, "MERGED", depts, n, into);
    return 0;
}

int
yx_act_escalate (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    (void) body, (void) who;
    json_t *lead = yx_lead_assignment (tr->c.doc);
    if (!lead || (strcmp (yx_doc_str (lead, "state"), "PENDING") && strcmp (yx_doc_str (lead, "state"), "ACCEPTED")))
        return yx_act_fail (err, 409, "nothing_to_escalate", NULL, "the case has no working lead assignment");
    return yx_escalate (tr, lead, "manual") ? yx_act_fail (err, 409, "top_rung", NULL, "the case is already on the top rung") : 0;
}

int
yx_act_rate (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err)
{
    if (strcmp (who->role, "reporter") == 0 && strcmp (who->scope, yx_doc_str (tr->c.doc, "source")))
        return yx_act_fail (err, 403, "forbidden", NULL, "only the reporting source may rate this case");
    const json_t *sat = json_object_get (body, "satisfied"), *score = json_object_get (body, "score");
    if (!json_is_boolean (sat))
        return yx_act_fail (err, 422, "missing_field", "satisfied", "satisfied (true or false) is required");
    if (!json_is_integer (score) || json_integer_value (score) < 1 || json_integer_value (score) > 5)
        return yx_act_fail (err, 422, "invalid_value", "score", "score must be an integer 1-5");
    if (!json_is_null (json_object_get (tr->c.doc, "rating")) && json_object_get (tr->c.doc, "rating"))
        return yx_act_fail (err, 409, "already_rated", NULL, "this case was rated already");
    json_object_set_new (tr->c.doc, "rating", json_pack ("{s:O, s:O, s:I, s:s}", "satisfied", sat, "score", score,
                                                         "at_ms", (json_int_t) tr->now, "by", who->name));
    yx_tr_count (tr, "rated", 1);
    yx_tr_count (tr, "score_total", json_integer_value (score));
    if (json_is_true (sat))
        yx_tr_count (tr, "satisfied", 1);
    snprintf (tr->note, sizeof tr->note, "satisfied=%s score=%lld", json_is_true (sat) ? "yes" : "no",
              (long long) json_integer_value (score));
    if (json_is_false (sat) && tr->d->cfg->reopen_on_unsatisfied) {
        const char *depts[16];
        int n = s_back_to_work (tr, "PENDING", depts, 16);
        snprintf (tr->state, sizeof tr->state, "REOPENED");
        yx_tr_count (tr, "reopened", 1);
        yx_tr_event (tr, "REOPENED", depts, n, "the reporter is not satisfied");
    }
    return 0;
}
