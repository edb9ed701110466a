/* libFuzzer harness: the configuration loader (libconfig syntax, then every section's
 * checks) on an arbitrary main file. Inputs with @include are skipped: an include names
 * a file of the host (a device, a descriptor), which is the administrator's choice. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (memmem (data, size, "include", 7))
        return 0;
    int fd = memfd_create ("cfg", 0);
    if (fd < 0)
        return 0;
    if (write (fd, data, size) == (ssize_t) size) {
        char path[64], err[1024];
        snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
        char *over[] = { "intake.http_port=18080", NULL };
        yx_config_t *cfg = yx_config_load (path, over, err, sizeof err);
        yx_config_destroy (&cfg);
    }
    close (fd);
    return 0;
}
