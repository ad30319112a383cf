/*
 * nen_classify.c - the whole classification of one case: class and grade,
 * gastric type, T/N/M and stage group, then the report status (final when no
 * needed input is missing). Also the case initialiser and its range checks.
 */
#include "nen_case.h"

#include <stdio.h>
#include <string.h>

void nen_case_init(struct nen_case *c)
{
    memset(c, 0, sizeof *c); /* every enum's 0 is "unknown", every number .known = 0 */
}

void nen_classify(const struct nen_case *c, struct nen_result *r)
{
    nen_result_init(r);
    nen_grade_classify(c, r);
    nen_gtype_classify(c, r);
    nen_stage_classify(c, r);
    r->status = r->nmissing == 0 ? NEN_STATUS_FINAL : NEN_STATUS_PRELIMINARY;
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
    return 0;
}
