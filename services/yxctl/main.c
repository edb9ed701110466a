/* yxctl — the command line for operators, departments and integrators.
 *
 *   yxctl [--url URL] [--key KEY] [-c CONFIG] [-s key=value]… [--json] COMMAND [ARGS]
 *
 *   report TEXT [--title T] [--lat Y --lon X [--crs gcj02]] [--grid G] [--address A]
 *               [--category C] [--source S] [--ref R]
 *   show ID                       list [--state S] [--district D] [--department X] [--phone P]
 *                                      [--category C] [--overdue] [--limit N] [--q TEXT]
 *   act ID ACTION [name=value …]  (values that parse as JSON are sent as JSON)
 *   inbox DEPT [--state pending|accepted|overdue] [--follow]
 *   board                         overdue and escalated cases in scope
 *   tail                          every case event as it is committed
 *   classify TEXT                 what the classifier would decide, and why
 *   import FILE [--format csv|jsonl] [--source S]   bulk hotline tickets, resumable
 *   deadletters [--district D] [--redeliver ID|all] [--discard ID]
 *   stats [--since T] [--until T] [--by district|street|community|department] [--area CODE]
 *   reload                        check the configuration and reload every service (admin)
 *
 * The URL defaults to $YX_URL or the configured intake address; the key to $YX_KEY,
 * else a demo key (demo-hotline-key to report, demo-admin-key to reload,
 * demo-operator-key otherwise). */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "service.h"
#include "yxctl.h"

/* Value of --name in argv (after the command), or NULL. */
static const char *
s_opt (int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp (argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

static bool
s_flag (int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++)
        if (strcmp (argv[i], name) == 0)
            return true;
    return false;
}

/* Prints a JSON document indented. */
static void
s_print_json (json_t *j)
{
    char *s = json_dumps (j, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    printf ("%s\n", s ? s : "null");
    free (s);
}

/* One line per case: id, state, category, lead, title. */
static void
s_print_cases (json_t *items)
{
    size_t i;
    json_t *c;
    json_array_foreach (items, i, c) {
        json_t *lead = NULL, *a;
        size_t k;
        json_array_foreach (json_object_get (c, "assignments"), k, a)
            if (!lead && strcmp (json_string_value (json_object_get (a, "role")) ?: "", "lead") == 0)
                lead = a;
        printf ("%-22s %-10s %-5s %-18s %-9s %s\n", json_string_value (json_object_get (c, "id")),
                json_string_value (json_object_get (c, "state")),
                json_string_value (json_object_get (json_object_get (c, "category"), "code")) ?: "-",
                lead ? json_string_value (json_object_get (lead, "department")) : "-",
                json_is_true (json_object_get (c, "overdue")) ? "OVERDUE" : "",
                json_string_value (json_object_get (c, "title")) ?: "");
    }
}

/* Runs a request and prints the response as JSON or a case table. */
static int
s_request (const yxctl_t *ctl, const char *method, const char *path, json_t *body, int expect_list)
{
    json_t *resp;
    int st = yxctl_http (ctl, method, ctl->url, path, body, &resp);
    json_decref (body);
    if (st < 200 || st >= 300)
        return yxctl_fail (st, resp);
    if (expect_list && !ctl->json)
        s_print_cases (json_object_get (resp, "items"));
    else
        s_print_json (resp);
    json_decref (resp);
    return 0;
}

static int
s_cmd_report (const yxctl_t *ctl, int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-') {
        fprintf (stderr, "usage: yxctl report TEXT [--title T] [--lat Y --lon X] [--grid G] [--address A]\n");
        return 2;
    }
    json_t *loc = json_object ();
    const char *lat = s_opt (argc, argv, "--lat"), *lon = s_opt (argc, argv, "--lon");
    if (lat && lon) {
        json_object_set_new (loc, "lat", json_real (atof (lat)));
        json_object_set_new (loc, "lon", json_real (atof (lon)));
    }
    const char *opts[][2] = { { "--grid", "grid" }, { "--address", "address" }, { "--crs", "crs" } };
    for (size_t i = 0; i < 3; i++)
        if (s_opt (argc, argv, opts[i][0]))
            json_object_set_new (loc, opts[i][1], json_string (s_opt (argc, argv, opts[i][0])));
    json_t *body = json_pack ("{s:s, s:s, s:o}", "source", s_opt (argc, argv, "--source") ?: "hotline",
                              "description", argv[0], "location", loc);
    const char *top[][2] = { { "--title", "title" }, { "--category", "category" }, { "--ref", "source_ref" } };
    for (size_t i = 0; i < 3; i++)
        if (s_opt (argc, argv, top[i][0]))
            json_object_set_new (body, top[i][1], json_string (s_opt (argc, argv, top[i][0])));
    return s_request (ctl, "POST", "/v1/cases", body, 0);
}

static int
s_cmd_list (const yxctl_t *ctl, int argc, char **argv, const char *extra)
{
    char path[1024] = "/v1/cases?";
    const char *names[] = { "state", "district", "street", "community", "grid", "department", "category",
                            "limit", "q", "grade", "phone", "since", "until" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char opt[32];
        snprintf (opt, sizeof opt, "--%s", names[i]);
        const char *v = s_opt (argc, argv, opt);
        if (v) {
            char *esc = curl_easy_escape (NULL, v, 0);
            snprintf (path + strlen (path), sizeof path - strlen (path), "%s=%s&", names[i], esc ? esc : "");
            curl_free (esc);
        }
    }
    if (s_flag (argc, argv, "--overdue"))
        strncat (path, "overdue=true&", sizeof path - strlen (path) - 1);
    if (extra)
        strncat (path, extra, sizeof path - strlen (path) - 1);
    return s_request (ctl, "GET", path, NULL, 1);
}

static int
s_cmd_act (const yxctl_t *ctl, int argc, char **argv)
{
    if (argc < 2) {
        fprintf (stderr, "usage: yxctl act ID ACTION [name=value ...]\n");
        return 2;
    }
    json_t *body = json_pack ("{s:s}", "action", argv[1]);
    for (int i = 2; i < argc; i++) {
        char *eq = strchr (argv[i], '=');
        if (!eq) {
            fprintf (stderr, "yxctl: \"%s\" is not name=value\n", argv[i]);
            json_decref (body);
            return 2;
        }
        *eq = 0;
        json_t *v = json_loads (eq + 1, JSON_DECODE_ANY, NULL);
        json_object_set_new (body, argv[i], v ? v : json_string (eq + 1));
    }
    char path[256];
    snprintf (path, sizeof path, "/v1/cases/%s/actions", argv[0]);
    return s_request (ctl, "POST", path, body, 0);
}

static int
s_cmd_inbox (const yxctl_t *ctl, int argc, char **argv)
{
    if (argc < 1) {
        fprintf (stderr, "usage: yxctl inbox DEPT [--state pending|accepted|overdue] [--follow]\n");
        return 2;
    }
    if (s_flag (argc, argv, "--follow")) {
        if (!ctl->cfg) {
            fprintf (stderr, "yxctl: --follow needs the configuration (-c FILE) for the feed address\n");
            return 2;
        }
        char topic[128];
        snprintf (topic, sizeof topic, "dept.%s", argv[0]);
        return yxctl_follow (ctl, ctl->cfg->notifier_feed, topic);
    }
    char path[256];
    const char *st = s_opt (argc, argv, "--state");
    snprintf (path, sizeof path, "/v1/departments/%s/inbox%s%s", argv[0], st ? "?state=" : "", st ? st : "");
    return s_request (ctl, "GET", path, NULL, 1);
}

static int
s_cmd_classify (const yxctl_t *ctl, int argc, char **argv)
{
    if (argc < 1 || !ctl->cfg) {
        fprintf (stderr, "usage: yxctl [-c CONFIG] classify TEXT\n");
        return 2;
    }
    char path[800], err[512];
    snprintf (path, sizeof path, "%s/%s", ctl->cfg->dir, ctl->cfg->classifier_model);
    yx_textmodel_t *model = yx_textmodel_load (path, err, sizeof err);
    if (!model)
        fprintf (stderr, "yxctl: text model not loaded (%s); rules only\n", err);
    yx_decision_t d;
    yx_decide_category (ctl->cfg, model, NULL, argv[0], &d);
    const yx_category_t *cat = *d.code ? yx_config_category (ctl->cfg, d.code) : NULL;
    json_t *alts = json_array ();
    for (int i = 0; i < d.nalt; i++) {
        const yx_category_t *a = yx_config_category (ctl->cfg, d.alt[i].code);
        json_array_append_new (alts, json_pack ("{s:s, s:s, s:f}", "code", d.alt[i].code, "name", a ? a->name : "",
                                                "confidence", d.alt[i].confidence));
    }
    json_t *out = json_pack ("{s:s, s:s, s:s, s:f, s:o}", "method", d.method, "code", d.code, "name",
                             cat ? cat->name : "", "confidence", d.confidence, "alternatives", alts);
    if (*d.label)
        json_object_set_new (out, "topic", json_string (d.label));
    if (cat)
        json_object_set_new (out, "below_triage_threshold", json_boolean (d.confidence < ctl->cfg->classifier_min_conf));
    s_print_json (out);
    json_decref (out);
    yx_textmodel_destroy (&model);
    return 0;
}

static int
s_cmd_deadletters (const yxctl_t *ctl, int argc, char **argv)
{
    const char *redeliver = s_opt (argc, argv, "--redeliver"), *discard = s_opt (argc, argv, "--discard");
    const char *district = s_opt (argc, argv, "--district");
    if (redeliver || discard) {
        json_t *body = json_pack ("{s:s}", "action", redeliver ? "redeliver" : "discard");
        if (redeliver && strcmp (redeliver, "all") == 0)
            json_object_set_new (body, "all", json_true ());
        else
            json_object_set_new (body, "id", json_string (redeliver ? redeliver : discard));
        if (district)
            json_object_set_new (body, "district", json_string (district));
        return s_request (ctl, "POST", "/v1/deadletters/actions", body, 0);
    }
    char path[128];
    snprintf (path, sizeof path, "/v1/deadletters%s%s", district ? "?district=" : "", district ? district : "");
    json_t *resp;
    int st = yxctl_http (ctl, "GET", ctl->url, path, NULL, &resp);
    if (st != 200)
        return yxctl_fail (st, resp);
    if (ctl->json)
        s_print_json (resp);
    else {
        size_t i;
        json_t *d;
        json_array_foreach (json_object_get (resp, "items"), i, d)
            printf ("%-30s %-22s %-12s %-10s attempts=%lld %s  %s\n", json_string_value (json_object_get (d, "at")) ?: "",
                    json_string_value (json_object_get (d, "case_id")) ?: "-", json_string_value (json_object_get (d, "type")) ?: "",
                    json_string_value (json_object_get (d, "channel")) ?: "", (long long) json_integer_value (json_object_get (d, "attempts")),
                    json_string_value (json_object_get (d, "reason")) ?: "", json_string_value (json_object_get (d, "id")) ?: "");
    }
    json_decref (resp);
    return 0;
}

/* A rate as a percentage, or a dash for null. */
static void
s_pct (const json_t *row, const char *name)
{
    const json_t *v = json_object_get (row, name);
    if (json_is_number (v))
        printf (" %6.1f%%", json_number_value (v) * 100.0);
    else
        printf (" %7s", "-");
}

/* One scorecard row of `yxctl stats`. */
static void
s_stats_row (const json_t *row, const char *name)
{
    printf ("%-28s %6lld %6lld %5lld", name, (long long) json_integer_value (json_object_get (row, "cases")),
            (long long) json_integer_value (json_object_get (row, "open")),
            (long long) json_integer_value (json_object_get (row, "late")));
    const char *rates[] = { "response_rate", "on_time_rate", "resolution_rate", "satisfaction_rate", "return_rate",
                            "rework_rate" };
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
        s_pct (row, rates[i]);
    const char *secs[] = { "mean_ack_s", "mean_resolve_s" };
    for (size_t i = 0; i < 2; i++) {
        const json_t *v = json_object_get (row, secs[i]);
        char buf[32] = "-";
        if (json_is_number (v))
            snprintf (buf, sizeof buf, "%.0fs", json_number_value (v));
        printf (" %9s", buf);
    }
    printf ("\n");
}

static int
s_cmd_stats (const yxctl_t *ctl, int argc, char **argv)
{
    char path[512] = "/v1/stats?";
    const char *opts[][2] = { { "--since", "since" }, { "--until", "until" }, { "--by", "group_by" }, { "--area", "area" } };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        const char *v = s_opt (argc, argv, opts[i][0]);
        if (!v)
            continue;
        char *esc = curl_easy_escape (NULL, v, 0);
        snprintf (path + strlen (path), sizeof path - strlen (path), "%s=%s&", opts[i][1], esc ? esc : "");
        curl_free (esc);
    }
    json_t *resp;
    int st = yxctl_http (ctl, "GET", ctl->metrics_url, path, NULL, &resp);
    if (st != 200)
        return yxctl_fail (st, resp);
    if (ctl->json)
        s_print_json (resp);
    else {
        printf ("%-28s %6s %6s %5s %7s %7s %7s %7s %7s %7s %9s %9s\n", "", "cases", "open", "late", "respond",
                "on-time", "resolve", "satisf", "return", "rework", "ack", "resolve");
        size_t i;
        json_t *g;
        json_array_foreach (json_object_get (resp, "groups"), i, g)
            s_stats_row (g, json_string_value (json_object_get (g, "name")) ?: json_string_value (json_object_get (g, "key")) ?: "?");
        s_stats_row (json_object_get (resp, "totals"), "合计 total");
    }
    json_decref (resp);
    return 0;
}

static void
s_usage (void)
{
    fprintf (stderr,
             "usage: yxctl [--url URL] [--key KEY] [-c CONFIG] [--json] COMMAND [ARGS]\n"
             "commands: report, show, list, act, inbox, board, tail, classify, import, deadletters, stats, reload\n");
}

int
main (int argc, char **argv)
{
    yxctl_t ctl = { 0 };
    const char *cfg_path = getenv ("YX_CONFIG") ? getenv ("YX_CONFIG") : "config/yixian.cfg";
    char **overrides = calloc ((size_t) argc + 1, sizeof (char *));
    int nover = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp (argv[i], "--url") == 0 && i + 1 < argc)
            ctl.url = argv[++i];
        else
        if (strcmp (argv[i], "--key") == 0 && i + 1 < argc)
            ctl.key = argv[++i];
        else
        if (strcmp (argv[i], "-c") == 0 && i + 1 < argc)
            cfg_path = argv[++i];
        else
        if (strcmp (argv[i], "-s") == 0 && i + 1 < argc)
            overrides[nover++] = argv[++i];
        else
        if (strcmp (argv[i], "--json") == 0)
            ctl.json = 1;
        else {
            s_usage ();
            free (overrides);
            return 2;
        }
    }
    if (i >= argc) {
        s_usage ();
        free (overrides);
        return 2;
    }
    char err[1024];
    ctl.cfg = yx_config_load (cfg_path, overrides, err, sizeof err);
    free (overrides);
    char url[128], murl[128];
    if (!ctl.url && getenv ("YX_URL"))
        ctl.url = getenv ("YX_URL");
    if (!ctl.url) {
        snprintf (url, sizeof url, "http://%s:%d", ctl.cfg ? ctl.cfg->intake_bind : "127.0.0.1",
                  ctl.cfg ? ctl.cfg->intake_port : 8080);
        ctl.url = url;
    }
    snprintf (murl, sizeof murl, "http://%s:%d", ctl.cfg ? ctl.cfg->metrics_bind : "127.0.0.1",
              ctl.cfg ? ctl.cfg->metrics_port : 9100);
    ctl.metrics_url = getenv ("YX_METRICS_URL") ? getenv ("YX_METRICS_URL") : murl;
    const char *cmd = argv[i];
    if (!ctl.key)
        ctl.key = getenv ("YX_KEY");
    if (!ctl.key)
        ctl.key = strcmp (cmd, "report") == 0 || strcmp (cmd, "import") == 0 ? "demo-hotline-key"
                  : strcmp (cmd, "reload") == 0                              ? "demo-admin-key"
                                                                             : "demo-operator-key";
    yx_service_catch_signals ();
    int rest = argc - i - 1;
    char **args = argv + i + 1;
    int rc;
    char path[256];
    if (strcmp (cmd, "report") == 0)
        rc = s_cmd_report (&ctl, rest, args);
    else
    if (strcmp (cmd, "show") == 0 && rest >= 1) {
        snprintf (path, sizeof path, "/v1/cases/%s", args[0]);
        rc = s_request (&ctl, "GET", path, NULL, 0);
    }
    else
    if (strcmp (cmd, "list") == 0)
        rc = s_cmd_list (&ctl, rest, args, NULL);
    else
    if (strcmp (cmd, "board") == 0)
        rc = s_cmd_list (&ctl, rest, args, "board=true&");
    else
    if (strcmp (cmd, "act") == 0)
        rc = s_cmd_act (&ctl, rest, args);
    else
    if (strcmp (cmd, "inbox") == 0)
        rc = s_cmd_inbox (&ctl, rest, args);
    else
    if (strcmp (cmd, "tail") == 0)
        rc = ctl.cfg ? yxctl_follow (&ctl, ctl.cfg->dispatcher_events, "") : (fprintf (stderr, "yxctl: %s\n", err), 2);
    else
    if (strcmp (cmd, "classify") == 0)
        rc = s_cmd_classify (&ctl, rest, args);
    else
    if (strcmp (cmd, "stats") == 0)
        rc = s_cmd_stats (&ctl, rest, args);
    else
    if (strcmp (cmd, "deadletters") == 0)
        rc = s_cmd_deadletters (&ctl, rest, args);
    else
    if (strcmp (cmd, "reload") == 0)
        rc = s_request (&ctl, "POST", "/v1/admin/reload", json_object (), 0);
    else
    if (strcmp (cmd, "import") == 0 && rest >= 1)
        rc = yxctl_import (&ctl, args[0], s_opt (rest, args, "--format"), s_opt (rest, args, "--source") ?: "hotline");
    else {
        s_usage ();
        rc = 2;
    }
    yx_config_destroy (&ctl.cfg);
    return rc;
}
