/* yxctl.h — the operator's and integrator's command line.
 *   main.c     argument parsing and the command table
 *   client.c   HTTP calls to intake and metrics (libcurl)
 *   feed.c     following the ZeroMQ inbox feed and the event stream
 *   import.c   bulk import (csv.c: the CSV record splitter) */
#ifndef YX_YXCTL_H
#define YX_YXCTL_H

#include <jansson.h>

#include "config.h"

typedef struct {
    const char *url;          /* intake base URL */
    const char *metrics_url;  /* metrics base URL */
    const char *key;          /* API key */
    yx_config_t *cfg;         /* configuration (endpoints, names), may be NULL */
    int json;                 /* print raw JSON instead of tables */
} yxctl_t;

/* Performs an HTTP request; body may be NULL. Returns the status (0 on a transport
 * error, with a message on stderr) and the parsed JSON response in *out. */
int yxctl_http (const yxctl_t *ctl, const char *method, const char *base, const char *path, json_t *body,
                json_t **out);
/* Prints an API error response on stderr and returns the process exit code. */
int yxctl_fail (int status, json_t *resp);

/* Prints each event that arrives on endpoint for topic until interrupted. */
int yxctl_follow (const yxctl_t *ctl, const char *endpoint, const char *topic);

/* Bulk import of hotline tickets from CSV or JSON Lines (import.c). Returns the exit
 * code: 0 all accepted, 1 some lines rejected, 2 bad input, 3 API unavailable. */
int yxctl_import (const yxctl_t *ctl, const char *path, const char *format, const char *source);

#endif
