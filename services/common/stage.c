/* stage.c — scanning stage queues and timer sets for due members. */
#include "stage.h"

#include <stdio.h>

int
yx_stage_sweep (yx_store_t *store, const yx_config_t *cfg, const char *queue, int64_t due_ms,
                int max, yx_stage_fn fn, void *arg)
{
    const char *codes[64];
    int nd = yx_config_districts (cfg, codes, 64);
    int handled = 0;
    for (int i = 0; i < nd; i++) {
        char k[96];
        yx_key (k, sizeof k, codes[i], "%s", queue);
        redisReply *r = yx_store_cmd (store, "ZRANGEBYSCORE %s -inf %lld LIMIT 0 %d", k,
                                      (long long) due_ms, max);
        if (!r)
            return -1;
        for (size_t j = 0; r->type == REDIS_REPLY_ARRAY && j < r->elements; j++)
            if (r->element[j]->type == REDIS_REPLY_STRING && fn (arg, codes[i], r->element[j]->str) == 0)
                handled++;
        freeReplyObject (r);
    }
    return handled;
}

void
yx_stage_drop (yx_store_t *store, const char *district, const char *queue, const char *member)
{
    char k[128];
    redisReply *r = yx_store_cmd (store, "ZREM %s %s", yx_key (k, sizeof k, district, "%s", queue), member);
    if (r)
        freeReplyObject (r);
}
