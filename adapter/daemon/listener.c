/*
 * listener.c - the HTTPS notification endpoint (listener.h). Owns the evhttp
 * server, the SSL_CTX and the counters of notifications; each connection
 * gets its own SSL through the bufferevent callback.
 * Every accepted connection gets TCP_NODELAY before its first answer: an
 * answer goes out as two TLS records (headers, body) and with Nagle the
 * second waits for the client's delayed ACK (~40 ms), so a server that
 * delivers serially on one kept-alive connection would manage about 22
 * notifications a second. evhttp hands the accepted socket to the
 * bufferevent only after the bufferevent callback, so the option is set
 * when the TLS handshake starts (SSL info callback, fd from SSL_get_fd);
 * plain HTTP (loopback tests) sets it when a request arrives.
 * Issue 14: /healthz checks the store (a meta write at most every
 * HEALTH_STORE_EVERY_MS), the Subscription and the last successful contact
 * with the server (counted by an observer of the FHIR client, which also
 * feeds the request metrics and the case latency); /readyz; /metrics built
 * by metrics.c; /status pages by status_page.c; failed TLS handshakes
 * (refused client certificates) and refused secrets are counted and logged
 * with the peer address.
 * Issue 12 item 7: listener_guard.c caps connections (all, per peer), gives
 * each request an overall deadline, bounds the bytes held by requests being
 * read and refuses ambiguous framing (400, connection closed); here a
 * notification's cost is bounded too: a body with more objects than
 * listen.max_entries Bundle entries could need is refused unparsed, a
 * Bundle with more entries than listen.max_entries after parsing; both 413,
 * with a catch-up asked so that what the notification carried is found by
 * search (intake never saw it; the sender may also retry).
 */
#include "listener.h"

#include "daemon.h"
#include "listener_guard.h"
#include "daemon_run.h"
#include "fhir_notify.h"
#include "metrics.h"
#include "status_page.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct listener {
    struct daemon *d;
    struct evhttp *http;
    struct listener_guard *guard;  /* caps, deadline, framing (listener_guard.h) */
    SSL_CTX *ssl;
    int port;
    struct metrics m;              /* notifications, FHIR requests, TLS, latency */
    int64_t started_ms;
    int64_t store_checked_ms;      /* last write check of the store (0 never) */
    int store_ok;                  /* its outcome */
    char store_why[300];           /* why it failed */
};

/* /healthz writes to the store at most this often (a meta key). */
#define HEALTH_STORE_EVERY_MS 5000
/* ... and after a failed check at most this often. */
#define HEALTH_STORE_RETRY_MS 1000

/* TCP_NODELAY on fd; a failure is logged (the connection still works, slower). */
static void set_nodelay(evutil_socket_t fd)
{
    int one = 1;
    if (fd < 0) {
        LOG_WARN("listen: TCP_NODELAY: the connection has no socket yet");
        return;
    }
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, (socklen_t)sizeof one) != 0)
        LOG_WARN("listen: TCP_NODELAY on an accepted connection: %s",
                 evutil_socket_error_to_string(evutil_socket_geterror(fd)));
}

/* "a.b.c.d:port" of the peer of fd into out ("unknown" if none). */
static void peer_of_fd(int fd, char *out, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "";
    snprintf(out, len, "unknown");
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        if (inet_ntop(AF_INET, &a->sin_addr, host, sizeof host))
            snprintf(out, len, "%s:%d", host, ntohs(a->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        if (inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host))
            snprintf(out, len, "[%s]:%d", host, ntohs(a->sin6_port));
    }
}

/* The peer's address, read when the handshake starts (the socket may be
 * gone, or no longer the SSL's fd, when an alert is sent) and kept with the
 * SSL object (ex_data; freed with it). */
static int peer_index = -1;

static void peer_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                      void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    free(ptr);
}

static void peer_remember(const SSL *ssl)
{
    if (peer_index < 0)
        peer_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, peer_free);
    if (peer_index < 0 || SSL_get_ex_data(ssl, peer_index))
        return;
    char *peer = malloc(80);
    if (!peer)
        return; /* logged as "unknown" then */
    peer_of_fd(SSL_get_fd(ssl), peer, 80);
    if (!SSL_set_ex_data((SSL *)ssl, peer_index, peer))
        free(peer);
}

/* A fatal alert nenfhir sends ends the handshake: counted, and logged with
 * the peer's address; a certificate alert (or a handshake failure with no
 * client certificate while one is required) is a refused client certificate. */
static void tls_refused(const SSL *ssl, int alert)
{
    struct listener *l = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (!l)
        return;
    char peer[80];
    const char *kept = peer_index >= 0 ? SSL_get_ex_data(ssl, peer_index) : NULL;
    if (kept)
        snprintf(peer, sizeof peer, "%s", kept);
    else
        peer_of_fd(SSL_get_fd(ssl), peer, sizeof peer);
    int cert = (alert >= SSL_AD_BAD_CERTIFICATE && alert <= SSL_AD_UNKNOWN_CA) ||
               alert == SSL_AD_ACCESS_DENIED || alert == 116 /* certificate_required */ ||
               (alert == SSL_AD_HANDSHAKE_FAILURE && l->d->cfg->listen_client_ca[0] &&
                !SSL_get0_peer_certificate(ssl));
    l->m.tls_failures++;
    if (cert) {
        l->m.tls_client_cert_refused++;
        long v = SSL_get_verify_result(ssl);
        LOG_WARN("listen: refused the client certificate of %s: %s (%s)", peer,
                 SSL_alert_desc_string_long(alert),
                 v != X509_V_OK ? X509_verify_cert_error_string(v) : "no certificate");
    } else {
        LOG_WARN("listen: TLS handshake with %s failed: %s", peer,
                 SSL_alert_desc_string_long(alert));
    }
}

/* SSL info callback: at the start of the server handshake (once per
 * accepted connection; the socket is attached by then), TCP_NODELAY. A
 * TLS 1.3 key update starts a handshake again: setting it twice is harmless. */
static void on_tls_info(const SSL *ssl, int where, int ret)
{
    if ((where & SSL_CB_HANDSHAKE_START) && SSL_is_server(ssl)) {
        set_nodelay(SSL_get_fd(ssl));
        peer_remember(ssl);
    }
    if ((where & SSL_CB_ALERT) && (where & SSL_CB_WRITE) && (ret >> 8) == SSL3_AL_FATAL)
        tls_refused(ssl, ret & 0xff);
}

/* evhttp's bufferevent callback: a guarded TLS bufferevent. On NULL (out of
 * memory) evhttp would fall back to a plain one: on_request refuses any
 * request on a connection without TLS. */
static struct bufferevent *on_new_connection(struct event_base *base, void *arg)
{
    struct listener *l = arg;
    return listener_guard_bufferevent(l->guard, base, l->ssl);
}

static SSL_CTX *tls_context(const struct run_config *c, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "listen: cannot make a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_info_callback(ctx, on_tls_info);
    const char *what = NULL;
    if (SSL_CTX_use_certificate_chain_file(ctx, c->listen_cert) != 1)
        what = c->listen_cert;
    else if (SSL_CTX_use_PrivateKey_file(ctx, c->listen_key, SSL_FILETYPE_PEM) != 1 ||
             SSL_CTX_check_private_key(ctx) != 1)
        what = c->listen_key;
    else if (c->listen_client_ca[0]) {
        if (SSL_CTX_load_verify_locations(ctx, c->listen_client_ca, NULL) != 1)
            what = c->listen_client_ca;
        else {
            STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(c->listen_client_ca);
            if (names)
                SSL_CTX_set_client_CA_list(ctx, names);
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        }
    }
    if (what) {
        char e[256];
        ERR_error_string_n(ERR_get_error(), e, sizeof e);
        snprintf(err, errlen, "listen: %s: %s", what, e);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Answer with an OperationOutcome naming the problem. */
static void reply_outcome(struct evhttp_request *req, int status, const char *code,
                          const char *text)
{
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        evhttp_send_error(req, 500, NULL);
        return;
    }
    json_object *oo = json_object_new_object(), *issue = json_object_new_object(),
                *arr = json_object_new_array();
    if (oo && issue && arr) {
        json_object_object_add(oo, "resourceType", json_object_new_string("OperationOutcome"));
        json_object_object_add(issue, "severity",
                               json_object_new_string(status >= 400 ? "error" : "information"));
        json_object_object_add(issue, "code", json_object_new_string(code));
        json_object_object_add(issue, "diagnostics", json_object_new_string(text));
        json_object_array_add(arr, issue);
        issue = NULL;
        json_object_object_add(oo, "issue", arr);
        arr = NULL;
        evbuffer_add_printf(b, "%s", json_object_to_json_string_ext(oo, JSON_C_TO_STRING_PLAIN));
    }
    json_object_put(oo);
    json_object_put(issue);
    json_object_put(arr);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/fhir+json");
    evhttp_send_reply(req, status, NULL, b);
    evbuffer_free(b);
}

static void reply_text(struct evhttp_request *req, int status, const char *ctype, const char *text)
{
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        evhttp_send_error(req, 500, NULL);
        return;
    }
    evbuffer_add(b, text, strlen(text));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
    evhttp_send_reply(req, status, NULL, b);
    evbuffer_free(b);
}

/* Health (issue 14 item 2), filled into h: the store takes a write (at
 * most every HEALTH_STORE_EVERY_MS), the Subscription is in place, and the
 * server answered successfully within listen.health_max_silence (counted
 * from the start while nothing was asked yet). Readiness: the first request
 * to the server (the Subscription's) has ended, and not draining. */
static void health(struct listener *l, struct status_health *h)
{
    struct daemon *d = l->d;
    int64_t now = adapter_now_ms();
    memset(h, 0, sizeof *h);
    /* the store */
    int64_t every = l->store_ok ? HEALTH_STORE_EVERY_MS : HEALTH_STORE_RETRY_MS;
    if (!l->store_checked_ms || now - l->store_checked_ms >= every) {
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)now);
        l->store_checked_ms = now;
        l->store_ok = store_meta_set(d->store, "health_checked_ms", v) == 0;
        if (!l->store_ok) {
            snprintf(l->store_why, sizeof l->store_why, "the store takes no write: %.250s",
                     store_error(d->store));
            LOG_WARN("healthz: %s", l->store_why);
        }
    }
    h->check[0].name = "store";
    h->check[0].ok = l->store_ok;
    if (!l->store_ok)
        snprintf(h->check[0].why, sizeof h->check[0].why, "%s", l->store_why);
    /* the Subscription */
    h->check[1].name = "subscription";
    h->check[1].ok = subscribe_in_place(d);
    if (!h->check[1].ok)
        snprintf(h->check[1].why, sizeof h->check[1].why,
                 "the Subscription is not in place yet (being created or retried)");
    /* the server */
    int64_t max_ms = (int64_t)d->cfg->listen_health_max_silence_s * 1000;
    int64_t since = l->m.last_ok_ms ? l->m.last_ok_ms : l->started_ms;
    h->check[2].name = "server";
    h->check[2].ok = now - since <= max_ms;
    if (!h->check[2].ok) {
        if (l->m.last_ok_ms)
            snprintf(h->check[2].why, sizeof h->check[2].why,
                     "no successful answer from the FHIR server for %lld s (limit "
                     "listen.health_max_silence = %d s)%s%.250s",
                     (long long)((now - since) / 1000), d->cfg->listen_health_max_silence_s,
                     l->m.last_fail_ms ? "; last failure: " : "", l->m.last_fail);
        else
            snprintf(h->check[2].why, sizeof h->check[2].why,
                     "no successful answer from the FHIR server since the start %lld s ago "
                     "(limit listen.health_max_silence = %d s)%s%.250s",
                     (long long)((now - since) / 1000), d->cfg->listen_health_max_silence_s,
                     l->m.last_fail_ms ? "; last failure: " : "", l->m.last_fail);
    }
    h->healthy = h->check[0].ok && h->check[1].ok && h->check[2].ok;
    h->ready = !d->draining && (subscribe_in_place(d) || l->m.requests_done > 0);
}

/* /healthz: 200 "ok", or 503 with JSON naming each failing check. */
static void reply_healthz(struct listener *l, struct evhttp_request *req)
{
    struct status_health h;
    health(l, &h);
    if (h.healthy) {
        reply_text(req, 200, "text/plain", "ok\n");
        return;
    }
    json_object *o = json_object_new_object(), *failing = json_object_new_object();
    if (!o || !failing) {
        json_object_put(o);
        json_object_put(failing);
        evhttp_send_error(req, 503, NULL);
        return;
    }
    json_object_object_add(o, "status", json_object_new_string("failing"));
    for (int i = 0; i < STATUS_NCHECK; i++)
        if (!h.check[i].ok)
            json_object_object_add(failing, h.check[i].name,
                                   json_object_new_string(h.check[i].why));
    json_object_object_add(o, "failing", failing);
    reply_text(req, 503, "application/json",
               json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}

/* /readyz: 200 once started (the first request to the server ended), 503
 * before and while draining. */
static void reply_readyz(struct listener *l, struct evhttp_request *req)
{
    struct daemon *d = l->d;
    if (d->draining)
        reply_text(req, 503, "text/plain", "draining\n");
    else if (subscribe_in_place(d) || l->m.requests_done > 0)
        reply_text(req, 200, "text/plain", "ready\n");
    else
        reply_text(req, 503, "text/plain", "starting\n");
}

static void reply_metrics(struct listener *l, struct evhttp_request *req)
{
    struct daemon *d = l->d;
    const struct pipeline_stats *ps = pipeline_stats(d);
    struct status_health h;
    health(l, &h);
    struct metrics_gauges g;
    memset(&g, 0, sizeof g);
    g.version = NENFHIR_VERSION_STR;
    g.reports_written = ps->reports_written;
    g.unchanged = ps->unchanged;
    g.retries = ps->retries;
    g.dead_total = ps->dead;
    g.held = ps->held;
    g.catchups = catchup_rounds(d);
    g.not_kept = intake_not_kept(d);
    g.in_flight = pipeline_running(d);
    g.healthy = h.healthy;
    g.ready = h.ready;
    g.write_mode = pipeline_write_mode_name(d, &g.write_single); /* issue 13 item 3 */
    int64_t now = adapter_now_ms(), oldest = 0;
    g.seconds_since_contact = l->m.last_ok_ms ? (double)(now - l->m.last_ok_ms) / 1000.0 : -1;
    if (store_counts(d->store, &g.queued, &g.dead, &g.resolving) != 0 ||
        store_report_stats(d->store, &g.report_cases, &g.report_writes) != 0 ||
        store_mirror_count(d->store, &g.mirrored) != 0 ||
        store_size_bytes(d->store, &g.store_bytes) != 0)
        LOG_WARN("metrics: store: %s", store_error(d->store));
    int r = store_job_oldest_ms(d->store, &oldest);
    if (r < 0)
        LOG_WARN("metrics: store: %s", store_error(d->store));
    else if (r == 1 && now > oldest)
        g.oldest_job_age_s = (double)(now - oldest) / 1000.0;
    if (metrics_process_read(&g) != 0)
        LOG_WARN("metrics: /proc/self/stat is unreadable");
    char *text = metrics_render(&l->m, &g);
    if (!text) {
        evhttp_send_error(req, 500, NULL);
        return;
    }
    reply_text(req, 200, "text/plain; version=0.0.4", text);
    free(text);
}

/* An HTML page built by fn into a buffer: 200 (found), 404 (0), 500. */
static void reply_html(struct evhttp_request *req, struct evbuffer *b, int rc)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/html; charset=utf-8");
    evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
    evhttp_send_reply(req, rc > 0 ? 200 : rc == 0 ? 404 : 500, NULL, b);
}

/* /status and /status/case/ACCESSION (issue 14 item 5). */
static void reply_status(struct listener *l, struct evhttp_request *req, const char *path)
{
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        evhttp_send_error(req, 500, NULL);
        return;
    }
    if (strcmp(path, "/status") == 0 || strcmp(path, "/status/") == 0) {
        struct status_health h;
        health(l, &h);
        reply_html(req, b, status_page_main(l->d, &h, &l->m, b) == 0 ? 1 : -1);
    } else {
        char *acc = evhttp_uridecode(path + strlen("/status/case/"), 0, NULL);
        if (!acc || !acc[0]) {
            free(acc);
            evbuffer_free(b);
            reply_outcome(req, 404, "not-found", "no such page: /status/case/ACCESSION");
            return;
        }
        reply_html(req, b, status_page_case(l->d, acc, b));
        free(acc);
    }
    evbuffer_free(b);
}

/* A notification may hold at most this many JSON objects (or XML elements)
 * per Bundle entry allowed (listen.max_entries): a Bundle entry with its
 * resource is about 5 to 30 of them; the bound is on the whole body, so one
 * large resource fits too. Counted before parsing: the parsed tree costs
 * some hundred bytes per object (json-c), whatever the body's size. */
#define LISTEN_OBJECTS_PER_ENTRY 64

/* The number of bytes c in body[0..len) (an upper bound on the JSON objects
 * with '{', on the XML elements with '<'). */
static size_t count_byte(const char *body, size_t len, char c)
{
    size_t n = 0;
    for (const char *p = body, *end = body + len; p < end; p++) {
        p = memchr(p, c, (size_t)(end - p));
        if (!p)
            break;
        n++;
    }
    return n;
}

/* The body's cost is within listen.max_entries (0), or not (1, why set):
 * before parsing, the objects (JSON '{') or elements (XML '<') it may make;
 * after (root given), the entries of a Bundle. */
static int too_many_entries(const struct run_config *c, const char *body, size_t len,
                            json_object *root, char *why, size_t wlen)
{
    size_t max = (size_t)c->listen_max_entries;
    if (!root) {
        size_t objects = count_byte(body, len, '{') + count_byte(body, len, '<');
        if (objects <= max * LISTEN_OBJECTS_PER_ENTRY)
            return 0;
        snprintf(why, wlen,
                 "the body holds up to %zu objects, more than a notification of "
                 "listen.max_entries = %zu Bundle entries may (%d each); not parsed",
                 objects, max, LISTEN_OBJECTS_PER_ENTRY);
        return 1;
    }
    json_object *rt = NULL, *entry = NULL;
    if (!json_object_object_get_ex(root, "resourceType", &rt) ||
        strcmp(json_object_get_string(rt), "Bundle") != 0 ||
        !json_object_object_get_ex(root, "entry", &entry) ||
        !json_object_is_type(entry, json_type_array))
        return 0;
    size_t n = json_object_array_length(entry);
    if (n <= max)
        return 0;
    snprintf(why, wlen, "the Bundle has %zu entries, more than listen.max_entries = %zu", n,
             max);
    return 1;
}

/* A notification refused 413 (too large, too many entries): what it carried
 * is found by a catch-up (a search since the cursor), asked now. */
static void refused_large(struct listener *l, const char *method, const char *subpath,
                          const char *why)
{
    LOG_WARN("notification %s %s refused (413): %s; catch-up asked so that nothing it "
             "carried is lost",
             method, subpath[0] ? subpath : "/", why);
    catchup_request(l->d);
}

/* The FHIR client's observer: every finished request counted (kind, class,
 * duration), the last contact noted, and a report accepted observed in the
 * case latency histogram (from its job's last input). */
static void on_fhir_request(void *ctx, const struct fhir_client_event *ev)
{
    struct listener *l = ctx;
    int64_t now = adapter_now_ms();
    metrics_fhir_request(&l->m, ev->method, ev->url, ev->status, ev->error, ev->seconds, now);
    int64_t last_ms;
    enum metrics_kind kind = metrics_kind_of(ev->method, ev->url);
    /* a report is accepted with its transaction, or, written one resource at
     * a time (issue 13 item 3), with its Provenance: always the last one */
    if (ev->status >= 200 && ev->status < 300 &&
        (kind == METRICS_TRANSACTION ||
         (kind == METRICS_WRITE && ev->url && strstr(ev->url, "/Provenance?"))) &&
        pipeline_run_last_input_ms(l->d, ev->req_ctx, &last_ms) == 1)
        metrics_observe(&l->m.case_seconds, (double)(now - last_ms) / 1000.0);
}

/* I1: the shared header secret, or Medplum's X-Signature HMAC. 0 ok, else
 * the HTTP status to refuse with (message in why). */
static int check_secret(const struct run_config *c, struct evkeyvalq *h, const char *body,
                        size_t len, const char **why)
{
    if (!c->secret[0])
        return 0;
    const char *sig = evhttp_find_header(h, "X-Signature");
    if (sig) {
        if (fhir_notify_hmac_ok(c->secret, body, len, sig))
            return 0;
        *why = "X-Signature does not match the body (HMAC-SHA256 with the shared secret)";
        return 403;
    }
    const char *got = evhttp_find_header(h, c->secret_header);
    if (!got) {
        *why = "no secret header and no X-Signature";
        return 401;
    }
    if (fhir_notify_secret_ok(c->secret, got))
        return 0;
    *why = "wrong secret";
    return 403;
}

static void handle_notification(struct listener *l, struct evhttp_request *req,
                                const char *subpath)
{
    struct daemon *d = l->d;
    const char *method = NULL;
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_POST: method = "POST"; break;
    case EVHTTP_REQ_PUT: method = "PUT"; break;
    case EVHTTP_REQ_DELETE: method = "DELETE"; break;
    default:
        l->m.refused[METRICS_REFUSED_METHOD]++;
        reply_outcome(req, 405, "not-supported", "notifications are POST, PUT or DELETE");
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *body = len ? (const char *)evbuffer_pullup(in, -1) : NULL;
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    const char *why = NULL;
    int refuse = check_secret(d->cfg, h, body, len, &why);
    if (refuse) {
        l->m.refused[METRICS_REFUSED_AUTH]++;
        char *peer = NULL;
        ev_uint16_t port = 0;
        struct evhttp_connection *con = evhttp_request_get_connection(req);
        if (con)
            evhttp_connection_get_peer(con, &peer, &port);
        LOG_WARN("refused %s %s from %s:%u: %s", method, subpath[0] ? subpath : "/",
                 peer ? peer : "unknown", (unsigned)port, why);
        reply_outcome(req, refuse, refuse == 401 ? "login" : "forbidden", why);
        return;
    }
    char many[240];
    if (too_many_entries(d->cfg, body, len, NULL, many, sizeof many)) {
        l->m.refused[METRICS_REFUSED_TOO_LARGE]++;
        reply_outcome(req, 413, "too-long", many);
        refused_large(l, method, subpath, many);
        return;
    }
    struct fhir_notify_request rq = {method, subpath, evhttp_find_header(h, "Content-Type"),
                                     evhttp_find_header(h, "X-Medplum-Deleted-Resource"), body,
                                     len};
    struct fhir_limits lim = {d->cfg->listen_max_body, FHIR_LIMITS_DEFAULT_DEPTH};
    struct fhir_notify_batch b;
    struct fhir_error err = {0};
    int parsed = fhir_notify_parse(&rq, &lim, &b, &err);
    if (parsed != 0 && err.out_of_memory) {
        /* not the sender's fault: refused so that it sends it again (I7) */
        LOG_WARN("notification %s %s not acknowledged: %s", method, subpath[0] ? subpath : "/",
                 err.msg);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "5");
        reply_outcome(req, 503, "transient",
                      "out of memory reading the notification; send it again");
        return;
    }
    if (parsed != 0) {
        l->m.refused[METRICS_REFUSED_INVALID]++;
        LOG_WARN("notification %s %s refused: %s", method, subpath[0] ? subpath : "/", err.msg);
        reply_outcome(req, 400, "invalid", err.msg);
        return;
    }
    if (too_many_entries(d->cfg, body, len, b.root, many, sizeof many)) {
        fhir_notify_batch_free(&b);
        l->m.refused[METRICS_REFUSED_TOO_LARGE]++;
        reply_outcome(req, 413, "too-long", many);
        refused_large(l, method, subpath, many);
        return;
    }
    LOG_DEBUG("notification %s %s (%s, %zu bytes): %d event(s)", method,
              subpath[0] ? subpath : "/", rq.content_type ? rq.content_type : "no body", len,
              b.nevent);
    int catchup = 0;
    if (intake_batch(d, &b, &catchup) != 0) {
        fhir_notify_batch_free(&b);
        l->m.refused[METRICS_REFUSED_STORE]++;
        /* issue 12 item 6: a store fault (disk full, I/O error, lock held,
         * memory) is expected to pass: the sender may try again soon */
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "5");
        reply_outcome(req, 503, "transient", "could not store the notification; send it again");
        return;
    }
    l->m.accepted++;
    l->m.by_style[metrics_style_of(method, b.status_type[0] != '\0', len)]++;
    fhir_notify_batch_free(&b);
    reply_outcome(req, 200, "informational", "stored");
    if (catchup)
        catchup_request(d);
    daemon_kick(d, 0);
}

/* 1 if path is the notification endpoint or under it (subpath set). */
static int notification_path(const struct listener *l, const char *path, const char **subpath)
{
    const char *ep = l->d->cfg->listen_path;
    size_t n = strlen(ep);
    if (strncmp(path, ep, n) != 0 || (path[n] != '\0' && path[n] != '/'))
        return 0;
    *subpath = path + n;
    return 1;
}

static const char *path_of(struct evhttp_request *req)
{
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *path = u ? evhttp_uri_get_path(u) : NULL;
    return path && path[0] ? path : "/";
}

/* Answer a request refused for its framing, and close the connection: what
 * follows the body evhttp framed is never read as a next request. */
static void reply_refusal(struct listener *l, struct evhttp_request *req,
                          const struct listener_refusal *r)
{
    char peer[80];
    listener_guard_peer(req, peer, sizeof peer);
    l->m.refused[r->reason]++;
    LOG_WARN("refused a request for %.200s from %s (%d): %s", path_of(req), peer, r->status,
             r->text);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
    reply_outcome(req, r->status, r->code, r->text);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct listener *l = arg;
    struct evhttp_connection *con = evhttp_request_get_connection(req);
    struct bufferevent *cbev = con ? evhttp_connection_get_bufferevent(con) : NULL;
    if (l->ssl && !(cbev && bufferevent_openssl_get_ssl(cbev))) {
        LOG_ERROR("listen: a request came on a connection without TLS; closed");
        evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
        evhttp_send_error(req, 500, NULL);
        return;
    }
    if (l->ssl)
        listener_guard_request(l->guard, req);
    struct listener_refusal refusal;
    if (listener_guard_framing(req, &refusal)) {
        reply_refusal(l, req, &refusal);
        return;
    }
    if (!l->ssl && cbev) /* plain HTTP (loopback tests): no handshake to hook */
        set_nodelay(bufferevent_getfd(cbev));
    const char *path = path_of(req), *subpath;
    if (notification_path(l, path, &subpath)) {
        handle_notification(l, req, subpath);
        return;
    }
    if (strcmp(path, "/healthz") == 0) {
        reply_healthz(l, req);
        return;
    }
    if (strcmp(path, "/readyz") == 0) {
        reply_readyz(l, req);
        return;
    }
    if (strcmp(path, "/status") == 0 || strcmp(path, "/status/") == 0 ||
        strncmp(path, "/status/case/", 13) == 0) {
        reply_status(l, req, path);
        return;
    }
    if (strcmp(path, "/metrics") == 0) {
        reply_metrics(l, req);
        return;
    }
    reply_outcome(req, 404, "not-found", "no such path: notifications go to the endpoint path");
}

static int bound_port(struct evhttp_bound_socket *s)
{
    evutil_socket_t fd = evhttp_bound_socket_get_fd(s);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

struct listener *listener_start(struct daemon *d, char *err, size_t errlen)
{
    const struct run_config *c = d->cfg;
    struct listener *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->d = d;
    l->started_ms = adapter_now_ms();
    l->store_ok = 1;
    metrics_init(&l->m);
    l->http = evhttp_new(d->base);
    if (!l->http) {
        snprintf(err, errlen, "listen: cannot make the HTTP server");
        listener_free(l);
        return NULL;
    }
    if (!c->listen_plain_http) {
        l->ssl = tls_context(c, err, errlen);
        if (!l->ssl) {
            listener_free(l);
            return NULL;
        }
        SSL_CTX_set_app_data(l->ssl, l);
        struct listener_guard_limits lim = {c->listen_max_connections,
                                            c->listen_max_connections_per_peer,
                                            c->listen_request_timeout_s,
                                            c->listen_max_inflight_bytes};
        l->guard = listener_guard_new(d->base, &l->m, &lim);
        if (!l->guard) {
            snprintf(err, errlen, "listen: out of memory");
            listener_free(l);
            return NULL;
        }
        evhttp_set_bevcb(l->http, on_new_connection, l);
    }
    evhttp_set_max_body_size(l->http, (ev_ssize_t)c->listen_max_body);
    evhttp_set_max_headers_size(l->http, 64 * 1024);
    /* evhttp's own timeout measures silence only: with TLS the guard's
     * overall deadline comes first (so it is the one counted and logged);
     * plain HTTP (loopback tests) has only this one */
    evhttp_set_timeout(l->http, c->listen_request_timeout_s + (l->ssl ? 5 : 0));
    evhttp_set_allowed_methods(l->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE);
    evhttp_set_gencb(l->http, on_request, l);
    struct evhttp_bound_socket *s =
        evhttp_bind_socket_with_handle(l->http, c->listen_address, (ev_uint16_t)c->listen_port);
    if (!s) {
        snprintf(err, errlen, "listen: cannot bind %s:%d", c->listen_address, c->listen_port);
        listener_free(l);
        return NULL;
    }
    l->port = bound_port(s);
    /* last: the client outlives the listener (daemon_close frees it first) */
    fhir_client_set_observer(d->client, on_fhir_request, l);
    return l;
}

int listener_port(const struct listener *l)
{
    return l->port;
}

void listener_free(struct listener *l)
{
    if (!l)
        return;
    if (l->http)
        evhttp_free(l->http); /* closes the connections: the guard sees them go */
    listener_guard_free(l->guard);
    if (l->ssl)
        SSL_CTX_free(l->ssl);
    free(l);
}
