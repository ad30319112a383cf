/*
 * reload.c - the SIGHUP reload (reload.h). Loads the file into a new
 * struct run_config, checks it like check-config, compares it with the
 * running one and copies over the keys that may change; the new code tables
 * replace the old ones. Owns nothing after the call.
 */
#include "reload.h"

#include "config_check.h"
#include "daemon.h"
#include "fhir_smart.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A key that needs a restart: its name and where it is in run_config. */
struct reload_key {
    const char *name;
    size_t off, size;
};

#define RELOAD_KEY(n, f) {n, offsetof(struct run_config, f), sizeof(((struct run_config *)0)->f)}

static const struct reload_key reload_fixed[] = {
    RELOAD_KEY("server.base", server_base),
    RELOAD_KEY("server.timeout", server_timeout_s),
    RELOAD_KEY("server.insecure_http", server_insecure_http),
    RELOAD_KEY("server.write_mode", server_write_mode),
    RELOAD_KEY("server.auth", server_auth),
    RELOAD_KEY("listen.address", listen_address),
    RELOAD_KEY("listen.port", listen_port),
    RELOAD_KEY("listen.cert", listen_cert),
    RELOAD_KEY("listen.key", listen_key),
    RELOAD_KEY("listen.client_ca", listen_client_ca),
    RELOAD_KEY("listen.plain_http", listen_plain_http),
    RELOAD_KEY("listen.path", listen_path),
    RELOAD_KEY("listen.max_body", listen_max_body),
    RELOAD_KEY("listen.health_max_silence", listen_health_max_silence_s),
    RELOAD_KEY("subscription.mode", mode),
    RELOAD_KEY("subscription.endpoint", endpoint),
    RELOAD_KEY("subscription.payload", payload),
    RELOAD_KEY("subscription.content_type", content_type),
    RELOAD_KEY("subscription.secret_file", secret_file),
    RELOAD_KEY("subscription.secret_header", secret_header),
    RELOAD_KEY("subscription.topic", topic),
    RELOAD_KEY("subscription.heartbeat", heartbeat_s),
    RELOAD_KEY("poll.interval", poll_interval_s),
    RELOAD_KEY("poll.overlap", poll_overlap_s),
    RELOAD_KEY("poll.count", poll_count),
    RELOAD_KEY("poll.catchup_interval", catchup_interval_s),
    RELOAD_KEY("poll.vanished_interval", vanished_interval_s),
    RELOAD_KEY("poll.catchup_since", catchup_since),
    RELOAD_KEY("work.parallel", work_parallel),
    RELOAD_KEY("work.max_attempts", work_max_attempts),
    RELOAD_KEY("work.backoff", work_backoff_ms),
    RELOAD_KEY("work.backoff_max", work_backoff_max_ms),
    RELOAD_KEY("work.settle", work_settle_ms),
    RELOAD_KEY("work.preliminary_after", work_preliminary_after_ms),
    RELOAD_KEY("work.retry_after_max", work_retry_after_max_ms),
    RELOAD_KEY("store.path", store_path),
    RELOAD_KEY("store.keep_seen", store_keep_seen_s),
    RELOAD_KEY("store.keep_dead", store_keep_dead_s),
    RELOAD_KEY("store.keep_mirror", store_keep_mirror_s),
    RELOAD_KEY("report.performer", performer_ref),
    RELOAD_KEY("report.performer_display", performer_display),
};

/* What the checks found. */
struct reload_findings {
    int warnings;
    char first_error[700];
};

static void reload_finding(void *ctx, int level, const char *what, const char *msg)
{
    struct reload_findings *f = ctx;
    if (level == CONFIG_CHECK_ERROR) {
        LOG_ERROR("SIGHUP: %s: %s", what, msg);
        if (!f->first_error[0])
            snprintf(f->first_error, sizeof f->first_error, "%.100s: %.500s", what, msg);
    } else if (level == CONFIG_CHECK_WARN) {
        f->warnings++;
        LOG_WARN("SIGHUP: %s: %s", what, msg);
    } else {
        LOG_DEBUG("SIGHUP: %s: %s", what, msg);
    }
}

/* Log the keys that differ and need a restart; returns their count. */
static int reload_fixed_changes(const struct run_config *old, const struct run_config *n)
{
    int count = 0;
    for (size_t i = 0; i < sizeof reload_fixed / sizeof *reload_fixed; i++) {
        const struct reload_key *k = &reload_fixed[i];
        const char *a = (const char *)old + k->off, *b = (const char *)n + k->off;
        int is_str = k->size > sizeof(long long);
        if (is_str ? strncmp(a, b, k->size) != 0 : memcmp(a, b, k->size) != 0) {
            LOG_WARN("SIGHUP: %s changed: needs a restart (the old value stays in use)",
                     k->name);
            count++;
        }
    }
    return count;
}

/* Whether the code tables' files changed (the list; their content is
 * reloaded in any case). */
static int reload_maps_changed(const struct run_config *old, const struct run_config *n)
{
    if (old->nmap != n->nmap)
        return 1;
    for (int i = 0; i < n->nmap; i++)
        if (strcmp(old->map[i], n->map[i]) != 0)
            return 1;
    return 0;
}

/* Copy the keys that change without a restart from n into c. */
static void reload_copy(struct run_config *c, const struct run_config *n)
{
    memcpy(c->server_ca_file, n->server_ca_file, sizeof c->server_ca_file);
    memcpy(c->server_client_cert, n->server_client_cert, sizeof c->server_client_cert);
    memcpy(c->server_client_key, n->server_client_key, sizeof c->server_client_key);
    memcpy(c->server_token_file, n->server_token_file, sizeof c->server_token_file);
    memcpy(c->server_token, n->server_token, sizeof c->server_token);
    /* issue 12 item 8: SMART (fhir_smart_reload took them) */
    memcpy(c->server_smart_client_id, n->server_smart_client_id,
           sizeof c->server_smart_client_id);
    memcpy(c->server_smart_token_url, n->server_smart_token_url,
           sizeof c->server_smart_token_url);
    memcpy(c->server_smart_key_file, n->server_smart_key_file, sizeof c->server_smart_key_file);
    memcpy(c->server_smart_scopes, n->server_smart_scopes, sizeof c->server_smart_scopes);
    c->nmap = n->nmap;
    memcpy(c->map, n->map, sizeof c->map);
    c->log_verbose = n->log_verbose;
    c->log_format = n->log_format;
}

/* Overwrite the secrets of a config about to be freed. */
static void reload_wipe(struct run_config *n)
{
    volatile char *p = (volatile char *)n;
    for (size_t i = 0; i < sizeof *n; i++)
        p[i] = 0;
}

void daemon_reload(struct daemon *d)
{
    struct run_config *c = d->cfg;
    struct run_config *n = calloc(1, sizeof *n);
    char err[1024];
    LOG_INFO("SIGHUP: reloading %.400s", c->path);
    if (!n) {
        LOG_ERROR("SIGHUP: out of memory: the configuration is not reloaded");
        return;
    }
    if (run_config_load(c->path, n, err, sizeof err) != 0) {
        LOG_ERROR("SIGHUP: configuration refused, the old one stays in use: %s", err);
        free(n);
        return;
    }
    struct reload_findings f = {0, ""};
    struct nen_codes *codes = NULL;
    int errors = config_check(n, (int64_t)time(NULL), reload_finding, &f, &codes);
    if (errors) {
        LOG_ERROR("SIGHUP: configuration refused (%d error(s), the first: %s), the old one "
                  "stays in use", errors, f.first_error);
        reload_wipe(n);
        free(n);
        return;
    }
    /* issue 12 item 8: the SMART key, client id, token URL and scopes (server.auth
     * itself needs a restart); refused: nothing changes */
    if (d->smart && strcmp(n->server_auth, "smart-backend") == 0) {
        struct fhir_smart_opts so = {n->server_smart_client_id, n->server_smart_token_url,
                                     n->server_smart_key_file, n->server_smart_scopes, NULL,
                                     NULL};
        if (fhir_smart_reload(d->smart, &so, err, sizeof err) != 0) {
            LOG_ERROR("SIGHUP: configuration refused (SMART: %s), the old one stays in use",
                      err);
            nen_codes_free(codes);
            reload_wipe(n);
            free(n);
            return;
        }
    }
    if (fhir_client_set_credentials(d->client, n->server_ca_file, n->server_client_cert,
                                    n->server_client_key, n->server_token) != 0) {
        LOG_ERROR("SIGHUP: out of memory: the configuration is not reloaded");
        nen_codes_free(codes);
        reload_wipe(n);
        free(n);
        return;
    }
    int restart = reload_fixed_changes(c, n);
    int token_changed = strcmp(c->server_token, n->server_token) != 0;
    int maps_changed = reload_maps_changed(c, n);
    nen_codes_free(d->codes);
    d->codes = codes;
    reload_copy(c, n);
    adapter_log_setup(c->log_verbose, c->log_format);
    LOG_INFO("SIGHUP: configuration reloaded: log level %s, format %s, token %s, code tables "
             "%s (%d map file(s))%s; %d warning(s), %d key(s) need a restart",
             c->log_verbose ? "debug" : "info", c->log_format ? "json" : "text",
             token_changed ? "changed" : "unchanged", maps_changed ? "changed" : "reread",
             c->nmap, maps_changed ? " (Subscription criteria follow at the next restart)" : "",
             f.warnings, restart);
    reload_wipe(n);
    free(n);
}
