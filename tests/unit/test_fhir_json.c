/*
 * test_fhir_json.c - bounded, strict JSON parsing of resources (interop.md
 * I17) and the tolerant typed accessors.
 */
#include "test_util.h"

#include "fhir_json.h"
#include "fhir_tree.h"

#include <stdlib.h>
#include <string.h>

static void expect_reject(const char *doc, size_t len, const char *want)
{
    struct fhir_error e = {""};
    json_object *o = fhir_parse(doc, len, NULL, "doc.json", &e);
    CU_ASSERT_PTR_NULL(o);
    json_object_put(o);
    if (!strstr(e.msg, want))
        fprintf(stderr, "want '%s' in '%s'\n", want, e.msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, want));
}

static void test_hostile(void)
{
    char deep[512] = "{\"resourceType\":\"Basic\",\"x\":";
    for (int i = 0; i < 100; i++)
        strcat(deep, "[");
    for (int i = 0; i < 100; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    expect_reject(deep, strlen(deep), "nested deeper than 32 levels");
    /* 50 MB: refused by its size before any parsing */
    size_t big = (size_t)50 * 1024 * 1024;
    char *body = malloc(big);
    CU_ASSERT_FATAL(body != NULL);
    memset(body, ' ', big);
    body[0] = '{';
    body[big - 1] = '}';
    expect_reject(body, big, "limit 16777216");
    free(body);
    expect_reject("{\"resourceType\":\"Observation\",", 30, "JSON ends early");
    expect_reject("{\"resourceType\":\"Observation\"} x", 32, "invalid JSON");
    expect_reject("[1,2]", 5, "not a FHIR resource");
    expect_reject("{\"id\":\"1\"}", 10, "no \"resourceType\"");
    expect_reject("{\"resourceType\":7}", 18, "resourceType: expected a non-empty string");
    const char *bad = "{\"resourceType\":\"Basic\",\n\"x\":tru}";
    expect_reject(bad, strlen(bad), "line 2: invalid JSON");
}

static void test_accessors(void)
{
    struct fhir_error e;
    const char *doc = "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"category\":{\"text\":\"x\"},"
                      "\"valueString\":\"4.5\",\"issued\":3,\"flag\":\"true\",\"n\":null}";
    json_object *o = fhir_json_parse(doc, strlen(doc), NULL, "t", &e);
    CU_ASSERT_FATAL(o != NULL);
    CU_ASSERT_EQUAL(fhir_count(o, "category"), 1); /* single where an array is expected */
    CU_ASSERT_PTR_NOT_NULL(fhir_item(o, "category", 0));
    CU_ASSERT_PTR_NULL(fhir_item(o, "category", 1));
    double d;
    CU_ASSERT_EQUAL(fhir_get_number(o, "valueString", &d), FHIR_OK); /* XML-style number */
    CU_ASSERT_DOUBLE_EQUAL(d, 4.5, 1e-12);
    const char *s;
    CU_ASSERT_EQUAL(fhir_get_string(o, "issued", &s), FHIR_WRONG);
    CU_ASSERT_EQUAL(fhir_get_string(o, "n", &s), FHIR_ABSENT);
    int b;
    CU_ASSERT_EQUAL(fhir_get_bool(o, "flag", &b), FHIR_OK);
    CU_ASSERT_TRUE(b);
    CU_ASSERT_STRING_EQUAL(fhir_resource_id(o), "o1");
    json_object_put(o);
}

int main(void)
{
    CU_TestInfo tests[] = {{"hostile JSON rejected with a reason", test_hostile},
                           {"typed accessors", test_accessors},
                           CU_TEST_INFO_NULL};
    return test_run_suite("fhir_json", tests);
}
