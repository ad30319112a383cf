/*
 * run_config.c - reads and checks the daemon's configuration file
 * (run_config.h). A table of the known keys drives the parser; after the
 * file come the whole-file checks, relative paths resolved against the
 * config file's directory, the files checked for readability and the secret
 * files read. The server's base URL is checked by the FHIR client's rules
 * (fhir_client_check_base: curl's URL parser) and dates by FHIR's
 * (fhir_primitive.h); the rest needs only libc. The first problem found is
 * the error.
 */
#include "run_config.h"

#include "fhir_strings.h"

#include "fhir_client.h"
#include "fhir_primitive.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define RUN_LINE_MAX 4096          /* longest line accepted */
#define RUN_SECRET_FILE_MAX 16384  /* a secret file larger than this is a mistake */

/* ---- the known keys ---- */

enum run_kind {
    RK_STR,        /* text */
    RK_PATH,       /* path, resolved; need not exist (store.path) */
    RK_FILE,       /* path, resolved, must be readable */
    RK_SECRET,     /* path, resolved, read into the aux field */
    RK_MAP,        /* path, resolved, readable, repeatable */
    RK_INT,        /* whole number in [min, max] */
    RK_MS,         /* milliseconds, optional suffix ms or s */
    RK_SIZE,       /* bytes, optional suffix K or M (size_t field) */
    RK_BOOL,       /* yes/no, ... (int field) */
    RK_CHOICE_STR, /* one of choices, its canonical text stored */
    RK_CHOICE_INT, /* one of choices, its value stored (int field) */
    RK_MODE,       /* one of choices, stored in c->mode */
    RK_AGE         /* seconds, optional suffix s, m, h or d (issue 14 retention) */
};

struct run_choice {
    const char *name;      /* as written in the file */
    const char *canonical; /* RK_CHOICE_STR: stored text */
    int value;
};

#define RUN_NONEMPTY 1u /* an empty value is an error (numbers, enums and paths of RK_MAP too) */
#define RUN_HASH_OK 2u  /* free text: " #" in the value is text, not a comment */

struct run_key {
    const char *section, *name;
    enum run_kind kind;
    size_t off, size;         /* the field in struct run_config */
    long long min, max;       /* numbers */
    const struct run_choice *choices;
    size_t aux_off, aux_size; /* RK_SECRET: where the content goes */
    unsigned flags;
};

#define RUN_FIELD(f) .off = offsetof(struct run_config, f), .size = sizeof(((struct run_config *)0)->f)
#define RUN_AUX(f) .aux_off = offsetof(struct run_config, f), .aux_size = sizeof(((struct run_config *)0)->f)

static const struct run_choice run_modes[] = {{"rest-hook", NULL, RUN_MODE_RESTHOOK},
                                              {"backport", NULL, RUN_MODE_BACKPORT},
                                              {"poll", NULL, RUN_MODE_POLL},
                                              {NULL, NULL, 0}};
static const struct run_choice run_payloads[] = {{"full-resource", "full-resource", 0},
                                                 {"id-only", "id-only", 0},
                                                 {"empty", "empty", 0},
                                                 {NULL, NULL, 0}};
static const struct run_choice run_content_types[] = {
    {"application/fhir+json", "application/fhir+json", 0},
    {"application/fhir+xml", "application/fhir+xml", 0},
    {"json", "application/fhir+json", 0},
    {"xml", "application/fhir+xml", 0},
    {NULL, NULL, 0}};
static const struct run_choice run_levels[] = {{"info", NULL, 0}, {"debug", NULL, 1}, {NULL, NULL, 0}};
static const struct run_choice run_log_formats[] = {{"text", NULL, 0}, {"json", NULL, 1},
                                                    {NULL, NULL, 0}};

static const struct run_choice run_auths[] = {{"token", "token", 0},
                                              {"smart-backend", "smart-backend", 0},
                                              {"none", "none", 0},
                                              {NULL, NULL, 0}};

static const struct run_choice run_write_modes[] = {{"auto", "auto", 0},
                                                    {"conditional", "conditional", 0},
                                                    {"client-id", "client-id", 0},
                                                    {NULL, NULL, 0}};

static const struct run_key run_keys[] = {
    {"server", "base", RK_STR, RUN_FIELD(server_base), .flags = RUN_NONEMPTY},
    {"server", "ca_file", RK_FILE, RUN_FIELD(server_ca_file)},
    {"server", "client_cert", RK_FILE, RUN_FIELD(server_client_cert)},
    {"server", "client_key", RK_FILE, RUN_FIELD(server_client_key)},
    {"server", "token_file", RK_SECRET, RUN_FIELD(server_token_file), RUN_AUX(server_token)},
    {"server", "auth", RK_CHOICE_STR, RUN_FIELD(server_auth), .choices = run_auths},
    {"server", "smart_client_id", RK_STR, RUN_FIELD(server_smart_client_id)},
    {"server", "smart_token_url", RK_STR, RUN_FIELD(server_smart_token_url)},
    {"server", "smart_key_file", RK_FILE, RUN_FIELD(server_smart_key_file)},
    {"server", "smart_scopes", RK_STR, RUN_FIELD(server_smart_scopes)},
    {"server", "timeout", RK_INT, RUN_FIELD(server_timeout_s), .min = 1, .max = 3600},
    {"server", "insecure_http", RK_BOOL, RUN_FIELD(server_insecure_http)},
    {"server", "write_mode", RK_CHOICE_STR, RUN_FIELD(server_write_mode),
     .choices = run_write_modes},

    {"listen", "address", RK_STR, RUN_FIELD(listen_address), .flags = RUN_NONEMPTY},
    {"listen", "port", RK_INT, RUN_FIELD(listen_port), .min = 0, .max = 65535},
    {"listen", "cert", RK_FILE, RUN_FIELD(listen_cert)},
    {"listen", "key", RK_FILE, RUN_FIELD(listen_key)},
    {"listen", "client_ca", RK_FILE, RUN_FIELD(listen_client_ca)},
    {"listen", "plain_http", RK_BOOL, RUN_FIELD(listen_plain_http)},
    {"listen", "path", RK_STR, RUN_FIELD(listen_path), .flags = RUN_NONEMPTY},
    {"listen", "max_body", RK_SIZE, RUN_FIELD(listen_max_body), .min = 1024,
     .max = 1024LL * 1024 * 1024},
    {"listen", "health_max_silence", RK_INT, RUN_FIELD(listen_health_max_silence_s), .min = 1,
     .max = 604800},
    {"listen", "request_timeout", RK_INT, RUN_FIELD(listen_request_timeout_s), .min = 1,
     .max = 3600},
    {"listen", "max_connections", RK_INT, RUN_FIELD(listen_max_connections), .min = 1,
     .max = 100000},
    {"listen", "max_connections_per_peer", RK_INT, RUN_FIELD(listen_max_connections_per_peer),
     .min = 0, .max = 100000},
    {"listen", "max_inflight_bytes", RK_SIZE, RUN_FIELD(listen_max_inflight_bytes), .min = 1024,
     .max = 16LL * 1024 * 1024 * 1024},
    {"listen", "max_entries", RK_INT, RUN_FIELD(listen_max_entries), .min = 1, .max = 1000000},

    {"subscription", "mode", RK_MODE, RUN_FIELD(mode), .choices = run_modes},
    {"subscription", "endpoint", RK_STR, RUN_FIELD(endpoint), .flags = RUN_NONEMPTY},
    {"subscription", "payload", RK_CHOICE_STR, RUN_FIELD(payload), .choices = run_payloads},
    {"subscription", "content_type", RK_CHOICE_STR, RUN_FIELD(content_type),
     .choices = run_content_types},
    {"subscription", "secret_file", RK_SECRET, RUN_FIELD(secret_file), RUN_AUX(secret)},
    {"subscription", "secret_header", RK_STR, RUN_FIELD(secret_header), .flags = RUN_NONEMPTY},
    {"subscription", "topic", RK_STR, RUN_FIELD(topic), .flags = RUN_NONEMPTY},
    {"subscription", "heartbeat", RK_INT, RUN_FIELD(heartbeat_s), .min = 1, .max = 86400},
    {"subscription", "cleanup", RK_BOOL, RUN_FIELD(subscription_cleanup)},

    {"poll", "interval", RK_INT, RUN_FIELD(poll_interval_s), .min = 1, .max = 86400},
    {"poll", "overlap", RK_INT, RUN_FIELD(poll_overlap_s), .min = 0, .max = 86400},
    {"poll", "count", RK_INT, RUN_FIELD(poll_count), .min = 1, .max = 1000},
    {"poll", "catchup_interval", RK_INT, RUN_FIELD(catchup_interval_s), .min = 1, .max = 86400},
    {"poll", "vanished_interval", RK_INT, RUN_FIELD(vanished_interval_s), .min = 0,
     .max = 2592000},
    {"poll", "catchup_since", RK_STR, RUN_FIELD(catchup_since)},

    {"work", "parallel", RK_INT, RUN_FIELD(work_parallel), .min = 1, .max = 256},
    {"work", "max_attempts", RK_INT, RUN_FIELD(work_max_attempts), .min = 1, .max = 1000},
    {"work", "backoff", RK_MS, RUN_FIELD(work_backoff_ms), .min = 1, .max = 3600000},
    {"work", "backoff_max", RK_MS, RUN_FIELD(work_backoff_max_ms), .min = 1, .max = 86400000},
    {"work", "settle", RK_MS, RUN_FIELD(work_settle_ms), .min = 0, .max = 600000},
    {"work", "preliminary_after", RK_MS, RUN_FIELD(work_preliminary_after_ms), .min = 0,
     .max = 604800000},
    {"work", "retry_after_max", RK_MS, RUN_FIELD(work_retry_after_max_ms), .min = 0,
     .max = 86400000},

    {"store", "path", RK_PATH, RUN_FIELD(store_path), .flags = RUN_NONEMPTY},
    {"store", "keep_seen", RK_AGE, RUN_FIELD(store_keep_seen_s), .min = 0, .max = 315360000},
    {"store", "keep_dead", RK_AGE, RUN_FIELD(store_keep_dead_s), .min = 0, .max = 315360000},
    {"store", "keep_mirror", RK_AGE, RUN_FIELD(store_keep_mirror_s), .min = 0,
     .max = 315360000},

    {"report", "performer", RK_STR, RUN_FIELD(performer_ref)},
    {"report", "performer_display", RK_STR, RUN_FIELD(performer_display), .flags = RUN_HASH_OK},

    {"codes", "map", RK_MAP, RUN_FIELD(map[0])},

    {"log", "level", RK_CHOICE_INT, RUN_FIELD(log_verbose), .choices = run_levels},
    {"log", "format", RK_CHOICE_INT, RUN_FIELD(log_format), .choices = run_log_formats},
};
#define RUN_NKEYS (sizeof run_keys / sizeof run_keys[0])

/* ---- parser state and errors ---- */

struct run_parse {
    const char *file; /* as given: the prefix of every message */
    struct run_config *c;
    char *err;
    size_t errlen;
    const char *section; /* current section (a string of run_keys), NULL before any */
    int line[RUN_NKEYS]; /* where each key was set, 0 = not in the file */
    int map_line[RUN_MAP_MAX];
    char dir[RUN_PATH_LEN]; /* absolute directory of the config file */
};

static int run_fail(struct run_parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* At most 64 bytes of s for a message, cut at a UTF-8 sequence boundary so a
 * long name quoted back is never an invalid sequence. Returns buf. */
static const char *run_quote(const char *s, char buf[65])
{
    size_t n = strlen(s);
    if (n > 64) {
        n = 64;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--; /* s[n] continues a sequence: cut before its lead byte */
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

/* Drop a UTF-8 sequence left incomplete at the end of s by a cut. */
static void run_trim_cut(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80 && n - i < 3)
        i--;
    if (i == 0 || ((unsigned char)s[i - 1] & 0x80) == 0)
        return; /* ASCII last, or only continuation bytes: nothing to drop */
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (n - (i - 1) < need)
        s[i - 1] = '\0';
}

/* Set err to "FILE:LINE: message" ("FILE: message" for line 0), cut to the
 * buffer at a UTF-8 boundary; returns -1. */
static int run_fail(struct run_parse *p, int line, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!p->err || p->errlen == 0)
        return -1;
    if (line > 0)
        snprintf(p->err, p->errlen, "%s:%d: %s", p->file, line, msg);
    else
        snprintf(p->err, p->errlen, "%s: %s", p->file, msg);
    run_trim_cut(p->err);
    return -1;
}

static char *run_field(struct run_config *c, const struct run_key *k)
{
    return (char *)c + k->off;
}

static const struct run_key *run_find(const char *section, const char *name)
{
    for (size_t i = 0; i < RUN_NKEYS; i++)
        if (strcmp(run_keys[i].section, section) == 0 && strcmp(run_keys[i].name, name) == 0)
            return &run_keys[i];
    return NULL;
}

/* Line of section.name in the file, 0 if not there. */
static int run_line_of(const struct run_parse *p, const char *section, const char *name)
{
    const struct run_key *k = run_find(section, name);
    return k ? p->line[k - run_keys] : 0;
}

/* Trim surrounding whitespace in place; returns the start. */
static char *run_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* ---- defaults ---- */

void run_config_defaults(struct run_config *c)
{
    memset(c, 0, sizeof *c);
    c->server_timeout_s = 30;
    snprintf(c->server_write_mode, sizeof c->server_write_mode, "auto");
    snprintf(c->listen_address, sizeof c->listen_address, "127.0.0.1");
    c->listen_port = 8443;
    snprintf(c->listen_path, sizeof c->listen_path, "/notify");
    c->listen_max_body = 8u * 1024 * 1024;
    c->listen_request_timeout_s = 30;
    c->listen_max_connections = 64;
    c->listen_max_connections_per_peer = 32;
    c->listen_max_inflight_bytes = 64u * 1024 * 1024;
    c->listen_max_entries = 1000;
    c->listen_health_max_silence_s = 600;
    c->mode = RUN_MODE_RESTHOOK;
    snprintf(c->payload, sizeof c->payload, "full-resource");
    snprintf(c->content_type, sizeof c->content_type, "application/fhir+json");
    snprintf(c->secret_header, sizeof c->secret_header, "X-Nenfhir-Secret");
    snprintf(c->topic, sizeof c->topic,
             "https://nenfhir.org/fhir/SubscriptionTopic/pathology-result");
    c->heartbeat_s = 60;
    c->poll_interval_s = 30;
    c->poll_overlap_s = 300;
    c->poll_count = 100;
    c->catchup_interval_s = 300;
    c->vanished_interval_s = 86400;
    c->work_parallel = 4;
    c->work_max_attempts = 10;
    c->work_backoff_ms = 1000;
    c->work_backoff_max_ms = 300000;
    c->work_settle_ms = 500;
    c->work_preliminary_after_ms = 120000;
    c->work_retry_after_max_ms = 300000;
    snprintf(c->store_path, sizeof c->store_path, "nenfhir.db");
    c->store_keep_seen_s = 7 * 86400;
    c->store_keep_dead_s = 90 * 86400;
    c->store_keep_mirror_s = 365 * 86400;
    c->log_verbose = 0;
    c->log_format = 0;
}

const char *run_mode_name(enum run_mode m)
{
    switch (m) {
    case RUN_MODE_RESTHOOK:
        return "rest-hook";
    case RUN_MODE_BACKPORT:
        return "backport";
    case RUN_MODE_POLL:
        return "poll";
    }
    return "?";
}

/* ---- values ---- */

/* The decimal number at the start of s (digits only: no sign, no blank)
 * into *v, *end after it (strtoll, errno checked). Returns 0; 1 when it is
 * too large for a long long (then *v = LLONG_MAX, out of every key's range);
 * -1 when s does not start with a digit. */
static int run_digits(const char *s, long long *v, const char **end)
{
    *end = s;
    *v = 0;
    if (!isdigit((unsigned char)*s))
        return -1;
    char *e;
    errno = 0;
    long long n = strtoll(s, &e, 10);
    *end = e;
    if (errno == ERANGE) {
        *v = LLONG_MAX;
        return 1;
    }
    *v = n;
    return 0;
}

/* v * factor, saturated at LLONG_MAX (v >= 0, factor > 0). */
static long long run_scale(long long v, long long factor)
{
    return v > LLONG_MAX / factor ? LLONG_MAX : v * factor;
}

static int run_range(struct run_parse *p, int line, const struct run_key *k, const char *value,
                     long long v, const char *unit)
{
    if (v >= k->min && v <= k->max)
        return 0;
    return run_fail(p, line, "%s.%s: %s is out of range (%lld-%lld%s)", k->section, k->name,
                    value, k->min, k->max, unit);
}

static int run_set_int(struct run_parse *p, int line, const struct run_key *k, const char *value)
{
    long long v;
    const char *end;
    if (run_digits(value, &v, &end) < 0 || *end != '\0')
        return run_fail(p, line, "%s.%s: '%s' is not a whole number (expected %lld-%lld)",
                        k->section, k->name, value, k->min, k->max);
    if (run_range(p, line, k, value, v, "") != 0)
        return -1;
    *(int *)(void *)run_field(p->c, k) = (int)v;
    return 0;
}

static int run_set_ms(struct run_parse *p, int line, const struct run_key *k, const char *value)
{
    long long v;
    const char *end;
    int ok = run_digits(value, &v, &end) >= 0;
    if (ok && strcmp(end, "s") == 0)
        v = run_scale(v, 1000);
    else if (ok && *end != '\0' && strcmp(end, "ms") != 0)
        ok = 0;
    if (!ok)
        return run_fail(p, line,
                        "%s.%s: '%s' is not a duration (milliseconds, e.g. 2000, 2000ms or 2s)",
                        k->section, k->name, value);
    if (run_range(p, line, k, value, v, " ms") != 0)
        return -1;
    *(int *)(void *)run_field(p->c, k) = (int)v;
    return 0;
}

/* issue 14 (retention): an age in seconds, suffix s, m, h or d. */
static int run_set_age(struct run_parse *p, int line, const struct run_key *k, const char *value)
{
    long long v;
    const char *end;
    int ok = run_digits(value, &v, &end) >= 0;
    if (ok && strcmp(end, "m") == 0)
        v = run_scale(v, 60);
    else if (ok && strcmp(end, "h") == 0)
        v = run_scale(v, 3600);
    else if (ok && strcmp(end, "d") == 0)
        v = run_scale(v, 86400);
    else if (ok && *end != '\0' && strcmp(end, "s") != 0)
        ok = 0;
    if (!ok)
        return run_fail(p, line, "%s.%s: '%s' is not an age (seconds, e.g. 3600, 90m, 12h or 7d)",
                        k->section, k->name, value);
    if (run_range(p, line, k, value, v, " s") != 0)
        return -1;
    *(int *)(void *)run_field(p->c, k) = (int)v;
    return 0;
}

static int run_set_size(struct run_parse *p, int line, const struct run_key *k, const char *value)
{
    long long v;
    const char *end;
    int ok = run_digits(value, &v, &end) >= 0;
    if (ok && (strcmp(end, "K") == 0 || strcmp(end, "k") == 0))
        v = run_scale(v, 1024);
    else if (ok && (strcmp(end, "M") == 0 || strcmp(end, "m") == 0))
        v = run_scale(v, 1024 * 1024);
    else if (ok && *end != '\0')
        ok = 0;
    if (!ok)
        return run_fail(p, line, "%s.%s: '%s' is not a size (bytes, e.g. 16777216, 16384K or 16M)",
                        k->section, k->name, value);
    if (run_range(p, line, k, value, v, " bytes") != 0)
        return -1;
    *(size_t *)(void *)run_field(p->c, k) = (size_t)v;
    return 0;
}

static int run_set_bool(struct run_parse *p, int line, const struct run_key *k, const char *value)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        int v = strcasecmp(value, yes[i]) == 0 ? 1 : strcasecmp(value, no[i]) == 0 ? 0 : -1;
        if (v >= 0) {
            *(int *)(void *)run_field(p->c, k) = v;
            return 0;
        }
    }
    return run_fail(p, line,
                    "%s.%s: '%s' is not a boolean (use yes/no, true/false, on/off or 1/0)",
                    k->section, k->name, value);
}

/* "a, b or c" of the choices of k into buf. */
static void run_choice_list(const struct run_key *k, char *buf, size_t len)
{
    size_t n = 0, count = 0;
    while (k->choices[count].name)
        count++;
    buf[0] = '\0';
    for (size_t i = 0; i < count && n < len; i++) {
        const char *sep = i == 0 ? "" : i + 1 == count ? " or " : ", ";
        int w = snprintf(buf + n, len - n, "%s%s", sep, k->choices[i].name);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

static int run_set_choice(struct run_parse *p, int line, const struct run_key *k,
                          const char *value)
{
    for (const struct run_choice *ch = k->choices; ch->name; ch++) {
        if (strcmp(ch->name, value) != 0)
            continue;
        if (k->kind == RK_CHOICE_STR)
            snprintf(run_field(p->c, k), k->size, "%s", ch->canonical);
        else if (k->kind == RK_MODE)
            p->c->mode = (enum run_mode)ch->value;
        else
            *(int *)(void *)run_field(p->c, k) = ch->value;
        return 0;
    }
    char list[256];
    run_choice_list(k, list, sizeof list);
    return run_fail(p, line, "%s.%s: '%s' is not allowed (use %s)", k->section, k->name, value,
                    list);
}

static int run_set_text(struct run_parse *p, int line, const struct run_key *k, char *dst,
                        const char *value)
{
    size_t n = strlen(value);
    if (n >= k->size)
        return run_fail(p, line, "%s.%s: value longer than %zu characters", k->section, k->name,
                        k->size - 1);
    memcpy(dst, value, n + 1);
    return 0;
}

static int run_set_map(struct run_parse *p, int line, const struct run_key *k, const char *value)
{
    struct run_config *c = p->c;
    if (c->nmap == RUN_MAP_MAX)
        return run_fail(p, line, "%s.%s: too many map files (at most %d)", k->section, k->name,
                        RUN_MAP_MAX);
    if (run_set_text(p, line, k, c->map[c->nmap], value) != 0)
        return -1;
    p->map_line[c->nmap++] = line;
    return 0;
}

/* Whether an empty value is an error for k. */
static int run_needs_value(const struct run_key *k)
{
    return (k->flags & RUN_NONEMPTY) || !(k->kind == RK_STR || k->kind == RK_FILE ||
                                          k->kind == RK_SECRET || k->kind == RK_PATH);
}

/* A '#' that starts a comment in value: at its start or after a blank. */
static const char *run_inline_comment(const char *value)
{
    for (const char *h = strchr(value, '#'); h; h = strchr(h + 1, '#'))
        if (h == value || isspace((unsigned char)h[-1]))
            return h;
    return NULL;
}

static int run_set(struct run_parse *p, int line, const struct run_key *k, const char *value)
{
    if (!(k->flags & RUN_HASH_OK) && run_inline_comment(value))
        return run_fail(p, line,
                        "%s.%s: '%s' has a comment after the value; comments go on a line of "
                        "their own, starting with '#'",
                        k->section, k->name, value);
    if (*value == '\0' && run_needs_value(k))
        return run_fail(p, line, "%s.%s: empty value", k->section, k->name);
    switch (k->kind) {
    case RK_INT:
        return run_set_int(p, line, k, value);
    case RK_MS:
        return run_set_ms(p, line, k, value);
    case RK_SIZE:
        return run_set_size(p, line, k, value);
    case RK_AGE:
        return run_set_age(p, line, k, value);
    case RK_BOOL:
        return run_set_bool(p, line, k, value);
    case RK_CHOICE_STR:
    case RK_CHOICE_INT:
    case RK_MODE:
        return run_set_choice(p, line, k, value);
    case RK_MAP:
        return run_set_map(p, line, k, value);
    case RK_STR:
    case RK_PATH:
    case RK_FILE:
    case RK_SECRET:
        break;
    }
    return run_set_text(p, line, k, run_field(p->c, k), value);
}

/* ---- lines ---- */

static int run_section_line(struct run_parse *p, int line, char *s)
{
    size_t n = strlen(s);
    if (n < 2 || s[n - 1] != ']')
        return run_fail(p, line, "malformed section header (expected [name] alone on the line)");
    s[n - 1] = '\0';
    const char *name = run_trim(s + 1);
    for (size_t i = 0; i < RUN_NKEYS; i++)
        if (strcmp(run_keys[i].section, name) == 0) {
            p->section = run_keys[i].section;
            return 0;
        }
    char q[65];
    return run_fail(p, line, "unknown section [%s]", run_quote(name, q));
}

static int run_key_line(struct run_parse *p, int line, char *s)
{
    char *eq = strchr(s, '=');
    if (!eq)
        return run_fail(p, line, "missing '=' (expected key = value)");
    *eq = '\0';
    const char *name = run_trim(s), *value = run_trim(eq + 1);
    if (*name == '\0')
        return run_fail(p, line, "missing key before '='");
    char q[65];
    if (!p->section)
        return run_fail(p, line, "key '%s' outside any section", run_quote(name, q));
    const struct run_key *k = run_find(p->section, name);
    if (!k)
        return run_fail(p, line, "unknown key '%s' in [%s]", run_quote(name, q), p->section);
    size_t i = (size_t)(k - run_keys);
    if (p->line[i] && k->kind != RK_MAP)
        return run_fail(p, line, "duplicate key %s.%s (first set on line %d)", k->section,
                        k->name, p->line[i]);
    p->line[i] = line;
    return run_set(p, line, k, value);
}

static int run_line(struct run_parse *p, int line, char *raw)
{
    if (line == 1 && strncmp(raw, "\xEF\xBB\xBF", 3) == 0)
        raw += 3; /* a UTF-8 byte order mark from some editors */
    char *s = run_trim(raw);
    if (*s == '\0' || *s == '#')
        return 0;
    if (*s == '[')
        return run_section_line(p, line, s);
    return run_key_line(p, line, s);
}

static int run_read_lines(struct run_parse *p, FILE *f)
{
    char buf[RUN_LINE_MAX + 2]; /* the line, its '\n' and the NUL */
    int line = 0;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        size_t n = strlen(buf);
        if (n > 0 && buf[n - 1] == '\n')
            buf[--n] = '\0';
        if (n > RUN_LINE_MAX)
            return run_fail(p, line, "line longer than %d characters", RUN_LINE_MAX);
        char why[FHIR_WHY_LEN]; /* values reach URLs, headers and logs: text only */
        if (fhir_text_check(buf, n, why, sizeof why) != 0)
            return run_fail(p, line, "%s", why);
        if (run_line(p, line, buf) != 0)
            return -1;
    }
    if (ferror(f))
        return run_fail(p, 0, "read error: %s", strerror(errno));
    return 0;
}

/* ---- whole-file checks ---- */

static int run_is_loopback_host(const char *h, size_t n)
{
    return (n == 9 && strncmp(h, "127.0.0.1", n) == 0) ||
           (n == 9 && strncasecmp(h, "localhost", n) == 0) || (n == 5 && strncmp(h, "[::1]", n) == 0);
}

/* The host of url after its "scheme://": start and length. */
static const char *run_url_host(const char *url, size_t *n)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    if (*h == '[') {
        const char *close = strchr(h, ']');
        *n = close ? (size_t)(close - h + 1) : strlen(h);
    } else {
        *n = strcspn(h, ":/?#");
    }
    return h;
}

static int run_has_scheme(const char *url, const char *scheme)
{
    return strncasecmp(url, scheme, strlen(scheme)) == 0;
}

/* The base as the FHIR client will take it (curl's URL parser: no user
 * part such as https://127.0.0.1:80@other.host/, no query or fragment). */
static int run_check_base_url(struct run_parse *p, int line)
{
    char why[900];
    if (fhir_client_check_base(p->c->server_base, p->c->server_insecure_http, why,
                               sizeof why) != 0)
        return run_fail(p, line, "server.base: %s", why);
    return 0;
}

static int run_check_base(struct run_parse *p)
{
    char *base = p->c->server_base;
    int line = run_line_of(p, "server", "base");
    if (base[0] == '\0')
        return run_fail(p, 0, "server.base is required (the FHIR server's base URL)");
    int https = run_has_scheme(base, "https://"), http = run_has_scheme(base, "http://");
    if (!https && !http)
        return run_fail(p, line, "server.base: '%s' must start with https://", base);
    size_t hn, n = strlen(base);
    const char *host = run_url_host(base, &hn);
    if (hn == 0)
        return run_fail(p, line, "server.base: '%s' has no host", base);
    while (n > (size_t)(host - base) + hn && base[n - 1] == '/')
        base[--n] = '\0'; /* no trailing '/' */
    if (https)
        return run_check_base_url(p, line);
    if (!p->c->server_insecure_http)
        return run_fail(p, line,
                        "server.base: http:// needs server.insecure_http = yes (loopback only); "
                        "use https://");
    if (!run_is_loopback_host(host, hn))
        return run_fail(p, line,
                        "server.base: http:// is allowed only to a loopback host "
                        "(127.0.0.1, localhost or [::1]), not %.*s",
                        (int)hn, host);
    return run_check_base_url(p, line);
}

static int run_check_endpoint(struct run_parse *p)
{
    struct run_config *c = p->c;
    int line = run_line_of(p, "subscription", "endpoint");
    if (c->mode == RUN_MODE_POLL)
        return 0;
    if (c->endpoint[0] == '\0')
        return run_fail(p, 0, "subscription.endpoint is required in %s mode",
                        run_mode_name(c->mode));
    int ok = run_has_scheme(c->endpoint, "https://") ||
             (c->listen_plain_http && run_has_scheme(c->endpoint, "http://"));
    if (!ok)
        return run_fail(p, line, "subscription.endpoint: '%s' must start with https://%s",
                        c->endpoint, c->listen_plain_http ? " or http://" : "");
    size_t hn;
    run_url_host(c->endpoint, &hn);
    if (hn == 0)
        return run_fail(p, line, "subscription.endpoint: '%s' has no host", c->endpoint);
    return 0;
}

static int run_is_loopback_address(const char *a)
{
    return strcmp(a, "127.0.0.1") == 0 || strcasecmp(a, "localhost") == 0 ||
           strcmp(a, "::1") == 0 || strcmp(a, "[::1]") == 0;
}

/* a set and b not: an error on a's line. */
static int run_check_pair(struct run_parse *p, const char *section, const char *a, const char *av,
                          const char *b, const char *bv)
{
    if (av[0] && !bv[0])
        return run_fail(p, run_line_of(p, section, a),
                        "%s.%s is set but %s.%s is not (give both or neither)", section, a,
                        section, b);
    if (bv[0] && !av[0])
        return run_fail(p, run_line_of(p, section, b),
                        "%s.%s is set but %s.%s is not (give both or neither)", section, b,
                        section, a);
    return 0;
}

static int run_check_listen(struct run_parse *p)
{
    struct run_config *c = p->c;
    if (c->listen_plain_http && !run_is_loopback_address(c->listen_address))
        return run_fail(p, run_line_of(p, "listen", "plain_http"),
                        "listen.plain_http is allowed only on a loopback listen.address "
                        "(127.0.0.1, localhost or ::1), not %s",
                        c->listen_address);
    if (c->listen_plain_http && c->listen_client_ca[0])
        return run_fail(p, run_line_of(p, "listen", "client_ca"),
                        "listen.client_ca needs TLS, but listen.plain_http is set");
    if (c->listen_path[0] != '/')
        return run_fail(p, run_line_of(p, "listen", "path"), "listen.path must start with '/'");
    if (c->listen_max_inflight_bytes < c->listen_max_body) {
        int line = run_line_of(p, "listen", "max_inflight_bytes");
        if (line)
            return run_fail(p, line,
                            "listen.max_inflight_bytes (%zu) is below listen.max_body (%zu): a "
                            "body of the largest size could never be read",
                            c->listen_max_inflight_bytes, c->listen_max_body);
        c->listen_max_inflight_bytes = c->listen_max_body; /* default follows max_body */
    }
    if (!c->listen_plain_http && c->mode != RUN_MODE_POLL) {
        if (!c->listen_cert[0])
            return run_fail(p, 0, "listen.cert is required in %s mode (or listen.plain_http = "
                                  "yes on a loopback address)",
                            run_mode_name(c->mode));
        if (!c->listen_key[0])
            return run_fail(p, 0, "listen.key is required in %s mode (or listen.plain_http = "
                                  "yes on a loopback address)",
                            run_mode_name(c->mode));
    }
    return run_check_pair(p, "listen", "cert", c->listen_cert, "key", c->listen_key);
}

static int run_check_since(struct run_parse *p)
{
    int64_t ms;
    const char *v = p->c->catchup_since;
    if (v[0] == '\0' || fhir_datetime_parse_ms(v, &ms) == 0)
        return 0;
    return run_fail(p, run_line_of(p, "poll", "catchup_since"),
                    "poll.catchup_since: '%s' is not a FHIR date or dateTime (e.g. 2026-01-01 or "
                    "2026-01-01T00:00:00Z)",
                    v);
}

static int run_check_work(struct run_parse *p)
{
    struct run_config *c = p->c;
    if (c->work_backoff_max_ms >= c->work_backoff_ms)
        return 0;
    int line = run_line_of(p, "work", "backoff_max");
    return run_fail(p, line ? line : run_line_of(p, "work", "backoff"),
                    "work.backoff_max (%d ms) is less than work.backoff (%d ms)",
                    c->work_backoff_max_ms, c->work_backoff_ms);
}

/* ---- paths and files ---- */

/* p->dir = the absolute directory of p->file. */
static int run_find_dir(struct run_parse *p)
{
    const char *slash = strrchr(p->file, '/');
    size_t n = slash ? (size_t)(slash - p->file) : 0;
    char cwd[RUN_PATH_LEN];
    int w;
    if (p->file[0] == '/') {
        w = snprintf(p->dir, sizeof p->dir, "%.*s", (int)n, p->file);
    } else {
        if (!getcwd(cwd, sizeof cwd))
            return run_fail(p, 0, "cannot get the current directory: %s", strerror(errno));
        w = n ? snprintf(p->dir, sizeof p->dir, "%s/%.*s", cwd, (int)n, p->file)
              : snprintf(p->dir, sizeof p->dir, "%s", cwd);
    }
    if (w < 0 || (size_t)w >= sizeof p->dir)
        return run_fail(p, 0, "path of the configuration file is too long");
    return 0;
}

/* A relative path in buf[len] made absolute against p->dir. */
static int run_resolve(struct run_parse *p, int line, const char *what, char *buf, size_t len)
{
    if (buf[0] == '\0' || buf[0] == '/')
        return 0;
    char tmp[RUN_PATH_LEN * 2];
    const char *rel = strncmp(buf, "./", 2) == 0 ? buf + 2 : buf;
    int w = snprintf(tmp, sizeof tmp, "%s/%s", strcmp(p->dir, "/") == 0 ? "" : p->dir, rel);
    if (w < 0 || (size_t)w >= len)
        return run_fail(p, line, "%s: %s/%s: path too long", what, p->dir, rel);
    memcpy(buf, tmp, (size_t)w + 1);
    return 0;
}

/* Open path for reading: fd, or -1 with errno set (EISDIR for a directory). */
static int run_open_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int run_check_readable(struct run_parse *p, int line, const char *what, const char *path)
{
    if (path[0] == '\0')
        return 0;
    int fd = run_open_file(path);
    if (fd < 0)
        return run_fail(p, line, "%s: cannot read %s: %s", what, path, strerror(errno));
    close(fd);
    return 0;
}

/* Overwrite a buffer that held a secret (not optimized away). */
static void run_wipe(char *buf, size_t n)
{
    volatile char *v = buf;
    while (n--)
        *v++ = 0;
}

/* Up to max bytes of fd into buf (NUL-terminated); bytes read, or -1. */
static ssize_t run_read_all(int fd, char *buf, size_t max)
{
    size_t n = 0;
    while (n < max) {
        ssize_t r = read(fd, buf + n, max - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return (ssize_t)n;
}

/* Check a trimmed secret s of the file path for use in an HTTP header. */
static int run_check_secret(struct run_parse *p, int line, const char *what, const char *path,
                            const char *s, size_t outlen)
{
    if (*s == '\0')
        return run_fail(p, line, "%s: %s is empty", what, path);
    if (strlen(s) >= outlen)
        return run_fail(p, line, "%s: the secret in %s is longer than %zu bytes", what, path,
                        outlen - 1);
    for (const char *q = s; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            return run_fail(p, line, "%s: %s holds a control character (one line expected)",
                            what, path);
    return 0;
}

/* Read the secret file path (trimmed) into out[outlen]. */
static int run_read_secret(struct run_parse *p, int line, const char *what, const char *path,
                           char *out, size_t outlen)
{
    char buf[RUN_SECRET_FILE_MAX + 2];
    int fd = run_open_file(path);
    if (fd < 0)
        return run_fail(p, line, "%s: cannot read %s: %s", what, path, strerror(errno));
    ssize_t n = run_read_all(fd, buf, RUN_SECRET_FILE_MAX + 1);
    int e = errno;
    close(fd);
    int rc;
    if (n < 0)
        rc = run_fail(p, line, "%s: cannot read %s: %s", what, path, strerror(e));
    else if (n > RUN_SECRET_FILE_MAX || memchr(buf, '\0', (size_t)n))
        rc = run_fail(p, line, "%s: %s is not a secret (binary or larger than %d bytes)", what,
                      path, RUN_SECRET_FILE_MAX);
    else {
        const char *s = run_trim(buf);
        rc = run_check_secret(p, line, what, path, s, outlen);
        if (rc == 0)
            memcpy(out, s, strlen(s) + 1);
    }
    run_wipe(buf, sizeof buf);
    return rc;
}

/* Resolve, check and read the files of one key. */
static int run_key_files(struct run_parse *p, size_t i)
{
    const struct run_key *k = &run_keys[i];
    struct run_config *c = p->c;
    char what[64], *path = run_field(c, k);
    snprintf(what, sizeof what, "%s.%s", k->section, k->name);
    if (k->kind == RK_MAP) {
        for (int m = 0; m < c->nmap; m++)
            if (run_resolve(p, p->map_line[m], what, c->map[m], sizeof c->map[m]) != 0 ||
                run_check_readable(p, p->map_line[m], what, c->map[m]) != 0)
                return -1;
        return 0;
    }
    if (k->kind != RK_PATH && k->kind != RK_FILE && k->kind != RK_SECRET)
        return 0;
    if (run_resolve(p, p->line[i], what, path, k->size) != 0)
        return -1;
    if (k->kind == RK_FILE)
        return run_check_readable(p, p->line[i], what, path);
    if (k->kind == RK_SECRET && path[0])
        return run_read_secret(p, p->line[i], what, path, (char *)c + k->aux_off, k->aux_size);
    return 0;
}

/* p->dir and c->path: the config file's absolute directory and path. */
static int run_locate(struct run_parse *p)
{
    if (run_find_dir(p) != 0)
        return -1;
    const char *base = strrchr(p->file, '/');
    int w = snprintf(p->c->path, sizeof p->c->path, "%s/%s",
                     strcmp(p->dir, "/") == 0 ? "" : p->dir, base ? base + 1 : p->file);
    if (w < 0 || (size_t)w >= sizeof p->c->path)
        return run_fail(p, 0, "path of the configuration file is too long");
    return 0;
}

static int run_files(struct run_parse *p)
{
    for (size_t i = 0; i < RUN_NKEYS; i++)
        if (run_key_files(p, i) != 0)
            return -1;
    return 0;
}

/* ---- load ---- */

static int run_check(struct run_parse *p)
{
    struct run_config *c = p->c;
    if (run_check_base(p) != 0 || run_check_endpoint(p) != 0 || run_check_listen(p) != 0 ||
        run_check_pair(p, "server", "client_cert", c->server_client_cert, "client_key",
                       c->server_client_key) != 0 ||
        run_check_work(p) != 0 || run_check_since(p) != 0)
        return -1;
    return run_files(p);
}

int run_config_load(const char *path, struct run_config *c, char *err, size_t errlen)
{
    struct run_parse *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    p->file = path;
    p->c = c;
    p->err = err;
    p->errlen = errlen;
    run_config_defaults(c);
    int rc = run_locate(p);
    FILE *f = rc == 0 ? fopen(path, "r") : NULL;
    if (rc == 0 && !f)
        rc = run_fail(p, 0, "cannot open: %s", strerror(errno));
    if (f) {
        rc = run_read_lines(p, f);
        fclose(f);
        if (rc == 0)
            rc = run_check(p);
    }
    if (rc != 0) { /* leave no secret behind in a config that is not used */
        run_wipe(c->server_token, sizeof c->server_token);
        run_wipe(c->secret, sizeof c->secret);
    }
    free(p);
    return rc;
}
