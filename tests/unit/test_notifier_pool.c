/*  =========================================================================
    test_notifier_pool.c - unit tests for the notifier's HTTP pool (cmocka)

    A local HTTP server (the common libmicrohttpd layer) answers /ok, /fail
    and /slow, checks every request's signature and counts how many requests
    are open at once; the pool is driven with zmq_poll as yx-notifier does.
    =========================================================================
*/

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "http.h"
#include "log.h"
#include "notifier.h"
#include "util.h"

#define SECRET "pool-test-secret"

typedef struct {
    pthread_mutex_t lock;           //  Guards the counters
    int open;                       //  Requests being answered now
    int max_open;                   //  Most open at once
    int served;                     //  Requests answered
    int bad_signatures;             //  Requests whose signature did not verify
    char last_delivery [40];        //  X-Yixian-Delivery of the last request
} server_t;

static server_t s_server = { .lock = PTHREAD_MUTEX_INITIALIZER };
static server_t s_other = { .lock = PTHREAD_MUTEX_INITIALIZER };
static yx_http_t *s_http;           //  The local server
static int s_port;                  //  Its port
static yx_http_t *s_http2;          //  A second server: another endpoint
static int s_port2;                 //  Its port

static void
s_handle (yx_http_req_t *req, yx_http_resp_t *resp, void *arg)
{
    server_t *self = arg;
    const char *ts = yx_http_header (req, "X-Yixian-Timestamp");
    const char *sig = yx_http_header (req, "X-Yixian-Signature");
    const char *did = yx_http_header (req, "X-Yixian-Delivery");
    char want [72];
    yx_nt_sign (SECRET, ts ? ts : "", req->body ? req->body : "", req->body_len, want);
    pthread_mutex_lock (&self->lock);
    self->open++;
    if (self->open > self->max_open)
        self->max_open = self->open;
    if (!sig || strcmp (sig, want))
        self->bad_signatures++;
    snprintf (self->last_delivery, sizeof self->last_delivery, "%s", did ? did : "");
    pthread_mutex_unlock (&self->lock);
    if (strcmp (req->url, "/slow") == 0)
        usleep (300 * 1000);
    pthread_mutex_lock (&self->lock);
    self->open--;
    self->served++;
    pthread_mutex_unlock (&self->lock);
    if (strcmp (req->url, "/fail") == 0)
        yx_http_text (resp, 500, "text/plain", "no", 2);
    else
        yx_http_text (resp, 200, "text/plain", "ok", 2);
}

static int
s_setup (void **state)
{
    (void) state;
    yx_log_init ("test", YX_LOG_ERROR);
    for (int i = 0; i < 50 && !s_http; i++) {
        s_port = 20000 + (int) randombytes_uniform (30000);
        s_http = yx_http_start ("127.0.0.1", s_port, 16, 65536, s_handle, &s_server);
    }
    for (int i = 0; i < 50 && !s_http2; i++) {
        s_port2 = 20000 + (int) randombytes_uniform (30000);
        s_http2 = yx_http_start ("127.0.0.1", s_port2, 4, 65536, s_handle, &s_other);
    }
    return s_http && s_http2 ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    yx_http_stop (&s_http);
    yx_http_stop (&s_http2);
    return 0;
}

//  A job to 127.0.0.1:port/path with a small signed body
static yx_nt_job_t *
s_job (int port, const char *path, int n)
{
    yx_nt_job_t *job = yx_nt_job_new ();
    snprintf (job->url, sizeof job->url, "http://127.0.0.1:%d%s", port, path);
    snprintf (job->key, sizeof job->key, "e%d/webhook:x", n);
    snprintf (job->type, sizeof job->type, "DISPATCHED");
    snprintf (job->delivery_id, sizeof job->delivery_id, "d%d", n);
    job->secret = SECRET;
    job->attempt = 1;
    job->body = strdup ("{\"event_id\":\"e\"}");
    job->body_len = strlen (job->body);
    return job;
}

//  Drives the pool until want jobs finished (or 5 s); returns them in order
static int
s_drive (yx_nt_pool_t *pool, yx_nt_job_t **done, int want)
{
    int n = 0;
    int64_t until = yx_mono_ms () + 5000;
    zmq_pollitem_t items [64];
    while (n < want && yx_mono_ms () < until) {
        int k = yx_nt_pool_pollitems (pool, items, 64);
        long t = yx_nt_pool_timeout (pool);
        zmq_poll (items, k, t < 0 || t > 20 ? 20 : t);
        yx_nt_pool_perform (pool, items, k);
        yx_nt_job_t *job;
        while ((job = yx_nt_pool_finished (pool)))
            done [n++] = job;
    }
    return n;
}

static void
test_outcomes (void **state)
{
    (void) state;
    yx_nt_pool_t *pool = yx_nt_pool_new (8, 4, 8, 2000);
    assert_non_null (pool);
    assert_int_equal (yx_nt_pool_submit (pool, s_job (s_port, "/ok", 1)), 0);
    assert_int_equal (yx_nt_pool_submit (pool, s_job (s_port, "/fail", 2)), 0);
    yx_nt_job_t *refused = s_job (s_port, "/ok", 3);
    snprintf (refused->url, sizeof refused->url, "http://127.0.0.1:1/ok");   //  nobody listens
    assert_int_equal (yx_nt_pool_submit (pool, refused), 0);
    assert_true (yx_nt_pool_has (pool, "e1/webhook:x"));
    assert_int_equal (yx_nt_pool_size (pool), 3);
    yx_nt_job_t *done [3];
    assert_int_equal (s_drive (pool, done, 3), 3);
    assert_int_equal (yx_nt_pool_size (pool), 0);
    assert_false (yx_nt_pool_has (pool, "e1/webhook:x"));
    for (int i = 0; i < 3; i++) {
        if (strcmp (done [i]->key, "e1/webhook:x") == 0) {
            assert_int_equal (done [i]->status, 200);
            assert_string_equal (done [i]->error, "");
        }
        else
        if (strcmp (done [i]->key, "e2/webhook:x") == 0) {
            assert_int_equal (done [i]->status, 500);
            assert_string_equal (done [i]->error, "http 500");
        }
        else {
            assert_int_equal (done [i]->status, 0);
            assert_true (strlen (done [i]->error) > 0);
        }
        yx_nt_job_destroy (&done [i]);
    }
    assert_int_equal (s_server.bad_signatures, 0);
    yx_nt_pool_destroy (&pool);
    assert_null (pool);
}

static void
test_endpoint_cap_and_isolation (void **state)
{
    (void) state;
    memset (&s_server.open, 0, sizeof s_server - offsetof (server_t, open));
    yx_nt_pool_t *pool = yx_nt_pool_new (16, 2, 3, 2000);
    //  Five slow requests to one endpoint: two run, three wait, the sixth is refused
    for (int i = 0; i < 5; i++)
        assert_int_equal (yx_nt_pool_submit (pool, s_job (s_port, "/slow", 10 + i)), 0);
    yx_nt_job_t *extra = s_job (s_port, "/slow", 99);
    assert_int_equal (yx_nt_pool_submit (pool, extra), -1);
    yx_nt_job_destroy (&extra);
    //  Another endpoint is not held up by them
    assert_int_equal (yx_nt_pool_submit (pool, s_job (s_port2, "/ok", 20)), 0);
    yx_nt_job_t *done [6];
    assert_int_equal (s_drive (pool, done, 6), 6);
    assert_string_equal (done [0]->key, "e20/webhook:x");
    assert_true (done [0]->elapsed_ms < 250);
    assert_in_range (s_server.max_open, 1, 2);   //  never more than per_endpoint_max
    for (int i = 0; i < 6; i++)
        yx_nt_job_destroy (&done [i]);
    yx_nt_pool_destroy (&pool);
}

static void
test_timeout_and_abandon (void **state)
{
    (void) state;
    yx_nt_pool_t *pool = yx_nt_pool_new (4, 4, 4, 100);
    assert_int_equal (yx_nt_pool_submit (pool, s_job (s_port, "/slow", 30)), 0);
    yx_nt_job_t *done [1];
    assert_int_equal (s_drive (pool, done, 1), 1);
    assert_non_null (strstr (done [0]->error, "imeout"));
    yx_nt_job_destroy (&done [0]);
    //  Destroying a pool with requests still open frees them
    assert_int_equal (yx_nt_pool_submit (pool, s_job (s_port, "/slow", 31)), 0);
    assert_int_equal (yx_nt_pool_submit (pool, s_job (s_port, "/slow", 32)), 0);
    yx_nt_pool_destroy (&pool);
    usleep (400 * 1000);   //  let the server finish before it stops
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_outcomes),
        cmocka_unit_test (test_endpoint_cap_and_isolation),
        cmocka_unit_test (test_timeout_and_abandon),
    };
    return cmocka_run_group_tests_name ("notifier_pool", tests, s_setup, s_teardown);
}
