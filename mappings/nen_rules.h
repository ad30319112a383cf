/*
 * nen_rules.h - declarations shared by the rule files only (grade, type,
 * stage). Includes nothing but the case header, so the rule files still see
 * only the case header and libc.
 */
#ifndef NEN_RULES_H
#define NEN_RULES_H

#include "nen_case.h"

/* Proliferation as the rules compare it: Ki-67 in %, mitoses per 2 mm². */
struct nen_prolif {
    int ki67_known;
    double ki67;
    int mit_known;
    double mit;
};

/* Read Ki-67 and the mitotic count, converting /10 HPF to /2 mm² (trace and
 * warnings go to r->grade_trace / r). */
void nen_prolif_read(const struct nen_case *c, struct nen_result *r, struct nen_prolif *p);

/* One function per grading system of CACA 2025 Table 3. Each sets r->cls,
 * r->grade and their traces for the (neuroendocrine component of the) tumour. */
void nen_grade_gep(const struct nen_case *c, const struct nen_prolif *p, struct nen_result *r);
void nen_grade_uadt(const struct nen_case *c, const struct nen_prolif *p, struct nen_result *r);
void nen_grade_thorax(const struct nen_case *c, const struct nen_prolif *p, struct nen_result *r);
void nen_grade_mtc(const struct nen_case *c, const struct nen_prolif *p, struct nen_result *r);
void nen_grade_pitnet(const struct nen_case *c, struct nen_result *r);
void nen_grade_ppgl(const struct nen_case *c, const struct nen_prolif *p, struct nen_result *r);
void nen_grade_mcc(const struct nen_case *c, struct nen_result *r);
void nen_grade_breast(const struct nen_case *c, struct nen_result *r);

/* Class from a stated poorly differentiated morphology, or INDETERMINATE. */
enum nen_class nen_nec_class(enum nen_diff d);

/* Mixed tumours (nen_grade.c). The shares of the neuroendocrine and the other
 * component, the one not stated being 100 minus the other; 0 when neither is
 * reported (a pure NEN). */
int nen_mixed_shares(const struct nen_case *c, double *ne, double *non);
/* 1 for a combined SCNEC/LCNEC: a lung or thymic NEC (small, large or NOS) with a
 * non-neuroendocrine carcinoma in any proportion (CACA 2025 §3.1.2). */
int nen_combined_nec(const struct nen_case *c);
/* 1 for a carcinoma whose neuroendocrine component is < 30% (and not a combined
 * SCNEC/LCNEC): not classified, and not staged, by this system. */
int nen_minor_ne_carcinoma(const struct nen_case *c);

/* Sites as bit sets (1u << enum nen_site). */
#define NEN_SITE_BIT(s) (1u << (s))

/* TNM helpers (nen_stage_group.c). */
#define NEN_TNM_BIT(x) (1ULL << (x))
enum nen_tnm nen_tnm_parent(enum nen_tnm x);
int nen_tnm_count(uint64_t set);
enum nen_tnm nen_tnm_single(uint64_t set); /* the one member, or UNKNOWN */
void nen_tnm_set_text(uint64_t set, char *buf, unsigned len);

/* T, N, M of the site (nen_stage_t.c, nen_stage_nm.c): fill r->t / r->n / r->m. */
void nen_stage_t(const struct nen_case *c, struct nen_result *r);
/* Every T the reported size allows with any extent of the site (the lab's pT2 and
 * 25 mm in the lung: T2a). */
uint64_t nen_stage_t_size_only(const struct nen_case *c);
void nen_stage_n(const struct nen_case *c, struct nen_result *r);
void nen_stage_m(const struct nen_case *c, struct nen_result *r);

/* Stage group of one (T, N, M) at a site from the tables (nen_stage_tables.c).
 * Returns the group, or NEN_STAGE_INDETERMINATE when no row matches; *src gets
 * the row's source text. */
enum nen_stage nen_stage_lookup(enum nen_site s, enum nen_tnm t, enum nen_tnm n,
                                enum nen_tnm m, const char **src);
/* The site's children of a parent category for table lookup (lung T2 -> T2a,T2b);
 * the category itself when it has none there. */
uint64_t nen_stage_expand(enum nen_site s, enum nen_tnm x);

#endif
