/*
 * metrics.c - the counters, histograms and /metrics text (metrics.h).
 * Pure functions on struct metrics and struct metrics_gauges but for
 * metrics_process_read, which reads /proc/self. The text is built in a
 * growing buffer; every metric has its # HELP and # TYPE line.
 */
#include "metrics.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* FHIR requests: 5 ms .. 60 s. */
static const double fhir_bounds[METRICS_NBUCKET] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                    0.5,   1,    2.5,   5,    10,  60};
/* A case, last input to report accepted: settle (seconds) .. hours (held
 * for missing inputs until work.preliminary_after). */
static const double case_bounds[METRICS_NBUCKET] = {0.5, 1,   2,    5,    10,   30,
                                                    60,  300, 900, 3600, 14400, 86400};

static const char *const kind_names[METRICS_NKIND] = {"read", "search", "transaction",
                                                      "subscription", "write"};
static const char *const class_names[METRICS_NCLASS] = {"2xx", "3xx", "4xx", "5xx",
                                                        "transport"};
static const char *const refusal_names[METRICS_NREFUSAL] = {
    "auth", "invalid", "method", "store", "framing", "too_large", "busy"};

void metrics_init(struct metrics *m)
{
    memset(m, 0, sizeof *m);
    for (int k = 0; k < METRICS_NKIND; k++)
        m->fhir_seconds[k].bounds = fhir_bounds;
    m->case_seconds.bounds = case_bounds;
}

/* 1 if a segment of the URL's path (after scheme://host) is "Subscription". */
static int url_names_subscription(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : url;
    if (!p)
        return 0;
    size_t n = strcspn(p, "?#");
    for (size_t i = 0; i < n;) {
        while (i < n && p[i] == '/')
            i++;
        size_t seg = i;
        while (i < n && p[i] != '/')
            i++;
        if (i - seg == 12 && strncmp(p + seg, "Subscription", 12) == 0)
            return 1;
    }
    return 0;
}

enum metrics_kind metrics_kind_of(const char *method, const char *url)
{
    if (!method)
        method = "";
    if (!url)
        url = "";
    if (url_names_subscription(url))
        return METRICS_SUBSCRIPTION;
    if (strcasecmp(method, "GET") == 0 || strcasecmp(method, "HEAD") == 0)
        return strchr(url, '?') ? METRICS_SEARCH : METRICS_READ;
    if (strcasecmp(method, "POST") == 0)
        return METRICS_TRANSACTION;
    if (strcasecmp(method, "PUT") == 0 || strcasecmp(method, "DELETE") == 0 ||
        strcasecmp(method, "PATCH") == 0)
        return METRICS_WRITE; /* a report's resources one at a time (issue 13 item 3) */
    return METRICS_READ;
}

enum metrics_class metrics_class_of(long status)
{
    if (status >= 200 && status < 300)
        return METRICS_2XX;
    if (status >= 300 && status < 400)
        return METRICS_3XX;
    if (status >= 400 && status < 500)
        return METRICS_4XX;
    if (status >= 500 && status < 600)
        return METRICS_5XX;
    return METRICS_TRANSPORT; /* 0, or nonsense from the wire */
}

int metrics_contact_ok(long status)
{
    if (status < 100 || status >= 500)
        return 0;
    return status != 401 && status != 403 && status != 407;
}

void metrics_observe(struct metrics_histogram *h, double v)
{
    if (v < 0)
        v = 0;
    for (int i = 0; i < METRICS_NBUCKET; i++)
        if (v <= h->bounds[i]) {
            h->counts[i]++;
            break;
        }
    h->count++;
    h->sum += v;
}

void metrics_fhir_request(struct metrics *m, const char *method, const char *url, long status,
                          const char *error, double seconds, int64_t now_ms)
{
    enum metrics_kind k = metrics_kind_of(method, url);
    m->fhir[k][metrics_class_of(status)]++;
    metrics_observe(&m->fhir_seconds[k], seconds);
    m->requests_done++;
    if (metrics_contact_ok(status)) {
        m->last_ok_ms = now_ms;
        return;
    }
    m->last_fail_ms = now_ms;
    if (status)
        snprintf(m->last_fail, sizeof m->last_fail, "%s %.150s answered HTTP %ld",
                 method ? method : "", url ? url : "", status);
    else
        snprintf(m->last_fail, sizeof m->last_fail, "%s %.100s: %.120s", method ? method : "",
                 url ? url : "", error && error[0] ? error : "no response");
}

/* ---- /proc/self ---- */

int metrics_process_read(struct metrics_gauges *g)
{
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return -1;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* fields after the command name, which is in parentheses and may hold spaces */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long utime = 0, stime = 0;
    unsigned long long starttime = 0;
    long rss = 0;
    /* state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime(14) stime(15) cutime cstime priority nice threads itreal
     * starttime(22) vsize rss(24) */
    if (sscanf(p + 1,
               " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d "
               "%llu %*u %ld",
               &utime, &stime, &starttime, &rss) != 4)
        return -1;
    long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    if (tick <= 0)
        tick = 100;
    if (page <= 0)
        page = 4096;
    g->cpu_seconds = (double)(utime + stime) / (double)tick;
    g->resident_bytes = (double)rss * (double)page;
    /* start time: boot time (btime of /proc/stat) + starttime ticks */
    FILE *s = fopen("/proc/stat", "r");
    if (s) {
        char line[256];
        while (fgets(line, sizeof line, s)) {
            unsigned long long btime;
            if (sscanf(line, "btime %llu", &btime) == 1) {
                g->start_time_s = (double)btime + (double)starttime / (double)tick;
                break;
            }
        }
        fclose(s);
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        long fds = 0;
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.')
                fds++;
        closedir(d);
        g->open_fds = fds - 1; /* the directory stream's own fd */
    }
    return 0;
}

/* ---- the text ---- */

struct mbuf {
    char *s;
    size_t len, cap;
    int oom;
};

static void put(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct mbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n + 1;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

/* # HELP and # TYPE of name. */
static void head(struct mbuf *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one_ul(struct mbuf *b, const char *name, const char *type, const char *help,
                   unsigned long v)
{
    head(b, name, type, help);
    put(b, "%s %lu\n", name, v);
}

static void one_d(struct mbuf *b, const char *name, const char *type, const char *help, double v)
{
    head(b, name, type, help);
    put(b, "%s %.17g\n", name, v);
}

/* The sample lines of h under name, labels ("" or `kind="read"`). */
static void histogram(struct mbuf *b, const char *name, const char *labels,
                      const struct metrics_histogram *h)
{
    unsigned long cum = 0;
    const char *sep = labels[0] ? "," : "";
    for (int i = 0; i < METRICS_NBUCKET; i++) {
        cum += h->counts[i];
        put(b, "%s_bucket{%s%sle=\"%g\"} %lu\n", name, labels, sep, h->bounds[i], cum);
    }
    put(b, "%s_bucket{%s%sle=\"+Inf\"} %lu\n", name, labels, sep, h->count);
    if (labels[0]) {
        put(b, "%s_sum{%s} %.17g\n", name, labels, h->sum);
        put(b, "%s_count{%s} %lu\n", name, labels, h->count);
    } else {
        put(b, "%s_sum %.17g\n%s_count %lu\n", name, h->sum, name, h->count);
    }
}

/* A label value with \, " and newline escaped (the version string). */
static void label_value(char *out, size_t len, const char *v)
{
    size_t o = 0;
    for (; v && *v && o + 3 < len; v++) {
        if (*v == '\\' || *v == '"' || *v == '\n') {
            out[o++] = '\\';
            out[o++] = *v == '\n' ? 'n' : *v;
        } else {
            out[o++] = *v;
        }
    }
    out[o] = '\0';
}

char *metrics_render(const struct metrics *m, const struct metrics_gauges *g)
{
    struct mbuf b = {malloc(8192), 0, 8192, 0};
    if (!b.s)
        return NULL;
    b.s[0] = '\0';
    char ver[128];
    label_value(ver, sizeof ver, g->version ? g->version : "");
    head(&b, "nenfhir_build_info", "gauge", "The running nenfhir's version (always 1)");
    put(&b, "nenfhir_build_info{version=\"%s\"} 1\n", ver);
    one_ul(&b, "nenfhir_healthy", "gauge", "1 when /healthz answers 200 (store writable, "
           "Subscription in place, server contact recent)", (unsigned long)(g->healthy != 0));
    one_ul(&b, "nenfhir_ready", "gauge", "1 when /readyz answers 200 (started, not draining)",
           (unsigned long)(g->ready != 0));
    one_d(&b, "nenfhir_fhir_last_contact_age_seconds", "gauge",
          "Seconds since the last successful contact with the FHIR server (-1: none yet)",
          g->seconds_since_contact);

    if (g->write_mode) { /* issue 13 item 3 */
        head(&b, "nenfhir_write_mode", "gauge", "How reports are written (always 1): "
             "conditional (PUT Type?identifier=...), client-id (PUT Type/<uuid>), or undecided "
             "(server.write_mode = auto before the CapabilityStatement is read)");
        put(&b, "nenfhir_write_mode{mode=\"%s\"} 1\n", g->write_mode);
        one_ul(&b, "nenfhir_write_single", "gauge", "1 when conditional writes go one resource "
               "at a time, in order (the server refuses them as one transaction)",
               (unsigned long)(g->write_single != 0));
    }

    /* notifications */
    one_ul(&b, "nenfhir_notifications_total", "counter",
           "Notifications accepted and stored (answered 200)", m->accepted);
    unsigned long refused = 0;
    for (int i = 0; i < METRICS_NREFUSAL; i++)
        refused += m->refused[i];
    one_ul(&b, "nenfhir_notifications_refused_total", "counter",
           "Notifications refused, every reason (see nenfhir_notifications_by_outcome_total)",
           refused);
    head(&b, "nenfhir_notifications_by_outcome_total", "counter",
         "Notifications by outcome: accepted, or refused with a reason class (auth: 401/403 "
         "secret or HMAC, invalid: 400, method: 405, store: 503 not recorded, framing: 400 "
         "ambiguous framing, too_large: 413 over listen.max_entries, busy: connection closed "
         "while read, listen.max_inflight_bytes passed)");
    put(&b, "nenfhir_notifications_by_outcome_total{outcome=\"accepted\",reason=\"\"} %lu\n",
        m->accepted);
    for (int i = 0; i < METRICS_NREFUSAL; i++)
        put(&b, "nenfhir_notifications_by_outcome_total{outcome=\"refused\",reason=\"%s\"} %lu\n",
            refusal_names[i], m->refused[i]);
    static const char *const style_names[METRICS_NSTYLE] = {"ping", "put", "post", "backport"};
    head(&b, "nenfhir_notifications_by_style_total", "counter",
         "Notifications accepted, by delivery style (ping: bodiless POST; put: HAPI PUT/DELETE "
         "{endpoint}/Type/id; post: the resource POSTed (Medplum); backport: a history Bundle)");
    for (int i = 0; i < METRICS_NSTYLE; i++)
        put(&b, "nenfhir_notifications_by_style_total{style=\"%s\"} %lu\n", style_names[i],
            m->by_style[i]);
    one_ul(&b, "nenfhir_auth_failures_total", "counter",
           "Notifications refused for a missing or wrong secret or HMAC (401/403)",
           m->refused[METRICS_REFUSED_AUTH]);
    one_ul(&b, "nenfhir_tls_handshake_failures_total", "counter",
           "TLS handshakes on the listener that failed (nenfhir sent a fatal alert)",
           m->tls_failures);
    one_ul(&b, "nenfhir_tls_client_cert_refused_total", "counter",
           "TLS handshakes refused for the client certificate (missing, unknown CA, expired, "
           "bad)", m->tls_client_cert_refused);

    /* the listener's guard (issue 12 item 7) */
    one_ul(&b, "nenfhir_listen_connections_total", "counter",
           "Connections the listener took (within listen.max_connections)", m->conn_accepted);
    head(&b, "nenfhir_listen_connections_refused_total", "counter",
         "Connections closed at once: over listen.max_connections (cap) or "
         "listen.max_connections_per_peer (peer)");
    put(&b, "nenfhir_listen_connections_refused_total{reason=\"cap\"} %lu\n",
        m->conn_refused_cap);
    put(&b, "nenfhir_listen_connections_refused_total{reason=\"peer\"} %lu\n",
        m->conn_refused_peer);
    one_ul(&b, "nenfhir_listen_request_timeouts_total", "counter",
           "Connections closed because a request was not complete within listen.request_timeout",
           m->request_timeouts);
    one_ul(&b, "nenfhir_listen_connections_open", "gauge", "Connections open on the listener now",
           (unsigned long)(m->conn_open > 0 ? m->conn_open : 0));
    one_ul(&b, "nenfhir_listen_inflight_bytes", "gauge",
           "Request bytes held now, counted against listen.max_inflight_bytes",
           (unsigned long)(m->inflight_bytes > 0 ? m->inflight_bytes : 0));

    /* FHIR requests */
    head(&b, "nenfhir_fhir_requests_total", "counter",
         "Requests to the FHIR server by kind and status class (transport: no response)");
    for (int k = 0; k < METRICS_NKIND; k++)
        for (int c = 0; c < METRICS_NCLASS; c++)
            put(&b, "nenfhir_fhir_requests_total{kind=\"%s\",class=\"%s\"} %lu\n",
                kind_names[k], class_names[c], m->fhir[k][c]);
    head(&b, "nenfhir_fhir_request_duration_seconds", "histogram",
         "Duration of requests to the FHIR server by kind");
    for (int k = 0; k < METRICS_NKIND; k++) {
        char l[48];
        snprintf(l, sizeof l, "kind=\"%s\"", kind_names[k]);
        histogram(&b, "nenfhir_fhir_request_duration_seconds", l, &m->fhir_seconds[k]);
    }
    head(&b, "nenfhir_case_latency_seconds", "histogram",
         "From the last input of a case to its report accepted by the server");
    histogram(&b, "nenfhir_case_latency_seconds", "", &m->case_seconds);

    /* the pipeline */
    one_ul(&b, "nenfhir_reports_written_total", "counter",
           "Report transactions the server accepted", g->reports_written);
    one_ul(&b, "nenfhir_reports_unchanged_total", "counter",
           "Recomputations that wrote nothing: the result did not change (I8)", g->unchanged);
    one_ul(&b, "nenfhir_write_retries_total", "counter",
           "Failed case runs to be retried with backoff (I9)", g->retries);
    one_ul(&b, "nenfhir_dead_letters_total", "counter",
           "Cases sent to dead letter since start (I9)", g->dead_total);
    one_ul(&b, "nenfhir_catchups_total", "counter", "Catch-up or poll rounds completed",
           g->catchups);
    one_ul(&b, "nenfhir_queue_jobs", "gauge", "Cases queued (not dead)",
           (unsigned long)(g->queued > 0 ? g->queued : 0));
    one_ul(&b, "nenfhir_queue_dead", "gauge", "Dead letters in the store",
           (unsigned long)(g->dead > 0 ? g->dead : 0));
    one_ul(&b, "nenfhir_queue_resolving", "gauge",
           "Id-only changes waiting to be read from the server",
           (unsigned long)(g->resolving > 0 ? g->resolving : 0));
    one_d(&b, "nenfhir_queue_oldest_job_age_seconds", "gauge",
          "Age of the oldest queued case, from its first input (0: queue empty)",
          g->oldest_job_age_s);
    one_ul(&b, "nenfhir_cases_in_flight", "gauge", "Cases being computed or written now",
           (unsigned long)(g->in_flight > 0 ? g->in_flight : 0));
    one_ul(&b, "nenfhir_cases_held_total", "counter",
           "Case computations held for missing inputs (written preliminary after "
           "work.preliminary_after)", g->held);
    one_ul(&b, "nenfhir_inputs_not_kept_total", "counter",
           "Observations whose code is no input: not kept, no case queued", g->not_kept);
    one_ul(&b, "nenfhir_mirror_resources", "gauge", "Input resources kept in the store",
           (unsigned long)(g->mirrored > 0 ? g->mirrored : 0));
    one_ul(&b, "nenfhir_store_bytes", "gauge",
           "Size of the SQLite database (page_count * page_size; [store] keep_* prune it)",
           (unsigned long)(g->store_bytes > 0 ? g->store_bytes : 0));
    one_ul(&b, "nenfhir_report_cases", "gauge",
           "Cases (specimen accessions) with a report in the store",
           (unsigned long)(g->report_cases > 0 ? g->report_cases : 0));
    one_ul(&b, "nenfhir_report_writes", "gauge",
           "Report transactions recorded for those cases, all time (writes per case = this / "
           "nenfhir_report_cases)", (unsigned long)(g->report_writes > 0 ? g->report_writes : 0));

    /* the process */
    one_d(&b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes",
          g->resident_bytes);
    one_d(&b, "process_cpu_seconds_total", "counter", "User and system CPU time in seconds",
          g->cpu_seconds);
    one_ul(&b, "process_open_fds", "gauge", "Open file descriptors",
           (unsigned long)(g->open_fds > 0 ? g->open_fds : 0));
    one_d(&b, "process_start_time_seconds", "gauge",
          "Start time of the process since the epoch in seconds", g->start_time_s);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

enum metrics_style metrics_style_of(const char *method, int backport, size_t body_len)
{
    if (backport)
        return METRICS_STYLE_BACKPORT;
    if (strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0)
        return METRICS_STYLE_PUT;
    return body_len ? METRICS_STYLE_POST : METRICS_STYLE_PING;
}
