/*
 * nen_stage_group.c - staging as a whole: which tumours this system stages
 * (CACA 2025 §3.7), T/N/M with the lab's pT/pN/pM compared and used, and the
 * stage group looked up in nen_stage_tables.c for every candidate combination.
 * A stage is given only when every combination the inputs allow gives it.
 */
#include "nen_rules.h"

#include <string.h>

#define B(x) NEN_TNM_BIT(NEN_##x)
#define S(x) NEN_SITE_BIT(NEN_SITE_##x)
#define GEP_SITES (S(STOMACH) | S(DUODENUM) | S(AMPULLA) | S(JEJUNUM_ILEUM) | S(APPENDIX) | \
                   S(COLON) | S(RECTUM) | S(PANCREAS))

enum nen_tnm nen_tnm_parent(enum nen_tnm x)
{
    switch (x) {
    case NEN_T_1A: case NEN_T_1B: case NEN_T_1C: return NEN_T_1;
    case NEN_T_2A: case NEN_T_2B: return NEN_T_2;
    case NEN_N_2A: case NEN_N_2B: return NEN_N_2;
    case NEN_M_1A: case NEN_M_1B: case NEN_M_1C: return NEN_M_1;
    case NEN_M_1C1: case NEN_M_1C2: return NEN_M_1C;
    default: return NEN_TNM_UNKNOWN;
    }
}

int nen_tnm_count(uint64_t set)
{
    int n = 0;
    for (; set; set &= set - 1)
        n++;
    return n;
}

enum nen_tnm nen_tnm_single(uint64_t set)
{
    if (nen_tnm_count(set) != 1)
        return NEN_TNM_UNKNOWN;
    for (int i = 0; i < NEN_TNM__COUNT; i++)
        if (set == NEN_TNM_BIT(i))
            return (enum nen_tnm)i;
    return NEN_TNM_UNKNOWN;
}

/* "T1, T2 or T3" into buf. */
static void join_names(uint64_t set, const char *(*name)(int), int count, char *buf,
                       unsigned len)
{
    int total = nen_tnm_count(set), done = 0;
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < count && used + 1 < len; i++) {
        if (!(set & NEN_TNM_BIT(i)))
            continue;
        const char *sep = done == 0 ? "" : done == total - 1 ? " or " : ", ";
        const char *w = name(i);
        size_t need = strlen(sep) + strlen(w);
        if (used + need + 1 > len)
            break;
        memcpy(buf + used, sep, strlen(sep));
        memcpy(buf + used + strlen(sep), w, strlen(w));
        used += need;
        buf[used] = '\0';
        done++;
    }
}

static const char *tnm_word(int i) { return nen_tnm_name((enum nen_tnm)i); }
static const char *stage_word(int i) { return nen_stage_name((enum nen_stage)i); }

void nen_tnm_set_text(uint64_t set, char *buf, unsigned len)
{
    join_names(set, tnm_word, NEN_TNM__COUNT, buf, len);
}

/* Categories the lab may send for a site. */
static uint64_t valid_given(enum nen_site s, char kind)
{
    if (s == NEN_SITE_LUNG)
        return kind == 'T'   ? B(T_X) | B(T_0) | B(T_IS) | B(T_1) | B(T_1A) | B(T_1B) |
                                 B(T_1C) | B(T_2) | B(T_2A) | B(T_2B) | B(T_3) | B(T_4)
               : kind == 'N' ? B(N_X) | B(N_0) | B(N_1) | B(N_2) | B(N_2A) | B(N_2B) | B(N_3)
                             : B(M_0) | B(M_1) | B(M_1A) | B(M_1B) | B(M_1C) | B(M_1C1) |
                                   B(M_1C2);
    if (s == NEN_SITE_THYMUS)
        return kind == 'T'   ? B(T_X) | B(T_0) | B(T_1) | B(T_1A) | B(T_1B) | B(T_2) | B(T_3) |
                                 B(T_4)
               : kind == 'N' ? B(N_X) | B(N_0) | B(N_1) | B(N_2)
                             : B(M_0) | B(M_1) | B(M_1A) | B(M_1B);
    uint64_t t = B(T_X) | B(T_1) | B(T_2) | B(T_3) | B(T_4);
    if (s == NEN_SITE_COLON || s == NEN_SITE_RECTUM)
        t |= B(T_1A) | B(T_1B);
    return kind == 'T'   ? t
           : kind == 'N' ? B(N_X) | B(N_0) | B(N_1) |
                               (s == NEN_SITE_JEJUNUM_ILEUM ? B(N_2) : 0)
                         : B(M_0) | B(M_1) | B(M_1A) | B(M_1B) | B(M_1C);
}

/* Does a computed category agree with the lab's (same, or the lab's is its parent)? */
static int agrees(enum nen_tnm computed, enum nen_tnm given)
{
    return computed == given || nen_tnm_parent(computed) == given ||
           nen_tnm_parent(nen_tnm_parent(computed)) == given;
}

/* The members of a computed set that agree with the lab's category. */
static uint64_t agreeing(uint64_t computed, enum nen_tnm given)
{
    uint64_t a = 0;
    for (int i = 0; i < NEN_TNM__COUNT; i++)
        if ((computed & NEN_TNM_BIT(i)) && agrees((enum nen_tnm)i, given))
            a |= NEN_TNM_BIT(i);
    return a;
}

/* The lowest and highest members of a set (enum nen_tnm is in severity order). */
static enum nen_tnm set_min(uint64_t set)
{
    for (int i = 0; i < NEN_TNM__COUNT; i++)
        if (set & NEN_TNM_BIT(i))
            return (enum nen_tnm)i;
    return NEN_TNM_UNKNOWN;
}

static enum nen_tnm set_max(uint64_t set)
{
    for (int i = NEN_TNM__COUNT - 1; i > 0; i--)
        if (set & NEN_TNM_BIT(i))
            return (enum nen_tnm)i;
    return NEN_TNM_UNKNOWN;
}

static void set_value(struct nen_tnm_result *x, uint64_t set)
{
    x->value = nen_tnm_single(set);
    x->candidates = x->value == NEN_TNM_UNKNOWN ? set : 0;
}

/* The table that defines the site's categories, for the trace. */
static const char *tnm_table(enum nen_site s)
{
    return s == NEN_SITE_LUNG     ? "CACA 2025 Table 10 (AJCC 9th lung): categories by findings"
           : s == NEN_SITE_THYMUS ? "CACA 2025 Table 12 (AJCC 9th thymus): categories by findings"
                                  : "CACA 2025 Table 8 (AJCC 9th GEP-NET): categories by findings";
}

/* The lab's category agrees with some of the computed ones: one agreeing
 * category finer than the lab's is a refinement (lab pT1 + 25 mm lung: T1c);
 * otherwise the lab's category settles what the inputs left open. */
static void given_agrees(enum nen_site s, struct nen_tnm_result *x, enum nen_tnm given,
                         uint64_t agree, const char *computed_text)
{
    enum nen_tnm one = nen_tnm_single(agree);
    if (one != NEN_TNM_UNKNOWN && one != given) {
        nen_trace_add(&x->trace, tnm_table(s), "the lab's %s agrees; the inputs make it %s",
                      nen_tnm_name(given), nen_tnm_name(one));
        set_value(x, agree);
        return;
    }
    nen_trace_add(&x->trace, tnm_table(s), "the lab's %s is used (inputs give %s)",
                  nen_tnm_name(given), computed_text);
    set_value(x, NEN_TNM_BIT(given));
}

/* The lab's category where it is the higher: a T is refined by the reported size
 * as for any T from extent (lab pT2, 25 mm lung: T2a, Table 10 T2a <= 4 cm). */
static uint64_t lab_higher(const struct nen_case *c, enum nen_tnm given, char kind)
{
    enum nen_tnm one = NEN_TNM_UNKNOWN;
    if (kind == 'T' && c->size_mm.known)
        one = nen_tnm_single(agreeing(nen_stage_t_size_only(c), given));
    return NEN_TNM_BIT(one != NEN_TNM_UNKNOWN ? one : given);
}

/* The lab's category and the computed one disagree: the higher stands (the
 * inputs' when they prove more, the lab's when it is higher; when the lab's lies
 * between the candidates, it or a higher candidate), with a warning naming both;
 * the result is preliminary until they agree (nen_classify). Returns 1 when the
 * lab's category stands. */
static int given_differs(const struct nen_case *c, struct nen_result *r,
                         struct nen_tnm_result *x, enum nen_tnm given, char kind,
                         uint64_t computed, const char *computed_text)
{
    uint64_t result;
    char res[96], a[24];
    int lab = given > set_max(computed);
    if (lab)
        result = lab_higher(c, given, kind);
    else if (given < set_min(computed))
        result = computed;
    else
        result = NEN_TNM_BIT(given) | (computed & ~(NEN_TNM_BIT(given + 1) - 1));
    nen_tnm_set_text(result, res, sizeof res);
    nen_warn(r, kind == 'T' ? "t-given-differs" : kind == 'N' ? "n-given-differs"
                                                              : "m-given-differs",
             "the lab's %s and %s computed from the inputs disagree: the higher, %s, is used "
             "until they agree", nen_tnm_name(given), computed_text, res);
    nen_trace_add(&x->trace, tnm_table(c->site),
                  "the lab's %s disagrees with %s from the inputs: the higher stands",
                  nen_tnm_name(given), computed_text);
    if (lab && result != NEN_TNM_BIT(given))
        nen_trace_add(&x->trace, tnm_table(c->site),
                      "the lab's %s with the greatest dimension %s mm: %s", nen_tnm_name(given),
                      nen_fmt_num(c->size_mm.value, a, sizeof a), res);
    set_value(x, result);
    return lab;
}

/* The lab's pT/pN/pM, compared with what the inputs give. informative says
 * whether the computed result came from any input at all; missing_mark is
 * r->nmissing before this category was computed, so what only this category
 * needed is dropped once the lab's category settles it. */
static void apply_given(const struct nen_case *c, struct nen_result *r,
                        struct nen_tnm_result *x, enum nen_tnm given, char kind,
                        int informative, int missing_mark)
{
    if (given == NEN_TNM_UNKNOWN)
        return;
    char set[96];
    if (!(valid_given(c->site, kind) & NEN_TNM_BIT(given))) {
        nen_warn(r, "tnm-given-invalid", "the lab's %s is no AJCC 9th category for %s: ignored",
                 nen_tnm_name(given), nen_site_name(c->site));
        return;
    }
    uint64_t computed = x->value != NEN_TNM_UNKNOWN ? NEN_TNM_BIT(x->value) : x->candidates;
    uint64_t agree = agreeing(computed, given);
    nen_tnm_set_text(computed, set, sizeof set);
    if (!informative || agree) {
        given_agrees(c->site, x, given, informative ? agree : 0, informative ? set : "nothing");
        r->nmissing = missing_mark;
        return;
    }
    if (given_differs(c, r, x, given, kind, computed, set))
        r->nmissing = missing_mark; /* the lab's category settles it */
}

static uint64_t tnm_set(enum nen_site s, const struct nen_tnm_result *x)
{
    if (x->value == NEN_TNM_UNKNOWN)
        return x->candidates;
    return nen_stage_expand(s, x->value);
}

/* Look the stage up for every candidate (T, N, M). */
static void stage_group(const struct nen_case *c, struct nen_result *r)
{
    uint64_t ts = 0, ns = tnm_set(c->site, &r->n), ms = tnm_set(c->site, &r->m);
    uint32_t stages = 0;
    int no_row = 0, no_row_nx = 0, no_row_tx = 0;
    const char *src = NULL, *one_src = NULL;
    /* expand each T candidate as well (a lung "T2" from the lab means T2a or T2b) */
    for (int t = 0; t < NEN_TNM__COUNT; t++)
        if (tnm_set(c->site, &r->t) & NEN_TNM_BIT(t))
            ts |= nen_stage_expand(c->site, (enum nen_tnm)t);
    for (int t = 0; t < NEN_TNM__COUNT; t++)
        for (int n = 0; (ts & NEN_TNM_BIT(t)) && n < NEN_TNM__COUNT; n++)
            for (int m = 0; (ns & NEN_TNM_BIT(n)) && m < NEN_TNM__COUNT; m++) {
                if (!(ms & NEN_TNM_BIT(m)))
                    continue;
                enum nen_stage st = nen_stage_lookup(c->site, (enum nen_tnm)t, (enum nen_tnm)n,
                                                     (enum nen_tnm)m, &src);
                if (st == NEN_STAGE_INDETERMINATE) {
                    no_row = 1;
                    no_row_nx |= n == NEN_N_X;
                    no_row_tx |= t == NEN_T_X;
                    continue;
                }
                stages |= 1u << st;
                one_src = src;
            }
    char t_txt[24], n_txt[24], m_txt[24], set[128];
    nen_tnm_result_text(&r->t, t_txt, sizeof t_txt);
    nen_tnm_result_text(&r->n, n_txt, sizeof n_txt);
    nen_tnm_result_text(&r->m, m_txt, sizeof m_txt);
    if (!no_row && nen_tnm_count(stages) == 1) {
        for (int i = 0; i < NEN_STAGE__COUNT; i++)
            if (stages == 1u << i)
                r->stage = (enum nen_stage)i;
        nen_trace_add(&r->stage_trace, one_src, "%s %s %s: stage %s%s", t_txt, n_txt, m_txt,
                      nen_stage_name(r->stage),
                      r->t.value == NEN_TNM_UNKNOWN || r->n.value == NEN_TNM_UNKNOWN ||
                              r->m.value == NEN_TNM_UNKNOWN
                          ? " (the same for every candidate category)"
                          : "");
        return;
    }
    r->stage = NEN_STAGE_INDETERMINATE;
    r->stage_candidates = stages;
    join_names(stages, stage_word, NEN_STAGE__COUNT, set, sizeof set);
    if (stages)
        nen_trace_add(&r->stage_trace, "AJCC 9th stage group",
                      "%s %s %s: stage could be %s%s", t_txt, n_txt, m_txt, set,
                      no_row ? ", or a combination the table does not list" : "");
    else
        nen_trace_add(&r->stage_trace, "AJCC 9th stage group",
                      "%s %s %s is in no row of the table", t_txt, n_txt, m_txt);
    if (no_row_nx && r->n.value == NEN_N_X)
        nen_missing(r, "nodes");
    if (no_row_tx && r->t.value == NEN_T_X)
        nen_missing(r, "size");
    /* a category the table knows only by its children (lung pT2: T2a or T2b) */
    if (r->t.value != NEN_TNM_UNKNOWN && nen_tnm_count(ts) > 1)
        nen_missing(r, "size");
    if (r->n.value != NEN_TNM_UNKNOWN && nen_tnm_count(ns) > 1)
        nen_missing(r, "pn");
    if (r->m.value != NEN_TNM_UNKNOWN && nen_tnm_count(ms) > 1)
        nen_missing(r, "mets");
}

/* Whether this system stages the tumour; if not, say why in the trace. */
static int staged_here(const struct nen_case *c, struct nen_result *r)
{
    if (nen_minor_ne_carcinoma(c)) {
        /* seed lines 2299-2301: tumours other than GEP-NET and the NENs of Tables 10-13
         * use the system of the site's other tumours */
        r->stage = NEN_STAGE_NOT_STAGED;
        nen_trace_add(&r->stage_trace,
                      "CACA 2025 §3.7: other tumours use the carcinoma system of the site",
                      "a carcinoma with a neuroendocrine component < 30%%: not staged by this "
                      "system");
        return 0;
    }
    if (c->site == NEN_SITE_UNKNOWN) {
        nen_trace_add(&r->stage_trace, "CACA 2025 §3.7", "primary site not reported");
        nen_missing(r, "site");
        return 0;
    }
    if (c->site == NEN_SITE_LUNG || c->site == NEN_SITE_THYMUS)
        return 1; /* Tables 10-13 stage every lung and thymic NEN */
    if (!(GEP_SITES & NEN_SITE_BIT(c->site))) {
        r->stage = NEN_STAGE_NOT_STAGED;
        nen_trace_add(&r->stage_trace, "CACA 2025 §3.7: other sites use their own AJCC chapter",
                      "%s: not staged by this system", nen_site_name(c->site));
        return 0;
    }
    if (r->cls == NEN_CLASS_NET)
        return 1;
    if (r->cls == NEN_CLASS_INDETERMINATE) {
        nen_trace_add(&r->stage_trace, "CACA 2025 §3.7",
                      "class not decided: the GEP-NET system applies only to NET");
        return 0;
    }
    r->stage = NEN_STAGE_NOT_STAGED;
    nen_trace_add(&r->stage_trace,
                  "CACA 2025 §3.7: NEC and MiNEN use the carcinoma system of the site",
                  "%s of the %s: not staged by this system", nen_class_name(r->cls),
                  nen_site_name(c->site));
    return 0;
}

void nen_stage_classify(const struct nen_case *c, struct nen_result *r)
{
    if (!staged_here(c, r))
        return;
    int mark = r->nmissing;
    nen_stage_t(c, r);
    apply_given(c, r, &r->t, c->t_given, 'T', c->size_mm.known || c->extent != 0, mark);
    mark = r->nmissing;
    nen_stage_n(c, r);
    apply_given(c, r, &r->n, c->n_given, 'N',
                c->nodes_examined.known || c->nodes_positive.known ||
                    c->mesenteric_mass != NEN_TRI_UNKNOWN,
                mark);
    mark = r->nmissing;
    nen_stage_m(c, r);
    apply_given(c, r, &r->m, c->m_given, 'M', c->mets != NEN_METS_UNKNOWN, mark);
    stage_group(c, r);
}
