/* actions.c — the action table and the one path every action takes:
 *
 *   replayed action id?            → the stored result, nothing changes
 *   unknown action                 → 422
 *   role not in the action's roles → 403
 *   state not in its states        → 409 with the current state
 *   handler                        → 4xx with a field, or edits the transition
 *   commit (guard: version, states, action id) → 200, or retry on a version race */
#include "actions.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

enum { R_REP = 1, R_OP = 2, R_DEPT = 4, R_ADMIN = 8 };

typedef struct {
    const char *name;     /* API action name */
    int roles;            /* R_* bits that may take it (admin always may) */
    const char *states;   /* case states that allow it */
    yx_act_fn fn;         /* handler */
} s_action_t;

#define S_WORKING "DISPATCHED,ACCEPTED,REOPENED"
#define S_OPEN "REGISTERED,DISPATCHED,ACCEPTED,RETURNED,REOPENED"

static const s_action_t s_actions[] = {
    { "accept", R_DEPT, S_WORKING, yx_act_accept },
    { "return", R_DEPT, S_WORKING, yx_act_return },
    { "progress", R_DEPT, S_WORKING, yx_act_progress },
    { "request_assist", R_DEPT, S_WORKING, yx_act_request_assist },
    { "request_extension", R_DEPT, S_WORKING, yx_act_request_extension },
    { "resolve", R_DEPT, S_WORKING, yx_act_resolve },
    { "whistle", R_OP, S_OPEN, yx_act_whistle },
    { "reassign", R_OP, S_OPEN, yx_act_reassign },
    { "approve_extension", R_OP, S_WORKING, yx_act_approve_extension },
    { "deny_extension", R_OP, S_WORKING, yx_act_deny_extension },
    { "verify", R_OP, "RESOLVED", yx_act_verify },
    { "close", R_OP, "VERIFIED", yx_act_close },
    { "reopen", R_OP, "RESOLVED,VERIFIED,CLOSED,SUSPENDED,REJECTED", yx_act_reopen },
    { "suspend", R_OP, S_OPEN, yx_act_suspend },
    { "merge", R_OP, S_OPEN, yx_act_merge },
    { "reject", R_OP, S_OPEN, yx_act_reject },
    { "escalate", R_OP, S_WORKING, yx_act_escalate },
    { "rate", R_REP | R_OP, "CLOSED", yx_act_rate },
};

int
yx_act_fail (yx_act_err_t *err, int status, const char *code, const char *field, const char *fmt, ...)
{
    err->status = status;
    err->code = code;
    err->field = field;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err->message, sizeof err->message, fmt, ap);
    va_end (ap);
    return -1;
}

/* Role bit of an actor. */
static int
s_role_bit (const char *role)
{
    return strcmp (role, "reporter") == 0     ? R_REP
           : strcmp (role, "operator") == 0   ? R_OP
           : strcmp (role, "department") == 0 ? R_DEPT
           : strcmp (role, "admin") == 0      ? R_ADMIN
                                              : 0;
}

/* True when state is in the comma-separated list. */
static bool
s_state_in (const char *state, const char *list)
{
    size_t n = strlen (state);
    for (const char *p = list; *p;) {
        const char *comma = strchr (p, ',');
        size_t len = comma ? (size_t) (comma - p) : strlen (p);
        if (len == n && strncmp (p, state, n) == 0)
            return true;
        p += len + (comma ? 1 : 0);
    }
    return false;
}

/* Looks up a stored result for a replayed action id. */
static bool
s_replayed (yx_dispatcher_t *d, const char *case_id, const char *action_id, Yixian__V1__ActionResult *out,
            char *buf, size_t buflen)
{
    char district[8], k[128];
    if (yx_case_id_district (case_id, district))
        return false;
    redisReply *r = yx_store_cmd (d->store, "HGET %s %s", yx_key (k, sizeof k, district, "case:%s:acts", case_id),
                                  action_id);
    bool hit = r && r->type == REDIS_REPLY_STRING;
    if (hit) {
        long long version = 0;
        if (sscanf (r->str, "%lld %15s", &version, buf) == 2) {
            out->status = 200;
            out->version = (uint64_t) version;
            out->state = buf;
        }
        else
            hit = false;
    }
    (void) buflen;
    if (r)
        freeReplyObject (r);
    return hit;
}

/* One attempt: 1 applied or failed for good, 0 to retry (version race). */
static int
s_attempt (yx_dispatcher_t *d, const s_action_t *act, const Yixian__V1__CaseAction *a, const json_t *body,
           Yixian__V1__ActionResult *out, char *buf, size_t buflen, yx_act_err_t *err)
{
    yx_tr_t tr;
    char actor[96];
    snprintf (actor, sizeof actor, "%s", a->actor_name);
    int lr = yx_tr_begin (&tr, d, a->case_id, actor);
    if (lr != YX_CASE_FOUND) {
        yx_act_fail (err, lr == YX_CASE_MISSING ? 404 : 503, lr == YX_CASE_MISSING ? "not_found" : "unavailable",
                     NULL, lr == YX_CASE_MISSING ? "no such case" : "the case store is unavailable");
        return 1;
    }
    snprintf (buf, buflen, "%s", tr.c.state);
    out->state = buf;
    out->version = (uint64_t) tr.c.version;
    if (!s_state_in (tr.c.state, act->states)) {
        yx_act_fail (err, 409, "invalid_state", NULL, "%s is not allowed while the case is %s", act->name, tr.c.state);
        yx_tr_end (&tr);
        return 1;
    }
    yx_actor_t who = { a->actor_role, a->actor_scope, a->actor_name };
    snprintf (tr.event, sizeof tr.event, "%s", act->name);
    for (char *p = tr.event; *p; p++)
        *p = (char) (*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    const char *note = json_string_value (json_object_get (body, "note"));
    snprintf (tr.note, sizeof tr.note, "%s", note ? note : "");
    if (act->fn (&tr, body, &who, err)) {
        yx_tr_end (&tr);
        return 1;
    }
    char result[64];
    snprintf (result, sizeof result, "%lld %s", tr.c.version + 1, tr.state);
    yx_txn_result_t res;
    yx_txn_status_t st = yx_tr_commit (&tr, act->states, a->action_id, result, NULL, NULL, &res);
    int done = 1;
    if (st == YX_TXN_OK) {
        out->status = 200;
        out->version = (uint64_t) res.version;
        snprintf (buf, buflen, "%s", tr.state);
    }
    else
    if (st == YX_TXN_DUPLICATE && res.stored) {
        long long v = 0;
        char s[16] = "";
        sscanf (res.stored, "%lld %15s", &v, s);
        out->status = 200;
        out->version = (uint64_t) v;
        snprintf (buf, buflen, "%s", s);
    }
    else
    if (st == YX_TXN_CONFLICT && strcmp (res.reason, "version") == 0)
        done = 0;
    else
    if (st == YX_TXN_CONFLICT) {
        snprintf (buf, buflen, "%s", res.state);
        yx_act_fail (err, 409, "invalid_state", NULL, "%s is not allowed while the case is %s", act->name, res.state);
    }
    else
        yx_act_fail (err, 503, "unavailable", NULL, "the case store is unavailable");
    free (res.stored);
    yx_tr_end (&tr);
    return done;
}

void
yx_action_apply (yx_dispatcher_t *d, const Yixian__V1__CaseAction *a, Yixian__V1__ActionResult *out,
                 char *buf, size_t buflen)
{
    static char message[256];
    yx_act_err_t err = { 0 };
    out->action_id = a->action_id;
    out->state = "";
    if (*a->action_id && s_replayed (d, a->case_id, a->action_id, out, buf, buflen))
        return;
    json_t *body = json_loads (a->body_json, JSON_REJECT_DUPLICATES, NULL);
    const char *name = json_string_value (json_object_get (body, "action"));
    const s_action_t *act = NULL;
    for (size_t i = 0; name && i < sizeof s_actions / sizeof s_actions[0]; i++)
        if (strcmp (s_actions[i].name, name) == 0)
            act = &s_actions[i];
    int role = s_role_bit (a->actor_role);
    if (!json_is_object (body))
        yx_act_fail (&err, 400, "malformed_json", NULL, "the body must be a JSON object");
    else
    if (!act)
        yx_act_fail (&err, 422, "unknown_action", "action", "unknown action \"%.40s\"", name ? name : "");
    else
    if (!(act->roles & role) && role != R_ADMIN)
        yx_act_fail (&err, 403, "forbidden_role", "action", "a %s key may not %s", a->actor_role, act->name);
    else
        for (int attempt = 0; attempt < 5; attempt++)
            if (s_attempt (d, act, a, body, out, buf, buflen, &err))
                break;
    json_decref (body);
    if (err.status) {
        out->status = err.status;
        out->error_code = (char *) err.code;
        snprintf (message, sizeof message, "%s", err.message);
        out->message = message;
        out->field = (char *) (err.field ? err.field : "");
        yx_info ("action_refused", "case=%s action=%s status=%d code=%s", a->case_id, act ? act->name : "-",
                 err.status, err.code);
    }
}
