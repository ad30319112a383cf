/*
 * fhir_error.h - error reports and input limits shared by the fhir/ parsers
 * and readers. An error is a fixed buffer the caller owns, so reporting one
 * never allocates and never fails. Messages name the source (file or
 * resource) and the FHIR path, e.g.
 *   "case.xml: Bundle.entry[2].resource.valueQuantity.value: not a number".
 */
#ifndef FHIR_ERROR_H
#define FHIR_ERROR_H

#include <stddef.h>

#define FHIR_ERROR_LEN 512
struct fhir_error {
    char msg[FHIR_ERROR_LEN];
    /* 1 when the failure was an allocation, not the input: a receiver answers
     * it with a 5xx (try again), never a 4xx (interop.md I7, issue 12 item 6) */
    int out_of_memory;
};

/* printf-style: set e->msg (truncated to fit) and clear out_of_memory. e may
 * be NULL. */
void fhir_error_set(struct fhir_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "WHAT: out of memory" ("out of memory" when what is NULL) with
 * out_of_memory set. e may be NULL. */
void fhir_error_oom(struct fhir_error *e, const char *what);

/* Where a reader or writer is in a tree, for messages:
 * "Bundle.entry[1].resource.Observation.code". Cut, never overflowed. */
struct fhir_path {
    size_t len;
    char text[FHIR_ERROR_LEN];
};

/* Append ".name" or ".name[index]" (index < 0: none); returns the length to
 * give back to fhir_path_pop. */
size_t fhir_path_push(struct fhir_path *p, const char *name, long index);
void fhir_path_pop(struct fhir_path *p, size_t old);

/* Bounds on untrusted input (interop.md I17). */
struct fhir_limits {
    size_t max_bytes;  /* whole document */
    int max_depth;     /* nesting of objects/arrays (JSON) or elements (XML) */
};

/* 16 MiB and 32 levels: a real pathology Bundle is far below both. */
#define FHIR_LIMITS_DEFAULT_BYTES ((size_t)16 * 1024 * 1024)
#define FHIR_LIMITS_DEFAULT_DEPTH 32
extern const struct fhir_limits fhir_limits_default;

#endif
