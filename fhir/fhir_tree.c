/*
 * fhir_tree.c - typed, representation-tolerant reading of resource trees
 * (fhir_tree.h).
 */
#include "fhir_tree.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

json_object *fhir_member(json_object *o, const char *name)
{
    json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object))
        return NULL;
    if (!json_object_object_get_ex(o, name, &v))
        return NULL;
    return v; /* a JSON null comes back as NULL too */
}

size_t fhir_count(json_object *o, const char *name)
{
    json_object *v = fhir_member(o, name);
    if (!v)
        return 0;
    if (json_object_is_type(v, json_type_array))
        return json_object_array_length(v);
    return 1;
}

json_object *fhir_item(json_object *o, const char *name, size_t i)
{
    json_object *v = fhir_member(o, name);
    if (!v)
        return NULL;
    if (json_object_is_type(v, json_type_array))
        return i < json_object_array_length(v) ? json_object_array_get_idx(v, i) : NULL;
    return i == 0 ? v : NULL;
}

enum fhir_get fhir_get_string(json_object *o, const char *name, const char **out)
{
    json_object *v = fhir_member(o, name);
    if (!v)
        return FHIR_ABSENT;
    if (!json_object_is_type(v, json_type_string))
        return FHIR_WRONG;
    *out = json_object_get_string(v);
    return FHIR_OK;
}

enum fhir_get fhir_value_number(json_object *v, double *out)
{
    if (!v)
        return FHIR_ABSENT;
    if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
        *out = json_object_get_double(v);
        return isfinite(*out) ? FHIR_OK : FHIR_WRONG;
    }
    if (!json_object_is_type(v, json_type_string))
        return FHIR_WRONG;
    const char *s = json_object_get_string(v);
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(d) || strchr(" \t\n", s[0]))
        return FHIR_WRONG;
    *out = d;
    return FHIR_OK;
}

enum fhir_get fhir_get_number(json_object *o, const char *name, double *out)
{
    return fhir_value_number(fhir_member(o, name), out);
}

enum fhir_get fhir_get_bool(json_object *o, const char *name, int *out)
{
    json_object *v = fhir_member(o, name);
    if (!v)
        return FHIR_ABSENT;
    if (json_object_is_type(v, json_type_boolean)) {
        *out = json_object_get_boolean(v);
        return FHIR_OK;
    }
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
            *out = s[0] == 't';
            return FHIR_OK;
        }
    }
    return FHIR_WRONG;
}

static const char *string_or_empty(json_object *o, const char *name)
{
    const char *s = "";
    if (fhir_get_string(o, name, &s) != FHIR_OK)
        return "";
    return s;
}

const char *fhir_resource_type(json_object *res)
{
    return string_or_empty(res, "resourceType");
}

const char *fhir_resource_id(json_object *res)
{
    return string_or_empty(res, "id");
}

static int coding_is(json_object *coding, const char *system, const char *code)
{
    const char *s, *c;
    return fhir_get_string(coding, "system", &s) == FHIR_OK &&
           fhir_get_string(coding, "code", &c) == FHIR_OK && strcmp(s, system) == 0 &&
           strcmp(c, code) == 0;
}

int fhir_cc_coding(json_object *cc, size_t i, const char **system, const char **code)
{
    json_object *c = fhir_item(cc, "coding", i);
    return fhir_get_string(c, "system", system) == FHIR_OK &&
           fhir_get_string(c, "code", code) == FHIR_OK;
}

int fhir_cc_has(json_object *cc, const char *system, const char *code)
{
    size_t n = fhir_count(cc, "coding");
    for (size_t i = 0; i < n; i++)
        if (coding_is(fhir_item(cc, "coding", i), system, code))
            return 1;
    return 0;
}

int fhir_has_tag(json_object *res, const char *system, const char *code)
{
    json_object *meta = fhir_member(res, "meta");
    size_t n = fhir_count(meta, "tag");
    for (size_t i = 0; i < n; i++)
        if (coding_is(fhir_item(meta, "tag", i), system, code))
            return 1;
    return 0;
}

const char *fhir_type_name(json_object *v)
{
    if (!v)
        return "null";
    return json_type_to_name(json_object_get_type(v));
}

const char *fhir_bundle_next(json_object *bundle)
{
    const char *next = NULL;
    for (size_t i = 0; i < fhir_count(bundle, "link"); i++) {
        json_object *l = fhir_item(bundle, "link", i);
        const char *rel = NULL;
        if (fhir_get_string(l, "relation", &rel) == FHIR_OK && strcmp(rel, "next") == 0)
            fhir_get_string(l, "url", &next);
    }
    return next;
}
