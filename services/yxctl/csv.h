/* csv.h — an RFC 4180 record splitter (quotes, doubled quotes, commas and newlines
 * inside quotes). Pure: no I/O, no allocation beyond the caller's buffer. */
#ifndef YX_CSV_H
#define YX_CSV_H

#include <stddef.h>

/* Splits one record (text without its final line break) into at most max fields,
 * unquoting in place into buf (size buflen). fields[i] point into buf. Returns the
 * number of fields, or -1 on an unterminated quote, text after a closing quote, or
 * a record longer than buf. */
int yx_csv_split (const char *text, size_t len, char *buf, size_t buflen, char **fields, int max);

/* True when text ends inside a quoted field (the record continues on the next line). */
int yx_csv_open_quote (const char *text, size_t len);

#endif
