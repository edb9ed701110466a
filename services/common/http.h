/* http.h — a small layer over libmicrohttpd shared by intake and metrics: request
 * bodies with a size cap, JSON responses, API-style errors, header and query access. */
#ifndef YX_HTTP_H
#define YX_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct MHD_Connection;

typedef struct {
    const char *method;            /* GET, POST … */
    const char *url;               /* path without the query */
    struct MHD_Connection *conn;   /* for header and query lookups */
    char *body;                    /* request body, NUL-terminated (NULL if none) */
    size_t body_len;               /* its length */
    bool too_large;                /* the body went over the limit */
} yx_http_req_t;

typedef struct {
    int status;                    /* HTTP status */
    char *body;                    /* response body (owned) */
    size_t len;                    /* its length */
    const char *content_type;      /* defaults to application/json */
    char location[160];            /* Location header, "" for none */
    int retry_after;               /* Retry-After seconds, 0 for none */
    const char *cache_control;     /* Cache-Control header or NULL */
} yx_http_resp_t;

typedef void (*yx_http_handler_t) (yx_http_req_t *req, yx_http_resp_t *resp, void *arg);

typedef struct yx_http yx_http_t;

/* Starts a server on bind:port with a pool of threads; the handler runs on pool
 * threads (one request at a time per thread). NULL on failure (logged). */
yx_http_t *yx_http_start (const char *bind, int port, int threads, size_t max_body,
                          yx_http_handler_t handler, void *arg);
void yx_http_stop (yx_http_t **self_p);

/* Response helpers: JSON (steals the reference), an API error, plain text. */
void yx_http_json (yx_http_resp_t *resp, int status, json_t *body);
void yx_http_error (yx_http_resp_t *resp, int status, const char *code, const char *message,
                    const char *field);
void yx_http_text (yx_http_resp_t *resp, int status, const char *content_type, const char *text,
                   size_t len);

/* Reads the paging parameter `limit` (1..max, def when absent) into *out. 0, or -1
 * with a 422 naming the field already in resp. */
int yx_http_query_limit (const yx_http_req_t *req, int def, int max, int *out, yx_http_resp_t *resp);

/* The client's address as 16 bytes (IPv4 as ::ffff:a.b.c.d). When the peer is
 * trusted_proxy (16 bytes as yx_ip_parse gives them; NULL for none) and the request carries
 * X-Forwarded-For, its right-most entry names the client instead (the one the proxy
 * appended; anything to its left is the client's own claim). 0, or -1 when unknown. */
int yx_http_client_addr (const yx_http_req_t *req, const uint8_t *trusted_proxy, uint8_t out[16]);

const char *yx_http_header (const yx_http_req_t *req, const char *name);
const char *yx_http_query (const yx_http_req_t *req, const char *name);

#endif
