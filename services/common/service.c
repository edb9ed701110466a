/* service.c — start-up and signal handling shared by every process. */
#include "service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

volatile sig_atomic_t yx_stopping = 0;

static void
s_on_signal (int sig)
{
    (void) sig;
    yx_stopping = 1;
}

yx_config_t *
yx_service_start (const char *name, int argc, char **argv, int *exit_code)
{
    const char *path = getenv ("YX_CONFIG") ? getenv ("YX_CONFIG") : "config/yixian.cfg";
    char **overrides = calloc ((size_t) argc + 1, sizeof (char *));
    int nover = 0, check = 0;
    const char *print = NULL;
    *exit_code = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "-c") == 0 && i + 1 < argc)
            path = argv[++i];
        else
        if (strcmp (argv[i], "-s") == 0 && i + 1 < argc)
            overrides[nover++] = argv[++i];
        else
        if (strcmp (argv[i], "--check") == 0)
            check = 1;
        else
        if (strcmp (argv[i], "--print") == 0 && i + 1 < argc)
            print = argv[++i];
        else
        if (strcmp (argv[i], "--config-help") == 0) {
            yx_config_print_help ();
            *exit_code = 0;
            free (overrides);
            return NULL;
        }
        else {
            fprintf (stderr, "usage: %s [-c config.cfg] [-s key=value]... [--check] [--print KEY] [--config-help]\n", name);
            *exit_code = strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0 ? 0 : 2;
            free (overrides);
            return NULL;
        }
    }
    char err[1024];
    yx_config_t *cfg = yx_config_load (path, overrides, err, sizeof err);
    free (overrides);
    if (!cfg) {
        fprintf (stderr, "%s: config error: %s\n", name, err);
        return NULL;
    }
    if (print) {
        *exit_code = yx_config_print_value (cfg, print) == 0 ? 0 : 2;
        if (*exit_code)
            fprintf (stderr, "%s: no setting named %s\n", name, print);
        yx_config_destroy (&cfg);
        return NULL;
    }
    if (check) {
        printf ("%s: %s is valid\n", name, path);
        yx_config_destroy (&cfg);
        *exit_code = 0;
        return NULL;
    }
    yx_log_init (name, (yx_log_level_t) yx_log_level_parse (cfg->log_level));
    yx_service_catch_signals ();
    return cfg;
}

void
yx_service_catch_signals (void)
{
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGINT, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
}
