/* bench_pipeline — pushes N cases through the whole running system and measures it.
 *
 *   bench_pipeline URL FEED_ENDPOINT REDIS_PORT N [CONCURRENCY]
 *
 * FEED_ENDPOINT "-" measures intake alone (reports/s over keep-alive connections).
 *
 * Reports go to POST URL/v1/cases over keep-alive connections (libcurl multi,
 * CONCURRENCY in flight). The department side is the notifier's ZeroMQ inbox feed: a
 * case counts as delivered when its DISPATCHED event arrives there. Prints sustained
 * throughput (first report → last delivery), report→delivery latency percentiles, and
 * Redis commands per case (INFO stats delta). */
#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "bus.h"
#include "util.h"

typedef struct {
    char id[32];        /* case id from the 201 response */
    int64_t sent_us;    /* when the report was sent */
    int64_t done_us;    /* when the DISPATCHED event arrived, 0 until then */
} s_case_t;

typedef struct {
    char *body;         /* response bytes */
    size_t len;         /* their count */
    int slot;           /* index into the case table */
} s_req_t;

static int64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static size_t
s_write (void *p, size_t size, size_t n, void *arg)
{
    s_req_t *r = arg;
    char *nb = realloc (r->body, r->len + size * n + 1);
    if (!nb)
        return 0;
    r->body = nb;
    memcpy (r->body + r->len, p, size * n);
    r->len += size * n;
    r->body[r->len] = 0;
    return size * n;
}

static long long
s_redis_commands (int port)
{
    redisContext *c = redisConnect ("127.0.0.1", port);
    if (!c || c->err)
        return -1;
    redisReply *r = redisCommand (c, "INFO stats");
    long long n = -1;
    const char *p = r && r->type == REDIS_REPLY_STRING ? strstr (r->str, "total_commands_processed:") : NULL;
    if (p)
        n = atoll (p + strlen ("total_commands_processed:"));
    if (r)
        freeReplyObject (r);
    redisFree (c);
    return n;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

/* Finds the slot of a case id (linear probe over a small open-addressed table). */
static int
s_find (s_case_t *cases, int n, const char *id)
{
    for (int i = 0; i < n; i++)
        if (strcmp (cases[i].id, id) == 0)
            return i;
    return -1;
}

/* Drains the feed, marking delivered cases; returns how many newly delivered. */
static int
s_drain (void *sub, s_case_t *cases, int n)
{
    int got = 0;
    char prefix[1][256];
    size_t plen[1];
    yx_env_t *env;
    while ((env = yx_bus_recv (sub, "bench.feed", prefix, plen, 1))) {
        if (env->body_case == YIXIAN__V1__ENVELOPE__BODY_EVENT && strcmp (env->event->type, "DISPATCHED") == 0) {
            int i = s_find (cases, n, env->event->case_id);
            if (i >= 0 && !cases[i].done_us) {
                cases[i].done_us = s_now_us ();
                got++;
            }
        }
        yx_env_free (env);
    }
    return got;
}

int
main (int argc, char **argv)
{
    if (argc < 5) {
        fprintf (stderr, "usage: bench_pipeline URL FEED_ENDPOINT REDIS_PORT N [CONCURRENCY]\n");
        return 2;
    }
    const char *url = argv[1];
    int port = atoi (argv[3]), n = atoi (argv[4]), conc = argc > 5 ? atoi (argv[5]) : 16;
    if (n < 1 || conc < 1)
        return 2;
    s_case_t *cases = calloc ((size_t) n, sizeof *cases);
    s_req_t *reqs = calloc ((size_t) n, sizeof *reqs);
    bool intake_only = strcmp (argv[2], "-") == 0;
    void *sub = intake_only ? NULL : yx_bus_socket (ZMQ_SUB, argv[2], 0);
    if (!cases || !reqs || (!sub && !intake_only))
        return 1;
    if (sub) {
        zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "dept.", 5);
        usleep (300000);   /* let the subscription reach the publisher */
    }
    char endpoint[512];
    snprintf (endpoint, sizeof endpoint, "%s/v1/cases", url);
    struct curl_slist *h = curl_slist_append (NULL, "Content-Type: application/json");
    h = curl_slist_append (h, "Authorization: Bearer demo-hotline-key");
    CURLM *multi = curl_multi_init ();
    curl_multi_setopt (multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) conc);
    long long cmd0 = s_redis_commands (port);
    int64_t t0 = s_now_us ();
    int next = 0, running = 0, ok = 0, failed = 0, delivered = 0;
    char body[512];
    while (next < n || running > 0) {
        while (next < n && running < conc) {
            CURL *e = curl_easy_init ();
            reqs[next].slot = next;
            snprintf (body, sizeof body,
                      "{\"source\":\"hotline\",\"source_ref\":\"bench-%lld-%d\",\"title\":\"井盖冒污水\","
                      "\"description\":\"鼓楼区某小区井盖冒污水，物业清掏后仍倒灌 %d\","
                      "\"location\":{\"lat\":%.5f,\"lon\":%.5f}}",
                      (long long) t0, next, next, 26.075 + (next % 50) * 0.0004, 119.285 + (next % 37) * 0.0005);
            curl_easy_setopt (e, CURLOPT_URL, endpoint);
            curl_easy_setopt (e, CURLOPT_HTTPHEADER, h);
            curl_easy_setopt (e, CURLOPT_COPYPOSTFIELDS, body);
            curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_write);
            curl_easy_setopt (e, CURLOPT_WRITEDATA, &reqs[next]);
            curl_easy_setopt (e, CURLOPT_PRIVATE, &reqs[next]);
            cases[next].sent_us = s_now_us ();
            curl_multi_add_handle (multi, e);
            next++, running++;
        }
        int still;
        curl_multi_perform (multi, &still);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read (multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            s_req_t *r;
            long status = 0;
            curl_easy_getinfo (m->easy_handle, CURLINFO_PRIVATE, (char **) &r);
            curl_easy_getinfo (m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            const char *id = r->body ? strstr (r->body, "\"id\":\"") : NULL;
            if (status == 201 && id) {
                snprintf (cases[r->slot].id, sizeof cases[r->slot].id, "%.22s", id + 6);
                ok++;
            }
            else
                failed++;
            free (r->body);
            r->body = NULL;
            curl_multi_remove_handle (multi, m->easy_handle);
            curl_easy_cleanup (m->easy_handle);
            running--;
        }
        if (sub)
            delivered += s_drain (sub, cases, n);
        curl_multi_poll (multi, NULL, 0, sub ? 5 : 50, NULL);
    }
    int64_t t_sent = s_now_us ();
    int64_t deadline = t_sent + 120 * 1000000LL;
    while (sub && delivered < ok && s_now_us () < deadline) {
        zmq_pollitem_t item = { sub, 0, ZMQ_POLLIN, 0 };
        zmq_poll (&item, 1, 100);
        delivered += s_drain (sub, cases, n);
    }
    int64_t last = 0;
    int64_t *lat = calloc ((size_t) n, sizeof *lat);
    int nl = 0;
    for (int i = 0; i < n; i++)
        if (cases[i].done_us) {
            lat[nl++] = cases[i].done_us - cases[i].sent_us;
            if (cases[i].done_us > last)
                last = cases[i].done_us;
        }
    long long cmd1 = s_redis_commands (port);
    qsort (lat, (size_t) nl, sizeof *lat, s_cmp);
    double secs = (double) (last - t0) / 1e6;
    printf ("cases=%d accepted=%d failed=%d delivered=%d\n", n, ok, failed, delivered);
    printf ("report_rate_per_sec=%.0f\n", ok / ((double) (t_sent - t0) / 1e6));
    if (intake_only) {
        long long c1 = s_redis_commands (port);
        if (cmd0 >= 0 && c1 >= 0 && ok)
            printf ("redis_commands_per_report=%.1f\n", (double) (c1 - cmd0) / ok);
        curl_multi_cleanup (multi);
        curl_slist_free_all (h);
        free (cases);
        free (reqs);
        return failed == 0 ? 0 : 1;
    }
    printf ("pipeline_cases_per_sec=%.0f\n", nl && secs > 0 ? nl / secs : 0.0);
    if (nl)
        printf ("latency_ms p50=%.1f p95=%.1f p99=%.1f max=%.1f\n", lat[nl / 2] / 1e3, lat[nl * 95 / 100] / 1e3,
                lat[nl * 99 / 100] / 1e3, lat[nl - 1] / 1e3);
    if (cmd0 >= 0 && cmd1 >= 0 && ok)
        printf ("redis_commands_per_case=%.1f\n", (double) (cmd1 - cmd0) / ok);
    curl_multi_cleanup (multi);
    curl_slist_free_all (h);
    if (sub)
        zmq_close (sub);
    yx_bus_term ();
    free (lat);
    free (cases);
    free (reqs);
    return delivered == ok && failed == 0 ? 0 : 1;
}
