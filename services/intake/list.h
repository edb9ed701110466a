/* list.h — reads over many cases: the case list and department inboxes. */
#ifndef YX_INTAKE_LIST_H
#define YX_INTAKE_LIST_H

#include "case.h"
#include "intake.h"

/* True when the caller may read this case (scope rules of auth.h). */
bool yx_list_can_read (const yx_caller_t *caller, const yx_case_t *c);
/* True when an assignment is past a deadline at now_ms. */
bool yx_assignment_overdue (const json_t *a, int64_t now_ms);

/* GET /v1/cases */
void yx_list_cases (const yx_intake_t *in, const yx_caller_t *caller, const yx_http_req_t *req,
                    yx_http_resp_t *resp);
/* GET /v1/departments/{id}/inbox */
void yx_list_inbox (const yx_intake_t *in, const yx_caller_t *caller, const char *dept,
                    const yx_http_req_t *req, yx_http_resp_t *resp);

#endif
