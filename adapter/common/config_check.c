/*
 * config_check.c - the checks of a loaded configuration (config_check.h):
 * OpenSSL's PEM readers for the TLS files, X509_check_private_key for the
 * pairs, the certificates' notAfter against the given time, mkstemp in the
 * store's directory, stat for the modes of secret files. No state.
 */
#include "config_check.h"

#include "adapter_files.h"
#include "fhir_client.h"
#include "fhir_smart.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct check {
    config_check_fn fn;
    void *ctx;
    int64_t now_s;
    int errors;
};

static void say(struct check *k, int level, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void say(struct check *k, int level, const char *what, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (level == CONFIG_CHECK_ERROR)
        k->errors++;
    k->fn(k->ctx, level, what, msg);
}

/* OpenSSL's last error as text ("" when none); clears the queue. */
static const char *ssl_why(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();
    buf[0] = '\0';
    if (e)
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

/* Never ask for a passphrase: an encrypted key cannot be used unattended. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

/* The certificate's subject CN (or the whole subject) into out. */
static void cert_name(X509 *x, char *out, size_t len)
{
    X509_NAME *n = X509_get_subject_name(x);
    int i = n ? X509_NAME_get_index_by_NID(n, NID_commonName, -1) : -1;
    ASN1_STRING *s = i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i)) : NULL;
    if (s && ASN1_STRING_length(s) > 0)
        snprintf(out, len, "%.*s", ASN1_STRING_length(s) > 200 ? 200 : ASN1_STRING_length(s),
                 (const char *)ASN1_STRING_get0_data(s));
    else if (n)
        X509_NAME_oneline(n, out, (int)len);
    else
        snprintf(out, len, "?");
}

/* notAfter of x against now: error when past, warning within 30 days; ok
 * otherwise. notBefore in the future: a warning. */
static void check_dates(struct check *k, const char *what, const char *path, X509 *x)
{
    char name[256], when[64] = "?";
    cert_name(x, name, sizeof name);
    const ASN1_TIME *na = X509_get0_notAfter(x), *nb = X509_get0_notBefore(x);
    BIO *b = BIO_new(BIO_s_mem());
    if (b && ASN1_TIME_print(b, na) == 1) {
        int n = BIO_read(b, when, (int)sizeof when - 1);
        when[n > 0 ? n : 0] = '\0';
    }
    BIO_free(b);
    ASN1_TIME *now = ASN1_TIME_set(NULL, (time_t)k->now_s);
    int days = 0, secs = 0;
    if (!now || ASN1_TIME_diff(&days, &secs, now, na) != 1) {
        say(k, CONFIG_CHECK_ERROR, what, "%.300s: certificate '%s': unreadable dates", path, name);
    } else if (days < 0 || secs < 0 || (days == 0 && secs == 0)) {
        say(k, CONFIG_CHECK_ERROR, what, "%.300s: certificate '%s' expired on %s", path, name,
            when);
    } else if (days < CONFIG_CHECK_EXPIRY_WARN_DAYS) {
        say(k, CONFIG_CHECK_WARN, what, "%.300s: certificate '%s' expires in %d day(s), on %s",
            path, name, days, when);
    } else {
        say(k, CONFIG_CHECK_OK, what, "%.300s: certificate '%s' valid until %s", path, name,
            when);
    }
    if (now && ASN1_TIME_diff(&days, &secs, now, nb) == 1 && (days > 0 || secs > 0))
        say(k, CONFIG_CHECK_WARN, what, "%.300s: certificate '%s' is not valid yet", path, name);
    ASN1_TIME_free(now);
}

/* Read every certificate of path (at least one); first_out: the first,
 * kept for the caller (X509_free), or NULL. Returns the count, or -1. */
static int read_certs(struct check *k, const char *what, const char *path, X509 **first_out)
{
    char why[256];
    if (first_out)
        *first_out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        say(k, CONFIG_CHECK_ERROR, what, "%.300s: %s", path, strerror(errno));
        return -1;
    }
    int n = 0;
    X509 *x;
    while ((x = PEM_read_X509(f, NULL, no_passphrase, NULL)) != NULL) {
        check_dates(k, what, path, x);
        if (n++ == 0 && first_out)
            *first_out = x;
        else
            X509_free(x);
    }
    fclose(f);
    unsigned long e = ERR_peek_last_error();
    if (n > 0 && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
        ERR_clear_error(); /* the normal end of the file */
    else if (n > 0 && e)
        ssl_why(why, sizeof why); /* trailing junk after the certificates: ignored */
    if (n == 0) {
        say(k, CONFIG_CHECK_ERROR, what, "%.300s: no PEM certificate in it (%s)", path,
            ssl_why(why, sizeof why));
        return -1;
    }
    return n;
}

static EVP_PKEY *read_key(struct check *k, const char *what, const char *path)
{
    char why[256];
    FILE *f = fopen(path, "r");
    if (!f) {
        say(k, CONFIG_CHECK_ERROR, what, "%.300s: %s", path, strerror(errno));
        return NULL;
    }
    EVP_PKEY *p = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
    fclose(f);
    if (!p)
        say(k, CONFIG_CHECK_ERROR, what, "%.300s: not a PEM private key, or one with a "
            "passphrase (%s)", path, ssl_why(why, sizeof why));
    return p;
}

/* A certificate and its key: both parse, and match. */
static void check_pair(struct check *k, const char *cwhat, const char *cert, const char *kwhat,
                       const char *key)
{
    X509 *x = NULL;
    if (read_certs(k, cwhat, cert, &x) < 0)
        return;
    EVP_PKEY *p = read_key(k, kwhat, key);
    if (p) {
        if (X509_check_private_key(x, p) == 1)
            say(k, CONFIG_CHECK_OK, kwhat, "%.300s: matches the certificate", key);
        else
            say(k, CONFIG_CHECK_ERROR, kwhat, "%.300s: does not match the certificate %.300s",
                key, cert);
        ERR_clear_error();
        EVP_PKEY_free(p);
    }
    X509_free(x);
}

/* A secret: warn when others may read it or group/others may write it. A
 * group-readable file (0640, root:nenfhir: the README's install) is fine:
 * the service's group is how the service reads it. */
static void check_private(struct check *k, const char *what, const char *path)
{
    struct stat st;
    if (!path[0] || stat(path, &st) != 0)
        return;
    if (st.st_mode & (S_IROTH | S_IWGRP | S_IWOTH))
        say(k, CONFIG_CHECK_WARN, what, "%.300s is %s by %s (mode %04o): chmod 640 (or 600) it",
            path, st.st_mode & S_IROTH ? "readable" : "writable",
            st.st_mode & (S_IROTH | S_IWOTH) ? "others" : "its group",
            (unsigned)(st.st_mode & 07777));
}

/* The store's directory: make and remove a file there. */
static void check_store_dir(struct check *k, const char *db)
{
    char dir[RUN_PATH_LEN + 40];
    const char *slash = strrchr(db, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == db)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - db), db);
    char tmp[RUN_PATH_LEN + 80];
    snprintf(tmp, sizeof tmp, "%s/.nenfhir-check-XXXXXX", dir);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        say(k, CONFIG_CHECK_ERROR, "store.path", "%.300s: its directory is not writable: %s",
            db, strerror(errno));
        return;
    }
    close(fd);
    if (unlink(tmp) != 0)
        say(k, CONFIG_CHECK_WARN, "store.path", "%.300s: cannot remove %.300s: %s", dir, tmp,
            strerror(errno));
    else
        say(k, CONFIG_CHECK_OK, "store.path", "%.300s: directory writable", dir);
}

static struct nen_codes *check_codes(struct check *k, const struct run_config *c)
{
    char err[1024];
    struct nen_codes *t = nen_codes_new();
    int rc = t ? nen_codes_load_default(t, err, sizeof err) : -1;
    if (!t)
        snprintf(err, sizeof err, "out of memory");
    for (int i = 0; rc == 0 && i < c->nmap; i++)
        rc = adapter_load_map(t, c->map[i], err, sizeof err);
    if (rc != 0) {
        say(k, CONFIG_CHECK_ERROR, "codes", "%s", err);
        nen_codes_free(t);
        return NULL;
    }
    say(k, CONFIG_CHECK_OK, "codes", "code tables loaded (the default and %d map file(s))",
        c->nmap);
    return t;
}

/* issue 12 item 8: server.auth = smart-backend: client id and key file
 * given, the key loads and is RSA >= 2048 or EC P-384, a token URL is https
 * (or http to a loopback host with insecure_http). */
static void check_smart(struct check *k, const struct run_config *c)
{
    if (strcmp(c->server_auth, "smart-backend") != 0) {
        if (strcmp(c->server_auth, "token") == 0 && !c->server_token_file[0])
            say(k, CONFIG_CHECK_ERROR, "server.auth", "auth = token needs server.token_file");
        return;
    }
    if (!c->server_smart_client_id[0])
        say(k, CONFIG_CHECK_ERROR, "server.smart_client_id", "required with auth = smart-backend");
    if (!c->server_smart_key_file[0]) {
        say(k, CONFIG_CHECK_ERROR, "server.smart_key_file", "required with auth = smart-backend");
        return;
    }
    char err[512];
    const char *alg = NULL;
    if (c->server_smart_token_url[0] &&
        fhir_client_check_base(c->server_smart_token_url, c->server_insecure_http, err,
                               sizeof err) != 0)
        say(k, CONFIG_CHECK_ERROR, "server.smart_token_url", "%s", err);
    EVP_PKEY *key = fhir_smart_load_key(c->server_smart_key_file, &alg, err, sizeof err);
    if (!key)
        say(k, CONFIG_CHECK_ERROR, "server.smart_key_file", "%s", err);
    else
        say(k, CONFIG_CHECK_OK, "server.smart_key_file", "%.300s: %s key, signs %s",
            c->server_smart_key_file, strcmp(alg, "RS384") == 0 ? "RSA" : "EC P-384", alg);
    EVP_PKEY_free(key);
    check_private(k, "server.smart_key_file", c->server_smart_key_file);
}

int config_check(const struct run_config *c, int64_t now_s, config_check_fn fn, void *ctx,
                 struct nen_codes **codes_out)
{
    struct check k = {fn, ctx, now_s, 0};
    if (codes_out)
        *codes_out = NULL;
    struct nen_codes *t = check_codes(&k, c);
    if (c->server_ca_file[0])
        read_certs(&k, "server.ca_file", c->server_ca_file, NULL);
    if (c->server_client_cert[0] && c->server_client_key[0])
        check_pair(&k, "server.client_cert", c->server_client_cert, "server.client_key",
                   c->server_client_key);
    int listens = c->mode != RUN_MODE_POLL && !c->listen_plain_http;
    if (listens && c->listen_cert[0] && c->listen_key[0])
        check_pair(&k, "listen.cert", c->listen_cert, "listen.key", c->listen_key);
    if (listens && c->listen_client_ca[0])
        read_certs(&k, "listen.client_ca", c->listen_client_ca, NULL);
    check_store_dir(&k, c->store_path);
    check_private(&k, "server.token_file", c->server_token_file);
    check_smart(&k, c);
    check_private(&k, "subscription.secret_file", c->secret_file);
    check_private(&k, "server.client_key", c->server_client_key);
    if (listens)
        check_private(&k, "listen.key", c->listen_key);
    if (codes_out && k.errors == 0)
        *codes_out = t;
    else
        nen_codes_free(t);
    return k.errors;
}
