/* open311.h — Open311 GeoReport v2 under /open311/v2/ (docs/api.md, "Open311").
 *
 *   open311.c           routing, discovery, services, service definitions, POST requests
 *   open311_requests.c  GET requests, requests/{id}, tokens/{token}: reading cases
 *   open311_view.c      a case as a service request, W3C times (pure, no I/O)
 *   open311_form.c      the application/x-www-form-urlencoded decoder (pure, no I/O)
 *   open311_xml.c       XML rendering of the Spark-convention JSON documents (pure, no I/O)
 *
 * Every response is built once as JSON in the Spark convention the specification
 * uses and rendered as XML when the resource ends in .xml, so both formats always
 * carry the same fields. */
#ifndef YX_INTAKE_OPEN311_H
#define YX_INTAKE_OPEN311_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "case.h"
#include "intake.h"

/* HTTP entry for every URL under /open311/v2/. Reads are public; POST requests
 * authenticates with the form's api_key (a reporter key of source open311). */
void yx_open311_http (const yx_intake_t *in, const yx_http_req_t *req, yx_http_resp_t *resp);

/* -- form decoder ------------------------------------------------------------ */

#define YX_FORM_MAX_FIELDS 64      /* fields in one body */
#define YX_FORM_MAX_KEY 64         /* bytes of a decoded field name */
#define YX_FORM_MAX_VALUE 16384    /* bytes of a decoded value (4,000 characters of any script) */

typedef struct {
    const char *key;      /* decoded name, NUL-terminated (points into the form's buffer) */
    const char *value;    /* decoded value, NUL-terminated ("" for "key" or "key=") */
} yx_form_field_t;

typedef struct {
    char *buf;                                  /* decoded text of every field (owned) */
    yx_form_field_t fields[YX_FORM_MAX_FIELDS]; /* fields in body order */
    int nfields;                                /* entries in fields */
} yx_form_t;

/* Decodes an application/x-www-form-urlencoded body of len bytes (need not be
 * NUL-terminated): pairs split on '&', name and value on the first '=', '+' is a
 * space and %XX a byte. Empty pairs ("a=1&&b=2", a trailing '&') are skipped.
 * Rejects a malformed escape, an empty name, a NUL or other control byte (tab, CR
 * and LF are allowed in values), invalid UTF-8 after decoding, a name longer than
 * YX_FORM_MAX_KEY, a value longer than YX_FORM_MAX_VALUE, more than
 * YX_FORM_MAX_FIELDS fields, and a name given twice unless it ends in "[]" (a list).
 * Never does I/O. 0 with *form filled (release with yx_form_free), or -1 with a
 * human sentence in err and *form empty. */
int yx_form_parse (const char *body, size_t len, yx_form_t *form, char *err, size_t errlen);
/* Releases what yx_form_parse allocated; safe on an empty or freed form. */
void yx_form_free (yx_form_t *form);
/* The value of the first field with this name, or NULL. */
const char *yx_form_get (const yx_form_t *form, const char *key);
/* Splits "attribute[CODE]" or "attribute[CODE][]": 1 with the code copied into
 * code (n bytes) and *list set for the "[]" form; 0 when key is not an attribute;
 * -1 for a malformed attribute name (empty code, a code over n-1 bytes or with
 * characters outside A-Z a-z 0-9 _ -, or anything after the brackets). */
int yx_form_attribute (const char *key, char *code, size_t n, bool *list);

/* -- XML rendering ------------------------------------------------------------ */

/* Renders a Spark-convention JSON document as XML with the UTF-8 declaration: an
 * array becomes <root> holding one <item> per member, an object becomes <root>
 * holding one element per member. Nested arrays take their member names from the
 * specification (endpoints/endpoint, formats/format, attributes/attribute,
 * values/value, anything else item); null is an empty element. Text is escaped,
 * invalid UTF-8 and characters XML 1.0 forbids become U+FFFD, and member names
 * that are not XML names are rendered as <item>. Returns a malloc'ed string with
 * *len set, or NULL when out of memory. */
char *yx_o311_xml (const json_t *doc, const char *root, const char *item, size_t *len);

/* -- shared by the Open311 files ---------------------------------------------- */

/* Response format, from the resource's extension. */
typedef enum { YX_O311_JSON = 0, YX_O311_XML } yx_o311_fmt_t;

/* Answers with doc (reference stolen) in the format: JSON as is, XML via
 * yx_o311_xml with the given root and item element names. */
void yx_o311_send (yx_http_resp_t *resp, yx_o311_fmt_t fmt, int status, json_t *doc,
                   const char *root, const char *item);
/* Answers with the specification's error array: [{"code": status, "description": …}]
 * or <errors><error><code/><description/></error></errors>. */
void yx_o311_error (yx_http_resp_t *resp, yx_o311_fmt_t fmt, int status, const char *fmt_desc, ...)
    __attribute__ ((format (printf, 4, 5)));

/* W3C date-time (the subset of ISO 8601 the specification names) into *ms: a date
 * "YYYY-MM-DD" (local midnight at offset_min), or a date with "Thh:mm", "Thh:mm:ss"
 * or "Thh:mm:ss.s" and a zone (Z or ±hh:mm). A space where the zone's sign should
 * be is read as '+' (an unescaped '+' in a query string). 0/-1. */
int yx_o311_time_parse (const char *text, int offset_min, int64_t *ms);
/* W3C date-time with the zone offset_min and no fraction: 2026-11-23T08:00:00+08:00.
 * buf needs 32 bytes. Returns buf. */
char *yx_o311_time_format (int64_t ms, int offset_min, char *buf, size_t n);

/* The case's service code: the classified subcategory, else the reported one ("" for none). */
const char *yx_o311_service_code (const json_t *doc);
/* "open" or "closed" for a case state: closed for CLOSED, REJECTED and MERGED. */
const char *yx_o311_status (const char *state);
/* A case as a GeoReport v2 service request (new reference). note is the status
 * note (NULL for none). Never shows the reporter's name or phone. */
json_t *yx_o311_request_view (const yx_config_t *cfg, const yx_case_t *c, const char *note);

/* GET requests.{fmt} */
void yx_o311_get_requests (const yx_intake_t *in, const yx_http_req_t *req, yx_http_resp_t *resp,
                           yx_o311_fmt_t fmt);
/* GET requests/{id}.{fmt}, and tokens/{token}.{fmt} when token is true. */
void yx_o311_get_request (const yx_intake_t *in, const char *id, bool token, yx_http_resp_t *resp,
                          yx_o311_fmt_t fmt);

#endif
