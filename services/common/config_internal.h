/* config_internal.h — shared between config.c and config_sections.c only. */
#ifndef YX_CONFIG_INTERNAL_H
#define YX_CONFIG_INTERNAL_H

#include <libconfig.h>

#include "config.h"

/* Writes "FILE:LINE" of a setting into buf. */
void yx_config_where (const config_setting_t *st, char *buf, size_t buflen);

/* Parses areas, geo, departments, taxonomy, responsibility, api_keys and calendar,
 * then checks cross references. 0/-1 with err set. */
int yx_config_read_sections (yx_config_t *self, const config_t *cf, char *err, size_t errlen);

#endif
