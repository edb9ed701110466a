/* event.c — events become part of the transition that causes them. */
#include "event.h"

#include <stdlib.h>

#include "case.h"
#include "util.h"

int
yx_event_stage (yx_txn_t *t, Yixian__V1__CaseEvent *ev, char *id_buf, uint8_t **packed, size_t *len)
{
    char k[128];
    ev->event_id = yx_random_id (id_buf, 40);
    yx_env_t env = YIXIAN__V1__ENVELOPE__INIT;
    env.body_case = YIXIAN__V1__ENVELOPE__BODY_EVENT;
    env.event = ev;
    *len = yixian__v1__envelope__get_packed_size (&env);
    *packed = malloc (*len);
    if (!*packed)
        return -1;
    yixian__v1__envelope__pack (&env, *packed);
    yx_txn_set (t, yx_key (k, sizeof k, t->district, "ev:%s", id_buf), (const char *) *packed, *len);
    yx_txn_zadd (t, yx_key (k, sizeof k, t->district, YX_Q_NOTIFY), (double) ev->at_ms, id_buf);
    return 0;
}
