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
 */
#ifndef FHIR_CLIENT_H
#define FHIR_CLIENT_H

#include <stddef.h>

struct fhir_client_opts {
    const char *base;         /* "https://host:port/fhir" (no trailing '/') */
    const char *ca_file;      /* NULL/"" = system store */
    const char *client_cert;  /* PEM; NULL/"" = none */
    const char *client_key;
    const char *token;        /* bearer token; NULL/"" = none */
    long timeout_s;           /* whole request */
    size_t max_body;          /* response bound */
    const char *user_agent;
};

struct fhir_response {
    long status;              /* HTTP status; 0 when no response (transport error) */
    const char *error;        /* transport error text ("" when status != 0) */
    char *body;               /* NUL-terminated; borrowed for the callback's duration */
    size_t len;
    char content_type[96];
    long retry_after_s;       /* Retry-After in seconds (delta form), -1 absent */
    char location[512];       /* Location or Content-Location header, "" absent */
};

/* Called once per request, from fhir_client_socket_action (or
 * fhir_client_cancel_all with status 0 and error "cancelled"). */
typedef void (*fhir_client_done_fn)(void *ctx, const struct fhir_response *r);

struct fhir_client;

/* Returns NULL with err set (out of memory, curl init failure). The strings
 * in o are copied. Caller frees with fhir_client_free. */
struct fhir_client *fhir_client_new(const struct fhir_client_opts *o, char *err, size_t errlen);
/* Cancels what is in flight (callbacks called with "cancelled") and frees. */
void fhir_client_free(struct fhir_client *c);

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

/* Start a request. url: absolute (https://...) or relative to base
 * ("Observation?x=1", "/Patient/1" both work). body may be NULL (then len
 * ignored); it is copied. content_type: the body's, NULL for none. Accept is
 * application/fhir+json. Returns 0, or -1 (out of memory) without calling cb. */
int fhir_client_request(struct fhir_client *c, const char *method, const char *url,
                        const char *body, size_t len, const char *content_type,
                        fhir_client_done_fn cb, void *ctx);

/* Requests in flight. */
int fhir_client_pending(const struct fhir_client *c);

/* The base URL the client was made with. */
const char *fhir_client_base(const struct fhir_client *c);

#endif
