/*
 * nen_classify.c - the whole classification of one case: class and grade,
 * gastric type, T/N/M and stage group, then the report status (final when no
 * needed input is missing and the lab's pT/pN/pM agree with the inputs). Also
 * the case initialiser and its range checks.
 */
#include "nen_case.h"

#include <stdio.h>
#include <string.h>

void nen_case_init(struct nen_case *c)
{
    memset(c, 0, sizeof *c); /* every enum's 0 is "unknown", every number .known = 0 */
}

/* A lab pT/pN/pM that disagrees with the inputs holds the result preliminary
 * until they agree (nen_stage_group.c names both in these warnings). */
static int lab_category_disagrees(const struct nen_result *r)
{
    static const char *const codes[] = {"t-given-differs", "n-given-differs",
                                        "m-given-differs"};
    for (int i = 0; i < r->nwarn; i++)
        for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++)
            if (strcmp(r->warn[i].code, codes[k]) == 0)
                return 1;
    return 0;
}

void nen_classify(const struct nen_case *c, struct nen_result *r)
{
    nen_result_init(r);
    nen_grade_classify(c, r);
    nen_gtype_classify(c, r);
    nen_stage_classify(c, r);
    r->status = r->nmissing == 0 && !lab_category_disagrees(r) ? NEN_STATUS_FINAL
                                                                : NEN_STATUS_PRELIMINARY;
    nen_advice_classify(c, r); /* advice does not change the status */
}

/* One range rule: the field's name, its value, and the allowed interval. */
static int out_of_range(const char *name, const struct nen_num *v, double lo, double hi,
                        int lo_open, char *err, unsigned errlen)
{
    if (!v->known)
        return 0;
    if (v->value != v->value || v->value < lo || v->value > hi || (lo_open && v->value == lo)) {
        snprintf(err, errlen, "%s: %g is outside %s%g..%g", name, v->value, lo_open ? "(" : "",
                 lo, hi);
        return 1;
    }
    return 0;
}

/* A count (tumours, nodes, lesions) is a whole number. The range check ran first,
 * so the value is >= 0; the open end of a FHIR comparator ("< 5" ends just below 5)
 * is within 1e-9 of one and counts as whole. */
static int not_whole(const char *name, const struct nen_num *v, char *err, unsigned errlen)
{
    double off = v->known ? v->value - (double)(long long)(v->value + 0.5) : 0.0;
    if (off < 1e-9 && off > -1e-9)
        return 0;
    snprintf(err, errlen, "%s: %g is a count, not a whole number", name, v->value);
    return 1;
}

/* The fewest lesions the named distant sites hold: one per organ. met_lesions
 * counts extrathoracic lesions (CACA 2025 Table 10 M1b/M1c), so contralateral lung,
 * pleura and pericardium are not counted. */
static int lesion_organs(const struct nen_case *c)
{
    uint32_t thoracic = (1u << NEN_MET_LUNG) | (1u << NEN_MET_PLEURA) |
                        (1u << NEN_MET_PERICARDIUM);
    int n = 0;
    for (uint32_t s = c->met_sites & ~thoracic; s; s &= s - 1)
        n++;
    return n;
}

/* Counts that cannot be: fractions, and fewer metastatic lesions than organs. */
static int impossible_counts(const struct nen_case *c, char *err, unsigned errlen)
{
    if (not_whole("tumours", &c->tumour_count, err, errlen) ||
        not_whole("nodes_examined", &c->nodes_examined, err, errlen) ||
        not_whole("nodes_positive", &c->nodes_positive, err, errlen) ||
        not_whole("met_lesions", &c->met_lesions, err, errlen))
        return 1;
    if (c->met_lesions.known && c->mets == NEN_METS_NONE) {
        snprintf(err, errlen, "met_lesions: %g metastatic lesions but no distant metastasis",
                 c->met_lesions.value);
        return 1;
    }
    if (c->met_lesions.known && c->met_lesions.value < lesion_organs(c)) {
        snprintf(err, errlen,
                 "met_lesions: %g extrathoracic lesion(s) for %d organs named in mets (each "
                 "holds at least one)", c->met_lesions.value, lesion_organs(c));
        return 1;
    }
    return 0;
}

int nen_case_check(const struct nen_case *c, char *err, unsigned errlen)
{
    const struct {
        const char *name;
        const struct nen_num *v;
        double lo, hi;
        int lo_open;
    } rules[] = {
        {"ki67", &c->ki67, 0, 100, 0},
        {"mitoses", &c->mitoses, 0, 10000, 0},
        {"hpf_area", &c->hpf_area_mm2, 0, 5, 1},
        {"ne_pct", &c->ne_pct, 0, 100, 0},
        {"non_ne_pct", &c->non_ne_pct, 0, 100, 0},
        {"size", &c->size_mm, 0, 1000, 1},
        {"tumours", &c->tumour_count, 1, 10000, 0},
        {"nodes_examined", &c->nodes_examined, 0, 1000, 0},
        {"nodes_positive", &c->nodes_positive, 0, 1000, 0},
        {"met_lesions", &c->met_lesions, 1, 100000, 0},
        {"gastrin", &c->gastrin, 0, 1e7, 0},
        {"gastrin_uln", &c->gastrin_uln, 0, 1e7, 1},
        {"ph", &c->gastric_ph, 0, 14, 0},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (out_of_range(rules[i].name, rules[i].v, rules[i].lo, rules[i].hi, rules[i].lo_open,
                         err, errlen))
            return -1;
    if (c->nodes_examined.known && c->nodes_positive.known &&
        c->nodes_positive.value > c->nodes_examined.value) {
        snprintf(err, errlen, "nodes_positive: %g positive of %g examined",
                 c->nodes_positive.value, c->nodes_examined.value);
        return -1;
    }
    if (c->ne_pct.known && c->non_ne_pct.known && c->ne_pct.value + c->non_ne_pct.value > 100) {
        snprintf(err, errlen, "ne_pct, non_ne_pct: %g%% + %g%% is more than 100%%",
                 c->ne_pct.value, c->non_ne_pct.value);
        return -1;
    }
    if (c->mets != NEN_METS_PRESENT && c->met_sites != 0) {
        snprintf(err, errlen, "mets: sites given but metastasis status is not 'present'");
        return -1;
    }
    if (impossible_counts(c, err, errlen))
        return -1;
    return 0;
}
