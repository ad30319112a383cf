/*
 * pipeline_write.c - a run's cases and writes (design.md "The case", issue
 * 11 items 1 and 4): the patient's resources are divided into cases, one
 * per tissue specimen accession (nen_cases.h); each is extracted, told
 * what the other cases have that it lacks, classified and compared with
 * the last report written for its accession (I8: same digest, nothing
 * written). A case whose inputs are complete is written at once (final,
 * or amended after a final one: I11). A case with inputs missing waits
 * work.preliminary_after from the patient's first change (the job is held;
 * a new input releases it), then is written as preliminary. A case whose
 * inputs are all gone, or whose accession is no longer among the
 * patient's resources, has its report marked entered-in-error (I6). A
 * case with no input of its own (a Specimen accessioned, its results not in
 * yet) gets no report from the patient-level inputs alone. One
 * transaction per case that changed (I14), sent one at a time; each is
 * recorded in the store as soon as the server accepted it, so a failure of
 * a later one never rewrites an earlier one. Issue 13 item 3: in
 * conditional write mode (pipeline_write_mode.c) the transaction's entries
 * are conditional updates by identifier; a server that refuses such a
 * transaction (a 4xx naming no entry: Medplum's fhir-router, more than 8
 * entries) gets the report's resources one at a time, in Bundle order,
 * references resolved to the ids it gave, each recorded in the store
 * (report_part) as it is accepted so that a crash midway resumes after it;
 * once that worked, every later report goes so (store meta write_single).
 */
#include "pipeline_int.h"

#include "fhir_json.h"
#include "fhir_primitive.h"
#include "fhir_tree.h"
#include "nen_cases.h"
#include "nen_report.h"
#include "nen_report_text.h"
#include "nen_report_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef NENFHIR_VERSION
#define NENFHIR_VERSION "0.1.0"
#endif

static void log_line(void *ctx, const char *line)
{
    struct pipeline_run *r = ctx;
    LOG_CASE_DEBUG(r->job.key, NULL, "%s", line);
}

static void summary_line(void *ctx, const char *line)
{
    char *s = ctx;
    size_t n = strlen(s);
    if (n < 600 - 3)
        snprintf(s + n, 600 - n, "%s%s", n ? "; " : "", line);
}

static void send_next(struct pipeline_run *r);
static void send_part(struct pipeline_run *r);

/* The server refused a write: retry or dead letter (pipeline.c). part
 * names a single write ("DiagnosticReport 8 of 10"), NULL for the
 * transaction; the sentence keeps the shape "the server answered the report
 * transaction of ACC with HTTP N after M ms" either way (logs are read by
 * tests and people alike). */
static void write_refused(struct pipeline_run *r, const struct fhir_response *resp,
                          const char *part)
{
    struct pipeline_write *w = &r->w[r->iw];
    char why[700], pre[120] = "";
    if (part)
        snprintf(pre, sizeof pre, "%.80s, one resource at a time: ", part);
    if (resp->status)
        snprintf(why, sizeof why, "%sthe server answered the report transaction of %.200s with "
                 "HTTP %ld after %lld ms", pre, w->case_value, resp->status,
                 (long long)(adapter_now_ms() - w->sent_ms));
    else
        snprintf(why, sizeof why, "%ssending the report of %.200s: %s after %lld ms", pre,
                 w->case_value, resp->error, (long long)(adapter_now_ms() - w->sent_ms));
    const char *oo = strstr(resp->body, "OperationOutcome") ? resp->body : NULL;
    if (oo) { /* its text may echo the resources: debug only */
        LOG_CASE_WARN(r->job.key, w->case_value, "the server answered HTTP %ld with an "
                      "OperationOutcome (kept with the job; log.level = debug shows it)",
                      resp->status);
        LOG_CASE_DEBUG(r->job.key, w->case_value, "OperationOutcome: %.600s", resp->body);
    }
    pipeline_run_fail(r, resp->status, resp->retry_after_s, why, oo);
}

/* Every resource of report w is on the server: record it, write the next. */
static void report_written(struct pipeline_run *r, long status)
{
    struct daemon *d = r->d;
    struct pipeline_write *w = &r->w[r->iw];
    w->rep.written_ms = adapter_now_ms();
    if (w->single)
        LOG_CASE_INFO(r->job.key, w->case_value, "%s report written: HTTP %ld in %lld ms (%d "
                      "resources one at a time, in order; %d found written before)",
                      w->rep.status, status, (long long)(w->rep.written_ms - w->sent_ms),
                      w->sent_parts, w->resumed);
    else
        LOG_CASE_INFO(r->job.key, w->case_value, "%s report written: HTTP %ld in %lld ms",
                      w->rep.status, status, (long long)(w->rep.written_ms - w->sent_ms));
    if (w->trial && !d->pipeline.write_single) {
        d->pipeline.write_single = 1;
        LOG_INFO("write mode conditional: the server accepts each resource of a report on its "
                 "own but refused them as one conditional transaction: from now on reports are "
                 "written one resource at a time, in order (I14)");
        if (store_meta_set(d->store, "write_single", "1") != 0) /* for the next start */
            LOG_WARN("store: %s", store_error(d->store));
    }
    d->pipeline.stats.reports_written++;
    if (!d->pipeline.device_ok) {
        d->pipeline.device_ok = 1;
        if (store_meta_set(d->store, "device_ok", "1") != 0)
            LOG_WARN("store: %s", store_error(d->store));
    }
    if (store_report_put(d->store, w->report_key, &w->rep) != 0) {
        /* written, not recorded: back off like any failure (7b) */
        char why[700];
        snprintf(why, sizeof why, "the report of %s was written but the store cannot record "
                 "it: %.400s", w->case_value, store_error(d->store));
        pipeline_store_failed(d);
        pipeline_run_fail(r, 0, -1, why, NULL);
        return;
    }
    r->iw++;
    send_next(r);
}

/* A refused conditional transaction that ordered single writes may pass
 * (Medplum's fhir-router: "Transaction requires strict isolation but has
 * too many entries", 400): a 4xx about the request, not a conflict or a
 * rate limit, whose OperationOutcome names no entry of the Bundle (a
 * resource the server's validator refused is named by an expression or
 * location "Bundle.entry[N]...", by HAPI and Medplum alike: written alone
 * it would be refused the same, so that goes to dead letter at once, I9). */
static int try_single(const struct pipeline_run *r, const struct fhir_response *resp)
{
    const struct pipeline_write *w = &r->w[r->iw];
    long status = resp->status;
    return r->d->pipeline.write_mode == NEN_WRITE_CONDITIONAL && !w->single &&
           (status == 400 || status == 405 || status == 422 || status == 501) &&
           !strstr(resp->body, "Bundle.entry[");
}

static void on_written(void *ctx, const struct fhir_response *resp)
{
    struct pipeline_run *r = ctx;
    struct pipeline_write *w = &r->w[r->iw];
    if (resp->status >= 200 && resp->status < 300) {
        report_written(r, resp->status);
        return;
    }
    if (!try_single(r, resp)) {
        write_refused(r, resp, NULL);
        return;
    }
    const char *diag = strstr(resp->body, "\"diagnostics\""); /* HAPI's; Medplum's: details */
    if (!diag)
        diag = strstr(resp->body, "\"details\"");
    LOG_CASE_INFO(r->job.key, w->case_value, "the server refused the conditional transaction "
                  "(HTTP %ld%s%.160s): writing its resources one at a time, in order, each "
                  "conditional (I14)", resp->status, diag ? ": " : "", diag ? diag : "");
    w->single = w->trial = 1;
    send_part(r);
}

/* ---- conditional mode, one resource at a time (I14) ---- */

static const char *part_url(const struct pipeline_write *w, json_object **entry)
{
    *entry = json_object_array_get_idx(fhir_member(w->bundle, "entry"), (size_t)w->part);
    const char *url = "";
    fhir_get_string(*entry, "fullUrl", &url);
    return url;
}

static int add_ref(struct pipeline_write *w, const char *url, const char *ref)
{
    int n = w->nrefs;
    if (n >= (int)(sizeof w->refs / sizeof w->refs[0]) || strlen(url) >= sizeof w->refs[0].url ||
        strlen(ref) >= sizeof w->refs[0].ref)
        return -1;
    snprintf(w->refs[n].url, sizeof w->refs[n].url, "%s", url);
    snprintf(w->refs[n].ref, sizeof w->refs[n].ref, "%s", ref);
    w->nrefs++;
    return 0;
}

/* The entry's resource with the references to earlier entries resolved,
 * as JSON text (caller frees), or NULL with why set. */
static char *part_body(struct pipeline_write *w, char *why, size_t len)
{
    json_object *refs = json_object_new_object();
    for (int i = 0; refs && i < w->nrefs; i++) {
        json_object *v = json_object_new_string(w->refs[i].ref);
        if (!v || json_object_object_add(refs, w->refs[i].url, v) != 0) {
            json_object_put(v);
            json_object_put(refs);
            refs = NULL;
        }
    }
    char missing[128] = "";
    json_object *res = refs ? nen_report_write_resolve(w->bundle, (size_t)w->part, refs, missing,
                                                       sizeof missing) : NULL;
    char *text = res ? fhir_json_write(res, 0) : NULL;
    if (!text)
        snprintf(why, len, "%s%s", missing[0] ? "a reference to an entry not written yet: " :
                 "out of memory building a single write", missing);
    json_object_put(res);
    json_object_put(refs);
    return text;
}

static void on_part_written(void *ctx, const struct fhir_response *resp)
{
    struct pipeline_run *r = ctx;
    struct daemon *d = r->d;
    struct pipeline_write *w = &r->w[r->iw];
    json_object *entry;
    const char *url = part_url(w, &entry);
    const char *type = fhir_resource_type(fhir_member(entry, "resource"));
    int n = (int)json_object_array_length(fhir_member(w->bundle, "entry"));
    char what[300], ref[STORE_KEY_LEN], why[800];
    snprintf(what, sizeof what, "%s %d of %d of the report of %.200s", type, w->part + 1, n,
             w->case_value);
    if (resp->status < 200 || resp->status >= 300) {
        char part[80];
        snprintf(part, sizeof part, "%s %d of %d", type, w->part + 1, n);
        write_refused(r, resp, part);
        return;
    }
    if (nen_report_write_ref(resp->body, resp->len, resp->location, type, ref, sizeof ref) != 0) {
        snprintf(why, sizeof why, "the server accepted %s (HTTP %ld) but its answer names no "
                 "%s id (no resource body, no Location)", what, resp->status, type);
        pipeline_run_fail(r, 0, -1, why, NULL);
        return;
    }
    LOG_CASE_DEBUG(r->job.key, w->case_value, "%s written: HTTP %ld, %s", what, resp->status, ref);
    if (add_ref(w, url, ref) != 0) {
        pipeline_run_fail(r, 0, -1, "too many entries in a report", NULL);
        return;
    }
    if (strcmp(type, "Device") == 0)
        snprintf(d->pipeline.device_ref, sizeof d->pipeline.device_ref, "%s", ref);
    if (store_report_part_put(d->store, w->report_key, url, w->written, ref) != 0) {
        snprintf(why, sizeof why, "%s was written but the store cannot record it: %.300s", what,
                 store_error(d->store));
        pipeline_store_failed(d);
        pipeline_run_fail(r, 0, -1, why, NULL);
        return;
    }
    w->part++;
    send_part(r);
}

/* Write the next entry not yet on the server: the entries in Bundle order
 * (result Observations, pT/pN/pM before the stage group that lists them,
 * then the DiagnosticReport, the Device, the Provenance), each by
 * conditional update, its references to earlier entries resolved to the
 * ids the server gave; an entry recorded as written with the same digest
 * and status (a run that stopped midway) is not written again. */
static void send_part(struct pipeline_run *r)
{
    struct daemon *d = r->d;
    struct pipeline_write *w = &r->w[r->iw];
    int n = (int)json_object_array_length(fhir_member(w->bundle, "entry"));
    char why[700];
    snprintf(w->written, sizeof w->written, "%s %s", w->rep.digest, w->rep.status);
    for (; w->part < n; w->part++) {
        json_object *entry;
        const char *url = part_url(w, &entry);
        const char *type = fhir_resource_type(fhir_member(entry, "resource"));
        char written[96] = "", ref[STORE_KEY_LEN] = "";
        if (strcmp(type, "Device") == 0 && d->pipeline.device_ref[0]) {
            snprintf(ref, sizeof ref, "%s", d->pipeline.device_ref);
        } else {
            int got = store_report_part_get(d->store, w->report_key, url, written,
                                            sizeof written, ref, sizeof ref);
            if (got < 0) {
                snprintf(why, sizeof why, "store read failed: %.400s", store_error(d->store));
                pipeline_run_fail(r, 0, -1, why, NULL);
                return;
            }
            if (got == 0 || strcmp(written, w->written) != 0)
                break;
            w->resumed++;
        }
        if (add_ref(w, url, ref) != 0) {
            pipeline_run_fail(r, 0, -1, "too many entries in a report", NULL);
            return;
        }
    }
    if (w->part == n) {
        report_written(r, 200);
        return;
    }
    json_object *entry;
    (void)part_url(w, &entry);
    const char *type, *param;
    char value[600], err[256];
    if (nen_report_write_identity(entry, &type, &param, value, sizeof value) != 0) {
        pipeline_run_fail(r, 0, -1, "a report entry has no business identifier", NULL);
        return;
    }
    char *body = part_body(w, why, sizeof why);
    const char *params[2] = {param, value};
    char *url = body ? fhir_client_url(d->client, type, params, 1, err, sizeof err) : NULL;
    if (body && !url)
        snprintf(why, sizeof why, "%s", err);
    if (!url || fhir_client_request(d->client, "PUT", url, body, strlen(body),
                                    "application/fhir+json", on_part_written, r) != 0) {
        if (url)
            snprintf(why, sizeof why, "%s", fhir_client_error(d->client));
        free(body);
        free(url);
        pipeline_run_fail(r, 0, -1, why, NULL);
        return;
    }
    w->sent_parts++;
    free(body);
    free(url);
}

static void send_next(struct pipeline_run *r)
{
    if (r->iw == r->nw) {
        pipeline_run_done(r);
        return;
    }
    struct pipeline_write *w = &r->w[r->iw];
    LOG_CASE_INFO(r->job.key, w->case_value, "writing %s report: %s", w->rep.status, w->summary);
    w->sent_ms = adapter_now_ms();
    if (r->d->pipeline.write_mode == NEN_WRITE_CONDITIONAL && r->d->pipeline.write_single) {
        w->single = 1;
        send_part(r);
        return;
    }
    char *text = fhir_json_write(w->bundle, 0);
    if (!text || fhir_client_request(r->d->client, "POST", "", text, strlen(text),
                                     "application/fhir+json", on_written, r) != 0) {
        free(text);
        pipeline_run_fail(r, 0, -1, "out of memory sending the report", NULL);
        return;
    }
    free(text);
}

/* Queue the report of x (classified as res) with status; 0 or -1 (err). */
static int add_write(struct pipeline_run *r, const struct nen_extract *x,
                     const struct nen_result *res, const char *report_key, const char *status,
                     const char *digest, struct fhir_error *err)
{
    struct daemon *d = r->d;
    struct pipeline_write *nw = realloc(r->w, (size_t)(r->nw + 1) * sizeof *nw);
    if (!nw) {
        fhir_error_set(err, "out of memory");
        return -1;
    }
    r->w = nw;
    struct pipeline_write *w = &r->w[r->nw];
    memset(w, 0, sizeof *w);
    char issued[40];
    fhir_instant_format_ms(adapter_now_ms(), issued, sizeof issued);
    const char *st = status ? status : res->status == NEN_STATUS_FINAL ? "final" : "preliminary";
    struct nen_report_opts o = {issued, NENFHIR_VERSION,
                                d->cfg->performer_ref[0] ? d->cfg->performer_ref : NULL,
                                d->cfg->performer_display[0] ? d->cfg->performer_display : NULL,
                                status, d->codes,
                                d->pipeline.write_mode == NEN_WRITE_CONDITIONAL};
    w->bundle = nen_report_bundle(x, res, &o, err);
    if (!w->bundle)
        return -1;
    r->nw++;
    snprintf(w->report_key, sizeof w->report_key, "%s", report_key);
    snprintf(w->rep.digest, sizeof w->rep.digest, "%s", digest);
    snprintf(w->rep.status, sizeof w->rep.status, "%s", st);
    snprintf(w->rep.case_key, sizeof w->rep.case_key, "%s", r->job.key);
    snprintf(w->case_value, sizeof w->case_value, "%s", x->case_value);
    nen_report_summary(res, summary_line, w->summary);
    return 0;
}

/* One case: write, hold, or nothing. Returns 0 or -1 (err). */
static int decide(struct pipeline_run *r, const struct nen_extract *x, struct nen_result *res,
                  int own, struct fhir_error *err)
{
    struct daemon *d = r->d;
    char key[2 * STORE_KEY_LEN], digest[65];
    snprintf(key, sizeof key, "%s|%s", x->case_system, x->case_value);
    struct store_report prev;
    int have = x->case_value[0] ? store_report_get(d->store, key, &prev) : 0;
    if (have < 0) {
        fhir_error_set(err, "store read failed: %s", store_error(d->store));
        return -1;
    }
    const char *status = NULL;
    if (x->nsrc == 0 || own == 0) {
        /* no input, or none of its own: a Specimen accessioned, its results
         * not in yet, gets no report from the patient's Conditions alone */
        if (!have || strcmp(prev.status, "entered-in-error") == 0) {
            LOG_CASE_INFO(r->job.key, x->case_value, "no inputs%s%s, nothing to write",
                     x->nsrc ? " of its own (only the patient's)" : "",
                     have ? " (its report is already withdrawn)" : "");
            return 0;
        }
        status = "entered-in-error"; /* I6: its basis is gone */
    }
    if (nen_report_digest(x, res, digest) != 0) {
        fhir_error_set(err, "out of memory");
        return -1;
    }
    if (have && !status && strcmp(prev.digest, digest) == 0) {
        d->pipeline.stats.unchanged++;
        LOG_CASE_DEBUG(r->job.key, x->case_value, "nothing changed, nothing written (I8)");
        return 0;
    }
    int64_t due = r->job.first_ms + d->cfg->work_preliminary_after_ms;
    if (!status && res->status != NEN_STATUS_FINAL && adapter_now_ms() < due) {
        char why[300] = "";
        for (int i = 0; i < res->nmissing; i++)
            snprintf(why + strlen(why), sizeof why - strlen(why), "%s%s", i ? ", " : "",
                     res->missing[i]);
        LOG_CASE_INFO(r->job.key, x->case_value, "inputs missing (%s): waiting %lld ms more for "
                 "them before a preliminary report (work.preliminary_after)",
                 why[0] ? why : "undecided inputs", (long long)(due - adapter_now_ms()));
        r->hold = 1;
        if (!r->hold_due_ms || due < r->hold_due_ms)
            r->hold_due_ms = due;
        d->pipeline.stats.held++;
        return 0;
    }
    if (!status && have &&
        (strcmp(prev.status, "final") == 0 || strcmp(prev.status, "amended") == 0))
        status = "amended";
    return add_write(r, x, res, key, status, digest, err);
}

struct gone_ctx {
    struct pipeline_run *r;
    struct nen_extract **xs;
    int n;
    struct fhir_error *err;
    int rc;
};

/* A report of this patient whose accession is among no case any more: its
 * basis is gone (I6). */
static int withdraw_gone(void *ctx, const char *report_key, const struct store_report *rep)
{
    struct gone_ctx *g = ctx;
    if (strcmp(rep->status, "entered-in-error") == 0)
        return 0;
    for (int i = 0; i < g->n; i++) {
        char key[2 * STORE_KEY_LEN];
        snprintf(key, sizeof key, "%s|%s", g->xs[i]->case_system, g->xs[i]->case_value);
        if (strcmp(key, report_key) == 0)
            return 0;
    }
    struct nen_extract *x = calloc(1, sizeof *x);
    struct nen_result *res = calloc(1, sizeof *res);
    if (!x || !res) {
        free(x), free(res);
        fhir_error_set(g->err, "out of memory");
        g->rc = -1;
        return 1;
    }
    nen_case_init(&x->lo);
    nen_case_init(&x->hi);
    const char *bar = strchr(report_key, '|');
    size_t sl = bar ? (size_t)(bar - report_key) : 0;
    snprintf(x->case_system, sizeof x->case_system, "%.*s", (int)sl, report_key);
    snprintf(x->case_value, sizeof x->case_value, "%s", bar ? bar + 1 : report_key);
    snprintf(x->patient_ref, sizeof x->patient_ref, "%s", g->r->job.key);
    nen_extract_classify(x, res);
    LOG_CASE_INFO(g->r->job.key, x->case_value,
                  "its specimen is no longer among the patient's resources");
    g->rc = decide(g->r, x, res, 0, g->err);
    free(x), free(res);
    return g->rc != 0;
}

/* Inputs that are case i's own: its Observations, or, for a patient with no
 * tissue specimen (one case keyed by the patient), every input. */
static int own_inputs(const struct nen_cases *plan, int i)
{
    int n = 0, patient_case = plan->c[i].specimen_ref[0] == '\0';
    for (size_t k = 0; k < plan->n; k++) {
        const char *t = fhir_resource_type(plan->r[k].res);
        int input = strcmp(t, "Observation") == 0 || strcmp(t, "Condition") == 0;
        if (input && (plan->r[k].case_idx == i ||
                      (patient_case && plan->r[k].case_idx == NEN_CASES_PATIENT)))
            n++;
    }
    return n;
}

void pipeline_compute(struct pipeline_run *r)
{
    struct daemon *d = r->d;
    size_t n = json_object_array_length(r->docs);
    json_object **docs = calloc(n ? n : 1, sizeof *docs);
    struct nen_extract *xs[NEN_CASES_MAX] = {0};
    struct nen_result *res = calloc(1, sizeof *res);
    struct nen_cases plan = {0};
    struct fhir_error err = {0};
    int rc = docs && res ? 0 : -1, ncase = 0;
    long status = 0; /* 422: the inputs cannot be read, a person must fix them */
    if (rc != 0)
        fhir_error_set(&err, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++)
        docs[i] = json_object_array_get_idx(r->docs, i);
    if (rc == 0 && nen_cases_plan(d->codes, docs, n, &plan, log_line, r, &err) != 0)
        rc = -1, status = 422;
    for (int i = 0; rc == 0 && i < plan.ncase; i++) {
        if (!(xs[i] = calloc(1, sizeof *xs[i]))) {
            fhir_error_set(&err, "out of memory");
            rc = -1;
        } else if (nen_extract_case(d->codes, &plan, i, xs[i], log_line, r, &err) != 0) {
            rc = -1, status = 422;
        }
        ncase = i + 1;
    }
    if (rc == 0)
        nen_cases_note_missing(xs, ncase);
    for (int i = 0; rc == 0 && i < ncase; i++) {
        nen_extract_classify(xs[i], res);
        rc = decide(r, xs[i], res, own_inputs(&plan, i), &err);
    }
    if (rc == 0) {
        struct gone_ctx g = {r, xs, ncase, &err, 0};
        if (store_report_of_case(d->store, r->job.key, withdraw_gone, &g) < 0) {
            fhir_error_set(&err, "store read failed: %s", store_error(d->store));
            rc = -1;
        } else {
            rc = g.rc;
        }
    }
    for (int i = 0; i < ncase; i++)
        free(xs[i]);
    nen_cases_free(&plan);
    free(docs);
    free(res);
    if (rc != 0) {
        char why[700];
        snprintf(why, sizeof why, "%s%s", status == 422 ? "inputs cannot be read: " : "",
                 err.msg);
        pipeline_run_fail(r, status, -1, why, NULL);
        return;
    }
    send_next(r);
}
