/* yx-intake — every way in: the HTTP API and the native ZeroMQ intake.
 *
 * HTTP requests run on libmicrohttpd's thread pool; each thread owns its Redis
 * connection and bus sockets (yx_intake_conn). The main thread runs the native
 * ROUTER intake until SIGTERM. */
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

#include "bus.h"
#include "intake.h"
#include "log.h"
#include "native.h"
#include "ratelimit.h"
#include "service.h"

#include <pthread.h>

static __thread yx_intake_conn_t *s_conn;   /* this thread's connections */
static yx_intake_conn_t *s_all[256];        /* every thread's, closed at exit */
static int s_nall;                           /* entries in s_all */
static pthread_mutex_t s_all_lock = PTHREAD_MUTEX_INITIALIZER;

yx_intake_conn_t *
yx_intake_conn (const yx_intake_t *in)
{
    if (s_conn)
        return s_conn;
    s_conn = calloc (1, sizeof *s_conn);
    if (!s_conn)
        abort ();
    const yx_config_t *cfg = in->cfg;
    s_conn->store = yx_store_new (cfg->redis_host, cfg->redis_port, cfg->redis_password, cfg->redis_timeout_ms);
    s_conn->to_classifier = yx_bus_socket (ZMQ_PUSH, cfg->classifier_bind, 0);
    s_conn->to_dispatcher = yx_bus_socket (ZMQ_DEALER, cfg->dispatcher_actions, 0);
    pthread_mutex_lock (&s_all_lock);
    if (s_nall < 256)
        s_all[s_nall++] = s_conn;
    pthread_mutex_unlock (&s_all_lock);
    return s_conn;
}

void
yx_intake_conn_close (void)
{
    pthread_mutex_lock (&s_all_lock);
    for (int i = 0; i < s_nall; i++) {
        yx_store_destroy (&s_all[i]->store);
        if (s_all[i]->to_classifier)
            zmq_close (s_all[i]->to_classifier);
        if (s_all[i]->to_dispatcher)
            zmq_close (s_all[i]->to_dispatcher);
        free (s_all[i]);
    }
    s_nall = 0;
    s_conn = NULL;
    pthread_mutex_unlock (&s_all_lock);
}

int
main (int argc, char **argv)
{
    int code;
    yx_config_t *cfg = yx_service_start ("intake", argc, argv, &code);
    if (!cfg)
        return code;
    char err[512];
    yx_geo_t *geo = yx_geo_new (cfg->geo_streets, cfg->geo_grids, err, sizeof err);
    if (geo && *cfg->geo_gazetteer && yx_geo_load_gazetteer (geo, cfg->geo_gazetteer, err, sizeof err)) {
        yx_geo_destroy (&geo);
    }
    if (!geo) {
        fprintf (stderr, "intake: config error: geo: %s\n", err);
        yx_config_destroy (&cfg);
        return 2;
    }
    yx_intake_t in = { cfg, geo, yx_ratelimit_new (cfg) };
    yx_http_t *http = yx_http_start (cfg->intake_bind, cfg->intake_port, cfg->intake_threads,
                                     (size_t) cfg->intake_max_body, yx_intake_http, &in);
    if (!http) {
        yx_geo_destroy (&geo);
        yx_ratelimit_destroy (&in.limits);
        yx_config_destroy (&cfg);
        return 1;
    }
    yx_info ("started", "http=%s:%d zmq=%s", cfg->intake_bind, cfg->intake_port, cfg->intake_zmq);
    int rc = yx_native_run (&in);
    yx_http_stop (&http);
    yx_intake_conn_close ();
    yx_bus_term ();
    yx_geo_destroy (&geo);
    yx_ratelimit_destroy (&in.limits);
    yx_config_destroy (&cfg);
    yx_info ("stopped", NULL);
    return rc;
}
