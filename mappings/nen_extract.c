/*
 * nen_extract.c - walks the resources of one case (nen_extract.h): unpacks
 * Bundles, filters by status and by nenfhir's own tag, turns each
 * Observation, Condition and Specimen into readings (nen_extract_value.c),
 * resolves duplicates by the stated rule and fills the case. Owns only the
 * reading array it allocates per call.
 */
#include "nen_extract_int.h"

#include "fhir_primitive.h"
#include "fhir_tree.h"
#include "nen_case_text.h"
#include "nen_cases.h"

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
    int64_t effective_ms;          /* x->effective as an instant, when not collected */
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

/* A new reading of key with base's source, rank, time and method; NULL (err
 * set) when the case has too many. */
static struct nen_reading *reading_like(struct walk *w, const struct nen_reading *base,
                                        const char *key)
{
    if (w->nrd == READINGS_MAX) {
        fhir_error_set(w->err, "%s: more than %d inputs in one case", base->ref, READINGS_MAX);
        return NULL;
    }
    struct nen_reading *r = &w->rd[w->nrd++];
    *r = *base;
    snprintf(r->key, sizeof r->key, "%s", key);
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

/* "system|code (display)" of the first coding of cc, for messages. */
static const char *coding_text(json_object *cc, char *buf, size_t len)
{
    const char *sys = NULL, *code = NULL, *display = NULL, *text = NULL;
    json_object *c = fhir_item(cc, "coding", 0);
    fhir_get_string(c, "system", &sys);
    fhir_get_string(c, "code", &code);
    fhir_get_string(c, "display", &display);
    fhir_get_string(cc, "text", &text);
    if (!display)
        display = text;
    snprintf(len ? buf : NULL, len, "%s|%s%s%s%s", sys ? sys : "(no system)",
             code ? code : "(no code)", display ? " (" : "", display ? display : "",
             display ? ")" : "");
    return buf;
}

/* A code read nowhere: input-code-unknown naming resource and field. */
static void unknown_code(struct walk *w, json_object *cc, const char *path, const char *what)
{
    char c[200], text[NEN_TEXT_LEN];
    snprintf(text, sizeof text, "%s: %s %s", path, coding_text(cc, c, sizeof c), what);
    nen_extract_warn_add(w->x->unknown, &w->x->nunknown, "input-code-unknown", text);
    logf_(w, "%s", text);
}

/* A reading of key that was reported but cannot be read. */
static int unreadable(struct walk *w, const struct nen_reading *base, const char *key,
                      const char *shown, int present)
{
    struct nen_reading *r = reading_like(w, base, key);
    if (!r)
        return -1;
    r->lo[0] = r->hi[0] = '\0';
    r->unreadable = 1;
    r->present = present;
    snprintf(r->shown, sizeof r->shown, "%s", shown);
    return 0;
}

/* Readings from the entries of cc's codings among the lines of one use
 * (only entries of key `only` when set; only a "yes" when negate, the
 * finding refuted, read as "no"). Returns how many codings the tables know
 * for this use and key, or -1 (err set). */
static int coded(struct walk *w, json_object *cc, enum nen_code_use use, const char *only,
                 const struct nen_reading *base, int negate, const char *path)
{
    int known = 0;
    size_t n = fhir_count(cc, "coding");
    for (size_t i = 0; i < n; i++) {
        const char *sys, *code;
        if (!fhir_cc_coding(cc, i, &sys, &code))
            continue;
        const struct nen_code *e;
        int hit = 0;
        for (unsigned k = 0; (e = nen_codes_coded(w->t, use, sys, code, k)); k++) {
            if (only && strcmp(e->key, only) != 0)
                continue;
            hit = 1;
            if (strcmp(e->key, "-") == 0 || strcmp(e->key, "scope") == 0) {
                logf_(w, "%s: %s|%s is known but carries no input", path, sys, code);
                continue;
            }
            if (negate && strcmp(e->word, "yes") != 0) {
                logf_(w, "%s: refuted %s|%s (%s=%s): nothing to conclude", path, sys, code,
                      e->key, e->word);
                continue;
            }
            struct nen_reading *r = reading_like(w, base, e->key);
            if (!r)
                return -1;
            snprintf(r->lo, sizeof r->lo, "%s", negate ? "no" : e->word);
            snprintf(r->hi, sizeof r->hi, "%s", r->lo);
            snprintf(r->shown, sizeof r->shown, "%s%s|%s", negate ? "refuted " : "", sys, code);
        }
        known += hit;
    }
    return known;
}

/* The input key of an Observation or component code ("-" for a panel), or
 * NULL when no coding is a question of the tables. */
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
    double convert = 1;
    const struct nen_code_unit *unit =
        u ? nen_value_find_unit(w->t, "gastrin_uln", u, &convert) : NULL;
    if (u && !unit && fhir_member(high, "value"))
        logf_(w, "%s: referenceRange.high unit '%s' not in the code tables: upper limit not used",
              base->ref, u);
    if ((!u || unit) && fhir_get_number(high, "value", &uln) == FHIR_OK) {
        uln *= unit ? convert * unit->factor : 1;
        struct nen_reading *r = reading_like(w, base, "gastrin_uln");
        if (!r)
            return -1;
        snprintf(r->lo, sizeof r->lo, "%.17g", uln);
        snprintf(r->hi, sizeof r->hi, "%.17g", uln);
        snprintf(r->shown, sizeof r->shown, "referenceRange.high %.15g", uln);
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
    struct nen_reading *r = reading_like(w, base, "gastrin");
    if (!r)
        return -1;
    snprintf(r->lo, sizeof r->lo, "%s", word);
    snprintf(r->hi, sizeof r->hi, "%s", word);
    snprintf(r->shown, sizeof r->shown, "interpretation %s", word);
    (*made)++;
    return 0;
}

/* One element with code and value[x] (the Observation, or a component). No
 * value without its question: an element whose code is no question of the
 * tables gives nothing. */
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
        char where[NEN_REF_LEN + 48];
        snprintf(where, sizeof where, "%s.code", path);
        unknown_code(w, code, where, "is no question in the code tables: its value is not used");
        return 0;
    }
    if (strcmp(key, "-") == 0)
        return 0; /* a panel: its components carry the inputs */
    struct nen_reading *r = reading_like(w, base, key);
    if (!r)
        return -1;
    int rc = nen_value_read(w->t, el, path, r, w->x, w->err);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        w->nrd--; /* nothing reported: drop the slot */
    } else {
        if (rc == 2) {
            r->unreadable = 1;
            r->lo[0] = r->hi[0] = '\0';
            snprintf(r->shown, sizeof r->shown, "unreadable value");
        }
        (*made)++;
    }
    if (strcmp(key, "gastrin") == 0)
        return gastrin_extras(w, el, base, rc == 1, made);
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
    const char *when = issued ? issued : eff;
    if (when && fhir_datetime_parse_ms(when, &base.when_ms) == 0)
        base.has_when = 1;
    else if (when)
        logf_(w, "%s.%s: '%s' is no FHIR date/time: not used for \"latest\"", ref,
              issued ? "issued" : "effectiveDateTime", when);
    base.rank = rank;
    base.hotspot = is_hotspot(w, fhir_member(res, "method"));
    int64_t eff_ms;
    if (eff && !w->collected && fhir_datetime_parse_ms(eff, &eff_ms) == 0 &&
        (!w->x->effective[0] || eff_ms > w->effective_ms)) {
        snprintf(w->x->effective, sizeof w->x->effective, "%s", eff);
        w->effective_ms = eff_ms;
    }
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
        logf_(w, "%s: no input for nenfhir (no question of the code tables, or no value)", ref);
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

#define MCODE_SD "http://hl7.org/fhir/us/mcode/StructureDefinition/"

/* The role a Condition's code gives it (the first coding the tables know). */
static enum nen_condition_role code_role(struct walk *w, json_object *cc)
{
    size_t n = fhir_count(cc, "coding");
    for (size_t i = 0; i < n; i++) {
        const char *sys, *code;
        const struct nen_code *e;
        if (fhir_cc_coding(cc, i, &sys, &code) &&
            (e = nen_codes_coded(w->t, NEN_USE_CONDITION, sys, code, 0)))
            return e->role;
    }
    return NEN_ROLE_UNKNOWN;
}

/* The role mCODE's profile in meta.profile declares, if any. */
static enum nen_condition_role profile_role(json_object *res)
{
    json_object *prof = fhir_member(fhir_member(res, "meta"), "profile");
    size_t n = fhir_count(fhir_member(res, "meta"), "profile");
    for (size_t i = 0; i < n; i++) {
        json_object *p = json_object_is_type(prof, json_type_array)
                             ? json_object_array_get_idx(prof, i) : prof;
        const char *url = json_object_is_type(p, json_type_string) ? json_object_get_string(p) : "";
        if (strncmp(url, MCODE_SD "mcode-primary-cancer-condition", 62) == 0)
            return NEN_ROLE_PRIMARY;
        if (strncmp(url, MCODE_SD "mcode-secondary-cancer-condition", 64) == 0)
            return NEN_ROLE_SECONDARY;
    }
    return NEN_ROLE_UNKNOWN;
}

/* mCODE's histology-morphology-behavior extension: the tumour's morphology. */
static json_object *histology(json_object *res)
{
    size_t n = fhir_count(res, "extension");
    for (size_t i = 0; i < n; i++) {
        json_object *e = fhir_item(res, "extension", i);
        const char *url;
        if (fhir_get_string(e, "url", &url) == FHIR_OK &&
            strcmp(url, MCODE_SD "mcode-histology-morphology-behavior") == 0)
            return fhir_member(e, "valueCodeableConcept");
    }
    return NULL;
}

/* The bodySite of a primary (site) or a secondary (mets) Condition. A body
 * site the tables cannot read leaves that input unreadable; a metastasis
 * with no readable place is a metastasis all the same. */
static int condition_sites(struct walk *w, json_object *res, const char *ref,
                           const struct nen_reading *base, enum nen_condition_role role,
                           int mets_from_code)
{
    const char *key = role == NEN_ROLE_PRIMARY ? "site" : "mets";
    int found = 0;
    size_t n = fhir_count(res, "bodySite");
    for (size_t i = 0; i < n; i++) {
        char path[NEN_REF_LEN + 32];
        snprintf(path, sizeof path, "%s.bodySite[%zu]", ref, i);
        json_object *cc = fhir_item(res, "bodySite", i);
        int known = coded(w, cc, NEN_USE_BODY, key, base, 0, path);
        if (known < 0)
            return -1;
        if (known) {
            found = 1;
            continue;
        }
        unknown_code(w, cc, path, role == NEN_ROLE_PRIMARY
                                       ? "is no primary site in the code tables: site not read"
                                       : "is no metastasis site in the code tables: place "
                                         "not read");
        if (unreadable(w, base, key, "bodySite not in the code tables", 1) != 0)
            return -1;
        found = 1;
    }
    if (role == NEN_ROLE_SECONDARY && !found && !mets_from_code) {
        logf_(w, "%s: a metastasis with no readable place", ref);
        return unreadable(w, base, "mets", "metastasis, place not stated", 1);
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
    struct nen_reading base;
    memset(&base, 0, sizeof base);
    snprintf(base.ref, sizeof base.ref, "%s", ref);
    snprintf(base.type, sizeof base.type, "Condition");
    base.rank = 2;
    json_object *code = fhir_member(res, "code"), *hist = histology(res);
    char path[NEN_REF_LEN + 48];
    int before = w->nrd;
    snprintf(path, sizeof path, "%s.code", ref);
    int known = coded(w, code, NEN_USE_CONDITION, NULL, &base, negate, path);
    if (known < 0)
        return -1;
    if (!known)
        unknown_code(w, code, path, "is not in the code tables as a condition: not read");
    if (hist) {
        snprintf(path, sizeof path, "%s.extension(histology-morphology-behavior)", ref);
        int k = coded(w, hist, NEN_USE_CONDITION, NULL, &base, negate, path);
        if (k < 0)
            return -1;
        if (!k)
            unknown_code(w, hist, path, "is not in the code tables as a morphology: not read");
    }
    enum nen_condition_role role = code_role(w, code);
    if (role == NEN_ROLE_UNKNOWN)
        role = profile_role(res);
    if (role == NEN_ROLE_UNKNOWN && hist && code_role(w, hist) == NEN_ROLE_PRIMARY)
        role = NEN_ROLE_PRIMARY;
    int mets_from_code = 0;
    for (int i = before; i < w->nrd; i++)
        mets_from_code |= strcmp(w->rd[i].key, "mets") == 0;
    /* A metastasis' bodySite is where the metastasis is, never the primary site. */
    if (!negate && (role == NEN_ROLE_PRIMARY || role == NEN_ROLE_SECONDARY) &&
        condition_sites(w, res, ref, &base, role, mets_from_code) != 0)
        return -1;
    if (w->nrd == before)
        logf_(w, "%s: no input for nenfhir", ref);
    return 0;
}

/* A copy of a case key that must not be cut short: -1 (err set) if too long. */
static int key_copy(struct walk *w, char *dst, size_t len, const char *src, const char *path)
{
    if (strlen(src) >= len) {
        fhir_error_set(w->err, "%s: longer than %zu characters: a case key is never shortened",
                       path, len - 1);
        return -1;
    }
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

/* Specimen.type, collection.method and collection.bodySite. A method or body
 * site the tables cannot read leaves the specimen kind or site unreadable; an
 * unknown type is only a warning (it names the material, not the kind). */
static int specimen_codes(struct walk *w, json_object *res, const char *ref)
{
    static const struct {
        const char *field, *key, *what;
        enum nen_code_use use;
        int decides;
    } fields[] = {
        {"type", NULL, "is not in the code tables as a specimen type", NEN_USE_SPECIMEN, 0},
        {"collection.method", "specimen",
         "is not in the code tables as a collection method: specimen kind not read",
         NEN_USE_SPECIMEN, 1},
        {"collection.bodySite", "site",
         "is not in the code tables as a body site: site not read", NEN_USE_BODY, 1},
    };
    struct nen_reading base;
    memset(&base, 0, sizeof base);
    snprintf(base.ref, sizeof base.ref, "%s", ref);
    snprintf(base.type, sizeof base.type, "Specimen");
    base.rank = 2;
    json_object *col = fhir_member(res, "collection");
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        json_object *cc = i == 0 ? fhir_member(res, "type")
                                 : fhir_member(col, strchr(fields[i].field, '.') + 1);
        if (!cc)
            continue;
        char path[NEN_REF_LEN + 32];
        snprintf(path, sizeof path, "%s.%s", ref, fields[i].field);
        int known = coded(w, cc, fields[i].use, fields[i].key, &base, 0, path);
        if (known < 0)
            return -1;
        if (known)
            continue;
        unknown_code(w, cc, path, fields[i].what);
        if (fields[i].decides &&
            unreadable(w, &base, fields[i].key, "code not in the code tables", 0) != 0)
            return -1;
    }
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
    const char *field = "accessionIdentifier";
    if (!acc) {
        acc = fhir_item(res, "identifier", 0);
        field = "identifier[0]";
    }
    const char *sys = NULL, *val = NULL;
    if (opt_string(w, acc, "system", ref, &sys) != 0 || opt_string(w, acc, "value", ref, &val) != 0)
        return -1;
    if (val) {
        char path[NEN_REF_LEN + 40];
        snprintf(path, sizeof path, "%s.%s.system", ref, field);
        if (key_copy(w, x->case_system, sizeof x->case_system, sys ? sys : "", path) != 0)
            return -1;
        snprintf(path, sizeof path, "%s.%s.value", ref, field);
        if (key_copy(w, x->case_value, sizeof x->case_value, val, path) != 0)
            return -1;
    }
    json_object *col = fhir_member(res, "collection");
    const char *when = NULL;
    if (opt_string(w, col, "collectedDateTime", ref, &when) != 0)
        return -1;
    if (when) {
        snprintf(x->effective, sizeof x->effective, "%s", when);
        w->collected = 1;
    }
    return specimen_codes(w, res, ref);
}

/* A reference as "Type/id" (fhir_reference_plain); a Bundle's urn:uuid
 * fullUrl of the Patient is the Patient. Returns 0, or -1 when it is too
 * long to hold (never cut short). */
static int ref_plain(const struct walk *w, const char *s, char *out, size_t len)
{
    if (w->patient_url[0] && strcmp(s, w->patient_url) == 0)
        s = w->x->patient_ref;
    return fhir_reference_plain(s, out, len);
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
    char plain[NEN_REF_LEN];
    if (ref_plain(w, s, plain, sizeof plain) != 0) {
        fhir_error_set(w->err, "%s.subject.reference: longer than %d characters", ref,
                       NEN_REF_LEN - 1);
        return -1;
    }
    if (!x->patient_ref[0]) {
        snprintf(x->patient_ref, sizeof x->patient_ref, "%s", plain);
        return 0;
    }
    if (strcmp(plain, x->patient_ref) == 0)
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

int nen_extract_case(const struct nen_codes *t, const struct nen_cases *plan, int idx,
                     struct nen_extract *x, nen_log_fn log, void *logctx, struct fhir_error *err)
{
    memset(x, 0, sizeof *x);
    nen_case_init(&x->lo);
    nen_case_init(&x->hi);
    if (idx < 0 || idx >= plan->ncase) {
        fhir_error_set(err, "no case %d among %d", idx, plan->ncase);
        return -1;
    }
    struct walk w = {t, x, NULL, 0, log, logctx, err, "", 0, 0};
    w.rd = malloc(READINGS_MAX * sizeof *w.rd);
    if (!w.rd) {
        fhir_error_set(err, "out of memory");
        return -1;
    }
    int rc = 0;
    for (int phase = 0; phase < 2 && rc == 0; phase++)
        for (size_t i = 0; i < plan->n && rc == 0; i++) {
            const struct nen_cases_res *r = &plan->r[i];
            if (r->case_idx != idx && r->case_idx != NEN_CASES_PATIENT)
                continue; /* another case's, or no case's (nen_cases.h) */
            if (strcmp(fhir_resource_type(r->res), "Specimen") == 0 && !r->root)
                continue;
            rc = visit(&w, r->res, r->full_url, phase);
        }
    if (rc == 0 && !x->specimen_ref[0] && plan->c[idx].specimen_ref[0])
        snprintf(x->specimen_ref, sizeof x->specimen_ref, "%s", plan->c[idx].specimen_ref);
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

int nen_extract(const struct nen_codes *t, json_object *const *docs, size_t n,
                struct nen_extract *x, nen_log_fn log, void *logctx, struct fhir_error *err)
{
    struct nen_cases plan;
    int rc = nen_cases_plan(t, docs, n, &plan, log, logctx, err);
    if (rc == 0 && plan.ncase > 1) {
        fhir_error_set(err, "%s: a second tissue specimen (the first is %s): these resources "
                       "are %d cases, one report each (nen_extract_case)",
                       plan.c[1].specimen_ref, plan.c[0].specimen_ref, plan.ncase);
        rc = -1;
    }
    if (rc == 0)
        rc = nen_extract_case(t, &plan, 0, x, log, logctx, err);
    else
        memset(x, 0, sizeof *x);
    nen_cases_free(&plan);
    return rc;
}
