/* config_policy.c — the parts of the configuration about people and policy: API keys
 * and their roles, the escalation ladders, and the text model's topics. */
#include "config_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decodes 64 hex characters into 32 bytes. 0/-1. */
static int
s_hex32 (const char *hex, unsigned char out[32])
{
    size_t bin_len = 0;
    if (strlen (hex) != 64)
        return -1;
    if (sodium_hex2bin (out, 32, hex, 64, NULL, &bin_len, NULL) != 0 || bin_len != 32)
        return -1;
    return 0;
}

/* api_keys = ( { name; sha256; role; scope } ) */
int
yx_config_read_keys (yx_config_t *self, const config_t *cf, char *err, size_t errlen)
{
    const config_setting_t *l = config_lookup (cf, "api_keys");
    if (!l)
        return 0;
    if (!config_setting_is_list (l))
        return yx_cfg_fail (l, "api_keys", err, errlen, "expected a list");
    int n = config_setting_length (l);
    self->keys = calloc ((size_t) n + 1, sizeof *self->keys);
    if (!self->keys)
        return yx_cfg_fail (l, "api_keys", err, errlen, "out of memory");
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem (l, (unsigned) i);
        yx_apikey_t *k = &self->keys[i];
        char hex[80];
        if (!config_setting_is_group (g))
            return yx_cfg_fail (g, "api_keys", err, errlen, "expected a group");
        if (yx_cfg_str (g, "api_keys", "name", k->name, sizeof k->name, true, err, errlen)
            || yx_cfg_str (g, "api_keys", "sha256", hex, sizeof hex, true, err, errlen)
            || yx_cfg_str (g, "api_keys", "role", k->role, sizeof k->role, true, err, errlen)
            || yx_cfg_str (g, "api_keys", "scope", k->scope, sizeof k->scope, false, err, errlen))
            return -1;
        k->rate_per_s = k->burst = -1;
        const config_setting_t *rate = config_setting_get_member (g, "rate_per_s");
        const config_setting_t *burst = config_setting_get_member (g, "burst");
        if (rate && (config_setting_type (rate) != CONFIG_TYPE_INT || config_setting_get_int (rate) < 0))
            return yx_cfg_fail (rate, "api_keys.rate_per_s", err, errlen, "expected an integer >= 0 (0 = unlimited)");
        if (burst && (config_setting_type (burst) != CONFIG_TYPE_INT || config_setting_get_int (burst) < 1))
            return yx_cfg_fail (burst, "api_keys.burst", err, errlen, "expected an integer >= 1");
        if (rate)
            k->rate_per_s = config_setting_get_int (rate);
        if (burst)
            k->burst = config_setting_get_int (burst);
        if (s_hex32 (hex, k->sha256))
            return yx_cfg_fail (g, "api_keys.sha256", err, errlen, "expected 64 hex digits");
        if (strcmp (k->role, "department") == 0) {
            if (!yx_config_dept (self, k->scope))
                return yx_cfg_fail (g, "api_keys.scope", err, errlen, "unknown department");
        }
        else
        if (strcmp (k->role, "operator") == 0) {
            if (strcmp (k->scope, "city") && !yx_config_area (self, k->scope))
                return yx_cfg_fail (g, "api_keys.scope", err, errlen, "expected city or an area code");
        }
        else
        if (strcmp (k->role, "reporter") == 0) {
            if (!*k->scope)
                return yx_cfg_fail (g, "api_keys.scope", err, errlen, "a reporter key needs its source");
        }
        else
        if (strcmp (k->role, "admin") != 0)
            return yx_cfg_fail (g, "api_keys.role", err, errlen, "expected reporter, operator, department or admin");
        self->nkeys = i + 1;
    }
    return 0;
}

/* escalation.ladders = ( { district; rungs = [...]; timeouts = [...] } ) */
int
yx_config_read_ladders (yx_config_t *self, const config_t *cf, char *err, size_t errlen)
{
    const config_setting_t *l = config_lookup (cf, "escalation.ladders");
    if (!l)
        return 0;
    if (!config_setting_is_list (l))
        return yx_cfg_fail (l, "escalation.ladders", err, errlen, "expected a list");
    int n = config_setting_length (l);
    self->ladders = calloc ((size_t) n + 1, sizeof *self->ladders);
    if (!self->ladders)
        return yx_cfg_fail (l, "escalation.ladders", err, errlen, "out of memory");
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem (l, (unsigned) i);
        yx_ladder_t *ld = &self->ladders[i];
        char **rungs = NULL, **timeouts = NULL;
        int nr = 0, nt = 0, rc = 0;
        if (!config_setting_is_group (g))
            return yx_cfg_fail (g, "escalation.ladders", err, errlen, "expected a group");
        if (yx_cfg_str (g, "escalation.ladders", "district", ld->district, sizeof ld->district, true, err, errlen)
            || yx_cfg_strv (g, "escalation.ladders", "rungs", &rungs, &nr, err, errlen)
            || yx_cfg_strv (g, "escalation.ladders", "timeouts", &timeouts, &nt, err, errlen))
            rc = -1;
        if (rc == 0 && strcmp (ld->district, "*") && !yx_config_area (self, ld->district))
            rc = yx_cfg_fail (g, "escalation.ladders.district", err, errlen, "unknown district");
        if (rc == 0 && (nr < 1 || nr > YX_LADDER_MAX))
            rc = yx_cfg_fail (g, "escalation.ladders.rungs", err, errlen, "expected 1-6 rungs");
        if (rc == 0 && nt > nr)
            rc = yx_cfg_fail (g, "escalation.ladders.timeouts", err, errlen, "more timeouts than rungs");
        for (int k = 0; rc == 0 && k < nr; k++) {
            if (strcmp (rungs[k], "supervisor") && strcmp (rungs[k], "command") && strcmp (rungs[k], "leader")
                && !yx_config_dept (self, rungs[k]))
                rc = yx_cfg_fail (g, "escalation.ladders.rungs", err, errlen,
                             "each rung is supervisor, command, leader or a department id");
            else
                snprintf (ld->rungs[k], sizeof ld->rungs[k], "%s", rungs[k]);
        }
        for (int k = 0; rc == 0 && k < nt; k++) {
            yx_duration_t d;
            if (yx_duration_parse (timeouts[k], &d))
                rc = yx_cfg_fail (g, "escalation.ladders.timeouts", err, errlen, "expected durations like 90s, 30m, 2h or 1d");
            else
                ld->timeout_ms[k] = d.amount * (d.unit == 's' ? 1000 : d.unit == 'm' ? 60000
                                                : d.unit == 'h' ? 3600000 : 86400000);
        }
        ld->nrungs = nr;
        self->nladders = i + 1;
        yx_cfg_free_strv (rungs, nr);
        yx_cfg_free_strv (timeouts, nt);
        if (rc)
            return -1;
    }
    return 0;
}

/* classifier.topics = ( { label; category } ) */
int
yx_config_read_topics (yx_config_t *self, const config_t *cf, char *err, size_t errlen)
{
    const config_setting_t *l = config_lookup (cf, "classifier.topics");
    if (!l)
        return 0;
    if (!config_setting_is_list (l))
        return yx_cfg_fail (l, "classifier.topics", err, errlen, "expected a list");
    int n = config_setting_length (l);
    self->topics = calloc ((size_t) n + 1, sizeof *self->topics);
    if (!self->topics)
        return yx_cfg_fail (l, "classifier.topics", err, errlen, "out of memory");
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem (l, (unsigned) i);
        yx_topic_t *t = &self->topics[i];
        if (!config_setting_is_group (g))
            return yx_cfg_fail (g, "classifier.topics", err, errlen, "expected a group");
        if (yx_cfg_str (g, "classifier.topics", "label", t->label, sizeof t->label, true, err, errlen)
            || yx_cfg_str (g, "classifier.topics", "category", t->category, sizeof t->category, true, err, errlen))
            return -1;
        if (!yx_config_category (self, t->category))
            return yx_cfg_fail (g, "classifier.topics.category", err, errlen, "unknown subcategory");
        self->ntopics = i + 1;
    }
    return 0;
}

