/* mirror.c — the case mirror and how it follows Redis.
 *
 * A sync pass, per district:
 *   1. new ids: ZRANGEBYSCORE yx:{D}:cases from a minute before the newest score
 *      seen (a full pass reads the whole index and forgets ids that left it);
 *   2. changes: the mirror sends its ids with the versions it holds, 200 at a time,
 *      to a read-only script that answers with state and document of those whose
 *      version moved (or "-1" for a case that is gone); only those are parsed.
 * Cases in a terminal state are checked on full passes only (every S_FULL_EVERY
 * passes): they rarely change after closing (a rating, a reopen).
 *
 * Aggregates (cases by district/state/category, stage-latency histograms) are kept
 * by subtracting a summary's contribution before replacing it and adding the new
 * one, so they are always exactly the sum over the mirrored summaries. */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "log.h"
#include "util.h"

#define S_CHUNK 200        /* cases per version-check script call */
#define S_FULL_EVERY 5     /* every n-th pass is a full one */
#define S_LOOKBACK_MS 60000 /* index scores may arrive this much out of order */

const double yx_mx_bounds[YX_MX_BUCKETS] = { 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400,
                                             172800, 604800, 2592000 };
const char *const yx_mx_stage_names[YX_MX_STAGES] = { "report_to_dispatch", "dispatch_to_accept",
                                                      "accept_to_resolve" };

/* KEYS[1]: the district's case index (names the slot); ARGV[1]: case key prefix;
 * then id, known version pairs. Returns id, version, state, doc for each changed
 * case and id, "-1", "", "" for each missing one. Read-only. */
static const char s_check_script[] =
    "local out = {}\n"
    "for i = 2, #ARGV - 1, 2 do\n"
    "  local k = ARGV[1] .. ARGV[i]\n"
    "  local v = redis.call('HGET', k, 'version')\n"
    "  if not v then\n"
    "    out[#out + 1] = ARGV[i]; out[#out + 1] = '-1'; out[#out + 1] = ''; out[#out + 1] = ''\n"
    "  elseif v ~= ARGV[i + 1] then\n"
    "    local r = redis.call('HMGET', k, 'state', 'doc')\n"
    "    out[#out + 1] = ARGV[i]; out[#out + 1] = v\n"
    "    out[#out + 1] = r[1] or ''; out[#out + 1] = r[2] or ''\n"
    "  end\n"
    "end\n"
    "return out\n";

/* FNV-1a of a case id. */
static uint64_t
s_hash (const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char) *s) * 1099511628211ULL;
    return h;
}

/* Rebuilds the id index for the current entries: in place when the table is big
 * enough (after removals: cannot fail), in a larger one after growth. 0/-1. */
static int
s_reindex (yx_mirror_t *m)
{
    size_t n = 1024;
    while (n < m->ncases * 2 + 2)
        n *= 2;
    uint32_t *slots = m->slots;
    if (n > m->nslots) {
        slots = calloc (n, sizeof *slots);
        if (!slots)
            return -1;
        free (m->slots);
        m->slots = slots;
        m->nslots = n;
    }
    else
        memset (slots, 0, m->nslots * sizeof *slots);
    for (size_t i = 0; i < m->ncases; i++) {
        size_t s = s_hash (m->cases[i]->id) & (m->nslots - 1);
        while (slots[s])
            s = (s + 1) & (m->nslots - 1);
        slots[s] = (uint32_t) i + 1;
    }
    return 0;
}

int
yx_mirror_init (yx_mirror_t *m, const yx_config_t *cfg)
{
    memset (m, 0, sizeof *m);
    m->cfg = cfg;
    const char *codes[YX_MX_MAX_DISTRICTS];
    m->ndistricts = yx_config_districts (cfg, codes, YX_MX_MAX_DISTRICTS);
    for (int i = 0; i < m->ndistricts; i++)
        snprintf (m->districts[i], sizeof m->districts[i], "%s", codes[i]);
    m->by_state_cat = calloc ((size_t) (m->ndistricts ? m->ndistricts : 1) * YX_MS_COUNT
                                  * (size_t) (cfg->ncats + 1), sizeof (long));
    if (!m->by_state_cat || s_reindex (m)) {
        free (m->by_state_cat);
        return -1;
    }
    pthread_rwlock_init (&m->lock, NULL);
    m->ok = true;   /* until a pass fails: outages are logged once, when they start */
    return 0;
}

void
yx_mirror_destroy (yx_mirror_t *m)
{
    for (size_t i = 0; i < m->ncases; i++) {
        yx_mcase_clear (m->cases[i]);
        free (m->cases[i]);
    }
    free (m->cases);
    free (m->slots);
    free (m->by_state_cat);
    pthread_rwlock_destroy (&m->lock);
    memset (m, 0, sizeof *m);
}

int
yx_mirror_district (const yx_mirror_t *m, const char *code)
{
    for (int i = 0; i < m->ndistricts; i++)
        if (strcmp (m->districts[i], code) == 0)
            return i;
    return -1;
}

yx_mcase_t *
yx_mirror_get (const yx_mirror_t *m, const char *id)
{
    size_t s = s_hash (id) & (m->nslots - 1);
    while (m->slots[s]) {
        yx_mcase_t *c = m->cases[m->slots[s] - 1];
        if (strcmp (c->id, id) == 0)
            return c;
        s = (s + 1) & (m->nslots - 1);
    }
    return NULL;
}

/* Records one latency observation (sign -1 removes it). */
static void
s_observe (yx_mirror_t *m, int d, int stage, int64_t from, int64_t to, int sign)
{
    if (!from || !to || to < from)
        return;
    double s = (double) (to - from) / 1000.0;
    int b = 0;
    while (b < YX_MX_BUCKETS && s > yx_mx_bounds[b])
        b++;
    m->hist[d][stage][b] += sign;
    m->hist_sum[d][stage] += sign * s;
}

/* Adds (sign 1) or removes (sign -1) a summary's share of the aggregates. */
static void
s_account (yx_mirror_t *m, const yx_mcase_t *c, int sign)
{
    if (c->state < 0 || c->dead || c->district < 0 || c->district >= m->ndistricts)
        return;
    int d = c->district, ncat = m->cfg->ncats + 1;
    m->by_state_cat[((size_t) d * YX_MS_COUNT + (size_t) c->state) * (size_t) ncat + (size_t) c->cat] += sign;
    int64_t accepted = yx_mcase_first_accept (c);
    s_observe (m, d, 0, c->created_ms, c->dispatched_ms, sign);
    s_observe (m, d, 1, c->dispatched_ms, accepted, sign);
    s_observe (m, d, 2, accepted, c->resolved_ms, sign);
}

void
yx_mirror_put (yx_mirror_t *m, yx_mcase_t *c)
{
    yx_mcase_t *old = yx_mirror_get (m, c->id);
    if (old) {
        s_account (m, old, -1);
        yx_mcase_clear (old);
        uint32_t seen = old->seen;
        *old = *c;
        old->seen = seen > c->seen ? seen : c->seen;
        s_account (m, old, 1);
        memset (c, 0, sizeof *c);
        return;
    }
    yx_mcase_t *copy = malloc (sizeof *copy);
    if (!copy) {
        yx_mcase_clear (c);
        return;
    }
    if (m->ncases == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        yx_mcase_t **nc = realloc (m->cases, cap * sizeof *nc);
        if (!nc) {
            free (copy);
            yx_mcase_clear (c);
            return;
        }
        m->cases = nc;
        m->cap = cap;
    }
    *copy = *c;
    memset (c, 0, sizeof *c);
    m->cases[m->ncases++] = copy;
    /* grow the index when it is half full; if that fails the old one still has room */
    if (m->ncases * 2 + 2 <= m->nslots || s_reindex (m) != 0) {
        size_t s = s_hash (copy->id) & (m->nslots - 1);
        while (m->slots[s])
            s = (s + 1) & (m->nslots - 1);
        m->slots[s] = (uint32_t) m->ncases;
    }
    s_account (m, copy, 1);
}

/* Marks a case gone: its share leaves the aggregates; s_compact frees it. */
static void
s_kill (yx_mirror_t *m, yx_mcase_t *c)
{
    s_account (m, c, -1);
    c->dead = true;
}

/* Frees dead entries and rebuilds the index. Write lock held. */
static void
s_compact (yx_mirror_t *m)
{
    size_t j = 0;
    for (size_t i = 0; i < m->ncases; i++) {
        if (m->cases[i]->dead) {
            yx_mcase_clear (m->cases[i]);
            free (m->cases[i]);
        }
        else
            m->cases[j++] = m->cases[i];
    }
    if (j != m->ncases) {
        m->ncases = j;
        s_reindex (m);
    }
}

/* Step 1: learns new ids of district d from its index. 0/-1. */
static int
s_sync_index (yx_mirror_t *m, yx_store_t *store, int d, bool full)
{
    char k[64], min[32];
    yx_key (k, sizeof k, m->districts[d], YX_K_CASES);
    snprintf (min, sizeof min, "%lld", (long long) (m->max_score[d] - S_LOOKBACK_MS));
    redisReply *r = full ? yx_store_cmd (store, "ZRANGE %s 0 -1 WITHSCORES", k)
                         : yx_store_cmd (store, "ZRANGEBYSCORE %s %s +inf WITHSCORES", k, min);
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        if (r)
            freeReplyObject (r);
        return -1;
    }
    pthread_rwlock_wrlock (&m->lock);
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *id = r->element[i], *score = r->element[i + 1];
        char district[8];
        if (id->type != REDIS_REPLY_STRING || score->type != REDIS_REPLY_STRING
            || yx_case_id_district (id->str, district) || strcmp (district, m->districts[d]))
            continue;
        long long sc = atoll (score->str);
        if (sc > m->max_score[d])
            m->max_score[d] = sc;
        yx_mcase_t *c = yx_mirror_get (m, id->str);
        if (c) {
            c->seen = m->pass;
            continue;
        }
        yx_mcase_t fresh = { .state = -1, .district = (int8_t) d, .seen = m->pass };
        snprintf (fresh.id, sizeof fresh.id, "%s", id->str);
        yx_mirror_put (m, &fresh);
    }
    pthread_rwlock_unlock (&m->lock);
    freeReplyObject (r);
    return 0;
}

/* Runs the version check for n cases (ids with the versions held) and applies the
 * answers. key names the district's slot, prefix is its case key prefix. 0/-1. */
static int
s_check_chunk (yx_mirror_t *m, yx_store_t *store, int d, const char *key, const char *prefix,
               char (*ids)[32], const long long *versions, size_t n)
{
    redisReply *r = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!m->sha[0]) {
            redisReply *l = yx_store_cmd (store, "SCRIPT LOAD %s", s_check_script);
            if (!l || l->type != REDIS_REPLY_STRING) {
                if (l)
                    freeReplyObject (l);
                return -1;
            }
            snprintf (m->sha, sizeof m->sha, "%s", l->str);
            freeReplyObject (l);
        }
        yx_args_t args;
        yx_args_init (&args);
        yx_args_add (&args, "EVALSHA");
        yx_args_add (&args, m->sha);
        yx_args_add (&args, "1");
        yx_args_add (&args, key);
        yx_args_add (&args, prefix);
        for (size_t i = 0; i < n; i++) {
            yx_args_add (&args, ids[i]);
            yx_args_addf (&args, "%lld", versions[i]);
        }
        r = yx_store_argv (store, args.argc, (const char **) args.argv, args.lens);
        yx_args_free (&args);
        if (r && r->type == REDIS_REPLY_ERROR && strncmp (r->str, "NOSCRIPT", 8) == 0) {
            freeReplyObject (r);
            r = NULL;
            m->sha[0] = 0;
            continue;
        }
        break;
    }
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        if (r && r->type == REDIS_REPLY_ERROR) {
            char v[160];
            yx_warn ("sync_script_error", "error=%s", yx_log_value (r->str, v, sizeof v));
        }
        if (r)
            freeReplyObject (r);
        return -1;
    }
    pthread_rwlock_wrlock (&m->lock);
    for (size_t i = 0; i + 3 < r->elements; i += 4) {
        redisReply **e = &r->element[i];
        if (e[0]->type != REDIS_REPLY_STRING || e[1]->type != REDIS_REPLY_STRING)
            continue;
        yx_mcase_t *c = yx_mirror_get (m, e[0]->str);
        if (!c)
            continue;
        long long version = atoll (e[1]->str);
        yx_mcase_t next;
        if (version < 0 || e[3]->type != REDIS_REPLY_STRING
            || yx_mcase_parse (m->cfg, e[0]->str, d, e[2]->type == REDIS_REPLY_STRING ? e[2]->str : "",
                               version, e[3]->str, e[3]->len, &next)) {
            s_kill (m, c);   /* gone, or a document that cannot be read: not counted */
            continue;
        }
        next.seen = c->seen;
        yx_mirror_put (m, &next);
    }
    pthread_rwlock_unlock (&m->lock);
    freeReplyObject (r);
    return 0;
}

/* Step 2: re-reads the cases of district d whose version moved. 0/-1. */
static int
s_sync_versions (yx_mirror_t *m, yx_store_t *store, int d, bool full)
{
    char k[64], prefix[64];
    yx_key (k, sizeof k, m->districts[d], YX_K_CASES);
    yx_key (prefix, sizeof prefix, m->districts[d], "case:");
    /* The sync thread is the only writer, so it reads the entries without the lock;
     * ids are copied because applying a chunk may move entries. */
    size_t n = 0;
    char (*ids)[32] = malloc ((m->ncases ? m->ncases : 1) * sizeof *ids);
    long long *versions = malloc ((m->ncases ? m->ncases : 1) * sizeof *versions);
    if (!ids || !versions) {
        free (ids);
        free (versions);
        return -1;
    }
    for (size_t i = 0; i < m->ncases; i++) {
        const yx_mcase_t *c = m->cases[i];
        if (c->district != d || c->dead || (!full && c->version > 0 && yx_mcase_terminal (c)))
            continue;
        memcpy (ids[n], c->id, sizeof ids[n]);
        versions[n++] = c->version;
    }
    int rc = 0;
    for (size_t start = 0; start < n && rc == 0; start += S_CHUNK)
        rc = s_check_chunk (m, store, d, k, prefix, ids + start, versions + start,
                            n - start < S_CHUNK ? n - start : S_CHUNK);
    free (ids);
    free (versions);
    return rc;
}

int
yx_mirror_sync (yx_mirror_t *m, yx_store_t *store)
{
    int64_t t0 = yx_mono_ms ();
    bool full = !m->warm || m->pass % S_FULL_EVERY == 0;
    m->pass++;
    int rc = 0;
    for (int d = 0; d < m->ndistricts && rc == 0; d++)
        rc = s_sync_index (m, store, d, full) || s_sync_versions (m, store, d, full) ? -1 : 0;
    pthread_rwlock_wrlock (&m->lock);
    if (rc == 0 && full)
        for (size_t i = 0; i < m->ncases; i++)
            if (m->cases[i]->seen != m->pass && !m->cases[i]->dead)
                s_kill (m, m->cases[i]);
    s_compact (m);
    bool was_ok = m->ok;
    m->ok = rc == 0;
    if (rc == 0) {
        m->synced_mono = yx_mono_ms ();
        m->last_sync_s = (double) (m->synced_mono - t0) / 1000.0;
        if (full && !m->warm)
            yx_info ("mirror_warm", "cases=%zu seconds=%.3f", m->ncases, m->last_sync_s);
        if (!was_ok)
            yx_info ("mirror_recovered", "cases=%zu", m->ncases);
        m->warm = m->warm || full;
    }
    else {
        m->sync_errors++;
        if (was_ok)
            yx_warn ("mirror_sync_failed", "cases=%zu reason=redis", m->ncases);
    }
    pthread_rwlock_unlock (&m->lock);
    return rc;
}
