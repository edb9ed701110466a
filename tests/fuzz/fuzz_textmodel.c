/* libFuzzer harness: the text model file loader (config/model.bin) and prediction with
 * whatever model it accepts. The input's last four bytes are replaced by the checksum
 * of the rest, so that mutations reach the parser behind the checksum. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "textmodel.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc (size + 1);
    if (!copy)
        return 0;
    memcpy (copy, data, size);
    if (size >= 8) {
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < size - 4; i++)
            h = (h ^ copy[i]) * 16777619u;
        for (int b = 0; b < 4; b++)
            copy[size - 4 + b] = (uint8_t) (h >> (8 * b));
    }
    int fd = memfd_create ("model", 0);
    if (fd < 0 || write (fd, copy, size) != (ssize_t) size) {
        if (fd >= 0)
            close (fd);
        free (copy);
        return 0;
    }
    char path[64], err[256];
    snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
    yx_textmodel_t *model = yx_textmodel_load (path, err, sizeof err);
    if (model) {
        yx_textpred_t top[4];
        const char *text = "鼓楼区某小区井盖冒污水，物业清掏后仍倒灌";
        if (yx_textmodel_predict (model, text, strlen (text), top, 4) < 0)
            __builtin_trap ();
        (void) yx_textmodel_predict (model, (const char *) data, size, top, 4);
        yx_textmodel_destroy (&model);
    }
    close (fd);
    free (copy);
    return 0;
}
