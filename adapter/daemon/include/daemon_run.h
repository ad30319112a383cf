/*
 * daemon_run.h - the one public entry of the daemon (adapter/daemon/): the
 * only daemon header the command line (adapter/cli/: `nenfhir run`,
 * `nenfhir unsubscribe`) may include; the build gives the cli this include/
 * directory and no other of the daemon's. Everything else of the daemon is
 * private to it.
 */
#ifndef DAEMON_RUN_H
#define DAEMON_RUN_H

#include "run_config.h"

#include <stdio.h>

#ifndef NENFHIR_VERSION_STR
#define NENFHIR_VERSION_STR "0.1.0"
#endif

/* Run the daemon for the loaded configuration c (borrowed; it must outlive
 * the call) until SIGTERM/SIGINT. Sets adapter_log_verbose from
 * c->log_verbose. Returns the exit status: 0 after a clean stop, 1 when it
 * could not start (store, code tables, FHIR client, event loop or listener;
 * the reason is logged). */
int daemon_run(struct run_config *c);

/* `nenfhir unsubscribe` (issue 14): remove nenfhir's own Subscriptions from
 * the server of c (borrowed): those carrying its tag whose channel.endpoint
 * is c's subscription.endpoint, or with all_endpoints every one carrying
 * its tag; dry_run lists them and removes nothing. Runs the event loop with
 * the FHIR client until done; no store, no listener. Writes one line per
 * Subscription and the count to out, errors (the server's status and text)
 * to err. Returns the exit status: 0 done, 1 a request failed or the client
 * could not be made, 2 the config names no endpoint (poll mode) and
 * all_endpoints is not set. */
int daemon_unsubscribe(struct run_config *c, int all_endpoints, int dry_run, FILE *out,
                       FILE *err);

#endif
