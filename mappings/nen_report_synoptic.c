/*
 * nen_report_synoptic.c - the conclusion sentence and the synoptic sections
 * of nen_report_synoptic.h, from the result and the case as read (x->lo and
 * x->hi; a ranged input is shown as reported). Words only: the renderers in
 * nen_report_form.c make text/plain and xhtml of them.
 */
#include "nen_report_synoptic.h"

#include "nen_report_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LINE 512

/* Append to buf (cut to len, never overflowed). */
static void addf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void addf(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

/* Format into buf (cut to len). */
static void setf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void setf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* ---------- words ---------- */

static const char *site_words(enum nen_site s)
{
    static const char *const w[NEN_SITE__COUNT] = {
        [NEN_SITE_UNKNOWN] = "primary site not reported", [NEN_SITE_STOMACH] = "stomach",
        [NEN_SITE_DUODENUM] = "duodenum", [NEN_SITE_AMPULLA] = "ampulla of Vater",
        [NEN_SITE_JEJUNUM_ILEUM] = "jejunum/ileum", [NEN_SITE_APPENDIX] = "appendix",
        [NEN_SITE_COLON] = "colon", [NEN_SITE_RECTUM] = "rectum", [NEN_SITE_PANCREAS] = "pancreas",
        [NEN_SITE_ESOPHAGUS] = "oesophagus", [NEN_SITE_LIVER] = "liver",
        [NEN_SITE_GALLBLADDER] = "gallbladder", [NEN_SITE_BILE_DUCT] = "bile duct",
        [NEN_SITE_LUNG] = "lung", [NEN_SITE_THYMUS] = "thymus",
        [NEN_SITE_UPPER_AERODIGESTIVE] = "upper aerodigestive tract",
        [NEN_SITE_SALIVARY] = "salivary gland", [NEN_SITE_THYROID] = "thyroid",
        [NEN_SITE_PITUITARY] = "pituitary", [NEN_SITE_ADRENAL_PARAGANGLIA] = "adrenal / paraganglia",
        [NEN_SITE_SKIN] = "skin", [NEN_SITE_BREAST] = "breast", [NEN_SITE_GENITAL] = "genital tract",
        [NEN_SITE_URINARY] = "urinary tract", [NEN_SITE_OTHER] = "other site"};
    return s < NEN_SITE__COUNT && w[s] ? w[s] : "primary site not reported";
}

const char *nen_class_words(enum nen_class k)
{
    static const char *const w[NEN_CLASS__COUNT] = {
        [NEN_CLASS_INDETERMINATE] = "Neuroendocrine neoplasm, class indeterminate",
        [NEN_CLASS_NET] = "Well-differentiated neuroendocrine tumour",
        [NEN_CLASS_NEC_SMALL] = "Small cell neuroendocrine carcinoma",
        [NEN_CLASS_NEC_LARGE] = "Large cell neuroendocrine carcinoma",
        [NEN_CLASS_NEC] = "Poorly differentiated neuroendocrine carcinoma",
        [NEN_CLASS_MINEN] = "Mixed neuroendocrine-non-neuroendocrine neoplasm (MiNEN)",
        [NEN_CLASS_TC] = "Typical carcinoid", [NEN_CLASS_AC] = "Atypical carcinoid",
        [NEN_CLASS_CARCINOID_NOS] = "Carcinoid tumour, NOS",
        [NEN_CLASS_MTC] = "Medullary thyroid carcinoma",
        [NEN_CLASS_PITNET] = "Pituitary neuroendocrine tumour",
        [NEN_CLASS_PPGL] = "Phaeochromocytoma / paraganglioma",
        [NEN_CLASS_MCC] = "Merkel cell carcinoma"};
    return k < NEN_CLASS__COUNT && w[k] ? w[k] : w[0];
}

static const char *grade_words(enum nen_grade g)
{
    switch (g) {
    case NEN_GRADE_LOW: return "low grade";
    case NEN_GRADE_HIGH: return "high grade";
    case NEN_GRADE_NOT_GRADED: return "not graded";
    case NEN_GRADE_INDETERMINATE: return "grade indeterminate";
    default: return nen_grade_name(g);
    }
}

static const char *tri_words(enum nen_tri t)
{
    return t == NEN_TRI_YES ? "yes" : t == NEN_TRI_NO ? "no" : "not reported";
}

static const char *present_words(enum nen_tri t)
{
    return t == NEN_TRI_YES ? "present" : t == NEN_TRI_NO ? "absent" : "not reported";
}

/* "lamina_propria" -> "lamina propria" into buf. */
static const char *spaced(const char *word, char *buf, size_t len)
{
    setf(buf, len, "%s", word);
    for (char *p = buf; *p; p++)
        if (*p == '_')
            *p = ' ';
    return buf;
}

/* ---------- which missing inputs concern which result ---------- */

enum field { F_CLASS, F_GRADE, F_TYPE, F_T, F_N, F_M, F_STAGE };

static int concerns(enum field f, const char *key)
{
    static const char *const keys[] = {
        [F_CLASS] = " site specimen diff lineage ki67 mitoses necrosis ",
        [F_GRADE] = " site specimen diff ki67 mitoses necrosis ",
        [F_TYPE] = " gastrin acid atrophic_gastritis antibodies gastrinoma ",
        [F_T] = " size depth ",
        [F_N] = " nodes pn mesenteric_mass ",
        [F_M] = " mets met_lesions ",
        [F_STAGE] = " site size depth nodes pn mesenteric_mass mets met_lesions "};
    char pad[NEN_MISSING_LEN + 2];
    snprintf(pad, sizeof pad, " %.*s ", NEN_MISSING_LEN - 1, key);
    return strstr(keys[f], pad) != NULL;
}

/* 1 if a reported input could not be settled (a range or an unreadable value). */
static int undecided(const struct nen_result *r)
{
    static const char *const codes[] = {"input-range-undecided", "input-unreadable",
                                        "input-unit-unknown"};
    for (int i = 0; i < r->nwarn; i++)
        for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++)
            if (strcmp(r->warn[i].code, codes[k]) == 0)
                return 1;
    return 0;
}

/* Why an indeterminate result of f is so, into buf: ": a and b missing" for
 * the missing inputs that concern f, else the reported values leaving it
 * open, else "". */
static void missing_for(const struct nen_result *r, enum field f, char *buf, size_t len)
{
    int n = 0, total = 0;
    buf[0] = '\0';
    for (int i = 0; i < r->nmissing; i++)
        total += concerns(f, r->missing[i]);
    for (int i = 0; i < r->nmissing; i++) {
        if (!concerns(f, r->missing[i]))
            continue;
        const char *sep = n == 0 ? ": " : n == total - 1 ? " and " : ", ";
        addf(buf, len, "%s%s", sep, nen_input_label(r->missing[i]));
        n++;
    }
    if (n)
        addf(buf, len, " missing");
    else if (undecided(r))
        addf(buf, len, ": the reported values leave it open (see warnings)");
}

/* ---------- the inputs, as read ---------- */

static int ranged(const struct nen_extract *x, const char *key)
{
    char pad[NEN_CODE_KEY_LEN + 2], hay[NEN_TEXT_LEN + 2];
    snprintf(pad, sizeof pad, " %s ", key);
    snprintf(hay, sizeof hay, " %s ", x->ranged_keys);
    return x->ranged && strstr(hay, pad) != NULL;
}

static const char *unread_ref(const struct nen_extract *x, const char *key)
{
    for (int i = 0; i < x->nunread; i++)
        if (strcmp(x->unread[i].key, key) == 0)
            return x->unread[i].ref;
    return NULL;
}

static const char *shown(const struct nen_extract *x, const char *key)
{
    for (int i = 0; i < x->nsrc; i++)
        if (strcmp(x->src[i].key, key) == 0)
            return x->src[i].shown;
    return NULL;
}

/* A number input as read: "7", "15-20 %" as reported for a range, or NULL
 * when not reported. suffix follows a single number. */
static const char *number(const struct nen_extract *x, const char *key, const struct nen_num *lo,
                          const char *suffix, char *buf, size_t len)
{
    char a[32];
    if (!lo->known)
        return NULL;
    const char *as_sent = ranged(x, key) ? shown(x, key) : NULL;
    size_t n = as_sent ? strlen(as_sent) : 0;
    if (n >= 2 && as_sent[0] == '\'' && as_sent[n - 1] == '\'') /* a string as quoted */
        setf(buf, len, "%.*s as reported", (int)(n - 2), as_sent + 1);
    else if (n)
        setf(buf, len, "%s as reported", as_sent);
    else
        setf(buf, len, "%s%s", nen_fmt_num(lo->value, a, sizeof a), suffix);
    return buf;
}

/* The value of an input for a row: the text, else "reported but not readable
 * (ref)", else "not reported". */
static const char *input_text(const struct nen_extract *x, const char *key, const char *text,
                              char *buf, size_t len)
{
    const char *ref = unread_ref(x, key);
    if (text)
        return text;
    if (ref) {
        setf(buf, len, "reported but not readable (%s)", ref);
        return buf;
    }
    return "not reported";
}

static const char *ki67_text(const struct nen_extract *x, char *buf, size_t len)
{
    return number(x, "ki67", &x->lo.ki67, "%", buf, len);
}

/* The mitotic count as read; with_field adds the field area of a count per 10 HPF. */
static const char *mitoses_text(const struct nen_extract *x, int with_field, char *buf, size_t len)
{
    const struct nen_case *c = &x->lo;
    char n[96], a[32];
    if (!number(x, "mitoses", &c->mitoses, "", n, sizeof n))
        return NULL;
    const char *unit = c->mitoses_unit == NEN_MIT_PER_2MM2    ? "/2 mm²"
                       : c->mitoses_unit == NEN_MIT_PER_10HPF ? "/10 HPF"
                                                              : " (area not stated)";
    if (ranged(x, "mitoses"))
        setf(buf, len, "%s", n);
    else
        setf(buf, len, "%s %s%s", n, c->mitoses.value == 1 ? "mitosis" : "mitoses", unit);
    if (with_field && c->mitoses_unit == NEN_MIT_PER_10HPF && c->hpf_area_mm2.known)
        addf(buf, len, " (field %s mm²)", nen_fmt_num(c->hpf_area_mm2.value, a, sizeof a));
    return buf;
}

static const char *necrosis_text(enum nen_necrosis n)
{
    switch (n) {
    case NEN_NECROSIS_NONE: return "no necrosis";
    case NEN_NECROSIS_PUNCTATE: return "punctate necrosis";
    case NEN_NECROSIS_EXTENSIVE: return "extensive necrosis";
    case NEN_NECROSIS_PRESENT: return "necrosis present";
    default: return NULL;
    }
}

static const char *diff_text(enum nen_diff d)
{
    switch (d) {
    case NEN_DIFF_WELL: return "well differentiated";
    case NEN_DIFF_SMALL_CELL: return "poorly differentiated, small cell";
    case NEN_DIFF_LARGE_CELL: return "poorly differentiated, large cell";
    case NEN_DIFF_POOR: return "poorly differentiated";
    default: return NULL;
    }
}

/* "(Ki-67 7%, 4.2 mitoses/2 mm², no necrosis)" into buf, "" when none is known. */
static void measures(const struct nen_extract *x, char *buf, size_t len)
{
    char k[128], m[160];
    const char *parts[3] = {ki67_text(x, k, sizeof k), mitoses_text(x, 0, m, sizeof m),
                            necrosis_text(x->lo.necrosis)};
    buf[0] = '\0';
    for (int i = 0, n = 0; i < 3; i++)
        if (parts[i])
            addf(buf, len, "%s%s%s", n++ ? ", " : "(", i == 0 ? "Ki-67 " : "", parts[i]);
    if (buf[0])
        addf(buf, len, ")");
}

/* ---------- the conclusion sentence ---------- */

static void class_and_grade(const struct nen_extract *x, const struct nen_result *r, char *buf,
                            size_t len)
{
    char miss[LINE], meas[LINE];
    addf(buf, len, "%s", nen_class_words(r->cls));
    if (r->cls == NEN_CLASS_INDETERMINATE) {
        missing_for(r, F_CLASS, miss, sizeof miss);
        addf(buf, len, "%s", miss);
    }
    if (r->cls == NEN_CLASS_PITNET && r->subtype[0])
        addf(buf, len, " (%s)", r->subtype);
    missing_for(r, F_GRADE, miss, sizeof miss);
    measures(x, meas, sizeof meas);
    if (r->grade == NEN_GRADE_INDETERMINATE)
        addf(buf, len, ", grade indeterminate%s", miss);
    else
        addf(buf, len, ", %s", grade_words(r->grade));
    if (meas[0])
        addf(buf, len, " %s", meas);
}

static void site_and_type(const struct nen_result *r, const struct nen_case *c, char *buf,
                          size_t len)
{
    char miss[LINE];
    addf(buf, len, ", %s", site_words(c->site));
    if (r->gtype == NEN_GTYPE_NOT_APPLICABLE)
        return;
    if (r->gtype == NEN_GTYPE_INDETERMINATE) {
        missing_for(r, F_TYPE, miss, sizeof miss);
        addf(buf, len, ", gastric NET type indeterminate%s", miss);
    } else if (r->gtype == NEN_GTYPE_1_OR_2) {
        addf(buf, len, ", gastric NET type 1 or 2");
    } else {
        addf(buf, len, ", gastric NET type %s", nen_gtype_name(r->gtype));
    }
}

/* "pT2" / "pT1(m)" / "pT indeterminate (T1 or T2: depth of invasion missing)". */
static void category(const struct nen_result *r, const struct nen_tnm_result *t, enum field f,
                     const char *prefix, char *buf, size_t len)
{
    char v[32], miss[LINE];
    if (t->value != NEN_TNM_UNKNOWN) {
        addf(buf, len, "%s%s", prefix, nen_tnm_result_text(t, v, sizeof v));
        return;
    }
    addf(buf, len, "%s%c indeterminate", prefix, "TNM"[f - F_T]);
    missing_for(r, f, miss, sizeof miss);
    if (!t->candidates && !miss[0])
        return;
    addf(buf, len, " (");
    for (int k = 0, n = 0; k < NEN_TNM__COUNT; k++)
        if (t->candidates & (1ULL << k))
            addf(buf, len, "%s%s", n++ ? " or " : "", nen_tnm_name((enum nen_tnm)k));
    addf(buf, len, "%s)", t->candidates ? miss : miss + 2);
}

/* "IV", or "indeterminate (III or IV): distant metastasis missing", into buf. */
static void stage_text(const struct nen_result *r, char *buf, size_t len)
{
    char miss[LINE];
    if (r->stage != NEN_STAGE_INDETERMINATE) {
        addf(buf, len, "%s", nen_stage_name(r->stage));
        return;
    }
    addf(buf, len, "indeterminate");
    missing_for(r, F_STAGE, miss, sizeof miss);
    if (r->stage_candidates) {
        addf(buf, len, " (");
        for (int k = 0, n = 0; k < NEN_STAGE__COUNT; k++)
            if (r->stage_candidates & (1u << k))
                addf(buf, len, "%s%s", n++ ? " or " : "", nen_stage_name((enum nen_stage)k));
        addf(buf, len, ")");
    }
    addf(buf, len, "%s", miss);
}

static void stage_part(const struct nen_result *r, char *buf, size_t len)
{
    if (r->stage == NEN_STAGE_NOT_STAGED) {
        addf(buf, len, ", not staged by the AJCC 9th edition NET systems");
        return;
    }
    addf(buf, len, ", ");
    category(r, &r->t, F_T, "p", buf, len);
    addf(buf, len, " ");
    category(r, &r->n, F_N, "p", buf, len);
    addf(buf, len, " ");
    category(r, &r->m, F_M, "", buf, len);
    addf(buf, len, ", AJCC 9th stage ");
    stage_text(r, buf, len);
}

void nen_report_conclusion(const struct nen_extract *x, const struct nen_result *r, char *buf,
                           size_t len)
{
    buf[0] = '\0';
    class_and_grade(x, r, buf, len);
    site_and_type(r, &x->lo, buf, len);
    stage_part(r, buf, len);
    addf(buf, len, ".");
}

/* ---------- citations ---------- */

/* ---------- the synoptic sections ---------- */

#define ROW(label, value) out->row(out->ctx, label, value)

static void site_section(const struct nen_extract *x, const struct nen_synoptic_out *out)
{
    static const char *const regions[] = {"not reported", "body / fundus", "antrum", "cardia"};
    const struct nen_case *c = &x->lo;
    char b[LINE], n[96];
    out->section(out->ctx, "Site and specimen");
    ROW("Primary site", input_text(x, "site", c->site ? site_words(c->site) : NULL, b, sizeof b));
    ROW("Specimen", input_text(x, "specimen",
                               c->specimen == NEN_SPECIMEN_RESECTION ? "resection"
                               : c->specimen == NEN_SPECIMEN_BIOPSY  ? "biopsy"
                                                                     : NULL,
                               b, sizeof b));
    if (x->case_value[0])
        ROW("Case (specimen accession)", x->case_value);
    if (c->site == NEN_SITE_STOMACH && c->gastric_region)
        ROW("Gastric region", regions[c->gastric_region]);
    if (c->tumour_count.known)
        ROW("Number of tumours", number(x, "tumours", &c->tumour_count, "", n, sizeof n));
}

static void class_rows(const struct nen_extract *x, const struct nen_result *r,
                       const struct nen_synoptic_out *out)
{
    const struct nen_case *c = &x->lo;
    char b[LINE], miss[LINE], v[96];
    setf(b, sizeof b, "%s%s%s%s", nen_class_words(r->cls), r->subtype[0] ? " (" : "", r->subtype,
             r->subtype[0] ? ")" : "");
    if (r->cls == NEN_CLASS_INDETERMINATE) {
        missing_for(r, F_CLASS, miss, sizeof miss);
        addf(b, sizeof b, "%s", miss);
    }
    ROW("WHO class", b);
    ROW("Differentiation", input_text(x, "diff", diff_text(c->diff), b, sizeof b));
    if (r->grade == NEN_GRADE_INDETERMINATE) {
        missing_for(r, F_GRADE, miss, sizeof miss);
        setf(b, sizeof b, "indeterminate%s", miss);
        ROW("Grade", b);
    } else {
        ROW("Grade", grade_words(r->grade));
    }
    ROW("Ki-67 index", input_text(x, "ki67", ki67_text(x, v, sizeof v), b, sizeof b));
    char m[160];
    ROW("Mitotic count", input_text(x, "mitoses", mitoses_text(x, 1, m, sizeof m), b, sizeof b));
    ROW("Necrosis", input_text(x, "necrosis", necrosis_text(c->necrosis), b, sizeof b));
}

static void mixed_and_lineage_rows(const struct nen_extract *x, const struct nen_synoptic_out *out)
{
    const struct nen_case *c = &x->lo;
    static const char *const ihc[] = {"not reported", "negative", "positive"};
    char b[LINE], v[96];
    if (c->ne_pct.known)
        ROW("Neuroendocrine component", number(x, "ne_pct", &c->ne_pct, "%", v, sizeof v));
    if (c->non_ne_pct.known) {
        setf(b, sizeof b, "%s%s%s", number(x, "non_ne_pct", &c->non_ne_pct, "%", v, sizeof v),
                 c->non_ne_kind[0] ? " " : "", c->non_ne_kind);
        ROW("Non-neuroendocrine component", b);
    }
    if (c->pit1 || c->tpit || c->sf1) {
        setf(b, sizeof b, "PIT1 %s, TPIT %s, SF1 %s", ihc[c->pit1], ihc[c->tpit], ihc[c->sf1]);
        ROW("Lineage transcription factors", b);
    }
    if (c->sdhb_loss)
        ROW("SDHB loss", tri_words(c->sdhb_loss));
}

static void gastrin_row(const struct nen_extract *x, const struct nen_synoptic_out *out)
{
    const struct nen_case *c = &x->lo;
    char b[LINE], v[96], u[96];
    const char *g = number(x, "gastrin", &c->gastrin, " pg/mL", v, sizeof v);
    if (g && c->gastrin_uln.known)
        setf(b, sizeof b, "%s (upper limit of normal %s)", g,
                 number(x, "gastrin_uln", &c->gastrin_uln, " pg/mL", u, sizeof u));
    else if (g)
        setf(b, sizeof b, "%s", g);
    else if (c->gastrin_status)
        setf(b, sizeof b, "%s", c->gastrin_status == NEN_GASTRIN_HIGH ? "high" : "normal");
    else
        setf(b, sizeof b, "%s", input_text(x, "gastrin", NULL, u, sizeof u));
    ROW("Serum gastrin", b);
}

static void type_section(const struct nen_extract *x, const struct nen_result *r,
                         const struct nen_synoptic_out *out)
{
    static const char *const acid[] = {NULL, "hypo- or achlorhydria", "hyperacidity", "normal"};
    const struct nen_case *c = &x->lo;
    char b[LINE], miss[LINE], v[96];
    if (r->gtype == NEN_GTYPE_NOT_APPLICABLE && c->site != NEN_SITE_STOMACH)
        return;
    out->section(out->ctx, "Gastric NET type (CACA 2025 §3.6, Table 7, Figure 1)");
    missing_for(r, F_TYPE, miss, sizeof miss);
    setf(b, sizeof b, "%s%s",
             r->gtype == NEN_GTYPE_NOT_APPLICABLE ? "not applicable (typed only for gastric NETs)"
             : r->gtype == NEN_GTYPE_1_OR_2       ? "1 or 2"
                                                  : nen_gtype_name(r->gtype),
             r->gtype == NEN_GTYPE_INDETERMINATE ? miss : "");
    ROW("Type", b);
    gastrin_row(x, out);
    if (c->gastric_ph.known)
        setf(b, sizeof b, "pH %s%s%s", number(x, "ph", &c->gastric_ph, "", v, sizeof v),
                 c->acid ? ", " : "", c->acid ? acid[c->acid] : "");
    else
        setf(b, sizeof b, "%s", input_text(x, "acid", c->acid ? acid[c->acid] : NULL, v, sizeof v));
    ROW("Gastric acid", b);
    ROW("Atrophic gastritis", tri_words(c->atrophic_gastritis));
    ROW("Parietal-cell / intrinsic-factor antibodies", tri_words(c->parietal_antibodies));
    ROW("Gastrinoma / Zollinger-Ellison / MEN1", tri_words(c->gastrinoma));
}

static const char *extent_text(uint64_t set, char *buf, size_t len)
{
    char w[64];
    buf[0] = '\0';
    for (int k = 1; k < NEN_EXT__COUNT; k++)
        if (set & (1ULL << k))
            addf(buf, len, "%s%s", buf[0] ? ", " : "", spaced(nen_extent_name((enum nen_extent)k), w, sizeof w));
    return buf[0] ? buf : NULL;
}

static const char *nodes_text(const struct nen_case *c, char *buf, size_t len)
{
    char p[32], e[32];
    if (c->nodes_positive.known && c->nodes_examined.known)
        setf(buf, len, "%s positive of %s examined", nen_fmt_num(c->nodes_positive.value, p, sizeof p),
                 nen_fmt_num(c->nodes_examined.value, e, sizeof e));
    else if (c->nodes_positive.known)
        setf(buf, len, "%s positive (number examined not reported)",
                 nen_fmt_num(c->nodes_positive.value, p, sizeof p));
    else if (c->nodes_examined.known)
        setf(buf, len, "%s examined (number positive not reported)",
                 nen_fmt_num(c->nodes_examined.value, e, sizeof e));
    else
        return NULL;
    return buf;
}

static const char *mets_text(const struct nen_case *c, char *buf, size_t len)
{
    char w[64], n[32];
    if (c->mets == NEN_METS_NONE)
        return "none";
    if (c->mets != NEN_METS_PRESENT)
        return NULL;
    buf[0] = '\0';
    for (int k = 1; k < NEN_MET__COUNT; k++)
        if (c->met_sites & (1u << k))
            addf(buf, len, "%s%s", buf[0] ? ", " : "", spaced(nen_met_name((enum nen_met_site)k), w, sizeof w));
    if (!buf[0])
        addf(buf, len, "present, place not reported");
    if (c->met_lesions.known)
        addf(buf, len, " (%s extrathoracic lesions)", nen_fmt_num(c->met_lesions.value, n, sizeof n));
    return buf;
}

static void tnm_rows(const struct nen_result *r, const struct nen_synoptic_out *out)
{
    static const struct { const char *label, *prefix; enum field f; } rows[] = {
        {"pT (primary tumour)", "p", F_T}, {"pN (regional nodes)", "p", F_N},
        {"M (distant metastasis)", "", F_M}};
    const struct nen_tnm_result *v[] = {&r->t, &r->n, &r->m};
    char b[LINE];
    for (int i = 0; i < 3; i++) {
        b[0] = '\0';
        category(r, v[i], rows[i].f, rows[i].prefix, b, sizeof b);
        ROW(rows[i].label, b);
    }
    if (r->stage == NEN_STAGE_NOT_STAGED) {
        ROW("Stage group", "not staged by the AJCC 9th edition NET systems");
        return;
    }
    b[0] = '\0';
    stage_text(r, b, sizeof b);
    ROW("Stage group", b);
}

static void lab_row(const struct nen_case *c, const struct nen_synoptic_out *out)
{
    char b[96];
    b[0] = '\0';
    if (c->t_given)
        addf(b, sizeof b, "p%s", nen_tnm_name(c->t_given));
    if (c->n_given)
        addf(b, sizeof b, "%sp%s", b[0] ? " " : "", nen_tnm_name(c->n_given));
    if (c->m_given)
        addf(b, sizeof b, "%s%s", b[0] ? " " : "", nen_tnm_name(c->m_given));
    if (b[0])
        ROW("Categories reported by the laboratory", b);
}

static void stage_section(const struct nen_extract *x, const struct nen_result *r,
                          const struct nen_synoptic_out *out)
{
    static const char *const margins[] = {NULL, "R0", "R1", "R2"};
    const struct nen_case *c = &x->lo;
    char b[LINE], v[LINE];
    out->section(out->ctx, "Stage (AJCC Cancer Staging Manual, 9th edition; CACA 2025 Tables 8-13)");
    tnm_rows(r, out);
    ROW("Tumour size (greatest dimension)",
        input_text(x, "size", number(x, "size", &c->size_mm, " mm", v, sizeof v), b, sizeof b));
    ROW("Depth of invasion / extent",
        input_text(x, "extent", extent_text(c->extent, v, sizeof v), b, sizeof b));
    ROW("Regional lymph nodes", input_text(x, "nodes_positive", nodes_text(c, v, sizeof v), b, sizeof b));
    if (c->mesenteric_mass)
        ROW("Mesenteric mass > 2 cm / extensive deposits", tri_words(c->mesenteric_mass));
    ROW("Distant metastasis", input_text(x, "mets", mets_text(c, v, sizeof v), b, sizeof b));
    lab_row(c, out);
    if (c->margin)
        ROW("Resection margin", margins[c->margin]);
    if (c->lvi)
        ROW("Lymphovascular invasion", present_words(c->lvi));
    if (c->pni)
        ROW("Perineural invasion", present_words(c->pni));
}

static void list_sections(const struct nen_result *r, const struct nen_synoptic_out *out)
{
    char b[NEN_TEXT_LEN + NEN_ADVICE_CODE_LEN + 8];
    out->section(out->ctx, "Guideline suggestions for the treating team (CACA 2025 §7, §2.3, §4.1)");
    for (int i = 0; i < r->nadvice; i++) {
        setf(b, sizeof b, "%s; code %s", r->advice[i].text, r->advice[i].code);
        out->item(out->ctx, b);
    }
    if (r->nadvice == 0)
        out->item(out->ctx, "none from the rules for this case");
    out->section(out->ctx, "Missing inputs");
    for (int i = 0; i < r->nmissing; i++)
        out->item(out->ctx, nen_input_label(r->missing[i]));
    if (r->nmissing == 0)
        out->item(out->ctx, "none");
    out->section(out->ctx, "Warnings");
    for (int i = 0; i < r->nwarn; i++) {
        setf(b, sizeof b, "%s; code %s", r->warn[i].text, r->warn[i].code);
        out->item(out->ctx, b);
    }
    if (r->nwarn == 0)
        out->item(out->ctx, "none");
}

static void trace_field(const char *label, const char *value, const struct nen_trace *t,
                        const struct nen_synoptic_out *out)
{
    char b[NEN_RULE_LEN + NEN_TEXT_LEN + 64];
    ROW(label, value);
    for (int i = 0; i < t->n; i++) {
        setf(b, sizeof b, "%s [%s]", t->step[i].text, t->step[i].rule);
        out->item(out->ctx, b);
    }
    if (t->truncated)
        out->item(out->ctx, "(further steps not kept)");
}

static void trace_section(const struct nen_result *r, const struct nen_synoptic_out *out)
{
    char v[LINE];
    out->section(out->ctx, "Rule trace (guideline, table and row of each step)");
    setf(v, sizeof v, "%s%s%s%s", nen_class_name(r->cls), r->subtype[0] ? " (" : "",
             r->subtype, r->subtype[0] ? ")" : "");
    trace_field("WHO class", v, &r->class_trace, out);
    trace_field("Grade", nen_grade_name(r->grade), &r->grade_trace, out);
    trace_field("Gastric NET type", nen_gtype_name(r->gtype), &r->gtype_trace, out);
    const struct nen_tnm_result *tnm[] = {&r->t, &r->n, &r->m};
    static const char *const labels[] = {"T", "N", "M"};
    for (int i = 0; i < 3; i++)
        trace_field(labels[i], nen_tnm_result_text(tnm[i], v, sizeof v), &tnm[i]->trace, out);
    trace_field("Stage group (AJCC 9th)", nen_stage_name(r->stage), &r->stage_trace, out);
    if (r->advice_trace.n) {
        setf(v, sizeof v, "%d suggestion%s", r->nadvice, r->nadvice == 1 ? "" : "s");
        trace_field("Guideline suggestions", v, &r->advice_trace, out);
    }
}

void nen_report_synoptic(const struct nen_extract *x, const struct nen_result *r,
                         const struct nen_synoptic_out *out)
{
    site_section(x, out);
    out->section(out->ctx, "Classification and grade (WHO 5th edition; CACA 2025 Table 3)");
    class_rows(x, r, out);
    mixed_and_lineage_rows(x, out);
    type_section(x, r, out);
    stage_section(x, r, out);
    list_sections(r, out);
    trace_section(r, out);
}
