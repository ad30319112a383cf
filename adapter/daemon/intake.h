/*
 * intake.h - what a notification or a fetched resource means for the work
 * queue (interop.md I4, I5, I6, I7, I10). Every change to an input resource
 * (Observation, Condition) touches the job of its case, the Patient it is
 * about; resources nenfhir wrote itself are skipped (I5); deletes find
 * their case through the store's member table (I6); id-only changes wait
 * in the resolve table for catchup.h's fetch; pings and gaps in backport
 * event numbers ask the caller for a catch-up (I4).
 * Owns: struct intake, its counter. Writes only to the store (d->store);
 * allocates nothing that outlives a call.
 */
#ifndef INTAKE_H
#define INTAKE_H

#include "fhir_notify.h"

#include <json-c/json.h>
#include <stddef.h>

struct daemon;

struct intake {
    unsigned long skipped_own;     /* own writes skipped (I5) */
    unsigned long not_input;       /* Observations whose code is no input: not kept */
};

struct nen_codes;

/* Record what a notification says, in one store transaction (I7: the
 * caller acknowledges only when this returns 0). b stays the caller's.
 * Returns 0, or -1 when the store failed (logged; the transaction is rolled
 * back; answer 503). Sets *catchup when a catch-up query is needed (ping,
 * id-only, gap in event numbers: I4). */
int intake_batch(struct daemon *d, const struct fhir_notify_batch *b, int *catchup);

/* One resource read from the server (catch-up, resolve), res borrowed:
 * inside the caller's store transaction. Returns 0, or -1 when the store
 * failed (the caller rolls back). A resource that is no input, is nenfhir's
 * own, or names no Patient is ignored (0). */
int intake_resource(struct daemon *d, json_object *res);

/* 1 if res can feed a case: an Observation with an input code of the
 * tables (its code or a component's), a Condition, a Specimen (issue 11
 * item 3: an Observation whose code is no input is not kept and queues
 * nothing). */
int intake_is_input(const struct nen_codes *t, json_object *res);

/* Keep res (borrowed) in the store's input mirror under patient_key
 * (versions only move forward: store_mirror_put); an entered-in-error
 * resource is removed instead. Returns 1 when the mirror changed, 0 when
 * this version (or a newer one) was kept already, -1 on a store error or
 * out of memory (logged). Inside the caller's store transaction. */
int intake_mirror(struct daemon *d, json_object *res, const char *patient_key);

/* Input ref ("Observation/1") is gone from the server (a delete notified, a
 * read answering 404/410): forgotten (input mirror, member table) and its
 * case, found through either, queued again, logged as "REF HOW: case K
 * will be recomputed (I6)". Inside the caller's store transaction. Returns
 * 1 when a case was queued, 0 when ref is no input of a known case, -1 on a
 * store error. */
int intake_gone(struct daemon *d, const char *ref, const char *how);

/* Observations not kept since start (their code is no input): /metrics. */
unsigned long intake_not_kept(const struct daemon *d);

/* "Patient/123" into out (len bytes) from a reference that may be
 * absolute; 0 ok, -1 not a Patient reference or its id is not a FHIR id
 * ([A-Za-z0-9-.]{1,64}: so "Patient/1,Patient/2" is no key, and never
 * becomes an OR-search), or out too short. */
int intake_patient_key(const char *reference, char *out, size_t len);

#endif
