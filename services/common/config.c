/* config.c — loading and checking the configuration file.
 *
 * Scalar settings are table-driven (s_settings): each has a dotted path, a type,
 * bounds and a default, so the checker, the defaults and --config-help agree.
 * Structured sections are parsed by config_sections.c. */
#include "config.h"
#include "config_internal.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_INT, S_STR, S_DOUBLE } s_type_t;

typedef struct {
    const char *path;   /* dotted setting name */
    s_type_t type;      /* value type */
    size_t offset;      /* field in yx_config_t */
    size_t size;        /* buffer size for strings */
    double min, max;    /* bounds for numbers */
    const char *def;    /* default, as text */
    const char *help;   /* one line for --config-help */
    const char *(*check) (const char *text);   /* strings: NULL, or what is wrong with text */
} s_setting_t;

/* log.level must name a level. */
static const char *
s_check_level (const char *text)
{
    return yx_log_level_parse (text) < 0 ? "is not debug, info, warn or error" : NULL;
}

/* An address literal, or "" for none. */
static const char *
s_check_addr (const char *text)
{
    uint8_t addr[16];
    return *text && yx_ip_parse (text, strlen (text), addr) ? "is not an IPv4 or IPv6 address" : NULL;
}

#define F(f) offsetof (yx_config_t, f), sizeof (((yx_config_t *) 0)->f)

static const s_setting_t s_settings[] = {
    { "redis.host", S_STR, F (redis_host), 0, 0, "127.0.0.1", "Redis server host", NULL },
    { "redis.port", S_INT, F (redis_port), 1, 65535, "6390", "Redis server port", NULL },
    { "redis.password", S_STR, F (redis_password), 0, 0, "", "Redis AUTH password", NULL },
    { "redis.timeout_ms", S_INT, F (redis_timeout_ms), 10, 60000, "1000", "Redis connect/command timeout", NULL },
    { "log.level", S_STR, F (log_level), 0, 0, "info", "debug | info | warn | error", s_check_level },
    { "intake.http_bind", S_STR, F (intake_bind), 0, 0, "127.0.0.1", "intake HTTP address", NULL },
    { "intake.http_port", S_INT, F (intake_port), 1, 65535, "8080", "intake HTTP port", NULL },
    { "intake.http_threads", S_INT, F (intake_threads), 1, 64, "4", "intake HTTP worker threads", NULL },
    { "intake.max_body", S_INT, F (intake_max_body), 1024, 16777216, "65536", "largest request body in bytes", NULL },
    { "intake.action_timeout_ms", S_INT, F (intake_action_timeout_ms), 100, 60000, "5000", "wait for the dispatcher's answer to an action", NULL },
    { "intake.rate_per_s", S_INT, F (rate_per_s), 0, 1000000, "200", "default requests per second per API key (0 = unlimited)", NULL },
    { "intake.rate_burst", S_INT, F (rate_burst), 1, 1000000, "400", "default burst per API key", NULL },
    { "intake.public_rate_per_s", S_INT, F (public_rate_per_s), 0, 1000000, "20", "requests per second per client address for the public Open311 reads (0 = unlimited)", NULL },
    { "intake.public_rate_burst", S_INT, F (public_rate_burst), 1, 1000000, "40", "burst per client address for the public Open311 reads", NULL },
    { "intake.trusted_proxy", S_STR, F (trusted_proxy), 0, 0, "", "address of a reverse proxy whose X-Forwarded-For names the client (\"\" = none)", s_check_addr },
    { "intake.zmq_bind", S_STR, F (intake_zmq), 0, 0, "tcp://127.0.0.1:5560", "native ZeroMQ intake (ROUTER)", NULL },
    { "classifier.bind", S_STR, F (classifier_bind), 0, 0, "tcp://127.0.0.1:5551", "classifier PULL endpoint", NULL },
    { "classifier.model", S_STR, F (classifier_model), 0, 0, "model.bin", "text model file (relative to the config folder)", NULL },
    { "classifier.min_confidence", S_DOUBLE, F (classifier_min_conf), 0, 1, "0.5", "below this a case waits for triage", NULL },
    { "classifier.duplicate_radius_m", S_INT, F (dup_radius_m), 0, 10000, "50", "reports this close to an open case of the same subcategory merge into it (0 = off)", NULL },
    { "classifier.duplicate_window_h", S_INT, F (dup_window_h), 1, 8760, "72", "… if that case was reported within this many hours", NULL },
    { "dispatcher.bind", S_STR, F (dispatcher_bind), 0, 0, "tcp://127.0.0.1:5552", "dispatcher PULL endpoint", NULL },
    { "dispatcher.actions_bind", S_STR, F (dispatcher_actions), 0, 0, "tcp://127.0.0.1:5553", "dispatcher ROUTER for actions", NULL },
    { "dispatcher.events_bind", S_STR, F (dispatcher_events), 0, 0, "tcp://127.0.0.1:5554", "dispatcher PUB of case events", NULL },
    { "dispatcher.timer_batch", S_INT, F (dispatcher_timer_batch), 1, 10000, "200", "timers fired per pass", NULL },
    { "dispatcher.rung_timeout_ms", S_INT, F (rung_timeout_ms), 1000, 604800000, "1800000", "time on each escalation rung before the next", NULL },
    { "dispatcher.remind_interval_ms", S_INT, F (remind_interval_ms), 1000, 604800000, "7200000", "reminders (督办) repeat this often while overdue", NULL },
    { "dispatcher.reopen_on_unsatisfied", S_INT, F (reopen_on_unsatisfied), 0, 1, "1", "1: an unsatisfied rating reopens the case", NULL },
    { "dispatcher.whistle_ack_within", S_INT, F (whistle_ack_s), 1, 604800, "1800", "seconds a whistled department has to acknowledge", NULL },
    { "notifier.feed_bind", S_STR, F (notifier_feed), 0, 0, "tcp://127.0.0.1:5555", "PUB inbox feed, one topic per department", NULL },
    { "notifier.http_timeout_ms", S_INT, F (notifier_timeout_ms), 100, 120000, "5000", "webhook request timeout", NULL },
    { "notifier.max_attempts", S_INT, F (notifier_max_attempts), 1, 100, "8", "attempts before a dead letter", NULL },
    { "notifier.backoff_ms", S_INT, F (notifier_backoff_ms), 10, 3600000, "1000", "first retry delay", NULL },
    { "notifier.backoff_max_ms", S_INT, F (notifier_backoff_max_ms), 10, 86400000, "300000", "longest retry delay", NULL },
    { "notifier.webhook_secret", S_STR, F (notifier_secret), 0, 0, "yixian-demo-secret", "HMAC-SHA256 key for webhook signatures", NULL },
    { "classifier.health_port", S_INT, F (classifier_health_port), 0, 65535, "8081", "classifier /healthz and /readyz port (0 = off)", NULL },
    { "dispatcher.health_port", S_INT, F (dispatcher_health_port), 0, 65535, "8082", "dispatcher /healthz and /readyz port (0 = off)", NULL },
    { "notifier.health_port", S_INT, F (notifier_health_port), 0, 65535, "8083", "notifier /healthz and /readyz port (0 = off)", NULL },
    { "notifier.max_inflight", S_INT, F (notifier_max_inflight), 1, 10000, "256", "deliveries in flight at once", NULL },
    { "notifier.per_endpoint_max", S_INT, F (notifier_per_endpoint), 1, 1000, "8", "deliveries in flight to one URL at once", NULL },
    { "metrics.http_bind", S_STR, F (metrics_bind), 0, 0, "127.0.0.1", "metrics HTTP address", NULL },
    { "metrics.http_port", S_INT, F (metrics_port), 1, 65535, "9100", "metrics HTTP port", NULL },
    { "sweep.interval_ms", S_INT, F (sweep_interval_ms), 50, 600000, "1000", "how often each service scans its stage queue", NULL },
    { "sweep.stale_ms", S_INT, F (sweep_stale_ms), 100, 3600000, "3000", "pending longer than this is re-driven", NULL },
    { "geo.triage_district", S_STR, F (triage_district), 0, 0, "", "district for reports located nowhere (default: the first)", NULL },
};
#define S_NSETTINGS (sizeof s_settings / sizeof s_settings[0])

void
yx_config_print_help (void)
{
    const char *types[] = { "int", "string", "number" };
    for (size_t i = 0; i < S_NSETTINGS; i++) {
        const s_setting_t *s = &s_settings[i];
        if (s->type == S_STR)
            printf ("%-28s %-7s default \"%s\"  %s\n", s->path, types[s->type], s->def, s->help);
        else
            printf ("%-28s %-7s [%g, %g] default %s  %s\n", s->path, types[s->type], s->min,
                    s->max, s->def, s->help);
    }
}

int
yx_config_print_value (const yx_config_t *self, const char *key)
{
    for (size_t i = 0; i < S_NSETTINGS; i++) {
        const s_setting_t *s = &s_settings[i];
        if (strcmp (s->path, key))
            continue;
        const char *field = (const char *) self + s->offset;
        if (s->type == S_STR)
            printf ("%s\n", field);
        else
        if (s->type == S_INT)
            printf ("%d\n", *(const int *) field);
        else
            printf ("%g\n", *(const double *) field);
        return 0;
    }
    return -1;
}

/* Stores text into setting s of self, checking type and bounds. where names the
 * origin for messages ("FILE:LINE" or "override"). 0/-1. */
static int
s_store (yx_config_t *self, const s_setting_t *s, const char *text, const char *where,
         char *err, size_t errlen)
{
    char *field = (char *) self + s->offset;
    if (s->type == S_STR) {
        if (strlen (text) >= s->size) {
            snprintf (err, errlen, "%s: %s: longer than %zu bytes", where, s->path, s->size - 1);
            return -1;
        }
        const char *wrong = s->check ? s->check (text) : NULL;
        if (wrong) {
            snprintf (err, errlen, "%s: %s: \"%s\" %s", where, s->path, text, wrong);
            return -1;
        }
        memcpy (field, text, strlen (text) + 1);
        return 0;
    }
    char *end;
    errno = 0;
    double v = strtod (text, &end);
    if (end == text || *end || errno || !isfinite (v)) {
        snprintf (err, errlen, "%s: %s: \"%s\" is not a number", where, s->path, text);
        return -1;
    }
    if (s->type == S_INT && v != floor (v)) {
        snprintf (err, errlen, "%s: %s: must be an integer", where, s->path);
        return -1;
    }
    if (v < s->min || v > s->max) {
        snprintf (err, errlen, "%s: %s: %g is outside [%g, %g]", where, s->path, v, s->min, s->max);
        return -1;
    }
    if (s->type == S_INT)
        *(int *) field = (int) v;
    else
        *(double *) field = v;
    return 0;
}

/* Reads one scalar setting from the parsed file, if present. 0/-1. */
static int
s_read_setting (yx_config_t *self, const config_t *cf, const s_setting_t *s, char *err,
                size_t errlen)
{
    config_setting_t *st = config_lookup (cf, s->path);
    if (!st)
        return 0;
    char where[600];
    yx_config_where (st, where, sizeof where);
    char text[512];
    switch (config_setting_type (st)) {
    case CONFIG_TYPE_STRING:
        if (s->type != S_STR) {
            snprintf (err, errlen, "%s: %s: expected a number, found a string", where, s->path);
            return -1;
        }
        snprintf (text, sizeof text, "%s", config_setting_get_string (st));
        if (strlen (config_setting_get_string (st)) >= sizeof text) {
            snprintf (err, errlen, "%s: %s: too long", where, s->path);
            return -1;
        }
        break;
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        if (s->type == S_STR) {
            snprintf (err, errlen, "%s: %s: expected a string, found a number", where, s->path);
            return -1;
        }
        snprintf (text, sizeof text, "%lld", (long long) config_setting_get_int64 (st));
        break;
    case CONFIG_TYPE_FLOAT:
        if (s->type == S_STR) {
            snprintf (err, errlen, "%s: %s: expected a string, found a number", where, s->path);
            return -1;
        }
        snprintf (text, sizeof text, "%.17g", config_setting_get_float (st));
        break;
    default:
        snprintf (err, errlen, "%s: %s: expected a %s", where, s->path,
                  s->type == S_STR ? "string" : "number");
        return -1;
    }
    return s_store (self, s, text, where, err, errlen);
}

/* Applies "key=value" overrides. 0/-1. */
static int
s_apply_overrides (yx_config_t *self, char *const *overrides, char *err, size_t errlen)
{
    for (; overrides && *overrides; overrides++) {
        const char *eq = strchr (*overrides, '=');
        size_t klen = eq ? (size_t) (eq - *overrides) : 0;
        const s_setting_t *found = NULL;
        for (size_t i = 0; eq && i < S_NSETTINGS; i++)
            if (strlen (s_settings[i].path) == klen
                && strncmp (s_settings[i].path, *overrides, klen) == 0)
                found = &s_settings[i];
        if (!found) {
            snprintf (err, errlen, "override \"%s\": unknown setting (expected key=value)", *overrides);
            return -1;
        }
        if (s_store (self, found, eq + 1, "override", err, errlen))
            return -1;
    }
    return 0;
}

void
yx_config_where (const config_setting_t *st, char *buf, size_t buflen)
{
    const char *file = config_setting_source_file (st);
    snprintf (buf, buflen, "%s:%u", file ? file : "?", config_setting_source_line (st));
}

yx_config_t *
yx_config_load (const char *path, char *const *overrides, char *err, size_t errlen)
{
    yx_config_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    snprintf (self->path, sizeof self->path, "%s", path);
    char tmp[512];
    snprintf (tmp, sizeof tmp, "%s", path);
    snprintf (self->dir, sizeof self->dir, "%s", dirname (tmp));
    for (size_t i = 0; i < S_NSETTINGS; i++) {
        int rc = s_store (self, &s_settings[i], s_settings[i].def, "default", err, errlen);
        if (rc)   /* a bad default is a programming error, but fail loudly, not silently */
            goto fail;
    }
    config_t cf;
    config_init (&cf);
    config_set_include_dir (&cf, self->dir);
    if (config_read_file (&cf, path) != CONFIG_TRUE) {
        if (config_error_type (&cf) == CONFIG_ERR_FILE_IO && !config_error_file (&cf))
            snprintf (err, errlen, "%s: cannot read file", path);
        else
            snprintf (err, errlen, "%s:%d: syntax: %s",
                      config_error_file (&cf) ? config_error_file (&cf) : path,
                      config_error_line (&cf), config_error_text (&cf));
        config_destroy (&cf);
        goto fail;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < S_NSETTINGS; i++)
        rc = s_read_setting (self, &cf, &s_settings[i], err, errlen);
    if (rc == 0)   /* overrides before the sections: defaults derived there must see them */
        rc = s_apply_overrides (self, overrides, err, errlen);
    if (rc == 0)
        rc = yx_config_read_sections (self, &cf, err, errlen);
    config_destroy (&cf);
    if (rc)
        goto fail;
    return self;
fail:
    yx_config_destroy (&self);
    return NULL;
}
