/* health.c — a one-thread HTTP endpoint answering /healthz and /readyz. */
#include "health.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "service.h"
#include "store.h"

struct yx_health {
    yx_http_t *http;            /* the server */
    yx_store_t *store;          /* its own Redis connection (one HTTP thread) */
    pthread_mutex_t lock;       /* guards store */
    char service[32];           /* name reported in the body */
};

/* Request handler. */
static void
s_handle (yx_http_req_t *req, yx_http_resp_t *resp, void *arg)
{
    yx_health_t *self = arg;
    if (strcmp (req->url, "/healthz") == 0) {
        yx_http_json (resp, 200, yx_service_health (self->service));
        return;
    }
    if (strcmp (req->url, "/readyz") == 0) {
        pthread_mutex_lock (&self->lock);
        bool ok = yx_store_ping (self->store);
        pthread_mutex_unlock (&self->lock);
        yx_http_json (resp, ok ? 200 : 503, json_pack ("{s:s, s:s, s:b}", "status", ok ? "ready" : "unavailable",
                                                       "service", self->service, "redis", ok));
        return;
    }
    yx_http_error (resp, 404, "not_found", "only /healthz and /readyz here", NULL);
}

yx_health_t *
yx_health_start (const yx_config_t *cfg, const char *bind, int port, const char *service)
{
    if (port == 0)
        return NULL;
    yx_health_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    strncpy (self->service, service, sizeof self->service - 1);
    self->store = yx_store_new (cfg->redis_host, cfg->redis_port, cfg->redis_password, cfg->redis_timeout_ms);
    self->http = yx_http_start (bind, port, 1, 1024, s_handle, self);
    if (!self->http) {
        yx_store_destroy (&self->store);
        free (self);
        return NULL;
    }
    return self;
}

void
yx_health_stop (yx_health_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yx_http_stop (&(*self_p)->http);
    yx_store_destroy (&(*self_p)->store);
    pthread_mutex_destroy (&(*self_p)->lock);
    free (*self_p);
    *self_p = NULL;
}
