/*
 * nen_stage_nm.c - regional nodes (N) and distant metastasis (M), AJCC 9th:
 * GEP-NET (CACA 2025 Table 8), lung (Table 10), thymus (Table 12). Unknown
 * inputs give the set of categories they could mean, never N0 or M0.
 */
#include "nen_rules.h"

#define B(x) NEN_TNM_BIT(NEN_##x)

static void set_result(struct nen_tnm_result *x, uint64_t cand)
{
    x->value = nen_tnm_single(cand);
    x->candidates = x->value == NEN_TNM_UNKNOWN ? cand : 0;
}

/* ---- N ---- */

static uint64_t n_gep(const struct nen_case *c, struct nen_result *r)
{
    struct nen_trace *tr = &r->n.trace;
    char a[24];
    int ji = c->site == NEN_SITE_JEJUNUM_ILEUM;
    if (ji && c->mesenteric_mass == NEN_TRI_YES) {
        nen_trace_add(tr, "Table 8 N2 (jejunum/ileum)",
                      "mesenteric mass > 2 cm and/or extensive nodal deposits");
        return B(N_2);
    }
    if (c->nodes_examined.known && c->nodes_examined.value == 0) {
        nen_trace_add(tr, "Table 8 NX", "no regional node examined: cannot be assessed");
        return B(N_X);
    }
    if (!c->nodes_positive.known) {
        nen_trace_add(tr, "Table 8 N", "positive regional node count not reported");
        nen_missing(r, "nodes");
        return ji ? B(N_0) | B(N_1) | B(N_2) : B(N_0) | B(N_1);
    }
    double pos = c->nodes_positive.value;
    if (ji && pos >= 12) {
        nen_trace_add(tr, "Table 8 N2 (jejunum/ileum): 12 or more nodes (AJCC)",
                      "%s positive nodes", nen_fmt_num(pos, a, sizeof a));
        if (pos == 12)
            nen_warn(r, "n2-twelve-nodes",
                     "exactly 12 positive nodes: N2 by AJCC (\"12 or greater\"); the seed's "
                     "Table 8 says \"> 12\" for N2 and \"< 12\" for N1");
        return B(N_2);
    }
    uint64_t base;
    if (pos == 0) {
        nen_trace_add(tr, "Table 8 N0", "0 of %s examined nodes positive",
                      c->nodes_examined.known ? nen_fmt_num(c->nodes_examined.value, a, sizeof a)
                                              : "the");
        base = B(N_0);
    } else {
        nen_trace_add(tr, ji ? "Table 8 N1 (jejunum/ileum): < 12 nodes" : "Table 8 N1",
                      "%s positive regional nodes", nen_fmt_num(pos, a, sizeof a));
        base = B(N_1);
    }
    if (ji && c->mesenteric_mass == NEN_TRI_UNKNOWN) {
        nen_trace_add(tr, "Table 8 N2 (jejunum/ileum)",
                      "mesenteric mass/extensive deposits not reported: N2 possible");
        nen_missing(r, "mesenteric_mass");
        return base | B(N_2);
    }
    return base;
}

/* Lung and thymus: the category itself needs the node stations (pN); counts
 * can only say N0, NX or "some N+". */
static uint64_t n_thorax(const struct nen_case *c, struct nen_result *r, uint64_t positive_set,
                         const char *table)
{
    struct nen_trace *tr = &r->n.trace;
    if (c->nodes_examined.known && c->nodes_examined.value == 0) {
        nen_trace_add(tr, table, "no regional node examined: NX");
        return B(N_X);
    }
    if (!c->nodes_positive.known) {
        nen_trace_add(tr, table, "regional nodes not reported");
        nen_missing(r, "nodes");
        return B(N_0) | positive_set;
    }
    if (c->nodes_positive.value == 0) {
        nen_trace_add(tr, table, "no positive regional node: N0");
        return B(N_0);
    }
    nen_trace_add(tr, table, "positive nodes, stations not reported: the N category needs pN");
    nen_missing(r, "pn");
    return positive_set;
}

void nen_stage_n(const struct nen_case *c, struct nen_result *r)
{
    uint64_t cand;
    if (c->site == NEN_SITE_LUNG)
        cand = n_thorax(c, r, B(N_1) | B(N_2A) | B(N_2B) | B(N_3), "Table 10 N");
    else if (c->site == NEN_SITE_THYMUS)
        cand = n_thorax(c, r, B(N_1) | B(N_2), "Table 12 N");
    else
        cand = n_gep(c, r);
    set_result(&r->n, cand);
}

/* ---- M ---- */

#define MET(x) (1u << NEN_MET_##x)

static int popcount32(uint32_t v)
{
    int n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

static uint64_t m_gep(const struct nen_case *c, struct nen_result *r)
{
    struct nen_trace *tr = &r->m.trace;
    int liver = (c->met_sites & MET(LIVER)) != 0;
    int extra = (c->met_sites & ~MET(LIVER)) != 0;
    if (liver && extra) {
        nen_trace_add(tr, "Table 8 M1c", "liver and extrahepatic metastases");
        return B(M_1C);
    }
    if (liver) {
        nen_trace_add(tr, "Table 8 M1a", "metastases confined to the liver");
        return B(M_1A);
    }
    if (extra) {
        nen_trace_add(tr, "Table 8 M1b", "extrahepatic metastasis, liver free");
        return B(M_1B);
    }
    nen_trace_add(tr, "Table 8 M1", "distant metastasis reported without its site");
    nen_missing(r, "mets");
    return B(M_1A) | B(M_1B) | B(M_1C);
}

static uint64_t m_lung(const struct nen_case *c, struct nen_result *r)
{
    struct nen_trace *tr = &r->m.trace;
    const uint32_t thoracic = MET(LUNG) | MET(PLEURA) | MET(PERICARDIUM);
    uint32_t extra = c->met_sites & ~thoracic;
    int organs = popcount32(extra);
    if (organs >= 2) {
        nen_trace_add(tr, "Table 10 M1c2", "extrathoracic metastases in %d organs", organs);
        return B(M_1C2);
    }
    if (organs == 1) {
        if (!c->met_lesions.known) {
            nen_trace_add(tr, "Table 10 M1b/M1c1",
                          "one extrathoracic organ, number of lesions not reported");
            nen_missing(r, "met_lesions");
            return B(M_1B) | B(M_1C1);
        }
        if (c->met_lesions.value > 1) {
            nen_trace_add(tr, "Table 10 M1c1", "several extrathoracic lesions in one organ");
            return B(M_1C1);
        }
        nen_trace_add(tr, "Table 10 M1b", "a single extrathoracic metastasis");
        return B(M_1B);
    }
    if (c->met_sites & thoracic) {
        nen_trace_add(tr, "Table 10 M1a",
                      "contralateral lung, pleural or pericardial nodules/effusion");
        return B(M_1A);
    }
    nen_trace_add(tr, "Table 10 M1", "distant metastasis reported without its site");
    nen_missing(r, "mets");
    return B(M_1A) | B(M_1B) | B(M_1C1) | B(M_1C2);
}

static uint64_t m_thymus(const struct nen_case *c, struct nen_result *r)
{
    struct nen_trace *tr = &r->m.trace;
    const uint32_t serosal = MET(PLEURA) | MET(PERICARDIUM);
    if (c->met_sites & ~serosal) {
        nen_trace_add(tr, "Table 12 M1b", "lung parenchyma or distant organ metastasis");
        return B(M_1B);
    }
    if (c->met_sites & serosal) {
        nen_trace_add(tr, "Table 12 M1a", "pleural or pericardial metastasis");
        return B(M_1A);
    }
    nen_trace_add(tr, "Table 12 M1", "distant metastasis reported without its site");
    nen_missing(r, "mets");
    return B(M_1A) | B(M_1B);
}

void nen_stage_m(const struct nen_case *c, struct nen_result *r)
{
    uint64_t cand;
    if (c->mets == NEN_METS_NONE) {
        nen_trace_add(&r->m.trace, "AJCC 9th M0", "no distant metastasis");
        cand = B(M_0);
    } else if (c->mets == NEN_METS_UNKNOWN) {
        nen_trace_add(&r->m.trace, "AJCC 9th M", "distant metastasis status not reported");
        nen_missing(r, "mets");
        cand = B(M_0) | (c->site == NEN_SITE_LUNG     ? B(M_1A) | B(M_1B) | B(M_1C1) | B(M_1C2)
                         : c->site == NEN_SITE_THYMUS ? B(M_1A) | B(M_1B)
                                                      : B(M_1A) | B(M_1B) | B(M_1C));
    } else if (c->site == NEN_SITE_LUNG) {
        cand = m_lung(c, r);
    } else if (c->site == NEN_SITE_THYMUS) {
        cand = m_thymus(c, r);
    } else {
        cand = m_gep(c, r);
    }
    set_result(&r->m, cand);
}
