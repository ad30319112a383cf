/*
 * config_check.h - what `nenfhir check-config` and the daemon's SIGHUP
 * reload check beyond the syntax of the configuration (issue 14 item 7):
 * the code tables load; the TLS material parses with OpenSSL (server.ca_file,
 * server.client_cert/client_key, listen.cert/key, listen.client_ca), each key
 * matches its certificate, no certificate has expired (an error) or expires
 * within 30 days (a warning); the store's directory is writable (a temporary
 * file made and removed there); secret, token and key files readable by
 * group or others are a warning. Each finding is handed to a callback; no
 * state is kept.
 */
#ifndef CONFIG_CHECK_H
#define CONFIG_CHECK_H

#include "nen_codes.h"
#include "run_config.h"

#include <stdint.h>

enum config_check_level { CONFIG_CHECK_OK = 0, CONFIG_CHECK_WARN = 1, CONFIG_CHECK_ERROR = 2 };

/* A certificate expiring within this many days is a warning. */
#define CONFIG_CHECK_EXPIRY_WARN_DAYS 30

/* One finding: what was checked ("server.ca_file", "store", ...) and what was found. */
typedef void (*config_check_fn)(void *ctx, int level, const char *what, const char *msg);

/* Check c (loaded by run_config_load) at the time now_s (seconds since the
 * epoch; certificates' dates are compared with it). Every finding goes to
 * fn. codes_out: when not NULL and there is no error, receives the loaded
 * code tables (the caller frees them with nen_codes_free); NULL otherwise.
 * Returns the number of errors (0: usable). */
int config_check(const struct run_config *c, int64_t now_s, config_check_fn fn, void *ctx,
                 struct nen_codes **codes_out);

#endif
