/* config_internal.h — shared by config.c, config_sections.c and config_policy.c only. */
#ifndef YX_CONFIG_INTERNAL_H
#define YX_CONFIG_INTERNAL_H

#include <libconfig.h>

#include "config.h"
#include "config_read.h"

/* Writes "FILE:LINE" of a setting into buf. */
void yx_config_where (const config_setting_t *st, char *buf, size_t buflen);

/* Parses areas, geo, departments, taxonomy, responsibility, api_keys and calendar,
 * then checks cross references. 0/-1 with err set. */
int yx_config_read_sections (yx_config_t *self, const config_t *cf, char *err, size_t errlen);

/* config_policy.c: api_keys, escalation.ladders, classifier.topics. 0/-1. */
int yx_config_read_keys (yx_config_t *self, const config_t *cf, char *err, size_t errlen);
int yx_config_read_ladders (yx_config_t *self, const config_t *cf, char *err, size_t errlen);
int yx_config_read_topics (yx_config_t *self, const config_t *cf, char *err, size_t errlen);

#endif
