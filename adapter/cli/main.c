/*
 * main.c - the nenfhir command: dispatches to its subcommands. Today:
 * `explain` (classify one case from key=value inputs), `classify` (the
 * offline mode: FHIR resources of one case in, the report out), `run` (the
 * daemon), `check-config`, `dead-letter`, `case`, `reprocess`, `prune`,
 * `unsubscribe` (issue 14) and `version`.
 */
#include "cli_case.h"
#include "cli_classify.h"
#include "cli_explain.h"
#include "cli_run.h"
#include "cli_unsubscribe.h"

#include <stdio.h>
#include <string.h>

#ifndef NENFHIR_VERSION
#define NENFHIR_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: nenfhir explain [--summary] key=value...   classify one case\n"
               "       nenfhir classify [--summary] [--xml] [--map FILE]... FILE...\n"
               "                          FHIR resources of one case -> report Bundle\n"
               "       nenfhir run -c FILE [--debug]     the daemon (README \"Configuration\")\n"
               "       nenfhir check-config FILE         check a configuration file\n"
               "       nenfhir dead-letter -c FILE [list | replay KEY | replay --all |\n"
               "                               purge KEY... | purge --all]\n"
               "       nenfhir case show ACCESSION|Patient/ID -c FILE [--json]\n"
               "       nenfhir case list -c FILE [--status dead|pending|held|done]\n"
               "                         [--since DATE] [--json]\n"
               "       nenfhir reprocess -c FILE ACCESSION...|--since DATE|--all\n"
               "       nenfhir prune -c FILE             apply the [store] keep_* ages now\n"
               "       nenfhir unsubscribe -c FILE [--all-endpoints] [--dry-run]\n"
               "                          remove nenfhir's Subscriptions from the server\n"
               "       nenfhir version\n"
               "Inputs and results: tests/vectors/README.md; rules: mappings/RULES.md\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "explain") == 0)
        return cli_explain(argc - 2, argv + 2, stdout, stderr);
    if (strcmp(argv[1], "classify") == 0)
        return cli_classify(argc - 2, argv + 2, stdout, stderr);
    if (strcmp(argv[1], "run") == 0)
        return cli_run(argc - 1, argv + 1);
    if (strcmp(argv[1], "check-config") == 0)
        return cli_check_config(argc - 1, argv + 1);
    if (strcmp(argv[1], "dead-letter") == 0)
        return cli_dead_letter(argc - 1, argv + 1);
    if (strcmp(argv[1], "case") == 0)
        return cli_case(argc - 1, argv + 1);
    if (strcmp(argv[1], "reprocess") == 0)
        return cli_reprocess(argc - 1, argv + 1);
    if (strcmp(argv[1], "prune") == 0)
        return cli_prune(argc - 1, argv + 1);
    if (strcmp(argv[1], "unsubscribe") == 0)
        return cli_unsubscribe(argc - 1, argv + 1);
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("nenfhir %s\n", NENFHIR_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "nenfhir: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
