/* yx-intake — every way in: the HTTP API and the native ZeroMQ intake.
 *
 * HTTP requests run on libmicrohttpd's thread pool; each thread owns its Redis
 * connection and bus sockets (yx_intake_conn). The main thread runs the native
 * ROUTER intake until SIGTERM (or a reload, service.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bus.h"
#include "intake.h"
#include "log.h"
#include "native.h"
#include "ratelimit.h"
#include "service.h"
#include "util.h"

/* The city geometry cfg names, gazetteer included. NULL with err. */
static yx_geo_t *
s_geo_load (const yx_config_t *cfg, char *err, size_t errlen)
{
    char why[512];
    yx_geo_t *geo = yx_geo_new (cfg->geo_streets, cfg->geo_grids, why, sizeof why);
    if (geo && *cfg->geo_gazetteer && yx_geo_load_gazetteer (geo, cfg->geo_gazetteer, why, sizeof why))
        yx_geo_destroy (&geo);
    if (!geo)
        snprintf (err, errlen, "geo: %s", why);
    return geo;
}

/* Reload check: the geometry of the new configuration loads. */
static int
s_check (const yx_config_t *cfg, char *err, size_t errlen)
{
    yx_geo_t *geo = s_geo_load (cfg, err, errlen);
    if (!geo)
        return -1;
    yx_geo_destroy (&geo);
    return 0;
}

int
main (int argc, char **argv)
{
    int code;
    yx_service_set_check (s_check);
    yx_config_t *cfg = yx_service_start ("intake", argc, argv, &code);
    if (!cfg)
        return code;
    char err[600];
    yx_geo_t *geo = s_geo_load (cfg, err, sizeof err);
    if (!geo) {
        fprintf (stderr, "intake: config error: %s\n", err);
        yx_config_destroy (&cfg);
        return yx_service_end (2);
    }
    yx_intake_t in = { cfg, geo, yx_ratelimit_new (cfg), { 0 }, false };
    in.has_proxy = yx_ip_parse (cfg->trusted_proxy, strlen (cfg->trusted_proxy), in.proxy) == 0;
    yx_http_t *http = yx_http_start (cfg->intake_bind, cfg->intake_port, cfg->intake_threads,
                                     (size_t) cfg->intake_max_body, yx_intake_http, &in);
    if (!http) {
        yx_geo_destroy (&geo);
        yx_ratelimit_destroy (&in.limits);
        yx_config_destroy (&cfg);
        return yx_service_end (1);
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
    return yx_service_end (rc);
}
