/*
 * test_cases.c - a case is a specimen (issue 11, nen_cases.h): a biopsy and
 * a resection of one patient are two cases with their own inputs; serum
 * results, results without a specimen and Conditions belong to every case;
 * results on a block join the accession specimen's case; a case lacking an
 * input another case has says so. And the digest is a function of the
 * inputs, not of the order the server answered in: shuffling the resources
 * of every example leaves result and digest unchanged (issue 11 7a).
 * argv[1]: examples/fhir.
 */
#include "extract_util.h"
#include "fhir_json.h"
#include "fhir_tree.h"
#include "nen_cases.h"
#include "nen_report.h"
#include "test_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *examples_dir = "examples/fhir";
static struct nen_codes *T;

#define PAT "{\"resourceType\":\"Patient\",\"id\":\"p1\"}"
#define SUBJ "\"subject\":{\"reference\":\"Patient/p1\"}"
#define SPEC(id, acc, extra)                                                                  \
    "{\"resourceType\":\"Specimen\",\"id\":\"" id "\"," SUBJ extra                           \
    ",\"accessionIdentifier\":{\"system\":\"urn:lab\",\"value\":\"" acc "\"}}"
#define OBSS(id, system, code, value, specimen)                                               \
    "{\"resourceType\":\"Observation\",\"id\":\"" id "\",\"status\":\"final\"," SUBJ          \
    ",\"code\":{\"coding\":[{\"system\":\"" system "\",\"code\":\"" code "\"}]}," value       \
    specimen "}"
#define LOBS(id, loinc, value, specimen) OBSS(id, "http://loinc.org", loinc, value, specimen)
#define ON(s) ",\"specimen\":{\"reference\":\"" s "\"}"
#define KI67(v) "\"valueQuantity\":{\"value\":" v ",\"unit\":\"%\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"%\"}"
#define GASTRIN(v) "\"valueQuantity\":{\"value\":" v ",\"unit\":\"pg/mL\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"pg/mL\"}"

/* A Bundle of the given entries (resources joined by commas). Caller puts. */
static json_object *bundle_of(const char *resources)
{
    size_t len = strlen(resources) * 2 + 200;
    char *text = malloc(len), *p = text;
    p += sprintf(p, "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[");
    const char *s = resources;
    int depth = 0, first = 1;
    for (; *s; s++) {
        if (depth == 0 && *s == '{')
            p += sprintf(p, "%s{\"resource\":", first ? "" : ","), first = 0;
        if (depth == 0 && *s == ',')
            continue;
        *p++ = *s;
        if (*s == '{')
            depth++;
        if (*s == '}' && --depth == 0)
            *p++ = '}';
    }
    p += sprintf(p, "]}");
    struct fhir_error e;
    json_object *b = fhir_json_parse(text, (size_t)(p - text), &fhir_limits_default, "test", &e);
    if (!b)
        fprintf(stderr, "bundle_of: %s\n%s\n", e.msg, text);
    free(text);
    return b;
}

static const struct nen_source *src(const struct nen_extract *x, const char *key)
{
    for (int i = 0; i < x->nsrc; i++)
        if (strcmp(x->src[i].key, key) == 0)
            return &x->src[i];
    return NULL;
}

static int has_warning_text(const struct nen_extract *x, const char *code, const char *part)
{
    for (int i = 0; i < x->nwarn; i++)
        if (strcmp(x->warn[i].code, code) == 0 && strstr(x->warn[i].text, part))
            return 1;
    return 0;
}

/* Plan doc, extract every case into xs (caller frees each). Returns ncase. */
static int cases_of(json_object *doc, struct nen_extract **xs, struct fhir_error *e)
{
    struct nen_cases plan;
    int n = -1;
    if (nen_cases_plan(T, &doc, 1, &plan, NULL, NULL, e) == 0) {
        n = plan.ncase;
        for (int i = 0; i < n; i++) {
            xs[i] = calloc(1, sizeof *xs[i]);
            if (nen_extract_case(T, &plan, i, xs[i], NULL, NULL, e) != 0) {
                fprintf(stderr, "case %d: %s\n", i, e->msg);
                n = -1;
            }
        }
        if (n > 0)
            nen_cases_note_missing(xs, n);
    }
    nen_cases_free(&plan);
    return n;
}

static void free_cases(struct nen_extract **xs, int n)
{
    for (int i = 0; i < n; i++)
        free(xs[i]);
}

/* Biopsy then resection: two cases, each with its own Ki-67; the serum
 * gastrin (serum Specimen) and a Condition belong to both; the resection's
 * mitoses are reported missing from the biopsy's case. */
static void test_biopsy_and_resection(void)
{
    json_object *doc = bundle_of(
        PAT "," SPEC("bx", "S26-1", ",\"collection\":{\"method\":{\"coding\":[{\"system\":"
                                    "\"http://snomed.info/sct\",\"code\":\"129314006\"}]}}") ","
        SPEC("rx", "S26-2", ",\"collection\":{\"method\":{\"coding\":[{\"system\":"
                            "\"http://snomed.info/sct\",\"code\":\"129304002\"}]}}") ","
        "{\"resourceType\":\"Specimen\",\"id\":\"ser\"," SUBJ ",\"type\":{\"coding\":[{\"system\":"
        "\"http://snomed.info/sct\",\"code\":\"119364003\"}]},\"accessionIdentifier\":{\"value\":"
        "\"C26-9\"}}," LOBS("k1", "29593-1", KI67("2"), ON("Specimen/bx")) ","
        LOBS("k2", "29593-1", KI67("12"), ON("Specimen/rx")) ","
        OBSS("m2", "https://nenfhir.org/fhir/CodeSystem/nen-input", "mitotic-count",
             "\"valueQuantity\":{\"value\":3,\"unit\":\"/2mm2\"}", ON("Specimen/rx")) ","
        LOBS("g", "2333-3", GASTRIN("900"), ON("Specimen/ser")));
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    struct nen_extract *xs[NEN_CASES_MAX] = {0};
    struct fhir_error e = {0};
    int n = cases_of(doc, xs, &e);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    struct nen_extract *bx = strcmp(xs[0]->case_value, "S26-1") == 0 ? xs[0] : xs[1];
    struct nen_extract *rx = bx == xs[0] ? xs[1] : xs[0];
    CU_ASSERT_STRING_EQUAL(bx->case_value, "S26-1");
    CU_ASSERT_STRING_EQUAL(rx->case_value, "S26-2");
    CU_ASSERT_STRING_EQUAL(bx->specimen_ref, "Specimen/bx");
    CU_ASSERT_PTR_NOT_NULL_FATAL(src(bx, "ki67"));
    CU_ASSERT_STRING_EQUAL(src(bx, "ki67")->ref, "Observation/k1");
    CU_ASSERT_STRING_EQUAL(src(rx, "ki67")->ref, "Observation/k2");
    CU_ASSERT_PTR_NULL(src(bx, "mitoses"));
    CU_ASSERT_PTR_NOT_NULL(src(rx, "mitoses"));
    CU_ASSERT_PTR_NOT_NULL(src(bx, "gastrin")); /* serum: every case */
    CU_ASSERT_PTR_NOT_NULL(src(rx, "gastrin"));
    CU_ASSERT_TRUE(has_warning_text(bx, "input-in-other-case", "mitoses"));
    CU_ASSERT_TRUE(has_warning_text(bx, "input-in-other-case", "S26-2"));
    CU_ASSERT_FALSE(has_warning_text(rx, "input-in-other-case", "mitoses"));
    CU_ASSERT_FALSE(has_warning_text(rx, "input-in-other-case", "gastrin"));
    free_cases(xs, n);
    /* the one-case call refuses, naming both specimens */
    struct nen_extract *x = calloc(1, sizeof *x);
    CU_ASSERT_EQUAL(nen_extract(T, &doc, 1, x, NULL, NULL, &e), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "a second tissue specimen"));
    free(x);
    json_object_put(doc);
}

/* Results on a block (parent: the accession specimen) join its case; a
 * gastrin on a tissue specimen is still patient-level; a result with no
 * specimen belongs to every case. */
static void test_block_joins_accession(void)
{
    json_object *doc = bundle_of(
        PAT "," SPEC("acc", "S26-7", "") ","
        "{\"resourceType\":\"Specimen\",\"id\":\"blk\"," SUBJ
        ",\"parent\":[{\"reference\":\"Specimen/acc\"}]},"
        "{\"resourceType\":\"Specimen\",\"id\":\"sld\"," SUBJ
        ",\"parent\":[{\"reference\":\"Specimen/blk\"}]},"
        LOBS("k", "29593-1", KI67("5"), ON("Specimen/sld")) ","
        LOBS("g", "2333-3", GASTRIN("90"), ON("Specimen/blk")) ","
        LOBS("k0", "29593-1", KI67("5"), ""));
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    struct nen_cases plan;
    struct fhir_error e = {0};
    CU_ASSERT_EQUAL_FATAL(nen_cases_plan(T, &doc, 1, &plan, NULL, NULL, &e), 0);
    CU_ASSERT_EQUAL(plan.ncase, 1);
    CU_ASSERT_STRING_EQUAL(plan.c[0].specimen_ref, "Specimen/acc");
    CU_ASSERT_STRING_EQUAL(plan.c[0].accession, "S26-7");
    for (size_t i = 0; i < plan.n; i++) {
        const char *ref = plan.r[i].ref;
        if (strcmp(ref, "Observation/k") == 0)
            CU_ASSERT_EQUAL(plan.r[i].case_idx, 0);
        if (strcmp(ref, "Observation/g") == 0 || strcmp(ref, "Observation/k0") == 0)
            CU_ASSERT_EQUAL(plan.r[i].case_idx, NEN_CASES_PATIENT);
        if (strcmp(ref, "Specimen/blk") == 0 || strcmp(ref, "Specimen/sld") == 0)
            CU_ASSERT_EQUAL(plan.r[i].case_idx, NEN_CASES_NONE);
        if (strcmp(ref, "Specimen/acc") == 0)
            CU_ASSERT_TRUE(plan.r[i].root);
    }
    struct nen_extract *x = calloc(1, sizeof *x);
    CU_ASSERT_EQUAL(nen_extract_case(T, &plan, 0, x, NULL, NULL, &e), 0);
    CU_ASSERT_STRING_EQUAL(x->case_value, "S26-7");
    CU_ASSERT_PTR_NOT_NULL(src(x, "ki67"));
    CU_ASSERT_PTR_NOT_NULL(src(x, "gastrin"));
    free(x);
    nen_cases_free(&plan);
    json_object_put(doc);
}

/* A parent cycle ends; a Specimen referenced but not present is its own
 * case keyed by the reference; no tissue specimen: one patient case. */
static void test_cycles_and_missing_specimens(void)
{
    json_object *doc = bundle_of(
        PAT ",{\"resourceType\":\"Specimen\",\"id\":\"a\"," SUBJ
        ",\"parent\":[{\"reference\":\"Specimen/b\"}]},"
        "{\"resourceType\":\"Specimen\",\"id\":\"b\"," SUBJ
        ",\"parent\":[{\"reference\":\"Specimen/a\"}]},"
        LOBS("k", "29593-1", KI67("5"), ON("https://x.example/fhir/Specimen/gone/_history/2")));
    struct nen_cases plan;
    struct fhir_error e = {0};
    CU_ASSERT_EQUAL_FATAL(nen_cases_plan(T, &doc, 1, &plan, NULL, NULL, &e), 0);
    int gone = -1;
    for (int i = 0; i < plan.ncase; i++)
        if (strcmp(plan.c[i].specimen_ref, "Specimen/gone") == 0)
            gone = i;
    CU_ASSERT_TRUE(gone >= 0);
    if (gone >= 0) {
        struct nen_extract *x = calloc(1, sizeof *x);
        CU_ASSERT_EQUAL(nen_extract_case(T, &plan, gone, x, NULL, NULL, &e), 0);
        CU_ASSERT_STRING_EQUAL(x->case_value, "Specimen/gone");
        CU_ASSERT_PTR_NOT_NULL(src(x, "ki67"));
        free(x);
    }
    nen_cases_free(&plan);
    json_object_put(doc);
    doc = bundle_of(PAT "," LOBS("k", "29593-1", KI67("5"), ""));
    CU_ASSERT_EQUAL_FATAL(nen_cases_plan(T, &doc, 1, &plan, NULL, NULL, &e), 0);
    CU_ASSERT_EQUAL(plan.ncase, 1);
    CU_ASSERT_STRING_EQUAL(plan.c[0].specimen_ref, "");
    nen_cases_free(&plan);
    json_object_put(doc);
}

/* Summary lines and digest of doc's one case. */
static int digest_of(json_object *doc, char out[65], char *summary, size_t len)
{
    struct nen_extract *x = calloc(1, sizeof *x);
    struct nen_result *r = calloc(1, sizeof *r);
    struct fhir_error e = {0};
    int rc = -1;
    if (x && r && nen_extract(T, &doc, 1, x, NULL, NULL, &e) == 0) {
        nen_extract_classify(x, r);
        rc = nen_report_digest(x, r, out);
        snprintf(summary, len, "%s %d %d %d %d/%d", x->case_value, (int)r->grade, (int)r->stage, r->nwarn,
                 r->grade_trace.n, r->stage_trace.n);
    }
    free(x);
    free(r);
    return rc;
}

/* Entries of a Bundle in a new random order (the same resources). */
static void shuffle_entries(json_object *doc, unsigned *seed)
{
    json_object *entries = fhir_member(doc, "entry");
    size_t n = json_object_array_length(entries);
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rand_r(seed) % i;
        json_object *a = json_object_get(json_object_array_get_idx(entries, i - 1));
        json_object *b = json_object_get(json_object_array_get_idx(entries, j));
        json_object_array_put_idx(entries, i - 1, b);
        json_object_array_put_idx(entries, j, a);
    }
}

static void test_digest_order_free(void)
{
    DIR *dir = opendir(examples_dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    struct dirent *de;
    int files = 0;
    unsigned seed = 20261130;
    while ((de = readdir(dir))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", examples_dir, de->d_name);
        size_t len;
        char *buf = tx_read(path, &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
        struct fhir_error e;
        json_object *doc = fhir_json_parse(buf, len, &fhir_limits_default, path, &e);
        free(buf);
        if (!doc || strcmp(fhir_resource_type(doc), "Bundle") != 0) {
            json_object_put(doc);
            continue;
        }
        char d0[65], s0[600];
        if (digest_of(doc, d0, s0, sizeof s0) != 0) {
            json_object_put(doc);
            continue; /* examples that are refused are tested elsewhere */
        }
        files++;
        for (int k = 0; k < 8; k++) {
            char d1[65], s1[600];
            shuffle_entries(doc, &seed);
            CU_ASSERT_EQUAL(digest_of(doc, d1, s1, sizeof s1), 0);
            CU_ASSERT_STRING_EQUAL(s1, s0);
            if (strcmp(d0, d1) != 0) {
                fprintf(stderr, "%s: digest changed with the order of the resources\n", path);
                CU_FAIL("digest depends on the order");
                break;
            }
        }
        json_object_put(doc);
    }
    closedir(dir);
    CU_ASSERT_TRUE(files >= 10);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        examples_dir = argv[1];
    char msg[256];
    T = nen_codes_new();
    if (!T || nen_codes_load_default(T, msg, sizeof msg) != 0) {
        fprintf(stderr, "tables: %s\n", msg);
        return 1;
    }
    CU_TestInfo tests[] = {
        {"biopsy and resection: two cases, serum shared, missing noted", test_biopsy_and_resection},
        {"a block's results join the accession specimen", test_block_joins_accession},
        {"parent cycles, absent specimens, no specimen", test_cycles_and_missing_specimens},
        {"digest and result do not depend on resource order (7a)", test_digest_order_free},
        CU_TEST_INFO_NULL};
    int rc = test_run_suite("cases", tests);
    nen_codes_free(T);
    return rc;
}
