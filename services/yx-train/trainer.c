/*  trainer.c - NBSVM training of text classifier models.

    The texts become a sparse matrix of L2-normalised tf-idf rows, with features
    and idf values from textmodel.c. For each label, the absolute naive-Bayes
    log-count ratio r (label vs rest, smoothed by nb_alpha) scales the features,
    and a linear L2-loss SVM with a regularised bias is solved by dual coordinate
    descent (Hsieh et al. 2008, as in liblinear) in an order shuffled by the seed.
    The ratio is folded into the weights (w x r), so prediction needs no scaling.
*/
#include "trainer.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_TOLERANCE 0.01

/* Sparse training matrix, one row per text. */
typedef struct {
    size_t *ptr;            /* row i is entries ptr[i] .. ptr[i+1]-1 */
    uint32_t *idx;          /* bucket of each entry */
    float *val;             /* value of each entry */
    float *idf;             /* per bucket: idf over the rows */
} s_matrix_t;

/* Work arrays of the per-label solver. */
typedef struct {
    double *pos;            /* per bucket: summed values over texts of the label */
    double *neg;            /* per bucket: summed values over the other texts */
    float *ratio;           /* per bucket: |NB log-count ratio| */
    float *x;               /* matrix values scaled by ratio */
    double *alpha;          /* per text: dual variable */
    double *qd;             /* per text: squared norm of the scaled row + 1 + 1/2C */
    size_t *perm;           /* visiting order of the texts */
} s_work_t;

void trainer_params_default (trainer_params_t *params)
{
    params->bits = 19;
    params->cost = 3.0f;
    params->nb_alpha = 0.1f;
    params->max_epochs = 50;
    params->seed = 1;
}

/* xorshift64* step; the state must not be 0. */
static uint64_t s_rand (uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1DULL;
}

/* Appends the features of every text to m, then turns values into L2-normalised
   tf-idf and fills m->idf. Returns 0, or -1 when out of memory. */
static int s_matrix_build (s_matrix_t *m, const char *const *texts, const size_t *lens,
                           size_t n, int bits)
{
    size_t buckets = (size_t) 1 << bits, cap = 1 << 16, nnz = 0, got;
    uint32_t *df = (uint32_t *) calloc (buckets, sizeof (uint32_t));
    yx_textfeat_t *feats = (yx_textfeat_t *) malloc (YX_TEXTMODEL_MAX_FEATURES * sizeof *feats);
    m->ptr = (size_t *) malloc ((n + 1) * sizeof (size_t));
    m->idx = (uint32_t *) malloc (cap * sizeof (uint32_t));
    m->val = (float *) malloc (cap * sizeof (float));
    m->idf = (float *) malloc (buckets * sizeof (float));
    bool ok = df && feats && m->ptr && m->idx && m->val && m->idf;
    if (ok)
        m->ptr[0] = 0;
    for (size_t i = 0; ok && i < n; i++) {
        ok = yx_textmodel_features (texts[i], texts[i] ? lens[i] : 0, bits, feats, &got) == 0;
        while (ok && nnz + got > cap) {
            cap *= 2;
            uint32_t *idx = (uint32_t *) realloc (m->idx, cap * sizeof (uint32_t));
            m->idx = idx ? idx : m->idx;
            float *val = (float *) realloc (m->val, cap * sizeof (float));
            m->val = val ? val : m->val;
            ok = idx && val;
        }
        for (size_t u = 0; ok && u < got; u++, nnz++) {
            m->idx[nnz] = feats[u].bucket;
            m->val[nnz] = feats[u].tf;
            df[feats[u].bucket]++;
        }
        if (ok)
            m->ptr[i + 1] = nnz;
    }
    for (size_t b = 0; ok && b < buckets; b++)
        m->idf[b] = yx_textmodel_idf (df[b], n);
    for (size_t i = 0; ok && i < n; i++) {
        double norm2 = 0;
        for (size_t p = m->ptr[i]; p < m->ptr[i + 1]; p++) {
            m->val[p] *= m->idf[m->idx[p]];
            norm2 += (double) m->val[p] * m->val[p];
        }
        float inv = norm2 > 0 ? (float) (1.0 / sqrt (norm2)) : 0.0f;
        for (size_t p = m->ptr[i]; p < m->ptr[i + 1]; p++)
            m->val[p] *= inv;
    }
    free (df);
    free (feats);
    return ok ? 0 : -1;
}

/* Trains the one-vs-rest scorer of label c into w (2^bits weights, NB ratio
   folded in) and returns its bias. */
static float s_train_label (const s_matrix_t *m, const int *labels, size_t n, int c,
                            const trainer_params_t *params, s_work_t *wk, float *w,
                            uint64_t *rng)
{
    size_t buckets = (size_t) 1 << params->bits;
    double sum_pos = 0, sum_neg = 0, dii = 1.0 / (2.0 * params->cost), b = 0;
    memset (wk->pos, 0, buckets * sizeof (double));
    memset (wk->neg, 0, buckets * sizeof (double));
    memset (w, 0, buckets * sizeof (float));
    for (size_t i = 0; i < n; i++)
        for (size_t p = m->ptr[i]; p < m->ptr[i + 1]; p++)
            (labels[i] == c ? wk->pos : wk->neg)[m->idx[p]] += m->val[p];
    for (size_t h = 0; h < buckets; h++) {
        sum_pos += wk->pos[h] + params->nb_alpha;
        sum_neg += wk->neg[h] + params->nb_alpha;
    }
    for (size_t h = 0; h < buckets; h++)
        wk->ratio[h] = (float) fabs (log ((wk->pos[h] + params->nb_alpha) / sum_pos)
                                     - log ((wk->neg[h] + params->nb_alpha) / sum_neg));
    for (size_t i = 0; i < n; i++) {
        wk->alpha[i] = 0;
        wk->qd[i] = 1.0 + dii;
        wk->perm[i] = i;
        for (size_t p = m->ptr[i]; p < m->ptr[i + 1]; p++) {
            wk->x[p] = m->val[p] * wk->ratio[m->idx[p]];
            wk->qd[i] += (double) wk->x[p] * wk->x[p];
        }
    }
    for (int epoch = 0; epoch < params->max_epochs; epoch++) {
        double max_pg = 0;
        for (size_t i = n; i > 1; i--) {
            size_t j = s_rand (rng) % i, t = wk->perm[i - 1];
            wk->perm[i - 1] = wk->perm[j];
            wk->perm[j] = t;
        }
        for (size_t k = 0; k < n; k++) {
            size_t i = wk->perm[k];
            double y = labels[i] == c ? 1.0 : -1.0, g = b;
            for (size_t p = m->ptr[i]; p < m->ptr[i + 1]; p++)
                g += w[m->idx[p]] * wk->x[p];
            double grad = y * g - 1.0 + dii * wk->alpha[i];
            double pg = wk->alpha[i] == 0 && grad > 0 ? 0 : grad;
            max_pg = fmax (max_pg, fabs (pg));
            if (pg == 0)
                continue;
            double next = fmax (wk->alpha[i] - grad / wk->qd[i], 0.0);
            double d = (next - wk->alpha[i]) * y;
            wk->alpha[i] = next;
            for (size_t p = m->ptr[i]; p < m->ptr[i + 1]; p++)
                w[m->idx[p]] += (float) (d * wk->x[p]);
            b += d;
        }
        if (max_pg < S_TOLERANCE)
            break;
    }
    for (size_t h = 0; h < buckets; h++)
        w[h] *= wk->ratio[h];
    return (float) b;
}

yx_textmodel_t *trainer_train (const char *const *texts, const size_t *lens,
                               const int *labels, size_t n,
                               const char *const *label_names, int nlabels,
                               const trainer_params_t *params, char *err, size_t errlen)
{
    const char *msg = NULL;
    if (!texts || !lens || !labels || !label_names || !params || n == 0)
        msg = "no training texts";
    else if (params->bits < 10 || params->bits > 24 || !(params->cost > 0)
             || !(params->nb_alpha > 0) || params->max_epochs < 1 || nlabels < 2 || nlabels > 64)
        msg = "training parameters or label count out of range";
    for (size_t i = 0; !msg && i < n; i++)
        if (labels[i] < 0 || labels[i] >= nlabels)
            msg = "label index out of range";
    if (msg) {
        snprintf (err, errlen, "%s", msg);
        return NULL;
    }
    size_t buckets = (size_t) 1 << params->bits;
    s_matrix_t m = { NULL, NULL, NULL, NULL };
    s_work_t wk = { NULL, NULL, NULL, NULL, NULL, NULL, NULL };
    float *weights = (float *) malloc ((size_t) nlabels * buckets * sizeof (float));
    float bias[64];
    uint64_t rng = params->seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
    yx_textmodel_t *model = NULL;
    bool ok = weights && s_matrix_build (&m, texts, lens, n, params->bits) == 0;
    if (ok) {
        wk.pos = (double *) malloc (buckets * sizeof (double));
        wk.neg = (double *) malloc (buckets * sizeof (double));
        wk.ratio = (float *) malloc (buckets * sizeof (float));
        wk.x = (float *) malloc ((m.ptr[n] + 1) * sizeof (float));
        wk.alpha = (double *) malloc (n * sizeof (double));
        wk.qd = (double *) malloc (n * sizeof (double));
        wk.perm = (size_t *) malloc (n * sizeof (size_t));
        ok = wk.pos && wk.neg && wk.ratio && wk.x && wk.alpha && wk.qd && wk.perm;
    }
    for (int c = 0; ok && c < nlabels; c++)
        bias[c] = s_train_label (&m, labels, n, c, params, &wk, weights + (size_t) c * buckets, &rng);
    if (ok)
        model = yx_textmodel_new (nlabels, params->bits, label_names, weights, bias, m.idf,
                                  err, errlen);
    else
        snprintf (err, errlen, "out of memory");
    free (wk.pos); free (wk.neg); free (wk.ratio); free (wk.x);
    free (wk.alpha); free (wk.qd); free (wk.perm);
    free (m.ptr); free (m.idx); free (m.val); free (m.idf);
    free (weights);
    return model;
}
