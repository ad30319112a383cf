/*
 * fhir_tree.h - typed reading of a FHIR resource tree (json-c objects, as
 * fhir_json_parse or fhir_xml_parse return them). Tolerant where FHIR's two
 * representations differ: a single element where an array is expected counts
 * as an array of one (XML cannot tell), and a number or boolean may arrive as
 * a string (XML value attributes). Strict where it matters: a value of the
 * wrong shape is reported as FHIR_WRONG, never guessed.
 *
 * No function here allocates except where stated; returned pointers borrow
 * from the tree and live as long as it does.
 */
#ifndef FHIR_TREE_H
#define FHIR_TREE_H

#include <json-c/json.h>
#include <stddef.h>

/* Result of a typed read. */
enum fhir_get { FHIR_ABSENT = 0, FHIR_OK = 1, FHIR_WRONG = -1 };

/* The member name of o, or NULL (o not an object, or no such member; a JSON
 * null counts as absent). */
json_object *fhir_member(json_object *o, const char *name);

/* Number of items of member name: 0 when absent, 1 for a single value, the
 * length of an array. fhir_item returns item i (borrowed) or NULL. */
size_t fhir_count(json_object *o, const char *name);
json_object *fhir_item(json_object *o, const char *name, size_t i);

/* A string member. FHIR_WRONG when present but not a string. */
enum fhir_get fhir_get_string(json_object *o, const char *name, const char **out);

/* A decimal/integer member: JSON number, or a string holding exactly one
 * finite number. FHIR_WRONG otherwise. */
enum fhir_get fhir_get_number(json_object *o, const char *name, double *out);
/* The same test on a value itself. */
enum fhir_get fhir_value_number(json_object *v, double *out);

/* A boolean member: true/false, or the strings "true"/"false". */
enum fhir_get fhir_get_bool(json_object *o, const char *name, int *out);

/* resourceType and id of a resource ("" when absent). */
const char *fhir_resource_type(json_object *res);
const char *fhir_resource_id(json_object *res);

/* The i-th coding of CodeableConcept cc: 1 with *system and *code set when it
 * has both as strings, else 0 (also past the last coding). */
int fhir_cc_coding(json_object *cc, size_t i, const char **system, const char **code);

/* 1 if the CodeableConcept cc (or a Coding list member "coding" of it) has a
 * coding with this system and code. */
int fhir_cc_has(json_object *cc, const char *system, const char *code);

/* 1 if the resource's meta.tag holds system|code. */
int fhir_has_tag(json_object *res, const char *system, const char *code);

/* The url of a Bundle's link with relation "next" (borrowed), or NULL: the
 * next page of a search. */
const char *fhir_bundle_next(json_object *bundle);

/* Human name of the JSON type of v ("string", "object", ...). */
const char *fhir_type_name(json_object *v);

#endif
