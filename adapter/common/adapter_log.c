/*
 * adapter_log.c - log lines and the wall clock (adapter_log.h). Owns the
 * level, the format, the journal flag and the output stream; no other state.
 */
#include "adapter_log.h"

#include "fhir_primitive.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int adapter_log_verbose;
static int log_format = ADAPTER_LOG_TEXT;
static int log_journal;
static FILE *log_out;

int64_t adapter_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 when JOURNAL_STREAM ("DEV:INODE") names the file of fd 2. */
static int stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) != 0)
        return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void adapter_log_setup(int verbose, int format)
{
    adapter_log_verbose = verbose;
    log_format = format == ADAPTER_LOG_JSON ? ADAPTER_LOG_JSON : ADAPTER_LOG_TEXT;
    log_journal = stderr_is_journal();
}

void adapter_log_redirect(FILE *f, int journal)
{
    log_out = f;
    log_journal = journal;
}

/* The syslog priority of a level (sd-daemon(3)). */
static int log_priority(const char *level)
{
    if (strcmp(level, "error") == 0)
        return 3;
    if (strcmp(level, "warn") == 0)
        return 4;
    if (strcmp(level, "debug") == 0)
        return 7;
    return 6;
}

/* s as a JSON string's content into out[len] (cut when it does not fit). */
static void json_escape(const char *s, char *out, size_t len)
{
    size_t o = 0;
    for (; *s && o + 7 < len; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else if (ch == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (ch < 0x20 || ch == 0x7f) {
            o += (size_t)snprintf(out + o, len - o, "\\u%04x", ch);
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o] = '\0';
}

static void log_json(FILE *f, const char *when, const char *level, const char *key,
                     const char *acc, const char *msg)
{
    char m[4200], k[300], a[300];
    json_escape(msg, m, sizeof m);
    if (log_journal)
        fprintf(f, "<%d>{\"level\":\"%s\"", log_priority(level), level);
    else
        fprintf(f, "{\"time\":\"%s\",\"level\":\"%s\"", when, level);
    if (key && *key) {
        json_escape(key, k, sizeof k);
        fprintf(f, ",\"case\":\"%s\"", k);
    }
    if (acc && *acc) {
        json_escape(acc, a, sizeof a);
        fprintf(f, ",\"accession\":\"%s\"", a);
    }
    fprintf(f, ",\"message\":\"%s\"}\n", m);
}

static void log_vline(const char *level, const char *key, const char *acc, const char *fmt,
                      va_list ap) __attribute__((format(printf, 4, 0)));

static void log_vline(const char *level, const char *key, const char *acc, const char *fmt,
                      va_list ap)
{
    char when[40], msg[2048];
    FILE *f = log_out ? log_out : stderr;
    fhir_instant_format_ms(adapter_now_ms(), when, sizeof when);
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (log_format == ADAPTER_LOG_JSON) {
        log_json(f, when, level, key, acc, msg);
    } else {
        char head[600] = "";
        if (key && *key && acc && *acc)
            snprintf(head, sizeof head, "case %.250s (%.250s): ", key, acc);
        else if (key && *key)
            snprintf(head, sizeof head, "case %.500s: ", key);
        if (log_journal)
            fprintf(f, "<%d>%s %s%s\n", log_priority(level), level, head, msg);
        else
            fprintf(f, "%s nenfhir %s %s%s\n", when, level, head, msg);
    }
    fflush(f);
}

void adapter_log(const char *level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vline(level, NULL, NULL, fmt, ap);
    va_end(ap);
}

void adapter_log_case(const char *level, const char *case_key, const char *accession,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vline(level, case_key, accession, fmt, ap);
    va_end(ap);
}
