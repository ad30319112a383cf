/*
 * nen_extract_classify.c - classify an extracted case (nen_extract.h). When
 * an input was reported as a range or a limit the rules run at both ends; the
 * rules never lower a category as a value grows, so a field that agrees at
 * both ends holds for every value between, and a field that does not is
 * indeterminate. The extract warnings join the result's.
 */
#include "nen_extract.h"

#include <stdio.h>
#include <string.h>

static void undecided(struct nen_result *r, struct nen_trace *t, const char *field,
                      const char *lo, const char *hi, const char *keys)
{
    char text[NEN_TEXT_LEN];
    nen_text_set(text, sizeof text, "%s: %s at the low end, %s at the high end of %s; a single value "
             "is needed", field, lo, hi, keys);
    nen_trace_add(t, "nenfhir: ranges are evaluated at both ends", "%s", text);
    nen_extract_warn_add(r->warn, &r->nwarn, "input-range-undecided", text);
    r->status = NEN_STATUS_PRELIMINARY;
}

static void tnm_merge(struct nen_result *r, struct nen_tnm_result *a,
                      const struct nen_tnm_result *b, const char *field, const char *keys)
{
    char x[24], y[24];
    if (a->value == b->value && a->candidates == b->candidates && a->multiple == b->multiple)
        return;
    nen_tnm_result_text(a, x, sizeof x);
    nen_tnm_result_text(b, y, sizeof y);
    uint64_t cands = a->candidates | b->candidates;
    if (a->value != NEN_TNM_UNKNOWN)
        cands |= 1ULL << a->value;
    if (b->value != NEN_TNM_UNKNOWN)
        cands |= 1ULL << b->value;
    a->value = NEN_TNM_UNKNOWN;
    a->candidates = cands;
    undecided(r, &a->trace, field, x, y, keys);
}

void nen_extract_classify(const struct nen_extract *x, struct nen_result *r)
{
    nen_classify(&x->lo, r);
    if (x->ranged) {
        struct nen_result hi;
        struct nen_result *h = &hi;
        const char *k = x->ranged_keys;
        nen_classify(&x->hi, h);
        if (r->cls != h->cls) {
            undecided(r, &r->class_trace, "class", nen_class_name(r->cls), nen_class_name(h->cls), k);
            r->cls = NEN_CLASS_INDETERMINATE;
        }
        if (r->grade != h->grade) {
            undecided(r, &r->grade_trace, "grade", nen_grade_name(r->grade),
                      nen_grade_name(h->grade), k);
            r->grade = NEN_GRADE_INDETERMINATE;
        }
        if (r->gtype != h->gtype) {
            undecided(r, &r->gtype_trace, "gastric type", nen_gtype_name(r->gtype),
                      nen_gtype_name(h->gtype), k);
            r->gtype = NEN_GTYPE_INDETERMINATE;
        }
        tnm_merge(r, &r->t, &h->t, "T", k);
        tnm_merge(r, &r->n, &h->n, "N", k);
        tnm_merge(r, &r->m, &h->m, "M", k);
        if (r->stage != h->stage) {
            uint32_t c = r->stage_candidates | h->stage_candidates | (1u << r->stage) |
                         (1u << h->stage);
            undecided(r, &r->stage_trace, "stage", nen_stage_name(r->stage),
                      nen_stage_name(h->stage), k);
            r->stage = NEN_STAGE_INDETERMINATE;
            r->stage_candidates = c & ~((1u << NEN_STAGE_INDETERMINATE) | (1u << NEN_STAGE_NOT_STAGED));
        }
        for (int i = 0; i < h->nwarn; i++) /* warnings only the high end raised */
            nen_extract_warn_add(r->warn, &r->nwarn, h->warn[i].code, h->warn[i].text);
        if (r->nwarn < NEN_WARN_MAX) {
            char text[NEN_TEXT_LEN];
            nen_text_set(text, sizeof text, "%s reported as a range or limit: the rules were run at "
                     "both ends", k);
            nen_extract_warn_add(r->warn, &r->nwarn, "input-range", text);
        }
    }
    for (int i = 0; i < x->nwarn; i++)
        nen_extract_warn_add(r->warn, &r->nwarn, x->warn[i].code, x->warn[i].text);
}
