/*
 * pipeline.c - the case workers' lifecycle (pipeline.h): start due jobs (one
 * per patient, up to work.parallel; the first write alone, so one Device
 * is created), and end each run: done, held (a case waits for inputs:
 * pipeline_write.c), retried with exponential backoff and jitter,
 * honouring Retry-After up to work.retry_after_max, or sent to dead letter
 * with the OperationOutcome after work.max_attempts or at once for a 4xx
 * the server will not change its mind about (I9). A store write that fails
 * pauses all case work with backoff (issue 11 7b): a report written but not
 * recorded never makes its case rerun and rewrite at once.
 * Reading is pipeline_read.c, computing and writing pipeline_write.c.
 * Owns struct pipeline (pipeline.h): the runs in flight and the counters.
 */
#include "pipeline.h"

#include "pipeline_int.h"

#include "fhir_tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    for (int i = 0; i < r->nw; i++)
        json_object_put(r->w[i].bundle);
    free(r->w);
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

void pipeline_run_fail(struct pipeline_run *r, long status, long retry_after, const char *why,
                       const char *outcome)
{
    struct daemon *d = r->d;
    int rc;
    if (permanent(status) || r->job.attempts + 1 >= d->cfg->work_max_attempts) {
        LOG_CASE_ERROR(r->job.key, NULL, "%s; dead letter after %d attempt(s) (list: nenfhir "
                  "dead-letter -c FILE)", why, r->job.attempts + 1);
        rc = store_job_dead(d->store, &r->job, why, outcome);
        d->pipeline.stats.dead++;
    } else {
        int64_t wait = pipeline_retry_delay_ms(d->cfg, r->job.attempts, retry_after);
        LOG_CASE_WARN(r->job.key, NULL, "%s; attempt %d, next in %lld ms", why,
                 r->job.attempts + 1, (long long)wait);
        rc = store_job_retry(d->store, &r->job, adapter_now_ms() + wait, why);
        d->pipeline.stats.retries++;
    }
    if (rc != 0) {
        LOG_ERROR("store: %s", store_error(d->store));
        pipeline_store_failed(d);
    }
    run_free(r);
}

void pipeline_store_failed(struct daemon *d)
{
    struct pipeline *p = &d->pipeline;
    int64_t wait = pipeline_retry_delay_ms(d->cfg, p->store_failures++, -1);
    p->pause_until_ms = adapter_now_ms() + wait;
    LOG_WARN("store: a write failed; case work pauses for %lld ms (failure %d in a row)",
             (long long)wait, p->store_failures);
}

/* Success: the case's inputs noted (for deletes, I6), the job done or
 * held: one store transaction. */
void pipeline_run_done(struct pipeline_run *r)
{
    struct daemon *d = r->d;
    int rc = store_begin(d->store);
    for (size_t i = 0; rc == 0 && i < json_object_array_length(r->docs); i++) {
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
        rc = r->hold ? store_job_hold(d->store, &r->job, r->hold_due_ms)
                     : store_job_done(d->store, &r->job);
    if (rc == 0)
        rc = store_commit(d->store);
    if (rc != 0) {
        LOG_ERROR("store: %s (the case will run again)", store_error(d->store));
        store_rollback(d->store);
        pipeline_store_failed(d);
    } else {
        d->pipeline.store_failures = 0;
    }
    run_free(r);
}

static void run_start(struct daemon *d, const struct store_job *j)
{
    struct pipeline_run *r = calloc(1, sizeof *r);
    json_object *docs = json_object_new_array();
    if (!r || !docs) {
        free(r);
        json_object_put(docs);
        LOG_CASE_ERROR(j->key, NULL, "out of memory; will try again");
        return;
    }
    r->d = d;
    r->job = *j;
    r->docs = docs;
    r->next = d->pipeline.running;
    d->pipeline.running = r;
    d->pipeline.nrunning++;
    pipeline_read(r);
}

void pipeline_run_due(struct daemon *d)
{
    /* first write alone: one Device */
    int limit = d->pipeline.device_ok ? d->cfg->work_parallel : 1;
    if (d->draining || d->pipeline.nrunning >= limit || !pipeline_write_ready(d))
        return;
    int64_t now = adapter_now_ms();
    if (now < d->pipeline.pause_until_ms) {
        daemon_kick(d, (long)(d->pipeline.pause_until_ms - now));
        return;
    }
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

/* issue 14 (metrics): the case latency histogram's start. */
int pipeline_run_last_input_ms(const struct daemon *d, const void *ctx, int64_t *last_ms)
{
    for (const struct pipeline_run *r = d->pipeline.running; r; r = r->next)
        if ((const void *)r == ctx) {
            *last_ms = r->job.touched_ms;
            return 1;
        }
    return 0;
}
