/*  corpus.h - labelled message TSV files for yx-train (private to the tool).

    A corpus file is UTF-8, tab-separated, with a header line "id label title text"
    and one row per line. Rows whose title equals their text (titles.tsv) are
    "title rows"; the others are messages whose title may be empty.
*/
#ifndef YX_TRAIN_CORPUS_H_INCLUDED
#define YX_TRAIN_CORPUS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct {
    char *line;             /* owned copy of the line; the fields below point into it */
    const char *id;         /* first column */
    const char *label;      /* second column, never empty */
    const char *title;      /* third column, may be empty */
    const char *text;       /* fourth column */
} corpus_row_t;

typedef struct {
    corpus_row_t *rows;     /* rows in file order */
    size_t n;               /* number of rows */
    size_t cap;             /* allocated rows */
} corpus_t;

/* Creates an empty corpus; NULL when out of memory. */
corpus_t *corpus_new (void);

/* Frees the corpus and sets *self_p = NULL. */
void corpus_destroy (corpus_t **self_p);

/* Appends the rows of the TSV file at path. Returns 0, or -1 with err set on an
   unreadable file, a wrong header or a row without 4 fields or without label. */
int corpus_load (corpus_t *self, const char *path, char *err, size_t errlen);

/* True when the row only repeats its title (a titles.tsv row). */
bool corpus_is_title_row (const corpus_row_t *row);

/* Returns the classifier input of a row in a new string: "title text" for a
   message with a title, else the text. *len receives its length; NULL when out
   of memory. */
char *corpus_input (const corpus_row_t *row, size_t *len);

/* Writes the header line to file. */
void corpus_write_header (FILE *file);

/* Writes one row as a TSV line to file. */
void corpus_write_row (FILE *file, const corpus_row_t *row);

/* Gives every row a group number in group[0..n-1] so that near-duplicates share
   a group: rows whose texts start with the same 40 characters, a message and the
   title row whose text starts like the message's title, and, when link > 0, a
   title row and the message containing the largest share of the title's distinct
   character bigrams if that share is at least link. Sets *ngroups to the number
   of groups (numbers are 0..*ngroups-1). Returns 0, or -1 when out of memory. */
int corpus_groups (const corpus_t *self, double link, size_t *group, size_t *ngroups);

#endif
