/*
 * fhir_xml.h - FHIR R4 XML <-> FHIR JSON tree (json-c) conversion, and the one
 * safe way this project parses XML with libxml2 (interop.md I17: no network,
 * no DTD, no entities, bounded size and depth). The reader lives in
 * fhir_xml_read.c, the writer in fhir_xml_write.c; neither keeps state between
 * calls. Knows FHIR's XML/JSON mapping rules, not any resource's definition.
 *
 * Without a schema the reader cannot know types, so (see fhir_xml_read.c):
 *   - every primitive value becomes a JSON string ("4.0", "true");
 *   - an element becomes a JSON array only if it repeats among its siblings or
 *     is named in the always-array table (extension, coding, entry, given, ...);
 *   - an element with no value attribute whose only children are extensions is
 *     read as a primitive with extensions only ("_name"), not as a complex type.
 * The writer follows the JSON object's key order, so callers must build objects
 * in FHIR element order (resourceType first is not required).
 *
 * Paths in messages use FHIRPath-style 0-based indices and name the contained
 * resource type: "case.xml: Bundle.entry[1].resource.Observation.code: ...".
 *
 * Both directions hold FHIR's string and name rules (fhir_strings.h): the
 * reader checks the tree it built like the JSON reader does, the writer refuses
 * what the reader would refuse. Only UTF-8 is read (a document declaring
 * another encoding is refused). libxml2 never prints: its messages end up in
 * the fhir_error of the call (fhir_xml_errors_begin).
 *
 * Threads: libxml2 must have been initialised (xmlInitParser()) once from the
 * main thread before these are called from several threads.
 */
#ifndef FHIR_XML_H
#define FHIR_XML_H

#include <stddef.h>

#include <json-c/json.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "fhir_error.h"

#define FHIR_XML_NS "http://hl7.org/fhir"
#define FHIR_XML_XHTML_NS "http://www.w3.org/1999/xhtml"

/* Parse a FHIR XML document (one resource, possibly a Bundle) into the FHIR
 * JSON representation. lim: size and element-depth bounds (NULL means
 * fhir_limits_default). what: name of the source for messages (e.g. a file
 * name; NULL means "FHIR XML").
 * Returns a new json_object the caller owns (json_object_put it), or NULL with
 * err set. */
json_object *fhir_xml_parse(const char *buf, size_t len, const struct fhir_limits *lim,
                            const char *what, struct fhir_error *err);

/* Serialise a FHIR JSON resource tree (an object with "resourceType") as FHIR
 * XML: UTF-8, with XML declaration, xmlns="http://hl7.org/fhir" on the root,
 * indented with two spaces (never inside xhtml). resource is only read.
 * Returns a malloc'd NUL-terminated string the caller frees, or NULL with err
 * set (message names the path). */
char *fhir_xml_write(json_object *resource, struct fhir_error *err);

/* The safe libxml2 parse used by both of the above: rejects len over
 * lim->max_bytes (NULL lim: defaults), a declared encoding other than UTF-8
 * (and UTF-16/32 byte order marks), any DOCTYPE (stopped before its internal
 * subset is read, so no entity is ever declared or expanded), and malformed XML
 * (message names the line). Never touches the network, never loads a DTD,
 * prints nothing on stderr. Element depth is left to the caller.
 * Returns a document the caller frees with xmlFreeDoc, or NULL with err set. */
xmlDoc *fhir_xml_read_doc(const char *buf, size_t len, const struct fhir_limits *lim,
                          const char *what, struct fhir_error *err);

/* For the length of one call into libxml2, this thread's libxml2 error
 * handlers (structured and generic) put the first error into err as
 * "what: ..." and print nothing; _end gives the previous handlers back. Calls
 * nest. Used around every parse and write of this module. */
struct fhir_xml_errors {
    const char *what;
    struct fhir_error *err;
    int failed; /* err holds the first error; later ones are dropped */
    xmlStructuredErrorFunc prev_serror;
    void *prev_sctx;
    xmlGenericErrorFunc prev_generic;
    void *prev_gctx;
};
void fhir_xml_errors_begin(struct fhir_xml_errors *xe, const char *what, struct fhir_error *err);
void fhir_xml_errors_end(struct fhir_xml_errors *xe);

#endif
