/*
 * listener.h - the HTTPS rest-hook endpoint (interop.md I1, I15, I17) on
 * libevent's evhttp with OpenSSL bufferevents: TLS 1.2+, optional required
 * client certificates, bounded bodies. Routes:
 *   {path}, {path}/{Type}/{id}   notifications (POST, PUT, DELETE)
 *   /healthz                     200 "ok"
 *   /metrics                     Prometheus text
 * A notification is checked (secret or HMAC), parsed (notify.h), stored
 * (intake_batch) and only then answered 200; otherwise an OperationOutcome
 * with 400 (unreadable), 401/403 (secret) or 503 (store failed).
 */
#ifndef LISTENER_H
#define LISTENER_H

#include "daemon.h"

#include <stddef.h>

/* Start listening for d (cfg listen.*). Returns NULL with err set. */
struct listener *listener_start(struct daemon *d, char *err, size_t errlen);
/* The port actually bound (useful with port 0). */
int listener_port(const struct listener *l);
void listener_free(struct listener *l);

#endif
