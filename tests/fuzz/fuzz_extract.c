/*
 * fuzz_extract.c - libFuzzer target: a case's resource or Bundle (JSON or XML)
 * through fhir_parse -> nen_extract (shipped code tables) ->
 * nen_extract_classify -> nen_report_bundle. Invariants: the report has no
 * empty array or object and no null (FHIR json.html), it is UTF-8
 * JSON that fhir_json_parse reads back to the same tree (no input byte that
 * is not sound UTF-8, no control character reaches it), the XML writer
 * writes it and the XML reader reads that back, the digest is 64 hex digits;
 * every refusal has a clean message. libxml2 never prints. Also the cases of
 * the input (nen_cases_plan, one per tissue specimen): every case extracts
 * or refuses cleanly, and where nen_extract reads the input there is one.
 */
#include "fuzz_util.h"
#include "fhir_xml.h"
#include "nen_cases.h"
#include "nen_extract.h"
#include "nen_report.h"
#include <libxml/parser.h>

static struct nen_codes *codes;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char err[512];
    xmlInitParser();
    fz_xml_silence_guard();
    codes = nen_codes_new();
    if (!codes || nen_codes_load_default(codes, err, sizeof err) != 0)
        fz_fail("cannot load the shipped code tables");
    return 0;
}

/* Every case of doc; returns the number of cases (0 when the plan refuses). */
static int fuzz_cases(json_object *doc)
{
    struct nen_cases plan;
    struct fhir_error e = {0};
    struct nen_extract *xs[NEN_CASES_MAX] = {0};
    int n = 0;
    if (nen_cases_plan(codes, &doc, 1, &plan, NULL, NULL, &e) != 0) {
        fz_clean_error(e.msg, sizeof e.msg, "nen_cases_plan error");
        nen_cases_free(&plan);
        return 0;
    }
    if (plan.ncase < 1 || plan.ncase > NEN_CASES_MAX)
        fz_fail("a plan with %d cases", plan.ncase);
    for (int i = 0; i < plan.ncase; i++) {
        if (!(xs[i] = calloc(1, sizeof *xs[i])))
            fz_fail("out of memory");
        if (nen_extract_case(codes, &plan, i, xs[i], NULL, NULL, &e) != 0) {
            fz_clean_error(e.msg, sizeof e.msg, "nen_extract_case error");
            memset(xs[i], 0, sizeof *xs[i]);
        }
        n++;
    }
    nen_cases_note_missing(xs, n);
    for (int i = 0; i < n; i++)
        free(xs[i]);
    nen_cases_free(&plan);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fhir_error e = {0};
    json_object *doc = fhir_parse((const char *)data, size, NULL, "fuzz", &e);
    if (!doc)
        return 0; /* fuzz_json / fuzz_xml cover the readers */
    struct nen_extract *x = calloc(1, sizeof *x);
    struct nen_result *r = calloc(1, sizeof *r);
    if (!x || !r)
        fz_fail("out of memory");
    int ncase = fuzz_cases(doc);
    if (nen_extract(codes, &doc, 1, x, NULL, NULL, &e) != 0) {
        fz_clean_error(e.msg, sizeof e.msg, "nen_extract error");
        goto out;
    }
    if (ncase != 1)
        fz_fail("nen_extract read an input that is %d cases", ncase);
    nen_extract_classify(x, r);
    struct nen_report_opts o = {"2026-11-30T12:00:00Z", "fuzz", "Organization/pathology",
                                "Pathology", NULL, codes, 0};
    json_object *b = nen_report_bundle(x, r, &o, &e);
    if (!b)
        fz_fail("nen_report_bundle failed: %s", e.msg);
    fz_no_empty(b, "report");
    fz_json_reads_back(b, "report");
    char *xml = fhir_xml_write(b, &e);
    if (!xml)
        fz_fail("the XML writer refuses the report: %s", e.msg);
    json_object *back = fhir_xml_parse(xml, strlen(xml), NULL, "report.xml", &e);
    if (!back)
        fz_fail("the XML reader refuses the report as written: %s", e.msg);
    if (!fz_same_modulo_xml(b, back) && (fz_show_pair(b, back), 1))
        fz_fail("report JSON -> XML -> JSON is not the same tree");
    json_object_put(back);
    free(xml);
    char digest[65];
    if (nen_report_digest(x, r, digest) != 0 || strspn(digest, "0123456789abcdef") != 64)
        fz_fail("bad report digest");
    json_object_put(b);
out:
    free(x);
    free(r);
    json_object_put(doc);
    return 0;
}
