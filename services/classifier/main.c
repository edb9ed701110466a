/* yx-classifier — decides what and where, then hands the case to the dispatcher.
 *
 * Work arrives as CaseReported on a PULL socket (fast path) and is swept from
 * yx:{D}:q:classify (the guarantee). Any number of instances may run. */
#include <stdio.h>
#include <zmq.h>

#include "bus.h"
#include "health.h"
#include "case.h"
#include "classifier.h"
#include "log.h"
#include "service.h"
#include "stage.h"
#include "util.h"

/* Stage-sweep adapter. */
static int
s_sweep_one (void *arg, const char *district, const char *member)
{
    (void) district;
    return yx_classifier_register (arg, member);
}

/* The text model cfg names into *model (NULL when none is configured). 0, or -1
 * with err. */
static int
s_model_load (const yx_config_t *cfg, yx_textmodel_t **model, char *err, size_t errlen)
{
    *model = NULL;
    if (!*cfg->classifier_model)
        return 0;
    char path[800], why[512];
    snprintf (path, sizeof path, "%s%s%s", cfg->classifier_model[0] == '/' ? "" : cfg->dir,
              cfg->classifier_model[0] == '/' ? "" : "/", cfg->classifier_model);
    *model = yx_textmodel_load (path, why, sizeof why);
    if (!*model)
        snprintf (err, errlen, "classifier.model: %s", why);
    return *model ? 0 : -1;
}

/* Reload check: the model of the new configuration loads. */
static int
s_check (const yx_config_t *cfg, char *err, size_t errlen)
{
    yx_textmodel_t *model;
    if (s_model_load (cfg, &model, err, errlen))
        return -1;
    yx_textmodel_destroy (&model);
    return 0;
}

int
main (int argc, char **argv)
{
    int code;
    yx_service_set_check (s_check);
    yx_config_t *cfg = yx_service_start ("classifier", argc, argv, &code);
    if (!cfg)
        return code;
    yx_classifier_t self = { .cfg = cfg };
    char err[600];
    if (s_model_load (cfg, &self.model, err, sizeof err)) {
        fprintf (stderr, "classifier: config error: %s\n", err);
        yx_config_destroy (&cfg);
        return yx_service_end (2);
    }
    self.store = yx_store_new (cfg->redis_host, cfg->redis_port, cfg->redis_password, cfg->redis_timeout_ms);
    void *in = yx_bus_socket (ZMQ_PULL, cfg->classifier_bind, 1);
    self.to_dispatcher = yx_bus_socket (ZMQ_PUSH, cfg->dispatcher_bind, 0);
    if (!in || !self.to_dispatcher) {
        yx_config_destroy (&cfg);
        return yx_service_end (1);
    }
    yx_health_t *health = yx_health_start (cfg, "127.0.0.1", cfg->classifier_health_port, "classifier");
    int rc = 0;
    if (cfg->classifier_health_port && !health) {   /* the port is taken: say so and stop, do not run unobservable */
        yx_error ("start_failed", "reason=health_port port=%d", cfg->classifier_health_port);
        yx_stopping = 1;
        rc = 1;
    }
    yx_info ("started", "bind=%s model=%s", cfg->classifier_bind, self.model ? "loaded" : "none");
    int64_t next_sweep = 0;
    while (!yx_stopping) {
        zmq_pollitem_t item = { in, 0, ZMQ_POLLIN, 0 };
        int64_t wait = next_sweep - yx_mono_ms ();
        if (zmq_poll (&item, 1, wait > 0 ? (long) wait : 0) > 0) {
            yx_env_t *env = yx_bus_recv (in, "classifier.in", NULL, NULL, 0);
            if (env && env->body_case == YIXIAN__V1__ENVELOPE__BODY_REPORTED)
                yx_classifier_register (&self, env->reported->case_id);
            else
            if (env)
                yx_warn ("bus_frame_dropped", "socket=classifier.in reason=unexpected_body");
            yx_env_free (env);
        }
        if (yx_mono_ms () >= next_sweep) {
            yx_stage_sweep (self.store, cfg, YX_Q_CLASSIFY, yx_now_ms () - cfg->sweep_stale_ms, 500,
                            s_sweep_one, &self);
            next_sweep = yx_mono_ms () + cfg->sweep_interval_ms;
        }
    }
    zmq_close (in);
    zmq_close (self.to_dispatcher);
    yx_health_stop (&health);
    yx_bus_term ();
    yx_store_destroy (&self.store);
    yx_textmodel_destroy (&self.model);
    yx_config_destroy (&cfg);
    yx_info ("stopped", NULL);
    return yx_service_end (rc);
}
