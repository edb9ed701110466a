/*  =========================================================================
    workcal.h - working calendar: deadlines in working time or wall-clock time

    A calendar has a fixed UTC offset, 1 to 4 daily working spans, a set of
    weekend ISO weekdays, holidays (dates off) and make-up workdays (调休).
    A date is a working day when it is neither weekend nor holiday, or when
    it is a make-up workday. Times are Unix epoch milliseconds (UTC) in
    [1970-01-01, 10000-01-01). The rules are written down in docs/calendar.md.
    =========================================================================
*/

#ifndef YX_WORKCAL_H_INCLUDED
#define YX_WORKCAL_H_INCLUDED

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Opaque working calendar
typedef struct yx_workcal yx_workcal_t;

//  A time limit such as "30m", "4h" or "15d" ("90s": seconds, for drills and tests)
typedef struct {
    int64_t amount;             //  Positive count of units, bounded per unit
    char unit;                  //  's' seconds, 'm' minutes, 'h' hours, 'd' days
} yx_duration_t;

//  Largest accepted amount for each unit
#define YX_DURATION_MAX_SECONDS 100000
#define YX_DURATION_MAX_MINUTES 100000
#define YX_DURATION_MAX_HOURS   1000
#define YX_DURATION_MAX_DAYS    365

//  Create a calendar with the given UTC offset in minutes (-840..840), no
//  working spans, Saturday and Sunday as weekend, no holidays and no
//  make-up workdays. Returns NULL on a bad offset or out of memory.
yx_workcal_t *
    yx_workcal_new (int utc_offset_minutes);

//  Destroy a calendar and set the caller's pointer to NULL. Safe on NULL.
void
    yx_workcal_destroy (yx_workcal_t **self_p);

//  Add a daily working span [start_minute, end_minute), in minutes from
//  local midnight (0 <= start < end <= 1440). Spans must be added in
//  increasing order without overlap (touching is allowed), at most 4.
//  Returns 0, or -1 if the span is invalid.
int
    yx_workcal_add_span (yx_workcal_t *self, int start_minute, int end_minute);

//  Replace the weekend with the n ISO weekdays given (1 = Monday ..
//  7 = Sunday); n = 0 means no weekend. Returns 0, or -1 (calendar
//  unchanged) if n or a weekday is out of range.
int
    yx_workcal_set_weekend (yx_workcal_t *self, const int *iso_weekdays, int n);

//  Mark a date "YYYY-MM-DD" (1970..9999) as a holiday. Adding a date twice
//  is harmless. Returns 0, or -1 on a malformed or impossible date.
int
    yx_workcal_add_holiday (yx_workcal_t *self, const char *yyyy_mm_dd);

//  Mark a date "YYYY-MM-DD" as a make-up workday: a working day even if it
//  is a weekend day or a holiday. Returns 0, or -1 on a bad date.
int
    yx_workcal_add_workday (yx_workcal_t *self, const char *yyyy_mm_dd);

//  Parse "<N>m", "<N>h" or "<N>d": N a decimal integer without sign or
//  leading zero, 1..YX_DURATION_MAX_*. Returns 0, or -1 (out untouched).
int
    yx_duration_parse (const char *text, yx_duration_t *out);

//  Deadline = start + d on this calendar, or on the wall clock when
//  emergency is true. Minutes and hours count working time only, starting
//  at the next working moment; N days end at close of business of the
//  N-th working day after the start's local date. Returns -1 on a bad
//  argument, a calendar without working time within 366 days, or a result
//  beyond year 9999.
int64_t
    yx_workcal_deadline (const yx_workcal_t *self, int64_t start_ms,
                         yx_duration_t d, bool emergency);

//  Working time, in milliseconds, inside [from_ms, to_ms); 0 when to_ms <=
//  from_ms. Returns -1 on a bad argument.
int64_t
    yx_workcal_working_ms_between (const yx_workcal_t *self, int64_t from_ms,
                                   int64_t to_ms);

//  True if at_ms falls inside a working span of a working day. Spans are
//  half-open: the opening minute is working time, the closing one is not.
bool
    yx_workcal_is_working_time (const yx_workcal_t *self, int64_t at_ms);

//  Build a calendar from a libconfig `calendar` group (docs/configuration.md,
//  docs/calendar.md). Returns NULL on a bad setting, with "FILE:LINE:
//  calendar.KEY: what is wrong" in err (if err is not NULL).
yx_workcal_t *
    yx_workcal_from_config (const config_setting_t *calendar, char *err,
                            size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
