/*  bench_textmodel - prediction speed of the text classifier on one core.

    bench_textmodel [MODEL [MESSAGES.tsv [SECONDS]]]
      MODEL        default config/model.bin
      MESSAGES.tsv default ../shared/data/complaints/messages.tsv (id, label, title,
                   text); each input is title + " " + text, as the classifier service
                   sees it. Without the file, synthetic texts of the same mean length
                   are used (and the output says so).
      SECONDS      default 3: minimum measuring time

    Prints messages/s by thread CPU time and by wall time. Never prints texts.
*/
#include "../../services/common/textmodel.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_SYNTHETIC_COUNT 2000
#define S_SYNTHETIC_CHARS 390

/* Inputs to classify. */
typedef struct {
    char **texts;           /* inputs */
    size_t *lens;           /* input lengths in bytes */
    size_t n;               /* number of inputs */
} s_inputs_t;

static double s_clock (clockid_t id)
{
    struct timespec ts;
    clock_gettime (id, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Appends text of len bytes to in; returns 0 or -1. */
static int s_add (s_inputs_t *in, char *text, size_t len)
{
    if ((in->n & (in->n - 1)) == 0) {   // grow at powers of two
        size_t cap = in->n ? in->n * 2 : 1;
        char **texts = (char **) realloc (in->texts, cap * sizeof (char *));
        if (texts)
            in->texts = texts;
        size_t *lens = (size_t *) realloc (in->lens, cap * sizeof (size_t));
        if (lens)
            in->lens = lens;
        if (!texts || !lens)
            return -1;
    }
    in->texts[in->n] = text;
    in->lens[in->n++] = len;
    return 0;
}

/* Reads title + " " + text of every row of a messages TSV; -1 when unreadable. */
static int s_read_tsv (const char *path, s_inputs_t *in)
{
    FILE *file = fopen (path, "r");
    char *line = NULL;
    size_t size = 0, lineno = 0;
    ssize_t got;
    if (!file)
        return -1;
    while ((got = getline (&line, &size, file)) >= 0) {
        char *f[4] = { line, NULL, NULL, NULL };
        if (lineno++ == 0)
            continue;
        for (int i = 1; i < 4; i++)
            if ((f[i] = strchr (f[i - 1], '\t')) != NULL)
                *f[i]++ = '\0';
            else
                break;
        if (!f[3])
            continue;
        f[3][strcspn (f[3], "\r\n")] = '\0';
        size_t tl = strlen (f[2]), xl = strlen (f[3]);
        char *text = (char *) malloc (tl + xl + 2);
        if (!text)
            break;
        snprintf (text, tl + xl + 2, "%s%s%s", f[2], tl ? " " : "", f[3]);
        if (s_add (in, text, strlen (text)) != 0) {
            free (text);
            break;
        }
    }
    free (line);
    fclose (file);
    return in->n > 0 ? 0 : -1;
}

/* Fills in with pseudo-random CJK texts of S_SYNTHETIC_CHARS characters. */
static int s_synthesize (s_inputs_t *in)
{
    uint32_t x = 12345;
    for (int i = 0; i < S_SYNTHETIC_COUNT; i++) {
        char *text = (char *) malloc (S_SYNTHETIC_CHARS * 3 + 1), *p = text;
        if (!text)
            return -1;
        for (int c = 0; c < S_SYNTHETIC_CHARS; c++) {
            x = x * 1103515245u + 12345u;
            uint32_t cp = 0x4E00 + (x >> 16) % 3000;
            *p++ = (char) (0xE0 | cp >> 12);
            *p++ = (char) (0x80 | (cp >> 6 & 0x3F));
            *p++ = (char) (0x80 | (cp & 0x3F));
        }
        *p = '\0';
        if (s_add (in, text, (size_t) (p - text)) != 0) {
            free (text);
            return -1;
        }
    }
    return 0;
}

int main (int argc, char **argv)
{
    const char *model_path = argc > 1 ? argv[1] : "config/model.bin";
    const char *data_path = argc > 2 ? argv[2] : "../shared/data/complaints/messages.tsv";
    double seconds = argc > 3 ? atof (argv[3]) : 3.0;
    char err[256];
    s_inputs_t in = { NULL, NULL, 0 };
    yx_textmodel_t *model = yx_textmodel_load (model_path, err, sizeof err);
    if (!model) {
        fprintf (stderr, "bench_textmodel: %s: %s\n", model_path, err);
        return 1;
    }
    bool synthetic = s_read_tsv (data_path, &in) != 0;
    if (synthetic && s_synthesize (&in) != 0) {
        fprintf (stderr, "bench_textmodel: out of memory\n");
        return 1;
    }
    size_t bytes = 0, done = 0;
    for (size_t i = 0; i < in.n; i++)
        bytes += in.lens[i];
    yx_textpred_t top[3];
    volatile float sink = 0;
    double cpu0 = s_clock (CLOCK_THREAD_CPUTIME_ID), wall0 = s_clock (CLOCK_MONOTONIC);
    double cpu = 0;
    int passes = 0;
    while (cpu < seconds || passes == 0) {
        for (size_t i = 0; i < in.n; i++, done++)
            if (yx_textmodel_predict (model, in.texts[i], in.lens[i], top, 3) > 0)
                sink += top[0].prob;
        passes++;
        cpu = s_clock (CLOCK_THREAD_CPUTIME_ID) - cpu0;
    }
    double wall = s_clock (CLOCK_MONOTONIC) - wall0;
    (void) sink;
    printf ("inputs=%zu%s mean_bytes=%.0f passes=%d\n", in.n,
            synthetic ? " (synthetic: data file not found)" : "", (double) bytes / in.n, passes);
    printf ("messages_per_s_cpu=%.0f messages_per_s_wall=%.0f mb_per_s_cpu=%.1f\n",
            done / cpu, done / wall, (double) bytes * passes / cpu / 1e6);
    for (size_t i = 0; i < in.n; i++)
        free (in.texts[i]);
    free (in.texts);
    free (in.lens);
    yx_textmodel_destroy (&model);
    return 0;
}
