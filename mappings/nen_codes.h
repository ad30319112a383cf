/*
 * nen_codes.h - the code tables that say which FHIR codes carry which case
 * input: data files in mappings/codes/ (format: the header of default.map and
 * README "Code tables"). default.map is compiled into the program; a hospital
 * loads its own file after it, and a later line for the same code replaces
 * the earlier one. Every line is checked when loaded: an unknown input key or
 * a word the input language does not know is an error naming file and line.
 */
#ifndef NEN_CODES_H
#define NEN_CODES_H

#include "fhir_ucum.h"

#define NEN_CODE_SYSTEM_LEN 160
#define NEN_CODE_CODE_LEN 64
#define NEN_CODE_KEY_LEN 24
#define NEN_CODE_WORD_LEN 48

/* Where a coded entry may be read (the directive that made it). A code counts
 * only where its line says: an answer only under a question with its key, a
 * Condition code only in Condition.code, and so on (no value without its
 * question). */
enum nen_code_use {
    NEN_USE_INPUT = 0,  /* input: Observation.code / component.code (key, or "-": a panel) */
    NEN_USE_ANSWER,     /* value: Observation.value[x] under a question with this key */
    NEN_USE_CONDITION,  /* condition: Condition.code (and mCODE's histology extension) */
    NEN_USE_BODY,       /* body: a body structure or topography (bodySite, site answers) */
    NEN_USE_SPECIMEN,   /* specimen: Specimen.type / collection.method / procedure */
    NEN_USE_METHOD,     /* method: Observation.method marking a hotspot count */
    NEN_USE_RESULT      /* result: a standard code nenfhir writes for one of its results */
};

/* What a Condition is, by its code (condition lines) or by mCODE's profile. */
enum nen_condition_role {
    NEN_ROLE_UNKNOWN = 0,
    NEN_ROLE_PRIMARY,   /* the primary tumour: its bodySite is the primary site */
    NEN_ROLE_SECONDARY, /* a metastasis: its bodySite is where the metastasis is */
    NEN_ROLE_FINDING    /* a work-up finding (atrophic gastritis, MEN1 ...): bodySite not read */
};

/* One line's meaning: use, SYSTEM|CODE, KEY=WORD (key "-" when the code is
 * known but carries no input) and, for conditions, the role. A line with
 * several KEY=WORD pairs gives one entry per pair. */
struct nen_code {
    char system[NEN_CODE_SYSTEM_LEN];
    char code[NEN_CODE_CODE_LEN];
    char key[NEN_CODE_KEY_LEN];
    char word[NEN_CODE_WORD_LEN];
    enum nen_code_use use;
    enum nen_condition_role role;
};

/* unit KEY UCUM FACTOR [SUFFIX]: a value reported in any unit of the same
 * UCUM dimension as UCUM is converted into UCUM, times FACTOR, then SUFFIX is
 * appended (fhir_ucum.h does the arithmetic; no list of spellings). */
struct nen_code_unit {
    char key[NEN_CODE_KEY_LEN];
    char ucum[NEN_CODE_CODE_LEN];
    struct fhir_ucum parsed;
    double factor;
    char suffix[16];
};

struct nen_codes; /* opaque */

/* An empty table; NULL when out of memory. Free with nen_codes_free. */
struct nen_codes *nen_codes_new(void);
void nen_codes_free(struct nen_codes *t);

/* Add the lines of text (a whole file; name is used in messages). Returns 0,
 * or -1 with err = "name:LINE: problem". Lines before the bad one stay loaded;
 * callers treat -1 as fatal. */
int nen_codes_load(struct nen_codes *t, const char *text, const char *name, char *err,
                   unsigned errlen);

/* Load the shipped tables, compiled in: mappings/codes/default.map, then the
 * other shipped files (tnm.map, sites.map, workup.map, results.map) in that
 * order. */
int nen_codes_load_default(struct nen_codes *t, char *err, unsigned errlen);

/* The input key an Observation code carries ("-" for a known panel code that
 * carries none), or NULL when the code is not a question of the tables. */
const char *nen_codes_input(const struct nen_codes *t, const char *system, const char *code);

/* The entry that reads a coded answer as input key: a `value` line for that
 * key, or a `body` line for it (body structures answer the site and
 * metastasis questions). NULL if the code is no answer to that question. */
const struct nen_code *nen_codes_answer(const struct nen_codes *t, const char *system,
                                        const char *code, const char *key);

/* The i-th entry (from 0; NULL past the last) of system|code among the lines
 * of one use (NEN_USE_CONDITION, NEN_USE_BODY or NEN_USE_SPECIMEN). */
const struct nen_code *nen_codes_coded(const struct nen_codes *t, enum nen_code_use use,
                                       const char *system, const char *code, unsigned i);

/* 1 if codes of system are words of the input language (`words` line). */
int nen_codes_words_system(const struct nen_codes *t, const char *system);

/* The unit entry for key whose UCUM unit has the dimension of the reported
 * unit, with *convert set to the number that turns a value in the reported
 * unit into one in the entry's unit (the entry's factor still to apply).
 * NULL when no entry for key is commensurable with it. */
const struct nen_code_unit *nen_codes_unit(const struct nen_codes *t, const char *key,
                                           const struct fhir_ucum *reported, double *convert);

/* 1 if system|code marks a hotspot (preferred) measurement method. */
int nen_codes_hotspot(const struct nen_codes *t, const char *system, const char *code);

/* The i-th input line and the i-th condition line (from 0; NULL past the
 * last), systems resolved: for subscription criteria (interop.md I2). A code
 * may appear more than once (one entry per KEY=WORD). */
const struct nen_code *nen_codes_input_at(const struct nen_codes *t, unsigned i);
const struct nen_code *nen_codes_condition_at(const struct nen_codes *t, unsigned i);

/* The i-th coded entry of any use but input and method, and the i-th unit
 * line (from 0; NULL past the last): for tests that walk the whole table. */
const struct nen_code *nen_codes_value_at(const struct nen_codes *t, unsigned i);
const struct nen_code_unit *nen_codes_unit_at(const struct nen_codes *t, unsigned i);

/* Counts, for messages and tests. */
unsigned nen_codes_count(const struct nen_codes *t);

/* ---------- output codes: `result KIND VALUE SYSTEM|CODE` (results.map) ----------
 * The standard codes nenfhir writes beside its own (README "What nenfhir
 * writes"). KIND and VALUE, checked when loaded:
 *   observation  class|grade|type|t|n|m|stage   Observation.code of that result
 *   method       the same                       Observation.method of that result
 *   report       code|category                  DiagnosticReport.code / .category
 *   class        a class word, or CLASS:GRADE   the class (ICD-O-3 morphology); the
 *                (NET:G2)                       CLASS:GRADE line wins over CLASS
 *   grade, type  a grade / gastric type word    the value of that result
 *   t, n, m      a T / N / M category (T1a)     the value of that result
 *   stage        a stage group word (IIIA)      the value of that result
 *   site         a primary site word            Observation.bodySite of every result
 * One coding per KIND, VALUE and system: a later line for the same three
 * replaces the earlier one, and CODE "-" removes it. In the returned entry,
 * key is KIND and word is VALUE (canonical words: an alias site is stored
 * under its site word). */

/* The i-th coding (from 0, in load order; NULL past the last) for kind and
 * value. */
const struct nen_code *nen_codes_result(const struct nen_codes *t, const char *kind,
                                        const char *value, unsigned i);

/* The i-th result line of any kind (from 0; NULL past the last): for tests. */
const struct nen_code *nen_codes_result_at(const struct nen_codes *t, unsigned i);

#endif
