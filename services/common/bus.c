/* bus.c — ZeroMQ helpers: sockets, framing, strict decoding. */
#include "bus.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "log.h"

static void *s_ctx;   /* process-wide context */

void *
yx_bus_ctx (void)
{
    if (!s_ctx)
        s_ctx = zmq_ctx_new ();
    return s_ctx;
}

void
yx_bus_term (void)
{
    if (s_ctx)
        zmq_ctx_term (s_ctx);
    s_ctx = NULL;
}

void *
yx_bus_socket (int type, const char *endpoint, int bind)
{
    void *s = zmq_socket (yx_bus_ctx (), type);
    if (!s) {
        yx_error ("bus_socket_failed", "endpoint=%s error=\"%s\"", endpoint, zmq_strerror (zmq_errno ()));
        return NULL;
    }
    int linger = 0, hwm = 100000;
    zmq_setsockopt (s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt (s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    int rc = bind ? zmq_bind (s, endpoint) : zmq_connect (s, endpoint);
    if (rc != 0) {
        yx_error ("bus_endpoint_failed", "endpoint=%s op=%s error=\"%s\"", endpoint,
                  bind ? "bind" : "connect", zmq_strerror (zmq_errno ()));
        zmq_close (s);
        return NULL;
    }
    return s;
}

int
yx_bus_send (void *sock, const char *const *prefix, const size_t *prefix_lens, int nprefix,
             const yx_env_t *env)
{
    size_t len = yixian__v1__envelope__get_packed_size (env);
    uint8_t stackbuf[4096];
    uint8_t *buf = len <= sizeof stackbuf ? stackbuf : malloc (len);
    if (!buf)
        return -1;
    yixian__v1__envelope__pack (env, buf);
    int rc = 0;
    for (int i = 0; i < nprefix && rc == 0; i++)
        if (zmq_send (sock, prefix[i], prefix_lens[i], ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
            rc = -1;
    if (rc == 0 && zmq_send (sock, buf, len, ZMQ_DONTWAIT) < 0)
        rc = -1;
    if (buf != stackbuf)
        free (buf);
    return rc;
}

int
yx_bus_send_packed (void *sock, const char *topic, const void *bytes, size_t len)
{
    if (zmq_send (sock, topic, strlen (topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    return zmq_send (sock, bytes, len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

yx_env_t *
yx_env_decode (const void *data, size_t len)
{
    yx_env_t *env = yixian__v1__envelope__unpack (NULL, len, data);
    if (env && env->body_case == YIXIAN__V1__ENVELOPE__BODY__NOT_SET) {
        yixian__v1__envelope__free_unpacked (env, NULL);
        return NULL;
    }
    return env;
}

void
yx_env_free (yx_env_t *env)
{
    if (env)
        yixian__v1__envelope__free_unpacked (env, NULL);
}

yx_env_t *
yx_bus_recv (void *sock, const char *name, char prefix[][256], size_t *prefix_lens, int max_prefix)
{
    zmq_msg_t msg;
    int nframes = 0;
    bool bad = false;
    yx_env_t *env = NULL;
    for (;;) {
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, sock, nframes == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close (&msg);
            return NULL;
        }
        int more = zmq_msg_more (&msg);
        if (more) {
            if (nframes < max_prefix && zmq_msg_size (&msg) < 256) {
                memcpy (prefix[nframes], zmq_msg_data (&msg), zmq_msg_size (&msg));
                prefix[nframes][zmq_msg_size (&msg)] = 0;
                prefix_lens[nframes] = zmq_msg_size (&msg);
            }
            else
                bad = true;
        }
        else
        if (!bad && nframes == max_prefix)
            env = yx_env_decode (zmq_msg_data (&msg), zmq_msg_size (&msg));
        else
            bad = true;
        nframes++;
        zmq_msg_close (&msg);
        if (!more)
            break;
    }
    if (!env)
        yx_warn ("bus_frame_dropped", "socket=%s frames=%d reason=%s", name, nframes,
                 bad ? "unexpected_framing" : "not_an_envelope");
    return env;
}
