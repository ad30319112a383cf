/*
 * fhir_smart.c - SMART Backend Services (fhir_smart.h): the private_key_jwt
 * assertion (RFC 7523, RFC 7515, signed with OpenSSL's EVP API), the
 * client_credentials token request, the token cache behind fhir_client's
 * Authorization hook. One token request at a time; the token is renewed in
 * the background after renew_at, and requests wait for it once it expired.
 */
#include "fhir_smart.h"
#include "fhir_client.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SMART_ASSERTION_TTL_S 300

/* ---- the assertion ---- */

EVP_PKEY *fhir_smart_load_key(const char *path, const char **alg, char *err, size_t errlen)
{
    BIO *b = BIO_new_file(path, "r");
    if (!b) {
        snprintf(err, errlen, "%.300s: cannot open the private key", path);
        return NULL;
    }
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!k) {
        snprintf(err, errlen, "%.300s: not a PEM private key (unencrypted)", path);
        return NULL;
    }
    if (EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA) {
        if (EVP_PKEY_get_bits(k) >= 2048) {
            *alg = "RS384";
            return k;
        }
        snprintf(err, errlen, "%.300s: RSA key of %d bits: at least 2048 are required", path,
                 EVP_PKEY_get_bits(k));
    } else if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC) {
        char group[64] = "";
        size_t gl = 0;
        if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                           &gl) == 1 &&
            strcmp(group, "secp384r1") == 0) {
            *alg = "ES384";
            return k;
        }
        snprintf(err, errlen, "%.300s: EC key on curve '%s': P-384 (secp384r1) is required",
                 path, group[0] ? group : "unknown");
    } else
        snprintf(err, errlen, "%.300s: the key is neither RSA nor EC (RS384 or ES384 needed)",
                 path);
    EVP_PKEY_free(k);
    return NULL;
}

/* base64url of n bytes, no padding; malloc'd or NULL. */
static char *b64url(const unsigned char *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = malloc(n / 3 * 4 + 5);
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        out[o++] = t[v >> 18 & 63], out[o++] = t[v >> 12 & 63];
        out[o++] = t[v >> 6 & 63], out[o++] = t[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)p[i] << 16;
        out[o++] = t[v >> 18 & 63], out[o++] = t[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
        out[o++] = t[v >> 18 & 63], out[o++] = t[v >> 12 & 63], out[o++] = t[v >> 6 & 63];
    }
    out[o] = '\0';
    return out;
}

int fhir_smart_kid(EVP_PKEY *key, char *out, size_t outlen)
{
    unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
    out[0] = '\0';
    int n = i2d_PUBKEY(key, &der);
    if (n <= 0 || outlen < 33) {
        OPENSSL_free(der);
        return -1;
    }
    SHA256(der, (size_t)n, md);
    OPENSSL_free(der);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* Sign data with key (SHA-384); the JOSE signature (RS384: PKCS#1 v1.5;
 * ES384: r||s, 96 bytes) into *sig (malloc'd). 0 or -1. */
static int sign384(EVP_PKEY *key, const char *data, unsigned char **sig, size_t *siglen)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    size_t n = 0;
    unsigned char *der = NULL;
    int ok = m && EVP_DigestSignInit(m, NULL, EVP_sha384(), NULL, key) == 1 &&
             EVP_DigestSign(m, NULL, &n, (const unsigned char *)data, strlen(data)) == 1 &&
             (der = malloc(n)) != NULL &&
             EVP_DigestSign(m, der, &n, (const unsigned char *)data, strlen(data)) == 1;
    EVP_MD_CTX_free(m);
    if (!ok) {
        free(der);
        return -1;
    }
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
        *sig = der, *siglen = n;
        return 0;
    }
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
    free(der);
    unsigned char *rs = malloc(96);
    if (!es || !rs || BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 48) != 48 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 48, 48) != 48) {
        ECDSA_SIG_free(es);
        free(rs);
        return -1;
    }
    ECDSA_SIG_free(es);
    *sig = rs, *siglen = 96;
    return 0;
}

/* base64url of the JSON text of o (plain, '/' not escaped); malloc'd. */
static char *b64url_json(struct json_object *o)
{
    const char *t = o ? json_object_to_json_string_ext(
                            o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                      : NULL;
    return t ? b64url((const unsigned char *)t, strlen(t)) : NULL;
}

/* Add a string / an integer member; 0, or -1 (out of memory). */
static int add_str(struct json_object *o, const char *k, const char *v)
{
    struct json_object *j = json_object_new_string(v);
    if (!j || json_object_object_add(o, k, j) != 0) {
        json_object_put(j);
        return -1;
    }
    return 0;
}

static int add_int(struct json_object *o, const char *k, int64_t v)
{
    struct json_object *j = json_object_new_int64(v);
    if (!j || json_object_object_add(o, k, j) != 0) {
        json_object_put(j);
        return -1;
    }
    return 0;
}

char *fhir_smart_assertion(EVP_PKEY *key, const char *alg, const char *kid,
                           const char *client_id, const char *aud, int64_t now_s, char *err,
                           size_t errlen)
{
    char kidbuf[40], jti[33];
    unsigned char rnd[16];
    if (errlen)
        err[0] = '\0';
    if (!kid) {
        if (fhir_smart_kid(key, kidbuf, sizeof kidbuf) != 0) {
            snprintf(err, errlen, "cannot read the public key");
            return NULL;
        }
        kid = kidbuf;
    }
    if (RAND_bytes(rnd, sizeof rnd) != 1) {
        snprintf(err, errlen, "no random bytes for the jti");
        return NULL;
    }
    for (int i = 0; i < 16; i++)
        snprintf(jti + 2 * i, 3, "%02x", rnd[i]);
    struct json_object *h = json_object_new_object(), *c = json_object_new_object();
    int bad = !h || !c;
    if (!bad) {
        bad |= add_str(h, "alg", alg) != 0;
        bad |= add_str(h, "kid", kid) != 0;
        bad |= add_str(h, "typ", "JWT") != 0;
        bad |= add_str(c, "iss", client_id) != 0;
        bad |= add_str(c, "sub", client_id) != 0;
        bad |= add_str(c, "aud", aud) != 0;
        bad |= add_int(c, "iat", now_s) != 0;
        bad |= add_int(c, "exp", now_s + SMART_ASSERTION_TTL_S) != 0;
        bad |= add_str(c, "jti", jti) != 0;
    }
    char *hb = bad ? NULL : b64url_json(h), *cb = bad ? NULL : b64url_json(c);
    json_object_put(h);
    json_object_put(c);
    char *out = NULL, *sb = NULL;
    unsigned char *sig = NULL;
    size_t siglen = 0;
    if (hb && cb) {
        size_t n = strlen(hb) + strlen(cb) + 2;
        char *input = malloc(n);
        if (input) {
            snprintf(input, n, "%s.%s", hb, cb);
            if (sign384(key, input, &sig, &siglen) == 0 && (sb = b64url(sig, siglen))) {
                size_t m = n + strlen(sb) + 1;
                out = malloc(m);
                if (out)
                    snprintf(out, m, "%s.%s", input, sb);
            } else if (!sig)
                snprintf(err, errlen, "signing the assertion failed");
            free(input);
        }
    }
    if (!out && !err[0])
        snprintf(err, errlen, "out of memory");
    free(hb), free(cb), free(sig), free(sb);
    return out;
}

/* ---- the token response ---- */

static const char *jstr(struct json_object *o, const char *name)
{
    struct json_object *v;
    if (!o || !json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* expires_in: a JSON integer, or a string of digits (some servers quote it),
 * 1 .. 2^31-1; clamped to FHIR_SMART_TTL_MAX_S. 0, or -1. */
static int expires_in_of(struct json_object *v, int64_t *ttl)
{
    int64_t n = -1;
    if (json_object_is_type(v, json_type_int)) {
        errno = 0;
        n = json_object_get_int64(v);
        if (errno != 0)
            n = -1;
    } else if (json_object_is_type(v, json_type_string)) {
        const char *t = json_object_get_string(v);
        size_t len = strlen(t);
        if (len >= 1 && len <= 10 && strspn(t, "0123456789") == len)
            n = strtoll(t, NULL, 10);
    }
    if (n < 1 || n > 2147483647)
        return -1;
    *ttl = n > FHIR_SMART_TTL_MAX_S ? FHIR_SMART_TTL_MAX_S : n;
    return 0;
}

int fhir_smart_parse_token(long status, const char *body, char **header, int64_t *ttl_s,
                           char *err, size_t errlen)
{
    *header = NULL;
    *ttl_s = 0;
    struct json_object *o = body ? json_tokener_parse(body) : NULL;
    if (o && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    const char *tok = jstr(o, "access_token"), *type = jstr(o, "token_type");
    struct json_object *v = NULL;
    int64_t ttl = FHIR_SMART_TTL_DEFAULT_S;
    if (status != 200) {
        const char *e = jstr(o, "error"), *d = jstr(o, "error_description");
        if (e || d)
            snprintf(err, errlen, "HTTP %ld: error '%.100s': %.300s", status, e ? e : "",
                     d ? d : "(no error_description)");
        else
            snprintf(err, errlen, "HTTP %ld without an OAuth error object (%.100s)", status,
                     body ? body : "");
    } else if (!o)
        snprintf(err, errlen, "HTTP 200: the answer is not a JSON object (%.100s)",
                 body ? body : "");
    else if (!tok || !*tok)
        snprintf(err, errlen, "HTTP 200: no access_token in the answer");
    else if (strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=") !=
             strlen(tok))
        /* RFC 6750 b64token: nothing that could end the header line */
        snprintf(err, errlen, "HTTP 200: the access_token has characters a bearer token "
                              "cannot have");
    else if (type && strcasecmp(type, "bearer") != 0)
        snprintf(err, errlen, "HTTP 200: token_type '%.60s', not 'bearer'", type);
    else if (json_object_object_get_ex(o, "expires_in", &v) && expires_in_of(v, &ttl) != 0)
        snprintf(err, errlen, "HTTP 200: expires_in %.60s is not a whole number of seconds "
                              "from 1 to 2147483647",
                 json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    else {
        size_t n = strlen(tok) + 32;
        char *h = malloc(n);
        if (!h)
            snprintf(err, errlen, "out of memory");
        else {
            snprintf(h, n, "Authorization: Bearer %s", tok);
            *header = h;
            *ttl_s = ttl;
        }
    }
    json_object_put(o);
    return *header ? 0 : -1;
}

/* ---- the token cache ---- */

struct fhir_smart {
    struct fhir_client *client;
    char *client_id, *token_url, *scopes;
    int discovered;            /* token_url came (or comes) from .well-known */
    EVP_PKEY *key;
    const char *alg;
    char kid[40];
    char *header;              /* "Authorization: Bearer ..." or NULL */
    int64_t renew_at, expires_at; /* monotonic ms */
    int busy;                  /* a token (or discovery) request in flight */
    unsigned gen, busy_gen;    /* settings generation (reload) now / of that request */
    int in_failed;             /* inside smart_failed: no new request from there */
    unsigned long tokens, failures_total;
    /* backoff after a failed token request */
    unsigned failures;         /* in a row */
    int64_t retry_at;          /* monotonic ms: no token request before */
    char last_error[700];      /* the failure last logged */
    int64_t last_error_log;    /* when (monotonic ms) */
    fhir_smart_log_fn log_fn;
    void *log_ctx;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return (int64_t)time(NULL) * 1000;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void smart_log(struct fhir_smart *s, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void smart_log(struct fhir_smart *s, const char *level, const char *fmt, ...)
{
    if (!s->log_fn)
        return;
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->log_fn(s->log_ctx, level, line);
}

static void smart_fetch(struct fhir_smart *s);

/* The backoff after n failures in a row: 1 s doubling, capped. */
static int64_t backoff_ms(unsigned n)
{
    int64_t ms = FHIR_SMART_BACKOFF_MIN_MS;
    for (unsigned i = 1; i < n && ms < FHIR_SMART_BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms > FHIR_SMART_BACKOFF_MAX_MS ? FHIR_SMART_BACKOFF_MAX_MS : ms;
}

/* The request failed: the next one after the backoff. Requests waiting for
 * a token keep waiting (nothing they could do without one; failing them
 * would spend their callers' attempts and log a line each) unless a valid
 * token is still cached: then they go on with it. One log line per new
 * failure; the same failure again is logged once every FHIR_SMART_RELOG_MS. */
static void smart_failed(struct fhir_smart *s, const char *why)
{
    s->busy = 0;
    s->failures++;
    s->failures_total++;
    int64_t now = mono_ms(), wait = backoff_ms(s->failures);
    s->retry_at = now + wait;
    if (strcmp(why, s->last_error) != 0) {
        snprintf(s->last_error, sizeof s->last_error, "%s", why);
        s->last_error_log = now;
        smart_log(s, "error",
                  "SMART token request to %.300s failed: %.500s; next try in %lld s (backoff "
                  "doubling up to %d s)",
                  s->token_url ? s->token_url : "(discovery)", why, (long long)(wait / 1000),
                  FHIR_SMART_BACKOFF_MAX_MS / 1000);
    } else if (now - s->last_error_log >= FHIR_SMART_RELOG_MS) {
        s->last_error_log = now;
        smart_log(s, "error", "SMART token request to %.300s still failing (%u in a row): %.500s",
                  s->token_url ? s->token_url : "(discovery)", s->failures, why);
    }
    s->in_failed = 1;
    if (s->header && now < s->expires_at)
        fhir_client_auth_ready(s->client, NULL);
    s->in_failed = 0;
    /* the waiting requests (and those started during the backoff) ask again
     * when it ends: the next token request */
    fhir_client_auth_retry_in(s->client, (long)wait);
}

/* An answer not to act on, 1 if so: its request was cancelled (the client
 * is closing), or made before a reload (dropped, asked again). */
static int dropped(struct fhir_smart *s, const struct fhir_response *r)
{
    if (r->status == 0 && strcmp(r->error, "cancelled") == 0) {
        s->busy = 0;
        return 1;
    }
    if (s->busy_gen == s->gen)
        return 0;
    s->busy = 0;
    smart_fetch(s);
    return 1;
}

static void on_token(void *ctx, const struct fhir_response *r)
{
    struct fhir_smart *s = ctx;
    char why[700];
    if (dropped(s, r))
        return;
    if (r->status == 0) {
        snprintf(why, sizeof why, "%.500s", r->error);
        smart_failed(s, why);
        return;
    }
    char *h = NULL;
    int64_t ttl = 0;
    if (fhir_smart_parse_token(r->status, r->body, &h, &ttl, why, sizeof why) != 0) {
        smart_failed(s, why);
        return;
    }
    free(s->header);
    s->header = h;
    int64_t now = mono_ms();
    s->expires_at = now + ttl * 1000;
    s->renew_at = now + (ttl - 60 > ttl / 2 ? ttl - 60 : ttl / 2) * 1000;
    s->tokens++;
    s->busy = 0;
    if (s->failures)
        smart_log(s, "info",
                  "SMART access token %lu from %.300s, valid %lld s (after %u failed "
                  "request(s))",
                  s->tokens, s->token_url, (long long)ttl, s->failures);
    else
        smart_log(s, "info", "SMART access token %lu from %.300s, valid %lld s", s->tokens,
                  s->token_url, (long long)ttl);
    s->failures = 0;
    s->retry_at = 0;
    s->last_error[0] = '\0';
    fhir_client_auth_retry_in(s->client, -1);
    fhir_client_auth_ready(s->client, NULL);
}

static void on_discovery(void *ctx, const struct fhir_response *r)
{
    struct fhir_smart *s = ctx;
    char why[700];
    if (dropped(s, r))
        return;
    struct json_object *o = r->status == 200 ? json_tokener_parse(r->body) : NULL;
    const char *te = jstr(o, "token_endpoint");
    if (!te || !*te) {
        snprintf(why, sizeof why,
                 "%.300s/.well-known/smart-configuration: %s%.300s (HTTP %ld)",
                 fhir_client_base(s->client),
                 r->status == 0 ? "" : "no token_endpoint in the answer",
                 r->status == 0 ? r->error : "", r->status);
        json_object_put(o);
        smart_failed(s, why);
        return;
    }
    s->token_url = strdup(te);
    json_object_put(o);
    if (!s->token_url) {
        smart_failed(s, "out of memory");
        return;
    }
    smart_log(s, "info", "SMART token endpoint discovered: %.300s", s->token_url);
    s->busy = 0;
    smart_fetch(s);
}

/* Start the token request (or discovery first) unless one is in flight. */
static void smart_fetch(struct fhir_smart *s)
{
    if (s->busy || s->in_failed)
        return;
    s->busy = 1;
    s->busy_gen = s->gen;
    struct fhir_client *c = s->client;
    if (!s->token_url) {
        size_t n = strlen(fhir_client_base(c)) + 40;
        char *u = malloc(n);
        int rc = FHIR_CLIENT_ENOMEM;
        if (u) {
            snprintf(u, n, "%s/.well-known/smart-configuration", fhir_client_base(c));
            rc = fhir_client_request_plain(c, "GET", u, 1, NULL, 0, NULL, on_discovery, s);
            free(u);
        }
        if (rc != 0)
            smart_failed(s, u ? fhir_client_error(c) : "out of memory");
        return;
    }
    char err[512] = "";
    char *jwt = fhir_smart_assertion(s->key, s->alg, s->kid, s->client_id, s->token_url,
                                     (int64_t)time(NULL), err, sizeof err);
    char *scope = jwt ? curl_easy_escape(NULL, s->scopes, 0) : NULL;
    char *form = NULL;
    if (scope) {
        size_t n = strlen(scope) + strlen(jwt) + 200;
        form = malloc(n);
        if (form)
            snprintf(form, n,
                     "grant_type=client_credentials&scope=%s&client_assertion_type="
                     "urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-assertion-type%%3Ajwt-bearer"
                     "&client_assertion=%s",
                     scope, jwt);
    }
    curl_free(scope);
    free(jwt);
    if (!form) {
        smart_failed(s, err[0] ? err : "out of memory");
        return;
    }
    int rc = fhir_client_request_plain(c, "POST", s->token_url, s->discovered, form,
                                       strlen(form), "application/x-www-form-urlencoded",
                                       on_token, s);
    free(form);
    if (rc != 0)
        smart_failed(s, fhir_client_error(c));
}

static int hook_header(void *ctx, const char **value)
{
    struct fhir_smart *s = ctx;
    int64_t now = mono_ms();
    if (s->header && now >= s->expires_at - 1000) {
        free(s->header);
        s->header = NULL;
    }
    /* no request during the backoff: fhir_client_auth_retry_in wakes the
     * waiting ones when it ends */
    if ((!s->header || now >= s->renew_at) && now >= s->retry_at)
        smart_fetch(s);
    if (!s->header)
        return 0;
    *value = s->header;
    return 1;
}

static void hook_rejected(void *ctx, const char *value)
{
    struct fhir_smart *s = ctx;
    /* only the token in use: a request that waited through a renewal was
     * sent with the one before */
    if (s->header && strcmp(s->header + strlen("Authorization: "), value) == 0) {
        smart_log(s, "warn", "the FHIR server refused the SMART access token (401): renewing");
        free(s->header);
        s->header = NULL;
    }
    if (!s->header && mono_ms() >= s->retry_at)
        smart_fetch(s);
}

/* The settings of o, loaded and copied into *t (a scratch struct): 0, or -1
 * with err set and *t's parts freed. */
static int smart_settings(struct fhir_smart *t, const struct fhir_smart_opts *o, char *err,
                          size_t errlen)
{
    if (!o->client_id || !*o->client_id || !o->key_file || !*o->key_file) {
        snprintf(err, errlen, "SMART backend services need a client id and a key file");
        return -1;
    }
    t->key = fhir_smart_load_key(o->key_file, &t->alg, err, errlen);
    if (!t->key)
        return -1;
    if (fhir_smart_kid(t->key, t->kid, sizeof t->kid) != 0) {
        snprintf(err, errlen, "%.300s: cannot read its public key", o->key_file);
        EVP_PKEY_free(t->key);
        return -1;
    }
    t->client_id = strdup(o->client_id);
    t->scopes = strdup(o->scopes && *o->scopes ? o->scopes : FHIR_SMART_DEFAULT_SCOPES);
    t->discovered = !o->token_url || !*o->token_url;
    t->token_url = t->discovered ? NULL : strdup(o->token_url);
    if (!t->client_id || !t->scopes || (!t->discovered && !t->token_url)) {
        snprintf(err, errlen, "out of memory");
        EVP_PKEY_free(t->key);
        free(t->client_id), free(t->scopes), free(t->token_url);
        return -1;
    }
    return 0;
}

struct fhir_smart *fhir_smart_new(struct fhir_client *c, const struct fhir_smart_opts *o,
                                  char *err, size_t errlen)
{
    struct fhir_smart *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (smart_settings(s, o, err, errlen) != 0) {
        free(s);
        return NULL;
    }
    s->client = c;
    s->log_fn = o->log_fn;
    s->log_ctx = o->log_ctx;
    struct fhir_client_auth a = {hook_header, hook_rejected, s};
    fhir_client_set_auth(c, &a);
    smart_log(s, "info", "SMART Backend Services: client %.200s, key kid %s (%s), token URL %.300s",
              s->client_id, s->kid, s->alg, s->token_url ? s->token_url : "(discovered)");
    return s;
}

int fhir_smart_reload(struct fhir_smart *s, const struct fhir_smart_opts *o, char *err,
                      size_t errlen)
{
    struct fhir_smart t = {0};
    if (smart_settings(&t, o, err, errlen) != 0)
        return -1;
    /* a discovered URL stays known while the base is the same */
    int same_url = t.discovered ? s->discovered : !s->discovered && s->token_url &&
                                                      strcmp(s->token_url, t.token_url) == 0;
    int changed = !same_url || strcmp(s->client_id, t.client_id) != 0 ||
                  strcmp(s->scopes, t.scopes) != 0 || strcmp(s->kid, t.kid) != 0;
    EVP_PKEY_free(s->key);
    free(s->client_id), free(s->scopes);
    s->key = t.key, s->alg = t.alg, s->client_id = t.client_id, s->scopes = t.scopes;
    memcpy(s->kid, t.kid, sizeof s->kid);
    if (!same_url) {
        free(s->token_url);
        s->token_url = t.token_url, s->discovered = t.discovered;
    } else
        free(t.token_url);
    /* a new start: no backoff, a failure is logged again */
    s->failures = 0;
    s->retry_at = 0;
    s->last_error[0] = '\0';
    fhir_client_auth_retry_in(s->client, -1);
    if (changed) {
        free(s->header);
        s->header = NULL;
        s->gen++; /* the answer to a request in flight is dropped: asked again */
    }
    smart_log(s, "info",
              "SMART settings reloaded: client %.200s, key kid %s (%s), token URL %.300s%s",
              s->client_id, s->kid, s->alg, s->token_url ? s->token_url : "(discovered)",
              changed ? ": asking for a new access token" : " (unchanged)");
    if (!s->header && !s->busy)
        smart_fetch(s);
    return 0;
}

void fhir_smart_free(struct fhir_smart *s)
{
    if (!s)
        return;
    EVP_PKEY_free(s->key);
    free(s->client_id), free(s->token_url), free(s->scopes);
    free(s->header);
    free(s);
}

unsigned long fhir_smart_tokens(const struct fhir_smart *s)
{
    return s->tokens;
}

unsigned long fhir_smart_failures(const struct fhir_smart *s)
{
    return s->failures_total;
}
