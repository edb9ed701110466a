/* import.c — `yxctl import FILE`: bulk hotline tickets from CSV (with a header row)
 * or JSON Lines, one POST /v1/cases each.
 *
 * Resumable: FILE.progress records the last line finished, so a second run starts
 * after it (and reports are idempotent by source + source_ref anyway). A 429 or 503
 * waits and retries the same line; any other 4xx is a rejected line, printed as
 * "line N: STATUS code: message (field)". Ends with a summary line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "service.h"
#include "yxctl.h"

#define S_MAX_FIELDS 32
#define S_MAX_RECORD 65536

/* CSV columns understood, and where they go in the report body. */
static const char *s_columns[][2] = {
    { "source", "source" },         { "source_ref", "source_ref" },
    { "title", "title" },           { "description", "description" },
    { "category", "category" },     { "reported_at", "reported_at" },
    { "lat", "location.lat" },      { "lon", "location.lon" },
    { "crs", "location.crs" },      { "address", "location.address" },
    { "grid", "location.grid" },    { "reporter_name", "reporter.name" },
    { "reporter_phone", "reporter.phone" }, { "media", "media" },
};

/* Puts one CSV value into the body at a dotted path ("location.lat"). */
static void
s_put (json_t *body, const char *path, const char *value)
{
    if (!*value)
        return;
    const char *dot = strchr (path, '.');
    if (!dot) {
        if (strcmp (path, "media") == 0) {
            json_t *arr = json_array ();
            char *copy = strdup (value), *save = NULL;
            for (char *t = strtok_r (copy, " ", &save); t; t = strtok_r (NULL, " ", &save))
                json_array_append_new (arr, json_string (t));
            free (copy);
            json_object_set_new (body, "media", arr);
        }
        else
            json_object_set_new (body, path, json_string (value));
        return;
    }
    char group[32];
    snprintf (group, sizeof group, "%.*s", (int) (dot - path), path);
    json_t *g = json_object_get (body, group);
    if (!g) {
        g = json_object ();
        json_object_set_new (body, group, g);
    }
    char *end;
    double num = strtod (value, &end);
    bool numeric = (strcmp (dot + 1, "lat") == 0 || strcmp (dot + 1, "lon") == 0) && !*end;
    json_object_set_new (g, dot + 1, numeric ? json_real (num) : json_string (value));
}

/* Builds a body from a CSV record given the header. NULL with why set on a bad record. */
static json_t *
s_csv_body (char **header, int nheader, char **fields, int n, const char *source, char *why, size_t whylen)
{
    if (n != nheader) {
        snprintf (why, whylen, "%d fields where the header has %d", n, nheader);
        return NULL;
    }
    json_t *body = json_object ();
    for (int i = 0; i < n; i++)
        for (size_t c = 0; c < sizeof s_columns / sizeof s_columns[0]; c++)
            if (strcmp (header[i], s_columns[c][0]) == 0)
                s_put (body, s_columns[c][1], fields[i]);
    if (!json_object_get (body, "source"))
        json_object_set_new (body, "source", json_string (source));
    return body;
}

/* Sends one body; retries on 429/503. Returns 1 created, 2 already known, 0 rejected
 * (printed), -1 when the API is unreachable. */
static int
s_send (const yxctl_t *ctl, json_t *body, long line)
{
    for (int attempt = 0;; attempt++) {
        json_t *resp;
        int st = yxctl_http (ctl, "POST", ctl->url, "/v1/cases", body, &resp);
        if (st == 201 || st == 200) {
            json_decref (resp);
            return st == 201 ? 1 : 2;
        }
        if ((st == 429 || st == 503 || st == 0) && attempt < 20 && !yx_stopping) {
            json_decref (resp);
            usleep ((useconds_t) (attempt < 5 ? 200000 : 1000000));
            continue;
        }
        if (st == 0 || st == 429 || st == 503) {
            json_decref (resp);
            return -1;
        }
        json_t *e = json_object_get (resp, "error");
        fprintf (stderr, "line %ld: %d %s: %s%s%s%s\n", line, st, json_string_value (json_object_get (e, "code")) ?: "error",
                 json_string_value (json_object_get (e, "message")) ?: "", json_object_get (e, "field") ? " (" : "",
                 json_string_value (json_object_get (e, "field")) ?: "", json_object_get (e, "field") ? ")" : "");
        json_decref (resp);
        return 0;
    }
}

/* Reads the resume point of path (0 when none). */
static long
s_progress_read (const char *progress)
{
    FILE *f = fopen (progress, "r");
    long done = 0;
    if (f) {
        if (fscanf (f, "%ld", &done) != 1)
            done = 0;
        fclose (f);
    }
    return done;
}

static void
s_progress_write (const char *progress, long line)
{
    char tmp[1100];
    snprintf (tmp, sizeof tmp, "%s.tmp", progress);
    FILE *f = fopen (tmp, "w");
    if (!f)
        return;
    fprintf (f, "%ld\n", line);
    fclose (f);
    rename (tmp, progress);
}

int
yxctl_import (const yxctl_t *ctl, const char *path, const char *format, const char *source)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        fprintf (stderr, "yxctl: cannot open %s\n", path);
        return 2;
    }
    bool csv = format ? strcmp (format, "csv") == 0 : strstr (path, ".csv") != NULL;
    char progress[1024];
    snprintf (progress, sizeof progress, "%s.progress", path);
    long resume = s_progress_read (progress), line = 0, first_line = 0;
    long created = 0, known = 0, rejected = 0, skipped = 0;
    char *header[S_MAX_FIELDS], *fields[S_MAX_FIELDS];
    int nheader = 0;
    static char headbuf[4096], record[S_MAX_RECORD], buf[S_MAX_RECORD];
    char *chunk = NULL;
    size_t cap = 0;
    ssize_t got;
    int rc = 0;
    while (!yx_stopping && (got = getline (&chunk, &cap, f)) >= 0) {
        line++;
        size_t len = 0;
        first_line = line;
        record[0] = 0;
        /* gather a whole record: CSV quotes may span lines */
        do {
            while (got > 0 && (chunk[got - 1] == '\n' || chunk[got - 1] == '\r'))
                chunk[--got] = 0;
            if (len + (size_t) got + 2 >= sizeof record)
                break;
            if (len)
                record[len++] = '\n';
            memcpy (record + len, chunk, (size_t) got + 1);
            len += (size_t) got;
        } while (csv && yx_csv_open_quote (record, len) && (got = getline (&chunk, &cap, f)) >= 0 && ++line);
        if (csv && nheader == 0) {
            nheader = yx_csv_split (record, len, headbuf, sizeof headbuf, header, S_MAX_FIELDS);
            if (nheader < 1) {
                fprintf (stderr, "line %ld: the header row is not valid CSV\n", first_line);
                rc = 2;
                break;
            }
            continue;
        }
        if (len == 0)
            continue;
        if (line <= resume) {
            skipped++;
            continue;
        }
        char why[160] = "";
        json_t *body = NULL;
        if (csv) {
            int n = yx_csv_split (record, len, buf, sizeof buf, fields, S_MAX_FIELDS);
            if (n < 0)
                snprintf (why, sizeof why, "not valid CSV");
            else
                body = s_csv_body (header, nheader, fields, n, source, why, sizeof why);
        }
        else {
            json_error_t je;
            body = json_loadb (record, len, JSON_REJECT_DUPLICATES, &je);
            if (!json_is_object (body)) {
                snprintf (why, sizeof why, "not a JSON object: %.120s", body ? "wrong type" : je.text);
                json_decref (body);
                body = NULL;
            }
            else
            if (!json_object_get (body, "source"))
                json_object_set_new (body, "source", json_string (source));
        }
        if (!body) {
            fprintf (stderr, "line %ld: %s\n", first_line, why);
            rejected++;
        }
        else {
            int r = s_send (ctl, body, first_line);
            json_decref (body);
            if (r < 0) {
                fprintf (stderr, "yxctl: the API is unavailable; stopped at line %ld (run again to resume)\n", first_line);
                rc = 3;
                break;
            }
            created += r == 1, known += r == 2, rejected += r == 0;
        }
        s_progress_write (progress, line);
    }
    free (chunk);
    fclose (f);
    printf ("imported=%ld already_known=%ld rejected=%ld skipped_before_resume=%ld\n", created, known, rejected, skipped);
    return rc ? rc : rejected ? 1 : 0;
}
