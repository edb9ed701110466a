/* util.h — small things every service needs: clocks, ids, time formats, UTF-8. */
#ifndef YX_UTIL_H
#define YX_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wall clock in Unix milliseconds; honours YX_CLOCK_OFFSET_MS for tests that need
 * a chosen time of day (the offset is added). */
int64_t yx_now_ms (void);
/* Monotonic milliseconds for intervals. */
int64_t yx_mono_ms (void);

/* RFC 3339 with the given UTC offset in minutes, millisecond precision:
 * 2026-11-23T08:00:00.000+08:00. buf needs 32 bytes. Returns buf. */
char *yx_time_format (int64_t ms, int offset_min, char *buf, size_t n);
/* Parses RFC 3339 (offset or Z required). 0/-1. */
int yx_time_parse (const char *text, int64_t *ms);

/* 32 hex characters of randomness (event, delivery and action ids). buf >= 33. */
char *yx_random_id (char *buf, size_t n);

/* True when the bytes are valid UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF). */
bool yx_utf8_valid (const char *s, size_t len);
/* Number of code points in valid UTF-8. */
size_t yx_utf8_chars (const char *s, size_t len);

/* Parses an IPv4 or IPv6 address literal (the first len bytes of s, surrounding spaces
 * ignored) into 16 bytes, IPv4 as the mapped address ::ffff:a.b.c.d. 0/-1. */
int yx_ip_parse (const char *s, size_t len, uint8_t out[16]);
/* The 16-byte form of an IPv4 address (4 bytes, network order): ::ffff:a.b.c.d. */
void yx_ip_mapped_v4 (const void *v4, uint8_t out[16]);

/* Case ids: "DDDDDD-YYYYMMDD-NNNNNN". Checks the shape and copies the district. 0/-1. */
int yx_case_id_district (const char *id, char district[8]);

#endif
