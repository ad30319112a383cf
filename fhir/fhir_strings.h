/*
 * fhir_strings.h - what a string and a member name read from FHIR JSON or XML
 * may hold, and the one walk that checks a whole resource tree for it. Used by
 * both readers (fhir_json_parse, fhir_xml_parse) on every document, and by the
 * XML writer, so that nothing the readers accept is refused or mangled on the
 * way out, and nothing the writer writes is refused on the way back in.
 *
 * The rules (FHIR R4 datatypes.html "string", json.html, xml.html;
 * ElementDefinition invariants eld-19, eld-20):
 *   - a string is UTF-8 (strict: no overlong forms, no surrogates, nothing past
 *     U+10FFFF) and holds no control character below U+0020 other than tab, CR
 *     and LF; U+0000 included (json-c lets "\u0000" through inside strings).
 *     U+FFFE and U+FFFF are refused too: XML cannot carry them.
 *   - a member name is an element name, [a-z][A-Za-z0-9_]* of at most 64
 *     characters, or "_" and one (a primitive's id and extensions).
 *     "resourceType" and the "fhir_comments" of old files fit.
 *   - a resourceType is [A-Z][A-Za-z]* of at most 64 characters.
 *
 * Messages say what is wrong in the project's style and never copy a raw byte
 * that is not printable ASCII (shown as \xHH).
 */
#ifndef FHIR_STRINGS_H
#define FHIR_STRINGS_H

#include "fhir_error.h"

#include <json-c/json.h>
#include <stddef.h>

/* Room a why[] buffer of the checks below needs: message plus a quoted name. */
#define FHIR_WHY_LEN 320

/* 0 if s[0..len) is a valid FHIR string (may hold no NUL); else -1 with why
 * set, e.g. "invalid UTF-8", "control character U+0000 in a string". */
int fhir_text_check(const char *s, size_t len, char *why, size_t size);

/* 0 if key is a FHIR JSON member name (see above); else -1 with why set, e.g.
 * "member name \"a-b\" is not a FHIR element name (...)". */
int fhir_key_check(const char *key, char *why, size_t size);

/* 0 if type is a resource type name; else -1 with why set. */
int fhir_type_check(const char *type, char *why, size_t size);

/* Check every member name and every string of the resource tree res. On the
 * first problem returns -1 with err set to "what: where: why", where names the
 * innermost resource ("Type/id" when it has a valid id, else its path from the
 * root, e.g. "Bundle.entry[2].resource") and the field below it:
 *   "case.json: Specimen/sp-1.accessionIdentifier.value: control character
 *    U+0000 in a string". Returns 0 when all is well. Reads only. */
int fhir_check_tree(json_object *res, const char *what, struct fhir_error *err);

#endif
