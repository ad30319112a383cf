/*
 * pipeline.h - the case workers (design.md "The flow"): for one queued
 * case (a Patient), fetch its resources, extract -> rules -> report, and
 * send the transaction (I14) unless nothing changed (I8); failures are
 * retried with backoff or sent to dead letter (I9). One run per case at a
 * time, up to work.parallel at once (I10); until a first report was written
 * (the Device exists), one at a time.
 * Owns: struct pipeline (the runs in flight, each an allocation freed when
 * the run ends; whether a report was ever written; the counters of what
 * the runs did). Errors of a run are logged and end in the store (retry or
 * dead letter); none reaches the caller.
 */
#ifndef PIPELINE_H
#define PIPELINE_H

#include "run_config.h"

#include <stdint.h>

struct daemon;
struct pipeline_run;               /* one case in flight (pipeline.c) */

struct pipeline_stats {
    unsigned long reports_written; /* transactions the server accepted */
    unsigned long unchanged;       /* recomputations that wrote nothing (I8) */
    unsigned long retries;         /* failed attempts to be retried */
    unsigned long dead;            /* jobs sent to dead letter */
    unsigned long held;            /* cases held for missing inputs (write once) */
};

struct pipeline {
    struct pipeline_run *running;  /* cases in flight (list, owned) */
    int nrunning;
    int device_ok;                 /* one report was written (the Device exists) */
    int store_failures;            /* store writes failed in a row */
    int64_t pause_until_ms;        /* case work waits until then after a store failure */
    struct pipeline_stats stats;
    /* issue 13 item 3: how reports are written (pipeline_write_mode.c) */
    int write_mode;                /* enum nen_write_mode; NEN_WRITE_AUTO: not decided yet */
    int write_single;              /* conditional: one resource at a time, in order (I14) */
    int write_reading;             /* poll mode: GET metadata in flight */
    int64_t write_reread_ms;       /* > 0: the statement was unreadable; read it again then */
    int write_impossible;          /* auto found no way to write: the daemon stops */
    char device_ref[160];          /* single writes: the Device's "Device/id" once written */
};

/* At start, after the store is open: whether a report was ever written
 * (store meta device_ok; unreadable counts as not yet). */
void pipeline_init(struct daemon *d);

/* issue 13 item 3 (I8, I14): the server's CapabilityStatement (cs: parsed,
 * or NULL when unreadable) read at start by subscribe.c, or in poll mode by
 * the pipeline itself. With server.write_mode = auto it decides the write
 * mode (nen_report_write.h) and logs it once with the reason; when the
 * server announces no way, logs an error and stops the daemon (exit 1).
 * Later calls change nothing. */
struct json_object;
void pipeline_write_capabilities(struct daemon *d, struct json_object *cs);

/* 1 when the write mode is decided (jobs may start); else 0, and in poll
 * mode the CapabilityStatement read is started (retried every 5 s). */
int pipeline_write_ready(struct daemon *d);

/* The write mode for /metrics: "conditional", "client-id" or "undecided";
 * *single = 1 when conditional writes go one resource at a time. */
const char *pipeline_write_mode_name(const struct daemon *d, int *single);

/* Start due jobs up to the parallel limit (nothing while draining). */
void pipeline_run_due(struct daemon *d);

/* 1 if a job for key is in flight (d is a struct daemon *: the store's
 * job_due callback). */
int pipeline_busy(void *d, const char *key);

/* A store write failed: case work pauses, work.backoff doubled per failure
 * in a row up to work.backoff_max (+-25%), so that a full disk cannot make
 * a case rerun and rewrite at once, again and again (issue 11 7b). The
 * pause ends the count of failures when a run's store commit succeeds. */
void pipeline_store_failed(struct daemon *d);

/* Cases in flight. */
int pipeline_running(const struct daemon *d);

/* What the runs did since start (/metrics, the stop line). */
const struct pipeline_stats *pipeline_stats(const struct daemon *d);

/* Delay before the next attempt after `attempts` failed ones: work.backoff
 * doubled per attempt up to work.backoff_max, +-25% jitter; a Retry-After
 * of retry_after_s seconds (-1: none) lengthens it, up to
 * work.retry_after_max. Never overflows, whatever retry_after_s is. */
int64_t pipeline_retry_delay_ms(const struct run_config *c, int attempts, long retry_after_s);

/* issue 14 (metrics): if ctx (a FHIR request's ctx) is a run in flight, 1
 * with *last_ms = when its job's last input came (the last touch: the
 * start of the case latency, last input -> report accepted; a report
 * transaction's ctx is its run); else 0. Reads only. */
int pipeline_run_last_input_ms(const struct daemon *d, const void *ctx, int64_t *last_ms);

#endif
