/* api.c — the metrics service's HTTP face.
 *
 *   GET /healthz, /readyz          no key
 *   GET /metrics                   no key (scraped): Prometheus text
 *   GET /, /app.js, /style.css     no key: the dashboard page (it asks for a key)
 *   GET /v1/stats                  operator or admin key: scorecards (score.c)
 *   GET /v1/dashboard              operator or admin key: the wall screen's data (dash.c)
 *   GET /v1/geo/grids|streets      operator or admin key: map geometry of the scope
 *
 * Data answers come from the mirror; while it is cold or Redis is away they are 503.
 * Computed answers are kept for S_CACHE_MS per (scope, query), so a wall of screens
 * polling the same view costs one computation. */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "service.h"
#include "util.h"

#define S_CACHE_MS 2000        /* how long a computed answer is reused */
#define S_CACHE_SLOTS 32       /* answers kept */
#define S_STALE_MS 10000       /* a mirror not synced for this long is unavailable */
#define S_MAX_THREADS 64       /* HTTP threads with a Redis connection */

static __thread yx_store_t *s_store;            /* this thread's Redis connection */
static yx_store_t *s_stores[S_MAX_THREADS];     /* every thread's, closed at exit */
static int s_nstores;                           /* entries in s_stores */
static pthread_mutex_t s_stores_lock = PTHREAD_MUTEX_INITIALIZER;

/* One cached answer. */
typedef struct {
    char key[256];     /* endpoint and normalised query */
    char *body;        /* JSON text (owned) */
    size_t len;        /* its length */
    int64_t at;        /* monotonic ms it was computed */
} s_cached_t;

static s_cached_t s_cache[S_CACHE_SLOTS];        /* answers, oldest replaced first */
static pthread_mutex_t s_cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* This thread's Redis connection, made on first use (NULL when out of memory). */
static yx_store_t *
s_conn (const yx_metrics_t *mx)
{
    if (s_store)
        return s_store;
    const yx_config_t *cfg = mx->cfg;
    s_store = yx_store_new (cfg->redis_host, cfg->redis_port, cfg->redis_password, cfg->redis_timeout_ms);
    pthread_mutex_lock (&s_stores_lock);
    if (s_store && s_nstores < S_MAX_THREADS)
        s_stores[s_nstores++] = s_store;
    pthread_mutex_unlock (&s_stores_lock);
    return s_store;
}

void
yx_metrics_stores_close (void)
{
    pthread_mutex_lock (&s_stores_lock);
    for (int i = 0; i < s_nstores; i++)
        yx_store_destroy (&s_stores[i]);
    s_nstores = 0;
    s_store = NULL;
    pthread_mutex_unlock (&s_stores_lock);
    pthread_mutex_lock (&s_cache_lock);
    for (int i = 0; i < S_CACHE_SLOTS; i++) {
        free (s_cache[i].body);
        memset (&s_cache[i], 0, sizeof s_cache[i]);
    }
    pthread_mutex_unlock (&s_cache_lock);
}

/* Answers with a JSON document (takes the reference); reals get 10 digits. */
static void
s_json (yx_http_resp_t *resp, int status, json_t *body)
{
    char *s = body ? json_dumps (body, JSON_COMPACT | JSON_REAL_PRECISION (10)) : NULL;
    json_decref (body);
    if (!s) {
        yx_http_error (resp, 500, "internal", "out of memory", NULL);
        return;
    }
    yx_http_text (resp, status, "application/json; charset=utf-8", s, strlen (s));
    resp->cache_control = "no-store";
    free (s);
}

/* 503: the data is not available now. */
static void
s_unavailable (yx_http_resp_t *resp)
{
    yx_http_error (resp, 503, "unavailable", "the case store is unavailable; try again shortly", NULL);
    resp->retry_after = 1;
}

/* Serves a cached answer for key if there is a fresh one. 0 when served. */
static int
s_cache_get (const char *key, yx_http_resp_t *resp)
{
    int rc = -1;
    int64_t now = yx_mono_ms ();
    pthread_mutex_lock (&s_cache_lock);
    for (int i = 0; i < S_CACHE_SLOTS && rc; i++)
        if (s_cache[i].body && now - s_cache[i].at < S_CACHE_MS && strcmp (s_cache[i].key, key) == 0) {
            yx_http_text (resp, 200, "application/json; charset=utf-8", s_cache[i].body, s_cache[i].len);
            resp->cache_control = "no-store";
            rc = 0;
        }
    pthread_mutex_unlock (&s_cache_lock);
    return rc;
}

/* Answers with body (takes the reference) and keeps its text under key. */
static void
s_cache_put (const char *key, json_t *body, yx_http_resp_t *resp)
{
    char *s = body ? json_dumps (body, JSON_COMPACT | JSON_REAL_PRECISION (10)) : NULL;
    json_decref (body);
    if (!s) {
        yx_http_error (resp, 500, "internal", "out of memory", NULL);
        return;
    }
    size_t len = strlen (s);
    yx_http_text (resp, 200, "application/json; charset=utf-8", s, len);
    resp->cache_control = "no-store";
    pthread_mutex_lock (&s_cache_lock);
    int slot = 0;
    for (int i = 1; i < S_CACHE_SLOTS; i++)
        if (s_cache[i].at < s_cache[slot].at)
            slot = i;
    free (s_cache[slot].body);
    snprintf (s_cache[slot].key, sizeof s_cache[slot].key, "%s", key);
    s_cache[slot].body = s;
    s_cache[slot].len = len;
    s_cache[slot].at = yx_mono_ms ();
    pthread_mutex_unlock (&s_cache_lock);
}

/* True when the mirror is warm and was synced recently. */
static bool
s_fresh (yx_mirror_t *m)
{
    pthread_rwlock_rdlock (&m->lock);
    bool fresh = m->warm && m->ok && yx_mono_ms () - m->synced_mono < S_STALE_MS;
    pthread_rwlock_unlock (&m->lock);
    return fresh;
}

/* Parses since/until (RFC 3339, either may be absent: 0). 0, or -1 with a 422 in resp. */
static int
s_range (const yx_http_req_t *req, int64_t *since, int64_t *until, yx_http_resp_t *resp)
{
    static const char *const names[] = { "since", "until" };
    int64_t *out[] = { since, until };
    for (int i = 0; i < 2; i++) {
        const char *v = yx_http_query (req, names[i]);
        if (v && (yx_time_parse (v, out[i]) || *out[i] <= 0)) {
            yx_http_error (resp, 422, "invalid_time", "expected an RFC 3339 time with offset", names[i]);
            return -1;
        }
    }
    if (*since && *until && *since >= *until) {
        yx_http_error (resp, 422, "invalid_range", "since must be earlier than until", "until");
        return -1;
    }
    return 0;
}

/* The scope for area filters: "city" for admins and "*", else the key's scope. */
static const char *
s_scope (const yx_caller_t *caller)
{
    return caller->role == YX_ROLE_ADMIN || strcmp (caller->key->scope, "*") == 0 ? "city" : caller->key->scope;
}

/* Reads ?area=: a known area inside the caller's scope narrows the view. Copies the
 * effective scope (the area, or the caller's) into out. 0, or -1 with resp set. */
static int
s_area (const yx_metrics_t *mx, const yx_http_req_t *req, const char *scope, char *out, size_t n,
        yx_http_resp_t *resp)
{
    const char *area = yx_http_query (req, "area");
    snprintf (out, n, "%s", scope);
    if (!area)
        return 0;
    const yx_area_t *a = strlen (area) < 16 ? yx_config_area (mx->cfg, area) : NULL;
    if (!a) {
        yx_http_error (resp, 422, "invalid_value", "area must be a district, street or community code", "area");
        return -1;
    }
    char d[8], s[10], c[13];   /* the area's own district, street and community codes */
    snprintf (d, sizeof d, "%.6s", a->code);
    snprintf (s, sizeof s, "%.9s", a->level >= YX_AREA_STREET ? a->code : "");
    snprintf (c, sizeof c, "%.12s", a->level == YX_AREA_COMMUNITY ? a->code : "");
    if (!yx_area_contains (scope, d, s, c)) {
        yx_http_error (resp, 403, "forbidden", "that area is outside this key's scope", "area");
        return -1;
    }
    snprintf (out, n, "%s", a->code);
    return 0;
}

/* GET /v1/stats */
static void
s_stats (const yx_metrics_t *mx, const char *scope, const yx_http_req_t *req, yx_http_resp_t *resp)
{
    yx_stats_query_t q = { 0 };
    snprintf (q.scope, sizeof q.scope, "%s", scope);
    const char *group = yx_http_query (req, "group_by");
    if (group && strcmp (group, "district") && strcmp (group, "street") && strcmp (group, "community")
        && strcmp (group, "department")) {
        yx_http_error (resp, 422, "invalid_value", "group_by must be district, street, community or department", "group_by");
        return;
    }
    snprintf (q.group_by, sizeof q.group_by, "%s", group ? group : "");
    char effective[YX_ID_MAX];
    if (s_range (req, &q.since, &q.until, resp)
        || s_area (mx, req, scope, effective, sizeof effective, resp))
        return;
    if (strcmp (effective, scope))
        snprintf (q.area, sizeof q.area, "%s", effective);
    char key[256];
    snprintf (key, sizeof key, "stats|%s|%s|%lld|%lld|%s", q.scope, q.area, (long long) q.since,
              (long long) q.until, q.group_by);
    if (s_cache_get (key, resp) == 0)
        return;
    pthread_rwlock_rdlock (&mx->mirror->lock);
    json_t *out = yx_stats_compute (mx->mirror, &q, yx_now_ms ());
    pthread_rwlock_unlock (&mx->mirror->lock);
    s_cache_put (key, out, resp);
}

/* GET /v1/dashboard */
static void
s_dashboard (const yx_metrics_t *mx, const char *scope, const yx_http_req_t *req, yx_http_resp_t *resp)
{
    int64_t since = 0, until = 0, now = yx_now_ms ();
    char effective[YX_ID_MAX];
    if (s_range (req, &since, &until, resp) || s_area (mx, req, scope, effective, sizeof effective, resp))
        return;
    if (!since) {   /* the last 30 local days, today included */
        int64_t off = (int64_t) mx->cfg->utc_offset_min * 60000, day = 86400000;
        since = (now + off) / day * day - off - 29 * day;
    }
    char key[256];
    snprintf (key, sizeof key, "dash|%s|%lld|%lld", effective, (long long) since, (long long) until);
    if (s_cache_get (key, resp) == 0)
        return;
    pthread_rwlock_rdlock (&mx->mirror->lock);
    json_t *out = yx_dash_compute (mx, effective, since, until, now);
    pthread_rwlock_unlock (&mx->mirror->lock);
    s_cache_put (key, out, resp);
}

/* GET /metrics */
static void
s_metrics (const yx_metrics_t *mx, yx_http_resp_t *resp)
{
    yx_mbuf_t b = { 0 };
    yx_mirror_t *m = mx->mirror;
    bool redis = s_conn (mx) && yx_prom_live (&b, m, s_conn (mx)) == 0;
    if (!redis) {   /* nothing half-written from Redis: only what this process knows */
        free (b.data);
        memset (&b, 0, sizeof b);
    }
    pthread_rwlock_rdlock (&m->lock);
    bool mirror = m->warm && m->ok;
    if (redis && mirror)
        yx_prom_mirror (&b, m, yx_now_ms ());
    pthread_rwlock_unlock (&m->lock);
    yx_mbuf_printf (&b, "# HELP yixian_up The metrics service is running.\n# TYPE yixian_up gauge\nyixian_up 1\n");
    yx_mbuf_printf (&b, "# HELP yixian_redis_up Redis answered this scrape and the mirror is in step.\n"
                        "# TYPE yixian_redis_up gauge\nyixian_redis_up %d\n", redis && mirror);
    yx_mbuf_printf (&b, "# HELP yixian_build_info Build of the metrics service.\n# TYPE yixian_build_info gauge\n"
                        "yixian_build_info{service=\"metrics\",version=\"%s\"} 1\n", YX_MX_VERSION);
    yx_mbuf_printf (&b, "# HELP yixian_process_start_time_seconds Start time of the process since the Unix epoch.\n"
                        "# TYPE yixian_process_start_time_seconds gauge\nyixian_process_start_time_seconds %.3f\n",
                    (double) mx->started_ms / 1000.0);
    if (b.failed || !b.data)
        yx_http_error (resp, 500, "internal", "out of memory", NULL);
    else
        yx_http_text (resp, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    resp->cache_control = "no-store";
    free (b.data);
}

/* GET /healthz and /readyz */
static void
s_health (const yx_metrics_t *mx, const char *url, yx_http_resp_t *resp)
{
    if (strcmp (url, "/healthz") == 0) {
        s_json (resp, 200, yx_service_health ("metrics"));
        return;
    }
    bool redis = s_conn (mx) && yx_store_ping (s_conn (mx));
    bool mirror = s_fresh (mx->mirror);
    s_json (resp, redis && mirror ? 200 : 503, json_pack ("{s:s, s:s, s:b, s:b}", "status", redis && mirror ? "ready" : "unavailable",
                                                          "service", "metrics", "redis", redis, "mirror", mirror));
}

void
yx_metrics_http (yx_http_req_t *req, yx_http_resp_t *resp, void *arg)
{
    const yx_metrics_t *mx = arg;
    const char *url = req->url;
    if (strcmp (req->method, "GET") && strcmp (req->method, "HEAD")) {
        yx_http_error (resp, 405, "method_not_allowed", "use GET", NULL);
        return;
    }
    if (strcmp (url, "/healthz") == 0 || strcmp (url, "/readyz") == 0) {
        s_health (mx, url, resp);
        return;
    }
    if (strcmp (url, "/metrics") == 0) {
        s_metrics (mx, resp);
        return;
    }
    if (yx_web_asset (url, resp) == 0)
        return;
    if (strncmp (url, "/v1/", 4)) {
        yx_http_error (resp, 404, "not_found", "no such resource", NULL);
        return;
    }
    yx_caller_t caller;
    if (yx_auth_bearer (mx->cfg, yx_http_header (req, "Authorization"), &caller)) {
        yx_http_error (resp, 401, "unauthorized", "a valid API key is required (Authorization: Bearer KEY)", NULL);
        return;
    }
    if (caller.role != YX_ROLE_OPERATOR && caller.role != YX_ROLE_ADMIN) {
        yx_http_error (resp, 403, "forbidden", "statistics are for operator and admin keys", NULL);
        return;
    }
    const char *scope = s_scope (&caller);
    if (strcmp (url, "/v1/geo/grids") == 0 || strcmp (url, "/v1/geo/streets") == 0) {
        s_json (resp, 200, yx_web_geo (mx, url + 8, scope));
        resp->cache_control = "private, max-age=3600";
        return;
    }
    bool stats = strcmp (url, "/v1/stats") == 0, dash = strcmp (url, "/v1/dashboard") == 0;
    if (!stats && !dash) {
        yx_http_error (resp, 404, "not_found", "no such resource", NULL);
        return;
    }
    if (!s_fresh (mx->mirror) || !s_conn (mx) || !yx_store_ping (s_conn (mx))) {
        s_unavailable (resp);   /* numbers that may be stale are not served as current */
        return;
    }
    if (stats)
        s_stats (mx, scope, req, resp);
    else
        s_dashboard (mx, scope, req, resp);
}
