/*
 * cli_check.c - check-config's checks and its --connect (cli_check.h).
 * --connect: GET [base]/metadata with the options the FHIR client uses
 * (fhir/fhir_client.c: TLS 1.2+, peer and host verified, the configured CA,
 * client certificate and bearer token, no redirects), through curl's easy
 * interface, then GET [base]/Patient?_summary=count to see that the token is
 * accepted; each step (DNS, TCP, TLS, HTTP, FHIR version, software, auth) on
 * a line. Owns nothing beyond the call.
 */
#include "cli_check.h"

#include "adapter_log.h"
#include "config_check.h"
#include "daemon_run.h" /* NENFHIR_VERSION_STR */
#include "run_config.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const check_words[] = {"ok     ", "warning", "error  "};

static void print_finding(void *ctx, int level, const char *what, const char *msg)
{
    (void)ctx;
    printf("%s %s: %s\n", check_words[level], what, msg);
}

/* A response body, bounded. */
struct conn_body {
    char *buf;
    size_t len;
};

#define CONN_BODY_MAX (4u * 1024 * 1024)

static size_t conn_write(char *p, size_t size, size_t n, void *ctx)
{
    struct conn_body *b = ctx;
    size_t add = size * n;
    if (b->len + add > CONN_BODY_MAX)
        return 0;
    char *nb = realloc(b->buf, b->len + add + 1);
    if (!nb)
        return 0;
    memcpy(nb + b->len, p, add);
    b->buf = nb;
    b->len += add;
    b->buf[b->len] = '\0';
    return add;
}

/* GET base/path with the client's options. Returns curl's code; *status
 * and body set. */
static CURLcode conn_get(const struct run_config *c, const char *path, CURL *e,
                         struct conn_body *b, long *status)
{
    char url[RUN_URL_LEN + 64], auth[RUN_SECRET_LEN + 32];
    snprintf(url, sizeof url, "%s/%s", c->server_base, path);
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/fhir+json");
    if (h && c->server_token[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->server_token);
        struct curl_slist *h2 = curl_slist_append(h, auth);
        if (!h2) {
            curl_slist_free_all(h);
            return CURLE_OUT_OF_MEMORY;
        }
        h = h2;
    }
    if (!h)
        return CURLE_OUT_OF_MEMORY;
    curl_easy_reset(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, conn_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "nenfhir/" NENFHIR_VERSION_STR " check-config");
    curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)c->server_timeout_s);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, c->server_timeout_s < 10 ? (long)c->server_timeout_s
                                                                         : 10L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, c->server_insecure_http ? "http,https" : "https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    if (c->server_ca_file[0])
        curl_easy_setopt(e, CURLOPT_CAINFO, c->server_ca_file);
    if (c->server_client_cert[0]) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, c->server_client_cert);
        curl_easy_setopt(e, CURLOPT_SSLKEY, c->server_client_key);
    }
    free(b->buf);
    b->buf = NULL;
    b->len = 0;
    *status = 0;
    CURLcode rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(h);
    return rc;
}

/* Which step a transport failure belongs to. */
static const char *conn_step(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        return "DNS";
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
        return "TCP";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
        return "TLS";
    default:
        return "HTTP";
    }
}

/* The steps up to the first byte of the answer. Returns 0 when connected. */
static int conn_transport(CURL *e, CURLcode rc, const char *base, int tls)
{
    char *ip = NULL;
    long port = 0;
    curl_off_t tcp_us = 0, tls_us = 0;
    curl_easy_getinfo(e, CURLINFO_PRIMARY_IP, &ip);
    curl_easy_getinfo(e, CURLINFO_PRIMARY_PORT, &port);
    curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &tcp_us);
    curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &tls_us);
    const char *step = rc == CURLE_OK ? NULL : conn_step(rc);
    if (step && strcmp(step, "DNS") == 0) {
        printf("error   DNS: %s: %s\n", base, curl_easy_strerror(rc));
        return -1;
    }
    printf("ok      DNS: resolved to %s\n", ip && *ip ? ip : "?");
    if (step && strcmp(step, "TCP") == 0) {
        printf("error   TCP: %s port %ld: %s\n", ip && *ip ? ip : "?", port,
               curl_easy_strerror(rc));
        return -1;
    }
    printf("ok      TCP: connected to %s port %ld in %lld ms\n", ip && *ip ? ip : "?", port,
           (long long)(tcp_us / 1000));
    if (step && strcmp(step, "TLS") == 0) {
        printf("error   TLS: %s\n", curl_easy_strerror(rc));
        return -1;
    }
    if (tls)
        printf("ok      TLS: handshake done, the server's certificate verified, in %lld ms\n",
               (long long)(tls_us / 1000));
    if (rc != CURLE_OK) {
        printf("error   HTTP: %s\n", curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

/* The CapabilityStatement's fhirVersion and software. Returns 0 or -1. */
static int conn_capability(const struct conn_body *b)
{
    struct json_tokener *tok = json_tokener_new_ex(64);
    json_object *cs = tok && b->buf ? json_tokener_parse_ex(tok, b->buf, (int)b->len) : NULL;
    json_tokener_free(tok);
    json_object *rt = NULL, *v = NULL, *sw = NULL, *n = NULL, *sv = NULL;
    if (!cs || !json_object_object_get_ex(cs, "resourceType", &rt) ||
        strcmp(json_object_get_string(rt), "CapabilityStatement") != 0) {
        printf("error   FHIR: the answer to GET metadata is not a CapabilityStatement\n");
        json_object_put(cs);
        return -1;
    }
    const char *ver = json_object_object_get_ex(cs, "fhirVersion", &v) ?
                          json_object_get_string(v) : "";
    int r4 = strncmp(ver, "4.0", 3) == 0;
    printf("%s FHIR: version %.40s%s\n", r4 ? "ok     " : "error  ", ver[0] ? ver : "(none)",
           r4 ? "" : " (nenfhir needs R4, 4.0.x)");
    if (json_object_object_get_ex(cs, "software", &sw) &&
        json_object_object_get_ex(sw, "name", &n))
        printf("ok      software: %.200s%s%.100s\n", json_object_get_string(n),
               json_object_object_get_ex(sw, "version", &sv) ? " " : "",
               sv ? json_object_get_string(sv) : "");
    else
        printf("ok      software: not named in the CapabilityStatement\n");
    json_object_put(cs);
    return r4 ? 0 : -1;
}

/* Reach the server. Returns 0 when every step passed. */
static int conn_check(const struct run_config *c)
{
    CURL *e = curl_easy_init();
    if (!e) {
        printf("error   connect: cannot make a curl handle\n");
        return -1;
    }
    struct conn_body b = {NULL, 0};
    long status = 0;
    int tls = strncmp(c->server_base, "https:", 6) == 0;
    CURLcode rc = conn_get(c, "metadata", e, &b, &status);
    int res = conn_transport(e, rc, c->server_base, tls);
    if (res == 0 && (status == 401 || status == 403)) {
        printf("error   auth: GET metadata answered HTTP %ld: the server refused %s\n", status,
               c->server_token[0] ? "the bearer token" : "a request without a token");
        res = -1;
    } else if (res == 0 && (status < 200 || status >= 300)) {
        printf("error   HTTP: GET metadata answered HTTP %ld\n", status);
        res = -1;
    } else if (res == 0) {
        printf("ok      HTTP: GET metadata answered %ld\n", status);
        res = conn_capability(&b);
    }
    if (res == 0) {
        rc = conn_get(c, "Patient?_summary=count", e, &b, &status);
        if (rc != CURLE_OK) {
            printf("error   auth: GET Patient?_summary=count: %s\n", curl_easy_strerror(rc));
            res = -1;
        } else if (status == 401 || status == 403) {
            printf("error   auth: the server refused %s (HTTP %ld)\n",
                   c->server_token[0] ? "the bearer token" : "a request without a token",
                   status);
            res = -1;
        } else {
            printf("%s auth: GET Patient?_summary=count answered HTTP %ld%s\n",
                   status >= 200 && status < 300 ? "ok     " : "warning", status,
                   c->server_token[0] ? " with the bearer token" : " (no token configured)");
        }
    }
    free(b.buf);
    curl_easy_cleanup(e);
    return res;
}

int cli_check_config_file(const char *path, int connect)
{
    char err[1024];
    struct run_config *c = calloc(1, sizeof *c);
    if (!c) {
        fprintf(stderr, "nenfhir: out of memory\n");
        return 1;
    }
    if (run_config_load(path, c, err, sizeof err) != 0) {
        fprintf(stderr, "nenfhir: %s\n", err);
        free(c);
        return 1;
    }
    int errors = config_check(c, (int64_t)time(NULL), print_finding, NULL, NULL);
    if (errors == 0 && connect && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK) {
        errors += conn_check(c) != 0;
        curl_global_cleanup();
    }
    if (errors) {
        fprintf(stderr, "nenfhir: %s: %d problem(s) found (the lines marked error)\n", path,
                errors);
    } else {
        printf("%s: ok (mode %s, server %s%s%s)\n", path, run_mode_name(c->mode),
               c->server_base, c->mode == RUN_MODE_POLL ? "" : ", endpoint ",
               c->mode == RUN_MODE_POLL ? "" : c->endpoint);
    }
    free(c);
    return errors ? 1 : 0;
}
