/*
 * nen_extract_classify.c - classify an extracted case (nen_extract.h).
 *
 * Ranges: when an input was reported as a range or a limit the rules run at
 * both ends; the rules never lower a category as a value grows, so a field
 * that agrees at both ends holds for every value between, and a field that
 * does not is indeterminate.
 *
 * Unreadable inputs: an input the lab reported but nenfhir could not read is
 * not an absent input. The case is classified without it (the base), then
 * once for every value it could have (nen_case_candidate). A field on which
 * those runs agree takes that value; a field on which they disagree is
 * indeterminate; the result is preliminary, naming the input. The extract
 * warnings join the result's, codes read nowhere last.
 */
#include "nen_extract.h"

#include "nen_case_text.h"

#include <stdio.h>
#include <string.h>

#define RANGE_RULE "nenfhir: ranges are evaluated at both ends"
#define UNREAD_RULE "nenfhir: an unreadable input is tried at every value it could have"

static void undecided(struct nen_result *r, struct nen_trace *t, const char *field,
                      const char *lo, const char *hi, const char *keys)
{
    char text[NEN_TEXT_LEN];
    nen_text_set(text, sizeof text, "%s: %s at the low end, %s at the high end of %s; a single value "
             "is needed", field, lo, hi, keys);
    nen_trace_add(t, RANGE_RULE, "%s", text);
    nen_extract_warn_add(r->warn, &r->nwarn, "input-range-undecided", text);
    r->status = NEN_STATUS_PRELIMINARY;
}

/* 1 when T, N or M results a and b say the same. */
static int tnm_same(const struct nen_tnm_result *a, const struct nen_tnm_result *b)
{
    return a->value == b->value && a->candidates == b->candidates && a->multiple == b->multiple;
}

/* Every category a or b allows. */
static uint64_t tnm_union(const struct nen_tnm_result *a, const struct nen_tnm_result *b)
{
    uint64_t c = a->candidates | b->candidates;
    if (a->value != NEN_TNM_UNKNOWN)
        c |= 1ULL << a->value;
    if (b->value != NEN_TNM_UNKNOWN)
        c |= 1ULL << b->value;
    return c;
}

static uint32_t stage_union(const struct nen_result *a, const struct nen_result *b)
{
    uint32_t c = a->stage_candidates | b->stage_candidates | (1u << a->stage) | (1u << b->stage);
    return c & ~((1u << NEN_STAGE_INDETERMINATE) | (1u << NEN_STAGE_NOT_STAGED));
}

static void tnm_merge(struct nen_result *r, struct nen_tnm_result *a,
                      const struct nen_tnm_result *b, const char *field, const char *keys)
{
    char x[24], y[24];
    if (tnm_same(a, b))
        return;
    nen_tnm_result_text(a, x, sizeof x);
    nen_tnm_result_text(b, y, sizeof y);
    a->candidates = tnm_union(a, b);
    a->value = NEN_TNM_UNKNOWN;
    undecided(r, &a->trace, field, x, y, keys);
}

/* nen_classify at lo and, when some input was a range, at hi too. */
static void classify_ends(const struct nen_case *lo, const struct nen_case *hi, int ranged,
                          const char *k, struct nen_result *r)
{
    nen_classify(lo, r);
    if (!ranged)
        return;
    struct nen_result hi_result;
    struct nen_result *h = &hi_result;
    nen_classify(hi, h);
    if (r->cls != h->cls) {
        undecided(r, &r->class_trace, "class", nen_class_name(r->cls), nen_class_name(h->cls), k);
        r->cls = NEN_CLASS_INDETERMINATE;
    }
    if (r->grade != h->grade) {
        undecided(r, &r->grade_trace, "grade", nen_grade_name(r->grade),
                  nen_grade_name(h->grade), k);
        r->grade = NEN_GRADE_INDETERMINATE;
    }
    if (r->gtype != h->gtype) {
        undecided(r, &r->gtype_trace, "gastric type", nen_gtype_name(r->gtype),
                  nen_gtype_name(h->gtype), k);
        r->gtype = NEN_GTYPE_INDETERMINATE;
    }
    tnm_merge(r, &r->t, &h->t, "T", k);
    tnm_merge(r, &r->n, &h->n, "N", k);
    tnm_merge(r, &r->m, &h->m, "M", k);
    if (r->stage != h->stage) {
        uint32_t c = stage_union(r, h);
        undecided(r, &r->stage_trace, "stage", nen_stage_name(r->stage),
                  nen_stage_name(h->stage), k);
        r->stage = NEN_STAGE_INDETERMINATE;
        r->stage_candidates = c;
    }
    for (int i = 0; i < h->nwarn; i++) /* warnings only the high end raised */
        nen_extract_warn_add(r->warn, &r->nwarn, h->warn[i].code, h->warn[i].text);
    if (r->nwarn < NEN_WARN_MAX) {
        char text[NEN_TEXT_LEN];
        nen_text_set(text, sizeof text, "%s reported as a range or limit: the rules were run at "
                 "both ends", k);
        nen_extract_warn_add(r->warn, &r->nwarn, "input-range", text);
    }
}

/* agg := the fields on which agg and c agree; the others indeterminate, with
 * every value either allowed as candidates. Traces and warnings untouched. */
static void agree(struct nen_result *agg, const struct nen_result *c)
{
    if (agg->cls != c->cls)
        agg->cls = NEN_CLASS_INDETERMINATE;
    if (agg->grade != c->grade)
        agg->grade = NEN_GRADE_INDETERMINATE;
    if (agg->gtype != c->gtype)
        agg->gtype = NEN_GTYPE_INDETERMINATE;
    struct nen_tnm_result *a[3] = {&agg->t, &agg->n, &agg->m};
    const struct nen_tnm_result *b[3] = {&c->t, &c->n, &c->m};
    for (int i = 0; i < 3; i++)
        if (!tnm_same(a[i], b[i])) {
            a[i]->candidates = tnm_union(a[i], b[i]);
            a[i]->value = NEN_TNM_UNKNOWN;
        }
    if (agg->stage != c->stage) {
        agg->stage_candidates = stage_union(agg, c);
        agg->stage = NEN_STAGE_INDETERMINATE;
    }
}

/* What some candidate run said: its warnings and missing inputs, so that the
 * base keeps only what is true for a value the input could have (the base
 * treats the input as absent: "mitotic count missing" is not true of a count
 * that was reported). */
struct said {
    int nwarn, nmissing;
    struct nen_warning warn[NEN_WARN_MAX * 4];
    char missing[NEN_MISSING_MAX * 2][NEN_MISSING_LEN];
};

static int said_warning(const struct said *s, const struct nen_warning *w)
{
    for (int i = 0; i < s->nwarn; i++)
        if (strcmp(s->warn[i].code, w->code) == 0 && strcmp(s->warn[i].text, w->text) == 0)
            return 1;
    return 0;
}

static int said_missing(const struct said *s, const char *m)
{
    for (int i = 0; i < s->nmissing; i++)
        if (strcmp(s->missing[i], m) == 0)
            return 1;
    return 0;
}

static void remember(struct said *s, const struct nen_result *c)
{
    for (int i = 0; i < c->nwarn; i++)
        if (!said_warning(s, &c->warn[i]) && s->nwarn < (int)(sizeof s->warn / sizeof s->warn[0]))
            s->warn[s->nwarn++] = c->warn[i];
    for (int i = 0; i < c->nmissing; i++)
        if (!said_missing(s, c->missing[i]) && s->nmissing < (int)(sizeof s->missing / sizeof s->missing[0]))
            snprintf(s->missing[s->nmissing++], NEN_MISSING_LEN, "%s", c->missing[i]);
}

/* r keeps the warnings and missing inputs some candidate run also gave. */
static void keep_said(struct nen_result *r, const struct said *s)
{
    int k = 0;
    for (int i = 0; i < r->nwarn; i++)
        if (said_warning(s, &r->warn[i]))
            r->warn[k++] = r->warn[i];
    r->nwarn = k;
    k = 0;
    for (int i = 0; i < r->nmissing; i++)
        if (said_missing(s, r->missing[i]))
            memmove(r->missing[k++], r->missing[i], NEN_MISSING_LEN);
    r->nmissing = k;
}

/* The candidate runs of every unreadable input of x, their fields agreed into
 * agg and what they said into s. Returns the number of runs (0: no candidate
 * made a valid case). */
static int candidate_runs(const struct nen_extract *x, struct nen_result *agg, struct said *s)
{
    struct nen_result c;
    int runs = 0;
    for (int u = 0; u < x->nunread; u++) {
        const struct nen_unread *un = &x->unread[u];
        char value[64], msg[200];
        for (unsigned i = 0; nen_case_candidate(un->key, i, value, sizeof value); i++) {
            if (un->present && strcmp(value, "none") == 0)
                continue; /* a metastasis is there; only its place is unknown */
            struct nen_case lo = x->lo, hi = x->hi;
            if (nen_case_set(&lo, un->key, value, msg, sizeof msg) != 0 ||
                nen_case_set(&hi, un->key, value, msg, sizeof msg) != 0 ||
                nen_case_check(&lo, msg, sizeof msg) != 0 ||
                nen_case_check(&hi, msg, sizeof msg) != 0)
                continue; /* a value these other inputs rule out */
            classify_ends(&lo, &hi, x->ranged, x->ranged_keys, runs ? &c : agg);
            remember(s, runs ? &c : agg);
            if (runs++)
                agree(agg, &c);
        }
    }
    return runs;
}

/* One field after the candidate runs: kept when they all agree with the
 * base, their common value when they agree among themselves, else
 * indeterminate. Returns 1 when the field changed. */
static int settle(int base, int agreed, int indeterminate, int *out, struct nen_trace *t,
                  const char *field, const char *value_name, const char *keys)
{
    if (agreed == base && base != indeterminate)
        return 0;
    if (agreed != indeterminate) {
        *out = agreed;
        memset(t, 0, sizeof *t);
        nen_trace_add(t, UNREAD_RULE, "%s is %s for every value %s could have", field, value_name,
                      keys);
        return 1;
    }
    *out = indeterminate;
    nen_trace_add(t, UNREAD_RULE, "%s depends on %s, reported but not readable", field, keys);
    return 1;
}

static void settle_tnm(struct nen_tnm_result *r, const struct nen_tnm_result *agreed,
                       const char *field, const char *keys)
{
    char name[24];
    if (tnm_same(r, agreed) && r->value != NEN_TNM_UNKNOWN)
        return;
    if (agreed->value != NEN_TNM_UNKNOWN) {
        *r = *agreed;
        memset(&r->trace, 0, sizeof r->trace);
        nen_trace_add(&r->trace, UNREAD_RULE, "%s is %s for every value %s could have", field,
                      nen_tnm_result_text(agreed, name, sizeof name), keys);
        return;
    }
    r->candidates = agreed->candidates; /* the base's "unknown" is no value it could have */
    r->value = NEN_TNM_UNKNOWN;
    nen_trace_add(&r->trace, UNREAD_RULE, "%s depends on %s, reported but not readable", field,
                  keys);
}

/* Apply the unreadable inputs of x to the base result r. */
static void unreadable_inputs(const struct nen_extract *x, struct nen_result *r)
{
    struct nen_result agg;
    struct said said;
    char keys[NEN_TEXT_LEN] = "";
    for (int u = 0; u < x->nunread; u++) {
        size_t len = strlen(keys);
        snprintf(keys + len, sizeof keys - len, "%s%s (%s)", u ? ", " : "", x->unread[u].key,
                 x->unread[u].ref);
    }
    memset(&said, 0, sizeof said);
    if (candidate_runs(x, &agg, &said) > 0) {
        keep_said(r, &said);
        int v;
        v = (int)r->cls;
        settle((int)r->cls, (int)agg.cls, NEN_CLASS_INDETERMINATE, &v, &r->class_trace, "class",
               nen_class_name(agg.cls), keys);
        r->cls = (enum nen_class)v;
        v = (int)r->grade;
        settle((int)r->grade, (int)agg.grade, NEN_GRADE_INDETERMINATE, &v, &r->grade_trace,
               "grade", nen_grade_name(agg.grade), keys);
        r->grade = (enum nen_grade)v;
        v = (int)r->gtype;
        settle((int)r->gtype, (int)agg.gtype, NEN_GTYPE_INDETERMINATE, &v, &r->gtype_trace,
               "gastric type", nen_gtype_name(agg.gtype), keys);
        r->gtype = (enum nen_gtype)v;
        settle_tnm(&r->t, &agg.t, "T", keys);
        settle_tnm(&r->n, &agg.n, "N", keys);
        settle_tnm(&r->m, &agg.m, "M", keys);
        uint32_t cands = agg.stage_candidates;
        v = (int)r->stage;
        if (settle((int)r->stage, (int)agg.stage, NEN_STAGE_INDETERMINATE, &v, &r->stage_trace,
                   "stage", nen_stage_name(agg.stage), keys) &&
            v == NEN_STAGE_INDETERMINATE)
            r->stage_candidates = cands;
        r->stage = (enum nen_stage)v;
    }
    for (int u = 0; u < x->nunread; u++) {
        char text[NEN_TEXT_LEN];
        nen_text_set(text, sizeof text, "%s reported by %s but not readable: the rules were run "
                     "for every value it could have; each field on which they differ is "
                     "indeterminate", x->unread[u].key, x->unread[u].ref);
        nen_extract_warn_add(r->warn, &r->nwarn, "input-unreadable", text);
    }
    r->status = NEN_STATUS_PRELIMINARY;
}

/* The advice of the final fields, at both ends of any range: a suggestion
 * stands only when both ends give it. */
static void advice_both_ends(const struct nen_extract *x, struct nen_result *r)
{
    nen_advice_classify(&x->lo, r);
    if (!x->ranged)
        return;
    struct nen_result hi = *r;
    nen_advice_classify(&x->hi, &hi);
    int k = 0;
    for (int i = 0; i < r->nadvice; i++) {
        int both = 0;
        for (int j = 0; j < hi.nadvice && !both; j++)
            both = strcmp(r->advice[i].code, hi.advice[j].code) == 0;
        if (both)
            r->advice[k++] = r->advice[i];
        else
            nen_trace_add(&r->advice_trace, RANGE_RULE, "%s holds at one end of %s only: not "
                          "suggested", r->advice[i].code, x->ranged_keys);
    }
    r->nadvice = k;
}

void nen_extract_classify(const struct nen_extract *x, struct nen_result *r)
{
    classify_ends(&x->lo, &x->hi, x->ranged, x->ranged_keys, r);
    if (x->nunread)
        unreadable_inputs(x, r);
    advice_both_ends(x, r);
    for (int i = 0; i < x->nwarn; i++)
        nen_extract_warn_add(r->warn, &r->nwarn, x->warn[i].code, x->warn[i].text);
    for (int i = 0; i < x->nunknown; i++)
        nen_extract_warn_add(r->warn, &r->nwarn, x->unknown[i].code, x->unknown[i].text);
}
