/*
 * extract_util.h - helpers for the extract and report tests: build a case
 * Bundle from resource snippets and run it through the code tables and
 * nen_extract.
 */
#ifndef EXTRACT_UTIL_H
#define EXTRACT_UTIL_H

#include "nen_extract.h"

/* An Observation with the given id, code system|code and value JSON members
 * (e.g. "\"valueQuantity\":{...}"), final, subject Patient/p1. */
#define OBS(id, sys, code, value)                                                             \
    "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"" id "\",\"status\":\"final\","  \
    "\"code\":{\"coding\":[{\"system\":\"" sys "\",\"code\":\"" code "\"}]},"                  \
    "\"subject\":{\"reference\":\"Patient/p1\"}," value "}}"
#define LOINC "http://loinc.org"
#define NENI "https://nenfhir.org/fhir/CodeSystem/nen-input"
#define NENV "https://nenfhir.org/fhir/CodeSystem/nen-value"
#define SCT "http://snomed.info/sct"
#define QTY(v, unit) "\"valueQuantity\":{\"value\":" v ",\"system\":\"http://unitsofmeasure.org\",\"code\":\"" unit "\"}"
#define CC(sys, code) "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"" sys "\",\"code\":\"" code "\"}]}"
#define STR(s) "\"valueString\":\"" s "\""

/* Extract a Bundle of Patient/p1, Specimen/s1 (accession S1) and the given
 * comma-separated entries, with the default tables plus map (may be NULL).
 * Returns 0 or -1 (err set). */
int tx_extract(const char *entries, const char *map, struct nen_extract *x,
               struct fhir_error *err);

/* Extract one document (a resource or a Bundle) with the default tables.
 * Returns 0 or -1 (err set). */
int tx_extract_raw(const char *doc, struct nen_extract *x, struct fhir_error *err);

/* 1 if x (its reading problems or its unknown codes) or r has a warning with
 * this code. */
int tx_has_warning(const struct nen_extract *x, const char *code);
int tx_result_has_warning(const struct nen_result *r, const char *code);

/* Read a whole file (caller frees) or NULL. */
char *tx_read(const char *path, size_t *len);

#endif
