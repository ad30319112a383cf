/*
 * nen_case_text.c - reads the key=value case language (nen_case_text.h).
 * Every value is checked: a number that is not a number, a word that is not
 * in the vocabulary, or a key nobody knows is an error naming the key.
 */
#include "nen_case_text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORD_MAX 256

/* A whole-string number with an optional unit suffix from units[] (each with
 * its factor). Returns 0 or -1. */
struct unit { const char *suffix; double factor; };

static int parse_number(const char *s, const struct unit *units, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno != 0 || !isfinite(v))
        return -1;
    if (*end == '\0') {
        *out = v;
        return 0;
    }
    for (; units && units->suffix; units++)
        if (strcmp(end, units->suffix) == 0) {
            *out = v * units->factor;
            return 0;
        }
    return -1;
}

static int set_num(struct nen_num *n, const char *key, const char *v, const struct unit *u,
                   char *err, unsigned errlen)
{
    double x;
    if (parse_number(v, u, &x) != 0) {
        snprintf(err, errlen, "%s: '%s' is not a number", key, v);
        return -1;
    }
    n->known = 1;
    n->value = x;
    return 0;
}

/* A word from a fixed list; *out gets its value. */
struct word { const char *w; int v; };

static int set_word(int *out, const struct word *words, const char *key, const char *v,
                    char *err, unsigned errlen)
{
    char list[WORD_MAX] = "";
    for (const struct word *w = words; w->w; w++) {
        if (strcmp(w->w, v) == 0) {
            *out = w->v;
            return 0;
        }
        if (strlen(list) + strlen(w->w) + 3 < sizeof list) {
            strcat(list, list[0] ? ", " : "");
            strcat(list, w->w);
        }
    }
    snprintf(err, errlen, "%s: '%s' is not one of %s", key, v, list);
    return -1;
}

static const struct word tri_words[] = {{"yes", NEN_TRI_YES}, {"no", NEN_TRI_NO}, {0, 0}};
static const struct word ihc_words[] = {
    {"pos", NEN_IHC_POSITIVE}, {"neg", NEN_IHC_NEGATIVE}, {0, 0}};
static const struct word specimen_words[] = {
    {"resection", NEN_SPECIMEN_RESECTION}, {"biopsy", NEN_SPECIMEN_BIOPSY}, {0, 0}};
static const struct word necrosis_words[] = {
    {"none", NEN_NECROSIS_NONE}, {"punctate", NEN_NECROSIS_PUNCTATE},
    {"extensive", NEN_NECROSIS_EXTENSIVE}, {"present", NEN_NECROSIS_PRESENT}, {0, 0}};
static const struct word diff_words[] = {
    {"well", NEN_DIFF_WELL}, {"small", NEN_DIFF_SMALL_CELL}, {"large", NEN_DIFF_LARGE_CELL},
    {"poor", NEN_DIFF_POOR}, {0, 0}};
static const struct word acid_words[] = {
    {"hypo", NEN_ACID_LOW}, {"hyper", NEN_ACID_HIGH}, {"normal", NEN_ACID_NORMAL}, {0, 0}};
static const struct word region_words[] = {
    {"body_fundus", NEN_GREGION_BODY_FUNDUS}, {"antrum", NEN_GREGION_ANTRUM},
    {"cardia", NEN_GREGION_CARDIA}, {0, 0}};
static const struct word margin_words[] = {
    {"r0", NEN_MARGIN_R0}, {"r1", NEN_MARGIN_R1}, {"r2", NEN_MARGIN_R2}, {0, 0}};
static const struct unit pct_units[] = {{"%", 1}, {0, 0}};
static const struct unit mm_units[] = {{"mm", 1}, {"cm", 10}, {0, 0}};

/* "a+b+c" of words known to parse(); sets bits. */
static int set_bits(uint64_t *bits, int (*parse)(const char *), const char *key, const char *v,
                    char *err, unsigned errlen)
{
    char buf[WORD_MAX];
    if (strlen(v) >= sizeof buf) {
        snprintf(err, errlen, "%s: value too long", key);
        return -1;
    }
    strcpy(buf, v);
    uint64_t acc = 0;
    for (char *save = NULL, *tok = strtok_r(buf, "+", &save); tok;
         tok = strtok_r(NULL, "+", &save)) {
        int e = parse(tok);
        if (e < 0) {
            snprintf(err, errlen, "%s: '%s' is not a known finding (see tests/vectors/README.md)",
                     key, tok);
            return -1;
        }
        acc |= 1ULL << e;
    }
    if (!acc) {
        snprintf(err, errlen, "%s: empty value", key);
        return -1;
    }
    *bits = acc;
    return 0;
}

static int set_mitoses(struct nen_case *c, const char *v, char *err, unsigned errlen)
{
    const char *slash = strchr(v, '/');
    char num[64];
    if (!slash || (size_t)(slash - v) >= sizeof num) {
        snprintf(err, errlen, "mitoses: '%s' needs a unit: N/2mm2 or N/10hpf", v);
        return -1;
    }
    memcpy(num, v, (size_t)(slash - v));
    num[slash - v] = '\0';
    enum nen_mitoses_unit unit;
    if (strcmp(slash + 1, "2mm2") == 0)
        unit = NEN_MIT_PER_2MM2;
    else if (strcmp(slash + 1, "10hpf") == 0)
        unit = NEN_MIT_PER_10HPF;
    else {
        snprintf(err, errlen, "mitoses: unit '%s' is not 2mm2 or 10hpf", slash + 1);
        return -1;
    }
    if (set_num(&c->mitoses, "mitoses", num, NULL, err, errlen) != 0)
        return -1;
    c->mitoses_unit = unit;
    return 0;
}

static int set_tnm(enum nen_tnm *out, char prefix, const char *key, const char *v, char *err,
                   unsigned errlen)
{
    int x = nen_tnm_parse(v);
    if (x < 0 || nen_tnm_name((enum nen_tnm)x)[0] != prefix) {
        snprintf(err, errlen, "%s: '%s' is not an AJCC %c category", key, v, prefix);
        return -1;
    }
    *out = (enum nen_tnm)x;
    return 0;
}

static int set_mets(struct nen_case *c, const char *v, char *err, unsigned errlen)
{
    if (strcmp(v, "none") == 0) {
        c->mets = NEN_METS_NONE;
        c->met_sites = 0;
        return 0;
    }
    uint64_t bits;
    if (set_bits(&bits, nen_met_parse, "mets", v, err, errlen) != 0)
        return -1;
    c->mets = NEN_METS_PRESENT;
    c->met_sites = (uint32_t)bits;
    return 0;
}

static int set_gastrin(struct nen_case *c, const char *v, char *err, unsigned errlen)
{
    if (strcmp(v, "high") == 0) {
        c->gastrin_status = NEN_GASTRIN_HIGH;
        return 0;
    }
    if (strcmp(v, "normal") == 0) {
        c->gastrin_status = NEN_GASTRIN_NORMAL;
        return 0;
    }
    return set_num(&c->gastrin, "gastrin", v, NULL, err, errlen);
}

/* Keys whose value is a plain number, a yes/no or an IHC result: data, by field offset. */
static const struct {
    const char *key;
    size_t off;
    const struct unit *units;
} num_keys[] = {
    {"ki67", offsetof(struct nen_case, ki67), pct_units},
    {"hpf_area", offsetof(struct nen_case, hpf_area_mm2), NULL},
    {"ne_pct", offsetof(struct nen_case, ne_pct), pct_units},
    {"non_ne_pct", offsetof(struct nen_case, non_ne_pct), pct_units},
    {"size", offsetof(struct nen_case, size_mm), mm_units},
    {"tumours", offsetof(struct nen_case, tumour_count), NULL},
    {"nodes_examined", offsetof(struct nen_case, nodes_examined), NULL},
    {"nodes_positive", offsetof(struct nen_case, nodes_positive), NULL},
    {"met_lesions", offsetof(struct nen_case, met_lesions), NULL},
    {"gastrin_uln", offsetof(struct nen_case, gastrin_uln), NULL},
    {"ph", offsetof(struct nen_case, gastric_ph), NULL},
};

static const struct {
    const char *key;
    size_t off;
    const struct word *words;
} word_keys[] = {
    {"mesenteric_mass", offsetof(struct nen_case, mesenteric_mass), tri_words},
    {"atrophic_gastritis", offsetof(struct nen_case, atrophic_gastritis), tri_words},
    {"antibodies", offsetof(struct nen_case, parietal_antibodies), tri_words},
    {"gastrinoma", offsetof(struct nen_case, gastrinoma), tri_words},
    {"sdhb_loss", offsetof(struct nen_case, sdhb_loss), tri_words},
    {"pit1", offsetof(struct nen_case, pit1), ihc_words},
    {"tpit", offsetof(struct nen_case, tpit), ihc_words},
    {"sf1", offsetof(struct nen_case, sf1), ihc_words},
    {"specimen", offsetof(struct nen_case, specimen), specimen_words},
    {"necrosis", offsetof(struct nen_case, necrosis), necrosis_words},
    {"diff", offsetof(struct nen_case, diff), diff_words},
    {"acid", offsetof(struct nen_case, acid), acid_words},
    {"region", offsetof(struct nen_case, gastric_region), region_words},
    {"margin", offsetof(struct nen_case, margin), margin_words},
    {"lvi", offsetof(struct nen_case, lvi), tri_words},
    {"pni", offsetof(struct nen_case, pni), tri_words},
};

/* word_keys writes an int into enum fields: gcc makes these enums int-sized. */
_Static_assert(sizeof(enum nen_tri) == sizeof(int) && sizeof(enum nen_ihc) == sizeof(int) &&
                   sizeof(enum nen_specimen) == sizeof(int) &&
                   sizeof(enum nen_necrosis) == sizeof(int) &&
                   sizeof(enum nen_diff) == sizeof(int) && sizeof(enum nen_acid) == sizeof(int) &&
                   sizeof(enum nen_gastric_region) == sizeof(int) &&
                   sizeof(enum nen_margin) == sizeof(int),
               "case enums must be int-sized for word_keys");

/* The keys with a value of their own shape. */
static int set_special(struct nen_case *c, const char *key, const char *v, char *err,
                       unsigned errlen)
{
    if (strcmp(key, "site") == 0) {
        int s = nen_site_parse(v);
        if (s < 0) {
            snprintf(err, errlen, "site: '%s' is not a known site (see tests/vectors/README.md)",
                     v);
            return -1;
        }
        c->site = (enum nen_site)s;
        return 0;
    }
    if (strcmp(key, "mitoses") == 0)
        return set_mitoses(c, v, err, errlen);
    if (strcmp(key, "non_ne_kind") == 0) {
        if (strlen(v) >= sizeof c->non_ne_kind) {
            snprintf(err, errlen, "non_ne_kind: longer than %zu characters",
                     sizeof c->non_ne_kind - 1);
            return -1;
        }
        strcpy(c->non_ne_kind, v);
        for (char *p = c->non_ne_kind; *p; p++)
            if (*p == '_')
                *p = ' ';
        return 0;
    }
    if (strcmp(key, "extent") == 0)
        return set_bits(&c->extent, nen_extent_parse, key, v, err, errlen);
    if (strcmp(key, "mets") == 0)
        return set_mets(c, v, err, errlen);
    if (strcmp(key, "pt") == 0)
        return set_tnm(&c->t_given, 'T', key, v, err, errlen);
    if (strcmp(key, "pn") == 0)
        return set_tnm(&c->n_given, 'N', key, v, err, errlen);
    if (strcmp(key, "pm") == 0)
        return set_tnm(&c->m_given, 'M', key, v, err, errlen);
    if (strcmp(key, "gastrin") == 0)
        return set_gastrin(c, v, err, errlen);
    snprintf(err, errlen, "'%s' is not a known input (see tests/vectors/README.md)", key);
    return -1;
}

int nen_case_set(struct nen_case *c, const char *key, const char *v, char *err, unsigned errlen)
{
    struct nen_case tmp = *c; /* edit a copy: the case stays unchanged on error */
    int rc = -2;
    for (size_t i = 0; rc == -2 && i < sizeof num_keys / sizeof num_keys[0]; i++)
        if (strcmp(key, num_keys[i].key) == 0)
            rc = set_num((struct nen_num *)((char *)&tmp + num_keys[i].off), key, v,
                         num_keys[i].units, err, errlen);
    for (size_t i = 0; rc == -2 && i < sizeof word_keys / sizeof word_keys[0]; i++)
        if (strcmp(key, word_keys[i].key) == 0) {
            int w;
            rc = set_word(&w, word_keys[i].words, key, v, err, errlen);
            if (rc == 0) /* enum fields are int-sized: asserted below the tables */
                memcpy((char *)&tmp + word_keys[i].off, &w, sizeof w);
        }
    if (rc == -2)
        rc = set_special(&tmp, key, v, err, errlen);
    if (rc == 0)
        *c = tmp;
    return rc;
}

int nen_case_key_known(const char *key)
{
    static const char *const special[] = {"site", "mitoses", "non_ne_kind", "extent", "mets",
                                          "pt", "pn", "pm", "gastrin"};
    for (size_t i = 0; i < sizeof num_keys / sizeof num_keys[0]; i++)
        if (strcmp(key, num_keys[i].key) == 0)
            return 1;
    for (size_t i = 0; i < sizeof word_keys / sizeof word_keys[0]; i++)
        if (strcmp(key, word_keys[i].key) == 0)
            return 1;
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        if (strcmp(key, special[i]) == 0)
            return 1;
    return 0;
}

int nen_case_parse(struct nen_case *c, const char *text, char *err, unsigned errlen)
{
    /* The language is printable ASCII: refusing anything else up front keeps
     * raw input bytes out of the messages below (they quote words). */
    for (const char *q = text; *q; q++) {
        unsigned char b = (unsigned char)*q;
        if (b >= 0x7F || (b < 0x20 && !isspace(b))) {
            snprintf(err, errlen, "byte 0x%02x at offset %zu: the case language is printable ASCII",
                     b, (size_t)(q - text));
            return -1;
        }
    }
    const char *p = text;
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        char word[WORD_MAX];
        size_t len = (size_t)(p - start);
        if (len >= sizeof word) {
            snprintf(err, errlen, "'%.20s...' is too long", start);
            return -1;
        }
        memcpy(word, start, len);
        word[len] = '\0';
        char *eq = strchr(word, '=');
        if (!eq || eq == word || eq[1] == '\0') {
            snprintf(err, errlen, "'%s' is not key=value", word);
            return -1;
        }
        *eq = '\0';
        if (nen_case_set(c, word, eq + 1, err, errlen) != 0)
            return -1;
    }
    return nen_case_check(c, err, errlen);
}

/* Numbers for nen_case_candidate: both ends and a few between. */
static const char *const candidate_numbers[] = {"0", "0.001", "0.01", "0.1", "0.5", "1", "2",
                                                "3", "5", "10", "20", "50", "100", "1000",
                                                "1000000"};
#define NCANDIDATE_NUMBERS (sizeof candidate_numbers / sizeof candidate_numbers[0])

/* The i-th word of a NULL-ended list, or NULL. */
static const char *nth_word(const struct word *words, unsigned i)
{
    for (; words->w; words++)
        if (i-- == 0)
            return words->w;
    return NULL;
}

/* The i-th name of (*name)(1..count-1) whose first letter is prefix (0: any). */
static const char *nth_name(const char *(*name)(int), int count, char prefix, unsigned i)
{
    for (int v = 1; v < count; v++) {
        const char *n = name(v);
        if (n && (!prefix || n[0] == prefix) && i-- == 0)
            return n;
    }
    return NULL;
}

static const char *site_name_int(int v) { return nen_site_name((enum nen_site)v); }
static const char *extent_name_int(int v) { return nen_extent_name((enum nen_extent)v); }
static const char *met_name_int(int v) { return nen_met_name((enum nen_met_site)v); }
static const char *tnm_name_int(int v) { return nen_tnm_name((enum nen_tnm)v); }

const char *nen_case_candidate(const char *key, unsigned i, char *buf, unsigned len)
{
    const char *v = NULL;
    for (size_t k = 0; k < sizeof word_keys / sizeof word_keys[0]; k++)
        if (strcmp(key, word_keys[k].key) == 0)
            v = nth_word(word_keys[k].words, i);
    if (strcmp(key, "site") == 0)
        v = nth_name(site_name_int, NEN_SITE__COUNT, 0, i);
    else if (strcmp(key, "extent") == 0)
        v = nth_name(extent_name_int, NEN_EXT__COUNT, 0, i);
    else if (strcmp(key, "mets") == 0)
        v = i == 0 ? "none" : nth_name(met_name_int, NEN_MET__COUNT, 0, i - 1);
    else if (strcmp(key, "pt") == 0 || strcmp(key, "pn") == 0 || strcmp(key, "pm") == 0)
        v = nth_name(tnm_name_int, NEN_TNM__COUNT, (char)toupper((unsigned char)key[1]), i);
    else if (strcmp(key, "gastrin") == 0)
        v = i == 0 ? "high" : i == 1 ? "normal" : NULL;
    else if (strcmp(key, "mitoses") == 0 && i < NCANDIDATE_NUMBERS) {
        snprintf(buf, len, "%s/2mm2", candidate_numbers[i]);
        return buf;
    }
    for (size_t k = 0; !v && k < sizeof num_keys / sizeof num_keys[0]; k++)
        if (strcmp(key, num_keys[k].key) == 0 && i < NCANDIDATE_NUMBERS)
            v = candidate_numbers[i];
    if (!v)
        return NULL;
    snprintf(buf, len, "%s", v);
    return buf;
}
