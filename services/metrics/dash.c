/* dash.c — GET /v1/dashboard: everything the wall screen shows, in one answer.
 *
 *   counters  live numbers in the caller's scope (open, late, escalated, today's)
 *   rates     the scorecard of the window (default: the last 30 days)
 *   board     open cases that are late or escalated, worst first
 *   map       open and late cases per grid, and the positions of open cases
 *   league    department scorecards of the window, best first
 *   trend     reports and closures per hour, today and yesterday (local time) */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define S_BOARD_MAX 50     /* rows of the board */
#define S_POINTS_MAX 3000  /* case positions on the map */
#define S_DAY_MS 86400000LL

/* One board row before sorting. */
typedef struct {
    const yx_mcase_t *c;   /* the case */
    int level;             /* highest live escalation level */
    bool late;             /* past a deadline */
    int64_t since;         /* earliest passed deadline (0 if not late) */
    int lead;              /* index of the assignment to show */
} s_row_t;

/* Worst first: higher rung, then late, then late for longer, then older. */
static int
s_row_cmp (const void *pa, const void *pb)
{
    const s_row_t *a = pa, *b = pb;
    if (a->level != b->level)
        return b->level - a->level;
    if (a->late != b->late)
        return b->late - a->late;
    if (a->since != b->since)
        return a->since < b->since ? -1 : 1;
    return a->c->created_ms < b->c->created_ms ? -1 : a->c->created_ms > b->c->created_ms;
}

/* Fills a board row for an open case; false when it is neither late nor escalated. */
static bool
s_board_row (const yx_mcase_t *c, int64_t now, s_row_t *row)
{
    memset (row, 0, sizeof *row);
    row->c = c;
    row->lead = -1;
    for (int i = 0; i < c->nasg; i++) {
        const yx_masg_t *a = &c->asg[i];
        if (!yx_masg_live (a))
            continue;
        if (row->lead < 0 || a->lead)
            row->lead = i;
        if (a->level > row->level)
            row->level = a->level;
        if (yx_masg_late (a, now)) {
            bool ack = a->state == YX_AS_PENDING && (a->ack_overdue || (a->ack_due_ms && a->ack_due_ms < now));
            int64_t due = ack ? a->ack_due_ms : a->resolve_due_ms;
            row->late = true;
            if (due && (!row->since || due < row->since))
                row->since = due;
        }
    }
    return row->late || row->level > 0;
}

/* The display name of an area code, "" if unknown. */
static const char *
s_area_name (const yx_config_t *cfg, const char *code)
{
    const yx_area_t *a = *code ? yx_config_area (cfg, code) : NULL;
    return a ? a->name : "";
}

/* RFC 3339 or null. */
static json_t *
s_time (int64_t ms, int offset_min)
{
    char buf[40];
    return ms ? json_string (yx_time_format (ms, offset_min, buf, sizeof buf)) : json_null ();
}

/* The board as JSON. */
static json_t *
s_board_json (const yx_metrics_t *mx, s_row_t *rows, size_t n)
{
    const yx_config_t *cfg = mx->cfg;
    qsort (rows, n, sizeof *rows, s_row_cmp);
    json_t *out = json_array ();
    for (size_t i = 0; i < n && i < S_BOARD_MAX; i++) {
        const yx_mcase_t *c = rows[i].c;
        const yx_masg_t *a = rows[i].lead >= 0 ? &c->asg[rows[i].lead] : NULL;
        const yx_dept_t *dept = a ? yx_config_dept (cfg, a->dept) : NULL;
        const yx_category_t *cat = c->cat < cfg->ncats ? &cfg->cats[c->cat] : NULL;
        json_array_append_new (out, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:o, s:o}",
            "id", c->id, "state", yx_mstate_name (c->state), "category", c->category,
            "category_name", cat ? cat->name : "", "street_name", s_area_name (cfg, c->street),
            "community_name", s_area_name (cfg, c->community), "department", a ? a->dept : "",
            "department_name", dept ? dept->name : (a ? a->dept : ""), "level", rows[i].level,
            "late", rows[i].late, "late_since", s_time (rows[i].since, cfg->utc_offset_min),
            "created_at", s_time (c->created_ms, cfg->utc_offset_min)));
    }
    return out;
}

/* Best first: on-time rate, then response rate (null last), then volume. */
static int
s_league_cmp (const void *pa, const void *pb)
{
    json_t *a = *(json_t *const *) pa, *b = *(json_t *const *) pb;
    static const char *const keys[] = { "on_time_rate", "response_rate" };
    for (int k = 0; k < 2; k++) {
        json_t *x = json_object_get (a, keys[k]), *y = json_object_get (b, keys[k]);
        if (json_is_null (x) != json_is_null (y))
            return json_is_null (x) ? 1 : -1;
        double dx = json_number_value (x), dy = json_number_value (y);
        if (dx != dy)
            return dx > dy ? -1 : 1;
    }
    json_int_t ax = json_integer_value (json_object_get (a, "assigned"));
    json_int_t bx = json_integer_value (json_object_get (b, "assigned"));
    return ax > bx ? -1 : ax < bx;
}

/* Sorts the department rows of a stats result into a new array. */
static json_t *
s_league (json_t *groups)
{
    size_t n = json_array_size (groups);
    json_t **rows = calloc (n ? n : 1, sizeof *rows);
    json_t *out = json_array ();
    if (!rows)
        return out;
    for (size_t i = 0; i < n; i++)
        rows[i] = json_array_get (groups, i);
    qsort (rows, n, sizeof *rows, s_league_cmp);
    for (size_t i = 0; i < n; i++)
        json_array_append (out, rows[i]);
    free (rows);
    return out;
}

/* 24 integers as a JSON array. */
static json_t *
s_hours (const long *v)
{
    json_t *a = json_array ();
    for (int h = 0; h < 24; h++)
        json_array_append_new (a, json_integer (v[h]));
    return a;
}

/* Where a scope is and what it is called. */
static json_t *
s_scope_json (const yx_config_t *cfg, const char *scope)
{
    const yx_area_t *a = yx_config_area (cfg, scope);
    static const char *const levels[] = { "district", "street", "community" };
    return json_pack ("{s:s, s:s, s:s}", "code", scope, "name", a ? a->name : "全市", "level",
                      a ? levels[a->level] : "city");
}

json_t *
yx_dash_compute (const yx_metrics_t *mx, const char *scope, int64_t since, int64_t until, int64_t now)
{
    const yx_mirror_t *m = mx->mirror;
    const yx_config_t *cfg = mx->cfg;
    int64_t off = (int64_t) cfg->utc_offset_min * 60000;
    int64_t today = (now + off) / S_DAY_MS * S_DAY_MS - off, yesterday = today - S_DAY_MS;
    long rep_today[24] = { 0 }, rep_yday[24] = { 0 }, closed_today[24] = { 0 };
    long reported = 0, open = 0, late = 0, overdue = 0, escalated = 0, top = 0, closed = 0, triage = 0,
         suspended = 0;
    s_row_t *rows = calloc (m->ncases ? m->ncases : 1, sizeof *rows);
    if (!rows)
        return NULL;
    size_t nrows = 0, npoints = 0;
    json_t *grids = json_object (), *points = json_array ();
    for (size_t i = 0; i < m->ncases; i++) {
        const yx_mcase_t *c = m->cases[i];
        if (c->state < 0 || c->dead || !yx_mcase_in_scope (c, m->districts[(int) c->district], scope))
            continue;
        if (c->created_ms >= today && c->created_ms < today + S_DAY_MS) {
            reported++;
            rep_today[(c->created_ms - today) / 3600000]++;
        }
        else
        if (c->created_ms >= yesterday && c->created_ms < today)
            rep_yday[(c->created_ms - yesterday) / 3600000]++;
        if (c->state == YX_MS_CLOSED && c->closed_ms >= today && c->closed_ms < today + S_DAY_MS) {
            closed++;
            closed_today[(c->closed_ms - today) / 3600000]++;
        }
        suspended += c->state == YX_MS_SUSPENDED;
        if (!yx_mcase_open (c))
            continue;
        open++;
        triage += c->triage;
        bool is_late = yx_mcase_late (c, now), is_overdue = false;
        for (int j = 0; j < c->nasg; j++)
            is_overdue |= yx_masg_late_resolve (&c->asg[j], now);
        late += is_late;
        overdue += is_overdue;
        int level = yx_mcase_level (c);
        escalated += level > 0;
        top += level >= 3;
        if (s_board_row (c, now, &rows[nrows]))
            nrows++;
        if (*c->grid) {
            json_t *g = json_object_get (grids, c->grid);
            if (!g) {
                g = json_pack ("[i, i]", 0, 0);
                json_object_set_new (grids, c->grid, g);
            }
            json_array_set_new (g, 0, json_integer (json_integer_value (json_array_get (g, 0)) + 1));
            json_array_set_new (g, 1, json_integer (json_integer_value (json_array_get (g, 1)) + is_late));
        }
        if (c->has_point && npoints++ < S_POINTS_MAX)
            json_array_append_new (points, json_pack ("[f, f, i]", c->lon, c->lat, is_late));
    }
    json_t *board = s_board_json (mx, rows, nrows);
    free (rows);
    yx_stats_query_t q = { .since = since, .until = until };
    snprintf (q.scope, sizeof q.scope, "%s", scope);
    snprintf (q.group_by, sizeof q.group_by, "department");
    json_t *stats = yx_stats_compute (m, &q, now);
    json_t *rates = stats ? json_incref (json_object_get (stats, "totals")) : json_object ();
    json_t *league = s_league (json_object_get (stats, "groups"));
    json_decref (stats);
    int o = cfg->utc_offset_min;
    json_t *counters = json_pack ("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "reported_today", (json_int_t) reported,
                                  "open", (json_int_t) open, "late", (json_int_t) late, "overdue", (json_int_t) overdue,
                                  "escalated", (json_int_t) escalated, "top_rung", (json_int_t) top,
                                  "closed_today", (json_int_t) closed, "triage", (json_int_t) triage,
                                  "suspended", (json_int_t) suspended);
    return json_pack ("{s:o, s:o, s:o, s:o, s:{s:o, s:o}, s:o, s:o, s:I, s:{s:o, s:o}, s:o, s:{s:o, s:o, s:o}}",
                      "scope", s_scope_json (cfg, scope), "generated_at", s_time (now, o), "day_start", s_time (today, o),
                      "counters", counters, "window", "since", s_time (since, o), "until", s_time (until, o),
                      "rates", rates, "board", board, "board_total", (json_int_t) nrows,
                      "map", "grids", grids, "points", points, "league", league,
                      "trend", "reported_today", s_hours (rep_today), "reported_yesterday", s_hours (rep_yday),
                      "closed_today", s_hours (closed_today));
}
