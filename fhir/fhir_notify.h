/*
 * fhir_notify.h - one rest-hook request on a subscriber's endpoint -> what it
 * tells (interop.md I1). FHIR mechanics only (fhir/ knows nothing of NENs:
 * which resources matter, and skipping the subscriber's own writes, is the
 * caller's business). Pure: no I/O, no database. Understands
 *   - empty payload: bodiless POST {endpoint} (R4 spec, HAPI)      -> PING
 *   - HAPI with payload: PUT {endpoint}/{Type}/{id} with the resource -> CHANGED;
 *     DELETE {endpoint}/{Type}/{id}                                  -> DELETED
 *   - Medplum: POST {endpoint} with the resource as body             -> CHANGED;
 *     body {} with X-Medplum-Deleted-Resource: Type/id               -> DELETED
 *   - Subscriptions Backport IG: POST {endpoint} with a history Bundle whose
 *     first entry is Parameters (SubscriptionStatus): handshake, heartbeat,
 *     query-status -> one event of that kind; event-notification -> one
 *     CHANGED/DELETED per notification event (full-resource: with the
 *     resource; id-only: reference only) or one PING (empty payload).
 * in JSON (application/fhir+json, application/json) or XML
 * (application/fhir+xml), within the limits given (I17).
 * Also the secret checks of I1: a shared header secret and Medplum's
 * X-Signature (hex HMAC-SHA256 of the body).
 */
#ifndef FHIR_NOTIFY_H
#define FHIR_NOTIFY_H

#include "fhir_error.h"

#include <json-c/json.h>
#include <stddef.h>

enum fhir_notify_kind {
    FHIR_NOTIFY_PING = 0,     /* something changed, no detail: query since the cursor (I4) */
    FHIR_NOTIFY_CHANGED,      /* type/id changed; resource set when the payload had it */
    FHIR_NOTIFY_DELETED,      /* type/id deleted */
    FHIR_NOTIFY_HANDSHAKE,    /* backport: answer 200 */
    FHIR_NOTIFY_HEARTBEAT,    /* backport */
    FHIR_NOTIFY_QUERY_STATUS  /* backport */
};

struct fhir_notify_event {
    enum fhir_notify_kind kind;
    char type[40];          /* CHANGED/DELETED: resourceType */
    char id[80];            /*                  logical id */
    char version[40];       /* meta.versionId when known, else "" */
    char last_updated[40];  /* meta.lastUpdated when known, else "" */
    json_object *resource;  /* CHANGED with full resource: borrowed from the batch's root */
};

struct fhir_notify_batch {
    json_object *root;           /* the parsed body (NULL when bodiless); owned */
    int nevent;
    struct fhir_notify_event *ev;     /* owned array of nevent */
    /* Backport only ("" / -1 otherwise): */
    char subscription[160];      /* SubscriptionStatus.subscription reference, "Subscription/x" */
    char status_type[24];        /* handshake | heartbeat | event-notification | query-status */
    long long events_since_start;/* events-since-subscription-start, -1 absent */
    long long first_event;       /* lowest notification-event.event-number, -1 none */
    int nevents_numbered;        /* how many notification-events carried an event-number */
};

/* The request as the listener received it. Header values may be NULL. */
struct fhir_notify_request {
    const char *method;          /* "POST", "PUT", "DELETE" */
    const char *subpath;         /* path after the endpoint path: "" or "/Observation/123" */
    const char *content_type;    /* Content-Type header */
    const char *deleted;         /* X-Medplum-Deleted-Resource header */
    const char *body;            /* may be NULL when len == 0; need not be NUL-terminated */
    size_t len;
};

/* Parse rq into out (zeroed first). Returns 0, or -1 with err saying what is
 * wrong and where (e.g. "Bundle.entry[0].resource: not a SubscriptionStatus
 * Parameters", "PUT /Observation: want /{Type}/{id}"). On -1 out holds
 * nothing to free. */
int fhir_notify_parse(const struct fhir_notify_request *rq, const struct fhir_limits *lim,
                      struct fhir_notify_batch *out, struct fhir_error *err);

/* Release what fhir_notify_parse allocated; safe on a zeroed batch. */
void fhir_notify_batch_free(struct fhir_notify_batch *b);

/* 1 if got equals want, compared in constant time; 0 otherwise (also NULL). */
int fhir_notify_secret_ok(const char *want, const char *got);

/* 1 if hex_sig (case-insensitive hex) is HMAC-SHA256(secret, body); else 0. */
int fhir_notify_hmac_ok(const char *secret, const char *body, size_t len, const char *hex_sig);

/* Name of a kind, for logs: "ping", "changed", ... */
const char *fhir_notify_kind_name(enum fhir_notify_kind k);

#endif
