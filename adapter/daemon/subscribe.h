/*
 * subscribe.h - nenfhir's Subscription on the server (interop.md I2): find
 * the Subscriptions carrying nenfhir's tag for this endpoint; create what
 * is missing, update what differs or is off/error, switch off ours that the
 * configuration no longer wants. R4 criteria style (one per input type) or
 * Backport IG style (one topic Subscription).
 * Owns: struct subscribe (whether the Subscription is in place); one
 * ensure at a time owns its own allocation (the wanted resources, the
 * search result), freed before done is called.
 */
#ifndef SUBSCRIBE_H
#define SUBSCRIBE_H

struct daemon;

struct subscribe {
    int in_place;                  /* the Subscription is in place (or poll mode) */
};

/* Make sure the Subscription exists and is active; calls done(d, ok) when
 * finished (ok 0: the server refused or failed, logged; the caller tries
 * again). On ok the Subscription counts as in place from then on. */
void subscribe_ensure(struct daemon *d, void (*done)(struct daemon *d, int ok));

/* Poll mode: no Subscription is needed; counts as in place. */
void subscribe_not_needed(struct daemon *d);

/* 1 once the Subscription is in place (or not needed): /healthz says "ok",
 * the catch-up timer runs rounds. */
int subscribe_in_place(const struct daemon *d);

#endif
