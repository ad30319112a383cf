/*
 * test_metrics.c - issue 14 items 3 and 5 without the event loop: request
 * kinds and status classes, the last contact, histograms, the /metrics
 * text (every metric has # HELP and # TYPE, sample lines parse, the old
 * names stay), the process figures from /proc/self, and the status page's
 * HTML escaping.
 */
#include "metrics.h"
#include "status_page.h"
#include "test_util.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_kinds(void)
{
    const char *b = "https://h:8/fhir";
    char u[200];
    CU_ASSERT_EQUAL(metrics_kind_of("GET", "https://h:8/fhir/Observation/1"), METRICS_READ);
    CU_ASSERT_EQUAL(metrics_kind_of("GET", "https://h:8/fhir/metadata"), METRICS_READ);
    CU_ASSERT_EQUAL(metrics_kind_of("GET", "https://h:8/fhir/Observation?_lastUpdated=ge1"),
                    METRICS_SEARCH);
    CU_ASSERT_EQUAL(metrics_kind_of("POST", b), METRICS_TRANSACTION);
    snprintf(u, sizeof u, "%s/Subscription?_tag=x", b);
    CU_ASSERT_EQUAL(metrics_kind_of("GET", u), METRICS_SUBSCRIPTION);
    snprintf(u, sizeof u, "%s/Subscription", b);
    CU_ASSERT_EQUAL(metrics_kind_of("POST", u), METRICS_SUBSCRIPTION);
    snprintf(u, sizeof u, "%s/Subscription/abc", b);
    CU_ASSERT_EQUAL(metrics_kind_of("PUT", u), METRICS_SUBSCRIPTION);
    /* a query value naming Subscription is no Subscription request */
    CU_ASSERT_EQUAL(metrics_kind_of("GET", "https://h/fhir/Observation?x=/Subscription"),
                    METRICS_SEARCH);
    CU_ASSERT_EQUAL(metrics_kind_of("GET", "https://h/fhir/SubscriptionTopic/1"), METRICS_READ);
    CU_ASSERT_EQUAL(metrics_kind_of(NULL, NULL), METRICS_READ);
    /* issue 13 item 3: a report's resources written one at a time */
    CU_ASSERT_EQUAL(metrics_kind_of("PUT", "https://h/fhir/Observation?identifier=s%7Cv"),
                    METRICS_WRITE);

    CU_ASSERT_EQUAL(metrics_class_of(200), METRICS_2XX);
    CU_ASSERT_EQUAL(metrics_class_of(201), METRICS_2XX);
    CU_ASSERT_EQUAL(metrics_class_of(304), METRICS_3XX);
    CU_ASSERT_EQUAL(metrics_class_of(404), METRICS_4XX);
    CU_ASSERT_EQUAL(metrics_class_of(503), METRICS_5XX);
    CU_ASSERT_EQUAL(metrics_class_of(0), METRICS_TRANSPORT);
    CU_ASSERT_EQUAL(metrics_class_of(999), METRICS_TRANSPORT);

    CU_ASSERT_TRUE(metrics_contact_ok(200));
    CU_ASSERT_TRUE(metrics_contact_ok(404));
    CU_ASSERT_TRUE(metrics_contact_ok(412));
    CU_ASSERT_FALSE(metrics_contact_ok(401));
    CU_ASSERT_FALSE(metrics_contact_ok(403));
    CU_ASSERT_FALSE(metrics_contact_ok(500));
    CU_ASSERT_FALSE(metrics_contact_ok(0));
}

static void test_contact_and_histogram(void)
{
    struct metrics m;
    metrics_init(&m);
    metrics_fhir_request(&m, "GET", "https://h/fhir/metadata", 200, "", 0.003, 1000);
    CU_ASSERT_EQUAL(m.last_ok_ms, 1000);
    CU_ASSERT_EQUAL(m.fhir[METRICS_READ][METRICS_2XX], 1);
    metrics_fhir_request(&m, "POST", "https://h/fhir", 0, "Connection refused", 0.2, 2000);
    CU_ASSERT_EQUAL(m.last_ok_ms, 1000);
    CU_ASSERT_EQUAL(m.last_fail_ms, 2000);
    CU_ASSERT_PTR_NOT_NULL(strstr(m.last_fail, "Connection refused"));
    CU_ASSERT_EQUAL(m.fhir[METRICS_TRANSACTION][METRICS_TRANSPORT], 1);
    metrics_fhir_request(&m, "GET", "https://h/fhir/Observation/1", 401, "", 0.01, 3000);
    CU_ASSERT_EQUAL(m.last_ok_ms, 1000);
    CU_ASSERT_PTR_NOT_NULL(strstr(m.last_fail, "401"));
    CU_ASSERT_EQUAL(m.requests_done, 3);

    struct metrics_histogram *h = &m.case_seconds;
    metrics_observe(h, 0.1);      /* <= 0.5 */
    metrics_observe(h, 1);        /* <= 1 (bounds are inclusive) */
    metrics_observe(h, 1e9);      /* +Inf only */
    metrics_observe(h, -5);       /* a clock step: counted as 0 */
    CU_ASSERT_EQUAL(h->count, 4);
    CU_ASSERT_EQUAL(h->counts[0], 2);
    CU_ASSERT_EQUAL(h->counts[1], 1);
    CU_ASSERT_DOUBLE_EQUAL(h->sum, 1e9 + 1.1, 1e-3);
}

/* 1 if text has a line starting with prefix. */
static int has_line(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, prefix, n) == 0)
            return 1;
    return 0;
}

static void test_render(void)
{
    struct metrics m;
    metrics_init(&m);
    m.accepted = 7;
    m.refused[METRICS_REFUSED_AUTH] = 2;
    m.refused[METRICS_REFUSED_STORE] = 1;
    m.tls_client_cert_refused = 1;
    m.tls_failures = 3;
    metrics_fhir_request(&m, "POST", "https://h/fhir", 200, "", 0.04, 1000);
    metrics_observe(&m.case_seconds, 3);
    /* the delivery style of a notification */
    CU_ASSERT_EQUAL(metrics_style_of("PUT", 0, 100), METRICS_STYLE_PUT);
    CU_ASSERT_EQUAL(metrics_style_of("DELETE", 0, 0), METRICS_STYLE_PUT);
    CU_ASSERT_EQUAL(metrics_style_of("POST", 0, 0), METRICS_STYLE_PING);
    CU_ASSERT_EQUAL(metrics_style_of("POST", 0, 10), METRICS_STYLE_POST);
    CU_ASSERT_EQUAL(metrics_style_of("POST", 1, 10), METRICS_STYLE_BACKPORT);
    m.by_style[METRICS_STYLE_PUT] = 4;
    struct metrics_gauges g;
    memset(&g, 0, sizeof g);
    g.version = "1.2.3 \"beta\"";
    g.reports_written = 5;
    g.queued = 2;
    g.oldest_job_age_s = 12.5;
    g.report_cases = 4;
    g.report_writes = 6;
    g.store_bytes = 49152;
    g.healthy = 1;
    g.seconds_since_contact = -1;
    CU_ASSERT_EQUAL(metrics_process_read(&g), 0);
    CU_ASSERT_TRUE(g.resident_bytes > 0);
    CU_ASSERT_TRUE(g.open_fds >= 3);
    CU_ASSERT_TRUE(g.start_time_s > 1e9);
    char *t = metrics_render(&m, &g);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    /* the names the e2e tests and dashboards use */
    CU_ASSERT_TRUE(has_line(t, "nenfhir_notifications_total 7\n"));
    CU_ASSERT_TRUE(has_line(t, "nenfhir_notifications_refused_total 3\n"));
    CU_ASSERT_TRUE(has_line(t, "nenfhir_reports_written_total 5\n"));
    CU_ASSERT_TRUE(has_line(t, "nenfhir_queue_jobs 2\n"));
    CU_ASSERT_TRUE(has_line(t, "nenfhir_report_cases 4\n"));
    CU_ASSERT_TRUE(has_line(t, "nenfhir_report_writes 6\n"));
    CU_ASSERT_TRUE(has_line(t, "nenfhir_store_bytes 49152\n"));
    CU_ASSERT_TRUE(has_line(t, "nenfhir_notifications_by_style_total{style=\"put\"} 4\n"));
    CU_ASSERT_TRUE(has_line(t, "nenfhir_notifications_by_style_total{style=\"ping\"} 0\n"));
    CU_ASSERT_TRUE(has_line(t, "nenfhir_queue_oldest_job_age_seconds 12.5\n"));
    CU_ASSERT_TRUE(has_line(t, "nenfhir_build_info{version=\"1.2.3 \\\"beta\\\"\"} 1\n"));
    CU_ASSERT_TRUE(has_line(t,
        "nenfhir_notifications_by_outcome_total{outcome=\"refused\",reason=\"auth\"} 2\n"));
    CU_ASSERT_TRUE(has_line(t, "nenfhir_auth_failures_total 2\n"));
    CU_ASSERT_TRUE(has_line(t, "nenfhir_tls_client_cert_refused_total 1\n"));
    CU_ASSERT_TRUE(has_line(t,
        "nenfhir_fhir_requests_total{kind=\"transaction\",class=\"2xx\"} 1\n"));
    CU_ASSERT_TRUE(has_line(t,
        "nenfhir_fhir_request_duration_seconds_bucket{kind=\"transaction\",le=\"0.05\"} 1\n"));
    CU_ASSERT_TRUE(has_line(t,
        "nenfhir_fhir_request_duration_seconds_bucket{kind=\"transaction\",le=\"0.025\"} 0\n"));
    CU_ASSERT_TRUE(has_line(t, "nenfhir_case_latency_seconds_bucket{le=\"5\"} 1\n"));
    CU_ASSERT_TRUE(has_line(t, "nenfhir_case_latency_seconds_bucket{le=\"+Inf\"} 1\n"));
    CU_ASSERT_TRUE(has_line(t, "nenfhir_case_latency_seconds_count 1\n"));
    CU_ASSERT_TRUE(has_line(t, "process_open_fds "));
    CU_ASSERT_TRUE(has_line(t, "process_resident_memory_bytes "));
    CU_ASSERT_TRUE(has_line(t, "process_cpu_seconds_total "));

    /* every sample's metric has # HELP and # TYPE before it, once each */
    char *copy = strdup(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
    char helped[200][96];
    int nh = 0, samples = 0;
    char *save = NULL;
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char name[96];
        if (strncmp(l, "# HELP ", 7) == 0) {
            CU_ASSERT_EQUAL(sscanf(l + 7, "%95s", name), 1);
            for (int i = 0; i < nh; i++)
                CU_ASSERT_NOT_EQUAL(strcmp(helped[i], name), 0);
            CU_ASSERT_FATAL(nh < 200);
            snprintf(helped[nh++], sizeof helped[0], "%s", name);
            continue;
        }
        if (strncmp(l, "# TYPE ", 7) == 0) {
            char type[32];
            CU_ASSERT_EQUAL(sscanf(l + 7, "%95s %31s", name, type), 2);
            CU_ASSERT_TRUE(nh > 0 && strcmp(helped[nh - 1], name) == 0);
            CU_ASSERT_TRUE(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
                           strcmp(type, "histogram") == 0);
            continue;
        }
        CU_ASSERT_NOT_EQUAL(l[0], '#');
        size_t n = strcspn(l, "{ ");
        snprintf(name, sizeof name, "%.*s", (int)n, l);
        /* a histogram's series belong to its base name */
        const char *sfx[] = {"_bucket", "_sum", "_count"};
        int found = 0;
        for (int i = 0; i < nh && !found; i++) {
            if (strcmp(helped[i], name) == 0)
                found = 1;
            for (int k = 0; k < 3 && !found; k++) {
                size_t hl = strlen(helped[i]);
                if (strncmp(name, helped[i], hl) == 0 && strcmp(name + hl, sfx[k]) == 0)
                    found = 1;
            }
        }
        if (!found)
            fprintf(stderr, "no # HELP for %s\n", name);
        CU_ASSERT_TRUE(found);
        /* the value parses as a number */
        const char *v = strrchr(l, ' ');
        CU_ASSERT_PTR_NOT_NULL_FATAL(v);
        char *end = NULL;
        (void)strtod(v + 1, &end);
        CU_ASSERT_TRUE(end && *end == '\0' && end != v + 1);
        samples++;
    }
    CU_ASSERT_TRUE(samples > 60);
    free(copy);
    free(t);
}

static void test_escape(void)
{
    struct evbuffer *b = evbuffer_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(status_html_escape(b, "S26-1 <script>alert('x')</script> & \"q\""), 0);
    CU_ASSERT_EQUAL(status_html_escape(b, NULL), 0);
    CU_ASSERT_EQUAL(status_html_escape(b, "|plain"), 0);
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(evbuffer_remove(b, s, n), (int)n);
    s[n] = '\0';
    CU_ASSERT_STRING_EQUAL(s, "S26-1 &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
                              "&quot;q&quot;|plain");
    free(s);
    evbuffer_free(b);
}

int main(void)
{
    CU_TestInfo tests[] = {{"request kinds, status classes, contact", test_kinds},
                           {"last contact and histograms", test_contact_and_histogram},
                           {"/metrics text: HELP and TYPE for every metric", test_render},
                           {"status page: HTML escaping", test_escape},
                           CU_TEST_INFO_NULL};
    return test_run_suite("metrics", tests);
}
