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

char *fhir_smart_assertion(EVP_PKEY *key, const char *alg, const char *kid,
                           const char *client_id, const char *aud, int64_t now_s, char *err,
                           size_t errlen)
{
    char kidbuf[40], jti[33];
    unsigned char rnd[16];
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
        bad |= json_object_object_add(h, "alg", json_object_new_string(alg)) != 0;
        bad |= json_object_object_add(h, "kid", json_object_new_string(kid)) != 0;
        bad |= json_object_object_add(h, "typ", json_object_new_string("JWT")) != 0;
        bad |= json_object_object_add(c, "iss", json_object_new_string(client_id)) != 0;
        bad |= json_object_object_add(c, "sub", json_object_new_string(client_id)) != 0;
        bad |= json_object_object_add(c, "aud", json_object_new_string(aud)) != 0;
        bad |= json_object_object_add(c, "iat", json_object_new_int64(now_s)) != 0;
        bad |= json_object_object_add(c, "exp",
                                      json_object_new_int64(now_s + SMART_ASSERTION_TTL_S)) != 0;
        bad |= json_object_object_add(c, "jti", json_object_new_string(jti)) != 0;
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
    if (!out && !sig)
        ;
    else if (!out)
        snprintf(err, errlen, "out of memory");
    if (!out && !err[0])
        snprintf(err, errlen, "out of memory");
    free(hb), free(cb), free(sig), free(sb);
    return out;
}

/* ---- the token cache ---- */

struct fhir_smart {
    struct fhir_client *client;
    char *client_id, *token_url, *scopes, *key_file;
    int discovered;            /* token_url came from .well-known */
    EVP_PKEY *key;
    const char *alg;
    char kid[40];
    char *header;              /* "Authorization: Bearer ..." or NULL */
    int64_t renew_at, expires_at; /* monotonic s */
    int busy;                  /* a token (or discovery) request in flight */
    int in_failed;             /* inside smart_failed: no new request from there */
    unsigned long tokens;
    fhir_smart_log_fn log_fn;
    void *log_ctx;
};

static int64_t mono_s(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return (int64_t)time(NULL);
    return (int64_t)ts.tv_sec;
}

static void smart_log(struct fhir_smart *s, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void smart_log(struct fhir_smart *s, const char *level, const char *fmt, ...)
{
    if (!s->log_fn)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->log_fn(s->log_ctx, level, line);
}

static void smart_fetch(struct fhir_smart *s);

/* The request failed: requests waiting for a token fail (unless a valid one
 * is still cached: then they go on with it). */
static void smart_failed(struct fhir_smart *s, const char *why)
{
    s->busy = 0;
    smart_log(s, "error", "SMART token request to %.300s failed: %.500s",
              s->token_url ? s->token_url : "(discovery)", why);
    s->in_failed = 1;
    if (s->header && mono_s() < s->expires_at)
        fhir_client_auth_ready(s->client, NULL);
    else
        fhir_client_auth_ready(s->client, why);
    s->in_failed = 0;
}

static const char *jstr(struct json_object *o, const char *name)
{
    struct json_object *v;
    if (!o || !json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static void on_token(void *ctx, const struct fhir_response *r)
{
    struct fhir_smart *s = ctx;
    char why[700];
    if (r->status == 0) {
        if (strcmp(r->error, "cancelled") == 0) {
            s->busy = 0;
            return;
        }
        snprintf(why, sizeof why, "%.500s", r->error);
        smart_failed(s, why);
        return;
    }
    struct json_object *o = json_tokener_parse(r->body);
    const char *tok = jstr(o, "access_token"), *type = jstr(o, "token_type");
    if (r->status != 200 || !tok || !*tok || (type && strcasecmp(type, "bearer") != 0)) {
        const char *e = jstr(o, "error"), *d = jstr(o, "error_description");
        if (e || d)
            snprintf(why, sizeof why, "HTTP %ld: error '%.100s': %.300s", r->status,
                     e ? e : "", d ? d : "(no error_description)");
        else
            snprintf(why, sizeof why, "HTTP %ld without an access_token (%.100s)", r->status,
                     r->body);
        json_object_put(o);
        smart_failed(s, why);
        return;
    }
    int64_t ttl = 300;
    struct json_object *v;
    if (json_object_object_get_ex(o, "expires_in", &v) && json_object_get_int64(v) > 0)
        ttl = json_object_get_int64(v);
    size_t n = strlen(tok) + 32;
    char *h = malloc(n);
    if (!h) {
        json_object_put(o);
        smart_failed(s, "out of memory");
        return;
    }
    snprintf(h, n, "Authorization: Bearer %s", tok);
    json_object_put(o);
    free(s->header);
    s->header = h;
    int64_t now = mono_s();
    s->expires_at = now + ttl;
    s->renew_at = now + (ttl - 60 > ttl / 2 ? ttl - 60 : ttl / 2);
    s->tokens++;
    s->busy = 0;
    smart_log(s, "info", "SMART access token %lu from %.300s, valid %lld s", s->tokens,
              s->token_url, (long long)ttl);
    fhir_client_auth_ready(s->client, NULL);
}

static void on_discovery(void *ctx, const struct fhir_response *r)
{
    struct fhir_smart *s = ctx;
    char why[700];
    if (r->status == 0 && strcmp(r->error, "cancelled") == 0) {
        s->busy = 0;
        return;
    }
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
    int64_t now = mono_s();
    if (s->header && now >= s->expires_at - 1) {
        free(s->header);
        s->header = NULL;
    }
    if (!s->header || now >= s->renew_at)
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
    if (!s->header)
        smart_fetch(s);
}

struct fhir_smart *fhir_smart_new(struct fhir_client *c, const struct fhir_smart_opts *o,
                                  char *err, size_t errlen)
{
    if (!o->client_id || !*o->client_id || !o->key_file || !*o->key_file) {
        snprintf(err, errlen, "SMART backend services need a client id and a key file");
        return NULL;
    }
    struct fhir_smart *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->client = c;
    s->log_fn = o->log_fn;
    s->log_ctx = o->log_ctx;
    s->key = fhir_smart_load_key(o->key_file, &s->alg, err, errlen);
    if (!s->key) {
        fhir_smart_free(s);
        return NULL;
    }
    if (fhir_smart_kid(s->key, s->kid, sizeof s->kid) != 0) {
        snprintf(err, errlen, "%.300s: cannot read its public key", o->key_file);
        fhir_smart_free(s);
        return NULL;
    }
    s->client_id = strdup(o->client_id);
    s->scopes = strdup(o->scopes && *o->scopes ? o->scopes : FHIR_SMART_DEFAULT_SCOPES);
    s->discovered = !o->token_url || !*o->token_url;
    s->token_url = s->discovered ? NULL : strdup(o->token_url);
    if (!s->client_id || !s->scopes || (!s->discovered && !s->token_url)) {
        snprintf(err, errlen, "out of memory");
        fhir_smart_free(s);
        return NULL;
    }
    struct fhir_client_auth a = {hook_header, hook_rejected, s};
    fhir_client_set_auth(c, &a);
    return s;
}

void fhir_smart_free(struct fhir_smart *s)
{
    if (!s)
        return;
    EVP_PKEY_free(s->key);
    free(s->client_id), free(s->token_url), free(s->scopes), free(s->key_file);
    free(s->header);
    free(s);
}

unsigned long fhir_smart_tokens(const struct fhir_smart *s)
{
    return s->tokens;
}
