/*
 * daemon_unsubscribe.c - `nenfhir unsubscribe` (issue 14): the daemon's
 * FHIR client on its own libevent loop (no store, no listener, no lock: a
 * running daemon may stay up), subscribe_remove until it is done, then
 * everything torn down. Owns the struct daemon it makes (only cfg, base,
 * client and the curl binding are set).
 */
#include "daemon.h"
#include "daemon_run.h"
#include "loop_curl.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>

/* subscribe_remove's end: the exit status, and the loop ends. */
static void unsubscribed(struct daemon *d, int ok)
{
    d->exit_code = ok ? 0 : 1;
    d->draining = 1; /* marks "finished" for daemon_unsubscribe */
    if (d->base)
        event_base_loopexit(d->base, NULL);
}

int daemon_unsubscribe(struct run_config *c, int all_endpoints, int dry_run, FILE *out,
                       FILE *err)
{
    if (!all_endpoints && !c->endpoint[0]) {
        fprintf(err, "nenfhir: the configuration names no subscription.endpoint (mode %s): "
                "use --all-endpoints to remove every Subscription of nenfhir\n",
                run_mode_name(c->mode));
        return 2;
    }
    struct daemon d = {0};
    char msg[1024] = "";
    d.cfg = c;
    adapter_log_verbose = c->log_verbose;
    signal(SIGPIPE, SIG_IGN);
    struct fhir_client_opts o = {c->server_base, c->server_ca_file, c->server_client_cert,
                                 c->server_client_key, c->server_token, c->server_timeout_s,
                                 (size_t)256 * 1024 * 1024, "nenfhir/" NENFHIR_VERSION_STR,
                                 c->server_insecure_http};
    d.client = fhir_client_new(&o, msg, sizeof msg);
    if (d.client && (!(d.base = event_base_new()) ||
                     !(d.loop = loop_curl_attach(d.base, d.client))))
        snprintf(msg, sizeof msg, "cannot make the event loop");
    if (!d.client || !d.loop) {
        fprintf(err, "nenfhir: %s\n", msg);
        fhir_client_free(d.client);
        if (d.base)
            event_base_free(d.base);
        return 1;
    }
    struct subscribe_remove_opts ro = {all_endpoints, dry_run, out, err};
    subscribe_remove(&d, &ro, unsubscribed);
    if (!d.draining && event_base_dispatch(d.base) != 0 && !d.draining) {
        fprintf(err, "nenfhir: the event loop failed\n");
        d.exit_code = 1;
    }
    if (!d.draining && d.exit_code == 0) { /* the loop ran dry before the end */
        fprintf(err, "nenfhir: unsubscribe stopped before it was done\n");
        d.exit_code = 1;
    }
    fhir_client_free(d.client); /* cancels what is in flight first */
    loop_curl_free(d.loop);
    event_base_free(d.base);
    return d.exit_code;
}
