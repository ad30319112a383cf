/*
 * test_rules.c - the rule traces and the unknown-input paths: each result
 * names the guideline row and the inputs it used; removing any one input from
 * a complete case makes exactly the fields that need it indeterminate and
 * names it as missing, never a default.
 */
#include "test_util.h"

#include "nen_case_text.h"
#include "nen_report_text.h"

#include <stdio.h>
#include <string.h>

static struct nen_result r;

static void classify(const char *text)
{
    struct nen_case c;
    char err[256];
    nen_case_init(&c);
    if (nen_case_parse(&c, text, err, sizeof err) != 0) {
        printf("\n  bad test input '%s': %s\n", text, err);
        CU_FAIL_FATAL("test input does not parse");
    }
    nen_classify(&c, &r);
}

static int trace_has(const struct nen_trace *t, const char *needle)
{
    for (int i = 0; i < t->n; i++)
        if (strstr(t->step[i].rule, needle) || strstr(t->step[i].text, needle))
            return 1;
    return 0;
}

static int missing_has(const char *key)
{
    for (int i = 0; i < r.nmissing; i++)
        if (strcmp(r.missing[i], key) == 0)
            return 1;
    return 0;
}

#define ASSERT_TRACE(t, s)                                                  \
    do {                                                                    \
        if (!trace_has(&(t), s)) {                                          \
            printf("\n  trace lacks '%s'\n", s);                            \
            CU_FAIL("trace does not name the rule or input");               \
        }                                                                   \
    } while (0)

#define COMPLETE_PANCREAS                                                             \
    "site=pancreas diff=well ki67=4 mitoses=1/2mm2 size=15 extent=confined_pancreas " \
    "nodes_examined=10 nodes_positive=0 mets=none"

static void test_trace_gep(void)
{
    classify(COMPLETE_PANCREAS);
    CU_ASSERT_EQUAL(r.cls, NEN_CLASS_NET);
    CU_ASSERT_EQUAL(r.grade, NEN_GRADE_G2);
    ASSERT_TRACE(r.grade_trace, "Table 3, GEP");
    ASSERT_TRACE(r.grade_trace, "Ki-67 4% is 3-20%: G2");
    ASSERT_TRACE(r.grade_trace, "1 mitoses/2 mm² is < 2/2 mm²: G1");
    ASSERT_TRACE(r.class_trace, "well differentiated");
    ASSERT_TRACE(r.t.trace, "Table 8 T1: <= 2 cm (pancreas)");
    ASSERT_TRACE(r.t.trace, "greatest dimension 15 mm");
    ASSERT_TRACE(r.n.trace, "0 of 10 examined nodes positive");
    ASSERT_TRACE(r.stage_trace, "Table 9 I");
    CU_ASSERT_EQUAL(r.stage, NEN_STAGE_I);
    CU_ASSERT_EQUAL(r.status, NEN_STATUS_FINAL);
    CU_ASSERT_EQUAL(r.nmissing, 0);
    /* one warning: the measures are discordant, the higher wins */
    CU_ASSERT_EQUAL(r.nwarn, 1);
    CU_ASSERT_STRING_EQUAL(r.warn[0].code, "grade-discordant");
}

static void test_trace_other_tables(void)
{
    classify("site=lung specimen=resection diff=well mitoses=3/2mm2 necrosis=none size=25 "
             "extent=confined_lung pn=N1 mets=none");
    CU_ASSERT_EQUAL(r.cls, NEN_CLASS_AC);
    ASSERT_TRACE(r.class_trace, "AC row");
    ASSERT_TRACE(r.stage_trace, "Table 11");
    CU_ASSERT_EQUAL(r.stage, NEN_STAGE_IIA);

    classify("site=stomach diff=well ki67=1 mitoses=0/2mm2 gastrin=400 gastrin_uln=100 "
             "atrophic_gastritis=yes");
    CU_ASSERT_EQUAL(r.gtype, NEN_GTYPE_1);
    ASSERT_TRACE(r.gtype_trace, "Figure 1");
    ASSERT_TRACE(r.gtype_trace, "gastrin 400 with upper limit 100: high");
    ASSERT_TRACE(r.gtype_trace, "atrophic gastritis");

    classify("site=colon diff=large ki67=80 ne_pct=60 non_ne_pct=40 non_ne_kind=adenocarcinoma");
    CU_ASSERT_EQUAL(r.cls, NEN_CLASS_MINEN);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.subtype, "NEC-large-cell"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.subtype, "60%"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.subtype, "adenocarcinoma 40%"));
    ASSERT_TRACE(r.stage_trace, "NEC and MiNEN use the carcinoma system");

    classify("site=pancreas diff=well ki67=4 mitoses=25/10hpf hpf_area=0.5");
    ASSERT_TRACE(r.grade_trace, "25 mitoses/10 HPF with a field of 0.5 mm² = 10 per 2 mm²");
}

/* Everything unknown: nothing is guessed. */
static void test_empty_case(void)
{
    classify("");
    CU_ASSERT_EQUAL(r.cls, NEN_CLASS_INDETERMINATE);
    CU_ASSERT_EQUAL(r.grade, NEN_GRADE_INDETERMINATE);
    CU_ASSERT_EQUAL(r.t.value, NEN_TNM_UNKNOWN);
    CU_ASSERT_EQUAL(r.n.value, NEN_TNM_UNKNOWN);
    CU_ASSERT_EQUAL(r.m.value, NEN_TNM_UNKNOWN);
    CU_ASSERT_EQUAL(r.stage, NEN_STAGE_INDETERMINATE);
    CU_ASSERT_EQUAL(r.status, NEN_STATUS_PRELIMINARY);
    CU_ASSERT_TRUE(missing_has("site"));
    CU_ASSERT_EQUAL(r.nwarn, 0);
}

/* Remove one input from a complete case: the field it feeds becomes
 * indeterminate (or, for one proliferation measure, carries a warning) and the
 * input is named as missing. */
static void test_each_input_removed(void)
{
    static const struct {
        const char *text, *missing;
        int field; /* 0 grade, 1 T, 2 N, 3 M, 4 class */
    } cases[] = {
        {"site=pancreas diff=well ki67=4 mitoses=1/2mm2 extent=confined_pancreas "
         "nodes_examined=10 nodes_positive=0 mets=none", "size", 1},
        {"site=pancreas diff=well ki67=4 mitoses=1/2mm2 size=15 "
         "nodes_examined=10 nodes_positive=0 mets=none", "depth", 1},
        {"site=pancreas diff=well ki67=4 mitoses=1/2mm2 size=15 extent=confined_pancreas "
         "mets=none", "nodes", 2},
        {"site=pancreas diff=well ki67=4 mitoses=1/2mm2 size=15 extent=confined_pancreas "
         "nodes_examined=10 nodes_positive=0", "mets", 3},
        {"site=pancreas diff=well size=15 extent=confined_pancreas nodes_examined=10 "
         "nodes_positive=0 mets=none", "ki67", 0},
        {"site=pancreas ki67=40 size=15 extent=confined_pancreas nodes_examined=10 "
         "nodes_positive=0 mets=none", "diff", 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        classify(cases[i].text);
        int indeterminate = cases[i].field == 0   ? r.grade == NEN_GRADE_INDETERMINATE
                            : cases[i].field == 1 ? r.t.value == NEN_TNM_UNKNOWN
                            : cases[i].field == 2 ? r.n.value == NEN_TNM_UNKNOWN
                            : cases[i].field == 3 ? r.m.value == NEN_TNM_UNKNOWN
                                                  : r.cls == NEN_CLASS_INDETERMINATE;
        CU_ASSERT_TRUE(indeterminate);
        CU_ASSERT_TRUE(missing_has(cases[i].missing));
        CU_ASSERT_EQUAL(r.status, NEN_STATUS_PRELIMINARY);
        if (!indeterminate || !missing_has(cases[i].missing))
            printf("\n  case %zu (%s missing) not indeterminate or not named\n", i,
                   cases[i].missing);
    }
    /* A single proliferation measure still grades, with a note naming the other. */
    classify(COMPLETE_PANCREAS);
    classify("site=pancreas diff=well ki67=4 size=15 extent=confined_pancreas "
             "nodes_examined=10 nodes_positive=0 mets=none");
    CU_ASSERT_EQUAL(r.grade, NEN_GRADE_G2);
    CU_ASSERT_STRING_EQUAL(r.warn[0].code, "grade-ki67-only");
    /* Without the site nothing can be graded or staged. */
    classify("diff=well ki67=4 mitoses=1/2mm2 size=15 nodes_examined=10 nodes_positive=0 "
             "mets=none");
    CU_ASSERT_EQUAL(r.cls, NEN_CLASS_INDETERMINATE);
    CU_ASSERT_EQUAL(r.stage, NEN_STAGE_INDETERMINATE);
    CU_ASSERT_TRUE(missing_has("site"));
}

/* Candidates: a stage is still given when every candidate agrees. */
static void test_candidates(void)
{
    classify("site=stomach diff=well ki67=2 mitoses=1/2mm2 size=8 nodes_examined=5 "
             "nodes_positive=2 mets=none");
    CU_ASSERT_EQUAL(r.t.value, NEN_TNM_UNKNOWN);
    CU_ASSERT_EQUAL(r.t.candidates, (1ULL << NEN_T_1) | (1ULL << NEN_T_2) | (1ULL << NEN_T_3) |
                                        (1ULL << NEN_T_4));
    CU_ASSERT_EQUAL(r.stage, NEN_STAGE_III);
    ASSERT_TRACE(r.stage_trace, "the same for every candidate category");
    CU_ASSERT_TRUE(missing_has("depth"));
}

/* Combined SCNEC/LCNEC of lung and thymus (CACA 2025 §3.1.2, seed 1215-1219): the
 * subtype names it combined, with the other component and both shares. */
static void test_combined_nec(void)
{
    classify("site=lung diff=large ne_pct=60 non_ne_pct=40 non_ne_kind=adenocarcinoma "
             "ki67=70 mitoses=30/2mm2");
    CU_ASSERT_EQUAL(r.cls, NEN_CLASS_NEC_LARGE);
    CU_ASSERT_EQUAL(r.grade, NEN_GRADE_HIGH);
    CU_ASSERT_STRING_EQUAL(r.subtype, "combined LCNEC: large-cell NEC 60% with adenocarcinoma 40%");
    ASSERT_TRACE(r.class_trace, "§3.1.2: combined SCNEC/LCNEC");
    ASSERT_TRACE(r.class_trace, "not MiNEN");
    ASSERT_TRACE(r.grade_trace, "graded as the NEC");

    classify("site=thymus diff=small non_ne_pct=80 ki67=90");
    CU_ASSERT_EQUAL(r.cls, NEN_CLASS_NEC_SMALL);
    CU_ASSERT_STRING_EQUAL(r.subtype, "combined SCNEC: small-cell NEC 20% with "
                                      "non-neuroendocrine carcinoma 80%");
    ASSERT_TRACE(r.class_trace, "taken as 100 - 80 = 20%");
    CU_ASSERT_EQUAL(r.nwarn, 0);

    classify("site=lung diff=poor ne_pct=50 non_ne_pct=50 non_ne_kind=squamous ki67=90");
    CU_ASSERT_EQUAL(r.cls, NEN_CLASS_NEC);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.subtype, "combined NEC (cell type not stated)"));
}

/* A carcinoma with a NE component < 30% is not staged here (§3.7, seed 2297-2301). */
static void test_minor_ne_not_staged(void)
{
    classify("site=colon diff=large ne_pct=20 non_ne_pct=80 ki67=70 mitoses=30/2mm2 size=30 "
             "nodes_examined=12 nodes_positive=2 mets=none");
    CU_ASSERT_EQUAL(r.stage, NEN_STAGE_NOT_STAGED);
    CU_ASSERT_EQUAL(r.t.candidates | r.n.candidates | r.m.candidates, 0);
    CU_ASSERT_EQUAL(r.nmissing, 0);
    ASSERT_TRACE(r.stage_trace, "§3.7");
    ASSERT_TRACE(r.stage_trace, "neuroendocrine component < 30%");
}

/* The lab's category: the higher stands, a coarser one is refined (issue 10 item 2). */
static void test_lab_categories(void)
{
    classify("site=pancreas diff=well ki67=5 mitoses=3/2mm2 size=15 extent=confined_pancreas "
             "nodes_examined=10 nodes_positive=0 mets=liver pm=M0");
    CU_ASSERT_EQUAL(r.m.value, NEN_M_1A);
    CU_ASSERT_EQUAL(r.status, NEN_STATUS_PRELIMINARY);
    CU_ASSERT_EQUAL(r.nmissing, 0);
    CU_ASSERT_STRING_EQUAL(r.warn[0].code, "m-given-differs");
    CU_ASSERT_PTR_NOT_NULL(strstr(r.warn[0].text, "M0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.warn[0].text, "M1a"));
    ASSERT_TRACE(r.m.trace, "the higher stands");

    classify("site=lung specimen=resection diff=well mitoses=1/2mm2 necrosis=none size=25 "
             "pt=T1 nodes_examined=5 nodes_positive=0 mets=none");
    CU_ASSERT_EQUAL(r.t.value, NEN_T_1C);
    CU_ASSERT_EQUAL(r.status, NEN_STATUS_FINAL);
    ASSERT_TRACE(r.t.trace, "the lab's T1 agrees; the inputs make it T1c");

    classify("site=lung specimen=resection diff=well mitoses=1/2mm2 necrosis=none size=25 "
             "extent=confined_lung pt=T2 nodes_examined=5 nodes_positive=0 mets=none");
    CU_ASSERT_EQUAL(r.t.value, NEN_T_2A);
    CU_ASSERT_EQUAL(r.nmissing, 0); /* the size is known: nothing to ask for */
    ASSERT_TRACE(r.t.trace, "the lab's T2 with the greatest dimension 25 mm: T2a");
}

/* Impossible counts are refused naming the field (issue 10 item 3). */
static void test_impossible_counts(void)
{
    static const struct {
        const char *text, *field;
    } bad[] = {
        {"tumours=2.5", "tumours:"},
        {"nodes_examined=10 nodes_positive=1.5", "nodes_positive:"},
        {"nodes_examined=7.2", "nodes_examined:"},
        {"mets=liver met_lesions=2.5", "met_lesions:"},
        {"mets=bone+liver met_lesions=1", "met_lesions:"},
        {"site=lung mets=brain+bone+pleura met_lesions=1", "met_lesions:"},
        {"mets=none met_lesions=3", "met_lesions:"},
    };
    static const char *const good[] = {
        "tumours=3", "site=lung mets=pleura+bone met_lesions=1",
        "site=lung mets=liver+bone met_lesions=2", "mets=lung+pleura met_lesions=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct nen_case c;
        char err[256] = "";
        nen_case_init(&c);
        CU_ASSERT_EQUAL(nen_case_parse(&c, bad[i].text, err, sizeof err), -1);
        if (strncmp(err, bad[i].field, strlen(bad[i].field)) != 0) {
            printf("\n  '%s': message '%s' does not name %s\n", bad[i].text, err, bad[i].field);
            CU_FAIL("refusal does not name the field");
        }
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        classify(good[i]); /* fails the test if refused */
}

/* The summary lines are the scripting format, in order. */
static char lines[32][NEN_TEXT_LEN + 64];
static int nlines;
static void collect(void *ctx, const char *line)
{
    (void)ctx;
    if (nlines < 32)
        snprintf(lines[nlines++], sizeof lines[0], "%s", line);
}

static void test_summary_format(void)
{
    classify("site=rectum diff=well ki67=1 mitoses=0/2mm2 size=8 extent=submucosa "
             "nodes_examined=0 mets=none");
    nlines = 0;
    nen_report_summary(&r, collect, NULL);
    static const char *const want[] = {"class=NET", "grade=G1", "type=not-applicable", "t=T1a",
                                       "n=NX", "m=M0", "stage=I", "status=final"};
    CU_ASSERT_FATAL(nlines >= 8);
    for (int i = 0; i < 8; i++)
        CU_ASSERT_STRING_EQUAL(lines[i], want[i]);
    for (int i = 8; i < nlines; i++) /* then the guideline advice, and nothing else */
        CU_ASSERT_EQUAL(strncmp(lines[i], "advice=", 7), 0);
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"trace GEP names rows and inputs", test_trace_gep},
        {"trace lung, gastric type, MiNEN, HPF", test_trace_other_tables},
        {"empty case", test_empty_case},
        {"each input removed", test_each_input_removed},
        {"candidate sets", test_candidates},
        {"summary format", test_summary_format},
        {"combined SCNEC/LCNEC subtype", test_combined_nec},
        {"minor NE component not staged", test_minor_ne_not_staged},
        {"lab categories: higher stands, coarser refined", test_lab_categories},
        {"impossible counts refused", test_impossible_counts},
        CU_TEST_INFO_NULL,
    };
    return test_run_suite("rules", tests);
}
