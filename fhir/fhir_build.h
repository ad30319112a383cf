/*
 * fhir_build.h - small constructors for FHIR JSON trees on json-c, used to
 * write resources in FHIR element order. Allocation failures are collected in
 * struct fhir_build instead of being checked at every call: each function
 * returns NULL (or does nothing) once b->failed is set, and the caller checks
 * b->failed once at the end and drops the tree. Functions that take a
 * json_object argument take ownership of it (json-c's _add semantics), also
 * on failure.
 */
#ifndef FHIR_BUILD_H
#define FHIR_BUILD_H

#include <json-c/json.h>
#include <stddef.h>

struct fhir_build {
    int failed; /* an allocation failed: the tree is incomplete */
};

/* A new object / array (owned by the caller or by whatever it is added to). */
json_object *fhir_b_obj(struct fhir_build *b);
json_object *fhir_b_arr(struct fhir_build *b);

/* o[key] = v (takes v). */
void fhir_b_set(struct fhir_build *b, json_object *o, const char *key, json_object *v);
/* o[key] = string s (copied); nothing when s is NULL. */
void fhir_b_str(struct fhir_build *b, json_object *o, const char *key, const char *s);
/* o[key] = [v] (takes v). */
void fhir_b_set1(struct fhir_build *b, json_object *o, const char *key, json_object *v);
/* a += v (takes v). */
void fhir_b_push(struct fhir_build *b, json_object *a, json_object *v);

/* {"system","code","display"} (display may be NULL). */
json_object *fhir_b_coding(struct fhir_build *b, const char *system, const char *code,
                           const char *display);
/* {"coding":[coding], "text"} (text may be NULL; system NULL gives text only). */
json_object *fhir_b_cc(struct fhir_build *b, const char *system, const char *code,
                       const char *display, const char *text);
/* {"reference","display"} (either may be NULL). */
json_object *fhir_b_ref(struct fhir_build *b, const char *reference, const char *display);
/* {"system","value"} */
json_object *fhir_b_ident(struct fhir_build *b, const char *system, const char *value);

/* Percent-encode s for a URL query value (RFC 3986 unreserved kept). Returns
 * a malloc'd string the caller frees, or NULL when out of memory. */
char *fhir_url_escape(const char *s);

#endif
