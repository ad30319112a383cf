/*
 * nen_grade.c - classification and grade: picks the grading system of the
 * primary site (CACA 2025 Table 3 / WHO 2022), reads the proliferation
 * measures (mitoses converted to per 2 mm²) and applies the mixed-tumour
 * (MiNEN) rule on top. The per-system rules are in nen_grade_*.c.
 */
#include "nen_rules.h"

#include <math.h>
#include <string.h>

#define R_T3 "CACA 2025 Table 3"
#define R_MIX "CACA 2025 §3.1.1 MiNEN"
#define R_COMBINED "CACA 2025 §3.1.2: combined SCNEC/LCNEC (any proportion)"

void nen_prolif_read(const struct nen_case *c, struct nen_result *r, struct nen_prolif *p)
{
    char a[24], b[24], d[24];
    memset(p, 0, sizeof *p);
    if (c->ki67.known) {
        p->ki67_known = 1;
        p->ki67 = c->ki67.value;
    }
    if (!c->mitoses.known)
        return;
    switch (c->mitoses_unit) {
    case NEN_MIT_PER_2MM2:
        p->mit_known = 1;
        p->mit = c->mitoses.value;
        break;
    case NEN_MIT_PER_10HPF:
        p->mit_known = 1;
        if (c->hpf_area_mm2.known) {
            /* count x 2 / (10 x field area), rounded so 20.0000000001 stays 20 */
            double v = c->mitoses.value * 2.0 / (10.0 * c->hpf_area_mm2.value);
            p->mit = round(v * 1e6) / 1e6;
            nen_trace_add(&r->grade_trace, "CACA 2025 Table 3: counts per 2 mm², 10 HPF by field area",
                          "%s mitoses/10 HPF with a field of %s mm² = %s per 2 mm²",
                          nen_fmt_num(c->mitoses.value, a, sizeof a),
                          nen_fmt_num(c->hpf_area_mm2.value, b, sizeof b),
                          nen_fmt_num(p->mit, d, sizeof d));
        } else {
            p->mit = c->mitoses.value;
            nen_warn(r, "mitoses-hpf-area-assumed",
                     "mitotic count %s per 10 HPF without the field area: 10 HPF taken as "
                     "2 mm²", nen_fmt_num(c->mitoses.value, a, sizeof a));
        }
        break;
    case NEN_MIT_UNIT_UNKNOWN:
        nen_warn(r, "mitoses-no-unit",
                 "mitotic count %s has no unit (per 2 mm² or per 10 HPF): not used",
                 nen_fmt_num(c->mitoses.value, a, sizeof a));
        nen_missing(r, "mitoses");
        break;
    }
}

enum nen_class nen_nec_class(enum nen_diff d)
{
    switch (d) {
    case NEN_DIFF_SMALL_CELL: return NEN_CLASS_NEC_SMALL;
    case NEN_DIFF_LARGE_CELL: return NEN_CLASS_NEC_LARGE;
    case NEN_DIFF_POOR: return NEN_CLASS_NEC;
    default: return NEN_CLASS_INDETERMINATE;
    }
}

/* Which Table 3 system grades this site. */
static void grade_by_site(const struct nen_case *c, const struct nen_prolif *p,
                          struct nen_result *r)
{
    switch (c->site) {
    case NEN_SITE_UPPER_AERODIGESTIVE:
    case NEN_SITE_SALIVARY:
        nen_grade_uadt(c, p, r);
        return;
    case NEN_SITE_LUNG:
    case NEN_SITE_THYMUS:
        nen_grade_thorax(c, p, r);
        return;
    case NEN_SITE_THYROID: nen_grade_mtc(c, p, r); return;
    case NEN_SITE_PITUITARY: nen_grade_pitnet(c, r); return;
    case NEN_SITE_ADRENAL_PARAGANGLIA: nen_grade_ppgl(c, p, r); return;
    case NEN_SITE_SKIN: nen_grade_mcc(c, r); return;
    case NEN_SITE_BREAST: nen_grade_breast(c, r); return;
    default:
        /* GEP, hepatobiliary and, by the Table 3 note, genital, urinary and other */
        nen_grade_gep(c, p, r);
        return;
    }
}

int nen_mixed_shares(const struct nen_case *c, double *ne, double *non)
{
    if (!c->ne_pct.known && !c->non_ne_pct.known)
        return 0; /* no mixed component reported: a pure NEN */
    *ne = c->ne_pct.known ? c->ne_pct.value : 100.0 - c->non_ne_pct.value;
    *non = c->non_ne_pct.known ? c->non_ne_pct.value : 100.0 - c->ne_pct.value;
    return 1;
}

static int thoracic(enum nen_site s)
{
    return s == NEN_SITE_LUNG || s == NEN_SITE_THYMUS;
}

int nen_combined_nec(const struct nen_case *c)
{
    double ne, non;
    return thoracic(c->site) && nen_nec_class(c->diff) != NEN_CLASS_INDETERMINATE &&
           nen_mixed_shares(c, &ne, &non) && ne > 0.0 && non > 0.0;
}

int nen_minor_ne_carcinoma(const struct nen_case *c)
{
    double ne, non;
    return nen_mixed_shares(c, &ne, &non) && non > 0.0 && ne < 30.0 && !nen_combined_nec(c);
}

/* The share the lab did not state is 100 minus the other (trace says so). */
static void trace_derived_share(const struct nen_case *c, struct nen_result *r, double ne,
                                double non)
{
    char a[24], b[24];
    if (!c->ne_pct.known)
        nen_trace_add(&r->class_trace, R_MIX,
                      "neuroendocrine share not stated: taken as 100 - %s = %s%%",
                      nen_fmt_num(non, a, sizeof a), nen_fmt_num(ne, b, sizeof b));
    else if (!c->non_ne_pct.known)
        nen_trace_add(&r->class_trace, R_MIX,
                      "non-neuroendocrine share not stated: taken as 100 - %s = %s%%",
                      nen_fmt_num(ne, a, sizeof a), nen_fmt_num(non, b, sizeof b));
}

/* Combined SCNEC/LCNEC (CACA 2025 §3.1.2, seed lines 1215-1219: "LCNEC或SCNEC可与任何
 * 比例的非NEC成分混合（命名为复合性LCNEC或复合性SCNEC）"): a lung or thymic NEC with a
 * non-NEC carcinoma in any proportion keeps the NEC's class and grade; never MiNEN. */
static void combined_nec(struct nen_result *r, double ne, double non, const char *kind)
{
    char a[24], b[24];
    int small = r->cls == NEN_CLASS_NEC_SMALL, large = r->cls == NEN_CLASS_NEC_LARGE;
    const char *name = small ? "combined SCNEC" : large ? "combined LCNEC"
                                                        : "combined NEC (cell type not stated)";
    const char *nec = small ? "small-cell NEC" : large ? "large-cell NEC" : "NEC";
    nen_text_set(r->subtype, sizeof r->subtype, "%s: %s %s%% with %s %s%%", name, nec,
                 nen_fmt_num(ne, a, sizeof a), kind, nen_fmt_num(non, b, sizeof b));
    nen_trace_add(&r->class_trace, R_COMBINED,
                  "%s %s%% with %s %s%%: %s, classified as the NEC in any proportion (not "
                  "MiNEN); the report states the type, share and differentiation of the other "
                  "component", nec, nen_fmt_num(ne, a, sizeof a), kind,
                  nen_fmt_num(non, b, sizeof b), name);
    nen_trace_add(&r->grade_trace, R_COMBINED, "graded as the NEC: high grade by definition");
}

/* Lung/thymus with the neuroendocrine class not decided and the morphology not
 * stated: combined SCNEC/LCNEC (any share) and MiNEN (carcinoid, each >= 30%) are
 * told apart by the morphology alone. */
static void thoracic_undecided(struct nen_result *r)
{
    nen_trace_add(&r->class_trace, R_COMBINED,
                  "mixed tumour, differentiation not stated: a combined SCNEC/LCNEC (any share) "
                  "or a carcinoid mixed with a carcinoma (MiNEN rule); the morphology decides");
    nen_missing(r, "diff");
}

/* Neuroendocrine component < 30%: a carcinoma with a minor NE component (§3.1.1). */
static void minor_ne(const struct nen_case *c, struct nen_result *r, double ne, const char *kind)
{
    char a[24];
    nen_warn(r, "minen-ne-below-30",
             "neuroendocrine component %s%% < 30%%: not a MiNEN; a %s with a minor "
             "neuroendocrine component is not classified by this system%s",
             nen_fmt_num(ne, a, sizeof a), kind,
             thoracic(c->site) ? " (a SCNEC/LCNEC component would make it a combined SCNEC/"
                                 "LCNEC: state the morphology)"
                               : "");
    nen_trace_add(&r->class_trace, R_MIX, "neuroendocrine component %s%% is below 30%%: no NEN "
                  "class", nen_fmt_num(ne, a, sizeof a));
    r->cls = NEN_CLASS_INDETERMINATE;
    r->grade = NEN_GRADE_INDETERMINATE;
}

/* Both components >= 30%: MiNEN; the grade stays that of the neuroendocrine one. */
static void minen(struct nen_result *r, double ne, double non, const char *kind)
{
    char a[24], b[24];
    const char *ne_cls = nen_class_name(r->cls), *ne_grade = nen_grade_name(r->grade);
    nen_text_set(r->subtype, sizeof r->subtype,
                 "neuroendocrine component %s %s %s%%; %s %s%%", ne_cls, ne_grade,
                 nen_fmt_num(ne, a, sizeof a), kind, nen_fmt_num(non, b, sizeof b));
    nen_trace_add(&r->class_trace, R_MIX ": each component >= 30%",
                  "neuroendocrine %s%% and %s %s%%: MiNEN; grade is that of the "
                  "neuroendocrine component (%s %s)",
                  nen_fmt_num(ne, a, sizeof a), kind, nen_fmt_num(non, b, sizeof b), ne_cls,
                  ne_grade);
    r->cls = NEN_CLASS_MINEN;
}

/* Mixed tumours: combined SCNEC/LCNEC of lung and thymus (§3.1.2), otherwise MiNEN
 * when each component is >= 30% (CACA 2025 §3.1.1: "每种成分至少占30%"). */
static void apply_mixed(const struct nen_case *c, struct nen_result *r)
{
    char a[24];
    double ne, non;
    if (!nen_mixed_shares(c, &ne, &non))
        return;
    trace_derived_share(c, r, ne, non);
    if (non <= 0.0)
        return;
    const char *kind = c->non_ne_kind[0] ? c->non_ne_kind : "non-neuroendocrine carcinoma";
    if (nen_combined_nec(c)) {
        combined_nec(r, ne, non, kind);
    } else if (ne < 30.0) {
        minor_ne(c, r, ne, kind);
    } else if (thoracic(c->site) && c->diff == NEN_DIFF_UNKNOWN &&
               r->cls == NEN_CLASS_INDETERMINATE) {
        thoracic_undecided(r);
    } else if (non < 30.0) {
        nen_warn(r, "minen-minor-component",
                 "%s component %s%% < 30%%: not a MiNEN; classified as its neuroendocrine "
                 "component", kind, nen_fmt_num(non, a, sizeof a));
    } else {
        minen(r, ne, non, kind);
    }
}

void nen_grade_classify(const struct nen_case *c, struct nen_result *r)
{
    if (c->site == NEN_SITE_UNKNOWN) {
        enum nen_class nec = nen_nec_class(c->diff);
        nen_missing(r, "site");
        if (nec != NEN_CLASS_INDETERMINATE) {
            /* every Table 3 system calls this morphology NEC, whatever the site */
            r->cls = nec;
            r->grade = NEN_GRADE_HIGH;
            nen_trace_add(&r->class_trace, R_T3 ": NEC rows of every site",
                          "primary site not reported; poorly differentiated morphology: %s, "
                          "high grade by definition", nen_class_name(nec));
            nen_trace_add(&r->grade_trace, R_T3 ": NEC rows", "NEC is high grade by definition");
        } else {
            nen_trace_add(&r->class_trace, R_T3 ": the grading system depends on the site",
                          "primary site not reported: class and grade indeterminate");
            nen_trace_add(&r->grade_trace, R_T3 ": the grading system depends on the site",
                          "primary site not reported: no grading system to apply");
        }
        apply_mixed(c, r);
        return;
    }
    struct nen_prolif p;
    nen_prolif_read(c, r, &p);
    grade_by_site(c, &p, r);
    apply_mixed(c, r);
}
