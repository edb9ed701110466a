/* ratelimit.c — one token bucket per configured key, indexed by the key's position in
 * the configuration, refilled continuously at rate_per_s up to burst. */
#include "ratelimit.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct {
    double tokens;      /* tokens available */
    int64_t last_ms;    /* last refill time */
} s_bucket_t;

struct yx_ratelimit {
    const yx_config_t *cfg;   /* keys and their limits */
    s_bucket_t *buckets;      /* one per cfg->keys entry */
    pthread_mutex_t lock;     /* guards buckets */
};

yx_ratelimit_t *
yx_ratelimit_new (const yx_config_t *cfg)
{
    yx_ratelimit_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->buckets = calloc ((size_t) cfg->nkeys + 1, sizeof *self->buckets);
    if (!self->buckets) {
        free (self);
        return NULL;
    }
    for (int i = 0; i < cfg->nkeys; i++)
        self->buckets[i].tokens = cfg->keys[i].burst;
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
yx_ratelimit_destroy (yx_ratelimit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_destroy (&(*self_p)->lock);
    free ((*self_p)->buckets);
    free (*self_p);
    *self_p = NULL;
}

int
yx_ratelimit_take (yx_ratelimit_t *self, const yx_apikey_t *key, int64_t now_ms)
{
    long idx = key - self->cfg->keys;
    if (idx < 0 || idx >= self->cfg->nkeys || key->rate_per_s == 0)
        return 0;
    pthread_mutex_lock (&self->lock);
    s_bucket_t *b = &self->buckets[idx];
    if (b->last_ms && now_ms > b->last_ms)
        b->tokens += (double) (now_ms - b->last_ms) * key->rate_per_s / 1000.0;
    if (b->tokens > key->burst)
        b->tokens = key->burst;
    if (now_ms > b->last_ms)
        b->last_ms = now_ms;
    int wait = 0;
    if (b->tokens >= 1.0)
        b->tokens -= 1.0;
    else {
        wait = (int) ((1.0 - b->tokens) / key->rate_per_s) + 1;
    }
    pthread_mutex_unlock (&self->lock);
    return wait;
}
