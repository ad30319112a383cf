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

/* Parse whitespace-separated key=value words into c (which the caller has
 * initialised). Returns 0, or -1 with err naming the first bad word. */
int nen_case_parse(struct nen_case *c, const char *text, char *err, unsigned errlen);

#endif
