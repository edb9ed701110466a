/* ledger.c — delivery state in Redis. Every change is one Lua script, so a crash
 * between two lines never leaves half a state, and a replay changes nothing.
 *
 * Keys of district D (docs/notifier.md has the full layout):
 *   yx:{D}:ev:<eid>             the event (Envelope bytes, written by the dispatcher)
 *   yx:{D}:q:notify             event ids not yet settled, scored by when to look again
 *   yx:{D}:dlv:<eid>            hash: recipient → {"state","attempts","next_at",…}
 *   yx:{D}:q:retry              "<eid>/<recipient>" scored by when to (re)try
 *   yx:{D}:deadletters          hash: "<eid>/<recipient>" → dead-letter JSON
 *   yx:{D}:deadletters:at       the same ids scored by when they died
 *   yx:{D}:deadletters:requests list of operator requests ("redeliver ID" …)
 *   yx:{D}:stats                counters (deliveries_ok, deliveries_failed, deadletters …)
 *
 * Delivery states: sending (claimed, lease until next_at) → ok | pending (retry at
 * next_at) | dead; dead → pending (redeliver) | discarded. */
#include "notifier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "stage.h"

/* Shared by the scripts: rd reads a delivery record; settle takes an event out of
 * q:notify once nothing is open (TTL on its keys unless a dead letter needs them),
 * or re-scores it to its earliest open delivery. */
#define S_PRELUDE                                                                       \
    "local function rd(h, f)\n"                                                         \
    "  local v = redis.call('HGET', h, f)\n"                                            \
    "  if not v then return nil end\n"                                                  \
    "  local ok, d = pcall(cjson.decode, v)\n"                                          \
    "  if ok and type(d) == 'table' then return d end\n"                                \
    "  return nil\n"                                                                    \
    "end\n"                                                                             \
    "local function settle(dlv, ev, qn, eid, now, keep)\n"                              \
    "  local open, dead, nxt = 0, 0, nil\n"                                             \
    "  for _, v in ipairs(redis.call('HVALS', dlv)) do\n"                               \
    "    local ok, d = pcall(cjson.decode, v)\n"                                        \
    "    if ok and type(d) == 'table' then\n"                                           \
    "      if d.state == 'dead' then dead = dead + 1\n"                                 \
    "      elseif d.state ~= 'ok' and d.state ~= 'discarded' then\n"                    \
    "        open = open + 1\n"                                                         \
    "        local t = tonumber(d.next_at) or now\n"                                    \
    "        if not nxt or t < nxt then nxt = t end\n"                                  \
    "      end\n"                                                                       \
    "    end\n"                                                                         \
    "  end\n"                                                                           \
    "  if open > 0 then redis.call('ZADD', qn, nxt, eid) return 0 end\n"                \
    "  redis.call('ZREM', qn, eid)\n"                                                   \
    "  if dead == 0 then\n"                                                             \
    "    redis.call('PEXPIRE', ev, keep) redis.call('PEXPIRE', dlv, keep)\n"            \
    "  else\n"                                                                          \
    "    redis.call('PERSIST', ev) redis.call('PERSIST', dlv)\n"                        \
    "  end\n"                                                                           \
    "  return 1\n"                                                                      \
    "end\n"

/* PLAN  KEYS: q:retry, q:notify, then per event dlv, ev
 *       ARGV: now, lease_until, keep_ms, then per event: eid, n, n × (recipient,
 *             channel, delivery id, defer_to: 0 or when to look again instead of a
 *             claim) → attempt number per recipient (0 = not now) */
static const char s_plan[] = S_PRELUDE
    "local now, lease, keep = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local out, a, k = {}, 4, 3\n"
    "while a <= #ARGV do\n"
    "  local eid, n = ARGV[a], tonumber(ARGV[a + 1])\n"
    "  local dlv, ev = KEYS[k], KEYS[k + 1]\n"
    "  a, k = a + 2, k + 2\n"
    "  for i = 1, n do\n"
    "    local r, dfr = ARGV[a], tonumber(ARGV[a + 3])\n"
    "    local d = rd(dlv, r) or {state = 'new', attempts = 0, next_at = 0, last_error = ''}\n"
    "    d.channel, d.delivery_id = ARGV[a + 1], ARGV[a + 2]\n"
    "    a = a + 4\n"
    "    local s = d.state\n"
    "    out[#out + 1] = 0\n"
    "    if (s == 'new' or s == 'pending' or s == 'sending') and (tonumber(d.next_at) or 0) <= now then\n"
    "      if dfr > 0 then\n"
    "        d.state, d.attempts, d.next_at, d.updated_at = 'pending', tonumber(d.attempts) or 0, dfr, now\n"
    "      else\n"
    "        d.state, d.attempts, d.next_at, d.updated_at = 'sending', (tonumber(d.attempts) or 0) + 1, lease, now\n"
    "        out[#out] = d.attempts\n"
    "      end\n"
    "      redis.call('HSET', dlv, r, cjson.encode(d))\n"
    "      redis.call('ZADD', KEYS[1], d.next_at, eid .. '/' .. r)\n"
    "    end\n"
    "  end\n"
    "  settle(dlv, ev, KEYS[2], eid, now, keep)\n"
    "end\n"
    "return out\n";

/* DONE  KEYS: q:retry, q:notify, stats, deadletters, deadletters:at, then per event dlv, ev
 *       ARGV: now, keep_ms, then per event: eid, n, n × (recipient, result, next_at,
 *             error, channel, delivery id, dead-letter record) → outcomes applied */
static const char s_done[] = S_PRELUDE
    "local now, keep = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local a, k, done = 3, 6, 0\n"
    "while a <= #ARGV do\n"
    "  local eid, n = ARGV[a], tonumber(ARGV[a + 1])\n"
    "  local dlv, ev = KEYS[k], KEYS[k + 1]\n"
    "  a, k = a + 2, k + 2\n"
    "  for i = 1, n do\n"
    "    local r, res, nxt, err = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3]\n"
    "    local ch, id, rec = ARGV[a + 4], ARGV[a + 5], ARGV[a + 6]\n"
    "    a = a + 7\n"
    "    local m = eid .. '/' .. r\n"
    "    local d = rd(dlv, r) or {state = 'sending', attempts = 1, last_error = ''}\n"
    "    if d.state ~= 'ok' and d.state ~= 'dead' and d.state ~= 'discarded' then\n"
    "      d.channel, d.delivery_id, d.updated_at = ch, id, now\n"
    "      if res == 'ok' then\n"
    "        d.state, d.next_at = 'ok', 0\n"
    "        redis.call('ZREM', KEYS[1], m)\n"
    "        redis.call('HINCRBY', KEYS[3], 'deliveries_ok', 1)\n"
    "        redis.call('HINCRBY', KEYS[3], 'deliveries_ok:' .. ch, 1)\n"
    "      elseif res == 'defer' then\n"
    "        d.state, d.next_at = 'pending', nxt\n"
    "        d.attempts = math.max((tonumber(d.attempts) or 1) - 1, 0)\n"
    "        redis.call('ZADD', KEYS[1], nxt, m)\n"
    "      else\n"
    "        d.last_error = err\n"
    "        redis.call('HINCRBY', KEYS[3], 'deliveries_failed', 1)\n"
    "        redis.call('HINCRBY', KEYS[3], 'deliveries_failed:' .. ch, 1)\n"
    "        if res == 'dead' then\n"
    "          d.state, d.next_at = 'dead', 0\n"
    "          redis.call('ZREM', KEYS[1], m)\n"
    "          redis.call('HSET', KEYS[4], m, rec)\n"
    "          redis.call('ZADD', KEYS[5], now, m)\n"
    "          redis.call('HINCRBY', KEYS[3], 'deadletters', 1)\n"
    "          redis.call('HINCRBY', KEYS[3], 'deadletters:' .. ch, 1)\n"
    "        else\n"
    "          d.state, d.next_at = 'pending', nxt\n"
    "          redis.call('ZADD', KEYS[1], nxt, m)\n"
    "        end\n"
    "      end\n"
    "      redis.call('HSET', dlv, r, cjson.encode(d))\n"
    "      done = done + 1\n"
    "    end\n"
    "  end\n"
    "  settle(dlv, ev, KEYS[2], eid, now, keep)\n"
    "end\n"
    "return done\n";

/* DROP  KEYS: q:notify, q:retry, stats, deadletters, deadletters:at
 *       ARGV: eid, dead-letter id, now, record, retry member or "" → 1 if new */
static const char s_drop[] =
    "redis.call('ZREM', KEYS[1], ARGV[1])\n"
    "if ARGV[5] ~= '' then redis.call('ZREM', KEYS[2], ARGV[5]) end\n"
    "if redis.call('HSETNX', KEYS[4], ARGV[2], ARGV[4]) == 1 then\n"
    "  redis.call('ZADD', KEYS[5], ARGV[3], ARGV[2])\n"
    "  redis.call('HINCRBY', KEYS[3], 'deadletters', 1)\n"
    "  redis.call('HINCRBY', KEYS[3], 'deadletters:event', 1)\n"
    "  return 1\n"
    "end\n"
    "return 0\n";

/* REQUEST  KEYS: deadletters, deadletters:at, dlv, ev, q:retry, q:notify, stats
 *          ARGV: dead-letter id, eid, recipient, now, "redeliver" | "discard", keep_ms
 *          → 1 applied, 0 no such dead letter */
static const char s_request[] = S_PRELUDE
    "if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end\n"
    "redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "local now = tonumber(ARGV[4])\n"
    "local d = rd(KEYS[3], ARGV[3])\n"
    "if ARGV[5] == 'redeliver' then\n"
    "  if d then\n"
    "    d.state, d.attempts, d.next_at, d.updated_at = 'pending', 0, now, now\n"
    "    redis.call('HSET', KEYS[3], ARGV[3], cjson.encode(d))\n"
    "    redis.call('ZADD', KEYS[5], now, ARGV[1])\n"
    "  end\n"
    "  redis.call('ZADD', KEYS[6], now, ARGV[2])\n"
    "  redis.call('HINCRBY', KEYS[7], 'redelivered', 1)\n"
    "else\n"
    "  if d then\n"
    "    d.state, d.updated_at = 'discarded', now\n"
    "    redis.call('HSET', KEYS[3], ARGV[3], cjson.encode(d))\n"
    "  end\n"
    "  settle(KEYS[3], KEYS[4], KEYS[6], ARGV[2], now, tonumber(ARGV[6]))\n"
    "  redis.call('HINCRBY', KEYS[7], 'deadletters_discarded', 1)\n"
    "end\n"
    "return 1\n";

enum { S_PLAN = 0, S_DONE, S_DROP, S_REQUEST, S_NSCRIPTS };

static const char *s_sources[S_NSCRIPTS] = { s_plan, s_done, s_drop, s_request };

struct yx_nt_ledger {
    yx_store_t *store;                /* Redis (not owned) */
    int64_t keep_ms;                  /* TTL of settled events */
    char sha[S_NSCRIPTS][41];         /* SHA1 of each script once loaded */
};

static const char *s_results[] = { "ok", "retry", "dead", "defer" };

yx_nt_ledger_t *
yx_nt_ledger_new (yx_store_t *store, int64_t keep_ms)
{
    yx_nt_ledger_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    self->keep_ms = keep_ms;
    return self;
}

void
yx_nt_ledger_destroy (yx_nt_ledger_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

/* Runs script with keys then args (EVALSHA, loading it on NOSCRIPT). The reply, or
 * NULL when Redis is unreachable; a script error is logged and freed (NULL too,
 * with *failed set so the caller can tell it from an outage). */
static redisReply *
s_eval (yx_nt_ledger_t *self, int script, yx_args_t *keys, yx_args_t *args, bool *failed)
{
    *failed = false;
    if (!self->sha[script][0]) {
        redisReply *r = yx_store_cmd (self->store, "SCRIPT LOAD %s", s_sources[script]);
        if (!r)
            return NULL;
        if (r->type == REDIS_REPLY_STRING && r->len == 40)
            memcpy (self->sha[script], r->str, 41);
        freeReplyObject (r);
        if (!self->sha[script][0]) {
            *failed = true;
            return NULL;
        }
    }
    yx_args_t av;
    yx_args_init (&av);
    yx_args_add (&av, "EVALSHA");
    yx_args_add (&av, self->sha[script]);
    yx_args_addf (&av, "%d", keys->argc);
    for (int i = 0; i < keys->argc; i++)
        yx_args_addn (&av, keys->argv[i], keys->lens[i]);
    for (int i = 0; i < args->argc; i++)
        yx_args_addn (&av, args->argv[i], args->lens[i]);
    redisReply *r = yx_store_argv (self->store, av.argc, (const char **) av.argv, av.lens);
    if (r && r->type == REDIS_REPLY_ERROR && strncmp (r->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject (r);
        free (av.argv[0]);
        free (av.argv[1]);
        av.argv[0] = strdup ("EVAL"), av.lens[0] = 4;
        av.argv[1] = strdup (s_sources[script]), av.lens[1] = strlen (s_sources[script]);
        r = av.argv[0] && av.argv[1] ? yx_store_argv (self->store, av.argc, (const char **) av.argv, av.lens) : NULL;
    }
    yx_args_free (&av);
    if (r && r->type == REDIS_REPLY_ERROR) {
        char v[200];
        yx_error ("ledger_script_failed", "script=%d error=%s", script, yx_log_value (r->str, v, sizeof v));
        freeReplyObject (r);
        *failed = true;
        return NULL;
    }
    return r;
}

int
yx_nt_ledger_fetch (yx_nt_ledger_t *self, const char *district, const char *const *event_ids, int n,
                    char **bytes, size_t *lens)
{
    yx_args_t av;
    yx_args_init (&av);
    yx_args_add (&av, "MGET");
    for (int i = 0; i < n; i++) {
        char k[128];
        yx_args_add (&av, yx_key (k, sizeof k, district, "ev:%s", event_ids[i]));
        bytes[i] = NULL, lens[i] = 0;
    }
    redisReply *r = n ? yx_store_argv (self->store, av.argc, (const char **) av.argv, av.lens) : NULL;
    yx_args_free (&av);
    if (!r)
        return n ? -1 : 0;
    int rc = r->type == REDIS_REPLY_ARRAY && r->elements == (size_t) n ? 0 : -1;
    for (int i = 0; rc == 0 && i < n; i++)
        if (r->element[i]->type == REDIS_REPLY_STRING && (bytes[i] = malloc (r->element[i]->len + 1))) {
            memcpy (bytes[i], r->element[i]->str, r->element[i]->len);
            lens[i] = r->element[i]->len;
        }
    freeReplyObject (r);
    return rc;
}

/* Adds the dlv and ev keys of an event to keys. */
static void
s_event_keys (yx_args_t *keys, const char *district, const char *eid)
{
    char k[128];
    yx_args_add (keys, yx_key (k, sizeof k, district, "dlv:%s", eid));
    yx_args_add (keys, yx_key (k, sizeof k, district, "ev:%s", eid));
}

int
yx_nt_ledger_plan (yx_nt_ledger_t *self, const char *district, yx_nt_plan_t *plans, int n, int64_t now,
                   int64_t lease_until)
{
    char k[128];
    yx_args_t keys, args;
    yx_args_init (&keys);
    yx_args_init (&args);
    yx_args_add (&keys, yx_key (k, sizeof k, district, "q:retry"));
    yx_args_add (&keys, yx_key (k, sizeof k, district, "q:notify"));
    yx_args_addf (&args, "%lld", (long long) now);
    yx_args_addf (&args, "%lld", (long long) lease_until);
    yx_args_addf (&args, "%lld", (long long) self->keep_ms);
    int total = 0;
    for (int i = 0; i < n; i++) {
        s_event_keys (&keys, district, plans[i].event_id);
        yx_args_add (&args, plans[i].event_id);
        yx_args_addf (&args, "%d", plans[i].nrcpt);
        for (int j = 0; j < plans[i].nrcpt; j++) {
            char id[33];
            yx_args_add (&args, plans[i].rcpt[j].name);
            yx_args_add (&args, yx_nt_channel_name (plans[i].rcpt[j].channel));
            yx_args_add (&args, yx_nt_delivery_id (plans[i].event_id, plans[i].rcpt[j].name, id));
            yx_args_addf (&args, "%lld", (long long) (plans[i].defer_to ? plans[i].defer_to[j] : 0));
            plans[i].attempts[j] = 0;
        }
        total += plans[i].nrcpt;
    }
    bool failed;
    redisReply *r = s_eval (self, S_PLAN, &keys, &args, &failed);
    yx_args_free (&keys);
    yx_args_free (&args);
    if (!r)
        return -1;
    int rc = r->type == REDIS_REPLY_ARRAY && r->elements == (size_t) total ? 0 : -1;
    for (int i = 0, e = 0; rc == 0 && i < n; i++)
        for (int j = 0; j < plans[i].nrcpt; j++, e++)
            plans[i].attempts[j] = r->element[e]->type == REDIS_REPLY_INTEGER ? (int) r->element[e]->integer : 0;
    freeReplyObject (r);
    return rc;
}

int
yx_nt_ledger_done (yx_nt_ledger_t *self, const char *district, const yx_nt_outcome_t *out, int n, int64_t now)
{
    char k[128];
    yx_args_t keys, args;
    yx_args_init (&keys);
    yx_args_init (&args);
    yx_args_add (&keys, yx_key (k, sizeof k, district, "q:retry"));
    yx_args_add (&keys, yx_key (k, sizeof k, district, "q:notify"));
    yx_args_add (&keys, yx_key (k, sizeof k, district, "stats"));
    yx_args_add (&keys, yx_key (k, sizeof k, district, "deadletters"));
    yx_args_add (&keys, yx_key (k, sizeof k, district, "deadletters:at"));
    yx_args_addf (&args, "%lld", (long long) now);
    yx_args_addf (&args, "%lld", (long long) self->keep_ms);
    /* Outcomes are grouped by event: each event once, with all of its outcomes. */
    bool *used = calloc ((size_t) n + 1, sizeof (bool));
    for (int i = 0; used && i < n; i++) {
        if (used[i])
            continue;
        int count = 0;
        for (int j = i; j < n; j++)
            count += !used[j] && strcmp (out[j].event_id, out[i].event_id) == 0;
        s_event_keys (&keys, district, out[i].event_id);
        yx_args_add (&args, out[i].event_id);
        yx_args_addf (&args, "%d", count);
        for (int j = i; j < n; j++) {
            if (used[j] || strcmp (out[j].event_id, out[i].event_id))
                continue;
            used[j] = true;
            yx_args_add (&args, out[j].rcpt);
            yx_args_add (&args, s_results[out[j].result]);
            yx_args_addf (&args, "%lld", (long long) out[j].next_at);
            yx_args_add (&args, out[j].error);
            yx_args_add (&args, yx_nt_channel_name (out[j].channel));
            yx_args_add (&args, out[j].delivery_id);
            yx_args_add (&args, out[j].record ? out[j].record : "");
        }
    }
    bool failed = !used;
    redisReply *r = used ? s_eval (self, S_DONE, &keys, &args, &failed) : NULL;
    free (used);
    yx_args_free (&keys);
    yx_args_free (&args);
    if (r)
        freeReplyObject (r);
    /* A script error will not heal by retrying: report it as recorded (logged). */
    return r || failed ? 0 : -1;
}

/* The five per-district keys DROP uses. */
static void
s_drop_keys (yx_args_t *keys, const char *district)
{
    char k[128];
    yx_args_add (keys, yx_key (k, sizeof k, district, "q:notify"));
    yx_args_add (keys, yx_key (k, sizeof k, district, "q:retry"));
    yx_args_add (keys, yx_key (k, sizeof k, district, "stats"));
    yx_args_add (keys, yx_key (k, sizeof k, district, "deadletters"));
    yx_args_add (keys, yx_key (k, sizeof k, district, "deadletters:at"));
}

int
yx_nt_ledger_drop (yx_nt_ledger_t *self, const char *district, const char *event_id, const char *retry_member,
                   const char *record, int64_t now)
{
    yx_args_t keys, args;
    yx_args_init (&keys);
    yx_args_init (&args);
    s_drop_keys (&keys, district);
    yx_args_add (&args, event_id);
    yx_args_addf (&args, "%s/event", event_id);
    yx_args_addf (&args, "%lld", (long long) now);
    yx_args_add (&args, record);
    yx_args_add (&args, retry_member ? retry_member : "");
    bool failed;
    redisReply *r = s_eval (self, S_DROP, &keys, &args, &failed);
    yx_args_free (&keys);
    yx_args_free (&args);
    if (r)
        freeReplyObject (r);
    return r ? 0 : -1;
}

/* Applies one request (mode "redeliver" or "discard") to dead letter id. 1 applied,
 * 0 no such dead letter, -1 Redis down. */
static int
s_request_one (yx_nt_ledger_t *self, const char *district, const char *mode, const char *id, int64_t now)
{
    const char *slash = strchr (id, '/');
    if (!slash || slash == id || slash - id >= 40 || strlen (slash + 1) >= 80)
        return 0;
    char eid[40], k[128];
    snprintf (eid, sizeof eid, "%.*s", (int) (slash - id), id);
    yx_args_t keys, args;
    yx_args_init (&keys);
    yx_args_init (&args);
    yx_args_add (&keys, yx_key (k, sizeof k, district, "deadletters"));
    yx_args_add (&keys, yx_key (k, sizeof k, district, "deadletters:at"));
    s_event_keys (&keys, district, eid);
    yx_args_add (&keys, yx_key (k, sizeof k, district, "q:retry"));
    yx_args_add (&keys, yx_key (k, sizeof k, district, "q:notify"));
    yx_args_add (&keys, yx_key (k, sizeof k, district, "stats"));
    yx_args_add (&args, id);
    yx_args_add (&args, eid);
    yx_args_add (&args, slash + 1);
    yx_args_addf (&args, "%lld", (long long) now);
    yx_args_add (&args, mode);
    yx_args_addf (&args, "%lld", (long long) self->keep_ms);
    bool failed;
    redisReply *r = s_eval (self, S_REQUEST, &keys, &args, &failed);
    yx_args_free (&keys);
    yx_args_free (&args);
    if (!r)
        return failed ? 0 : -1;
    int rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject (r);
    if (rc) {
        char v[160];
        yx_info (strcmp (mode, "redeliver") == 0 ? "deadletter_redelivered" : "deadletter_discarded",
                 "district=%s id=%s", district, yx_log_value (id, v, sizeof v));
    }
    return rc;
}

/* Applies one request line: "redeliver ID", "redeliver *", "discard ID", "discard *". */
static int
s_request_line (yx_nt_ledger_t *self, const char *district, const char *line, int64_t now)
{
    char mode[16], id[160];
    if (sscanf (line, "%15s %159s", mode, id) != 2
        || (strcmp (mode, "redeliver") && strcmp (mode, "discard"))) {
        char v[160];
        yx_warn ("deadletter_request_ignored", "district=%s request=%s", district, yx_log_value (line, v, sizeof v));
        return 0;
    }
    if (strcmp (id, "*"))
        return s_request_one (self, district, mode, id, now);
    char k[128];
    redisReply *r = yx_store_cmd (self->store, "HKEYS %s", yx_key (k, sizeof k, district, "deadletters"));
    if (!r)
        return -1;
    int applied = 0, rc = 0;
    for (size_t i = 0; rc >= 0 && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_STRING
            && (rc = s_request_one (self, district, mode, r->element[i]->str, now)) > 0)
            applied++;
    freeReplyObject (r);
    return rc < 0 ? -1 : applied;
}

int
yx_nt_ledger_requests (yx_nt_ledger_t *self, const char *district, int64_t now)
{
    /* Read, apply, then trim: applying is idempotent, so a crash in between only
     * applies a request twice, never loses it. */
    char k[128];
    yx_key (k, sizeof k, district, "deadletters:requests");
    redisReply *r = yx_store_cmd (self->store, "LRANGE %s 0 99", k);
    if (!r)
        return -1;
    int applied = 0, rc = 0;
    size_t i = 0;
    for (; rc >= 0 && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_STRING && (rc = s_request_line (self, district, r->element[i]->str, now)) > 0)
            applied += rc;
    size_t taken = rc < 0 ? i - 1 : i;
    freeReplyObject (r);
    if (taken && (r = yx_store_cmd (self->store, "LTRIM %s %lld -1", k, (long long) taken)))
        freeReplyObject (r);
    return rc < 0 ? -1 : applied;
}

void
yx_nt_ledger_forget (yx_nt_ledger_t *self, const char *district, const char *queue, const char *member)
{
    yx_stage_drop (self->store, district, queue, member);
}
