/*
 * nen_report_synoptic.h - what the report says to a person (issue 10 item 6):
 * the conclusion as one sentence, and the synoptic sections a pathologist
 * recognises (site and specimen; class and grade with the measures; gastric
 * type with the work-up; pT pN pM and stage with the edition; the guideline's
 * suggestions for the treating team; missing inputs; warnings; the rule
 * trace, citing the guideline). The sections go to a renderer's callbacks, so
 * the same content becomes text/plain and xhtml (nen_report_form.c). Pure
 * formatting into stack buffers: no FHIR building, no I/O, no allocation.
 */
#ifndef NEN_REPORT_SYNOPTIC_H
#define NEN_REPORT_SYNOPTIC_H

#include "nen_extract.h"

#include <stddef.h>

/* A renderer. Text arguments are plain UTF-8 (the renderer escapes). */
struct nen_synoptic_out {
    void (*section)(void *ctx, const char *title);
    void (*row)(void *ctx, const char *label, const char *value); /* a labelled value */
    void (*item)(void *ctx, const char *text);                    /* a list item */
    void *ctx;
};

/* The conclusion, one sentence ending in '.', into buf (cut to len), e.g.
 * "Well-differentiated neuroendocrine tumour, G2 (Ki-67 7%, 4.2 mitoses/2 mm²),
 * pancreas, pT2 pN1 M1a, AJCC 9th stage IV."; an indeterminate part says so
 * and names what is missing ("grade indeterminate: mitotic count missing"). */
void nen_report_conclusion(const struct nen_extract *x, const struct nen_result *r, char *buf,
                           size_t len);

/* The synoptic sections, in the order above. */
void nen_report_synoptic(const struct nen_extract *x, const struct nen_result *r,
                         const struct nen_synoptic_out *out);

/* The class in words for a person ("Well-differentiated neuroendocrine
 * tumour"): the sentence, the synoptic form and the nenfhir code's display.
 * Never NULL (an indeterminate class has words too). */
const char *nen_class_words(enum nen_class k);

#endif
