/*
 * test_extract.c - FHIR resources -> case (nen_extract): every value shape,
 * every unit, ranges and limits, duplicates, statuses, Conditions, the
 * hospital's own code table, wrong types, and XML = JSON. argv[1]: the
 * examples/fhir directory.
 */
#include "test_util.h"

#include "extract_util.h"
#include "fhir_json.h"
#include "nen_codes.h"

#include <stdlib.h>
#include <string.h>

static const char *examples_dir = "examples/fhir";
static struct nen_extract X;
static struct fhir_error E;

static int ok(const char *entries)
{
    int rc = tx_extract(entries, NULL, &X, &E);
    if (rc != 0)
        fprintf(stderr, "extract failed: %s\n", E.msg);
    return rc == 0;
}

static void test_quantity_units(void)
{
    CU_ASSERT_FATAL(ok(OBS("k", LOINC, "29593-1", QTY("4", "%"))));
    CU_ASSERT_EQUAL(X.lo.ki67.value, 4);
    CU_ASSERT_FATAL(ok(OBS("k", LOINC, "29593-1", QTY("0.04", "1")))); /* a fraction */
    CU_ASSERT_DOUBLE_EQUAL(X.lo.ki67.value, 4, 1e-9);
    CU_ASSERT_FATAL(ok(OBS("s", LOINC, "21889-1", QTY("1.2", "cm"))));
    CU_ASSERT_DOUBLE_EQUAL(X.lo.size_mm.value, 12, 1e-9);
    CU_ASSERT_FATAL(ok(OBS("s", LOINC, "33728-7", QTY("8", "mm"))));
    CU_ASSERT_EQUAL(X.lo.size_mm.value, 8);
    CU_ASSERT_FATAL(ok(OBS("m", NENI, "mitotic-count", QTY("3", "/2.mm2"))));
    CU_ASSERT_EQUAL(X.lo.mitoses.value, 3);
    CU_ASSERT_EQUAL(X.lo.mitoses_unit, NEN_MIT_PER_2MM2);
    CU_ASSERT_FATAL(ok(OBS("m", NENI, "mitotic-count", QTY("5", "/10.[HPF]")) ","
                       OBS("a", NENI, "hpf-area", QTY("0.237", "mm2"))));
    CU_ASSERT_EQUAL(X.lo.mitoses_unit, NEN_MIT_PER_10HPF);
    CU_ASSERT_DOUBLE_EQUAL(X.lo.hpf_area_mm2.value, 0.237, 1e-9);
    CU_ASSERT_FATAL(ok(OBS("m", NENI, "mitotic-count", QTY("1.5", "/mm2"))));
    CU_ASSERT_EQUAL(X.lo.mitoses.value, 3); /* a density per mm2, times 2 */
    CU_ASSERT_EQUAL(X.lo.mitoses_unit, NEN_MIT_PER_2MM2);
    CU_ASSERT_FATAL(ok(OBS("m", NENI, "mitotic-count", STR("4 per 10 HPF"))));
    CU_ASSERT_FALSE(X.lo.mitoses.known); /* a spelling the tables do not know: not guessed */
    CU_ASSERT_TRUE(tx_has_warning(&X, "input-unit-unknown"));
    CU_ASSERT_FATAL(ok(OBS("m", NENI, "mitotic-count", STR("4 /10 HPF"))));
    CU_ASSERT_EQUAL(X.lo.mitoses_unit, NEN_MIT_PER_10HPF);
    CU_ASSERT_FATAL(ok(OBS("n", NENI, "ne-component", QTY("0.4", "1"))));
    CU_ASSERT_DOUBLE_EQUAL(X.lo.ne_pct.value, 40, 1e-9);
    CU_ASSERT_FATAL(ok(OBS("s", NENI, "tumour-size", QTY("0.02", "m"))));
    CU_ASSERT_DOUBLE_EQUAL(X.lo.size_mm.value, 20, 1e-9);
    CU_ASSERT_FATAL(ok(OBS("s", NENI, "tumour-size", "\"valueQuantity\":{\"value\":9}")));
    CU_ASSERT_EQUAL(X.lo.size_mm.value, 9); /* no unit: the input's own (mm) */
    CU_ASSERT_FATAL(ok(OBS("g", LOINC, "2333-3",
                           QTY("850", "pg/mL") ",\"referenceRange\":[{\"high\":{\"value\":100,"
                                               "\"code\":\"ng/L\"}}]")));
    CU_ASSERT_EQUAL(X.lo.gastrin.value, 850);
    CU_ASSERT_EQUAL(X.lo.gastrin_uln.value, 100);
    /* a unit the tables do not know: input unknown, warning names resource and unit */
    CU_ASSERT_FATAL(ok(OBS("s", LOINC, "21889-1", QTY("0.5", "[in_i]"))));
    CU_ASSERT_FALSE(X.lo.size_mm.known);
    CU_ASSERT_TRUE(tx_has_warning(&X, "input-unit-unknown"));
    CU_ASSERT_PTR_NOT_NULL(strstr(X.warn[0].text, "Observation/s"));
    CU_ASSERT_PTR_NOT_NULL(strstr(X.warn[0].text, "[in_i]"));
}

static void test_strings_ranges_limits(void)
{
    CU_ASSERT_FATAL(ok(OBS("k", LOINC, "29593-1", STR("4%"))));
    CU_ASSERT_EQUAL(X.lo.ki67.value, 4);
    CU_ASSERT_FALSE(X.ranged);
    CU_ASSERT_FATAL(ok(OBS("k", LOINC, "29593-1", STR("<1%"))));
    CU_ASSERT_TRUE(X.ranged);
    CU_ASSERT_EQUAL(X.lo.ki67.value, 0);
    CU_ASSERT_TRUE(X.hi.ki67.value < 1 && X.hi.ki67.value > 0.999);
    CU_ASSERT_FATAL(ok(OBS("k", LOINC, "29593-1", STR("15-20%"))));
    CU_ASSERT_EQUAL(X.lo.ki67.value, 15);
    CU_ASSERT_EQUAL(X.hi.ki67.value, 20);
    CU_ASSERT_FATAL(ok(OBS("k", LOINC, "29593-1", STR("\xe2\x89\xa5" "20 %")))); /* >= 20 % */
    CU_ASSERT_EQUAL(X.lo.ki67.value, 20);
    CU_ASSERT_EQUAL(X.hi.ki67.value, 100);
    CU_ASSERT_FATAL(ok(OBS("k", LOINC, "29593-1",
                           "\"valueQuantity\":{\"value\":3,\"comparator\":\"<\",\"code\":\"%\"}")));
    CU_ASSERT_TRUE(X.ranged && X.hi.ki67.value < 3);
    CU_ASSERT_FATAL(ok(OBS("k", LOINC, "29593-1",
                           "\"valueRange\":{\"low\":{\"value\":2,\"code\":\"%\"},"
                           "\"high\":{\"value\":4,\"code\":\"%\"}}")));
    CU_ASSERT_EQUAL(X.lo.ki67.value, 2);
    CU_ASSERT_EQUAL(X.hi.ki67.value, 4);
    CU_ASSERT_FATAL(ok(OBS("n", NENI, "necrosis", STR("Punctate"))));
    CU_ASSERT_EQUAL(X.lo.necrosis, NEN_NECROSIS_PUNCTATE);
    CU_ASSERT_FATAL(ok(OBS("n", NENI, "necrosis", STR("a little"))));
    CU_ASSERT_EQUAL(X.lo.necrosis, NEN_NECROSIS_UNKNOWN);
    CU_ASSERT_TRUE(tx_has_warning(&X, "input-unreadable"));
}

/* A range decides the grade only when both ends agree. */
static void test_range_classification(void)
{
    struct nen_result r;
    const char *base = OBS("site", NENI, "primary-site", CC(SCT, "15776009")) ","
                       OBS("d", NENI, "differentiation", CC(NENV, "well")) ",";
    char buf[2048];
    snprintf(buf, sizeof buf, "%s%s", base, OBS("k", LOINC, "29593-1", STR("15-20%")));
    CU_ASSERT_FATAL(ok(buf));
    nen_extract_classify(&X, &r);
    CU_ASSERT_EQUAL(r.grade, NEN_GRADE_G2);
    CU_ASSERT_TRUE(tx_result_has_warning(&r, "input-range"));
    CU_ASSERT_FALSE(tx_result_has_warning(&r, "input-range-undecided"));
    snprintf(buf, sizeof buf, "%s%s", base, OBS("k", LOINC, "29593-1", STR("15-25%")));
    CU_ASSERT_FATAL(ok(buf));
    nen_extract_classify(&X, &r);
    CU_ASSERT_EQUAL(r.grade, NEN_GRADE_INDETERMINATE);
    CU_ASSERT_TRUE(tx_result_has_warning(&r, "input-range-undecided"));
    CU_ASSERT_EQUAL(r.status, NEN_STATUS_PRELIMINARY);
    snprintf(buf, sizeof buf, "%s%s", base, OBS("k", LOINC, "29593-1", STR("<1%")));
    CU_ASSERT_FATAL(ok(buf));
    nen_extract_classify(&X, &r);
    CU_ASSERT_EQUAL(r.grade, NEN_GRADE_G1);
}

static void test_coded_integer_boolean_components(void)
{
    CU_ASSERT_FATAL(ok(OBS("n", NENI, "necrosis", CC(NENV, "punctate"))));
    CU_ASSERT_EQUAL(X.lo.necrosis, NEN_NECROSIS_PUNCTATE);
    CU_ASSERT_FATAL(ok(OBS("n", NENI, "necrosis", CC(SCT, "52101004"))));
    CU_ASSERT_EQUAL(X.lo.necrosis, NEN_NECROSIS_PRESENT);
    CU_ASSERT_FATAL(ok(OBS("n", NENI, "necrosis", CC(SCT, "999999999"))));
    CU_ASSERT_EQUAL(X.lo.necrosis, NEN_NECROSIS_UNKNOWN);
    CU_ASSERT_TRUE(tx_has_warning(&X, "input-code-unknown"));
    CU_ASSERT_FATAL(ok(OBS("e", LOINC, "21894-1", "\"valueInteger\":14") ","
                       OBS("p", LOINC, "21893-3", "\"valueInteger\":2")));
    CU_ASSERT_EQUAL(X.lo.nodes_examined.value, 14);
    CU_ASSERT_EQUAL(X.lo.nodes_positive.value, 2);
    CU_ASSERT_FATAL(ok(OBS("mm", NENI, "mesenteric-mass", "\"valueBoolean\":true")));
    CU_ASSERT_EQUAL(X.lo.mesenteric_mass, NEN_TRI_YES);
    CU_ASSERT_FATAL(ok(OBS("pn", LOINC, "21900-6",
                           "\"valueCodeableConcept\":{\"text\":\"pN1\"}")));
    CU_ASSERT_EQUAL(X.lo.n_given, NEN_N_1);
    CU_ASSERT_FATAL(ok(
        "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"panel\",\"status\":\"final\","
        "\"code\":{\"text\":\"NET panel\"},\"component\":["
        "{\"code\":{\"coding\":[{\"system\":\"" LOINC "\",\"code\":\"29593-1\"}]}," QTY("7", "%") "},"
        "{\"code\":{\"coding\":[{\"system\":\"" NENI "\",\"code\":\"mitotic-count\"}]},"
        QTY("2", "/2.mm2") "}]}}"));
    CU_ASSERT_EQUAL(X.lo.ki67.value, 7);
    CU_ASSERT_EQUAL(X.lo.mitoses.value, 2);
    CU_ASSERT_EQUAL(X.nsrc, 2);
    CU_ASSERT_STRING_EQUAL(X.src[0].ref, "Observation/panel");
}

#define KI67(id, v, status, extra)                                                            \
    "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"" id "\",\"status\":\"" status    \
    "\",\"code\":{\"coding\":[{\"system\":\"" LOINC "\",\"code\":\"29593-1\"}]}," extra         \
    QTY(v, "%") "}}"
#define HOTSPOT "\"method\":{\"coding\":[{\"system\":\"" NENV "\",\"code\":\"hotspot\"}]},"

static void test_duplicates(void)
{
    CU_ASSERT_FATAL(ok(KI67("a", "4", "final", "") "," KI67("b", "6", "final", HOTSPOT)
                       "," KI67("c", "9", "final", "\"issued\":\"2026-12-01T00:00:00Z\",")));
    CU_ASSERT_EQUAL(X.lo.ki67.value, 6); /* hotspot first */
    CU_ASSERT_TRUE(tx_has_warning(&X, "input-duplicate"));
    CU_ASSERT_PTR_NOT_NULL(strstr(X.warn[0].text, "hotspot"));
    CU_ASSERT_FATAL(ok(KI67("a", "4", "preliminary", "\"issued\":\"2026-12-01T00:00:00Z\",")
                       "," KI67("b", "6", "final", "\"issued\":\"2026-11-01T00:00:00Z\",")));
    CU_ASSERT_EQUAL(X.lo.ki67.value, 6); /* final before latest */
    CU_ASSERT_FATAL(ok(KI67("a", "4", "final", "\"issued\":\"2026-12-01T00:00:00Z\",")
                       "," KI67("b", "6", "amended", "\"issued\":\"2026-11-01T00:00:00Z\",")));
    CU_ASSERT_EQUAL(X.lo.ki67.value, 4); /* then the latest */
    CU_ASSERT_PTR_NOT_NULL(strstr(X.warn[0].text, "latest"));
    CU_ASSERT_FATAL(ok(KI67("a", "4", "final", "") "," KI67("b", "4", "final", "")));
    CU_ASSERT_FALSE(tx_has_warning(&X, "input-duplicate")); /* same value: no warning */
}

static void test_status_and_own_tag(void)
{
    CU_ASSERT_FATAL(ok(KI67("a", "4", "entered-in-error", "")));
    CU_ASSERT_FALSE(X.lo.ki67.known);
    CU_ASSERT_FATAL(ok(KI67("a", "4", "cancelled", "") "," KI67("b", "5", "registered", "")));
    CU_ASSERT_FALSE(X.lo.ki67.known);
    CU_ASSERT_FATAL(ok(KI67("a", "4", "corrected", "")));
    CU_ASSERT_TRUE(X.lo.ki67.known);
    CU_ASSERT_FATAL(ok(KI67("a", "4", "final",
                            "\"meta\":{\"tag\":[{\"system\":\"" NEN_TAG_SYSTEM "\",\"code\":\""
                            NEN_TAG_CODE "\"}]},")));
    CU_ASSERT_FALSE(X.lo.ki67.known); /* I5: nenfhir's own writes are never inputs */
}

#define COND(id, extra)                                                                       \
    "{\"resource\":{\"resourceType\":\"Condition\",\"id\":\"" id "\","                           \
    "\"subject\":{\"reference\":\"Patient/p1\"}," extra "}}"
#define ICD10 "http://hl7.org/fhir/sid/icd-10-cm"

static void test_conditions(void)
{
    CU_ASSERT_FATAL(ok(COND("c1", "\"code\":{\"coding\":[{\"system\":\"" ICD10
                                  "\",\"code\":\"C7A.092\"}]}")));
    CU_ASSERT_EQUAL(X.lo.site, NEN_SITE_STOMACH);
    CU_ASSERT_FATAL(ok(COND("c2", "\"verificationStatus\":{\"coding\":[{\"code\":\"refuted\"}]},"
                                  "\"code\":{\"coding\":[{\"system\":\"" ICD10
                                  "\",\"code\":\"K29.40\"}]}")));
    CU_ASSERT_EQUAL(X.lo.atrophic_gastritis, NEN_TRI_NO);
    CU_ASSERT_FATAL(ok(COND("c3", "\"verificationStatus\":{\"coding\":[{\"code\":"
                                  "\"entered-in-error\"}]},\"code\":{\"coding\":[{\"system\":\""
                                  ICD10 "\",\"code\":\"C7A.092\"}]}")));
    CU_ASSERT_EQUAL(X.lo.site, NEN_SITE_UNKNOWN);
    /* a liver metastasis: its bodySite is not the primary site */
    CU_ASSERT_FATAL(ok(COND("m", "\"code\":{\"coding\":[{\"system\":\"" ICD10
                                 "\",\"code\":\"C7B.02\"}]},\"bodySite\":[{\"coding\":[{\"system\":\""
                                 SCT "\",\"code\":\"10200004\"}]}]")));
    CU_ASSERT_EQUAL(X.lo.mets, NEN_METS_PRESENT);
    CU_ASSERT_TRUE(X.lo.met_sites & (1u << NEN_MET_LIVER));
    CU_ASSERT_EQUAL(X.lo.site, NEN_SITE_UNKNOWN);
    /* NEC NOS and a cell type: the cell type refines, no duplicate warning */
    CU_ASSERT_FATAL(ok(COND("a", "\"code\":{\"coding\":[{\"system\":\"" ICD10
                                 "\",\"code\":\"C7A.1\"}]}") ","
                       COND("b", "\"code\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
                                 "CodeSystem/icd-o-3\",\"code\":\"8013/3\"}]}")));
    CU_ASSERT_EQUAL(X.lo.diff, NEN_DIFF_LARGE_CELL);
    CU_ASSERT_FALSE(tx_has_warning(&X, "input-duplicate"));
    /* sets join: two depth findings and two metastasis sites */
    CU_ASSERT_FATAL(ok(OBS("d1", NENI, "depth-of-invasion", CC(NENV, "submucosa")) ","
                       OBS("d2", NENI, "extent", CC(NENV, "pancreas_peripancreatic")) ","
                       OBS("m1", NENI, "distant-metastasis", CC(NENV, "bone")) ","
                       COND("m2", "\"code\":{\"coding\":[{\"system\":\"" ICD10
                                  "\",\"code\":\"C7B.02\"}]}")));
    CU_ASSERT_EQUAL(X.lo.extent, (1ULL << NEN_EXT_SUBMUCOSA) | (1ULL << NEN_EXT_PANCREAS_PERIPANCREATIC));
    CU_ASSERT_EQUAL(X.lo.met_sites, (1u << NEN_MET_BONE) | (1u << NEN_MET_LIVER));
}

/* The hospital's own file: local codes without recompiling, and overrides. */
static void test_local_mapping_file(void)
{
    const char *obs = OBS("k", "http://lab.example.org/codes", "KI67-IHC", QTY("12", "%"));
    CU_ASSERT_FATAL(tx_extract(obs, NULL, &X, &E) == 0);
    CU_ASSERT_FALSE(X.lo.ki67.known);
    CU_ASSERT_FATAL(tx_extract(obs, "system lab http://lab.example.org/codes\n"
                                    "input lab|KI67-IHC ki67   # our Ki-67\n", &X, &E) == 0);
    CU_ASSERT_EQUAL(X.lo.ki67.value, 12);
    const char *site = OBS("s", NENI, "primary-site", CC(SCT, "69695003"));
    CU_ASSERT_FATAL(tx_extract(site, "value http://snomed.info/sct|69695003 site=duodenum\n", &X,
                               &E) == 0);
    CU_ASSERT_EQUAL(X.lo.site, NEN_SITE_DUODENUM); /* the later line replaced the shipped one */
}

static void expect_load_error(const char *text, const char *want)
{
    char msg[512] = "";
    struct nen_codes *t = nen_codes_new();
    CU_ASSERT_FATAL(t != NULL);
    CU_ASSERT_EQUAL(nen_codes_load(t, text, "local.map", msg, sizeof msg), -1);
    if (!strstr(msg, want))
        fprintf(stderr, "want '%s' in '%s'\n", want, msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
    nen_codes_free(t);
}

static void test_mapping_file_errors(void)
{
    expect_load_error("# ok\ninput http://x.org|1 kiwi\n", "local.map:2: 'kiwi' is not an input key");
    expect_load_error("value http://x.org|1 site=moon\n", "local.map:1: site: 'moon'");
    expect_load_error("input snomed|1 ki67\n", "local.map:1: unknown system alias 'snomed'");
    expect_load_error("inptu http://x.org|1 ki67\n", "unknown directive 'inptu'");
    expect_load_error("unit size in -3\n", "factor '-3' is not a positive number");
    expect_load_error("unit mitoses /[HPF] 1 /hpf\n", "suffix does not fit");
    expect_load_error("unit mitoses /HPF 1 /10hpf\n", "'/HPF' is not a UCUM unit");
    expect_load_error("value http://x.org|1 -\n", "`value` needs SYSTEM|CODE KEY=WORD");
    expect_load_error("condition http://x.org|1 tumour\n", "'tumour' is not a role");
    expect_load_error("body http://x.org|1 specimen=biopsy\n", "`body` takes KEY=WORD with KEY one of: site mets ; not 'specimen=biopsy'");
    expect_load_error("specimen http://x.org|1 site=colon\n", "`specimen` takes KEY=WORD with KEY one of: specimen ;");
    expect_load_error("input http://x.org ki67\n", "is not SYSTEM|CODE");
}

static void expect_error(const char *entries, const char *want)
{
    CU_ASSERT_EQUAL(tx_extract(entries, NULL, &X, &E), -1);
    if (!strstr(E.msg, want))
        fprintf(stderr, "want '%s' in '%s'\n", want, E.msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, want));
}

static void test_wrong_types(void)
{
    expect_error(OBS("k", LOINC, "29593-1", "\"valueQuantity\":{\"value\":\"abc\",\"code\":\"%\"}"),
                 "Observation/k.valueQuantity.value: expected a number, found string");
    expect_error(OBS("k", LOINC, "29593-1", "\"valueQuantity\":[4]"),
                 "Observation/k.valueQuantity: expected an object, found array");
    expect_error("{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"x\",\"status\":5,"
                 "\"code\":{}}}",
                 "Observation/x.status: expected a string, found int");
    expect_error("{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"x\",\"status\":\"final\","
                 "\"code\":\"29593-1\"}}",
                 "Observation/x.code: expected a CodeableConcept, found string");
    expect_error(OBS("k", LOINC, "21894-1", "\"valueInteger\":2.5"),
                 "Observation/k.valueInteger: expected an integer");
    expect_error("{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"y\",\"status\":\"final\","
                 "\"code\":{},\"subject\":{\"reference\":\"Patient/p2\"}}}",
                 "Observation/y.subject: Patient/p2 is not the case's patient Patient/p1");
    expect_error("{\"resource\":[1,2]}", "Bundle.entry[2].resource: not a resource");
    expect_error(OBS("e", LOINC, "21894-1", "\"valueInteger\":10") ","
                 OBS("p", LOINC, "21893-3", "\"valueInteger\":13"),
                 "inputs contradict each other");
}

/* The XML and the JSON of an example give the same case, input for input. */
static void test_xml_equals_json(void)
{
    const char *names[] = {"gastric-type1", "lung-atypical-carcinoid"};
    for (size_t i = 0; i < 2; i++) {
        struct nen_extract *a = malloc(sizeof *a), *b = malloc(sizeof *b);
        struct nen_codes *t = nen_codes_new();
        char msg[256], path[512];
        CU_ASSERT_FATAL(a && b && t && nen_codes_load_default(t, msg, sizeof msg) == 0);
        for (int k = 0; k < 2; k++) {
            size_t len;
            snprintf(path, sizeof path, "%s/%s.%s", examples_dir, names[i], k ? "xml" : "json");
            char *buf = tx_read(path, &len);
            CU_ASSERT_FATAL(buf != NULL);
            json_object *doc = fhir_parse(buf, len, NULL, path, &E);
            free(buf);
            CU_ASSERT_FATAL(doc != NULL);
            CU_ASSERT_EQUAL(nen_extract(t, &doc, 1, k ? b : a, NULL, NULL, &E), 0);
            json_object_put(doc);
        }
        CU_ASSERT_EQUAL(memcmp(&a->lo, &b->lo, sizeof a->lo), 0);
        CU_ASSERT_EQUAL(memcmp(&a->hi, &b->hi, sizeof a->hi), 0);
        CU_ASSERT_EQUAL(a->nsrc, b->nsrc);
        CU_ASSERT_TRUE(a->nsrc > 5);
        for (int s = 0; s < a->nsrc && s < b->nsrc; s++) {
            CU_ASSERT_STRING_EQUAL(a->src[s].key, b->src[s].key);
            CU_ASSERT_STRING_EQUAL(a->src[s].ref, b->src[s].ref);
        }
        CU_ASSERT_STRING_EQUAL(a->case_value, b->case_value);
        CU_ASSERT_STRING_EQUAL(a->effective, b->effective);
        free(a);
        free(b);
        nen_codes_free(t);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1)
        examples_dir = argv[1];
    CU_TestInfo tests[] = {
        {"Quantity and every unit", test_quantity_units},
        {"strings, ranges and limits", test_strings_ranges_limits},
        {"a range decides only when both ends agree", test_range_classification},
        {"CodeableConcept, integer, boolean, components", test_coded_integer_boolean_components},
        {"duplicates: hotspot, final, latest", test_duplicates},
        {"status filter and own tag (I5)", test_status_and_own_tag},
        {"Conditions, refuted, metastasis site, sets", test_conditions},
        {"hospital mapping file: local codes and override", test_local_mapping_file},
        {"mapping file errors name file and line", test_mapping_file_errors},
        {"wrong types and contradictions name resource and field", test_wrong_types},
        {"XML and JSON give identical cases", test_xml_equals_json},
        CU_TEST_INFO_NULL};
    return test_run_suite("extract", tests);
}
