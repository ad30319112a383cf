/*
 * listener_guard.c - connection caps, per-request deadline, bytes held and
 * framing checks of the listener (listener_guard.h), on libevent 2.1's
 * public API: the bufferevent callback, SSL ex_data (the state lives and
 * dies with the connection's SSL), an event_base timer per connection, an
 * evbuffer callback on the connection's input and the request's
 * on-complete callback. A connection is closed by shutting its socket
 * down: evhttp reads the end of it and frees the connection as for any
 * client that went away.
 */
#include "listener_guard.h"

#include "adapter_log.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

struct guard_conn {
    struct guard_conn *next;
    struct listener_guard *g;
    struct bufferevent *bev;
    struct event *admit;           /* right after the accept: the caps */
    struct event *deadline;        /* the current request's overall deadline */
    char peer[64];                 /* the peer's address (no port) */
    int port;
    int admitted;                  /* counted against the caps */
    int closing;                   /* shut down by the guard */
    size_t held;                   /* bytes received for the current request */
};

struct listener_guard {
    struct metrics *m;
    struct listener_guard_limits lim;
    struct guard_conn *conns;
    int admitted;                  /* connections within the caps, open */
    size_t inflight;               /* sum of the connections' counted(held) */
};

/* The first bytes of each request are not counted against the budget: a
 * request line and headers (evhttp: at most 64 KiB) of /healthz still come
 * in when bodies fill it. What goes uncounted is at most this much per
 * open connection (listen.max_connections of them). */
#define GUARD_FREE_BYTES ((size_t)64 * 1024)

/* The part of a request's held bytes counted against the budget. */
static size_t counted(size_t held)
{
    return held > GUARD_FREE_BYTES ? held - GUARD_FREE_BYTES : 0;
}

/* The SSL ex_data index of a connection's state (one per process). */
static int conn_index = -1;

static void update_gauges(struct listener_guard *g)
{
    g->m->conn_open = g->admitted;
    g->m->inflight_bytes = (long)g->inflight;
}

static void release(struct guard_conn *c)
{
    c->g->inflight -= counted(c->held);
    c->held = 0;
    update_gauges(c->g);
}

/* Unlink c and free it with its timers. */
static void conn_forget(struct guard_conn *c)
{
    struct listener_guard *g = c->g;
    for (struct guard_conn **p = &g->conns; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    release(c);
    if (c->admitted)
        g->admitted--;
    update_gauges(g);
    if (c->admit)
        event_free(c->admit);
    if (c->deadline)
        event_free(c->deadline);
    free(c);
}

/* ex_data free callback: the SSL goes, with its bufferevent and evhttp's
 * connection. */
static void conn_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                         void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    if (ptr)
        conn_forget(ptr);
}

/* Close c: its socket is shut down; evhttp reads the end and frees it. */
static void conn_close(struct guard_conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (fd >= 0 && shutdown(fd, SHUT_RDWR) != 0)
        LOG_WARN("listen: shutdown of the connection of %s: %s", c->peer,
                 evutil_socket_error_to_string(evutil_socket_geterror(fd)));
    if (c->deadline)
        event_del(c->deadline);
}

/* listen.request_timeout passed without a complete request and answer. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct guard_conn *c = arg;
    c->g->m->request_timeouts++;
    LOG_WARN("listen: closed the connection of %s:%d: no complete request and answer within "
             "listen.request_timeout = %d s",
             c->peer, c->port, c->g->lim.request_timeout_s);
    conn_close(c);
}

static int arm_deadline(struct guard_conn *c)
{
    struct timeval tv = {c->g->lim.request_timeout_s, 0};
    if (evtimer_add(c->deadline, &tv) != 0) {
        LOG_ERROR("listen: cannot arm the deadline of a connection from %s", c->peer);
        conn_close(c);
        return -1;
    }
    return 0;
}

/* The peer of fd into c (address, port). */
static void peer_of(struct guard_conn *c, evutil_socket_t fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    snprintf(c->peer, sizeof c->peer, "unknown");
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        if (inet_ntop(AF_INET, &a->sin_addr, c->peer, sizeof c->peer))
            c->port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        if (inet_ntop(AF_INET6, &a->sin6_addr, c->peer, sizeof c->peer))
            c->port = ntohs(a->sin6_port);
    }
}

/* Right after the accept (evhttp has attached the socket): the caps. */
static void on_admit(evutil_socket_t unused, short what, void *arg)
{
    (void)unused, (void)what;
    struct guard_conn *c = arg;
    struct listener_guard *g = c->g;
    peer_of(c, bufferevent_getfd(c->bev));
    if (c->closing)
        return; /* already over the byte budget */
    if (g->admitted >= g->lim.max_connections) {
        g->m->conn_refused_cap++;
        LOG_WARN("listen: refused a connection from %s:%d: listen.max_connections = %d are open",
                 c->peer, c->port, g->lim.max_connections);
        conn_close(c);
        return;
    }
    if (g->lim.max_per_peer > 0) {
        int same = 0;
        for (struct guard_conn *o = g->conns; o; o = o->next)
            same += o->admitted && strcmp(o->peer, c->peer) == 0;
        if (same >= g->lim.max_per_peer) {
            g->m->conn_refused_peer++;
            LOG_WARN("listen: refused a connection from %s:%d: "
                     "listen.max_connections_per_peer = %d are open from it",
                     c->peer, c->port, g->lim.max_per_peer);
            conn_close(c);
            return;
        }
    }
    c->admitted = 1;
    g->admitted++;
    g->m->conn_accepted++;
    update_gauges(g);
    arm_deadline(c);
}

/* Bytes arrived on the connection (decrypted): held until its request is
 * answered; over the budget of all connections, it is closed. */
static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    (void)buf;
    struct guard_conn *c = arg;
    struct listener_guard *g = c->g;
    if (info->n_added == 0 || c->closing)
        return;
    size_t before = counted(c->held);
    c->held += info->n_added;
    g->inflight += counted(c->held) - before;
    update_gauges(g);
    if (g->inflight > g->lim.max_inflight) {
        g->m->refused[METRICS_REFUSED_BUSY]++;
        LOG_WARN("listen: closed the connection of %s:%d: requests being read hold %zu bytes, "
                 "over listen.max_inflight_bytes = %zu (this one %zu)",
                 c->peer, c->port, g->inflight, g->lim.max_inflight, c->held);
        conn_close(c);
    }
}

struct listener_guard *listener_guard_new(struct event_base *base, struct metrics *m,
                                          const struct listener_guard_limits *lim)
{
    (void)base;
    if (conn_index < 0)
        conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_free_cb);
    if (conn_index < 0)
        return NULL;
    struct listener_guard *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->m = m;
    g->lim = *lim;
    return g;
}

struct bufferevent *listener_guard_bufferevent(struct listener_guard *g, struct event_base *base,
                                               SSL_CTX *ctx)
{
    SSL *ssl = SSL_new(ctx);
    struct guard_conn *c = calloc(1, sizeof *c);
    if (!ssl || !c) {
        LOG_ERROR("listen: out of memory for a new connection");
        SSL_free(ssl);
        free(c);
        return NULL;
    }
    c->g = g;
    snprintf(c->peer, sizeof c->peer, "unknown");
    c->admit = evtimer_new(base, on_admit, c);
    c->deadline = evtimer_new(base, on_deadline, c);
    c->next = g->conns;
    g->conns = c;
    if (!c->admit || !c->deadline || !SSL_set_ex_data(ssl, conn_index, c)) {
        LOG_ERROR("listen: cannot set up a new connection");
        conn_forget(c);
        SSL_free(ssl);
        return NULL;
    }
    /* from here c goes with ssl */
    c->bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev) {
        LOG_ERROR("listen: cannot make a TLS bufferevent");
        SSL_free(ssl);
        return NULL;
    }
    struct timeval now = {0, 0};
    if (!evbuffer_add_cb(bufferevent_get_input(c->bev), on_input, c) ||
        evtimer_add(c->admit, &now) != 0) {
        LOG_ERROR("listen: cannot watch a new connection");
        bufferevent_free(c->bev); /* frees ssl and c */
        return NULL;
    }
    return c->bev;
}

static void on_complete(struct evhttp_request *req, void *arg)
{
    (void)req;
    struct guard_conn *c = arg;
    release(c);
    if (c->admitted && !c->closing)
        arm_deadline(c);
}

void listener_guard_request(struct listener_guard *g, struct evhttp_request *req)
{
    (void)g;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
    struct guard_conn *c = ssl && conn_index >= 0 ? SSL_get_ex_data(ssl, conn_index) : NULL;
    if (!c)
        return;
    evhttp_request_set_on_complete_cb(req, on_complete, c);
    /* the request is in: its answer gets a deadline of its own (a slow
     * store must not let the timer cut an answer already decided) */
    if (c->admitted && !c->closing)
        arm_deadline(c);
}

static int refuse(struct listener_refusal *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int refuse(struct listener_refusal *r, const char *fmt, ...)
{
    r->status = 400;
    r->code = "structure";
    r->reason = METRICS_REFUSED_FRAMING;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->text, sizeof r->text, fmt, ap);
    va_end(ap);
    return 1;
}

int listener_guard_framing(struct evhttp_request *req, struct listener_refusal *r)
{
    const char *uri = evhttp_request_get_uri(req);
    if (!uri || uri[0] != '/')
        return refuse(r, "the request target must be a path (origin-form), not \"%.80s\"",
                      uri ? uri : "");
    const char *cl = NULL, *te = NULL;
    int ncl = 0, nte = 0;
    struct evkeyval *h;
    for (h = evhttp_request_get_input_headers(req)->tqh_first; h; h = h->next.tqe_next) {
        if (strcasecmp(h->key, "Content-Length") == 0) {
            ncl++;
            cl = h->value;
        } else if (strcasecmp(h->key, "Transfer-Encoding") == 0) {
            nte++;
            te = h->value;
        }
    }
    if (ncl > 1)
        return refuse(r, "more than one Content-Length header (%d)", ncl);
    if (nte > 1 || (te && strcasecmp(te, "chunked") != 0))
        return refuse(r, "Transfer-Encoding must be one \"chunked\", not \"%.60s\"%s",
                      te ? te : "", nte > 1 ? " and more" : "");
    if (cl && te)
        return refuse(r, "both Content-Length and Transfer-Encoding");
    if (cl && (!cl[0] || strspn(cl, "0123456789") != strlen(cl)))
        return refuse(r, "Content-Length must be digits only, not \"%.40s\"", cl);
    return 0;
}

void listener_guard_peer(struct evhttp_request *req, char *out, size_t len)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    char *addr = NULL;
    ev_uint16_t port = 0;
    if (evcon)
        evhttp_connection_get_peer(evcon, &addr, &port);
    snprintf(out, len, "%.60s:%u", addr ? addr : "unknown", (unsigned)port);
}

void listener_guard_free(struct listener_guard *g)
{
    if (!g)
        return;
    /* connections evhttp_free left (none expected): detach from their SSL */
    while (g->conns) {
        struct guard_conn *c = g->conns;
        if (c->bev) {
            SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
            if (ssl)
                SSL_set_ex_data(ssl, conn_index, NULL);
        }
        conn_forget(c);
    }
    free(g);
}
