/*
 * catchup.h - asking the server what changed (interop.md I3, I4): catch-up
 * rounds (poll mode, the safety net of the other modes, SIGHUP, pings and
 * gaps), the check for inputs of final reports that vanished without a
 * delete notification (I6), and the fetches of id-only notifications (the
 * store's resolve table). What is found goes through intake.h.
 * Owns: struct catchup (whether a round runs, the resolve fetches in
 * flight, the count of completed rounds); each round and fetch owns its
 * own allocation, freed when its last callback ends. The cursor and the
 * times of checks are kept in the store. Errors are logged; a failed round
 * or fetch is tried again later (next round, work timer).
 */
#ifndef CATCHUP_H
#define CATCHUP_H

#include "store.h"

struct daemon;

#define CATCHUP_RESOLVE_PARALLEL 4

struct catchup {
    int running;                   /* a round in flight (single-flight) */
    int again;                     /* asked for during it: another after */
    int resolving;                 /* resolve fetches in flight */
    char resolve_inflight[CATCHUP_RESOLVE_PARALLEL][STORE_KEY_LEN];
    unsigned long rounds;          /* catch-up / poll rounds completed */
    unsigned failures;             /* rounds failed in a row (0 after one completes) */
    int retry_pending;             /* a retry after a failed round is scheduled */
};

/* Start a round, or ask for another after the one running. Nothing while
 * draining. Out of memory: logged, no round (the timer asks again). */
void catchup_request(struct daemon *d);

/* Start resolve fetches (id-only notifications) up to the parallel limit
 * when any are pending and not already in flight. */
void catchup_resolve_next(struct daemon *d);

/* 1 while a round or a resolve fetch is in flight (drain waits for it). */
int catchup_busy(const struct daemon *d);

/* Rounds completed since start (/metrics nenfhir_catchups_total). */
unsigned long catchup_rounds(const struct daemon *d);

#endif
