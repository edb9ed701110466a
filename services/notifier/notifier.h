/* notifier.h — the notifier: case events to people and systems (docs/notifier.md).
 *
 *   rules.c   the notify section of the configuration: channels per department and
 *             per source, message templates; who gets what for an event
 *   render.c  what is sent: JSON bodies, Chinese messages, signatures, delivery ids
 *   ledger.c  delivery state in Redis: plan, outcome, dead letters, redelivery
 *   pool.c    concurrent HTTP deliveries over libcurl's multi interface
 *   engine.c  the work: events in, deliveries out, outcomes recorded
 *   main.c    sockets and the loop
 *
 * Every recipient of an event is one delivery, named "<channel>:<target>" (e.g.
 * webhook:gl-cgj). Its state lives in the hash yx:{D}:dlv:<event id>; the event
 * leaves yx:{D}:q:notify only when every delivery is delivered or dead-lettered. */
#ifndef YX_NOTIFIER_H
#define YX_NOTIFIER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

#include "yixian/v1/bus.pb-c.h"

typedef Yixian__V1__CaseEvent yx_event_t;

/* ---- event types and channels ------------------------------------------------ */

#define YX_NT_NTYPES 19          /* the 18 known event types and "any other" */
#define YX_NT_ALL_TYPES 0x7ffffu /* mask with every type */
#define YX_NT_MAX_RCPT 64        /* recipients of one event at most */
#define YX_NT_MAX_TO 16          /* gateway addresses of one department at most */

typedef enum {
    YX_NT_FEED = 0,     /* ZeroMQ inbox feed, topic dept.<id> */
    YX_NT_WEBHOOK,      /* the department's signed webhook */
    YX_NT_GATEWAY,      /* SMS/e-mail gateway message to the department */
    YX_NT_CALLBACK,     /* the reporter's source (e.g. the 12345 hotline) */
    YX_NT_NCHANNELS
} yx_nt_channel_t;

/* Index of an event type name in 0..17, 18 for any other non-empty name, -1 for "". */
int yx_nt_type_index (const char *type);
/* Name of a type index (0..17), "OTHER" for 18. */
const char *yx_nt_type_name (int index);
/* Name of a channel: feed, webhook, gateway, callback. */
const char *yx_nt_channel_name (yx_nt_channel_t channel);

/* ---- rules.c ------------------------------------------------------------------ */

/* Channels of one department (defaults, then its override in notify.departments). */
typedef struct {
    const char *id;                   /* department id (points into the config) */
    char webhook[256];                /* webhook URL, "" for none */
    char secret[128];                 /* HMAC key for its webhook and gateway messages */
    uint32_t feed_events;             /* event types published on its feed topic */
    uint32_t webhook_events;          /* event types POSTed to its webhook */
    uint32_t gateway_events;          /* event types sent through the SMS/e-mail gateway */
    char *to[YX_NT_MAX_TO];           /* gateway addresses (duty phone, mailbox), owned */
    int nto;                          /* entries in to */
} yx_nt_dept_t;

/* The reporter-side channel of one source. */
typedef struct {
    char source[16];                  /* hotline, app, wechat, grid, open311, video, other */
    char url[256];                    /* callback URL, "" for none */
    char secret[128];                 /* HMAC key for its callbacks */
    uint32_t events;                  /* event types it receives */
} yx_nt_source_t;

typedef struct {
    const yx_config_t *cfg;           /* the service configuration (not owned) */
    yx_nt_dept_t *depts;              /* one per cfg->depts entry, same order */
    int ndepts;                       /* entries in depts */
    yx_nt_dept_t unknown;             /* channels of a department not in the config */
    yx_nt_source_t *sources;          /* per-source callbacks */
    int nsources;                     /* entries in sources */
    char gateway_url[256];            /* SMS/e-mail gateway endpoint, "" for none */
    char gateway_secret[128];         /* HMAC key for the gateway */
    char *templates[YX_NT_NTYPES];    /* gateway message per event type, owned, or NULL */
    int64_t keep_ms;                  /* delivered events are kept this long */
} yx_nt_rules_t;

/* One recipient of one event. */
typedef struct {
    yx_nt_channel_t channel;          /* how it is reached */
    char name[80];                    /* "<channel>:<target>": field in the delivery hash */
    char target[YX_ID_MAX];           /* department id or source */
    const char *url;                  /* endpoint, NULL for the feed */
    const char *secret;               /* HMAC key, NULL for the feed */
    const yx_nt_dept_t *dept;         /* the department's channels (NULL for callbacks) */
} yx_nt_rcpt_t;

/* Reads the notify section from path (the main file; @include resolves against
 * cfg->dir) and checks it against cfg. NULL with "FILE:LINE: KEY: what" in err. */
yx_nt_rules_t *yx_nt_rules_load (const yx_config_t *cfg, const char *path, char *err, size_t errlen);
void yx_nt_rules_destroy (yx_nt_rules_t **self_p);

/* Fills out with the recipients of ev (at most max), in a stable order. Departments
 * with ids unfit for a topic or key are skipped. Returns how many. */
int yx_nt_recipients (const yx_nt_rules_t *self, const yx_event_t *ev, yx_nt_rcpt_t *out, int max);

/* True when id is 1..47 characters of [A-Za-z0-9._-]. */
bool yx_nt_id_ok (const char *id);

/* ---- render.c ----------------------------------------------------------------- */

/* Stable delivery id of one recipient of one event: 32 hex characters. */
char *yx_nt_delivery_id (const char *event_id, const char *recipient, char out[33]);

/* "sha256=" + hex HMAC-SHA256(secret, timestamp "." body). out needs 72 bytes. */
char *yx_nt_sign (const char *secret, const char *timestamp, const char *body, size_t len, char out[72]);

/* The event as a JSON object (times as RFC 3339 at offset_min). New reference. */
json_t *yx_nt_event_json (const yx_event_t *ev, int offset_min);

/* Values a message template may use as {name}. */
typedef struct {
    const char *case_id;              /* case id */
    const char *type;                 /* event type */
    const char *state;                /* case state after the event */
    const char *department;           /* department id */
    const char *department_name;      /* its display name */
    const char *category;             /* subcategory code */
    const char *category_name;        /* its name */
    const char *district;             /* district code */
    const char *district_name;        /* its name */
    const char *at;                   /* event time, local, e.g. 11月23日08:00 */
    const char *ack_due;              /* the department's acknowledge-by, local */
    const char *resolve_due;          /* its resolve-by, local */
    const char *note;                 /* the event's note */
} yx_nt_vars_t;

/* Checks that every {name} in tpl is known and braces balance. 0, or -1 with the
 * problem in why. */
int yx_nt_template_check (const char *tpl, char *why, size_t n);
/* Renders tpl with vars into out (NULL values render as ""). 0/-1 (too long). */
int yx_nt_template_render (const char *tpl, const yx_nt_vars_t *vars, char *out, size_t n);

/* Local time for messages: "11月23日08:00" at offset_min. "" for ms <= 0. */
char *yx_nt_local_time (int64_t ms, int offset_min, char *buf, size_t n);

/* Endpoint of a URL ("scheme://host:port", lower case), for caps and logs. */
char *yx_nt_endpoint (const char *url, char *out, size_t n);

/* ---- compose.c ---------------------------------------------------------------- */

/* The body for recipient r of ev (not the feed): webhook and callback get the event
 * as JSON plus delivery_id, recipient and channel (callbacks also the case's
 * source_ref); the gateway gets the rendered Chinese message and addresses. doc
 * is the case document (may be NULL: deadlines and source_ref are left out).
 * Returns a malloc'ed string (*len set), NULL when the message cannot be built. */
char *yx_nt_compose (const yx_nt_rules_t *rules, const yx_event_t *ev, const yx_nt_rcpt_t *r,
                     const json_t *doc, size_t *len);

/* Dead-letter JSON for a delivery that gave up (reason, attempts, payload). */
typedef struct yx_nt_job yx_nt_job_t;
char *yx_nt_dead_record (const yx_nt_job_t *job, const char *reason, int64_t now, int offset_min);

/* Dead-letter JSON for an event that cannot be read: reason and the first bytes. */
char *yx_nt_garbage_record (const char *event_id, const char *reason, const char *bytes, size_t len,
                            int64_t now, int offset_min);

/* ---- ledger.c ----------------------------------------------------------------- */

typedef struct yx_nt_ledger yx_nt_ledger_t;

/* The deliveries of one event to be planned: recipients in, attempt numbers out
 * (0 = nothing to do now: delivered, dead, deferred or waiting for its retry time). */
typedef struct {
    const char *event_id;             /* event id */
    const yx_nt_rcpt_t *rcpt;         /* recipients */
    int nrcpt;                        /* entries in rcpt */
    const int64_t *defer_to;          /* per recipient: 0 to claim it if due, else when to
                                         look again instead (its endpoint is saturated) */
    int *attempts;                    /* out: attempt number per recipient */
} yx_nt_plan_t;

typedef enum {
    YX_NT_OK = 0,      /* delivered */
    YX_NT_RETRY,       /* failed: try again at next_at */
    YX_NT_DEAD,        /* failed for good: dead letter */
    YX_NT_DEFER        /* not attempted (endpoint saturated): try at next_at, not counted */
} yx_nt_result_t;

/* The outcome of one delivery attempt, waiting to be recorded. */
typedef struct {
    char district[8];                 /* district of the event */
    char event_id[40];                /* event id */
    char rcpt[80];                    /* recipient name */
    char delivery_id[33];             /* its delivery id */
    yx_nt_channel_t channel;          /* its channel */
    yx_nt_result_t result;            /* what happened */
    int64_t next_at;                  /* RETRY/DEFER: when to try again (Unix ms) */
    char error[128];                  /* RETRY/DEAD: why */
    char *record;                     /* DEAD: dead-letter JSON (owned) */
} yx_nt_outcome_t;

yx_nt_ledger_t *yx_nt_ledger_new (yx_store_t *store, int64_t keep_ms);
void yx_nt_ledger_destroy (yx_nt_ledger_t **self_p);

/* Fetches the stored envelopes of events: bytes[i]/lens[i] are malloc'ed copies
 * (NULL when the key is missing). 0, or -1 when Redis is unreachable. */
int yx_nt_ledger_fetch (yx_nt_ledger_t *self, const char *district, const char *const *event_ids, int n,
                        char **bytes, size_t *lens);

/* Claims the due deliveries of n events of one district in one script: each due
 * one gets its attempt counted and a lease (retry at lease_until if nothing is
 * recorded before), or, when deferred, a new time and no attempt. Events with
 * nothing left open leave q:notify. 0/-1. */
int yx_nt_ledger_plan (yx_nt_ledger_t *self, const char *district, yx_nt_plan_t *plans, int n,
                       int64_t now, int64_t lease_until);

/* Records n outcomes (all of one district) in one script; idempotent. 0, or -1
 * when Redis is unreachable (nothing was recorded: keep them and try again). */
int yx_nt_ledger_done (yx_nt_ledger_t *self, const char *district, const yx_nt_outcome_t *out, int n,
                       int64_t now);

/* Dead-letters an event that cannot be delivered at all (missing or undecodable):
 * takes it out of q:notify and retry_member (NULL: none) out of q:retry. 0/-1. */
int yx_nt_ledger_drop (yx_nt_ledger_t *self, const char *district, const char *event_id,
                       const char *retry_member, const char *record, int64_t now);

/* Applies operators' requests queued in yx:{D}:deadletters:requests ("redeliver ID",
 * "redeliver *", "discard ID"). Returns how many were applied, -1 if Redis is down. */
int yx_nt_ledger_requests (yx_nt_ledger_t *self, const char *district, int64_t now);

/* Takes a member out of q:notify without a trace (a member that is no event id). */
void yx_nt_ledger_forget (yx_nt_ledger_t *self, const char *district, const char *queue, const char *member);

/* ---- pool.c ------------------------------------------------------------------- */

typedef struct yx_nt_pool yx_nt_pool_t;

/* One HTTP delivery attempt. */
struct yx_nt_job {
    char district[8];                 /* district of the event */
    char event_id[40];                /* event id */
    char case_id[32];                 /* case id, for logs */
    char type[24];                    /* event type: X-Yixian-Event */
    char rcpt[80];                    /* recipient name */
    char key[128];                    /* "<event id>/<recipient>": retry member, dead-letter id */
    char delivery_id[33];             /* X-Yixian-Delivery */
    yx_nt_channel_t channel;          /* channel */
    int attempt;                      /* attempt number, 1-based */
    char url[256];                    /* endpoint URL */
    const char *secret;               /* HMAC key (owned by the rules) */
    char *body;                       /* JSON body (owned) */
    size_t body_len;                  /* its length */
    long status;                      /* HTTP status of the answer, 0 for none */
    char error[128];                  /* why the attempt failed, "" on success */
    int64_t elapsed_ms;               /* duration of the request */
    bool unsent;                      /* never sent: waited longer than a timeout for its endpoint */
    /* pool bookkeeping */
    void *easy;                       /* curl easy handle while running */
    struct curl_slist *headers;       /* request headers while running */
    int64_t started_ms;               /* monotonic start (of waiting, then of the request) */
    void *ep;                         /* endpoint it counts against */
    yx_nt_job_t *next;                /* endpoint queue or finished list */
    yx_nt_job_t *hnext;               /* hash chain of live jobs */
};

yx_nt_job_t *yx_nt_job_new (void);
void yx_nt_job_destroy (yx_nt_job_t **self_p);

/* A pool running at most max_inflight requests, per_endpoint to one endpoint, and
 * queueing at most queue_per_endpoint more per endpoint; each request gives up
 * after timeout_ms, and a job that waited that long for its endpoint comes back
 * unsent. */
yx_nt_pool_t *yx_nt_pool_new (int max_inflight, int per_endpoint, int queue_per_endpoint, int timeout_ms);
void yx_nt_pool_destroy (yx_nt_pool_t **self_p);

/* Starts or queues job (the pool owns it then): 0. -1 when its endpoint's queue is
 * full; the caller keeps the job. */
int yx_nt_pool_submit (yx_nt_pool_t *self, yx_nt_job_t *job);
/* How many more jobs the endpoint of url would take now. */
int yx_nt_pool_room (yx_nt_pool_t *self, const char *url);
/* True while a job with this key is queued or running. */
bool yx_nt_pool_has (const yx_nt_pool_t *self, const char *key);
/* Jobs queued or running. */
int yx_nt_pool_size (const yx_nt_pool_t *self);
/* Writes the pool's sockets into items (for zmq_poll); returns how many. */
int yx_nt_pool_pollitems (yx_nt_pool_t *self, void *items, int max);
/* Milliseconds until the pool needs a call to perform even without I/O; -1 none. */
long yx_nt_pool_timeout (const yx_nt_pool_t *self);
/* Drives transfers after zmq_poll returned on items (n of them). */
void yx_nt_pool_perform (yx_nt_pool_t *self, const void *items, int n);
/* Next finished job (caller owns it), or NULL. */
yx_nt_job_t *yx_nt_pool_finished (yx_nt_pool_t *self);

/* ---- engine.c ----------------------------------------------------------------- */

typedef struct yx_notifier yx_notifier_t;

/* The engine over a store and an inbox-feed PUB socket (neither owned). */
yx_notifier_t *yx_notifier_new (const yx_config_t *cfg, const yx_nt_rules_t *rules, yx_store_t *store,
                                void *feed);
void yx_notifier_destroy (yx_notifier_t **self_p);

/* Fast path: n events that arrived on the bus. Takes the envelopes. */
void yx_notifier_events (yx_notifier_t *self, Yixian__V1__Envelope **envs, int n);
/* Sweeps q:notify (members due before due_ms) and q:retry (due now), applies
 * operator requests. 0 when q:notify gave all it had due, 1 when more is waiting
 * (sweep again soon), -1 when Redis is unreachable. */
int yx_notifier_sweep (yx_notifier_t *self, int64_t due_ms);
/* Re-drives due retries only (cheap; run often). 0, 1 or -1 as yx_notifier_sweep. */
int yx_notifier_retries (yx_notifier_t *self);
/* I/O: sockets and timeout for zmq_poll, then driving them. */
yx_nt_pool_t *yx_notifier_pool (yx_notifier_t *self);
/* Records finished deliveries and outcomes waiting in the outbox. */
void yx_notifier_settle (yx_notifier_t *self);
/* True when the engine can take more events now. */
bool yx_notifier_has_room (const yx_notifier_t *self);

#endif
