/* rules.c — the notify section of the configuration and who gets what.
 *
 *   notify = {
 *     keep_days = 7;                         // delivered events are kept this long
 *     feed_events = [ "*" ];                 // default types on each department's feed
 *     webhook_events = [ "*" ];              // default types POSTed to department webhooks
 *     gateway = { url = "…"; secret = "…"; events = [ … ]; };   // SMS/e-mail gateway
 *     templates = { DISPATCHED = "【…】您单位有新派遣案件{case_id}…"; … };
 *     departments = ( { id = "gl-cgj"; webhook = "…"; secret = "…"; feed_events = [ … ];
 *                       webhook_events = [ … ]; gateway_to = [ … ]; gateway_events = [ … ]; } );
 *     sources = ( { source = "hotline"; url = "…"; secret = "…"; events = [ … ]; } );
 *   };
 *
 * The file is the service's main configuration file, parsed again here with
 * libconfig so that every problem names FILE:LINE and the key. */
#include "config_read.h"
#include "notifier.h"

#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_types[YX_NT_NTYPES] = {
    "DISPATCHED", "ACCEPTED", "RETURNED", "RESOLVED", "WHISTLE", "ESCALATED", "REMINDER",
    "EXTENSION_REQUESTED", "EXTENSION_APPROVED", "EXTENSION_DENIED", "VERIFIED", "REWORK", "CLOSED",
    "REOPENED", "SUSPENDED", "REJECTED", "MERGED", "ASSIST_REQUESTED", "OTHER"
};

static const char *s_channels[YX_NT_NCHANNELS] = { "feed", "webhook", "gateway", "callback" };

static const char *s_sources[] = { "hotline", "app", "wechat", "grid", "open311", "video", "other", NULL };

#define S_BIT(name) (1u << (unsigned) yx_nt_type_index (name))

int
yx_nt_type_index (const char *type)
{
    if (!type || !*type)
        return -1;
    for (int i = 0; i < YX_NT_NTYPES - 1; i++)
        if (strcmp (type, s_types[i]) == 0)
            return i;
    return YX_NT_NTYPES - 1;
}

const char *
yx_nt_type_name (int index)
{
    return index >= 0 && index < YX_NT_NTYPES ? s_types[index] : "OTHER";
}

const char *
yx_nt_channel_name (yx_nt_channel_t channel)
{
    return channel < YX_NT_NCHANNELS ? s_channels[channel] : "unknown";
}

bool
yx_nt_id_ok (const char *id)
{
    size_t n = strlen (id);
    if (n == 0 || n >= YX_ID_MAX)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

/* Rejects members of group g not named in allowed (typos must not pass silently). */
static int
s_known_members (const config_setting_t *g, const char *path, const char *const *allowed, char *err,
                 size_t errlen)
{
    for (int i = 0; i < config_setting_length (g); i++) {
        const config_setting_t *m = config_setting_get_elem (g, (unsigned) i);
        const char *name = config_setting_name (m);
        bool ok = false;
        for (int j = 0; name && allowed[j]; j++)
            ok |= strcmp (name, allowed[j]) == 0;
        if (!ok) {
            char key[160];
            snprintf (key, sizeof key, "%s.%s", path, name ? name : "?");
            return yx_cfg_fail (m, key, err, errlen, "unknown setting");
        }
    }
    return 0;
}

/* Copies string member name of g into buf (n bytes); absent leaves buf as it is.
 * url: must be http:// or https:// when not empty. 0/-1. */
static int
s_str (const config_setting_t *g, const char *path, const char *name, char *buf, size_t n, bool url,
       char *err, size_t errlen)
{
    const config_setting_t *m = config_setting_get_member (g, name);
    if (!m)
        return 0;
    if (yx_cfg_str (g, path, name, buf, n, false, err, errlen))
        return -1;
    if (url && *buf && strncmp (buf, "http://", 7) && strncmp (buf, "https://", 8)) {
        char key[160];
        snprintf (key, sizeof key, "%s.%s", path, name);
        return yx_cfg_fail (m, key, err, errlen, "must be an http:// or https:// URL");
    }
    return 0;
}

/* Reads member name of g, a list of event types ("*" = all), into *mask; absent
 * leaves *mask as it is. 0/-1. */
static int
s_types_of (const config_setting_t *g, const char *path, const char *name, uint32_t *mask, char *err,
            size_t errlen)
{
    char key[160];
    snprintf (key, sizeof key, "%s.%s", path, name);
    const config_setting_t *m = config_setting_get_member (g, name);
    if (!m)
        return 0;
    if (!config_setting_is_array (m) && !config_setting_is_list (m))
        return yx_cfg_fail (m, key, err, errlen, "expected a list of event types");
    uint32_t out = 0;
    for (int i = 0; i < config_setting_length (m); i++) {
        const config_setting_t *e = config_setting_get_elem (m, (unsigned) i);
        const char *t = config_setting_type (e) == CONFIG_TYPE_STRING ? config_setting_get_string (e) : NULL;
        if (!t)
            return yx_cfg_fail (e, key, err, errlen, "every element must be a string");
        if (strcmp (t, "*") == 0)
            out |= YX_NT_ALL_TYPES;
        else
        if (yx_nt_type_index (t) < YX_NT_NTYPES - 1 && yx_nt_type_index (t) >= 0)
            out |= 1u << (unsigned) yx_nt_type_index (t);
        else {
            char msg[128];
            snprintf (msg, sizeof msg, "unknown event type \"%.60s\"", t);
            return yx_cfg_fail (e, key, err, errlen, msg);
        }
    }
    *mask = out;
    return 0;
}

/* Reads gateway_to of a department override. 0/-1. */
static int
s_addresses (const config_setting_t *g, const char *path, yx_nt_dept_t *d, char *err, size_t errlen)
{
    char key[160];
    snprintf (key, sizeof key, "%s.gateway_to", path);
    const config_setting_t *m = config_setting_get_member (g, "gateway_to");
    if (!m)
        return 0;
    if (!config_setting_is_array (m) && !config_setting_is_list (m))
        return yx_cfg_fail (m, key, err, errlen, "expected a list of addresses");
    if (config_setting_length (m) > YX_NT_MAX_TO)
        return yx_cfg_fail (m, key, err, errlen, "at most 16 addresses");
    for (int i = 0; i < d->nto; i++)
        free (d->to[i]);
    d->nto = 0;
    for (int i = 0; i < config_setting_length (m); i++) {
        const config_setting_t *e = config_setting_get_elem (m, (unsigned) i);
        const char *a = config_setting_type (e) == CONFIG_TYPE_STRING ? config_setting_get_string (e) : NULL;
        if (!a || !*a || strlen (a) > 128)
            return yx_cfg_fail (e, key, err, errlen, "every element must be a phone number or mailbox (1-128 characters)");
        d->to[d->nto++] = strdup (a);
    }
    return 0;
}

/* notify.departments: per-department overrides. 0/-1. */
static int
s_read_departments (yx_nt_rules_t *self, const config_setting_t *list, char *err, size_t errlen)
{
    static const char *const keys[] = { "id", "webhook", "secret", "feed_events", "webhook_events",
                                        "gateway_to", "gateway_events", NULL };
    if (!config_setting_is_list (list))
        return yx_cfg_fail (list, "notify.departments", err, errlen, "expected a list of groups");
    bool *seen = calloc ((size_t) self->ndepts + 1, sizeof (bool));
    int rc = 0;
    for (int i = 0; rc == 0 && i < config_setting_length (list); i++) {
        const config_setting_t *g = config_setting_get_elem (list, (unsigned) i);
        char path[64], id[YX_ID_MAX] = "";
        snprintf (path, sizeof path, "notify.departments[%d]", i);
        if (!config_setting_is_group (g)) {
            rc = yx_cfg_fail (g, path, err, errlen, "expected a group");
            break;
        }
        rc = s_known_members (g, path, keys, err, errlen);
        if (rc == 0)
            rc = s_str (g, path, "id", id, sizeof id, false, err, errlen);
        const yx_dept_t *cd = rc == 0 ? yx_config_dept (self->cfg, id) : NULL;
        if (rc == 0 && !cd) {
            char key[80];
            snprintf (key, sizeof key, "%s.id", path);
            rc = yx_cfg_fail (config_setting_get_member (g, "id") ? config_setting_get_member (g, "id") : g, key,
                         err, errlen, *id ? "unknown department" : "missing");
            break;
        }
        if (rc)
            break;
        int k = (int) (cd - self->cfg->depts);
        if (seen[k]) {
            rc = yx_cfg_fail (g, path, err, errlen, "department listed twice");
            break;
        }
        seen[k] = true;
        yx_nt_dept_t *d = &self->depts[k];
        if (s_str (g, path, "webhook", d->webhook, sizeof d->webhook, true, err, errlen)
            || s_str (g, path, "secret", d->secret, sizeof d->secret, false, err, errlen)
            || s_types_of (g, path, "feed_events", &d->feed_events, err, errlen)
            || s_types_of (g, path, "webhook_events", &d->webhook_events, err, errlen)
            || s_types_of (g, path, "gateway_events", &d->gateway_events, err, errlen)
            || s_addresses (g, path, d, err, errlen))
            rc = -1;
    }
    free (seen);
    return rc;
}

/* notify.sources: the reporter-side callbacks. 0/-1. */
static int
s_read_sources (yx_nt_rules_t *self, const config_setting_t *list, char *err, size_t errlen)
{
    static const char *const keys[] = { "source", "url", "secret", "events", NULL };
    if (!config_setting_is_list (list))
        return yx_cfg_fail (list, "notify.sources", err, errlen, "expected a list of groups");
    for (int i = 0; i < config_setting_length (list); i++) {
        const config_setting_t *g = config_setting_get_elem (list, (unsigned) i);
        char path[64], src[16] = "";
        snprintf (path, sizeof path, "notify.sources[%d]", i);
        if (!config_setting_is_group (g))
            return yx_cfg_fail (g, path, err, errlen, "expected a group");
        if (s_known_members (g, path, keys, err, errlen)
            || s_str (g, path, "source", src, sizeof src, false, err, errlen))
            return -1;
        yx_nt_source_t *s = NULL;
        for (int j = 0; j < self->nsources; j++)
            if (strcmp (self->sources[j].source, src) == 0)
                s = &self->sources[j];
        if (!s) {
            char key[80];
            snprintf (key, sizeof key, "%s.source", path);
            return yx_cfg_fail (g, key, err, errlen, "expected one of hotline, app, wechat, grid, open311, video, other");
        }
        if (s_str (g, path, "url", s->url, sizeof s->url, true, err, errlen)
            || s_str (g, path, "secret", s->secret, sizeof s->secret, false, err, errlen)
            || s_types_of (g, path, "events", &s->events, err, errlen))
            return -1;
    }
    return 0;
}

/* notify.templates: one message per event type, placeholders checked. 0/-1. */
static int
s_read_templates (yx_nt_rules_t *self, const config_setting_t *g, char *err, size_t errlen)
{
    if (!config_setting_is_group (g))
        return yx_cfg_fail (g, "notify.templates", err, errlen, "expected a group of event type = \"message\"");
    for (int i = 0; i < config_setting_length (g); i++) {
        const config_setting_t *m = config_setting_get_elem (g, (unsigned) i);
        char key[96], why[128];
        snprintf (key, sizeof key, "notify.templates.%s", config_setting_name (m));
        int t = yx_nt_type_index (config_setting_name (m));
        if (t < 0 || t == YX_NT_NTYPES - 1)
            return yx_cfg_fail (m, key, err, errlen, "unknown event type");
        if (config_setting_type (m) != CONFIG_TYPE_STRING)
            return yx_cfg_fail (m, key, err, errlen, "expected a string");
        const char *v = config_setting_get_string (m);
        if (!*v || strlen (v) > 1000)
            return yx_cfg_fail (m, key, err, errlen, "must be 1-1000 bytes");
        if (yx_nt_template_check (v, why, sizeof why))
            return yx_cfg_fail (m, key, err, errlen, why);
        self->templates[t] = strdup (v);
    }
    return 0;
}

/* Fills the defaults: every department's feed and departments.cfg webhook, no
 * gateway, the sources without callbacks. */
static int
s_defaults (yx_nt_rules_t *self)
{
    const yx_config_t *cfg = self->cfg;
    uint32_t gateway = S_BIT ("DISPATCHED") | S_BIT ("ASSIST_REQUESTED") | S_BIT ("WHISTLE") | S_BIT ("REMINDER")
                       | S_BIT ("ESCALATED") | S_BIT ("RETURNED") | S_BIT ("EXTENSION_APPROVED")
                       | S_BIT ("EXTENSION_DENIED") | S_BIT ("VERIFIED") | S_BIT ("REWORK") | S_BIT ("CLOSED")
                       | S_BIT ("REOPENED");
    self->ndepts = cfg->ndepts;
    self->depts = calloc ((size_t) cfg->ndepts + 1, sizeof *self->depts);
    if (!self->depts)
        return -1;
    for (int i = 0; i <= cfg->ndepts; i++) {
        yx_nt_dept_t *d = i < cfg->ndepts ? &self->depts[i] : &self->unknown;
        d->id = i < cfg->ndepts ? cfg->depts[i].id : "";
        if (i < cfg->ndepts)
            snprintf (d->webhook, sizeof d->webhook, "%s", cfg->depts[i].webhook);
        d->feed_events = d->webhook_events = YX_NT_ALL_TYPES;
        d->gateway_events = gateway;
    }
    for (self->nsources = 0; s_sources[self->nsources]; self->nsources++)
        ;
    self->sources = calloc ((size_t) self->nsources, sizeof *self->sources);
    if (!self->sources)
        return -1;
    for (int i = 0; i < self->nsources; i++) {
        snprintf (self->sources[i].source, sizeof self->sources[i].source, "%s", s_sources[i]);
        self->sources[i].events = S_BIT ("DISPATCHED") | S_BIT ("RESOLVED") | S_BIT ("CLOSED") | S_BIT ("REOPENED");
    }
    self->keep_ms = 7LL * 86400 * 1000;
    return 0;
}

/* Reads the notify group. 0/-1. */
static int
s_read_notify (yx_nt_rules_t *self, const config_setting_t *n, char *err, size_t errlen)
{
    static const char *const keys[] = { "keep_days", "feed_events", "webhook_events", "gateway", "templates",
                                        "departments", "sources", NULL };
    static const char *const gkeys[] = { "url", "secret", "events", NULL };
    if (!config_setting_is_group (n))
        return yx_cfg_fail (n, "notify", err, errlen, "expected a group");
    if (s_known_members (n, "notify", keys, err, errlen))
        return -1;
    const config_setting_t *m = config_setting_get_member (n, "keep_days");
    if (m) {
        int t = config_setting_type (m);
        long long days = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 ? config_setting_get_int64 (m) : -1;
        if (days < 1 || days > 365)
            return yx_cfg_fail (m, "notify.keep_days", err, errlen, "expected a whole number of days in [1, 365]");
        self->keep_ms = days * 86400 * 1000;
    }
    uint32_t feed = YX_NT_ALL_TYPES, hook = YX_NT_ALL_TYPES, gw = self->depts ? self->unknown.gateway_events : 0;
    if (s_types_of (n, "notify", "feed_events", &feed, err, errlen)
        || s_types_of (n, "notify", "webhook_events", &hook, err, errlen))
        return -1;
    const config_setting_t *g = config_setting_get_member (n, "gateway");
    if (g && !config_setting_is_group (g))
        return yx_cfg_fail (g, "notify.gateway", err, errlen, "expected a group");
    if (g && (s_known_members (g, "notify.gateway", gkeys, err, errlen)
              || s_str (g, "notify.gateway", "url", self->gateway_url, sizeof self->gateway_url, true, err, errlen)
              || s_str (g, "notify.gateway", "secret", self->gateway_secret, sizeof self->gateway_secret, false,
                        err, errlen)
              || s_types_of (g, "notify.gateway", "events", &gw, err, errlen)))
        return -1;
    for (int i = 0; i <= self->ndepts; i++) {
        yx_nt_dept_t *d = i < self->ndepts ? &self->depts[i] : &self->unknown;
        d->feed_events = feed, d->webhook_events = hook, d->gateway_events = gw;
    }
    if ((m = config_setting_get_member (n, "templates")) && s_read_templates (self, m, err, errlen))
        return -1;
    if ((m = config_setting_get_member (n, "departments")) && s_read_departments (self, m, err, errlen))
        return -1;
    if ((m = config_setting_get_member (n, "sources")) && s_read_sources (self, m, err, errlen))
        return -1;
    /* Every type the gateway may carry needs its message. */
    for (int i = 0; *self->gateway_url && i < self->ndepts; i++)
        for (int t = 0; self->depts[i].nto && t < YX_NT_NTYPES; t++)
            if ((self->depts[i].gateway_events & (1u << t)) && !self->templates[t]) {
                char msg[96];
                snprintf (msg, sizeof msg, "the gateway carries %s to %s but notify.templates has no %s",
                          yx_nt_type_name (t), self->depts[i].id, yx_nt_type_name (t));
                return yx_cfg_fail (g ? g : n, "notify.templates", err, errlen, msg);
            }
    return 0;
}

/* Fills secrets left empty with fallback. */
static void
s_secrets (yx_nt_rules_t *self, const char *fallback)
{
    if (!*self->gateway_secret)
        snprintf (self->gateway_secret, sizeof self->gateway_secret, "%s", fallback);
    for (int i = 0; i <= self->ndepts; i++) {
        yx_nt_dept_t *d = i < self->ndepts ? &self->depts[i] : &self->unknown;
        if (!*d->secret)
            snprintf (d->secret, sizeof d->secret, "%s", fallback);
    }
    for (int i = 0; i < self->nsources; i++)
        if (!*self->sources[i].secret)
            snprintf (self->sources[i].secret, sizeof self->sources[i].secret, "%s", fallback);
}

yx_nt_rules_t *
yx_nt_rules_load (const yx_config_t *cfg, const char *path, char *err, size_t errlen)
{
    yx_nt_rules_t *self = calloc (1, sizeof *self);
    if (!self || (self->cfg = cfg, s_defaults (self))) {
        snprintf (err, errlen, "out of memory");
        yx_nt_rules_destroy (&self);
        return NULL;
    }
    config_t cf;
    config_init (&cf);
    config_set_include_dir (&cf, cfg->dir);
    int rc = 0;
    if (config_read_file (&cf, path) != CONFIG_TRUE) {
        if (config_error_type (&cf) == CONFIG_ERR_FILE_IO && !config_error_file (&cf))
            snprintf (err, errlen, "%s: cannot read file", path);
        else
            snprintf (err, errlen, "%s:%d: syntax: %s", config_error_file (&cf) ? config_error_file (&cf) : path,
                      config_error_line (&cf), config_error_text (&cf));
        rc = -1;
    }
    const config_setting_t *n = rc == 0 ? config_lookup (&cf, "notify") : NULL;
    if (n)
        rc = s_read_notify (self, n, err, errlen);
    config_destroy (&cf);
    if (rc) {
        yx_nt_rules_destroy (&self);
        return NULL;
    }
    s_secrets (self, cfg->notifier_secret);
    return self;
}

void
yx_nt_rules_destroy (yx_nt_rules_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yx_nt_rules_t *self = *self_p;
    for (int i = 0; self->depts && i <= self->ndepts; i++) {
        yx_nt_dept_t *d = i < self->ndepts ? &self->depts[i] : &self->unknown;
        for (int j = 0; j < d->nto; j++)
            free (d->to[j]);
    }
    for (int t = 0; t < YX_NT_NTYPES; t++)
        free (self->templates[t]);
    free (self->depts);
    free (self->sources);
    free (self);
    *self_p = NULL;
}

/* Appends a recipient unless out is full. */
static void
s_add (yx_nt_rcpt_t *out, int *n, int max, yx_nt_channel_t ch, const char *target, const char *url,
       const char *secret, const yx_nt_dept_t *dept)
{
    if (*n >= max)
        return;
    yx_nt_rcpt_t *r = &out[(*n)++];
    memset (r, 0, sizeof *r);
    r->channel = ch;
    snprintf (r->name, sizeof r->name, "%s:%s", s_channels[ch], target);
    snprintf (r->target, sizeof r->target, "%s", target);
    r->url = url;
    r->secret = secret;
    r->dept = dept;
}

int
yx_nt_recipients (const yx_nt_rules_t *self, const yx_event_t *ev, yx_nt_rcpt_t *out, int max)
{
    int t = yx_nt_type_index (ev->type);
    if (t < 0)
        return 0;
    uint32_t bit = 1u << (unsigned) t;
    int n = 0;
    for (size_t i = 0; i < ev->n_departments; i++) {
        const char *id = ev->departments[i];
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup |= strcmp (ev->departments[j], id) == 0;
        if (dup || !yx_nt_id_ok (id))
            continue;
        const yx_dept_t *cd = yx_config_dept (self->cfg, id);
        const yx_nt_dept_t *d = cd ? &self->depts[cd - self->cfg->depts] : &self->unknown;
        if (d->feed_events & bit)
            s_add (out, &n, max, YX_NT_FEED, id, NULL, NULL, d);
        if (*d->webhook && (d->webhook_events & bit))
            s_add (out, &n, max, YX_NT_WEBHOOK, id, d->webhook, d->secret, d);
        if (*self->gateway_url && d->nto && (d->gateway_events & bit) && self->templates[t])
            s_add (out, &n, max, YX_NT_GATEWAY, id, self->gateway_url, self->gateway_secret, d);
    }
    for (int i = 0; ev->source && i < self->nsources; i++) {
        const yx_nt_source_t *s = &self->sources[i];
        if (strcmp (s->source, ev->source) == 0 && *s->url && (s->events & bit))
            s_add (out, &n, max, YX_NT_CALLBACK, s->source, s->url, s->secret, NULL);
    }
    return n;
}
