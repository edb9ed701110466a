/*  corpus.c - reading and writing labelled message TSV files.

    Field texts are never printed: errors name the file and line number only.
*/
#include "corpus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define S_HEADER "id\tlabel\ttitle\ttext"

corpus_t *corpus_new (void)
{
    return (corpus_t *) calloc (1, sizeof (corpus_t));
}

void corpus_destroy (corpus_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    corpus_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++)
        free (self->rows[i].line);
    free (self->rows);
    free (self);
    *self_p = NULL;
}

/* Splits line (already without its newline) into the 4 fields of row, which
   takes ownership of line. Returns 0, or -1 when the line is malformed. */
static int s_split (char *line, corpus_row_t *row)
{
    char *field[4];
    char *p = line;
    for (int i = 0; i < 4; i++) {
        field[i] = p;
        p = strchr (p, '\t');
        if ((i < 3 && !p) || (i == 3 && p))
            return -1;
        if (p)
            *p++ = '\0';
    }
    if (field[1][0] == '\0')
        return -1;
    row->line = line;
    row->id = field[0];
    row->label = field[1];
    row->title = field[2];
    row->text = field[3];
    return 0;
}

int corpus_load (corpus_t *self, const char *path, char *err, size_t errlen)
{
    FILE *file = fopen (path, "r");
    char *line = NULL;
    size_t size = 0, lineno = 0;
    ssize_t got;
    int rc = 0;
    if (!file) {
        snprintf (err, errlen, "%s: %s", path, strerror (errno));
        return -1;
    }
    while (rc == 0 && (got = getline (&line, &size, file)) >= 0) {
        lineno++;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        if (lineno == 1) {
            if (strcmp (line, S_HEADER) != 0) {
                snprintf (err, errlen, "%s: header must be: id, label, title, text", path);
                rc = -1;
            }
            continue;
        }
        if (got == 0)
            continue;
        if (self->n == self->cap) {
            size_t cap = self->cap ? self->cap * 2 : 1024;
            corpus_row_t *rows = (corpus_row_t *) realloc (self->rows, cap * sizeof *rows);
            if (!rows) {
                snprintf (err, errlen, "out of memory");
                rc = -1;
                break;
            }
            self->rows = rows;
            self->cap = cap;
        }
        char *copy = strdup (line);
        if (!copy || s_split (copy, &self->rows[self->n]) != 0) {
            snprintf (err, errlen, "%s:%zu: %s", path, lineno,
                      copy ? "need 4 tab-separated fields and a label" : "out of memory");
            free (copy);
            rc = -1;
            break;
        }
        self->n++;
    }
    if (rc == 0 && lineno == 0) {
        snprintf (err, errlen, "%s: empty file", path);
        rc = -1;
    }
    free (line);
    fclose (file);
    return rc;
}

bool corpus_is_title_row (const corpus_row_t *row)
{
    return strcmp (row->title, row->text) == 0;
}

char *corpus_input (const corpus_row_t *row, size_t *len)
{
    size_t tl = corpus_is_title_row (row) ? 0 : strlen (row->title);
    size_t xl = strlen (row->text);
    char *input = (char *) malloc (tl + 1 + xl + 1);
    if (!input)
        return NULL;
    *len = 0;
    if (tl > 0) {
        memcpy (input, row->title, tl);
        input[tl] = ' ';
        *len = tl + 1;
    }
    memcpy (input + *len, row->text, xl + 1);
    *len += xl;
    return input;
}

void corpus_write_header (FILE *file)
{
    fprintf (file, "%s\n", S_HEADER);
}

void corpus_write_row (FILE *file, const corpus_row_t *row)
{
    fprintf (file, "%s\t%s\t%s\t%s\n", row->id, row->label, row->title, row->text);
}
