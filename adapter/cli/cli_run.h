/*
 * cli_run.h - the daemon's commands: `nenfhir run -c FILE [--debug]`,
 * `nenfhir check-config FILE` (I18) and `nenfhir dead-letter -c FILE
 * [list | replay KEY | replay --all]` (I9). `run` hands over to the daemon
 * through its one public entry, daemon_run (adapter/daemon/include/
 * daemon_run.h): the cli includes no other daemon header. No state.
 */
#ifndef CLI_RUN_H
#define CLI_RUN_H

/* argv[0] is the command's name ("run" ...), its options and words follow
 * (read with getopt_long: an unknown option is an error, exit 2). Return
 * the exit status; messages go to stderr, usage (--help) to stdout. */
int cli_run(int argc, char **argv);
int cli_check_config(int argc, char **argv);
int cli_dead_letter(int argc, char **argv);

#endif
