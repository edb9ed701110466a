/* libFuzzer harness: the CSV record splitter of `yxctl import` (hotline ticket files). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "csv.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char buf[4096];
    char *fields[64];
    const char *text = (const char *) data;
    (void) yx_csv_open_quote (text, size);
    int n = yx_csv_split (text, size, buf, sizeof buf, fields, 64);
    for (int i = 0; i < n; i++) {   /* every field must lie inside buf and be terminated */
        if (fields[i] < buf || fields[i] >= buf + sizeof buf)
            __builtin_trap ();
        (void) strlen (fields[i]);
    }
    return 0;
}
