/*
 * nen_stage_tables.c - AJCC 9th stage-group tables as data, one row per
 * guideline row: GEP-NET (CACA 2025 Table 9), lung NENs (Table 11, as the T x N
 * grid plus the M1 rows) and thymic NENs (Table 13). nen_stage_lookup() finds
 * the row of one (T, N, M); nen_stage_group.c runs it over candidate sets.
 */
#include "nen_rules.h"

#include <stddef.h>

#define B(x) NEN_TNM_BIT(NEN_##x)
#define S(x) NEN_SITE_BIT(NEN_SITE_##x)

/* category sets */
#define T1_ALL (B(T_1) | B(T_1A) | B(T_1B))
#define T_ANY (B(T_X) | B(T_0) | B(T_IS) | T1_ALL | B(T_1C) | B(T_2) | B(T_2A) | B(T_2B) | \
               B(T_3) | B(T_4))
#define N_ANY (B(N_X) | B(N_0) | B(N_1) | B(N_2) | B(N_2A) | B(N_2B) | B(N_3))
#define M1_ALL (B(M_1) | B(M_1A) | B(M_1B) | B(M_1C) | B(M_1C1) | B(M_1C2))

#define GEP_ALL (S(STOMACH) | S(DUODENUM) | S(AMPULLA) | S(JEJUNUM_ILEUM) | S(APPENDIX) | \
                 S(COLON) | S(RECTUM) | S(PANCREAS))
#define COLORECTAL (S(COLON) | S(RECTUM))
#define GEP_NOT_CR (GEP_ALL & ~COLORECTAL)

struct stage_row {
    unsigned sites;
    uint64_t t, n, m;
    enum nen_stage stage;
    const char *src;
};

/* CACA 2025 Table 9 (AJCC 9th GEP-NET); IIA-IIIB apply to colon and rectum only. */
static const struct stage_row gep_rows[] = {
    {GEP_ALL & ~S(PANCREAS), T1_ALL, B(N_X) | B(N_0), B(M_0), NEN_STAGE_I,
     "Table 9 I: T1, NX (except pancreas) or N0, M0"},
    {S(PANCREAS), T1_ALL, B(N_0), B(M_0), NEN_STAGE_I, "Table 9 I: T1 N0 M0 (pancreas: not NX)"},
    {GEP_NOT_CR & ~S(APPENDIX), B(T_2), B(N_0), B(M_0), NEN_STAGE_II, "Table 9 II: T2 N0 M0"},
    {S(APPENDIX), B(T_2), B(N_X) | B(N_0), B(M_0), NEN_STAGE_II,
     "Table 9 II: T2, NX (appendix only) or N0, M0"},
    {GEP_NOT_CR, B(T_3), B(N_0), B(M_0), NEN_STAGE_II, "Table 9 II: T3 N0 M0"},
    {GEP_NOT_CR, B(T_4), B(N_0), B(M_0), NEN_STAGE_III, "Table 9 III: T4 N0 M0"},
    {GEP_NOT_CR & ~S(JEJUNUM_ILEUM), T_ANY, B(N_1), B(M_0), NEN_STAGE_III,
     "Table 9 III: any T N1 M0"},
    {S(JEJUNUM_ILEUM), T_ANY, B(N_1) | B(N_2), B(M_0), NEN_STAGE_III,
     "Table 9 III: any T N1 or N2 (jejunum/ileum) M0"},
    {COLORECTAL, B(T_2), B(N_0), B(M_0), NEN_STAGE_IIA, "Table 9 IIA (colorectal): T2 N0 M0"},
    {COLORECTAL, B(T_3), B(N_0), B(M_0), NEN_STAGE_IIB, "Table 9 IIB (colorectal): T3 N0 M0"},
    {COLORECTAL, B(T_4), B(N_0), B(M_0), NEN_STAGE_IIIA, "Table 9 IIIA (colorectal): T4 N0 M0"},
    {COLORECTAL, T_ANY, B(N_1), B(M_0), NEN_STAGE_IIIB, "Table 9 IIIB (colorectal): any T N1 M0"},
    {GEP_ALL, T_ANY, N_ANY, M1_ALL, NEN_STAGE_IV, "Table 9 IV: any T any N M1"},
};

/* CACA 2025 Table 13 (AJCC 9th thymic NENs). */
static const struct stage_row thymus_rows[] = {
    {S(THYMUS), B(T_1A) | B(T_1B), B(N_0), B(M_0), NEN_STAGE_I, "Table 13 I: T1a/T1b N0 M0"},
    {S(THYMUS), B(T_2), B(N_0), B(M_0), NEN_STAGE_II, "Table 13 II: T2 N0 M0"},
    {S(THYMUS), B(T_3), B(N_0), B(M_0), NEN_STAGE_IIIA, "Table 13 IIIA: T3 N0 M0"},
    {S(THYMUS), B(T_4), B(N_0), B(M_0), NEN_STAGE_IIIB, "Table 13 IIIB: T4 N0 M0"},
    {S(THYMUS), T_ANY, B(N_1), B(M_0), NEN_STAGE_IVA, "Table 13 IVA: any T N1 M0"},
    {S(THYMUS), T_ANY, B(N_0) | B(N_1), B(M_1A), NEN_STAGE_IVA, "Table 13 IVA: any T N0/N1 M1a"},
    {S(THYMUS), T_ANY, B(N_2), B(M_0) | B(M_1A), NEN_STAGE_IVB, "Table 13 IVB: any T N2 M0/M1a"},
    {S(THYMUS), T_ANY, N_ANY, B(M_1B), NEN_STAGE_IVB, "Table 13 IVB: any T any N M1b"},
};

/* CACA 2025 Table 11 (AJCC 9th lung NENs): the M0 grid, T rows x N columns. */
static const enum nen_tnm lung_t[] = {NEN_T_1A, NEN_T_1B, NEN_T_1C, NEN_T_2A,
                                      NEN_T_2B, NEN_T_3,  NEN_T_4};
static const enum nen_tnm lung_n[] = {NEN_N_0, NEN_N_1, NEN_N_2A, NEN_N_2B, NEN_N_3};
#define I(x) NEN_STAGE_##x
static const enum nen_stage lung_grid[7][5] = {
    /*         N0      N1      N2a      N2b      N3 */
    /* T1a */ {I(IA1), I(IIA), I(IIB),  I(IIIA), I(IIIB)},
    /* T1b */ {I(IA2), I(IIA), I(IIB),  I(IIIA), I(IIIB)},
    /* T1c */ {I(IA3), I(IIA), I(IIB),  I(IIIA), I(IIIB)},
    /* T2a */ {I(IB),  I(IIB), I(IIIA), I(IIIB), I(IIIB)},
    /* T2b */ {I(IIA), I(IIB), I(IIIA), I(IIIB), I(IIIB)},
    /* T3  */ {I(IIB), I(IIIA), I(IIIA), I(IIIB), I(IIIC)},
    /* T4  */ {I(IIIA), I(IIIA), I(IIIB), I(IIIB), I(IIIC)},
};
#undef I
static const struct stage_row lung_rows[] = {
    {S(LUNG), B(T_X), B(N_0), B(M_0), NEN_STAGE_OCCULT, "Table 11: TX N0 M0 occult carcinoma"},
    {S(LUNG), B(T_IS), B(N_0), B(M_0), NEN_STAGE_0, "Table 11 stage 0: Tis N0 M0"},
    {S(LUNG), T_ANY, N_ANY, B(M_1A) | B(M_1B), NEN_STAGE_IVA, "Table 11 IVA: any T any N M1a/M1b"},
    {S(LUNG), T_ANY, N_ANY, B(M_1C) | B(M_1C1) | B(M_1C2), NEN_STAGE_IVB,
     "Table 11 IVB: any T any N M1c1/M1c2"},
};

static enum nen_stage find_row(const struct stage_row *rows, size_t n, enum nen_site s,
                               enum nen_tnm t, enum nen_tnm nn, enum nen_tnm m,
                               const char **src)
{
    for (size_t i = 0; i < n; i++) {
        const struct stage_row *r = &rows[i];
        if ((r->sites & NEN_SITE_BIT(s)) && (r->t & NEN_TNM_BIT(t)) &&
            (r->n & NEN_TNM_BIT(nn)) && (r->m & NEN_TNM_BIT(m))) {
            *src = r->src;
            return r->stage;
        }
    }
    return NEN_STAGE_INDETERMINATE;
}

static int index_of(const enum nen_tnm *v, int n, enum nen_tnm x)
{
    for (int i = 0; i < n; i++)
        if (v[i] == x)
            return i;
    return -1;
}

enum nen_stage nen_stage_lookup(enum nen_site s, enum nen_tnm t, enum nen_tnm n,
                                enum nen_tnm m, const char **src)
{
    *src = NULL;
    if (s == NEN_SITE_LUNG) {
        int ti = index_of(lung_t, 7, t), ni = index_of(lung_n, 5, n);
        if (m == NEN_M_0 && ti >= 0 && ni >= 0) {
            *src = "Table 11 T x N grid, M0";
            return lung_grid[ti][ni];
        }
        return find_row(lung_rows, sizeof lung_rows / sizeof lung_rows[0], s, t, n, m, src);
    }
    if (s == NEN_SITE_THYMUS)
        return find_row(thymus_rows, sizeof thymus_rows / sizeof thymus_rows[0], s, t, n, m,
                        src);
    return find_row(gep_rows, sizeof gep_rows / sizeof gep_rows[0], s, t, n, m, src);
}

/* Parent categories the lung and thymus tables only know by their children. */
static const struct {
    unsigned sites;
    enum nen_tnm parent;
    uint64_t children;
} expansions[] = {
    {S(LUNG), NEN_T_1, B(T_1A) | B(T_1B) | B(T_1C)},
    {S(LUNG), NEN_T_2, B(T_2A) | B(T_2B)},
    {S(LUNG), NEN_N_2, B(N_2A) | B(N_2B)},
    {S(LUNG), NEN_M_1, B(M_1A) | B(M_1B) | B(M_1C1) | B(M_1C2)},
    {S(LUNG), NEN_M_1C, B(M_1C1) | B(M_1C2)},
    {S(THYMUS), NEN_T_1, B(T_1A) | B(T_1B)},
    {S(THYMUS), NEN_M_1, B(M_1A) | B(M_1B)},
};

uint64_t nen_stage_expand(enum nen_site s, enum nen_tnm x)
{
    for (size_t i = 0; i < sizeof expansions / sizeof expansions[0]; i++)
        if ((expansions[i].sites & NEN_SITE_BIT(s)) && expansions[i].parent == x)
            return expansions[i].children;
    return NEN_TNM_BIT(x);
}
