/*
 * adapter_log.h - the log lines and the wall clock of the nenfhir program,
 * shared by the daemon (adapter/daemon/) and the commands (adapter/cli/).
 * Owns one flag, adapter_log_verbose (debug lines on or off), set once at
 * start by whoever reads the configuration. Lines go to stderr (the
 * journal under systemd); nothing here fails or allocates.
 */
#ifndef ADAPTER_LOG_H
#define ADAPTER_LOG_H

#include <stdint.h>

/* Milliseconds since the epoch (the wall clock; only for queue times). */
int64_t adapter_now_ms(void);

/* Log a line to stderr: "2026-11-21T08:30:00Z nenfhir LEVEL message"
 * (a message longer than 2 KiB is cut). */
void adapter_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1: LOG_DEBUG lines are written (config log.verbose, `run --debug`). */
extern int adapter_log_verbose;

#define LOG_INFO(...) adapter_log("info", __VA_ARGS__)
#define LOG_WARN(...) adapter_log("warn", __VA_ARGS__)
#define LOG_ERROR(...) adapter_log("error", __VA_ARGS__)
#define LOG_DEBUG(...)                          \
    do {                                        \
        if (adapter_log_verbose)                \
            adapter_log("debug", __VA_ARGS__);  \
    } while (0)

#endif
