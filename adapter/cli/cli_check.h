/*
 * cli_check.h - `nenfhir check-config FILE [--connect]` (issue 14 item 7):
 * the syntax (run_config.h), the offline checks (config_check.h) each on a
 * line of its own, and with --connect a visit to the server.
 */
#ifndef CLI_CHECK_H
#define CLI_CHECK_H

/* Check the config at path; connect: also reach the server. Prints one line
 * per finding. Returns the exit status: 0 usable (warnings allowed), 1 not. */
int cli_check_config_file(const char *path, int connect);

#endif
