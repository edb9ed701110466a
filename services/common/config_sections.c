/* config_sections.c — the structured parts of the configuration: the administrative
 * tree, geometry paths, departments, taxonomy, responsibility list and the working
 * calendar (API keys, ladders and topics: config_policy.c). Each reader checks types and cross references and names
 * FILE:LINE and the key path on the first problem. */
#include "config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Error at setting st: "FILE:LINE: KEY: message". Always returns -1. */
int
yx_cfg_fail (const config_setting_t *st, const char *key, char *err, size_t errlen, const char *msg)
{
    char where[600];
    yx_config_where (st, where, sizeof where);
    snprintf (err, errlen, "%s: %s: %s", where, key, msg);
    return -1;
}

/* Copies the string member `name` of group g into buf (size n). Required members
 * must exist; optional ones default to "". 0/-1. */
int
yx_cfg_str (const config_setting_t *g, const char *path, const char *name, char *buf, size_t n,
           bool required, char *err, size_t errlen)
{
    char key[160];
    snprintf (key, sizeof key, "%s.%s", path, name);
    const config_setting_t *m = config_setting_get_member (g, name);
    if (!m) {
        buf[0] = 0;
        return required ? yx_cfg_fail (g, key, err, errlen, "missing") : 0;
    }
    if (config_setting_type (m) != CONFIG_TYPE_STRING)
        return yx_cfg_fail (m, key, err, errlen, "expected a string");
    const char *v = config_setting_get_string (m);
    if (strlen (v) >= n)
        return yx_cfg_fail (m, key, err, errlen, "too long");
    if (required && !*v)
        return yx_cfg_fail (m, key, err, errlen, "must not be empty");
    memcpy (buf, v, strlen (v) + 1);
    return 0;
}

/* Reads an array of strings (member `name` of g) into a freshly allocated vector. */
int
yx_cfg_strv (const config_setting_t *g, const char *path, const char *name, char ***out, int *nout,
            char *err, size_t errlen)
{
    char key[160];
    snprintf (key, sizeof key, "%s.%s", path, name);
    *out = NULL;
    *nout = 0;
    const config_setting_t *m = config_setting_get_member (g, name);
    if (!m)
        return 0;
    if (!config_setting_is_array (m) && !config_setting_is_list (m))
        return yx_cfg_fail (m, key, err, errlen, "expected an array of strings");
    int n = config_setting_length (m);
    *out = calloc ((size_t) n + 1, sizeof (char *));
    if (!*out)
        return yx_cfg_fail (m, key, err, errlen, "out of memory");
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem (m, (unsigned) i);
        if (config_setting_type (e) != CONFIG_TYPE_STRING || !*config_setting_get_string (e))
            return yx_cfg_fail (e, key, err, errlen, "every element must be a non-empty string");
        (*out)[i] = strdup (config_setting_get_string (e));
        *nout = i + 1;
    }
    return 0;
}

void
yx_cfg_free_strv (char **v, int n)
{
    for (int i = 0; v && i < n; i++)
        free (v[i]);
    free (v);
}

static bool
s_all_digits (const char *s, size_t len)
{
    if (strlen (s) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Appends one area; grows the array. */
static int
s_add_area (yx_config_t *self, const yx_area_t *a)
{
    yx_area_t *n = realloc (self->areas, sizeof *n * (size_t) (self->nareas + 1));
    if (!n)
        return -1;
    self->areas = n;
    self->areas[self->nareas++] = *a;
    return 0;
}

/* areas = { city; districts = ( { code; name; streets = ( { …; communities = (…) } ) } ) } */
static int
s_read_areas (yx_config_t *self, const config_t *cf, char *err, size_t errlen)
{
    const config_setting_t *root = config_lookup (cf, "areas");
    if (!root || !config_setting_is_group (root)) {
        snprintf (err, errlen, "%s: areas: missing (the administrative tree is required)", self->path);
        return -1;
    }
    if (yx_cfg_str (root, "areas", "city", self->city_code, sizeof self->city_code, false, err, errlen))
        return -1;
    const config_setting_t *ds = config_setting_get_member (root, "districts");
    if (!ds || !config_setting_is_list (ds) || config_setting_length (ds) == 0)
        return yx_cfg_fail (root, "areas.districts", err, errlen, "expected a non-empty list");
    static const size_t digits[] = { 6, 9, 12 };
    static const char *members[] = { "streets", "communities", NULL };
    /* Walk three levels with an explicit stack of (list, index, level). */
    const config_setting_t *lists[3] = { ds, NULL, NULL };
    int idx[3] = { 0, 0, 0 };
    char parents[3][16] = { "", "", "" };
    int level = 0;
    while (level >= 0) {
        if (idx[level] >= config_setting_length (lists[level])) {
            level--;
            if (level >= 0)
                idx[level]++;
            continue;
        }
        const config_setting_t *g = config_setting_get_elem (lists[level], (unsigned) idx[level]);
        static const char *paths[] = { "areas.districts", "areas.streets", "areas.communities" };
        if (!config_setting_is_group (g))
            return yx_cfg_fail (g, paths[level], err, errlen, "expected a group");
        yx_area_t a = { .level = (yx_area_level_t) level };
        if (yx_cfg_str (g, paths[level], "code", a.code, sizeof a.code, true, err, errlen)
            || yx_cfg_str (g, paths[level], "name", a.name, sizeof a.name, true, err, errlen))
            return -1;
        if (!s_all_digits (a.code, digits[level]))
            return yx_cfg_fail (g, paths[level], err, errlen, "code has the wrong number of digits");
        if (level > 0 && strncmp (a.code, parents[level], strlen (parents[level])) != 0)
            return yx_cfg_fail (g, paths[level], err, errlen, "code does not extend its parent's code");
        if (yx_config_area (self, a.code))
            return yx_cfg_fail (g, paths[level], err, errlen, "duplicate area code");
        snprintf (a.parent, sizeof a.parent, "%s", parents[level]);
        if (level == 2) {
            int grids = 0;
            if (!config_setting_lookup_int (g, "grids", &grids) || grids < 1 || grids > 999)
                return yx_cfg_fail (g, "areas.communities.grids", err, errlen, "expected an integer 1..999");
            a.grids = grids;
        }
        if (s_add_area (self, &a))
            return yx_cfg_fail (g, paths[level], err, errlen, "out of memory");
        if (level < 2) {
            const config_setting_t *sub = config_setting_get_member (g, members[level]);
            if (sub) {
                if (!config_setting_is_list (sub))
                    return yx_cfg_fail (sub, members[level], err, errlen, "expected a list");
                memcpy (parents[level + 1], self->areas[self->nareas - 1].code, sizeof parents[0]);
                lists[level + 1] = sub;
                idx[level + 1] = 0;
                level++;
                continue;
            }
        }
        idx[level]++;
    }
    return 0;
}

/* geo = { streets; grids; gazetteer; triage_district } — paths relative to the config folder. */
static int
s_read_geo (yx_config_t *self, const config_t *cf, char *err, size_t errlen)
{
    const config_setting_t *g = config_lookup (cf, "geo");
    if (!g)
        return 0;
    char *outs[] = { self->geo_streets, self->geo_grids, self->geo_gazetteer };
    const char *names[] = { "streets", "grids", "gazetteer" };
    for (int i = 0; i < 3; i++) {
        char rel[256];
        if (yx_cfg_str (g, "geo", names[i], rel, sizeof rel, false, err, errlen))
            return -1;
        if (!*rel)
            continue;
        int n = rel[0] == '/' ? snprintf (outs[i], 512, "%s", rel)
                              : snprintf (outs[i], 512, "%.250s/%s", self->dir, rel);
        if (n < 0 || n >= 512)
            return yx_cfg_fail (g, names[i], err, errlen, "path too long");
    }
    return 0;
}

/* departments = ( { id; name; level; district; street; supervisor; webhook } ) */
static int
s_read_departments (yx_config_t *self, const config_t *cf, char *err, size_t errlen)
{
    const config_setting_t *l = config_lookup (cf, "departments");
    if (!l || !config_setting_is_list (l) || config_setting_length (l) == 0) {
        snprintf (err, errlen, "%s: departments: missing or empty", self->path);
        return -1;
    }
    int n = config_setting_length (l);
    self->depts = calloc ((size_t) n, sizeof *self->depts);
    if (!self->depts)
        return yx_cfg_fail (l, "departments", err, errlen, "out of memory");
    static const char *levels[] = { "city", "district", "street", "utility", "command", "leader" };
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem (l, (unsigned) i);
        yx_dept_t *d = &self->depts[i];
        self->ndepts = i + 1;
        if (!config_setting_is_group (g))
            return yx_cfg_fail (g, "departments", err, errlen, "expected a group");
        if (yx_cfg_str (g, "departments", "id", d->id, sizeof d->id, true, err, errlen)
            || yx_cfg_str (g, "departments", "name", d->name, sizeof d->name, true, err, errlen)
            || yx_cfg_str (g, "departments", "level", d->level, sizeof d->level, true, err, errlen)
            || yx_cfg_str (g, "departments", "district", d->district, sizeof d->district, false, err, errlen)
            || yx_cfg_str (g, "departments", "street", d->street, sizeof d->street, false, err, errlen)
            || yx_cfg_str (g, "departments", "supervisor", d->supervisor, sizeof d->supervisor, false, err, errlen)
            || yx_cfg_str (g, "departments", "webhook", d->webhook, sizeof d->webhook, false, err, errlen))
            return -1;
        bool ok = false;
        for (size_t k = 0; k < sizeof levels / sizeof levels[0]; k++)
            ok |= strcmp (d->level, levels[k]) == 0;
        if (!ok)
            return yx_cfg_fail (g, "departments.level", err, errlen,
                           "expected city, district, street, utility, command or leader");
        for (const char *p = d->id; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
                return yx_cfg_fail (g, "departments.id", err, errlen, "use only a-z, 0-9, - and _");
        if (yx_config_dept (self, d->id) != d)
            return yx_cfg_fail (g, "departments.id", err, errlen, "duplicate department id");
    }
    return 0;
}

/* taxonomy = ( { code; name; class; kind; keywords; ack_limit; resolve_limit; emergency; priority } ) */
static int
s_read_taxonomy (yx_config_t *self, const config_t *cf, char *err, size_t errlen)
{
    const config_setting_t *l = config_lookup (cf, "taxonomy");
    if (!l || !config_setting_is_list (l) || config_setting_length (l) == 0) {
        snprintf (err, errlen, "%s: taxonomy: missing or empty", self->path);
        return -1;
    }
    int n = config_setting_length (l);
    self->cats = calloc ((size_t) n, sizeof *self->cats);
    if (!self->cats)
        return yx_cfg_fail (l, "taxonomy", err, errlen, "out of memory");
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem (l, (unsigned) i);
        yx_category_t *c = &self->cats[i];
        self->ncats = i + 1;
        char ack[16], res[16];
        if (!config_setting_is_group (g))
            return yx_cfg_fail (g, "taxonomy", err, errlen, "expected a group");
        if (yx_cfg_str (g, "taxonomy", "code", c->code, sizeof c->code, true, err, errlen)
            || yx_cfg_str (g, "taxonomy", "name", c->name, sizeof c->name, true, err, errlen)
            || yx_cfg_str (g, "taxonomy", "class", c->class_name, sizeof c->class_name, true, err, errlen)
            || yx_cfg_str (g, "taxonomy", "kind", c->kind, sizeof c->kind, true, err, errlen)
            || yx_cfg_str (g, "taxonomy", "ack_limit", ack, sizeof ack, true, err, errlen)
            || yx_cfg_str (g, "taxonomy", "resolve_limit", res, sizeof res, true, err, errlen)
            || yx_cfg_str (g, "taxonomy", "priority", c->priority, sizeof c->priority, true, err, errlen)
            || yx_cfg_strv (g, "taxonomy", "keywords", &c->keywords, &c->nkeywords, err, errlen))
            return -1;
        if (!s_all_digits (c->code, 4))
            return yx_cfg_fail (g, "taxonomy.code", err, errlen, "expected 4 digits");
        if (yx_config_category (self, c->code) != c)
            return yx_cfg_fail (g, "taxonomy.code", err, errlen, "duplicate subcategory code");
        if (strcmp (c->kind, "component") && strcmp (c->kind, "event") && strcmp (c->kind, "hotline"))
            return yx_cfg_fail (g, "taxonomy.kind", err, errlen, "expected component, event or hotline");
        if (strcmp (c->priority, "low") && strcmp (c->priority, "normal")
            && strcmp (c->priority, "high") && strcmp (c->priority, "urgent"))
            return yx_cfg_fail (g, "taxonomy.priority", err, errlen, "expected low, normal, high or urgent");
        if (yx_duration_parse (ack, &c->ack_limit))
            return yx_cfg_fail (g, "taxonomy.ack_limit", err, errlen, "expected a duration like 30m, 4h or 2d");
        if (yx_duration_parse (res, &c->resolve_limit))
            return yx_cfg_fail (g, "taxonomy.resolve_limit", err, errlen, "expected a duration like 30m, 4h or 2d");
        c->dup_radius_m = -1;   /* -1: the classifier's default */
        const config_setting_t *dr = config_setting_get_member (g, "duplicate_radius_m");
        if (dr && (config_setting_type (dr) != CONFIG_TYPE_INT || config_setting_get_int (dr) < 0
                   || config_setting_get_int (dr) > 10000))
            return yx_cfg_fail (dr, "taxonomy.duplicate_radius_m", err, errlen, "expected metres 0..10000");
        if (dr)
            c->dup_radius_m = config_setting_get_int (dr);
        char window[16];
        yx_duration_t wd;
        if (yx_cfg_str (g, "taxonomy", "duplicate_window", window, sizeof window, false, err, errlen))
            return -1;
        if (*window && yx_duration_parse (window, &wd))
            return yx_cfg_fail (g, "taxonomy.duplicate_window", err, errlen, "expected a duration like 72h or 30d");
        if (*window)
            c->dup_window_ms = wd.amount * (wd.unit == 's' ? 1000 : wd.unit == 'm' ? 60000
                                            : wd.unit == 'h' ? 3600000 : 86400000);
        int em = 0;
        const config_setting_t *e = config_setting_get_member (g, "emergency");
        if (e && config_setting_type (e) != CONFIG_TYPE_BOOL)
            return yx_cfg_fail (e, "taxonomy.emergency", err, errlen, "expected true or false");
        if (e)
            em = config_setting_get_bool (e);
        c->emergency = em != 0;
    }
    return 0;
}

/* Checks that every id in v names a department. */
static int
s_check_depts (yx_config_t *self, const config_setting_t *g, const char *key, char **v, int n,
               char *err, size_t errlen)
{
    for (int i = 0; i < n; i++)
        if (!yx_config_dept (self, v[i])) {
            char msg[160];
            snprintf (msg, sizeof msg, "unknown department \"%.60s\"", v[i]);
            return yx_cfg_fail (g, key, err, errlen, msg);
        }
    return 0;
}

/* responsibility = ( { category; area; mode; lead; assist } ) */
static int
s_read_responsibility (yx_config_t *self, const config_t *cf, char *err, size_t errlen)
{
    const config_setting_t *l = config_lookup (cf, "responsibility");
    if (!l)
        return 0;
    if (!config_setting_is_list (l))
        return yx_cfg_fail (l, "responsibility", err, errlen, "expected a list");
    int n = config_setting_length (l);
    self->rules = calloc ((size_t) n + 1, sizeof *self->rules);
    if (!self->rules)
        return yx_cfg_fail (l, "responsibility", err, errlen, "out of memory");
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem (l, (unsigned) i);
        yx_resp_rule_t *r = &self->rules[i];
        self->nrules = i + 1;
        char mode[16];
        if (!config_setting_is_group (g))
            return yx_cfg_fail (g, "responsibility", err, errlen, "expected a group");
        if (yx_cfg_str (g, "responsibility", "category", r->category, sizeof r->category, true, err, errlen)
            || yx_cfg_str (g, "responsibility", "area", r->area, sizeof r->area, true, err, errlen)
            || yx_cfg_str (g, "responsibility", "mode", mode, sizeof mode, true, err, errlen)
            || yx_cfg_strv (g, "responsibility", "lead", &r->lead, &r->nlead, err, errlen)
            || yx_cfg_strv (g, "responsibility", "assist", &r->assist, &r->nassist, err, errlen))
            return -1;
        if (!yx_config_category (self, r->category))
            return yx_cfg_fail (g, "responsibility.category", err, errlen, "unknown subcategory");
        if (strcmp (r->area, "*") && !yx_config_area (self, r->area))
            return yx_cfg_fail (g, "responsibility.area", err, errlen, "unknown area code");
        if (strcmp (mode, "owner") == 0)
            r->mode = YX_RESP_OWNER;
        else
        if (strcmp (mode, "locality") == 0)
            r->mode = YX_RESP_LOCALITY;
        else
            return yx_cfg_fail (g, "responsibility.mode", err, errlen, "expected owner or locality");
        if (r->mode == YX_RESP_OWNER && r->nlead == 0)
            return yx_cfg_fail (g, "responsibility.lead", err, errlen, "owner-first rows need a lead");
        if (s_check_depts (self, g, "responsibility.lead", r->lead, r->nlead, err, errlen)
            || s_check_depts (self, g, "responsibility.assist", r->assist, r->nassist, err, errlen))
            return -1;
    }
    return 0;
}

int
yx_config_read_sections (yx_config_t *self, const config_t *cf, char *err, size_t errlen)
{
    if (s_read_areas (self, cf, err, errlen) || s_read_geo (self, cf, err, errlen)
        || s_read_departments (self, cf, err, errlen) || s_read_taxonomy (self, cf, err, errlen)
        || s_read_responsibility (self, cf, err, errlen) || yx_config_read_keys (self, cf, err, errlen)
        || yx_config_read_topics (self, cf, err, errlen) || yx_config_read_ladders (self, cf, err, errlen))
        return -1;
    for (int i = 0; i < self->ndepts; i++) {
        const yx_dept_t *d = &self->depts[i];
        if (*d->supervisor && !yx_config_dept (self, d->supervisor)) {
            snprintf (err, errlen, "%s: departments.supervisor: \"%s\" of \"%s\" is not a department",
                      self->path, d->supervisor, d->id);
            return -1;
        }
    }
    for (int i = 0; i < self->nkeys; i++) {
        if (self->keys[i].rate_per_s < 0)
            self->keys[i].rate_per_s = self->rate_per_s;
        if (self->keys[i].burst < 0)
            self->keys[i].burst = self->rate_burst;
    }
    for (int i = 0; i < self->ncats; i++) {
        if (self->cats[i].dup_radius_m < 0)
            self->cats[i].dup_radius_m = self->dup_radius_m;
        if (self->cats[i].dup_window_ms == 0)
            self->cats[i].dup_window_ms = (int64_t) self->dup_window_h * 3600000;
    }
    const config_setting_t *cal = config_lookup (cf, "calendar");
    if (!cal) {
        snprintf (err, errlen, "%s: calendar: missing", self->path);
        return -1;
    }
    self->calendar = yx_workcal_from_config (cal, err, errlen);
    if (!self->calendar)
        return -1;
    const char *off = NULL;
    int oh = 8, om = 0;
    char sign = '+';
    if (config_setting_lookup_string (cal, "utc_offset", &off)
        && sscanf (off, "%c%2d:%2d", &sign, &oh, &om) == 3)
        self->utc_offset_min = (sign == '-' ? -1 : 1) * (oh * 60 + om);
    else
        self->utc_offset_min = 480;
    if (!*self->triage_district)
        snprintf (self->triage_district, sizeof self->triage_district, "%.7s", self->areas[0].code);
    else
    if (!yx_config_area (self, self->triage_district)) {
        snprintf (err, errlen, "%s: geo.triage_district: unknown district", self->path);
        return -1;
    }
    return 0;
}

void
yx_config_destroy (yx_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yx_config_t *self = *self_p;
    for (int i = 0; i < self->ncats; i++)
        yx_cfg_free_strv (self->cats[i].keywords, self->cats[i].nkeywords);
    for (int i = 0; i < self->nrules; i++) {
        yx_cfg_free_strv (self->rules[i].lead, self->rules[i].nlead);
        yx_cfg_free_strv (self->rules[i].assist, self->rules[i].nassist);
    }
    free (self->areas);
    free (self->depts);
    free (self->cats);
    free (self->rules);
    free (self->keys);
    free (self->topics);
    free (self->ladders);
    yx_workcal_destroy (&self->calendar);
    free (self);
    *self_p = NULL;
}

const yx_dept_t *
yx_config_dept (const yx_config_t *self, const char *id)
{
    for (int i = 0; i < self->ndepts; i++)
        if (strcmp (self->depts[i].id, id) == 0)
            return &self->depts[i];
    return NULL;
}

const yx_category_t *
yx_config_category (const yx_config_t *self, const char *code)
{
    for (int i = 0; i < self->ncats; i++)
        if (strcmp (self->cats[i].code, code) == 0)
            return &self->cats[i];
    return NULL;
}

const yx_ladder_t *
yx_config_ladder (const yx_config_t *self, const char *district)
{
    const yx_ladder_t *any = NULL;
    for (int i = 0; i < self->nladders; i++) {
        if (strcmp (self->ladders[i].district, district) == 0)
            return &self->ladders[i];
        if (strcmp (self->ladders[i].district, "*") == 0)
            any = &self->ladders[i];
    }
    return any;
}

const yx_topic_t *
yx_config_topic (const yx_config_t *self, const char *label)
{
    for (int i = 0; i < self->ntopics; i++)
        if (strcmp (self->topics[i].label, label) == 0)
            return &self->topics[i];
    return NULL;
}

const yx_area_t *
yx_config_area (const yx_config_t *self, const char *code)
{
    for (int i = 0; i < self->nareas; i++)
        if (strcmp (self->areas[i].code, code) == 0)
            return &self->areas[i];
    return NULL;
}

int
yx_config_districts (const yx_config_t *self, const char **codes, int max)
{
    int n = 0;
    for (int i = 0; i < self->nareas && n < max; i++)
        if (self->areas[i].level == YX_AREA_DISTRICT)
            codes[n++] = self->areas[i].code;
    return n;
}

const yx_resp_rule_t *
yx_config_rule (const yx_config_t *self, const char *category, const char *community,
                const char *street, const char *district)
{
    const char *order[] = { community, street, district, "*" };
    for (int o = 0; o < 4; o++) {
        if (!order[o] || !*order[o])
            continue;
        for (int i = 0; i < self->nrules; i++)
            if (strcmp (self->rules[i].category, category) == 0
                && strcmp (self->rules[i].area, order[o]) == 0)
                return &self->rules[i];
    }
    return NULL;
}

bool
yx_area_contains (const char *scope, const char *district, const char *street,
                  const char *community)
{
    if (strcmp (scope, "city") == 0 || strcmp (scope, "*") == 0)
        return true;
    size_t n = strlen (scope);
    const char *target = n == 6 ? district : n == 9 ? street : n == 12 ? community : NULL;
    return target && strcmp (scope, target) == 0;
}
