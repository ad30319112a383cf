/*
 * fhir_client.h - asynchronous FHIR REST client on libcurl's multi interface
 * (interop.md I15, I16). The client owns one CURLM; the program's event loop
 * drives it through the socket and timer callbacks it installs with
 * fhir_client_set_callbacks (the pattern of curl's docs/examples/hiperfifo.c)
 * and reports socket activity with fhir_client_socket_action. Completed
 * requests call their callback from inside fhir_client_socket_action.
 *
 * TLS: CA file (or the system store), hostname verification, TLS 1.2 or
 * newer, optional client certificate. Auth: optional static bearer token.
 * Response bodies are bounded (max_body); a larger one fails the request.
 *
 * Credentials only to their origin (design.md): the base is checked when the
 * client is made (https, or http only when allowed and to a loopback host;
 * no user part, query or fragment). Every URL is built with libcurl's URL
 * API (fhir_client_url: path segments checked, each query value escaped),
 * and an absolute URL the server handed back (a Bundle's next link, a
 * Location) is requested only when it has the base's scheme, host and port
 * and lies under its path; otherwise the request is refused before anything
 * (the token included) is sent. Redirects are never followed.
 */
#ifndef FHIR_CLIENT_H
#define FHIR_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct fhir_client_opts {
    const char *base;         /* "https://host:port/fhir" (no trailing '/') */
    const char *ca_file;      /* NULL/"" = system store */
    const char *client_cert;  /* PEM; NULL/"" = none */
    const char *client_key;
    const char *token;        /* bearer token; NULL/"" = none */
    long timeout_s;           /* whole request */
    size_t max_body;          /* response bound */
    const char *user_agent;
    int allow_http;           /* accept an http:// base, loopback hosts only (tests) */
};

/* Retry-After values are saturated to this many seconds (about 68 years), so
 * that a caller may multiply by 1000 in 64 bits; callers apply their own cap. */
#define FHIR_CLIENT_RETRY_AFTER_MAX 2147483647L

struct fhir_response {
    long status;              /* HTTP status; 0 when no response (transport error) */
    const char *error;        /* transport error text ("" when status != 0) */
    char *body;               /* NUL-terminated; borrowed for the callback's duration */
    size_t len;
    char content_type[96];
    long retry_after_s;       /* Retry-After, either form (seconds or HTTP-date, read by
                                 curl's CURLINFO_RETRY_AFTER) in seconds from now,
                                 0..FHIR_CLIENT_RETRY_AFTER_MAX; -1 absent */
    int64_t date_ms;          /* the Date header (the server's clock), ms since the
                                 epoch; 0 absent or unreadable */
    char location[512];       /* Location or Content-Location header, "" absent; not
                                 followed: pass it to fhir_client_request, which checks it */
};

/* Called once per request, from fhir_client_socket_action (or
 * fhir_client_cancel_all with status 0 and error "cancelled"). */
typedef void (*fhir_client_done_fn)(void *ctx, const struct fhir_response *r);

struct fhir_client;

/* Check a base URL: parsed by curl_url; scheme https (http only with
 * allow_http and a loopback host: 127.0.0.1, localhost, [::1]); a host; no
 * user part ("https://127.0.0.1:80@other.host/" names other.host), query or
 * fragment. Returns 0, or -1 with err = a sentence quoting the URL. */
int fhir_client_check_base(const char *base, int allow_http, char *err, size_t errlen);

/* Returns NULL with err set (a base fhir_client_check_base refuses, out of
 * memory, curl init failure). The strings in o are copied. Caller frees
 * with fhir_client_free. */
struct fhir_client *fhir_client_new(const struct fhir_client_opts *o, char *err, size_t errlen);
/* Cancels what is in flight (callbacks called with "cancelled") and frees. */
void fhir_client_free(struct fhir_client *c);

/* Replace the TLS files and the bearer token (the SIGHUP reload, issue 14):
 * requests started from now on use them, those in flight keep the old ones
 * (curl copied them). NULL/"" = none (ca_file: the system store). Returns 0,
 * or -1 (out of memory: the old ones are kept). */
int fhir_client_set_credentials(struct fhir_client *c, const char *ca_file,
                                const char *client_cert, const char *client_key,
                                const char *token);

/* The event loop's side (hiperfifo): sock_fn(ctx, fd, what, sockp) with
 * what = FHIR_CLIENT_POLL_* asks the loop to watch fd (REMOVE: stop);
 * timer_fn(ctx, ms) asks for fhir_client_timeout() after ms (-1: cancel).
 * sockp is curl's per-socket pointer: the loop may store its event there
 * via fhir_client_assign. */
enum { FHIR_CLIENT_POLL_IN = 1, FHIR_CLIENT_POLL_OUT = 2, FHIR_CLIENT_POLL_REMOVE = 4 };
typedef void (*fhir_client_sock_fn)(void *ctx, int fd, int what, void *sockp);
typedef void (*fhir_client_timer_fn)(void *ctx, long ms);
void fhir_client_set_callbacks(struct fhir_client *c, fhir_client_sock_fn sock_fn,
                               fhir_client_timer_fn timer_fn, void *ctx);
void fhir_client_assign(struct fhir_client *c, int fd, void *sockp);
/* fd became ready (what = POLL_IN|POLL_OUT mask). */
void fhir_client_socket_action(struct fhir_client *c, int fd, int what);
/* The timer asked for by timer_fn expired. */
void fhir_client_timeout(struct fhir_client *c);

/* The absolute URL base/path?name=value&..., built with curl's URL API:
 * path is "" or segments joined by '/' ("Observation", "Patient/123",
 * "Subscription/abc/_history/2"), each a FHIR id ([A-Za-z0-9-.]{1,64}, not
 * "." or "..") or '_' or '$' followed by letters; params holds nparams
 * name/value pairs (params[2i], params[2i+1]), each appended with
 * CURLU_APPENDQUERY | CURLU_URLENCODE, so every value is escaped ('|', ',',
 * '+', '&', '#', spaces ...). Returns a string the caller frees with free(),
 * or NULL with err set (a path segment refused, out of memory). */
char *fhir_client_url(const struct fhir_client *c, const char *path, const char *const *params,
                      size_t nparams, char *err, size_t errlen);

/* Check url for fhir_client_request without sending it: 0 when it may be
 * requested, else FHIR_CLIENT_EURL with err set. */
int fhir_client_url_allowed(const struct fhir_client *c, const char *url, char *err, size_t errlen);

enum {
    FHIR_CLIENT_ENOMEM = -1, /* out of memory (or curl refused a handle) */
    FHIR_CLIENT_EURL = -2    /* url refused: not under the base (fhir_client_error says why) */
};

/* Start a request. url: absolute (from fhir_client_url, or handed back by the
 * server: then it must have the base's scheme, host and port, no user part,
 * and a path under the base's path), or a path relative to the base as
 * fhir_client_url accepts it ("" for the base itself, "Patient/1"; no query:
 * build those with fhir_client_url). body may be NULL (then len ignored); it
 * is copied. content_type: the body's, NULL for none. Accept is
 * application/fhir+json. Returns 0, or FHIR_CLIENT_ENOMEM / FHIR_CLIENT_EURL
 * without calling cb. */
int fhir_client_request(struct fhir_client *c, const char *method, const char *url,
                        const char *body, size_t len, const char *content_type,
                        fhir_client_done_fn cb, void *ctx);

/* Why the last fhir_client_request failed ("" if it did not). */
const char *fhir_client_error(const struct fhir_client *c);

/* Requests in flight. */
int fhir_client_pending(const struct fhir_client *c);

/* The base URL the client was made with. */
const char *fhir_client_base(const struct fhir_client *c);

/* issue 14 (metrics): one finished request, as an observer sees it; every
 * string borrowed for the call. */
struct fhir_client_event {
    const char *method;       /* as sent ("GET", "POST" ...; "" unknown) */
    const char *url;          /* the absolute URL as sent ("" unknown) */
    long status;              /* HTTP status; 0 no response (transport error, cancelled) */
    const char *error;        /* transport error text, "" with a status */
    double seconds;           /* total time of the transfer */
    void *req_ctx;            /* the ctx the request was started with (read only) */
};
typedef void (*fhir_client_observe_fn)(void *ctx, const struct fhir_client_event *ev);
/* issue 14 (metrics): fn(ctx, ev) is called for every finished request just
 * before its callback (counters, last contact, latency); fn must not start
 * or cancel requests. NULL fn: none. */
void fhir_client_set_observer(struct fhir_client *c, fhir_client_observe_fn fn, void *ctx);

/* issue 12 item 8 (SMART Backend Services, fhir_smart.h): the Authorization
 * header per request. header(ctx, &value) is asked when a request starts:
 * 1 with value = the header line ("Authorization: Bearer ...", borrowed until
 * the request is started), or 0: none yet, the request waits (not sent,
 * still pending) until fhir_client_auth_ready. A response 401 to a request
 * sent with a header calls rejected(ctx, value) (renew) and the request waits
 * and is sent once more; a second 401 is its answer. With a hook set, the
 * static token of fhir_client_opts is not sent. NULL a: no hook. */
struct fhir_client_auth {
    int (*header)(void *ctx, const char **value);
    void (*rejected)(void *ctx, const char *value);
    void *ctx;
};
void fhir_client_set_auth(struct fhir_client *c, const struct fhir_client_auth *a);
/* error NULL: start the waiting requests (header asked again for each); else
 * fail them: their callbacks get status 0 and "no access token: <error>". */
void fhir_client_auth_ready(struct fhir_client *c, const char *error);
/* After ms milliseconds, start the waiting requests again as
 * fhir_client_auth_ready(c, NULL) does (the hook's header is asked again: a
 * retry after a backoff); ms < 0 cancels. One wake-up at a time (a new call
 * replaces the last). It rides on the loop's timer (fhir_client_set_callbacks,
 * shared with curl's); without one it never fires. */
void fhir_client_auth_retry_in(struct fhir_client *c, long ms);

/* A request outside the FHIR API (the token endpoint, the SMART discovery
 * document): never an Authorization header; Accept: application/json. url:
 * absolute, no user part; https, or http to a loopback host when the client
 * allows http; same_origin: it must also have the base's scheme, host and
 * port. Otherwise as fhir_client_request. */
int fhir_client_request_plain(struct fhir_client *c, const char *method, const char *url,
                              int same_origin, const char *body, size_t len,
                              const char *content_type, fhir_client_done_fn cb, void *ctx);

#endif
