/* libFuzzer harness: the metrics service's parser of stored case documents (Redis
 * bytes, never trusted) and what it derives from a summary. Runs from the repository
 * root: the sample city gives the taxonomy and areas. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

static yx_config_t *s_cfg;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    char err[1024];
    s_cfg = yx_config_load ("config/yixian.cfg", NULL, err, sizeof err);
    if (!s_cfg) {
        fprintf (stderr, "fuzz_mcase: %s\n", err);
        return 1;
    }
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static const char *const states[] = { "REPORTED", "REGISTERED", "DISPATCHED", "ACCEPTED", "RESOLVED",
                                          "VERIFIED", "CLOSED", "REJECTED", "MERGED", "RETURNED",
                                          "SUSPENDED", "REOPENED", "NONSENSE" };
    if (!s_cfg || size < 1)
        return 0;
    const char *state = states[data[0] % (sizeof states / sizeof states[0])];
    yx_mcase_t c;
    if (yx_mcase_parse (s_cfg, "350102-20261123-000001", 0, state, 3, (const char *) data + 1, size - 1, &c) == 0) {
        (void) yx_mcase_terminal (&c);
        (void) yx_mcase_open (&c);
        (void) yx_mcase_first_accept (&c);
        (void) yx_mcase_late (&c, 1795392000000LL);
        (void) yx_mcase_level (&c);
        (void) yx_mcase_in_scope (&c, "350102", "350102001");
        yx_mcase_clear (&c);
    }
    return 0;
}
