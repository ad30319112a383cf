/*
 * adapter_log.h - the log lines and the wall clock of the nenfhir program,
 * shared by the daemon (adapter/daemon/) and the commands (adapter/cli/).
 * Owns the log settings: adapter_log_verbose (debug lines on or off), the
 * format (text or JSON, issue 14) and whether stderr is the systemd journal;
 * set at start, and again on SIGHUP, by whoever reads the configuration.
 * Lines go to stderr; nothing here fails or allocates.
 *
 * Text (default): "2026-11-21T08:30:00Z nenfhir LEVEL [case K accession A: ]message".
 * JSON: one object per line, {"time":..,"level":..,"message":..} with
 * "case" and "accession" when the line is about one.
 * Under the journal (JOURNAL_STREAM names stderr, sd-daemon(3)): no
 * timestamp and a "<N>" syslog priority first (<3> error, <4> warn,
 * <6> info, <7> debug); the journal stamps the time itself.
 *
 * Patient data (input values, names) go in debug lines only; an info line
 * may name the case, its accession and the computed result.
 */
#ifndef ADAPTER_LOG_H
#define ADAPTER_LOG_H

#include <stdint.h>
#include <stdio.h>

/* Milliseconds since the epoch (the wall clock; only for queue times). */
int64_t adapter_now_ms(void);

/* Log a line to stderr (a message longer than 2 KiB is cut). */
void adapter_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A line about one case: case_key (the job's key) and accession go into
 * their own JSON fields (text: "case K (A): message" as before); either may
 * be NULL or "". */
void adapter_log_case(const char *level, const char *case_key, const char *accession,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* 1: LOG_DEBUG lines are written (config log.level, `run --debug`). */
extern int adapter_log_verbose;

enum adapter_log_format { ADAPTER_LOG_TEXT = 0, ADAPTER_LOG_JSON = 1 };

/* Set the level and the format, and look whether stderr is the journal
 * (JOURNAL_STREAM's device:inode equal to stderr's). */
void adapter_log_setup(int verbose, int format);

/* Tests: write to f (NULL: stderr) and force the journal style on or off. */
void adapter_log_redirect(FILE *f, int journal);

#define LOG_INFO(...) adapter_log("info", __VA_ARGS__)
#define LOG_WARN(...) adapter_log("warn", __VA_ARGS__)
#define LOG_ERROR(...) adapter_log("error", __VA_ARGS__)
#define LOG_DEBUG(...)                          \
    do {                                        \
        if (adapter_log_verbose)                \
            adapter_log("debug", __VA_ARGS__);  \
    } while (0)

/* The same about one case (adapter_log_case). */
#define LOG_CASE_INFO(key, acc, ...) adapter_log_case("info", key, acc, __VA_ARGS__)
#define LOG_CASE_WARN(key, acc, ...) adapter_log_case("warn", key, acc, __VA_ARGS__)
#define LOG_CASE_ERROR(key, acc, ...) adapter_log_case("error", key, acc, __VA_ARGS__)
#define LOG_CASE_DEBUG(key, acc, ...)                          \
    do {                                                       \
        if (adapter_log_verbose)                               \
            adapter_log_case("debug", key, acc, __VA_ARGS__);  \
    } while (0)

#endif
