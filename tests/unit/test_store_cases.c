/*
 * test_store_cases.c - the store functions of issue 14 (items 5, 6, 9):
 * one job by key, reports by accession (whole key or value alone), the
 * case list (states, filter, since), dead-letter purge, retention (seen
 * versions, dead letters, a patient's mirror and its seeded mark, kept while
 * the patient has a job or a recent change), the database size and
 * PRAGMA data_version seen from a second connection.
 */
#include "test_util.h"

#include "adapter_log.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char scratch[] = "/tmp/test_store_cases.XXXXXX";
static char dbfile[300];

static void unlink_db(void)
{
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    char p[340];
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++)
        if (snprintf(p, sizeof p, "%s%s", dbfile, sfx[i]) < (int)sizeof p)
            (void)unlink(p);
}

/* A fresh, empty store. */
static struct store *fresh(void)
{
    char err[512] = "";
    unlink_db();
    struct store *s = store_open(dbfile, err, sizeof err);
    if (!s)
        fprintf(stderr, "store_open: %s\n", err);
    return s;
}

static void put_report(struct store *s, const char *key, const char *patient, int64_t at)
{
    struct store_report r = {"d1", "final", "", at, 0};
    snprintf(r.case_key, sizeof r.case_key, "%s", patient);
    CU_ASSERT_EQUAL(store_report_put(s, key, &r), 0);
}

static void test_job_get(void)
{
    struct store *s = fresh();
    CU_ASSERT_FATAL(s != NULL);
    struct store_job *j = calloc(1, sizeof *j);
    CU_ASSERT_FATAL(j != NULL);
    CU_ASSERT_EQUAL(store_job_get(s, "Patient/1", j), 0);
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/1", 1000, 500), 0);
    CU_ASSERT_EQUAL(store_job_get(s, "Patient/1", j), 1);
    CU_ASSERT_STRING_EQUAL(j->key, "Patient/1");
    CU_ASSERT_EQUAL(j->due_ms, 1500);
    CU_ASSERT_EQUAL(j->dead, 0);
    CU_ASSERT_EQUAL(store_job_dead(s, j, "HTTP 400", "{}"), 0);
    CU_ASSERT_EQUAL(store_job_get(s, "Patient/1", j), 1);
    CU_ASSERT_EQUAL(j->dead, 1);
    CU_ASSERT_STRING_EQUAL(j->error, "HTTP 400");
    CU_ASSERT_EQUAL(store_job_get(s, NULL, j), 0);
    free(j);
    store_close(s);
}

struct seen_keys {
    char keys[8][80];
    int n;
};

static int collect_report(void *ctx, const char *key, const struct store_report *r)
{
    struct seen_keys *k = ctx;
    (void)r;
    if (k->n < 8)
        snprintf(k->keys[k->n++], sizeof k->keys[0], "%s", key);
    return 0;
}

static void test_report_find(void)
{
    struct store *s = fresh();
    CU_ASSERT_FATAL(s != NULL);
    put_report(s, "urn:lab|S-1", "Patient/1", 10);
    put_report(s, "urn:other|S-1", "Patient/2", 10);
    put_report(s, "urn:lab|XS-1", "Patient/3", 10);
    put_report(s, "urn:lab|S-10", "Patient/3", 10);
    struct seen_keys k = {.n = 0};
    CU_ASSERT_EQUAL(store_report_find(s, "S-1", collect_report, &k), 2);
    CU_ASSERT_STRING_EQUAL(k.keys[0], "urn:lab|S-1");
    CU_ASSERT_STRING_EQUAL(k.keys[1], "urn:other|S-1");
    k.n = 0;
    CU_ASSERT_EQUAL(store_report_find(s, "urn:lab|S-1", collect_report, &k), 1);
    CU_ASSERT_EQUAL(store_report_find(s, "S-2", collect_report, &k), 0);
    CU_ASSERT_EQUAL(store_report_find(s, "%", NULL, NULL), 0); /* no pattern */
    CU_ASSERT_EQUAL(store_report_find(s, "", NULL, NULL), -1);
    store_close(s);
}

struct cases {
    char line[8][200];
    int n;
};

static int collect_case(void *ctx, const struct store_case *c)
{
    struct cases *cs = ctx;
    if (cs->n < 8)
        snprintf(cs->line[cs->n++], sizeof cs->line[0], "%s %s %s %s %lld %d",
                 c->report_key[0] ? c->report_key : "-", c->case_key, c->state,
                 c->status[0] ? c->status : "-", (long long)c->written_ms, c->writes);
    return 0;
}

static void test_case_list(void)
{
    struct store *s = fresh();
    CU_ASSERT_FATAL(s != NULL);
    put_report(s, "urn:lab|A", "Patient/1", 100);  /* done */
    put_report(s, "urn:lab|B", "Patient/2", 200);  /* its patient queued again */
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/2", 300, 0), 0);
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/3", 400, 0), 0); /* no report yet: dead */
    struct store_job *j = calloc(1, sizeof *j);
    CU_ASSERT_FATAL(j != NULL);
    CU_ASSERT_EQUAL(store_job_get(s, "Patient/3", j), 1);
    CU_ASSERT_EQUAL(store_job_dead(s, j, "x", NULL), 0);
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/4", 500, 0), 0); /* held */
    CU_ASSERT_EQUAL(store_job_get(s, "Patient/4", j), 1);
    CU_ASSERT_EQUAL(store_job_hold(s, j, 9999), 0);
    free(j);

    struct cases cs = {.n = 0};
    CU_ASSERT_EQUAL(store_case_list(s, NULL, 0, collect_case, &cs), 4);
    CU_ASSERT_STRING_EQUAL(cs.line[0], "urn:lab|A Patient/1 done final 100 1");
    CU_ASSERT_STRING_EQUAL(cs.line[1], "urn:lab|B Patient/2 pending final 200 1");
    CU_ASSERT_STRING_EQUAL(cs.line[2], "- Patient/3 dead - -1 0");
    CU_ASSERT_STRING_EQUAL(cs.line[3], "- Patient/4 held - -1 0");
    cs.n = 0;
    CU_ASSERT_EQUAL(store_case_list(s, "dead", 0, collect_case, &cs), 1);
    CU_ASSERT_EQUAL(store_case_list(s, "pending", 0, NULL, NULL), 1);
    CU_ASSERT_EQUAL(store_case_list(s, "done", 0, NULL, NULL), 1);
    CU_ASSERT_EQUAL(store_case_list(s, "held", 0, NULL, NULL), 1);
    /* since: by the later of the write and the job's last touch */
    CU_ASSERT_EQUAL(store_case_list(s, NULL, 300, NULL, NULL), 3);
    CU_ASSERT_EQUAL(store_case_list(s, NULL, 501, NULL, NULL), 0);
    store_close(s);
}

static void test_dead_purge(void)
{
    struct store *s = fresh();
    CU_ASSERT_FATAL(s != NULL);
    struct store_job *j = calloc(1, sizeof *j);
    CU_ASSERT_FATAL(j != NULL);
    const char *keys[] = {"Patient/1", "Patient/2", "Patient/3"};
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(store_job_touch(s, keys[i], 100, 0), 0);
        CU_ASSERT_EQUAL(store_job_get(s, keys[i], j), 1);
        if (i < 2)
            CU_ASSERT_EQUAL(store_job_dead(s, j, "e", NULL), 0);
    }
    CU_ASSERT_EQUAL(store_dead_purge(s, "Patient/3"), 0); /* queued, not dead: kept */
    CU_ASSERT_EQUAL(store_dead_purge(s, "Patient/1"), 1);
    CU_ASSERT_EQUAL(store_dead_purge(s, "Patient/1"), 0);
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/1", 100, 0), 0);
    CU_ASSERT_EQUAL(store_job_get(s, "Patient/1", j), 1);
    CU_ASSERT_EQUAL(store_job_dead(s, j, "e", NULL), 0);
    CU_ASSERT_EQUAL(store_dead_purge(s, NULL), 2);
    int queued = -1, dead = -1;
    CU_ASSERT_EQUAL(store_counts(s, &queued, &dead, NULL), 0);
    CU_ASSERT_EQUAL(queued, 1);
    CU_ASSERT_EQUAL(dead, 0);
    free(j);
    store_close(s);
}

static void test_prune(void)
{
    struct store *s = fresh();
    CU_ASSERT_FATAL(s != NULL);
    const int64_t day = 86400000, now = 1000 * day;
    struct store_job *j = calloc(1, sizeof *j);
    CU_ASSERT_FATAL(j != NULL);
    /* two dead letters: an old one and a recent one */
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/old", now - 100 * day, 0), 0);
    CU_ASSERT_EQUAL(store_job_get(s, "Patient/old", j), 1);
    CU_ASSERT_EQUAL(store_job_dead(s, j, "e", NULL), 0);
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/new", now - day, 0), 0);
    CU_ASSERT_EQUAL(store_job_get(s, "Patient/new", j), 1);
    CU_ASSERT_EQUAL(store_job_dead(s, j, "e", NULL), 0);
    /* mirrors: p1 old, no job -> pruned with its seeded mark; p2 old but
     * queued -> kept; p3 one old and one recent input -> kept */
    CU_ASSERT_EQUAL(store_mirror_put(s, "Observation/1", "Observation", "Patient/1", "1", -1,
                                     "{}", now - 400 * day), 1);
    CU_ASSERT_EQUAL(store_mirror_put(s, "Specimen/1", "Specimen", "Patient/1", "1", -1, "{}",
                                     now - 500 * day), 1);
    CU_ASSERT_EQUAL(store_mirror_put(s, "Observation/2", "Observation", "Patient/2", "1", -1,
                                     "{}", now - 400 * day), 1);
    CU_ASSERT_EQUAL(store_mirror_put(s, "Observation/3", "Observation", "Patient/3", "1", -1,
                                     "{}", now - 400 * day), 1);
    CU_ASSERT_EQUAL(store_mirror_put(s, "Observation/4", "Observation", "Patient/3", "1", -1,
                                     "{}", now - day), 1);
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/2", now - 400 * day, 0), 0);
    for (int i = 1; i <= 3; i++) {
        char p[32];
        snprintf(p, sizeof p, "Patient/%d", i);
        CU_ASSERT_EQUAL(store_seeded_set(s, p, now - 400 * day), 0);
    }
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "9", "1"), 1); /* seen now: far after `now` */

    struct store_keep forever = {0, 0, 0};
    struct store_pruned p = {9, 9, 9, 9};
    CU_ASSERT_EQUAL(store_prune(s, now, &forever, &p), 0);
    CU_ASSERT_EQUAL(p.seen + p.dead + p.mirror + p.seeded, 0);

    struct store_keep keep = {7 * day, 90 * day, 365 * day};
    CU_ASSERT_EQUAL(store_prune(s, now, &keep, &p), 0);
    CU_ASSERT_EQUAL(p.seen, 0);
    CU_ASSERT_EQUAL(p.dead, 1);
    CU_ASSERT_EQUAL(p.mirror, 2);
    CU_ASSERT_EQUAL(p.seeded, 1);
    CU_ASSERT_EQUAL(store_seeded_get(s, "Patient/1"), 0);
    CU_ASSERT_EQUAL(store_seeded_get(s, "Patient/2"), 1);
    CU_ASSERT_EQUAL(store_seeded_get(s, "Patient/3"), 1);
    CU_ASSERT_EQUAL(store_mirror_of_patient(s, "Patient/1", NULL, NULL), 0);
    CU_ASSERT_EQUAL(store_mirror_of_patient(s, "Patient/2", NULL, NULL), 1);
    CU_ASSERT_EQUAL(store_mirror_of_patient(s, "Patient/3", NULL, NULL), 2);
    CU_ASSERT_EQUAL(store_job_get(s, "Patient/old", j), 0);
    CU_ASSERT_EQUAL(store_job_get(s, "Patient/new", j), 1);
    /* seen versions: pruned once older than keep_seen (a clock far ahead) */
    struct store_keep seen_only = {7 * day, 0, 0};
    CU_ASSERT_EQUAL(store_prune(s, adapter_now_ms() + 6 * day, &seen_only, &p), 0);
    CU_ASSERT_EQUAL(p.seen, 0);
    CU_ASSERT_EQUAL(store_prune(s, adapter_now_ms() + 8 * day, &seen_only, &p), 0);
    CU_ASSERT_EQUAL(p.seen, 1);
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "9", "1"), 1); /* forgotten: new again */
    free(j);
    store_close(s);
}

static void test_prune_in_transaction(void)
{
    struct store *s = fresh();
    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "1", "1"), 1);
    struct store_keep keep = {1, 0, 0};
    struct store_pruned p;
    CU_ASSERT_EQUAL(store_begin(s), 0);
    CU_ASSERT_EQUAL(store_prune(s, (int64_t)1 << 50, &keep, &p), 0);
    CU_ASSERT_EQUAL(p.seen, 1);
    store_rollback(s); /* the caller's transaction: its rollback undoes the prune */
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "1", "1"), 0);
    CU_ASSERT_EQUAL(store_prune(s, (int64_t)1 << 50, &keep, NULL), 0);
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "1", "1"), 1);
    store_close(s);
}

static void test_size_and_data_version(void)
{
    struct store *s = fresh();
    CU_ASSERT_FATAL(s != NULL);
    char err[512];
    struct store *other = store_open(dbfile, err, sizeof err);
    CU_ASSERT_FATAL(other != NULL);
    int64_t size = 0, v0 = 0, v1 = 0, v2 = 0;
    CU_ASSERT_EQUAL(store_size_bytes(s, &size), 0);
    CU_ASSERT(size >= 4096);
    CU_ASSERT_EQUAL(store_data_version(s, &v0), 0);
    CU_ASSERT_EQUAL(store_meta_set(s, "k", "own write"), 0);
    CU_ASSERT_EQUAL(store_data_version(s, &v1), 0);
    CU_ASSERT_EQUAL(v1, v0); /* its own commit: unchanged */
    CU_ASSERT_EQUAL(store_job_touch(other, "Patient/1", 1, 0), 0);
    CU_ASSERT_EQUAL(store_data_version(s, &v2), 0);
    CU_ASSERT_NOT_EQUAL(v2, v1); /* another connection committed */
    store_close(other);
    store_close(s);
}

int main(void)
{
    if (!mkdtemp(scratch)) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(dbfile, sizeof dbfile, "%s/cases.db", scratch);
    CU_TestInfo tests[] = {{"job by key", test_job_get},
                           {"reports by accession or whole key", test_report_find},
                           {"case list: states, filter, since", test_case_list},
                           {"dead-letter purge: one, all, never a queued job", test_dead_purge},
                           {"prune: seen, dead, mirror and seeded by age", test_prune},
                           {"prune inside the caller's transaction", test_prune_in_transaction},
                           {"size and data_version", test_size_and_data_version},
                           CU_TEST_INFO_NULL};
    int rc = test_run_suite("store_cases", tests);
    unlink_db();
    if (rmdir(scratch) != 0)
        perror(scratch);
    return rc;
}
