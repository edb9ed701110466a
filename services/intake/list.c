/* list.c — the case list (filters, cursor paging) and department inboxes.
 *
 * The list walks the per-district creation indexes (yx:{D}:cases) newest first,
 * merged across the districts in the caller's scope, and filters loaded documents.
 * A cursor is "<created ms>:<case id>" of the last case returned. */
#include "list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define S_MAX_DISTRICTS 64
#define S_SCAN_LIMIT 5000   /* documents examined per list request at most */

bool
yx_list_can_read (const yx_caller_t *caller, const yx_case_t *c)
{
    const char *depts[32];
    int n = yx_case_departments (c, depts, 32);
    json_t *loc = json_object_get (c->doc, "location");
    return yx_auth_can_read (caller, yx_doc_str (c->doc, "source"), c->district,
                             yx_doc_str (loc, "street"), yx_doc_str (loc, "community"), depts, n);
}

bool
yx_assignment_overdue (const json_t *a, int64_t now_ms)
{
    const char *st = json_string_value (json_object_get (a, "state"));
    if (!st)
        return false;
    json_int_t ack = json_integer_value (json_object_get (a, "ack_due_ms"));
    json_int_t res = json_integer_value (json_object_get (a, "resolve_due_ms"));
    if (strcmp (st, "PENDING") == 0 && ack && ack < now_ms)
        return true;
    return (strcmp (st, "PENDING") == 0 || strcmp (st, "ACCEPTED") == 0) && res && res < now_ms;
}

/* Filters of GET /v1/cases. */
typedef struct {
    const char *state, *district, *street, *community, *grid, *department, *category, *grade, *q;
    char phone[24];        /* the reporter's phone as bare digits, "" for any */
    bool overdue;          /* only cases with an overdue assignment */
    bool board;            /* only overdue or escalated cases (the command center's board) */
    int64_t since, until;  /* creation time range, 0 = open */
} s_filter_t;

/* The digits of a phone number as it is compared: separators dropped, a leading China
 * country code (+86 / 0086) dropped from a mobile number. 0, or -1 when it has no
 * digits, other characters than digits and + - ( ) . space, or more than 20 digits. */
static int
s_phone_digits (const char *text, char out[24])
{
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n == 20)
                return -1;
            out[n++] = *p;
        }
        else
        if (!strchr ("+-(). ", *p))
            return -1;
    }
    out[n] = '\0';
    size_t cc = n == 13 && strncmp (out, "86", 2) == 0 ? 2 : n == 15 && strncmp (out, "0086", 4) == 0 ? 4 : 0;
    memmove (out, out + cc, n - cc + 1);
    return n ? 0 : -1;
}

/* True when the case passes every filter. */
static bool
s_matches (const s_filter_t *f, const yx_case_t *c, int64_t now)
{
    json_t *loc = json_object_get (c->doc, "location");
    if (f->state && strcmp (f->state, c->state))
        return false;
    if ((f->street && strcmp (f->street, yx_doc_str (loc, "street")))
        || (f->community && strcmp (f->community, yx_doc_str (loc, "community")))
        || (f->grid && strcmp (f->grid, yx_doc_str (loc, "grid"))))
        return false;
    if (f->category && strcmp (f->category, yx_doc_path (c->doc, "category", "code")))
        return false;
    if (f->grade && strcmp (f->grade, yx_doc_str (c->doc, "grade")))
        return false;
    json_int_t created = json_integer_value (json_object_get (c->doc, "created_ms"));
    if ((f->since && created < f->since) || (f->until && created >= f->until))
        return false;
    if (f->q && !strstr (yx_doc_str (c->doc, "description"), f->q)
        && !strstr (yx_doc_str (c->doc, "title"), f->q))
        return false;
    char digits[24];
    if (*f->phone && (s_phone_digits (yx_doc_path (c->doc, "reporter", "phone"), digits)
                      || strcmp (digits, f->phone)))
        return false;
    if (f->department || f->overdue || f->board) {
        bool dept_ok = !f->department, over_ok = !f->overdue, board_ok = !f->board;
        size_t i;
        json_t *a;
        json_array_foreach (json_object_get (c->doc, "assignments"), i, a) {
            if (f->department && strcmp (f->department, yx_doc_str (a, "department")) == 0)
                dept_ok = true;
            if (f->overdue && yx_assignment_overdue (a, now))
                over_ok = true;
            if (f->board && (yx_assignment_overdue (a, now)
                             || json_integer_value (json_object_get (a, "escalation_level")) > 0))
                board_ok = true;
        }
        if (!dept_ok || !over_ok || !board_ok)
            return false;
    }
    return true;
}

/* Parses an optional time query parameter. 0/-1 with resp set. */
static int
s_time_param (const yx_http_req_t *req, const char *name, int64_t *out, yx_http_resp_t *resp)
{
    const char *v = yx_http_query (req, name);
    *out = 0;
    if (v && yx_time_parse (v, out)) {
        yx_http_error (resp, 422, "invalid_time", "expected an RFC 3339 time with offset", name);
        return -1;
    }
    return 0;
}

/* One district's position in the merged walk. */
typedef struct {
    char code[8];          /* district */
    redisReply *batch;     /* ids with scores, newest first */
    size_t pos;            /* next element pair */
    bool done;             /* nothing older left */
} s_stream_t;

/* Refills a district's batch below (max_ms, max_id). */
static int
s_refill (yx_store_t *store, s_stream_t *s, long long max_ms, const char *max_id)
{
    if (s->batch)
        freeReplyObject (s->batch);
    s->batch = NULL;
    s->pos = 0;
    char k[64], max[32];
    yx_key (k, sizeof k, s->code, YX_K_CASES);
    snprintf (max, sizeof max, "%lld", max_ms);
    s->batch = yx_store_cmd (store, "ZREVRANGEBYSCORE %s %s -inf WITHSCORES LIMIT 0 200", k, max);
    if (!s->batch || s->batch->type != REDIS_REPLY_ARRAY)
        return -1;
    /* skip entries at max_ms that are not older than max_id */
    while (*max_id && s->pos + 1 < s->batch->elements
           && atoll (s->batch->element[s->pos + 1]->str) == max_ms
           && strcmp (s->batch->element[s->pos]->str, max_id) >= 0)
        s->pos += 2;
    s->done = s->batch->elements == 0;
    return 0;
}

void
yx_list_cases (const yx_intake_t *in, const yx_caller_t *caller, const yx_http_req_t *req,
               yx_http_resp_t *resp)
{
    s_filter_t f = { 0 };
    f.state = yx_http_query (req, "state");
    f.district = yx_http_query (req, "district");
    f.street = yx_http_query (req, "street");
    f.community = yx_http_query (req, "community");
    f.grid = yx_http_query (req, "grid");
    f.department = yx_http_query (req, "department");
    f.category = yx_http_query (req, "category");
    f.grade = yx_http_query (req, "grade");
    f.q = yx_http_query (req, "q");
    const char *ov = yx_http_query (req, "overdue");
    f.overdue = ov && strcmp (ov, "true") == 0;
    const char *bd = yx_http_query (req, "board");
    f.board = bd && strcmp (bd, "true") == 0;
    if (s_time_param (req, "since", &f.since, resp) || s_time_param (req, "until", &f.until, resp))
        return;
    const char *phone = yx_http_query (req, "phone");
    if (phone && caller->role == YX_ROLE_DEPARTMENT) {
        yx_http_error (resp, 403, "forbidden", "department keys may not search by the reporter's phone", "phone");
        return;
    }
    if (phone && s_phone_digits (phone, f.phone)) {
        yx_http_error (resp, 422, "invalid_value", "phone must be a phone number: digits, with + - ( ) . or spaces", "phone");
        return;
    }
    int limit;
    if (yx_http_query_limit (req, 50, 500, &limit, resp))
        return;
    long long cur_ms = 0x7fffffffffffffLL;
    char cur_id[32] = "";
    const char *cursor = yx_http_query (req, "cursor");
    if (cursor && (sscanf (cursor, "%lld:%31s", &cur_ms, cur_id) != 2 || cur_ms < 0)) {
        yx_http_error (resp, 422, "invalid_value", "cursor is not one this API returned", "cursor");
        return;
    }
    const char *codes[S_MAX_DISTRICTS];
    int nd = yx_config_districts (in->cfg, codes, S_MAX_DISTRICTS);
    s_stream_t streams[S_MAX_DISTRICTS];
    int ns = 0;
    for (int i = 0; i < nd; i++) {
        if (f.district && strcmp (f.district, codes[i]))
            continue;
        if (caller->role == YX_ROLE_OPERATOR && strcmp (caller->key->scope, "city")
            && strncmp (caller->key->scope, codes[i], 6))
            continue;
        memset (&streams[ns], 0, sizeof streams[ns]);
        snprintf (streams[ns].code, sizeof streams[ns].code, "%s", codes[i]);
        ns++;
    }
    yx_store_t *store = yx_intake_conn (in)->store;
    int ok = 0;
    for (int i = 0; i < ns; i++)
        ok |= s_refill (store, &streams[i], cur_ms, cur_id);
    json_t *items = json_array ();
    int64_t now = yx_now_ms ();
    int scanned = 0;
    long long last_ms = -1;
    char last_id[32] = "";
    while (ok == 0 && (int) json_array_size (items) < limit && scanned < S_SCAN_LIMIT) {
        int best = -1;
        long long best_ms = -1;
        for (int i = 0; i < ns; i++) {
            s_stream_t *s = &streams[i];
            if (s->done)
                continue;
            if (s->pos + 1 >= s->batch->elements) {
                if (s->batch->elements < 400 || last_ms < 0) {
                    s->done = true;
                    continue;
                }
                ok |= s_refill (store, s, last_ms, last_id);
                if (ok || s->done)
                    continue;
            }
            long long ms = atoll (s->batch->element[s->pos + 1]->str);
            if (ms > best_ms)
                best = i, best_ms = ms;
        }
        if (best < 0)
            break;
        s_stream_t *s = &streams[best];
        const char *id = s->batch->element[s->pos]->str;
        last_ms = best_ms;
        snprintf (last_id, sizeof last_id, "%s", id);
        s->pos += 2;
        scanned++;
        yx_case_t c;
        yx_case_load_t lr = yx_case_load (store, id, 0, &c);
        if (lr == YX_CASE_UNAVAILABLE) {
            ok = -1;
            break;
        }
        if (lr == YX_CASE_FOUND) {
            if (yx_list_can_read (caller, &c) && s_matches (&f, &c, now))
                json_array_append_new (items, yx_case_view (&c, yx_auth_sees_phone (caller), in->cfg->utc_offset_min));
            yx_case_clear (&c);
        }
    }
    bool more = false;
    for (int i = 0; i < ns; i++) {
        more |= !streams[i].done && streams[i].batch && streams[i].pos + 1 < streams[i].batch->elements;
        if (streams[i].batch)
            freeReplyObject (streams[i].batch);
    }
    if (ok) {
        json_decref (items);
        yx_http_error (resp, 503, "unavailable", "the case store is unavailable", NULL);
        resp->retry_after = 1;
        return;
    }
    char next[64];
    snprintf (next, sizeof next, "%lld:%s", last_ms, last_id);
    yx_http_json (resp, 200, json_pack ("{s:o, s:o}", "items", items, "next_cursor",
                                        more && last_ms >= 0 ? json_string (next) : json_null ()));
}

/* Sort inbox items by the assignment's governing deadline, latest first. */
static int
s_by_deadline_desc (const void *a, const void *b)
{
    json_int_t da = json_integer_value (json_object_get (*(json_t *const *) a, "_deadline"));
    json_int_t db = json_integer_value (json_object_get (*(json_t *const *) b, "_deadline"));
    return da < db ? 1 : da > db ? -1 : 0;
}

void
yx_list_inbox (const yx_intake_t *in, const yx_caller_t *caller, const char *dept,
               const yx_http_req_t *req, yx_http_resp_t *resp)
{
    const yx_dept_t *d = yx_config_dept (in->cfg, dept);
    if (!d) {
        yx_http_error (resp, 404, "not_found", "no such department", NULL);
        return;
    }
    bool allowed = caller->role == YX_ROLE_ADMIN
                   || (caller->role == YX_ROLE_DEPARTMENT && strcmp (caller->key->scope, dept) == 0)
                   || (caller->role == YX_ROLE_OPERATOR
                       && (strcmp (caller->key->scope, "city") == 0
                           || (*d->district && strncmp (caller->key->scope, d->district, 6) == 0)));
    if (!allowed) {
        yx_http_error (resp, 403, "forbidden", "this key may not read that department's inbox", NULL);
        return;
    }
    const char *want = yx_http_query (req, "state");
    if (want && strcmp (want, "pending") && strcmp (want, "accepted") && strcmp (want, "overdue")) {
        yx_http_error (resp, 422, "invalid_value", "state must be pending, accepted or overdue", "state");
        return;
    }
    const char *codes[S_MAX_DISTRICTS];
    int nd = yx_config_districts (in->cfg, codes, S_MAX_DISTRICTS);
    yx_store_t *store = yx_intake_conn (in)->store;
    int64_t now = yx_now_ms ();
    json_t **found = NULL;
    size_t nfound = 0;
    bool failed = false;
    for (int i = 0; i < nd && !failed && nfound < 500; i++) {
        char k[128];
        yx_key (k, sizeof k, codes[i], "inbox:%s", dept);
        redisReply *r = yx_store_cmd (store, "ZRANGE %s 0 999", k);
        if (!r || r->type != REDIS_REPLY_ARRAY) {
            failed = true;
            if (r)
                freeReplyObject (r);
            break;
        }
        for (size_t j = 0; j < r->elements && nfound < 500; j++) {
            yx_case_t c;
            yx_case_load_t lr = yx_case_load (store, r->element[j]->str, 0, &c);
            failed |= lr == YX_CASE_UNAVAILABLE;
            if (lr != YX_CASE_FOUND)
                continue;
            size_t ai;
            json_t *a;
            json_array_foreach (json_object_get (c.doc, "assignments"), ai, a) {
                if (strcmp (yx_doc_str (a, "department"), dept))
                    continue;
                const char *st = yx_doc_str (a, "state");
                bool over = yx_assignment_overdue (a, now);
                bool keep = want ? (strcmp (want, "pending") == 0 ? strcmp (st, "PENDING") == 0
                                    : strcmp (want, "accepted") == 0 ? strcmp (st, "ACCEPTED") == 0
                                                                     : over)
                                 : (strcmp (st, "PENDING") == 0 || strcmp (st, "ACCEPTED") == 0);
                if (!keep)
                    continue;
                json_t *view = yx_case_view (&c, yx_auth_sees_phone (caller), in->cfg->utc_offset_min);
                json_t *mine = json_deep_copy (a);
                json_int_t due = json_integer_value (json_object_get (a, strcmp (st, "PENDING") == 0 ? "ack_due_ms" : "resolve_due_ms"));
                json_t *asgv = NULL;
                size_t vi;
                json_array_foreach (json_object_get (view, "assignments"), vi, asgv)
                    if (strcmp (yx_doc_str (asgv, "department"), dept) == 0)
                        break;
                json_decref (mine);
                json_object_set (view, "assignment", asgv);
                json_object_set_new (view, "overdue", json_boolean (over));
                json_object_set_new (view, "_deadline", json_integer (due));
                json_t **nf = realloc (found, sizeof *nf * (nfound + 1));
                if (!nf) {
                    json_decref (view);
                    break;
                }
                found = nf;
                found[nfound++] = view;
                break;
            }
            yx_case_clear (&c);
        }
        freeReplyObject (r);
    }
    if (nfound)
        qsort (found, nfound, sizeof *found, s_by_deadline_desc);
    json_t *items = json_array ();
    for (size_t i = 0; i < nfound; i++) {
        json_object_del (found[i], "_deadline");
        json_array_append_new (items, found[i]);
    }
    free (found);
    if (failed) {
        json_decref (items);
        yx_http_error (resp, 503, "unavailable", "the case store is unavailable", NULL);
        resp->retry_after = 1;
        return;
    }
    yx_http_json (resp, 200, json_pack ("{s:s, s:o}", "department", dept, "items", items));
}
