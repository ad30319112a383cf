/*
 * adapter_log.c - log lines and the wall clock (adapter_log.h). Owns the
 * verbose flag; no other state.
 */
#include "adapter_log.h"

#include "fhir_primitive.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

int adapter_log_verbose;

int64_t adapter_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void adapter_log(const char *level, const char *fmt, ...)
{
    char when[40], msg[2048];
    fhir_instant_format_ms(adapter_now_ms(), when, sizeof when);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s nenfhir %s %s\n", when, level, msg);
}
