/*
 * fuzz_config.c - libFuzzer target: run_config_load (adapter/common/run_config.c),
 * the daemon's configuration file, on any text (written to a scratch file,
 * since the loader reads a path). Invariants: a refusal has a clean message
 * "FILE:LINE: ..."; a loaded config has a base, every number within its
 * documented range, every enum a known value, every string NUL-terminated
 * clean UTF-8 (they reach URLs, headers and the report).
 * Run with stdin from /dev/null: a config may name /dev/stdin as a secret file.
 *
 * The loader refuses a line that is not UTF-8 text (fhir_text_check), so
 * its messages and values are clean text: checked (regress/config/ holds the
 * input that once came back with raw bytes). -DFUZZ_CONFIG_STRICT=0 turns the
 * check off.
 */
#include "fuzz_util.h"
#include "run_config.h"
#include <unistd.h>

#ifndef FUZZ_CONFIG_STRICT
#define FUZZ_CONFIG_STRICT 1
#endif

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char dir[] = "/tmp/fuzz_config.XXXXXX";
    if (!mkdtemp(dir))
        fz_fail("mkdtemp");
    snprintf(path, sizeof path, "%s/n.conf", dir);
    return 0;
}

#define RANGE(f, lo, hi)                                                                     \
    do {                                                                                     \
        if ((long long)c.f < (lo) || (long long)c.f > (hi))                                  \
            fz_fail(#f " = %lld out of %lld-%lld", (long long)c.f, (long long)(lo),          \
                    (long long)(hi));                                                        \
    } while (0)
/* A string field: NUL-terminated, and (strict) clean UTF-8. */
#define TEXT(f) text(c.f, sizeof c.f, #f)
static void text(const char *s, size_t cap, const char *what)
{
    if (FUZZ_CONFIG_STRICT)
        fz_text(s, cap, what);
    else if (strnlen(s, cap) == cap)
        fz_fail("%s: not NUL-terminated", what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fz_fail("cannot write %s", path);
    if (size && fwrite(data, 1, size, f) != size)
        fz_fail("cannot write %s", path);
    fclose(f);
    struct run_config c;
    char err[1024] = "";
    if (run_config_load(path, &c, err, sizeof err) != 0) {
        if (!err[0])
            fz_fail("run_config_load failed without a message");
        text(err, sizeof err, "run_config_load error");
        if (strncmp(err, path, strlen(path)) != 0 || err[strlen(path)] != ':')
            fz_fail("error does not start with \"FILE:\": %s", err);
        return 0;
    }
    if (!c.server_base[0])
        fz_fail("loaded without a server base");
    TEXT(path), TEXT(server_base), TEXT(server_ca_file), TEXT(server_client_cert);
    TEXT(server_client_key), TEXT(server_token_file), TEXT(listen_address), TEXT(listen_cert);
    TEXT(listen_key), TEXT(listen_client_ca), TEXT(listen_path), TEXT(endpoint), TEXT(payload);
    TEXT(content_type), TEXT(secret_file), TEXT(secret_header), TEXT(topic);
    TEXT(catchup_since), TEXT(store_path), TEXT(performer_ref), TEXT(performer_display);
    RANGE(server_timeout_s, 1, 3600);
    RANGE(server_insecure_http, 0, 1);
    RANGE(listen_port, 0, 65535);
    RANGE(listen_plain_http, 0, 1);
    RANGE(listen_max_body, 1024, 1024LL * 1024 * 1024);
    RANGE(mode, RUN_MODE_RESTHOOK, RUN_MODE_POLL);
    RANGE(heartbeat_s, 1, 86400);
    RANGE(poll_interval_s, 1, 86400);
    RANGE(poll_overlap_s, 0, 86400);
    RANGE(poll_count, 1, 1000);
    RANGE(catchup_interval_s, 1, 86400);
    RANGE(work_parallel, 1, 256);
    RANGE(work_max_attempts, 1, 1000);
    RANGE(work_backoff_ms, 1, 3600000);
    RANGE(work_backoff_max_ms, 1, 86400000);
    RANGE(work_settle_ms, 0, 600000);
    RANGE(work_retry_after_max_ms, 0, 86400000);
    RANGE(nmap, 0, RUN_MAP_MAX);
    RANGE(log_verbose, 0, 1);
    for (int i = 0; i < c.nmap; i++)
        TEXT(map[i]);
    if (strnlen(c.server_token, sizeof c.server_token) == sizeof c.server_token ||
        strnlen(c.secret, sizeof c.secret) == sizeof c.secret)
        fz_fail("a secret is not NUL-terminated");
    (void)run_mode_name(c.mode);
    return 0;
}
