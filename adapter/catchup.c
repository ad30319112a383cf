/*
 * catchup.c - asking the server what changed (interop.md I3, I4): one round
 * reads Observation and Condition with _lastUpdated >= cursor - overlap,
 * sorted by _lastUpdated, following next links; each resource version not
 * seen before goes through intake; the cursor (the server's newest
 * meta.lastUpdated seen, never the local clock) is stored when the round
 * completes. A round is single-flight: asking during one runs another after.
 * Also the fetches of id-only notifications (the resolve table).
 */
#include "daemon.h"
#include "fhir_json.h"
#include "fhir_primitive.h"
#include "fhir_tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const catchup_types[] = {"Observation", "Condition"};
#define CATCHUP_NTYPES 2

struct catchup_round {
    struct daemon *d;
    int type;                 /* index into catchup_types */
    char newest[40];          /* newest meta.lastUpdated seen this round */
    int64_t newest_ms;
    unsigned long resources, fresh;
};

static void catchup_page(struct catchup_round *r, const char *url);

static void round_end(struct catchup_round *r, int ok)
{
    struct daemon *d = r->d;
    if (ok && r->newest[0]) {
        if (store_meta_set(d->store, "cursor", r->newest) != 0)
            LOG_ERROR("store: cursor not saved: %s", store_error(d->store));
    }
    if (ok) {
        /* versions seen are needed for the overlap window only: keep a day */
        int64_t keep = (int64_t)d->cfg->poll_overlap_s * 2000;
        if (keep < 86400000)
            keep = 86400000;
        if (store_seen_prune(d->store, daemon_now_ms(), keep) != 0)
            LOG_WARN("store: pruning seen versions: %s", store_error(d->store));
        d->stats.catchups++;
        LOG_DEBUG("catch-up done: %lu resources read, %lu new, cursor %s", r->resources,
                  r->fresh, r->newest[0] ? r->newest : "(unchanged)");
        if (r->fresh)
            LOG_INFO("catch-up: %lu changed input(s) found", r->fresh);
    }
    free(r);
    d->catchup_running = 0;
    if (d->catchup_again && !d->draining) {
        d->catchup_again = 0;
        catchup_request(d);
    }
    daemon_kick(d, 0);
}

static void catchup_type_start(struct catchup_round *r)
{
    struct daemon *d = r->d;
    char cur[40], since[40], url[512];
    int have = store_meta_get(d->store, "cursor", cur, sizeof cur);
    int64_t ms;
    if (have == 1 && fhir_instant_parse_ms(cur, &ms) == 0 &&
        fhir_instant_format_ms(ms - (int64_t)d->cfg->poll_overlap_s * 1000, since,
                               sizeof since) == 0)
        snprintf(url, sizeof url, "%s?_lastUpdated=ge%s&_sort=_lastUpdated&_count=%d",
                 catchup_types[r->type], since, d->cfg->poll_count);
    else /* first start: everything the server holds */
        snprintf(url, sizeof url, "%s?_sort=_lastUpdated&_count=%d", catchup_types[r->type],
                 d->cfg->poll_count);
    catchup_page(r, url);
}

/* Record the resources of one page; returns the next link (borrowed) or NULL. */
static int catchup_take(struct catchup_round *r, json_object *bundle, const char **next)
{
    struct daemon *d = r->d;
    *next = fhir_bundle_next(bundle);
    if (store_begin(d->store) != 0)
        return -1;
    for (size_t i = 0; i < fhir_count(bundle, "entry"); i++) {
        json_object *res = fhir_member(fhir_item(bundle, "entry", i), "resource");
        if (!res)
            continue;
        json_object *meta = fhir_member(res, "meta");
        const char *ver = "", *lu = NULL;
        fhir_get_string(meta, "versionId", &ver);
        int64_t ms;
        if (fhir_get_string(meta, "lastUpdated", &lu) == FHIR_OK &&
            fhir_instant_parse_ms(lu, &ms) == 0 && ms > r->newest_ms) {
            r->newest_ms = ms;
            snprintf(r->newest, sizeof r->newest, "%s", lu);
        }
        r->resources++;
        int fresh = store_seen(d->store, fhir_resource_type(res), fhir_resource_id(res), ver);
        if (fresh < 0 || (fresh == 1 && intake_resource(d, res) != 0)) {
            store_rollback(d->store);
            return -1;
        }
        r->fresh += (unsigned long)fresh;
    }
    return store_commit(d->store);
}

static void on_page(void *ctx, const struct fhir_response *resp)
{
    struct catchup_round *r = ctx;
    struct daemon *d = r->d;
    if (resp->status != 200) {
        LOG_WARN("catch-up %s: %s%s; will try again", catchup_types[r->type],
                 resp->status ? "HTTP " : "", resp->status ? "error" : resp->error);
        round_end(r, 0);
        return;
    }
    struct fhir_error err = {{0}};
    json_object *b = fhir_json_parse(resp->body, resp->len, &fhir_limits_default,
                                     "search result", &err);
    const char *next = NULL;
    if (!b || strcmp(fhir_resource_type(b), "Bundle") != 0 || catchup_take(r, b, &next) != 0) {
        LOG_WARN("catch-up %s: %s", catchup_types[r->type],
                 b ? "could not record the page" : err.msg);
        json_object_put(b);
        round_end(r, 0);
        return;
    }
    if (next && !d->draining) {
        char *u = strdup(next);
        json_object_put(b);
        if (!u) {
            round_end(r, 0);
            return;
        }
        catchup_page(r, u);
        free(u);
        return;
    }
    json_object_put(b);
    if (++r->type < CATCHUP_NTYPES && !d->draining) {
        catchup_type_start(r);
        return;
    }
    round_end(r, !d->draining);
}

static void catchup_page(struct catchup_round *r, const char *url)
{
    if (fhir_client_request(r->d->client, "GET", url, NULL, 0, NULL, on_page, r) != 0) {
        LOG_ERROR("catch-up: out of memory");
        round_end(r, 0);
    }
}

void catchup_request(struct daemon *d)
{
    if (d->draining)
        return;
    if (d->catchup_running) {
        d->catchup_again = 1;
        return;
    }
    struct catchup_round *r = calloc(1, sizeof *r);
    if (!r) {
        LOG_ERROR("catch-up: out of memory");
        return;
    }
    r->d = d;
    d->catchup_running = 1;
    catchup_type_start(r);
}

/* --- id-only notifications: fetch the resource to learn its case --- */

#define RESOLVE_PARALLEL 4

struct resolve_fetch {
    struct daemon *d;
    char ref[STORE_KEY_LEN];
};

static char resolve_inflight[RESOLVE_PARALLEL][STORE_KEY_LEN];

static int resolve_is_inflight(const char *ref)
{
    for (int i = 0; i < RESOLVE_PARALLEL; i++)
        if (strcmp(resolve_inflight[i], ref) == 0)
            return 1;
    return 0;
}

static void resolve_mark(const char *ref, int on)
{
    for (int i = 0; i < RESOLVE_PARALLEL; i++) {
        if (on && !resolve_inflight[i][0]) {
            snprintf(resolve_inflight[i], STORE_KEY_LEN, "%s", ref);
            return;
        }
        if (!on && strcmp(resolve_inflight[i], ref) == 0) {
            resolve_inflight[i][0] = '\0';
            return;
        }
    }
}

static int resolve_record(struct daemon *d, const char *ref, const struct fhir_response *resp)
{
    if (store_begin(d->store) != 0)
        return -1;
    int rc = 0;
    if (resp->status == 200) {
        struct fhir_error err = {{0}};
        json_object *res = fhir_json_parse(resp->body, resp->len, &fhir_limits_default, ref, &err);
        if (res)
            rc = intake_resource(d, res);
        else
            LOG_WARN("%s: unreadable (%s); ignored", ref, err.msg);
        json_object_put(res);
    } else {
        char key[STORE_KEY_LEN];
        int found = store_member_get(d->store, ref, key, sizeof key);
        rc = found < 0 ? -1 : 0;
        if (found == 1) {
            LOG_INFO("%s is gone (HTTP %ld): case %s will be recomputed (I6)", ref,
                     resp->status, key);
            rc = store_job_touch(d->store, key, daemon_now_ms(), d->cfg->work_settle_ms);
        }
    }
    if (rc == 0)
        rc = store_resolve_done(d->store, ref);
    if (rc == 0)
        rc = store_commit(d->store);
    if (rc != 0)
        store_rollback(d->store);
    return rc;
}

static void on_resolved(void *ctx, const struct fhir_response *resp)
{
    struct resolve_fetch *f = ctx;
    struct daemon *d = f->d;
    resolve_mark(f->ref, 0);
    d->resolving--;
    if (resp->status == 200 || resp->status == 404 || resp->status == 410) {
        if (resolve_record(d, f->ref, resp) != 0)
            LOG_ERROR("store: %s", store_error(d->store));
    } else {
        LOG_WARN("fetch %s: %s%ld %s; will try again", f->ref, resp->status ? "HTTP " : "",
                 resp->status, resp->error);
        daemon_kick(d, 5000);
    }
    free(f);
    if (resp->status == 200 || resp->status == 404 || resp->status == 410)
        catchup_resolve_next(d);
}

void catchup_resolve_next(struct daemon *d)
{
    if (d->draining || d->resolving >= RESOLVE_PARALLEL)
        return;
    char refs[RESOLVE_PARALLEL * 2][STORE_KEY_LEN];
    int n = store_resolve_list(d->store, refs, RESOLVE_PARALLEL * 2);
    for (int i = 0; i < n && d->resolving < RESOLVE_PARALLEL; i++) {
        if (resolve_is_inflight(refs[i]))
            continue;
        struct resolve_fetch *f = calloc(1, sizeof *f);
        if (!f)
            return;
        f->d = d;
        memcpy(f->ref, refs[i], sizeof f->ref);
        f->ref[sizeof f->ref - 1] = '\0';
        if (fhir_client_request(d->client, "GET", f->ref, NULL, 0, NULL, on_resolved, f) != 0) {
            free(f);
            return;
        }
        resolve_mark(f->ref, 1);
        d->resolving++;
    }
}
