/*
 * daemon.h - `nenfhir run`: the daemon's shared context and its own state.
 * One libevent loop on one thread drives everything: the FHIR client
 * (loop_curl.h), the HTTPS listener (listener.h), the subscription manager
 * (subscribe.h), catch-up, polling and resolve fetches (catchup.h), intake
 * of what changed into the store (intake.h) and the case workers
 * (pipeline.h). The cli starts it through include/daemon_run.h only.
 *
 * struct daemon holds three kinds of things:
 *  - the context the modules read and never write: cfg (the caller's),
 *    base, store, codes, client (opened by daemon.c at start, closed at the
 *    end) and draining (set by daemon.c on SIGTERM/SIGINT: start nothing);
 *  - the daemon's own timers and signal events (daemon.c only);
 *  - each module's state in the module's own struct (pipeline, catchup,
 *    intake, subscribe; the listener and the curl binding behind pointers),
 *    written only by that module's .c file and read by others through the
 *    module's functions (e.g. /metrics: pipeline_stats, catchup_rounds).
 */
#ifndef DAEMON_H
#define DAEMON_H

#include "adapter_log.h"
#include "catchup.h"
#include "fhir_client.h"
#include "intake.h"
#include "nen_codes.h"
#include "pipeline.h"
#include "run_config.h"
#include "store.h"
#include "subscribe.h"

#include <event2/event.h>
#include <stdint.h>

struct listener;
struct loop_curl;

struct daemon {
    /* context: read by every module, written by daemon.c only */
    struct run_config *cfg;        /* borrowed from daemon_run's caller */
    struct event_base *base;
    struct store *store;
    struct nen_codes *codes;
    struct fhir_client *client;
    struct fhir_smart *smart;     /* issue 12 item 8: server.auth = smart-backend */
    int draining;                  /* SIGTERM: finish what runs, start nothing */
    int exit_code;

    /* daemon.c's own: the work timer, the catch-up timer, signals */
    struct event *work_timer;      /* runs due jobs and resolves */
    int64_t work_at_ms;            /* when it is set to fire */
    struct event *catchup_timer;   /* poll / safety-net catch-up */
    struct event *sig_term, *sig_int, *sig_hup;

    /* the modules' states, each written only by its module */
    struct loop_curl *loop;        /* loop_curl.h (owned; freed by daemon.c) */
    struct listener *listener;     /* listener.h (owned; NULL in poll mode) */
    struct subscribe subscribe;    /* subscribe.h */
    struct catchup catchup;        /* catchup.h */
    struct intake intake;          /* intake.h */
    struct pipeline pipeline;      /* pipeline.h */
};

/* Ask the work timer to run soon (after ms): due jobs start, resolve
 * fetches start, and while draining the loop ends once nothing is in
 * flight. An earlier planned run is kept. Never fails (no timer: no-op). */
void daemon_kick(struct daemon *d, long ms);

#endif
