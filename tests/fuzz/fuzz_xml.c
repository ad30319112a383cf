/*
 * fuzz_xml.c - libFuzzer target: fhir_xml_parse (fhir/fhir_xml_read.c) on any
 * bytes. Invariants: libxml2 never prints (process-wide handlers abort if a
 * message escapes nenfhir's); a tree read passes fhir_check_tree, serialises
 * to UTF-8 JSON that reads back to the same tree, and the XML writer writes it
 * as XML the reader reads back to exactly the same tree (it came from XML);
 * every refusal has a clean message.
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
    json_object *o = fhir_xml_parse((const char *)data, size, NULL, "fuzz.xml", &e);
    if (!o) {
        fz_clean_error(e.msg, sizeof e.msg, "fhir_xml_parse error");
        return 0;
    }
    struct fhir_error e2 = {0};
    if (fhir_check_tree(o, "fuzz.xml", &e2) != 0)
        fz_fail("the tree read fails fhir_check_tree: %s", e2.msg);
    fz_json_reads_back(o, "xml");
    char *xml = fhir_xml_write(o, &e2);
    if (!xml) {
        fz_clean_error(e2.msg, sizeof e2.msg, "fhir_xml_write error");
    } else {
        size_t len = strlen(xml);
        if (!fz_utf8_ok(xml, len))
            fz_fail("written XML is not UTF-8");
        json_object *back = fhir_xml_parse(xml, len, NULL, "written.xml", &e2);
        if (!back)
            fz_fail("the reader refuses what the writer wrote: %s", e2.msg);
        if (!json_object_equal(o, back))
            fz_fail("XML -> tree -> XML -> tree is not the same tree");
        json_object_put(back);
        free(xml);
    }
    json_object_put(o);
    return 0;
}
