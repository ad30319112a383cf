/*
 * nen_report_form.h - the report a person reads, rendered (issue 10 item 6):
 * the synoptic content of nen_report_synoptic.h as text/plain and as one
 * xhtml div (FHIR's narrative rules: the xhtml namespace on the div, only
 * the elements h2 h3 p b table tr th td ul li, no attributes), the text/html
 * document around that div, and base64 for Attachment.data. Every function
 * returns a malloc'd string the caller frees, or NULL when out of memory.
 */
#ifndef NEN_REPORT_FORM_H
#define NEN_REPORT_FORM_H

#include "nen_extract.h"

#include <stddef.h>

/* A growing string. failed is set once an allocation fails; s is then freed
 * by nen_strbuf_take, which returns NULL. Zero-initialise to start. */
struct nen_strbuf {
    char *s;
    size_t len, cap;
    int failed;
};
void nen_strbuf_add(struct nen_strbuf *b, const char *s, size_t n);
void nen_strbuf_puts(struct nen_strbuf *b, const char *s);
/* The string (caller frees; "" when nothing was added), or NULL on failure. */
char *nen_strbuf_take(struct nen_strbuf *b);

/* The report as text/plain (UTF-8): title, conclusion and status, the
 * synoptic sections, then the section "Machine summary", whose lines are
 * exactly those of `nenfhir classify --summary` for the case. status is the
 * report's status word. */
char *nen_report_plain(const struct nen_extract *x, const struct nen_result *r, const char *status);

/* The narrative div: <div xmlns="http://www.w3.org/1999/xhtml">...</div>. */
char *nen_report_xhtml(const struct nen_extract *x, const struct nen_result *r, const char *status);

/* A text/html document whose body is div. */
char *nen_report_html(const char *div, const char *title);

/* base64 (RFC 4648, no line breaks) of data[0..len). */
char *nen_report_base64(const char *data, size_t len);

#endif
