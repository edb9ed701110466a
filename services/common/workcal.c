/*  workcal.c - working calendar: deadlines in working time or wall-clock time.
    Instants become a local "day number" (days since 1970-01-01, local time)
    and a position in ms from local midnight. Deadlines walk one day at a
    time and give up after MAX_GAP_DAYS days without a working day. The
    rules are in docs/calendar.md. */

#include "workcal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS       INT64_C (60000)
#define DAY_MS          INT64_C (86400000)
#define MAX_SPANS       4
#define MAX_OFFSET      840                 //  +/-14:00, in minutes
#define MAX_GAP_DAYS    366                 //  Longest run of days off we accept
#define MIN_YEAR        1970
#define MAX_YEAR        9999
#define END_DAY         INT64_C (2932897)   //  10000-01-01 as a day number
#define END_MS          (END_DAY * DAY_MS)  //  First instant we do not handle

//  A sorted set of day numbers
typedef struct {
    int32_t *days;              //  Distinct day numbers, increasing
    size_t size;                //  Number of days in use
    size_t capacity;            //  Number of days allocated
} dayset_t;

struct yx_workcal {
    int64_t offset_ms;                  //  Local time minus UTC, in ms
    int64_t span_start [MAX_SPANS];     //  Span openings, ms after local midnight
    int64_t span_end [MAX_SPANS];       //  Span closings (exclusive), same unit
    int nspans;                         //  Number of spans in use
    unsigned weekend;                   //  Bit 1 << d set when ISO weekday d is off
    dayset_t holidays;                  //  Dates off
    dayset_t workdays;                  //  Make-up workdays, they beat weekend and holidays
};

//  --------------------------------------------------------------------------
//  Date arithmetic (proleptic Gregorian calendar)

static int64_t
s_floor_div (int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

//  Day number (days since 1970-01-01) of a valid date with year >= 0
//  (H. Hinnant's days_from_civil).
static int64_t
s_days_from_civil (int year, int month, int day)
{
    year -= month <= 2;
    int era = year / 400;
    int yoe = year - era * 400;
    int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int64_t) era * 146097 + doe - 719468;
}

//  ISO weekday (1 = Monday .. 7 = Sunday) of a day number; day 0 was a
//  Thursday.
static int
s_iso_weekday (int64_t day)
{
    return (int) ((day % 7 + 7 + 3) % 7) + 1;
}

//  Value of exactly count decimal digits at text, or -1 if one is not a
//  digit. The caller guarantees text holds count characters.
static int
s_digits (const char *text, int count)
{
    int value = 0;
    for (int i = 0; i < count; i++) {
        if (text [i] < '0' || text [i] > '9')
            return -1;
        value = value * 10 + (text [i] - '0');
    }
    return value;
}

//  Parse a strict "YYYY-MM-DD" date between MIN_YEAR and MAX_YEAR into a
//  day number. Returns 0, or -1 on a malformed or impossible date.
static int
s_parse_date (const char *text, int32_t *day)
{
    static const int month_days [12] =
        { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (!text || strlen (text) != 10 || text [4] != '-' || text [7] != '-')
        return -1;
    int year = s_digits (text, 4);
    int month = s_digits (text + 5, 2);
    int mday = s_digits (text + 8, 2);
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12 || mday < 1
    ||  mday > month_days [month - 1] - (month == 2 && !leap))
        return -1;
    *day = (int32_t) s_days_from_civil (year, month, mday);
    return 0;
}

//  Parse "HH:MM" (00:00 .. 24:00) at text into minutes from midnight. The
//  caller guarantees 5 characters. Returns 0 or -1.
static int
s_parse_clock (const char *text, int *minute)
{
    int hours = s_digits (text, 2);
    int minutes = s_digits (text + 3, 2);
    if (text [2] != ':' || hours < 0 || minutes < 0 || minutes > 59
    ||  hours * 60 + minutes > 1440)
        return -1;
    *minute = hours * 60 + minutes;
    return 0;
}


//  --------------------------------------------------------------------------
//  Day sets

//  Index of the first element >= day.
static size_t
s_dayset_lower (const dayset_t *set, int64_t day)
{
    size_t low = 0, high = set->size;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (set->days [middle] < day)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

static bool
s_dayset_has (const dayset_t *set, int64_t day)
{
    size_t index = s_dayset_lower (set, day);
    return index < set->size && set->days [index] == day;
}

//  Insert a day, keeping the set sorted and distinct. Returns 0, or -1 out
//  of memory.
static int
s_dayset_insert (dayset_t *set, int32_t day)
{
    size_t index = s_dayset_lower (set, day);
    if (index < set->size && set->days [index] == day)
        return 0;
    if (set->size == set->capacity) {
        size_t capacity = set->capacity? set->capacity * 2: 32;
        int32_t *days = realloc (set->days, capacity * sizeof (int32_t));
        if (!days)
            return -1;
        set->days = days;
        set->capacity = capacity;
    }
    memmove (set->days + index + 1, set->days + index,
             (set->size - index) * sizeof (int32_t));
    set->days [index] = day;
    set->size++;
    return 0;
}

//  --------------------------------------------------------------------------
//  Calendar

yx_workcal_t *
yx_workcal_new (int utc_offset_minutes)
{
    if (utc_offset_minutes < -MAX_OFFSET || utc_offset_minutes > MAX_OFFSET)
        return NULL;
    yx_workcal_t *self = calloc (1, sizeof (yx_workcal_t));
    if (!self)
        return NULL;
    self->offset_ms = utc_offset_minutes * MINUTE_MS;
    self->weekend = 1u << 6 | 1u << 7;
    return self;
}

void
yx_workcal_destroy (yx_workcal_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yx_workcal_t *self = *self_p;
    free (self->holidays.days);
    free (self->workdays.days);
    free (self);
    *self_p = NULL;
}

int
yx_workcal_add_span (yx_workcal_t *self, int start_minute, int end_minute)
{
    if (!self || self->nspans == MAX_SPANS || start_minute < 0
    ||  end_minute > 1440 || start_minute >= end_minute)
        return -1;
    if (self->nspans > 0
    &&  start_minute * MINUTE_MS < self->span_end [self->nspans - 1])
        return -1;
    self->span_start [self->nspans] = start_minute * MINUTE_MS;
    self->span_end [self->nspans] = end_minute * MINUTE_MS;
    self->nspans++;
    return 0;
}

int
yx_workcal_set_weekend (yx_workcal_t *self, const int *iso_weekdays, int n)
{
    if (!self || n < 0 || n > 7 || (n > 0 && !iso_weekdays))
        return -1;
    unsigned weekend = 0;
    for (int i = 0; i < n; i++) {
        if (iso_weekdays [i] < 1 || iso_weekdays [i] > 7)
            return -1;
        weekend |= 1u << iso_weekdays [i];
    }
    self->weekend = weekend;
    return 0;
}

int
yx_workcal_add_holiday (yx_workcal_t *self, const char *yyyy_mm_dd)
{
    int32_t day;
    if (!self || s_parse_date (yyyy_mm_dd, &day))
        return -1;
    return s_dayset_insert (&self->holidays, day);
}

int
yx_workcal_add_workday (yx_workcal_t *self, const char *yyyy_mm_dd)
{
    int32_t day;
    if (!self || s_parse_date (yyyy_mm_dd, &day))
        return -1;
    return s_dayset_insert (&self->workdays, day);
}

//  A make-up workday always works; otherwise a day works unless it is a
//  weekend day or a holiday.
static bool
s_is_working_day (const yx_workcal_t *self, int64_t day)
{
    if (s_dayset_has (&self->workdays, day))
        return true;
    return !(self->weekend & (1u << s_iso_weekday (day)))
        && !s_dayset_has (&self->holidays, day);
}

//  First working day after day, or -1 if there is none within MAX_GAP_DAYS
//  days or before END_DAY.
static int64_t
s_next_working_day (const yx_workcal_t *self, int64_t day)
{
    for (int64_t next = day + 1; next <= day + MAX_GAP_DAYS; next++) {
        if (next >= END_DAY)
            return -1;
        if (s_is_working_day (self, next))
            return next;
    }
    return -1;
}

static bool
s_time_ok (int64_t ms)
{
    return ms >= 0 && ms < END_MS;
}

//  UTC instant of a local day and position, or -1 if out of range.
static int64_t
s_to_utc (const yx_workcal_t *self, int64_t day, int64_t position)
{
    int64_t ms = day * DAY_MS + position - self->offset_ms;
    return s_time_ok (ms)? ms: -1;
}

//  Milliseconds per unit of a duration, or 0 for an unknown unit.
static int64_t
s_unit_ms (char unit)
{
    return unit == 's'? 1000
         : unit == 'm'? MINUTE_MS
         : unit == 'h'? 60 * MINUTE_MS
         : unit == 'd'? DAY_MS: 0;
}

static bool
s_duration_ok (yx_duration_t d)
{
    int64_t limit = d.unit == 's'? YX_DURATION_MAX_SECONDS
                  : d.unit == 'm'? YX_DURATION_MAX_MINUTES
                  : d.unit == 'h'? YX_DURATION_MAX_HOURS
                  : d.unit == 'd'? YX_DURATION_MAX_DAYS: 0;
    return d.amount >= 1 && d.amount <= limit;
}

int
yx_duration_parse (const char *text, yx_duration_t *out)
{
    if (!text || !out || text [0] < '1' || text [0] > '9')
        return -1;
    yx_duration_t d = { 0, 0 };
    const char *cursor = text;
    //  The cap stops the sum long before int64_t could overflow
    while (*cursor >= '0' && *cursor <= '9' && d.amount <= YX_DURATION_MAX_MINUTES)
        d.amount = d.amount * 10 + (*cursor++ - '0');
    d.unit = *cursor;
    if (cursor [0] == '\0' || cursor [1] != '\0' || !s_duration_ok (d))
        return -1;
    *out = d;
    return 0;
}

//  Walk working time forward from a local day and position until remaining
//  milliseconds of it are used up. A deadline that uses up a span exactly
//  lands on that span's closing time. Returns the UTC instant or -1.
static int64_t
s_add_working_time (const yx_workcal_t *self, int64_t day, int64_t position,
                    int64_t remaining)
{
    if (!s_is_working_day (self, day))
        position = DAY_MS;              //  Nothing usable today
    while (true) {
        for (int i = 0; i < self->nspans; i++) {
            if (position >= self->span_end [i])
                continue;
            int64_t begin = position > self->span_start [i]?
                            position: self->span_start [i];
            int64_t available = self->span_end [i] - begin;
            if (remaining <= available)
                return s_to_utc (self, day, begin + remaining);
            remaining -= available;
            position = self->span_end [i];
        }
        day = s_next_working_day (self, day);
        if (day < 0)
            return -1;
        position = 0;
    }
}

int64_t
yx_workcal_deadline (const yx_workcal_t *self, int64_t start_ms,
                     yx_duration_t d, bool emergency)
{
    if (!self || !s_time_ok (start_ms) || !s_duration_ok (d))
        return -1;
    if (emergency) {
        int64_t ms = start_ms + d.amount * s_unit_ms (d.unit);
        return s_time_ok (ms)? ms: -1;
    }
    if (self->nspans == 0)
        return -1;
    int64_t local = start_ms + self->offset_ms;
    int64_t day = s_floor_div (local, DAY_MS);
    if (d.unit != 'd')
        return s_add_working_time (self, day, local - day * DAY_MS,
                                   d.amount * s_unit_ms (d.unit));
    //  The day of receipt never counts; close of business of the N-th
    //  working day after it
    for (int64_t counted = 0; counted < d.amount; counted++) {
        day = s_next_working_day (self, day);
        if (day < 0)
            return -1;
    }
    return s_to_utc (self, day, self->span_end [self->nspans - 1]);
}

int64_t
yx_workcal_working_ms_between (const yx_workcal_t *self, int64_t from_ms,
                               int64_t to_ms)
{
    if (!self || !s_time_ok (from_ms) || !s_time_ok (to_ms))
        return -1;
    if (to_ms <= from_ms)
        return 0;
    int64_t local_from = from_ms + self->offset_ms;
    int64_t local_to = to_ms + self->offset_ms;
    int64_t first = s_floor_div (local_from, DAY_MS);
    int64_t last = s_floor_div (local_to, DAY_MS);
    int64_t total = 0;
    for (int64_t day = first; day <= last; day++) {
        if (!s_is_working_day (self, day))
            continue;
        int64_t low = day == first? local_from - first * DAY_MS: 0;
        int64_t high = day == last? local_to - last * DAY_MS: DAY_MS;
        for (int i = 0; i < self->nspans; i++) {
            int64_t begin = low > self->span_start [i]? low: self->span_start [i];
            int64_t end = high < self->span_end [i]? high: self->span_end [i];
            if (end > begin)
                total += end - begin;
        }
    }
    return total;
}

bool
yx_workcal_is_working_time (const yx_workcal_t *self, int64_t at_ms)
{
    return s_time_ok (at_ms)
        && yx_workcal_working_ms_between (self, at_ms, at_ms + 1) == 1;
}

//  --------------------------------------------------------------------------
//  Configuration

//  Write "FILE:LINE: calendar.KEY[INDEX]: message" into err; index < 0
//  leaves out the brackets, an empty key the ".KEY". Always returns -1.
static int
s_fail (char *err, size_t errlen, const config_setting_t *at, const char *key,
        int index, const char *format, ...)
{
    if (!err || errlen == 0)
        return -1;
    char where [16] = "";
    if (index >= 0)
        snprintf (where, sizeof where, "[%d]", index);
    const char *file = config_setting_source_file (at);
    int used = snprintf (err, errlen, "%s:%u: calendar%s%s%s: ",
                         file? file: "?", config_setting_source_line (at),
                         *key? ".": "", key, where);
    if (used >= 0 && (size_t) used < errlen) {
        va_list args;
        va_start (args, format);
        vsnprintf (err + used, errlen - (size_t) used, format, args);
        va_end (args);
    }
    return -1;
}

static bool
s_is_sequence (const config_setting_t *setting)
{
    return config_setting_is_array (setting) || config_setting_is_list (setting);
}

//  Load work_hours: 1 to MAX_SPANS "HH:MM-HH:MM" strings in order.
static int
s_load_spans (yx_workcal_t *self, const config_setting_t *setting,
              char *err, size_t errlen)
{
    const char *key = "work_hours";
    int count = s_is_sequence (setting)? config_setting_length (setting): -1;
    if (count < 1 || count > MAX_SPANS)
        return s_fail (err, errlen, setting, key, -1,
                       "must be an array of 1 to %d \"HH:MM-HH:MM\" strings", MAX_SPANS);
    for (int i = 0; i < count; i++) {
        const config_setting_t *elem = config_setting_get_elem (setting, (unsigned) i);
        const char *text = config_setting_get_string (elem);
        int start, end;
        if (!text || strlen (text) != 11 || text [5] != '-'
        ||  s_parse_clock (text, &start) || s_parse_clock (text + 6, &end))
            return s_fail (err, errlen, elem, key, i, "must be a string \"HH:MM-HH:MM\"");
        if (start >= end)
            return s_fail (err, errlen, elem, key, i,
                           "\"%s\": end must be after start (a span cannot cross midnight)",
                           text);
        if (yx_workcal_add_span (self, start, end))
            return s_fail (err, errlen, elem, key, i,
                           "\"%s\": spans must be in increasing order and must not overlap",
                           text);
    }
    return 0;
}

//  Load weekend: distinct ISO weekdays 1..7, possibly none.
static int
s_load_weekend (yx_workcal_t *self, const config_setting_t *setting,
                char *err, size_t errlen)
{
    const char *key = "weekend";
    if (!s_is_sequence (setting))
        return s_fail (err, errlen, setting, key, -1,
                       "must be an array of ISO weekdays (1 = Monday .. 7 = Sunday)");
    unsigned weekend = 0;
    int count = config_setting_length (setting);
    for (int i = 0; i < count; i++) {
        const config_setting_t *elem = config_setting_get_elem (setting, (unsigned) i);
        int type = config_setting_type (elem);
        long long value = type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64?
                          config_setting_get_int64 (elem): 0;
        if (value < 1 || value > 7)
            return s_fail (err, errlen, elem, key, i,
                           "must be an ISO weekday, 1 = Monday .. 7 = Sunday");
        if (weekend & (1u << value))
            return s_fail (err, errlen, elem, key, i, "weekday %lld listed twice", value);
        weekend |= 1u << value;
    }
    self->weekend = weekend;
    return 0;
}

//  Load holidays or workdays: "YYYY-MM-DD" strings, added with add().
static int
s_load_dates (yx_workcal_t *self, const config_setting_t *setting,
              const char *key, int (*add) (yx_workcal_t *, const char *),
              char *err, size_t errlen)
{
    if (!s_is_sequence (setting))
        return s_fail (err, errlen, setting, key, -1,
                       "must be an array of \"YYYY-MM-DD\" dates");
    int count = config_setting_length (setting);
    for (int i = 0; i < count; i++) {
        const config_setting_t *elem = config_setting_get_elem (setting, (unsigned) i);
        const char *text = config_setting_get_string (elem);
        int32_t day;
        if (!text || s_parse_date (text, &day))
            return s_fail (err, errlen, elem, key, i,
                           "must be a real date \"YYYY-MM-DD\" (%d..%d)", MIN_YEAR, MAX_YEAR);
        if (add (self, text))
            return s_fail (err, errlen, elem, key, i, "out of memory");
    }
    return 0;
}

//  A date may not be both a holiday and a make-up workday.
static int
s_check_conflicts (const yx_workcal_t *self, const config_setting_t *workdays,
                   char *err, size_t errlen)
{
    int count = workdays? config_setting_length (workdays): 0;
    for (int i = 0; i < count; i++) {
        const config_setting_t *elem = config_setting_get_elem (workdays, (unsigned) i);
        int32_t day;
        if (s_parse_date (config_setting_get_string (elem), &day) == 0
        &&  s_dayset_has (&self->holidays, day))
            return s_fail (err, errlen, elem, "workdays", i,
                           "\"%s\" is also listed in calendar.holidays",
                           config_setting_get_string (elem));
    }
    return 0;
}

//  Apply every member of the group but utc_offset; reject unknown keys.
static int
s_load_members (yx_workcal_t *self, const config_setting_t *calendar,
                char *err, size_t errlen)
{
    int count = config_setting_length (calendar);
    for (int i = 0; i < count; i++) {
        const config_setting_t *member = config_setting_get_elem (calendar, (unsigned) i);
        const char *name = config_setting_name (member);
        int rc = 0;
        if (strcmp (name, "work_hours") == 0)
            rc = s_load_spans (self, member, err, errlen);
        else if (strcmp (name, "weekend") == 0)
            rc = s_load_weekend (self, member, err, errlen);
        else if (strcmp (name, "holidays") == 0)
            rc = s_load_dates (self, member, name, yx_workcal_add_holiday, err, errlen);
        else if (strcmp (name, "workdays") == 0)
            rc = s_load_dates (self, member, name, yx_workcal_add_workday, err, errlen);
        else if (strcmp (name, "utc_offset") != 0)
            rc = s_fail (err, errlen, member, name, -1, "unknown setting (expected "
                         "utc_offset, work_hours, weekend, holidays or workdays)");
        if (rc)
            return -1;
    }
    return 0;
}

yx_workcal_t *
yx_workcal_from_config (const config_setting_t *calendar, char *err, size_t errlen)
{
    if (!calendar) {
        if (err && errlen)
            snprintf (err, errlen, "calendar: missing section");
        return NULL;
    }
    if (!config_setting_is_group (calendar)) {
        s_fail (err, errlen, calendar, "", -1, "must be a group { ... }");
        return NULL;
    }
    const config_setting_t *offset = config_setting_get_member (calendar, "utc_offset");
    const config_setting_t *hours = config_setting_get_member (calendar, "work_hours");
    if (!offset || !hours) {
        s_fail (err, errlen, calendar, offset? "work_hours": "utc_offset", -1,
                "missing");
        return NULL;
    }
    const char *text = config_setting_get_string (offset);
    int minutes;
    if (!text || strlen (text) != 6 || (text [0] != '+' && text [0] != '-')
    ||  s_parse_clock (text + 1, &minutes) || minutes > MAX_OFFSET) {
        s_fail (err, errlen, offset, "utc_offset", -1,
                "must be a string \"+HH:MM\" or \"-HH:MM\", at most 14:00");
        return NULL;
    }
    yx_workcal_t *self = yx_workcal_new (text [0] == '-'? -minutes: minutes);
    if (!self) {
        s_fail (err, errlen, calendar, "", -1, "out of memory");
        return NULL;
    }
    if (s_load_members (self, calendar, err, errlen)
    ||  s_check_conflicts (self, config_setting_get_member (calendar, "workdays"),
                           err, errlen))
        yx_workcal_destroy (&self);
    return self;
}
