/* service.c — start-up, signals, reload and restart shared by every process.
 *
 * The reload watcher is a thread that waits for SIGHUP (blocked in every other
 * thread) for up to a second at a time and then reads the city's configuration
 * generation (yx:{CITY}:config, field generation). A SIGHUP, or a generation other
 * than the one this process started with, makes it load the configuration again:
 *
 *   on SIGHUP or new generation:
 *       load FILE with the same overrides, run the service's check
 *       invalid -> log reload_failed with FILE:LINE: KEY; keep running as before
 *       valid   -> log reloading; restart = 1; SIGTERM to the main thread
 *   main loop ends as on SIGTERM; yx_service_end -> execv (same argv, same pid)
 *
 * HTTP listening sockets survive the restart: the stopping image keeps them open
 * (yx_service_keep_listener) and passes their numbers in YX_LISTEN_FDS; the new one
 * takes them back (yx_service_take_listener). Connections made meanwhile wait in the
 * socket's backlog instead of being refused.
 */
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

volatile sig_atomic_t yx_stopping = 0;

#define S_MAX_LISTENERS 8   /* listening sockets handed over across a restart */
#define S_CLAIM_TURNS 5     /* watcher turns (seconds) after which unclaimed ones are closed */

static struct {
    char **argv;                   /* the command line, for the re-exec */
    const char *path;              /* configuration file */
    char **overrides;              /* -s values, NULL-terminated */
    yx_service_check_fn check;     /* the service's own check, or NULL */
    char host[256];                /* Redis host */
    int port;                      /* Redis port */
    char password[128];            /* Redis password */
    int timeout_ms;                /* Redis timeout */
    char key[64];                  /* yx:{CITY}:config */
    _Atomic long long generation;  /* generation running; -1 until Redis answered */
    pthread_t main_thread;         /* gets SIGTERM when a reload is decided */
    pthread_t watcher;             /* the reload watcher */
    bool watching;                 /* the watcher was started */
    atomic_bool quit;              /* tells the watcher to end */
    atomic_bool restart;           /* a reload was decided: re-exec at the end */
    pthread_mutex_t listen_lock;   /* guards the two lists below */
    int inherited[S_MAX_LISTENERS];/* sockets from the previous image; -1 once taken */
    int ninherited;                /* entries in inherited */
    int kept[S_MAX_LISTENERS];     /* sockets for the next image */
    int nkept;                     /* entries in kept */
} s_svc = { .generation = -1, .listen_lock = PTHREAD_MUTEX_INITIALIZER };

static void
s_on_signal (int sig)
{
    (void) sig;
    yx_stopping = 1;
}

/* The generation in Redis: 0 when never set, -1 when Redis failed. */
static long long
s_read_generation (yx_store_t *store, const char *key)
{
    redisReply *r = yx_store_cmd (store, "HGET %s generation", key);
    long long gen = -1;
    if (r && r->type == REDIS_REPLY_NIL)
        gen = 0;
    else
    if (r && r->type == REDIS_REPLY_STRING)
        gen = strtoll (r->str, NULL, 10);
    if (r)
        freeReplyObject (r);
    return gen;
}

int
yx_service_check_config (char *err, size_t errlen)
{
    yx_config_t *cfg = yx_config_load (s_svc.path, s_svc.overrides, err, errlen);
    if (!cfg)
        return -1;
    int rc = s_svc.check ? s_svc.check (cfg, err, errlen) : 0;
    yx_config_destroy (&cfg);
    return rc;
}

/* Checks the configuration again; when valid, decides the restart. true if decided. */
static bool
s_try_reload (const char *trigger, long long gen)
{
    char err[1024], quoted[1100];
    if (yx_service_check_config (err, sizeof err)) {
        yx_error ("reload_failed", "trigger=%s generation=%lld error=%s", trigger, gen,
                  yx_log_value (err, quoted, sizeof quoted));
        return false;
    }
    yx_info ("reloading", "trigger=%s generation=%lld", trigger, gen);
    atomic_store (&s_svc.restart, true);
    yx_stopping = 1;
    pthread_kill (s_svc.main_thread, SIGTERM);   /* wakes the main loop out of its poll */
    return true;
}

/* Sets or clears close-on-exec on fd. */
static void
s_cloexec (int fd, bool on)
{
    int flags = fcntl (fd, F_GETFD);
    if (flags >= 0)
        fcntl (fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC);
}

/* Takes the sockets named in YX_LISTEN_FDS that are listening sockets. */
static void
s_inherit_listeners (void)
{
    const char *env = getenv ("YX_LISTEN_FDS");
    for (const char *p = env; p && *p && s_svc.ninherited < S_MAX_LISTENERS;) {
        char *end;
        long fd = strtol (p, &end, 10);
        int listening = 0;
        socklen_t len = sizeof listening;
        if (end != p && fd > 2 && fd < 65536
            && getsockopt ((int) fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening) {
            s_cloexec ((int) fd, true);
            s_svc.inherited[s_svc.ninherited++] = (int) fd;
        }
        p = *end == ',' ? end + 1 : "";
    }
    unsetenv ("YX_LISTEN_FDS");
}

/* Closes the inherited sockets nobody took (the configuration moved them). */
static void
s_close_unclaimed (void)
{
    pthread_mutex_lock (&s_svc.listen_lock);
    for (int i = 0; i < s_svc.ninherited; i++)
        if (s_svc.inherited[i] >= 0) {
            close (s_svc.inherited[i]);
            s_svc.inherited[i] = -1;
        }
    pthread_mutex_unlock (&s_svc.listen_lock);
}

bool
yx_service_restarting (void)
{
    return atomic_load (&s_svc.restart);
}

int
yx_service_take_listener (const struct sockaddr *addr, socklen_t len)
{
    int taken = -1;
    pthread_mutex_lock (&s_svc.listen_lock);
    for (int i = 0; taken < 0 && i < s_svc.ninherited; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (s_svc.inherited[i] >= 0 && getsockname (s_svc.inherited[i], (struct sockaddr *) &ss, &sl) == 0
            && sl == len && addr->sa_family == AF_INET && ss.ss_family == AF_INET
            && ((const struct sockaddr_in *) addr)->sin_port == ((struct sockaddr_in *) &ss)->sin_port
            && ((const struct sockaddr_in *) addr)->sin_addr.s_addr == ((struct sockaddr_in *) &ss)->sin_addr.s_addr) {
            taken = s_svc.inherited[i];
            s_svc.inherited[i] = -1;
        }
    }
    pthread_mutex_unlock (&s_svc.listen_lock);
    return taken;
}

void
yx_service_keep_listener (int fd)
{
    pthread_mutex_lock (&s_svc.listen_lock);
    if (yx_service_restarting () && s_svc.nkept < S_MAX_LISTENERS)
        s_svc.kept[s_svc.nkept++] = fd;
    else
        close (fd);
    pthread_mutex_unlock (&s_svc.listen_lock);
}

/* The watcher thread (see the top of the file). */
static void *
s_watch (void *arg)
{
    (void) arg;
    yx_store_t *store = yx_store_new (s_svc.host, s_svc.port, s_svc.password, s_svc.timeout_ms);
    atomic_store (&s_svc.generation, store ? s_read_generation (store, s_svc.key) : -1);
    sigset_t hup;
    sigemptyset (&hup);
    sigaddset (&hup, SIGHUP);
    int turns = 0;
    long long refused = -1;         /* a generation whose file was invalid here */
    while (!atomic_load (&s_svc.quit)) {
        struct timespec second = { 1, 0 };
        int sig = sigtimedwait (&hup, NULL, &second);
        if (++turns == S_CLAIM_TURNS)
            s_close_unclaimed ();   /* every server took its socket back by now */
        if (atomic_load (&s_svc.quit))
            break;
        long long gen = store ? s_read_generation (store, s_svc.key) : -1;
        long long mine = atomic_load (&s_svc.generation);
        if (gen >= 0 && mine < 0)   /* Redis was down at start: what it says now is ours */
            atomic_store (&s_svc.generation, mine = gen);
        bool newer = gen >= 0 && gen != mine && gen != refused;
        if (sig != SIGHUP && !newer)
            continue;
        if (s_try_reload (sig == SIGHUP ? "signal" : "generation", newer ? gen : mine))
            break;
        if (newer)                  /* invalid here: do not try this generation again */
            refused = gen;
    }
    s_close_unclaimed ();
    yx_store_destroy (&store);
    return NULL;
}

/* Starts the watcher with cfg's Redis settings. */
static void
s_watch_start (const yx_config_t *cfg)
{
    snprintf (s_svc.host, sizeof s_svc.host, "%s", cfg->redis_host);
    snprintf (s_svc.password, sizeof s_svc.password, "%s", cfg->redis_password);
    s_svc.port = cfg->redis_port;
    s_svc.timeout_ms = cfg->redis_timeout_ms;
    yx_key (s_svc.key, sizeof s_svc.key, cfg->city_code, "config");
    s_svc.main_thread = pthread_self ();
    s_svc.watching = pthread_create (&s_svc.watcher, NULL, s_watch, NULL) == 0;
}

yx_config_t *
yx_service_start (const char *name, int argc, char **argv, int *exit_code)
{
    const char *path = getenv ("YX_CONFIG") ? getenv ("YX_CONFIG") : "config/yixian.cfg";
    char **overrides = calloc ((size_t) argc + 1, sizeof (char *));
    int nover = 0, check = 0;
    const char *print = NULL;
    *exit_code = 2;
    if (!overrides)
        return NULL;
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
    if (!cfg || print || check) {
        free (overrides);
        if (!cfg)
            fprintf (stderr, "%s: config error: %s\n", name, err);
        else
        if (print) {
            *exit_code = yx_config_print_value (cfg, print) == 0 ? 0 : 2;
            if (*exit_code)
                fprintf (stderr, "%s: no setting named %s\n", name, print);
        }
        else
        if (s_svc.check && s_svc.check (cfg, err, sizeof err))
            fprintf (stderr, "%s: config error: %s\n", name, err);
        else {
            printf ("%s: %s is valid\n", name, path);
            *exit_code = 0;
        }
        yx_config_destroy (&cfg);
        return NULL;
    }
    s_inherit_listeners ();
    s_svc.argv = argv;
    s_svc.path = path;
    s_svc.overrides = overrides;
    yx_log_init (name, (yx_log_level_t) yx_log_level_parse (cfg->log_level));
    sigset_t hup;               /* only the watcher takes SIGHUP: block it before any thread starts */
    sigemptyset (&hup);
    sigaddset (&hup, SIGHUP);
    pthread_sigmask (SIG_BLOCK, &hup, NULL);
    yx_service_catch_signals ();
    s_watch_start (cfg);
    return cfg;
}

void
yx_service_set_check (yx_service_check_fn check)
{
    s_svc.check = check;
}

long long
yx_service_request_reload (yx_store_t *store, const char *by)
{
    redisReply *queued[3] = {
        yx_store_cmd (store, "MULTI"),
        yx_store_cmd (store, "HINCRBY %s generation 1", s_svc.key),
        yx_store_cmd (store, "HSET %s requested_by %s requested_at_ms %lld", s_svc.key, by, (long long) yx_now_ms ()),
    };
    redisReply *r = yx_store_cmd (store, "EXEC");
    long long gen = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_INTEGER
                        ? r->element[0]->integer
                        : -1;
    for (int i = 0; i < 3; i++)
        if (queued[i])
            freeReplyObject (queued[i]);
    if (r)
        freeReplyObject (r);
    return gen;
}

json_t *
yx_service_health (const char *service)
{
    return json_pack ("{s:s, s:s, s:I, s:I}", "status", "ok", "service", service, "pid", (json_int_t) getpid (),
                      "config_generation", (json_int_t) atomic_load (&s_svc.generation));
}

int
yx_service_end (int rc)
{
    if (s_svc.watching) {
        atomic_store (&s_svc.quit, true);
        pthread_kill (s_svc.watcher, SIGHUP);
        pthread_join (s_svc.watcher, NULL);
        s_svc.watching = false;
    }
    if (atomic_load (&s_svc.restart) && rc == 0) {
        char fds[S_MAX_LISTENERS * 12] = "";
        for (int i = 0; i < s_svc.nkept; i++) {
            s_cloexec (s_svc.kept[i], false);
            snprintf (fds + strlen (fds), sizeof fds - strlen (fds), "%s%d", i ? "," : "", s_svc.kept[i]);
        }
        if (*fds)
            setenv ("YX_LISTEN_FDS", fds, 1);
        yx_info ("restarting", "reason=reload listeners=%d", s_svc.nkept);
        fflush (NULL);
        free (s_svc.overrides);
        execv ("/proc/self/exe", s_svc.argv);
        yx_error ("restart_failed", "errno=%d", errno);
        return 1;
    }
    free (s_svc.overrides);
    s_svc.overrides = NULL;
    return rc;
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
