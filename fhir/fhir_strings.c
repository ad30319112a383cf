/*
 * fhir_strings.c - checks of the strings and member names of a FHIR resource
 * tree (fhir_strings.h): strict UTF-8, no control characters, FHIR element
 * names, and the walk that applies them to a whole tree with messages that
 * name the resource and the field. Keeps no state; allocates nothing.
 *
 * Why a capitalised member name is refused on input (and not written as an
 * element by the XML writer): FHIR element names are lowerCamelCase (R4
 * ElementDefinition eld-20: "[A-Za-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)*";
 * only the type name at the head of a path is capitalised), and the XML
 * representation relies on it: an element whose name starts with a capital is
 * a resource (Bundle.entry.resource, contained). A key such as "S" is therefore
 * never a FHIR element, has no XML form, and cannot round-trip; accepting it in
 * JSON would make the same input classify with JSON output and fail with XML
 * output. Refusing it where it enters gives one answer on every path and names
 * the field, and the writer refuses it too for trees built in code.
 */
#include "fhir_strings.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Longest element name (eld-19: 1 to 64 characters per path segment). */
#define FHIR_NAME_MAX 64
/* Trees nested deeper are not FHIR (the readers stop far below this). */
#define FHIR_CHECK_DEPTH 256

/* ---- text ----------------------------------------------------------------- */

/* Continuation byte? */
static int cont(unsigned char b)
{
    return (b & 0xC0) == 0x80;
}

/* Decode one UTF-8 character at p (avail bytes, avail > 0): its code point and
 * *n its length, or -1 when the bytes are not well-formed UTF-8 (Unicode 15
 * table 3-7: no overlong forms, no surrogates, nothing past U+10FFFF). */
static long utf8_next(const unsigned char *p, size_t avail, size_t *n)
{
    unsigned char b = p[0];
    if (b < 0x80) {
        *n = 1;
        return b;
    }
    size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
    if (b < 0xC2 || b > 0xF4 || avail < len)
        return -1;
    for (size_t i = 1; i < len; i++)
        if (!cont(p[i]))
            return -1;
    if ((b == 0xE0 && p[1] < 0xA0) || (b == 0xED && p[1] > 0x9F) ||
        (b == 0xF0 && p[1] < 0x90) || (b == 0xF4 && p[1] > 0x8F))
        return -1;
    long cp = len == 2 ? b & 0x1F : len == 3 ? b & 0x0F : b & 0x07;
    for (size_t i = 1; i < len; i++)
        cp = (cp << 6) | (p[i] & 0x3F);
    *n = len;
    return cp;
}

int fhir_text_check(const char *s, size_t len, char *why, size_t size)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n;
    for (size_t i = 0; i < len; i += n) {
        long cp = utf8_next(p + i, len - i, &n);
        if (cp < 0) {
            snprintf(why, size, "invalid UTF-8");
            return -1;
        }
        if (cp < 0x20 && cp != '\t' && cp != '\r' && cp != '\n') {
            snprintf(why, size, "control character U+%04lX in a string", cp);
            return -1;
        }
        if (cp == 0xFFFE || cp == 0xFFFF) {
            snprintf(why, size, "noncharacter U+%04lX in a string (XML cannot carry it)", cp);
            return -1;
        }
    }
    return 0;
}

/* ---- names ---------------------------------------------------------------- */

/* s for a message: printable ASCII as is (" and \ escaped), other bytes as
 * \xHH, cut after 32 bytes with "...". */
static void quote(const char *s, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; s[i] && o + 8 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == 32) {
            o += (size_t)snprintf(out + o, size - o, "...");
            break;
        }
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, size - o, c == '"' || c == '\\' ? "\\%c" : "\\x%02X",
                                  c);
    }
    out[o] = '\0';
}

static int is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static int is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

int fhir_key_check(const char *key, char *why, size_t size)
{
    char q[160];
    const char *name = key[0] == '_' ? key + 1 : key;
    size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    if (is_lower(name[0]) && !name[n] && n <= FHIR_NAME_MAX)
        return 0;
    quote(key, q, sizeof q);
    if (!key[0])
        snprintf(why, size, "empty member name");
    else if (is_upper(name[0]) && !name[n])
        snprintf(why, size,
                 "member name \"%s\" starts with a capital letter (FHIR element names are "
                 "lowerCamelCase; a capital marks a resource type)",
                 q);
    else if (!is_lower(name[0]) || name[n])
        snprintf(why, size,
                 "member name \"%s\" is not a FHIR element name (letters, digits and _, "
                 "starting with a lowercase letter)",
                 q);
    else
        snprintf(why, size, "member name \"%s\" is longer than %d characters", q, FHIR_NAME_MAX);
    return -1;
}

int fhir_type_check(const char *type, char *why, size_t size)
{
    char q[160];
    size_t n = strspn(type, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    if (is_upper(type[0]) && !type[n] && n <= FHIR_NAME_MAX)
        return 0;
    quote(type, q, sizeof q);
    snprintf(why, size, "\"%s\" is not a resource type name", q);
    return -1;
}

/* A FHIR id: [A-Za-z0-9\-\.]{1,64}. */
static int is_id(const char *s, size_t len)
{
    if (len < 1 || len > 64 || strlen(s) != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_lower(s[i]) && !is_upper(s[i]) && !(s[i] >= '0' && s[i] <= '9') &&
            s[i] != '-' && s[i] != '.')
            return 0;
    return 1;
}

/* ---- the tree walk -------------------------------------------------------- */

struct chk {
    const char *what;
    struct fhir_error *err;
    struct fhir_path path; /* "Specimen/sp-1.accessionIdentifier.value" */
    int depth;
};

static int chk_fail(struct chk *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set err to "what: path: message"; returns -1. */
static int chk_fail(struct chk *c, const char *fmt, ...)
{
    char msg[FHIR_ERROR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->path.len)
        fhir_error_set(c->err, "%s: %s: %s", c->what, c->path.text, msg);
    else
        fhir_error_set(c->err, "%s: %s", c->what, msg);
    return -1;
}

/* Append "[i]" (an array inside an array; not FHIR, but its strings are
 * checked all the same). Returns the length for fhir_path_pop. */
static size_t chk_push_index(struct fhir_path *p, size_t i)
{
    size_t old = p->len, room = sizeof p->text - old;
    int n = snprintf(p->text + old, room, "[%zu]", i);
    if (n > 0)
        p->len = (size_t)n >= room ? sizeof p->text - 1 : old + (size_t)n;
    return old;
}

static int chk_value(struct chk *c, json_object *v);

static int chk_string(struct chk *c, json_object *v)
{
    char why[FHIR_WHY_LEN];
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    return fhir_text_check(s, len, why, sizeof why) == 0 ? 0 : chk_fail(c, "%s", why);
}

/* Items of array a, the path already naming the array's member. */
static int chk_items(struct chk *c, json_object *a)
{
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        size_t old = chk_push_index(&c->path, i);
        int rc = chk_value(c, json_object_array_get_idx(a, i));
        fhir_path_pop(&c->path, old);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Member key: v; an array gives "key[i]" per item. */
static int chk_member(struct chk *c, const char *key, json_object *v)
{
    int rc = 0;
    if (!json_object_is_type(v, json_type_array)) {
        size_t old = fhir_path_push(&c->path, key, -1);
        rc = chk_value(c, v);
        fhir_path_pop(&c->path, old);
        return rc;
    }
    for (size_t i = 0; i < json_object_array_length(v) && rc == 0; i++) {
        size_t old = fhir_path_push(&c->path, key, (long)i);
        rc = chk_value(c, json_object_array_get_idx(v, i));
        fhir_path_pop(&c->path, old);
    }
    return rc;
}

static int chk_members(struct chk *c, json_object *o)
{
    char why[FHIR_WHY_LEN];
    json_object_object_foreach(o, key, v)
    {
        if (fhir_key_check(key, why, sizeof why) < 0)
            return chk_fail(c, "%s", why);
        if (chk_member(c, key, v) < 0)
            return -1;
    }
    return 0;
}

/* Where messages about the resource res (type checked) start: "Type/id" when
 * it has a valid id, else the path so far ("Bundle.entry[2].resource"), or the
 * type for the root. */
static void chk_label(struct chk *c, json_object *res, const char *type)
{
    json_object *id;
    char label[FHIR_NAME_MAX * 2 + 2];
    if (json_object_object_get_ex(res, "id", &id) && json_object_is_type(id, json_type_string) &&
        is_id(json_object_get_string(id), (size_t)json_object_get_string_len(id))) {
        snprintf(label, sizeof label, "%s/%s", type, json_object_get_string(id));
        fhir_path_pop(&c->path, 0);
        fhir_path_push(&c->path, label, -1);
    } else if (c->path.len == 0) {
        fhir_path_push(&c->path, type, -1);
    }
}

/* 0 if rt, the value of "resourceType", is a resource type name; else why set. */
static int chk_type(json_object *rt, char *why, size_t size)
{
    if (!json_object_is_type(rt, json_type_string)) {
        snprintf(why, size, "expected a string, found %s",
                 json_type_to_name(json_object_get_type(rt)));
        return -1;
    }
    const char *type = json_object_get_string(rt);
    if ((size_t)json_object_get_string_len(rt) != strlen(type)) {
        snprintf(why, size, "control character U+0000 in a string");
        return -1;
    }
    return fhir_type_check(type, why, size);
}

static int chk_resource(struct chk *c, json_object *res, json_object *rt)
{
    char why[FHIR_WHY_LEN];
    if (chk_type(rt, why, sizeof why) < 0) {
        size_t old = fhir_path_push(&c->path, "resourceType", -1);
        chk_fail(c, "%s", why);
        fhir_path_pop(&c->path, old);
        return -1;
    }
    struct fhir_path saved = c->path;
    chk_label(c, res, json_object_get_string(rt));
    int rc = chk_members(c, res);
    c->path = saved;
    return rc;
}

static int chk_value(struct chk *c, json_object *v)
{
    json_object *rt;
    int rc = 0;
    if (++c->depth > FHIR_CHECK_DEPTH) {
        c->depth--;
        return chk_fail(c, "nested deeper than %d", FHIR_CHECK_DEPTH);
    }
    switch (json_object_get_type(v)) {
    case json_type_string:
        rc = chk_string(c, v);
        break;
    case json_type_array:
        rc = chk_items(c, v);
        break;
    case json_type_object:
        rc = json_object_object_get_ex(v, "resourceType", &rt) ? chk_resource(c, v, rt)
                                                                : chk_members(c, v);
        break;
    default: /* null, boolean, number: nothing to check */
        break;
    }
    c->depth--;
    return rc;
}

int fhir_check_tree(json_object *res, const char *what, struct fhir_error *err)
{
    struct chk c = {what ? what : "FHIR", err, {0, ""}, 0};
    return chk_value(&c, res);
}
