/*
 * fhir_json.c - strict, bounded JSON parsing of one FHIR resource and its
 * serialisation (fhir_json.h). json-c does the parsing; this file adds the
 * limits, the resource check, the check of every string and member name
 * (fhir_strings.h) and messages that say where the problem is.
 */
#include "fhir_json.h"

#include "fhir_strings.h"
#include "fhir_xml.h"

#include <stdlib.h>
#include <string.h>

/* Line number (1-based) of byte offset off in buf. */
static int line_of(const char *buf, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off; i++)
        if (buf[i] == '\n')
            line++;
    return line;
}

static int check_resource(json_object *o, const char *what, struct fhir_error *err)
{
    if (!json_object_is_type(o, json_type_object)) {
        fhir_error_set(err, "%s: not a FHIR resource: the document is a JSON %s, not an object",
                       what, json_type_to_name(json_object_get_type(o)));
        return -1;
    }
    json_object *rt;
    if (!json_object_object_get_ex(o, "resourceType", &rt)) {
        fhir_error_set(err, "%s: not a FHIR resource: no \"resourceType\"", what);
        return -1;
    }
    if (!json_object_is_type(rt, json_type_string) || json_object_get_string_len(rt) == 0) {
        fhir_error_set(err, "%s: resourceType: expected a non-empty string, found %s", what,
                       json_type_to_name(json_object_get_type(rt)));
        return -1;
    }
    return 0;
}

/* Offset of the first "\u0000" escape in the JSON text buf (already parsed,
 * so backslashes occur only in strings, each escaping the next character), or
 * -1. json-c cuts a member name at U+0000 ("status\u0000x" becomes "status"),
 * so once every string value has passed fhir_check_tree, one found here can
 * only be in a member name. */
static long nul_escape(const char *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\\')
            continue;
        if (buf[i + 1] == 'u' && len - i >= 6 && memcmp(buf + i + 2, "0000", 4) == 0)
            return (long)i;
        i++; /* the escaped character */
    }
    return -1;
}

/* The checks after json-c: a resource, sound strings and member names. */
static int check_content(json_object *o, const char *buf, size_t len, const char *what,
                         struct fhir_error *err)
{
    if (check_resource(o, what, err) != 0 || fhir_check_tree(o, what, err) != 0)
        return -1;
    long nul = nul_escape(buf, len);
    if (nul >= 0) {
        fhir_error_set(err, "%s: line %d: a member name holds \\u0000 (not a FHIR element name)",
                       what, line_of(buf, (size_t)nul));
        return -1;
    }
    return 0;
}

json_object *fhir_json_parse(const char *buf, size_t len, const struct fhir_limits *lim,
                             const char *what, struct fhir_error *err)
{
    if (!lim)
        lim = &fhir_limits_default;
    if (len > lim->max_bytes) {
        fhir_error_set(err, "%s: document is %zu bytes, limit %zu", what, len, lim->max_bytes);
        return NULL;
    }
    if (len > (size_t)INT32_MAX) {
        fhir_error_set(err, "%s: document too large", what);
        return NULL;
    }
    json_tokener *tok = json_tokener_new_ex(lim->max_depth);
    if (!tok) {
        fhir_error_oom(err, what);
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    size_t off = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (je == json_tokener_continue) {
        fhir_error_set(err, "%s: JSON ends early (unterminated object, array or string)", what);
        json_object_put(o);
        return NULL;
    }
    if (je == json_tokener_error_depth) {
        fhir_error_set(err, "%s: line %d: JSON nested deeper than %d levels", what,
                       line_of(buf, off), lim->max_depth);
        return NULL;
    }
    if (je != json_tokener_success) {
        fhir_error_set(err, "%s: line %d: invalid JSON: %s", what, line_of(buf, off),
                       json_tokener_error_desc(je));
        return NULL;
    }
    for (size_t i = off; i < len; i++)
        if (!strchr(" \t\r\n", buf[i])) {
            fhir_error_set(err, "%s: line %d: text after the end of the JSON document", what,
                           line_of(buf, i));
            json_object_put(o);
            return NULL;
        }
    if (check_content(o, buf, len, what, err) != 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

int fhir_looks_xml(const char *buf, size_t len)
{
    size_t i = 0;
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF)
        i = 3; /* UTF-8 byte order mark */
    for (; i < len; i++)
        if (!strchr(" \t\r\n", buf[i]))
            return buf[i] == '<';
    return 0;
}

json_object *fhir_parse(const char *buf, size_t len, const struct fhir_limits *lim,
                        const char *what, struct fhir_error *err)
{
    if (!lim)
        lim = &fhir_limits_default;
    if (fhir_looks_xml(buf, len))
        return fhir_xml_parse(buf, len, lim, what, err);
    return fhir_json_parse(buf, len, lim, what, err);
}

char *fhir_json_write(json_object *o, int pretty)
{
    int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
                (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN);
    const char *s = json_object_to_json_string_ext(o, flags);
    return s ? strdup(s) : NULL;
}
