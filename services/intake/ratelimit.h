/* ratelimit.h — per-key token buckets for the intake (429 with Retry-After).
 * Limits are per intake instance; a key's rate and burst come from api_keys
 * (rate_per_s, burst) or intake.rate_per_s / intake.rate_burst. Thread-safe. */
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

#endif
