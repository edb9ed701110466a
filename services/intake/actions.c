/* actions.c — forwarding a case action to the dispatcher and answering with the
 * updated case.
 *
 * The dispatcher is the only writer of case state after registration; intake sends
 * it a CaseAction over a DEALER socket and waits (intake.action_timeout_ms) for the
 * ActionResult with the same action id. No answer in time means 503: the caller may
 * retry with the same Idempotency-Key, and the dispatcher applies it at most once. */
#include "intake.h"

#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "bus.h"
#include "case.h"
#include "log.h"
#include "util.h"

/* Waits for the result of action_id. NULL on timeout. */
static yx_env_t *
s_wait_result (void *sock, const char *action_id, int timeout_ms)
{
    int64_t deadline = yx_mono_ms () + timeout_ms;
    for (;;) {
        int64_t left = deadline - yx_mono_ms ();
        if (left <= 0)
            return NULL;
        zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, (long) left) <= 0)
            continue;
        yx_env_t *env = yx_bus_recv (sock, "intake.actions", NULL, NULL, 0);
        if (!env)
            continue;
        if (env->body_case == YIXIAN__V1__ENVELOPE__BODY_RESULT
            && strcmp (env->result->action_id, action_id) == 0)
            return env;
        yx_env_free (env);   /* a late answer to an earlier, timed-out request */
    }
}

void
yx_intake_action (const yx_intake_t *in, const yx_caller_t *caller, const char *case_id,
                  const yx_http_req_t *req, yx_http_resp_t *resp)
{
    json_t *body = yx_intake_parse_body (req, resp);
    if (!body)
        return;
    if (!json_is_string (json_object_get (body, "action"))) {
        json_decref (body);
        yx_http_error (resp, 422, "missing_field", "action is required", "action");
        return;
    }
    json_decref (body);
    char action_id[128];
    const char *idem = yx_http_header (req, "Idempotency-Key");
    if (idem && (strlen (idem) == 0 || strlen (idem) > 64)) {
        yx_http_error (resp, 422, "invalid_value", "Idempotency-Key must be 1-64 characters", "Idempotency-Key");
        return;
    }
    if (idem)
        snprintf (action_id, sizeof action_id, "%s:%s", caller->key->name, idem);
    else
        yx_random_id (action_id, sizeof action_id);

    Yixian__V1__CaseAction act = YIXIAN__V1__CASE_ACTION__INIT;
    act.action_id = action_id;
    act.case_id = (char *) case_id;
    act.action = "";
    act.actor_role = (char *) yx_role_name (caller->role);
    act.actor_scope = (char *) caller->key->scope;
    act.actor_name = (char *) caller->key->name;
    act.body_json = req->body;
    act.at_ms = yx_now_ms ();
    yx_env_t env = YIXIAN__V1__ENVELOPE__INIT;
    env.body_case = YIXIAN__V1__ENVELOPE__BODY_ACTION;
    env.action = &act;
    yx_intake_conn_t *conn = yx_intake_conn (in);
    yx_env_t *res = NULL;
    if (conn->to_dispatcher && yx_bus_send (conn->to_dispatcher, NULL, NULL, 0, &env) == 0)
        res = s_wait_result (conn->to_dispatcher, action_id, in->cfg->intake_action_timeout_ms);
    if (!res) {
        yx_warn ("action_timeout", "case=%s", case_id);
        yx_http_error (resp, 503, "unavailable", "the dispatcher did not answer; retry with the same Idempotency-Key", NULL);
        resp->retry_after = 1;
        return;
    }
    Yixian__V1__ActionResult *r = res->result;
    if (r->status != 200) {
        int status = r->status >= 400 && r->status < 600 ? r->status : 503;
        yx_http_error (resp, status, *r->error_code ? r->error_code : "error", r->message,
                       *r->field ? r->field : NULL);
        if (status == 409) {   /* tell the caller the state it ran into */
            json_t *e = json_loads (resp->body, 0, NULL);
            free (resp->body);
            json_object_set_new (json_object_get (e, "error"), "state", json_string (r->state));
            yx_http_json (resp, 409, e);
        }
        yx_env_free (res);
        return;
    }
    yx_env_free (res);
    yx_case_t c;
    if (yx_case_load (conn->store, case_id, 1, &c) != YX_CASE_FOUND) {
        yx_http_error (resp, 503, "unavailable", "the case store is unavailable", NULL);
        resp->retry_after = 1;
        return;
    }
    yx_http_json (resp, 200, yx_case_view (&c, yx_auth_sees_phone (caller), in->cfg->utc_offset_min));
    yx_case_clear (&c);
}
