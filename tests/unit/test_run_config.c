/*
 * test_run_config.c - the configuration file (run_config.h, interop.md I18):
 * every key read and every default kept, each error with its exact
 * "FILE:LINE: message", the whole-file checks (https only, I15; loopback for
 * plain HTTP; no user part in the base), relative paths, secret files (I16),
 * durations and sizes (range-checked without overflow), comments after a
 * value refused, the Retry-After cap and the first-start catch-up date
 * (issue 12), and the annotated example examples/nenfhir.conf.
 * argv[1]: examples/nenfhir.conf; argv[2]: a scratch directory (default: a
 * fresh mkdtemp under /tmp).
 */
#include "test_util.h"

#include "run_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *example_path = "examples/nenfhir.conf";
static char scratch[256];
static int scratch_made;

#define MAX_MADE 64
static char made[MAX_MADE][400]; /* files and directories created, removed in reverse */
static int made_dir[MAX_MADE];
static int nmade;

static void remember(const char *path, int dir)
{
    for (int i = 0; i < nmade; i++)
        if (strcmp(made[i], path) == 0)
            return;
    if (nmade < MAX_MADE) {
        snprintf(made[nmade], sizeof made[nmade], "%s", path);
        made_dir[nmade++] = dir;
    }
}

static void sjoin(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", scratch, name);
}

static void make_dir(const char *name)
{
    char p[400];
    sjoin(p, sizeof p, name);
    mkdir(p, 0700);
    remember(p, 1);
}

/* Write scratch/name with content; returns 0. */
static int write_file(const char *name, const char *content)
{
    char p[400];
    sjoin(p, sizeof p, name);
    FILE *f = fopen(p, "w");
    if (!f)
        return -1;
    fputs(content, f);
    fclose(f);
    remember(p, 0);
    return 0;
}

/* Write scratch/t.conf and load it. */
static int load_text(const char *text, struct run_config *c, char *err, size_t errlen)
{
    char p[400];
    CU_ASSERT_FATAL(write_file("t.conf", text) == 0);
    sjoin(p, sizeof p, "t.conf");
    err[0] = '\0';
    return run_config_load(p, c, err, errlen);
}

/* expect with every '@' replaced by the scratch directory. */
static void expand(char *out, size_t n, const char *expect)
{
    size_t o = 0;
    for (const char *q = expect; *q && o + 1 < n; q++) {
        if (*q == '@') {
            int w = snprintf(out + o, n - o, "%s", scratch);
            o += w > 0 ? (size_t)w : 0;
            if (o >= n)
                o = n - 1;
        } else {
            out[o++] = *q;
        }
    }
    out[o] = '\0';
}

/* Loading text fails with exactly scratch/t.conf followed by tail. */
static void check_err_as_is(const char *text, const char *tail)
{
    struct run_config c;
    char err[1024], want[1400];
    snprintf(want, sizeof want, "%s/t.conf%s", scratch, tail);
    int rc = load_text(text, &c, err, sizeof err);
    CU_ASSERT_EQUAL(rc, -1);
    if (strcmp(err, want) != 0)
        fprintf(stderr, "\n  got:  %s\n  want: %s\n", err, want);
    CU_ASSERT_STRING_EQUAL(err, want);
}

/* check_err_as_is with every '@' in expect replaced by the scratch directory. */
static void check_err(const char *text, const char *expect)
{
    char tail[1024];
    expand(tail, sizeof tail, expect);
    check_err_as_is(text, tail);
}

static int load_ok(const char *text, struct run_config *c)
{
    char err[1024];
    int rc = load_text(text, c, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "\n  unexpected: %s\n", err);
    return rc;
}

#define POLL_BASE "[server]\nbase = https://h/fhir\n[subscription]\nmode = poll\n" /* 4 lines */

/* ---- defaults and a full file ---- */

static void check_defaults_except_required(const struct run_config *c)
{
    CU_ASSERT_STRING_EQUAL(c->server_ca_file, "");
    CU_ASSERT_STRING_EQUAL(c->server_client_cert, "");
    CU_ASSERT_STRING_EQUAL(c->server_client_key, "");
    CU_ASSERT_STRING_EQUAL(c->server_token_file, "");
    CU_ASSERT_STRING_EQUAL(c->server_token, "");
    CU_ASSERT_EQUAL(c->server_timeout_s, 30);
    CU_ASSERT_EQUAL(c->server_insecure_http, 0);
    CU_ASSERT_STRING_EQUAL(c->listen_address, "127.0.0.1");
    CU_ASSERT_EQUAL(c->listen_port, 8443);
    CU_ASSERT_STRING_EQUAL(c->listen_cert, "");
    CU_ASSERT_STRING_EQUAL(c->listen_key, "");
    CU_ASSERT_STRING_EQUAL(c->listen_client_ca, "");
    CU_ASSERT_EQUAL(c->listen_plain_http, 0);
    CU_ASSERT_STRING_EQUAL(c->listen_path, "/notify");
    CU_ASSERT_EQUAL(c->listen_max_body, 8u * 1024 * 1024);
    CU_ASSERT_EQUAL(c->listen_request_timeout_s, 30);
    CU_ASSERT_EQUAL(c->listen_max_connections, 64);
    CU_ASSERT_EQUAL(c->listen_max_connections_per_peer, 32);
    CU_ASSERT_EQUAL(c->listen_max_inflight_bytes, 64u * 1024 * 1024);
    CU_ASSERT_EQUAL(c->listen_max_entries, 1000);
    CU_ASSERT_STRING_EQUAL(c->endpoint, "");
    CU_ASSERT_STRING_EQUAL(c->payload, "full-resource");
    CU_ASSERT_STRING_EQUAL(c->content_type, "application/fhir+json");
    CU_ASSERT_STRING_EQUAL(c->secret_file, "");
    CU_ASSERT_STRING_EQUAL(c->secret, "");
    CU_ASSERT_STRING_EQUAL(c->secret_header, "X-Nenfhir-Secret");
    CU_ASSERT_STRING_EQUAL(c->topic, "https://nenfhir.org/fhir/SubscriptionTopic/pathology-result");
    CU_ASSERT_EQUAL(c->heartbeat_s, 60);
    CU_ASSERT_EQUAL(c->poll_interval_s, 30);
    CU_ASSERT_EQUAL(c->poll_overlap_s, 300);
    CU_ASSERT_EQUAL(c->poll_count, 100);
    CU_ASSERT_EQUAL(c->catchup_interval_s, 300);
    CU_ASSERT_STRING_EQUAL(c->catchup_since, "");
    CU_ASSERT_EQUAL(c->work_parallel, 4);
    CU_ASSERT_EQUAL(c->work_max_attempts, 10);
    CU_ASSERT_EQUAL(c->work_backoff_ms, 1000);
    CU_ASSERT_EQUAL(c->work_backoff_max_ms, 300000);
    CU_ASSERT_EQUAL(c->work_settle_ms, 500);
    CU_ASSERT_EQUAL(c->work_preliminary_after_ms, 120000);
    CU_ASSERT_EQUAL(c->work_retry_after_max_ms, 300000);
    CU_ASSERT_STRING_EQUAL(c->performer_ref, "");
    CU_ASSERT_STRING_EQUAL(c->performer_display, "");
    CU_ASSERT_EQUAL(c->nmap, 0);
    CU_ASSERT_EQUAL(c->log_verbose, 0);
}

static void test_defaults(void)
{
    struct run_config c;
    run_config_defaults(&c);
    check_defaults_except_required(&c);
    CU_ASSERT_STRING_EQUAL(c.server_base, "");
    CU_ASSERT_EQUAL(c.mode, RUN_MODE_RESTHOOK);
    CU_ASSERT_STRING_EQUAL(c.store_path, "nenfhir.db");
    CU_ASSERT_STRING_EQUAL(run_mode_name(RUN_MODE_RESTHOOK), "rest-hook");
    CU_ASSERT_STRING_EQUAL(run_mode_name(RUN_MODE_BACKPORT), "backport");
    CU_ASSERT_STRING_EQUAL(run_mode_name(RUN_MODE_POLL), "poll");
}

static void test_minimal(void)
{
    struct run_config c;
    char p[400];
    CU_ASSERT_FATAL(load_ok(POLL_BASE, &c) == 0);
    check_defaults_except_required(&c);
    CU_ASSERT_STRING_EQUAL(c.server_base, "https://h/fhir");
    CU_ASSERT_EQUAL(c.mode, RUN_MODE_POLL);
    sjoin(p, sizeof p, "nenfhir.db"); /* the default, beside the config */
    CU_ASSERT_STRING_EQUAL(c.store_path, p);
    sjoin(p, sizeof p, "t.conf");
    CU_ASSERT_STRING_EQUAL(c.path, p);
}

static void make_full_files(void)
{
    make_dir("certs");
    make_dir("db");
    CU_ASSERT_FATAL(write_file("ca.pem", "ca\n") == 0 && write_file("certs/client.pem", "c\n") == 0 &&
                    write_file("client-key.pem", "k\n") == 0 &&
                    write_file("token", "  \n tok-123.abc \n\n") == 0 &&
                    write_file("listen.pem", "l\n") == 0 && write_file("listen-key.pem", "lk\n") == 0 &&
                    write_file("client-ca.pem", "cca\n") == 0 &&
                    write_file("secret", "s3cret = yes\r\n") == 0 && write_file("a.map", "\n") == 0 &&
                    write_file("b.map", "\n") == 0);
}

static void test_full(void)
{
    make_full_files();
    char text[4096], p[400];
    snprintf(text, sizeof text,
             "# every key\n"
             "[server]\n"
             "base = https://fhir.example.org:9443/fhir/\n"
             "ca_file = ca.pem\n"
             "client_cert = certs/client.pem\n"
             "client_key = %s/client-key.pem\n"
             "token_file = ./token\n"
             "timeout = 45\n"
             "insecure_http = yes\n"
             "\n"
             "  [ listen ]  \n"
             "address = 10.0.0.5\n"
             "port = 9000\n"
             "cert = listen.pem\n"
             "key = listen-key.pem\n"
             "client_ca = client-ca.pem\n"
             "plain_http = no\n"
             "path = /hook\n"
             "max_body = 512K\n"
             "[subscription]\n"
             "\tmode\t=\tbackport\t\n"
             "endpoint = https://nenfhir.example.org/hook?a=b#frag\n"
             "payload = id-only\n"
             "content_type = xml\n"
             "secret_file = secret\n"
             "secret_header = X-Secret\n"
             "topic = https://example.org/topic\n"
             "heartbeat = 120\n"
             "[poll]\n"
             "interval = 10\n"
             "overlap = 60\n"
             "count = 50\n"
             "catchup_interval = 600\n"
             "catchup_since = 2026-01-01T00:00:00+01:00\n"
             "[work]\n"
             "parallel = 8\n"
             "max_attempts = 5\n"
             "backoff = 1500ms\n"
             "backoff_max = 60s\n"
             "settle = 250\n"
             "retry_after_max = 90s\n"
             "[store]\n"
             "path = db/state.db\n"
             "[report]\n"
             "performer = Organization/lab 1\n"
             "performer_display = Pathology = Lab # 1\n"
             "[codes]\n"
             "map = a.map\n"
             "map = b.map\n"
             "[log]\n"
             "level = debug\n",
             scratch);
    struct run_config c;
    CU_ASSERT_FATAL(load_ok(text, &c) == 0);
    CU_ASSERT_STRING_EQUAL(c.server_base, "https://fhir.example.org:9443/fhir");
    sjoin(p, sizeof p, "ca.pem");
    CU_ASSERT_STRING_EQUAL(c.server_ca_file, p);
    sjoin(p, sizeof p, "certs/client.pem");
    CU_ASSERT_STRING_EQUAL(c.server_client_cert, p);
    sjoin(p, sizeof p, "client-key.pem");
    CU_ASSERT_STRING_EQUAL(c.server_client_key, p);
    sjoin(p, sizeof p, "token");
    CU_ASSERT_STRING_EQUAL(c.server_token_file, p);
    CU_ASSERT_STRING_EQUAL(c.server_token, "tok-123.abc");
    CU_ASSERT_EQUAL(c.server_timeout_s, 45);
    CU_ASSERT_EQUAL(c.server_insecure_http, 1);
    CU_ASSERT_STRING_EQUAL(c.listen_address, "10.0.0.5");
    CU_ASSERT_EQUAL(c.listen_port, 9000);
    sjoin(p, sizeof p, "listen.pem");
    CU_ASSERT_STRING_EQUAL(c.listen_cert, p);
    sjoin(p, sizeof p, "listen-key.pem");
    CU_ASSERT_STRING_EQUAL(c.listen_key, p);
    sjoin(p, sizeof p, "client-ca.pem");
    CU_ASSERT_STRING_EQUAL(c.listen_client_ca, p);
    CU_ASSERT_EQUAL(c.listen_plain_http, 0);
    CU_ASSERT_STRING_EQUAL(c.listen_path, "/hook");
    CU_ASSERT_EQUAL(c.listen_max_body, 512 * 1024);
    CU_ASSERT_EQUAL(c.mode, RUN_MODE_BACKPORT);
    CU_ASSERT_STRING_EQUAL(c.endpoint, "https://nenfhir.example.org/hook?a=b#frag");
    CU_ASSERT_STRING_EQUAL(c.payload, "id-only");
    CU_ASSERT_STRING_EQUAL(c.content_type, "application/fhir+xml");
    sjoin(p, sizeof p, "secret");
    CU_ASSERT_STRING_EQUAL(c.secret_file, p);
    CU_ASSERT_STRING_EQUAL(c.secret, "s3cret = yes");
    CU_ASSERT_STRING_EQUAL(c.secret_header, "X-Secret");
    CU_ASSERT_STRING_EQUAL(c.topic, "https://example.org/topic");
    CU_ASSERT_EQUAL(c.heartbeat_s, 120);
    CU_ASSERT_EQUAL(c.poll_interval_s, 10);
    CU_ASSERT_EQUAL(c.poll_overlap_s, 60);
    CU_ASSERT_EQUAL(c.poll_count, 50);
    CU_ASSERT_EQUAL(c.catchup_interval_s, 600);
    CU_ASSERT_EQUAL(c.work_parallel, 8);
    CU_ASSERT_EQUAL(c.work_max_attempts, 5);
    CU_ASSERT_EQUAL(c.work_backoff_ms, 1500);
    CU_ASSERT_EQUAL(c.work_backoff_max_ms, 60000);
    CU_ASSERT_EQUAL(c.work_settle_ms, 250);
    CU_ASSERT_STRING_EQUAL(c.catchup_since, "2026-01-01T00:00:00+01:00");
    CU_ASSERT_EQUAL(c.work_retry_after_max_ms, 90000);
    sjoin(p, sizeof p, "db/state.db");
    CU_ASSERT_STRING_EQUAL(c.store_path, p);
    CU_ASSERT_STRING_EQUAL(c.performer_ref, "Organization/lab 1");
    CU_ASSERT_STRING_EQUAL(c.performer_display, "Pathology = Lab # 1");
    CU_ASSERT_EQUAL_FATAL(c.nmap, 2);
    sjoin(p, sizeof p, "a.map");
    CU_ASSERT_STRING_EQUAL(c.map[0], p);
    sjoin(p, sizeof p, "b.map");
    CU_ASSERT_STRING_EQUAL(c.map[1], p);
    CU_ASSERT_EQUAL(c.log_verbose, 1);
}

/* ---- errors in the file ---- */

static void test_errors_lines(void)
{
    check_err("[srever]\n", ":1: unknown section [srever]");
    check_err("[server\n", ":1: malformed section header (expected [name] alone on the line)");
    check_err("[server]\nbsae = x\n", ":2: unknown key 'bsae' in [server]");
    check_err("# comment\nbase = https://h\n", ":2: key 'base' outside any section");
    check_err("[server]\n\nbase https://h/fhir\n", ":3: missing '=' (expected key = value)");
    check_err("[server]\n = x\n", ":2: missing key before '='");
    check_err("[server]\nbase =   \n", ":2: server.base: empty value");
    check_err(POLL_BASE "[work]\nparallel =\n", ":6: work.parallel: empty value");
    check_err(POLL_BASE "[server]\nbase = https://x/fhir\n",
              ":6: duplicate key server.base (first set on line 2)");
    check_err(POLL_BASE "[listen]\nport = 1\n\nport = 2\n",
              ":8: duplicate key listen.port (first set on line 6)");
}

static void test_errors_values(void)
{
    check_err(POLL_BASE "[work]\nparallel = four\n",
              ":6: work.parallel: 'four' is not a whole number (expected 1-256)");
    check_err(POLL_BASE "[work]\nparallel = 0\n", ":6: work.parallel: 0 is out of range (1-256)");
    check_err(POLL_BASE "[listen]\nport = 70000\n",
              ":6: listen.port: 70000 is out of range (0-65535)");
    check_err(POLL_BASE "[listen]\nport = -1\n",
              ":6: listen.port: '-1' is not a whole number (expected 0-65535)");
    check_err(POLL_BASE "[listen]\nport = 99999999999999999999999\n",
              ":6: listen.port: 99999999999999999999999 is out of range (0-65535)");
    check_err(POLL_BASE "[listen]\nplain_http = maybe\n",
              ":6: listen.plain_http: 'maybe' is not a boolean (use yes/no, true/false, on/off "
              "or 1/0)");
    check_err("[subscription]\nmode = websocket\n",
              ":2: subscription.mode: 'websocket' is not allowed (use rest-hook, backport or "
              "poll)");
    check_err("[subscription]\npayload = ids\n",
              ":2: subscription.payload: 'ids' is not allowed (use full-resource, id-only or "
              "empty)");
    check_err("[subscription]\ncontent_type = text/xml\n",
              ":2: subscription.content_type: 'text/xml' is not allowed (use "
              "application/fhir+json, application/fhir+xml, json or xml)");
    check_err("[log]\nlevel = trace\n", ":2: log.level: 'trace' is not allowed (use info or debug)");
    check_err(POLL_BASE "[work]\nsettle = 2m\n",
              ":6: work.settle: '2m' is not a duration (milliseconds, e.g. 2000, 2000ms or 2s)");
    check_err(POLL_BASE "[work]\nsettle = 2 s\n",
              ":6: work.settle: '2 s' is not a duration (milliseconds, e.g. 2000, 2000ms or 2s)");
    check_err(POLL_BASE "[work]\nsettle = 601s\n",
              ":6: work.settle: 601s is out of range (0-600000 ms)");
    check_err(POLL_BASE "[listen]\nmax_body = 16G\n",
              ":6: listen.max_body: '16G' is not a size (bytes, e.g. 16777216, 16384K or 16M)");
    check_err(POLL_BASE "[listen]\nmax_body = 2048M\n",
              ":6: listen.max_body: 2048M is out of range (1024-1073741824 bytes)");
    char longv[400];
    memset(longv, 'p', 300);
    longv[300] = '\0';
    char text[600];
    snprintf(text, sizeof text, POLL_BASE "[report]\nperformer = %s\n", longv);
    check_err(text, ":6: report.performer: value longer than 255 characters");
    check_err(POLL_BASE "[codes]\nmap = 1\nmap = 2\nmap = 3\nmap = 4\nmap = 5\nmap = 6\nmap = "
                        "7\nmap = 8\nmap = 9\n",
              ":14: codes.map: too many map files (at most 8)");
}

static void test_line_length(void)
{
    /* 4096 characters are fine, 4097 are not */
    size_t n = strlen(POLL_BASE) + 4200 + 64;
    char *text = malloc(n);
    CU_ASSERT_FATAL(text != NULL);
    char *q = text + sprintf(text, POLL_BASE "#");
    memset(q, 'c', 4095);
    q[4095] = '\0';
    strcat(text, "\n[work]\nparallel = 2\n");
    struct run_config c;
    CU_ASSERT_EQUAL(load_ok(text, &c), 0);
    CU_ASSERT_EQUAL(c.work_parallel, 2);
    q = text + sprintf(text, POLL_BASE "[report]\nperformer_display = ");
    size_t used = strlen("performer_display = ");
    memset(q, 'x', 4097 - used);
    q[4097 - used] = '\0';
    strcat(text, "\n");
    check_err(text, ":6: line longer than 4096 characters");
    /* also when it is the last line, without a newline */
    text[strlen(text) - 1] = '\0';
    check_err(text, ":6: line longer than 4096 characters");
    free(text);
}

/* ---- errors of the whole file ---- */

static void test_errors_whole_file(void)
{
    check_err("[subscription]\nmode = poll\n",
              ": server.base is required (the FHIR server's base URL)");
    check_err("", ": server.base is required (the FHIR server's base URL)");
    check_err("[server]\nbase = ftp://h/fhir\n[subscription]\nmode = poll\n",
              ":2: server.base: 'ftp://h/fhir' must start with https://");
    check_err("[server]\nbase = https://\n[subscription]\nmode = poll\n",
              ":2: server.base: 'https://' has no host");
    check_err("[server]\nbase = https://h/fhir\n[subscription]\nendpoint = https:///x\n",
              ":4: subscription.endpoint: 'https:///x' has no host");
    check_err("[server]\nbase = http://fhir.example/fhir\n[subscription]\nmode = poll\n",
              ":2: server.base: http:// needs server.insecure_http = yes (loopback only); use "
              "https://");
    check_err("[server]\nbase = http://fhir.example/fhir\ninsecure_http = yes\n[subscription]\n"
              "mode = poll\n",
              ":2: server.base: http:// is allowed only to a loopback host (127.0.0.1, localhost "
              "or [::1]), not fhir.example");
    check_err("[server]\nbase = http://127.0.0.1.evil.example/fhir\ninsecure_http = yes\n"
              "[subscription]\nmode = poll\n",
              ":2: server.base: http:// is allowed only to a loopback host (127.0.0.1, localhost "
              "or [::1]), not 127.0.0.1.evil.example");
    /* a user part names another host: https://127.0.0.1:80@other.host/ goes to other.host */
    check_err_as_is("[server]\nbase = https://127.0.0.1:80@other.host/\n[subscription]\nmode = poll\n",
              ":2: server.base: 'https://127.0.0.1:80@other.host' has a user part (before '@'), "
              "which would send the requests to other.host: refused");
    check_err_as_is("[server]\nbase = http://127.0.0.1:80@other.host/fhir\ninsecure_http = yes\n"
              "[subscription]\nmode = poll\n",
              ":2: server.base: 'http://127.0.0.1:80@other.host/fhir' has a user part (before "
              "'@'), which would send the requests to other.host: refused");
    check_err_as_is("[server]\nbase = https://nenfhir:pw@h/fhir\n[subscription]\nmode = poll\n",
              ":2: server.base: 'https://nenfhir:pw@h/fhir' has a user part (before '@'), which "
              "would send the requests to h: refused");
    check_err("[server]\nbase = https://h/fhir?_format=json\n[subscription]\nmode = poll\n",
              ":2: server.base: 'https://h/fhir?_format=json' has a query or fragment; a base "
              "has neither");
    check_err("[server]\nbase = https://h/fhir\n",
              ": subscription.endpoint is required in rest-hook mode");
    check_err("[server]\nbase = https://h/fhir\n[subscription]\nmode = backport\n"
              "endpoint = http://me/notify\n",
              ":5: subscription.endpoint: 'http://me/notify' must start with https://");
    check_err("[server]\nbase = https://h/fhir\n[subscription]\nendpoint = https://me/notify\n",
              ": listen.cert is required in rest-hook mode (or listen.plain_http = yes on a "
              "loopback address)");
    check_err("[server]\nbase = https://h/fhir\n[subscription]\nmode = backport\n"
              "endpoint = https://me/notify\n[listen]\ncert = listen.pem\n",
              ": listen.key is required in backport mode (or listen.plain_http = yes on a "
              "loopback address)");
    check_err(POLL_BASE "[listen]\naddress = 0.0.0.0\nplain_http = yes\n",
              ":7: listen.plain_http is allowed only on a loopback listen.address (127.0.0.1, "
              "localhost or ::1), not 0.0.0.0");
    check_err(POLL_BASE "[listen]\nplain_http = yes\nclient_ca = ca.pem\n",
              ":7: listen.client_ca needs TLS, but listen.plain_http is set");
    check_err(POLL_BASE "[listen]\npath = notify\n", ":6: listen.path must start with '/'");
    check_err(POLL_BASE "[server]\nclient_cert = c.pem\n",
              ":6: server.client_cert is set but server.client_key is not (give both or "
              "neither)");
    check_err(POLL_BASE "[server]\nclient_key = k.pem\n",
              ":6: server.client_key is set but server.client_cert is not (give both or "
              "neither)");
    check_err(POLL_BASE "[listen]\nkey = k.pem\n",
              ":6: listen.key is set but listen.cert is not (give both or neither)");
    check_err(POLL_BASE "[work]\nbackoff = 10s\nbackoff_max = 5s\n",
              ":7: work.backoff_max (5000 ms) is less than work.backoff (10000 ms)");
    check_err(POLL_BASE "[work]\nbackoff = 400s\n",
              ":6: work.backoff_max (300000 ms) is less than work.backoff (400000 ms)");

    struct run_config c;
    char err[1024], p[400], want[1024];
    sjoin(p, sizeof p, "none.conf");
    CU_ASSERT_EQUAL(run_config_load(p, &c, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", p);
    CU_ASSERT_STRING_EQUAL(err, want);
}

static void test_loopback_ok(void)
{
    static const char *const bases[] = {"http://127.0.0.1:8080/fhir", "http://localhost/fhir",
                                        "http://LOCALHOST:1/fhir", "http://[::1]:8080/fhir",
                                        "https://anything.example/fhir"};
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "[server]\nbase = %s\ninsecure_http = yes\n[subscription]\nmode = poll\n",
                 bases[i]);
        struct run_config c;
        CU_ASSERT_EQUAL(load_ok(text, &c), 0);
        CU_ASSERT_STRING_EQUAL(c.server_base, bases[i]);
    }
    /* plain HTTP rest-hook on loopback needs no certificate; http endpoint allowed */
    struct run_config c;
    CU_ASSERT_EQUAL(load_ok("[server]\nbase = https://h/fhir\n[listen]\naddress = ::1\n"
                            "plain_http = on\nport = 0\n[subscription]\n"
                            "endpoint = http://[::1]:9/notify\n",
                            &c),
                    0);
    CU_ASSERT_EQUAL(c.listen_plain_http, 1);
    CU_ASSERT_EQUAL(c.listen_port, 0);
    CU_ASSERT_EQUAL(c.mode, RUN_MODE_RESTHOOK);
}

/* ---- numbers without overflow, comments, issue 12 keys ---- */

static void test_numbers_comments_keys(void)
{
    /* numbers too large for 64 bits, or made so by a unit: out of range, no overflow */
    check_err(POLL_BASE "[server]\ntimeout = 99999999999999999999999\n",
              ":6: server.timeout: 99999999999999999999999 is out of range (1-3600)");
    check_err(POLL_BASE "[work]\nbackoff = 9223372036854776s\n",
              ":6: work.backoff: 9223372036854776s is out of range (1-3600000 ms)");
    check_err(POLL_BASE "[work]\nbackoff_max = 99999999999999999999s\n",
              ":6: work.backoff_max: 99999999999999999999s is out of range (1-86400000 ms)");
    check_err(POLL_BASE "[listen]\nmax_body = 9007199254740993K\n",
              ":6: listen.max_body: 9007199254740993K is out of range (1024-1073741824 bytes)");
    check_err(POLL_BASE "[listen]\nmax_body = 99999999999999M\n",
              ":6: listen.max_body: 99999999999999M is out of range (1024-1073741824 bytes)");
    check_err(POLL_BASE "[server]\ntimeout = +5\n",
              ":6: server.timeout: '+5' is not a whole number (expected 1-3600)");
    check_err(POLL_BASE "[server]\ntimeout = 0x10\n",
              ":6: server.timeout: '0x10' is not a whole number (expected 1-3600)");
    /* `key = value # note`: the comment would become part of the value */
    check_err(POLL_BASE "[server]\ntimeout = 30 # seconds\n",
              ":6: server.timeout: '30 # seconds' has a comment after the value; comments go on "
              "a line of their own, starting with '#'");
    check_err(POLL_BASE "[store]\npath = state.db # the queue\n",
              ":6: store.path: 'state.db # the queue' has a comment after the value; comments go "
              "on a line of their own, starting with '#'");
    check_err(POLL_BASE "[report]\nperformer = Organization/lab\t#main\n",
              ":6: report.performer: 'Organization/lab\t#main' has a comment after the value; "
              "comments go on a line of their own, starting with '#'");
    check_err(POLL_BASE "[report]\nperformer = # none\n",
              ":6: report.performer: '# none' has a comment after the value; comments go on a "
              "line of their own, starting with '#'");
    struct run_config c;
    /* a '#' inside a value (no blank before it) is text; performer_display is free text */
    CU_ASSERT_EQUAL(load_ok(POLL_BASE "[store]\npath = state#1.db\n[report]\n"
                                      "performer_display = Lab #3 (Dept # 2)\n",
                            &c),
                    0);
    CU_ASSERT_STRING_EQUAL(c.performer_display, "Lab #3 (Dept # 2)");
    CU_ASSERT_PTR_NOT_NULL(strstr(c.store_path, "/state#1.db"));
    /* work.retry_after_max */
    CU_ASSERT_EQUAL(load_ok(POLL_BASE "[work]\nretry_after_max = 0\n", &c), 0);
    CU_ASSERT_EQUAL(c.work_retry_after_max_ms, 0);
    CU_ASSERT_EQUAL(load_ok(POLL_BASE "[work]\nretry_after_max = 86400s\n", &c), 0);
    CU_ASSERT_EQUAL(c.work_retry_after_max_ms, 86400000);
    check_err(POLL_BASE "[work]\nretry_after_max = 86401s\n",
              ":6: work.retry_after_max: 86401s is out of range (0-86400000 ms)");
    /* poll.catchup_since: a FHIR date or dateTime */
    CU_ASSERT_EQUAL(load_ok(POLL_BASE "[poll]\ncatchup_since = 2026-01-01\n", &c), 0);
    CU_ASSERT_STRING_EQUAL(c.catchup_since, "2026-01-01");
    CU_ASSERT_EQUAL(load_ok(POLL_BASE "[poll]\ncatchup_since = 2026-11-30T08:00:00Z\n", &c), 0);
    CU_ASSERT_EQUAL(load_ok(POLL_BASE "[poll]\ncatchup_since =\n", &c), 0);
    CU_ASSERT_STRING_EQUAL(c.catchup_since, "");
    check_err(POLL_BASE "[poll]\ncatchup_since = yesterday\n",
              ":6: poll.catchup_since: 'yesterday' is not a FHIR date or dateTime (e.g. "
              "2026-01-01 or 2026-01-01T00:00:00Z)");
    check_err(POLL_BASE "[poll]\ncatchup_since = 2026-13-01\n",
              ":6: poll.catchup_since: '2026-13-01' is not a FHIR date or dateTime (e.g. "
              "2026-01-01 or 2026-01-01T00:00:00Z)");
}

/* ---- files ---- */

static void test_files(void)
{
    make_dir("adir");
    CU_ASSERT_FATAL(write_file("empty-token", "  \n\n") == 0);
    CU_ASSERT_FATAL(write_file("two-lines", "abc\ndef\n") == 0);
    CU_ASSERT_FATAL(write_file("ok.map", "\n") == 0);
    check_err(POLL_BASE "[server]\ntoken_file = missing-token\n",
              ":6: server.token_file: cannot read @/missing-token: No such file or directory");
    check_err(POLL_BASE "[server]\n\ntoken_file = empty-token\n",
              ":7: server.token_file: @/empty-token is empty");
    check_err(POLL_BASE "[subscription]\nsecret_file = two-lines\n",
              ":6: subscription.secret_file: @/two-lines holds a control character (one line "
              "expected)");
    check_err(POLL_BASE "[subscription]\nsecret_file = adir\n",
              ":6: subscription.secret_file: cannot read @/adir: Is a directory");
    check_err(POLL_BASE "[server]\nca_file = nope.pem\n",
              ":6: server.ca_file: cannot read @/nope.pem: No such file or directory");
    check_err(POLL_BASE "[server]\nca_file = adir\n",
              ":6: server.ca_file: cannot read @/adir: Is a directory");
    check_err(POLL_BASE "[listen]\ncert = c.pem\nkey = ok.map\n",
              ":6: listen.cert: cannot read @/c.pem: No such file or directory");
    check_err(POLL_BASE "[listen]\nclient_ca = /nonexistent-nenfhir/ca.pem\n",
              ":6: listen.client_ca: cannot read /nonexistent-nenfhir/ca.pem: No such file or "
              "directory");
    check_err(POLL_BASE "[codes]\nmap = ok.map\n# two\nmap = missing.map\n",
              ":8: codes.map: cannot read @/missing.map: No such file or directory");
    /* empty optional paths mean "none" */
    struct run_config c;
    CU_ASSERT_EQUAL(load_ok(POLL_BASE "[server]\nca_file =\ntoken_file =\n", &c), 0);
    CU_ASSERT_STRING_EQUAL(c.server_ca_file, "");
    CU_ASSERT_STRING_EQUAL(c.server_token, "");
}

static void test_relative_config_path(void)
{
    /* a config named by a relative path: paths still come out absolute */
    char cwd[512], p[400];
    CU_ASSERT_FATAL(getcwd(cwd, sizeof cwd) != NULL);
    make_dir("rel");
    make_dir("rel/keys");
    CU_ASSERT_FATAL(write_file("rel/keys/token", "t0k\n") == 0);
    CU_ASSERT_FATAL(write_file("rel/n.conf", POLL_BASE "[server]\ntoken_file = keys/token\n"
                                             "[store]\npath = state/n.db\n") == 0);
    CU_ASSERT_FATAL(chdir(scratch) == 0);
    struct run_config c;
    char err[1024] = "";
    int rc = run_config_load("rel/n.conf", &c, err, sizeof err);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(err, "");
    char real[256]; /* getcwd may differ from scratch by symlinks */
    CU_ASSERT_FATAL(getcwd(real, sizeof real) != NULL);
    snprintf(p, sizeof p, "%s/rel/keys/token", real);
    CU_ASSERT_STRING_EQUAL(c.server_token_file, p);
    CU_ASSERT_STRING_EQUAL(c.server_token, "t0k");
    snprintf(p, sizeof p, "%s/rel/state/n.db", real);
    CU_ASSERT_STRING_EQUAL(c.store_path, p);
    snprintf(p, sizeof p, "%s/rel/n.conf", real);
    CU_ASSERT_STRING_EQUAL(c.path, p);
    /* errors name the file as it was given */
    CU_ASSERT_FATAL(write_file("rel/bad.conf", "[nope]\n") == 0);
    CU_ASSERT_EQUAL(run_config_load("rel/bad.conf", &c, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "rel/bad.conf:1: unknown section [nope]");
    CU_ASSERT_FATAL(chdir(cwd) == 0);
}

/* ---- values ---- */

static void test_values(void)
{
    static const struct {
        const char *v;
        int want;
    } bools[] = {{"yes", 1}, {"no", 0}, {"true", 1}, {"false", 0}, {"on", 1},
                 {"off", 0}, {"1", 1},  {"0", 0},     {"YES", 1},  {"Off", 0}};
    struct run_config c;
    char text[512];
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        snprintf(text, sizeof text, POLL_BASE "[server]\ninsecure_http = %s\n", bools[i].v);
        CU_ASSERT_EQUAL(load_ok(text, &c), 0);
        CU_ASSERT_EQUAL(c.server_insecure_http, bools[i].want);
    }
    static const struct {
        const char *v;
        int ms;
    } durations[] = {{"0", 0}, {"250", 250}, {"1500ms", 1500}, {"2s", 2000}, {"600s", 600000}};
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        snprintf(text, sizeof text, POLL_BASE "[work]\nsettle = %s\n", durations[i].v);
        CU_ASSERT_EQUAL(load_ok(text, &c), 0);
        CU_ASSERT_EQUAL(c.work_settle_ms, durations[i].ms);
    }
    static const struct {
        const char *v;
        size_t bytes;
    } sizes[] = {{"1024", 1024}, {"64K", 65536}, {"64k", 65536}, {"16M", 16777216},
                 {"1024M", 1073741824}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        snprintf(text, sizeof text, POLL_BASE "[listen]\nmax_body = %s\n", sizes[i].v);
        CU_ASSERT_EQUAL(load_ok(text, &c), 0);
        CU_ASSERT_EQUAL(c.listen_max_body, sizes[i].bytes);
    }
    CU_ASSERT_EQUAL(load_ok(POLL_BASE "[subscription]\ncontent_type = json\n", &c), 0);
    CU_ASSERT_STRING_EQUAL(c.content_type, "application/fhir+json");
    CU_ASSERT_EQUAL(load_ok(POLL_BASE "[subscription]\ncontent_type = application/fhir+xml\n", &c),
                    0);
    CU_ASSERT_STRING_EQUAL(c.content_type, "application/fhir+xml");
    /* CRLF line endings, a byte order mark, repeated sections */
    CU_ASSERT_EQUAL(load_ok("\xEF\xBB\xBF[server]\r\nbase = https://h/fhir/\r\n[subscription]\r\n"
                            "mode = poll\r\n[server]\r\ntimeout = 5\r\n",
                            &c),
                    0);
    CU_ASSERT_STRING_EQUAL(c.server_base, "https://h/fhir");
    CU_ASSERT_EQUAL(c.server_timeout_s, 5);
}

/* ---- the annotated example ---- */

/* Read a whole small file; caller frees. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* text with every `from` replaced by `to`; caller frees. */
static char *replace_all(const char *text, const char *from, const char *to)
{
    size_t count = 0, lf = strlen(from), lt = strlen(to);
    for (const char *q = strstr(text, from); q; q = strstr(q + lf, from))
        count++;
    char *out = malloc(strlen(text) + count * lt + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *q = text, *hit; *q; q = hit + lf) {
        hit = strstr(q, from);
        if (!hit) {
            strcpy(o, q);
            return out;
        }
        memcpy(o, q, (size_t)(hit - q));
        o += hit - q;
        memcpy(o, to, lt);
        o += lt;
    }
    *o = '\0';
    return out;
}

/* Whether text has the line "key = ..." inside [section]. */
static int has_key(const char *text, const char *section, const char *key)
{
    char head[64];
    snprintf(head, sizeof head, "\n[%s]\n", section);
    const char *q = strstr(text, head);
    if (!q)
        return 0;
    q += strlen(head);
    size_t lk = strlen(key);
    while (*q && *q != '[') {
        if (strncmp(q, key, lk) == 0 &&
            (strncmp(q + lk, " = ", 3) == 0 || strncmp(q + lk, " =\n", 3) == 0))
            return 1;
        q = strchr(q, '\n');
        q = q ? q + 1 : "";
    }
    return 0;
}

static void test_example(void)
{
    static const char *const keys[] = {
        "server.base", "server.ca_file", "server.client_cert", "server.client_key",
        "server.token_file", "server.timeout", "server.insecure_http", "listen.address",
        "listen.port", "listen.cert", "listen.key", "listen.client_ca", "listen.plain_http",
        "listen.path", "listen.max_body", "subscription.mode", "subscription.endpoint",
        "subscription.payload", "subscription.content_type", "subscription.secret_file",
        "subscription.secret_header", "subscription.topic", "subscription.heartbeat",
        "poll.interval", "poll.overlap", "poll.count", "poll.catchup_interval",
        "poll.catchup_since", "work.parallel", "work.max_attempts", "work.backoff",
        "work.backoff_max", "work.settle", "work.retry_after_max", "store.path",
        "report.performer", "report.performer_display", "codes.map", "log.level"};
    char *orig = slurp(example_path);
    CU_ASSERT_FATAL(orig != NULL);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char sec[32];
        const char *dot = strchr(keys[i], '.');
        snprintf(sec, sizeof sec, "%.*s", (int)(dot - keys[i]), keys[i]);
        if (!has_key(orig, sec, dot + 1))
            fprintf(stderr, "\n  example lacks %s\n", keys[i]);
        CU_ASSERT(has_key(orig, sec, dot + 1));
    }
    /* its files moved into the scratch directory */
    make_dir("ex");
    make_dir("ex/etc");
    make_dir("ex/var");
    char etc[400], var[400];
    sjoin(etc, sizeof etc, "ex/etc/");
    sjoin(var, sizeof var, "ex/var/");
    char *a = replace_all(orig, "/etc/nenfhir/", etc);
    char *text = a ? replace_all(a, "/var/lib/nenfhir/", var) : NULL;
    free(a);
    CU_ASSERT_FATAL(text != NULL);
    static const char *const files[] = {"ca.pem", "client.pem", "client-key.pem",
                                        "listen.pem", "listen-key.pem", "client-ca.pem",
                                        "hospital.map"};
    char name[64];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(name, sizeof name, "ex/etc/%s", files[i]);
        CU_ASSERT_FATAL(write_file(name, "x\n") == 0);
    }
    CU_ASSERT_FATAL(write_file("ex/etc/token", "example-token\n") == 0);
    CU_ASSERT_FATAL(write_file("ex/etc/secret", "example-secret\n") == 0);
    CU_ASSERT_FATAL(write_file("ex/nenfhir.conf", text) == 0);
    char p[400], err[1024] = "";
    sjoin(p, sizeof p, "ex/nenfhir.conf");
    struct run_config c;
    int rc = run_config_load(p, &c, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "\n  example: %s\n", err);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(c.mode, RUN_MODE_RESTHOOK);
    CU_ASSERT_STRING_EQUAL(c.server_token, "example-token");
    CU_ASSERT_STRING_EQUAL(c.secret, "example-secret");
    CU_ASSERT_EQUAL(c.nmap, 1);
    CU_ASSERT_EQUAL(strncmp(c.store_path, var, strlen(var)), 0);
    CU_ASSERT_EQUAL(strncmp(c.server_base, "https://", 8), 0);
    free(text);
    /* unchanged, it names files under /etc/nenfhir: loads only where they exist */
    struct stat st;
    if (stat("/etc/nenfhir/ca.pem", &st) != 0) {
        CU_ASSERT_EQUAL(run_config_load(example_path, &c, err, sizeof err), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "/etc/nenfhir/"));
    }
    free(orig);
}

/* ---- main ---- */

static int make_scratch(int argc, char **argv)
{
    if (argc > 2) {
        snprintf(scratch, sizeof scratch, "%s", argv[2]);
        return 0;
    }
    snprintf(scratch, sizeof scratch, "/tmp/test_run_config.XXXXXX");
    if (!mkdtemp(scratch)) {
        perror("mkdtemp");
        return -1;
    }
    scratch_made = 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        example_path = argv[1];
    if (make_scratch(argc, argv) != 0)
        return 2;
    CU_TestInfo tests[] = {{"defaults", test_defaults},
                           {"minimal file, absent keys keep defaults", test_minimal},
                           {"every key", test_full},
                           {"line errors: sections, keys, '=', duplicates", test_errors_lines},
                           {"value errors: numbers, booleans, choices, sizes", test_errors_values},
                           {"lines longer than 4096", test_line_length},
                           {"whole-file checks (I15)", test_errors_whole_file},
                           {"http:// to loopback, plain HTTP listener on loopback",
                            test_loopback_ok},
                           {"files: readable, secrets trimmed (I16)", test_files},
                           {"relative config path", test_relative_config_path},
                           {"booleans, durations, sizes, CRLF", test_values},
                           {"numbers without overflow, no comment after a value, "
                            "retry_after_max, catchup_since",
                            test_numbers_comments_keys},
                           {"examples/nenfhir.conf", test_example},
                           CU_TEST_INFO_NULL};
    int rc = test_run_suite("run_config", tests);
    for (int i = nmade - 1; i >= 0; i--)
        (void)(made_dir[i] ? rmdir(made[i]) : unlink(made[i]));
    if (scratch_made && rmdir(scratch) != 0)
        perror(scratch);
    return rc;
}
