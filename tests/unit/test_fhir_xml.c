/*
 * test_fhir_xml.c - FHIR XML <-> JSON tree conversion (fhir_xml.h): reading a
 * Bundle, primitives with extensions, xhtml and contained resources; JSON ->
 * XML -> JSON round trips; and hostile documents (XXE, billion laughs, DOCTYPE,
 * depth, size, namespaces, stray text, malformed XML, encodings, names the
 * reader refuses); libxml2 never printing; and the round trip JSON -> XML ->
 * JSON of every example (EXAMPLES_DIR) and every input found by fuzzing
 * (HOSTILE_DIR): the same tree, or a clean error.
 *
 * Fixtures write XML attributes and JSON strings with single quotes; jq()
 * turns the JSON ones into double quotes (\' gives an escaped quote).
 */
#include "test_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "fhir_json.h"
#include "fhir_strings.h"
#include "fhir_xml.h"

/* ---- helpers ----------------------------------------------------------- */

/* Parse JSON written with ' for ". Caller puts the result. */
static json_object *jq(const char *s)
{
    char *d = strdup(s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    for (char *p = d; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_object *o = json_tokener_parse(d);
    if (!o)
        printf("\n  bad expected JSON: %s\n", d);
    free(d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    return o;
}

/* Assert got equals want (reporting both when not); puts both. */
static void assert_same(json_object *got, json_object *want)
{
    int same = got && json_object_equal(got, want);
    CU_ASSERT_TRUE(same);
    if (!same)
        printf("\n  got:  %s\n  want: %s\n",
               got ? json_object_to_json_string(got) : "(null)",
               json_object_to_json_string(want));
    json_object_put(got);
    json_object_put(want);
}

static json_object *parse_ok(const char *xml)
{
    struct fhir_error err = {0};
    json_object *o = fhir_xml_parse(xml, strlen(xml), NULL, "t.xml", &err);
    if (!o)
        printf("\n  unexpected error: %s\n", err.msg);
    return o;
}

/* Parse xml (with lim, NULL: defaults), expect failure whose message names
 * t.xml and contains each of the (up to two) key phrases. */
static void parse_fails(const char *xml, const struct fhir_limits *lim, const char *phrase,
                        const char *phrase2)
{
    struct fhir_error err = {0};
    json_object *o = fhir_xml_parse(xml, strlen(xml), lim, "t.xml", &err);
    CU_ASSERT_PTR_NULL(o);
    json_object_put(o);
    int ok = strstr(err.msg, "t.xml") && strstr(err.msg, phrase) &&
             (!phrase2 || strstr(err.msg, phrase2));
    CU_ASSERT_TRUE(ok);
    if (!ok)
        printf("\n  message \"%s\" lacks \"%s\"%s%s\n", err.msg, phrase, phrase2 ? " / " : "",
               phrase2 ? phrase2 : "");
}

/* JSON -> XML -> JSON; returns the XML (caller frees) through *xml_out. */
static json_object *round_trip(json_object *in, char **xml_out)
{
    struct fhir_error err = {0};
    char *xml = fhir_xml_write(in, &err);
    if (!xml) {
        printf("\n  write error: %s\n", err.msg);
        *xml_out = NULL;
        return NULL;
    }
    *xml_out = xml;
    return parse_ok(xml);
}

static void write_fails(const char *json, const char *phrase)
{
    struct fhir_error err = {0};
    json_object *in = jq(json);
    char *xml = fhir_xml_write(in, &err);
    CU_ASSERT_PTR_NULL(xml);
    free(xml);
    int ok = strstr(err.msg, phrase) != NULL;
    CU_ASSERT_TRUE(ok);
    if (!ok)
        printf("\n  message \"%s\" lacks \"%s\"\n", err.msg, phrase);
    json_object_put(in);
}

/* Write tree in (built in code, not read) expecting exactly message want. */
static void write_fails_exactly(json_object *in, const char *want)
{
    struct fhir_error err = {0};
    char *xml = fhir_xml_write(in, &err);
    CU_ASSERT_PTR_NULL(xml);
    free(xml);
    if (strcmp(err.msg, want) != 0)
        printf("\n  want: %s\n  got:  %s\n", want, err.msg);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    json_object_put(in);
}

/* stderr (fd 2) into a temporary file between stderr_begin and stderr_end,
 * which returns how many bytes were written there (and shows them). */
struct captured {
    FILE *tmp;
    int saved;
};

static void stderr_begin(struct captured *c)
{
    fflush(stderr);
    c->tmp = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c->tmp);
    c->saved = dup(2);
    CU_ASSERT_FATAL(c->saved >= 0 && dup2(fileno(c->tmp), 2) >= 0);
}

static long stderr_end(struct captured *c)
{
    char buf[512];
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    long n = ftell(c->tmp);
    rewind(c->tmp);
    size_t got = fread(buf, 1, sizeof buf - 1, c->tmp);
    buf[got] = '\0';
    if (n > 0)
        printf("\n  printed on stderr: %s\n", buf);
    fclose(c->tmp);
    return n;
}

/* The whole of dir/name (caller frees); NULL if unreadable. */
static char *read_file(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
        }
        buf = bigger;
        cap *= 2;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Counts (and refuses) every external entity libxml2 tries to load. */
static int entity_loads;
static xmlParserInputPtr counting_loader(const char *url, const char *id,
                                         xmlParserCtxtPtr ctxt)
{
    (void)url;
    (void)id;
    (void)ctxt;
    entity_loads++;
    return NULL;
}

/* ---- fixtures ----------------------------------------------------------- */

static const char bundle_xml[] =
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    "<!-- two observations -->\n"
    "<Bundle xmlns='http://hl7.org/fhir'>\n"
    "  <id value='b1'/>\n"
    "  <type value='collection'/>\n"
    "  <entry>\n"
    "    <fullUrl value='urn:uuid:0a1b'/>\n"
    "    <resource>\n"
    "      <Observation>\n"
    "        <id value='ki67'/>\n"
    "        <status value='final'/>\n"
    "        <code>\n"
    "          <coding><system value='http://loinc.org'/><code value='85319-2'/></coding>\n"
    "          <text value='Ki-67'/>\n"
    "        </code>\n"
    "        <valueQuantity>\n"
    "          <value value='4.0'/><unit value='%'/>\n"
    "          <system value='http://unitsofmeasure.org'/><code value='%'/>\n"
    "        </valueQuantity>\n"
    "      </Observation>\n"
    "    </resource>\n"
    "  </entry>\n"
    "  <entry>\n"
    "    <resource>\n"
    "      <Observation>\n"
    "        <?some-pi data?>\n"
    "        <status value='final'/>\n"
    "        <code><text value='grade'/></code>\n"
    "        <valueCodeableConcept>\n"
    "          <coding><system value='http://snomed.info/sct'/><code value='1'/></coding>\n"
    "          <coding><system value='urn:local'/><code value='G1'/>\n"
    "            <display value='Grade 1 &amp; &lt;low&gt; &quot;x&quot;'/></coding>\n"
    "        </valueCodeableConcept>\n"
    "        <component id='c1'>\n"
    "          <code><text value='mitoses'/></code>\n"
    "          <valueInteger value='2'/>\n"
    "        </component>\n"
    "        <component>\n"
    "          <code><text value='necrosis'/></code>\n"
    "          <valueBoolean value='false'/>\n"
    "        </component>\n"
    "      </Observation>\n"
    "    </resource>\n"
    "  </entry>\n"
    "</Bundle>\n";

static const char bundle_json[] =
    "{'resourceType':'Bundle','id':'b1','type':'collection','entry':["
    " {'fullUrl':'urn:uuid:0a1b','resource':{'resourceType':'Observation','id':'ki67',"
    "  'status':'final',"
    "  'code':{'coding':[{'system':'http://loinc.org','code':'85319-2'}],'text':'Ki-67'},"
    "  'valueQuantity':{'value':'4.0','unit':'%','system':'http://unitsofmeasure.org',"
    "   'code':'%'}}},"
    " {'resource':{'resourceType':'Observation','status':'final','code':{'text':'grade'},"
    "  'valueCodeableConcept':{'coding':[{'system':'http://snomed.info/sct','code':'1'},"
    "   {'system':'urn:local','code':'G1','display':'Grade 1 & <low> \\'x\\''}]},"
    "  'component':[{'id':'c1','code':{'text':'mitoses'},'valueInteger':'2'},"
    "   {'code':{'text':'necrosis'},'valueBoolean':'false'}]}}]}";

#define DAR "http://hl7.org/fhir/StructureDefinition/data-absent-reason"

static const char patient_xml[] =
    "<Patient xmlns='http://hl7.org/fhir'\n"
    "    xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'\n"
    "    xsi:schemaLocation='http://hl7.org/fhir fhir-all.xsd'>\n"
    "  <id value='p1'/>\n"
    "  <meta><profile value='http://example.org/p'/></meta>\n"
    "  <text>\n"
    "    <status value='generated'/>\n"
    "    <div xmlns='http://www.w3.org/1999/xhtml'><p>Jane <b>Doe</b>, &lt;1970&gt;</p></div>\n"
    "  </text>\n"
    "  <contained>\n"
    "    <Practitioner><id value='pr1'/><name><family value='Who'/></name></Practitioner>\n"
    "  </contained>\n"
    "  <extension url='http://example.org/ext'><valueString value='x'/></extension>\n"
    "  <name>\n"
    "    <family value='Doe'/>\n"
    "    <given value='Jane'/>\n"
    "    <given><extension url='" DAR "'><valueCode value='unknown'/></extension></given>\n"
    "    <given id='g3' value='Q'/>\n"
    "  </name>\n"
    "  <gender><extension url='" DAR "'><valueCode value='asked-declined'/></extension></gender>\n"
    "  <birthDate id='bd' value='1970-01-01'>\n"
    "    <extension url='http://hl7.org/fhir/StructureDefinition/patient-birthTime'>\n"
    "      <valueDateTime value='1970-01-01T08:00:00Z'/>\n"
    "    </extension>\n"
    "  </birthDate>\n"
    "  <generalPractitioner><reference value='#pr1'/></generalPractitioner>\n"
    "</Patient>\n";

static const char patient_json[] =
    "{'resourceType':'Patient','id':'p1','meta':{'profile':['http://example.org/p']},"
    " 'text':{'status':'generated','div':"
    "  '<div xmlns=\\'http://www.w3.org/1999/xhtml\\'><p>Jane <b>Doe</b>, &lt;1970&gt;</p></div>'},"
    " 'contained':[{'resourceType':'Practitioner','id':'pr1','name':[{'family':'Who'}]}],"
    " 'extension':[{'url':'http://example.org/ext','valueString':'x'}],"
    " 'name':[{'family':'Doe','given':['Jane',null,'Q'],"
    "  '_given':[null,{'extension':[{'url':'" DAR "','valueCode':'unknown'}]},{'id':'g3'}]}],"
    " '_gender':{'extension':[{'url':'" DAR "','valueCode':'asked-declined'}]},"
    " 'birthDate':'1970-01-01',"
    " '_birthDate':{'id':'bd','extension':[{'url':"
    "  'http://hl7.org/fhir/StructureDefinition/patient-birthTime',"
    "  'valueDateTime':'1970-01-01T08:00:00Z'}]},"
    " 'generalPractitioner':{'reference':'#pr1'}}";

/* ---- XML -> JSON -------------------------------------------------------- */

static void test_read_bundle(void)
{
    assert_same(parse_ok(bundle_xml), jq(bundle_json));
}

static void test_read_patient(void)
{
    assert_same(parse_ok(patient_xml), jq(patient_json));
}

static void test_read_repeats(void)
{
    /* A repeated element not in the always-array table becomes an array, a
     * single one does not; name is single in Parameters; a complex extension
     * (only extension children) stays complex; outcome holds a resource. */
    static const char xml[] =
        "<Parameters xmlns='http://hl7.org/fhir'>"
        " <parameter><name value='a'/><valueString value='1'/></parameter>"
        " <parameter><name value='b'/>"
        "  <resource><OperationOutcome><issue><severity value='error'/>"
        "   <expression value='Patient.x'/></issue></OperationOutcome></resource>"
        " </parameter>"
        " <parameter><name value='c'/>"
        "  <extension url='http://e/complex'><extension url='k'><valueCode value='v'/>"
        "   </extension></extension>"
        "  <part><name value='p'/><valueDecimal value='1.50'/></part></parameter>"
        "</Parameters>";
    static const char json[] =
        "{'resourceType':'Parameters','parameter':["
        " {'name':'a','valueString':'1'},"
        " {'name':'b','resource':{'resourceType':'OperationOutcome','issue':[{"
        "  'severity':'error','expression':['Patient.x']}]}},"
        " {'name':'c','extension':[{'url':'http://e/complex','extension':[{'url':'k',"
        "  'valueCode':'v'}]}],'part':[{'name':'p','valueDecimal':'1.50'}]}]}";
    assert_same(parse_ok(xml), jq(json));
}

/* ---- JSON -> XML -> JSON ------------------------------------------------- */

static void test_round_trip(void)
{
    static const char in[] =
        "{'resourceType':'Observation','id':'o1',"
        " 'meta':{'profile':['http://example.org/p']},"
        " 'text':{'status':'generated','div':"
        "  '<div xmlns=\\'http://www.w3.org/1999/xhtml\\'><p>a <i>b</i></p><p>c</p></div>'},"
        " 'contained':[{'resourceType':'Specimen','id':'s1','type':{'text':'biopsy'}}],"
        " 'extension':[{'url':'http://e/x?a=1&b=2','valueBoolean':true}],"
        " 'status':'final',"
        " 'category':[{'coding':[{'system':'http://terminology.hl7.org/CodeSystem/"
        "observation-category','code':'laboratory'}]}],"
        " 'code':{'id':'c1','text':'Ki-67 \\'<&>\\' \\u00e9\\n2'},"
        " 'specimen':{'reference':'#s1'},"
        " '_issued':{'extension':[{'url':'" DAR "','valueCode':'unknown'}]},"
        " 'valueQuantity':{'value':4.0,'comparator':'<','unit':'%'},"
        " 'interpretation':[{'text':'high'}],"
        " 'note':[{'text':'n'}],"
        " 'component':[{'code':{'text':'mitoses'},'valueInteger':4},"
        "  {'code':{'text':'necrosis'},'valueBoolean':false,"
        "   '_valueBoolean':{'id':'vb'}},"
        "  {'code':{'text':'size'},'valueDecimal':12.50}]}";
    static const char want[] =
        "{'resourceType':'Observation','id':'o1',"
        " 'meta':{'profile':['http://example.org/p']},"
        " 'text':{'status':'generated','div':"
        "  '<div xmlns=\\'http://www.w3.org/1999/xhtml\\'><p>a <i>b</i></p><p>c</p></div>'},"
        " 'contained':[{'resourceType':'Specimen','id':'s1','type':{'text':'biopsy'}}],"
        " 'extension':[{'url':'http://e/x?a=1&b=2','valueBoolean':'true'}],"
        " 'status':'final',"
        " 'category':[{'coding':[{'system':'http://terminology.hl7.org/CodeSystem/"
        "observation-category','code':'laboratory'}]}],"
        " 'code':{'id':'c1','text':'Ki-67 \\'<&>\\' \\u00e9\\n2'},"
        " 'specimen':{'reference':'#s1'},"
        " '_issued':{'extension':[{'url':'" DAR "','valueCode':'unknown'}]},"
        " 'valueQuantity':{'value':'4.0','comparator':'<','unit':'%'},"
        " 'interpretation':[{'text':'high'}],"
        " 'note':[{'text':'n'}],"
        " 'component':[{'code':{'text':'mitoses'},'valueInteger':'4'},"
        "  {'code':{'text':'necrosis'},'valueBoolean':'false',"
        "   '_valueBoolean':{'id':'vb'}},"
        "  {'code':{'text':'size'},'valueDecimal':'12.50'}]}";
    json_object *src = jq(in);
    char *xml = NULL;
    assert_same(round_trip(src, &xml), jq(want));
    json_object_put(src);
    CU_ASSERT_PTR_NOT_NULL_FATAL(xml);
    CU_ASSERT_EQUAL(strncmp(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<Observation xmlns=\"http://hl7.org/fhir\">"));
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "\n  <id value=\"o1\"/>"));           /* element */
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<code id=\"c1\">"));                 /* attribute */
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "url=\"http://e/x?a=1&amp;b=2\"")); /* escaped */
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "&lt;&amp;&gt;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "&#10;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<value value=\"4.0\"/>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<valueInteger value=\"4\"/>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<valueBoolean id=\"vb\" value=\"false\"/>"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(xml, "<contained>\n    <Specimen>\n      <id value=\"s1\"/>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<p>a <i>b</i></p><p>c</p></div>\n"));
    free(xml);
}

/* XML -> JSON -> XML -> JSON gives the same tree. */
static void test_round_trip_read(void)
{
    const char *docs[] = {bundle_xml, patient_xml};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_object *first = parse_ok(docs[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(first);
        char *xml = NULL;
        assert_same(round_trip(first, &xml), json_object_get(first));
        json_object_put(first);
        free(xml);
    }
}

static void test_write_errors(void)
{
    write_fails("{'id':'x'}", "resourceType missing");
    write_fails("{'resourceType':'patient'}", "not a resource type");
    write_fails("{'resourceType':'Patient','text':{'div':'<div>unclosed'}}",
                "Patient.text.div: xhtml does not parse");
    write_fails("{'resourceType':'Patient','text':{'div':'<p>x</p>'}}", "must be a div element");
    write_fails("{'resourceType':'Patient','text':{'div':'<div>no namespace</div>'}}",
                "must be a div element in namespace");
    write_fails("{'resourceType':'Patient','name':[{'given':['a','b'],'_given':[null]}]}",
                "Patient.name[0]: _given has 1 entries for 2 values");
    write_fails("{'resourceType':'Patient','a b':'x'}",
                "Patient: member name \"a b\" is not a FHIR element name");
    write_fails("{'resourceType':'Patient','gender':'\\u0001'}",
                "Patient.gender: control character U+0001 in a string");
    write_fails("{'resourceType':'Patient','gender':'\\uffff'}",
                "Patient.gender: noncharacter U+FFFF in a string");
    write_fails("{'resourceType':'Patient','name':[[{'family':'x'}]]}", "array inside an array");
    /* fuzz_roundtrip: <coding value="4"/><coding><system .../></coding> is a
     * group the reader refuses; the writer refuses it first */
    write_fails("{'resourceType':'Observation','code':{'coding':[4,{'system':'x'}]}}",
                "Observation.code: coding mixes primitive values and complex elements");
    /* fuzz_roundtrip: "_entr": [{}] became <entr/>, read back as something else */
    write_fails("{'resourceType':'Bundle','_entr':[{}]}",
                "Bundle.entr[0]: _entr is empty (neither id nor extension)");
    write_fails("{'resourceType':'Patient','gender':'male','_gender':{}}",
                "Patient.gender: _gender is empty (neither id nor extension)");
    write_fails("{'resourceType':'Patient','gender':null}", "null with no _gender");
    write_fails("{'resourceType':'Patient','_gender':{'foo':1}}", "unexpected \"foo\"");
}

/* The writer refuses every name the reader would refuse (trees built in code,
 * so nothing checked them on the way in), naming the path. */
static void test_write_names(void)
{
    static const char cap[] = "member name \"S\" starts with a capital letter (FHIR element "
                              "names are lowerCamelCase; a capital marks a resource type)";
    static const char bad[] = " is not a FHIR element name (letters, digits and _, starting "
                              "with a lowercase letter)";
    char want[FHIR_ERROR_LEN];
    /* xml-writer-unreadable-key.json: would be <S value=""/>, read as a resource */
    snprintf(want, sizeof want, "XML writer: B.n[0]: %s", cap);
    write_fails_exactly(jq("{'resourceType':'B','n':[{'S':''}]}"), want);
    /* xml-writer-invalid-utf8-name.json: byte 0xFF in a name */
    json_object *o = jq("{'resourceType':'O'}");
    json_object_object_add(o, "s\xff", json_object_new_object());
    snprintf(want, sizeof want, "XML writer: O: member name \"s\\xFF\"%s", bad);
    write_fails_exactly(o, want);
    snprintf(want, sizeof want, "XML writer: Patient.name[0]: member name \"a-b\"%s", bad);
    write_fails_exactly(jq("{'resourceType':'Patient','name':[{'a-b':'x'}]}"), want);
    write_fails_exactly(jq("{'resourceType':'Patient','':'x'}"),
                        "XML writer: Patient: empty member name");
    snprintf(want, sizeof want, "XML writer: Patient: member name \"__x\"%s", bad);
    write_fails_exactly(jq("{'resourceType':'Patient','__x':{}}"), want);
    write_fails_exactly(jq("{'resourceType':'Patient','_gender':{'Id':'x'}}"),
                        "XML writer: Patient.gender: member name \"Id\" starts with a capital "
                        "letter (FHIR element names are lowerCamelCase; a capital marks a "
                        "resource type)");
    write_fails_exactly(jq("{'resourceType':'Obs-x'}"),
                        "XML writer: \"Obs-x\" is not a resource type name");
    o = jq("{'resourceType':'Patient'}");
    json_object_object_add(o, "gender", json_object_new_string_len("m\0f", 3));
    write_fails_exactly(o, "XML writer: Patient.gender: control character U+0000 in a string");
    o = jq("{'resourceType':'Patient','text':{}}");
    json_object_object_add(json_object_object_get(o, "text"), "div",
                           json_object_new_string("<div xmlns='" FHIR_XML_XHTML_NS "'>\xC0</div>"));
    write_fails_exactly(o, "XML writer: Patient.text.div: invalid UTF-8");
}

/* ---- round trips of files ------------------------------------------------ */

/* 1 if back, read from the XML that orig was written as, holds what orig holds
 * as far as FHIR XML without a schema can say it (fhir_xml.h): a number or
 * boolean comes back as the string of its JSON text, and a one-item array as
 * its item when the reader cannot know the element repeats. */
static int same_modulo_xml(json_object *orig, json_object *back)
{
    enum json_type to = json_object_get_type(orig), tb = json_object_get_type(back);
    if (to == json_type_array && tb != json_type_array)
        return json_object_array_length(orig) == 1 &&
               same_modulo_xml(json_object_array_get_idx(orig, 0), back);
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
            if (!same_modulo_xml(json_object_array_get_idx(orig, i),
                                 json_object_array_get_idx(back, i)))
                return 0;
        return 1;
    }
    if (to == json_type_object) {
        if (json_object_object_length(orig) != json_object_object_length(back))
            return 0;
        json_object_object_foreach(orig, key, v)
        {
            json_object *bv;
            if (!json_object_object_get_ex(back, key, &bv) || !same_modulo_xml(v, bv))
                return 0;
        }
        return 1;
    }
    return json_object_equal(orig, back);
}

/* A clean error: says something, starts with prefix, and is itself a sound
 * string (no raw byte of the input leaks into messages and logs). */
static void assert_clean_error(const struct fhir_error *e, const char *prefix)
{
    char why[FHIR_WHY_LEN];
    int ok = strncmp(e->msg, prefix, strlen(prefix)) == 0 && strlen(e->msg) > strlen(prefix) &&
             fhir_text_check(e->msg, strlen(e->msg), why, sizeof why) == 0;
    if (!ok)
        printf("\n  unclean error (want prefix %s): %s\n", prefix, e->msg);
    CU_ASSERT_TRUE(ok);
}

/* One file: read (JSON or XML), write as XML, read back: the same tree, or a
 * clean error at one of the steps. Returns 1 when it went all the way. */
static int round_trip_file(const char *dir, const char *name)
{
    size_t len = 0;
    char *buf = read_file(dir, name, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    struct fhir_error e = {0};
    json_object *first = fhir_parse(buf, len, NULL, name, &e), *back = NULL;
    char *xml = NULL;
    free(buf);
    if (!first) {
        assert_clean_error(&e, name);
        return 0;
    }
    xml = fhir_xml_write(first, &e);
    if (!xml)
        assert_clean_error(&e, "XML writer: ");
    else if (!(back = fhir_xml_parse(xml, strlen(xml), NULL, "written.xml", &e)))
        printf("\n  %s: the reader refuses what the writer wrote: %s\n", name, e.msg);
    CU_ASSERT_TRUE(!xml || back); /* the reader reads back whatever the writer writes */
    int same = !back || same_modulo_xml(first, back);
    if (!same)
        printf("\n  %s: not the same tree after JSON -> XML -> JSON\n", name);
    CU_ASSERT_TRUE(same);
    json_object_put(first);
    json_object_put(back);
    free(xml);
    return back != NULL;
}

/* Every .json and .xml file of dir; returns how many went all the way. */
static int round_trip_dir(const char *dir, int *files)
{
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int whole = 0;
    *files = 0;
    for (struct dirent *de; (de = readdir(d));) {
        size_t n = strlen(de->d_name);
        if ((n > 5 && strcmp(de->d_name + n - 5, ".json") == 0) ||
            (n > 4 && strcmp(de->d_name + n - 4, ".xml") == 0)) {
            ++*files;
            whole += round_trip_file(dir, de->d_name);
        }
    }
    closedir(d);
    return whole;
}

static void test_round_trip_files(void)
{
    struct captured c;
    int files;
    stderr_begin(&c);
    int whole = round_trip_dir(EXAMPLES_DIR, &files);
    CU_ASSERT_TRUE(files >= 11);
    CU_ASSERT_EQUAL(whole, files); /* every example goes all the way */
    round_trip_dir(HOSTILE_DIR, &files);
    CU_ASSERT_EQUAL(files, 6);
    CU_ASSERT_EQUAL(stderr_end(&c), 0);
}

/* ---- hostile input ------------------------------------------------------- */

static void test_xxe(void)
{
    static const char xml[] =
        "<?xml version='1.0'?>\n"
        "<!DOCTYPE Patient [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>\n"
        "<Patient xmlns='http://hl7.org/fhir'><id value='&e;'/>\n"
        " <text><status value='generated'/>\n"
        "  <div xmlns='http://www.w3.org/1999/xhtml'>&e;</div></text></Patient>\n";
    xmlExternalEntityLoader prev = xmlGetExternalEntityLoader();
    xmlSetExternalEntityLoader(counting_loader);
    entity_loads = 0;
    parse_fails(xml, NULL, "DOCTYPE not allowed", "line 2");
    CU_ASSERT_EQUAL(entity_loads, 0);
    xmlSetExternalEntityLoader(prev);
}

static void test_billion_laughs(void)
{
    static const char xml[] =
        "<?xml version='1.0'?>\n"
        "<!DOCTYPE lolz [\n"
        " <!ENTITY lol 'lol'>\n"
        " <!ENTITY lol1 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>\n"
        " <!ENTITY lol2 '&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;'>\n"
        " <!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>\n"
        " <!ENTITY lol4 '&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;'>\n"
        " <!ENTITY lol5 '&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;'>\n"
        " <!ENTITY lol6 '&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;'>\n"
        " <!ENTITY lol7 '&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;'>\n"
        " <!ENTITY lol8 '&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;'>\n"
        " <!ENTITY lol9 '&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;'>\n"
        "]>\n"
        "<Patient xmlns='http://hl7.org/fhir'><id value='&lol9;'/>"
        "<gender value='&lol9;'>&lol9;</gender></Patient>\n";
    parse_fails(xml, NULL, "DOCTYPE not allowed (no DTD, no entities)", NULL);
}

static void test_doctype(void)
{
    xmlExternalEntityLoader prev = xmlGetExternalEntityLoader();
    xmlSetExternalEntityLoader(counting_loader);
    entity_loads = 0;
    parse_fails("<!DOCTYPE Patient>\n<Patient xmlns='http://hl7.org/fhir'/>", NULL,
                "DOCTYPE not allowed", NULL);
    parse_fails("<!DOCTYPE Patient SYSTEM 'file:///etc/passwd'>\n"
                "<Patient xmlns='http://hl7.org/fhir'/>",
                NULL, "DOCTYPE not allowed", NULL);
    CU_ASSERT_EQUAL(entity_loads, 0);
    xmlSetExternalEntityLoader(prev);
    /* An undeclared entity without a DOCTYPE is simply not well-formed. */
    parse_fails("<Patient xmlns='http://hl7.org/fhir'>\n<id value='&e;'/></Patient>", NULL,
                "line 2", "Entity 'e' not defined");
}

static void test_depth(void)
{
    static const char head[] = "<Patient xmlns='http://hl7.org/fhir'>";
    char xml[2048];
    size_t n = 0;
    n += (size_t)snprintf(xml + n, sizeof xml - n, "%s", head);
    for (int i = 0; i < 99; i++)
        n += (size_t)snprintf(xml + n, sizeof xml - n, "<a>");
    for (int i = 0; i < 99; i++)
        n += (size_t)snprintf(xml + n, sizeof xml - n, "</a>");
    snprintf(xml + n, sizeof xml - n, "</Patient>");
    parse_fails(xml, NULL, "nested deeper than 32", "Patient.a.a.a.a");
    struct fhir_limits lim = {FHIR_LIMITS_DEFAULT_BYTES, 3};
    parse_fails("<Bundle xmlns='http://hl7.org/fhir'><entry><resource><Patient/></resource>"
                "</entry></Bundle>",
                &lim, "t.xml: Bundle.entry[0].resource.Patient: elements nested deeper than 3",
                NULL);
}

static void test_size(void)
{
    struct fhir_limits lim = {64, FHIR_LIMITS_DEFAULT_DEPTH};
    parse_fails("<Patient xmlns='http://hl7.org/fhir'><id value='0123456789012345678901'/>"
                "</Patient>",
                &lim, "document is 83 bytes, limit 64", NULL);
    parse_fails("", NULL, "empty document", NULL);
}

static void test_namespaces(void)
{
    parse_fails("<Patient xmlns='http://example.org/'/>", NULL,
                "root element Patient is not in namespace http://hl7.org/fhir", NULL);
    parse_fails("<Patient/>", NULL, "not in namespace http://hl7.org/fhir", "none");
    parse_fails("<Patient xmlns='http://hl7.org/fhir' xmlns:x='urn:x'><x:foo/></Patient>", NULL,
                "t.xml: Patient: element foo is in namespace urn:x", NULL);
    parse_fails("<f:Patient xmlns:f='http://hl7.org/fhir'><f:name><family value='x'/>"
                "</f:name></f:Patient>",
                NULL, "Patient.name[0]: element family has no namespace", NULL);
    /* A prefix for the FHIR namespace is fine. */
    json_object *o = parse_ok("<f:Patient xmlns:f='http://hl7.org/fhir'><f:active value='true'/>"
                              "</f:Patient>");
    assert_same(o, jq("{'resourceType':'Patient','active':'true'}"));
}

static void test_bad_content(void)
{
    parse_fails("<Patient xmlns='http://hl7.org/fhir'><active value='true'/>hello</Patient>", NULL,
                "t.xml: Patient: text not allowed in a FHIR element", NULL);
    parse_fails("<Patient xmlns='http://hl7.org/fhir'><name><family>Doe</family></name></Patient>",
                NULL, "Patient.name[0].family: text not allowed", NULL);
    parse_fails("<Patient xmlns='http://hl7.org/fhir'><active value='true' foo='1'/></Patient>",
                NULL, "Patient.active: unexpected attribute foo", NULL);
    parse_fails("<Patient xmlns='http://hl7.org/fhir'><gender value='x'><code value='y'/>"
                "</gender></Patient>",
                NULL, "Patient.gender: primitive element has child code", NULL);
    parse_fails("<Patient xmlns='http://hl7.org/fhir'><active value='true'/><active><x/></active>"
                "</Patient>",
                NULL, "active mixes primitive (value) and complex", NULL);
    parse_fails("<Bundle xmlns='http://hl7.org/fhir'><entry><resource><Patient/><Patient/>"
                "</resource></entry></Bundle>",
                NULL, "Bundle.entry[0].resource: holds more than one resource", NULL);
}

/* xml-declared-iso-2022-jp.xml: refused for its encoding before libxml2
 * decodes anything; nothing on stderr. */
static void test_hostile_encoding_file(void)
{
    static const char want[] = "xml-declared-iso-2022-jp.xml: line 1: encoding \"ISO-2022-JP\" "
                               "declared: FHIR XML must be UTF-8";
    size_t len;
    char *buf = read_file(HOSTILE_DIR, "xml-declared-iso-2022-jp.xml", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    struct fhir_error e = {0};
    struct captured c;
    stderr_begin(&c);
    json_object *o = fhir_parse(buf, len, NULL, "xml-declared-iso-2022-jp.xml", &e);
    CU_ASSERT_EQUAL(stderr_end(&c), 0);
    CU_ASSERT_PTR_NULL(o);
    json_object_put(o);
    if (strcmp(e.msg, want) != 0)
        printf("\n  want: %s\n  got:  %s\n", want, e.msg);
    CU_ASSERT_STRING_EQUAL(e.msg, want);
    free(buf);
}

static void test_encodings(void)
{
    parse_fails("<?xml version='1.0' encoding='ISO-8859-1'?>\n<Patient xmlns='http://hl7.org/fhir'/>",
                NULL, "t.xml: line 1: encoding \"ISO-8859-1\" declared: FHIR XML must be UTF-8",
                NULL);
    parse_fails("<?xml version=\"1.0\"\n encoding = \"windows-1252\" ?><Patient/>", NULL,
                "encoding \"windows-1252\" declared", NULL);
    assert_same(parse_ok("<?xml version='1.0' encoding='utf-8'?><Patient "
                         "xmlns='http://hl7.org/fhir'><gender value='\xC3\xA9'/></Patient>"),
                jq("{'resourceType':'Patient','gender':'\xC3\xA9'}"));
    assert_same(parse_ok("\xEF\xBB\xBF<?xml version='1.0' encoding='UTF-8'?><Patient "
                         "xmlns='http://hl7.org/fhir'/>"),
                jq("{'resourceType':'Patient'}"));
    /* no declaration (UTF-8 by default) and a PI that is not the declaration */
    assert_same(parse_ok("<Patient xmlns='http://hl7.org/fhir'/>"), jq("{'resourceType':'Patient'}"));
    static const char utf16[] = "\xFF\xFE<\0P\0/\0>\0";
    struct fhir_error e = {0};
    json_object *o = fhir_xml_parse(utf16, sizeof utf16 - 1, NULL, "t.xml", &e);
    CU_ASSERT_PTR_NULL(o);
    CU_ASSERT_STRING_EQUAL(e.msg, "t.xml: UTF-16 or UTF-32 byte order mark: FHIR XML must be UTF-8");
    /* bytes that are not UTF-8 are refused by the parse (read as UTF-8) */
    parse_fails("<Patient xmlns='http://hl7.org/fhir'>\n<gender value='\xFA'/></Patient>", NULL,
                "t.xml: XML not well-formed at line 2: invalid UTF-8", NULL);
    parse_fails("<?xml version='1.0' encoding='UTF-8'?><Patient xmlns='http://hl7.org/fhir'>"
                "<gender value='\xE9'/></Patient>",
                NULL, "invalid UTF-8", NULL);
    /* XML forbids the control characters FHIR forbids, even as references */
    parse_fails("<Patient xmlns='http://hl7.org/fhir'><gender value='&#1;'/></Patient>", NULL,
                "XML not well-formed at line 1: xmlParseCharRef: invalid xmlChar value 1", NULL);
}

/* Names XML allows but FHIR does not: refused by the same check as JSON. */
static void test_read_names(void)
{
    parse_fails("<Patient xmlns='http://hl7.org/fhir'><id value='p1'/><name><fa-mily value='x'/>"
                "</name></Patient>",
                NULL,
                "t.xml: Patient/p1.name[0]: member name \"fa-mily\" is not a FHIR element name",
                NULL);
    parse_fails("<Patient xmlns='http://hl7.org/fhir'><g\xC3\xA9nder value='x'/></Patient>", NULL,
                "t.xml: Patient: member name \"g\\xC3\\xA9nder\" is not a FHIR element name",
                NULL);
    parse_fails("<Bundle xmlns='http://hl7.org/fhir'><entry><resource><Obs-x/></resource></entry>"
                "</Bundle>",
                NULL, "t.xml: Bundle.entry[0].resource.resourceType: \"Obs-x\" is not a resource "
                      "type name",
                NULL);
}

/* libxml2 prints nothing, whatever it is given: its messages are in err. */
static void test_quiet(void)
{
    static const char *docs[] = {
        "<Patient xmlns='http://hl7.org/fhir'>\n<id value='1'>\n</Patient>\n",
        "<Patient xmlns='http://hl7.org/fhir'><id value='\xFF\xFE'/></Patient>",
        "<?xml version='1.0' encoding='bogus'?><Patient/>",
        "<?xml version='1.0' encoding='UTF-16'?><Patient/>",
        "<?xml version='1.0' encoding='UTF-8' standalone='maybe'?><Patient/>",
        "<?xml version='2.0'?><Patient xmlns='http://hl7.org/fhir'/>",
        "<Patient xmlns='http://hl7.org/fhir' xmlns:a='urn:a' a:x='1' a:x='2'/>",
        "<Patient xmlns='http://hl7.org/fhir'><a:b/></Patient>",
        "<Patient xmlns='http://hl7.org/fhir'>\x1B$B</Patient>",
        "<Patient xmlns='http://hl7.org/fhir'><!-- -- --></Patient>",
        "<Patient xmlns='http://hl7.org/fhir'><![CDATA[x</Patient>",
        "<Patient xmlns='%'/>",
        "\xEF\xBB\xBF\xEF\xBB\xBF<Patient/>",
    };
    struct captured c;
    stderr_begin(&c);
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        struct fhir_error e = {0};
        json_object *o = fhir_xml_parse(docs[i], strlen(docs[i]), NULL, "t.xml", &e);
        if (o) {
            json_object_put(o);
            continue; /* a warning at most (the relative namespace URI) */
        }
        assert_clean_error(&e, "t.xml: ");
    }
    /* a narrative the writer cannot parse: the message is in the writer's err */
    write_fails("{'resourceType':'Patient','text':{'div':'<?xml version=\\'1.0\\' "
                "encoding=\\'EBCDIC\\'?><div/>'}}",
                "Patient.text.div: xhtml does not parse (div: line 1: encoding \"EBCDIC\"");
    /* errors libxml2 raises with no parser context (here its I/O layer; in a
     * parse, its encoding layer, which fhir_xml_read_doc never lets convert),
     * and a message printed through the generic handler */
    struct fhir_error e = {0}, e2 = {0};
    struct fhir_xml_errors xe;
    xmlDoc *d = xmlNewDoc(BAD_CAST "1.0");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    fhir_xml_errors_begin(&xe, "t.xml", &e);
    CU_ASSERT_EQUAL(xmlSaveFile("/nonexistent-nenfhir-dir/x.xml", d), -1);
    fhir_xml_errors_end(&xe);
    xmlFreeDoc(d);
    CU_ASSERT_TRUE(xe.failed);
    CU_ASSERT_STRING_EQUAL(e.msg, "t.xml: libxml2: No such file or directory");
    fhir_xml_errors_begin(&xe, "t.xml", &e2);
    xmlGenericError(xmlGenericErrorContext, "generic %d\nsecond line", 1);
    fhir_xml_errors_end(&xe);
    CU_ASSERT_STRING_EQUAL(e2.msg, "t.xml: libxml2: generic 1");
    CU_ASSERT_EQUAL(stderr_end(&c), 0);
    /* the handlers of the thread are given back */
    CU_ASSERT_PTR_NULL(xmlStructuredError);
}

static void test_malformed(void)
{
    parse_fails("<Patient xmlns='http://hl7.org/fhir'>\n<id value='1'>\n</Patient>\n", NULL,
                "XML not well-formed at line 3", "mismatch");
    parse_fails("not xml at all", NULL, "XML not well-formed at line 1", NULL);
    parse_fails("<Patient xmlns='http://hl7.org/fhir'>\n<id value='1'/>", NULL,
                "XML not well-formed at line 2", NULL);
}

int main(void)
{
    CU_TestInfo tests[] = {{"read bundle", test_read_bundle},
                           {"read patient", test_read_patient},
                           {"read repeats", test_read_repeats},
                           {"round trip", test_round_trip},
                           {"round trip read", test_round_trip_read},
                           {"write errors", test_write_errors},
                           {"writer refuses names the reader refuses", test_write_names},
                           {"round trip of examples and hostile files", test_round_trip_files},
                           {"hostile: encoding ISO-2022-JP declared", test_hostile_encoding_file},
                           {"encodings", test_encodings},
                           {"names FHIR does not allow", test_read_names},
                           {"libxml2 prints nothing", test_quiet},
                           {"xxe", test_xxe},
                           {"billion laughs", test_billion_laughs},
                           {"doctype", test_doctype},
                           {"depth", test_depth},
                           {"size", test_size},
                           {"namespaces", test_namespaces},
                           {"bad content", test_bad_content},
                           {"malformed", test_malformed},
                           CU_TEST_INFO_NULL};
    int rc = test_run_suite("fhir_xml", tests);
    xmlCleanupParser();
    return rc;
}
