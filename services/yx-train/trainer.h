/*  trainer.h - trains text classifier models (private to yx-train and its tests).

    One-vs-rest L2-regularised L2-loss linear SVMs, solved by dual coordinate
    descent, on the tf-idf features of services/common/textmodel.c scaled per label
    by the absolute naive-Bayes log-count ratio (NBSVM).
*/
#ifndef YX_TRAIN_TRAINER_H_INCLUDED
#define YX_TRAIN_TRAINER_H_INCLUDED

#include "../common/textmodel.h"

#include <stddef.h>
#include <stdint.h>

/* Training parameters; fill with trainer_params_default then adjust. */
typedef struct {
    int bits;               /* log2 of the number of hashed feature buckets (10..24) */
    float cost;             /* SVM cost C */
    float nb_alpha;         /* smoothing of the naive-Bayes log-count ratios */
    int max_epochs;         /* upper bound on coordinate-descent passes per label */
    uint64_t seed;          /* seed of the pass order; same seed, same model */
} trainer_params_t;

/* Sets the default parameters (the ones docs/classifier-model.md measures). */
void trainer_params_default (trainer_params_t *params);

/* Trains a model on n texts (texts[i] of lens[i] bytes) with labels[i] in
   0..nlabels-1, named label_names[]. The softmax scale starts at 1.
   Returns NULL with a message in err on bad arguments or out of memory. */
yx_textmodel_t *trainer_train (const char *const *texts, const size_t *lens,
                               const int *labels, size_t n,
                               const char *const *label_names, int nlabels,
                               const trainer_params_t *params, char *err, size_t errlen);

#endif
