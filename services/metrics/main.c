/* yx-metrics — Prometheus exposition, statistics, scorecards and the dashboard.
 *
 * HTTP requests run on libmicrohttpd's thread pool, each thread with its own Redis
 * connection (api.c). The main thread keeps the case mirror in step with Redis, one
 * sync pass every S_SYNC_MS, until SIGTERM. */
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "service.h"
#include "util.h"

#define S_SYNC_MS 1000       /* time between sync passes */
#define S_HTTP_THREADS 4     /* request threads */
#define S_MAX_BODY 4096      /* the service takes no bodies; anything larger is 413 */

/* Reload check: the map geometry of the new configuration loads. */
static int
s_check (const yx_config_t *cfg, char *err, size_t errlen)
{
    yx_metrics_t mx = { .cfg = cfg };
    int rc = yx_web_load_geo (&mx, err, errlen);
    json_decref (mx.grids);
    json_decref (mx.streets);
    return rc;
}

int
main (int argc, char **argv)
{
    int code;
    yx_service_set_check (s_check);
    yx_config_t *cfg = yx_service_start ("metrics", argc, argv, &code);
    if (!cfg)
        return code;
    yx_mirror_t mirror;
    if (yx_mirror_init (&mirror, cfg)) {
        yx_config_destroy (&cfg);
        return yx_service_end (1);
    }
    yx_metrics_t mx = { cfg, &mirror, yx_now_ms (), NULL, NULL };
    char err[600];
    if (yx_web_load_geo (&mx, err, sizeof err)) {
        fprintf (stderr, "metrics: config error: %s\n", err);
        json_decref (mx.grids);
        yx_mirror_destroy (&mirror);
        yx_config_destroy (&cfg);
        return yx_service_end (2);
    }
    yx_store_t *store = yx_store_new (cfg->redis_host, cfg->redis_port, cfg->redis_password, cfg->redis_timeout_ms);
    yx_http_t *http = store ? yx_http_start (cfg->metrics_bind, cfg->metrics_port, S_HTTP_THREADS, S_MAX_BODY,
                                             yx_metrics_http, &mx)
                            : NULL;
    int rc = http ? 0 : 1;
    if (http)
        yx_info ("started", "http=%s:%d districts=%d", cfg->metrics_bind, cfg->metrics_port, mirror.ndistricts);
    while (http && !yx_stopping) {
        int64_t next = yx_mono_ms () + S_SYNC_MS;
        yx_mirror_sync (&mirror, store);
        while (!yx_stopping && yx_mono_ms () < next)
            nanosleep (&(struct timespec) { 0, 50 * 1000 * 1000 }, NULL);
    }
    yx_http_stop (&http);
    yx_metrics_stores_close ();
    yx_store_destroy (&store);
    json_decref (mx.grids);
    json_decref (mx.streets);
    yx_mirror_destroy (&mirror);
    yx_config_destroy (&cfg);
    if (rc == 0)
        yx_info ("stopped", NULL);
    return yx_service_end (rc);
}
