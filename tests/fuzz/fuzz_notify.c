/*
 * fuzz_notify.c - libFuzzer target: fhir_notify_parse (fhir/fhir_notify.c), the
 * rest-hook request parser, in every style (bodiless ping, HAPI PUT/DELETE
 * with /Type/id, Medplum with X-Medplum-Deleted-Resource, Backport history
 * Bundles, JSON and XML).
 * Input: byte 0 picks the method, byte 1 the Content-Type, byte 2 bit 0 says
 * a subpath line follows, bit 1 a deleted-resource header line; the rest is
 * the body (see corpus/notify/: seeds are the unit fixtures with a prefix).
 * Invariants: on success every event is a known kind, CHANGED/DELETED carry a
 * FHIR type and id (NUL-terminated, id grammar [A-Za-z0-9.-]{1,64}), a
 * resource that is carried has that type and (when it has one) that id,
 * all strings are clean UTF-8; on failure the batch holds nothing and the
 * message is clean. libxml2 never prints.
 */
#include "fuzz_util.h"
#include "fhir_notify.h"
#include <libxml/parser.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    xmlInitParser();
    fz_xml_silence_guard();
    return 0;
}

static const char *const methods[] = {"POST", "PUT", "DELETE", "GET"};
static const char *const types[] = {"application/fhir+json", "application/json",
                                    "application/fhir+xml", NULL,
                                    "application/fhir+json; charset=utf-8", "text/plain",
                                    "application/xml", "application/fhir+xml;fhirVersion=4.0"};

/* Take one line off *p (of *n bytes) as a NUL-terminated copy into out. */
static void take_line(const char **p, size_t *n, char *out, size_t cap)
{
    size_t i = 0;
    while (i < *n && (*p)[i] != '\n')
        i++;
    size_t k = i < cap - 1 ? i : cap - 1;
    memcpy(out, *p, k);
    out[k] = '\0';
    *p += i < *n ? i + 1 : i;
    *n -= i < *n ? i + 1 : i;
}

static int id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n < 1 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    char sub[256] = "", deleted[256] = "";
    const char *p = (const char *)data + 3;
    size_t n = size - 3;
    if (data[2] & 1)
        take_line(&p, &n, sub, sizeof sub);
    if (data[2] & 2)
        take_line(&p, &n, deleted, sizeof deleted);
    /* the body in its own allocation, so ASan sees any read past its end */
    char *body = n ? malloc(n) : NULL;
    if (n)
        memcpy(body, p, n);
    struct fhir_notify_request rq = {methods[data[0] % 4], sub,
                                     types[data[1] % (sizeof types / sizeof *types)],
                                     (data[2] & 2) ? deleted : NULL, body, n};
    struct fhir_notify_batch b;
    struct fhir_error e = {0};
    int rc = fhir_notify_parse(&rq, NULL, &b, &e);
    if (rc != 0) {
        fz_clean_error(e.msg, sizeof e.msg, "fhir_notify_parse error");
        if (b.root || b.ev || b.nevent)
            fz_fail("fhir_notify_parse failed but left a batch behind");
        fhir_notify_batch_free(&b);
        free(body);
        return 0;
    }
    if (b.nevent < 0 || (b.nevent > 0 && !b.ev))
        fz_fail("bad event count %d", b.nevent);
    fz_text(b.subscription, sizeof b.subscription, "subscription");
    fz_text(b.status_type, sizeof b.status_type, "status_type");
    for (int i = 0; i < b.nevent; i++) {
        const struct fhir_notify_event *ev = &b.ev[i];
        if (ev->kind < FHIR_NOTIFY_PING || ev->kind > FHIR_NOTIFY_QUERY_STATUS)
            fz_fail("event %d: kind %d", i, (int)ev->kind);
        fz_text(ev->type, sizeof ev->type, "event type");
        fz_text(ev->id, sizeof ev->id, "event id");
        fz_text(ev->version, sizeof ev->version, "event version");
        fz_text(ev->last_updated, sizeof ev->last_updated, "event last_updated");
        if (ev->kind == FHIR_NOTIFY_CHANGED || ev->kind == FHIR_NOTIFY_DELETED) {
            char why[256];
            if (fhir_type_check(ev->type, why, sizeof why) != 0)
                fz_fail("event %d: type \"%s\": %s", i, ev->type, why);
            if (!id_ok(ev->id))
                fz_fail("event %d: id \"%s\" is not a FHIR id", i, ev->id);
        } else if (ev->resource) {
            fz_fail("event %d: a %s event carries a resource", i, fhir_notify_kind_name(ev->kind));
        }
        if (ev->resource) {
            if (ev->kind != FHIR_NOTIFY_CHANGED)
                fz_fail("event %d: resource on a non-CHANGED event", i);
            json_object *t, *id;
            if (!json_object_object_get_ex(ev->resource, "resourceType", &t) ||
                strcmp(json_object_get_string(t), ev->type) != 0)
                fz_fail("event %d: resource's type is not %s", i, ev->type);
            /* a resource without an id is named by its entry's fullUrl or
             * request.url (fhir_notify.c, notify_entry_ref) */
            if (json_object_object_get_ex(ev->resource, "id", &id) &&
                strcmp(json_object_get_string(id), ev->id) != 0)
                fz_fail("event %d: resource's id is not %s", i, ev->id);
        }
    }
    fhir_notify_batch_free(&b);
    free(body);
    return 0;
}
