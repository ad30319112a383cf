/*
 * daemon.h - the state of `nenfhir run` shared by its parts: one libevent
 * loop driving the FHIR client (loop_curl), the HTTPS listener (listener.c),
 * the subscription manager (subscribe.c), catch-up and polling (catchup.c),
 * intake of notifications into the store (intake.c) and the case workers
 * (pipeline.c). Everything runs on the loop's thread.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include "fhir_client.h"
#include "nen_codes.h"
#include "notify.h"
#include "run_config.h"
#include "store.h"

#include <event2/event.h>
#include <stdint.h>

struct listener;
struct loop_curl;
struct pipeline_run;

struct daemon_stats {
    unsigned long notifications;   /* accepted and stored */
    unsigned long refused;         /* wrong secret / bad request */
    unsigned long reports_written; /* transactions the server accepted */
    unsigned long unchanged;       /* recomputations that wrote nothing (I8) */
    unsigned long retries;         /* failed attempts to be retried */
    unsigned long dead;            /* jobs sent to dead letter */
    unsigned long catchups;        /* catch-up / poll rounds completed */
    unsigned long skipped_own;     /* own writes skipped (I5) */
};

struct daemon {
    struct run_config *cfg;
    struct event_base *base;
    struct store *store;
    struct nen_codes *codes;
    struct fhir_client *client;
    struct loop_curl *loop;
    struct listener *listener;

    struct event *work_timer;      /* runs due jobs and resolves */
    int64_t work_at_ms;            /* when it is set to fire */
    struct event *catchup_timer;   /* poll / safety-net catch-up */
    struct event *sig_term, *sig_int, *sig_hup;

    struct pipeline_run *running;  /* cases in flight (list) */
    int nrunning;
    int resolving;                 /* a resolve fetch in flight */
    int catchup_running, catchup_again;
    int subscribed;                /* the Subscription is in place (or poll mode) */
    int device_ok;                 /* one report was written (the Device exists) */
    int draining;                  /* SIGTERM: finish what runs, start nothing */
    int exit_code;

    struct daemon_stats stats;
};

/* Milliseconds since the epoch (the wall clock; only for queue times). */
int64_t daemon_now_ms(void);

/* Log a line to stderr: "2026-11-21T08:30:00Z nenfhir LEVEL message". */
void daemon_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define LOG_INFO(...) daemon_log("info", __VA_ARGS__)
#define LOG_WARN(...) daemon_log("warn", __VA_ARGS__)
#define LOG_ERROR(...) daemon_log("error", __VA_ARGS__)
extern int daemon_debug;
#define LOG_DEBUG(...) do { if (daemon_debug) daemon_log("debug", __VA_ARGS__); } while (0)

/* Ask the work timer to run soon (after ms). */
void daemon_kick(struct daemon *d, long ms);

/* intake.c: record what a notification says, in one store transaction
 * (I7: the caller acknowledges only when this returns 0). Returns 0, or -1
 * when the store failed (answer 503). Sets *catchup when a catch-up query is
 * needed (ping, id-only, gap in event numbers: I4). */
int intake_batch(struct daemon *d, const struct notify_batch *b, int *catchup);
/* One resource read from the server (catch-up, resolve): inside the caller's
 * store transaction. Returns 0/-1 (store). */
int intake_resource(struct daemon *d, json_object *res);
/* "Patient/123" from a reference that may be absolute; 0 ok, -1 not a
 * Patient reference or its id is not a FHIR id ([A-Za-z0-9-.]{1,64}: so
 * "Patient/1,Patient/2" is no key, and never becomes an OR-search). */
int intake_patient_key(const char *reference, char *out, size_t len);

/* catchup.c: query the server for changes since the cursor (I3, I4). */
void catchup_request(struct daemon *d);
/* resolve fetches (id-only notifications): start one if any are pending. */
void catchup_resolve_next(struct daemon *d);

/* subscribe.c: make sure the Subscription exists and is active (I2); calls
 * done(d, ok) when finished. */
void subscribe_ensure(struct daemon *d, void (*done)(struct daemon *d, int ok));

/* pipeline.c: start due jobs up to the parallel limit. */
void pipeline_run_due(struct daemon *d);
/* 1 if a job for key is in flight. */
int pipeline_busy(void *d, const char *key);
/* Delay before the next attempt after `attempts` failed ones: work.backoff
 * doubled per attempt up to work.backoff_max, +-25% jitter; a Retry-After
 * of retry_after_s seconds (-1: none) lengthens it, up to
 * work.retry_after_max. Never overflows, whatever retry_after_s is. */
int64_t pipeline_retry_delay_ms(const struct run_config *c, int attempts, long retry_after_s);

#endif
