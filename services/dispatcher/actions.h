/* actions.h — private to the dispatcher's action handlers. */
#ifndef YX_DISPATCHER_ACTIONS_H
#define YX_DISPATCHER_ACTIONS_H

#include "dispatcher.h"

typedef struct {
    const char *role;    /* reporter | operator | department | admin */
    const char *scope;   /* source, area, department id */
    const char *name;    /* key name */
} yx_actor_t;

typedef struct {
    int status;          /* 403, 404, 409, 422 … */
    const char *code;    /* snake_case */
    char message[256];   /* sentence */
    const char *field;   /* offending field or NULL */
} yx_act_err_t;

/* An action handler edits tr (doc, state, event, note, side effects) and returns
 * 0 to commit, or -1 with err set. */
typedef int (*yx_act_fn) (yx_tr_t *tr, const json_t *body, const yx_actor_t *who, yx_act_err_t *err);

/* Sets err; returns -1. */
int yx_act_fail (yx_act_err_t *err, int status, const char *code, const char *field, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));

/* Department actions (actions_dept.c). */
int yx_act_accept (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);
int yx_act_return (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);
int yx_act_progress (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);
int yx_act_request_assist (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);
int yx_act_request_extension (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);
int yx_act_resolve (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);
/* Operator actions (actions_op.c). */
int yx_act_whistle (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);
int yx_act_reassign (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);
int yx_act_approve_extension (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);
int yx_act_deny_extension (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);
int yx_act_verify (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);
int yx_act_close (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);
int yx_act_reopen (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);
int yx_act_suspend (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);
int yx_act_merge (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);
int yx_act_reject (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);
int yx_act_escalate (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);
int yx_act_rate (yx_tr_t *, const json_t *, const yx_actor_t *, yx_act_err_t *);

/* Shared helpers (assignments.c). */
/* Recomputes the case state from its assignments after a department action:
 * DISPATCHED while the lead is pending, ACCEPTED once it accepted, RESOLVED when the
 * lead and every other live assignment resolved (joint rule, docs/state-machine.md). */
const char *yx_case_state_from_assignments (const json_t *doc);
/* Clears timers and inbox entries of an assignment and sets its state. */
void yx_assignment_close (yx_tr_t *tr, json_t *a, const char *state);
/* The lead assignment, or NULL. */
json_t *yx_lead_assignment (const json_t *doc);
/* Required non-empty string member; -1 with err. */
int yx_body_str (const json_t *body, const char *name, const char **out, bool required, yx_act_err_t *err);
/* Every department id of live (PENDING/ACCEPTED) assignments into out; count. */
int yx_live_departments (const json_t *doc, const char **out, int max);
/* The command center of a district: cc-<district> if configured, else cc-city. */
const char *yx_command_center (const yx_config_t *cfg, const char *district, char *buf, size_t n);

#endif
