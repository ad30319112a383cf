/*
 * fhir_client.c - the FHIR REST client on libcurl multi (fhir_client.h).
 * Owns the CURLM, the parsed base (its origin: scheme, host, port, path) and
 * one struct fhir_req per transfer (easy handle, headers, body copy, response
 * buffer); a request is freed right after its callback. Every URL goes
 * through curl's URL API (CURLU): built by fhir_client_url, or parsed and
 * checked against the base's origin before a request is started.
 */
#include "fhir_client.h"
#include "fhir_primitive.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Scheme, host, port (the default one filled in) and path (no trailing '/')
 * of a URL, as curl parsed them; each malloc'd. */
struct fhir_origin {
    char *scheme, *host, *port, *path;
};

struct fhir_client {
    CURLM *multi;
    char *base;
    CURLU *base_url;       /* the base, parsed */
    struct fhir_origin origin;
    char err[640];         /* why the last request was refused */
    char *ca_file, *client_cert, *client_key;
    char *auth_header;     /* "Authorization: Bearer ..." or NULL */
    char *user_agent;
    long timeout_s;
    size_t max_body;
    int pending;
    struct fhir_req *reqs;  /* in flight, for cancel (curl 7.88 lists no handles) */
    fhir_client_sock_fn sock_fn;
    fhir_client_timer_fn timer_fn;
    void *loop_ctx;
    fhir_client_observe_fn observe_fn; /* issue 14 (metrics): see every finished request */
    void *observe_ctx;
    int allow_http;
    int has_auth;                  /* issue 12 item 8: the hook below is set */
    struct fhir_client_auth auth;
    /* issue 12 item 8: the loop's one timer serves curl and the hook's wake-up
     * (fhir_client_auth_retry_in); monotonic ms, -1 none */
    int64_t curl_due_ms, auth_due_ms;
};

struct fhir_req {
    struct fhir_client *c;
    CURL *easy;
    struct curl_slist *headers;
    char *body;            /* request body copy, owned */
    size_t body_len;
    struct fhir_req *prev, *next;  /* the client's in-flight list */
    char *resp;            /* response buffer, owned */
    size_t resp_len, resp_cap;
    int too_big;
    int retry_after_seen;     /* a Retry-After header came with this response */
    int retry_after_overflow; /* ... as a number too large for curl (it reads 0) */
    struct fhir_response r;
    char errbuf[CURL_ERROR_SIZE];
    fhir_client_done_fn cb;
    void *ctx;
    /* issue 12 item 8: SMART */
    int plain;                 /* fhir_client_request_plain: no Authorization */
    char *scheme;              /* the URL's scheme (CURLOPT_PROTOCOLS_STR), owned */
    int waiting;               /* not in the multi: waits for the auth hook */
    int retried;               /* sent again after a 401 */
    int fail_now;              /* fhir_client_auth_ready: fails in this round */
    struct curl_slist *auth_node; /* the Authorization line, first in the headers */
};

static char *dup_or_null(const char *s)
{
    return (s && *s) ? strdup(s) : NULL;
}

/* ---- URLs (curl's URL API) ---- */

/* A part of u, malloc'd ("" when absent); NULL when out of memory. */
static char *url_part(CURLU *u, CURLUPart part, unsigned flags)
{
    char *v = NULL;
    CURLUcode rc = curl_url_get(u, part, &v, flags);
    if (rc == CURLUE_OUT_OF_MEMORY)
        return NULL;
    char *out = strdup(rc == CURLUE_OK && v ? v : "");
    curl_free(v);
    return out;
}

/* Whether u has the part (user, password, options, query, fragment); when
 * in doubt (another error than "no such part"), it has. */
static int url_has(CURLU *u, CURLUPart part, CURLUcode absent)
{
    char *v = NULL;
    CURLUcode rc = curl_url_get(u, part, &v, 0);
    curl_free(v);
    return rc != absent;
}

static int url_has_login(CURLU *u)
{
    return url_has(u, CURLUPART_USER, CURLUE_NO_USER) ||
           url_has(u, CURLUPART_PASSWORD, CURLUE_NO_PASSWORD) ||
           url_has(u, CURLUPART_OPTIONS, CURLUE_NO_OPTIONS);
}

/* Parse an absolute URL; 0, or -1 with err set. Caller frees *out. */
static int url_parse(const char *url, CURLU **out, char *err, size_t errlen)
{
    CURLU *u = curl_url();
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (rc != CURLUE_OK) {
        snprintf(err, errlen, "'%.300s' is not a valid URL (%s)", url, curl_url_strerror(rc));
        curl_url_cleanup(u);
        return -1;
    }
    *out = u;
    return 0;
}

static void origin_free(struct fhir_origin *o)
{
    free(o->scheme);
    free(o->host);
    free(o->port);
    free(o->path);
    memset(o, 0, sizeof *o);
}

/* The origin of u; 0, or -1 when out of memory. */
static int origin_of(CURLU *u, struct fhir_origin *o)
{
    o->scheme = url_part(u, CURLUPART_SCHEME, 0);
    o->host = url_part(u, CURLUPART_HOST, 0);
    o->port = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    o->path = url_part(u, CURLUPART_PATH, 0);
    if (!o->scheme || !o->host || !o->port || !o->path) {
        origin_free(o);
        return -1;
    }
    size_t n = strlen(o->path);
    while (n > 0 && o->path[n - 1] == '/')
        o->path[--n] = '\0';
    return 0;
}

static int host_is_loopback(const char *h)
{
    return strcmp(h, "127.0.0.1") == 0 || strcasecmp(h, "localhost") == 0 ||
           strcmp(h, "[::1]") == 0;
}

/* The checks of fhir_client_check_base on a parsed base. */
static int base_check_parsed(CURLU *u, const char *base, int allow_http, char *err, size_t errlen)
{
    struct fhir_origin o = {0};
    if (origin_of(u, &o) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = -1, http = strcmp(o.scheme, "http") == 0;
    if (url_has_login(u))
        snprintf(err, errlen,
                 "'%.300s' has a user part (before '@'), which would send the requests to %.100s: "
                 "refused",
                 base, o.host);
    else if (url_has(u, CURLUPART_QUERY, CURLUE_NO_QUERY) ||
             url_has(u, CURLUPART_FRAGMENT, CURLUE_NO_FRAGMENT))
        snprintf(err, errlen, "'%.300s' has a query or fragment; a base has neither", base);
    else if (o.host[0] == '\0')
        snprintf(err, errlen, "'%.300s' has no host", base);
    else if (strcmp(o.scheme, "https") != 0 && !(http && allow_http))
        snprintf(err, errlen, "'%.300s' must start with https://", base);
    else if (http && !host_is_loopback(o.host))
        snprintf(err, errlen,
                 "'%.300s': http:// is allowed only to a loopback host (127.0.0.1, localhost or "
                 "[::1]), not %.100s",
                 base, o.host);
    else
        rc = 0;
    origin_free(&o);
    return rc;
}

int fhir_client_check_base(const char *base, int allow_http, char *err, size_t errlen)
{
    CURLU *u;
    if (url_parse(base ? base : "", &u, err, errlen) != 0)
        return -1;
    int rc = base_check_parsed(u, base, allow_http, err, errlen);
    curl_url_cleanup(u);
    return rc;
}

/* One path segment: a FHIR id other than "." and "..", or '_'/'$' + letters. */
static int path_segment_ok(const char *s, size_t n)
{
    char seg[65];
    if (n == 0 || n >= sizeof seg)
        return 0;
    memcpy(seg, s, n);
    seg[n] = '\0';
    if (seg[0] == '_' || seg[0] == '$') {
        for (size_t i = 1; i < n; i++)
            if (!isalpha((unsigned char)seg[i]))
                return 0;
        return n > 1;
    }
    return fhir_id_valid(seg) && strcmp(seg, ".") != 0 && strcmp(seg, "..") != 0;
}

/* path: "" or segments joined by '/'; 0, or -1 with err set. */
static int path_check(const char *path, char *err, size_t errlen)
{
    if (*path == '\0')
        return 0;
    for (const char *p = path;;) {
        size_t n = strcspn(p, "/");
        if (!path_segment_ok(p, n)) {
            snprintf(err, errlen,
                     "'%.200s' is not a FHIR path (segments: resource types and ids of "
                     "[A-Za-z0-9-.], at most 64 characters): not requested",
                     path);
            return -1;
        }
        if (p[n] == '\0')
            return 0;
        p += n + 1;
    }
}

/* A query parameter name: [A-Za-z0-9_:.-]+. */
static int param_name_ok(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_:.-", *s))
            return 0;
    return 1;
}

/* Append name=value to u's query, the value escaped; 0 or -1 (err set). */
static int url_add_param(CURLU *u, const char *name, const char *value, char *err, size_t errlen)
{
    if (!param_name_ok(name) || !value) {
        snprintf(err, errlen, "bad query parameter name '%.60s'", name ? name : "(null)");
        return -1;
    }
    size_t n = strlen(name) + strlen(value) + 2;
    char *nv = malloc(n);
    if (!nv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(nv, name, strlen(name));
    nv[strlen(name)] = '=';
    memcpy(nv + strlen(name) + 1, value, strlen(value) + 1);
    CURLUcode rc = curl_url_set(u, CURLUPART_QUERY, nv, CURLU_APPENDQUERY | CURLU_URLENCODE);
    free(nv);
    if (rc != CURLUE_OK) {
        snprintf(err, errlen, "query parameter %s: %s", name, curl_url_strerror(rc));
        return -1;
    }
    return 0;
}

/* The base's path + "/" + path, malloc'd ("/" alone for an empty result). */
static char *join_path(const char *base_path, const char *path)
{
    size_t bn = strlen(base_path), pn = strlen(path);
    char *full = malloc(bn + pn + 3);
    if (!full)
        return NULL;
    memcpy(full, base_path, bn);
    full[bn] = '/';
    memcpy(full + bn + 1, path, pn + 1);
    if (pn == 0 && bn > 0)
        full[bn] = '\0'; /* the base itself, as configured */
    return full;
}

/* The whole URL of u, malloc'd; NULL with err set. */
static char *url_string(CURLU *u, char *err, size_t errlen)
{
    char *v = NULL;
    CURLUcode rc = curl_url_get(u, CURLUPART_URL, &v, 0);
    char *out = rc == CURLUE_OK ? strdup(v) : NULL;
    curl_free(v);
    if (!out)
        snprintf(err, errlen, "%s",
                 rc == CURLUE_OK ? "out of memory" : curl_url_strerror(rc));
    return out;
}

char *fhir_client_url(const struct fhir_client *c, const char *path, const char *const *params,
                      size_t nparams, char *err, size_t errlen)
{
    if (!path || path_check(path, err, errlen) != 0)
        return NULL;
    char *full = join_path(c->origin.path, path);
    CURLU *u = full ? curl_url_dup(c->base_url) : NULL;
    char *out = NULL;
    if (!u)
        snprintf(err, errlen, "out of memory");
    else if (curl_url_set(u, CURLUPART_PATH, full, 0) != CURLUE_OK)
        snprintf(err, errlen, "path '%.200s' refused by the URL parser", path);
    else {
        size_t i = 0;
        while (i < nparams && url_add_param(u, params[2 * i], params[2 * i + 1], err, errlen) == 0)
            i++;
        if (i == nparams)
            out = url_string(u, err, errlen);
    }
    curl_url_cleanup(u);
    free(full);
    return out;
}

/* 1 if url starts with a scheme ("https:", "http:", "ftp:" ...). */
static int url_is_absolute(const char *url)
{
    if (!isalpha((unsigned char)url[0]))
        return 0;
    size_t n = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    return url[n] == ':';
}

/* Whether the parsed u may receive this client's requests (and token). */
static int origin_allows(const struct fhir_client *c, CURLU *u, const char *url, char *err,
                         size_t errlen)
{
    struct fhir_origin o = {0};
    if (origin_of(u, &o) != 0) {
        snprintf(err, errlen, "out of memory");
        return FHIR_CLIENT_ENOMEM;
    }
    const struct fhir_origin *b = &c->origin;
    size_t bn = strlen(b->path);
    int ok = !url_has_login(u) && strcmp(o.scheme, b->scheme) == 0 &&
             strcasecmp(o.host, b->host) == 0 && strcmp(o.port, b->port) == 0 &&
             strncmp(o.path, b->path, bn) == 0 && (o.path[bn] == '\0' || o.path[bn] == '/');
    origin_free(&o);
    if (ok)
        return 0;
    snprintf(err, errlen,
             "'%.300s' is not under the configured base %.200s (scheme, host, port and path "
             "must match, no user part): not requested, no credentials sent",
             url, c->base);
    return FHIR_CLIENT_EURL;
}

/* The URL to request for url (absolute and allowed, or relative): malloc'd,
 * or NULL with *code and err set. */
static char *request_url(const struct fhir_client *c, const char *url, int *code, char *err,
                         size_t errlen)
{
    *code = FHIR_CLIENT_EURL;
    if (!url_is_absolute(url)) {
        char *out = fhir_client_url(c, url, NULL, 0, err, errlen);
        if (!out && strcmp(err, "out of memory") == 0)
            *code = FHIR_CLIENT_ENOMEM;
        return out;
    }
    CURLU *u;
    if (url_parse(url, &u, err, errlen) != 0) {
        size_t n = strlen(err);
        if (n < errlen)
            snprintf(err + n, errlen - n, ": not requested");
        return NULL;
    }
    char *out = NULL;
    *code = origin_allows(c, u, url, err, errlen);
    if (*code == 0) {
        out = url_string(u, err, errlen);
        *code = out ? 0 : FHIR_CLIENT_ENOMEM;
    }
    curl_url_cleanup(u);
    return out;
}

int fhir_client_url_allowed(const struct fhir_client *c, const char *url, char *err, size_t errlen)
{
    int code;
    char *u = request_url(c, url, &code, err, errlen);
    int rc = u ? 0 : code;
    free(u);
    return rc;
}

static int curl_sock_cb(CURL *e, curl_socket_t s, int what, void *cbp, void *sockp)
{
    struct fhir_client *c = cbp;
    (void)e;
    int w = 0;
    if (what == CURL_POLL_REMOVE)
        w = FHIR_CLIENT_POLL_REMOVE;
    else {
        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
            w |= FHIR_CLIENT_POLL_IN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
            w |= FHIR_CLIENT_POLL_OUT;
    }
    if (c->sock_fn)
        c->sock_fn(c->loop_ctx, (int)s, w, sockp);
    return 0;
}

static int64_t client_now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return (int64_t)time(NULL) * 1000;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ask the loop for the earlier of curl's timeout and the hook's wake-up. */
static void client_arm(struct fhir_client *c)
{
    if (!c->timer_fn)
        return;
    int64_t due = c->curl_due_ms;
    if (c->auth_due_ms >= 0 && (due < 0 || c->auth_due_ms < due))
        due = c->auth_due_ms;
    if (due < 0) {
        c->timer_fn(c->loop_ctx, -1);
        return;
    }
    int64_t ms = due - client_now_ms();
    c->timer_fn(c->loop_ctx, ms < 0 ? 0 : ms > 86400000 ? 86400000L : (long)ms);
}

static int curl_timer_cb(CURLM *m, long ms, void *userp)
{
    struct fhir_client *c = userp;
    (void)m;
    c->curl_due_ms = ms < 0 ? -1 : client_now_ms() + ms;
    if (c->auth_due_ms < 0) {
        if (c->timer_fn)
            c->timer_fn(c->loop_ctx, ms);
    } else
        client_arm(c);
    return 0;
}

/* The base, parsed and checked, into c (base without trailing '/'). */
static int client_set_base(struct fhir_client *c, const struct fhir_client_opts *o, char *err,
                           size_t errlen)
{
    if (fhir_client_check_base(o->base, o->allow_http, err, errlen) != 0)
        return -1;
    c->base = strdup(o->base);
    if (!c->base || url_parse(c->base, &c->base_url, err, errlen) != 0 ||
        origin_of(c->base_url, &c->origin) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t bl = strlen(c->base);
    while (bl > 0 && c->base[bl - 1] == '/')
        c->base[--bl] = '\0';
    return 0;
}

/* Copies of the TLS files, token and user agent; 0 or -1 (out of memory). */
static int client_set_strings(struct fhir_client *c, const struct fhir_client_opts *o)
{
    c->ca_file = dup_or_null(o->ca_file);
    c->client_cert = dup_or_null(o->client_cert);
    c->client_key = dup_or_null(o->client_key);
    c->user_agent = strdup(o->user_agent ? o->user_agent : "nenfhir");
    if (!c->user_agent || (o->ca_file && *o->ca_file && !c->ca_file) ||
        (o->client_cert && *o->client_cert && !c->client_cert) ||
        (o->client_key && *o->client_key && !c->client_key))
        return -1;
    if (o->token && *o->token) {
        size_t n = strlen(o->token) + 32;
        c->auth_header = malloc(n);
        if (!c->auth_header)
            return -1;
        snprintf(c->auth_header, n, "Authorization: Bearer %s", o->token);
    }
    return 0;
}

struct fhir_client *fhir_client_new(const struct fhir_client_opts *o, char *err, size_t errlen)
{
    static int global_done;
    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(err, errlen, "curl_global_init failed");
            return NULL;
        }
        global_done = 1;
    }
    struct fhir_client *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->allow_http = o->allow_http;
    c->curl_due_ms = c->auth_due_ms = -1;
    if (client_set_base(c, o, err, errlen) != 0) {
        fhir_client_free(c);
        return NULL;
    }
    c->multi = curl_multi_init();
    c->timeout_s = o->timeout_s > 0 ? o->timeout_s : 30;
    c->max_body = o->max_body ? o->max_body : (size_t)64 * 1024 * 1024;
    if (!c->multi || client_set_strings(c, o) != 0) {
        snprintf(err, errlen, "out of memory");
        fhir_client_free(c);
        return NULL;
    }
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, curl_sock_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
    return c;
}

static void req_free(struct fhir_req *q)
{
    if (!q)
        return;
    if (q->easy)
        curl_easy_cleanup(q->easy);
    curl_slist_free_all(q->headers);
    if (q->auth_node) {
        q->auth_node->next = NULL;
        curl_slist_free_all(q->auth_node);
    }
    free(q->scheme);
    free(q->body);
    free(q->resp);
    free(q);
}

/* Retry-After in seconds as curl read it (delta-seconds or HTTP-date, a date
 * in the past is 0), saturated; -1 when the response had none. curl reads a
 * number too large for curl_off_t as 0: that one saturates too. */
static long req_retry_after(struct fhir_req *q)
{
    if (!q->retry_after_seen)
        return -1;
    curl_off_t v = 0;
    if (curl_easy_getinfo(q->easy, CURLINFO_RETRY_AFTER, &v) != CURLE_OK)
        v = 0;
    if (v == 0 && q->retry_after_overflow)
        v = FHIR_CLIENT_RETRY_AFTER_MAX;
    if (v < 0)
        v = 0;
    return v > FHIR_CLIENT_RETRY_AFTER_MAX ? FHIR_CLIENT_RETRY_AFTER_MAX : (long)v;
}

static void client_observe(struct fhir_req *q);

static int req_start(struct fhir_req *q);

/* issue 12 item 8: q got a 401 with a token from the hook: tell the hook,
 * and send q once more (now, or when fhir_client_auth_ready says). 1 when q
 * goes on, 0 when the 401 is its answer. */
static int req_retry_401(struct fhir_req *q)
{
    struct fhir_client *c = q->c;
    if (q->retried || !q->auth_node || !c->has_auth)
        return 0;
    q->r.error = "";
    if (c->observe_fn)
        client_observe(q);
    q->retried = 1;
    free(q->resp);
    q->resp = NULL;
    q->resp_len = q->resp_cap = 0;
    q->retry_after_seen = q->retry_after_overflow = 0;
    memset(&q->r, 0, sizeof q->r);
    q->r.retry_after_s = -1;
    q->errbuf[0] = '\0';
    /* the rejected header line, kept for the hook, then dropped */
    struct curl_slist *a = q->auth_node;
    q->auth_node = NULL;
    a->next = NULL;
    curl_easy_setopt(q->easy, CURLOPT_HTTPHEADER, q->headers);
    c->auth.rejected(c->auth.ctx, a->data + strlen("Authorization: "));
    curl_slist_free_all(a);
    if (req_start(q) != 0)
        return 0;
    return 1;
}

static void req_finish(struct fhir_req *q, CURLcode rc, const char *why)
{
    struct fhir_client *c = q->c;
    curl_multi_remove_handle(c->multi, q->easy);
    if (!why && !q->too_big && rc == CURLE_OK && q->auth_node) {
        long st = 0;
        if (curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &st) == CURLE_OK && st == 401) {
            q->r.status = 401;
            if (req_retry_401(q))
                return;
        }
    }
    c->pending--;
    if (q->prev)
        q->prev->next = q->next;
    else
        c->reqs = q->next;
    if (q->next)
        q->next->prev = q->prev;
    if (why) {
        q->r.status = 0;
        q->r.error = why;
    } else if (q->too_big) {
        q->r.status = 0;
        q->r.error = "response body larger than the limit";
    } else if (rc != CURLE_OK) {
        q->r.status = 0;
        q->r.error = q->errbuf[0] ? q->errbuf : curl_easy_strerror(rc);
    } else {
        curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &q->r.status);
        q->r.error = "";
        q->r.retry_after_s = req_retry_after(q);
    }
    q->r.body = q->resp ? q->resp : (char *)"";
    q->r.len = q->resp_len;
    if (c->observe_fn)
        client_observe(q);
    q->cb(q->ctx, &q->r);
    req_free(q);
}

static void check_done(struct fhir_client *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct fhir_req *q = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&q);
        req_finish(q, m->data.result, NULL);
    }
}

void fhir_client_set_callbacks(struct fhir_client *c, fhir_client_sock_fn sock_fn,
                               fhir_client_timer_fn timer_fn, void *ctx)
{
    c->sock_fn = sock_fn;
    c->timer_fn = timer_fn;
    c->loop_ctx = ctx;
}

void fhir_client_assign(struct fhir_client *c, int fd, void *sockp)
{
    curl_multi_assign(c->multi, fd, sockp);
}

void fhir_client_socket_action(struct fhir_client *c, int fd, int what)
{
    int running, ev = 0;
    if (what & FHIR_CLIENT_POLL_IN)
        ev |= CURL_CSELECT_IN;
    if (what & FHIR_CLIENT_POLL_OUT)
        ev |= CURL_CSELECT_OUT;
    curl_multi_socket_action(c->multi, fd, ev, &running);
    check_done(c);
}

void fhir_client_timeout(struct fhir_client *c)
{
    int running;
    if (c->auth_due_ms >= 0) {
        /* issue 12 item 8: the timer serves the hook's wake-up too */
        int64_t now = client_now_ms();
        if (now >= c->auth_due_ms) {
            c->auth_due_ms = -1;
            fhir_client_auth_ready(c, NULL);
        }
        if (c->curl_due_ms < 0 || now < c->curl_due_ms) {
            client_arm(c);
            return;
        }
    }
    c->curl_due_ms = -1; /* fired; curl asks again when it needs one */
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
    if (c->auth_due_ms >= 0)
        client_arm(c);
}

static size_t write_cb(char *p, size_t size, size_t n, void *ud)
{
    struct fhir_req *q = ud;
    size_t add = size * n;
    if (q->resp_len + add > q->c->max_body) {
        q->too_big = 1;
        return 0;
    }
    if (q->resp_len + add + 1 > q->resp_cap) {
        size_t cap = q->resp_cap ? q->resp_cap : 4096;
        while (cap < q->resp_len + add + 1)
            cap *= 2;
        char *nb = realloc(q->resp, cap);
        if (!nb)
            return 0;
        q->resp = nb;
        q->resp_cap = cap;
    }
    memcpy(q->resp + q->resp_len, p, add);
    q->resp_len += add;
    q->resp[q->resp_len] = '\0';
    return add;
}

/* Copy header value (after "Name:") trimmed into out. */
static void header_value(const char *line, size_t len, size_t name_len, char *out, size_t outlen)
{
    size_t i = name_len;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    size_t end = len;
    while (end > i && (line[end - 1] == '\r' || line[end - 1] == '\n' || line[end - 1] == ' '))
        end--;
    size_t n = end - i < outlen - 1 ? end - i : outlen - 1;
    memcpy(out, line + i, n);
    out[n] = '\0';
}

/* Note a Retry-After header (its value is read from curl when the response
 * is complete); a number curl cannot hold is noted as such. */
static void header_retry_after(struct fhir_req *q, const char *v)
{
    q->retry_after_seen = 1;
    q->retry_after_overflow = 0;
    if (!isdigit((unsigned char)v[0]))
        return;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    q->retry_after_overflow = errno == ERANGE && n > 0 && *end == '\0';
}

/* The Date header: the server's clock. */
static void header_date(struct fhir_req *q, const char *v)
{
    time_t t = curl_getdate(v, NULL);
    q->r.date_ms = t > 0 ? (int64_t)t * 1000 : 0;
}

static size_t header_cb(char *p, size_t size, size_t n, void *ud)
{
    struct fhir_req *q = ud;
    size_t len = size * n;
    char v[512];
    if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        header_value(p, len, 12, v, sizeof v);
        header_retry_after(q, v);
    } else if (len > 5 && strncasecmp(p, "Date:", 5) == 0) {
        header_value(p, len, 5, v, sizeof v);
        header_date(q, v);
    } else if (len > 13 && strncasecmp(p, "Content-Type:", 13) == 0) {
        header_value(p, len, 13, q->r.content_type, sizeof q->r.content_type);
    } else if (len > 9 && strncasecmp(p, "Location:", 9) == 0) {
        header_value(p, len, 9, q->r.location, sizeof q->r.location);
    } else if (len > 17 && strncasecmp(p, "Content-Location:", 17) == 0 && !q->r.location[0]) {
        header_value(p, len, 17, q->r.location, sizeof q->r.location);
    } else if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* a new response (after 100-continue): reset */
        q->retry_after_seen = q->retry_after_overflow = 0;
        q->r.date_ms = 0;
        q->r.content_type[0] = q->r.location[0] = '\0';
    }
    return len;
}

/* The easy handle of q for method on url (absolute, already checked). */
static int req_setup(struct fhir_req *q, const char *method, const char *url,
                     const char *content_type)
{
    struct fhir_client *c = q->c;
    CURL *e = q->easy;
    int bad = curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK;
    struct curl_slist *h = curl_slist_append(
        NULL, q->plain ? "Accept: application/json" : "Accept: application/fhir+json");
    if (h && content_type) {
        char ct[128];
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        struct curl_slist *h2 = curl_slist_append(h, ct);
        h = h2 ? h2 : (curl_slist_free_all(h), NULL);
    }
    if (h && c->auth_header && !q->plain && !c->has_auth) {
        struct curl_slist *h2 = curl_slist_append(h, c->auth_header);
        h = h2 ? h2 : (curl_slist_free_all(h), NULL);
    }
    if (h) {  /* no 100-continue round trip for bodies */
        struct curl_slist *h2 = curl_slist_append(h, "Expect:");
        h = h2 ? h2 : (curl_slist_free_all(h), NULL);
    }
    if (h && strcmp(method, "GET") == 0) {
        /* never an answer from a search cache: HAPI JPA serves a search
         * repeated within 60 s from its cache (seen against HAPI 8.8.0,
         * tests/hapi-server/README.md), so a catch-up with the same cursor
         * would miss what came since; Cache-Control: no-cache is how HAPI's
         * own client asks it to search again (ca.uhn.fhir.rest.api.
         * CacheControlDirective#setNoCache) */
        struct curl_slist *h2 = curl_slist_append(h, "Cache-Control: no-cache");
        h = h2 ? h2 : (curl_slist_free_all(h), NULL);
    }
    if (!h || bad)
        return -1;
    q->headers = h;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_PRIVATE, q);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, q->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, q);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, q);
    curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, c->timeout_s);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, c->timeout_s < 10 ? c->timeout_s : 10L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    /* only the base's scheme, and no redirects (curl's default, stated) */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, q->scheme ? q->scheme : c->origin.scheme);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    if (c->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
    if (c->client_cert) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, c->client_cert);
        curl_easy_setopt(e, CURLOPT_SSLKEY, c->client_key);
    }
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        if (q->body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, q->body ? q->body : "");
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
        }
    }
    return 0;
}

/* Add q to the multi, with the hook's Authorization line first (a FHIR API
 * request with a hook set); or leave it waiting for the hook. 0, or -1. */
static int req_start(struct fhir_req *q)
{
    struct fhir_client *c = q->c;
    q->waiting = 0;
    if (!q->plain && c->has_auth) {
        const char *v = NULL;
        if (c->auth.header(c->auth.ctx, &v) != 1 || !v) {
            q->waiting = 1;
            return 0;
        }
        struct curl_slist *a = curl_slist_append(NULL, v);
        if (!a)
            return -1;
        a->next = q->headers;
        q->auth_node = a;
        curl_easy_setopt(q->easy, CURLOPT_HTTPHEADER, a);
    }
    return curl_multi_add_handle(c->multi, q->easy) == CURLM_OK ? 0 : -1;
}

static int request_start(struct fhir_client *c, char *u, int plain, char *scheme,
                         const char *method, const char *body, size_t len,
                         const char *content_type, fhir_client_done_fn cb, void *ctx);

int fhir_client_request(struct fhir_client *c, const char *method, const char *url,
                        const char *body, size_t len, const char *content_type,
                        fhir_client_done_fn cb, void *ctx)
{
    int code;
    c->err[0] = '\0';
    char *u = request_url(c, url ? url : "", &code, c->err, sizeof c->err);
    if (!u)
        return code;
    return request_start(c, u, 0, NULL, method, body, len, content_type, cb, ctx);
}

int fhir_client_request_plain(struct fhir_client *c, const char *method, const char *url,
                              int same_origin, const char *body, size_t len,
                              const char *content_type, fhir_client_done_fn cb, void *ctx)
{
    c->err[0] = '\0';
    CURLU *p = NULL;
    if (fhir_client_check_base(url ? url : "", c->allow_http, c->err, sizeof c->err) != 0 ||
        url_parse(url, &p, c->err, sizeof c->err) != 0)
        return FHIR_CLIENT_EURL;
    struct fhir_origin o = {0};
    if (origin_of(p, &o) != 0) {
        curl_url_cleanup(p);
        origin_free(&o);
        snprintf(c->err, sizeof c->err, "out of memory");
        return FHIR_CLIENT_ENOMEM;
    }
    int ok = !same_origin || (strcmp(o.scheme, c->origin.scheme) == 0 &&
                              strcasecmp(o.host, c->origin.host) == 0 &&
                              strcmp(o.port, c->origin.port) == 0);
    char *u = ok ? url_string(p, c->err, sizeof c->err) : NULL;
    char *scheme = o.scheme;
    o.scheme = NULL;
    origin_free(&o);
    curl_url_cleanup(p);
    if (!ok)
        snprintf(c->err, sizeof c->err,
                 "'%.300s' is not on the origin of the configured base %.200s (scheme, host "
                 "and port must match): not requested",
                 url, c->base);
    if (!u) {
        free(scheme);
        return ok ? FHIR_CLIENT_ENOMEM : FHIR_CLIENT_EURL;
    }
    return request_start(c, u, 1, scheme, method, body, len, content_type, cb, ctx);
}

/* Make, set up and start (or leave waiting) the request for u (owned). */
static int request_start(struct fhir_client *c, char *u, int plain, char *scheme,
                         const char *method, const char *body, size_t len,
                         const char *content_type, fhir_client_done_fn cb, void *ctx)
{
    struct fhir_req *q = calloc(1, sizeof *q);
    if (!q) {
        free(u);
        free(scheme);
        snprintf(c->err, sizeof c->err, "out of memory");
        return FHIR_CLIENT_ENOMEM;
    }
    q->plain = plain;
    q->scheme = scheme;
    q->c = c;
    q->cb = cb;
    q->ctx = ctx;
    q->r.retry_after_s = -1;
    q->easy = curl_easy_init();
    if (body) {
        q->body = malloc(len + 1);
        if (q->body) {
            memcpy(q->body, body, len);
            q->body[len] = '\0';
            q->body_len = len;
        }
    }
    int bad = !q->easy || (body && !q->body) || req_setup(q, method, u, content_type) != 0 ||
              req_start(q) != 0;
    free(u);
    if (bad) {
        req_free(q);
        snprintf(c->err, sizeof c->err, "out of memory");
        return FHIR_CLIENT_ENOMEM;
    }
    c->pending++;
    q->next = c->reqs;
    if (c->reqs)
        c->reqs->prev = q;
    c->reqs = q;
    return 0;
}

const char *fhir_client_error(const struct fhir_client *c)
{
    return c->err;
}

int fhir_client_pending(const struct fhir_client *c)
{
    return c->pending;
}

const char *fhir_client_base(const struct fhir_client *c)
{
    return c->base;
}

void fhir_client_free(struct fhir_client *c)
{
    if (!c)
        return;
    if (c->multi) {
        while (c->reqs)
            req_finish(c->reqs, CURLE_OK, "cancelled");
        curl_multi_cleanup(c->multi);
    }
    free(c->base);
    curl_url_cleanup(c->base_url);
    origin_free(&c->origin);
    free(c->ca_file);
    free(c->client_cert);
    free(c->client_key);
    free(c->auth_header);
    free(c->user_agent);
    free(c);
}

int fhir_client_set_credentials(struct fhir_client *c, const char *ca_file,
                                const char *client_cert, const char *client_key,
                                const char *token)
{
    struct fhir_client_opts o = {NULL, ca_file, client_cert, client_key, token, 0, 0,
                                 c->user_agent, 0};
    struct fhir_client t = {0};
    if (client_set_strings(&t, &o) != 0) {
        free(t.ca_file), free(t.client_cert), free(t.client_key), free(t.auth_header);
        free(t.user_agent);
        return -1;
    }
    free(c->ca_file), free(c->client_cert), free(c->client_key), free(c->auth_header);
    free(t.user_agent); /* unchanged */
    c->ca_file = t.ca_file;
    c->client_cert = t.client_cert;
    c->client_key = t.client_key;
    c->auth_header = t.auth_header;
    return 0;
}

/* ---- issue 14 (metrics): the observer of finished requests ---- */

/* Tell the observer about q (finished, its response set): method and URL
 * as curl sent them, the status, the total time. */
static void client_observe(struct fhir_req *q)
{
    struct fhir_client *c = q->c;
    char *method = NULL, *url = NULL;
    curl_off_t us = 0;
    if (curl_easy_getinfo(q->easy, CURLINFO_EFFECTIVE_METHOD, &method) != CURLE_OK)
        method = NULL;
    if (curl_easy_getinfo(q->easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK)
        url = NULL;
    if (curl_easy_getinfo(q->easy, CURLINFO_TOTAL_TIME_T, &us) != CURLE_OK)
        us = 0;
    struct fhir_client_event ev = {method ? method : "", url ? url : "", q->r.status,
                                   q->r.error ? q->r.error : "", (double)us / 1e6, q->ctx};
    c->observe_fn(c->observe_ctx, &ev);
}

void fhir_client_set_observer(struct fhir_client *c, fhir_client_observe_fn fn, void *ctx)
{
    c->observe_fn = fn;
    c->observe_ctx = ctx;
}

/* ---- issue 12 item 8: the Authorization hook (SMART Backend Services) ---- */

void fhir_client_set_auth(struct fhir_client *c, const struct fhir_client_auth *a)
{
    c->has_auth = a != NULL;
    if (a)
        c->auth = *a;
    else
        memset(&c->auth, 0, sizeof c->auth);
}

static struct fhir_req *first_waiting(struct fhir_client *c)
{
    for (struct fhir_req *q = c->reqs; q; q = q->next)
        if (q->waiting)
            return q;
    return NULL;
}

void fhir_client_auth_ready(struct fhir_client *c, const char *error)
{
    char why[CURL_ERROR_SIZE];
    if (error) {
        snprintf(why, sizeof why, "no access token: %.200s", error);
        /* those waiting now; a callback that starts a request again does
         * not make it fail in this round */
        for (struct fhir_req *q = c->reqs; q; q = q->next)
            q->fail_now = q->waiting;
        for (;;) {
            struct fhir_req *q = c->reqs;
            while (q && !q->fail_now)
                q = q->next;
            if (!q)
                break;
            q->waiting = q->fail_now = 0;
            snprintf(q->errbuf, sizeof q->errbuf, "%s", why);
            req_finish(q, CURLE_OK, q->errbuf);
        }
        return;
    }
    /* start each waiting one; one that still waits (the hook has no token
     * again) stops the round: the next fhir_client_auth_ready goes on */
    struct fhir_req *q;
    while ((q = first_waiting(c))) {
        if (req_start(q) != 0) {
            q->waiting = 0;
            req_finish(q, CURLE_OK, "out of memory");
        } else if (q->waiting)
            break;
    }
}

void fhir_client_auth_retry_in(struct fhir_client *c, long ms)
{
    c->auth_due_ms = ms < 0 ? -1 : client_now_ms() + ms;
    client_arm(c);
}
