/*
 * test_case_text.c - the key=value case language: every value shape is read
 * into the right field, and every bad word is refused with a message naming
 * the key, leaving the case as it was.
 */
#include "test_util.h"

#include "nen_case_text.h"

#include <string.h>

static struct nen_case c;
static char err[256];

static int parse(const char *text)
{
    nen_case_init(&c);
    err[0] = '\0';
    return nen_case_parse(&c, text, err, sizeof err);
}

static void test_values(void)
{
    CU_ASSERT_EQUAL_FATAL(parse("site=ileum ki67=4.5% mitoses=3/10hpf hpf_area=0.237 "
                                "size=1.2cm extent=submucosa+serosa mets=liver+bone "
                                "gastrin=high pt=T2 pn=N1 pm=M1c non_ne_kind=mucinous_adenocarcinoma"),
                          0);
    CU_ASSERT_EQUAL(c.site, NEN_SITE_JEJUNUM_ILEUM);
    CU_ASSERT_TRUE(c.ki67.known);
    CU_ASSERT_DOUBLE_EQUAL(c.ki67.value, 4.5, 1e-12);
    CU_ASSERT_EQUAL(c.mitoses_unit, NEN_MIT_PER_10HPF);
    CU_ASSERT_DOUBLE_EQUAL(c.mitoses.value, 3, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.hpf_area_mm2.value, 0.237, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.size_mm.value, 12, 1e-12);
    CU_ASSERT_EQUAL(c.extent, (1ULL << NEN_EXT_SUBMUCOSA) | (1ULL << NEN_EXT_SEROSA));
    CU_ASSERT_EQUAL(c.mets, NEN_METS_PRESENT);
    CU_ASSERT_EQUAL(c.met_sites, (1u << NEN_MET_LIVER) | (1u << NEN_MET_BONE));
    CU_ASSERT_EQUAL(c.gastrin_status, NEN_GASTRIN_HIGH);
    CU_ASSERT_FALSE(c.gastrin.known);
    CU_ASSERT_EQUAL(c.t_given, NEN_T_2);
    CU_ASSERT_EQUAL(c.n_given, NEN_N_1);
    CU_ASSERT_EQUAL(c.m_given, NEN_M_1C);
    CU_ASSERT_STRING_EQUAL(c.non_ne_kind, "mucinous adenocarcinoma");
}

static void test_unknown_stays_unknown(void)
{
    CU_ASSERT_EQUAL_FATAL(parse("site=stomach"), 0);
    CU_ASSERT_FALSE(c.ki67.known);
    CU_ASSERT_FALSE(c.mitoses.known);
    CU_ASSERT_EQUAL(c.necrosis, NEN_NECROSIS_UNKNOWN);
    CU_ASSERT_EQUAL(c.mets, NEN_METS_UNKNOWN);
    CU_ASSERT_EQUAL(c.extent, 0);
    CU_ASSERT_EQUAL(c.t_given, NEN_TNM_UNKNOWN);
    CU_ASSERT_EQUAL_FATAL(parse("mets=none"), 0);
    CU_ASSERT_EQUAL(c.mets, NEN_METS_NONE);
}

/* Each bad input: refused, and the message names the key. */
static void test_errors_name_the_field(void)
{
    static const struct { const char *text, *needle; } bad[] = {
        {"ki67=abc", "ki67: 'abc' is not a number"},
        {"ki67=140", "ki67: 140 is outside"},
        {"ki67=-1", "ki67: -1 is outside"},
        {"ki67=nan", "ki67"},
        {"mitoses=5", "mitoses: '5' needs a unit"},
        {"mitoses=5/hpf", "mitoses: unit 'hpf'"},
        {"mitoses=x/2mm2", "mitoses: 'x' is not a number"},
        {"site=moon", "site: 'moon'"},
        {"necrosis=lots", "necrosis: 'lots' is not one of none, punctate, extensive, present"},
        {"extent=submucosa+bone", "extent: 'bone'"},
        {"mets=liver+moon", "mets: 'moon'"},
        {"pt=N1", "pt: 'N1' is not an AJCC T category"},
        {"pm=M3", "pm: 'M3'"},
        {"size=12in", "size: '12in' is not a number"},
        {"size=0", "size: 0 is outside"},
        {"nodes_examined=3 nodes_positive=5", "nodes_positive: 5 positive of 3 examined"},
        {"ne_pct=80 non_ne_pct=40", "more than 100%"},
        {"colour=blue", "'colour' is not a known input"},
        {"ki67", "'ki67' is not key=value"},
        {"=4", "'=4' is not key=value"},
        {"hpf_area=0", "hpf_area: 0 is outside"},
        {"ph=15", "ph: 15 is outside"},
        {"atrophic_gastritis=maybe", "atrophic_gastritis: 'maybe'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(bad[i].text);
        CU_ASSERT_EQUAL(rc, -1);
        if (!strstr(err, bad[i].needle)) {
            printf("\n  input '%s': message '%s' lacks '%s'\n", bad[i].text, err, bad[i].needle);
            CU_FAIL("error message does not name the field");
        }
    }
}

static void test_error_leaves_case_unchanged(void)
{
    char e[128];
    nen_case_init(&c);
    CU_ASSERT_EQUAL(nen_case_set(&c, "ki67", "12", e, sizeof e), 0);
    CU_ASSERT_EQUAL(nen_case_set(&c, "mitoses", "abc/2mm2", e, sizeof e), -1);
    CU_ASSERT_FALSE(c.mitoses.known);
    CU_ASSERT_EQUAL(c.mitoses_unit, NEN_MIT_UNIT_UNKNOWN);
    CU_ASSERT_EQUAL(nen_case_set(&c, "extent", "submucosa+nowhere", e, sizeof e), -1);
    CU_ASSERT_EQUAL(c.extent, 0);
    CU_ASSERT_DOUBLE_EQUAL(c.ki67.value, 12, 1e-12);
}

static void test_long_word(void)
{
    char text[600];
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    CU_ASSERT_EQUAL(parse(text), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "too long"));
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"value shapes", test_values},
        {"unknown stays unknown", test_unknown_stays_unknown},
        {"errors name the field", test_errors_name_the_field},
        {"error leaves case unchanged", test_error_leaves_case_unchanged},
        {"long word", test_long_word},
        CU_TEST_INFO_NULL,
    };
    return test_run_suite("case_text", tests);
}
