/* util.c — clocks, time formats, ids, UTF-8 checks and address literals. */
#include "util.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t
yx_now_ms (void)
{
    static int64_t offset = -1;
    if (offset < 0) {
        const char *o = getenv ("YX_CLOCK_OFFSET_MS");
        offset = o ? atoll (o) : 0;
        if (offset < 0)
            offset = 0;
    }
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + offset;
}

int64_t
yx_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
yx_time_format (int64_t ms, int offset_min, char *buf, size_t n)
{
    time_t secs = (time_t) ((ms - ((ms % 1000) + 1000) % 1000) / 1000) + (time_t) offset_min * 60;
    int msec = (int) (((ms % 1000) + 1000) % 1000);
    struct tm tm;
    gmtime_r (&secs, &tm);
    int off = offset_min < 0 ? -offset_min : offset_min;
    snprintf (buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02d:%02d", tm.tm_year + 1900,
              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, msec,
              offset_min < 0 ? '-' : '+', off / 60, off % 60);
    return buf;
}

/* Reads exactly n digits. -1 if not digits. */
static int
s_digits (const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

int
yx_time_parse (const char *text, int64_t *ms)
{
    const char *p = text;
    int Y = s_digits (&p, 4);
    if (Y < 0 || *p++ != '-')
        return -1;
    int M = s_digits (&p, 2);
    if (M < 1 || M > 12 || *p++ != '-')
        return -1;
    int D = s_digits (&p, 2);
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (D < 1 || D > mdays[M - 1] || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (M == 2 && D == 29 && !leap)
        return -1;
    p++;
    int h = s_digits (&p, 2);
    if (h < 0 || h > 23 || *p++ != ':')
        return -1;
    int m = s_digits (&p, 2);
    if (m < 0 || m > 59 || *p++ != ':')
        return -1;
    int s = s_digits (&p, 2);
    if (s < 0 || s > 60)
        return -1;
    int frac = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (digits < 3)
                frac = frac * 10 + (*p - '0');
            digits++, p++;
        }
        if (digits == 0)
            return -1;
        for (; digits < 3; digits++)
            frac *= 10;
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z')
        p++;
    else
    if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        int oh = s_digits (&p, 2);
        if (oh < 0 || oh > 23 || *p++ != ':')
            return -1;
        int om = s_digits (&p, 2);
        if (om < 0 || om > 59)
            return -1;
        off = sign * (oh * 60 + om);
    }
    else
        return -1;
    if (*p)
        return -1;
    /* days from civil (Howard Hinnant's algorithm) */
    int y = Y - (M <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned) (y - era * 400);
    unsigned doy = (unsigned) ((153 * (M + (M > 2 ? -3 : 9)) + 2) / 5 + D - 1);
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t) era * 146097 + (int64_t) doe - 719468;
    int64_t secs = days * 86400 + h * 3600 + m * 60 + (s > 59 ? 59 : s) - (int64_t) off * 60;
    *ms = secs * 1000 + frac;
    return 0;
}

char *
yx_random_id (char *buf, size_t n)
{
    unsigned char raw[16];
    randombytes_buf (raw, sizeof raw);
    if (n >= 33)
        sodium_bin2hex (buf, n, raw, sizeof raw);
    else
    if (n)
        buf[0] = 0;
    return buf;
}

bool
yx_utf8_valid (const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        int n;
        unsigned cp;
        if ((c & 0xe0) == 0xc0)
            n = 1, cp = c & 0x1f;
        else
        if ((c & 0xf0) == 0xe0)
            n = 2, cp = c & 0x0f;
        else
        if ((c & 0xf8) == 0xf0)
            n = 3, cp = c & 0x07;
        else
            return false;
        if (end - p <= n)
            return false;
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        static const unsigned min[] = { 0, 0x80, 0x800, 0x10000 };
        if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += n + 1;
    }
    return true;
}

size_t
yx_utf8_chars (const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char) s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

int
yx_case_id_district (const char *id, char district[8])
{
    if (strlen (id) != 22 || id[6] != '-' || id[15] != '-')
        return -1;
    for (int i = 0; i < 22; i++)
        if (i != 6 && i != 15 && (id[i] < '0' || id[i] > '9'))
            return -1;
    memcpy (district, id, 6);
    district[6] = 0;
    return 0;
}

int
yx_ip_parse (const char *s, size_t len, uint8_t out[16])
{
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    char buf[INET6_ADDRSTRLEN];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy (buf, s, len);
    buf[len] = '\0';
    struct in_addr v4;
    if (inet_pton (AF_INET, buf, &v4) == 1) {
        yx_ip_mapped_v4 (&v4, out);
        return 0;
    }
    return inet_pton (AF_INET6, buf, out) == 1 ? 0 : -1;
}

void
yx_ip_mapped_v4 (const void *v4, uint8_t out[16])
{
    memset (out, 0, 10);
    out[10] = out[11] = 0xff;
    memcpy (out + 12, v4, 4);
}
