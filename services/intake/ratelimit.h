/* ratelimit.h — token buckets for the intake (429 with Retry-After).
 * Limits are per intake instance. Per API key: a key's rate and burst come from
 * api_keys (rate_per_s, burst) or intake.rate_per_s / intake.rate_burst. Per client
 * address, for the reads that need no key: intake.public_rate_per_s and
 * intake.public_rate_burst. Thread-safe. */
#ifndef YX_INTAKE_RATELIMIT_H
#define YX_INTAKE_RATELIMIT_H

#include <stdint.h>

#include "config.h"

typedef struct yx_ratelimit yx_ratelimit_t;

yx_ratelimit_t *yx_ratelimit_new (const yx_config_t *cfg);
void yx_ratelimit_destroy (yx_ratelimit_t **self_p);
/* Takes one token for key at now_ms. 0 if allowed; otherwise the seconds to wait
 * (>= 1) before a token is available. */
int yx_ratelimit_take (yx_ratelimit_t *self, const yx_apikey_t *key, int64_t now_ms);
/* The same for an anonymous client address (16 bytes, as yx_http_client_addr gives).
 * Addresses share a fixed table; when it is crowded the longest-idle address nearby
 * loses its bucket (and starts full when it comes back). */
int yx_ratelimit_take_addr (yx_ratelimit_t *self, const uint8_t addr[16], int64_t now_ms);

#endif
