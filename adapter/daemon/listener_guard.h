/*
 * listener_guard.h - what keeps the rest-hook listener from being starved
 * (issue 12 item 7; interop.md I1, I17), on the public API of libevent
 * 2.1.12 (Debian 12) and OpenSSL. evhttp 2.1 has no hook between accepting
 * a connection and reading its request (evhttp_set_newreqcb and header
 * callbacks for incoming requests came with 2.2), so the guard holds each
 * connection through what 2.1 does offer:
 *   - the bufferevent callback (evhttp_set_bevcb) makes every connection's
 *     TLS bufferevent; the guard's state rides on its SSL object (ex_data,
 *     freed with it: that is when the connection is gone);
 *   - a cap on open connections (listen.max_connections) and on those from
 *     one address (listen.max_connections_per_peer): checked by a timer
 *     that fires right after the accept (the socket is attached by then);
 *     over a cap the socket is shut down, so evhttp closes the connection
 *     before any request is read;
 *   - an overall deadline (listen.request_timeout): a timer armed at the
 *     accept and again when an answer has been sent
 *     (evhttp_request_set_on_complete_cb), never reset by incoming bytes;
 *     when it fires the socket is shut down and evhttp closes the
 *     connection. It covers the TLS handshake, the headers and the body;
 *     once evhttp hands the request over, writing the answer gets a
 *     deadline of its own (a slow client reading it is closed too);
 *   - bytes held (listen.max_inflight_bytes): an evbuffer callback on the
 *     connection's input counts the bytes of each request as they arrive
 *     (headers and body, decrypted; the first 64 KiB of each request free,
 *     so headers-only requests such as /healthz always get in); when all
 *     connections together pass the budget, the connection whose bytes
 *     passed it is closed (counted "busy"); bytes are released when the
 *     answer is sent or the connection closes. One body stays bounded by
 *     listen.max_body (evhttp: 413 before reading it).
 *   - ambiguous framing (listener_guard_framing): evhttp 2.1 frames the
 *     body itself (first Content-Length, "+N" read as N); the request is
 *     checked when evhttp hands it over and refused 400 with
 *     "Connection: close", so bytes after the body it framed are never
 *     read as a next request, and nothing is stored.
 * Plain HTTP (listen.plain_http, loopback tests only) has no SSL object to
 * carry the state: the guard does not apply to it.
 * Owns: struct listener_guard (opaque) and the per-connection states.
 */
#ifndef LISTENER_GUARD_H
#define LISTENER_GUARD_H

#include "metrics.h"

#include <openssl/ssl.h>
#include <stddef.h>

struct bufferevent;
struct event_base;
struct evhttp_request;

struct listener_guard_limits {
    int max_connections;          /* >= 1 */
    int max_per_peer;             /* 0: only max_connections */
    int request_timeout_s;        /* >= 1 */
    size_t max_inflight;          /* bytes of all requests being read or handled */
};

/* A request refused (framing). */
struct listener_refusal {
    int status;                   /* 400 */
    const char *code;             /* OperationOutcome issue code (static) */
    enum metrics_refusal reason;  /* counted under this reason */
    char text[200];               /* why, for the answer and the log */
};

/* A guard on base with the limits lim, counting into m (which outlives the
 * guard). Returns NULL when out of memory. Free it with listener_guard_free
 * after evhttp_free (which frees the connections). */
struct listener_guard *listener_guard_new(struct event_base *base, struct metrics *m,
                                          const struct listener_guard_limits *lim);

/* For evhttp's bufferevent callback: the accepting TLS bufferevent of a new
 * connection with a new SSL from ctx, guarded by g; NULL when out of
 * memory (evhttp then closes the connection). */
struct bufferevent *listener_guard_bufferevent(struct listener_guard *g, struct event_base *base,
                                               SSL_CTX *ctx);

/* When the server callback takes req: its answer gets a fresh deadline,
 * and when it has been sent the next request's deadline starts and the
 * request's bytes are released. */
void listener_guard_request(struct listener_guard *g, struct evhttp_request *req);

/* The framing of req (RFC 9112 sections 3.2, 3.3 and 6): 0 sound, or 1
 * with r filled (400): a target that is not a path (absolute-form), more
 * than one Content-Length, one that is not 1*DIGIT ("+5", "-1", "5 5"),
 * Transfer-Encoding other than one "chunked", or both framings. */
int listener_guard_framing(struct evhttp_request *req, struct listener_refusal *r);

/* "address:port" of req's peer ("unknown:0" if none) into out. */
void listener_guard_peer(struct evhttp_request *req, char *out, size_t len);

/* Free g and what is left of its connection states; NULL is a no-op. */
void listener_guard_free(struct listener_guard *g);

#endif
