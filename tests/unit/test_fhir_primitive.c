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

/* References as servers write them (issue 9 item 4): versioned, absolute,
 * relative and urn:uuid; never cut short. */
static void test_reference_plain(void)
{
    char out[32];
    CU_ASSERT_EQUAL(fhir_reference_plain("Patient/x/_history/2", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "Patient/x");
    CU_ASSERT_EQUAL(fhir_reference_plain("https://h:8443/fhir/Patient/x", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "Patient/x");
    CU_ASSERT_EQUAL(fhir_reference_plain("https://h/fhir/Specimen/s1/_history/7", out, sizeof out),
                    0);
    CU_ASSERT_STRING_EQUAL(out, "Specimen/s1");
    CU_ASSERT_EQUAL(fhir_reference_plain("Specimen/s1", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "Specimen/s1");
    CU_ASSERT_EQUAL(fhir_reference_plain("urn:uuid:0c2f6c1e-6d0e-4c55-9d64-3f1d2b8a9e01", out,
                                         sizeof out), -1); /* 45 characters: never cut */
    CU_ASSERT_STRING_EQUAL(out, "");
    char big[64];
    CU_ASSERT_EQUAL(fhir_reference_plain("urn:uuid:0c2f6c1e-6d0e-4c55-9d64-3f1d2b8a9e01", big,
                                         sizeof big), 0);
    CU_ASSERT_STRING_EQUAL(big, "urn:uuid:0c2f6c1e-6d0e-4c55-9d64-3f1d2b8a9e01");
    CU_ASSERT_EQUAL(fhir_reference_plain("Patient/x", out, 9), -1); /* 9 + NUL needs 10 */
    CU_ASSERT_EQUAL(fhir_reference_plain("Patient/x", out, 10), 0);
}

int main(void)
{
    CU_TestInfo tests[] = {{"id", test_id}, {"instant", test_instant},
                           {"reference", test_reference_plain}, CU_TEST_INFO_NULL};
    return test_run_suite("fhir_primitive", tests);
}
