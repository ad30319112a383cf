/*
 * test_report.c - the transaction Bundle (nen_report_bundle): conditional
 * entries keyed by stable identifiers (I8), nenfhir's tag on every resource
 * (I5), DiagnosticReport shape (I11), hasMember/derivedFrom (I12),
 * Provenance (I13), and the XML writer's round trip. argv[1]: examples/fhir.
 */
#include "test_util.h"

#include "extract_util.h"
#include "fhir_json.h"
#include "fhir_tree.h"
#include "fhir_xml.h"
#include "nen_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *examples_dir = "examples/fhir";

/* Report of an example, with issued = now. Caller puts. */
static json_object *report_of(const char *name, const char *now, struct nen_extract *x)
{
    char path[512], msg[256];
    size_t len;
    struct fhir_error e;
    struct nen_result r;
    snprintf(path, sizeof path, "%s/%s.json", examples_dir, name);
    char *buf = tx_read(path, &len);
    if (!buf)
        return NULL;
    json_object *doc = fhir_parse(buf, len, NULL, path, &e);
    free(buf);
    struct nen_codes *t = nen_codes_new();
    json_object *b = NULL;
    if (doc && t && nen_codes_load_default(t, msg, sizeof msg) == 0 &&
        nen_extract(t, &doc, 1, x, NULL, NULL, &e) == 0) {
        nen_extract_classify(x, &r);
        struct nen_report_opts o = {now, "9.9.9", "Organization/lab", "Pathology", NULL};
        b = nen_report_bundle(x, &r, &o, &e);
    }
    json_object_put(doc);
    nen_codes_free(t);
    return b;
}

static json_object *entry_of(json_object *b, const char *type, int nth)
{
    for (size_t i = 0; i < fhir_count(b, "entry"); i++) {
        json_object *res = fhir_member(fhir_item(b, "entry", i), "resource");
        if (strcmp(fhir_resource_type(res), type) == 0 && nth-- == 0)
            return fhir_item(b, "entry", i);
    }
    return NULL;
}

static const char *str(json_object *o, const char *path)
{
    /* dotted path of members, first item of arrays */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
        o = fhir_item(o, k, 0);
    return o && json_object_is_type(o, json_type_string) ? json_object_get_string(o) : "";
}

static void test_shape(void)
{
    struct nen_extract x;
    json_object *b = report_of("gastric-type3", "2026-11-21T08:00:00Z", &x);
    CU_ASSERT_FATAL(b != NULL);
    CU_ASSERT_STRING_EQUAL(str(b, "type"), "transaction");
    size_t n = fhir_count(b, "entry");
    CU_ASSERT_EQUAL(n, 10); /* 7 results (gastric: type included), report, device, provenance */
    for (size_t i = 0; i < n; i++) {
        json_object *e = fhir_item(b, "entry", i), *res = fhir_member(e, "resource");
        CU_ASSERT_TRUE(fhir_has_tag(res, NEN_TAG_SYSTEM, NEN_TAG_CODE));
        CU_ASSERT_STRING_EQUAL(str(e, "request.method"), "PUT");
        CU_ASSERT_EQUAL(strncmp(str(e, "fullUrl"), "urn:uuid:", 9), 0);
        /* written by stable id: PUT Type/id, the id is the fullUrl's uuid
         * (Provenance: its own content-derived id) */
        char want[160];
        snprintf(want, sizeof want, "%s/%s", str(res, "resourceType"), str(res, "id"));
        CU_ASSERT_STRING_EQUAL(str(e, "request.url"), want);
        if (strcmp(str(res, "resourceType"), "Provenance") != 0)
            CU_ASSERT_STRING_EQUAL(str(res, "id"), str(e, "fullUrl") + 9);
    }
    json_object *dr = entry_of(b, "DiagnosticReport", 0);
    CU_ASSERT_FATAL(dr != NULL);
    json_object *res = fhir_member(dr, "resource");
    CU_ASSERT_STRING_EQUAL(str(res, "identifier.system"), NEN_ID_SYSTEM "/report");
    CU_ASSERT_STRING_EQUAL(str(res, "identifier.value"), "S26-006382");
    CU_ASSERT_STRING_EQUAL(str(res, "status"), "final");
    CU_ASSERT_STRING_EQUAL(str(res, "code.coding.code"), "60568-3");
    CU_ASSERT_STRING_EQUAL(str(res, "category.coding.code"), "LP7839-6");
    CU_ASSERT_EQUAL(fhir_count(res, "result"), 7);
    CU_ASSERT_PTR_NOT_NULL(strstr(str(res, "conclusion"), "grade=G2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(str(res, "conclusion"), "CACA 2025 Table 3"));
    CU_ASSERT_STRING_EQUAL(str(res, "conclusionCode.coding.code"), "8249/3");
    CU_ASSERT_STRING_EQUAL(str(res, "performer.reference"), "Organization/lab");
    /* stage group: AJCC 9th method, hasMember pT pN pM */
    json_object *stage = NULL;
    for (int i = 0; (res = fhir_member(entry_of(b, "Observation", i), "resource")); i++)
        if (strcmp(str(res, "code.coding.code"), "21902-2") == 0)
            stage = res;
    CU_ASSERT_FATAL(stage != NULL);
    CU_ASSERT_STRING_EQUAL(str(stage, "method.coding.code"), "1269566009");
    CU_ASSERT_EQUAL(fhir_count(stage, "hasMember"), 3);
    CU_ASSERT_STRING_EQUAL(str(stage, "valueCodeableConcept.coding.code"), "III");
    /* grade derives from the Ki-67 and mitotic count Observations */
    json_object *grade = fhir_member(entry_of(b, "Observation", 1), "resource");
    CU_ASSERT_STRING_EQUAL(str(grade, "code.coding.code"), "33732-9");
    CU_ASSERT_TRUE(fhir_count(grade, "derivedFrom") >= 2);
    /* Provenance: target the report, agent the Device with version, entities the inputs */
    json_object *prov = fhir_member(entry_of(b, "Provenance", 0), "resource");
    CU_ASSERT_STRING_EQUAL(str(prov, "agent.who.display"), "nenfhir 9.9.9");
    CU_ASSERT_STRING_EQUAL(str(prov, "target.reference"), str(dr, "fullUrl"));
    int unique = 0; /* one entity per input resource */
    for (int i = 0; i < x.nsrc; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++)
            seen |= strcmp(x.src[i].ref, x.src[j].ref) == 0;
        unique += !seen;
    }
    CU_ASSERT_EQUAL((int)fhir_count(prov, "entity"), unique);
    CU_ASSERT_TRUE(fhir_count(prov, "entity") >= 8);
    CU_ASSERT_STRING_EQUAL(str(prov, "entity.role"), "source");
    json_object_put(b);
}

/* The same case gives the same identifiers and fullUrls, whenever computed. */
static void test_stable(void)
{
    struct nen_extract x;
    json_object *a = report_of("pancreas-liver-mets", "2026-11-21T08:00:00Z", &x);
    json_object *b = report_of("pancreas-liver-mets", "2027-01-01T00:00:00Z", &x);
    CU_ASSERT_FATAL(a && b);
    CU_ASSERT_EQUAL(fhir_count(a, "entry"), fhir_count(b, "entry"));
    for (size_t i = 0; i < fhir_count(a, "entry"); i++) {
        json_object *ea = fhir_item(a, "entry", i), *eb = fhir_item(b, "entry", i);
        CU_ASSERT_STRING_EQUAL(str(ea, "fullUrl"), str(eb, "fullUrl"));
        CU_ASSERT_STRING_EQUAL(str(ea, "request.url"), str(eb, "request.url"));
    }
    json_object *c = report_of("rectum-small", "2026-11-21T08:00:00Z", &x);
    CU_ASSERT_STRING_NOT_EQUAL(str(fhir_item(a, "entry", 0), "fullUrl"),
                               str(fhir_item(c, "entry", 0), "fullUrl"));
    CU_ASSERT_STRING_EQUAL(str(fhir_member(entry_of(c, "DiagnosticReport", 0), "resource"),
                               "status"), "preliminary");
    json_object_put(a);
    json_object_put(b);
    json_object_put(c);
}

/* The XML form of the report reads back into the same tree. */
static void test_xml_round_trip(void)
{
    const char *names[] = {"gastric-type1", "minen", "rectum-small"};
    for (size_t i = 0; i < 3; i++) {
        struct nen_extract x;
        struct fhir_error e = {""};
        json_object *b = report_of(names[i], "2026-11-21T08:00:00Z", &x);
        CU_ASSERT_FATAL(b != NULL);
        char *xml = fhir_xml_write(b, &e);
        CU_ASSERT_FATAL(xml != NULL);
        json_object *back = fhir_xml_parse(xml, strlen(xml), NULL, "report.xml", &e);
        if (!back)
            fprintf(stderr, "%s\n", e.msg);
        CU_ASSERT_TRUE(back && json_object_equal(b, back));
        json_object_put(back);
        free(xml);
        json_object_put(b);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1)
        examples_dir = argv[1];
    CU_TestInfo tests[] = {{"transaction shape (I8, I11-I14)", test_shape},
                           {"stable identifiers (I8)", test_stable},
                           {"XML round trip", test_xml_round_trip},
                           CU_TEST_INFO_NULL};
    return test_run_suite("report", tests);
}
