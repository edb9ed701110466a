/* auth.h — API keys and what each role may see.
 *
 * Keys are stored as SHA-256 digests; a presented key is hashed and compared with
 * every stored digest in constant time, so neither timing nor logs reveal a key. */
#ifndef YX_AUTH_H
#define YX_AUTH_H

#include <stdbool.h>

#include "config.h"

typedef enum { YX_ROLE_REPORTER = 0, YX_ROLE_OPERATOR, YX_ROLE_DEPARTMENT, YX_ROLE_ADMIN } yx_role_t;

typedef struct {
    const yx_apikey_t *key;   /* the matching configured key */
    yx_role_t role;           /* parsed role */
} yx_caller_t;

/* Finds the key behind an "Authorization: Bearer KEY" header value. 0 with *out
 * set, -1 if the header is missing, malformed or names no key. */
int yx_auth_bearer (const yx_config_t *cfg, const char *header, yx_caller_t *out);
/* Same for a bare key (Open311 api_key, native intake). */
int yx_auth_key (const yx_config_t *cfg, const char *key, yx_caller_t *out);

const char *yx_role_name (yx_role_t role);

/* True when the caller may read a case with these facts. Departments see cases with
 * an assignment of theirs; reporters the cases of their source; operators their area. */
bool yx_auth_can_read (const yx_caller_t *c, const char *source, const char *district,
                       const char *street, const char *community, const char *const *depts,
                       int ndepts);

/* True when the caller may see unmasked reporter phone numbers. */
bool yx_auth_sees_phone (const yx_caller_t *c);

#endif
