/* config_internal.h — shared by config.c, config_sections.c and config_policy.c only. */
#ifndef YX_CONFIG_INTERNAL_H
#define YX_CONFIG_INTERNAL_H

#include <libconfig.h>

#include "config.h"

/* Writes "FILE:LINE" of a setting into buf. */
void yx_config_where (const config_setting_t *st, char *buf, size_t buflen);

/* Parses areas, geo, departments, taxonomy, responsibility, api_keys and calendar,
 * then checks cross references. 0/-1 with err set. */
int yx_config_read_sections (yx_config_t *self, const config_t *cf, char *err, size_t errlen);

/* Error at setting st: "FILE:LINE: KEY: message". Always returns -1. */
int yx_cfg_fail (const config_setting_t *st, const char *key, char *err, size_t errlen, const char *msg);
/* Copies string member `name` of group g (path names it in messages). Required
 * members must exist and be non-empty; optional ones default to "". 0/-1. */
int yx_cfg_str (const config_setting_t *g, const char *path, const char *name, char *buf, size_t n,
                bool required, char *err, size_t errlen);
/* Reads an array of strings into a new vector (free with yx_cfg_free_strv). 0/-1. */
int yx_cfg_strv (const config_setting_t *g, const char *path, const char *name, char ***out, int *nout,
                 char *err, size_t errlen);
void yx_cfg_free_strv (char **v, int n);

/* config_policy.c: api_keys, escalation.ladders, classifier.topics. 0/-1. */
int yx_config_read_keys (yx_config_t *self, const config_t *cf, char *err, size_t errlen);
int yx_config_read_ladders (yx_config_t *self, const config_t *cf, char *err, size_t errlen);
int yx_config_read_topics (yx_config_t *self, const config_t *cf, char *err, size_t errlen);

#endif
