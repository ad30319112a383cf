/*
 * nen_extract_int.h - private to nen_extract*.c: one reported value of one
 * input (a "reading") before duplicates are resolved.
 */
#ifndef NEN_EXTRACT_INT_H
#define NEN_EXTRACT_INT_H

#include "nen_extract.h"

#include <stdint.h>

struct nen_reading {
    char key[NEN_CODE_KEY_LEN];
    char lo[64], hi[64];     /* values for nen_case_set at the two ends */
    int ranged;              /* lo and hi differ: a range or a limit was reported */
    char shown[96];          /* as reported, for warnings and the report */
    char ref[NEN_REF_LEN];
    char type[24];
    int hotspot;             /* measured by the preferred (hotspot) method */
    int rank;                /* 2 final/amended/corrected, 1 preliminary */
    int has_when;
    int64_t when_ms;         /* issued, else effective, as an instant: for "latest" */
    int unreadable;          /* reported, but the value could not be read (lo/hi empty) */
    int present;             /* unreadable mets: a metastasis, place unknown */
};

/* Read value[x] of element o (an Observation or one of its components) as
 * input key into rd (key, ref, type, rank, when and hotspot are the
 * caller's). path names o in messages ("Observation/7.component[1]").
 * Returns 1 when rd holds a value, 0 when there was none (dataAbsentReason, a
 * panel), 2 when a value was there but could not be read (a warning naming it
 * is in x), -1 on a wrong JSON type (err set). */
int nen_value_read(const struct nen_codes *t, json_object *o, const char *path,
                   struct nen_reading *rd, struct nen_extract *x, struct fhir_error *err);

/* The code tables' answer for a CodeableConcept under a question of key: the
 * word (a `value` or `body` line of that key, or a code of a `words`
 * system), or NULL. */
const char *nen_value_coded(const struct nen_codes *t, json_object *cc, const char *key,
                            char *buf, size_t len);



/* The unit entry for key that unit text u converts to, and in *convert the
 * number that turns a value in u into the entry's unit: u is read by the
 * UCUM grammar (strict, then the stated loose rule of fhir_ucum.h for free
 * text). NULL when u is no unit the tables have for key. */
const struct nen_code_unit *nen_value_find_unit(const struct nen_codes *t, const char *key,
                                               const char *u, double *convert);

/* Add a warning (printf-style text) to x's reading problems. */
void nen_extract_warnf(struct nen_extract *x, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Resolve readings[0..n) into x->lo / x->hi and x->src, with the duplicate
 * and range rules of nen_extract.h. Returns 0, or -1 with err when the
 * inputs contradict each other (nen_case_check). */
int nen_extract_resolve(struct nen_extract *x, const struct nen_reading *rd, int n,
                        struct fhir_error *err);
#endif
