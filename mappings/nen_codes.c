/*
 * nen_codes.c - loads and looks up the code tables (nen_codes.h). The table
 * owns its entries (growable arrays of fixed-size records); lookups borrow.
 */
#include "nen_codes.h"

#include "nen_case_text.h"
#include "fhir_strings.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The shipped tables, generated from mappings/codes/ (CMakeLists.txt lists
 * them in load order); {0, 0} ends the array. */
struct nen_embedded {
    const char *name;
    const char *text;
};
extern const struct nen_embedded nen_default_maps[];

#define ALIAS_LEN 24

struct alias {
    char name[ALIAS_LEN];
    char uri[NEN_CODE_SYSTEM_LEN];
};

/* A growable array of fixed-size records. */
struct vec {
    void *items;
    unsigned n, cap;
    size_t size;
};

struct nen_codes {
    struct vec aliases, inputs, values, words, units, methods;
    struct vec results; /* `result` lines, in load order */
};

static void *vec_slot(struct vec *v)
{
    if (v->n == v->cap) {
        unsigned cap = v->cap ? v->cap * 2 : 32;
        void *p = realloc(v->items, cap * v->size);
        if (!p)
            return NULL;
        v->items = p;
        v->cap = cap;
    }
    return (char *)v->items + (size_t)v->n++ * v->size;
}

static void *vec_at(const struct vec *v, unsigned i)
{
    return (char *)v->items + (size_t)i * v->size;
}

struct nen_codes *nen_codes_new(void)
{
    struct nen_codes *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->aliases.size = sizeof(struct alias);
    t->inputs.size = t->values.size = t->methods.size = sizeof(struct nen_code);
    t->results.size = sizeof(struct nen_code);
    t->words.size = NEN_CODE_SYSTEM_LEN;
    t->units.size = sizeof(struct nen_code_unit);
    return t;
}

void nen_codes_free(struct nen_codes *t)
{
    if (!t)
        return;
    free(t->aliases.items);
    free(t->inputs.items);
    free(t->values.items);
    free(t->words.items);
    free(t->units.items);
    free(t->methods.items);
    free(t->results.items);
    free(t);
}

/* ---------- loading ---------- */

struct line_ctx {
    const char *name;
    int line;
    char *err;
    unsigned errlen;
};

static int fail(const struct line_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(const struct line_ctx *x, const char *fmt, ...)
{
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(x->err, x->errlen, "%s:%d: %s", x->name, x->line, what);
    return -1;
}

static int copy(char *dst, size_t len, const char *src)
{
    if (strlen(src) >= len)
        return -1;
    strcpy(dst, src);
    return 0;
}

static const char *alias_uri(const struct nen_codes *t, const char *name)
{
    for (unsigned i = t->aliases.n; i-- > 0;) {
        const struct alias *a = vec_at(&t->aliases, i);
        if (strcmp(a->name, name) == 0)
            return a->uri;
    }
    return NULL;
}

/* "ALIAS|code" or "uri|code" into e->system and e->code. */
static int parse_coding(const struct nen_codes *t, const struct line_ctx *x, const char *s,
                        struct nen_code *e)
{
    const char *bar = strchr(s, '|');
    if (!bar || bar == s || bar[1] == '\0')
        return fail(x, "'%s' is not SYSTEM|CODE", s);
    char sys[NEN_CODE_SYSTEM_LEN];
    if ((size_t)(bar - s) >= sizeof sys)
        return fail(x, "system of '%s' is too long", s);
    memcpy(sys, s, (size_t)(bar - s));
    sys[bar - s] = '\0';
    const char *uri = alias_uri(t, sys);
    if (!uri && !strchr(sys, ':'))
        return fail(x, "unknown system alias '%s' (define it with a `system` line)", sys);
    if (copy(e->system, sizeof e->system, uri ? uri : sys) != 0 ||
        copy(e->code, sizeof e->code, bar + 1) != 0)
        return fail(x, "'%s' is too long", s);
    return 0;
}

/* Append e to v, or overwrite the entry with the same identity (same use,
 * system, code and, when by_key, key). */
static int put_code(struct vec *v, const struct nen_code *e, int by_key)
{
    for (unsigned i = 0; i < v->n; i++) {
        struct nen_code *o = vec_at(v, i);
        if (o->use == e->use && strcmp(o->system, e->system) == 0 &&
            strcmp(o->code, e->code) == 0 && (!by_key || strcmp(o->key, e->key) == 0)) {
            *o = *e;
            return 0;
        }
    }
    struct nen_code *slot = vec_slot(v);
    if (!slot)
        return -1;
    *slot = *e;
    return 0;
}

static int oom(const struct line_ctx *x)
{
    return fail(x, "out of memory");
}

static int load_system(struct nen_codes *t, const struct line_ctx *x, char **f, int nf)
{
    if (nf != 3)
        return fail(x, "`system` needs ALIAS URI");
    if (!strchr(f[2], ':'))
        return fail(x, "'%s' is not an absolute URI", f[2]);
    struct alias a;
    if (copy(a.name, sizeof a.name, f[1]) != 0 || copy(a.uri, sizeof a.uri, f[2]) != 0)
        return fail(x, "alias or URI too long");
    struct alias *slot = vec_slot(&t->aliases);
    if (!slot)
        return oom(x);
    *slot = a;
    return 0;
}

static int load_input(struct nen_codes *t, const struct line_ctx *x, char **f, int nf)
{
    struct nen_code e = {0};
    if (nf != 3)
        return fail(x, "`input` needs SYSTEM|CODE KEY (or - for a panel code)");
    if (parse_coding(t, x, f[1], &e) != 0)
        return -1;
    if (strcmp(f[2], "-") != 0 && !nen_case_key_known(f[2]))
        return fail(x, "'%s' is not an input key (see tests/vectors/README.md)", f[2]);
    if (copy(e.key, sizeof e.key, f[2]) != 0)
        return fail(x, "key too long");
    e.use = NEN_USE_INPUT;
    return put_code(&t->inputs, &e, 0) == 0 ? 0 : oom(x);
}

/* KEY=WORD into e (checked against the input language), or "-". */
static int parse_pair(const struct line_ctx *x, char *s, struct nen_code *e)
{
    if (strcmp(s, "-") == 0) {
        strcpy(e->key, "-");
        e->word[0] = '\0';
        return 0;
    }
    char *eq = strchr(s, '=');
    if (!eq || eq == s || eq[1] == '\0')
        return fail(x, "'%s' is not KEY=WORD", s);
    *eq = '\0';
    if (copy(e->key, sizeof e->key, s) != 0 || copy(e->word, sizeof e->word, eq + 1) != 0)
        return fail(x, "'%s' too long", s);
    struct nen_case scratch;
    char msg[160];
    nen_case_init(&scratch);
    if (nen_case_set(&scratch, e->key, e->word, msg, sizeof msg) != 0)
        return fail(x, "%s", msg);
    return 0;
}

/* Drop every entry of use for system|code: a later line replaces them all. */
static void drop_code(struct vec *v, enum nen_code_use use, const char *system, const char *code)
{
    unsigned k = 0;
    for (unsigned i = 0; i < v->n; i++) {
        struct nen_code *o = vec_at(v, i);
        if (o->use == use && strcmp(o->system, system) == 0 && strcmp(o->code, code) == 0)
            continue;
        if (k != i)
            *(struct nen_code *)vec_at(v, k) = *o;
        k++;
    }
    v->n = k;
}

/* Append the entries of one line: e with each KEY=WORD of f[first..nf), or
 * once with key "-" when there is none. */
static int add_pairs(struct nen_codes *t, const struct line_ctx *x, struct nen_code *e, char **f,
                     int first, int nf)
{
    drop_code(&t->values, e->use, e->system, e->code);
    if (first == nf) {
        strcpy(e->key, "-");
        struct nen_code *slot = vec_slot(&t->values);
        if (!slot)
            return oom(x);
        *slot = *e;
        return 0;
    }
    for (int i = first; i < nf; i++) {
        if (parse_pair(x, f[i], e) != 0)
            return -1;
        struct nen_code *slot = vec_slot(&t->values);
        if (!slot)
            return oom(x);
        *slot = *e;
    }
    return 0;
}

/* value SYSTEM|CODE KEY=WORD: an answer, read only under a question of KEY. */
static int load_value(struct nen_codes *t, const struct line_ctx *x, char **f, int nf)
{
    struct nen_code e = {0};
    if (nf != 3 || strcmp(f[2], "-") == 0)
        return fail(x, "`value` needs SYSTEM|CODE KEY=WORD (an answer to the question of KEY)");
    if (parse_coding(t, x, f[1], &e) != 0 || parse_pair(x, f[2], &e) != 0)
        return -1;
    e.use = NEN_USE_ANSWER;
    return put_code(&t->values, &e, 1) == 0 ? 0 : oom(x);
}

static const char *const role_names[] = {"", "primary", "secondary", "finding"};

/* condition SYSTEM|CODE ROLE [KEY=WORD ...] */
static int load_condition(struct nen_codes *t, const struct line_ctx *x, char **f, int nf)
{
    struct nen_code e = {0};
    if (nf < 3)
        return fail(x, "`condition` needs SYSTEM|CODE ROLE [KEY=WORD ...]");
    if (parse_coding(t, x, f[1], &e) != 0)
        return -1;
    for (int r = NEN_ROLE_PRIMARY; r <= NEN_ROLE_FINDING; r++)
        if (strcmp(f[2], role_names[r]) == 0)
            e.role = (enum nen_condition_role)r;
    if (e.role == NEN_ROLE_UNKNOWN)
        return fail(x, "'%s' is not a role (primary, secondary, finding)", f[2]);
    e.use = NEN_USE_CONDITION;
    return add_pairs(t, x, &e, f, 3, nf);
}

/* body SYSTEM|CODE site=WORD [mets=WORD], specimen SYSTEM|CODE specimen=WORD:
 * each KEY restricted to what the use can mean. */
static int load_coded(struct nen_codes *t, const struct line_ctx *x, char **f, int nf,
                      enum nen_code_use use, const char *keys)
{
    struct nen_code e = {0};
    if (nf < 3)
        return fail(x, "`%s` needs SYSTEM|CODE KEY=WORD ... (or -)", f[0]);
    if (parse_coding(t, x, f[1], &e) != 0)
        return -1;
    for (int i = 2; i < nf; i++) {
        size_t klen = strcspn(f[i], "=");
        char key[NEN_CODE_KEY_LEN + 2];
        snprintf(key, sizeof key, " %.*s ", (int)(klen < NEN_CODE_KEY_LEN ? klen : 0), f[i]);
        if (strcmp(f[i], "-") != 0 && !strstr(keys, key))
            return fail(x, "`%s` takes KEY=WORD with KEY one of:%s; not '%s'", f[0], keys, f[i]);
    }
    e.use = use;
    return add_pairs(t, x, &e, f, strcmp(f[2], "-") == 0 ? nf : 2, nf);
}

static int load_body(struct nen_codes *t, const struct line_ctx *x, char **f, int nf)
{
    return load_coded(t, x, f, nf, NEN_USE_BODY, " site mets ");
}

/* specimen SYSTEM|CODE specimen=WORD | scope=patient | -: scope=patient marks
 * a body-fluid specimen type (serum, blood) whose results belong to every
 * case of the patient (nen_cases.h); it is no input of the case language. */
static int load_specimen(struct nen_codes *t, const struct line_ctx *x, char **f, int nf)
{
    if (nf == 3 && strcmp(f[2], "scope=patient") == 0) {
        struct nen_code e = {0};
        if (parse_coding(t, x, f[1], &e) != 0)
            return -1;
        e.use = NEN_USE_SPECIMEN;
        drop_code(&t->values, e.use, e.system, e.code);
        snprintf(e.key, sizeof e.key, "scope");
        snprintf(e.word, sizeof e.word, "patient");
        struct nen_code *slot = vec_slot(&t->values);
        if (!slot)
            return oom(x);
        *slot = e;
        return 0;
    }
    return load_coded(t, x, f, nf, NEN_USE_SPECIMEN, " specimen ");
}

static int load_words(struct nen_codes *t, const struct line_ctx *x, char **f, int nf)
{
    if (nf != 2)
        return fail(x, "`words` needs SYSTEM");
    const char *uri = alias_uri(t, f[1]);
    if (!uri && !strchr(f[1], ':'))
        return fail(x, "unknown system alias '%s'", f[1]);
    char *slot = vec_slot(&t->words);
    if (!slot)
        return oom(x);
    if (copy(slot, NEN_CODE_SYSTEM_LEN, uri ? uri : f[1]) != 0) {
        t->words.n--;
        return fail(x, "system too long");
    }
    return 0;
}

static int load_unit(struct nen_codes *t, const struct line_ctx *x, char **f, int nf)
{
    struct nen_code_unit u = {0};
    if (nf != 4 && nf != 5)
        return fail(x, "`unit` needs KEY UCUM FACTOR [SUFFIX]");
    if (!nen_case_key_known(f[1]) || copy(u.key, sizeof u.key, f[1]) != 0)
        return fail(x, "'%s' is not an input key", f[1]);
    char *end;
    errno = 0;
    u.factor = strtod(f[3], &end);
    if (end == f[3] || *end || errno || !isfinite(u.factor) || u.factor <= 0)
        return fail(x, "factor '%s' is not a positive number", f[3]);
    if (copy(u.ucum, sizeof u.ucum, f[2]) != 0 ||
        (nf == 5 && copy(u.suffix, sizeof u.suffix, f[4]) != 0))
        return fail(x, "unit or suffix too long");
    char why[120];
    if (fhir_ucum_parse(u.ucum, &u.parsed, why, sizeof why) != 0)
        return fail(x, "'%s' is not a UCUM unit: %s", u.ucum, why);
    struct nen_case scratch; /* the suffix must make a value the input accepts */
    char probe[64], msg[160];
    nen_case_init(&scratch);
    snprintf(probe, sizeof probe, "1%s", u.suffix);
    if (nen_case_set(&scratch, u.key, probe, msg, sizeof msg) != 0)
        return fail(x, "suffix does not fit the input: %s", msg);
    for (unsigned i = 0; i < t->units.n; i++) { /* one entry per key and dimension */
        struct nen_code_unit *o = vec_at(&t->units, i);
        if (strcmp(o->key, u.key) == 0 && fhir_ucum_commensurable(&o->parsed, &u.parsed)) {
            *o = u;
            return 0;
        }
    }
    struct nen_code_unit *slot = vec_slot(&t->units);
    if (!slot)
        return oom(x);
    *slot = u;
    return 0;
}

static int load_method(struct nen_codes *t, const struct line_ctx *x, char **f, int nf)
{
    struct nen_code e = {0};
    if (nf != 3 || strcmp(f[2], "hotspot") != 0)
        return fail(x, "`method` needs SYSTEM|CODE hotspot");
    if (parse_coding(t, x, f[1], &e) != 0)
        return -1;
    strcpy(e.key, "hotspot");
    e.use = NEN_USE_METHOD;
    return put_code(&t->methods, &e, 0) == 0 ? 0 : oom(x);
}

static int load_result(struct nen_codes *t, const struct line_ctx *x, char **f, int nf);

static const struct {
    const char *name;
    int (*load)(struct nen_codes *, const struct line_ctx *, char **, int);
} directives[] = {
    {"system", load_system}, {"input", load_input},         {"value", load_value},
    {"condition", load_condition}, {"body", load_body},     {"specimen", load_specimen},
    {"words", load_words},   {"unit", load_unit},           {"method", load_method},
    {"result", load_result},
};

#define MAX_FIELDS 8

static int load_line(struct nen_codes *t, const struct line_ctx *x, char *line)
{
    for (char *p = line; *p; p++) /* '#' at line start or after a blank: UCUM has {#} */
        if (*p == '#' && (p == line || *(p - 1) == ' ' || *(p - 1) == '\t')) {
            *p = '\0';
            break;
        }
    char *f[MAX_FIELDS + 1];
    int nf = 0;
    for (char *save = NULL, *tok = strtok_r(line, " \t\r", &save); tok;
         tok = strtok_r(NULL, " \t\r", &save)) {
        if (nf == MAX_FIELDS + 1)
            return fail(x, "too many fields");
        f[nf++] = tok;
    }
    if (nf == 0)
        return 0;
    for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++)
        if (strcmp(f[0], directives[i].name) == 0)
            return directives[i].load(t, x, f, nf);
    return fail(x, "unknown directive '%s' (system, input, value, condition, body, specimen, "
                "words, unit, method, result)", f[0]);
}

int nen_codes_load(struct nen_codes *t, const char *text, const char *name, char *err,
                   unsigned errlen)
{
    struct line_ctx x = {name, 0, err, errlen};
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[512];
        x.line++;
        if (len >= sizeof line)
            return fail(&x, "line longer than 511 characters");
        memcpy(line, p, len);
        line[len] = '\0';
        char why[FHIR_WHY_LEN]; /* codes reach reports and URLs: UTF-8, no control bytes */
        if (fhir_text_check(line, len, why, sizeof why) != 0)
            return fail(&x, "%s", why);
        if (load_line(t, &x, line) != 0)
            return -1;
        p += len + (nl ? 1 : 0);
    }
    return 0;
}

int nen_codes_load_default(struct nen_codes *t, char *err, unsigned errlen)
{
    for (const struct nen_embedded *m = nen_default_maps; m->name; m++)
        if (nen_codes_load(t, m->text, m->name, err, errlen) != 0)
            return -1;
    return 0;
}

/* ---------- lookups ---------- */

static const struct nen_code *find(const struct vec *v, const char *system, const char *code)
{
    for (unsigned i = 0; i < v->n; i++) {
        const struct nen_code *e = vec_at(v, i);
        if (strcmp(e->system, system) == 0 && strcmp(e->code, code) == 0)
            return e;
    }
    return NULL;
}

const char *nen_codes_input(const struct nen_codes *t, const char *system, const char *code)
{
    const struct nen_code *e = find(&t->inputs, system, code);
    return e ? e->key : NULL;
}

const struct nen_code *nen_codes_answer(const struct nen_codes *t, const char *system,
                                        const char *code, const char *key)
{
    for (unsigned i = t->values.n; i-- > 0;) { /* the later line wins */
        const struct nen_code *e = vec_at(&t->values, i);
        if ((e->use == NEN_USE_ANSWER || e->use == NEN_USE_BODY) && strcmp(e->key, key) == 0 &&
            strcmp(e->system, system) == 0 && strcmp(e->code, code) == 0)
            return e;
    }
    return NULL;
}

const struct nen_code *nen_codes_coded(const struct nen_codes *t, enum nen_code_use use,
                                       const char *system, const char *code, unsigned i)
{
    for (unsigned k = 0; k < t->values.n; k++) {
        const struct nen_code *e = vec_at(&t->values, k);
        if (e->use == use && strcmp(e->system, system) == 0 && strcmp(e->code, code) == 0 &&
            i-- == 0)
            return e;
    }
    return NULL;
}

int nen_codes_words_system(const struct nen_codes *t, const char *system)
{
    for (unsigned i = 0; i < t->words.n; i++)
        if (strcmp(vec_at(&t->words, i), system) == 0)
            return 1;
    return 0;
}

const struct nen_code_unit *nen_codes_unit(const struct nen_codes *t, const char *key,
                                           const struct fhir_ucum *reported, double *convert)
{
    for (unsigned i = 0; i < t->units.n; i++) {
        const struct nen_code_unit *u = vec_at(&t->units, i);
        if (strcmp(u->key, key) == 0 && fhir_ucum_commensurable(reported, &u->parsed)) {
            *convert = fhir_ucum_convert_factor(reported, &u->parsed);
            return u;
        }
    }
    return NULL;
}

int nen_codes_hotspot(const struct nen_codes *t, const char *system, const char *code)
{
    return find(&t->methods, system, code) != NULL;
}

unsigned nen_codes_count(const struct nen_codes *t)
{
    return t->inputs.n + t->values.n + t->words.n + t->units.n + t->methods.n;
}

const struct nen_code *nen_codes_input_at(const struct nen_codes *t, unsigned i)
{
    return i < t->inputs.n ? vec_at(&t->inputs, i) : NULL;
}

const struct nen_code *nen_codes_condition_at(const struct nen_codes *t, unsigned i)
{
    for (unsigned k = 0; k < t->values.n; k++) {
        const struct nen_code *e = vec_at(&t->values, k);
        if (e->use == NEN_USE_CONDITION && i-- == 0)
            return e;
    }
    return NULL;
}

const struct nen_code *nen_codes_value_at(const struct nen_codes *t, unsigned i)
{
    return i < t->values.n ? vec_at(&t->values, i) : NULL;
}

const struct nen_code_unit *nen_codes_unit_at(const struct nen_codes *t, unsigned i)
{
    return i < t->units.n ? vec_at(&t->units, i) : NULL;
}

/* ---------- result: the standard codes nenfhir writes (nen_codes.h) ---------- */

static const char *const result_fields[] = {"class", "grade", "type", "t", "n", "m", "stage", NULL};

static const char *word_of(const char *const *list, const char *w)
{
    for (; *list; list++)
        if (strcmp(*list, w) == 0)
            return *list;
    return NULL;
}

/* CLASS or CLASS:GRADE, made canonical into out. */
static int result_class(const struct line_ctx *x, const char *v, char *out, size_t len)
{
    char cls[NEN_CODE_WORD_LEN];
    const char *colon = strchr(v, ':');
    size_t n = colon ? (size_t)(colon - v) : strlen(v);
    if (n >= sizeof cls)
        return fail(x, "'%s' is too long", v);
    memcpy(cls, v, n);
    cls[n] = '\0';
    int k = nen_class_parse(cls), g = colon ? nen_grade_parse(colon + 1) : 0;
    if (k <= 0 || g < 0 || (colon && g == 0))
        return fail(x, "'%s' is not CLASS or CLASS:GRADE (words of tests/vectors/README.md)", v);
    if (colon)
        snprintf(out, len, "%s:%s", nen_class_name((enum nen_class)k), nen_grade_name((enum nen_grade)g));
    else
        snprintf(out, len, "%s", nen_class_name((enum nen_class)k));
    return 0;
}

/* A T, N or M category word for kind "t", "n" or "m"; NULL otherwise. */
static const char *result_tnm(const char *kind, const char *v)
{
    int k = nen_tnm_parse(v);
    const char *name = k > 0 ? nen_tnm_name((enum nen_tnm)k) : NULL;
    return name && name[0] == toupper((unsigned char)kind[0]) ? name : NULL;
}

/* The canonical word of a determinate value of kind, or NULL. */
static const char *result_word(const char *kind, const char *v)
{
    int k;
    if (strcmp(kind, "observation") == 0 || strcmp(kind, "method") == 0)
        return word_of(result_fields, v);
    if (strcmp(kind, "report") == 0)
        return strcmp(v, "code") == 0 ? "code" : strcmp(v, "category") == 0 ? "category" : NULL;
    if (strcmp(kind, "grade") == 0)
        return (k = nen_grade_parse(v)) > 0 ? nen_grade_name((enum nen_grade)k) : NULL;
    if (strcmp(kind, "type") == 0)
        return (k = nen_gtype_parse(v)) > 0 && k != NEN_GTYPE_INDETERMINATE
                   ? nen_gtype_name((enum nen_gtype)k) : NULL;
    if (strcmp(kind, "stage") == 0)
        return (k = nen_stage_parse(v)) >= NEN_STAGE_OCCULT ? nen_stage_name((enum nen_stage)k)
                                                              : NULL;
    if (strcmp(kind, "site") == 0)
        return (k = nen_site_parse(v)) > 0 ? nen_site_name((enum nen_site)k) : NULL;
    return result_tnm(kind, v);
}

static int result_value(const struct line_ctx *x, const char *kind, const char *v, char *out,
                        size_t len)
{
    static const char *const kinds[] = {"observation", "method", "report", "class", "grade",
                                        "type", "t", "n", "m", "stage", "site", NULL};
    if (!word_of(kinds, kind))
        return fail(x, "'%s' is not a result kind (observation, method, report, class, grade, "
                    "type, t, n, m, stage, site)", kind);
    if (strcmp(kind, "class") == 0)
        return result_class(x, v, out, len);
    const char *w = result_word(kind, v);
    if (!w)
        return fail(x, "'%s' is not a determinate %s value", v, kind);
    snprintf(out, len, "%s", w);
    return 0;
}

/* result KIND VALUE SYSTEM|CODE: replaces the coding of the same kind, value
 * and system in place; CODE "-" removes it. */
static int load_result(struct nen_codes *t, const struct line_ctx *x, char **f, int nf)
{
    struct nen_code e = {0};
    if (nf != 4)
        return fail(x, "`result` needs KIND VALUE SYSTEM|CODE (CODE - removes it)");
    if (copy(e.key, sizeof e.key, f[1]) != 0)
        return fail(x, "kind '%s' too long", f[1]);
    if (result_value(x, f[1], f[2], e.word, sizeof e.word) != 0 || parse_coding(t, x, f[3], &e) != 0)
        return -1;
    e.use = NEN_USE_RESULT;
    int drop = strcmp(e.code, "-") == 0;
    struct vec *v = &t->results;
    for (unsigned i = 0; i < v->n; i++) {
        struct nen_code *o = vec_at(v, i);
        if (strcmp(o->key, e.key) != 0 || strcmp(o->word, e.word) != 0 ||
            strcmp(o->system, e.system) != 0)
            continue;
        if (!drop) {
            *o = e;
            return 0;
        }
        memmove(o, (char *)o + v->size, (size_t)(v->n - i - 1) * v->size);
        v->n--;
        return 0;
    }
    if (drop)
        return 0;
    struct nen_code *slot = vec_slot(v);
    if (!slot)
        return oom(x);
    *slot = e;
    return 0;
}

const struct nen_code *nen_codes_result(const struct nen_codes *t, const char *kind,
                                        const char *value, unsigned i)
{
    for (unsigned k = 0; k < t->results.n; k++) {
        const struct nen_code *e = vec_at(&t->results, k);
        if (strcmp(e->key, kind) == 0 && strcmp(e->word, value) == 0 && i-- == 0)
            return e;
    }
    return NULL;
}

const struct nen_code *nen_codes_result_at(const struct nen_codes *t, unsigned i)
{
    return i < t->results.n ? vec_at(&t->results, i) : NULL;
}
