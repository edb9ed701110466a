/*  groups.c - near-duplicate groups of a corpus, for honest validation splits.

    Rows are nodes of a union-find forest. Rows are joined when their texts share
    the first 40 characters; a message is joined to the title rows that share the
    start of its title; and a title row is joined to the message that contains the
    largest share of its distinct character bigrams (an inverted index over message
    bigrams finds it), because titles.tsv repeats the titles of many messages whose
    title column is empty. A validation split that keeps whole groups on one side
    never scores a message whose own title was trained on.
*/
#include "corpus.h"
#include "../common/textmodel.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_PREFIX_CHARS 40
#define S_BIGRAM_BITS 20
#define S_MIN_BIGRAMS 3

/* Inverted index from bigram buckets to the messages containing them. */
typedef struct {
    int32_t *head;          /* per bucket: first posting, -1 when none */
    int32_t *next;          /* per posting: next posting of the same bucket */
    uint32_t *doc;          /* per posting: row index */
    size_t n;               /* postings used */
    size_t cap;             /* postings allocated */
    uint32_t *stamp;        /* per bucket: last row that visited it, for deduplication */
    uint32_t *cps;          /* code point buffer */
    size_t cps_cap;         /* code points allocated */
} s_index_t;

/* Returns the root of x, halving the path on the way. */
static size_t s_find (size_t *parent, size_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* Joins the sets of a and b; the smaller root wins, so results do not depend on order. */
static void s_union (size_t *parent, size_t a, size_t b)
{
    a = s_find (parent, a);
    b = s_find (parent, b);
    if (a < b)
        parent[b] = a;
    else if (b < a)
        parent[a] = b;
}

/* FNV-1a 64 of the bytes of the first S_PREFIX_CHARS UTF-8 characters of s. */
static uint64_t s_prefix_key (const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    int chars = 0;
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if ((*p & 0xC0) != 0x80 && ++chars > S_PREFIX_CHARS)
            break;
        h = (h ^ *p) * 1099511628211ULL;
    }
    return h;
}

/* Node number of key in an open-addressing table of mask+1 slots, adding it when new. */
static size_t s_node (uint64_t key, uint64_t *keys, size_t *nodes, size_t mask, size_t *count)
{
    size_t slot = (size_t) ((key * 0x9E3779B97F4A7C15ULL) >> 20) & mask;
    while (nodes[slot] != SIZE_MAX && keys[slot] != key)
        slot = (slot + 1) & mask;
    if (nodes[slot] == SIZE_MAX) {
        keys[slot] = key;
        nodes[slot] = (*count)++;
    }
    return nodes[slot];
}

/* Calls back with each distinct bigram bucket of text (first visit per row only). */
static int s_bigrams (s_index_t *ix, const char *text, uint32_t row,
                      int (*fn) (s_index_t *ix, uint32_t bucket, uint32_t row, void *arg), void *arg)
{
    size_t len = strlen (text);
    if (len > ix->cps_cap) {
        uint32_t *cps = (uint32_t *) realloc (ix->cps, len * sizeof (uint32_t));
        if (!cps)
            return -1;
        ix->cps = cps;
        ix->cps_cap = len;
    }
    size_t n = yx_textmodel_codepoints (text, len, ix->cps, len);
    for (size_t i = 0; i + 1 < n; i++) {
        if (ix->cps[i] == ' ' || ix->cps[i + 1] == ' ')
            continue;
        uint64_t h = ((uint64_t) ix->cps[i] << 32 | ix->cps[i + 1]) * 0x9E3779B97F4A7C15ULL;
        uint32_t bucket = (uint32_t) (h >> (64 - S_BIGRAM_BITS));
        if (ix->stamp[bucket] == row + 1)
            continue;
        ix->stamp[bucket] = row + 1;
        if (fn (ix, bucket, row, arg) != 0)
            return -1;
    }
    return 0;
}

/* s_bigrams callback: adds a posting of row under bucket. */
static int s_post (s_index_t *ix, uint32_t bucket, uint32_t row, void *arg)
{
    (void) arg;
    if (ix->n == ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 1 << 20;
        int32_t *next = (int32_t *) realloc (ix->next, cap * sizeof (int32_t));
        if (next)
            ix->next = next;
        uint32_t *doc = (uint32_t *) realloc (ix->doc, cap * sizeof (uint32_t));
        if (doc)
            ix->doc = doc;
        if (!next || !doc || cap > INT32_MAX)
            return -1;
        ix->cap = cap;
    }
    ix->next[ix->n] = ix->head[bucket];
    ix->doc[ix->n] = row;
    ix->head[bucket] = (int32_t) ix->n++;
    return 0;
}

/* Hit counting state of one title row. */
typedef struct {
    uint32_t *hits;         /* per row: bigrams of the title found in it */
    uint32_t *touched;      /* rows with hits > 0 */
    size_t ntouched;        /* entries in touched */
    size_t nbigrams;        /* distinct bigrams of the title */
} s_hits_t;

/* s_bigrams callback: counts the title bigram in every message that has it. */
static int s_count (s_index_t *ix, uint32_t bucket, uint32_t row, void *arg)
{
    s_hits_t *st = (s_hits_t *) arg;
    (void) row;
    st->nbigrams++;
    for (int32_t p = ix->head[bucket]; p >= 0; p = ix->next[p])
        if (st->hits[ix->doc[p]]++ == 0)
            st->touched[st->ntouched++] = ix->doc[p];
    return 0;
}

/* Joins every title row to its best-matching message (see corpus_groups). */
static int s_link_titles (const corpus_t *self, double link, const size_t *node, size_t *parent)
{
    s_index_t ix = { 0 };
    s_hits_t st = { 0 };
    int rc = -1;
    ix.head = (int32_t *) malloc (((size_t) 1 << S_BIGRAM_BITS) * sizeof (int32_t));
    ix.stamp = (uint32_t *) calloc ((size_t) 1 << S_BIGRAM_BITS, sizeof (uint32_t));
    st.hits = (uint32_t *) calloc (self->n, sizeof (uint32_t));
    st.touched = (uint32_t *) malloc (self->n * sizeof (uint32_t));
    if (!ix.head || !ix.stamp || !st.hits || !st.touched)
        goto done;
    memset (ix.head, 0xFF, ((size_t) 1 << S_BIGRAM_BITS) * sizeof (int32_t));
    for (size_t i = 0; i < self->n; i++)
        if (!corpus_is_title_row (&self->rows[i])
            && s_bigrams (&ix, self->rows[i].text, (uint32_t) i, s_post, NULL) != 0)
            goto done;
    for (size_t i = 0; i < self->n; i++) {
        if (!corpus_is_title_row (&self->rows[i]))
            continue;
        st.ntouched = st.nbigrams = 0;
        if (s_bigrams (&ix, self->rows[i].text, (uint32_t) i, s_count, &st) != 0)
            goto done;
        size_t best = SIZE_MAX;
        uint32_t best_hits = 0;
        for (size_t t = 0; t < st.ntouched; t++) {
            uint32_t r = st.touched[t];
            if (st.hits[r] > best_hits || (st.hits[r] == best_hits && r < best)) {
                best_hits = st.hits[r];
                best = r;
            }
            st.hits[r] = 0;
        }
        if (st.nbigrams >= S_MIN_BIGRAMS && best_hits >= link * (double) st.nbigrams)
            s_union (parent, node[i], node[best]);
    }
    rc = 0;
done:
    free (ix.head); free (ix.next); free (ix.doc); free (ix.stamp); free (ix.cps);
    free (st.hits); free (st.touched);
    return rc;
}

int corpus_groups (const corpus_t *self, double link, size_t *group, size_t *ngroups)
{
    size_t slots = 64, count = 0;
    while (slots < 4 * self->n)
        slots <<= 1;
    uint64_t *keys = (uint64_t *) malloc (slots * sizeof (uint64_t));
    size_t *nodes = (size_t *) malloc (slots * sizeof (size_t));
    size_t *node = (size_t *) malloc ((self->n + 1) * sizeof (size_t));
    size_t *parent = (size_t *) malloc ((2 * self->n + 1) * sizeof (size_t));
    size_t *number = (size_t *) malloc ((2 * self->n + 1) * sizeof (size_t));
    int rc = -1;
    if (!keys || !nodes || !node || !parent || !number)
        goto done;
    memset (nodes, 0xFF, slots * sizeof (size_t));
    for (size_t i = 0; i < 2 * self->n; i++) {
        parent[i] = i;
        number[i] = SIZE_MAX;
    }
    for (size_t i = 0; i < self->n; i++) {
        const corpus_row_t *row = &self->rows[i];
        node[i] = s_node (s_prefix_key (row->text), keys, nodes, slots - 1, &count);
        if (row->title[0] && !corpus_is_title_row (row))
            s_union (parent, node[i],
                     s_node (s_prefix_key (row->title), keys, nodes, slots - 1, &count));
    }
    if (link > 0 && s_link_titles (self, link, node, parent) != 0)
        goto done;
    *ngroups = 0;
    for (size_t i = 0; i < self->n; i++) {
        size_t root = s_find (parent, node[i]);
        if (number[root] == SIZE_MAX)
            number[root] = (*ngroups)++;
        group[i] = number[root];
    }
    rc = 0;
done:
    free (keys); free (nodes); free (node); free (parent); free (number);
    return rc;
}
