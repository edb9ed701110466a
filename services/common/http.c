/* http.c — libmicrohttpd glue: collects bodies up to a cap, runs the handler once per
 * request, queues the response with the headers the handler set. */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "service.h"
#include "util.h"

struct yx_http {
    struct MHD_Daemon *daemon;   /* the server */
    yx_http_handler_t handler;   /* request handler */
    void *arg;                   /* handler argument */
    size_t max_body;             /* largest accepted body */
};

typedef struct {
    char *body;        /* accumulated body */
    size_t len;        /* bytes so far */
    bool too_large;    /* went over max_body; the rest is discarded */
} s_upload_t;

/* MHD access handler: accumulate, then dispatch. */
static enum MHD_Result
s_access (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void) version;
    yx_http_t *self = cls;
    s_upload_t *up = *con_cls;
    if (!up) {
        up = calloc (1, sizeof *up);
        if (!up)
            return MHD_NO;
        *con_cls = up;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!up->too_large && up->len + *upload_size <= self->max_body) {
            char *nb = realloc (up->body, up->len + *upload_size + 1);
            if (!nb)
                return MHD_NO;
            up->body = nb;
            memcpy (up->body + up->len, upload_data, *upload_size);
            up->len += *upload_size;
            up->body[up->len] = 0;
        }
        else
            up->too_large = true;
        *upload_size = 0;
        return MHD_YES;
    }
    yx_http_req_t req = { method, url, conn, up->body, up->len, up->too_large };
    yx_http_resp_t resp = { 0 };
    if (up->too_large)
        yx_http_error (&resp, 413, "body_too_large", "the request body is over the limit", NULL);
    else
        self->handler (&req, &resp, self->arg);
    if (!resp.status)
        yx_http_error (&resp, 500, "internal", "no response", NULL);
    struct MHD_Response *r = MHD_create_response_from_buffer (resp.len, resp.body,
                                                              MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free (resp.body);
        return MHD_NO;
    }
    MHD_add_response_header (r, "Content-Type",
                             resp.content_type ? resp.content_type : "application/json; charset=utf-8");
    if (resp.location[0])
        MHD_add_response_header (r, "Location", resp.location);
    if (resp.retry_after) {
        char ra[16];
        snprintf (ra, sizeof ra, "%d", resp.retry_after);
        MHD_add_response_header (r, "Retry-After", ra);
    }
    if (resp.cache_control)
        MHD_add_response_header (r, "Cache-Control", resp.cache_control);
    enum MHD_Result rc = MHD_queue_response (conn, (unsigned) resp.status, r);
    MHD_destroy_response (r);
    return rc;
}

/* Frees the per-request upload state. */
static void
s_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void) cls, (void) conn, (void) toe;
    s_upload_t *up = *con_cls;
    if (up) {
        free (up->body);
        free (up);
    }
    *con_cls = NULL;
}

yx_http_t *
yx_http_start (const char *bind, int port, int threads, size_t max_body,
               yx_http_handler_t handler, void *arg)
{
    yx_http_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->handler = handler;
    self->arg = arg;
    self->max_body = max_body;
    struct sockaddr_in sa = { 0 };
    sa.sin_family = AF_INET;
    sa.sin_port = htons ((uint16_t) port);
    if (inet_pton (AF_INET, bind, &sa.sin_addr) != 1) {
        yx_error ("http_bad_bind", "bind=%s", bind);
        free (self);
        return NULL;
    }
    /* the socket this process listened on before a reload restart, if it is this one */
    int inherited = yx_service_take_listener ((const struct sockaddr *) &sa, sizeof sa);
    struct MHD_OptionItem opts[6];
    int n = 0;
    if (inherited >= 0)
        opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_LISTEN_SOCKET, inherited, NULL };
    else {
        opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_SOCK_ADDR, 0, &sa };
        opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL };
    }
    opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL };
    opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_CONNECTION_LIMIT, 1000, NULL };
    if (threads > 1)
        opts[n++] = (struct MHD_OptionItem) { MHD_OPTION_THREAD_POOL_SIZE, threads, NULL };
    opts[n] = (struct MHD_OptionItem) { MHD_OPTION_END, 0, NULL };
    self->daemon = MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC
                                     | MHD_USE_ERROR_LOG, (uint16_t) port, NULL, NULL, s_access, self,
                                     MHD_OPTION_ARRAY, opts, MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL,
                                     MHD_OPTION_END);
    if (!self->daemon) {
        if (inherited >= 0)
            close (inherited);
        yx_error ("http_start_failed", "bind=%s port=%d", bind, port);
        free (self);
        return NULL;
    }
    return self;
}

void
yx_http_stop (yx_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    /* restarting for a reload: keep the listening socket open for the next image, so
     * that connections wait in its backlog instead of being refused */
    MHD_socket keep = yx_service_restarting () ? MHD_quiesce_daemon ((*self_p)->daemon) : MHD_INVALID_SOCKET;
    MHD_stop_daemon ((*self_p)->daemon);
    if (keep != MHD_INVALID_SOCKET)
        yx_service_keep_listener (keep);
    free (*self_p);
    *self_p = NULL;
}

void
yx_http_json (yx_http_resp_t *resp, int status, json_t *body)
{
    char *s = json_dumps (body, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (10));
    json_decref (body);
    resp->status = status;
    resp->body = s ? s : strdup ("{}");
    resp->len = strlen (resp->body);
    resp->content_type = NULL;
}

void
yx_http_error (yx_http_resp_t *resp, int status, const char *code, const char *message,
               const char *field)
{
    json_t *e = json_pack ("{s:s, s:s}", "code", code, "message", message);
    if (field)
        json_object_set_new (e, "field", json_string (field));
    yx_http_json (resp, status, json_pack ("{s:o}", "error", e));
}

void
yx_http_text (yx_http_resp_t *resp, int status, const char *content_type, const char *text,
              size_t len)
{
    resp->status = status;
    resp->body = malloc (len + 1);
    if (resp->body) {
        memcpy (resp->body, text, len);
        resp->body[len] = 0;
        resp->len = len;
    }
    resp->content_type = content_type;
}

int
yx_http_query_limit (const yx_http_req_t *req, int def, int max, int *out, yx_http_resp_t *resp)
{
    const char *v = yx_http_query (req, "limit");
    *out = def;
    if (!v)
        return 0;
    char *end;
    long l = strtol (v, &end, 10);
    if (!*v || *end || l < 1 || l > max) {
        char msg[64];
        snprintf (msg, sizeof msg, "limit must be 1..%d", max);
        yx_http_error (resp, 422, "invalid_value", msg, "limit");
        return -1;
    }
    *out = (int) l;
    return 0;
}

const char *
yx_http_header (const yx_http_req_t *req, const char *name)
{
    return MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, name);
}

const char *
yx_http_query (const yx_http_req_t *req, const char *name)
{
    return MHD_lookup_connection_value (req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* The peer's socket address as 16 bytes. 0/-1. */
static int
s_peer_addr (struct MHD_Connection *conn, uint8_t out[16])
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info (conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET) {
        yx_ip_mapped_v4 (&((const struct sockaddr_in *) sa)->sin_addr, out);
        return 0;
    }
    if (sa && sa->sa_family == AF_INET6) {
        memcpy (out, &((const struct sockaddr_in6 *) sa)->sin6_addr, 16);
        return 0;
    }
    return -1;
}

int
yx_http_client_addr (const yx_http_req_t *req, const uint8_t *trusted_proxy, uint8_t out[16])
{
    if (s_peer_addr (req->conn, out))
        return -1;
    if (!trusted_proxy || memcmp (trusted_proxy, out, 16) != 0)
        return 0;
    const char *xff = yx_http_header (req, "X-Forwarded-For");
    if (!xff)
        return 0;
    const char *last = strrchr (xff, ',');
    last = last ? last + 1 : xff;
    uint8_t client[16];
    if (yx_ip_parse (last, strlen (last), client) == 0)
        memcpy (out, client, 16);
    return 0;
}
