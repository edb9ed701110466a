/* dispatcher.h — the case state machine (docs/state-machine.md).
 *
 *   transition.c  loading a case, building one guarded commit, emitting events
 *   dispatch.c    REGISTERED → DISPATCHED: assignments, deadlines, timers
 *   actions.c     the action table: who may do what in which state
 *   timers.c      deadlines that pass: escalation and reminders
 *   main.c        sockets and the loop */
#ifndef YX_DISPATCHER_H
#define YX_DISPATCHER_H

#include <jansson.h>
#include <stdint.h>

#include "case.h"
#include "config.h"
#include "store.h"
#include "txn.h"

#include "yixian/v1/bus.pb-c.h"

typedef struct {
    yx_config_t *cfg;   /* configuration */
    yx_store_t *store;  /* Redis */
    void *events;       /* PUB of committed CaseEvents */
} yx_dispatcher_t;

#define YX_TR_MAX_EVENTS 8

/* One transition in the making. */
typedef struct {
    yx_dispatcher_t *d;               /* owner */
    yx_case_t c;                      /* the case as loaded; c.doc is edited in place */
    yx_txn_t t;                       /* keys and ops of the commit */
    int64_t now;                      /* transition time */
    char state[16];                   /* state after the transition */
    char event[32];                   /* timeline event name */
    char actor[64];                   /* who caused it */
    char note[512];                   /* timeline note */
    uint8_t *packed[YX_TR_MAX_EVENTS];/* events to publish after the commit */
    size_t packed_len[YX_TR_MAX_EVENTS]; /* their sizes */
    int nevents;                      /* entries in packed */
} yx_tr_t;

/* Loads the case into tr. FOUND, MISSING or UNAVAILABLE (yx_case_load_t). */
int yx_tr_begin (yx_tr_t *tr, yx_dispatcher_t *d, const char *case_id, const char *actor);
/* Records an event of type for departments; stored for the notifier in the commit
 * and published after it. */
void yx_tr_event (yx_tr_t *tr, const char *type, const char *const *depts, int ndepts, const char *note);
/* Sets or clears the timer kind ("ack", "resolve", "remind") of a department. */
void yx_tr_timer (yx_tr_t *tr, const char *kind, const char *dept, int64_t due_ms);
void yx_tr_timer_clear (yx_tr_t *tr, const char *kind, const char *dept);
/* Puts the case in a department's inbox (scored by its deadline) or takes it out. */
void yx_tr_inbox (yx_tr_t *tr, const char *dept, int64_t score);
void yx_tr_inbox_clear (yx_tr_t *tr, const char *dept);
/* Adds to a counter in the district's stats hash. */
void yx_tr_count (yx_tr_t *tr, const char *field, long long by);
/* Commits: guard on the loaded version and allowed states; action_id/result make
 * an action idempotent; guard_key/member consume a timer. Publishes the events on
 * success. */
yx_txn_status_t yx_tr_commit (yx_tr_t *tr, const char *allowed_states, const char *action_id,
                              const char *result, const char *guard_key, const char *guard_member,
                              yx_txn_result_t *res);
void yx_tr_end (yx_tr_t *tr);

/* Finds the assignment of a department in the case (NULL if none). */
json_t *yx_tr_assignment (const yx_tr_t *tr, const char *dept);
/* Deadline from now on the calendar for a category's limit. */
int64_t yx_tr_deadline (const yx_tr_t *tr, const yx_category_t *cat, int which_resolve);

/* A new PENDING assignment with deadlines from the category, its timers and inbox
 * entry. role: "lead" or "assist". */
json_t *yx_assignment_new (yx_tr_t *tr, const char *dept, const char *role, const yx_category_t *cat);

/* REGISTERED → DISPATCHED. 0 when done with the case, -1 to retry later. */
int yx_dispatch_case (yx_dispatcher_t *d, const char *case_id);

/* Applies one action and fills the result. */
void yx_action_apply (yx_dispatcher_t *d, const Yixian__V1__CaseAction *a,
                      Yixian__V1__ActionResult *out, char *buf, size_t buflen);

/* Moves an assignment one rung up the escalation ladder (department → supervisor →
 * command center → leader, or the district's configured ladder), notifies that rung
 * and, at the top, puts the case on the command center's board. -1 when already on
 * the top rung. */
int yx_escalate (yx_tr_t *tr, json_t *assignment, const char *why);

/* The top rung of a district's ladder (rungs above the department), and how long an
 * assignment stays on rung level before the next. */
int yx_ladder_top (const yx_config_t *cfg, const char *district);
int64_t yx_ladder_timeout (const yx_config_t *cfg, const char *district, int level);

/* The department that stands on rung level (1..top) above an assignment of dept;
 * buf holds ids that are built (ld-<district>, cc-<district>). */
const char *yx_rung_target (const yx_config_t *cfg, const char *district, const char *dept, int level,
                            char *buf, size_t n);

/* Fires due timers of every district. Returns how many fired, -1 if Redis is down. */
int yx_timers_fire (yx_dispatcher_t *d);

#endif
