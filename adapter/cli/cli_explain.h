/*
 * cli_explain.h - `nenfhir explain`: classify one case given as key=value
 * words and print the summary lines and the rule trace.
 */
#ifndef CLI_EXPLAIN_H
#define CLI_EXPLAIN_H

#include <stdio.h>

/* argv holds key=value words (and --summary). Returns the exit code:
 * 0 classified (even indeterminate), 2 bad input (message on err). */
int cli_explain(int argc, char **argv, FILE *out, FILE *err);

#endif
