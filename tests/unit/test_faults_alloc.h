/*
 * test_faults_alloc.h - test-only allocation failure (issue 12 item 6), the
 * pattern of SQLite's own "malloc tests": the test program defines malloc,
 * calloc and realloc itself (ELF interposition: every library of the
 * process, SQLite, json-c, libc's strdup, calls them), forwards each to the
 * next definition (libc, or the sanitizer's or valgrind's allocator), and
 * when armed makes the Nth call from now fail with NULL/ENOMEM. Linked only
 * into test_faults.
 */
#ifndef TEST_FAULTS_ALLOC_H
#define TEST_FAULTS_ALLOC_H

/* Fail the nth allocation from now (1: the next one). persistent 1: that
 * one and every later one until fa_disarm; 0: that one only. */
void fa_arm(long nth, int persistent);

/* Every allocation succeeds again. */
void fa_disarm(void);

/* Allocations counted since fa_arm (also while disarmed: since the last
 * fa_arm or fa_count_reset), and how many of them failed. */
long fa_calls(void);
long fa_failed(void);

/* Start counting allocations from 0 without failing any. */
void fa_count_reset(void);

#endif
