/*
 * nen_cases.c - divides one patient's resources into cases (nen_cases.h):
 * unpacks Bundles, puts the resources in a canonical order, finds each
 * tissue specimen's accession Specimen by walking Specimen.parent, and says
 * for every resource which case it belongs to. Owns the plan's array.
 */
#include "nen_cases.h"

#include "fhir_primitive.h"
#include "fhir_tree.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARENT_DEPTH_MAX 16 /* Specimen.parent hops (a cycle stops here) */

static void plan_log(nen_log_fn log, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void plan_log(nen_log_fn log, void *ctx, const char *fmt, ...)
{
    char line[512];
    if (!log)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log(ctx, line);
}

int nen_cases_patient_key(const char *key)
{
    /* measured in blood (gastrin, its upper limit, parietal cell / intrinsic
     * factor antibodies) or in gastric juice (pH, acid secretion): clinical
     * rules' gastric NET typing (CACA 2025 gastric NET types) reads them per
     * patient, never per tissue specimen */
    static const char *const keys[] = {"gastrin", "gastrin_uln", "antibodies", "ph", "acid"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(key, keys[i]) == 0)
            return 1;
    return 0;
}

static int plan_add(struct nen_cases *p, size_t *cap, json_object *res, const char *url)
{
    if (p->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 32;
        struct nen_cases_res *nr = realloc(p->r, ncap * sizeof *nr);
        if (!nr)
            return -1;
        p->r = nr;
        *cap = ncap;
    }
    struct nen_cases_res *r = &p->r[p->n++];
    memset(r, 0, sizeof *r);
    r->res = res;
    r->full_url = url ? url : "";
    const char *type = fhir_resource_type(res), *id = fhir_resource_id(res);
    if (id[0])
        snprintf(r->ref, sizeof r->ref, "%s/%s", type, id);
    else
        snprintf(r->ref, sizeof r->ref, "%s", r->full_url[0] ? r->full_url : type);
    r->case_idx = NEN_CASES_PATIENT;
    return 0;
}

/* Bundles unpacked as nen_extract always read them: DELETE entries and
 * entries without a resource dropped, a Bundle inside a Bundle ignored. */
static int plan_flatten(struct nen_cases *p, json_object *const *docs, size_t n, nen_log_fn log,
                        void *logctx, struct fhir_error *err)
{
    size_t cap = 0;
    for (size_t d = 0; d < n; d++) {
        json_object *doc = docs[d];
        if (strcmp(fhir_resource_type(doc), "Bundle") != 0) {
            if (plan_add(p, &cap, doc, NULL) != 0)
                goto oom;
            continue;
        }
        size_t ne = fhir_count(doc, "entry");
        for (size_t i = 0; i < ne; i++) {
            json_object *e = fhir_item(doc, "entry", i);
            json_object *res = fhir_member(e, "resource");
            const char *url = NULL, *method = NULL;
            json_object *req = fhir_member(e, "request");
            if (fhir_get_string(req, "method", &method) == FHIR_OK && strcmp(method, "DELETE") == 0)
                continue;
            if (!res)
                continue;
            if (!json_object_is_type(res, json_type_object) || !fhir_resource_type(res)[0]) {
                fhir_error_set(err, "Bundle.entry[%zu].resource: not a resource (%s without "
                               "resourceType)", i, fhir_type_name(res));
                return -1;
            }
            if (fhir_get_string(e, "fullUrl", &url) == FHIR_WRONG) {
                fhir_error_set(err, "Bundle.entry[%zu].fullUrl: expected a string", i);
                return -1;
            }
            if (strcmp(fhir_resource_type(res), "Bundle") == 0) {
                plan_log(log, logctx, "Bundle.entry[%zu]: a Bundle inside a Bundle: ignored", i);
                continue;
            }
            if (plan_add(p, &cap, res, url) != 0)
                goto oom;
        }
    }
    return 0;
oom:
    fhir_error_set(err, "out of memory");
    return -1;
}

static int res_cmp(const void *a, const void *b)
{
    const struct nen_cases_res *x = a, *y = b;
    int c = strcmp(fhir_resource_type(x->res), fhir_resource_type(y->res));
    if (c == 0)
        c = strcmp(x->ref, y->ref);
    if (c == 0)
        c = strcmp(x->full_url, y->full_url);
    return c;
}

static int is_type(const struct nen_cases_res *r, const char *type)
{
    return strcmp(fhir_resource_type(r->res), type) == 0;
}

/* The index of the Specimen that reference names (its Type/id or its
 * entry's fullUrl), or -1. */
static int find_specimen(const struct nen_cases *p, const char *reference)
{
    char plain[NEN_REF_LEN];
    if (fhir_reference_plain(reference, plain, sizeof plain) != 0)
        return -1; /* too long to be any resource's Type/id */
    for (size_t i = 0; i < p->n; i++) {
        const struct nen_cases_res *r = &p->r[i];
        if (!is_type(r, "Specimen"))
            continue;
        if ((r->full_url[0] && strcmp(r->full_url, reference) == 0) || strcmp(r->ref, plain) == 0)
            return (int)i;
    }
    return -1;
}

static const char *ref_string(json_object *o)
{
    const char *s = NULL;
    return fhir_get_string(o, "reference", &s) == FHIR_OK ? s : NULL;
}

static const char *accession(json_object *specimen)
{
    const char *v = NULL;
    json_object *acc = fhir_member(specimen, "accessionIdentifier");
    return fhir_get_string(acc, "value", &v) == FHIR_OK && v[0] ? v : NULL;
}

/* 1 if the Specimen's type has a `specimen ... scope=patient` line. */
static int is_fluid(const struct nen_codes *t, json_object *specimen)
{
    json_object *type = fhir_member(specimen, "type");
    const char *sys, *code;
    for (size_t i = 0; i < fhir_count(type, "coding"); i++) {
        if (!fhir_cc_coding(type, i, &sys, &code))
            continue;
        const struct nen_code *e;
        for (unsigned k = 0; (e = nen_codes_coded(t, NEN_USE_SPECIMEN, sys, code, k)); k++)
            if (strcmp(e->key, "scope") == 0 && strcmp(e->word, "patient") == 0)
                return 1;
    }
    return 0;
}

/* The accession Specimen of specimen s (walking parent[0]), and in *fluid
 * whether one on the way is a body fluid. */
static int root_of(const struct nen_codes *t, const struct nen_cases *p, int s, int *fluid)
{
    *fluid = 0;
    for (int hop = 0; hop < PARENT_DEPTH_MAX; hop++) {
        json_object *res = p->r[s].res;
        if (is_fluid(t, res))
            *fluid = 1;
        if (accession(res))
            return s;
        const char *parent = ref_string(fhir_item(res, "parent", 0));
        int up = parent ? find_specimen(p, parent) : -1;
        if (up < 0 || up == s)
            return s;
        s = up;
    }
    return s;
}

/* The case keyed by specimen_ref, added if new; -1 when there are too many. */
static int case_for(struct nen_cases *p, const char *specimen_ref, const char *acc,
                    struct fhir_error *err)
{
    for (int i = 0; i < p->ncase; i++)
        if (strcmp(p->c[i].specimen_ref, specimen_ref) == 0)
            return i;
    if (p->ncase == NEN_CASES_MAX) {
        fhir_error_set(err, "%s: more than %d tissue specimens for one patient", specimen_ref,
                       NEN_CASES_MAX);
        return -1;
    }
    struct nen_cases_case *c = &p->c[p->ncase];
    snprintf(c->specimen_ref, sizeof c->specimen_ref, "%s", specimen_ref);
    snprintf(c->accession, sizeof c->accession, "%s", acc ? acc : "");
    return p->ncase++;
}

/* Specimens: each tissue accession Specimen is a case; blocks, slides and
 * fluids belong to none themselves. */
static int plan_specimens(const struct nen_codes *t, struct nen_cases *p, nen_log_fn log,
                          void *logctx, struct fhir_error *err)
{
    for (size_t i = 0; i < p->n; i++) {
        struct nen_cases_res *r = &p->r[i];
        if (!is_type(r, "Specimen"))
            continue;
        int fluid, root = root_of(t, p, (int)i, &fluid);
        r->case_idx = NEN_CASES_NONE;
        if (fluid) {
            plan_log(log, logctx, "%s: a body-fluid specimen: its results belong to every case "
                     "of the patient", r->ref);
            continue;
        }
        int c = case_for(p, p->r[root].ref, accession(p->r[root].res), err);
        if (c < 0)
            return -1;
        if ((size_t)root == i) {
            r->case_idx = c;
            r->root = 1;
        } else {
            plan_log(log, logctx, "%s: part of %s's case (Specimen.parent)", r->ref,
                     p->r[root].ref);
        }
    }
    return 0;
}

/* 1 if an Observation's code is an input measured per patient. */
static int obs_patient_level(const struct nen_codes *t, json_object *obs)
{
    json_object *code = fhir_member(obs, "code");
    const char *sys, *cd, *key;
    for (size_t i = 0; i < fhir_count(code, "coding"); i++)
        if (fhir_cc_coding(code, i, &sys, &cd) && (key = nen_codes_input(t, sys, cd)) &&
            nen_cases_patient_key(key))
            return 1;
    return 0;
}

static int plan_observations(const struct nen_codes *t, struct nen_cases *p, nen_log_fn log,
                             void *logctx, struct fhir_error *err)
{
    for (size_t i = 0; i < p->n; i++) {
        struct nen_cases_res *r = &p->r[i];
        if (!is_type(r, "Observation"))
            continue;
        const char *sref = ref_string(fhir_member(r->res, "specimen"));
        if (!sref || obs_patient_level(t, r->res))
            continue; /* NEN_CASES_PATIENT */
        int s = find_specimen(p, sref);
        if (s < 0) {
            char plain[NEN_REF_LEN];
            if (fhir_reference_plain(sref, plain, sizeof plain) != 0) {
                fhir_error_set(err, "%s.specimen.reference: longer than %d characters", r->ref,
                               NEN_REF_LEN - 1);
                return -1;
            }
            plan_log(log, logctx, "%s: its Specimen %s is not among the resources: a case "
                     "keyed by that reference", r->ref, plain);
            if ((r->case_idx = case_for(p, plain, NULL, err)) < 0)
                return -1;
            continue;
        }
        int fluid, root = root_of(t, p, s, &fluid);
        if (fluid)
            continue;
        for (int c = 0; c < p->ncase; c++)
            if (strcmp(p->c[c].specimen_ref, p->r[root].ref) == 0)
                r->case_idx = c;
    }
    return 0;
}

int nen_cases_plan(const struct nen_codes *t, json_object *const *docs, size_t n,
                   struct nen_cases *plan, nen_log_fn log, void *logctx, struct fhir_error *err)
{
    memset(plan, 0, sizeof *plan);
    if (plan_flatten(plan, docs, n, log, logctx, err) != 0)
        return -1;
    if (plan->n > 1)
        qsort(plan->r, plan->n, sizeof *plan->r, res_cmp);
    if (plan_specimens(t, plan, log, logctx, err) != 0 ||
        plan_observations(t, plan, log, logctx, err) != 0)
        return -1;
    if (plan->ncase == 0)
        plan->ncase = 1; /* no tissue specimen: one case, keyed by the patient */
    return 0;
}

void nen_cases_free(struct nen_cases *plan)
{
    free(plan->r);
    plan->r = NULL;
    plan->n = 0;
}

static const struct nen_source *source_of(const struct nen_extract *x, const char *key)
{
    for (int i = 0; i < x->nsrc; i++)
        if (strcmp(x->src[i].key, key) == 0)
            return &x->src[i];
    return NULL;
}

void nen_cases_note_missing(struct nen_extract *const *xs, int n)
{
    for (int a = 0; a < n; a++) {
        struct nen_extract *x = xs[a];
        char noted[NEN_SOURCE_MAX][NEN_CODE_KEY_LEN];
        int nnoted = 0;
        for (int b = 0; b < n; b++) {
            if (b == a)
                continue;
            for (int i = 0; i < xs[b]->nsrc; i++) {
                const struct nen_source *s = &xs[b]->src[i];
                int seen = source_of(x, s->key) != NULL;
                for (int k = 0; k < nnoted && !seen; k++)
                    seen = strcmp(noted[k], s->key) == 0;
                if (seen || nnoted == NEN_SOURCE_MAX)
                    continue;
                snprintf(noted[nnoted++], NEN_CODE_KEY_LEN, "%s", s->key);
                char text[NEN_TEXT_LEN + 256];
                snprintf(text, sizeof text,
                         "%s: not reported for this specimen; case %.60s of the same patient "
                         "reports it (%.80s = %.40s): not used here (inputs never cross "
                         "between specimens)",
                         s->key, xs[b]->case_value, s->ref, s->shown);
                nen_extract_warn_add(x->warn, &x->nwarn, "input-in-other-case", text);
            }
        }
    }
}
