/* csv.c — RFC 4180 records. */
#include "csv.h"

int
yx_csv_open_quote (const char *text, size_t len)
{
    int inq = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '"')
            inq = !inq;
    return inq;
}

int
yx_csv_split (const char *text, size_t len, char *buf, size_t buflen, char **fields, int max)
{
    size_t o = 0;
    int n = 0;
    size_t i = 0;
    if (buflen == 0 || max < 1)
        return -1;
    for (;;) {
        if (n >= max)
            return -1;
        fields[n++] = buf + o;
        if (i < len && text[i] == '"') {
            i++;
            for (;;) {
                if (i >= len)
                    return -1;               /* unterminated quote */
                if (text[i] == '"') {
                    if (i + 1 < len && text[i + 1] == '"') {
                        if (o + 1 >= buflen)
                            return -1;
                        buf[o++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (o + 1 >= buflen)
                    return -1;
                buf[o++] = text[i++];
            }
            if (i < len && text[i] != ',')
                return -1;                   /* text after the closing quote */
        }
        else
            while (i < len && text[i] != ',') {
                if (text[i] == '"' || o + 1 >= buflen)
                    return -1;
                buf[o++] = text[i++];
            }
        if (o + 1 >= buflen)
            return -1;
        buf[o++] = 0;
        if (i >= len)
            return n;
        i++;                                 /* the comma */
    }
}
