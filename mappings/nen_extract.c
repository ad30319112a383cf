/*
 * nen_extract.c - walks the resources of one case (nen_extract.h): unpacks
 * Bundles, filters by status and by nenfhir's own tag, turns each
 * Observation, Condition and Specimen into readings (nen_extract_value.c),
 * resolves duplicates by the stated rule and fills the case. Owns only the
 * reading array it allocates per call.
 */
#include "nen_extract_int.h"

#include "fhir_tree.h"
#include "nen_case_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READINGS_MAX 512

struct walk {
    const struct nen_codes *t;
    struct nen_extract *x;
    struct nen_reading *rd;
    int nrd;
    nen_log_fn log;
    void *logctx;
    struct fhir_error *err;
    char patient_url[NEN_REF_LEN]; /* the Patient's fullUrl, another name for patient_ref */
    int collected;                 /* x->effective is the specimen's collection time */
};

static void logf_(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logf_(struct walk *w, const char *fmt, ...)
{
    char line[512];
    if (!w->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    w->log(w->logctx, line);
}

void nen_extract_warn_add(struct nen_warning *warn, int *nwarn, const char *code,
                          const char *text)
{
    for (int i = 0; i < *nwarn; i++)
        if (strcmp(warn[i].code, code) == 0 && strcmp(warn[i].text, text) == 0)
            return;
    if (*nwarn == NEN_WARN_MAX) {
        snprintf(warn[NEN_WARN_MAX - 1].code, NEN_WARN_CODE_LEN, "warnings-truncated");
        snprintf(warn[NEN_WARN_MAX - 1].text, NEN_TEXT_LEN, "more warnings than fit; see the log");
        return;
    }
    snprintf(warn[*nwarn].code, NEN_WARN_CODE_LEN, "%s", code);
    snprintf(warn[*nwarn].text, NEN_TEXT_LEN, "%s", text);
    (*nwarn)++;
}

void nen_extract_warnf(struct nen_extract *x, const char *code, const char *fmt, ...)
{
    char text[NEN_TEXT_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    nen_extract_warn_add(x->warn, &x->nwarn, code, text);
}

static struct nen_reading *new_reading(struct walk *w, const char *key, const char *ref,
                                       const char *type)
{
    if (w->nrd == READINGS_MAX) {
        fhir_error_set(w->err, "%s: more than %d inputs in one case", ref, READINGS_MAX);
        return NULL;
    }
    struct nen_reading *r = &w->rd[w->nrd++];
    memset(r, 0, sizeof *r);
    snprintf(r->key, sizeof r->key, "%s", key);
    snprintf(r->ref, sizeof r->ref, "%s", ref);
    snprintf(r->type, sizeof r->type, "%s", type);
    r->rank = 2;
    return r;
}

/* A string member that must be a string if present; -1 (err set) if not. */
static int opt_string(struct walk *w, json_object *o, const char *name, const char *path,
                      const char **out)
{
    *out = NULL;
    if (fhir_get_string(o, name, out) == FHIR_WRONG) {
        fhir_error_set(w->err, "%s.%s: expected a string, found %s", path, name,
                       fhir_type_name(fhir_member(o, name)));
        return -1;
    }
    return 0;
}

/* Readings from every code-table entry of cc's codings (any input key):
 * a Condition's code, a body site, a Specimen's collection method. negate:
 * the finding was refuted, so yes becomes no and other values are dropped. */
static int coded_readings(struct walk *w, json_object *cc, const char *ref, const char *type,
                          const char *path, int negate, int *made)
{
    size_t n = fhir_count(cc, "coding");
    for (size_t i = 0; i < n; i++) {
        const char *sys, *code;
        if (!fhir_cc_coding(cc, i, &sys, &code))
            continue;
        const struct nen_code *e;
        for (unsigned k = 0; (e = nen_codes_value(w->t, sys, code, NULL, k)); k++) {
            if (strcmp(e->key, "-") == 0) {
                logf_(w, "%s: %s %s|%s is known but carries no input", ref, path, sys, code);
                continue;
            }
            const char *word = e->word;
            if (negate && strcmp(word, "yes") != 0) {
                logf_(w, "%s: refuted %s|%s (%s=%s): nothing to conclude", ref, sys, code, e->key,
                      word);
                continue;
            }
            struct nen_reading *r = new_reading(w, e->key, ref, type);
            if (!r)
                return -1;
            snprintf(r->lo, sizeof r->lo, "%s", negate ? "no" : word);
            snprintf(r->hi, sizeof r->hi, "%s", r->lo);
            snprintf(r->shown, sizeof r->shown, "%s%s|%s", negate ? "refuted " : "", sys, code);
            (*made)++;
        }
    }
    return 0;
}

/* The input key of an Observation or component code, or NULL. */
static const char *input_key(struct walk *w, json_object *cc)
{
    size_t n = fhir_count(cc, "coding");
    for (size_t i = 0; i < n; i++) {
        const char *sys, *code, *key;
        if (fhir_cc_coding(cc, i, &sys, &code) && (key = nen_codes_input(w->t, sys, code)))
            return key;
    }
    return NULL;
}

static int is_hotspot(struct walk *w, json_object *method)
{
    size_t n = fhir_count(method, "coding");
    for (size_t i = 0; i < n; i++) {
        const char *sys, *code;
        if (fhir_cc_coding(method, i, &sys, &code) && nen_codes_hotspot(w->t, sys, code))
            return 1;
    }
    return 0;
}

/* Gastrin: the reference range's upper limit is the ULN; an interpretation
 * H/HH/N stands in for a missing number. */
static int gastrin_extras(struct walk *w, json_object *o, const struct nen_reading *base,
                          int have_value, int *made)
{
    double uln;
    json_object *rr = fhir_item(o, "referenceRange", 0), *high = fhir_member(rr, "high");
    const char *u = NULL;
    if (fhir_get_string(high, "code", &u) != FHIR_OK)
        fhir_get_string(high, "unit", &u);
    const struct nen_code_unit *unit = u ? nen_value_find_unit(w->t, "gastrin_uln", u) : NULL;
    if (u && !unit && fhir_member(high, "value"))
        logf_(w, "%s: referenceRange.high unit '%s' not in the code tables: upper limit not used",
              base->ref, u);
    if ((!u || unit) && fhir_get_number(high, "value", &uln) == FHIR_OK) {
        uln *= unit ? unit->factor : 1;
        struct nen_reading *r = new_reading(w, "gastrin_uln", base->ref, base->type);
        if (!r)
            return -1;
        snprintf(r->lo, sizeof r->lo, "%.17g", uln);
        snprintf(r->hi, sizeof r->hi, "%.17g", uln);
        snprintf(r->shown, sizeof r->shown, "referenceRange.high %.15g", uln);
        r->rank = base->rank;
        snprintf(r->when, sizeof r->when, "%s", base->when);
        (*made)++;
    }
    if (have_value)
        return 0;
    static const char *const v3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
    json_object *in = fhir_item(o, "interpretation", 0);
    const char *word = fhir_cc_has(in, v3, "H") || fhir_cc_has(in, v3, "HH") ? "high"
                       : fhir_cc_has(in, v3, "N")                            ? "normal"
                                                                             : NULL;
    if (!word)
        return 0;
    struct nen_reading *r = new_reading(w, "gastrin", base->ref, base->type);
    if (!r)
        return -1;
    *r = *base;
    snprintf(r->lo, sizeof r->lo, "%s", word);
    snprintf(r->hi, sizeof r->hi, "%s", word);
    snprintf(r->shown, sizeof r->shown, "interpretation %s", word);
    (*made)++;
    return 0;
}

/* One element with code and value[x] (the Observation, or a component). */
static int element(struct walk *w, json_object *el, const char *path,
                   const struct nen_reading *base, int *made)
{
    json_object *code = fhir_member(el, "code");
    if (!code || !json_object_is_type(code, json_type_object)) {
        fhir_error_set(w->err, "%s.code: expected a CodeableConcept, found %s", path,
                       fhir_type_name(code));
        return -1;
    }
    const char *key = input_key(w, code);
    if (!key) {
        json_object *v = fhir_member(el, "valueCodeableConcept");
        int before = *made;
        if (v && coded_readings(w, v, base->ref, base->type, "value", 0, made) != 0)
            return -1;
        for (int i = before; i < *made; i++) {
            w->rd[w->nrd - *made + i].rank = base->rank;
            snprintf(w->rd[w->nrd - *made + i].when, sizeof base->when, "%s", base->when);
        }
        return 0;
    }
    struct nen_reading *r = new_reading(w, key, base->ref, base->type);
    if (!r)
        return -1;
    *r = *base;
    snprintf(r->key, sizeof r->key, "%s", key);
    int rc = nen_value_read(w->t, el, path, r, w->x, w->err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        w->nrd--; /* nothing read: drop the slot */
    else
        (*made)++;
    if (strcmp(key, "gastrin") == 0)
        return gastrin_extras(w, el, base, rc > 0, made);
    return 0;
}

static int observation(struct walk *w, json_object *res, const char *ref)
{
    const char *status, *issued, *eff;
    if (opt_string(w, res, "status", ref, &status) != 0 ||
        opt_string(w, res, "issued", ref, &issued) != 0 ||
        opt_string(w, res, "effectiveDateTime", ref, &eff) != 0)
        return -1;
    if (!status) {
        fhir_error_set(w->err, "%s.status: missing (required)", ref);
        return -1;
    }
    int rank = strcmp(status, "final") == 0 || strcmp(status, "amended") == 0 ||
                       strcmp(status, "corrected") == 0
                   ? 2
               : strcmp(status, "preliminary") == 0 ? 1
                                                    : 0;
    if (strcmp(status, "entered-in-error") == 0) {
        logf_(w, "%s: status entered-in-error: retracted, not used", ref);
        return 0;
    }
    if (rank == 0) {
        logf_(w, "%s: status %s: ignored (only final, amended, corrected, preliminary are used)",
              ref, status);
        return 0;
    }
    struct nen_reading base;
    memset(&base, 0, sizeof base);
    snprintf(base.ref, sizeof base.ref, "%s", ref);
    snprintf(base.type, sizeof base.type, "Observation");
    snprintf(base.when, sizeof base.when, "%s", issued ? issued : eff ? eff : "");
    base.rank = rank;
    base.hotspot = is_hotspot(w, fhir_member(res, "method"));
    if (eff && strcmp(eff, w->x->effective) > 0 && !w->collected)
        snprintf(w->x->effective, sizeof w->x->effective, "%s", eff);
    int made = 0;
    if (element(w, res, ref, &base, &made) != 0)
        return -1;
    size_t n = fhir_count(res, "component");
    for (size_t i = 0; i < n; i++) {
        char path[NEN_REF_LEN + 32];
        snprintf(path, sizeof path, "%s.component[%zu]", ref, i);
        if (element(w, fhir_item(res, "component", i), path, &base, &made) != 0)
            return -1;
    }
    if (!made)
        logf_(w, "%s: no input for nenfhir (code not in the code tables, or no usable value)", ref);
    return 0;
}

/* 1 if the CodeableConcept member name of res has a coding with code (any system). */
static int cc_code_is(json_object *res, const char *name, const char *code)
{
    json_object *cc = fhir_member(res, name);
    size_t n = fhir_count(cc, "coding");
    for (size_t i = 0; i < n; i++) {
        const char *c;
        if (fhir_get_string(fhir_item(cc, "coding", i), "code", &c) == FHIR_OK &&
            strcmp(c, code) == 0)
            return 1;
    }
    return 0;
}

static int condition(struct walk *w, json_object *res, const char *ref)
{
    if (cc_code_is(res, "verificationStatus", "entered-in-error")) {
        logf_(w, "%s: verificationStatus entered-in-error: retracted, not used", ref);
        return 0;
    }
    int negate = cc_code_is(res, "verificationStatus", "refuted");
    int made = 0;
    if (coded_readings(w, fhir_member(res, "code"), ref, "Condition", "code", negate, &made) != 0)
        return -1;
    /* A metastasis' bodySite is where the metastasis is, not the primary site. */
    int metastasis = 0;
    for (int i = w->nrd - made; i < w->nrd; i++)
        metastasis |= strcmp(w->rd[i].key, "mets") == 0;
    size_t n = metastasis ? 0 : fhir_count(res, "bodySite");
    for (size_t i = 0; i < n && !negate; i++)
        if (coded_readings(w, fhir_item(res, "bodySite", i), ref, "Condition", "bodySite", 0,
                           &made) != 0)
            return -1;
    if (!made)
        logf_(w, "%s: no input for nenfhir (code not in the code tables)", ref);
    return 0;
}

static int specimen(struct walk *w, json_object *res, const char *ref)
{
    struct nen_extract *x = w->x;
    if (x->specimen_ref[0] && strcmp(x->specimen_ref, ref) != 0) {
        fhir_error_set(w->err, "%s: a second Specimen (the case already has %s): one case is one "
                       "specimen", ref, x->specimen_ref);
        return -1;
    }
    snprintf(x->specimen_ref, sizeof x->specimen_ref, "%s", ref);
    json_object *acc = fhir_member(res, "accessionIdentifier");
    if (!acc)
        acc = fhir_item(res, "identifier", 0);
    const char *sys = NULL, *val = NULL;
    if (opt_string(w, acc, "system", ref, &sys) != 0 || opt_string(w, acc, "value", ref, &val) != 0)
        return -1;
    if (val) {
        snprintf(x->case_system, sizeof x->case_system, "%s", sys ? sys : "");
        snprintf(x->case_value, sizeof x->case_value, "%s", val);
    }
    json_object *col = fhir_member(res, "collection");
    const char *when = NULL;
    if (opt_string(w, col, "collectedDateTime", ref, &when) != 0)
        return -1;
    if (when) {
        snprintf(x->effective, sizeof x->effective, "%s", when);
        w->collected = 1;
    }
    int made = 0;
    if (coded_readings(w, fhir_member(res, "type"), ref, "Specimen", "type", 0, &made) != 0 ||
        coded_readings(w, fhir_member(col, "method"), ref, "Specimen", "collection.method", 0,
                       &made) != 0 ||
        coded_readings(w, fhir_member(col, "bodySite"), ref, "Specimen", "collection.bodySite", 0,
                       &made) != 0)
        return -1;
    return 0;
}

/* The subject of res must be the case's patient (set by the first one seen). */
static int check_subject(struct walk *w, json_object *res, const char *ref)
{
    json_object *subj = fhir_member(res, "subject");
    const char *s = NULL;
    if (!subj)
        return 0;
    if (opt_string(w, subj, "reference", ref, &s) != 0)
        return -1;
    if (!s)
        return 0;
    struct nen_extract *x = w->x;
    if (!x->patient_ref[0]) {
        snprintf(x->patient_ref, sizeof x->patient_ref, "%s", s);
        return 0;
    }
    if (strcmp(s, x->patient_ref) == 0 || (w->patient_url[0] && strcmp(s, w->patient_url) == 0))
        return 0;
    fhir_error_set(w->err, "%s.subject: %s is not the case's patient %s", ref, s, x->patient_ref);
    return -1;
}

/* phase 0: Patient and Specimen (the case's identity); phase 1: the rest. */
static int visit(struct walk *w, json_object *res, const char *full_url, int phase)
{
    const char *type = fhir_resource_type(res), *id = fhir_resource_id(res);
    char ref[NEN_REF_LEN];
    if (id[0])
        snprintf(ref, sizeof ref, "%s/%s", type, id);
    else
        snprintf(ref, sizeof ref, "%s", full_url && full_url[0] ? full_url : type);
    int is_patient = strcmp(type, "Patient") == 0, is_specimen = strcmp(type, "Specimen") == 0;
    if (phase == 0) {
        if (!is_patient && !is_specimen)
            return 0;
        if (is_patient) {
            if (w->x->patient_ref[0] && strcmp(w->x->patient_ref, ref) != 0) {
                fhir_error_set(w->err, "%s: a second Patient (the case is %s's)", ref,
                               w->x->patient_ref);
                return -1;
            }
            snprintf(w->x->patient_ref, sizeof w->x->patient_ref, "%s", ref);
            snprintf(w->patient_url, sizeof w->patient_url, "%s", full_url ? full_url : "");
            return 0;
        }
        return specimen(w, res, ref);
    }
    if (is_patient || is_specimen)
        return is_specimen ? check_subject(w, res, ref) : 0;
    if (fhir_has_tag(res, NEN_TAG_SYSTEM, NEN_TAG_CODE)) {
        logf_(w, "%s: written by nenfhir (meta.tag): skipped", ref);
        return 0;
    }
    if (strcmp(type, "Observation") == 0)
        return check_subject(w, res, ref) || observation(w, res, ref) ? -1 : 0;
    if (strcmp(type, "Condition") == 0)
        return check_subject(w, res, ref) || condition(w, res, ref) ? -1 : 0;
    logf_(w, "%s: a %s is not an input of nenfhir: ignored", ref, type);
    return 0;
}

static int visit_doc(struct walk *w, json_object *doc, int phase)
{
    if (strcmp(fhir_resource_type(doc), "Bundle") != 0)
        return visit(w, doc, NULL, phase);
    size_t n = fhir_count(doc, "entry");
    for (size_t i = 0; i < n; i++) {
        json_object *e = fhir_item(doc, "entry", i);
        json_object *res = fhir_member(e, "resource");
        const char *url = NULL, *method = NULL;
        json_object *req = fhir_member(e, "request");
        if (fhir_get_string(req, "method", &method) == FHIR_OK && strcmp(method, "DELETE") == 0)
            continue;
        if (!res)
            continue;
        if (!json_object_is_type(res, json_type_object) || !fhir_resource_type(res)[0]) {
            fhir_error_set(w->err, "Bundle.entry[%zu].resource: not a resource (%s without "
                           "resourceType)", i, fhir_type_name(res));
            return -1;
        }
        if (fhir_get_string(e, "fullUrl", &url) == FHIR_WRONG) {
            fhir_error_set(w->err, "Bundle.entry[%zu].fullUrl: expected a string", i);
            return -1;
        }
        if (strcmp(fhir_resource_type(res), "Bundle") == 0) {
            if (phase == 0)
                logf_(w, "Bundle.entry[%zu]: a Bundle inside a Bundle: ignored", i);
            continue;
        }
        if (visit(w, res, url, phase) != 0)
            return -1;
    }
    return 0;
}

int nen_extract(const struct nen_codes *t, json_object *const *docs, size_t n,
                struct nen_extract *x, nen_log_fn log, void *logctx, struct fhir_error *err)
{
    memset(x, 0, sizeof *x);
    nen_case_init(&x->lo);
    nen_case_init(&x->hi);
    struct walk w = {t, x, NULL, 0, log, logctx, err, "", 0};
    w.rd = malloc(READINGS_MAX * sizeof *w.rd);
    if (!w.rd) {
        fhir_error_set(err, "out of memory");
        return -1;
    }
    int rc = 0;
    for (int phase = 0; phase < 2 && rc == 0; phase++)
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = visit_doc(&w, docs[i], phase);
    if (rc == 0 && !x->case_value[0]) {
        const char *who = x->specimen_ref[0] ? x->specimen_ref : x->patient_ref;
        if (!who[0]) {
            fhir_error_set(err, "no Specimen, Patient or subject reference: cannot tell which "
                           "case these resources belong to");
            rc = -1;
        } else {
            snprintf(x->case_value, sizeof x->case_value, "%s", who);
            logf_(&w, "case key: %s (no specimen accession number)", who);
        }
    }
    if (rc == 0)
        rc = nen_extract_resolve(x, w.rd, w.nrd, err);
    free(w.rd);
    return rc;
}
