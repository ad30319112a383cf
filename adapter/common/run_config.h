/*
 * run_config.h - the daemon's configuration file (`nenfhir run -c FILE`,
 * `nenfhir check-config FILE`). Format (README "Configuration", annotated
 * example examples/nenfhir.conf):
 *
 *   # comment
 *   [section]
 *   key = value
 *
 * A comment is a line of its own: a '#' at the start of a value or after a
 * blank in it is refused (it would silently become part of the value),
 * except in report.performer_display (free text). Numbers are decimal
 * digits, range-checked per key without overflow.
 * Every key is known; an unknown section or key, a bad number, a missing
 * required key or an unreadable secret file is an error "FILE:LINE: message"
 * (line 0 for problems of the whole file, e.g. a missing required key).
 * Relative paths are taken relative to the directory of the config file.
 * Secrets (bearer token, notification secret) are read from files named in
 * the config, never given on the command line.
 */
#ifndef RUN_CONFIG_H
#define RUN_CONFIG_H

#include <stddef.h>

#define RUN_PATH_LEN 512
#define RUN_URL_LEN 512
#define RUN_SECRET_LEN 512
#define RUN_MAP_MAX 8

enum run_mode {
    RUN_MODE_RESTHOOK = 0, /* R4 Subscription with criteria (HAPI, Medplum, ...) */
    RUN_MODE_BACKPORT,     /* Subscriptions Backport IG, topic-based */
    RUN_MODE_POLL          /* no subscription: poll _lastUpdated (I3) */
};

struct run_config {
    char path[RUN_PATH_LEN];            /* the config file itself */

    /* [server]: the FHIR server nenfhir reads from and writes to */
    char server_base[RUN_URL_LEN];      /* required; https://host:port/fhir, no trailing '/' */
    char server_ca_file[RUN_PATH_LEN];  /* "" = system CA store */
    char server_client_cert[RUN_PATH_LEN]; /* mTLS (optional; both or neither) */
    char server_client_key[RUN_PATH_LEN];
    char server_token_file[RUN_PATH_LEN];  /* static bearer token (I16), optional */
    char server_token[RUN_SECRET_LEN];     /* its content, trimmed (loaded) */
    /* issue 12 item 8 (I16): SMART Backend Services */
    char server_auth[16];               /* "token", "smart-backend", "none"; "" (default):
                                           token when token_file is set, else none */
    char server_smart_client_id[256];   /* required with smart-backend */
    char server_smart_token_url[RUN_URL_LEN]; /* "" = discovered from the base's
                                           .well-known/smart-configuration */
    char server_smart_key_file[RUN_PATH_LEN]; /* PEM private key: RSA >= 2048 (RS384) or
                                           EC P-384 (ES384); required with smart-backend */
    char server_smart_scopes[1024];     /* "" = FHIR_SMART_DEFAULT_SCOPES (fhir_smart.h) */
    int server_timeout_s;               /* per request; default 30 */
    int server_insecure_http;           /* allow http:// base (loopback only); default 0 */
    char server_write_mode[16];         /* issue 13 item 3 (I8, I14): "auto" (default: from
                                           the CapabilityStatement), "conditional" (PUT
                                           Type?identifier=...) or "client-id" (PUT Type/<uuid>) */

    /* [listen]: the rest-hook endpoint (not used in poll mode) */
    char listen_address[64];            /* default 127.0.0.1 */
    int listen_port;                    /* default 8443; 0 = any free port */
    char listen_cert[RUN_PATH_LEN];     /* required unless plain_http */
    char listen_key[RUN_PATH_LEN];
    char listen_client_ca[RUN_PATH_LEN]; /* set: require client certificates signed by it */
    int listen_plain_http;              /* default 0; allowed only on a loopback address */
    char listen_path[128];              /* default "/notify" */
    size_t listen_max_body;             /* default 8 MiB */
    /* issue 12 item 7: a listener that cannot be starved (listener_guard.h) */
    int listen_request_timeout_s;       /* accept/previous answer -> request read; default 30 */
    int listen_max_connections;         /* open at once; default 64 */
    int listen_max_connections_per_peer; /* from one address; default 32; 0 = no own cap */
    size_t listen_max_inflight_bytes;   /* request bodies held at once; default 64 MiB */
    int listen_max_entries;             /* Bundle entries per notification; default 1000 */
    int listen_health_max_silence_s;    /* /healthz: the last successful contact with the
                                           server at most this old (s); default 600 */

    /* [subscription] */
    enum run_mode mode;                 /* rest-hook | backport | poll; default rest-hook */
    char endpoint[RUN_URL_LEN];         /* URL the server posts to; required unless poll */
    char payload[16];                   /* full-resource | id-only | empty; default full-resource */
    char content_type[32];              /* application/fhir+json (default) | application/fhir+xml */
    char secret_file[RUN_PATH_LEN];     /* optional shared secret */
    char secret[RUN_SECRET_LEN];        /* its content, trimmed (loaded) */
    char secret_header[64];             /* default "X-Nenfhir-Secret" */
    char topic[RUN_URL_LEN];            /* backport topic canonical; default
                                           https://nenfhir.org/fhir/SubscriptionTopic/pathology-result */
    int heartbeat_s;                    /* backport heartbeat period; default 60 */
    int subscription_cleanup;           /* issue 14: at start, delete nenfhir's own
                                           Subscriptions (tagged) whose endpoint is not
                                           this one; default no (they are only reported) */

    /* [poll]: polling mode and catch-up (I3, I4) */
    int poll_interval_s;                /* poll mode: seconds between polls; default 30 */
    int poll_overlap_s;                 /* overlap window; default 300 */
    int poll_count;                     /* _count per page; default 100 */
    int catchup_interval_s;             /* subscription modes: safety-net catch-up; default 300 */
    int vanished_interval_s;            /* re-read the inputs of final reports (deletes without
                                           notification, I6) at most this often; default
                                           86400; 0 = never */
    char catchup_since[40];             /* first start (no cursor): catch up from this FHIR
                                           date/dateTime; "" (default) = from now (I4) */

    /* [work]: the queue (I7, I9, I10) */
    int work_parallel;                  /* cases in flight at once; default 4 */
    int work_max_attempts;              /* then dead letter; default 10 */
    int work_backoff_ms;                /* first retry delay; default 1000 */
    int work_backoff_max_ms;            /* cap; default 300000 */
    int work_settle_ms;                 /* after a change, wait this long for more changes
                                           before computing the case; default 500 */
    int work_preliminary_after_ms;      /* a case with inputs missing is written
                                           (preliminary) only after this wait from its
                                           first change; a complete case at once;
                                           default 120000 (issue 11: write once) */
    int work_retry_after_max_ms;        /* longest wait a server's Retry-After may ask for;
                                           default 300000 (I9) */

    /* [store] */
    char store_path[RUN_PATH_LEN];      /* SQLite database; default nenfhir.db */
    /* issue 14 (retention): ages in seconds, 0 = keep forever */
    int store_keep_seen_s;              /* versions seen (dedupe); default 7d */
    int store_keep_dead_s;              /* dead letters; default 90d */
    int store_keep_mirror_s;            /* mirrored inputs of a patient with no job and
                                           no change for this long; default 365d */

    /* [report] */
    char performer_ref[256];            /* e.g. Organization/pathology; "" = none */
    char performer_display[256];

    /* [codes] */
    int nmap;                           /* `map = FILE` may repeat */
    char map[RUN_MAP_MAX][RUN_PATH_LEN];

    /* [log] */
    int log_verbose;                    /* level = info (0) | debug (1); default info */
    int log_format;                     /* format = text (0) | json (1, one object a line,
                                           issue 14); default text */
};

/* Fill c with the defaults above (required keys empty). */
void run_config_defaults(struct run_config *c);

/* Read the file at path into c (defaults first, then the file, then
 * relative paths resolved, secret files read, the whole checked).
 * Returns 0, or -1 with err = "FILE:LINE: message". */
int run_config_load(const char *path, struct run_config *c, char *err, size_t errlen);

/* "rest-hook" | "backport" | "poll" */
const char *run_mode_name(enum run_mode m);

#endif
