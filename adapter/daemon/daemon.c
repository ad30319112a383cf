/*
 * daemon.c - `nenfhir run`: builds the daemon (daemon.h) from its config,
 * runs the libevent loop and tears it down. Start order: store (work left
 * by a previous run resumes, I7), code tables, FHIR client, listener (so the
 * backport handshake can be answered), then the Subscription (I2, retried
 * until it works) and a catch-up (I4). SIGTERM/SIGINT: stop taking work,
 * let cases in flight finish (at most 30 s), exit. SIGHUP: catch up now.
 * Owns what struct daemon calls the context and the daemon's own events;
 * the modules own their states (daemon.h).
 */
#include "adapter_files.h"
#include "daemon.h"
#include "daemon_run.h"
#include "listener.h"
#include "loop_curl.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

void daemon_kick(struct daemon *d, long ms)
{
    if (!d->work_timer)
        return;
    int64_t at = adapter_now_ms() + ms;
    if (evtimer_pending(d->work_timer, NULL) && d->work_at_ms <= at)
        return; /* an earlier run is already planned */
    d->work_at_ms = at;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(d->work_timer, &tv);
}

static void drain_check(struct daemon *d)
{
    if (d->draining && pipeline_running(d) == 0 && !catchup_busy(d))
        event_base_loopexit(d->base, NULL);
}

static void on_work(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;
    (void)fd;
    (void)what;
    if (d->draining) {
        drain_check(d);
        return;
    }
    catchup_resolve_next(d);
    pipeline_run_due(d);
    int64_t due;
    if (store_job_next_due(d->store, &due) == 1) {
        int64_t wait = due - adapter_now_ms();
        daemon_kick(d, wait < 10 ? 10 : wait > 60000 ? 60000 : (long)wait);
    }
}

static void on_catchup(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;
    (void)fd;
    (void)what;
    if (subscribe_in_place(d))
        catchup_request(d);
}

static void subscribed(struct daemon *d, int ok);

static void on_resubscribe(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    subscribe_ensure(arg, subscribed);
}

static void subscribed(struct daemon *d, int ok)
{
    if (!ok) {
        LOG_WARN("the Subscription is not in place yet; trying again in 5 s");
        struct timeval tv = {5, 0};
        event_base_once(d->base, -1, EV_TIMEOUT, on_resubscribe, d, &tv);
        return;
    }
    catchup_request(d); /* I4: whatever happened while we were away */
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *d = arg;
    (void)what;
    if (sig == SIGHUP) {
        LOG_INFO("SIGHUP: catching up now");
        catchup_request(d);
        return;
    }
    if (d->draining) {
        LOG_WARN("second signal: exiting now");
        event_base_loopbreak(d->base);
        return;
    }
    LOG_INFO("%s: finishing %d case(s) in flight, then exiting", sig == SIGTERM ? "SIGTERM" :
             "SIGINT", pipeline_running(d));
    d->draining = 1;
    struct timeval tv = {30, 0};
    event_base_loopexit(d->base, &tv);
    drain_check(d);
}

static int daemon_open(struct daemon *d, char *err, size_t errlen)
{
    const struct run_config *c = d->cfg;
    adapter_log_verbose = c->log_verbose;
    d->store = store_open(c->store_path, err, errlen);
    if (!d->store)
        return -1;
    pipeline_init(d);
    d->codes = nen_codes_new();
    if (!d->codes || nen_codes_load_default(d->codes, err, (unsigned)errlen) != 0)
        return -1;
    for (int i = 0; i < c->nmap; i++)
        if (adapter_load_map(d->codes, c->map[i], err, errlen) != 0)
            return -1;
    struct fhir_client_opts o = {c->server_base, c->server_ca_file, c->server_client_cert,
                                 c->server_client_key, c->server_token, c->server_timeout_s,
                                 (size_t)256 * 1024 * 1024, "nenfhir/" NENFHIR_VERSION_STR,
                                 c->server_insecure_http};
    d->client = fhir_client_new(&o, err, errlen);
    if (!d->client)
        return -1;
    d->base = event_base_new();
    if (!d->base || !(d->loop = loop_curl_attach(d->base, d->client))) {
        snprintf(err, errlen, "cannot make the event loop");
        return -1;
    }
    d->work_timer = evtimer_new(d->base, on_work, d);
    d->catchup_timer = event_new(d->base, -1, EV_PERSIST, on_catchup, d);
    d->sig_term = evsignal_new(d->base, SIGTERM, on_signal, d);
    d->sig_int = evsignal_new(d->base, SIGINT, on_signal, d);
    d->sig_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
    if (!d->work_timer || !d->catchup_timer || !d->sig_term || !d->sig_int || !d->sig_hup) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    evsignal_add(d->sig_term, NULL);
    evsignal_add(d->sig_int, NULL);
    evsignal_add(d->sig_hup, NULL);
    if (c->mode != RUN_MODE_POLL) {
        d->listener = listener_start(d, err, errlen);
        if (!d->listener)
            return -1;
    }
    return 0;
}

static void daemon_close(struct daemon *d)
{
    fhir_client_free(d->client);  /* cancels what is in flight first */
    loop_curl_free(d->loop);
    listener_free(d->listener);
    struct event *evs[] = {d->work_timer, d->catchup_timer, d->sig_term, d->sig_int, d->sig_hup};
    for (size_t i = 0; i < sizeof evs / sizeof *evs; i++)
        if (evs[i])
            event_free(evs[i]);
    if (d->base)
        event_base_free(d->base);
    nen_codes_free(d->codes);
    store_close(d->store);
}

int daemon_run(struct run_config *c)
{
    struct daemon d = {0};
    char err[1024] = "";
    d.cfg = c;
    signal(SIGPIPE, SIG_IGN);
    if (daemon_open(&d, err, sizeof err) != 0) {
        LOG_ERROR("%s", err);
        daemon_close(&d);
        return 1;
    }
    int port = d.listener ? listener_port(d.listener) : 0;
    LOG_INFO("nenfhir %s started: server %s, mode %s, store %s", NENFHIR_VERSION_STR,
             c->server_base, run_mode_name(c->mode), c->store_path);
    if (port)
        LOG_INFO("listening on %s:%d%s (%s)", c->listen_address, port, c->listen_path,
                 c->listen_plain_http ? "plain HTTP, loopback" : "HTTPS");
    struct timeval every = {c->mode == RUN_MODE_POLL ? c->poll_interval_s : c->catchup_interval_s,
                            0};
    evtimer_add(d.catchup_timer, &every);
    if (c->mode == RUN_MODE_POLL) {
        subscribe_not_needed(&d);
        subscribed(&d, 1);
    } else {
        subscribe_ensure(&d, subscribed);
    }
    daemon_kick(&d, 0);
    event_base_dispatch(d.base);
    int queued = 0, dead = 0, resolving = 0;
    store_counts(d.store, &queued, &dead, &resolving);
    LOG_INFO("stopped: %lu report(s) written, %d job(s) queued, %d dead letter(s)",
             pipeline_stats(&d)->reports_written, queued, dead);
    daemon_close(&d);
    return d.exit_code;
}
