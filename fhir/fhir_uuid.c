/*
 * fhir_uuid.c - name-based UUIDs and SHA-256 digests on OpenSSL's EVP API
 * (fhir_uuid.h).
 */
#include "fhir_uuid.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* Digest the concatenation of two byte strings with md into out; returns the
 * digest length or 0 on failure. */
static unsigned digest2(const EVP_MD *md, const void *a, size_t alen, const void *b,
                        size_t blen, unsigned char out[EVP_MAX_MD_SIZE])
{
    unsigned n = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return 0;
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, a, alen) != 1 ||
        EVP_DigestUpdate(ctx, b, blen) != 1 || EVP_DigestFinal_ex(ctx, out, &n) != 1)
        n = 0;
    EVP_MD_CTX_free(ctx);
    return n;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int fhir_uuid_v5(const char *ns, const char *name, char out[FHIR_UUID_LEN])
{
    unsigned char nsd[EVP_MAX_MD_SIZE], d[EVP_MAX_MD_SIZE];
    if (digest2(EVP_sha1(), ns, strlen(ns), "", 0, nsd) < 16)
        return -1;
    if (digest2(EVP_sha1(), nsd, 16, name, strlen(name), d) < 16)
        return -1;
    d[6] = (unsigned char)((d[6] & 0x0f) | 0x50); /* version 5 */
    d[8] = (unsigned char)((d[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    char h[33];
    hex(d, 16, h);
    snprintf(out, FHIR_UUID_LEN, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16,
             h + 20);
    return 0;
}

int fhir_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    if (digest2(EVP_sha256(), data, len, "", 0, d) != 32)
        return -1;
    hex(d, 32, out);
    return 0;
}
