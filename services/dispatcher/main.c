/* yx-dispatcher — the case state machine's only writer after registration.
 *
 * Sockets: PULL for CaseClassified (fast path; q:dispatch is the guarantee), ROUTER
 * for actions from intake, PUB for committed events. Timers are fired from Redis,
 * so any number of instances may run against one Redis. */
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

#include "bus.h"
#include "health.h"
#include "dispatcher.h"
#include "log.h"
#include "service.h"
#include "stage.h"
#include "util.h"

/* Stage-sweep adapter. */
static int
s_sweep_one (void *arg, const char *district, const char *member)
{
    (void) district;
    return yx_dispatch_case (arg, member);
}

/* Answers one action request on the ROUTER. */
static void
s_serve_action (yx_dispatcher_t *d, void *router)
{
    char ident[1][256];
    size_t ident_len[1];
    yx_env_t *env = yx_bus_recv (router, "dispatcher.actions", ident, ident_len, 1);
    if (!env)
        return;
    if (env->body_case != YIXIAN__V1__ENVELOPE__BODY_ACTION) {
        yx_warn ("bus_frame_dropped", "socket=dispatcher.actions reason=unexpected_body");
        yx_env_free (env);
        return;
    }
    Yixian__V1__ActionResult res = YIXIAN__V1__ACTION_RESULT__INIT;
    char state[32] = "";
    yx_action_apply (d, env->action, &res, state, sizeof state);
    yx_env_t out = YIXIAN__V1__ENVELOPE__INIT;
    out.body_case = YIXIAN__V1__ENVELOPE__BODY_RESULT;
    out.result = &res;
    const char *prefix[1] = { ident[0] };
    yx_bus_send (router, prefix, ident_len, 1, &out);
    yx_env_free (env);
}

int
main (int argc, char **argv)
{
    int code;
    yx_config_t *cfg = yx_service_start ("dispatcher", argc, argv, &code);
    if (!cfg)
        return code;
    yx_dispatcher_t d = { .cfg = cfg };
    d.store = yx_store_new (cfg->redis_host, cfg->redis_port, cfg->redis_password, cfg->redis_timeout_ms);
    void *in = yx_bus_socket (ZMQ_PULL, cfg->dispatcher_bind, 1);
    void *router = yx_bus_socket (ZMQ_ROUTER, cfg->dispatcher_actions, 1);
    d.events = yx_bus_socket (ZMQ_PUB, cfg->dispatcher_events, 1);
    if (!in || !router || !d.events) {
        yx_config_destroy (&cfg);
        return yx_service_end (1);
    }
    yx_health_t *health = yx_health_start (cfg, "127.0.0.1", cfg->dispatcher_health_port, "dispatcher");
    int rc = 0;
    if (cfg->dispatcher_health_port && !health) {   /* the port is taken: say so and stop, do not run unobservable */
        yx_error ("start_failed", "reason=health_port port=%d", cfg->dispatcher_health_port);
        yx_stopping = 1;
        rc = 1;
    }
    yx_info ("started", "bind=%s actions=%s events=%s", cfg->dispatcher_bind, cfg->dispatcher_actions,
             cfg->dispatcher_events);
    int64_t next_sweep = 0, next_timers = 0;
    int timer_every = cfg->sweep_interval_ms < 500 ? cfg->sweep_interval_ms : 500;
    while (!yx_stopping) {
        zmq_pollitem_t items[2] = { { in, 0, ZMQ_POLLIN, 0 }, { router, 0, ZMQ_POLLIN, 0 } };
        int64_t now = yx_mono_ms ();
        int64_t wait = (next_sweep < next_timers ? next_sweep : next_timers) - now;
        if (zmq_poll (items, 2, wait > 0 ? (long) wait : 0) > 0) {
            if (items[1].revents & ZMQ_POLLIN)
                s_serve_action (&d, router);
            if (items[0].revents & ZMQ_POLLIN) {
                yx_env_t *env = yx_bus_recv (in, "dispatcher.in", NULL, NULL, 0);
                if (env && env->body_case == YIXIAN__V1__ENVELOPE__BODY_CLASSIFIED)
                    yx_dispatch_case (&d, env->classified->case_id);
                else
                if (env)
                    yx_warn ("bus_frame_dropped", "socket=dispatcher.in reason=unexpected_body");
                yx_env_free (env);
            }
        }
        now = yx_mono_ms ();
        if (now >= next_timers) {
            yx_timers_fire (&d);
            next_timers = yx_mono_ms () + timer_every;
        }
        if (now >= next_sweep) {
            yx_stage_sweep (d.store, cfg, YX_Q_DISPATCH, yx_now_ms () - cfg->sweep_stale_ms, 500, s_sweep_one, &d);
            next_sweep = yx_mono_ms () + cfg->sweep_interval_ms;
        }
    }
    zmq_close (in);
    zmq_close (router);
    zmq_close (d.events);
    yx_health_stop (&health);
    yx_bus_term ();
    yx_store_destroy (&d.store);
    yx_config_destroy (&cfg);
    yx_info ("stopped", NULL);
    return yx_service_end (rc);
}
