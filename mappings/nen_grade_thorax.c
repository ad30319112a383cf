/*
 * nen_grade_thorax.c - CACA 2025 Table 3 rows for lung and thymus NENs, with
 * the biopsy rule of §3.1.2: typical carcinoid (NET G1), atypical carcinoid
 * (NET G2), carcinoid with elevated mitoses/Ki-67 (NET G3), carcinoid NOS on a
 * biopsy, SCLC/SCNEC, LCNEC and high-grade NEC NOS. Ki-67 does not separate
 * TC from AC: mitoses and necrosis do.
 */
#include "nen_rules.h"

#define R_THX "CACA 2025 Table 3, lung/thymus"

static void set(struct nen_result *r, enum nen_class cls, enum nen_grade g, const char *rule,
                const char *why)
{
    r->cls = cls;
    r->grade = g;
    nen_trace_add(&r->class_trace, rule, "%s: %s", why, nen_class_name(cls));
    nen_trace_add(&r->grade_trace, rule, "%s is %s", nen_class_name(cls), nen_grade_name(g));
}

static void thorax_rows(const struct nen_case *c, const struct nen_prolif *p,
                        struct nen_result *r);

void nen_grade_thorax(const struct nen_case *c, const struct nen_prolif *p, struct nen_result *r)
{
    thorax_rows(c, p, r);
    if (r->grade == NEN_GRADE_INDETERMINATE)
        nen_trace_add(&r->grade_trace, R_THX, "the grade follows the class, which is %s",
                      r->cls == NEN_CLASS_CARCINOID_NOS ? "carcinoid NOS (biopsy)"
                                                        : "not decided");
}

static void thorax_rows(const struct nen_case *c, const struct nen_prolif *p,
                        struct nen_result *r)
{
    char a[24], b[24];
    int necrosis = c->necrosis != NEN_NECROSIS_UNKNOWN && c->necrosis != NEN_NECROSIS_NONE;
    if (p->mit_known)
        nen_trace_add(&r->grade_trace, R_THX, "%s mitoses/2 mm²",
                      nen_fmt_num(p->mit, a, sizeof a));
    if (p->ki67_known)
        nen_trace_add(&r->grade_trace, R_THX, "Ki-67 %s%% (does not separate TC from AC)",
                      nen_fmt_num(p->ki67, b, sizeof b));

    enum nen_class nec = nen_nec_class(c->diff);
    if (nec != NEN_CLASS_INDETERMINATE) {
        /* SCNEC / LCNEC rows: > 10 mitoses with NEC morphology; NEC NOS (§3.1.2) */
        set(r, nec, NEN_GRADE_HIGH, R_THX ", SCNEC/LCNEC rows; §3.1.2 NEC NOS",
            "poorly differentiated morphology, high grade by definition");
        if (p->mit_known && p->mit <= 10.0)
            nen_warn(r, "nec-below-criteria",
                     "NEC morphology but %s mitoses/2 mm² is not > 10 (NEC rows): review",
                     nen_fmt_num(p->mit, a, sizeof a));
        return;
    }
    int mit_g3 = p->mit_known && p->mit > 10.0;
    int ki_g3 = p->ki67_known && p->ki67 > 30.0;
    if (mit_g3 || ki_g3) {
        const char *why = mit_g3 ? "mitoses > 10/2 mm²" : "Ki-67 > 30%";
        if (c->diff == NEN_DIFF_WELL) {
            /* row: AC morphology but > 10 mitoses and/or Ki-67 > 30% = NET G3 */
            set(r, NEN_CLASS_NET, NEN_GRADE_G3,
                R_THX ", carcinoid with elevated mitoses and/or Ki-67 (NET G3)", why);
        } else {
            r->grade = NEN_GRADE_G3;
            nen_trace_add(&r->class_trace, R_THX,
                          "%s without the differentiation: NET G3 (carcinoid morphology) or "
                          "SCLC/LCNEC", why);
            nen_warn(r, "net-vs-nec",
                     "%s without the differentiation: carcinoid with elevated mitoses/Ki-67 "
                     "(NET G3) vs SCLC/LCNEC is decided by morphology", why);
            nen_missing(r, "diff");
        }
        return;
    }
    if (!p->mit_known) {
        nen_trace_add(&r->class_trace, R_THX,
                      "mitotic count missing: TC, AC or NET G3 cannot be told apart");
        nen_missing(r, "mitoses");
        return;
    }
    if (c->specimen == NEN_SPECIMEN_BIOPSY) {
        /* §3.1.2: on a biopsy, carcinoid NOS with mitoses, necrosis and Ki-67 */
        r->cls = NEN_CLASS_CARCINOID_NOS;
        nen_trace_add(&r->class_trace, "CACA 2025 §3.1.2 (biopsy: carcinoid NOS)",
                      "biopsy: carcinoid NOS, not TC or AC; %s mitoses/2 mm², necrosis %s, "
                      "Ki-67 %s",
                      nen_fmt_num(p->mit, a, sizeof a),
                      c->necrosis == NEN_NECROSIS_UNKNOWN ? "not reported"
                      : necrosis                          ? "present"
                                                          : "absent",
                      p->ki67_known ? nen_fmt_num(p->ki67, b, sizeof b) : "not reported");
        nen_trace_add(&r->grade_trace, "CACA 2025 §3.1.2",
                      "TC vs AC (G1 vs G2) needs the resected tumour");
        return;
    }
    if (c->specimen == NEN_SPECIMEN_UNKNOWN) {
        nen_trace_add(&r->class_trace, "CACA 2025 §3.1.2",
                      "specimen kind not reported: TC/AC on a resection, carcinoid NOS on a "
                      "biopsy");
        nen_missing(r, "specimen");
        return;
    }
    if (p->mit >= 2.0) {
        /* AC row: 2-10 mitoses and/or necrosis */
        set(r, NEN_CLASS_AC, NEN_GRADE_G2, R_THX ", AC row (2-10 mitoses and/or necrosis)",
            "2-10 mitoses/2 mm²");
    } else if (necrosis) {
        set(r, NEN_CLASS_AC, NEN_GRADE_G2, R_THX ", AC row (2-10 mitoses and/or necrosis)",
            "necrosis present");
    } else if (c->necrosis == NEN_NECROSIS_UNKNOWN) {
        nen_trace_add(&r->class_trace, R_THX,
                      "< 2 mitoses/2 mm² but necrosis not reported: TC or AC");
        nen_missing(r, "necrosis");
    } else {
        /* TC row: < 2 mitoses and no necrosis */
        set(r, NEN_CLASS_TC, NEN_GRADE_G1, R_THX ", TC row (< 2 mitoses, no necrosis)",
            "< 2 mitoses/2 mm² and no necrosis");
    }
}
