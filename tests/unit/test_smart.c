/*
 * test_smart.c - SMART Backend Services (fhir_smart.h; issue 12 item 8,
 * interop.md I16) without a server: the private_key_jwt assertion made with
 * an RS384 and an ES384 key generated here (OpenSSL EVP) is checked part by
 * part (header alg/kid/typ; claims iss = sub = client id, aud = token URL,
 * exp = iat + 300 at most, a jti unique across calls) and its signature
 * verified with OpenSSL (ES384: JOSE's raw r||s of 96 bytes, not DER); the
 * key loader refuses short RSA keys, other curves and non-keys; token
 * endpoint answers (RFC 6749 5.1/5.2) are read or refused with a clean
 * sentence; fhir_smart_new/fhir_smart_reload keep the old settings when the
 * new key is refused.
 */
#include "fhir_client.h"
#include "fhir_smart.h"
#include "test_util.h"

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CLIENT "nenfhir-unit"
#define AUD "https://auth.example.org/oauth2/token"

static char tmpdir[64];

/* A file in tmpdir holding key as PEM (PKCS#8, unencrypted); path out. */
static void write_key(EVP_PKEY *key, const char *name, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
}

/* base64url (no padding) decoded into a malloc'd buffer; NULL if invalid. */
static unsigned char *b64url_decode(const char *s, size_t len, size_t *outlen)
{
    if (len % 4 == 1)
        return NULL;
    size_t pad = (4 - len % 4) % 4, n = len + pad;
    char *t = malloc(n + 1);
    unsigned char *out = malloc(n / 4 * 3 + 1);
    if (!t || !out) {
        free(t), free(out);
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+' || c == '/' || c == '=') { /* not base64url */
            free(t), free(out);
            return NULL;
        }
        t[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    memset(t + len, '=', pad);
    t[n] = '\0';
    int m = EVP_DecodeBlock(out, (const unsigned char *)t, (int)n);
    free(t);
    if (m < 0) {
        free(out);
        return NULL;
    }
    *outlen = (size_t)m - pad;
    out[*outlen] = '\0';
    return out;
}

/* The three parts of a compact JWS: header and claims parsed, signature
 * decoded, signing input (header.claims) copied. 0 or -1. */
struct jws {
    struct json_object *header, *claims;
    unsigned char *sig;
    size_t siglen;
    char *input;
};

static int jws_split(const char *jwt, struct jws *j)
{
    memset(j, 0, sizeof *j);
    const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || strchr(d2 + 1, '.'))
        return -1;
    size_t hl, cl;
    unsigned char *h = b64url_decode(jwt, (size_t)(d1 - jwt), &hl);
    unsigned char *c = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &cl);
    j->sig = b64url_decode(d2 + 1, strlen(d2 + 1), &j->siglen);
    j->header = h ? json_tokener_parse((char *)h) : NULL;
    j->claims = c ? json_tokener_parse((char *)c) : NULL;
    j->input = strndup(jwt, (size_t)(d2 - jwt));
    free(h), free(c);
    return j->header && j->claims && j->sig && j->input ? 0 : -1;
}

static void jws_free(struct jws *j)
{
    json_object_put(j->header);
    json_object_put(j->claims);
    free(j->sig);
    free(j->input);
}

static const char *member_str(struct json_object *o, const char *k)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int64_t member_int(struct json_object *o, const char *k)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
        return -1;
    return json_object_get_int64(v);
}

/* Verify sig over input with key (SHA-384); ES384: sig is r||s, turned
 * into DER here. 1 valid, 0 not. */
static int verify(EVP_PKEY *key, const char *input, const unsigned char *sig, size_t siglen)
{
    unsigned char *der = NULL;
    int derlen = 0;
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
        if (siglen != 96)
            return 0;
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(sig, 48, NULL), *s = BN_bin2bn(sig + 48, 48, NULL);
        if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
            ECDSA_SIG_free(es), BN_free(r), BN_free(s);
            return 0;
        }
        derlen = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
        if (derlen <= 0)
            return 0;
        sig = der;
        siglen = (size_t)derlen;
    }
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int ok = m && EVP_DigestVerifyInit(m, NULL, EVP_sha384(), NULL, key) == 1 &&
             EVP_DigestVerify(m, sig, siglen, (const unsigned char *)input, strlen(input)) == 1;
    EVP_MD_CTX_free(m);
    OPENSSL_free(der);
    return ok;
}

/* One assertion made with key and checked part by part; its jti into jti. */
static void check_assertion(EVP_PKEY *key, const char *alg, char *jti, size_t jtilen)
{
    char err[256] = "", kid[40];
    int64_t now = (int64_t)time(NULL);
    CU_ASSERT_EQUAL_FATAL(fhir_smart_kid(key, kid, sizeof kid), 0);
    CU_ASSERT_EQUAL(strlen(kid), 32);
    char *jwt = fhir_smart_assertion(key, alg, NULL, CLIENT, AUD, now, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(jwt);
    struct jws j;
    CU_ASSERT_EQUAL_FATAL(jws_split(jwt, &j), 0);
    /* header */
    CU_ASSERT_STRING_EQUAL(member_str(j.header, "alg"), alg);
    CU_ASSERT_STRING_EQUAL(member_str(j.header, "typ"), "JWT");
    CU_ASSERT_STRING_EQUAL(member_str(j.header, "kid"), kid);
    /* claims */
    CU_ASSERT_STRING_EQUAL(member_str(j.claims, "iss"), CLIENT);
    CU_ASSERT_STRING_EQUAL(member_str(j.claims, "sub"), CLIENT);
    CU_ASSERT_STRING_EQUAL(member_str(j.claims, "aud"), AUD);
    int64_t iat = member_int(j.claims, "iat"), exp = member_int(j.claims, "exp");
    CU_ASSERT_EQUAL(iat, now);
    CU_ASSERT_TRUE(exp > now && exp <= now + 300);
    const char *t = member_str(j.claims, "jti");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(strlen(t), 32);
    CU_ASSERT_EQUAL(strspn(t, "0123456789abcdef"), 32);
    snprintf(jti, jtilen, "%s", t);
    /* the signature: ES384 is the JOSE r||s form (96 bytes), not DER */
    if (strcmp(alg, "ES384") == 0) {
        CU_ASSERT_EQUAL(j.siglen, 96);
    } else {
        CU_ASSERT_EQUAL(j.siglen, (size_t)EVP_PKEY_get_size(key));
    }
    CU_ASSERT_TRUE(verify(key, j.input, j.sig, j.siglen));
    /* one bit changed in the claims: not valid */
    j.input[strlen(j.input) - 1] ^= 1;
    CU_ASSERT_FALSE(verify(key, j.input, j.sig, j.siglen));
    /* the kid given is used as given */
    char *jwt2 = fhir_smart_assertion(key, alg, "my-kid", CLIENT, AUD, now, err, sizeof err);
    struct jws j2;
    CU_ASSERT_PTR_NOT_NULL_FATAL(jwt2);
    CU_ASSERT_EQUAL_FATAL(jws_split(jwt2, &j2), 0);
    CU_ASSERT_STRING_EQUAL(member_str(j2.header, "kid"), "my-kid");
    CU_ASSERT_STRING_NOT_EQUAL(member_str(j2.claims, "jti"), jti);
    jws_free(&j2);
    free(jwt2);
    jws_free(&j);
    free(jwt);
}

static void test_assertion_rs384(void)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    CU_ASSERT_PTR_NOT_NULL_FATAL(key);
    char path[128], err[256] = "", a[40], b[40];
    const char *alg = NULL;
    write_key(key, "rsa.pem", path, sizeof path);
    EVP_PKEY *loaded = fhir_smart_load_key(path, &alg, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(loaded);
    CU_ASSERT_STRING_EQUAL(alg, "RS384");
    check_assertion(loaded, alg, a, sizeof a);
    check_assertion(loaded, alg, b, sizeof b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b); /* unique jti across calls */
    /* the public key verifies what the loaded private key signed */
    char *jwt = fhir_smart_assertion(loaded, alg, NULL, CLIENT, AUD, (int64_t)time(NULL), err,
                                     sizeof err);
    struct jws j;
    CU_ASSERT_PTR_NOT_NULL_FATAL(jwt);
    CU_ASSERT_EQUAL_FATAL(jws_split(jwt, &j), 0);
    CU_ASSERT_TRUE(verify(key, j.input, j.sig, j.siglen));
    jws_free(&j);
    free(jwt);
    EVP_PKEY_free(loaded);
    EVP_PKEY_free(key);
    unlink(path);
}

static void test_assertion_es384(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-384");
    CU_ASSERT_PTR_NOT_NULL_FATAL(key);
    char path[128], err[256] = "", a[40], b[40];
    const char *alg = NULL;
    write_key(key, "ec.pem", path, sizeof path);
    EVP_PKEY *loaded = fhir_smart_load_key(path, &alg, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(loaded);
    CU_ASSERT_STRING_EQUAL(alg, "ES384");
    /* several: r or s with a leading zero byte must still be 48 bytes each */
    for (int i = 0; i < 8; i++) {
        check_assertion(loaded, alg, a, sizeof a);
        check_assertion(loaded, alg, b, sizeof b);
        CU_ASSERT_STRING_NOT_EQUAL(a, b);
    }
    EVP_PKEY_free(loaded);
    EVP_PKEY_free(key);
    unlink(path);
}

static void test_load_refused(void)
{
    char path[128], err[256] = "";
    const char *alg = NULL;
    EVP_PKEY *k = EVP_RSA_gen(1024);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    write_key(k, "rsa1024.pem", path, sizeof path);
    EVP_PKEY_free(k);
    CU_ASSERT_PTR_NULL(fhir_smart_load_key(path, &alg, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "1024 bits"));
    unlink(path);
    k = EVP_EC_gen("P-256");
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    write_key(k, "p256.pem", path, sizeof path);
    EVP_PKEY_free(k);
    CU_ASSERT_PTR_NULL(fhir_smart_load_key(path, &alg, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "P-384"));
    unlink(path);
    snprintf(path, sizeof path, "%s/garbage.pem", tmpdir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n", f);
    fclose(f);
    CU_ASSERT_PTR_NULL(fhir_smart_load_key(path, &alg, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a PEM private key"));
    unlink(path);
    CU_ASSERT_PTR_NULL(fhir_smart_load_key("/nonexistent/key.pem", &alg, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot open"));
}

/* parse(status, body) -> 0 with header/ttl, or -1 with err */
static int parse(long status, const char *body, char **h, int64_t *ttl, char *err, size_t n)
{
    err[0] = '\0';
    int rc = fhir_smart_parse_token(status, body, h, ttl, err, n);
    if (rc == 0) {
        CU_ASSERT_PTR_NOT_NULL(*h);
    } else {
        CU_ASSERT_PTR_NULL(*h);
        CU_ASSERT_NOT_EQUAL(err[0], '\0');
    }
    return rc;
}

static void test_token_answers(void)
{
    char *h = NULL, err[512];
    int64_t ttl = 0;
    CU_ASSERT_EQUAL(parse(200, "{\"access_token\":\"abc.DEF-_~+/=\",\"token_type\":\"bearer\","
                               "\"expires_in\":3600}", &h, &ttl, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(h, "Authorization: Bearer abc.DEF-_~+/=");
    CU_ASSERT_EQUAL(ttl, 3600);
    free(h);
    /* token_type in any case; expires_in absent: the default */
    CU_ASSERT_EQUAL(parse(200, "{\"access_token\":\"t\",\"token_type\":\"Bearer\"}", &h, &ttl,
                          err, sizeof err), 0);
    CU_ASSERT_EQUAL(ttl, FHIR_SMART_TTL_DEFAULT_S);
    free(h);
    /* expires_in as a string of digits; a large one cut to the max */
    CU_ASSERT_EQUAL(parse(200, "{\"access_token\":\"t\",\"expires_in\":\"3599\"}", &h, &ttl, err,
                          sizeof err), 0);
    CU_ASSERT_EQUAL(ttl, 3599);
    free(h);
    CU_ASSERT_EQUAL(parse(200, "{\"access_token\":\"t\",\"expires_in\":31536000}", &h, &ttl, err,
                          sizeof err), 0);
    CU_ASSERT_EQUAL(ttl, FHIR_SMART_TTL_MAX_S);
    free(h);
    /* missing or empty access_token */
    CU_ASSERT_EQUAL(parse(200, "{\"token_type\":\"bearer\",\"expires_in\":60}", &h, &ttl, err,
                          sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no access_token"));
    CU_ASSERT_EQUAL(parse(200, "{\"access_token\":\"\"}", &h, &ttl, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no access_token"));
    CU_ASSERT_EQUAL(parse(200, "{\"access_token\":42}", &h, &ttl, err, sizeof err), -1);
    /* a token that would end the header line */
    CU_ASSERT_EQUAL(parse(200, "{\"access_token\":\"a\\r\\nX-Evil: 1\"}", &h, &ttl, err,
                          sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "characters"));
    CU_ASSERT_EQUAL(parse(200, "{\"access_token\":\"a b\"}", &h, &ttl, err, sizeof err), -1);
    /* token_type not bearer */
    CU_ASSERT_EQUAL(parse(200, "{\"access_token\":\"t\",\"token_type\":\"mac\"}", &h, &ttl, err,
                          sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "token_type 'mac'"));
    CU_ASSERT_EQUAL(parse(200, "{\"access_token\":\"t\",\"token_type\":\"DPoP\"}", &h, &ttl,
                          err, sizeof err), -1);
    /* expires_in garbage */
    const char *bad[] = {"\"soon\"", "0", "-5", "1.5", "99999999999", "\"\"", "\"12a\"", "null",
                         "true", "[60]", "\"-60\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"access_token\":\"t\",\"expires_in\":%s}", bad[i]);
        CU_ASSERT_EQUAL(parse(200, body, &h, &ttl, err, sizeof err), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "expires_in"));
    }
    /* not JSON, not an object */
    CU_ASSERT_EQUAL(parse(200, "<html>ok</html>", &h, &ttl, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a JSON object"));
    CU_ASSERT_EQUAL(parse(200, "[{\"access_token\":\"t\"}]", &h, &ttl, err, sizeof err), -1);
    CU_ASSERT_EQUAL(parse(200, "", &h, &ttl, err, sizeof err), -1);
    CU_ASSERT_EQUAL(parse(200, NULL, &h, &ttl, err, sizeof err), -1);
    /* OAuth error answers: status, error and description in one sentence */
    CU_ASSERT_EQUAL(parse(401, "{\"error\":\"invalid_client\",\"error_description\":\"bad "
                               "signature\"}", &h, &ttl, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "HTTP 401: error 'invalid_client': bad signature");
    CU_ASSERT_EQUAL(parse(400, "{\"error\":\"invalid_scope\"}", &h, &ttl, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "HTTP 400: error 'invalid_scope': (no error_description)");
    /* an error status with a token in it is still an error */
    CU_ASSERT_EQUAL(parse(500, "{\"access_token\":\"t\"}", &h, &ttl, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "HTTP 500"));
    CU_ASSERT_EQUAL(parse(503, "<html>busy</html>", &h, &ttl, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "HTTP 503 without an OAuth error"));
}

/* fhir_smart_new and fhir_smart_reload: a refused key is an error and the
 * old settings stay (no event loop: the discovery request started by the
 * reload is cancelled by fhir_client_free). */
static void test_new_reload(void)
{
    char err[512] = "", good[128], bad[128];
    EVP_PKEY *k = EVP_EC_gen("P-384");
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    write_key(k, "good.pem", good, sizeof good);
    EVP_PKEY_free(k);
    k = EVP_EC_gen("P-256");
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    write_key(k, "bad.pem", bad, sizeof bad);
    EVP_PKEY_free(k);
    struct fhir_client_opts co = {"https://127.0.0.1:9/fhir", NULL, NULL, NULL, NULL, 5, 0,
                                  "test", 0};
    struct fhir_client *c = fhir_client_new(&co, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct fhir_smart_opts o = {CLIENT, NULL, bad, NULL, NULL, NULL};
    CU_ASSERT_PTR_NULL(fhir_smart_new(c, &o, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "P-384"));
    o.key_file = good;
    struct fhir_smart *s = fhir_smart_new(c, &o, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    o.key_file = bad;
    CU_ASSERT_EQUAL(fhir_smart_reload(s, &o, err, sizeof err), -1);
    o.client_id = "";
    o.key_file = good;
    CU_ASSERT_EQUAL(fhir_smart_reload(s, &o, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "client id"));
    o.client_id = "other-client";
    o.token_url = "https://127.0.0.1:9/auth/token";
    CU_ASSERT_EQUAL(fhir_smart_reload(s, &o, err, sizeof err), 0);
    CU_ASSERT_EQUAL(fhir_client_pending(c), 1); /* the token request, asked at once */
    CU_ASSERT_EQUAL(fhir_smart_tokens(s), 0);
    fhir_client_free(c);
    fhir_smart_free(s);
    unlink(good);
    unlink(bad);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_smart.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    CU_TestInfo tests[] = {{"RS384 assertion: header, claims, signature", test_assertion_rs384},
                           {"ES384 assertion: raw r||s signature", test_assertion_es384},
                           {"key loader refuses weak or wrong keys", test_load_refused},
                           {"token endpoint answers", test_token_answers},
                           {"new and reload keep the old settings on a refused key",
                            test_new_reload},
                           CU_TEST_INFO_NULL};
    int rc = test_run_suite("fhir_smart", tests);
    rmdir(tmpdir);
    return rc;
}
