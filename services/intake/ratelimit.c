/* ratelimit.c — token buckets refilled continuously at a rate up to a burst: one per
 * configured key (indexed by the key's position in the configuration) and one per
 * recently seen client address (an open-addressing table keyed by a keyed hash, so a
 * client cannot choose which addresses it pushes out). */
#include "ratelimit.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define S_ADDR_SLOTS 4096   /* client addresses tracked at once (a power of two) */
#define S_ADDR_PROBE 8      /* slots looked at per address */

typedef struct {
    double tokens;      /* tokens available */
    int64_t last_ms;    /* last refill time */
} s_bucket_t;

typedef struct {
    uint8_t addr[16];   /* client address */
    bool used;          /* the slot holds an address */
    s_bucket_t bucket;  /* its bucket */
} s_addr_slot_t;

struct yx_ratelimit {
    const yx_config_t *cfg;   /* keys and their limits, the public limit */
    s_bucket_t *buckets;      /* one per cfg->keys entry */
    s_addr_slot_t *addrs;     /* S_ADDR_SLOTS client address buckets */
    uint8_t hash_key[crypto_shorthash_KEYBYTES];   /* random key of the address hash */
    pthread_mutex_t lock;     /* guards buckets and addrs */
};

yx_ratelimit_t *
yx_ratelimit_new (const yx_config_t *cfg)
{
    yx_ratelimit_t *self = calloc (1, sizeof *self);
    if (!self || sodium_init () < 0)
        goto fail;
    self->cfg = cfg;
    self->buckets = calloc ((size_t) cfg->nkeys + 1, sizeof *self->buckets);
    self->addrs = calloc (S_ADDR_SLOTS, sizeof *self->addrs);
    if (!self->buckets || !self->addrs)
        goto fail;
    for (int i = 0; i < cfg->nkeys; i++)
        self->buckets[i].tokens = cfg->keys[i].burst;
    crypto_shorthash_keygen (self->hash_key);
    pthread_mutex_init (&self->lock, NULL);
    return self;
fail:
    if (self) {
        free (self->buckets);
        free (self->addrs);
    }
    free (self);
    return NULL;
}

void
yx_ratelimit_destroy (yx_ratelimit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_destroy (&(*self_p)->lock);
    free ((*self_p)->buckets);
    free ((*self_p)->addrs);
    free (*self_p);
    *self_p = NULL;
}

/* Refills b for the time since its last refill and takes one token. 0 when taken,
 * else the whole seconds until one is available. Caller holds the lock. */
static int
s_bucket_take (s_bucket_t *b, int rate_per_s, int burst, int64_t now_ms)
{
    if (b->last_ms && now_ms > b->last_ms)
        b->tokens += (double) (now_ms - b->last_ms) * rate_per_s / 1000.0;
    if (b->tokens > burst)
        b->tokens = burst;
    if (now_ms > b->last_ms)
        b->last_ms = now_ms;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 0;
    }
    return (int) ((1.0 - b->tokens) / rate_per_s) + 1;
}

int
yx_ratelimit_take (yx_ratelimit_t *self, const yx_apikey_t *key, int64_t now_ms)
{
    long idx = key - self->cfg->keys;
    if (idx < 0 || idx >= self->cfg->nkeys || key->rate_per_s == 0)
        return 0;
    pthread_mutex_lock (&self->lock);
    int wait = s_bucket_take (&self->buckets[idx], key->rate_per_s, key->burst, now_ms);
    pthread_mutex_unlock (&self->lock);
    return wait;
}

/* The slot for addr: its own, else a free one, else the longest idle of the probed
 * slots, which is handed over with a full bucket. Caller holds the lock. */
static s_addr_slot_t *
s_addr_slot (yx_ratelimit_t *self, const uint8_t addr[16], int64_t now_ms)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash (h, addr, 16, self->hash_key);
    uint32_t start;
    memcpy (&start, h, sizeof start);
    s_addr_slot_t *spare = NULL;
    for (uint32_t i = 0; i < S_ADDR_PROBE; i++) {
        s_addr_slot_t *s = &self->addrs[(start + i) & (S_ADDR_SLOTS - 1)];
        if (s->used && memcmp (s->addr, addr, 16) == 0)
            return s;
        if (!spare || (spare->used && (!s->used || s->bucket.last_ms < spare->bucket.last_ms)))
            spare = s;
    }
    memcpy (spare->addr, addr, 16);
    spare->used = true;
    spare->bucket.tokens = self->cfg->public_rate_burst;
    spare->bucket.last_ms = now_ms;
    return spare;
}

int
yx_ratelimit_take_addr (yx_ratelimit_t *self, const uint8_t addr[16], int64_t now_ms)
{
    if (self->cfg->public_rate_per_s == 0)
        return 0;
    pthread_mutex_lock (&self->lock);
    s_addr_slot_t *slot = s_addr_slot (self, addr, now_ms);
    int wait = s_bucket_take (&slot->bucket, self->cfg->public_rate_per_s, self->cfg->public_rate_burst, now_ms);
    pthread_mutex_unlock (&self->lock);
    return wait;
}
