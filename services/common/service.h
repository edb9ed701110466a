/* service.h — what every Yixian process does at start and stop: parse the command
 * line, load and check the configuration, set up logging, catch SIGTERM/SIGINT. */
#ifndef YX_SERVICE_H
#define YX_SERVICE_H

#include <signal.h>

#include "config.h"

/* Set to 1 by SIGTERM or SIGINT; loops poll it and exit cleanly. */
extern volatile sig_atomic_t yx_stopping;

/* Handles: -c FILE (default config/yixian.cfg or $YX_CONFIG), -s key=value
 * (repeatable), --check (validate config and exit), --print KEY (print one setting
 * and exit), --config-help, -h.
 * Returns the loaded config, or NULL after printing the reason (the caller exits
 * with status 2 for a bad config, 0 after --check/--help when *exit_code is 0). */
yx_config_t *yx_service_start (const char *name, int argc, char **argv, int *exit_code);

/* Installs the SIGTERM/SIGINT handlers that set yx_stopping, and ignores SIGPIPE. */
void yx_service_catch_signals (void);

#endif
