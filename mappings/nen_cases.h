/*
 * nen_cases.h - one patient's resources divided into cases (design.md "The
 * case"; issue 11). A case is one tissue specimen's pathology work-up, keyed
 * by its accession: Specimen.parent is walked up to the specimen that
 * carries an accessionIdentifier (else to the topmost one), so results on
 * blocks and slides join their case. Patient-level inputs belong to every
 * case of the patient:
 *   - Conditions (metastases, atrophic gastritis, MEN1, gastrinoma ...);
 *   - Observations with no specimen;
 *   - Observations on a body-fluid specimen (a Specimen.type with a
 *     `specimen SYSTEM|CODE scope=patient` line in the code tables: serum,
 *     blood), or of an input measured in blood or gastric juice whatever
 *     specimen they name (gastrin, its upper limit, antibodies, gastric pH,
 *     acid: nen_cases_patient_key).
 * Inputs never cross between two tissue specimens. An Observation naming a
 * Specimen that is not among the resources is its own case, keyed by the
 * reference (its accession is not known).
 *
 * The plan also fixes the order in which resources are read: by type, then
 * Type/id, then fullUrl, whatever order the server answered in, so that the
 * same inputs always give the same result, trace and digest (issue 11 7a).
 */
#ifndef NEN_CASES_H
#define NEN_CASES_H

#include "fhir_error.h"
#include "nen_codes.h"
#include "nen_extract.h"

#include <json-c/json.h>
#include <stddef.h>

#define NEN_CASES_MAX 16
#define NEN_CASES_PATIENT (-1) /* belongs to every case of the patient */
#define NEN_CASES_NONE (-2)    /* belongs to no case (a fluid specimen, a descendant) */

/* One resource among the docs (Bundles unpacked, DELETE entries dropped). */
struct nen_cases_res {
    json_object *res;          /* borrowed from the docs */
    const char *full_url;      /* borrowed; "" when none */
    char ref[NEN_REF_LEN];     /* "Type/id", else the fullUrl, else the type */
    int case_idx;              /* index into c[], or NEN_CASES_PATIENT / NEN_CASES_NONE */
    int root;                  /* 1: the case's accession Specimen */
};

struct nen_cases {
    size_t n;
    struct nen_cases_res *r;   /* owned, canonical order */
    int ncase;                 /* >= 1 after a successful plan */
    struct nen_cases_case {
        char specimen_ref[NEN_REF_LEN]; /* the accession Specimen ("" : patient-level case) */
        char accession[NEN_REF_LEN];    /* its accession value, for messages ("" none) */
    } c[NEN_CASES_MAX];
};

/* Divide docs[0..n) (resources or Bundles of them; borrowed, and must
 * outlive plan) into cases. Returns 0, or -1 with err naming the resource
 * and field (a Bundle entry that is not a resource, more than
 * NEN_CASES_MAX tissue specimens, out of memory). log may be NULL. Free
 * with nen_cases_free (also after -1). */
int nen_cases_plan(const struct nen_codes *t, json_object *const *docs, size_t n,
                   struct nen_cases *plan, nen_log_fn log, void *logctx, struct fhir_error *err);
void nen_cases_free(struct nen_cases *plan);

/* Read case idx of plan into x, as nen_extract does for one case: its
 * accession Specimen, its own Observations and the patient-level inputs.
 * Returns 0, or -1 with err. */
int nen_extract_case(const struct nen_codes *t, const struct nen_cases *plan, int idx,
                     struct nen_extract *x, nen_log_fn log, void *logctx,
                     struct fhir_error *err);

/* xs[0..n) are the cases of one patient: add to each a warning
 * (input-in-other-case) for every input another case reports and it lacks,
 * naming that case and resource, so a pathologist sees that a biopsy's
 * Ki-67 was not used for the resection. */
void nen_cases_note_missing(struct nen_extract *const *xs, int n);

/* 1 if input key is measured in blood or gastric juice (patient-level
 * whatever specimen its Observation names). */
int nen_cases_patient_key(const char *key);

#endif
