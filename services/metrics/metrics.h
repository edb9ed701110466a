/* metrics.h — the metrics service: a mirror of the case store, scorecards, the
 * Prometheus exposition, the dashboard's data and its web page.
 *
 * The mirror holds one compact summary per case (no personal data), kept in step
 * with Redis by version: every sync asks Redis, district by district, which cases
 * changed since the versions the mirror holds and re-reads only those. Gauges and
 * latency histograms are adjusted as summaries change, so /metrics does not walk
 * the cases; scorecards are recomputed from the summaries for each requested range,
 * so they survive a restart and never count a case twice. */
#ifndef YX_METRICS_H
#define YX_METRICS_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "config.h"
#include "http.h"
#include "store.h"

#define YX_MX_MAX_DISTRICTS 64   /* districts the mirror follows */
#define YX_MX_STAGES 3           /* report→dispatch, dispatch→accept, accept→resolve */
#define YX_MX_BUCKETS 12         /* histogram bounds (the +Inf bucket is extra) */
#define YX_MX_VERSION "0.1.0"    /* reported in yixian_build_info */

/* Case states, in the order of the API. */
typedef enum {
    YX_MS_REPORTED = 0, YX_MS_REGISTERED, YX_MS_DISPATCHED, YX_MS_ACCEPTED, YX_MS_RESOLVED,
    YX_MS_VERIFIED, YX_MS_CLOSED, YX_MS_REJECTED, YX_MS_MERGED, YX_MS_RETURNED,
    YX_MS_SUSPENDED, YX_MS_REOPENED, YX_MS_COUNT
} yx_mstate_t;

/* Assignment states. */
typedef enum {
    YX_AS_PENDING = 0, YX_AS_ACCEPTED, YX_AS_RESOLVED, YX_AS_RETURNED, YX_AS_CANCELLED,
    YX_AS_OTHER
} yx_astate_t;

/* One assignment of a case, as the scorecards need it. */
typedef struct {
    char dept[YX_ID_MAX];    /* department id */
    int8_t state;            /* yx_astate_t */
    int8_t level;            /* escalation level, 0..3 */
    bool lead;               /* role lead (otherwise assisting) */
    bool ack_overdue;        /* flagged by the ack timer: not acknowledged in time */
    bool overdue;            /* flagged by the resolve timer: not resolved in time */
    bool whistled;           /* the department was called by a whistle */
    int64_t assigned_ms;     /* when it was (last) assigned */
    int64_t ack_due_ms;      /* acknowledge-by */
    int64_t resolve_due_ms;  /* resolve-by */
    int64_t accepted_ms;     /* when it was accepted, 0 if never */
    int64_t resolved_ms;     /* when it was last resolved, 0 if never */
} yx_masg_t;

/* The summary of one case. */
typedef struct {
    char id[32];             /* case id */
    char street[10];         /* 9-digit street code or "" */
    char community[13];      /* 12-digit community code or "" */
    char grid[16];           /* 15-digit grid code or "" */
    char category[8];        /* subcategory code or "" */
    long long version;       /* version the summary was read at; 0 = not loaded yet */
    int8_t state;            /* yx_mstate_t, -1 before the first load */
    int8_t district;         /* index into the mirror's districts */
    int16_t cat;             /* index into cfg->cats, cfg->ncats when none or unknown */
    int8_t satisfied;        /* rating: -1 none, 0 not satisfied, 1 satisfied */
    int8_t score;            /* rating score 1..5, 0 when unrated */
    bool closed_on_time;     /* set at closing */
    bool triage;             /* waiting for an operator's decision */
    bool has_point;          /* lat/lon are known */
    bool dead;               /* gone from Redis: dropped at the end of the sync */
    int rework;              /* failed verifications */
    double lat, lon;         /* WGS84 position when has_point */
    int64_t created_ms;      /* reported */
    int64_t dispatched_ms;   /* first dispatched, 0 if never */
    int64_t resolved_ms;     /* last became RESOLVED, 0 if never */
    int64_t closed_ms;       /* closed, 0 if not */
    uint32_t seen;           /* sync pass that last saw it in the index */
    yx_masg_t *asg;          /* assignments (owned) */
    int nasg;                /* entries in asg */
} yx_mcase_t;

/* mcase.c — summaries */
/* The API name of a yx_mstate_t ("UNKNOWN" out of range). */
const char *yx_mstate_name (int state);
/* State name → yx_mstate_t, -1 when unknown. */
int yx_mstate_parse (const char *name);
/* Parses a stored document into a summary. district is the index to record. 0, or -1
 * when the document is not a JSON object (out is then cleared). */
int yx_mcase_parse (const yx_config_t *cfg, const char *id, int district, const char *state,
                    long long version, const char *doc, size_t len, yx_mcase_t *out);
/* Frees a summary's assignments. */
void yx_mcase_clear (yx_mcase_t *c);
/* In a terminal state: CLOSED, REJECTED or MERGED. */
bool yx_mcase_terminal (const yx_mcase_t *c);
/* Still being worked on: not terminal and not SUSPENDED. */
bool yx_mcase_open (const yx_mcase_t *c);
/* The assignment is live (PENDING or ACCEPTED). */
bool yx_masg_live (const yx_masg_t *a);
/* Live and past its resolve-by (or flagged overdue). */
bool yx_masg_late_resolve (const yx_masg_t *a, int64_t now);
/* Live and past a deadline: resolve-by, or acknowledge-by while PENDING. */
bool yx_masg_late (const yx_masg_t *a, int64_t now);
/* Response outcome: 1 acknowledged in time, 0 late, -1 not decided yet. */
int yx_masg_response (const yx_masg_t *a, int64_t now);
/* Earliest acceptance by a lead department, 0 if none. */
int64_t yx_mcase_first_accept (const yx_mcase_t *c);
/* True when the case is open and one of its live assignments is late. */
bool yx_mcase_late (const yx_mcase_t *c, int64_t now);
/* Highest escalation level of its live assignments. */
int yx_mcase_level (const yx_mcase_t *c);
/* True when an operator scope ("city", "*", or an area code) covers the case. */
bool yx_mcase_in_scope (const yx_mcase_t *c, const char *district, const char *scope);

/* mirror.c — the mirror and its sync */
typedef struct {
    const yx_config_t *cfg;                 /* areas and taxonomy */
    pthread_rwlock_t lock;                  /* readers: requests; writer: the sync */
    yx_mcase_t **cases;                     /* every mirrored case */
    size_t ncases;                          /* entries in cases */
    size_t cap;                             /* allocated entries */
    uint32_t *slots;                        /* id hash index: position + 1, 0 = free */
    size_t nslots;                          /* slots (a power of two) */
    int ndistricts;                         /* districts followed */
    char districts[YX_MX_MAX_DISTRICTS][8]; /* their codes, in config order */
    int64_t max_score[YX_MX_MAX_DISTRICTS]; /* newest index score seen per district */
    long *by_state_cat;                     /* [district][state][cat 0..ncats] case counts */
    long hist[YX_MX_MAX_DISTRICTS][YX_MX_STAGES][YX_MX_BUCKETS + 1]; /* per-bucket observations */
    double hist_sum[YX_MX_MAX_DISTRICTS][YX_MX_STAGES];  /* sums of observed seconds */
    uint32_t pass;                          /* sync passes so far */
    bool warm;                              /* a complete pass has succeeded */
    bool ok;                                /* the last pass succeeded */
    int64_t synced_mono;                    /* monotonic ms of the last good pass */
    double last_sync_s;                     /* duration of the last good pass */
    long sync_errors;                       /* failed passes since start */
    char sha[41];                           /* SHA1 of the version-check script */
} yx_mirror_t;

extern const double yx_mx_bounds[YX_MX_BUCKETS];   /* histogram bounds in seconds */
extern const char *const yx_mx_stage_names[YX_MX_STAGES];

/* Sets up an empty mirror of the configured districts. 0, or -1 when out of memory. */
int yx_mirror_init (yx_mirror_t *m, const yx_config_t *cfg);
/* Frees every summary and the index. */
void yx_mirror_destroy (yx_mirror_t *m);
/* One sync pass over every district. 0, or -1 when Redis failed (the mirror keeps
 * what it had and ok turns false). */
int yx_mirror_sync (yx_mirror_t *m, yx_store_t *store);
/* Inserts or replaces a summary (steals c's contents), adjusting the aggregates.
 * The caller holds the write lock. */
void yx_mirror_put (yx_mirror_t *m, yx_mcase_t *c);
/* The summary of a case id or NULL. */
yx_mcase_t *yx_mirror_get (const yx_mirror_t *m, const char *id);
/* Index of a district code, -1 if not followed. */
int yx_mirror_district (const yx_mirror_t *m, const char *code);

/* score.c — scorecards */
typedef struct {
    long cases;             /* cases in the cohort (area cards) */
    long by_state[YX_MS_COUNT]; /* of which in each state */
    long valid;             /* cases less REJECTED and MERGED */
    long open;              /* open cases (not terminal, not suspended) */
    long late;              /* open cases past an acknowledge-by or resolve-by */
    long overdue_open;      /* open cases (assignments) past the resolve-by */
    long resolved;          /* cases RESOLVED or VERIFIED (assignments RESOLVED) */
    long closed;            /* cases CLOSED */
    long closed_on_time;    /* of which closed on time (assignments resolved by resolve-by) */
    long rated;             /* rated cases */
    long satisfied;         /* of which satisfied */
    long score_total;       /* sum of scores */
    long dispatched;        /* cases dispatched at least once */
    long returned;          /* cases with a returned assignment (returned assignments) */
    long ever_resolved;     /* cases (assignments) resolved at least once */
    long reworked;          /* of which sent back by a failed verification */
    long whistled;          /* cases (assignments) called by a whistle */
    long escalated;         /* cases (assignments) escalated at least one rung */
    long assigned;          /* assignments */
    long kept;              /* assignments not returned or cancelled */
    long response_due;      /* assignments whose acknowledgement is decided */
    long responded;         /* of which acknowledged in time */
    long ack_n;             /* accepted assignments */
    double ack_s;           /* their total seconds to accept */
    long resolve_n;         /* resolutions timed */
    double resolve_s;       /* their total seconds */
} yx_card_t;

/* Adds a case to an area card. */
void yx_card_add_case (yx_card_t *card, const yx_mcase_t *c, int64_t now);
/* Adds one assignment of a case to a department card. */
void yx_card_add_asg (yx_card_t *card, const yx_mcase_t *c, const yx_masg_t *a, int64_t now);
/* The card as JSON: counts, rates (null when the denominator is 0), mean times. */
json_t *yx_card_json (const yx_card_t *card, bool dept);

/* The query of a statistics request. */
typedef struct {
    char scope[YX_ID_MAX];   /* the caller's scope ("city" for city operators and admins) */
    char area[YX_ID_MAX];    /* narrowing area code, "" for the whole scope */
    int64_t since;           /* cohort start (ms), 0 = open */
    int64_t until;           /* cohort end (ms, exclusive), 0 = open */
    char group_by[12];       /* district | street | community | department | "" */
} yx_stats_query_t;

/* Computes GET /v1/stats from the mirror (caller holds the read lock). */
json_t *yx_stats_compute (const yx_mirror_t *m, const yx_stats_query_t *q, int64_t now);

/* prom.c — the Prometheus exposition */
typedef struct {
    char *data;              /* text so far, NUL-terminated */
    size_t len;              /* its length */
    size_t cap;              /* allocated bytes */
    bool failed;             /* an allocation failed: the text is incomplete */
} yx_mbuf_t;

/* Appends formatted text, growing the buffer; after a failed allocation it sets
 * failed and appends nothing more. */
void yx_mbuf_printf (yx_mbuf_t *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* The families computed from the mirror (caller holds the read lock). */
void yx_prom_mirror (yx_mbuf_t *b, const yx_mirror_t *m, int64_t now);
/* The families read live from Redis (stats hashes, queues). -1 if Redis failed. */
int yx_prom_live (yx_mbuf_t *b, const yx_mirror_t *m, yx_store_t *store);

/* The running service: what request handlers share. */
typedef struct {
    const yx_config_t *cfg;  /* configuration */
    yx_mirror_t *mirror;     /* the case mirror */
    int64_t started_ms;      /* wall-clock start, for the exposition */
    json_t *grids;           /* grid polygons (GeoJSON FeatureCollection) */
    json_t *streets;         /* street outlines (GeoJSON FeatureCollection) */
} yx_metrics_t;

/* api.c — the request handler (arg: the yx_metrics_t) for yx_http_start */
void yx_metrics_http (yx_http_req_t *req, yx_http_resp_t *resp, void *arg);
/* Closes every request thread's Redis connection and drops cached answers; call
 * after the HTTP server stopped. */
void yx_metrics_stores_close (void);

/* dash.c — GET /v1/dashboard (caller holds the read lock); NULL when out of memory */
json_t *yx_dash_compute (const yx_metrics_t *mx, const char *scope, int64_t since, int64_t until,
                         int64_t now);

/* web.c — the page and the map geometry */
/* Serves /, /app.js, /style.css. 0 when the path is one of them, -1 otherwise. */
int yx_web_asset (const char *url, yx_http_resp_t *resp);
/* Loads the GeoJSON files named by the config. 0, or -1 (logged) with
 * "geo: cannot read FILE" in err. */
int yx_web_load_geo (yx_metrics_t *mx, char *err, size_t errlen);
/* GET /v1/geo/grids or /v1/geo/streets cut to a scope (a new reference). */
json_t *yx_web_geo (const yx_metrics_t *mx, const char *which, const char *scope);

#endif
