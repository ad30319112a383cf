/*
 * pipeline.c - the case worker (design.md "The flow"): for one queued case
 * (a Patient), fetch its resources (Patient, Observations, Conditions,
 * Specimens, following next links), extract -> rules -> report, and send
 * the transaction (I14) unless nothing changed (I8). Status moves
 * preliminary -> final -> amended (I11); a case whose inputs are all gone
 * gets its report marked entered-in-error (I6). Failures are retried with
 * exponential backoff and jitter, honouring Retry-After up to
 * work.retry_after_max; after work.max_attempts, or at once for a 4xx the
 * server will not change its mind about, the job goes to dead letter with
 * the OperationOutcome (I9). A 404/410 on a search is a failure, never "no
 * inputs"; a 404/410 on the Patient read counts as "Patient gone" only when
 * the searches agree (they find no inputs). URLs are built with
 * fhir_client_url from a case key checked against FHIR's id grammar; a next
 * link off the configured base fails the run (fhir_client.h).
 * One run per case at a time, up to work.parallel cases at once (I10).
 * Owns struct pipeline (pipeline.h): the runs in flight and the counters.
 */
#include "pipeline.h"

#include "daemon.h"
#include "fhir_json.h"
#include "fhir_primitive.h"
#include "fhir_tree.h"
#include "nen_extract.h"
#include "nen_report.h"
#include "nen_report_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef NENFHIR_VERSION
#define NENFHIR_VERSION "0.1.0"
#endif

struct pipeline_run {
    struct daemon *d;
    struct store_job job;
    struct pipeline_run *next;
    int pending;                /* fetches in flight */
    int failed;                 /* a fetch failed: retry */
    long fail_status;
    long retry_after_s;
    char fail[512];
    long patient_gone;          /* the Patient read answered 404 or 410 (that status) */
    json_object *docs;          /* array of fetched resources (owned) */
    char report_key[STORE_KEY_LEN + 200];
    struct store_report rep;    /* what this run writes */
};

int pipeline_busy(void *dp, const char *key)
{
    struct daemon *d = dp;
    for (struct pipeline_run *r = d->pipeline.running; r; r = r->next)
        if (strcmp(r->job.key, key) == 0)
            return 1;
    return 0;
}

void pipeline_init(struct daemon *d)
{
    char v[8];
    d->pipeline.device_ok = store_meta_get(d->store, "device_ok", v, sizeof v) == 1;
}

int pipeline_running(const struct daemon *d)
{
    return d->pipeline.nrunning;
}

const struct pipeline_stats *pipeline_stats(const struct daemon *d)
{
    return &d->pipeline.stats;
}

static void run_free(struct pipeline_run *r)
{
    struct daemon *d = r->d;
    for (struct pipeline_run **p = &d->pipeline.running; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    d->pipeline.nrunning--;
    json_object_put(r->docs);
    free(r);
    daemon_kick(d, 0);
}

int64_t pipeline_retry_delay_ms(const struct run_config *c, int attempts, long retry_after_s)
{
    int64_t ms = c->work_backoff_ms;
    for (int i = 0; i < attempts && ms < c->work_backoff_max_ms; i++)
        ms *= 2;
    if (ms > c->work_backoff_max_ms)
        ms = c->work_backoff_max_ms;
    static unsigned seed;
    if (!seed)
        seed = (unsigned)adapter_now_ms();
    ms = ms * 3 / 4 + (ms > 2 ? (int64_t)rand_r(&seed) % (ms / 2 + 1) : 0);
    if (retry_after_s >= 0) {
        /* the client saturates Retry-After (about 68 years): no overflow here */
        int64_t ra = retry_after_s > FHIR_CLIENT_RETRY_AFTER_MAX
                         ? (int64_t)FHIR_CLIENT_RETRY_AFTER_MAX * 1000
                         : (int64_t)retry_after_s * 1000;
        if (ra > c->work_retry_after_max_ms)
            ra = c->work_retry_after_max_ms;
        if (ra > ms)
            ms = ra;
    }
    return ms;
}

/* 4xx that retrying cannot fix (I9: all but 408, 409, 412, 429). */
static int permanent(long status)
{
    return status >= 400 && status < 500 && status != 408 && status != 409 && status != 412 &&
           status != 429;
}

static void run_fail(struct pipeline_run *r, long status, long retry_after, const char *why,
                     const char *outcome)
{
    struct daemon *d = r->d;
    int rc;
    if (permanent(status) || r->job.attempts + 1 >= d->cfg->work_max_attempts) {
        LOG_ERROR("case %s: %s; dead letter after %d attempt(s) (list: nenfhir dead-letter -c "
                  "FILE)", r->job.key, why, r->job.attempts + 1);
        rc = store_job_dead(d->store, &r->job, why, outcome);
        d->pipeline.stats.dead++;
    } else {
        int64_t wait = pipeline_retry_delay_ms(d->cfg, r->job.attempts, retry_after);
        LOG_WARN("case %s: %s; attempt %d, next in %lld ms", r->job.key, why,
                 r->job.attempts + 1, (long long)wait);
        rc = store_job_retry(d->store, &r->job, adapter_now_ms() + wait, why);
        d->pipeline.stats.retries++;
    }
    if (rc != 0)
        LOG_ERROR("store: %s", store_error(d->store));
    run_free(r);
}

/* Success: the report (if any) recorded, the case's inputs noted (for
 * deletes, I6) unless members is 0, the job done: one store transaction. */
static void run_done(struct pipeline_run *r, int members)
{
    struct daemon *d = r->d;
    int rc = store_begin(d->store);
    if (rc == 0 && r->report_key[0])
        rc = store_report_put(d->store, r->report_key, &r->rep);
    for (size_t i = 0; rc == 0 && members && i < json_object_array_length(r->docs); i++) {
        json_object *res = json_object_array_get_idx(r->docs, i);
        const char *t = fhir_resource_type(res);
        if (strcmp(t, "Observation") != 0 && strcmp(t, "Condition") != 0)
            continue;
        if (fhir_has_tag(res, NEN_TAG_SYSTEM, NEN_TAG_CODE))
            continue;
        char ref[STORE_KEY_LEN];
        snprintf(ref, sizeof ref, "%s/%s", t, fhir_resource_id(res));
        rc = store_member_set(d->store, ref, r->job.key);
    }
    if (rc == 0)
        rc = store_job_done(d->store, &r->job);
    if (rc == 0)
        rc = store_commit(d->store);
    if (rc != 0) {
        LOG_ERROR("store: %s (the case will run again)", store_error(d->store));
        store_rollback(d->store);
    }
    run_free(r);
}

static void log_line(void *ctx, const char *line)
{
    struct pipeline_run *r = ctx;
    LOG_DEBUG("case %s: %s", r->job.key, line);
}

struct summary_buf {
    char text[600];
};

static void summary_line(void *ctx, const char *line)
{
    struct summary_buf *s = ctx;
    size_t n = strlen(s->text);
    if (n < sizeof s->text - 3)
        snprintf(s->text + n, sizeof s->text - n, "%s%s", n ? "; " : "", line);
}

static void on_written(void *ctx, const struct fhir_response *resp);

/* Send bundle; ownership of the text stays here. */
static void run_send(struct pipeline_run *r, json_object *bundle)
{
    char *text = fhir_json_write(bundle, 0);
    if (!text || fhir_client_request(r->d->client, "POST", "", text, strlen(text),
                                     "application/fhir+json", on_written, r) != 0) {
        free(text);
        run_fail(r, 0, -1, "out of memory sending the report", NULL);
        return;
    }
    free(text);
}

/* Everything fetched: compute and write (or not). */
static void run_compute(struct pipeline_run *r)
{
    struct daemon *d = r->d;
    size_t n = json_object_array_length(r->docs);
    json_object **docs = calloc(n ? n : 1, sizeof *docs);
    struct nen_extract *x = calloc(1, sizeof *x);
    struct nen_result *res = calloc(1, sizeof *res);
    json_object *bundle = NULL;
    if (!docs || !x || !res) {
        free(docs), free(x), free(res);
        run_fail(r, 0, -1, "out of memory", NULL);
        return;
    }
    for (size_t i = 0; i < n; i++)
        docs[i] = json_object_array_get_idx(r->docs, i);
    struct fhir_error err = {{0}};
    if (nen_extract(d->codes, docs, n, x, log_line, r, &err) != 0) {
        char why[700];
        snprintf(why, sizeof why, "inputs cannot be read: %s", err.msg);
        free(docs), free(x), free(res);
        run_fail(r, 422, -1, why, NULL); /* bad input: a person must fix it */
        return;
    }
    free(docs);
    nen_extract_classify(x, res);
    snprintf(r->report_key, sizeof r->report_key, "%s|%s", x->case_system, x->case_value);
    struct store_report prev;
    int have = x->case_value[0] ? store_report_get(d->store, r->report_key, &prev) : 0;
    if (have < 0) {
        free(x), free(res);
        run_fail(r, 0, -1, "store read failed", NULL);
        return;
    }
    const char *status = NULL;
    if (x->nsrc == 0) {
        if (!have || strcmp(prev.status, "entered-in-error") == 0) {
            LOG_INFO("case %s: no inputs%s, nothing to write", r->job.key,
                     have ? " (its report is already withdrawn)" : "");
            r->report_key[0] = '\0';
            free(x), free(res);
            run_done(r, 0);
            return;
        }
        status = "entered-in-error"; /* I6: its basis is gone */
    }
    nen_report_digest(x, res, r->rep.digest);
    if (have && !status && strcmp(prev.digest, r->rep.digest) == 0) {
        d->pipeline.stats.unchanged++;
        LOG_DEBUG("case %s (%s): nothing changed, nothing written (I8)", r->job.key,
                  x->case_value);
        r->report_key[0] = '\0';
        free(x), free(res);
        run_done(r, 1);
        return;
    }
    if (!status && have &&
        (strcmp(prev.status, "final") == 0 || strcmp(prev.status, "amended") == 0))
        status = "amended";
    char issued[40];
    fhir_instant_format_ms(adapter_now_ms(), issued, sizeof issued);
    struct nen_report_opts o = {issued, NENFHIR_VERSION,
                                d->cfg->performer_ref[0] ? d->cfg->performer_ref : NULL,
                                d->cfg->performer_display[0] ? d->cfg->performer_display : NULL,
                                status, d->codes};
    bundle = nen_report_bundle(x, res, &o, &err);
    if (!bundle) {
        free(x), free(res);
        run_fail(r, 0, -1, err.msg, NULL);
        return;
    }
    snprintf(r->rep.status, sizeof r->rep.status, "%s",
             status ? status : res->status == NEN_STATUS_FINAL ? "final" : "preliminary");
    snprintf(r->rep.case_key, sizeof r->rep.case_key, "%s", r->job.key);
    struct summary_buf sb = {""};
    nen_report_summary(res, summary_line, &sb);
    LOG_INFO("case %s (%s): writing %s report: %s", r->job.key, x->case_value, r->rep.status,
             sb.text);
    free(x), free(res);
    run_send(r, bundle);
    json_object_put(bundle);
}

static void on_written(void *ctx, const struct fhir_response *resp)
{
    struct pipeline_run *r = ctx;
    struct daemon *d = r->d;
    if (resp->status >= 200 && resp->status < 300) {
        r->rep.written_ms = adapter_now_ms();
        d->pipeline.stats.reports_written++;
        if (!d->pipeline.device_ok) {
            d->pipeline.device_ok = 1;
            store_meta_set(d->store, "device_ok", "1");
        }
        run_done(r, 1);
        return;
    }
    char why[700];
    if (resp->status)
        snprintf(why, sizeof why, "the server answered the report transaction with HTTP %ld",
                 resp->status);
    else
        snprintf(why, sizeof why, "sending the report: %s", resp->error);
    const char *oo = strstr(resp->body, "OperationOutcome") ? resp->body : NULL;
    if (oo)
        LOG_WARN("case %s: OperationOutcome: %.600s", r->job.key, resp->body);
    run_fail(r, resp->status, resp->retry_after_s, why, oo);
}

static void fetch(struct pipeline_run *r, const char *url, fhir_client_done_fn cb);
static void on_fetched(void *ctx, const struct fhir_response *resp);

/* Inputs among the fetched resources (Observation, Condition, not ours). */
static size_t run_inputs(const struct pipeline_run *r)
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

static void fetch_done(struct pipeline_run *r)
{
    if (--r->pending > 0)
        return;
    if (!r->failed && r->patient_gone && run_inputs(r) > 0) {
        r->failed = 1;
        snprintf(r->fail, sizeof r->fail,
                 "reading the case: %s answered HTTP %ld (gone) but %zu input(s) refer to it",
                 r->job.key, r->patient_gone, run_inputs(r));
    }
    if (r->failed) {
        run_fail(r, r->fail_status, r->retry_after_s, r->fail, NULL);
        return;
    }
    run_compute(r);
}

/* A failed read: the run is retried (the server may recover). */
static void fetch_failed(struct pipeline_run *r, const struct fhir_response *resp,
                         const char *what)
{
    r->failed = 1;
    r->fail_status = resp->status;
    r->retry_after_s = resp->retry_after_s;
    if (resp->status)
        snprintf(r->fail, sizeof r->fail, "reading the case: HTTP %ld%s", resp->status, what);
    else
        snprintf(r->fail, sizeof r->fail, "reading the case: %s", resp->error);
    if (permanent(resp->status))
        r->fail_status = 0; /* a failed read is retried: the server may recover */
}

/* The Patient read: 404/410 is "gone" if the searches agree (fetch_done). */
static void on_patient(void *ctx, const struct fhir_response *resp)
{
    struct pipeline_run *r = ctx;
    if (resp->status == 404 || resp->status == 410) {
        r->patient_gone = resp->status;
        fetch_done(r);
        return;
    }
    on_fetched(ctx, resp);
}

/* A search page: its entries are the case's resources; its next link is
 * followed. 404/410 here is a failure, never "no inputs". */
static void on_fetched(void *ctx, const struct fhir_response *resp)
{
    struct pipeline_run *r = ctx;
    struct fhir_error err = {{0}};
    json_object *o = resp->status == 200 ? fhir_json_parse(resp->body, resp->len,
                                                           &fhir_limits_default, r->job.key, &err)
                                         : NULL;
    if (!o) {
        if (resp->status == 200) {
            fetch_failed(r, resp, "");
            snprintf(r->fail, sizeof r->fail, "reading the case: %.400s", err.msg);
        } else {
            fetch_failed(r, resp, resp->status == 404 || resp->status == 410
                                      ? " (not found: not taken as 'no inputs')" : "");
        }
        fetch_done(r);
        return;
    }
    if (strcmp(fhir_resource_type(o), "Bundle") != 0) {
        json_object_array_add(r->docs, o);
        fetch_done(r);
        return;
    }
    const char *next = fhir_bundle_next(o);
    for (size_t i = 0; i < fhir_count(o, "entry"); i++) {
        json_object *e = fhir_member(fhir_item(o, "entry", i), "resource");
        if (e)
            json_object_array_add(r->docs, json_object_get(e));
    }
    if (next && !r->failed)
        fetch(r, next, on_fetched);
    json_object_put(o);
    fetch_done(r);
}

/* Start one read; a refused URL (a next link off the base) fails the run. */
static void fetch(struct pipeline_run *r, const char *url, fhir_client_done_fn cb)
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

/* The case's reads: the Patient, and its Observations, Conditions and
 * Specimens (subject=KEY, the key checked by fhir_client_url's id rule). */
static int run_fetch_all(struct pipeline_run *r)
{
    static const char *const searches[] = {"Observation", "Condition", "Specimen"};
    char err[700];
    char *url = fhir_client_url(r->d->client, r->job.key, NULL, 0, err, sizeof err);
    if (!url) {
        snprintf(r->fail, sizeof r->fail, "case key %.160s cannot be read: %.300s", r->job.key,
                 err);
        return -1;
    }
    fetch(r, url, on_patient);
    free(url);
    for (size_t i = 0; i < 3 && !r->failed; i++) {
        const char *const params[] = {"subject", r->job.key, "_count", "200"};
        url = fhir_client_url(r->d->client, searches[i], params, 2, err, sizeof err);
        if (!url) {
            r->failed = 1;
            snprintf(r->fail, sizeof r->fail, "reading the case: %.400s", err);
            break;
        }
        fetch(r, url, on_fetched);
        free(url);
    }
    return 0;
}

static void run_start(struct daemon *d, const struct store_job *j)
{
    struct pipeline_run *r = calloc(1, sizeof *r);
    json_object *docs = json_object_new_array();
    if (!r || !docs) {
        free(r);
        json_object_put(docs);
        LOG_ERROR("case %s: out of memory; will try again", j->key);
        return;
    }
    r->d = d;
    r->job = *j;
    r->docs = docs;
    r->next = d->pipeline.running;
    d->pipeline.running = r;
    d->pipeline.nrunning++;
    r->pending = 1; /* held until all fetches are started */
    if (run_fetch_all(r) != 0) {
        run_fail(r, 400, -1, r->fail, NULL); /* a bad key: dead letter at once */
        return;
    }
    fetch_done(r);
}

void pipeline_run_due(struct daemon *d)
{
    /* first write alone: one Device */
    int limit = d->pipeline.device_ok ? d->cfg->work_parallel : 1;
    if (d->draining || d->pipeline.nrunning >= limit)
        return;
    struct store_job jobs[16];
    int want = limit - d->pipeline.nrunning;
    if (want > 16)
        want = 16;
    int n = store_job_due(d->store, adapter_now_ms(), pipeline_busy, d, jobs, want);
    if (n < 0) {
        LOG_ERROR("store: %s", store_error(d->store));
        return;
    }
    for (int i = 0; i < n; i++)
        run_start(d, &jobs[i]);
}
