/*
 * nen_extract_value.c - one Observation value -> the text of one input
 * (nen_extract_int.h): Quantity with UCUM unit and comparator, Range, string
 * ("4%", "<1%", "15-20%", a word), integer, boolean and CodeableConcept.
 * Ranges and limits keep both ends; everything unreadable becomes a warning
 * naming the resource and the field.
 */
#include "nen_extract_int.h"

#include "fhir_tree.h"
#include "fhir_ucum.h"
#include "nen_case_text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UCUM_SYSTEM "http://unitsofmeasure.org"

/* Upper end for an open limit (">20%"): percentages stop at 100, other
 * inputs have no bound the rules could reach. */
static double open_high(const char *key)
{
    if (strcmp(key, "ki67") == 0 || strcmp(key, "ne_pct") == 0 || strcmp(key, "non_ne_pct") == 0)
        return 100;
    return 1e6;
}


static int wrong(struct fhir_error *err, const char *path, const char *field, json_object *v,
                 const char *want)
{
    fhir_error_set(err, "%s.%s: expected %s, found %s", path, field, want, fhir_type_name(v));
    return -1;
}

const struct nen_code_unit *nen_value_find_unit(const struct nen_codes *t, const char *key,
                                               const char *u, double *convert)
{
    struct fhir_ucum parsed;
    char why[120];
    if (fhir_ucum_parse(u, &parsed, why, sizeof why) != 0 &&
        fhir_ucum_parse_loose(u, &parsed, why, sizeof why) != 0)
        return NULL;
    return nen_codes_unit(t, key, &parsed, convert);
}

/* lo/hi text of rd from numbers (already in the key's unit) and a suffix. */
static void set_numbers(struct nen_reading *rd, double lo, double hi, const char *suffix)
{
    snprintf(rd->lo, sizeof rd->lo, "%.17g%s", lo, suffix);
    snprintf(rd->hi, sizeof rd->hi, "%.17g%s", hi, suffix);
    rd->ranged = lo != hi;
}

/* Scale v given in unit u for rd->key. Returns 0, or -1 after a warning. */
static int scale(const struct nen_codes *t, struct nen_reading *rd, const char *u, double *v,
                 const char **suffix, const char *path, struct nen_extract *x)
{
    *suffix = "";
    if (!u || !*u)
        return 0; /* no unit: the input's own unit (the rules warn where it matters) */
    double convert;
    const struct nen_code_unit *e = nen_value_find_unit(t, rd->key, u, &convert);
    if (!e) {
        nen_extract_warnf(x, "input-unit-unknown",
                          "%s: unit '%s' is no unit of %s in the code tables: %s not read", path,
                          u, rd->key, rd->key);
        return -1;
    }
    *v *= convert * e->factor;
    *suffix = e->suffix;
    return 0;
}

/* The ends of a comparator and a number: "<" x gives [0, x), ">=" x gives
 * [x, open) ... as doubles. Returns 0, or -1 for an unknown comparator. */
static int limit_ends(const char *cmp, double v, const char *key, double *lo, double *hi)
{
    if (!cmp || !*cmp) {
        *lo = *hi = v;
    } else if (strcmp(cmp, "<") == 0) {
        *lo = 0;
        *hi = nextafter(v, 0);
    } else if (strcmp(cmp, "<=") == 0) {
        *lo = 0;
        *hi = v;
    } else if (strcmp(cmp, ">") == 0) {
        *lo = nextafter(v, INFINITY);
        *hi = fmax(open_high(key), *lo);
    } else if (strcmp(cmp, ">=") == 0) {
        *lo = v;
        *hi = fmax(open_high(key), v);
    } else {
        return -1;
    }
    return 0;
}

/* A Quantity q (may be a comparator one). */
static int read_quantity(const struct nen_codes *t, json_object *q, const char *path,
                         struct nen_reading *rd, struct nen_extract *x, struct fhir_error *err)
{
    double v;
    const char *cmp = NULL, *code = NULL, *unit = NULL, *system = NULL;
    if (!json_object_is_type(q, json_type_object))
        return wrong(err, path, "valueQuantity", q, "an object");
    enum fhir_get g = fhir_get_number(q, "value", &v);
    if (g == FHIR_WRONG)
        return wrong(err, path, "valueQuantity.value", fhir_member(q, "value"), "a number");
    if (g == FHIR_ABSENT) {
        nen_extract_warnf(x, "input-unreadable", "%s: valueQuantity has no value: %s not read",
                          path, rd->key);
        return 2;
    }
    if (fhir_get_string(q, "comparator", &cmp) == FHIR_WRONG ||
        fhir_get_string(q, "code", &code) == FHIR_WRONG ||
        fhir_get_string(q, "unit", &unit) == FHIR_WRONG ||
        fhir_get_string(q, "system", &system) == FHIR_WRONG)
        return wrong(err, path, "valueQuantity.comparator/code/unit/system", q,
                     "strings in each");
    const char *u = code && (!system || strcmp(system, UCUM_SYSTEM) == 0) ? code : unit;
    const char *suffix;
    double lo, hi;
    if (scale(t, rd, u, &v, &suffix, path, x) != 0)
        return 2;
    if (limit_ends(cmp, v, rd->key, &lo, &hi) != 0) {
        nen_extract_warnf(x, "input-unreadable", "%s: comparator '%s' unknown: %s not read", path,
                          cmp, rd->key);
        return 2;
    }
    set_numbers(rd, lo, hi, suffix);
    snprintf(rd->shown, sizeof rd->shown, "%s%s %s", cmp ? cmp : "",
             json_object_get_string(fhir_member(q, "value")), u ? u : "");
    return 1;
}

static int read_range(const struct nen_codes *t, json_object *r, const char *path,
                      struct nen_reading *rd, struct nen_extract *x, struct fhir_error *err)
{
    double ends[2];
    const char *names[2] = {"low", "high"}, *suffix[2] = {"", ""};
    int have[2] = {0, 0};
    char shown[2][40] = {"", ""};
    if (!json_object_is_type(r, json_type_object))
        return wrong(err, path, "valueRange", r, "an object");
    for (int i = 0; i < 2; i++) {
        json_object *q = fhir_member(r, names[i]);
        const char *code = NULL, *unit = NULL;
        if (!q)
            continue;
        enum fhir_get g = fhir_get_number(q, "value", &ends[i]);
        if (g == FHIR_WRONG || !json_object_is_type(q, json_type_object))
            return wrong(err, path, names[i], q, "a Quantity with a numeric value");
        if (g == FHIR_ABSENT)
            continue;
        fhir_get_string(q, "code", &code);
        fhir_get_string(q, "unit", &unit);
        snprintf(shown[i], sizeof shown[i], "%s %s", json_object_get_string(fhir_member(q, "value")),
                 code ? code : unit ? unit : "");
        if (scale(t, rd, code ? code : unit, &ends[i], &suffix[i], path, x) != 0)
            return 2;
        have[i] = 1;
    }
    const char *bad = !have[0] && !have[1] ? "has neither low nor high"
                      : have[0] && have[1] && strcmp(suffix[0], suffix[1]) != 0
                          ? "ends in different units"
                          : NULL;
    double lo = have[0] ? ends[0] : 0, hi = have[1] ? ends[1] : fmax(open_high(rd->key), lo);
    if (!bad && lo > hi)
        bad = "low is above high";
    if (bad) {
        nen_extract_warnf(x, "input-unreadable", "%s: valueRange %s: %s not read", path, bad,
                          rd->key);
        return 2;
    }
    set_numbers(rd, lo, hi, have[0] ? suffix[0] : suffix[1]);
    snprintf(rd->shown, sizeof rd->shown, "%s to %s", have[0] ? shown[0] : "(open)",
             have[1] ? shown[1] : "(open)");
    return 1;
}

static int is_tnm_key(const char *key)
{
    return strcmp(key, "pt") == 0 || strcmp(key, "pn") == 0 || strcmp(key, "pm") == 0;
}

/* pT/pN/pM as the lab writes them ("pT1a", "ypN0", "T2") -> "T1a". */
static void tnm_plain(const char *s, char *out, size_t len)
{
    while (*s && strchr("pcyra", *s))
        s++;
    snprintf(out, len, "%s", s);
}

/* A word for key: as is, then lower-cased with blanks as '_'. Returns 1 if
 * the input language accepts it (written into rd). */
static int accept_word(struct nen_reading *rd, const char *w)
{
    struct nen_case scratch;
    char buf[64], msg[160];
    if (is_tnm_key(rd->key))
        tnm_plain(w, buf, sizeof buf);
    else {
        snprintf(buf, sizeof buf, "%s", w);
        for (char *p = buf; *p; p++)
            *p = *p == ' ' ? '_' : (char)tolower((unsigned char)*p);
    }
    const char *tries[2] = {w, buf};
    for (int i = 0; i < 2; i++) {
        nen_case_init(&scratch);
        if (nen_case_set(&scratch, rd->key, tries[i], msg, sizeof msg) == 0) {
            snprintf(rd->lo, sizeof rd->lo, "%s", tries[i]);
            snprintf(rd->hi, sizeof rd->hi, "%s", tries[i]);
            rd->ranged = 0;
            return 1;
        }
    }
    return 0;
}

/* "<1%", "<=5", "15-20%", "15 - 20 %", "4.5 mm", "3/2mm2" (mitoses) ... -> 1
 * and rd set; 0 when s is no number (caller tries it as a word); -1 after a
 * warning (a number whose unit cannot be read). */
static int read_numeric_string(const struct nen_codes *t, const char *s, const char *path,
                               struct nen_reading *rd, struct nen_extract *x)
{
    char cmp[3] = "";
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '<' || *p == '>') {
        cmp[0] = *p++;
        if (*p == '=')
            cmp[1] = *p++;
    } else if (strncmp(p, "\xe2\x89\xa4", 3) == 0 || strncmp(p, "\xe2\x89\xa5", 3) == 0) {
        cmp[0] = p[2] == '\xa4' ? '<' : '>'; /* U+2264 less-or-equal, U+2265 greater-or-equal */
        cmp[1] = '=';
        p += 3;
    }
    char *end;
    errno = 0;
    double a = strtod(p, &end), b;
    if (end == p || errno || !isfinite(a))
        return 0;
    p = end;
    while (isspace((unsigned char)*p))
        p++;
    int range = 0;
    if (!cmp[0] && (*p == '-' || strncmp(p, "\xe2\x80\x93", 3) == 0)) { /* hyphen or en dash */
        p += *p == '-' ? 1 : 3;
        errno = 0;
        b = strtod(p, &end);
        if (end == p || errno || !isfinite(b))
            return 0;
        p = end;
        range = 1;
    }
    while (isspace((unsigned char)*p))
        p++;
    if (strcmp(rd->key, "mitoses") == 0 && *p && !strchr(p, '/')) {
        nen_extract_warnf(x, "input-unit-unknown",
                          "%s: '%s': unit not a mitotic-count area: mitoses not read", path, s);
        return -1;
    }
    const char *suffix;
    if (scale(t, rd, p, &a, &suffix, path, x) != 0 || (range && scale(t, rd, p, &b, &suffix, path, x) != 0))
        return -1;
    double lo, hi;
    if (range) {
        lo = fmin(a, b);
        hi = fmax(a, b);
    } else if (limit_ends(cmp, a, rd->key, &lo, &hi) != 0) {
        return 0;
    }
    set_numbers(rd, lo, hi, suffix);
    snprintf(rd->shown, sizeof rd->shown, "'%s'", s);
    return 1;
}

static int read_string(const struct nen_codes *t, json_object *v, const char *path,
                       struct nen_reading *rd, struct nen_extract *x, struct fhir_error *err)
{
    if (!json_object_is_type(v, json_type_string))
        return wrong(err, path, "valueString", v, "a string");
    const char *s = json_object_get_string(v);
    int rc = is_tnm_key(rd->key) ? 0 : read_numeric_string(t, s, path, rd, x);
    if (rc != 0)
        return rc > 0 ? 1 : 2;
    if (accept_word(rd, s)) {
        snprintf(rd->shown, sizeof rd->shown, "'%s'", s);
        return 1;
    }
    nen_extract_warnf(x, "input-unreadable", "%s: valueString '%.60s' is no value of %s: %s not read",
                      path, s, rd->key, rd->key);
    return 2;
}

const char *nen_value_coded(const struct nen_codes *t, json_object *cc, const char *key,
                            char *buf, size_t len)
{
    size_t n = fhir_count(cc, "coding");
    for (size_t i = 0; i < n; i++) {
        const char *sys, *code;
        if (!fhir_cc_coding(cc, i, &sys, &code))
            continue;
        const struct nen_code *e = nen_codes_answer(t, sys, code, key);
        if (e) {
            snprintf(buf, len, "%s", e->word);
            return buf;
        }
        if (nen_codes_words_system(t, sys)) {
            snprintf(buf, len, "%s", code);
            return buf;
        }
    }
    return NULL;
}

/* First coding of cc as "system|code", for messages. */
static const char *first_coding(json_object *cc, char *buf, size_t len)
{
    const char *sys = "?", *code = "?";
    json_object *c = fhir_item(cc, "coding", 0);
    fhir_get_string(c, "system", &sys);
    fhir_get_string(c, "code", &code);
    snprintf(buf, len, "%s|%s", sys, code);
    return buf;
}

static int read_cc(const struct nen_codes *t, json_object *cc, const char *path,
                   struct nen_reading *rd, struct nen_extract *x, struct fhir_error *err)
{
    char word[64], shown[120];
    const char *text = NULL;
    if (!json_object_is_type(cc, json_type_object))
        return wrong(err, path, "valueCodeableConcept", cc, "an object");
    if (fhir_get_string(cc, "text", &text) == FHIR_WRONG)
        return wrong(err, path, "valueCodeableConcept.text", fhir_member(cc, "text"), "a string");
    const char *w = nen_value_coded(t, cc, rd->key, word, sizeof word);
    if (w && accept_word(rd, w)) {
        first_coding(cc, rd->shown, sizeof rd->shown); /* shown text: may be cut */
        return 1;
    }
    /* AJCC categories travel as codes or text ("pT1a"): read them as words. */
    size_t n = fhir_count(cc, "coding");
    for (size_t i = 0; i < n && !w; i++) {
        const char *code;
        if (fhir_get_string(fhir_item(cc, "coding", i), "code", &code) == FHIR_OK &&
            is_tnm_key(rd->key) && accept_word(rd, code)) {
            snprintf(rd->shown, sizeof rd->shown, "%s", code);
            return 1;
        }
    }
    if (text && accept_word(rd, text)) {
        snprintf(rd->shown, sizeof rd->shown, "'%s'", text);
        return 1;
    }
    nen_extract_warnf(x, "input-code-unknown",
                      "%s.valueCodeableConcept: %s%s%s is no answer of %s in the code tables: %s "
                      "not read", path, n ? first_coding(cc, shown, sizeof shown) : "",
                      text ? " " : "", text ? text : "", rd->key, rd->key);
    return 2;
}

int nen_value_read(const struct nen_codes *t, json_object *o, const char *path,
                   struct nen_reading *rd, struct nen_extract *x, struct fhir_error *err)
{
    json_object *v;
    if ((v = fhir_member(o, "valueQuantity")))
        return read_quantity(t, v, path, rd, x, err);
    if ((v = fhir_member(o, "valueRange")))
        return read_range(t, v, path, rd, x, err);
    if ((v = fhir_member(o, "valueString")))
        return read_string(t, v, path, rd, x, err);
    if ((v = fhir_member(o, "valueCodeableConcept")))
        return read_cc(t, v, path, rd, x, err);
    if ((v = fhir_member(o, "valueInteger"))) {
        double d;
        if (fhir_value_number(v, &d) != FHIR_OK || d != floor(d))
            return wrong(err, path, "valueInteger", v, "an integer");
        set_numbers(rd, d, d, "");
        snprintf(rd->shown, sizeof rd->shown, "%.0f", d);
        return 1;
    }
    if ((v = fhir_member(o, "valueBoolean"))) {
        int b;
        if (fhir_get_bool(o, "valueBoolean", &b) != FHIR_OK)
            return wrong(err, path, "valueBoolean", v, "true or false");
        if (!accept_word(rd, b ? "yes" : "no")) {
            nen_extract_warnf(x, "input-unreadable", "%s: valueBoolean is no value of %s: %s not read",
                              path, rd->key, rd->key);
            return 2;
        }
        snprintf(rd->shown, sizeof rd->shown, "%s", b ? "true" : "false");
        return 1;
    }
    static const char *const unsupported[] = {"valueRatio", "valueSampledData", "valueTime",
                                              "valueDateTime", "valuePeriod"};
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        if (fhir_member(o, unsupported[i])) {
            nen_extract_warnf(x, "input-unreadable",
                              "%s: %s is not a value nenfhir reads for %s: %s not read", path,
                              unsupported[i], rd->key, rd->key);
            return 2;
        }
    return 0; /* no value: dataAbsentReason or a panel */
}
