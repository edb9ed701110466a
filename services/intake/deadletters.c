/* deadletters.c — the notifier's dead letters for operators (docs/notifier.md).
 *
 *   GET  /v1/deadletters[?district=D&limit=N]   newest first, in the caller's scope
 *   POST /v1/deadletters/actions  {"action": "redeliver" | "discard", "id": ID}
 *                                  {"action": "redeliver", "all": true[, "district": D]}
 *
 * Requests are queued on yx:{D}:deadletters:requests for the notifier, which applies
 * them within a sweep interval; the answer says how many were queued. */
#include "deadletters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

/* Operators of the city or of a district (or admins) manage dead letters of districts
 * in their scope. */
static bool
s_district_allowed (const yx_caller_t *caller, const char *district)
{
    if (caller->role == YX_ROLE_ADMIN)
        return true;
    return caller->role == YX_ROLE_OPERATOR
           && (strcmp (caller->key->scope, "city") == 0 || strncmp (caller->key->scope, district, 6) == 0);
}

/* Districts the request covers: one named (checked) or all in scope. */
static int
s_districts (const yx_intake_t *in, const yx_caller_t *caller, const char *only, const char **out, int max)
{
    const char *codes[64];
    int nd = yx_config_districts (in->cfg, codes, 64), n = 0;
    for (int i = 0; i < nd && n < max; i++)
        if ((!only || strcmp (only, codes[i]) == 0) && s_district_allowed (caller, codes[i]))
            out[n++] = codes[i];
    return n;
}

static void
s_unavailable (yx_http_resp_t *resp)
{
    yx_http_error (resp, 503, "unavailable", "the store is unavailable", NULL);
    resp->retry_after = 1;
}

/* GET /v1/deadletters */
static void
s_list (const yx_intake_t *in, const yx_caller_t *caller, const yx_http_req_t *req, yx_http_resp_t *resp)
{
    int limit;
    if (yx_http_query_limit (req, 50, 500, &limit, resp))
        return;
    const char *ds[64];
    int nd = s_districts (in, caller, yx_http_query (req, "district"), ds, 64);
    yx_store_t *store = yx_intake_conn (in)->store;
    json_t *items = json_array ();
    for (int i = 0; i < nd; i++) {
        char kat[96], k[96];
        yx_key (kat, sizeof kat, ds[i], "deadletters:at");
        yx_key (k, sizeof k, ds[i], "deadletters");
        redisReply *ids = yx_store_cmd (store, "ZREVRANGE %s 0 %d", kat, limit - 1);
        if (!ids) {
            json_decref (items);
            s_unavailable (resp);
            return;
        }
        for (size_t j = 0; ids->type == REDIS_REPLY_ARRAY && j < ids->elements; j++) {
            redisReply *rec = yx_store_cmd (store, "HGET %s %s", k, ids->element[j]->str);
            json_t *o = rec && rec->type == REDIS_REPLY_STRING ? json_loads (rec->str, 0, NULL) : NULL;
            if (json_is_object (o))
                json_array_append_new (items, o);
            else
                json_decref (o);
            if (rec)
                freeReplyObject (rec);
        }
        freeReplyObject (ids);
    }
    yx_http_json (resp, 200, json_pack ("{s:o}", "items", items));
}

/* POST /v1/deadletters/actions */
static void
s_act (const yx_intake_t *in, const yx_caller_t *caller, const yx_http_req_t *req, yx_http_resp_t *resp)
{
    json_t *body = yx_intake_parse_body (req, resp);
    if (!body)
        return;
    const char *action = json_string_value (json_object_get (body, "action"));
    const char *id = json_string_value (json_object_get (body, "id"));
    const char *district = json_string_value (json_object_get (body, "district"));
    bool all = json_is_true (json_object_get (body, "all"));
    if (!action || (strcmp (action, "redeliver") && strcmp (action, "discard")))
        yx_http_error (resp, 422, "invalid_value", "action must be redeliver or discard", "action");
    else
    if (!all && (!id || !*id || strlen (id) > 200 || strchr (id, ' ')))
        yx_http_error (resp, 422, "missing_field", "id (a dead-letter id) or all: true is required", "id");
    else
    if (all && strcmp (action, "redeliver"))
        yx_http_error (resp, 422, "invalid_value", "all applies to redeliver only", "all");
    else {
        const char *ds[64];
        int nd = s_districts (in, caller, district, ds, 64), queued = 0;
        yx_store_t *store = yx_intake_conn (in)->store;
        bool down = false;
        for (int i = 0; i < nd && !down; i++) {
            char k[96], kr[96];
            yx_key (k, sizeof k, ds[i], "deadletters");
            yx_key (kr, sizeof kr, ds[i], "deadletters:requests");
            redisReply *r = all ? yx_store_cmd (store, "HLEN %s", k) : yx_store_cmd (store, "HEXISTS %s %s", k, id);
            down = !r;
            if (r && r->type == REDIS_REPLY_INTEGER && r->integer > 0) {
                char request[256];
                snprintf (request, sizeof request, "%s %s", action, all ? "*" : id);
                redisReply *p = yx_store_cmd (store, "RPUSH %s %s", kr, request);
                down = !p;
                queued += p ? (all ? (int) r->integer : 1) : 0;
                if (p)
                    freeReplyObject (p);
            }
            if (r)
                freeReplyObject (r);
        }
        if (down)
            s_unavailable (resp);
        else
        if (!all && queued == 0)
            yx_http_error (resp, 404, "not_found", "no dead letter with that id in your scope", "id");
        else {
            yx_info ("deadletters_request", "action=%s count=%d by=%s", action, queued, caller->key->name);
            yx_http_json (resp, 202, json_pack ("{s:s, s:i}", "action", action, "queued", queued));
        }
    }
    json_decref (body);
}

void
yx_deadletters_http (const yx_intake_t *in, const yx_caller_t *caller, const yx_http_req_t *req,
                     yx_http_resp_t *resp)
{
    if (caller->role != YX_ROLE_OPERATOR && caller->role != YX_ROLE_ADMIN) {
        yx_http_error (resp, 403, "forbidden_role", "dead letters are for operators and admins", NULL);
        return;
    }
    bool get = strcmp (req->method, "GET") == 0, post = strcmp (req->method, "POST") == 0;
    if (strcmp (req->url, "/v1/deadletters") == 0 && get)
        s_list (in, caller, req, resp);
    else
    if (strcmp (req->url, "/v1/deadletters/actions") == 0 && post)
        s_act (in, caller, req, resp);
    else
        yx_http_error (resp, 405, "method_not_allowed", "GET /v1/deadletters or POST /v1/deadletters/actions", NULL);
}
