/* engine.c — events in, deliveries out, outcomes recorded.
 *
 * An event arrives on the bus (fast path) or from a sweep of q:notify / q:retry
 * (the guarantee). Its recipients are computed from the rules, the due ones are
 * claimed in Redis (ledger PLAN), then each is delivered: the feed at once, HTTP
 * channels through the pool. Outcomes wait in an outbox and are recorded in one
 * script per district per loop turn (ledger DONE). A crash anywhere only means a
 * claimed delivery is retried when its lease runs out: at least once, never lost. */
#include "notifier.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "case.h"
#include "log.h"
#include "stage.h"
#include "util.h"

#define S_BATCH 128          /* events per plan script at most */
#define S_DONE_BATCH 256     /* outcomes per done script at most */

/* An event id collected by a sweep. */
typedef struct {
    char eid[40];                     /* event id */
    char member[128];                 /* the q:retry member it came from, "" from q:notify */
} s_pending_t;

/* An event being planned. */
typedef struct {
    yx_env_t *env;                    /* the decoded envelope (owned) */
    const char *member;               /* q:retry member it came from, or NULL */
    bool orphan;                      /* member names a recipient the rules no longer have */
    yx_nt_rcpt_t *rcpt;               /* recipients to claim */
    int nrcpt;                        /* entries in rcpt */
    int64_t *defer_to;                /* per recipient: 0, or later (its endpoint is full) */
    int *attempts;                    /* attempt numbers from the claim */
    json_t *doc;                      /* the case document, loaded when a message needs it */
    bool doc_tried;                   /* doc was looked up already */
} s_item_t;

struct yx_notifier {
    const yx_config_t *cfg;           /* configuration */
    const yx_nt_rules_t *rules;       /* channels and templates */
    yx_store_t *store;                /* Redis (not owned) */
    void *feed;                       /* PUB inbox feed (not owned) */
    yx_nt_ledger_t *ledger;           /* delivery state */
    yx_nt_pool_t *pool;               /* HTTP deliveries */
    int room;                         /* jobs the pool may hold before new events wait */
    int64_t lease_ms;                 /* how long a claimed attempt may take before it is retried */
    yx_nt_outcome_t *outbox;          /* outcomes not yet recorded */
    int nout;                         /* entries in outbox */
    int capout;                       /* allocated entries */
    char sweep_district[8];           /* district of the sweep batch */
    const char *sweep_queue;          /* queue being swept */
    s_pending_t batch[S_BATCH];       /* the sweep batch */
    int nbatch;                       /* entries in batch */
};

yx_notifier_t *
yx_notifier_new (const yx_config_t *cfg, const yx_nt_rules_t *rules, yx_store_t *store, void *feed)
{
    yx_notifier_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    self->rules = rules;
    self->store = store;
    self->feed = feed;
    self->room = cfg->notifier_max_inflight * 4;
    /* A job waits at most one timeout for its endpoint, then runs for at most one. */
    self->lease_ms = 2LL * cfg->notifier_timeout_ms + 1000;
    self->ledger = yx_nt_ledger_new (store, rules->keep_ms);
    /* One endpoint may hold at most half the room, so others always find some. */
    self->pool = yx_nt_pool_new (cfg->notifier_max_inflight, cfg->notifier_per_endpoint, self->room / 2,
                                 cfg->notifier_timeout_ms);
    if (!self->ledger || !self->pool)
        yx_notifier_destroy (&self);
    return self;
}

void
yx_notifier_destroy (yx_notifier_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yx_notifier_t *self = *self_p;
    if (self->ledger && self->pool)
        yx_notifier_settle (self);
    for (int i = 0; i < self->nout; i++)
        free (self->outbox[i].record);
    free (self->outbox);
    yx_nt_pool_destroy (&self->pool);
    yx_nt_ledger_destroy (&self->ledger);
    free (self);
    *self_p = NULL;
}

yx_nt_pool_t *
yx_notifier_pool (yx_notifier_t *self)
{
    return self->pool;
}

bool
yx_notifier_has_room (const yx_notifier_t *self)
{
    return yx_nt_pool_size (self->pool) < self->room;
}

/* True for an id fit for keys and logs: 1..39 of [A-Za-z0-9_-]. */
static bool
s_eid_ok (const char *eid, size_t len)
{
    if (len == 0 || len >= 40)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((eid[i] >= 'a' && eid[i] <= 'z') || (eid[i] >= 'A' && eid[i] <= 'Z') || (eid[i] >= '0' && eid[i] <= '9')
              || eid[i] == '-' || eid[i] == '_'))
            return false;
    return true;
}

/* Retry delay after attempt: backoff_ms doubled per attempt up to backoff_max_ms,
 * then "equal jitter": half fixed, half random, so retries of many deliveries to
 * one endpoint spread out. */
static int64_t
s_backoff (const yx_config_t *cfg, int attempt)
{
    int64_t d = cfg->notifier_backoff_ms;
    for (int i = 1; i < attempt && d < cfg->notifier_backoff_max_ms; i++)
        d *= 2;
    if (d > cfg->notifier_backoff_max_ms)
        d = cfg->notifier_backoff_max_ms;
    return d / 2 + (int64_t) randombytes_uniform ((uint32_t) (d / 2 + 1));
}

/* Queues an outcome for job; record (owned) for dead letters. */
static void
s_outcome (yx_notifier_t *self, const yx_nt_job_t *job, yx_nt_result_t result, int64_t next_at,
           const char *error, char *record)
{
    if (self->nout == self->capout) {
        int cap = self->capout ? self->capout * 2 : 256;
        yx_nt_outcome_t *o = realloc (self->outbox, sizeof *o * (size_t) cap);
        if (!o) {   /* the claim's lease brings the delivery back */
            free (record);
            return;
        }
        self->outbox = o, self->capout = cap;
    }
    yx_nt_outcome_t *o = &self->outbox[self->nout++];
    memset (o, 0, sizeof *o);
    snprintf (o->district, sizeof o->district, "%s", job->district);
    snprintf (o->event_id, sizeof o->event_id, "%s", job->event_id);
    snprintf (o->rcpt, sizeof o->rcpt, "%s", job->rcpt);
    snprintf (o->delivery_id, sizeof o->delivery_id, "%s", job->delivery_id);
    snprintf (o->error, sizeof o->error, "%s", error ? error : "");
    o->channel = job->channel;
    o->result = result;
    o->next_at = next_at;
    o->record = record;
}

/* Records a failed attempt: a retry, or a dead letter after the last attempt (or
 * at once when final is set: the message cannot be built). */
static void
s_failed (yx_notifier_t *self, const yx_nt_job_t *job, const char *why, bool final, int64_t now)
{
    char v[160], ep[160] = "-";
    if (*job->url)
        yx_nt_endpoint (job->url, ep, sizeof ep);
    if (final || job->attempt >= self->cfg->notifier_max_attempts) {
        yx_warn ("deadletter", "case=%s event_id=%s recipient=%s endpoint=%s attempts=%d reason=%s", job->case_id,
                 job->event_id, job->rcpt, ep, job->attempt, yx_log_value (why, v, sizeof v));
        s_outcome (self, job, YX_NT_DEAD, 0, why, yx_nt_dead_record (job, why, now, self->cfg->utc_offset_min));
        return;
    }
    int64_t next = now + s_backoff (self->cfg, job->attempt);
    yx_warn ("delivery_failed", "case=%s event_id=%s recipient=%s endpoint=%s attempt=%d error=%s retry_in_ms=%lld",
             job->case_id, job->event_id, job->rcpt, ep, job->attempt, yx_log_value (why, v, sizeof v),
             (long long) (next - now));
    s_outcome (self, job, YX_NT_RETRY, next, why, NULL);
}

/* Records what a finished HTTP attempt came to. */
static void
s_finished (yx_notifier_t *self, const yx_nt_job_t *job, int64_t now)
{
    if (job->unsent) {   /* not an attempt: back to its schedule, uncounted */
        s_outcome (self, job, YX_NT_DEFER, now + s_backoff (self->cfg, 1), job->error, NULL);
        return;
    }
    if (*job->error) {
        s_failed (self, job, job->error, false, now);
        return;
    }
    yx_debug ("delivered", "case=%s event_id=%s recipient=%s attempt=%d status=%ld ms=%lld", job->case_id,
              job->event_id, job->rcpt, job->attempt, job->status, (long long) job->elapsed_ms);
    s_outcome (self, job, YX_NT_OK, 0, NULL, NULL);
}

/* Records the outbox, one script per district. 0, or -1 when Redis is down (the
 * outcomes stay for the next turn). */
static int
s_flush (yx_notifier_t *self)
{
    if (!self->nout)
        return 0;
    int64_t now = yx_now_ms ();
    unsigned char *st = calloc ((size_t) self->nout, 1);   /* 0 open, 1 in group, 2 recorded, 3 kept */
    yx_nt_outcome_t *grp = malloc (sizeof *grp * (size_t) self->nout);
    int rc = st && grp ? 0 : -1;
    for (int i = 0; rc == 0 && i < self->nout; i++) {
        if (st[i])
            continue;
        int n = 0;
        for (int j = i; j < self->nout && n < S_DONE_BATCH; j++)
            if (!st[j] && strcmp (self->outbox[j].district, self->outbox[i].district) == 0)
                grp[n++] = self->outbox[j], st[j] = 1;
        int ok = yx_nt_ledger_done (self->ledger, self->outbox[i].district, grp, n, now) == 0;
        for (int j = i; j < self->nout; j++)
            if (st[j] == 1)
                st[j] = ok ? 2 : 3;
        if (!ok)
            rc = -1;
    }
    int kept = 0;
    for (int i = 0; st && grp && i < self->nout; i++) {
        if (st[i] == 2)
            free (self->outbox[i].record);
        else
            self->outbox[kept++] = self->outbox[i];
    }
    if (st && grp)
        self->nout = kept;
    free (st);
    free (grp);
    return rc;
}

void
yx_notifier_settle (yx_notifier_t *self)
{
    int64_t now = yx_now_ms ();
    yx_nt_job_t *job;
    while ((job = yx_nt_pool_finished (self->pool))) {
        s_finished (self, job, now);
        yx_nt_job_destroy (&job);
    }
    s_flush (self);
}

/* Publishes ev on the inbox feed: topic "dept.<id>", then the Envelope bytes. */
static void
s_publish (yx_notifier_t *self, const yx_nt_job_t *job, const yx_nt_rcpt_t *r, const yx_env_t *env, int64_t now)
{
    char topic[64];
    snprintf (topic, sizeof topic, "dept.%s", r->target);
    size_t len = yixian__v1__envelope__get_packed_size (env);
    uint8_t *buf = malloc (len ? len : 1);
    int rc = -1;
    if (buf) {
        yixian__v1__envelope__pack (env, buf);
        rc = yx_bus_send_packed (self->feed, topic, buf, len);
        free (buf);
    }
    if (rc == 0)
        s_outcome (self, job, YX_NT_OK, 0, NULL, NULL);
    else
        s_failed (self, job, "feed send failed", false, now);
}

/* Loads the case document of an item once (for messages that show deadlines or the
 * source's reference). -1 when Redis is unreachable. */
static int
s_doc (yx_notifier_t *self, s_item_t *it)
{
    if (it->doc_tried)
        return 0;
    yx_case_t c;
    int rc = yx_case_load (self->store, it->env->event->case_id, 0, &c);
    if (rc == YX_CASE_UNAVAILABLE)
        return -1;
    it->doc_tried = true;
    if (rc == YX_CASE_FOUND) {
        it->doc = c.doc;
        c.doc = NULL;
    }
    yx_case_clear (&c);
    return 0;
}

/* Starts the delivery of one claimed recipient. */
static void
s_deliver (yx_notifier_t *self, const char *district, s_item_t *it, const yx_nt_rcpt_t *r, int attempt, int64_t now)
{
    const yx_event_t *ev = it->env->event;
    yx_nt_job_t *job = yx_nt_job_new ();
    if (!job)
        return;   /* the claim's lease brings it back */
    snprintf (job->district, sizeof job->district, "%s", district);
    snprintf (job->event_id, sizeof job->event_id, "%s", ev->event_id);
    snprintf (job->case_id, sizeof job->case_id, "%s", ev->case_id);
    for (size_t i = 0, n = 0; ev->type[i] && n + 1 < sizeof job->type; i++)
        if ((ev->type[i] >= 'A' && ev->type[i] <= 'Z') || (ev->type[i] >= '0' && ev->type[i] <= '9') || ev->type[i] == '_')
            job->type[n++] = ev->type[i];
    snprintf (job->rcpt, sizeof job->rcpt, "%s", r->name);
    snprintf (job->key, sizeof job->key, "%s/%s", ev->event_id, r->name);
    yx_nt_delivery_id (ev->event_id, r->name, job->delivery_id);
    snprintf (job->url, sizeof job->url, "%s", r->url ? r->url : "");
    job->channel = r->channel;
    job->attempt = attempt;
    job->secret = r->secret;
    if (r->channel == YX_NT_FEED)
        s_publish (self, job, r, it->env, now);
    else
    if (r->channel != YX_NT_WEBHOOK && s_doc (self, it))
        s_outcome (self, job, YX_NT_DEFER, now + s_backoff (self->cfg, 1), "redis unavailable", NULL);
    else
    if (!(job->body = yx_nt_compose (self->rules, ev, r, it->doc, &job->body_len)))
        s_failed (self, job, "cannot compose the message", true, now);
    else
    if (yx_nt_pool_submit (self->pool, job) == 0)
        return;   /* the pool owns it now */
    else
        s_outcome (self, job, YX_NT_DEFER, now + s_backoff (self->cfg, 1), "endpoint busy", NULL);
    yx_nt_job_destroy (&job);
}

/* A q:retry member whose recipient the rules no longer name: it can never be
 * claimed again, so it becomes a dead letter instead of lingering. */
static void
s_orphan (yx_notifier_t *self, const char *district, const s_item_t *it, int64_t now)
{
    const char *rcpt = strchr (it->member, '/') + 1;
    yx_nt_job_t job;
    memset (&job, 0, sizeof job);
    const yx_event_t *ev = it->env->event;
    snprintf (job.district, sizeof job.district, "%s", district);
    snprintf (job.event_id, sizeof job.event_id, "%s", ev->event_id);
    snprintf (job.case_id, sizeof job.case_id, "%s", ev->case_id);
    snprintf (job.rcpt, sizeof job.rcpt, "%s", rcpt);
    snprintf (job.key, sizeof job.key, "%s", it->member);
    yx_nt_delivery_id (ev->event_id, rcpt, job.delivery_id);
    job.channel = strncmp (rcpt, "feed:", 5) == 0      ? YX_NT_FEED
                  : strncmp (rcpt, "gateway:", 8) == 0  ? YX_NT_GATEWAY
                  : strncmp (rcpt, "callback:", 9) == 0 ? YX_NT_CALLBACK
                                                        : YX_NT_WEBHOOK;
    s_failed (self, &job, "no longer a recipient (configuration changed)", true, now);
}

/* Room left at the endpoint of url within one plan: the pool's room less what the
 * plan claimed already. budget holds (url, room) pairs of the plan. */
typedef struct {
    const char *url;                  /* endpoint URL (owned by the rules) */
    int room;                         /* jobs it can still take */
} s_budget_t;

/* True when one more job for url fits; counts it. */
static bool
s_take_room (yx_notifier_t *self, s_budget_t *budget, int *nbudget, const char *url)
{
    int i = 0;
    while (i < *nbudget && budget[i].url != url)
        i++;
    if (i == *nbudget) {
        if (*nbudget == S_BATCH)
            return true;   /* more endpoints than tracked: the pool still refuses what does not fit */
        budget[(*nbudget)++] = (s_budget_t) { url, yx_nt_pool_room (self->pool, url) };
    }
    return budget[i].room-- > 0;
}

/* Plans and starts the deliveries of n decoded events of one district (takes the
 * envelopes). members[i]: the q:retry member event i came from, or NULL. A
 * delivery whose endpoint has no room is deferred in the same plan, so a burst
 * for one endpoint waits in Redis, not in memory. */
static void
s_plan (yx_notifier_t *self, const char *district, yx_env_t **envs, const char *const *members, int n)
{
    s_item_t *items = calloc ((size_t) n + 1, sizeof *items);
    yx_nt_plan_t *plans = calloc ((size_t) n + 1, sizeof *plans);
    bool ok = items && plans && s_flush (self) == 0;   /* outcomes first: they may free claims */
    int m = 0, nbudget = 0;
    s_budget_t budget[S_BATCH];
    int64_t now = yx_now_ms ();
    for (int i = 0; i < n; i++) {
        if (!ok) {
            yx_env_free (envs[i]);
            continue;
        }
        const yx_event_t *ev = envs[i]->event;
        yx_nt_rcpt_t all[YX_NT_MAX_RCPT];
        int k = yx_nt_recipients (self->rules, ev, all, YX_NT_MAX_RCPT), kept = 0;
        s_item_t *it = &items[m];
        it->env = envs[i];
        it->member = members ? members[i] : NULL;
        it->orphan = it->member != NULL;
        for (int j = 0; it->member && j < k; j++)
            it->orphan &= strcmp (all[j].name, strchr (it->member, '/') + 1) != 0;
        it->rcpt = malloc (sizeof *it->rcpt * (size_t) (k + 1));
        it->attempts = calloc ((size_t) k + 1, sizeof (int));
        it->defer_to = calloc ((size_t) k + 1, sizeof (int64_t));
        for (int j = 0; it->rcpt && it->attempts && it->defer_to && j < k; j++) {
            char key[128];
            snprintf (key, sizeof key, "%s/%s", ev->event_id, all[j].name);
            if (yx_nt_pool_has (self->pool, key))
                continue;
            if (all[j].url && !s_take_room (self, budget, &nbudget, all[j].url))
                it->defer_to[kept] = now + s_backoff (self->cfg, 1);
            it->rcpt[kept++] = all[j];
        }
        it->nrcpt = kept;
        plans[m] = (yx_nt_plan_t) { ev->event_id, it->rcpt, kept, it->defer_to, it->attempts };
        m++;
    }
    if (ok && m && yx_nt_ledger_plan (self->ledger, district, plans, m, now, now + self->lease_ms) == 0)
        for (int i = 0; i < m; i++) {
            if (items[i].orphan)
                s_orphan (self, district, &items[i], now);
            for (int j = 0; j < items[i].nrcpt; j++)
                if (items[i].attempts[j] > 0)
                    s_deliver (self, district, &items[i], &items[i].rcpt[j], items[i].attempts[j], now);
        }
    for (int i = 0; i < m; i++) {
        yx_env_free (items[i].env);
        free (items[i].rcpt);
        free (items[i].attempts);
        free (items[i].defer_to);
        json_decref (items[i].doc);
    }
    free (items);
    free (plans);
}

/* Why a stored envelope is not a deliverable event of district with id eid, or
 * NULL when it is one. */
static const char *
s_invalid (const yx_env_t *env, const char *district, const char *eid)
{
    if (env->body_case != YIXIAN__V1__ENVELOPE__BODY_EVENT || !env->event)
        return "not_an_event";
    const yx_event_t *ev = env->event;
    char d[8];
    if (!ev->event_id || strcmp (ev->event_id, eid))
        return "event_id_mismatch";
    if (!ev->case_id || yx_case_id_district (ev->case_id, d))
        return "bad_case_id";
    if (strcmp (d, district))
        return "wrong_district";
    if (yx_nt_type_index (ev->type) < 0)
        return "no_type";
    return NULL;
}

/* Dead-letters an event that cannot be delivered. */
static void
s_drop (yx_notifier_t *self, const char *district, const s_pending_t *p, const char *why, const char *bytes,
        size_t len)
{
    int64_t now = yx_now_ms ();
    char *rec = yx_nt_garbage_record (p->eid, why, bytes, len, now, self->cfg->utc_offset_min);
    yx_nt_ledger_drop (self->ledger, district, p->eid, *p->member ? p->member : NULL, rec ? rec : "{}", now);
    free (rec);
    yx_warn ("event_dropped", "district=%s event_id=%s reason=%s bytes=%zu", district, p->eid, why, len);
}

/* Loads, checks and plans the events of the sweep batch. */
static void
s_batch_run (yx_notifier_t *self)
{
    int n = self->nbatch;
    self->nbatch = 0;
    if (!n)
        return;
    const char *ids[S_BATCH] = { 0 }, *members[S_BATCH];
    char *bytes[S_BATCH];
    size_t lens[S_BATCH];
    yx_env_t *envs[S_BATCH];
    for (int i = 0; i < n; i++)
        ids[i] = self->batch[i].eid;
    if (yx_nt_ledger_fetch (self->ledger, self->sweep_district, ids, n, bytes, lens))
        return;
    int m = 0;
    for (int i = 0; i < n; i++) {
        yx_env_t *env = bytes[i] ? yx_env_decode (bytes[i], lens[i]) : NULL;
        const char *why = !bytes[i] ? "missing" : !env ? "undecodable" : s_invalid (env, self->sweep_district, ids[i]);
        if (why) {
            s_drop (self, self->sweep_district, &self->batch[i], why, bytes[i], lens[i]);
            yx_env_free (env);
        }
        else {
            envs[m] = env;
            members[m++] = *self->batch[i].member ? self->batch[i].member : NULL;
        }
        free (bytes[i]);
    }
    s_plan (self, self->sweep_district, envs, members, m);
}

/* Stage-sweep callback: collects event ids into the batch. */
static int
s_collect (void *arg, const char *district, const char *member)
{
    yx_notifier_t *self = arg;
    if (strcmp (district, self->sweep_district)) {
        s_batch_run (self);
        snprintf (self->sweep_district, sizeof self->sweep_district, "%s", district);
    }
    bool retry = strcmp (self->sweep_queue, YX_Q_NOTIFY) != 0;
    const char *slash = retry ? strchr (member, '/') : NULL;
    size_t len = retry ? (slash ? (size_t) (slash - member) : 0) : strlen (member);
    if (!s_eid_ok (member, len) || strlen (member) >= sizeof self->batch[0].member) {
        char v[160];
        yx_warn ("queue_member_dropped", "district=%s queue=%s member=%s reason=not_an_event_id", district,
                 self->sweep_queue, yx_log_value (member, v, sizeof v));
        yx_nt_ledger_forget (self->ledger, district, self->sweep_queue, member);
        return 0;
    }
    if (retry && yx_nt_pool_has (self->pool, member))
        return 0;   /* still in flight here */
    for (int i = 0; i < self->nbatch; i++)
        if (strlen (self->batch[i].eid) == len && strncmp (self->batch[i].eid, member, len) == 0)
            return 0;
    s_pending_t *p = &self->batch[self->nbatch++];
    snprintf (p->eid, sizeof p->eid, "%.*s", (int) len, member);
    snprintf (p->member, sizeof p->member, "%s", retry ? member : "");
    if (self->nbatch == S_BATCH)
        s_batch_run (self);
    return 0;
}

/* Sweeps one queue for members due at due_ms, as far as there is room. 0 when it
 * took everything due, 1 when more may be waiting, -1 when Redis is down. */
static int
s_sweep (yx_notifier_t *self, const char *queue, int64_t due_ms)
{
    int room = self->room - yx_nt_pool_size (self->pool);
    if (room <= 0)
        return 1;
    self->sweep_queue = queue;
    self->sweep_district[0] = 0;
    self->nbatch = 0;
    int rc = yx_stage_sweep (self->store, self->cfg, queue, due_ms, room, s_collect, self);
    s_batch_run (self);
    return rc < 0 ? -1 : rc >= room;
}

int
yx_notifier_retries (yx_notifier_t *self)
{
    yx_notifier_settle (self);
    return s_sweep (self, "q:retry", yx_now_ms ());
}

int
yx_notifier_sweep (yx_notifier_t *self, int64_t due_ms)
{
    yx_notifier_settle (self);
    const char *codes[64];
    int nd = yx_config_districts (self->cfg, codes, 64), down = 0;
    for (int i = 0; i < nd; i++)
        down |= yx_nt_ledger_requests (self->ledger, codes[i], yx_now_ms ()) < 0;
    down |= s_sweep (self, "q:retry", yx_now_ms ()) < 0;
    int rc = s_sweep (self, YX_Q_NOTIFY, due_ms);
    return down ? -1 : rc;
}

void
yx_notifier_events (yx_notifier_t *self, yx_env_t **envs, int n)
{
    /* Each event goes to its district's plan; events that do not check out are left
     * to the sweep, which dead-letters what is really broken. */
    char *district = calloc ((size_t) n + 1, 8);
    for (int i = 0; district && i < n; i++) {
        const yx_event_t *ev = envs[i]->body_case == YIXIAN__V1__ENVELOPE__BODY_EVENT ? envs[i]->event : NULL;
        const yx_area_t *a;
        if (!ev || !ev->event_id || !s_eid_ok (ev->event_id, strlen (ev->event_id)) || !ev->case_id
            || yx_case_id_district (ev->case_id, district + 8 * i) || !(a = yx_config_area (self->cfg, district + 8 * i))
            || a->level != YX_AREA_DISTRICT || s_invalid (envs[i], district + 8 * i, ev->event_id)) {
            yx_warn ("bus_event_ignored", "reason=not_a_deliverable_event");
            yx_env_free (envs[i]);
            envs[i] = NULL;
            district[8 * i] = 0;
        }
    }
    while (district) {
        yx_env_t *group[S_BATCH];
        int m = 0, first = -1;
        for (int i = 0; i < n && m < S_BATCH; i++) {
            if (!envs[i])
                continue;
            if (first < 0)
                first = i;
            if (strcmp (district + 8 * i, district + 8 * first) == 0)
                group[m++] = envs[i], envs[i] = NULL;
        }
        if (first < 0)
            break;
        s_plan (self, district + 8 * first, group, NULL, m);
    }
    for (int i = 0; i < n; i++)
        yx_env_free (envs[i]);
    free (district);
}
