/*
 * nen_grade_gep.c - CACA 2025 Table 3 rows for gastro-entero-pancreatic and
 * hepatobiliary NENs (also the default for genital, urinary and other sites)
 * and for the upper aerodigestive tract and salivary glands. The rows read as
 * one branch each; see mappings/RULES.md for how missing measures are treated.
 */
#include "nen_rules.h"

#define R_GEP "CACA 2025 Table 3, GEP"
#define R_UADT "CACA 2025 Table 3, upper aerodigestive/salivary"

/* GEP Ki-67 rows: G1 < 3%, G2 3-20%, G3 > 20%. */
static enum nen_grade gep_ki67_grade(double k)
{
    if (k < 3.0)
        return NEN_GRADE_G1;
    if (k <= 20.0)
        return NEN_GRADE_G2;
    return NEN_GRADE_G3;
}

/* GEP mitoses rows: G1 < 2, G2 2-20, G3 > 20 per 2 mm². */
static enum nen_grade gep_mit_grade(double m)
{
    if (m < 2.0)
        return NEN_GRADE_G1;
    if (m <= 20.0)
        return NEN_GRADE_G2;
    return NEN_GRADE_G3;
}

static const char *gep_ki67_row(enum nen_grade g)
{
    return g == NEN_GRADE_G1 ? "< 3%" : g == NEN_GRADE_G2 ? "3-20%" : "> 20%";
}

static const char *gep_mit_row(enum nen_grade g)
{
    return g == NEN_GRADE_G1 ? "< 2/2 mm²" : g == NEN_GRADE_G2 ? "2-20/2 mm²" : "> 20/2 mm²";
}

/* The single-measure notes shared by GEP and upper aerodigestive grading. */
static void note_single_measure(const struct nen_prolif *p, struct nen_result *r)
{
    if (p->ki67_known && !p->mit_known)
        nen_warn(r, "grade-ki67-only", "grade from Ki-67 alone: mitotic count missing");
    if (p->mit_known && !p->ki67_known)
        nen_warn(r, "grade-mitoses-only", "grade from the mitotic count alone: Ki-67 missing");
}

static void note_discordant(struct nen_result *r, const char *by_ki67, const char *by_mit)
{
    nen_warn(r, "grade-discordant",
             "Ki-67 points to %s and the mitotic count to %s: the higher grade is used",
             by_ki67, by_mit);
}

/* Class from differentiation once the grade of the proliferation is known.
 * nec_limit_* are the NEC row thresholds of the system (> ki, > mit). */
static void class_from_diff(const struct nen_case *c, const struct nen_prolif *p,
                            struct nen_result *r, const char *rule, double nec_ki,
                            double nec_mit)
{
    enum nen_class nec = nen_nec_class(c->diff);
    if (nec != NEN_CLASS_INDETERMINATE) {
        int below = (p->ki67_known || p->mit_known) &&
                    (!p->ki67_known || p->ki67 <= nec_ki) &&
                    (!p->mit_known || p->mit <= nec_mit);
        r->cls = nec;
        r->grade = NEN_GRADE_HIGH;
        nen_trace_add(&r->class_trace, rule,
                      "poorly differentiated %s morphology: %s, high grade by definition",
                      c->diff == NEN_DIFF_SMALL_CELL   ? "small-cell"
                      : c->diff == NEN_DIFF_LARGE_CELL ? "large-cell"
                                                       : "(cell type not stated)",
                      nen_class_name(nec));
        nen_trace_add(&r->grade_trace, rule, "%s is high grade by definition (WHO 2022)",
                      nen_class_name(nec));
        if (below)
            nen_warn(r, "nec-below-criteria",
                     "NEC morphology but the proliferation reported is below the NEC row "
                     "(Ki-67 > %g%% or mitoses > %g/2 mm²): review", nec_ki, nec_mit);
        return;
    }
    if (c->diff == NEN_DIFF_WELL) {
        r->cls = NEN_CLASS_NET;
        nen_trace_add(&r->class_trace, rule, "well differentiated: NET");
        return;
    }
    /* differentiation not reported */
    if (r->grade == NEN_GRADE_G1 || r->grade == NEN_GRADE_G2) {
        r->cls = NEN_CLASS_NET;
        nen_trace_add(&r->class_trace, rule,
                      "differentiation not reported; %s proliferation is below every NEC "
                      "row, so the tumour is a NET",
                      nen_grade_name(r->grade));
    } else if (r->grade == NEN_GRADE_G3) {
        nen_warn(r, "net-vs-nec",
                 "G3 proliferation without the differentiation: NET G3 vs NEC is decided by "
                 "morphology, never by Ki-67 (Rb loss or aberrant p53 support NEC, DAXX/ATRX "
                 "loss supports NET: Table 5)");
        nen_trace_add(&r->class_trace, rule,
                      "G3 proliferation, differentiation not reported: NET G3 or NEC");
        nen_missing(r, "diff");
    } else {
        nen_trace_add(&r->class_trace, rule,
                      "neither proliferation nor differentiation reported: class undecided");
        nen_missing(r, "diff");
    }
}

void nen_grade_gep(const struct nen_case *c, const struct nen_prolif *p, struct nen_result *r)
{
    char a[24];
    enum nen_grade gk = NEN_GRADE_INDETERMINATE, gm = NEN_GRADE_INDETERMINATE;
    if (p->ki67_known) {
        gk = gep_ki67_grade(p->ki67);
        nen_trace_add(&r->grade_trace, R_GEP ", Ki-67 column",
                      "Ki-67 %s%% is %s: %s", nen_fmt_num(p->ki67, a, sizeof a),
                      gep_ki67_row(gk), nen_grade_name(gk));
    }
    if (p->mit_known) {
        gm = gep_mit_grade(p->mit);
        nen_trace_add(&r->grade_trace, R_GEP ", mitoses column",
                      "%s mitoses/2 mm² is %s: %s", nen_fmt_num(p->mit, a, sizeof a),
                      gep_mit_row(gm), nen_grade_name(gm));
    }
    if (!p->ki67_known && !p->mit_known) {
        nen_trace_add(&r->grade_trace, R_GEP, "Ki-67 and mitotic count missing: no grade");
        nen_missing(r, "ki67");
        nen_missing(r, "mitoses");
    } else {
        /* the higher of the two grades wins */
        r->grade = gk > gm ? gk : gm;
        /* a NEC is high grade by definition: the notes concern NET grades only */
        if (nen_nec_class(c->diff) == NEN_CLASS_INDETERMINATE) {
            note_single_measure(p, r);
            if (p->ki67_known && p->mit_known && gk != gm)
                note_discordant(r, nen_grade_name(gk), nen_grade_name(gm));
        }
    }
    class_from_diff(c, p, r, R_GEP, 20.0, 20.0);
    if (r->cls == NEN_CLASS_NET && r->grade != NEN_GRADE_INDETERMINATE)
        nen_trace_add(&r->grade_trace, R_GEP, "NET %s (the higher grade of the measures)",
                      nen_grade_name(r->grade));
}

void nen_grade_uadt(const struct nen_case *c, const struct nen_prolif *p, struct nen_result *r)
{
    char a[24];
    int necrosis = c->necrosis != NEN_NECROSIS_UNKNOWN && c->necrosis != NEN_NECROSIS_NONE;
    int ki_20 = p->ki67_known && p->ki67 == 20.0;
    int ki_g3 = p->ki67_known && p->ki67 > 20.0;
    int mit_g3 = p->mit_known && p->mit > 10.0;
    int nec = nen_nec_class(c->diff) != NEN_CLASS_INDETERMINATE;
    if (ki_20)
        nen_warn(r, "uadt-ki67-20",
                 "Ki-67 exactly 20%%: the G1/G2 rows need < 20%% and the G3 row > 20%%");
    if (!p->ki67_known && !p->mit_known) {
        nen_trace_add(&r->grade_trace, R_UADT, "Ki-67 and mitotic count missing: no grade");
        nen_missing(r, "ki67");
        nen_missing(r, "mitoses");
    } else if (ki_g3 || mit_g3) {
        /* G3 row: > 10 mitoses/2 mm² and/or Ki-67 > 20% */
        r->grade = NEN_GRADE_G3;
        nen_trace_add(&r->grade_trace, R_UADT ", G3 row (> 10 mitoses and/or Ki-67 > 20%)",
                      "%s", mit_g3 ? "mitotic count > 10/2 mm²" : "Ki-67 > 20%");
        if (!nec && p->ki67_known && p->mit_known && !ki_20 && ki_g3 != mit_g3)
            note_discordant(r, ki_g3 ? "G3" : "below G3", mit_g3 ? "G3" : "below G3");
    } else if (ki_20) {
        nen_trace_add(&r->grade_trace, R_UADT,
                      "Ki-67 20%% falls between the rows and mitoses do not reach G3: grade "
                      "left to the pathologist");
    } else if ((p->mit_known && p->mit >= 2.0) || necrosis) {
        /* G2 row: 2-10 mitoses and/or necrosis, and Ki-67 < 20% */
        r->grade = NEN_GRADE_G2;
        nen_trace_add(&r->grade_trace, R_UADT ", G2 row (2-10 mitoses and/or necrosis)",
                      "%s", necrosis ? "necrosis present" : "mitotic count 2-10/2 mm²");
    } else if (c->necrosis == NEN_NECROSIS_UNKNOWN) {
        nen_trace_add(&r->grade_trace, R_UADT,
                      "no G2/G3 criterion met but necrosis not reported: G1 or G2");
        nen_missing(r, "necrosis");
    } else {
        /* G1 row: < 2 mitoses and no necrosis, and Ki-67 < 20% */
        r->grade = NEN_GRADE_G1;
        nen_trace_add(&r->grade_trace, R_UADT ", G1 row (< 2 mitoses, no necrosis, Ki-67 < 20%)",
                      "mitoses %s, no necrosis, Ki-67 %s",
                      p->mit_known ? nen_fmt_num(p->mit, a, sizeof a) : "not reported",
                      p->ki67_known ? "< 20%" : "not reported");
    }
    if (!nec && r->grade != NEN_GRADE_INDETERMINATE)
        note_single_measure(p, r);
    class_from_diff(c, p, r, R_UADT, 20.0, 10.0);
}
