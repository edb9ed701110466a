/* transition.c — the common shape of every transition: load, edit the document,
 * collect side effects (timers, inboxes, counters, events), commit atomically with
 * the COMMIT script, then publish. A replayed message finds the version or state
 * moved and commits nothing. */
#include "dispatcher.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "event.h"
#include "log.h"
#include "util.h"

int
yx_tr_begin (yx_tr_t *tr, yx_dispatcher_t *d, const char *case_id, const char *actor)
{
    memset (tr, 0, sizeof *tr);
    tr->d = d;
    tr->now = yx_now_ms ();
    snprintf (tr->actor, sizeof tr->actor, "%s", actor);
    int rc = yx_case_load (d->store, case_id, 0, &tr->c);
    if (rc == YX_CASE_FOUND) {
        yx_txn_init (&tr->t, tr->c.district, tr->c.id);
        snprintf (tr->state, sizeof tr->state, "%s", tr->c.state);
    }
    return rc;
}

void
yx_tr_event (yx_tr_t *tr, const char *type, const char *const *depts, int ndepts, const char *note)
{
    if (tr->nevents >= YX_TR_MAX_EVENTS)
        return;
    char eid[40];
    Yixian__V1__CaseEvent ev = YIXIAN__V1__CASE_EVENT__INIT;
    ev.case_id = tr->c.id;
    ev.version = (uint64_t) tr->c.version + 1;
    ev.at_ms = tr->now;
    ev.type = (char *) type;
    ev.state = tr->state;
    ev.prev_state = tr->c.state;
    ev.departments = (char **) depts;
    ev.n_departments = (size_t) ndepts;
    ev.category = (char *) yx_doc_path (tr->c.doc, "category", "code");
    ev.district = tr->c.district;
    ev.actor = tr->actor;
    ev.note = (char *) (note ? note : "");
    ev.source = (char *) yx_doc_str (tr->c.doc, "source");
    if (yx_event_stage (&tr->t, &ev, eid, &tr->packed[tr->nevents], &tr->packed_len[tr->nevents]) == 0)
        tr->nevents++;
}

/* Timer member: "<case>|<kind>|<dept>". */
static void
s_timer_member (const yx_tr_t *tr, const char *kind, const char *dept, char *buf, size_t n)
{
    snprintf (buf, n, "%s|%s|%s", tr->c.id, kind, dept);
}

void
yx_tr_timer (yx_tr_t *tr, const char *kind, const char *dept, int64_t due_ms)
{
    char k[96], m[160];
    s_timer_member (tr, kind, dept, m, sizeof m);
    yx_txn_zadd (&tr->t, yx_key (k, sizeof k, tr->c.district, YX_K_TIMERS), (double) due_ms, m);
}

void
yx_tr_timer_clear (yx_tr_t *tr, const char *kind, const char *dept)
{
    char k[96], m[160];
    s_timer_member (tr, kind, dept, m, sizeof m);
    yx_txn_zrem (&tr->t, yx_key (k, sizeof k, tr->c.district, YX_K_TIMERS), m);
}

void
yx_tr_inbox (yx_tr_t *tr, const char *dept, int64_t score)
{
    char k[128];
    yx_txn_zadd (&tr->t, yx_key (k, sizeof k, tr->c.district, "inbox:%s", dept), (double) score, tr->c.id);
}

void
yx_tr_inbox_clear (yx_tr_t *tr, const char *dept)
{
    char k[128];
    yx_txn_zrem (&tr->t, yx_key (k, sizeof k, tr->c.district, "inbox:%s", dept), tr->c.id);
}

void
yx_tr_count (yx_tr_t *tr, const char *field, long long by)
{
    char k[96];
    yx_txn_hincrby (&tr->t, yx_key (k, sizeof k, tr->c.district, YX_K_STATS), field, by);
}

json_t *
yx_tr_assignment (const yx_tr_t *tr, const char *dept)
{
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get (tr->c.doc, "assignments"), i, a)
        if (strcmp (yx_doc_str (a, "department"), dept) == 0)
            return a;
    return NULL;
}

int64_t
yx_tr_deadline (const yx_tr_t *tr, const yx_category_t *cat, int which_resolve)
{
    yx_duration_t dur = which_resolve ? cat->resolve_limit : cat->ack_limit;
    int64_t due = yx_workcal_deadline (tr->d->cfg->calendar, tr->now, dur, cat->emergency);
    return due > 0 ? due : tr->now + 3600 * 1000;   /* a calendar with no working time: one hour */
}

/* Keeps the geo set of open cases (duplicate detection) in step with the state. */
static void
s_track_open (yx_tr_t *tr)
{
    int was = yx_case_is_open (tr->c.state), is = yx_case_is_open (tr->state);
    const char *cat = yx_doc_path (tr->c.doc, "category", "code");
    json_t *loc = json_object_get (tr->c.doc, "location");
    if (was == is || !*cat || !json_is_number (json_object_get (loc, "lat")))
        return;
    char k[96];
    yx_key_open (k, sizeof k, tr->c.district, cat);
    if (is)
        yx_txn_geoadd (&tr->t, k, json_number_value (json_object_get (loc, "lon")),
                       json_number_value (json_object_get (loc, "lat")), tr->c.id);
    else
        yx_txn_zrem (&tr->t, k, tr->c.id);
}

yx_txn_status_t
yx_tr_commit (yx_tr_t *tr, const char *allowed_states, const char *action_id, const char *result,
              const char *guard_key, const char *guard_member, yx_txn_result_t *res)
{
    s_track_open (tr);
    json_object_set_new (tr->c.doc, "updated_ms", json_integer (tr->now));
    char *doc = json_dumps (tr->c.doc, JSON_COMPACT | JSON_REAL_PRECISION (10));
    char *tl = yx_case_timeline_entry (tr->now, tr->actor, tr->event, tr->note);
    char version[24];
    snprintf (version, sizeof version, "%lld", tr->c.version);
    yx_txn_spec_t spec = { .expected_version = version, .allowed_states = allowed_states, .doc = doc,
                           .state = tr->state, .timeline = tl, .action_id = action_id,
                           .guard_key = guard_key, .guard_member = guard_member, .result = result };
    yx_txn_status_t st = yx_txn_commit (&tr->t, tr->d->store, &spec, res);
    free (doc);
    free (tl);
    if (st == YX_TXN_OK) {
        for (int i = 0; i < tr->nevents && tr->d->events; i++)
            yx_bus_send_packed (tr->d->events, "case", tr->packed[i], tr->packed_len[i]);
        yx_info ("case_transition", "case=%s transition=%s from=%s to=%s version=%lld", tr->c.id, tr->event,
                 tr->c.state, tr->state, res->version);
    }
    return st;
}

void
yx_tr_end (yx_tr_t *tr)
{
    for (int i = 0; i < tr->nevents; i++)
        free (tr->packed[i]);
    tr->nevents = 0;
    if (tr->c.doc)
        yx_txn_free (&tr->t);
    yx_case_clear (&tr->c);
}
