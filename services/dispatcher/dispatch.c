/* dispatch.c — REGISTERED → DISPATCHED.
 *
 *   on CaseClassified(id) or a stale q:dispatch entry:
 *     case = load(id); if case.state != REGISTERED: drop the queue entry, done
 *     for each department of routing (lead, then assistants):
 *       assignment = {PENDING, ack_due, resolve_due (category limits on the calendar),
 *                     escalation_level 0, attempts 1}
 *       timers ack:<dept> at ack_due, resolve:<dept> at resolve_due; inbox:<dept>
 *     event DISPATCHED to every assigned department
 *     commit(guard: state REGISTERED, version; ZREM q:dispatch) */
#include "dispatcher.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "stage.h"
#include "util.h"

/* A new assignment object. */
json_t *
yx_assignment_new (yx_tr_t *tr, const char *dept, const char *role, const yx_category_t *cat)
{
    int64_t ack = yx_tr_deadline (tr, cat, 0), res = yx_tr_deadline (tr, cat, 1);
    if (res < ack)
        res = ack;
    yx_tr_timer (tr, "ack", dept, ack);
    yx_tr_timer (tr, "resolve", dept, res);
    yx_tr_inbox (tr, dept, ack);
    char field[96];
    snprintf (field, sizeof field, "dept:%s:assigned", dept);
    yx_tr_count (tr, field, 1);
    return json_pack ("{s:s, s:s, s:s, s:I, s:I, s:I, s:i, s:i, s:[]}", "department", dept, "role", role,
                      "state", "PENDING", "assigned_ms", (json_int_t) tr->now, "ack_due_ms", (json_int_t) ack,
                      "resolve_due_ms", (json_int_t) res, "escalation_level", 0, "attempts", 1, "extensions");
}

int
yx_dispatch_case (yx_dispatcher_t *d, const char *case_id)
{
    yx_tr_t tr;
    int lr = yx_tr_begin (&tr, d, case_id, "dispatcher");
    if (lr == YX_CASE_UNAVAILABLE)
        return -1;
    char district[8];
    if (lr == YX_CASE_MISSING) {
        if (yx_case_id_district (case_id, district) == 0)
            yx_stage_drop (d->store, district, YX_Q_DISPATCH, case_id);
        return 0;
    }
    if (strcmp (tr.c.state, "REGISTERED") != 0) {
        yx_stage_drop (d->store, tr.c.district, YX_Q_DISPATCH, case_id);
        yx_tr_end (&tr);
        return 0;
    }
    json_t *routing = json_object_get (tr.c.doc, "routing");
    const yx_category_t *cat = yx_config_category (d->cfg, yx_doc_path (tr.c.doc, "category", "code"));
    const char *lead = yx_doc_str (routing, "lead");
    if (!cat || !*lead || !yx_config_dept (d->cfg, lead)) {
        yx_warn ("dispatch_skipped", "case=%s reason=no_route", case_id);
        yx_stage_drop (d->store, tr.c.district, YX_Q_DISPATCH, case_id);
        yx_tr_end (&tr);
        return 0;
    }
    json_t *asg = json_array ();
    const char *depts[YX_TR_MAX_EVENTS * 2];
    int nd = 0;
    json_array_append_new (asg, yx_assignment_new (&tr, lead, "lead", cat));
    depts[nd++] = lead;
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get (routing, "assist"), i, a) {
        const char *dept = json_string_value (a);
        if (!dept || !yx_config_dept (d->cfg, dept) || nd >= (int) (sizeof depts / sizeof depts[0]))
            continue;
        json_array_append_new (asg, yx_assignment_new (&tr, dept, "assist", cat));
        depts[nd++] = dept;
    }
    json_object_set_new (tr.c.doc, "assignments", asg);
    json_object_set_new (tr.c.doc, "dispatched_ms", json_integer (tr.now));
    snprintf (tr.state, sizeof tr.state, "DISPATCHED");
    snprintf (tr.event, sizeof tr.event, "DISPATCHED");
    snprintf (tr.note, sizeof tr.note, "lead=%s assisting=%d", lead, nd - 1);
    yx_tr_count (&tr, "dispatched", 1);
    yx_tr_event (&tr, "DISPATCHED", depts, nd, "");
    char k[96];
    yx_txn_zrem (&tr.t, yx_key (k, sizeof k, tr.c.district, YX_Q_DISPATCH), case_id);
    yx_txn_result_t res;
    yx_txn_status_t st = yx_tr_commit (&tr, "REGISTERED", NULL, NULL, NULL, NULL, &res);
    int rc = 0;
    if (st == YX_TXN_CONFLICT && strcmp (res.reason, "state") == 0)
        yx_stage_drop (d->store, tr.c.district, YX_Q_DISPATCH, case_id);
    else
    if (st != YX_TXN_OK)
        rc = -1;
    free (res.stored);
    yx_tr_end (&tr);
    return rc;
}
