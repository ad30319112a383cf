/*
 * test_faults.c - issue 12 item 6, fault injection as SQLite tests itself
 * (interop.md I7: a notification is acknowledged only once stored). One
 * Backport notification of 15 inputs of a real case (examples/fhir/
 * gastric-type1.json, as test_faults_notification.json) goes through
 * intake_batch, the function whose 0 lets the listener answer 200 and
 * whose -1 makes it answer 503, on a real SQLite store in a scratch
 * directory, while:
 *  - the Nth allocation fails (test_faults_alloc.h), N = 1, 2, ... until
 *    intake passes untouched; persistently (every later one fails too) and
 *    once (only the Nth);
 *  - the disk fails under SQLite (store_faults.h VFS): the kth write
 *    returns SQLITE_FULL, or the kth write/fsync/read/truncate
 *    SQLITE_IOERR_*, k = 0, 1, ... until none fails;
 *  - another connection holds the write lock (BEGIN EXCLUSIVE) longer than
 *    the store's busy_timeout: SQLITE_BUSY.
 * After each try: either intake returned 0 and the store holds the whole
 * notification (its content equals that of a clean run), or it returned -1
 * and the store is exactly as before (nothing half-stored: no job without
 * its inputs, no input without its job). Then the fault ends and the same
 * store connection (the daemon keeps its own) takes the notification: it
 * recovers. Valgrind and ASan builds run it for leaks and memory errors.
 * argv[1]: the notification (default: next to this file, compiled in);
 * argv[2]: a scratch directory ("-" or none: a fresh mkdtemp in /dev/shm,
 * or /tmp); argv[3]: a stride S (default 1): N and k go 1, 1+S, 1+2S, ...
 * (under valgrind every N would take most of an hour).
 */
#include "test_util.h"
#include "test_faults_alloc.h"

#include "adapter_log.h"
#include "daemon.h"
#include "fhir_notify.h"
#include "intake.h"
#include "nen_codes.h"
#include "run_config.h"
#include "store.h"
#include "store_faults.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef FAULTS_NOTIFICATION
#define FAULTS_NOTIFICATION "test_faults_notification.json"
#endif

static const char *notification_path = FAULTS_NOTIFICATION;
static char scratch[256];
static int scratch_made;
static char *body;            /* the notification's bytes */
static size_t body_len;
static struct fhir_notify_batch batch;
static struct nen_codes *codes;
static struct run_config cfg;
static char *ref_before;      /* store content of a fresh store */
static char *ref_after;       /* ... after a clean intake of the notification */
static FILE *log_file;
static long stride = 1;

/* ---- store content, read through a second connection on the real VFS ---- */

struct text {
    char *s;
    size_t len, cap;
};

static int text_add(struct text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->cap ? t->cap * 2 : 4096) + n;
        char *p = realloc(t->s, cap);
        if (!p)
            return -1;
        t->s = p;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n + 1);
    t->len += n;
    return 0;
}

/* Every row of table, sorted, without the columns that hold a time
 * (*_ms: the clock differs between runs). */
static int dump_table(sqlite3 *db, const char *table, struct text *t)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT * FROM \"%.100s\"", table);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int ncol = sqlite3_column_count(st);
    sqlite3_finalize(st);
    size_t n = (size_t)snprintf(sql, sizeof sql, "SELECT * FROM \"%.100s\" ORDER BY 1", table);
    for (int i = 2; i <= ncol && n < sizeof sql - 8; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ",%d", i);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = 0, step;
    text_add(t, table);
    text_add(t, ":\n");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < ncol && rc == 0; i++) {
            const char *name = sqlite3_column_name(st, i);
            size_t nl = name ? strlen(name) : 0;
            if (nl > 3 && strcmp(name + nl - 3, "_ms") == 0)
                continue;
            const char *v = (const char *)sqlite3_column_text(st, i);
            rc = text_add(t, v ? v : "NULL") || text_add(t, "|");
        }
        if (rc == 0)
            rc = text_add(t, "\n");
    }
    if (step != SQLITE_DONE)
        rc = -1;
    sqlite3_finalize(st);
    return rc;
}

/* The whole content of the database at path (committed state), malloc'd;
 * NULL on an error. */
static char *store_content(const char *path)
{
    sqlite3 *db = NULL;
    struct text t = {0};
    char *names[32];
    int nt = 0, ok = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, "unix") != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY 1",
                           -1, &st, NULL) != SQLITE_OK)
        goto out;
    while (nt < 32 && sqlite3_step(st) == SQLITE_ROW)
        names[nt++] = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    ok = 1;
    for (int i = 0; i < nt; i++) {
        if (!names[i] || dump_table(db, names[i], &t) != 0)
            ok = 0;
        free(names[i]);
    }
out:
    sqlite3_close(db);
    if (!ok) {
        free(t.s);
        return NULL;
    }
    return t.s ? t.s : strdup("");
}

/* ---- one daemon (the parts intake uses) on a fresh store ---- */

static void store_path(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s.db", scratch, name);
}

static void remove_db(const char *path)
{
    char p[400];
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
}

static int daemon_open(struct daemon *d, const char *path)
{
    char err[256];
    memset(d, 0, sizeof *d);
    d->cfg = &cfg;
    d->codes = codes;
    remove_db(path);
    d->store = store_open(path, err, sizeof err);
    if (!d->store)
        fprintf(stderr, "\n  store_open: %s\n", err);
    return d->store ? 0 : -1;
}

static void daemon_close(struct daemon *d, const char *path)
{
    store_close(d->store);
    d->store = NULL;
    remove_db(path);
}

/* After a faulted intake_batch that returned rc: all or nothing. Returns
 * 1 when the notification is stored, 0 when nothing is, -1 (asserted) when
 * the store holds something else. */
static int check_all_or_nothing(const char *path, int rc, const char *what, long n)
{
    char *now = store_content(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(now);
    int stored = strcmp(now, ref_after) == 0, untouched = strcmp(now, ref_before) == 0;
    int good = rc == 0 ? stored : untouched;
    if (!good) {
        fprintf(stderr, "\n  %s %ld: intake returned %d and the store holds %s\n", what, n, rc,
                stored ? "the notification" : untouched ? "nothing" : "part of it:");
        if (!stored && !untouched)
            fprintf(stderr, "%.3000s\n", now);
    }
    CU_ASSERT(good);
    free(now);
    return !good ? -1 : stored;
}

/* The fault is over: the same connection takes the notification. */
static void check_recovers(struct daemon *d, const char *path, const char *what, long n)
{
    int catchup = 0;
    int rc = intake_batch(d, &batch, &catchup);
    if (rc != 0)
        fprintf(stderr, "\n  %s %ld: after the fault, intake failed: %s\n", what, n,
                store_error(d->store));
    CU_ASSERT_EQUAL(rc, 0);
    char *now = store_content(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(now);
    CU_ASSERT_STRING_EQUAL(now, ref_after);
    free(now);
}

/* ---- setup ---- */

static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || sb.st_size <= 0) {
        fclose(f);
        return -1;
    }
    *out = malloc((size_t)sb.st_size + 1);
    *len = *out ? fread(*out, 1, (size_t)sb.st_size, f) : 0;
    fclose(f);
    if (!*out || *len != (size_t)sb.st_size)
        return -1;
    (*out)[*len] = '\0';
    return 0;
}

/* A clean run: the content a faulted run must end with (or not touch). */
static void test_I7_clean_reference(void)
{
    char path[300];
    store_path(path, sizeof path, "reference");
    struct daemon d;
    CU_ASSERT_FATAL(daemon_open(&d, path) == 0);
    ref_before = store_content(path);
    int catchup = 0;
    CU_ASSERT_EQUAL(intake_batch(&d, &batch, &catchup), 0);
    ref_after = store_content(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref_before);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref_after);
    /* the notification's 15 inputs are kept and their case queued */
    CU_ASSERT_PTR_NOT_NULL(strstr(ref_after, "job:\nPatient/p-1|"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ref_after, "Observation/obs-12|Observation|Patient/p-1|1|"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ref_after, "Specimen/spe-1|"));
    CU_ASSERT_STRING_NOT_EQUAL(ref_before, ref_after);
    daemon_close(&d, path);
}

/* ---- allocation failures ---- */

/* N = 1, 2, ...: the Nth allocation of intake_batch fails (persistent: and
 * every later one). Ends when intake makes fewer than N allocations. */
static void alloc_loop(int persistent)
{
    const char *what = persistent ? "allocations failing from" : "allocation failing once:";
    char path[300];
    store_path(path, sizeof path, persistent ? "alloc-persistent" : "alloc-once");
    long n, refused = 0, passed = 0;
    for (n = 1; n < 100000; n += stride) {
        struct daemon d;
        CU_ASSERT_FATAL(daemon_open(&d, path) == 0);
        int catchup = 0;
        fa_arm(n, persistent);
        int rc = intake_batch(&d, &batch, &catchup);
        long failed = fa_failed();
        fa_disarm();
        if (failed == 0) { /* intake made fewer than n allocations: done */
            CU_ASSERT_EQUAL(rc, 0);
            check_all_or_nothing(path, rc, what, n);
            daemon_close(&d, path);
            break;
        }
        if (rc != 0)
            refused++;
        else
            passed++;
        if (check_all_or_nothing(path, rc, what, n) < 0) {
            daemon_close(&d, path);
            break;
        }
        check_recovers(&d, path, what, n);
        daemon_close(&d, path);
    }
    printf("\n    %s: %ld allocations or fewer in one intake; %ld tries refused (503), %ld "
           "stored in spite of the failure ", persistent ? "persistent" : "once", n - 1, refused,
           passed);
    CU_ASSERT(n > 20);      /* the loop did run over the whole intake */
    CU_ASSERT(refused > 0);
}

static void test_I7_alloc_fails_persistent(void)
{
    alloc_loop(1);
}

static void test_I7_alloc_fails_once(void)
{
    alloc_loop(0);
}

/* The first allocation of reading a notification (json-c's tokener) fails:
 * the error says out of memory, which the listener answers 503 (sent again),
 * not 400. Deeper inside json-c 0.16 a failed allocation cannot be told from
 * bad input (it drops the member, or crashes on a name it failed to copy). */
static void test_I7_alloc_fails_parse_start(void)
{
    struct fhir_notify_request rq = {"POST", "", "application/fhir+json", NULL, body, body_len};
    struct fhir_notify_batch b;
    struct fhir_error e = {0};
    fa_arm(1, 0);
    int rc = fhir_notify_parse(&rq, NULL, &b, &e);
    fa_disarm();
    CU_ASSERT_NOT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(e.out_of_memory, 1);
    CU_ASSERT_STRING_EQUAL(e.msg, "body: out of memory");
    if (rc == 0)
        fhir_notify_batch_free(&b);
    fhir_error_set(&e, "an input error");
    CU_ASSERT_EQUAL(e.out_of_memory, 0); /* a later error is the input's again */
}

/* ---- disk faults under SQLite ---- */

/* Another connection commits twice (a row in, the same row out): the
 * content stays, but the store's page cache is stale and its next
 * transaction reads the pages from the files again. */
static void make_cache_cold(const char *path)
{
    sqlite3 *other = NULL;
    CU_ASSERT_FATAL(sqlite3_open_v2(path, &other, SQLITE_OPEN_READWRITE, "unix") == SQLITE_OK);
    CU_ASSERT(sqlite3_exec(other, "INSERT INTO meta VALUES('cold', '1');"
                                  "DELETE FROM meta WHERE key = 'cold'",
                           NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(other);
}

/* k = 0, 1, ...: the kth call of ops fails (persistent: and every later
 * one), until an intake runs with no call failing. cold: the store's page
 * cache is made stale first (make_cache_cold), so that reads reach the
 * files. */
static void disk_loop(unsigned ops, int full, int persistent, int cold, const char *what)
{
    char path[300];
    store_path(path, sizeof path, "disk");
    long k, refused = 0;
    for (k = 0; k < 10000; k += stride) {
        struct daemon d;
        CU_ASSERT_FATAL(daemon_open(&d, path) == 0);
        int catchup = 0;
        if (cold)
            make_cache_cold(path);
        store_faults_arm(ops, full, k, persistent);
        int rc = intake_batch(&d, &batch, &catchup);
        long failed = store_faults_failed();
        store_faults_disarm();
        if (failed == 0) {
            CU_ASSERT_EQUAL(rc, 0);
            check_all_or_nothing(path, rc, what, k);
            daemon_close(&d, path);
            break;
        }
        refused += rc != 0;
        if (check_all_or_nothing(path, rc, what, k) < 0) {
            daemon_close(&d, path);
            break;
        }
        check_recovers(&d, path, what, k);
        daemon_close(&d, path);
    }
    printf("\n    %s: %ld calls or fewer in one intake, %ld tries refused (503) ", what, k,
           refused);
    CU_ASSERT(refused > 0);
}

static void test_I7_disk_full(void)
{
    disk_loop(STORE_FAULT_WRITE, 1, 1, 0, "write SQLITE_FULL");
}

static void test_I7_ioerr_write(void)
{
    disk_loop(STORE_FAULT_WRITE, 0, 1, 0, "write SQLITE_IOERR");
    disk_loop(STORE_FAULT_WRITE, 0, 0, 0, "write SQLITE_IOERR once");
}

static void test_I7_ioerr_fsync(void)
{
    disk_loop(STORE_FAULT_SYNC, 0, 1, 0, "fsync SQLITE_IOERR");
}

static void test_I7_ioerr_read(void)
{
    disk_loop(STORE_FAULT_READ | STORE_FAULT_TRUNCATE, 0, 1, 1, "read/truncate SQLITE_IOERR");
    disk_loop(STORE_FAULT_READ, 0, 0, 1, "read SQLITE_IOERR once");
}

/* ---- SQLITE_BUSY: a real second writer ---- */

static void test_I7_busy_second_writer(void)
{
    char path[300];
    store_path(path, sizeof path, "busy");
    struct daemon d;
    CU_ASSERT_FATAL(daemon_open(&d, path) == 0);
    sqlite3 *other = NULL;
    CU_ASSERT_FATAL(sqlite3_open_v2(path, &other, SQLITE_OPEN_READWRITE, "unix") == SQLITE_OK);
    CU_ASSERT_FATAL(sqlite3_exec(other, "BEGIN EXCLUSIVE; INSERT INTO meta VALUES('other', 'x')",
                                 NULL, NULL, NULL) == SQLITE_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int catchup = 0;
    int rc = intake_batch(&d, &batch, &catchup);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("\n    busy: refused after %.1f s ", waited);
    CU_ASSERT_EQUAL(rc, -1);
    CU_ASSERT(waited >= 4.5); /* it waited busy_timeout (5 s) for the lock */
    CU_ASSERT_PTR_NOT_NULL(strstr(store_error(d.store), "locked"));
    CU_ASSERT_EQUAL(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    check_all_or_nothing(path, rc, "busy", 0);
    check_recovers(&d, path, "busy", 0);
    daemon_close(&d, path);
}

static CU_TestInfo tests[] = {
    {"I7 clean intake: the reference content", test_I7_clean_reference},
    {"I7 allocation N fails, and every later one", test_I7_alloc_fails_persistent},
    {"I7 allocation N fails, only it", test_I7_alloc_fails_once},
    {"I7 allocation fails as a notification is read: 503, not 400",
     test_I7_alloc_fails_parse_start},
    {"I7 disk full (SQLITE_FULL) at write k", test_I7_disk_full},
    {"I7 SQLITE_IOERR at write k", test_I7_ioerr_write},
    {"I7 SQLITE_IOERR at fsync k", test_I7_ioerr_fsync},
    {"I7 SQLITE_IOERR at read/truncate k", test_I7_ioerr_read},
    {"I7 SQLITE_BUSY: another writer holds the lock", test_I7_busy_second_writer},
    CU_TEST_INFO_NULL,
};

int main(int argc, char **argv)
{
    if (argc > 1)
        notification_path = argv[1];
    if (argc > 3)
        stride = atol(argv[3]) > 0 ? atol(argv[3]) : 1;
    if (argc > 2 && argv[2][0] && strcmp(argv[2], "-") != 0) {
        snprintf(scratch, sizeof scratch, "%s", argv[2]);
    } else {
        /* tmpfs when there is one: hundreds of stores are opened and fsynced */
        snprintf(scratch, sizeof scratch, "%s/test_faults.XXXXXX",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(scratch)) {
            perror("mkdtemp");
            return 2;
        }
        scratch_made = 1;
    }
    char err[256], logpath[300];
    if (store_faults_install() != SQLITE_OK) {
        fprintf(stderr, "cannot install the fault VFS\n");
        return 2;
    }
    run_config_defaults(&cfg);
    codes = nen_codes_new();
    if (!codes || nen_codes_load_default(codes, err, sizeof err) != 0) {
        fprintf(stderr, "codes: %s\n", codes ? err : "out of memory");
        return 2;
    }
    if (read_file(notification_path, &body, &body_len) != 0) {
        perror(notification_path);
        return 2;
    }
    struct fhir_notify_request rq = {"POST", "", "application/fhir+json", NULL, body, body_len};
    struct fhir_error ferr = {0};
    if (fhir_notify_parse(&rq, NULL, &batch, &ferr) != 0) {
        fprintf(stderr, "%s: %s\n", notification_path, ferr.msg);
        return 2;
    }
    /* the intake's error lines go to a file, not the terminal (thousands) */
    snprintf(logpath, sizeof logpath, "%s/intake.log", scratch);
    log_file = fopen(logpath, "w");
    if (log_file)
        adapter_log_redirect(log_file, 0);
    int rc = test_run_suite("faults", tests);
    adapter_log_redirect(NULL, 0);
    if (log_file)
        fclose(log_file);
    unlink(logpath);
    fhir_notify_batch_free(&batch);
    nen_codes_free(codes);
    free(body);
    free(ref_before);
    free(ref_after);
    if (scratch_made)
        rmdir(scratch);
    return rc;
}
