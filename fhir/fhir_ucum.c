/*
 * fhir_ucum.c - UCUM expressions: a recursive-descent parser of the grammar of
 * UCUM §§3-10 that evaluates as it goes into factor x base units ^ dimension.
 * The atom table, the deviations and the loose normalisation are explained in
 * fhir_ucum.h.
 */
#include "fhir_ucum.h"

#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 16       /* nested parentheses */
#define MAX_EXP 99         /* |exponent| of an atom and of each dimension */
#define MAX_NUMBER 1e15    /* a factor (§8) up to here is an exact double */
#define LOOSE_MAX 255      /* bytes of free text */

/* One unit atom: its value in base units and whether it takes a prefix
 * (§11; values from ucum-essence.xml 2.2, except the deviations). */
struct atom {
    const char *sym;
    int metric;
    double factor;
    signed char dim[FHIR_UCUM_DIMS];
};

static const struct atom atoms[] = {
    {"m", 1, 1, {[FHIR_UCUM_M] = 1}},                  /* §28 base units */
    {"g", 1, 1, {[FHIR_UCUM_G] = 1}},
    {"s", 1, 1, {[FHIR_UCUM_S] = 1}},
    {"K", 1, 1, {[FHIR_UCUM_K] = 1}},
    {"mol", 1, 1, {[FHIR_UCUM_MOL] = 1}},              /* §30, own dimension here */
    {"L", 1, 1e-3, {[FHIR_UCUM_M] = 3}},               /* §31: l = dm3 */
    {"l", 1, 1e-3, {[FHIR_UCUM_M] = 3}},
    {"U", 1, 1e-6 / 60, {[FHIR_UCUM_MOL] = 1, [FHIR_UCUM_S] = -1}}, /* §45: umol/min */
    {"10*", 0, 10, {0}},                               /* §29 dimensionless */
    {"10^", 0, 10, {0}},
    {"%", 0, 1e-2, {0}},
    {"[ppm]", 0, 1e-6, {0}},
    {"min", 0, 60, {[FHIR_UCUM_S] = 1}},               /* §31 time */
    {"h", 0, 3600, {[FHIR_UCUM_S] = 1}},
    {"d", 0, 86400, {[FHIR_UCUM_S] = 1}},
    {"wk", 0, 7 * 86400.0, {[FHIR_UCUM_S] = 1}},
    {"a", 0, 365.25 * 86400, {[FHIR_UCUM_S] = 1}},     /* a_j, Julian year */
    {"mo", 0, 365.25 * 86400 / 12, {[FHIR_UCUM_S] = 1}}, /* mo_j = a_j/12 */
    {"[HPF]", 0, 1, {[FHIR_UCUM_HPF] = 1}},            /* §45, own dimensions here */
    {"[LPF]", 0, 1, {[FHIR_UCUM_LPF] = 1}},
    {"[pH]", 0, 1, {[FHIR_UCUM_PH] = 1}},              /* §45 special unit */
};

static const struct { const char *sym; double factor; } prefixes[] = { /* §27 */
    {"da", 1e1}, /* the only two-letter prefix: tried before "d" (§4 ■4: longest) */
    {"Y", 1e24}, {"Z", 1e21}, {"E", 1e18}, {"P", 1e15}, {"T", 1e12}, {"G", 1e9},
    {"M", 1e6}, {"k", 1e3}, {"h", 1e2}, {"d", 1e-1}, {"c", 1e-2}, {"m", 1e-3},
    {"u", 1e-6}, {"n", 1e-9}, {"p", 1e-12}, {"f", 1e-15}, {"a", 1e-18},
    {"z", 1e-21}, {"y", 1e-24},
};

static const struct fhir_ucum one = {1, {0}};

struct parser {
    const char *start, *s;
    char *why;
    size_t whylen;
    int units;  /* components that are not annotations */
    int ph;     /* [pH] seen */
};

__attribute__((format(printf, 2, 3))) static int fail(struct parser *p, const char *fmt, ...)
{
    if (p->why && p->whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->why, p->whylen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_letter(int c) { return (unsigned)((c | 32) - 'a') < 26; }

/* §3 ■2: may c be part of a unit symbol (digits and '[' handled apart)? */
static int is_symbol_char(int c)
{
    return c >= 33 && c <= 126 && !is_digit(c) && !strchr("\"()+-./=[]{}", c);
}

static int unexpected(struct parser *p)
{
    unsigned char c = (unsigned char)*p->s;
    int at = (int)(p->s - p->start);
    if (c == ')')
        return fail(p, "unbalanced parenthesis at offset %d", at);
    if (c < 33 || c > 126)
        return fail(p, "character 0x%02X not allowed at offset %d", c, at);
    return fail(p, "unexpected '%c' at offset %d", c, at);
}

/* a = a * b^sign (sign 1 or -1), refusing factors and exponents out of range. */
static int combine(struct parser *p, struct fhir_ucum *a, const struct fhir_ucum *b, int sign)
{
    double f = sign > 0 ? a->factor * b->factor : a->factor / b->factor;
    if (!(f >= DBL_MIN && f <= DBL_MAX))
        return fail(p, "factor out of range");
    for (int i = 0; i < FHIR_UCUM_DIMS; i++) {
        int d = a->dim[i] + sign * b->dim[i];
        if (d > MAX_EXP || d < -MAX_EXP)
            return fail(p, "exponent out of range");
    }
    for (int i = 0; i < FHIR_UCUM_DIMS; i++)
        a->dim[i] = (signed char)(a->dim[i] + sign * b->dim[i]);
    a->factor = f;
    return 0;
}

static const struct atom *find_atom(const char *sym, size_t n)
{
    for (size_t i = 0; i < sizeof atoms / sizeof atoms[0]; i++)
        if (strlen(atoms[i].sym) == n && memcmp(atoms[i].sym, sym, n) == 0)
            return &atoms[i];
    return NULL;
}

/* The simple unit sym[0..n) (§4 ■4: the longest prefix whose remainder is a
 * metric atom, else an atom alone) into *u. */
static int simple_unit(struct parser *p, const char *sym, size_t n, struct fhir_ucum *u)
{
    int shown = n > 40 ? 40 : (int)n;
    const struct atom *a = NULL, *unprefixable = NULL;
    double factor = 1;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0] && !a; i++) {
        size_t pl = strlen(prefixes[i].sym);
        const struct atom *rest;
        if (pl >= n || memcmp(sym, prefixes[i].sym, pl) != 0 || !(rest = find_atom(sym + pl, n - pl)))
            continue;
        if (rest->metric)
            a = rest, factor = prefixes[i].factor;
        else
            unprefixable = rest;
    }
    if (!a && !(a = find_atom(sym, n)))
        return unprefixable ? fail(p, "unit '%s' takes no prefix ('%.*s')", unprefixable->sym, shown, sym)
                            : fail(p, "unknown unit '%.*s'", shown, sym);
    u->factor = factor * a->factor;
    memcpy(u->dim, a->dim, sizeof u->dim);
    p->ph |= a->dim[FHIR_UCUM_PH] != 0;
    return 0;
}

/* §9: sign? digits after a simple unit; 1 when there is none. */
static int exponent(struct parser *p, int *e)
{
    int sign = 1, v = 0;
    if (*p->s == '+' || *p->s == '-') {
        sign = *p->s++ == '-' ? -1 : 1;
        if (!is_digit(*p->s))
            return fail(p, "exponent sign without digits at offset %d", (int)(p->s - p->start));
    } else if (!is_digit(*p->s)) {
        *e = 1;
        return 0;
    }
    for (; is_digit(*p->s); p->s++)
        if ((v = v * 10 + (*p->s - '0')) > MAX_EXP)
            return fail(p, "exponent out of range");
    *e = sign * v;
    return 0;
}

/* §6: an annotation at p->s ('{'); it means 1. */
static int annotation(struct parser *p)
{
    const char *s = p->s + 1;
    for (; *s != '}'; s++) {
        if (!*s)
            return fail(p, "unterminated annotation at offset %d", (int)(p->s - p->start));
        if (*s == '{')
            return fail(p, "'{' inside an annotation at offset %d", (int)(s - p->start));
        if ((unsigned char)*s < 33 || (unsigned char)*s > 126) {
            p->s = s;
            return unexpected(p);
        }
    }
    p->s = s + 1;
    return 0;
}

static int term(struct parser *p, struct fhir_ucum *r, int depth, int op);

/* One component into *u. Returns 1 for a bare number (§8 factor), 0 for
 * anything else, -1 on error. */
static int component(struct parser *p, struct fhir_ucum *u, int depth)
{
    const char *s = p->s, *sym = p->s;
    *u = one;
    if (*s == '(') {
        if (depth >= MAX_DEPTH)
            return fail(p, "parentheses nested deeper than %d", MAX_DEPTH);
        p->s++;
        if (term(p, u, depth + 1, '.') < 0)
            return -1;
        if (*p->s != ')')
            return *p->s ? unexpected(p) : fail(p, "unbalanced parenthesis");
        p->s++;
        return 0;
    }
    if (*s == '{')
        return annotation(p);
    while (is_digit(*s))
        s++;
    const char *digits_end = s;
    while (is_symbol_char(*s) || *s == '[') {
        if (*s++ != '[')
            continue;
        for (; *s != ']'; s++)
            if ((unsigned char)*s < 33 || (unsigned char)*s > 126 || strchr("[{}", *s))
                return fail(p, "unterminated '[' at offset %d", (int)(sym - p->start));
        s++;
    }
    if (s == sym)
        return *s ? unexpected(p) : fail(p, "a unit is missing at offset %d", (int)(s - p->start));
    p->units++;
    p->s = s;
    if (s == digits_end) { /* §8: a positive integer */
        double v = 0;
        for (const char *d = sym; d < s; d++)
            if ((v = v * 10 + (*d - '0')) > MAX_NUMBER)
                return fail(p, "number out of range");
        if (v == 0)
            return fail(p, "0 is not a unit");
        if (*s == '{')
            return fail(p, "annotation after a number at offset %d (write N.{...})", (int)(s - p->start));
        u->factor = v;
        return 1;
    }
    struct fhir_ucum atom = {1, {0}}; /* set by simple_unit; initialised for -O3's flow analysis */
    int e = 1;
    if (simple_unit(p, sym, (size_t)(s - sym), &atom) < 0 || exponent(p, &e) < 0)
        return -1;
    for (int i = 0; i < (e < 0 ? -e : e); i++)
        if (combine(p, u, &atom, e < 0 ? -1 : 1) < 0)
            return -1;
    return *p->s == '{' ? annotation(p) : 0;
}

/* term = component (('.' | '/') component)*, left to right (§7 ■4); op is
 * the operator before the first component ('/' after a leading solidus). */
static int term(struct parser *p, struct fhir_ucum *r, int depth, int op)
{
    *r = one;
    for (;;) {
        struct fhir_ucum c, next;
        int kind = component(p, &c, depth);
        if (kind < 0)
            return -1;
        if (op == '/' && kind == 1 && *p->s == '.') { /* deviation: a/N.b = a/(N.b) */
            p->s++;
            if (component(p, &next, depth) < 0 || combine(p, &c, &next, 1) < 0)
                return -1;
        }
        if (combine(p, r, &c, op == '/' ? -1 : 1) < 0)
            return -1;
        if (*p->s != '.' && *p->s != '/')
            return 0;
        op = *p->s++;
    }
}

int fhir_ucum_parse(const char *expr, struct fhir_ucum *out, char *why, size_t whylen)
{
    struct parser p = {expr, expr, why, whylen, 0, 0};
    struct fhir_ucum r;
    if (!expr || !*expr)
        return fail(&p, "empty unit");
    int lead = *p.s == '/';
    p.s += lead;
    if (term(&p, &r, 0, lead ? '/' : '.') < 0)
        return -1;
    if (*p.s)
        return unexpected(&p);
    if (p.ph) { /* §22: a special unit takes part in no algebra */
        struct fhir_ucum ph = {1, {[FHIR_UCUM_PH] = 1}};
        if (p.units != 1 || memcmp(r.dim, ph.dim, sizeof r.dim) != 0 || r.factor != 1)
            return fail(&p, "[pH] must stand alone");
    }
    *out = r;
    return 0;
}

int fhir_ucum_parse_loose(const char *text, struct fhir_ucum *out, char *why, size_t whylen)
{
    char buf[2 * LOOSE_MAX + 8];
    size_t n = 0;
    int bracket = 0, brace = 0;
    if (text && strlen(text) > LOOSE_MAX) {
        if (why && whylen)
            snprintf(why, whylen, "unit text longer than %d bytes", LOOSE_MAX);
        return -1;
    }
    for (const unsigned char *s = (const unsigned char *)text; s && *s;) {
        const unsigned char *at = s;
        char one_char[2] = {(char)*s++, 0};
        const char *add = one_char;
        if (*at == ' ' || *at == '\t')
            continue;
        if (at[0] == 0xC2 && (at[1] == 0xB2 || at[1] == 0xB3))   /* ² ³ */
            add = at[1] == 0xB2 ? "2" : "3", s = at + 2;
        else if ((at[0] == 0xC2 && at[1] == 0xB5) || (at[0] == 0xCE && at[1] == 0xBC)) /* µ μ */
            add = "u", s = at + 2;
        else if (!bracket && !brace && (at == (const unsigned char *)text || !is_letter(at[-1])) &&
                 (!strncmp((const char *)at, "HPF", 3) || !strncmp((const char *)at, "hpf", 3) ||
                  !strncmp((const char *)at, "LPF", 3) || !strncmp((const char *)at, "lpf", 3)) &&
                 !is_letter(at[3]))
            add = (*at | 32) == 'h' ? "[HPF]" : "[LPF]", s = at + 3;
        if (!bracket && !brace && n > 0 && is_digit(buf[n - 1]) &&
            (is_letter(*add) || *add == '[' || *add == '{'))
            buf[n++] = '.';
        for (; *add; add++) {
            if (brace || bracket)
                brace = brace && *add != '}', bracket = bracket && *add != ']';
            else
                brace = *add == '{', bracket = *add == '[';
            buf[n++] = *add;
        }
    }
    buf[n] = 0;
    return fhir_ucum_parse(buf, out, why, whylen);
}

int fhir_ucum_commensurable(const struct fhir_ucum *a, const struct fhir_ucum *b)
{
    return memcmp(a->dim, b->dim, sizeof a->dim) == 0;
}

double fhir_ucum_convert_factor(const struct fhir_ucum *a, const struct fhir_ucum *b)
{
    return a->factor / b->factor;
}
