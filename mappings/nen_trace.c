/*
 * nen_trace.c - rule-trace, warning and missing-input helpers for the rule
 * files. Formats into the fixed buffers of struct nen_result (memory only, no
 * I/O, no allocation). Text that does not fit is cut; steps that do not fit set
 * trace->truncated so the loss is visible.
 */
#include "nen_case.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void nen_result_init(struct nen_result *r)
{
    memset(r, 0, sizeof *r);
    r->cls = NEN_CLASS_INDETERMINATE;
    r->grade = NEN_GRADE_INDETERMINATE;
    r->gtype = NEN_GTYPE_NOT_APPLICABLE;
    r->stage = NEN_STAGE_INDETERMINATE;
    r->status = NEN_STATUS_PRELIMINARY;
}

static void copy_cut(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);
    if (n >= len)
        n = len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void nen_trace_add(struct nen_trace *t, const char *rule, const char *fmt, ...)
{
    if (t->n >= NEN_TRACE_MAX) {
        t->truncated = 1;
        return;
    }
    struct nen_step *s = &t->step[t->n++];
    copy_cut(s->rule, sizeof s->rule, rule);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->text, sizeof s->text, fmt, ap);
    va_end(ap);
}

void nen_warn(struct nen_result *r, const char *code, const char *fmt, ...)
{
    for (int i = 0; i < r->nwarn; i++)
        if (strcmp(r->warn[i].code, code) == 0)
            return; /* one warning per code */
    if (r->nwarn >= NEN_WARN_MAX)
        return;
    struct nen_warning *w = &r->warn[r->nwarn++];
    copy_cut(w->code, sizeof w->code, code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->text, sizeof w->text, fmt, ap);
    va_end(ap);
}

void nen_missing(struct nen_result *r, const char *input)
{
    for (int i = 0; i < r->nmissing; i++)
        if (strcmp(r->missing[i], input) == 0)
            return;
    if (r->nmissing >= NEN_MISSING_MAX)
        return;
    copy_cut(r->missing[r->nmissing++], NEN_MISSING_LEN, input);
}

const char *nen_fmt_num(double v, char *buf, unsigned len)
{
    snprintf(buf, len, "%.6g", v);
    return buf;
}

void nen_text_set(char *buf, unsigned len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}
