/*
 * store_faults.h - test-only fault injection under the store (issue 12
 * item 6): an SQLite VFS that wraps the default one (unix) and makes its
 * xRead, xWrite, xSync or xTruncate fail with SQLITE_IOERR_* or SQLITE_FULL
 * on demand, the way SQLite's own test VFSes (test_vfs.c, test_devsym.c)
 * do. Compiled only into test programs (tests/CMakeLists.txt: test_faults),
 * never into the shipped daemon.
 *
 * Usage: store_faults_install() before store_open (it becomes the default
 * VFS, so store.c needs no change); store_faults_arm() to start failing;
 * store_faults_disarm() to end the fault (the "disk" recovers). One thread:
 * the counters are plain statics.
 */
#ifndef STORE_FAULTS_H
#define STORE_FAULTS_H

/* Which file operations fail (a mask). */
enum store_fault_op {
    STORE_FAULT_READ = 1,
    STORE_FAULT_WRITE = 2,
    STORE_FAULT_SYNC = 4,
    STORE_FAULT_TRUNCATE = 8
};

/* Register the "nenfhir-faults" VFS over the current default VFS and make it
 * the default. Idempotent. Returns 0, or an SQLite error code (no default
 * VFS, registration failed). */
int store_faults_install(void);

/* From now on, the operations in ops (enum store_fault_op mask) pass `after`
 * more times and then fail: with SQLITE_FULL when full is 1 (a write: the
 * disk is full; other operations then fail with SQLITE_IOERR_*), else with
 * the operation's SQLITE_IOERR_* code. persistent 1: every later call fails
 * too until store_faults_disarm; 0: only that one call fails. */
void store_faults_arm(unsigned ops, int full, long after, int persistent);

/* End the fault: every operation passes again. */
void store_faults_disarm(void);

/* How many calls failed since the last store_faults_arm. */
long store_faults_failed(void);

#endif
