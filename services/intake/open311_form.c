/* open311_form.c — application/x-www-form-urlencoded, strictly.
 *
 * A pure decoder in the hiredis manner: bytes in, fields or a precise error out,
 * no I/O and no global state, so it can be unit-tested and fuzzed on its own. The
 * decoded text lives in one buffer owned by the form; decoding never makes text
 * longer, so the buffer is sized from the body once. */
#include "open311.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Sets err to a formatted sentence and returns -1. */
static int
s_fail (char *err, size_t errlen, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
static int
s_fail (char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (err, errlen, fmt, ap);
        va_end (ap);
    }
    return -1;
}

/* Value of a hex digit, or -1. */
static int
s_hex (unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes src[0..len) into out ('+' is a space, %XX a byte) and NUL-terminates it.
 * Returns the decoded length, or -1 for a '%' without two hex digits after it. */
static long
s_unescape (const char *src, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) src[i];
        if (c == '+')
            c = ' ';
        else
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = s_hex ((unsigned char) src[i + 1]), lo = s_hex ((unsigned char) src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char) (hi * 16 + lo);
            i += 2;
        }
        out[o++] = (char) c;
    }
    out[o] = 0;
    return (long) o;
}

/* True when text[0..len) holds a control byte; tab, CR and LF pass when allow_lines. */
static bool
s_has_control (const char *text, size_t len, bool allow_lines)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text[i];
        if ((c < 0x20 || c == 0x7f) && !(allow_lines && (c == '\t' || c == '\n' || c == '\r')))
            return true;
    }
    return false;
}

/* True when name ends in "[]": a list field that may repeat. */
static bool
s_is_list (const char *name, size_t len)
{
    return len >= 2 && name[len - 2] == '[' && name[len - 1] == ']';
}

int
yx_form_parse (const char *body, size_t len, yx_form_t *form, char *err, size_t errlen)
{
    memset (form, 0, sizeof *form);
    if (!body && len)
        return s_fail (err, errlen, "the form body is missing");
    form->buf = malloc (2 * len + 2);
    if (!form->buf)
        return s_fail (err, errlen, "the form is too large to decode");
    char *out = form->buf;
    size_t pos = 0;
    int nth = 0;
    while (pos < len) {
        const char *seg = body + pos;
        const char *amp = memchr (seg, '&', len - pos);
        size_t seglen = amp ? (size_t) (amp - seg) : len - pos;
        pos += seglen + 1;
        if (seglen == 0)
            continue;
        nth++;
        if (form->nfields == YX_FORM_MAX_FIELDS) {
            yx_form_free (form);
            return s_fail (err, errlen, "the form has more than %d fields", YX_FORM_MAX_FIELDS);
        }
        const char *eq = memchr (seg, '=', seglen);
        size_t klen = eq ? (size_t) (eq - seg) : seglen;
        char *key = out;
        long kn = s_unescape (seg, klen, key);
        if (kn < 0 || kn == 0 || kn > YX_FORM_MAX_KEY || s_has_control (key, (size_t) kn, false)
            || !yx_utf8_valid (key, (size_t) kn)) {
            const char *why = kn < 0 ? "has a malformed %-escape"
                            : kn == 0 ? "has an empty name"
                            : kn > YX_FORM_MAX_KEY ? "has a name longer than 64 bytes"
                                                   : "has a name with a control byte or invalid UTF-8";
            yx_form_free (form);
            return s_fail (err, errlen, "form field %d %s", nth, why);
        }
        out += kn + 1;
        char *value = out;
        long vn = eq ? s_unescape (eq + 1, seglen - klen - 1, value) : 0;
        if (!eq)
            *value = 0;
        bool control = vn > 0 && s_has_control (value, (size_t) vn, true);
        if (vn < 0 || vn > YX_FORM_MAX_VALUE || control || !yx_utf8_valid (value, (size_t) vn)) {
            const char *why = vn < 0 ? "has a malformed %-escape"
                            : vn > YX_FORM_MAX_VALUE ? "is longer than 16384 bytes"
                            : control ? "holds a control byte" : "is not valid UTF-8";
            s_fail (err, errlen, "the value of %s %s", key, why);
            yx_form_free (form);
            return -1;
        }
        out += vn + 1;
        if (!s_is_list (key, (size_t) kn))
            for (int i = 0; i < form->nfields; i++)
                if (strcmp (form->fields[i].key, key) == 0) {
                    s_fail (err, errlen, "%s is given more than once", key);
                    yx_form_free (form);
                    return -1;
                }
        form->fields[form->nfields].key = key;
        form->fields[form->nfields].value = value;
        form->nfields++;
    }
    return 0;
}

void
yx_form_free (yx_form_t *form)
{
    free (form->buf);
    form->buf = NULL;
    form->nfields = 0;
}

const char *
yx_form_get (const yx_form_t *form, const char *key)
{
    for (int i = 0; i < form->nfields; i++)
        if (strcmp (form->fields[i].key, key) == 0)
            return form->fields[i].value;
    return NULL;
}

int
yx_form_attribute (const char *key, char *code, size_t n, bool *list)
{
    static const char prefix[] = "attribute[";
    if (strncmp (key, prefix, sizeof prefix - 1) != 0)
        return 0;
    const char *p = key + sizeof prefix - 1;
    size_t len = strspn (p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
    if (len == 0 || len >= n || p[len] != ']')
        return -1;
    const char *rest = p + len + 1;
    if (*rest && strcmp (rest, "[]") != 0)
        return -1;
    memcpy (code, p, len);
    code[len] = 0;
    *list = *rest != 0;
    return 1;
}
