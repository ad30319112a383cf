/*
 * daemon.c - `nenfhir run`: builds the daemon (daemon.h) from its config,
 * runs the libevent loop and tears it down. Start order: store (work left
 * by a previous run resumes, I7), code tables, FHIR client, listener (so the
 * backport handshake can be answered), then the Subscription (I2, retried
 * until it works) and a catch-up (I4). SIGTERM/SIGINT: stop taking work,
 * let cases in flight finish (at most 30 s), exit. SIGHUP: reload the
 * config (reload.h: token, client TLS files, code tables, log level and
 * format; a config that fails check-config's checks is refused), catch up now.
 * Owns what struct daemon calls the context and the daemon's own events;
 * the modules own their states (daemon.h).
 *
 * Issue 14: one instance per store (an exclusive flock on "<store>.lock",
 * the pid written in it, held for the daemon's life: a second `run` on the
 * same database refuses and names the first's pid); an upkeep tick every
 * second that notices work requeued by the cli (`reprocess`, `dead-letter
 * replay`: PRAGMA data_version changes when another connection commits, so
 * the work timer is kicked at once) and prunes the store by its keep_* ages
 * once an hour (and at start).
 */
#include "adapter_files.h"
#include "daemon.h"
#include "daemon_run.h"
#include "fhir_smart.h"
#include "listener.h"
#include "loop_curl.h"
#include "reload.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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
        daemon_reload(d); /* issue 14: reload what may change, or refuse */
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

/* issue 12 item 8: fhir_smart's log lines */
static void smart_log(void *ctx, const char *level, const char *line)
{
    (void)ctx;
    adapter_log(level, "%s", line);
}

static int daemon_open(struct daemon *d, char *err, size_t errlen)
{
    const struct run_config *c = d->cfg;
    adapter_log_setup(c->log_verbose, c->log_format);
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
    int smart = strcmp(c->server_auth, "smart-backend") == 0;
    int no_token = smart || strcmp(c->server_auth, "none") == 0;
    struct fhir_client_opts o = {c->server_base, c->server_ca_file, c->server_client_cert,
                                 c->server_client_key, no_token ? NULL : c->server_token,
                                 c->server_timeout_s, (size_t)256 * 1024 * 1024,
                                 "nenfhir/" NENFHIR_VERSION_STR, c->server_insecure_http};
    d->client = fhir_client_new(&o, err, errlen);
    if (!d->client)
        return -1;
    if (smart) {
        struct fhir_smart_opts so = {c->server_smart_client_id, c->server_smart_token_url,
                                     c->server_smart_key_file, c->server_smart_scopes,
                                     smart_log, NULL};
        d->smart = fhir_smart_new(d->client, &so, err, errlen);
        if (!d->smart)
            return -1;
    }
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
    /* poll mode needs no notification endpoint, but with listen.cert (or
     * plain_http) set the listener serves /healthz, /readyz, /metrics and
     * /status there too (issue 14: health in every mode) */
    if (c->mode != RUN_MODE_POLL || c->listen_cert[0] || c->listen_plain_http) {
        d->listener = listener_start(d, err, errlen);
        if (!d->listener)
            return -1;
    }
    return 0;
}

static void daemon_close(struct daemon *d)
{
    fhir_client_free(d->client);  /* cancels what is in flight first */
    fhir_smart_free(d->smart);    /* after the client: it cancels the token request */
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

/* ---- issue 14 (cases): the instance lock and the upkeep tick ---- */

/* Take the instance lock of the store at db_path: "<db>.lock", flock'ed
 * exclusively, our pid written in it. Returns the open fd (held until the
 * process closes it), or -1 with err saying why (another instance: its
 * pid). */
static int daemon_lock(const char *db_path, char *err, size_t errlen)
{
    char path[4200];
    if ((size_t)snprintf(path, sizeof path, "%s.lock", db_path) >= sizeof path) {
        snprintf(err, errlen, "store path too long for its lock file");
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%.600s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t n = e == EWOULDBLOCK ? pread(fd, pid, sizeof pid - 1, 0) : -1;
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        if (e == EWOULDBLOCK)
            snprintf(err, errlen,
                     "another nenfhir (pid %s) is already running on the store %.300s (lock "
                     "file %.300s); stop it first: one instance per store",
                     pid[0] ? pid : "unknown", db_path, path);
        else
            snprintf(err, errlen, "%.600s: lock: %s", path, strerror(e));
        close(fd);
        return -1;
    }
    char line[32];
    int len = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)len, 0) != len) {
        snprintf(err, errlen, "%.600s: cannot write the pid: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* The upkeep tick's state (daemon_run's stack). */
struct daemon_upkeep {
    struct daemon *d;
    struct event *tick;     /* every second */
    int64_t data_version;   /* last seen PRAGMA data_version */
    int64_t prune_at_ms;    /* next retention run */
};

#define DAEMON_PRUNE_EVERY_MS 3600000

static void daemon_prune(struct daemon *d)
{
    const struct run_config *c = d->cfg;
    struct store_keep keep = {(int64_t)c->store_keep_seen_s * 1000,
                              (int64_t)c->store_keep_dead_s * 1000,
                              (int64_t)c->store_keep_mirror_s * 1000};
    struct store_pruned p;
    if (store_prune(d->store, adapter_now_ms(), &keep, &p) != 0) {
        LOG_WARN("retention: pruning the store failed: %s", store_error(d->store));
        return;
    }
    if (p.seen || p.dead || p.mirror || p.seeded)
        LOG_INFO("retention: pruned %ld seen version(s), %ld dead letter(s), %ld mirrored "
                 "input(s), %ld seeded patient(s)", p.seen, p.dead, p.mirror, p.seeded);
}

static void on_upkeep(evutil_socket_t fd, short what, void *arg)
{
    struct daemon_upkeep *u = arg;
    struct daemon *d = u->d;
    (void)fd;
    (void)what;
    if (d->draining)
        return;
    int64_t v;
    if (store_data_version(d->store, &v) == 0 && v != u->data_version) {
        u->data_version = v; /* another process (the cli) committed: maybe work is due */
        LOG_DEBUG("the store was changed by another process: looking for due work");
        daemon_kick(d, 0);
    }
    int64_t now = adapter_now_ms();
    if (now >= u->prune_at_ms) {
        u->prune_at_ms = now + DAEMON_PRUNE_EVERY_MS;
        daemon_prune(d);
    }
}

int daemon_run(struct run_config *c)
{
    struct daemon d = {0};
    char err[1024] = "";
    d.cfg = c;
    signal(SIGPIPE, SIG_IGN);
    int lock_fd = daemon_lock(c->store_path, err, sizeof err); /* issue 14: one instance */
    if (lock_fd < 0) {
        LOG_ERROR("%s", err);
        return 1;
    }
    struct daemon_upkeep up = {&d, NULL, 0, 0};
    if (daemon_open(&d, err, sizeof err) != 0 ||
        !(up.tick = event_new(d.base, -1, EV_PERSIST, on_upkeep, &up)) ||
        store_data_version(d.store, &up.data_version) != 0) {
        LOG_ERROR("%s", err[0] ? err : up.tick ? store_error(d.store) : "out of memory");
        if (up.tick)
            event_free(up.tick);
        daemon_close(&d);
        close(lock_fd);
        return 1;
    }
    struct timeval second = {1, 0};
    evtimer_add(up.tick, &second);
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
    event_free(up.tick);
    daemon_close(&d);
    close(lock_fd); /* releases the instance lock */
    return d.exit_code;
}
