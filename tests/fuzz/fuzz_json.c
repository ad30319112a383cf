/*
 * fuzz_json.c - libFuzzer target: fhir_json_parse (fhir/fhir_json.c) on any
 * bytes. Invariants: a tree read is a resource (string resourceType) that
 * passes fhir_check_tree (valid UTF-8, FHIR names), and writing it gives UTF-8
 * JSON that reads back to the same tree; a refusal has a clean message.
 */
#include "fuzz_util.h"
#include "fhir_json.h"
#include "fhir_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fhir_error e = {0};
    json_object *o = fhir_json_parse((const char *)data, size, NULL, "fuzz.json", &e);
    if (!o) {
        fz_clean_error(e.msg, sizeof e.msg, "fhir_json_parse error");
        return 0;
    }
    if (!json_object_is_type(o, json_type_object) || !fhir_resource_type(o)[0])
        fz_fail("fhir_json_parse returned something that is not a resource");
    struct fhir_error e2 = {0};
    if (fhir_check_tree(o, "fuzz.json", &e2) != 0)
        fz_fail("the tree read fails fhir_check_tree: %s", e2.msg);
    fz_json_reads_back(o, "json");
    json_object_put(o);
    return 0;
}
