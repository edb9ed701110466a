/* libFuzzer harness: a case document as read back from Redis (never trusted) rendered
 * as the API shows it, for callers who see phones and for those who do not. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "case.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    yx_case_t c;
    memset (&c, 0, sizeof c);
    strcpy (c.id, "350102-20261123-000001");
    strcpy (c.district, "350102");
    strcpy (c.state, size && data[0] % 2 ? "DISPATCHED" : "CLOSED");
    c.version = 3;
    c.doc = json_loadb ((const char *) data, size, 0, NULL);
    if (!json_is_object (c.doc)) {
        json_decref (c.doc);
        return 0;
    }
    c.timeline = json_array ();
    json_array_append (c.timeline, c.doc);   /* an entry of any shape */
    const char *depts[32];
    (void) yx_case_departments (&c, depts, 32);
    for (int show = 0; show < 2; show++)
        json_decref (yx_case_view (&c, show, 480));
    yx_case_clear (&c);
    return 0;
}
