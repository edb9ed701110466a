/* store.h — the Redis connection every service uses: commands, scripts, keys.
 *
 * A store never gives up: when Redis is gone a call returns NULL (the caller answers
 * 503 or retries later) and the next call reconnects. Replies are hiredis replies the
 * caller frees with freeReplyObject(). Not thread-safe: one store per thread. */
#ifndef YX_STORE_H
#define YX_STORE_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct yx_store yx_store_t;

/* The Lua scripts of store_scripts.c. */
typedef enum { YX_SCRIPT_REPORT = 0, YX_SCRIPT_COMMIT, YX_SCRIPT_COUNT } yx_script_t;

yx_store_t *yx_store_new (const char *host, int port, const char *password, int timeout_ms);
void yx_store_destroy (yx_store_t **self_p);

/* Runs a printf-style command. NULL when Redis is unreachable or the connection broke
 * (the error is logged once per outage). A Redis error reply is returned as a reply. */
redisReply *yx_store_cmd (yx_store_t *self, const char *fmt, ...);
/* Same with binary-safe arguments. */
redisReply *yx_store_argv (yx_store_t *self, int argc, const char **argv, const size_t *lens);
/* Runs a script by SHA, loading it on NOSCRIPT. argv holds the keys then the args. */
redisReply *yx_store_script (yx_store_t *self, yx_script_t script, int nkeys, int argc,
                             const char **argv, const size_t *lens);

/* True when the last call reached Redis (or a PING does now). */
bool yx_store_ping (yx_store_t *self);
/* Commands sent since start (benchmark accounting). */
uint64_t yx_store_commands (const yx_store_t *self);

/* Writes "yx:{DISTRICT}:suffix…" into buf; returns buf. */
char *yx_key (char *buf, size_t n, const char *district, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

/* Script sources, for tests and for loading. */
const char *yx_store_script_source (yx_script_t script);

/* Argument vector builder for scripts and commands: strings are copied. */
typedef struct {
    int argc;          /* arguments so far */
    int cap;           /* allocated slots */
    char **argv;       /* copies of the arguments */
    size_t *lens;      /* their lengths (binary safe) */
} yx_args_t;

void yx_args_init (yx_args_t *a);
void yx_args_add (yx_args_t *a, const char *s);
void yx_args_addn (yx_args_t *a, const char *s, size_t len);
void yx_args_addf (yx_args_t *a, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void yx_args_free (yx_args_t *a);

#endif
