/*
 * nen_extract.h - FHIR resources of one case -> struct nen_case (design.md:
 * "FHIR -> domain"). Reads Observations (value as Quantity, string, Range,
 * integer, boolean, CodeableConcept, or as components of a panel), Conditions
 * and the Specimen, through the code tables (nen_codes.h), and remembers for
 * every input the resource it came from.
 *
 * Stated rules (README "From FHIR to inputs"):
 * - Observation status final/amended/corrected/preliminary is used;
 *   entered-in-error is retracted (not used); any other status is ignored.
 *   Each is logged. Resources carrying nenfhir's own meta.tag are skipped (I5).
 * - A range ("15-20%", valueRange) or a limit ("<1%", comparator) is kept as
 *   its two ends: the case is classified at both, and a field on which the
 *   ends disagree is indeterminate (nen_extract_classify). Always a warning.
 * - Two different values for one input: the hotspot method wins, then the
 *   final status, then the latest (issued, else effective). Always a warning.
 *   Sets (extent findings, metastasis sites) are joined instead.
 * - No value without its question: an Observation (or component) whose code
 *   is no question of the code tables gives nothing, whatever its value; a
 *   coded answer counts only under a question of its key; Condition and
 *   Specimen codes only where their `condition` / `body` / `specimen` line
 *   says. Every code not in the tables where one is read is a warning
 *   (input-code-unknown) naming resource and field.
 * - A reported input that cannot be read is not an absent input: a known
 *   question whose value cannot be read (unknown unit, answer code or word),
 *   a bodySite or collection method not in the tables, a metastasis whose
 *   place is unknown, is "unreadable": the rules run for every value it could
 *   have, each field they disagree on is indeterminate, and the result is
 *   preliminary with a warning naming the input and its resource.
 * - A value of the wrong JSON type is an error: the input is not readable.
 * - References name one resource however the server writes them
 *   (Type/id, Type/id/_history/v, an absolute URL, a Bundle's urn:uuid fullUrl).
 * - "Latest" compares times as instants (UTC offsets applied).
 */
#ifndef NEN_EXTRACT_H
#define NEN_EXTRACT_H

#include "fhir_error.h"
#include "nen_case.h"
#include "nen_codes.h"

#include <json-c/json.h>
#include <stddef.h>

/* nenfhir's own tag (interop.md I5): written on every resource it makes. */
#define NEN_TAG_SYSTEM "https://nenfhir.org/fhir/CodeSystem/meta-tag"
#define NEN_TAG_CODE "nenfhir-generated"

#define NEN_REF_LEN 160
#define NEN_SOURCE_MAX 64
#define NEN_UNREAD_MAX 16

/* Where one input came from. */
struct nen_source {
    char key[NEN_CODE_KEY_LEN];  /* input key, e.g. "ki67" */
    char ref[NEN_REF_LEN];       /* "Observation/123", or the entry's fullUrl */
    char type[24];               /* resourceType of the source */
    char shown[96];              /* the value as reported, e.g. "15-20 %" */
};

struct nen_extract {
    struct nen_case lo;          /* the case (low end of any reported range) */
    struct nen_case hi;          /* equal to lo except at the high end of ranges */
    int ranged;                  /* 1 when some input was a range or a limit */
    char ranged_keys[NEN_TEXT_LEN];  /* "ki67 size": which ones */

    int nsrc;
    struct nen_source src[NEN_SOURCE_MAX];

    int nunread;                 /* inputs reported but not readable (nen_extract.h) */
    struct nen_unread {
        char key[NEN_CODE_KEY_LEN];
        char ref[NEN_REF_LEN];   /* the resource that reported it */
        int present;             /* mets: a metastasis is there, its place unknown */
    } unread[NEN_UNREAD_MAX];

    int nwarn;                   /* reading problems; merged into the result */
    struct nen_warning warn[NEN_WARN_MAX];
    int nunknown;                /* codes read nowhere (input-code-unknown): merged last, */
    struct nen_warning unknown[NEN_WARN_MAX]; /* so they never crowd out the above */

    char patient_ref[NEN_REF_LEN];   /* "" when no subject was found */
    char specimen_ref[NEN_REF_LEN];
    char case_system[NEN_CODE_SYSTEM_LEN]; /* the case key: specimen accession, */
    char case_value[NEN_REF_LEN];          /* else specimen identifier or reference */
    char effective[40];          /* specimen collection time, else latest input time */
};

/* A log line (resource and what happened to it); ctx is the caller's. */
typedef void (*nen_log_fn)(void *ctx, const char *line);

/* Read docs[0..n) (each a resource or a Bundle of them; borrowed) into x.
 * Returns 0, or -1 with err naming the resource and the field when a
 * resource cannot be read (wrong JSON types, a second patient, inputs that
 * contradict each other). log may be NULL. */
int nen_extract(const struct nen_codes *t, json_object *const *docs, size_t n,
                struct nen_extract *x, nen_log_fn log, void *logctx, struct fhir_error *err);

/* Classify x into r: nen_classify at both ends of any range and for every
 * value an unreadable input could have, each field on which they disagree
 * made indeterminate, and the extract warnings added. */
void nen_extract_classify(const struct nen_extract *x, struct nen_result *r);

/* Add a warning to r unless the same code and text are there already (keys
 * may repeat: one warning per input). */
void nen_extract_warn_add(struct nen_warning *warn, int *nwarn, const char *code,
                          const char *text);

#endif
