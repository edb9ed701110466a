/* stage.h — stage queues: the Redis side of "no case lost".
 *
 * When stage S commits, the same script puts the case (or event) into the sorted
 * set yx:{D}:q:<next> scored by time; stage S+1 removes it in its own commit. The
 * sweeper below re-drives anything that has waited longer than sweep.stale_ms, so a
 * lost bus message or a killed process only delays work. */
#ifndef YX_STAGE_H
#define YX_STAGE_H

#include <stdint.h>

#include "config.h"
#include "store.h"

/* Handles one queued member; returns 0 when done with it (committed or found
 * obsolete), -1 to leave it for a later pass. */
typedef int (*yx_stage_fn) (void *arg, const char *district, const char *member);

/* Calls fn for up to max members of yx:{D}:<queue> scored at or before due_ms, in
 * every district. Returns how many were handled, or -1 when Redis is unreachable. */
int yx_stage_sweep (yx_store_t *store, const yx_config_t *cfg, const char *queue, int64_t due_ms,
                    int max, yx_stage_fn fn, void *arg);

/* Removes member from yx:{D}:<queue> (a stage queue or the timers) when the work it
 * stood for is obsolete. Best effort: a Redis outage leaves it for the next sweep. */
void yx_stage_drop (yx_store_t *store, const char *district, const char *queue, const char *member);

#endif
