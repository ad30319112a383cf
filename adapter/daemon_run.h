/*
 * daemon_run.h - entry points of the daemon for main.c / cli_run.c.
 */
#ifndef DAEMON_RUN_H
#define DAEMON_RUN_H

#include "nen_codes.h"
#include "run_config.h"

#include <stddef.h>

#ifndef NENFHIR_VERSION_STR
#define NENFHIR_VERSION_STR "0.1.0"
#endif

/* Run until SIGTERM/SIGINT; returns the exit status. */
int daemon_run(struct run_config *c);

/* `nenfhir run|check-config|dead-letter`: argv[0] is the command's name
 * ("run" ...), its options and words follow (read with getopt_long: an
 * unknown option is an error, exit 2). Return the exit status. */
int cli_run(int argc, char **argv);
int cli_check_config(int argc, char **argv);
int cli_dead_letter(int argc, char **argv);

#endif
