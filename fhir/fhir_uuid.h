/*
 * fhir_uuid.h - name-based UUIDs (RFC 4122 version 5, SHA-1) for stable
 * fullUrls and ids: the same name always gives the same UUID, so the same
 * case always maps to the same resources (interop.md I8).
 */
#ifndef FHIR_UUID_H
#define FHIR_UUID_H

#include <stddef.h>

#define FHIR_UUID_LEN 37 /* 36 characters and the NUL */

/* UUID v5 of name in namespace ns (any string; hashed first so that callers
 * need no binary namespace). Writes "xxxxxxxx-xxxx-5xxx-yxxx-xxxxxxxxxxxx"
 * into out (FHIR_UUID_LEN bytes). Returns 0, or -1 if hashing failed. */
int fhir_uuid_v5(const char *ns, const char *name, char out[FHIR_UUID_LEN]);

/* Hex SHA-256 of len bytes of data into out (65 bytes). Returns 0 or -1. */
int fhir_sha256_hex(const void *data, size_t len, char out[65]);

#endif
