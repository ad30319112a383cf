/*
 * test_subscribe_criteria.c - the Subscription criteria built from the code
 * tables (subscribe.h, interop.md I2, I5; issue 11 item 3): the input codes
 * per code system, each once, `_tag:not` with nenfhir's tag when asked,
 * split into strings of at most max characters, 0 when nmax strings cannot
 * hold them, "Type?" without codes; and which server software evaluates
 * `_tag:not`.
 */
#include "test_util.h"

#include "nen_codes.h"
#include "nen_extract.h"
#include "subscribe.h"

#include <stdlib.h>
#include <string.h>

static struct nen_codes *codes;

/* Every "sys|code" of s's code= list is an input code; returns how many. */
static int count_codes(const char *s)
{
    const char *p = strstr(s, "?code=");
    if (!p)
        return 0;
    p += 6;
    int n = 1;
    for (; *p && *p != '&'; p++)
        n += *p == ',';
    return n;
}

static void test_default_tables(void)
{
    char *out[8] = {0};
    int n = subscribe_criteria(codes, "Observation", 0, 1, 1000000, out, 8);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(strncmp(out[0], "Observation?code=", 17), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out[0], "&_tag:not=" NEN_TAG_SYSTEM "|" NEN_TAG_CODE));
    CU_ASSERT_PTR_NOT_NULL(strstr(out[0], "http://loinc.org|"));
    /* the heart rate is no input */
    CU_ASSERT_PTR_NULL(strstr(out[0], "|8867-4,"));
    /* systems grouped: once a system ends it does not come back */
    char last[256] = "", seen[4096] = "";
    const char *p = out[0] + 17;
    while (*p && *p != '&') {
        size_t n1 = strcspn(p, "|");
        char sys[256];
        snprintf(sys, sizeof sys, "%.*s", (int)n1, p);
        if (strcmp(sys, last) != 0) {
            char mark[260];
            snprintf(mark, sizeof mark, "<%s>", sys);
            CU_ASSERT_PTR_NULL(strstr(seen, mark));
            strncat(seen, mark, sizeof seen - strlen(seen) - 1);
            snprintf(last, sizeof last, "%s", sys);
        }
        p += strcspn(p, ",&");
        if (*p == ',')
            p++;
    }
    int total = count_codes(out[0]);
    free(out[0]);

    /* without the tag; Conditions from the condition lines */
    n = subscribe_criteria(codes, "Condition", 1, 0, 1000000, out, 8);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(strncmp(out[0], "Condition?code=", 15), 0);
    CU_ASSERT_PTR_NULL(strstr(out[0], "_tag"));
    free(out[0]);

    /* split: each at most max, together every code once, each with the tag */
    n = subscribe_criteria(codes, "Observation", 0, 1, 600, out, 8);
    CU_ASSERT_FATAL(n > 1);
    int sum = 0;
    for (int i = 0; i < n; i++) {
        CU_ASSERT(strlen(out[i]) <= 600);
        CU_ASSERT_PTR_NOT_NULL(strstr(out[i], "&_tag:not="));
        sum += count_codes(out[i]);
        free(out[i]);
    }
    CU_ASSERT_EQUAL(sum, total);

    /* too long for one string of 600: 0, nothing left in out */
    out[0] = NULL;
    CU_ASSERT_EQUAL(subscribe_criteria(codes, "Observation", 0, 1, 600, out, 1), 0);
    CU_ASSERT_PTR_NULL(out[0]);
    /* one code cannot fit at all */
    CU_ASSERT_EQUAL(subscribe_criteria(codes, "Observation", 0, 0, 20, out, 8), 0);
}

static void test_no_codes(void)
{
    char *out[2] = {0};
    CU_ASSERT_EQUAL_FATAL(subscribe_criteria(NULL, "Specimen", 0, 1, 4000, out, 1), 1);
    CU_ASSERT_STRING_EQUAL(out[0], "Specimen?_tag:not=" NEN_TAG_SYSTEM "|" NEN_TAG_CODE);
    free(out[0]);
    CU_ASSERT_EQUAL_FATAL(subscribe_criteria(NULL, "Specimen", 0, 0, 4000, out, 1), 1);
    CU_ASSERT_STRING_EQUAL(out[0], "Specimen?");
    free(out[0]);
}

static void test_software(void)
{
    CU_ASSERT_EQUAL(subscribe_tag_not_supported("HAPI FHIR Server"), 1);
    CU_ASSERT_EQUAL(subscribe_tag_not_supported("Smile CDR"), 1);
    CU_ASSERT_EQUAL(subscribe_tag_not_supported("nenfhir test FHIR server (@medplum/fhir-router)"), 1);
    CU_ASSERT_EQUAL(subscribe_tag_not_supported("Firely Server"), 0);
    CU_ASSERT_EQUAL(subscribe_tag_not_supported(""), 0);
    CU_ASSERT_EQUAL(subscribe_tag_not_supported(NULL), 0);
}

int main(void)
{
    char err[512];
    codes = nen_codes_new();
    if (!codes || nen_codes_load_default(codes, err, sizeof err) != 0) {
        fprintf(stderr, "code tables: %s\n", codes ? err : "out of memory");
        return 2;
    }
    CU_TestInfo tests[] = {{"criteria from the default tables: per system, tag, split", test_default_tables},
                           {"no codes: every change of the type", test_no_codes},
                           {"software that evaluates _tag:not", test_software},
                           CU_TEST_INFO_NULL};
    int rc = test_run_suite("subscribe_criteria", tests);
    nen_codes_free(codes);
    return rc;
}
