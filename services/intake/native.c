/* native.c — ReportCase in, ReportAck out, over a ROUTER socket.
 *
 * Frames: [identity][Envelope{report}] in, [identity][Envelope{ack}] out. The same
 * validation and registration as POST /v1/cases; the key travels in the message. */
#include "native.h"

#include <string.h>
#include <zmq.h>

#include "bus.h"
#include "log.h"
#include "ratelimit.h"
#include "util.h"
#include "service.h"

/* Handles one ReportCase and fills the ack. */
static void
s_handle (const yx_intake_t *in, const Yixian__V1__ReportCase *rc, Yixian__V1__ReportAck *ack,
          char id[32], yx_report_err_t *err)
{
    yx_caller_t caller;
    ack->request_id = rc->request_id;
    if (yx_auth_key (in->cfg, rc->api_key, &caller)) {
        ack->status = 401;
        ack->error_code = "unauthorized";
        ack->message = "a valid api_key is required";
        return;
    }
    if (yx_ratelimit_take (in->limits, caller.key, yx_mono_ms ())) {
        ack->status = 429;
        ack->error_code = "rate_limited";
        ack->message = "too many requests for this key";
        return;
    }
    yx_report_in_t r = { 0 };
    r.source = *rc->source ? rc->source : NULL;
    r.source_ref = *rc->source_ref ? rc->source_ref : NULL;
    r.title = *rc->title ? rc->title : NULL;
    r.description = *rc->description ? rc->description : NULL;
    r.category = *rc->category ? rc->category : NULL;
    r.address = *rc->address ? rc->address : NULL;
    r.grid = *rc->grid ? rc->grid : NULL;
    r.crs = *rc->crs ? rc->crs : NULL;
    r.has_point = rc->has_point;
    r.lat = rc->lat;
    r.lon = rc->lon;
    r.reporter_name = *rc->reporter_name ? rc->reporter_name : NULL;
    r.reporter_phone = *rc->reporter_phone ? rc->reporter_phone : NULL;
    if (rc->n_media > 10) {
        ack->status = 422;
        ack->error_code = "too_many_media";
        ack->message = "at most 10 media URLs";
        ack->field = "media";
        return;
    }
    for (size_t i = 0; i < rc->n_media; i++)
        r.media[r.nmedia++] = rc->media[i];
    r.reported_at_ms = rc->reported_at_ms;
    /* protobuf-c checks UTF-8 of string fields while unpacking, so text is valid here */
    bool created = false;
    if (yx_report_submit (in, &caller, &r, id, &created, NULL, err) == 0) {
        ack->status = created ? 201 : 200;
        ack->case_id = id;
    }
    else {
        ack->status = err->status;
        ack->error_code = err->code;
        ack->message = err->message;
        ack->field = err->field;
    }
}

int
yx_native_run (const yx_intake_t *in)
{
    void *router = yx_bus_socket (ZMQ_ROUTER, in->cfg->intake_zmq, 1);
    if (!router)
        return 1;
    while (!yx_stopping) {
        zmq_pollitem_t item = { router, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 200) <= 0)
            continue;
        char ident[1][256];
        size_t ident_len[1];
        yx_env_t *env = yx_bus_recv (router, "intake.native", ident, ident_len, 1);
        if (!env)
            continue;
        Yixian__V1__ReportAck ack = YIXIAN__V1__REPORT_ACK__INIT;
        char id[32] = "";
        yx_report_err_t err = { 0 };
        if (env->body_case == YIXIAN__V1__ENVELOPE__BODY_REPORT)
            s_handle (in, env->report, &ack, id, &err);
        else {
            ack.status = 400;
            ack.error_code = "unexpected_message";
            ack.message = "send a ReportCase envelope";
        }
        yx_env_t out = YIXIAN__V1__ENVELOPE__INIT;
        out.body_case = YIXIAN__V1__ENVELOPE__BODY_ACK;
        out.ack = &ack;
        const char *prefix[1] = { ident[0] };
        yx_bus_send (router, prefix, ident_len, 1, &out);
        yx_env_free (env);
    }
    zmq_close (router);
    return 0;
}
