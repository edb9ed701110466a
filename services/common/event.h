/* event.h — staging a CaseEvent for the notifier inside a transition's commit. */
#ifndef YX_EVENT_H
#define YX_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "txn.h"

/* Gives ev a fresh event id (written into id_buf, >= 40 bytes), packs it in an
 * Envelope, and adds to t: SET yx:{D}:ev:<id> and ZADD yx:{D}:q:notify, so the event
 * exists exactly when the transition does. *packed (malloc'd, caller frees) holds the
 * bytes to publish after the commit. 0/-1. */
int yx_event_stage (yx_txn_t *t, Yixian__V1__CaseEvent *ev, char *id_buf, uint8_t **packed, size_t *len);

#endif
