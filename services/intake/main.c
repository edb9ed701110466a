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
