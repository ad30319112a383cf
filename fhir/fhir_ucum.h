/*
 * fhir_ucum.h - UCUM unit expressions (the Unified Code for Units of Measure,
 * https://ucum.org/ucum, version 2.2; case-sensitive "c/s" symbols), the code
 * system of FHIR Quantity.code. A parser of the UCUM grammar (§§1-10) over a
 * small atom table, and the dimension/factor arithmetic that decides whether
 * two units measure the same kind of quantity and how to convert between them.
 * No allocation, no global state, no recursion deeper than 16 parentheses.
 * Knows nothing of NENs.
 *
 * Units known (§27 prefixes, §28 base units, §§29-45 atoms):
 *   metric, so prefixable (Y Z E P T G M k h da d c m u n p f a z y; u = micro):
 *     m  g  s  K  mol  L  l (= dm3 = 1e-3 m3)  U (enzyme unit = umol/min)
 *   not prefixable: 10* 10^ (ten, for powers: 10*3, 10^-6)  % (1e-2)
 *     [ppm] (1e-6)  min h d wk mo (= a/12)  a (Julian year, 365.25 d)
 *     [HPF] [LPF] [pH]
 *   annotations {...} (§6: meaning 1) and integer factors (§8: 2, 10, ...).
 *
 * Deviations from UCUM, each on purpose (all make fewer units commensurable
 * or spell out what senders mean; none makes a conversion UCUM would refuse
 * except the last):
 *   - mol is its own base dimension. UCUM defines it as 6.02214076e23, a pure
 *     number, which would make mmol/L commensurable with 1/L and mol with %.
 *   - [HPF] and [LPF] are each their own dimension. UCUM defines [HPF] = 1 and
 *     [LPF] = 100 (dimensionless), which would make "/10.[HPF]" convertible to
 *     % and {ratio}; the area of a field depends on the microscope, so a count
 *     per HPF is convertible only to a count per HPF.
 *   - [pH] is a special unit (§21: pH of 1 mol/l) on a non-ratio scale; it is
 *     its own dimension with factor 1 and, as §22 says special units take
 *     part in no algebra, it must stand alone (annotations aside): "[pH]2",
 *     "/[pH]", "10.[pH]", "[pH]/s" are refused.
 *   - A divisor that is a bare number followed by '.' takes the next
 *     component with it: "a/N.b" = "a/(N.b)", so "/2.mm2" is per 2 mm2 and
 *     "{mitoses}/10.[HPF]" is per 10 HPF. §7 ■4 (left to right, '.' and '/'
 *     of equal precedence; confirmed in ucum-org/ucum issues #108, #114)
 *     reads them as (1/2).mm2 = half a square millimetre and [HPF]/10, which
 *     no sender means; the UCUM common-units table itself writes "g/kg/8.h"
 *     and "{Ehrlich'U}/100.g" for per 8 h and per 100 g. Everything else is
 *     strictly left to right: "kg/m.s2" = (kg/m).s2, not kg/(m.s2).
 *
 * Strict syntax (§§1-10): printable ASCII only, no blanks; main-term =
 * '/' term | term; term = component (('.' | '/') component)*; component =
 * simple-unit exponent? annotation? | annotation | factor | '(' term ')';
 * simple-unit = prefix? atom (prefix only on metric atoms, §27); exponent =
 * ('+' | '-')? digits, at most 99 (§9; "cm3" = (cm)^3); factor = digits,
 * not 0, at most 1e15; annotation = '{' (ASCII 33-126 but '{' '}')* '}' (§6).
 * A leading '/' is allowed only at the start of the whole expression.
 * A number directly followed by letters is one (unknown) symbol (§8 ■2:
 * "2mm" is not 2.mm); an annotation may not follow a bare number ("10{x}").
 * "" is not a unit here (the caller decides what a missing unit means).
 */
#ifndef FHIR_UCUM_H
#define FHIR_UCUM_H

#include <stddef.h>

/* Indexes into fhir_ucum.dim: the base dimensions. */
enum fhir_ucum_dim {
    FHIR_UCUM_M,   /* metre */
    FHIR_UCUM_G,   /* gram */
    FHIR_UCUM_S,   /* second */
    FHIR_UCUM_MOL, /* mole (own dimension, see above) */
    FHIR_UCUM_K,   /* kelvin */
    FHIR_UCUM_HPF, /* high power field */
    FHIR_UCUM_LPF, /* low power field */
    FHIR_UCUM_PH,  /* pH (special) */
    FHIR_UCUM_DIMS
};

/* A unit: one of it = factor * product of base units ^ dim.
 * "mm2" = {1e-6, m^2}; "/2.mm2" = {5e5, m^-2}; "%" = {0.01, none};
 * "pg/mL" = {1e-6, g m^-3}; "/10.[HPF]" = {0.1, [HPF]^-1}.
 * factor is finite and positive; every |dim| is at most 99. */
struct fhir_ucum {
    double factor;
    signed char dim[FHIR_UCUM_DIMS];
};

/* Parse the UCUM expression expr (strict, as above). Returns 0 and fills
 * *out, or -1 with *out untouched and a short reason in why (e.g. "unknown
 * unit 'HPF'", "unbalanced parenthesis", "unterminated annotation", "factor
 * out of range"; truncated to whylen; why may be NULL). */
int fhir_ucum_parse(const char *expr, struct fhir_ucum *out, char *why, size_t whylen);

/* fhir_ucum_parse after normalising free text (Quantity.unit, or the unit
 * part of a value string such as "3/2mm2"). The normalisation, and nothing
 * else:
 *   1. blanks (space, tab) are removed;
 *   2. UTF-8 superscripts ² ³ become 2 3, and the micro sign µ (U+00B5, or
 *      Greek mu U+03BC) becomes u;
 *   3. outside [] and {}, a bare word HPF, hpf, LPF or lpf (no letter right
 *      before or after it) becomes [HPF] or [LPF];
 *   4. outside [] and {}, a digit directly followed by a letter, '[' or '{'
 *      gets a '.' between them ("2mm2" -> "2.mm2", "10HPF" -> "10.[HPF]",
 *      "10{HPF}" -> "10.{HPF}").
 * So "/2 mm²" = "/2.mm2" and "/10 hpf" = "/10.[HPF]", but "/10{HPF}" is
 * 1/10 (an annotation means 1, §6), not per 10 HPF, and words such as
 * "per 10 HPF" or "mitoses/10HPF" are refused (unknown unit). At most 255
 * bytes of text; returns as fhir_ucum_parse. */
int fhir_ucum_parse_loose(const char *text, struct fhir_ucum *out, char *why, size_t whylen);

/* 1 when a and b have the same dimension vector (§17 "commensurable"), else 0. */
int fhir_ucum_commensurable(const struct fhir_ucum *a, const struct fhir_ucum *b);

/* The number that turns a value in unit a into the same quantity in unit b
 * (a->factor / b->factor): 5 cm -> 5 * f(cm, mm) = 50 mm. Meaningful only
 * when fhir_ucum_commensurable(a, b); a floating-point ratio, so compare
 * results with a tolerance ("ng/L" -> "pg/mL" may be 1 +- 1e-16). */
double fhir_ucum_convert_factor(const struct fhir_ucum *a, const struct fhir_ucum *b);

#endif
