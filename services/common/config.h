/* config.h — the one configuration file and everything it describes.
 *
 * Scalar settings come from a table (name, type, bounds, default) in config.c; the
 * structured parts (areas, departments, taxonomy, responsibility list, API keys,
 * calendar) are parsed into the arrays below. Every problem is reported as
 * "FILE:LINE: KEY: what is wrong" and the load fails; nothing is half-loaded. */
#ifndef YX_CONFIG_H
#define YX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "workcal.h"

#define YX_ID_MAX 48    /* department id, key name, source … */
#define YX_NAME_MAX 128 /* UTF-8 display names */

typedef enum { YX_AREA_DISTRICT = 0, YX_AREA_STREET, YX_AREA_COMMUNITY } yx_area_level_t;

typedef struct {
    char code[16];            /* 6-, 9- or 12-digit code */
    char name[YX_NAME_MAX];   /* official name */
    char parent[16];          /* parent area code ("" for a district) */
    yx_area_level_t level;    /* district, street or community */
    int grids;                /* number of grids (communities only) */
} yx_area_t;

typedef struct {
    char id[YX_ID_MAX];          /* stable id, e.g. fz-water, st-350102001 */
    char name[YX_NAME_MAX];      /* display name */
    char level[12];              /* city | district | street | utility | command | leader */
    char district[8];            /* district code, "" for city-level bodies */
    char street[10];             /* street code for street-level bodies */
    char supervisor[YX_ID_MAX];  /* the department one rung up, "" at the top */
    char webhook[256];           /* URL events are POSTed to, "" for none */
} yx_dept_t;

typedef struct {
    char code[8];                /* subcategory code, e.g. 0102 */
    char name[YX_NAME_MAX];      /* e.g. 污水井盖 */
    char class_name[48];         /* e.g. 公用设施 */
    char kind[12];               /* component | event | hotline */
    char **keywords;             /* keyword rules, UTF-8 */
    int nkeywords;               /* entries in keywords */
    yx_duration_t ack_limit;     /* time to acknowledge */
    yx_duration_t resolve_limit; /* time to resolve */
    bool emergency;              /* wall clock instead of working time */
    char priority[8];            /* low | normal | high | urgent */
    int dup_radius_m;            /* duplicates within this distance merge (0 = never) */
    int64_t dup_window_ms;       /* … when the open case is younger than this */
} yx_category_t;

typedef enum { YX_RESP_OWNER = 0, YX_RESP_LOCALITY } yx_resp_mode_t;

typedef struct {
    char category[8];            /* subcategory code */
    char area[16];               /* "*" or a district/street/community code */
    yx_resp_mode_t mode;         /* owner-first or locality-first */
    char **lead;                 /* lead department ids in order of preference */
    int nlead;                   /* entries in lead */
    char **assist;               /* assisting department ids */
    int nassist;                 /* entries in assist */
} yx_resp_rule_t;

typedef struct {
    unsigned char sha256[32];    /* SHA-256 of the key; the key itself is never stored */
    char name[YX_ID_MAX];        /* key name for logs and timelines */
    char role[12];               /* reporter | operator | department | admin */
    char scope[YX_ID_MAX];       /* source, area code, department id */
    int rate_per_s;              /* requests per second allowed (-1: intake.rate_per_s, 0: unlimited) */
    int burst;                   /* bucket size (-1: intake.rate_burst) */
} yx_apikey_t;

typedef struct {
    char label[48];              /* text model label, e.g. 城乡建设 */
    char category[8];            /* default subcategory for it */
} yx_topic_t;

#define YX_LADDER_MAX 6

typedef struct {
    char district[8];                    /* district code or "*" */
    char rungs[YX_LADDER_MAX][YX_ID_MAX];/* above the department: supervisor | command | leader | a department id */
    int nrungs;                          /* entries in rungs */
    int64_t timeout_ms[YX_LADDER_MAX];   /* time on each rung before the next (0: dispatcher.rung_timeout_ms) */
} yx_ladder_t;

typedef struct yx_config yx_config_t;
struct yx_config {
    char path[512];              /* main file as given */
    char dir[512];               /* its folder; relative paths resolve here */
    /* scalar settings: see the table in config.c */
    char redis_host[128];        /* redis.host */
    int redis_port;              /* redis.port */
    char redis_password[128];    /* redis.password */
    int redis_timeout_ms;        /* redis.timeout_ms */
    char log_level[8];           /* log.level */
    char intake_bind[64];        /* intake.http_bind */
    int intake_port;             /* intake.http_port */
    int intake_threads;          /* intake.http_threads */
    int intake_max_body;         /* intake.max_body */
    int intake_action_timeout_ms;/* intake.action_timeout_ms */
    int rate_per_s;              /* intake.rate_per_s: default per-key request rate (0 = unlimited) */
    int rate_burst;              /* intake.rate_burst: default per-key burst */
    int public_rate_per_s;       /* intake.public_rate_per_s: keyless reads per client address (0 = unlimited) */
    int public_rate_burst;       /* intake.public_rate_burst: their burst */
    char trusted_proxy[64];      /* intake.trusted_proxy: reverse proxy whose X-Forwarded-For is believed */
    char intake_zmq[128];        /* intake.zmq_bind: native ROUTER intake */
    char classifier_bind[128];   /* classifier.bind: PULL for CaseReported */
    char classifier_model[256];  /* classifier.model: text model file */
    double classifier_min_conf;  /* classifier.min_confidence */
    int dup_radius_m;            /* classifier.duplicate_radius_m: default for subcategories */
    int dup_window_h;            /* classifier.duplicate_window_h: default for subcategories */
    char dispatcher_bind[128];   /* dispatcher.bind: PULL for CaseClassified */
    char dispatcher_actions[128];/* dispatcher.actions_bind: ROUTER for actions */
    char dispatcher_events[128]; /* dispatcher.events_bind: PUB of CaseEvent */
    int dispatcher_timer_batch;  /* dispatcher.timer_batch */
    int rung_timeout_ms;         /* dispatcher.rung_timeout_ms: time on each escalation rung */
    int remind_interval_ms;      /* dispatcher.remind_interval_ms: reminders while overdue */
    int reopen_on_unsatisfied;   /* dispatcher.reopen_on_unsatisfied: 1 = a bad rating reopens */
    int whistle_ack_s;           /* dispatcher.whistle_ack_within: default ack time of a whistle */
    char notifier_feed[128];     /* notifier.feed_bind: PUB inbox feed */
    int notifier_timeout_ms;     /* notifier.http_timeout_ms */
    int notifier_max_attempts;   /* notifier.max_attempts */
    int notifier_backoff_ms;     /* notifier.backoff_ms: first retry delay */
    int notifier_backoff_max_ms; /* notifier.backoff_max_ms */
    char notifier_secret[128];   /* notifier.webhook_secret: HMAC key */
    int classifier_health_port;  /* classifier.health_port: /healthz, 0 = off */
    int dispatcher_health_port;  /* dispatcher.health_port */
    int notifier_health_port;    /* notifier.health_port */
    int notifier_max_inflight;   /* notifier.max_inflight: concurrent deliveries */
    int notifier_per_endpoint;   /* notifier.per_endpoint_max: concurrent deliveries per URL */
    char metrics_bind[64];       /* metrics.http_bind */
    int metrics_port;            /* metrics.http_port */
    int sweep_interval_ms;       /* sweep.interval_ms */
    int sweep_stale_ms;          /* sweep.stale_ms */
    char city_code[8];           /* areas.city */
    char triage_district[8];     /* geo.triage_district */
    char geo_streets[512];       /* geo.streets, resolved path */
    char geo_grids[512];         /* geo.grids, resolved path */
    char geo_gazetteer[512];     /* geo.gazetteer, resolved path */
    /* structured parts */
    yx_area_t *areas;            /* districts, streets, communities */
    int nareas;                  /* entries in areas */
    yx_dept_t *depts;            /* departments */
    int ndepts;                  /* entries in depts */
    yx_category_t *cats;         /* taxonomy */
    int ncats;                   /* entries in cats */
    yx_resp_rule_t *rules;       /* responsibility list */
    int nrules;                  /* entries in rules */
    yx_apikey_t *keys;           /* API keys */
    int nkeys;                   /* entries in keys */
    yx_ladder_t *ladders;        /* escalation ladders per district */
    int nladders;                /* entries in ladders */
    yx_topic_t *topics;          /* text model labels → subcategories */
    int ntopics;                 /* entries in topics */
    yx_workcal_t *calendar;      /* working calendar */
    int utc_offset_min;          /* calendar.utc_offset in minutes: times are shown in it */
};

/* Loads and checks the file. overrides: NULL-terminated "key=value" strings applied
 * to scalar settings after the file (command-line -s). NULL with err set on failure. */
yx_config_t *yx_config_load (const char *path, char *const *overrides, char *err, size_t errlen);
void yx_config_destroy (yx_config_t **self_p);

/* Prints the scalar settings table (name, type, bounds, default) to stdout. */
void yx_config_print_help (void);

/* Prints one scalar setting's value on stdout. -1 if there is no such setting. */
int yx_config_print_value (const yx_config_t *self, const char *key);

const yx_dept_t *yx_config_dept (const yx_config_t *self, const char *id);
const yx_category_t *yx_config_category (const yx_config_t *self, const char *code);
/* The escalation ladder of a district (its own, else "*"), or NULL. */
const yx_ladder_t *yx_config_ladder (const yx_config_t *self, const char *district);
const yx_topic_t *yx_config_topic (const yx_config_t *self, const char *label);
const yx_area_t *yx_config_area (const yx_config_t *self, const char *code);
/* District codes in file order: returns how many, *codes points into the areas. */
int yx_config_districts (const yx_config_t *self, const char **codes, int max);

/* Finds the responsibility rule for a category at a location: the most specific area
 * among community, street, district, "*". NULL if none. */
const yx_resp_rule_t *yx_config_rule (const yx_config_t *self, const char *category,
                                       const char *community, const char *street,
                                       const char *district);

/* True when area (a district, street or community code, "city", or "*") contains the
 * location described by the codes. Used for operator scopes. */
bool yx_area_contains (const char *scope, const char *district, const char *street,
                       const char *community);

#endif
