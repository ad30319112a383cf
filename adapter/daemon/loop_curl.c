/*
 * loop_curl.c - curl multi on libevent (loop_curl.h). Owns the per-socket
 * events (struct loop_sock, stored as curl's socket pointer) and the timer.
 */
#include "loop_curl.h"

#include <stdlib.h>

struct loop_curl {
    struct event_base *base;
    struct fhir_client *client;
    struct event *timer;
};

struct loop_sock {
    struct event *ev;
    struct loop_curl *lc;
};

static void on_socket(evutil_socket_t fd, short kind, void *arg)
{
    struct loop_sock *s = arg;
    int what = 0;
    if (kind & EV_READ)
        what |= FHIR_CLIENT_POLL_IN;
    if (kind & EV_WRITE)
        what |= FHIR_CLIENT_POLL_OUT;
    fhir_client_socket_action(s->lc->client, (int)fd, what);
}

static void on_timer(evutil_socket_t fd, short kind, void *arg)
{
    struct loop_curl *lc = arg;
    (void)fd;
    (void)kind;
    fhir_client_timeout(lc->client);
}

static void sock_fn(void *ctx, int fd, int what, void *sockp)
{
    struct loop_curl *lc = ctx;
    struct loop_sock *s = sockp;
    if (what & FHIR_CLIENT_POLL_REMOVE) {
        if (s) {
            event_free(s->ev);
            free(s);
            fhir_client_assign(lc->client, fd, NULL);
        }
        return;
    }
    short kind = EV_PERSIST;
    if (what & FHIR_CLIENT_POLL_IN)
        kind |= EV_READ;
    if (what & FHIR_CLIENT_POLL_OUT)
        kind |= EV_WRITE;
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return; /* curl's timeout still drives the transfer, slowly */
        s->lc = lc;
        fhir_client_assign(lc->client, fd, s);
    } else {
        event_free(s->ev);
    }
    s->ev = event_new(lc->base, fd, kind, on_socket, s);
    if (s->ev)
        event_add(s->ev, NULL);
}

static void timer_fn(void *ctx, long ms)
{
    struct loop_curl *lc = ctx;
    if (ms < 0) {
        evtimer_del(lc->timer);
        return;
    }
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(lc->timer, &tv);
}

struct loop_curl *loop_curl_attach(struct event_base *base, struct fhir_client *client)
{
    struct loop_curl *lc = calloc(1, sizeof *lc);
    if (!lc)
        return NULL;
    lc->base = base;
    lc->client = client;
    lc->timer = evtimer_new(base, on_timer, lc);
    if (!lc->timer) {
        free(lc);
        return NULL;
    }
    fhir_client_set_callbacks(client, sock_fn, timer_fn, lc);
    return lc;
}

void loop_curl_free(struct loop_curl *lc)
{
    if (!lc)
        return;
    event_free(lc->timer);
    free(lc);
}
