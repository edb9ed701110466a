/* libFuzzer harness: the bus decoder every service runs on every frame. */
#include <stddef.h>
#include <stdint.h>

#include "bus.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    yx_env_t *env = yx_env_decode (data, size);
    if (env && env->body_case == YIXIAN__V1__ENVELOPE__BODY_EVENT) {
        /* touch what consumers read */
        volatile size_t n = env->event->n_departments;
        (void) n;
    }
    yx_env_free (env);
    return 0;
}
