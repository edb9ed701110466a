/*  textmodel.h - trained text classifier for free-text hotline messages.

    A model maps a UTF-8 text to one of a few labels (the first-level topic that
    decides which family of departments handles a message). Features are hashed
    character 1..3-grams of the normalised text (no raw n-gram strings are kept),
    weighted by log-count x IDF and L2-normalised; the classifier is one linear
    scorer per label, turned into probabilities by a softmax with a calibrated
    scale. The weights come from yx-train (services/yx-train/trainer.c), which uses
    the feature functions below, so training and prediction share one feature code.
    The file format is described in textmodel.c and docs/classifier-model.md.
*/
#ifndef YX_TEXTMODEL_H_INCLUDED
#define YX_TEXTMODEL_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only the first YX_TEXTMODEL_MAX_CHARS normalised characters of a text are used,
   so a text has at most YX_TEXTMODEL_MAX_FEATURES distinct feature buckets. */
#define YX_TEXTMODEL_MAX_CHARS 2048
#define YX_TEXTMODEL_MAX_FEATURES (3 * YX_TEXTMODEL_MAX_CHARS)

typedef struct yx_textmodel yx_textmodel_t;

typedef struct {
    int label;      /* label index, 0 .. nlabels-1 */
    float prob;     /* probability of that label */
} yx_textpred_t;

/* One distinct feature bucket of a text. */
typedef struct {
    uint32_t bucket;    /* bucket number, 0 .. 2^bits-1 */
    float tf;           /* sublinear count: 1 + ln(occurrences) */
} yx_textfeat_t;

/* Loads a model file; NULL with a message in err on any problem (bad magic,
   truncated, wrong sizes) - never crash on a bad file. */
yx_textmodel_t *yx_textmodel_load (const char *path, char *err, size_t errlen);

/* Frees the model and sets *self_p = NULL; no-op on NULL. */
void yx_textmodel_destroy (yx_textmodel_t **self_p);

/* Number of labels. */
int yx_textmodel_nlabels (const yx_textmodel_t *self);

/* UTF-8 label name of index i, e.g. "城乡建设"; NULL when i is out of range. */
const char *yx_textmodel_label (const yx_textmodel_t *self, int i);

/* Top-k predictions sorted by probability (probabilities over all labels sum to 1).
   Returns the number written (<= k), or -1 when out of memory. Any bytes are
   accepted (invalid UTF-8 must not crash). Thread-safe (no mutation of self). */
int yx_textmodel_predict (const yx_textmodel_t *self, const char *text, size_t len,
                          yx_textpred_t *out, int k);

/* Writes the raw linear score of every label (nlabels floats, before the softmax
   scale) into scores. Returns 0, or -1 when out of memory. Thread-safe. */
int yx_textmodel_scores (const yx_textmodel_t *self, const char *text, size_t len,
                         float *scores);

/* Normalises text into at most cap code points: invalid UTF-8, punctuation,
   symbols and whitespace become single spaces, full-width ASCII becomes ASCII,
   ASCII letters are lower-cased and every run of digits becomes one '0'.
   Returns the number of code points written. */
size_t yx_textmodel_codepoints (const char *text, size_t len, uint32_t *out, size_t cap);

//  Building blocks of the trainer (services/yx-train), which must compute
//  features exactly as prediction does.

/* Writes the distinct feature buckets (of 2^bits, bits 10..24) of text with their
   sublinear counts into out, which must hold YX_TEXTMODEL_MAX_FEATURES entries,
   in first-seen order; *n receives the count. A feature's value is tf x idf of its
   bucket, L2-normalised over the text. Returns 0, or -1 when out of memory or
   bits is out of range. */
int yx_textmodel_features (const char *text, size_t len, int bits, yx_textfeat_t *out,
                           size_t *n);

/* The idf of a bucket found in df of ndocs training texts, ln((1+ndocs)/(1+df)) + 1,
   rounded to the 1/16 steps the model file stores. */
float yx_textmodel_idf (size_t df, size_t ndocs);

/* Creates a model from trained floats: weights[c * 2^bits + b] of label c and
   bucket b, bias[c], and idf[b] (values of yx_textmodel_idf); weights are
   quantised to int8 with one factor per label. The softmax scale starts at 1.
   Returns NULL with a message in err on bad arguments or out of memory. */
yx_textmodel_t *yx_textmodel_new (int nlabels, int bits, const char *const *names,
                                  const float *weights, const float *bias, const float *idf,
                                  char *err, size_t errlen);

/* Sets the factor applied to raw scores before the softmax (a calibrated inverse
   temperature); ignored unless in (0, 10000]. */
void yx_textmodel_set_scale (yx_textmodel_t *self, float scale);

/* Writes the model to path (through a temporary file renamed into place).
   Returns 0, or -1 with a message in err. */
int yx_textmodel_save (const yx_textmodel_t *self, const char *path, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
