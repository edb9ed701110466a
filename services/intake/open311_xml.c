/* open311_xml.c — the XML face of the Open311 documents.
 *
 * GeoReport v2 defines JSON as a mechanical mapping of its XML (the Spark
 * convention), so the mapping runs backwards here: one JSON document per response,
 * rendered as XML with the element names the specification uses. Pure: no I/O. */
#include "open311.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing output buffer. */
typedef struct {
    char *p;        /* text so far (owned) */
    size_t len;     /* bytes used */
    size_t cap;     /* bytes allocated */
    bool oom;       /* an allocation failed; everything after is dropped */
} s_buf_t;

/* Appends n bytes. */
static void
s_put (s_buf_t *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc (b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy (b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void
s_puts (s_buf_t *b, const char *s)
{
    s_put (b, s, strlen (s));
}

/* Length of the UTF-8 sequence at s (n bytes left) that XML 1.0 allows as
 * character data, or 0 when the bytes are not one (invalid UTF-8, a control
 * character other than tab, LF and CR, a surrogate, U+FFFE or U+FFFF). */
static size_t
s_xml_char (const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return c >= 0x20 || c == '\t' || c == '\n' || c == '\r' ? 1 : 0;
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (len == 0 || c > 0xf4 || len > n)
        return 0;
    unsigned cp = c & (0xff >> (len + 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    static const unsigned min[] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
        return 0;
    return len;
}

/* Appends text as escaped character data. */
static void
s_text (s_buf_t *b, const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *) text;
    size_t i = 0;
    while (i < n) {
        size_t run = s_xml_char (s + i, n - i);
        if (run == 0) {
            s_puts (b, "\xef\xbf\xbd");   /* U+FFFD */
            i++;
            continue;
        }
        switch (s[i]) {
        case '&': s_puts (b, "&amp;"); break;
        case '<': s_puts (b, "&lt;"); break;
        case '>': s_puts (b, "&gt;"); break;
        case '"': s_puts (b, "&quot;"); break;
        case '\'': s_puts (b, "&apos;"); break;
        default: s_put (b, text + i, run);
        }
        i += run;
    }
}

/* True when name is a plain XML name: a letter or '_', then letters, digits, '_', '-', '.'. */
static bool
s_xml_name (const char *name)
{
    if (!*name || strlen (name) > 64 || strspn (name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_") == 0
        || strncasecmp (name, "xml", 3) == 0)
        return false;
    return strspn (name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.") == strlen (name);
}

/* The element name of the members of a nested array called name. */
static const char *
s_member_name (const char *name)
{
    static const char *const pairs[][2] = {
        { "endpoints", "endpoint" }, { "formats", "format" },
        { "attributes", "attribute" }, { "values", "value" },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (strcmp (name, pairs[i][0]) == 0)
            return pairs[i][1];
    return "item";
}

/* Appends <name>value</name>; depth bounds recursion on hostile documents. */
static void
s_element (s_buf_t *b, const char *name, const json_t *v, int depth)
{
    if (!s_xml_name (name))
        name = "item";
    if (json_is_null (v) || !v || depth > 16) {
        s_puts (b, "<");
        s_puts (b, name);
        s_puts (b, "/>");
        return;
    }
    s_puts (b, "<");
    s_puts (b, name);
    s_puts (b, ">");
    char num[64];
    switch (json_typeof (v)) {
    case JSON_STRING:
        s_text (b, json_string_value (v), json_string_length (v));
        break;
    case JSON_INTEGER:
        snprintf (num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
        s_puts (b, num);
        break;
    case JSON_REAL:
        snprintf (num, sizeof num, "%.10g", json_real_value (v));
        s_puts (b, num);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        s_puts (b, json_is_true (v) ? "true" : "false");
        break;
    case JSON_ARRAY: {
        size_t i;
        const json_t *m;
        const char *member = s_member_name (name);
        json_array_foreach (v, i, m)
            s_element (b, member, m, depth + 1);
        break;
    }
    case JSON_OBJECT: {
        const char *k;
        const json_t *m;
        json_object_foreach ((json_t *) v, k, m)
            s_element (b, k, m, depth + 1);
        break;
    }
    case JSON_NULL:
        break;
    }
    s_puts (b, "</");
    s_puts (b, name);
    s_puts (b, ">");
}

char *
yx_o311_xml (const json_t *doc, const char *root, const char *item, size_t *len)
{
    s_buf_t b = { 0 };
    s_puts (&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if (json_is_array (doc)) {
        s_puts (&b, "<");
        s_puts (&b, root);
        s_puts (&b, ">");
        size_t i;
        const json_t *m;
        json_array_foreach (doc, i, m)
            s_element (&b, item, m, 1);
        s_puts (&b, "</");
        s_puts (&b, root);
        s_puts (&b, ">");
    }
    else
        s_element (&b, root, doc, 0);
    s_puts (&b, "\n");
    if (b.oom) {
        free (b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}
