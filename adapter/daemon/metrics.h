/*
 * metrics.h - the daemon's Prometheus metrics (issue 14 item 3): the
 * counters the listener keeps (notifications by outcome, FHIR requests by
 * kind and status class, TLS and auth failures), two latency histograms
 * (FHIR requests; a case from its first queued input to its report accepted
 * by the server), the process's own figures (/proc/self) and the text of
 * /metrics, every metric with # HELP and # TYPE. Nothing here touches the
 * event loop or the store: the caller gathers the gauges (struct
 * metrics_gauges) and metrics_render builds the text, so a unit test can
 * check it.
 * Owns: struct metrics (plain counters, embedded in the listener's state)
 * and the string metrics_render returns (caller frees).
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Kinds of FHIR requests (nenfhir_fhir_requests_total{kind}). */
enum metrics_kind {
    METRICS_READ,          /* GET of one resource or of metadata */
    METRICS_SEARCH,        /* GET with a query (a search, a next page) */
    METRICS_TRANSACTION,   /* POST of a Bundle to the base (a report) */
    METRICS_SUBSCRIPTION,  /* anything on Subscription (search, create, update) */
    METRICS_WRITE,         /* issue 13 item 3: PUT or DELETE of another resource (a report
                              written one resource at a time) */
    METRICS_NKIND
};

/* Status classes (nenfhir_fhir_requests_total{class}). */
enum metrics_class {
    METRICS_2XX,
    METRICS_3XX,
    METRICS_4XX,
    METRICS_5XX,
    METRICS_TRANSPORT,     /* no response: connection, TLS, timeout, too large */
    METRICS_NCLASS
};

/* Why a notification was refused (nenfhir_notifications_refused_by_reason_total). */
enum metrics_refusal {
    METRICS_REFUSED_AUTH,     /* 401/403: secret or HMAC */
    METRICS_REFUSED_INVALID,  /* 400: unreadable */
    METRICS_REFUSED_METHOD,   /* 405 */
    METRICS_REFUSED_STORE,    /* 503: the store could not record it */
    METRICS_REFUSED_FRAMING,  /* 400, closed: ambiguous framing (issue 12 item 7) */
    METRICS_REFUSED_TOO_LARGE,/* 413: over listen.max_entries */
    METRICS_REFUSED_BUSY,     /* closed while read: listen.max_inflight_bytes passed */
    METRICS_NREFUSAL
};

#define METRICS_NBUCKET 12

/* A cumulative histogram over fixed upper bounds (seconds). */
struct metrics_histogram {
    const double *bounds;              /* METRICS_NBUCKET upper bounds, ascending */
    unsigned long counts[METRICS_NBUCKET]; /* observations <= bounds[i] (not cumulative) */
    unsigned long count;               /* all observations (+Inf) */
    double sum;
};

/* The delivery style of an accepted notification
 * (nenfhir_notifications_by_style_total{style}). */
enum metrics_style {
    METRICS_STYLE_PING,       /* bodiless POST (empty payload): a catch-up */
    METRICS_STYLE_PUT,        /* HAPI: PUT/DELETE {endpoint}/Type/id */
    METRICS_STYLE_POST,       /* POST of the resource (Medplum, full resource) */
    METRICS_STYLE_BACKPORT,   /* Backport history Bundle with a SubscriptionStatus */
    METRICS_NSTYLE
};

/* The style of a notification from its method and what parsing found. */
enum metrics_style metrics_style_of(const char *method, int backport, size_t body_len);

struct metrics {
    unsigned long accepted;                        /* notifications stored */
    unsigned long by_style[METRICS_NSTYLE];        /* ... of them, per delivery style */
    unsigned long refused[METRICS_NREFUSAL];
    unsigned long fhir[METRICS_NKIND][METRICS_NCLASS];
    struct metrics_histogram fhir_seconds[METRICS_NKIND];
    struct metrics_histogram case_seconds;         /* last input -> report accepted */
    unsigned long tls_failures;                    /* handshakes that failed (alert sent) */
    unsigned long tls_client_cert_refused;         /* ... of them: client certificate */
    /* the listener's guard (listener_guard.h, issue 12 item 7) */
    unsigned long conn_accepted;                   /* connections taken */
    unsigned long conn_refused_cap;                /* closed at once: listen.max_connections */
    unsigned long conn_refused_peer;               /* ... listen.max_connections_per_peer */
    unsigned long request_timeouts;                /* closed at listen.request_timeout */
    long conn_open;                                /* gauge: connections open now */
    long inflight_bytes;                           /* gauge: request bytes counted now */
    /* the last contact with the FHIR server (metrics_fhir_request) */
    unsigned long requests_done;                   /* finished requests since start */
    int64_t last_ok_ms;                            /* last answer counted as contact; 0 none */
    int64_t last_fail_ms;                          /* last failed one; 0 none */
    char last_fail[256];                           /* what failed then */
};

/* Values the caller gathers from the other modules for metrics_render. */
struct metrics_gauges {
    const char *version;
    unsigned long reports_written, unchanged, retries, dead_total, held, catchups, not_kept;
    int queued, dead, resolving, in_flight;
    double oldest_job_age_s;          /* 0 when the queue is empty */
    long mirrored, report_cases, report_writes;
    int64_t store_bytes;           /* the database's size (page_count * page_size) */
    int healthy, ready;               /* /healthz and /readyz would answer 200 */
    double seconds_since_contact;     /* -1: no contact yet */
    const char *write_mode;           /* issue 13 item 3: "conditional", "client-id",
                                         "undecided"; NULL: not shown */
    int write_single;                 /* conditional writes go one resource at a time */
    /* process (metrics_process_read) */
    double resident_bytes, cpu_seconds, start_time_s;
    long open_fds;
};

/* Zero m and set the histograms' bounds. */
void metrics_init(struct metrics *m);

/* The kind of a request from its method and absolute URL. */
enum metrics_kind metrics_kind_of(const char *method, const char *url);
/* The class of status (0: transport). */
enum metrics_class metrics_class_of(long status);
/* 1 if an answer with status counts as a successful contact with the
 * server: any status but 5xx, 401, 403, 407 (0, a transport error: no). */
int metrics_contact_ok(long status);

/* Add v (seconds) to h. */
void metrics_observe(struct metrics_histogram *h, double v);

/* One finished FHIR request at now_ms: counted by kind and class, its
 * duration observed, the last contact updated (error: the transport
 * error's text, "" with a status). */
void metrics_fhir_request(struct metrics *m, const char *method, const char *url, long status,
                          const char *error, double seconds, int64_t now_ms);

/* Resident memory, CPU seconds, start time and open fds of this process
 * from /proc/self; a figure that cannot be read is left as it was (0 after
 * a zeroed struct). Returns 0, or -1 when /proc/self/stat is unreadable. */
int metrics_process_read(struct metrics_gauges *g);

/* The /metrics text (Prometheus text format 0.0.4) of m and g: a string the
 * caller frees, or NULL out of memory. */
char *metrics_render(const struct metrics *m, const struct metrics_gauges *g);

#endif
