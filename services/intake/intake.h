/* intake.h — the intake service's shared state and its parts:
 *   report.c  validating and registering reports (HTTP and native)
 *   api.c     HTTP routing, authentication, reads
 *   actions.c forwarding actions to the dispatcher
 *   native.c  the ZeroMQ ROUTER intake
 *   open311*.c Open311 GeoReport v2 (open311.h)
 *   deadletters.c, ratelimit.c, conn.c, list.c */
#ifndef YX_INTAKE_H
#define YX_INTAKE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "config.h"
#include "geo.h"
#include "http.h"
#include "store.h"

typedef struct yx_ratelimit yx_ratelimit_t;

typedef struct {
    yx_config_t *cfg;           /* configuration (read-only after start) */
    yx_geo_t *geo;              /* city geometry (read-only) */
    yx_ratelimit_t *limits;     /* per-key request rates */
    uint8_t proxy[16];          /* intake.trusted_proxy parsed once */
    bool has_proxy;             /* intake.trusted_proxy is set */
} yx_intake_t;

/* Per-thread connections: each HTTP pool thread and the native loop has its own. */
typedef struct {
    yx_store_t *store;    /* Redis */
    void *to_classifier;  /* PUSH nudges to the classifier */
    void *to_dispatcher;  /* DEALER for actions */
} yx_intake_conn_t;

/* Returns this thread's connections, creating them on first use. */
yx_intake_conn_t *yx_intake_conn (const yx_intake_t *in);
/* Closes every thread's connections; call after the HTTP threads stopped. */
void yx_intake_conn_close (void);

/* A report, whatever it came in as. Strings are borrowed. */
typedef struct {
    const char *source, *source_ref, *title, *description, *category; /* text fields */
    const char *address, *grid, *crs;          /* location by address, grid code, point datum */
    double lat, lon;                           /* point, when has_point */
    bool has_point;                            /* lat/lon were given */
    const char *reporter_name, *reporter_phone;/* optional reporter */
    const char *media[16];                     /* media URLs */
    int nmedia;                                /* entries in media */
    int64_t reported_at_ms;                    /* when the reporter saw it, 0 = now */
} yx_report_in_t;

/* A precise error for the caller. */
typedef struct {
    int status;          /* HTTP status */
    char code[48];       /* snake_case code */
    char message[256];   /* human sentence */
    char field[64];      /* offending field or "" */
} yx_report_err_t;

/* Fills in from a parsed JSON body, checking types. 0/-1 with err. */
int yx_report_from_json (const json_t *body, yx_report_in_t *in, yx_report_err_t *err);
/* Checks values, locates, registers (idempotent by source+source_ref) and nudges the
 * classifier. On success *created tells 201 vs 200 and id holds the case id; the
 * case view (new reference) is returned in *view when view is not NULL. 0/-1. */
int yx_report_submit (const yx_intake_t *in, const yx_caller_t *caller, const yx_report_in_t *r,
                      char id[32], bool *created, json_t **view, yx_report_err_t *err);

/* Parses a JSON object body after the content-type, UTF-8 and syntax checks (415,
 * 400 with a specific code). NULL with resp already set. */
json_t *yx_intake_parse_body (const yx_http_req_t *req, yx_http_resp_t *resp);

/* HTTP entry point. */
void yx_intake_http (yx_http_req_t *req, yx_http_resp_t *resp, void *arg);

/* POST /v1/cases/{id}/actions, after the case was found in scope. */
void yx_intake_action (const yx_intake_t *in, const yx_caller_t *caller, const char *case_id,
                       const yx_http_req_t *req, yx_http_resp_t *resp);

#endif
