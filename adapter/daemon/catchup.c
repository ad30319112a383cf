/*
 * catchup.c - asking the server what changed (interop.md I3, I4): one round
 * reads Observation, Condition and Specimen (a Specimen may come after its
 * results) with _lastUpdated >= cursor - overlap, sorted by _lastUpdated,
 * following next links; each resource version not seen before goes through
 * intake. A next link answered 410 (the server's stored search expired, as
 * HAPI's do) does not end the round: the type is asked again from the newest
 * lastUpdated already read (catchup_link_gone). A round is single-flight:
 * asking during one runs another after. A failed round is asked again after
 * 5 s, doubling while it fails, up to the timer's interval (round_retry).
 * Cursors (never the local clock): each type has its own, "cursor.{Type}",
 * moved forward after every page to the newest meta.lastUpdated of what is
 * already stored (pages come sorted, so everything before it is in the
 * queue), so a restart resumes from there; a type that saw nothing new in a
 * completed round moves to the server's clock when the round asked its first
 * page (the Date header). "cursor" is where every type has been read to
 * (the least of them), moved forward when a round completes. Cursors only
 * move forward; each query reaches back by the overlap (poll.overlap).
 * Yielding: catch-up never starves case work. Before each page it waits
 * (timer, CATCHUP_YIELD_MS) while the case workers are saturated (work.parallel
 * cases in flight) or a queued job is due and not yet started.
 * The very first round (no cursor yet) starts from now, by the server's
 * clock (the Date header of GET metadata; the local clock if it sends
 * none), or from poll.catchup_since for a deliberate backfill: never from
 * the beginning of the server. URLs are built by fhir_client_url; a next
 * link off the configured base fails the round (fhir_client.h).
 * A completed round then (at most once per poll.vanished_interval; 0 never) re-reads
 * the inputs of cases whose report is final or amended, one at a time: one
 * that is gone (404/410) had its delete notification lost, or the server
 * sends none; its case is recomputed (I6: the report is amended, or
 * entered-in-error when every input is gone).
 * Also the fetches of id-only notifications (the resolve table).
 * Owns struct catchup (catchup.h), the rounds and the resolve fetches.
 */
#include "catchup.h"

#include "daemon.h"
#include "fhir_json.h"
#include "fhir_primitive.h"
#include "fhir_tree.h"
#include "nen_extract.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const catchup_types[] = {"Observation", "Condition", "Specimen"};
#define CATCHUP_NTYPES 3
#define CATCHUP_YIELD_MS 200
#define CATCHUP_RETRY_FIRST_S 5
#define VANISH_BATCH 16
#define VANISH_META "vanish_check_ms"

struct catchup_round {
    struct daemon *d;
    int type;                 /* index into catchup_types */
    char newest[40];          /* newest meta.lastUpdated of this type this round */
    int64_t newest_ms;
    int64_t saved_ms;         /* this type's stored cursor (0: none) */
    int64_t asked_ms;         /* server's Date at this type's first page (0: unknown) */
    int on_link;              /* the page asked for is a next link, not the first search */
    int64_t query_ms;         /* the _lastUpdated=ge of this type's query (epoch ms) */
    unsigned restarts;        /* this type's queries asked again after a gone link */
    char *pending;            /* next page to ask for once case work allows (owned) */
    struct event *wait;       /* the yield timer (owned) */
    unsigned long resources, fresh;
    /* the check for vanished inputs after the round */
    char refs[VANISH_BATCH][STORE_KEY_LEN];
    int nrefs, iref, loaded;  /* loaded: a batch was read from the store */
    unsigned long checked, gone;
};

static void catchup_page(struct catchup_round *r, const char *url);
static void catchup_page_when_free(struct catchup_round *r, char *url);

/* The stored cursor under key as epoch ms: 1 found, 0 none or unreadable, -1 error. */
static int cursor_get(struct daemon *d, const char *key, int64_t *ms)
{
    char v[40];
    int have = store_meta_get(d->store, key, v, sizeof v);
    if (have < 0) {
        LOG_ERROR("store: %s", store_error(d->store));
        return -1;
    }
    return have == 1 && fhir_instant_parse_ms(v, ms) == 0;
}

/* Store ms under key if it is later than what is stored there (cursors
 * only move forward). 0 done or nothing to do, -1 error (logged). */
static int cursor_forward(struct daemon *d, const char *key, int64_t ms)
{
    int64_t old;
    char v[40];
    int have = cursor_get(d, key, &old);
    if (have < 0)
        return -1;
    if (have == 1 && old >= ms)
        return 0;
    if (fhir_instant_format_ms(ms, v, sizeof v) != 0 || store_meta_set(d->store, key, v) != 0) {
        LOG_ERROR("store: cursor %s not saved: %s", key, store_error(d->store));
        return -1;
    }
    return 0;
}

static void type_key(char *key, size_t len, int type)
{
    snprintf(key, len, "cursor.%s", catchup_types[type]);
}

/* A completed round: "cursor" forward to the least of the types' cursors. */
static void cursor_round_done(struct daemon *d)
{
    int64_t least = 0;
    for (int t = 0; t < CATCHUP_NTYPES; t++) {
        char key[40];
        int64_t ms;
        type_key(key, sizeof key, t);
        if (cursor_get(d, key, &ms) != 1)
            return; /* a type without its own cursor: "cursor" stays */
        if (t == 0 || ms < least)
            least = ms;
    }
    if (cursor_forward(d, "cursor", least) == 0)
        LOG_DEBUG("catch-up: every type read up to %lld ms (cursor)", (long long)least);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;
    (void)fd;
    (void)what;
    d->catchup.retry_pending = 0;
    catchup_request(d);
}

/* After a failed round (the server down, slow or answering an error): ask
 * again after CATCHUP_RETRY_FIRST_S, doubling with each failure in a row,
 * rather than only at the next trigger or the timer (poll.interval, or
 * poll.catchup_interval in subscription modes); nothing when the timer comes
 * first, while draining, or when another round is already asked for. */
static void round_retry(struct daemon *d)
{
    const struct run_config *c = d->cfg;
    long every = c->mode == RUN_MODE_POLL ? c->poll_interval_s : c->catchup_interval_s;
    long delay = CATCHUP_RETRY_FIRST_S;
    for (unsigned i = 1; i < d->catchup.failures && delay < every; i++)
        delay *= 2;
    if (d->draining || d->catchup.retry_pending || d->catchup.again || delay >= every)
        return;
    struct timeval tv = {delay, 0};
    if (event_base_once(d->base, -1, EV_TIMEOUT, on_retry, d, &tv) != 0) {
        LOG_WARN("catch-up: cannot schedule a retry (timer); the next at the timer");
        return;
    }
    d->catchup.retry_pending = 1;
    LOG_INFO("catch-up: failed %u time(s) in a row; asking again in %ld s", d->catchup.failures,
             delay);
}

static void round_finish(struct catchup_round *r, int ok)
{
    struct daemon *d = r->d;
    if (ok)
        cursor_round_done(d);
    d->catchup.failures = ok ? 0 : d->catchup.failures + 1;
    if (!ok)
        round_retry(d);
    if (r->wait)
        event_free(r->wait);
    free(r->pending);
    if (ok) {
        /* versions seen are needed for the overlap window only: keep a day */
        int64_t keep = (int64_t)d->cfg->poll_overlap_s * 2000;
        if (keep < 86400000)
            keep = 86400000;
        if (store_seen_prune(d->store, adapter_now_ms(), keep) != 0)
            LOG_WARN("store: pruning seen versions: %s", store_error(d->store));
        d->catchup.rounds++;
        LOG_DEBUG("catch-up done: %lu resources read, %lu new", r->resources, r->fresh);
        if (r->fresh)
            LOG_INFO("catch-up: %lu changed input(s) found", r->fresh);
    }
    free(r);
    d->catchup.running = 0;
    if (d->catchup.again && !d->draining) {
        d->catchup.again = 0;
        catchup_request(d);
    }
    daemon_kick(d, 0);
}

static int vanish_due(struct daemon *d)
{
    char v[32];
    int have = store_meta_get(d->store, VANISH_META, v, sizeof v);
    if (have < 0) {
        LOG_WARN("store: %s", store_error(d->store));
        return 0;
    }
    if (d->cfg->vanished_interval_s <= 0)
        return 0;
    return !have || adapter_now_ms() - atoll(v) >= (int64_t)d->cfg->vanished_interval_s * 1000;
}

static void vanish_next(struct catchup_round *r);

static void vanish_end(struct catchup_round *r, int completed)
{
    struct daemon *d = r->d;
    char v[32];
    snprintf(v, sizeof v, "%lld", (long long)adapter_now_ms());
    if (completed && store_meta_set(d->store, VANISH_META, v) != 0)
        LOG_WARN("store: %s", store_error(d->store));
    if (completed)
        LOG_DEBUG("vanished-input check: %lu input(s) of final reports read, %lu gone",
                  r->checked, r->gone);
    round_finish(r, 1);
}

/* ref is gone from the server: forget it and recompute its case. */
static int vanish_gone(struct daemon *d, const char *ref, long status)
{
    char how[80];
    snprintf(how, sizeof how, "is gone (HTTP %ld) and no delete notification came", status);
    if (store_begin(d->store) != 0)
        return -1;
    int rc = intake_gone(d, ref, how) < 0 ? -1 : 0;
    if (rc == 0)
        rc = store_commit(d->store);
    if (rc != 0)
        store_rollback(d->store);
    return rc;
}

static void on_vanish_read(void *ctx, const struct fhir_response *resp)
{
    struct catchup_round *r = ctx;
    const char *ref = r->refs[r->iref];
    if (resp->status == 404 || resp->status == 410) {
        if (vanish_gone(r->d, ref, resp->status) != 0) {
            LOG_ERROR("store: %s", store_error(r->d->store));
            vanish_end(r, 0);
            return;
        }
        r->gone++;
    } else if (resp->status != 200) {
        LOG_WARN("vanished-input check: GET %s: %s%ld %s; will try again", ref,
                 resp->status ? "HTTP " : "", resp->status, resp->error);
        vanish_end(r, 0);
        return;
    }
    r->checked++;
    r->iref++;
    vanish_next(r);
}

/* The next input to read, loading the next batch of refs when needed. */
static void vanish_next(struct catchup_round *r)
{
    struct daemon *d = r->d;
    if (d->draining) {
        vanish_end(r, 0);
        return;
    }
    if (r->iref >= r->nrefs) {
        if (r->loaded && r->nrefs < VANISH_BATCH) {
            vanish_end(r, 1);
            return;
        }
        char after[STORE_KEY_LEN] = "";
        if (r->nrefs > 0)
            memcpy(after, r->refs[r->nrefs - 1], sizeof after);
        r->nrefs = store_member_of_final(d->store, after, r->refs, VANISH_BATCH);
        r->iref = 0;
        r->loaded = 1;
        if (r->nrefs <= 0) {
            if (r->nrefs < 0)
                LOG_WARN("store: %s", store_error(d->store));
            vanish_end(r, r->nrefs == 0);
            return;
        }
    }
    int rc = fhir_client_request(d->client, "GET", r->refs[r->iref], NULL, 0, NULL,
                                 on_vanish_read, r);
    if (rc == FHIR_CLIENT_EURL) { /* not a Type/id: cannot be read, skip it */
        LOG_WARN("vanished-input check: %s; skipped", fhir_client_error(d->client));
        r->iref++;
        vanish_next(r);
    } else if (rc != 0) {
        LOG_WARN("vanished-input check: %s", fhir_client_error(d->client));
        vanish_end(r, 0);
    }
}

/* End of a round: when it completed and the check is due, first the check
 * for inputs of final reports that vanished. */
static void round_end(struct catchup_round *r, int ok)
{
    if (!ok || r->d->draining || !vanish_due(r->d)) {
        round_finish(r, ok);
        return;
    }
    r->nrefs = r->iref = r->loaded = 0;
    vanish_next(r);
}

static void catchup_first_start(struct catchup_round *r);

/* Ask this type's query from from_ms minus overlap_s (the first page). */
static void catchup_type_query(struct catchup_round *r, int64_t from_ms, int overlap_s)
{
    struct daemon *d = r->d;
    char since[48], count[16], err[700];
    int64_t ge = from_ms - (int64_t)overlap_s * 1000;
    memcpy(since, "ge", 2);
    if (fhir_instant_format_ms(ge, since + 2, sizeof since - 2) != 0) {
        LOG_ERROR("catch-up: stored cursor (%lld ms) out of range; delete it to start from now",
                  (long long)from_ms);
        round_end(r, 0);
        return;
    }
    snprintf(count, sizeof count, "%d", d->cfg->poll_count);
    /* nenfhir's own result Observations left out where the server can (I5) */
    const char *const params[] = {"_lastUpdated", since, "_sort", "_lastUpdated", "_count", count,
                                  "_tag:not", NEN_TAG_SYSTEM "|" NEN_TAG_CODE};
    char *url = fhir_client_url(d->client, catchup_types[r->type], params,
                                subscribe_tag_not(d) ? 4 : 3, err, sizeof err);
    if (!url) {
        LOG_ERROR("catch-up %s: %s", catchup_types[r->type], err);
        round_end(r, 0);
        return;
    }
    r->on_link = 0;
    r->query_ms = ge;
    catchup_page_when_free(r, url);
}

static void catchup_type_start(struct catchup_round *r)
{
    struct daemon *d = r->d;
    char cur[40];
    int64_t ms;
    int have = store_meta_get(d->store, "cursor", cur, sizeof cur);
    if (have < 0) {
        LOG_ERROR("store: %s", store_error(d->store));
        round_end(r, 0);
        return;
    }
    if (have == 0 || fhir_instant_parse_ms(cur, &ms) != 0) {
        catchup_first_start(r);
        return;
    }
    char key[40];
    int64_t tms = 0;
    type_key(key, sizeof key, r->type);
    int thave = cursor_get(d, key, &tms);
    if (thave < 0) {
        round_end(r, 0);
        return;
    }
    r->saved_ms = thave == 1 ? tms : 0;
    if (thave == 1 && tms > ms)
        ms = tms; /* this type was read further (pages of an earlier round) */
    r->newest[0] = '\0';
    r->newest_ms = 0;
    r->asked_ms = 0;
    r->restarts = 0;
    catchup_type_query(r, ms, d->cfg->poll_overlap_s);
}

/* A next link answered 410 Gone: the server dropped the stored search behind
 * it (HAPI-0417 once a search expired, I3). The round does not end: this
 * type's query is asked again from the newest lastUpdated of the pages
 * already read (all stored; pages come sorted), without the overlap:
 * resources at that instant come again and are skipped as seen, and what the
 * overlap guards against is read by the next round, which reaches back again.
 * Only when those pages reached past where the query began: a server whose
 * links are always gone ends the round (will try again) instead of asking
 * forever. 1 asked again, 0 not. */
static int catchup_link_gone(struct catchup_round *r, long status)
{
    if (!r->on_link || status != 410 || r->d->draining || r->newest_ms <= r->query_ms)
        return 0;
    r->restarts++;
    LOG_WARN("catch-up %s: HTTP 410 on the server's paging link (its stored search is gone, "
             "I3); asking again from %s, the newest lastUpdated read (restart %u of this round)",
             catchup_types[r->type], r->newest, r->restarts);
    catchup_type_query(r, r->newest_ms, 0);
    return 1;
}

/* The first cursor: ms (from where), stored at once so that a restart
 * before the round completes does not start over; then the round. */
static void catchup_cursor_start(struct catchup_round *r, int64_t ms, const char *from)
{
    struct daemon *d = r->d;
    char cur[40];
    if (fhir_instant_format_ms(ms, cur, sizeof cur) != 0 ||
        store_meta_set(d->store, "cursor", cur) != 0) {
        LOG_ERROR("catch-up: the first cursor could not be stored: %s", store_error(d->store));
        round_end(r, 0);
        return;
    }
    LOG_INFO("first start (no cursor, I4): catching up from %s (%s, minus the %d s overlap), "
             "not from the beginning of the server%s", cur, from, d->cfg->poll_overlap_s,
             d->cfg->catchup_since[0] ? "" : "; for a deliberate backfill set [poll] "
                                              "catchup_since");
    catchup_type_start(r);
}

static void on_server_time(void *ctx, const struct fhir_response *resp)
{
    struct catchup_round *r = ctx;
    if (resp->status == 0) {
        LOG_WARN("catch-up: reading the server's clock (GET metadata): %s; will try again",
                 resp->error);
        round_end(r, 0);
        return;
    }
    if (r->d->draining) {
        round_end(r, 0);
        return;
    }
    if (resp->date_ms > 0)
        catchup_cursor_start(r, resp->date_ms, "the server's clock, its Date header");
    else
        catchup_cursor_start(r, adapter_now_ms(), "the local clock: the server sent no Date");
}

static void catchup_first_start(struct catchup_round *r)
{
    struct daemon *d = r->d;
    int64_t ms;
    if (d->cfg->catchup_since[0] && fhir_datetime_parse_ms(d->cfg->catchup_since, &ms) == 0) {
        catchup_cursor_start(r, ms, "poll.catchup_since");
        return;
    }
    int rc = fhir_client_request(d->client, "GET", "metadata", NULL, 0, NULL, on_server_time, r);
    if (rc != 0) {
        LOG_ERROR("catch-up: %s", fhir_client_error(d->client));
        round_end(r, 0);
    }
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
    if (resp->status != 200 && catchup_link_gone(r, resp->status))
        return;
    if (resp->status != 200) {
        if (resp->status)
            LOG_WARN("catch-up %s: HTTP %ld; will try again", catchup_types[r->type],
                     resp->status);
        else
            LOG_WARN("catch-up %s: %s; will try again", catchup_types[r->type], resp->error);
        round_end(r, 0);
        return;
    }
    if (r->asked_ms == 0)
        r->asked_ms = resp->date_ms;
    struct fhir_error err = {0};
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
    /* the page is in the store: this type's cursor may move up to it */
    char key[40];
    type_key(key, sizeof key, r->type);
    if (r->newest_ms > r->saved_ms) {
        if (cursor_forward(d, key, r->newest_ms) != 0) {
            json_object_put(b);
            round_end(r, 0);
            return;
        }
        r->saved_ms = r->newest_ms;
    }
    if (next && !d->draining) {
        char *u = strdup(next);
        json_object_put(b);
        if (!u) {
            round_end(r, 0);
            return;
        }
        r->on_link = 1;
        catchup_page_when_free(r, u);
        return;
    }
    json_object_put(b);
    /* the type is read through; nothing newer than its cursor seen: the
     * server's clock when the type was asked (I4: never the local clock) */
    if (!d->draining && r->newest_ms <= r->saved_ms && r->asked_ms > r->saved_ms) {
        if (cursor_forward(d, key, r->asked_ms) != 0) {
            round_end(r, 0);
            return;
        }
        r->saved_ms = r->asked_ms;
    }
    if (++r->type < CATCHUP_NTYPES && !d->draining) {
        catchup_type_start(r);
        return;
    }
    round_end(r, !d->draining);
}

/* Request one page; a URL off the base (a server's next link naming another
 * host, scheme, port or path) fails the round with the client's reason. */
static void catchup_page(struct catchup_round *r, const char *url)
{
    int rc = fhir_client_request(r->d->client, "GET", url, NULL, 0, NULL, on_page, r);
    if (rc == FHIR_CLIENT_EURL) {
        LOG_ERROR("catch-up %s: the server's link %s; the round fails (I15: credentials only to "
                  "the configured server)",
                  catchup_types[r->type], fhir_client_error(r->d->client));
        round_end(r, 0);
    } else if (rc != 0) {
        LOG_ERROR("catch-up: %s", fhir_client_error(r->d->client));
        round_end(r, 0);
    }
}

/* 1 while case work should go first: work.parallel cases in flight, or a
 * queued job due now that the workers have not started yet. */
static int catchup_should_yield(struct daemon *d)
{
    if (d->draining)
        return 0;
    if (pipeline_running(d) >= d->cfg->work_parallel)
        return 1;
    int64_t due;
    int rc = store_job_next_due(d->store, &due);
    if (rc < 0) {
        LOG_WARN("store: %s", store_error(d->store));
        return 0;
    }
    return rc == 1 && due <= adapter_now_ms();
}

static void on_yield_timer(evutil_socket_t fd, short what, void *ctx)
{
    (void)fd;
    (void)what;
    struct catchup_round *r = ctx;
    char *url = r->pending;
    r->pending = NULL;
    if (r->d->draining) {
        free(url);
        round_end(r, 0);
        return;
    }
    catchup_page_when_free(r, url);
}

/* Ask for url (takes ownership) now, or once case work leaves room. */
static void catchup_page_when_free(struct catchup_round *r, char *url)
{
    struct daemon *d = r->d;
    if (catchup_should_yield(d)) {
        if (!r->wait)
            r->wait = evtimer_new(d->base, on_yield_timer, r);
        struct timeval tv = {0, CATCHUP_YIELD_MS * 1000};
        if (r->wait && evtimer_add(r->wait, &tv) == 0) {
            free(r->pending);
            r->pending = url;
            daemon_kick(d, 0); /* let the due jobs start */
            return;
        }
        LOG_WARN("catch-up: cannot wait for case work (timer); reading on");
    }
    catchup_page(r, url);
    free(url);
}

void catchup_request(struct daemon *d)
{
    if (d->draining)
        return;
    if (d->catchup.running) {
        d->catchup.again = 1;
        return;
    }
    struct catchup_round *r = calloc(1, sizeof *r);
    if (!r) {
        LOG_ERROR("catch-up: out of memory");
        return;
    }
    r->d = d;
    d->catchup.running = 1;
    catchup_type_start(r);
}

/* --- id-only notifications: fetch the resource to learn its case --- */

#define RESOLVE_PARALLEL CATCHUP_RESOLVE_PARALLEL

struct resolve_fetch {
    struct daemon *d;
    char ref[STORE_KEY_LEN];
};

static int resolve_is_inflight(const struct catchup *c, const char *ref)
{
    for (int i = 0; i < RESOLVE_PARALLEL; i++)
        if (strcmp(c->resolve_inflight[i], ref) == 0)
            return 1;
    return 0;
}

static void resolve_mark(struct catchup *c, const char *ref, int on)
{
    for (int i = 0; i < RESOLVE_PARALLEL; i++) {
        if (on && !c->resolve_inflight[i][0]) {
            snprintf(c->resolve_inflight[i], STORE_KEY_LEN, "%s", ref);
            return;
        }
        if (!on && strcmp(c->resolve_inflight[i], ref) == 0) {
            c->resolve_inflight[i][0] = '\0';
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
        struct fhir_error err = {0};
        json_object *res = fhir_json_parse(resp->body, resp->len, &fhir_limits_default, ref, &err);
        if (res)
            rc = intake_resource(d, res);
        else
            LOG_WARN("%s: unreadable (%s); ignored", ref, err.msg);
        json_object_put(res);
    } else {
        /* the resource an id-only notification named is gone: as a delete,
         * its kept copy goes too (else its case would recompute the same) */
        char how[40];
        snprintf(how, sizeof how, "is gone (HTTP %ld)", resp->status);
        rc = intake_gone(d, ref, how) < 0 ? -1 : 0;
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
    resolve_mark(&d->catchup, f->ref, 0);
    d->catchup.resolving--;
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
    if (d->draining || d->catchup.resolving >= RESOLVE_PARALLEL)
        return;
    char refs[RESOLVE_PARALLEL * 2][STORE_KEY_LEN];
    int n = store_resolve_list(d->store, refs, RESOLVE_PARALLEL * 2);
    for (int i = 0; i < n && d->catchup.resolving < RESOLVE_PARALLEL; i++) {
        if (resolve_is_inflight(&d->catchup, refs[i]))
            continue;
        struct resolve_fetch *f = calloc(1, sizeof *f);
        if (!f)
            return;
        f->d = d;
        memcpy(f->ref, refs[i], sizeof f->ref);
        f->ref[sizeof f->ref - 1] = '\0';
        int rc = fhir_client_request(d->client, "GET", f->ref, NULL, 0, NULL, on_resolved, f);
        if (rc == FHIR_CLIENT_EURL) { /* not a Type/id: nothing to fetch */
            LOG_WARN("%s: %s; dropped", f->ref, fhir_client_error(d->client));
            if (store_resolve_done(d->store, f->ref) != 0)
                LOG_ERROR("store: %s", store_error(d->store));
            free(f);
            continue;
        }
        if (rc != 0) {
            free(f);
            return;
        }
        resolve_mark(&d->catchup, f->ref, 1);
        d->catchup.resolving++;
    }
}

int catchup_busy(const struct daemon *d)
{
    return d->catchup.running || d->catchup.resolving > 0;
}

unsigned long catchup_rounds(const struct daemon *d)
{
    return d->catchup.rounds;
}
