/*
 * fhir_xml_write.c - FHIR JSON tree -> FHIR R4 XML (fhir_xml_write, see
 * fhir_xml.h). Builds a libxml2 document that it owns for the length of the
 * call, indents it, serialises it; the returned string belongs to the caller.
 * The JSON tree is only read.
 *
 * Mapping (https://hl7.org/fhir/R4/xml.html, json.html): "resourceType" names
 * the element; a string, number or boolean is <name value="..."/> (numbers in
 * their JSON text); "_name" adds the id attribute and extension children to
 * the same element (arrays aligned with nulls); an object is an element, its
 * "id" an attribute (except a resource's id, which is an element) and an
 * extension's "url" an attribute; an object with "resourceType" inside a
 * property is wrapped: <resource><Type>...</Type></resource>; "div" is parsed
 * as xhtml and inserted. Elements follow the JSON key order.
 *
 * Never writes what fhir_xml_parse would refuse: every member name must be a
 * FHIR element name and every string a FHIR string (fhir_strings.h; a
 * capitalised key such as "S" is refused rather than written as an element the
 * reader would take for a resource), so a tree the JSON reader accepted comes
 * back from XML as the same tree (up to the limits fhir_xml.h states), or the
 * writer fails with a message naming the path. libxml2 prints nothing: its
 * messages go into err.
 */
#include "fhir_xml.h"

#include "fhir_strings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlstring.h>

/* Bounds the recursion (objects nested this deep are not FHIR; guards
 * against a tree that contains itself). */
#define WR_MAX_DEPTH 256
/* Indentation stops growing past this level. */
#define WR_MAX_INDENT 64

struct wr {
    struct fhir_error *err;
    xmlDoc *doc;
    xmlNs *ns; /* http://hl7.org/fhir, declared on the root */
    struct fhir_path path; /* "Bundle.entry[0].resource.Observation.code" */
};

static int wr_fail(struct wr *wr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set err to "XML writer: path: message"; returns -1. */
static int wr_fail(struct wr *wr, const char *fmt, ...)
{
    char msg[FHIR_ERROR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fhir_error_set(wr->err, "XML writer: %s%s%s", wr->path.text, wr->path.len ? ": " : "", msg);
    return -1;
}

static int wr_oom(struct wr *wr)
{
    return wr_fail(wr, "out of memory");
}


static int is_extension(const xmlChar *name)
{
    return xmlStrEqual(name, BAD_CAST "extension") ||
           xmlStrEqual(name, BAD_CAST "modifierExtension");
}

/* The text of a primitive JSON value: a string as is, a number in its JSON
 * text (4.0 stays 4.0), a boolean as true/false. NULL (err set) otherwise. */
static const char *wr_text(struct wr *wr, json_object *val)
{
    switch (json_object_get_type(val)) {
    case json_type_string: {
        char why[FHIR_WHY_LEN];
        const char *s = json_object_get_string(val);
        if (fhir_text_check(s, (size_t)json_object_get_string_len(val), why, sizeof why) < 0) {
            wr_fail(wr, "%s", why);
            return NULL;
        }
        return s;
    }
    case json_type_boolean:
    case json_type_int:
    case json_type_double:
        return json_object_get_string(val);
    default:
        wr_fail(wr, "expected a string, number or boolean");
        return NULL;
    }
}

static int wr_attr(struct wr *wr, xmlNode *el, const char *name, json_object *val)
{
    const char *s = wr_text(wr, val);
    if (!s)
        return -1;
    return xmlNewProp(el, BAD_CAST name, BAD_CAST s) ? 0 : wr_oom(wr);
}

static xmlNode *wr_elem(struct wr *wr, xmlNode *parent, const char *name)
{
    if (xmlValidateNCName(BAD_CAST name, 0) != 0) {
        wr_fail(wr, "\"%s\" is not an XML element name", name);
        return NULL;
    }
    xmlNode *el = xmlNewChild(parent, wr->ns, BAD_CAST name, NULL);
    if (!el)
        wr_oom(wr);
    return el;
}

static int wr_prop(struct wr *wr, xmlNode *parent, const char *name, json_object *val,
                   json_object *ext, int depth);

/* The "_name" object of a primitive: id attribute, extension children. */
static int wr_ext(struct wr *wr, xmlNode *el, json_object *ext, int depth)
{
    json_object_object_foreach(ext, key, v)
    {
        int rc;
        char why[FHIR_WHY_LEN];
        if (fhir_key_check(key, why, sizeof why) < 0)
            rc = wr_fail(wr, "%s", why);
        else if (strcmp(key, "id") == 0)
            rc = wr_attr(wr, el, "id", v);
        else if (strcmp(key, "extension") == 0)
            rc = wr_prop(wr, el, "extension", v, NULL, depth);
        else
            rc = wr_fail(wr, "unexpected \"%s\" in the _%s object", key, (const char *)el->name);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Parse the narrative string as xhtml (the safe parse) and insert its div. */
static int wr_div(struct wr *wr, xmlNode *parent, json_object *val)
{
    struct fhir_error e;
    char why[FHIR_WHY_LEN];
    const char *s = json_object_get_string(val);
    size_t len = (size_t)json_object_get_string_len(val);
    if (fhir_text_check(s, len, why, sizeof why) < 0)
        return wr_fail(wr, "%s", why);
    xmlDoc *d = fhir_xml_read_doc(s, len, NULL, "div", &e);
    if (!d)
        return wr_fail(wr, "xhtml does not parse (%s)", e.msg);
    xmlNode *root = xmlDocGetRootElement(d);
    int rc = 0;
    if (!root->ns || !xmlStrEqual(root->name, BAD_CAST "div") ||
        !xmlStrEqual(root->ns->href, BAD_CAST FHIR_XML_XHTML_NS)) {
        rc = wr_fail(wr, "must be a div element in namespace " FHIR_XML_XHTML_NS);
    } else {
        xmlNode *copy = xmlDocCopyNode(root, wr->doc, 1);
        if (!copy || !xmlAddChild(parent, copy)) {
            xmlFreeNode(copy);
            rc = wr_oom(wr);
        }
    }
    xmlFreeDoc(d);
    return rc;
}

static int wr_members(struct wr *wr, xmlNode *el, json_object *obj, int is_resource,
                      int depth);

/* <parent><Type>...</Type></parent> for a resource object (parent NULL: the
 * document's root). */
static int wr_resource(struct wr *wr, xmlNode *parent, json_object *obj, int depth)
{
    json_object *rt;
    char why[FHIR_WHY_LEN];
    if (!json_object_object_get_ex(obj, "resourceType", &rt) ||
        !json_object_is_type(rt, json_type_string))
        return wr_fail(wr, "resourceType missing or not a string");
    const char *type = json_object_get_string(rt);
    if (fhir_type_check(type, why, sizeof why) < 0)
        return wr_fail(wr, "%s", why);
    xmlNode *el;
    if (parent) {
        el = xmlNewChild(parent, wr->ns, BAD_CAST type, NULL);
    } else {
        el = xmlNewDocNode(wr->doc, NULL, BAD_CAST type, NULL);
        if (el) {
            xmlDocSetRootElement(wr->doc, el);
            wr->ns = xmlNewNs(el, BAD_CAST FHIR_XML_NS, NULL);
            xmlSetNs(el, wr->ns);
        }
    }
    if (!el || !wr->ns)
        return wr_oom(wr);
    size_t old = fhir_path_push(&wr->path, type, -1);
    int rc = wr_members(wr, el, obj, 1, depth);
    fhir_path_pop(&wr->path, old);
    return rc;
}

/* One element from one value (or null) and its "_name" object (or NULL). */
static int wr_one(struct wr *wr, xmlNode *parent, const char *name, json_object *val,
                  json_object *ext, int depth)
{
    if (depth > WR_MAX_DEPTH)
        return wr_fail(wr, "nested deeper than %d", WR_MAX_DEPTH);
    if (ext && !json_object_is_type(ext, json_type_object))
        return wr_fail(wr, "_%s must be an object", name);
    if (ext && json_object_object_length(ext) == 0) /* XML has no element for "nothing" */
        return wr_fail(wr, "_%s is empty (neither id nor extension)", name);
    enum json_type t = json_object_get_type(val);
    if (t == json_type_array)
        return wr_fail(wr, "array inside an array");
    if (t == json_type_object && ext)
        return wr_fail(wr, "_%s given for a complex element", name);
    if (t == json_type_null && !ext)
        return wr_fail(wr, "null with no _%s", name);
    if (t == json_type_string && strcmp(name, "div") == 0)
        return ext ? wr_fail(wr, "_div not allowed") : wr_div(wr, parent, val);
    const char *text = NULL;
    if (t != json_type_null && t != json_type_object && !(text = wr_text(wr, val)))
        return -1;
    xmlNode *el = wr_elem(wr, parent, name);
    if (!el)
        return -1;
    if (t == json_type_object) {
        json_object *rt;
        if (json_object_object_get_ex(val, "resourceType", &rt))
            return wr_resource(wr, el, val, depth + 1);
        return wr_members(wr, el, val, 0, depth + 1);
    }
    if (ext && wr_ext(wr, el, ext, depth + 1) < 0)
        return -1;
    /* after the id attribute, as in the spec's examples */
    return text && !xmlNewProp(el, BAD_CAST "value", BAD_CAST text) ? wr_oom(wr) : 0;
}

/* Property name: val (may be NULL when only "_name" is there) and its "_name"
 * ext (may be NULL); arrays become repeated elements. */
static int wr_prop(struct wr *wr, xmlNode *parent, const char *name, json_object *val,
                   json_object *ext, int depth)
{
    int varr = json_object_is_type(val, json_type_array);
    int xarr = json_object_is_type(ext, json_type_array);
    int rc = 0;
    if (!varr && !xarr) {
        size_t old = fhir_path_push(&wr->path, name, -1);
        rc = wr_one(wr, parent, name, val, ext, depth);
        fhir_path_pop(&wr->path, old);
        return rc;
    }
    if ((val && !varr) || (ext && !xarr))
        return wr_fail(wr, "%s and _%s must both be arrays", name, name);
    size_t n = varr ? json_object_array_length(val) : json_object_array_length(ext);
    if (varr) { /* XML cannot say [4, {...}]: its reader refuses such a group */
        int prim = 0, complex = 0;
        for (size_t i = 0; i < n; i++) {
            enum json_type t = json_object_get_type(json_object_array_get_idx(val, i));
            complex |= t == json_type_object;
            prim |= t != json_type_object && t != json_type_null && t != json_type_array;
        }
        if (prim && complex)
            return wr_fail(wr, "%s mixes primitive values and complex elements", name);
    }
    if (varr && xarr && json_object_array_length(ext) != n)
        return wr_fail(wr, "_%s has %zu entries for %zu values", name,
                       json_object_array_length(ext), n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t old = fhir_path_push(&wr->path, name, (long)i);
        rc = wr_one(wr, parent, name, varr ? json_object_array_get_idx(val, i) : NULL,
                    xarr ? json_object_array_get_idx(ext, i) : NULL, depth);
        fhir_path_pop(&wr->path, old);
    }
    return rc;
}

/* One member key: val of obj, element el (resource element if is_resource). */
static int wr_member(struct wr *wr, xmlNode *el, json_object *obj, const char *key,
                     json_object *val, int is_resource, int depth)
{
    char uname[256], why[FHIR_WHY_LEN];
    json_object *ext = NULL;
    if (fhir_key_check(key, why, sizeof why) < 0)
        return wr_fail(wr, "%s", why);
    if (is_resource && strcmp(key, "resourceType") == 0)
        return 0;
    if (!is_resource && strcmp(key, "id") == 0)
        return wr_attr(wr, el, "id", val);
    if (strcmp(key, "url") == 0 && is_extension(el->name))
        return wr_attr(wr, el, "url", val);
    if (key[0] == '_')
        return json_object_object_get_ex(obj, key + 1, NULL)
                   ? 0 /* written with key + 1 */
                   : wr_prop(wr, el, key + 1, NULL, val, depth);
    if (snprintf(uname, sizeof uname, "_%s", key) >= (int)sizeof uname)
        return wr_fail(wr, "property name %.40s... too long", key);
    json_object_object_get_ex(obj, uname, &ext);
    return wr_prop(wr, el, key, val, ext, depth);
}

static int wr_members(struct wr *wr, xmlNode *el, json_object *obj, int is_resource, int depth)
{
    json_object_object_foreach(obj, key, val)
    {
        if (wr_member(wr, el, obj, key, val, is_resource, depth) < 0)
            return -1;
    }
    return 0;
}

/* A text node "\n" + two spaces per level. */
static xmlNode *wr_ws(xmlDoc *doc, int level)
{
    char ws[1 + 2 * WR_MAX_INDENT];
    if (level > WR_MAX_INDENT)
        level = WR_MAX_INDENT;
    ws[0] = '\n';
    memset(ws + 1, ' ', 2 * (size_t)level);
    return xmlNewDocTextLen(doc, BAD_CAST ws, 1 + 2 * level);
}

/* Indent the children of FHIR elements (never inside xhtml). */
static int wr_indent(xmlDoc *doc, xmlNode *n, int level)
{
    int any = 0;
    for (xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        xmlNode *t = wr_ws(doc, level + 1);
        if (!t || !xmlAddPrevSibling(c, t)) {
            xmlFreeNode(t);
            return -1;
        }
        if (c->ns && xmlStrEqual(c->ns->href, BAD_CAST FHIR_XML_NS) &&
            wr_indent(doc, c, level + 1) < 0)
            return -1;
        any = 1;
    }
    if (!any)
        return 0;
    xmlNode *t = wr_ws(doc, level);
    if (!t || !xmlAddChild(n, t)) {
        xmlFreeNode(t);
        return -1;
    }
    return 0;
}

/* Serialise wr->doc into a malloc'd string. */
static char *wr_dump(struct wr *wr)
{
    xmlChar *mem = NULL;
    int size = 0;
    if (wr_indent(wr->doc, xmlDocGetRootElement(wr->doc), 0) < 0) {
        wr_oom(wr);
        return NULL;
    }
    xmlDocDumpMemoryEnc(wr->doc, &mem, &size, "UTF-8");
    char *out = mem && size >= 0 ? malloc((size_t)size + 1) : NULL;
    if (out) {
        memcpy(out, mem, (size_t)size);
        out[size] = '\0';
    } else {
        wr_oom(wr);
    }
    xmlFree(mem);
    return out;
}

char *fhir_xml_write(json_object *resource, struct fhir_error *err)
{
    struct wr wr = {err, NULL, NULL, {0, ""}};
    if (!json_object_is_type(resource, json_type_object)) {
        wr_fail(&wr, "resource is not a JSON object");
        return NULL;
    }
    xmlInitParser();
    struct fhir_xml_errors xe;
    fhir_xml_errors_begin(&xe, "XML writer", err);
    wr.doc = xmlNewDoc(BAD_CAST "1.0");
    char *out = NULL;
    if (!wr.doc)
        wr_oom(&wr);
    else if (wr_resource(&wr, NULL, resource, 0) == 0)
        out = wr_dump(&wr);
    xmlFreeDoc(wr.doc);
    fhir_xml_errors_end(&xe);
    if (out && xe.failed) { /* libxml2 reported an error: err holds it */
        free(out);
        out = NULL;
    }
    return out;
}
