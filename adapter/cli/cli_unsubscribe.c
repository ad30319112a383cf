/*
 * cli_unsubscribe.c - `nenfhir unsubscribe -c FILE [--all-endpoints]
 * [--dry-run]` (issue 14): options read with getopt_long (an unknown
 * option, a missing value or a word too many is an error, exit 2), the
 * config loaded, then daemon_unsubscribe (daemon_run.h) does the work and
 * prints each Subscription removed and the count.
 */
#include "cli_unsubscribe.h"

#include "daemon_run.h" /* the daemon's one public entry (no other daemon header) */
#include "run_config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static const char cli_unsub_usage[] =
    "usage: nenfhir unsubscribe -c FILE [--all-endpoints] [--dry-run]\n"
    "  removes nenfhir's Subscriptions (those carrying its tag) whose endpoint is\n"
    "  FILE's subscription.endpoint; --all-endpoints: every one carrying its tag;\n"
    "  --dry-run: list them, remove nothing";

int cli_unsubscribe(int argc, char **argv)
{
    static const struct option longs[] = {{"config", required_argument, NULL, 'c'},
                                          {"all-endpoints", no_argument, NULL, 'a'},
                                          {"dry-run", no_argument, NULL, 'n'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *config = NULL;
    int all = 0, dry = 0, ch;
    optind = 0; /* glibc: start afresh */
    opterr = 0; /* our messages, not getopt's */
    while ((ch = getopt_long(argc, argv, ":c:h", longs, NULL)) != -1) {
        if (ch == 'c') {
            config = optarg;
        } else if (ch == 'a') {
            all = 1;
        } else if (ch == 'n') {
            dry = 1;
        } else if (ch == 'h') {
            printf("%s\n", cli_unsub_usage);
            return 0;
        } else {
            const char *word = optopt ? NULL : argv[optind - 1];
            if (word)
                fprintf(stderr, "nenfhir: %s '%s'\n%s\n",
                        ch == ':' ? "option needs a value:" : "unknown option", word,
                        cli_unsub_usage);
            else
                fprintf(stderr, "nenfhir: %s '-%c'\n%s\n",
                        ch == ':' ? "option needs a value:" : "unknown option", optopt,
                        cli_unsub_usage);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "nenfhir: unexpected argument '%s'\n%s\n", argv[optind], cli_unsub_usage);
        return 2;
    }
    if (!config) {
        fprintf(stderr, "nenfhir: unsubscribe needs -c FILE\n%s\n", cli_unsub_usage);
        return 2;
    }
    struct run_config *c = calloc(1, sizeof *c);
    char err[1024];
    if (!c || run_config_load(config, c, err, sizeof err) != 0) {
        fprintf(stderr, "nenfhir: %s\n", c ? err : "out of memory");
        free(c);
        return 2;
    }
    int rc = daemon_unsubscribe(c, all, dry, stdout, stderr);
    free(c);
    if (fflush(stdout) != 0 && rc == 0)
        rc = 1;
    return rc;
}
