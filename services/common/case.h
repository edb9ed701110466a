/* case.h — the case document: how it is stored, loaded and shown.
 *
 * In Redis a case is a hash yx:{D}:case:ID with fields doc (JSON), state and
 * version, plus a timeline list yx:{D}:case:ID:tl of JSON entries. state and version
 * live outside the JSON so the COMMIT script can guard on them; everything else is
 * in doc. Times inside doc are Unix milliseconds (*_ms); the public view renders
 * them as RFC 3339 in the calendar's offset. Merging a duplicate into a case adds to
 * the hash field merged (reports = 1 + merged) and the set yx:{D}:case:ID:dups, so the
 * merge never rewrites the other case's document. */
#ifndef YX_CASE_H
#define YX_CASE_H

#include <jansson.h>
#include <stdint.h>

#include "store.h"

/* Stage queues (sorted sets scored by enqueue time) and other per-district keys. */
#define YX_Q_CLASSIFY "q:classify"   /* REPORTED, waiting for the classifier */
#define YX_Q_DISPATCH "q:dispatch"   /* REGISTERED, waiting for the dispatcher */
#define YX_Q_NOTIFY "q:notify"       /* event ids waiting for the notifier */
#define YX_Q_TRIAGE "q:triage"       /* REGISTERED below confidence: operators decide */
#define YX_K_TIMERS "timers"         /* due times of deadlines and reminders */
#define YX_K_CASES "cases"           /* every case id by creation time */
#define YX_K_STATS "stats"           /* counters kept by the transitions */
#define YX_GRADE_REPEAT_REPORTS 3    /* a case reported this often is graded difficult */

/* A case as loaded from Redis. */
typedef struct {
    char id[32];          /* case id */
    char district[8];     /* district code (from the id) */
    char state[16];       /* current state */
    long long version;    /* current version */
    json_t *doc;          /* the document (owned) */
    json_t *timeline;     /* array of entries, or NULL when not requested (owned) */
} yx_case_t;

typedef enum { YX_CASE_FOUND = 0, YX_CASE_MISSING = 1, YX_CASE_UNAVAILABLE = -1 } yx_case_load_t;

/* Loads a case by id (district from the id). with_timeline adds the timeline.
 * FOUND, MISSING (also for a malformed id or unreadable document), or UNAVAILABLE. */
yx_case_load_t yx_case_load (yx_store_t *store, const char *id, int with_timeline, yx_case_t *out);
void yx_case_clear (yx_case_t *c);

/* Public view for API callers. show_phone false masks the phone (138****5678).
 * offset_min renders times. Returns a new reference. */
json_t *yx_case_view (const yx_case_t *c, int show_phone, int offset_min);

/* A timeline entry as compact JSON (caller frees). */
char *yx_case_timeline_entry (int64_t at_ms, const char *actor, const char *event,
                              const char *note);

/* Masks a phone number: keeps the first 3 and last 4 digits. */
void yx_mask_phone (const char *phone, char *out, size_t n);

/* True for the states in which a case still counts as open for duplicate detection
 * (registered and not CLOSED, REJECTED, MERGED or SUSPENDED). */
int yx_case_is_open (const char *state);
/* The geo set of open cases of a subcategory: yx:{D}:open:<category>. */
char *yx_key_open (char *buf, size_t n, const char *district, const char *category);

/* Department ids of the case's assignments (pointers into doc), returns count. */
int yx_case_departments (const yx_case_t *c, const char **out, int max);

/* Convenience accessors into doc. */
const char *yx_doc_str (const json_t *doc, const char *key);
const char *yx_doc_path (const json_t *doc, const char *obj, const char *key);

#endif
