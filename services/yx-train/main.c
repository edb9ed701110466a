/*  yx-train - trains, evaluates and tries the hotline message classifier.

    yx-train train --data FILE.tsv [--data FILE2.tsv ...] --out MODEL
                   [--holdout 0.15 --holdout-out FILE.tsv] [--seed N]
                   [--bits N] [--cost C] [--calib-folds N] [--title-link F]
    yx-train eval --model FILE --data FILE.tsv
    yx-train predict --model FILE [--top N] "text"

    Progress and summaries go to stderr and never contain message texts.
*/
#include "corpus.h"
#include "trainer.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_MAX_DATA 16
#define S_MAX_LABELS 64

/* Command-line options of all commands. */
typedef struct {
    const char *data[S_MAX_DATA];   /* --data files */
    int ndata;                      /* number of --data files */
    const char *out;                /* --out model path (train) */
    const char *model;              /* --model path (eval, predict) */
    const char *holdout_out;        /* --holdout-out TSV path (train) */
    double holdout;                 /* --holdout fraction of rows, 0 for none */
    int calib_folds;                /* --calib-folds for the softmax scale, 0 for none */
    double title_link;              /* --title-link bigram share, 0 to disable */
    int top;                        /* --top predictions to print (predict) */
    const char *text;               /* positional text (predict) */
    trainer_params_t params;   /* training parameters, incl. --seed --bits --cost */
} s_opts_t;

/* Training rows of a corpus: classifier inputs, label numbers and groups. */
typedef struct {
    char **inputs;                  /* per row: title + text input */
    size_t *lens;                   /* per row: input length */
    int *labels;                    /* per row: label number */
    size_t *groups;                 /* per row: near-duplicate group */
    const char *names[S_MAX_LABELS];    /* label names, sorted bytewise */
    int nlabels;                    /* number of labels */
} s_set_t;

static double s_seconds (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Shuffles n indexes with a deterministic generator seeded by seed. */
static void s_shuffle (size_t *a, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (size_t i = n; i > 1; i--) {
        x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
        size_t j = (size_t) ((x * 0x2545F4914F6CDD1DULL) % i), t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* qsort comparator of label names. */
static int s_cmp_str (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Returns the number of name in names[0..n-1], or -1. */
static int s_label_index (const char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp (names[i], name) == 0)
            return i;
    return -1;
}

/* Fills set with the inputs, labels and groups of corpus. Returns 0 or -1. */
static int s_set_build (const corpus_t *corpus, double title_link, s_set_t *set)
{
    size_t n = corpus->n;
    set->inputs = (char **) calloc (n, sizeof (char *));
    set->lens = (size_t *) malloc (n * sizeof (size_t));
    set->labels = (int *) malloc (n * sizeof (int));
    set->groups = (size_t *) malloc (n * sizeof (size_t));
    set->nlabels = 0;
    if (!set->inputs || !set->lens || !set->labels || !set->groups)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *label = corpus->rows[i].label;
        if (s_label_index (set->names, set->nlabels, label) >= 0)
            continue;
        if (set->nlabels == S_MAX_LABELS)
            return -1;
        set->names[set->nlabels++] = label;
    }
    qsort (set->names, (size_t) set->nlabels, sizeof (char *), s_cmp_str);
    for (size_t i = 0; i < n; i++) {
        set->labels[i] = s_label_index (set->names, set->nlabels, corpus->rows[i].label);
        if (!(set->inputs[i] = corpus_input (&corpus->rows[i], &set->lens[i])))
            return -1;
    }
    size_t ngroups;
    return corpus_groups (corpus, title_link, set->groups, &ngroups);
}

/* Frees the arrays of set. */
static void s_set_free (s_set_t *set, size_t n)
{
    for (size_t i = 0; set->inputs && i < n; i++)
        free (set->inputs[i]);
    free (set->inputs);
    free (set->lens);
    free (set->labels);
    free (set->groups);
}

/* Trains on the rows of set listed in rows[0..n-1]; NULL with a message on failure. */
static yx_textmodel_t *s_train_rows (const s_set_t *set, const size_t *rows, size_t n,
                                     const trainer_params_t *params)
{
    const char **inputs = (const char **) malloc ((n + 1) * sizeof (char *));
    size_t *lens = (size_t *) malloc ((n + 1) * sizeof (size_t));
    int *labels = (int *) malloc ((n + 1) * sizeof (int));
    yx_textmodel_t *model = NULL;
    char err[256] = "out of memory";
    if (inputs && lens && labels) {
        for (size_t i = 0; i < n; i++) {
            inputs[i] = set->inputs[rows[i]];
            lens[i] = set->lens[rows[i]];
            labels[i] = set->labels[rows[i]];
        }
        model = trainer_train (inputs, lens, labels, n, set->names, set->nlabels, params,
                               err, sizeof err);
    }
    if (!model)
        fprintf (stderr, "yx-train: %s\n", err);
    free (inputs);
    free (lens);
    free (labels);
    return model;
}

/* Mean negative log-likelihood of softmax(a * scores) over n rows of nl scores. */
static double s_nll (const float *scores, const int *labels, size_t n, int nl, double a)
{
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        const float *s = scores + i * (size_t) nl;
        double max = -INFINITY, sum = 0;
        for (int c = 0; c < nl; c++)
            max = fmax (max, a * s[c]);
        for (int c = 0; c < nl; c++)
            sum += exp (a * s[c] - max);
        total += max + log (sum) - a * s[labels[i]];
    }
    return total / (double) n;
}

/* Fits the softmax scale on out-of-fold scores: the training rows (rows[0..n-1])
   are split into folds by group, a model is trained without each fold and scores
   it, and the scale minimising the log-loss is found by golden-section search on
   its logarithm. Returns the scale, or 0 on failure. */
static double s_calibrate (const s_set_t *set, const size_t *rows, size_t n, int folds,
                           const trainer_params_t *params)
{
    size_t *order = (size_t *) malloc ((n + 1) * sizeof (size_t));
    size_t *part = (size_t *) malloc ((n + 1) * sizeof (size_t));
    float *scores = (float *) malloc ((n + 1) * (size_t) set->nlabels * sizeof (float));
    int *labels = (int *) malloc ((n + 1) * sizeof (int));
    double scale = 0;
    size_t nscored = 0;
    if (!order || !part || !scores || !labels) {
        fprintf (stderr, "yx-train: out of memory\n");
        goto done;
    }
    for (int f = 0; f < folds; f++) {
        size_t ntrain = 0, ntest = 0;
        for (size_t i = 0; i < n; i++) {
            //  group numbers are dense, so a hash of the group picks its fold
            uint64_t h = (set->groups[rows[i]] + 1) * 0x9E3779B97F4A7C15ULL ^ params->seed;
            if ((int) ((h >> 33) % (uint64_t) folds) == f)
                part[ntest++] = rows[i];
            else
                order[ntrain++] = rows[i];
        }
        yx_textmodel_t *model = s_train_rows (set, order, ntrain, params);
        if (!model)
            goto done;
        for (size_t t = 0; t < ntest; t++, nscored++) {
            labels[nscored] = set->labels[part[t]];
            if (yx_textmodel_scores (model, set->inputs[part[t]], set->lens[part[t]],
                                     scores + nscored * (size_t) set->nlabels) != 0) {
                yx_textmodel_destroy (&model);
                goto done;
            }
        }
        yx_textmodel_destroy (&model);
        fprintf (stderr, "yx-train: calibration fold %d/%d done\n", f + 1, folds);
    }
    double lo = log (0.01), hi = log (100.0), g = (sqrt (5.0) - 1) / 2;
    for (int it = 0; it < 80; it++) {
        double m1 = hi - g * (hi - lo), m2 = lo + g * (hi - lo);
        if (s_nll (scores, labels, nscored, set->nlabels, exp (m1))
            < s_nll (scores, labels, nscored, set->nlabels, exp (m2)))
            hi = m2;
        else
            lo = m1;
    }
    scale = exp ((lo + hi) / 2);
    fprintf (stderr, "yx-train: softmax scale %.4f (out-of-fold log-loss %.4f)\n", scale,
             s_nll (scores, labels, nscored, set->nlabels, scale));
done:
    free (order);
    free (part);
    free (scores);
    free (labels);
    return scale;
}

/* Splits rows 0..n-1 of set by whole groups, taken in an order shuffled by seed
   until at least fraction of the rows are held out. Fills train[0..*ntrain-1]
   and held[] with row numbers; returns the held-out count, SIZE_MAX when out of
   memory. */
static size_t s_split (const s_set_t *set, size_t n, double fraction, uint64_t seed,
                       size_t *train, size_t *ntrain, size_t *held)
{
    size_t ngroups = 0, nheld = 0, want = (size_t) ceil (fraction * (double) n);
    for (size_t i = 0; i < n; i++)
        ngroups = set->groups[i] + 1 > ngroups ? set->groups[i] + 1 : ngroups;
    size_t *order = (size_t *) malloc ((ngroups + 1) * sizeof (size_t));
    size_t *size = (size_t *) calloc (ngroups + 1, sizeof (size_t));
    char *out = (char *) calloc (ngroups + 1, 1);
    *ntrain = 0;
    if (!order || !size || !out) {
        free (order); free (size); free (out);
        return SIZE_MAX;
    }
    for (size_t g = 0; g < ngroups; g++)
        order[g] = g;
    for (size_t i = 0; i < n; i++)
        size[set->groups[i]]++;
    s_shuffle (order, ngroups, seed);
    for (size_t k = 0, got = 0; k < ngroups && got < want; k++) {
        out[order[k]] = 1;
        got += size[order[k]];
    }
    for (size_t i = 0; i < n; i++) {
        if (out[set->groups[i]])
            held[nheld++] = i;
        else
            train[(*ntrain)++] = i;
    }
    free (order); free (size); free (out);
    return nheld;
}

/* Writes rows held[0..n-1] of corpus to path as TSV. Returns 0 or -1. */
static int s_write_rows (const corpus_t *corpus, const size_t *held, size_t n, const char *path)
{
    FILE *file = fopen (path, "w");
    if (!file) {
        fprintf (stderr, "yx-train: cannot write %s\n", path);
        return -1;
    }
    corpus_write_header (file);
    for (size_t i = 0; i < n; i++)
        corpus_write_row (file, &corpus->rows[held[i]]);
    return fclose (file) == 0 ? 0 : -1;
}

/* The train command. Returns the process exit code. */
static int s_cmd_train (const s_opts_t *o)
{
    char err[512];
    double t0 = s_seconds ();
    corpus_t *corpus = corpus_new ();
    s_set_t set = { 0 };
    size_t *train = NULL, *held = NULL, ntrain = 0, nheld = 0;
    yx_textmodel_t *model = NULL;
    int rc = 1;
    for (int d = 0; corpus && d < o->ndata; d++)
        if (corpus_load (corpus, o->data[d], err, sizeof err) != 0) {
            fprintf (stderr, "yx-train: %s\n", err);
            goto done;
        }
    if (!corpus || corpus->n == 0 || s_set_build (corpus, o->title_link, &set) != 0) {
        fprintf (stderr, "yx-train: no data, more than 64 labels, or out of memory\n");
        goto done;
    }
    train = (size_t *) malloc (corpus->n * sizeof (size_t));
    held = (size_t *) malloc (corpus->n * sizeof (size_t));
    if (train && held)
        nheld = s_split (&set, corpus->n, o->holdout, o->params.seed, train, &ntrain, held);
    if (!train || !held || nheld == SIZE_MAX || ntrain == 0) {
        fprintf (stderr, "yx-train: %s\n", ntrain ? "out of memory" : "no rows left to train on");
        goto done;
    }
    if (o->holdout_out && s_write_rows (corpus, held, nheld, o->holdout_out) != 0)
        goto done;
    fprintf (stderr, "yx-train: %zu rows, %d labels, %zu for training, %zu held out\n",
             corpus->n, set.nlabels, ntrain, nheld);
    double scale = 1;
    if (o->calib_folds >= 2
        && !(scale = s_calibrate (&set, train, ntrain, o->calib_folds, &o->params)))
        goto done;
    if (!(model = s_train_rows (&set, train, ntrain, &o->params)))
        goto done;
    yx_textmodel_set_scale (model, (float) scale);
    if (yx_textmodel_save (model, o->out, err, sizeof err) != 0) {
        fprintf (stderr, "yx-train: %s\n", err);
        goto done;
    }
    fprintf (stderr, "yx-train: wrote %s in %.1f s\n", o->out, s_seconds () - t0);
    rc = 0;
done:
    yx_textmodel_destroy (&model);
    s_set_free (&set, corpus ? corpus->n : 0);
    corpus_destroy (&corpus);
    free (train);
    free (held);
    return rc;
}

/* The eval command: per-label precision/recall/F1, then the summary line. */
static int s_cmd_eval (const s_opts_t *o)
{
    char err[512];
    yx_textmodel_t *model = yx_textmodel_load (o->model, err, sizeof err);
    corpus_t *corpus = corpus_new ();
    if (!model || !corpus || corpus_load (corpus, o->data[0], err, sizeof err) != 0) {
        fprintf (stderr, "yx-train: %s\n", corpus ? err : "out of memory");
        yx_textmodel_destroy (&model);
        corpus_destroy (&corpus);
        return 1;
    }
    int nl = yx_textmodel_nlabels (model), rc = 0;
    size_t *conf = (size_t *) calloc ((size_t) nl * nl, sizeof (size_t)), correct = 0;
    const char *names[S_MAX_LABELS];
    for (int c = 0; c < nl; c++)
        names[c] = yx_textmodel_label (model, c);
    for (size_t i = 0; conf && i < corpus->n && rc == 0; i++) {
        int truth = s_label_index (names, nl, corpus->rows[i].label);
        size_t len;
        char *input = corpus_input (&corpus->rows[i], &len);
        yx_textpred_t top;
        if (truth < 0 || !input || yx_textmodel_predict (model, input, len, &top, 1) != 1) {
            fprintf (stderr, "yx-train: %s: data row %zu: %s\n", o->data[0], i + 1,
                     truth < 0 ? "label unknown to the model" : "out of memory");
            rc = 1;
        }
        else {
            conf[truth * nl + top.label]++;
            correct += top.label == truth;
        }
        free (input);
    }
    double macro = 0;
    for (int c = 0; conf && rc == 0 && c < nl; c++) {
        size_t tp = conf[c * nl + c], predicted = 0, actual = 0;
        for (int d = 0; d < nl; d++) {
            predicted += conf[d * nl + c];
            actual += conf[c * nl + d];
        }
        double p = predicted ? (double) tp / predicted : 0, r = actual ? (double) tp / actual : 0;
        double f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
        macro += f1 / nl;
        printf ("label=%s precision=%.4f recall=%.4f f1=%.4f n=%zu\n", names[c], p, r, f1, actual);
    }
    if (conf && rc == 0)
        printf ("macro_f1=%.4f accuracy=%.4f n=%zu\n", macro,
                corpus->n ? (double) correct / corpus->n : 0.0, corpus->n);
    free (conf);
    yx_textmodel_destroy (&model);
    corpus_destroy (&corpus);
    return conf ? rc : 1;
}

/* The predict command: prints "label<TAB>probability" for the top labels. */
static int s_cmd_predict (const s_opts_t *o)
{
    char err[512];
    yx_textpred_t top[S_MAX_LABELS];
    yx_textmodel_t *model = yx_textmodel_load (o->model, err, sizeof err);
    if (!model) {
        fprintf (stderr, "yx-train: %s\n", err);
        return 1;
    }
    int k = o->top < S_MAX_LABELS ? o->top : S_MAX_LABELS;
    int n = yx_textmodel_predict (model, o->text, strlen (o->text), top, k);
    for (int i = 0; i < n; i++)
        printf ("%s\t%.4f\n", yx_textmodel_label (model, top[i].label), top[i].prob);
    yx_textmodel_destroy (&model);
    return n > 0 ? 0 : 1;
}

/* Parses argv into o. Returns 0, or -1 after printing what is wrong. */
static int s_parse_args (int argc, char **argv, s_opts_t *o)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (a[0] != '-' || a[1] != '-') {
            if (o->text) {
                fprintf (stderr, "yx-train: unexpected argument %s\n", a);
                return -1;
            }
            o->text = a;
            continue;
        }
        if (!v) {
            fprintf (stderr, "yx-train: %s needs a value\n", a);
            return -1;
        }
        i++;
        if (!strcmp (a, "--data") && o->ndata == S_MAX_DATA) {
            fprintf (stderr, "yx-train: at most %d --data files\n", S_MAX_DATA);
            return -1;
        }
        if (!strcmp (a, "--data")) o->data[o->ndata++] = v;
        else if (!strcmp (a, "--out")) o->out = v;
        else if (!strcmp (a, "--model")) o->model = v;
        else if (!strcmp (a, "--holdout-out")) o->holdout_out = v;
        else if (!strcmp (a, "--holdout")) o->holdout = strtod (v, &end);
        else if (!strcmp (a, "--title-link")) o->title_link = strtod (v, &end);
        else if (!strcmp (a, "--cost")) o->params.cost = strtof (v, &end);
        else if (!strcmp (a, "--seed")) o->params.seed = strtoull (v, &end, 10);
        else if (!strcmp (a, "--bits")) o->params.bits = (int) strtol (v, &end, 10);
        else if (!strcmp (a, "--calib-folds")) o->calib_folds = (int) strtol (v, &end, 10);
        else if (!strcmp (a, "--top")) o->top = (int) strtol (v, &end, 10);
        else {
            fprintf (stderr, "yx-train: unknown option %s\n", a);
            return -1;
        }
        if (end && *end) {
            fprintf (stderr, "yx-train: bad number for %s\n", a);
            return -1;
        }
    }
    if (!(o->holdout >= 0 && o->holdout < 1) || o->top < 1 || o->calib_folds < 0
        || o->calib_folds > 20 || !(o->title_link >= 0 && o->title_link <= 1)) {
        fprintf (stderr, "yx-train: option out of range\n");
        return -1;
    }
    return 0;
}

int main (int argc, char **argv)
{
    s_opts_t o = { .holdout = 0, .calib_folds = 3, .title_link = 0.6, .top = 3 };
    trainer_params_default (&o.params);
    const char *cmd = argc > 1 ? argv[1] : "";
    if (argc < 2 || s_parse_args (argc, argv, &o) != 0)
        cmd = "";
    if (!strcmp (cmd, "train") && o.ndata > 0 && o.out && !o.text
        && (o.holdout == 0 || o.holdout_out))
        return s_cmd_train (&o);
    if (!strcmp (cmd, "eval") && o.ndata == 1 && o.model && !o.text)
        return s_cmd_eval (&o);
    if (!strcmp (cmd, "predict") && o.model && o.text)
        return s_cmd_predict (&o);
    fprintf (stderr,
             "usage: yx-train train --data FILE.tsv [--data FILE2.tsv ...] --out MODEL\n"
             "                      [--holdout 0.15 --holdout-out FILE.tsv] [--seed N]\n"
             "                      [--bits 19] [--cost 3] [--calib-folds 3] [--title-link 0.6]\n"
             "       yx-train eval --model FILE --data FILE.tsv\n"
             "       yx-train predict --model FILE [--top 3] \"text\"\n");
    return 2;
}
