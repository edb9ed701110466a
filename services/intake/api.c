/* api.c — the intake HTTP API: routing, authentication, content checks and reads.
 *
 *   GET  /healthz, /readyz
 *   POST /v1/cases                        report
 *   GET  /v1/cases                        list in scope
 *   GET  /v1/cases/{id}                   one case
 *   POST /v1/cases/{id}/actions           act (actions.c)
 *   GET  /v1/departments/{id}/inbox       a department's assignments
 *   GET  /v1/deadletters, POST /v1/deadletters/actions   (deadletters.c)
 *   POST /v1/admin/reload                 check the configuration, reload every service
 *   GET/POST /open311/v2/…                Open311 GeoReport v2 (open311*.c) */
#include "intake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "deadletters.h"
#include "list.h"
#include "open311.h"
#include "ratelimit.h"
#include "log.h"
#include "service.h"
#include "util.h"

json_t *
yx_intake_parse_body (const yx_http_req_t *req, yx_http_resp_t *resp)
{
    const char *ct = yx_http_header (req, "Content-Type");
    if (!ct || strncasecmp (ct, "application/json", 16) != 0) {
        yx_http_error (resp, 415, "unsupported_media_type", "send Content-Type: application/json", NULL);
        return NULL;
    }
    if (!req->body || req->body_len == 0) {
        yx_http_error (resp, 400, "malformed_json", "the request body is empty", NULL);
        return NULL;
    }
    if (!yx_utf8_valid (req->body, req->body_len)) {
        yx_http_error (resp, 400, "invalid_utf8", "the body is not valid UTF-8", NULL);
        return NULL;
    }
    json_error_t je;
    json_t *body = json_loadb (req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!body) {
        char msg[256];
        snprintf (msg, sizeof msg, "malformed JSON at line %d column %d: %s", je.line, je.column, je.text);
        yx_http_error (resp, 400, "malformed_json", msg, NULL);
        return NULL;
    }
    if (!json_is_object (body)) {
        json_decref (body);
        yx_http_error (resp, 400, "malformed_json", "the body must be a JSON object", NULL);
        return NULL;
    }
    return body;
}

/* POST /v1/cases */
static void
s_post_case (const yx_intake_t *in, const yx_caller_t *caller, const yx_http_req_t *req,
             yx_http_resp_t *resp)
{
    json_t *body = yx_intake_parse_body (req, resp);
    if (!body)
        return;
    yx_report_in_t r;
    yx_report_err_t err;
    char id[32];
    bool created = false;
    json_t *view = NULL;
    if (yx_report_from_json (body, &r, &err) == 0
        && yx_report_submit (in, caller, &r, id, &created, &view, &err) == 0) {
        snprintf (resp->location, sizeof resp->location, "/v1/cases/%s", id);
        yx_http_json (resp, created ? 201 : 200, view);
    }
    else {
        yx_http_error (resp, err.status, err.code, err.message, *err.field ? err.field : NULL);
        if (err.status == 503)
            resp->retry_after = 1;
    }
    json_decref (body);
}

/* Loads a case the caller may see: 404 for missing or out of scope. 0/-1. */
static int
s_case_in_scope (const yx_intake_t *in, const yx_caller_t *caller, const char *id, yx_case_t *c,
                 yx_http_resp_t *resp)
{
    yx_intake_conn_t *conn = yx_intake_conn (in);
    yx_case_load_t lr = yx_case_load (conn->store, id, 1, c);
    if (lr == YX_CASE_UNAVAILABLE) {
        yx_http_error (resp, 503, "unavailable", "the case store is unavailable", NULL);
        resp->retry_after = 1;
        return -1;
    }
    if (lr == YX_CASE_MISSING || !yx_list_can_read (caller, c)) {
        if (lr == YX_CASE_FOUND)
            yx_case_clear (c);
        yx_http_error (resp, 404, "not_found", "no such case", NULL);
        return -1;
    }
    return 0;
}

/* GET /healthz and /readyz */
static void
s_health (const yx_intake_t *in, const yx_http_req_t *req, yx_http_resp_t *resp)
{
    if (strcmp (req->url, "/healthz") == 0) {
        yx_http_json (resp, 200, yx_service_health ("intake"));
        return;
    }
    bool redis = yx_store_ping (yx_intake_conn (in)->store);
    yx_http_json (resp, redis ? 200 : 503,
                  json_pack ("{s:s, s:b}", "status", redis ? "ready" : "unavailable", "redis", redis));
}

/* POST /v1/admin/reload: checks the configuration file as every service will load it,
 * then bumps the city's configuration generation, which each service watches. */
static void
s_reload (const yx_intake_t *in, const yx_caller_t *caller, const yx_http_req_t *req, yx_http_resp_t *resp)
{
    if (strcmp (req->method, "POST") != 0) {
        yx_http_error (resp, 405, "method_not_allowed", "use POST", NULL);
        return;
    }
    if (caller->role != YX_ROLE_ADMIN) {
        yx_http_error (resp, 403, "forbidden_role", "only admin keys may reload the configuration", NULL);
        return;
    }
    char err[1024];
    if (yx_service_check_config (err, sizeof err)) {
        yx_http_error (resp, 422, "config_invalid", err, NULL);
        return;
    }
    long long gen = yx_service_request_reload (yx_intake_conn (in)->store, caller->key->name);
    if (gen < 0) {
        yx_http_error (resp, 503, "unavailable", "the case store is unavailable", NULL);
        resp->retry_after = 1;
        return;
    }
    yx_info ("reload_requested", "generation=%lld key=%s", gen, caller->key->name);
    yx_http_json (resp, 202, json_pack ("{s:I, s:s}", "generation", (json_int_t) gen, "config", in->cfg->path));
}

void
yx_intake_http (yx_http_req_t *req, yx_http_resp_t *resp, void *arg)
{
    const yx_intake_t *in = arg;
    const char *url = req->url;
    if (strcmp (url, "/healthz") == 0 || strcmp (url, "/readyz") == 0) {
        s_health (in, req, resp);
        return;
    }
    if (strncmp (url, "/open311/v2/", 12) == 0) {   /* public reads; POST authenticates by api_key */
        yx_open311_http (in, req, resp);
        return;
    }
    if (strncmp (url, "/v1/", 4) != 0) {
        yx_http_error (resp, 404, "not_found", "no such resource", NULL);
        return;
    }
    yx_caller_t caller;
    if (yx_auth_bearer (in->cfg, yx_http_header (req, "Authorization"), &caller)) {
        yx_http_error (resp, 401, "unauthorized", "a valid API key is required (Authorization: Bearer KEY)", NULL);
        return;
    }
    int wait = yx_ratelimit_take (in->limits, caller.key, yx_mono_ms ());
    if (wait) {
        yx_http_error (resp, 429, "rate_limited", "too many requests for this key; retry after the given seconds", NULL);
        resp->retry_after = wait;
        return;
    }
    bool get = strcmp (req->method, "GET") == 0, post = strcmp (req->method, "POST") == 0;
    char id[64] = "";
    char rest[64] = "";
    if (strcmp (url, "/v1/cases") == 0) {
        if (post)
            s_post_case (in, &caller, req, resp);
        else
        if (get)
            yx_list_cases (in, &caller, req, resp);
        else
            yx_http_error (resp, 405, "method_not_allowed", "use GET or POST", NULL);
        return;
    }
    if (strcmp (url, "/v1/admin/reload") == 0) {
        s_reload (in, &caller, req, resp);
        return;
    }
    if (strncmp (url, "/v1/deadletters", 15) == 0) {
        yx_deadletters_http (in, &caller, req, resp);
        return;
    }
    if (sscanf (url, "/v1/cases/%63[^/]%63s", id, rest) >= 1) {
        bool actions = strcmp (rest, "/actions") == 0;
        if (*rest && !actions) {
            yx_http_error (resp, 404, "not_found", "no such resource", NULL);
            return;
        }
        if ((actions && !post) || (!actions && !get)) {
            yx_http_error (resp, 405, "method_not_allowed", actions ? "use POST" : "use GET", NULL);
            return;
        }
        yx_case_t c;
        if (s_case_in_scope (in, &caller, id, &c, resp))
            return;
        if (actions)
            yx_intake_action (in, &caller, c.id, req, resp);
        else
            yx_http_json (resp, 200, yx_case_view (&c, yx_auth_sees_phone (&caller), in->cfg->utc_offset_min));
        yx_case_clear (&c);
        return;
    }
    if (sscanf (url, "/v1/departments/%47[^/]%63s", id, rest) == 2 && strcmp (rest, "/inbox") == 0) {
        if (!get)
            yx_http_error (resp, 405, "method_not_allowed", "use GET", NULL);
        else
            yx_list_inbox (in, &caller, id, req, resp);
        return;
    }
    yx_http_error (resp, 404, "not_found", "no such resource", NULL);
}
