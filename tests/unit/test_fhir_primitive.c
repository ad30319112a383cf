/*
 * test_fhir_primitive.c - FHIR id and instant validation and formatting.
 */
#include "test_util.h"

#include "fhir_primitive.h"

static void test_id(void)
{
    CU_ASSERT_TRUE(fhir_id_valid("nen-report.123"));
    CU_ASSERT_TRUE(fhir_id_valid("a"));
    CU_ASSERT_FALSE(fhir_id_valid(""));
    CU_ASSERT_FALSE(fhir_id_valid("has space"));
    CU_ASSERT_FALSE(fhir_id_valid("under_score"));
    CU_ASSERT_TRUE(fhir_id_valid("0123456789012345678901234567890123456789012345678901234567890123"));
    CU_ASSERT_FALSE(fhir_id_valid("01234567890123456789012345678901234567890123456789012345678901234"));
}

static void test_instant(void)
{
    char buf[32];
    CU_ASSERT_EQUAL(fhir_instant_format((time_t)1795250400, buf, sizeof buf), 0);
    CU_ASSERT_STRING_EQUAL(buf, "2026-11-21T08:40:00Z");
    CU_ASSERT_TRUE(fhir_instant_valid(buf));
    CU_ASSERT_EQUAL(fhir_instant_format((time_t)0, buf, 10), -1); /* does not fit */
    CU_ASSERT_TRUE(fhir_instant_valid("2026-11-21T08:40:00.123+08:00"));
    CU_ASSERT_FALSE(fhir_instant_valid("2026-11-21T08:40:00"));     /* no zone */
    CU_ASSERT_FALSE(fhir_instant_valid("2026-13-21T08:40:00Z"));    /* month 13 */
    CU_ASSERT_FALSE(fhir_instant_valid("2026-11-21 08:40:00Z"));
    CU_ASSERT_FALSE(fhir_instant_valid("2026-11-21T08:40:00.Z"));
}

int main(void)
{
    CU_TestInfo tests[] = {{"id", test_id}, {"instant", test_instant}, CU_TEST_INFO_NULL};
    return test_run_suite("fhir_primitive", tests);
}
