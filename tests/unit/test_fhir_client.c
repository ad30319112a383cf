/*
 * test_fhir_client.c - credentials only to their origin (fhir_client.h,
 * design.md, interop.md I15, I16), without a network: the base checked by
 * curl's URL parser (a user part such as https://127.0.0.1:80@other.host/
 * refused, http only to loopback when allowed), URLs built by
 * fhir_client_url (every query value escaped, path segments checked against
 * FHIR's id grammar, so "Patient/1,Patient/2" never becomes an OR-search),
 * and an absolute URL (a server's next link) requested only under the base:
 * same scheme, host, port, under its path, no user part. A refused request
 * returns FHIR_CLIENT_EURL and never calls its callback; an allowed one is
 * queued (and cancelled when the client is freed).
 */
#include "test_util.h"

#include "fhir_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int calls;        /* callbacks seen */
static char last_error[128];

static void count_cb(void *ctx, const struct fhir_response *r)
{
    (void)ctx;
    calls++;
    snprintf(last_error, sizeof last_error, "%s", r->error);
}

static struct fhir_client *client(const char *base, int allow_http)
{
    struct fhir_client_opts o = {base, NULL, NULL, NULL, "secret-token", 5, 0, "test",
                                 allow_http};
    char err[512] = "";
    struct fhir_client *c = fhir_client_new(&o, err, sizeof err);
    if (!c)
        fprintf(stderr, "\n  client for %s: %s\n", base, err);
    return c;
}

/* ---- the base ---- */

static void check_base_refused(const char *base, int allow_http, const char *want)
{
    char err[700] = "";
    CU_ASSERT_EQUAL(fhir_client_check_base(base, allow_http, err, sizeof err), -1);
    if (!strstr(err, want))
        fprintf(stderr, "\n  %s: got '%s', want '%s'\n", base, err, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    struct fhir_client_opts o = {base, NULL, NULL, NULL, "secret-token", 5, 0, "test",
                                 allow_http};
    struct fhir_client *c = fhir_client_new(&o, err, sizeof err);
    CU_ASSERT_PTR_NULL(c);
    fhir_client_free(c);
}

static void test_base(void)
{
    char err[700];
    CU_ASSERT_EQUAL(fhir_client_check_base("https://fhir.example/fhir", 0, err, sizeof err), 0);
    CU_ASSERT_EQUAL(fhir_client_check_base("https://fhir.example:9443/", 0, err, sizeof err), 0);
    CU_ASSERT_EQUAL(fhir_client_check_base("http://127.0.0.1:8080/fhir", 1, err, sizeof err), 0);
    CU_ASSERT_EQUAL(fhir_client_check_base("http://[::1]:8080/fhir", 1, err, sizeof err), 0);
    CU_ASSERT_EQUAL(fhir_client_check_base("http://LocalHost/fhir", 1, err, sizeof err), 0);
    check_base_refused("https://127.0.0.1:80@other.host/", 0,
                       "'https://127.0.0.1:80@other.host/' has a user part (before '@'), which "
                       "would send the requests to other.host: refused");
    check_base_refused("http://127.0.0.1:80@other.host/fhir", 1, "has a user part");
    check_base_refused("https://user@fhir.example/fhir", 0, "has a user part");
    check_base_refused("https://fhir.example/fhir?x=1", 0, "has a query or fragment");
    check_base_refused("https://fhir.example/fhir#top", 0, "has a query or fragment");
    check_base_refused("http://fhir.example/fhir", 0, "must start with https://");
    check_base_refused("http://127.0.0.1/fhir", 0, "must start with https://");
    check_base_refused("http://127.0.0.1.evil.example/fhir", 1,
                       "http:// is allowed only to a loopback host");
    check_base_refused("ftp://fhir.example/fhir", 1, "");
    check_base_refused("not a url", 0, "is not a valid URL");
}

/* ---- building URLs ---- */

static void check_url(struct fhir_client *c, const char *path, const char *const *params,
                      size_t n, const char *want)
{
    char err[700] = "";
    char *u = fhir_client_url(c, path, params, n, err, sizeof err);
    if (!u || strcmp(u, want) != 0)
        fprintf(stderr, "\n  got:  %s (%s)\n  want: %s\n", u ? u : "NULL", err, want);
    CU_ASSERT_PTR_NOT_NULL(u);
    if (u)
        CU_ASSERT_STRING_EQUAL(u, want);
    free(u);
}

static void check_path_refused(struct fhir_client *c, const char *path)
{
    char err[700] = "";
    char *u = fhir_client_url(c, path, NULL, 0, err, sizeof err);
    CU_ASSERT_PTR_NULL(u);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "is not a FHIR path"));
    free(u);
    /* and a request to it is refused too, without a callback */
    calls = 0;
    CU_ASSERT_EQUAL(fhir_client_request(c, "GET", path, NULL, 0, NULL, count_cb, NULL),
                    FHIR_CLIENT_EURL);
    CU_ASSERT_EQUAL(calls, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(fhir_client_error(c), "is not a FHIR path"));
}

static void test_url(void)
{
    struct fhir_client *c = client("https://fhir.example:9443/r4/fhir/", 0);
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT_STRING_EQUAL(fhir_client_base(c), "https://fhir.example:9443/r4/fhir");
    check_url(c, "", NULL, 0, "https://fhir.example:9443/r4/fhir");
    check_url(c, "metadata", NULL, 0, "https://fhir.example:9443/r4/fhir/metadata");
    check_url(c, "Patient/abc-1.2", NULL, 0, "https://fhir.example:9443/r4/fhir/Patient/abc-1.2");
    check_url(c, "Observation/1/_history/2", NULL, 0,
              "https://fhir.example:9443/r4/fhir/Observation/1/_history/2");
    /* every value escaped: '|' ',' ':' '/' '+' '&' '=' '#' and blanks */
    const char *const search[] = {"subject", "Patient/1,Patient/2",
                                  "_lastUpdated", "ge2026-11-30T10:00:00.000+01:00",
                                  "code", "http://loinc.org|29593-1",
                                  "note", "a b&c=d#e",
                                  "_count", "100"};
    check_url(c, "Observation", search, 5,
              "https://fhir.example:9443/r4/fhir/Observation?subject=Patient%2f1%2cPatient%2f2"
              "&_lastUpdated=ge2026-11-30T10%3a00%3a00.000%2b01%3a00"
              "&code=http%3a%2f%2floinc.org%7c29593-1&note=a+b%26c%3dd%23e&_count=100");
    /* a case key that is no FHIR id never reaches a URL */
    check_path_refused(c, "Patient/1,Patient/2");
    check_path_refused(c, "Patient/1?x=2");
    check_path_refused(c, "Patient/..");
    check_path_refused(c, "Patient/.");
    check_path_refused(c, "../admin");
    check_path_refused(c, "//evil.example/fhir");
    check_path_refused(c, "Patient//1");
    check_path_refused(c, "Patient/a b");
    check_path_refused(c, "Patient/"
                          "0123456789012345678901234567890123456789012345678901234567890123x");
    check_path_refused(c, "Observation?subject=Patient/1"); /* queries: fhir_client_url */
    /* a bad parameter name */
    char err[700];
    const char *const bad[] = {"a b", "1"};
    CU_ASSERT_PTR_NULL(fhir_client_url(c, "Observation", bad, 1, err, sizeof err));
    fhir_client_free(c);
}

/* ---- URLs handed back by the server ---- */

static void check_refused(struct fhir_client *c, const char *url)
{
    char err[700] = "";
    int before = fhir_client_pending(c), calls_before = calls;
    int rc = fhir_client_request(c, "GET", url, NULL, 0, NULL, count_cb, NULL);
    if (rc != FHIR_CLIENT_EURL)
        fprintf(stderr, "\n  %s: not refused (%d)\n", url, rc);
    CU_ASSERT_EQUAL(rc, FHIR_CLIENT_EURL);
    CU_ASSERT_EQUAL(calls, calls_before);
    CU_ASSERT_EQUAL(fhir_client_pending(c), before);
    CU_ASSERT_EQUAL(fhir_client_url_allowed(c, url, err, sizeof err), FHIR_CLIENT_EURL);
    CU_ASSERT_PTR_NOT_NULL(strstr(fhir_client_error(c), "not requested"));
}

static void check_allowed(struct fhir_client *c, const char *url)
{
    char err[700] = "";
    int before = fhir_client_pending(c);
    int rc = fhir_client_request(c, "GET", url, NULL, 0, NULL, count_cb, NULL);
    if (rc != 0)
        fprintf(stderr, "\n  %s: refused: %s\n", url, fhir_client_error(c));
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(fhir_client_pending(c), before + 1);
    CU_ASSERT_EQUAL(fhir_client_url_allowed(c, url, err, sizeof err), 0);
}

static void test_origin(void)
{
    struct fhir_client *c = client("https://fhir.example/r4", 0);
    CU_ASSERT_FATAL(c != NULL);
    calls = 0;
    check_allowed(c, "https://fhir.example/r4/Observation?_page=2&_count=100");
    check_allowed(c, "https://FHIR.EXAMPLE:443/r4/Observation?_page=3"); /* same origin */
    check_allowed(c, "https://fhir.example/r4");
    check_allowed(c, "Patient/1");
    check_allowed(c, "");
    CU_ASSERT_EQUAL(calls, 0);
    check_refused(c, "https://other.example/r4/Observation?_page=2");
    check_refused(c, "https://fhir.example.other.example/r4/Observation");
    check_refused(c, "https://fhir.example:8443/r4/Observation");
    check_refused(c, "http://fhir.example/r4/Observation");
    check_refused(c, "https://fhir.example/r4x/Observation");
    check_refused(c, "https://fhir.example/other/Observation");
    check_refused(c, "https://fhir.example/r4/../admin/Observation");
    check_refused(c, "https://fhir.example/");
    check_refused(c, "https://fhir.example:443@other.example/r4/Observation");
    check_refused(c, "https://user:pw@fhir.example/r4/Observation");
    check_refused(c, "ftp://fhir.example/r4/Observation");
    check_refused(c, "javascript:alert(1)");
    /* the error names the link and the base */
    check_refused(c, "https://other.example/r4/Observation?_page=2");
    CU_ASSERT_STRING_EQUAL(fhir_client_error(c),
                           "'https://other.example/r4/Observation?_page=2' is not under the "
                           "configured base https://fhir.example/r4 (scheme, host, port and path "
                           "must match, no user part): not requested, no credentials sent");
    int queued = fhir_client_pending(c);
    fhir_client_free(c); /* cancels what was queued: each callback once */
    CU_ASSERT_EQUAL(calls, queued);
    CU_ASSERT_STRING_EQUAL(last_error, "cancelled");

    /* a base at the root: any path of that origin */
    c = client("https://fhir.example", 0);
    CU_ASSERT_FATAL(c != NULL);
    check_allowed(c, "https://fhir.example/anything/Observation");
    check_refused(c, "https://fhir.example:1/Observation");
    fhir_client_free(c);

    /* plain http to loopback, when allowed: http links only to that origin */
    c = client("http://127.0.0.1:8080/fhir", 1);
    CU_ASSERT_FATAL(c != NULL);
    check_allowed(c, "http://127.0.0.1:8080/fhir/Observation?_page=2");
    check_refused(c, "https://127.0.0.1:8080/fhir/Observation");
    check_refused(c, "http://localhost:8080/fhir/Observation");
    fhir_client_free(c);
}

int main(void)
{
    CU_TestInfo tests[] = {{"the base: https, no user part, http only to loopback", test_base},
                           {"URLs built with curl's URL API, values escaped, ids checked",
                            test_url},
                           {"server-given URLs only under the base (I15, I16)", test_origin},
                           CU_TEST_INFO_NULL};
    int rc = test_run_suite("fhir_client", tests);
    curl_global_cleanup(); /* the client's curl_global_init (valgrind: nothing left) */
    return rc;
}
