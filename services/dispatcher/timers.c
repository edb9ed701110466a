/* timers.c — deadlines that pass.
 *
 * yx:{D}:timers holds "<case>|<kind>|<department>" scored by due time. Firing one is
 * a COMMIT whose guard removes that member, so of several dispatcher instances only
 * one fires it, and a crash before the commit leaves it to fire again.
 *
 *   on ack|D due:     if D's assignment is still PENDING: escalate one rung, arm the
 *                     next rung (the ladder's timeout for it, else dispatcher.rung_timeout_ms)
 *                     and the reminder
 *   on resolve|D due: if D has not resolved: mark overdue, escalate, arm the next rung
 *                     and the reminder
 *   on remind|D due:  if still overdue: REMINDER (督办) to D and its current rung,
 *                     again after dispatcher.remind_interval_ms
 *   otherwise:        the timer is obsolete and is dropped */
#include "actions.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "stage.h"
#include "util.h"

/* The default ladder: supervisor → command center → leader. */
static const yx_ladder_t s_default_ladder = { "*", { "supervisor", "command", "leader" }, 3, { 0 } };

/* The ladder of a district (config escalation.ladders, else the default). */
static const yx_ladder_t *
s_ladder (const yx_config_t *cfg, const char *district)
{
    const yx_ladder_t *l = yx_config_ladder (cfg, district);
    return l ? l : &s_default_ladder;
}

int
yx_ladder_top (const yx_config_t *cfg, const char *district)
{
    return s_ladder (cfg, district)->nrungs;
}

int64_t
yx_ladder_timeout (const yx_config_t *cfg, const char *district, int level)
{
    const yx_ladder_t *l = s_ladder (cfg, district);
    int64_t t = level >= 1 && level <= l->nrungs ? l->timeout_ms[level - 1] : 0;
    return t > 0 ? t : cfg->rung_timeout_ms;
}

const char *
yx_rung_target (const yx_config_t *cfg, const char *district, const char *dept, int level, char *buf, size_t n)
{
    const char *rung = s_ladder (cfg, district)->rungs[level - 1];
    const yx_dept_t *d = yx_config_dept (cfg, dept);
    if (strcmp (rung, "supervisor") == 0 && d && *d->supervisor)
        return d->supervisor;
    if (strcmp (rung, "leader") == 0) {
        snprintf (buf, n, "ld-%s", district);
        if (yx_config_dept (cfg, buf))
            return buf;
    }
    if (yx_config_dept (cfg, rung))
        return rung;
    return yx_command_center (cfg, district, buf, n);
}

int
yx_escalate (yx_tr_t *tr, json_t *a, const char *why)
{
    json_int_t level = json_integer_value (json_object_get (a, "escalation_level"));
    int top = yx_ladder_top (tr->d->cfg, tr->c.district);
    if (level >= top)
        return -1;
    level++;
    const char *dept = yx_doc_str (a, "department");
    char buf[YX_ID_MAX];
    const char *target = yx_rung_target (tr->d->cfg, tr->c.district, dept, (int) level, buf, sizeof buf);
    json_object_set_new (a, "escalation_level", json_integer (level));
    json_object_set_new (a, "escalated_to", json_string (target));
    json_object_set_new (a, "escalated_ms", json_integer (tr->now));
    char f[128];
    snprintf (f, sizeof f, "dept:%s:escalated", dept);
    yx_tr_count (tr, f, 1);
    yx_tr_count (tr, "escalations", 1);
    if (level == top) {
        char k[96];
        yx_txn_zadd (&tr->t, yx_key (k, sizeof k, tr->c.district, "board"), (double) tr->now, tr->c.id);
        json_object_set_new (tr->c.doc, "grade", json_string ("difficult"));
    }
    snprintf (tr->event, sizeof tr->event, "ESCALATED");
    snprintf (tr->note, sizeof tr->note, "%s: %s → rung %lld (%s)", why, dept, (long long) level, target);
    const char *depts[2] = { target, dept };
    yx_tr_event (tr, "ESCALATED", depts, 2, why);
    return 0;
}

/* Applies one fired timer to a loaded case. 0 when something is to be committed,
 * 1 when the timer is obsolete. */
static int
s_apply (yx_tr_t *tr, const char *kind, const char *dept)
{
    json_t *a = yx_tr_assignment (tr, dept);
    const char *st = a ? yx_doc_str (a, "state") : "";
    bool pending = strcmp (st, "PENDING") == 0, working = pending || strcmp (st, "ACCEPTED") == 0;
    const yx_config_t *cfg = tr->d->cfg;
    char f[128];
    if (strcmp (kind, "ack") == 0 && pending) {
        if (!json_is_true (json_object_get (a, "ack_overdue"))) {
            json_object_set_new (a, "ack_overdue", json_true ());
            snprintf (f, sizeof f, "dept:%s:ack_overdue", dept);
            yx_tr_count (tr, f, 1);
        }
        if (yx_escalate (tr, a, "not_acknowledged") == 0)
            yx_tr_timer (tr, "ack", dept, tr->now + yx_ladder_timeout (cfg, tr->c.district,
                                                                        (int) json_integer_value (json_object_get (a, "escalation_level"))));
        yx_tr_timer (tr, "remind", dept, tr->now + cfg->remind_interval_ms);
        return 0;
    }
    if (strcmp (kind, "resolve") == 0 && working) {
        if (!json_is_true (json_object_get (a, "overdue"))) {
            json_object_set_new (a, "overdue", json_true ());
            snprintf (f, sizeof f, "dept:%s:overdue", dept);
            yx_tr_count (tr, f, 1);
            json_object_set_new (tr->c.doc, "grade", json_string ("difficult"));   /* overdue: difficult */
        }
        if (yx_escalate (tr, a, "not_resolved") == 0)
            yx_tr_timer (tr, "resolve", dept, tr->now + yx_ladder_timeout (cfg, tr->c.district,
                                                                            (int) json_integer_value (json_object_get (a, "escalation_level"))));
        else {
            snprintf (tr->event, sizeof tr->event, "OVERDUE");
            snprintf (tr->note, sizeof tr->note, "%s is past its resolve-by", dept);
        }
        yx_tr_timer (tr, "remind", dept, tr->now + cfg->remind_interval_ms);
        return 0;
    }
    if (strcmp (kind, "remind") == 0 && working) {
        json_int_t due = json_integer_value (json_object_get (a, pending ? "ack_due_ms" : "resolve_due_ms"));
        if (due > tr->now)
            return 1;
        char buf[YX_ID_MAX];
        const char *rung = yx_doc_str (a, "escalated_to");
        const char *depts[2] = { dept, *rung ? rung : yx_command_center (cfg, tr->c.district, buf, sizeof buf) };
        json_object_set_new (a, "reminders", json_integer (json_integer_value (json_object_get (a, "reminders")) + 1));
        snprintf (f, sizeof f, "dept:%s:reminders", dept);
        yx_tr_count (tr, f, 1);
        yx_tr_count (tr, "reminders", 1);
        snprintf (tr->event, sizeof tr->event, "REMINDER");
        snprintf (tr->note, sizeof tr->note, "督办: %s is overdue", dept);
        yx_tr_event (tr, "REMINDER", depts, 2, "overdue");
        yx_tr_timer (tr, "remind", dept, tr->now + cfg->remind_interval_ms);
        return 0;
    }
    return 1;
}

/* Fires one timer member of a district. */
static void
s_fire (yx_dispatcher_t *d, const char *district, const char *member)
{
    char case_id[32], kind[16], dept[YX_ID_MAX], key[96];
    yx_key (key, sizeof key, district, YX_K_TIMERS);
    if (sscanf (member, "%31[^|]|%15[^|]|%47s", case_id, kind, dept) != 3) {
        yx_warn ("timer_dropped", "reason=malformed district=%s", district);
        yx_stage_drop (d->store, district, YX_K_TIMERS, member);
        return;
    }
    yx_tr_t tr;
    int lr = yx_tr_begin (&tr, d, case_id, "system");
    if (lr == YX_CASE_UNAVAILABLE)
        return;
    if (lr == YX_CASE_MISSING || s_apply (&tr, kind, dept) != 0) {
        yx_stage_drop (d->store, district, YX_K_TIMERS, member);
        yx_tr_end (&tr);
        return;
    }
    yx_txn_result_t res;
    yx_tr_commit (&tr, "*", NULL, NULL, key, member, &res);
    free (res.stored);
    yx_tr_end (&tr);
}

int
yx_timers_fire (yx_dispatcher_t *d)
{
    const char *codes[64];
    int nd = yx_config_districts (d->cfg, codes, 64), fired = 0;
    int64_t now = yx_now_ms ();
    for (int i = 0; i < nd; i++) {
        char k[96];
        yx_key (k, sizeof k, codes[i], YX_K_TIMERS);
        redisReply *r = yx_store_cmd (d->store, "ZRANGEBYSCORE %s -inf %lld LIMIT 0 %d", k, (long long) now,
                                      d->cfg->dispatcher_timer_batch);
        if (!r)
            return -1;
        for (size_t j = 0; r->type == REDIS_REPLY_ARRAY && j < r->elements; j++, fired++)
            s_fire (d, codes[i], r->element[j]->str);
        freeReplyObject (r);
    }
    return fired;
}
