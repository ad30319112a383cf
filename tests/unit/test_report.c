/*
 * test_report.c - the transaction Bundle (nen_report_bundle): conditional
 * entries keyed by stable identifiers (I8), nenfhir's tag on every resource
 * (I5), DiagnosticReport shape (I11), hasMember/derivedFrom (I12),
 * Provenance (I13), the XML writer's round trip; the standard codes of the
 * `result` lines (results.map) beside nenfhir's own and the directive's
 * checks; the narrative (FHIR xhtml), the presentedForm (text/html,
 * text/plain with the summary lines) and the one-sentence conclusion.
 * argv[1]: examples/fhir.
 */
#include "test_util.h"

#include <openssl/evp.h> /* before extract_util.h: OpenSSL has a type named SCT */

#include "extract_util.h"
#include "fhir_json.h"
#include "fhir_tree.h"
#include "fhir_xml.h"
#include "nen_case_text.h"
#include "nen_report.h"
#include "nen_report_synoptic.h"
#include "nen_report_text.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *examples_dir = "examples/fhir";

/* Report of an example, with issued = now, the default tables plus map
 * (may be NULL), and the standard codes written when with_codes. Caller puts. */
static json_object *report_with(const char *name, const char *now, struct nen_extract *x,
                                const char *map, int with_codes)
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
        (!map || nen_codes_load(t, map, "test.map", msg, sizeof msg) == 0) &&
        nen_extract(t, &doc, 1, x, NULL, NULL, &e) == 0) {
        nen_extract_classify(x, &r);
        struct nen_report_opts o = {now, "9.9.9", "Organization/lab", "Pathology", NULL,
                                    with_codes ? t : NULL, 0};
        b = nen_report_bundle(x, &r, &o, &e);
    }
    json_object_put(doc);
    nen_codes_free(t);
    return b;
}

static json_object *report_of(const char *name, const char *now, struct nen_extract *x)
{
    return report_with(name, now, x, NULL, 1);
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
    CU_ASSERT_PTR_NOT_NULL(strstr(str(res, "conclusion"), ", G2 ("));
    CU_ASSERT_PTR_NULL(strstr(str(res, "conclusion"), "grade=")); /* no machine lines */
    CU_ASSERT_PTR_NOT_NULL(strstr(str(res, "text.div"), "CACA 2025 Table 3"));
    CU_ASSERT_STRING_EQUAL(str(res, "conclusionCode.coding.code"), "NET");
    CU_ASSERT_STRING_EQUAL(str(res, "performer.reference"), "Organization/lab");
    /* stage group: AJCC 9th method, hasMember pT pN pM */
    json_object *stage = NULL;
    for (int i = 0; (res = fhir_member(entry_of(b, "Observation", i), "resource")); i++)
        if (strcmp(str(res, "code.coding.code"), "stage-group") == 0)
            stage = res;
    CU_ASSERT_FATAL(stage != NULL);
    CU_ASSERT_STRING_EQUAL(str(stage, "method.coding.code"), "1269566009");
    CU_ASSERT_EQUAL(fhir_count(stage, "hasMember"), 3);
    CU_ASSERT_STRING_EQUAL(str(stage, "valueCodeableConcept.coding.code"), "III");
    /* grade derives from the Ki-67 and mitotic count Observations */
    json_object *grade = fhir_member(entry_of(b, "Observation", 1), "resource");
    CU_ASSERT_STRING_EQUAL(str(grade, "code.coding.code"), "grade");
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
        struct fhir_error e = {0};
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

/* ---------- standard codes ---------- */

/* 1 if the CodeableConcept cc has a coding system|code. */
static int has_coding(json_object *cc, const char *system, const char *code)
{
    for (size_t i = 0; i < fhir_count(cc, "coding"); i++) {
        json_object *c = fhir_item(cc, "coding", i);
        if (strcmp(str(c, "system"), system) == 0 && strcmp(str(c, "code"), code) == 0)
            return 1;
    }
    return 0;
}

/* The result Observation whose nen-result code is role. */
static json_object *result_obs(json_object *b, const char *role)
{
    json_object *res;
    for (int i = 0; (res = fhir_member(entry_of(b, "Observation", i), "resource")); i++)
        if (has_coding(fhir_member(res, "code"), NEN_RESULT_SYSTEM, role))
            return res;
    return NULL;
}

#define ICDO3 "http://terminology.hl7.org/CodeSystem/icd-o-3"

/* gastric-type3: NET G2, pT2 pN1 M0, stage III, stomach. */
static void test_codes_gastric(void)
{
    struct nen_extract x;
    json_object *b = report_of("gastric-type3", "2026-11-21T08:00:00Z", &x);
    CU_ASSERT_FATAL(b != NULL);
    json_object *cls = result_obs(b, "who-class"), *grade = result_obs(b, "grade");
    json_object *t = result_obs(b, "pt"), *n = result_obs(b, "pn"), *m = result_obs(b, "pm");
    json_object *stage = result_obs(b, "stage-group"), *type = result_obs(b, "gastric-net-type");
    CU_ASSERT_FATAL(cls && grade && t && n && m && stage && type);
    /* nenfhir's own code first, the standard one beside it */
    CU_ASSERT_STRING_EQUAL(str(cls, "valueCodeableConcept.coding.code"), "NET");
    CU_ASSERT_TRUE(has_coding(fhir_member(cls, "valueCodeableConcept"), ICDO3, "8249/3"));
    CU_ASSERT_TRUE(has_coding(fhir_member(grade, "code"), LOINC, "33732-9"));
    CU_ASSERT_TRUE(has_coding(fhir_member(grade, "valueCodeableConcept"), NEN_RESULT_SYSTEM, "G2"));
    CU_ASSERT_TRUE(has_coding(fhir_member(grade, "valueCodeableConcept"), SCT, "1286893008"));
    CU_ASSERT_TRUE(has_coding(fhir_member(grade, "method"), SCT, "1149430001"));
    CU_ASSERT_TRUE(has_coding(fhir_member(t, "code"), LOINC, "21899-0"));
    CU_ASSERT_TRUE(has_coding(fhir_member(t, "code"), SCT, "384625004"));
    CU_ASSERT_TRUE(has_coding(fhir_member(t, "valueCodeableConcept"), SCT, "1229852009"));
    CU_ASSERT_TRUE(has_coding(fhir_member(n, "code"), SCT, "371494008"));
    CU_ASSERT_TRUE(has_coding(fhir_member(n, "valueCodeableConcept"), SCT, "1229951001"));
    CU_ASSERT_TRUE(has_coding(fhir_member(m, "code"), SCT, "371497001"));
    /* M0 has no confirmed pathological code: nenfhir's own only */
    CU_ASSERT_EQUAL(fhir_count(fhir_member(m, "valueCodeableConcept"), "coding"), 1);
    CU_ASSERT_TRUE(has_coding(fhir_member(stage, "code"), SCT, "399588009"));
    CU_ASSERT_TRUE(has_coding(fhir_member(stage, "code"), LOINC, "21902-2"));
    CU_ASSERT_TRUE(has_coding(fhir_member(stage, "valueCodeableConcept"), SCT, "1222801008"));
    CU_ASSERT_TRUE(has_coding(fhir_member(stage, "method"), SCT, "1269566009"));
    /* the gastric type has no standard code; every result has the body site */
    CU_ASSERT_EQUAL(fhir_count(fhir_member(type, "valueCodeableConcept"), "coding"), 1);
    CU_ASSERT_FALSE(fhir_member(type, "method") != NULL);
    CU_ASSERT_TRUE(has_coding(fhir_member(stage, "bodySite"), SCT, "69695003"));
    CU_ASSERT_STRING_EQUAL(str(type, "bodySite.text"), "stomach");
    /* conclusionCode: class with its morphology, grade, stage */
    json_object *dr = fhir_member(entry_of(b, "DiagnosticReport", 0), "resource");
    CU_ASSERT_EQUAL(fhir_count(dr, "conclusionCode"), 3);
    CU_ASSERT_TRUE(has_coding(fhir_item(dr, "conclusionCode", 0), ICDO3, "8249/3"));
    CU_ASSERT_TRUE(has_coding(fhir_item(dr, "conclusionCode", 1), SCT, "1286893008"));
    CU_ASSERT_TRUE(has_coding(fhir_item(dr, "conclusionCode", 2), SCT, "1222801008"));
    json_object_put(b);
}

/* Other sites and categories: pancreas M1a stage IV; lung AC T1c IIA; the
 * NEC (not staged: no stage code, no TNM value codes). */
static void test_codes_other(void)
{
    struct nen_extract x;
    json_object *b = report_of("pancreas-liver-mets", "2026-11-21T08:00:00Z", &x);
    CU_ASSERT_FATAL(b != NULL);
    CU_ASSERT_TRUE(has_coding(fhir_member(result_obs(b, "pm"), "valueCodeableConcept"), SCT, "1229917000"));
    CU_ASSERT_TRUE(has_coding(fhir_member(result_obs(b, "stage-group"), "valueCodeableConcept"), SCT,
                              "1222837003"));
    CU_ASSERT_TRUE(has_coding(fhir_member(result_obs(b, "grade"), "bodySite"), SCT, "15776009"));
    /* the trace cites the guideline, never the project's restatement of it */
    const char *note = str(result_obs(b, "grade"), "note.text");
    CU_ASSERT_PTR_NOT_NULL(strstr(note, "CACA 2025 Table 3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(note, "5 mitoses/10 HPF"));
    CU_ASSERT_PTR_NULL(strstr(note, "clinical-rules.md"));
    json_object_put(b);
    b = report_of("lung-atypical-carcinoid", "2026-11-21T08:00:00Z", &x);
    CU_ASSERT_FATAL(b != NULL);
    CU_ASSERT_TRUE(has_coding(fhir_member(result_obs(b, "who-class"), "valueCodeableConcept"), ICDO3,
                              "8249/3"));
    CU_ASSERT_TRUE(has_coding(fhir_member(result_obs(b, "pt"), "valueCodeableConcept"), SCT, "1229846008"));
    CU_ASSERT_TRUE(has_coding(fhir_member(result_obs(b, "stage-group"), "valueCodeableConcept"), SCT,
                              "1222766008"));
    CU_ASSERT_TRUE(has_coding(fhir_member(result_obs(b, "pt"), "bodySite"), SCT, "39607008"));
    json_object_put(b);
    b = report_of("gastric-nec", "2026-11-21T08:00:00Z", &x);
    CU_ASSERT_FATAL(b != NULL);
    CU_ASSERT_TRUE(has_coding(fhir_member(result_obs(b, "who-class"), "valueCodeableConcept"), ICDO3,
                              "8013/3"));
    CU_ASSERT_TRUE(has_coding(fhir_member(result_obs(b, "grade"), "valueCodeableConcept"), SCT,
                              "1155707008"));
    CU_ASSERT_EQUAL(fhir_count(fhir_member(result_obs(b, "stage-group"), "valueCodeableConcept"),
                               "coding"), 1); /* not-staged: nenfhir's own code only */
    json_object *dr = fhir_member(entry_of(b, "DiagnosticReport", 0), "resource");
    CU_ASSERT_EQUAL(fhir_count(dr, "conclusionCode"), 2); /* not staged: no stage code */
    json_object_put(b);
}

/* Without the tables nenfhir writes its own codes only; a hospital file
 * replaces a shipped coding or removes it. */
static void test_codes_tables(void)
{
    struct nen_extract x;
    json_object *b = report_with("gastric-type3", "2026-11-21T08:00:00Z", &x, NULL, 0);
    CU_ASSERT_FATAL(b != NULL);
    json_object *dr = fhir_member(entry_of(b, "DiagnosticReport", 0), "resource");
    CU_ASSERT_EQUAL(fhir_count(fhir_member(dr, "code"), "coding"), 0);
    CU_ASSERT_TRUE(str(dr, "code.text")[0] != '\0');
    CU_ASSERT_EQUAL(fhir_count(fhir_member(result_obs(b, "grade"), "code"), "coding"), 1);
    CU_ASSERT_PTR_NULL(fhir_member(result_obs(b, "grade"), "method"));
    json_object_put(b);
    b = report_with("gastric-type3", "2026-11-21T08:00:00Z", &x,
                    "result stage III sct|-\nresult grade G2 sct|123456789\n"
                    "result grade G2 http://example.org/grades|inter\n", 1);
    CU_ASSERT_FATAL(b != NULL);
    json_object *grade = fhir_member(result_obs(b, "grade"), "valueCodeableConcept");
    CU_ASSERT_TRUE(has_coding(grade, SCT, "123456789"));
    CU_ASSERT_FALSE(has_coding(grade, SCT, "1286893008"));
    CU_ASSERT_TRUE(has_coding(grade, "http://example.org/grades", "inter"));
    CU_ASSERT_EQUAL(fhir_count(fhir_member(result_obs(b, "stage-group"), "valueCodeableConcept"),
                               "coding"), 1);
    json_object_put(b);
}

/* The `result` directive checks KIND, VALUE and arity, names file and line. */
static void test_result_directive(void)
{
    static const struct { const char *line, *want; } bad[] = {
        {"result stage V sct|1", "test.map:1: 'V' is not a determinate stage value"},
        {"result colour red sct|1", "test.map:1: 'colour' is not a result kind"},
        {"result t N1 sct|1", "test.map:1: 'N1' is not a determinate t value"},
        {"result class NET:G9 icdo3|8240/3", "test.map:1: 'NET:G9' is not CLASS or CLASS:GRADE"},
        {"result stage indeterminate sct|1", "test.map:1: 'indeterminate' is not a determinate"},
        {"result observation stage", "test.map:1: `result` needs KIND VALUE SYSTEM|CODE"},
        {"result site mars sct|1", "test.map:1: 'mars' is not a determinate site value"},
        {"result report code nosuch|1", "test.map:1: unknown system alias 'nosuch'"},
    };
    char msg[300];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct nen_codes *t = nen_codes_new();
        CU_ASSERT_FATAL(t != NULL && nen_codes_load_default(t, msg, sizeof msg) == 0);
        CU_ASSERT_EQUAL(nen_codes_load(t, bad[i].line, "test.map", msg, sizeof msg), -1);
        if (strncmp(msg, bad[i].want, strlen(bad[i].want)) != 0)
            fprintf(stderr, "\n'%s': got '%s'\n", bad[i].line, msg);
        CU_ASSERT_EQUAL(strncmp(msg, bad[i].want, strlen(bad[i].want)), 0);
        nen_codes_free(t);
    }
    struct nen_codes *t = nen_codes_new();
    CU_ASSERT_FATAL(t != NULL && nen_codes_load_default(t, msg, sizeof msg) == 0);
    /* an alias site word is stored under its site; CLASS:GRADE canonical */
    CU_ASSERT_EQUAL(nen_codes_load(t, "result site ileum sct|34516001\nresult class NET:G1 sct|1\n",
                                   "test.map", msg, sizeof msg), 0);
    const struct nen_code *e = nen_codes_result(t, "site", "jejunum_ileum", 0);
    CU_ASSERT_TRUE(e && strcmp(e->code, "34516001") == 0 && e->use == NEN_USE_RESULT);
    CU_ASSERT_PTR_NOT_NULL(nen_codes_result(t, "class", "NET:G1", 1));
    /* every shipped result line names a standard system */
    for (unsigned i = 0; (e = nen_codes_result_at(t, i)); i++)
        CU_ASSERT_TRUE(strcmp(e->system, SCT) == 0 || strcmp(e->system, LOINC) == 0 ||
                       strcmp(e->system, ICDO3) == 0);
    CU_ASSERT_TRUE(nen_codes_result_at(t, 60) != NULL);
    nen_codes_free(t);
}

/* ---------- the report a person reads ---------- */

/* FHIR narrative: the elements nenfhir writes are a subset of those FHIR
 * allows; no attribute but the namespace declaration. */
static int xhtml_ok(const xmlNode *n, int root)
{
    static const char *const allowed[] = {"div", "h2", "h3", "p", "b", "table", "tr", "th",
                                          "td", "ul", "li", NULL};
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        int ok = 0;
        for (int i = 0; allowed[i]; i++)
            ok |= xmlStrEqual(n->name, BAD_CAST allowed[i]);
        if (!ok || n->properties || !n->ns ||
            !xmlStrEqual(n->ns->href, BAD_CAST "http://www.w3.org/1999/xhtml") ||
            (root && !xmlStrEqual(n->name, BAD_CAST "div"))) {
            fprintf(stderr, "\nnot allowed: <%s>\n", (const char *)n->name);
            return 0;
        }
        if (!xhtml_ok(n->children, 0))
            return 0;
    }
    return 1;
}

static int xhtml_valid(const char *div)
{
    xmlDoc *d = xmlReadMemory(div, (int)strlen(div), "div.xml", NULL, XML_PARSE_NONET);
    int ok = d && xhtml_ok(xmlDocGetRootElement(d), 1);
    xmlFreeDoc(d);
    return ok;
}

/* base64 data of an Attachment, decoded (caller frees). */
static char *decoded(json_object *att)
{
    const char *b64 = str(att, "data");
    size_t n = strlen(b64);
    unsigned char *out = malloc(n / 4 * 3 + 1);
    if (!out)
        return NULL;
    int len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
    if (len < 0) {
        free(out);
        return NULL;
    }
    while (len > 0 && n > 0 && b64[--n] == '=') /* EVP_DecodeBlock counts the padding */
        len--;
    out[len] = '\0';
    return (char *)out;
}

static void add_line(void *ctx, const char *line)
{
    strcat(ctx, line);
    strcat(ctx, "\n");
}

static void test_narrative_and_forms(void)
{
    const char *names[] = {"gastric-type3", "rectum-small", "minen", "mcode-unknown-codes"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        struct nen_extract x;
        json_object *b = report_of(names[k], "2026-11-21T08:00:00Z", &x);
        CU_ASSERT_FATAL(b != NULL);
        json_object *dr = fhir_member(entry_of(b, "DiagnosticReport", 0), "resource");
        const char *div = str(dr, "text.div");
        CU_ASSERT_STRING_EQUAL(str(dr, "text.status"), "generated");
        CU_ASSERT_EQUAL(strncmp(div, "<div xmlns=\"http://www.w3.org/1999/xhtml\">", 42), 0);
        CU_ASSERT_TRUE(xhtml_valid(div));
        CU_ASSERT_PTR_NOT_NULL(strstr(div, "Guideline suggestions for the treating team"));
        CU_ASSERT_PTR_NOT_NULL(strstr(div, "Rule trace"));
        CU_ASSERT_PTR_NOT_NULL(strstr(div, "AJCC Cancer Staging Manual, 9th edition"));
        CU_ASSERT_PTR_NULL(strstr(div, "clinical-rules.md")); /* the guideline, never a project file */
        CU_ASSERT_PTR_NULL(strstr(div, ".md"));
        /* presentedForm: html then plain, each with data, contentType and title */
        CU_ASSERT_EQUAL_FATAL(fhir_count(dr, "presentedForm"), 2);
        json_object *html = fhir_item(dr, "presentedForm", 0), *plain = fhir_item(dr, "presentedForm", 1);
        CU_ASSERT_EQUAL(strncmp(str(html, "contentType"), "text/html", 9), 0);
        CU_ASSERT_EQUAL(strncmp(str(plain, "contentType"), "text/plain", 10), 0);
        CU_ASSERT_TRUE(str(html, "title")[0] && str(plain, "title")[0]);
        CU_ASSERT_STRING_EQUAL(str(plain, "creation"), "2026-11-21T08:00:00Z");
        char *h = decoded(html), *p = decoded(plain);
        CU_ASSERT_FATAL(h && p);
        CU_ASSERT_PTR_NOT_NULL(strstr(h, div));
        CU_ASSERT_EQUAL(strncmp(h, "<!DOCTYPE html>", 15), 0);
        /* the plain form holds the conclusion and, as its last section, the
         * summary lines exactly as `nenfhir classify --summary` prints them */
        CU_ASSERT_PTR_NOT_NULL(strstr(p, str(dr, "conclusion")));
        struct nen_result r;
        nen_extract_classify(&x, &r);
        char want[16384] = "";
        nen_report_summary(&r, add_line, want);
        const char *sec = strstr(p, "Machine summary");
        const char *body = sec ? strchr(strchr(sec, '\n') + 1, '\n') + 1 : "";
        CU_ASSERT_STRING_EQUAL(body, want);
        CU_ASSERT_PTR_NULL(strstr(p, "clinical-rules.md"));
        free(h);
        free(p);
        json_object_put(b);
    }
}

/* The conclusion: one sentence, each indeterminate part naming what is missing. */
static void test_conclusion(void)
{
    static const struct { const char *keys, *want; } cases[] = {
        {"site=pancreas specimen=resection diff=well ki67=7 mitoses=4.2/2mm2 size=30 "
         "extent=confined_pancreas nodes_examined=10 nodes_positive=2 mets=liver",
         "Well-differentiated neuroendocrine tumour, G2 (Ki-67 7%, 4.2 mitoses/2 mm²), pancreas, "
         "pT2 pN1 M1a, AJCC 9th stage IV."},
        {"site=rectum specimen=resection diff=well ki67=1 mitoses=0/2mm2 size=7 extent=submucosa "
         "mets=none",
         "Well-differentiated neuroendocrine tumour, G1 (Ki-67 1%, 0 mitoses/2 mm²), rectum, "
         "pT1a pN indeterminate (N0 or N1: regional lymph nodes missing) M0, AJCC 9th stage "
         "indeterminate (I or IIIB): regional lymph nodes missing."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct nen_extract *x = calloc(1, sizeof *x);
        struct nen_result r;
        char err[200], got[2048];
        CU_ASSERT_FATAL(x != NULL);
        nen_case_init(&x->lo);
        CU_ASSERT_EQUAL(nen_case_parse(&x->lo, cases[i].keys, err, sizeof err), 0);
        x->hi = x->lo;
        nen_classify(&x->lo, &r);
        nen_report_conclusion(x, &r, got, sizeof got);
        if (strcmp(got, cases[i].want) != 0)
            fprintf(stderr, "\ngot:  %s\nwant: %s\n", got, cases[i].want);
        CU_ASSERT_STRING_EQUAL(got, cases[i].want);
        free(x);
    }
    /* grade indeterminate names the measures */
    struct nen_extract *x = calloc(1, sizeof *x);
    struct nen_result r;
    char err[200], got[2048];
    CU_ASSERT_FATAL(x != NULL);
    nen_case_init(&x->lo);
    CU_ASSERT_EQUAL(nen_case_parse(&x->lo, "site=stomach specimen=resection diff=well size=8", err,
                                   sizeof err), 0);
    x->hi = x->lo;
    nen_classify(&x->lo, &r);
    nen_report_conclusion(x, &r, got, sizeof got);
    CU_ASSERT_PTR_NOT_NULL(strstr(got, "grade indeterminate: Ki-67 index and mitotic count missing"));
    CU_ASSERT_PTR_NOT_NULL(strstr(got, "stomach, gastric NET type indeterminate: "));
    free(x);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        examples_dir = argv[1];
    CU_TestInfo tests[] = {{"transaction shape (I8, I11-I14)", test_shape},
                           {"stable identifiers (I8)", test_stable},
                           {"XML round trip", test_xml_round_trip},
                           {"standard codes: gastric NET", test_codes_gastric},
                           {"standard codes: pancreas, lung, NEC", test_codes_other},
                           {"standard codes: no tables, hospital overrides", test_codes_tables},
                           {"result directive checks", test_result_directive},
                           {"narrative and presentedForm", test_narrative_and_forms},
                           {"conclusion sentence and citations", test_conclusion},
                           CU_TEST_INFO_NULL};
    return test_run_suite("report", tests);
}
