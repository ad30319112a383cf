/*
 * store.h - the daemon's durable state in one SQLite database in WAL mode
 * (interop.md I7): the work queue (one row per case, I10), resources whose
 * case is not known yet, the versions already seen (I3 dedupe), which case
 * each input belongs to (for deletes, I6), the last report written per case
 * (I8: write nothing when nothing changed; preliminary -> final -> amended),
 * dead letters (I9) and small key/value state (poll cursor, subscription id,
 * backport event counters). Since issue 11 also a local mirror of the input
 * resources (the pipeline reads a case from it, the server only for what it
 * lacks), which patients were read in full once, write-once holds on jobs
 * (the case is incomplete: write nothing yet) and report writes per case.
 *
 * A notification is acknowledged only after the store_commit() of the
 * transaction that recorded its effects; a crash at any instant loses
 * nothing (WAL, synchronous=FULL). Times are milliseconds since the epoch,
 * given by the caller (tests pass their own clock).
 *
 * All functions return 0 on success and -1 on an SQLite error (message in
 * store_error()), except where stated.
 */
#ifndef STORE_H
#define STORE_H

#include <stdint.h>
#include <stddef.h>

#define STORE_KEY_LEN 160     /* a case key ("Patient/123") or a reference */
#define STORE_TEXT_LEN 4096   /* error texts and OperationOutcomes are cut to this */

struct store; /* opaque; one connection, used from one thread */

/* Open (creating if needed) the database at path; migrates the schema.
 * Returns NULL with err set. Caller frees with store_close. */
struct store *store_open(const char *path, char *err, size_t errlen);
void store_close(struct store *s);
const char *store_error(const struct store *s);

/* Group several writes into one transaction (nesting not allowed).
 * Without begin/commit every call below is its own transaction. */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* Key/value state. store_meta_get returns 1 found, 0 absent, -1 error. */
int store_meta_get(struct store *s, const char *key, char *out, size_t outlen);
int store_meta_set(struct store *s, const char *key, const char *value);

/* --- the work queue: one row per case key (a Patient reference) --- */

struct store_job {
    char key[STORE_KEY_LEN];
    int64_t gen;       /* bumped by every touch; done/retry only match this gen */
    int attempts;      /* failed attempts so far */
    int64_t due_ms;
    int64_t first_ms;  /* first input since queued (kept across holds and
                          retries): "write a preliminary report after N minutes
                          with inputs still missing" counts from here */
    int held;          /* 1: a run found the case incomplete (store_job_hold) */
    int64_t touched_ms; /* the last input's change (the last touch) */
    int dead;          /* 1 in store_dead_list */
    char error[STORE_TEXT_LEN];    /* last error ("" none) */
    char outcome[STORE_TEXT_LEN];  /* server's OperationOutcome JSON ("" none) */
};

/* A change to an input of case key: insert the job, or, if queued, bump its
 * gen and push due to now+settle (never later than first_touch+10*settle, so a
 * steady stream cannot starve it; never earlier than it was, so a retry's
 * backoff is not cut short). A held job (store_job_hold) is released: held 0,
 * due now+settle (the new input may complete the case), first_ms kept. A dead
 * job is revived (attempts 0, first_ms now). */
int store_job_touch(struct store *s, const char *key, int64_t now_ms, int settle_ms);

/* Up to max queued jobs with due <= now, earliest first, skipping keys for
 * which busy(ctx, key) returns 1. Returns the number written to out (>= 0),
 * or -1. */
int store_job_due(struct store *s, int64_t now_ms, int (*busy)(void *ctx, const char *key),
                  void *ctx, struct store_job *out, int max);

/* Earliest due time of a queued job: 1 with *due_ms set, 0 none, -1 error. */
int store_job_next_due(struct store *s, int64_t *due_ms);

/* The job (key, gen) succeeded: delete it unless touched since (gen differs:
 * then it stays queued and runs again). */
int store_job_done(struct store *s, const struct store_job *j);

/* The job failed and will be retried at due_ms: attempts+1, error kept, held
 * 0 (in backoff now). If touched since, only the error is kept (attempts, due
 * and held unchanged). */
int store_job_retry(struct store *s, const struct store_job *j, int64_t due_ms,
                    const char *error);

/* Write-once hold: the run (key, gen) found the case incomplete and wrote
 * nothing; run it again at due_ms (the preliminary-report deadline, say)
 * unless an input changes first. Sets held 1, due_ms, error ""; attempts and
 * first_ms unchanged. If touched since (gen differs) or dead, nothing changes
 * (the touch already made it due soon). A later store_job_touch releases the
 * hold (see there). */
int store_job_hold(struct store *s, const struct store_job *j, int64_t due_ms);

/* The job goes to dead letter with its error and the server's
 * OperationOutcome (may be NULL or ""). */
int store_job_dead(struct store *s, const struct store_job *j, const char *error,
                   const char *outcome);

/* Dead letters, oldest first: calls fn for each (stops when fn returns
 * non-zero). Returns the count visited or -1. */
int store_dead_list(struct store *s, int (*fn)(void *ctx, const struct store_job *j), void *ctx);

/* Requeue one dead letter (key) or all (key NULL) with attempts 0, due now.
 * Returns the number requeued or -1. */
int store_dead_replay(struct store *s, const char *key, int64_t now_ms);

/* Counts for /metrics and tests: queued (not dead) and dead jobs, and
 * pending resolves. */
int store_counts(struct store *s, int *queued, int *dead, int *resolving);

/* --- resources whose case is not known yet (id-only payloads) --- */

/* Remember ref ("Observation/123") to be fetched; idempotent. */
int store_resolve_add(struct store *s, const char *ref);
/* Up to max refs, oldest first; returns count or -1. */
int store_resolve_list(struct store *s, char (*refs)[STORE_KEY_LEN], int max);
int store_resolve_done(struct store *s, const char *ref);

/* --- versions seen (I3 dedupe on type, id, versionId) --- */

/* Record (type, id, version). Returns 1 if new, 0 if seen before, -1 error.
 * version "" is never recorded and always counts as new. */
int store_seen(struct store *s, const char *type, const char *id, const char *version);
/* Forget versions recorded before now_ms - keep_ms. */
int store_seen_prune(struct store *s, int64_t now_ms, int64_t keep_ms);

/* --- which case each input resource belongs to (I6: deletes) --- */

int store_member_set(struct store *s, const char *ref, const char *case_key);
/* 1 found (case_key set), 0 unknown, -1 error. */
int store_member_get(struct store *s, const char *ref, char *case_key, size_t len);
int store_member_forget(struct store *s, const char *ref);
/* Inputs (refs) of cases that have a final or amended report, in ref order,
 * those after `after` ("" or NULL: from the first): up to max written to
 * refs. Returns the count (< max: no more) or -1. */
int store_member_of_final(struct store *s, const char *after, char (*refs)[STORE_KEY_LEN],
                          int max);

/* --- the last report written per report key (specimen accession) --- */

struct store_report {
    char digest[65];    /* nen_report_digest of what was written */
    char status[24];    /* preliminary | final | amended | entered-in-error */
    char case_key[STORE_KEY_LEN];
    int64_t written_ms;
    int writes;         /* times store_report_put wrote this key (1 on the first);
                           0 for reports of stores older than schema 2.
                           Ignored by store_report_put. */
};
/* 1 found, 0 none, -1 error. */
int store_report_get(struct store *s, const char *report_key, struct store_report *out);
int store_report_put(struct store *s, const char *report_key, const struct store_report *r);
/* For a metric: *cases = number of report keys, *writes = the sum of their
 * writes. Either pointer may be NULL. */
int store_report_stats(struct store *s, long *cases, long *writes);
/* Report keys whose case_key is key (a case can hold several specimens):
 * calls fn for each; returns count or -1. */
int store_report_of_case(struct store *s, const char *case_key,
                         int (*fn)(void *ctx, const char *report_key,
                                   const struct store_report *r),
                         void *ctx);

/* --- issue 13 item 3 (I14): a report written as ordered single writes ---
 * Each resource of it (part: its Bundle entry's fullUrl) is recorded as the
 * server accepts it: written = what was written ("DIGEST STATUS"), ref = the
 * server's "Type/id" for it; a crash midway resumes after the last one.
 * get: 1 found (written, ref cut to their lengths), 0 none, -1 error.
 * put: 0 or -1 (ref empty or longer than STORE_KEY_LEN - 1). */
int store_report_part_get(struct store *s, const char *report_key, const char *part,
                          char *written, size_t written_len, char *ref, size_t ref_len);
int store_report_part_put(struct store *s, const char *report_key, const char *part,
                          const char *written, const char *ref);

/* --- the input mirror: the last version seen of each input resource --- */

/* Store resource ref ("Observation/123", < STORE_KEY_LEN bytes) of type
 * ("Observation") belonging to patient_key ("Patient/1"; "" or NULL none)
 * with its meta.versionId (version_id, "" or NULL unknown), meta.lastUpdated
 * in ms (updated_ms, negative unknown) and its JSON text (copied; required).
 * Versions only move forward. Returns 1 stored (ref new, or newer than the
 * stored version), 0 kept the stored one (same or older), -1 error. Newer:
 * both versionIds all digits -> the greater number; else both updated_ms
 * known -> the later; equal versions or equal times -> 0; else (cannot tell)
 * -> stored if versionId or JSON differs. One statement: atomic on its own
 * and correct inside store_begin/commit. */
int store_mirror_put(struct store *s, const char *ref, const char *type, const char *patient_key,
                     const char *version_id, int64_t updated_ms, const char *json, int64_t now_ms);
/* 1 removed, 0 absent, -1 error. */
int store_mirror_remove(struct store *s, const char *ref);
/* Every mirrored resource of patient_key ("" : those without a patient), in
 * ref order: fn(ctx, ref, type, json) for each, the strings valid only during
 * the call (copy what you keep); stops when fn returns non-zero (fn NULL:
 * count only). Returns the rows visited (including the one that stopped) or
 * -1. */
int store_mirror_of_patient(struct store *s, const char *patient_key,
                            int (*fn)(void *ctx, const char *ref, const char *type,
                                      const char *json),
                            void *ctx);
/* The one resource ref, like store_mirror_of_patient: 1 found (fn called
 * once), 0 absent, -1 error. */
int store_mirror_get(struct store *s, const char *ref,
                     int (*fn)(void *ctx, const char *ref, const char *type, const char *json),
                     void *ctx);
/* *rows = the number of mirrored resources (for a metric). */
int store_mirror_count(struct store *s, long *rows);

/* --- patients whose inputs were read in full from the server once --- */

/* 1 seeded, 0 not, -1 error. */
int store_seeded_get(struct store *s, const char *patient_key);
/* Mark patient_key (< STORE_KEY_LEN bytes) as read in full at now_ms. */
int store_seeded_set(struct store *s, const char *patient_key, int64_t now_ms);
/* Forget it (the next case of this patient reads it in full again). */
int store_seeded_forget(struct store *s, const char *patient_key);

/* --- issue 14 (cases): case browser, reprocessing, purge, retention --- */

/* issue 14 (cases). The job of key (queued, held or dead): 1 found, 0 none,
 * -1 error. */
int store_job_get(struct store *s, const char *key, struct store_job *out);

/* issue 14 (cases). Reports whose key is key ("system|value") or whose value
 * is key (the accession alone; several systems may match): fn for each, in
 * key order, the report key valid only during the call; stops when fn
 * returns non-zero. Returns the count visited or -1. */
int store_report_find(struct store *s, const char *key,
                      int (*fn)(void *ctx, const char *report_key, const struct store_report *r),
                      void *ctx);

/* issue 14 (cases). One case as store_case_list sees it: a report (with
 * its patient's job, if any), or a job whose patient has no report yet.
 * Strings valid only during the callback. */
struct store_case {
    const char *report_key; /* "" : no report yet */
    const char *case_key;   /* the patient ("Patient/1") */
    const char *status;     /* the report's status, "" none */
    int64_t written_ms;     /* -1 none */
    int writes;
    const char *state;      /* dead | held | pending (queued) | done (no job) */
    int64_t activity_ms;    /* the later of the write and the job's last input change */
};
/* issue 14 (cases). Cases in state (NULL all) with activity_ms >= since_ms,
 * oldest activity first: fn for each (stops when it returns non-zero).
 * Returns the count visited or -1. */
int store_case_list(struct store *s, const char *state, int64_t since_ms,
                    int (*fn)(void *ctx, const struct store_case *c), void *ctx);

/* issue 14 (cases). Delete dead letter key, or all (key NULL). Returns the
 * number deleted or -1. */
int store_dead_purge(struct store *s, const char *key);

/* issue 14 (cases). Retention: how long each kind is kept (ms; 0 or less:
 * forever). */
struct store_keep {
    int64_t seen_ms;    /* versions seen (I3 dedupe) */
    int64_t dead_ms;    /* dead letters, counted from their last input change */
    int64_t mirror_ms;  /* a patient's mirrored inputs, when the patient has no
                           job and none of them changed for this long */
};
struct store_pruned {
    long seen, dead, mirror, seeded; /* rows deleted */
};
/* issue 14 (cases). Prune by keep in one transaction (its own, or the
 * caller's if one is open). A patient whose mirror goes loses its seeded
 * mark too, so a later change reads it in full again. out may be NULL. */
int store_prune(struct store *s, int64_t now_ms, const struct store_keep *keep,
                struct store_pruned *out);

/* issue 14 (cases). The database's size: page_count * page_size. */
int store_size_bytes(struct store *s, int64_t *bytes);

/* issue 14 (cases). PRAGMA data_version: changes when another connection
 * (another process: the cli) commits; this connection's own commits leave
 * it alone. */
int store_data_version(struct store *s, int64_t *version);

/* --- issue 14 (status): reads for the status page and /metrics --- */

/* issue 14 (status). The first input time (first_ms) of the oldest queued
 * (not dead) job: 1 with *first_ms set, 0 queue empty, -1 error. */
int store_job_oldest_ms(struct store *s, int64_t *first_ms);
/* issue 14 (status). The max reports written last, newest first: fn for
 * each (report key valid during the call; stops when fn returns non-zero).
 * Returns the count visited or -1. */
int store_report_latest(struct store *s, int max,
                        int (*fn)(void *ctx, const char *report_key, const struct store_report *r),
                        void *ctx);
/* issue 14 (status). The reports whose key is accession or ends in
 * "|accession" (any identifier system), like store_report_latest. */
int store_report_of_accession(struct store *s, const char *accession,
                              int (*fn)(void *ctx, const char *report_key,
                                        const struct store_report *r),
                              void *ctx);

#endif
