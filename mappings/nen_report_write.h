/*
 * nen_report_write.h - how nenfhir's report Bundle (nen_report.h) reaches a
 * server (issue 13 item 3; interop.md I8, I14):
 *   - the write mode a server's CapabilityStatement allows: conditional
 *     update by business identifier (PUT Type?identifier=SYSTEM|VALUE)
 *     when it announces conditionalUpdate for every type nenfhir writes,
 *     else client-assigned ids (PUT Type/<uuid>) when it announces
 *     updateCreate, else none;
 *   - a conditional Bundle taken apart into ordered single writes, for a
 *     server that refuses conditional entries in a transaction (Medplum's
 *     fhir-router refuses them in one of more than 8 entries): each
 *     entry's type and identity, its resource with the urn:uuid references
 *     to earlier entries replaced by the server's "Type/id", and the
 *     "Type/id" a write's answer gives.
 * Pure functions on json-c trees; no I/O.
 */
#ifndef NEN_REPORT_WRITE_H
#define NEN_REPORT_WRITE_H

#include <json-c/json.h>
#include <stddef.h>

enum nen_write_mode {
    NEN_WRITE_AUTO = 0,    /* not decided (or: the server allows neither) */
    NEN_WRITE_CONDITIONAL, /* PUT Type?identifier=SYSTEM|VALUE */
    NEN_WRITE_CLIENT_ID    /* PUT Type/<uuid> */
};

/* "auto", "conditional", "client-id". */
const char *nen_write_mode_name(enum nen_write_mode m);
/* From the config text ("auto", "conditional", "client-id"); AUTO otherwise. */
enum nen_write_mode nen_write_mode_parse(const char *name);

/* What a CapabilityStatement allows. */
struct nen_write_choice {
    enum nen_write_mode mode; /* CONDITIONAL, CLIENT_ID, or AUTO: neither is announced */
    int transactions;         /* the server announces the `transaction` interaction */
    char software[128];       /* software.name (cut), "" unknown */
    char why[768];            /* the reason as a sentence, for the operator's log */
};

/* Decide from cs (a parsed CapabilityStatement; NULL or another resource:
 * nothing announced) for the types nenfhir writes: DiagnosticReport,
 * Observation, Provenance and Device. rest[] entries of mode "server" are
 * read; a type missing from rest.resource announces nothing. Never fails. */
void nen_report_write_choose(json_object *cs, struct nen_write_choice *out);

/* The conditional identity of entry (a Bundle entry nen_report_bundle made
 * in conditional mode): *type its resourceType, *param "identifier" (the
 * first identifier) or "_tag" (the Provenance: its tag of system
 * NEN_ID_SYSTEM/provenance), value "SYSTEM|VALUE" into value[len], never
 * cut. Returns 0, or -1 (no such identity, or it does not fit). Pointers
 * are into entry. */
int nen_report_write_identity(json_object *entry, const char **type, const char **param,
                              char *value, size_t len);

/* A deep copy of the resource of entry i of bundle in which every
 * Reference.reference that is a key of refs (an object: fullUrl ->
 * "Type/id") is replaced by its value; other references (the inputs) are
 * kept. Returns the copy (caller puts it), or NULL: out of memory, or a
 * reference to an entry of bundle not in refs (then missing holds it, cut
 * to len). */
json_object *nen_report_write_resolve(json_object *bundle, size_t i, json_object *refs,
                                      char *missing, size_t len);

/* The "Type/id" a server gave to a resource of type written by PUT: the
 * answer's body when it is that resource with an id, else the Location
 * (or Content-Location) header ".../Type/id[/_history/v]". Returns 0 with
 * out set, or -1 (neither names it, or it does not fit outlen). */
int nen_report_write_ref(const char *body, size_t body_len, const char *location,
                         const char *type, char *out, size_t outlen);

#endif
