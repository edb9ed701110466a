/* open311_requests.c — cases as GeoReport v2 service requests.
 *
 * GET requests walks the per-district creation indexes (yx:{D}:cases, scored by
 * created ms = requested_datetime) newest first within the date window, merged
 * across districts, and filters loaded documents by status and service_code; the
 * page/page_size extension skips matches. Every case of the city is public here,
 * as Open311 intends, but never its reporter's name or phone. */
#include "open311.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define S_DAY_MS 86400000LL
#define S_WINDOW_MS (90 * S_DAY_MS)   /* the specification's default and largest window */
#define S_MAX_PAGE_SIZE 1000          /* … and its default cap on results */
#define S_MAX_PAGE 100000             /* deepest page */
#define S_MAX_IDS 100                 /* service_request_id entries in one query */
#define S_MAX_CODES 200               /* service_code entries in one query */
#define S_MAX_DISTRICTS 64            /* districts merged */
#define S_BATCH 256                   /* index entries fetched per district at a time */
#define S_SCAN_IDS 200000             /* index entries walked per request at most */
#define S_SCAN_DOCS 20000             /* documents loaded per request at most */
#define S_NOTE_TAIL 50                /* timeline entries searched for the status note */

/* Renders a loaded case with its status note (the latest non-empty timeline note).
 * NULL when Redis is unavailable. */
static json_t *
s_view (const yx_intake_t *in, yx_store_t *store, const yx_case_t *c)
{
    char k[128];
    yx_key (k, sizeof k, c->district, "case:%s:tl", c->id);
    redisReply *r = yx_store_cmd (store, "LRANGE %s -%d -1", k, S_NOTE_TAIL);
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        if (r)
            freeReplyObject (r);
        return NULL;
    }
    json_t *note = NULL;
    for (size_t i = r->elements; i-- > 0 && !note;) {
        if (r->element[i]->type != REDIS_REPLY_STRING)
            continue;
        json_t *e = json_loadb (r->element[i]->str, r->element[i]->len, 0, NULL);
        const char *text = json_string_value (json_object_get (e, "note"));
        if (text && *text)
            note = json_incref (json_object_get (e, "note"));
        json_decref (e);
    }
    freeReplyObject (r);
    json_t *v = yx_o311_request_view (in->cfg, c, json_string_value (note));
    json_decref (note);
    return v;
}

/* Answers 503: the case store did not answer. */
static void
s_unavailable (yx_http_resp_t *resp, yx_o311_fmt_t fmt)
{
    yx_o311_error (resp, fmt, 503, "the case store is unavailable; retry shortly");
    resp->retry_after = 1;
}

void
yx_o311_get_request (const yx_intake_t *in, const char *id, bool token, yx_http_resp_t *resp,
                     yx_o311_fmt_t fmt)
{
    yx_store_t *store = yx_intake_conn (in)->store;
    yx_case_t c;
    yx_case_load_t lr = yx_case_load (store, id, 0, &c);
    if (lr == YX_CASE_UNAVAILABLE) {
        s_unavailable (resp, fmt);
        return;
    }
    if (lr == YX_CASE_MISSING) {
        yx_o311_error (resp, fmt, 404, "%s %s not found", token ? "token" : "service_request_id", id);
        return;
    }
    json_t *item = token ? json_pack ("{s:s, s:s}", "service_request_id", c.id, "token", c.id)
                         : s_view (in, store, &c);
    yx_case_clear (&c);
    if (!item) {
        s_unavailable (resp, fmt);
        return;
    }
    yx_o311_send (resp, fmt, 200, json_pack ("[o]", item), "service_requests", "request");
}

/* A parsed GET requests query. */
typedef struct {
    const char *codes[S_MAX_CODES];  /* wanted service codes (config strings), none = all */
    int ncodes;                      /* entries in codes */
    bool open, closed;               /* wanted statuses */
    int64_t start, end;              /* requested_datetime window, inclusive */
    long page, page_size;            /* the paging extension */
} s_query_t;

/* Splits a comma list in place into trimmed, non-empty items; returns how many
 * (at most max), or -1 when there are more. */
static int
s_split (char *list, char **items, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r (list, ",", &save); t; t = strtok_r (NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        size_t len = strlen (t);
        while (len && t[len - 1] == ' ')
            t[--len] = 0;
        if (!*t)
            continue;
        if (n == max)
            return -1;
        items[n++] = t;
    }
    return n;
}

/* Reads an optional positive integer parameter within 1..max. 0/-1 with resp set. */
static int
s_long_param (const yx_http_req_t *req, const char *name, long max, long *out, yx_http_resp_t *resp,
              yx_o311_fmt_t fmt)
{
    const char *v = yx_http_query (req, name);
    if (!v || !*v)
        return 0;
    char *end;
    long l = strtol (v, &end, 10);
    if (*end || l < 1 || l > max || *v == '+' || *v == ' ') {
        yx_o311_error (resp, fmt, 400, "%s must be a whole number from 1 to %ld", name, max);
        return -1;
    }
    *out = l;
    return 0;
}

/* Parses status, service_code, start_date, end_date, page and page_size. 0/-1 with resp set. */
static int
s_parse_query (const yx_intake_t *in, const yx_http_req_t *req, s_query_t *q, yx_http_resp_t *resp,
               yx_o311_fmt_t fmt)
{
    memset (q, 0, sizeof *q);
    q->page = 1;
    q->page_size = S_MAX_PAGE_SIZE;
    char buf[4096];
    char *items[S_MAX_CODES];
    const char *status = yx_http_query (req, "status");
    snprintf (buf, sizeof buf, "%s", status ? status : "");
    int n = s_split (buf, items, 2);
    for (int i = 0; i < n; i++) {
        q->open |= strcmp (items[i], "open") == 0;
        q->closed |= strcmp (items[i], "closed") == 0;
    }
    if (n < 0 || (n > 0 && !(q->open || q->closed)) || (n == 2 && !(q->open && q->closed))) {
        yx_o311_error (resp, fmt, 400, "status must be open, closed or both (comma delimited)");
        return -1;
    }
    if (n == 0)
        q->open = q->closed = true;
    const char *codes = yx_http_query (req, "service_code");
    if (codes && strlen (codes) >= sizeof buf) {
        yx_o311_error (resp, fmt, 400, "service_code is too long");
        return -1;
    }
    snprintf (buf, sizeof buf, "%s", codes ? codes : "");
    n = s_split (buf, items, S_MAX_CODES);
    if (n < 0) {
        yx_o311_error (resp, fmt, 400, "at most %d service codes in one query", S_MAX_CODES);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const yx_category_t *cat = yx_config_category (in->cfg, items[i]);
        if (!cat) {
            yx_o311_error (resp, fmt, 400, "service_code %.16s is not a service of this endpoint", items[i]);
            return -1;
        }
        q->codes[q->ncodes++] = cat->code;
    }
    const char *sd = yx_http_query (req, "start_date"), *ed = yx_http_query (req, "end_date");
    bool has_start = sd && *sd, has_end = ed && *ed;
    bool bad_start = has_start && yx_o311_time_parse (sd, in->cfg->utc_offset_min, &q->start);
    if (bad_start || (has_end && yx_o311_time_parse (ed, in->cfg->utc_offset_min, &q->end))) {
        yx_o311_error (resp, fmt, 400, "%s must be a W3C date-time with a zone, e.g. 2026-11-23T00:00:00+08:00",
                       bad_start ? "start_date" : "end_date");
        return -1;
    }
    if (!has_end)
        q->end = has_start ? q->start + S_WINDOW_MS : yx_now_ms ();
    if (!has_start)
        q->start = q->end - S_WINDOW_MS;
    if (q->end < q->start || q->end - q->start > S_WINDOW_MS) {
        yx_o311_error (resp, fmt, 400, "start_date and end_date must be in order and may not span more than 90 days");
        return -1;
    }
    return s_long_param (req, "page", S_MAX_PAGE, &q->page, resp, fmt)
           || s_long_param (req, "page_size", S_MAX_PAGE_SIZE, &q->page_size, resp, fmt) ? -1 : 0;
}

/* True when a loaded case passes the status and service_code filters. */
static bool
s_matches (const s_query_t *q, const yx_case_t *c)
{
    bool closed = strcmp (yx_o311_status (c->state), "closed") == 0;
    if ((closed && !q->closed) || (!closed && !q->open))
        return false;
    if (q->ncodes == 0)
        return true;
    const char *code = yx_o311_service_code (c->doc);
    for (int i = 0; i < q->ncodes; i++)
        if (strcmp (code, q->codes[i]) == 0)
            return true;
    return false;
}

/* GET requests?service_request_id=a,b,c: the cases found, in the order asked, once each. */
static void
s_by_ids (const yx_intake_t *in, const char *ids, yx_http_resp_t *resp, yx_o311_fmt_t fmt)
{
    char buf[S_MAX_IDS * 32];
    char *items[S_MAX_IDS];
    int n = strlen (ids) < sizeof buf ? s_split (strcpy (buf, ids), items, S_MAX_IDS) : -1;
    if (n < 0) {
        yx_o311_error (resp, fmt, 400, "at most %d service_request_id values in one query", S_MAX_IDS);
        return;
    }
    yx_store_t *store = yx_intake_conn (in)->store;
    json_t *list = json_array ();
    for (int i = 0; i < n; i++) {
        bool seen = false;
        for (int j = 0; j < i; j++)
            seen |= strcmp (items[i], items[j]) == 0;
        yx_case_t c;
        yx_case_load_t lr = seen ? YX_CASE_MISSING : yx_case_load (store, items[i], 0, &c);
        json_t *v = lr == YX_CASE_FOUND ? s_view (in, store, &c) : NULL;
        if (lr == YX_CASE_FOUND)
            yx_case_clear (&c);
        if (lr == YX_CASE_UNAVAILABLE || (lr == YX_CASE_FOUND && !v)) {
            json_decref (list);
            s_unavailable (resp, fmt);
            return;
        }
        if (v)
            json_array_append_new (list, v);
    }
    yx_o311_send (resp, fmt, 200, list, "service_requests", "request");
}

/* One district's creation index within the window, newest first. */
typedef struct {
    char key[64];          /* yx:{D}:cases */
    redisReply *batch;     /* ids and scores */
    size_t pos;            /* next id in batch (an index into element[], step 2) */
    long long offset;      /* rank in the window of the batch's first entry */
    bool done;             /* nothing left in the window */
} s_stream_t;

/* Makes sure the stream has a current entry, fetching the next batch when needed. 0/-1. */
static int
s_fill (yx_store_t *store, s_stream_t *s, const s_query_t *q)
{
    if (s->done || (s->batch && s->pos + 1 < s->batch->elements))
        return 0;
    if (s->batch) {
        s->offset += (long long) s->batch->elements / 2;
        bool last = s->batch->elements < 2 * S_BATCH;
        freeReplyObject (s->batch);
        s->batch = NULL;
        if (last) {
            s->done = true;
            return 0;
        }
    }
    s->pos = 0;
    s->batch = yx_store_cmd (store, "ZREVRANGEBYSCORE %s %lld %lld WITHSCORES LIMIT %lld %d", s->key,
                             (long long) q->end, (long long) q->start, s->offset, S_BATCH);
    if (!s->batch || s->batch->type != REDIS_REPLY_ARRAY)
        return -1;
    for (size_t i = 0; i < s->batch->elements; i++)
        if (s->batch->element[i]->type != REDIS_REPLY_STRING)
            return -1;
    s->done = s->batch->elements == 0;
    return 0;
}

/* The walk itself: appends the page's matches to list. 0/-1 (Redis unavailable). */
static int
s_walk (const yx_intake_t *in, const s_query_t *q, json_t *list)
{
    const char *codes[S_MAX_DISTRICTS];
    int nd = yx_config_districts (in->cfg, codes, S_MAX_DISTRICTS);
    s_stream_t streams[S_MAX_DISTRICTS];
    memset (streams, 0, sizeof streams);
    for (int i = 0; i < nd; i++)
        yx_key (streams[i].key, sizeof streams[i].key, codes[i], YX_K_CASES);
    yx_store_t *store = yx_intake_conn (in)->store;
    bool filtering = !(q->open && q->closed) || q->ncodes > 0;
    long skip = (q->page - 1) * q->page_size, want = q->page_size;
    int rc = 0, walked = 0, loaded = 0;
    while (want > 0 && walked < S_SCAN_IDS && loaded < S_SCAN_DOCS) {
        int best = -1;
        long long best_ms = -1;
        for (int i = 0; i < nd && rc == 0; i++) {
            rc = s_fill (store, &streams[i], q);
            if (rc || streams[i].done)
                continue;
            long long ms = atoll (streams[i].batch->element[streams[i].pos + 1]->str);
            if (ms > best_ms)
                best = i, best_ms = ms;
        }
        if (rc || best < 0)
            break;
        s_stream_t *s = &streams[best];
        const char *id = s->batch->element[s->pos]->str;
        s->pos += 2;
        walked++;
        if (!filtering && skip > 0) {
            skip--;
            continue;
        }
        yx_case_t c;
        yx_case_load_t lr = yx_case_load (store, id, 0, &c);
        loaded++;
        if (lr == YX_CASE_UNAVAILABLE) {
            rc = -1;
            break;
        }
        if (lr == YX_CASE_MISSING)
            continue;
        if (s_matches (q, &c) && skip-- <= 0) {
            json_t *v = s_view (in, store, &c);
            if (!v)
                rc = -1;
            else
                json_array_append_new (list, v), want--;
        }
        yx_case_clear (&c);
    }
    for (int i = 0; i < nd; i++)
        if (streams[i].batch)
            freeReplyObject (streams[i].batch);
    return rc;
}

void
yx_o311_get_requests (const yx_intake_t *in, const yx_http_req_t *req, yx_http_resp_t *resp,
                      yx_o311_fmt_t fmt)
{
    const char *ids = yx_http_query (req, "service_request_id");
    if (ids && *ids) {   /* overrides every other argument */
        s_by_ids (in, ids, resp, fmt);
        return;
    }
    s_query_t q;
    if (s_parse_query (in, req, &q, resp, fmt))
        return;
    json_t *list = json_array ();
    if (s_walk (in, &q, list)) {
        json_decref (list);
        s_unavailable (resp, fmt);
        return;
    }
    yx_o311_send (resp, fmt, 200, list, "service_requests", "request");
}
