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
 */
#include "listener.h"

#include "daemon.h"
#include "fhir_notify.h"

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

struct listener {
    struct daemon *d;
    struct evhttp *http;
    SSL_CTX *ssl;
    int port;
    unsigned long notifications;   /* accepted and stored */
    unsigned long refused;         /* wrong secret / bad request */
};

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

/* SSL info callback: at the start of the server handshake (once per
 * accepted connection; the socket is attached by then), TCP_NODELAY. A
 * TLS 1.3 key update starts a handshake again: setting it twice is harmless. */
static void on_tls_info(const SSL *ssl, int where, int ret)
{
    (void)ret;
    if ((where & SSL_CB_HANDSHAKE_START) && SSL_is_server(ssl))
        set_nodelay(SSL_get_fd(ssl));
}

static struct bufferevent *on_new_connection(struct event_base *base, void *arg)
{
    SSL_CTX *ctx = arg;
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return NULL;
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
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

static void reply_metrics(struct listener *l, struct evhttp_request *req)
{
    struct daemon *d = l->d;
    const struct pipeline_stats *ps = pipeline_stats(d);
    int queued = 0, dead = 0, resolving = 0;
    long cases = 0, writes = 0, mirrored = 0;
    store_counts(d->store, &queued, &dead, &resolving);
    store_report_stats(d->store, &cases, &writes);
    store_mirror_count(d->store, &mirrored);
    char text[4096];
    snprintf(text, sizeof text,
             "# TYPE nenfhir_notifications_total counter\nnenfhir_notifications_total %lu\n"
             "# TYPE nenfhir_notifications_refused_total counter\n"
             "nenfhir_notifications_refused_total %lu\n"
             "# TYPE nenfhir_reports_written_total counter\nnenfhir_reports_written_total %lu\n"
             "# TYPE nenfhir_reports_unchanged_total counter\nnenfhir_reports_unchanged_total %lu\n"
             "# TYPE nenfhir_write_retries_total counter\nnenfhir_write_retries_total %lu\n"
             "# TYPE nenfhir_dead_letters_total counter\nnenfhir_dead_letters_total %lu\n"
             "# TYPE nenfhir_catchups_total counter\nnenfhir_catchups_total %lu\n"
             "# TYPE nenfhir_queue_jobs gauge\nnenfhir_queue_jobs %d\n"
             "# TYPE nenfhir_queue_dead gauge\nnenfhir_queue_dead %d\n"
             "# TYPE nenfhir_queue_resolving gauge\nnenfhir_queue_resolving %d\n"
             "# TYPE nenfhir_cases_in_flight gauge\nnenfhir_cases_in_flight %d\n"
             "# HELP nenfhir_cases_held_total Case computations held for missing inputs "
             "(written preliminary after work.preliminary_after)\n"
             "# TYPE nenfhir_cases_held_total counter\nnenfhir_cases_held_total %lu\n"
             "# HELP nenfhir_inputs_not_kept_total Observations whose code is no input: not "
             "kept, no case queued\n"
             "# TYPE nenfhir_inputs_not_kept_total counter\nnenfhir_inputs_not_kept_total %lu\n"
             "# HELP nenfhir_mirror_resources Input resources kept in the store\n"
             "# TYPE nenfhir_mirror_resources gauge\nnenfhir_mirror_resources %ld\n"
             "# HELP nenfhir_report_cases Cases (specimen accessions) with a report in the store\n"
             "# TYPE nenfhir_report_cases gauge\nnenfhir_report_cases %ld\n"
             "# HELP nenfhir_report_writes Report transactions recorded for those cases, all "
             "time (writes per case = this / nenfhir_report_cases)\n"
             "# TYPE nenfhir_report_writes gauge\nnenfhir_report_writes %ld\n",
             l->notifications, l->refused, ps->reports_written, ps->unchanged, ps->retries,
             ps->dead, catchup_rounds(d), queued, dead, resolving, pipeline_running(d),
             ps->held, intake_not_kept(d), mirrored, cases, writes);
    reply_text(req, 200, "text/plain; version=0.0.4", text);
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
        l->refused++;
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
        l->refused++;
        LOG_WARN("refused %s %s from the listener: %s", method, subpath[0] ? subpath : "/", why);
        reply_outcome(req, refuse, refuse == 401 ? "login" : "forbidden", why);
        return;
    }
    struct fhir_notify_request rq = {method, subpath, evhttp_find_header(h, "Content-Type"),
                                     evhttp_find_header(h, "X-Medplum-Deleted-Resource"), body,
                                     len};
    struct fhir_limits lim = {d->cfg->listen_max_body, FHIR_LIMITS_DEFAULT_DEPTH};
    struct fhir_notify_batch b;
    struct fhir_error err = {{0}};
    if (fhir_notify_parse(&rq, &lim, &b, &err) != 0) {
        l->refused++;
        LOG_WARN("notification %s %s refused: %s", method, subpath[0] ? subpath : "/", err.msg);
        reply_outcome(req, 400, "invalid", err.msg);
        return;
    }
    LOG_DEBUG("notification %s %s (%s, %zu bytes): %d event(s)", method,
              subpath[0] ? subpath : "/", rq.content_type ? rq.content_type : "no body", len,
              b.nevent);
    int catchup = 0;
    if (intake_batch(d, &b, &catchup) != 0) {
        fhir_notify_batch_free(&b);
        reply_outcome(req, 503, "transient", "could not store the notification; send it again");
        return;
    }
    l->notifications++;
    fhir_notify_batch_free(&b);
    reply_outcome(req, 200, "informational", "stored");
    if (catchup)
        catchup_request(d);
    daemon_kick(d, 0);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct listener *l = arg;
    if (!l->ssl) { /* plain HTTP (loopback tests): no handshake to hook */
        struct evhttp_connection *con = evhttp_request_get_connection(req);
        struct bufferevent *bev = con ? evhttp_connection_get_bufferevent(con) : NULL;
        if (bev)
            set_nodelay(bufferevent_getfd(bev));
    }
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *path = u ? evhttp_uri_get_path(u) : NULL;
    if (!path)
        path = "/";
    const char *ep = l->d->cfg->listen_path;
    size_t n = strlen(ep);
    if (strncmp(path, ep, n) == 0 && (path[n] == '\0' || path[n] == '/')) {
        handle_notification(l, req, path + n);
        return;
    }
    if (strcmp(path, "/healthz") == 0) {
        reply_text(req, 200, "text/plain", subscribe_in_place(l->d) ? "ok\n" : "starting\n");
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
        evhttp_set_bevcb(l->http, on_new_connection, l->ssl);
    }
    evhttp_set_max_body_size(l->http, (ev_ssize_t)c->listen_max_body);
    evhttp_set_max_headers_size(l->http, 64 * 1024);
    evhttp_set_timeout(l->http, 60);
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
        evhttp_free(l->http);
    if (l->ssl)
        SSL_CTX_free(l->ssl);
    free(l);
}
