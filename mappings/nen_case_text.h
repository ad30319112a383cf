/*
 * nen_case_text.h - the "key=value" language for one case (site=stomach
 * ki67=4 mitoses=3/2mm2 ...), read by `nenfhir explain` and the clinical test
 * vectors. Vocabulary: tests/vectors/README.md.
 */
#ifndef NEN_CASE_TEXT_H
#define NEN_CASE_TEXT_H

#include "nen_case.h"

/* Set one input. Returns 0, or -1 with a message naming the key and the
 * problem in err. The case is unchanged on error. */
int nen_case_set(struct nen_case *c, const char *key, const char *value, char *err,
                 unsigned errlen);

/* 1 if key is an input of the language (site, ki67, mitoses ...). */
int nen_case_key_known(const char *key);

/* The i-th value (from 0; NULL past the last) input key could have, as text
 * nen_case_set accepts, written into buf: every word of a coded input, every
 * category of pT/pN/pM, and for numbers a spread from 0 to far beyond any
 * cut point of the rules (which never lower a category as a number grows, so
 * the two ends decide). For an input reported but not readable. */
const char *nen_case_candidate(const char *key, unsigned i, char *buf, unsigned len);

/* Parse whitespace-separated key=value words into c (which the caller has
 * initialised). Returns 0, or -1 with err naming the first bad word. */
int nen_case_parse(struct nen_case *c, const char *text, char *err, unsigned errlen);

#endif
