/*
 * test_util.h - shared bits of the CUnit test programs: running a suite with
 * the basic interface and reading files.
 */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <CUnit/CUnit.h>

/* Register one suite of NULL-terminated tests, run it verbosely, and return
 * the process exit code (0 only if every test passed). */
int test_run_suite(const char *name, CU_TestInfo *tests);

#endif
