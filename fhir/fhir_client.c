/*
 * fhir_client.c - the FHIR REST client on libcurl multi (fhir_client.h).
 * Owns the CURLM and one struct fhir_req per transfer (easy handle, headers,
 * body copy, response buffer); a request is freed right after its callback.
 */
#include "fhir_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct fhir_client {
    CURLM *multi;
    char *base;
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
    struct fhir_response r;
    char errbuf[CURL_ERROR_SIZE];
    fhir_client_done_fn cb;
    void *ctx;
};

static char *dup_or_null(const char *s)
{
    return (s && *s) ? strdup(s) : NULL;
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

static int curl_timer_cb(CURLM *m, long ms, void *userp)
{
    struct fhir_client *c = userp;
    (void)m;
    if (c->timer_fn)
        c->timer_fn(c->loop_ctx, ms);
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
    c->multi = curl_multi_init();
    c->base = strdup(o->base ? o->base : "");
    c->ca_file = dup_or_null(o->ca_file);
    c->client_cert = dup_or_null(o->client_cert);
    c->client_key = dup_or_null(o->client_key);
    c->user_agent = strdup(o->user_agent ? o->user_agent : "nenfhir");
    c->timeout_s = o->timeout_s > 0 ? o->timeout_s : 30;
    c->max_body = o->max_body ? o->max_body : (size_t)64 * 1024 * 1024;
    int oom = !c->multi || !c->base || !c->user_agent || (o->ca_file && *o->ca_file && !c->ca_file) ||
              (o->client_cert && *o->client_cert && !c->client_cert) ||
              (o->client_key && *o->client_key && !c->client_key);
    if (!oom && o->token && *o->token) {
        size_t n = strlen(o->token) + 32;
        c->auth_header = malloc(n);
        if (c->auth_header)
            snprintf(c->auth_header, n, "Authorization: Bearer %s", o->token);
        else
            oom = 1;
    }
    if (oom) {
        snprintf(err, errlen, "out of memory");
        fhir_client_free(c);
        return NULL;
    }
    size_t bl = strlen(c->base);
    while (bl > 0 && c->base[bl - 1] == '/')
        c->base[--bl] = '\0';
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
    free(q->body);
    free(q->resp);
    free(q);
}

static void req_finish(struct fhir_req *q, CURLcode rc, const char *why)
{
    struct fhir_client *c = q->c;
    curl_multi_remove_handle(c->multi, q->easy);
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
    }
    q->r.body = q->resp ? q->resp : (char *)"";
    q->r.len = q->resp_len;
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
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
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

static size_t header_cb(char *p, size_t size, size_t n, void *ud)
{
    struct fhir_req *q = ud;
    size_t len = size * n;
    char v[512];
    if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        header_value(p, len, 12, v, sizeof v);
        char *end;
        long s = strtol(v, &end, 10);
        if (end != v && *end == '\0' && s >= 0)
            q->r.retry_after_s = s;
        else if (v[0])
            q->r.retry_after_s = 5; /* HTTP-date form: wait a little */
    } else if (len > 13 && strncasecmp(p, "Content-Type:", 13) == 0) {
        header_value(p, len, 13, q->r.content_type, sizeof q->r.content_type);
    } else if (len > 9 && strncasecmp(p, "Location:", 9) == 0) {
        header_value(p, len, 9, q->r.location, sizeof q->r.location);
    } else if (len > 17 && strncasecmp(p, "Content-Location:", 17) == 0 && !q->r.location[0]) {
        header_value(p, len, 17, q->r.location, sizeof q->r.location);
    } else if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* a new response (after 100-continue or a redirect): reset */
        q->r.retry_after_s = -1;
        q->r.content_type[0] = q->r.location[0] = '\0';
    }
    return len;
}

static char *full_url(const struct fhir_client *c, const char *url)
{
    if (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0)
        return strdup(url);
    while (*url == '/')
        url++;
    size_t n = strlen(c->base) + strlen(url) + 2;
    char *u = malloc(n);
    if (u)
        snprintf(u, n, "%s/%s", c->base, url);
    return u;
}

static int req_setup(struct fhir_req *q, const char *method, const char *url,
                     const char *content_type)
{
    struct fhir_client *c = q->c;
    CURL *e = q->easy;
    char *u = full_url(c, url);
    if (!u)
        return -1;
    int bad = curl_easy_setopt(e, CURLOPT_URL, u) != CURLE_OK;
    free(u);
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/fhir+json");
    if (h && content_type) {
        char ct[128];
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        struct curl_slist *h2 = curl_slist_append(h, ct);
        h = h2 ? h2 : (curl_slist_free_all(h), NULL);
    }
    if (h && c->auth_header) {
        struct curl_slist *h2 = curl_slist_append(h, c->auth_header);
        h = h2 ? h2 : (curl_slist_free_all(h), NULL);
    }
    if (h) {  /* no 100-continue round trip for bodies */
        struct curl_slist *h2 = curl_slist_append(h, "Expect:");
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
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
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

int fhir_client_request(struct fhir_client *c, const char *method, const char *url,
                        const char *body, size_t len, const char *content_type,
                        fhir_client_done_fn cb, void *ctx)
{
    struct fhir_req *q = calloc(1, sizeof *q);
    if (!q)
        return -1;
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
    if (!q->easy || (body && !q->body) || req_setup(q, method, url, content_type) != 0) {
        req_free(q);
        return -1;
    }
    if (curl_multi_add_handle(c->multi, q->easy) != CURLM_OK) {
        req_free(q);
        return -1;
    }
    c->pending++;
    q->next = c->reqs;
    if (c->reqs)
        c->reqs->prev = q;
    c->reqs = q;
    return 0;
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
    free(c->ca_file);
    free(c->client_cert);
    free(c->client_key);
    free(c->auth_header);
    free(c->user_agent);
    free(c);
}
