/*  test_textmodel.c - unit tests of the text classifier (training, file, prediction).

    A tiny model is trained (services/yx-train/trainer.c) from a few synthetic
    lines, saved, loaded back and queried; damaged copies of its file must be
    refused, and hostile inputs must be classified without crashing.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../services/common/textmodel.h"
#include "../../services/yx-train/trainer.h"

static const char *s_names[] = { "交通运输", "环境保护", "教育文体" };

static const char *s_lines[] = {
    "公交车站台损坏,公交线路太少,出行不便",   "地铁站附近公交车晚点严重",
    "道路上出租车乱停,公交专用道被占用",       "希望增加公交班次,方便乘客出行",
    "化工厂排放污水,河道污染严重",             "工地噪音扰民,夜间施工粉尘污染",
    "垃圾焚烧厂废气污染环境,居民呼吸困难",     "河水发臭,污水直排,请环保部门处理",
    "学校乱收费,学生补课费用太高",             "幼儿园学位紧张,孩子入学困难",
    "中学教师体罚学生,请教育局调查",           "小学课后托管收费不合理,家长负担重",
};
static const int s_labels[] = { 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2 };
#define S_NLINES (sizeof s_lines / sizeof s_lines[0])

/* Trains the tiny model with the given seed. */
static yx_textmodel_t *s_train (uint64_t seed)
{
    size_t lens[S_NLINES];
    char err[256] = "";
    trainer_params_t params;
    trainer_params_default (&params);
    params.bits = 12;
    params.seed = seed;
    for (size_t i = 0; i < S_NLINES; i++)
        lens[i] = strlen (s_lines[i]);
    yx_textmodel_t *model = trainer_train (s_lines, lens, s_labels, S_NLINES, s_names, 3,
                                           &params, err, sizeof err);
    assert_non_null (model);
    yx_textmodel_set_scale (model, 3.0f);
    return model;
}

/* Returns a new temporary file name (the file exists and is empty). */
static char *s_tmpname (void)
{
    char *path = strdup ("/tmp/test_textmodel_XXXXXX");
    assert_non_null (path);
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    close (fd);
    return path;
}

/* Reads a whole file; *size receives its length. */
static uint8_t *s_read (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    assert_non_null (file);
    fseek (file, 0, SEEK_END);
    *size = (size_t) ftell (file);
    fseek (file, 0, SEEK_SET);
    uint8_t *data = (uint8_t *) malloc (*size + 1);
    assert_non_null (data);
    assert_int_equal (fread (data, 1, *size, file), *size);
    fclose (file);
    return data;
}

/* Writes size bytes to path. */
static void s_write (const char *path, const uint8_t *data, size_t size)
{
    FILE *file = fopen (path, "wb");
    assert_non_null (file);
    assert_int_equal (fwrite (data, 1, size, file), size);
    fclose (file);
}

/* Asserts that the file at path is refused with a message. */
static void s_assert_refused (const char *path)
{
    char err[256] = "";
    yx_textmodel_t *model = yx_textmodel_load (path, err, sizeof err);
    assert_null (model);
    assert_true (strlen (err) > 0);
}

/* Returns the top label of text. */
static int s_top (const yx_textmodel_t *model, const char *text)
{
    yx_textpred_t top;
    assert_int_equal (yx_textmodel_predict (model, text, strlen (text), &top, 1), 1);
    return top.label;
}

static void test_train_save_load_predict (void **state)
{
    (void) state;
    char err[256] = "";
    char *path = s_tmpname ();
    yx_textmodel_t *trained = s_train (7);
    assert_int_equal (yx_textmodel_save (trained, path, err, sizeof err), 0);
    yx_textmodel_t *model = yx_textmodel_load (path, err, sizeof err);
    assert_non_null (model);
    assert_int_equal (yx_textmodel_nlabels (model), 3);
    assert_string_equal (yx_textmodel_label (model, 1), "环境保护");
    assert_null (yx_textmodel_label (model, 3));
    assert_null (yx_textmodel_label (model, -1));

    assert_int_equal (s_top (model, "公交车太少,公交站台没有遮雨棚"), 0);
    assert_int_equal (s_top (model, "工厂排放污水污染河道"), 1);
    assert_int_equal (s_top (model, "学校补课收费太高"), 2);

    //  all labels: sorted, summing to 1, same as the in-memory model
    const char *text = "夜间施工噪音和粉尘污染";
    yx_textpred_t all[5], mem[3];
    assert_int_equal (yx_textmodel_predict (model, text, strlen (text), all, 5), 3);
    assert_int_equal (yx_textmodel_predict (trained, text, strlen (text), mem, 3), 3);
    float sum = 0;
    for (int i = 0; i < 3; i++) {
        sum += all[i].prob;
        assert_true (i == 0 || all[i - 1].prob >= all[i].prob);
        assert_int_equal (all[i].label, mem[i].label);
        assert_float_equal (all[i].prob, mem[i].prob, 1e-6);
    }
    assert_float_equal (sum, 1.0, 1e-5);
    assert_int_equal (all[0].label, 1);
    assert_int_equal (yx_textmodel_predict (model, text, strlen (text), all, 0), 0);

    yx_textmodel_destroy (&trained);
    yx_textmodel_destroy (&model);
    assert_null (model);
    yx_textmodel_destroy (&model);
    remove (path);
    free (path);
}

static void test_training_is_deterministic (void **state)
{
    (void) state;
    char err[256];
    char *a = s_tmpname (), *b = s_tmpname ();
    yx_textmodel_t *m1 = s_train (42), *m2 = s_train (42);
    assert_int_equal (yx_textmodel_save (m1, a, err, sizeof err), 0);
    assert_int_equal (yx_textmodel_save (m2, b, err, sizeof err), 0);
    size_t na, nb;
    uint8_t *da = s_read (a, &na), *db = s_read (b, &nb);
    assert_int_equal (na, nb);
    assert_memory_equal (da, db, na);
    free (da); free (db);
    yx_textmodel_destroy (&m1);
    yx_textmodel_destroy (&m2);
    remove (a); remove (b);
    free (a); free (b);
}

static void test_bad_files_are_refused (void **state)
{
    (void) state;
    char err[256];
    char *good = s_tmpname (), *bad = s_tmpname ();
    yx_textmodel_t *model = s_train (1);
    assert_int_equal (yx_textmodel_save (model, good, err, sizeof err), 0);
    yx_textmodel_destroy (&model);
    size_t size;
    uint8_t *data = s_read (good, &size);

    s_assert_refused ("/nonexistent/dir/model.bin");
    //  every truncation in the header, then a sample through the table
    for (size_t len = 0; len < size; len += len < 300 ? 1 : 211) {
        s_write (bad, data, len);
        s_assert_refused (bad);
    }
    s_write (bad, data, size - 1);
    s_assert_refused (bad);
    //  one extra byte
    uint8_t *longer = (uint8_t *) malloc (size + 1);
    assert_non_null (longer);
    memcpy (longer, data, size);
    longer[size] = 0;
    s_write (bad, longer, size + 1);
    s_assert_refused (bad);
    free (longer);
    //  single corrupted bytes: magic, version, nlabels, bits, scale, name length,
    //  a label name byte, the table, the checksum
    const size_t spots[] = { 0, 4, 8, 11, 12, 24, 27, 36, 40, 200, size / 2, size - 1 };
    for (size_t s = 0; s < sizeof spots / sizeof spots[0]; s++) {
        data[spots[s]] ^= 0xFF;
        s_write (bad, data, size);
        s_assert_refused (bad);
        data[spots[s]] ^= 0xFF;
    }
    //  the restored image still loads
    s_write (bad, data, size);
    model = yx_textmodel_load (bad, err, sizeof err);
    assert_non_null (model);
    yx_textmodel_destroy (&model);
    free (data);
    remove (good); remove (bad);
    free (good); free (bad);
}

/* Stores v little-endian at p. */
static void s_put (uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t) (v >> (8 * i));
}

/* Writes data with field at offset set to v and a recomputed checksum, so only
   the loader's field checks can refuse it. */
static void s_write_patched (const char *path, const uint8_t *data, size_t size,
                             size_t offset, uint32_t v)
{
    uint8_t *copy = (uint8_t *) malloc (size);
    assert_non_null (copy);
    memcpy (copy, data, size);
    s_put (copy + offset, v);
    uint32_t h = 2166136261u;
    for (size_t i = 0; i + 4 < size; i++)
        h = (h ^ copy[i]) * 16777619u;
    s_put (copy + size - 4, h);
    s_write (path, copy, size);
    free (copy);
}

static void test_bad_fields_are_refused (void **state)
{
    (void) state;
    char err[256];
    char *good = s_tmpname (), *bad = s_tmpname ();
    yx_textmodel_t *model = s_train (2);
    assert_int_equal (yx_textmodel_save (model, good, err, sizeof err), 0);
    yx_textmodel_destroy (&model);
    size_t size;
    uint8_t *data = s_read (good, &size);
    float huge = 1e30f, nan = NAN;
    uint32_t huge_bits, nan_bits, scale_bits;
    memcpy (&huge_bits, &huge, 4);
    memcpy (&nan_bits, &nan, 4);
    memcpy (&scale_bits, data + 24, 4);
    //  same content, recomputed checksum: still loads
    s_write_patched (bad, data, size, 24, scale_bits);
    model = yx_textmodel_load (bad, err, sizeof err);
    assert_non_null (model);
    yx_textmodel_destroy (&model);
    const struct { size_t offset; uint32_t value; } cases[] = {
        { 4, 2 },               //  version
        { 8, 65 },              //  nlabels
        { 8, 1 },
        { 8, 2 },               //  fewer labels: the table size no longer matches
        { 12, 25 },             //  bits
        { 12, 9 },
        { 16, 4 },              //  n-gram max
        { 20, 4096 },           //  max chars
        { 24, huge_bits },      //  softmax scale
        { 24, nan_bits },
        { 24, 0 },
        { 28, huge_bits },      //  bias of label 0
        { 32, huge_bits },      //  weight scale of label 0
        { 36, 300 },            //  name length of label 0
        { 36, 0 },
        { 40, 0x01010101 },     //  control characters in the name
        { 40, 0xFFFFFFFF },     //  invalid UTF-8 in the name
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        s_write_patched (bad, data, size, cases[c].offset, cases[c].value);
        s_assert_refused (bad);
    }
    free (data);
    remove (good); remove (bad);
    free (good); free (bad);
}

static void test_any_bytes_are_accepted (void **state)
{
    (void) state;
    yx_textmodel_t *model = s_train (3);
    const char *hostile[] = {
        "\xff\xfe\xfd", "\x80\x80\x80\x80", "\xc0\xaf\xe0\x80\xaf", "\xed\xa0\x80",
        "\xf4\x90\x80\x80", "公交\xe5", "\xe5\x85", "\xf0\x9f\x98", "a\0b\0c",
    };
    yx_textpred_t top[3];
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        size_t len = strlen (hostile[i]) + (i == 8 ? 4 : 0);
        assert_int_equal (yx_textmodel_predict (model, hostile[i], len, top, 3), 3);
        assert_true (isfinite (top[0].prob) && top[0].prob > 0 && top[0].prob <= 1);
    }
    //  random bytes of every length up to 600, and a text far longer than the cap
    uint8_t buf[20000];
    uint32_t x = 99;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1664525u + 1013904223u;
        buf[i] = (uint8_t) (x >> 24);
    }
    for (size_t len = 0; len < 600; len++)
        assert_int_equal (yx_textmodel_predict (model, (const char *) buf, len, top, 1), 1);
    assert_int_equal (yx_textmodel_predict (model, (const char *) buf, sizeof buf, top, 3), 3);
    assert_int_equal (yx_textmodel_predict (model, NULL, 0, top, 3), 3);
    assert_int_equal (yx_textmodel_predict (model, "", 0, top, 3), 3);
    assert_int_equal (yx_textmodel_predict (NULL, "x", 1, top, 3), 0);
    yx_textmodel_destroy (&model);
}

static void test_normalisation (void **state)
{
    (void) state;
    uint32_t out[32];
    //  full-width letters and digits, upper case, punctuation runs, digit runs
    const char *text = "ＡＢc１２３，。!!x 45\xff公";
    size_t n = yx_textmodel_codepoints (text, strlen (text), out, 32);
    const uint32_t want[] = { 'a', 'b', 'c', '0', ' ', 'x', ' ', '0', ' ', 0x516C };
    assert_int_equal (n, sizeof want / sizeof want[0]);
    assert_memory_equal (out, want, sizeof want);
    assert_int_equal (yx_textmodel_codepoints (text, strlen (text), out, 2), 2);
    assert_int_equal (yx_textmodel_codepoints (NULL, 5, out, 32), 0);
}

static void test_features (void **state)
{
    (void) state;
    static yx_textfeat_t feats[YX_TEXTMODEL_MAX_FEATURES];
    size_t n = 0;
    //  "ab ab": unigrams a, b; bigram ab; n-grams may end on the separator
    assert_int_equal (yx_textmodel_features ("ab ab", 5, 12, feats, &n), 0);
    assert_true (n >= 3 && n <= 6);
    int repeated = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true (feats[i].bucket < 4096);
        for (size_t j = 0; j < i; j++)
            assert_true (feats[i].bucket != feats[j].bucket);
        if (feats[i].tf > 1.5f)
            repeated++;
    }
    assert_true (repeated >= 3);    //  a, b and ab occur twice: tf = 1 + ln 2
    //  the cap: a text far beyond YX_TEXTMODEL_MAX_CHARS fits the buffer
    char *big = (char *) malloc (3 * 10000);
    assert_non_null (big);
    for (int i = 0; i < 10000; i++)
        memcpy (big + 3 * i, i % 2 ? "\xe5\x85\xac" : "\xe4\xba\xa4", 3);
    assert_int_equal (yx_textmodel_features (big, 3 * 10000, 19, feats, &n), 0);
    assert_true (n > 0 && n <= YX_TEXTMODEL_MAX_FEATURES);
    free (big);
    assert_int_equal (yx_textmodel_features ("x", 1, 30, feats, &n), -1);
    assert_float_equal (yx_textmodel_idf (0, 15), logf (16.0f) + 1.0f, 1.0 / 32);
    assert_float_equal (yx_textmodel_idf (15, 15), 1.0f, 1e-6);
}

static void test_new_rejects_bad_weights (void **state)
{
    (void) state;
    char err[256] = "";
    size_t buckets = 1 << 10;
    float *weights = (float *) calloc (3 * buckets, sizeof (float));
    float *idf = (float *) calloc (buckets, sizeof (float));
    float bias[3] = { 0.5f, -0.5f, 0 };
    assert_non_null (weights);
    assert_non_null (idf);
    for (size_t b = 0; b < buckets; b++)
        idf[b] = 2.0f;
    weights[7] = 1.0f;
    yx_textmodel_t *model = yx_textmodel_new (3, 10, s_names, weights, bias, idf, err, sizeof err);
    assert_non_null (model);
    yx_textmodel_destroy (&model);
    weights[9] = NAN;
    assert_null (yx_textmodel_new (3, 10, s_names, weights, bias, idf, err, sizeof err));
    weights[9] = 0;
    idf[3] = -1.0f;
    assert_null (yx_textmodel_new (3, 10, s_names, weights, bias, idf, err, sizeof err));
    idf[3] = 2.0f;
    bias[1] = INFINITY;
    assert_null (yx_textmodel_new (3, 10, s_names, weights, bias, idf, err, sizeof err));
    assert_null (yx_textmodel_new (3, 9, s_names, weights, bias, idf, err, sizeof err));
    assert_true (strlen (err) > 0);
    free (weights);
    free (idf);
}

static void test_training_rejects_bad_arguments (void **state)
{
    (void) state;
    char err[256] = "";
    size_t lens[S_NLINES];
    int labels[S_NLINES];
    trainer_params_t params;
    trainer_params_default (&params);
    for (size_t i = 0; i < S_NLINES; i++) {
        lens[i] = strlen (s_lines[i]);
        labels[i] = s_labels[i];
    }
    labels[5] = 3;
    assert_null (trainer_train (s_lines, lens, labels, S_NLINES, s_names, 3, &params,
                                err, sizeof err));
    assert_true (strlen (err) > 0);
    assert_null (trainer_train (s_lines, lens, s_labels, S_NLINES, s_names, 1, &params,
                                err, sizeof err));
    params.bits = 40;
    assert_null (trainer_train (s_lines, lens, s_labels, S_NLINES, s_names, 3, &params,
                                err, sizeof err));
    const char *bad_names[] = { "交通运输", "tab\tname", "教育文体" };
    trainer_params_default (&params);
    assert_null (trainer_train (s_lines, lens, s_labels, S_NLINES, bad_names, 3, &params,
                                err, sizeof err));
}

static void test_scale_sharpens_probabilities (void **state)
{
    (void) state;
    yx_textmodel_t *model = s_train (5);
    const char *text = "学校收费";
    yx_textpred_t soft, sharp;
    yx_textmodel_set_scale (model, 1.0f);
    yx_textmodel_predict (model, text, strlen (text), &soft, 1);
    yx_textmodel_set_scale (model, 10.0f);
    yx_textmodel_predict (model, text, strlen (text), &sharp, 1);
    yx_textmodel_set_scale (model, -1.0f);     //  ignored
    assert_int_equal (soft.label, sharp.label);
    assert_true (sharp.prob > soft.prob);
    yx_textmodel_destroy (&model);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_train_save_load_predict),
        cmocka_unit_test (test_training_is_deterministic),
        cmocka_unit_test (test_bad_files_are_refused),
        cmocka_unit_test (test_bad_fields_are_refused),
        cmocka_unit_test (test_any_bytes_are_accepted),
        cmocka_unit_test (test_normalisation),
        cmocka_unit_test (test_features),
        cmocka_unit_test (test_new_rejects_bad_weights),
        cmocka_unit_test (test_training_rejects_bad_arguments),
        cmocka_unit_test (test_scale_sharpens_probabilities),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
