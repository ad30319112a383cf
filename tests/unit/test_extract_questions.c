/*
 * test_extract_questions.c - the reading rules of issue 9 (nen_extract.h):
 * no value without its question (every coded entry and every unit of the
 * shipped tables, under an unknown question, yields nothing), an unreadable
 * input is not an absent one (each grading input), Condition roles and
 * mCODE shapes, references as servers write them, "latest" as instants, and
 * case keys never cut short.
 */
#include "test_util.h"

#include "extract_util.h"
#include "nen_codes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct nen_extract X;
static struct fhir_error E;
static struct nen_result R;

#define UNKNOWN_Q "http://lab.example.org/synoptic"

/* The case extract makes from a Bundle with no inputs at all. */
static struct nen_extract empty;

static int extract(const char *entries)
{
    int rc = tx_extract(entries, NULL, &X, &E);
    if (rc != 0)
        fprintf(stderr, "extract failed: %s\n", E.msg);
    return rc == 0;
}

static int case_is_empty(void)
{
    return memcmp(&X.lo, &empty.lo, sizeof X.lo) == 0 && memcmp(&X.hi, &empty.hi, sizeof X.hi) == 0 &&
           X.nunread == 0;
}

/* One Observation with an unknown question and the given value members. */
static int unknown_question_gives_nothing(const char *value, const char *what)
{
    char doc[1024];
    snprintf(doc, sizeof doc,
             "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"q\",\"status\":\"final\","
             "\"code\":{\"coding\":[{\"system\":\"" UNKNOWN_Q "\",\"code\":\"Q1\"}]},"
             "\"subject\":{\"reference\":\"Patient/p1\"},%s,"
             "\"component\":[{\"code\":{\"coding\":[{\"system\":\"" UNKNOWN_Q "\",\"code\":\"Q2\"}]},"
             "%s}]}}", value, value);
    if (!extract(doc))
        return 0;
    int ok = case_is_empty() && tx_has_warning(&X, "input-code-unknown");
    if (!ok)
        fprintf(stderr, "an unknown question gave an input: %s\n", what);
    return ok;
}

/* Every coded entry (answers, conditions, body sites, specimen kinds) and
 * every unit of the shipped tables: under an unknown question, nothing. */
static void test_no_value_without_question(void)
{
    CU_ASSERT_FATAL(extract(""));
    empty = X;
    struct nen_codes *t = nen_codes_new();
    char msg[256], value[512];
    CU_ASSERT_FATAL(t && nen_codes_load_default(t, msg, sizeof msg) == 0);
    const struct nen_code *e;
    unsigned n = 0;
    for (unsigned i = 0; (e = nen_codes_value_at(t, i)); i++, n++) {
        snprintf(value, sizeof value,
                 "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"%s\",\"code\":\"%s\"}]}",
                 e->system, e->code);
        CU_ASSERT(unknown_question_gives_nothing(value, value));
    }
    CU_ASSERT(n > 200); /* the shipped tables, not an empty walk */
    const struct nen_code_unit *u;
    for (unsigned i = 0; (u = nen_codes_unit_at(t, i)); i++) {
        snprintf(value, sizeof value, "\"valueQuantity\":{\"value\":5,\"system\":"
                 "\"http://unitsofmeasure.org\",\"code\":\"%s\"}", u->ucum);
        CU_ASSERT(unknown_question_gives_nothing(value, value));
    }
    static const char *const others[] = {
        "\"valueString\":\"25%\"", "\"valueString\":\"Present\"", "\"valueString\":\"liver\"",
        "\"valueString\":\"pT2\"", "\"valueInteger\":3", "\"valueBoolean\":true",
        "\"valueRange\":{\"low\":{\"value\":1,\"code\":\"%\"},\"high\":{\"value\":5,\"code\":\"%\"}}",
        ("\"valueCodeableConcept\":{\"coding\":[{\"system\":\"https://nenfhir.org/fhir/CodeSystem/"
         "nen-value\",\"code\":\"liver\"}],\"text\":\"liver\"}")};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        CU_ASSERT(unknown_question_gives_nothing(others[i], others[i]));
    nen_codes_free(t);
}

/* Units by the UCUM grammar: spellings of one unit agree; gastrin in pmol/L
 * converts by gastrin-17's molar mass (workup.map). */
static void test_units_by_grammar(void)
{
    static const char *const per_10_hpf[] = {"/10.[HPF]", "/(10.[HPF])", "{mitoses}/10.[HPF]"};
    for (size_t i = 0; i < sizeof per_10_hpf / sizeof per_10_hpf[0]; i++) {
        char doc[512];
        snprintf(doc, sizeof doc, OBS("m", NENI, "mitotic-count", "\"valueQuantity\":{\"value\":3,"
                 "\"system\":\"http://unitsofmeasure.org\",\"code\":\"%s\"}"), per_10_hpf[i]);
        CU_ASSERT_FATAL(extract(doc));
        CU_ASSERT_EQUAL(X.lo.mitoses.value, 3);
        CU_ASSERT_EQUAL(X.lo.mitoses_unit, NEN_MIT_PER_10HPF);
    }
    CU_ASSERT_FATAL(extract(OBS("m", NENI, "mitotic-count", QTY("3", "/(2.mm2)"))));
    CU_ASSERT_EQUAL(X.lo.mitoses_unit, NEN_MIT_PER_2MM2);
    CU_ASSERT_FATAL(extract(OBS("g", LOINC, "2333-3", QTY("100", "pmol/L"))));
    CU_ASSERT_DOUBLE_EQUAL(X.lo.gastrin.value, 209.8, 0.01);
    CU_ASSERT_FATAL(extract(OBS("g", LOINC, "2333-3", QTY("100", "ng/L"))));
    CU_ASSERT_DOUBLE_EQUAL(X.lo.gastrin.value, 100, 1e-9);
    /* no number, only the interpretation H: gastrin "high" */
    CU_ASSERT_FATAL(extract(OBS("g", LOINC, "2333-3", "\"interpretation\":[{\"coding\":[{\"system\":"
                            "\"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation\","
                            "\"code\":\"H\"}]}]")));
    CU_ASSERT_EQUAL(X.lo.gastrin_status, NEN_GASTRIN_HIGH);
}

/* An answer counts only under a question of its own key. */
static void test_answer_only_under_its_question(void)
{
    /* "Absent" (necrosis=none, mets=none in the tables) under the necrosis question */
    CU_ASSERT_FATAL(extract(OBS("n", NENI, "necrosis", CC(SCT, "2667000"))));
    CU_ASSERT_EQUAL(X.lo.necrosis, NEN_NECROSIS_NONE);
    CU_ASSERT_EQUAL(X.lo.mets, NEN_METS_UNKNOWN);
    /* a body structure answers the site question, not the necrosis one */
    CU_ASSERT_FATAL(extract(OBS("n", NENI, "necrosis", CC(SCT, "69695003"))));
    CU_ASSERT_EQUAL(X.lo.site, NEN_SITE_UNKNOWN);
    CU_ASSERT_EQUAL(X.lo.necrosis, NEN_NECROSIS_UNKNOWN);
    CU_ASSERT_EQUAL(X.nunread, 1); /* the necrosis was reported: unreadable, not absent */
}

/* Classify X into R. */
static void classify(void)
{
    nen_extract_classify(&X, &R);
}

static int unread_named(const char *key, const char *ref)
{
    char want[128];
    snprintf(want, sizeof want, "%s reported by %s but not readable", key, ref);
    for (int i = 0; i < R.nwarn; i++)
        if (strcmp(R.warn[i].code, "input-unreadable") == 0 && strstr(R.warn[i].text, want))
            return 1;
    return 0;
}

#define SITE(code) OBS("site", NENI, "primary-site", CC(SCT, code))
#define WELL OBS("d", NENI, "differentiation", CC(NENV, "well"))

/* Each grading input reported in a form that cannot be read: the grade is
 * indeterminate where its value could change it, the result preliminary, the
 * input named. Read correctly, the same case is final. */
static void test_unreadable_grading_inputs(void)
{
    static const struct {
        const char *name, *readable, *unreadable, *key;
        enum nen_grade grade; /* with the readable value */
    } cases[] = {
        {"ki67 in an unknown unit", OBS("k", LOINC, "29593-1", QTY("25", "%")),
         OBS("k", LOINC, "29593-1", QTY("25", "mm")), "ki67", NEN_GRADE_G3},
        {"ki67 as an unreadable string", OBS("k", LOINC, "29593-1", STR("25%")),
         OBS("k", LOINC, "29593-1", STR("many")), "ki67", NEN_GRADE_G3},
        {"mitoses per 10 {HPF} (an annotation)", OBS("m", NENI, "mitotic-count", QTY("30", "/2.mm2")),
         OBS("m", NENI, "mitotic-count", QTY("30", "/10{HPF}")), "mitoses", NEN_GRADE_G3},
        {"mitoses with no area", OBS("m", NENI, "mitotic-count", QTY("30", "/2.mm2")),
         OBS("m", NENI, "mitotic-count", STR("30 mitoses")), "mitoses", NEN_GRADE_G3},
        {"differentiation as an unknown code", WELL,
         OBS("d", NENI, "differentiation", CC("http://lab.example.org/diff", "WD")), "diff",
         NEN_GRADE_G1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char doc[2048];
        /* stomach, Ki-67 1% and 1 mitosis unless the row reports them itself */
        const char *ki = strcmp(cases[i].key, "ki67") == 0 ? "" : OBS("k0", LOINC, "29593-1", QTY("1", "%")) ",";
        const char *mi = strcmp(cases[i].key, "mitoses") == 0 ? "" : OBS("m0", NENI, "mitotic-count", QTY("1", "/2.mm2")) ",";
        const char *df = strcmp(cases[i].key, "diff") == 0 ? "" : WELL ",";
        snprintf(doc, sizeof doc, "%s%s%s" SITE("32849002") ",%s", ki, mi, df, cases[i].readable);
        CU_ASSERT_FATAL(extract(doc));
        classify();
        if (R.grade != cases[i].grade)
            fprintf(stderr, "%s: readable grade %s\n", cases[i].name, nen_grade_name(R.grade));
        CU_ASSERT_EQUAL(R.grade, cases[i].grade);
        snprintf(doc, sizeof doc, "%s%s%s" SITE("32849002") ",%s", ki, mi, df, cases[i].unreadable);
        CU_ASSERT_FATAL(extract(doc));
        classify();
        if (R.grade != NEN_GRADE_INDETERMINATE || R.status != NEN_STATUS_PRELIMINARY)
            fprintf(stderr, "%s: unreadable gave %s %s\n", cases[i].name, nen_grade_name(R.grade),
                    nen_status_name(R.status));
        CU_ASSERT_EQUAL(R.grade, NEN_GRADE_INDETERMINATE);
        CU_ASSERT_EQUAL(R.status, NEN_STATUS_PRELIMINARY);
        char ref[32];
        snprintf(ref, sizeof ref, "Observation/%c", cases[i].key[0] == 'k' ? 'k' : cases[i].key[0]);
        CU_ASSERT(unread_named(cases[i].key, ref)); /* ids k, m, d: the key's first letter */
    }
    /* lung: necrosis decides typical vs atypical carcinoid */
#define RESECTION OBS("sk", NENI, "specimen-kind", CC(NENV, "resection"))
    CU_ASSERT_FATAL(extract(RESECTION "," SITE("39607008") "," WELL "," OBS("m", NENI, "mitotic-count", QTY("1", "/2.mm2"))
                            "," OBS("n", NENI, "necrosis", CC(SCT, "2667000"))));
    classify();
    CU_ASSERT_EQUAL(R.cls, NEN_CLASS_TC);
    CU_ASSERT_FATAL(extract(RESECTION "," SITE("39607008") "," WELL "," OBS("m", NENI, "mitotic-count", QTY("1", "/2.mm2"))
                            "," OBS("n", NENI, "necrosis", CC("http://lab.example.org/nec", "N0"))));
    classify();
    CU_ASSERT_EQUAL(R.cls, NEN_CLASS_INDETERMINATE);
    CU_ASSERT_EQUAL(R.status, NEN_STATUS_PRELIMINARY);
    CU_ASSERT(unread_named("necrosis", "Observation/n"));
    /* the field area of a count per 10 HPF, in a unit that is no area */
    CU_ASSERT_FATAL(extract(SITE("32849002") "," WELL "," OBS("k", LOINC, "29593-1", QTY("1", "%")) ","
                            OBS("m", NENI, "mitotic-count", QTY("4", "/10.[HPF]")) ","
                            OBS("a", NENI, "hpf-area", QTY("0.5", "mm"))));
    classify();
    CU_ASSERT_EQUAL(R.grade, NEN_GRADE_INDETERMINATE);
    CU_ASSERT_EQUAL(R.status, NEN_STATUS_PRELIMINARY);
    CU_ASSERT(unread_named("hpf_area", "Observation/a"));
    /* an unreadable input that cannot change the grade leaves it, still preliminary */
    CU_ASSERT_FATAL(extract(OBS("k", LOINC, "29593-1", QTY("25", "%")) "," WELL "," SITE("32849002")
                            "," OBS("m", NENI, "mitotic-count", QTY("3", "/10{HPF}"))));
    classify();
    CU_ASSERT_EQUAL(R.grade, NEN_GRADE_G3); /* Ki-67 25% is G3 whatever the count */
    CU_ASSERT_EQUAL(R.status, NEN_STATUS_PRELIMINARY);
    CU_ASSERT(unread_named("mitoses", "Observation/m"));
}

#define COND(id, body) \
    "{\"resource\":{\"resourceType\":\"Condition\",\"id\":\"" id "\",\"subject\":{\"reference\":\"Patient/p1\"}," body "}}"
#define CODE(sys, c) "\"code\":{\"coding\":[{\"system\":\"" sys "\",\"code\":\"" c "\"}]}"
#define BODYSITE(sys, c) "\"bodySite\":[{\"coding\":[{\"system\":\"" sys "\",\"code\":\"" c "\"}]}]"
#define PROFILE(p) "\"meta\":{\"profile\":[\"http://hl7.org/fhir/us/mcode/StructureDefinition/" p "\"]}"
#define ICD10 "http://hl7.org/fhir/sid/icd-10-cm"
#define ICDO3 "http://terminology.hl7.org/CodeSystem/icd-o-3"

/* A metastasis' bodySite is where it is, never the primary site; the role
 * comes from the code, else from mCODE's profile. */
static void test_condition_roles(void)
{
    /* metastasis (by code) listed first, with bodySite liver; primary stomach after */
    CU_ASSERT_FATAL(extract(COND("m", CODE(SCT, "94381002") "," BODYSITE(SCT, "10200004")) ","
                            COND("p", CODE(ICDO3, "8240/3") "," BODYSITE(SCT, "69695003"))));
    CU_ASSERT_EQUAL(X.lo.site, NEN_SITE_STOMACH);
    CU_ASSERT_EQUAL(X.lo.met_sites, 1u << NEN_MET_LIVER);
    CU_ASSERT_EQUAL(X.lo.diff, NEN_DIFF_WELL);
    /* an unknown code with mCODE's secondary profile: still a metastasis */
    CU_ASSERT_FATAL(extract(COND("m", PROFILE("mcode-secondary-cancer-condition") ","
                                 CODE("http://lab.example.org/dx", "METS") "," BODYSITE(SCT, "10200004"))
                            "," SITE("69695003")));
    CU_ASSERT_EQUAL(X.lo.site, NEN_SITE_STOMACH);
    CU_ASSERT_EQUAL(X.lo.met_sites, 1u << NEN_MET_LIVER);
    CU_ASSERT(tx_has_warning(&X, "input-code-unknown"));
    /* mCODE's primary profile: its bodySite is the primary site */
    CU_ASSERT_FATAL(extract(COND("p", PROFILE("mcode-primary-cancer-condition") ","
                                 CODE("http://lab.example.org/dx", "NET") "," BODYSITE(SCT, "34402009"))));
    CU_ASSERT_EQUAL(X.lo.site, NEN_SITE_RECTUM);
    /* a work-up finding's bodySite is not the tumour's site */
    CU_ASSERT_FATAL(extract(COND("a", CODE(ICD10, "K29.40") "," BODYSITE(SCT, "10200004"))));
    CU_ASSERT_EQUAL(X.lo.atrophic_gastritis, NEN_TRI_YES);
    CU_ASSERT_EQUAL(X.lo.site, NEN_SITE_UNKNOWN);
    /* a metastasis with no readable place: M1, place unknown; never "none" */
    CU_ASSERT_FATAL(extract(COND("m", PROFILE("mcode-secondary-cancer-condition") ","
                                 CODE("http://lab.example.org/dx", "METS")) ","
                            SITE("34516001") "," WELL ","
                            OBS("k", LOINC, "29593-1", QTY("1", "%")) ","
                            OBS("s", LOINC, "33728-7", QTY("8", "mm")) ","
                            OBS("d2", NENI, "depth-of-invasion", CC(NENV, "submucosa")) ","
                            OBS("n", LOINC, "21893-3", QTY("0", "{#}"))));
    CU_ASSERT_EQUAL(X.nunread, 1);
    classify();
    CU_ASSERT_EQUAL(R.m.value, NEN_TNM_UNKNOWN);
    CU_ASSERT_FALSE(R.m.candidates & (1ULL << NEN_M_0));
    CU_ASSERT_EQUAL(R.stage, NEN_STAGE_IV); /* every M1 is stage IV */
    CU_ASSERT_EQUAL(R.status, NEN_STATUS_PRELIMINARY);
}

/* Patient/x/_history/2, an absolute URL and the urn:uuid fullUrl name one Patient. */
static void test_references(void)
{
    static const char *const refs[] = {"Patient/p1/_history/2",
                                       "https://fhir.example.org/base/Patient/p1",
                                       "https://fhir.example.org/base/Patient/p1/_history/7"};
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        char doc[512];
        snprintf(doc, sizeof doc,
                 "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"k\",\"status\":\"final\","
                 "\"code\":{\"coding\":[{\"system\":\"" LOINC "\",\"code\":\"29593-1\"}]},"
                 "\"subject\":{\"reference\":\"%s\"}," QTY("4", "%%") "}}", refs[i]);
        CU_ASSERT(extract(doc));
        CU_ASSERT_EQUAL(X.lo.ki67.value, 4);
    }
    CU_ASSERT_FALSE(tx_extract("{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"k\","
                               "\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"" LOINC
                               "\",\"code\":\"29593-1\"}]},\"subject\":{\"reference\":"
                               "\"Patient/p2\"}," QTY("4", "%") "}}", NULL, &X, &E) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "is not the case's patient"));
}

/* "latest" compares instants: 09:30Z is later than 10:00+02:00 (08:00Z). */
static void test_latest_is_an_instant(void)
{
    CU_ASSERT_FATAL(extract(OBS("a", LOINC, "29593-1", QTY("15", "%") ",\"issued\":\"2026-11-03T10:00:00+02:00\"")
                            "," OBS("b", LOINC, "29593-1", QTY("25", "%") ",\"issued\":\"2026-11-03T09:30:00Z\"")));
    CU_ASSERT_EQUAL(X.lo.ki67.value, 25);
    CU_ASSERT_FATAL(extract(OBS("a", LOINC, "29593-1", QTY("15", "%") ",\"effectiveDateTime\":\"2026-11-04\"")
                            "," OBS("b", LOINC, "29593-1", QTY("25", "%") ",\"issued\":\"2026-11-03T23:30:00-01:00\"")));
    CU_ASSERT_EQUAL(X.lo.ki67.value, 25); /* 2026-11-04T00:30Z is after the 4th began */
}

/* An accession number is never cut short: two long ones must not collide. */
static void test_case_key_never_shortened(void)
{
    char acc[400], doc[800];
    memset(acc, 'A', sizeof acc - 1);
    acc[sizeof acc - 1] = '\0';
    snprintf(doc, sizeof doc, "{\"resource\":{\"resourceType\":\"Specimen\",\"id\":\"s2\","
             "\"accessionIdentifier\":{\"value\":\"%s\"}}}", acc);
    struct nen_extract x;
    snprintf(doc, sizeof doc, "{\"resourceType\":\"Specimen\",\"id\":\"s2\","
             "\"accessionIdentifier\":{\"value\":\"%s\"}}", acc);
    CU_ASSERT_EQUAL(tx_extract_raw(doc, &x, &E), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(E.msg, "Specimen/s2.accessionIdentifier.value: longer than"));
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"no value without its question (every table entry)", test_no_value_without_question},
        {"an answer only under its own question", test_answer_only_under_its_question},
        {"units by the UCUM grammar, gastrin in pmol/L", test_units_by_grammar},
        {"unreadable grading inputs: indeterminate, preliminary", test_unreadable_grading_inputs},
        {"Condition roles: code, mCODE profile, finding", test_condition_roles},
        {"references as servers write them", test_references},
        {"latest across UTC offsets", test_latest_is_an_instant},
        {"case keys never shortened", test_case_key_never_shortened},
        CU_TEST_INFO_NULL,
    };
    return test_run_suite("extract: questions, unreadable inputs, roles", tests);
}
