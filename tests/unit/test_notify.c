/*
 * test_notify.c - fhir/fhir_notify.c: every rest-hook style of interop.md I1
 * (empty ping, HAPI PUT/DELETE, Medplum POST and {} delete, Subscriptions
 * Backport handshake/heartbeat/query-status/empty/id-only/full-resource in
 * JSON and XML), the errors of I17 and the secret checks. Fixtures are read
 * from the directory given as argv[1] (tests/unit/notify).
 */
#include "test_util.h"

#include "fhir_notify.h"

#include "fhir_tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *fixture_dir = "tests/unit/notify";

/* Contents of fixture name (malloc'd, NUL-terminated; the caller frees), or
 * NULL after a failed assertion. */
static char *fixture(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", fixture_dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        CU_FAIL("fixture missing");
        return NULL;
    }
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
        buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(buf);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

/* text with the first occurrence of from replaced by to (malloc'd). */
static char *replaced(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    CU_ASSERT_PTR_NOT_NULL(at);
    if (!at)
        return NULL;
    size_t pre = (size_t)(at - text), fl = strlen(from), tl = strlen(to);
    char *out = malloc(strlen(text) - fl + tl + 1);
    CU_ASSERT_PTR_NOT_NULL(out);
    if (!out)
        return NULL;
    memcpy(out, text, pre);
    memcpy(out + pre, to, tl);
    strcpy(out + pre + tl, at + fl);
    return out;
}

static int parse_text(const char *method, const char *sub, const char *ct, const char *deleted,
                      const char *body, size_t len, const struct fhir_limits *lim,
                      struct fhir_notify_batch *b, struct fhir_error *e)
{
    struct fhir_notify_request rq = {method, sub, ct, deleted, body, len};
    e->msg[0] = '\0';
    int rc = fhir_notify_parse(&rq, lim, b, e);
    if (rc != 0)
        fprintf(stderr, "  [fhir_notify_parse: %s]\n", e->msg);
    return rc;
}

static int parse_str(const char *method, const char *sub, const char *ct, const char *deleted,
                     const char *body, struct fhir_notify_batch *b, struct fhir_error *e)
{
    return parse_text(method, sub, ct, deleted, body, body ? strlen(body) : 0, NULL, b, e);
}

/* Parse fixture file as the body; 0 on success. */
static int parse_file(const char *method, const char *sub, const char *ct, const char *file,
                      struct fhir_notify_batch *b, struct fhir_error *e)
{
    size_t len = 0;
    char *body = fixture(file, &len);
    if (!body)
        return -1;
    int rc = parse_text(method, sub, ct, NULL, body, len, NULL, b, e);
    free(body); /* the batch keeps its own tree */
    return rc;
}

/* fhir_notify_parse must fail with want in the message and leave nothing behind. */
static void expect_error_lim(const char *method, const char *sub, const char *ct,
                             const char *deleted, const char *body, size_t len,
                             const struct fhir_limits *lim, const char *want)
{
    struct fhir_notify_batch b;
    struct fhir_error e;
    struct fhir_notify_request rq = {method, sub, ct, deleted, body, len};
    e.msg[0] = '\0';
    CU_ASSERT_EQUAL(fhir_notify_parse(&rq, lim, &b, &e), -1);
    CU_ASSERT_PTR_NULL(b.root);
    CU_ASSERT_PTR_NULL(b.ev);
    CU_ASSERT_EQUAL(b.nevent, 0);
    if (!strstr(e.msg, want))
        fprintf(stderr, "\n  want '%s'\n  got  '%s'\n", want, e.msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, want));
    fhir_notify_batch_free(&b); /* harmless on the zeroed batch */
}

static void expect_error(const char *method, const char *sub, const char *ct, const char *deleted,
                         const char *body, const char *want)
{
    expect_error_lim(method, sub, ct, deleted, body, body ? strlen(body) : 0, NULL, want);
}

static void expect_file_error(const char *method, const char *sub, const char *ct, const char *file,
                              const char *want)
{
    size_t len = 0;
    char *body = fixture(file, &len);
    if (!body)
        return;
    expect_error_lim(method, sub, ct, NULL, body, len, NULL, want);
    free(body);
}

static void check_event(const struct fhir_notify_event *ev, enum fhir_notify_kind kind,
                        const char *type, const char *id, const char *version)
{
    CU_ASSERT_EQUAL(ev->kind, kind);
    CU_ASSERT_STRING_EQUAL(ev->type, type);
    CU_ASSERT_STRING_EQUAL(ev->id, id);
    CU_ASSERT_STRING_EQUAL(ev->version, version);
    if (strcmp(ev->type, type) || strcmp(ev->id, id) || strcmp(ev->version, version))
        fprintf(stderr, "\n  got %s %s/%s v'%s'\n", fhir_notify_kind_name(ev->kind), ev->type,
                ev->id, ev->version);
}

static void check_no_backport(const struct fhir_notify_batch *b)
{
    CU_ASSERT_STRING_EQUAL(b->subscription, "");
    CU_ASSERT_STRING_EQUAL(b->status_type, "");
    CU_ASSERT_EQUAL(b->events_since_start, -1);
    CU_ASSERT_EQUAL(b->first_event, -1);
    CU_ASSERT_EQUAL(b->nevents_numbered, 0);
}

/* ---- empty payload, HAPI, Medplum ------------------------------------------ */

static void test_ping(void)
{
    struct fhir_notify_batch b;
    struct fhir_error e;
    const char *subs[] = {"", NULL, "/"};
    for (size_t i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL_FATAL(parse_text("POST", subs[i], NULL, NULL, NULL, 0, NULL, &b, &e), 0);
        CU_ASSERT_EQUAL(b.nevent, 1);
        CU_ASSERT_EQUAL(b.ev[0].kind, FHIR_NOTIFY_PING);
        CU_ASSERT_PTR_NULL(b.root);
        check_no_backport(&b);
        fhir_notify_batch_free(&b);
        CU_ASSERT_PTR_NULL(b.ev);
    }
    /* a Content-Type without a body changes nothing */
    CU_ASSERT_EQUAL_FATAL(parse_str("POST", "", "text/plain", "", "", &b, &e), 0);
    CU_ASSERT_EQUAL(b.ev[0].kind, FHIR_NOTIFY_PING);
    fhir_notify_batch_free(&b);
}

static void test_medplum_changed(void)
{
    const char *cts[] = {"application/fhir+json", "Application/JSON; charset=utf-8", NULL, ""};
    for (size_t i = 0; i < 4; i++) {
        struct fhir_notify_batch b;
        struct fhir_error e;
        CU_ASSERT_EQUAL_FATAL(parse_file("POST", "", cts[i], "observation.json", &b, &e), 0);
        CU_ASSERT_EQUAL_FATAL(b.nevent, 1);
        check_event(&b.ev[0], FHIR_NOTIFY_CHANGED, "Observation",
                    "0190f1a2-7c3b-7d4e-9f10-a1b2c3d4e5f6", "6c1f3a2e-5b4d-4e8f-9a0b-1c2d3e4f5a6b");
        CU_ASSERT_STRING_EQUAL(b.ev[0].last_updated, "2024-03-01T13:20:11.481Z");
        CU_ASSERT_PTR_NOT_NULL(b.root);
        CU_ASSERT_PTR_EQUAL(b.ev[0].resource, b.root);
        check_no_backport(&b);
        fhir_notify_batch_free(&b);
    }
}

static void test_medplum_delete(void)
{
    struct fhir_notify_batch b;
    struct fhir_error e;
    CU_ASSERT_EQUAL_FATAL(
        parse_str("POST", "", "application/fhir+json", "Observation/123", "{}", &b, &e), 0);
    CU_ASSERT_EQUAL_FATAL(b.nevent, 1);
    check_event(&b.ev[0], FHIR_NOTIFY_DELETED, "Observation", "123", "");
    CU_ASSERT_PTR_NULL(b.ev[0].resource);
    CU_ASSERT_PTR_NULL(b.root);
    fhir_notify_batch_free(&b);
    /* blanks around the braces, and no body at all */
    CU_ASSERT_EQUAL_FATAL(parse_str("POST", "", NULL, "Condition/c.7", " {\n} \n", &b, &e), 0);
    check_event(&b.ev[0], FHIR_NOTIFY_DELETED, "Condition", "c.7", "");
    fhir_notify_batch_free(&b);
    CU_ASSERT_EQUAL_FATAL(parse_str("POST", "", NULL, "Condition/c-8", NULL, &b, &e), 0);
    check_event(&b.ev[0], FHIR_NOTIFY_DELETED, "Condition", "c-8", "");
    fhir_notify_batch_free(&b);

    expect_error("POST", "", NULL, "Observation", "{}",
                 "X-Medplum-Deleted-Resource Observation: want {Type}/{id}");
    expect_error("POST", "", NULL, "observation/1", "{}", "want {Type}/{id}");
    expect_error("POST", "", NULL, "Observation/1/2", "{}", "want {Type}/{id}");
    expect_error("POST", "", NULL, "Observation/a b", "{}", "want {Type}/{id}");
    expect_error("POST", "", NULL, "Observation/1",
                 "{\"resourceType\":\"Observation\",\"id\":\"1\"}", "want the body {}");
    /* {} without the header is not a notification */
    expect_error("POST", "", "application/fhir+json", NULL, "{}",
                 "body: not a FHIR resource (no resourceType)");
    expect_error("POST", "", NULL, NULL, " { } ", "body: not a FHIR resource (no resourceType)");
}

static void test_hapi_put(void)
{
    struct fhir_notify_batch b;
    struct fhir_error e;
    CU_ASSERT_EQUAL_FATAL(parse_file("PUT", "/Observation/0190f1a2-7c3b-7d4e-9f10-a1b2c3d4e5f6",
                                     "application/fhir+json;charset=UTF-8", "observation.json", &b,
                                     &e),
                          0);
    CU_ASSERT_EQUAL_FATAL(b.nevent, 1);
    check_event(&b.ev[0], FHIR_NOTIFY_CHANGED, "Observation",
                "0190f1a2-7c3b-7d4e-9f10-a1b2c3d4e5f6", "6c1f3a2e-5b4d-4e8f-9a0b-1c2d3e4f5a6b");
    CU_ASSERT_PTR_EQUAL(b.ev[0].resource, b.root);
    fhir_notify_batch_free(&b);
    /* the same in XML, by Content-Type and by sniffing */
    const char *cts[] = {"application/fhir+xml", "application/xml", NULL};
    for (size_t i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL_FATAL(
            parse_file("PUT", "/Observation/hb-1", cts[i], "observation.xml", &b, &e), 0);
        CU_ASSERT_EQUAL_FATAL(b.nevent, 1);
        check_event(&b.ev[0], FHIR_NOTIFY_CHANGED, "Observation", "hb-1", "4");
        CU_ASSERT_STRING_EQUAL(b.ev[0].last_updated, "2024-03-01T14:02:00.000+00:00");
        CU_ASSERT_STRING_EQUAL(fhir_resource_type(b.ev[0].resource), "Observation");
        fhir_notify_batch_free(&b);
    }
    /* a body without id takes the path's */
    CU_ASSERT_EQUAL_FATAL(
        parse_str("PUT", "/Condition/c9", NULL, NULL, "{\"resourceType\":\"Condition\"}", &b, &e),
        0);
    check_event(&b.ev[0], FHIR_NOTIFY_CHANGED, "Condition", "c9", "");
    fhir_notify_batch_free(&b);
}

static void test_hapi_delete(void)
{
    struct fhir_notify_batch b;
    struct fhir_error e;
    CU_ASSERT_EQUAL_FATAL(parse_str("DELETE", "/Condition/c-7", NULL, NULL, NULL, &b, &e), 0);
    CU_ASSERT_EQUAL_FATAL(b.nevent, 1);
    check_event(&b.ev[0], FHIR_NOTIFY_DELETED, "Condition", "c-7", "");
    CU_ASSERT_PTR_NULL(b.root);
    CU_ASSERT_PTR_NULL(b.ev[0].resource);
    check_no_backport(&b);
    fhir_notify_batch_free(&b);
}

static void test_bad_request(void)
{
    const char *obs = "{\"resourceType\":\"Observation\",\"id\":\"1\"}";
    expect_error("PUT", "/Observation", NULL, NULL, obs, "PUT /Observation: want /{Type}/{id}");
    expect_error("PUT", "/observation/1", NULL, NULL, obs, "want /{Type}/{id}");
    expect_error("PUT", "Observation/1", NULL, NULL, obs, "want /{Type}/{id}");
    expect_error("PUT", "/Observation/1/_history/2", NULL, NULL, obs, "want /{Type}/{id}");
    expect_error("PUT", "/Observation/a_b", NULL, NULL, obs, "want /{Type}/{id}");
    expect_error("PUT", "/Observation/", NULL, NULL, obs, "want /{Type}/{id}");
    expect_error("PUT", "/O/1", NULL, NULL, obs, "want /{Type}/{id}");
    expect_error("PUT", "", NULL, NULL, obs, "PUT : want /{Type}/{id}");
    char longid[80] = "/Observation/";
    memset(longid + 13, 'a', 65);
    expect_error("PUT", longid, NULL, NULL, obs, "want /{Type}/{id}");
    expect_error("DELETE", "", NULL, NULL, NULL, "DELETE : want /{Type}/{id}");
    expect_error("DELETE", "/Observation/1\n", NULL, NULL, NULL, "DELETE /Observation/1?: want");
    expect_error("POST", "/Observation/1", NULL, NULL, obs,
                 "POST /Observation/1: notifications are POSTed to the endpoint itself");
    expect_error("GET", "", NULL, NULL, NULL, "method GET: want POST, PUT or DELETE");
    expect_error(NULL, "", NULL, NULL, NULL, "no method");
    /* PUT: the body must be the resource the path names */
    expect_error("PUT", "/Observation/2", NULL, NULL, obs,
                 "PUT /Observation/2: the body is Observation/1, not Observation/2");
    expect_error("PUT", "/Condition/1", NULL, NULL, obs,
                 "PUT /Condition/1: the body is Observation/1, not Condition/1");
    expect_error("PUT", "/Observation/1", NULL, NULL, NULL, "PUT /Observation/1: no body");
    /* Medplum: a resource without an id cannot be named */
    expect_error("POST", "", NULL, NULL, "{\"resourceType\":\"Observation\"}",
                 "body: Observation has no id");
    expect_error("POST", "", NULL, NULL, "{\"resourceType\":\"Observation\",\"id\":\"a/b\"}",
                 "Observation.id: \"a/b\" is not a FHIR id");
    expect_error("POST", "", NULL, NULL,
                 "{\"resourceType\":\"Observation\",\"id\":\"1\",\"meta\":{\"versionId\":7}}",
                 "Observation.meta.versionId");
}

/* ---- hostile and malformed bodies (I17) ---------------------------------- */

static void test_bad_body(void)
{
    expect_error("POST", "", "text/plain", NULL, "hello",
                 "Content-Type text/plain: want application/fhir+json or application/fhir+xml");
    expect_error("POST", "", "TEXT/plain; charset=utf-8", NULL, "hello",
                 "Content-Type TEXT/plain: want application/fhir+json");
    expect_error("POST", "", "application/fhir+json", NULL, "{\"resourceType\":\"Observation\",",
                 "body: JSON ends early");
    expect_error("POST", "", "application/fhir+json", NULL, "{\"resourceType\":\"Observation\",x}",
                 "body: line 1: invalid JSON");
    expect_error("POST", "", NULL, NULL, "[1]", "body: not a FHIR resource");
    expect_error("POST", "", "application/fhir+json", NULL,
                 "<Observation xmlns=\"http://hl7.org/fhir\"/>", "body: line 1: invalid JSON");
    expect_error("POST", "", "application/fhir+xml", NULL,
                 "<Observation xmlns=\"http://hl7.org/fhir\">", "body: XML not well-formed");
    /* over the size limit: refused before parsing */
    size_t len = 0;
    char *obs = fixture("observation.json", &len);
    if (obs) {
        struct fhir_limits small = {100, 32};
        expect_error_lim("POST", "", "application/fhir+json", NULL, obs, len, &small, "limit 100");
        expect_error_lim("PUT", "/Observation/x", NULL, NULL, obs, len, &small, "limit 100");
        free(obs);
    }
    /* too deep */
    char deep[400] = "{\"resourceType\":\"Basic\",\"id\":\"b\",\"x\":";
    for (int i = 0; i < 40; i++)
        strcat(deep, "[");
    for (int i = 0; i < 40; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    expect_error("POST", "", "application/fhir+json", NULL, deep, "nested deeper than 32 levels");
    /* XML with a DOCTYPE (entity expansion): refused, by type and sniffed */
    expect_file_error("POST", "", "application/fhir+xml", "doctype.xml", "DOCTYPE not allowed");
    expect_file_error("PUT", "/Observation/x1", NULL, "doctype.xml", "DOCTYPE not allowed");
}

static void test_not_notification(void)
{
    const char *want = "Bundle: not a subscription notification (want type history with a "
                       "SubscriptionStatus first)";
    expect_file_error("POST", "", "application/fhir+json", "searchset.json", want);
    expect_error("POST", "", NULL, NULL,
                 "{\"resourceType\":\"Bundle\",\"type\":\"history\",\"entry\":[{\"resource\":"
                 "{\"resourceType\":\"Observation\",\"id\":\"1\"}}]}",
                 want);
    expect_error("POST", "", NULL, NULL, "{\"resourceType\":\"Bundle\",\"type\":\"history\"}",
                 want);
    expect_error("POST", "", NULL, NULL, "{\"resourceType\":\"Bundle\",\"type\":\"transaction\"}",
                 want);
}

/* ---- Subscriptions Backport ------------------------------------------------ */

static void check_status(const char *file, enum fhir_notify_kind kind, const char *type,
                         long long since)
{
    struct fhir_notify_batch b;
    struct fhir_error e;
    CU_ASSERT_EQUAL_FATAL(parse_file("POST", "", "application/fhir+json", file, &b, &e), 0);
    CU_ASSERT_EQUAL_FATAL(b.nevent, 1);
    CU_ASSERT_EQUAL(b.ev[0].kind, kind);
    CU_ASSERT_STRING_EQUAL(b.ev[0].type, "");
    CU_ASSERT_STRING_EQUAL(b.subscription, "Subscription/nenfhir-1");
    CU_ASSERT_STRING_EQUAL(b.status_type, type);
    CU_ASSERT_EQUAL(b.events_since_start, since);
    CU_ASSERT_EQUAL(b.first_event, -1);
    CU_ASSERT_EQUAL(b.nevents_numbered, 0);
    fhir_notify_batch_free(&b);
}

static void test_backport_status(void)
{
    check_status("backport_handshake.json", FHIR_NOTIFY_HANDSHAKE, "handshake", 0);
    check_status("backport_heartbeat.json", FHIR_NOTIFY_HEARTBEAT, "heartbeat", 4);
    check_status("backport_query_status.json", FHIR_NOTIFY_QUERY_STATUS, "query-status", 4);
}

static void test_backport_empty(void)
{
    struct fhir_notify_batch b;
    struct fhir_error e;
    CU_ASSERT_EQUAL_FATAL(parse_file("POST", "", NULL, "backport_empty.json", &b, &e), 0);
    CU_ASSERT_EQUAL_FATAL(b.nevent, 1);
    CU_ASSERT_EQUAL(b.ev[0].kind, FHIR_NOTIFY_PING);
    CU_ASSERT_STRING_EQUAL(b.status_type, "event-notification");
    CU_ASSERT_EQUAL(b.events_since_start, 5);
    CU_ASSERT_EQUAL(b.first_event, 5);
    CU_ASSERT_EQUAL(b.nevents_numbered, 1);
    fhir_notify_batch_free(&b);
}

static void test_backport_id_only(void)
{
    struct fhir_notify_batch b;
    struct fhir_error e;
    CU_ASSERT_EQUAL_FATAL(
        parse_file("POST", "", "application/fhir+json", "backport_id_only.json", &b, &e), 0);
    CU_ASSERT_EQUAL_FATAL(b.nevent, 3);
    /* entries first, in order; versions from the _history URLs */
    check_event(&b.ev[0], FHIR_NOTIFY_CHANGED, "Observation", "obs-1", "3");
    check_event(&b.ev[1], FHIR_NOTIFY_DELETED, "Condition", "cond-9", "2");
    /* then the focus no entry carried */
    check_event(&b.ev[2], FHIR_NOTIFY_CHANGED, "Observation", "obs-2", "5");
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_PTR_NULL(b.ev[i].resource);
        CU_ASSERT_STRING_EQUAL(b.ev[i].last_updated, "");
    }
    CU_ASSERT_STRING_EQUAL(b.subscription, "Subscription/nenfhir-1");
    CU_ASSERT_STRING_EQUAL(b.status_type, "event-notification");
    CU_ASSERT_EQUAL(b.events_since_start, 8);
    CU_ASSERT_EQUAL(b.first_event, 6);
    CU_ASSERT_EQUAL(b.nevents_numbered, 3);
    fhir_notify_batch_free(&b);
}

/* The full-resource fixture's events, whichever representation. */
static void check_full(const struct fhir_notify_batch *b)
{
    CU_ASSERT_EQUAL_FATAL(b->nevent, 2);
    check_event(&b->ev[0], FHIR_NOTIFY_CHANGED, "Observation", "hb-1", "2");
    CU_ASSERT_STRING_EQUAL(b->ev[0].last_updated, "2024-03-01T10:00:04.870+01:00");
    check_event(&b->ev[1], FHIR_NOTIFY_CHANGED, "Condition", "c-7", "1");
    CU_ASSERT_STRING_EQUAL(b->ev[1].last_updated, "2024-03-01T10:00:03.002+01:00");
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(b->ev[i].resource);
        CU_ASSERT_STRING_EQUAL(fhir_resource_type(b->ev[i].resource), b->ev[i].type);
        CU_ASSERT_STRING_EQUAL(fhir_resource_id(b->ev[i].resource), b->ev[i].id);
    }
    /* borrowed from the root: entry[1].resource is the same object */
    json_object *e1 = fhir_member(fhir_item(b->root, "entry", 1), "resource");
    CU_ASSERT_PTR_EQUAL(b->ev[0].resource, e1);
    CU_ASSERT_STRING_EQUAL(b->subscription, "Subscription/nenfhir-1");
    CU_ASSERT_STRING_EQUAL(b->status_type, "event-notification");
    CU_ASSERT_EQUAL(b->events_since_start, 12);
    CU_ASSERT_EQUAL(b->first_event, 11);
    CU_ASSERT_EQUAL(b->nevents_numbered, 2);
}

static void test_backport_full(void)
{
    struct fhir_notify_batch bj, bx;
    struct fhir_error e;
    CU_ASSERT_EQUAL_FATAL(
        parse_file("POST", "", "application/fhir+json", "backport_full.json", &bj, &e), 0);
    check_full(&bj);
    CU_ASSERT_EQUAL_FATAL(
        parse_file("POST", "", "application/fhir+xml; charset=UTF-8", "backport_full.xml", &bx, &e),
        0);
    check_full(&bx);
    /* the XML gives the very same events as the JSON */
    CU_ASSERT_EQUAL_FATAL(bx.nevent, bj.nevent);
    for (int i = 0; i < bj.nevent; i++) {
        CU_ASSERT_EQUAL(bx.ev[i].kind, bj.ev[i].kind);
        CU_ASSERT_STRING_EQUAL(bx.ev[i].type, bj.ev[i].type);
        CU_ASSERT_STRING_EQUAL(bx.ev[i].id, bj.ev[i].id);
        CU_ASSERT_STRING_EQUAL(bx.ev[i].version, bj.ev[i].version);
        CU_ASSERT_STRING_EQUAL(bx.ev[i].last_updated, bj.ev[i].last_updated);
    }
    CU_ASSERT_STRING_EQUAL(bx.subscription, bj.subscription);
    CU_ASSERT_STRING_EQUAL(bx.status_type, bj.status_type);
    CU_ASSERT_EQUAL(bx.events_since_start, bj.events_since_start);
    CU_ASSERT_EQUAL(bx.first_event, bj.first_event);
    CU_ASSERT_EQUAL(bx.nevents_numbered, bj.nevents_numbered);
    fhir_notify_batch_free(&bx);
    /* sniffed without a Content-Type */
    CU_ASSERT_EQUAL_FATAL(parse_file("POST", "", NULL, "backport_full.xml", &bx, &e), 0);
    check_full(&bx);
    fhir_notify_batch_free(&bx);
    fhir_notify_batch_free(&bj);
}

static void test_backport_r4b(void)
{
    struct fhir_notify_batch b;
    struct fhir_error e;
    CU_ASSERT_EQUAL_FATAL(parse_file("POST", "", NULL, "backport_r4b_status.json", &b, &e), 0);
    CU_ASSERT_EQUAL_FATAL(b.nevent, 1);
    check_event(&b.ev[0], FHIR_NOTIFY_CHANGED, "Observation", "obs-3", "");
    CU_ASSERT_STRING_EQUAL(b.subscription, "Subscription/nenfhir-2");
    CU_ASSERT_EQUAL(b.events_since_start, 3);
    CU_ASSERT_EQUAL(b.first_event, 3);
    CU_ASSERT_EQUAL(b.nevents_numbered, 1);
    fhir_notify_batch_free(&b);
}

/* Variants of a fixture: parse text with from replaced by to. */
static int parse_variant(const char *file, const char *from, const char *to,
                         struct fhir_notify_batch *b, struct fhir_error *e)
{
    size_t len;
    char *text = fixture(file, &len);
    char *v = text ? replaced(text, from, to) : NULL;
    free(text);
    if (!v)
        return -2;
    int rc = parse_str("POST", "", NULL, NULL, v, b, e);
    free(v);
    return rc;
}

static void expect_variant_error(const char *file, const char *from, const char *to,
                                 const char *want)
{
    size_t len;
    char *text = fixture(file, &len);
    char *v = text ? replaced(text, from, to) : NULL;
    free(text);
    if (v)
        expect_error("POST", "", "application/fhir+json", NULL, v, want);
    free(v);
}

static void test_backport_variants(void)
{
    struct fhir_notify_batch b;
    struct fhir_error e;
    /* events-since-subscription-start as an integer type (older servers) */
    const char *ints[] = {"\"valueInteger\": 4", "\"valueUnsignedInt\": 4",
                          "\"valueInteger64\": \"4\""};
    for (size_t i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL_FATAL(
            parse_variant("backport_heartbeat.json", "\"valueString\": \"4\"", ints[i], &b, &e), 0);
        CU_ASSERT_EQUAL(b.events_since_start, 4);
        fhir_notify_batch_free(&b);
    }
    /* event-number as an integer */
    CU_ASSERT_EQUAL_FATAL(parse_variant("backport_empty.json",
                                        "\"valueString\": \"5\"\n              }",
                                        "\"valueInteger\": 5\n              }", &b, &e),
                          0);
    CU_ASSERT_EQUAL(b.first_event, 5);
    CU_ASSERT_EQUAL(b.nevents_numbered, 1);
    CU_ASSERT_EQUAL(b.ev[0].kind, FHIR_NOTIFY_PING);
    fhir_notify_batch_free(&b);
    /* a focus that names nothing (urn:uuid, no entry): catch up with a PING */
    CU_ASSERT_EQUAL_FATAL(parse_variant("backport_id_only.json", "\"Condition/cond-9\"",
                                        "\"urn:uuid:0c1d2e3f-0000-4000-8000-000000000009\"", &b,
                                        &e),
                          0);
    CU_ASSERT_EQUAL_FATAL(b.nevent, 3);
    check_event(&b.ev[0], FHIR_NOTIFY_CHANGED, "Observation", "obs-1", "3");
    check_event(&b.ev[1], FHIR_NOTIFY_CHANGED, "Observation", "obs-2", "5");
    CU_ASSERT_EQUAL(b.ev[2].kind, FHIR_NOTIFY_PING);
    fhir_notify_batch_free(&b);
}

static void test_backport_errors(void)
{
    expect_variant_error("backport_heartbeat.json", "\"valueString\": \"4\"",
                         "\"valueString\": \"four\"",
                         "Bundle.entry[0].resource.parameter[4].valueString: "
                         "events-since-subscription-start is not a number");
    expect_variant_error(
        "backport_heartbeat.json", "\"valueString\": \"4\"", "\"valueInteger\": -4",
        "parameter[4].valueInteger: events-since-subscription-start is not a number");
    expect_variant_error("backport_empty.json", "\"valueString\": \"5\"\n              }",
                         "\"valueString\": \"five\"\n              }",
                         "Bundle.entry[0].resource.parameter[5].part[0].valueString: "
                         "event-number is not a number");
    expect_variant_error("backport_heartbeat.json", "\"valueCode\": \"heartbeat\"",
                         "\"valueCode\": \"bogus\"",
                         "Bundle.entry[0].resource.parameter[3].valueCode: unknown notification "
                         "type \"bogus\"");
    expect_variant_error("backport_heartbeat.json", "\"name\": \"type\"", "\"name\": \"kind\"",
                         "Bundle.entry[0].resource: not a SubscriptionStatus Parameters (no "
                         "\"type\" parameter)");
    expect_variant_error("backport_heartbeat.json", "\"name\": \"subscription\"",
                         "\"name\": \"sub\"", "(no \"subscription\" parameter)");
    expect_variant_error("backport_heartbeat.json", "\"reference\": \"Subscription/nenfhir-1\"",
                         "\"display\": \"x\"",
                         "Bundle.entry[0].resource.parameter[0].valueReference: no reference to "
                         "the Subscription");
    expect_variant_error("backport_heartbeat.json", "\"name\": \"subscription\"", "\"name\": 7",
                         "Bundle.entry[0].resource.parameter[0].name: expected a string");
    /* an id-only entry that names nothing, with no focus to go by */
    expect_error(
        "POST", "", NULL, NULL,
        "{\"resourceType\":\"Bundle\",\"type\":\"history\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"Parameters\",\"parameter\":["
        "{\"name\":\"subscription\",\"valueReference\":{\"reference\":\"Subscription/s\"}},"
        "{\"name\":\"type\",\"valueCode\":\"event-notification\"}]}},"
        "{\"fullUrl\":\"urn:uuid:1\",\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}",
        "Bundle.entry[1]: cannot tell which resource changed");
    /* an entry resource that is not a resource */
    expect_error(
        "POST", "", NULL, NULL,
        "{\"resourceType\":\"Bundle\",\"type\":\"history\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"Parameters\",\"parameter\":["
        "{\"name\":\"subscription\",\"valueReference\":{\"reference\":\"Subscription/s\"}},"
        "{\"name\":\"type\",\"valueCode\":\"event-notification\"}]}},"
        "{\"resource\":{\"id\":\"x\"}}]}",
        "Bundle.entry[1].resource: not a FHIR resource (no resourceType)");
}

/* ---- secrets ------------------------------------------------------------------ */

static void test_secret(void)
{
    CU_ASSERT_EQUAL(fhir_notify_secret_ok("s3cr3t-token", "s3cr3t-token"), 1);
    CU_ASSERT_EQUAL(fhir_notify_secret_ok("s3cr3t-token", "s3cr3t-tokeN"), 0);
    CU_ASSERT_EQUAL(fhir_notify_secret_ok("s3cr3t-token", "s3cr3t-toke"), 0);
    CU_ASSERT_EQUAL(fhir_notify_secret_ok("s3cr3t-token", "s3cr3t-token2"), 0);
    CU_ASSERT_EQUAL(fhir_notify_secret_ok("s3cr3t-token", ""), 0);
    CU_ASSERT_EQUAL(fhir_notify_secret_ok("s3cr3t-token", NULL), 0);
    CU_ASSERT_EQUAL(fhir_notify_secret_ok(NULL, "x"), 0);
}

static void test_hmac(void)
{
    /* RFC 4231 test case 2 */
    const char *data = "what do ya want for nothing?";
    const char *sig = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    CU_ASSERT_EQUAL(fhir_notify_hmac_ok("Jefe", data, strlen(data), sig), 1);
    CU_ASSERT_EQUAL(
        fhir_notify_hmac_ok("Jefe", data, strlen(data),
                       "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"),
        1);
    CU_ASSERT_EQUAL(
        fhir_notify_hmac_ok("Jefe", data, strlen(data),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3844"),
        0);
    CU_ASSERT_EQUAL(fhir_notify_hmac_ok("jefe", data, strlen(data), sig), 0);
    CU_ASSERT_EQUAL(fhir_notify_hmac_ok("Jefe", data, strlen(data) - 1, sig), 0);
    CU_ASSERT_EQUAL(
        fhir_notify_hmac_ok("Jefe", data, strlen(data),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec38"),
        0);
    CU_ASSERT_EQUAL(
        fhir_notify_hmac_ok("Jefe", data, strlen(data),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec384300"),
        0);
    CU_ASSERT_EQUAL(
        fhir_notify_hmac_ok("Jefe", data, strlen(data),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec384g"),
        0);
    CU_ASSERT_EQUAL(fhir_notify_hmac_ok("Jefe", data, strlen(data), ""), 0);
    CU_ASSERT_EQUAL(fhir_notify_hmac_ok("Jefe", data, strlen(data), NULL), 0);
    CU_ASSERT_EQUAL(fhir_notify_hmac_ok(NULL, data, strlen(data), sig), 0);
    /* an empty body (key "key"; openssl dgst -sha256 -hmac key </dev/null) */
    CU_ASSERT_EQUAL(
        fhir_notify_hmac_ok("key", NULL, 0,
                       "5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0"),
        1);
    CU_ASSERT_EQUAL(fhir_notify_hmac_ok("key", NULL, 3, sig), 0);
}

static void test_kind_names(void)
{
    CU_ASSERT_STRING_EQUAL(fhir_notify_kind_name(FHIR_NOTIFY_PING), "ping");
    CU_ASSERT_STRING_EQUAL(fhir_notify_kind_name(FHIR_NOTIFY_CHANGED), "changed");
    CU_ASSERT_STRING_EQUAL(fhir_notify_kind_name(FHIR_NOTIFY_DELETED), "deleted");
    CU_ASSERT_STRING_EQUAL(fhir_notify_kind_name(FHIR_NOTIFY_HANDSHAKE), "handshake");
    CU_ASSERT_STRING_EQUAL(fhir_notify_kind_name(FHIR_NOTIFY_HEARTBEAT), "heartbeat");
    CU_ASSERT_STRING_EQUAL(fhir_notify_kind_name(FHIR_NOTIFY_QUERY_STATUS), "query-status");
    CU_ASSERT_STRING_EQUAL(fhir_notify_kind_name((enum fhir_notify_kind)99), "unknown");
    struct fhir_notify_batch b;
    memset(&b, 0, sizeof b);
    fhir_notify_batch_free(&b); /* safe on a zeroed batch */
    fhir_notify_batch_free(NULL);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        fixture_dir = argv[1];
    CU_TestInfo tests[] = {{"bodiless POST is a ping", test_ping},
                           {"Medplum: POST of the resource", test_medplum_changed},
                           {"Medplum: {} with X-Medplum-Deleted-Resource", test_medplum_delete},
                           {"HAPI: PUT /Type/id, JSON and XML", test_hapi_put},
                           {"HAPI: DELETE /Type/id", test_hapi_delete},
                           {"bad paths, methods, mismatched PUT", test_bad_request},
                           {"hostile and malformed bodies", test_bad_body},
                           {"Bundles that are not notifications", test_not_notification},
                           {"backport handshake, heartbeat, query-status", test_backport_status},
                           {"backport empty payload is a ping", test_backport_empty},
                           {"backport id-only", test_backport_id_only},
                           {"backport full-resource, JSON = XML", test_backport_full},
                           {"backport with an R4B SubscriptionStatus", test_backport_r4b},
                           {"backport value variants", test_backport_variants},
                           {"backport errors name the field", test_backport_errors},
                           {"shared secret", test_secret},
                           {"X-Signature HMAC-SHA256", test_hmac},
                           {"kind names", test_kind_names},
                           CU_TEST_INFO_NULL};
    return test_run_suite("notify", tests);
}
