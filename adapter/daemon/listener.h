/*
 * listener.h - the HTTPS rest-hook endpoint (interop.md I1, I15, I17) on
 * libevent's evhttp with OpenSSL bufferevents: TLS 1.2+, optional required
 * client certificates, bounded bodies, and (listener_guard.h, issue 12 item
 * 7) caps on connections, an overall deadline per request, a bound on the
 * bytes all requests hold, ambiguous framing refused (400) and a bound on
 * a notification's Bundle entries (413, a catch-up asked). Routes:
 *   {path}, {path}/{Type}/{id}   notifications (POST, PUT, DELETE)
 *   /healthz                     200 "ok"; 503 + JSON naming each failing check
 *                                (store writable, Subscription in place, server
 *                                answered within listen.health_max_silence)
 *   /readyz                      200 once started, 503 before and while draining
 *   /metrics                     Prometheus text (metrics.h)
 *   /status, /status/case/ACC    HTML status page (status_page.h)
 * A notification is checked (secret or HMAC), parsed (fhir_notify.h),
 * stored (intake_batch) and only then answered 200; otherwise an
 * OperationOutcome with 400 (unreadable, ambiguous framing), 401/403
 * (secret), 413 (too many entries) or 503 (store failed). /metrics reads
 * the other modules' counters through their functions (pipeline_stats,
 * catchup_rounds) and the store's queue counts.
 * Owns: struct listener (opaque): the evhttp server, the SSL_CTX, the
 * metrics (struct metrics: notifications, FHIR requests through the
 * client's observer, TLS failures, latency), the store write check and the
 * connection guard (listener_guard.h).
 */
#ifndef LISTENER_H
#define LISTENER_H

#include <stddef.h>

struct daemon;
struct listener;

/* Start listening for d (cfg listen.*) on d's event base. Returns the
 * listener, which the caller frees with listener_free, or NULL with err
 * set (TLS files unreadable, address not bindable, out of memory). */
struct listener *listener_start(struct daemon *d, char *err, size_t errlen);
/* The port actually bound (useful with port 0). */
int listener_port(const struct listener *l);
/* Stop listening and free l; NULL is a no-op. */
void listener_free(struct listener *l);

#endif
