/*
 * fhir_primitive.h - FHIR R4 primitive data types the adapter writes and
 * checks: id, instant and the literal reference. Knows nothing of NENs.
 */
#ifndef FHIR_PRIMITIVE_H
#define FHIR_PRIMITIVE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* 1 if s is a valid FHIR id: [A-Za-z0-9-.]{1,64}. */
int fhir_id_valid(const char *s);

/* The "Type/id" a literal reference names (FHIR R4 References, 2.3.0.3):
 * a version ("/_history/v") and a base URL ("https://host/fhir/") are
 * dropped, so "Patient/x/_history/2" and "https://host/fhir/Patient/x" both
 * give "Patient/x"; anything else (a relative reference, a urn:uuid) is
 * copied as it is. Writes out (len bytes, NUL-terminated). Returns 0, or -1
 * when s or the result does not fit (never cut short; out is then ""). */
int fhir_reference_plain(const char *s, char *out, size_t len);

/* Format t as a FHIR instant in UTC ("2026-11-21T08:30:00Z") into buf
 * (at least 21 bytes). Returns 0, or -1 if it does not fit or t is invalid. */
int fhir_instant_format(time_t t, char *buf, size_t len);

/* 1 if s is a valid FHIR instant (YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm)). */
int fhir_instant_valid(const char *s);

/* Milliseconds since the epoch of a valid instant (time zone applied;
 * digits past milliseconds dropped). Returns 0, or -1 if s is not valid. */
int fhir_instant_parse_ms(const char *s, int64_t *ms);

/* Milliseconds since the epoch of a FHIR dateTime: a full instant (time zone
 * applied), or a date of lower precision (YYYY, YYYY-MM, YYYY-MM-DD) taken
 * at its first moment in UTC. Returns 0, or -1 if s is neither. */
int fhir_datetime_parse_ms(const char *s, int64_t *ms);

/* ms as "YYYY-MM-DDThh:mm:ss.fffZ" into buf (at least 25 bytes); 0 or -1. */
int fhir_instant_format_ms(int64_t ms, char *buf, size_t len);

#endif
