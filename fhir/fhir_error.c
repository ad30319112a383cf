/*
 * fhir_error.c - fhir_error_set and the default input limits (fhir_error.h).
 */
#include "fhir_error.h"

#include <stdarg.h>
#include <stdio.h>

const struct fhir_limits fhir_limits_default = {FHIR_LIMITS_DEFAULT_BYTES,
                                                FHIR_LIMITS_DEFAULT_DEPTH};

void fhir_error_set(struct fhir_error *e, const char *fmt, ...)
{
    if (!e)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}
