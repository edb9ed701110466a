/* yx-notifier — delivers case events to departments and reporters' sources.
 *
 * Sockets: SUB to the dispatcher's events (fast path; yx:{D}:q:notify is the
 * guarantee), PUB for the department inbox feed (topic "dept.<id>"). Webhooks,
 * gateway messages and callbacks go out through libcurl's multi interface, whose
 * sockets share the one zmq_poll below, so nothing ever blocks the loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zmq.h>

#include "bus.h"
#include "case.h"
#include "health.h"
#include "log.h"
#include "notifier.h"
#include "service.h"
#include "util.h"

#define S_DRAIN 256          /* bus messages taken per loop turn at most */
#define S_RETRY_TICK_MS 100  /* how often due retries are looked for */
#define S_MORE_TICK_MS 20    /* how soon a queue with more waiting is swept again */
#define S_STOP_GRACE_MS 2000 /* on SIGTERM, running deliveries get this long to finish */

/* Takes up to S_DRAIN events from the bus and hands them to the engine. */
static void
s_drain (yx_notifier_t *engine, void *sub)
{
    yx_env_t *envs[S_DRAIN];
    int n = 0;
    bool room = yx_notifier_has_room (engine);
    while (n < S_DRAIN) {
        char topic[1][256];
        size_t topic_len[1];
        zmq_pollitem_t it = { sub, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&it, 1, 0) <= 0)
            break;
        yx_env_t *env = yx_bus_recv (sub, "notifier.events", topic, topic_len, 1);
        if (!env)
            continue;
        if (!room)   /* busy: the event waits in q:notify for a sweep */
            yx_env_free (env);
        else
            envs[n++] = env;
    }
    if (n)
        yx_notifier_events (engine, envs, n);
}

/* One turn of the loop: poll the bus and the HTTP sockets, then drive both. */
static void
s_turn (yx_notifier_t *engine, void *sub, zmq_pollitem_t *items, int cap, int64_t wait_ms)
{
    yx_nt_pool_t *pool = yx_notifier_pool (engine);
    int n = 0;
    if (sub)
        items[n++] = (zmq_pollitem_t) { sub, 0, ZMQ_POLLIN, 0 };
    int first = n;
    n += yx_nt_pool_pollitems (pool, items + n, cap - n);
    long t = yx_nt_pool_timeout (pool);
    if (t >= 0 && t < wait_ms)
        wait_ms = t;
    if (zmq_poll (items, n, wait_ms > 0 ? (long) wait_ms : 0) < 0)
        for (int i = 0; i < n; i++)
            items[i].revents = 0;   /* interrupted by a signal */
    if (sub && (items[0].revents & ZMQ_POLLIN))
        s_drain (engine, sub);
    yx_nt_pool_perform (pool, items + first, n - first);
    yx_notifier_settle (engine);
}

/* Runs the service until SIGTERM. 0, or 1 when its sockets cannot be set up. */
static int
s_run (yx_config_t *cfg, yx_nt_rules_t *rules)
{
    yx_store_t *store = yx_store_new (cfg->redis_host, cfg->redis_port, cfg->redis_password, cfg->redis_timeout_ms);
    void *sub = yx_bus_socket (ZMQ_SUB, cfg->dispatcher_events, 0);
    void *feed = yx_bus_socket (ZMQ_PUB, cfg->notifier_feed, 1);
    yx_notifier_t *engine = sub && feed && store ? yx_notifier_new (cfg, rules, store, feed) : NULL;
    int cap = 2 * cfg->notifier_max_inflight + 64;
    zmq_pollitem_t *items = calloc ((size_t) cap, sizeof *items);
    yx_health_t *health = NULL;
    int rc = engine && items && zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "case", 4) == 0 ? 0 : 1;
    if (rc)
        yx_error ("start_failed", "events=%s feed=%s", cfg->dispatcher_events, cfg->notifier_feed);
    else {
        health = yx_health_start (cfg, "127.0.0.1", cfg->notifier_health_port, "notifier");
        if (cfg->notifier_health_port && !health) {   /* the port is taken: stop, do not run unobservable */
            yx_error ("start_failed", "reason=health_port port=%d", cfg->notifier_health_port);
            rc = 1;
        }
        yx_info ("started", "events=%s feed=%s max_inflight=%d per_endpoint=%d", cfg->dispatcher_events,
                 cfg->notifier_feed, cfg->notifier_max_inflight, cfg->notifier_per_endpoint);
    }
    /* At start-up everything q:notify held then is due (until that backlog is taken),
     * later only what is stale; its future entries are leases and retries, which
     * q:retry brings back on time. A queue with more waiting is swept again soon. */
    int64_t next_sweep = 0, next_retry = 0, started = yx_now_ms ();
    bool backlog = true;
    while (rc == 0 && !yx_stopping) {
        int64_t now = yx_mono_ms ();
        int64_t wait = (next_sweep < next_retry ? next_sweep : next_retry) - now;
        s_turn (engine, sub, items, cap, wait);
        now = yx_mono_ms ();
        if (now >= next_sweep) {
            int more = yx_notifier_sweep (engine, backlog ? started : yx_now_ms () - cfg->sweep_stale_ms);
            backlog &= more != 0;
            next_sweep = yx_mono_ms () + (more == 1 ? S_MORE_TICK_MS : cfg->sweep_interval_ms);
            next_retry = yx_mono_ms () + S_RETRY_TICK_MS;
        }
        else
        if (now >= next_retry)
            next_retry = yx_mono_ms () + (yx_notifier_retries (engine) == 1 ? S_MORE_TICK_MS : S_RETRY_TICK_MS);
    }
    /* Let running deliveries finish so they are not sent again after a restart. */
    int64_t until = yx_mono_ms () + S_STOP_GRACE_MS;
    while (engine && yx_nt_pool_size (yx_notifier_pool (engine)) > 0 && yx_mono_ms () < until)
        s_turn (engine, NULL, items, cap, 50);
    yx_notifier_destroy (&engine);
    free (items);
    if (sub)
        zmq_close (sub);
    if (feed)
        zmq_close (feed);
    yx_health_stop (&health);
    yx_bus_term ();
    yx_store_destroy (&store);
    return rc;
}

/* Reload check: the delivery rules of the new configuration load. */
static int
s_check (const yx_config_t *cfg, char *err, size_t errlen)
{
    yx_nt_rules_t *rules = yx_nt_rules_load (cfg, cfg->path, err, errlen);
    if (!rules)
        return -1;
    yx_nt_rules_destroy (&rules);
    return 0;
}

int
main (int argc, char **argv)
{
    int code;
    yx_service_set_check (s_check);
    yx_config_t *cfg = yx_service_start ("notifier", argc, argv, &code);
    if (!cfg)
        return code;
    char err[1024];
    yx_nt_rules_t *rules = yx_nt_rules_load (cfg, cfg->path, err, sizeof err);
    if (!rules)
        fprintf (stderr, "notifier: config error: %s\n", err);
    code = !rules ? 2 : sodium_init () < 0 ? 1 : s_run (cfg, rules);
    yx_nt_rules_destroy (&rules);
    yx_config_destroy (&cfg);
    if (code != 2)
        yx_info ("stopped", "code=%d", code);
    return yx_service_end (code);
}
