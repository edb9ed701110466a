/* auth.c — key lookup and read scopes. */
#include "auth.h"

#include <sodium.h>
#include <string.h>

int
yx_auth_key (const yx_config_t *cfg, const char *key, yx_caller_t *out)
{
    if (!key || !*key || strlen (key) > 256)
        return -1;
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (digest, (const unsigned char *) key, strlen (key));
    const yx_apikey_t *found = NULL;
    for (int i = 0; i < cfg->nkeys; i++)   /* no early exit: constant time over keys */
        if (sodium_memcmp (digest, cfg->keys[i].sha256, sizeof digest) == 0)
            found = &cfg->keys[i];
    if (!found)
        return -1;
    out->key = found;
    out->role = strcmp (found->role, "reporter") == 0   ? YX_ROLE_REPORTER
                : strcmp (found->role, "operator") == 0 ? YX_ROLE_OPERATOR
                : strcmp (found->role, "department") == 0 ? YX_ROLE_DEPARTMENT
                                                          : YX_ROLE_ADMIN;
    return 0;
}

int
yx_auth_bearer (const yx_config_t *cfg, const char *header, yx_caller_t *out)
{
    if (!header || strncasecmp (header, "Bearer ", 7) != 0)
        return -1;
    const char *k = header + 7;
    while (*k == ' ')
        k++;
    return yx_auth_key (cfg, k, out);
}

const char *
yx_role_name (yx_role_t role)
{
    static const char *names[] = { "reporter", "operator", "department", "admin" };
    return names[role];
}

bool
yx_auth_can_read (const yx_caller_t *c, const char *source, const char *district,
                  const char *street, const char *community, const char *const *depts, int ndepts)
{
    switch (c->role) {
    case YX_ROLE_ADMIN:
        return true;
    case YX_ROLE_OPERATOR:
        return yx_area_contains (c->key->scope, district, street, community);
    case YX_ROLE_REPORTER:
        return strcmp (c->key->scope, source) == 0;
    case YX_ROLE_DEPARTMENT:
        for (int i = 0; i < ndepts; i++)
            if (strcmp (depts[i], c->key->scope) == 0)
                return true;
        return false;
    }
    return false;
}

bool
yx_auth_sees_phone (const yx_caller_t *c)
{
    return c->role == YX_ROLE_OPERATOR || c->role == YX_ROLE_ADMIN;
}
