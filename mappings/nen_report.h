/*
 * nen_report.h - a classified case -> one FHIR R4 transaction Bundle
 * (interop.md I8, I11-I14): PUTs by stable id, keyed by stable business
 * identifiers, of the result Observations (WHO class, grade, gastric type,
 * pT, pN, pM, stage group with hasMember), the DiagnosticReport (narrative,
 * one-sentence conclusion, presentedForm text/html and text/plain), the
 * nenfhir Device, and a Provenance. Every coded result carries nenfhir's own
 * code and the standard codes of the code tables' `result` lines
 * (results.map). Every resource carries nenfhir's meta.tag (I5). The same
 * case always gives the same identifiers and fullUrls. Written by stable
 * client ids or, in conditional mode, by business identifier (issue 13
 * item 3; nen_report_write.h for the single writes).
 */
#ifndef NEN_REPORT_H
#define NEN_REPORT_H

#include "fhir_error.h"
#include "nen_extract.h"

#include <json-c/json.h>

#define NEN_ID_SYSTEM "https://nenfhir.org/fhir/id"      /* + "/report", "/result", "/device" */
#define NEN_RESULT_SYSTEM "https://nenfhir.org/fhir/CodeSystem/nen-result"

struct nen_report_opts {
    const char *issued;            /* FHIR instant of this computation (the caller's clock) */
    const char *version;           /* nenfhir version, for the Device and Provenance */
    const char *performer_ref;     /* e.g. "Organization/pathology"; NULL: none */
    const char *performer_display; /* may be NULL */
    const char *status;            /* NULL: from the result (preliminary/final); or "amended" */
    const struct nen_codes *codes; /* the code tables: the standard codes written (`result`
                                      lines); NULL: nenfhir's own codes only. Borrowed. */
    int conditional;               /* issue 13 item 3: 0 = PUT Type/<uuid> (client ids);
                                      1 = PUT Type?identifier=SYSTEM|VALUE, no ids (the
                                      Provenance: PUT Provenance?_tag=SYSTEM|CODE with the
                                      tag NEN_ID_SYSTEM/provenance | KEY/provenance/DIGEST) */
};

/* Build the transaction. Returns a new tree the caller owns (json_object_put),
 * or NULL with err set (out of memory). */
json_object *nen_report_bundle(const struct nen_extract *x, const struct nen_result *r,
                               const struct nen_report_opts *o, struct fhir_error *err);

/* SHA-256 (hex) of what the report says: the report format, the summary
 * lines, the trace and the sources, not the times. Equal digests mean
 * nothing changed (I8); a new report format rewrites every report once. */
int nen_report_digest(const struct nen_extract *x, const struct nen_result *r, char out[65]);

#endif
