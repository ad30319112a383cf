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

#define NEN_CODE_SYSTEM_LEN 160
#define NEN_CODE_CODE_LEN 64
#define NEN_CODE_KEY_LEN 24
#define NEN_CODE_WORD_LEN 48

/* input SYSTEM|CODE KEY, value SYSTEM|CODE KEY=WORD (key "-" for known-but-no-input),
 * method SYSTEM|CODE hotspot: one shape for all three. */
struct nen_code {
    char system[NEN_CODE_SYSTEM_LEN];
    char code[NEN_CODE_CODE_LEN];
    char key[NEN_CODE_KEY_LEN];
    char word[NEN_CODE_WORD_LEN];
};

/* unit KEY UCUM FACTOR [SUFFIX] */
struct nen_code_unit {
    char key[NEN_CODE_KEY_LEN];
    char ucum[NEN_CODE_CODE_LEN];
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

/* Load the shipped mappings/codes/default.map (compiled in). */
int nen_codes_load_default(struct nen_codes *t, char *err, unsigned errlen);

/* The input key an Observation code carries, or NULL. */
const char *nen_codes_input(const struct nen_codes *t, const char *system, const char *code);

/* Value entries of a coded answer. With key set: the entry for that input
 * (or NULL). With key NULL: the i-th entry for the code, any input (i from 0;
 * NULL past the last). */
const struct nen_code *nen_codes_value(const struct nen_codes *t, const char *system,
                                       const char *code, const char *key, unsigned i);

/* 1 if codes of system are words of the input language (`words` line). */
int nen_codes_words_system(const struct nen_codes *t, const char *system);

/* The unit entry for key in UCUM unit ucum, or NULL. */
const struct nen_code_unit *nen_codes_unit(const struct nen_codes *t, const char *key,
                                           const char *ucum);

/* 1 if system|code marks a hotspot (preferred) measurement method. */
int nen_codes_hotspot(const struct nen_codes *t, const char *system, const char *code);

/* The i-th input line and the i-th value line (from 0; NULL past the last),
 * systems resolved: for subscription criteria (interop.md I2). A code may
 * appear twice when a later line replaced an earlier one. */
const struct nen_code *nen_codes_input_at(const struct nen_codes *t, unsigned i);
const struct nen_code *nen_codes_value_at(const struct nen_codes *t, unsigned i);

/* Counts, for messages and tests. */
unsigned nen_codes_count(const struct nen_codes *t);

#endif
