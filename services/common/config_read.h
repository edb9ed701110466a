/* config_read.h — readers for structured configuration sections with precise errors
 * ("FILE:LINE: KEY: what is wrong"), for config.c and for services that parse a
 * section of their own (the notifier's notify section). */
#ifndef YX_CONFIG_READ_H
#define YX_CONFIG_READ_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

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

#endif
