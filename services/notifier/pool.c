/* pool.c — concurrent HTTP deliveries over libcurl's multi interface.
 *
 * Nothing here blocks: curl tells the pool which sockets to watch (they go into the
 * service's zmq_poll together with its ZeroMQ sockets) and when to call back. Each
 * endpoint (scheme://host:port) runs at most per_endpoint requests and queues at
 * most queue_per_endpoint more; beyond that submit refuses, and a job that waited
 * longer than one timeout comes back unsent. So a slow or dead endpoint holds only
 * its own bounded share of the pool, for a bounded time, and never delays others.
 * Connections are reused across requests to the same endpoint. */
#include "notifier.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "util.h"

#define S_BUCKETS 4096   /* hash buckets for live jobs */

typedef struct {
    char key[160];                    /* scheme://host:port */
    int running;                      /* requests in flight */
    int queued;                       /* requests waiting */
    yx_nt_job_t *head;                /* first waiting request */
    yx_nt_job_t *tail;                /* last waiting request */
} s_endpoint_t;

typedef struct {
    int fd;                           /* socket curl asked us to watch */
    short events;                     /* ZMQ_POLLIN | ZMQ_POLLOUT */
} s_watch_t;

struct yx_nt_pool {
    CURLM *multi;                     /* the curl multi handle */
    int max_inflight;                 /* requests in flight at most */
    int per_endpoint;                 /* in flight to one endpoint at most */
    int queue_per_endpoint;           /* waiting for one endpoint at most */
    int timeout_ms;                   /* whole-request timeout */
    int running;                      /* requests in flight */
    int held;                         /* jobs queued or running */
    s_endpoint_t **eps;               /* endpoints seen so far */
    int neps;                         /* entries in eps */
    int cursor;                       /* round-robin start when a slot frees */
    s_watch_t *watch;                 /* sockets to poll */
    int nwatch;                       /* entries in watch */
    int capwatch;                     /* allocated entries */
    int64_t timer_at;                 /* monotonic ms curl wants a timeout call, -1 none */
    yx_nt_job_t *done_head;           /* finished jobs, oldest first */
    yx_nt_job_t *done_tail;           /* last finished job */
    yx_nt_job_t *live[S_BUCKETS];     /* queued and running jobs by key */
};

yx_nt_job_t *
yx_nt_job_new (void)
{
    return calloc (1, sizeof (yx_nt_job_t));
}

void
yx_nt_job_destroy (yx_nt_job_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->body);
    free (*self_p);
    *self_p = NULL;
}

/* FNV-1a bucket of a key. */
static unsigned
s_bucket (const char *key)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *) key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % S_BUCKETS;
}

/* Takes job out of the live hash. */
static void
s_unlink (yx_nt_pool_t *self, yx_nt_job_t *job)
{
    for (yx_nt_job_t **p = &self->live[s_bucket (job->key)]; *p; p = &(*p)->hnext)
        if (*p == job) {
            *p = job->hnext;
            job->hnext = NULL;
            self->held--;
            return;
        }
}

/* Moves job to the finished list. */
static void
s_finish (yx_nt_pool_t *self, yx_nt_job_t *job)
{
    s_unlink (self, job);
    job->next = NULL;
    if (self->done_tail)
        self->done_tail->next = job;
    else
        self->done_head = job;
    self->done_tail = job;
}

/* curl: watch or stop watching a socket. */
static int
s_on_socket (CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void) easy, (void) socketp;
    yx_nt_pool_t *self = userp;
    int i = 0;
    while (i < self->nwatch && self->watch[i].fd != fd)
        i++;
    if (what == CURL_POLL_REMOVE) {
        if (i < self->nwatch)
            self->watch[i] = self->watch[--self->nwatch];
        return 0;
    }
    if (i == self->nwatch) {
        if (self->nwatch == self->capwatch) {
            int cap = self->capwatch ? self->capwatch * 2 : 64;
            s_watch_t *w = realloc (self->watch, sizeof *w * (size_t) cap);
            if (!w)
                return -1;
            self->watch = w, self->capwatch = cap;
        }
        self->nwatch++;
    }
    self->watch[i].fd = fd;
    self->watch[i].events = (short) (((what & CURL_POLL_IN) ? ZMQ_POLLIN : 0) | ((what & CURL_POLL_OUT) ? ZMQ_POLLOUT : 0));
    return 0;
}

/* curl: call back after timeout_ms (-1: never). */
static int
s_on_timer (CURLM *multi, long timeout_ms, void *userp)
{
    (void) multi;
    yx_nt_pool_t *self = userp;
    self->timer_at = timeout_ms < 0 ? -1 : yx_mono_ms () + timeout_ms;
    return 0;
}

/* curl: the answer's body is not needed. */
static size_t
s_discard (char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void) ptr, (void) userdata;
    return size * nmemb;
}

yx_nt_pool_t *
yx_nt_pool_new (int max_inflight, int per_endpoint, int queue_per_endpoint, int timeout_ms)
{
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    yx_nt_pool_t *self = calloc (1, sizeof *self);
    if (!self || !(self->multi = curl_multi_init ())) {
        free (self);
        curl_global_cleanup ();
        return NULL;
    }
    self->max_inflight = max_inflight;
    self->per_endpoint = per_endpoint;
    self->queue_per_endpoint = queue_per_endpoint;
    self->timeout_ms = timeout_ms;
    self->timer_at = -1;
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETFUNCTION, s_on_socket);
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERFUNCTION, s_on_timer);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERDATA, self);
    curl_multi_setopt (self->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) per_endpoint);
    return self;
}

/* Stops a running transfer and frees its curl state. */
static void
s_release (yx_nt_pool_t *self, yx_nt_job_t *job)
{
    if (job->easy) {
        curl_multi_remove_handle (self->multi, job->easy);
        curl_easy_cleanup (job->easy);
        job->easy = NULL;
    }
    curl_slist_free_all (job->headers);
    job->headers = NULL;
}

void
yx_nt_pool_destroy (yx_nt_pool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yx_nt_pool_t *self = *self_p;
    for (int b = 0; b < S_BUCKETS; b++)
        while (self->live[b]) {
            yx_nt_job_t *job = self->live[b];
            self->live[b] = job->hnext;
            s_release (self, job);
            yx_nt_job_destroy (&job);
        }
    while (self->done_head) {
        yx_nt_job_t *job = self->done_head;
        self->done_head = job->next;
        yx_nt_job_destroy (&job);
    }
    for (int i = 0; i < self->neps; i++)
        free (self->eps[i]);
    free (self->eps);
    free (self->watch);
    curl_multi_cleanup (self->multi);
    curl_global_cleanup ();
    free (self);
    *self_p = NULL;
}

/* The endpoint of url, created on first use. NULL when out of memory. */
static s_endpoint_t *
s_endpoint (yx_nt_pool_t *self, const char *url)
{
    char key[160];
    yx_nt_endpoint (url, key, sizeof key);
    for (int i = 0; i < self->neps; i++)
        if (strcmp (self->eps[i]->key, key) == 0)
            return self->eps[i];
    s_endpoint_t **eps = realloc (self->eps, sizeof *eps * (size_t) (self->neps + 1));
    if (!eps)
        return NULL;
    self->eps = eps;
    s_endpoint_t *ep = calloc (1, sizeof *ep);
    if (!ep)
        return NULL;
    snprintf (ep->key, sizeof ep->key, "%s", key);
    self->eps[self->neps++] = ep;
    return ep;
}

/* Appends "Name: value" to the header list, value reduced to safe characters. */
static struct curl_slist *
s_header (struct curl_slist *list, const char *name, const char *value)
{
    char line[200];
    int n = snprintf (line, sizeof line, "%s: ", name);
    for (const char *p = value; *p && n < (int) sizeof line - 1; p++)
        if (*p > ' ' && *p < 0x7f)
            line[n++] = *p;
    line[n] = 0;
    struct curl_slist *l = curl_slist_append (list, line);
    if (!l)
        curl_slist_free_all (list);
    return l;
}

/* Starts one request: signs it now (the timestamp is the sending time). */
static void
s_start (yx_nt_pool_t *self, yx_nt_job_t *job)
{
    s_endpoint_t *ep = job->ep;
    char ts[24], sig[72], attempt[16];
    snprintf (ts, sizeof ts, "%lld", (long long) (yx_now_ms () / 1000));
    snprintf (attempt, sizeof attempt, "%d", job->attempt);
    yx_nt_sign (job->secret ? job->secret : "", ts, job->body ? job->body : "", job->body_len, sig);
    struct curl_slist *h = curl_slist_append (NULL, "Content-Type: application/json");
    h = h ? s_header (h, "User-Agent", "yixian-notifier/1") : NULL;
    h = h ? s_header (h, "X-Yixian-Event", job->type) : NULL;
    h = h ? s_header (h, "X-Yixian-Delivery", job->delivery_id) : NULL;
    h = h ? s_header (h, "X-Yixian-Timestamp", ts) : NULL;
    h = h ? s_header (h, "X-Yixian-Signature", sig) : NULL;
    h = h ? s_header (h, "X-Yixian-Attempt", attempt) : NULL;
    h = h ? curl_slist_append (h, "Expect:") : NULL;   /* no 100-continue round trip */
    CURL *e = h ? curl_easy_init () : NULL;
    if (!e) {
        curl_slist_free_all (h);
        snprintf (job->error, sizeof job->error, "out of memory");
        s_finish (self, job);
        return;
    }
    curl_easy_setopt (e, CURLOPT_URL, job->url);
    curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (e, CURLOPT_POST, 1L);
    curl_easy_setopt (e, CURLOPT_POSTFIELDS, job->body ? job->body : "");
    curl_easy_setopt (e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) job->body_len);
    curl_easy_setopt (e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt (e, CURLOPT_TIMEOUT_MS, (long) self->timeout_ms);
    curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT_MS, (long) self->timeout_ms);
    curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt (e, CURLOPT_PRIVATE, job);
    job->easy = e;
    job->headers = h;
    job->started_ms = yx_mono_ms ();
    if (curl_multi_add_handle (self->multi, e) != CURLM_OK) {
        s_release (self, job);
        snprintf (job->error, sizeof job->error, "cannot start request");
        s_finish (self, job);
        return;
    }
    ep->running++;
    self->running++;
}

/* Starts waiting jobs while there is room, taking endpoints in turn. */
static void
s_pump (yx_nt_pool_t *self)
{
    for (int idle = 0; self->running < self->max_inflight && idle < self->neps;) {
        s_endpoint_t *ep = self->eps[self->cursor++ % self->neps];
        if (!ep->head || ep->running >= self->per_endpoint) {
            idle++;
            continue;
        }
        yx_nt_job_t *job = ep->head;
        ep->head = job->next;
        if (!ep->head)
            ep->tail = NULL;
        job->next = NULL;
        ep->queued--;
        s_start (self, job);
        idle = 0;
    }
}

int
yx_nt_pool_submit (yx_nt_pool_t *self, yx_nt_job_t *job)
{
    s_endpoint_t *ep = s_endpoint (self, job->url);
    if (!ep)
        return -1;
    bool now = !ep->head && ep->running < self->per_endpoint && self->running < self->max_inflight;
    if (!now && ep->queued >= self->queue_per_endpoint)
        return -1;
    job->ep = ep;
    unsigned b = s_bucket (job->key);
    job->hnext = self->live[b];
    self->live[b] = job;
    self->held++;
    if (now)
        s_start (self, job);
    else {
        job->next = NULL;
        job->started_ms = yx_mono_ms ();
        if (ep->tail)
            ep->tail->next = job;
        else
            ep->head = job;
        ep->tail = job;
        ep->queued++;
    }
    return 0;
}

int
yx_nt_pool_room (yx_nt_pool_t *self, const char *url)
{
    s_endpoint_t *ep = s_endpoint (self, url);
    if (!ep)
        return 0;
    int slots = ep->head ? 0 : self->per_endpoint - ep->running;
    return (slots > 0 ? slots : 0) + self->queue_per_endpoint - ep->queued;
}

bool
yx_nt_pool_has (const yx_nt_pool_t *self, const char *key)
{
    for (const yx_nt_job_t *j = self->live[s_bucket (key)]; j; j = j->hnext)
        if (strcmp (j->key, key) == 0)
            return true;
    return false;
}

int
yx_nt_pool_size (const yx_nt_pool_t *self)
{
    return self->held;
}

int
yx_nt_pool_pollitems (yx_nt_pool_t *self, void *items, int max)
{
    zmq_pollitem_t *it = items;
    int n = 0;
    for (int i = 0; i < self->nwatch && n < max; i++, n++)
        it[n] = (zmq_pollitem_t) { NULL, self->watch[i].fd, self->watch[i].events, 0 };
    return n;
}

long
yx_nt_pool_timeout (const yx_nt_pool_t *self)
{
    if (self->timer_at < 0)
        return -1;
    int64_t left = self->timer_at - yx_mono_ms ();
    return left > 0 ? (long) left : 0;
}

/* Hands back, unsent, the jobs that waited longer than a timeout (oldest first). */
static void
s_expire (yx_nt_pool_t *self)
{
    int64_t now = yx_mono_ms ();
    for (int i = 0; i < self->neps; i++) {
        s_endpoint_t *ep = self->eps[i];
        while (ep->head && now - ep->head->started_ms > self->timeout_ms) {
            yx_nt_job_t *job = ep->head;
            ep->head = job->next;
            if (!ep->head)
                ep->tail = NULL;
            ep->queued--;
            job->unsent = true;
            snprintf (job->error, sizeof job->error, "endpoint busy");
            s_finish (self, job);
        }
    }
}

/* Collects finished transfers and starts waiting ones in their place. */
static void
s_reap (yx_nt_pool_t *self)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read (self->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *e = m->easy_handle;
        CURLcode res = m->data.result;
        yx_nt_job_t *job = NULL;
        curl_easy_getinfo (e, CURLINFO_PRIVATE, (char **) &job);
        if (!job)
            continue;
        curl_easy_getinfo (e, CURLINFO_RESPONSE_CODE, &job->status);
        job->elapsed_ms = yx_mono_ms () - job->started_ms;
        if (res != CURLE_OK)
            snprintf (job->error, sizeof job->error, "%s", curl_easy_strerror (res));
        else
        if (job->status < 200 || job->status > 299)
            snprintf (job->error, sizeof job->error, "http %ld", job->status);
        s_release (self, job);
        ((s_endpoint_t *) job->ep)->running--;
        self->running--;
        s_finish (self, job);
    }
    s_pump (self);
    s_expire (self);
}

void
yx_nt_pool_perform (yx_nt_pool_t *self, const void *items, int n)
{
    const zmq_pollitem_t *it = items;
    int still;
    for (int i = 0; i < n; i++) {
        if (!it[i].revents)
            continue;
        int flags = ((it[i].revents & ZMQ_POLLIN) ? CURL_CSELECT_IN : 0)
                    | ((it[i].revents & ZMQ_POLLOUT) ? CURL_CSELECT_OUT : 0)
                    | ((it[i].revents & ZMQ_POLLERR) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action (self->multi, it[i].fd, flags, &still);
    }
    if (self->timer_at >= 0 && yx_mono_ms () >= self->timer_at) {
        self->timer_at = -1;
        curl_multi_socket_action (self->multi, CURL_SOCKET_TIMEOUT, 0, &still);
    }
    s_reap (self);
}

yx_nt_job_t *
yx_nt_pool_finished (yx_nt_pool_t *self)
{
    yx_nt_job_t *job = self->done_head;
    if (job) {
        self->done_head = job->next;
        if (!self->done_head)
            self->done_tail = NULL;
        job->next = NULL;
    }
    return job;
}
