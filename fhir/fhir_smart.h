/*
 * fhir_smart.h - SMART Backend Services authorization for fhir_client
 * (interop.md I16; issue 12 item 8). Implements the client side of SMART App
 * Launch v2 "Backend Services": an OAuth 2.0 client_credentials grant whose
 * client authentication is a private_key_jwt assertion (RFC 7523 section 2.2,
 * a JWS in compact form, RFC 7515, signed RS384 or ES384, RFC 7518).
 *
 * The assertion: header {"alg","kid","typ":"JWT"}; claims iss = sub = the
 * client id, aud = the token URL, iat = now, exp = now + 300 s, jti = 32 hex
 * digits from RAND_bytes. ES384 signatures are turned from OpenSSL's DER
 * (ECDSA-Sig-Value) into JOSE's r||s (48 + 48 bytes). base64url without '='.
 *
 * The token: POSTed form-encoded to the token URL (configured: https, or http
 * to a loopback host when the client allows http; or discovered from
 * {base}/.well-known/smart-configuration "token_endpoint", which must have
 * the base's scheme, host and port), no Authorization header sent there.
 * The access token is cached and used for every fhir_client request (the
 * hook of fhir_client_set_auth); it is renewed in the background once
 * expires_in - 60 s (at least half of expires_in) has passed, and requests
 * wait for a new one once it has expired. A 401 from the FHIR server drops
 * the token: the request waits for a new one and is retried once
 * (fhir_client). When the token endpoint fails (refused, 5xx, down, an
 * answer without a usable token), the next token request waits a backoff
 * (1 s doubling up to 30 s, FHIR_SMART_BACKOFF_*), so the endpoint is never
 * asked in a loop; the requests waiting for a token, and those started
 * meanwhile, keep waiting (not sent, not failed, no time limit: nothing is
 * sent to the FHIR server without a token, and their callers spend no
 * attempts) and are sent when a token comes (fhir_client_auth_retry_in
 * wakes them for each try). A failure is logged once (one line: token URL,
 * HTTP status, OAuth error and error_description, next try); the same
 * failure again only every FHIR_SMART_RELOG_MS. fhir_smart_reload (SIGHUP)
 * takes a new key, client id, token URL or scopes and asks at once.
 */
#ifndef FHIR_SMART_H
#define FHIR_SMART_H

#include <stddef.h>
#include <stdint.h>

struct fhir_client;
typedef struct evp_pkey_st EVP_PKEY;

/* The access token's default scopes (SMART v1 style system scopes, read what
 * nenfhir reads, write what it writes). */
#define FHIR_SMART_DEFAULT_SCOPES                                                              \
    "system/Observation.read system/Condition.read system/Specimen.read "                      \
    "system/Patient.read system/DiagnosticReport.read system/DiagnosticReport.write "          \
    "system/Observation.write system/Provenance.write system/Device.write "                    \
    "system/Subscription.read system/Subscription.write"

/* The backoff between failed token requests (ms): doubling, capped. */
#define FHIR_SMART_BACKOFF_MIN_MS 1000
#define FHIR_SMART_BACKOFF_MAX_MS 30000
/* The same failure is logged again after this long (ms). */
#define FHIR_SMART_RELOG_MS 600000
/* expires_in absent: this many seconds; larger ones are cut to the max. */
#define FHIR_SMART_TTL_DEFAULT_S 300
#define FHIR_SMART_TTL_MAX_S 86400

/* Load a PEM private key and check it: RSA of at least 2048 bits (alg
 * "RS384") or EC on P-384 (alg "ES384"). Returns the key (caller frees with
 * EVP_PKEY_free) and *alg (static string), or NULL with err = a sentence
 * naming the file. */
EVP_PKEY *fhir_smart_load_key(const char *path, const char **alg, char *err, size_t errlen);

/* The signed assertion for client_id and the token URL aud at now_s (seconds
 * since the epoch); kid may be NULL (then the key's thumbprint, see
 * fhir_smart_kid). Returns a malloc'd compact JWS, or NULL with err set. */
char *fhir_smart_assertion(EVP_PKEY *key, const char *alg, const char *kid,
                           const char *client_id, const char *aud, int64_t now_s, char *err,
                           size_t errlen);

/* kid: 32 hex digits of SHA-256 over the DER public key; out has >= 33 bytes.
 * 0, or -1 with out "". */
int fhir_smart_kid(EVP_PKEY *key, char *out, size_t outlen);

/* Read a token endpoint's answer (RFC 6749 sections 5.1 and 5.2): status
 * 200 with a JSON object holding access_token (RFC 6750 b64token
 * characters only), token_type "bearer" (any case; absent accepted) and
 * expires_in (a positive integer, or a string of digits; absent:
 * FHIR_SMART_TTL_DEFAULT_S; above FHIR_SMART_TTL_MAX_S cut to it). Returns 0
 * with *header = "Authorization: Bearer <token>" (malloc'd, caller frees)
 * and *ttl_s; or -1 with *header NULL and err a sentence: "HTTP <status>:
 * error '<error>': <error_description>" for an OAuth error answer, else
 * what is wrong (no access_token, token_type, expires_in, not JSON). */
int fhir_smart_parse_token(long status, const char *body, char **header, int64_t *ttl_s,
                           char *err, size_t errlen);

/* log_fn(ctx, level, line): level "info", "warn" or "error". */
typedef void (*fhir_smart_log_fn)(void *ctx, const char *level, const char *line);

struct fhir_smart_opts {
    const char *client_id;    /* required */
    const char *token_url;    /* NULL/"": discovered */
    const char *key_file;     /* PEM private key, required */
    const char *scopes;       /* NULL/"": FHIR_SMART_DEFAULT_SCOPES */
    fhir_smart_log_fn log_fn; /* may be NULL */
    void *log_ctx;
};

struct fhir_smart;

/* Load the key and install the hook on c (fhir_client_set_auth); c must
 * outlive the result. Logs (info) the client id, the key's kid and alg and
 * the token URL (the kid is what the server's JWKS must name). Returns NULL with err set (key refused, a token URL
 * refused, out of memory). Strings copied. Free with fhir_smart_free after
 * fhir_client_free (which cancels the token request, calling back into it). */
struct fhir_smart *fhir_smart_new(struct fhir_client *c, const struct fhir_smart_opts *o,
                                  char *err, size_t errlen);
void fhir_smart_free(struct fhir_smart *s);

/* The SIGHUP reload: load o (key, client id, token URL, scopes; log_fn
 * ignored) and use it from now on. Returns 0, or -1 with err set and the old
 * settings kept (key refused, out of memory). On success the backoff ends;
 * when anything changed the cached token is dropped and a token request in
 * flight is answered into the void (asked again with the new settings); a
 * new token is asked for at once when none is cached. */
int fhir_smart_reload(struct fhir_smart *s, const struct fhir_smart_opts *o, char *err,
                      size_t errlen);

/* Tokens issued so far; failed token (or discovery) requests so far (for
 * logs and tests). */
unsigned long fhir_smart_tokens(const struct fhir_smart *s);
unsigned long fhir_smart_failures(const struct fhir_smart *s);

#endif
