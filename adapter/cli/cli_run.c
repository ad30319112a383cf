/*
 * cli_run.c - the daemon's commands: `nenfhir run -c FILE [--debug]`,
 * `nenfhir check-config FILE` (I18: line-precise errors) and
 * `nenfhir dead-letter -c FILE [list | replay KEY | replay --all]` (I9: an
 * operator lists and replays what failed for good). Options are read with
 * getopt_long: an unknown option, a missing value or a word too many is an
 * error (exit 2), never ignored.
 */
#include "cli_run.h"

#include "adapter_files.h"
#include "adapter_log.h"
#include "cli_check.h"
#include "daemon_run.h" /* the daemon's one public entry (no other daemon header) */
#include "nen_codes.h"
#include "run_config.h"
#include "nen_codes.h"
#include "store.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load(const char *path, struct run_config *c)
{
    char err[1024];
    if (run_config_load(path, c, err, sizeof err) != 0) {
        fprintf(stderr, "nenfhir: %s\n", err);
        return -1;
    }
    struct nen_codes *t = nen_codes_new();
    int rc = t ? nen_codes_load_default(t, err, sizeof err) : -1;
    for (int i = 0; rc == 0 && i < c->nmap; i++)
        rc = adapter_load_map(t, c->map[i], err, sizeof err);
    nen_codes_free(t);
    if (rc != 0) {
        fprintf(stderr, "nenfhir: %s\n", t ? err : "out of memory");
        return -1;
    }
    return 0;
}

/* What a command's options said. */
struct cli_opts {
    const char *config; /* -c / --config FILE */
    int debug;          /* --debug (run) */
    int all;            /* --all (dead-letter replay) */
    int connect;        /* --connect (check-config) */
    char **pos;         /* the words that are not options */
    int npos;
};

enum { CLI_OPT_DEBUG = 1u, CLI_OPT_ALL = 2u, CLI_OPT_CONNECT = 4u };
enum { CLI_OK = 0, CLI_HELP = 1, CLI_BAD = 2 };

static const char *const cli_usages[] = {
    "usage: nenfhir run -c FILE [--debug]",
    "usage: nenfhir check-config FILE [--connect]   (or -c FILE)",
    ("usage: nenfhir dead-letter -c FILE [list | replay KEY | replay --all | purge KEY... |"
     " purge --all]")};
enum { CLI_USAGE_RUN, CLI_USAGE_CHECK, CLI_USAGE_DEAD };

static int cli_bad(int usage, const char *what, const char *arg)
{
    fprintf(stderr, "nenfhir: %s '%s'\n%s\n", what, arg, cli_usages[usage]);
    return CLI_BAD;
}

/* The offending word of getopt's last '?' or ':'. */
static const char *cli_opt_word(char **argv, char *shortbuf)
{
    if (optopt) {
        shortbuf[0] = '-';
        shortbuf[1] = (char)optopt;
        shortbuf[2] = '\0';
        return shortbuf;
    }
    return argv[optind - 1];
}

/* argv[0] is the command's name. Options allowed: -c/--config, -h/--help,
 * and those in `allowed`. Returns CLI_OK, CLI_HELP (usage printed) or
 * CLI_BAD (message printed). */
static int cli_options(int argc, char **argv, unsigned allowed, int usage, struct cli_opts *o)
{
    static const struct option longs[] = {{"config", required_argument, NULL, 'c'},
                                          {"debug", no_argument, NULL, 'd'},
                                          {"all", no_argument, NULL, 'a'},
                                          {"connect", no_argument, NULL, 'C'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    char sb[3];
    int ch;
    memset(o, 0, sizeof *o);
    optind = 0; /* glibc: start afresh (tests call this more than once) */
    opterr = 0; /* our messages, not getopt's */
    while ((ch = getopt_long(argc, argv, ":c:h", longs, NULL)) != -1) {
        if (ch == 'c')
            o->config = optarg;
        else if (ch == 'd' && (allowed & CLI_OPT_DEBUG))
            o->debug = 1;
        else if (ch == 'a' && (allowed & CLI_OPT_ALL))
            o->all = 1;
        else if (ch == 'C' && (allowed & CLI_OPT_CONNECT))
            o->connect = 1;
        else if (ch == 'h') {
            printf("%s\n", cli_usages[usage]);
            return CLI_HELP;
        } else if (ch == ':')
            return cli_bad(usage, "option needs a value:", cli_opt_word(argv, sb));
        else
            return cli_bad(usage, "unknown option",
                           ch == '?' ? cli_opt_word(argv, sb) : argv[optind - 1]);
    }
    o->pos = argv + optind;
    o->npos = argc - optind;
    return CLI_OK;
}

int cli_run(int argc, char **argv)
{
    struct cli_opts o;
    int rc = cli_options(argc, argv, CLI_OPT_DEBUG, CLI_USAGE_RUN, &o);
    if (rc != CLI_OK)
        return rc == CLI_HELP ? 0 : 2;
    if (o.npos > 0)
        return cli_bad(CLI_USAGE_RUN, "unexpected argument", o.pos[0]);
    if (!o.config) {
        fprintf(stderr, "nenfhir: run needs -c FILE\n%s\n", cli_usages[CLI_USAGE_RUN]);
        return 2;
    }
    struct run_config *c = calloc(1, sizeof *c);
    if (!c || load(o.config, c) != 0) {
        free(c);
        return 2;
    }
    if (o.debug)
        c->log_verbose = 1;
    rc = daemon_run(c);
    free(c);
    return rc;
}

int cli_check_config(int argc, char **argv)
{
    struct cli_opts o;
    int rc = cli_options(argc, argv, CLI_OPT_CONNECT, CLI_USAGE_CHECK, &o);
    if (rc != CLI_OK)
        return rc == CLI_HELP ? 0 : 2;
    if (o.npos > (o.config ? 0 : 1))
        return cli_bad(CLI_USAGE_CHECK, "unexpected argument", o.pos[o.config ? 0 : 1]);
    const char *path = o.config ? o.config : o.npos ? o.pos[0] : NULL;
    if (!path) {
        fprintf(stderr, "%s\n", cli_usages[CLI_USAGE_CHECK]);
        return 2;
    }
    return cli_check_config_file(path, o.connect); /* issue 14 item 7 */
}

static int print_dead(void *ctx, const struct store_job *j)
{
    (void)ctx;
    printf("%s\tattempts=%d\t%s\n", j->key, j->attempts, j->error);
    if (j->outcome[0])
        printf("\toutcome: %s\n", j->outcome);
    return 0;
}

/* The dead-letter words: [list] | replay KEY | replay --all | purge KEY...
 * | purge --all (issue 14). Returns 0 with *verb and *key (NULL for --all)
 * set, or 2 (message printed). */
static int dead_words(const struct cli_opts *o, const char **verb, const char **key)
{
    *verb = o->npos ? o->pos[0] : "list";
    *key = o->npos > 1 ? o->pos[1] : NULL;
    int purge = strcmp(*verb, "purge") == 0;
    int max = purge && !o->all ? o->npos : strcmp(*verb, "replay") == 0 && !o->all ? 2 : 1;
    if (strcmp(*verb, "list") != 0 && strcmp(*verb, "replay") != 0 && !purge)
        return cli_bad(CLI_USAGE_DEAD, "unknown action", *verb);
    if (o->npos > max)
        return cli_bad(CLI_USAGE_DEAD, "unexpected argument", o->pos[max]);
    if (o->all && strcmp(*verb, "list") == 0)
        return cli_bad(CLI_USAGE_DEAD, "--all goes with replay or purge, not", *verb);
    if (strcmp(*verb, "list") != 0 && !o->all && !*key) {
        fprintf(stderr, "nenfhir: %s needs KEY or --all\n%s\n", *verb,
                cli_usages[CLI_USAGE_DEAD]);
        return 2;
    }
    return 0;
}

/* issue 14: delete the dead letters named in words 1.. (or all). Returns the
 * count deleted or -1. */
static int dead_purge(struct store *s, const struct cli_opts *o)
{
    if (o->all)
        return store_dead_purge(s, NULL);
    int total = 0;
    if (store_begin(s) != 0)
        return -1;
    for (int i = 1; i < o->npos; i++) {
        int n = store_dead_purge(s, o->pos[i]);
        if (n < 0) {
            store_rollback(s);
            return -1;
        }
        if (n == 0)
            fprintf(stderr, "nenfhir: no dead letter '%s'\n", o->pos[i]);
        total += n;
    }
    return store_commit(s) == 0 ? total : -1;
}

int cli_dead_letter(int argc, char **argv)
{
    struct cli_opts o;
    const char *verb, *key;
    int rc = cli_options(argc, argv, CLI_OPT_ALL, CLI_USAGE_DEAD, &o);
    if (rc != CLI_OK)
        return rc == CLI_HELP ? 0 : 2;
    if (dead_words(&o, &verb, &key) != 0)
        return 2;
    if (!o.config) {
        fprintf(stderr, "nenfhir: dead-letter needs -c FILE\n%s\n", cli_usages[CLI_USAGE_DEAD]);
        return 2;
    }
    struct run_config *c = calloc(1, sizeof *c);
    char err[1024];
    if (!c || run_config_load(o.config, c, err, sizeof err) != 0) {
        fprintf(stderr, "nenfhir: %s\n", c ? err : "out of memory");
        free(c);
        return 2;
    }
    struct store *s = store_open(c->store_path, err, sizeof err);
    free(c);
    if (!s) {
        fprintf(stderr, "nenfhir: %s\n", err);
        return 1;
    }
    if (strcmp(verb, "list") == 0) {
        rc = store_dead_list(s, print_dead, NULL);
        if (rc >= 0)
            printf("dead letters: %d\n", rc);
    } else if (strcmp(verb, "purge") == 0) {
        rc = dead_purge(s, &o);
        if (rc >= 0)
            printf("purged: %d\n", rc);
    } else {
        rc = store_dead_replay(s, key, adapter_now_ms());
        if (rc >= 0)
            printf("requeued: %d (a running daemon picks them up within seconds)\n", rc);
    }
    if (rc < 0)
        fprintf(stderr, "nenfhir: store: %s\n", store_error(s));
    store_close(s);
    return rc < 0 ? 1 : 0;
}
