/*
 * daemon_run.h - the one public entry of the daemon (adapter/daemon/): the
 * only daemon header the command line (adapter/cli/, `nenfhir run`) may
 * include; the build gives the cli this include/ directory and no other
 * of the daemon's. Everything else of the daemon is private to it.
 */
#ifndef DAEMON_RUN_H
#define DAEMON_RUN_H

#include "run_config.h"

#ifndef NENFHIR_VERSION_STR
#define NENFHIR_VERSION_STR "0.1.0"
#endif

/* Run the daemon for the loaded configuration c (borrowed; it must outlive
 * the call) until SIGTERM/SIGINT. Sets adapter_log_verbose from
 * c->log_verbose. Returns the exit status: 0 after a clean stop, 1 when it
 * could not start (store, code tables, FHIR client, event loop or listener;
 * the reason is logged). */
int daemon_run(struct run_config *c);

#endif
