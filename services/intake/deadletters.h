/* deadletters.h — listing and redelivering the notifier's dead letters over HTTP. */
#ifndef YX_INTAKE_DEADLETTERS_H
#define YX_INTAKE_DEADLETTERS_H

#include "intake.h"

/* /v1/deadletters and /v1/deadletters/actions (operators and admins). */
void yx_deadletters_http (const yx_intake_t *in, const yx_caller_t *caller, const yx_http_req_t *req,
                          yx_http_resp_t *resp);

#endif
