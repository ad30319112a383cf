/*
 * test_fhir_json.c - bounded, strict JSON parsing of resources (interop.md
 * I17), the string and member-name checks every document passes
 * (fhir_strings.h) with the inputs found by fuzzing (tests/unit/hostile/,
 * HOSTILE_DIR), and the tolerant typed accessors.
 */
#include "test_util.h"

#include "fhir_json.h"
#include "fhir_strings.h"
#include "fhir_tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void expect_reject(const char *doc, size_t len, const char *want)
{
    struct fhir_error e = {0};
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

/* Parse doc (len bytes) as "doc.json"; expect exactly the message want. */
static void expect_message(const char *doc, size_t len, const char *want)
{
    struct fhir_error e = {0};
    json_object *o = fhir_parse(doc, len, NULL, "doc.json", &e);
    CU_ASSERT_PTR_NULL(o);
    json_object_put(o);
    if (strcmp(e.msg, want) != 0)
        fprintf(stderr, "\n  want: %s\n  got:  %s\n", want, e.msg);
    CU_ASSERT_STRING_EQUAL(e.msg, want);
}

static void expect_ok(const char *doc)
{
    struct fhir_error e = {0};
    json_object *o = fhir_parse(doc, strlen(doc), NULL, "doc.json", &e);
    if (!o)
        fprintf(stderr, "\n  unexpected error: %s\n", e.msg);
    CU_ASSERT_PTR_NOT_NULL(o);
    json_object_put(o);
}

/* The whole of file name in HOSTILE_DIR; caller frees. */
static char *read_hostile(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", HOSTILE_DIR, name);
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char *buf = malloc(65536);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    *len = fread(buf, 1, 65536, f);
    fclose(f);
    return buf;
}

/* Each input found by fuzzing (and the case with NULs) is refused on input
 * with exactly this message, naming the resource and the field. */
static void test_hostile_files(void)
{
    static const struct {
        const char *file, *msg;
    } cases[] = {
        {"invalid-utf8-reference.json",
         "invalid-utf8-reference.json: Observation.subject.reference: invalid UTF-8"},
        {"report-ctlchar-subject.json",
         "report-ctlchar-subject.json: Observation.subject.reference: control character U+0001 "
         "in a string"},
        {"xml-writer-invalid-utf8-name.json",
         "xml-writer-invalid-utf8-name.json: O: member name \"s\\xFF\" is not a FHIR element "
         "name (letters, digits and _, starting with a lowercase letter)"},
        {"xml-writer-unreadable-key.json",
         "xml-writer-unreadable-key.json: B.n[0]: member name \"S\" starts with a capital letter "
         "(FHIR element names are lowerCamelCase; a capital marks a resource type)"},
        {"nul-in-strings.json", "nul-in-strings.json: Specimen/sp-1.accessionIdentifier.value: "
                                "control character U+0000 in a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        char *buf = read_hostile(cases[i].file, &len);
        struct fhir_error e = {0};
        json_object *o = fhir_parse(buf, len, NULL, cases[i].file, &e);
        CU_ASSERT_PTR_NULL(o);
        json_object_put(o);
        if (strcmp(e.msg, cases[i].msg) != 0)
            fprintf(stderr, "\n  want: %s\n  got:  %s\n", cases[i].msg, e.msg);
        CU_ASSERT_STRING_EQUAL(e.msg, cases[i].msg);
        free(buf);
    }
}

static int text_ok(const char *s, size_t len)
{
    char why[FHIR_WHY_LEN];
    return fhir_text_check(s, len, why, sizeof why) == 0;
}

/* why of a refused string. */
static const char *text_why(const char *s, size_t len, char *why)
{
    CU_ASSERT_EQUAL(fhir_text_check(s, len, why, FHIR_WHY_LEN), -1);
    return why;
}

static void test_text_check(void)
{
    char why[FHIR_WHY_LEN];
    CU_ASSERT_TRUE(text_ok("", 0));
    CU_ASSERT_TRUE(text_ok("a\tb\r\nc", 6));
    CU_ASSERT_TRUE(text_ok("\x7F", 1));                     /* DEL: FHIR allows it */
    CU_ASSERT_TRUE(text_ok("\xC2\x80\xC3\xA9", 4));          /* U+0080, e acute */
    CU_ASSERT_TRUE(text_ok("\xE2\x82\xAC\xEF\xBF\xBD", 6)); /* euro, U+FFFD */
    CU_ASSERT_TRUE(text_ok("\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF", 8)); /* U+1F600, U+10FFFF */
    CU_ASSERT_STRING_EQUAL(text_why("a\0b", 3, why), "control character U+0000 in a string");
    CU_ASSERT_STRING_EQUAL(text_why("\x1F", 1, why), "control character U+001F in a string");
    CU_ASSERT_STRING_EQUAL(text_why("\x1B$B", 3, why), "control character U+001B in a string");
    CU_ASSERT_STRING_EQUAL(text_why("\xEF\xBF\xBF", 3, why),
                           "noncharacter U+FFFF in a string (XML cannot carry it)");
    CU_ASSERT_STRING_EQUAL(text_why("\xEF\xBF\xBE", 3, why),
                           "noncharacter U+FFFE in a string (XML cannot carry it)");
    const char *bad[] = {
        "\xFA",             /* lone continuation byte */
        "\xFF",             /* never in UTF-8 */
        "\xC0\x80",         /* overlong NUL */
        "\xC1\xBF",         /* overlong */
        "\xE0\x9F\xBF",     /* overlong 3-byte */
        "\xF0\x8F\xBF\xBF", /* overlong 4-byte */
        "\xED\xA0\x80",     /* surrogate U+D800 */
        "\xED\xBF\xBF",     /* surrogate U+DFFF */
        "\xF4\x90\x80\x80", /* U+110000 */
        "\xF5\x80\x80\x80", /* past U+10FFFF */
        "\xC3",             /* cut */
        "\xE2\x82",         /* cut */
        "\xC3\x28",         /* bad continuation */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_STRING_EQUAL(text_why(bad[i], strlen(bad[i]), why), "invalid UTF-8");
}

static int key_ok(const char *k)
{
    char why[FHIR_WHY_LEN];
    return fhir_key_check(k, why, sizeof why) == 0;
}

static void test_key_check(void)
{
    const char *good[] = {"resourceType", "id", "valueQuantity", "_given", "fhir_comments",
                          "a1", "x_y",
                          "a234567890123456789012345678901234567890123456789012345678901234",
                          "_a234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CU_ASSERT_TRUE(key_ok(good[i]));
    const char *bad[] = {"", "_", "__x", "_S", "S", "Observation", "1a", "a-b", "a b", "a.b",
                         "\xC3\xA9", "s\xFF", "a:b",
                         "a2345678901234567890123456789012345678901234567890123456789012345"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_FALSE(key_ok(bad[i]));
    char why[FHIR_WHY_LEN];
    fhir_key_check("a\"\\\x01", why, sizeof why);
    CU_ASSERT_STRING_EQUAL(why, "member name \"a\\\"\\\\\\x01\" is not a FHIR element name "
                                "(letters, digits and _, starting with a lowercase letter)");
    fhir_key_check("", why, sizeof why);
    CU_ASSERT_STRING_EQUAL(why, "empty member name");
    fhir_key_check("a2345678901234567890123456789012345678901234567890123456789012345", why,
                   sizeof why);
    CU_ASSERT_STRING_EQUAL(why, "member name \"a2345678901234567890123456789012...\" is longer "
                                "than 64 characters");
    CU_ASSERT_EQUAL(fhir_type_check("Observation", why, sizeof why), 0);
    CU_ASSERT_EQUAL(fhir_type_check("O", why, sizeof why), 0);
    CU_ASSERT_EQUAL(fhir_type_check("observation", why, sizeof why), -1);
    CU_ASSERT_EQUAL(fhir_type_check("Obs-x", why, sizeof why), -1);
    CU_ASSERT_STRING_EQUAL(why, "\"Obs-x\" is not a resource type name");
    CU_ASSERT_EQUAL(fhir_type_check("", why, sizeof why), -1);
}

/* Documents: where messages point, and member names. */
static void test_strings_in_documents(void)
{
#define DOC(s) s, sizeof s - 1
    expect_message(DOC("{\"resourceType\":\"Observation\",\"id\":\"o1\","
                       "\"code\":{\"coding\":[{\"code\":\"1\"},{\"code\":\"2\\u0000x\"}]}}"),
                   "doc.json: Observation/o1.code.coding[1].code: control character U+0000 in a "
                   "string");
    /* a resource without id: its path from the root */
    expect_message(DOC("{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{"
                       "\"resourceType\":\"Patient\",\"id\":\"p\"}},{\"resource\":{"
                       "\"resourceType\":\"Observation\",\"note\":[{\"text\":\"\\u0007\"}]}}]}"),
                   "doc.json: Bundle.entry[1].resource.note[0].text: control character U+0007 in "
                   "a string");
    /* the innermost resource: a contained one with an id */
    expect_message(DOC("{\"resourceType\":\"Observation\",\"id\":\"o1\",\"contained\":[{"
                       "\"resourceType\":\"Specimen\",\"id\":\"s1\",\"note\":[{\"text\":"
                       "\"a\xC0\x80\"}]}]}"),
                   "doc.json: Specimen/s1.note[0].text: invalid UTF-8");
    /* after a contained resource, messages point into the outer one again */
    expect_message(DOC("{\"resourceType\":\"Observation\",\"id\":\"o1\",\"contained\":[{"
                       "\"resourceType\":\"Specimen\",\"id\":\"s1\"}],\"status\":\"\\u001b\"}"),
                   "doc.json: Observation/o1.status: control character U+001B in a string");
    /* an id that is no FHIR id is not used as a name, and is itself checked */
    expect_message(DOC("{\"resourceType\":\"Observation\",\"id\":\"o\\u0000\"}"),
                   "doc.json: Observation.id: control character U+0000 in a string");
    expect_message(DOC("{\"resourceType\":\"Observation\",\"id\":\"a/b\",\"status\":\"\xFF\"}"),
                   "doc.json: Observation.status: invalid UTF-8");
    /* arrays in arrays are not FHIR, but their strings are checked */
    expect_message(DOC("{\"resourceType\":\"Basic\",\"x\":[[\"a\",\"\\u0002\"]]}"),
                   "doc.json: Basic.x[0][1]: control character U+0002 in a string");
    expect_message(DOC("{\"resourceType\":\"Basic\",\"code\":{\"a-b\":1}}"),
                   "doc.json: Basic.code: member name \"a-b\" is not a FHIR element name "
                   "(letters, digits and _, starting with a lowercase letter)");
    expect_message(DOC("{\"resourceType\":\"Basic\",\"\":1}"),
                   "doc.json: Basic: empty member name");
    expect_message(DOC("{\"resourceType\":\"Basic\",\"code\":{\"\\u0041b\":1}}"),
                   "doc.json: Basic.code: member name \"Ab\" starts with a capital letter (FHIR "
                   "element names are lowerCamelCase; a capital marks a resource type)");
    /* json-c cuts a member name at U+0000: found in the text instead */
    expect_message(DOC("{\"resourceType\":\"Basic\",\n\"status\\u0000x\":\"final\"}"),
                   "doc.json: line 2: a member name holds \\u0000 (not a FHIR element name)");
    expect_message(DOC("{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{"
                       "\"resourceType\":\"obs\"}}]}"),
                   "doc.json: Bundle.entry[0].resource.resourceType: \"obs\" is not a resource "
                   "type name");
    expect_message(DOC("{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{"
                       "\"resourceType\":1}}]}"),
                   "doc.json: Bundle.entry[0].resource.resourceType: expected a string, found int");
    expect_message(DOC("{\"resourceType\":\"O\\u0000\"}"),
                   "doc.json: resourceType: control character U+0000 in a string");
#undef DOC
    /* what FHIR JSON holds is accepted */
    expect_ok("{\"resourceType\":\"Patient\",\"id\":\"p.1-x\",\"name\":[{\"given\":[\"J\\u00e9\",null],"
              "\"_given\":[null,{\"id\":\"g\"}]}],\"fhir_comments\":[\"c\"],"
              "\"text\":{\"div\":\"<div>\\t\\r\\n \\u007f \\ud83d\\ude00</div>\"},"
              "\"x\":\"\\\\u0000\"}");
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
                           {"hostile inputs found by fuzzing", test_hostile_files},
                           {"strings: UTF-8 and control characters", test_text_check},
                           {"member names and resource types", test_key_check},
                           {"strings and names in documents", test_strings_in_documents},
                           {"typed accessors", test_accessors},
                           CU_TEST_INFO_NULL};
    return test_run_suite("fhir_json", tests);
}
