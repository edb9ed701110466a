/* log.h — logfmt logging: one line per event on stderr.
 *
 *   ts=2026-11-23T08:00:00.123+08:00 level=info svc=intake event=case_reported case=350102-20261123-000001
 *
 * Callers pass the event name and a printf-style tail of key=value pairs. Values that
 * come from outside must go through yx_log_value() so that spaces, quotes and control
 * bytes cannot break the line. Never log personal data (names, phone numbers, texts). */
#ifndef YX_LOG_H
#define YX_LOG_H

#include <stddef.h>

typedef enum { YX_LOG_DEBUG = 0, YX_LOG_INFO, YX_LOG_WARN, YX_LOG_ERROR } yx_log_level_t;

/* Sets the service name printed as svc= on every line and the lowest level printed. */
void yx_log_init (const char *service, yx_log_level_t min_level);

/* Parses "debug" | "info" | "warn" | "error"; -1 if unknown. */
int yx_log_level_parse (const char *name);

/* Writes one line: ts, level, svc, event, then the formatted tail (may be NULL). */
void yx_log (yx_log_level_t level, const char *event, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Renders an untrusted value for logfmt into buf: bare if it is safe, otherwise
 * double-quoted with escapes; truncated to fit. Returns buf. */
const char *yx_log_value (const char *value, char *buf, size_t buflen);

#define yx_info(event, ...) yx_log (YX_LOG_INFO, event, __VA_ARGS__)
#define yx_warn(event, ...) yx_log (YX_LOG_WARN, event, __VA_ARGS__)
#define yx_error(event, ...) yx_log (YX_LOG_ERROR, event, __VA_ARGS__)
#define yx_debug(event, ...) yx_log (YX_LOG_DEBUG, event, __VA_ARGS__)

#endif
