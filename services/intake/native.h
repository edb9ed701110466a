/* native.h — the native ZeroMQ intake: a ROUTER that takes ReportCase envelopes
 * and answers ReportAck, for adapters that send many reports. */
#ifndef YX_INTAKE_NATIVE_H
#define YX_INTAKE_NATIVE_H

#include "intake.h"

/* Serves the ROUTER until yx_stopping. Returns the process exit code. */
int yx_native_run (const yx_intake_t *in);

#endif
