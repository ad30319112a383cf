/*
 * subscribe.h - nenfhir's Subscription on the server (interop.md I2): find
 * the Subscriptions carrying nenfhir's tag for this endpoint; create what
 * is missing, update what differs or is off/error, switch off ours that the
 * configuration no longer wants. R4 criteria style (one per input type) or
 * Backport IG style (one topic Subscription). Issue 14: ours for another
 * endpoint are reported at start (deleted with subscription.cleanup = yes);
 * subscribe_remove deletes ours (`nenfhir unsubscribe`).
 * Owns: struct subscribe (whether the Subscription is in place); one
 * ensure (or removal) at a time owns its own allocation (the wanted
 * resources, the search result), freed before done is called.
 */
#ifndef SUBSCRIBE_H
#define SUBSCRIBE_H

#include <stddef.h>
#include <stdio.h>

struct daemon;
struct nen_codes;

/* Longest criteria string asked for. HAPI FHIR and Medplum keep the
 * Subscription as a resource (no column limit found for criteria), but a
 * criteria is a search URL and servers and proxies limit those (8 KiB is a
 * common request-line limit); longer lists are split. */
#define SUBSCRIBE_CRITERIA_MAX 4000

struct subscribe {
    int in_place;                  /* the Subscription is in place (or poll mode) */
    int tag_not;                   /* the server evaluates _tag:not (its software, read at
                                      the last subscribe_ensure; 0 in poll mode) */
};

/* Criteria "Type?code=SYS|C1,SYS|C2,...[&_tag:not=NEN_TAG_SYSTEM|NEN_TAG_CODE]"
 * for type from the input lines of t (values 1: the condition lines), codes
 * grouped per code system in table order, each repeat once. Each string is
 * at most max characters; as many as needed, at most nmax, go to out (the
 * caller frees each). No codes (or t NULL): "Type?" (plus the tag
 * exclusion): every change. Returns the count, 0 when nmax strings of max
 * characters cannot hold the codes (nothing in out), -1 out of memory. */
int subscribe_criteria(const struct nen_codes *t, const char *type, int values, int tag_not,
                       size_t max, char **out, int nmax);

/* 1 if the server software named by a CapabilityStatement (software.name)
 * evaluates `_tag:not` in subscription criteria: HAPI FHIR / Smile CDR
 * (InMemoryResourceMatcher.matchTagOrSecurity: :not on _tag, an untagged
 * resource matches) and Medplum (@medplum/core matchesSearchRequest:
 * negated token filters). Unknown software: 0 (criteria without it; the
 * daemon still skips its own tagged writes, I5). */
int subscribe_tag_not_supported(const char *software);

/* Make sure the Subscription exists and is active; calls done(d, ok) when
 * finished (ok 0: the server refused or failed, logged; the caller tries
 * again). On ok the Subscription counts as in place from then on.
 * Ours (tagged) whose channel.endpoint is not d->cfg->endpoint are logged
 * (warn: id, endpoint, status) and, with d->cfg->subscription_cleanup,
 * deleted (a 404/410 counts as deleted). */
void subscribe_ensure(struct daemon *d, void (*done)(struct daemon *d, int ok));

/* What subscribe_remove removes and where it writes (issue 14). */
struct subscribe_remove_opts {
    int all_endpoints;   /* every Subscription carrying nenfhir's tag, not only
                            those whose channel.endpoint is d->cfg->endpoint */
    int dry_run;         /* list them, delete nothing */
    FILE *out;           /* one line each: "removed" (or "would remove", "already
                            gone"), Subscription/ID, status, endpoint, criteria,
                            tab-separated; then "removed: N" ("would remove: N") */
    FILE *err;           /* why it failed (the server's status and text) */
};

/* `nenfhir unsubscribe`: search the Subscriptions carrying nenfhir's tag
 * (every page), keep ours (o), DELETE them one by one (none with dry_run).
 * Uses d->client and d->cfg only. Calls done(d, ok) once at the end (ok 0:
 * a request failed, written to o->err; those removed before it are
 * printed). o is copied. */
void subscribe_remove(struct daemon *d, const struct subscribe_remove_opts *o,
                      void (*done)(struct daemon *d, int ok));

/* Poll mode: no Subscription is needed; counts as in place. */
void subscribe_not_needed(struct daemon *d);

/* 1 once the Subscription is in place (or not needed): /healthz says "ok",
 * the catch-up timer runs rounds. */
int subscribe_in_place(const struct daemon *d);

/* 1 if searches may carry _tag:not=nenfhir's own tag (subscribe_tag_not_supported
 * said so for the server's software at the last subscribe_ensure): catch-up
 * queries use it to skip nenfhir's own result Observations. */
int subscribe_tag_not(const struct daemon *d);

#endif
