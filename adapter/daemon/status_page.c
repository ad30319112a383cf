/*
 * status_page.c - /status and /status/case/ACCESSION (status_page.h): HTML
 * built into the caller's evbuffer from the store (queue counts, dead
 * letters, the latest reports, a case's reports and mirrored inputs), the
 * pipeline's and catch-up's counters and the listener's health and
 * metrics. Every text that comes from outside (accessions, keys, errors,
 * resources) goes through status_html_escape. A store error is shown on
 * the page where the data would be.
 */
#include "status_page.h"

#include "daemon.h"
#include "daemon_run.h"
#include "metrics.h"

#include <event2/http.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STATUS_LATEST 30   /* cases on the main page */
#define STATUS_ERRORS 20   /* dead letters on the main page (the newest) */

/* The page being built: an error sticks (out of memory). */
struct page {
    struct evbuffer *b;
    int err;
};

static void say(struct page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct page *p, const char *fmt, ...)
{
    if (p->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (evbuffer_add_vprintf(p->b, fmt, ap) < 0)
        p->err = 1;
    va_end(ap);
}

int status_html_escape(struct evbuffer *out, const char *s)
{
    if (!s)
        return 0;
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: continue;
        }
        if ((s > run && evbuffer_add(out, run, (size_t)(s - run)) != 0) ||
            evbuffer_add(out, rep, strlen(rep)) != 0)
            return -1;
        run = s + 1;
    }
    if (s > run && evbuffer_add(out, run, (size_t)(s - run)) != 0)
        return -1;
    return 0;
}

static void esc(struct page *p, const char *s)
{
    if (!p->err && status_html_escape(p->b, s) != 0)
        p->err = 1;
}

/* A path segment (the accession in a link) %-encoded, then HTML-escaped. */
static void esc_uri(struct page *p, const char *s)
{
    char *e = evhttp_uriencode(s, -1, 0);
    if (!e) {
        p->err = 1;
        return;
    }
    esc(p, e);
    free(e);
}

/* "2026-05-01 12:00:00Z" of ms (UTC); "-" for none. */
static void when(char *out, size_t len, int64_t ms)
{
    if (ms <= 0) {
        snprintf(out, len, "-");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, len, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
        snprintf(out, len, "%lld ms", (long long)ms);
}

/* The accession of a report key ("system|value": value). */
static const char *accession_of(const char *report_key)
{
    const char *bar = strrchr(report_key, '|');
    return bar ? bar + 1 : report_key;
}

static void page_head(struct page *p, const char *title)
{
    say(p, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<title>");
    esc(p, title);
    say(p, "</title><style>body{font-family:sans-serif;margin:1.5em}"
           "table{border-collapse:collapse;margin-bottom:1.5em}"
           "td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top}"
           ".ok{color:#060}.bad{color:#a00;font-weight:bold}"
           "pre{white-space:pre-wrap;max-width:60em}</style></head><body>\n<h1>");
    esc(p, title);
    say(p, "</h1>\n");
}

static void health_table(struct page *p, const struct status_health *h)
{
    say(p, "<h2>Health</h2>\n<p id=\"health\">%s%s</span>, %s</p>\n<table><tr><th>check</th>"
           "<th>state</th><th>why</th></tr>\n",
        h->healthy ? "<span class=\"ok\">" : "<span class=\"bad\">",
        h->healthy ? "healthy" : "unhealthy", h->ready ? "ready" : "not ready");
    for (int i = 0; i < STATUS_NCHECK; i++) {
        if (!h->check[i].name)
            continue;
        say(p, "<tr><td>");
        esc(p, h->check[i].name);
        say(p, "</td><td class=\"%s\">%s</td><td>", h->check[i].ok ? "ok" : "bad",
            h->check[i].ok ? "ok" : "failing");
        esc(p, h->check[i].why);
        say(p, "</td></tr>\n");
    }
    say(p, "</table>\n");
}

/* The newest STATUS_ERRORS dead letters (store_dead_list is oldest first). */
struct dead_ring {
    struct {
        char key[STORE_KEY_LEN];
        char error[600];
    } e[STATUS_ERRORS];
    int n;      /* seen */
};

static int dead_one(void *ctx, const struct store_job *j)
{
    struct dead_ring *r = ctx;
    int i = r->n++ % STATUS_ERRORS;
    snprintf(r->e[i].key, sizeof r->e[i].key, "%s", j->key);
    snprintf(r->e[i].error, sizeof r->e[i].error, "%.590s", j->error);
    return 0;
}

static void errors_table(struct page *p, struct daemon *d)
{
    struct dead_ring *r = calloc(1, sizeof *r);
    if (!r) {
        p->err = 1;
        return;
    }
    say(p, "<h2>Recent errors (dead letters)</h2>\n");
    if (store_dead_list(d->store, dead_one, r) < 0) {
        say(p, "<p class=\"bad\">store: ");
        esc(p, store_error(d->store));
        say(p, "</p>\n");
    } else if (r->n == 0) {
        say(p, "<p>none</p>\n");
    } else {
        say(p, "<table><tr><th>case</th><th>error</th></tr>\n");
        int shown = r->n < STATUS_ERRORS ? r->n : STATUS_ERRORS;
        for (int k = 0; k < shown; k++) { /* newest first */
            int i = (r->n - 1 - k) % STATUS_ERRORS;
            say(p, "<tr><td>");
            esc(p, r->e[i].key);
            say(p, "</td><td>");
            esc(p, r->e[i].error);
            say(p, "</td></tr>\n");
        }
        say(p, "</table>\n");
        if (r->n > shown)
            say(p, "<p>%d older: nenfhir dead-letter list</p>\n", r->n - shown);
    }
    free(r);
}

static int latest_one(void *ctx, const char *report_key, const struct store_report *r)
{
    struct page *p = ctx;
    char t[40];
    when(t, sizeof t, r->written_ms);
    const char *acc = accession_of(report_key);
    say(p, "<tr><td><a href=\"/status/case/");
    esc_uri(p, acc);
    say(p, "\">");
    esc(p, acc);
    say(p, "</a></td><td class=\"status\">");
    esc(p, r->status);
    say(p, "</td><td>%s</td><td>%d</td><td>", t, r->writes);
    esc(p, r->case_key);
    say(p, "</td></tr>\n");
    return p->err;
}

int status_page_main(struct daemon *d, const struct status_health *h, const struct metrics *m,
                     struct evbuffer *out)
{
    struct page pg = {out, 0}, *p = &pg;
    page_head(p, "nenfhir status");
    say(p, "<p>nenfhir %s, server ", NENFHIR_VERSION_STR);
    esc(p, d->cfg->server_base);
    say(p, ", mode %s%s</p>\n", run_mode_name(d->cfg->mode), d->draining ? ", draining" : "");
    health_table(p, h);

    const struct pipeline_stats *ps = pipeline_stats(d);
    unsigned long refused = 0;
    for (int i = 0; i < METRICS_NREFUSAL; i++)
        refused += m->refused[i];
    long cases = 0, writes = 0, mirrored = 0;
    int sr = store_report_stats(d->store, &cases, &writes);
    if (sr == 0)
        sr = store_mirror_count(d->store, &mirrored);
    say(p, "<h2>Counts since start</h2>\n<table>"
           "<tr><th>notifications accepted</th><td>%lu</td></tr>\n"
           "<tr><th>notifications refused</th><td>%lu</td></tr>\n"
           "<tr><th>reports written</th><td>%lu</td></tr>\n"
           "<tr><th>recomputed, unchanged</th><td>%lu</td></tr>\n"
           "<tr><th>retries</th><td>%lu</td></tr>\n"
           "<tr><th>dead letters</th><td>%lu</td></tr>\n"
           "<tr><th>catch-up rounds</th><td>%lu</td></tr>\n"
           "<tr><th>FHIR requests</th><td>%lu</td></tr>\n</table>\n",
        m->accepted, refused, ps->reports_written, ps->unchanged, ps->retries, ps->dead,
        catchup_rounds(d), m->requests_done);
    if (sr == 0)
        say(p, "<p>In the store: %ld case(s) with a report, %ld report write(s), %ld input "
               "resource(s) mirrored.</p>\n", cases, writes, mirrored);

    int queued = 0, dead = 0, resolving = 0;
    int64_t oldest = 0;
    int qr = store_counts(d->store, &queued, &dead, &resolving);
    int orc = qr == 0 ? store_job_oldest_ms(d->store, &oldest) : -1;
    say(p, "<h2>Queue</h2>\n");
    if (qr != 0 || orc < 0) {
        say(p, "<p class=\"bad\">store: ");
        esc(p, store_error(d->store));
        say(p, "</p>\n");
    } else {
        char t[40];
        when(t, sizeof t, orc == 1 ? oldest : 0);
        say(p, "<table><tr><th>queued</th><td id=\"queued\">%d</td></tr>\n"
               "<tr><th>in flight</th><td>%d</td></tr>\n"
               "<tr><th>dead letters</th><td>%d</td></tr>\n"
               "<tr><th>id-only changes to read</th><td>%d</td></tr>\n"
               "<tr><th>oldest queued input</th><td>%s</td></tr>\n</table>\n",
            queued, pipeline_running(d), dead, resolving, t);
    }
    errors_table(p, d);

    say(p, "<h2>Latest cases</h2>\n<table id=\"cases\"><tr><th>accession</th><th>status</th>"
           "<th>written</th><th>writes</th><th>patient</th></tr>\n");
    if (store_report_latest(d->store, STATUS_LATEST, latest_one, p) < 0) {
        say(p, "</table>\n<p class=\"bad\">store: ");
        esc(p, store_error(d->store));
        say(p, "</p>\n");
    } else {
        say(p, "</table>\n");
    }
    say(p, "<p><a href=\"/metrics\">/metrics</a> &middot; <a href=\"/healthz\">/healthz</a>"
           "</p>\n</body></html>\n");
    return p->err ? -1 : 0;
}

/* ---- one case ---- */

struct case_ctx {
    struct page *p;
    int n;
    char patients[4][STORE_KEY_LEN]; /* the reports' case keys, each once */
    int npat;
};

static int case_report(void *ctx, const char *report_key, const struct store_report *r)
{
    struct case_ctx *c = ctx;
    struct page *p = c->p;
    char t[40];
    when(t, sizeof t, r->written_ms);
    c->n++;
    say(p, "<h2>Report ");
    esc(p, report_key);
    say(p, "</h2>\n<table><tr><th>accession</th><td>");
    esc(p, accession_of(report_key));
    say(p, "</td></tr>\n<tr><th>status</th><td class=\"status\">");
    esc(p, r->status);
    say(p, "</td></tr>\n<tr><th>written</th><td>%s</td></tr>\n<tr><th>writes</th><td>%d</td>"
           "</tr>\n<tr><th>digest</th><td><code>", t, r->writes);
    esc(p, r->digest);
    say(p, "</code></td></tr>\n<tr><th>patient</th><td>");
    esc(p, r->case_key);
    say(p, "</td></tr>\n</table>\n");
    int seen = 0;
    for (int i = 0; i < c->npat; i++)
        seen |= strcmp(c->patients[i], r->case_key) == 0;
    if (!seen && c->npat < 4)
        snprintf(c->patients[c->npat++], STORE_KEY_LEN, "%s", r->case_key);
    return p->err;
}

static int case_input(void *ctx, const char *ref, const char *type, const char *json)
{
    struct page *p = ctx;
    (void)type;
    size_t n = strlen(json);
    say(p, "<tr><td>");
    esc(p, ref);
    say(p, "</td><td><pre>");
    if (n > 1500) {
        char cut[1501];
        memcpy(cut, json, 1500);
        cut[1500] = '\0';
        esc(p, cut);
        say(p, " ... (%zu bytes)", n);
    } else {
        esc(p, json);
    }
    say(p, "</pre></td></tr>\n");
    return p->err;
}

/* The dead letter of patient, if any: its error. */
struct case_dead {
    const char *key;
    char error[STORE_TEXT_LEN];
    int found;
};

static int case_dead_one(void *ctx, const struct store_job *j)
{
    struct case_dead *c = ctx;
    if (strcmp(j->key, c->key) != 0)
        return 0;
    snprintf(c->error, sizeof c->error, "%s", j->error);
    c->found = 1;
    return 1;
}

int status_page_case(struct daemon *d, const char *accession, struct evbuffer *out)
{
    struct page pg = {out, 0}, *p = &pg;
    char title[300];
    snprintf(title, sizeof title, "Case %.200s", accession);
    page_head(p, title);
    say(p, "<p><a href=\"/status\">back to the status page</a></p>\n");
    struct case_ctx c = {p, 0, {{0}}, 0};
    int rc = store_report_of_accession(d->store, accession, case_report, &c);
    if (rc < 0) {
        say(p, "<p class=\"bad\">store: ");
        esc(p, store_error(d->store));
        say(p, "</p></body></html>\n");
        return -1;
    }
    if (c.n == 0) {
        say(p, "<p>No report was written for accession <b>");
        esc(p, accession);
        say(p, "</b>.</p></body></html>\n");
        return p->err ? -1 : 0;
    }
    for (int i = 0; i < c.npat; i++) {
        struct case_dead *cd = calloc(1, sizeof *cd);
        if (!cd) {
            p->err = 1;
            break;
        }
        cd->key = c.patients[i];
        if (store_dead_list(d->store, case_dead_one, cd) >= 0 && cd->found) {
            say(p, "<p class=\"bad\">Dead letter for ");
            esc(p, cd->key);
            say(p, ": ");
            esc(p, cd->error);
            say(p, "</p>\n");
        }
        free(cd);
        say(p, "<h2>Inputs of ");
        esc(p, c.patients[i]);
        say(p, " kept in the mirror</h2>\n<table><tr><th>resource</th><th>as kept</th></tr>\n");
        if (store_mirror_of_patient(d->store, c.patients[i], case_input, p) < 0) {
            say(p, "</table>\n<p class=\"bad\">store: ");
            esc(p, store_error(d->store));
            say(p, "</p>\n");
            rc = -1;
            continue;
        }
        say(p, "</table>\n");
    }
    say(p, "</body></html>\n");
    return p->err || rc < 0 ? -1 : 1;
}
