/*
 * loop_curl.h - binds the FHIR client's curl multi handle to a libevent
 * event_base (the pattern of curl's docs/examples/hiperfifo.c): one event per
 * socket curl asks to watch, one timer for curl's timeout.
 * Owns: struct loop_curl (opaque): the timer and the per-socket events.
 */
#ifndef LOOP_CURL_H
#define LOOP_CURL_H

#include "fhir_client.h"

#include <event2/event.h>

struct loop_curl;

/* Attach client to base. Returns NULL when out of memory. The client and
 * base stay the caller's. Shutdown order: fhir_client_free (its sockets are
 * released through this binding), then loop_curl_free, then the base. */
struct loop_curl *loop_curl_attach(struct event_base *base, struct fhir_client *client);
void loop_curl_free(struct loop_curl *lc);

#endif
