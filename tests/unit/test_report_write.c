/*
 * test_report_write.c - issue 13 item 3 (I8, I14): the report Bundle in both
 * write modes (client-id: PUT Type/<uuid> with ids; conditional: no ids,
 * PUT Type?identifier=SYSTEM|VALUE percent-encoded, the Provenance by its
 * tag, the same identifiers and fullUrls), the write mode auto picks from
 * the CapabilityStatements captured from HAPI FHIR 8.8.0 and from the Node
 * test server (Medplum's fhir-router), and variants of them (Medplum's
 * real server: updateCreate false; neither announced), and the pieces of
 * the ordered single writes (identity, references resolved, the server's
 * Type/id from an answer).
 * argv[1]: examples/fhir, argv[2]: tests/unit/capabilities.
 */
#include "test_util.h"

#include <openssl/evp.h> /* before extract_util.h: OpenSSL has a type named SCT */

#include "extract_util.h"
#include "fhir_json.h"
#include "fhir_tree.h"
#include "nen_report.h"
#include "nen_report_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *examples_dir = "examples/fhir";
static const char *caps_dir = "tests/unit/capabilities";

/* The report Bundle of an example in one mode. Caller puts. */
static json_object *bundle_of(const char *name, int conditional)
{
    char path[512], msg[256];
    size_t len;
    struct fhir_error e;
    struct nen_result r;
    struct nen_extract *x = calloc(1, sizeof *x);
    snprintf(path, sizeof path, "%s/%s.json", examples_dir, name);
    char *buf = tx_read(path, &len);
    json_object *doc = buf && x ? fhir_parse(buf, len, NULL, path, &e) : NULL;
    free(buf);
    struct nen_codes *t = nen_codes_new();
    json_object *b = NULL;
    if (doc && t && nen_codes_load_default(t, msg, sizeof msg) == 0 &&
        nen_extract(t, &doc, 1, x, NULL, NULL, &e) == 0) {
        nen_extract_classify(x, &r);
        struct nen_report_opts o = {"2026-11-30T12:00:00Z", "9.9.9", "Organization/lab",
                                    "Pathology", NULL, t, conditional};
        b = nen_report_bundle(x, &r, &o, &e);
    }
    json_object_put(doc);
    nen_codes_free(t);
    free(x);
    return b;
}

static json_object *caps(const char *file)
{
    char path[512];
    size_t len;
    struct fhir_error e;
    snprintf(path, sizeof path, "%s/%s", caps_dir, file);
    char *buf = tx_read(path, &len);
    json_object *cs = buf ? fhir_json_parse(buf, len, &fhir_limits_default, path, &e) : NULL;
    free(buf);
    CU_ASSERT_PTR_NOT_NULL(cs);
    return cs;
}

static const char *req_url(json_object *entry)
{
    const char *u = "";
    fhir_get_string(fhir_member(entry, "request"), "url", &u);
    return u;
}

static void test_client_id_shape(void)
{
    json_object *b = bundle_of("gastric-type1", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    size_t n = fhir_count(b, "entry");
    CU_ASSERT(n >= 9);
    for (size_t i = 0; i < n; i++) {
        json_object *e = fhir_item(b, "entry", i), *res = fhir_member(e, "resource");
        const char *full = "", *method = "";
        fhir_get_string(e, "fullUrl", &full);
        fhir_get_string(fhir_member(e, "request"), "method", &method);
        CU_ASSERT_STRING_EQUAL(method, "PUT");
        char want[128];
        if (strcmp(fhir_resource_type(res), "Provenance") == 0) { /* id from the digest */
            CU_ASSERT_EQUAL(strncmp(fhir_resource_id(res), "nenfhir-", 8), 0);
            snprintf(want, sizeof want, "Provenance/%s", fhir_resource_id(res));
        } else {
            CU_ASSERT_STRING_EQUAL(fhir_resource_id(res), full + 9);
            snprintf(want, sizeof want, "%s/%s", fhir_resource_type(res), full + 9);
        }
        CU_ASSERT_STRING_EQUAL(req_url(e), want);
    }
    json_object_put(b);
}

static void test_conditional_shape(void)
{
    json_object *c = bundle_of("gastric-type1", 1), *k = bundle_of("gastric-type1", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    size_t n = fhir_count(c, "entry");
    CU_ASSERT_EQUAL(n, fhir_count(k, "entry"));
    int obs = 0, dr = 0, prov = 0, dev = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = fhir_item(c, "entry", i), *res = fhir_member(e, "resource");
        json_object *ke = fhir_item(k, "entry", i), *kres = fhir_member(ke, "resource");
        const char *type = fhir_resource_type(res), *full = "", *kfull = "";
        fhir_get_string(e, "fullUrl", &full);
        fhir_get_string(ke, "fullUrl", &kfull);
        CU_ASSERT_STRING_EQUAL(full, kfull);          /* same fullUrls in both modes */
        CU_ASSERT_STRING_EQUAL(fhir_resource_id(res), ""); /* no client id */
        CU_ASSERT_STRING_EQUAL(type, fhir_resource_type(kres));
        const char *url = req_url(e);
        if (strcmp(type, "Provenance") == 0) {
            prov++;
            static const char want[] = "Provenance?_tag=https%3A%2F%2Fnenfhir.org%2Ffhir%2Fid%2F"
                                       "provenance%7CS26-004711%2Fprovenance%2F";
            CU_ASSERT_EQUAL(strncmp(url, want, sizeof want - 1), 0);
            CU_ASSERT_EQUAL(strlen(url), sizeof want - 1 + 64); /* the whole digest, never cut */
            CU_ASSERT_EQUAL(fhir_count(fhir_member(res, "meta"), "tag"), 2);
            continue;
        }
        /* the same identifier in both modes */
        json_object *id = fhir_item(res, "identifier", 0), *kid = fhir_item(kres, "identifier", 0);
        CU_ASSERT_STRING_EQUAL(json_object_to_json_string(id), json_object_to_json_string(kid));
        if (strcmp(type, "Observation") == 0) {
            obs++;
            CU_ASSERT_EQUAL(strncmp(url, "Observation?identifier=https%3A%2F%2Fnenfhir.org%2Ffhir"
                                         "%2Fid%2Fresult%7CS26-004711%2F", 72), 0);
        } else if (strcmp(type, "DiagnosticReport") == 0) {
            dr++;
            CU_ASSERT_STRING_EQUAL(url, "DiagnosticReport?identifier=https%3A%2F%2Fnenfhir.org%2F"
                                        "fhir%2Fid%2Freport%7CS26-004711");
        } else if (strcmp(type, "Device") == 0) {
            dev++;
            CU_ASSERT_STRING_EQUAL(url, "Device?identifier=https%3A%2F%2Fnenfhir.org%2Ffhir%2Fid%2F"
                                        "device%7Cnenfhir");
        }
    }
    CU_ASSERT(obs >= 6);
    CU_ASSERT_EQUAL(dr, 1);
    CU_ASSERT_EQUAL(dev, 1);
    CU_ASSERT_EQUAL(prov, 1);
    json_object_put(c);
    json_object_put(k);
}

/* Set resource[type].flag in every rest entry of cs (-1: remove it). */
static void set_flag(json_object *cs, const char *type, const char *flag, int v)
{
    for (size_t i = 0; i < fhir_count(cs, "rest"); i++) {
        json_object *rest = fhir_item(cs, "rest", i);
        for (size_t k = 0; k < fhir_count(rest, "resource"); k++) {
            json_object *res = fhir_item(rest, "resource", k);
            const char *t = "";
            fhir_get_string(res, "type", &t);
            if (type && strcmp(t, type) != 0)
                continue;
            if (v < 0)
                json_object_object_del(res, flag);
            else
                json_object_object_add(res, flag, json_object_new_boolean(v));
        }
    }
}

static void test_choose_captured(void)
{
    struct nen_write_choice ch;
    json_object *hapi = caps("hapi-8.8.0.json"), *node = caps("medplum-test-server.json");
    nen_report_write_choose(hapi, &ch);
    CU_ASSERT_EQUAL(ch.mode, NEN_WRITE_CONDITIONAL);
    CU_ASSERT_EQUAL(ch.transactions, 1);
    CU_ASSERT_STRING_EQUAL(ch.software, "HAPI FHIR Server");
    CU_ASSERT_PTR_NOT_NULL(strstr(ch.why, "in one transaction per report"));
    nen_report_write_choose(node, &ch);
    CU_ASSERT_EQUAL(ch.mode, NEN_WRITE_CONDITIONAL);
    CU_ASSERT_EQUAL(ch.transactions, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(ch.software, "fhir-router"));
    /* Medplum's own server: updateCreate false, conditionalUpdate true */
    set_flag(node, NULL, "updateCreate", 0);
    nen_report_write_choose(node, &ch);
    CU_ASSERT_EQUAL(ch.mode, NEN_WRITE_CONDITIONAL);
    json_object_put(hapi);
    json_object_put(node);
}

static void test_choose_variants(void)
{
    struct nen_write_choice ch;
    json_object *cs = caps("hapi-8.8.0.json");
    /* no conditional update for Provenance, create on update everywhere: client ids */
    set_flag(cs, "Provenance", "conditionalUpdate", 0);
    set_flag(cs, NULL, "updateCreate", 1);
    nen_report_write_choose(cs, &ch);
    CU_ASSERT_EQUAL(ch.mode, NEN_WRITE_CLIENT_ID);
    CU_ASSERT_PTR_NOT_NULL(strstr(ch.why, "no conditionalUpdate for Provenance"));
    /* neither: what the server lacks, named */
    set_flag(cs, "Device", "updateCreate", -1);
    nen_report_write_choose(cs, &ch);
    CU_ASSERT_EQUAL(ch.mode, NEN_WRITE_AUTO);
    CU_ASSERT_PTR_NOT_NULL(strstr(ch.why, "neither conditionalUpdate (missing for Provenance) "
                                          "nor updateCreate (missing for Device)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ch.why, "write_mode"));
    /* no transactions announced */
    json_object *cs2 = caps("hapi-8.8.0.json");
    json_object_object_del(fhir_item(cs2, "rest", 0), "interaction");
    nen_report_write_choose(cs2, &ch);
    CU_ASSERT_EQUAL(ch.mode, NEN_WRITE_CONDITIONAL);
    CU_ASSERT_EQUAL(ch.transactions, 0);
    /* no statement at all, or another resource */
    nen_report_write_choose(NULL, &ch);
    CU_ASSERT_EQUAL(ch.mode, NEN_WRITE_AUTO);
    json_object *oo = json_tokener_parse("{\"resourceType\":\"OperationOutcome\"}");
    nen_report_write_choose(oo, &ch);
    CU_ASSERT_EQUAL(ch.mode, NEN_WRITE_AUTO);
    CU_ASSERT_EQUAL(nen_write_mode_parse("conditional"), NEN_WRITE_CONDITIONAL);
    CU_ASSERT_EQUAL(nen_write_mode_parse("client-id"), NEN_WRITE_CLIENT_ID);
    CU_ASSERT_EQUAL(nen_write_mode_parse("auto"), NEN_WRITE_AUTO);
    CU_ASSERT_STRING_EQUAL(nen_write_mode_name(NEN_WRITE_CLIENT_ID), "client-id");
    json_object_put(oo);
    json_object_put(cs);
    json_object_put(cs2);
}

static void test_single_writes(void)
{
    json_object *b = bundle_of("gastric-type1", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    json_object *refs = json_object_new_object();
    char value[600], missing[128];
    const char *type, *param;
    size_t n = fhir_count(b, "entry");
    /* in Bundle order every reference is to an earlier entry */
    for (size_t i = 0; i < n; i++) {
        json_object *e = fhir_item(b, "entry", i);
        CU_ASSERT_EQUAL_FATAL(nen_report_write_identity(e, &type, &param, value, sizeof value), 0);
        CU_ASSERT_STRING_EQUAL(param, strcmp(type, "Provenance") ? "identifier" : "_tag");
        CU_ASSERT_EQUAL(strncmp(value, NEN_ID_SYSTEM "/", strlen(NEN_ID_SYSTEM) + 1), 0);
        json_object *res = nen_report_write_resolve(b, i, refs, missing, sizeof missing);
        CU_ASSERT_PTR_NOT_NULL(res);
        const char *text = res ? json_object_to_json_string(res) : "";
        for (size_t k = 0; k < n; k++) { /* no entry named by its fullUrl any more */
            const char *f = "";
            fhir_get_string(fhir_item(b, "entry", k), "fullUrl", &f);
            CU_ASSERT_PTR_NULL(strstr(text, f));
        }
        json_object_put(res);
        const char *full = "";
        fhir_get_string(e, "fullUrl", &full);
        char ref[96];
        snprintf(ref, sizeof ref, "%s/%zu", type, 1000 + i);
        json_object_object_add(refs, full, json_object_new_string(ref));
    }
    /* the DiagnosticReport names the Observations by the server's ids */
    size_t dr = 0;
    while (dr < n && strcmp(fhir_resource_type(fhir_member(fhir_item(b, "entry", dr), "resource")),
                            "DiagnosticReport") != 0)
        dr++;
    json_object *r = nen_report_write_resolve(b, dr, refs, missing, sizeof missing);
    const char *first = "";
    fhir_get_string(fhir_item(r, "result", 0), "reference", &first);
    CU_ASSERT_STRING_EQUAL(first, "Observation/1000");
    json_object_put(r);
    /* a reference to an entry not written yet */
    json_object *none = json_object_new_object();
    CU_ASSERT_PTR_NULL(nen_report_write_resolve(b, dr, none, missing, sizeof missing));
    CU_ASSERT_EQUAL(strncmp(missing, "urn:uuid:", 9), 0);
    json_object_put(none);
    json_object_put(refs);
    json_object_put(b);
}

static void test_answer_ref(void)
{
    char out[96];
    const char *body = "{\"resourceType\":\"Observation\",\"id\":\"abc-1\",\"status\":\"final\"}";
    CU_ASSERT_EQUAL(nen_report_write_ref(body, strlen(body), "", "Observation", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "Observation/abc-1");
    /* no body (Prefer: return=minimal): the Location */
    CU_ASSERT_EQUAL(nen_report_write_ref("", 0, "https://h/fhir/Observation/1001/_history/2",
                                         "Observation", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "Observation/1001");
    /* an OperationOutcome body, Location of another type, nothing */
    const char *oo = "{\"resourceType\":\"OperationOutcome\"}";
    CU_ASSERT_EQUAL(nen_report_write_ref(oo, strlen(oo), "https://h/fhir/Device/5", "Observation",
                                         out, sizeof out), -1);
    CU_ASSERT_EQUAL(nen_report_write_ref(NULL, 0, NULL, "Observation", out, sizeof out), -1);
    CU_ASSERT_EQUAL(nen_report_write_ref("", 0, "https://h/fhir/Observation/", "Observation", out,
                                         sizeof out), -1);
    /* too small a buffer: refused, not cut */
    CU_ASSERT_EQUAL(nen_report_write_ref(body, strlen(body), "", "Observation", out, 8), -1);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        examples_dir = argv[1];
    if (argc > 2)
        caps_dir = argv[2];
    CU_TestInfo tests[] = {{"client-id Bundle: PUT Type/<uuid>", test_client_id_shape},
                           {"conditional Bundle: PUT Type?identifier=...", test_conditional_shape},
                           {"auto: captured CapabilityStatements", test_choose_captured},
                           {"auto: variants (client ids, neither, no transactions)",
                            test_choose_variants},
                           {"ordered single writes: identity, references", test_single_writes},
                           {"the server's Type/id from its answer", test_answer_ref},
                           CU_TEST_INFO_NULL};
    return test_run_suite("report_write", tests);
}
