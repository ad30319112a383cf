/*
 * cli_case.h - the case browser and the store's upkeep from the command
 * line (issue 14 items 5 and 9): `nenfhir case show KEY`, `nenfhir case
 * list`, `nenfhir reprocess` and `nenfhir prune`, each with -c FILE. They
 * open the same SQLite store as a running daemon (WAL: readers and a short
 * writer do not disturb it) and take no instance lock; the daemon notices a
 * requeue within a second (it watches PRAGMA data_version). No state.
 */
#ifndef CLI_CASE_H
#define CLI_CASE_H

/* argv[0] is the command's name ("case", "reprocess", "prune"), its
 * options and words follow (getopt_long: an unknown option is an error,
 * exit 2). Return the exit status: 0 done, 1 not found or store error, 2
 * usage; messages go to stderr, results and usage (--help) to stdout. */
int cli_case(int argc, char **argv);
int cli_reprocess(int argc, char **argv);
int cli_prune(int argc, char **argv);

#endif
