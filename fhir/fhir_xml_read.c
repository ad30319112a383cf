/*
 * fhir_xml_read.c - FHIR R4 XML -> FHIR JSON tree (fhir_xml_parse) and the
 * safe libxml2 parse behind it (fhir_xml_read_doc), see fhir_xml.h. Owns, for
 * the length of one call, the libxml2 parser context and parsed document; the
 * returned json_object or xmlDoc belongs to the caller. Keeps no state.
 *
 * Mapping (https://hl7.org/fhir/R4/xml.html, json.html): the root element names
 * the resourceType; an element with a value attribute is a primitive (string,
 * plus "_name" {"id", "extension"} when it has those); any other element is an
 * object (its id, and an extension's url, become properties); an element whose
 * only child is a resource (capitalised name: Bundle.entry.resource, contained,
 * Bundle.entry.response.outcome, Parameters.parameter.resource) becomes that
 * resource's object; the xhtml div becomes the string of its serialised XML.
 */
#include "fhir_xml.h"

#include "fhir_strings.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

/* No network. Deliberately absent: XML_PARSE_NOENT (substitutes entities),
 * XML_PARSE_DTDLOAD / XML_PARSE_DTDATTR (load a DTD), XML_PARSE_HUGE (lifts
 * libxml2's own bounds), XML_PARSE_NOBLANKS (would drop significant blanks in
 * xhtml; blank text in FHIR elements is skipped by the reader instead).
 * XML_PARSE_IGNORE_ENC with the encoding "UTF-8" given to the parse: the
 * bytes are read as UTF-8 whatever the document declares (see safe_encoding). */
#define FHIR_XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_IGNORE_ENC)

/* ---- libxml2's messages ---------------------------------------------------- */

/* Keep the first error of xe (warnings are dropped), print nothing. line 0:
 * libxml2 knew no position (encoding and I/O layers). */
static void xe_record(struct fhir_xml_errors *xe, const xmlError *e)
{
    if (!xe || xe->failed || !e || e->level < XML_ERR_ERROR)
        return;
    const char *m = e->message ? e->message : "error";
    int n = (int)strcspn(m, "\n");
    if (strncmp(m, "Input is not proper UTF-8", 25) == 0) { /* "..., indicate encoding !" */
        m = "invalid UTF-8";
        n = (int)strlen(m);
    }
    if (e->line > 0)
        fhir_error_set(xe->err, "%s: XML not well-formed at line %d: %.*s", xe->what, e->line,
                       n, m);
    else
        fhir_error_set(xe->err, "%s: libxml2: %.*s", xe->what, n, m);
    xe->failed = 1;
}

/* The thread's structured handler while xe is installed. */
static void xe_structured(void *ctx, xmlErrorPtr e)
{
    xe_record(ctx, e);
}

static void xe_generic(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The thread's generic handler while xe is installed: libxml2 code that
 * prints directly rather than raising a structured error. */
static void xe_generic(void *ctx, const char *fmt, ...)
{
    struct fhir_xml_errors *xe = ctx;
    char msg[FHIR_ERROR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!xe || xe->failed)
        return;
    fhir_error_set(xe->err, "%s: libxml2: %.*s", xe->what, (int)strcspn(msg, "\n"), msg);
    xe->failed = 1;
}

/* libxml2 2.9 raises errors of its encoding and I/O layers with no parser
 * context, so they reach the thread's handlers, which print on stderr unless
 * set (a per-context handler for everything, xmlCtxtSetErrorHandler, came in
 * 2.13). Both handlers are per thread in a threaded libxml2: they are pointed
 * at xe here and given back by fhir_xml_errors_end. */
void fhir_xml_errors_begin(struct fhir_xml_errors *xe, const char *what, struct fhir_error *err)
{
    xe->what = what;
    xe->err = err;
    xe->failed = 0;
    xe->prev_serror = xmlStructuredError;
    xe->prev_sctx = xmlStructuredErrorContext;
    xe->prev_generic = xmlGenericError;
    xe->prev_gctx = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(xe, xe_structured);
    xmlSetGenericErrorFunc(xe, xe_generic);
}

void fhir_xml_errors_end(struct fhir_xml_errors *xe)
{
    xmlSetStructuredErrorFunc(xe->prev_sctx, xe->prev_serror);
    xmlSetGenericErrorFunc(xe->prev_gctx, xe->prev_generic);
}

/* ---- the declared encoding ------------------------------------------------- */

/* Index of needle in hay[0..n) or n. */
static size_t find(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return i;
    return n;
}

/* The encoding name of the XML declaration at decl (n bytes, up to its "?>"):
 * *name and *nlen, or 0 when it declares none (or is malformed: libxml2 says
 * so). */
static int decl_encoding(const char *decl, size_t n, const char **name, size_t *nlen)
{
    size_t i = find(decl, n, "encoding");
    if (i == n)
        return 0;
    for (i += 8; i < n && strchr(" \t\r\n", decl[i]); i++)
        ;
    if (i >= n || decl[i++] != '=')
        return 0;
    for (; i < n && strchr(" \t\r\n", decl[i]); i++)
        ;
    if (i >= n || (decl[i] != '"' && decl[i] != '\''))
        return 0;
    char q = decl[i++];
    size_t j = i;
    while (j < n && decl[j] != q)
        j++;
    if (j >= n)
        return 0;
    *name = decl + i;
    *nlen = j - i;
    return 1;
}

/* FHIR exchanges resources in UTF-8 only (R4 http.html: "FHIR uses UTF-8 for
 * all request and response bodies"), and libxml2 would decode any other
 * declared encoding through iconv, a large surface for untrusted input. So a
 * UTF-16/32 byte order mark, or a declaration of another encoding, is refused
 * here with a clear message, before libxml2 reads anything; and the parse is
 * told the input is UTF-8 and to ignore the declaration, so nothing is ever
 * converted (bytes that are not UTF-8 are then a well-formedness error). */
static int safe_encoding(const char *buf, size_t len, const char *what, struct fhir_error *err)
{
    const unsigned char *u = (const unsigned char *)buf;
    if ((len >= 2 && ((u[0] == 0xFE && u[1] == 0xFF) || (u[0] == 0xFF && u[1] == 0xFE))) ||
        (len >= 4 && u[0] == 0 && u[1] == 0 && u[2] == 0xFE && u[3] == 0xFF)) {
        fhir_error_set(err, "%s: UTF-16 or UTF-32 byte order mark: FHIR XML must be UTF-8", what);
        return -1;
    }
    if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
        buf += 3;
        len -= 3;
    }
    if (len < 6 || memcmp(buf, "<?xml", 5) != 0 || !strchr(" \t\r\n", buf[5]))
        return 0;
    const char *name;
    size_t nlen, end = find(buf, len < 512 ? len : 512, "?>");
    if (!decl_encoding(buf, end, &name, &nlen) ||
        (nlen == 5 && strncasecmp(name, "UTF-8", 5) == 0) ||
        (nlen == 4 && strncasecmp(name, "UTF8", 4) == 0))
        return 0;
    char shown[41];
    size_t k = 0;
    for (; k < nlen && k < sizeof shown - 1; k++)
        shown[k] = name[k] > 0x20 && name[k] < 0x7F ? name[k] : '?';
    shown[k] = '\0';
    fhir_error_set(err, "%s: line 1: encoding \"%s\" declared: FHIR XML must be UTF-8", what,
                   shown);
    return -1;
}

/* ---- safe parse ------------------------------------------------------- */

/* Hung on ctxt->_private while libxml2 parses. */
struct safe_parse {
    struct fhir_xml_errors xe; /* what, err, and whether err holds the first problem */
};

static void safe_fail_doctype(xmlParserCtxtPtr ctxt)
{
    struct safe_parse *sp = ctxt->_private;
    if (!sp->xe.failed)
        fhir_error_set(sp->xe.err, "%s: line %d: DOCTYPE not allowed (no DTD, no entities)",
                       sp->xe.what, xmlSAX2GetLineNumber(ctxt));
    sp->xe.failed = 1;
    xmlStopParser(ctxt);
}

/* SAX internalSubset/externalSubset: "<!DOCTYPE" seen; stop before the
 * internal subset (and so any entity declaration) is read. */
static void safe_doctype(void *ctx, const xmlChar *name, const xmlChar *public_id,
                         const xmlChar *system_id)
{
    (void)name;
    (void)public_id;
    (void)system_id;
    safe_fail_doctype(ctx);
}

/* SAX entityDecl: unreachable once safe_doctype stopped the parser; kept so
 * that no entity can be declared whatever libxml2 does. */
static void safe_entity(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                        const xmlChar *system_id, xmlChar *content)
{
    (void)name;
    (void)type;
    (void)public_id;
    (void)system_id;
    (void)content;
    safe_fail_doctype(ctx);
}

/* Structured error handler of the parser context (errors that know it). */
static void safe_error(void *ctx, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct safe_parse *sp = ctxt ? ctxt->_private : NULL;
    xe_record(sp ? &sp->xe : NULL, e);
}

static xmlDoc *safe_check(xmlDoc *doc, const struct safe_parse *sp)
{
    if (sp->xe.failed) {
        xmlFreeDoc(doc);
        return NULL;
    }
    if (!doc) {
        fhir_error_set(sp->xe.err, "%s: XML not well-formed", sp->xe.what);
        return NULL;
    }
    if (doc->intSubset || doc->extSubset) {
        fhir_error_set(sp->xe.err, "%s: DOCTYPE not allowed (no DTD, no entities)", sp->xe.what);
        xmlFreeDoc(doc);
        return NULL;
    }
    if (!xmlDocGetRootElement(doc)) {
        fhir_error_set(sp->xe.err, "%s: no root element", sp->xe.what);
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

xmlDoc *fhir_xml_read_doc(const char *buf, size_t len, const struct fhir_limits *lim,
                          const char *what, struct fhir_error *err)
{
    if (!lim)
        lim = &fhir_limits_default;
    if (!what)
        what = "FHIR XML";
    if (!buf || len == 0) {
        fhir_error_set(err, "%s: empty document", what);
        return NULL;
    }
    if (len > lim->max_bytes || len > INT_MAX) {
        fhir_error_set(err, "%s: document is %zu bytes, limit %zu", what, len,
                       lim->max_bytes < INT_MAX ? lim->max_bytes : (size_t)INT_MAX);
        return NULL;
    }
    if (safe_encoding(buf, len, what, err) < 0)
        return NULL;
    xmlInitParser();
    struct safe_parse sp;
    fhir_xml_errors_begin(&sp.xe, what, err);
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    xmlDoc *doc = NULL;
    if (ctxt) {
        ctxt->_private = &sp;
        ctxt->sax->serror = safe_error;
        ctxt->sax->internalSubset = safe_doctype;
        ctxt->sax->externalSubset = safe_doctype;
        ctxt->sax->entityDecl = safe_entity;
        doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, "UTF-8", FHIR_XML_OPTIONS);
        xmlFreeParserCtxt(ctxt);
    } else if (!sp.xe.failed) {
        fhir_error_set(err, "%s: out of memory", what);
        sp.xe.failed = 1;
    }
    fhir_xml_errors_end(&sp.xe);
    return safe_check(doc, &sp);
}

/* ---- reader state, paths, errors ---------------------------------------- */

struct rd {
    const struct fhir_limits *lim;
    const char *what;
    struct fhir_error *err;
    struct fhir_path path; /* "Bundle.entry[1].resource.Observation.code" */
};

static int rd_fail(struct rd *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set err to "what: path: message"; returns -1. */
static int rd_fail(struct rd *rd, const char *fmt, ...)
{
    char msg[FHIR_ERROR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (rd->path.len)
        fhir_error_set(rd->err, "%s: %s: %s", rd->what, rd->path.text, msg);
    else
        fhir_error_set(rd->err, "%s: %s", rd->what, msg);
    return -1;
}

static int rd_oom(struct rd *rd)
{
    return rd_fail(rd, "out of memory");
}


/* ---- which elements are arrays ------------------------------------------ */

/* Elements that are 0..* wherever they occur (in R4 resources this project
 * meets), so they become JSON arrays even when they occur once; any other
 * element becomes an array only when it repeats among its siblings. only_in /
 * except_in, when set, list the parents (resource type, or element name) where
 * the rule does / does not hold, for names whose cardinality depends on where
 * they are. Left out on purpose: bodySite (Observation 0..1, Condition 0..*),
 * location (varies). */
static const struct array_rule {
    const char *name;
    const char *only_in;
    const char *except_in;
} array_rules[] = {
    {"extension", NULL, NULL},
    {"modifierExtension", NULL, NULL},
    {"coding", NULL, NULL},
    {"entry", NULL, NULL},
    {"identifier", NULL, NULL},
    {"contained", NULL, NULL},
    {"component", NULL, NULL},
    {"link", NULL, NULL},
    {"parameter", NULL, NULL},
    {"part", NULL, NULL},
    {"category", NULL, "Procedure"},
    {"performer", NULL, "MedicationRequest DeviceRequest"},
    {"result", NULL, NULL},
    {"specimen", NULL, "Observation"},
    {"derivedFrom", NULL, NULL},
    {"hasMember", NULL, NULL},
    {"note", NULL, NULL},
    {"given", NULL, NULL},
    {"prefix", NULL, NULL},
    {"suffix", NULL, NULL},
    {"name", "Patient Practitioner RelatedPerson Person", NULL},
    {"telecom", NULL, NULL},
    {"address", NULL, "Location contact"},
    {"profile", "meta type", NULL},
    {"tag", NULL, NULL},
    {"security", "meta", NULL},
    {"target", NULL, NULL},
    {"agent", NULL, NULL},
    {"entity", NULL, NULL},
    {"conclusionCode", NULL, NULL},
    {"referenceRange", NULL, NULL},
    {"interpretation", NULL, NULL},
    {"evidence", NULL, NULL},
    {"stage", NULL, NULL},
    {"line", NULL, NULL},
    {"issue", NULL, NULL},
    {"expression", "issue", NULL},
    {"deviceName", "Device", NULL},
    {"version", "Device", NULL},
};

/* 1 if word is one of the space-separated words of list. */
static int word_in(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, " ");
        if (k == n && strncmp(p, word, n) == 0)
            return 1;
        p += k;
        p += strspn(p, " ");
    }
    return 0;
}

static int always_array(const char *name, const char *parent)
{
    for (size_t i = 0; i < sizeof array_rules / sizeof array_rules[0]; i++) {
        const struct array_rule *r = &array_rules[i];
        if (strcmp(r->name, name) != 0)
            continue;
        if (r->only_in && !word_in(r->only_in, parent))
            return 0;
        return !(r->except_in && word_in(r->except_in, parent));
    }
    return 0;
}

/* ---- node classification -------------------------------------------------- */

static int ns_is(const xmlNode *n, const char *href)
{
    return n->ns && n->ns->href && strcmp((const char *)n->ns->href, href) == 0;
}

static int is_fhir(const xmlNode *n)
{
    return ns_is(n, FHIR_XML_NS);
}

static int is_xhtml_div(const xmlNode *n)
{
    return ns_is(n, FHIR_XML_XHTML_NS) && xmlStrEqual(n->name, BAD_CAST "div");
}

static int is_extension(const char *name)
{
    return strcmp(name, "extension") == 0 || strcmp(name, "modifierExtension") == 0;
}

static int is_resource_name(const xmlChar *name)
{
    return name[0] >= 'A' && name[0] <= 'Z';
}

static int same_group(const xmlNode *a, const xmlNode *b)
{
    return a->type == XML_ELEMENT_NODE && xmlStrEqual(a->name, b->name) &&
           xmlStrEqual(a->ns ? a->ns->href : NULL, b->ns ? b->ns->href : NULL);
}

static int blank(const xmlChar *s)
{
    return !s || s[strspn((const char *)s, " \t\r\n")] == '\0';
}

static xmlNode *first_element(xmlNode *n)
{
    for (xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

enum kind {
    K_PRIM,     /* value attribute */
    K_EXTONLY,  /* no value, children are all extensions: primitive or complex */
    K_COMPLEX,  /* anything else in the FHIR namespace */
    K_XHTML     /* the narrative div */
};

static enum kind elem_kind(const xmlNode *n)
{
    if (is_xhtml_div(n))
        return K_XHTML;
    if (xmlHasNsProp(n, BAD_CAST "value", NULL))
        return K_PRIM;
    if (is_extension((const char *)n->name) || xmlHasNsProp(n, BAD_CAST "url", NULL))
        return K_COMPLEX;
    int exts = 0;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!is_fhir(c) || !xmlStrEqual(c->name, BAD_CAST "extension"))
            return K_COMPLEX;
        exts++;
    }
    return exts ? K_EXTONLY : K_COMPLEX;
}

/* ---- small checked builders ----------------------------------------------- */

/* Add key: val to obj (takes val); a key already there is an error. */
static int rd_put(struct rd *rd, json_object *obj, const char *key, json_object *val)
{
    if (json_object_object_get_ex(obj, key, NULL)) {
        json_object_put(val);
        return rd_fail(rd, "%s given twice", key);
    }
    if (json_object_object_add(obj, key, val) != 0) {
        json_object_put(val);
        return rd_oom(rd);
    }
    return 0;
}

/* Copy the no-namespace attribute attr of n, if present, into obj[attr]. */
static int rd_put_attr(struct rd *rd, json_object *obj, xmlNode *n, const char *attr)
{
    xmlChar *v = xmlGetNoNsProp(n, BAD_CAST attr);
    if (!v)
        return 0;
    json_object *s = json_object_new_string((const char *)v);
    xmlFree(v);
    if (!s)
        return rd_oom(rd);
    return rd_put(rd, obj, attr, s);
}

/* Reject attributes without a namespace other than the space-separated allowed
 * ones (namespaced ones, e.g. xsi:schemaLocation, are ignored), and any entity
 * reference in an attribute value. */
static int rd_check_attrs(struct rd *rd, const xmlNode *n, const char *allowed)
{
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        for (const xmlNode *c = a->children; c; c = c->next)
            if (c->type == XML_ENTITY_REF_NODE)
                return rd_fail(rd, "entity reference &%s; not allowed (no DTD, no entities)",
                               (const char *)c->name);
        if (!a->ns && !word_in(allowed, (const char *)a->name))
            return rd_fail(rd, "unexpected attribute %s on %s", (const char *)a->name,
                           (const char *)n->name);
    }
    return 0;
}

/* ---- reading ------------------------------------------------------------ */

static int rd_children(struct rd *rd, xmlNode *n, json_object *obj, int depth);
static json_object *rd_resource(struct rd *rd, xmlNode *n, int depth);

static int rd_depth(struct rd *rd, int depth)
{
    if (depth > rd->lim->max_depth)
        return rd_fail(rd, "elements nested deeper than %d", rd->lim->max_depth);
    return 0;
}

/* Depth and entity checks of an xhtml subtree (libxml2 bounds it at 256). */
static int rd_check_xhtml(struct rd *rd, const xmlNode *n, int depth)
{
    if (rd_depth(rd, depth) < 0 || rd_check_attrs(rd, n, "") < 0)
        return -1;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_ENTITY_REF_NODE)
            return rd_fail(rd, "entity reference &%s; not allowed (no DTD, no entities)",
                           (const char *)c->name);
        if (c->type == XML_ELEMENT_NODE && rd_check_xhtml(rd, c, depth + 1) < 0)
            return -1;
    }
    return 0;
}

/* The div as a string of XML, its namespace declared on it. */
static json_object *rd_xhtml(struct rd *rd, xmlNode *n, int depth)
{
    if (rd_check_xhtml(rd, n, depth) < 0)
        return NULL;
    json_object *s = NULL;
    xmlDoc *tmp = xmlNewDoc(BAD_CAST "1.0");
    xmlNode *copy = tmp ? xmlDocCopyNode(n, tmp, 1) : NULL;
    if (copy)
        xmlDocSetRootElement(tmp, copy);
    xmlBuffer *b = copy ? xmlBufferCreate() : NULL;
    if (b && xmlNodeDump(b, tmp, copy, 0, 0) >= 0)
        s = json_object_new_string_len((const char *)xmlBufferContent(b), xmlBufferLength(b));
    if (!s)
        rd_oom(rd);
    xmlFreeDoc(tmp);
    xmlBufferFree(b);
    return s;
}

/* A primitive: *val gets the value string (NULL if none), *ext the "_name"
 * object (NULL if no id and no extension). */
static int rd_primitive(struct rd *rd, xmlNode *n, int depth, json_object **val,
                        json_object **ext)
{
    if (rd_check_attrs(rd, n, "value id") < 0)
        return -1;
    for (const xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE &&
            (!is_fhir(c) || !xmlStrEqual(c->name, BAD_CAST "extension")))
            return rd_fail(rd, "primitive element has child %s (only extension allowed)",
                           (const char *)c->name);
    json_object *x = json_object_new_object();
    if (!x)
        return rd_oom(rd);
    if (rd_put_attr(rd, x, n, "id") < 0 || rd_children(rd, n, x, depth) < 0) {
        json_object_put(x);
        return -1;
    }
    if (json_object_object_length(x) == 0) {
        json_object_put(x);
        x = NULL;
    }
    xmlChar *v = xmlGetNoNsProp(n, BAD_CAST "value");
    json_object *s = v ? json_object_new_string((const char *)v) : NULL;
    if (v && !s) {
        xmlFree(v);
        json_object_put(x);
        return rd_oom(rd);
    }
    xmlFree(v);
    *val = s;
    *ext = x;
    return 0;
}

/* An element whose only child is a resource: that resource's object. */
static json_object *rd_container(struct rd *rd, xmlNode *n, int depth)
{
    if (rd_check_attrs(rd, n, "") < 0)
        return NULL;
    xmlNode *res = first_element(n);
    for (xmlNode *c = res->next; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE) {
            rd_fail(rd, "holds more than one resource (%s, %s)", (const char *)res->name,
                    (const char *)c->name);
            return NULL;
        }
    if (!is_fhir(res)) {
        rd_fail(rd, "resource %s is not in namespace " FHIR_XML_NS, (const char *)res->name);
        return NULL;
    }
    size_t old = fhir_path_push(&rd->path, (const char *)res->name, -1);
    json_object *obj = rd_depth(rd, depth + 1) < 0 ? NULL : rd_resource(rd, res, depth + 1);
    fhir_path_pop(&rd->path, old);
    return obj;
}

static json_object *rd_complex(struct rd *rd, xmlNode *n, int depth)
{
    xmlNode *first = first_element(n);
    if (first && is_resource_name(first->name))
        return rd_container(rd, n, depth);
    int ext = is_extension((const char *)n->name);
    if (rd_check_attrs(rd, n, ext ? "id url" : "id") < 0)
        return NULL;
    json_object *obj = json_object_new_object();
    if (!obj) {
        rd_oom(rd);
        return NULL;
    }
    if (rd_put_attr(rd, obj, n, "id") < 0 || (ext && rd_put_attr(rd, obj, n, "url") < 0) ||
        rd_children(rd, n, obj, depth) < 0) {
        json_object_put(obj);
        return NULL;
    }
    return obj;
}

static int rd_member(struct rd *rd, xmlNode *n, int as_prim, int depth, json_object **val,
                     json_object **ext)
{
    *val = *ext = NULL;
    if (rd_depth(rd, depth) < 0)
        return -1;
    if (is_xhtml_div(n))
        *val = rd_xhtml(rd, n, depth);
    else if (as_prim)
        return rd_primitive(rd, n, depth, val, ext);
    else
        *val = rd_complex(rd, n, depth);
    return *val ? 0 : -1;
}

/* Put the group's values and "_name" objects (arrays aligned with nulls) into
 * obj as arrays (arr) or single values. Takes vals and exts. */
static int rd_attach(struct rd *rd, json_object *obj, const char *name, json_object *vals,
                     json_object *exts, int arr)
{
    char uname[256];
    int any_v = 0, any_x = 0;
    for (size_t i = 0; i < json_object_array_length(vals); i++) {
        any_v |= json_object_array_get_idx(vals, i) != NULL;
        any_x |= json_object_array_get_idx(exts, i) != NULL;
    }
    if (snprintf(uname, sizeof uname, "_%s", name) >= (int)sizeof uname) {
        json_object_put(vals);
        json_object_put(exts);
        return rd_fail(rd, "element name %.40s... too long", name);
    }
    json_object *v = vals, *x = exts;
    if (!arr) {
        v = json_object_get(json_object_array_get_idx(vals, 0));
        x = json_object_get(json_object_array_get_idx(exts, 0));
        json_object_put(vals);
        json_object_put(exts);
    }
    if (!any_v) {
        json_object_put(v);
        v = NULL;
    }
    if (!any_x) {
        json_object_put(x);
        x = NULL;
    }
    if (v && rd_put(rd, obj, name, v) < 0) {
        json_object_put(x);
        return -1;
    }
    return x ? rd_put(rd, obj, uname, x) : 0;
}

static int rd_check_ns(struct rd *rd, const xmlNode *n)
{
    if (is_fhir(n) || is_xhtml_div(n))
        return 0;
    if (!n->ns)
        return rd_fail(rd, "element %s has no namespace (FHIR elements are in " FHIR_XML_NS ")",
                       (const char *)n->name);
    return rd_fail(rd, "element %s is in namespace %s, not " FHIR_XML_NS,
                   (const char *)n->name, (const char *)n->ns->href);
}

/* Decide whether first's group (its same-named siblings) is primitive: yes if
 * any member has a value, no if any is plainly complex, yes if all carry only
 * extensions. Values and complex members together are an error. */
static int rd_group_kind(struct rd *rd, xmlNode *first, int *n, int *as_prim)
{
    int prim = 0, complex = 0;
    *n = 0;
    for (xmlNode *m = first; m; m = m->next) {
        if (!same_group(m, first))
            continue;
        enum kind k = elem_kind(m);
        prim |= k == K_PRIM;
        complex |= k == K_COMPLEX || k == K_XHTML;
        ++*n;
    }
    if (prim && complex)
        return rd_fail(rd, "%s mixes primitive (value) and complex elements",
                       (const char *)first->name);
    *as_prim = !complex;
    return 0;
}

/* Read first and its same-named siblings (marked done through _private) into
 * obj. parent: resource type or element name holding them. */
static int rd_group(struct rd *rd, xmlNode *first, const char *parent, json_object *obj,
                    int depth)
{
    const char *name = (const char *)first->name;
    int n = 0, as_prim = 0;
    if (rd_check_ns(rd, first) < 0 || rd_group_kind(rd, first, &n, &as_prim) < 0)
        return -1;
    int arr = n > 1 || always_array(name, parent);
    json_object *vals = json_object_new_array(), *exts = json_object_new_array();
    if (!vals || !exts)
        goto oom;
    int i = 0;
    for (xmlNode *m = first; m; m = m->next) {
        if (!same_group(m, first))
            continue;
        m->_private = rd;
        json_object *v, *x;
        size_t old = fhir_path_push(&rd->path, name, arr ? i++ : -1);
        int rc = rd_member(rd, m, as_prim, depth, &v, &x);
        fhir_path_pop(&rd->path, old);
        if (rc < 0)
            goto fail;
        if (json_object_array_add(vals, v) != 0) {
            json_object_put(v);
            json_object_put(x);
            goto oom;
        }
        if (json_object_array_add(exts, x) != 0) {
            json_object_put(x);
            goto oom;
        }
    }
    return rd_attach(rd, obj, name, vals, exts, arr);
oom:
    rd_oom(rd);
fail:
    json_object_put(vals);
    json_object_put(exts);
    return -1;
}

/* Read the children of FHIR element n (at depth) into obj. */
static int rd_children(struct rd *rd, xmlNode *n, json_object *obj, int depth)
{
    for (xmlNode *c = n->children; c; c = c->next) {
        switch (c->type) {
        case XML_ELEMENT_NODE:
            if (c->_private != rd && rd_group(rd, c, (const char *)n->name, obj, depth + 1) < 0)
                return -1;
            break;
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
            if (!blank(c->content))
                return rd_fail(rd, "text not allowed in a FHIR element (\"%.40s\")",
                               (const char *)c->content);
            break;
        case XML_ENTITY_REF_NODE:
            return rd_fail(rd, "entity reference &%s; not allowed (no DTD, no entities)",
                           (const char *)c->name);
        case XML_COMMENT_NODE:
        case XML_PI_NODE:
            break;
        default:
            return rd_fail(rd, "unexpected XML node (type %d)", (int)c->type);
        }
    }
    return 0;
}

/* Resource element n (FHIR namespace checked) -> {"resourceType": name, ...}. */
static json_object *rd_resource(struct rd *rd, xmlNode *n, int depth)
{
    if (!is_resource_name(n->name)) {
        rd_fail(rd, "%s is not a resource type", (const char *)n->name);
        return NULL;
    }
    if (rd_check_attrs(rd, n, "") < 0)
        return NULL;
    json_object *obj = json_object_new_object();
    json_object *type = json_object_new_string((const char *)n->name);
    if (!obj || !type) {
        json_object_put(obj);
        json_object_put(type);
        rd_oom(rd);
        return NULL;
    }
    if (rd_put(rd, obj, "resourceType", type) < 0 || rd_children(rd, n, obj, depth) < 0) {
        json_object_put(obj);
        return NULL;
    }
    return obj;
}

json_object *fhir_xml_parse(const char *buf, size_t len, const struct fhir_limits *lim,
                            const char *what, struct fhir_error *err)
{
    struct rd rd = {lim ? lim : &fhir_limits_default, what ? what : "FHIR XML", err, {0, ""}};
    xmlDoc *doc = fhir_xml_read_doc(buf, len, rd.lim, rd.what, err);
    if (!doc)
        return NULL;
    json_object *obj = NULL;
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!is_fhir(root))
        rd_fail(&rd, "root element %s is not in namespace " FHIR_XML_NS " (namespace: %s)",
                (const char *)root->name,
                root->ns ? (const char *)root->ns->href : "none");
    else {
        fhir_path_push(&rd.path, (const char *)root->name, -1);
        obj = rd_depth(&rd, 1) < 0 ? NULL : rd_resource(&rd, root, 1);
    }
    xmlFreeDoc(doc);
    if (obj && fhir_check_tree(obj, rd.what, err) != 0) {
        json_object_put(obj);
        obj = NULL;
    }
    return obj;
}
