/* libFuzzer harness: the intake's JSON report decoder, exactly as a POST body is
 * handled (UTF-8 check, strict parse with duplicate keys rejected, field decoding). */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "intake.h"
#include "util.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!yx_utf8_valid ((const char *) data, size))
        return 0;
    json_t *body = json_loadb ((const char *) data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!body)
        return 0;
    yx_report_in_t in;
    yx_report_err_t err;
    yx_report_from_json (body, &in, &err);
    json_decref (body);
    return 0;
}
