/*
 * fuzz_util.h - what the libFuzzer targets of tests/fuzz share: failing an
 * invariant (print, abort: libFuzzer saves the input as crash-*), a strict
 * UTF-8 check, a check that an error message is clean (says something and is
 * a sound string: no raw input byte leaks into logs), and the comparison of a
 * tree with what FHIR XML gives back for it (fhir_xml.h: no schema, so a number
 * or boolean returns as a string, a one-item array as its item, a single
 * element named in the reader's always-array table as a one-item array, and
 * empty arrays and objects are not written at all).
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H
#include "fhir_error.h"
#include "fhir_json.h"
#include "fhir_strings.h"
#include <json-c/json.h>
#include <libxml/xmlerror.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noreturn, format(printf, 1, 2))) static inline void fz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "INVARIANT BROKEN: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

/* 1 if s[0..len) is UTF-8 (no overlong forms, no surrogates, <= U+10FFFF). */
static inline int fz_utf8_ok(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (len - i <= n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* The fuzz input as a NUL-terminated string (caller frees), or NULL when out
 * of memory (the run is then skipped). */
static inline char *fz_cstring(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, data, size);
        text[size] = '\0';
    }
    return text;
}

/* s (NUL-terminated within cap bytes) is UTF-8 without control characters
 * (other than tab, CR, LF). what names it in the failure. */
static inline void fz_text(const char *s, size_t cap, const char *what)
{
    size_t len = strnlen(s, cap);
    if (len == cap)
        fz_fail("%s: not NUL-terminated within %zu bytes", what, cap);
    if (!fz_utf8_ok(s, len))
        fz_fail("%s: not UTF-8", what);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            fz_fail("%s: control character 0x%02x at %zu", what, c, i);
    }
}

/* A failed call said something sound. */
static inline void fz_clean_error(const char *msg, size_t cap, const char *what)
{
    if (!msg[0])
        fz_fail("%s: failed without a message", what);
    fz_text(msg, cap, what);
}

/* 1 if v says nothing XML can carry: null, or an array or object of nothing
 * but such ([], {}, [{}]); the writer drops [] and writes {} as an empty
 * element. FHIR JSON forbids empty arrays and objects, but fhir_json_parse
 * lets them in. */
static inline int fz_xml_empty(json_object *v)
{
    if (!v)
        return 1;
    if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++)
            if (!fz_xml_empty(json_object_array_get_idx(v, i)))
                return 0;
        return 1;
    }
    if (!json_object_is_type(v, json_type_object))
        return 0;
    json_object_object_foreach(v, k, m)
    {
        (void)k;
        if (!fz_xml_empty(m))
            return 0;
    }
    return 1;
}

/* 1 if back (read from the XML orig was written as) holds what orig holds,
 * as far as FHIR XML without a schema can say it. */
static inline int fz_same_modulo_xml(json_object *orig, json_object *back)
{
    enum json_type to = json_object_get_type(orig), tb = json_object_get_type(back);
    if (to == json_type_array && tb != json_type_array)
        return json_object_array_length(orig) == 1 &&
               fz_same_modulo_xml(json_object_array_get_idx(orig, 0), back);
    if (tb == json_type_array && to != json_type_array) /* the reader's always-array table */
        return json_object_array_length(back) == 1 &&
               fz_same_modulo_xml(orig, json_object_array_get_idx(back, 0));
    if ((to == json_type_int || to == json_type_double || to == json_type_boolean) &&
        tb == json_type_string)
        return strcmp(json_object_get_string(orig), json_object_get_string(back)) == 0;
    if (to != tb)
        return 0;
    if (to == json_type_array) {
        size_t n = json_object_array_length(orig);
        if (json_object_array_length(back) != n)
            return 0;
        for (size_t i = 0; i < n; i++)
            if (!fz_same_modulo_xml(json_object_array_get_idx(orig, i),
                                    json_object_array_get_idx(back, i)))
                return 0;
        return 1;
    }
    if (to == json_type_object) {
        json_object_object_foreach(orig, key, v)
        {
            json_object *bv;
            int has = json_object_object_get_ex(back, key, &bv);
            if (fz_xml_empty(v)) {
                if (has && !fz_xml_empty(bv))
                    return 0;
            } else if (!has || !fz_same_modulo_xml(v, bv)) {
                return 0;
            }
        }
        json_object_object_foreach(back, bkey, bv2)
        {
            (void)bv2;
            if (!json_object_object_get_ex(orig, bkey, NULL))
                return 0;
        }
        return 1;
    }
    return json_object_equal(orig, back);
}

/* FHIR JSON (json.html) has no empty objects or arrays and no nulls
 * (except inside primitive-extension arrays, which nenfhir does not write). */
static inline void fz_no_empty(json_object *o, const char *what)
{
    switch (json_object_get_type(o)) {
    case json_type_null:
        fz_fail("%s: null in the tree", what);
    case json_type_array:
        if (json_object_array_length(o) == 0)
            fz_fail("%s: empty array", what);
        for (size_t i = 0; i < json_object_array_length(o); i++)
            fz_no_empty(json_object_array_get_idx(o, i), what);
        break;
    case json_type_object:
        if (json_object_object_length(o) == 0)
            fz_fail("%s: empty object", what);
        json_object_object_foreach(o, k, v)
        {
            if (!v)
                fz_fail("%s: %s is null", what, k);
            fz_no_empty(v, what);
        }
        break;
    default:
        break;
    }
}

/* Print two trees (shortened) before failing on their difference. */
static inline void fz_show_pair(json_object *a, json_object *b)
{
    const char *sa = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN);
    const char *sb = json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN);
    fprintf(stderr, "before: %.100000s\nafter:  %.100000s\n", sa, sb);
}

/* libxml2 must never print (fhir_xml.h: its messages go into the call's
 * fhir_error). Installed as the process-wide handlers: anything that reaches
 * them escaped nenfhir's own handlers. */
static inline void fz_xml_generic(void *ctx, const char *msg, ...)
{
    (void)ctx;
    fz_fail("libxml2 printed outside nenfhir's error handler: %s", msg);
}
static inline void fz_xml_structured(void *ctx, xmlErrorPtr e)
{
    (void)ctx;
    fz_fail("libxml2 reported outside nenfhir's error handler: %s",
            e && e->message ? e->message : "?");
}
static inline void fz_xml_silence_guard(void)
{
    xmlSetGenericErrorFunc(NULL, fz_xml_generic);
    xmlSetStructuredErrorFunc(NULL, fz_xml_structured);
}

/* A serialised tree: UTF-8, and fhir_json_parse reads it back to the same tree. */
static inline void fz_json_reads_back(json_object *tree, const char *what)
{
    char *out = fhir_json_write(tree, 0);
    if (!out)
        fz_fail("%s: fhir_json_write failed", what);
    size_t len = strlen(out);
    if (!fz_utf8_ok(out, len))
        fz_fail("%s: written JSON is not UTF-8", what);
    struct fhir_error e = {0};
    json_object *back = fhir_json_parse(out, len, NULL, "written.json", &e);
    if (!back)
        fz_fail("%s: fhir_json_parse refuses the written JSON: %s", what, e.msg);
    if (!json_object_equal(tree, back))
        fz_fail("%s: JSON read back is not the same tree", what);
    json_object_put(back);
    free(out);
}
#endif
