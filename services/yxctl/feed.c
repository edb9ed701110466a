/* feed.c — printing bus events as they arrive (inbox --follow, tail). */
#include "yxctl.h"

#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "bus.h"
#include "service.h"
#include "util.h"

int
yxctl_follow (const yxctl_t *ctl, const char *endpoint, const char *topic)
{
    void *sub = yx_bus_socket (ZMQ_SUB, endpoint, 0);
    if (!sub)
        return 3;
    zmq_setsockopt (sub, ZMQ_SUBSCRIBE, topic, strlen (topic));
    fprintf (stderr, "following %s on %s (Ctrl-C stops)\n", *topic ? topic : "all events", endpoint);
    while (!yx_stopping) {
        zmq_pollitem_t item = { sub, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 200) <= 0)
            continue;
        char prefix[1][256];
        size_t plen[1];
        yx_env_t *env = yx_bus_recv (sub, "yxctl.feed", prefix, plen, 1);
        if (!env || env->body_case != YIXIAN__V1__ENVELOPE__BODY_EVENT) {
            yx_env_free (env);
            continue;
        }
        Yixian__V1__CaseEvent *e = env->event;
        char at[40];
        yx_time_format (e->at_ms, ctl->cfg ? ctl->cfg->utc_offset_min : 480, at, sizeof at);
        if (ctl->json) {
            json_t *depts = json_array ();
            for (size_t i = 0; i < e->n_departments; i++)
                json_array_append_new (depts, json_string (e->departments[i]));
            json_t *o = json_pack ("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:o, s:s, s:s, s:s}", "topic", prefix[0],
                                   "event_id", e->event_id, "case_id", e->case_id, "version", (json_int_t) e->version,
                                   "type", e->type, "state", e->state, "at", at, "departments", depts, "category",
                                   e->category, "actor", e->actor, "note", e->note);
            char *s = json_dumps (o, JSON_COMPACT);
            printf ("%s\n", s);
            free (s);
            json_decref (o);
        }
        else {
            printf ("%s  %-20s %-22s %-10s v%-3llu", at, e->type, e->case_id, e->state, (unsigned long long) e->version);
            for (size_t i = 0; i < e->n_departments; i++)
                printf ("%s%s", i ? "," : " → ", e->departments[i]);
            printf ("%s%s\n", *e->note ? "  " : "", e->note);
        }
        fflush (stdout);
        yx_env_free (env);
    }
    zmq_close (sub);
    yx_bus_term ();
    return 0;
}
