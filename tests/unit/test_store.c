/*
 * test_store.c - the durable store (store.h, interop.md I7, I9, I10): the
 * work queue (touch, settle and its cap, gen checks on done/retry/dead),
 * dead letters and replay, resolve, seen-version dedupe (I3), members (I6),
 * reports (I8), transactions, durability across close/open, a kill -9 in
 * the middle of a stream of commits, and an unwritable path. Issue 11: a
 * store of the previous release (schema 1) migrated without losing queued
 * work, the input mirror (versions only move forward), patients seeded once,
 * write-once holds on jobs and report writes per case.
 * argv[1]: a scratch directory (default: a fresh mkdtemp under /tmp).
 */
#include "test_util.h"

#include "store.h"

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char scratch[256];
static int scratch_made; /* we made it with mkdtemp: remove it at the end */

#define MAX_DBS 48
static char dbs[MAX_DBS][320]; /* database files created, removed at the end */
static int ndbs;

static void unlink_db(const char *path)
{
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    char p[340];
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++)
        if (snprintf(p, sizeof p, "%s%s", path, sfx[i]) < (int)sizeof p)
            (void)unlink(p);
}

/* A fresh database path in the scratch directory (old files removed). */
static const char *db_path(const char *name)
{
    if (ndbs == MAX_DBS)
        return NULL;
    snprintf(dbs[ndbs], sizeof dbs[ndbs], "%s/%s", scratch, name);
    unlink_db(dbs[ndbs]);
    return dbs[ndbs++];
}

static struct store *open_ok(const char *path)
{
    char err[512] = "";
    struct store *s = store_open(path, err, sizeof err);
    if (!s)
        fprintf(stderr, "store_open: %s\n", err);
    return s;
}

static struct store *fresh(const char *name)
{
    const char *p = db_path(name);
    return p ? open_ok(p) : NULL;
}

/* busy() callbacks */
static int never_busy(void *ctx, const char *key)
{
    (void)ctx;
    (void)key;
    return 0;
}

static int busy_if_named(void *ctx, const char *key)
{
    return strcmp(key, (const char *)ctx) == 0;
}

/* The queued job key (any due time), into *j: 1 found, 0 not. */
static int find_job(struct store *s, const char *key, struct store_job *j)
{
    static struct store_job all[16];
    int n = store_job_due(s, INT64_MAX, NULL, NULL, all, 16);
    for (int i = 0; i < n; i++)
        if (strcmp(all[i].key, key) == 0) {
            *j = all[i];
            return 1;
        }
    return 0;
}

static void test_open_unwritable(void)
{
    char err[512] = "", path[320], file[300];
    CU_ASSERT_PTR_NULL(store_open("/nonexistent-nenfhir-dir/x.db", err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent-nenfhir-dir/x.db"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "open"));
    /* the parent is a regular file: fails even for root */
    snprintf(file, sizeof file, "%s/plainfile", scratch);
    FILE *f = fopen(file, "w");
    CU_ASSERT_FATAL(f != NULL);
    fclose(f);
    snprintf(path, sizeof path, "%s/x.db", file);
    err[0] = '\0';
    CU_ASSERT_PTR_NULL(store_open(path, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
    unlink(file);
}

static void test_pragmas_and_schema(void)
{
    const char *path = db_path("schema.db");
    struct store *s = open_ok(path);
    CU_ASSERT_FATAL(s != NULL);
    store_close(s);
    sqlite3 *db = NULL;
    CU_ASSERT_FATAL(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_stmt *st = NULL;
    CU_ASSERT_FATAL(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_step(st), SQLITE_ROW);
    CU_ASSERT_STRING_EQUAL((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    CU_ASSERT_FATAL(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_step(st), SQLITE_ROW);
    CU_ASSERT_EQUAL(sqlite3_column_int(st, 0), 3);
    sqlite3_finalize(st);
    /* a database from a newer program is refused, not damaged */
    CU_ASSERT_EQUAL(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char err[512] = "";
    CU_ASSERT_PTR_NULL(store_open(path, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "newer"));
}

static void test_meta(void)
{
    struct store *s = fresh("meta.db");
    CU_ASSERT_FATAL(s != NULL);
    char v[64] = "x";
    CU_ASSERT_EQUAL(store_meta_get(s, "cursor", v, sizeof v), 0);
    CU_ASSERT_EQUAL(store_meta_set(s, "cursor", "2026-01-01T00:00:00Z"), 0);
    CU_ASSERT_EQUAL(store_meta_get(s, "cursor", v, sizeof v), 1);
    CU_ASSERT_STRING_EQUAL(v, "2026-01-01T00:00:00Z");
    CU_ASSERT_EQUAL(store_meta_set(s, "cursor", "2026-02-01T00:00:00Z"), 0);
    CU_ASSERT_EQUAL(store_meta_get(s, "cursor", v, sizeof v), 1);
    CU_ASSERT_STRING_EQUAL(v, "2026-02-01T00:00:00Z");
    CU_ASSERT_EQUAL(store_meta_set(s, "empty", ""), 0);
    CU_ASSERT_EQUAL(store_meta_get(s, "empty", v, sizeof v), 1);
    CU_ASSERT_STRING_EQUAL(v, "");
    /* a value that does not fit is an error, never a silently cut cursor */
    char small[8];
    CU_ASSERT_EQUAL(store_meta_get(s, "cursor", small, sizeof small), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(store_error(s), "does not fit"));
    store_close(s);
}

static void test_touch_settle(void)
{
    struct store *s = fresh("touch.db");
    CU_ASSERT_FATAL(s != NULL);
    struct store_job out[4];
    int64_t due = 0;
    CU_ASSERT_EQUAL(store_job_next_due(s, &due), 0);
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/1", 1000, 100), 0);
    CU_ASSERT_EQUAL(store_job_next_due(s, &due), 1);
    CU_ASSERT_EQUAL(due, 1100);
    CU_ASSERT_EQUAL(store_job_due(s, 1099, never_busy, NULL, out, 4), 0);
    CU_ASSERT_EQUAL_FATAL(store_job_due(s, 1100, never_busy, NULL, out, 4), 1);
    CU_ASSERT_STRING_EQUAL(out[0].key, "Patient/1");
    CU_ASSERT_EQUAL(out[0].gen, 1);
    CU_ASSERT_EQUAL(out[0].attempts, 0);
    CU_ASSERT_EQUAL(out[0].due_ms, 1100);
    CU_ASSERT_EQUAL(out[0].dead, 0);
    CU_ASSERT_STRING_EQUAL(out[0].error, "");
    CU_ASSERT_STRING_EQUAL(out[0].outcome, "");
    /* a touch bumps gen and pushes due */
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/1", 1050, 100), 0);
    CU_ASSERT_EQUAL(store_job_next_due(s, &due), 1);
    CU_ASSERT_EQUAL(due, 1150);
    CU_ASSERT_EQUAL_FATAL(store_job_due(s, 2000, NULL, NULL, out, 4), 1);
    CU_ASSERT_EQUAL(out[0].gen, 2);
    /* a steady stream cannot push it past first touch + 10 * settle */
    for (int64_t t = 1100; t <= 2500; t += 50) {
        CU_ASSERT_EQUAL(store_job_touch(s, "Patient/1", t, 100), 0);
        CU_ASSERT_EQUAL(store_job_next_due(s, &due), 1);
        CU_ASSERT(due <= 2000);
    }
    CU_ASSERT_EQUAL(due, 2000);
    CU_ASSERT_EQUAL(store_job_due(s, 2000, NULL, NULL, out, 4), 1);
    CU_ASSERT_EQUAL(out[0].gen, 2 + (2500 - 1100) / 50 + 1);
    int queued = -1, dead = -1, resolving = -1;
    CU_ASSERT_EQUAL(store_counts(s, &queued, &dead, &resolving), 0);
    CU_ASSERT_EQUAL(queued, 1);
    CU_ASSERT_EQUAL(dead, 0);
    CU_ASSERT_EQUAL(resolving, 0);
    /* a key that could not be read back whole is refused */
    char longkey[STORE_KEY_LEN + 10];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    CU_ASSERT_EQUAL(store_job_touch(s, longkey, 1000, 100), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(store_error(s), "longer"));
    CU_ASSERT_EQUAL(store_job_touch(s, "", 1000, 100), -1);
    store_close(s);
}

static void test_due_order_busy(void)
{
    struct store *s = fresh("due.db");
    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/c", 100, 0), 0);
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/b", 50, 0), 0);
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/a", 100, 0), 0);
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/late", 500, 0), 0);
    struct store_job out[8];
    CU_ASSERT_EQUAL_FATAL(store_job_due(s, 100, never_busy, NULL, out, 8), 3);
    CU_ASSERT_STRING_EQUAL(out[0].key, "Patient/b"); /* earliest first, then by key */
    CU_ASSERT_STRING_EQUAL(out[1].key, "Patient/a");
    CU_ASSERT_STRING_EQUAL(out[2].key, "Patient/c");
    CU_ASSERT_EQUAL_FATAL(store_job_due(s, 100, never_busy, NULL, out, 2), 2);
    CU_ASSERT_STRING_EQUAL(out[1].key, "Patient/a");
    /* busy keys are skipped and the next candidates fill the slots */
    CU_ASSERT_EQUAL_FATAL(store_job_due(s, 100, busy_if_named, "Patient/a", out, 2), 2);
    CU_ASSERT_STRING_EQUAL(out[0].key, "Patient/b");
    CU_ASSERT_STRING_EQUAL(out[1].key, "Patient/c");
    CU_ASSERT_EQUAL(store_job_due(s, 100, never_busy, NULL, out, 0), 0);
    CU_ASSERT_EQUAL(store_job_due(s, 1000, never_busy, NULL, out, 8), 4);
    int64_t due = 0;
    CU_ASSERT_EQUAL(store_job_next_due(s, &due), 1);
    CU_ASSERT_EQUAL(due, 50);
    store_close(s);
}

static void test_done_gen(void)
{
    struct store *s = fresh("done.db");
    CU_ASSERT_FATAL(s != NULL);
    struct store_job j, j2;
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/1", 0, 10), 0);
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &j));
    /* touched while it ran: done with the old gen keeps it queued */
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/1", 5, 10), 0);
    CU_ASSERT_EQUAL(store_job_done(s, &j), 0);
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &j2));
    CU_ASSERT_EQUAL(j2.gen, j.gen + 1);
    int queued = -1;
    CU_ASSERT_EQUAL(store_counts(s, &queued, NULL, NULL), 0);
    CU_ASSERT_EQUAL(queued, 1);
    /* done with the current gen deletes it */
    CU_ASSERT_EQUAL(store_job_done(s, &j2), 0);
    CU_ASSERT_EQUAL(store_counts(s, &queued, NULL, NULL), 0);
    CU_ASSERT_EQUAL(queued, 0);
    int64_t due;
    CU_ASSERT_EQUAL(store_job_next_due(s, &due), 0);
    /* done of a job that is not there is harmless */
    CU_ASSERT_EQUAL(store_job_done(s, &j2), 0);
    store_close(s);
}

static void test_retry(void)
{
    struct store *s = fresh("retry.db");
    CU_ASSERT_FATAL(s != NULL);
    struct store_job j, k;
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/1", 0, 10), 0);
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &j));
    CU_ASSERT_EQUAL(store_job_retry(s, &j, 5000, "HTTP 503"), 0);
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &k));
    CU_ASSERT_EQUAL(k.attempts, 1);
    CU_ASSERT_EQUAL(k.due_ms, 5000);
    CU_ASSERT_EQUAL(k.gen, j.gen);
    CU_ASSERT_STRING_EQUAL(k.error, "HTTP 503");
    CU_ASSERT_EQUAL(store_job_retry(s, &k, 7000, "HTTP 502"), 0);
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &k));
    CU_ASSERT_EQUAL(k.attempts, 2);
    CU_ASSERT_EQUAL(k.due_ms, 7000);
    /* a touch during the backoff does not cut it short */
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/1", 100, 10), 0);
    struct store_job t;
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &t));
    CU_ASSERT_EQUAL(t.due_ms, 7000);
    CU_ASSERT_EQUAL(t.gen, k.gen + 1);
    /* retry of the older gen: only the error is kept */
    CU_ASSERT_EQUAL(store_job_retry(s, &k, 99999, "timeout"), 0);
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &t));
    CU_ASSERT_EQUAL(t.attempts, 2);
    CU_ASSERT_EQUAL(t.due_ms, 7000);
    CU_ASSERT_STRING_EQUAL(t.error, "timeout");
    /* error texts are cut to STORE_TEXT_LEN - 1, never inside a UTF-8 character */
    char *big = malloc(10000);
    CU_ASSERT_FATAL(big != NULL);
    memset(big, 'e', 9999);
    big[9999] = '\0';
    CU_ASSERT_EQUAL(store_job_retry(s, &t, 8000, big), 0);
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &t));
    CU_ASSERT_EQUAL(strlen(t.error), STORE_TEXT_LEN - 1);
    memcpy(big + STORE_TEXT_LEN - 2, "\xc3\xa9", 3); /* 'é' straddles the cut */
    CU_ASSERT_EQUAL(store_job_retry(s, &t, 8000, big), 0);
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &t));
    CU_ASSERT_EQUAL(strlen(t.error), STORE_TEXT_LEN - 2);
    free(big);
    store_close(s);
}

struct dead_seen {
    int n, stop_after;
    char keys[8][STORE_KEY_LEN];
    struct store_job last;
};

static int collect_dead(void *ctx, const struct store_job *j)
{
    struct dead_seen *d = ctx;
    if (d->n < 8)
        snprintf(d->keys[d->n], STORE_KEY_LEN, "%s", j->key);
    d->n++;
    d->last = *j;
    return d->stop_after && d->n >= d->stop_after;
}

static void test_dead_replay(void)
{
    struct store *s = fresh("dead.db");
    CU_ASSERT_FATAL(s != NULL);
    struct store_job a, b, c, t;
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/b", 0, 0), 0);
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/a", 0, 0), 0);
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/c", 0, 0), 0);
    CU_ASSERT_FATAL(find_job(s, "Patient/a", &a) && find_job(s, "Patient/b", &b) &&
                    find_job(s, "Patient/c", &c));
    CU_ASSERT_EQUAL(store_job_dead(s, &b, "HTTP 422", "{\"resourceType\":\"OperationOutcome\"}"),
                    0);
    CU_ASSERT_EQUAL(store_job_dead(s, &a, "HTTP 400", NULL), 0);
    /* touched since it ran: the new input may fix it, so it stays queued */
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/c", 1, 0), 0);
    CU_ASSERT_EQUAL(store_job_dead(s, &c, "HTTP 400", "{}"), 0);
    CU_ASSERT_FATAL(find_job(s, "Patient/c", &t));
    CU_ASSERT_EQUAL(t.dead, 0);
    CU_ASSERT_STRING_EQUAL(t.error, "HTTP 400");
    int queued, dead, resolving;
    CU_ASSERT_EQUAL(store_counts(s, &queued, &dead, &resolving), 0);
    CU_ASSERT_EQUAL(queued, 1);
    CU_ASSERT_EQUAL(dead, 2);
    /* dead jobs are never due */
    struct store_job out[4];
    CU_ASSERT_EQUAL(store_job_due(s, INT64_MAX, NULL, NULL, out, 4), 1);
    /* listed in the order they died */
    struct dead_seen d = {0};
    CU_ASSERT_EQUAL(store_dead_list(s, collect_dead, &d), 2);
    CU_ASSERT_EQUAL(d.n, 2);
    CU_ASSERT_STRING_EQUAL(d.keys[0], "Patient/b");
    CU_ASSERT_STRING_EQUAL(d.keys[1], "Patient/a");
    CU_ASSERT_EQUAL(d.last.dead, 1);
    CU_ASSERT_EQUAL(d.last.attempts, 1);
    CU_ASSERT_STRING_EQUAL(d.last.error, "HTTP 400");
    CU_ASSERT_STRING_EQUAL(d.last.outcome, "");
    struct dead_seen d1 = {0};
    d1.stop_after = 1;
    CU_ASSERT_EQUAL(store_dead_list(s, collect_dead, &d1), 1);
    CU_ASSERT_STRING_EQUAL(d1.last.outcome, "{\"resourceType\":\"OperationOutcome\"}");
    /* done on a dead job does nothing */
    CU_ASSERT_EQUAL(store_job_done(s, &a), 0);
    CU_ASSERT_EQUAL(store_counts(s, NULL, &dead, NULL), 0);
    CU_ASSERT_EQUAL(dead, 2);
    /* replay one */
    CU_ASSERT_EQUAL(store_dead_replay(s, "Patient/b", 777), 1);
    CU_ASSERT_EQUAL(store_dead_replay(s, "Patient/b", 777), 0);
    CU_ASSERT_EQUAL(store_dead_replay(s, "Patient/none", 777), 0);
    CU_ASSERT_FATAL(find_job(s, "Patient/b", &t));
    CU_ASSERT_EQUAL(t.dead, 0);
    CU_ASSERT_EQUAL(t.attempts, 0);
    CU_ASSERT_EQUAL(t.due_ms, 777);
    CU_ASSERT_EQUAL(store_job_due(s, 777, NULL, NULL, out, 4), 2); /* b and c */
    /* replay all */
    CU_ASSERT_EQUAL(store_job_dead(s, &t, "again", "{}"), 0);
    CU_ASSERT_EQUAL(store_dead_replay(s, NULL, 900), 2);
    CU_ASSERT_EQUAL(store_counts(s, &queued, &dead, NULL), 0);
    CU_ASSERT_EQUAL(queued, 3);
    CU_ASSERT_EQUAL(dead, 0);
    CU_ASSERT_EQUAL(store_dead_list(s, collect_dead, &d), 0);
    store_close(s);
}

static void test_touch_revives_dead(void)
{
    struct store *s = fresh("revive.db");
    CU_ASSERT_FATAL(s != NULL);
    struct store_job j, t;
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/1", 0, 10), 0);
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &j));
    CU_ASSERT_EQUAL(store_job_retry(s, &j, 20, "503"), 0);
    CU_ASSERT_EQUAL(store_job_dead(s, &j, "404", "{}"), 0);
    int dead;
    CU_ASSERT_EQUAL(store_counts(s, NULL, &dead, NULL), 0);
    CU_ASSERT_EQUAL(dead, 1);
    /* long after the first touch: the cap counts from the revival */
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/1", 100000, 10), 0);
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &t));
    CU_ASSERT_EQUAL(t.dead, 0);
    CU_ASSERT_EQUAL(t.attempts, 0);
    CU_ASSERT_EQUAL(t.gen, j.gen + 1);
    CU_ASSERT_EQUAL(t.due_ms, 100010);
    CU_ASSERT_EQUAL(store_counts(s, NULL, &dead, NULL), 0);
    CU_ASSERT_EQUAL(dead, 0);
    store_close(s);
}

static void test_resolve(void)
{
    struct store *s = fresh("resolve.db");
    CU_ASSERT_FATAL(s != NULL);
    char refs[4][STORE_KEY_LEN];
    CU_ASSERT_EQUAL(store_resolve_list(s, refs, 4), 0);
    CU_ASSERT_EQUAL(store_resolve_add(s, "Observation/9"), 0);
    CU_ASSERT_EQUAL(store_resolve_add(s, "Observation/1"), 0);
    CU_ASSERT_EQUAL(store_resolve_add(s, "Observation/9"), 0); /* idempotent */
    CU_ASSERT_EQUAL(store_resolve_add(s, "Condition/5"), 0);
    int resolving;
    CU_ASSERT_EQUAL(store_counts(s, NULL, NULL, &resolving), 0);
    CU_ASSERT_EQUAL(resolving, 3);
    CU_ASSERT_EQUAL_FATAL(store_resolve_list(s, refs, 4), 3);
    CU_ASSERT_STRING_EQUAL(refs[0], "Observation/9"); /* oldest first */
    CU_ASSERT_STRING_EQUAL(refs[1], "Observation/1");
    CU_ASSERT_STRING_EQUAL(refs[2], "Condition/5");
    CU_ASSERT_EQUAL(store_resolve_list(s, refs, 2), 2);
    CU_ASSERT_EQUAL(store_resolve_done(s, "Observation/9"), 0);
    CU_ASSERT_EQUAL(store_resolve_done(s, "Observation/404"), 0);
    CU_ASSERT_EQUAL_FATAL(store_resolve_list(s, refs, 4), 2);
    CU_ASSERT_STRING_EQUAL(refs[0], "Observation/1");
    CU_ASSERT_EQUAL(store_counts(s, NULL, NULL, &resolving), 0);
    CU_ASSERT_EQUAL(resolving, 2);
    store_close(s);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_seen(void)
{
    struct store *s = fresh("seen.db");
    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "1", "1"), 1);
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "1", "1"), 0);
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "1", "2"), 1);
    CU_ASSERT_EQUAL(store_seen(s, "Condition", "1", "1"), 1);
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "2", "1"), 1);
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "3", ""), 1); /* never recorded */
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "3", ""), 1);
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "3", NULL), 1);
    /* store_seen records wall-clock time (it takes no clock argument) */
    int64_t now = wall_ms();
    CU_ASSERT_EQUAL(store_seen_prune(s, now, 3600 * 1000), 0);
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "1", "1"), 0);
    CU_ASSERT_EQUAL(store_seen_prune(s, now + 2 * 3600 * 1000, 3600 * 1000), 0);
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "1", "1"), 1);
    CU_ASSERT_EQUAL(store_seen(s, "Condition", "1", "1"), 1);
    store_close(s);
}

static void test_member(void)
{
    struct store *s = fresh("member.db");
    CU_ASSERT_FATAL(s != NULL);
    char k[STORE_KEY_LEN] = "x";
    CU_ASSERT_EQUAL(store_member_get(s, "Observation/1", k, sizeof k), 0);
    CU_ASSERT_EQUAL(store_member_set(s, "Observation/1", "Patient/7"), 0);
    CU_ASSERT_EQUAL(store_member_get(s, "Observation/1", k, sizeof k), 1);
    CU_ASSERT_STRING_EQUAL(k, "Patient/7");
    CU_ASSERT_EQUAL(store_member_set(s, "Observation/1", "Patient/8"), 0);
    CU_ASSERT_EQUAL(store_member_get(s, "Observation/1", k, sizeof k), 1);
    CU_ASSERT_STRING_EQUAL(k, "Patient/8");
    char small[4];
    CU_ASSERT_EQUAL(store_member_get(s, "Observation/1", small, sizeof small), -1);
    CU_ASSERT_EQUAL(store_member_forget(s, "Observation/1"), 0);
    CU_ASSERT_EQUAL(store_member_get(s, "Observation/1", k, sizeof k), 0);
    CU_ASSERT_EQUAL(store_member_forget(s, "Observation/1"), 0);
    store_close(s);
}

struct reports_seen {
    int n;
    char keys[4][STORE_KEY_LEN];
    struct store_report r[4];
    char long_key[STORE_KEY_LEN + 256]; /* the last report key, whole */
};

static int collect_report(void *ctx, const char *report_key, const struct store_report *r)
{
    struct reports_seen *rs = ctx;
    if (rs->n < 4) {
        snprintf(rs->keys[rs->n], STORE_KEY_LEN, "%s", report_key);
        rs->r[rs->n] = *r;
    }
    snprintf(rs->long_key, sizeof rs->long_key, "%s", report_key);
    rs->n++;
    return 0;
}

static void put_report(struct store *s, const char *key, const char *case_key, const char *digest,
                       const char *status, int64_t t)
{
    struct store_report r;
    memset(&r, 0, sizeof r);
    snprintf(r.case_key, sizeof r.case_key, "%s", case_key);
    snprintf(r.digest, sizeof r.digest, "%s", digest);
    snprintf(r.status, sizeof r.status, "%s", status);
    r.written_ms = t;
    CU_ASSERT_EQUAL(store_report_put(s, key, &r), 0);
}

static void test_report(void)
{
    struct store *s = fresh("report.db");
    CU_ASSERT_FATAL(s != NULL);
    struct store_report r;
    CU_ASSERT_EQUAL(store_report_get(s, "S-1", &r), 0);
    char digest[65];
    memset(digest, 'a', 64);
    digest[64] = '\0';
    put_report(s, "S-2", "Patient/1", "d2", "preliminary", 10);
    put_report(s, "S-1", "Patient/1", digest, "preliminary", 11);
    put_report(s, "S-9", "Patient/2", "d9", "final", 12);
    CU_ASSERT_EQUAL(store_report_get(s, "S-1", &r), 1);
    CU_ASSERT_STRING_EQUAL(r.digest, digest);
    CU_ASSERT_STRING_EQUAL(r.status, "preliminary");
    CU_ASSERT_STRING_EQUAL(r.case_key, "Patient/1");
    CU_ASSERT_EQUAL(r.written_ms, 11);
    put_report(s, "S-1", "Patient/1", "d1b", "final", 20);
    CU_ASSERT_EQUAL(store_report_get(s, "S-1", &r), 1);
    CU_ASSERT_STRING_EQUAL(r.digest, "d1b");
    CU_ASSERT_STRING_EQUAL(r.status, "final");
    CU_ASSERT_EQUAL(r.written_ms, 20);
    struct reports_seen rs = {0};
    CU_ASSERT_EQUAL(store_report_of_case(s, "Patient/1", collect_report, &rs), 2);
    CU_ASSERT_EQUAL(rs.n, 2);
    CU_ASSERT_STRING_EQUAL(rs.keys[0], "S-1");
    CU_ASSERT_STRING_EQUAL(rs.r[0].status, "final");
    CU_ASSERT_STRING_EQUAL(rs.keys[1], "S-2");
    CU_ASSERT_EQUAL(rs.r[1].written_ms, 10);
    /* report keys ("system|accession") may be longer than a case key */
    char longkey[STORE_KEY_LEN + 200];
    memset(longkey, 'r', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    put_report(s, longkey, "Patient/4", "dl", "final", 30);
    CU_ASSERT_EQUAL(store_report_get(s, longkey, &r), 1);
    CU_ASSERT_STRING_EQUAL(r.digest, "dl");
    struct reports_seen four = {0};
    CU_ASSERT_EQUAL(store_report_of_case(s, "Patient/4", collect_report, &four), 1);
    CU_ASSERT_EQUAL(strlen(four.long_key), sizeof longkey - 1);
    struct reports_seen none = {0};
    CU_ASSERT_EQUAL(store_report_of_case(s, "Patient/3", collect_report, &none), 0);
    CU_ASSERT_EQUAL(none.n, 0);
    store_close(s);
}

/* Inputs of final (or amended) reports, paged by ref (I6: lost deletes). */
static void test_member_of_final(void)
{
    struct store *s = fresh("member_final.db");
    CU_ASSERT_FATAL(s != NULL);
    char refs[2][STORE_KEY_LEN];
    CU_ASSERT_EQUAL(store_member_of_final(s, NULL, refs, 2), 0);
    CU_ASSERT_EQUAL(store_member_set(s, "Observation/a", "Patient/1"), 0);
    CU_ASSERT_EQUAL(store_member_set(s, "Condition/b", "Patient/1"), 0);
    CU_ASSERT_EQUAL(store_member_set(s, "Observation/c", "Patient/2"), 0);
    CU_ASSERT_EQUAL(store_member_set(s, "Observation/d", "Patient/3"), 0);
    CU_ASSERT_EQUAL(store_member_set(s, "Observation/e", "Patient/4"), 0);
    put_report(s, "sys|A1", "Patient/1", "d1", "final", 1);
    put_report(s, "sys|A1b", "Patient/1", "d1b", "final", 1); /* two specimens: refs once */
    put_report(s, "sys|A2", "Patient/2", "d2", "preliminary", 1);
    put_report(s, "sys|A3", "Patient/3", "d3", "amended", 1);
    put_report(s, "sys|A4", "Patient/4", "d4", "entered-in-error", 1);
    CU_ASSERT_EQUAL(store_member_of_final(s, "", refs, 2), 2);
    CU_ASSERT_STRING_EQUAL(refs[0], "Condition/b");
    CU_ASSERT_STRING_EQUAL(refs[1], "Observation/a");
    CU_ASSERT_EQUAL(store_member_of_final(s, refs[1], refs, 2), 1);
    CU_ASSERT_STRING_EQUAL(refs[0], "Observation/d");
    CU_ASSERT_EQUAL(store_member_of_final(s, "Observation/d", refs, 2), 0);
    CU_ASSERT_EQUAL(store_member_of_final(s, "", refs, 0), 0);
    CU_ASSERT_EQUAL(store_member_forget(s, "Condition/b"), 0);
    CU_ASSERT_EQUAL(store_member_of_final(s, NULL, refs, 2), 2);
    CU_ASSERT_STRING_EQUAL(refs[0], "Observation/a");
    store_close(s);
}

static void test_transactions(void)
{
    struct store *s = fresh("tx.db");
    CU_ASSERT_FATAL(s != NULL);
    char v[32];
    CU_ASSERT_EQUAL(store_commit(s), -1); /* nothing open */
    CU_ASSERT_EQUAL(store_begin(s), 0);
    CU_ASSERT_EQUAL(store_begin(s), -1); /* no nesting */
    CU_ASSERT_PTR_NOT_NULL(strstr(store_error(s), "already"));
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/1", 0, 0), 0);
    CU_ASSERT_EQUAL(store_meta_set(s, "k", "v"), 0);
    CU_ASSERT_EQUAL(store_resolve_add(s, "Observation/1"), 0);
    CU_ASSERT_EQUAL(store_member_set(s, "Observation/1", "Patient/1"), 0);
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "1", "1"), 1);
    store_rollback(s);
    int queued, resolving;
    CU_ASSERT_EQUAL(store_counts(s, &queued, NULL, &resolving), 0);
    CU_ASSERT_EQUAL(queued, 0);
    CU_ASSERT_EQUAL(resolving, 0);
    CU_ASSERT_EQUAL(store_meta_get(s, "k", v, sizeof v), 0);
    CU_ASSERT_EQUAL(store_member_get(s, "Observation/1", v, sizeof v), 0);
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "1", "1"), 1);
    store_rollback(s); /* harmless with nothing open */
    CU_ASSERT_EQUAL(store_begin(s), 0);
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/1", 0, 0), 0);
    CU_ASSERT_EQUAL(store_meta_set(s, "k", "v"), 0);
    CU_ASSERT_EQUAL(store_commit(s), 0);
    CU_ASSERT_EQUAL(store_counts(s, &queued, NULL, NULL), 0);
    CU_ASSERT_EQUAL(queued, 1);
    CU_ASSERT_EQUAL(store_meta_get(s, "k", v, sizeof v), 1);
    store_close(s);
}

static void test_reopen(void)
{
    const char *path = db_path("reopen.db");
    struct store *s = open_ok(path);
    CU_ASSERT_FATAL(s != NULL);
    struct store_job j;
    CU_ASSERT_EQUAL(store_meta_set(s, "cursor", "c1"), 0);
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/q", 10, 5), 0);
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/d", 10, 5), 0);
    CU_ASSERT_FATAL(find_job(s, "Patient/d", &j));
    CU_ASSERT_EQUAL(store_job_dead(s, &j, "gone", "{\"oo\":1}"), 0);
    CU_ASSERT_EQUAL(store_resolve_add(s, "Observation/r"), 0);
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "r", "3"), 1);
    CU_ASSERT_EQUAL(store_member_set(s, "Observation/m", "Patient/q"), 0);
    put_report(s, "S-r", "Patient/q", "dig", "final", 42);
    store_close(s);

    s = open_ok(path);
    CU_ASSERT_FATAL(s != NULL);
    char v[STORE_KEY_LEN];
    CU_ASSERT_EQUAL(store_meta_get(s, "cursor", v, sizeof v), 1);
    CU_ASSERT_STRING_EQUAL(v, "c1");
    CU_ASSERT_FATAL(find_job(s, "Patient/q", &j));
    CU_ASSERT_EQUAL(j.due_ms, 15);
    struct dead_seen d = {0};
    CU_ASSERT_EQUAL(store_dead_list(s, collect_dead, &d), 1);
    CU_ASSERT_STRING_EQUAL(d.last.key, "Patient/d");
    CU_ASSERT_STRING_EQUAL(d.last.error, "gone");
    CU_ASSERT_STRING_EQUAL(d.last.outcome, "{\"oo\":1}");
    char refs[2][STORE_KEY_LEN];
    CU_ASSERT_EQUAL(store_resolve_list(s, refs, 2), 1);
    CU_ASSERT_STRING_EQUAL(refs[0], "Observation/r");
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "r", "3"), 0);
    CU_ASSERT_EQUAL(store_member_get(s, "Observation/m", v, sizeof v), 1);
    CU_ASSERT_STRING_EQUAL(v, "Patient/q");
    struct store_report r;
    CU_ASSERT_EQUAL(store_report_get(s, "S-r", &r), 1);
    CU_ASSERT_STRING_EQUAL(r.digest, "dig");
    CU_ASSERT_EQUAL(r.written_ms, 42);
    store_close(s);
}

/* ---- kill -9 in the middle of a stream of commits ---- */

/* Child: commit job k and meta n = k for k = start, start+1, ..., writing k
 * to fd after each commit. Never returns. */
static void crash_child(const char *path, int fd, long start)
{
    char err[512];
    struct store *s = store_open(path, err, sizeof err);
    if (!s)
        _exit(3);
    for (long k = start; k < start + 1000000; k++) {
        char key[64], val[32];
        snprintf(key, sizeof key, "Patient/%ld", k);
        snprintf(val, sizeof val, "%ld", k);
        if (store_begin(s) != 0 || store_job_touch(s, key, k, 0) != 0 ||
            store_meta_set(s, "n", val) != 0 || store_commit(s) != 0)
            _exit(4);
        if (write(fd, &k, sizeof k) != (ssize_t)sizeof k)
            _exit(5);
    }
    _exit(0);
}

static int read_long(int fd, long *v)
{
    size_t got = 0;
    while (got < sizeof *v) {
        ssize_t r = read(fd, (char *)v + got, sizeof *v - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Start a child at start, read `reads` commits, wait delay_us, kill it;
 * returns the last k reported committed (including those still in the
 * pipe), or -2. */
static long crash_round(const char *path, long start, int reads, long delay_us)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -2;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -2;
    if (pid == 0) {
        close(fds[0]);
        crash_child(path, fds[1], start);
    }
    close(fds[1]);
    long last = start - 1, v;
    for (int i = 0; i < reads && read_long(fds[0], &v) == 0; i++)
        last = v;
    struct timespec d = {0, delay_us * 1000};
    nanosleep(&d, NULL);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    while (read_long(fds[0], &v) == 0) /* committed before the kill */
        last = v;
    close(fds[0]);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? last : -2;
}

struct keys_seen {
    long n;
    unsigned char *have;
};

/* busy() that records every queued job and takes none */
static int note_key(void *ctx, const char *key)
{
    struct keys_seen *ks = ctx;
    long k = strtol(key + strlen("Patient/"), NULL, 10);
    if (k >= 0 && k < ks->n)
        ks->have[k] = 1;
    return 1;
}

static int integrity_ok(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_open(path, &db) == SQLITE_OK &&
             sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
             sqlite3_step(st) == SQLITE_ROW &&
             strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok;
}

/* After a crash: every reported k is there, and meta n and the job count
 * agree (each commit added one job and set n together). Returns n. */
static long check_after_crash(const char *path, long last)
{
    struct store *s = open_ok(path);
    CU_ASSERT_FATAL(s != NULL);
    char v[32];
    CU_ASSERT_EQUAL_FATAL(store_meta_get(s, "n", v, sizeof v), 1);
    long n = strtol(v, NULL, 10);
    CU_ASSERT(n >= last);
    int queued = -1;
    CU_ASSERT_EQUAL(store_counts(s, &queued, NULL, NULL), 0);
    CU_ASSERT_EQUAL(queued, n + 1);
    struct keys_seen ks = {n + 1, calloc((size_t)n + 1, 1)};
    CU_ASSERT_FATAL(ks.have != NULL);
    struct store_job none;
    CU_ASSERT_EQUAL(store_job_due(s, INT64_MAX, note_key, &ks, &none, 1), 0);
    long missing = 0;
    for (long k = 0; k <= n; k++)
        missing += !ks.have[k];
    CU_ASSERT_EQUAL(missing, 0);
    free(ks.have);
    store_close(s);
    CU_ASSERT(integrity_ok(path));
    return n;
}

static void test_crash(void)
{
    const char *path = db_path("crash.db");
    CU_ASSERT_FATAL(path != NULL);
    /* kill at different points: right after a commit, or a little later */
    static const int reads[] = {3, 17, 40, 1, 5, 9};
    static const long delay_us[] = {0, 300, 0, 1000, 2500, 7000};
    long start = 0;
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        long last = crash_round(path, start, reads[i], delay_us[i]);
        CU_ASSERT_FATAL(last >= start + reads[i] - 1);
        start = check_after_crash(path, last) + 1;
    }
}

/* ---- issue 11: migration from schema 1, mirror, seeded, holds, writes ---- */

/* The previous release's schema (migration 1 exactly as shipped) and a few
 * rows of queued work, as that release left them. */
static const char store_v1_fixture[] =
    "PRAGMA journal_mode=WAL;"
    "BEGIN;"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE job("
    " key TEXT PRIMARY KEY,"
    " gen INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " due_ms INTEGER NOT NULL,"
    " first_ms INTEGER NOT NULL,"
    " touched_ms INTEGER NOT NULL,"
    " dead INTEGER NOT NULL DEFAULT 0,"
    " dead_seq INTEGER NOT NULL DEFAULT 0,"
    " error TEXT NOT NULL DEFAULT '',"
    " outcome TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX job_due ON job(dead, due_ms, key);"
    "CREATE INDEX job_dead ON job(dead, dead_seq);"
    "CREATE TABLE resolve(ref TEXT PRIMARY KEY);"
    "CREATE TABLE seen(type TEXT NOT NULL, id TEXT NOT NULL, version TEXT NOT NULL,"
    " seen_ms INTEGER NOT NULL, PRIMARY KEY(type, id, version)) WITHOUT ROWID;"
    "CREATE INDEX seen_time ON seen(seen_ms);"
    "CREATE TABLE member(ref TEXT PRIMARY KEY, case_key TEXT NOT NULL);"
    "CREATE TABLE report(report_key TEXT PRIMARY KEY, case_key TEXT NOT NULL,"
    " digest TEXT NOT NULL, status TEXT NOT NULL, written_ms INTEGER NOT NULL);"
    "CREATE INDEX report_case ON report(case_key, report_key);"
    "PRAGMA user_version=1;"
    /* rows */
    "INSERT INTO meta VALUES('poll_cursor', '2026-03-01T10:00:00Z'), ('subscription', 'Sub/7');"
    "INSERT INTO job(key, gen, attempts, due_ms, first_ms, touched_ms, error) VALUES"
    " ('Patient/1', 3, 0, 5000, 1000, 4000, ''),"
    " ('Patient/2', 1, 2, 9000, 2000, 2000, 'HTTP 503'),"
    " ('Patient/3', 7, 1, 100, 50, 60, 'timeout');"
    "INSERT INTO job(key, gen, attempts, due_ms, first_ms, touched_ms, dead, dead_seq, error,"
    " outcome) VALUES"
    " ('Patient/9', 2, 5, 700, 10, 600, 1, 1, 'HTTP 422',"
    "  '{\"resourceType\":\"OperationOutcome\"}'),"
    " ('Patient/8', 1, 5, 800, 20, 700, 1, 2, 'HTTP 400', '');"
    "INSERT INTO resolve(ref) VALUES('Observation/44'), ('Specimen/5');"
    "INSERT INTO seen VALUES('Observation', '44', '3', 1000);"
    "INSERT INTO member VALUES('Observation/10', 'Patient/1'), ('Specimen/5', 'Patient/1');"
    "INSERT INTO report VALUES"
    " ('urn:acc|S-1', 'Patient/1', 'aaaa', 'final', 3000),"
    " ('urn:acc|S-2', 'Patient/1', 'bbbb', 'preliminary', 3500);"
    "COMMIT;";

static int user_version(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* fn for store_mirror_*: appends "ref type json;" to a char[1024] */
static int mirror_cat(void *ctx, const char *ref, const char *type, const char *json)
{
    char *buf = ctx;
    size_t n = strlen(buf);
    snprintf(buf + n, 1024 - n, "%s %s %s;", ref, type, json);
    return 0;
}

static int mirror_stop_after_one(void *ctx, const char *ref, const char *type, const char *json)
{
    mirror_cat(ctx, ref, type, json);
    return 1;
}

static void test_migrate_v1(void)
{
    const char *path = db_path("v1.db");
    CU_ASSERT_FATAL(path != NULL);
    sqlite3 *db = NULL;
    CU_ASSERT_FATAL(sqlite3_open(path, &db) == SQLITE_OK);
    char *msg = NULL;
    CU_ASSERT_EQUAL(sqlite3_exec(db, store_v1_fixture, NULL, NULL, &msg), SQLITE_OK);
    if (msg)
        fprintf(stderr, "fixture: %s\n", msg);
    sqlite3_free(msg);
    sqlite3_close(db);
    CU_ASSERT_EQUAL_FATAL(user_version(path), 1);

    struct store *s = open_ok(path);
    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT_EQUAL(user_version(path), 3);
    /* queued work: every job still due when it was, attempts and error kept */
    static struct store_job out[8];
    CU_ASSERT_EQUAL(store_job_due(s, 99, NULL, NULL, out, 8), 0);
    CU_ASSERT_EQUAL_FATAL(store_job_due(s, INT64_MAX, NULL, NULL, out, 8), 3);
    CU_ASSERT_STRING_EQUAL(out[0].key, "Patient/3");
    CU_ASSERT_EQUAL(out[0].due_ms, 100);
    CU_ASSERT_EQUAL(out[0].attempts, 1);
    CU_ASSERT_EQUAL(out[0].gen, 7);
    CU_ASSERT_STRING_EQUAL(out[0].error, "timeout");
    CU_ASSERT_EQUAL(out[0].first_ms, 50);
    CU_ASSERT_EQUAL(out[0].held, 0);
    CU_ASSERT_STRING_EQUAL(out[1].key, "Patient/1");
    CU_ASSERT_EQUAL(out[1].due_ms, 5000);
    CU_ASSERT_EQUAL(out[1].attempts, 0);
    CU_ASSERT_EQUAL(out[1].gen, 3);
    CU_ASSERT_EQUAL(out[1].first_ms, 1000);
    CU_ASSERT_STRING_EQUAL(out[2].key, "Patient/2");
    CU_ASSERT_EQUAL(out[2].due_ms, 9000);
    CU_ASSERT_EQUAL(out[2].attempts, 2);
    CU_ASSERT_STRING_EQUAL(out[2].error, "HTTP 503");
    CU_ASSERT_EQUAL(out[2].held, 0);
    int64_t due = 0;
    CU_ASSERT_EQUAL(store_job_next_due(s, &due), 1);
    CU_ASSERT_EQUAL(due, 100);
    /* dead letters, oldest first */
    struct dead_seen d;
    memset(&d, 0, sizeof d);
    CU_ASSERT_EQUAL(store_dead_list(s, collect_dead, &d), 2);
    CU_ASSERT_STRING_EQUAL(d.keys[0], "Patient/9");
    CU_ASSERT_STRING_EQUAL(d.keys[1], "Patient/8");
    CU_ASSERT_EQUAL(d.last.attempts, 5);
    CU_ASSERT_STRING_EQUAL(d.last.error, "HTTP 400");
    d.n = 0;
    d.stop_after = 1;
    CU_ASSERT_EQUAL(store_dead_list(s, collect_dead, &d), 1);
    CU_ASSERT_EQUAL(d.last.attempts, 5);
    CU_ASSERT_STRING_EQUAL(d.last.error, "HTTP 422");
    CU_ASSERT_STRING_EQUAL(d.last.outcome, "{\"resourceType\":\"OperationOutcome\"}");
    int queued = -1, ndead = -1, resolving = -1;
    CU_ASSERT_EQUAL(store_counts(s, &queued, &ndead, &resolving), 0);
    CU_ASSERT_EQUAL(queued, 3);
    CU_ASSERT_EQUAL(ndead, 2);
    CU_ASSERT_EQUAL(resolving, 2);
    /* reports: digest and status kept, writes 0 */
    struct store_report r;
    CU_ASSERT_EQUAL_FATAL(store_report_get(s, "urn:acc|S-1", &r), 1);
    CU_ASSERT_STRING_EQUAL(r.digest, "aaaa");
    CU_ASSERT_STRING_EQUAL(r.status, "final");
    CU_ASSERT_STRING_EQUAL(r.case_key, "Patient/1");
    CU_ASSERT_EQUAL(r.written_ms, 3000);
    CU_ASSERT_EQUAL(r.writes, 0);
    CU_ASSERT_EQUAL_FATAL(store_report_get(s, "urn:acc|S-2", &r), 1);
    CU_ASSERT_STRING_EQUAL(r.digest, "bbbb");
    CU_ASSERT_STRING_EQUAL(r.status, "preliminary");
    CU_ASSERT_EQUAL(r.writes, 0);
    long cases = -1, writes = -1;
    CU_ASSERT_EQUAL(store_report_stats(s, &cases, &writes), 0);
    CU_ASSERT_EQUAL(cases, 2);
    CU_ASSERT_EQUAL(writes, 0);
    /* meta, members, seen, resolve kept */
    char v[64];
    CU_ASSERT_EQUAL(store_meta_get(s, "poll_cursor", v, sizeof v), 1);
    CU_ASSERT_STRING_EQUAL(v, "2026-03-01T10:00:00Z");
    CU_ASSERT_EQUAL(store_meta_get(s, "subscription", v, sizeof v), 1);
    CU_ASSERT_STRING_EQUAL(v, "Sub/7");
    CU_ASSERT_EQUAL(store_member_get(s, "Specimen/5", v, sizeof v), 1);
    CU_ASSERT_STRING_EQUAL(v, "Patient/1");
    CU_ASSERT_EQUAL(store_seen(s, "Observation", "44", "3"), 0);
    char refs[4][STORE_KEY_LEN];
    CU_ASSERT_EQUAL_FATAL(store_resolve_list(s, refs, 4), 2);
    CU_ASSERT_STRING_EQUAL(refs[0], "Observation/44");
    char finals[4][STORE_KEY_LEN];
    CU_ASSERT_EQUAL(store_member_of_final(s, "", finals, 4), 2);

    /* the new operations work on the migrated store */
    long rows = -1;
    CU_ASSERT_EQUAL(store_mirror_count(s, &rows), 0);
    CU_ASSERT_EQUAL(rows, 0);
    CU_ASSERT_EQUAL(store_mirror_put(s, "Observation/10", "Observation", "Patient/1", "1", -1,
                                     "{\"id\":\"10\"}", 6000),
                    1);
    CU_ASSERT_EQUAL(store_mirror_count(s, &rows), 0);
    CU_ASSERT_EQUAL(rows, 1);
    CU_ASSERT_EQUAL(store_seeded_get(s, "Patient/1"), 0);
    CU_ASSERT_EQUAL(store_seeded_set(s, "Patient/1", 6000), 0);
    CU_ASSERT_EQUAL(store_seeded_get(s, "Patient/1"), 1);
    /* hold a migrated job that had failed before: attempts kept, error cleared */
    struct store_job j = out[2];
    CU_ASSERT_EQUAL(store_job_hold(s, &j, 60000), 0);
    struct store_job h;
    CU_ASSERT_FATAL(find_job(s, "Patient/2", &h));
    CU_ASSERT_EQUAL(h.held, 1);
    CU_ASSERT_EQUAL(h.due_ms, 60000);
    CU_ASSERT_EQUAL(h.attempts, 2);
    CU_ASSERT_STRING_EQUAL(h.error, "");
    CU_ASSERT_EQUAL(h.first_ms, 2000);
    CU_ASSERT_EQUAL(store_job_touch(s, "Patient/2", 7000, 100), 0);
    CU_ASSERT_FATAL(find_job(s, "Patient/2", &h));
    CU_ASSERT_EQUAL(h.held, 0);
    CU_ASSERT_EQUAL(h.due_ms, 7100);
    CU_ASSERT_EQUAL(h.first_ms, 2000);
    r = (struct store_report){.digest = "cccc", .status = "final", .case_key = "Patient/1",
                              .written_ms = 7000};
    CU_ASSERT_EQUAL(store_report_put(s, "urn:acc|S-2", &r), 0);
    CU_ASSERT_EQUAL_FATAL(store_report_get(s, "urn:acc|S-2", &r), 1);
    CU_ASSERT_EQUAL(r.writes, 1);
    CU_ASSERT_STRING_EQUAL(r.digest, "cccc");
    /* a dead letter of the old release replays */
    CU_ASSERT_EQUAL(store_dead_replay(s, "Patient/9", 8000), 1);
    CU_ASSERT_FATAL(find_job(s, "Patient/9", &h));
    CU_ASSERT_EQUAL(h.due_ms, 8000);
    CU_ASSERT_EQUAL(h.held, 0);
    store_close(s);

    /* opening again does not migrate again and keeps it all */
    s = open_ok(path);
    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT_EQUAL(user_version(path), 3);
    CU_ASSERT_EQUAL(store_mirror_count(s, &rows), 0);
    CU_ASSERT_EQUAL(rows, 1);
    CU_ASSERT_EQUAL(store_seeded_get(s, "Patient/1"), 1);
    CU_ASSERT_EQUAL(store_report_stats(s, &cases, &writes), 0);
    CU_ASSERT_EQUAL(cases, 2);
    CU_ASSERT_EQUAL(writes, 1);
    CU_ASSERT_EQUAL(store_counts(s, &queued, &ndead, NULL), 0);
    CU_ASSERT_EQUAL(queued, 4);
    CU_ASSERT_EQUAL(ndead, 1);
    store_close(s);
    CU_ASSERT(integrity_ok(path));
}

/* The JSON stored for ref ("" if absent) into buf[1024]. */
static const char *mirror_json(struct store *s, const char *ref, char *buf)
{
    char all[1024] = "";
    buf[0] = '\0';
    if (store_mirror_get(s, ref, mirror_cat, all) == 1) {
        const char *sp = strchr(all, ' ');
        sp = sp ? strchr(sp + 1, ' ') : NULL;
        if (sp) {
            snprintf(buf, 1024, "%s", sp + 1);
            size_t n = strlen(buf);
            if (n && buf[n - 1] == ';')
                buf[n - 1] = '\0';
        }
    }
    return buf;
}

/* The ordering rules of store_mirror_put; tx: all in one transaction. */
static void mirror_rules(struct store *s, int tx)
{
    char b[1024];
    const char *o = "Observation/1", *ob = "Observation";
    if (tx)
        CU_ASSERT_EQUAL_FATAL(store_begin(s), 0);
    /* numeric versions, delivered out of order */
    CU_ASSERT_EQUAL(store_mirror_put(s, o, ob, "Patient/1", "2", 2000, "{v2}", 1), 1);
    CU_ASSERT_EQUAL(store_mirror_put(s, o, ob, "Patient/1", "1", 1000, "{v1}", 2), 0);
    CU_ASSERT_STRING_EQUAL(mirror_json(s, o, b), "{v2}");
    CU_ASSERT_EQUAL(store_mirror_put(s, o, ob, "Patient/1", "2", 2000, "{v2}", 3), 0); /* same */
    CU_ASSERT_EQUAL(store_mirror_put(s, o, ob, "Patient/1", "2", 2500, "{v2x}", 3), 0);
    CU_ASSERT_STRING_EQUAL(mirror_json(s, o, b), "{v2}");
    CU_ASSERT_EQUAL(store_mirror_put(s, o, ob, "Patient/1", "9", 3000, "{v9}", 4), 1);
    /* numbers, not strings: 10 > 9; a version wins over a contradicting time */
    CU_ASSERT_EQUAL(store_mirror_put(s, o, ob, "Patient/1", "10", 100, "{v10}", 5), 1);
    CU_ASSERT_EQUAL(store_mirror_put(s, o, ob, "Patient/1", "9", 9000, "{v9}", 6), 0);
    CU_ASSERT_EQUAL(store_mirror_put(s, o, ob, "Patient/1", "010", 9000, "{v010}", 6), 0);
    CU_ASSERT_STRING_EQUAL(mirror_json(s, o, b), "{v10}");
    /* longer than any integer type */
    CU_ASSERT_EQUAL(store_mirror_put(s, o, ob, "Patient/1", "99999999999999999999999", -1,
                                     "{big}", 7),
                    1);
    CU_ASSERT_EQUAL(store_mirror_put(s, o, ob, "Patient/1", "99999999999999999999998", -1,
                                     "{big-1}", 7),
                    0);
    CU_ASSERT_EQUAL(store_mirror_put(s, o, ob, "Patient/1", "100000000000000000000000", -1,
                                     "{big+1}", 7),
                    1);
    CU_ASSERT_STRING_EQUAL(mirror_json(s, o, b), "{big+1}");

    /* versions not numbers: lastUpdated decides */
    const char *c = "Condition/1", *co = "Condition";
    CU_ASSERT_EQUAL(store_mirror_put(s, c, co, "Patient/1", "b", 100, "{b}", 1), 1);
    CU_ASSERT_EQUAL(store_mirror_put(s, c, co, "Patient/1", "a", 50, "{a}", 2), 0);
    CU_ASSERT_EQUAL(store_mirror_put(s, c, co, "Patient/1", "c", 100, "{c}", 3), 0); /* equal */
    CU_ASSERT_STRING_EQUAL(mirror_json(s, c, b), "{b}");
    CU_ASSERT_EQUAL(store_mirror_put(s, c, co, "Patient/1", "3", 200, "{3}", 4), 1); /* mixed */
    CU_ASSERT_EQUAL(store_mirror_put(s, c, co, "Patient/1", "4", 150, "{4}", 4), 1); /* digits */
    CU_ASSERT_EQUAL(store_mirror_put(s, c, co, "Patient/1", "x", 150, "{x}", 4), 0);  /* time */
    CU_ASSERT_STRING_EQUAL(mirror_json(s, c, b), "{4}");

    /* cannot tell: stored if versionId or JSON differs */
    const char *sp = "Specimen/1", *spt = "Specimen";
    CU_ASSERT_EQUAL(store_mirror_put(s, sp, spt, "Patient/1", "", -1, "{s1}", 1), 1);
    CU_ASSERT_EQUAL(store_mirror_put(s, sp, spt, "Patient/1", "", -1, "{s1}", 2), 0);
    CU_ASSERT_EQUAL(store_mirror_put(s, sp, spt, "Patient/1", NULL, -7, "{s1}", 2), 0);
    CU_ASSERT_EQUAL(store_mirror_put(s, sp, spt, "Patient/1", "", -1, "{s2}", 3), 1);
    CU_ASSERT_EQUAL(store_mirror_put(s, sp, spt, "Patient/1", "v", 500, "{s2}", 4), 1);
    CU_ASSERT_EQUAL(store_mirror_put(s, sp, spt, "Patient/1", "v", -1, "{s2}", 5), 0);
    CU_ASSERT_EQUAL(store_mirror_put(s, sp, spt, "Patient/1", "w", -1, "{s2}", 5), 1);
    CU_ASSERT_STRING_EQUAL(mirror_json(s, sp, b), "{s2}");
    /* a newer version may move to another patient */
    CU_ASSERT_EQUAL(store_mirror_put(s, sp, spt, "Patient/2", "x", 600, "{s3}", 6), 1);

    /* of_patient: ref order, stop, no patient */
    CU_ASSERT_EQUAL(store_mirror_put(s, "Observation/0", ob, "Patient/1", "1", -1, "{o0}", 7), 1);
    CU_ASSERT_EQUAL(store_mirror_put(s, "Medication/1", "Medication", "", "1", -1, "{m}", 7), 1);
    char all[1024] = "";
    CU_ASSERT_EQUAL(store_mirror_of_patient(s, "Patient/1", mirror_cat, all), 3);
    CU_ASSERT_STRING_EQUAL(all, "Condition/1 Condition {4};Observation/0 Observation {o0};"
                                "Observation/1 Observation {big+1};");
    all[0] = '\0';
    CU_ASSERT_EQUAL(store_mirror_of_patient(s, "Patient/1", mirror_stop_after_one, all), 1);
    CU_ASSERT_STRING_EQUAL(all, "Condition/1 Condition {4};");
    all[0] = '\0';
    CU_ASSERT_EQUAL(store_mirror_of_patient(s, "Patient/2", mirror_cat, all), 1);
    CU_ASSERT_STRING_EQUAL(all, "Specimen/1 Specimen {s3};");
    all[0] = '\0';
    CU_ASSERT_EQUAL(store_mirror_of_patient(s, "", mirror_cat, all), 1);
    CU_ASSERT_STRING_EQUAL(all, "Medication/1 Medication {m};");
    CU_ASSERT_EQUAL(store_mirror_of_patient(s, "Patient/404", mirror_cat, all), 0);
    CU_ASSERT_EQUAL(store_mirror_of_patient(s, "Patient/1", NULL, NULL), 3);
    long rows = -1;
    CU_ASSERT_EQUAL(store_mirror_count(s, &rows), 0);
    CU_ASSERT_EQUAL(rows, 5);

    /* get and remove */
    all[0] = '\0';
    CU_ASSERT_EQUAL(store_mirror_get(s, "Observation/0", mirror_cat, all), 1);
    CU_ASSERT_STRING_EQUAL(all, "Observation/0 Observation {o0};");
    CU_ASSERT_EQUAL(store_mirror_get(s, "Observation/404", mirror_cat, all), 0);
    CU_ASSERT_EQUAL(store_mirror_remove(s, "Observation/0"), 1);
    CU_ASSERT_EQUAL(store_mirror_remove(s, "Observation/0"), 0);
    CU_ASSERT_EQUAL(store_mirror_get(s, "Observation/0", mirror_cat, all), 0);
    /* after a delete the resource comes back with any version */
    CU_ASSERT_EQUAL(store_mirror_put(s, "Observation/0", ob, "Patient/1", "1", -1, "{o0'}", 8), 1);
    CU_ASSERT_EQUAL(store_mirror_count(s, &rows), 0);
    CU_ASSERT_EQUAL(rows, 5);

    /* refused */
    CU_ASSERT_EQUAL(store_mirror_put(s, "", ob, "Patient/1", "1", -1, "{}", 9), -1);
    CU_ASSERT_EQUAL(store_mirror_put(s, NULL, ob, "Patient/1", "1", -1, "{}", 9), -1);
    CU_ASSERT_EQUAL(store_mirror_put(s, "Observation/5", ob, "Patient/1", "1", -1, NULL, 9), -1);
    char longkey[STORE_KEY_LEN + 8];
    memset(longkey, 'x', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    CU_ASSERT_EQUAL(store_mirror_put(s, longkey, ob, "Patient/1", "1", -1, "{}", 9), -1);
    CU_ASSERT_EQUAL(store_mirror_put(s, "Observation/5", ob, longkey, "1", -1, "{}", 9), -1);
    if (tx)
        CU_ASSERT_EQUAL(store_commit(s), 0);
}

static void test_mirror(void)
{
    for (int tx = 0; tx < 2; tx++) {
        struct store *s = fresh(tx ? "mirror-tx.db" : "mirror.db");
        CU_ASSERT_FATAL(s != NULL);
        mirror_rules(s, tx);
        store_close(s);
    }
    /* durable, and a rolled-back put leaves nothing */
    const char *path = dbs[ndbs - 1];
    struct store *s = open_ok(path);
    CU_ASSERT_FATAL(s != NULL);
    char b[1024];
    CU_ASSERT_STRING_EQUAL(mirror_json(s, "Observation/1", b), "{big+1}");
    CU_ASSERT_EQUAL(store_begin(s), 0);
    CU_ASSERT_EQUAL(store_mirror_put(s, "Observation/77", "Observation", "Patient/1", "1", -1,
                                     "{77}", 1),
                    1);
    CU_ASSERT_EQUAL(store_mirror_put(s, "Observation/1", "Observation", "Patient/1",
                                     "200000000000000000000000", -1, "{newer}", 1),
                    1);
    store_rollback(s);
    CU_ASSERT_EQUAL(store_mirror_get(s, "Observation/77", NULL, NULL), 0);
    CU_ASSERT_STRING_EQUAL(mirror_json(s, "Observation/1", b), "{big+1}");
    store_close(s);
}

static void test_seeded(void)
{
    struct store *s = fresh("seeded.db");
    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT_EQUAL(store_seeded_get(s, "Patient/1"), 0);
    CU_ASSERT_EQUAL(store_seeded_set(s, "Patient/1", 100), 0);
    CU_ASSERT_EQUAL(store_seeded_set(s, "Patient/1", 200), 0); /* idempotent */
    CU_ASSERT_EQUAL(store_seeded_get(s, "Patient/1"), 1);
    CU_ASSERT_EQUAL(store_seeded_get(s, "Patient/2"), 0);
    CU_ASSERT_EQUAL(store_begin(s), 0);
    CU_ASSERT_EQUAL(store_seeded_set(s, "Patient/2", 300), 0);
    CU_ASSERT_EQUAL(store_seeded_get(s, "Patient/2"), 1);
    store_rollback(s);
    CU_ASSERT_EQUAL(store_seeded_get(s, "Patient/2"), 0);
    CU_ASSERT_EQUAL(store_begin(s), 0);
    CU_ASSERT_EQUAL(store_seeded_forget(s, "Patient/1"), 0);
    CU_ASSERT_EQUAL(store_seeded_set(s, "Patient/2", 300), 0);
    CU_ASSERT_EQUAL(store_commit(s), 0);
    CU_ASSERT_EQUAL(store_seeded_get(s, "Patient/1"), 0);
    CU_ASSERT_EQUAL(store_seeded_get(s, "Patient/2"), 1);
    CU_ASSERT_EQUAL(store_seeded_forget(s, "Patient/1"), 0);
    CU_ASSERT_EQUAL(store_seeded_set(s, "", 1), -1);
    store_close(s);
}

/* Each step in its own transaction when tx (as the pipeline does). */
#define TX(s, tx, call)                                                                        \
    do {                                                                                       \
        if (tx)                                                                                \
            CU_ASSERT_EQUAL_FATAL(store_begin(s), 0);                                          \
        CU_ASSERT_EQUAL(call, 0);                                                              \
        if (tx)                                                                                \
            CU_ASSERT_EQUAL_FATAL(store_commit(s), 0);                                         \
    } while (0)

static void hold_rules(struct store *s, int tx)
{
    struct store_job j, h;
    int64_t due;
    /* hold, then a touch: due at now + settle, first_ms kept */
    TX(s, tx, store_job_touch(s, "Patient/1", 1000, 100));
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &j));
    CU_ASSERT_EQUAL(j.first_ms, 1000);
    CU_ASSERT_EQUAL(j.held, 0);
    TX(s, tx, store_job_hold(s, &j, 50000));
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &h));
    CU_ASSERT_EQUAL(h.held, 1);
    CU_ASSERT_EQUAL(h.due_ms, 50000);
    CU_ASSERT_EQUAL(h.gen, j.gen);
    CU_ASSERT_EQUAL(h.attempts, 0);
    CU_ASSERT_EQUAL(h.first_ms, 1000);
    CU_ASSERT_EQUAL(store_job_due(s, 49999, NULL, NULL, &h, 1), 0);
    CU_ASSERT_EQUAL(store_job_next_due(s, &due), 1);
    CU_ASSERT_EQUAL(due, 50000);
    /* long past the settle cap (first + 10 * settle = 2000): still now + settle */
    TX(s, tx, store_job_touch(s, "Patient/1", 30000, 100));
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &h));
    CU_ASSERT_EQUAL(h.held, 0);
    CU_ASSERT_EQUAL(h.due_ms, 30100);
    CU_ASSERT_EQUAL(h.gen, j.gen + 1);
    CU_ASSERT_EQUAL(h.first_ms, 1000);
    /* the next touch follows the queued rule: capped, so it stays */
    TX(s, tx, store_job_touch(s, "Patient/1", 30050, 100));
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &h));
    CU_ASSERT_EQUAL(h.due_ms, 30100);
    /* the run of the old gen holds: stale, nothing changes */
    TX(s, tx, store_job_hold(s, &j, 90000));
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &h));
    CU_ASSERT_EQUAL(h.held, 0);
    CU_ASSERT_EQUAL(h.due_ms, 30100);
    /* held again by the current gen, then done: gone; a new touch starts anew */
    j = h;
    TX(s, tx, store_job_hold(s, &j, 90000));
    TX(s, tx, store_job_done(s, &j));
    CU_ASSERT_EQUAL(find_job(s, "Patient/1", &h), 0);
    TX(s, tx, store_job_touch(s, "Patient/1", 95000, 100));
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &h));
    CU_ASSERT_EQUAL(h.first_ms, 95000);
    CU_ASSERT_EQUAL(h.due_ms, 95100);

    /* a job in retry backoff: a touch keeps the later due */
    TX(s, tx, store_job_touch(s, "Patient/2", 1000, 100));
    CU_ASSERT_FATAL(find_job(s, "Patient/2", &j));
    TX(s, tx, store_job_retry(s, &j, 10000, "HTTP 503"));
    TX(s, tx, store_job_touch(s, "Patient/2", 1200, 100));
    CU_ASSERT_FATAL(find_job(s, "Patient/2", &h));
    CU_ASSERT_EQUAL(h.held, 0);
    CU_ASSERT_EQUAL(h.due_ms, 10000);
    CU_ASSERT_EQUAL(h.attempts, 1);
    CU_ASSERT_STRING_EQUAL(h.error, "HTTP 503");
    /* held after a failed attempt: attempts kept, error cleared */
    j = h;
    TX(s, tx, store_job_hold(s, &j, 70000));
    CU_ASSERT_FATAL(find_job(s, "Patient/2", &h));
    CU_ASSERT_EQUAL(h.held, 1);
    CU_ASSERT_EQUAL(h.attempts, 1);
    CU_ASSERT_STRING_EQUAL(h.error, "");
    CU_ASSERT_EQUAL(h.due_ms, 70000);
    /* the held run fails: in backoff now (held 0), a touch does not cut it */
    TX(s, tx, store_job_retry(s, &j, 80000, "HTTP 500"));
    CU_ASSERT_FATAL(find_job(s, "Patient/2", &h));
    CU_ASSERT_EQUAL(h.held, 0);
    CU_ASSERT_EQUAL(h.attempts, 2);
    TX(s, tx, store_job_touch(s, "Patient/2", 71000, 100));
    CU_ASSERT_FATAL(find_job(s, "Patient/2", &h));
    CU_ASSERT_EQUAL(h.due_ms, 80000);
    CU_ASSERT_EQUAL(h.first_ms, 1000);

    /* a dead job is not held; a held job that dies is not held */
    j = h;
    TX(s, tx, store_job_hold(s, &j, 99000));
    TX(s, tx, store_job_dead(s, &j, "HTTP 422", "{}"));
    TX(s, tx, store_job_hold(s, &j, 99000));
    int dead = 0;
    CU_ASSERT_EQUAL(store_counts(s, NULL, &dead, NULL), 0);
    CU_ASSERT_EQUAL(dead, 1);
    CU_ASSERT_EQUAL(find_job(s, "Patient/2", &h), 0);
    TX(s, tx, store_dead_replay(s, "Patient/2", 100000) == 1 ? 0 : -1);
    CU_ASSERT_FATAL(find_job(s, "Patient/2", &h));
    CU_ASSERT_EQUAL(h.held, 0);
    CU_ASSERT_EQUAL(h.due_ms, 100000);
}

static void test_hold(void)
{
    for (int tx = 0; tx < 2; tx++) {
        struct store *s = fresh(tx ? "hold-tx.db" : "hold.db");
        CU_ASSERT_FATAL(s != NULL);
        hold_rules(s, tx);
        store_close(s);
    }
    /* all of it inside one transaction, then durable */
    const char *path = db_path("hold-one-tx.db");
    struct store *s = open_ok(path);
    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT_EQUAL_FATAL(store_begin(s), 0);
    hold_rules(s, 0);
    CU_ASSERT_EQUAL(store_commit(s), 0);
    store_close(s);
    s = open_ok(path);
    CU_ASSERT_FATAL(s != NULL);
    struct store_job h;
    CU_ASSERT_FATAL(find_job(s, "Patient/1", &h));
    CU_ASSERT_EQUAL(h.first_ms, 95000);
    CU_ASSERT_FATAL(find_job(s, "Patient/2", &h));
    CU_ASSERT_EQUAL(h.due_ms, 100000);
    store_close(s);
}

static void report_writes(struct store *s, int tx)
{
    struct store_report r = {.digest = "d1", .status = "preliminary", .case_key = "Patient/1",
                             .written_ms = 10, .writes = 99 /* ignored */};
    struct store_report g;
    long cases = -1, writes = -1;
    CU_ASSERT_EQUAL(store_report_stats(s, &cases, &writes), 0);
    CU_ASSERT_EQUAL(cases, 0);
    CU_ASSERT_EQUAL(writes, 0);
    TX(s, tx, store_report_put(s, "urn:a|1", &r));
    CU_ASSERT_EQUAL_FATAL(store_report_get(s, "urn:a|1", &g), 1);
    CU_ASSERT_EQUAL(g.writes, 1);
    snprintf(r.digest, sizeof r.digest, "d2");
    snprintf(r.status, sizeof r.status, "final");
    TX(s, tx, store_report_put(s, "urn:a|1", &r));
    TX(s, tx, store_report_put(s, "urn:a|1", &r));
    TX(s, tx, store_report_put(s, "urn:a|2", &r));
    CU_ASSERT_EQUAL_FATAL(store_report_get(s, "urn:a|1", &g), 1);
    CU_ASSERT_EQUAL(g.writes, 3);
    CU_ASSERT_STRING_EQUAL(g.digest, "d2");
    CU_ASSERT_STRING_EQUAL(g.status, "final");
    struct reports_seen c;
    memset(&c, 0, sizeof c);
    CU_ASSERT_EQUAL(store_report_of_case(s, "Patient/1", collect_report, &c), 2);
    CU_ASSERT_EQUAL(c.r[0].writes, 3);
    CU_ASSERT_EQUAL(c.r[1].writes, 1);
    CU_ASSERT_EQUAL(store_report_stats(s, &cases, &writes), 0);
    CU_ASSERT_EQUAL(cases, 2);
    CU_ASSERT_EQUAL(writes, 4);
    CU_ASSERT_EQUAL(store_report_stats(s, NULL, NULL), 0);
    /* a rolled-back write is not counted */
    CU_ASSERT_EQUAL_FATAL(store_begin(s), 0);
    CU_ASSERT_EQUAL(store_report_put(s, "urn:a|1", &r), 0);
    CU_ASSERT_EQUAL(store_report_put(s, "urn:a|3", &r), 0);
    CU_ASSERT_EQUAL(store_report_stats(s, &cases, &writes), 0);
    CU_ASSERT_EQUAL(writes, 6);
    store_rollback(s);
    CU_ASSERT_EQUAL(store_report_stats(s, &cases, &writes), 0);
    CU_ASSERT_EQUAL(cases, 2);
    CU_ASSERT_EQUAL(writes, 4);
}

static void test_report_writes(void)
{
    for (int tx = 0; tx < 2; tx++) {
        struct store *s = fresh(tx ? "writes-tx.db" : "writes.db");
        CU_ASSERT_FATAL(s != NULL);
        report_writes(s, tx);
        store_close(s);
    }
}

/* issue 13 item 3 (I14): the resources of a report written one at a time */
static void test_report_parts(void)
{
    struct store *s = fresh("parts.db");
    CU_ASSERT_FATAL(s != NULL);
    char written[96], ref[STORE_KEY_LEN];
    const char *key = "http://lis|S1", *part = "urn:uuid:0f8c1d4e-0000-5000-8000-000000000001";
    CU_ASSERT_EQUAL(store_report_part_get(s, key, part, written, sizeof written, ref, sizeof ref), 0);
    CU_ASSERT_EQUAL(store_report_part_put(s, key, part, "d1 final", "Observation/7"), 0);
    CU_ASSERT_EQUAL(store_report_part_get(s, key, part, written, sizeof written, ref, sizeof ref), 1);
    CU_ASSERT_STRING_EQUAL(written, "d1 final");
    CU_ASSERT_STRING_EQUAL(ref, "Observation/7");
    /* a rewrite replaces it; another report's part of the same fullUrl is apart */
    CU_ASSERT_EQUAL(store_report_part_put(s, key, part, "d2 amended", "Observation/7"), 0);
    CU_ASSERT_EQUAL(store_report_part_put(s, "http://lis|S2", part, "d9 final", "Observation/9"), 0);
    CU_ASSERT_EQUAL(store_report_part_get(s, key, part, written, sizeof written, ref, sizeof ref), 1);
    CU_ASSERT_STRING_EQUAL(written, "d2 amended");
    /* refused: an empty key or reference */
    CU_ASSERT_EQUAL(store_report_part_put(s, "", part, "d", "Observation/1"), -1);
    CU_ASSERT_EQUAL(store_report_part_put(s, key, part, "d", ""), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(store_error(s), "report part put"));
    store_close(s);
}

/* ---- main ---- */

static int make_scratch(int argc, char **argv)
{
    if (argc > 1) {
        snprintf(scratch, sizeof scratch, "%s", argv[1]);
        return 0;
    }
    snprintf(scratch, sizeof scratch, "/tmp/test_store.XXXXXX");
    if (!mkdtemp(scratch)) {
        perror("mkdtemp");
        return -1;
    }
    scratch_made = 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (make_scratch(argc, argv) != 0)
        return 2;
    CU_TestInfo tests[] = {{"unwritable path gives NULL and a message", test_open_unwritable},
                           {"WAL, schema version, newer schema refused", test_pragmas_and_schema},
                           {"meta", test_meta},
                           {"touch: gen, due, settle cap (I10)", test_touch_settle},
                           {"due: order, busy keys, max", test_due_order_busy},
                           {"done only matches gen (I10)", test_done_gen},
                           {"retry and backoff (I9)", test_retry},
                           {"dead letters: list, replay one and all (I9)", test_dead_replay},
                           {"touch revives a dead job", test_touch_revives_dead},
                           {"resolve", test_resolve},
                           {"seen versions: dedupe and prune (I3)", test_seen},
                           {"members (I6)", test_member},
                           {"reports (I8)", test_report},
                           {"members of final reports (I6: lost deletes)", test_member_of_final},
                           {"begin/rollback/commit", test_transactions},
                           {"durable across close and open (I7)", test_reopen},
                           {"kill -9 mid-transaction loses no commit (I7)", test_crash},
                           {"schema 1 store migrated, queued work kept", test_migrate_v1},
                           {"mirror: versions only move forward, of patient", test_mirror},
                           {"seeded patients", test_seeded},
                           {"holds: touch releases, stale gen, backoff kept", test_hold},
                           {"report writes per case", test_report_writes},
                           {"report parts: ordered single writes (I14)", test_report_parts},
                           CU_TEST_INFO_NULL};
    int rc = test_run_suite("store", tests);
    for (int i = 0; i < ndbs; i++)
        unlink_db(dbs[i]);
    if (scratch_made && rmdir(scratch) != 0)
        perror(scratch);
    return rc;
}
