/* store.c — a self-healing hiredis connection with script caching. */
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct yx_store {
    redisContext *ctx;                  /* live connection or NULL */
    char host[128];                     /* server host */
    int port;                           /* server port */
    char password[128];                 /* AUTH password, "" for none */
    int timeout_ms;                     /* connect and command timeout */
    bool down_logged;                   /* an outage was logged already */
    char sha[YX_SCRIPT_COUNT][41];      /* SHA1 of each script */
    uint64_t commands;                  /* commands sent */
};

yx_store_t *
yx_store_new (const char *host, int port, const char *password, int timeout_ms)
{
    yx_store_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    snprintf (self->host, sizeof self->host, "%s", host);
    self->port = port;
    snprintf (self->password, sizeof self->password, "%s", password ? password : "");
    self->timeout_ms = timeout_ms;
    return self;
}

void
yx_store_destroy (yx_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->ctx)
        redisFree ((*self_p)->ctx);
    free (*self_p);
    *self_p = NULL;
}

/* Drops a broken connection and logs the outage once. */
static void
s_drop (yx_store_t *self, const char *why)
{
    if (!self->down_logged) {
        char v[160];
        yx_warn ("redis_down", "host=%s port=%d error=%s", self->host, self->port,
                 yx_log_value (why, v, sizeof v));
        self->down_logged = true;
    }
    if (self->ctx)
        redisFree (self->ctx);
    self->ctx = NULL;
}

/* Connects if needed. 0/-1. */
static int
s_connect (yx_store_t *self)
{
    if (self->ctx)
        return 0;
    struct timeval tv = { self->timeout_ms / 1000, (self->timeout_ms % 1000) * 1000 };
    redisContext *c = redisConnectWithTimeout (self->host, self->port, tv);
    if (!c || c->err) {
        s_drop (self, c ? c->errstr : "cannot allocate context");
        if (c)
            redisFree (c);
        return -1;
    }
    redisSetTimeout (c, tv);
    self->ctx = c;
    if (*self->password) {
        redisReply *r = redisCommand (c, "AUTH %s", self->password);
        bool ok = r && r->type != REDIS_REPLY_ERROR;
        if (r)
            freeReplyObject (r);
        if (!ok) {
            s_drop (self, "AUTH failed");
            return -1;
        }
    }
    if (self->down_logged)
        yx_info ("redis_up", "host=%s port=%d", self->host, self->port);
    self->down_logged = false;
    return 0;
}

/* Checks a reply: NULL means the connection is broken and is dropped. */
static redisReply *
s_check (yx_store_t *self, redisReply *r)
{
    self->commands++;
    if (!r)
        s_drop (self, self->ctx && self->ctx->errstr[0] ? self->ctx->errstr : "connection lost");
    return r;
}

/* A connection that broke while idle (Redis restarted) fails its next command; that
 * command is sent once more on a fresh connection. Every write Yixian sends is
 * idempotent or guarded by version, so a retry of a command that did run changes
 * nothing. */
redisReply *
yx_store_cmd (yx_store_t *self, const char *fmt, ...)
{
    redisReply *r = NULL;
    for (int attempt = 0; attempt < 2 && !r; attempt++) {
        bool had = self->ctx != NULL;
        if (s_connect (self))
            return NULL;
        va_list ap;
        va_start (ap, fmt);
        r = s_check (self, redisvCommand (self->ctx, fmt, ap));
        va_end (ap);
        if (!had)
            break;
    }
    return r;
}

redisReply *
yx_store_argv (yx_store_t *self, int argc, const char **argv, const size_t *lens)
{
    redisReply *r = NULL;
    for (int attempt = 0; attempt < 2 && !r; attempt++) {
        bool had = self->ctx != NULL;
        if (s_connect (self))
            return NULL;
        r = s_check (self, redisCommandArgv (self->ctx, argc, argv, lens));
        if (!had)
            break;
    }
    return r;
}

redisReply *
yx_store_script (yx_store_t *self, yx_script_t script, int nkeys, int argc, const char **argv,
                 const size_t *lens)
{
    if (!self->sha[script][0]) {
        const char *src = yx_store_script_source (script);
        /* SHA1 is what Redis names scripts by; libsodium has no SHA1, so ask Redis. */
        redisReply *r = yx_store_cmd (self, "SCRIPT LOAD %s", src);
        if (!r)
            return NULL;
        if (r->type == REDIS_REPLY_STRING && r->len == 40)
            memcpy (self->sha[script], r->str, 41);
        freeReplyObject (r);
        if (!self->sha[script][0])
            return NULL;
    }
    int n = argc + 3;
    const char **av = malloc (sizeof (char *) * (size_t) n);
    size_t *al = malloc (sizeof (size_t) * (size_t) n);
    if (!av || !al) {
        free (av);
        free (al);
        return NULL;
    }
    char nk[16];
    snprintf (nk, sizeof nk, "%d", nkeys);
    av[0] = "EVALSHA", al[0] = 7;
    av[1] = self->sha[script], al[1] = 40;
    av[2] = nk, al[2] = strlen (nk);
    for (int i = 0; i < argc; i++)
        av[i + 3] = argv[i], al[i + 3] = lens[i];
    redisReply *r = yx_store_argv (self, n, av, al);
    if (r && r->type == REDIS_REPLY_ERROR && strncmp (r->str, "NOSCRIPT", 8) == 0) {
        /* Redis restarted without its script cache: send the source once. */
        freeReplyObject (r);
        av[0] = "EVAL", al[0] = 4;
        av[1] = yx_store_script_source (script), al[1] = strlen (av[1]);
        r = yx_store_argv (self, n, av, al);
    }
    free (av);
    free (al);
    return r;
}

bool
yx_store_ping (yx_store_t *self)
{
    redisReply *r = yx_store_cmd (self, "PING");
    bool ok = r && r->type != REDIS_REPLY_ERROR;
    if (r)
        freeReplyObject (r);
    return ok;
}

uint64_t
yx_store_commands (const yx_store_t *self)
{
    return self->commands;
}

char *
yx_key (char *buf, size_t n, const char *district, const char *fmt, ...)
{
    int k = snprintf (buf, n, "yx:{%s}:", district);
    if (k < 0 || (size_t) k >= n)
        return buf;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (buf + k, n - (size_t) k, fmt, ap);
    va_end (ap);
    return buf;
}

void
yx_args_init (yx_args_t *a)
{
    memset (a, 0, sizeof *a);
}

void
yx_args_addn (yx_args_t *a, const char *s, size_t len)
{
    if (a->argc == a->cap) {
        int cap = a->cap ? a->cap * 2 : 16;
        char **nv = realloc (a->argv, sizeof (char *) * (size_t) cap);
        if (!nv)
            abort ();   /* out of memory: nothing sensible to do */
        a->argv = nv;
        size_t *nl = realloc (a->lens, sizeof (size_t) * (size_t) cap);
        if (!nl)
            abort ();
        a->lens = nl;
        a->cap = cap;
    }
    char *copy = malloc (len + 1);
    if (!copy)
        abort ();
    memcpy (copy, s, len);
    copy[len] = 0;
    a->argv[a->argc] = copy;
    a->lens[a->argc++] = len;
}

void
yx_args_add (yx_args_t *a, const char *s)
{
    yx_args_addn (a, s, strlen (s));
}

void
yx_args_addf (yx_args_t *a, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (buf, sizeof buf, fmt, ap);
    va_end (ap);
    if (n < 0)
        n = 0;
    yx_args_addn (a, buf, (size_t) n < sizeof buf ? (size_t) n : sizeof buf - 1);
}

void
yx_args_free (yx_args_t *a)
{
    for (int i = 0; i < a->argc; i++)
        free (a->argv[i]);
    free (a->argv);
    free (a->lens);
    memset (a, 0, sizeof *a);
}
