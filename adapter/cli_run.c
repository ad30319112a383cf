/*
 * cli_run.c - the daemon's commands: `nenfhir run -c FILE [--debug]`,
 * `nenfhir check-config FILE` (I18: line-precise errors) and
 * `nenfhir dead-letter -c FILE [list | replay KEY | replay --all]` (I9: an
 * operator lists and replays what failed for good).
 */
#include "cli_files.h"
#include "daemon.h"
#include "daemon_run.h"
#include "store.h"

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
        rc = cli_load_map(t, c->map[i], err, sizeof err);
    nen_codes_free(t);
    if (rc != 0) {
        fprintf(stderr, "nenfhir: %s\n", t ? err : "out of memory");
        return -1;
    }
    return 0;
}

/* -c FILE from argv; NULL when absent. */
static const char *config_arg(int argc, char **argv, int *debug)
{
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "--debug") == 0 && debug)
            *debug = 1;
    }
    return path;
}

int cli_run(int argc, char **argv)
{
    int debug = 0;
    const char *path = config_arg(argc, argv, &debug);
    if (!path) {
        fprintf(stderr, "usage: nenfhir run -c FILE [--debug]\n");
        return 2;
    }
    struct run_config *c = calloc(1, sizeof *c);
    if (!c || load(path, c) != 0) {
        free(c);
        return 2;
    }
    if (debug)
        c->log_verbose = 1;
    int rc = daemon_run(c);
    free(c);
    return rc;
}

int cli_check_config(int argc, char **argv)
{
    const char *path = argc >= 1 ? argv[argc - 1] : NULL;
    if (!path || strcmp(path, "-c") == 0) {
        fprintf(stderr, "usage: nenfhir check-config FILE\n");
        return 2;
    }
    struct run_config *c = calloc(1, sizeof *c);
    if (!c || load(path, c) != 0) {
        free(c);
        return 1;
    }
    printf("%s: ok (mode %s, server %s%s%s)\n", path, run_mode_name(c->mode), c->server_base,
           c->mode == RUN_MODE_POLL ? "" : ", endpoint ", c->mode == RUN_MODE_POLL ? "" :
           c->endpoint);
    free(c);
    return 0;
}

static int print_dead(void *ctx, const struct store_job *j)
{
    (void)ctx;
    printf("%s\tattempts=%d\t%s\n", j->key, j->attempts, j->error);
    if (j->outcome[0])
        printf("\toutcome: %s\n", j->outcome);
    return 0;
}

int cli_dead_letter(int argc, char **argv)
{
    const char *path = config_arg(argc, argv, NULL);
    const char *verb = NULL, *key = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0) {
            i++;
            continue;
        }
        if (!verb)
            verb = argv[i];
        else if (!key)
            key = argv[i];
    }
    if (!verb)
        verb = "list";
    if (!path || (strcmp(verb, "list") != 0 && (strcmp(verb, "replay") != 0 || !key))) {
        fprintf(stderr, "usage: nenfhir dead-letter -c FILE [list | replay KEY | replay --all]\n");
        return 2;
    }
    struct run_config *c = calloc(1, sizeof *c);
    char err[1024];
    if (!c || run_config_load(path, c, err, sizeof err) != 0) {
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
    int rc;
    if (strcmp(verb, "list") == 0) {
        rc = store_dead_list(s, print_dead, NULL);
        if (rc >= 0)
            printf("dead letters: %d\n", rc);
    } else {
        rc = store_dead_replay(s, strcmp(key, "--all") == 0 ? NULL : key, daemon_now_ms());
        if (rc >= 0)
            printf("requeued: %d (a running daemon picks them up within a minute)\n", rc);
    }
    if (rc < 0)
        fprintf(stderr, "nenfhir: store: %s\n", store_error(s));
    store_close(s);
    return rc < 0 ? 1 : 0;
}
