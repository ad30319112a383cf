/*
 * pipeline_write_mode.c - issue 13 item 3 (interop.md I8, I14): how the
 * pipeline writes reports, decided once at start. server.write_mode =
 * conditional or client-id is taken as configured; auto reads the server's
 * CapabilityStatement (the one GET metadata subscribe.c makes at start, or
 * in poll mode one made here) and picks conditional update by business
 * identifier when the server announces conditionalUpdate for every type
 * nenfhir writes, else client-assigned ids when it announces updateCreate,
 * else stops the daemon with the reason (nen_report_write.h). Until then
 * no job starts (pipeline_write_ready). Whether conditional writes go in
 * one transaction or one resource at a time is pipeline_write.c's (from
 * the server's answer); a server that announces no transactions gets
 * single writes from the start.
 * Owns the write_* fields of struct pipeline.
 */
#include "pipeline_int.h"

#include "fhir_json.h"
#include "fhir_tree.h"
#include "nen_report_write.h"

#include <stdio.h>
#include <string.h>

static void decided(struct daemon *d, enum nen_write_mode m, int single, const char *why)
{
    char v[8] = "";
    /* learnt by an earlier run (pipeline_write.c): the server refused a
     * conditional transaction and took the resources one at a time */
    int learnt = m == NEN_WRITE_CONDITIONAL && !single &&
                 store_meta_get(d->store, "write_single", v, sizeof v) == 1 && strcmp(v, "1") == 0;
    d->pipeline.write_mode = (int)m;
    d->pipeline.write_single = single || learnt;
    LOG_INFO("write mode %s%s: %s%s", nen_write_mode_name(m),
             single || learnt ? " (one resource at a time, in order)" : "", why,
             learnt ? "; one resource at a time: this server refused a conditional transaction "
                      "before (store meta write_single)" : "");
    /* reports written by conditional update have the server's ids: PUT
     * Type/<uuid> would write a second copy of each (the other way round,
     * conditional updates find the client-id ones by their identifiers) */
    char was[16] = "";
    if (store_meta_get(d->store, "write_mode", was, sizeof was) == 1 &&
        strcmp(was, "conditional") == 0 && m == NEN_WRITE_CLIENT_ID)
        LOG_WARN("write mode client-id, but this store's reports were written by conditional "
                 "update (server-assigned ids): rewriting them by client id makes a second "
                 "copy of each on the server; set [server] write_mode = conditional");
    if (store_meta_set(d->store, "write_mode", nen_write_mode_name(m)) != 0)
        LOG_WARN("store: %s", store_error(d->store));
    daemon_kick(d, 0);
}

void pipeline_write_capabilities(struct daemon *d, json_object *cs)
{
    if (d->pipeline.write_mode != NEN_WRITE_AUTO || d->pipeline.write_impossible)
        return;
    enum nen_write_mode configured = nen_write_mode_parse(d->cfg->server_write_mode);
    if (cs && strcmp(fhir_resource_type(cs), "CapabilityStatement") != 0)
        cs = NULL;
    if (!cs && configured != NEN_WRITE_CLIENT_ID) {
        /* an answer that is no CapabilityStatement (a proxy's page, a cut
         * body) says nothing of the server: not decided, asked again */
        LOG_WARN("the write mode waits for a readable CapabilityStatement; asking again in 30 s");
        d->pipeline.write_reread_ms = adapter_now_ms() + 30000;
        daemon_kick(d, 30000);
        return;
    }
    d->pipeline.write_reread_ms = 0;
    struct nen_write_choice ch;
    nen_report_write_choose(cs, &ch);
    enum nen_write_mode conf = nen_write_mode_parse(d->cfg->server_write_mode);
    if (conf != NEN_WRITE_AUTO) { /* configured: the statement only says whether
                                     conditional writes may go as one transaction */
        int single = conf == NEN_WRITE_CONDITIONAL && cs && !ch.transactions;
        decided(d, conf, single,
                single ? "set by [server] write_mode; the server announces no transactions"
                       : "set by [server] write_mode");
        return;
    }
    if (ch.mode == NEN_WRITE_AUTO) {
        LOG_ERROR("server.write_mode = auto: %s; stopping", ch.why);
        d->pipeline.write_impossible = 1;
        d->exit_code = 1;
        event_base_loopexit(d->base, NULL);
        return;
    }
    char why[sizeof ch.why + 32];
    snprintf(why, sizeof why, "server.write_mode = auto: %s", ch.why);
    decided(d, ch.mode, ch.mode == NEN_WRITE_CONDITIONAL && !ch.transactions, why);
}

/* Poll mode's own read of the CapabilityStatement. */
static void on_metadata(void *ctx, const struct fhir_response *r)
{
    struct daemon *d = ctx;
    d->pipeline.write_reading = 0;
    if (r->status != 200) {
        LOG_WARN("reading the server's CapabilityStatement (server.write_mode = auto): %s%ld "
                 "%s; trying again in 5 s", r->status ? "HTTP " : "", r->status, r->error);
        daemon_kick(d, 5000);
        return;
    }
    struct fhir_error err = {0};
    json_object *cs = fhir_json_parse(r->body, r->len, &fhir_limits_default,
                                      "CapabilityStatement", &err);
    if (!cs)
        LOG_WARN("the server's CapabilityStatement cannot be read: %s", err.msg);
    else if (strcmp(fhir_resource_type(cs), "CapabilityStatement") != 0)
        LOG_WARN("GET metadata answered a %.60s, not a CapabilityStatement",
                 fhir_resource_type(cs));
    pipeline_write_capabilities(d, cs);
    json_object_put(cs);
}

int pipeline_write_ready(struct daemon *d)
{
    if (d->pipeline.write_mode != NEN_WRITE_AUTO)
        return 1;
    if (d->pipeline.write_impossible)
        return 0;
    enum nen_write_mode conf = nen_write_mode_parse(d->cfg->server_write_mode);
    if (conf == NEN_WRITE_CLIENT_ID) { /* the statement cannot change it */
        decided(d, conf, 0, "set by [server] write_mode");
        return 1;
    }
    /* auto, or conditional (the statement tells whether transactions are
     * announced): wait for the read; subscribe.c makes it unless polling */
    int reread = d->pipeline.write_reread_ms > 0;
    if (reread && adapter_now_ms() < d->pipeline.write_reread_ms)
        return 0; /* the unreadable statement is asked for again at its time */
    if ((d->cfg->mode == RUN_MODE_POLL || reread) && !d->pipeline.write_reading) {
        d->pipeline.write_reading = 1;
        if (fhir_client_request(d->client, "GET", "metadata", NULL, 0, NULL, on_metadata, d) !=
            0) {
            d->pipeline.write_reading = 0;
            LOG_WARN("reading the server's CapabilityStatement: %s; trying again in 5 s",
                     fhir_client_error(d->client));
            daemon_kick(d, 5000);
        }
    }
    return 0;
}

const char *pipeline_write_mode_name(const struct daemon *d, int *single)
{
    *single = d->pipeline.write_mode == NEN_WRITE_CONDITIONAL && d->pipeline.write_single;
    return d->pipeline.write_mode == NEN_WRITE_AUTO
               ? "undecided"
               : nen_write_mode_name((enum nen_write_mode)d->pipeline.write_mode);
}
