/* conn.c — each thread's connections (Redis, bus sockets), made on first use and all
 * closed together once the HTTP threads have stopped. */
#include <pthread.h>
#include <stdlib.h>
#include <zmq.h>

#include "bus.h"
#include "intake.h"

static __thread yx_intake_conn_t *s_conn;   /* this thread's connections */
static yx_intake_conn_t *s_all[256];        /* every thread's, closed at exit */
static int s_nall;                           /* entries in s_all */
static pthread_mutex_t s_all_lock = PTHREAD_MUTEX_INITIALIZER;

yx_intake_conn_t *
yx_intake_conn (const yx_intake_t *in)
{
    if (s_conn)
        return s_conn;
    s_conn = calloc (1, sizeof *s_conn);
    if (!s_conn)
        abort ();
    const yx_config_t *cfg = in->cfg;
    s_conn->store = yx_store_new (cfg->redis_host, cfg->redis_port, cfg->redis_password, cfg->redis_timeout_ms);
    s_conn->to_classifier = yx_bus_socket (ZMQ_PUSH, cfg->classifier_bind, 0);
    s_conn->to_dispatcher = yx_bus_socket (ZMQ_DEALER, cfg->dispatcher_actions, 0);
    pthread_mutex_lock (&s_all_lock);
    if (s_nall < 256)
        s_all[s_nall++] = s_conn;
    pthread_mutex_unlock (&s_all_lock);
    return s_conn;
}

void
yx_intake_conn_close (void)
{
    pthread_mutex_lock (&s_all_lock);
    for (int i = 0; i < s_nall; i++) {
        yx_store_destroy (&s_all[i]->store);
        if (s_all[i]->to_classifier)
            zmq_close (s_all[i]->to_classifier);
        if (s_all[i]->to_dispatcher)
            zmq_close (s_all[i]->to_dispatcher);
        free (s_all[i]);
    }
    s_nall = 0;
    s_conn = NULL;
    pthread_mutex_unlock (&s_all_lock);
}

