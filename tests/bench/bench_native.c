/* bench_native — reports/s through the native ZeroMQ intake (ReportCase → ReportAck).
 *
 *   bench_native ENDPOINT N [WINDOW]
 *
 * One DEALER socket keeps WINDOW reports in flight (request ids match acks); prints
 * accepted reports per second and the count of anything but 201. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "bus.h"

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sends report number i. */
static int
s_send (void *sock, int i, long long run)
{
    char rid[32], ref[64], desc[128];
    snprintf (rid, sizeof rid, "%d", i);
    snprintf (ref, sizeof ref, "native-%lld-%d", run, i);
    snprintf (desc, sizeof desc, "鼓楼区某小区井盖冒污水 %d", i);
    Yixian__V1__ReportCase r = YIXIAN__V1__REPORT_CASE__INIT;
    r.request_id = rid;
    r.api_key = "demo-hotline-key";
    r.source = "hotline";
    r.source_ref = ref;
    r.description = desc;
    r.lat = 26.075 + (i % 50) * 0.0004;
    r.lon = 119.285 + (i % 37) * 0.0005;
    r.has_point = 1;
    yx_env_t env = YIXIAN__V1__ENVELOPE__INIT;
    env.body_case = YIXIAN__V1__ENVELOPE__BODY_REPORT;
    env.report = &r;
    return yx_bus_send (sock, NULL, NULL, 0, &env);
}

int
main (int argc, char **argv)
{
    if (argc < 3) {
        fprintf (stderr, "usage: bench_native ENDPOINT N [WINDOW]\n");
        return 2;
    }
    int n = atoi (argv[2]), window = argc > 3 ? atoi (argv[3]) : 64;
    void *sock = yx_bus_socket (ZMQ_DEALER, argv[1], 0);
    if (!sock || n < 1 || window < 1)
        return 1;
    long long run = (long long) time (NULL);
    int sent = 0, acked = 0, created = 0;
    double t0 = s_now ();
    while (acked < n) {
        while (sent < n && sent - acked < window)
            if (s_send (sock, sent, run) == 0)
                sent++;
            else
                break;
        zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 5000) <= 0) {
            fprintf (stderr, "bench_native: no answer for 5 s\n");
            break;
        }
        yx_env_t *env;
        while ((env = yx_bus_recv (sock, "bench", NULL, NULL, 0))) {
            if (env->body_case == YIXIAN__V1__ENVELOPE__BODY_ACK) {
                acked++;
                created += env->ack->status == 201;
            }
            yx_env_free (env);
        }
    }
    double secs = s_now () - t0;
    printf ("native_reports=%d created=%d other=%d\n", acked, created, acked - created);
    printf ("native_reports_per_sec=%.0f\n", acked / secs);
    zmq_close (sock);
    yx_bus_term ();
    return created == n ? 0 : 1;
}
