/*
 * test_fhir_ucum.c - UCUM parsing, commensurability and conversion factors:
 * the spellings FHIR Quantities arrive with, the loose normalisation of free
 * text, the deviations from UCUM (fhir_ucum.h) and hostile input.
 */
#include "test_util.h"

#include "fhir_ucum.h"

#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CU_ASSERT with the caller's line and the unit expression as the message. */
#define CHECK(cond, line, text) \
    CU_assertImplementation((cond) ? CU_TRUE : CU_FALSE, (line), (text), __FILE__, "", CU_FALSE)

static int close_to(double x, double want) { return x > want * (1 - 1e-12) && x < want * (1 + 1e-12); }

/* Parse (strict or loose) and require success; *u is {0} otherwise. */
static struct fhir_ucum parsed(int line, const char *e, int loose)
{
    struct fhir_ucum u = {0, {0}};
    char why[128] = "";
    int rc = loose ? fhir_ucum_parse_loose(e, &u, why, sizeof why) : fhir_ucum_parse(e, &u, why, sizeof why);
    char msg[300];
    snprintf(msg, sizeof msg, "parse '%s': %s", e, why);
    CHECK(rc == 0, line, msg);
    return u;
}

/* a and b commensurable, and a value in a times want is the value in b. */
static void conv(int line, const char *a, int la, const char *b, int lb, double want)
{
    struct fhir_ucum ua = parsed(line, a, la), ub = parsed(line, b, lb);
    char msg[300];
    snprintf(msg, sizeof msg, "'%s' -> '%s' = %.17g, want %.17g", a, b,
             fhir_ucum_commensurable(&ua, &ub) ? fhir_ucum_convert_factor(&ua, &ub) : -1.0, want);
    CHECK(fhir_ucum_commensurable(&ua, &ub) && close_to(fhir_ucum_convert_factor(&ua, &ub), want),
          line, msg);
}
#define CONV(a, b, f) conv(__LINE__, a, 0, b, 0, f)
#define LOOSE(text, code) conv(__LINE__, text, 1, code, 0, 1)

static void apart(int line, const char *a, int la, const char *b)
{
    struct fhir_ucum ua = parsed(line, a, la), ub = parsed(line, b, 0);
    char msg[300];
    snprintf(msg, sizeof msg, "'%s' must not be commensurable with '%s'", a, b);
    CHECK(!fhir_ucum_commensurable(&ua, &ub), line, msg);
}
#define APART(a, b) apart(__LINE__, a, 0, b)

/* Refused (strict or loose), *out untouched, why containing want. */
static void refused(int line, const char *e, int loose, const char *want)
{
    struct fhir_ucum u = {42, {7}};
    char why[128] = "", msg[300];
    int rc = loose ? fhir_ucum_parse_loose(e, &u, why, sizeof why) : fhir_ucum_parse(e, &u, why, sizeof why);
    snprintf(msg, sizeof msg, "'%.60s' must be refused with \"%s\": rc %d, \"%s\"", e, want, rc, why);
    CHECK(rc == -1 && strstr(why, want) && u.factor == 42 && u.dim[0] == 7, line, msg);
}
#define REFUSE(e, want) refused(__LINE__, e, 0, want)
#define REFUSE_LOOSE(e, want) refused(__LINE__, e, 1, want)

static void test_spellings(void)
{
    static const char *const all[] = {"/10.[HPF]", "/(10.[HPF])", "{mitoses}/10.[HPF]", "/2.mm2",
                                      "/(2.mm2)", "/mm2", "%", "1", "{ratio}", "mm", "cm", "m",
                                      "pg/mL", "ng/L", "pmol/L", "{#}", "[pH]", "10*3/uL", "mm2", "um"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        parsed(__LINE__, all[i], 0);
    struct fhir_ucum u = parsed(__LINE__, "mm2", 0);
    CU_ASSERT_DOUBLE_EQUAL(u.factor, 1e-6, 1e-18);
    CU_ASSERT_EQUAL(u.dim[FHIR_UCUM_M], 2);
    u = parsed(__LINE__, "/2.mm2", 0);
    CU_ASSERT_DOUBLE_EQUAL(u.factor, 5e5, 1e-6);
    CU_ASSERT_EQUAL(u.dim[FHIR_UCUM_M], -2);
    u = parsed(__LINE__, "10*3/uL", 0);
    CU_ASSERT_TRUE(close_to(u.factor, 1e12));
    CU_ASSERT_EQUAL(u.dim[FHIR_UCUM_M], -3);
    u = parsed(__LINE__, "/10.[HPF]", 0);
    CU_ASSERT_DOUBLE_EQUAL(u.factor, 0.1, 1e-15);
    CU_ASSERT_EQUAL(u.dim[FHIR_UCUM_HPF], -1);
    u = parsed(__LINE__, "pg/mL", 0);
    CU_ASSERT_EQUAL(u.dim[FHIR_UCUM_G], 1);
    CU_ASSERT_EQUAL(u.dim[FHIR_UCUM_M], -3);
}

static void test_equivalences(void)
{
    CONV("/mm2", "/2.mm2", 2);
    CONV("/2.mm2", "/(2.mm2)", 1);
    CONV("{mitoses}/2.mm2", "/(2.mm2)", 1);
    CONV("/(10.[HPF])", "/10.[HPF]", 1);
    CONV("{mitoses}/10.[HPF]", "/10.[HPF]", 1);
    CONV("/[HPF]", "/10.[HPF]", 10);
    CONV("cm", "mm", 10);
    CONV("m", "mm", 1000);
    CONV("um", "mm", 1e-3);
    CONV("1", "%", 100);
    CONV("{ratio}", "%", 100);
    CONV("{#}", "1", 1);
    CONV("ng/L", "pg/mL", 1);
    CONV("10*3/uL", "10^9/L", 1);
    CONV("10*-3", "1", 1e-3);
    CONV("2.5", "10", 1);   /* 2 x 5: a period only multiplies (§8) */
    APART("pmol/L", "pg/mL");
    APART("mm2", "/mm2");
    APART("[HPF]", "mm2");
    APART("/10.[HPF]", "/2.mm2");
    APART("[HPF]", "[LPF]");
    APART("[HPF]", "1");
    APART("mol", "1");
    APART("[pH]", "mol/L");
    APART("[pH]", "1");
}

static void test_atoms(void)
{
    CONV("L", "dm3", 1);
    CONV("l", "L", 1);
    CONV("mL", "cm3", 1);
    CONV("dL", "mL", 100);
    CONV("kg", "g", 1000);
    CONV("mmol/L", "umol/mL", 1);
    CONV("h", "min", 60);
    CONV("d", "h", 24);
    CONV("wk", "d", 7);
    CONV("a", "d", 365.25);
    CONV("mo", "d", 30.4375);
    CONV("U", "umol/min", 1);
    CONV("kU/L", "U/mL", 1);
    CONV("[ppm]", "%", 1e-4);
    CONV("10*3", "10^3", 1);
    CONV("mK", "K", 1e-3);
    CONV("dam", "m", 10);            /* deka: the longest prefix (§4 ■4) */
    CONV("Ym", "Zm", 1000);
    CONV("ym", "zm", 1e-3);
    CONV("cm3", "m3", 1e-6);         /* §9 ■2: the prefix is raised too */
    CONV("m-1", "/m", 1);
    CONV("m+2", "m2", 1);
    CONV("m0", "1", 1);
    CONV("mm.mm", "mm2", 1);
    CONV("mm2{HPF}", "mm2", 1);
    CONV("[pH]{gastric}", "[pH]", 1);
    CONV("(((m)))", "m", 1);
    /* everything but a bare number after a solidus is left to right (§7 ■4) */
    CONV("kg/m.s2", "kg.s2/m", 1);
    APART("kg/m.s2", "kg/(m.s2)");
    CONV("mg/kg.d", "mg.d/kg", 1);
    CONV("g/kg/8.h", "g/(kg.8.h)", 1);
    CONV("s/4.m", "s/m", 0.25);
    CONV("/(2).mm2", "mm2", 0.5);
}

static void test_loose(void)
{
    LOOSE("/2mm2", "/2.mm2");
    LOOSE("/2 mm2", "/2.mm2");
    LOOSE("/2 mm\xc2\xb2", "/2.mm2");      /* "/2 mm²" */
    LOOSE("/10 HPF", "/10.[HPF]");
    LOOSE("/10hpf", "/10.[HPF]");
    LOOSE("/10HPF", "/10.[HPF]");
    LOOSE("/10.HPF", "/10.[HPF]");
    LOOSE("/10[HPF]", "/10.[HPF]");
    LOOSE("/ 10 LPF", "/10.[LPF]");
    LOOSE("/lpf", "/[LPF]");
    LOOSE(" mm ", "mm");
    LOOSE("\tmm", "mm");
    LOOSE("\xc2\xb5m", "um");               /* "µm", micro sign */
    LOOSE("\xce\xbcg/L", "ug/L");           /* "μg/L", Greek mu */
    LOOSE("10*3/\xc2\xb5L", "10*3/uL");
    LOOSE("mm\xc2\xb3", "mm3");
    LOOSE("{HPF}", "1");                    /* an annotation stays one */
    LOOSE("{per 10 HPF}", "1");
    LOOSE("pg / mL", "pg/mL");
    conv(__LINE__, "/10{HPF}", 1, "1", 0, 0.1); /* 1/10, not per 10 HPF */
    apart(__LINE__, "/10{HPF}", 1, "/10.[HPF]");
    REFUSE_LOOSE("per 10 HPF", "unknown unit 'per'");
    REFUSE_LOOSE("mitoses/10HPF", "unknown unit 'mitoses'");
    REFUSE_LOOSE("/10 HPFs", "unknown unit 'HPFs'");
    REFUSE_LOOSE("", "empty");
    REFUSE_LOOSE("  ", "empty");
    REFUSE_LOOSE(NULL, "empty");
    REFUSE_LOOSE("mm\xe2\x81\xb4", "0xE2");  /* superscript 4 is not rule 2 */
    /* strict does none of this */
    REFUSE("/2mm2", "unknown unit '2mm'"); /* §8 ■2 */
    REFUSE("/10.HPF", "unknown unit 'HPF'");
    REFUSE("/10{HPF}", "annotation after a number");
    REFUSE(" mm", "0x20");
    REFUSE("mm ", "0x20");
    REFUSE("\xc2\xb5m", "0xC2");
    REFUSE("mm\xc2\xb2", "0xC2");
}

static void test_refused(void)
{
    REFUSE("", "empty unit");
    REFUSE("HPF", "unknown unit 'HPF'");
    REFUSE("mitoses", "unknown unit 'mitoses'");
    REFUSE("MM", "unknown unit 'MM'");                /* case-sensitive */
    REFUSE("(m", "unbalanced parenthesis");
    REFUSE("m)", "unbalanced parenthesis");
    REFUSE("/(2.mm2", "unbalanced parenthesis");
    REFUSE("()", "unbalanced parenthesis at offset 1");
    REFUSE("{abc", "unterminated annotation");
    REFUSE("m{a{b}}", "'{' inside an annotation");
    REFUSE("{a b}", "0x20");
    REFUSE("[HPF", "unterminated '['");
    REFUSE("m/", "a unit is missing");
    REFUSE("/", "a unit is missing");
    REFUSE("m..m", "unexpected '.'");
    REFUSE("m2s", "unexpected 's'");
    REFUSE("m+", "exponent sign without digits");
    REFUSE("kh", "unit 'h' takes no prefix");
    REFUSE("k[HPF]", "unit '[HPF]' takes no prefix");
    REFUSE("m%", "unit '%' takes no prefix");
    REFUSE("0", "0 is not a unit");
    REFUSE("(/m)", "unexpected '/'");
    REFUSE("[pH]2", "[pH] must stand alone");         /* §22 */
    REFUSE("/[pH]", "[pH] must stand alone");
    REFUSE("10.[pH]", "[pH] must stand alone");
    REFUSE("[pH]/s", "[pH] must stand alone");
    REFUSE("k[pH]", "takes no prefix");
}

static void test_hostile(void)
{
    enum { N = 100000 };
    char *s = malloc(N + 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    memset(s, 'a', N);
    s[N] = 0;
    REFUSE(s, "unknown unit 'aaaa");
    REFUSE_LOOSE(s, "longer than 255");
    for (int i = 0; i < N; i++)
        s[i] = i % 2 ? '.' : 'm';
    s[N - 1] = 'm';
    REFUSE(s, "exponent out of range");               /* m^50000 */
    s[0] = '{';
    memset(s + 1, 'x', N - 1);
    s[N] = '}', s[N + 1] = 0;
    parsed(__LINE__, s, 0);                           /* a long annotation is 1 */
    s[N] = 0;
    REFUSE(s, "unterminated annotation");
    for (int depth = 1; depth <= 100; depth++) {
        memset(s, '(', (size_t)depth);
        s[depth] = 'm';
        memset(s + depth + 1, ')', (size_t)depth);
        s[2 * depth + 1] = 0;
        struct fhir_ucum u;
        CU_ASSERT_EQUAL(fhir_ucum_parse(s, &u, NULL, 0), depth <= 16 ? 0 : -1);
    }
    REFUSE(s, "nested deeper than 16");
    memset(s, '(', N);
    s[N] = 0;
    REFUSE(s, "nested deeper than 16");
    free(s);

    REFUSE("m999999999", "exponent out of range");
    REFUSE("m-999999999999999999999", "exponent out of range");
    REFUSE("m100", "exponent out of range");
    parsed(__LINE__, "m99", 0);
    REFUSE("L34", "exponent out of range");           /* m^102 */
    REFUSE("m99.m", "exponent out of range");
    REFUSE("Ym99", "factor out of range");
    REFUSE("ym99", "factor out of range");
    REFUSE("10*99.10*99.10*99.10*99", "factor out of range");
    REFUSE("/10*99/10*99/10*99/10*99", "factor out of range");
    REFUSE("10*999", "exponent out of range");
    REFUSE("9999999999999999", "number out of range");
    parsed(__LINE__, "999999999999999", 0);

    struct fhir_ucum u;
    char tiny[4];
    CU_ASSERT_EQUAL(fhir_ucum_parse("HPF", &u, tiny, sizeof tiny), -1);
    CU_ASSERT_STRING_EQUAL(tiny, "unk");
    CU_ASSERT_EQUAL(fhir_ucum_parse("HPF", &u, NULL, 0), -1);
    CU_ASSERT_EQUAL(fhir_ucum_parse(NULL, &u, NULL, 0), -1);

    /* every byte alone and after a unit; then 300000 deterministic random
     * strings from the grammar's characters: -1 with a reason, or a unit in
     * range - never a crash (ASan, UBSan and valgrind watch). */
    static const char alphabet[] = "m/.()[]{}0123456789*^+-%gLkuHPFpwa\"= \x7f\xc2\xb2";
    char buf[40], why[128];
    for (int c = 1; c < 256; c++) {
        for (int pre = 0; pre < 2; pre++) {
            snprintf(buf, sizeof buf, "%s%c", pre ? "mm" : "", c);
            why[0] = 0;
            if (fhir_ucum_parse(buf, &u, why, sizeof why) != 0)
                CU_ASSERT_TRUE(why[0] != 0);
            fhir_ucum_parse_loose(buf, &u, why, sizeof why);
        }
    }
    uint64_t x = 12345;
    unsigned ok = 0;
    for (int i = 0; i < 300000; i++) {
        size_t n = 0, len = (x >> 8) % 20 + 1;
        for (; n < len; n++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            buf[n] = alphabet[(x >> 33) % (sizeof alphabet - 1)];
        }
        buf[n] = 0;
        why[0] = 0;
        int rc = (i & 1) ? fhir_ucum_parse_loose(buf, &u, why, sizeof why)
                         : fhir_ucum_parse(buf, &u, why, sizeof why);
        if (rc != 0) {
            if (why[0] == 0)
                CU_FAIL("refused without a reason");
            continue;
        }
        ok++;
        int in_range = u.factor >= DBL_MIN && u.factor <= DBL_MAX;
        for (int d = 0; d < FHIR_UCUM_DIMS; d++)
            in_range &= u.dim[d] >= -99 && u.dim[d] <= 99;
        if (!in_range)
            CU_FAIL("unit out of range");
    }
    CU_ASSERT_TRUE(ok > 1000); /* the generator reaches valid units too */
}

int main(void)
{
    CU_TestInfo tests[] = {{"spellings", test_spellings}, {"equivalences", test_equivalences},
                           {"atoms", test_atoms},         {"loose", test_loose},
                           {"refused", test_refused},     {"hostile", test_hostile},
                           CU_TEST_INFO_NULL};
    return test_run_suite("fhir_ucum", tests);
}
