/*
 * fhir_build.c - FHIR JSON constructors with collected allocation failure
 * (fhir_build.h).
 */
#include "fhir_build.h"

#include <stdlib.h>
#include <string.h>

static json_object *check(struct fhir_build *b, json_object *o)
{
    if (!o)
        b->failed = 1;
    return o;
}

json_object *fhir_b_obj(struct fhir_build *b)
{
    return b->failed ? NULL : check(b, json_object_new_object());
}

json_object *fhir_b_arr(struct fhir_build *b)
{
    return b->failed ? NULL : check(b, json_object_new_array());
}

void fhir_b_set(struct fhir_build *b, json_object *o, const char *key, json_object *v)
{
    if (b->failed || !o || !v || json_object_object_add(o, key, v) != 0) {
        b->failed = 1;
        json_object_put(v);
    }
}

void fhir_b_str(struct fhir_build *b, json_object *o, const char *key, const char *s)
{
    if (s && !b->failed)
        fhir_b_set(b, o, key, check(b, json_object_new_string(s)));
}

void fhir_b_push(struct fhir_build *b, json_object *a, json_object *v)
{
    if (b->failed || !a || !v || json_object_array_add(a, v) != 0) {
        b->failed = 1;
        json_object_put(v);
    }
}

void fhir_b_set1(struct fhir_build *b, json_object *o, const char *key, json_object *v)
{
    json_object *a = fhir_b_arr(b);
    fhir_b_push(b, a, v);
    fhir_b_set(b, o, key, a);
}

json_object *fhir_b_coding(struct fhir_build *b, const char *system, const char *code,
                           const char *display)
{
    json_object *c = fhir_b_obj(b);
    fhir_b_str(b, c, "system", system);
    fhir_b_str(b, c, "code", code);
    fhir_b_str(b, c, "display", display);
    return c;
}

json_object *fhir_b_cc(struct fhir_build *b, const char *system, const char *code,
                       const char *display, const char *text)
{
    json_object *cc = fhir_b_obj(b);
    if (system)
        fhir_b_set1(b, cc, "coding", fhir_b_coding(b, system, code, display));
    fhir_b_str(b, cc, "text", text);
    return cc;
}

json_object *fhir_b_ref(struct fhir_build *b, const char *reference, const char *display)
{
    json_object *r = fhir_b_obj(b);
    fhir_b_str(b, r, "reference", reference);
    fhir_b_str(b, r, "display", display);
    return r;
}

json_object *fhir_b_ident(struct fhir_build *b, const char *system, const char *value)
{
    json_object *i = fhir_b_obj(b);
    fhir_b_str(b, i, "system", system);
    fhir_b_str(b, i, "value", value);
    return i;
}

char *fhir_url_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(strlen(s) * 3 + 1), *p = out;
    if (!out)
        return NULL;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            strchr("-._~", c)) {
            *p++ = (char)c;
        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    *p = '\0';
    return out;
}
