/* sample_config.h — cmocka group fixtures that load the shipped sample city
 * (config/yixian.cfg, relative to the repository root the suite runs from) into
 * s_cfg for tests that need real departments, taxonomy and areas. */
#ifndef YX_TEST_SAMPLE_CONFIG_H
#define YX_TEST_SAMPLE_CONFIG_H

#include <stdio.h>

#include "config.h"

static yx_config_t *s_cfg;    /* the sample city */

static int
s_setup (void **state)
{
    (void) state;
    char err[1024];
    s_cfg = yx_config_load ("config/yixian.cfg", NULL, err, sizeof err);
    if (!s_cfg)
        fprintf (stderr, "sample config: %s\n", err);
    return s_cfg ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    yx_config_destroy (&s_cfg);
    return 0;
}

#endif
