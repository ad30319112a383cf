/*
 * store.c - the daemon's durable state in one SQLite database (store.h,
 * interop.md I7). Owns the connection, the schema and its migrations, and one
 * prepared statement per operation, prepared at open and finalized at close.
 *
 * Every operation is a single SQL statement, so outside store_begin/commit it
 * is atomic on its own. Statements are reset after each use so that no read
 * transaction stays open (it would keep WAL checkpoints from finishing).
 * Callbacks (busy, dead_list, report_of_case, mirror_of_patient, mirror_get)
 * may call other store functions, but not the function that is calling them.
 */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Schema migrations, applied in order; PRAGMA user_version = how many ran.
 * Never edit a shipped entry: append a new one. */
static const char *const store_migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE job("
    " key TEXT PRIMARY KEY,"
    " gen INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " due_ms INTEGER NOT NULL,"
    " first_ms INTEGER NOT NULL,"   /* first touch since queued (settle cap) */
    " touched_ms INTEGER NOT NULL," /* last touch */
    " dead INTEGER NOT NULL DEFAULT 0,"
    " dead_seq INTEGER NOT NULL DEFAULT 0," /* order of dying: dead letters oldest first */
    " error TEXT NOT NULL DEFAULT '',"
    " outcome TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX job_due ON job(dead, due_ms, key);"
    "CREATE INDEX job_dead ON job(dead, dead_seq);"
    /* resolve: rowid order is insertion order (oldest first) */
    "CREATE TABLE resolve(ref TEXT PRIMARY KEY);"
    "CREATE TABLE seen(type TEXT NOT NULL, id TEXT NOT NULL, version TEXT NOT NULL,"
    " seen_ms INTEGER NOT NULL, PRIMARY KEY(type, id, version)) WITHOUT ROWID;"
    "CREATE INDEX seen_time ON seen(seen_ms);"
    "CREATE TABLE member(ref TEXT PRIMARY KEY, case_key TEXT NOT NULL);"
    "CREATE TABLE report(report_key TEXT PRIMARY KEY, case_key TEXT NOT NULL,"
    " digest TEXT NOT NULL, status TEXT NOT NULL, written_ms INTEGER NOT NULL);"
    "CREATE INDEX report_case ON report(case_key, report_key);",
    /* 2: issue 11: the input mirror (the case's resources read locally, the
     * server only for what it lacks), patients read in full once, write-once
     * holds on jobs (held: the case was incomplete, nothing written yet) and
     * the number of report writes per case (a metric) */
    "ALTER TABLE job ADD COLUMN held INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE report ADD COLUMN writes INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE mirror("
    " ref TEXT PRIMARY KEY,"           /* "Observation/123" */
    " type TEXT NOT NULL,"
    " patient_key TEXT NOT NULL,"      /* "Patient/1", '' if none */
    " version_id TEXT NOT NULL,"       /* meta.versionId, '' unknown */
    " updated_ms INTEGER NOT NULL,"    /* meta.lastUpdated in ms, -1 unknown */
    " json TEXT NOT NULL,"
    " stored_ms INTEGER NOT NULL);"
    "CREATE INDEX mirror_patient ON mirror(patient_key, ref);"
    "CREATE TABLE seeded(patient_key TEXT PRIMARY KEY, seeded_ms INTEGER NOT NULL);",
    /* 3: issue 13 item 3: the resources of a report written one at a time
     * (ordered conditional writes, I14), each recorded as the server accepts
     * it: the server's reference for the entry (its fullUrl) and what was
     * written (the report digest and status) */
    ("CREATE TABLE report_part(report_key TEXT NOT NULL, part TEXT NOT NULL,"
     " written TEXT NOT NULL, ref TEXT NOT NULL, PRIMARY KEY(report_key, part)) WITHOUT ROWID;"),
};
#define STORE_SCHEMA_VERSION ((int)(sizeof store_migrations / sizeof store_migrations[0]))

enum store_stmt {
    ST_META_GET,
    ST_META_SET,
    ST_JOB_TOUCH,
    ST_JOB_DUE,
    ST_JOB_NEXT_DUE,
    ST_JOB_DONE,
    ST_JOB_RETRY,
    ST_JOB_DEAD,
    ST_DEAD_LIST,
    ST_DEAD_REPLAY,
    ST_COUNTS,
    ST_RESOLVE_ADD,
    ST_RESOLVE_LIST,
    ST_RESOLVE_DONE,
    ST_SEEN,
    ST_SEEN_PRUNE,
    ST_MEMBER_SET,
    ST_MEMBER_GET,
    ST_MEMBER_FORGET,
    ST_REPORT_GET,
    ST_REPORT_PUT,
    ST_REPORT_OF_CASE,
    ST_MEMBER_OF_FINAL,
    ST_JOB_HOLD,
    ST_REPORT_STATS,
    ST_MIRROR_PUT,
    ST_MIRROR_REMOVE,
    ST_MIRROR_OF_PATIENT,
    ST_MIRROR_GET,
    ST_MIRROR_COUNT,
    ST_SEEDED_GET,
    ST_SEEDED_SET,
    ST_SEEDED_FORGET,
    /* issue 14 (cases) */
    ST_JOB_GET,
    ST_REPORT_FIND,
    ST_CASE_LIST,
    ST_DEAD_PURGE,
    ST_DEAD_PRUNE,
    ST_SEEDED_PRUNE,
    ST_MIRROR_PRUNE,
    ST_SIZE_BYTES,
    ST_DATA_VERSION,
    /* issue 13 item 3 */
    ST_PART_GET,
    ST_PART_PUT,
    ST_COUNT
};

#define JOB_COLS "key, gen, attempts, due_ms, dead, error, outcome, first_ms, held, touched_ms"

static const char *const store_sql[ST_COUNT] = {
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_META_SET] = "INSERT INTO meta(key, value) VALUES(?1, ?2)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    /* ?1 key, ?2 now, ?3 settle. In the UPDATE every column reads its old
     * value. A held job (the case was incomplete) is due at now + settle: the
     * new input may complete it, so it does not wait for the hold's due. A
     * queued job's due otherwise only moves later (a touch must not cut a
     * retry's backoff short), and not past first_ms + 10 * settle. first_ms
     * (the first input since queued) survives holds. */
    [ST_JOB_TOUCH] =
        "INSERT INTO job(key, gen, attempts, due_ms, first_ms, touched_ms)"
        " VALUES(?1, 1, 0, ?2 + ?3, ?2, ?2)"
        " ON CONFLICT(key) DO UPDATE SET gen = gen + 1,"
        " attempts = CASE WHEN dead THEN 0 ELSE attempts END,"
        " first_ms = CASE WHEN dead THEN ?2 ELSE first_ms END,"
        " due_ms = CASE WHEN dead OR held THEN ?2 + ?3"
        "  ELSE max(due_ms, min(?2 + ?3, first_ms + 10 * ?3)) END,"
        " held = 0, dead = 0, dead_seq = 0, touched_ms = ?2",
    [ST_JOB_DUE] = "SELECT " JOB_COLS " FROM job WHERE dead = 0 AND due_ms <= ?1"
                   " ORDER BY due_ms, key",
    [ST_JOB_NEXT_DUE] = "SELECT min(due_ms) FROM job WHERE dead = 0",
    [ST_JOB_DONE] = "DELETE FROM job WHERE key = ?1 AND gen = ?2 AND dead = 0",
    /* ?1 key, ?2 gen, ?3 due, ?4 error */
    [ST_JOB_RETRY] = "UPDATE job SET error = ?4,"
                     " attempts = CASE WHEN gen = ?2 THEN attempts + 1 ELSE attempts END,"
                     " held = CASE WHEN gen = ?2 THEN 0 ELSE held END," /* now in backoff */
                     " due_ms = CASE WHEN gen = ?2 THEN ?3 ELSE due_ms END"
                     " WHERE key = ?1 AND dead = 0",
    /* ?1 key, ?2 gen, ?3 error, ?4 outcome. Touched since: the new input may
     * fix it (and a touch revives a dead job anyway), so it stays queued. */
    [ST_JOB_DEAD] = "UPDATE job SET error = ?3, outcome = ?4,"
                    " attempts = CASE WHEN gen = ?2 THEN attempts + 1 ELSE attempts END,"
                    " dead_seq = CASE WHEN gen = ?2 THEN"
                    "  (SELECT coalesce(max(dead_seq), 0) + 1 FROM job WHERE dead = 1) ELSE 0 END,"
                    " held = CASE WHEN gen = ?2 THEN 0 ELSE held END,"
                    " dead = CASE WHEN gen = ?2 THEN 1 ELSE 0 END"
                    " WHERE key = ?1 AND dead = 0",
    [ST_DEAD_LIST] = "SELECT " JOB_COLS " FROM job WHERE dead = 1 ORDER BY dead_seq",
    /* ?1 key or NULL for all, ?2 now */
    [ST_DEAD_REPLAY] = "UPDATE job SET dead = 0, dead_seq = 0, held = 0, attempts = 0,"
                       " due_ms = ?2, first_ms = ?2 WHERE dead = 1 AND (?1 IS NULL OR key = ?1)",
    [ST_COUNTS] = "SELECT (SELECT count(*) FROM job WHERE dead = 0),"
                  " (SELECT count(*) FROM job WHERE dead = 1),"
                  " (SELECT count(*) FROM resolve)",
    [ST_RESOLVE_ADD] = "INSERT OR IGNORE INTO resolve(ref) VALUES(?1)",
    [ST_RESOLVE_LIST] = "SELECT ref FROM resolve ORDER BY rowid LIMIT ?1",
    [ST_RESOLVE_DONE] = "DELETE FROM resolve WHERE ref = ?1",
    [ST_SEEN] = "INSERT OR IGNORE INTO seen(type, id, version, seen_ms) VALUES(?1, ?2, ?3, ?4)",
    [ST_SEEN_PRUNE] = "DELETE FROM seen WHERE seen_ms < ?1",
    [ST_MEMBER_SET] = "INSERT INTO member(ref, case_key) VALUES(?1, ?2)"
                      " ON CONFLICT(ref) DO UPDATE SET case_key = excluded.case_key",
    [ST_MEMBER_GET] = "SELECT case_key FROM member WHERE ref = ?1",
    [ST_MEMBER_FORGET] = "DELETE FROM member WHERE ref = ?1",
    [ST_REPORT_GET] = "SELECT digest, status, case_key, written_ms, writes FROM report"
                      " WHERE report_key = ?1",
    [ST_REPORT_PUT] = "INSERT INTO report(report_key, case_key, digest, status, written_ms,"
                      " writes) VALUES(?1, ?2, ?3, ?4, ?5, 1) ON CONFLICT(report_key) DO UPDATE"
                      " SET case_key = excluded.case_key, digest = excluded.digest,"
                      " status = excluded.status, written_ms = excluded.written_ms,"
                      " writes = writes + 1",
    [ST_REPORT_OF_CASE] = "SELECT report_key, digest, status, case_key, written_ms, writes"
                          " FROM report"
                          " WHERE case_key = ?1 ORDER BY report_key",
    /* ?1 after (exclusive), ?2 limit */
    [ST_MEMBER_OF_FINAL] = "SELECT m.ref FROM member m WHERE m.ref > ?1 AND EXISTS("
                           "SELECT 1 FROM report r WHERE r.case_key = m.case_key"
                           " AND r.status IN ('final', 'amended')) ORDER BY m.ref LIMIT ?2",
    /* ?1 key, ?2 gen, ?3 due. Touched since: left as the touch left it. */
    [ST_JOB_HOLD] = "UPDATE job SET held = 1, due_ms = ?3, error = ''"
                    " WHERE key = ?1 AND gen = ?2 AND dead = 0",
    [ST_REPORT_STATS] = "SELECT count(*), coalesce(sum(writes), 0) FROM report",
    /* ?1 ref, ?2 type, ?3 patient_key, ?4 version_id, ?5 updated_ms, ?6 json,
     * ?7 now. Versions only move forward: the stored row is replaced only by
     * a newer one. Both versionIds all digits: the greater number (compared
     * as digit strings without leading zeros, so no overflow); else both
     * lastUpdated known: the later; else (cannot tell) any difference in
     * versionId or JSON. In the WHERE, mirror.x is the stored row. */
    [ST_MIRROR_PUT] =
        "INSERT INTO mirror(ref, type, patient_key, version_id, updated_ms, json, stored_ms)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(ref) DO UPDATE SET"
        " type = excluded.type, patient_key = excluded.patient_key,"
        " version_id = excluded.version_id, updated_ms = excluded.updated_ms,"
        " json = excluded.json, stored_ms = excluded.stored_ms"
        " WHERE CASE"
        "  WHEN mirror.version_id <> '' AND mirror.version_id NOT GLOB '*[^0-9]*'"
        "   AND excluded.version_id <> '' AND excluded.version_id NOT GLOB '*[^0-9]*'"
        "  THEN length(ltrim(excluded.version_id, '0')) > length(ltrim(mirror.version_id, '0'))"
        "   OR (length(ltrim(excluded.version_id, '0')) = length(ltrim(mirror.version_id, '0'))"
        "    AND ltrim(excluded.version_id, '0') > ltrim(mirror.version_id, '0'))"
        "  WHEN mirror.updated_ms >= 0 AND excluded.updated_ms >= 0"
        "  THEN excluded.updated_ms > mirror.updated_ms"
        "  ELSE excluded.version_id <> mirror.version_id OR excluded.json <> mirror.json END",
    [ST_MIRROR_REMOVE] = "DELETE FROM mirror WHERE ref = ?1",
    [ST_MIRROR_OF_PATIENT] = "SELECT ref, type, json FROM mirror WHERE patient_key = ?1"
                             " ORDER BY ref",
    [ST_MIRROR_GET] = "SELECT ref, type, json FROM mirror WHERE ref = ?1",
    [ST_MIRROR_COUNT] = "SELECT count(*) FROM mirror",
    [ST_SEEDED_GET] = "SELECT 1 FROM seeded WHERE patient_key = ?1",
    [ST_SEEDED_SET] = "INSERT INTO seeded(patient_key, seeded_ms) VALUES(?1, ?2)"
                      " ON CONFLICT(patient_key) DO UPDATE SET seeded_ms = excluded.seeded_ms",
    [ST_SEEDED_FORGET] = "DELETE FROM seeded WHERE patient_key = ?1",
    /* issue 14 (cases) */
    [ST_JOB_GET] = "SELECT " JOB_COLS " FROM job WHERE key = ?1",
    /* ?1 a whole report key ("system|value") or only its value */
    [ST_REPORT_FIND] = "SELECT report_key, digest, status, case_key, written_ms, writes"
                       " FROM report WHERE report_key = ?1"
                       " OR substr(report_key, -length(?1) - 1) = '|' || ?1"
                       " ORDER BY report_key",
    /* One row per report, plus one per job whose patient has no report yet.
     * Columns: report_key ('' none), case_key, report status ('' none),
     * written_ms (-1 none), writes, state (dead | held | pending | done),
     * activity_ms (the later of the write and the job's last touch).
     * ?1 state or NULL for all, ?2 activity since (ms). */
    [ST_CASE_LIST] =
        "SELECT * FROM ("
        " SELECT r.report_key, r.case_key, r.status, r.written_ms, r.writes,"
        "  CASE WHEN j.key IS NULL THEN 'done' WHEN j.dead THEN 'dead'"
        "   WHEN j.held THEN 'held' ELSE 'pending' END AS state,"
        "  max(r.written_ms, coalesce(j.touched_ms, 0)) AS activity_ms"
        " FROM report r LEFT JOIN job j ON j.key = r.case_key"
        " UNION ALL"
        " SELECT '', j.key, '', -1, 0,"
        "  CASE WHEN j.dead THEN 'dead' WHEN j.held THEN 'held' ELSE 'pending' END,"
        "  j.touched_ms FROM job j"
        " WHERE NOT EXISTS(SELECT 1 FROM report r WHERE r.case_key = j.key))"
        " WHERE (?1 IS NULL OR state = ?1) AND activity_ms >= ?2"
        " ORDER BY activity_ms, case_key, report_key",
    /* ?1 key or NULL for all */
    [ST_DEAD_PURGE] = "DELETE FROM job WHERE dead = 1 AND (?1 IS NULL OR key = ?1)",
    /* ?1 cutoff: dead letters whose last input change is older (the job
     * keeps no time of death) */
    [ST_DEAD_PRUNE] = "DELETE FROM job WHERE dead = 1 AND touched_ms < ?1",
    /* ?1 cutoff. A patient's mirror is pruned when it has no job (queued,
     * held or dead) and none of its mirrored inputs changed since the cutoff;
     * its seeded row goes first (a later change reads the patient in full) */
    [ST_SEEDED_PRUNE] =
        "DELETE FROM seeded WHERE patient_key IN (SELECT patient_key FROM mirror"
        " GROUP BY patient_key HAVING max(stored_ms) < ?1)"
        " AND NOT EXISTS(SELECT 1 FROM job WHERE job.key = seeded.patient_key)",
    [ST_MIRROR_PRUNE] =
        "DELETE FROM mirror WHERE patient_key IN (SELECT m.patient_key FROM mirror m"
        " GROUP BY m.patient_key HAVING max(m.stored_ms) < ?1)"
        " AND NOT EXISTS(SELECT 1 FROM job WHERE job.key = mirror.patient_key)",
    [ST_SIZE_BYTES] = "SELECT p.page_count * s.page_size FROM pragma_page_count() p,"
                      " pragma_page_size() s",
    [ST_DATA_VERSION] = "PRAGMA data_version",
    [ST_PART_GET] = "SELECT written, ref FROM report_part WHERE report_key = ?1 AND part = ?2",
    [ST_PART_PUT] = "INSERT INTO report_part(report_key, part, written, ref) VALUES(?1, ?2, ?3, ?4)"
                    " ON CONFLICT(report_key, part) DO UPDATE SET written = excluded.written,"
                    " ref = excluded.ref",
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    /* issue 12 item 6: the transaction statements, prepared at open so that
     * ending a transaction needs no allocation: a ROLLBACK prepared on the
     * spot fails when memory is short and leaves the transaction open, and
     * every later store_begin failed, for good (tests/unit/test_faults.c) */
    sqlite3_stmt *tx_begin, *tx_commit, *tx_rollback;
    int tx_stale; /* a rollback failed: the transaction is still open */
    char err[512];
};

/* ---- errors and small helpers ---- */

static int store_fail(struct store *s, const char *what)
{
    snprintf(s->err, sizeof s->err, "%s: %s", what, sqlite3_errmsg(s->db));
    return -1;
}

/* Copy src (n bytes) into out[cap] as a NUL-terminated string, cut to cap-1
 * bytes without splitting a UTF-8 sequence. */
static void store_copy_cut(char *out, size_t cap, const char *src, size_t n)
{
    if (cap == 0)
        return;
    if (!src)
        n = 0;
    if (n > cap - 1) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--; /* src[n] would be the continuation of a cut character */
    }
    if (n > 0)
        memcpy(out, src, n);
    out[n] = '\0';
}

/* Column i of the current row of st into out[cap] (cut, NUL-terminated). */
static void store_col_text(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    int n = sqlite3_column_bytes(st, i);
    store_copy_cut(out, cap, v, v && n > 0 ? (size_t)n : 0);
}

/* Length of text cut to STORE_TEXT_LEN - 1 bytes on a character boundary. */
static int store_text_cut_len(const char *text)
{
    size_t n = strlen(text);
    if (n > STORE_TEXT_LEN - 1) {
        n = STORE_TEXT_LEN - 1;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
    }
    return (int)n;
}

static int store_bind_text(struct store *s, sqlite3_stmt *st, int i, const char *v)
{
    int rc = v ? sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
    return rc == SQLITE_OK ? 0 : store_fail(s, "bind");
}

/* A long error text or OperationOutcome, cut (NULL binds ""). */
static int store_bind_long_text(struct store *s, sqlite3_stmt *st, int i, const char *v)
{
    if (!v)
        v = "";
    int rc = sqlite3_bind_text(st, i, v, store_text_cut_len(v), SQLITE_TRANSIENT);
    return rc == SQLITE_OK ? 0 : store_fail(s, "bind");
}

static int store_bind_int(struct store *s, sqlite3_stmt *st, int i, int64_t v)
{
    return sqlite3_bind_int64(st, i, v) == SQLITE_OK ? 0 : store_fail(s, "bind");
}

/* A key that would not fit a STORE_KEY_LEN buffer when read back could never
 * be matched again (a job that never completes): refuse it. */
static int store_check_key(struct store *s, const char *what, const char *key)
{
    if (!key || !*key) {
        snprintf(s->err, sizeof s->err, "%s: empty key", what);
        return -1;
    }
    if (strlen(key) >= STORE_KEY_LEN) {
        snprintf(s->err, sizeof s->err, "%s: key longer than %d bytes", what, STORE_KEY_LEN - 1);
        return -1;
    }
    return 0;
}

/* Step st once expecting no row; resets it. */
static int store_run(struct store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    (void)sqlite3_reset(st); /* repeats the step's code, handled here */
    if (rc != SQLITE_DONE)
        return store_fail(s, what);
    return 0;
}

/* Step st once: 1 row (caller reads, then resets), 0 none (reset), -1. */
static int store_row(struct store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    (void)sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_fail(s, what);
}

/* ---- open, migrate, close ---- */

static int store_exec(struct store *s, const char *sql, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    snprintf(s->err, sizeof s->err, "%s: %s", what, msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return -1;
}

/* Run a one-value pragma and copy its text result into out. */
static int store_pragma_text(struct store *s, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return store_fail(s, sql);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        store_col_text(st, 0, out, cap);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        store_fail(s, sql);
        sqlite3_finalize(st);
        return -1;
    }
    if (rc == SQLITE_DONE)
        store_copy_cut(out, cap, "", 0);
    (void)sqlite3_finalize(st); /* repeats the step's code, handled above */
    return 0;
}

static int store_pragmas(struct store *s)
{
    char mode[32];
    if (sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK)
        return store_fail(s, "busy_timeout");
    if (store_pragma_text(s, "PRAGMA journal_mode=WAL", mode, sizeof mode) != 0)
        return -1;
    if (strcmp(mode, "wal") != 0) {
        snprintf(s->err, sizeof s->err, "cannot use WAL journal mode (got '%s')", mode);
        return -1;
    }
    if (store_exec(s, "PRAGMA synchronous=FULL", "synchronous") != 0 ||
        store_exec(s, "PRAGMA foreign_keys=ON", "foreign_keys") != 0)
        return -1;
    return 0;
}

/* Apply migration index i (to version i+1) in its own transaction. */
static int store_migrate_one(struct store *s, int i)
{
    char sql[64], what[64];
    snprintf(what, sizeof what, "migration to schema version %d", i + 1);
    if (store_exec(s, "BEGIN IMMEDIATE", what) != 0)
        return -1;
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", i + 1);
    if (store_exec(s, store_migrations[i], what) != 0 || store_exec(s, sql, what) != 0 ||
        store_exec(s, "COMMIT", what) != 0) {
        (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL); /* error already reported */
        return -1;
    }
    return 0;
}

static int store_migrate(struct store *s)
{
    char v[32];
    if (store_pragma_text(s, "PRAGMA user_version", v, sizeof v) != 0)
        return -1;
    int version = atoi(v);
    if (version > STORE_SCHEMA_VERSION) {
        snprintf(s->err, sizeof s->err,
                 "database schema version %d is newer than this program's (%d)", version,
                 STORE_SCHEMA_VERSION);
        return -1;
    }
    for (int i = version; i < STORE_SCHEMA_VERSION; i++)
        if (store_migrate_one(s, i) != 0)
            return -1;
    return 0;
}

static int store_prepare_all(struct store *s)
{
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(s->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK)
            return store_fail(s, "prepare");
    if (sqlite3_prepare_v3(s->db, "BEGIN IMMEDIATE", -1, SQLITE_PREPARE_PERSISTENT,
                           &s->tx_begin, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(s->db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &s->tx_commit,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(s->db, "ROLLBACK", -1, SQLITE_PREPARE_PERSISTENT, &s->tx_rollback,
                           NULL) != SQLITE_OK)
        return store_fail(s, "prepare");
    return 0;
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
    struct store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        if (s->db)
            store_fail(s, "open");
        else
            snprintf(s->err, sizeof s->err, "open: %s", sqlite3_errstr(rc));
    } else if (store_pragmas(s) == 0 && store_migrate(s) == 0 && store_prepare_all(s) == 0) {
        return s;
    }
    snprintf(err, errlen, "%s: %s", path, s->err);
    store_close(s);
    return NULL;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        (void)sqlite3_finalize(s->st[i]); /* returns the last step's code, already handled */
    (void)sqlite3_finalize(s->tx_begin);
    (void)sqlite3_finalize(s->tx_commit);
    (void)sqlite3_finalize(s->tx_rollback);
    if (s->db && sqlite3_close(s->db) != SQLITE_OK)
        (void)sqlite3_close_v2(s->db); /* cannot happen with all statements finalized */
    free(s);
}

const char *store_error(const struct store *s)
{
    return s ? s->err : "no store";
}

/* ---- transactions ---- */

int store_begin(struct store *s)
{
    if (s->tx_stale)
        store_rollback(s); /* the last rollback failed: end that transaction first */
    if (!sqlite3_get_autocommit(s->db)) {
        snprintf(s->err, sizeof s->err, "begin: %s",
                 s->tx_stale ? "the transaction of an earlier failure cannot be rolled back"
                             : "a transaction is already open");
        return -1;
    }
    /* IMMEDIATE: take the write lock now, so a later write cannot fail with
     * SQLITE_BUSY half-way through (busy_timeout covers the wait here). */
    return store_run(s, s->tx_begin, "begin");
}

int store_commit(struct store *s)
{
    if (sqlite3_get_autocommit(s->db)) {
        snprintf(s->err, sizeof s->err, "commit: no transaction is open");
        return -1;
    }
    if (store_run(s, s->tx_commit, "commit") == 0)
        return 0;
    store_rollback(s); /* a failed COMMIT may leave the transaction open */
    return -1;
}

void store_rollback(struct store *s)
{
    if (!sqlite3_get_autocommit(s->db)) {
        (void)sqlite3_step(s->tx_rollback); /* the outcome is whether it ended, below */
        (void)sqlite3_reset(s->tx_rollback);
    }
    /* still open (I/O error, no memory): store_begin tries again */
    s->tx_stale = !sqlite3_get_autocommit(s->db);
}

/* ---- meta ---- */

int store_meta_get(struct store *s, const char *key, char *out, size_t outlen)
{
    sqlite3_stmt *st = s->st[ST_META_GET];
    if (store_bind_text(s, st, 1, key) != 0)
        return -1;
    int r = store_row(s, st, "meta get");
    if (r != 1)
        return r;
    int n = sqlite3_column_bytes(st, 0);
    const char *v = (const char *)sqlite3_column_text(st, 0);
    if (n < 0 || (size_t)n >= outlen || (n > 0 && !v)) {
        snprintf(s->err, sizeof s->err, "meta get %s: value of %d bytes does not fit", key, n);
        (void)sqlite3_reset(st);
        return -1;
    }
    store_copy_cut(out, outlen, v, (size_t)n);
    (void)sqlite3_reset(st);
    return 1;
}

int store_meta_set(struct store *s, const char *key, const char *value)
{
    sqlite3_stmt *st = s->st[ST_META_SET];
    if (store_bind_text(s, st, 1, key) != 0 || store_bind_text(s, st, 2, value ? value : "") != 0)
        return -1;
    return store_run(s, st, "meta set");
}

/* ---- jobs ---- */

int store_job_touch(struct store *s, const char *key, int64_t now_ms, int settle_ms)
{
    sqlite3_stmt *st = s->st[ST_JOB_TOUCH];
    if (settle_ms < 0)
        settle_ms = 0;
    if (store_check_key(s, "job touch", key) != 0 || store_bind_text(s, st, 1, key) != 0 ||
        store_bind_int(s, st, 2, now_ms) != 0 || store_bind_int(s, st, 3, settle_ms) != 0)
        return -1;
    return store_run(s, st, "job touch");
}

/* The current row of a JOB_COLS select into j. */
static void store_read_job(sqlite3_stmt *st, struct store_job *j)
{
    store_col_text(st, 0, j->key, sizeof j->key);
    j->gen = sqlite3_column_int64(st, 1);
    j->attempts = sqlite3_column_int(st, 2);
    j->due_ms = sqlite3_column_int64(st, 3);
    j->dead = sqlite3_column_int(st, 4);
    store_col_text(st, 5, j->error, sizeof j->error);
    store_col_text(st, 6, j->outcome, sizeof j->outcome);
    j->first_ms = sqlite3_column_int64(st, 7);
    j->held = sqlite3_column_int(st, 8);
    j->touched_ms = sqlite3_column_int64(st, 9);
}

int store_job_due(struct store *s, int64_t now_ms, int (*busy)(void *ctx, const char *key),
                  void *ctx, struct store_job *out, int max)
{
    sqlite3_stmt *st = s->st[ST_JOB_DUE];
    if (max <= 0)
        return 0;
    if (store_bind_int(s, st, 1, now_ms) != 0)
        return -1;
    int n = 0, rc = SQLITE_DONE;
    while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        if (busy && key && busy(ctx, key) == 1)
            continue;
        store_read_job(st, &out[n++]);
    }
    if (n < max && rc != SQLITE_DONE) {
        store_fail(s, "job due");
        (void)sqlite3_reset(st);
        return -1;
    }
    (void)sqlite3_reset(st);
    return n;
}

int store_job_next_due(struct store *s, int64_t *due_ms)
{
    sqlite3_stmt *st = s->st[ST_JOB_NEXT_DUE];
    int r = store_row(s, st, "job next due");
    if (r != 1)
        return r == 0 ? 0 : -1;
    int found = sqlite3_column_type(st, 0) != SQLITE_NULL;
    if (found)
        *due_ms = sqlite3_column_int64(st, 0);
    (void)sqlite3_reset(st);
    return found;
}

int store_job_done(struct store *s, const struct store_job *j)
{
    sqlite3_stmt *st = s->st[ST_JOB_DONE];
    if (store_bind_text(s, st, 1, j->key) != 0 || store_bind_int(s, st, 2, j->gen) != 0)
        return -1;
    return store_run(s, st, "job done");
}

int store_job_retry(struct store *s, const struct store_job *j, int64_t due_ms, const char *error)
{
    sqlite3_stmt *st = s->st[ST_JOB_RETRY];
    if (store_bind_text(s, st, 1, j->key) != 0 || store_bind_int(s, st, 2, j->gen) != 0 ||
        store_bind_int(s, st, 3, due_ms) != 0 || store_bind_long_text(s, st, 4, error) != 0)
        return -1;
    return store_run(s, st, "job retry");
}

int store_job_dead(struct store *s, const struct store_job *j, const char *error,
                   const char *outcome)
{
    sqlite3_stmt *st = s->st[ST_JOB_DEAD];
    if (store_bind_text(s, st, 1, j->key) != 0 || store_bind_int(s, st, 2, j->gen) != 0 ||
        store_bind_long_text(s, st, 3, error) != 0 ||
        store_bind_long_text(s, st, 4, outcome) != 0)
        return -1;
    return store_run(s, st, "job dead");
}

int store_job_hold(struct store *s, const struct store_job *j, int64_t due_ms)
{
    sqlite3_stmt *st = s->st[ST_JOB_HOLD];
    if (store_bind_text(s, st, 1, j->key) != 0 || store_bind_int(s, st, 2, j->gen) != 0 ||
        store_bind_int(s, st, 3, due_ms) != 0)
        return -1;
    return store_run(s, st, "job hold");
}

int store_dead_list(struct store *s, int (*fn)(void *ctx, const struct store_job *j), void *ctx)
{
    sqlite3_stmt *st = s->st[ST_DEAD_LIST];
    struct store_job *j = malloc(sizeof *j); /* 8 KiB: not on the caller's stack */
    if (!j) {
        snprintf(s->err, sizeof s->err, "dead list: out of memory");
        return -1;
    }
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_read_job(st, j);
        n++;
        if (fn && fn(ctx, j) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    free(j);
    if (rc != SQLITE_DONE)
        n = store_fail(s, "dead list");
    (void)sqlite3_reset(st);
    return n;
}

int store_dead_replay(struct store *s, const char *key, int64_t now_ms)
{
    sqlite3_stmt *st = s->st[ST_DEAD_REPLAY];
    if (store_bind_text(s, st, 1, key) != 0 || store_bind_int(s, st, 2, now_ms) != 0)
        return -1;
    if (store_run(s, st, "dead replay") != 0)
        return -1;
    return sqlite3_changes(s->db);
}

int store_counts(struct store *s, int *queued, int *dead, int *resolving)
{
    sqlite3_stmt *st = s->st[ST_COUNTS];
    int r = store_row(s, st, "counts");
    if (r != 1)
        return r == 0 ? store_fail(s, "counts") : -1;
    if (queued)
        *queued = sqlite3_column_int(st, 0);
    if (dead)
        *dead = sqlite3_column_int(st, 1);
    if (resolving)
        *resolving = sqlite3_column_int(st, 2);
    (void)sqlite3_reset(st);
    return 0;
}

/* ---- resolve ---- */

int store_resolve_add(struct store *s, const char *ref)
{
    sqlite3_stmt *st = s->st[ST_RESOLVE_ADD];
    if (store_check_key(s, "resolve add", ref) != 0 || store_bind_text(s, st, 1, ref) != 0)
        return -1;
    return store_run(s, st, "resolve add");
}

int store_resolve_list(struct store *s, char (*refs)[STORE_KEY_LEN], int max)
{
    sqlite3_stmt *st = s->st[ST_RESOLVE_LIST];
    if (max <= 0)
        return 0;
    if (store_bind_int(s, st, 1, max) != 0)
        return -1;
    int n = 0, rc = SQLITE_DONE;
    while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        store_col_text(st, 0, refs[n++], STORE_KEY_LEN);
    if (n < max && rc != SQLITE_DONE)
        n = store_fail(s, "resolve list");
    (void)sqlite3_reset(st);
    return n;
}

int store_resolve_done(struct store *s, const char *ref)
{
    sqlite3_stmt *st = s->st[ST_RESOLVE_DONE];
    if (store_bind_text(s, st, 1, ref) != 0)
        return -1;
    return store_run(s, st, "resolve done");
}

/* ---- seen versions ---- */

/* Wall clock in ms: store_seen has no time argument (see store_seen_prune). */
static int64_t store_now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int store_seen(struct store *s, const char *type, const char *id, const char *version)
{
    sqlite3_stmt *st = s->st[ST_SEEN];
    if (!version || !*version)
        return 1;
    if (store_bind_text(s, st, 1, type ? type : "") != 0 ||
        store_bind_text(s, st, 2, id ? id : "") != 0 || store_bind_text(s, st, 3, version) != 0 ||
        store_bind_int(s, st, 4, store_now_ms()) != 0)
        return -1;
    if (store_run(s, st, "seen") != 0)
        return -1;
    return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

int store_seen_prune(struct store *s, int64_t now_ms, int64_t keep_ms)
{
    sqlite3_stmt *st = s->st[ST_SEEN_PRUNE];
    if (store_bind_int(s, st, 1, now_ms - keep_ms) != 0)
        return -1;
    return store_run(s, st, "seen prune");
}

/* ---- members ---- */

int store_member_set(struct store *s, const char *ref, const char *case_key)
{
    sqlite3_stmt *st = s->st[ST_MEMBER_SET];
    if (store_check_key(s, "member set", ref) != 0 ||
        store_check_key(s, "member set", case_key) != 0 || store_bind_text(s, st, 1, ref) != 0 ||
        store_bind_text(s, st, 2, case_key) != 0)
        return -1;
    return store_run(s, st, "member set");
}

int store_member_get(struct store *s, const char *ref, char *case_key, size_t len)
{
    sqlite3_stmt *st = s->st[ST_MEMBER_GET];
    if (store_bind_text(s, st, 1, ref) != 0)
        return -1;
    int r = store_row(s, st, "member get");
    if (r != 1)
        return r;
    int n = sqlite3_column_bytes(st, 0);
    if (n < 0 || (size_t)n >= len) {
        snprintf(s->err, sizeof s->err, "member get %s: case key of %d bytes does not fit", ref,
                 n);
        (void)sqlite3_reset(st);
        return -1;
    }
    store_col_text(st, 0, case_key, len);
    (void)sqlite3_reset(st);
    return 1;
}

int store_member_forget(struct store *s, const char *ref)
{
    sqlite3_stmt *st = s->st[ST_MEMBER_FORGET];
    if (store_bind_text(s, st, 1, ref) != 0)
        return -1;
    return store_run(s, st, "member forget");
}

/* ---- reports ---- */

/* Columns digest, status, case_key, written_ms, writes from column `first` on. */
static void store_read_report(sqlite3_stmt *st, int first, struct store_report *r)
{
    store_col_text(st, first, r->digest, sizeof r->digest);
    store_col_text(st, first + 1, r->status, sizeof r->status);
    store_col_text(st, first + 2, r->case_key, sizeof r->case_key);
    r->written_ms = sqlite3_column_int64(st, first + 3);
    r->writes = sqlite3_column_int(st, first + 4);
}

int store_report_get(struct store *s, const char *report_key, struct store_report *out)
{
    sqlite3_stmt *st = s->st[ST_REPORT_GET];
    if (store_bind_text(s, st, 1, report_key) != 0)
        return -1;
    int r = store_row(s, st, "report get");
    if (r != 1)
        return r;
    store_read_report(st, 0, out);
    (void)sqlite3_reset(st);
    return 1;
}

int store_report_put(struct store *s, const char *report_key, const struct store_report *r)
{
    sqlite3_stmt *st = s->st[ST_REPORT_PUT];
    /* report keys ("system|accession") are never read back into a fixed
     * buffer, so unlike case keys they have no length limit */
    if (!report_key || store_check_key(s, "report put", r->case_key) != 0 ||
        store_bind_text(s, st, 1, report_key) != 0 || store_bind_text(s, st, 2, r->case_key) != 0 ||
        store_bind_text(s, st, 3, r->digest) != 0 || store_bind_text(s, st, 4, r->status) != 0 ||
        store_bind_int(s, st, 5, r->written_ms) != 0)
        return -1;
    return store_run(s, st, "report put");
}

int store_report_of_case(struct store *s, const char *case_key,
                         int (*fn)(void *ctx, const char *report_key,
                                   const struct store_report *r),
                         void *ctx)
{
    sqlite3_stmt *st = s->st[ST_REPORT_OF_CASE];
    if (store_bind_text(s, st, 1, case_key) != 0)
        return -1;
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0); /* valid until the next step */
        struct store_report r;
        store_read_report(st, 1, &r);
        n++;
        if (fn && fn(ctx, key ? key : "", &r) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        n = store_fail(s, "report of case");
    (void)sqlite3_reset(st);
    return n;
}

/* ---- inputs of final reports (I6: deletes whose notification was lost) ---- */

int store_member_of_final(struct store *s, const char *after, char (*refs)[STORE_KEY_LEN],
                          int max)
{
    sqlite3_stmt *st = s->st[ST_MEMBER_OF_FINAL];
    if (max <= 0)
        return 0;
    if (store_bind_text(s, st, 1, after ? after : "") != 0 || store_bind_int(s, st, 2, max) != 0)
        return -1;
    int n = 0, rc = SQLITE_DONE;
    while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        store_col_text(st, 0, refs[n++], STORE_KEY_LEN);
    if (n < max && rc != SQLITE_DONE)
        n = store_fail(s, "members of final reports");
    (void)sqlite3_reset(st);
    return n;
}

int store_report_stats(struct store *s, long *cases, long *writes)
{
    sqlite3_stmt *st = s->st[ST_REPORT_STATS];
    int r = store_row(s, st, "report stats");
    if (r != 1)
        return r == 0 ? store_fail(s, "report stats") : -1;
    if (cases)
        *cases = (long)sqlite3_column_int64(st, 0);
    if (writes)
        *writes = (long)sqlite3_column_int64(st, 1);
    (void)sqlite3_reset(st);
    return 0;
}

/* ---- issue 13 item 3: the parts of a report written one at a time ---- */

int store_report_part_get(struct store *s, const char *report_key, const char *part,
                          char *written, size_t written_len, char *ref, size_t ref_len)
{
    sqlite3_stmt *st = s->st[ST_PART_GET];
    if (store_bind_text(s, st, 1, report_key) != 0 || store_bind_text(s, st, 2, part) != 0)
        return -1;
    int r = store_row(s, st, "report part get");
    if (r != 1)
        return r;
    store_col_text(st, 0, written, written_len);
    store_col_text(st, 1, ref, ref_len);
    (void)sqlite3_reset(st);
    return 1;
}

int store_report_part_put(struct store *s, const char *report_key, const char *part,
                          const char *written, const char *ref)
{
    sqlite3_stmt *st = s->st[ST_PART_PUT];
    if (!report_key || !*report_key || !part || !*part || !written) {
        snprintf(s->err, sizeof s->err, "report part put: empty key");
        return -1;
    }
    if (store_check_key(s, "report part put", ref) != 0)
        return -1;
    if (store_bind_text(s, st, 1, report_key) != 0 || store_bind_text(s, st, 2, part) != 0 ||
        store_bind_text(s, st, 3, written) != 0 || store_bind_text(s, st, 4, ref) != 0)
        return -1;
    return store_run(s, st, "report part put");
}

/* ---- the input mirror ---- */

int store_mirror_put(struct store *s, const char *ref, const char *type, const char *patient_key,
                     const char *version_id, int64_t updated_ms, const char *json, int64_t now_ms)
{
    sqlite3_stmt *st = s->st[ST_MIRROR_PUT];
    if (!patient_key)
        patient_key = "";
    if (store_check_key(s, "mirror put", ref) != 0 ||
        (*patient_key && store_check_key(s, "mirror put", patient_key) != 0))
        return -1;
    if (!json) {
        snprintf(s->err, sizeof s->err, "mirror put %s: no JSON", ref);
        return -1;
    }
    if (updated_ms < 0)
        updated_ms = -1; /* one spelling of "unknown" */
    if (store_bind_text(s, st, 1, ref) != 0 || store_bind_text(s, st, 2, type ? type : "") != 0 ||
        store_bind_text(s, st, 3, patient_key) != 0 ||
        store_bind_text(s, st, 4, version_id ? version_id : "") != 0 ||
        store_bind_int(s, st, 5, updated_ms) != 0 || store_bind_text(s, st, 6, json) != 0 ||
        store_bind_int(s, st, 7, now_ms) != 0)
        return -1;
    if (store_run(s, st, "mirror put") != 0)
        return -1;
    return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

int store_mirror_remove(struct store *s, const char *ref)
{
    sqlite3_stmt *st = s->st[ST_MIRROR_REMOVE];
    if (!ref) {
        snprintf(s->err, sizeof s->err, "mirror remove: no ref");
        return -1;
    }
    if (store_bind_text(s, st, 1, ref) != 0 || store_run(s, st, "mirror remove") != 0)
        return -1;
    return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

/* Step st (ref, type, json rows) calling fn for each until it returns
 * non-zero; resets st. Returns rows visited or -1. */
static int store_mirror_rows(struct store *s, sqlite3_stmt *st, const char *what,
                             int (*fn)(void *ctx, const char *ref, const char *type,
                                       const char *json),
                             void *ctx)
{
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* valid until the next step or reset */
        const char *ref = (const char *)sqlite3_column_text(st, 0);
        const char *type = (const char *)sqlite3_column_text(st, 1);
        const char *json = (const char *)sqlite3_column_text(st, 2);
        if (!ref || !type || !json) { /* out of memory (the columns are NOT NULL) */
            rc = SQLITE_NOMEM;
            break;
        }
        n++;
        if (fn && fn(ctx, ref, type, json) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc == SQLITE_NOMEM) {
        snprintf(s->err, sizeof s->err, "%s: out of memory", what);
        n = -1;
    } else if (rc != SQLITE_DONE) {
        n = store_fail(s, what);
    }
    (void)sqlite3_reset(st);
    return n;
}

int store_mirror_of_patient(struct store *s, const char *patient_key,
                            int (*fn)(void *ctx, const char *ref, const char *type,
                                      const char *json),
                            void *ctx)
{
    sqlite3_stmt *st = s->st[ST_MIRROR_OF_PATIENT];
    if (store_bind_text(s, st, 1, patient_key ? patient_key : "") != 0)
        return -1;
    return store_mirror_rows(s, st, "mirror of patient", fn, ctx);
}

int store_mirror_get(struct store *s, const char *ref,
                     int (*fn)(void *ctx, const char *ref, const char *type, const char *json),
                     void *ctx)
{
    sqlite3_stmt *st = s->st[ST_MIRROR_GET];
    if (!ref) {
        snprintf(s->err, sizeof s->err, "mirror get: no ref");
        return -1;
    }
    if (store_bind_text(s, st, 1, ref) != 0)
        return -1;
    return store_mirror_rows(s, st, "mirror get", fn, ctx);
}

int store_mirror_count(struct store *s, long *rows)
{
    sqlite3_stmt *st = s->st[ST_MIRROR_COUNT];
    int r = store_row(s, st, "mirror count");
    if (r != 1)
        return r == 0 ? store_fail(s, "mirror count") : -1;
    if (rows)
        *rows = (long)sqlite3_column_int64(st, 0);
    (void)sqlite3_reset(st);
    return 0;
}

/* ---- patients read in full once ---- */

int store_seeded_get(struct store *s, const char *patient_key)
{
    sqlite3_stmt *st = s->st[ST_SEEDED_GET];
    if (store_bind_text(s, st, 1, patient_key ? patient_key : "") != 0)
        return -1;
    int r = store_row(s, st, "seeded get");
    if (r == 1)
        (void)sqlite3_reset(st);
    return r;
}

int store_seeded_set(struct store *s, const char *patient_key, int64_t now_ms)
{
    sqlite3_stmt *st = s->st[ST_SEEDED_SET];
    if (store_check_key(s, "seeded set", patient_key) != 0 ||
        store_bind_text(s, st, 1, patient_key) != 0 || store_bind_int(s, st, 2, now_ms) != 0)
        return -1;
    return store_run(s, st, "seeded set");
}

int store_seeded_forget(struct store *s, const char *patient_key)
{
    sqlite3_stmt *st = s->st[ST_SEEDED_FORGET];
    if (store_bind_text(s, st, 1, patient_key ? patient_key : "") != 0)
        return -1;
    return store_run(s, st, "seeded forget");
}

/* ---- issue 14 (cases): the case browser, reprocessing, purge, retention ---- */

/* issue 14 (cases) */
int store_job_get(struct store *s, const char *key, struct store_job *out)
{
    sqlite3_stmt *st = s->st[ST_JOB_GET];
    if (store_bind_text(s, st, 1, key ? key : "") != 0)
        return -1;
    int r = store_row(s, st, "job get");
    if (r != 1)
        return r;
    store_read_job(st, out);
    (void)sqlite3_reset(st);
    return 1;
}

/* issue 14 (cases) */
int store_report_find(struct store *s, const char *key,
                      int (*fn)(void *ctx, const char *report_key, const struct store_report *r),
                      void *ctx)
{
    sqlite3_stmt *st = s->st[ST_REPORT_FIND];
    if (!key || !*key) {
        snprintf(s->err, sizeof s->err, "report find: empty key");
        return -1;
    }
    if (store_bind_text(s, st, 1, key) != 0)
        return -1;
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *rk = (const char *)sqlite3_column_text(st, 0); /* valid until the next step */
        struct store_report r;
        store_read_report(st, 1, &r);
        n++;
        if (fn && fn(ctx, rk ? rk : "", &r) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        n = store_fail(s, "report find");
    (void)sqlite3_reset(st);
    return n;
}

/* Column i as text, "" for NULL (valid until the next step). */
static const char *store_col_str(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return v ? v : "";
}

/* issue 14 (cases) */
int store_case_list(struct store *s, const char *state, int64_t since_ms,
                    int (*fn)(void *ctx, const struct store_case *c), void *ctx)
{
    sqlite3_stmt *st = s->st[ST_CASE_LIST];
    if (store_bind_text(s, st, 1, state) != 0 || store_bind_int(s, st, 2, since_ms) != 0)
        return -1;
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_case c = {store_col_str(st, 0), store_col_str(st, 1), store_col_str(st, 2),
                               sqlite3_column_int64(st, 3), sqlite3_column_int(st, 4),
                               store_col_str(st, 5), sqlite3_column_int64(st, 6)};
        n++;
        if (fn && fn(ctx, &c) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        n = store_fail(s, "case list");
    (void)sqlite3_reset(st);
    return n;
}

/* issue 14 (cases) */
int store_dead_purge(struct store *s, const char *key)
{
    sqlite3_stmt *st = s->st[ST_DEAD_PURGE];
    if (store_bind_text(s, st, 1, key) != 0 || store_run(s, st, "dead purge") != 0)
        return -1;
    return sqlite3_changes(s->db);
}

/* Run st with ?1 = cutoff; *count = rows changed. */
static int store_prune_one(struct store *s, int st_i, int64_t cutoff, const char *what,
                           long *count)
{
    sqlite3_stmt *st = s->st[st_i];
    if (store_bind_int(s, st, 1, cutoff) != 0 || store_run(s, st, what) != 0)
        return -1;
    *count = sqlite3_changes(s->db);
    return 0;
}

/* issue 14 (cases) */
int store_prune(struct store *s, int64_t now_ms, const struct store_keep *keep,
                struct store_pruned *out)
{
    struct store_pruned p = {0, 0, 0, 0};
    int own = sqlite3_get_autocommit(s->db); /* not inside the caller's transaction */
    if (own && store_begin(s) != 0)
        return -1;
    int rc = 0;
    if (keep->seen_ms > 0) {
        rc = store_seen_prune(s, now_ms, keep->seen_ms);
        if (rc == 0)
            p.seen = sqlite3_changes(s->db);
    }
    if (rc == 0 && keep->dead_ms > 0)
        rc = store_prune_one(s, ST_DEAD_PRUNE, now_ms - keep->dead_ms, "dead prune", &p.dead);
    if (rc == 0 && keep->mirror_ms > 0)
        rc = store_prune_one(s, ST_SEEDED_PRUNE, now_ms - keep->mirror_ms, "seeded prune",
                             &p.seeded);
    if (rc == 0 && keep->mirror_ms > 0)
        rc = store_prune_one(s, ST_MIRROR_PRUNE, now_ms - keep->mirror_ms, "mirror prune",
                             &p.mirror);
    if (own) {
        if (rc == 0)
            rc = store_commit(s);
        else
            store_rollback(s);
    }
    if (rc == 0 && out)
        *out = p;
    return rc;
}

/* One int64 from a one-row statement. */
static int store_int_row(struct store *s, int st_i, const char *what, int64_t *v)
{
    sqlite3_stmt *st = s->st[st_i];
    int r = store_row(s, st, what);
    if (r != 1)
        return r == 0 ? store_fail(s, what) : -1;
    *v = sqlite3_column_int64(st, 0);
    (void)sqlite3_reset(st);
    return 0;
}

/* issue 14 (cases) */
int store_size_bytes(struct store *s, int64_t *bytes)
{
    return store_int_row(s, ST_SIZE_BYTES, "size", bytes);
}

/* issue 14 (cases) */
int store_data_version(struct store *s, int64_t *version)
{
    return store_int_row(s, ST_DATA_VERSION, "data_version", version);
}

/* ---- issue 14 (status): the status page's and /metrics' reads ---- */

/* issue 14 (status): prepare sql (one-off: these run per page view), or -1. */
static int store_status_prepare(struct store *s, const char *sql, sqlite3_stmt **st,
                                const char *what)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return store_fail(s, what);
    }
    return 0;
}

/* issue 14 (status) */
int store_job_oldest_ms(struct store *s, int64_t *first_ms)
{
    sqlite3_stmt *st;
    if (store_status_prepare(s, "SELECT min(first_ms) FROM job WHERE dead = 0", &st,
                             "oldest job") != 0)
        return -1;
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *first_ms = sqlite3_column_int64(st, 0);
        found = 1;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        found = store_fail(s, "oldest job");
    (void)sqlite3_finalize(st);
    return found;
}

/* issue 14 (status): fn for each row (report_key, case_key, digest, status,
 * written_ms, writes) of st; returns the count visited or -1. */
static int store_status_reports(struct store *s, sqlite3_stmt *st,
                                int (*fn)(void *ctx, const char *report_key,
                                          const struct store_report *r),
                                void *ctx, const char *what)
{
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_report r;
        memset(&r, 0, sizeof r);
        const char *key = (const char *)sqlite3_column_text(st, 0);
        const char *ck = (const char *)sqlite3_column_text(st, 1);
        const char *dg = (const char *)sqlite3_column_text(st, 2);
        const char *stt = (const char *)sqlite3_column_text(st, 3);
        snprintf(r.case_key, sizeof r.case_key, "%s", ck ? ck : "");
        snprintf(r.digest, sizeof r.digest, "%s", dg ? dg : "");
        snprintf(r.status, sizeof r.status, "%s", stt ? stt : "");
        r.written_ms = sqlite3_column_int64(st, 4);
        r.writes = sqlite3_column_int(st, 5);
        n++;
        if (fn(ctx, key ? key : "", &r) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        n = store_fail(s, what);
    (void)sqlite3_finalize(st);
    return n;
}

/* issue 14 (status) */
int store_report_latest(struct store *s, int max,
                        int (*fn)(void *ctx, const char *report_key, const struct store_report *r),
                        void *ctx)
{
    sqlite3_stmt *st;
    if (store_status_prepare(s, "SELECT report_key, case_key, digest, status, written_ms, writes"
                             " FROM report ORDER BY written_ms DESC, report_key LIMIT ?1",
                             &st, "latest reports") != 0)
        return -1;
    if (sqlite3_bind_int(st, 1, max) != SQLITE_OK) {
        (void)sqlite3_finalize(st);
        return store_fail(s, "latest reports");
    }
    return store_status_reports(s, st, fn, ctx, "latest reports");
}

/* issue 14 (status) */
int store_report_of_accession(struct store *s, const char *accession,
                              int (*fn)(void *ctx, const char *report_key,
                                        const struct store_report *r),
                              void *ctx)
{
    sqlite3_stmt *st;
    if (store_status_prepare(s, "SELECT report_key, case_key, digest, status, written_ms, writes"
                             " FROM report WHERE report_key = ?1 OR"
                             " substr(report_key, length(report_key) - length(?1)) = '|' || ?1"
                             " ORDER BY report_key", &st, "reports of an accession") != 0)
        return -1;
    if (sqlite3_bind_text(st, 1, accession, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
        (void)sqlite3_finalize(st);
        return store_fail(s, "reports of an accession");
    }
    return store_status_reports(s, st, fn, ctx, "reports of an accession");
}
