// SPDX-License-Identifier: GPL-2.0
/* rswap_trace: the tracepoints' definitions; rswap_trace.h says what each one is. */
#define CREATE_TRACE_POINTS
#include "rswap_trace.h"
