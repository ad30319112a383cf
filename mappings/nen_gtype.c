/*
 * nen_gtype.c - gastric NET type 1 / 2 / 3 (CACA 2025 §3.6, Table 7, Figure 1;
 * review §4): the decision of Figure 1 from gastrin, acid status and the
 * background work-up, then the Table 7 "usual grade" and lesion-pattern
 * cross-checks as warnings. Only well-differentiated gastric NETs are typed.
 */
#include "nen_rules.h"

#define R_FIG1 "CACA 2025 Figure 1 / Table 7"

/* Gastric pH thresholds. The seed gives no number; these are nenfhir's reading
 * of "pH low" (hyperacidity, < 2) and "pH high" (hypo/achlorhydria, > 4). */
#define NEN_PH_HYPERACID_BELOW 2.0
#define NEN_PH_HYPOACID_ABOVE 4.0

static enum nen_gastrin_status gastrin_status(const struct nen_case *c, struct nen_result *r)
{
    char a[24], b[24];
    if (c->gastrin.known && c->gastrin_uln.known) {
        int high = c->gastrin.value > c->gastrin_uln.value;
        nen_trace_add(&r->gtype_trace, R_FIG1 ": serum gastrin",
                      "gastrin %s with upper limit %s: %s%s", nen_fmt_num(c->gastrin.value, a, sizeof a),
                      nen_fmt_num(c->gastrin_uln.value, b, sizeof b), high ? "high" : "normal",
                      high && c->gastrin.value > 10.0 * c->gastrin_uln.value
                          ? " (> 10 x upper limit, as often in type 2)"
                          : "");
        return high ? NEN_GASTRIN_HIGH : NEN_GASTRIN_NORMAL;
    }
    if (c->gastrin_status != NEN_GASTRIN_UNKNOWN) {
        nen_trace_add(&r->gtype_trace, R_FIG1 ": serum gastrin", "gastrin reported %s",
                      c->gastrin_status == NEN_GASTRIN_HIGH ? "high" : "normal");
        return c->gastrin_status;
    }
    return NEN_GASTRIN_UNKNOWN;
}

static enum nen_acid acid_status(const struct nen_case *c, struct nen_result *r)
{
    char a[24];
    enum nen_acid from_ph = NEN_ACID_UNKNOWN;
    if (c->gastric_ph.known) {
        double ph = c->gastric_ph.value;
        if (ph < NEN_PH_HYPERACID_BELOW)
            from_ph = NEN_ACID_HIGH;
        else if (ph > NEN_PH_HYPOACID_ABOVE)
            from_ph = NEN_ACID_LOW;
        nen_trace_add(&r->gtype_trace, "nenfhir pH reading (seed gives no number)",
                      "gastric pH %s: %s", nen_fmt_num(ph, a, sizeof a),
                      from_ph == NEN_ACID_HIGH  ? "< 2, hyperacidity"
                      : from_ph == NEN_ACID_LOW ? "> 4, hypo/achlorhydria"
                                                : "2-4, acid status not decided");
    }
    if (c->acid != NEN_ACID_UNKNOWN && from_ph != NEN_ACID_UNKNOWN && c->acid != from_ph) {
        nen_warn(r, "acid-conflict",
                 "reported acid status and gastric pH %s disagree: neither is used",
                 nen_fmt_num(c->gastric_ph.value, a, sizeof a));
        return NEN_ACID_UNKNOWN;
    }
    return c->acid != NEN_ACID_UNKNOWN ? c->acid : from_ph;
}

/* Table 7 "usual grade" and lesion-pattern cross-checks. */
static void cross_check(const struct nen_case *c, struct nen_result *r)
{
    enum nen_gtype t = r->gtype;
    int ecl = t == NEN_GTYPE_1 || t == NEN_GTYPE_2;
    if (ecl && (r->grade == NEN_GRADE_G2 || r->grade == NEN_GRADE_G3))
        nen_warn(r, "type-usual-grade",
                 "type %s with %s: Table 7 gives G1 as usual (G2 rare, G3 rare/occasional)",
                 nen_gtype_name(t), nen_grade_name(r->grade));
    if (t == NEN_GTYPE_3 && r->grade == NEN_GRADE_G1)
        nen_warn(r, "type-usual-grade", "type 3 with G1: Table 7 gives G2 as usual (G1 rare)");
    if (ecl && c->tumour_count.known && c->tumour_count.value == 1)
        nen_warn(r, "type-lesion-pattern",
                 "type %s with a single tumour: types 1 and 2 are usually multiple",
                 nen_gtype_name(t));
    if (ecl && c->gastric_region != NEN_GREGION_UNKNOWN &&
        c->gastric_region != NEN_GREGION_BODY_FUNDUS)
        nen_warn(r, "type-lesion-pattern",
                 "type %s in the %s: types 1 and 2 arise in the body/fundus",
                 nen_gtype_name(t), c->gastric_region == NEN_GREGION_ANTRUM ? "antrum" : "cardia");
    if (t == NEN_GTYPE_3 && c->tumour_count.known && c->tumour_count.value > 1)
        nen_warn(r, "type-lesion-pattern",
                 "type 3 with multiple tumours: type 3 is usually single");
}

static void decide(const struct nen_case *c, struct nen_result *r)
{
    enum nen_gastrin_status g = gastrin_status(c, r);
    if (g == NEN_GASTRIN_UNKNOWN) {
        r->gtype = NEN_GTYPE_INDETERMINATE;
        nen_trace_add(&r->gtype_trace, R_FIG1, "serum gastrin not reported: type undecided");
        nen_missing(r, "gastrin");
        return;
    }
    if (g == NEN_GASTRIN_NORMAL) {
        r->gtype = NEN_GTYPE_3;
        nen_trace_add(&r->gtype_trace, R_FIG1 ", type 3 column", "normal gastrin: type 3");
        return;
    }
    enum nen_acid acid = acid_status(c, r);
    int t2 = c->gastrinoma == NEN_TRI_YES || acid == NEN_ACID_HIGH;
    int t1 = c->atrophic_gastritis == NEN_TRI_YES || c->parietal_antibodies == NEN_TRI_YES ||
             acid == NEN_ACID_LOW;
    if (t2) {
        r->gtype = NEN_GTYPE_2;
        nen_trace_add(&r->gtype_trace, R_FIG1 ", type 2 column",
                      "high gastrin with %s: type 2",
                      c->gastrinoma == NEN_TRI_YES ? "gastrinoma/ZES/MEN1" : "hyperacidity");
        if (t1)
            nen_warn(r, "type-conflicting-workup",
                     "type 2 findings (gastrinoma/ZES/MEN1 or hyperacidity) together with "
                     "type 1 findings (atrophic gastritis or antibodies): type 2 followed");
        return;
    }
    if (t1) {
        r->gtype = NEN_GTYPE_1;
        nen_trace_add(&r->gtype_trace, R_FIG1 ", type 1 column", "high gastrin with %s: type 1",
                      c->atrophic_gastritis == NEN_TRI_YES    ? "atrophic gastritis"
                      : c->parietal_antibodies == NEN_TRI_YES ? "parietal-cell/IF antibodies"
                                                              : "hypo/achlorhydria");
        return;
    }
    r->gtype = NEN_GTYPE_1_OR_2;
    int gaps = 0;
    if (acid == NEN_ACID_UNKNOWN) {
        nen_missing(r, "acid");
        gaps++;
    }
    if (c->atrophic_gastritis == NEN_TRI_UNKNOWN) {
        nen_missing(r, "atrophic_gastritis");
        gaps++;
    }
    if (c->parietal_antibodies == NEN_TRI_UNKNOWN) {
        nen_missing(r, "antibodies");
        gaps++;
    }
    if (c->gastrinoma == NEN_TRI_UNKNOWN) {
        nen_missing(r, "gastrinoma");
        gaps++;
    }
    if (gaps) {
        nen_trace_add(&r->gtype_trace, R_FIG1,
                      "high gastrin, work-up incomplete (acid status, atrophic gastritis, "
                      "antibodies, gastrinoma/ZES/MEN1): type 1 or 2");
    } else {
        nen_trace_add(&r->gtype_trace, R_FIG1,
                      "high gastrin, no type 1 or type 2 finding: type 1 or 2");
        nen_warn(r, "type-unexplained-gastrin",
                 "high gastrin but the work-up found neither type 1 nor type 2 features");
    }
}

void nen_gtype_classify(const struct nen_case *c, struct nen_result *r)
{
    if (c->site == NEN_SITE_UNKNOWN) {
        r->gtype = NEN_GTYPE_INDETERMINATE;
        nen_trace_add(&r->gtype_trace, R_FIG1, "primary site not reported: could be gastric");
        return;
    }
    if (c->site != NEN_SITE_STOMACH) {
        r->gtype = NEN_GTYPE_NOT_APPLICABLE;
        nen_trace_add(&r->gtype_trace, R_FIG1, "%s primary: the gastric NET type applies to "
                      "the stomach only", nen_site_name(c->site));
        return;
    }
    if (r->cls == NEN_CLASS_INDETERMINATE) {
        r->gtype = NEN_GTYPE_INDETERMINATE;
        nen_trace_add(&r->gtype_trace, R_FIG1,
                      "class not decided: only well-differentiated NETs are typed");
        return;
    }
    if (r->cls != NEN_CLASS_NET) {
        r->gtype = NEN_GTYPE_NOT_APPLICABLE;
        nen_trace_add(&r->gtype_trace, R_FIG1, "%s is reported as such, not typed",
                      nen_class_name(r->cls));
        return;
    }
    decide(c, r);
    cross_check(c, r);
}
