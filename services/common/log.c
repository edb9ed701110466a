/* log.c — logfmt lines on stderr, one write(2) per line so concurrent threads and
 * processes sharing a log file never interleave inside a line. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char s_service[32] = "yixian";          /* svc= value */
static yx_log_level_t s_min_level = YX_LOG_INFO; /* lines below this are dropped */

static const char *s_level_names[] = { "debug", "info", "warn", "error" };

void
yx_log_init (const char *service, yx_log_level_t min_level)
{
    snprintf (s_service, sizeof s_service, "%s", service);
    s_min_level = min_level;
}

int
yx_log_level_parse (const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp (name, s_level_names[i]) == 0)
            return i;
    return -1;
}

void
yx_log (yx_log_level_t level, const char *event, const char *fmt, ...)
{
    if (level < s_min_level)
        return;
    char line[2048];
    struct timeval tv;
    gettimeofday (&tv, NULL);
    struct tm tm;
    gmtime_r (&tv.tv_sec, &tm);
    int n = snprintf (line, sizeof line,
                      "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s svc=%s event=%s",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                      tm.tm_min, tm.tm_sec, (int) (tv.tv_usec / 1000),
                      s_level_names[level], s_service, event);
    if (fmt && *fmt && n < (int) sizeof line - 2) {
        line[n++] = ' ';
        va_list ap;
        va_start (ap, fmt);
        int m = vsnprintf (line + n, sizeof line - (size_t) n, fmt, ap);
        va_end (ap);
        if (m > 0)
            n += m;
    }
    if (n > (int) sizeof line - 2)
        n = (int) sizeof line - 2;
    line[n++] = '\n';
    ssize_t ignored = write (STDERR_FILENO, line, (size_t) n);
    (void) ignored;
}

const char *
yx_log_value (const char *value, char *buf, size_t buflen)
{
    if (buflen < 3) {
        if (buflen)
            buf[0] = 0;
        return buf;
    }
    int plain = *value != 0;
    for (const char *p = value; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            plain = 0;
    if (plain) {
        snprintf (buf, buflen, "%s", value);
        return buf;
    }
    size_t o = 0;
    buf[o++] = '"';
    for (const unsigned char *p = (const unsigned char *) value; *p && o + 5 < buflen; p++) {
        if (*p == '"' || *p == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char) *p;
        }
        else
        if (*p < 0x20 || *p == 0x7f)
            o += (size_t) snprintf (buf + o, buflen - o, "\\x%02x", *p);
        else
            buf[o++] = (char) *p;
    }
    buf[o++] = '"';
    buf[o] = 0;
    return buf;
}
