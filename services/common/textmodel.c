/*  textmodel.c - trained text classifier: features, model file, prediction.

    Features. The text is normalised (yx_textmodel_codepoints) and cut to
    YX_TEXTMODEL_MAX_CHARS code points. Every character 1-, 2- and 3-gram that does
    not start on a separator is hashed to one of 2^bits buckets. A bucket's value is
    (1 + ln count) x idf(bucket), and the vector is L2-normalised. The trainer
    (services/yx-train/trainer.c) gets the same buckets from yx_textmodel_features
    and the same idf values from yx_textmodel_idf.

    Scores. Each label has one linear scorer (weights per bucket and a bias); the
    softmax of scale x scores gives the probabilities. Weights are kept as int8
    with one factor per label.

    File format (version 1, little-endian):
      "YXTM" | u32 version | u32 nlabels (2..64) | u32 bits (10..24)
      | u32 ngram max (3) | u32 max chars (2048) | f32 softmax scale (0..1e4]
      | per label: f32 bias (|bias| <= 1e4), f32 weight scale [0..1e4],
        u32 name length (1..255), name bytes (printable UTF-8)
      | 2^bits rows of (nlabels int8 weights, u8 idf code; idf = code / 16)
      | u32 FNV-1a checksum of every byte before it
*/
#include "textmodel.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAGIC "YXTM"
#define S_VERSION 1
#define S_NGRAM_MAX 3
#define S_MAX_LABELS 64
#define S_MAX_NAME 255
#define S_IDF_STEP 16.0f
#define S_INVALID 0xFFFFFFFFu
#define S_SEED 0x9747b28cu
#define S_MAX_FILE (512u << 20)
#define S_MAX_PARAM 1e4f
#define S_MIN_BITS 10
#define S_MAX_BITS 24

struct yx_textmodel {
    int nlabels;            /* number of labels */
    int bits;               /* log2 of the number of feature buckets */
    size_t stride;          /* bytes per table row: nlabels weights + idf code */
    float scale;            /* factor on raw scores before the softmax */
    char **labels;          /* nlabels NUL-terminated UTF-8 names */
    float *bias;            /* per-label bias */
    float *wscale;          /* per-label factor turning int8 weights into floats */
    const uint8_t *table;   /* 2^bits rows of stride bytes */
    void *blob;             /* allocation holding the table (file image when loaded) */
};

/* Per-text work space: the deduplicated buckets of one text. */
typedef struct {
    uint32_t *cps;          /* normalised code points */
    uint32_t *keys;         /* open-addressing slots: bucket + 1, 0 when empty */
    uint32_t *counts;       /* occurrences of the bucket held in each slot */
    uint32_t *order;        /* filled slot indexes in first-seen order */
    size_t nused;           /* entries in order */
    void *mem;              /* the single allocation behind the arrays */
} s_scratch_t;

/* Copies msg into err when the caller gave a buffer. */
static void s_set_err (char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf (err, errlen, "%s", msg);
}

/* Decodes one code point at s[*i] and advances *i; a byte that does not start a
   valid, shortest-form sequence yields S_INVALID and advances by one. */
static uint32_t s_decode (const unsigned char *s, size_t len, size_t *i)
{
    uint32_t c = s[*i], min;
    size_t n;
    if (c < 0x80) {
        (*i)++;
        return c;
    }
    if (c >= 0xC2 && c <= 0xDF) { n = 1; min = 0x80; c &= 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 2; min = 0x800; c &= 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 3; min = 0x10000; c &= 0x07; }
    else { (*i)++; return S_INVALID; }
    if (len - *i <= n) {
        (*i)++;
        return S_INVALID;
    }
    for (size_t k = 1; k <= n; k++) {
        uint32_t d = s[*i + k];
        if ((d & 0xC0) != 0x80) {
            (*i)++;
            return S_INVALID;
        }
        c = (c << 6) | (d & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        (*i)++;
        return S_INVALID;
    }
    *i += n + 1;
    return c;
}

/* True for code points that only separate words: ASCII other than letters and
   digits, Latin-1 symbols, general punctuation and symbol blocks, CJK and
   full-width punctuation, invalid bytes. */
static bool s_is_separator (uint32_t c)
{
    if (c < 0x80)
        return !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
    return c <= 0xBF || (c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F)
        || (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFFEF) || c == S_INVALID;
}

size_t yx_textmodel_codepoints (const char *text, size_t len, uint32_t *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *) text;
    size_t i = 0, n = 0;
    if (!text || !out)
        return 0;
    while (i < len && n < cap) {
        uint32_t c = s_decode (s, len, &i);
        if (c >= 0xFF01 && c <= 0xFF5E)
            c -= 0xFEE0;
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        if (c >= '0' && c <= '9')
            c = '0';
        else if (s_is_separator (c))
            c = ' ';
        if ((c == '0' || c == ' ') && n > 0 && out[n - 1] == c)
            continue;
        out[n++] = c;
    }
    return n;
}

/* Murmur3 finaliser: spreads the bits of h. */
static uint32_t s_mix (uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

/* Fills sc with the distinct buckets (of 2^bits) of text and their counts.
   Returns 0, or -1 when out of memory; on success the caller frees sc->mem. */
static int s_extract (const char *text, size_t len, int bits, s_scratch_t *sc)
{
    size_t cap = len < YX_TEXTMODEL_MAX_CHARS ? len : YX_TEXTMODEL_MAX_CHARS;
    size_t slots = 64;
    while (slots < 2 * S_NGRAM_MAX * cap)
        slots <<= 1;
    size_t mask = slots - 1;
    sc->mem = malloc ((cap + 2 * slots + S_NGRAM_MAX * cap) * sizeof (uint32_t));
    if (!sc->mem)
        return -1;
    sc->cps = (uint32_t *) sc->mem;
    sc->keys = sc->cps + cap;
    sc->counts = sc->keys + slots;
    sc->order = sc->counts + slots;
    sc->nused = 0;
    memset (sc->keys, 0, slots * sizeof (uint32_t));

    size_t n = yx_textmodel_codepoints (text, len, sc->cps, cap);
    for (size_t i = 0; i < n; i++) {
        if (sc->cps[i] == ' ')
            continue;
        uint32_t h = S_SEED;
        for (size_t k = 0; k < S_NGRAM_MAX && i + k < n; k++) {
            h = s_mix ((h ^ sc->cps[i + k]) * 0x01000193u + (uint32_t) k);
            uint32_t key = (h >> (32 - bits)) + 1;
            size_t slot = (key * 0x9E3779B1u) & mask;
            while (sc->keys[slot] && sc->keys[slot] != key)
                slot = (slot + 1) & mask;
            if (!sc->keys[slot]) {
                sc->keys[slot] = key;
                sc->counts[slot] = 0;
                sc->order[sc->nused++] = (uint32_t) slot;
            }
            sc->counts[slot]++;
        }
    }
    return 0;
}

/* Sublinear term frequency 1 + ln(count). */
static float s_logtf (uint32_t count)
{
    return count == 1 ? 1.0f : 1.0f + logf ((float) count);
}

int yx_textmodel_features (const char *text, size_t len, int bits, yx_textfeat_t *out,
                           size_t *n)
{
    s_scratch_t sc;
    *n = 0;
    if (bits < S_MIN_BITS || bits > S_MAX_BITS || s_extract (text, text ? len : 0, bits, &sc) != 0)
        return -1;
    for (size_t u = 0; u < sc.nused; u++) {
        out[u].bucket = sc.keys[sc.order[u]] - 1;
        out[u].tf = s_logtf (sc.counts[sc.order[u]]);
    }
    *n = sc.nused;
    free (sc.mem);
    return 0;
}

float yx_textmodel_idf (size_t df, size_t ndocs)
{
    float idf = logf ((1.0f + (float) ndocs) / (1.0f + (float) df)) + 1.0f;
    long code = lrintf (idf * S_IDF_STEP);
    return (float) (code < 0 ? 0 : code > 255 ? 255 : code) / S_IDF_STEP;
}

/* Allocates an empty model with copies of the label names (names[i] of lens[i]
   bytes, or NUL-terminated when lens is NULL); NULL when out of memory. */
static yx_textmodel_t *s_model_new (int nlabels, int bits, const char *const *names,
                                    const uint32_t *lens)
{
    yx_textmodel_t *self = (yx_textmodel_t *) calloc (1, sizeof (yx_textmodel_t));
    if (!self)
        return NULL;
    self->nlabels = nlabels;
    self->bits = bits;
    self->stride = (size_t) nlabels + 1;
    self->scale = 1.0f;
    self->labels = (char **) calloc ((size_t) nlabels, sizeof (char *));
    self->bias = (float *) calloc ((size_t) nlabels, sizeof (float));
    self->wscale = (float *) calloc ((size_t) nlabels, sizeof (float));
    bool ok = self->labels && self->bias && self->wscale;
    for (int i = 0; ok && i < nlabels; i++)
        ok = (self->labels[i] = strndup (names[i], lens ? lens[i] : strlen (names[i]))) != NULL;
    if (!ok)
        yx_textmodel_destroy (&self);
    return self;
}

void yx_textmodel_destroy (yx_textmodel_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yx_textmodel_t *self = *self_p;
    for (int i = 0; self->labels && i < self->nlabels; i++)
        free (self->labels[i]);
    free (self->labels);
    free (self->bias);
    free (self->wscale);
    free (self->blob);
    free (self);
    *self_p = NULL;
}

int yx_textmodel_nlabels (const yx_textmodel_t *self)
{
    return self ? self->nlabels : 0;
}

const char *yx_textmodel_label (const yx_textmodel_t *self, int i)
{
    return self && i >= 0 && i < self->nlabels ? self->labels[i] : NULL;
}

void yx_textmodel_set_scale (yx_textmodel_t *self, float scale)
{
    if (self && scale > 0 && scale <= S_MAX_PARAM)
        self->scale = scale;
}

int yx_textmodel_scores (const yx_textmodel_t *self, const char *text, size_t len,
                         float *scores)
{
    s_scratch_t sc;
    float acc[S_MAX_LABELS] = { 0 };
    double norm2 = 0;
    if (!self || !scores || s_extract (text, text ? len : 0, self->bits, &sc) != 0)
        return -1;
    int nl = self->nlabels;
    for (size_t u = 0; u < sc.nused; u++) {
        uint32_t slot = sc.order[u];
        const uint8_t *row = self->table + (size_t) (sc.keys[slot] - 1) * self->stride;
        float v = s_logtf (sc.counts[slot]) * ((float) row[nl] / S_IDF_STEP);
        norm2 += (double) v * v;
        for (int c = 0; c < nl; c++)
            acc[c] += (float) (int8_t) row[c] * v;
    }
    free (sc.mem);
    float inv = norm2 > 0 ? (float) (1.0 / sqrt (norm2)) : 0.0f;
    for (int c = 0; c < nl; c++)
        scores[c] = self->bias[c] + self->wscale[c] * acc[c] * inv;
    return 0;
}

int yx_textmodel_predict (const yx_textmodel_t *self, const char *text, size_t len,
                          yx_textpred_t *out, int k)
{
    float prob[S_MAX_LABELS];
    int order[S_MAX_LABELS];
    if (!self || !out || k <= 0)
        return 0;
    if (yx_textmodel_scores (self, text, len, prob) != 0)
        return -1;
    int nl = self->nlabels;
    float max = -INFINITY, sum = 0;
    for (int c = 0; c < nl; c++)
        max = fmaxf (max, self->scale * prob[c]);
    for (int c = 0; c < nl; c++) {
        prob[c] = expf (self->scale * prob[c] - max);
        sum += prob[c];
    }
    for (int c = 0; c < nl; c++) {     //  insertion sort, highest first, stable
        int j = c;
        while (j > 0 && prob[order[j - 1]] < prob[c]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = c;
    }
    int n = k < nl ? k : nl;
    for (int i = 0; i < n; i++) {
        out[i].label = order[i];
        out[i].prob = prob[order[i]] / sum;
    }
    return n;
}

//  ---------------------------------------------------------------------------
//  Model file: reading and writing

/* Bounds-checked reader over a file image. */
typedef struct {
    const uint8_t *data;    /* file bytes */
    size_t size;            /* number of bytes */
    size_t pos;             /* next byte to read */
} s_reader_t;

/* Reads a little-endian u32; -1 when fewer than 4 bytes remain. */
static int s_read_u32 (s_reader_t *r, uint32_t *v)
{
    if (r->size - r->pos < 4)
        return -1;
    const uint8_t *p = r->data + r->pos;
    *v = (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
    r->pos += 4;
    return 0;
}

/* Reads a finite little-endian f32; -1 when truncated or not finite. */
static int s_read_f32 (s_reader_t *r, float *v)
{
    uint32_t u;
    if (s_read_u32 (r, &u) != 0)
        return -1;
    memcpy (v, &u, sizeof *v);
    return isfinite (*v) ? 0 : -1;
}

/* FNV-1a 32-bit hash of n bytes. */
static uint32_t s_fnv1a (const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* True when name is 1..S_MAX_NAME bytes of valid UTF-8 without control characters. */
static bool s_valid_name (const uint8_t *name, size_t len)
{
    size_t i = 0;
    if (len == 0 || len > S_MAX_NAME)
        return false;
    while (i < len) {
        uint32_t c = s_decode (name, len, &i);
        if (c == S_INVALID || c < 0x20 || c == 0x7F)
            return false;
    }
    return true;
}

/* Reads the whole file at path into a new buffer; NULL with err set on failure. */
static uint8_t *s_slurp (const char *path, size_t *size, char *err, size_t errlen)
{
    FILE *file = path ? fopen (path, "rb") : NULL;
    uint8_t *data = NULL;
    long end = -1;
    if (!file) {
        snprintf (err, errlen, "cannot open model: %s", strerror (path ? errno : EINVAL));
        return NULL;
    }
    if (fseek (file, 0, SEEK_END) == 0)
        end = ftell (file);
    if (end < 0 || (unsigned long) end > S_MAX_FILE || fseek (file, 0, SEEK_SET) != 0)
        s_set_err (err, errlen, "model file unreadable or too large");
    else if (!(data = (uint8_t *) malloc ((size_t) end + 1)))
        s_set_err (err, errlen, "out of memory");
    else if (fread (data, 1, (size_t) end, file) != (size_t) end) {
        s_set_err (err, errlen, "cannot read model file");
        free (data);
        data = NULL;
    }
    fclose (file);
    *size = (size_t) (end < 0 ? 0 : end);
    return data;
}

/* Parses a file image into a model that takes ownership of data; NULL with err. */
static yx_textmodel_t *s_parse (uint8_t *data, size_t size, char *err, size_t errlen)
{
    s_reader_t r = { data, size, 0 };
    uint32_t version, nlabels, bits, ngram, maxchars, sum;
    float scale;
    const char *names[S_MAX_LABELS];
    float bias[S_MAX_LABELS], wscale[S_MAX_LABELS];
    yx_textmodel_t *self = NULL;

    if (size < 8 || memcmp (data, S_MAGIC, 4) != 0) {
        s_set_err (err, errlen, "not a text model (bad magic)");
        goto fail;
    }
    r.pos = 4;
    if (s_read_u32 (&r, &version) || s_read_u32 (&r, &nlabels) || s_read_u32 (&r, &bits)
        || s_read_u32 (&r, &ngram) || s_read_u32 (&r, &maxchars) || s_read_f32 (&r, &scale)) {
        s_set_err (err, errlen, "model header truncated or invalid");
        goto fail;
    }
    if (version != S_VERSION || ngram != S_NGRAM_MAX || maxchars != YX_TEXTMODEL_MAX_CHARS) {
        s_set_err (err, errlen, "unsupported model version or feature settings");
        goto fail;
    }
    if (nlabels < 2 || nlabels > S_MAX_LABELS || bits < S_MIN_BITS || bits > S_MAX_BITS || !(scale > 0)
        || scale > S_MAX_PARAM) {
        s_set_err (err, errlen, "model header has out-of-range sizes");
        goto fail;
    }
    uint32_t name_len[S_MAX_LABELS];
    for (uint32_t i = 0; i < nlabels; i++) {
        if (s_read_f32 (&r, &bias[i]) || s_read_f32 (&r, &wscale[i]) || !(wscale[i] >= 0)
            || wscale[i] > S_MAX_PARAM || fabsf (bias[i]) > S_MAX_PARAM || s_read_u32 (&r, &name_len[i]) || r.size - r.pos < name_len[i]
            || !s_valid_name (data + r.pos, name_len[i])) {
            s_set_err (err, errlen, "model label table truncated or invalid");
            goto fail;
        }
        names[i] = (const char *) data + r.pos;
        r.pos += name_len[i];
    }
    size_t table_size = ((size_t) 1 << bits) * (nlabels + 1);
    if (r.size - r.pos != table_size + 4) {
        s_set_err (err, errlen, "model table size does not match header (truncated?)");
        goto fail;
    }
    size_t table_pos = r.pos;
    r.pos += table_size;
    if (s_read_u32 (&r, &sum) != 0 || sum != s_fnv1a (data, table_pos + table_size)) {
        s_set_err (err, errlen, "model checksum mismatch (corrupt file)");
        goto fail;
    }
    self = s_model_new ((int) nlabels, (int) bits, names, name_len);
    if (!self) {
        s_set_err (err, errlen, "out of memory");
        goto fail;
    }
    memcpy (self->bias, bias, nlabels * sizeof (float));
    memcpy (self->wscale, wscale, nlabels * sizeof (float));
    self->scale = scale;
    self->blob = data;
    self->table = data + table_pos;
    return self;
fail:
    free (data);
    return NULL;
}

yx_textmodel_t *yx_textmodel_load (const char *path, char *err, size_t errlen)
{
    size_t size = 0;
    uint8_t *data = s_slurp (path, &size, err, errlen);
    return data ? s_parse (data, size, err, errlen) : NULL;
}

/* Appends a little-endian u32 at *p and advances it. */
static void s_put_u32 (uint8_t **p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *(*p)++ = (uint8_t) (v >> (8 * i));
}

/* Appends the bits of a float as a little-endian u32. */
static void s_put_f32 (uint8_t **p, float v)
{
    uint32_t u;
    memcpy (&u, &v, sizeof u);
    s_put_u32 (p, u);
}

int yx_textmodel_save (const yx_textmodel_t *self, const char *path, char *err, size_t errlen)
{
    size_t table_size = ((size_t) 1 << self->bits) * self->stride;
    size_t head = 28;
    for (int i = 0; i < self->nlabels; i++)
        head += 12 + strlen (self->labels[i]);
    uint8_t *data = (uint8_t *) malloc (head + table_size + 4), *p = data;
    char tmp[4096];
    if (!data || snprintf (tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp) {
        s_set_err (err, errlen, data ? "model path too long" : "out of memory");
        free (data);
        return -1;
    }
    memcpy (p, S_MAGIC, 4);
    p += 4;
    s_put_u32 (&p, S_VERSION);
    s_put_u32 (&p, (uint32_t) self->nlabels);
    s_put_u32 (&p, (uint32_t) self->bits);
    s_put_u32 (&p, S_NGRAM_MAX);
    s_put_u32 (&p, YX_TEXTMODEL_MAX_CHARS);
    s_put_f32 (&p, self->scale);
    for (int i = 0; i < self->nlabels; i++) {
        size_t len = strlen (self->labels[i]);
        s_put_f32 (&p, self->bias[i]);
        s_put_f32 (&p, self->wscale[i]);
        s_put_u32 (&p, (uint32_t) len);
        memcpy (p, self->labels[i], len);
        p += len;
    }
    memcpy (p, self->table, table_size);
    p += table_size;
    s_put_u32 (&p, s_fnv1a (data, (size_t) (p - data)));

    FILE *file = fopen (tmp, "wb");
    bool ok = file && fwrite (data, 1, (size_t) (p - data), file) == (size_t) (p - data);
    ok = (file && fclose (file) == 0) && ok;
    ok = ok && rename (tmp, path) == 0;
    if (!ok) {
        snprintf (err, errlen, "cannot write %s: %s", path, strerror (errno));
        remove (tmp);
    }
    free (data);
    return ok ? 0 : -1;
}

yx_textmodel_t *yx_textmodel_new (int nlabels, int bits, const char *const *names,
                                  const float *weights, const float *bias, const float *idf,
                                  char *err, size_t errlen)
{
    const char *msg = NULL;
    if (nlabels < 2 || nlabels > S_MAX_LABELS || bits < S_MIN_BITS || bits > S_MAX_BITS
        || !names || !weights || !bias || !idf)
        msg = "need 2..64 labels, 10..24 bits and all arrays";
    for (int c = 0; !msg && c < nlabels; c++)
        if (!names[c] || !s_valid_name ((const uint8_t *) names[c], strlen (names[c])))
            msg = "label names must be 1..255 bytes of printable UTF-8";
        else if (!(fabsf (bias[c]) <= S_MAX_PARAM))
            msg = "bias out of range";
    yx_textmodel_t *self = msg ? NULL : s_model_new (nlabels, bits, names, NULL);
    size_t buckets = (size_t) 1 << bits;
    uint8_t *table = self ? (uint8_t *) malloc (buckets * self->stride) : NULL;
    if (!msg && !table)
        msg = "out of memory";
    for (size_t b = 0; !msg && b < buckets; b++) {
        if (!(idf[b] >= 0 && idf[b] <= 255 / S_IDF_STEP))
            msg = "idf out of range";
        else
            table[b * self->stride + (size_t) nlabels] = (uint8_t) lrintf (idf[b] * S_IDF_STEP);
    }
    for (int c = 0; !msg && c < nlabels; c++) {
        const float *w = weights + (size_t) c * buckets;
        float max = 0;
        for (size_t b = 0; b < buckets; b++)
            max = isfinite (w[b]) ? fmaxf (max, fabsf (w[b])) : INFINITY;
        if (!(max / 127.0f <= S_MAX_PARAM)) {
            msg = "weights out of range";
            break;
        }
        self->bias[c] = bias[c];
        self->wscale[c] = max / 127.0f;
        for (size_t b = 0; b < buckets; b++)
            table[b * self->stride + (size_t) c] =
                max > 0 ? (uint8_t) (int8_t) lrintf (w[b] / self->wscale[c]) : 0;
    }
    if (msg) {
        s_set_err (err, errlen, msg);
        free (table);
        yx_textmodel_destroy (&self);
        return NULL;
    }
    self->table = table;
    self->blob = table;
    return self;
}
