/*
 * intake.c - what a notification or a fetched resource means for the work
 * queue (store.h). Every change to an input resource touches the job of
 * its case (the Patient it is about, I10); resources nenfhir wrote are
 * skipped (I5); deletes find their case through the member table (I6);
 * id-only changes wait in the resolve table for a fetch; pings and gaps in
 * backport event numbers ask for a catch-up (I4). All of it in one store
 * transaction per notification, committed before the 2xx (I7).
 * Owns struct intake (intake.h): its counter.
 */
#include "intake.h"

#include "daemon.h"
#include "fhir_primitive.h"
#include "fhir_tree.h"
#include "fhir_json.h"
#include "nen_extract.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int intake_patient_key(const char *reference, char *out, size_t len)
{
    if (!reference)
        return -1;
    const char *p = strstr(reference, "Patient/");
    if (!p || (p != reference && p[-1] != '/'))
        return -1;
    const char *id = p + 8;
    size_t n = strcspn(id, "/?#");
    if (n == 0 || n > 64 || n + 9 > len)
        return -1;
    if (id[n] == '/' && strncmp(id + n, "/_history/", 10) != 0)
        return -1; /* "Patient/1/x": not a reference to a Patient */
    char idbuf[65];
    memcpy(idbuf, id, n);
    idbuf[n] = '\0';
    if (!fhir_id_valid(idbuf))
        return -1;
    snprintf(out, len, "Patient/%s", idbuf);
    return 0;
}

/* The case key of an input resource: its subject (or patient) reference. */
static int case_of(json_object *res, char *key, size_t len)
{
    const char *ref = NULL;
    json_object *subj = fhir_member(res, "subject");
    if (!subj)
        subj = fhir_member(res, "patient");
    if (fhir_get_string(subj, "reference", &ref) != FHIR_OK)
        return -1;
    return intake_patient_key(ref, key, len);
}

/* Types that feed a case: inputs (Observation, Condition) and the Specimen
 * that keys it (a Specimen may come after its results). */
static int is_input_type(const char *type)
{
    return strcmp(type, "Observation") == 0 || strcmp(type, "Condition") == 0 ||
           strcmp(type, "Specimen") == 0;
}

static int codes_input(const struct nen_codes *t, json_object *cc)
{
    const char *sys, *code;
    for (size_t i = 0; i < fhir_count(cc, "coding"); i++)
        if (fhir_cc_coding(cc, i, &sys, &code) && nen_codes_input(t, sys, code))
            return 1;
    return 0;
}

int intake_is_input(const struct nen_codes *t, json_object *res)
{
    const char *type = fhir_resource_type(res);
    if (strcmp(type, "Observation") != 0)
        return is_input_type(type);
    if (codes_input(t, fhir_member(res, "code")))
        return 1;
    for (size_t i = 0; i < fhir_count(res, "component"); i++)
        if (codes_input(t, fhir_member(fhir_item(res, "component", i), "code")))
            return 1;
    return 0;
}

unsigned long intake_not_kept(const struct daemon *d)
{
    return d->intake.not_input;
}

int intake_mirror(struct daemon *d, json_object *res, const char *patient_key)
{
    const char *type = fhir_resource_type(res), *id = fhir_resource_id(res);
    char ref[STORE_KEY_LEN];
    snprintf(ref, sizeof ref, "%s/%s", type, id);
    const char *status = NULL;
    if (fhir_get_string(res, "status", &status) == FHIR_OK &&
        strcmp(status, "entered-in-error") == 0) {
        int rm = store_mirror_remove(d->store, ref);
        return rm < 0 ? -1 : 1; /* I6: an input withdrawn changes its case */
    }
    json_object *meta = fhir_member(res, "meta");
    const char *version = NULL, *updated = NULL;
    int64_t updated_ms = -1;
    if (fhir_get_string(meta, "versionId", &version) != FHIR_OK)
        version = "";
    if (fhir_get_string(meta, "lastUpdated", &updated) != FHIR_OK ||
        fhir_instant_parse_ms(updated, &updated_ms) != 0)
        updated_ms = -1;
    char *json = fhir_json_write(res, 0);
    if (!json) {
        LOG_ERROR("%s: out of memory keeping it", ref);
        return -1;
    }
    int rc = store_mirror_put(d->store, ref, type, patient_key, version, updated_ms, json,
                              adapter_now_ms());
    free(json);
    return rc;
}

int intake_resource(struct daemon *d, json_object *res)
{
    const char *type = fhir_resource_type(res), *id = fhir_resource_id(res);
    if (fhir_has_tag(res, NEN_TAG_SYSTEM, NEN_TAG_CODE)) {
        d->intake.skipped_own++;
        LOG_DEBUG("%s/%s: written by nenfhir, skipped (I5)", type, id);
        return 0;
    }
    if (!is_input_type(type)) {
        LOG_DEBUG("%s/%s: not an input type, ignored", type, id);
        return 0;
    }
    char key[STORE_KEY_LEN], ref[STORE_KEY_LEN];
    snprintf(ref, sizeof ref, "%s/%s", type, id);
    if (!intake_is_input(d->codes, res)) {
        d->intake.not_input++;
        LOG_DEBUG("%s: its code is no input of the code tables: not kept, no case queued", ref);
        /* an input whose code was changed to one that is none: forget it */
        int gone = store_mirror_remove(d->store, ref);
        if (gone < 0)
            return -1;
        if (gone == 1 && case_of(res, key, sizeof key) == 0)
            return store_job_touch(d->store, key, adapter_now_ms(), d->cfg->work_settle_ms);
        return 0;
    }
    if (!id[0] || case_of(res, key, sizeof key) != 0) {
        LOG_WARN("%s: subject.reference: not a Patient reference with a FHIR id "
                 "([A-Za-z0-9-.]{1,64}); the result belongs to no case and is ignored", ref);
        return 0;
    }
    int fresh = intake_mirror(d, res, key);
    if (fresh < 0)
        return -1;
    if (fresh == 0) {
        LOG_DEBUG("%s: this version (or a newer one) is already kept: nothing changed", ref);
        return 0;
    }
    if ((strcmp(type, "Specimen") != 0 && store_member_set(d->store, ref, key) != 0) ||
        store_job_touch(d->store, key, adapter_now_ms(), d->cfg->work_settle_ms) != 0)
        return -1;
    LOG_DEBUG("%s changed: case %s queued", ref, key);
    return 0;
}

/* The case of a kept resource, from its copy in the mirror (Specimens have
 * no member row). */
static int mirror_case_cb(void *ctx, const char *ref, const char *type, const char *json)
{
    (void)type;
    char *key = ctx;
    struct fhir_error err = {0};
    json_object *o = fhir_json_parse(json, strlen(json), &fhir_limits_default, ref, &err);
    if (o && case_of(o, key, STORE_KEY_LEN) != 0)
        key[0] = '\0';
    json_object_put(o);
    return 0;
}

int intake_gone(struct daemon *d, const char *ref, const char *how)
{
    char key[STORE_KEY_LEN] = "";
    int found = store_member_get(d->store, ref, key, sizeof key);
    if (found < 0)
        return -1;
    if (found == 0) {
        int kept = store_mirror_get(d->store, ref, mirror_case_cb, key);
        if (kept < 0)
            return -1;
        found = kept == 1 && key[0];
    }
    if (found == 0)
        return 0;
    LOG_INFO("%s %s: case %s will be recomputed (I6)", ref, how, key);
    if (store_mirror_remove(d->store, ref) < 0 || store_member_forget(d->store, ref) != 0 ||
        store_job_touch(d->store, key, adapter_now_ms(), d->cfg->work_settle_ms) != 0)
        return -1;
    return 1;
}

static int intake_deleted(struct daemon *d, const struct fhir_notify_event *e)
{
    char ref[STORE_KEY_LEN];
    snprintf(ref, sizeof ref, "%s/%s", e->type, e->id);
    int rc = intake_gone(d, ref, "deleted");
    if (rc == 0)
        LOG_INFO("%s deleted: not an input of a known case, nothing to recompute", ref);
    return rc < 0 ? -1 : 0;
}

static int intake_event(struct daemon *d, const struct fhir_notify_event *e, int *catchup)
{
    switch (e->kind) {
    case FHIR_NOTIFY_PING:
        *catchup = 1;
        return 0;
    case FHIR_NOTIFY_HANDSHAKE:
    case FHIR_NOTIFY_HEARTBEAT:
    case FHIR_NOTIFY_QUERY_STATUS:
        return 0;
    case FHIR_NOTIFY_DELETED:
        return intake_deleted(d, e);
    case FHIR_NOTIFY_CHANGED:
        break;
    }
    if (!e->resource) {
        char ref[STORE_KEY_LEN];
        snprintf(ref, sizeof ref, "%s/%s", e->type, e->id);
        if (!is_input_type(e->type))
            return 0;
        return store_resolve_add(d->store, ref);
    }
    if (e->version[0]) {
        int fresh = store_seen(d->store, e->type, e->id, e->version);
        if (fresh <= 0)
            return fresh;
    }
    return intake_resource(d, e->resource);
}

/* Whether the events up to esss were all seen, last being the newest seen. */
static int intake_event_gap(const struct fhir_notify_batch *b, long long last)
{
    long long esss = b->events_since_start;
    if (b->first_event >= 0)
        return b->first_event > last + 1;
    if (strcmp(b->status_type, "event-notification") == 0)
        return esss > last + (b->nevent > 0 ? b->nevent : 1);
    return esss > last; /* heartbeat, query-status: nothing new expected */
}

/* Backport event numbers (I1, I4): a gap means missed notifications. A
 * counter that goes down without a handshake is a server restart: the new
 * number is the base and one catch-up covers what the restart may have
 * lost; later gaps are measured from the new base. */
static int intake_event_numbers(struct daemon *d, const struct fhir_notify_batch *b, int *catchup)
{
    if (!b->subscription[0] || b->events_since_start < 0)
        return 0;
    char k[200], v[32];
    snprintf(k, sizeof k, "events:%s", b->subscription);
    int have = store_meta_get(d->store, k, v, sizeof v);
    if (have < 0)
        return -1;
    long long last = have ? atoll(v) : 0, esss = b->events_since_start;
    int handshake = strcmp(b->status_type, "handshake") == 0;
    int restart = !handshake && esss < last;
    if (restart) {
        LOG_WARN("%s: event count went down from %lld to %lld without a handshake: the server "
                 "restarted; %lld is the new base, catching up once (I4)",
                 b->subscription, last, esss, esss);
        *catchup = 1;
    } else if (!handshake && intake_event_gap(b, last)) {
        LOG_WARN("%s: events after %lld were not received (server is at %lld); catching "
                 "up (I4)", b->subscription, last, esss);
        *catchup = 1;
    }
    if (esss == last && have)
        return 0;
    snprintf(v, sizeof v, "%lld", esss);
    return store_meta_set(d->store, k, v);
}

int intake_batch(struct daemon *d, const struct fhir_notify_batch *b, int *catchup)
{
    *catchup = 0;
    if (store_begin(d->store) != 0) {
        LOG_ERROR("store: %s; the notification was not acknowledged", store_error(d->store));
        return -1;
    }
    int rc = intake_event_numbers(d, b, catchup);
    for (int i = 0; rc == 0 && i < b->nevent; i++)
        rc = intake_event(d, &b->ev[i], catchup);
    if (rc == 0)
        rc = store_commit(d->store);
    if (rc != 0) {
        LOG_ERROR("store: %s; the notification was not acknowledged", store_error(d->store));
        store_rollback(d->store);
        return -1;
    }
    return 0;
}
