/*
 * nen_report_text.h - a result as text lines: the summary lines of the
 * scripting format (class=, grade=, type=, t=, n=, m=, stage=, status=,
 * warning=) and the rule trace in words a pathologist can read. Lines go to a
 * callback so this layer does no I/O.
 */
#ifndef NEN_REPORT_TEXT_H
#define NEN_REPORT_TEXT_H

#include "nen_case.h"

typedef void (*nen_line_fn)(void *ctx, const char *line);

/* The summary lines, exactly, one call per line. */
void nen_report_summary(const struct nen_result *r, nen_line_fn emit, void *ctx);

/* The trace: each field with its value and the rules that made it. */
void nen_report_trace(const struct nen_result *r, nen_line_fn emit, void *ctx);

/* Words for a missing-input key ("ki67" -> "Ki-67 index"). */
const char *nen_input_label(const char *key);

#endif
