/*
 * pipeline_read.c - a run's resources (issue 11 item 2): the patient's
 * inputs, Specimens and Patient as kept in the store's input mirror
 * (notifications, catch-up pages and earlier reads fill it). The server is
 * read only for what the mirror lacks:
 *   - once per patient (store seeded table), the inputs that may predate
 *     nenfhir: one search, Patient?_id=ID with _revinclude of its
 *     Observations, Conditions and Specimens, following next links;
 *   - by id, a Specimen an input or a Specimen.parent names, or the
 *     Patient, not yet kept (up to three rounds, for parent chains).
 * A 404/410 on a search is a failure, never "no inputs"; a 404/410 on the
 * Patient read counts as "Patient gone" only when no input refers to it.
 * What is read is kept in the mirror (versions only move forward).
 */
#include "pipeline_int.h"

#include "fhir_json.h"
#include "fhir_primitive.h"
#include "fhir_tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LACKING_ROUNDS 3
#define LACKING_MAX 32 /* by-id reads per round */

size_t pipeline_inputs(const struct pipeline_run *r)
{
    size_t n = 0;
    for (size_t i = 0; i < json_object_array_length(r->docs); i++) {
        json_object *res = json_object_array_get_idx(r->docs, i);
        const char *t = fhir_resource_type(res);
        if ((strcmp(t, "Observation") == 0 || strcmp(t, "Condition") == 0) &&
            !fhir_has_tag(res, NEN_TAG_SYSTEM, NEN_TAG_CODE))
            n++;
    }
    return n;
}

static int load_row(void *ctx, const char *ref, const char *type, const char *json)
{
    (void)type;
    struct pipeline_run *r = ctx;
    struct fhir_error err = {0};
    json_object *o = fhir_json_parse(json, strlen(json), &fhir_limits_default, ref, &err);
    if (!o) {
        LOG_WARN("case %s: the kept copy of %s cannot be read (%s): skipped", r->job.key, ref,
                 err.msg);
        return 0;
    }
    json_object_array_add(r->docs, o);
    return 0;
}

/* r->docs := the patient's resources in the mirror. */
static int load_mirror(struct pipeline_run *r)
{
    json_object_put(r->docs);
    r->docs = json_object_new_array();
    if (!r->docs)
        return -1;
    return store_mirror_of_patient(r->d->store, r->job.key, load_row, r) < 0 ? -1 : 0;
}

static int have_ref(const struct pipeline_run *r, const char *ref)
{
    for (size_t i = 0; i < json_object_array_length(r->docs); i++) {
        json_object *o = json_object_array_get_idx(r->docs, i);
        char have[STORE_KEY_LEN];
        snprintf(have, sizeof have, "%s/%s", fhir_resource_type(o), fhir_resource_id(o));
        if (strcmp(have, ref) == 0)
            return 1;
    }
    return 0;
}

/* A read failed: the run is retried (the server may recover). */
static void read_failed(struct pipeline_run *r, const struct fhir_response *resp,
                        const char *what)
{
    r->failed = 1;
    r->fail_status = 0; /* a failed read is retried, whatever the status */
    r->retry_after_s = resp->retry_after_s;
    if (resp->status)
        snprintf(r->fail, sizeof r->fail, "reading the case: HTTP %ld%s", resp->status, what);
    else
        snprintf(r->fail, sizeof r->fail, "reading the case: %s", resp->error);
}

/* Keep res in the mirror (in the caller's transaction) and in docs. */
static int keep(struct pipeline_run *r, json_object *res)
{
    if (fhir_has_tag(res, NEN_TAG_SYSTEM, NEN_TAG_CODE))
        return 0;
    const char *type = fhir_resource_type(res);
    if (strcmp(type, "Patient") != 0 && !intake_is_input(r->d->codes, res))
        return 0;
    if (intake_mirror(r->d, res, r->job.key) < 0)
        return -1;
    r->fetched++;
    json_object_array_add(r->docs, json_object_get(res));
    return 0;
}

/* Keep what one read answered (a resource, or a search page's entries) in
 * one store transaction; a store failure fails the run and pauses case work. */
static void keep_read(struct pipeline_run *r, json_object *o)
{
    int bundle = strcmp(fhir_resource_type(o), "Bundle") == 0;
    int rc = store_begin(r->d->store);
    for (size_t i = 0; rc == 0 && i < (bundle ? fhir_count(o, "entry") : 1); i++) {
        json_object *e = bundle ? fhir_member(fhir_item(o, "entry", i), "resource") : o;
        if (e && json_object_is_type(e, json_type_object))
            rc = keep(r, e);
    }
    if (rc == 0)
        rc = store_commit(r->d->store);
    if (rc != 0) {
        store_rollback(r->d->store);
        pipeline_store_failed(r->d);
        r->failed = 1;
        snprintf(r->fail, sizeof r->fail, "store: %.400s", store_error(r->d->store));
    }
}

static void start_get(struct pipeline_run *r, const char *url, fhir_client_done_fn cb)
{
    int rc = fhir_client_request(r->d->client, "GET", url, NULL, 0, NULL, cb, r);
    if (rc != 0) {
        r->failed = 1;
        r->fail_status = 0;
        snprintf(r->fail, sizeof r->fail, "reading the case: %s%.400s",
                 rc == FHIR_CLIENT_EURL ? "the server's link " : "",
                 fhir_client_error(r->d->client));
        return;
    }
    r->pending++;
}

static void read_lacking(struct pipeline_run *r);

static void seed_done(struct pipeline_run *r)
{
    if (--r->pending > 0)
        return;
    if (r->failed) {
        pipeline_run_fail(r, r->fail_status, r->retry_after_s, r->fail, NULL);
        return;
    }
    if (store_seeded_set(r->d->store, r->job.key, adapter_now_ms()) != 0 || load_mirror(r) != 0) {
        pipeline_store_failed(r->d);
        pipeline_run_fail(r, 0, -1, "store: keeping the patient's inputs failed", NULL);
        return;
    }
    LOG_DEBUG("case %s: first read of the patient done (%zu input(s) kept)", r->job.key,
              pipeline_inputs(r));
    read_lacking(r);
}

/* A page of the seed search: its entries kept, its next link followed. */
static void on_seed_page(void *ctx, const struct fhir_response *resp)
{
    struct pipeline_run *r = ctx;
    struct fhir_error err = {0};
    json_object *o = resp->status == 200 ? fhir_json_parse(resp->body, resp->len,
                                                           &fhir_limits_default, r->job.key, &err)
                                         : NULL;
    if (!o) {
        read_failed(r, resp, resp->status == 404 || resp->status == 410
                                 ? " (not found: not taken as 'no inputs')" : "");
        if (resp->status == 200)
            snprintf(r->fail, sizeof r->fail, "reading the case: %.400s", err.msg);
        seed_done(r);
        return;
    }
    keep_read(r, o);
    const char *next = fhir_bundle_next(o);
    if (next && !r->failed)
        start_get(r, next, on_seed_page);
    json_object_put(o);
    seed_done(r);
}

/* The first run of a patient: read what the server already has. */
static void seed(struct pipeline_run *r)
{
    char err[700];
    if (strncmp(r->job.key, "Patient/", 8) != 0) { /* intake makes no other key */
        snprintf(r->fail, sizeof r->fail, "case key %.160s is no Patient reference",
                 r->job.key);
        pipeline_run_fail(r, 400, -1, r->fail, NULL);
        return;
    }
    const char *const params[] = {"_id", r->job.key + 8,
                                  "_revinclude", "Observation:subject",
                                  "_revinclude", "Condition:subject",
                                  "_revinclude", "Specimen:subject",
                                  "_count", "200"};
    char *url = fhir_client_url(r->d->client, "Patient", params, 5, err, sizeof err);
    if (!url) {
        snprintf(r->fail, sizeof r->fail, "case key %.160s cannot be read: %.300s", r->job.key,
                 err);
        pipeline_run_fail(r, 400, -1, r->fail, NULL); /* a bad key: dead letter at once */
        return;
    }
    r->pending = 1; /* held until the first read is started */
    start_get(r, url, on_seed_page);
    free(url);
    seed_done(r);
}

static void lacking_done(struct pipeline_run *r)
{
    if (--r->pending > 0)
        return;
    if (!r->failed && r->patient_gone && pipeline_inputs(r) > 0) {
        r->failed = 1;
        snprintf(r->fail, sizeof r->fail,
                 "reading the case: %s answered HTTP %ld (gone) but %zu input(s) refer to it",
                 r->job.key, r->patient_gone, pipeline_inputs(r));
    }
    if (r->failed) {
        pipeline_run_fail(r, r->fail_status, r->retry_after_s, r->fail, NULL);
        return;
    }
    if (r->fetched && r->lacking_rounds < LACKING_ROUNDS) {
        read_lacking(r); /* a Specimen read may name a parent not kept yet */
        return;
    }
    pipeline_compute(r);
}

static void on_lacking(void *ctx, const struct fhir_response *resp)
{
    struct pipeline_run *r = ctx;
    if (resp->status == 404 || resp->status == 410) {
        /* a Specimen that is not there: its case is keyed by the reference */
        lacking_done(r);
        return;
    }
    struct fhir_error err = {0};
    json_object *o = resp->status == 200 ? fhir_json_parse(resp->body, resp->len,
                                                           &fhir_limits_default, r->job.key, &err)
                                         : NULL;
    if (!o) {
        read_failed(r, resp, "");
        if (resp->status == 200)
            snprintf(r->fail, sizeof r->fail, "reading the case: %.400s", err.msg);
        lacking_done(r);
        return;
    }
    keep_read(r, o);
    json_object_put(o);
    lacking_done(r);
}

/* The Patient read: 404/410 is "gone" if no input refers to it. */
static void on_lacking_patient(void *ctx, const struct fhir_response *resp)
{
    struct pipeline_run *r = ctx;
    if (resp->status == 404 || resp->status == 410)
        r->patient_gone = resp->status;
    on_lacking(ctx, resp);
}

/* "Specimen/ID" of a reference to a Specimen on this server, or "". */
static void specimen_ref(const char *reference, char *out, size_t len)
{
    out[0] = '\0';
    if (!reference)
        return;
    const char *p = strstr(reference, "Specimen/");
    if (!p || (p != reference && p[-1] != '/') || strncmp(reference, "urn:", 4) == 0)
        return;
    char id[65];
    size_t n = strcspn(p + 9, "/?#");
    if (n == 0 || n >= sizeof id)
        return;
    memcpy(id, p + 9, n);
    id[n] = '\0';
    if (fhir_id_valid(id))
        snprintf(out, len, "Specimen/%s", id);
}

static int listed(char (*refs)[STORE_KEY_LEN], int n, const char *ref)
{
    for (int i = 0; i < n; i++)
        if (strcmp(refs[i], ref) == 0)
            return 1;
    return 0;
}

/* One round of by-id reads of what the mirror lacks. */
static void read_lacking(struct pipeline_run *r)
{
    static char refs[LACKING_MAX][STORE_KEY_LEN]; /* the loop is single-threaded */
    int n = 0;
    r->lacking_rounds++;
    r->fetched = 0;
    if (!have_ref(r, r->job.key) && !r->patient_gone)
        snprintf(refs[n++], STORE_KEY_LEN, "%s", r->job.key);
    for (size_t i = 0; i < json_object_array_length(r->docs) && n < LACKING_MAX; i++) {
        json_object *o = json_object_array_get_idx(r->docs, i);
        const char *t = fhir_resource_type(o), *s = NULL;
        json_object *ref = NULL;
        if (strcmp(t, "Observation") == 0)
            ref = fhir_member(o, "specimen");
        else if (strcmp(t, "Specimen") == 0)
            ref = fhir_item(o, "parent", 0);
        char want[STORE_KEY_LEN];
        if (!ref || fhir_get_string(ref, "reference", &s) != FHIR_OK)
            continue;
        specimen_ref(s, want, sizeof want);
        if (want[0] && !have_ref(r, want) && !listed(refs, n, want))
            snprintf(refs[n++], STORE_KEY_LEN, "%s", want);
    }
    r->pending = 1;
    for (int i = 0; i < n && !r->failed; i++) {
        LOG_DEBUG("case %s: %s is not kept yet: reading it", r->job.key, refs[i]);
        start_get(r, refs[i], strncmp(refs[i], "Patient/", 8) == 0 ? on_lacking_patient
                                                                  : on_lacking);
    }
    if (n == 0)
        r->lacking_rounds = LACKING_ROUNDS; /* nothing lacks: compute */
    lacking_done(r);
}

void pipeline_read(struct pipeline_run *r)
{
    if (load_mirror(r) != 0) {
        pipeline_store_failed(r->d);
        pipeline_run_fail(r, 0, -1, "store: reading the kept inputs failed", NULL);
        return;
    }
    int seeded = store_seeded_get(r->d->store, r->job.key);
    if (seeded < 0) {
        pipeline_store_failed(r->d);
        pipeline_run_fail(r, 0, -1, "store: reading the kept inputs failed", NULL);
        return;
    }
    if (!seeded) {
        seed(r);
        return;
    }
    read_lacking(r);
}
