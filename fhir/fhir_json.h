/*
 * fhir_json.h - FHIR JSON in and out on json-c: bounded, strict parsing of
 * one resource (interop.md I17) and serialisation. Also fhir_parse(), which
 * takes either representation (JSON or XML, told apart by the first
 * non-blank byte) and returns the same JSON tree.
 */
#ifndef FHIR_JSON_H
#define FHIR_JSON_H

#include "fhir_error.h"

#include <json-c/json.h>
#include <stddef.h>

/* Parse buf (len bytes, need not be NUL-terminated) as one FHIR JSON
 * resource: an object with a string "resourceType". what names the source in
 * messages. Returns a new reference the caller owns (json_object_put), or
 * NULL with err naming the problem and, where known, the line. */
json_object *fhir_json_parse(const char *buf, size_t len, const struct fhir_limits *lim,
                             const char *what, struct fhir_error *err);

/* JSON or XML, whichever buf holds. Same ownership and errors. */
json_object *fhir_parse(const char *buf, size_t len, const struct fhir_limits *lim,
                        const char *what, struct fhir_error *err);

/* 1 if buf's first non-blank byte is '<' (an XML document). */
int fhir_looks_xml(const char *buf, size_t len);

/* Serialise: pretty (2-space indent) or compact, slashes unescaped.
 * Returns a malloc'd string the caller frees, or NULL when out of memory. */
char *fhir_json_write(json_object *o, int pretty);

#endif
