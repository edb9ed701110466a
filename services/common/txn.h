/* txn.h — builds one guarded case transition and commits it with the COMMIT script.
 *
 *   yx_txn_t t;
 *   yx_txn_init (&t, district, case_id);
 *   yx_txn_zadd (&t, key_of_queue, now, case_id);
 *   yx_txn_commit (&t, store, &spec, &result);
 *   yx_txn_free (&t);
 *
 * The first four keys are always the case, its timeline, its action-id hash and the
 * district's stats hash, so every transition keeps the state counters exact. */
#ifndef YX_TXN_H
#define YX_TXN_H

#include "store.h"

typedef struct {
    char district[8];   /* district of the case: every key carries it */
    yx_args_t keys;     /* KEYS, deduplicated */
    yx_args_t ops;      /* flattened ops after the fixed ARGV */
} yx_txn_t;

typedef struct {
    const char *expected_version; /* "" = any */
    const char *allowed_states;   /* "A,B" or "*" */
    const char *doc;              /* new case document (JSON) */
    const char *state;            /* new state */
    const char *timeline;         /* timeline entry JSON or "" */
    const char *action_id;        /* idempotency id or "" */
    const char *guard_key;        /* sorted set whose member must be consumed, or NULL */
    const char *guard_member;     /* that member */
    const char *result;           /* stored result for action_id replays */
} yx_txn_spec_t;

typedef enum {
    YX_TXN_OK = 0,        /* committed */
    YX_TXN_CONFLICT,      /* guard failed: see reason, state, version */
    YX_TXN_DUPLICATE,     /* action id seen before: stored result returned */
    YX_TXN_UNAVAILABLE    /* Redis unreachable or errored: nothing written */
} yx_txn_status_t;

typedef struct {
    yx_txn_status_t status;  /* outcome */
    long long version;       /* version after (OK) or current (CONFLICT) */
    char reason[16];         /* missing | version | state | guard */
    char state[16];          /* current state on CONFLICT */
    char *stored;            /* stored result on DUPLICATE (caller frees) */
} yx_txn_result_t;

void yx_txn_init (yx_txn_t *t, const char *district, const char *case_id);
/* Index (1-based) of key in KEYS, adding it if new. */
int yx_txn_key (yx_txn_t *t, const char *key);
void yx_txn_zadd (yx_txn_t *t, const char *key, double score, const char *member);
void yx_txn_zrem (yx_txn_t *t, const char *key, const char *member);
void yx_txn_hincrby (yx_txn_t *t, const char *key, const char *field, long long by);
void yx_txn_set (yx_txn_t *t, const char *key, const char *value, size_t len);
void yx_txn_sadd (yx_txn_t *t, const char *key, const char *member);
void yx_txn_rpush (yx_txn_t *t, const char *key, const char *value);
void yx_txn_geoadd (yx_txn_t *t, const char *key, double lon, double lat, const char *member);
/* Runs the script. Returns the status also stored in out. */
yx_txn_status_t yx_txn_commit (yx_txn_t *t, yx_store_t *store, const yx_txn_spec_t *spec,
                               yx_txn_result_t *out);
void yx_txn_free (yx_txn_t *t);

#endif
