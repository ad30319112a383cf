/*
 * nen_grade_other.c - the sites with their own systems in CACA 2025 Table 3
 * and clinical-rules.md §2.4-2.5: medullary thyroid carcinoma (low/high
 * grade), and the groups that are not graded: pituitary NETs (lineage),
 * paragangliomas/phaeochromocytomas (SDHx), Merkel cell carcinoma, and breast
 * (no grading system: Table 3 note).
 */
#include "nen_rules.h"

#include <stddef.h>

#define R_MTC "CACA 2025 Table 3, thyroid MTC"

void nen_grade_mtc(const struct nen_case *c, const struct nen_prolif *p, struct nen_result *r)
{
    char a[24];
    r->cls = NEN_CLASS_MTC;
    nen_trace_add(&r->class_trace, R_MTC, "thyroid primary: medullary thyroid carcinoma");
    int necrosis = c->necrosis != NEN_NECROSIS_UNKNOWN && c->necrosis != NEN_NECROSIS_NONE;
    /* high grade: at least one of >= 5 mitoses/2 mm², necrosis, Ki-67 >= 5% */
    if (p->mit_known && p->mit >= 5.0) {
        r->grade = NEN_GRADE_HIGH;
        nen_trace_add(&r->grade_trace, R_MTC ", high grade (>= 5 mitoses/2 mm²)",
                      "%s mitoses/2 mm²", nen_fmt_num(p->mit, a, sizeof a));
    } else if (necrosis) {
        r->grade = NEN_GRADE_HIGH;
        nen_trace_add(&r->grade_trace, R_MTC ", high grade (necrosis)", "necrosis present");
    } else if (p->ki67_known && p->ki67 >= 5.0) {
        r->grade = NEN_GRADE_HIGH;
        nen_trace_add(&r->grade_trace, R_MTC ", high grade (Ki-67 >= 5%)", "Ki-67 %s%%",
                      nen_fmt_num(p->ki67, a, sizeof a));
    } else if (p->mit_known && p->ki67_known && c->necrosis == NEN_NECROSIS_NONE) {
        /* low grade: < 5 mitoses and no necrosis and Ki-67 < 5% */
        r->grade = NEN_GRADE_LOW;
        nen_trace_add(&r->grade_trace, R_MTC ", low grade (< 5 mitoses, no necrosis, Ki-67 < 5%)",
                      "no high-grade criterion, all three measured");
    } else {
        nen_trace_add(&r->grade_trace, R_MTC,
                      "no high-grade criterion among the measures known; low grade needs all "
                      "three");
        if (!p->mit_known)
            nen_missing(r, "mitoses");
        if (c->necrosis == NEN_NECROSIS_UNKNOWN)
            nen_missing(r, "necrosis");
        if (!p->ki67_known)
            nen_missing(r, "ki67");
    }
}

void nen_grade_pitnet(const struct nen_case *c, struct nen_result *r)
{
    static const char *const names[3] = {"PIT1", "TPIT", "SF1"};
    const enum nen_ihc v[3] = {c->pit1, c->tpit, c->sf1};
    int pos = 0, unknown = 0, first = -1;
    for (int i = 0; i < 3; i++) {
        if (v[i] == NEN_IHC_POSITIVE && pos++ == 0)
            first = i;
        unknown += v[i] == NEN_IHC_UNKNOWN;
    }
    r->cls = NEN_CLASS_PITNET;
    r->grade = NEN_GRADE_NOT_GRADED;
    nen_trace_add(&r->grade_trace, "CACA 2025 §3.1.4 PitNET (WHO 2022)",
                  "pituitary NETs are not graded; they are typed by lineage");
    if (pos == 1)
        nen_text_set(r->subtype, sizeof r->subtype, "%s lineage", names[first]);
    else if (pos > 1)
        nen_text_set(r->subtype, sizeof r->subtype, "multilineage (%s%s%s)",
                     v[0] == NEN_IHC_POSITIVE ? "PIT1 " : "",
                     v[1] == NEN_IHC_POSITIVE ? "TPIT " : "",
                     v[2] == NEN_IHC_POSITIVE ? "SF1" : "");
    else if (unknown == 0)
        nen_text_set(r->subtype, sizeof r->subtype, "null-cell (PIT1, TPIT, SF1 negative)");
    else
        nen_missing(r, "lineage");
    nen_trace_add(&r->class_trace, "CACA 2025 §3.1.4 PitNET: lineage by PIT1/TPIT/SF1",
                  "PitNET, %s", r->subtype[0] ? r->subtype : "lineage not determined");
}

void nen_grade_ppgl(const struct nen_case *c, const struct nen_prolif *p, struct nen_result *r)
{
    char a[24];
    r->cls = NEN_CLASS_PPGL;
    r->grade = NEN_GRADE_NOT_GRADED;
    nen_trace_add(&r->grade_trace, "CACA 2025 §3.1.3 PPGL",
                  "paragangliomas and phaeochromocytomas are not graded");
    if (p->ki67_known)
        nen_trace_add(&r->grade_trace, "CACA 2025 §3.1.3 PPGL",
                      "Ki-67 %s%% is prognostic only", nen_fmt_num(p->ki67, a, sizeof a));
    if (c->sdhb_loss == NEN_TRI_YES)
        nen_text_set(r->subtype, sizeof r->subtype, "SDHx-deficient (SDHB loss)");
    nen_trace_add(&r->class_trace, "CACA 2025 §3.1.3 PPGL", "adrenal/paraganglia: PPGL%s",
                  c->sdhb_loss == NEN_TRI_YES ? ", SDHx-deficient" : "");
}

void nen_grade_mcc(const struct nen_case *c, struct nen_result *r)
{
    (void)c;
    r->cls = NEN_CLASS_MCC;
    r->grade = NEN_GRADE_NOT_GRADED;
    nen_trace_add(&r->class_trace, "CACA 2025 §3.1.4 MCC",
                  "skin NEN: Merkel cell carcinoma, a skin NEC");
    nen_trace_add(&r->grade_trace, "CACA 2025 §3.1.4 MCC", "MCC is not graded");
}

void nen_grade_breast(const struct nen_case *c, struct nen_result *r)
{
    enum nen_class nec = nen_nec_class(c->diff);
    r->grade = NEN_GRADE_NOT_GRADED;
    nen_warn(r, "breast-not-graded",
             "breast NENs have no grading system (Table 3 note: see the Nottingham grade of "
             "ductal carcinoma)");
    nen_trace_add(&r->grade_trace, "CACA 2025 Table 3 note", "breast: no grading system");
    if (nec != NEN_CLASS_INDETERMINATE) {
        r->cls = nec;
        nen_trace_add(&r->class_trace, "CACA 2025 Table 3 note", "poorly differentiated: %s",
                      nen_class_name(nec));
    } else if (c->diff == NEN_DIFF_WELL) {
        r->cls = NEN_CLASS_NET;
        nen_trace_add(&r->class_trace, "CACA 2025 Table 3 note", "well differentiated: NET");
    } else {
        nen_trace_add(&r->class_trace, "CACA 2025 Table 3 note",
                      "differentiation not reported: NET or NEC undecided");
        nen_missing(r, "diff");
    }
}
