/*
 * pipeline_int.h - private to pipeline*.c: one run of a queued patient.
 * pipeline.c starts, ends and retries runs; pipeline_read.c gathers the
 * patient's resources (the store's input mirror, the server only for what
 * the mirror lacks); pipeline_write.c computes every case of the patient
 * and writes the reports that changed, one transaction per case.
 */
#ifndef PIPELINE_INT_H
#define PIPELINE_INT_H

#include "daemon.h"
#include "nen_extract.h"

#include <json-c/json.h>

/* One report to send: built by pipeline_write.c, sent one at a time. */
struct pipeline_write {
    json_object *bundle;                /* the transaction (owned) */
    char report_key[2 * STORE_KEY_LEN]; /* case_system|case_value */
    struct store_report rep;            /* recorded once the server accepted it */
    char case_value[NEN_REF_LEN];
    char summary[600];
    int64_t sent_ms;                    /* when the transaction was sent (its duration) */
    /* issue 13 item 3: conditional mode, the resources one at a time (I14) */
    int single;                         /* this report goes as ordered single writes */
    int trial;                          /* ... because the server refused its transaction */
    int part, resumed, sent_parts;      /* next entry; entries found written; entries sent */
    char written[96];                   /* "DIGEST STATUS": what a recorded part must match */
    struct {
        char url[64];                   /* the entry's fullUrl (urn:uuid:...) */
        char ref[STORE_KEY_LEN];        /* the server's Type/id */
    } refs[16];
    int nrefs;
};

struct pipeline_run {
    struct daemon *d;
    struct store_job job;
    struct pipeline_run *next;
    int pending;                /* reads in flight */
    int failed;                 /* a read failed: retry */
    long fail_status;
    long retry_after_s;
    char fail[512];
    long patient_gone;          /* the Patient read answered 404 or 410 (that status) */
    int lacking_rounds;         /* rounds of by-id reads of what the mirror lacks */
    int fetched;                /* resources read in the current round */
    json_object *docs;          /* array: the patient's resources (owned) */
    struct pipeline_write *w;   /* reports to send (owned, nw of them) */
    int nw, iw;                 /* how many, the one in flight */
    int hold;                   /* a case waits for missing inputs: hold the job */
    int64_t hold_due_ms;
};

/* pipeline.c: end the run. Failure: retried with backoff, or dead letter
 * for a 4xx retrying cannot fix (status) or after work.max_attempts. */
void pipeline_run_fail(struct pipeline_run *r, long status, long retry_after, const char *why,
                       const char *outcome);
/* Success: the inputs noted for deletes (I6), then the job done, or held
 * until hold_due_ms when a case waits for inputs; one store transaction. */
void pipeline_run_done(struct pipeline_run *r);

/* pipeline_read.c: gather the patient's resources into r->docs, then call
 * pipeline_compute (or fail the run). */
void pipeline_read(struct pipeline_run *r);
/* 1 if docs hold an input (an Observation or Condition not ours). */
size_t pipeline_inputs(const struct pipeline_run *r);

/* pipeline_write.c: compute every case and write what changed. */
void pipeline_compute(struct pipeline_run *r);

#endif
