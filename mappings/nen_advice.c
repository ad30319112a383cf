/*
 * nen_advice.c - the guideline's advice that follows from class, grade, type
 * and stage: follow-up interval (CACA 2025 §7), genetic risk assessment
 * (§2.3) and endoscopic treatment (§4.1). Suggestions for the treating team,
 * never orders: each piece carries a stable code (tests/vectors/README.md),
 * words, and a trace step citing the section. Pure: reads the case and the
 * result already computed, writes r->advice and r->advice_trace only. Where
 * an input the rule needs is unknown the rule gives nothing and says why.
 */
#include "nen_rules.h"

#include <string.h>

#define R_FOLLOW "CACA 2025 §7 follow-up"
#define R_GENETIC "CACA 2025 §2.3 genetic risk assessment"
#define R_ENDO "CACA 2025 §4.1 endoscopic treatment"

static void advise(struct nen_result *r, const char *code, const char *rule, const char *text)
{
    for (int i = 0; i < r->nadvice; i++)
        if (strcmp(r->advice[i].code, code) == 0)
            return;
    if (r->nadvice < NEN_ADVICE_MAX) {
        nen_text_set(r->advice[r->nadvice].code, NEN_ADVICE_CODE_LEN, "%s", code);
        nen_text_set(r->advice[r->nadvice].text, NEN_TEXT_LEN, "%s", text);
        r->nadvice++;
    }
    nen_trace_add(&r->advice_trace, rule, "%s: %s", code, text);
}

static void no_advice(struct nen_result *r, const char *rule, const char *why)
{
    nen_trace_add(&r->advice_trace, rule, "no suggestion: %s", why);
}

static int is_nec(enum nen_class k)
{
    return k == NEN_CLASS_NEC || k == NEN_CLASS_NEC_SMALL || k == NEN_CLASS_NEC_LARGE;
}

/* ---------- follow-up (§7; seed lines 5951-5969) ---------- */

/* §7: "G1 rectal or appendiceal tumour < 1 cm, R0 resection, no adverse
 * histological features": no long-term follow-up. Adverse features read as
 * lymphovascular or perineural invasion and invasion beyond the submucosa.
 * Returns 1 when every condition is known to hold; names what is unknown. */
static int exempt_from_follow_up(const struct nen_case *c, struct nen_result *r)
{
    const uint64_t shallow = (1ULL << NEN_EXT_LAMINA_PROPRIA) | (1ULL << NEN_EXT_SUBMUCOSA);
    if (c->site != NEN_SITE_RECTUM && c->site != NEN_SITE_APPENDIX)
        return 0;
    if (!c->size_mm.known || c->size_mm.value >= 10)
        return 0;
    const char *unknown = c->margin == NEN_MARGIN_UNKNOWN     ? "resection margin"
                          : c->lvi == NEN_TRI_UNKNOWN         ? "lymphovascular invasion"
                          : c->pni == NEN_TRI_UNKNOWN         ? "perineural invasion"
                          : c->extent == 0                    ? "depth of invasion"
                                                              : NULL;
    if (unknown) {
        nen_trace_add(&r->advice_trace, R_FOLLOW, "G1 %s tumour < 1 cm: %s unknown, so the "
                      "exemption from long-term follow-up cannot be checked",
                      nen_site_name(c->site), unknown);
        return 0;
    }
    return c->margin == NEN_MARGIN_R0 && c->lvi == NEN_TRI_NO && c->pni == NEN_TRI_NO &&
           (c->extent & ~shallow) == 0;
}

static void follow_up(const struct nen_case *c, struct nen_result *r)
{
    if (is_nec(r->cls) || (r->cls == NEN_CLASS_NET && r->grade == NEN_GRADE_G3)) {
        advise(r, "follow-up-2-3m", R_FOLLOW ", G3 and NEC",
               "follow-up every 2-3 months (G3 and NEC)");
        return;
    }
    if (r->cls == NEN_CLASS_TC || r->cls == NEN_CLASS_AC || r->cls == NEN_CLASS_CARCINOID_NOS) {
        advise(r, "follow-up-3-12m", R_FOLLOW ", TC and AC",
               "follow-up every 3-12 months (typical / atypical carcinoid), by class, growth "
               "and symptom control");
        return;
    }
    if (r->cls != NEN_CLASS_NET) {
        no_advice(r, R_FOLLOW, "the section states intervals for NET, NEC, TC and AC only");
        return;
    }
    if (r->grade == NEN_GRADE_G1) {
        if (exempt_from_follow_up(c, r))
            advise(r, "follow-up-none", R_FOLLOW ", exemption",
                   "no long-term follow-up needed: G1, < 1 cm, R0 resection, no adverse "
                   "histological features");
        else
            advise(r, "follow-up-6-12m", R_FOLLOW ", G1 and G2 with Ki-67 < 5%",
                   "follow-up every 6-12 months (G1)");
        return;
    }
    if (r->grade != NEN_GRADE_G2) {
        no_advice(r, R_FOLLOW, "grade not determined");
        return;
    }
    if (!c->ki67.known) {
        no_advice(r, R_FOLLOW, "G2: the interval depends on Ki-67 (5%), which is unknown");
        return;
    }
    if (c->ki67.value < 5)
        advise(r, "follow-up-6-12m", R_FOLLOW ", G1 and G2 with Ki-67 < 5%",
               "follow-up every 6-12 months (G2, Ki-67 < 5%)");
    else /* Ki-67 exactly 5% is in neither row: the shorter interval (RULES.md) */
        advise(r, "follow-up-3-6m", R_FOLLOW ", G2 with Ki-67 > 5%",
               "follow-up every 3-6 months (G2, Ki-67 >= 5%)");
}

/* ---------- genetic risk assessment (§2.3; seed lines 891-905) ---------- */

static void genetic(const struct nen_case *c, struct nen_result *r)
{
    const struct {
        int applies;
        const char *why;
    } rows[] = {
        {c->gastrinoma == NEN_TRI_YES,
         "gastrinoma / Zollinger-Ellison / MEN1 reported (§2.3 (1): gastrinoma of duodenum or "
         "pancreas; MEN features)"},
        {r->gtype == NEN_GTYPE_2, "type 2 gastric NET: the gastrinoma behind it (§2.3 (1))"},
        {r->cls == NEN_CLASS_PPGL, "pheochromocytoma / paraganglioma (§2.3 (3))"},
        {c->site == NEN_SITE_PANCREAS && c->tumour_count.known && c->tumour_count.value > 1,
         "multifocal pancreatic NET (§2.3 (4))"},
        {r->cls == NEN_CLASS_MTC, "medullary thyroid carcinoma: consider MEN2 (§2.3 (6))"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].applies) {
            char text[NEN_TEXT_LEN];
            nen_text_set(text, sizeof text, "genetic risk assessment and testing recommended: %s",
                         rows[i].why);
            advise(r, "genetic-assessment", R_GENETIC, text);
            return;
        }
}

/* ---------- endoscopic treatment (§4.1; seed lines 2578-2731) ---------- */

/* Confined to mucosa / submucosa (known), and N0 M0 (computed). */
static int confined(const struct nen_case *c)
{
    const uint64_t shallow = (1ULL << NEN_EXT_LAMINA_PROPRIA) | (1ULL << NEN_EXT_SUBMUCOSA);
    return c->extent != 0 && (c->extent & ~shallow) == 0;
}

static int n0_m0(const struct nen_result *r)
{
    return r->n.value == NEN_N_0 && r->m.value == NEN_M_0;
}

static int low_g2(const struct nen_case *c, const struct nen_result *r)
{
    return r->grade == NEN_GRADE_G2 && c->ki67.known && c->ki67.value < 10;
}

/* Type 1 gastric NET (§4.1.1). */
static void endo_gastric_1(const struct nen_case *c, const struct nen_result *r0,
                           struct nen_result *r)
{
    double s = c->size_mm.value;
    const char *rule = R_ENDO ".1, type 1 g-NET";
    if (s <= 10 && (r0->grade == NEN_GRADE_G1 || low_g2(c, r0)))
        advise(r, "endoscopic-surveillance-or-resection", rule,
               "<= 10 mm, G1 or G2 with Ki-67 < 10%: endoscopic surveillance, or ESD / EMR / "
               "EFTR of single or few polypoid lesions");
    else if (s <= 10 && r0->grade == NEN_GRADE_G3)
        advise(r, "endoscopic-resection-after-eus", rule,
               "<= 10 mm, G3: endoscopic resection only once EUS shows no muscularis invasion "
               "and no nodal metastasis");
    else if (s > 10 && s <= 20 && r0->grade == NEN_GRADE_G3)
        advise(r, "surgery", rule, "10-20 mm, G3: surgical resection");
    else if (s > 10 && s <= 20 && (r0->grade == NEN_GRADE_G1 || r0->grade == NEN_GRADE_G2) &&
             confined(c) && n0_m0(r0))
        advise(r, "endoscopic-resection", rule,
               "10-20 mm, G1-G2, no muscularis invasion, no metastasis: endoscopic resection "
               "(EMR, ESD or EFTR)");
    else if (s > 20)
        advise(r, "surgery", rule, "> 20 mm: surgical resection");
    else
        no_advice(r, rule, "grade, depth or nodes/metastasis not settled for a row");
}

/* Type 3 gastric NET (§4.1.1). */
static void endo_gastric_3(const struct nen_case *c, const struct nen_result *r0,
                           struct nen_result *r)
{
    double s = c->size_mm.value;
    const char *rule = R_ENDO ".1, type 3 g-NET";
    if (s <= 10 && r0->grade == NEN_GRADE_G1 && confined(c) && n0_m0(r0))
        advise(r, "endoscopic-resection", rule,
               "<= 10 mm, G1, confined to mucosa / submucosa, no metastasis: ESD or EMR");
    else if (s <= 15 && low_g2(c, r0))
        advise(r, "endoscopic-resection-if-unfit", rule,
               "<= 15 mm, G2 with Ki-67 < 10%: endoscopic resection if the patient cannot "
               "undergo surgery");
    else
        no_advice(r, rule, "no endoscopic row applies");
}

/* Duodenal and ampullary NET (§4.1.2). "G2 with low Ki-67" read as Ki-67 < 10%,
 * as the gastric rows define low G2 (RULES.md). */
static void endo_duodenum(const struct nen_case *c, const struct nen_result *r0,
                          struct nen_result *r)
{
    double s = c->size_mm.value;
    const char *rule = R_ENDO ".2, duodenal NET";
    if (s < 5)
        advise(r, "endoscopic-removal-and-follow-up", rule,
               "< 5 mm (non-functional, upper duodenum): removed as a polyp, then follow-up");
    else if (s <= 15 && (r0->grade == NEN_GRADE_G1 || low_g2(c, r0)) && confined(c) &&
             n0_m0(r0))
        advise(r, "endoscopic-resection", rule,
               "5-15 mm, G1 or low G2, no muscularis invasion, no metastasis: endoscopic "
               "resection (EMR or ESD) and follow-up");
    else
        no_advice(r, rule, "no endoscopic row applies");
}

/* Colorectal NET (§4.1.3). */
static void endo_colorectal(const struct nen_case *c, const struct nen_result *r0,
                            struct nen_result *r)
{
    double s = c->size_mm.value;
    if (c->site == NEN_SITE_COLON) {
        if (s <= 10 && r0->grade == NEN_GRADE_G1)
            advise(r, "endoscopic-resection", R_ENDO ".3, colonic NET",
                   "<= 10 mm, G1: ESD or EMR after EUS and imaging");
        else
            no_advice(r, R_ENDO ".3, colonic NET", "colonic NETs beyond 10 mm G1 need surgery");
        return;
    }
    const char *rule = R_ENDO ".3, rectal NET";
    if (s < 20 && confined(c) && (r0->grade == NEN_GRADE_G1 || r0->grade == NEN_GRADE_G2))
        advise(r, "endoscopic-resection", rule,
               "< 20 mm, T1 (mucosa / submucosa), G1-G2: endoscopic resection (ESD, m-EMR, "
               "EFTR) once muscularis invasion and nodal metastasis are excluded");
    else if (s > 20)
        advise(r, "surgery", rule, "> 20 mm: surgical resection");
    else
        no_advice(r, rule, "no endoscopic row applies (20 mm exactly lies between the rows)");
}

static void endoscopic(const struct nen_case *c, const struct nen_result *r0,
                       struct nen_result *r)
{
    if (is_nec(r0->cls)) {
        advise(r, "endoscopic-none", R_ENDO, "no endoscopic treatment indication for NEC");
        return;
    }
    if (r0->cls != NEN_CLASS_NET)
        return;
    int site_has_rows = (c->site == NEN_SITE_STOMACH && (r0->gtype == NEN_GTYPE_1 ||
                                                         r0->gtype == NEN_GTYPE_3)) ||
                        c->site == NEN_SITE_DUODENUM || c->site == NEN_SITE_AMPULLA ||
                        c->site == NEN_SITE_COLON || c->site == NEN_SITE_RECTUM;
    if (!site_has_rows)
        return;
    if (c->site == NEN_SITE_AMPULLA) {
        advise(r, "surgery", R_ENDO ".2, ampullary NET",
               "ampullary / periampullary NET: surgical resection with node sampling, even "
               "< 10 mm");
        return;
    }
    if (!c->size_mm.known) {
        no_advice(r, R_ENDO, "tumour size unknown");
        return;
    }
    if (c->site == NEN_SITE_STOMACH)
        (r0->gtype == NEN_GTYPE_1 ? endo_gastric_1 : endo_gastric_3)(c, r0, r);
    else if (c->site == NEN_SITE_DUODENUM)
        endo_duodenum(c, r0, r);
    else
        endo_colorectal(c, r0, r);
}

void nen_advice_classify(const struct nen_case *c, struct nen_result *r)
{
    r->nadvice = 0;
    memset(&r->advice_trace, 0, sizeof r->advice_trace);
    follow_up(c, r);
    genetic(c, r);
    endoscopic(c, r, r);
}
