/*
 * cli_classify.h - `nenfhir classify [--summary] [--xml] [--map FILE]... FILE...`:
 * the offline mode (interop.md I18). Reads the resources of one case (Bundles
 * or single resources, JSON or XML), classifies it and prints the transaction
 * Bundle nenfhir would send, or with --summary the summary lines.
 */
#ifndef CLI_CLASSIFY_H
#define CLI_CLASSIFY_H

#include <stdio.h>

/* Exit status: 0 classified (even when indeterminate), 2 unreadable input or
 * bad arguments (message on err). */
int cli_classify(int argc, char **argv, FILE *out, FILE *err);

#endif
