/*
 * test_adapter_guards.c - the daemon's guards against input it must not
 * trust (issue 12): a case key is a Patient reference with a FHIR id, so
 * "Patient/1,Patient/2" is no key and never becomes an OR-search
 * (intake_patient_key); a server's Retry-After, however large, never parks
 * a case beyond work.retry_after_max and never overflows
 * (pipeline_retry_delay_ms); and the daemon's commands refuse unknown
 * options and stray words instead of ignoring them (cli/cli_run.c,
 * getopt_long); a store that cannot record a write (disk full) pauses
 * case work with growing backoff instead of rerunning the case at once
 * (issue 11 7b: pipeline_store_failed, pipeline_run_due).
 * argv[1]: a scratch directory (default: a fresh mkdtemp under /tmp).
 */
#include "test_util.h"

#include "cli_run.h"
#include "daemon.h"
#include "adapter_log.h"
#include "fhir_client.h"
#include "intake.h"
#include "pipeline.h"
#include "run_config.h"
#include "store.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char scratch[256];
static int scratch_made;

/* ---- case keys ---- */

static void check_key(const char *ref, const char *want)
{
    char key[STORE_KEY_LEN] = "";
    int rc = intake_patient_key(ref, key, sizeof key);
    if (want) {
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_STRING_EQUAL(key, want);
    } else {
        if (rc == 0)
            fprintf(stderr, "\n  %s gave the key %s\n", ref ? ref : "(null)", key);
        CU_ASSERT_EQUAL(rc, -1);
    }
}

static void test_case_keys(void)
{
    check_key("Patient/123", "Patient/123");
    check_key("Patient/a-b.c", "Patient/a-b.c");
    check_key("https://fhir.example/r4/Patient/abc", "Patient/abc");
    check_key("Patient/abc/_history/3", "Patient/abc");
    check_key("Patient/1,Patient/2", NULL); /* was the key "Patient/1,Patient": an OR-search */
    check_key("Patient/1,2", NULL);
    check_key("Patient/1|x", NULL);
    check_key("Patient/a b", NULL);
    check_key("Patient/a%2Cb", NULL);
    check_key("Patient/1/Observation/2", NULL);
    check_key("Patient/", NULL);
    check_key("Patient?identifier=x", NULL);
    check_key("Group/1", NULL);
    check_key("MyPatient/1", NULL);
    check_key("Patient/0123456789012345678901234567890123456789012345678901234567890123x", NULL);
    check_key(NULL, NULL);
}

/* ---- Retry-After and the delay before a retry ---- */

/* After a store failure no job starts until the pause is over, though one
 * is due; each failure in a row doubles the pause (up to backoff_max). */
static void test_store_pause(void)
{
    struct run_config c;
    run_config_defaults(&c);
    c.work_backoff_ms = 1000;
    c.work_backoff_max_ms = 8000;
    char path[400], err[256];
    snprintf(path, sizeof path, "%s/pause.db", scratch);
    struct daemon d;
    memset(&d, 0, sizeof d);
    d.cfg = &c;
    d.store = store_open(path, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d.store);
    d.pipeline.device_ok = 1;
    int64_t now = adapter_now_ms();
    CU_ASSERT_EQUAL(store_job_touch(d.store, "Patient/p1", now - 10000, 0), 0);
    int64_t prev = 0;
    for (int k = 1; k <= 5; k++) {
        int64_t before = adapter_now_ms();
        pipeline_store_failed(&d);
        int64_t pause = d.pipeline.pause_until_ms - before;
        int64_t want = 1000;
        for (int i = 1; i < k && want < 8000; i++)
            want *= 2;
        CU_ASSERT(pause >= want * 3 / 4 - 5 && pause <= want * 5 / 4 + 5);
        CU_ASSERT(k < 2 || pause >= prev / 2); /* grows, jitter aside */
        prev = pause;
        pipeline_run_due(&d); /* due job, but paused: nothing starts */
        CU_ASSERT_EQUAL(pipeline_running(&d), 0);
    }
    CU_ASSERT_EQUAL(d.pipeline.store_failures, 5);
    int queued = 0, dead = 0, resolving = 0;
    CU_ASSERT_EQUAL(store_counts(d.store, &queued, &dead, &resolving), 0);
    CU_ASSERT_EQUAL(queued, 1); /* still queued, not lost */
    store_close(d.store);
    unlink(path);
    snprintf(path + strlen(path), sizeof path - strlen(path), "-wal");
    unlink(path);
    path[strlen(path) - 4] = '\0';
    snprintf(path + strlen(path), sizeof path - strlen(path), "-shm");
    unlink(path);
}

static void test_retry_delay(void)
{
    struct run_config c;
    run_config_defaults(&c);
    CU_ASSERT_EQUAL(c.work_retry_after_max_ms, 300000);
    c.work_backoff_ms = 1000;
    c.work_backoff_max_ms = 8000;
    c.work_retry_after_max_ms = 60000;
    for (int i = 0; i < 50; i++) {
        int64_t d = pipeline_retry_delay_ms(&c, 0, -1); /* no Retry-After: backoff +-25% */
        CU_ASSERT(d >= 750 && d <= 1250);
        d = pipeline_retry_delay_ms(&c, 10, -1); /* capped by backoff_max */
        CU_ASSERT(d >= 6000 && d <= 10000);
        d = pipeline_retry_delay_ms(&c, 0, 0); /* "now": the backoff still applies */
        CU_ASSERT(d >= 750 && d <= 1250);
    }
    CU_ASSERT_EQUAL(pipeline_retry_delay_ms(&c, 0, 30), 30000);
    CU_ASSERT_EQUAL(pipeline_retry_delay_ms(&c, 0, 60), 60000);
    /* 10^12 s parked a case for 31,000 years; LONG_MAX overflowed (UBSan) */
    CU_ASSERT_EQUAL(pipeline_retry_delay_ms(&c, 0, 1000000000000L), 60000);
    CU_ASSERT_EQUAL(pipeline_retry_delay_ms(&c, 3, FHIR_CLIENT_RETRY_AFTER_MAX), 60000);
    CU_ASSERT_EQUAL(pipeline_retry_delay_ms(&c, 3, LONG_MAX), 60000);
    CU_ASSERT_EQUAL(pipeline_retry_delay_ms(&c, INT_MAX, LONG_MAX), 60000);
    c.work_retry_after_max_ms = 0; /* Retry-After ignored: backoff only */
    int64_t d = pipeline_retry_delay_ms(&c, 0, 1000000000000L);
    CU_ASSERT(d >= 750 && d <= 1250);
}

/* ---- command-line options ---- */

static char conf[400], db[400];

static void write_conf(void)
{
    snprintf(conf, sizeof conf, "%s/guards.conf", scratch);
    snprintf(db, sizeof db, "%s/guards.db", scratch);
    FILE *f = fopen(conf, "w");
    CU_ASSERT_FATAL(f != NULL);
    fprintf(f, "[server]\nbase = https://fhir.example/fhir\n[subscription]\nmode = poll\n"
               "[store]\npath = %s\n",
            db);
    fclose(f);
}

/* Run cmd (one of the cli_* functions) on the words, argv[0] first. */
static int run_cmd(int (*cmd)(int, char **), const char *const *words)
{
    char *argv[16];
    int argc = 0;
    while (words[argc] && argc < 15) {
        argv[argc] = (char *)words[argc];
        argc++;
    }
    argv[argc] = NULL;
    return cmd(argc, argv);
}

static void test_options(void)
{
    write_conf();
    /* what works */
    CU_ASSERT_EQUAL(run_cmd(cli_check_config, (const char *const[]){"check-config", conf, NULL}),
                    0);
    CU_ASSERT_EQUAL(
        run_cmd(cli_check_config, (const char *const[]){"check-config", "-c", conf, NULL}), 0);
    CU_ASSERT_EQUAL(run_cmd(cli_check_config, (const char *const[]){"check-config", "--help",
                                                                     NULL}),
                    0);
    CU_ASSERT_EQUAL(
        run_cmd(cli_dead_letter, (const char *const[]){"dead-letter", "-c", conf, "list", NULL}),
        0);
    CU_ASSERT_EQUAL(run_cmd(cli_dead_letter,
                            (const char *const[]){"dead-letter", "-c", conf, "replay", "--all",
                                                  NULL}),
                    0);
    CU_ASSERT_EQUAL(run_cmd(cli_dead_letter,
                            (const char *const[]){"dead-letter", "--config", conf, "replay",
                                                  "Patient/1", NULL}),
                    0);
    /* unknown options and stray words: exit 2, never ignored */
    CU_ASSERT_EQUAL(run_cmd(cli_check_config,
                            (const char *const[]){"check-config", "--bogus", conf, NULL}),
                    2);
    CU_ASSERT_EQUAL(
        run_cmd(cli_check_config, (const char *const[]){"check-config", conf, "-x", NULL}), 2);
    CU_ASSERT_EQUAL(
        run_cmd(cli_check_config, (const char *const[]){"check-config", conf, conf, NULL}), 2);
    CU_ASSERT_EQUAL(
        run_cmd(cli_check_config, (const char *const[]){"check-config", "--debug", conf, NULL}),
        2);
    CU_ASSERT_EQUAL(run_cmd(cli_check_config, (const char *const[]){"check-config", NULL}), 2);
    CU_ASSERT_EQUAL(run_cmd(cli_dead_letter,
                            (const char *const[]){"dead-letter", "-c", conf, "list", "--bogus",
                                                  NULL}),
                    2);
    CU_ASSERT_EQUAL(run_cmd(cli_dead_letter,
                            (const char *const[]){"dead-letter", "-c", conf, "list", "extra",
                                                  NULL}),
                    2);
    CU_ASSERT_EQUAL(run_cmd(cli_dead_letter,
                            (const char *const[]){"dead-letter", "-c", conf, "replay", NULL}),
                    2);
    CU_ASSERT_EQUAL(run_cmd(cli_dead_letter,
                            (const char *const[]){"dead-letter", "-c", conf, "list", "--all",
                                                  NULL}),
                    2);
    CU_ASSERT_EQUAL(run_cmd(cli_dead_letter,
                            (const char *const[]){"dead-letter", "-c", conf, "purge", NULL}),
                    2);
    CU_ASSERT_EQUAL(run_cmd(cli_dead_letter, (const char *const[]){"dead-letter", "-c", NULL}),
                    2);
    /* `run` with a typo must not start the daemon */
    CU_ASSERT_EQUAL(
        run_cmd(cli_run, (const char *const[]){"run", "-c", conf, "--debgu", NULL}), 2);
    CU_ASSERT_EQUAL(run_cmd(cli_run, (const char *const[]){"run", "-c", conf, "now", NULL}), 2);
    CU_ASSERT_EQUAL(run_cmd(cli_run, (const char *const[]){"run", "--debug", NULL}), 2);
    CU_ASSERT_EQUAL(run_cmd(cli_run, (const char *const[]){"run", "-q", "-c", conf, NULL}), 2);
    static const char *const sfx[] = {"", "-wal", "-shm"};
    char p[420];
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", db, sfx[i]);
        (void)unlink(p);
    }
    (void)unlink(conf);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        snprintf(scratch, sizeof scratch, "%s", argv[1]);
    } else {
        snprintf(scratch, sizeof scratch, "/tmp/test_adapter_guards.XXXXXX");
        if (!mkdtemp(scratch)) {
            perror("mkdtemp");
            return 2;
        }
        scratch_made = 1;
    }
    CU_TestInfo tests[] = {{"a store failure pauses case work with backoff (7b)", test_store_pause},
                           {"case keys are Patient references with a FHIR id", test_case_keys},
                           {"Retry-After capped by work.retry_after_max, no overflow",
                            test_retry_delay},
                           {"unknown options are errors (getopt_long)", test_options},
                           CU_TEST_INFO_NULL};
    int rc = test_run_suite("adapter_guards", tests);
    if (scratch_made && rmdir(scratch) != 0)
        perror(scratch);
    return rc;
}
