/*
 * cli_unsubscribe.h - `nenfhir unsubscribe -c FILE [--all-endpoints]
 * [--dry-run]` (issue 14): remove nenfhir's own Subscriptions from the
 * server, through the daemon's one public entry (daemon_run.h).
 */
#ifndef CLI_UNSUBSCRIBE_H
#define CLI_UNSUBSCRIBE_H

/* argv[0] is "unsubscribe". Returns the exit status: 0 done, 1 the server
 * refused or failed (its error on stderr), 2 a usage or config error. */
int cli_unsubscribe(int argc, char **argv);

#endif
