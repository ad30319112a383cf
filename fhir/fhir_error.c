/*
 * fhir_error.c - fhir_error_set, paths for messages and the default input
 * limits (fhir_error.h).
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
    e->out_of_memory = 0;
}

void fhir_error_oom(struct fhir_error *e, const char *what)
{
    if (!e)
        return;
    if (what)
        fhir_error_set(e, "%.200s: out of memory", what);
    else
        fhir_error_set(e, "out of memory");
    e->out_of_memory = 1;
}

size_t fhir_path_push(struct fhir_path *p, const char *name, long index)
{
    size_t old = p->len, room = sizeof p->text - old;
    const char *dot = old ? "." : "";
    int n = index < 0 ? snprintf(p->text + old, room, "%s%s", dot, name)
                      : snprintf(p->text + old, room, "%s%s[%ld]", dot, name, index);
    if (n > 0)
        p->len = (size_t)n >= room ? sizeof p->text - 1 : old + (size_t)n;
    return old;
}

void fhir_path_pop(struct fhir_path *p, size_t old)
{
    p->len = old;
    p->text[old] = '\0';
}
