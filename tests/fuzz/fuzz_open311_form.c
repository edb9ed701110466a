/* libFuzzer harness: the Open311 form decoder, exactly as a POST requests body is
 * handled (any bytes in), then the attribute names and the XML renderer on what it
 * decoded. Checks the decoder's promises and traps when one is broken: decoded
 * text is valid UTF-8 without NUL or control bytes (tab, CR, LF in values only),
 * within the limits, names unique unless they end in "[]", and the XML of it
 * well-formed UTF-8. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "open311.h"
#include "util.h"

/* Traps unless cond holds: libFuzzer reports the input. */
static void
s_check (int cond)
{
    if (!cond)
        __builtin_trap ();
}

/* True when text holds a byte below 0x20 or 0x7f, tab/CR/LF excepted when lines. */
static int
s_control (const char *text, int lines)
{
    for (const unsigned char *p = (const unsigned char *) text; *p; p++)
        if ((*p < 0x20 || *p == 0x7f) && !(lines && (*p == '\t' || *p == '\n' || *p == '\r')))
            return 1;
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    yx_form_t form;
    char err[256];
    if (yx_form_parse ((const char *) data, size, &form, err, sizeof err)) {
        s_check (yx_utf8_valid (err, strlen (err)));
        s_check (form.buf == NULL && form.nfields == 0);
        return 0;
    }
    s_check (form.nfields <= YX_FORM_MAX_FIELDS);
    json_t *doc = json_object ();
    for (int i = 0; i < form.nfields; i++) {
        const char *k = form.fields[i].key, *v = form.fields[i].value;
        size_t kn = strlen (k), vn = strlen (v);
        s_check (kn > 0 && kn <= YX_FORM_MAX_KEY && vn <= YX_FORM_MAX_VALUE);
        s_check (yx_utf8_valid (k, kn) && yx_utf8_valid (v, vn));
        s_check (!s_control (k, 0) && !s_control (v, 1));
        s_check (yx_form_get (&form, k) != NULL);
        int is_list = kn >= 2 && k[kn - 2] == '[' && k[kn - 1] == ']';
        for (int j = 0; j < i && !is_list; j++)
            s_check (strcmp (form.fields[j].key, k) != 0);
        char code[32];
        bool list = false;
        int attr = yx_form_attribute (k, code, sizeof code, &list);
        s_check (attr >= -1 && attr <= 1);
        if (attr == 1)
            s_check (*code && strlen (code) < sizeof code && list == (strcmp (k + 10 + strlen (code), "][]") == 0));
        json_t *value = json_string (v);   /* NULL would mean invalid UTF-8 got through */
        s_check (value != NULL);
        json_object_set_new (doc, k, value);
    }
    size_t len = 0;
    char *xml = yx_o311_xml (doc, "form", NULL, &len);
    s_check (xml && strlen (xml) == len && yx_utf8_valid (xml, len));
    free (xml);
    json_decref (doc);
    yx_form_free (&form);
    return 0;
}
