/*
 * fuzz_roundtrip.c - libFuzzer target: JSON -> fhir_xml_write -> fhir_xml_parse.
 * Invariant (fhir_xml.h): whatever the writer writes is UTF-8 that the reader
 * reads back to the same tree (modulo what XML without a schema cannot say:
 * numbers and booleans come back as strings, one-item arrays as their item),
 * or the writer refuses with a clean "XML writer: " message. libxml2 never
 * prints.
 */
#include "fuzz_util.h"
#include "fhir_json.h"
#include "fhir_xml.h"
#include <libxml/parser.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    xmlInitParser();
    fz_xml_silence_guard();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fhir_error e = {0};
    json_object *o = fhir_json_parse((const char *)data, size, NULL, "fuzz.json", &e);
    if (!o)
        return 0; /* fuzz_json covers the reader's refusals */
    char *xml = fhir_xml_write(o, &e);
    if (!xml) {
        fz_clean_error(e.msg, sizeof e.msg, "fhir_xml_write error");
        if (strncmp(e.msg, "XML writer: ", 12) != 0)
            fz_fail("writer error without its prefix: %s", e.msg);
        json_object_put(o);
        return 0;
    }
    size_t len = strlen(xml);
    if (!fz_utf8_ok(xml, len))
        fz_fail("written XML is not UTF-8");
    json_object *back = fhir_xml_parse(xml, len, NULL, "written.xml", &e);
    if (!back)
        fz_fail("the reader refuses what the writer wrote: %s\n%s", e.msg, xml);
    if (!fz_same_modulo_xml(o, back) && (fz_show_pair(o, back), 1))
        fz_fail("JSON -> XML -> JSON is not the same tree\n%s", xml);
    json_object_put(back);
    free(xml);
    json_object_put(o);
    return 0;
}
