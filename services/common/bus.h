/* bus.h — ZeroMQ sockets carrying yixian.v1.Envelope frames.
 *
 * The bus is a fast path only: every message it carries is also recorded in Redis
 * (stage queues), so a lost message delays work and never loses it. Decoding is
 * strict: a frame that is not a valid Envelope is logged and dropped. */
#ifndef YX_BUS_H
#define YX_BUS_H

#include <stddef.h>

#include "yixian/v1/bus.pb-c.h"

typedef Yixian__V1__Envelope yx_env_t;

/* The process-wide ZeroMQ context (created on first use). */
void *yx_bus_ctx (void);
/* Terminates the context (after all sockets are closed). */
void yx_bus_term (void);

/* Opens a socket of type (ZMQ_PUSH …), binding when bind is true, else connecting.
 * Sets linger 0 and a high-water mark. NULL with a log line on failure. */
void *yx_bus_socket (int type, const char *endpoint, int bind);

/* Sends an envelope, optionally preceded by frames (topic, identity): prefix may be
 * NULL. Non-blocking: a full queue drops the message (the stage queue still holds
 * the work) and returns -1. */
int yx_bus_send (void *sock, const char *const *prefix, const size_t *prefix_lens, int nprefix,
                 const yx_env_t *env);

/* Sends already packed envelope bytes after one topic frame. 0/-1 as yx_bus_send. */
int yx_bus_send_packed (void *sock, const char *topic, const void *bytes, size_t len);

/* Receives one message of up to max_prefix leading frames plus a final Envelope
 * frame. Returns the decoded envelope (free with yx_env_free) or NULL when the
 * message was malformed (logged with the socket's name) or nothing was waiting.
 * prefix frames are copied into prefix[i] (each prefix_cap bytes) with lengths. */
yx_env_t *yx_bus_recv (void *sock, const char *name, char prefix[][256], size_t *prefix_lens,
                       int max_prefix);

/* Decodes bytes into an envelope; NULL if they are not one (or hold no body). */
yx_env_t *yx_env_decode (const void *data, size_t len);
void yx_env_free (yx_env_t *env);

#endif
