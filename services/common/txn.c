/* txn.c — collecting keys and ops for the COMMIT script. */
#include "txn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
yx_txn_init (yx_txn_t *t, const char *district, const char *case_id)
{
    char k[160];
    snprintf (t->district, sizeof t->district, "%s", district);
    yx_args_init (&t->keys);
    yx_args_init (&t->ops);
    yx_args_add (&t->keys, yx_key (k, sizeof k, district, "case:%s", case_id));
    yx_args_add (&t->keys, yx_key (k, sizeof k, district, "case:%s:tl", case_id));
    yx_args_add (&t->keys, yx_key (k, sizeof k, district, "case:%s:acts", case_id));
    yx_args_add (&t->keys, yx_key (k, sizeof k, district, "stats"));
}

int
yx_txn_key (yx_txn_t *t, const char *key)
{
    for (int i = 0; i < t->keys.argc; i++)
        if (strcmp (t->keys.argv[i], key) == 0)
            return i + 1;
    yx_args_add (&t->keys, key);
    return t->keys.argc;
}

/* Adds op name and key index. */
static void
s_op (yx_txn_t *t, const char *op, const char *key)
{
    yx_args_add (&t->ops, op);
    yx_args_addf (&t->ops, "%d", yx_txn_key (t, key));
}

void
yx_txn_zadd (yx_txn_t *t, const char *key, double score, const char *member)
{
    s_op (t, "ZADD", key);
    yx_args_addf (&t->ops, "%.0f", score);
    yx_args_add (&t->ops, member);
}

void
yx_txn_zrem (yx_txn_t *t, const char *key, const char *member)
{
    s_op (t, "ZREM", key);
    yx_args_add (&t->ops, member);
}

void
yx_txn_hincrby (yx_txn_t *t, const char *key, const char *field, long long by)
{
    s_op (t, "HINCRBY", key);
    yx_args_add (&t->ops, field);
    yx_args_addf (&t->ops, "%lld", by);
}

void
yx_txn_set (yx_txn_t *t, const char *key, const char *value, size_t len)
{
    s_op (t, "SET", key);
    yx_args_addn (&t->ops, value, len);
}

void
yx_txn_sadd (yx_txn_t *t, const char *key, const char *member)
{
    s_op (t, "SADD", key);
    yx_args_add (&t->ops, member);
}

void
yx_txn_rpush (yx_txn_t *t, const char *key, const char *value)
{
    s_op (t, "RPUSH", key);
    yx_args_add (&t->ops, value);
}

void
yx_txn_geoadd (yx_txn_t *t, const char *key, double lon, double lat, const char *member)
{
    s_op (t, "GEOADD", key);
    yx_args_addf (&t->ops, "%.7f", lon);
    yx_args_addf (&t->ops, "%.7f", lat);
    yx_args_add (&t->ops, member);
}

/* Copies reply element i as a string into buf. */
static void
s_elem (const redisReply *r, size_t i, char *buf, size_t n)
{
    buf[0] = 0;
    if (i < r->elements && r->element[i]->type == REDIS_REPLY_STRING)
        snprintf (buf, n, "%s", r->element[i]->str);
    else
    if (i < r->elements && r->element[i]->type == REDIS_REPLY_INTEGER)
        snprintf (buf, n, "%lld", r->element[i]->integer);
}

yx_txn_status_t
yx_txn_commit (yx_txn_t *t, yx_store_t *store, const yx_txn_spec_t *spec, yx_txn_result_t *out)
{
    memset (out, 0, sizeof *out);
    yx_args_t a;
    yx_args_init (&a);
    for (int i = 0; i < t->keys.argc; i++)
        yx_args_addn (&a, t->keys.argv[i], t->keys.lens[i]);
    int nkeys = a.argc;
    yx_args_add (&a, spec->expected_version ? spec->expected_version : "");
    yx_args_add (&a, spec->allowed_states ? spec->allowed_states : "*");
    yx_args_add (&a, spec->doc);
    yx_args_add (&a, spec->state);
    yx_args_add (&a, spec->timeline ? spec->timeline : "");
    yx_args_add (&a, spec->action_id ? spec->action_id : "");
    if (spec->guard_key) {
        int ki = yx_txn_key (t, spec->guard_key);
        if (ki > nkeys) {   /* new key: rebuild KEYS prefix */
            yx_args_free (&a);
            return yx_txn_commit (t, store, spec, out);
        }
        yx_args_addf (&a, "Z:%d:%s", ki, spec->guard_member);
    }
    else
        yx_args_add (&a, "");
    yx_args_add (&a, spec->result ? spec->result : "");
    for (int i = 0; i < t->ops.argc; i++)
        yx_args_addn (&a, t->ops.argv[i], t->ops.lens[i]);
    redisReply *r = yx_store_script (store, YX_SCRIPT_COMMIT, nkeys, a.argc,
                                     (const char **) a.argv, a.lens);
    yx_args_free (&a);
    out->status = YX_TXN_UNAVAILABLE;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements >= 2
        && r->element[0]->type == REDIS_REPLY_INTEGER) {
        char buf[32];
        switch (r->element[0]->integer) {
        case 1:
            out->status = YX_TXN_OK;
            s_elem (r, 1, buf, sizeof buf);
            out->version = atoll (buf);
            break;
        case 2:
            out->status = YX_TXN_DUPLICATE;
            if (r->element[1]->type == REDIS_REPLY_STRING)
                out->stored = strdup (r->element[1]->str);
            break;
        default:
            out->status = YX_TXN_CONFLICT;
            s_elem (r, 1, out->reason, sizeof out->reason);
            s_elem (r, 2, out->state, sizeof out->state);
            s_elem (r, 3, buf, sizeof buf);
            out->version = atoll (buf);
        }
    }
    if (r)
        freeReplyObject (r);
    return out->status;
}

void
yx_txn_free (yx_txn_t *t)
{
    yx_args_free (&t->keys);
    yx_args_free (&t->ops);
}
