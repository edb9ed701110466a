/* health.h — /healthz and /readyz for services without an HTTP API of their own.
 * /healthz: the process answers. /readyz: Redis answers a PING (checked from the
 * health thread with its own connection). */
#ifndef YX_HEALTH_H
#define YX_HEALTH_H

#include "config.h"

typedef struct yx_health yx_health_t;

/* Starts the endpoint on bind:port (port 0: returns NULL and does nothing). */
yx_health_t *yx_health_start (const yx_config_t *cfg, const char *bind, int port, const char *service);
void yx_health_stop (yx_health_t **self_p);

#endif
