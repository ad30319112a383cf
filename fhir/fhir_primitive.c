/*
 * fhir_primitive.c - FHIR R4 id and instant: validation per the datatype
 * regexes of the specification, and instant formatting in UTC.
 */
#include "fhir_primitive.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fhir_id_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '-' && s[n] != '.')
            return 0;
    return n >= 1 && n <= 64;
}

int fhir_instant_format(time_t t, char *buf, size_t len)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return -1;
    if (strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return -1;
    return 0;
}

/* n digits at s, value in [lo, hi]. */
static int digits(const char *s, int n, int lo, int hi)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v >= lo && v <= hi;
}

int fhir_instant_valid(const char *s)
{
    /* YYYY-MM-DDThh:mm:ss */
    if (strlen(s) < 20 || !digits(s, 4, 1, 9999) || s[4] != '-' || !digits(s + 5, 2, 1, 12) ||
        s[7] != '-' || !digits(s + 8, 2, 1, 31) || s[10] != 'T' || !digits(s + 11, 2, 0, 23) ||
        s[13] != ':' || !digits(s + 14, 2, 0, 59) || s[16] != ':' || !digits(s + 17, 2, 0, 60))
        return 0;
    const char *p = s + 19;
    if (*p == '.') {
        int n = 0;
        while (isdigit((unsigned char)p[1 + n]))
            n++;
        if (n == 0 || n > 9)
            return 0;
        p += 1 + n;
    }
    if (strcmp(p, "Z") == 0)
        return 1;
    return (p[0] == '+' || p[0] == '-') && strlen(p) == 6 && digits(p + 1, 2, 0, 14) &&
           p[3] == ':' && digits(p + 4, 2, 0, 59);
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's
 * days_from_civil), so no timegm() is needed. */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

int fhir_instant_parse_ms(const char *s, int64_t *ms)
{
    if (!fhir_instant_valid(s))
        return -1;
    int y = atoi(s), mo = atoi(s + 5), d = atoi(s + 8);
    int h = atoi(s + 11), mi = atoi(s + 14), se = atoi(s + 17);
    const char *p = s + 19;
    int frac = 0, scale = 1000;
    if (*p == '.') {
        for (p++; isdigit((unsigned char)*p); p++) {
            if (scale > 1) {
                scale /= 10;
                frac += (*p - '0') * scale;
            }
        }
    }
    long long off = 0;
    if (*p == '+' || *p == '-') {
        off = (atoi(p + 1) * 60LL + atoi(p + 4)) * 60;
        if (*p == '-')
            off = -off;
    }
    long long t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400LL + h * 3600LL +
                  mi * 60LL + se - off;
    *ms = (int64_t)t * 1000 + frac;
    return 0;
}

/* Digits of s at [from, from+n) as a number, or -1 if any is no digit. */
static int digits_at(const char *s, int from, int n)
{
    int v = 0;
    for (int i = from; i < from + n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int fhir_datetime_parse_ms(const char *s, int64_t *ms)
{
    if (fhir_instant_parse_ms(s, ms) == 0)
        return 0;
    size_t len = strlen(s);
    if (len != 4 && len != 7 && len != 10)
        return -1;
    int y = digits_at(s, 0, 4), mo = len > 4 ? digits_at(s, 5, 2) : 1,
        d = len > 7 ? digits_at(s, 8, 2) : 1;
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || (len > 4 && s[4] != '-') ||
        (len > 7 && s[7] != '-'))
        return -1;
    *ms = (int64_t)days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400000LL;
    return 0;
}

int fhir_instant_format_ms(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return -1;
    int n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(ms - (int64_t)t * 1000));
    return n > 0 && (size_t)n < len ? 0 : -1;
}

int fhir_reference_plain(const char *s, char *out, size_t len)
{
    if (len == 0)
        return -1;
    out[0] = '\0';
    size_t n = strlen(s);
    const char *h = strstr(s, "/_history/");
    if (h)
        n = (size_t)(h - s);
    size_t start = 0;
    if (strstr(s, "://") && strstr(s, "://") < s + n) {
        /* absolute: the last two segments before the version are Type/id */
        size_t slashes = 0;
        for (size_t i = n; i > 0; i--) {
            if (s[i - 1] == '/' && ++slashes == 2) {
                start = i;
                break;
            }
        }
    }
    if (n - start >= len)
        return -1;
    memcpy(out, s + start, n - start);
    out[n - start] = '\0';
    return 0;
}
