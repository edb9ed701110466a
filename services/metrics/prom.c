/* prom.c — GET /metrics: the Prometheus text exposition (format 0.0.4).
 *
 * Families from the mirror (cases by district/state/category, open overdue cases,
 * stage-latency histograms) cost no Redis call; families from Redis are a handful
 * of reads per district (the stats hash, queue and board sizes). Every family has
 * HELP and TYPE, counters end in _total, times are in seconds, and label values
 * from Redis are escaped, so `promtool check metrics` accepts the page. */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"

void
yx_mbuf_printf (yx_mbuf_t *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start (ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf (b->data ? b->data + b->len : NULL, room, fmt, ap);
        va_end (ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t) n < room) {
            b->len += (size_t) n;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len <= (size_t) n)
            cap *= 2;
        char *nd = realloc (b->data, cap);
        if (!nd) {
            b->failed = true;
            return;
        }
        b->data = nd;
        b->cap = cap;
    }
}

/* HELP and TYPE lines of a family. */
static void
s_family (yx_mbuf_t *b, const char *name, const char *type, const char *help)
{
    yx_mbuf_printf (b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
yx_prom_mirror (yx_mbuf_t *b, const yx_mirror_t *m, int64_t now)
{
    const yx_config_t *cfg = m->cfg;
    int ncat = cfg->ncats + 1;
    s_family (b, "yixian_cases", "gauge", "Cases by district, current state and subcategory (none: not classified).");
    for (int d = 0; d < m->ndistricts; d++)
        for (int s = 0; s < YX_MS_COUNT; s++)
            for (int c = 0; c < ncat; c++) {
                long v = m->by_state_cat[((size_t) d * YX_MS_COUNT + (size_t) s) * (size_t) ncat + (size_t) c];
                if (v)
                    yx_mbuf_printf (b, "yixian_cases{district=\"%s\",state=\"%s\",category=\"%s\"} %ld\n",
                                    m->districts[d], yx_mstate_name (s), c < cfg->ncats ? cfg->cats[c].code : "none", v);
            }
    long late[YX_MX_MAX_DISTRICTS] = { 0 }, open[YX_MX_MAX_DISTRICTS] = { 0 };
    long level[YX_MX_MAX_DISTRICTS][4] = { { 0 } };
    for (size_t i = 0; i < m->ncases; i++) {
        const yx_mcase_t *c = m->cases[i];
        if (c->dead || !yx_mcase_open (c))
            continue;
        open[(int) c->district]++;
        late[(int) c->district] += yx_mcase_late (c, now);
        level[(int) c->district][yx_mcase_level (c)]++;
    }
    s_family (b, "yixian_cases_open", "gauge", "Open cases (not closed, rejected, merged or suspended).");
    for (int d = 0; d < m->ndistricts; d++)
        yx_mbuf_printf (b, "yixian_cases_open{district=\"%s\"} %ld\n", m->districts[d], open[d]);
    s_family (b, "yixian_cases_overdue", "gauge", "Open cases past an acknowledge-by or resolve-by deadline.");
    for (int d = 0; d < m->ndistricts; d++)
        yx_mbuf_printf (b, "yixian_cases_overdue{district=\"%s\"} %ld\n", m->districts[d], late[d]);
    s_family (b, "yixian_cases_escalation_level", "gauge", "Open cases by the highest escalation rung of their live assignments.");
    for (int d = 0; d < m->ndistricts; d++)
        for (int l = 0; l < 4; l++)
            yx_mbuf_printf (b, "yixian_cases_escalation_level{district=\"%s\",level=\"%d\"} %ld\n", m->districts[d], l, level[d][l]);
    s_family (b, "yixian_stage_duration_seconds", "histogram",
              "Time between stages of a case: report to dispatch, dispatch to the lead's acceptance, acceptance to resolution.");
    for (int d = 0; d < m->ndistricts; d++)
        for (int s = 0; s < YX_MX_STAGES; s++) {
            long cum = 0;
            for (int k = 0; k <= YX_MX_BUCKETS; k++) {
                cum += m->hist[d][s][k];
                if (k < YX_MX_BUCKETS)
                    yx_mbuf_printf (b, "yixian_stage_duration_seconds_bucket{district=\"%s\",stage=\"%s\",le=\"%g\"} %ld\n",
                                    m->districts[d], yx_mx_stage_names[s], yx_mx_bounds[k], cum);
                else
                    yx_mbuf_printf (b, "yixian_stage_duration_seconds_bucket{district=\"%s\",stage=\"%s\",le=\"+Inf\"} %ld\n",
                                    m->districts[d], yx_mx_stage_names[s], cum);
            }
            double sum = m->hist_sum[d][s] < 0 ? 0 : m->hist_sum[d][s];
            yx_mbuf_printf (b, "yixian_stage_duration_seconds_sum{district=\"%s\",stage=\"%s\"} %.3f\n",
                            m->districts[d], yx_mx_stage_names[s], sum);
            yx_mbuf_printf (b, "yixian_stage_duration_seconds_count{district=\"%s\",stage=\"%s\"} %ld\n",
                            m->districts[d], yx_mx_stage_names[s], cum);
        }
    s_family (b, "yixian_metrics_cases_mirrored", "gauge", "Case summaries held by the metrics service.");
    yx_mbuf_printf (b, "yixian_metrics_cases_mirrored %zu\n", m->ncases);
    s_family (b, "yixian_metrics_sync_seconds", "gauge", "Duration of the last successful sync with Redis.");
    yx_mbuf_printf (b, "yixian_metrics_sync_seconds %.6f\n", m->last_sync_s);
    s_family (b, "yixian_metrics_sync_errors_total", "counter", "Sync passes that failed because Redis did not answer.");
    yx_mbuf_printf (b, "yixian_metrics_sync_errors_total %ld\n", m->sync_errors);
}

/* Cumulative counters of yx:{D}:stats with families of their own: field, metric
 * name, help. The other plain fields go to yixian_events_total{event}. */
static const char *const s_named[][3] = {
    { "reported", "yixian_cases_reported_total", "Cases reported." },
    { "escalations", "yixian_escalations_total", "Escalations up one rung of the ladder." },
    { "reminders", "yixian_reminders_total", "Reminders (督办) sent while a case was overdue." },
    { "deliveries_ok", "yixian_deliveries_ok_total", "Notifications delivered." },
    { "deliveries_failed", "yixian_deliveries_failed_total", "Notification delivery attempts that failed." },
    { "deadletters", "yixian_deadletters_total", "Notifications given up and kept as dead letters." },
    { "score_total", "yixian_rating_score_total", "Sum of the reporters' scores (1-5)." },
};
#define S_NNAMED (int) (sizeof s_named / sizeof s_named[0])

/* Per-department counters kept as dept:<id>:<suffix>. */
static const char *const s_dept_fields[] = { "assigned", "accepted", "accepted_on_time", "returned", "resolved",
                                            "resolved_on_time", "rework", "escalated", "ack_overdue", "overdue",
                                            "reminders" };
#define S_NDEPT (int) (sizeof s_dept_fields / sizeof s_dept_fields[0])

/* True when s[0..n) is a safe name fragment: letters, digits, -, _, . */
static bool
s_token (const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')
              || s[i] == '-' || s[i] == '_' || s[i] == '.'))
            return false;
    return true;
}

/* The i-th field of a stats hash reply: 0 with *f and *v set ("" for an element
 * that is not a string), -1 past the end. */
static int
s_field (const redisReply *r, size_t i, const char **f, long long *v)
{
    if (!r || 2 * i + 1 >= r->elements)
        return -1;
    const redisReply *k = r->element[2 * i], *n = r->element[2 * i + 1];
    bool ok = k->type == REDIS_REPLY_STRING && n->type == REDIS_REPLY_STRING;
    *f = ok ? k->str : "";
    *v = ok ? atoll (n->str) : 0;
    return 0;
}

/* Samples of the named counter field. */
static void
s_named_family (yx_mbuf_t *b, const yx_mirror_t *m, redisReply **stats, const char *field, const char *name)
{
    for (int d = 0; d < m->ndistricts; d++) {
        const char *f;
        long long v;
        for (size_t i = 0; s_field (stats[d], i, &f, &v) == 0; i++)
            if (strcmp (f, field) == 0)
                yx_mbuf_printf (b, "%s{district=\"%s\"} %lld\n", name, m->districts[d], v);
    }
}

/* Samples of yixian_events_total: plain fields that have no family of their own. */
static void
s_events_family (yx_mbuf_t *b, const yx_mirror_t *m, redisReply **stats)
{
    for (int d = 0; d < m->ndistricts; d++) {
        const char *f;
        long long v;
        for (size_t i = 0; s_field (stats[d], i, &f, &v) == 0; i++) {
            bool named = !s_token (f, strlen (f));
            for (int k = 0; k < S_NNAMED && !named; k++)
                named = strcmp (f, s_named[k][0]) == 0;
            if (!named)
                yx_mbuf_printf (b, "yixian_events_total{district=\"%s\",event=\"%s\"} %lld\n", m->districts[d], f, v);
        }
    }
}

/* Samples of fields "<prefix><value>" as {label="value"}. */
static void
s_prefixed_family (yx_mbuf_t *b, const yx_mirror_t *m, redisReply **stats, const char *prefix, const char *label,
                   const char *name)
{
    size_t pl = strlen (prefix);
    for (int d = 0; d < m->ndistricts; d++) {
        const char *f;
        long long v;
        for (size_t i = 0; s_field (stats[d], i, &f, &v) == 0; i++)
            if (strncmp (f, prefix, pl) == 0 && s_token (f + pl, strlen (f + pl)))
                yx_mbuf_printf (b, "%s{district=\"%s\",%s=\"%s\"} %lld\n", name, m->districts[d], label, f + pl, v);
    }
}

/* Samples of fields "dept:<id>:<suffix>" as {department="id"}; ms_to_s scales
 * millisecond totals to seconds. */
static void
s_dept_family (yx_mbuf_t *b, const yx_mirror_t *m, redisReply **stats, const char *suffix, const char *name,
               bool ms_to_s)
{
    for (int d = 0; d < m->ndistricts; d++) {
        const char *f;
        long long v;
        for (size_t i = 0; s_field (stats[d], i, &f, &v) == 0; i++) {
            const char *colon = strrchr (f, ':');
            if (strncmp (f, "dept:", 5) || colon <= f + 5 || strcmp (colon + 1, suffix)
                || !s_token (f + 5, (size_t) (colon - f - 5)))
                continue;
            yx_mbuf_printf (b, "%s{district=\"%s\",department=\"%.*s\"} ", name, m->districts[d],
                            (int) (colon - f - 5), f + 5);
            if (ms_to_s)
                yx_mbuf_printf (b, "%.3f\n", (double) v / 1000.0);
            else
                yx_mbuf_printf (b, "%lld\n", v);
        }
    }
}

/* Size of a Redis key of any collection type; 0 if absent. -1 on failure. */
static long long
s_size (yx_store_t *store, const char *key)
{
    redisReply *t = yx_store_cmd (store, "TYPE %s", key);
    if (!t || t->type != REDIS_REPLY_STATUS) {
        if (t)
            freeReplyObject (t);
        return -1;
    }
    const char *cmd = strcmp (t->str, "zset") == 0 ? "ZCARD" : strcmp (t->str, "list") == 0 ? "LLEN"
                      : strcmp (t->str, "set") == 0 ? "SCARD" : strcmp (t->str, "hash") == 0 ? "HLEN" : NULL;
    freeReplyObject (t);
    if (!cmd)
        return 0;
    redisReply *r = yx_store_cmd (store, "%s %s", cmd, key);
    long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject (r);
    return n;
}

int
yx_prom_live (yx_mbuf_t *b, const yx_mirror_t *m, yx_store_t *store)
{
    static const char *const queues[] = { "classify", "dispatch", "notify", "triage", "retry" };
    long long depth[YX_MX_MAX_DISTRICTS][5], oldest[YX_MX_MAX_DISTRICTS][5], timers[YX_MX_MAX_DISTRICTS],
        board[YX_MX_MAX_DISTRICTS], dead[YX_MX_MAX_DISTRICTS];
    redisReply *stats[YX_MX_MAX_DISTRICTS] = { 0 };
    int rc = 0;
    for (int d = 0; d < m->ndistricts && rc == 0; d++) {
        char k[96];
        for (int q = 0; q < 5 && rc == 0; q++) {
            yx_key (k, sizeof k, m->districts[d], "q:%s", queues[q]);
            redisReply *r = yx_store_cmd (store, "ZRANGE %s 0 0 WITHSCORES", k);
            redisReply *c = r ? yx_store_cmd (store, "ZCARD %s", k) : NULL;
            depth[d][q] = c && c->type == REDIS_REPLY_INTEGER ? c->integer : 0;
            oldest[d][q] = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? atoll (r->element[1]->str) : 0;
            rc = r && c ? 0 : -1;
            if (r)
                freeReplyObject (r);
            if (c)
                freeReplyObject (c);
        }
        if (rc)
            break;   /* Redis is away: no more waiting on timeouts */
        timers[d] = s_size (store, yx_key (k, sizeof k, m->districts[d], YX_K_TIMERS));
        board[d] = timers[d] < 0 ? -1 : s_size (store, yx_key (k, sizeof k, m->districts[d], "board"));
        dead[d] = board[d] < 0 ? -1 : s_size (store, yx_key (k, sizeof k, m->districts[d], "deadletters"));
        stats[d] = dead[d] < 0 ? NULL : yx_store_cmd (store, "HGETALL %s", yx_key (k, sizeof k, m->districts[d], YX_K_STATS));
        if (!stats[d] || stats[d]->type != REDIS_REPLY_ARRAY)
            rc = -1;
    }
    if (rc == 0) {
        int64_t now = 0;
        redisReply *t = yx_store_cmd (store, "TIME");
        if (t && t->type == REDIS_REPLY_ARRAY && t->elements == 2)
            now = atoll (t->element[0]->str) * 1000 + atoll (t->element[1]->str) / 1000;
        if (t)
            freeReplyObject (t);
        s_family (b, "yixian_stage_queue_depth", "gauge", "Entries waiting in a stage queue.");
        for (int d = 0; d < m->ndistricts; d++)
            for (int q = 0; q < 5; q++)
                yx_mbuf_printf (b, "yixian_stage_queue_depth{district=\"%s\",queue=\"%s\"} %lld\n", m->districts[d], queues[q], depth[d][q]);
        s_family (b, "yixian_stage_queue_oldest_seconds", "gauge", "Age of the oldest entry of a stage queue (0 when empty).");
        for (int d = 0; d < m->ndistricts; d++)
            for (int q = 0; q < 5; q++)
                yx_mbuf_printf (b, "yixian_stage_queue_oldest_seconds{district=\"%s\",queue=\"%s\"} %.3f\n", m->districts[d], queues[q],
                                oldest[d][q] && now > oldest[d][q] ? (double) (now - oldest[d][q]) / 1000.0 : 0.0);
        s_family (b, "yixian_timers_pending", "gauge", "Deadline and reminder timers armed.");
        for (int d = 0; d < m->ndistricts; d++)
            yx_mbuf_printf (b, "yixian_timers_pending{district=\"%s\"} %lld\n", m->districts[d], timers[d]);
        s_family (b, "yixian_board_cases", "gauge", "Cases that reached the top escalation rung (the command center's board).");
        for (int d = 0; d < m->ndistricts; d++)
            yx_mbuf_printf (b, "yixian_board_cases{district=\"%s\"} %lld\n", m->districts[d], board[d]);
        s_family (b, "yixian_deadletters", "gauge", "Dead letters kept for inspection.");
        for (int d = 0; d < m->ndistricts; d++)
            yx_mbuf_printf (b, "yixian_deadletters{district=\"%s\"} %lld\n", m->districts[d], dead[d]);
        for (int k = 0; k < S_NNAMED; k++) {
            s_family (b, s_named[k][1], "counter", s_named[k][2]);
            s_named_family (b, m, stats, s_named[k][0], s_named[k][1]);
        }
        s_family (b, "yixian_events_total", "counter", "Other case transitions and outcomes counted by the services, by kind.");
        s_events_family (b, m, stats);
        s_family (b, "yixian_cases_classified_total", "counter", "Cases registered, by how the subcategory was decided.");
        s_prefixed_family (b, m, stats, "classified_by:", "method", "yixian_cases_classified_total");
        s_family (b, "yixian_cases_category_total", "counter", "Cases registered, by subcategory (none: not classified).");
        s_prefixed_family (b, m, stats, "category:", "category", "yixian_cases_category_total");
        for (int k = 0; k < S_NDEPT; k++) {
            char name[96], help[160];
            snprintf (name, sizeof name, "yixian_department_%s_total", s_dept_fields[k]);
            snprintf (help, sizeof help, "Assignments of a department counted as %s.", s_dept_fields[k]);
            s_family (b, name, "counter", help);
            s_dept_family (b, m, stats, s_dept_fields[k], name, false);
        }
        s_family (b, "yixian_department_ack_seconds_total", "counter", "Total time from assignment to acceptance.");
        s_dept_family (b, m, stats, "ack_ms_total", "yixian_department_ack_seconds_total", true);
        s_family (b, "yixian_department_resolve_seconds_total", "counter", "Total time from assignment to resolution.");
        s_dept_family (b, m, stats, "resolve_ms_total", "yixian_department_resolve_seconds_total", true);
    }
    for (int d = 0; d < m->ndistricts; d++)
        if (stats[d])
            freeReplyObject (stats[d]);
    return rc;
}
