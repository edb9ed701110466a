/* service.h — what every Yixian process does at start and stop: parse the command
 * line, load and check the configuration, set up logging, catch SIGTERM/SIGINT, and
 * reload its configuration on SIGHUP or when an admin asks for it through Redis.
 *
 * A reload is a clean restart in place: the new configuration is loaded and checked
 * while the old one keeps serving; only when it is valid does the process stop as on
 * SIGTERM (yx_stopping) and execute itself again with the same command line and pid.
 * Everything a case relies on is in Redis, so nothing is lost across it. */
#ifndef YX_SERVICE_H
#define YX_SERVICE_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config.h"
#include "store.h"

/* Set to 1 by SIGTERM or SIGINT (and by a reload); loops poll it and exit cleanly. */
extern volatile sig_atomic_t yx_stopping;

/* Handles: -c FILE (default config/yixian.cfg or $YX_CONFIG), -s key=value
 * (repeatable), --check (validate config and exit), --print KEY (print one setting
 * and exit), --config-help, -h.
 * Returns the loaded config, or NULL after printing the reason (the caller exits
 * with status 2 for a bad config, 0 after --check/--help when *exit_code is 0).
 * On success the reload watcher runs (see above); end main with yx_service_end. */
yx_config_t *yx_service_start (const char *name, int argc, char **argv, int *exit_code);

/* What a service loads beside the configuration (geometry, a model): checked by
 * --check and on a reload before the process restarts; set it before
 * yx_service_start. 0, or -1 with the reason in err. */
typedef int (*yx_service_check_fn) (const yx_config_t *cfg, char *err, size_t errlen);
void yx_service_set_check (yx_service_check_fn check);

/* Loads and checks the configuration this process was started with (same file, same
 * overrides), as a reload would. 0, or -1 with "FILE:LINE: KEY: what" in err. */
int yx_service_check_config (char *err, size_t errlen);

/* Asks every service of the city to reload: bumps the configuration generation in
 * Redis through store (one MULTI, with who asked and when). The new generation, or -1
 * when Redis failed. */
long long yx_service_request_reload (yx_store_t *store, const char *by);

/* The /healthz body: status, service, pid and the configuration generation running. */
json_t *yx_service_health (const char *service);

/* Stops the watcher; when a reload was decided, executes this program again (does not
 * return unless that fails). Otherwise returns rc: `return yx_service_end (rc);`. */
int yx_service_end (int rc);

/* True once a reload restart was decided (the process is stopping to run again). */
bool yx_service_restarting (void);
/* A listening socket bound to addr that the previous image of this process handed over
 * across a reload restart: the fd (now the caller's), or -1. Sockets nobody takes within
 * five seconds of start are closed. */
int yx_service_take_listener (const struct sockaddr *addr, socklen_t len);
/* Hands a listening socket over to the next image (only while restarting). */
void yx_service_keep_listener (int fd);

/* Installs the SIGTERM/SIGINT handlers that set yx_stopping, and ignores SIGPIPE. */
void yx_service_catch_signals (void);

#endif
