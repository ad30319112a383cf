/*
 * nen_report_text.c - renders a nen_result as summary lines and as a readable
 * rule trace (nen_report_text.h). Pure formatting into stack buffers.
 */
#include "nen_report_text.h"

#include <stdio.h>
#include <string.h>

static const struct { const char *key, *label; } labels[] = {
    {"site", "primary site"}, {"specimen", "specimen kind (resection or biopsy)"},
    {"ki67", "Ki-67 index"}, {"mitoses", "mitotic count"}, {"necrosis", "necrosis"},
    {"diff", "differentiation (well / small cell / large cell)"},
    {"size", "tumour size"}, {"depth", "depth of invasion / extent"},
    {"nodes", "regional lymph nodes"}, {"pn", "N category (node stations)"},
    {"mesenteric_mass", "mesenteric mass > 2 cm / extensive deposits"},
    {"mets", "distant metastasis"}, {"met_lesions", "number of extrathoracic lesions"},
    {"gastrin", "serum gastrin"}, {"acid", "gastric acid status / pH"},
    {"atrophic_gastritis", "atrophic gastritis"},
    {"antibodies", "parietal-cell / intrinsic-factor antibodies"},
    {"gastrinoma", "gastrinoma / Zollinger-Ellison / MEN1 work-up"},
    {"lineage", "PIT1 / TPIT / SF1"},
};

const char *nen_input_label(const char *key)
{
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strcmp(labels[i].key, key) == 0)
            return labels[i].label;
    return key;
}

void nen_report_summary(const struct nen_result *r, nen_line_fn emit, void *ctx)
{
    char line[NEN_TEXT_LEN + 64], v[32];
    snprintf(line, sizeof line, "class=%s", nen_class_name(r->cls));
    emit(ctx, line);
    snprintf(line, sizeof line, "grade=%s", nen_grade_name(r->grade));
    emit(ctx, line);
    snprintf(line, sizeof line, "type=%s", nen_gtype_name(r->gtype));
    emit(ctx, line);
    snprintf(line, sizeof line, "t=%s", nen_tnm_result_text(&r->t, v, sizeof v));
    emit(ctx, line);
    snprintf(line, sizeof line, "n=%s", nen_tnm_result_text(&r->n, v, sizeof v));
    emit(ctx, line);
    snprintf(line, sizeof line, "m=%s", nen_tnm_result_text(&r->m, v, sizeof v));
    emit(ctx, line);
    snprintf(line, sizeof line, "stage=%s", nen_stage_name(r->stage));
    emit(ctx, line);
    snprintf(line, sizeof line, "status=%s", nen_status_name(r->status));
    emit(ctx, line);
    for (int i = 0; i < r->nwarn; i++) {
        snprintf(line, sizeof line, "warning=%s: %s", r->warn[i].code, r->warn[i].text);
        emit(ctx, line);
    }
    for (int i = 0; i < r->nmissing; i++) {
        snprintf(line, sizeof line, "warning=missing: %s", nen_input_label(r->missing[i]));
        emit(ctx, line);
    }
    for (int i = 0; i < r->nadvice; i++) {
        snprintf(line, sizeof line, "advice=%s: %s", r->advice[i].code, r->advice[i].text);
        emit(ctx, line);
    }
}

static void emit_trace(const char *title, const char *value, const struct nen_trace *t,
                       nen_line_fn emit, void *ctx)
{
    char line[NEN_RULE_LEN + NEN_TEXT_LEN + 32];
    snprintf(line, sizeof line, "%s: %s", title, value);
    emit(ctx, line);
    for (int i = 0; i < t->n; i++) {
        snprintf(line, sizeof line, "    - %s [%s]", t->step[i].text, t->step[i].rule);
        emit(ctx, line);
    }
    if (t->truncated)
        emit(ctx, "    - (further steps not kept)");
}

void nen_report_trace(const struct nen_result *r, nen_line_fn emit, void *ctx)
{
    char v[NEN_TEXT_LEN + 64], set[128];
    if (r->subtype[0])
        snprintf(v, sizeof v, "%s (%s)", nen_class_name(r->cls), r->subtype);
    else
        snprintf(v, sizeof v, "%s", nen_class_name(r->cls));
    emit_trace("class", v, &r->class_trace, emit, ctx);
    emit_trace("grade", nen_grade_name(r->grade), &r->grade_trace, emit, ctx);
    emit_trace("gastric type", nen_gtype_name(r->gtype), &r->gtype_trace, emit, ctx);
    const struct { const char *title; const struct nen_tnm_result *x; } tnm[] = {
        {"T", &r->t}, {"N", &r->n}, {"M", &r->m}};
    for (int i = 0; i < 3; i++) {
        nen_tnm_result_text(tnm[i].x, v, sizeof v);
        if (tnm[i].x->candidates) {
            char one[32];
            size_t used = strlen(v);
            snprintf(v + used, sizeof v - used, " (one of:");
            for (int k = 0; k < NEN_TNM__COUNT; k++)
                if (tnm[i].x->candidates & (1ULL << k)) {
                    snprintf(one, sizeof one, " %s", nen_tnm_name((enum nen_tnm)k));
                    used = strlen(v);
                    snprintf(v + used, sizeof v - used, "%s", one);
                }
            used = strlen(v);
            snprintf(v + used, sizeof v - used, ")");
        }
        emit_trace(tnm[i].title, v, &tnm[i].x->trace, emit, ctx);
    }
    snprintf(v, sizeof v, "%s", nen_stage_name(r->stage));
    if (r->stage_candidates) {
        set[0] = '\0';
        for (int k = 0; k < NEN_STAGE__COUNT; k++)
            if (r->stage_candidates & (1u << k)) {
                size_t used = strlen(set);
                snprintf(set + used, sizeof set - used, " %s", nen_stage_name((enum nen_stage)k));
            }
        size_t used = strlen(v);
        snprintf(v + used, sizeof v - used, " (one of:%s)", set);
    }
    emit_trace("stage (AJCC 9th)", v, &r->stage_trace, emit, ctx);
    snprintf(v, sizeof v, "%d", r->nadvice);
    emit_trace("guideline suggestions for the treating team", v, &r->advice_trace, emit, ctx);
}
