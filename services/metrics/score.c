/* score.c — scorecards: the rates an operations center is judged by, recomputed
 * from the mirrored case summaries for each requested range and scope.
 *
 * Area cards (city, district, street, community) count the cases reported in the
 * range; department cards count the department's assignments made in the range.
 * The exact definitions are in docs/metrics.md; the two functions below are them. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void
yx_card_add_case (yx_card_t *card, const yx_mcase_t *c, int64_t now)
{
    card->cases++;
    if (c->state >= 0)
        card->by_state[c->state]++;
    if (c->state != YX_MS_REJECTED && c->state != YX_MS_MERGED)
        card->valid++;
    bool open = yx_mcase_open (c), returned = false, whistled = false, escalated = false, overdue = false;
    for (int i = 0; i < c->nasg; i++) {
        const yx_masg_t *a = &c->asg[i];
        returned |= a->state == YX_AS_RETURNED;
        whistled |= a->whistled;
        escalated |= a->level > 0;
        overdue |= open && yx_masg_late_resolve (a, now);
        card->assigned++;
        card->kept += a->state != YX_AS_RETURNED && a->state != YX_AS_CANCELLED;
        int r = yx_masg_response (a, now);
        if (r >= 0) {
            card->response_due++;
            card->responded += r;
        }
        if (a->accepted_ms && a->assigned_ms && a->accepted_ms >= a->assigned_ms) {
            card->ack_n++;
            card->ack_s += (double) (a->accepted_ms - a->assigned_ms) / 1000.0;
        }
    }
    card->open += open;
    card->late += yx_mcase_late (c, now);
    card->overdue_open += overdue;
    card->resolved += c->state == YX_MS_RESOLVED || c->state == YX_MS_VERIFIED;
    if (c->state == YX_MS_CLOSED) {
        card->closed++;
        card->closed_on_time += c->closed_on_time;
    }
    if (c->satisfied >= 0) {
        card->rated++;
        card->satisfied += c->satisfied;
        card->score_total += c->score;
    }
    card->dispatched += c->dispatched_ms > 0;
    card->returned += returned;
    card->whistled += whistled;
    card->escalated += escalated;
    if (c->resolved_ms || c->rework) {
        card->ever_resolved++;
        card->reworked += c->rework > 0;
    }
    if (c->resolved_ms && c->created_ms && c->resolved_ms >= c->created_ms) {
        card->resolve_n++;
        card->resolve_s += (double) (c->resolved_ms - c->created_ms) / 1000.0;
    }
}

void
yx_card_add_asg (yx_card_t *card, const yx_mcase_t *c, const yx_masg_t *a, int64_t now)
{
    card->cases++;
    card->assigned++;
    card->kept += a->state != YX_AS_RETURNED && a->state != YX_AS_CANCELLED;
    card->open += yx_masg_live (a);
    card->late += yx_masg_late (a, now);
    card->overdue_open += yx_masg_late_resolve (a, now);
    int r = yx_masg_response (a, now);
    if (r >= 0) {
        card->response_due++;
        card->responded += r;
    }
    if (a->state == YX_AS_RESOLVED) {
        card->resolved++;
        card->closed_on_time += !a->resolve_due_ms || a->resolved_ms <= a->resolve_due_ms;
        if (c->satisfied >= 0) {
            card->rated++;
            card->satisfied += c->satisfied;
            card->score_total += c->score;
        }
    }
    card->returned += a->state == YX_AS_RETURNED;
    card->whistled += a->whistled;
    card->escalated += a->level > 0;
    if (a->resolved_ms) {
        card->ever_resolved++;
        card->reworked += c->rework > 0;
        if (a->assigned_ms && a->resolved_ms >= a->assigned_ms) {
            card->resolve_n++;
            card->resolve_s += (double) (a->resolved_ms - a->assigned_ms) / 1000.0;
        }
    }
    if (a->accepted_ms && a->assigned_ms && a->accepted_ms >= a->assigned_ms) {
        card->ack_n++;
        card->ack_s += (double) (a->accepted_ms - a->assigned_ms) / 1000.0;
    }
}

/* num ÷ den rounded to 4 places, or null when den is 0. */
static json_t *
s_rate (double num, double den)
{
    return den > 0 ? json_real (round (num / den * 10000.0) / 10000.0) : json_null ();
}

/* Mean in whole seconds, or null for no observations. */
static json_t *
s_mean (double total, long n)
{
    return n > 0 ? json_integer ((json_int_t) llround (total / (double) n)) : json_null ();
}

json_t *
yx_card_json (const yx_card_t *k, bool dept)
{
    json_t *o = json_pack ("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                           "cases", (json_int_t) k->cases, "open", (json_int_t) k->open,
                           "late", (json_int_t) k->late, "overdue_open", (json_int_t) k->overdue_open,
                           "resolved", (json_int_t) k->resolved, "rated", (json_int_t) k->rated,
                           "satisfied", (json_int_t) k->satisfied, "returned", (json_int_t) k->returned,
                           "resolved_once", (json_int_t) k->ever_resolved, "reworked", (json_int_t) k->reworked,
                           "whistled", (json_int_t) k->whistled, "escalated", (json_int_t) k->escalated,
                           "assigned", (json_int_t) k->assigned, "response_due", (json_int_t) k->response_due,
                           "responded_in_time", (json_int_t) k->responded);
    json_object_set_new (o, "mean_score", k->rated ? json_real (round ((double) k->score_total / (double) k->rated * 100.0) / 100.0)
                                                   : json_null ());
    json_object_set_new (o, "response_rate", s_rate ((double) k->responded, (double) k->response_due));
    json_object_set_new (o, "satisfaction_rate", s_rate ((double) k->satisfied, (double) k->rated));
    json_object_set_new (o, "rework_rate", s_rate ((double) k->reworked, (double) k->ever_resolved));
    json_object_set_new (o, "mean_ack_s", s_mean (k->ack_s, k->ack_n));
    json_object_set_new (o, "mean_resolve_s", s_mean (k->resolve_s, k->resolve_n));
    if (dept) {
        json_object_set_new (o, "kept", json_integer (k->kept));
        json_object_set_new (o, "resolved_on_time", json_integer (k->closed_on_time));
        json_object_set_new (o, "on_time_rate", s_rate ((double) k->closed_on_time, (double) (k->resolved + k->overdue_open)));
        json_object_set_new (o, "resolution_rate", s_rate ((double) k->resolved, (double) k->kept));
        json_object_set_new (o, "return_rate", s_rate ((double) k->returned, (double) k->assigned));
        json_object_set_new (o, "whistle_rate", s_rate ((double) k->whistled, (double) k->assigned));
        return o;
    }
    json_object_set_new (o, "valid", json_integer (k->valid));
    json_object_set_new (o, "dispatched", json_integer (k->dispatched));
    json_object_set_new (o, "closed", json_integer (k->closed));
    json_object_set_new (o, "closed_on_time", json_integer (k->closed_on_time));
    json_object_set_new (o, "on_time_rate", s_rate ((double) k->closed_on_time, (double) (k->closed + k->overdue_open)));
    json_object_set_new (o, "resolution_rate", s_rate ((double) (k->resolved + k->closed), (double) k->valid));
    json_object_set_new (o, "return_rate", s_rate ((double) k->returned, (double) k->dispatched));
    json_object_set_new (o, "whistle_rate", s_rate ((double) k->whistled, (double) k->valid));
    json_t *states = json_object ();
    for (int s = 0; s < YX_MS_COUNT; s++)
        json_object_set_new (states, yx_mstate_name (s), json_integer (k->by_state[s]));
    json_object_set_new (o, "by_state", states);
    return o;
}

/* One row of a grouped result. */
typedef struct {
    const char *key;     /* area code or department id ("" = not located) */
    const char *name;    /* display name */
    const char *level;   /* district | street | community | a department level */
    yx_card_t card;      /* its counts */
} s_group_t;

/* Orders groups by key for bsearch. */
static int
s_by_key (const void *a, const void *b)
{
    return strcmp (((const s_group_t *) a)->key, ((const s_group_t *) b)->key);
}

/* True when two area codes lie on one branch of the tree (one is a prefix of the
 * other), so a group of one level intersects a scope of another. */
static bool
s_related (const char *a, const char *b)
{
    if (strcmp (a, "city") == 0 || strcmp (b, "city") == 0 || strcmp (a, "*") == 0)
        return true;
    size_t la = strlen (a), lb = strlen (b);
    return strncmp (a, b, la < lb ? la : lb) == 0;
}

/* Builds the group table for q->group_by. Returns how many (0 for no grouping) with
 * *out allocated (caller frees), or -1 when out of memory. */
static int
s_groups (const yx_mirror_t *m, const yx_stats_query_t *q, s_group_t **out)
{
    const yx_config_t *cfg = m->cfg;
    *out = NULL;
    bool dept = strcmp (q->group_by, "department") == 0;
    int level = strcmp (q->group_by, "district") == 0 ? YX_AREA_DISTRICT
                : strcmp (q->group_by, "street") == 0 ? YX_AREA_STREET
                : strcmp (q->group_by, "community") == 0 ? YX_AREA_COMMUNITY : -1;
    if (!dept && level < 0)
        return 0;
    s_group_t *g = calloc ((size_t) (dept ? cfg->ndepts : cfg->nareas) + 1, sizeof *g);
    if (!g)
        return -1;
    int n = 0;
    if (dept)
        for (int i = 0; i < cfg->ndepts; i++)
            g[n++] = (s_group_t) { cfg->depts[i].id, cfg->depts[i].name, cfg->depts[i].level, { 0 } };
    else {
        const char *inside = *q->area ? q->area : q->scope;
        for (int i = 0; i < cfg->nareas; i++)
            if ((int) cfg->areas[i].level == level && s_related (cfg->areas[i].code, inside))
                g[n++] = (s_group_t) { cfg->areas[i].code, cfg->areas[i].name, q->group_by, { 0 } };
        g[n++] = (s_group_t) { "", "未定位", q->group_by, { 0 } };
    }
    qsort (g, (size_t) n, sizeof *g, s_by_key);
    *out = g;
    return n;
}

/* The group of an area card for a case, or NULL. */
static s_group_t *
s_area_group (s_group_t *g, int n, const yx_stats_query_t *q, const yx_mirror_t *m, const yx_mcase_t *c)
{
    const char *key = strcmp (q->group_by, "district") == 0 ? m->districts[(int) c->district]
                      : strcmp (q->group_by, "street") == 0 ? c->street : c->community;
    s_group_t probe = { key, NULL, NULL, { 0 } };
    return bsearch (&probe, g, (size_t) n, sizeof *g, s_by_key);
}

/* RFC 3339 or null for an open end. */
static json_t *
s_time (int64_t ms, int offset_min)
{
    char buf[40];
    return ms ? json_string (yx_time_format (ms, offset_min, buf, sizeof buf)) : json_null ();
}

json_t *
yx_stats_compute (const yx_mirror_t *m, const yx_stats_query_t *q, int64_t now)
{
    s_group_t *g;
    int ng = s_groups (m, q, &g);
    if (ng < 0)
        return NULL;
    bool dept = strcmp (q->group_by, "department") == 0;
    yx_card_t total = { 0 };
    for (size_t i = 0; i < m->ncases; i++) {
        const yx_mcase_t *c = m->cases[i];
        const char *district = m->districts[(int) c->district];
        if (c->state < 0 || c->dead || !yx_mcase_in_scope (c, district, q->scope)
            || (*q->area && !yx_mcase_in_scope (c, district, q->area)))
            continue;
        bool in_range = (!q->since || c->created_ms >= q->since) && (!q->until || c->created_ms < q->until);
        if (in_range) {
            yx_card_add_case (&total, c, now);
            s_group_t *grp = !dept && ng ? s_area_group (g, ng, q, m, c) : NULL;
            if (grp)
                yx_card_add_case (&grp->card, c, now);
        }
        for (int j = 0; dept && j < c->nasg; j++) {
            const yx_masg_t *a = &c->asg[j];
            if ((q->since && a->assigned_ms < q->since) || (q->until && a->assigned_ms >= q->until))
                continue;
            s_group_t probe = { a->dept, NULL, NULL, { 0 } };
            s_group_t *grp = bsearch (&probe, g, (size_t) ng, sizeof *g, s_by_key);
            if (grp)
                yx_card_add_asg (&grp->card, c, a, now);
        }
    }
    int off = m->cfg->utc_offset_min;
    json_t *groups = json_array ();
    for (int i = 0; i < ng; i++) {
        if ((dept || !*g[i].key) && g[i].card.cases == 0)
            continue;   /* idle departments and an empty "not located" row are noise */
        json_t *row = yx_card_json (&g[i].card, dept);
        json_object_set_new (row, "key", json_string (g[i].key));
        json_object_set_new (row, "name", json_string (g[i].name));
        json_object_set_new (row, "level", json_string (g[i].level));
        json_array_append_new (groups, row);
    }
    free (g);
    return json_pack ("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "scope", q->scope,
                      "area", *q->area ? json_string (q->area) : json_null (), "since", s_time (q->since, off),
                      "until", s_time (q->until, off), "generated_at", s_time (now, off),
                      "group_by", *q->group_by ? json_string (q->group_by) : json_null (),
                      "totals", yx_card_json (&total, false), "groups", groups);
}
